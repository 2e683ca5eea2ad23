//! Daily rollups, kept exact by recomputing each touched (workflow, day) slice from raw rows
//! inside the transaction that changed them. Pages read rollups and the spreads kept beside
//! them (buckets of task cost and duration, escalation counts, each day's costliest tasks);
//! drill-downs read raw rows.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::domain::Micros;
use crate::domain::attribution::CallCost;
use crate::domain::time::MS_PER_DAY;
use crate::model::TaskRollup;
use crate::report::rollup::{CallFacts, TaskFacts, TaskUsage, rollup_rows, task_usage};
use crate::report::spread::{DaySpreads, day_spreads};

/// Recomputes the task rollups of one workflow for days `first_day..=last_day` from raw rows,
/// and each task's attributed cost and usage with them. Cost attribution (components, cache
/// amortisation) is the domain's; this only loads and stores.
pub async fn refresh_task_rollups(
    tx: &mut Tx,
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
) -> DbResult<()> {
    let (from, to) = (first_day * MS_PER_DAY, (last_day + 1) * MS_PER_DAY);
    let (tasks, calls) = load_slice(tx, workflow_id, from, to).await?;
    let usage = task_usage(&calls);
    let none = TaskUsage::default();
    let stored = stored_usage(tx, workflow_id, from, to).await?;
    for task in &tasks {
        // Most of a busy day's tasks are unchanged by the batch that marked it: skip those.
        let figures = usage_columns(task, usage.get(&task.id).unwrap_or(&none));
        if stored.get(&task.id) != Some(&figures) {
            store_task_usage(tx, task.id, &figures).await?;
        }
    }
    let delete = "DELETE FROM task_rollups WHERE workflow_id = $1 AND day BETWEEN $2 AND $3";
    execute!(
        tx,
        sqlx::query(delete)
            .bind(workflow_id)
            .bind(first_day)
            .bind(last_day)
    )?;
    for row in rollup_rows(&tasks, &usage) {
        insert_task_rollup(tx, &row).await?;
    }
    let spreads = day_spreads(&tasks, &usage);
    store_spreads(tx, workflow_id, first_day, last_day, &spreads).await
}

/// How many stored rows one multi-row insert of spreads carries.
const SPREADS_PER_STATEMENT: usize = 500;

/// Replaces the spreads of one workflow's days `first_day..=last_day`.
async fn store_spreads(
    tx: &mut Tx,
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
    kept: &DaySpreads,
) -> DbResult<()> {
    for table in ["task_spreads", "escalation_counts", "costliest_tasks"] {
        let delete =
            format!("DELETE FROM {table} WHERE workflow_id = $1 AND day BETWEEN $2 AND $3");
        execute!(
            tx,
            sqlx::query(&delete)
                .bind(workflow_id)
                .bind(first_day)
                .bind(last_day)
        )?;
    }
    for chunk in kept.spreads.chunks(SPREADS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO task_spreads (workflow_id, day, measure, bucket, tasks, total, largest) ",
            );
            query.push_values(chunk, |mut row, spread| {
                row.push_bind(workflow_id)
                    .push_bind(spread.day)
                    .push_bind(spread.measure.as_str())
                    .push_bind(spread.bucket.from)
                    .push_bind(spread.bucket.count as i64)
                    .push_bind(spread.bucket.total)
                    .push_bind(spread.bucket.largest);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    for chunk in kept.escalations.chunks(SPREADS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query =
                sqlx::QueryBuilder::new("INSERT INTO escalation_counts (workflow_id, day, reason, tasks) ");
            query.push_values(chunk, |mut row, (day, reason, tasks)| {
                row.push_bind(workflow_id)
                    .push_bind(day)
                    .push_bind(reason)
                    .push_bind(tasks);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    for chunk in kept.costliest.chunks(SPREADS_PER_STATEMENT) {
        on_tx!(tx, conn => {
            let mut query =
                sqlx::QueryBuilder::new("INSERT INTO costliest_tasks (workflow_id, day, task_id, cost_micros) ");
            query.push_values(chunk, |mut row, (day, task_id, cost)| {
                row.push_bind(workflow_id)
                    .push_bind(day)
                    .push_bind(task_id)
                    .push_bind(cost);
            });
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// A task's stored cost and usage columns: model, tool, retry and cache cost, attempts, calls,
/// tokens, primary model, labour cost.
type UsageColumns = (i64, i64, i64, i64, i64, i64, i64, String, i64);

fn usage_columns(task: &TaskFacts, used: &TaskUsage) -> UsageColumns {
    (
        used.cost.model.0,
        used.cost.tool.0,
        used.cost.retry.0,
        used.cost.cache.0,
        task.attempts.max(1),
        used.calls,
        used.input_tokens + used.output_tokens,
        used.primary_model.clone(),
        task.labour_cost().0,
    )
}

/// The usage columns the slice's tasks have now.
async fn stored_usage(
    tx: &mut Tx,
    workflow_id: i64,
    from: i64,
    to: i64,
) -> DbResult<std::collections::HashMap<i64, UsageColumns>> {
    let sql =
        "SELECT id, model_cost_micros, tool_cost_micros, retry_cost_micros, cache_cost_micros,
                   attempt_count, call_count, token_count, primary_model, labour_cost_micros
               FROM tasks WHERE workflow_id = $1 AND started_at >= $2 AND started_at < $3";
    type Row = (i64, i64, i64, i64, i64, i64, i64, i64, String, i64);
    let rows: Vec<Row> = on_tx!(tx, conn => sqlx::query_as(sql).bind(workflow_id).bind(from).bind(to).fetch_all(conn).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, m, t, r, c, a, n, k, p, l)| (id, (m, t, r, c, a, n, k, p, l)))
        .collect())
}

async fn store_task_usage(tx: &mut Tx, task_id: i64, figures: &UsageColumns) -> DbResult<()> {
    let sql =
        "UPDATE tasks SET model_cost_micros = $1, tool_cost_micros = $2, retry_cost_micros = $3,
                   cache_cost_micros = $4, attempt_count = $5, call_count = $6, token_count = $7,
                   primary_model = $8, labour_cost_micros = $9
               WHERE id = $10";
    let (model, tool, retry, cache, attempts, calls, tokens, primary, labour) = figures;
    execute!(
        tx,
        sqlx::query(sql)
            .bind(model)
            .bind(tool)
            .bind(retry)
            .bind(cache)
            .bind(attempts)
            .bind(calls)
            .bind(tokens)
            .bind(primary)
            .bind(labour)
            .bind(task_id)
    )?;
    Ok(())
}

/// Marks a (workflow, day) slice as behind its raw rows, in the transaction that changed them.
pub async fn mark_dirty(tx: &mut Tx, workflow_id: i64, day: i64, at: i64) -> DbResult<()> {
    let sql = "INSERT INTO rollup_dirty (workflow_id, day, marked_at) VALUES ($1, $2, $3)
               ON CONFLICT (workflow_id, day) DO UPDATE
                 SET version = rollup_dirty.version + 1, marked_at = excluded.marked_at";
    execute!(tx, sqlx::query(sql).bind(workflow_id).bind(day).bind(at))?;
    Ok(())
}

/// Recomputes the slices marked when it is called, oldest mark first, each once and in its own
/// transaction. A mark is removed only if no batch re-marked the slice meanwhile; such a slice
/// waits for the next call rather than keeping this one going, since under steady ingestion the
/// day's slice is re-marked by each batch and a refresh that ran until no mark was left would
/// never end, holding the writer's turn between batches. Returns how many slices it refreshed.
pub async fn refresh_all_dirty(db: &Db) -> DbResult<u64> {
    // One mark per (workflow, day): few enough to take all at once.
    let sql = "SELECT workflow_id, day, version FROM rollup_dirty ORDER BY marked_at";
    let marked: Vec<(i64, i64, i64)> =
        on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
    for (workflow_id, day, version) in &marked {
        let mut tx = db.begin().await?;
        refresh_task_rollups(&mut tx, *workflow_id, *day, *day).await?;
        refresh_call_rollups(&mut tx, *workflow_id, *day, *day).await?;
        let done = "DELETE FROM rollup_dirty WHERE workflow_id = $1 AND day = $2 AND version = $3";
        execute!(
            &mut tx,
            sqlx::query(done).bind(workflow_id).bind(day).bind(version)
        )?;
        tx.commit().await?;
    }
    Ok(marked.len() as u64)
}

/// Rebuilds every rollup from raw rows when tasks exist but rollups do not (after a migration
/// that reshaped them). Returns whether it rebuilt.
pub async fn rebuild_if_missing(db: &Db) -> DbResult<bool> {
    let sql = "SELECT (SELECT COUNT(*) FROM tasks) > 0 AND (SELECT COUNT(*) FROM task_rollups) = 0";
    let missing: bool = on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?;
    if !missing {
        return Ok(false);
    }
    let spans = "SELECT workflow_id, MIN(started_at) / 86400000, MAX(started_at) / 86400000 FROM tasks GROUP BY workflow_id";
    let spans: Vec<(i64, i64, i64)> =
        on_db!(db, pool => sqlx::query_as(spans).fetch_all(pool).await)?;
    for (workflow_id, first_day, last_day) in spans {
        let mut tx = db.begin().await?;
        refresh_task_rollups(&mut tx, workflow_id, first_day, last_day).await?;
        refresh_call_rollups(&mut tx, workflow_id, first_day, last_day).await?;
        tx.commit().await?;
    }
    Ok(true)
}

type TaskRow = (
    i64,
    i64,
    i64,
    i64,
    String,
    i64,
    String,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
);
type CallRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
);

/// The tasks that started in `[from, to)` and all their calls.
pub async fn load_slice(
    tx: &mut Tx,
    workflow_id: i64,
    from: i64,
    to: i64,
) -> DbResult<(Vec<TaskFacts>, Vec<CallFacts>)> {
    let tasks_sql = "
        SELECT t.id, t.started_at / 86400000, t.team_id, COALESCE(t.task_type_id, 0), t.segment,
            COALESCE(t.config_version_id, 0), t.status,
            CAST(t.review_seconds + COALESCE((SELECT SUM(g.review_seconds) FROM grades g WHERE g.task_id = t.id), 0) AS BIGINT),
            COALESCE(t.finished_at - t.started_at, 0),
            (SELECT COUNT(*) FROM attempts a WHERE a.task_id = t.id),
            tm.labour_rate_micros_per_hour, t.escalation_reason
        FROM tasks t
        JOIN teams tm ON tm.id = t.team_id
        WHERE t.workflow_id = $1 AND t.started_at >= $2 AND t.started_at < $3";
    let rows: Vec<TaskRow> = on_tx!(tx, conn => sqlx::query_as(tasks_sql).bind(workflow_id).bind(from).bind(to).fetch_all(conn).await)?;
    let mut tasks = Vec::with_capacity(rows.len());
    for (
        id,
        day,
        team_id,
        task_type_id,
        segment,
        config_version_id,
        status,
        review_seconds,
        duration_ms,
        attempts,
        rate,
        escalation_reason,
    ) in rows
    {
        let status = status.parse()?;
        tasks.push(TaskFacts {
            id,
            day,
            workflow_id,
            team_id,
            task_type_id,
            segment,
            config_version_id,
            status,
            review_seconds,
            labour_rate: Micros(rate),
            duration_ms,
            attempts,
            escalation_reason,
        });
    }
    let calls_sql = "
        SELECT c.task_id, COALESCE(a.number, 1), c.kind, c.provider, c.model, t.started_at / 86400000,
            c.cost_micros, c.cache_read_cost_micros, c.cache_write_cost_micros, c.cache_read_tokens,
            c.input_tokens, c.output_tokens
        FROM calls c
        JOIN tasks t ON t.id = c.task_id
        LEFT JOIN attempts a ON a.id = c.attempt_id
        WHERE t.workflow_id = $1 AND t.started_at >= $2 AND t.started_at < $3
        ORDER BY c.id";
    let rows: Vec<CallRow> = on_tx!(tx, conn => sqlx::query_as(calls_sql).bind(workflow_id).bind(from).bind(to).fetch_all(conn).await)?;
    let mut calls = Vec::with_capacity(rows.len());
    for (
        task_id,
        attempt_number,
        kind,
        provider,
        model,
        day,
        cost,
        read,
        write,
        read_tokens,
        input,
        output,
    ) in rows
    {
        let kind = kind.parse()?;
        calls.push(CallFacts {
            cost: CallCost {
                task_id,
                attempt_number,
                kind,
                pool: (provider, model, day),
                cost: Micros(cost),
                cache_read_cost: Micros(read),
                cache_write_cost: Micros(write),
                cache_read_tokens: read_tokens,
            },
            input_tokens: input,
            output_tokens: output,
        });
    }
    Ok((tasks, calls))
}

async fn insert_task_rollup(tx: &mut Tx, row: &TaskRollup) -> DbResult<()> {
    let sql = "INSERT INTO task_rollups (day, workflow_id, team_id, task_type_id, segment, config_version_id,
            model, status, tasks, first_attempt_tasks, within_three_tasks, attempts, calls, input_tokens,
            output_tokens, cache_read_tokens, model_cost_micros, tool_cost_micros, retry_cost_micros,
            cache_cost_micros, labour_cost_micros, review_seconds, duration_ms)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(row.day)
            .bind(row.workflow_id)
            .bind(row.team_id)
            .bind(row.task_type_id)
            .bind(&row.segment)
            .bind(row.config_version_id)
            .bind(&row.model)
            .bind(row.status.as_str())
            .bind(row.tasks)
            .bind(row.first_attempt_tasks)
            .bind(row.within_three_tasks)
            .bind(row.attempts)
            .bind(row.calls)
            .bind(row.input_tokens)
            .bind(row.output_tokens)
            .bind(row.cache_read_tokens)
            .bind(row.model_cost_micros)
            .bind(row.tool_cost_micros)
            .bind(row.retry_cost_micros)
            .bind(row.cache_cost_micros)
            .bind(row.labour_cost_micros)
            .bind(row.review_seconds)
            .bind(row.duration_ms)
    )?;
    Ok(())
}

/// Recomputes the per-model call rollups of one workflow for days `first_day..=last_day`.
pub async fn refresh_call_rollups(
    tx: &mut Tx,
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
) -> DbResult<()> {
    let (from, to) = (first_day * MS_PER_DAY, (last_day + 1) * MS_PER_DAY);
    let delete = "DELETE FROM call_rollups WHERE workflow_id = $1 AND day BETWEEN $2 AND $3";
    execute!(
        tx,
        sqlx::query(delete)
            .bind(workflow_id)
            .bind(first_day)
            .bind(last_day)
    )?;
    let insert = "
        INSERT INTO call_rollups (day, workflow_id, provider, model, step, calls, errors, input_tokens,
            output_tokens, cost_micros, latency_ms)
        SELECT started_at / 86400000, workflow_id, provider, model, step, COUNT(*),
            SUM(CASE WHEN status = 'ok' THEN 0 ELSE 1 END),
            SUM(input_tokens), SUM(output_tokens), SUM(cost_micros), SUM(latency_ms)
        FROM calls
        WHERE workflow_id = $1 AND started_at >= $2 AND started_at < $3
        GROUP BY started_at / 86400000, workflow_id, provider, model, step";
    execute!(
        tx,
        sqlx::query(insert).bind(workflow_id).bind(from).bind(to)
    )?;
    Ok(())
}

/// Task rollups for days `first_day..=last_day`, optionally of one workflow.
pub async fn task_rollups(
    db: &Db,
    first_day: i64,
    last_day: i64,
    workflow_id: Option<i64>,
) -> DbResult<Vec<TaskRollup>> {
    let sql = "SELECT * FROM task_rollups
               WHERE day BETWEEN $1 AND $2 AND ($3 IS NULL OR workflow_id = $3)
               ORDER BY day, workflow_id";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(first_day).bind(last_day).bind(workflow_id).fetch_all(pool).await)?,
    )
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CallRollup {
    pub day: i64,
    pub workflow_id: i64,
    pub provider: String,
    pub model: String,
    pub step: String,
    pub calls: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_micros: i64,
    pub latency_ms: i64,
}

pub async fn call_rollups(
    db: &Db,
    first_day: i64,
    last_day: i64,
    workflow_id: Option<i64>,
) -> DbResult<Vec<CallRollup>> {
    let sql = "SELECT * FROM call_rollups
               WHERE day BETWEEN $1 AND $2 AND ($3 IS NULL OR workflow_id = $3)
               ORDER BY day, workflow_id";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(first_day).bind(last_day).bind(workflow_id).fetch_all(pool).await)?,
    )
}
