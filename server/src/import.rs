//! Bulk import of exported history: JSON lines (one item per line, with a `type` of task,
//! attempt, call, outcome or grade) or CSV (one call per row, columns named like the API's call
//! fields, e.g. a gateway's spend log). Rows go through the same validation and idempotent
//! storage as the API, a chunk per transaction with the progress recorded in it, so an
//! interrupted import resumes where it stopped and a repeated one changes nothing.

use crate::caller::ApiCaller;
use crate::ingest::{Batch, store_batch};
use anyhow::{Context, bail};
use app::db::catalog::Catalog;
use app::db::{Db, import, now_ms};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// Rows per transaction.
pub const CHUNK: usize = 1_000;
/// Call fields that CSV cells are read as integers for.
const INTEGER_COLUMNS: [&str; 8] = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "audio_input_tokens",
    "image_input_tokens",
    "latency_ms",
];

/// What an import did, for the closing summary.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: u64,
    pub skipped: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Why rows were refused: (field, reason) with how often.
    pub reasons: BTreeMap<(String, String), u64>,
}

/// One row as a batch item, or why it cannot be one.
pub(crate) type Row = Result<(&'static str, Value), String>;

/// Imports `path`, calling `progress(done, total)` after every chunk.
pub async fn import_file(
    db: &Db,
    path: &Path,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<ImportSummary> {
    let bytes = tokio::fs::read(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let rows = if is_csv {
        csv_rows(&bytes)?
    } else {
        json_lines(&bytes)
    };
    let total = rows.len() as u64;
    let caller = ApiCaller::unrestricted(0);
    let mut tx = db.begin().await?;
    let run =
        import::start_or_resume(&mut tx, &path.display().to_string(), &hash, now_ms()).await?;
    tx.commit().await?;
    let mut summary = ImportSummary {
        rows: total,
        skipped: run.rows_done as u64,
        accepted: run.accepted as u64,
        rejected: run.rejected as u64,
        ..Default::default()
    };
    let catalog = Catalog::load_names(db).await?;
    let mut done = run.rows_done as usize;
    progress(done as u64, total);
    while done < rows.len() {
        let chunk = &rows[done..(done + CHUNK).min(rows.len())];
        let mut batch = Batch::default();
        for row in chunk {
            match row {
                Ok((kind, item)) => list(&mut batch, kind).push(item.clone()),
                Err(reason) => {
                    summary.rejected += 1;
                    *summary
                        .reasons
                        .entry((String::new(), reason.clone()))
                        .or_default() += 1;
                }
            }
        }
        let mut tx = db.begin().await?;
        let results = store_batch(&mut tx, &catalog, &caller, batch, now_ms()).await?;
        summary.accepted += results.accepted();
        summary.rejected += results.rejected.len() as u64;
        for error in &results.rejected {
            let field = error["field"].as_str().unwrap_or_default().to_owned();
            let reason = error["message"].as_str().unwrap_or_default().to_owned();
            *summary.reasons.entry((field, reason)).or_default() += 1;
        }
        done += chunk.len();
        import::advance(
            &mut tx,
            run.id,
            done as i64,
            summary.accepted as i64,
            summary.rejected as i64,
        )
        .await?;
        if done == rows.len() {
            import::finish(&mut tx, run.id, now_ms()).await?;
        }
        tx.commit().await?;
        progress(done as u64, total);
    }
    app::db::rollup::refresh_all_dirty(db).await?;
    Ok(summary)
}

pub(crate) fn list<'b>(batch: &'b mut Batch, kind: &str) -> &'b mut Vec<Value> {
    match kind {
        "task" => &mut batch.tasks,
        "attempt" => &mut batch.attempts,
        "outcome" => &mut batch.outcomes,
        "grade" => &mut batch.grades,
        "evaluation" => &mut batch.evaluations,
        _ => &mut batch.calls,
    }
}

/// One item per non-empty line, its kind taken from its `type` field.
pub(crate) fn json_lines(bytes: &[u8]) -> Vec<Row> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(n, line)| {
            let mut item: Map<String, Value> = serde_json::from_slice(line)
                .map_err(|e| format!("line {}: not a JSON object: {e}", n + 1))?;
            let kind = match item.remove("type").as_ref().and_then(Value::as_str) {
                Some("task") => "task",
                Some("attempt") => "attempt",
                Some("call") => "call",
                Some("outcome") => "outcome",
                Some("grade") => "grade",
                Some("evaluation") => "evaluation",
                _ => {
                    return Err(format!(
                        "line {}: 'type' must be task, attempt, call, outcome, grade or evaluation",
                        n + 1
                    ));
                }
            };
            Ok((kind, Value::Object(item)))
        })
        .collect()
}

/// One call per row; empty cells are left out, integer columns read as integers.
pub(crate) fn csv_rows(bytes: &[u8]) -> anyhow::Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers = reader.headers().context("reading the CSV header")?.clone();
    if !headers.iter().any(|h| h == "id") {
        bail!(
            "the CSV header must name the call fields, starting with id, workflow, correlation_id, kind, started_at"
        );
    }
    Ok(reader
        .records()
        .enumerate()
        .map(|(n, record)| {
            let record = record.map_err(|e| format!("row {}: {e}", n + 2))?;
            let mut item = Map::new();
            for (name, cell) in headers
                .iter()
                .zip(record.iter())
                .filter(|(_, c)| !c.is_empty())
            {
                let value = match cell.parse::<i64>() {
                    Ok(n) if INTEGER_COLUMNS.contains(&name) || name == "started_at" => {
                        Value::from(n)
                    }
                    _ => Value::from(cell),
                };
                item.insert(name.to_owned(), value);
            }
            Ok(("call", Value::Object(item)))
        })
        .collect())
}
