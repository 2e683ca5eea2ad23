//! Background work: deciding pending tasks once their evidence window closes, and bringing
//! the rollups of freshly ingested slices up to date.

use app::db::{Db, now_ms, rollup, verdict};
use std::time::Duration;

/// How often pending tasks are checked.
const SETTLE_EVERY: Duration = Duration::from_secs(60);
const SETTLE_BATCH: i64 = 500;

/// Every minute, decides the pending tasks whose reopen (or other) window has closed, so that
/// they enter CPST without waiting for another event.
pub fn spawn_settling(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SETTLE_EVERY);
        loop {
            tick.tick().await;
            match verdict::settle_due_tasks(&db, now_ms(), SETTLE_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(tasks = n, "settled pending tasks whose window closed"),
                Err(err) => {
                    tracing::warn!(error = ?err, "settling pending tasks failed; will retry")
                }
            }
        }
    });
}

/// How often marked rollup slices are refreshed.
const REFRESH_EVERY: Duration = Duration::from_millis(500);

/// Twice a second, recomputes the rollup slices ingestion marked, so figures include a batch
/// moments after it was acknowledged. Marks survive a restart: they are rows, written in the
/// batch's own transaction.
pub fn spawn_rollup_refresh(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH_EVERY);
        loop {
            tick.tick().await;
            if let Err(err) = rollup::refresh_all_dirty(&db).await {
                tracing::warn!(error = ?err, "refreshing rollups failed; will retry");
            }
        }
    });
}
