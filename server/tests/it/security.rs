//! Accounts, roles and web security through the real router: each role against each kind of
//! endpoint, team scope, CSRF, sessions, throttling, API keys and headers.

use crate::helpers::{
    ADMIN, FINANCE, HOST, OWNER, PASSWORD, REVIEWER, api_get, app, call, call_from, enc, page,
    people, refusal, rpc, send, sign_in, test_databases,
};
use app::db::{self, identity};
use app::service::accounts::SessionSettings;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use server::AppState;
use server::web::WebSettings;
use std::net::SocketAddr;

/// What each role gets from each kind of endpoint: (request, admin, owner, finance, reviewer).
#[tokio::test]
async fn each_role_reaches_only_what_its_role_includes() {
    use StatusCode as S;
    for t in test_databases().await {
        people(&t.db).await;
        let app = app(&t.db);
        let mut cookies = Vec::new();
        for email in [ADMIN, OWNER, FINANCE, REVIEWER] {
            cookies.push(sign_in(&app, email, PASSWORD).await);
        }
        let pages = [
            ("/", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            ("/costs", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            ("/keys", [S::OK, S::OK, S::FORBIDDEN, S::FORBIDDEN]),
            ("/users", [S::OK, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN]),
            ("/audit", [S::OK, S::OK, S::FORBIDDEN, S::FORBIDDEN]),
            ("/account", [S::OK, S::OK, S::OK, S::OK]),
            ("/workflows", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            ("/prices", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            ("/review", [S::OK, S::OK, S::FORBIDDEN, S::OK]),
            ("/models", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            (
                "/export/overview/workflows.csv?days=30",
                [S::OK, S::OK, S::OK, S::FORBIDDEN],
            ),
            (
                "/export/workflows/support-triage/trend.csv",
                [S::OK, S::OK, S::OK, S::FORBIDDEN],
            ),
        ];
        for (path, expected) in pages {
            for (cookie, want) in cookies.iter().zip(expected) {
                let reply = send(&app, page(path, Some(cookie))).await;
                assert_eq!(reply.status, want, "{} GET {path} as {cookie}", t.backend);
            }
        }
        let calls = [
            (
                "get_overview",
                "days=30",
                [S::OK, S::OK, S::OK, S::FORBIDDEN],
            ),
            (
                "list_api_keys",
                "",
                [S::OK, S::OK, S::FORBIDDEN, S::FORBIDDEN],
            ),
            (
                "list_users",
                "",
                [S::OK, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN],
            ),
            ("list_audit", "", [S::OK, S::OK, S::FORBIDDEN, S::FORBIDDEN]),
            ("list_workflows", "", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            ("next_review", "", [S::OK, S::OK, S::FORBIDDEN, S::OK]),
            ("list_prices", "", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            ("get_models", "days=30", [S::OK, S::OK, S::OK, S::FORBIDDEN]),
            (
                "create_user",
                "email=new%40example.com&name=New&role=reviewer",
                [S::OK, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN],
            ),
        ];
        for (endpoint, form, expected) in calls {
            for (cookie, want) in cookies.iter().zip(expected) {
                let reply = rpc(&app, endpoint, form, cookie).await;
                assert_eq!(
                    reply.status, want,
                    "{} {endpoint} as {cookie}: {}",
                    t.backend, reply.body
                );
                if want == S::FORBIDDEN {
                    assert!(reply.body.contains("does not include"), "{}", reply.body);
                }
            }
        }
        // Nobody signed in: pages lead to the sign-in page, calls are refused.
        let reply = send(&app, page("/keys?x=1", None)).await;
        assert_eq!(reply.status, S::SEE_OTHER);
        assert_eq!(
            reply.header("location"),
            Some("/sign-in?next=/keys%3Fx%3D1")
        );
        for endpoint in ["get_overview", "list_api_keys", "list_users", "list_audit"] {
            let reply = send(&app, call(endpoint, "days=30", None)).await;
            assert_eq!(reply.status, S::UNAUTHORIZED, "{endpoint}");
        }
        assert_eq!(send(&app, page("/sign-in", None)).await.status, S::OK);
    }
}

#[tokio::test]
async fn owners_see_and_change_only_their_teams() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let app = app(&t.db);
        let owner = sign_in(&app, OWNER, PASSWORD).await;
        let admin = sign_in(&app, ADMIN, PASSWORD).await;

        let overview = send(&app, page("/", Some(&owner))).await;
        assert!(
            overview.body.contains("data-workflow=\"support-triage\""),
            "{}",
            t.backend
        );
        assert!(
            !overview.body.contains("invoice-clearing"),
            "another team's workflow shown"
        );
        let finance = sign_in(&app, FINANCE, PASSWORD).await;
        let overview = send(&app, page("/", Some(&finance))).await;
        assert!(
            overview.body.contains("invoice-clearing"),
            "finance sees every workflow"
        );

        // The exports answer as their pages do: another team's workflow is not there.
        let csv = send(&app, page("/export/overview/workflows.csv", Some(&owner))).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.body.contains("\r\nsupport-triage,"), "{}", csv.body);
        assert!(!csv.body.contains("invoice-clearing"), "{}", csv.body);
        let other = send(
            &app,
            page(
                "/export/workflows/invoice-clearing/components.csv",
                Some(&owner),
            ),
        )
        .await;
        assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);

        // Keys: only inside the owner's teams, never one that sees everything.
        for form in [
            format!("name=b&scopes%5B%5D=team%3A{}", p.team_b),
            format!("name=b&scopes%5B%5D=workflow%3A{}", p.workflow_b),
            format!(
                "name=both&scopes%5B%5D=team%3A{}&scopes%5B%5D=team%3A{}",
                p.team_a, p.team_b
            ),
            "name=all&scopes%5B%5D=all".to_owned(),
        ] {
            let reply = rpc(&app, "create_api_key", &form, &owner).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{form}: {}",
                reply.body
            );
            assert!(reply.body.contains("scopes"), "{}", reply.body);
        }
        let form = format!(
            "name=support+gateway&scopes%5B%5D=workflow%3A{}",
            p.workflow_a
        );
        let reply = rpc(&app, "create_api_key", &form, &owner).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let issued: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let owner_key = issued["secret"].as_str().unwrap().to_owned();
        assert!(owner_key.starts_with(issued["prefix"].as_str().unwrap()));

        // Nothing ticked is not read as every workflow: that takes an explicit choice.
        for (form, who) in [("name=none", &owner), ("name=none", &admin)] {
            let reply = rpc(&app, "create_api_key", form, who).await;
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                reply.body
            );
            let refused = refusal(&reply.body);
            assert!(
                refused.contains("scopes: choose the teams or workflows"),
                "{refused}"
            );
        }
        let form = format!(
            "name=mixed&scopes%5B%5D=all&scopes%5B%5D=team%3A{}",
            p.team_a
        );
        let reply = rpc(&app, "create_api_key", &form, &admin).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        let reply = rpc(
            &app,
            "create_api_key",
            "name=everything&scopes%5B%5D=all",
            &admin,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "admins may make unscoped keys"
        );

        // The owner lists and revokes their own key only.
        let keys = rpc(&app, "list_api_keys", "", &owner).await;
        let listed: serde_json::Value = serde_json::from_str(&keys.body).unwrap();
        let names: Vec<&str> = listed["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["support gateway"]);
        assert!(!keys.body.contains(&owner_key), "secrets are never listed");
        let all = identity::list_api_keys(&t.db).await.unwrap();
        let admin_key = all.iter().find(|k| k.name == "everything").unwrap();
        let reply = rpc(
            &app,
            "revoke_api_key",
            &format!("key_id={}", admin_key.id),
            &owner,
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
        assert!(
            identity::get_api_key(&t.db, admin_key.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );

        // The audit log: the owner sees their team's entries, not the admin's other changes.
        let audit = rpc(&app, "list_audit", "", &owner).await;
        let entries: serde_json::Value = serde_json::from_str(&audit.body).unwrap();
        let actions: Vec<&str> = entries["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["key.create"], "{}", t.backend);
        let audit = rpc(&app, "list_audit", "", &admin).await;
        assert_eq!(
            audit.body.matches("\"action\":\"key.create\"").count(),
            2,
            "{}",
            audit.body
        );
    }
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    for t in test_databases().await {
        people(&t.db).await;
        let app = app(&t.db);
        let admin = sign_in(&app, ADMIN, PASSWORD).await;
        let form = "name=stolen&scopes%5B%5D=all";
        for origin in [Some("https://evil.example"), Some("null"), None] {
            let reply = send(
                &app,
                call_from("create_api_key", form, Some(&admin), origin),
            )
            .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{origin:?}");
            assert!(
                reply.body.contains("Cross-site request refused"),
                "{}",
                reply.body
            );
        }
        // A login form posted from another site is refused too.
        let login = format!("email={}&password={}", enc(ADMIN), enc(PASSWORD));
        let reply = send(
            &app,
            call_from("sign_in", &login, None, Some("https://evil.example")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(
            identity::list_api_keys(&t.db).await.unwrap().is_empty(),
            "nothing was created"
        );

        // A browser that sends only a Referer from this site is let through.
        let mut request = call_from("create_api_key", form, Some(&admin), None);
        request
            .headers_mut()
            .insert("referer", format!("http://{HOST}/keys").parse().unwrap());
        assert_eq!(send(&app, request).await.status, StatusCode::OK);
        // The bearer-key API takes no cookies, so it needs no Origin.
        let key = server::api::create_api_key(&t.db, "k", &[], None)
            .await
            .unwrap();
        let (status, _) = api_get(&app, "/api/v1/figures", &key).await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn sessions_end_at_sign_out_expiry_password_change_and_disabling() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let app = app(&t.db);
        let first = sign_in(&app, OWNER, PASSWORD).await;
        let second = sign_in(&app, OWNER, PASSWORD).await;
        assert_ne!(first, second);

        let reply = rpc(&app, "sign_out", "", &first).await;
        assert!(reply.header("set-cookie").unwrap().contains("Max-Age=0"));
        assert_eq!(
            send(&app, page("/", Some(&first))).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            send(&app, page("/", Some(&second))).await.status,
            StatusCode::OK
        );

        // Changing the password ends every session and starts a new one for this browser.
        let form = password_form(PASSWORD, "a brand new passphrase", "a brand new passphrase");
        let reply = rpc(&app, "change_password", &form, &second).await;
        assert!(
            reply.status.is_success() || reply.status.is_redirection(),
            "{}",
            reply.body
        );
        let third = reply.session_cookie().expect("a new session");
        assert_eq!(
            send(&app, page("/", Some(&second))).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            send(&app, page("/", Some(&third))).await.status,
            StatusCode::OK
        );
        let old = format!("email={}&password={}", enc(OWNER), enc(PASSWORD));
        assert_eq!(
            send(&app, call("sign_in", &old, None)).await.status,
            StatusCode::UNAUTHORIZED
        );
        sign_in(&app, OWNER, "a brand new passphrase").await;

        // Wrong current password, mismatch, too short: refused, naming the reason.
        for (current, new, confirm, words) in [
            (
                "wrong password!!",
                "another passphrase",
                "another passphrase",
                "current password",
            ),
            (
                "a brand new passphrase",
                "another passphrase",
                "another passphrasf",
                "not the same",
            ),
            ("a brand new passphrase", "short", "short", "12 to 256"),
        ] {
            let form = password_form(current, new, confirm);
            let reply = rpc(&app, "change_password", &form, &third).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{words}");
            assert!(reply.body.contains(words), "{}", reply.body);
        }

        // An expired session is no session.
        let expired = app::service::auth::generate_session_id();
        let mut tx = t.db.begin().await.unwrap();
        let now = db::now_ms();
        identity::insert_session(
            &mut tx,
            &app::model::Session {
                id_hash: expired.hash,
                user_id: p.owner,
                created_at: now - 20_000,
                last_seen_at: now - 20_000,
                expires_at: now - 10_000,
                revoked_at: None,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let cookie = format!("finishline_session={}", expired.secret);
        assert_eq!(
            send(&app, page("/", Some(&cookie))).await.status,
            StatusCode::SEE_OTHER
        );

        // Disabling an account ends its sessions at once.
        let admin = sign_in(&app, ADMIN, PASSWORD).await;
        let reply = rpc(
            &app,
            "set_user_enabled",
            &format!("user_id={}&enabled=false", p.owner),
            &admin,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            send(&app, page("/", Some(&third))).await.status,
            StatusCode::SEE_OTHER
        );
        let login = format!(
            "email={}&password={}",
            enc(OWNER),
            enc("a brand new passphrase")
        );
        assert_eq!(
            send(&app, call("sign_in", &login, None)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
}

fn from_address(
    mut request: axum::http::Request<axum::body::Body>,
    address: &str,
) -> axum::http::Request<axum::body::Body> {
    let address: SocketAddr = format!("{address}:50000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(address));
    request
}

#[tokio::test]
async fn sign_in_is_throttled_and_never_tells_who_has_an_account() {
    for t in test_databases().await {
        people(&t.db).await;
        let app = app(&t.db);
        let attempt = |email: &str, password: &str, address: &str| {
            let form = format!("email={}&password={}", enc(email), enc(password));
            from_address(call("sign_in", &form, None), address)
        };
        let unknown = send(&app, attempt("nobody@example.com", PASSWORD, "10.0.0.1")).await;
        let wrong = send(&app, attempt(OWNER, "not the password", "10.0.0.1")).await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!((unknown.status, &unknown.body), (wrong.status, &wrong.body));
        assert!(
            wrong.body.contains("email or password is incorrect"),
            "{}",
            wrong.body
        );

        // Five failures lock the account, even for the right password, with a clear answer.
        for _ in 0..4 {
            send(&app, attempt(OWNER, "not the password", "10.0.0.2")).await;
        }
        let locked = send(&app, attempt(OWNER, PASSWORD, "10.0.0.3")).await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            t.backend
        );
        assert!(
            locked.body.contains("Too many failed sign-ins"),
            "{}",
            locked.body
        );
        let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
        assert!((60..=900).contains(&retry), "{retry}");
        // An unknown account locks the same way: no telling accounts apart by throttling.
        for _ in 0..5 {
            send(&app, attempt("nobody@example.com", "x", "10.0.0.4")).await;
        }
        let ghost = send(&app, attempt("nobody@example.com", "x", "10.0.0.5")).await;
        assert_eq!(ghost.status, StatusCode::TOO_MANY_REQUESTS);
        // Other accounts are untouched.
        assert_eq!(
            send(&app, attempt(FINANCE, PASSWORD, "10.0.0.2"))
                .await
                .status,
            StatusCode::OK
        );

        // Twenty failures from one address lock it for every account.
        for n in 0..20 {
            send(
                &app,
                attempt(&format!("guess{n}@example.com"), "x", "10.0.0.9"),
            )
            .await;
        }
        let blocked = send(&app, attempt(ADMIN, PASSWORD, "10.0.0.9")).await;
        assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            send(&app, attempt(ADMIN, PASSWORD, "10.0.0.10"))
                .await
                .status,
            StatusCode::OK
        );

        // A plain form post is sent back to the page with the reason.
        let mut request = attempt(REVIEWER, "not the password", "10.0.0.11");
        request
            .headers_mut()
            .insert("accept", "text/html".parse().unwrap());
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        assert_eq!(reply.header("location"), Some("/sign-in?problem=incorrect"));
    }
}

#[tokio::test]
async fn api_keys_made_in_the_app_are_shown_once_and_revoked_at_once() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let app = app(&t.db);
        let admin = sign_in(&app, ADMIN, PASSWORD).await;
        let form = format!("name=warehouse&scopes%5B%5D=team%3A{}", p.team_b);
        let reply = rpc(&app, "create_api_key", &form, &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let issued: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let secret = issued["secret"].as_str().unwrap();
        let stored = identity::list_api_keys(&t.db).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].key_hash, secret, "only a digest is stored");

        let (status, _) = api_get(&app, "/api/v1/figures?workflow=invoice-clearing", secret).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = api_get(&app, "/api/v1/figures?workflow=support-triage", secret).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "outside the key's scope");

        let reply = rpc(
            &app,
            "revoke_api_key",
            &format!("key_id={}", stored[0].id),
            &admin,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (status, _) = api_get(&app, "/api/v1/figures", secret).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "refused from the next request on"
        );
        let again = rpc(
            &app,
            "revoke_api_key",
            &format!("key_id={}", stored[0].id),
            &admin,
        )
        .await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
        let audit = db::audit::recent(&t.db, 10).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["key.revoke", "key.create"]);
        assert_eq!(audit[0].team_id, Some(p.team_b));
        assert_eq!(audit[0].actor, ADMIN);
    }
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let t = crate::helpers::sqlite().await;
    people(&t.db).await;
    let app = app(&t.db);
    let reply = send(&app, page("/sign-in", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let policy = reply.header("content-security-policy").unwrap().to_owned();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'") && !policy.contains("unsafe-inline"));
    // The inline hydration script carries the nonce the policy names.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(
        reply.body.contains(&format!("nonce=\"{nonce}\"")),
        "{}",
        reply.body
    );
    let again = send(&app, page("/sign-in", None)).await;
    assert!(
        !again
            .header("content-security-policy")
            .unwrap()
            .contains(nonce),
        "fresh per response"
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(reply.header("referrer-policy"), Some("same-origin"));
    assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    assert_eq!(reply.header("strict-transport-security"), None);

    let login = format!("email={}&password={}", enc(ADMIN), enc(PASSWORD));
    let reply = send(&app, call("sign_in", &login, None)).await;
    let cookie = reply.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure")
    );
    let signed_in = send(&app, page("/account", reply.session_cookie().as_deref())).await;
    assert_eq!(
        signed_in.header("cache-control"),
        Some("no-store"),
        "private pages are not cached"
    );

    // Served over HTTPS: Secure, __Host- cookie and HSTS.
    let leptos = leptos::config::LeptosOptions::builder()
        .output_name("finishline")
        .site_root("target/site")
        .build();
    let web = WebSettings {
        sessions: SessionSettings {
            secure_cookies: true,
            ..SessionSettings::default()
        },
        ..WebSettings::default()
    };
    let secure = server::router(AppState::new(t.db.clone(), leptos).with_web(web));
    let https = format!("https://{HOST}");
    let reply = send(&secure, call_from("sign_in", &login, None, Some(&https))).await;
    let cookie = reply.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("__Host-finishline_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    let page_reply = send(&secure, page("/sign-in", None)).await;
    assert!(page_reply.header("strict-transport-security").is_some());
}

#[tokio::test]
async fn the_first_admin_must_replace_a_generated_password() {
    for t in test_databases().await {
        let app = app(&t.db);
        let now = db::now_ms();
        // A chosen password that is refused leaves the installation without an account, so
        // the command can simply be run again.
        let refused = app::service::accounts::create_first_admin(
            &t.db,
            "boss@example.com",
            Some("short".into()),
            now,
        )
        .await;
        assert!(refused.is_err());
        assert_eq!(
            identity::count_users(&t.db).await.unwrap(),
            0,
            "{}",
            t.backend
        );
        let password =
            app::service::accounts::create_first_admin(&t.db, "boss@example.com", None, now)
                .await
                .unwrap()
                .expect("a generated password");
        assert!(
            app::service::accounts::create_first_admin(&t.db, "second@example.com", None, now)
                .await
                .is_err(),
            "only an empty installation gets a first admin this way"
        );
        let cookie = sign_in(&app, "boss@example.com", &password).await;
        let reply = send(&app, page("/", Some(&cookie))).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.header("location"), Some("/account"));
        let reply = rpc(&app, "list_users", "", &cookie).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.body.contains("new password"), "{}", reply.body);
        let form = password_form(
            &password,
            "the boss's own passphrase",
            "the boss's own passphrase",
        );
        let reply = rpc(&app, "change_password", &form, &cookie).await;
        let cookie = reply.session_cookie().expect("a new session");
        assert_eq!(
            send(&app, page("/users", Some(&cookie))).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn people_changes_are_audited_and_the_last_admin_stays() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let app = app(&t.db);
        let admin = sign_in(&app, ADMIN, PASSWORD).await;
        let form = format!(
            "email=Rosa%40Example.com&name=Rosa&role=finance&teams%5B%5D={}&can_edit_costs=on",
            p.team_b
        );
        let reply = rpc(&app, "create_user", &form, &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let created: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let one_time = created["password"].as_str().unwrap();
        let rosa = identity::find_user_by_email(&t.db, "rosa@example.com")
            .await
            .unwrap()
            .unwrap();
        assert!(rosa.must_change_password && rosa.can_edit_costs);
        assert_eq!(
            identity::user_team_ids(&t.db, rosa.id).await.unwrap(),
            [p.team_b]
        );
        sign_in(&app, "rosa@example.com", one_time).await;

        // The same email twice, a bad email, an unknown role: 422 naming the field.
        for (form, field) in [
            ("email=rosa%40example.com&name=R&role=finance", "email"),
            ("email=not-an-email&name=R&role=finance", "email"),
            ("email=x%40example.com&name=R&role=boss", "role"),
        ] {
            let reply = rpc(&app, "create_user", form, &admin).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
            assert!(reply.body.contains(field), "{}", reply.body);
        }

        let form = format!("user_id={}&role=owner&teams%5B%5D={}", rosa.id, p.team_a);
        let reply = rpc(&app, "update_user", &form, &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // The only admin cannot stop being one, nor disable themselves.
        let demote = format!("user_id={}&role=finance", p.admin);
        let reply = rpc(&app, "update_user", &demote, &admin).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("last enabled admin"), "{}", reply.body);
        let reply = rpc(
            &app,
            "set_user_enabled",
            &format!("user_id={}&enabled=false", p.admin),
            &admin,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        let reply = rpc(
            &app,
            "reset_user_password",
            &format!("user_id={}", rosa.id),
            &admin,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(!reply.body.contains(one_time));

        let audit = db::audit::recent(&t.db, 10).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            ["password.reset", "user.update", "user.create"],
            "{}",
            t.backend
        );
        let update = &audit[1];
        assert!(
            update
                .before
                .as_deref()
                .unwrap()
                .contains("\"role\":\"finance\"")
        );
        assert!(
            update
                .after
                .as_deref()
                .unwrap()
                .contains("\"role\":\"owner\"")
        );
        assert_eq!(update.actor_user_id, Some(p.admin));
        assert!(
            audit
                .iter()
                .all(|e| !e.after.as_deref().unwrap_or("").contains("argon2"))
        );

        // Append-only: the database itself refuses to rewrite or remove an entry.
        let (update_sql, delete_sql) = (
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
        );
        for sql in [update_sql, delete_sql] {
            let refused = match &t.db {
                db::Db::Sqlite(pool, _) => sqlx::query(sql).execute(pool).await.is_err(),
                db::Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.is_err(),
            };
            assert!(refused, "{} allowed {sql}", t.backend);
        }
        assert_eq!(db::audit::recent(&t.db, 10).await.unwrap().len(), 3);
    }
}

#[tokio::test]
async fn labour_rates_and_platform_costs_are_changed_only_by_those_allowed() {
    for t in test_databases().await {
        let p = people(&t.db).await;
        let app = app(&t.db);
        let admin = sign_in(&app, ADMIN, PASSWORD).await;
        let finance = sign_in(&app, FINANCE, PASSWORD).await;
        let owner = sign_in(&app, OWNER, PASSWORD).await;
        let rate = format!("team_id={}&labour_rate=62.50", p.team_a);
        let cost = format!(
            "name=vector+database&applies_to=workflow%3A{}&monthly=1%2C200&from_day=2026-11-01",
            p.workflow_a
        );
        for (endpoint, form) in [("set_labour_rate", &rate), ("add_platform_cost", &cost)] {
            for cookie in [&finance, &owner] {
                let reply = rpc(&app, endpoint, form, cookie).await;
                assert_eq!(
                    reply.status,
                    StatusCode::FORBIDDEN,
                    "{endpoint}: {}",
                    reply.body
                );
            }
        }
        let reply = rpc(
            &app,
            "create_team",
            "slug=ops&name=Ops&labour_rate=40",
            &finance,
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);

        // An admin lets finance edit costs: from the next request on, they may.
        let finance_id = identity::find_user_by_email(&t.db, FINANCE)
            .await
            .unwrap()
            .unwrap()
            .id;
        let grant = format!("user_id={finance_id}&role=finance&can_edit_costs=on");
        assert_eq!(
            rpc(&app, "update_user", &grant, &admin).await.status,
            StatusCode::OK
        );
        let reply = rpc(&app, "set_labour_rate", &rate, &finance).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let team = identity::get_team(&t.db, p.team_a).await.unwrap();
        assert_eq!(
            team.labour_rate_micros_per_hour,
            app::domain::Micros(62_500_000)
        );
        let reply = rpc(&app, "add_platform_cost", &cost, &finance).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

        // Bad amounts and dates are refused naming the field; nothing is stored.
        for (form, field) in [
            (
                format!("team_id={}&labour_rate=-3", p.team_a),
                "labour_rate",
            ),
            (
                format!("team_id={}&labour_rate=abc", p.team_a),
                "labour_rate",
            ),
        ] {
            let reply = rpc(&app, "set_labour_rate", &form, &finance).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{form}");
            assert!(reply.body.contains(field), "{}", reply.body);
        }
        let bad = format!(
            "name=x&applies_to=workflow%3A{}&monthly=10&from_day=soon",
            p.workflow_a
        );
        let reply = rpc(&app, "add_platform_cost", &bad, &finance).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("from_day"), "{}", reply.body);
        let costs = db::platform_cost::list_platform_costs(&t.db).await.unwrap();
        assert_eq!(costs.len(), 1);
        assert_eq!(costs[0].monthly_micros, app::domain::Micros(1_200_000_000));

        let end = format!("cost_id={}&last_day=2026-11-30", costs[0].id);
        assert_eq!(
            rpc(&app, "end_platform_cost", &end, &finance).await.status,
            StatusCode::OK
        );
        let again = rpc(&app, "end_platform_cost", &end, &finance).await;
        assert_eq!(
            again.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            again.body
        );

        // The owner reads their team's costs and no other team's.
        let team_b_cost = format!(
            "name=licences&applies_to=team%3A{}&monthly=300&from_day=2026-11-01",
            p.team_b
        );
        assert_eq!(
            rpc(&app, "add_platform_cost", &team_b_cost, &admin)
                .await
                .status,
            StatusCode::OK
        );
        let listed = rpc(&app, "list_costs", "", &owner).await;
        assert!(
            listed.body.contains("vector database") && !listed.body.contains("licences"),
            "{}",
            listed.body
        );
        assert!(!listed.body.contains("Finance Ops"), "{}", listed.body);

        let reply = rpc(
            &app,
            "create_team",
            "slug=ops&name=Ops&labour_rate=40",
            &admin,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let reply = rpc(
            &app,
            "create_team",
            "slug=ops&name=Ops+again&labour_rate=40",
            &admin,
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("slug"), "{}", reply.body);

        let audit = db::audit::recent(&t.db, 10).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "team.create",
                "platform_cost.create",
                "platform_cost.end",
                "platform_cost.create",
                "team.labour_rate",
                "user.update"
            ],
            "{}",
            t.backend
        );
        let rate_entry = &audit[4];
        assert_eq!(
            (rate_entry.before.as_deref(), rate_entry.after.as_deref()),
            (Some("40.00"), Some("62.50"))
        );
        assert_eq!(rate_entry.team_id, Some(p.team_a));

        // The audit log reads in words, filters by what and when, and exports what it shows;
        // an owner reads only the entries about their teams.
        let rates = send(
            &app,
            page("/export/audit.csv?action=team.labour_rate", Some(&admin)),
        )
        .await;
        assert_eq!(rates.status, StatusCode::OK, "{}", rates.body);
        assert!(
            rates
                .body
                .contains(",Labour rate, $ per hour,$40.00,$62.50\r\n")
                || rates
                    .body
                    .contains(",\"Labour rate, $ per hour\",$40.00,$62.50\r\n"),
            "{}",
            rates.body
        );
        assert_eq!(
            rates.header("content-disposition"),
            Some("attachment; filename=\"finishline-audit-team-labour-rate.csv\"")
        );
        let ended = send(&app, page("/audit?action=platform_cost", Some(&admin))).await;
        assert!(
            ended
                .body
                .contains("Platform cost ended: \u{201c}vector database\u{201d}")
                && ended
                    .body
                    .contains("Platform cost added: \u{201c}licences\u{201d}")
                && !ended.body.contains("data-action=\"team.create\""),
            "{}",
            ended.body
        );
        let owners = send(&app, page("/export/audit.csv", Some(&owner))).await;
        assert_eq!(owners.status, StatusCode::OK);
        assert!(
            owners.body.contains("vector database") && !owners.body.contains("licences"),
            "{}",
            owners.body
        );
        let future = send(
            &app,
            page("/export/audit.csv?from=2099-01-01", Some(&admin)),
        )
        .await;
        assert_eq!(
            future.body.lines().count(),
            1,
            "only the header: {}",
            future.body
        );
        let bad = send(&app, page("/export/audit.csv?from=soon", Some(&admin))).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("From"), "{}", bad.body);
        let refused = send(&app, page("/export/audit.csv", Some(&finance))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}

fn password_form(current: &str, new: &str, confirm: &str) -> String {
    format!(
        "current_password={}&new_password={}&confirm_password={}",
        enc(current),
        enc(new),
        enc(confirm)
    )
}
