//! From spans to tasks, attempts and calls.
//!
//! Every span becomes a call of its trace. Model spans (GenAI `chat`, `text_completion`,
//! `generate_content`, `embeddings`; OpenInference `LLM`, `EMBEDDING`) carry token usage; tool
//! and retrieval spans carry only a reported cost; every other span (agents, chains, HTTP
//! handlers) is structure for the trace view and costs nothing, so an agent span that sums its
//! children's usage is never counted twice. The span that starts the task (the trace's root,
//! or any span with `finishline.task.status`) also makes the task and its attempt.
//!
//! Which workflow, task and attempt a span belongs to comes from `finishline.*` attributes on
//! the span or, failing that, its resource; a trace without `finishline.task.id` is one task,
//! and without `finishline.attempt.id` one attempt, both named by the trace id.
//!
//! A span's `gen_ai.evaluation.result` events are evaluation results of its task (see
//! `evaluations`).

use crate::ingest::Batch;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::attrs::{Attrs, COST};
use super::evaluations;

/// The attributes Finishline reads beyond the GenAI and OpenInference conventions.
pub mod attr {
    pub const WORKFLOW: &str = "finishline.workflow";
    pub const TASK_ID: &str = "finishline.task.id";
    pub const TASK_TYPE: &str = "finishline.task.type";
    pub const TASK_STATUS: &str = "finishline.task.status";
    pub const TASK_OUTPUT: &str = "finishline.task.output";
    pub const TASK_SUMMARY: &str = "finishline.task.input_summary";
    pub const ESCALATION: &str = "finishline.escalation.reason";
    pub const TEAM: &str = "finishline.team";
    pub const VERSION: &str = "finishline.version";
    pub const SEGMENT: &str = "finishline.segment";
    pub const ATTEMPT_ID: &str = "finishline.attempt.id";
    pub const ATTEMPT_NUMBER: &str = "finishline.attempt.number";
    pub const STEP: &str = "finishline.step";
    pub const CHECK_PREFIX: &str = "finishline.check.";
    pub const METRIC_PREFIX: &str = "finishline.metric.";
}

/// Token counts: the GenAI name first, then the older GenAI and the OpenInference names.
const INPUT: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
];
const OUTPUT: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
];
const CACHE_READ: &[&str] = &[
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
];
const CACHE_WRITE: &[&str] = &[
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
];
const REASONING: &[&str] = &[
    "gen_ai.usage.reasoning.output_tokens",
    "llm.token_count.completion_details.reasoning",
];
/// Audio and image input (all of it, cached or not), then the cached part of each: what is
/// stored is the uncached part, since cached input is priced as cache reads whatever it holds.
const AUDIO_INPUT: &[&str] = &[
    "gen_ai.usage.audio.input_tokens",
    "llm.token_count.prompt_details.audio",
];
const AUDIO_CACHE_READ: &[&str] = &["gen_ai.usage.audio.cache_read.input_tokens"];
const IMAGE_INPUT: &[&str] = &[
    "gen_ai.usage.image.input_tokens",
    "llm.token_count.prompt_details.image",
];
const IMAGE_CACHE_READ: &[&str] = &["gen_ai.usage.image.cache_read.input_tokens"];

const PROVIDER: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "llm.system",
];
/// The model that answered prices the call; the one asked for stands in when it is not known.
const MODEL: &[&str] = &[
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.model_name",
];

/// The batch the export becomes, where each item came from, and the records refused outright.
#[derive(Default)]
pub struct Mapped {
    pub batch: Batch,
    pub origins: Origins,
    /// (record, reason) for spans or log records that could not become items at all.
    pub refused: Vec<(String, String)>,
}

/// The record (a span as `trace/span` in hex, a log record by its place) behind each item of
/// the batch.
#[derive(Default)]
pub struct Origins {
    pub(super) tasks: Vec<String>,
    pub(super) attempts: Vec<String>,
    pub(super) calls: Vec<String>,
    pub(super) evaluations: Vec<String>,
}

impl Origins {
    pub fn record(&self, kind: &str, index: usize) -> Option<&str> {
        let list = match kind {
            "tasks" => &self.tasks,
            "attempts" => &self.attempts,
            "calls" => &self.calls,
            "evaluations" => &self.evaluations,
            _ => return None,
        };
        list.get(index).map(String::as_str)
    }
}

/// The attribute an item's field was read from, to name it in an error.
pub fn attribute(field: &str) -> &str {
    match field {
        "workflow" => attr::WORKFLOW,
        "id" | "task" => attr::TASK_ID,
        "task_type" => attr::TASK_TYPE,
        "team" => attr::TEAM,
        "version" => attr::VERSION,
        "segment" => attr::SEGMENT,
        "status" => attr::TASK_STATUS,
        "output" => attr::TASK_OUTPUT,
        "input_summary" => attr::TASK_SUMMARY,
        "escalation_reason" => attr::ESCALATION,
        "correlation_id" => attr::ATTEMPT_ID,
        "number" => attr::ATTEMPT_NUMBER,
        "step" => attr::STEP,
        "provider" => PROVIDER[0],
        "model" => MODEL[0],
        "input_tokens" => INPUT[0],
        "output_tokens" => OUTPUT[0],
        "cache_read_tokens" => CACHE_READ[0],
        "cache_write_tokens" => CACHE_WRITE[0],
        "reasoning_tokens" => REASONING[0],
        "audio_input_tokens" => AUDIO_INPUT[0],
        "image_input_tokens" => IMAGE_INPUT[0],
        "cost_usd" => COST[0],
        "error_type" => "error.type",
        "name" => evaluations::NAME,
        "score" => evaluations::SCORE,
        "label" => evaluations::LABEL,
        "explanation" => evaluations::EXPLANATION,
        "evaluated_at" => "timeUnixNano",
        "started_at" => "startTimeUnixNano",
        "finished_at" | "latency_ms" => "endTimeUnixNano",
        other => other,
    }
}

/// What a span is: a model call, a tool call, a retrieval, or structure.
fn kind_of(attrs: &Attrs) -> &'static str {
    let operation = attrs.text("gen_ai.operation.name");
    let openinference = attrs.text("openinference.span.kind");
    match (operation.as_deref(), openinference.as_deref()) {
        (Some("chat" | "text_completion" | "generate_content" | "embeddings"), _)
        | (_, Some("LLM" | "EMBEDDING")) => "model",
        (Some("execute_tool"), _) | (_, Some("TOOL")) => "tool",
        (Some("retrieval"), _) | (_, Some("RETRIEVER" | "RERANKER")) => "retrieval",
        (Some(_), _) | (_, Some(_)) => "other",
        // No operation named: a span that reports usage is a model call.
        (None, None) if INPUT.iter().chain(OUTPUT).any(|k| attrs.get(k).is_some()) => "model",
        (None, None) => "other",
    }
}

/// Every span of an export with its attributes, read before its resource's.
fn spans_of(request: &ExportTraceServiceRequest) -> impl Iterator<Item = (&Span, Attrs<'_>)> {
    request.resource_spans.iter().flat_map(|resource_spans| {
        let resource = resource_spans
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default();
        resource_spans
            .scope_spans
            .iter()
            .flat_map(|s| &s.spans)
            .map(move |span| {
                let attrs = Attrs {
                    span: &span.attributes,
                    resource,
                };
                (span, attrs)
            })
    })
}

/// Whether a span makes its task and attempt: the trace's root, or any span that reports the
/// task's status.
fn starts_task(span: &Span, attrs: &Attrs) -> bool {
    span.parent_span_id.is_empty() || attrs.span_has(attr::TASK_STATUS)
}

/// Maps an export to one batch; the spans that cannot be mapped are listed with the reason.
pub fn to_batch(request: &ExportTraceServiceRequest) -> Mapped {
    let mut mapped = Mapped::default();
    let roots = task_ids_of_roots(request);
    for (span, attrs) in spans_of(request) {
        let ids = Ids {
            trace: hex::encode(&span.trace_id),
            span: hex::encode(&span.span_id),
        };
        if let Err(reason) = map_span(&mut mapped, span, &attrs, &ids, &roots) {
            mapped.refused.push((ids.label(), reason));
        }
    }
    mapped
}

/// The task id each trace's task-starting spans in this export name with `finishline.task.id`,
/// so that an evaluation event on a child span without one finds the task of its trace.
fn task_ids_of_roots(request: &ExportTraceServiceRequest) -> HashMap<Vec<u8>, String> {
    spans_of(request)
        .filter(|(span, attrs)| starts_task(span, attrs))
        .filter_map(|(span, attrs)| Some((span.trace_id.clone(), attrs.text(attr::TASK_ID)?)))
        .collect()
}

/// A span's trace and span ids in hex.
struct Ids {
    trace: String,
    span: String,
}

impl Ids {
    /// How a span is named in errors and in [`Origins`]: `trace/span`.
    fn label(&self) -> String {
        format!("{}/{}", self.trace, self.span)
    }
}

fn map_span(
    mapped: &mut Mapped,
    span: &Span,
    attrs: &Attrs,
    ids: &Ids,
    roots: &HashMap<Vec<u8>, String>,
) -> Result<(), String> {
    if span.trace_id.len() != 16 || span.trace_id.iter().all(|b| *b == 0) {
        return Err("traceId must be 16 bytes, not all zero".into());
    }
    if span.span_id.len() != 8 || span.span_id.iter().all(|b| *b == 0) {
        return Err("spanId must be 8 bytes, not all zero".into());
    }
    let workflow = attrs.text(attr::WORKFLOW).ok_or_else(|| {
        format!(
            "no {} attribute on the span or its resource says which workflow it belongs to",
            attr::WORKFLOW
        )
    })?;
    if span.start_time_unix_nano == 0 {
        return Err("startTimeUnixNano is missing".into());
    }
    if span.end_time_unix_nano < span.start_time_unix_nano {
        return Err("endTimeUnixNano is before startTimeUnixNano".into());
    }
    let started_at = (span.start_time_unix_nano / 1_000_000) as i64;
    let finished_at = (span.end_time_unix_nano / 1_000_000) as i64;
    let trace = &ids.trace;
    let task_id = attrs.text(attr::TASK_ID).unwrap_or_else(|| trace.clone());
    let correlation_id = attrs
        .text(attr::ATTEMPT_ID)
        .unwrap_or_else(|| trace.clone());
    let status = span.status.as_ref().map(|s| s.code());
    let failed = status == Some(StatusCode::Error);
    let kind = kind_of(attrs);

    // Read before anything is kept: a span is one item to its sender, stored whole or refused.
    let evaluation_task = attrs
        .text(attr::TASK_ID)
        .or_else(|| roots.get(&span.trace_id).cloned())
        .unwrap_or_else(|| trace.clone());
    let mut evaluations = Vec::new();
    for (index, event) in span.events.iter().enumerate() {
        if event.name != evaluations::EVENT {
            continue;
        }
        let at = match event.time_unix_nano {
            0 => finished_at,
            nanos => (nanos / 1_000_000) as i64,
        };
        let source = attrs.text("service.name").unwrap_or_default();
        let record = evaluations::Record {
            id: format!("{trace}-{}-e{index}", ids.span),
            workflow: &workflow,
            task: &evaluation_task,
            evaluated_at: at,
            source: &source,
        };
        let event_attrs = Attrs {
            span: &event.attributes,
            resource: &[],
        };
        evaluations.push(
            evaluations::item(&event_attrs, &record)
                .map_err(|reason| format!("event {index} ({}): {reason}", evaluations::EVENT))?,
        );
    }
    let mut call = json!({
        "id": format!("{trace}-{}", ids.span),
        "workflow": workflow,
        "correlation_id": correlation_id,
        "kind": kind,
        "step": attrs.text(attr::STEP).unwrap_or_else(|| span.name.clone()),
        "started_at": started_at,
        "latency_ms": finished_at - started_at,
        "status": if failed { "error" } else { "ok" },
        "trace_id": trace,
        "span_id": ids.span,
    });
    if !span.parent_span_id.is_empty() {
        call["parent_span_id"] = json!(hex::encode(&span.parent_span_id));
    }
    if failed {
        call["error_type"] = json!(attrs.text("error.type").unwrap_or_else(|| "error".into()));
    }
    if kind != "other" {
        if let Some(provider) = attrs.first_text(PROVIDER) {
            call["provider"] = json!(provider);
        }
        if let Some(model) = attrs.first_text(MODEL) {
            call["model"] = json!(model);
        }
        if let Some(cost) = attrs.cost()? {
            call["cost_usd"] = json!(cost);
        }
    }
    if kind == "model" {
        for (field, keys) in [
            ("input_tokens", INPUT),
            ("output_tokens", OUTPUT),
            ("cache_read_tokens", CACHE_READ),
            ("cache_write_tokens", CACHE_WRITE),
            ("reasoning_tokens", REASONING),
        ] {
            call[field] = json!(attrs.count(keys)?);
        }
        for (field, all, cached) in [
            ("audio_input_tokens", AUDIO_INPUT, AUDIO_CACHE_READ),
            ("image_input_tokens", IMAGE_INPUT, IMAGE_CACHE_READ),
        ] {
            call[field] = json!((attrs.count(all)? - attrs.count(cached)?).max(0));
        }
    }

    let starts_task = starts_task(span, attrs);
    if starts_task {
        let reported = attrs
            .text(attr::TASK_STATUS)
            .unwrap_or_else(|| if failed { "failed" } else { "completed" }.to_owned());
        let mut task = json!({
            "id": task_id,
            "workflow": workflow,
            "started_at": started_at,
            "status": reported,
        });
        if reported != "running" {
            task["finished_at"] = json!(finished_at);
        }
        for (field, key) in [
            ("task_type", attr::TASK_TYPE),
            ("team", attr::TEAM),
            ("version", attr::VERSION),
            ("segment", attr::SEGMENT),
            ("escalation_reason", attr::ESCALATION),
            ("input_summary", attr::TASK_SUMMARY),
        ] {
            if let Some(value) = attrs.text(key) {
                task[field] = json!(value);
            }
        }
        if let Some(output) = attrs.text(attr::TASK_OUTPUT) {
            task["output"] = serde_json::from_str(&output)
                .map_err(|e| format!("{} must be JSON text: {e}", attr::TASK_OUTPUT))?;
        }
        if let Some(checks) = attrs.prefixed(attr::CHECK_PREFIX, false) {
            task["checks"] = Value::Object(checks);
        }
        if let Some(metrics) = attrs.prefixed(attr::METRIC_PREFIX, true) {
            task["metrics"] = Value::Object(metrics);
        }
        let attempt_status = match reported.as_str() {
            "running" => "running",
            "failed" => "failed",
            _ if failed => "failed",
            _ => "succeeded",
        };
        let mut attempt = json!({
            "correlation_id": correlation_id,
            "workflow": workflow,
            "task": task_id,
            "status": attempt_status,
            "started_at": started_at,
        });
        if attempt_status != "running" {
            attempt["finished_at"] = json!(finished_at);
        }
        if let Some(number) = attrs.text(attr::ATTEMPT_NUMBER) {
            attempt["number"] = json!(
                number
                    .parse::<i64>()
                    .map_err(|_| format!("{} must be a whole number", attr::ATTEMPT_NUMBER))?
            );
        }
        if failed {
            let message = span
                .status
                .as_ref()
                .map(|s| s.message.as_str())
                .unwrap_or("");
            if !message.is_empty() {
                attempt["error"] = json!(message);
            }
        }
        mapped.batch.tasks.push(task);
        mapped.origins.tasks.push(ids.label());
        mapped.batch.attempts.push(attempt);
        mapped.origins.attempts.push(ids.label());
    }
    let parents = starts_task.then(|| {
        (
            mapped.batch.tasks.len() - 1,
            mapped.batch.attempts.len() - 1,
        )
    });
    mapped.batch.span_parents.push(parents);
    mapped.batch.calls.push(call);
    mapped.origins.calls.push(ids.label());
    for evaluation in evaluations {
        mapped.batch.evaluations.push(evaluation);
        mapped.origins.evaluations.push(ids.label());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Status};

    fn kv(key: &str, value: Any) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    fn text(key: &str, value: &str) -> KeyValue {
        kv(key, Any::StringValue(value.to_owned()))
    }

    fn span(parent: &[u8], attributes: Vec<KeyValue>) -> Span {
        Span {
            trace_id: vec![7; 16],
            span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
            parent_span_id: parent.to_vec(),
            name: "chat gpt-4o".into(),
            start_time_unix_nano: 1_795_356_300_000_000_000,
            end_time_unix_nano: 1_795_356_301_250_000_000,
            attributes,
            ..Default::default()
        }
    }

    fn export(spans: Vec<Span>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![text(attr::WORKFLOW, "support-triage")],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn a_model_span_reads_the_older_genai_names_and_a_fractional_cost() {
        let mapped = to_batch(&export(vec![span(
            &[9; 8],
            vec![
                text("gen_ai.system", "openai"),
                text("gen_ai.request.model", "o4-mini"),
                kv("gen_ai.usage.prompt_tokens", Any::IntValue(120)),
                kv("gen_ai.usage.completion_tokens", Any::DoubleValue(80.0)),
                kv("gen_ai.usage.reasoning.output_tokens", Any::IntValue(50)),
                kv("gen_ai.usage.cache_read_input_tokens", Any::IntValue(40)),
                kv(
                    "gen_ai.usage.cache_creation_input_tokens",
                    Any::IntValue(30),
                ),
                kv("gen_ai.usage.cost", Any::DoubleValue(0.0042)),
                kv("gen_ai.usage.audio.input_tokens", Any::IntValue(30)),
                kv(
                    "gen_ai.usage.audio.cache_read.input_tokens",
                    Any::IntValue(10),
                ),
                kv("llm.token_count.prompt_details.image", Any::IntValue(7)),
            ],
        )]));
        assert!(mapped.refused.is_empty(), "{:?}", mapped.refused);
        assert!(mapped.batch.tasks.is_empty(), "a child span starts no task");
        let call = &mapped.batch.calls[0];
        assert_eq!(call["kind"], "model", "usage without an operation name");
        assert_eq!(call["provider"], "openai");
        assert_eq!(call["model"], "o4-mini");
        assert_eq!(call["input_tokens"], 120);
        assert_eq!(call["output_tokens"], 80);
        assert_eq!(call["reasoning_tokens"], 50);
        assert_eq!(call["cache_read_tokens"], 40, "the older underscore name");
        assert_eq!(call["cache_write_tokens"], 30);
        assert_eq!(
            call["audio_input_tokens"], 20,
            "audio input less its cached part"
        );
        assert_eq!(call["image_input_tokens"], 7, "the OpenInference name");
        assert_eq!(call["cost_usd"], "0.004200");
        assert_eq!(call["latency_ms"], 1_250);
        assert_eq!(call["correlation_id"], "07".repeat(16));
        assert_eq!(
            call["step"], "chat gpt-4o",
            "the span name when no step is given"
        );
    }

    #[test]
    fn a_failed_root_span_makes_a_failed_task_and_attempt() {
        let mut root = span(
            &[],
            vec![
                text("gen_ai.operation.name", "invoke_agent"),
                kv("gen_ai.usage.input_tokens", Any::IntValue(5_000)),
                text(attr::TASK_ID, "ticket-81"),
                kv("finishline.check.cites_policy", Any::BoolValue(true)),
                kv("finishline.metric.accuracy", Any::DoubleValue(0.93)),
                text("error.type", "timeout"),
            ],
        );
        root.status = Some(Status {
            code: StatusCode::Error as i32,
            message: "gave up after 3 tries".into(),
        });
        let mapped = to_batch(&export(vec![root]));
        let (task, attempt, call) = (
            &mapped.batch.tasks[0],
            &mapped.batch.attempts[0],
            &mapped.batch.calls[0],
        );
        assert_eq!(task["id"], "ticket-81");
        assert_eq!(task["status"], "failed");
        assert_eq!(task["checks"]["cites_policy"], true);
        assert_eq!(task["metrics"]["accuracy"], 0.93);
        assert_eq!(attempt["status"], "failed");
        assert_eq!(attempt["error"], "gave up after 3 tries");
        assert_eq!(call["kind"], "other");
        assert_eq!(call["status"], "error");
        assert_eq!(call["error_type"], "timeout");
        assert!(
            call.get("input_tokens").is_none(),
            "an agent span's usage is its children's, never counted again"
        );
    }

    #[test]
    fn spans_that_cannot_be_read_are_refused_with_the_attribute_named() {
        let mapped = to_batch(&export(vec![
            span(
                &[9; 8],
                vec![kv("gen_ai.usage.input_tokens", Any::DoubleValue(1.5))],
            ),
            span(
                &[9; 8],
                vec![
                    text("gen_ai.operation.name", "execute_tool"),
                    kv("gen_ai.usage.cost", Any::DoubleValue(f64::NAN)),
                ],
            ),
            Span {
                end_time_unix_nano: 1,
                ..span(&[9; 8], vec![])
            },
        ]));
        let reasons: Vec<&str> = mapped.refused.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "gen_ai.usage.input_tokens must be a whole number",
                "gen_ai.usage.cost must be a finite amount",
                "endTimeUnixNano is before startTimeUnixNano",
            ]
        );
        assert!(mapped.batch.calls.is_empty());
    }
}
