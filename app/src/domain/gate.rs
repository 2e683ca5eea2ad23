//! The autonomy gate: a workflow earns more autonomy only when quality is proven *and* cost is
//! proven, each with its evidence in words and figures.
//!
//! - Quality is proven when at least the minimum sample of decided tasks in the window has a
//!   success rate whose 95% lower confidence bound reaches the target.
//! - Cost is proven when CPST is within budget and has not risen by more than the drift
//!   tolerance since the previous window of the same length.

use super::cpst::{Cpst, TaskSet, percent};
use super::money::{Micros, group_thousands};
use serde::{Deserialize, Serialize};

/// What the gate is judged against: a workflow's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateSettings {
    pub quality_target_bp: i64,
    pub min_sample: i64,
    pub window_days: i64,
    pub budget: Micros,
    pub drift_tolerance_bp: i64,
}

/// The gate's decision with the evidence for each half.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    pub quality_proven: bool,
    pub cost_proven: bool,
    pub quality_evidence: String,
    pub cost_evidence: String,
    pub sample: u64,
    pub successes: u64,
    pub cpst: Cpst,
    pub previous_cpst: Cpst,
}

impl GateResult {
    pub fn passes(&self) -> bool {
        self.quality_proven && self.cost_proven
    }

    /// Both halves of the evidence in one sentence.
    pub fn evidence(&self) -> String {
        format!("{}; {}", self.quality_evidence, self.cost_evidence)
    }
}

/// Judges a workflow's gate from its task set in the window and in the window before.
pub fn evaluate_autonomy_gate(
    current: &TaskSet,
    previous: &TaskSet,
    settings: &GateSettings,
) -> GateResult {
    let (quality_proven, quality_evidence) = quality(current, settings);
    let cpst = current.cost_per_successful_task();
    let previous_cpst = previous.cost_per_successful_task();
    let (cost_proven, cost_evidence) = cost(cpst, previous_cpst, settings);
    GateResult {
        quality_proven,
        cost_proven,
        quality_evidence,
        cost_evidence,
        sample: current.counts.decided(),
        successes: current.counts.succeeded,
        cpst,
        previous_cpst,
    }
}

fn quality(set: &TaskSet, settings: &GateSettings) -> (bool, String) {
    let target = percent(settings.quality_target_bp as f64 / 10_000.0);
    let days = settings.window_days;
    let decided = set.counts.decided();
    let Some(rate) = set.success_rate() else {
        return (
            false,
            format!("quality not proven: no decided tasks in {days} days"),
        );
    };
    // "At or above the target" means exactly that: a bound of 89.996% fails a 90% target. When
    // one decimal would print such a bound as the target itself, it is printed to three.
    let proven = rate.lower * 10_000.0 >= settings.quality_target_bp as f64;
    let lower = rate.lower * 100.0;
    let target_percent = settings.quality_target_bp as f64 / 100.0;
    let lower = if !proven && format!("{lower:.1}") == format!("{target_percent:.1}") {
        format!("{lower:.3}")
    } else {
        format!("{lower:.1}")
    };
    let figures = format!("{} ({lower}-{})", percent(rate.value), percent(rate.upper));
    if (decided as i64) < settings.min_sample {
        return (
            false,
            format!(
                "quality not proven: {} decided tasks in {days} days, fewer than the {} needed ({figures})",
                group_thousands(decided),
                group_thousands(settings.min_sample as u64)
            ),
        );
    }
    let (word, sign) = if proven {
        ("proven", ">=")
    } else {
        ("not proven", "<")
    };
    (
        proven,
        format!(
            "quality {word}: {figures}, lower bound {sign} {target} over {} tasks in {days} days",
            group_thousands(decided)
        ),
    )
}

fn cost(cpst: Cpst, previous: Cpst, settings: &GateSettings) -> (bool, String) {
    let budget = settings.budget;
    let Cpst::Cost(current) = cpst else {
        return (
            false,
            "cost not proven: no successful tasks, so CPST is undefined".into(),
        );
    };
    if current > budget {
        return (
            false,
            format!("cost not proven: {current} > {budget} budget"),
        );
    }
    let tolerance = percent(settings.drift_tolerance_bp as f64 / 10_000.0);
    let Cpst::Cost(before) = previous else {
        return (
            false,
            format!(
                "cost not proven: {current} <= {budget} budget, but the previous window has no CPST to rule out drift"
            ),
        );
    };
    // A ceiling beyond what money can count is above any current figure.
    let ceiling = before
        .scale(settings.drift_tolerance_bp, 10_000)
        .and_then(|drift| before.checked_add(drift));
    if ceiling.is_ok_and(|ceiling| current > ceiling) {
        return (
            false,
            format!(
                "cost not proven: {current} drifted up from {before}, more than the {tolerance} tolerance"
            ),
        );
    }
    (
        true,
        format!(
            "cost proven: {current} <= {budget} budget, {before} in the previous window (tolerance {tolerance})"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cpst::CostBreakdown;
    use crate::domain::status::TaskStatus;

    const SETTINGS: GateSettings = GateSettings {
        quality_target_bp: 9_000,
        min_sample: 400,
        window_days: 30,
        budget: Micros(500_000),
        drift_tolerance_bp: 1_000,
    };

    fn set(succeeded: u64, failed: u64, total_cost: i64) -> TaskSet {
        let mut set = TaskSet::default();
        let cost = CostBreakdown {
            model: Micros(total_cost),
            ..Default::default()
        };
        set.add(TaskStatus::Succeeded, succeeded, cost).unwrap();
        set.add(TaskStatus::Failed, failed, CostBreakdown::default())
            .unwrap();
        set
    }

    #[test]
    fn the_gate_opens_only_when_quality_and_cost_are_both_proven() {
        // 1,155 of 1,240 succeed (93.1%, lower bound 91.6%); $0.45 per success, $0.44 before.
        let current = set(1_155, 85, 519_750_000);
        let previous = set(1_000, 100, 440_000_000);
        let gate = evaluate_autonomy_gate(&current, &previous, &SETTINGS);
        assert!(gate.passes(), "{}", gate.evidence());
        assert_eq!(
            gate.quality_evidence,
            "quality proven: 93.1% (91.6-94.4%), lower bound >= 90.0% over 1,240 tasks in 30 days"
        );
        assert_eq!(
            gate.cost_evidence,
            "cost proven: $0.45 <= $0.50 budget, $0.44 in the previous window (tolerance 10.0%)"
        );
    }

    #[test]
    fn cost_over_budget_keeps_the_gate_shut_whatever_the_quality() {
        let current = set(1_155, 85, 600_600_000);
        let gate = evaluate_autonomy_gate(&current, &current, &SETTINGS);
        assert!(gate.quality_proven && !gate.cost_proven);
        assert_eq!(gate.cost_evidence, "cost not proven: $0.52 > $0.50 budget");
    }

    #[test]
    fn upward_drift_beyond_tolerance_is_not_proven_cost() {
        let current = set(1_000, 0, 480_000_000);
        let previous = set(1_000, 0, 400_000_000);
        let gate = evaluate_autonomy_gate(&current, &previous, &SETTINGS);
        assert!(!gate.cost_proven);
        assert_eq!(
            gate.cost_evidence,
            "cost not proven: $0.48 drifted up from $0.40, more than the 10.0% tolerance"
        );
    }

    #[test]
    fn a_small_sample_or_a_low_bound_is_not_proven_quality() {
        let small = evaluate_autonomy_gate(&set(98, 2, 1), &set(1, 0, 1), &SETTINGS);
        assert!(!small.quality_proven);
        assert!(
            small
                .quality_evidence
                .contains("100 decided tasks in 30 days, fewer than the 400 needed")
        );
        // 91% observed over 500 tasks, but the lower bound (88.2%) is under the target.
        let low = evaluate_autonomy_gate(&set(455, 45, 1), &set(1, 0, 1), &SETTINGS);
        assert!(!low.quality_proven, "{}", low.quality_evidence);
        let empty = evaluate_autonomy_gate(&TaskSet::default(), &TaskSet::default(), &SETTINGS);
        assert!(!empty.passes());
        assert_eq!(
            empty.cost_evidence,
            "cost not proven: no successful tasks, so CPST is undefined"
        );
    }

    #[test]
    fn a_lower_bound_a_hair_under_the_target_does_not_pass_and_says_so() {
        // 433 of 467 succeed: the lower bound is 89.998%, which one decimal prints as 90.0%.
        let current = set(433, 34, 1);
        let lower = current.success_rate().unwrap().lower;
        assert!((0.8999..0.9).contains(&lower), "{lower}");
        let gate = evaluate_autonomy_gate(&current, &current, &SETTINGS);
        assert!(!gate.quality_proven, "{}", gate.quality_evidence);
        assert!(
            gate.quality_evidence
                .starts_with("quality not proven: 92.7% (89.998-"),
            "{}",
            gate.quality_evidence
        );
        assert!(gate.quality_evidence.contains("lower bound < 90.0%"));
    }
}
