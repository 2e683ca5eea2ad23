//! Progress of command-line imports, keyed by the content hash of the file being imported.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::model::ImportRun;

/// The run for this file, started now if it is new.
pub async fn start_or_resume(
    tx: &mut Tx,
    source: &str,
    source_hash: &str,
    at: i64,
) -> DbResult<ImportRun> {
    let sql = "INSERT INTO import_runs (source, source_hash, started_at) VALUES ($1, $2, $3)
               ON CONFLICT (source_hash) DO UPDATE SET source = excluded.source
               RETURNING *";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(sql).bind(source).bind(source_hash).bind(at).fetch_one(conn).await)?,
    )
}

/// Records progress in the same transaction as the rows it counts.
pub async fn advance(
    tx: &mut Tx,
    id: i64,
    rows_done: i64,
    accepted: i64,
    rejected: i64,
) -> DbResult<()> {
    let sql = "UPDATE import_runs SET rows_done = $1, accepted = $2, rejected = $3 WHERE id = $4";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(rows_done)
            .bind(accepted)
            .bind(rejected)
            .bind(id)
    )?;
    Ok(())
}

pub async fn finish(tx: &mut Tx, id: i64, at: i64) -> DbResult<()> {
    let sql = "UPDATE import_runs SET finished_at = $1 WHERE id = $2";
    execute!(tx, sqlx::query(sql).bind(at).bind(id))?;
    Ok(())
}

pub async fn get_import_run(db: &Db, id: i64) -> DbResult<ImportRun> {
    let sql = "SELECT * FROM import_runs WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)?)
}
