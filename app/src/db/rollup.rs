//! Daily rollups, kept exact by recomputing each touched (workflow, day) slice from raw rows
//! inside the transaction that changed them. Pages read rollups; percentiles and drill-downs
//! read raw rows.

use super::{Db, DbResult, Tx, execute, on_db};
use crate::domain::time::MS_PER_DAY;
use crate::model::TaskRollup;

/// Recomputes the task rollups of one workflow for days `first_day..=last_day`.
pub async fn refresh_task_rollups(
    tx: &mut Tx,
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
) -> DbResult<()> {
    let (from, to) = (first_day * MS_PER_DAY, (last_day + 1) * MS_PER_DAY);
    let delete = "DELETE FROM task_rollups WHERE workflow_id = $1 AND day BETWEEN $2 AND $3";
    execute!(
        tx,
        sqlx::query(delete)
            .bind(workflow_id)
            .bind(first_day)
            .bind(last_day)
    )?;
    // Each call's cost lands in exactly one component: everything in attempts after the first is
    // retry; otherwise tools and retrievals are tool cost, and model calls split into cache and model.
    let insert = "
        WITH slice AS (
            SELECT id FROM tasks WHERE workflow_id = $1 AND started_at >= $2 AND started_at < $3
        ),
        per_attempts AS (
            SELECT task_id, COUNT(*) AS attempts FROM attempts
            WHERE task_id IN (SELECT id FROM slice) GROUP BY task_id
        ),
        per_calls AS (
            SELECT c.task_id,
                COUNT(*) AS calls,
                SUM(c.input_tokens) AS input_tokens,
                SUM(c.output_tokens) AS output_tokens,
                SUM(c.cache_read_tokens) AS cache_read_tokens,
                SUM(CASE WHEN COALESCE(a.number, 1) = 1 AND c.kind IN ('model', 'other')
                         THEN c.cost_micros - c.cache_read_cost_micros - c.cache_write_cost_micros ELSE 0 END) AS model_cost,
                SUM(CASE WHEN COALESCE(a.number, 1) = 1 AND c.kind IN ('tool', 'retrieval')
                         THEN c.cost_micros ELSE 0 END) AS tool_cost,
                SUM(CASE WHEN COALESCE(a.number, 1) > 1 THEN c.cost_micros ELSE 0 END) AS retry_cost,
                SUM(CASE WHEN COALESCE(a.number, 1) = 1 AND c.kind IN ('model', 'other')
                         THEN c.cache_read_cost_micros + c.cache_write_cost_micros ELSE 0 END) AS cache_cost
            FROM calls c LEFT JOIN attempts a ON a.id = c.attempt_id
            WHERE c.task_id IN (SELECT id FROM slice)
            GROUP BY c.task_id
        ),
        per_grades AS (
            SELECT task_id, SUM(review_seconds) AS seconds FROM grades
            WHERE task_id IN (SELECT id FROM slice) GROUP BY task_id
        ),
        per_task AS (
            SELECT t.*,
                CASE WHEN COALESCE(pa.attempts, 0) > 1 THEN pa.attempts ELSE 1 END AS n_attempts,
                COALESCE(pc.calls, 0) AS n_calls,
                COALESCE(pc.input_tokens, 0) AS n_input,
                COALESCE(pc.output_tokens, 0) AS n_output,
                COALESCE(pc.cache_read_tokens, 0) AS n_cache_read,
                COALESCE(pc.model_cost, 0) AS c_model,
                COALESCE(pc.tool_cost, 0) AS c_tool,
                COALESCE(pc.retry_cost, 0) AS c_retry,
                COALESCE(pc.cache_cost, 0) AS c_cache,
                t.review_seconds + COALESCE(pg.seconds, 0) AS seconds
            FROM tasks t
            LEFT JOIN per_attempts pa ON pa.task_id = t.id
            LEFT JOIN per_calls pc ON pc.task_id = t.id
            LEFT JOIN per_grades pg ON pg.task_id = t.id
            WHERE t.id IN (SELECT id FROM slice)
        )
        INSERT INTO task_rollups (day, workflow_id, team_id, task_type_id, segment, config_version_id,
            status, tasks, first_attempt_tasks, within_three_tasks, attempts, calls, input_tokens,
            output_tokens, cache_read_tokens, model_cost_micros, tool_cost_micros, retry_cost_micros,
            cache_cost_micros, review_seconds, duration_ms)
        SELECT started_at / 86400000, workflow_id, team_id, COALESCE(task_type_id, 0), segment,
            COALESCE(config_version_id, 0), status,
            COUNT(*),
            SUM(CASE WHEN n_attempts <= 1 THEN 1 ELSE 0 END),
            SUM(CASE WHEN n_attempts <= 3 THEN 1 ELSE 0 END),
            SUM(n_attempts), SUM(n_calls), SUM(n_input), SUM(n_output), SUM(n_cache_read),
            SUM(c_model), SUM(c_tool), SUM(c_retry), SUM(c_cache), SUM(seconds),
            SUM(COALESCE(finished_at - started_at, 0))
        FROM per_task
        GROUP BY started_at / 86400000, workflow_id, team_id, COALESCE(task_type_id, 0), segment,
            COALESCE(config_version_id, 0), status";
    execute!(
        tx,
        sqlx::query(insert).bind(workflow_id).bind(from).bind(to)
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
