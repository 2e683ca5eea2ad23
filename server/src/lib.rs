//! Finishline's HTTP server: the Leptos pages, the health check, the JSON API and the OTLP receiver.
//! `router` builds the whole application so tests can drive it without binding a port.

pub mod admission;
pub mod alerts;
pub mod api;
pub mod bench;
pub mod bill;
pub mod caller;
pub mod config;
pub mod connections;
pub mod demo;
pub mod error;
pub mod export;
pub mod fuzzing;
pub mod health;
pub mod import;
pub mod ingest;
pub mod intake;
pub mod jobs;
pub mod limits;
pub mod otlp;
pub mod web;

use app::db::Db;
use app::db::health::WriteHealth;
use app::{App, shell};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{get, post};
use leptos::config::LeptosOptions;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::{Arc, OnceLock};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub leptos: LeptosOptions,
    pub ingest_slots: ingest::IngestSlots,
    pub write_health: WriteHealth,
    pub web: Arc<web::WebSettings>,
    /// Every sender's share of the server (see `admission`).
    pub admission: Arc<admission::Admission>,
}

impl AppState {
    pub fn new(db: Db, leptos: LeptosOptions) -> AppState {
        let admission = Arc::new(admission::Admission::for_db(limits::Limits::default(), &db));
        AppState {
            db,
            leptos,
            ingest_slots: ingest::IngestSlots::default(),
            write_health: WriteHealth::default(),
            web: Arc::default(),
            admission,
        }
    }

    /// The same state held to `limits` instead of the defaults.
    pub fn with_limits(self, limits: limits::Limits) -> AppState {
        let admission = Arc::new(admission::Admission::for_db(limits, &self.db));
        AppState { admission, ..self }
    }

    pub fn with_web(self, web: web::WebSettings) -> AppState {
        AppState {
            web: Arc::new(web),
            ..self
        }
    }
}

impl FromRef<AppState> for ingest::IngestSlots {
    fn from_ref(state: &AppState) -> Self {
        state.ingest_slots.clone()
    }
}

impl FromRef<AppState> for Arc<admission::Admission> {
    fn from_ref(state: &AppState) -> Self {
        state.admission.clone()
    }
}

/// The memory budget bodies are read within, shared by every route that takes uploads.
impl FromRef<AppState> for intake::Budget {
    fn from_ref(state: &AppState) -> Self {
        state.admission.intake.clone()
    }
}

impl FromRef<AppState> for WriteHealth {
    fn from_ref(state: &AppState) -> Self {
        state.write_health.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// The pages' routes, worked out once per process. Working them out renders the route tree
/// with every resource load in the process switched off (a process-wide flag in Leptos), so a
/// second router built while pages render, as tests and embedding programs do, would leave
/// those pages waiting for their data forever.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The complete application: pages, server functions, static files and API routes.
pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let (db, sessions) = (state.db.clone(), state.web.sessions.clone());
    let public_url =
        app::service::alerts::PublicUrl(state.web.public_origin.clone().unwrap_or_default());
    let webhooks = state.web.webhooks;
    let write_health = state.write_health.clone();
    // What pages and server functions reach through `use_context`: the pool, the session
    // settings, whether ingested data is being stored, and this response's CSP nonce for the
    // hydration script.
    let provide_db = move || {
        provide_context(db.clone());
        provide_context(sessions.clone());
        provide_context(write_health.clone());
        provide_context(public_url.clone());
        provide_context(webhooks);
        let nonce = use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<web::CspNonce>().cloned());
        if let Some(nonce) = nonce {
            provide_context(Nonce::from_value(nonce.0));
        }
    };
    let leptos = state.leptos.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/export/tasks.csv", get(export::tasks_csv))
        .route("/export/audit.csv", get(export::audit_csv))
        .route("/export/alerts.csv", get(export::alerts_csv))
        .route("/export/focus.csv", get(export::focus_csv))
        .route("/export/overview/{file}", get(export::overview_csv))
        .route("/export/models/{file}", get(export::models_csv))
        .route("/export/workflows/{slug}/{file}", get(export::workflow_csv))
        .nest("/api/v1", api::router())
        .route(
            "/v1/traces",
            post(otlp::post_traces).layer(DefaultBodyLimit::max(ingest::MAX_BODY)),
        )
        .route(
            "/v1/logs",
            post(otlp::post_logs).layer(DefaultBodyLimit::max(ingest::MAX_BODY)),
        )
        .leptos_routes_with_context(&state, routes, provide_db.clone(), move || {
            shell(leptos.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_db, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admission::admit,
        ))
        .with_state(state)
}
