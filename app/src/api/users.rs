//! People and their roles: admins only.

#[cfg(feature = "ssr")]
use crate::domain::status::Role;
use crate::error::AppError;
use crate::views::users::{OneTimeSecret, UsersView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users() -> Result<UsersView, AppError> {
    use crate::api::context::*;

    viewer_who(|v| v.manages_users(), "managing people")?;
    crate::service::accounts::users_page(&db()?).await
}

/// Adds a person; their generated password is returned once and must be replaced when they
/// first sign in.
#[server(prefix = "/rpc", endpoint = "create_user")]
pub async fn create_user(
    email: String,
    name: String,
    role: String,
    teams: Option<Vec<i64>>,
    can_edit_costs: Option<String>,
) -> Result<OneTimeSecret, AppError> {
    use crate::api::context::*;
    use crate::service::accounts::{AccountForm, Actor};

    let viewer = viewer_who(|v| v.manages_users(), "managing people")?;
    let form = AccountForm {
        email: email.trim().to_lowercase(),
        name,
        role: parse_role(&role)?,
        team_ids: teams.unwrap_or_default(),
        can_edit_costs: can_edit_costs.is_some(),
    };
    let created = crate::service::accounts::create_user(
        &db()?,
        Actor::of(&viewer),
        &form,
        crate::db::now_ms(),
    )
    .await?;
    Ok(OneTimeSecret {
        email: form.email,
        password: created.password,
    })
}

/// Changes a person's role, teams and cost-editing permission.
#[server(prefix = "/rpc", endpoint = "update_user")]
pub async fn update_user(
    user_id: i64,
    role: String,
    teams: Option<Vec<i64>>,
    can_edit_costs: Option<String>,
) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::service::accounts::{AccountForm, Actor};

    let viewer = viewer_who(|v| v.manages_users(), "managing people")?;
    let form = AccountForm {
        email: String::new(),
        name: String::new(),
        role: parse_role(&role)?,
        team_ids: teams.unwrap_or_default(),
        can_edit_costs: can_edit_costs.is_some(),
    };
    crate::service::accounts::update_user(
        &db()?,
        Actor::of(&viewer),
        user_id,
        &form,
        crate::db::now_ms(),
    )
    .await
}

/// Disables an account (its sessions end at once) or enables it again.
#[server(prefix = "/rpc", endpoint = "set_user_enabled")]
pub async fn set_user_enabled(user_id: i64, enabled: bool) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.manages_users(), "managing people")?;
    crate::service::accounts::set_user_enabled(
        &db()?,
        Actor::of(&viewer),
        user_id,
        enabled,
        crate::db::now_ms(),
    )
    .await
}

/// Gives a person a new generated password, returned once; their sessions end.
#[server(prefix = "/rpc", endpoint = "reset_user_password")]
pub async fn reset_user_password(user_id: i64) -> Result<OneTimeSecret, AppError> {
    use crate::api::context::*;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.manages_users(), "managing people")?;
    let db = db()?;
    let reset = crate::service::accounts::reset_password(
        &db,
        Actor::of(&viewer),
        user_id,
        crate::db::now_ms(),
    )
    .await?;
    let user = crate::db::identity::get_user(&db, user_id).await?;
    Ok(OneTimeSecret {
        email: user.email,
        password: reset.password,
    })
}

#[cfg(feature = "ssr")]
fn parse_role(text: &str) -> Result<Role, AppError> {
    text.parse().map_err(|_| {
        AppError::from_field_problem("role: must be admin, owner, finance or reviewer")
    })
}
