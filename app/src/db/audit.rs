//! The append-only audit log: who changed what the numbers depend on, and how. The database
//! refuses updates and deletes of its rows (a trigger on each backend).

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
    /// The one team the change concerns, if it concerns exactly one (owners see those).
    pub team_id: Option<i64>,
}

/// Appends an entry inside the transaction that makes the change, so neither exists alone.
pub async fn append(tx: &mut Tx, entry: &NewAuditEntry<'_>, at: i64) -> DbResult<i64> {
    let sql = "INSERT INTO audit_log
                   (at, actor_user_id, actor, action, entity, entity_id, before, after, team_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(at)
        .bind(entry.actor_user_id)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.entity)
        .bind(entry.entity_id)
        .bind(entry.before)
        .bind(entry.after)
        .bind(entry.team_id)
        .fetch_one(conn)
        .await)?)
}

/// The newest entries first.
pub async fn recent(db: &Db, limit: i64) -> DbResult<Vec<AuditEntry>> {
    page(db, None, None, limit).await
}

/// Up to `limit` entries older than entry `before` (newest first); with `member`, only entries
/// about one of that user's teams (what an owner sees).
pub async fn page(
    db: &Db,
    member: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> DbResult<Vec<AuditEntry>> {
    let before = before.unwrap_or(i64::MAX);
    Ok(match member {
        None => {
            let sql = "SELECT * FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2";
            on_db!(db, pool => sqlx::query_as(sql).bind(before).bind(limit).fetch_all(pool).await)?
        }
        Some(user_id) => {
            let sql = "SELECT * FROM audit_log
                       WHERE id < $1
                         AND team_id IN (SELECT team_id FROM user_teams WHERE user_id = $3)
                       ORDER BY id DESC LIMIT $2";
            on_db!(db, pool => sqlx::query_as(sql)
                .bind(before)
                .bind(limit)
                .bind(user_id)
                .fetch_all(pool)
                .await)?
        }
    })
}
