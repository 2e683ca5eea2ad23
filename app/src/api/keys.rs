//! API keys for the systems that send data: admins manage every key, owners the keys whose
//! scopes lie inside their teams.

use crate::error::AppError;
use crate::views::keys::{IssuedKeyView, KeysView};
#[cfg(feature = "ssr")]
use crate::views::keys::{KeyRow, ScopeOption};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<KeysView, AppError> {
    use crate::api::context::*;
    use crate::db::{identity, workflow};
    use crate::model::KeyScope;

    let viewer = viewer_who(|v| v.manages_keys(), "managing API keys")?;
    let db = db()?;
    let load = async {
        let teams = identity::list_teams(&db).await?;
        let workflows = workflow::list_workflows(&db).await?;
        let keys = identity::list_api_keys(&db).await?;
        let scopes = identity::all_api_key_scopes(&db).await?;
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
