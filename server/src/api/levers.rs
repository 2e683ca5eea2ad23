//! `GET /api/v1/levers`: what moves one workflow's CPST over a window, against the window
//! before: routing per task type and model, caching, and the failure tax.

use super::params::{ApiQuery, api_days, required_workflow, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::catalog::{Catalog, step_window, window_rows};
use app::db::{Db, DbError};
use app::domain::cpst::Proportion;
use app::domain::time::format_day;
use app::report::call_levers::{CallLevers, call_levers};
use app::report::levers::{Caching, FailedRuns, Levers, Route, Routing, levers};
use app::report::steps::MOST_RETRIEVALS;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The workflow and the window.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeversQuery {
    /// The workflow's slug.
    #[param(required = true, min_length = 1, example = "support-triage")]
    pub workflow: Option<String>,
    #[param(format = Date)]
    pub from: Option<String>,
    #[param(format = Date)]
    pub to: Option<String>,
    #[param(schema_with = api_days)]
    pub days: Option<String>,
}

/// One workflow's levers over the window; `*_before` figures are the window of the same length
/// that ends the day before it starts.
#[derive(Serialize, ToSchema)]
pub struct LeversOut {
    #[schema(example = "support-triage")]
    pub workflow: String,
    #[schema(example = "2026-10-01")]
    pub from: String,
    pub to: String,
    pub before_from: String,
    pub before_to: String,
    /// Per task type with decided tasks, most tasks first.
    pub routing: Vec<RoutingOut>,
    /// The sum of the task types' `at_stake_micros`.
    pub routing_at_stake_micros: i64,
    pub caching: CachingOut,
    pub failed_runs: FailedRunsOut,
    pub retrieval: RetrievalOut,
    /// Steps with model calls, costliest first.
    pub prompt_sizes: Vec<PromptSizeOut>,
    /// Steps where failed attempts' calls cost anything, costliest first.
    pub failing_steps: Vec<FailingStepOut>,
}

/// Retrieval calls of decided tasks, and the success rate by how many each made.
#[derive(Serialize, ToSchema)]
pub struct RetrievalOut {
    pub decided_tasks: u64,
    pub calls: u64,
    /// Input and output tokens of retrieval calls.
    pub tokens: u64,
    pub cost_micros: i64,
    pub cost_before_micros: i64,
    pub calls_per_task: Option<f64>,
    pub calls_per_task_before: Option<f64>,
    pub tokens_per_task: Option<f64>,
    pub tokens_per_task_before: Option<f64>,
    /// Bands of retrieval calls per task that hold tasks, fewest first.
    pub by_volume: Vec<VolumeBandOut>,
}

/// Decided tasks that made between `from` and `to` retrieval calls (`to` null: or more).
#[derive(Serialize, ToSchema)]
pub struct VolumeBandOut {
    pub from: i64,
    pub to: Option<i64>,
    pub tasks: u64,
    pub success_rate: Option<Proportion>,
}

/// One step's input tokens per model call (median and p95, now and before) and what its model
/// calls cost.
#[derive(Serialize, ToSchema)]
pub struct PromptSizeOut {
    /// The agent's step name; empty when calls named none.
    pub step: String,
    pub model_calls: u64,
    pub median_input_tokens: i64,
    pub p95_input_tokens: i64,
    pub median_input_tokens_before: Option<i64>,
    pub p95_input_tokens_before: Option<i64>,
    pub cost_micros: i64,
    pub cost_before_micros: i64,
}

/// The calls of failed attempts in one step: every attempt of a failed, escalated or abandoned
/// task, every attempt but the last of a succeeded or assisted one.
#[derive(Serialize, ToSchema)]
pub struct FailingStepOut {
    pub step: String,
    #[schema(example = "model")]
    pub kind: String,
    pub calls: u64,
    pub failed_calls: u64,
    pub failed_cost_micros: i64,
    pub failed_cost_before_micros: i64,
    /// Its share of all failed attempts' call cost.
    pub share: Option<f64>,
}

impl From<&CallLevers> for RetrievalOut {
    fn from(c: &CallLevers) -> RetrievalOut {
        let r = &c.retrieval;
        RetrievalOut {
            decided_tasks: r.tasks,
            calls: r.calls,
            tokens: r.tokens,
            cost_micros: r.cost.0,
            cost_before_micros: r.cost_before.0,
            calls_per_task: r.calls_per_task,
            calls_per_task_before: r.calls_per_task_before,
            tokens_per_task: r.tokens_per_task,
            tokens_per_task_before: r.tokens_per_task_before,
            by_volume: r
                .by_volume
                .iter()
                .map(|b| VolumeBandOut {
                    from: b.from,
                    to: (b.to < MOST_RETRIEVALS).then_some(b.to),
                    tasks: b.tasks,
                    success_rate: b.success,
                })
                .collect(),
        }
    }
}

/// Which models did one task type's work.
#[derive(Serialize, ToSchema)]
pub struct RoutingOut {
    pub task_type: String,
    /// The cheapest model per successful task among those with at least 30 decided tasks whose
    /// success rate's 95% interval reaches the best observed rate; named only when another
    /// such model costs clearly more per success (more than this one's CPST at the low end of
    /// its interval), null otherwise.
    pub best_model: Option<String>,
    /// What the successful tasks of the clearly dearer models cost above `best_model`'s CPST.
    pub at_stake_micros: i64,
    /// Most tasks first.
    pub models: Vec<RouteOut>,
}

/// One model on one task type: the model of each task's first attempt (its costliest model
/// call there).
#[derive(Serialize, ToSchema)]
pub struct RouteOut {
    /// `provider/model`; empty for tasks without a model call.
    pub model: String,
    pub tasks: u64,
    pub decided_tasks: u64,
    pub task_share: Option<f64>,
    pub task_share_before: Option<f64>,
    /// Every cost of its tasks, with their share of the workflow's fixed costs.
    pub cost_micros: i64,
    pub cost_share: Option<f64>,
    pub success_rate: Option<Proportion>,
    /// Null without a successful task.
    pub cpst_micros: Option<i64>,
    pub at_stake_micros: i64,
}

/// How much input the prompt cache served.
#[derive(Serialize, ToSchema)]
pub struct CachingOut {
    pub input_tokens: u64,
    pub cache_read_tokens: u64,
    /// `cache_read_tokens` over `input_tokens` (input tokens include those read from cache).
    pub share: Option<f64>,
    pub share_before: Option<f64>,
    /// The cache component of the cost: reads and writes.
    pub cost_micros: i64,
    pub cost_before_micros: i64,
    /// What caching saved priced calls: their cached tokens (read and written) at the model's
    /// input price, less what those tokens cost; negative when writes were not paid back.
    pub saved_micros: i64,
    pub saved_before_micros: i64,
    /// Cached tokens of calls that reported their cost, whose saving cannot be told.
    pub unpriced_cached_tokens: u64,
}

/// What work that did not finish cost.
#[derive(Serialize, ToSchema)]
pub struct FailedRunsOut {
    /// The failure tax in dollars: every cost of failed, escalated and abandoned tasks (labour
    /// included) plus the retries of succeeded and assisted ones.
    pub tax_micros: i64,
    pub tax_before_micros: i64,
    /// The retry cost of succeeded and assisted tasks, part of the tax.
    pub finished_retries_micros: i64,
    /// The rest of the tax by verdict (failed, escalated, abandoned), costliest first.
    pub by_verdict: Vec<VerdictCostOut>,
    /// Attempts of decided tasks; failed ones are every attempt of a failed, escalated or
    /// abandoned task and every attempt but the last of a succeeded or assisted one.
    pub attempts: u64,
    pub failed_attempts: u64,
    pub failed_share: Option<f64>,
    pub failed_share_before: Option<f64>,
}

/// The tasks of one verdict and what they cost.
#[derive(Serialize, ToSchema)]
pub struct VerdictCostOut {
    #[schema(example = "escalated")]
    pub verdict: String,
    pub tasks: u64,
    pub cost_micros: i64,
}

impl From<&Route> for RouteOut {
    fn from(r: &Route) -> RouteOut {
        RouteOut {
            model: r.model.clone(),
            tasks: r.tasks,
            decided_tasks: r.decided,
            task_share: r.task_share,
            task_share_before: r.task_share_before,
            cost_micros: r.cost.0,
            cost_share: r.cost_share,
            success_rate: r.success,
            cpst_micros: r.cpst.micros().map(|m| m.0),
            at_stake_micros: r.at_stake.0,
        }
    }
}

impl From<&Routing> for RoutingOut {
    fn from(r: &Routing) -> RoutingOut {
        RoutingOut {
            task_type: r.label.clone(),
            best_model: r.best.clone(),
            at_stake_micros: r.at_stake.0,
            models: r.routes.iter().map(RouteOut::from).collect(),
        }
    }
}

impl From<&Caching> for CachingOut {
    fn from(c: &Caching) -> CachingOut {
        CachingOut {
            input_tokens: c.input_tokens,
            cache_read_tokens: c.cache_read_tokens,
            share: c.share,
            share_before: c.share_before,
            cost_micros: c.cost.0,
            cost_before_micros: c.cost_before.0,
            saved_micros: c.saved.0,
            saved_before_micros: c.saved_before.0,
            unpriced_cached_tokens: c.unpriced_tokens,
        }
    }
}

impl From<&FailedRuns> for FailedRunsOut {
    fn from(f: &FailedRuns) -> FailedRunsOut {
        FailedRunsOut {
            tax_micros: f.tax.0,
            tax_before_micros: f.tax_before.0,
            finished_retries_micros: f.finished_retries.0,
            by_verdict: f
                .by_status
                .iter()
                .map(|(status, tasks, cost)| VerdictCostOut {
                    verdict: status.as_str().to_owned(),
                    tasks: *tasks,
                    cost_micros: cost.0,
                })
                .collect(),
            attempts: f.attempts,
            failed_attempts: f.failed_attempts,
            failed_share: f.failed_share,
            failed_share_before: f.failed_share_before,
        }
    }
}

/// `GET /api/v1/levers?workflow=<slug>`: the levers that move the workflow's CPST over the
/// window (default the last 30 days), each against the window before: routing (per task type,
/// each model's share of tasks and cost, success rate with its interval, CPST, and the money
/// at stake in routing to the cheapest model that is no worse), caching (the share of input
/// read from cache), failed runs (the failure tax and the share of attempts that failed),
/// retrieval (calls and tokens per task, success by retrieval volume), prompt size (input
/// tokens per model call by step) and the steps where failed attempts spent.
#[utoipa::path(get, path = "/api/v1/levers", tag = "read",
    params(LeversQuery),
    responses(
        (status = 200, description = "What moves one workflow's cost per successful task", body = LeversOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_levers(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<LeversQuery>,
) -> Result<Json<LeversOut>, ApiError> {
    let catalog = Catalog::load(&db).await?;
    let workflow = required_workflow(&catalog, &caller, query.workflow.as_deref())?;
    let window = window(
        "",
        [&query.from, &query.to, &query.days].map(Option::as_deref),
        30,
    )?;
    let before = window.previous();
    let rows = window_rows(&db, window).await?;
    let rows_before = window_rows(&db, before).await?;
    let found: Levers = levers(
        &catalog.ledger(window, &rows),
        &catalog.ledger(before, &rows_before),
        workflow.id,
    )
    .map_err(DbError::from)?;
    let calls = call_levers(
        &step_window(&db, workflow.id, window).await?,
        &step_window(&db, workflow.id, before).await?,
    )
    .map_err(DbError::from)?;
    Ok(Json(LeversOut {
        workflow: workflow.slug.clone(),
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        before_from: format_day(before.first_day),
        before_to: format_day(before.last_day),
        routing: found.routing.iter().map(RoutingOut::from).collect(),
        routing_at_stake_micros: found.routing_at_stake.0,
        caching: CachingOut::from(&found.caching),
        failed_runs: FailedRunsOut::from(&found.failed_runs),
        retrieval: RetrievalOut::from(&calls),
        prompt_sizes: calls
            .prompt_sizes
            .iter()
            .map(|p| PromptSizeOut {
                step: p.step.clone(),
                model_calls: p.calls,
                median_input_tokens: p.median,
                p95_input_tokens: p.p95,
                median_input_tokens_before: p.median_before,
                p95_input_tokens_before: p.p95_before,
                cost_micros: p.cost.0,
                cost_before_micros: p.cost_before.0,
            })
            .collect(),
        failing_steps: calls
            .failing_steps
            .iter()
            .map(|s| FailingStepOut {
                step: s.step.clone(),
                kind: s.kind.as_str().to_owned(),
                calls: s.calls,
                failed_calls: s.failed_calls,
                failed_cost_micros: s.failed_cost.0,
                failed_cost_before_micros: s.failed_cost_before.0,
                share: s.share,
            })
            .collect(),
    }))
}
