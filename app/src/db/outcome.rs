//! Outcome events: late signals (resolved, reopened...) that can change a task's verdict.

use super::{Db, DbResult, Tx, on_db, on_tx, push_list};
use crate::domain::status::OutcomeKind;
use crate::model::OutcomeEvent;

pub struct NewOutcome<'a> {
    pub external_id: &'a str,
    pub workflow_id: i64,
    pub task_external_id: &'a str,
    pub kind: OutcomeKind,
    pub occurred_at: i64,
    pub source: &'a str,
    pub detail: &'a str,
    pub content_hash: &'a str,
}

/// Stores an event, tied to its task when the task is already known.
pub async fn insert_outcome(tx: &mut Tx, event: &NewOutcome<'_>, at: i64) -> DbResult<i64> {
    let sql =
        "INSERT INTO outcome_events (external_id, workflow_id, task_external_id, task_id, kind,
                   occurred_at, source, detail, content_hash, created_at)
               VALUES ($1, $2, $3,
                   (SELECT id FROM tasks WHERE workflow_id = $2 AND external_id = $3),
                   $4, $5, $6, $7, $8, $9)
               RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(event.external_id)
        .bind(event.workflow_id)
        .bind(event.task_external_id)
        .bind(event.kind.as_str())
        .bind(event.occurred_at)
        .bind(event.source)
        .bind(event.detail)
        .bind(event.content_hash)
        .bind(at)
        .fetch_one(conn)
        .await)?)
}

/// Ties the outcome events sent before their task, waiting under the task's sender id, to the
/// new tasks of one workflow with these sender ids.
pub async fn claim_outcomes_of(
    tx: &mut Tx,
    workflow_id: i64,
    task_external_ids: &[&str],
) -> DbResult<u64> {
    claim_waiting(tx, Waiting::OutcomeEvents, workflow_id, task_external_ids).await
}

/// Rows that may arrive before their task, waiting under its sender id.
#[derive(Clone, Copy, Debug)]
pub(super) enum Waiting {
    OutcomeEvents,
    Evaluations,
}

impl Waiting {
    fn table(self) -> &'static str {
        match self {
            Waiting::OutcomeEvents => "outcome_events",
            Waiting::Evaluations => "evaluations",
        }
    }
}

/// Ties the waiting rows of one workflow with these task sender ids to their new tasks.
pub(super) async fn claim_waiting(
    tx: &mut Tx,
    waiting: Waiting,
    workflow_id: i64,
    task_external_ids: &[&str],
) -> DbResult<u64> {
    let table = waiting.table();
    let mut claimed = 0;
    for chunk in task_external_ids.chunks(500) {
        claimed += on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(format!(
                "UPDATE {table} SET task_id = t.id FROM tasks t
                 WHERE t.workflow_id = {table}.workflow_id
                   AND t.external_id = {table}.task_external_id
                   AND {table}.task_id IS NULL AND {table}.workflow_id = "
            ));
            query
                .push_bind(workflow_id)
                .push(format!(" AND {table}.task_external_id IN ("));
            push_list(&mut query, chunk.iter().copied());
            query.push(")");
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(claimed)
}

pub async fn list_task_outcomes(db: &Db, task_id: i64) -> DbResult<Vec<OutcomeEvent>> {
    let sql = "SELECT * FROM outcome_events WHERE task_id = $1 ORDER BY occurred_at, id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(task_id).fetch_all(pool).await)?)
}

/// The content hash of the stored event with this sender id, if any.
pub async fn stored_outcome_hash(
    tx: &mut Tx,
    workflow_id: i64,
    external_id: &str,
) -> DbResult<Option<String>> {
    let sql = "SELECT content_hash FROM outcome_events WHERE workflow_id = $1 AND external_id = $2";
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(workflow_id).bind(external_id).fetch_optional(conn).await)?,
    )
}
