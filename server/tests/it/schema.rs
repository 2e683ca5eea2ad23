//! The two migration folders are written by hand, one per backend. After migrating, both
//! databases must hold the same tables, the same columns with the same nullability, and the same
//! indexes (names, uniqueness and columns), so a query that works on one works on the other.

use crate::helpers::{postgres, sqlite};
use app::db::Db;
use sqlx::Row;
use std::collections::BTreeSet;

/// One table's shape: `(column, not null)` pairs, and its indexes as `(name, unique, columns)`.
/// Indexes made by a `UNIQUE` constraint have no name of their own on SQLite, so those are
/// compared by their columns alone, under the name `unique`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    columns: BTreeSet<(String, bool)>,
    indexes: BTreeSet<(String, bool, Vec<String>)>,
}

type Schema = std::collections::BTreeMap<String, Shape>;

async fn sqlite_schema(db: &Db) -> Schema {
    let Db::Sqlite(pool, _) = db else {
        panic!("a SQLite database")
    };
    let mut schema = Schema::new();
    let tables = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table'
           AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for table in tables {
        let table: String = table.get("name");
        let mut shape = Shape::default();
        for column in sqlx::query("SELECT name, \"notnull\", pk FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(pool)
            .await
            .unwrap()
        {
            // A primary-key column is never null, whether or not it says so.
            let not_null = column.get::<i64, _>("notnull") == 1 || column.get::<i64, _>("pk") > 0;
            shape.columns.insert((column.get("name"), not_null));
        }
        for index in sqlx::query(
            "SELECT name, \"unique\", origin FROM pragma_index_list(?) WHERE origin <> 'pk'",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .unwrap()
        {
            let name: String = index.get("name");
            let columns = sqlx::query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap()
                .iter()
                .map(|c| c.get::<Option<String>, _>("name").unwrap_or_default())
                .collect();
            let name = if index.get::<String, _>("origin") == "u" {
                "unique".to_owned()
            } else {
                name
            };
            shape
                .indexes
                .insert((name, index.get::<i64, _>("unique") == 1, columns));
        }
        schema.insert(table, shape);
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let Db::Postgres(pool) = db else {
        panic!("a PostgreSQL database")
    };
    let mut schema = Schema::new();
    for column in sqlx::query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name,
                is_nullable = 'NO' AS not_null
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        schema
            .entry(column.get("table_name"))
            .or_default()
            .columns
            .insert((column.get("column_name"), column.get("not_null")));
    }
    for index in sqlx::query(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name, x.indisunique AS is_unique,
                c.contype IS NOT NULL AND c.contype = 'u' AS from_constraint,
                array(SELECT a.attname::text
                        FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
                        LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                       ORDER BY k.n) AS columns
           FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace s ON s.oid = t.relnamespace
           LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('u', 'p')
          WHERE s.nspname = current_schema() AND NOT x.indisprimary
            AND t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let name = if index.get::<bool, _>("from_constraint") {
            "unique".to_owned()
        } else {
            index.get("index_name")
        };
        let columns: Vec<Option<String>> = index.get("columns");
        schema
            .entry(index.get("table_name"))
            .or_default()
            .indexes
            .insert((
                name,
                index.get("is_unique"),
                columns.into_iter().map(Option::unwrap_or_default).collect(),
            ));
    }
    schema
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_tables_columns_and_indexes() {
    let (lite, pg) = (sqlite().await, postgres().await);
    let (lite, pg) = (sqlite_schema(&lite.db).await, postgres_schema(&pg.db).await);
    assert!(
        lite.len() > 10,
        "the schema has its tables: {:?}",
        lite.keys()
    );
    let tables: BTreeSet<_> = lite.keys().chain(pg.keys()).collect();
    let mut differences = Vec::new();
    for table in tables {
        match (lite.get(table), pg.get(table)) {
            (Some(l), Some(p)) => {
                for c in l.columns.symmetric_difference(&p.columns) {
                    let side = if l.columns.contains(c) {
                        "SQLite"
                    } else {
                        "PostgreSQL"
                    };
                    differences.push(format!("{table}: column {c:?} only on {side}"));
                }
                for i in l.indexes.symmetric_difference(&p.indexes) {
                    let side = if l.indexes.contains(i) {
                        "SQLite"
                    } else {
                        "PostgreSQL"
                    };
                    differences.push(format!("{table}: index {i:?} only on {side}"));
                }
            }
            (l, _) => {
                let side = if l.is_some() { "SQLite" } else { "PostgreSQL" };
                differences.push(format!("table {table} only on {side}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "the migrations differ:\n{}",
        differences.join("\n")
    );
}
