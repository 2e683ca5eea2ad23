//! `finishline bench`: starts this binary as a server on loopback with a fresh SQLite database,
//! drives its ingestion API (JSON batches, then OTLP protobuf) from this process with realistic
//! batches while a signed-in reader loads the overview page, then times every page of the
//! demo dataset, then the main pages at scale ([`scale`]), and prints throughput, batch
//! latency, page latency and the server's peak memory. Figures, not assertions: nothing here
//! fails on a slow machine.

mod abuse;
mod bulk;
mod ceiling;
mod postgres;
mod retention;
pub mod scale;

use anyhow::{Context, bail};
use app::db::task::CALLS_PER_STATEMENT;
use ceiling::Shape;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to send.
pub struct BenchSpec {
    pub batches: usize,
    pub tasks_per_batch: usize,
    pub calls_per_task: usize,
    pub clients: usize,
    /// Demo tasks behind the page timings.
    pub page_tasks: u64,
    /// One part only, or all of them.
    pub only: Option<Part>,
    /// Page timings at scale.
    pub scale: scale::ScaleSpec,
}

/// The parts of a bench run, in the order a whole run takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// JSON and OTLP batches into a fresh SQLite database, against the bare loader's ceiling.
    Ingestion,
    /// Every page over the demo dataset.
    Pages,
    /// The main pages over about 100,000 and 1,000,000 tasks.
    Scale,
    /// Disk per million calls before and after retention removes the calls of all but the
    /// last 30 days, on each backend.
    Retention,
    /// Hostile loads: slow clients, a burst of heavy reads from one key, a gzip burst and a
    /// sign-in burst, with the health check's latency and the server's memory meanwhile.
    Abuse,
}

/// Posts a JSON body over a fresh connection; the status code, or `None` if the connection broke.
pub async fn post_json(port: u16, path: &str, key: &str, body: &str) -> Option<u16> {
    let (status, _) = post(port, path, key, "application/json", body.as_bytes()).await?;
    Some(status)
}

/// Posts a body over a fresh connection; the status code and the answer's body, or `None` if
/// the connection broke.
pub async fn post(
    port: u16,
    path: &str,
    key: &str,
    content_type: &str,
    body: &[u8],
) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(body).await.ok()?;
    exchange(stream).await
}

/// Gets a page as a signed-in reader over a fresh connection; the status code, or `None` if
/// the connection broke.
async fn get(port: u16, path: &str, cookie: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    Some(exchange(stream).await?.0)
}

/// Signs in as a demo account through the sign-in form and returns the session cookie.
async fn sign_in(port: u16, email: &str, password: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let body = format!(
        "email={}&password={}&next=",
        app::views::format::encode_query_value(email),
        app::views::format::encode_query_value(password)
    );
    let head = format!(
        "POST /rpc/sign_in HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    let line = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))?;
    Some(line.split_once(':')?.1.trim().split(';').next()?.to_owned())
}

/// The status code and body of the answer on a `Connection: close` stream.
async fn exchange(mut stream: TcpStream) -> Option<(u16, Vec<u8>)> {
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = String::from_utf8_lossy(&response[..head_end])
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((status, response.split_off(head_end + 4)))
}

/// One realistic batch: tasks with an attempt each, a chain of model, tool and retrieval calls.
fn batch(n: usize, spec: &BenchSpec, now: i64) -> String {
    let mut tasks = Vec::new();
    let mut attempts = Vec::new();
    let mut calls = Vec::new();
    for t in 0..spec.tasks_per_batch {
        let id = format!("bench-{n}-{t}");
        let started = now - 3_600_000 + (t as i64) * 1_000;
        tasks.push(json!({"id": id, "workflow": "support-triage", "task_type": "billing-question",
            "version": "v2-routed-reranked", "segment": "self-serve", "status": "completed",
            "started_at": started, "finished_at": started + 9_000, "output": {"category": "billing", "reply": "…"}}));
        attempts.push(
            json!({"correlation_id": format!("{id}-a1"), "workflow": "support-triage", "task": id,
            "number": 1, "status": "succeeded", "started_at": started}),
        );
        for c in 0..spec.calls_per_task {
            let kind = ["model", "retrieval", "tool"][c % 3];
            let step = ["drafter", "retriever", "crm"][c % 3];
            calls.push(json!({"id": format!("{id}-c{c}"), "workflow": "support-triage", "correlation_id": format!("{id}-a1"),
                "kind": kind, "step": step, "provider": "anthropic",
                "model": if kind == "model" { "claude-haiku-4-5" } else { "" },
                "input_tokens": if kind == "model" { 4_000 } else { 0 }, "output_tokens": if kind == "model" { 380 } else { 0 },
                "cache_read_tokens": if kind == "model" { 2_000 } else { 0 },
                "cost_usd": if kind == "model" { serde_json::Value::Null } else { json!("0.0004") },
                "started_at": started + c as i64 * 100, "latency_ms": 800}));
        }
    }
    json!({"tasks": tasks, "attempts": attempts, "calls": calls}).to_string()
}

/// A span attribute.
fn value(key: &str, value: Any) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// A span attribute holding text.
fn text(key: &str, text: &str) -> KeyValue {
    value(key, Any::StringValue(text.to_owned()))
}

/// The same work as [`batch`], as an agent's OpenTelemetry SDK would export it: per task a
/// root span and one span per call, GenAI attributes on each.
fn export(n: usize, spec: &BenchSpec, now: i64) -> ExportTraceServiceRequest {
    let mut spans = Vec::new();
    for t in 0..spec.tasks_per_batch {
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
        trace_id[8..].copy_from_slice(&(t as u64 + 1).to_be_bytes());
        let started = (now - 3_600_000 + (t as i64) * 1_000) as u64 * 1_000_000;
        let root_id = 1u64.to_be_bytes().to_vec();
        spans.push(Span {
            trace_id: trace_id.to_vec(),
            span_id: root_id.clone(),
            name: "invoke_agent triage".into(),
            start_time_unix_nano: started,
            end_time_unix_nano: started + 9_000_000_000,
            attributes: vec![
                text("gen_ai.operation.name", "invoke_agent"),
                text("finishline.task.id", &format!("otlp-{n}-{t}")),
                text("finishline.task.type", "billing-question"),
                text("finishline.segment", "self-serve"),
                text(
                    "finishline.task.output",
                    r#"{"category":"billing","reply":"…"}"#,
                ),
            ],
            ..Default::default()
        });
        for c in 0..spec.calls_per_task {
            let start = started + c as u64 * 100_000_000;
            let attributes = match c % 3 {
                0 => vec![
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.provider.name", "anthropic"),
                    text("gen_ai.request.model", "claude-haiku-4-5"),
                    value("gen_ai.usage.input_tokens", Any::IntValue(4_000)),
                    value("gen_ai.usage.cache_read.input_tokens", Any::IntValue(2_000)),
                    value("gen_ai.usage.output_tokens", Any::IntValue(380)),
                    text("finishline.step", "drafter"),
                ],
                1 => vec![
                    text("gen_ai.operation.name", "retrieval"),
                    value("gen_ai.usage.cost", Any::DoubleValue(0.0004)),
                    text("finishline.step", "retriever"),
                ],
                _ => vec![
                    text("gen_ai.operation.name", "execute_tool"),
                    value("gen_ai.usage.cost", Any::DoubleValue(0.0004)),
                    text("finishline.step", "crm"),
                ],
            };
            spans.push(Span {
                trace_id: trace_id.to_vec(),
                span_id: (c as u64 + 2).to_be_bytes().to_vec(),
                parent_span_id: root_id.clone(),
                name: "call".into(),
                start_time_unix_nano: start,
                end_time_unix_nano: start + 800_000_000,
                attributes,
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "triage-agent"),
                    text("finishline.workflow", "support-triage"),
                    text("finishline.version", "v2-routed-reranked"),
                ],
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

/// One-span traces per OTLP export: an SDK's batch, under the batch size that takes one lock
/// per task.
const SPANS_PER_EXPORT: usize = 100;

/// The one-span OTLP load: as many spans as a fifth of the bench's batches carry, in exports of
/// [`SPANS_PER_EXPORT`]; and how many exports that is.
fn one_span_phase(spec: &BenchSpec) -> (Phase, usize) {
    let exports =
        spec.batches * spec.tasks_per_batch * (spec.calls_per_task + 1) / 5 / SPANS_PER_EXPORT;
    let phase = Phase {
        title: "OTLP/HTTP protobuf, one-span traces",
        path: "/v1/traces",
        content_type: "application/x-protobuf",
        unit: "spans",
        items: exports * SPANS_PER_EXPORT,
    };
    (phase, exports)
}

/// The encoded bodies of the one-span load's `exports` exports.
fn one_span_bodies(exports: usize, now: i64) -> Vec<Vec<u8>> {
    (0..exports)
        .map(|n| one_span_export(n, now).encode_to_vec())
        .collect()
}

/// Export `n`: [`SPANS_PER_EXPORT`] traces of one model span each, every one a task, attempt
/// and call of its own (the shape of an SDK tracing single requests).
fn one_span_export(n: usize, now: i64) -> ExportTraceServiceRequest {
    let spans = (0..SPANS_PER_EXPORT)
        .map(|s| {
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
            trace_id[8..].copy_from_slice(&(s as u64 + 1).to_be_bytes());
            let started = (now - 3_600_000 + (s as i64) * 1_000) as u64 * 1_000_000;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: 1u64.to_be_bytes().to_vec(),
                name: "chat claude-haiku-4-5".into(),
                start_time_unix_nano: started,
                end_time_unix_nano: started + 900_000_000,
                attributes: vec![
                    text("gen_ai.operation.name", "chat"),
                    text("gen_ai.provider.name", "anthropic"),
                    text("gen_ai.request.model", "claude-haiku-4-5"),
                    value("gen_ai.usage.input_tokens", Any::IntValue(1_200)),
                    value("gen_ai.usage.output_tokens", Any::IntValue(300)),
                    text("finishline.task.type", "billing-question"),
                ],
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    text("service.name", "triage-gateway"),
                    text("finishline.workflow", "support-triage"),
                ],
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

fn finishline(data: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("this binary's path"));
    command
        .env("FINISHLINE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

/// Peak resident memory of a process, from /proc, in MiB: its heap, and the pages of the
/// program and database files it maps (which the kernel may reclaim as page cache).
fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmHWM:")
}

/// A memory figure of a process's `/proc/<pid>/status`, in MiB.
fn status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Samples a process's anonymous resident memory (its heap and stacks, without mapped files)
/// every 20 ms until `done`; the most seen, in MiB.
fn sample_anonymous_memory(pid: u32, done: Arc<AtomicBool>) -> tokio::task::JoinHandle<f64> {
    tokio::spawn(async move {
        let mut most: f64 = 0.0;
        while !done.load(Ordering::Relaxed) {
            most = most.max(status_mib(pid, "RssAnon:").unwrap_or(0.0));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        most
    })
}

/// One benchmark phase: where its bodies go and what they count.
struct Phase {
    title: &'static str,
    path: &'static str,
    content_type: &'static str,
    unit: &'static str,
    items: usize,
}

/// Runs the benchmarks the spec asks for and prints their figures.
pub async fn run(spec: BenchSpec) -> anyhow::Result<()> {
    let runs = |part| spec.only.is_none_or(|only| only == part);
    if runs(Part::Ingestion) {
        ingestion(&spec).await?;
    }
    if runs(Part::Pages) {
        pages(&spec).await?;
    }
    if runs(Part::Scale) {
        scale::run(&spec.scale).await?;
    }
    if runs(Part::Retention) {
        retention::run(&spec.scale).await?;
    }
    if runs(Part::Abuse) {
        abuse::run(spec.page_tasks).await?;
    }
    Ok(())
}

async fn ingestion(spec: &BenchSpec) -> anyhow::Result<()> {
    let now = app::db::now_ms();
    let bodies = (0..spec.batches)
        .map(|n| batch(n, spec, now).into_bytes())
        .collect();
    let json = Phase {
        title: "JSON batch API",
        path: "/api/v1/ingest",
        content_type: "application/json",
        unit: "calls",
        items: spec.batches * spec.tasks_per_batch * spec.calls_per_task,
    };
    let json_rate = measure(spec, json, bodies).await?;
    let bodies = (0..spec.batches)
        .map(|n| export(n, spec, now).encode_to_vec())
        .collect();
    let otlp = Phase {
        title: "OTLP/HTTP protobuf",
        path: "/v1/traces",
        content_type: "application/x-protobuf",
        unit: "spans",
        items: spec.batches * spec.tasks_per_batch * (spec.calls_per_task + 1),
    };
    let otlp_rate = measure(spec, otlp, bodies).await?;
    let (one_span, exports) = one_span_phase(spec);
    let one_span_rate = measure(spec, one_span, one_span_bodies(exports, now)).await?;
    let (tasks, calls) = (spec.tasks_per_batch, spec.calls_per_task);
    let bare = ceiling::rusqlite_loader(Shape::Batch, spec.batches, tasks, calls, now).await?;
    // The same loader writing the rows the export makes: a call for each root span too, and
    // trace and span ids as the calls' ids and beside them.
    let bare_traces =
        ceiling::rusqlite_loader(Shape::Traces, spec.batches, tasks, calls, now).await?;
    // And in the one-span shape: every span a trace, a task and an attempt of its own.
    let bare_one_span =
        ceiling::rusqlite_loader(Shape::Traces, exports, SPANS_PER_EXPORT, 0, now).await?;
    let by_row = direct_loader(spec, now, 1).await?;
    let by_statement = direct_loader(spec, now, CALLS_PER_STATEMENT).await?;
    println!(
        "Ceiling: the same tasks, attempts and calls inserted straight into SQLite with Finishline's schema (one transaction per batch, nothing checked, priced or rolled up), calls per second:"
    );
    println!("  rusqlite, a cached prepared statement per table  {bare:>10.0}");
    println!("  rusqlite, the OTLP export's rows (spans)         {bare_traces:>10.0}");
    println!("  rusqlite, the one-span shape (a task per call)   {bare_one_span:>10.0}");
    println!("  sqlx, a row per statement                        {by_row:>10.0}");
    println!(
        "  sqlx, {CALLS_PER_STATEMENT} calls per statement                    {by_statement:>10.0}"
    );
    println!("As a share of the rusqlite ceiling of the same shape:");
    // An OTLP export carries one span more per task (its root) than the batch has calls.
    let otlp_calls = otlp_rate * spec.calls_per_task as f64 / (spec.calls_per_task + 1) as f64;
    for (what, rate, ceiling) in [
        ("JSON batch API", json_rate, bare),
        ("OTLP/HTTP protobuf (calls per second)", otlp_calls, bare),
        ("OTLP/HTTP protobuf (its own rows)", otlp_rate, bare_traces),
        (
            "OTLP one-span traces (each a task)",
            one_span_rate,
            bare_one_span,
        ),
        ("sqlx, a row per statement", by_row, bare),
        ("sqlx, many calls per statement", by_statement, bare),
    ] {
        println!("  {what:<40} {:>6.2}", rate / ceiling);
    }
    match &spec.scale.postgres_url {
        Some(admin) => postgres::run(spec, admin).await?,
        None => println!("Ingestion into PostgreSQL: skipped (no --postgres-url)"),
    }
    Ok(())
}

/// The ceiling for ingestion: the rows [`batch`] describes written by the least a loader can
/// do, one prepared statement per table and one transaction per batch into a fresh database of
/// the same schema, without parsing, validating, pricing, deduplicating, deciding verdicts or
/// marking rollups. Calls per second.
async fn direct_loader(
    spec: &BenchSpec,
    now: i64,
    calls_per_statement: usize,
) -> anyhow::Result<f64> {
    let dir = tempfile_dir()?;
    let db =
        app::db::Db::connect(&format!("sqlite://{}", dir.join("ceiling.db").display())).await?;
    db.migrate().await?;
    let app::db::Db::Sqlite(pool, _) = &db else {
        bail!("the ceiling is measured on SQLite");
    };
    let team: i64 = sqlx::query_scalar(
        "INSERT INTO teams (slug, name, labour_rate_micros_per_hour, created_at) \
         VALUES ('support', 'Support', 40000000, $1) RETURNING id",
    )
    .bind(now)
    .fetch_one(pool)
    .await?;
    let workflow: i64 = sqlx::query_scalar(
        "INSERT INTO workflows (slug, team_slug_key, name, team_id, budget_cpst_micros, \
         quality_target_bp, gate_window_days, gate_min_sample, drift_tolerance_bp, created_at, \
         updated_at) VALUES ('support-triage', $3, 'Support triage', $1, 1000000, 9000, 30, 400, \
         1000, $2, $2) RETURNING id",
    )
    .bind(team)
    .bind(now)
    .bind(format!("{team}/support-triage"))
    .fetch_one(pool)
    .await?;
    let started = Instant::now();
    for n in 0..spec.batches {
        let mut tx = pool.begin().await?;
        let mut calls = Vec::with_capacity(spec.tasks_per_batch * spec.calls_per_task);
        for t in 0..spec.tasks_per_batch {
            let id = format!("bench-{n}-{t}");
            let at = now - 3_600_000 + (t as i64) * 1_000;
            let task: i64 = sqlx::query_scalar(
                "INSERT INTO tasks (external_id, workflow_id, team_id, segment, started_at, \
                 finished_at, reported_status, status, output, content_hash, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'self-serve', $4, $5, 'completed', 'pending', $6, $1, $7, $7) RETURNING id",
            )
            .bind(&id)
            .bind(workflow)
            .bind(team)
            .bind(at)
            .bind(at + 9_000)
            .bind(r#"{"category":"billing","reply":"…"}"#)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let correlation = format!("{id}-a1");
            let attempt: i64 = sqlx::query_scalar(
                "INSERT INTO attempts (workflow_id, task_id, number, correlation_id, status, started_at, \
                     content_hash) VALUES ($1, $2, 1, $3, 'succeeded', $4, $3) RETURNING id",
            )
            .bind(workflow)
            .bind(task)
            .bind(&correlation)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            for c in 0..spec.calls_per_task {
                calls.push(CeilingCall {
                    external_id: format!("{id}-c{c}"),
                    correlation: correlation.clone(),
                    task,
                    attempt,
                    kind: c % 3,
                    started_at: at + c as i64 * 100,
                });
            }
        }
        for chunk in calls.chunks(calls_per_statement) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO calls (external_id, workflow_id, correlation_id, task_id, attempt_id, \
                 kind, step, provider, model, input_tokens, output_tokens, cache_read_tokens, \
                 reported_cost_micros, cost_micros, cost_source, started_at, latency_ms, status, \
                 content_hash, created_at) ",
            );
            insert.push_values(chunk, |mut row, call| {
                let model = call.kind == 0;
                row.push_bind(&call.external_id)
                    .push_bind(workflow)
                    .push_bind(&call.correlation)
                    .push_bind(call.task)
                    .push_bind(call.attempt)
                    .push_bind(["model", "retrieval", "tool"][call.kind])
                    .push_bind(["drafter", "retriever", "crm"][call.kind])
                    .push_bind("anthropic")
                    .push_bind(if model { "claude-haiku-4-5" } else { "" })
                    .push_bind(if model { 4_000_i64 } else { 0 })
                    .push_bind(if model { 380_i64 } else { 0 })
                    .push_bind(if model { 2_000_i64 } else { 0 })
                    .push_bind((!model).then_some(400_i64))
                    .push_bind(if model { 5_600_i64 } else { 400 })
                    .push_bind(if model { "priced" } else { "reported" })
                    .push_bind(call.started_at)
                    .push_bind(800_i64)
                    .push_bind("ok")
                    .push_bind(&call.external_id)
                    .push_bind(now);
            });
            // A statement of one row is prepared once and reused, like any other.
            insert.build().persistent(true).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let per_second = (spec.batches * spec.tasks_per_batch * spec.calls_per_task) as f64
        / started.elapsed().as_secs_f64();
    db.close().await;
    std::fs::remove_dir_all(dir).ok();
    Ok(per_second)
}

/// A call as the ceiling loader writes it.
struct CeilingCall {
    external_id: String,
    correlation: String,
    task: i64,
    attempt: i64,
    /// Model, retrieval or tool.
    kind: usize,
    started_at: i64,
}

/// A server on a fresh database with the demo dataset, and the port it listens on.
async fn demo_server(tasks: u64) -> anyhow::Result<(Child, u16, std::path::PathBuf)> {
    let dir = tempfile_dir()?;
    let status = finishline(&dir)
        .args(["demo", "--tasks", &tasks.to_string()])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("loading the demo dataset failed");
    }
    let (server, port) = start_server(&mut finishline(&dir), 400).await?;
    Ok((server, port, dir))
}

/// Starts `command` as a server on a free loopback port, waiting up to `polls` times 50 ms for
/// it to listen; the server and its port.
async fn start_server(command: &mut Command, polls: usize) -> anyhow::Result<(Child, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    // FINISHLINE_BENCH_SERVER_LOG names a file the servers append every statement they run
    // to, with its duration, for a profile of where a phase's time goes.
    let (stdout, stderr) = match std::env::var_os("FINISHLINE_BENCH_SERVER_LOG") {
        Some(path) => {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            command
                .env("RUST_LOG", "warn,sqlx::query=debug")
                .env("NO_COLOR", "1");
            (Stdio::from(log.try_clone()?), Stdio::from(log))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let mut server = command
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .context("starting the server")?;
    for _ in 0..polls {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok((server, port));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = server.kill();
    bail!("the server did not start")
}

/// Signs in as the demo finance reader; the session cookie.
async fn sign_in_reader(port: u16) -> Option<String> {
    sign_in(
        port,
        "finance@demo.finishline.test",
        "demo-finance-password",
    )
    .await
}

/// Loads `path` [`PAGE_LOADS`] times in a row as the reader of `cookie`; its p50 and p95, and
/// how many loads did not answer 200.
async fn load_times(port: u16, path: &str, cookie: &str) -> String {
    let mut times = Vec::new();
    let mut failed = 0;
    for _ in 0..PAGE_LOADS {
        let sent = Instant::now();
        match get(port, path, cookie).await {
            Some(200) => times.push(sent.elapsed()),
            _ => failed += 1,
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    format!(
        "p50 {:>7.1} ms  p95 {:>7.1} ms{}",
        ms(percentile(&mut times, 50)),
        ms(percentile(&mut times, 95)),
        if failed > 0 {
            format!("  ({failed} not 200)")
        } else {
            String::new()
        }
    )
}

/// The pages a finance reader opens, each timed this many times in a row.
const PAGE_LOADS: usize = 20;
const PAGES: [&str; 14] = [
    "/",
    "/?days=90",
    "/models",
    "/workflows",
    "/workflows/support-triage",
    "/workflows/support-triage?trend=day",
    "/workflows/support-triage/gate",
    "/workflows/support-triage/compare",
    "/tasks?workflow=support-triage",
    "/tasks?sort=costliest",
    "/tasks/1",
    "/export/tasks.csv?workflow=support-triage",
    "/export/workflows/support-triage/trend.csv",
    "/prices",
];

/// Times each page of the demo dataset, server-rendered for a signed-in finance reader.
async fn pages(spec: &BenchSpec) -> anyhow::Result<()> {
    let (mut server, port, dir) = demo_server(spec.page_tasks).await?;
    let Some(cookie) = sign_in_reader(port).await else {
        let _ = server.kill();
        bail!("signing in to the bench server failed");
    };
    println!(
        "Pages over the demo dataset ({} tasks), server-rendered for a signed-in reader, {PAGE_LOADS} loads each:",
        spec.page_tasks
    );
    for path in PAGES {
        println!("  {path:<66} {}", load_times(port, path, &cookie).await);
    }
    println!(
        "  server peak memory {:>10.1} MiB",
        peak_rss_mib(server.id()).unwrap_or(f64::NAN)
    );
    let _ = server.kill();
    let _ = server.wait();
    std::fs::remove_dir_all(dir).ok();
    Ok(())
}

/// Starts a server on a fresh database, sends `bodies` from `spec.clients` clients while
/// another loads the overview page four times a second, and prints the figures.
async fn measure(spec: &BenchSpec, phase: Phase, bodies: Vec<Vec<u8>>) -> anyhow::Result<f64> {
    let (mut server, port, dir) = demo_server(200).await?;
    let data = dir.as_path();
    let key = finishline(data)
        .args(["api-key", "--name", "bench"])
        .stderr(Stdio::null())
        .output()?;
    let key = String::from_utf8(key.stdout)?.trim().to_owned();
    let cookie = sign_in_reader(port).await.unwrap_or_default();
    let batches = bodies.len();
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let dashboard = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut loads = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let sent = Instant::now();
                if get(port, "/", &cookie).await == Some(200) {
                    loads.push(sent.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            loads
        })
    };
    let heap = sample_anonymous_memory(server.id(), done.clone());
    let (mut latencies, failures) = drive(&[port], spec.clients, &phase, &key, bodies).await?;
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let mut loads = dashboard.await?;
    let heap = heap.await?;
    let peak = peak_rss_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "{} into SQLite, {} clients, {batches} batches of {} {}:",
        phase.title,
        spec.clients,
        phase.items / batches.max(1),
        phase.unit,
    );
    // Only what the server acknowledged counts.
    let accepted = phase.items * latencies.len() / batches.max(1);
    let per_second = accepted as f64 / elapsed.as_secs_f64();
    println!(
        "  {:<28}{:>10.0}",
        format!("{} accepted per second", phase.unit),
        per_second
    );
    println!(
        "  batch latency p50           {:>10.1} ms",
        ms(percentile(&mut latencies, 50))
    );
    println!(
        "  batch latency p99           {:>10.1} ms",
        ms(percentile(&mut latencies, 99))
    );
    println!(
        "  overview page p50 meanwhile {:>10.1} ms",
        ms(percentile(&mut loads, 50))
    );
    println!(
        "  overview page p99 meanwhile {:>10.1} ms",
        ms(percentile(&mut loads, 99))
    );
    println!(
        "  server peak memory          {:>10.1} MiB",
        peak.unwrap_or(f64::NAN)
    );
    println!(
        "    of it heap, at most       {heap:>10.1} MiB (the rest: the program and database files mapped)"
    );
    println!("  batches not accepted        {:>10}", failures);
    std::fs::remove_dir_all(data).ok();
    Ok(per_second)
}

/// Sends `bodies` from `clients` clients, client `c` to server `ports[c % ports.len()]`, each
/// waiting for its answer before sending the next. The latency of each accepted batch, and how
/// many were not accepted.
async fn drive(
    ports: &[u16],
    clients: usize,
    phase: &Phase,
    key: &str,
    bodies: Vec<Vec<u8>>,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let queue = Arc::new(Mutex::new(bodies));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (queue, key, port) = (queue.clone(), key.to_owned(), ports[c % ports.len()]);
        let (path, content_type) = (phase.path, phase.content_type);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            while let Some(body) = next(&queue) {
                let sent = Instant::now();
                // An OTLP answer with a body carries a partial success: spans were refused.
                match post(port, path, &key, content_type, &body).await {
                    Some((200, answer)) if path != "/v1/traces" || answer.is_empty() => {
                        latencies.push(sent.elapsed())
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (l, f) = task.await?;
        latencies.extend(l);
        failures += f;
    }
    Ok((latencies, failures))
}

fn next(queue: &Mutex<Vec<Vec<u8>>>) -> Option<Vec<u8>> {
    queue.lock().ok()?.pop()
}

/// The nearest-rank percentile of some durations.
fn percentile(values: &mut [Duration], p: usize) -> Duration {
    values.sort();
    values
        .get((values.len() * p).div_ceil(100).saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

/// A fresh folder under the system's temporary directory.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "finishline-bench-{}-{}",
        std::process::id(),
        app::db::now_ms()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
