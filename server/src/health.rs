//! `GET /healthz`: is the server up, and can it reach its database?

use app::db::Db;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

#[derive(Serialize)]
pub struct Health {
    status: &'static str,
    database: &'static str,
    backend: &'static str,
}

pub async fn healthz(State(db): State<Db>) -> (StatusCode, Json<Health>) {
    let backend = db.backend().name();
    match db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "reachable",
                backend,
            }),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "health check could not reach the database");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "degraded",
                    database: "unreachable",
                    backend,
                }),
            )
        }
    }
}
