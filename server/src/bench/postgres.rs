//! Ingestion into PostgreSQL: the bench's JSON batches and one-span OTLP traces (every span a
//! task of its own), each into a fresh database on the cluster `--postgres-url` names, with one
//! server process and then with two over the same database, the load split between them and
//! four clients per server. Prints throughput per shape and the two servers' ratio to one.

use super::scale::ThrowAway;
use super::{BenchSpec, Phase, batch, drive, finishline, percentile, start_server, tempfile_dir};
use anyhow::bail;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Clients per server process.
const CLIENTS_PER_SERVER: usize = 4;
/// One-span traces per OTLP export: an SDK's batch, under the batch size that takes one lock
/// per task.
const SPANS_PER_EXPORT: usize = 100;

/// The one-span OTLP load: as many spans as a fifth of the bench's batches carry, in exports of
/// [`SPANS_PER_EXPORT`]; and how many exports that is.
pub(super) fn one_span_phase(spec: &BenchSpec) -> (Phase, usize) {
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
pub(super) fn one_span_bodies(exports: usize, now: i64) -> Vec<Vec<u8>> {
    (0..exports)
        .map(|n| one_span_export(n, now).encode_to_vec())
        .collect()
}

pub async fn run(spec: &BenchSpec, admin: &str) -> anyhow::Result<()> {
    let now = app::db::now_ms();
    let json = Phase {
        title: "JSON batch API",
        path: "/api/v1/ingest",
        content_type: "application/json",
        unit: "calls",
        items: spec.batches * spec.tasks_per_batch * spec.calls_per_task,
    };
    let json_bodies = || {
        (0..spec.batches)
            .map(|n| batch(n, spec, now).into_bytes())
            .collect()
    };
    let (otlp, exports) = one_span_phase(spec);
    let otlp_bodies = || one_span_bodies(exports, now);
    for (phase, bodies) in [
        (&json, &json_bodies as &dyn Fn() -> Vec<Vec<u8>>),
        (&otlp, &otlp_bodies),
    ] {
        println!(
            "{} into PostgreSQL, {} per batch, {CLIENTS_PER_SERVER} clients per server:",
            phase.title,
            phase.items / bodies().len().max(1),
        );
        let one = measure(admin, 1, phase, bodies()).await?;
        let two = measure(admin, 2, phase, bodies()).await?;
        println!("  two servers against one     {:>10.2}", two / one);
    }
    Ok(())
}

/// One run with `servers` server processes over a fresh database; what they accepted per
/// second together.
async fn measure(
    admin: &str,
    servers: usize,
    phase: &Phase,
    bodies: Vec<Vec<u8>>,
) -> anyhow::Result<f64> {
    let database = ThrowAway::create(admin, &format!("_ingest_{servers}")).await?;
    let dir = tempfile_dir()?;
    let command = || {
        let mut command = finishline(&dir);
        command.env("DATABASE_URL", &database.url);
        command
    };
    if !command()
        .args(["demo", "--tasks", "200"])
        .stdout(Stdio::null())
        .status()?
        .success()
    {
        bail!("loading the demo dataset into PostgreSQL failed");
    }
    let key = command()
        .args(["api-key", "--name", "bench"])
        .stderr(Stdio::null())
        .output()?;
    let key = String::from_utf8(key.stdout)?.trim().to_owned();
    let mut children = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..servers {
        let (child, port) = start_server(&mut command(), 400).await?;
        children.push(child);
        ports.push(port);
    }
    let batches = bodies.len();
    let started = Instant::now();
    let driven = drive(&ports, CLIENTS_PER_SERVER * servers, phase, &key, bodies).await;
    let elapsed = started.elapsed();
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    std::fs::remove_dir_all(&dir).ok();
    database.finish(false).await?;
    let (mut latencies, failures) = driven?;
    let accepted = phase.items * latencies.len() / batches.max(1);
    let per_second = accepted as f64 / elapsed.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "  {servers} server{}: {:>9.0} {} per second, batch p50 {:.0} ms, p99 {:.0} ms, {failures} not accepted",
        if servers == 1 { " " } else { "s" },
        per_second,
        phase.unit,
        ms(percentile(&mut latencies, 50)),
        ms(percentile(&mut latencies, 99)),
    );
    Ok(per_second)
}

/// Export `n`: [`SPANS_PER_EXPORT`] traces of one model span each, every one a task, attempt
/// and call of its own (the shape of an SDK tracing single requests).
fn one_span_export(n: usize, now: i64) -> ExportTraceServiceRequest {
    let text = |key: &str, value: &str| KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(Any::StringValue(value.to_owned())),
        }),
        ..Default::default()
    };
    let int = |key: &str, value: i64| KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(Any::IntValue(value)),
        }),
        ..Default::default()
    };
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
                    int("gen_ai.usage.input_tokens", 1_200),
                    int("gen_ai.usage.output_tokens", 300),
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
