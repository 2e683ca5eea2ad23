//! The OpenAPI 3.1 document of the API, generated from the routes' own annotations and served
//! at `GET /api/v1/openapi.json`.

use super::figures::{DetailOut, GroupOut, TasksOut};
use crate::ingest::wire::{AttemptIn, CallIn, GradeIn, OutcomeIn, TaskIn};
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Finishline API",
        description = "Cost per successful task: send what your gateways and agents did, read what one finished task costs."
    ),
    paths(
        super::figures::get_figures,
        super::compare::get_comparison,
        super::compare::get_gate,
        super::compare::get_models,
        super::compare::get_call_figures,
        crate::ingest::post_batch,
        crate::otlp::post_traces,
    ),
    components(schemas(GroupOut, TasksOut, DetailOut, FiguresOut, ErrorBody, ErrorDetail, BatchIn, TaskIn, AttemptIn, CallIn, OutcomeIn, GradeIn, BatchResult, RejectedItem)),
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

/// The filters and window every figure route understands.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FiguresQuery {
    /// First day, inclusive (UTC).
    #[param(format = Date, example = "2026-10-01")]
    from: Option<String>,
    /// Last day, inclusive (UTC); default today.
    #[param(format = Date, example = "2026-10-31")]
    to: Option<String>,
    /// Days ending `to`, instead of `from`; default 30.
    #[param(minimum = 1, maximum = 731)]
    days: Option<i64>,
    /// all, workflow, team, task_type, segment, config_version, model, provider, day, week or month.
    #[param(example = "workflow")]
    group_by: Option<String>,
    /// A workflow's slug.
    #[param(example = "support-triage")]
    workflow: Option<String>,
    /// A team's slug.
    team: Option<String>,
    /// A task type's slug.
    task_type: Option<String>,
    segment: Option<String>,
    /// A configuration version's label (with `workflow`).
    version: Option<String>,
    /// provider/model.
    #[param(example = "anthropic/claude-haiku-4-5")]
    model: Option<String>,
    provider: Option<String>,
    /// Add distributions, the costliest tasks and escalation reasons.
    detail: Option<bool>,
    /// json (default) or csv.
    format: Option<String>,
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

/// `GET /api/v1/compare`: two versions of one workflow, or two periods of the same filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CompareQuery {
    #[param(example = "support-triage")]
    workflow: Option<String>,
    /// The baseline configuration version's label (with `candidate` and `workflow`).
    #[param(example = "v1-large-model")]
    baseline: Option<String>,
    #[param(example = "v2-routed-reranked")]
    candidate: Option<String>,
    /// The window both versions are compared over: `from`/`to` or `days` (default 90).
    #[param(format = Date)]
    from: Option<String>,
    #[param(format = Date)]
    to: Option<String>,
    #[param(minimum = 1, maximum = 731)]
    days: Option<i64>,
    /// Or two periods: `baseline_from`/`baseline_to` (or `baseline_days`) and the candidate's.
    #[param(format = Date)]
    baseline_from: Option<String>,
    #[param(format = Date)]
    baseline_to: Option<String>,
    #[param(minimum = 1, maximum = 731)]
    baseline_days: Option<i64>,
    #[param(format = Date)]
    candidate_from: Option<String>,
    #[param(format = Date)]
    candidate_to: Option<String>,
    #[param(minimum = 1, maximum = 731)]
    candidate_days: Option<i64>,
    team: Option<String>,
    task_type: Option<String>,
    segment: Option<String>,
    model: Option<String>,
    provider: Option<String>,
}

/// `GET /api/v1/gate`: one workflow's gate over its window.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GateQuery {
    /// The workflow's slug.
    #[param(min_length = 1, example = "invoice-clearing")]
    workflow: String,
    /// The last day of the gate window; default today.
    #[param(format = Date)]
    to: Option<String>,
}

/// `GET /api/v1/models`: the window and, optionally, the workflows weighed.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ModelsQuery {
    #[param(format = Date)]
    from: Option<String>,
    #[param(format = Date)]
    to: Option<String>,
    #[param(minimum = 1, maximum = 731)]
    days: Option<i64>,
    team: Option<String>,
    workflow: Option<String>,
}

/// `GET /api/v1/calls`: the window, a workflow, and what to group calls by.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CallsQuery {
    #[param(format = Date)]
    from: Option<String>,
    #[param(format = Date)]
    to: Option<String>,
    #[param(minimum = 1, maximum = 731)]
    days: Option<i64>,
    workflow: Option<String>,
    /// step (default), model or provider.
    #[param(example = "step")]
    group_by: Option<String>,
}

/// Figures per group and for all groups together.
#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    #[schema(example = "2026-10-01")]
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub groups: Vec<GroupOut>,
    pub total: Option<GroupOut>,
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
