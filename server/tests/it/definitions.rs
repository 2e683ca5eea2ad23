//! The definitions in docs/counting.md, each checked through ingestion and the read API on
//! SQLite and PostgreSQL: where a cache write's cost lands when calls cross midnight, what a
//! rejected call costs, and which team's rate and platform costs a task carries.

use crate::helpers::{api_get, app, test_databases, workflow_settings};
use crate::ingest::{catalog, post};
use app::db::{Db, identity, on_db, workflow};
use app::domain::Micros;
use app::model::{PlatformCost, Price};
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;

/// Claude Haiku at $1 in, $5 out, $0.10 cache read and $1.25 cache write per million tokens.
async fn haiku_price(db: &Db) {
    let price = Price {
        id: 0,
        provider: "anthropic".into(),
        model: "claude-haiku-4-5".into(),
        input_micros_per_mtok: 1_000_000,
        output_micros_per_mtok: 5_000_000,
        cache_read_micros_per_mtok: 100_000,
        cache_write_micros_per_mtok: 1_250_000,
        reasoning_micros_per_mtok: 5_000_000,
        audio_input_micros_per_mtok: None,
        image_input_micros_per_mtok: None,
        effective_from: 0,
        effective_to: None,
        source: "test".into(),
        checked_on: "2026-11-01".into(),
        created_at: 0,
    };
    let mut tx = db.begin().await.unwrap();
    app::db::price::insert_price(&mut tx, &price).await.unwrap();
    tx.commit().await.unwrap();
}

/// A completed support task started at `started` with one attempt, optionally booked to `team`.
fn task(id: &str, workflow: &str, started: &str, team: Option<&str>, review_seconds: i64) -> Value {
    let mut task = json!({"id": id, "workflow": workflow, "task_type": "ticket",
        "started_at": started, "finished_at": started, "status": "completed",
        "output": {"reply": "Done"}, "review_seconds": review_seconds});
    if let Some(team) = team {
        task["team"] = json!(team);
    }
    task
}

fn attempt(task: &str, workflow: &str, started: &str) -> Value {
    json!({"correlation_id": format!("{task}-a1"), "workflow": workflow, "task": task,
           "number": 1, "status": "succeeded", "started_at": started})
}

/// A Haiku call of `task`'s first attempt in `support-triage`; `extra` adds or overrides fields.
fn haiku_call(id: &str, task: &str, started: &str, extra: Value) -> Value {
    let mut call = json!({"id": id, "workflow": "support-triage", "correlation_id": format!("{task}-a1"),
        "kind": "model", "provider": "anthropic", "model": "claude-haiku-4-5",
        "started_at": started, "latency_ms": 800});
    for (field, value) in extra.as_object().unwrap() {
        call[field] = value.clone();
    }
    call
}

async fn ingest(router: &axum::Router, key: &str, body: Value) {
    let (status, answer) = post(router, key, "application/json", body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["rejected"], 0, "{answer}");
}

/// The read API's groups for November 2026, once the background refresh has caught up.
async fn november(db: &Db, router: &axum::Router, key: &str, group_by: &str) -> Vec<Value> {
    app::db::rollup::refresh_all_dirty(db).await.unwrap();
    let uri = format!("/api/v1/figures?group_by={group_by}&from=2026-11-01&to=2026-11-30");
    let (status, body) = api_get(router, &uri, key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    json["groups"].as_array().unwrap().clone()
}

fn group<'g>(groups: &'g [Value], key: &str) -> &'g Value {
    groups
        .iter()
        .find(|g| g["key"] == key || g["label"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {groups:?}"))
}

/// Each task's stored cost components: (model, cache, labour) by external id.
async fn task_costs(db: &Db) -> Vec<(String, i64, i64, i64)> {
    let sql = "SELECT external_id, model_cost_micros, cache_cost_micros, labour_cost_micros
               FROM tasks ORDER BY external_id";
    on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap()
}

#[tokio::test]
async fn a_call_after_midnight_shares_the_cache_writes_of_its_tasks_start_day() {
    for t in test_databases().await {
        catalog(&t.db).await;
        haiku_price(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        // Task a writes a cached prompt late on 2 November. Task b starts two minutes before
        // midnight and reads it at 00:05; task c starts after midnight and reads it too.
        let (a, b, c) = (
            "2026-11-02T23:50:00Z",
            "2026-11-02T23:58:00Z",
            "2026-11-03T00:10:00Z",
        );
        let body = json!({
            "tasks": [task("t-a", "support-triage", a, None, 0), task("t-b", "support-triage", b, None, 0),
                      task("t-c", "support-triage", c, None, 0)],
            "attempts": [attempt("t-a", "support-triage", a), attempt("t-b", "support-triage", b),
                         attempt("t-c", "support-triage", c)],
            "calls": [
                // 2,000 plain input, 8,000 written to the cache, 100 out: $0.0125, $0.01 of it the write.
                haiku_call("c-a", "t-a", a, json!({"input_tokens": 10_000, "cache_write_tokens": 8_000, "output_tokens": 100})),
                // 1,000 plain input, 8,000 read from the cache, 100 out: $0.0023, $0.0008 of it the read.
                haiku_call("c-b", "t-b", "2026-11-03T00:05:00Z", json!({"input_tokens": 9_000, "cache_read_tokens": 8_000, "output_tokens": 100})),
                haiku_call("c-c", "t-c", c, json!({"input_tokens": 9_000, "cache_read_tokens": 8_000, "output_tokens": 100})),
            ]
        });
        ingest(&router, &key, body).await;
        let by_day = november(&t.db, &router, &key, "day").await;
        assert_eq!(
            task_costs(&t.db).await,
            [
                ("t-a".into(), 2_500, 0, 0),
                ("t-b".into(), 1_500, 800 + 10_000, 0),
                ("t-c".into(), 1_500, 800, 0),
            ],
            "{}: b's read after midnight shares a's write, as b started on 2 November; c's does not",
            t.backend
        );
        let day = |d: &str| group(&by_day, d)["cost_micros"]["cache"].as_i64().unwrap();
        assert_eq!(
            (day("2026-11-02"), day("2026-11-03")),
            (10_800, 800),
            "{}",
            t.backend
        );
        let total: i64 = by_day
            .iter()
            .map(|g| g["total_cost_micros"].as_i64().unwrap())
            .sum();
        assert_eq!(
            total,
            12_500 + 2 * 2_300,
            "{}: amortisation moves money, never makes it",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_rejected_call_keeps_a_cost_it_reported_and_otherwise_costs_only_its_usage() {
    for t in test_databases().await {
        catalog(&t.db).await;
        haiku_price(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let at = "2026-11-10T09:00:00Z";
        let rejected = |extra: Value| {
            let mut extra = extra;
            extra["status"] = json!("rejected");
            extra["error_type"] = json!("rate_limited");
            extra
        };
        let body = json!({
            "tasks": [task("t-1", "support-triage", at, None, 0)],
            "attempts": [attempt("t-1", "support-triage", at)],
            "calls": [
                haiku_call("c-billed", "t-1", at, rejected(json!({"cost_usd": "0.015"}))),
                haiku_call("c-free", "t-1", at, rejected(json!({}))),
                haiku_call("c-read", "t-1", at, rejected(json!({"input_tokens": 1_000}))),
            ]
        });
        ingest(&router, &key, body).await;
        let sql = "SELECT external_id, cost_micros, cost_source FROM calls ORDER BY external_id";
        let calls: Vec<(String, i64, String)> =
            on_db!(&t.db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap();
        assert_eq!(
            calls,
            [
                ("c-billed".into(), 15_000, "reported".into()),
                ("c-free".into(), 0, "rejected".into()),
                ("c-read".into(), 1_000, "priced".into()),
            ],
            "{}",
            t.backend
        );
        let groups = november(&t.db, &router, &key, "workflow").await;
        assert_eq!(
            group(&groups, "Support triage")["total_cost_micros"],
            16_000,
            "{}: the reported $0.015 and the priced 1,000 input tokens count, nothing else",
            t.backend
        );
    }
}

#[tokio::test]
async fn review_time_is_priced_at_the_tasks_team_and_platform_cost_follows_the_workflows_team() {
    for t in test_databases().await {
        let mut tx = t.db.begin().await.unwrap();
        let mut workflows = Vec::new();
        for (team_slug, rate, workflow_slug, monthly) in [
            ("support", 30, "support-triage", 300),
            ("finance", 60, "invoice-clearing", 600),
        ] {
            let team =
                identity::insert_team(&mut tx, team_slug, team_slug, Micros(rate * 1_000_000), 0)
                    .await
                    .unwrap();
            let mut settings = workflow_settings(team, workflow_slug);
            settings.name = workflow_slug.into();
            let id = workflow::insert_workflow(&mut tx, &settings, 0)
                .await
                .unwrap();
            crate::helpers::add_ticket_type(&mut tx, id).await;
            let gateway = PlatformCost {
                id: 0,
                name: format!("{team_slug} gateway"),
                workflow_id: None,
                team_id: Some(team),
                monthly_micros: Micros(monthly * 1_000_000),
                effective_from: 0,
                effective_to: None,
                created_at: 0,
            };
            app::db::platform_cost::insert_platform_cost(&mut tx, &gateway)
                .await
                .unwrap();
            workflows.push(id);
        }
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let at = "2026-11-10T09:00:00Z";
        // Finance reviews one of Support's tickets for a minute; Support reviews another.
        let body = json!({
            "tasks": [task("t-1", "support-triage", at, Some("finance"), 60),
                      task("t-2", "support-triage", at, None, 60),
                      task("t-3", "invoice-clearing", at, None, 0)],
        });
        ingest(&router, &key, body).await;
        let groups = november(&t.db, &router, &key, "workflow").await;
        assert_eq!(
            task_costs(&t.db)
                .await
                .iter()
                .map(|(id, _, _, labour)| (id.as_str(), *labour))
                .collect::<Vec<_>>(),
            [("t-1", 1_000_000), ("t-2", 500_000), ("t-3", 0)],
            "{}: a minute at Finance's $60/hour, a minute at Support's $30/hour",
            t.backend
        );
        let costs = |name: &str| {
            let c = &group(&groups, name)["cost_micros"];
            (
                c["labour"].as_i64().unwrap(),
                c["platform"].as_i64().unwrap(),
            )
        };
        assert_eq!(
            costs("support-triage"),
            (1_500_000, 300_000_000),
            "{}: Support's workflow carries Support's whole gateway, though Finance did a task",
            t.backend
        );
        assert_eq!(
            costs("invoice-clearing"),
            (0, 600_000_000),
            "{}: Finance's gateway stays with the workflow Finance owns",
            t.backend
        );
        // By the task's team, Finance's ticket in Support's workflow brings that workflow's
        // platform share (one of its two decided tasks) and Finance's review rate with it.
        let by_team = november(&t.db, &router, &key, "team").await;
        let costs = |name: &str| {
            let c = &group(&by_team, name)["cost_micros"];
            (
                c["labour"].as_i64().unwrap(),
                c["platform"].as_i64().unwrap(),
            )
        };
        assert_eq!(
            costs("finance"),
            (1_000_000, 150_000_000 + 600_000_000),
            "{}",
            t.backend
        );
        assert_eq!(costs("support"), (500_000, 150_000_000), "{}", t.backend);
    }
}
