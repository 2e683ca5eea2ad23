//! Saved what-if scenarios.

use super::{Db, DbResult, Tx, on_db, on_tx};
use crate::model::ScenarioRecord;

/// Stores a scenario; its name is unique within the workflow.
pub async fn insert_scenario(tx: &mut Tx, s: &ScenarioRecord) -> DbResult<i64> {
    let sql = "INSERT INTO scenarios (workflow_id, name, routes, cache_share, input_change,
                   failure_rate, retry_cut, assumptions, window_first_day, window_last_day,
                   decided, before_total_micros, before_successes, total_micros, successes,
                   low_total_micros, low_successes, high_total_micros, high_successes,
                   created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                       $17, $18, $19, $20, $21)
               RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(s.workflow_id)
        .bind(&s.name)
        .bind(&s.routes)
        .bind(&s.cache_share)
        .bind(&s.input_change)
        .bind(&s.failure_rate)
        .bind(&s.retry_cut)
        .bind(&s.assumptions)
        .bind(s.window_first_day)
        .bind(s.window_last_day)
        .bind(s.decided)
        .bind(s.before_total_micros)
        .bind(s.before_successes)
        .bind(s.total_micros)
        .bind(s.successes)
        .bind(s.low_total_micros)
        .bind(s.low_successes)
        .bind(s.high_total_micros)
        .bind(s.high_successes)
        .bind(s.created_by)
        .bind(s.created_at)
        .fetch_one(conn)
        .await)?)
}

/// A workflow's `limit` newest scenarios, newest first.
pub async fn list_scenarios(
    db: &Db,
    workflow_id: i64,
    limit: i64,
) -> DbResult<Vec<ScenarioRecord>> {
    let sql = "SELECT * FROM scenarios WHERE workflow_id = $1
               ORDER BY created_at DESC, id DESC LIMIT $2";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).bind(limit).fetch_all(pool).await)?)
}
