//! A 2xx from the ingestion API means the data is stored: the real binary is killed with
//! SIGKILL in the middle of a stream of batches, and every acknowledged call is there exactly
//! once afterwards, every batch whole or absent, and the rollups equal a recomputation.
//! (`Child::kill` sends SIGKILL on Unix.)

use crate::helpers::{demo_data, finishline, free_port, new_api_key, serve};
use app::db::{Db, on_db};
use server::bench::post_json;
use std::time::Duration;
use tokio::net::TcpStream;

/// Calls in each batch [`batch`] makes.
pub(crate) const CALLS_PER_BATCH: usize = 50;

/// Batch `n`: calls `b{n}-c0`, `b{n}-c1`... of one attempt of `support-triage`.
pub(crate) fn batch(n: usize) -> String {
    // The same body every time it is built, as a client's retry sends it: a batch refused
    // although it was stored is then answered as unchanged, not as a conflict.
    static STARTED_AT: std::sync::LazyLock<i64> =
        std::sync::LazyLock::new(|| app::db::now_ms() - 60_000);
    let calls: Vec<serde_json::Value> = (0..CALLS_PER_BATCH)
        .map(|j| {
            serde_json::json!({"id": format!("b{n}-c{j}"), "workflow": "support-triage", "correlation_id": format!("b{n}"),
                "kind": "tool", "cost_usd": "0.0001", "started_at": *STARTED_AT})
        })
        .collect();
    serde_json::json!({ "calls": calls }).to_string()
}

#[tokio::test]
async fn every_acknowledged_batch_survives_a_sigkill_exactly_once() {
    let dir = demo_data(50);
    let data = dir.path();
    let key = new_api_key(finishline(data), "stream");
    let port = free_port();
    let mut server = serve(finishline(data), port).await;

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
            server = serve(finishline(data), port).await;
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

/// Sends a form to a server function over a fresh connection, as a page of the site would;
/// the status, or `None` if the connection broke.
async fn form(port: u16, endpoint: &str, body: &str, cookie: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let head = format!(
        "POST /rpc/{endpoint} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nCookie: {cookie}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, answer))
}

/// Saves a rule with a re-evaluation and kills the server `wait` after sending it; checks that
/// the rule and its verdicts are whole or absent and the rollups equal the raw rows, and
/// returns whether the rule was stored.
async fn kill_during_a_rule_save(wait: Duration) -> bool {
    let dir = demo_data(3000);
    let data = dir.path();
    let url = format!("sqlite://{}", data.join("finishline.db").display());
    let db = Db::connect(&url).await.unwrap();
    // The task type with the most tasks, re-evaluated from the day its current rule took effect.
    let (task_type_id, from_ms): (i64, i64) = on_db!(&db, pool => sqlx::query_as(
        "SELECT t.task_type_id, MAX(r.effective_from) FROM tasks t
         JOIN success_rules r ON r.task_type_id = t.task_type_id
         GROUP BY t.task_type_id ORDER BY COUNT(*) DESC LIMIT 1")
        .fetch_one(pool).await)
    .unwrap();
    let from_day = (from_ms / app::domain::time::MS_PER_DAY + 1)
        .max(app::domain::time::day_of(app::db::now_ms()) - 60);
    let rules_before: i64 =
        on_db!(&db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM success_rules")
        .fetch_one(pool).await)
        .unwrap();
    db.close().await;

    let port = free_port();
    let mut server = serve(finishline(data), port).await;
    let sign_in = form(
        port,
        "sign_in",
        "email=admin%40demo.finishline.test&password=demo-admin-password&next=",
        "",
    )
    .await
    .expect("sign-in answers");
    let cookie = sign_in
        .1
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().split(';').next().unwrap().to_owned())
        .expect("a session cookie");
    let definition =
        "%7B%22kind%22%3A%22fields_present%22%2C%22fields%22%3A%5B%22nothing-has-this%22%5D%7D";
    let body = format!(
        "task_type_id={task_type_id}&definition={definition}&reevaluate_from={}",
        app::domain::time::format_day(from_day)
    );
    // The kill lands while the save and its re-evaluation are in flight.
    let in_flight = tokio::spawn(async move { form(port, "save_rule", &body, &cookie).await });
    tokio::time::sleep(wait).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let answer = in_flight.await.unwrap();

    let db = Db::connect(&url).await.unwrap();
    let rules_after: i64 =
        on_db!(&db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM success_rules")
        .fetch_one(pool).await)
        .unwrap();
    let reevaluations: i64 = on_db!(&db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'rule.reevaluate'")
        .fetch_one(pool).await)
    .unwrap();
    if rules_after == rules_before {
        assert!(
            !matches!(answer, Some((200, _))),
            "an acknowledged rule is stored"
        );
        assert_eq!(
            reevaluations, 0,
            "no re-evaluation recorded without its rule"
        );
    } else {
        assert_eq!(reevaluations, 1, "the re-evaluation is recorded once");
        assert_eq!(rules_after, rules_before + 1, "the rule is stored once");
        let new_rule: i64 =
            on_db!(&db, pool => sqlx::query_scalar("SELECT MAX(id) FROM success_rules")
            .fetch_one(pool).await)
            .unwrap();
        let reevaluated: i64 = on_db!(&db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM tasks WHERE task_type_id = $1 AND started_at >= $2 AND status <> 'pending'
               AND reported_status = 'completed' AND status_rule_id <> $3
               AND NOT EXISTS (SELECT 1 FROM grades g WHERE g.task_id = tasks.id)")
            .bind(task_type_id).bind(from_day * app::domain::time::MS_PER_DAY).bind(new_rule)
            .fetch_one(pool).await)
        .unwrap();
        assert_eq!(
            reevaluated, 0,
            "every ungraded task completed since then is judged by the new rule (a grade overrides it)"
        );
    }
    // What the crash left marked is refreshed on restart; then rollups equal the raw rows.
    app::db::rollup::refresh_all_dirty(&db).await.unwrap();
    let by_verdict = |sql: &'static str| async {
        let counts: Vec<(String, i64)> =
            on_db!(&db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap();
        counts
    };
    let raw =
        by_verdict("SELECT status, COUNT(*) FROM tasks GROUP BY status ORDER BY status").await;
    let rolled = by_verdict(
        "SELECT status, CAST(SUM(tasks) AS BIGINT) FROM task_rollups GROUP BY status ORDER BY status",
    )
    .await;
    assert_eq!(raw, rolled, "task rollups equal a recount by verdict");
    rules_after > rules_before
}

/// A rule saved with a re-evaluation of the past is one transaction: a SIGKILL while it runs
/// (150 ms in; it takes about half a second here) leaves neither the rule nor any verdict it
/// would have changed, and one after it answered leaves both, whole.
#[tokio::test]
async fn a_rule_reevaluation_killed_midway_is_whole_or_absent() {
    kill_during_a_rule_save(Duration::from_millis(150)).await;
    assert!(
        kill_during_a_rule_save(Duration::from_secs(5)).await,
        "a rule answered before the kill is stored"
    );
}
