//! Ingestion into PostgreSQL: the bench's JSON batches and one-span OTLP traces (every span a
//! task of its own), each into a fresh database on the cluster `--postgres-url` names, with one
//! server process and then with two over the same database, the load split between them and
//! four clients per server. Prints throughput per shape and the two servers' ratio to one.

use super::scale::ThrowAway;
use super::{
    BenchSpec, Phase, batch, drive, finishline, one_span_bodies, one_span_phase, percentile,
    start_server, tempfile_dir,
};
use anyhow::bail;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Clients per server process.
const CLIENTS_PER_SERVER: usize = 4;
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
