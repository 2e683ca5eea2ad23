//! Retention: raw calls older than a number of days are removed, day by day, while every
//! figure of every period stays as it was.
//!
//! A day is first *sealed* (`service::retention`), in one transaction that keeps ingestion out: every workflow's
//! slice of that day is recomputed from its raw rows one last time, which leaves each task's
//! whole usage (costs, tokens, cache savings, primary model) in its own columns, and the day
//! is recorded as sealed. From then on the day's rollups are recomputed from those columns
//! (a late grade or outcome still changes a verdict and its CPST), its call-level figures
//! (per model, per step, prompt sizes) are kept as they are, ingestion refuses tasks, attempts
//! and calls that start on it, and repricing refuses it. Then its calls are removed a few
//! thousand per transaction, so that batches keep their turns at the writer meanwhile.

use super::{Db, DbError, DbResult, Tx, execute, on_db, on_tx};
use crate::domain::time::MS_PER_DAY;

/// What retention has done so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Retention {
    /// Every day up to this one (days since 1970-01-01, UTC) is sealed.
    pub sealed_through_day: i64,
    /// The setting the last day was sealed under.
    pub keep_days: i64,
    pub sealed_at: i64,
    /// Calls removed since retention was first set.
    pub calls_removed: i64,
}

impl Retention {
    /// The first instant (ms) of the first day not sealed.
    pub fn kept_from_ms(&self) -> i64 {
        first_kept_ms(self.sealed_through_day)
    }
}

/// What retention has done, if it ever ran.
pub async fn state(db: &Db) -> DbResult<Option<Retention>> {
    let sql = "SELECT sealed_through_day, keep_days, sealed_at, calls_removed FROM retention";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_optional(pool).await)?)
}

/// The last sealed day, read in the caller's transaction.
pub async fn sealed_through(tx: &mut Tx) -> DbResult<Option<i64>> {
    let sql = "SELECT sealed_through_day FROM retention";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql).fetch_optional(conn).await)?)
}

/// The first instant (ms) that is not sealed, read in the caller's transaction; `i64::MIN`
/// while nothing is.
pub async fn kept_from_ms(tx: &mut Tx) -> DbResult<i64> {
    Ok(sealed_through(tx).await?.map_or(i64::MIN, first_kept_ms))
}

/// The first instant (ms) of the day after `sealed_through_day`.
fn first_kept_ms(sealed_through_day: i64) -> i64 {
    (sealed_through_day + 1) * MS_PER_DAY
}

/// Refuses a change to the calls of days `first_day..` when some of them are sealed.
pub async fn refuse_sealed(tx: &mut Tx, first_day: i64) -> DbResult<()> {
    match sealed_through(tx).await? {
        Some(day) if first_day <= day => Err(DbError::Pruned(day)),
        _ => Ok(()),
    }
}

/// Takes every batch's turn for the rest of the transaction: on PostgreSQL the ingestion lock
/// each batch holds shared, taken whole; on SQLite the writer's turn the transaction has.
pub async fn hold_ingestion(tx: &mut Tx) -> DbResult<()> {
    if let Tx::Postgres(conn) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('finishline.ingest'))")
            .execute(&mut **conn)
            .await?;
    }
    Ok(())
}

/// The ids of every workflow, to seal a day or remove calls workflow by workflow.
pub async fn workflow_ids(tx: &mut Tx) -> DbResult<Vec<i64>> {
    let sql = "SELECT id FROM workflows ORDER BY id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql).fetch_all(conn).await)?)
}

/// Records `day` as the last sealed one, under a setting of `keep_days`, once its slices are
/// recomputed in the same transaction.
pub async fn record_sealed(tx: &mut Tx, day: i64, keep_days: i64, now: i64) -> DbResult<()> {
    execute!(
        tx,
        sqlx::query(
            "INSERT INTO retention (id, sealed_through_day, keep_days, sealed_at)
             VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE
             SET sealed_through_day = excluded.sealed_through_day,
                 keep_days = excluded.keep_days, sealed_at = excluded.sealed_at"
        )
        .bind(day)
        .bind(keep_days)
        .bind(now)
    )?;
    Ok(())
}

/// Removes up to `limit` calls of sealed days in one transaction: calls that started on a
/// sealed day and belong to a task of a sealed day or to none (a call whose task starts on a
/// kept day stays with it). Returns how many it removed; 0 when none are left.
pub async fn remove_sealed_calls(db: &Db, limit: i64) -> DbResult<u64> {
    let mut tx = db.begin().await?;
    let before = kept_from_ms(&mut tx).await?;
    if before == i64::MIN {
        return Ok(0);
    }
    let mut removed = 0;
    for workflow_id in workflow_ids(&mut tx).await? {
        let left = limit - removed as i64;
        if left <= 0 {
            break;
        }
        removed += execute!(
            &mut tx,
            sqlx::query(
                "DELETE FROM calls WHERE id IN (
                     SELECT c.id FROM calls c LEFT JOIN tasks t ON t.id = c.task_id
                     WHERE c.workflow_id = $1 AND c.started_at < $2
                       AND (t.id IS NULL OR t.started_at < $2)
                     LIMIT $3)"
            )
            .bind(workflow_id)
            .bind(before)
            .bind(left)
        )?;
    }
    if removed > 0 {
        execute!(
            &mut tx,
            sqlx::query("UPDATE retention SET calls_removed = calls_removed + $1")
                .bind(removed as i64)
        )?;
    }
    tx.commit().await?;
    Ok(removed)
}
