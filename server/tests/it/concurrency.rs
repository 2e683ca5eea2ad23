//! Batches about the same tasks stored at once by several server processes: 200 batches from 8
//! clients (and two batches too big for a lock per key), each task's calls split from its attempts and sent beside them (sometimes before
//! them, sometimes moving the task to another day), to two servers over one PostgreSQL
//! database, or one server over SQLite. Every call finds its attempt, nothing is counted
//! twice, a batch sent again changes nothing, and the rollups equal a recomputation from the
//! raw rows.

use crate::helpers::{finishline, free_port, serve, test_databases};
use crate::ingest::catalog;
use app::db::{Db, on_db, on_tx, rollup};
use serde_json::{Value, json};
use server::api::create_api_key;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TASKS: usize = 100;
/// Calls of each task's first (failed) attempt and of its second.
const FIRST_CALLS: usize = 4;
const SECOND_CALLS: usize = 6;
const CLIENTS: usize = 8;
/// Tasks of the two batches that name more keys than [`app::db::task::MAX_INGEST_KEYS`].
const BIG: usize = 130;

/// The cost of call `j` of task `k`, in micro-dollars.
fn cost(k: usize, j: usize) -> i64 {
    1_000 + 10 * k as i64 + j as i64
}

fn call(k: usize, attempt: usize, j: usize, at: &str) -> Value {
    let model = if j.is_multiple_of(2) {
        json!({"kind": "model", "provider": "anthropic", "model": "claude-haiku-4-5",
               "input_tokens": 1_000 + j, "output_tokens": 100})
    } else {
        json!({"kind": "tool"})
    };
    let mut call = json!({"id": format!("k{k}-a{attempt}-c{j}"), "workflow": "support-triage",
        "correlation_id": format!("k{k}-a{attempt}"), "started_at": at,
        "cost_usd": format!("0.{:06}", cost(k, j)), "latency_ms": 300});
    call.as_object_mut()
        .unwrap()
        .extend(model.as_object().unwrap().clone());
    call
}

fn task(k: usize, day: &str) -> Value {
    let mut task = task_named(&format!("k{k}"), day);
    task["version"] = json!(format!("v{}", k % 3));
    task
}

fn task_named(id: &str, day: &str) -> Value {
    json!({"id": id, "workflow": "support-triage", "task_type": "ticket",
           "started_at": format!("{day}T10:00:00Z"),
           "finished_at": format!("{day}T10:00:30Z"), "status": "completed",
           "output": {"reply": "Done"}})
}

/// Task `k`'s two batches: the head (the task, both attempts, half the second attempt's calls)
/// and the tail (the first attempt's calls and the rest). Every fifth tail also sends the task
/// again a day later, so that its day moves while the head's calls are being joined.
fn batches(k: usize, days: &[String]) -> (Value, Value) {
    let day = &days[k % days.len()];
    let at = format!("{day}T10:00:01Z");
    let attempts = json!([
        {"correlation_id": format!("k{k}-a1"), "workflow": "support-triage", "task": format!("k{k}"),
         "number": 1, "status": "failed", "started_at": format!("{day}T10:00:00Z")},
        {"correlation_id": format!("k{k}-a2"), "workflow": "support-triage", "task": format!("k{k}"),
         "number": 2, "status": "succeeded", "started_at": format!("{day}T10:00:10Z")}
    ]);
    let second: Vec<Value> = (0..SECOND_CALLS).map(|j| call(k, 2, j, &at)).collect();
    let (early, late) = second.split_at(SECOND_CALLS / 2);
    let head = json!({"tasks": [task(k, day)], "attempts": attempts, "calls": early});
    let mut tail_calls: Vec<Value> = (0..FIRST_CALLS).map(|j| call(k, 1, j, &at)).collect();
    tail_calls.extend(late.iter().cloned());
    let mut tail = json!({"calls": tail_calls});
    if k.is_multiple_of(5) {
        let moved = &days[(k + 1) % days.len()];
        tail["tasks"] = json!([task(k, moved)]);
    }
    (head, tail)
}

/// Posts `body` until it is stored: a 503 (busy, or a transaction the database rolled back)
/// is sent again, as a client does. The answer's JSON.
async fn deliver(port: u16, key: &str, body: &str) -> Value {
    for _ in 0..100 {
        match server::bench::post(
            port,
            "/api/v1/ingest",
            key,
            "application/json",
            body.as_bytes(),
        )
        .await
        {
            Some((200, answer)) => return serde_json::from_slice(&answer).unwrap(),
            Some((503, _)) | None => tokio::time::sleep(Duration::from_millis(100)).await,
            Some((status, answer)) => {
                panic!("{status}: {}", String::from_utf8_lossy(&answer))
            }
        }
    }
    panic!("a batch was never stored");
}

/// Every row of both rollup tables, in one order.
async fn rollup_rows(
    tx: &mut app::db::Tx,
) -> (
    Vec<app::model::TaskRollup>,
    Vec<app::db::rollup::CallRollup>,
) {
    let tasks = "SELECT * FROM task_rollups
                 ORDER BY day, workflow_id, team_id, task_type_id, segment, config_version_id, model, status";
    let calls = "SELECT * FROM call_rollups ORDER BY day, workflow_id, provider, model, step";
    (
        on_tx!(tx, conn => sqlx::query_as(tasks).fetch_all(conn).await).unwrap(),
        on_tx!(tx, conn => sqlx::query_as(calls).fetch_all(conn).await).unwrap(),
    )
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await).unwrap()
}

#[tokio::test]
async fn batches_split_across_servers_join_every_call_once_and_rollups_match_a_recount() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let today = app::domain::time::day_of(app::db::now_ms());
        let days: Vec<String> = (1..=3)
            .map(|ago| app::domain::time::format_day(today - ago))
            .collect();
        // Each task's head and tail one after the other, so that they are stored at once by
        // two clients (and two servers); the tail first for odd tasks.
        let mut queue = VecDeque::new();
        for k in 0..TASKS {
            let (head, tail) = batches(k, &days);
            let (first, second) = if k % 2 == 0 {
                (head, tail)
            } else {
                (tail, head)
            };
            queue.push_back((k, first.to_string()));
            queue.push_back((k, second.to_string()));
        }
        // Two batches too big for a lock per key, which take the ingestion lock whole: one
        // with BIG tasks and their attempts, one with their calls, sent among the others.
        let day = &days[0];
        let big_head = json!({
            "tasks": (0..BIG).map(|b| task_named(&format!("big{b}"), day)).collect::<Vec<_>>(),
            "attempts": (0..BIG).map(|b| json!({"correlation_id": format!("big{b}-a1"),
                "workflow": "support-triage", "task": format!("big{b}"), "number": 1,
                "status": "succeeded", "started_at": format!("{day}T10:00:00Z")})).collect::<Vec<_>>(),
        });
        let big_tail = json!({
            "calls": (0..BIG).map(|b| json!({"id": format!("big{b}-c"), "workflow": "support-triage",
                "correlation_id": format!("big{b}-a1"), "kind": "tool", "cost_usd": "0.0001",
                "started_at": format!("{day}T10:00:01Z")})).collect::<Vec<_>>(),
        });
        queue.insert(60, (TASKS, big_head.to_string()));
        queue.insert(61, (TASKS, big_tail.to_string()));
        assert_eq!(queue.len(), 202);
        let resend: Vec<String> = queue
            .iter()
            .filter(|(k, _)| k % 10 == 3)
            .map(|(_, body)| body.clone())
            .collect();

        let data = tempfile::tempdir().unwrap();
        let servers = if t.backend == "postgres" { 2 } else { 1 };
        let mut children = Vec::new();
        let mut ports = Vec::new();
        for _ in 0..servers {
            let port = free_port();
            let mut command = finishline(data.path());
            command.env("DATABASE_URL", &t.url);
            children.push(serve(command, port).await);
            ports.push(port);
        }
        let queue: Arc<Mutex<VecDeque<(usize, String)>>> = Arc::new(Mutex::new(queue));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (queue, key, port) = (queue.clone(), key.clone(), ports[c % ports.len()]);
                tokio::spawn(async move {
                    loop {
                        let next = queue.lock().unwrap().pop_front();
                        let Some((_, body)) = next else {
                            return;
                        };
                        let answer = deliver(port, &key, &body).await;
                        assert_eq!(answer["rejected"], 0, "{answer}");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        // A client that never saw its answers sends them again: nothing changes.
        for (i, body) in resend.iter().enumerate() {
            let answer = deliver(ports[i % ports.len()], &key, body).await;
            let counts = answer["counts"].as_object().unwrap();
            for (kind, count) in counts {
                assert_eq!(count["created"], 0, "{}: {kind} {answer}", t.backend);
                assert_eq!(count["updated"], 0, "{}: {kind} {answer}", t.backend);
            }
        }
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }

        let db = &t.db;
        let calls = TASKS * (FIRST_CALLS + SECOND_CALLS);
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM tasks").await,
            (TASKS + BIG) as i64
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM attempts").await,
            (2 * TASKS + BIG) as i64
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM calls").await,
            (calls + BIG) as i64
        );
        let expected: i64 = (0..TASKS)
            .flat_map(|k| {
                (0..FIRST_CALLS)
                    .chain(0..SECOND_CALLS)
                    .map(move |j| cost(k, j))
            })
            .sum::<i64>()
            + 100 * BIG as i64;
        assert_eq!(
            scalar(db, "SELECT CAST(SUM(cost_micros) AS BIGINT) FROM calls").await,
            expected,
            "{}: every call counted once",
            t.backend
        );
        assert_eq!(
            scalar(
                db,
                "SELECT COUNT(*) FROM calls c LEFT JOIN attempts a ON a.id = c.attempt_id
                 WHERE a.id IS NULL OR c.task_id IS DISTINCT FROM a.task_id
                    OR a.correlation_id <> c.correlation_id"
            )
            .await,
            0,
            "{}: every call joined its own attempt and task",
            t.backend
        );

        // The rollups the background refresh keeps equal the engine's recount of every day.
        rollup::refresh_all_dirty(db).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let kept = rollup_rows(&mut tx).await;
        let spans: Vec<(i64, i64, i64)> = on_tx!(&mut tx, conn => sqlx::query_as(
            "SELECT workflow_id, MIN(started_at) / 86400000, MAX(started_at) / 86400000
             FROM tasks GROUP BY workflow_id").fetch_all(conn).await)
        .unwrap();
        for (workflow_id, first, last) in spans {
            rollup::refresh_slices(&mut tx, workflow_id, first - 1, last + 1)
                .await
                .unwrap();
        }
        let recounted = rollup_rows(&mut tx).await;
        drop(tx);
        assert!(!kept.0.is_empty() && !kept.1.is_empty());
        assert_eq!(kept, recounted, "{}: rollups equal a recount", t.backend);
        assert_eq!(
            scalar(
                db,
                "SELECT CAST(SUM(model_cost_micros + tool_cost_micros + retry_cost_micros
                                 + cache_cost_micros) AS BIGINT) FROM task_rollups"
            )
            .await,
            expected,
            "{}: the rollups hold every call's cost once",
            t.backend
        );
    }
}
