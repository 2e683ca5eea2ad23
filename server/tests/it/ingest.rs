//! The batch ingestion API: idempotent items, partial batches, bad input refused by name, key
//! scope, and figures that count each dollar once, on SQLite and PostgreSQL.

use crate::helpers::{api_get, app, test_databases, workflow_settings};
use app::db::{Db, identity, on_db, workflow};
use app::domain::Micros;
use app::model::KeyScope;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use server::api::create_api_key;
use tower::ServiceExt;

/// A workflow `support-triage` of team `support`, and one of team `finance`, with a task type.
pub(crate) async fn catalog(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    for (team_slug, workflow_slug) in [
        ("support", "support-triage"),
        ("finance", "invoice-clearing"),
    ] {
        let team = identity::insert_team(&mut tx, team_slug, team_slug, Micros(30_000_000), 0)
            .await
            .unwrap();
        let settings = workflow_settings(team, workflow_slug);
        let id = workflow::insert_workflow(&mut tx, &settings, 0)
            .await
            .unwrap();
        crate::helpers::add_ticket_type(&mut tx, id).await;
    }
    tx.commit().await.unwrap();
}

pub(crate) async fn post(
    router: &axum::Router,
    key: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let request = Request::post("/api/v1/ingest")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", content_type)
        .body(body.into())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub(crate) fn batch(day: &str) -> Value {
    json!({
        "tasks": [{"id": "t-1", "workflow": "support-triage", "task_type": "ticket", "version": "v1",
                   "started_at": format!("{day}T10:00:00Z"), "finished_at": format!("{day}T10:00:09.5Z"),
                   "status": "completed", "output": {"reply": "Done"}, "review_seconds": 120}],
        "attempts": [{"correlation_id": "t-1-a1", "workflow": "support-triage", "task": "t-1", "number": 1,
                      "status": "succeeded", "started_at": format!("{day}T10:00:00Z")}],
        "calls": [
            {"id": "c-1", "workflow": "support-triage", "correlation_id": "t-1-a1", "kind": "model",
             "provider": "anthropic", "model": "claude-haiku-4-5", "input_tokens": 1000, "output_tokens": 100,
             "cost_usd": "0.0042", "started_at": format!("{day}T10:00:01Z"), "latency_ms": 900},
            {"id": "c-2", "workflow": "support-triage", "correlation_id": "t-1-a1", "kind": "retrieval",
             "cost_usd": 0.0005, "started_at": format!("{day}T10:00:00Z")}
        ]
    })
}

/// Total cost in the rollups once the background refresh has caught up.
pub(crate) async fn cost_total(db: &Db) -> i64 {
    app::db::rollup::refresh_all_dirty(db).await.unwrap();
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(model_cost_micros + tool_cost_micros + retry_cost_micros + cache_cost_micros + labour_cost_micros), 0) AS BIGINT) FROM task_rollups")
        .fetch_one(pool).await).unwrap()
}

pub(crate) fn today() -> String {
    app::domain::time::format_day(app::domain::time::day_of(app::db::now_ms()))
}

#[tokio::test]
async fn a_batch_is_stored_once_however_often_it_is_sent() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let body = batch(&today()).to_string();
        let (status, first) = post(&router, &key, "application/json", body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{}: {first}", t.backend);
        assert_eq!(first["accepted"], 4);
        assert_eq!(first["counts"]["calls"]["created"], 2);
        // $0.0042 + $0.0005 of calls and two minutes of review at $30/hour.
        assert_eq!(
            cost_total(&t.db).await,
            4_200 + 500 + 1_000_000,
            "{}",
            t.backend
        );

        let (status, again) = post(&router, &key, "application/json", body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["counts"]["calls"]["unchanged"], 2, "{again}");
        assert_eq!(
            cost_total(&t.db).await,
            1_004_700,
            "{}: a client retry never double-counts",
            t.backend
        );

        let (status, figures) = api_get(
            &router,
            "/api/v1/figures?workflow=support-triage&days=1",
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{figures}");
        let figures: Value = serde_json::from_str(&figures).unwrap();
        assert_eq!(
            figures["groups"][0]["tasks"]["succeeded"], 1,
            "{}: the rule decided the verdict",
            t.backend
        );
        assert_eq!(figures["groups"][0]["cpst_micros"], 1_004_700);
    }
}

#[tokio::test]
async fn a_task_moves_on_but_a_calls_cost_is_never_rewritten() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let mut first = batch(&today());
        first["tasks"][0]["status"] = json!("running");
        post(&router, &key, "application/json", first.to_string()).await;
        let (_, done) = post(
            &router,
            &key,
            "application/json",
            batch(&today()).to_string(),
        )
        .await;
        assert_eq!(
            done["counts"]["tasks"]["updated"], 1,
            "{}: {done}",
            t.backend
        );
        let mut changed = batch(&today());
        changed["calls"][0]["cost_usd"] = json!("9.99");
        let (status, result) = post(&router, &key, "application/json", changed.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{result}");
        assert_eq!(result["errors"][0]["status"], 409);
        assert_eq!(result["errors"][0]["id"], "c-1");
        assert_eq!(cost_total(&t.db).await, 1_004_700, "{}", t.backend);
    }
}

#[tokio::test]
async fn bad_items_are_refused_by_name_and_their_neighbours_stored() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let day = today();
        let call = |id: &str, extra: Value| {
            let mut c = json!({"id": id, "workflow": "support-triage", "correlation_id": "x", "kind": "model",
                               "started_at": format!("{day}T10:00:00Z")});
            c.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            c
        };
        let body = json!({"calls": [
            call("ok-1", json!({"input_tokens": 10})),
            call("neg", json!({"input_tokens": -1})),
            call("type", json!({"output_tokens": "many"})),
            call("cache", json!({"input_tokens": 10, "cache_read_tokens": 20})),
            call("future", json!({"started_at": "2999-01-01T00:00:00Z"})),
            call("when", json!({"started_at": "yesterday"})),
            call("money", json!({"cost_usd": "-0.01"})),
            call("nowhere", json!({"workflow": "no-such-workflow"})),
            call(&"x".repeat(300), json!({})),
            call("kind", json!({"kind": "prayer"})),
            call("extra", json!({"colour": "blue"})),
            call("ok-2", json!({"output_tokens": 5})),
        ]});
        let (status, result) = post(&router, &key, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {result}", t.backend);
        assert_eq!(result["accepted"], 2, "{result}");
        let fields: Vec<(&str, &str)> = result["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().unwrap_or("?"),
                    e["field"].as_str().unwrap(),
                )
            })
            .collect();
        let long = "x".repeat(300);
        let expected = [
            ("neg", "input_tokens"),
            ("type", "output_tokens"),
            ("cache", "cache_read_tokens"),
            ("future", "started_at"),
            ("when", "started_at"),
            ("money", "cost_usd"),
            ("nowhere", "workflow"),
            (long.as_str(), "id"),
            ("kind", "kind"),
            ("extra", "colour"),
        ];
        assert_eq!(fields, expected, "{}", t.backend);
        let stored: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM calls").fetch_one(pool).await).unwrap();
        assert_eq!(stored, 2);
    }
}

#[tokio::test]
async fn malformed_bodies_get_a_clear_status() {
    let t = crate::helpers::sqlite().await;
    catalog(&t.db).await;
    let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
    let router = app(&t.db);
    let (status, body) = post(&router, &key, "text/plain", "{}").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("unsupported_media_type")
        )
    );
    let (status, body) = post(&router, &key, "application/json", "{\n  \"calls\": [1,\n}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (
            body["error"]["line"].as_u64(),
            body["error"]["code"].as_str()
        ),
        (Some(3), Some("malformed_json")),
        "{body}"
    );
    let (status, _) = post(&router, &key, "application/json", vec![0xff, 0xfe, b'{']).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "invalid UTF-8");
    let deep = format!(
        "{{\"tasks\": [{}{}]}}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let (status, body) = post(&router, &key, "application/json", deep).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "deeply nested JSON: {body}"
    );
    let huge = format!(
        "{{\"tasks\": [\"{}\"]}}",
        "x".repeat(server::ingest::MAX_BODY)
    );
    let (status, body) = post(&router, &key, "application/json", huge).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
    let (status, body) = post(
        &router,
        &key,
        "application/json",
        "{\"tasks\": null, \"calls\": []}",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a list sent as null is an empty one: {body}"
    );
    let (status, body) = post(&router, &key, "application/json", "{\"spans\": []}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown list: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`spans`"),
        "{body}"
    );
    let (status, body) = post(
        &router,
        &key,
        "application/json",
        "{\"calls\": [{\"input_tokens\": NaN}]}",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json")),
        "NaN is not JSON: {body}"
    );
    let (status, body) = post(
        &router,
        &key,
        "application/json",
        "{\"calls\": [{\"cost_usd\": 1e999}]}",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an infinite number: {body}"
    );
    let too_many = json!({"outcomes": vec![json!({}); server::ingest::MAX_ITEMS + 1]});
    let (status, body) = post(&router, &key, "application/json", too_many.to_string()).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body")),
        "{body}"
    );
    let stored: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM outcome_events").fetch_one(pool).await).unwrap();
    assert_eq!(stored, 0, "a refused body stores nothing");
    let (status, _) = post(&router, "fl_wrong", "application/json", "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_key_writes_only_to_its_own_teams_workflows() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let teams = identity::list_teams(&t.db).await.unwrap();
        let finance = teams.iter().find(|t| t.slug == "finance").unwrap();
        let key = create_api_key(
            &t.db,
            "finance gateway",
            &[KeyScope::Team(finance.id)],
            None,
        )
        .await
        .unwrap();
        let (status, result) = post(
            &app(&t.db),
            &key,
            "application/json",
            batch(&today()).to_string(),
        )
        .await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}", t.backend);
        assert_eq!(result["accepted"], 0);
        assert!(
            result["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["status"] == 403),
            "{result}"
        );
    }
}

#[tokio::test]
async fn calls_and_outcomes_may_arrive_before_their_task() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let full = batch(&today());
        let early = json!({
            "calls": full["calls"],
            "outcomes": [{"id": "o-1", "workflow": "support-triage", "task": "t-1", "kind": "resolved",
                          "occurred_at": format!("{}T11:00:00Z", today())}],
        });
        let (status, result) = post(&router, &key, "application/json", early.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{result}");
        assert_eq!(
            cost_total(&t.db).await,
            0,
            "{}: no task yet, so nothing counts",
            t.backend
        );
        // A grade cannot wait for its task: it is refused by name and may be sent again.
        let grade = json!({"grades": [{"id": "g-1", "workflow": "support-triage", "task": "t-1",
                           "grader": "ops@example.com", "verdict": "pass", "edit_severity": "none",
                           "review_seconds": 60, "graded_at": format!("{}T12:00:00Z", today())}]});
        let (status, result) = post(&router, &key, "application/json", grade.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{result}");
        assert_eq!(
            (&result["errors"][0]["code"], &result["errors"][0]["field"]),
            (&json!("unknown_task"), &json!("task")),
            "{result}"
        );
        let late = json!({"tasks": full["tasks"], "attempts": full["attempts"]});
        let (status, result) = post(&router, &key, "application/json", late.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{result}");
        assert_eq!(
            cost_total(&t.db).await,
            1_004_700,
            "{}: the early calls joined their task",
            t.backend
        );
        let linked: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM outcome_events WHERE task_id IS NOT NULL").fetch_one(pool).await)
        .unwrap();
        assert_eq!(linked, 1);
        let orphan_grade = json!({"grades": [{"id": "g-1", "workflow": "support-triage", "task": "t-9", "grader": "ana",
            "verdict": "pass", "edit_severity": "none", "review_seconds": 30, "graded_at": format!("{}T12:00:00Z", today())}]});
        let (status, result) =
            post(&router, &key, "application/json", orphan_grade.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS);
        assert_eq!(
            (
                result["errors"][0]["code"].as_str(),
                result["errors"][0]["field"].as_str()
            ),
            (Some("unknown_task"), Some("task"))
        );
    }
}

#[tokio::test]
async fn a_saturated_server_says_when_to_retry_instead_of_dropping_data() {
    let t = crate::helpers::sqlite().await;
    catalog(&t.db).await;
    let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("finishline")
        .site_root("target/site")
        .build();
    let state = server::AppState::new(t.db.clone(), leptos);
    let slots = state.ingest_slots.0.clone();
    let router = server::router(state);
    let held = slots
        .clone()
        .acquire_many_owned(slots.available_permits() as u32)
        .await
        .unwrap();
    let request = Request::post("/api/v1/ingest")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(batch(&today()).to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(cost_total(&t.db).await, 0, "nothing was half-stored");
    drop(held);
    let (status, _) = post(
        &router,
        &key,
        "application/json",
        batch(&today()).to_string(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the same batch goes through once there is room"
    );
}

#[tokio::test]
async fn an_attempt_without_a_number_takes_the_next_and_a_taken_number_is_refused() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let day = today();
        post(&router, &key, "application/json", batch(&day).to_string()).await;
        let attempt = |correlation_id: &str, number: Option<i64>| {
            let mut a = json!({"correlation_id": correlation_id, "workflow": "support-triage",
                               "task": "t-1", "status": "failed", "started_at": format!("{day}T10:01:00Z")});
            if let Some(n) = number {
                a["number"] = json!(n);
            }
            a
        };
        let body = json!({"attempts": [attempt("t-1-a2", None), attempt("t-1-a3", Some(1))]});
        let (status, result) = post(&router, &key, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {result}", t.backend);
        assert_eq!(result["errors"][0]["index"], 1);
        assert_eq!(result["errors"][0]["status"], 409);
        assert_eq!(result["errors"][0]["field"], "number");

        // Sent again without a number, the attempt keeps the number it was given.
        let body = json!({"attempts": [attempt("t-1-a2", None)]});
        let (_, again) = post(&router, &key, "application/json", body.to_string()).await;
        assert_eq!(again["counts"]["attempts"]["unchanged"], 1, "{again}");
        let numbers: Vec<(String, i64)> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT correlation_id, number FROM attempts ORDER BY number")
            .fetch_all(pool).await)
        .unwrap();
        assert_eq!(
            numbers,
            [("t-1-a1".to_owned(), 1), ("t-1-a2".to_owned(), 2)],
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_call_sent_twice_in_one_batch_is_stored_once() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let mut body = batch(&today());
        let call = body["calls"][0].clone();
        let mut changed = call.clone();
        changed["cost_usd"] = json!("1.00");
        body["calls"] = json!([call, call, changed]);
        let (status, result) = post(&router, &key, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {result}", t.backend);
        assert_eq!(result["counts"]["calls"]["created"], 1, "{result}");
        assert_eq!(result["counts"]["calls"]["unchanged"], 1, "{result}");
        assert_eq!(result["errors"][0]["index"], 2);
        assert_eq!(result["errors"][0]["status"], 409);
        assert_eq!(cost_total(&t.db).await, 4_200 + 1_000_000, "{}", t.backend);
    }
}

/// A batch that holds a task's attempt and one that holds its calls, written at the same time:
/// the second waits for the first, so its calls find the attempt instead of being left out of
/// the task's cost by two transactions that cannot see each other's rows.
#[tokio::test]
async fn calls_written_beside_their_attempt_still_join_it() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let caller = server::caller::ApiCaller::unrestricted(0);
        let catalog = app::db::catalog::Catalog::load(&t.db).await.unwrap();
        let full = batch(&today());
        let first: server::ingest::Batch =
            serde_json::from_value(json!({"tasks": full["tasks"], "attempts": full["attempts"]}))
                .unwrap();
        let second: server::ingest::Batch =
            serde_json::from_value(json!({"calls": full["calls"]})).unwrap();
        let now = app::db::now_ms();
        let mut tx = t.db.begin().await.unwrap();
        server::ingest::store_batch(&mut tx, &catalog, &caller, first, now)
            .await
            .unwrap();
        let beside = {
            let (db, catalog, caller) = (t.db.clone(), catalog.clone(), caller.clone());
            tokio::spawn(async move {
                let mut tx = db.begin().await.unwrap();
                server::ingest::store_batch(&mut tx, &catalog, &caller, second, now)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        tx.commit().await.unwrap();
        beside.await.unwrap();
        let orphans: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM calls WHERE attempt_id IS NULL").fetch_one(pool).await)
        .unwrap();
        assert_eq!(orphans, 0, "{}", t.backend);
        assert_eq!(cost_total(&t.db).await, 1_004_700, "{}", t.backend);
    }
}

/// One batch that names a task twice (the second word wins), numbers two attempts of that new
/// task itself, and sends each attempt's calls: what the batch wrote earlier is what its later
/// items see, as if each had been sent alone.
#[tokio::test]
async fn later_items_of_a_batch_see_what_its_earlier_items_wrote() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let day = today();
        let mut body = batch(&day);
        let mut moved = body["tasks"][0].clone();
        moved["output"] = json!({"reply": "Done, with a refund"});
        body["tasks"] = json!([body["tasks"][0].clone(), moved]);
        let attempt = |correlation_id: &str| {
            json!({"correlation_id": correlation_id, "workflow": "support-triage", "task": "t-1",
                   "status": "failed", "started_at": format!("{day}T10:00:00Z")})
        };
        // The first attempt is sent again, finished: its second word wins.
        let mut finished = attempt("t-1-a1");
        finished["finished_at"] = json!(format!("{day}T10:05:00Z"));
        body["attempts"] = json!([attempt("t-1-a1"), attempt("t-1-a2"), finished]);
        body["calls"][1]["correlation_id"] = json!("t-1-a2");
        let (status, result) = post(&router, &key, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{}: {result}", t.backend);
        assert_eq!(result["counts"]["tasks"]["created"], 1, "{result}");
        assert_eq!(result["counts"]["tasks"]["updated"], 1, "{result}");
        assert_eq!(result["counts"]["attempts"]["created"], 2, "{result}");
        assert_eq!(result["counts"]["attempts"]["updated"], 1, "{result}");
        let finished_at: Option<i64> = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT finished_at FROM attempts WHERE correlation_id = 't-1-a1'").fetch_one(pool).await)
        .unwrap();
        assert!(finished_at.is_some(), "{}", t.backend);
        let rows: Vec<(String, i64, String)> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT a.correlation_id, a.number, c.external_id FROM attempts a
             JOIN calls c ON c.attempt_id = a.id AND c.task_id = a.task_id ORDER BY a.number")
            .fetch_all(pool).await)
        .unwrap();
        assert_eq!(
            rows,
            [
                ("t-1-a1".to_owned(), 1, "c-1".to_owned()),
                ("t-1-a2".to_owned(), 2, "c-2".to_owned())
            ],
            "{}",
            t.backend
        );
        let output: String = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT output FROM tasks WHERE external_id = 't-1'").fetch_one(pool).await)
        .unwrap();
        assert!(output.contains("refund"), "{}: {output}", t.backend);
        assert_eq!(cost_total(&t.db).await, 1_004_700, "{}", t.backend);
    }
}

/// The rollups' cost total as stored, without refreshing first.
async fn stored_cost_total(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COALESCE(SUM(model_cost_micros + tool_cost_micros + retry_cost_micros + cache_cost_micros + labour_cost_micros), 0) AS BIGINT) FROM task_rollups")
        .fetch_one(pool).await).unwrap()
}

/// The same batch for another task, its calls renamed.
pub(crate) fn batch_for(task: &str) -> String {
    batch(&today())
        .to_string()
        .replace("t-1", task)
        .replace("\"c-1\"", &format!("\"{task}-c1\""))
        .replace("\"c-2\"", &format!("\"{task}-c2\""))
}

#[tokio::test]
async fn a_refresh_read_beside_other_writes_never_stores_figures_older_than_theirs() {
    use app::db::rollup::{Snapshot, fold_marks, refresh_all_dirty};
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let (status, _) = post(&router, &key, "application/json", batch_for("t-1")).await;
        assert_eq!(status, StatusCode::OK);
        // The refresh folds the batches' marks into slice versions before it reads.
        fold_marks(&t.db).await.unwrap();
        let (workflow_id, day): (i64, i64) = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT workflow_id, day FROM rollup_dirty").fetch_one(pool).await)
        .unwrap();
        let team: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT id FROM teams WHERE slug = 'support'").fetch_one(pool).await)
        .unwrap();

        // The background refresh reads the marked slice; meanwhile the team's hourly rate is
        // corrected from $30 to $60, which re-prices the slice's labour at once.
        let stale = Snapshot::read(&t.db, workflow_id, day).await.unwrap();
        let mut tx = t.db.begin().await.unwrap();
        identity::set_team_labour_rate(&mut tx, team, Micros(60_000_000))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let corrected = 4_200 + 500 + 2_000_000;
        assert_eq!(stored_cost_total(&t.db).await, corrected, "{}", t.backend);
        assert!(
            !stale.store(&t.db).await.unwrap(),
            "{}: figures read before the correction are not stored over it",
            t.backend
        );
        assert_eq!(stored_cost_total(&t.db).await, corrected, "{}", t.backend);
        assert_eq!(
            refresh_all_dirty(&t.db).await.unwrap(),
            0,
            "nothing is left marked"
        );

        // A batch stored while the refresh reads does not keep it from storing what it read;
        // the slice stays marked, and the next refresh adds the batch.
        let (status, _) = post(&router, &key, "application/json", batch_for("t-2")).await;
        assert_eq!(status, StatusCode::OK);
        fold_marks(&t.db).await.unwrap();
        let read = Snapshot::read(&t.db, workflow_id, day).await.unwrap();
        let (status, _) = post(&router, &key, "application/json", batch_for("t-3")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(read.store(&t.db).await.unwrap(), "{}", t.backend);
        assert_eq!(
            stored_cost_total(&t.db).await,
            2 * corrected,
            "{}",
            t.backend
        );
        assert_eq!(refresh_all_dirty(&t.db).await.unwrap(), 1, "{}", t.backend);
        assert_eq!(
            stored_cost_total(&t.db).await,
            3 * corrected,
            "{}",
            t.backend
        );
        assert_eq!(refresh_all_dirty(&t.db).await.unwrap(), 0, "{}", t.backend);
    }
}

#[tokio::test]
async fn an_item_that_sends_a_field_twice_is_refused_by_name_and_its_neighbours_stored() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let day = today();
        // Which of the two ids was meant cannot be told: neither is taken.
        let body = format!(
            r#"{{"tasks": [
                {{"id": "t-1", "id": "t-2", "workflow": "support-triage", "started_at": "{day}T10:00:00Z", "status": "running"}},
                {{"id": "t-3", "workflow": "support-triage", "started_at": "{day}T10:00:00Z", "status": "running"}}
            ]}}"#
        );
        let (status, answer) = post(&app(&t.db), &key, "application/json", body).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {answer}", t.backend);
        assert_eq!(answer["accepted"], 1, "{answer}");
        assert_eq!(answer["errors"][0]["field"], "id", "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("twice"),
            "{answer}"
        );
        let stored: Vec<String> = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT external_id FROM tasks ORDER BY external_id").fetch_all(pool).await)
        .unwrap();
        assert_eq!(stored, ["t-3"], "{}", t.backend);
    }
}

#[tokio::test]
async fn audio_and_image_input_are_priced_at_their_own_rates() {
    for t in test_databases().await {
        catalog(&t.db).await;
        // A realtime model: text input $5, audio input $40 per million tokens; images have no
        // rate of their own, so they are priced as text input.
        let price = app::model::Price {
            id: 0,
            provider: "openai".into(),
            model: "gpt-realtime".into(),
            input_micros_per_mtok: 5_000_000,
            output_micros_per_mtok: 20_000_000,
            cache_read_micros_per_mtok: 400_000,
            cache_write_micros_per_mtok: 0,
            reasoning_micros_per_mtok: 20_000_000,
            audio_input_micros_per_mtok: Some(40_000_000),
            image_input_micros_per_mtok: None,
            effective_from: 0,
            effective_to: None,
            source: "test".into(),
            checked_on: String::new(),
            created_at: 0,
        };
        let mut tx = t.db.begin().await.unwrap();
        app::db::price::insert_price(&mut tx, &price).await.unwrap();
        tx.commit().await.unwrap();
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let day = today();
        let call = |id: &str, audio: i64, image: i64| {
            json!({"id": id, "workflow": "support-triage", "correlation_id": "voice-1",
                   "kind": "model", "provider": "openai", "model": "gpt-realtime",
                   "input_tokens": 10_000, "cache_read_tokens": 1_000, "output_tokens": 500,
                   "audio_input_tokens": audio, "image_input_tokens": image,
                   "started_at": format!("{day}T10:00:00Z")})
        };
        let body = json!({"calls": [call("v-1", 6_000, 2_000), call("v-2", 8_000, 2_000)]});
        let (status, answer) = post(&app(&t.db), &key, "application/json", body.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {answer}", t.backend);
        assert_eq!(
            answer["errors"][0]["field"], "audio_input_tokens",
            "{answer}"
        );
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("cache, audio and image tokens (11000) exceed input tokens (10000)"),
            "{answer}"
        );
        let cost: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT cost_micros FROM calls WHERE external_id = 'v-1'").fetch_one(pool).await)
        .unwrap();
        // 1,000 text at $5/M, 6,000 audio at $40/M, 2,000 image at $5/M, 1,000 cached at
        // $0.40/M, 500 output at $20/M.
        assert_eq!(
            cost,
            5_000 + 240_000 + 10_000 + 400 + 10_000,
            "{}",
            t.backend
        );
    }
}
