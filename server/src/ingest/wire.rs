//! The ingestion wire format: what gateways and agents send, parsed one item at a time so that a
//! bad item is refused by name while its neighbours are stored.

use app::domain::Micros;
use app::domain::bounds::{
    MAX_CALL_COST, MAX_EVALUATION_NAME, MAX_EVALUATION_SCORE, MAX_LATENCY_MS, MAX_REVIEW_SECONDS,
    MAX_TOKENS, check_count, check_money,
};
use app::domain::pricing::{TokenCounts, UsageError};
use app::domain::status::{
    CallKind, CallStatus, EditSeverity, GradeVerdict, OutcomeKind, ReportedStatus,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest identifier, label or name, in bytes.
pub const MAX_ID: usize = 200;
/// Longest free text (summaries, notes, details, errors), in bytes.
pub const MAX_TEXT: usize = 4_000;
/// Largest output, expected value, checks or metrics object, serialised, in bytes.
pub const MAX_JSON: usize = 64 * 1024;
/// How far in the future a timestamp may be (clock skew), in milliseconds.
pub const MAX_FUTURE_MS: i64 = 24 * 3_600_000;

/// Why one item was refused: the field at fault and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemError {
    pub field: String,
    pub message: String,
}

impl ItemError {
    pub fn new(field: &str, message: impl Into<String>) -> ItemError {
        ItemError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Where a batch notes the name of a field an item sent twice (see `ingest::list`); no
/// sender's field can have this name.
pub const DUPLICATE_FIELD: &str = "\u{0}duplicate";

/// Parses one item, naming the field serde stopped at, or the field it sent twice.
pub fn parse<T: DeserializeOwned>(item: Value) -> Result<T, ItemError> {
    if let Some(name) = item.get(DUPLICATE_FIELD).and_then(Value::as_str) {
        return Err(ItemError::new(
            name,
            "is sent twice in this item; send each field once",
        ));
    }
    serde_path_to_error::deserialize(item).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { String::new() } else { path };
        ItemError::new(&field, err.into_inner().to_string())
    })
}

/// A timestamp: RFC 3339 text (`2026-11-22T14:05:00Z`) or milliseconds since the Unix epoch.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Instant {
    Millis(i64),
    Text(String),
}

impl Instant {
    pub fn millis(&self, field: &str, now: i64) -> Result<i64, ItemError> {
        let ms = match self {
            Instant::Millis(ms) => *ms,
            Instant::Text(text) => parse_rfc3339(text).ok_or_else(|| {
                ItemError::new(
                    field,
                    "must be an RFC 3339 time like 2026-11-22T14:05:00Z or epoch milliseconds",
                )
            })?,
        };
        if ms < 0 {
            return Err(ItemError::new(field, "must not be before 1970"));
        }
        if ms > now + MAX_FUTURE_MS {
            return Err(ItemError::new(
                field,
                "is more than a day in the future; check the sender's clock",
            ));
        }
        Ok(ms)
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` to epoch milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let day = app::domain::time::parse_day(&text[..10])?;
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if bytes[13] != b':' || bytes[16] != b':' || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &fraction[..digits.min(3)]);
        millis = padded.parse::<i64>().ok()?;
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let (h, m) = (
                rest[1..3].parse::<i64>().ok()?,
                rest[4..6].parse::<i64>().ok()?,
            );
            sign * (h * 60 + m) * 60_000
        }
        _ => return None,
    };
    Some(day * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1_000 + millis - offset)
}

/// A task: one unit of user work.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskIn {
    pub id: String,
    pub workflow: String,
    pub task_type: Option<String>,
    pub team: Option<String>,
    pub version: Option<String>,
    #[serde(default)]
    pub segment: String,
    #[schema(value_type = String, example = "2026-11-22T14:05:00Z")]
    pub started_at: Instant,
    #[schema(value_type = Option<String>, example = "2026-11-22T14:05:09Z")]
    pub finished_at: Option<Instant>,
    #[schema(value_type = String, example = "completed")]
    pub status: ReportedStatus,
    pub escalation_reason: Option<String>,
    #[serde(default)]
    pub review_seconds: i64,
    #[serde(default)]
    pub input_summary: String,
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub expected: Option<Value>,
    pub checks: Option<BTreeMap<String, bool>>,
    pub metrics: Option<BTreeMap<String, f64>>,
}

/// One try at a task; its correlation id ties its calls to it.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptIn {
    pub correlation_id: String,
    pub workflow: String,
    pub task: String,
    /// 1 for the first try; left out, the attempt keeps the number it has or takes the next.
    pub number: Option<i64>,
    #[schema(value_type = String, example = "succeeded")]
    pub status: app::domain::status::AttemptStatus,
    pub error: Option<String>,
    #[schema(value_type = String, example = "2026-11-22T14:05:00Z")]
    pub started_at: Instant,
    #[schema(value_type = Option<String>, example = "2026-11-22T14:05:09Z")]
    pub finished_at: Option<Instant>,
}

/// A model call, tool call or retrieval.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallIn {
    pub id: String,
    pub workflow: String,
    pub correlation_id: String,
    #[schema(value_type = String, example = "model")]
    pub kind: CallKind,
    #[serde(default)]
    pub step: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub input_tokens: i64,
    #[serde(default)]
    pub output_tokens: i64,
    #[serde(default)]
    pub cache_read_tokens: i64,
    #[serde(default)]
    pub cache_write_tokens: i64,
    #[serde(default)]
    pub reasoning_tokens: i64,
    /// Uncached audio input, part of `input_tokens`, priced at the model's audio input rate.
    #[serde(default)]
    pub audio_input_tokens: i64,
    /// Uncached image input, part of `input_tokens`, priced at the model's image input rate.
    #[serde(default)]
    pub image_input_tokens: i64,
    /// The cost the provider or gateway reported, in dollars: a decimal string ("0.0042") or number.
    #[schema(value_type = Option<String>, example = "0.0042")]
    pub cost_usd: Option<Value>,
    #[schema(value_type = String, example = "2026-11-22T14:05:00Z")]
    pub started_at: Instant,
    #[serde(default)]
    pub latency_ms: i64,
    #[serde(default = "ok")]
    #[schema(value_type = String, example = "ok")]
    pub status: CallStatus,
    pub error_type: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
}

fn ok() -> CallStatus {
    CallStatus::Ok
}

impl CallIn {
    pub fn usage(&self) -> TokenCounts {
        TokenCounts {
            input: self.input_tokens,
            output: self.output_tokens,
            cache_read: self.cache_read_tokens,
            cache_write: self.cache_write_tokens,
            reasoning: self.reasoning_tokens,
            audio_input: self.audio_input_tokens,
            image_input: self.image_input_tokens,
        }
    }

    /// The reported cost, exactly as written.
    pub fn reported_cost(&self) -> Result<Option<Micros>, ItemError> {
        let text = match &self.cost_usd {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => {
                return Err(ItemError::new(
                    "cost_usd",
                    "must be a decimal string like \"0.0042\" or a number",
                ));
            }
        };
        let cost =
            Micros::parse_dollars(&text).map_err(|e| ItemError::new("cost_usd", e.to_string()))?;
        check_money(cost, MAX_CALL_COST).map_err(|e| ItemError::new("cost_usd", e))?;
        Ok(Some(cost))
    }

    pub fn validate(&self) -> Result<(), ItemError> {
        for (field, value, max, unit) in [
            ("input_tokens", self.input_tokens, MAX_TOKENS, "tokens"),
            ("output_tokens", self.output_tokens, MAX_TOKENS, "tokens"),
            (
                "cache_read_tokens",
                self.cache_read_tokens,
                MAX_TOKENS,
                "tokens",
            ),
            (
                "cache_write_tokens",
                self.cache_write_tokens,
                MAX_TOKENS,
                "tokens",
            ),
            (
                "reasoning_tokens",
                self.reasoning_tokens,
                MAX_TOKENS,
                "tokens",
            ),
            (
                "audio_input_tokens",
                self.audio_input_tokens,
                MAX_TOKENS,
                "tokens",
            ),
            (
                "image_input_tokens",
                self.image_input_tokens,
                MAX_TOKENS,
                "tokens",
            ),
            (
                "latency_ms",
                self.latency_ms,
                MAX_LATENCY_MS,
                "ms (one day)",
            ),
        ] {
            check_count(value, max, unit).map_err(|e| ItemError::new(field, e))?;
        }
        self.usage().validate().map_err(|e| {
            let field = match e {
                UsageError::ReasoningExceedsOutput(..) => "reasoning_tokens",
                UsageError::ModalitiesExceedInput(..) if self.audio_input_tokens > 0 => {
                    "audio_input_tokens"
                }
                UsageError::ModalitiesExceedInput(..) => "image_input_tokens",
                _ => "cache_read_tokens",
            };
            ItemError::new(field, e.to_string())
        })?;
        self.reported_cost()?;
        ids(&[
            ("id", &self.id),
            ("workflow", &self.workflow),
            ("correlation_id", &self.correlation_id),
        ])?;
        limits(
            &[
                ("step", &self.step),
                ("provider", &self.provider),
                ("model", &self.model),
            ],
            MAX_ID,
        )?;
        for (field, value) in [
            ("error_type", &self.error_type),
            ("trace_id", &self.trace_id),
            ("span_id", &self.span_id),
            ("parent_span_id", &self.parent_span_id),
        ] {
            limits(&[(field, value.as_deref().unwrap_or(""))], MAX_ID)?;
        }
        Ok(())
    }
}

/// A late signal about a task.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    pub id: String,
    pub workflow: String,
    pub task: String,
    #[schema(value_type = String, example = "reopened")]
    pub kind: OutcomeKind,
    #[schema(value_type = String, example = "2026-11-22T14:05:00Z")]
    pub occurred_at: Instant,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub detail: String,
}

/// An automatic judgement of a task's output: an evaluator's score, label, or both.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationIn {
    #[schema(example = "eval-7f3a-faithfulness")]
    pub id: String,
    pub workflow: String,
    pub task: String,
    /// What was evaluated, as success rules name it (`faithfulness`, `resolution`...).
    #[schema(example = "faithfulness")]
    pub name: String,
    /// The evaluator's score; at least one of score and label.
    #[serde(default)]
    #[schema(example = 0.92)]
    pub score: Option<f64>,
    #[serde(default)]
    #[schema(example = "faithful")]
    pub label: Option<String>,
    #[serde(default)]
    pub explanation: String,
    #[schema(value_type = String, example = "2026-11-22T14:05:00Z")]
    pub evaluated_at: Instant,
    /// The evaluator (`ragas`, `llm-judge-v3`...).
    #[serde(default)]
    pub source: String,
}

impl EvaluationIn {
    /// Names, label and texts in bounds, a finite score within its bound, and something judged.
    pub fn validate(&self) -> Result<(), ItemError> {
        ids(&[("id", &self.id), ("task", &self.task), ("name", &self.name)])?;
        limits(&[("name", &self.name)], MAX_EVALUATION_NAME)?;
        limits(&[("source", &self.source)], MAX_ID)?;
        limits(&[("explanation", &self.explanation)], MAX_TEXT)?;
        if let Some(label) = &self.label {
            if label.trim().is_empty() {
                return Err(ItemError::new("label", "must not be empty when sent"));
            }
            limits(&[("label", label)], MAX_EVALUATION_NAME)?;
        }
        match self.score {
            Some(score) if !score.is_finite() || score.abs() > MAX_EVALUATION_SCORE => {
                Err(ItemError::new(
                    "score",
                    format!(
                        "must be a finite number from -{MAX_EVALUATION_SCORE} to {MAX_EVALUATION_SCORE}"
                    ),
                ))
            }
            None if self.label.is_none() => Err(ItemError::new(
                "score",
                "send a score, a label or both: an evaluation without either judges nothing",
            )),
            _ => Ok(()),
        }
    }
}

/// A person's grade of a task, from a review tool outside Finishline.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeIn {
    pub id: String,
    pub workflow: String,
    pub task: String,
    pub grader: String,
    #[schema(value_type = String, example = "pass")]
    pub verdict: GradeVerdict,
    #[schema(value_type = String, example = "none")]
    pub edit_severity: EditSeverity,
    pub review_seconds: i64,
    #[serde(default)]
    pub note: String,
    #[schema(value_type = String, example = "2026-11-22T14:05:00Z")]
    pub graded_at: Instant,
}

/// Review time of a task or a grade: from none to one day.
pub fn review_seconds(value: i64) -> Result<(), ItemError> {
    check_count(value, MAX_REVIEW_SECONDS, "seconds (one day)")
        .map_err(|e| ItemError::new("review_seconds", e))
}

/// An attempt's or a task's start and finish in epoch milliseconds, checked: each a valid
/// time, and the finish (if any) not before the start.
pub fn start_and_finish(
    started_at: &Instant,
    finished_at: Option<&Instant>,
    now: i64,
) -> Result<(i64, Option<i64>), ItemError> {
    let started = started_at.millis("started_at", now)?;
    let finished = finished_at
        .map(|f| f.millis("finished_at", now))
        .transpose()?;
    if finished.is_some_and(|f| f < started) {
        return Err(ItemError::new(
            "finished_at",
            "must not be before started_at",
        ));
    }
    Ok((started, finished))
}

/// Every listed identifier is present and short enough.
pub fn ids(fields: &[(&str, &str)]) -> Result<(), ItemError> {
    for (field, value) in fields {
        if value.trim().is_empty() {
            return Err(ItemError::new(field, "must not be empty"));
        }
    }
    limits(fields, MAX_ID)
}

/// Every listed text is at most `max` bytes.
pub fn limits(fields: &[(&str, &str)], max: usize) -> Result<(), ItemError> {
    for (field, value) in fields {
        if value.len() > max {
            return Err(ItemError::new(field, format!("is longer than {max} bytes")));
        }
    }
    Ok(())
}

/// A JSON value serialised, refused when over [`MAX_JSON`].
pub fn json_text(field: &str, value: Option<&Value>) -> Result<Option<String>, ItemError> {
    let Some(value) = value else { return Ok(None) };
    let text = value.to_string();
    if text.len() > MAX_JSON {
        return Err(ItemError::new(
            field,
            format!("is larger than {MAX_JSON} bytes"),
        ));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_times_parse_with_fractions_and_offsets() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1_500));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-22T14:05:00.123456Z"),
            Some(1_795_356_300_123)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22 14:05:00"),
            None,
            "an offset is required"
        );
        assert_eq!(parse_rfc3339("2026-11-22T25:00:00Z"), None);
    }

    #[test]
    fn a_bad_field_is_named_in_the_error() {
        let err = parse::<CallIn>(
            json!({"id": "c1", "workflow": "w", "correlation_id": "a", "kind": "model",
            "started_at": 0, "input_tokens": "many"}),
        )
        .unwrap_err();
        assert_eq!(err.field, "input_tokens");
        let err = parse::<CallIn>(json!({"id": "c1", "workflow": "w", "correlation_id": "a", "kind": "magic", "started_at": 0})).unwrap_err();
        assert_eq!(err.field, "kind");
        let err = parse::<TaskIn>(json!({"id": "t", "workflow": "w", "started_at": 0, "status": "completed", "colour": 1})).unwrap_err();
        assert!(err.message.contains("colour"), "{err:?}");
    }

    #[test]
    fn reported_costs_are_read_exactly_and_never_negative() {
        let call = |cost: Value| CallIn {
            cost_usd: Some(cost),
            ..parse::<CallIn>(json!({"id": "c", "workflow": "w",
            "correlation_id": "a", "kind": "model", "started_at": 0}))
            .unwrap()
        };
        assert_eq!(
            call(json!("0.0042")).reported_cost(),
            Ok(Some(Micros(4_200)))
        );
        assert_eq!(call(json!(0.1)).reported_cost(), Ok(Some(Micros(100_000))));
        assert_eq!(
            call(json!("-1")).reported_cost().unwrap_err().field,
            "cost_usd"
        );
        assert_eq!(
            call(json!([1])).reported_cost().unwrap_err().field,
            "cost_usd"
        );
    }
}
