//! Bulk loading for the scale dataset: moving a generated SQLite database into PostgreSQL with
//! `COPY`, and setting a table's secondary indexes aside while millions of rows are copied into
//! it (building an index once over sorted keys is far cheaper than keeping it up to date row by
//! row). None of this is used by the product; it only makes the dataset quicker to build.

use anyhow::{Context, bail};
use app::db::{Backend, Db, Tx, execute};
use sqlx::{Column, Row, TypeInfo, ValueRef};

/// Rows read from SQLite per round trip while moving a table.
const PAGE_ROWS: i64 = 20_000;

/// The page cache the bench's own SQLite connections use while loading and rolling up, in KiB:
/// the dataset's indexes stay in memory instead of being read back from the file page by page.
const SQLITE_CACHE_KIB: i64 = 1_048_576;

/// Prepares the connection of `tx` for bulk work: on SQLite a large page cache, on PostgreSQL
/// room to sort an index build in memory (both settings belong to the connection and outlive
/// the transaction, which is what the bench wants).
pub async fn bulk_session(tx: &mut Tx) -> anyhow::Result<()> {
    if tx.backend() == Backend::Sqlite {
        let sql = format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}");
        execute!(tx, sqlx::query(&sql))?;
    } else {
        execute!(tx, sqlx::query("SET maintenance_work_mem = '512MB'"))?;
    }
    Ok(())
}

/// On PostgreSQL, skips the foreign-key triggers for the rest of `tx` when the role may (a
/// superuser): rows copied from rows that already satisfied their keys, with their references
/// shifted by the same amounts as the rows they point at, need no check row by row. Elsewhere
/// the keys are checked as usual.
pub async fn trust_references(tx: &mut Tx) -> anyhow::Result<()> {
    if let Tx::Postgres(conn) = tx {
        let superuser: bool =
            sqlx::query_scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                .fetch_one(&mut **conn)
                .await?;
        if superuser {
            sqlx::query("SET LOCAL session_replication_role = replica")
                .execute(&mut **conn)
                .await?;
        }
    }
    Ok(())
}

/// Leaves a freshly loaded database as a running one would be: SQLite's write-ahead log
/// folded into the file (readers would otherwise look every page up in a log of gigabytes),
/// PostgreSQL vacuumed and its planner statistics gathered, as autovacuum would a little later
/// (without the vacuum's visibility map, counting a month of tasks from the index alone has to
/// visit every row as well: 250 ms instead of 34 at a million tasks).
pub async fn settle(db: &Db) -> anyhow::Result<()> {
    match db {
        Db::Sqlite(pool, _) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
        }
        Db::Postgres(pool) => {
            sqlx::query("VACUUM ANALYZE").execute(pool).await?;
        }
    }
    Ok(())
}

/// The bytes a database's rows and indexes take: on SQLite its pages less the free ones (the
/// write-ahead log checkpointed first); on PostgreSQL its size, after `VACUUM FULL` when
/// `compact` (which rewrites every table without the dead rows updates left; otherwise they
/// count until a vacuum lets new rows reuse their space).
pub async fn used_bytes(db: &Db, compact: bool) -> anyhow::Result<i64> {
    Ok(match db {
        Db::Sqlite(pool, _) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
            let sql = "SELECT (SELECT page_count FROM pragma_page_count()) - (SELECT freelist_count FROM pragma_freelist_count()),
                              (SELECT page_size FROM pragma_page_size())";
            let (pages, size): (i64, i64) = sqlx::query_as(sql).fetch_one(pool).await?;
            pages * size
        }
        Db::Postgres(pool) => {
            if compact {
                sqlx::query("VACUUM FULL").execute(pool).await?;
            }
            sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(pool)
                .await?
        }
    })
}

/// Copies every table of the SQLite database `from` into the freshly migrated PostgreSQL
/// database `to` (rows the migrations seeded there are replaced), then moves each identity
/// sequence past the ids it received. Tables go in the order their foreign keys need (not the
/// order SQLite created them: a migration that rebuilds a table moves it to the end).
pub async fn transfer(from: &Db, to: &Db) -> anyhow::Result<u64> {
    let (Db::Sqlite(source, _), Db::Postgres(target)) = (from, to) else {
        bail!("transfer moves a SQLite database into a PostgreSQL one");
    };
    let created: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY rowid",
    )
    .fetch_all(source)
    .await?;
    let mut references = Vec::new();
    for table in &created {
        let parents: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")
                .bind(table)
                .fetch_all(source)
                .await?;
        references.push((table.clone(), parents));
    }
    let tables = referenced_first(references)?;
    let mut conn = target.acquire().await?;
    sqlx::query(&format!("TRUNCATE {} RESTART IDENTITY", tables.join(", ")))
        .execute(&mut *conn)
        .await?;
    let mut moved = 0;
    for table in &tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(source)
                .await?;
        let list = columns.join(", ");
        let mut copy = conn
            .copy_in_raw(&format!("COPY {table} ({list}) FROM STDIN"))
            .await
            .with_context(|| format!("starting to copy {table}"))?;
        let select = format!(
            "SELECT rowid, {list} FROM {table} WHERE rowid > $1 ORDER BY rowid LIMIT {PAGE_ROWS}"
        );
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(&select).bind(after).fetch_all(source).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0)?;
            let mut text = String::with_capacity(rows.len() * 64);
            for row in &rows {
                copy_line(row, &mut text).with_context(|| format!("reading {table}"))?;
            }
            copy.send(text.into_bytes()).await?;
            moved += rows.len() as u64;
        }
        copy.finish()
            .await
            .with_context(|| format!("copying {table}"))?;
        if columns.iter().any(|c| c == "id") {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}
                 HAVING MAX(id) IS NOT NULL"
            ))
            .execute(&mut *conn)
            .await
            .with_context(|| format!("moving the id sequence of {table}"))?;
        }
    }
    Ok(moved)
}

/// Tables ordered so that each comes after every table it references (itself aside), keeping
/// the given order otherwise.
fn referenced_first(mut left: Vec<(String, Vec<String>)>) -> anyhow::Result<Vec<String>> {
    let mut placed: Vec<String> = Vec::new();
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|(table, parents)| parents.iter().all(|p| p == table || placed.contains(p)));
        let Some(ready) = ready else {
            bail!("the tables' foreign keys form a cycle: {left:?}");
        };
        placed.push(left.remove(ready).0);
    }
    Ok(placed)
}

/// One row in `COPY`'s text format: tab-separated, `\N` for NULL, backslash escapes. Column 0
/// is the rowid the caller pages by and is left out.
fn copy_line(row: &sqlx::sqlite::SqliteRow, out: &mut String) -> anyhow::Result<()> {
    for index in 1..row.columns().len() {
        if index > 1 {
            out.push('\t');
        }
        let raw = row.try_get_raw(index)?;
        if raw.is_null() {
            out.push_str("\\N");
            continue;
        }
        match raw.type_info().name() {
            "INTEGER" => out.push_str(&row.try_get::<i64, _>(index)?.to_string()),
            "TEXT" => escape_into(&row.try_get::<String, _>(index)?, out),
            other => bail!(
                "column {} holds a {other} value, which the schema never stores",
                row.column(index).name()
            ),
        }
    }
    out.push('\n');
    Ok(())
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The secondary indexes and unique constraints of some tables, dropped until `restore`
/// builds them again. Primary keys stay: the copies address rows by id.
pub struct SetAside {
    restore: Vec<String>,
}

impl SetAside {
    /// Drops the secondary indexes of `tables` (on PostgreSQL their unique constraints too;
    /// SQLite cannot drop a constraint's index, so those stay) in the caller's transaction,
    /// which then copies the rows and restores them: one connection sees the whole change.
    pub async fn drop(tx: &mut Tx, tables: &[&str]) -> anyhow::Result<SetAside> {
        let names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        // (table, name, definition, is a unique constraint)
        let found: Vec<(String, String, String, bool)> = match tx {
            Tx::Sqlite(conn, _) => {
                sqlx::query_as(
                    "SELECT tbl_name, name, sql, FALSE FROM sqlite_master
                     WHERE type = 'index' AND sql IS NOT NULL
                     AND tbl_name IN (SELECT value FROM json_each($1))",
                )
                .bind(serde_json::to_string(&names)?)
                .fetch_all(&mut **conn)
                .await?
            }
            Tx::Postgres(conn) => {
                sqlx::query_as(
                    "SELECT r.relname::text, k.conname::text, pg_get_constraintdef(k.oid), TRUE
                     FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid
                     WHERE k.contype = 'u' AND r.relname = ANY($1)
                     UNION ALL
                     SELECT i.tablename::text, i.indexname::text, i.indexdef, FALSE
                     FROM pg_indexes i
                     WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                     WHERE k.conindid = to_regclass(i.indexname))",
                )
                .bind(&names)
                .fetch_all(&mut **conn)
                .await?
            }
        };
        let mut restore = Vec::new();
        for (table, name, definition, constraint) in found {
            if constraint {
                let sql = format!("ALTER TABLE {table} DROP CONSTRAINT {name}");
                execute!(&mut *tx, sqlx::query(&sql))?;
                restore.push(format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
                ));
            } else {
                execute!(&mut *tx, sqlx::query(&format!("DROP INDEX {name}")))?;
                restore.push(definition);
            }
        }
        Ok(SetAside { restore })
    }

    /// Builds every index and constraint `drop` removed.
    pub async fn restore(self, tx: &mut Tx) -> anyhow::Result<()> {
        for sql in &self.restore {
            execute!(&mut *tx, sqlx::query(sql)).with_context(|| format!("running {sql}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::referenced_first;

    #[test]
    fn tables_follow_the_tables_they_reference() {
        let table = |name: &str, parents: &[&str]| {
            (
                name.to_owned(),
                parents.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>(),
            )
        };
        // A rebuilt `attempts` sits after `calls` in SQLite's own order.
        let order = referenced_first(vec![
            table("tasks", &["tasks"]),
            table("calls", &["tasks", "attempts"]),
            table("attempts", &["tasks"]),
        ])
        .unwrap();
        assert_eq!(order, ["tasks", "attempts", "calls"]);
        assert!(referenced_first(vec![table("a", &["b"]), table("b", &["a"])]).is_err());
    }
}
