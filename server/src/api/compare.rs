//! Comparisons and decisions: baseline against candidate, the autonomy gate, weighted CPST per
//! model, and call figures per step, model or provider.

use super::figures::GroupOut;
use super::params::{Params, version_id};
use super::{ApiCaller, ApiError};
use app::db::report::{Catalog, window_rows};
use app::db::{Db, DbError, rollup};
use app::domain::compare::compare_sets;
use app::domain::time::format_day;
use app::report::Window;
use app::report::figures::{Filter, GroupFigures, Grouping, figures};
use app::report::models::compare_models;
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

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
    params(super::docs::CompareQuery),
    responses(
        (status = 200, description = "Baseline and candidate side by side (also takes baseline, candidate, baseline_from/to, candidate_from/to)", body = Object),
        super::docs::ReadErrors,
    ))]
pub async fn get_comparison(
    State(db): State<Db>,
    caller: ApiCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let known = [
        "workflow",
        "team",
        "task_type",
        "segment",
        "model",
        "provider",
        "from",
        "to",
        "days",
        "baseline",
        "candidate",
        "baseline_from",
        "baseline_to",
        "baseline_days",
        "candidate_from",
        "candidate_to",
        "candidate_days",
    ];
    let params = Params::new(query, &known)?;
    let catalog = Catalog::load(&db).await?;
    let filter = params.filter(&catalog, &caller)?;
    let (baseline, candidate) = match (params.get("baseline"), params.get("candidate")) {
        (Some(before), Some(after)) => {
            let workflow = params.workflow(&catalog, &caller)?.ok_or_else(|| {
                ApiError::invalid("workflow", "comparing versions needs workflow=<slug>")
            })?;
            let window = params.window("", 90)?;
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
            if params.get("baseline_from").is_none() && params.get("baseline_days").is_none() {
                return Err(ApiError::invalid(
                    "baseline",
                    "give baseline and candidate versions, or baseline_from and candidate_from periods",
                ));
            }
            let (b, c) = (
                params.window("baseline_", 30)?,
                params.window("candidate_", 30)?,
            );
            (
                one_set(&db, &catalog, b, &filter).await?,
                one_set(&db, &catalog, c, &filter).await?,
            )
        }
        (None, Some(_)) => return Err(ApiError::invalid("baseline", "is required with candidate")),
        (Some(_), None) => return Err(ApiError::invalid("candidate", "is required with baseline")),
    };
    let comparison = compare_sets(&baseline.set, &candidate.set);
    Ok(Json(json!({
        "baseline": GroupOut::new(&baseline, None),
        "candidate": GroupOut::new(&candidate, None),
        "cpst_change_micros": comparison.cpst_change.map(|m| m.0),
        "success_rate_change": comparison.rate_change,
        "cost_per_attempted_task_change_micros": comparison
            .component_changes
            .iter()
            .map(|(label, change)| (label.clone(), change.map(|m| m.0)))
            .collect::<BTreeMap<_, _>>(),
    })))
}

/// `GET /api/v1/gate?workflow=<slug>`: the autonomy gate over the workflow's gate window ending
/// `on` (default today), against the window before it.
#[utoipa::path(get, path = "/api/v1/gate", tag = "read",
    params(super::docs::GateQuery),
    responses(
        (status = 200, description = "The autonomy gate of one workflow with its evidence", body = Object),
        super::docs::ReadErrors,
    ))]
pub async fn get_gate(
    State(db): State<Db>,
    caller: ApiCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let params = Params::new(query, &["workflow", "to"])?;
    let catalog = Catalog::load(&db).await?;
    let workflow = params
        .workflow(&catalog, &caller)?
        .ok_or_else(|| ApiError::invalid("workflow", "is required"))?;
    let end = params.window("", 1)?.last_day;
    let (window, gate) = app::gate::judge(&db, &catalog, workflow, end).await?;
    Ok(Json(json!({
        "workflow": workflow.slug,
        "from": format_day(window.first_day),
        "to": format_day(window.last_day),
        "passes": gate.passes(),
        "quality_proven": gate.quality_proven,
        "cost_proven": gate.cost_proven,
        "evidence": gate.evidence(),
        "quality_evidence": gate.quality_evidence,
        "cost_evidence": gate.cost_evidence,
        "sample": gate.sample,
        "successes": gate.successes,
        "cpst_micros": gate.cpst.micros().map(|m| m.0),
        "previous_cpst_micros": gate.previous_cpst.micros().map(|m| m.0),
        "autonomy_level": workflow.autonomy_level,
    })))
}

/// `GET /api/v1/models`: per model, its CPST in each workflow it ran in (with its share of the
/// workflow's decided tasks), and its CPST weighted by each workflow's traffic (`weight`); per
/// workflow, the cheapest model per successful task among those that meet the workflow's
/// quality target (the cheapest of all, flagged, when none does).
#[utoipa::path(get, path = "/api/v1/models", tag = "read",
    params(super::docs::ModelsQuery),
    responses(
        (status = 200, description = "Weighted CPST per model and the cheapest model per workflow", body = Object),
        super::docs::ReadErrors,
    ))]
pub async fn get_models(
    State(db): State<Db>,
    caller: ApiCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let params = Params::new(query, &["from", "to", "days", "team", "workflow"])?;
    let window = params.window("", 30)?;
    let catalog = Catalog::load(&db).await?;
    let filter = params.filter(&catalog, &caller)?;
    let rows = window_rows(&db, window).await?;
    let found = compare_models(&catalog.ledger(window, &rows), &filter).map_err(DbError::from)?;
    let models: Vec<Value> = found
        .models
        .iter()
        .map(|m| {
            json!({
                "model": m.model,
                "weighted_cpst_micros": m.weighted_cpst.map(|c| c.0),
                "decided_tasks": m.decided,
                "workflows": m.workflows.iter().map(|u| json!({
                    "workflow": u.workflow_slug,
                    "weight": u.weight,
                    "traffic_share": u.traffic_share,
                    "cpst_micros": u.set.cost_per_successful_task().micros().map(|c| c.0),
                    "success_rate": u.set.success_rate().map(|r| r.value),
                    "decided_tasks": u.set.counts.decided(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let winners: Vec<Value> = found
        .winners
        .iter()
        .map(|w| {
            json!({
                "workflow": w.workflow_slug,
                "model": w.model,
                "cpst_micros": w.cpst.map(|c| c.0),
                "meets_quality_target": w.meets_quality_target,
                "quality_target": w.quality_target,
                "models_compared": w.candidates,
            })
        })
        .collect();
    Ok(Json(json!({
        "from": format_day(window.first_day),
        "to": format_day(window.last_day),
        "models": models,
        "winners": winners,
    })))
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// `GET /api/v1/calls?group_by=step|model|provider`: spend, calls, errors, tokens and latency of
/// calls, which have no verdict of their own (CPST needs tasks; see `/api/v1/figures`).
#[utoipa::path(get, path = "/api/v1/calls", tag = "read",
    params(super::docs::CallsQuery),
    responses(
        (status = 200, description = "Calls, errors, tokens, spend and latency by step, model or provider", body = Object),
        super::docs::ReadErrors,
    ))]
pub async fn get_call_figures(
    State(db): State<Db>,
    caller: ApiCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let params = Params::new(query, &["from", "to", "days", "workflow", "group_by"])?;
    let window = params.window("", 30)?;
    let catalog = Catalog::load(&db).await?;
    let workflow = params.workflow(&catalog, &caller)?;
    let group_by = params.get("group_by").unwrap_or("step");
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
    let out: Vec<Value> = groups
        .into_iter()
        .map(|(key, [calls, errors, input, output, cost, latency])| {
            json!({
                "key": key,
                "calls": calls,
                "errors": errors,
                "input_tokens": input,
                "output_tokens": output,
                "cost_micros": cost,
                "mean_latency_ms": share(latency.max(0) as u64, calls.max(0) as u64),
            })
        })
        .collect();
    Ok(Json(json!({
        "from": format_day(window.first_day),
        "to": format_day(window.last_day),
        "group_by": group_by,
        "groups": out,
    })))
}
