//! The versioned JSON API under `/api/v1`: every route in [`router`], one error type that names
//! the field at fault and never leaks internal text, and the query parameters routes share.

mod alerts;
mod calls;
mod compare;
pub mod docs;
mod figures;
mod gate;
mod levers;
mod models;
mod params;
mod reconcile;
mod whatif;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use crate::caller::create_api_key;
use crate::error::ApiError;

/// Every API route, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(docs::openapi_json))
        .route("/figures", get(figures::get_figures))
        .route("/compare", get(compare::get_comparison))
        .route("/gate", get(gate::get_gate))
        .route("/alerts", get(alerts::get_alerts))
        .route("/models", get(models::get_models))
        .route("/levers", get(levers::get_levers))
        .route("/what-if", get(whatif::get_what_if))
        .route("/calls", get(calls::get_call_figures))
        .route("/reconciliation", get(reconcile::get_reconciliation))
        .route(
            "/ingest",
            post(crate::ingest::post_batch).layer(DefaultBodyLimit::max(crate::ingest::MAX_BODY)),
        )
        .fallback(|| async { ApiError::NotFound("no such API route".into()) })
}
