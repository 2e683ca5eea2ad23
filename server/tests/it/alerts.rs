//! Alerts end to end on both backends: rules made through the real server functions, the
//! evaluation pass over ingested data (fires when it should, not on too few tasks, once,
//! resolves, fires again), the cause named from a constructed before/after, the pages, the read
//! API and the CSV, and webhooks delivered to a real HTTP receiver: signed, retried after a 500
//! and a timeout, never sent twice, refused for internal addresses unless allowed.

use crate::helpers::{
    FINANCE, OWNER, PASSWORD, People, REVIEWER, api_get, enc, page, people, refusal, rpc, send,
    sign_in, state, test_databases,
};
use app::db::{Db, alert};
use app::domain::time::{day_of, format_day};
use app::service::alerts::WebhookPolicy;
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::alerts::{Channels, Smtp};
use std::sync::{Arc, Mutex};

const SITE: &str = "https://finishline.example.com";

/// A task type with a rule (a reply must be present) on workflow A.
async fn success_rule(db: &Db, workflow_id: i64) {
    use app::db::workflow;
    let mut tx = db.begin().await.unwrap();
    let task_type = workflow::NewTaskType {
        workflow_id,
        slug: "ticket",
        name: "Ticket",
        user_goal: "Answer",
        pass_condition: "A reply is drafted",
        review_method: app::domain::status::ReviewMethod::Automatic,
        segments: &[],
    };
    let id = workflow::insert_task_type(&mut tx, &task_type, 0)
        .await
        .unwrap();
    let rule = app::domain::rule::Rule::FieldsPresent {
        fields: vec!["reply".into()],
    };
    workflow::insert_success_rule(&mut tx, id, &rule.to_json(), 0, None, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// `per_day` tasks a day on each of `days_ago`, the `i`-th costing `cost_micros` plus a little
/// spread, failing when `i % fail_every == 0`, under `version` on `model`.
fn tasks(
    days_ago: std::ops::RangeInclusive<i64>,
    per_day: usize,
    cost_micros: i64,
    fail_every: usize,
    version: &str,
    model: &str,
) -> Vec<Value> {
    let today = day_of(app::db::now_ms());
    let mut batches = Vec::new();
    for ago in days_ago {
        let day = format_day(today - ago);
        let (mut tasks, mut attempts, mut calls) = (vec![], vec![], vec![]);
        for i in 0..per_day {
            let id = format!("{version}-{ago}-{i}");
            let failed = fail_every > 0 && i % fail_every == 0;
            let cost = cost_micros + (i as i64 % 5) * 2_000;
            tasks.push(
                json!({"id": id, "workflow": "support-triage", "task_type": "ticket",
                "version": version, "started_at": format!("{day}T00:10:00Z"),
                "finished_at": format!("{day}T00:11:00Z"),
                "status": if failed { "failed" } else { "completed" },
                "output": {"reply": "Done"}}),
            );
            attempts.push(
                json!({"correlation_id": format!("{id}-a1"), "workflow": "support-triage",
                "task": id, "number": 1, "status": if failed { "failed" } else { "succeeded" },
                "started_at": format!("{day}T00:10:00Z")}),
            );
            calls.push(
                json!({"id": format!("{id}-c1"), "workflow": "support-triage",
                "correlation_id": format!("{id}-a1"), "kind": "model", "provider": "anthropic",
                "model": model, "input_tokens": 900, "output_tokens": 120,
                "cost_usd": format!("{}.{:06}", cost / 1_000_000, cost % 1_000_000),
                "started_at": format!("{day}T00:10:10Z"), "latency_ms": 800}),
            );
        }
        batches.push(json!({"tasks": tasks, "attempts": attempts, "calls": calls}));
    }
    batches
}

async fn ingest(router: &axum::Router, key: &str, batches: Vec<Value>) {
    for batch in batches {
        let (status, body) =
            crate::ingest::post(router, key, "application/json", batch.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

/// Workflow A with a week at $0.30 a task and 1 failure in 30 under v1 on Haiku, then a week
/// at $0.45 with 1 in 7 failing under v2 on Sonnet: CPST up about 60%, far beyond noise.
async fn regression_data(db: &Db, router: &axum::Router, people: &People) {
    success_rule(db, people.workflow_a).await;
    let key = server::api::create_api_key(db, "gateway", &[], None)
        .await
        .unwrap();
    ingest(
        router,
        &key,
        tasks(7..=13, 30, 300_000, 30, "v1", "claude-haiku-4-5"),
    )
    .await;
    ingest(
        router,
        &key,
        tasks(0..=6, 30, 450_000, 7, "v2", "claude-sonnet-4-5"),
    )
    .await;
    app::db::rollup::refresh_all_dirty(db).await.unwrap();
}

fn rule_form(subject: &str, kind: &str, extra: &str) -> String {
    format!(
        "id=0&subject={}&kind={kind}&window_days=7&min_tasks=50{extra}",
        enc(subject)
    )
}

async fn alerts_of(db: &Db) -> Vec<app::model::Alert> {
    alert::recent_alerts(db, 0, None, 100).await.unwrap()
}

#[tokio::test]
async fn a_regression_fires_once_names_its_cause_resolves_and_fires_again() {
    for t in test_databases().await {
        let db = &t.db;
        let people = people(db).await;
        let router = crate::helpers::app(db);
        regression_data(db, &router, &people).await;
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let subject = format!("workflow:{}", people.workflow_a);
        // Two more changes in the week: a new price for the new model, a new rule version.
        let day = app::domain::time::MS_PER_DAY;
        let mut tx = db.begin().await.unwrap();
        let price = app::model::Price {
            id: 0,
            provider: "anthropic".into(),
            model: "claude-sonnet-4-5".into(),
            input_micros_per_mtok: 3_000_000,
            output_micros_per_mtok: 15_000_000,
            cache_read_micros_per_mtok: 300_000,
            cache_write_micros_per_mtok: 3_750_000,
            reasoning_micros_per_mtok: 15_000_000,
            audio_input_micros_per_mtok: None,
            image_input_micros_per_mtok: None,
            effective_from: app::db::now_ms() - 3 * day,
            effective_to: None,
            source: "list price".into(),
            checked_on: "2026-11-01".into(),
            created_at: 0,
        };
        app::db::price::insert_price(&mut tx, &price).await.unwrap();
        let ticket = app::db::workflow::list_task_types(db, people.workflow_a)
            .await
            .unwrap()[0]
            .id;
        let rule = app::domain::rule::Rule::FieldsPresent {
            fields: vec!["reply".into()],
        };
        let from = app::db::now_ms() - 2 * day;
        app::db::workflow::insert_success_rule(&mut tx, ticket, &rule.to_json(), from, None, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let saved = rpc(
            &router,
            "save_alert_rule",
            &rule_form(&subject, "cpst_regression", ""),
            &owner,
        )
        .await;
        assert_eq!(
            saved.status,
            StatusCode::OK,
            "{}: {}",
            t.backend,
            saved.body
        );
        let rule_id = serde_json::from_str::<Value>(&saved.body).unwrap()["id"]
            .as_i64()
            .unwrap();

        let now = app::db::now_ms();
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, now)
            .await
            .unwrap();
        assert_eq!((pass.rules, pass.fired), (1, 1), "{}", t.backend);
        let fired = alerts_of(db).await;
        assert_eq!(fired.len(), 1);
        let headline = &fired[0].headline;
        assert!(
            headline.contains("beyond noise"),
            "{}: {headline}",
            t.backend
        );
        assert!(
            headline.starts_with("CPST $0.31 → $0.54"),
            "{}: {headline}",
            t.backend
        );
        let cause = &fired[0].cause;
        assert!(cause.contains("Since v2 took effect on"), "{cause}");
        assert!(
            cause
                .contains("anthropic/claude-sonnet-4-5's share of first-attempt model calls moved 0.0% → 100.0%"),
            "{cause}"
        );
        assert!(cause.contains("success rate 96.7% → 83.3%"), "{cause}");
        assert!(
            cause.contains("a new price for anthropic/claude-sonnet-4-5 from"),
            "{cause}"
        );
        assert!(
            cause.contains("the success rule of Ticket changed to v2 on"),
            "{cause}"
        );
        assert_eq!(fired[0].link, "baseline=v1&candidate=v2");

        // Once: a second pass refreshes the open alert, it does not raise another.
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, now + 1)
            .await
            .unwrap();
        assert_eq!(pass.fired, 0);
        assert_eq!(alerts_of(db).await.len(), 1);

        // Finance sees it on the alerts page, the workflow page and in the navigation's count;
        // a reviewer sees none.
        let finance = sign_in(&router, FINANCE, PASSWORD).await;
        let alerts_page = send(&router, page("/alerts", Some(&finance))).await;
        assert!(
            alerts_page.body.contains("CPST regression"),
            "{}",
            t.backend
        );
        assert!(alerts_page.body.contains("Since v2 took effect"));
        let workflow_page = send(&router, page("/workflows/support-triage", Some(&finance))).await;
        assert!(
            workflow_page.body.contains("Open alerts (1)"),
            "{}",
            t.backend
        );
        let header: Value =
            serde_json::from_str(&rpc(&router, "get_header", "", &finance).await.body).unwrap();
        assert_eq!(header["open_alerts"], 1);
        let reviewer = sign_in(&router, REVIEWER, PASSWORD).await;
        let header: Value =
            serde_json::from_str(&rpc(&router, "get_header", "", &reviewer).await.body).unwrap();
        assert_eq!(header["open_alerts"], 0);
        let refused = rpc(&router, "list_alerts", "", &reviewer).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);

        // Acknowledged with a note, by finance.
        let id = fired[0].id;
        let ack = rpc(
            &router,
            "acknowledge_alert",
            &format!("id={id}&note=rolling+back+to+v1"),
            &finance,
        )
        .await;
        assert_eq!(ack.status, StatusCode::OK, "{}", ack.body);
        let again = rpc(
            &router,
            "acknowledge_alert",
            &format!("id={id}&note=x"),
            &finance,
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        let acknowledged = alert::get_alert(db, id).await.unwrap().unwrap();
        assert_eq!(acknowledged.acknowledged_note, "rolling back to v1");

        // A 30-day window: the 30 days before hold no task, too few to judge, so it resolves.
        let form = format!(
            "id={rule_id}&subject={}&kind=cpst_regression&window_days=30&min_tasks=50",
            enc(&subject)
        );
        assert_eq!(
            rpc(&router, "save_alert_rule", &form, &owner).await.status,
            StatusCode::OK
        );
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, now + 2)
            .await
            .unwrap();
        assert_eq!((pass.fired, pass.resolved), (0, 1), "{}", t.backend);
        let resolved = alert::get_alert(db, id).await.unwrap().unwrap();
        assert!(
            resolved.resolution.contains("fewer than the 50 needed"),
            "{}",
            resolved.resolution
        );

        // Back to 7 days: it fires again, as a new alert under the rule's third version.
        let form = format!(
            "id={rule_id}&subject={}&kind=cpst_regression&window_days=7&min_tasks=50",
            enc(&subject)
        );
        assert_eq!(
            rpc(&router, "save_alert_rule", &form, &owner).await.status,
            StatusCode::OK
        );
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, now + 3)
            .await
            .unwrap();
        assert_eq!(pass.fired, 1);
        let all = alerts_of(db).await;
        assert_eq!(all.len(), 2);
        assert_eq!(all.iter().filter(|a| a.resolved_at.is_none()).count(), 1);
        assert_eq!(all[0].rule_version, 3);

        // The read API and the CSV carry it; a key scoped to the other workflow sees nothing.
        let key = server::api::create_api_key(db, "reader", &[], None)
            .await
            .unwrap();
        let (status, body) = api_get(&router, "/api/v1/alerts?state=open", &key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let listed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(listed["alerts"].as_array().unwrap().len(), 1);
        assert_eq!(listed["alerts"][0]["condition"], "cpst_regression");
        assert_eq!(listed["alerts"][0]["workflow"], "support-triage");
        assert_eq!(listed["alerts"][0]["figures"]["decided"], 210);
        let scope = app::model::KeyScope::Workflow(people.workflow_b);
        let other = server::api::create_api_key(db, "other", &[scope], None)
            .await
            .unwrap();
        let (_, body) = api_get(&router, "/api/v1/alerts", &other).await;
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["alerts"],
            json!([])
        );
        let csv = send(
            &router,
            page("/export/alerts.csv?state=resolved", Some(&finance)),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.body.lines().count(), 2, "{}", csv.body);
        assert!(
            csv.body
                .lines()
                .nth(1)
                .unwrap()
                .contains(",resolved,CPST regression,")
        );
    }
}

#[tokio::test]
async fn too_few_tasks_and_clear_conditions_stay_quiet() {
    for t in test_databases().await {
        let db = &t.db;
        let people = people(db).await;
        let router = crate::helpers::app(db);
        success_rule(db, people.workflow_a).await;
        let key = server::api::create_api_key(db, "gateway", &[], None)
            .await
            .unwrap();
        // Three tasks a window, every one far over the $0.60 budget.
        ingest(
            &router,
            &key,
            tasks(0..=0, 3, 5_000_000, 2, "v1", "claude-haiku-4-5"),
        )
        .await;
        app::db::rollup::refresh_all_dirty(db).await.unwrap();
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let subject = format!("workflow:{}", people.workflow_a);
        for kind in [
            "cpst_over_budget",
            "success_drop",
            "cpst_regression",
            "escalation_surge",
        ] {
            let saved = rpc(
                &router,
                "save_alert_rule",
                &rule_form(&subject, kind, ""),
                &owner,
            )
            .await;
            assert_eq!(saved.status, StatusCode::OK, "{kind}: {}", saved.body);
        }
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, app::db::now_ms())
            .await
            .unwrap();
        assert_eq!((pass.rules, pass.fired), (4, 0), "{}", t.backend);
        let rules = alert::list_rules(db).await.unwrap();
        assert!(
            rules[0]
                .last_finding
                .contains("3 decided tasks in 7 days, fewer than the 50 needed"),
            "{}",
            rules[0].last_finding
        );

        // With a minimum of 2 the over-budget rule fires.
        let form = format!(
            "id={}&subject={}&kind=cpst_over_budget&window_days=7&min_tasks=2",
            rules[0].id,
            enc(&subject)
        );
        assert_eq!(
            rpc(&router, "save_alert_rule", &form, &owner).await.status,
            StatusCode::OK
        );
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, app::db::now_ms())
            .await
            .unwrap();
        assert_eq!(pass.fired, 1, "{}", t.backend);
        assert!(
            alerts_of(db).await[0]
                .headline
                .contains("over the $0.60 budget")
        );
    }
}

#[tokio::test]
async fn a_spend_budget_fires_at_each_higher_threshold() {
    for t in test_databases().await {
        let db = &t.db;
        let people = people(db).await;
        let router = crate::helpers::app(db);
        success_rule(db, people.workflow_a).await;
        let key = server::api::create_api_key(db, "gateway", &[], None)
            .await
            .unwrap();
        // Today: 20 tasks at about $0.50, $10.08 spent this month.
        ingest(
            &router,
            &key,
            tasks(0..=0, 20, 500_000, 0, "v1", "claude-haiku-4-5"),
        )
        .await;
        app::db::rollup::refresh_all_dirty(db).await.unwrap();
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let subject = format!("team:{}", people.team_a);
        let form = rule_form(
            &subject,
            "spend_budget",
            "&monthly_budget=15&thresholds=50%2C+100",
        );
        let saved = rpc(&router, "save_alert_rule", &form, &owner).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, app::db::now_ms())
            .await
            .unwrap();
        assert_eq!(pass.fired, 1, "{}", t.backend);
        let fired = &alerts_of(db).await[0];
        assert_eq!(fired.level_bp, 5_000);
        assert!(
            fired
                .headline
                .starts_with("50.0% of the budget reached: $10.08 spent this month"),
            "{}",
            fired.headline
        );
        // Another $5: the 100% threshold raises the open alert rather than opening another.
        ingest(
            &router,
            &key,
            tasks(0..=0, 10, 500_000, 0, "v1b", "claude-haiku-4-5"),
        )
        .await;
        app::db::rollup::refresh_all_dirty(db).await.unwrap();
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, app::db::now_ms())
            .await
            .unwrap();
        assert_eq!(pass.fired, 0);
        let all = alerts_of(db).await;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].level_bp, 10_000, "{}", t.backend);

        // Refusals name their field.
        for (form, field) in [
            (
                rule_form(&subject, "spend_budget", "&monthly_budget=-3"),
                "monthly_budget",
            ),
            (
                rule_form(
                    &subject,
                    "spend_budget",
                    "&monthly_budget=10&thresholds=ninety",
                ),
                "thresholds",
            ),
            (rule_form(&subject, "gate_turned", ""), "kind"),
            (
                rule_form(
                    &format!("team:{}", people.team_b),
                    "spend_budget",
                    "&monthly_budget=10",
                ),
                "subject",
            ),
            (
                format!(
                    "id=0&subject={}&kind=cpst_regression&window_days=14",
                    enc(&subject)
                ),
                "window_days",
            ),
            (
                format!(
                    "id=0&subject={}&kind=cpst_regression&min_tasks=0",
                    enc(&subject)
                ),
                "min_tasks",
            ),
            (rule_form(&subject, "no_such_thing", ""), "kind"),
        ] {
            let refused = rpc(&router, "save_alert_rule", &form, &owner).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
            assert!(
                refusal(&refused.body).starts_with(&format!("{field}:")),
                "{form}: {}",
                refused.body
            );
        }
    }
}

/// What the receiver got: headers and body per request.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>);

/// A real HTTP receiver on a loopback port at `/incoming/secret-path-4b1d`. With `flaky`, the
/// first request gets a 500 and the second waits past the sender's timeout; every other
/// request gets a 200.
async fn receiver(flaky: bool) -> (u16, Received) {
    use axum::routing::post;
    let received = Received::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/incoming/secret-path-4b1d",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let n = {
                    let mut all = seen.0.lock().unwrap();
                    all.push((headers, body));
                    all.len()
                };
                match n {
                    1 if flaky => StatusCode::INTERNAL_SERVER_ERROR,
                    2 if flaky => {
                        tokio::time::sleep(
                            server::alerts::SEND_TIMEOUT + std::time::Duration::from_secs(2),
                        )
                        .await;
                        StatusCode::OK
                    }
                    _ => StatusCode::OK,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, received)
}

/// The application over `db` on a server whose administrator allowed internal webhooks.
fn internal_webhooks_router(db: &Db) -> axum::Router {
    let web = server::web::WebSettings {
        webhooks: WebhookPolicy {
            allow_internal: true,
        },
        ..Default::default()
    };
    server::router(state(db).with_web(web))
}

fn verify(secret: &str, headers: &axum::http::HeaderMap, body: &str) {
    let signature = headers["x-finishline-signature"].to_str().unwrap();
    let t: i64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(signature, server::alerts::signature(secret, t, body));
    assert!(
        (app::db::now_ms() / 1_000 - t).abs() < 120,
        "a fresh timestamp"
    );
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_never_sent_twice() {
    for t in test_databases().await {
        let db = &t.db;
        let people = people(db).await;
        let (port, received) = receiver(true).await;
        let hook = format!("http://127.0.0.1:{port}/incoming/secret-path-4b1d");
        // Internal addresses are refused by default, when the rule is saved.
        let strict = crate::helpers::app(db);
        let owner = sign_in(&strict, OWNER, PASSWORD).await;
        let subject = format!("workflow:{}", people.workflow_a);
        for url in [
            hook.clone(),
            "http://169.254.169.254/latest".into(),
            "http://localhost:8080/x".into(),
            "ftp://example.com/x".into(),
        ] {
            let form = rule_form(
                &subject,
                "cpst_regression",
                &format!("&webhook_url={}", enc(&url)),
            );
            let refused = rpc(&strict, "save_alert_rule", &form, &owner).await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
            assert!(
                refusal(&refused.body).starts_with("webhook_url:"),
                "{}",
                refused.body
            );
        }
        // An administrator allowed them on this server.
        let router = internal_webhooks_router(db);
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        regression_data(db, &router, &people).await;
        let form = rule_form(
            &subject,
            "cpst_regression",
            &format!("&webhook_url={}&webhook_format=slack", enc(&hook)),
        );
        let saved = rpc(&router, "save_alert_rule", &form, &owner).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        let saved: Value = serde_json::from_str(&saved.body).unwrap();
        let secret = saved["secret"]
            .as_str()
            .expect("the secret is shown once")
            .to_owned();
        assert!(secret.starts_with("whsec_"));

        let now = app::db::now_ms();
        app::service::alerts::evaluate::evaluate_all(db, SITE, now)
            .await
            .unwrap();
        let allowed = Channels {
            webhooks: WebhookPolicy {
                allow_internal: true,
            },
            smtp: None,
        };
        // First attempt: the receiver answers 500; retried 30 s later.
        assert_eq!(
            server::alerts::deliver_due(db, &allowed, now)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            server::alerts::deliver_due(db, &allowed, now + 1_000)
                .await
                .unwrap(),
            0,
            "not due yet"
        );
        // Second: the receiver is too slow; the attempt times out and is retried later.
        assert_eq!(
            server::alerts::deliver_due(db, &allowed, now + 50_000)
                .await
                .unwrap(),
            1
        );
        // Third: delivered.
        assert_eq!(
            server::alerts::deliver_due(db, &allowed, now + 200_000)
                .await
                .unwrap(),
            1
        );
        // Nothing is sent again, however often the outbox is read (as after a restart).
        assert_eq!(
            server::alerts::deliver_due(db, &allowed, now + 10_000_000)
                .await
                .unwrap(),
            0
        );
        let got = received.0.lock().unwrap().clone();
        assert_eq!(got.len(), 3, "{}", t.backend);
        for (headers, body) in &got {
            verify(&secret, headers, body);
            assert_eq!(headers["x-finishline-event"], "fired");
            let message: Value = serde_json::from_str(body).unwrap();
            let text = message["blocks"][0]["text"]["text"].as_str().unwrap();
            assert!(text.contains("Since v2 took effect"), "{text}");
            assert!(text.contains("|Compare the two periods>"), "{text}");
        }
        let deliveries = alert::deliveries_since(db, 0).await.unwrap();
        assert_eq!(deliveries.len(), 1);
        assert!(deliveries[0].delivered_at.is_some());
        let attempts = alert::attempts_of(db, deliveries[0].id).await.unwrap();
        let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
        assert_eq!(outcomes[0], "HTTP 500");
        assert!(outcomes[1].starts_with("timed out"), "{outcomes:?}");
        assert_eq!(outcomes[2], "HTTP 200");

        // A delivery taken by a server that died before recording it waits for its lease,
        // then goes once.
        let rule_id = saved["id"].as_i64().unwrap();
        assert_eq!(
            rpc(&router, "test_alert_rule", &format!("id={rule_id}"), &owner)
                .await
                .status,
            StatusCode::OK
        );
        let test = alert::due_deliveries(db, app::db::now_ms(), 10)
            .await
            .unwrap()
            .remove(0);
        let due = test.next_attempt_at.unwrap();
        assert!(
            alert::claim_delivery(db, test.id, due, due + 60_000)
                .await
                .unwrap()
        );
        assert_eq!(
            server::alerts::deliver_due(db, &allowed, due + 1_000)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            server::alerts::deliver_due(db, &allowed, due + 61_000)
                .await
                .unwrap(),
            1
        );
        assert_eq!(received.0.lock().unwrap().len(), 4);

        // With internal addresses not allowed, a queued delivery there is given up, not sent.
        assert_eq!(
            rpc(&router, "test_alert_rule", &format!("id={rule_id}"), &owner)
                .await
                .status,
            StatusCode::OK
        );
        let strict_policy = Channels::default();
        assert_eq!(
            server::alerts::deliver_due(db, &strict_policy, app::db::now_ms())
                .await
                .unwrap(),
            1
        );
        assert_eq!(received.0.lock().unwrap().len(), 4);
        let last = alert::deliveries_since(db, 0).await.unwrap().pop().unwrap();
        assert!(last.gave_up_at.is_some());
        assert!(
            last.last_outcome
                .starts_with("refused: 127.0.0.1 is an internal address"),
            "{}",
            last.last_outcome
        );

        // The page shows each attempt; the address's path (a secret) never.
        let page_html = send(&router, page("/alerts", Some(&owner))).await.body;
        assert!(page_html.contains("HTTP 500"), "{}", t.backend);
        let at = page_html.find("secret-path");
        assert!(
            at.is_none(),
            "the webhook's path is not shown: {}",
            &page_html[at.unwrap_or(0).saturating_sub(300)..at.unwrap_or(0) + 50]
        );
    }
}

/// What the SMTP sink was given: (recipients, message) per mail.
type Mails = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A real SMTP server on a loopback port, speaking just enough of RFC 5321 (no TLS, no
/// authentication) to take mail and keep it.
async fn smtp_sink() -> (u16, Mails) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mails: Mails = Arc::default();
    let kept = mails.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut recipients = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO")
                    {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("RCPT TO:") {
                        recipients.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if command.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            data.push_str(&line);
                            data.push('\n');
                        }
                        kept.lock()
                            .unwrap()
                            .push((std::mem::take(&mut recipients), data));
                        b"250 queued\r\n"
                    } else if command.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, mails)
}

#[tokio::test]
async fn alerts_are_emailed_to_the_chosen_roles_through_smtp() {
    for t in test_databases().await {
        let db = &t.db;
        let people = people(db).await;
        let router = crate::helpers::app(db);
        regression_data(db, &router, &people).await;
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let subject = format!("workflow:{}", people.workflow_a);
        let form = rule_form(
            &subject,
            "cpst_regression",
            "&email_roles%5B%5D=owner&email_roles%5B%5D=finance",
        );
        let saved = rpc(&router, "save_alert_rule", &form, &owner).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        let refused = rpc(
            &router,
            "save_alert_rule",
            &rule_form(&subject, "cpst_regression", "&email_roles%5B%5D=reviewer"),
            &owner,
        )
        .await;
        assert!(
            refusal(&refused.body).starts_with("email_roles:"),
            "{}",
            refused.body
        );

        let now = app::db::now_ms();
        app::service::alerts::evaluate::evaluate_all(db, SITE, now)
            .await
            .unwrap();
        // Without SMTP settings an email is given up with the reason, not retried.
        let (port, mails) = smtp_sink().await;
        let smtp = Channels {
            webhooks: WebhookPolicy::default(),
            smtp: Some(Smtp {
                url: format!("smtp://127.0.0.1:{port}"),
                from: "Finishline <alerts@example.com>".into(),
            }),
        };
        assert_eq!(
            server::alerts::deliver_due(db, &smtp, now).await.unwrap(),
            2,
            "{}",
            t.backend
        );
        let got = mails.lock().unwrap().clone();
        let mut to: Vec<String> = got.iter().flat_map(|(r, _)| r.clone()).collect();
        to.sort();
        // The owner of the workflow's team and finance; not the admin (not chosen), never the
        // reviewer.
        assert_eq!(
            to,
            ["finance@example.com", "owner@example.com"],
            "{}",
            t.backend
        );
        let mail = &got[0].1;
        assert!(
            mail.contains("Subject: Finishline: CPST regression: Support triage"),
            "{mail}"
        );
        assert!(
            mail.contains("From: Finishline <alerts@example.com>"),
            "{mail}"
        );
        assert!(mail.contains("multipart/alternative"), "{mail}");
        assert!(
            mail.contains("text/plain") && mail.contains("text/html"),
            "{mail}"
        );
        let deliveries = alert::deliveries_since(db, 0).await.unwrap();
        assert!(
            deliveries
                .iter()
                .all(|d| d.delivered_at.is_some() && d.channel.as_str() == "email")
        );
        assert_eq!(
            server::alerts::deliver_due(db, &smtp, now + 10_000_000)
                .await
                .unwrap(),
            0,
            "sent once"
        );

        // A test send without SMTP settings: given up, saying why.
        let rule_id = alert::list_rules(db).await.unwrap()[0].id;
        assert_eq!(
            rpc(&router, "test_alert_rule", &format!("id={rule_id}"), &owner)
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            server::alerts::deliver_due(db, &Channels::default(), app::db::now_ms())
                .await
                .unwrap(),
            2
        );
        let last = alert::deliveries_since(db, 0).await.unwrap().pop().unwrap();
        assert!(last.gave_up_at.is_some());
        assert_eq!(
            last.last_outcome,
            "not sent: the server has no SMTP settings (--smtp-url)"
        );
    }
}

/// Escalated tasks on each of `days_ago`: `per_reason` of each (reason, count) pair a day.
fn escalations(days_ago: std::ops::RangeInclusive<i64>, reasons: &[(&str, usize)]) -> Vec<Value> {
    let today = day_of(app::db::now_ms());
    days_ago
        .map(|ago| {
            let day = format_day(today - ago);
            let tasks: Vec<Value> = reasons
                .iter()
                .flat_map(|(reason, n)| (0..*n).map(move |i| (reason, i)))
                .map(|(reason, i)| {
                    json!({"id": format!("esc-{ago}-{}-{i}", reason.replace(' ', "-")),
                        "workflow": "support-triage", "task_type": "ticket",
                        "started_at": format!("{day}T00:10:00Z"), "finished_at": format!("{day}T00:11:00Z"),
                        "status": "escalated", "escalation_reason": reason})
                })
                .collect();
            json!({"tasks": tasks})
        })
        .collect()
}

#[tokio::test]
async fn escalation_surges_and_a_turned_gate_fire() {
    for t in test_databases().await {
        let db = &t.db;
        let people = people(db).await;
        let router = crate::helpers::app(db);
        success_rule(db, people.workflow_a).await;
        let key = server::api::create_api_key(db, "gateway", &[], None)
            .await
            .unwrap();
        // "missing data" was a quarter of escalations; this week it is half.
        ingest(
            &router,
            &key,
            escalations(7..=13, &[("policy", 3), ("missing data", 1)]),
        )
        .await;
        ingest(
            &router,
            &key,
            escalations(0..=6, &[("policy", 3), ("missing data", 3)]),
        )
        .await;
        ingest(
            &router,
            &key,
            tasks(0..=6, 10, 300_000, 0, "v1", "claude-haiku-4-5"),
        )
        .await;
        app::db::rollup::refresh_all_dirty(db).await.unwrap();
        // The workflow runs at level 2, but its gate (400 tasks at 90%) is not proven.
        let mut tx = db.begin().await.unwrap();
        app::db::workflow::set_autonomy_level(&mut tx, people.workflow_a, 2, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let subject = format!("workflow:{}", people.workflow_a);
        for (kind, min) in [("escalation_surge", 10), ("gate_turned", 50)] {
            let form = format!(
                "id=0&subject={}&kind={kind}&window_days=7&min_tasks={min}",
                enc(&subject)
            );
            assert_eq!(
                rpc(&router, "save_alert_rule", &form, &owner).await.status,
                StatusCode::OK
            );
        }
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, app::db::now_ms())
            .await
            .unwrap();
        assert_eq!(pass.fired, 2, "{}", t.backend);
        let fired = alerts_of(db).await;
        let headlines: Vec<&str> = fired.iter().map(|a| a.headline.as_str()).collect();
        assert!(headlines.iter().any(|h| h.starts_with(
            "escalations for \"missing data\" rose to 50.0% of escalations (21 tasks) from 25.0% (7 tasks)"
        )), "{headlines:?}");
        assert!(
            headlines.iter().any(|h| h.starts_with(
                "autonomy level 2 is above what the evidence supports: quality not proven"
            )),
            "{headlines:?}"
        );
        // Back to level 0: nothing to take back, so the gate's alert resolves.
        let mut tx = db.begin().await.unwrap();
        app::db::workflow::set_autonomy_level(&mut tx, people.workflow_a, 0, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let pass = app::service::alerts::evaluate::evaluate_all(db, SITE, app::db::now_ms())
            .await
            .unwrap();
        assert_eq!((pass.fired, pass.resolved), (0, 1), "{}", t.backend);
    }
}

/// Two `finishline serve` processes over one PostgreSQL database, both running the alert
/// jobs: the regression fires one alert and its webhook is sent once, whichever server's turn
/// it was.
#[tokio::test]
async fn two_server_processes_over_one_postgresql_raise_and_send_an_alert_once() {
    use crate::helpers::{finishline, free_port, serve};
    let t = crate::helpers::postgres().await;
    let db = &t.db;
    let people = people(db).await;
    let (port, received) = receiver(false).await;
    let router = internal_webhooks_router(db);
    let owner = sign_in(&router, OWNER, PASSWORD).await;
    regression_data(db, &router, &people).await;
    let subject = format!("workflow:{}", people.workflow_a);
    let hook = format!("http://127.0.0.1:{port}/incoming/secret-path-4b1d");
    let form = rule_form(
        &subject,
        "cpst_regression",
        &format!("&webhook_url={}", enc(&hook)),
    );
    let saved = rpc(&router, "save_alert_rule", &form, &owner).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let data = tempfile::tempdir().unwrap();
    let mut servers = Vec::new();
    for _ in 0..2 {
        let mut command = finishline(data.path());
        command
            .env("DATABASE_URL", &t.url)
            .env("FINISHLINE_ALLOW_INTERNAL_WEBHOOKS", "true");
        servers.push(serve(command, free_port()).await);
    }
    // Each server passes over the rules five seconds after it starts, and sends due
    // notifications every three: wait for the first, then long enough for a second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while received.0.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    for mut server in servers {
        let _ = server.kill();
        let _ = server.wait();
    }
    let got = received.0.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "one webhook, sent by one of the two servers");
    assert_eq!(got[0].0["x-finishline-event"], "fired");
    let alerts = alerts_of(db).await;
    assert_eq!(
        alerts.len(),
        1,
        "one alert, however many servers judged the rule"
    );
    let deliveries = alert::deliveries_since(db, 0).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        alert::attempts_of(db, deliveries[0].id)
            .await
            .unwrap()
            .len(),
        1
    );
}
