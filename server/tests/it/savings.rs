//! Savings against the human baseline: set on a task type (versioned and audited), counted
//! from the succeeded work at the team's loaded rate against every AI cost, shown on the
//! overview and in the read API, and kept for history when the baseline changes; both backends.

use crate::helpers::{
    OWNER, PASSWORD, api_get, app, enc, page, people, refusal, rpc, send, sign_in, test_databases,
};
use crate::ingest::post;
use app::db::{Db, on_db, workflow};
use app::domain::rule::Rule;
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::api::create_api_key;

fn task_type_form(workflow_id: i64, id: i64, minutes: &str, reference: &str) -> String {
    format!(
        "workflow_id={workflow_id}&id={id}&slug=ticket&name=Ticket&user_goal={}&pass_condition={}\
         &review_method=automatic&segments=&baseline_minutes={}&baseline_source={}&baseline_reference={}",
        enc("Answer the customer"),
        enc("A reply is present"),
        enc(minutes),
        enc("time study, October 2026"),
        enc(reference)
    )
}

async fn ticket_type(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar("SELECT id FROM task_types WHERE slug = 'ticket'")
        .fetch_one(pool).await.unwrap())
}

/// Ten tickets that succeed and two that fail on 2026-11-10, each one call reporting $0.10.
async fn tickets(router: &axum::Router, key: &str) {
    let mut tasks = Vec::new();
    let mut attempts = Vec::new();
    let mut calls = Vec::new();
    for i in 0..12 {
        let id = format!("t-{i}");
        let status = if i < 10 { "completed" } else { "failed" };
        tasks.push(
            json!({"id": id, "workflow": "support-triage", "task_type": "ticket",
            "started_at": "2026-11-10T10:00:00Z", "finished_at": "2026-11-10T10:01:00Z",
            "status": status, "output": {"reply": "Done"}}),
        );
        attempts.push(json!({"correlation_id": id, "workflow": "support-triage", "task": id,
            "status": if i < 10 { "succeeded" } else { "failed" }, "started_at": "2026-11-10T10:00:00Z"}));
        calls.push(
            json!({"id": format!("c-{i}"), "workflow": "support-triage", "correlation_id": id,
            "kind": "model", "provider": "anthropic", "model": "claude-haiku-4-5",
            "cost_usd": "0.10", "started_at": "2026-11-10T10:00:10Z"}),
        );
    }
    let batch = json!({"tasks": tasks, "attempts": attempts, "calls": calls});
    let (status, answer) = post(router, key, "application/json", batch.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test]
async fn savings_count_the_succeeded_work_at_the_baseline_against_every_ai_cost() {
    for t in test_databases().await {
        let who = people(&t.db).await;
        let router = app(&t.db);
        let owner = sign_in(&router, OWNER, PASSWORD).await;

        // A baseline that is not a number, or a reference without minutes, is refused by name.
        let refused = rpc(
            &router,
            "save_task_type",
            &task_type_form(who.workflow_a, 0, "six", ""),
            &owner,
        )
        .await;
        assert_eq!(
            refusal(&refused.body).split(':').next(),
            Some("baseline_minutes"),
            "{}",
            refused.body
        );
        let refused = rpc(
            &router,
            "save_task_type",
            &task_type_form(who.workflow_a, 0, "", "0.99"),
            &owner,
        )
        .await;
        assert_eq!(
            refusal(&refused.body).split(':').next(),
            Some("baseline_reference"),
            "{}",
            refused.body
        );

        // Six minutes a ticket, $0.99 per resolution from an outcome-priced vendor.
        let saved = rpc(
            &router,
            "save_task_type",
            &task_type_form(who.workflow_a, 0, "6", "0.99"),
            &owner,
        )
        .await;
        assert!(saved.status.is_success(), "{}", saved.body);
        let ticket = ticket_type(&t.db).await;
        let rule = Rule::FieldsPresent {
            fields: vec!["reply".into()],
        };
        let mut tx = t.db.begin().await.unwrap();
        workflow::insert_success_rule(&mut tx, ticket, &rule.to_json(), 0, None, 0)
            .await
            .unwrap();
        // The baseline in force from before the tickets' day, as if set then.
        sqlx_update_baseline_start(&mut tx).await;
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "support", &[], None).await.unwrap();
        tickets(&router, &key).await;
        app::db::rollup::refresh_all_dirty(&t.db).await.unwrap();

        let figures = async || {
            let (status, body) = api_get(
                &router,
                "/api/v1/figures?from=2026-11-01&to=2026-11-30&group_by=workflow",
                &key,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()
        };
        let answer = figures().await;
        let group = answer["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["label"] == "Support triage")
            .unwrap()
            .clone();
        let savings = &group["savings"];
        // 10 × 6 minutes = one hour at the team's $40 an hour, against 12 × $0.10 of AI work
        // (the failed tickets included).
        assert_eq!(savings["covered"], true, "{}: {group}", t.backend);
        assert_eq!(savings["human_seconds"], 3_600, "{}", t.backend);
        assert_eq!(
            savings["human_equivalent_micros"], 40_000_000,
            "{}",
            t.backend
        );
        assert_eq!(savings["ai_cost_micros"], 1_200_000, "{}", t.backend);
        assert_eq!(savings["net_savings_micros"], 38_800_000, "{}", t.backend);
        assert_eq!(
            savings["reference_equivalent_micros"], 9_900_000,
            "{}",
            t.backend
        );
        assert_eq!(savings["sources"], json!(["time study, October 2026"]));
        assert_eq!(answer["total"]["savings"]["net_savings_micros"], 38_800_000);

        // A new baseline takes effect from now: November keeps its figures.
        let changed = rpc(
            &router,
            "save_task_type",
            &task_type_form(who.workflow_a, ticket, "3", "0.99"),
            &owner,
        )
        .await;
        assert!(changed.status.is_success(), "{}", changed.body);
        assert_eq!(
            figures().await["groups"],
            answer["groups"],
            "{}: history keeps its figures",
            t.backend
        );
        let audited: Vec<String> = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT after FROM audit_log WHERE action = 'task_type.baseline' ORDER BY id").fetch_all(pool).await.unwrap());
        assert_eq!(audited.len(), 2, "{}", t.backend);
        assert!(audited[1].starts_with("v2 from"), "{}", audited[1]);
        assert!(audited[1].contains("3 minutes a task"), "{}", audited[1]);

        // The overview shows the net savings and what they rest on.
        let overview = send(
            &router,
            page("/?from=2026-11-01&to=2026-11-30", Some(&owner)),
        )
        .await;
        assert!(overview.body.contains("+$38.80"), "{}", t.backend);
        assert!(
            overview
                .body
                .contains("Baselines from: time study, October 2026."),
            "{}",
            t.backend
        );
    }
}

/// Moves every baseline's start to the Unix epoch, so that it covers the test's past days.
async fn sqlx_update_baseline_start(tx: &mut app::db::Tx) {
    app::db::execute!(
        tx,
        sqlx::query("UPDATE human_baselines SET effective_from = 0")
    )
    .unwrap();
}
