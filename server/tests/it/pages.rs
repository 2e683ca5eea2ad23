//! Pages rendered by the real router from the database.

use crate::helpers::{ADMIN, PASSWORD, app, get, page, people, send, sign_in, test_databases};
use axum::http::StatusCode;
use server::demo::{self, DemoSpec};

#[tokio::test]
async fn health_reports_a_reachable_database() {
    for t in test_databases().await {
        let (status, body) = get(&app(&t.db), "/healthz").await;
        assert_eq!(status, StatusCode::OK, "{}", t.backend);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "ok");
        assert_eq!(json["database"], "reachable");
    }
}

#[tokio::test]
async fn health_says_degraded_when_the_database_is_gone() {
    let t = crate::helpers::sqlite().await;
    let router = app(&t.db);
    t.db.close().await;
    let (status, body) = get(&router, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("unreachable"), "{body}");
}

#[tokio::test]
async fn an_empty_installation_explains_what_to_do_first() {
    let t = crate::helpers::sqlite().await;
    app::service::accounts::create_first_admin(&t.db, ADMIN, Some(PASSWORD.into()), 0)
        .await
        .unwrap();
    let router = app(&t.db);
    let cookie = sign_in(&router, ADMIN, PASSWORD).await;
    let reply = send(&router, page("/", Some(&cookie))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains("No workflows yet"), "{}", reply.body);
}

#[tokio::test]
async fn the_overview_is_rendered_on_the_server_from_stored_data() {
    for t in test_databases().await {
        let today = app::domain::time::day_of(app::db::now_ms());
        demo::load(
            &t.db,
            &DemoSpec {
                seed: 3,
                tasks: 400,
                end_day: today,
            },
        )
        .await
        .unwrap();
        let router = app(&t.db);
        let cookie = sign_in(
            &router,
            "finance@demo.finishline.test",
            "demo-finance-password",
        )
        .await;
        let reply = send(&router, page("/?days=90", Some(&cookie))).await;
        let (status, body) = (reply.status, reply.body);
        assert_eq!(status, StatusCode::OK, "{}", t.backend);
        for name in [
            "Support triage",
            "Invoice clearing",
            "Memo drafting",
            "Refund replies",
            "Customer Operations",
        ] {
            assert!(body.contains(name), "{}: {name} missing", t.backend);
        }
        assert!(body.contains("data-workflow=\"support-triage\""));
        assert!(
            body.contains("budget"),
            "budget verdicts are shown in words"
        );
        // The hydration script is on the page for the browser to pick up.
        assert!(
            body.contains("/pkg/finishline.js"),
            "hydration script missing"
        );
    }
}

#[tokio::test]
async fn an_unknown_address_is_a_404_page() {
    let t = crate::helpers::sqlite().await;
    people(&t.db).await;
    let router = app(&t.db);
    let cookie = sign_in(&router, ADMIN, PASSWORD).await;
    let reply = send(&router, page("/no/such/page", Some(&cookie))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("Page not found"));
}

/// Another router built in the same process while pages render (as every test here does, and
/// as an embedding program could) must not leave those pages waiting for data forever.
#[tokio::test]
async fn pages_render_while_another_router_is_being_built() {
    let t = crate::helpers::sqlite().await;
    people(&t.db).await;
    let router = app(&t.db);
    let cookie = sign_in(&router, ADMIN, PASSWORD).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = {
        let (db, stop) = (t.db.clone(), stop.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the other router");
            let _inside = runtime.enter();
            let mut built = 0_u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                drop(app(&db));
                built += 1;
            }
            built
        })
    };
    for round in 0..200 {
        let answer = send(&router, page("/account", Some(&cookie)));
        let reply = tokio::time::timeout(std::time::Duration::from_secs(5), answer).await;
        let Ok(reply) = reply else {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            panic!("round {round}: /account did not answer while another router was built");
        };
        assert_eq!(reply.status, StatusCode::OK, "round {round}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let built = builder.join().expect("the other router builds");
    assert!(built > 0, "no router was built alongside the pages");
}
