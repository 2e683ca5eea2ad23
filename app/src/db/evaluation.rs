//! Evaluation results: automatic judgements of a task's output that success rules can read.
//! Like outcome events they may arrive before their task and wait under its sender id.

use super::{Db, DbResult, Tx, on_db, on_tx};
use crate::model::Evaluation;

pub struct NewEvaluation<'a> {
    pub external_id: &'a str,
    pub workflow_id: i64,
    pub task_external_id: &'a str,
    pub name: &'a str,
    pub score: Option<f64>,
    pub label: Option<&'a str>,
    pub explanation: &'a str,
    pub evaluated_at: i64,
    pub source: &'a str,
    pub content_hash: &'a str,
}

/// Stores a result, tied to its task when the task is already known.
pub async fn insert_evaluation(tx: &mut Tx, result: &NewEvaluation<'_>, at: i64) -> DbResult<i64> {
    let sql = "INSERT INTO evaluations (external_id, workflow_id, task_external_id, task_id, name,
                   score, label, explanation, evaluated_at, source, content_hash, created_at)
               VALUES ($1, $2, $3,
                   (SELECT id FROM tasks WHERE workflow_id = $2 AND external_id = $3),
                   $4, $5, $6, $7, $8, $9, $10, $11)
               RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(result.external_id)
        .bind(result.workflow_id)
        .bind(result.task_external_id)
        .bind(result.name)
        .bind(result.score)
        .bind(result.label)
        .bind(result.explanation)
        .bind(result.evaluated_at)
        .bind(result.source)
        .bind(result.content_hash)
        .bind(at)
        .fetch_one(conn)
        .await)?)
}

/// Ties the results sent before their task to the new tasks of one workflow with these
/// sender ids.
pub async fn claim_evaluations_of(
    tx: &mut Tx,
    workflow_id: i64,
    task_external_ids: &[&str],
) -> DbResult<u64> {
    super::outcome::claim_waiting(
        tx,
        super::outcome::Waiting::Evaluations,
        workflow_id,
        task_external_ids,
    )
    .await
}

/// A task's results, in the order they were made.
pub async fn list_task_evaluations(db: &Db, task_id: i64) -> DbResult<Vec<Evaluation>> {
    let sql = "SELECT * FROM evaluations WHERE task_id = $1 ORDER BY evaluated_at, id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_id).fetch_all(pool).await)?)
}

/// The content hash of the stored result with this sender id, if any.
pub async fn stored_evaluation_hash(
    tx: &mut Tx,
    workflow_id: i64,
    external_id: &str,
) -> DbResult<Option<String>> {
    let sql = "SELECT content_hash FROM evaluations WHERE workflow_id = $1 AND external_id = $2";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(workflow_id)
        .bind(external_id)
        .fetch_optional(conn)
        .await)?)
}
