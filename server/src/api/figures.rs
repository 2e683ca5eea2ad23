//! `GET /api/v1/figures`: the CPST engine's figures for any filter and grouping, as JSON or CSV.

use super::params::{ApiQuery, FilterAsked, api_days, flag, grouping, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::catalog::{Catalog, task_lines, window_rows};
use app::db::{Db, DbError};
use app::domain::Micros;
use app::domain::cpst::Proportion;
use app::domain::stats::Summary;
use app::domain::time::format_day;
use app::report::detail::{CostlyTask, Detail, details};
use app::report::figures::{GroupFigures, Grouping, figures};
use app::service::exports::csv_field;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// The filters, window and grouping `GET /api/v1/figures` takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FiguresQuery {
    /// First day, inclusive (UTC).
    #[param(format = Date, example = "2026-10-01")]
    pub from: Option<String>,
    /// Last day, inclusive (UTC); default today.
    #[param(format = Date, example = "2026-10-31")]
    pub to: Option<String>,
    #[param(schema_with = api_days)]
    pub days: Option<String>,
    /// all, workflow, team, task_type, segment, config_version, model, provider, day, week or month.
    #[param(example = "workflow")]
    pub group_by: Option<String>,
    /// A workflow's slug.
    #[param(example = "support-triage")]
    pub workflow: Option<String>,
    /// A team's slug.
    pub team: Option<String>,
    /// A task type's slug.
    pub task_type: Option<String>,
    pub segment: Option<String>,
    /// A configuration version's label (with `workflow`).
    pub version: Option<String>,
    /// provider/model.
    #[param(example = "anthropic/claude-haiku-4-5")]
    pub model: Option<String>,
    pub provider: Option<String>,
    /// Add distributions, the costliest tasks and escalation reasons.
    #[param(value_type = Option<bool>)]
    pub detail: Option<String>,
    /// json (default) or csv.
    #[param(example = "json")]
    pub format: Option<String>,
}

impl FiguresQuery {
    fn filters(&self) -> FilterAsked<'_> {
        FilterAsked {
            workflow: self.workflow.as_deref(),
            team: self.team.as_deref(),
            task_type: self.task_type.as_deref(),
            segment: self.segment.as_deref(),
            version: self.version.as_deref(),
            model: self.model.as_deref(),
            provider: self.provider.as_deref(),
        }
    }
}

/// Figures per group and for all groups together.
#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    #[schema(example = "2026-10-01")]
    pub from: String,
    pub to: String,
    pub group_by: String,
    pub groups: Vec<GroupOut>,
    pub total: Option<GroupOut>,
}

/// One group as the API shows it. Money is integer micro-dollars, with the display text beside.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupOut {
    pub key: String,
    pub label: String,
    pub from: String,
    pub to: String,
    pub cpst_micros: Option<i64>,
    pub cpst: String,
    pub tasks: TasksOut,
    /// value, lower and upper (95% Wilson interval), successes, trials.
    pub success_rate: Option<Proportion>,
    pub cost_per_attempted_task_micros: Option<i64>,
    pub total_cost_micros: i64,
    /// model, tool, retry, cache, labour, platform, unattributed (billed spend no call
    /// explains, when finance allocates it).
    #[schema(value_type = HashMap<String, i64>)]
    pub cost_micros: HashMap<&'static str, i64>,
    pub pass_at_1: Option<f64>,
    pub pass_at_3: Option<f64>,
    pub retry_rate: Option<f64>,
    pub attempts: u64,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub mean_tokens_per_task: Option<f64>,
    pub mean_calls_per_task: Option<f64>,
    pub mean_latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<DetailOut>,
    /// Against the human baseline, for workflow and team groups and the total of an
    /// unnarrowed request (a team's: the workflows it owns); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub savings: Option<SavingsOut>,
}

/// Savings against the human baseline (see the README's "Savings against people").
#[derive(Serialize, utoipa::ToSchema)]
pub struct SavingsOut {
    /// Whether any task of the group had a baseline; without one the figures below are 0.
    pub covered: bool,
    pub succeeded_tasks: u64,
    /// What the succeeded tasks would have taken people.
    pub human_seconds: i64,
    /// That, less the review and repair time spent on the covered tasks.
    pub seconds_saved: i64,
    pub human_equivalent_micros: i64,
    pub ai_cost_micros: i64,
    pub net_savings_micros: Option<i64>,
    /// Human-equivalent cost per dollar of AI cost.
    pub ratio: Option<f64>,
    /// The succeeded tasks at an outcome-priced vendor's price, where baselines give one.
    pub reference_equivalent_micros: Option<i64>,
    pub task_types: usize,
    pub covered_task_types: usize,
    pub sources: Vec<String>,
}

impl From<&app::report::savings::Savings> for SavingsOut {
    fn from(s: &app::report::savings::Savings) -> SavingsOut {
        SavingsOut {
            covered: s.is_covered(),
            succeeded_tasks: s.succeeded,
            human_seconds: s.human_seconds,
            seconds_saved: s.seconds_saved(),
            human_equivalent_micros: s.human_equivalent.0,
            ai_cost_micros: s.ai_cost.0,
            net_savings_micros: s.net().ok().map(|m| m.0),
            ratio: s.ratio(),
            reference_equivalent_micros: s.reference_equivalent.map(|m| m.0),
            task_types: s.task_types.len(),
            covered_task_types: s.covered_task_types.len(),
            sources: s.sources.iter().cloned().collect(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TasksOut {
    /// Decided tasks: every verdict but pending.
    pub attempted: u64,
    pub succeeded: u64,
    pub assisted: u64,
    pub failed: u64,
    pub escalated: u64,
    pub abandoned: u64,
    pub pending: u64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DetailOut {
    pub cost_per_task_micros: Summary,
    pub tokens_per_task: Summary,
    pub calls_per_task: Summary,
    pub latency_ms: Summary,
    pub costliest_tasks: Vec<CostlyTask>,
    pub costliest_5pct_share: Option<f64>,
    #[schema(schema_with = reason_counts)]
    pub escalation_reasons: Vec<(String, u64)>,
}

/// How the document describes `escalation_reasons`: `[reason, tasks]` pairs.
fn reason_counts() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType};
    let either = ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some(
            "the reason (a string), then how many tasks gave it (an integer)",
        ));
    let pair = ArrayBuilder::new()
        .items(either)
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new()
        .items(pair)
        .description(Some("`[reason, tasks]` pairs, most frequent first"))
        .build()
}

impl GroupOut {
    pub fn new(group: &GroupFigures, detail: Option<&Detail>) -> GroupOut {
        let set = &group.set;
        let c = &set.counts;
        let usage = &group.usage;
        let cpst = set.cost_per_successful_task();
        GroupOut {
            key: group.key.clone(),
            label: group.label.clone(),
            from: format_day(group.window.first_day),
            to: format_day(group.window.last_day),
            cpst_micros: cpst.micros().map(|m| m.0),
            cpst: cpst.to_string(),
            tasks: TasksOut {
                attempted: c.decided(),
                succeeded: c.succeeded,
                assisted: c.assisted,
                failed: c.failed,
                escalated: c.escalated,
                abandoned: c.abandoned,
                pending: c.pending,
            },
            success_rate: set.success_rate(),
            cost_per_attempted_task_micros: set.cost_per_attempted_task().map(|m| m.0),
            total_cost_micros: set.total_cost().0,
            cost_micros: set
                .costs
                .components()
                .iter()
                .map(|(label, m)| (component_key(label), m.0))
                .collect(),
            pass_at_1: group.pass_at_1(),
            pass_at_3: group.pass_at_3(),
            retry_rate: group.retry_rate(),
            attempts: usage.attempts,
            calls: usage.calls,
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cache_read_tokens: usage.cache_read_tokens,
            mean_tokens_per_task: usage.per_task(usage.input_tokens + usage.output_tokens),
            mean_calls_per_task: usage.per_task(usage.calls),
            mean_latency_ms: usage.per_task(usage.duration_ms),
            detail: detail.map(|d| DetailOut {
                cost_per_task_micros: d.cost,
                tokens_per_task: d.tokens,
                calls_per_task: d.calls,
                latency_ms: d.latency_ms,
                costliest_tasks: d.costliest.clone(),
                costliest_5pct_share: d.costliest_5pct_share_bp.map(|bp| bp as f64 / 10_000.0),
                escalation_reasons: d.escalation_reasons.clone(),
            }),
            savings: None,
        }
    }
}

fn component_key(label: &str) -> &'static str {
    match label {
        "Model" => "model",
        "Tool" => "tool",
        "Retry" => "retry",
        "Cache" => "cache",
        "Human review" => "labour",
        "Unattributed spend" => "unattributed",
        _ => "platform",
    }
}

/// CPST and every figure beside it, per group.
#[utoipa::path(get, path = "/api/v1/figures", tag = "read",
    params(FiguresQuery),
    responses(
        (status = 200, description = "Figures per group (CSV with format=csv)", content(
            (FiguresOut = "application/json"),
            (String = "text/csv"),
        )),
        crate::error::ReadErrors,
    ))]
pub async fn get_figures(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<FiguresQuery>,
) -> Result<Response, ApiError> {
    let window = window(
        "",
        [&query.from, &query.to, &query.days].map(Option::as_deref),
        30,
    )?;
    let grouping = grouping(query.group_by.as_deref(), Grouping::Workflow)?;
    let with_detail = flag("detail", query.detail.as_deref())?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "must be json or csv")),
    };
    let catalog = Catalog::load(&db).await?;
    let filter = query.filters().filter(&catalog, &caller)?;
    let rows = window_rows(&db, window).await?;
    let ledger = catalog.ledger(window, &rows);
    let groups = figures(&ledger, &filter, grouping).map_err(DbError::from)?;
    let total = figures(&ledger, &filter, Grouping::All)
        .map_err(DbError::from)?
        .pop();
    let (by_group, overall) = if with_detail {
        let lines = task_lines(&db, window, filter.workflow_ids.as_deref()).await?;
        (
            details(&lines, &filter, grouping, window),
            details(&lines, &filter, Grouping::All, window).remove(""),
        )
    } else {
        Default::default()
    };
    let mut out: Vec<GroupOut> = groups
        .iter()
        .map(|g| GroupOut::new(g, by_group.get(&g.key)))
        .collect();
    let mut total = total.map(|t| GroupOut::new(&t, overall.as_ref()));
    // Savings are a workflow's whole: they go with groups of whole workflows only.
    let narrowed = filter.task_type_id.is_some()
        || filter.segment.is_some()
        || filter.config_version_id.is_some()
        || filter.model.is_some()
        || filter.provider.is_some();
    if !narrowed {
        let savings = app::report::savings::savings_by_workflow(&ledger, &catalog.baselines)
            .map_err(DbError::from)?;
        let owner = |id: i64| {
            catalog
                .workflows
                .iter()
                .find(|w| w.id == id)
                .map(|w| w.team_id)
        };
        let visible = |id: &i64| {
            filter
                .workflow_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(id))
                && filter.team_id.is_none_or(|team| owner(*id) == Some(team))
        };
        let merged = |keep: &dyn Fn(i64) -> bool| {
            let mut all = app::report::savings::Savings::default();
            for (_, s) in savings.iter().filter(|(id, _)| visible(id) && keep(**id)) {
                all.merge(s)?;
            }
            Ok::<_, DbError>(all)
        };
        for group in &mut out {
            let Ok(key) = group.key.parse::<i64>() else {
                continue;
            };
            let found = match grouping {
                Grouping::Workflow => Some(merged(&|id| id == key)?),
                Grouping::Team => Some(merged(&|id| owner(id) == Some(key))?),
                _ => None,
            };
            group.savings = found.as_ref().map(SavingsOut::from);
        }
        if let Some(total) = total.as_mut() {
            total.savings = Some(SavingsOut::from(&merged(&|_| true)?));
        }
    }
    if csv {
        return Ok(csv_response(&out, grouping));
    }
    Ok(Json(FiguresOut {
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        group_by: grouping.as_str().to_owned(),
        groups: out,
        total,
    })
    .into_response())
}

/// The groups as CSV, money in exact dollars; text cells through the one CSV field writer
/// every export shares ([`csv_field`]), which defuses formulas.
fn csv_response(groups: &[GroupOut], grouping: Grouping) -> Response {
    let mut text = String::from(
        "key,label,from,to,attempted,succeeded,assisted,failed,escalated,abandoned,pending,\
         success_rate,success_rate_lower,success_rate_upper,cpst_usd,cost_per_attempted_task_usd,total_cost_usd,\
         model_usd,tool_usd,retry_usd,cache_usd,labour_usd,platform_usd,unattributed_usd,pass_at_1,pass_at_3,retry_rate,\
         mean_tokens_per_task,mean_calls_per_task,mean_latency_ms\n",
    );
    let ratio = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let money = |v: Option<i64>| v.map(|m| exact_dollars(Micros(m))).unwrap_or_default();
    for g in groups {
        let t = &g.tasks;
        let rate = g.success_rate.as_ref();
        let cells = [
            csv_field(&g.key),
            csv_field(&g.label),
            g.from.clone(),
            g.to.clone(),
            t.attempted.to_string(),
            t.succeeded.to_string(),
            t.assisted.to_string(),
            t.failed.to_string(),
            t.escalated.to_string(),
            t.abandoned.to_string(),
            t.pending.to_string(),
            ratio(rate.map(|r| r.value)),
            ratio(rate.map(|r| r.lower)),
            ratio(rate.map(|r| r.upper)),
            money(g.cpst_micros),
            money(g.cost_per_attempted_task_micros),
            money(Some(g.total_cost_micros)),
            money(g.cost_micros.get("model").copied()),
            money(g.cost_micros.get("tool").copied()),
            money(g.cost_micros.get("retry").copied()),
            money(g.cost_micros.get("cache").copied()),
            money(g.cost_micros.get("labour").copied()),
            money(g.cost_micros.get("platform").copied()),
            money(g.cost_micros.get("unattributed").copied()),
            ratio(g.pass_at_1),
            ratio(g.pass_at_3),
            ratio(g.retry_rate),
            ratio(g.mean_tokens_per_task),
            ratio(g.mean_calls_per_task),
            ratio(g.mean_latency_ms),
        ];
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    let filename = format!(
        "attachment; filename=\"finishline-cpst-by-{}.csv\"",
        grouping.as_str()
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        text,
    )
        .into_response()
}

/// `1.05` for 1,050,000 micro-dollars: every digit kept, no rounding, no thousands separator.
pub fn exact_dollars(m: Micros) -> String {
    let sign = if m.0 < 0 { "-" } else { "" };
    let abs = m.0.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_dollars_keep_every_digit() {
        assert_eq!(exact_dollars(Micros(1_050_000)), "1.050000");
        assert_eq!(exact_dollars(Micros(-7)), "-0.000007");
    }
}
