//! Accounts: sign-in with throttling, sessions and their cookie, password changes, user
//! administration and API keys. Every change is written to the audit log in the transaction
//! that makes it. Callers check permissions first (`crate::views::access`); these functions do what
//! they are told.

use crate::db::audit::{NewAuditEntry, append};
use crate::db::{Db, DbError, Tx, identity, workflow};
use crate::domain::status::Role;
use crate::error::AppError;
use crate::model::{KeyScope, Session, User};
use crate::service::access::local_path;
use crate::service::auth::{
    generate_api_key, generate_password, generate_session_id, hash_password, password_problem,
    verify_password, verify_password_or_dummy,
};
use crate::views::access::Viewer;
use crate::views::account::Problem;
use crate::views::format::encode_query_value;
use crate::views::keys::{IssuedKeyView, KeyRow, KeysView, ScopeOption};
use crate::views::users::{TeamOption, UserRow, UsersView};
use serde_json::json;

/// Failed sign-ins are counted over this window...
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60_000;
/// ...and this many for one account (since its last success) lock it for the rest of it,
pub const MAX_ACCOUNT_FAILURES: usize = 5;
/// as do this many from one address, whatever the accounts tried.
pub const MAX_ADDRESS_FAILURES: usize = 20;

/// How sessions are kept.
#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// A session ends this long after sign-in.
    pub ttl_ms: i64,
    /// Mark the cookie `Secure` (and name it `__Host-…`): required when served over HTTPS.
    pub secure_cookies: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            ttl_ms: 12 * 3_600_000,
            secure_cookies: false,
        }
    }
}

impl SessionSettings {
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-finishline_session"
        } else {
            "finishline_session"
        }
    }

    /// The `Set-Cookie` value that hands a browser its session id.
    pub fn session_cookie(&self, secret: &str) -> String {
        format!(
            "{}={secret}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
            self.cookie_name(),
            self.ttl_ms / 1000,
            if self.secure_cookies { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` value that makes a browser forget its session id.
    pub fn cleared_cookie(&self) -> String {
        format!(
            "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
            self.cookie_name(),
            if self.secure_cookies { "; Secure" } else { "" }
        )
    }
}

/// Who makes a change, as the audit log names them.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub user_id: Option<i64>,
    pub name: &'a str,
}

impl<'a> Actor<'a> {
    pub fn of(viewer: &'a Viewer) -> Actor<'a> {
        Actor {
            user_id: Some(viewer.user_id),
            name: &viewer.email,
        }
    }
}

/// A field the person filled in that is not acceptable, with a reason fit to show them.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> AppError {
    AppError::invalid(field, reason)
}

/// A name people chose (of a person, a key, a team, a cost): 1 to 100 characters once trimmed.
pub(crate) fn check_name(field: &'static str, text: &str) -> Result<(), AppError> {
    let chars = text.trim().chars().count();
    if chars == 0 || chars > 100 {
        return Err(invalid(field, "must be 1 to 100 characters"));
    }
    Ok(())
}

/// The signed-in person behind a user row.
pub async fn viewer_of(db: &Db, user: User) -> Result<Viewer, DbError> {
    let team_ids = identity::user_team_ids(db, user.id).await?;
    Ok(Viewer {
        user_id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        team_ids,
        can_edit_costs: user.can_edit_costs,
        is_demo: user.is_demo,
        must_change_password: user.must_change_password,
    })
}

/// The viewer a session id (from the cookie) belongs to, if the session is live.
pub async fn viewer_for_session(
    db: &Db,
    id_hash: &str,
    now: i64,
) -> Result<Option<Viewer>, DbError> {
    match identity::session_user(db, id_hash, now).await? {
        Some(user) => Ok(Some(viewer_of(db, user).await?)),
        None => Ok(None),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password or disabled account: deliberately the same answer.
    #[error("The email or password is incorrect.")]
    Incorrect,
    #[error("Too many failed sign-ins for this account or from this address.")]
    Throttled { retry_after_ms: i64 },
    #[error(transparent)]
    Storage(#[from] DbError),
}

/// What the server learned about a request's sender before any page or server function ran.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub viewer: Viewer,
    /// The stored digest of the session id, to end this session on sign-out.
    pub session_hash: String,
}

/// The address sign-in throttling counts failures against.
#[derive(Clone, Debug)]
pub struct ClientAddress(pub String);

/// A session that has just begun: the secret goes into the cookie, never into storage.
pub struct StartedSession {
    pub viewer: Viewer,
    pub secret: String,
}

/// Checks a password and starts a session. Every attempt is recorded as failed before its
/// password is checked (and marked successful after); once an account or an address has failed
/// too often, attempts are refused without checking. Recording and counting are one step, so
/// attempts sent at once cannot all slip under the limit.
pub async fn sign_in(
    db: &Db,
    email: &str,
    password: String,
    address: &str,
    settings: &SessionSettings,
    now: i64,
) -> Result<StartedSession, SignInError> {
    let email: String = email.trim().to_lowercase().chars().take(254).collect();
    let since = now - THROTTLE_WINDOW_MS;
    let mut tx = db.begin().await?;
    let (attempt, by_email, by_address) =
        identity::claim_login_attempt(&mut tx, &email, address, since, now).await?;
    let unlocks_at = [
        (by_email, MAX_ACCOUNT_FAILURES),
        (by_address, MAX_ADDRESS_FAILURES),
    ]
    .iter()
    .filter(|(times, limit)| times.len() >= *limit)
    .map(|(times, limit)| times[times.len() - limit] + THROTTLE_WINDOW_MS)
    .max();
    if let Some(unlocks_at) = unlocks_at {
        // Dropping the transaction forgets the claim: a refused attempt is not a failure.
        return Err(SignInError::Throttled {
            retry_after_ms: (unlocks_at - now).max(1_000),
        });
    }
    tx.commit().await?;
    let user = identity::find_user_by_email(db, &email).await?;
    let matches =
        verify_password_or_dummy(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else {
        return Err(SignInError::Incorrect);
    };
    let mut tx = db.begin().await?;
    identity::mark_login_succeeded(&mut tx, attempt).await?;
    let secret = start_session(&mut tx, user.id, settings, now).await?;
    tx.commit().await?;
    Ok(StartedSession {
        viewer: viewer_of(db, user).await?,
        secret,
    })
}

/// Where a form that was answered sends the browser next, with the session cookie to set.
pub struct Landing {
    pub cookie: String,
    pub to: String,
}

/// A refused form: the page that names the problem, for a plain form post (none when the
/// problem is not the form's, as when storage fails), and the error a call from code receives.
pub struct FormRefusal {
    pub back_to: Option<String>,
    pub error: AppError,
}

/// The sign-in form: starts a session and lands on `next` when it is a local page (never the
/// sign-in page itself), on the account page when the password must change first, or on the
/// role's first page; a refusal goes back to the sign-in page, keeping `next`.
pub async fn sign_in_form(
    db: &Db,
    (email, password, next): (&str, String, Option<&str>),
    address: &str,
    settings: &SessionSettings,
    now: i64,
) -> Result<Landing, FormRefusal> {
    let next = next.and_then(local_path);
    let refuse = |problem: Problem, error: AppError| {
        let mut back_to = format!("/sign-in?problem={}", problem.code());
        if let Some(next) = &next {
            back_to.push_str("&next=");
            back_to.push_str(&encode_query_value(next));
        }
        FormRefusal {
            back_to: Some(back_to),
            error,
        }
    };
    match sign_in(db, email, password, address, settings, now).await {
        Ok(started) => {
            let to = match next.as_deref() {
                _ if started.viewer.must_change_password => "/account",
                Some(next) if !next.starts_with("/sign-in") => next,
                _ => started.viewer.landing(),
            };
            Ok(Landing {
                cookie: settings.session_cookie(&started.secret),
                to: to.to_owned(),
            })
        }
        Err(SignInError::Incorrect) => Err(refuse(
            Problem::Incorrect,
            AppError::unauthorized(Problem::Incorrect.message()),
        )),
        Err(SignInError::Throttled { retry_after_ms }) => {
            let seconds = (retry_after_ms + 999) / 1000;
            let minutes = (seconds + 59) / 60;
            let message = format!(
                "Too many failed sign-ins for this account or from this address. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            );
            let retry_after = u64::try_from(seconds).unwrap_or(u64::MAX);
            Err(refuse(
                Problem::Throttled,
                AppError::RateLimited {
                    message,
                    retry_after,
                },
            ))
        }
        Err(SignInError::Storage(err)) => Err(FormRefusal {
            back_to: None,
            error: err.into(),
        }),
    }
}

/// The password form: the new password typed twice, then [`change_password`]; lands back on
/// the account page, saying what was wrong or that it changed.
pub async fn change_password_form(
    db: &Db,
    viewer: &Viewer,
    (current, new, confirm): (String, String, String),
    settings: &SessionSettings,
    now: i64,
) -> Result<Landing, FormRefusal> {
    let refuse = |problem: Problem, error: AppError| FormRefusal {
        back_to: Some(format!("/account?problem={}", problem.code())),
        error,
    };
    if new != confirm {
        let label = "New password, again";
        let error =
            AppError::invalid_labelled("confirm_password", label, Problem::Mismatch.message());
        return Err(refuse(Problem::Mismatch, error));
    }
    match change_password(db, viewer, current, new, settings, now).await {
        Ok(secret) => Ok(Landing {
            cookie: settings.session_cookie(&secret),
            to: "/account?changed=1".to_owned(),
        }),
        Err(AppError::InvalidParameter { field, reason, .. }) => {
            let problem = match (field.as_str(), reason.as_str()) {
                ("current_password", _) => Problem::Current,
                (_, "must differ from the current password") => Problem::Same,
                _ => Problem::Policy,
            };
            Err(refuse(
                problem,
                AppError::invalid(&field, problem.message()),
            ))
        }
        Err(error) => Err(FormRefusal {
            back_to: None,
            error,
        }),
    }
}

async fn start_session(
    tx: &mut Tx,
    user_id: i64,
    settings: &SessionSettings,
    now: i64,
) -> Result<String, DbError> {
    let id = generate_session_id();
    let session = Session {
        id_hash: id.hash,
        user_id,
        created_at: now,
        last_seen_at: now,
        expires_at: now + settings.ttl_ms,
        revoked_at: None,
    };
    identity::insert_session(tx, &session).await?;
    Ok(id.secret)
}

/// Ends one session.
pub async fn sign_out(db: &Db, id_hash: &str, now: i64) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    identity::revoke_session(&mut tx, id_hash, now).await?;
    tx.commit().await
}

/// Replaces the viewer's password after checking the current one. Every session of the account
/// ends (a stolen cookie dies with the old password); the new session returned keeps this
/// browser signed in.
pub async fn change_password(
    db: &Db,
    viewer: &Viewer,
    current: String,
    new: String,
    settings: &SessionSettings,
    now: i64,
) -> Result<String, AppError> {
    if let Some(reason) = password_problem(&new, &viewer.email) {
        return Err(invalid("new_password", reason));
    }
    if new == current {
        return Err(invalid(
            "new_password",
            "must differ from the current password",
        ));
    }
    let user = identity::get_user(db, viewer.user_id).await?;
    if !verify_password(current, user.password_hash).await {
        return Err(invalid("current_password", "is not your current password"));
    }
    let hash = hash_password(new)
        .await
        .map_err(|err| invalid("new_password", err.to_string()))?;
    let mut tx = db.begin().await?;
    identity::set_password_hash(&mut tx, user.id, &hash, false, now).await?;
    identity::revoke_user_sessions(&mut tx, user.id, now).await?;
    let secret = start_session(&mut tx, user.id, settings, now).await?;
    audit(
        &mut tx,
        Actor::of(viewer),
        ("password.change", "user", user.id),
        (None, None),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// What an admin fills in for a person.
#[derive(Clone, Debug)]
pub struct AccountForm {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_ids: Vec<i64>,
    pub can_edit_costs: bool,
}

impl AccountForm {
    fn check(&self, db_teams: &[i64]) -> Result<(), AppError> {
        let email = self.email.trim();
        if email.len() > 254 || !looks_like_email(email) {
            return Err(invalid(
                "email",
                "must be an email address like name@example.com",
            ));
        }
        check_name("name", &self.name)?;
        if let Some(team) = self.team_ids.iter().find(|t| !db_teams.contains(t)) {
            return Err(invalid("teams", format!("team {team} does not exist")));
        }
        if self.can_edit_costs && self.role != Role::Finance {
            return Err(invalid(
                "can_edit_costs",
                "is for finance people (admins edit costs anyway)",
            ));
        }
        Ok(())
    }

    fn audit_json(&self) -> String {
        json!({
            "email": self.email.trim().to_lowercase(),
            "name": self.name.trim(),
            "role": self.role.as_str(),
            "teams": self.team_ids,
            "can_edit_costs": self.can_edit_costs,
        })
        .to_string()
    }
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// A password made for someone else: shown once, replaced at their first sign-in.
pub struct OneTimePassword {
    pub user_id: i64,
    pub password: String,
}

/// Creates an account with a generated password its owner must replace when signing in.
pub async fn create_user(
    db: &Db,
    actor: Actor<'_>,
    form: &AccountForm,
    now: i64,
) -> Result<OneTimePassword, AppError> {
    let password = generate_password();
    let user_id = insert_account(db, actor, form, password.clone(), true, now).await?;
    Ok(OneTimePassword { user_id, password })
}

/// Checks the form, then stores the account with `password` (hashed) and its teams, audited.
async fn insert_account(
    db: &Db,
    actor: Actor<'_>,
    form: &AccountForm,
    password: String,
    must_change_password: bool,
    now: i64,
) -> Result<i64, AppError> {
    let teams: Vec<i64> = identity::list_teams(db)
        .await?
        .iter()
        .map(|t| t.id)
        .collect();
    form.check(&teams)?;
    if identity::find_user_by_email(db, &form.email)
        .await?
        .is_some()
    {
        return Err(invalid("email", "already has an account"));
    }
    let hash = hash_password(password)
        .await
        .map_err(|err| invalid("password", err.to_string()))?;
    let mut tx = db.begin().await?;
    let user = identity::NewUser {
        email: form.email.trim(),
        name: form.name.trim(),
        password_hash: &hash,
        role: form.role,
        can_edit_costs: form.can_edit_costs,
        is_demo: false,
        must_change_password,
    };
    let user_id = identity::insert_user(&mut tx, &user, now).await?;
    identity::set_user_teams(&mut tx, user_id, &form.team_ids).await?;
    audit(
        &mut tx,
        actor,
        ("user.create", "user", user_id),
        (None, Some(form.audit_json())),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

/// The first admin of an installation: only when there is no account yet. The password is
/// `password` or, without one, generated (and must then be replaced at first sign-in), in which
/// case it is returned to be shown once.
pub async fn create_first_admin(
    db: &Db,
    email: &str,
    password: Option<String>,
    now: i64,
) -> Result<Option<String>, AppError> {
    if identity::count_users(db).await? > 0 {
        return Err(invalid(
            "email",
            "an account exists already; sign in as an admin to add people",
        ));
    }
    if let Some(reason) = password.as_deref().and_then(|p| password_problem(p, email)) {
        return Err(invalid("password", reason));
    }
    let form = AccountForm {
        email: email.to_owned(),
        name: "Administrator".to_owned(),
        role: Role::Admin,
        team_ids: Vec::new(),
        can_edit_costs: false,
    };
    let setup = Actor {
        user_id: None,
        name: "setup",
    };
    let generated = password.is_none();
    let password = password.unwrap_or_else(generate_password);
    insert_account(db, setup, &form, password.clone(), generated, now).await?;
    Ok(generated.then_some(password))
}

/// Changes a person's role, teams and cost-editing permission. The last enabled admin cannot
/// stop being one.
pub async fn update_user(
    db: &Db,
    actor: Actor<'_>,
    user_id: i64,
    form: &AccountForm,
    now: i64,
) -> Result<(), AppError> {
    let before = identity::get_user(db, user_id)
        .await
        .map_err(|err| not_found(err, "user"))?;
    let teams: Vec<i64> = identity::list_teams(db)
        .await?
        .iter()
        .map(|t| t.id)
        .collect();
    let form = AccountForm {
        email: before.email.clone(),
        name: before.name.clone(),
        ..form.clone()
    };
    form.check(&teams)?;
    if before.role == Role::Admin && form.role != Role::Admin {
        ensure_another_admin(db, user_id).await?;
    }
    let previous = AccountForm {
        email: before.email.clone(),
        name: before.name.clone(),
        role: before.role,
        team_ids: identity::user_team_ids(db, user_id).await?,
        can_edit_costs: before.can_edit_costs,
    };
    let mut tx = db.begin().await?;
    identity::set_user_access(&mut tx, user_id, form.role, form.can_edit_costs).await?;
    identity::set_user_teams(&mut tx, user_id, &form.team_ids).await?;
    audit(
        &mut tx,
        actor,
        ("user.update", "user", user_id),
        (Some(previous.audit_json()), Some(form.audit_json())),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables an account (ending its sessions at once) or enables it again.
pub async fn set_user_enabled(
    db: &Db,
    actor: Actor<'_>,
    user_id: i64,
    enabled: bool,
    now: i64,
) -> Result<(), AppError> {
    let user = identity::get_user(db, user_id)
        .await
        .map_err(|err| not_found(err, "user"))?;
    if !enabled && actor.user_id == Some(user_id) {
        return Err(invalid("user", "you cannot disable your own account"));
    }
    if !enabled && user.role == Role::Admin {
        ensure_another_admin(db, user_id).await?;
    }
    let mut tx = db.begin().await?;
    identity::set_user_disabled(&mut tx, user_id, (!enabled).then_some(now)).await?;
    if !enabled {
        identity::revoke_user_sessions(&mut tx, user_id, now).await?;
    }
    let (action, before, after) = if enabled {
        ("user.enable", "disabled", "enabled")
    } else {
        ("user.disable", "enabled", "disabled")
    };
    audit(
        &mut tx,
        actor,
        (action, "user", user_id),
        (Some(before.to_owned()), Some(after.to_owned())),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives an account a new generated password (to be replaced at its next sign-in) and ends its
/// sessions.
pub async fn reset_password(
    db: &Db,
    actor: Actor<'_>,
    user_id: i64,
    now: i64,
) -> Result<OneTimePassword, AppError> {
    identity::get_user(db, user_id)
        .await
        .map_err(|err| not_found(err, "user"))?;
    let password = generate_password();
    let hash = hash_password(password.clone())
        .await
        .map_err(|err| invalid("password", err.to_string()))?;
    let mut tx = db.begin().await?;
    identity::set_password_hash(&mut tx, user_id, &hash, true, now).await?;
    identity::revoke_user_sessions(&mut tx, user_id, now).await?;
    audit(
        &mut tx,
        actor,
        ("password.reset", "user", user_id),
        (None, None),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(OneTimePassword { user_id, password })
}

async fn ensure_another_admin(db: &Db, user_id: i64) -> Result<(), AppError> {
    let others = identity::list_users(db)
        .await?
        .into_iter()
        .filter(|u| u.id != user_id && u.role == Role::Admin && u.disabled_at.is_none())
        .count();
    if others == 0 {
        return Err(invalid(
            "role",
            "this is the last enabled admin; make someone else an admin first",
        ));
    }
    Ok(())
}

fn not_found(err: DbError, what: &'static str) -> AppError {
    match err {
        DbError::NotFound => AppError::not_found(what),
        other => AppError::from(other),
    }
}

/// A key just made: the secret is shown once and never stored.
pub struct IssuedKey {
    pub id: i64,
    pub prefix: String,
    pub secret: String,
}

/// Creates an API key for the given scopes (none: every workflow).
pub async fn issue_api_key(
    db: &Db,
    actor: Actor<'_>,
    name: &str,
    scopes: &[KeyScope],
    now: i64,
) -> Result<IssuedKey, AppError> {
    check_name("name", name)?;
    let name = name.trim();
    let team = scopes_team(db, scopes).await?;
    let key = generate_api_key();
    let mut tx = db.begin().await?;
    let id = identity::insert_api_key(
        &mut tx,
        name,
        &key.prefix,
        &key.hash,
        actor.user_id,
        scopes,
        now,
    )
    .await?;
    let after = json!({ "name": name, "prefix": key.prefix, "scopes": scopes }).to_string();
    audit(
        &mut tx,
        actor,
        ("key.create", "api_key", id),
        (None, Some(after)),
        team,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedKey {
        id,
        prefix: key.prefix,
        secret: key.secret,
    })
}

/// Revokes a key: requests carrying it are refused from the next one on.
pub async fn revoke_api_key(
    db: &Db,
    actor: Actor<'_>,
    key_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let key = identity::get_api_key(db, key_id)
        .await?
        .ok_or(AppError::not_found("API key"))?;
    let team = scopes_team(db, &identity::api_key_scopes(db, key_id).await?).await?;
    let mut tx = db.begin().await?;
    if !identity::revoke_api_key(&mut tx, key_id, now).await? {
        return Err(invalid("key", "is already revoked"));
    }
    audit(
        &mut tx,
        actor,
        ("key.revoke", "api_key", key_id),
        (Some(key.prefix.clone()), None),
        team,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The key form of `viewer`: `scopes` as ticked (`team:<id>`, `workflow:<id>`, or `all` alone
/// for every workflow, admins only), each inside the teams `viewer` manages. Nothing ticked is
/// refused rather than read as every workflow. The secret is returned once.
pub async fn create_key_for(
    db: &Db,
    viewer: &Viewer,
    name: &str,
    scopes: &[String],
    now: i64,
) -> Result<IssuedKeyView, AppError> {
    let every_workflow = scopes.iter().any(|s| s == ALL_WORKFLOWS);
    match (every_workflow, scopes.len()) {
        (_, 0) => {
            let reason = "choose the teams or workflows this key may send for, or all workflows";
            return Err(AppError::invalid_labelled("scopes", "May send for", reason));
        }
        (true, 2..) => {
            let reason = "all workflows stands alone: untick it, or untick the teams and workflows";
            return Err(AppError::invalid_labelled("scopes", "May send for", reason));
        }
        _ => {}
    }
    let scopes = scopes
        .iter()
        .filter(|text| *text != ALL_WORKFLOWS)
        .map(|text| {
            KeyScope::from_form_value(text).ok_or_else(|| {
                AppError::from_field_problem("scopes: each must be team:<id> or workflow:<id>")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let workflows = workflow::list_workflows(db).await?;
    let team_of = |id: i64| workflows.iter().find(|w| w.id == id).map(|w| w.team_id);
    if !viewer.manages_key_scopes(&scopes, team_of) {
        return Err(AppError::forbidden(if scopes.is_empty() {
            "scopes: choose at least one of your teams or workflows; only admins make keys for every workflow"
        } else {
            "scopes: a key may only cover your own teams' workflows"
        }));
    }
    let issued = issue_api_key(db, Actor::of(viewer), name, &scopes, now).await?;
    Ok(IssuedKeyView {
        name: name.trim().to_owned(),
        prefix: issued.prefix,
        secret: issued.secret,
    })
}

/// The form value of the scope that covers every workflow.
pub const ALL_WORKFLOWS: &str = "all";

/// Revokes a key `viewer` manages; any other key, revoked or not, existing or not, gets the
/// same "not found" (no probing other teams' keys).
pub async fn revoke_key_for(
    db: &Db,
    viewer: &Viewer,
    key_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let scopes = identity::api_key_scopes(db, key_id).await?;
    let workflows = workflow::list_workflows(db).await?;
    let team_of = |id: i64| workflows.iter().find(|w| w.id == id).map(|w| w.team_id);
    if !viewer.manages_key_scopes(&scopes, team_of) {
        return Err(AppError::not_found("API key"));
    }
    revoke_api_key(db, Actor::of(viewer), key_id, now).await
}

/// The one team all of a key's scopes lie in, if they lie in one.
async fn scopes_team(db: &Db, scopes: &[KeyScope]) -> Result<Option<i64>, AppError> {
    let workflows = workflow::list_workflows(db).await?;
    let mut teams = Vec::new();
    for scope in scopes {
        let team = match *scope {
            KeyScope::Team(team) => team,
            KeyScope::Workflow(id) => workflows
                .iter()
                .find(|w| w.id == id)
                .map(|w| w.team_id)
                .ok_or_else(|| invalid("scopes", format!("workflow {id} does not exist")))?,
        };
        teams.push(team);
    }
    teams.dedup();
    Ok(match teams.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

pub(crate) async fn audit(
    tx: &mut Tx,
    actor: Actor<'_>,
    (action, entity, entity_id): (&str, &str, i64),
    (before, after): (Option<String>, Option<String>),
    team_id: Option<i64>,
    now: i64,
) -> Result<(), DbError> {
    let entry = NewAuditEntry {
        actor_user_id: actor.user_id,
        actor: actor.name,
        action,
        entity,
        entity_id: &entity_id.to_string(),
        before: before.as_deref(),
        after: after.as_deref(),
        team_id,
    };
    append(tx, &entry, now).await.map(|_| ())
}

/// The API keys `viewer` may manage, each with its scopes in words, and the scopes a new key
/// may take.
pub async fn keys_page(db: &Db, viewer: &Viewer) -> Result<KeysView, AppError> {
    let load = async {
        let teams = identity::list_teams(db).await?;
        let workflows = workflow::list_workflows(db).await?;
        let keys = identity::list_api_keys(db).await?;
        let scopes = identity::all_api_key_scopes(db).await?;
        let team_of = |id: i64| workflows.iter().find(|w| w.id == id).map(|w| w.team_id);
        let label = |scope: &KeyScope| match *scope {
            KeyScope::Team(id) => teams
                .iter()
                .find(|t| t.id == id)
                .map(|t| format!("team {}", t.name))
                .unwrap_or_else(|| format!("team {id}")),
            KeyScope::Workflow(id) => workflows
                .iter()
                .find(|w| w.id == id)
                .map(|w| format!("workflow {}", w.name))
                .unwrap_or_else(|| format!("workflow {id}")),
        };
        let rows = keys
            .into_iter()
            .filter_map(|key| {
                let own: Vec<KeyScope> = scopes
                    .iter()
                    .filter(|(id, _)| *id == key.id)
                    .map(|(_, scope)| *scope)
                    .collect();
                viewer.manages_key_scopes(&own, team_of).then(|| KeyRow {
                    id: key.id,
                    name: key.name,
                    prefix: key.prefix,
                    scopes: if own.is_empty() {
                        vec!["every workflow".to_owned()]
                    } else {
                        own.iter().map(label).collect()
                    },
                    created_at: key.created_at,
                    revoked_at: key.revoked_at,
                })
            })
            .collect();
        let team_options = teams
            .iter()
            .filter(|t| viewer.manages_key_scopes(&[KeyScope::Team(t.id)], team_of))
            .map(|t| ScopeOption {
                value: KeyScope::Team(t.id).form_value(),
                label: format!("Team {}", t.name),
            });
        let workflow_options = workflows
            .iter()
            .filter(|w| viewer.manages_key_scopes(&[KeyScope::Workflow(w.id)], team_of))
            .map(|w| ScopeOption {
                value: KeyScope::Workflow(w.id).form_value(),
                label: format!("Workflow {}", w.name),
            });
        Ok::<_, crate::db::DbError>(KeysView {
            keys: rows,
            scope_options: team_options.chain(workflow_options).collect(),
            may_create_unscoped: viewer.manages_key_scopes(&[], team_of),
        })
    };
    load.await.map_err(AppError::from)
}

/// Everyone with an account, with their teams, and the teams a person may join.
pub async fn users_page(db: &Db) -> Result<UsersView, AppError> {
    let load = async {
        let memberships = identity::memberships(db).await?;
        let users = identity::list_users(db).await?;
        let teams = identity::list_teams(db).await?;
        Ok::<_, crate::db::DbError>(UsersView {
            users: users
                .into_iter()
                .map(|u| UserRow {
                    team_ids: memberships
                        .iter()
                        .filter(|(user, _)| *user == u.id)
                        .map(|(_, team)| *team)
                        .collect(),
                    id: u.id,
                    email: u.email,
                    name: u.name,
                    role: u.role,
                    can_edit_costs: u.can_edit_costs,
                    is_demo: u.is_demo,
                    disabled: u.disabled_at.is_some(),
                    must_change_password: u.must_change_password,
                })
                .collect(),
            teams: teams
                .into_iter()
                .map(|t| TeamOption {
                    id: t.id,
                    name: t.name,
                })
                .collect(),
        })
    };
    load.await.map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_when_asked() {
        let plain = SessionSettings::default();
        let cookie = plain.session_cookie("abc");
        assert_eq!(
            cookie,
            "finishline_session=abc; Path=/; Max-Age=43200; HttpOnly; SameSite=Lax"
        );
        let secure = SessionSettings {
            secure_cookies: true,
            ..plain
        };
        assert!(
            secure
                .session_cookie("abc")
                .starts_with("__Host-finishline_session=abc;")
        );
        assert!(secure.session_cookie("abc").ends_with("; Secure"));
        assert!(secure.cleared_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(looks_like_email("ana@example.com"));
        assert!(!looks_like_email("ana@localhost"));
        assert!(!looks_like_email("@example.com"));
        assert!(!looks_like_email("ana example@example.com"));
        assert!(!looks_like_email("ana@@example.com"));
    }
}
