//! Retention's pass: seal every day older than the setting, one day per transaction, then
//! remove the sealed days' calls a few thousand per transaction (see `db::retention`).

use crate::db::{Db, DbResult, on_db, retention, rollup};
use crate::domain::time::{MS_PER_DAY, day_of};
use std::time::{Duration, Instant};

/// How many calls one transaction removes: on SQLite a transaction holds the only writer's
/// turn, and a few thousand rows keep each turn to tens of milliseconds.
pub const REMOVE_PER_TRANSACTION: i64 = 2_000;

/// The fewest days a setting may keep: later outcomes (a reopened ticket) and grades arrive
/// within days, and the calls behind them should still be there to look at.
pub const MIN_KEEP_DAYS: i64 = 7;

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Days sealed by this pass.
    pub sealed_days: u64,
    /// The last sealed day after the pass, if any is.
    pub sealed_through_day: Option<i64>,
    pub calls_removed: u64,
    pub transactions: u64,
    pub elapsed: Duration,
}

/// The last day a setting of `keep_days` seals at `now`: the days before the last `keep_days`
/// (today counted among them).
pub fn last_sealed_day(keep_days: i64, now: i64) -> i64 {
    day_of(now) - keep_days
}

/// Seals every day up to [`last_sealed_day`] that is not yet sealed, from the first day with
/// data, then removes their calls `per_transaction` at a time until none are left.
pub async fn run_pass(db: &Db, keep_days: i64, now: i64, per_transaction: i64) -> DbResult<Pass> {
    let started = Instant::now();
    let keep_days = keep_days.max(MIN_KEEP_DAYS);
    let target = last_sealed_day(keep_days, now);
    let mut pass = Pass::default();
    let first = match retention::state(db).await? {
        Some(kept) => Some(kept.sealed_through_day + 1),
        None => first_day_with_data(db).await?,
    };
    if let Some(first) = first {
        for day in first..=target {
            if seal_day(db, day, keep_days, now).await? {
                pass.sealed_days += 1;
            }
        }
    }
    loop {
        let removed = retention::remove_sealed_calls(db, per_transaction).await?;
        if removed == 0 {
            break;
        }
        pass.calls_removed += removed;
        pass.transactions += 1;
        // Batches waiting for the writer go first.
        tokio::task::yield_now().await;
    }
    pass.sealed_through_day = retention::state(db).await?.map(|k| k.sealed_through_day);
    pass.elapsed = started.elapsed();
    Ok(pass)
}

/// Seals `day`, unless it already is: holds ingestion off, recomputes each workflow's slice of
/// the day from its raw rows and records the day, in one transaction. Returns whether it
/// sealed.
async fn seal_day(db: &Db, day: i64, keep_days: i64, now: i64) -> DbResult<bool> {
    let mut tx = db.begin().await?;
    retention::hold_ingestion(&mut tx).await?;
    if retention::sealed_through(&mut tx)
        .await?
        .is_some_and(|d| d >= day)
    {
        return Ok(false);
    }
    for workflow_id in retention::workflow_ids(&mut tx).await? {
        rollup::refresh_slices(&mut tx, workflow_id, day, day).await?;
    }
    retention::record_sealed(&mut tx, day, keep_days, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// The day of the earliest task or call, if there is any.
async fn first_day_with_data(db: &Db) -> DbResult<Option<i64>> {
    let sql = "SELECT MIN(m) FROM (SELECT MIN(started_at) AS m FROM tasks
                                   UNION ALL SELECT MIN(started_at) FROM calls) AS firsts";
    let first: Option<i64> = on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?;
    Ok(first.map(|ms| ms.div_euclid(MS_PER_DAY)))
}
