//! The CPST engine over rollups: any filter, any grouping, one window. Every figure on every
//! page and in the read API comes from [`figures`], which builds [`TaskSet`]s and lets the
//! domain do the arithmetic.
//!
//! Labour comes priced per task from the rollups. Platform cost is
//! allocated to workflows by [`platform_by_workflow`] over the window, then to the groups inside
//! a workflow in proportion to the tasks each decided; a filter keeps only its share.

use super::{Window, platform_by_workflow};
use crate::domain::cpst::{CostBreakdown, TaskSet};
use crate::domain::money::MoneyOverflow;
use crate::domain::platform::allocate;
use crate::domain::time::{civil_from_days, days_from_civil, format_day};
use crate::domain::{Micros, TaskStatus};
use crate::model::{ConfigVersion, PlatformCost, TaskRollup, TaskType, Team, Workflow};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How tasks are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    All,
    Workflow,
    Team,
    TaskType,
    Segment,
    ConfigVersion,
    Model,
    Provider,
    Day,
    Week,
    Month,
}

impl Grouping {
    pub const ALL: [Grouping; 11] = [
        Grouping::All,
        Grouping::Workflow,
        Grouping::Team,
        Grouping::TaskType,
        Grouping::Segment,
        Grouping::ConfigVersion,
        Grouping::Model,
        Grouping::Provider,
        Grouping::Day,
        Grouping::Week,
        Grouping::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::All => "all",
            Grouping::Workflow => "workflow",
            Grouping::Team => "team",
            Grouping::TaskType => "task_type",
            Grouping::Segment => "segment",
            Grouping::ConfigVersion => "config_version",
            Grouping::Model => "model",
            Grouping::Provider => "provider",
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Grouping> {
        Grouping::ALL.into_iter().find(|g| g.as_str() == text)
    }

    pub fn is_period(self) -> bool {
        matches!(self, Grouping::Day | Grouping::Week | Grouping::Month)
    }
}

/// Which tasks count. Every field narrows; `None` means any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub workflow_ids: Option<Vec<i64>>,
    pub team_id: Option<i64>,
    pub task_type_id: Option<i64>,
    pub segment: Option<String>,
    pub config_version_id: Option<i64>,
    /// "provider/model".
    pub model: Option<String>,
    pub provider: Option<String>,
}

impl Filter {
    pub fn matches(&self, keys: &Keys<'_>) -> bool {
        self.workflow_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&keys.workflow_id))
            && self.team_id.is_none_or(|id| id == keys.team_id)
            && self.task_type_id.is_none_or(|id| id == keys.task_type_id)
            && self.segment.as_ref().is_none_or(|s| s == keys.segment)
            && self
                .config_version_id
                .is_none_or(|id| id == keys.config_version_id)
            && self.model.as_ref().is_none_or(|m| m == keys.model)
            && self
                .provider
                .as_ref()
                .is_none_or(|p| p == provider_of(keys.model))
    }
}

/// The grouping dimensions of a task or of a rollup row: what filters and groups look at.
#[derive(Clone, Copy, Debug)]
pub struct Keys<'a> {
    pub workflow_id: i64,
    pub team_id: i64,
    pub task_type_id: i64,
    pub segment: &'a str,
    pub config_version_id: i64,
    pub model: &'a str,
}

impl<'a> From<&'a TaskRollup> for Keys<'a> {
    fn from(row: &'a TaskRollup) -> Self {
        Keys {
            workflow_id: row.workflow_id,
            team_id: row.team_id,
            task_type_id: row.task_type_id,
            segment: &row.segment,
            config_version_id: row.config_version_id,
            model: &row.model,
        }
    }
}

/// The key of the group `keys` falls in; periods are keyed by the caller.
pub fn group_key(grouping: Grouping, keys: &Keys<'_>) -> String {
    match grouping {
        Grouping::All | Grouping::Day | Grouping::Week | Grouping::Month => String::new(),
        Grouping::Workflow => keys.workflow_id.to_string(),
        Grouping::Team => keys.team_id.to_string(),
        Grouping::TaskType => keys.task_type_id.to_string(),
        Grouping::Segment => keys.segment.to_owned(),
        Grouping::ConfigVersion => keys.config_version_id.to_string(),
        Grouping::Model => keys.model.to_owned(),
        Grouping::Provider => provider_of(keys.model).to_owned(),
    }
}

fn provider_of(model: &str) -> &str {
    model.split_once('/').map_or("", |(provider, _)| provider)
}

/// Everything the engine reads: the catalogue and every rollup row of the window.
pub struct Ledger<'a> {
    pub window: Window,
    pub workflows: &'a [Workflow],
    pub teams: &'a [Team],
    pub task_types: &'a [TaskType],
    pub config_versions: &'a [ConfigVersion],
    pub platform_costs: &'a [PlatformCost],
    /// Billed spend no call explains, as monthly amounts per workflow, when finance allocates
    /// it (see `service::reconcile::unattributed_allocations`); empty otherwise.
    pub unattributed: &'a [PlatformCost],
    /// Every version of every task type's human baseline, for savings.
    pub baselines: &'a [crate::model::HumanBaseline],
    /// All rows of the window, unfiltered: platform shares depend on the whole workflow.
    pub rows: &'a [TaskRollup],
}

/// Counts beside the money: attempts, calls, tokens and time, over every task of the group
/// (pending ones included, since their usage is already known).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub tasks: u64,
    pub succeeded_first_attempt: u64,
    pub succeeded_within_three: u64,
    pub retried_tasks: u64,
    pub attempts: u64,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub duration_ms: u64,
}

impl Usage {
    /// Adds a row's counts, or [`MoneyOverflow`] when a total cannot be counted.
    fn add(&mut self, row: &TaskRollup) -> Result<(), MoneyOverflow> {
        add_count(&mut self.tasks, row.tasks)?;
        if row.status == TaskStatus::Succeeded {
            add_count(&mut self.succeeded_first_attempt, row.first_attempt_tasks)?;
            add_count(&mut self.succeeded_within_three, row.within_three_tasks)?;
        }
        add_count(
            &mut self.retried_tasks,
            row.tasks.saturating_sub(row.first_attempt_tasks),
        )?;
        add_count(&mut self.attempts, row.attempts)?;
        add_count(&mut self.calls, row.calls)?;
        add_count(&mut self.input_tokens, row.input_tokens)?;
        add_count(&mut self.output_tokens, row.output_tokens)?;
        add_count(&mut self.cache_read_tokens, row.cache_read_tokens)?;
        add_count(&mut self.duration_ms, row.duration_ms)
    }

    /// Mean of a total over the group's tasks.
    pub fn per_task(&self, total: u64) -> Option<f64> {
        (self.tasks > 0).then(|| total as f64 / self.tasks as f64)
    }
}

/// One group's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupFigures {
    /// Stable key: an id, a segment, a model or a date.
    pub key: String,
    /// What a person reads.
    pub label: String,
    pub window: Window,
    pub set: TaskSet,
    pub usage: Usage,
}

impl GroupFigures {
    /// Share of decided tasks that succeeded on their first attempt (pass@1).
    pub fn pass_at_1(&self) -> Option<f64> {
        ratio(
            self.usage.succeeded_first_attempt,
            self.set.counts.decided(),
        )
    }

    /// Share of decided tasks that succeeded within three attempts (pass@3).
    pub fn pass_at_3(&self) -> Option<f64> {
        ratio(self.usage.succeeded_within_three, self.set.counts.decided())
    }

    /// Share of tasks that needed more than one attempt.
    pub fn retry_rate(&self) -> Option<f64> {
        ratio(self.usage.retried_tasks, self.usage.tasks)
    }
}

/// Adds a stored count (never negative) to a total, or [`MoneyOverflow`] when the total cannot
/// be counted.
pub(crate) fn add_count(total: &mut u64, value: i64) -> Result<(), MoneyOverflow> {
    *total = total
        .checked_add(value.max(0) as u64)
        .ok_or(MoneyOverflow)?;
    Ok(())
}

/// `part` as a share of `whole`, for display; none of nothing.
pub(crate) fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Figures for every group of the rows that pass `filter`, ordered by key (periods by date), or
/// [`MoneyOverflow`] when a group's cost cannot be counted: every sum is checked.
pub fn figures(
    ledger: &Ledger<'_>,
    filter: &Filter,
    grouping: Grouping,
) -> Result<Vec<GroupFigures>, MoneyOverflow> {
    if grouping.is_period() {
        return periods(ledger.window, grouping)
            .into_iter()
            .map(|window| {
                let rows: Vec<TaskRollup> = ledger
                    .rows
                    .iter()
                    .filter(|r| r.day >= window.first_day && r.day <= window.last_day)
                    .cloned()
                    .collect();
                let part = Ledger {
                    window,
                    rows: &rows,
                    ..*ledger
                };
                let set = figures(&part, filter, Grouping::All)?.pop();
                let (set, usage) = set.map(|g| (g.set, g.usage)).unwrap_or_default();
                Ok(GroupFigures {
                    key: format_day(window.first_day),
                    label: period_label(grouping, window),
                    window,
                    set,
                    usage,
                })
            })
            .collect();
    }
    let mut groups: BTreeMap<String, (TaskSet, Usage)> = BTreeMap::new();
    let mut decided_all: BTreeMap<i64, u64> = BTreeMap::new();
    // Decided tasks per (workflow, group) inside the filter, for platform shares.
    let mut decided_in: BTreeMap<i64, BTreeMap<String, u64>> = BTreeMap::new();
    for row in ledger.rows {
        let decided = if row.status == TaskStatus::Pending {
            0
        } else {
            row.tasks.max(0) as u64
        };
        *decided_all.entry(row.workflow_id).or_default() += decided;
        let keys = Keys::from(row);
        if !filter.matches(&keys) {
            continue;
        }
        let key = group_key(grouping, &keys);
        let (set, usage) = groups.entry(key.clone()).or_default();
        set.add(row.status, row.tasks.max(0) as u64, row_cost(row))?;
        usage.add(row)?;
        *decided_in
            .entry(row.workflow_id)
            .or_default()
            .entry(key)
            .or_default() += decided;
    }
    // Fixed costs (platform, and allocated unattributed spend) go to each workflow for the
    // window, then to the groups by the tasks each decided of the workflow's.
    let fixed: [(&[PlatformCost], AddFixed); 2] = [
        (ledger.platform_costs, TaskSet::add_platform),
        (ledger.unattributed, TaskSet::add_unattributed),
    ];
    for (costs, add) in fixed {
        let per_workflow =
            platform_by_workflow(costs, ledger.workflows, &decided_all, ledger.window)?;
        for (workflow_id, amount) in per_workflow {
            let inside = decided_in.get(&workflow_id).cloned().unwrap_or_default();
            let total = decided_all.get(&workflow_id).copied().unwrap_or(0);
            if total == 0 {
                // No decided task to carry it: it stays with the workflow where the grouping
                // allows.
                if let Some(key) = whole_workflow_key(ledger, filter, grouping, workflow_id) {
                    add(&mut groups.entry(key).or_default().0, amount)?;
                }
                continue;
            }
            let outside = total - inside.values().sum::<u64>();
            let mut weights: Vec<u64> = inside.values().copied().collect();
            weights.push(outside);
            for (key, share) in inside.keys().zip(allocate(amount, &weights)) {
                add(&mut groups.entry(key.clone()).or_default().0, share)?;
            }
        }
    }
    Ok(groups
        .into_iter()
        .map(|(key, (set, usage))| GroupFigures {
            label: label(ledger, grouping, &key),
            key,
            window: ledger.window,
            set,
            usage,
        })
        .collect())
}

/// Adds a fixed cost's share to a group's set.
type AddFixed = fn(&mut TaskSet, Micros) -> Result<(), MoneyOverflow>;

/// A rollup row's costs by component (fixed costs are the window's, added per group).
pub(crate) fn row_cost(row: &TaskRollup) -> CostBreakdown {
    CostBreakdown {
        model: Micros(row.model_cost_micros),
        tool: Micros(row.tool_cost_micros),
        retry: Micros(row.retry_cost_micros),
        cache: Micros(row.cache_cost_micros),
        labour: Micros(row.labour_cost_micros),
        platform: Micros::ZERO,
        unattributed: Micros::ZERO,
    }
}

/// The group a workflow's whole platform cost belongs to when it decided no task.
fn whole_workflow_key(
    ledger: &Ledger<'_>,
    filter: &Filter,
    grouping: Grouping,
    workflow_id: i64,
) -> Option<String> {
    let workflow = ledger.workflows.iter().find(|w| w.id == workflow_id)?;
    let narrowed = filter.task_type_id.is_some()
        || filter.segment.is_some()
        || filter.config_version_id.is_some()
        || filter.model.is_some()
        || filter.provider.is_some()
        || filter.team_id.is_some_and(|t| t != workflow.team_id)
        || filter
            .workflow_ids
            .as_ref()
            .is_some_and(|ids| !ids.contains(&workflow_id));
    match grouping {
        _ if narrowed => None,
        Grouping::All => Some(String::new()),
        Grouping::Workflow => Some(workflow_id.to_string()),
        Grouping::Team => Some(workflow.team_id.to_string()),
        _ => None,
    }
}

pub fn label(ledger: &Ledger<'_>, grouping: Grouping, key: &str) -> String {
    let id: i64 = key.parse().unwrap_or(0);
    let named = |name: Option<&String>| name.cloned().unwrap_or_else(|| "(none)".to_owned());
    match grouping {
        Grouping::All => "All tasks".to_owned(),
        Grouping::Workflow => named(
            ledger
                .workflows
                .iter()
                .find(|w| w.id == id)
                .map(|w| &w.name),
        ),
        Grouping::Team => named(ledger.teams.iter().find(|t| t.id == id).map(|t| &t.name)),
        Grouping::TaskType => named(
            ledger
                .task_types
                .iter()
                .find(|t| t.id == id)
                .map(|t| &t.name),
        ),
        Grouping::ConfigVersion => named(
            ledger
                .config_versions
                .iter()
                .find(|v| v.id == id)
                .map(|v| &v.label),
        ),
        _ if key.is_empty() => "(none)".to_owned(),
        _ => key.to_owned(),
    }
}

/// The days, ISO weeks (Monday first) or calendar months that cover `window`, each clipped to it.
pub fn periods(window: Window, grouping: Grouping) -> Vec<Window> {
    let mut out = Vec::new();
    let mut day = window.first_day;
    while day <= window.last_day {
        let end = match grouping {
            // Day 0 (1970-01-01) was a Thursday, so (day + 3) mod 7 counts from Monday.
            Grouping::Week => day + (6 - (day + 3).rem_euclid(7)),
            Grouping::Month => {
                let (y, m, _) = civil_from_days(day);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                days_from_civil(ny, nm, 1) - 1
            }
            _ => day,
        };
        let last_day = end.min(window.last_day);
        out.push(Window {
            first_day: day,
            last_day,
        });
        day = last_day + 1;
    }
    out
}

pub fn period_label(grouping: Grouping, window: Window) -> String {
    match grouping {
        Grouping::Week => format!("Week of {}", format_day(window.first_day)),
        Grouping::Month => format_day(window.first_day)[..7].to_owned(),
        _ => format_day(window.first_day),
    }
}
