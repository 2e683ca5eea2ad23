//! Background jobs over one database shared by several servers: each pass of a job runs in
//! that job's turn, which one server holds at a time (PostgreSQL); SQLite serves one process.

use crate::helpers::test_databases;
use app::db::Db;
use server::jobs::in_turn;
use tokio::sync::oneshot;

#[tokio::test]
async fn two_servers_never_run_one_job_at_once() {
    for t in test_databases().await {
        // A second server: its own pool over the same database.
        let other = Db::connect(&t.url).await.unwrap();
        let (started_tx, started) = oneshot::channel();
        let (finish, finished) = oneshot::channel::<()>();
        let first = {
            let db = t.db.clone();
            tokio::spawn(async move {
                in_turn(&db, "alerts", async {
                    started_tx.send(()).unwrap();
                    finished.await.unwrap();
                    "first"
                })
                .await
                .unwrap()
            })
        };
        started.await.unwrap();
        let during = in_turn(&other, "alerts", async { "second" }).await.unwrap();
        // Another job is not held up by it.
        let elsewhere = in_turn(&other, "settling", async { "settled" })
            .await
            .unwrap();
        finish.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Some("first"));
        let after = in_turn(&other, "alerts", async { "second" }).await.unwrap();
        assert_eq!(elsewhere, Some("settled"));
        assert_eq!(
            after,
            Some("second"),
            "{}: the turn passes once it ends",
            t.backend
        );
        match t.backend {
            "postgres" => assert_eq!(during, None, "the second server skips the pass"),
            // One process per SQLite file: every job runs on its own schedule.
            _ => assert_eq!(during, Some("second")),
        }
        // A server that dies mid-pass gives the turn up with its connection.
        let dying = Db::connect(&t.url).await.unwrap();
        let held = dying.job_turn("alerts").await.unwrap();
        assert!(held.is_some());
        if t.backend == "postgres" {
            assert!(other.job_turn("alerts").await.unwrap().is_none());
        }
        drop(held);
        dying.close().await;
        // The database frees the lock when it sees the connection end, which on a busy
        // machine can trail the client's close by a moment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut passed = other.job_turn("alerts").await.unwrap().is_some();
        while !passed && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            passed = other.job_turn("alerts").await.unwrap().is_some();
        }
        assert!(passed, "{}: a dead server's turn passes on", t.backend);
    }
}
