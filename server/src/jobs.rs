//! Background work: deciding pending tasks once their evidence window closes.

use app::db::{Db, now_ms, verdict};
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
