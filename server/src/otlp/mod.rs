//! `POST /v1/traces` and `POST /v1/logs`: the OpenTelemetry receivers (OTLP/HTTP, protobuf or
//! JSON, gzip or not).
//!
//! Spans become the same tasks, attempts and calls the batch API stores (see `spans`), and
//! `gen_ai.evaluation.result` events, on spans or as log records, its evaluation results (see
//! `evaluations`, `logs`), in one transaction and through the same validation, so a record sent
//! twice is counted once and a bad one is refused by name while its neighbours are stored.
//! Answers follow the OTLP specification: 200 with `partial_success` naming what was refused,
//! 400 for a body that cannot be read, 429/503 with `Retry-After` when the client should try
//! again.

pub(crate) mod attrs;
pub(crate) mod evaluations;
pub(crate) mod logs;
pub(crate) mod spans;

use crate::caller::ApiCaller;
use crate::error::ApiError;
use crate::ingest::{IngestSlots, MAX_BODY, MAX_ITEMS, Results, write_batch};
use crate::intake::{IntakeError, SizeLimits, read_body};
use crate::limits::Refused;
use app::db::health::WriteHealth;
use app::db::{Db, DbError, now_ms};
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use serde_json::json;

/// The largest body once decompressed: a small gzip body must not expand without bound.
pub const MAX_DECODED: usize = 64 * 1024 * 1024;
/// How many refusals the `partial_success` message spells out before summing up the rest.
const REASONS_SHOWN: usize = 5;

/// How the body is encoded; the answer uses the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// `google.rpc.Status`, the body of an OTLP error answer.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// A refused export: its HTTP status, the reason, and when to retry if the client should.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn into_response(self, encoding: Encoding) -> Response {
        // gRPC codes, as the OTLP/HTTP error body carries them.
        let code = match self.status {
            StatusCode::BAD_REQUEST => 3,
            StatusCode::UNAUTHORIZED => 16,
            StatusCode::FORBIDDEN => 7,
            StatusCode::PAYLOAD_TOO_LARGE => 8,
            StatusCode::TOO_MANY_REQUESTS => 8,
            StatusCode::SERVICE_UNAVAILABLE => 14,
            _ => 13,
        };
        let status = RpcStatus {
            code,
            message: self.message,
        };
        let mut response = encode(encoding, &status, &status).into_response();
        *response.status_mut() = self.status;
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<IntakeError> for Refusal {
    fn from(error: IntakeError) -> Refusal {
        let (status, retry_after) = match &error {
            IntakeError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, None),
            IntakeError::TimedOut => (StatusCode::REQUEST_TIMEOUT, None),
            IntakeError::Broken | IntakeError::BadGzip(_) => (StatusCode::BAD_REQUEST, None),
            IntakeError::UnsupportedEncoding(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, None),
            IntakeError::OverBudget => (StatusCode::SERVICE_UNAVAILABLE, Some(1)),
        };
        let message = match &error {
            IntakeError::TooLarge { .. } => error.to_string().replacen("the body", "an export", 1),
            _ => error.to_string(),
        };
        Refusal {
            status,
            message,
            retry_after,
        }
    }
}

/// The answer to an export that was not admitted (see `admission`), in the export's encoding.
pub(crate) fn refused(headers: &HeaderMap, refused: &Refused) -> Response {
    let refusal = Refusal {
        status: refused.status(),
        message: refused.message(),
        retry_after: Some(refused.retry_after()),
    };
    refusal.into_response(encoding_of(headers).unwrap_or(Encoding::Json))
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Refusal {
        let refused_write = match &error {
            ApiError::Storage(err @ (DbError::ReadOnly(_) | DbError::Unavailable(_))) => {
                Some(format!("{err}; nothing in this export was stored"))
            }
            _ => None,
        };
        let status = error.into_response().status();
        let retry_after = (status == StatusCode::SERVICE_UNAVAILABLE).then_some(1);
        let message = refused_write.unwrap_or_else(|| match status {
            StatusCode::UNAUTHORIZED => {
                "send an API key as 'Authorization: Bearer <key>' (OTEL_EXPORTER_OTLP_HEADERS)"
                    .to_owned()
            }
            StatusCode::SERVICE_UNAVAILABLE => "the server is busy; retry shortly".to_owned(),
            StatusCode::INTERNAL_SERVER_ERROR => {
                "something went wrong; it has been logged".to_owned()
            }
            _ => "the request was refused".to_owned(),
        });
        Refusal {
            status,
            message,
            retry_after,
        }
    }
}

fn encode<M: Message, S: serde::Serialize>(encoding: Encoding, proto: &M, json: &S) -> Response {
    let body = match encoding {
        Encoding::Protobuf => proto.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(json).unwrap_or_default(),
    };
    ([(header::CONTENT_TYPE, encoding.content_type())], body).into_response()
}

/// An export's bytes, as the OpenAPI document describes the protobuf body.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct ProtobufBody(Vec<u8>);

/// Which signal an export carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    Traces,
    Logs,
}

impl Signal {
    /// What one record is called in answers.
    fn record(self) -> &'static str {
        match self {
            Signal::Traces => "span",
            Signal::Logs => "log record",
        }
    }
}

/// Receives an OTLP trace export.
#[utoipa::path(post, path = "/v1/traces", tag = "ingest",
    request_body(
        description = "An OTLP `ExportTraceServiceRequest`, as `application/x-protobuf` or `application/json` (hex trace and span ids), optionally `Content-Encoding: gzip`",
        content((ProtobufBody = "application/x-protobuf"), (serde_json::Value = "application/json")),
    ),
    responses(
        (status = 200, description = "Stored; `partial_success` counts and names the refused spans"),
        (status = 400, description = "The body is not an OTLP trace export"),
        (status = 401, description = "No valid API key"),
        (status = 408, description = "The body did not arrive within the body timeout"),
        (status = 413, description = "The body is over 16 MiB, or over 64 MiB decompressed"),
        (status = 415, description = "Neither protobuf nor JSON, or an encoding other than gzip"),
        (status = 429, description = "Too many requests in progress or per second for this key; retry after Retry-After seconds"),
        (status = 503, description = "Busy, over the upload memory budget, or the database is unavailable; retry after Retry-After seconds"),
    ))]
pub async fn post_traces(
    State(receiver): State<Receiver>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receiver
        .export(Signal::Traces, caller, &headers, body)
        .await
}

/// Receives an OTLP log export: its `gen_ai.evaluation.result` events.
#[utoipa::path(post, path = "/v1/logs", tag = "ingest",
    request_body(
        description = "An OTLP `ExportLogsServiceRequest`, as `application/x-protobuf` or `application/json` (hex trace and span ids), optionally `Content-Encoding: gzip`. Records that are `gen_ai.evaluation.result` events are stored as evaluation results of their task; any other record is refused in `partial_success`",
        content((ProtobufBody = "application/x-protobuf"), (serde_json::Value = "application/json")),
    ),
    responses(
        (status = 200, description = "Stored; `partial_success` counts and names the refused log records"),
        (status = 400, description = "The body is not an OTLP log export"),
        (status = 401, description = "No valid API key"),
        (status = 408, description = "The body did not arrive within the body timeout"),
        (status = 413, description = "The body is over 16 MiB, or over 64 MiB decompressed"),
        (status = 415, description = "Neither protobuf nor JSON, or an encoding other than gzip"),
        (status = 429, description = "Too many requests in progress or per second for this key; retry after Retry-After seconds"),
        (status = 503, description = "Busy, over the upload memory budget, or the database is unavailable; retry after Retry-After seconds"),
    ))]
pub async fn post_logs(
    State(receiver): State<Receiver>,
    caller: Result<ApiCaller, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    receiver.export(Signal::Logs, caller, &headers, body).await
}

/// What both receivers share: the store, the write slots, the write health and the upload
/// memory budget.
#[derive(Clone)]
pub struct Receiver {
    db: Db,
    slots: IngestSlots,
    health: WriteHealth,
    intake: crate::intake::Budget,
}

impl FromRef<crate::AppState> for Receiver {
    fn from_ref(state: &crate::AppState) -> Receiver {
        Receiver {
            db: Db::from_ref(state),
            slots: IngestSlots::from_ref(state),
            health: WriteHealth::from_ref(state),
            intake: crate::intake::Budget::from_ref(state),
        }
    }
}

impl Receiver {
    async fn export(
        &self,
        signal: Signal,
        caller: Result<ApiCaller, ApiError>,
        headers: &HeaderMap,
        body: Body,
    ) -> Response {
        let encoding = encoding_of(headers);
        // Who is calling is answered first: a request without a valid key learns nothing else.
        let caller = match caller {
            Ok(caller) => caller,
            Err(refused) => {
                return Refusal::from(refused)
                    .into_response(*encoding.as_ref().unwrap_or(&Encoding::Json));
            }
        };
        let encoding = match encoding {
            Ok(encoding) => encoding,
            Err(refusal) => return refusal.into_response(Encoding::Json),
        };
        let body = read_body(
            body,
            headers,
            SizeLimits {
                sent: MAX_BODY,
                decoded: MAX_DECODED,
            },
            &self.intake,
        )
        .await;
        let body = match body {
            Ok(body) => body,
            Err(error) => return Refusal::from(error).into_response(encoding),
        };
        match self.receive(signal, caller, &body.bytes, encoding).await {
            Ok(response) => response,
            Err(refusal) => refusal.into_response(encoding),
        }
    }

    async fn receive(
        &self,
        signal: Signal,
        caller: ApiCaller,
        body: &[u8],
        encoding: Encoding,
    ) -> Result<Response, Refusal> {
        let (mapped, count) = match signal {
            Signal::Traces => {
                let request: ExportTraceServiceRequest =
                    decode(body, encoding, "ExportTraceServiceRequest", "trace")?;
                let count = request
                    .resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .map(|s| s.spans.len())
                    .sum::<usize>();
                (spans::to_batch(&request), count)
            }
            Signal::Logs => {
                let request: ExportLogsServiceRequest =
                    decode(body, encoding, "ExportLogsServiceRequest", "log")?;
                let count = request
                    .resource_logs
                    .iter()
                    .flat_map(|r| &r.scope_logs)
                    .map(|s| s.log_records.len())
                    .sum::<usize>();
                (logs::to_batch(&request), count)
            }
        };
        if count > MAX_ITEMS {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "an export holds at most {MAX_ITEMS} {}s; this one has {count}",
                    signal.record()
                ),
            ));
        }
        let now = now_ms();
        let _slot = tokio::time::timeout(crate::ingest::SLOT_WAIT, self.slots.0.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(ApiError::Busy)?;
        let results = write_batch(&self.db, &self.health, &caller, mapped.batch, now)
            .await
            .map_err(ApiError::from)?;
        let refused = refusals(&mapped.origins, mapped.refused, &results);
        let rejected = refused.len() as i64;
        let message = summary(signal, &refused);
        // The proto3 JSON mapping: absent fields left out, 64-bit integers as strings.
        let json = |field: &str| match rejected {
            0 => json!({}),
            n => json!({"partialSuccess": {field: n.to_string(), "errorMessage": message}}),
        };
        Ok(match signal {
            Signal::Traces => encode(
                encoding,
                &ExportTraceServiceResponse {
                    partial_success: (rejected > 0).then(|| ExportTracePartialSuccess {
                        rejected_spans: rejected,
                        error_message: message.clone(),
                    }),
                },
                &json("rejectedSpans"),
            ),
            Signal::Logs => encode(
                encoding,
                &ExportLogsServiceResponse {
                    partial_success: (rejected > 0).then(|| ExportLogsPartialSuccess {
                        rejected_log_records: rejected,
                        error_message: message.clone(),
                    }),
                },
                &json("rejectedLogRecords"),
            ),
        })
    }
}

/// An export's request message from its body, or why it cannot be read.
fn decode<M>(body: &[u8], encoding: Encoding, message: &str, signal: &str) -> Result<M, Refusal>
where
    M: Message + Default + serde::de::DeserializeOwned,
{
    match encoding {
        Encoding::Protobuf => M::decode(body).map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not an OTLP {message}: {e}"),
            )
        }),
        Encoding::Json => serde_json::from_slice(body).map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body is not an OTLP/JSON {signal} export: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        }),
    }
}

fn encoding_of(headers: &HeaderMap) -> Result<Encoding, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match content_type.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the export as Content-Type: application/x-protobuf or application/json",
        )),
    }
}

/// Every refused record once, with the first reason given for it: those refused while mapping,
/// then those whose task, attempt, call or evaluation result the store refused.
fn refusals(
    origins: &spans::Origins,
    mut refused: Vec<(String, String)>,
    results: &Results,
) -> Vec<(String, String)> {
    for error in &results.rejected {
        let kind = error["kind"].as_str().unwrap_or_default();
        let index = error["index"].as_u64().unwrap_or_default() as usize;
        let Some(record) = origins.record(kind, index) else {
            continue;
        };
        if refused.iter().any(|(r, _)| r == record) {
            continue;
        }
        let field = error["field"].as_str().unwrap_or_default();
        let message = error["message"].as_str().unwrap_or_default();
        let reason = if field.is_empty() {
            message.to_owned()
        } else {
            format!("{}: {message}", spans::attribute(field))
        };
        refused.push((record.to_owned(), reason));
    }
    refused
}

fn summary(signal: Signal, refused: &[(String, String)]) -> String {
    let record = signal.record();
    let mut text = refused
        .iter()
        .take(REASONS_SHOWN)
        .map(|(label, reason)| format!("{record} {label}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ");
    if refused.len() > REASONS_SHOWN {
        text.push_str(&format!(
            "; and {} more {record}s",
            refused.len() - REASONS_SHOWN
        ));
    }
    text
}
