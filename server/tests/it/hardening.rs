//! Redirects after sign-in, sign-in throttling under a burst, the Origin check's scheme, the
//! API's security headers, grading a skipped task, and the answers about other teams'
//! workflows and teams: each through the real router on both backends.

use crate::helpers::{
    ADMIN, HOST, OWNER, PASSWORD, api_get, app, call, call_from, enc, people, refusal, rpc, send,
    sign_in, test_databases,
};
use app::model::KeyScope;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

fn sign_in_form(email: &str, password: &str, next: &str) -> Request<Body> {
    let form = format!(
        "email={}&password={}&next={}",
        enc(email),
        enc(password),
        enc(next)
    );
    let mut request = call("sign_in", &form, None);
    request
        .headers_mut()
        .insert("accept", "text/html".parse().unwrap());
    request
}

#[tokio::test]
async fn sign_in_follows_only_paths_on_this_site_and_never_fails_on_next() {
    for t in test_databases().await {
        people(&t.db).await;
        let router = app(&t.db);
        let reply = send(&router, sign_in_form(ADMIN, PASSWORD, "/keys?x=1#top")).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", t.backend);
        assert_eq!(reply.header("location"), Some("/keys?x=1#top"));
        for hostile in [
            "//evil.example/",
            "/\\evil.example/",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/\u{1}",
            "/\u{7f}",
            "/\u{0}/evil.example",
            "/..//evil.example",
            "/%2e%2e//evil.example",
            " //evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
        ] {
            let reply = send(&router, sign_in_form(ADMIN, PASSWORD, hostile)).await;
            assert_eq!(
                reply.status,
                StatusCode::FOUND,
                "{}: {hostile:?}: {}",
                t.backend,
                reply.body
            );
            assert_eq!(
                reply.header("location"),
                Some("/"),
                "{}: {hostile:?} must lead to the landing page",
                t.backend
            );
            // A refused sign-in keeps only a next that is safe to send back to the form.
            let reply = send(&router, sign_in_form(ADMIN, "wrong password", hostile)).await;
            assert_eq!(
                reply.header("location"),
                Some("/sign-in?problem=incorrect"),
                "{}: {hostile:?}",
                t.backend
            );
            // The failures above must not lock the admin out of the next rounds.
            app::db::identity::prune_sign_in_records(&t.db, i64::MAX)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_checks_at_most_the_limit() {
    for t in test_databases().await {
        people(&t.db).await;
        // The admission share in front of sign-in (two at once per address) would refuse
        // most of the burst before it reached the throttle this test is about.
        let limits = server::limits::Limits {
            sign_in_per_address: 64,
            sign_ins: 64,
            ..server::limits::Limits::default()
        };
        let router = server::router(crate::helpers::state(&t.db).with_limits(limits));
        let burst = |email: String, address: &'static str| {
            let router = router.clone();
            tokio::spawn(async move {
                let form = format!("email={}&password=wrong", enc(&email));
                let mut request = call("sign_in", &form, None);
                let at: std::net::SocketAddr = format!("{address}:5000").parse().unwrap();
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(at));
                send(&router, request).await.status
            })
        };
        // Thirty at once on one account: five are checked, the rest refused unchecked.
        let answers = futures_all((0..30).map(|_| burst(OWNER.to_owned(), "10.1.0.1"))).await;
        let checked = answers
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        let refused = answers
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!(
            (checked, refused),
            (
                app::service::accounts::MAX_ACCOUNT_FAILURES,
                30 - app::service::accounts::MAX_ACCOUNT_FAILURES
            ),
            "{}: {answers:?}",
            t.backend
        );
        // Thirty accounts at once from one address: twenty are checked.
        let answers =
            futures_all((0..30).map(|n| burst(format!("guess{n}@example.com"), "10.1.0.2"))).await;
        let checked = answers
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        assert_eq!(
            checked,
            app::service::accounts::MAX_ADDRESS_FAILURES,
            "{}: {answers:?}",
            t.backend
        );
        // Refused attempts are not failures: the owner is locked by the five, no more.
        let stored: i64 = app::db::on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_attempts WHERE email = $1")
            .bind(OWNER)
            .fetch_one(pool)
            .await)
        .unwrap();
        assert_eq!(stored, 5, "{}", t.backend);
    }
}

async fn futures_all(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<StatusCode>>,
) -> Vec<StatusCode> {
    let mut answers = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        answers.push(task.await.expect("the attempt answers"));
    }
    answers
}

#[tokio::test]
async fn a_form_from_this_host_over_another_scheme_or_port_is_refused() {
    for t in test_databases().await {
        people(&t.db).await;
        let router = app(&t.db);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        for origin in [
            format!("https://{HOST}"),
            "http://localhost:3001".to_owned(),
            "http://localhost".to_owned(),
            format!("http://{HOST}.evil.example"),
        ] {
            let reply = send(
                &router,
                call_from(
                    "create_api_key",
                    "name=x&scopes%5B%5D=all",
                    Some(&admin),
                    Some(&origin),
                ),
            )
            .await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{}: {origin}",
                t.backend
            );
        }
        let reply = rpc(&router, "create_api_key", "name=x&scopes%5B%5D=all", &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
}

#[tokio::test]
async fn api_answers_carry_the_security_headers() {
    let t = crate::helpers::sqlite().await;
    people(&t.db).await;
    let router = app(&t.db);
    let key = server::api::create_api_key(&t.db, "k", &[], None)
        .await
        .unwrap();
    let figures = Request::get("/api/v1/figures")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let anonymous = Request::get("/api/v1/figures").body(Body::empty()).unwrap();
    let traces = Request::post("/v1/traces")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    for (request, authenticated) in [(figures, true), (anonymous, false), (traces, false)] {
        let what = request.uri().to_string();
        let reply = send(&router, request).await;
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(
            reply.header("referrer-policy"),
            Some("no-referrer"),
            "{what}"
        );
        let policy = reply.header("content-security-policy").unwrap_or_default();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{what}: {policy}"
        );
        if authenticated {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}");
        }
    }
}

#[tokio::test]
async fn a_reviewer_cannot_grade_a_task_they_skipped() {
    for t in test_databases().await {
        let who = people(&t.db).await;
        let router = app(&t.db);
        let key = server::api::create_api_key(&t.db, "k", &[], None)
            .await
            .unwrap();
        let now = app::db::now_ms() - 3_600_000;
        let tasks: Vec<Value> = (0..2)
            .map(|n| {
                json!({"id": format!("t-{n}"), "workflow": "support-triage",
                       "started_at": now, "finished_at": now + 1_000, "status": "completed"})
            })
            .collect();
        let request = Request::post("/api/v1/ingest")
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Body::from(json!({ "tasks": tasks }).to_string()))
            .unwrap();
        assert_eq!(send(&router, request).await.status, StatusCode::OK);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let form = format!(
            "workflow_id={}&days=30&escalation_reason=&status=",
            who.workflow_a
        );
        let reply = rpc(&router, "force_review", &form, &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let slot: Value =
            serde_json::from_str(&rpc(&router, "next_review", "", &admin).await.body).unwrap();
        let item = slot["task"]["item_id"].as_i64().expect("an item to grade");
        let reply = rpc(&router, "skip_review", &format!("item_id={item}"), &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let reply = rpc(
            &router,
            "submit_grade",
            &format!("item_id={item}&verdict=pass&edit_severity=none&minutes=1&note="),
            &admin,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {}",
            t.backend,
            reply.body
        );
        assert!(
            refusal(&reply.body).starts_with("item_id: you skipped this task"),
            "{}",
            reply.body
        );
        let grades: i64 = app::db::on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM grades").fetch_one(pool).await)
        .unwrap();
        assert_eq!(grades, 0, "{}", t.backend);
    }
}

#[tokio::test]
async fn other_teams_workflows_and_teams_answer_like_unknown_ones() {
    for t in test_databases().await {
        let who = people(&t.db).await;
        let router = app(&t.db);
        // A key for team A's workflow asks about team B's workflow, team and task type.
        let key =
            server::api::create_api_key(&t.db, "a", &[KeyScope::Workflow(who.workflow_a)], None)
                .await
                .unwrap();
        let mut tx = t.db.begin().await.unwrap();
        for workflow_id in [who.workflow_a, who.workflow_b] {
            let task_type = app::db::workflow::NewTaskType {
                workflow_id,
                slug: if workflow_id == who.workflow_b {
                    "secret-type"
                } else {
                    "ticket"
                },
                name: "T",
                user_goal: "g",
                pass_condition: "p",
                review_method: app::domain::status::ReviewMethod::Both,
                segments: &[],
            };
            app::db::workflow::insert_task_type(&mut tx, &task_type, 0)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        for (param, elsewhere, nowhere) in [
            ("workflow", "invoice-clearing", "no-such-workflow"),
            ("team", "finance-ops", "no-such-team"),
            ("task_type", "secret-type", "no-such-type"),
        ] {
            let ask = |value: &str| format!("/api/v1/figures?{param}={value}");
            let (status_a, body_a) = api_get(&router, &ask(elsewhere), &key).await;
            let (status_b, body_b) = api_get(&router, &ask(nowhere), &key).await;
            assert_eq!(
                status_a, status_b,
                "{}: {param}: {body_a} / {body_b}",
                t.backend
            );
            assert!(
                status_a.is_client_error(),
                "{}: {param}: {body_a}",
                t.backend
            );
            assert_eq!(
                body_a.replace(elsewhere, "X"),
                body_b.replace(nowhere, "X"),
                "{}: {param}",
                t.backend
            );
        }
        // An owner choosing another team, or a team that does not exist, hears the same.
        let owner = sign_in(&router, OWNER, PASSWORD).await;
        let answer = |team: i64| {
            format!(
                "id=0&slug=new-flow&name=New&team_id={team}&description=&budget=0.60\
                 &quality_target=90&gate_window_days=30&gate_min_sample=400&drift_tolerance=10\
                 &sampling_rate=5&second_grader_rate=20"
            )
        };
        let elsewhere = rpc(&router, "save_workflow", &answer(who.team_b), &owner).await;
        let nowhere = rpc(&router, "save_workflow", &answer(9_999), &owner).await;
        assert_eq!(
            elsewhere.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            elsewhere.body
        );
        assert_eq!(
            (elsewhere.status, &elsewhere.body),
            (nowhere.status, &nowhere.body),
            "{}",
            t.backend
        );
    }
}

/// Arguments a server function cannot read are the caller's mistake: a 400 saying so, never a
/// 500, for every function, signed in or not.
#[tokio::test]
async fn unreadable_server_function_arguments_get_400() {
    let t = crate::helpers::sqlite().await;
    people(&t.db).await;
    let router = app(&t.db);
    let admin = crate::helpers::sign_in(&router, ADMIN, crate::helpers::PASSWORD).await;
    for (endpoint, form) in [
        ("get_task_trace", "id=abc"),
        ("get_task_trace", ""),
        ("get_task_trace", "id=99999999999999999999999"),
        ("get_task_trace", "id=1&id=2"),
        ("get_task_trace", "%zz=%zz"),
    ] {
        let reply = crate::helpers::rpc(&router, endpoint, form, &admin).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{endpoint}({form}): {}",
            reply.body
        );
    }
}
