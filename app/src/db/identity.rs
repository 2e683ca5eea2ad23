//! Teams, users, sessions, sign-in attempts and API keys.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::domain::Micros;
use crate::domain::status::Role;
use crate::model::{ApiKey, KeyScope, Session, Team, User};

pub async fn insert_team(
    tx: &mut Tx,
    slug: &str,
    name: &str,
    labour_rate: Micros,
    at: i64,
) -> DbResult<i64> {
    let sql = "INSERT INTO teams (slug, name, labour_rate_micros_per_hour, created_at)
               VALUES ($1, $2, $3, $4) RETURNING id";
    Ok(
        on_tx!(tx, conn => sqlx::query_scalar(sql).bind(slug).bind(name).bind(labour_rate.0).bind(at).fetch_one(conn).await)?,
    )
}

/// Changes a team's loaded hourly rate. Labour is re-priced for all of the team's tasks, past
/// ones included (the rate is a correction of what an hour costs, not a dated price), so the
/// rollups of every day the team worked are recomputed in the same transaction.
pub async fn set_team_labour_rate(tx: &mut Tx, team_id: i64, labour_rate: Micros) -> DbResult<()> {
    let sql = "UPDATE teams SET labour_rate_micros_per_hour = $1 WHERE id = $2";
    execute!(tx, sqlx::query(sql).bind(labour_rate.0).bind(team_id))?;
    let spans = "SELECT workflow_id, MIN(started_at) / 86400000, MAX(started_at) / 86400000
                 FROM tasks WHERE team_id = $1 GROUP BY workflow_id";
    let spans: Vec<(i64, i64, i64)> =
        on_tx!(tx, conn => sqlx::query_as(spans).bind(team_id).fetch_all(conn).await)?;
    for (workflow_id, first_day, last_day) in spans {
        super::rollup::refresh_slices(tx, workflow_id, first_day, last_day).await?;
    }
    Ok(())
}

pub async fn list_teams(db: &Db) -> DbResult<Vec<Team>> {
    let sql = "SELECT * FROM teams ORDER BY name";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn get_team(db: &Db, id: i64) -> DbResult<Team> {
    let sql = "SELECT * FROM teams WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)?)
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub can_edit_costs: bool,
    pub is_demo: bool,
    /// A generated password its owner must replace at first sign-in.
    pub must_change_password: bool,
}

pub async fn insert_user(tx: &mut Tx, user: &NewUser<'_>, at: i64) -> DbResult<i64> {
    let sql = "INSERT INTO users (email, name, password_hash, role, can_edit_costs, is_demo,
                                  must_change_password, created_at, password_changed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(user.email.to_lowercase())
        .bind(user.name)
        .bind(user.password_hash)
        .bind(user.role.as_str())
        .bind(user.can_edit_costs)
        .bind(user.is_demo)
        .bind(user.must_change_password)
        .bind(at)
        .fetch_one(conn)
        .await)?)
}

pub async fn get_user(db: &Db, id: i64) -> DbResult<User> {
    let sql = "SELECT * FROM users WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)?)
}

pub async fn find_user_by_email(db: &Db, email: &str) -> DbResult<Option<User>> {
    let sql = "SELECT * FROM users WHERE email = $1";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(email.trim().to_lowercase()).fetch_optional(pool).await)?,
    )
}

pub async fn list_users(db: &Db) -> DbResult<Vec<User>> {
    let sql = "SELECT * FROM users ORDER BY email";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn count_users(db: &Db) -> DbResult<i64> {
    let sql = "SELECT COUNT(*) FROM users";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await)?)
}

/// Stores a new password hash. `must_change` marks a generated password its owner must replace.
pub async fn set_password_hash(
    tx: &mut Tx,
    user_id: i64,
    hash: &str,
    must_change: bool,
    at: i64,
) -> DbResult<()> {
    let sql = "UPDATE users SET password_hash = $1, password_changed_at = $2,
                                must_change_password = $3
               WHERE id = $4";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(hash)
            .bind(at)
            .bind(must_change)
            .bind(user_id)
    )?;
    Ok(())
}

/// Changes what a user may do.
pub async fn set_user_access(
    tx: &mut Tx,
    user_id: i64,
    role: Role,
    can_edit_costs: bool,
) -> DbResult<()> {
    let sql = "UPDATE users SET role = $1, can_edit_costs = $2 WHERE id = $3";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(role.as_str())
            .bind(can_edit_costs)
            .bind(user_id)
    )?;
    Ok(())
}

/// Disables (`Some(at)`) or re-enables (`None`) an account.
pub async fn set_user_disabled(
    tx: &mut Tx,
    user_id: i64,
    disabled_at: Option<i64>,
) -> DbResult<()> {
    let sql = "UPDATE users SET disabled_at = $1 WHERE id = $2";
    execute!(tx, sqlx::query(sql).bind(disabled_at).bind(user_id))?;
    Ok(())
}

/// Replaces a user's teams.
pub async fn set_user_teams(tx: &mut Tx, user_id: i64, team_ids: &[i64]) -> DbResult<()> {
    let sql = "DELETE FROM user_teams WHERE user_id = $1";
    execute!(tx, sqlx::query(sql).bind(user_id))?;
    for team_id in team_ids {
        add_user_to_team(tx, user_id, *team_id).await?;
    }
    Ok(())
}

/// Every (user, team) membership.
pub async fn memberships(db: &Db) -> DbResult<Vec<(i64, i64)>> {
    let sql = "SELECT user_id, team_id FROM user_teams ORDER BY user_id, team_id";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn add_user_to_team(tx: &mut Tx, user_id: i64, team_id: i64) -> DbResult<()> {
    let sql = "INSERT INTO user_teams (user_id, team_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    execute!(tx, sqlx::query(sql).bind(user_id).bind(team_id))?;
    Ok(())
}

pub async fn user_team_ids(db: &Db, user_id: i64) -> DbResult<Vec<i64>> {
    let sql = "SELECT team_id FROM user_teams WHERE user_id = $1 ORDER BY team_id";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).bind(user_id).fetch_all(pool).await)?)
}

pub async fn insert_session(tx: &mut Tx, session: &Session) -> DbResult<()> {
    let sql = "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
               VALUES ($1, $2, $3, $4, $5)";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(&session.id_hash)
            .bind(session.user_id)
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .bind(session.expires_at)
    )?;
    Ok(())
}

/// The session with this id hash, if it is neither expired nor revoked at `now`.
pub async fn live_session(db: &Db, id_hash: &str, now: i64) -> DbResult<Option<Session>> {
    let sql =
        "SELECT * FROM sessions WHERE id_hash = $1 AND revoked_at IS NULL AND expires_at > $2";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id_hash).bind(now).fetch_optional(pool).await)?)
}

pub async fn revoke_session(tx: &mut Tx, id_hash: &str, at: i64) -> DbResult<()> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL";
    execute!(tx, sqlx::query(sql).bind(at).bind(id_hash))?;
    Ok(())
}

pub async fn revoke_user_sessions(tx: &mut Tx, user_id: i64, at: i64) -> DbResult<u64> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
    let done = execute!(tx, sqlx::query(sql).bind(at).bind(user_id))?;
    Ok(done)
}

/// Records a sign-in attempt as failed before its password is checked, and returns its id with
/// the times of the other failures since `since` for this email (only those after its last
/// successful sign-in) and for this address. Recording and counting are one step, so that
/// attempts sent at once each see the ones before them: the insert comes first (on SQLite it
/// takes the database's write lock), and on PostgreSQL the email's and the address's advisory
/// locks are held until the transaction ends.
pub async fn claim_login_attempt(
    tx: &mut Tx,
    email: &str,
    address: &str,
    since: i64,
    at: i64,
) -> DbResult<(i64, Vec<i64>, Vec<i64>)> {
    if let Tx::Postgres(conn) = tx {
        let lock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
        for key in [
            format!("sign-in email {email}"),
            format!("sign-in address {address}"),
        ] {
            sqlx::query(lock).bind(key).execute(&mut **conn).await?;
        }
    }
    let insert = "INSERT INTO login_attempts (email, address, succeeded, at)
                  VALUES ($1, $2, FALSE, $3) RETURNING id";
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(insert).bind(email).bind(address).bind(at).fetch_one(conn).await)?;
    let by_email = "SELECT at FROM login_attempts
                    WHERE email = $1 AND NOT succeeded AND at >= $2 AND id <> $3
                      AND at > COALESCE(
                          (SELECT MAX(at) FROM login_attempts WHERE email = $1 AND succeeded), 0)
                    ORDER BY at";
    let by_address = "SELECT at FROM login_attempts
                      WHERE address = $1 AND NOT succeeded AND at >= $2 AND id <> $3 ORDER BY at";
    let email_times: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(by_email).bind(email).bind(since).bind(id).fetch_all(conn).await)?;
    let address_times: Vec<i64> = on_tx!(tx, conn => sqlx::query_scalar(by_address).bind(address).bind(since).bind(id).fetch_all(conn).await)?;
    Ok((id, email_times, address_times))
}

/// Marks a claimed sign-in attempt as the success it turned out to be.
pub async fn mark_login_succeeded(tx: &mut Tx, attempt_id: i64) -> DbResult<()> {
    let sql = "UPDATE login_attempts SET succeeded = TRUE WHERE id = $1";
    execute!(tx, sqlx::query(sql).bind(attempt_id))?;
    Ok(())
}

/// The signed-in user behind a session id hash: the session must be live and the account
/// enabled.
pub async fn session_user(db: &Db, id_hash: &str, now: i64) -> DbResult<Option<User>> {
    let sql = "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
                 AND u.disabled_at IS NULL";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id_hash).bind(now).fetch_optional(pool).await)?)
}

/// Forgets sign-in attempts and sessions that ended before `before`: they no longer count.
pub async fn prune_sign_in_records(db: &Db, before: i64) -> DbResult<u64> {
    let mut tx = db.begin().await?;
    let attempts = execute!(
        &mut tx,
        sqlx::query("DELETE FROM login_attempts WHERE at < $1").bind(before)
    )?;
    let sessions = execute!(
        &mut tx,
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(before)
    )?;
    tx.commit().await?;
    Ok(attempts + sessions)
}

pub async fn insert_api_key(
    tx: &mut Tx,
    name: &str,
    prefix: &str,
    key_hash: &str,
    created_by: Option<i64>,
    scopes: &[KeyScope],
    at: i64,
) -> DbResult<i64> {
    let sql = "INSERT INTO api_keys (name, prefix, key_hash, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let id: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(name).bind(prefix).bind(key_hash).bind(created_by).bind(at)
        .fetch_one(conn).await)?;
    for scope in scopes {
        let (team_id, workflow_id) = match *scope {
            KeyScope::Team(team) => (Some(team), None),
            KeyScope::Workflow(workflow) => (None, Some(workflow)),
        };
        let sql =
            "INSERT INTO api_key_scopes (api_key_id, team_id, workflow_id) VALUES ($1, $2, $3)";
        execute!(
            tx,
            sqlx::query(sql).bind(id).bind(team_id).bind(workflow_id)
        )?;
    }
    Ok(id)
}

/// The live (not revoked) key with this hash.
pub async fn find_api_key(db: &Db, key_hash: &str) -> DbResult<Option<ApiKey>> {
    let sql = "SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(key_hash).fetch_optional(pool).await)?)
}

pub async fn api_key_scopes(db: &Db, api_key_id: i64) -> DbResult<Vec<KeyScope>> {
    let sql = "SELECT team_id, workflow_id FROM api_key_scopes WHERE api_key_id = $1";
    let rows: Vec<(Option<i64>, Option<i64>)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(api_key_id).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row {
            (Some(team), _) => Some(KeyScope::Team(team)),
            (None, Some(workflow)) => Some(KeyScope::Workflow(workflow)),
            (None, None) => None,
        })
        .collect())
}

pub async fn list_api_keys(db: &Db) -> DbResult<Vec<ApiKey>> {
    let sql = "SELECT * FROM api_keys ORDER BY created_at DESC, id DESC";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

pub async fn get_api_key(db: &Db, id: i64) -> DbResult<Option<ApiKey>> {
    let sql = "SELECT * FROM api_keys WHERE id = $1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?)
}

/// Every key's scopes, by key id.
pub async fn all_api_key_scopes(db: &Db) -> DbResult<Vec<(i64, KeyScope)>> {
    let sql = "SELECT api_key_id, team_id, workflow_id FROM api_key_scopes";
    let rows: Vec<(i64, Option<i64>, Option<i64>)> =
        on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row {
            (key, Some(team), _) => Some((key, KeyScope::Team(team))),
            (key, None, Some(workflow)) => Some((key, KeyScope::Workflow(workflow))),
            (_, None, None) => None,
        })
        .collect())
}

pub async fn revoke_api_key(tx: &mut Tx, id: i64, at: i64) -> DbResult<bool> {
    let sql = "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
    let done = execute!(tx, sqlx::query(sql).bind(at).bind(id))?;
    Ok(done == 1)
}
