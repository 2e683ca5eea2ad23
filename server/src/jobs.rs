//! Background work: deciding pending tasks once their evidence window closes, bringing the
//! rollups of freshly ingested slices up to date, recording each workflow's autonomy gate once
//! a day, forgetting old sign-in records, and removing raw calls past the retention setting.
//!
//! Several servers may share one PostgreSQL database; each pass of a job runs in that job's
//! turn ([`in_turn`]), so the servers take turns rather than doing the same work twice.

use app::db::{Db, DbError, identity, now_ms, rollup, verdict};
use std::future::Future;
use std::time::{Duration, Instant};

/// Runs one pass of `job` if no other server over the same database is running it; `None`
/// when one is (this server skips the pass, the other does the work).
pub async fn in_turn<T>(
    db: &Db,
    job: &str,
    pass: impl Future<Output = T>,
) -> Result<Option<T>, DbError> {
    let Some(turn) = db.job_turn(job).await? else {
        return Ok(None);
    };
    let done = pass.await;
    turn.end().await?;
    Ok(Some(done))
}

/// How often pending tasks are checked.
const SETTLE_EVERY: Duration = Duration::from_secs(60);
const SETTLE_BATCH: i64 = 500;
/// How long expired sessions and old sign-in attempts are kept.
const KEEP_SIGN_INS_MS: i64 = 24 * 3_600_000;

/// Every minute, decides the pending tasks whose reopen (or other) window has closed, so that
/// they enter CPST without waiting for another event.
pub fn spawn_settling(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SETTLE_EVERY);
        loop {
            tick.tick().await;
            let turn = in_turn(&db, "settling", settle_once(&db)).await;
            if let Err(err) = turn {
                tracing::warn!(error = ?err, "taking the settling job's turn failed; will retry");
            }
        }
    });
}

/// One pass of the minute's housekeeping.
async fn settle_once(db: &Db) {
    match verdict::settle_due_tasks(db, now_ms(), SETTLE_BATCH).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(tasks = n, "settled pending tasks whose window closed"),
        Err(err) => {
            tracing::warn!(error = ?err, "settling pending tasks failed; will retry")
        }
    }
    // Sign-in attempts count for 15 minutes and sessions end within days: a day's margin
    // keeps both tables small.
    if let Err(err) = identity::prune_sign_in_records(db, now_ms() - KEEP_SIGN_INS_MS).await {
        tracing::warn!(error = ?err, "pruning sign-in records failed; will retry");
    }
    // The gate's history: one evaluation per workflow per day (a no-op once recorded).
    if let Err(err) = app::service::gate::record_daily(db, now_ms()).await {
        tracing::warn!(error = ?err, "recording the autonomy gate failed; will retry");
    }
}

/// The shortest pause between two refreshes of the marked rollup slices.
const REFRESH_EVERY: Duration = Duration::from_millis(500);
/// How many times its own duration a refresh waits before the next: under heavy ingestion a
/// day's slice is large, and the database's writer belongs to the batches most of the time.
const REFRESH_BACKOFF: u32 = 3;

/// Twice a second (or less often while refreshes are slow), recomputes the rollup slices
/// ingestion marked, so figures include a batch moments after it was acknowledged. Marks
/// survive a restart: they are rows, written in the batch's own transaction.
pub fn spawn_rollup_refresh(db: Db) {
    tokio::spawn(async move {
        let mut pause = REFRESH_EVERY;
        loop {
            tokio::time::sleep(pause).await;
            let started = Instant::now();
            match in_turn(&db, "rollups", rollup::refresh_all_dirty(&db)).await {
                Ok(Some(Err(err))) | Err(err) => {
                    tracing::warn!(error = ?err, "refreshing rollups failed; will retry")
                }
                Ok(_) => {}
            }
            pause = REFRESH_EVERY.max(started.elapsed() * REFRESH_BACKOFF);
        }
    });
}

/// How often retention looks for days to seal and calls to remove.
const RETAIN_EVERY: Duration = Duration::from_secs(3_600);

/// Once an hour (so that each new day is sealed within an hour of leaving the setting), seals
/// the days older than `keep_days` and removes their calls a few thousand per transaction,
/// ingestion going on between them (see `app::db::retention`).
pub fn spawn_retention(db: Db, keep_days: i64) {
    use app::service::retention::{REMOVE_PER_TRANSACTION, run_pass};
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RETAIN_EVERY);
        loop {
            tick.tick().await;
            let pass = run_pass(&db, keep_days, now_ms(), REMOVE_PER_TRANSACTION);
            match in_turn(&db, "retention", pass).await {
                Ok(Some(Ok(pass))) if pass.sealed_days > 0 || pass.calls_removed > 0 => {
                    tracing::info!(
                        sealed_days = pass.sealed_days,
                        sealed_through_day = pass.sealed_through_day,
                        calls_removed = pass.calls_removed,
                        seconds = pass.elapsed.as_secs_f64(),
                        "retention sealed old days and removed their calls"
                    )
                }
                Ok(Some(Err(err))) | Err(err) => {
                    tracing::warn!(error = ?err, "retention failed; will retry")
                }
                Ok(_) => {}
            }
        }
    });
}
