//! Figures that need one row per task rather than rollups: medians and p95s, the costliest
//! tasks and the share of spend they carry, escalation reasons ranked. Computed over decided
//! tasks, like CPST; a task's cost here is its call cost plus its review labour (platform cost
//! belongs to the set, not to any one task).

use super::Window;
use super::figures::{Filter, Grouping, Keys, group_key, periods};
use crate::domain::Micros;
use crate::domain::stats::{Bin, Summary, costliest_share_bp, histogram};
use crate::domain::{TaskStatus, time::format_day};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One decided task, as the detail figures see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedTask {
    pub id: i64,
    pub external_id: String,
    pub workflow_id: i64,
    pub team_id: i64,
    pub task_type_id: i64,
    pub segment: String,
    pub config_version_id: i64,
    pub model: String,
    pub day: i64,
    pub status: TaskStatus,
    /// Attributed call cost (model, tool, retry and cache) plus review labour.
    pub cost_micros: i64,
    pub calls: i64,
    pub tokens: i64,
    pub duration_ms: i64,
    pub escalation_reason: Option<String>,
}

impl<'a> From<&'a DecidedTask> for Keys<'a> {
    fn from(line: &'a DecidedTask) -> Self {
        Keys {
            workflow_id: line.workflow_id,
            team_id: line.team_id,
            task_type_id: line.task_type_id,
            segment: &line.segment,
            config_version_id: line.config_version_id,
            model: &line.model,
        }
    }
}

/// One of the costliest tasks, to link to its trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CostlyTask {
    pub id: i64,
    pub external_id: String,
    pub status: TaskStatus,
    pub cost: Micros,
}

/// Distribution figures for one group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// Cost per task in micro-dollars, labour included.
    pub cost: Summary,
    pub tokens: Summary,
    pub calls: Summary,
    pub latency_ms: Summary,
    pub costliest: Vec<CostlyTask>,
    /// Share of the group's task cost carried by its costliest 5% of tasks, in basis points.
    pub costliest_5pct_share_bp: Option<i64>,
    /// Escalation reasons with their counts, most frequent first.
    pub escalation_reasons: Vec<(String, u64)>,
    /// How many tasks cost how much: round bars up to the 99th percentile, then the tail.
    pub cost_histogram: Vec<Bin>,
}

/// At most this many regular bars in a cost histogram.
pub const HISTOGRAM_BARS: usize = 12;

/// How many of the costliest tasks a detail lists.
pub const COSTLIEST_LISTED: usize = 10;

/// Detail figures per group of the decided `lines` that pass `filter`.
pub fn details(
    lines: &[DecidedTask],
    filter: &Filter,
    grouping: Grouping,
    window: Window,
) -> BTreeMap<String, Detail> {
    let starts: Vec<i64> = periods(window, grouping)
        .iter()
        .map(|p| p.first_day)
        .collect();
    let mut groups: BTreeMap<String, Vec<&DecidedTask>> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.status != TaskStatus::Pending) {
        let keys = Keys::from(line);
        if !filter.matches(&keys) {
            continue;
        }
        let key = if grouping.is_period() {
            let start = starts.partition_point(|s| *s <= line.day).saturating_sub(1);
            format_day(starts.get(start).copied().unwrap_or(line.day))
        } else {
            group_key(grouping, &keys)
        };
        groups.entry(key).or_default().push(line);
    }
    groups
        .into_iter()
        .map(|(key, members)| (key, detail(&members)))
        .collect()
}

/// How an escalation reason is listed: as given, or "(no reason given)" when blank.
pub fn escalation_label(reason: Option<&str>) -> String {
    match reason.map(str::trim) {
        Some(reason) if !reason.is_empty() => reason.to_owned(),
        _ => "(no reason given)".to_owned(),
    }
}

/// Escalation reasons with their counts, most frequent first, then by name.
pub fn most_frequent_first(mut reasons: Vec<(String, u64)>) -> Vec<(String, u64)> {
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    reasons
}

fn detail(lines: &[&DecidedTask]) -> Detail {
    let mut costs: Vec<i64> = lines.iter().map(|l| l.cost_micros).collect();
    let summary = |f: fn(&DecidedTask) -> i64| {
        Summary::of(&mut lines.iter().map(|l| f(l)).collect::<Vec<_>>())
    };
    let mut ranked: Vec<(&DecidedTask, i64)> = lines.iter().map(|l| (*l, l.cost_micros)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
    let costliest = ranked
        .iter()
        .take(COSTLIEST_LISTED)
        .map(|(l, cost)| CostlyTask {
            id: l.id,
            external_id: l.external_id.clone(),
            status: l.status,
            cost: Micros(*cost),
        })
        .collect();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.status == TaskStatus::Escalated) {
        *reasons
            .entry(escalation_label(line.escalation_reason.as_deref()))
            .or_default() += 1;
    }
    let escalation_reasons = most_frequent_first(reasons.into_iter().collect());
    Detail {
        cost: Summary::of(&mut costs.clone()),
        cost_histogram: histogram(&mut costs.clone(), HISTOGRAM_BARS),
        tokens: summary(|l| l.tokens),
        calls: summary(|l| l.calls),
        latency_ms: summary(|l| l.duration_ms),
        costliest,
        costliest_5pct_share_bp: costliest_share_bp(&mut costs, 5),
        escalation_reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: i64, status: TaskStatus, cost: i64, reason: Option<&str>) -> DecidedTask {
        DecidedTask {
            id,
            external_id: format!("t-{id}"),
            workflow_id: 1,
            team_id: 1,
            task_type_id: 1,
            segment: String::new(),
            config_version_id: 1,
            model: "openai/gpt-5".into(),
            day: 10,
            status,
            cost_micros: cost,
            calls: 3,
            tokens: 1_000,
            duration_ms: 2_000,
            escalation_reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn details_rank_costs_and_escalation_reasons_over_decided_tasks() {
        let lines = vec![
            line(1, TaskStatus::Succeeded, 100, None),
            line(2, TaskStatus::Escalated, 900, Some("refund over limit")),
            line(3, TaskStatus::Escalated, 50, Some("angry customer")),
            line(4, TaskStatus::Escalated, 60, Some("refund over limit")),
            line(5, TaskStatus::Pending, 99_999, None),
        ];
        let mut with_review = lines.clone();
        with_review[0].cost_micros += 100_000; // Ten seconds of review at $36/hour.
        let window = Window {
            first_day: 10,
            last_day: 10,
        };
        let all = details(&with_review, &Filter::default(), Grouping::All, window);
        let d = &all[""];
        assert_eq!(d.cost.count, 4, "pending tasks are left out");
        assert_eq!(
            (d.costliest[0].external_id.as_str(), d.costliest[0].cost),
            ("t-1", Micros(100_100))
        );
        assert_eq!(d.costliest[1].external_id, "t-2");
        assert_eq!(
            d.escalation_reasons,
            vec![
                ("refund over limit".into(), 2),
                ("angry customer".into(), 1)
            ]
        );
        assert_eq!(d.costliest_5pct_share_bp, Some(9_900), "100,100 of 101,110");
        assert_eq!(
            d.cost_histogram.iter().map(|b| b.count).sum::<u64>(),
            4,
            "the histogram counts every decided task once"
        );
        let by_day = details(&lines, &Filter::default(), Grouping::Day, window);
        assert_eq!(by_day["1970-01-11"].cost.count, 4);
    }
}
