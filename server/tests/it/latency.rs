//! A workflow's latency budget on the models page and in the read API: the cheaper model whose
//! p95 task time breaks the budget is marked and never named the cheapest that meets the bar;
//! when every model breaks it, none is named.

use crate::helpers::{
    OWNER, PASSWORD, api_get, app, enc, people, refusal, rpc, send, sign_in, test_databases,
};
use crate::ingest::post;
use app::db::rollup;
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;

/// `n` succeeded tasks of `support-triage` on `model`, each taking `seconds` to `seconds` + 2
/// and costing `cost` dollars in one model call, on `day`.
fn tasks(prefix: &str, n: usize, model: &str, seconds: i64, cost: &str, day: i64) -> Value {
    let mut tasks = Vec::new();
    let mut attempts = Vec::new();
    let mut calls = Vec::new();
    for i in 0..n {
        let id = format!("{prefix}-{i}");
        let start = day * 86_400_000 + 9 * 3_600_000 + i as i64 * 60_000;
        let finish = start + (seconds + i as i64 % 3) * 1_000;
        tasks.push(
            json!({"id": id, "workflow": "support-triage", "task_type": "ticket",
            "started_at": start, "finished_at": finish, "status": "completed",
            "output": {"reply": "Done"}}),
        );
        attempts.push(
            json!({"correlation_id": format!("{id}-a1"), "workflow": "support-triage",
            "task": id, "number": 1, "status": "succeeded", "started_at": start}),
        );
        calls.push(
            json!({"id": format!("{id}-c"), "workflow": "support-triage",
            "correlation_id": format!("{id}-a1"), "kind": "model", "provider": "anthropic",
            "model": model, "input_tokens": 1000, "output_tokens": 100, "cost_usd": cost,
            "started_at": start}),
        );
    }
    json!({"tasks": tasks, "attempts": attempts, "calls": calls})
}

fn settings_form(workflow_id: i64, team_id: i64, latency_budget: &str) -> String {
    format!(
        "id={workflow_id}&slug=support-triage&name=Support+triage&team_id={team_id}&description=&budget=1.00\
         &quality_target=90&gate_window_days=30&gate_min_sample=10&drift_tolerance=10&sampling_rate=0\
         &second_grader_rate=0&latency_budget={}",
        enc(latency_budget)
    )
}

#[tokio::test]
async fn a_model_over_the_latency_budget_is_never_named_the_cheapest() {
    for t in test_databases().await {
        let people = people(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        crate::helpers::add_ticket_type(&mut tx, people.workflow_a).await;
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let day = app::domain::time::day_of(app::db::now_ms()) - 1;
        // Haiku is cheaper per finished task but takes about 40 s; Sonnet takes about 6 s.
        for batch in [
            tasks("slow", 40, "claude-haiku-4-5", 40, "0.002", day),
            tasks("fast", 40, "claude-sonnet-4-5", 6, "0.010", day),
        ] {
            let (status, answer) = post(&router, &key, "application/json", batch.to_string()).await;
            assert_eq!(status, StatusCode::OK, "{}: {answer}", t.backend);
        }
        rollup::refresh_all_dirty(&t.db).await.unwrap();
        let models = |router: axum::Router, key: String| async move {
            let (status, body) = api_get(&router, "/api/v1/models?days=7", &key).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()
        };
        let winner = |found: &Value| found["winners"][0].clone();
        let found = models(router.clone(), key.clone()).await;
        assert_eq!(
            winner(&found)["model"],
            "anthropic/claude-haiku-4-5",
            "{}: {found}",
            t.backend
        );
        assert_eq!(winner(&found)["latency_budget_ms"], Value::Null);

        // The owner sets an 8 s budget; a budget that is not a number of seconds is refused by name.
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let refused = rpc(
            &router,
            "save_workflow",
            &settings_form(people.workflow_a, people.team_a, "eight"),
            &owner,
        )
        .await;
        assert!(refused.status.is_client_error(), "{}", refused.body);
        assert!(
            refusal(&refused.body).contains("latency_budget"),
            "{}",
            refused.body
        );
        let saved = rpc(
            &router,
            "save_workflow",
            &settings_form(people.workflow_a, people.team_a, "8"),
            &owner,
        )
        .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

        let found = models(router.clone(), key.clone()).await;
        let w = winner(&found);
        assert_eq!(
            w["model"], "anthropic/claude-sonnet-4-5",
            "{}: {found}",
            t.backend
        );
        assert_eq!(w["latency_budget_ms"], 8_000);
        assert_eq!(
            w["over_latency_budget"],
            json!(["anthropic/claude-haiku-4-5"])
        );
        let uses: Vec<(String, i64, bool)> = found["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let u = &m["workflows"][0];
                (
                    m["model"].as_str().unwrap().to_owned(),
                    u["p95_task_ms"].as_i64().unwrap(),
                    u["over_latency_budget"].as_bool().unwrap(),
                )
            })
            .collect();
        for (model, p95, over) in &uses {
            // Durations are 40-42 s and 6-8 s; buckets read within 2.5%.
            let exact = if model.ends_with("haiku-4-5") {
                42_000
            } else {
                8_000
            };
            assert!(
                (p95 - exact).abs() * 40 <= exact,
                "{}: {model} p95 {p95}",
                t.backend
            );
            assert_eq!(
                *over,
                model.ends_with("haiku-4-5"),
                "{}: {model}",
                t.backend
            );
        }

        // The page says the same, in words.
        let page = send(
            &router,
            crate::helpers::page("/models?days=7", Some(&owner)),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("p95 at most 8 s"), "{}", t.backend);
        assert!(
            page.body.contains("ruled out: anthropic/claude-haiku-4-5"),
            "{}",
            t.backend
        );
        assert!(page.body.contains("over budget"), "{}", t.backend);

        // A budget no model keeps names none.
        let saved = rpc(
            &router,
            "save_workflow",
            &settings_form(people.workflow_a, people.team_a, "2.5"),
            &owner,
        )
        .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        let found = models(router.clone(), key.clone()).await;
        let w = winner(&found);
        assert_eq!(w["model"], Value::Null, "{}: {found}", t.backend);
        assert_eq!(
            w["over_latency_budget"],
            json!(["anthropic/claude-haiku-4-5", "anthropic/claude-sonnet-4-5"])
        );
        let page = send(
            &router,
            crate::helpers::page("/models?days=7", Some(&owner)),
        )
        .await;
        assert!(
            page.body.contains("no model within the latency budget"),
            "{}",
            t.backend
        );
    }
}
