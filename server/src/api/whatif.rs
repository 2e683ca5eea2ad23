//! `GET /api/v1/what-if`: a workflow's figures projected from its own evidence with levers
//! moved (see `app::report::whatif`), or the levers the evidence cannot answer for.

use super::params::{ApiQuery, api_days, required_workflow, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::Db;
use app::db::catalog::Catalog;
use app::domain::time::format_day;
use app::error::AppError;
use app::report::whatif::{MIN_EVIDENCE, Outlook, WhatIf};
use app::views::whatif::WhatIfForm;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The workflow, the window of evidence, and the levers to move; an empty lever stays as
/// observed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WhatIfQuery {
    /// The workflow's slug.
    #[param(required = true, min_length = 1, example = "support-triage")]
    pub workflow: Option<String>,
    #[param(format = Date)]
    pub from: Option<String>,
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(schema_with = api_days)]
    pub days: Option<String>,
    /// Task types to send wholly to one model: `task_type:provider/model` pairs (task type by
    /// slug) separated by `;`.
    #[param(example = "easy-ticket:anthropic/claude-haiku-4-5")]
    pub routes: Option<String>,
    /// Share of input tokens read from the prompt cache, in percent (0 to 100).
    #[param(example = "60")]
    pub cache_share: Option<String>,
    /// Change of input tokens per call, in percent (-90 to +500).
    #[param(example = "-20")]
    pub input_change: Option<String>,
    /// Share of decided tasks that do not succeed, in percent (0 to 100).
    #[param(example = "9")]
    pub failure_rate: Option<String>,
    /// How much less retries cost, in percent (0 to 100).
    #[param(example = "50")]
    pub retry_cut: Option<String>,
}

/// The four figures of the workflow in one state.
#[derive(Serialize, ToSchema)]
pub struct OutlookOut {
    pub decided_tasks: u64,
    /// Tasks that succeed; fractional in a projection.
    pub successful_tasks: f64,
    pub total_micros: i64,
    /// Null when no task succeeds.
    pub cpst_micros: Option<i64>,
    pub cost_per_attempted_micros: Option<i64>,
    pub success_rate: Option<f64>,
    /// The total at 30 days of the window's volume.
    pub monthly_micros: i64,
}

/// A lever the evidence cannot answer for.
#[derive(Serialize, ToSchema)]
pub struct RefusalOut {
    #[schema(example = "Route Ticket to anthropic/claude-haiku-4-5")]
    pub lever: String,
    #[schema(example = "not enough evidence: 12 tasks, need 30")]
    pub reason: String,
}

/// Today's figures and the projection with its 95% interval (every group's success rate at the
/// low, then the high end of its interval), or, when `refusals` is not empty, no projection.
#[derive(Serialize, ToSchema)]
pub struct WhatIfOut {
    pub workflow: String,
    pub from: String,
    pub to: String,
    /// Decided tasks a model needs on a task type before a task type is routed to it.
    pub min_evidence: u64,
    pub today: OutlookOut,
    pub projected: Option<OutlookOut>,
    pub low: Option<OutlookOut>,
    pub high: Option<OutlookOut>,
    /// What the projection takes as given, in words.
    pub assumptions: Vec<String>,
    pub refusals: Vec<RefusalOut>,
}

impl From<&Outlook> for OutlookOut {
    fn from(o: &Outlook) -> OutlookOut {
        OutlookOut {
            decided_tasks: o.decided,
            successful_tasks: o.successes as f64 / 1_000_000.0,
            total_micros: o.total.0,
            cpst_micros: o.cpst.map(|m| m.0),
            cost_per_attempted_micros: o.cost_per_attempted.map(|m| m.0),
            success_rate: o.success_rate,
            monthly_micros: o.monthly.0,
        }
    }
}

/// `GET /api/v1/what-if?workflow=<slug>&routes=…`: the workflow's cost per successful task,
/// cost per attempted task, success rate and monthly spend over the window (default the last
/// 30 days), and the same projected with the levers moved, each with its 95% interval. A route
/// to a model with fewer than `min_evidence` decided tasks of the type, or a token lever on a
/// model without a price, is answered with `refusals` instead of a number.
#[utoipa::path(get, path = "/api/v1/what-if", tag = "read",
    params(WhatIfQuery),
    responses(
        (status = 200, description = "A workflow's figures projected with levers moved", body = WhatIfOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_what_if(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<WhatIfQuery>,
) -> Result<Json<WhatIfOut>, ApiError> {
    let catalog = Catalog::load(&db).await?;
    // Cloned, so that the catalogue itself can go on to the projection.
    let workflow = required_workflow(&catalog, &caller, query.workflow.as_deref())?.clone();
    let window = window(
        "",
        [&query.from, &query.to, &query.days].map(Option::as_deref),
        30,
    )?;
    let mut routes = Vec::new();
    for pair in query.routes.as_deref().unwrap_or_default().split(';') {
        if pair.trim().is_empty() {
            continue;
        }
        let (slug, model) = pair.split_once(':').ok_or_else(|| {
            ApiError::invalid(
                "routes",
                "must be task_type:provider/model pairs separated by ;",
            )
        })?;
        let task_type = catalog
            .task_types
            .iter()
            .find(|t| t.workflow_id == workflow.id && t.slug == slug.trim())
            .ok_or_else(|| ApiError::invalid("routes", "names no task type of the workflow"))?;
        routes.push(format!("{}:{}", task_type.id, model.trim()));
    }
    let text = |field: &Option<String>| field.clone().unwrap_or_default();
    let form = WhatIfForm {
        routes: routes.join(";"),
        cache_share: text(&query.cache_share),
        input_change: text(&query.input_change),
        failure_rate: text(&query.failure_rate),
        retry_cut: text(&query.retry_cut),
    };
    let now = app::db::now_ms();
    let answer = app::service::whatif::projection(&db, catalog, &workflow, window, &form, now)
        .await?
        .map_err(|refused| match refused {
            AppError::InvalidParameter { field, reason, .. } => ApiError::invalid(&field, reason),
            other => ApiError::invalid("routes", other.to_string()),
        })?;
    let mut out = WhatIfOut {
        workflow: workflow.slug.clone(),
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        min_evidence: MIN_EVIDENCE,
        today: OutlookOut::from(&Outlook::default()),
        projected: None,
        low: None,
        high: None,
        assumptions: Vec::new(),
        refusals: Vec::new(),
    };
    match answer {
        WhatIf::Projected(p) => {
            out.today = OutlookOut::from(&p.today);
            out.projected = Some(OutlookOut::from(&p.projected));
            out.low = Some(OutlookOut::from(&p.low));
            out.high = Some(OutlookOut::from(&p.high));
            out.assumptions = p.assumptions;
        }
        WhatIf::Refused { today, refusals } => {
            out.today = OutlookOut::from(&today);
            out.refusals = refusals
                .into_iter()
                .map(|r| RefusalOut {
                    lever: r.lever,
                    reason: r.reason,
                })
                .collect();
        }
    }
    Ok(Json(out))
}
