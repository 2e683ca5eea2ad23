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
    page(db, &AuditSearch::default(), limit).await
}

/// Which entries a page of the log holds. Every condition is optional.
#[derive(Clone, Debug, Default)]
pub struct AuditSearch {
    /// Only entries about one of this user's teams (what an owner sees).
    pub member: Option<i64>,
    pub actor: Option<String>,
    /// An exact action code (`workflow.update`) or, without a dot, a family (`workflow`).
    pub action: Option<String>,
    /// `at` from (inclusive) and to (exclusive), in milliseconds.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Entries older than this id.
    pub before: Option<i64>,
}

/// Up to `limit` entries matching `search`, newest first.
pub async fn page(db: &Db, search: &AuditSearch, limit: i64) -> DbResult<Vec<AuditEntry>> {
    let family = search
        .action
        .as_deref()
        .filter(|a| !a.contains('.'))
        .map(|a| format!("{a}.%"));
    let exact = search.action.clone().filter(|a| a.contains('.'));
    let sql = "SELECT * FROM audit_log
               WHERE id < $1
                 AND ($2 IS NULL OR team_id IN (SELECT team_id FROM user_teams WHERE user_id = $2))
                 AND ($3 IS NULL OR actor = $3)
                 AND ($4 IS NULL OR action = $4)
                 AND ($5 IS NULL OR action LIKE $5)
                 AND ($6 IS NULL OR at >= $6)
                 AND ($7 IS NULL OR at < $7)
               ORDER BY id DESC LIMIT $8";
    Ok(on_db!(db, pool => sqlx::query_as(sql)
        .bind(search.before.unwrap_or(i64::MAX))
        .bind(search.member)
        .bind(search.actor.as_deref())
        .bind(exact.as_deref())
        .bind(family.as_deref())
        .bind(search.from_ms)
        .bind(search.to_ms)
        .bind(limit)
        .fetch_all(pool)
        .await)?)
}

/// The people and action codes of the entries an owner (`member`) or admin may see, for the
/// page's filters.
pub async fn actors_and_actions(
    db: &Db,
    member: Option<i64>,
) -> DbResult<(Vec<String>, Vec<String>)> {
    let scope = "($1 IS NULL OR team_id IN (SELECT team_id FROM user_teams WHERE user_id = $1))";
    let actors_sql = format!("SELECT DISTINCT actor FROM audit_log WHERE {scope} ORDER BY actor");
    let actions_sql =
        format!("SELECT DISTINCT action FROM audit_log WHERE {scope} ORDER BY action");
    let actors =
        on_db!(db, pool => sqlx::query_scalar(&actors_sql).bind(member).fetch_all(pool).await)?;
    let actions =
        on_db!(db, pool => sqlx::query_scalar(&actions_sql).bind(member).fetch_all(pool).await)?;
    Ok((actors, actions))
}
