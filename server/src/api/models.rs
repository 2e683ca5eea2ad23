//! `GET /api/v1/models`: per model, its CPST in each workflow it ran in and weighted by each
//! workflow's traffic; per workflow, the cheapest model per successful task.

use super::params::{ApiQuery, FilterAsked, api_days, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::catalog::{Catalog, model_durations, window_rows};
use app::db::{Db, DbError};
use app::domain::time::format_day;
use app::report::models::{ModelFigures, ModelUse, Winner, compare_models};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The window and, optionally, the workflows weighed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModelsQuery {
    #[param(format = Date)]
    pub from: Option<String>,
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(schema_with = api_days)]
    pub days: Option<String>,
    pub team: Option<String>,
    pub workflow: Option<String>,
}

/// Every model over the window, most decided tasks first, and each workflow's winner.
#[derive(Serialize, ToSchema)]
pub struct ModelsOut {
    #[schema(example = "2026-10-01")]
    pub from: String,
    pub to: String,
    pub models: Vec<ModelOut>,
    pub winners: Vec<WinnerOut>,
}

/// One model across the workflows it ran in.
#[derive(Serialize, ToSchema)]
pub struct ModelOut {
    /// `provider/model`.
    #[schema(example = "anthropic/claude-haiku-4-5")]
    pub model: String,
    /// Null when it has no successful task in one of its workflows.
    pub weighted_cpst_micros: Option<i64>,
    pub decided_tasks: u64,
    pub workflows: Vec<ModelUseOut>,
}

/// One model in one workflow.
#[derive(Serialize, ToSchema)]
pub struct ModelUseOut {
    pub workflow: String,
    /// The workflow's share of the model's decided tasks: its weight in the weighted CPST.
    pub weight: Option<f64>,
    /// The model's share of the workflow's decided tasks.
    pub traffic_share: Option<f64>,
    pub cpst_micros: Option<i64>,
    pub success_rate: Option<f64>,
    pub decided_tasks: u64,
    /// The p95 time of its decided tasks in this workflow, start to finish, in milliseconds
    /// (read from stored buckets, within 2.5%).
    pub p95_task_ms: Option<i64>,
    /// Whether that breaks the workflow's latency budget (also true when it has no timed task).
    pub over_latency_budget: bool,
}

/// A workflow's cheapest model per successful task among those meeting its quality target
/// (the cheapest of all, flagged, when none does), never one over its latency budget.
#[derive(Serialize, ToSchema)]
pub struct WinnerOut {
    pub workflow: String,
    /// Null when no model has a successful task there yet, or every one breaks the latency
    /// budget.
    pub model: Option<String>,
    pub cpst_micros: Option<i64>,
    pub meets_quality_target: Option<bool>,
    pub quality_target: f64,
    pub models_compared: usize,
    /// The workflow's latency budget: the p95 task time a model must keep, in milliseconds.
    pub latency_budget_ms: Option<i64>,
    /// Models ruled out by the latency budget, cheapest first.
    pub over_latency_budget: Vec<String>,
}

impl From<&ModelUse> for ModelUseOut {
    fn from(u: &ModelUse) -> ModelUseOut {
        ModelUseOut {
            workflow: u.workflow_slug.clone(),
            weight: u.weight,
            traffic_share: u.traffic_share,
            cpst_micros: u.set.cost_per_successful_task().micros().map(|c| c.0),
            success_rate: u.set.success_rate().map(|r| r.value),
            decided_tasks: u.set.counts.decided(),
            p95_task_ms: u.p95_task_ms,
            over_latency_budget: u.over_latency_budget,
        }
    }
}

impl From<&ModelFigures> for ModelOut {
    fn from(m: &ModelFigures) -> ModelOut {
        ModelOut {
            model: m.model.clone(),
            weighted_cpst_micros: m.weighted_cpst.map(|c| c.0),
            decided_tasks: m.decided,
            workflows: m.workflows.iter().map(ModelUseOut::from).collect(),
        }
    }
}

impl From<&Winner> for WinnerOut {
    fn from(w: &Winner) -> WinnerOut {
        WinnerOut {
            workflow: w.workflow_slug.clone(),
            model: w.model.clone(),
            cpst_micros: w.cpst.map(|c| c.0),
            meets_quality_target: w.meets_quality_target,
            quality_target: w.quality_target,
            models_compared: w.candidates,
            latency_budget_ms: w.latency_budget_ms,
            over_latency_budget: w.over_latency_budget.clone(),
        }
    }
}

/// `GET /api/v1/models`: per model, its CPST in each workflow it ran in (with its share of the
/// workflow's decided tasks), and its CPST weighted by each workflow's traffic (`weight`); per
/// workflow, the cheapest model per successful task among those that meet the workflow's
/// quality target (the cheapest of all, flagged, when none does), never one whose p95 task time
/// breaks the workflow's latency budget.
#[utoipa::path(get, path = "/api/v1/models", tag = "read",
    params(ModelsQuery),
    responses(
        (status = 200, description = "Weighted CPST per model and the cheapest model per workflow", body = ModelsOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_models(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ModelsQuery>,
) -> Result<Json<ModelsOut>, ApiError> {
    let window = window(
        "",
        [&query.from, &query.to, &query.days].map(Option::as_deref),
        30,
    )?;
    let catalog = Catalog::load(&db).await?;
    let asked = FilterAsked {
        workflow: query.workflow.as_deref(),
        team: query.team.as_deref(),
        ..FilterAsked::default()
    };
    let filter = asked.filter(&catalog, &caller)?;
    let rows = window_rows(&db, window).await?;
    let durations = model_durations(&db, window).await?;
    let found = compare_models(&catalog.ledger(window, &rows), &filter, &durations)
        .map_err(DbError::from)?;
    Ok(Json(ModelsOut {
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        models: found.models.iter().map(ModelOut::from).collect(),
        winners: found.winners.iter().map(WinnerOut::from).collect(),
    }))
}
