//! The physical ceiling for SQLite ingestion: the rows a JSON batch or an OTLP export makes,
//! written into a fresh database with Finishline's own schema (every migration and index) by a bare loader on
//! the same SQLite library: `rusqlite`, one cached prepared statement per table, one row per
//! execution, one transaction per batch, WAL, `synchronous=NORMAL`, foreign keys on. Nothing
//! parsed, validated, priced, deduplicated or rolled up: what no server can beat.

use anyhow::Context;
use rusqlite::{Connection, params};
use std::time::Instant;

/// Whose rows the loader writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A JSON batch's: short sender ids, no trace.
    Batch,
    /// An OTLP export's: each task a trace whose root span is a call too, the attempt named by
    /// the trace id, each call by its trace and span ids, which it also keeps.
    Traces,
}

/// The span id of every trace's root span, in hex, as the bench's exports send it.
const ROOT_SPAN: &str = "0000000000000001";

/// Calls per second the bare loader writes: `batches` transactions of `tasks` tasks, each with
/// one attempt and `calls` calls (and, in the traces' shape, a call for the root span).
pub async fn rusqlite_loader(
    shape: Shape,
    batches: usize,
    tasks: usize,
    calls: usize,
    now: i64,
) -> anyhow::Result<f64> {
    let dir = super::tempfile_dir()?;
    let path = dir.join("rusqlite.db");
    // The schema comes from the migrations themselves, applied as the server applies them.
    let db = app::db::Db::connect(&format!("sqlite://{}", path.display())).await?;
    db.migrate().await?;
    db.close().await;
    let rate = tokio::task::spawn_blocking(move || load(&path, shape, now, batches, tasks, calls))
        .await
        .context("the rusqlite loader panicked")??;
    std::fs::remove_dir_all(dir).ok();
    Ok(rate)
}

fn load(
    path: &std::path::Path,
    shape: Shape,
    now: i64,
    batches: usize,
    tasks_per_batch: usize,
    calls_per_task: usize,
) -> anyhow::Result<f64> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let team: i64 = conn.query_row(
        "INSERT INTO teams (slug, name, labour_rate_micros_per_hour, created_at)
         VALUES ('support', 'Support', 40000000, ?1) RETURNING id",
        params![now],
        |row| row.get(0),
    )?;
    let workflow: i64 = conn.query_row(
        "INSERT INTO workflows (slug, team_slug_key, name, team_id, budget_cpst_micros,
             quality_target_bp, gate_window_days, gate_min_sample, drift_tolerance_bp, created_at,
             updated_at)
         VALUES ('support-triage', ?3, 'Support triage', ?1, 1000000, 9000, 30, 400, 1000, ?2, ?2)
         RETURNING id",
        params![team, now, format!("{team}/support-triage")],
        |row| row.get(0),
    )?;
    let started = Instant::now();
    for n in 0..batches {
        let tx = conn.transaction()?;
        {
            let mut task_insert = tx.prepare_cached(
                "INSERT INTO tasks (external_id, workflow_id, team_id, segment, started_at,
                     finished_at, reported_status, status, output, content_hash, created_at,
                     updated_at)
                 VALUES (?1, ?2, ?3, 'self-serve', ?4, ?5, 'completed', 'pending', ?6, ?1, ?7, ?7)
                 RETURNING id",
            )?;
            let mut attempt_insert = tx.prepare_cached(
                "INSERT INTO attempts (workflow_id, task_id, number, correlation_id, status,
                     started_at, content_hash)
                 VALUES (?1, ?2, 1, ?3, 'succeeded', ?4, ?3) RETURNING id",
            )?;
            let mut call_insert = tx.prepare_cached(
                "INSERT INTO calls (external_id, workflow_id, correlation_id, task_id, attempt_id,
                     kind, step, provider, model, input_tokens, output_tokens, cache_read_tokens,
                     reported_cost_micros, cost_micros, cost_source, started_at, latency_ms,
                     status, content_hash, created_at, trace_id, span_id, parent_span_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16, 800, 'ok', ?1, ?17, ?18, ?19, ?20)",
            )?;
            for t in 0..tasks_per_batch {
                let (id, trace) = match shape {
                    Shape::Batch => (format!("bench-{n}-{t}"), None),
                    Shape::Traces => (
                        format!("otlp-{n}-{t}"),
                        Some(format!("{:016x}{:016x}", n + 1, t + 1)),
                    ),
                };
                let at = now - 3_600_000 + (t as i64) * 1_000;
                let task: i64 = task_insert.query_row(
                    params![
                        id,
                        workflow,
                        team,
                        at,
                        at + 9_000,
                        r#"{"category":"billing","reply":"…"}"#,
                        now
                    ],
                    |row| row.get(0),
                )?;
                let correlation = trace.clone().unwrap_or_else(|| format!("{id}-a1"));
                let attempt: i64 = attempt_insert
                    .query_row(params![workflow, task, correlation, at], |row| row.get(0))?;
                if let Some(trace) = &trace {
                    // The root span: a call of its own, with no provider or cost.
                    call_insert.execute(params![
                        format!("{trace}-{ROOT_SPAN}"),
                        workflow,
                        correlation,
                        task,
                        attempt,
                        "other",
                        "invoke_agent triage",
                        "",
                        "",
                        0_i64,
                        0_i64,
                        0_i64,
                        None::<i64>,
                        0_i64,
                        "unpriced",
                        at,
                        now,
                        trace,
                        ROOT_SPAN,
                        None::<&str>,
                    ])?;
                }
                for c in 0..calls_per_task {
                    let kind = c % 3;
                    let model = kind == 0;
                    let span = trace.as_ref().map(|_| format!("{:016x}", c + 2));
                    call_insert.execute(params![
                        match (&trace, &span) {
                            (Some(trace), Some(span)) => format!("{trace}-{span}"),
                            _ => format!("{id}-c{c}"),
                        },
                        workflow,
                        correlation,
                        task,
                        attempt,
                        ["model", "retrieval", "tool"][kind],
                        ["drafter", "retriever", "crm"][kind],
                        "anthropic",
                        if model { "claude-haiku-4-5" } else { "" },
                        if model { 4_000_i64 } else { 0 },
                        if model { 380_i64 } else { 0 },
                        if model { 2_000_i64 } else { 0 },
                        (!model).then_some(400_i64),
                        if model { 5_600_i64 } else { 400 },
                        if model { "priced" } else { "reported" },
                        at + c as i64 * 100,
                        now,
                        trace,
                        span,
                        trace.as_ref().map(|_| ROOT_SPAN),
                    ])?;
                }
            }
        }
        tx.commit()?;
    }
    let calls = match shape {
        Shape::Batch => calls_per_task,
        Shape::Traces => calls_per_task + 1,
    };
    Ok((batches * tasks_per_batch * calls) as f64 / started.elapsed().as_secs_f64())
}
