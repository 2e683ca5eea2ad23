//! The OpenAPI 3.1 document of the API, generated from the types the routes read and answer
//! with (their query structs and bodies) and served at `GET /api/v1/openapi.json`.

use super::alerts::{AlertOut, AlertsOut};
use super::calls::{CallGroupOut, CallsOut};
use super::compare::ComparisonOut;
use super::figures::{DetailOut, FiguresOut, GroupOut, SavingsOut, TasksOut};
use super::gate::GateOut;
use super::models::{ModelOut, ModelUseOut, ModelsOut, WinnerOut};
use crate::error::{ErrorBody, ErrorDetail};
use crate::ingest::schema::{BatchIn, BatchResult, RejectedItem};
use crate::ingest::wire::{AttemptIn, CallIn, EvaluationIn, GradeIn, OutcomeIn, TaskIn};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Finishline API",
        description = "Cost per successful task: send what your gateways and agents did, read what one finished task costs."
    ),
    paths(
        super::figures::get_figures,
        super::compare::get_comparison,
        super::gate::get_gate,
        super::alerts::get_alerts,
        super::models::get_models,
        super::levers::get_levers,
        super::whatif::get_what_if,
        super::calls::get_call_figures,
        super::reconcile::get_reconciliation,
        crate::ingest::post_batch,
        crate::otlp::post_traces,
        crate::otlp::post_logs,
    ),
    components(schemas(AlertsOut, AlertOut, FiguresOut, GroupOut, SavingsOut, TasksOut, DetailOut, ComparisonOut, GateOut, ModelsOut, ModelOut, ModelUseOut, WinnerOut, super::levers::LeversOut, super::levers::RoutingOut, super::levers::RouteOut, super::levers::CachingOut, super::levers::FailedRunsOut, super::levers::VerdictCostOut, super::levers::RetrievalOut, super::levers::VolumeBandOut, super::levers::PromptSizeOut, super::levers::FailingStepOut, super::whatif::WhatIfOut, super::whatif::OutlookOut, super::whatif::RefusalOut, CallsOut, CallGroupOut, super::reconcile::ReconciliationOut, super::reconcile::ReconciliationLineOut, super::reconcile::ProviderReconciliationOut, super::reconcile::ImpliedPriceOut, ErrorBody, ErrorDetail, BatchIn, TaskIn, AttemptIn, CallIn, OutcomeIn, GradeIn, EvaluationIn, BatchResult, RejectedItem)),
    modifiers(&BearerKey),
    security(("api_key" = []))
)]
pub struct ApiDoc;

/// API keys are sent as bearer tokens.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("fl_<64 hex digits>")
                .build();
            components.add_security_scheme("api_key", SecurityScheme::Http(scheme));
        }
    }
}

/// `GET /api/v1/openapi.json`: this document.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
