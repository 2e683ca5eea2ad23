//! `GET /api/v1/compare`: baseline against candidate, as two configuration versions of one
//! workflow over one window or as two periods of the same filter.

use super::figures::GroupOut;
use super::params::{ApiQuery, FilterAsked, api_days, version_id, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::catalog::{Catalog, window_rows};
use app::db::{Db, DbError};
use app::domain::compare::{RateChange, compare_sets};
use app::report::Window;
use app::report::figures::{Filter, GroupFigures, Grouping, figures};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Two versions of one workflow over one window, or two periods of the same filter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    #[param(example = "support-triage")]
    pub workflow: Option<String>,
    /// The baseline configuration version's label (with `candidate` and `workflow`).
    #[param(example = "v1-large-model")]
    pub baseline: Option<String>,
    #[param(example = "v2-routed-reranked")]
    pub candidate: Option<String>,
    /// The window both versions are compared over: `from`/`to` or `days` (default 90).
    #[param(format = Date)]
    pub from: Option<String>,
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(schema_with = api_days)]
    pub days: Option<String>,
    /// Or two periods: `baseline_from`/`baseline_to` (or `baseline_days`) and the candidate's.
    #[param(format = Date)]
    pub baseline_from: Option<String>,
    #[param(format = Date)]
    pub baseline_to: Option<String>,
    #[param(schema_with = api_days)]
    pub baseline_days: Option<String>,
    #[param(format = Date)]
    pub candidate_from: Option<String>,
    #[param(format = Date)]
    pub candidate_to: Option<String>,
    #[param(schema_with = api_days)]
    pub candidate_days: Option<String>,
    pub team: Option<String>,
    pub task_type: Option<String>,
    pub segment: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
}

/// Baseline and candidate side by side, with the candidate's changes.
#[derive(Serialize, ToSchema)]
pub struct ComparisonOut {
    pub baseline: GroupOut,
    pub candidate: GroupOut,
    /// Candidate CPST minus baseline CPST; null when either has no successful task.
    pub cpst_change_micros: Option<i64>,
    /// The change in success rate with its 95% interval; null when either side has no
    /// decided task.
    pub success_rate_change: Option<RateChange>,
    /// Per cost component (model, tool, ...), the change in cost per decided task.
    pub cost_per_attempted_task_change_micros: BTreeMap<String, Option<i64>>,
}

/// The figures of one filtered set over a window, as a single group.
async fn one_set(
    db: &Db,
    catalog: &Catalog,
    window: Window,
    filter: &Filter,
) -> Result<GroupFigures, ApiError> {
    let rows = window_rows(db, window).await?;
    let mut all =
        figures(&catalog.ledger(window, &rows), filter, Grouping::All).map_err(DbError::from)?;
    Ok(all.pop().unwrap_or_else(|| GroupFigures {
        key: String::new(),
        label: "All tasks".into(),
        window,
        set: Default::default(),
        usage: Default::default(),
    }))
}

/// `GET /api/v1/compare`: two configuration versions (`baseline`, `candidate`) over one window,
/// or two periods (`baseline_from`.. and `candidate_from`..) of the same filter.
#[utoipa::path(get, path = "/api/v1/compare", tag = "read",
    params(CompareQuery),
    responses(
        (status = 200, description = "Baseline and candidate side by side", body = ComparisonOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_comparison(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<CompareQuery>,
) -> Result<Json<ComparisonOut>, ApiError> {
    let asked = FilterAsked {
        workflow: query.workflow.as_deref(),
        team: query.team.as_deref(),
        task_type: query.task_type.as_deref(),
        segment: query.segment.as_deref(),
        model: query.model.as_deref(),
        provider: query.provider.as_deref(),
        version: None,
    };
    let period = |prefix: &str, [from, to, days]: [&Option<String>; 3], default_days| {
        window(prefix, [from, to, days].map(Option::as_deref), default_days)
    };
    let catalog = Catalog::load(&db).await?;
    let filter = asked.filter(&catalog, &caller)?;
    let (baseline, candidate) = match (query.baseline.as_deref(), query.candidate.as_deref()) {
        (Some(before), Some(after)) => {
            let workflow = asked.workflow(&catalog, &caller)?.ok_or_else(|| {
                ApiError::invalid("workflow", "comparing versions needs workflow=<slug>")
            })?;
            let window = period("", [&query.from, &query.to, &query.days], 90)?;
            let version = |label, field| -> Result<Filter, ApiError> {
                Ok(Filter {
                    config_version_id: Some(version_id(&catalog, workflow, label, field)?),
                    ..filter.clone()
                })
            };
            let (b, c) = (version(before, "baseline")?, version(after, "candidate")?);
            (
                one_set(&db, &catalog, window, &b).await?,
                one_set(&db, &catalog, window, &c).await?,
            )
        }
        (None, None) => {
            if query.baseline_from.is_none() && query.baseline_days.is_none() {
                return Err(ApiError::invalid(
                    "baseline",
                    "give baseline and candidate versions, or baseline_from and candidate_from periods",
                ));
            }
            let b = [
                &query.baseline_from,
                &query.baseline_to,
                &query.baseline_days,
            ];
            let c = [
                &query.candidate_from,
                &query.candidate_to,
                &query.candidate_days,
            ];
            let (b, c) = (period("baseline_", b, 30)?, period("candidate_", c, 30)?);
            (
                one_set(&db, &catalog, b, &filter).await?,
                one_set(&db, &catalog, c, &filter).await?,
            )
        }
        (None, Some(_)) => return Err(ApiError::invalid("baseline", "is required with candidate")),
        (Some(_), None) => return Err(ApiError::invalid("candidate", "is required with baseline")),
    };
    let comparison = compare_sets(&baseline.set, &candidate.set);
    Ok(Json(ComparisonOut {
        baseline: GroupOut::new(&baseline, None),
        candidate: GroupOut::new(&candidate, None),
        cpst_change_micros: comparison.cpst_change.map(|m| m.0),
        success_rate_change: comparison.rate_change,
        cost_per_attempted_task_change_micros: comparison
            .component_changes
            .iter()
            .map(|(label, change)| (label.clone(), change.map(|m| m.0)))
            .collect(),
    }))
}
