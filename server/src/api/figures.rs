//! `GET /api/v1/figures`: the CPST engine's figures for any filter and grouping, as JSON or CSV.

use super::params::Params;
use super::{ApiCaller, ApiError};
use app::db::report::{Catalog, task_lines, window_rows};
use app::db::{Db, DbError};
use app::domain::Micros;
use app::domain::cpst::Proportion;
use app::domain::stats::Summary;
use app::domain::time::format_day;
use app::exports::csv_field;
use app::report::detail::{CostlyTask, Detail, details};
use app::report::figures::{GroupFigures, Grouping, figures};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;

const PARAMS: &[&str] = &[
    "from",
    "to",
    "days",
    "group_by",
    "workflow",
    "team",
    "task_type",
    "segment",
    "version",
    "model",
    "provider",
    "detail",
    "format",
];

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
    #[schema(value_type = Option<Object>)]
    pub success_rate: Option<Proportion>,
    pub cost_per_attempted_task_micros: Option<i64>,
    pub total_cost_micros: i64,
    /// model, tool, retry, cache, labour, platform.
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
    #[schema(value_type = Object)]
    pub cost_per_task_micros: Summary,
    #[schema(value_type = Object)]
    pub tokens_per_task: Summary,
    #[schema(value_type = Object)]
    pub calls_per_task: Summary,
    #[schema(value_type = Object)]
    pub latency_ms: Summary,
    #[schema(value_type = Vec<Object>)]
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
        _ => "platform",
    }
}

/// CPST and every figure beside it, per group.
#[utoipa::path(get, path = "/api/v1/figures", tag = "read",
    params(super::docs::FiguresQuery),
    responses(
        (status = 200, description = "Figures per group (CSV with format=csv)", body = super::docs::FiguresOut),
        super::docs::ReadErrors,
    ))]
pub async fn get_figures(
    State(db): State<Db>,
    caller: ApiCaller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let params = Params::new(query, PARAMS)?;
    let window = params.window("", 30)?;
    let grouping = params.grouping(Grouping::Workflow)?;
    let with_detail = params.flag("detail")?;
    let csv = match params.get("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid("format", "must be json or csv")),
    };
    let catalog = Catalog::load(&db).await?;
    let filter = params.filter(&catalog, &caller)?;
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
    let out: Vec<GroupOut> = groups
        .iter()
        .map(|g| GroupOut::new(g, by_group.get(&g.key)))
        .collect();
    if csv {
        return Ok(csv_response(&out, grouping));
    }
    Ok(Json(serde_json::json!({
        "from": format_day(window.first_day),
        "to": format_day(window.last_day),
        "group_by": grouping.as_str(),
        "groups": out,
        "total": total.map(|t| GroupOut::new(&t, overall.as_ref())),
    }))
    .into_response())
}

/// The groups as CSV, money in exact dollars; text cells through the one CSV field writer
/// every export shares ([`csv_field`]), which defuses formulas.
fn csv_response(groups: &[GroupOut], grouping: Grouping) -> Response {
    let mut text = String::from(
        "key,label,from,to,attempted,succeeded,assisted,failed,escalated,abandoned,pending,\
         success_rate,success_rate_lower,success_rate_upper,cpst_usd,cost_per_attempted_task_usd,total_cost_usd,\
         model_usd,tool_usd,retry_usd,cache_usd,labour_usd,platform_usd,pass_at_1,pass_at_3,retry_rate,\
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
