//! How far a new installation has come: what the first-run checklist ticks off.

use super::{Db, DbResult, on_db};

/// How many of each thing the installation has (capped at one where only "any" matters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    pub teams: i64,
    pub workflows: i64,
    pub rules: i64,
    pub live_keys: i64,
    pub tasks: i64,
}

pub async fn progress(db: &Db) -> DbResult<Progress> {
    let sql = "SELECT
                 (SELECT COUNT(*) FROM teams) AS teams,
                 (SELECT COUNT(*) FROM workflows) AS workflows,
                 (SELECT COUNT(*) FROM success_rules) AS rules,
                 (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL) AS live_keys,
                 (SELECT COUNT(*) FROM (SELECT 1 FROM tasks LIMIT 1) AS any_task) AS tasks";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_one(pool).await)?)
}
