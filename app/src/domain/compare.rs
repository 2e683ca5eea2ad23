//! Comparisons: a candidate (configuration version or period) against its baseline, and
//! weighted CPST for choosing a model across workflows.

use super::cpst::{CostBreakdown, Cpst, Proportion, TaskSet};
use super::money::{Micros, div_round};
use serde::{Deserialize, Serialize};

/// The change in success rate with its 95% interval (Newcombe's hybrid score method).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RateChange {
    pub delta: f64,
    pub lower: f64,
    pub upper: f64,
    /// The interval excludes zero: the change is more than sampling noise.
    pub significant: bool,
}

/// Baseline and candidate side by side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub baseline: TaskSet,
    pub candidate: TaskSet,
    /// Candidate CPST minus baseline CPST; `None` when either has no successful tasks.
    pub cpst_change: Option<Micros>,
    pub rate_change: Option<RateChange>,
    /// Per-component change in cost per decided task, in `CostBreakdown::components` order.
    pub component_changes: Vec<(String, Option<Micros>)>,
}

pub fn compare_sets(baseline: &TaskSet, candidate: &TaskSet) -> Comparison {
    let cpst_change = match (
        baseline.cost_per_successful_task(),
        candidate.cost_per_successful_task(),
    ) {
        (Cpst::Cost(before), Cpst::Cost(after)) => after.checked_sub(before).ok(),
        _ => None,
    };
    let rate_change = match (baseline.success_rate(), candidate.success_rate()) {
        (Some(before), Some(after)) => Some(rate_change(&before, &after)),
        _ => None,
    };
    let per_task = |set: &TaskSet, amount: Micros| amount.per(set.counts.decided());
    let component_changes = baseline
        .costs
        .components()
        .iter()
        .zip(candidate.costs.components())
        .map(|((label, before), (_, after))| {
            let change = match (per_task(baseline, *before), per_task(candidate, after)) {
                (Some(b), Some(a)) => a.checked_sub(b).ok(),
                _ => None,
            };
            (label.to_string(), change)
        })
        .collect();
    Comparison {
        baseline: *baseline,
        candidate: *candidate,
        cpst_change,
        rate_change,
        component_changes,
    }
}

/// Newcombe (1998) method 10: the difference of two Wilson intervals.
pub fn rate_change(before: &Proportion, after: &Proportion) -> RateChange {
    let delta = after.value - before.value;
    let lower = delta
        - ((after.value - after.lower).powi(2) + (before.upper - before.value).powi(2)).sqrt();
    let upper = delta
        + ((after.upper - after.value).powi(2) + (before.value - before.lower).powi(2)).sqrt();
    RateChange {
        delta,
        lower,
        upper,
        significant: lower > 0.0 || upper < 0.0,
    }
}

/// Weighted CPST of one option (a model) across workflows: each workflow's CPST times its share
/// of traffic, summed. `None` when any weighted workflow has no successful tasks: a
/// cheap-looking average must not hide a workflow the option cannot finish.
pub fn weighted_cpst(per_workflow: &[(Cpst, u64)]) -> Option<Micros> {
    let traffic: u64 = per_workflow.iter().map(|(_, t)| *t).sum();
    if traffic == 0 {
        return None;
    }
    let mut numerator: i128 = 0;
    for (cpst, tasks) in per_workflow.iter().filter(|(_, t)| *t > 0) {
        numerator += i128::from(cpst.micros()?.0) * i128::from(*tasks);
    }
    Some(Micros(div_round(numerator, i128::from(traffic)) as i64))
}

/// Cost breakdown per decided task: what an average attempted task cost, by component.
pub fn per_decided_task(set: &TaskSet) -> Option<CostBreakdown> {
    let n = set.counts.decided();
    let c = &set.costs;
    Some(CostBreakdown {
        model: c.model.per(n)?,
        tool: c.tool.per(n)?,
        retry: c.retry.per(n)?,
        cache: c.cache.per(n)?,
        labour: c.labour.per(n)?,
        platform: c.platform.per(n)?,
        unattributed: c.unattributed.per(n)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status::TaskStatus;

    fn set(succeeded: u64, failed: u64, model: i64) -> TaskSet {
        let mut set = TaskSet::default();
        set.add(
            TaskStatus::Succeeded,
            succeeded,
            CostBreakdown {
                model: Micros(model),
                ..Default::default()
            },
        )
        .unwrap();
        set.add(TaskStatus::Failed, failed, CostBreakdown::default())
            .unwrap();
        set
    }

    #[test]
    fn the_triage_agents_second_version_is_cheaper_and_significantly_better() {
        // 72% of 10,000 at $10,080 against 91% of 10,000 at $3,486.
        let c = compare_sets(
            &set(7_200, 2_800, 10_080_000_000),
            &set(9_100, 900, 3_486_000_000),
        );
        assert_eq!(c.cpst_change, Some(Micros(383_077 - 1_400_000)));
        let rate = c.rate_change.unwrap();
        assert!(
            (rate.delta - 0.19).abs() < 1e-9 && rate.significant,
            "{rate:?}"
        );
        assert_eq!(
            c.component_changes[0],
            ("Model".to_string(), Some(Micros(348_600 - 1_008_000)))
        );
    }

    #[test]
    fn a_small_difference_on_small_samples_is_not_significant() {
        let c = compare_sets(&set(45, 5, 1), &set(47, 3, 1));
        let rate = c.rate_change.unwrap();
        assert!(
            !rate.significant && rate.lower < 0.0 && rate.upper > 0.0,
            "{rate:?}"
        );
        // The textbook check: 56/70 against 48/80 gives 0.2 with interval 0.0524 to 0.3339.
        let r = rate_change(
            &Proportion::wilson(48, 80).unwrap(),
            &Proportion::wilson(56, 70).unwrap(),
        );
        assert!(
            (r.lower - 0.0524).abs() < 1e-3 && (r.upper - 0.3339).abs() < 1e-3,
            "{r:?}"
        );
    }

    #[test]
    fn weighted_cpst_weighs_each_workflow_by_its_traffic() {
        // $0.12 on 80% of the traffic and $0.40 on 20%: $0.176.
        let w = weighted_cpst(&[
            (Cpst::Cost(Micros(120_000)), 800),
            (Cpst::Cost(Micros(400_000)), 200),
        ]);
        assert_eq!(w, Some(Micros(176_000)));
        assert_eq!(
            weighted_cpst(&[(Cpst::Cost(Micros(1)), 5), (Cpst::NoSuccessfulTasks, 5)]),
            None
        );
        assert_eq!(weighted_cpst(&[]), None);
    }
}
