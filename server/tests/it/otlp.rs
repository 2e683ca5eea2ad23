//! The OTLP receiver, fed with bodies the OpenTelemetry SDK's own HTTP exporter produced
//! (protobuf, gzip, JSON), and with hand-written OTLP/JSON as the specification spells it.

use crate::helpers::{api_get, app, test_databases};
use crate::ingest::catalog;
use app::db::{Db, on_db};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Compression, Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use prost::Message;
use serde_json::{Value, json};
use server::api::create_api_key;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// An HTTP client for the SDK's exporter that keeps each request instead of sending it.
#[derive(Clone, Debug, Default)]
struct Captured(Arc<Mutex<Vec<opentelemetry_http::Request<opentelemetry_http::Bytes>>>>);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for Captured {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        self.0.lock().unwrap().push(request);
        Ok(opentelemetry_http::Response::new(Default::default()))
    }
}

/// One triage task as an agent instrumented with the OpenTelemetry SDK reports it: the agent
/// span (which sums its children's usage, as some instrumentations do), a GenAI chat span
/// with cached input, an OpenInference LLM span, a paid tool call and a plain HTTP span.
fn sdk_export(
    protocol: Protocol,
    compression: Option<Compression>,
    key: &str,
) -> Vec<Request<Body>> {
    let captured = Captured::default();
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(captured.clone())
        .with_protocol(protocol)
        .with_endpoint("http://finishline.test/v1/traces")
        .with_headers(HashMap::from([(
            "authorization".to_owned(),
            format!("Bearer {key}"),
        )]));
    if let Some(compression) = compression {
        builder = builder.with_compression(compression);
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(builder.build().unwrap())
        .with_resource(
            Resource::builder_empty()
                .with_attributes([
                    KeyValue::new("service.name", "triage-agent"),
                    KeyValue::new("finishline.workflow", "support-triage"),
                    KeyValue::new("finishline.version", "v7"),
                ])
                .build(),
        )
        .build();
    let tracer = provider.tracer("triage-agent");
    let root = tracer
        .span_builder("invoke_agent triage")
        .with_attributes([
            KeyValue::new("gen_ai.operation.name", "invoke_agent"),
            KeyValue::new("gen_ai.usage.input_tokens", 3_000),
            KeyValue::new("finishline.task.type", "ticket"),
            KeyValue::new("finishline.task.output", r#"{"reply":"Refund sent"}"#),
        ])
        .start(&tracer);
    let cx = Context::current_with_span(root);
    let child = |name: &str, attributes: Vec<KeyValue>| {
        let mut span = tracer
            .span_builder(name.to_owned())
            .with_attributes(attributes)
            .start_with_context(&tracer, &cx);
        span.end();
    };
    child(
        "chat claude-haiku-4-5",
        vec![
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.provider.name", "anthropic"),
            KeyValue::new("gen_ai.request.model", "claude-haiku-4-5"),
            KeyValue::new("gen_ai.usage.input_tokens", 1_000),
            KeyValue::new("gen_ai.usage.cache_read.input_tokens", 200),
            KeyValue::new("gen_ai.usage.output_tokens", 100),
            KeyValue::new("finishline.step", "classify"),
        ],
    );
    child(
        "ChatCompletion",
        vec![
            KeyValue::new("openinference.span.kind", "LLM"),
            KeyValue::new("llm.provider", "openai"),
            KeyValue::new("llm.model_name", "gpt-4o-mini"),
            KeyValue::new("llm.token_count.prompt", 2_000),
            KeyValue::new("llm.token_count.completion", 500),
        ],
    );
    child(
        "execute_tool refund",
        vec![
            KeyValue::new("gen_ai.operation.name", "execute_tool"),
            KeyValue::new("gen_ai.tool.name", "refund"),
            KeyValue::new("gen_ai.usage.cost", 0.002),
        ],
    );
    child(
        "POST /refunds",
        vec![KeyValue::new("http.request.method", "POST")],
    );
    cx.span().set_status(Status::Ok);
    cx.span().end();
    provider.shutdown().unwrap();
    let requests = std::mem::take(&mut *captured.0.lock().unwrap());
    requests.into_iter().map(|r| r.map(Body::from)).collect()
}

/// $0.00132 for the chat call (800 input + 200 cached + 100 output tokens of Haiku 4.5),
/// $0.0006 for the OpenInference call (2,000 + 500 tokens of GPT-4o mini), $0.002 for the tool;
/// the agent's own summed usage and the HTTP span cost nothing.
const TASK_COST: i64 = 1_320 + 600 + 2_000;

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

async fn send_all(router: &axum::Router, requests: Vec<Request<Body>>) {
    for request in requests {
        let (status, body) = send(router, request).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    }
}

async fn stored(db: &Db) -> (i64, i64, Vec<(String, i64)>) {
    let calls = "SELECT COUNT(*) FROM calls";
    let cost = "SELECT CAST(COALESCE(SUM(cost_micros), 0) AS BIGINT) FROM calls";
    let kinds = "SELECT kind, COUNT(*) FROM calls GROUP BY kind ORDER BY kind";
    on_db!(db, pool => (
        sqlx::query_scalar(calls).fetch_one(pool).await.unwrap(),
        sqlx::query_scalar(cost).fetch_one(pool).await.unwrap(),
        sqlx::query_as(kinds).fetch_all(pool).await.unwrap(),
    ))
}

#[tokio::test]
async fn spans_from_the_sdk_become_one_task_costed_once_in_every_encoding() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "agent", &[], None).await.unwrap();
        let router = app(&t.db);

        let protobuf = sdk_export(Protocol::HttpBinary, Some(Compression::Gzip), &key);
        assert!(
            protobuf
                .iter()
                .all(|r| r.headers()["content-encoding"] == "gzip"),
            "the SDK compressed its export"
        );
        send_all(&router, protobuf).await;
        let (calls, cost, kinds) = stored(&t.db).await;
        assert_eq!(calls, 5, "{}: every span is kept", t.backend);
        assert_eq!(cost, TASK_COST, "{}", t.backend);
        let kinds: Vec<(&str, i64)> = kinds.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(
            kinds,
            [("model", 2), ("other", 2), ("tool", 1)],
            "{}",
            t.backend
        );

        // The same task sent again by the SDK's JSON exporter is a new trace, so a new task;
        // a resend of that very body changes nothing.
        let json_export = sdk_export(Protocol::HttpJson, None, &key);
        let body = json_export_body(json_export).await;
        let resend = |body: &Vec<u8>| {
            Request::post("/v1/traces")
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap()
        };
        let (status, answer) = send(&router, resend(&body)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert!(
            answer.get("partialSuccess").is_none(),
            "{}: {answer}",
            t.backend
        );
        send(&router, resend(&body)).await;
        let (calls, cost, _) = stored(&t.db).await;
        assert_eq!(calls, 10, "{}", t.backend);
        assert_eq!(
            cost,
            2 * TASK_COST,
            "{}: a resent export never counts twice",
            t.backend
        );

        app::db::rollup::refresh_all_dirty(&t.db).await.unwrap();
        let (status, figures) = api_get(
            &router,
            "/api/v1/figures?workflow=support-triage&days=1&group_by=config_version",
            &key,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{figures}");
        let figures: Value = serde_json::from_str(&figures).unwrap();
        let group = &figures["groups"][0];
        assert_eq!(group["label"], "v7", "{}: {figures}", t.backend);
        assert_eq!(
            group["tasks"]["succeeded"], 2,
            "{}: the output attribute met the rule",
            t.backend
        );
        assert_eq!(group["cpst_micros"], TASK_COST, "{}", t.backend);
        assert_eq!(
            group["input_tokens"],
            2 * (1_000 + 2_000),
            "{}: the agent span's summed usage is not counted again: {group}",
            t.backend
        );
    }
}

/// The JSON export's body, checked to be OTLP/JSON as the specification has it: hex ids.
async fn json_export_body(requests: Vec<Request<Body>>) -> Vec<u8> {
    assert_eq!(requests.len(), 1);
    let request = requests.into_iter().next().unwrap();
    assert_eq!(request.headers()["content-type"], "application/json");
    let bytes = request.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    let trace_id = json["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
        .as_str()
        .unwrap();
    assert_eq!(trace_id.len(), 32, "hex, not base64: {trace_id}");
    bytes.to_vec()
}

fn spec_json(spans: Value) -> String {
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "finishline.workflow", "value": {"stringValue": "support-triage"}}
        ]},
        "scopeSpans": [{"scope": {"name": "gateway"}, "spans": spans}]
    }]})
    .to_string()
}

fn spec_span(span_id: &str, attributes: Value) -> Value {
    let start = app::db::now_ms() as u128 * 1_000_000 - 5_000_000_000;
    json!({
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": span_id,
        "parentSpanId": "eee19b7ec3c1b174",
        "name": "chat",
        "kind": 3,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": (start + 1_200_000_000).to_string(),
        "attributes": attributes,
        "status": {}
    })
}

fn post_json(key: &str, body: String) -> Request<Body> {
    Request::post("/v1/traces")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn refused_spans_are_counted_and_named_while_the_rest_are_stored() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
        let router = app(&t.db);
        let tokens = |input: Value| {
            json!([
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.provider.name", "value": {"stringValue": "anthropic"}},
                {"key": "gen_ai.response.model", "value": {"stringValue": "claude-haiku-4-5"}},
                {"key": "gen_ai.usage.input_tokens", "value": input},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 10}}
            ])
        };
        let mut elsewhere = spec_span("00f067aa0ba902b3", tokens(json!({"intValue": "5"})));
        elsewhere["attributes"].as_array_mut().unwrap().push(
            json!({"key": "finishline.workflow", "value": {"stringValue": "no-such-workflow"}}),
        );
        let body = spec_json(json!([
            // intValue as a string, as the specification encodes 64-bit integers.
            spec_span("00f067aa0ba902b1", tokens(json!({"intValue": "1000"}))),
            spec_span("00f067aa0ba902b2", tokens(json!({"intValue": "-4"}))),
            elsewhere,
            spec_span("", tokens(json!({"intValue": "1"}))),
        ]));
        let (status, answer) = send(&router, post_json(&key, body)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        let partial = &answer["partialSuccess"];
        assert_eq!(partial["rejectedSpans"], "3", "{}: {answer}", t.backend);
        let message = partial["errorMessage"].as_str().unwrap();
        assert!(
            message.contains("gen_ai.usage.input_tokens must not be negative"),
            "{message}"
        );
        assert!(
            message.contains("finishline.workflow") && message.contains("no-such-workflow"),
            "{message}"
        );
        assert!(message.contains("spanId must be 8 bytes"), "{message}");
        let (calls, cost, _) = stored(&t.db).await;
        assert_eq!(calls, 1, "{}", t.backend);
        // 1,000 input and 10 output tokens of Haiku 4.5: $0.001 + $0.00005.
        assert_eq!(cost, 1_050, "{}", t.backend);
    }
}

#[tokio::test]
async fn a_key_scoped_to_one_team_cannot_write_anothers_spans() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let teams = app::db::identity::list_teams(&t.db).await.unwrap();
        let finance = teams.iter().find(|t| t.slug == "finance").unwrap();
        let key = create_api_key(
            &t.db,
            "finance",
            &[app::model::KeyScope::Team(finance.id)],
            None,
        )
        .await
        .unwrap();
        let router = app(&t.db);
        let body = spec_json(json!([spec_span("00f067aa0ba902b1", json!([]))]));
        let (status, answer) = send(&router, post_json(&key, body)).await;
        assert_eq!(status, StatusCode::OK);
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["partialSuccess"]["rejectedSpans"], "1", "{answer}");
        assert!(
            answer["partialSuccess"]["errorMessage"]
                .as_str()
                .unwrap()
                .contains("may not write to 'support-triage'"),
            "{answer}"
        );
        assert_eq!(stored(&t.db).await.0, 0, "{}", t.backend);
    }
}

/// A span is one item to its sender: when the task or attempt it carries is refused, its call
/// is not stored either, and the span is reported refused.
#[tokio::test]
async fn a_refused_span_is_not_partly_stored() {
    for t in test_databases().await {
        catalog(&t.db).await;
        let teams = app::db::identity::list_teams(&t.db).await.unwrap();
        let support = teams.iter().find(|t| t.slug == "support").unwrap();
        let key = create_api_key(
            &t.db,
            "support gateway",
            &[app::model::KeyScope::Team(support.id)],
            None,
        )
        .await
        .unwrap();
        let router = app(&t.db);
        let mut span = spec_span(
            "00f067aa0ba902b1",
            json!([
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "finishline.team", "value": {"stringValue": "finance"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 10}}
            ]),
        );
        span.as_object_mut().unwrap().remove("parentSpanId");
        let (status, answer) = send(&router, post_json(&key, spec_json(json!([span])))).await;
        assert_eq!(status, StatusCode::OK);
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["partialSuccess"]["rejectedSpans"], "1", "{answer}");
        let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
        assert!(message.contains("finishline.team"), "{answer}");
        assert_eq!(
            stored(&t.db).await.0,
            0,
            "{}: no call of the span",
            t.backend
        );
        let tasks =
            on_db!(&t.db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tasks")
            .fetch_one(pool).await)
            .unwrap();
        assert_eq!(tasks, 0, "{}", t.backend);
    }
}

#[tokio::test]
async fn unreadable_exports_are_refused_with_an_otlp_status() {
    let t = crate::helpers::sqlite().await;
    catalog(&t.db).await;
    let key = create_api_key(&t.db, "gateway", &[], None).await.unwrap();
    let router = app(&t.db);
    let request = |content_type: &str, encoding: Option<&str>, body: Vec<u8>| {
        let mut builder = Request::post("/v1/traces")
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", content_type);
        if let Some(encoding) = encoding {
            builder = builder.header("content-encoding", encoding);
        }
        builder.body(Body::from(body)).unwrap()
    };

    let (status, body) = send(
        &router,
        request("application/x-protobuf", None, vec![0xff, 0xff, 0xff]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let rpc = RpcStatus::decode(body.as_slice()).expect("a google.rpc.Status body");
    assert_eq!(rpc.code, 3);
    assert!(rpc.message.contains("ExportTraceServiceRequest"), "{rpc:?}");

    let (status, body) = send(
        &router,
        request("application/json", None, b"{\"resourceSpans\": [".to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("line 1"),
        "{body}"
    );

    let (status, _) = send(
        &router,
        request("application/x-protobuf", Some("gzip"), b"not gzip".to_vec()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(
        &router,
        request("application/x-protobuf", Some("br"), Vec::new()),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = send(&router, request("text/plain", None, Vec::new())).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A gzip bomb: a few kilobytes that expand past the decompressed limit.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, &vec![0u8; 65 * 1024 * 1024]).unwrap();
    let bomb = encoder.finish().unwrap();
    let (status, _) = send(
        &router,
        request("application/x-protobuf", Some("gzip"), bomb),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let no_key = Request::post("/v1/traces")
        .header("content-type", "application/x-protobuf")
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(&router, no_key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(RpcStatus::decode(body.as_slice()).unwrap().code, 16);
    // Without a key, nothing else about the request is answered: not even its content type.
    let no_key_wrong_type = Request::post("/v1/traces")
        .header("content-type", "text/plain")
        .body(Body::empty())
        .unwrap();
    let (status, _) = send(&router, no_key_wrong_type).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An empty export is valid and answers with an empty response.
    let (status, body) = send(&router, request("application/x-protobuf", None, Vec::new())).await;
    assert_eq!(status, StatusCode::OK);
    let response = ExportTraceServiceResponse::decode(body.as_slice()).unwrap();
    assert!(response.partial_success.is_none());
}
