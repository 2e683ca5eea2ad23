//! Fresh databases per test on both backends, and a way to drive the router without a port.

use app::db::Db;
use app::domain::Micros;
use app::model::WorkflowSettings;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::{AppState, router};
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    pub db: Db,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// One fresh database on each backend. PostgreSQL is required: `scripts/test` starts a
/// throw-away cluster and sets `FINISHLINE_TEST_PG_URL`.
pub async fn test_databases() -> Vec<TestDb> {
    vec![sqlite().await, postgres().await]
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = Db::connect(&url).await.expect("SQLite opens");
    db.migrate().await.expect("SQLite migrates");
    TestDb {
        db,
        backend: "sqlite",
        _dir: Some(dir),
    }
}

pub async fn postgres() -> TestDb {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let admin_url = std::env::var("FINISHLINE_TEST_PG_URL").expect(
        "FINISHLINE_TEST_PG_URL is not set. Run scripts/test (it starts a throw-away PostgreSQL), \
         or point it at a server where this user may create databases, e.g. postgres://postgres@127.0.0.1:5432/postgres",
    );
    let name = format!(
        "finishline_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let admin = Db::connect(&admin_url)
        .await
        .expect("PostgreSQL is reachable at FINISHLINE_TEST_PG_URL");
    if let Db::Postgres(pool) = &admin {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(pool)
            .await
            .expect("a test database is created");
    }
    admin.close().await;
    let base = &admin_url[..admin_url.rfind('/').expect("the URL names a database")];
    let db = Db::connect(&format!("{base}/{name}"))
        .await
        .expect("the test database opens");
    db.migrate().await.expect("PostgreSQL migrates");
    TestDb {
        db,
        backend: "postgres",
        _dir: None,
    }
}

pub fn app(db: &Db) -> axum::Router {
    let leptos = LeptosOptions::builder()
        .output_name("finishline")
        .site_root("target/site")
        .build();
    router(AppState::new(db.clone(), leptos))
}

/// Sends a GET through the router and returns the status and body text.
pub async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Sends a GET with an API key through the router and returns the status and body text.
pub async fn api_get(app: &axum::Router, uri: &str, key: &str) -> (StatusCode, String) {
    let request = Request::get(uri)
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let response = app
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A workflow's settings as a product owner would first write them.
pub fn workflow_settings(team_id: i64, slug: &str) -> WorkflowSettings {
    WorkflowSettings {
        slug: slug.into(),
        name: "Support triage".into(),
        team_id,
        description: "Drafts first replies".into(),
        budget_cpst_micros: Micros(600_000),
        quality_target_bp: 9_000,
        gate_window_days: 30,
        gate_min_sample: 400,
        drift_tolerance_bp: 1_000,
        review_sampling_bp: 500,
        second_grader_bp: 2_000,
    }
}

/// The last day of the tests' demo data, fixed so that figures never depend on today.
pub const DEMO_END_DAY: i64 = 20_400;

/// Loads the demo dataset ending on [`DEMO_END_DAY`] and returns an API key that sees every
/// workflow.
pub async fn demo_with_key(db: &Db, seed: u64, tasks: u64) -> String {
    let spec = server::demo::DemoSpec {
        seed,
        tasks,
        end_day: DEMO_END_DAY,
    };
    server::demo::load(db, &spec).await.expect("the demo loads");
    server::api::create_api_key(db, "test", &[], None)
        .await
        .expect("a key is created")
}
