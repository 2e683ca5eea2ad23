//! `POST /api/v1/ingest`: tasks, attempts, calls, outcome events and grades in one batch.
//!
//! The batch is stored in one transaction: a 2xx means every accepted item is durably stored
//! and counted once. Items are idempotent by their sender id and content, invalid ones are
//! refused by name while the rest are stored (207). Verdicts are decided before the answer;
//! the rollups the figures read follow within moments (see `jobs`).

pub mod schema;
mod store;
pub mod wire;

use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::catalog::Catalog;
use app::db::health::WriteHealth;
use app::db::rollup::mark_dirty;
use app::db::{Db, DbResult, Tx, now_ms, task, verdict};
use app::model::Call;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use store::{Ingest, Outcome};
use tokio::sync::Semaphore;

/// The largest request body, in bytes.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The most items one batch may hold.
pub const MAX_ITEMS: usize = 20_000;

/// How many batches are written at once; more wait briefly, then get 503 with a retry hint.
const CONCURRENT_BATCHES: usize = 4;
/// How long a batch waits for a slot before the server says it is busy.
pub(crate) const SLOT_WAIT: Duration = Duration::from_secs(2);

/// The slots batches are written in: backpressure instead of an unbounded queue.
#[derive(Clone)]
pub struct IngestSlots(pub Arc<Semaphore>);

impl Default for IngestSlots {
    fn default() -> Self {
        IngestSlots(Arc::new(Semaphore::new(CONCURRENT_BATCHES)))
    }
}

/// A batch: each list holds raw items, parsed one by one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    #[serde(default, deserialize_with = "list")]
    pub tasks: Vec<Value>,
    #[serde(default, deserialize_with = "list")]
    pub attempts: Vec<Value>,
    #[serde(default, deserialize_with = "list")]
    pub calls: Vec<Value>,
    #[serde(default, deserialize_with = "list")]
    pub outcomes: Vec<Value>,
    #[serde(default, deserialize_with = "list")]
    pub grades: Vec<Value>,
    #[serde(default, deserialize_with = "list")]
    pub evaluations: Vec<Value>,
    /// For a batch mapped from OTLP spans: per call, the indexes of the task and attempt the
    /// same span carried, if it carried them. One span is one item to its sender, so its call
    /// is refused when its task or attempt is, instead of being partly stored.
    #[serde(skip)]
    pub span_parents: Vec<Option<(usize, usize)>>,
}

/// A list left out or sent as `null` is an empty one. An item that names a field twice keeps
/// it once and is marked, so that it is refused by name while its neighbours are stored.
fn list<'de, D: serde::Deserializer<'de>>(list: D) -> Result<Vec<Value>, D::Error> {
    let items = Option::<Vec<Item>>::deserialize(list)?.unwrap_or_default();
    Ok(items.into_iter().map(|item| item.0).collect())
}

/// One item of a batch, read like any JSON value except that a field sent twice is noted under
/// [`wire::DUPLICATE_FIELD`] instead of silently keeping the last.
struct Item(Value);

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: serde::Deserializer<'de>>(item: D) -> Result<Item, D::Error> {
        item.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> serde::de::Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an item")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Item, M::Error> {
        let mut fields = serde_json::Map::new();
        let mut duplicate = None;
        while let Some((name, value)) = map.next_entry::<String, Value>()? {
            if fields.contains_key(&name) {
                duplicate.get_or_insert(name);
            } else {
                fields.insert(name, value);
            }
        }
        if let Some(name) = duplicate {
            fields.insert(wire::DUPLICATE_FIELD.to_owned(), Value::String(name));
        }
        Ok(Item(Value::Object(fields)))
    }

    // Anything but an object is kept as it is and refused by the item's own parse.
    fn visit_bool<E>(self, v: bool) -> Result<Item, E> {
        Ok(Item(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Item, E> {
        Ok(Item(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Item, E> {
        Ok(Item(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Item, E> {
        Ok(Item(Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Item, E> {
        Ok(Item(Value::from(v)))
    }
    fn visit_unit<E>(self) -> Result<Item, E> {
        Ok(Item(Value::Null))
    }
    fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Item, S::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element::<Value>()? {
            values.push(value);
        }
        Ok(Item(Value::Array(values)))
    }
}

/// Stores a batch of tasks, attempts, calls, outcome events and grades.
#[utoipa::path(post, path = "/api/v1/ingest", tag = "ingest",
    request_body(content = schema::BatchIn, content_type = "application/json"),
    responses(
        (status = 200, description = "Every item stored (or already stored)", body = schema::BatchResult),
        (status = 207, description = "Valid items stored; the refused ones listed with their reason", body = schema::BatchResult),
        (status = 400, description = "Malformed JSON, with line and column", body = crate::error::ErrorBody),
        (status = 401, description = "No valid API key", body = crate::error::ErrorBody),
        (status = 408, description = "The body did not arrive within the body timeout", body = crate::error::ErrorBody),
        (status = 413, description = "The body is over 16 MiB (also once decompressed)", body = crate::error::ErrorBody),
        (status = 415, description = "Not application/json, or an encoding other than gzip", body = crate::error::ErrorBody),
        (status = 429, description = "Too many requests in progress or per second for this key; retry after Retry-After seconds", body = crate::error::ErrorBody),
        (status = 503, description = "Busy, over the upload memory budget, or the database is unavailable; retry after Retry-After seconds", body = crate::error::ErrorBody),
    ))]
pub async fn post_batch(
    State(db): State<Db>,
    State(slots): State<IngestSlots>,
    State(health): State<WriteHealth>,
    State(intake): State<crate::intake::Budget>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType(
            "send the batch as Content-Type: application/json".into(),
        ));
    }
    let limits = crate::intake::SizeLimits {
        sent: MAX_BODY,
        decoded: MAX_BODY,
    };
    let body = crate::intake::read_body(body, &headers, limits, &intake)
        .await
        .map_err(ApiError::from)?;
    // serde takes a struct from an array too (`[]` would be an empty batch): a batch is an object.
    if body
        .bytes
        .trim_ascii_start()
        .first()
        .is_some_and(|b| *b != b'{')
    {
        return Err(ApiError::invalid(
            "body",
            "a batch is a JSON object with lists named tasks, attempts, calls, outcomes and grades",
        ));
    }
    let batch: Batch = serde_json::from_slice(&body.bytes).map_err(|e| {
        let message = format!("the body is not a valid batch: {e}");
        ApiError::BadBody {
            message,
            line: e.line(),
            column: e.column(),
        }
    })?;
    let count = batch.tasks.len()
        + batch.attempts.len()
        + batch.calls.len()
        + batch.outcomes.len()
        + batch.grades.len()
        + batch.evaluations.len();
    if count > MAX_ITEMS {
        return Err(ApiError::invalid(
            "body",
            format!("a batch holds at most {MAX_ITEMS} items; this one has {count}"),
        ));
    }
    let _slot = tokio::time::timeout(SLOT_WAIT, slots.0.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ApiError::Busy)?;
    let results = write_batch(&db, &health, &caller, batch, now_ms()).await?;
    let status = if results.rejected.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((status, Json(results.into_json())).into_response())
}

/// Stores a batch in a transaction of its own and records whether the database took it, so
/// that pages can say their figures may be stale while it refuses data.
pub async fn write_batch(
    db: &Db,
    health: &WriteHealth,
    caller: &ApiCaller,
    batch: Batch,
    now: i64,
) -> DbResult<Results> {
    let written = async {
        let started = std::time::Instant::now();
        let catalog = Catalog::load_names(db).await?;
        let prepared = prepare(&catalog, caller, batch, now);
        let waiting = std::time::Instant::now();
        let mut tx = db.begin().await?;
        let turn = std::time::Instant::now();
        let results = store_prepared(&mut tx, &catalog, caller, prepared, now).await?;
        tx.commit().await?;
        // Where a batch's time goes: checking before the writer, waiting for it, holding it.
        tracing::debug!(
            prepared_us = (waiting - started).as_micros() as u64,
            waited_us = (turn - waiting).as_micros() as u64,
            held_us = turn.elapsed().as_micros() as u64,
            "batch stored"
        );
        Ok(results)
    }
    .await;
    health.record(&written, now);
    written
}

/// A batch whose calls, the bulk of it, are parsed, checked and priced: work that needs no
/// database, done before the batch waits for the writer so that one batch's checking runs
/// beside another's writing.
pub struct Prepared {
    batch: Batch,
    /// Per call item: its index, its sender id, and the call or why it was refused.
    calls: Vec<(usize, Value, Result<Call, Outcome>)>,
}

pub fn prepare(catalog: &Catalog, caller: &ApiCaller, mut batch: Batch, now: i64) -> Prepared {
    let ingest = Ingest::new(catalog, caller, now);
    let calls = std::mem::take(&mut batch.calls)
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let id = item_id(&item);
            (i, id, ingest.prepare_call(item))
        })
        .collect();
    Prepared { batch, calls }
}

/// Prepares and stores a batch in the caller's transaction.
pub async fn store_batch(
    tx: &mut Tx,
    catalog: &Catalog,
    caller: &ApiCaller,
    batch: Batch,
    now: i64,
) -> DbResult<Results> {
    let prepared = prepare(catalog, caller, batch, now);
    store_prepared(tx, catalog, caller, prepared, now).await
}

/// Stores a prepared batch in the caller's transaction: tasks first, so that attempts,
/// outcomes and grades in the same batch find them; new tasks, attempts and calls are each
/// inserted many rows per statement; then the verdicts of the tasks it touched,
/// and marks on the rollup slices it touched for the background refresh, which recomputes each
/// slice once however many batches touched it.
pub async fn store_prepared(
    tx: &mut Tx,
    catalog: &Catalog,
    caller: &ApiCaller,
    prepared: Prepared,
    now: i64,
) -> DbResult<Results> {
    let Prepared { batch, calls } = prepared;
    let mut ingest = Ingest::new(catalog, caller, now);
    let task_refs = batch
        .tasks
        .iter()
        .filter_map(|item| Some((text(item, "workflow")?, text(item, "id")?)));
    let other_refs = [
        &batch.attempts,
        &batch.outcomes,
        &batch.grades,
        &batch.evaluations,
    ]
    .into_iter()
    .flatten()
    .filter_map(|item| Some((text(item, "workflow")?, text(item, "task")?)));
    let attempt_refs = batch
        .attempts
        .iter()
        .filter_map(|item| Some((text(item, "workflow")?, text(item, "correlation_id")?)));
    let call_refs = calls.iter().filter_map(|(_, _, call)| {
        let call = call.as_ref().ok()?;
        Some((call.workflow_id, call.correlation_id.as_str()))
    });
    ingest
        .prefetch(tx, task_refs.chain(other_refs), attempt_refs, call_refs)
        .await?;
    let mut results = Results::default();
    for (i, item) in batch.tasks.into_iter().enumerate() {
        let id = item_id(&item);
        results.record("tasks", i, id, ingest.task(tx, item).await?);
    }
    ingest.insert_new_tasks(tx).await?;
    ingest.claim_outcomes(tx).await?;
    for (i, item) in batch.attempts.into_iter().enumerate() {
        let id = item_id(&item);
        results.record("attempts", i, id, ingest.attempt(tx, item).await?);
    }
    ingest.insert_new_attempts(tx).await?;
    // (is a task, index) of every task and attempt refused so far.
    let refused: HashSet<(bool, usize)> = results
        .rejected
        .iter()
        .filter_map(|e| {
            Some((
                e["kind"].as_str()? == "tasks",
                e["index"].as_u64()? as usize,
            ))
        })
        .collect();
    let span_refused = |i: usize| {
        batch
            .span_parents
            .get(i)
            .copied()
            .flatten()
            .is_some_and(|(task, attempt)| {
                refused.contains(&(true, task)) || refused.contains(&(false, attempt))
            })
    };
    // Calls are the bulk of a batch: checked one by one beforehand, stored many rows per
    // statement.
    let mut outcomes = Vec::new();
    let mut prepared = Vec::new();
    for (i, id, call) in calls {
        match call {
            Ok(_) if span_refused(i) => {
                let error = wire::ItemError::new(
                    "span",
                    "the task or attempt this span carries was refused, so its call is too",
                );
                let outcome = Outcome::Rejected {
                    status: 422,
                    code: "invalid_item",
                    error,
                };
                outcomes.push((i, id, outcome));
            }
            Ok(mut call) => {
                let task_start = ingest.join_attempt(tx, &mut call).await?;
                let sealed = (ingest.sealed("started_at", Some(call.started_at)))
                    .or_else(|| ingest.sealed("correlation_id", task_start));
                match sealed {
                    Some(refused) => outcomes.push((i, id, refused)),
                    None => prepared.push((i, id, call)),
                }
            }
            Err(outcome) => outcomes.push((i, id, outcome)),
        }
    }
    let calls: Vec<&Call> = prepared.iter().map(|(_, _, call)| call).collect();
    let mut inserted = task::insert_new_calls(tx, &calls).await?;
    for (i, id, call) in &prepared {
        // The first of two items with one id claims the insert; the second is compared with it.
        let new = inserted.remove(&(call.workflow_id, call.external_id.clone()));
        outcomes.push((*i, id.clone(), ingest.settle_call(tx, call, new).await?));
    }
    outcomes.sort_by_key(|(i, _, _)| *i);
    for (i, id, outcome) in outcomes {
        results.record("calls", i, id, outcome);
    }
    for (i, item) in batch.outcomes.into_iter().enumerate() {
        let id = item_id(&item);
        results.record("outcomes", i, id, ingest.outcome(tx, item).await?);
    }
    for (i, item) in batch.grades.into_iter().enumerate() {
        let id = item_id(&item);
        results.record("grades", i, id, ingest.grade(tx, item).await?);
    }
    for (i, item) in batch.evaluations.into_iter().enumerate() {
        let id = item_id(&item);
        results.record("evaluations", i, id, ingest.evaluation(tx, item).await?);
    }
    let tasks: Vec<i64> = ingest.tasks.iter().copied().collect();
    let mut slices = verdict::decide_tasks(tx, &tasks, now).await?;
    slices.extend(ingest.slices);
    let slices: Vec<(i64, i64)> = slices.into_iter().collect();
    let cost_tasks: Vec<(i64, i64)> = ingest.cost_tasks.into_iter().collect();
    mark_dirty(tx, &slices, &cost_tasks, now).await?;
    Ok(results)
}

/// A text field of a raw item, if it has one.
fn text<'v>(item: &'v Value, field: &str) -> Option<&'v str> {
    item.get(field).and_then(Value::as_str)
}

/// The sender's id of an item (an attempt's is its correlation id), to name it in errors.
fn item_id(item: &Value) -> Value {
    item.get("id")
        .or_else(|| item.get("correlation_id"))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Counts per kind and outcome, and every refused item with its reason.
#[derive(Default)]
pub struct Results {
    pub counts: std::collections::BTreeMap<&'static str, [u64; 3]>,
    pub rejected: Vec<Value>,
}

impl Results {
    fn record(&mut self, kind: &'static str, index: usize, id: Value, outcome: Outcome) {
        let counts = self.counts.entry(kind).or_default();
        match outcome {
            Outcome::Created => counts[0] += 1,
            Outcome::Updated => counts[1] += 1,
            Outcome::Unchanged => counts[2] += 1,
            Outcome::Rejected {
                status,
                code,
                error,
            } => self.rejected.push(json!({
                "kind": kind,
                "index": index,
                "id": id,
                "status": status,
                "code": code,
                "field": error.field,
                "message": error.message,
            })),
        }
    }

    pub fn accepted(&self) -> u64 {
        self.counts.values().flatten().sum()
    }

    pub fn into_json(self) -> Value {
        let accepted: u64 = self.counts.values().flatten().sum();
        let counts: serde_json::Map<String, Value> = self
            .counts
            .into_iter()
            .map(|(kind, [created, updated, unchanged])| {
                (
                    kind.to_owned(),
                    json!({"created": created, "updated": updated, "unchanged": unchanged}),
                )
            })
            .collect();
        json!({"accepted": accepted, "rejected": self.rejected.len(), "counts": counts, "errors": self.rejected})
    }
}
