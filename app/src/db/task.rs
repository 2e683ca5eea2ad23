//! Tasks, their attempts, and the calls inside each attempt.

use super::{Db, DbResult, Tx, execute, on_db, on_tx, push_list};
use crate::domain::status::{ReportedStatus, TaskStatus};
use crate::domain::time::MS_PER_DAY;
use crate::model::{Attempt, Call, NewTask, Task};
use std::collections::{HashMap, HashSet};

/// How many tasks one multi-row insert carries (22 parameters each).
const TASKS_PER_STATEMENT: usize = 500;

pub async fn insert_task(tx: &mut Tx, task: &NewTask, at: i64) -> DbResult<i64> {
    let ids = insert_tasks(tx, &[task], at).await?;
    Ok(ids[&(task.workflow_id, task.external_id.clone())])
}

/// Inserts tasks that are not stored yet, many rows per statement, and returns their ids by
/// (workflow, sender id): a multi-row insert promises no order for the rows it returns.
pub async fn insert_tasks(
    tx: &mut Tx,
    tasks: &[&NewTask],
    at: i64,
) -> DbResult<HashMap<(i64, String), i64>> {
    let mut ids = HashMap::with_capacity(tasks.len());
    for chunk in tasks.chunks(TASKS_PER_STATEMENT) {
        let rows: Vec<(i64, i64, String)> = on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO tasks (external_id, workflow_id, task_type_id, team_id,
                     config_version_id, segment, started_at, finished_at, reported_status, status,
                     status_rule_id, status_reason, pending_until, escalation_reason,
                     review_seconds, input_summary, output, expected, checks, metrics,
                     content_hash, created_at, updated_at) ",
            );
            query.push_values(chunk, |mut row, task| {
                let reported = task.reported_status.unwrap_or(ReportedStatus::Running);
                let status = task.status.unwrap_or(TaskStatus::Pending);
                row.push_bind(&task.external_id)
                    .push_bind(task.workflow_id)
                    .push_bind(task.task_type_id)
                    .push_bind(task.team_id)
                    .push_bind(task.config_version_id)
                    .push_bind(&task.segment)
                    .push_bind(task.started_at)
                    .push_bind(task.finished_at)
                    .push_bind(reported.as_str())
                    .push_bind(status.as_str())
                    .push_bind(task.status_rule_id)
                    .push_bind(&task.status_reason)
                    .push_bind(task.pending_until)
                    .push_bind(&task.escalation_reason)
                    .push_bind(task.review_seconds)
                    .push_bind(&task.input_summary)
                    .push_bind(&task.output)
                    .push_bind(&task.expected)
                    .push_bind(&task.checks)
                    .push_bind(&task.metrics)
                    .push_bind(&task.content_hash)
                    .push_bind(at)
                    .push_bind(at);
            });
            query.push(" RETURNING id, workflow_id, external_id");
            query.build_query_as().fetch_all(&mut *conn).await
        })?;
        ids.extend(
            rows.into_iter()
                .map(|(id, workflow_id, external_id)| ((workflow_id, external_id), id)),
        );
    }
    Ok(ids)
}

pub async fn get_task(db: &Db, id: i64) -> DbResult<Task> {
    let sql = "SELECT * FROM tasks WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)?)
}

pub async fn find_task(db: &Db, workflow_id: i64, external_id: &str) -> DbResult<Option<Task>> {
    let sql = "SELECT * FROM tasks WHERE workflow_id = $1 AND external_id = $2";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).bind(external_id).fetch_optional(pool).await)?,
    )
}

/// A task's verdict and the rule and reason behind it, as stored.
pub struct StatusChange<'a> {
    pub task_id: i64,
    pub status: TaskStatus,
    pub rule_id: Option<i64>,
    pub reason: &'a str,
    pub pending_until: Option<i64>,
}

/// Records a task's verdict and the rule and reason behind it.
pub async fn set_task_status(
    tx: &mut Tx,
    task_id: i64,
    status: TaskStatus,
    rule_id: Option<i64>,
    reason: &str,
    pending_until: Option<i64>,
    at: i64,
) -> DbResult<()> {
    let change = StatusChange {
        task_id,
        status,
        rule_id,
        reason,
        pending_until,
    };
    set_task_statuses(tx, &[change], at).await
}

/// How many verdicts one update carries (5 parameters each).
const STATUSES_PER_STATEMENT: usize = 1_000;

/// Records tasks' verdicts, many per statement.
pub async fn set_task_statuses(tx: &mut Tx, changes: &[StatusChange<'_>], at: i64) -> DbResult<()> {
    for chunk in changes.chunks(STATUSES_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new("UPDATE tasks SET status = v.column2, ");
            query
                .push("status_rule_id = v.column3, status_reason = v.column4, ")
                .push("pending_until = v.column5, updated_at = ")
                .push_bind(at)
                .push(" FROM (");
            query.push_values(chunk, |mut row, change| {
                row.push_bind(change.task_id)
                    .push_bind(change.status.as_str())
                    .push_bind(change.rule_id)
                    .push_bind(change.reason)
                    .push_bind(change.pending_until);
            });
            query.push(") AS v WHERE tasks.id = v.column1");
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

pub struct NewAttempt {
    /// The task's workflow: the namespace of the correlation id.
    pub workflow_id: i64,
    pub task_id: i64,
    pub number: i64,
    pub correlation_id: String,
    pub status: crate::domain::status::AttemptStatus,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub content_hash: String,
}

/// How many attempts one multi-row insert carries (8 parameters each).
const ATTEMPTS_PER_STATEMENT: usize = 1_000;

/// Inserts an attempt and claims the calls of its workflow that arrived before it with its
/// correlation id.
pub async fn insert_attempt(tx: &mut Tx, attempt: &NewAttempt) -> DbResult<i64> {
    let ids = insert_attempts(tx, &[attempt]).await?;
    Ok(ids[&(attempt.workflow_id, attempt.correlation_id.clone())])
}

/// Inserts attempts that are not stored yet, many rows per statement, claims the calls of
/// their workflows that arrived before them with their correlation ids, and returns their ids
/// by (workflow, correlation id).
pub async fn insert_attempts(
    tx: &mut Tx,
    attempts: &[&NewAttempt],
) -> DbResult<HashMap<(i64, String), i64>> {
    let mut ids = HashMap::with_capacity(attempts.len());
    for chunk in attempts.chunks(ATTEMPTS_PER_STATEMENT) {
        let rows: Vec<(i64, i64, String)> = on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO attempts (workflow_id, task_id, number, correlation_id, status, error,
                     started_at, finished_at, content_hash) ",
            );
            query.push_values(chunk, |mut row, attempt| {
                row.push_bind(attempt.workflow_id)
                    .push_bind(attempt.task_id)
                    .push_bind(attempt.number)
                    .push_bind(&attempt.correlation_id)
                    .push_bind(attempt.status.as_str())
                    .push_bind(&attempt.error)
                    .push_bind(attempt.started_at)
                    .push_bind(attempt.finished_at)
                    .push_bind(&attempt.content_hash);
            });
            query.push(" RETURNING id, workflow_id, correlation_id");
            query.build_query_as().fetch_all(&mut *conn).await
        })?;
        // The calls that came first, in the attempt's own workflow only: found through the
        // index of unjoined calls alone.
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "UPDATE calls SET attempt_id = a.id, task_id = a.task_id FROM attempts a
                 WHERE a.workflow_id = calls.workflow_id AND a.correlation_id = calls.correlation_id
                   AND calls.attempt_id IS NULL AND calls.correlation_id IN (",
            );
            push_list(&mut query, chunk.iter().map(|attempt| attempt.correlation_id.as_str()));
            query.push(")");
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
        ids.extend(
            rows.into_iter()
                .map(|(id, workflow_id, correlation_id)| ((workflow_id, correlation_id), id)),
        );
    }
    Ok(ids)
}

pub async fn list_attempts(db: &Db, task_id: i64) -> DbResult<Vec<Attempt>> {
    let sql = "SELECT * FROM attempts WHERE task_id = $1 ORDER BY number";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_id).fetch_all(pool).await)?)
}

/// Inserts a call; `task_id` and `attempt_id` are taken from the attempt of the call's
/// workflow with the call's correlation id when it is already stored.
pub async fn insert_call(tx: &mut Tx, call: &Call) -> DbResult<i64> {
    let sql =
        "INSERT INTO calls (external_id, workflow_id, correlation_id, task_id, attempt_id, kind,
                   step, provider, model, input_tokens, output_tokens, cache_read_tokens,
                   cache_write_tokens, reasoning_tokens, audio_input_tokens, image_input_tokens,
                   reported_cost_micros, cost_micros,
                   cache_read_cost_micros, cache_write_cost_micros, cost_source, price_id,
                   started_at, latency_ms, status, error_type, trace_id, span_id, parent_span_id,
                   content_hash, created_at)
               VALUES ($1, $2, $3,
                   COALESCE($4, (SELECT task_id FROM attempts
                                 WHERE workflow_id = $2 AND correlation_id = $3)),
                   COALESCE($5, (SELECT id FROM attempts
                                 WHERE workflow_id = $2 AND correlation_id = $3)),
                   $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
                   $22, $23, $24, $25, $26, $27, $28, $29, $30, $31) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(&call.external_id)
        .bind(call.workflow_id)
        .bind(&call.correlation_id)
        .bind(call.task_id)
        .bind(call.attempt_id)
        .bind(call.kind.as_str())
        .bind(&call.step)
        .bind(&call.provider)
        .bind(&call.model)
        .bind(call.input_tokens)
        .bind(call.output_tokens)
        .bind(call.cache_read_tokens)
        .bind(call.cache_write_tokens)
        .bind(call.reasoning_tokens)
        .bind(call.audio_input_tokens)
        .bind(call.image_input_tokens)
        .bind(call.reported_cost_micros)
        .bind(call.cost_micros.0)
        .bind(call.cache_read_cost_micros.0)
        .bind(call.cache_write_cost_micros.0)
        .bind(call.cost_source.as_str())
        .bind(call.price_id)
        .bind(call.started_at)
        .bind(call.latency_ms)
        .bind(call.status.as_str())
        .bind(&call.error_type)
        .bind(&call.trace_id)
        .bind(&call.span_id)
        .bind(&call.parent_span_id)
        .bind(&call.content_hash)
        .bind(call.created_at)
        .fetch_one(conn)
        .await)?)
}

pub async fn get_call(db: &Db, id: i64) -> DbResult<Call> {
    let sql = "SELECT * FROM calls WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)?)
}

/// Every call of a task, in the order they started.
pub async fn list_task_calls(db: &Db, task_id: i64) -> DbResult<Vec<Call>> {
    let sql = "SELECT * FROM calls WHERE task_id = $1 ORDER BY started_at, id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_id).fetch_all(pool).await)?)
}

/// What ingestion needs to know about a stored item: its id, content hash and the start time
/// of its task (which decides the rollup day it counts in).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Stored {
    pub id: i64,
    pub content_hash: String,
    pub task_id: Option<i64>,
    pub task_started_at: Option<i64>,
}

/// The stored task with this sender id, if any.
pub async fn stored_task(
    tx: &mut Tx,
    workflow_id: i64,
    external_id: &str,
) -> DbResult<Option<Stored>> {
    let sql = "SELECT id, content_hash, id AS task_id, started_at AS task_started_at
               FROM tasks WHERE workflow_id = $1 AND external_id = $2";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(sql).bind(workflow_id).bind(external_id).fetch_optional(conn).await)?,
    )
}

/// The stored attempt of this workflow with this correlation id, if any.
pub async fn stored_attempt(
    tx: &mut Tx,
    workflow_id: i64,
    correlation_id: &str,
) -> DbResult<Option<Stored>> {
    let sql = "SELECT a.id, a.content_hash, a.task_id, t.started_at AS task_started_at
               FROM attempts a JOIN tasks t ON t.id = a.task_id
               WHERE a.workflow_id = $1 AND a.correlation_id = $2";
    Ok(on_tx!(tx, conn => sqlx::query_as(sql)
        .bind(workflow_id)
        .bind(correlation_id)
        .fetch_optional(conn)
        .await)?)
}

/// How many sender ids one lookup binds.
const IDS_PER_LOOKUP: usize = 500;

/// The stored tasks of one workflow among these sender ids, by sender id: what a batch's
/// items refer to, looked up in one statement per [`IDS_PER_LOOKUP`] ids rather than one per
/// item.
pub async fn stored_tasks(
    tx: &mut Tx,
    workflow_id: i64,
    external_ids: &[&str],
) -> DbResult<Vec<(String, Stored)>> {
    let head = "SELECT external_id, id, content_hash, id, started_at FROM tasks
                WHERE external_id IN (";
    stored_among(tx, head, external_ids, "workflow_id", workflow_id).await
}

/// The stored attempts of one workflow among these correlation ids, by correlation id, in one
/// statement per [`IDS_PER_LOOKUP`] ids.
pub async fn stored_attempts(
    tx: &mut Tx,
    workflow_id: i64,
    correlation_ids: &[&str],
) -> DbResult<Vec<(String, Stored)>> {
    let head = "SELECT a.correlation_id, a.id, a.content_hash, a.task_id, t.started_at
                FROM attempts a JOIN tasks t ON t.id = a.task_id WHERE a.correlation_id IN (";
    stored_among(tx, head, correlation_ids, "a.workflow_id", workflow_id).await
}

/// Rows of (key, id, content hash, task id, task start) selected by `head`, which ends in the
/// `IN (` its keys fill, of the workflow `workflow_id` whose column is `workflow_column`.
async fn stored_among(
    tx: &mut Tx,
    head: &str,
    keys: &[&str],
    workflow_column: &str,
    workflow_id: i64,
) -> DbResult<Vec<(String, Stored)>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(IDS_PER_LOOKUP) {
        let rows: Vec<(String, i64, String, i64, i64)> = on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(head);
            push_list(&mut query, chunk.iter().copied());
            query.push(") AND ").push(workflow_column).push(" = ").push_bind(workflow_id);
            query.build_query_as().fetch_all(&mut *conn).await
        })?;
        found.extend(
            rows.into_iter()
                .map(|(key, id, content_hash, task_id, started_at)| {
                    let stored = Stored {
                        id,
                        content_hash,
                        task_id: Some(task_id),
                        task_started_at: Some(started_at),
                    };
                    (key, stored)
                }),
        );
    }
    Ok(found)
}

/// How many calls one multi-row insert carries: 31 parameters each stays under SQLite's limit
/// of 32,766 per statement, and one statement instead of hundreds is most of ingestion's speed.
pub const CALLS_PER_STATEMENT: usize = 400;

/// Inserts the calls whose (workflow, sender id) is not stored yet, many rows per statement,
/// with the task and attempt the caller joined them to (a per-row subquery would open a
/// cursor per row, which SQLite makes quadratic in the statement's length). Returns the
/// (workflow, sender id) of every call it inserted; the others were already there (or appear
/// twice in `calls`) and are left for the caller to compare.
pub async fn insert_new_calls(tx: &mut Tx, calls: &[&Call]) -> DbResult<HashSet<(i64, String)>> {
    let mut inserted = HashSet::new();
    for chunk in calls.chunks(CALLS_PER_STATEMENT) {
        let rows: Vec<(i64, String)> = on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO calls (external_id, workflow_id, correlation_id, task_id, attempt_id, kind,
                     step, provider, model, input_tokens, output_tokens, cache_read_tokens,
                     cache_write_tokens, reasoning_tokens, audio_input_tokens, image_input_tokens,
                     reported_cost_micros, cost_micros,
                     cache_read_cost_micros, cache_write_cost_micros, cost_source, price_id,
                     started_at, latency_ms, status, error_type, trace_id, span_id, parent_span_id,
                     content_hash, created_at) ",
            );
            query.push_values(chunk, |mut row, call| {
                row.push_bind(&call.external_id)
                    .push_bind(call.workflow_id)
                    .push_bind(&call.correlation_id)
                    .push_bind(call.task_id)
                    .push_bind(call.attempt_id)
                    .push_bind(call.kind.as_str())
                    .push_bind(&call.step)
                    .push_bind(&call.provider)
                    .push_bind(&call.model)
                    .push_bind(call.input_tokens)
                    .push_bind(call.output_tokens)
                    .push_bind(call.cache_read_tokens)
                    .push_bind(call.cache_write_tokens)
                    .push_bind(call.reasoning_tokens)
                    .push_bind(call.audio_input_tokens)
                    .push_bind(call.image_input_tokens)
                    .push_bind(call.reported_cost_micros)
                    .push_bind(call.cost_micros.0)
                    .push_bind(call.cache_read_cost_micros.0)
                    .push_bind(call.cache_write_cost_micros.0)
                    .push_bind(call.cost_source.as_str())
                    .push_bind(call.price_id)
                    .push_bind(call.started_at)
                    .push_bind(call.latency_ms)
                    .push_bind(call.status.as_str())
                    .push_bind(&call.error_type)
                    .push_bind(&call.trace_id)
                    .push_bind(&call.span_id)
                    .push_bind(&call.parent_span_id)
                    .push_bind(&call.content_hash)
                    .push_bind(call.created_at);
            });
            query.push(
                " ON CONFLICT (workflow_id, external_id) DO NOTHING RETURNING workflow_id, external_id",
            );
            query.build_query_as().fetch_all(&mut *conn).await
        })?;
        inserted.extend(rows);
    }
    Ok(inserted)
}

/// Batches naming more lock keys than this take the ingestion lock whole rather than one
/// lock per key, which keeps any transaction's share of PostgreSQL's lock table small (it
/// holds `max_locks_per_transaction` × connections entries, 6,400 by default).
pub const MAX_INGEST_KEYS: usize = 256;

/// Gives the caller's ingestion transaction the tasks and correlation ids its batch names,
/// until it ends. A call joins its attempt when either is written, each looking for the other,
/// and an outcome or grade waits for a task the same way; two transactions naming the same
/// key at once would each miss the other's uncommitted row. SQLite already runs one writer at
/// a time. PostgreSQL takes a transaction-scoped advisory lock per key, so batches about
/// different tasks commit in parallel: `keys` sorted ascending and without repeats, so that
/// batches sharing keys take them in one order and never deadlock. Every batch first takes
/// one shared lock, which a batch with more than [`MAX_INGEST_KEYS`] takes exclusively instead
/// of its keys.
pub async fn take_ingest_locks(tx: &mut Tx, keys: &[i64]) -> DbResult<()> {
    let Tx::Postgres(tx) = tx else {
        return Ok(());
    };
    if keys.len() > MAX_INGEST_KEYS {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('finishline.ingest'))")
            .execute(&mut **tx)
            .await?;
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock_shared(hashtext('finishline.ingest'))")
        .execute(&mut **tx)
        .await?;
    if !keys.is_empty() {
        // Taken in the array's order: the rows of `unnest` come out in it.
        sqlx::query(
            "SELECT pg_advisory_xact_lock(k)
             FROM unnest($1::bigint[]) WITH ORDINALITY AS u(k, n) ORDER BY n",
        )
        .bind(keys)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The attempts a task has: (correlation id, number), to number a new one or refuse a clash.
pub async fn attempt_numbers(tx: &mut Tx, task_id: i64) -> DbResult<Vec<(String, i64)>> {
    let sql = "SELECT correlation_id, number FROM attempts WHERE task_id = $1 ORDER BY number";
    Ok(on_tx!(tx, conn => sqlx::query_as(sql).bind(task_id).fetch_all(conn).await)?)
}

/// The stored call with this sender id, if any.
pub async fn stored_call(
    tx: &mut Tx,
    workflow_id: i64,
    external_id: &str,
) -> DbResult<Option<Stored>> {
    let sql = "SELECT c.id, c.content_hash, c.task_id, t.started_at AS task_started_at
               FROM calls c LEFT JOIN tasks t ON t.id = c.task_id
               WHERE c.workflow_id = $1 AND c.external_id = $2";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(sql).bind(workflow_id).bind(external_id).fetch_optional(conn).await)?,
    )
}

/// Replaces a task's reported facts (the sender's last word wins); its verdict is re-decided
/// by the caller. Its grades follow it to a new task type (they carry it, migration 0029).
pub async fn update_task(tx: &mut Tx, id: i64, task: &NewTask, at: i64) -> DbResult<()> {
    let sql = "UPDATE tasks SET task_type_id = $1, team_id = $2, config_version_id = $3, segment = $4,
                   started_at = $5, finished_at = $6, reported_status = $7, escalation_reason = $8,
                   review_seconds = $9, input_summary = $10, output = $11, expected = $12, checks = $13,
                   metrics = $14, content_hash = $15, updated_at = $16
               WHERE id = $17";
    let reported = task.reported_status.unwrap_or(ReportedStatus::Running);
    execute!(
        tx,
        sqlx::query(sql)
            .bind(task.task_type_id)
            .bind(task.team_id)
            .bind(task.config_version_id)
            .bind(&task.segment)
            .bind(task.started_at)
            .bind(task.finished_at)
            .bind(reported.as_str())
            .bind(&task.escalation_reason)
            .bind(task.review_seconds)
            .bind(&task.input_summary)
            .bind(&task.output)
            .bind(&task.expected)
            .bind(&task.checks)
            .bind(&task.metrics)
            .bind(&task.content_hash)
            .bind(at)
            .bind(id)
    )?;
    let sql = "UPDATE grades SET task_type_id = $1 WHERE task_id = $2 AND task_type_id <> $1";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(task.task_type_id.unwrap_or(0))
            .bind(id)
    )?;
    Ok(())
}

/// Replaces an attempt's reported facts (a running attempt that has since failed, say).
pub async fn update_attempt(tx: &mut Tx, id: i64, attempt: &NewAttempt) -> DbResult<()> {
    let sql = "UPDATE attempts SET number = $1, status = $2, error = $3, started_at = $4, finished_at = $5,
                   content_hash = $6
               WHERE id = $7";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(attempt.number)
            .bind(attempt.status.as_str())
            .bind(&attempt.error)
            .bind(attempt.started_at)
            .bind(attempt.finished_at)
            .bind(&attempt.content_hash)
            .bind(id)
    )?;
    Ok(())
}

/// Whether the stored task has finished (has a finish time).
pub async fn is_finished(tx: &mut Tx, id: i64) -> DbResult<bool> {
    let sql = "SELECT finished_at FROM tasks WHERE id = $1";
    let finished: Option<i64> =
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(id).fetch_one(conn).await)?;
    Ok(finished.is_some())
}

/// Which tasks a task list shows. Every field narrows; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskSearch {
    pub workflow_id: Option<i64>,
    pub status: Option<String>,
    pub task_type_id: Option<i64>,
    pub segment: Option<String>,
    pub config_version_id: Option<i64>,
    /// "provider/model" of the model the task ran on.
    pub model: Option<String>,
    pub escalation_reason: Option<String>,
    /// Started in `from..to` (epoch milliseconds).
    pub from: i64,
    pub to: i64,
    /// Total cost (model, tool, retry, cache, review) within these bounds, micro-dollars.
    pub min_cost: Option<i64>,
    pub max_cost: Option<i64>,
    /// Whose tasks: the workflows of this user's teams, unless `all_teams`.
    pub user_id: i64,
    pub all_teams: bool,
}

/// A task's total cost in micro-dollars as SQL, spelled as its index is (migration 0007) so
/// that the index serves filters and orders on it.
macro_rules! total_cost {
    () => {
        "(t.model_cost_micros + t.tool_cost_micros + t.retry_cost_micros + t.cache_cost_micros + t.labour_cost_micros)"
    };
}
const TOTAL_COST: &str = total_cost!();

/// The orders a task list may be sorted in (newest first by default).
pub const TASK_SORTS: [(&str, &str); 6] = [
    ("newest", "t.started_at DESC, t.id DESC"),
    ("oldest", "t.started_at, t.id"),
    ("costliest", concat!(total_cost!(), " DESC, t.id")),
    ("cheapest", concat!(total_cost!(), ", t.id")),
    ("slowest", "duration_ms DESC, t.id"),
    ("most_attempts", "t.attempt_count DESC, t.id"),
];

/// One line of a task list.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskListRow {
    pub id: i64,
    pub external_id: String,
    pub workflow_id: i64,
    pub task_type_id: i64,
    pub segment: String,
    pub config_version_id: i64,
    pub primary_model: String,
    pub status: String,
    pub started_at: i64,
    pub duration_ms: i64,
    pub total_cost: i64,
    pub attempt_count: i64,
    pub call_count: i64,
    pub token_count: i64,
    pub escalation_reason: String,
}

/// A value bound to a task search's placeholder.
enum Param<'a> {
    Int(i64),
    Text(&'a str),
}

/// The conditions of a task search and the values of their placeholders, in order.
struct Clause<'a> {
    conditions: Vec<String>,
    params: Vec<Param<'a>>,
}

impl<'a> Clause<'a> {
    /// Adds a condition whose one placeholder, written `?`, takes `param`.
    fn and(&mut self, condition: &str, param: Param<'a>) {
        self.params.push(param);
        let placeholder = format!("${}", self.params.len());
        self.conditions.push(condition.replace('?', &placeholder));
    }
}

/// The columns a task search's filters read: a task's own, or those of a row of the daily
/// rollups, which keep the same dimensions under their own names.
struct Columns {
    workflow_id: &'static str,
    status: &'static str,
    task_type_id: &'static str,
    segment: &'static str,
    config_version_id: &'static str,
    model: &'static str,
}

const TASK_COLUMNS: Columns = Columns {
    workflow_id: "t.workflow_id",
    status: "t.status",
    task_type_id: "t.task_type_id",
    segment: "t.segment",
    config_version_id: "t.config_version_id",
    model: "t.primary_model",
};

const ROLLUP_COLUMNS: Columns = Columns {
    workflow_id: "r.workflow_id",
    status: "r.status",
    task_type_id: "r.task_type_id",
    segment: "r.segment",
    config_version_id: "r.config_version_id",
    model: "r.model",
};

/// The conditions of the filters the search sets other than its period, over `columns`, with
/// their placeholders numbered after `params`. Cost and escalation filters are left to
/// [`search_clause`]: the rollups do not keep them.
fn filters<'a>(search: &'a TaskSearch, columns: &Columns, params: Vec<Param<'a>>) -> Clause<'a> {
    let mut clause = Clause {
        conditions: Vec::new(),
        params,
    };
    if !search.all_teams {
        clause.and(
            &format!(
                "{} IN (SELECT w.id FROM workflows w JOIN user_teams ut ON ut.team_id = w.team_id WHERE ut.user_id = ?)",
                columns.workflow_id
            ),
            Param::Int(search.user_id),
        );
    }
    if let Some(id) = search.workflow_id {
        clause.and(&format!("{} = ?", columns.workflow_id), Param::Int(id));
    }
    match search.status.as_deref() {
        None => {}
        Some("decided") => (clause.conditions).push(format!("{} <> 'pending'", columns.status)),
        Some(status) => clause.and(&format!("{} = ?", columns.status), Param::Text(status)),
    }
    if let Some(id) = search.task_type_id {
        clause.and(&format!("{} = ?", columns.task_type_id), Param::Int(id));
    }
    if let Some(segment) = &search.segment {
        clause.and(&format!("{} = ?", columns.segment), Param::Text(segment));
    }
    if let Some(id) = search.config_version_id {
        clause.and(
            &format!("{} = ?", columns.config_version_id),
            Param::Int(id),
        );
    }
    if let Some(model) = &search.model {
        clause.and(&format!("{} = ?", columns.model), Param::Text(model));
    }
    clause
}

/// The search's `FROM ... WHERE ...` with only the filters it sets, and the values for its
/// placeholders in order. Leaving unset filters out of the statement (rather than writing
/// `$n IS NULL OR ...`) lets the database use the index that fits them: on a million tasks
/// this is the difference between reading one workflow's failures and every task of the month.
///
/// With `by_cost`, the period is written so that no index serves it (`+t.started_at`): the
/// total cost index then leads, and the costliest page of a month is found by reading costs
/// downward until it is full instead of sorting the whole month.
fn search_clause(search: &TaskSearch, by_cost: bool) -> (String, Vec<Param<'_>>) {
    let started = if by_cost {
        "+t.started_at"
    } else {
        "t.started_at"
    };
    let period = vec![Param::Int(search.from), Param::Int(search.to)];
    let mut clause = filters(search, &TASK_COLUMNS, period);
    clause.conditions.insert(0, format!("{started} >= $1"));
    clause.conditions.insert(1, format!("{started} < $2"));
    if let Some(reason) = &search.escalation_reason {
        clause.and("t.escalation_reason = ?", Param::Text(reason));
    }
    if let Some(min) = search.min_cost {
        clause.and(&format!("{TOTAL_COST} >= ?"), Param::Int(min));
    }
    if let Some(max) = search.max_cost {
        clause.and(&format!("{TOTAL_COST} <= ?"), Param::Int(max));
    }
    let sql = format!("FROM tasks t WHERE {}", clause.conditions.join(" AND "));
    (sql, clause.params)
}

macro_rules! bind_search {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Int(value) => query.bind(*value),
                Param::Text(value) => query.bind(*value),
            };
        }
        query
    }};
}

/// How many tasks match. A search the daily rollups can answer (no cost or escalation
/// filter) counts its whole days from them and only the rest from the tasks themselves: the
/// partial days at either end of its period, and the days whose rollups are behind their tasks
/// (a batch marked them and the refresh has not caught up, see [`super::rollup`]). All in one
/// statement, so one snapshot, so the total is exactly what counting every task would give,
/// while reading a few days of tasks instead of the whole period.
pub async fn count_tasks(db: &Db, search: &TaskSearch) -> DbResult<i64> {
    let first_day =
        search.from.div_euclid(MS_PER_DAY) + i64::from(search.from.rem_euclid(MS_PER_DAY) != 0);
    let end_day = search.to.div_euclid(MS_PER_DAY);
    let by_rollups = first_day < end_day
        && search.escalation_reason.is_none()
        && search.min_cost.is_none()
        && search.max_cost.is_none();
    if !by_rollups {
        let (clause, params) = search_clause(search, false);
        let sql = format!("SELECT COUNT(*) {clause}");
        return Ok(
            on_db!(db, pool => bind_search!(sqlx::query_scalar(&sql), &params).fetch_one(pool).await)?,
        );
    }
    // $1..$4: the partial days before and after the whole ones; $5, $6: the whole days. Both
    // sets of conditions number their placeholders after these, alike.
    let bounds = || {
        vec![
            Param::Int(search.from),
            Param::Int(first_day * MS_PER_DAY),
            Param::Int(end_day * MS_PER_DAY),
            Param::Int(search.to),
            Param::Int(first_day),
            Param::Int(end_day),
        ]
    };
    let tasks = filters(search, &TASK_COLUMNS, bounds());
    let rollups = filters(search, &ROLLUP_COLUMNS, bounds());
    let and = |clause: &Clause| {
        clause
            .conditions
            .iter()
            .map(|condition| format!(" AND {condition}"))
            .collect::<String>()
    };
    let (on_tasks, on_rollups) = (and(&tasks), and(&rollups));
    let sql = format!(
        "WITH stale (workflow_id, day) AS (
             SELECT workflow_id, day FROM rollup_dirty WHERE version > refreshed_version
             UNION SELECT workflow_id, day FROM rollup_marks WHERE day IS NOT NULL
             UNION SELECT m.workflow_id, mt.started_at / {MS_PER_DAY}
                   FROM rollup_marks m JOIN tasks mt ON mt.id = m.task_id WHERE m.day IS NULL)
         SELECT CAST(
             (SELECT COALESCE(SUM(r.tasks), 0) FROM task_rollups r
              WHERE r.day >= $5 AND r.day < $6{on_rollups}
                AND NOT EXISTS (SELECT 1 FROM stale s WHERE s.workflow_id = r.workflow_id AND s.day = r.day))
           + (SELECT COUNT(*) FROM stale s JOIN tasks t ON t.workflow_id = s.workflow_id
                AND t.started_at >= s.day * {MS_PER_DAY} AND t.started_at < (s.day + 1) * {MS_PER_DAY}
              WHERE s.day >= $5 AND s.day < $6{on_tasks})
           + (SELECT COUNT(*) FROM tasks t WHERE t.started_at >= $1 AND t.started_at < $2{on_tasks})
           + (SELECT COUNT(*) FROM tasks t WHERE t.started_at >= $3 AND t.started_at < $4{on_tasks})
         AS BIGINT)"
    );
    let total: i64 = on_db!(db, pool => bind_search!(sqlx::query_scalar(&sql), &tasks.params).fetch_one(pool).await)?;
    Ok(total)
}

/// One page of the matching tasks in the order `sort` names (see [`TASK_SORTS`]).
pub async fn search_tasks(
    db: &Db,
    search: &TaskSearch,
    sort: &str,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<TaskListRow>> {
    let order = TASK_SORTS
        .iter()
        .find(|(name, _)| *name == sort)
        .map_or(TASK_SORTS[0].1, |(_, order)| order);
    let by_cost = matches!(sort, "costliest" | "cheapest");
    let (clause, params) = search_clause(search, by_cost);
    let at = params.len();
    let sql = format!(
        "SELECT t.id, t.external_id, t.workflow_id, COALESCE(t.task_type_id, 0) AS task_type_id,
                t.segment, COALESCE(t.config_version_id, 0) AS config_version_id, t.primary_model,
                t.status, t.started_at, COALESCE(t.finished_at - t.started_at, 0) AS duration_ms,
                {TOTAL_COST} AS total_cost,
                t.attempt_count, t.call_count, t.token_count,
                COALESCE(t.escalation_reason, '') AS escalation_reason
         {clause} ORDER BY {order} LIMIT ${} OFFSET ${}",
        at + 1,
        at + 2
    );
    Ok(
        on_db!(db, pool => bind_search!(sqlx::query_as(&sql), &params)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)?,
    )
}
