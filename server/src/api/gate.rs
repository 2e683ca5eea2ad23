//! `GET /api/v1/gate`: one workflow's autonomy gate over its gate window, with its evidence.

use super::params::{ApiQuery, required_workflow, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::Db;
use app::db::catalog::Catalog;
use app::domain::time::format_day;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The workflow and the last day of its gate window.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GateQuery {
    /// The workflow's slug.
    #[param(required = true, min_length = 1, example = "invoice-clearing")]
    pub workflow: Option<String>,
    /// The last day of the gate window; default today.
    #[param(format = Date)]
    pub to: Option<String>,
}

/// The gate's decision over the window, the evidence for each half, and the figures behind it.
#[derive(Serialize, ToSchema)]
pub struct GateOut {
    #[schema(example = "invoice-clearing")]
    pub workflow: String,
    #[schema(example = "2026-10-01")]
    pub from: String,
    pub to: String,
    /// Quality and cost both proven.
    pub passes: bool,
    pub quality_proven: bool,
    pub cost_proven: bool,
    /// Both halves' evidence in words.
    pub evidence: String,
    pub quality_evidence: String,
    pub cost_evidence: String,
    /// Decided tasks in the window.
    pub sample: u64,
    pub successes: u64,
    /// Null when the window has no successful task.
    pub cpst_micros: Option<i64>,
    /// The window before, for the cost half.
    pub previous_cpst_micros: Option<i64>,
    pub autonomy_level: i64,
}

/// `GET /api/v1/gate?workflow=<slug>`: the autonomy gate over the workflow's gate window ending
/// `to` (default today), against the window before it.
#[utoipa::path(get, path = "/api/v1/gate", tag = "read",
    params(GateQuery),
    responses(
        (status = 200, description = "The autonomy gate of one workflow with its evidence", body = GateOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_gate(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<GateQuery>,
) -> Result<Json<GateOut>, ApiError> {
    let catalog = Catalog::load(&db).await?;
    let workflow = required_workflow(&catalog, &caller, query.workflow.as_deref())?;
    let end = window("", [None, query.to.as_deref(), None], 1)?.last_day;
    let (window, gate) = app::service::gate::judge(&db, &catalog, workflow, end).await?;
    Ok(Json(GateOut {
        workflow: workflow.slug.clone(),
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        passes: gate.passes(),
        quality_proven: gate.quality_proven,
        cost_proven: gate.cost_proven,
        evidence: gate.evidence(),
        quality_evidence: gate.quality_evidence,
        cost_evidence: gate.cost_evidence,
        sample: gate.sample,
        successes: gate.successes,
        cpst_micros: gate.cpst.micros().map(|m| m.0),
        previous_cpst_micros: gate.previous_cpst.micros().map(|m| m.0),
        autonomy_level: workflow.autonomy_level,
    }))
}
