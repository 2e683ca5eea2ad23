//! Defining success and grading samples through the real router: an owner defines a workflow,
//! a task type and its rule, previews the rule's effect and saves versions; reviewers grade
//! sampled tasks and the verdicts, labour cost and agreement follow.

use crate::helpers::{
    ADMIN, FINANCE, OWNER, PASSWORD, People, REVIEWER, Reply, api_get, app, enc, page, people,
    refusal, rpc, send, sign_in, test_databases,
};
use app::db::{Db, on_db};
use app::domain::time::{day_of, format_day};
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn ingest(router: &axum::Router, key: &str, body: Value) -> Value {
    let reply = send(router, crate::helpers::ingest_request(key, &body)).await;
    assert!(
        reply.status.is_success(),
        "{}: {}",
        reply.status,
        reply.body
    );
    serde_json::from_str(&reply.body).unwrap()
}

/// Completed tasks of `task_type` started `days_ago`, each with a reported $0.10 model call;
/// tasks whose number is in `without_priority` lack the "priority" field.
fn tasks(
    workflow: &str,
    task_type: &str,
    count: usize,
    without_priority: &[usize],
    days_ago: i64,
) -> Value {
    let day = format_day(day_of(app::db::now_ms()) - days_ago);
    let mut tasks = Vec::new();
    let mut attempts = Vec::new();
    let mut calls = Vec::new();
    for i in 0..count {
        let id = format!("{task_type}-{days_ago}-{i}");
        let output = if without_priority.contains(&i) {
            json!({"queue": "billing"})
        } else {
            json!({"queue": "billing", "priority": "high"})
        };
        tasks.push(json!({"id": id, "workflow": workflow, "task_type": task_type, "segment": "smb",
            "started_at": format!("{day}T09:00:00Z"), "finished_at": format!("{day}T09:01:00Z"),
            "status": "completed", "output": output, "input_summary": format!("Refund request {i}")}));
        attempts.push(
            json!({"correlation_id": format!("{id}-a1"), "workflow": workflow, "task": id,
            "number": 1, "status": "succeeded", "started_at": format!("{day}T09:00:00Z")}),
        );
        calls.push(json!({"id": format!("{id}-c1"), "workflow": workflow, "correlation_id": format!("{id}-a1"),
            "kind": "model", "provider": "anthropic", "model": "claude-haiku-4-5", "input_tokens": 900,
            "output_tokens": 120, "cost_usd": "0.10", "started_at": format!("{day}T09:00:10Z"), "latency_ms": 800}));
    }
    json!({"tasks": tasks, "attempts": attempts, "calls": calls})
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

async fn audit_actions(db: &Db) -> Vec<String> {
    let sql = "SELECT action FROM audit_log ORDER BY id";
    on_db!(db, pool => sqlx::query_scalar(sql).fetch_all(pool).await).unwrap()
}

async fn task_row(db: &Db, external_id: &str) -> (String, i64) {
    app::db::rollup::refresh_all_dirty(db).await.unwrap();
    let sql = "SELECT status, labour_cost_micros FROM tasks WHERE external_id = $1";
    on_db!(db, pool => sqlx::query_as(sql).bind(external_id).fetch_one(pool).await).unwrap()
}

fn workflow_form(id: i64, slug: &str, team: i64, sampling: &str, window: &str) -> String {
    format!(
        "id={id}&slug={slug}&name=Refunds&team_id={team}&description={}&budget=0.40&quality_target=90\
         &gate_window_days={window}&gate_min_sample=200&drift_tolerance=10&sampling_rate={sampling}\
         &second_grader_rate=100",
        enc("Refund requests from the help desk")
    )
}

fn task_type_form(workflow_id: i64) -> String {
    format!(
        "workflow_id={workflow_id}&id=0&slug=refund&name=Refund&user_goal={}&pass_condition={}\
         &review_method=both&segments={}",
        enc("The customer gets the refund they are owed"),
        enc("Routed to the billing queue with a priority"),
        enc("smb, enterprise")
    )
}

/// The owner's workflow with a task type, created through the server functions.
async fn refunds(router: &axum::Router, owner: &str, p: &People, sampling: &str) -> (i64, i64) {
    let reply = rpc(
        router,
        "save_workflow",
        &workflow_form(0, "refunds", p.team_a, sampling, "30"),
        owner,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(json_of(&reply), json!("refunds"));
    let detail = json_of(&rpc(router, "get_workflow", "slug=refunds", owner).await);
    let workflow_id = detail["settings"]["id"].as_i64().unwrap();
    let reply = rpc(
        router,
        "save_task_type",
        &task_type_form(workflow_id),
        owner,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    (workflow_id, json_of(&reply).as_i64().unwrap())
}

#[tokio::test]
async fn an_owner_defines_success_previews_a_draft_and_saves_versions() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let router = app(&t.db);
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let (workflow_id, task_type_id) = refunds(&router, &owner, &p, "0").await;

        // Settings are checked field by field, and only the owner's teams may be chosen.
        for (form, field) in [
            (
                workflow_form(0, "other", p.team_b, "5", "30"),
                "team_id: must be one of your teams",
            ),
            (
                workflow_form(0, "other", p.team_a, "5", "0"),
                "gate_window_days: must be a whole number from 1 to 365",
            ),
            (
                workflow_form(0, "refunds", p.team_a, "5", "30"),
                "slug: is taken by another workflow",
            ),
            (
                workflow_form(0, "other", p.team_a, "150", "30"),
                "sampling_rate: must be a percentage from 0 to 100",
            ),
        ] {
            let reply = rpc(&router, "save_workflow", &form, &owner).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
            assert!(
                refusal(&reply.body).contains(field),
                "{}: {}",
                t.backend,
                reply.body
            );
        }
        let reply = rpc(
            &router,
            "save_workflow",
            &workflow_form(p.workflow_b, "invoice-clearing", p.team_a, "5", "30"),
            &owner,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "another team's workflow: {}",
            reply.body
        );

        // Ten refunds from five days ago, three without a priority; no rule yet, so pending.
        let key = server::api::create_api_key(&t.db, "test", &[], None)
            .await
            .unwrap();
        ingest(&router, &key, tasks("refunds", "refund", 10, &[2, 5, 7], 5)).await;
        assert_eq!(task_row(&t.db, "refund-5-0").await.0, "pending");

        // A schema that is not a JSON Schema is refused before anything is saved.
        let bad = r#"{"kind":"schema_valid","schema":{"type":"bogus"}}"#;
        let reply = rpc(
            &router,
            "preview_rule",
            &format!("task_type_id={task_type_id}&definition={}", enc(bad)),
            &owner,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refusal(&reply.body).contains("definition: rule.schema is not a valid JSON Schema"),
            "{}",
            reply.body
        );

        // Version 1 applied to the last week: every task has a queue, so all ten succeed.
        let v1 = r#"{"kind":"fields_present","fields":["queue"]}"#;
        let from = format_day(day_of(app::db::now_ms()) - 7);
        let form = format!(
            "task_type_id={task_type_id}&definition={}&reevaluate_from={from}",
            enc(v1)
        );
        let reply = rpc(&router, "save_rule", &form, &owner).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let saved = json_of(&reply);
        assert_eq!(
            (
                saved["rule"]["version"].as_i64(),
                saved["reevaluated"].as_u64()
            ),
            (Some(1), Some(10))
        );
        assert_eq!(task_row(&t.db, "refund-5-2").await.0, "succeeded");

        // The draft also wants a priority: 7 of 10 would succeed, and CPST rises from
        // $1.00 / 10 to $1.00 / 7 (ten $0.10 calls, no review labour yet).
        let v2 = r#"{"kind":"all","rules":[{"kind":"fields_present","fields":["queue","priority"]},{"kind":"not_reopened_within","hours":1}]}"#;
        let reply = rpc(
            &router,
            "preview_rule",
            &format!("task_type_id={task_type_id}&definition={}", enc(v2)),
            &owner,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let preview = json_of(&reply);
        assert_eq!(preview["tasks"], 10);
        assert_eq!(
            (
                preview["now"]["succeeded"].as_u64(),
                preview["now"]["decided"].as_u64()
            ),
            (Some(10), Some(10))
        );
        assert_eq!(
            (
                preview["draft"]["succeeded"].as_u64(),
                preview["draft"]["decided"].as_u64()
            ),
            (Some(7), Some(10))
        );
        assert_eq!(
            preview["now"]["cpst"],
            json!({"Cost": 100_000}),
            "{preview}"
        );
        assert_eq!(
            preview["draft"]["cpst"],
            json!({"Cost": 142_857}),
            "{preview}"
        );
        assert_eq!(preview["changed"], 3);
        assert_eq!(preview["examples"][0]["external_id"], "refund-5-2");
        assert_eq!(
            preview["description"],
            "the output has non-empty \"queue\" and \"priority\", and it is not reopened within 1 hour of finishing"
        );
        // Previewing changed nothing.
        assert_eq!(task_row(&t.db, "refund-5-2").await.0, "succeeded");

        // Saved without a period, v2 takes effect now: measured tasks keep their verdicts.
        let reply = rpc(
            &router,
            "save_rule",
            &format!(
                "task_type_id={task_type_id}&definition={}&reevaluate_from=",
                enc(v2)
            ),
            &owner,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(json_of(&reply)["rule"]["version"], 2);
        assert_eq!(task_row(&t.db, "refund-5-2").await.0, "succeeded");
        // A period before the version in force is refused.
        let reply = rpc(
            &router,
            "save_rule",
            &format!(
                "task_type_id={task_type_id}&definition={}&reevaluate_from={from}",
                enc(v1)
            ),
            &owner,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refusal(&reply.body)
                .contains("reevaluate_from: must not be before the current version"),
            "{}",
            reply.body
        );

        // The workflow page shows the rule in words, its history and the new baseline.
        let html = send(&router, page("/workflows/refunds", Some(&owner))).await;
        assert_eq!(html.status, StatusCode::OK);
        assert!(
            html.body.contains("Refund rule v2"),
            "{}: no baseline",
            t.backend
        );
        assert!(html.body.contains("Earlier versions"));
        // The task type's words change in place, audited.
        let form = task_type_form(workflow_id)
            .replace("&id=0&", &format!("&id={task_type_id}&"))
            .replace("name=Refund&", "name=Refund+request&");
        let reply = rpc(&router, "save_task_type", &form, &owner).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let detail = json_of(&rpc(&router, "get_workflow", "slug=refunds", &owner).await);
        assert_eq!(detail["task_types"][0]["name"], "Refund request");
        assert_eq!(detail["task_types"][0]["segments"], "enterprise, smb");
        let actions = audit_actions(&t.db).await;
        for action in [
            "workflow.create",
            "task_type.create",
            "task_type.update",
            "rule.create",
            "rule.reevaluate",
        ] {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} not audited: {actions:?}"
            );
        }
        assert_eq!(actions.iter().filter(|a| *a == "rule.create").count(), 2);

        // Other roles: finance reads but does not define; a reviewer does neither.
        let finance = sign_in(&router, FINANCE, PASSWORD).await;
        let reviewer = sign_in(&router, REVIEWER, PASSWORD).await;
        let form = format!(
            "task_type_id={task_type_id}&definition={}&reevaluate_from=",
            enc(v1)
        );
        for cookie in [&finance, &reviewer] {
            let reply = rpc(&router, "save_rule", &form, cookie).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        }
        assert_eq!(
            rpc(&router, "get_workflow", "slug=refunds", &finance)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            rpc(&router, "get_workflow", "slug=refunds", &reviewer)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn reviewers_grade_sampled_tasks_and_verdicts_labour_and_agreement_follow() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let router = app(&t.db);
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let reviewer = sign_in(&router, REVIEWER, PASSWORD).await;
        // Every finished task sampled, and every sampled task graded twice.
        let (_, task_type_id) = refunds(&router, &owner, &p, "100").await;
        let rule = r#"{"kind":"fields_present","fields":["queue"]}"#;
        let from = format_day(day_of(app::db::now_ms()) - 7);
        let form = format!(
            "task_type_id={task_type_id}&definition={}&reevaluate_from={from}",
            enc(rule)
        );
        assert_eq!(
            rpc(&router, "save_rule", &form, &owner).await.status,
            StatusCode::OK
        );
        let key = server::api::create_api_key(&t.db, "test", &[], None)
            .await
            .unwrap();
        let batch = tasks("refunds", "refund", 3, &[], 1);
        ingest(&router, &key, batch.clone()).await;
        // Re-sending the batch does not sample again.
        ingest(&router, &key, batch).await;
        let queued: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM review_queue").fetch_one(pool).await).unwrap();
        assert_eq!(queued, 6, "{}: three tasks, two slots each", t.backend);
        assert_eq!(
            task_row(&t.db, "refund-1-0").await,
            ("succeeded".to_owned(), 0)
        );

        // Grades that contradict themselves or lack minutes are refused by field.
        let slot = json_of(&rpc(&router, "next_review", "", &reviewer).await);
        let item = slot["task"]["item_id"].as_i64().unwrap();
        let first_task = slot["task"]["external_id"].as_str().unwrap().to_owned();
        assert_eq!(slot["task"]["rule"], "the output has a non-empty \"queue\"");
        for (form, field) in [
            (
                "verdict=pass&edit_severity=factual&minutes=3&note=",
                "edit_severity",
            ),
            (
                "verdict=assisted&edit_severity=factual&minutes=abc&note=",
                "minutes",
            ),
            (
                "verdict=great&edit_severity=none&minutes=1&note=",
                "verdict",
            ),
        ] {
            let reply = rpc(
                &router,
                "submit_grade",
                &format!("item_id={item}&{form}"),
                &reviewer,
            )
            .await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
            assert!(
                refusal(&reply.body).starts_with(&format!("{field}: ")),
                "{}",
                reply.body
            );
        }
        // The owner cannot grade the item the reviewer holds.
        let reply = rpc(
            &router,
            "submit_grade",
            &format!("item_id={item}&verdict=pass&edit_severity=none&minutes=1&note="),
            &owner,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("another reviewer"), "{}", reply.body);

        // Assisted after 3 minutes: not a success, and 3 minutes at $40/hour is $2 of labour.
        let reply = rpc(
            &router,
            "submit_grade",
            &format!(
                "item_id={item}&verdict=assisted&edit_severity=factual&minutes=3&note={}",
                enc("wrong refund amount")
            ),
            &reviewer,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            task_row(&t.db, &first_task).await,
            ("assisted".to_owned(), 2_000_000)
        );
        // The figures follow at once: 2 successes left, and ($0.30 of calls + $2.00 of review)
        // / 2 = $1.15 per successful task.
        let (status, figures) =
            api_get(&router, "/api/v1/figures?workflow=refunds&days=7", &key).await;
        assert_eq!(status, StatusCode::OK, "{figures}");
        let figures: Value = serde_json::from_str(&figures).unwrap();
        assert_eq!(figures["groups"][0]["tasks"]["succeeded"], 2, "{figures}");
        assert_eq!(figures["groups"][0]["tasks"]["assisted"], 1);
        assert_eq!(figures["groups"][0]["cpst_micros"], 1_150_000, "{figures}");
        let next = json_of(&reply);
        assert_ne!(
            next["task"]["external_id"], first_task,
            "the next task comes with the answer"
        );
        assert_eq!(next["graded_today"], 1);

        // Skip one, grade the last; then nothing is left for this reviewer, though the second
        // slots of the same tasks wait for someone else.
        let skipped = next["task"]["item_id"].as_i64().unwrap();
        let next = json_of(
            &rpc(
                &router,
                "skip_review",
                &format!("item_id={skipped}"),
                &reviewer,
            )
            .await,
        );
        let item = next["task"]["item_id"].as_i64().unwrap();
        assert_ne!(item, skipped);
        let reply = rpc(
            &router,
            "submit_grade",
            &format!("item_id={item}&verdict=pass&edit_severity=cosmetic&minutes=1.5&note="),
            &reviewer,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            json_of(&reply)["task"],
            Value::Null,
            "{}: a reviewer never sees a task twice",
            t.backend
        );

        // The owner takes the skipped first slot and the second slots of the two tasks the
        // reviewer graded, but not the second slot of a task they graded themselves; where they
        // disagree with the reviewer the agreement view lists it.
        let mut graded = 0;
        let mut slot = json_of(&rpc(&router, "next_review", "", &owner).await);
        while let Some(item) = slot["task"]["item_id"].as_i64() {
            let reply = rpc(
                &router,
                "submit_grade",
                &format!("item_id={item}&verdict=pass&edit_severity=none&minutes=2&note=fine"),
                &owner,
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            slot = json_of(&reply);
            graded += 1;
        }
        assert_eq!(
            graded, 3,
            "{}: 1 skipped first slot + 2 second slots",
            t.backend
        );
        // The reviewer's grade came first, so it decides; the owner's second opinion does not.
        assert_eq!(task_row(&t.db, &first_task).await.0, "assisted");

        let detail = json_of(&rpc(&router, "get_workflow", "slug=refunds", &owner).await);
        let agreement = &detail["agreement"];
        assert_eq!(agreement["overall"]["pairs"], 2, "{agreement}");
        assert_eq!(agreement["overall"]["agreed"], 1);
        assert_eq!(
            agreement["disagreements"][0]["external_id"],
            first_task.as_str()
        );
        assert!(
            agreement["disagreements"][0]["notes"]
                .as_str()
                .unwrap()
                .contains("wrong refund amount")
        );
        let health = &detail["health"];
        assert_eq!(health["waiting"], 1, "a third person's second opinion");
        assert_eq!(health["graded_per_day"][6][1], 5, "{health}");
        assert_eq!(health["task_types"][0]["graded"], 3);
        assert_eq!(health["task_types"][0]["enough"], false);

        // Owners can add tasks to the queue on purpose; it is audited.
        let reply = rpc(
            &router,
            "force_review",
            &format!(
                "workflow_id={}&days=7&escalation_reason=&status=",
                p.workflow_a
            ),
            &owner,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(
            audit_actions(&t.db)
                .await
                .iter()
                .any(|a| a == "queue.force")
        );
        // Finance does not grade.
        let finance = sign_in(&router, FINANCE, PASSWORD).await;
        assert_eq!(
            rpc(&router, "next_review", "", &finance).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_price_book_is_changed_only_by_those_allowed_and_reprices_on_request() {
    for t in test_databases().await {
        people(&t.db).await;
        let router = app(&t.db);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let finance = sign_in(&router, FINANCE, PASSWORD).await;
        let day = format_day(day_of(app::db::now_ms()) - 3);
        let form = |input: &str, reprice: bool| {
            format!(
                "provider=openai&model=gpt-4.1-mini&input={input}&output=1.60&cache_read=0.10&cache_write=0\
                 &reasoning=0&from_day={day}&source={}&checked_on=2026-11-24{}",
                enc("https://openai.com/api/pricing"),
                if reprice { "&reprice=on" } else { "" }
            )
        };
        let reply = rpc(&router, "add_price", &form("0.40", false), &finance).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        let reply = rpc(&router, "add_price", &form("-1", false), &admin).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refusal(&reply.body).starts_with("input: "),
            "{}",
            reply.body
        );
        let reply = rpc(&router, "add_price", &form("0.40", true), &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let reply = rpc(&router, "add_price", &form("0.30", false), &admin).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "same first day twice"
        );
        let prices = json_of(&rpc(&router, "list_prices", "", &finance).await);
        let added: Vec<&Value> = prices["prices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["model"] == "gpt-4.1-mini" && p["from_day"] == day.as_str())
            .collect();
        assert_eq!(added.len(), 1, "{prices}");
        assert_eq!(added[0]["rates"][0], "0.40");
        assert_eq!(added[0]["source"], "https://openai.com/api/pricing");
        assert_eq!(prices["may_edit"], false);
        assert!(
            audit_actions(&t.db)
                .await
                .iter()
                .any(|a| a == "price.create")
        );
        let listed = send(&router, page("/prices", Some(&finance))).await;
        assert!(listed.body.contains("openai/gpt-4.1-mini"), "{}", t.backend);
    }
}

#[tokio::test]
async fn more_autonomy_needs_the_gate_and_every_task_has_a_trace() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let router = app(&t.db);
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        // A 7-day gate: at least 5 decided tasks, 50% target, $0.40 budget, 10% drift.
        let form = workflow_form(0, "refunds", p.team_a, "0", "7")
            .replace("gate_min_sample=200", "gate_min_sample=5")
            .replace("quality_target=90", "quality_target=50");
        assert_eq!(
            rpc(&router, "save_workflow", &form, &owner).await.status,
            StatusCode::OK
        );
        let detail = json_of(&rpc(&router, "get_workflow", "slug=refunds", &owner).await);
        let workflow_id = detail["settings"]["id"].as_i64().unwrap();
        let reply = rpc(
            &router,
            "save_task_type",
            &task_type_form(workflow_id),
            &owner,
        )
        .await;
        let task_type_id = json_of(&reply).as_i64().unwrap();
        let rule = r#"{"kind":"fields_present","fields":["queue"]}"#;
        let from = format_day(day_of(app::db::now_ms()) - 30);
        let form = format!(
            "task_type_id={task_type_id}&definition={}&reevaluate_from={from}",
            enc(rule)
        );
        assert_eq!(
            rpc(&router, "save_rule", &form, &owner).await.status,
            StatusCode::OK
        );
        let raise = format!(
            "workflow_id={workflow_id}&level=1&note={}",
            enc("proven for a month")
        );

        // Nothing measured yet: raising is refused with the evidence.
        let reply = rpc(&router, "set_autonomy_level", &raise, &owner).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refusal(&reply.body).starts_with(
                "level: more autonomy needs quality and cost proven: quality not proven"
            ),
            "{}",
            reply.body
        );

        // Ten tasks in this window and ten in the one before, all at $0.10: both halves proven.
        let key = server::api::create_api_key(&t.db, "test", &[], None)
            .await
            .unwrap();
        ingest(&router, &key, tasks("refunds", "refund", 10, &[], 2)).await;
        ingest(&router, &key, tasks("refunds", "refund", 10, &[], 9)).await;
        app::db::rollup::refresh_all_dirty(&t.db).await.unwrap();
        let gate = json_of(&rpc(&router, "get_gate", "slug=refunds", &owner).await);
        assert_eq!(
            (
                gate["quality_proven"].as_bool(),
                gate["cost_proven"].as_bool()
            ),
            (Some(true), Some(true)),
            "{gate}"
        );
        let reply = rpc(&router, "set_autonomy_level", &raise, &owner).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let gate = json_of(&rpc(&router, "get_gate", "slug=refunds", &owner).await);
        assert_eq!(gate["level"], 1);
        assert_eq!(gate["changes"][0]["note"], "proven for a month");
        assert_eq!(
            gate["history"][0]["decided"], 10,
            "the evaluation is kept with the change"
        );
        assert!(
            audit_actions(&t.db)
                .await
                .iter()
                .any(|a| a == "autonomy.change")
        );
        // Lowering is always allowed; finance may not change levels.
        let lower = format!("workflow_id={workflow_id}&level=0&note=");
        let finance = sign_in(&router, FINANCE, PASSWORD).await;
        assert_eq!(
            rpc(&router, "set_autonomy_level", &lower, &finance)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            rpc(&router, "set_autonomy_level", &lower, &owner)
                .await
                .status,
            StatusCode::OK
        );
        // The daily record adds one evaluation per workflow per day, once.
        assert_eq!(
            app::service::gate::record_daily(&t.db, app::db::now_ms())
                .await
                .unwrap(),
            2,
            "the two workflows without one today"
        );
        assert_eq!(
            app::service::gate::record_daily(&t.db, app::db::now_ms())
                .await
                .unwrap(),
            0
        );

        // The overview states each workflow's last gate judgement.
        let overview = json_of(&rpc(&router, "get_overview", "days=30", &finance).await);
        let gate = overview["gates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["workflow_id"] == workflow_id)
            .cloned();
        assert_eq!(
            gate.map(|g| g["passes"].clone()),
            Some(json!(true)),
            "{overview}"
        );

        // The workflow's unit economics: 20 tasks at $0.10, all successes, no failure tax.
        let detail = json_of(&rpc(&router, "get_workflow", "slug=refunds", &finance).await);
        let economics = &detail["economics"];
        assert_eq!(economics["all"]["decided"], 20, "{economics}");
        assert_eq!(economics["all"]["cpst"], json!({"Cost": 100_000}));
        assert_eq!(economics["all"]["total"], 2_000_000);
        assert_eq!(economics["components"][0], json!(["Model", 2_000_000, 1.0]));
        assert_eq!(economics["by_task_type"][0]["filter"], "task_type=refund");
        assert_eq!(economics["by_segment"][0]["decided"], 20);
        // And as an engineer reads it: one $0.10 call of 1,020 tokens per task, no retries.
        let health = &detail["health_30d"];
        assert_eq!(health["calls_per_task"], 1.0, "{health}");
        assert_eq!(health["tokens_per_task"], 1020.0);
        assert_eq!(health["retry_rate"], 0.0);
        assert_eq!(health["cost_per_task"], json!([100_000, 100_000, 100_000]));
        assert_eq!(health["costliest"].as_array().unwrap().len(), 10);
        assert_eq!(
            health["steps"][0],
            json!(["", "anthropic/claude-haiku-4-5", 20, 0.0, 2_000_000, 800])
        );

        // The task list behind the figures, and its export with the same filters.
        let list = json_of(
            &rpc(
                &router,
                "list_tasks",
                "query[workflow]=refunds&query[status]=succeeded&query[sort]=oldest",
                &finance,
            )
            .await,
        );
        assert_eq!(list["total"], 20, "{list}");
        assert_eq!(list["rows"][0]["external_id"], "refund-9-0", "oldest first");
        assert_eq!(list["rows"][0]["cost"], "$0.10");
        let narrow = json_of(
            &rpc(
                &router,
                "list_tasks",
                &format!(
                    "query[workflow]=refunds&query[from]={}",
                    format_day(day_of(app::db::now_ms()) - 3)
                ),
                &finance,
            )
            .await,
        );
        assert_eq!(narrow["total"], 10);
        let reply = rpc(
            &router,
            "list_tasks",
            "query[workflow]=refunds&query[sort]=sideways",
            &finance,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refusal(&reply.body).starts_with("sort: must be one of"),
            "{}",
            reply.body
        );
        let csv = send(
            &router,
            page(
                "/export/tasks.csv?workflow=refunds&status=succeeded&sort=oldest",
                Some(&finance),
            ),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines.len(), 21, "a header and the 20 rows the list counts");
        assert!(lines[0].starts_with("task_id,workflow,task_type"));
        assert!(
            lines[1].starts_with("refund-9-0,Refunds,Refund,smb,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains(",0.10,1,1,1020,"),
            "exact dollars: {}",
            lines[1]
        );
        let reviewer = sign_in(&router, REVIEWER, PASSWORD).await;
        assert_eq!(
            send(&router, page("/export/tasks.csv", Some(&reviewer)))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&router, page("/tasks?workflow=refunds", Some(&finance)))
                .await
                .status,
            StatusCode::OK
        );

        // Two configuration versions side by side: the same tasks re-sent with their version.
        for (days_ago, version) in [(9, "v1"), (2, "v2")] {
            let mut batch = tasks("refunds", "refund", 10, &[], days_ago);
            for task in batch["tasks"].as_array_mut().unwrap() {
                task["version"] = json!(version);
            }
            ingest(&router, &key, batch).await;
        }
        app::db::rollup::refresh_all_dirty(&t.db).await.unwrap();
        let compared = json_of(
            &rpc(
                &router,
                "compare_versions",
                "slug=refunds&baseline=&candidate=&days=30",
                &finance,
            )
            .await,
        );
        assert_eq!(
            (
                compared["baseline"].as_str(),
                compared["candidate"].as_str()
            ),
            (Some("v1"), Some("v2")),
            "{compared}"
        );
        let comparison = &compared["comparison"];
        assert_eq!(
            comparison["baseline"]["counts"]["succeeded"], 10,
            "{comparison}"
        );
        assert_eq!(comparison["candidate"]["counts"]["succeeded"], 10);
        assert_eq!(comparison["cpst_change"], 0);
        assert_eq!(comparison["rate_change"]["significant"], false);
        let reply = rpc(
            &router,
            "compare_versions",
            "slug=refunds&baseline=v9&candidate=&days=30",
            &finance,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refusal(&reply.body).contains("baseline: 'refunds' has no version 'v9'"),
            "{}",
            reply.body
        );
        let html = send(
            &router,
            page(
                "/workflows/refunds/compare?baseline=v1&candidate=v2",
                Some(&finance),
            ),
        )
        .await;
        assert_eq!(html.status, StatusCode::OK);
        assert!(html.body.contains("within sampling noise"), "{}", t.backend);

        // The trace of one task: its call, cost and verdict, for those who read figures.
        let id: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT id FROM tasks WHERE external_id = 'refund-2-3'").fetch_one(pool).await).unwrap();
        let trace = json_of(&rpc(&router, "get_task_trace", &format!("id={id}"), &finance).await);
        assert_eq!(trace["status"], "Succeeded");
        let cost = &trace["attempts"][0]["calls"][0]["cost"];
        assert_eq!(cost, &json!({"amount": "$0.10", "source": "reported"}));
        assert_eq!(trace["costs"][5], json!(["Total", "$0.10"]));
        assert!(
            trace["rule"]
                .as_str()
                .unwrap()
                .starts_with("v1: succeeds when"),
            "{trace}"
        );
        let html = send(&router, page(&format!("/tasks/{id}"), Some(&finance))).await;
        assert_eq!(html.status, StatusCode::OK);
        assert!(html.body.contains("refund-2-3") && html.body.contains("Timeline"));
        assert_eq!(
            send(&router, page(&format!("/tasks/{id}"), Some(&reviewer)))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            rpc(&router, "get_task_trace", "id=999999", &finance)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}
