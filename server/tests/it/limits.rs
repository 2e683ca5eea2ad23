//! Timeouts, the connection cap, per-key and per-address shares, the upload memory budget and
//! the health check under load: through the real router, or a real socket on loopback where a
//! connection's timing is the point. Limits are set small so that every test is quick.

use crate::helpers::{HOST, sqlite, state, test_databases};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use server::limits::Limits;
use server::router;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

/// Small limits: timeouts of a fraction of a second, a handful of connections and requests.
fn small() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
        max_connections: 8,
        ..Limits::default()
    }
}

/// Serves the application over `db` on a loopback port until the returned sender is dropped.
async fn serve(db: &app::db::Db, limits: Limits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = router(state(db).with_limits(limits.clone()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::connections::serve(
        listener,
        app,
        limits,
        async move {
            let _ = stopped.await;
        },
    ));
    (address, stop)
}

/// Whether the server has closed `stream`, waiting up to `wait` for it to.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// The status line and the rest of one answer on a `Connection: close` exchange.
async fn exchange(address: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

const HEALTH: &str = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

#[tokio::test]
async fn a_silent_client_is_disconnected_after_the_header_timeout() {
    let db = sqlite().await;
    let (address, _stop) = serve(&db.db, small()).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(address).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await);
    assert!(started.elapsed() >= Duration::from_millis(250));

    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(5)).await,
        "headers that never end are cut off too"
    );
    assert!(exchange(address, HEALTH).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    let db = sqlite().await;
    let (address, _stop) = serve(&db.db, small()).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let read = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..read]).starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut stream, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn the_connection_cap_holds_while_the_health_check_still_answers() {
    let db = sqlite().await;
    let limits = Limits {
        header_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..small()
    };
    let (address, _stop) = serve(&db.db, limits.clone()).await;
    let mut silent = Vec::new();
    for _ in 0..3 * limits.max_connections {
        silent.push(TcpStream::connect(address).await.unwrap());
    }
    for _ in 0..3 {
        let health = exchange(address, HEALTH).await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    }
    let mut open = 0;
    for stream in &mut silent {
        if !closed_within(stream, Duration::from_millis(20)).await {
            open += 1;
        }
    }
    assert!(
        open <= limits.max_connections,
        "{open} silent connections still open"
    );
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408() {
    let db = sqlite().await;
    let key = server::api::create_api_key(&db.db, "slow", &[], None)
        .await
        .unwrap();
    let (address, _stop) = serve(&db.db, small()).await;
    let answer = exchange(
        address,
        &format!(
            "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"calls\": ["
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("timed_out"));
}

/// A request body that never arrives.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

/// An ingestion request whose body is still arriving: it holds its key's share until aborted.
fn stalled_ingest(app: &axum::Router, key: &str) -> tokio::task::JoinHandle<()> {
    let request = Request::post("/api/v1/ingest")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::new(Stalled))
        .unwrap();
    let app = app.clone();
    tokio::spawn(async move {
        let _ = app.oneshot(request).await;
    })
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, Option<String>, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        retry_after,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

fn figures(key: &str) -> Request<Body> {
    Request::get("/api/v1/figures")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn one_key_over_its_concurrency_gets_429_with_retry_after_while_another_key_is_served() {
    for db in test_databases().await {
        let mut limits = Limits::default();
        limits.per_key.concurrency = 2;
        let app = router(state(&db.db).with_limits(limits));
        let busy = server::api::create_api_key(&db.db, "busy", &[], None)
            .await
            .unwrap();
        let other = server::api::create_api_key(&db.db, "other", &[], None)
            .await
            .unwrap();
        let held = [stalled_ingest(&app, &busy), stalled_ingest(&app, &busy)];
        tokio::time::sleep(Duration::from_millis(200)).await;

        let (status, retry_after, body) = send(&app, figures(&busy)).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}: {body}",
            db.backend
        );
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert!(body.contains("rate_limited"), "{body}");
        let (status, _, body) = send(&app, figures(&other)).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", db.backend);

        for request in held {
            request.abort();
            let _ = request.await;
        }
        let (status, _, _) = send(&app, figures(&busy)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}: served again once its requests end",
            db.backend
        );
    }
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_saying_when_to_come_back() {
    let db = sqlite().await;
    let mut limits = Limits::default();
    limits.per_key.rate = 0.5;
    limits.per_key.burst = 3.0;
    let app = router(state(&db.db).with_limits(limits));
    let key = server::api::create_api_key(&db.db, "fast", &[], None)
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(send(&app, figures(&key)).await.0, StatusCode::OK);
    }
    let (status, retry_after, _) = send(&app, figures(&key)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.as_deref(), Some("2"));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_gzip_bomb_gets_413_without_being_inflated_whole() {
    let db = sqlite().await;
    let limits = Limits {
        intake_memory: 4 * 1024 * 1024,
        ..Limits::default()
    };
    let state = state(&db.db).with_limits(limits);
    let admission = state.admission.clone();
    let app = router(state);
    let key = server::api::create_api_key(&db.db, "bomb", &[], None)
        .await
        .unwrap();
    let bomb = gzip(&vec![b'0'; 48 * 1024 * 1024]);
    assert!(bomb.len() < 256 * 1024);
    for (path, content_type) in [
        ("/v1/traces", "application/x-protobuf"),
        ("/v1/traces", "application/json"),
        ("/api/v1/ingest", "application/json"),
    ] {
        let request = Request::post(path)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", content_type)
            .header("content-encoding", "gzip")
            .body(Body::from(bomb.clone()))
            .unwrap();
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
        assert!(body.contains("4 MiB"), "{path}: {body}");
        assert_eq!(
            admission.intake.available(),
            admission.intake.total(),
            "nothing stays reserved"
        );
    }
}

#[tokio::test]
async fn the_health_check_is_not_reported_unreachable_while_one_key_saturates_the_api() {
    for db in test_databases().await {
        let mut limits = Limits::default();
        limits.per_key.concurrency = 200;
        let app = router(state(&db.db).with_limits(limits));
        let key = server::api::create_api_key(&db.db, "heavy", &[], None)
            .await
            .unwrap();
        let burst: Vec<_> = (0..120)
            .map(|_| {
                let (app, request) = (app.clone(), figures(&key));
                tokio::spawn(async move { send(&app, request).await.0 })
            })
            .collect();
        let (status, _, health) =
            send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{}: {health}", db.backend);
        assert!(!health.contains("unreachable"), "{health}");
        for answer in burst {
            let status = answer.await.unwrap();
            assert!(
                status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
                "{}: {status}",
                db.backend
            );
        }
    }
}

#[tokio::test]
async fn a_pool_with_every_connection_in_use_is_reported_busy_not_unreachable() {
    let db = sqlite().await;
    let app = router(state(&db.db));
    let app::db::Db::Sqlite(pool, _) = &db.db else {
        unreachable!()
    };
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    let (status, _, health) =
        send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(health.contains("\"database\":\"busy\""), "{health}");
    drop(held);
    let (_, _, health) = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert!(health.contains("\"database\":\"reachable\""), "{health}");
}

#[tokio::test]
async fn a_sign_in_burst_from_one_address_gets_429_with_retry_after() {
    for db in test_databases().await {
        let app = router(state(&db.db));
        let burst: Vec<_> = (0..30)
            .map(|i| {
                let request = Request::post("/rpc/sign_in")
                    .header("host", HOST)
                    .header("origin", format!("http://{HOST}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(format!(
                        "email=someone{}%40example.com&password=wrong-password-{i}&next=",
                        i % 3
                    )))
                    .unwrap();
                let app = app.clone();
                tokio::spawn(async move { send(&app, request).await })
            })
            .collect();
        let mut limited = 0;
        for answer in burst {
            let (status, retry_after, body) = answer.await.unwrap();
            assert!(!status.is_server_error(), "{}: {status} {body}", db.backend);
            if status == StatusCode::TOO_MANY_REQUESTS {
                assert!(retry_after.is_some());
                limited += 1;
            }
        }
        assert!(limited > 0, "{}: no sign-in was refused", db.backend);
    }
}
