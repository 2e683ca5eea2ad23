//! Fixed monthly platform costs allocated to workflows and teams.

use super::{Db, DbResult, Tx, on_db, on_tx};
use crate::model::PlatformCost;

pub async fn insert_platform_cost(tx: &mut Tx, cost: &PlatformCost) -> DbResult<i64> {
    let sql =
        "INSERT INTO platform_costs (name, workflow_id, team_id, monthly_micros, effective_from,
                   effective_to, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(&cost.name)
        .bind(cost.workflow_id)
        .bind(cost.team_id)
        .bind(cost.monthly_micros.0)
        .bind(cost.effective_from)
        .bind(cost.effective_to)
        .bind(cost.created_at)
        .fetch_one(conn)
        .await)?)
}

pub async fn list_platform_costs(db: &Db) -> DbResult<Vec<PlatformCost>> {
    let sql = "SELECT * FROM platform_costs ORDER BY name";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

/// Ends a cost: it no longer applies from `effective_to` on.
pub async fn end_platform_cost(tx: &mut Tx, id: i64, effective_to: i64) -> DbResult<bool> {
    let sql = "UPDATE platform_costs SET effective_to = $1
               WHERE id = $2 AND (effective_to IS NULL OR effective_to > $1)";
    let done = super::execute!(tx, sqlx::query(sql).bind(effective_to).bind(id))?;
    Ok(done == 1)
}
