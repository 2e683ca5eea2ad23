//! Configuration versions: the baselines metrics are compared across, created on first sight.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::model::ConfigVersion;

/// The id of the workflow's configuration version with this label, creating it if it is new.
pub async fn ensure_config_version(
    tx: &mut Tx,
    workflow_id: i64,
    label: &str,
    seen_at: i64,
) -> DbResult<i64> {
    // Read first: an upsert would lock the version's row until the batch commits, making every
    // batch of that version wait for the one before it.
    let read =
        "SELECT id, first_seen_at FROM config_versions WHERE workflow_id = $1 AND label = $2";
    let known: Option<(i64, i64)> = on_tx!(tx, conn => sqlx::query_as(read).bind(workflow_id).bind(label).fetch_optional(conn).await)?;
    if let Some((id, first_seen_at)) = known
        && first_seen_at <= seen_at
    {
        return Ok(id);
    }
    let sql = "INSERT INTO config_versions (workflow_id, label, first_seen_at) VALUES ($1, $2, $3)
               ON CONFLICT (workflow_id, label) DO UPDATE
                 SET first_seen_at = CASE WHEN excluded.first_seen_at < config_versions.first_seen_at
                                          THEN excluded.first_seen_at ELSE config_versions.first_seen_at END
               RETURNING id";
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(workflow_id).bind(label).bind(seen_at).fetch_one(conn).await)?,
    )
}

pub async fn describe_config_version(tx: &mut Tx, id: i64, description: &str) -> DbResult<()> {
    let sql = "UPDATE config_versions SET description = $1 WHERE id = $2";
    execute!(tx, sqlx::query(sql).bind(description).bind(id))?;
    Ok(())
}

pub async fn list_config_versions(db: &Db, workflow_id: i64) -> DbResult<Vec<ConfigVersion>> {
    let sql = "SELECT * FROM config_versions WHERE workflow_id = $1 ORDER BY first_seen_at";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).fetch_all(pool).await)?)
}

/// Every workflow's configuration versions, oldest first.
pub async fn list_all_config_versions(db: &Db) -> DbResult<Vec<ConfigVersion>> {
    let sql = "SELECT * FROM config_versions ORDER BY workflow_id, first_seen_at";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}
