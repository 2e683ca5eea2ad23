//! `GET /api/v1/alerts`: the alerts a key may see, open and recently resolved, with their
//! figures and likely cause.

use super::params::{ApiQuery, FilterAsked};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::catalog::Catalog;
use app::db::{Db, alert};
use app::domain::time::{MS_PER_DAY, format_instant};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// `open` (firing or acknowledged), `firing`, `acknowledged`, `resolved`; default all.
    #[param(example = "open")]
    pub state: Option<String>,
    /// Only this workflow's alerts (its slug, or `team:slug`).
    pub workflow: Option<String>,
    /// Resolved alerts of the last this many days (1-366, default 30).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertOut {
    pub id: i64,
    /// `firing`, `acknowledged` or `resolved`.
    pub state: String,
    /// The rule's condition: `cpst_over_budget`, `cpst_regression`, `success_drop`,
    /// `spend_budget`, `gate_turned` or `escalation_surge`.
    pub condition: String,
    /// The workflow's slug, when the rule watches a workflow.
    pub workflow: Option<String>,
    /// The team's slug.
    pub team: String,
    pub headline: String,
    /// The likely cause in words (regressions and drops).
    pub cause: String,
    /// The figures behind it: windows, CPST, success and retry rates, spend.
    #[schema(value_type = Object)]
    pub figures: serde_json::Value,
    pub fired_at: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_note: String,
    pub resolved_at: Option<String>,
    pub resolution: String,
    pub rule_id: i64,
    pub rule_version: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AlertsOut {
    pub alerts: Vec<AlertOut>,
}

/// `GET /api/v1/alerts`: open alerts and those resolved in the last `days`, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "read",
    params(AlertsQuery),
    responses(
        (status = 200, description = "Alerts the key may see", body = AlertsOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_alerts(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertsOut>, ApiError> {
    let days = query.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::invalid("days", "must be from 1 to 366"));
    }
    let state = query.state.as_deref().unwrap_or_default();
    if !app::model::ALERT_STATE_FILTERS.contains(&state) {
        return Err(ApiError::invalid(
            "state",
            "must be open, firing, acknowledged or resolved",
        ));
    }
    let catalog = Catalog::load(&db).await?;
    let asked = FilterAsked {
        workflow: query
            .workflow
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty()),
        ..FilterAsked::default()
    };
    let only = asked.workflow(&catalog, &caller)?.map(|w| w.id);
    let now = app::db::now_ms();
    let kinds: std::collections::HashMap<i64, app::domain::status::AlertKind> =
        alert::list_rules(&db)
            .await?
            .into_iter()
            .map(|r| (r.id, r.kind))
            .collect();
    let mut alerts = Vec::new();
    for found in alert::recent_alerts(&db, now - days * MS_PER_DAY, only, 1_000).await? {
        let visible = match found.workflow_id {
            Some(id) => caller.may_see(id),
            None => caller
                .team_ids
                .as_ref()
                .is_none_or(|teams| teams.contains(&found.team_id)),
        };
        if !visible || !found.in_state(state) {
            continue;
        }
        let condition = kinds
            .get(&found.rule_id)
            .map(|kind| kind.as_str().to_owned())
            .unwrap_or_default();
        alerts.push(AlertOut {
            id: found.id,
            state: found.state().to_owned(),
            condition,
            workflow: found
                .workflow_id
                .and_then(|id| catalog.workflows.iter().find(|w| w.id == id))
                .map(|w| w.slug.clone()),
            team: catalog
                .teams
                .iter()
                .find(|t| t.id == found.team_id)
                .map(|t| t.slug.clone())
                .unwrap_or_default(),
            headline: found.headline,
            cause: found.cause,
            figures: serde_json::from_str(&found.figures).unwrap_or(serde_json::Value::Null),
            fired_at: format_instant(found.fired_at),
            acknowledged_at: found.acknowledged_at.map(format_instant),
            acknowledged_note: found.acknowledged_note,
            resolved_at: found.resolved_at.map(format_instant),
            resolution: found.resolution,
            rule_id: found.rule_id,
            rule_version: found.rule_version,
        });
    }
    Ok(Json(AlertsOut { alerts }))
}
