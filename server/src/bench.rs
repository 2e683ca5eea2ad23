//! `finishline bench`: starts this binary as a server on loopback with a fresh SQLite database,
//! drives its ingestion API from this process with realistic batches, and prints throughput,
//! batch latency and the server's peak memory. Figures, not assertions: nothing here fails on
//! a slow machine.

use anyhow::{Context, bail};
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to send.
pub struct BenchSpec {
    pub batches: usize,
    pub tasks_per_batch: usize,
    pub calls_per_task: usize,
    pub clients: usize,
}

/// Posts a JSON body over a fresh connection; the status code, or `None` if the connection broke.
pub async fn post_json(port: u16, path: &str, key: &str, body: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
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

fn finishline(data: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("this binary's path"));
    command
        .env("FINISHLINE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    command
}

/// Peak resident memory of a process, from /proc, in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the ingestion benchmark and prints its figures.
pub async fn run(spec: BenchSpec) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let data = dir.as_path();
    let status = finishline(data)
        .args(["demo", "--tasks", "200"])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("loading the demo catalogue failed");
    }
    let key = finishline(data)
        .args(["api-key", "--name", "bench"])
        .stderr(Stdio::null())
        .output()?;
    let key = String::from_utf8(key.stdout)?.trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server: Child = finishline(data)
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the server")?;
    let mut ready = false;
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !ready {
        let _ = server.kill();
        bail!("the server did not start");
    }
    let now = app::db::now_ms();
    let bodies: Vec<String> = (0..spec.batches).map(|n| batch(n, &spec, now)).collect();
    let calls = spec.batches * spec.tasks_per_batch * spec.calls_per_task;
    let started = Instant::now();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(bodies));
    let mut clients = Vec::new();
    for _ in 0..spec.clients {
        let (queue, key) = (queue.clone(), key.clone());
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            loop {
                let Some(body) = queue.lock().ok().and_then(|mut q| q.pop()) else {
                    break;
                };
                let sent = Instant::now();
                match post_json(port, "/api/v1/ingest", &key, &body).await {
                    Some(200) => latencies.push(sent.elapsed()),
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for client in clients {
        let (l, f) = client.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    let peak = peak_rss_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();
    latencies.sort();
    let at = |p: usize| {
        latencies
            .get((latencies.len() * p).div_ceil(100).saturating_sub(1))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "Ingestion into SQLite, {} clients, {} batches of {} tasks and {} calls:",
        spec.clients,
        spec.batches,
        spec.tasks_per_batch,
        spec.tasks_per_batch * spec.calls_per_task
    );
    println!(
        "  calls accepted per second   {:>10.0}",
        (calls as f64) / elapsed.as_secs_f64()
    );
    println!(
        "  batch latency p50           {:>10.1} ms",
        at(50).as_secs_f64() * 1_000.0
    );
    println!(
        "  batch latency p99           {:>10.1} ms",
        at(99).as_secs_f64() * 1_000.0
    );
    println!(
        "  server peak memory          {:>10.1} MiB",
        peak.unwrap_or(f64::NAN)
    );
    println!("  failed batches              {:>10}", failures);
    std::fs::remove_dir_all(data).ok();
    Ok(())
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
