//! Turns stored records (rollups, teams, platform costs) into the domain's task sets, per
//! workflow and per team. Pure: the server feeds it rows, the pages render its result.

use crate::domain::Micros;
use crate::domain::cpst::{CostBreakdown, Cpst, TaskSet, labour_cost};
use crate::domain::platform::{allocate, monthly_cost_in_window};
use crate::domain::time::day_of;
use crate::model::{PlatformCost, TaskRollup, Team, Workflow};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// An inclusive range of days (days since the Unix epoch, UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub first_day: i64,
    pub last_day: i64,
}

impl Window {
    /// The `days` days ending with `last_day`.
    pub fn ending(last_day: i64, days: i64) -> Window {
        Window {
            first_day: last_day - days + 1,
            last_day,
        }
    }

    pub fn days(&self) -> i64 {
        self.last_day - self.first_day + 1
    }

    /// The window of the same length just before this one.
    pub fn previous(&self) -> Window {
        Window::ending(self.first_day - 1, self.days())
    }
}

/// Task sets per workflow: call and labour costs from the rollups, labour priced at the rate
/// of the team that did the work.
pub fn task_sets_by_workflow(rows: &[TaskRollup], teams: &[Team]) -> BTreeMap<i64, TaskSet> {
    let rates: HashMap<i64, Micros> = teams
        .iter()
        .map(|t| (t.id, t.labour_rate_micros_per_hour))
        .collect();
    let mut seconds: BTreeMap<(i64, i64, bool), i64> = BTreeMap::new();
    let mut sets: BTreeMap<i64, TaskSet> = BTreeMap::new();
    for row in rows {
        let cost = CostBreakdown {
            model: Micros(row.model_cost_micros),
            tool: Micros(row.tool_cost_micros),
            retry: Micros(row.retry_cost_micros),
            cache: Micros(row.cache_cost_micros),
            ..Default::default()
        };
        sets.entry(row.workflow_id)
            .or_default()
            .add(row.status, row.tasks as u64, cost);
        let pending = row.status == crate::domain::TaskStatus::Pending;
        *seconds
            .entry((row.workflow_id, row.team_id, pending))
            .or_default() += row.review_seconds;
    }
    for ((workflow_id, team_id, pending), secs) in seconds {
        if !pending {
            let rate = rates.get(&team_id).copied().unwrap_or_default();
            sets.entry(workflow_id).or_default().costs.labour += labour_cost(secs, rate);
        }
    }
    sets
}

/// Platform cost per workflow for the window: a workflow's own costs, plus its share of its
/// team's costs in proportion to the tasks it decided in the window.
pub fn platform_by_workflow(
    costs: &[PlatformCost],
    workflows: &[Workflow],
    decided_tasks: &BTreeMap<i64, u64>,
    window: Window,
) -> BTreeMap<i64, Micros> {
    let mut out: BTreeMap<i64, Micros> = BTreeMap::new();
    for cost in costs {
        let amount = monthly_cost_in_window(
            cost.monthly_micros,
            day_of(cost.effective_from),
            cost.effective_to.map(day_of),
            window.first_day,
            window.last_day,
        );
        match (cost.workflow_id, cost.team_id) {
            (Some(workflow_id), _) => *out.entry(workflow_id).or_default() += amount,
            (None, Some(team_id)) => {
                let members: Vec<&Workflow> =
                    workflows.iter().filter(|w| w.team_id == team_id).collect();
                let weights: Vec<u64> = members
                    .iter()
                    .map(|w| decided_tasks.get(&w.id).copied().unwrap_or(0))
                    .collect();
                for (workflow, share) in members.iter().zip(allocate(amount, &weights)) {
                    *out.entry(workflow.id).or_default() += share;
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// One workflow's figures for the overview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowFigures {
    pub workflow_id: i64,
    pub slug: String,
    pub name: String,
    pub team_id: i64,
    pub team_name: String,
    pub budget: Micros,
    pub quality_target_bp: i64,
    pub autonomy_level: i64,
    pub set: TaskSet,
    pub previous_cpst: Cpst,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamFigures {
    pub team_id: i64,
    pub name: String,
    pub set: TaskSet,
}

/// The finance overview: every workflow and team over one window, with the previous window's
/// CPST for the trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub window: Window,
    pub workflows: Vec<WorkflowFigures>,
    pub teams: Vec<TeamFigures>,
    pub total: TaskSet,
}

/// Everything the overview is computed from.
pub struct OverviewInputs<'a> {
    pub window: Window,
    pub workflows: &'a [Workflow],
    pub teams: &'a [Team],
    pub platform_costs: &'a [PlatformCost],
    pub current: &'a [TaskRollup],
    pub previous: &'a [TaskRollup],
}

pub fn overview(inputs: &OverviewInputs<'_>) -> Overview {
    let current = complete_sets(inputs, inputs.current, inputs.window);
    let previous = complete_sets(inputs, inputs.previous, inputs.window.previous());
    let team_names: HashMap<i64, &str> = inputs
        .teams
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let mut teams: BTreeMap<i64, TaskSet> = BTreeMap::new();
    let mut total = TaskSet::default();
    let workflows = inputs
        .workflows
        .iter()
        .map(|w| {
            let set = current.get(&w.id).copied().unwrap_or_default();
            teams.entry(w.team_id).or_default().merge(&set);
            total.merge(&set);
            WorkflowFigures {
                workflow_id: w.id,
                slug: w.slug.clone(),
                name: w.name.clone(),
                team_id: w.team_id,
                team_name: team_names.get(&w.team_id).unwrap_or(&"").to_string(),
                budget: w.budget_cpst_micros,
                quality_target_bp: w.quality_target_bp,
                autonomy_level: w.autonomy_level,
                set,
                previous_cpst: previous
                    .get(&w.id)
                    .copied()
                    .unwrap_or_default()
                    .cost_per_successful_task(),
            }
        })
        .collect();
    let teams = teams
        .into_iter()
        .map(|(team_id, set)| TeamFigures {
            team_id,
            name: team_names.get(&team_id).unwrap_or(&"").to_string(),
            set,
        })
        .collect();
    Overview {
        window: inputs.window,
        workflows,
        teams,
        total,
    }
}

fn complete_sets(
    inputs: &OverviewInputs<'_>,
    rows: &[TaskRollup],
    window: Window,
) -> BTreeMap<i64, TaskSet> {
    let mut sets = task_sets_by_workflow(rows, inputs.teams);
    let decided: BTreeMap<i64, u64> = sets
        .iter()
        .map(|(id, s)| (*id, s.counts.decided()))
        .collect();
    for (workflow_id, amount) in
        platform_by_workflow(inputs.platform_costs, inputs.workflows, &decided, window)
    {
        sets.entry(workflow_id).or_default().add_platform(amount);
    }
    sets
}
