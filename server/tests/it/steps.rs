//! The call-level levers in `GET /api/v1/levers` and on the workflow page agree with a
//! recomputation from the raw calls: retrieval per task and success by retrieval volume, input
//! tokens per model call by step, and where failed attempts spent; both backends.

use crate::helpers::{OWNER, PASSWORD, api_get, app, page, people, send, sign_in};
use crate::helpers::{add_ticket_type, test_databases};
use crate::ingest::post;
use app::db::{on_db, rollup};
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;
use std::collections::BTreeMap;

/// 60 tickets yesterday. Ticket `i` makes `3 × (i mod 4)` retrieval calls then one drafter
/// call of `1,000 + 100 i` input tokens per attempt; every fifth fails after two attempts,
/// every seventh of the rest succeeds on its second.
fn batch(day: i64) -> Value {
    let (mut tasks, mut attempts, mut calls) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..60_i64 {
        let id = format!("step-{i}");
        let start = day * 86_400_000 + 8 * 3_600_000 + i * 60_000;
        let (status, tries) = match (i % 5, i % 7) {
            (0, _) => ("failed", ["failed", "failed"].as_slice()),
            (_, 0) => ("completed", ["failed", "succeeded"].as_slice()),
            _ => ("completed", ["succeeded"].as_slice()),
        };
        let mut task = json!({"id": id, "workflow": "support-triage", "task_type": "ticket",
            "started_at": start, "finished_at": start + 30_000, "status": status});
        if status == "completed" {
            task["output"] = json!({"reply": "Done"});
        }
        tasks.push(task);
        for (n, outcome) in tries.iter().enumerate() {
            let correlation = format!("{id}-a{}", n + 1);
            let at = start + n as i64 * 1_000;
            attempts.push(
                json!({"correlation_id": correlation, "workflow": "support-triage",
                "task": id, "number": n + 1, "status": outcome, "started_at": at}),
            );
            for r in 0..3 * (i % 4) {
                calls.push(
                    json!({"id": format!("{correlation}-r{r}"), "workflow": "support-triage",
                    "correlation_id": correlation, "kind": "retrieval", "step": "retriever",
                    "output_tokens": 400, "cost_usd": "0.001", "started_at": at}),
                );
            }
            calls.push(
                json!({"id": format!("{correlation}-d"), "workflow": "support-triage",
                "correlation_id": correlation, "kind": "model", "step": "drafter",
                "provider": "anthropic", "model": "claude-haiku-4-5",
                "input_tokens": 1_000 + 100 * i, "output_tokens": 200, "cost_usd": "0.01",
                "started_at": at}),
            );
        }
    }
    json!({"tasks": tasks, "attempts": attempts, "calls": calls})
}

#[tokio::test]
async fn call_levers_agree_with_the_raw_calls() {
    for t in test_databases().await {
        let people = people(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        add_ticket_type(&mut tx, people.workflow_a).await;
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let today = app::domain::time::day_of(app::db::now_ms());
        let (status, answer) = post(
            &router,
            &key,
            "application/json",
            batch(today - 1).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        rollup::refresh_all_dirty(&t.db).await.unwrap();
        let (status, body) = api_get(&router, "/api/v1/levers?workflow=support-triage", &key).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.backend);
        let found: Value = serde_json::from_str(&body).unwrap();

        // The raw calls: (task, verdict, attempts, attempt number, kind, step, tokens, cost).
        type Raw = (i64, String, i64, i64, String, String, i64, i64, i64);
        let rows: Vec<Raw> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT t.id, t.status, (SELECT COUNT(*) FROM attempts x WHERE x.task_id = t.id),
                    a.number, c.kind, c.step, c.input_tokens, c.output_tokens, c.cost_micros
             FROM calls c JOIN attempts a ON a.id = c.attempt_id JOIN tasks t ON t.id = c.task_id
             WHERE t.workflow_id = $1")
            .bind(people.workflow_a)
            .fetch_all(pool)
            .await
            .unwrap());
        let mut per_task: BTreeMap<i64, (String, i64)> = BTreeMap::new();
        let mut retrieval = (0, 0, 0);
        let mut prompts = Vec::new();
        let mut failing: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
        for (task, status, attempts, number, kind, step, input, output, cost) in rows {
            let entry = per_task.entry(task).or_insert((status.clone(), 0));
            let failed = match status.as_str() {
                "succeeded" | "assisted" => number < attempts,
                _ => true,
            };
            let f = failing.entry((step, kind.clone())).or_default();
            f.0 += 1;
            if failed {
                f.1 += 1;
                f.2 += cost;
            }
            match kind.as_str() {
                "retrieval" => {
                    entry.1 += 1;
                    retrieval = (
                        retrieval.0 + 1,
                        retrieval.1 + input + output,
                        retrieval.2 + cost,
                    );
                }
                _ => prompts.push(input),
            }
        }
        let tasks = per_task.len() as f64;
        let r = &found["retrieval"];
        assert_eq!(r["decided_tasks"], 60, "{}: {r}", t.backend);
        assert_eq!(r["calls"], retrieval.0, "{}", t.backend);
        assert_eq!(r["tokens"], retrieval.1, "{}", t.backend);
        assert_eq!(r["cost_micros"], retrieval.2, "{}", t.backend);
        assert_eq!(
            r["calls_per_task"],
            retrieval.0 as f64 / tasks,
            "{}",
            t.backend
        );
        // Success by retrieval volume, band by band.
        for band in r["by_volume"].as_array().unwrap() {
            let (from, to) = (
                band["from"].as_i64().unwrap(),
                band["to"].as_i64().unwrap_or(i64::MAX),
            );
            let inside: Vec<&(String, i64)> = per_task
                .values()
                .filter(|(_, n)| (from..=to).contains(n))
                .collect();
            let won = inside.iter().filter(|(s, _)| s == "succeeded").count();
            assert_eq!(band["tasks"], inside.len(), "{}: {band}", t.backend);
            assert_eq!(
                band["success_rate"]["successes"], won,
                "{}: {band}",
                t.backend
            );
        }
        assert_eq!(
            r["by_volume"].as_array().unwrap().len(),
            4,
            "{}: {r}",
            t.backend
        );
        // Input tokens per drafter call: the nearest-rank median and p95, within a bucket.
        prompts.sort_unstable();
        let rank = |percent: usize| prompts[(percent * prompts.len()).div_ceil(100) - 1] as f64;
        let drafter = &found["prompt_sizes"][0];
        assert_eq!(drafter["step"], "drafter", "{}", t.backend);
        assert_eq!(drafter["model_calls"], prompts.len(), "{}", t.backend);
        for (field, expected) in [
            ("median_input_tokens", rank(50)),
            ("p95_input_tokens", rank(95)),
        ] {
            let shown = drafter[field].as_f64().unwrap();
            assert!(
                (shown - expected).abs() <= expected * 0.025,
                "{}: {field} {shown} vs {expected}",
                t.backend
            );
        }
        // Where failed attempts spent, costliest first.
        let steps: Vec<(String, String, i64, i64)> = found["failing_steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["step"].as_str().unwrap().to_owned(),
                    s["kind"].as_str().unwrap().to_owned(),
                    s["failed_calls"].as_i64().unwrap(),
                    s["failed_cost_micros"].as_i64().unwrap(),
                )
            })
            .collect();
        let mut expected: Vec<(String, String, i64, i64)> = failing
            .into_iter()
            .filter(|(_, f)| f.1 > 0)
            .map(|((step, kind), f)| (step, kind, f.1, f.2))
            .collect();
        expected.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
        assert_eq!(steps, expected, "{}", t.backend);

        // The workflow page shows the same tables.
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let shown = send(&router, page("/workflows/support-triage", Some(&owner))).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", t.backend);
        for id in ["retrieval-volume", "prompt-sizes", "failing-steps"] {
            assert!(
                shown.body.contains(&format!("id=\"{id}\"")),
                "{}: {id}",
                t.backend
            );
        }
        let cost = app::domain::Micros(expected[0].3).to_string();
        assert!(shown.body.contains(&cost), "{}: {cost}", t.backend);
    }
}
