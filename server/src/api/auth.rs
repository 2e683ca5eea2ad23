//! API keys: `Authorization: Bearer <key>`, looked up by digest, limited to the workflows of
//! the teams and workflows the key was scoped to.

use super::ApiError;
use app::accounts::{AccountError, Actor, issue_api_key};
use app::auth::hash_api_key;
use app::db::{Db, identity, now_ms, workflow};
use app::model::KeyScope;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use std::collections::BTreeSet;

/// Who is calling: a live API key and the workflows it may see.
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub key_id: i64,
    /// `None`: a key without scopes, which sees every workflow.
    pub workflow_ids: Option<BTreeSet<i64>>,
}

impl ApiCaller {
    pub fn may_see(&self, workflow_id: i64) -> bool {
        self.workflow_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&workflow_id))
    }
}

impl<S> FromRequestParts<S> for ApiCaller
where
    S: Send + Sync,
    Db: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::MissingKey)?;
        let text = header.to_str().map_err(|_| ApiError::InvalidKey)?;
        let secret = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or(ApiError::MissingKey)?;
        let db = Db::from_ref(state);
        let key = identity::find_api_key(&db, &hash_api_key(secret))
            .await?
            .ok_or(ApiError::InvalidKey)?;
        let scopes = identity::api_key_scopes(&db, key.id).await?;
        let workflow_ids = if scopes.is_empty() {
            None
        } else {
            let workflows = workflow::list_workflows(&db).await?;
            let visible = workflows
                .iter()
                .filter(|w| {
                    scopes.iter().any(|scope| match *scope {
                        KeyScope::Team(team) => w.team_id == team,
                        KeyScope::Workflow(id) => w.id == id,
                    })
                })
                .map(|w| w.id)
                .collect();
            Some(visible)
        };
        Ok(ApiCaller {
            key_id: key.id,
            workflow_ids,
        })
    }
}

/// Creates an API key and returns its secret, which is shown once and never stored.
pub async fn create_api_key(
    db: &Db,
    name: &str,
    scopes: &[KeyScope],
    created_by: Option<i64>,
) -> Result<String, AccountError> {
    let actor = Actor {
        user_id: created_by,
        name: "api",
    };
    let issued = issue_api_key(db, actor, name, scopes, now_ms()).await?;
    Ok(issued.secret)
}
