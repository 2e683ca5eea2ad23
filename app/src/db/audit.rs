//! The append-only audit log: who changed what the numbers depend on, and how.

use super::{Db, DbResult, Tx, on_db, on_tx};
use crate::model::AuditEntry;

pub struct NewAuditEntry<'a> {
    pub actor_user_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// Appends an entry inside the transaction that makes the change, so neither exists alone.
pub async fn append(tx: &mut Tx, entry: &NewAuditEntry<'_>, at: i64) -> DbResult<i64> {
    let sql =
        "INSERT INTO audit_log (at, actor_user_id, actor, action, entity, entity_id, before, after)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(at)
        .bind(entry.actor_user_id)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.entity)
        .bind(entry.entity_id)
        .bind(entry.before)
        .bind(entry.after)
        .fetch_one(conn)
        .await)?)
}

/// The newest entries first.
pub async fn recent(db: &Db, limit: i64) -> DbResult<Vec<AuditEntry>> {
    let sql = "SELECT * FROM audit_log ORDER BY at DESC, id DESC LIMIT $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await)?)
}
