//! API keys: `Authorization: Bearer <key>`, looked up by digest, limited to the workflows of
//! the teams and workflows the key was scoped to.

use crate::error::ApiError;
use crate::ingest::wire::ItemError;
use app::db::catalog::Catalog;
use app::db::{Db, identity, now_ms, workflow};
use app::error::AppError;
use app::model::{KeyScope, NameLookup, Team, Workflow, find_workflow};
use app::service::accounts::{Actor, issue_api_key};
use app::service::auth::hash_api_key;
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
    /// The teams a key scoped to whole teams may book tasks to, besides a workflow's own team;
    /// `None`: a key without scopes, which may book to any team.
    pub team_ids: Option<BTreeSet<i64>>,
}

/// Why a name a caller sent finds nothing it may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unseen {
    /// Nothing has the name, and the caller sees everything.
    Unknown,
    /// Nothing the caller may see has the name. A key with scopes is told this whether or not
    /// something outside them has it, so it cannot learn what exists beyond them.
    OutOfScope,
    /// A workflow slug that several workflows the caller sees share (in different teams): the
    /// caller must write `team:slug`.
    Ambiguous,
}

impl ApiCaller {
    /// A caller that sees and writes everything: the command-line import.
    pub fn unrestricted(key_id: i64) -> ApiCaller {
        ApiCaller {
            key_id,
            workflow_ids: None,
            team_ids: None,
        }
    }

    pub fn may_see(&self, workflow_id: i64) -> bool {
        self.workflow_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&workflow_id))
    }

    /// The workflow named `name` (its slug, or `team:slug`) among the ones the caller may see.
    /// Workflows outside its scope are never considered, so they cannot make a name ambiguous.
    pub fn workflow<'c>(&self, catalog: &'c Catalog, name: &str) -> Result<&'c Workflow, Unseen> {
        let visible = catalog.workflows.iter().filter(|w| self.may_see(w.id));
        match find_workflow(visible, &catalog.teams, name) {
            Ok(workflow) => Ok(workflow),
            Err(NameLookup::Ambiguous) => Err(Unseen::Ambiguous),
            Err(NameLookup::Unknown) if self.workflow_ids.is_none() => Err(Unseen::Unknown),
            Err(NameLookup::Unknown) => Err(Unseen::OutOfScope),
        }
    }

    /// The team with this slug, if the caller may see it: any team for a key without scopes,
    /// otherwise the teams of the workflows it sees and the teams it is scoped to.
    pub fn team<'c>(&self, catalog: &'c Catalog, slug: &str) -> Result<&'c Team, Unseen> {
        let found = catalog.teams.iter().find(|t| t.slug == slug);
        let Some(ids) = &self.workflow_ids else {
            return found.ok_or(Unseen::Unknown);
        };
        found
            .filter(|team| {
                self.team_ids.as_ref().is_some_and(|t| t.contains(&team.id))
                    || catalog
                        .workflows
                        .iter()
                        .any(|w| w.team_id == team.id && ids.contains(&w.id))
            })
            .ok_or(Unseen::OutOfScope)
    }

    /// The team a task of `workflow` may be booked to under the slug its sender gave: the
    /// workflow's own team, or a team the key is scoped to. Any other name, taken or not, is
    /// refused alike.
    pub fn task_team(
        &self,
        catalog: &Catalog,
        workflow: &Workflow,
        slug: &str,
    ) -> Result<i64, ItemError> {
        let found = catalog.teams.iter().find(|t| t.slug == slug);
        let allowed = found.filter(|team| {
            team.id == workflow.team_id
                || self
                    .team_ids
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&team.id))
        });
        match (allowed, &self.team_ids) {
            (Some(team), _) => Ok(team.id),
            (None, None) => Err(ItemError::new(
                "team",
                format!("no team has the slug '{slug}'"),
            )),
            (None, Some(_)) => Err(ItemError::new(
                "team",
                format!("this API key may not book tasks to a team '{slug}'"),
            )),
        }
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
        let team_ids = (!scopes.is_empty()).then(|| {
            scopes
                .iter()
                .filter_map(|scope| match *scope {
                    KeyScope::Team(team) => Some(team),
                    KeyScope::Workflow(_) => None,
                })
                .collect()
        });
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
            team_ids,
        })
    }
}

/// Creates an API key and returns its secret, which is shown once and never stored.
pub async fn create_api_key(
    db: &Db,
    name: &str,
    scopes: &[KeyScope],
    created_by: Option<i64>,
) -> Result<String, AppError> {
    let actor = Actor {
        user_id: created_by,
        name: "api",
    };
    let issued = issue_api_key(db, actor, name, scopes, now_ms()).await?;
    Ok(issued.secret)
}
