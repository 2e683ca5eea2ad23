//! Fresh databases per test on both backends, a way to drive the router without a port, and
//! the real binary for tests that must kill it or its database.

use app::db::Db;
use app::domain::Micros;
use app::model::WorkflowSettings;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::{AppState, router};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tower::ServiceExt;

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    pub db: Db,
    pub backend: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// One fresh database on each backend. PostgreSQL is required: `scripts/test` starts a
/// throw-away cluster and sets `FINISHLINE_TEST_PG_URL`.
pub async fn test_databases() -> Vec<TestDb> {
    vec![sqlite().await, postgres().await]
}

/// One fresh database on each backend with no schema yet, for tests of the migrations.
pub async fn empty_databases() -> Vec<TestDb> {
    vec![empty_sqlite().await, empty_postgres().await]
}

pub async fn sqlite() -> TestDb {
    let t = empty_sqlite().await;
    t.db.migrate().await.expect("SQLite migrates");
    t
}

pub async fn postgres() -> TestDb {
    let t = empty_postgres().await;
    t.db.migrate().await.expect("PostgreSQL migrates");
    t
}

async fn empty_sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = Db::connect(&url).await.expect("SQLite opens");
    TestDb {
        db,
        backend: "sqlite",
        url,
        _dir: Some(dir),
    }
}

async fn empty_postgres() -> TestDb {
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
    let url = format!("{base}/{name}");
    let db = Db::connect(&url).await.expect("the test database opens");
    TestDb {
        db,
        backend: "postgres",
        url,
        _dir: None,
    }
}

/// The real binary with its SQLite database in `data`; set `DATABASE_URL` on the command to
/// use another database.
pub fn finishline(data: &Path) -> Command {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut command = Command::new(env!("CARGO_BIN_EXE_finishline"));
    command
        .current_dir(root)
        .env("FINISHLINE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

/// Runs `finishline serve` on `port` and waits until it listens.
pub async fn serve(mut finishline: Command, port: u16) -> Child {
    let mut child = finishline
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not listen on {port}");
}

/// A data folder with the demo dataset of `tasks` tasks.
pub fn demo_data(tasks: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    load_demo(finishline(dir.path()), tasks);
    dir
}

/// Loads the demo dataset of `tasks` tasks into the database `finishline` uses.
pub fn load_demo(mut finishline: Command, tasks: u32) {
    let status = finishline
        .args(["demo", "--tasks", &tasks.to_string()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the demo dataset loads");
}

/// A new API key that sees every workflow, made with `finishline api-key`.
pub fn new_api_key(mut finishline: Command, name: &str) -> String {
    let key = finishline
        .args(["api-key", "--name", name])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8(key.stdout).unwrap().trim().to_owned()
}

/// A loopback port nothing listens on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The whole application over `db`, as `serve` builds it.
pub fn app(db: &Db) -> axum::Router {
    router(state(db))
}

/// What the application's handlers share, for tests that change part of it.
pub fn state(db: &Db) -> AppState {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .with_thread_names(true)
        .with_ansi(false)
        .try_init();
    let leptos = LeptosOptions::builder()
        .output_name("finishline")
        .site_root("target/site")
        .build();
    AppState::new(db.clone(), leptos)
}

/// Sends a GET through the router and returns the status and body text.
pub async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String) {
    let reply = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (reply.status, reply.body)
}

/// Sends a GET with an API key through the router and returns the status and body text.
pub async fn api_get(app: &axum::Router, uri: &str, key: &str) -> (StatusCode, String) {
    let request = Request::get(uri)
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let reply = send(app, request).await;
    (reply.status, reply.body)
}

/// A workflow's settings as a product owner would first write them.
pub fn workflow_settings(team_id: i64, slug: &str) -> WorkflowSettings {
    WorkflowSettings {
        latency_budget_ms: None,
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

/// A request posting a batch to the ingestion API with `key`.
pub fn ingest_request(key: &str, body: &serde_json::Value) -> Request<Body> {
    Request::post("/api/v1/ingest")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Posts a batch to the ingestion API with `key`, and checks every item of it was stored.
pub async fn ingest(router: &axum::Router, key: &str, body: &serde_json::Value) {
    let reply = send(router, ingest_request(key, body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// The host every browser-like test request is addressed to.
pub const HOST: &str = "localhost:3000";
/// The password of every account the tests make.
pub const PASSWORD: &str = "correct horse battery";

/// What the router answered.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `name=value` part of the session cookie the reply set, if it set one.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("finishline_session=") && !v.contains("Max-Age=0"))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }
}

/// How long one request may take before the test fails with the request named, rather than
/// waiting until CI gives up (a page render that never completes has been seen when several
/// tests render pages at once).
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn send(app: &axum::Router, request: Request<Body>) -> Reply {
    let what = format!("{} {}", request.method(), request.uri());
    let answer = async {
        let response = app
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    };
    match tokio::time::timeout(ANSWER_WITHIN, answer).await {
        Ok(reply) => reply,
        Err(_) => panic!("{what}: no answer within {ANSWER_WITHIN:?}"),
    }
}

/// A page request as a browser sends it, with the session cookie if there is one.
pub fn page(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(uri)
        .header("host", HOST)
        .header("accept", "text/html");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    builder.body(Body::empty()).unwrap()
}

/// A server function call from a page of this site (same Origin), form-encoded.
pub fn call(endpoint: &str, form: &str, cookie: Option<&str>) -> Request<Body> {
    call_from(endpoint, form, cookie, Some(&format!("http://{HOST}")))
}

/// A server function call with the given Origin header (or none).
pub fn call_from(
    endpoint: &str,
    form: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Request<Body> {
    let mut builder = Request::post(format!("/rpc/{endpoint}"))
        .header("host", HOST)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    builder.body(Body::from(form.to_owned())).unwrap()
}

/// Form-encodes one value.
pub fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A server function call from a page of this site by a signed-in person.
pub async fn rpc(app: &axum::Router, endpoint: &str, form: &str, cookie: &str) -> Reply {
    send(app, call(endpoint, form, Some(cookie))).await
}

/// Signs in through the real sign-in call and returns the session cookie (`name=value`).
pub async fn sign_in(app: &axum::Router, email: &str, password: &str) -> String {
    let form = format!("email={}&password={}", enc(email), enc(password));
    let reply = send(app, call("sign_in", &form, None)).await;
    assert!(
        reply.status.is_success() || reply.status.is_redirection(),
        "signing in as {email}: {} {}",
        reply.status,
        reply.body
    );
    reply
        .session_cookie()
        .expect("signing in sets a session cookie")
}

/// Two teams with a workflow each and one person per role (the owner and the reviewer in
/// team A), all with [`PASSWORD`].
pub struct People {
    pub team_a: i64,
    pub team_b: i64,
    pub workflow_a: i64,
    pub workflow_b: i64,
    pub admin: i64,
    pub owner: i64,
}

pub const ADMIN: &str = "admin@example.com";
pub const OWNER: &str = "owner@example.com";
pub const FINANCE: &str = "finance@example.com";
pub const REVIEWER: &str = "reviewer@example.com";

/// Adds the task type `ticket` to `workflow_id`, judged by one rule: a reply is present.
pub async fn add_ticket_type(tx: &mut app::db::Tx, workflow_id: i64) -> i64 {
    use app::db::workflow;
    let task_type = workflow::NewTaskType {
        workflow_id,
        slug: "ticket",
        name: "Ticket",
        user_goal: "Answer",
        pass_condition: "A reply is given",
        review_method: app::domain::status::ReviewMethod::Automatic,
        segments: &[],
    };
    let type_id = workflow::insert_task_type(tx, &task_type, 0).await.unwrap();
    let rule = app::domain::rule::Rule::FieldsPresent {
        fields: vec!["reply".into()],
    };
    workflow::insert_success_rule(tx, type_id, &rule.to_json(), 0, None, 0)
        .await
        .unwrap();
    type_id
}

pub async fn people(db: &Db) -> People {
    use app::db::{identity, now_ms, workflow};
    use app::domain::status::Role;
    let now = now_ms();
    let hash = app::service::auth::hash_password(PASSWORD.to_owned())
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    let team_a = identity::insert_team(&mut tx, "support", "Support", Micros(40_000_000), now)
        .await
        .unwrap();
    let team_b = identity::insert_team(
        &mut tx,
        "finance-ops",
        "Finance Ops",
        Micros(55_000_000),
        now,
    )
    .await
    .unwrap();
    let workflow_a =
        workflow::insert_workflow(&mut tx, &workflow_settings(team_a, "support-triage"), now)
            .await
            .unwrap();
    let mut invoices = workflow_settings(team_b, "invoice-clearing");
    invoices.name = "Invoice clearing".into();
    let workflow_b = workflow::insert_workflow(&mut tx, &invoices, now)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (email, role) in [
        (ADMIN, Role::Admin),
        (OWNER, Role::Owner),
        (FINANCE, Role::Finance),
        (REVIEWER, Role::Reviewer),
    ] {
        let user = identity::NewUser {
            email,
            name: email.split('@').next().unwrap(),
            password_hash: &hash,
            role,
            can_edit_costs: false,
            is_demo: false,
            must_change_password: false,
        };
        ids.push(identity::insert_user(&mut tx, &user, now).await.unwrap());
    }
    identity::add_user_to_team(&mut tx, ids[1], team_a)
        .await
        .unwrap();
    identity::add_user_to_team(&mut tx, ids[3], team_a)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    People {
        team_a,
        team_b,
        workflow_a,
        workflow_b,
        admin: ids[0],
        owner: ids[1],
    }
}

/// A server function's refusal of one field as `"field: reason"` (its `field` and `reason` on
/// the wire), or the whole body when it is not one.
pub fn refusal(body: &str) -> String {
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    match (
        error["code"].as_str(),
        error["field"].as_str(),
        error["reason"].as_str(),
    ) {
        (Some("invalid_parameter"), Some(field), Some(reason)) => format!("{field}: {reason}"),
        _ => body.to_owned(),
    }
}
