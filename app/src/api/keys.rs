//! API keys for the systems that send data: admins manage every key, owners the keys whose
//! scopes lie inside their teams.

use crate::error::AppError;
use crate::views::keys::{IssuedKeyView, KeysView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<KeysView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.manages_keys(), "managing API keys")?;
    crate::service::accounts::keys_page(&db()?, &viewer).await
}

/// Creates a key limited to `scopes` (`team:<id>`, `workflow:<id>`; none: every workflow,
/// admins only). The secret is returned once.
#[server(prefix = "/rpc", endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    scopes: Option<Vec<String>>,
) -> Result<IssuedKeyView, AppError> {
    use crate::api::context::*;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.manages_keys(), "managing API keys")?;
    let db = db()?;
    let scopes = scopes
        .unwrap_or_default()
        .iter()
        .map(|text| parse_scope(text))
        .collect::<Result<Vec<_>, _>>()?;
    let workflows = crate::db::workflow::list_workflows(&db).await?;
    let team_of = |id: i64| workflows.iter().find(|w| w.id == id).map(|w| w.team_id);
    if !viewer.manages_key_scopes(&scopes, team_of) {
        return Err(AppError::forbidden(if scopes.is_empty() {
            "scopes: choose at least one of your teams or workflows; only admins make keys for every workflow"
        } else {
            "scopes: a key may only cover your own teams' workflows"
        }));
    }
    let issued = crate::service::accounts::issue_api_key(
        &db,
        Actor::of(&viewer),
        &name,
        &scopes,
        crate::db::now_ms(),
    )
    .await?;
    Ok(IssuedKeyView {
        name: name.trim().to_owned(),
        prefix: issued.prefix,
        secret: issued.secret,
    })
}

/// Revokes a key at once.
#[server(prefix = "/rpc", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(key_id: i64) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::db::{identity, workflow};
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.manages_keys(), "managing API keys")?;
    let db = db()?;
    let scopes = identity::api_key_scopes(&db, key_id).await?;
    let workflows = workflow::list_workflows(&db).await?;
    let team_of = |id: i64| workflows.iter().find(|w| w.id == id).map(|w| w.team_id);
    if !viewer.manages_key_scopes(&scopes, team_of) {
        // The same answer as for a key that does not exist: no probing other teams' keys.
        return Err(AppError::not_found("API key"));
    }
    crate::service::accounts::revoke_api_key(&db, Actor::of(&viewer), key_id, crate::db::now_ms())
        .await
}

#[cfg(feature = "ssr")]
fn parse_scope(text: &str) -> Result<crate::model::KeyScope, AppError> {
    use crate::model::KeyScope;
    KeyScope::from_form_value(text).ok_or_else(|| {
        AppError::from_field_problem("scopes: each must be team:<id> or workflow:<id>")
    })
}
