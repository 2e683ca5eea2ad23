//! Retention: sealing old days and removing their calls changes no figure of any period, on
//! both backends. A twin database that keeps every call receives the same data and the same
//! late grade; every rollup table, every task's cost and usage, and the read API's answers
//! must stay equal between the two. Then: what starts on a sealed day is refused by name (the
//! rest of the batch is stored), repricing refuses sealed days, and the trace says why a
//! task's calls are gone.

use crate::helpers::{OWNER, PASSWORD, TestDb, api_get, app, page, people, send, sign_in};
use crate::helpers::{add_ticket_type, postgres, sqlite};
use crate::ingest::post;
use app::db::{Db, DbError, on_db, reprice, retention, rollup};
use app::domain::time::{day_of, format_day};
use app::service::retention::run_pass;
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;
use sqlx::Row;

const KEEP_DAYS: i64 = 20;

/// Twelve tickets on each of fourteen days, 40 to 1 days ago: priced model calls on two
/// models that read and write the cache (so a day's cache writes are shared among its tasks),
/// a tool call with a reported cost, and retrievals; a third of the tickets fail once first.
fn batch(today: i64) -> Value {
    let (mut tasks, mut attempts, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    for d in (1..=40).step_by(3) {
        let day = today - d;
        for i in 0..12_i64 {
            let id = format!("t-{day}-{i}");
            let start = day * 86_400_000 + 9 * 3_600_000 + i * 120_000;
            let tries: &[&str] = if i % 3 == 0 {
                &["failed", "succeeded"]
            } else {
                &["succeeded"]
            };
            let status = if i % 5 == 4 { "failed" } else { "completed" };
            let mut task = json!({"id": id, "workflow": "support-triage", "task_type": "ticket",
                "started_at": start, "finished_at": start + 60_000, "status": status});
            if status == "completed" {
                task["output"] = json!({"reply": "Done"});
            }
            tasks.push(task);
            for (n, outcome) in tries.iter().enumerate() {
                let correlation = format!("{id}-a{}", n + 1);
                let at = start + n as i64 * 10_000;
                attempts.push(
                    json!({"correlation_id": correlation, "workflow": "support-triage",
                    "task": id, "number": n + 1, "status": outcome, "started_at": at}),
                );
                let model = if i % 2 == 0 {
                    "claude-haiku-4-5"
                } else {
                    "claude-sonnet-4-5"
                };
                calls.push(
                    json!({"id": format!("{correlation}-m"), "workflow": "support-triage",
                    "correlation_id": correlation, "kind": "model", "step": "drafter",
                    "provider": "anthropic", "model": model, "input_tokens": 4_000 + 37 * i,
                    "output_tokens": 300, "cache_read_tokens": if i % 3 == 1 { 1_500 } else { 0 },
                    "cache_write_tokens": if i % 4 == 0 { 1_024 } else { 0 },
                    "latency_ms": 800 + i, "started_at": at + 100}),
                );
                calls.push(
                    json!({"id": format!("{correlation}-t"), "workflow": "support-triage",
                    "correlation_id": correlation, "kind": "tool", "step": "lookup",
                    "cost_usd": "0.002", "started_at": at + 200}),
                );
                for r in 0..i % 3 {
                    calls.push(
                        json!({"id": format!("{correlation}-r{r}"), "workflow": "support-triage",
                        "correlation_id": correlation, "kind": "retrieval", "step": "retriever",
                        "output_tokens": 400, "cost_usd": "0.001", "started_at": at + 300}),
                    );
                }
            }
        }
    }
    json!({"tasks": tasks, "attempts": attempts, "calls": calls})
}

/// Every stored figure: the rows of each rollup table and each task's verdict, cost and usage
/// columns, sorted.
async fn stored_figures(db: &Db) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "task_rollups",
        "call_rollups",
        "task_spreads",
        "escalation_counts",
        "costliest_tasks",
        "model_durations",
        "step_rollups",
        "prompt_sizes",
        "retrieval_outcomes",
    ] {
        let sql = format!("SELECT * FROM {table}");
        let mut rows: Vec<String> = on_db!(db, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await.unwrap();
            rows.iter()
                .map(|row| {
                    let cells: Vec<String> = (0..row.len())
                        .map(|i| {
                            row.try_get::<Option<i64>, _>(i)
                                .map(|v| format!("{v:?}"))
                                .or_else(|_| row.try_get::<Option<String>, _>(i).map(|v| format!("{v:?}")))
                                .or_else(|_| row.try_get::<Option<f64>, _>(i).map(|v| format!("{v:?}")))
                                .unwrap()
                        })
                        .collect();
                    format!("{table}: {}", cells.join("|"))
                })
                .collect()
        });
        assert!(
            !rows.is_empty() || table == "escalation_counts",
            "{table} is empty"
        );
        rows.sort();
        out.extend(rows);
    }
    type TaskRow = (String, String, i64, i64, i64, i64, i64, i64, i64, i64);
    let tasks: Vec<TaskRow> = on_db!(db, pool => sqlx::query_as(
        "SELECT external_id, status || ' ' || primary_model, model_cost_micros, tool_cost_micros,
                retry_cost_micros, cache_cost_micros, labour_cost_micros,
                call_count * 1000000 + attempt_count, input_tokens * 1000000 + output_tokens,
                cache_saved_micros
         FROM tasks ORDER BY external_id")
        .fetch_all(pool)
        .await
        .unwrap());
    out.extend(tasks.into_iter().map(|t| format!("task: {t:?}")));
    out
}

/// Whether a stored row is one of a sealed day's figures split by verdict from calls.
fn by_verdict_on(row: &str, sealed_day: i64) -> bool {
    let (table, cells) = row.split_once(": ").unwrap();
    if !matches!(table, "step_rollups" | "retrieval_outcomes") {
        return false;
    }
    let day: i64 = cells
        .split('|')
        .nth(1)
        .unwrap()
        .trim_start_matches("Some(")
        .trim_end_matches(')')
        .parse()
        .unwrap();
    day <= sealed_day
}

/// The read API's answers over the whole period (parsed: maps compare whatever their order).
async fn answers(router: &axum::Router, key: &str, today: i64) -> Vec<(String, Value)> {
    let window = format!("from={}&to={}", format_day(today - 45), format_day(today));
    let mut out = Vec::new();
    for uri in [
        format!("/api/v1/figures?{window}"),
        format!("/api/v1/figures?{window}&group_by=day"),
        format!("/api/v1/models?{window}"),
        format!("/api/v1/levers?workflow=support-triage&{window}"),
    ] {
        let (status, body) = api_get(router, &uri, key).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        out.push((uri, serde_json::from_str(&body).unwrap()));
    }
    out
}

/// The answers without the levers' two figures that split a sealed day's calls by verdict.
fn verdict_free(mut answers: Vec<(String, Value)>) -> Vec<(String, Value)> {
    for (uri, answer) in &mut answers {
        if uri.starts_with("/api/v1/levers") {
            answer["retrieval"]["by_volume"] = Value::Null;
            answer["failing_steps"] = Value::Null;
            answer["failed_runs"]["steps"] = Value::Null;
        }
    }
    answers
}

struct Twin {
    t: TestDb,
    router: axum::Router,
    key: String,
}

async fn twin(t: TestDb, today: i64) -> Twin {
    let people = people(&t.db).await;
    let mut tx = t.db.begin().await.unwrap();
    add_ticket_type(&mut tx, people.workflow_a).await;
    tx.commit().await.unwrap();
    let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
    let router = app(&t.db);
    let (status, answer) = post(&router, &key, "application/json", batch(today).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
    rollup::refresh_all_dirty(&t.db).await.unwrap();
    Twin { t, router, key }
}

#[tokio::test]
async fn sealing_and_removing_calls_changes_no_figure() {
    let now = app::db::now_ms();
    let today = day_of(now);
    for (pruned, kept) in [
        (sqlite().await, sqlite().await),
        (postgres().await, postgres().await),
    ] {
        let backend = pruned.backend;
        let pruned = twin(pruned, today).await;
        let kept = twin(kept, today).await;
        let db = &pruned.t.db;
        let before = stored_figures(db).await;
        let answered = answers(&pruned.router, &pruned.key, today).await;
        assert_eq!(
            before,
            stored_figures(&kept.t.db).await,
            "{backend}: the twins start equal"
        );
        let cutoff = (today - KEEP_DAYS + 1) * 86_400_000;
        let count = |sql: &'static str| async move {
            let n: i64 = on_db!(db, pool => sqlx::query_scalar(sql).bind(cutoff).fetch_one(pool).await.unwrap());
            n
        };
        let old_calls = count("SELECT COUNT(*) FROM calls WHERE started_at < $1").await;
        let all_calls =
            count("SELECT COUNT(*) FROM calls WHERE started_at >= $1").await + old_calls;
        assert!(old_calls > 100, "{backend}: {old_calls} calls to remove");

        // Seven calls per transaction: the removal runs in many small steps.
        let pass = run_pass(db, KEEP_DAYS, now, 7).await.unwrap();
        assert_eq!(
            pass.sealed_through_day,
            Some(today - KEEP_DAYS),
            "{backend}"
        );
        assert_eq!(
            pass.sealed_days, 21,
            "{backend}: from the first day with data"
        );
        assert_eq!(pass.calls_removed as i64, old_calls, "{backend}");
        assert!(pass.transactions >= old_calls as u64 / 7, "{backend}");
        assert_eq!(
            count("SELECT COUNT(*) FROM calls WHERE started_at < $1").await,
            0,
            "{backend}"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM calls WHERE started_at >= $1").await,
            all_calls - old_calls,
            "{backend}: the kept days' calls stay"
        );
        let state = retention::state(db).await.unwrap().unwrap();
        assert_eq!(
            (state.keep_days, state.calls_removed),
            (KEEP_DAYS, old_calls),
            "{backend}"
        );
        assert_eq!(
            stored_figures(db).await,
            before,
            "{backend}: removing calls changes no figure"
        );
        assert_eq!(
            answers(&pruned.router, &pruned.key, today).await,
            answered,
            "{backend}"
        );

        // Recomputing every slice, sealed ones from their tasks' stored usage, changes nothing.
        let mut tx = db.begin().await.unwrap();
        let workflow_id: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT id FROM workflows WHERE slug = 'support-triage'").fetch_one(pool).await.unwrap());
        rollup::refresh_slices(&mut tx, workflow_id, today - 45, today)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            stored_figures(db).await,
            before,
            "{backend}: recomputed from stored usage"
        );

        // A late grade on a sealed day's task moves its verdict and labour in both twins alike.
        let old_task = format!("t-{}-1", today - 40);
        let grade = json!({"grades": [{"id": "g-late", "workflow": "support-triage", "task": old_task,
            "grader": "ops@example.com", "verdict": "fail", "edit_severity": "factual",
            "review_seconds": 600, "graded_at": now - 60_000}]});
        for twin in [&pruned, &kept] {
            let (status, answer) = post(
                &twin.router,
                &twin.key,
                "application/json",
                grade.to_string(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{backend}: {answer}");
            rollup::refresh_all_dirty(&twin.t.db).await.unwrap();
        }
        let graded = stored_figures(db).await;
        assert_ne!(graded, before, "{backend}: the grade counts");
        // Two call-level tables split a day by verdict (failed attempts' spend by step, success
        // by retrieval volume): on a sealed day they keep the verdicts it was sealed with.
        let sealed_day = today - KEEP_DAYS;
        let (frozen, live): (Vec<String>, Vec<String>) = graded
            .into_iter()
            .partition(|row| by_verdict_on(row, sealed_day));
        let (_, twin_live): (Vec<String>, Vec<String>) = stored_figures(&kept.t.db)
            .await
            .into_iter()
            .partition(|row| by_verdict_on(row, sealed_day));
        assert_eq!(live, twin_live, "{backend}: as if no call was removed");
        let was: Vec<String> = before
            .into_iter()
            .filter(|row| by_verdict_on(row, sealed_day))
            .collect();
        assert!(!frozen.is_empty(), "{backend}");
        assert_eq!(frozen, was, "{backend}: kept as sealed");
        assert_eq!(
            verdict_free(answers(&pruned.router, &pruned.key, today).await),
            verdict_free(answers(&kept.router, &kept.key, today).await),
            "{backend}"
        );

        // What starts on a sealed day is refused by name; the rest of the batch is stored.
        let sealed_start = (today - 25) * 86_400_000;
        let fresh_start = (today - 2) * 86_400_000;
        let mixed = json!({
        "tasks": [
            {"id": "late-old", "workflow": "support-triage", "started_at": sealed_start, "status": "running"},
            {"id": "late-new", "workflow": "support-triage", "started_at": fresh_start, "status": "running"}
        ],
        "attempts": [{"correlation_id": "again", "workflow": "support-triage",
            "task": format!("t-{}-2", today - 31), "number": 2, "status": "failed", "started_at": fresh_start}],
        "calls": [
            {"id": "old-call", "workflow": "support-triage", "correlation_id": "x", "kind": "tool",
             "cost_usd": "0.5", "started_at": sealed_start},
            {"id": "joins-old", "workflow": "support-triage", "correlation_id": format!("t-{}-4-a1", today - 22),
             "kind": "tool", "cost_usd": "0.5", "started_at": fresh_start},
            {"id": "new-call", "workflow": "support-triage", "correlation_id": "y", "kind": "tool",
             "cost_usd": "0.5", "started_at": fresh_start}
        ]});
        let (status, answer) = post(
            &pruned.router,
            &pruned.key,
            "application/json",
            mixed.to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{backend}: {answer}");
        let refused: Vec<(String, String, String)> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert!(
                    e["message"].as_str().unwrap().contains("retention setting"),
                    "{e}"
                );
                (
                    e["id"].as_str().unwrap_or_default().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                    e["field"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let sealed =
            |id: &str, field: &str| (id.to_owned(), "sealed_day".to_owned(), field.to_owned());
        assert_eq!(
            refused,
            vec![
                sealed("late-old", "started_at"),
                sealed("again", "task"),
                sealed("old-call", "started_at"),
                sealed("joins-old", "correlation_id"),
            ],
            "{backend}: {answer}"
        );
        let stored: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE external_id = 'late-new'").fetch_one(pool).await.unwrap());
        assert_eq!(stored, 1, "{backend}: the valid task is stored");
        let stored: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM calls WHERE external_id = 'new-call'").fetch_one(pool).await.unwrap());
        assert_eq!(stored, 1, "{backend}: the valid call is stored");

        // Repricing refuses sealed days, and keeps to later ones.
        let mut tx = db.begin().await.unwrap();
        let refused =
            reprice::reprice_calls(&mut tx, workflow_id, today - 30, today, (None, "test"), now)
                .await;
        assert!(
            matches!(refused, Err(DbError::Pruned(day)) if day == today - KEEP_DAYS),
            "{backend}: {refused:?}"
        );
        drop(tx);
        let mut tx = db.begin().await.unwrap();
        reprice::reprice_calls(
            &mut tx,
            workflow_id,
            today - KEEP_DAYS + 1,
            today,
            (None, "test"),
            now,
        )
        .await
        .unwrap();
        drop(tx);

        // The trace of a sealed day's task says where its calls went.
        let task_id: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT id FROM tasks WHERE external_id = $1").bind(&old_task).fetch_one(pool).await.unwrap());
        let cookie = sign_in(&pruned.router, OWNER, PASSWORD).await;
        let trace = send(
            &pruned.router,
            page(&format!("/tasks/{task_id}"), Some(&cookie)),
        )
        .await;
        assert_eq!(trace.status, StatusCode::OK, "{backend}");
        assert!(
            trace.body.contains("calls were removed"),
            "{backend}: {}",
            trace.body
        );
        assert!(
            trace.body.contains(&format_day(today - KEEP_DAYS)),
            "{backend}"
        );
        assert!(
            !trace.body.contains("waterfall"),
            "{backend}: no empty call tables"
        );

        // A second pass finds nothing to do.
        let again = run_pass(db, KEEP_DAYS, now, 7).await.unwrap();
        assert_eq!(
            (again.sealed_days, again.calls_removed),
            (0, 0),
            "{backend}"
        );
    }
}
