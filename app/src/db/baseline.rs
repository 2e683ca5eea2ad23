//! Human baselines: versioned, like success rules.

use super::{Db, DbResult, Tx, on_db, on_tx};
use crate::model::HumanBaseline;

/// A new version of a task type's baseline.
pub struct NewBaseline<'a> {
    pub task_type_id: i64,
    pub seconds: Option<i64>,
    pub reference_price_micros: Option<i64>,
    pub source: &'a str,
    pub effective_from: i64,
    pub created_by: Option<i64>,
}

/// Adds the next version of a task type's baseline.
pub async fn insert_baseline(
    tx: &mut Tx,
    new: &NewBaseline<'_>,
    at: i64,
) -> DbResult<HumanBaseline> {
    let sql = "INSERT INTO human_baselines (task_type_id, version, seconds, reference_price_micros,
                   source, effective_from, created_by, created_at)
               VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM human_baselines
                            WHERE task_type_id = $1), $2, $3, $4, $5, $6, $7)
               RETURNING *";
    Ok(on_tx!(tx, conn => sqlx::query_as(sql)
        .bind(new.task_type_id)
        .bind(new.seconds)
        .bind(new.reference_price_micros)
        .bind(new.source)
        .bind(new.effective_from)
        .bind(new.created_by)
        .bind(at)
        .fetch_one(conn)
        .await)?)
}

/// Every version of every task type's baseline, oldest first.
pub async fn list_baselines(db: &Db) -> DbResult<Vec<HumanBaseline>> {
    let sql = "SELECT * FROM human_baselines ORDER BY task_type_id, effective_from, version";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}
