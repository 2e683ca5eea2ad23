//! Turns stored records (rollups, tasks, teams, platform costs) into the domain's figures.
//! Pure: the server feeds it rows, the pages and the read API render its results.

pub mod call_levers;
pub mod detail;
pub mod figures;
pub mod focus;
pub mod levers;
pub mod models;
pub mod period;
pub mod rollup;
pub mod savings;
pub mod spread;
pub mod steps;
pub mod whatif;

use crate::domain::Micros;
use crate::domain::cpst::{Cpst, TaskSet};
use crate::domain::money::MoneyOverflow;
use crate::domain::platform::{allocate, monthly_cost_in_window};
use crate::domain::time::day_of;
use crate::model::{PlatformCost, TaskRollup, Workflow};
use figures::{Filter, Grouping, Ledger, figures};
pub use period::{API_MAX_DAYS, PAGE_MAX_DAYS, PeriodAsked, PeriodError, PeriodLimits};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// An inclusive range of days (days since the Unix epoch, UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

    /// The rows of `rows`, rollup rows in day order (as every rollup read returns them), whose
    /// day falls in this window.
    pub fn slice<'r>(&self, rows: &'r [TaskRollup]) -> &'r [TaskRollup] {
        let start = rows.partition_point(|r| r.day < self.first_day);
        let end = rows.partition_point(|r| r.day <= self.last_day).max(start);
        &rows[start..end]
    }

    /// The window of the same length just before this one.
    pub fn previous(&self) -> Window {
        Window::ending(self.first_day - 1, self.days())
    }

    /// The window a page's address names (see [`PeriodAsked::window`] with
    /// [`PeriodLimits::PAGE`]): `from` to `to`, or the last `days` days. The page's period
    /// picker always sends `days`, so a `from` overrides it rather than conflicting with it.
    /// The error names the field and says what it must be.
    pub fn chosen(days: i64, from: &str, to: &str, today: i64) -> Result<Window, String> {
        let days = if from.trim().is_empty() {
            days.to_string()
        } else {
            String::new()
        };
        PeriodAsked {
            from,
            to,
            days: &days,
        }
        .window("", PeriodLimits::PAGE, 30, today)
        .map_err(|error| error.to_string())
    }
}

/// Platform cost per workflow for the window: a workflow's own costs, plus its share of its
/// team's costs in proportion to the tasks it decided in the window. A team's costs go to the
/// workflows it owns, whichever team their tasks are booked to: they pay for running those
/// workflows, not for anyone's time (review time is priced at the task's team's rate instead).
/// [`MoneyOverflow`] when a workflow's platform cost cannot be counted.
pub fn platform_by_workflow(
    costs: &[PlatformCost],
    workflows: &[Workflow],
    decided_tasks: &BTreeMap<i64, u64>,
    window: Window,
) -> Result<BTreeMap<i64, Micros>, MoneyOverflow> {
    let mut out: BTreeMap<i64, Micros> = BTreeMap::new();
    let mut add = |workflow_id: i64, amount: Micros| -> Result<(), MoneyOverflow> {
        let entry = out.entry(workflow_id).or_default();
        *entry = entry.checked_add(amount)?;
        Ok(())
    };
    for cost in costs {
        let amount = monthly_cost_in_window(
            cost.monthly_micros,
            day_of(cost.effective_from),
            cost.effective_to.map(day_of),
            window.first_day,
            window.last_day,
        )?;
        match (cost.workflow_id, cost.team_id) {
            (Some(workflow_id), _) => add(workflow_id, amount)?,
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
                    add(workflow.id, share)?;
                }
            }
            (None, None) => {}
        }
    }
    Ok(out)
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
    /// Against the human baseline of its task types (uncovered when none has one).
    pub savings: savings::Savings,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamFigures {
    pub team_id: i64,
    pub name: String,
    pub set: TaskSet,
    /// The team's budget per successful task: its workflows' budgets weighted by the tasks
    /// each made succeed, so spend within it means the successes cost what was planned.
    /// `None` without successful tasks.
    pub budget: Option<Micros>,
    /// The savings of the workflows the team owns.
    pub savings: savings::Savings,
}

/// Budgets weighted by successes: `(budget, succeeded)` pairs to one budget per success.
pub fn blended_budget(parts: &[(Micros, u64)]) -> Option<Micros> {
    let succeeded: u64 = parts.iter().map(|(_, n)| n).sum();
    let planned: i128 = parts
        .iter()
        .map(|(budget, n)| i128::from(budget.0) * i128::from(*n))
        .sum();
    (succeeded > 0)
        .then(|| Micros(crate::domain::money::div_round(planned, i128::from(succeeded)) as i64))
}

/// The finance overview: every workflow and team over one window, with the previous window's
/// CPST for the trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub window: Window,
    pub workflows: Vec<WorkflowFigures>,
    pub teams: Vec<TeamFigures>,
    pub total: TaskSet,
    /// Every workflow's budget weighted by its successes.
    pub total_budget: Option<Micros>,
    /// Every workflow's savings together.
    pub total_savings: savings::Savings,
}

/// The finance overview over `current`, with the CPST of `previous_rows` (the window before,
/// same length) for the trend.
pub fn overview(
    current: &Ledger<'_>,
    previous_rows: &[TaskRollup],
) -> Result<Overview, MoneyOverflow> {
    let previous_ledger = Ledger {
        window: current.window.previous(),
        rows: previous_rows,
        ..*current
    };
    let by_workflow = |ledger: &Ledger<'_>| -> Result<HashMap<i64, TaskSet>, MoneyOverflow> {
        Ok(figures(ledger, &Filter::default(), Grouping::Workflow)?
            .into_iter()
            .filter_map(|g| Some((g.key.parse().ok()?, g.set)))
            .collect())
    };
    let sets = by_workflow(current)?;
    let previous = by_workflow(&previous_ledger)?;
    let mut savings = savings::savings_by_workflow(current, current.baselines)?;
    let mut total_savings = savings::Savings::default();
    let team_names: HashMap<i64, &str> = current
        .teams
        .iter()
        .map(|t| (t.id, t.name.as_str()))
        .collect();
    let mut teams: BTreeMap<i64, (TaskSet, Vec<(Micros, u64)>)> = BTreeMap::new();
    let mut team_savings: BTreeMap<i64, savings::Savings> = BTreeMap::new();
    let mut total = TaskSet::default();
    let mut budgets = Vec::new();
    let workflows = current
        .workflows
        .iter()
        .map(|w| {
            let set = sets.get(&w.id).copied().unwrap_or_default();
            let team = teams.entry(w.team_id).or_default();
            team.0.merge(&set)?;
            team.1.push((w.budget_cpst_micros, set.counts.succeeded));
            budgets.push((w.budget_cpst_micros, set.counts.succeeded));
            total.merge(&set)?;
            let savings = savings.remove(&w.id).unwrap_or_default();
            total_savings.merge(&savings)?;
            team_savings.entry(w.team_id).or_default().merge(&savings)?;
            Ok(WorkflowFigures {
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
                savings,
            })
        })
        .collect::<Result<Vec<_>, MoneyOverflow>>()?;
    let teams = teams
        .into_iter()
        .map(|(team_id, (set, budgets))| TeamFigures {
            team_id,
            name: team_names.get(&team_id).unwrap_or(&"").to_string(),
            set,
            budget: blended_budget(&budgets),
            savings: team_savings.remove(&team_id).unwrap_or_default(),
        })
        .collect();
    Ok(Overview {
        window: current.window,
        workflows,
        teams,
        total,
        total_budget: blended_budget(&budgets),
        total_savings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::{format_day, parse_day};

    #[test]
    fn a_windows_slice_of_rows_in_day_order_is_the_rows_of_its_days() {
        let rows: Vec<TaskRollup> = [1, 1, 2, 3, 3, 5]
            .into_iter()
            .map(|day| TaskRollup {
                day,
                ..TaskRollup::default()
            })
            .collect();
        let days = |first_day, last_day| -> Vec<i64> {
            Window {
                first_day,
                last_day,
            }
            .slice(&rows)
            .iter()
            .map(|r| r.day)
            .collect()
        };
        assert_eq!(days(2, 4), [2, 3, 3]);
        assert_eq!(days(1, 1), [1, 1]);
        assert_eq!(days(4, 4), Vec::<i64>::new());
        assert_eq!(days(6, 9), Vec::<i64>::new());
        assert_eq!(days(-3, 0), Vec::<i64>::new());
        assert_eq!(days(0, 9).len(), rows.len());
    }

    #[test]
    fn a_chosen_window_is_a_period_or_the_last_days_and_errors_name_the_field() {
        let today = parse_day("2026-11-24").unwrap();
        let last_30 = Window::chosen(30, "", "", today).unwrap();
        assert_eq!((last_30.days(), last_30.last_day), (30, today));
        let range = Window::chosen(30, "2026-10-01", "2026-10-31", today).unwrap();
        assert_eq!(format_day(range.first_day), "2026-10-01");
        assert_eq!(range.days(), 31);
        let from_only = Window::chosen(30, "2026-11-20", "", today).unwrap();
        assert_eq!(from_only.days(), 5, "to defaults to today");
        let to_only = Window::chosen(7, "", "2026-11-10", today).unwrap();
        assert_eq!(format_day(to_only.first_day), "2026-11-04");
        let refused = |days, from, to| Window::chosen(days, from, to, today).unwrap_err();
        assert!(refused(30, "2026-13-01", "").starts_with("from: must be a date"));
        assert!(refused(30, "", "yesterday").starts_with("to: must be a date"));
        assert_eq!(
            refused(30, "2026-11-10", "2026-11-01"),
            "from: must not be after to"
        );
        assert!(refused(30, "", "2026-12-01").starts_with("to: must not be after today"));
        assert!(refused(30, "2024-01-01", "").starts_with("from: a period covers at most 366"));
        assert!(refused(0, "", "").starts_with("days: must be from 1"));
    }

    #[test]
    fn a_teams_platform_cost_stays_with_its_workflows_when_another_team_does_their_tasks() {
        use crate::domain::TaskStatus;
        use crate::domain::time::days_from_civil;
        let nov1 = days_from_civil(2026, 11, 1);
        let window = Window::ending(nov1 + 29, 30);
        let workflow = Workflow::sample;
        let team_cost = |id, team_id, dollars: i64| PlatformCost {
            id,
            name: format!("Team {team_id} gateway"),
            workflow_id: None,
            team_id: Some(team_id),
            monthly_micros: Micros(dollars * 1_000_000),
            effective_from: 0,
            effective_to: None,
            created_at: 0,
        };
        // Support (team 1) owns workflow 1; Finance Ops (team 2) owns workflow 2 and reviews
        // workflow 1's tasks, which are booked to it and carry its labour.
        let row = |workflow_id, tasks, labour| TaskRollup {
            day: nov1 + 3,
            workflow_id,
            team_id: 2,
            status: TaskStatus::Succeeded,
            tasks,
            labour_cost_micros: labour,
            ..TaskRollup::default()
        };
        let workflows = [workflow(1, 1), workflow(2, 2)];
        let costs = [team_cost(1, 1, 300), team_cost(2, 2, 600)];
        let rows = [row(1, 4, 2_000_000), row(2, 1, 0)];
        let ledger = Ledger {
            window,
            workflows: &workflows,
            teams: &[],
            task_types: &[],
            config_versions: &[],
            platform_costs: &costs,
            unattributed: &[],
            baselines: &[],
            rows: &rows,
        };
        let groups = figures(&ledger, &Filter::default(), Grouping::Workflow).unwrap();
        let by_key: HashMap<&str, (Micros, Micros)> = groups
            .iter()
            .map(|g| (g.key.as_str(), (g.set.costs.platform, g.set.costs.labour)))
            .collect();
        assert_eq!(
            by_key["1"],
            (Micros(300_000_000), Micros(2_000_000)),
            "Support's workflow carries Support's platform and Finance Ops' review time"
        );
        assert_eq!(
            by_key["2"],
            (Micros(600_000_000), Micros::ZERO),
            "Finance Ops' platform stays with the workflow it owns"
        );
    }

    #[test]
    fn a_team_budget_weighs_each_workflow_budget_by_its_successes() {
        // 300 successes planned at $0.40 and 100 at $2.00: $0.80 per success.
        let blended = blended_budget(&[(Micros(400_000), 300), (Micros(2_000_000), 100)]);
        assert_eq!(blended, Some(Micros(800_000)));
        assert_eq!(blended_budget(&[(Micros(400_000), 0)]), None);
        assert_eq!(blended_budget(&[]), None);
    }
}
