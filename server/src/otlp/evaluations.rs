//! `gen_ai.evaluation.result`: an evaluator's judgement of a GenAI operation, as the
//! OpenTelemetry GenAI conventions define it, sent as a span event (on the span it evaluates)
//! or as an OTLP log record (an event, parented to that span by its trace and span ids).
//! Either becomes one evaluation result of the span's task.

use super::attrs::Attrs;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use serde_json::{Value, json};

/// The event's name.
pub const EVENT: &str = "gen_ai.evaluation.result";
/// What was evaluated (`faithfulness`, `resolution`...): the name success rules use.
pub const NAME: &str = "gen_ai.evaluation.name";
pub const SCORE: &str = "gen_ai.evaluation.score.value";
pub const LABEL: &str = "gen_ai.evaluation.score.label";
pub const EXPLANATION: &str = "gen_ai.evaluation.explanation";

/// Where a result belongs and when it was made, worked out from its span or log record.
pub(super) struct Record<'a> {
    pub id: String,
    pub workflow: &'a str,
    pub task: &'a str,
    pub evaluated_at: i64,
    pub source: &'a str,
}

/// The batch item for one result, from the event's or log record's attributes; the bounds are
/// checked when it is stored, like any batch item's.
pub(super) fn item(attrs: &Attrs, record: &Record) -> Result<Value, String> {
    let name = attrs
        .text(NAME)
        .ok_or_else(|| format!("{NAME} is missing: say what was evaluated"))?;
    let mut item = json!({
        "id": record.id,
        "workflow": record.workflow,
        "task": record.task,
        "name": name,
        "evaluated_at": record.evaluated_at,
    });
    match attrs.get(SCORE) {
        None => {}
        Some(Any::DoubleValue(score)) if score.is_finite() => item["score"] = json!(score),
        Some(Any::IntValue(score)) => item["score"] = json!(score),
        Some(_) => return Err(format!("{SCORE} must be a finite number")),
    }
    if let Some(label) = attrs.text(LABEL) {
        item["label"] = json!(label);
    }
    if item.get("score").is_none() && item.get("label").is_none() {
        return Err(format!(
            "send {SCORE}, {LABEL} or both: a result without either judges nothing"
        ));
    }
    if let Some(explanation) = attrs.text(EXPLANATION) {
        item["explanation"] = json!(explanation);
    }
    if !record.source.is_empty() {
        item["source"] = json!(record.source);
    }
    Ok(item)
}
