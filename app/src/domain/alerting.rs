//! Alert conditions: when a workflow's (or team's) figures over a rolling window are bad enough,
//! and far enough beyond sampling noise, to tell someone. Pure: the service gathers the figures,
//! these functions decide, and say what they found in words.
//!
//! How noise is told apart (see `docs/alerts.md`):
//! - **CPST regression**: CPST is a ratio of two sums over a window's decided tasks, total cost
//!   over successes. Its standard error follows from the delta method for a ratio estimator,
//!   `se(R) = sd(c - R·s) / (√n · p)`, with `c` a task's cost, `s` its success (0 or 1) and `p`
//!   the success rate. Task cost and success are correlated (failed tasks retry), and the
//!   rollups keep their spreads apart, so the sum of the two standard deviations stands in for
//!   `sd(c - R·s)`: the largest it can be (Cauchy-Schwarz), which errs towards silence. The two
//!   windows' log CPSTs are independent; a rise is beyond noise when the 95% interval of
//!   `log(R₁/R₀)` lies above zero, and it raises an alert only when it is also larger than the
//!   workflow's drift tolerance.
//! - **Success-rate drop**: below the target when the 95% Wilson interval lies under it; a
//!   drop against the window before when Newcombe's interval of the difference lies under zero
//!   (the comparison page's test).

use super::compare::rate_change;
use super::cpst::{Cpst, TaskSet, percent, signed_percent};
use super::money::{Micros, group_thousands};
use super::stats::Buckets;
pub use super::status::AlertKind;
use serde::{Deserialize, Serialize};

/// The 95% two-sided normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

impl AlertKind {
    /// The condition in a few words, as the rule list and the alert name it.
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::CpstOverBudget => "CPST over budget",
            AlertKind::CpstRegression => "CPST regression",
            AlertKind::SuccessDrop => "Success-rate drop",
            AlertKind::SpendBudget => "Monthly spend budget",
            AlertKind::GateTurned => "Autonomy gate turned",
            AlertKind::EscalationSurge => "Escalation-reason surge",
        }
    }

    /// Whether the rule's window applies (spend budgets read the calendar month, the gate its
    /// workflow's own window).
    pub fn uses_window(self) -> bool {
        !matches!(self, AlertKind::SpendBudget | AlertKind::GateTurned)
    }

    /// Whether a change of configuration, rule, price or model mix can explain it.
    pub fn has_cause(self) -> bool {
        matches!(self, AlertKind::CpstRegression | AlertKind::SuccessDrop)
    }
}

/// What one evaluation of a rule found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Finding {
    /// The condition holds: a headline in words and figures, and for spend budgets the share of
    /// the budget reached (basis points), so a higher threshold can raise the alert again.
    Firing { headline: String, level_bp: i64 },
    /// The condition does not hold, or cannot be judged yet; why, in words.
    Quiet(String),
}

impl Finding {
    pub fn is_firing(&self) -> bool {
        matches!(self, Finding::Firing { .. })
    }

    /// The finding as one line.
    pub fn words(&self) -> &str {
        match self {
            Finding::Firing { headline, .. } | Finding::Quiet(headline) => headline,
        }
    }

    fn firing(headline: String) -> Finding {
        Finding::Firing {
            headline,
            level_bp: 0,
        }
    }
}

/// A window's evidence for one subject: its tasks' verdicts and costs, and the spread of its
/// decided tasks' costs (calls and labour, per task).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowEvidence {
    pub set: TaskSet,
    pub task_costs: Buckets,
    /// Escalated tasks per reason.
    pub escalations: Vec<(String, u64)>,
}

fn too_few(decided: u64, min_tasks: i64, days: i64) -> Option<Finding> {
    ((decided as i64) < min_tasks).then(|| {
        Finding::Quiet(format!(
            "{} decided tasks in {days} days, fewer than the {} needed to judge",
            group_thousands(decided),
            group_thousands(min_tasks.max(0) as u64)
        ))
    })
}

/// CPST over budget over the window, once it has `min_tasks` decided tasks.
pub fn over_budget(now: &TaskSet, budget: Micros, min_tasks: i64, days: i64) -> Finding {
    if let Some(quiet) = too_few(now.counts.decided(), min_tasks, days) {
        return quiet;
    }
    match now.cost_per_successful_task() {
        Cpst::NoSuccessfulTasks => Finding::firing(format!(
            "no successful task in {days} days: every dollar spent ({}) bought nothing finished",
            now.total_cost()
        )),
        Cpst::Cost(cpst) if cpst > budget => {
            let over = (cpst.0 - budget.0) as f64 / budget.0.max(1) as f64;
            Finding::firing(format!(
                "CPST {cpst} is {} over the {budget} budget over {days} days ({} decided tasks)",
                signed_percent(over),
                group_thousands(now.counts.decided())
            ))
        }
        Cpst::Cost(cpst) => Finding::Quiet(format!(
            "CPST {cpst} is within the {budget} budget over {days} days"
        )),
    }
}

/// The 95% interval of CPST's relative change between two windows, on the log scale, with
/// the point estimate: `(ratio, lower, upper)` of `R₁/R₀`. `None` without successes in both.
pub fn cpst_ratio_interval(
    before: &WindowEvidence,
    now: &WindowEvidence,
) -> Option<(f64, f64, f64)> {
    let (r0, v0) = log_cpst_and_variance(before)?;
    let (r1, v1) = log_cpst_and_variance(now)?;
    let log_ratio = r1 - r0;
    let half = Z95 * (v0 + v1).sqrt();
    Some((
        log_ratio.exp(),
        (log_ratio - half).exp(),
        (log_ratio + half).exp(),
    ))
}

/// `log(CPST)` and its variance by the delta method (see the module's documentation).
fn log_cpst_and_variance(evidence: &WindowEvidence) -> Option<(f64, f64)> {
    let n = evidence.set.counts.decided() as f64;
    let successes = evidence.set.counts.succeeded as f64;
    let Cpst::Cost(cpst) = evidence.set.cost_per_successful_task() else {
        return None;
    };
    if cpst.0 <= 0 || n < 2.0 {
        return None;
    }
    let r = cpst.0 as f64;
    let p = successes / n;
    let sd_cost = bucket_sd(&evidence.task_costs);
    let sd_success = (p * (1.0 - p)).sqrt();
    let se = (sd_cost + r * sd_success) / (n.sqrt() * p);
    Some((r.ln(), (se / r).powi(2)))
}

/// The sample standard deviation of the values kept as buckets, each bucket read as its mean
/// (a bucket is at most 2.5% wide, so the spread inside one is negligible).
fn bucket_sd(buckets: &Buckets) -> f64 {
    let n = buckets.count() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let total: f64 = buckets.buckets().iter().map(|b| b.total as f64).sum();
    let mean = total / n;
    let squares: f64 = buckets
        .buckets()
        .iter()
        .map(|b| {
            let bucket_mean = b.total as f64 / b.count.max(1) as f64;
            b.count as f64 * (bucket_mean - mean).powi(2)
        })
        .sum();
    (squares / (n - 1.0)).sqrt()
}

/// CPST up by more than `tolerance_bp` against the window before, beyond noise.
pub fn regression(
    before: &WindowEvidence,
    now: &WindowEvidence,
    tolerance_bp: i64,
    min_tasks: i64,
    days: i64,
) -> Finding {
    for evidence in [now, before] {
        if let Some(quiet) = too_few(evidence.set.counts.decided(), min_tasks, days) {
            return quiet;
        }
    }
    let (Cpst::Cost(then), Cpst::Cost(cpst)) = (
        before.set.cost_per_successful_task(),
        now.set.cost_per_successful_task(),
    ) else {
        return Finding::Quiet("no CPST in one of the two windows to compare".into());
    };
    let Some((ratio, lower, upper)) = cpst_ratio_interval(before, now) else {
        return Finding::Quiet("no CPST in one of the two windows to compare".into());
    };
    let tolerance = tolerance_bp as f64 / 10_000.0;
    let change = format!("CPST {then} → {cpst} ({}", signed_percent(ratio - 1.0));
    let interval = format!(
        "95% interval {} to {}",
        signed_percent(lower - 1.0),
        signed_percent(upper - 1.0)
    );
    if ratio - 1.0 <= tolerance {
        return Finding::Quiet(format!(
            "{change}, within the {} drift tolerance) against the {days} days before",
            percent(tolerance)
        ));
    }
    if lower <= 1.0 {
        return Finding::Quiet(format!(
            "{change}, within noise: {interval}) against the {days} days before"
        ));
    }
    Finding::firing(format!(
        "{change}, beyond noise: {interval}) against the {days} days before"
    ))
}

/// The success rate under the quality target, or significantly below the window before.
pub fn success_drop(
    before: &TaskSet,
    now: &TaskSet,
    target_bp: i64,
    min_tasks: i64,
    days: i64,
) -> Finding {
    if let Some(quiet) = too_few(now.counts.decided(), min_tasks, days) {
        return quiet;
    }
    let Some(rate) = now.success_rate() else {
        return Finding::Quiet(format!("no decided tasks in {days} days"));
    };
    let target = target_bp as f64 / 10_000.0;
    let shown = format!(
        "{} (95% interval {}-{})",
        percent(rate.value),
        percent(rate.lower),
        percent(rate.upper)
    );
    if rate.upper < target {
        return Finding::firing(format!(
            "success rate {shown} is below the {} target over {days} days",
            percent(target)
        ));
    }
    let enough_before = (before.counts.decided() as i64) >= min_tasks;
    if let (true, Some(then)) = (enough_before, before.success_rate()) {
        let change = rate_change(&then, &rate);
        if change.significant && change.delta < 0.0 {
            return Finding::firing(format!(
                "success rate {} → {shown}, a drop beyond noise (change {:+.1} points, 95% interval {:+.1} to {:+.1}) against the {days} days before",
                percent(then.value),
                change.delta * 100.0,
                change.lower * 100.0,
                change.upper * 100.0
            ));
        }
    }
    Finding::Quiet(format!(
        "success rate {shown} meets the {} target over {days} days",
        percent(target)
    ))
}

/// The month's spend if it goes on at the pace of the month so far (a straight line).
pub fn forecast(month_to_date: Micros, elapsed_ms: i64, month_ms: i64) -> Micros {
    if elapsed_ms <= 0 {
        return month_to_date;
    }
    let scaled = i128::from(month_to_date.0) * i128::from(month_ms) / i128::from(elapsed_ms);
    Micros(scaled.clamp(0, i128::from(i64::MAX)) as i64)
}

/// Month-to-date spend against a monthly budget, with a straight-line forecast to the month's
/// end: fires at the highest of `thresholds_bp` the spend has reached.
pub fn spend(
    month_to_date: Micros,
    elapsed_ms: i64,
    month_ms: i64,
    budget: Micros,
    thresholds_bp: &[i64],
) -> Finding {
    let share_bp = |amount: Micros| {
        (i128::from(amount.0) * 10_000 / i128::from(budget.0.max(1))).clamp(0, i64::MAX as i128)
            as i64
    };
    let reached = share_bp(month_to_date);
    let forecast = forecast(month_to_date, elapsed_ms, month_ms);
    let words = format!(
        "{month_to_date} spent this month, {} of the {budget} budget; on pace for {forecast} ({}) by the month's end",
        percent(reached as f64 / 10_000.0),
        percent(share_bp(forecast) as f64 / 10_000.0)
    );
    match thresholds_bp
        .iter()
        .copied()
        .filter(|t| reached >= *t)
        .max()
    {
        Some(level) => Finding::Firing {
            headline: format!(
                "{} of the budget reached: {words}",
                percent(level as f64 / 10_000.0)
            ),
            level_bp: level,
        },
        None => Finding::Quiet(words),
    }
}

/// A workflow above level 0 whose gate no longer passes: the level is more than its evidence
/// supports. `evidence` is the half (or both) that failed, in the gate's words.
pub fn gate_turned(level: i64, passes: bool, evidence: &str) -> Finding {
    match (level, passes) {
        (0, _) => Finding::Quiet("autonomy level 0: nothing to take back".into()),
        (_, true) => Finding::Quiet(format!("autonomy level {level} is supported: {evidence}")),
        (_, false) => Finding::firing(format!(
            "autonomy level {level} is above what the evidence supports: {evidence}"
        )),
    }
}

/// One escalation reason's share of escalations at least doubled against the window before,
/// with at least `min_tasks` escalations for that reason now.
pub fn escalation_surge(
    before: &[(String, u64)],
    now: &[(String, u64)],
    min_tasks: i64,
    days: i64,
) -> Finding {
    let total = |reasons: &[(String, u64)]| reasons.iter().map(|(_, n)| n).sum::<u64>();
    let (all_now, all_before) = (total(now), total(before));
    if all_now == 0 {
        return Finding::Quiet(format!("no escalations in {days} days"));
    }
    let mut surges: Vec<(f64, String)> = now
        .iter()
        .filter(|(_, n)| (*n as i64) >= min_tasks)
        .filter_map(|(reason, n)| {
            let share = *n as f64 / all_now as f64;
            let then = before
                .iter()
                .find(|(r, _)| r == reason)
                .map_or(0, |(_, n)| *n);
            let share_before = match all_before {
                0 => 0.0,
                all => then as f64 / all as f64,
            };
            (share >= 2.0 * share_before).then(|| {
                (
                    share - share_before,
                    format!(
                        "escalations for \"{reason}\" rose to {} of escalations ({} tasks) from {} ({} tasks) in the {days} days before",
                        percent(share),
                        group_thousands(*n),
                        percent(share_before),
                        group_thousands(then)
                    ),
                )
            })
        })
        .collect();
    surges.sort_by(|a, b| b.0.total_cmp(&a.0));
    match surges.into_iter().next() {
        Some((_, headline)) => Finding::firing(headline),
        None => Finding::Quiet(format!(
            "no escalation reason's share doubled with at least {} tasks over {days} days",
            group_thousands(min_tasks.max(0) as u64)
        )),
    }
}

/// Whether a webhook may not be sent to `ip` unless an administrator allowed internal
/// addresses: loopback, private, link-local (cloud metadata services live there), shared,
/// unspecified, multicast, documentation and unique-local addresses, and IPv4 ones written as
/// IPv6.
pub fn is_internal_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cpst::CostBreakdown;
    use crate::domain::status::TaskStatus;

    /// `succeeded` of `decided` tasks, every task costing `each` (or `spread` around it).
    fn evidence(decided: u64, succeeded: u64, costs: &[i64]) -> WindowEvidence {
        let mut set = TaskSet::default();
        let total: i64 = costs.iter().sum();
        let model = CostBreakdown {
            model: Micros(total),
            ..CostBreakdown::default()
        };
        set.add(TaskStatus::Succeeded, succeeded, model).unwrap();
        set.add(
            TaskStatus::Failed,
            decided - succeeded,
            CostBreakdown::default(),
        )
        .unwrap();
        WindowEvidence {
            set,
            task_costs: Buckets::of(costs.iter().copied()),
            escalations: vec![],
        }
    }

    /// Costs that vary by ±`spread` around `mean`, deterministic.
    fn costs(n: usize, mean: i64, spread: i64) -> Vec<i64> {
        (0..n)
            .map(|i| mean + spread * ((i * 7 % 11) as i64 - 5) / 5)
            .collect()
    }

    #[test]
    fn the_seed_triage_regression_fires_beyond_noise() {
        // 400 tasks a window; cost per task $0.35 → $0.42, success 87% → 80%: CPST about
        // $0.40 → $0.53, a third up.
        let before = evidence(400, 348, &costs(400, 350_000, 150_000));
        let now = evidence(400, 320, &costs(400, 420_000, 150_000));
        let found = regression(&before, &now, 1_000, 50, 7);
        assert!(found.is_firing(), "{found:?}");
        assert!(found.words().contains("beyond noise"), "{}", found.words());
    }

    #[test]
    fn a_rise_on_a_small_noisy_sample_is_noise() {
        let before = evidence(60, 50, &costs(60, 350_000, 300_000));
        let now = evidence(60, 48, &costs(60, 400_000, 300_000));
        let found = regression(&before, &now, 1_000, 50, 7);
        assert!(!found.is_firing(), "{found:?}");
        assert!(found.words().contains("within noise"), "{}", found.words());
    }

    #[test]
    fn a_significant_rise_within_tolerance_does_not_fire() {
        let before = evidence(5_000, 4_500, &costs(5_000, 350_000, 10_000));
        let now = evidence(5_000, 4_500, &costs(5_000, 365_000, 10_000));
        let found = regression(&before, &now, 1_000, 50, 7);
        assert!(found.words().contains("drift tolerance"), "{found:?}");
    }

    #[test]
    fn too_few_tasks_never_fire() {
        let before = evidence(3, 3, &[100_000, 100_000, 100_000]);
        let now = evidence(3, 1, &[900_000, 900_000, 900_000]);
        assert!(!regression(&before, &now, 1_000, 50, 7).is_firing());
        assert!(!over_budget(&now.set, Micros(10_000), 50, 7).is_firing());
        assert!(!success_drop(&before.set, &now.set, 9_000, 50, 7).is_firing());
    }

    #[test]
    fn over_budget_names_the_excess() {
        let now = evidence(100, 80, &costs(100, 900_000, 0));
        // $90 over 80 successes: $1.125 a success against a $0.90 budget.
        let found = over_budget(&now.set, Micros(900_000), 50, 30);
        assert_eq!(
            found.words(),
            "CPST $1.13 is +25% over the $0.90 budget over 30 days (100 decided tasks)"
        );
        assert!(!over_budget(&now.set, Micros(1_200_000), 50, 30).is_firing());
    }

    #[test]
    fn success_below_target_fires_only_when_the_interval_is_under_it() {
        let quiet = evidence(60, 51, &[]).set; // 85%, interval reaches 90%
        let low = evidence(600, 480, &[]).set; // 80%, interval 76.6-83.0%
        assert!(!success_drop(&quiet, &quiet, 9_000, 50, 7).is_firing());
        let found = success_drop(&low, &low, 9_000, 50, 7);
        assert!(
            found.words().contains("below the 90.0% target"),
            "{found:?}"
        );
    }

    #[test]
    fn a_significant_drop_against_the_window_before_fires_above_target() {
        let before = evidence(1_000, 980, &[]).set;
        let now = evidence(1_000, 940, &[]).set;
        let found = success_drop(&before, &now, 8_000, 50, 7);
        assert!(found.words().contains("a drop beyond noise"), "{found:?}");
    }

    #[test]
    fn spend_fires_at_the_highest_threshold_reached_with_a_forecast() {
        let day = 86_400_000;
        let budget = Micros(10_000_000_000);
        let found = spend(
            Micros(8_200_000_000),
            20 * day,
            30 * day,
            budget,
            &[8_000, 9_000, 10_000],
        );
        assert_eq!(
            found,
            Finding::Firing {
                headline: "80.0% of the budget reached: $8,200.00 spent this month, 82.0% of the $10,000.00 budget; on pace for $12,300.00 (123.0%) by the month's end".into(),
                level_bp: 8_000,
            }
        );
        let found = spend(
            Micros(9_100_000_000),
            20 * day,
            30 * day,
            budget,
            &[8_000, 9_000, 10_000],
        );
        assert!(matches!(
            found,
            Finding::Firing {
                level_bp: 9_000,
                ..
            }
        ));
        assert!(!spend(Micros(1), day, 30 * day, budget, &[8_000]).is_firing());
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal_address(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_internal_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn the_gate_turns_only_above_level_zero() {
        assert!(gate_turned(2, false, "cost not proven").is_firing());
        assert!(!gate_turned(0, false, "cost not proven").is_firing());
        assert!(!gate_turned(2, true, "both proven").is_firing());
    }

    #[test]
    fn an_escalation_reason_that_doubles_its_share_surges() {
        let before = vec![("policy".to_string(), 40), ("missing data".to_string(), 10)];
        let now = vec![("policy".to_string(), 30), ("missing data".to_string(), 30)];
        let found = escalation_surge(&before, &now, 10, 7);
        assert!(
            found.words().contains("\"missing data\" rose to 50.0%"),
            "{found:?}"
        );
        let few = vec![("policy".to_string(), 40), ("missing data".to_string(), 5)];
        assert!(!escalation_surge(&before, &few, 10, 7).is_firing());
    }
}
