//! Evaluation results as evidence: sent in a batch, as `gen_ai.evaluation.result` span events
//! and as OTLP log records (protobuf and JSON, gzip), by the OpenTelemetry Python SDK itself,
//! deciding tasks through success rules, a person's grade overriding them; on both backends.

use crate::helpers::{app, test_databases};
use crate::ingest::{catalog, post};
use app::db::{Db, on_db, workflow};
use app::domain::rule::{Operator, Rule};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::{Value, json};
use server::api::create_api_key;
use std::io::Write;
use tower::ServiceExt;

/// Adds two task types to `support-triage`: `answer`, a success when its faithfulness
/// evaluation scores at least 0.8, and `resolution`, when its resolution evaluation's label is
/// `resolved`.
async fn evaluated_types(db: &Db) {
    let workflow_id: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM workflows WHERE slug = 'support-triage'").fetch_one(pool).await.unwrap());
    let mut tx = db.begin().await.unwrap();
    for (slug, rule) in [
        (
            "answer",
            Rule::EvaluationScore {
                evaluation: "faithfulness".into(),
                op: Operator::AtLeast,
                value: 0.8,
            },
        ),
        (
            "resolution",
            Rule::EvaluationLabel {
                evaluation: "resolution".into(),
                label: "resolved".into(),
            },
        ),
    ] {
        let task_type = workflow::NewTaskType {
            workflow_id,
            slug,
            name: slug,
            user_goal: "Answer from policy",
            pass_condition: "The evaluator agrees",
            review_method: app::domain::status::ReviewMethod::Automatic,
            segments: &[],
        };
        let id = workflow::insert_task_type(&mut tx, &task_type, 0)
            .await
            .unwrap();
        workflow::insert_success_rule(&mut tx, id, &rule.to_json(), 0, None, 0)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

fn task(id: &str, task_type: &str) -> Value {
    json!({"id": id, "workflow": "support-triage", "task_type": task_type,
           "started_at": "2026-11-20T10:00:00Z", "finished_at": "2026-11-20T10:00:09Z",
           "status": "completed", "output": {"reply": "Done"}})
}

fn evaluation(id: &str, task: &str, fields: Value) -> Value {
    let mut item = json!({"id": id, "workflow": "support-triage", "task": task,
                          "name": "faithfulness", "evaluated_at": "2026-11-20T10:05:00Z"});
    item.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    item
}

/// (status, reason) of the task with this sender id.
async fn verdict(db: &Db, id: &str) -> (String, String) {
    let sql = "SELECT status, status_reason FROM tasks WHERE external_id = $1";
    on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await.unwrap())
}

async fn evaluations_stored(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM evaluations").fetch_one(pool).await.unwrap())
}

#[tokio::test]
async fn evaluation_results_in_a_batch_decide_tasks_through_the_rule() {
    for t in test_databases().await {
        catalog(&t.db).await;
        evaluated_types(&t.db).await;
        let key = create_api_key(&t.db, "evaluator", &[], None).await.unwrap();
        let router = app(&t.db);
        let first = json!({
            "tasks": [task("a", "answer"), task("b", "answer"), task("c", "answer")],
            "evaluations": [
                evaluation("e-a", "a", json!({"score": 0.93, "source": "ragas",
                    "explanation": "Every claim is in the policy </textarea>"})),
                evaluation("e-b", "b", json!({"score": 0.41})),
                // Sent before its task: it waits under the task's sender id.
                evaluation("e-d", "d", json!({"score": 0.88})),
                evaluation("e-bad", "c", json!({})),
                evaluation("e-huge", "c", json!({"score": 1e12})),
                evaluation("e-label", "c", json!({"label": " "})),
            ]
        });
        let (status, answer) = post(&router, &key, "application/json", first.to_string()).await;
        assert_eq!(status, StatusCode::MULTI_STATUS, "{}: {answer}", t.backend);
        let errors: Vec<(&str, &str)> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_str().unwrap(), e["field"].as_str().unwrap()))
            .collect();
        assert_eq!(
            errors,
            [
                ("e-bad", "score"),
                ("e-huge", "score"),
                ("e-label", "label")
            ],
            "{}: {answer}",
            t.backend
        );
        assert_eq!(answer["counts"]["evaluations"]["created"], 3);
        assert_eq!(verdict(&t.db, "a").await.0, "succeeded", "{}", t.backend);
        let (status, reason) = verdict(&t.db, "b").await;
        assert_eq!(
            (status.as_str(), reason.as_str()),
            (
                "failed",
                "The 'faithfulness' evaluation's score is 0.41; the rule needs >= 0.8"
            ),
            "{}",
            t.backend
        );
        assert_eq!(
            verdict(&t.db, "c").await,
            (
                "pending".to_owned(),
                "Waiting for the 'faithfulness' evaluation".to_owned()
            ),
            "{}",
            t.backend
        );

        // The task the early result waited for arrives; a later result of b supersedes the
        // first; the same result resent is unchanged, other content under its id a conflict.
        let second = json!({
            "tasks": [task("d", "answer")],
            "evaluations": [
                evaluation("e-b2", "b", json!({"score": 0.85, "evaluated_at": "2026-11-21T09:00:00Z"})),
                evaluation("e-b", "b", json!({"score": 0.41})),
                evaluation("e-a", "a", json!({"score": 0.2})),
            ]
        });
        let (_, answer) = post(&router, &key, "application/json", second.to_string()).await;
        assert_eq!(answer["counts"]["evaluations"]["unchanged"], 1, "{answer}");
        assert_eq!(answer["errors"][0]["status"], 409, "{answer}");
        assert_eq!(verdict(&t.db, "d").await.0, "succeeded", "{}", t.backend);
        assert_eq!(verdict(&t.db, "b").await.0, "succeeded", "{}", t.backend);
        assert_eq!(evaluations_stored(&t.db).await, 4, "{}", t.backend);

        // A person's grade overrides the evaluator.
        let grade = json!({"grades": [{"id": "g-a", "workflow": "support-triage", "task": "a",
            "grader": "ops@example.com", "verdict": "fail", "edit_severity": "factual",
            "review_seconds": 240, "graded_at": "2026-11-21T10:00:00Z"}]});
        let (status, answer) = post(&router, &key, "application/json", grade.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            verdict(&t.db, "a").await,
            (
                "failed".to_owned(),
                "A reviewer failed the output".to_owned()
            ),
            "{}",
            t.backend
        );
    }
}

fn kv(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    kv(key, Any::StringValue(value.into()))
}

const TRACE: [u8; 16] = [0x5b; 16];
const SPAN: [u8; 8] = [0x1f; 8];

fn log_export(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    text("finishline.workflow", "support-triage"),
                    text("service.name", "judge"),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn evaluation_record(attributes: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        time_unix_nano: 1_795_356_300_000_000_000,
        event_name: "gen_ai.evaluation.result".into(),
        trace_id: TRACE.to_vec(),
        span_id: SPAN.to_vec(),
        attributes,
        ..Default::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

fn otlp(path: &str, key: &str, content_type: &str, gzipped: bool, body: Vec<u8>) -> Request<Body> {
    let mut request = Request::post(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", content_type);
    if gzipped {
        request = request.header("content-encoding", "gzip");
    }
    request.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn span_events_and_log_records_carry_evaluations_in_every_encoding() {
    for t in test_databases().await {
        catalog(&t.db).await;
        evaluated_types(&t.db).await;
        let key = create_api_key(&t.db, "collector", &[], None).await.unwrap();
        let router = app(&t.db);
        let start = 1_795_356_000_000_000_000u64;
        let trace_hex = hex::encode(TRACE);
        // A task of type `answer`, named by its trace, whose root span carries one evaluation
        // event and a cost in a currency Finishline does not keep (that span's child).
        let spans = json!({"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "finishline.workflow", "value": {"stringValue": "support-triage"}}]},
            "scopeSpans": [{"spans": [
                {"traceId": trace_hex, "spanId": hex::encode(SPAN), "name": "invoke_agent",
                 "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 9_000_000_000u64).to_string(),
                 "attributes": [
                    {"key": "finishline.task.type", "value": {"stringValue": "answer"}},
                    {"key": "finishline.task.status", "value": {"stringValue": "completed"}}],
                 "events": [{"name": "gen_ai.evaluation.result", "timeUnixNano": (start + 10_000_000_000u64).to_string(),
                    "attributes": [
                        {"key": "gen_ai.evaluation.name", "value": {"stringValue": "faithfulness"}},
                        {"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": 0.55}}]}]},
                {"traceId": trace_hex, "spanId": "00f067aa0ba902b7", "parentSpanId": hex::encode(SPAN),
                 "name": "chat", "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 1_000_000_000u64).to_string(),
                 "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                    {"key": "gen_ai.usage.cost.amount", "value": {"doubleValue": 0.002}},
                    {"key": "gen_ai.usage.cost.currency", "value": {"stringValue": "EUR"}}]},
                {"traceId": trace_hex, "spanId": "00f067aa0ba902b8", "parentSpanId": hex::encode(SPAN),
                 "name": "search", "startTimeUnixNano": start.to_string(), "endTimeUnixNano": (start + 1_000_000_000u64).to_string(),
                 "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
                    {"key": "gen_ai.usage.cost.amount", "value": {"doubleValue": 0.0031}},
                    {"key": "gen_ai.usage.cost.currency", "value": {"stringValue": "usd"}}]},
            ]}]
        }]});
        let (status, answer) = send(
            &router,
            otlp(
                "/v1/traces",
                &key,
                "application/json",
                false,
                spans.to_string().into_bytes(),
            ),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(answer["partialSuccess"]["rejectedSpans"], "1", "{answer}");
        let message = answer["partialSuccess"]["errorMessage"].as_str().unwrap();
        assert!(
            message.contains("gen_ai.usage.cost.currency is 'EUR'"),
            "{message}"
        );
        let tool_cost: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT cost_micros FROM calls WHERE kind = 'tool'").fetch_one(pool).await.unwrap());
        assert_eq!(
            tool_cost, 3_100,
            "{}: the proposed cost attribute, in USD",
            t.backend
        );
        assert_eq!(
            verdict(&t.db, &trace_hex).await.0,
            "failed",
            "{}",
            t.backend
        );

        // A later judgement of the same span as a log record, gzipped protobuf: it supersedes
        // the event. Beside it, a plain log line and a record without a workflow are refused.
        let mut plain = evaluation_record(vec![]);
        plain.event_name = String::new();
        plain.body = Some(AnyValue {
            value: Some(Any::StringValue("request served".into())),
        });
        let mut records = vec![
            evaluation_record(vec![
                text("gen_ai.evaluation.name", "faithfulness"),
                kv("gen_ai.evaluation.score.value", Any::DoubleValue(0.9)),
                text(
                    "gen_ai.evaluation.explanation",
                    "Rechecked against the policy",
                ),
            ]),
            plain,
        ];
        let mut export = log_export(records.clone());
        export.resource_logs.push(ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![evaluation_record(vec![text(
                    "gen_ai.evaluation.name",
                    "faithfulness",
                )])],
                ..Default::default()
            }],
            ..Default::default()
        });
        let body = gzip(&export.encode_to_vec());
        let (status, answer) = send(
            &router,
            otlp(
                "/v1/logs",
                &key,
                "application/x-protobuf",
                true,
                body.clone(),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let answer = ExportLogsServiceResponse::decode(answer.as_slice()).unwrap();
        let partial = answer.partial_success.expect("two records were refused");
        assert_eq!(partial.rejected_log_records, 2, "{}", partial.error_message);
        assert!(
            partial.error_message.contains(
                "log record #1 (5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b/1f1f1f1f1f1f1f1f): not a gen_ai.evaluation.result event"
            ) && partial.error_message.contains("no finishline.workflow attribute"),
            "{}",
            partial.error_message
        );
        let (status, reason) = verdict(&t.db, &trace_hex).await;
        assert_eq!(
            (status.as_str(), reason.as_str()),
            (
                "succeeded",
                "The 'faithfulness' evaluation's score is 0.9; the rule needs >= 0.8"
            ),
            "{}",
            t.backend
        );
        // Sent again, nothing is stored twice.
        send(
            &router,
            otlp("/v1/logs", &key, "application/x-protobuf", true, body),
        )
        .await;
        assert_eq!(evaluations_stored(&t.db).await, 2, "{}", t.backend);

        // OTLP/JSON logs, `event.name` as an attribute (SDKs before the field), a task named
        // by attribute, the label rule.
        records.truncate(0);
        let json_logs = json!({"resourceLogs": [{
            "resource": {"attributes": [
                {"key": "finishline.workflow", "value": {"stringValue": "support-triage"}}]},
            "scopeLogs": [{"logRecords": [{
                "timeUnixNano": "1795356300000000000",
                "attributes": [
                    {"key": "event.name", "value": {"stringValue": "gen_ai.evaluation.result"}},
                    {"key": "finishline.task.id", "value": {"stringValue": "r-1"}},
                    {"key": "gen_ai.evaluation.name", "value": {"stringValue": "resolution"}},
                    {"key": "gen_ai.evaluation.score.label", "value": {"stringValue": "resolved"}}]
            }]}]
        }]});
        let (status, answer) = send(
            &router,
            otlp(
                "/v1/logs",
                &key,
                "application/json",
                false,
                json_logs.to_string().into_bytes(),
            ),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer)
        );
        assert_eq!(String::from_utf8_lossy(&answer), "{}");
        let batch = json!({"tasks": [task("r-1", "resolution")]});
        post(&router, &key, "application/json", batch.to_string()).await;
        assert_eq!(verdict(&t.db, "r-1").await.0, "succeeded", "{}", t.backend);

        // A body that is not a log export is refused whole, in the OTLP error shape.
        let (status, answer) = send(
            &router,
            otlp(
                "/v1/logs",
                &key,
                "application/json",
                false,
                b"{\"resourceLogs\": 3}".to_vec(),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .starts_with("the body is not an OTLP/JSON log export"),
            "{answer}"
        );
    }
}

/// The OpenTelemetry Python SDK, unchanged, over real HTTP: `scripts/test` installs it from
/// PyPI into `target/python-otel`.
#[tokio::test]
async fn the_python_sdk_sends_evaluations_that_decide_tasks() {
    let python = std::env::var("FINISHLINE_TEST_PYTHON").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/python-otel/bin/python"
        )
        .to_owned()
    });
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: run scripts/test, which installs the OpenTelemetry Python SDK"
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../end2end/otel/evaluations.py"
    );
    for t in test_databases().await {
        catalog(&t.db).await;
        evaluated_types(&t.db).await;
        let key = create_api_key(&t.db, "python", &[], None).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = app(&t.db);
        let serving = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let mut sdk = std::process::Command::new(&python);
        sdk.arg(script).arg(format!("http://{address}")).arg(&key);
        // Run beside the server, which answers on this test's runtime.
        let output = tokio::task::spawn_blocking(move || sdk.output().unwrap())
            .await
            .unwrap();
        serving.abort();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}: {stdout}\n{}",
            t.backend,
            String::from_utf8_lossy(&output.stderr)
        );
        let tasks: Vec<&str> = stdout.lines().collect();
        assert_eq!(tasks.len(), 3, "{stdout}");
        assert_eq!(
            verdict(&t.db, tasks[0]).await.0,
            "succeeded",
            "{}",
            t.backend
        );
        let (status, reason) = verdict(&t.db, tasks[1]).await;
        assert_eq!(
            (status.as_str(), reason.as_str()),
            (
                "failed",
                "The 'faithfulness' evaluation's score is 0.42; the rule needs >= 0.8"
            ),
            "{}: the log record found the task of its trace",
            t.backend
        );
        assert_eq!(
            verdict(&t.db, tasks[2]).await.0,
            "succeeded",
            "{}",
            t.backend
        );
        let sources: Vec<String> = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT source FROM evaluations ORDER BY id").fetch_all(pool).await.unwrap());
        assert_eq!(sources, ["answer-bot"; 3], "{}", t.backend);
        let cost: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT CAST(SUM(cost_micros) AS BIGINT) FROM calls").fetch_one(pool).await.unwrap());
        // Three chat calls of 1,000 input and 100 output tokens of Haiku 4.5: $0.0015 each.
        assert_eq!(cost, 3 * 1_500, "{}", t.backend);
    }
}
