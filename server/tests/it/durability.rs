//! A 2xx from the ingestion API means the data is stored: the real binary is killed with
//! SIGKILL in the middle of a stream of batches, and every acknowledged call is there exactly
//! once afterwards, every batch whole or absent, and the rollups equal a recomputation.
//! (`Child::kill` sends SIGKILL on Unix.)

use app::db::{Db, on_db};
use server::bench::post_json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;

const CALLS_PER_BATCH: usize = 50;

fn finishline(data: &Path) -> Command {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut command = Command::new(env!("CARGO_BIN_EXE_finishline"));
    command
        .current_dir(root)
        .env("FINISHLINE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

async fn serve(data: &Path, port: u16) -> Child {
    let mut child = finishline(data)
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not listen on {port}");
}

fn batch(n: usize) -> String {
    let calls: Vec<serde_json::Value> = (0..CALLS_PER_BATCH)
        .map(|j| {
            serde_json::json!({"id": format!("b{n}-c{j}"), "workflow": "support-triage", "correlation_id": format!("b{n}"),
                "kind": "tool", "cost_usd": "0.0001", "started_at": app::db::now_ms() - 60_000})
        })
        .collect();
    serde_json::json!({ "calls": calls }).to_string()
}

#[tokio::test]
async fn every_acknowledged_batch_survives_a_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let status = finishline(data)
        .args(["demo", "--tasks", "50"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the demo catalogue loads");
    let key = finishline(data)
        .args(["api-key", "--name", "stream"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = serve(data, port).await;

    let (mut acknowledged, mut sent, mut killed) = (Vec::new(), 0, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while acknowledged.len() < 40 && tokio::time::Instant::now() < deadline {
        // Keep a batch in flight while the process dies: the kill lands mid-stream.
        let body = batch(sent);
        if acknowledged.len() == 20 && !killed {
            killed = true;
            let in_flight_key = key.clone();
            let in_flight = tokio::spawn(async move {
                post_json(port, "/api/v1/ingest", &in_flight_key, &body).await
            });
            tokio::time::sleep(Duration::from_millis(2)).await;
            server.kill().unwrap();
            server.wait().unwrap();
            let _ = in_flight.await;
            sent += 1;
            server = serve(data, port).await;
            continue;
        }
        if post_json(port, "/api/v1/ingest", &key, &body).await == Some(200) {
            acknowledged.push(sent);
        }
        sent += 1;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        acknowledged.len() >= 40,
        "{} batches acknowledged",
        acknowledged.len()
    );

    let db = Db::connect(&format!(
        "sqlite://{}",
        data.join("finishline.db").display()
    ))
    .await
    .unwrap();
    for n in 0..sent {
        let like = format!("b{n}-c%");
        let stored: i64 = on_db!(&db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM calls WHERE external_id LIKE $1").bind(&like).fetch_one(pool).await).unwrap();
        if acknowledged.contains(&n) {
            assert_eq!(
                stored, CALLS_PER_BATCH as i64,
                "acknowledged batch {n} is whole and counted once"
            );
        } else {
            assert!(
                stored == 0 || stored == CALLS_PER_BATCH as i64,
                "batch {n} is whole or absent: {stored}"
            );
        }
    }
    // The restarted server refreshes what the crash left marked; here the test does it.
    app::db::rollup::refresh_all_dirty(&db).await.unwrap();
    let (calls, rolled): (i64, i64) = on_db!(&db, pool => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM calls), CAST((SELECT COALESCE(SUM(calls), 0) FROM call_rollups) AS BIGINT)")
        .fetch_one(pool).await).unwrap();
    assert_eq!(
        calls, rolled,
        "the call rollups equal a recount after the crash"
    );
}
