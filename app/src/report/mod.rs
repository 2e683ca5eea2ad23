//! Turns stored records (rollups, tasks, teams, platform costs) into the domain's figures.
//! Pure: the server feeds it rows, the pages and the read API render its results.

pub mod detail;
pub mod figures;
pub mod rollup;

use crate::domain::Micros;
use crate::domain::cpst::{Cpst, TaskSet};
use crate::domain::platform::{allocate, monthly_cost_in_window};
use crate::domain::time::day_of;
use crate::model::{PlatformCost, TaskRollup, Workflow};
use figures::{Filter, Grouping, Ledger, figures};
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
                let mut weights: Vec<u64> = members
                    .iter()
                    .map(|w| decided_tasks.get(&w.id).copied().unwrap_or(0))
                    .collect();
                // With no decided task anywhere in the team, the cost is shared evenly rather than lost.
                if weights.iter().all(|w| *w == 0) {
                    weights.fill(1);
                }
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

/// The finance overview over `current`, with the CPST of `previous_rows` (the window before,
/// same length) for the trend.
pub fn overview(current: &Ledger<'_>, previous_rows: &[TaskRollup]) -> Overview {
    let previous_ledger = Ledger {
        window: current.window.previous(),
        rows: previous_rows,
        ..*current
    };
    let by_workflow = |ledger: &Ledger<'_>| -> HashMap<i64, TaskSet> {
        figures(ledger, &Filter::default(), Grouping::Workflow)
            .into_iter()
            .filter_map(|g| Some((g.key.parse().ok()?, g.set)))
            .collect()
    };
    let sets = by_workflow(current);
    let previous = by_workflow(&previous_ledger);
    let team_names: HashMap<i64, &str> = current
        .teams
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let mut teams: BTreeMap<i64, TaskSet> = BTreeMap::new();
    let mut total = TaskSet::default();
    let workflows = current
        .workflows
        .iter()
        .map(|w| {
            let set = sets.get(&w.id).copied().unwrap_or_default();
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
        window: current.window,
        workflows,
        teams,
        total,
    }
}
