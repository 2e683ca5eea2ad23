//! Server functions fail with one error type: a status and a stable code decided by its kind,
//! a sentence naming the field at fault by its label, and never the database's own words.

use crate::helpers::{ADMIN, PASSWORD, REVIEWER, app, people, rpc, send, sign_in, test_databases};
use app::db::on_db;
use axum::http::StatusCode;
use serde_json::Value;

fn error_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not a JSON error: {body}"))
}

#[tokio::test]
async fn a_refused_field_answers_422_with_a_stable_code_and_a_sentence_naming_it() {
    for t in test_databases().await {
        people(&t.db).await;
        let router = app(&t.db);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let form = "email=x%40example.com&name=R&role=boss";
        let reply = rpc(&router, "create_user", form, &admin).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            t.backend
        );
        let error = error_of(&reply.body);
        assert_eq!(error["code"], "invalid_parameter", "{}", reply.body);
        assert_eq!(error["field"], "role", "{}", reply.body);
        assert_eq!(error["label"], "Role", "{}", reply.body);
        assert!(
            error["reason"]
                .as_str()
                .is_some_and(|r| r.contains("admin, owner, finance or reviewer")),
            "{}",
            reply.body
        );
    }
}

#[tokio::test]
async fn arguments_a_call_cannot_read_are_a_400_naming_the_request() {
    for t in test_databases().await {
        people(&t.db).await;
        let router = app(&t.db);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        let reply = rpc(
            &router,
            "set_user_enabled",
            "user_id=many&enabled=yes",
            &admin,
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(error_of(&reply.body)["code"], "invalid_parameter");
    }
}

#[tokio::test]
async fn signed_out_callers_get_401_and_roles_without_the_right_get_403() {
    for t in test_databases().await {
        people(&t.db).await;
        let router = app(&t.db);
        let anonymous = send(&router, crate::helpers::call("list_users", "", None)).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", t.backend);
        assert_eq!(error_of(&anonymous.body)["code"], "unauthorized");
        let reviewer = sign_in(&router, REVIEWER, PASSWORD).await;
        let refused = rpc(&router, "list_users", "", &reviewer).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", t.backend);
        let error = error_of(&refused.body);
        assert_eq!(error["code"], "forbidden");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("does not include")),
            "{}",
            refused.body
        );
    }
}

#[tokio::test]
async fn a_storage_failure_answers_500_without_the_database_text() {
    for t in test_databases().await {
        people(&t.db).await;
        let router = app(&t.db);
        let admin = sign_in(&router, ADMIN, PASSWORD).await;
        on_db!(&t.db, pool => sqlx::query("DROP TABLE audit_log").execute(pool).await.map(|_| ()))
            .unwrap();
        let reply = rpc(&router, "list_audit", "", &admin).await;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            t.backend
        );
        assert_eq!(error_of(&reply.body)["code"], "internal_error");
        let lower = reply.body.to_lowercase();
        for leak in [
            "audit_log",
            "no such table",
            "does not exist",
            "sqlx",
            "relation",
        ] {
            assert!(!lower.contains(leak), "{}: {}", t.backend, reply.body);
        }
    }
}
