//! The review queue: sampled and forced tasks waiting for a human grade.

use super::{Db, DbResult, Tx, execute, on_db};
use crate::domain::status::QueueReason;
use crate::model::QueueItem;

/// Queues a task for grading in `slot` (1, or 2 for a second grader); a no-op if already queued.
pub async fn enqueue(
    tx: &mut Tx,
    task_id: i64,
    slot: i64,
    reason: QueueReason,
    at: i64,
) -> DbResult<bool> {
    let sql =
        "INSERT INTO review_queue (task_id, slot, reason, enqueued_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (task_id, slot) DO NOTHING";
    let done = execute!(
        tx,
        sqlx::query(sql)
            .bind(task_id)
            .bind(slot)
            .bind(reason.as_str())
            .bind(at)
    )?;
    Ok(done == 1)
}

/// Marks a task's queue slot as graded.
pub async fn mark_done(
    tx: &mut Tx,
    task_id: i64,
    slot: i64,
    reviewer_id: Option<i64>,
    at: i64,
) -> DbResult<()> {
    let sql = "UPDATE review_queue SET done_at = $1, claimed_by = COALESCE(claimed_by, $2)
               WHERE task_id = $3 AND slot = $4";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(at)
            .bind(reviewer_id)
            .bind(task_id)
            .bind(slot)
    )?;
    Ok(())
}

pub async fn list_task_queue_items(db: &Db, task_id: i64) -> DbResult<Vec<QueueItem>> {
    let sql = "SELECT * FROM review_queue WHERE task_id = $1 ORDER BY slot";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_id).fetch_all(pool).await)?)
}

pub async fn count_waiting(db: &Db) -> DbResult<i64> {
    let sql = "SELECT COUNT(*) FROM review_queue WHERE done_at IS NULL";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?)
}
