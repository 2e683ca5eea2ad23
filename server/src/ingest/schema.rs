//! The shapes the OpenAPI document gives a batch and its answer. The handler reads the body
//! with the wire types themselves; these describe it for readers of the document.

use super::wire::{AttemptIn, CallIn, EvaluationIn, GradeIn, OutcomeIn, TaskIn};
use utoipa::ToSchema;

/// A batch: any of the six lists, stored in one transaction. Other keys are refused.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct BatchIn {
    tasks: Option<Vec<TaskIn>>,
    attempts: Option<Vec<AttemptIn>>,
    calls: Option<Vec<CallIn>>,
    outcomes: Option<Vec<OutcomeIn>>,
    grades: Option<Vec<GradeIn>>,
    evaluations: Option<Vec<EvaluationIn>>,
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
