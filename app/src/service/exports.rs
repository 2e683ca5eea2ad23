//! Every table of the finance and engineering pages as CSV: the rows the page shows, built from
//! the same server function's answer, with exact figures for a spreadsheet (dollars to the
//! micro-dollar, shares as fractions to four decimals, an undefined CPST left empty).

use crate::domain::Micros;
use crate::domain::cpst::{Cpst, TaskSet};
use crate::domain::time::format_day;
use crate::report::models::ModelComparison;
use crate::views::format::plain_dollars;
use crate::views::overview::OverviewPage;
use crate::views::workflows::{EconomicsRow, VersionComparison, WorkflowDetail};

/// One table: a header and its rows, every row as long as the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[&'static str]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.columns.len(), "a row fits its header");
        self.rows.push(row);
    }

    /// RFC 4180 text with CRLF line ends.
    pub fn csv(&self) -> String {
        let mut out = self.columns.join(",");
        out.push_str("\r\n");
        for row in &self.rows {
            let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// One CSV field, quoted when it must be (RFC 4180). A field a spreadsheet would run as a
/// formula (one starting with =, +, -, @, a tab or a carriage return) is prefixed with an
/// apostrophe, unless it is a plain decimal number such as `-12.5`. Every CSV Finishline writes,
/// the pages' exports and the read API's alike, goes through here.
pub fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// `-12.5`, `3`: an optional minus, digits, and an optional fraction; nothing a spreadsheet
/// could evaluate.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    [whole, fraction]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

fn money(amount: Micros) -> String {
    plain_dollars(amount)
}

fn maybe_money(amount: Option<Micros>) -> String {
    amount.map(money).unwrap_or_default()
}

fn cpst(value: Cpst) -> String {
    maybe_money(value.micros())
}

fn share(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.4}")).unwrap_or_default()
}

fn rate(set: &TaskSet) -> String {
    share(set.success_rate().map(|r| r.value))
}

/// A download's file name from what it holds, whose it is and when: the parts lower-cased,
/// anything but letters and digits turned into single hyphens, behind `finishline-`;
/// `["Invoice clearing", "trend", "2026-09-14", "to", "2026-12-04"]` names
/// `finishline-invoice-clearing-trend-2026-09-14-to-2026-12-04.csv`.
pub fn file_name(parts: &[&str]) -> String {
    let mut name = String::from("finishline");
    for part in parts {
        let mut hyphen = true;
        for c in part.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                if hyphen {
                    name.push('-');
                }
                name.push(c);
                hyphen = false;
            } else {
                hyphen = true;
            }
        }
    }
    name.truncate(150);
    name.push_str(".csv");
    name
}

fn window_parts(window: crate::report::Window) -> [String; 3] {
    [
        format_day(window.first_day),
        "to".to_owned(),
        format_day(window.last_day),
    ]
}

/// The file name of an overview table: `finishline-workflows-<first day>-to-<last day>.csv`.
pub fn overview_file(page: &OverviewPage, name: &str) -> String {
    let [from, to, last] = window_parts(page.overview.window);
    file_name(&[name, &from, &to, &last])
}

/// The file name of a models table over its period.
pub fn models_file(m: &ModelComparison, name: &str) -> String {
    let [from, to, last] = window_parts(m.window);
    file_name(&["models", name, &from, &to, &last])
}

/// The file name of a workflow's table: the workflow, the table, and the days it covers (the
/// trend's periods, or the last 30 days the page's other tables hold).
pub fn workflow_file(d: &WorkflowDetail, name: &str) -> String {
    let (from, by) = match (name, d.trend.first()) {
        ("trend", Some(first)) => (first.period.as_str(), d.trend_by.as_str()),
        _ => (d.changes.from.as_str(), ""),
    };
    file_name(&[&d.handle, name, by, from, "to", &d.changes.to])
}

/// The file name of a task list: its workflow (or all), its status filter and its days; an
/// open end is today.
pub fn tasks_file(query: &crate::views::tasks::TaskQuery, today: i64) -> String {
    let to = match query.to.trim() {
        "" => format_day(today),
        to => to.to_owned(),
    };
    let workflow = match query.workflow.trim() {
        "" => "all workflows",
        named => named,
    };
    let from = query.from.trim();
    let since = if from.is_empty() { "up" } else { from };
    file_name(&["tasks", workflow, query.status.trim(), since, "to", &to])
}

/// The file name of a comparison: the workflow and its two sides.
pub fn comparison_file(v: &VersionComparison) -> String {
    file_name(&[
        &v.slug,
        "comparison",
        &v.baseline_heading,
        "vs",
        &v.candidate_heading,
    ])
}

/// The overview's tables: `workflows` and `teams`.
pub fn overview_table(page: &OverviewPage, name: &str) -> Option<Table> {
    let o = &page.overview;
    match name {
        "workflows" => {
            let mut t = Table::new(&[
                "workflow",
                "team",
                "cpst_usd",
                "budget_usd",
                "over_budget_usd",
                "previous_cpst_usd",
                "success_rate",
                "succeeded",
                "decided",
                "pending",
                "spend_usd",
                "autonomy_level",
                "gate_passes",
                "human_hours",
                "hours_saved",
                "human_equivalent_usd",
                "baseline_ai_cost_usd",
                "net_savings_usd",
                "baseline_sources",
            ]);
            for w in &o.workflows {
                // Empty savings cells for a workflow without a baseline: nothing, not zero.
                let s = &w.savings;
                let covered = |text: String| if s.is_covered() { text } else { String::new() };
                let now = w.set.cost_per_successful_task();
                let gate = page.gates.iter().find(|g| g.workflow_id == w.workflow_id);
                t.push(vec![
                    w.slug.clone(),
                    w.team_name.clone(),
                    cpst(now),
                    money(w.budget),
                    maybe_money(now.micros().and_then(|c| c.checked_sub(w.budget).ok())),
                    cpst(w.previous_cpst),
                    rate(&w.set),
                    w.set.counts.succeeded.to_string(),
                    w.set.counts.decided().to_string(),
                    w.set.counts.pending.to_string(),
                    money(w.set.total_cost()),
                    w.autonomy_level.to_string(),
                    gate.map(|g| g.passes.to_string()).unwrap_or_default(),
                    covered(format!("{:.2}", s.human_seconds as f64 / 3_600.0)),
                    covered(format!("{:.2}", s.seconds_saved() as f64 / 3_600.0)),
                    covered(money(s.human_equivalent)),
                    covered(money(s.ai_cost)),
                    covered(maybe_money(s.net().ok())),
                    s.sources.iter().cloned().collect::<Vec<_>>().join("; "),
                ]);
            }
            Some(t)
        }
        "teams" => {
            let mut t = Table::new(&[
                "team",
                "cpst_usd",
                "budget_usd",
                "over_budget_usd",
                "success_rate",
                "succeeded",
                "decided",
                "spend_usd",
                "net_savings_usd",
            ]);
            for team in &o.teams {
                let now = team.set.cost_per_successful_task();
                t.push(vec![
                    team.name.clone(),
                    cpst(now),
                    maybe_money(team.budget),
                    maybe_money(
                        now.micros()
                            .zip(team.budget)
                            .and_then(|(c, b)| c.checked_sub(b).ok()),
                    ),
                    rate(&team.set),
                    team.set.counts.succeeded.to_string(),
                    team.set.counts.decided().to_string(),
                    money(team.set.total_cost()),
                    match team.savings.is_covered() {
                        true => maybe_money(team.savings.net().ok()),
                        false => String::new(),
                    },
                ]);
            }
            Some(t)
        }
        _ => None,
    }
}

fn economics_table(rows: &[EconomicsRow], label: &'static str) -> Table {
    let mut t = Table::new(&[
        label,
        "decided",
        "success_rate",
        "cpst_usd",
        "cost_per_attempted_task_usd",
        "failure_tax_usd",
        "spend_usd",
    ]);
    for r in rows {
        t.push(vec![
            r.label.clone(),
            r.decided.to_string(),
            share(r.success_rate),
            cpst(r.cpst),
            maybe_money(r.cost_per_attempted),
            maybe_money(r.failure_tax()),
            money(r.total),
        ]);
    }
    t
}

/// The workflow page's tables: `components`, `task-types`, `segments`, `trend`,
/// `cost-histogram`, `escalations`, `steps` and `costliest`.
pub fn workflow_table(d: &WorkflowDetail, name: &str) -> Option<Table> {
    let e = &d.economics;
    let h = &d.health_30d;
    Some(match name {
        "components" => {
            let mut t = Table::new(&["component", "amount_usd", "share"]);
            for (component, amount, part) in &e.components {
                t.push(vec![component.clone(), money(*amount), share(*part)]);
            }
            t
        }
        "task-types" => economics_table(&e.by_task_type, "task_type"),
        "segments" => economics_table(&e.by_segment, "segment"),
        "trend" => {
            let mut t = Table::new(&[
                "period_start",
                "decided",
                "success_rate",
                "cpst_usd",
                "model_usd",
                "tool_usd",
                "retry_usd",
                "cache_usd",
                "human_review_usd",
                "platform_usd",
                "unattributed_usd",
                "baselines",
                "partial",
            ]);
            for r in &d.trend {
                let mut row = vec![
                    r.period.clone(),
                    r.decided.to_string(),
                    share(r.success_rate),
                    cpst(r.cpst),
                ];
                row.extend(r.costs.components().iter().map(|(_, m)| money(*m)));
                row.push(r.baselines.join("; "));
                row.push(r.partial.to_string());
                t.push(row);
            }
            t
        }
        "cost-histogram" => {
            let mut t = Table::new(&["from_usd", "below_usd", "tasks"]);
            for bin in &h.cost_histogram {
                t.push(vec![
                    money(Micros(bin.from)),
                    maybe_money(bin.to.map(Micros)),
                    bin.count.to_string(),
                ]);
            }
            t
        }
        "escalations" => {
            let mut t = Table::new(&["reason", "tasks", "cumulative_share"]);
            for (reason, n, cumulative) in &h.escalations {
                t.push(vec![
                    reason.clone(),
                    n.to_string(),
                    share(Some(*cumulative)),
                ]);
            }
            t
        }
        "steps" => {
            let mut t = Table::new(&[
                "step",
                "model",
                "calls",
                "error_rate",
                "cost_usd",
                "mean_latency_ms",
            ]);
            for (step, model, calls, errors, cost, latency) in &h.steps {
                t.push(vec![
                    step.clone(),
                    model.clone(),
                    calls.to_string(),
                    share(Some(*errors)),
                    money(*cost),
                    latency.to_string(),
                ]);
            }
            t
        }
        "costliest" => {
            let mut t = Table::new(&["task_id", "verdict", "cost_usd"]);
            for (_, external, verdict, cost) in &h.costliest {
                t.push(vec![external.clone(), verdict.clone(), money(*cost)]);
            }
            t
        }
        _ => return None,
    })
}

/// The models page's tables: `models` (a row per model and workflow) and `winners`.
pub fn models_table(m: &ModelComparison, name: &str) -> Option<Table> {
    match name {
        "models" => {
            let mut t = Table::new(&[
                "model",
                "weighted_cpst_usd",
                "workflow",
                "traffic_share",
                "weight",
                "decided",
                "success_rate",
                "cpst_usd",
                "p95_task_seconds",
                "over_latency_budget",
            ]);
            for model in &m.models {
                for u in &model.workflows {
                    t.push(vec![
                        model.model.clone(),
                        maybe_money(model.weighted_cpst),
                        u.workflow_slug.clone(),
                        share(u.traffic_share),
                        share(u.weight),
                        u.set.counts.decided().to_string(),
                        rate(&u.set),
                        cpst(u.set.cost_per_successful_task()),
                        u.p95_task_ms
                            .map(crate::views::format::plain_seconds)
                            .unwrap_or_default(),
                        u.over_latency_budget.to_string(),
                    ]);
                }
            }
            Some(t)
        }
        "winners" => {
            let mut t = Table::new(&[
                "workflow",
                "model",
                "cpst_usd",
                "quality_target",
                "meets_quality_target",
                "models_compared",
                "latency_budget_seconds",
                "over_latency_budget",
            ]);
            for w in &m.winners {
                t.push(vec![
                    w.workflow_slug.clone(),
                    w.model.clone().unwrap_or_default(),
                    maybe_money(w.cpst),
                    share(Some(w.quality_target)),
                    w.meets_quality_target
                        .map(|b| b.to_string())
                        .unwrap_or_default(),
                    w.candidates.to_string(),
                    w.latency_budget_ms
                        .map(crate::views::format::plain_seconds)
                        .unwrap_or_default(),
                    w.over_latency_budget.join(" "),
                ]);
            }
            Some(t)
        }
        _ => None,
    }
}

/// The comparison page's table: a row per figure, baseline and candidate side by side.
pub fn comparison_table(v: &VersionComparison) -> Table {
    let mut t = Table::new(&["figure", "baseline", "candidate", "change"]);
    let Some(c) = &v.comparison else {
        return t;
    };
    let (b, a) = (&c.baseline, &c.candidate);
    t.push(vec![
        "side".into(),
        v.baseline_heading.clone(),
        v.candidate_heading.clone(),
        String::new(),
    ]);
    t.push(vec![
        "decided".into(),
        b.counts.decided().to_string(),
        a.counts.decided().to_string(),
        String::new(),
    ]);
    t.push(vec![
        "success_rate".into(),
        rate(b),
        rate(a),
        share(c.rate_change.map(|r| r.delta)),
    ]);
    t.push(vec![
        "success_rate_change_significant".into(),
        String::new(),
        String::new(),
        c.rate_change
            .map(|r| r.significant.to_string())
            .unwrap_or_default(),
    ]);
    t.push(vec![
        "cpst_usd".into(),
        cpst(b.cost_per_successful_task()),
        cpst(a.cost_per_successful_task()),
        maybe_money(c.cpst_change),
    ]);
    t.push(vec![
        "cost_per_attempted_task_usd".into(),
        maybe_money(b.cost_per_attempted_task()),
        maybe_money(a.cost_per_attempted_task()),
        String::new(),
    ]);
    for (((label, before), (_, after)), (_, change)) in b
        .costs
        .components()
        .into_iter()
        .zip(a.costs.components())
        .zip(&c.component_changes)
    {
        t.push(vec![
            format!(
                "{}_per_attempted_task_usd",
                label.to_lowercase().replace(' ', "_")
            ),
            maybe_money(before.per(b.counts.decided())),
            maybe_money(after.per(a.counts.decided())),
            maybe_money(*change),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-12.5"), "-12.5");
        assert_eq!(csv_field("@cmd"), "'@cmd");
        assert_eq!(csv_field("3"), "3");
        assert_eq!(csv_field("\t=cmd"), "'\t=cmd");
        assert_eq!(csv_field("\r=cmd"), "\"'\r=cmd\"");
        assert_eq!(csv_field("+SUM(A1)"), "'+SUM(A1)");
        assert_eq!(csv_field("-1+1"), "'-1+1");
        assert_eq!(csv_field("-inf"), "'-inf");
        assert_eq!(csv_field("+1"), "'+1");
    }

    #[test]
    fn file_names_say_what_whose_and_when_in_safe_characters() {
        assert_eq!(
            file_name(&[
                "acme:Invoice clearing",
                "trend",
                "week",
                "2026-09-14",
                "to",
                "2026-12-04"
            ]),
            "finishline-acme-invoice-clearing-trend-week-2026-09-14-to-2026-12-04.csv"
        );
        assert_eq!(
            file_name(&["\"/../é</title>", "", "v1 → v2"]),
            "finishline-title-v1-v2.csv"
        );
        assert!(file_name(&[&"x".repeat(500)]).len() <= 154);
    }

    #[test]
    fn a_table_is_a_header_and_quoted_rows() {
        let mut t = Table::new(&["reason", "tasks"]);
        t.push(vec!["refund, over limit".into(), "3".into()]);
        assert_eq!(t.csv(), "reason,tasks\r\n\"refund, over limit\",3\r\n");
        assert_eq!(
            cpst(Cpst::NoSuccessfulTasks),
            "",
            "undefined is empty, not zero"
        );
        assert_eq!(cpst(Cpst::Cost(Micros(1_150_000))), "1.15");
        assert_eq!(share(Some(0.875)), "0.8750");
    }
}
