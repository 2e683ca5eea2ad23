//! The OpenAPI 3.1 document of the API, generated from the types the routes read and answer
//! with (their query structs and bodies) and served at `GET /api/v1/openapi.json`.

use super::calls::{CallGroupOut, CallsOut};
use super::compare::ComparisonOut;
use super::figures::{DetailOut, FiguresOut, GroupOut, TasksOut};
use super::gate::GateOut;
use super::models::{ModelOut, ModelUseOut, ModelsOut, WinnerOut};
use crate::ingest::wire::{AttemptIn, CallIn, GradeIn, OutcomeIn, TaskIn};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

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
        super::models::get_models,
        super::calls::get_call_figures,
        crate::ingest::post_batch,
        crate::otlp::post_traces,
    ),
    components(schemas(FiguresOut, GroupOut, TasksOut, DetailOut, ComparisonOut, GateOut, ModelsOut, ModelOut, ModelUseOut, WinnerOut, CallsOut, CallGroupOut, ErrorBody, ErrorDetail, BatchIn, TaskIn, AttemptIn, CallIn, OutcomeIn, GradeIn, BatchResult, RejectedItem)),
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

/// The failures every read route shares.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ReadErrors {
    /// A parameter is invalid; `field` names it.
    #[response(status = 400)]
    InvalidParameter(ErrorBody),
    /// No valid API key.
    #[response(status = 401)]
    NoKey(ErrorBody),
    /// A workflow or team outside the key's scope, or (for a key with scopes) one that does
    /// not exist: the two are not told apart.
    #[response(status = 403)]
    OutOfScope(ErrorBody),
    /// Too many requests in progress or per second for this key; retry after `Retry-After`.
    #[response(status = 429)]
    RateLimited(ErrorBody),
    /// Every connection the API may use is busy, or the database is unavailable; retry after
    /// `Retry-After`.
    #[response(status = 503)]
    Busy(ErrorBody),
}

/// Every error: a stable code, a sentence, and the field at fault when there is one.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "invalid_parameter")]
    pub code: String,
    #[schema(example = "must be a date like 2026-11-22")]
    pub message: String,
    #[schema(example = "from")]
    pub field: Option<String>,
}

/// A batch: any of the five lists, stored in one transaction. Other keys are refused.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct BatchIn {
    tasks: Option<Vec<TaskIn>>,
    attempts: Option<Vec<AttemptIn>>,
    calls: Option<Vec<CallIn>>,
    outcomes: Option<Vec<OutcomeIn>>,
    grades: Option<Vec<GradeIn>>,
}

/// What a batch did: counts per kind (created, updated, unchanged) and every refused item.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BatchResult {
    #[schema(example = 1042)]
    accepted: u64,
    #[schema(example = 1)]
    rejected: u64,
    #[schema(value_type = Object, example = json!({"calls": {"created": 1000, "updated": 0, "unchanged": 0}}))]
    counts: serde_json::Value,
    errors: Vec<RejectedItem>,
}

/// Any JSON value.
fn as_sent() -> utoipa::openapi::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::AnyValue)
        .build()
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RejectedItem {
    #[schema(example = "calls")]
    kind: String,
    #[schema(example = 17)]
    index: u64,
    /// The item's `id` as it was sent (any JSON value, or null when it had none).
    #[schema(schema_with = as_sent, example = "span-7f3a")]
    id: serde_json::Value,
    #[schema(example = 422)]
    status: u16,
    #[schema(example = "invalid_item")]
    code: String,
    #[schema(example = "input_tokens")]
    field: String,
    #[schema(example = "must not be negative")]
    message: String,
}
