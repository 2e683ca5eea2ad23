//! Workflows, their task types and segments, and versioned success rules.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::domain::status::ReviewMethod;
use crate::model::{SuccessRule, TaskType, Workflow, WorkflowSettings};

pub async fn insert_workflow(tx: &mut Tx, settings: &WorkflowSettings, at: i64) -> DbResult<i64> {
    let sql = "INSERT INTO workflows (slug, name, team_id, description, budget_cpst_micros,
                   quality_target_bp, gate_window_days, gate_min_sample, drift_tolerance_bp,
                   review_sampling_bp, second_grader_bp, created_at, updated_at, team_slug_key,
                   latency_budget_ms)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(&settings.slug)
        .bind(&settings.name)
        .bind(settings.team_id)
        .bind(&settings.description)
        .bind(settings.budget_cpst_micros.0)
        .bind(settings.quality_target_bp)
        .bind(settings.gate_window_days)
        .bind(settings.gate_min_sample)
        .bind(settings.drift_tolerance_bp)
        .bind(settings.review_sampling_bp)
        .bind(settings.second_grader_bp)
        .bind(at)
        .bind(team_slug_key(settings))
        .bind(settings.latency_budget_ms)
        .fetch_one(conn)
        .await)?)
}

/// The stored key that keeps slugs unique within a team (see migration 0014).
fn team_slug_key(settings: &WorkflowSettings) -> String {
    format!("{}/{}", settings.team_id, settings.slug)
}

pub async fn update_workflow(
    tx: &mut Tx,
    id: i64,
    settings: &WorkflowSettings,
    at: i64,
) -> DbResult<()> {
    let sql = "UPDATE workflows SET slug = $1, name = $2, team_id = $3, description = $4,
                   budget_cpst_micros = $5, quality_target_bp = $6, gate_window_days = $7,
                   gate_min_sample = $8, drift_tolerance_bp = $9, review_sampling_bp = $10,
                   second_grader_bp = $11, updated_at = $12, team_slug_key = $14,
                   latency_budget_ms = $15
               WHERE id = $13";
    let done = execute!(
        tx,
        sqlx::query(sql)
            .bind(&settings.slug)
            .bind(&settings.name)
            .bind(settings.team_id)
            .bind(&settings.description)
            .bind(settings.budget_cpst_micros.0)
            .bind(settings.quality_target_bp)
            .bind(settings.gate_window_days)
            .bind(settings.gate_min_sample)
            .bind(settings.drift_tolerance_bp)
            .bind(settings.review_sampling_bp)
            .bind(settings.second_grader_bp)
            .bind(at)
            .bind(id)
            .bind(team_slug_key(settings))
            .bind(settings.latency_budget_ms)
    )?;
    if done == 0 {
        return Err(super::DbError::NotFound);
    }
    Ok(())
}

pub async fn set_autonomy_level(tx: &mut Tx, id: i64, level: i64, at: i64) -> DbResult<()> {
    let sql = "UPDATE workflows SET autonomy_level = $1, updated_at = $2 WHERE id = $3";
    execute!(tx, sqlx::query(sql).bind(level).bind(at).bind(id))?;
    Ok(())
}

pub async fn list_workflows(db: &Db) -> DbResult<Vec<Workflow>> {
    let sql = "SELECT * FROM workflows ORDER BY name";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn get_workflow(db: &Db, id: i64) -> DbResult<Workflow> {
    let sql = "SELECT * FROM workflows WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)?)
}

pub struct NewTaskType<'a> {
    pub workflow_id: i64,
    pub slug: &'a str,
    pub name: &'a str,
    pub user_goal: &'a str,
    pub pass_condition: &'a str,
    pub review_method: ReviewMethod,
    pub segments: &'a [&'a str],
}

pub async fn insert_task_type(tx: &mut Tx, task_type: &NewTaskType<'_>, at: i64) -> DbResult<i64> {
    let sql = "INSERT INTO task_types (workflow_id, slug, name, user_goal, pass_condition, review_method, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(task_type.workflow_id)
        .bind(task_type.slug)
        .bind(task_type.name)
        .bind(task_type.user_goal)
        .bind(task_type.pass_condition)
        .bind(task_type.review_method.as_str())
        .bind(at)
        .fetch_one(conn)
        .await)?;
    insert_segments(tx, id, task_type.segments).await?;
    Ok(id)
}

async fn insert_segments(tx: &mut Tx, task_type_id: i64, segments: &[&str]) -> DbResult<()> {
    for segment in segments {
        let sql = "INSERT INTO task_type_segments (task_type_id, segment) VALUES ($1, $2)";
        execute!(tx, sqlx::query(sql).bind(task_type_id).bind(*segment))?;
    }
    Ok(())
}

pub async fn list_task_types(db: &Db, workflow_id: i64) -> DbResult<Vec<TaskType>> {
    let sql = "SELECT * FROM task_types WHERE workflow_id = $1 ORDER BY name";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).fetch_all(pool).await)?)
}

/// Every workflow's task types.
pub async fn list_all_task_types(db: &Db) -> DbResult<Vec<TaskType>> {
    let sql = "SELECT * FROM task_types ORDER BY workflow_id, name";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn task_type_segments(db: &Db, task_type_id: i64) -> DbResult<Vec<String>> {
    let sql = "SELECT segment FROM task_type_segments WHERE task_type_id = $1 ORDER BY segment";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).bind(task_type_id).fetch_all(pool).await)?)
}

/// Adds a new version of a task type's success rule, effective from `effective_from`.
pub async fn insert_success_rule(
    tx: &mut Tx,
    task_type_id: i64,
    definition: &str,
    effective_from: i64,
    created_by: Option<i64>,
    at: i64,
) -> DbResult<SuccessRule> {
    let sql = "INSERT INTO success_rules (task_type_id, version, definition, effective_from, created_by, created_at)
               VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM success_rules WHERE task_type_id = $1),
                       $2, $3, $4, $5)
               RETURNING *";
    Ok(on_tx!(tx, conn => sqlx::query_as(sql)
        .bind(task_type_id)
        .bind(definition)
        .bind(effective_from)
        .bind(created_by)
        .bind(at)
        .fetch_one(conn)
        .await)?)
}

/// Every version of a task type's rule, oldest first.
pub async fn rule_history(db: &Db, task_type_id: i64) -> DbResult<Vec<SuccessRule>> {
    let sql = "SELECT * FROM success_rules WHERE task_type_id = $1 ORDER BY version";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_type_id).fetch_all(pool).await)?)
}

/// The rule version in force for a task type at `at`.
pub async fn rule_in_force(db: &Db, task_type_id: i64, at: i64) -> DbResult<Option<SuccessRule>> {
    let sql = "SELECT * FROM success_rules WHERE task_type_id = $1 AND effective_from <= $2
               ORDER BY effective_from DESC, version DESC LIMIT 1";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(task_type_id).bind(at).fetch_optional(pool).await)?,
    )
}

/// Rewrites a task type's words, review method and segments.
pub async fn update_task_type(tx: &mut Tx, id: i64, task_type: &NewTaskType<'_>) -> DbResult<()> {
    let sql = "UPDATE task_types SET slug = $1, name = $2, user_goal = $3, pass_condition = $4,
                   review_method = $5
               WHERE id = $6 AND workflow_id = $7";
    let done = execute!(
        tx,
        sqlx::query(sql)
            .bind(task_type.slug)
            .bind(task_type.name)
            .bind(task_type.user_goal)
            .bind(task_type.pass_condition)
            .bind(task_type.review_method.as_str())
            .bind(id)
            .bind(task_type.workflow_id)
    )?;
    if done == 0 {
        return Err(super::DbError::NotFound);
    }
    execute!(
        tx,
        sqlx::query("DELETE FROM task_type_segments WHERE task_type_id = $1").bind(id)
    )?;
    insert_segments(tx, id, task_type.segments).await?;
    Ok(())
}

/// Every task type's segments: (task type, segment).
pub async fn all_segments(db: &Db) -> DbResult<Vec<(i64, String)>> {
    let sql = "SELECT task_type_id, segment FROM task_type_segments ORDER BY task_type_id, segment";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

/// Every rule version of a workflow's task types, oldest first.
pub async fn workflow_rules(db: &Db, workflow_id: i64) -> DbResult<Vec<SuccessRule>> {
    let sql = "SELECT r.* FROM success_rules r JOIN task_types t ON t.id = r.task_type_id
               WHERE t.workflow_id = $1 ORDER BY r.task_type_id, r.version";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).fetch_all(pool).await)?)
}
