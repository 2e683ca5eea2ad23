//! Faults: a database that refuses writes (a read-only file system or database file, a full
//! disk). Ingestion says so with a 503 and stores nothing, pages say their figures may be
//! stale, and the data sent again once the database takes writes is stored once.

use crate::helpers::{ADMIN, PASSWORD, page, send, sign_in, sqlite, state};
use crate::ingest::{batch, catalog, post, today};
use app::db::health::WriteHealth;
use app::db::{Db, on_db};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use server::api::create_api_key;
use server::{AppState, router};

async fn calls(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM calls").fetch_one(pool).await)
        .unwrap()
}

/// One span with usage, as an OTLP/JSON export.
fn otlp_export() -> String {
    let now_ns = app::db::now_ms() as u128 * 1_000_000;
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "finishline.workflow", "value": {"stringValue": "support-triage"}},
        ]},
        "scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "name": "chat claude-haiku-4-5",
            "startTimeUnixNano": now_ns.to_string(),
            "endTimeUnixNano": (now_ns + 900_000_000).to_string(),
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "claude-haiku-4-5"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
            ],
        }]}],
    }]})
    .to_string()
}

#[tokio::test]
async fn a_database_that_refuses_writes_answers_503_loses_nothing_and_pages_say_so() {
    let t = sqlite().await;
    catalog(&t.db).await;
    app::service::accounts::create_first_admin(&t.db, ADMIN, Some(PASSWORD.into()), 0)
        .await
        .unwrap();
    let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
    // The same file opened read-only, as after a remount, a permissions change or a full disk;
    // both servers share what they know about writes, as one process would.
    let health = WriteHealth::default();
    let read_only = Db::connect(&format!("{}?mode=ro", t.url)).await.unwrap();
    let refusing = router(AppState {
        write_health: health.clone(),
        ..state(&read_only)
    });
    let writing = router(AppState {
        write_health: health.clone(),
        ..state(&t.db)
    });
    let cookie = sign_in(&writing, ADMIN, PASSWORD).await;

    let body = batch(&today()).to_string();
    let refused = send(
        &refusing,
        Request::post("/api/v1/ingest")
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert!(refused.headers.contains_key(header::RETRY_AFTER));
    let error: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(error["error"]["code"], "read_only", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only or the disk is full"),
        "{error}"
    );

    let export = send(
        &refusing,
        Request::post("/v1/traces")
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Body::from(otlp_export()))
            .unwrap(),
    )
    .await;
    assert_eq!(
        export.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        export.body
    );
    assert!(export.headers.contains_key(header::RETRY_AFTER));
    assert!(
        export.body.contains("nothing in this export was stored"),
        "{}",
        export.body
    );
    assert_eq!(calls(&t.db).await, 0, "nothing half-written");

    // Pages still read, and say since when new data has been refused.
    let overview = send(&refusing, page("/", Some(&cookie))).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(
        overview.body.contains("Figures may be stale"),
        "{}",
        overview.body
    );
    assert!(overview.body.contains("read-only or the disk is full"));

    // Once the database takes writes, the senders' retries are stored once and the notice goes.
    let (status, result) = post(&writing, &key, "application/json", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let (status, _) = post(&writing, &key, "application/json", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calls(&t.db).await, 2, "the retried batch's two calls, once");
    let overview = send(&writing, page("/", Some(&cookie))).await;
    assert!(!overview.body.contains("Figures may be stale"));
}
