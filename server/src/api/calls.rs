//! `GET /api/v1/calls`: spend, calls, errors, tokens and latency of calls by step, model or
//! provider. Calls have no verdict of their own, so no CPST (that needs tasks: see
//! `/api/v1/figures`).

use super::params::{ApiQuery, FilterAsked, api_days, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::catalog::Catalog;
use app::db::{Db, rollup};
use app::domain::time::format_day;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The window, a workflow, and what to group calls by.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallsQuery {
    #[param(format = Date)]
    pub from: Option<String>,
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(schema_with = api_days)]
    pub days: Option<String>,
    pub workflow: Option<String>,
    /// step (default), model or provider.
    #[param(example = "step")]
    pub group_by: Option<String>,
}

/// Call figures per group over the window.
#[derive(Serialize, ToSchema)]
pub struct CallsOut {
    #[schema(example = "2026-10-01")]
    pub from: String,
    pub to: String,
    #[schema(example = "step")]
    pub group_by: String,
    /// In order of their keys.
    pub groups: Vec<CallGroupOut>,
}

/// The calls of one step, model (`provider/model`) or provider.
#[derive(Serialize, ToSchema)]
pub struct CallGroupOut {
    pub key: String,
    pub calls: i64,
    pub errors: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_micros: i64,
    /// Null when the group has no calls.
    pub mean_latency_ms: Option<f64>,
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// `GET /api/v1/calls?group_by=step|model|provider`: spend, calls, errors, tokens and latency of
/// calls, which have no verdict of their own (CPST needs tasks; see `/api/v1/figures`).
#[utoipa::path(get, path = "/api/v1/calls", tag = "read",
    params(CallsQuery),
    responses(
        (status = 200, description = "Calls, errors, tokens, spend and latency by step, model or provider", body = CallsOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_call_figures(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<CallsQuery>,
) -> Result<Json<CallsOut>, ApiError> {
    let window = window(
        "",
        [&query.from, &query.to, &query.days].map(Option::as_deref),
        30,
    )?;
    let catalog = Catalog::load(&db).await?;
    let asked = FilterAsked {
        workflow: query.workflow.as_deref(),
        ..FilterAsked::default()
    };
    let workflow = asked.workflow(&catalog, &caller)?;
    let group_by = query.group_by.as_deref().unwrap_or("step");
    if !["step", "model", "provider"].contains(&group_by) {
        return Err(ApiError::invalid(
            "group_by",
            "must be step, model or provider",
        ));
    }
    let rows = rollup::call_rollups(
        &db,
        window.first_day,
        window.last_day,
        workflow.map(|w| w.id),
    )
    .await?;
    let mut groups: BTreeMap<String, [i64; 6]> = BTreeMap::new();
    for row in rows.iter().filter(|r| caller.may_see(r.workflow_id)) {
        let key = match group_by {
            "step" => row.step.clone(),
            "model" => format!("{}/{}", row.provider, row.model),
            _ => row.provider.clone(),
        };
        let g = groups.entry(key).or_default();
        for (slot, value) in g.iter_mut().zip([
            row.calls,
            row.errors,
            row.input_tokens,
            row.output_tokens,
            row.cost_micros,
            row.latency_ms,
        ]) {
            *slot += value;
        }
    }
    let groups = groups
        .into_iter()
        .map(
            |(key, [calls, errors, input, output, cost, latency])| CallGroupOut {
                key,
                calls,
                errors,
                input_tokens: input,
                output_tokens: output,
                cost_micros: cost,
                mean_latency_ms: share(latency.max(0) as u64, calls.max(0) as u64),
            },
        )
        .collect();
    Ok(Json(CallsOut {
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        group_by: group_by.to_owned(),
        groups,
    }))
}
