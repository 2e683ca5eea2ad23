//! Savings against the human baseline: what the succeeded work would have cost people doing it
//! unaided, against everything the AI work cost.
//!
//! Per workflow, over the tasks of task types whose baseline is in force on their day (a
//! baseline change keeps history's figures):
//! - **human time** of the succeeded tasks: each at its task type's baseline;
//! - **time saved**: that, less the review and repair time actually spent on the covered tasks
//!   (every verdict's, so assisted tasks count with the time their repair took);
//! - **human-equivalent cost**: the human time at the workflow's team's loaded hourly rate;
//! - **AI cost**: the whole cost of the covered tasks (failed attempts, retries and review
//!   included) and their share of the workflow's fixed costs, by decided tasks;
//! - **net savings**: human-equivalent cost less AI cost, and the ratio of the two;
//! - the **outcome-priced reference**: the succeeded tasks at the vendor price per resolved task,
//!   where the baseline gives one.

use super::figures::{Ledger, row_cost};
use super::platform_by_workflow;
use crate::domain::Micros;
use crate::domain::money::MoneyOverflow;
use crate::domain::platform::allocate;
use crate::domain::status::TaskStatus;
use crate::domain::time::MS_PER_DAY;
use crate::model::HumanBaseline;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One workflow's (or several workflows') savings over a window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Savings {
    /// Succeeded tasks of covered task types.
    pub succeeded: u64,
    /// What the succeeded tasks would have taken people, in seconds.
    pub human_seconds: i64,
    /// Review and repair time spent on covered tasks, in seconds.
    pub review_seconds: i64,
    pub human_equivalent: Micros,
    pub ai_cost: Micros,
    /// The succeeded tasks at an outcome-priced vendor's price, where baselines give one.
    pub reference_equivalent: Option<Micros>,
    /// Task types with tasks in the window, and those of them with a baseline.
    pub task_types: BTreeSet<i64>,
    pub covered_task_types: BTreeSet<i64>,
    /// Where the baselines come from, in words.
    pub sources: BTreeSet<String>,
}

impl Savings {
    /// Whether any task of the window had a baseline: without one there is nothing to say,
    /// and a page says so rather than showing zero.
    pub fn is_covered(&self) -> bool {
        !self.covered_task_types.is_empty()
    }

    pub fn seconds_saved(&self) -> i64 {
        self.human_seconds - self.review_seconds
    }

    /// Human-equivalent cost less AI cost (negative when the AI work cost more).
    pub fn net(&self) -> Result<Micros, MoneyOverflow> {
        self.human_equivalent.checked_sub(self.ai_cost)
    }

    /// Human-equivalent cost per dollar of AI cost.
    pub fn ratio(&self) -> Option<f64> {
        (self.ai_cost.0 > 0).then(|| self.human_equivalent.0 as f64 / self.ai_cost.0 as f64)
    }

    /// Both workflows' savings together.
    pub fn merge(&mut self, other: &Savings) -> Result<(), MoneyOverflow> {
        self.succeeded += other.succeeded;
        self.human_seconds = self.human_seconds.saturating_add(other.human_seconds);
        self.review_seconds = self.review_seconds.saturating_add(other.review_seconds);
        self.human_equivalent = self.human_equivalent.checked_add(other.human_equivalent)?;
        self.ai_cost = self.ai_cost.checked_add(other.ai_cost)?;
        self.reference_equivalent = match (self.reference_equivalent, other.reference_equivalent) {
            (Some(a), Some(b)) => Some(a.checked_add(b)?),
            (a, b) => a.or(b),
        };
        self.task_types.extend(&other.task_types);
        self.covered_task_types.extend(&other.covered_task_types);
        self.sources.extend(other.sources.iter().cloned());
        Ok(())
    }
}

/// Each workflow's savings over the ledger's window.
pub fn savings_by_workflow(
    ledger: &Ledger<'_>,
    baselines: &[HumanBaseline],
) -> Result<BTreeMap<i64, Savings>, MoneyOverflow> {
    let mut out: BTreeMap<i64, Savings> = BTreeMap::new();
    let mut decided_all: BTreeMap<i64, u64> = BTreeMap::new();
    let mut decided_covered: BTreeMap<i64, u64> = BTreeMap::new();
    for row in ledger.rows {
        let decided = row.status != TaskStatus::Pending;
        let tasks = row.tasks.max(0) as u64;
        if decided {
            *decided_all.entry(row.workflow_id).or_default() += tasks;
        }
        let savings = out.entry(row.workflow_id).or_default();
        savings.task_types.insert(row.task_type_id);
        let at = row.day * MS_PER_DAY;
        let Some(baseline) = HumanBaseline::in_force(baselines, row.task_type_id, at)
            .filter(|b| b.seconds.is_some())
        else {
            continue;
        };
        let seconds = baseline.seconds.unwrap_or(0);
        savings.covered_task_types.insert(row.task_type_id);
        if !baseline.source.trim().is_empty() {
            savings.sources.insert(baseline.source.trim().to_owned());
        }
        savings.review_seconds = savings.review_seconds.saturating_add(row.review_seconds);
        if decided {
            *decided_covered.entry(row.workflow_id).or_default() += tasks;
            savings.ai_cost = savings.ai_cost.checked_add(row_cost(row).total()?)?;
        }
        if row.status == TaskStatus::Succeeded {
            savings.succeeded += tasks;
            savings.human_seconds = savings
                .human_seconds
                .saturating_add(seconds.saturating_mul(row.tasks.max(0)));
            if let Some(price) = baseline.reference_price_micros {
                let amount = Micros(price).scale(row.tasks.max(0), 1)?;
                savings.reference_equivalent = Some(
                    savings
                        .reference_equivalent
                        .unwrap_or_default()
                        .checked_add(amount)?,
                );
            }
        }
    }
    // The covered tasks' share of the workflow's fixed costs, by decided tasks.
    for costs in [ledger.platform_costs, ledger.unattributed] {
        let fixed = platform_by_workflow(costs, ledger.workflows, &decided_all, ledger.window)?;
        for (workflow_id, amount) in fixed {
            let covered = decided_covered.get(&workflow_id).copied().unwrap_or(0);
            let all = decided_all.get(&workflow_id).copied().unwrap_or(0);
            if covered == 0 || all == 0 {
                continue;
            }
            let share = allocate(amount, &[covered, all - covered])[0];
            if let Some(savings) = out.get_mut(&workflow_id) {
                savings.ai_cost = savings.ai_cost.checked_add(share)?;
            }
        }
    }
    for (workflow_id, savings) in out.iter_mut() {
        let rate = ledger
            .workflows
            .iter()
            .find(|w| w.id == *workflow_id)
            .and_then(|w| ledger.teams.iter().find(|t| t.id == w.team_id))
            .map_or(Micros::ZERO, |t| t.labour_rate_micros_per_hour);
        savings.human_equivalent = rate.scale(savings.human_seconds, 3_600)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TaskRollup, Team, Workflow};
    use crate::report::Window;

    fn baseline(
        task_type_id: i64,
        version: i64,
        seconds: Option<i64>,
        from_day: i64,
    ) -> HumanBaseline {
        HumanBaseline {
            id: version,
            task_type_id,
            version,
            seconds,
            reference_price_micros: Some(990_000),
            source: "time study".into(),
            effective_from: from_day * MS_PER_DAY,
            created_by: None,
            created_at: 0,
        }
    }

    fn row(
        day: i64,
        task_type_id: i64,
        status: TaskStatus,
        tasks: i64,
        cost: i64,
        review: i64,
    ) -> TaskRollup {
        TaskRollup {
            day,
            workflow_id: 1,
            team_id: 1,
            task_type_id,
            status,
            tasks,
            model_cost_micros: cost,
            review_seconds: review,
            ..TaskRollup::default()
        }
    }

    #[test]
    fn savings_count_succeeded_work_at_the_baseline_against_every_cost() {
        let workflows = [Workflow::sample(1, 1)];
        let teams = [Team {
            id: 1,
            slug: "support".into(),
            name: "Support".into(),
            labour_rate_micros_per_hour: Micros(48_000_000),
            created_at: 0,
        }];
        // Ticket triage: a person takes 6 minutes. 100 tasks succeeded ($40 of AI), 20 failed
        // ($10), 10 assisted ($5) whose repair took 30 minutes in all; a second task type has
        // no baseline and stays out.
        let rows = [
            row(10, 7, TaskStatus::Succeeded, 100, 40_000_000, 600),
            row(10, 7, TaskStatus::Failed, 20, 10_000_000, 0),
            row(10, 7, TaskStatus::Assisted, 10, 5_000_000, 1_800),
            row(10, 8, TaskStatus::Succeeded, 50, 99_000_000, 0),
        ];
        let ledger = Ledger {
            window: Window {
                first_day: 10,
                last_day: 10,
            },
            workflows: &workflows,
            teams: &teams,
            task_types: &[],
            config_versions: &[],
            platform_costs: &[],
            unattributed: &[],
            baselines: &[],
            rows: &rows,
        };
        let baselines = [baseline(7, 1, Some(360), 0)];
        let savings = &savings_by_workflow(&ledger, &baselines).unwrap()[&1];
        assert_eq!(savings.human_seconds, 100 * 360);
        assert_eq!(
            savings.seconds_saved(),
            36_000 - 2_400,
            "review and repair time is spent time"
        );
        // 10 hours at $48 an hour.
        assert_eq!(savings.human_equivalent, Micros(480_000_000));
        assert_eq!(
            savings.ai_cost,
            Micros(55_000_000),
            "failed and assisted tasks cost too"
        );
        assert_eq!(savings.net().unwrap(), Micros(425_000_000));
        assert_eq!(savings.reference_equivalent, Some(Micros(99_000_000)));
        assert_eq!(savings.covered_task_types.len(), 1);
        assert_eq!(savings.task_types.len(), 2);

        // A new version from day 11 leaves day 10's figures as they were; a withdrawn
        // baseline covers nothing.
        let changed = [baseline(7, 1, Some(360), 0), baseline(7, 2, Some(60), 11)];
        assert_eq!(
            savings_by_workflow(&ledger, &changed).unwrap()[&1],
            *savings
        );
        let withdrawn = [baseline(7, 1, Some(360), 0), baseline(7, 2, None, 5)];
        assert!(!savings_by_workflow(&ledger, &withdrawn).unwrap()[&1].is_covered());
    }
}
