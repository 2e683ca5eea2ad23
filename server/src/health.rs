//! `GET /healthz`: is the server up, and can it reach its database?
//!
//! The check waits briefly for a connection. A pool whose every connection is in use is
//! answered as `busy` (200): the database is there, the server is loaded. Only a database that
//! cannot be reached while connections are free, or that fails the round trip, is
//! `unreachable` (503). It also counts the (workflow, day) slices whose figures could not be
//! computed (a sum beyond range): the refresh skips them until their rows change, and the
//! count says figures are missing without naming whose.

use app::db::Db;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::time::Duration;

/// How long the check waits for a connection and its round trip.
const WAIT: Duration = Duration::from_secs(2);

#[derive(Serialize)]
pub struct HealthCheck {
    status: &'static str,
    database: &'static str,
    backend: &'static str,
    /// Slices the rollup refresh could not compute; `null` when the database was not read.
    uncountable_slices: Option<i64>,
}

/// Whether every connection of the pool is open and in use.
fn pool_is_saturated(db: &Db) -> bool {
    fn saturated<D: sqlx::Database>(pool: &sqlx::Pool<D>) -> bool {
        pool.num_idle() == 0 && pool.size() >= pool.options().get_max_connections()
    }
    match db {
        Db::Sqlite(pool, _) => saturated(pool),
        Db::Postgres(pool) => saturated(pool),
    }
}

pub async fn healthz(State(db): State<Db>) -> (StatusCode, Json<HealthCheck>) {
    let backend = db.backend().name();
    let answer = |status, health, database, uncountable_slices| {
        (
            status,
            Json(HealthCheck {
                status: health,
                database,
                backend,
                uncountable_slices,
            }),
        )
    };
    let failure = match tokio::time::timeout(WAIT, db.ping()).await {
        Ok(Ok(())) => {
            let failed = app::db::rollup::count_failed_slices(&db);
            let count = tokio::time::timeout(WAIT, failed)
                .await
                .ok()
                .and_then(Result::ok);
            return answer(StatusCode::OK, "ok", "reachable", count);
        }
        Ok(Err(err)) => Some(err),
        Err(_) => None,
    };
    if pool_is_saturated(&db) {
        return answer(StatusCode::OK, "busy", "busy", None);
    }
    match failure {
        Some(err) => tracing::warn!(error = %err, "health check could not reach the database"),
        None => tracing::warn!("health check: the database did not answer in time"),
    }
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "degraded",
        "unreachable",
        None,
    )
}
