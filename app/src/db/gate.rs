//! The autonomy gate's history: each evaluation with its evidence, and each level change.

use super::{Db, DbResult, Tx, on_db, on_tx};
use crate::model::{AutonomyChange, GateEvaluation};

pub async fn insert_gate_evaluation(tx: &mut Tx, evaluation: &GateEvaluation) -> DbResult<i64> {
    let sql = "INSERT INTO gate_evaluations (workflow_id, evaluated_at, window_start, window_end, sample,
                   successes, cpst_micros, previous_cpst_micros, quality_proven, cost_proven, evidence)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(evaluation.workflow_id)
        .bind(evaluation.evaluated_at)
        .bind(evaluation.window_start)
        .bind(evaluation.window_end)
        .bind(evaluation.sample)
        .bind(evaluation.successes)
        .bind(evaluation.cpst_micros)
        .bind(evaluation.previous_cpst_micros)
        .bind(evaluation.quality_proven)
        .bind(evaluation.cost_proven)
        .bind(&evaluation.evidence)
        .fetch_one(conn)
        .await)?)
}

pub async fn gate_history(db: &Db, workflow_id: i64) -> DbResult<Vec<GateEvaluation>> {
    let sql = "SELECT * FROM gate_evaluations WHERE workflow_id = $1 ORDER BY evaluated_at";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).fetch_all(pool).await)?)
}

pub async fn insert_autonomy_change(tx: &mut Tx, change: &AutonomyChange) -> DbResult<i64> {
    let sql = "INSERT INTO autonomy_changes (workflow_id, from_level, to_level, changed_by,
                   gate_evaluation_id, changed_at, note)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(change.workflow_id)
        .bind(change.from_level)
        .bind(change.to_level)
        .bind(change.changed_by)
        .bind(change.gate_evaluation_id)
        .bind(change.changed_at)
        .bind(&change.note)
        .fetch_one(conn)
        .await)?)
}

pub async fn autonomy_history(db: &Db, workflow_id: i64) -> DbResult<Vec<AutonomyChange>> {
    let sql = "SELECT * FROM autonomy_changes WHERE workflow_id = $1 ORDER BY changed_at";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(workflow_id).fetch_all(pool).await)?)
}

/// Each workflow's most recent gate evaluation.
pub async fn latest_evaluations(db: &Db) -> DbResult<Vec<GateEvaluation>> {
    let sql = "SELECT e.* FROM gate_evaluations e
               WHERE e.id = (SELECT l.id FROM gate_evaluations l WHERE l.workflow_id = e.workflow_id
                             ORDER BY l.evaluated_at DESC, l.id DESC LIMIT 1)
               ORDER BY e.workflow_id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}
