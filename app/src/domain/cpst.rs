//! Cost per successful task: the one place the formula lives.
//!
//! CPST = (model + tool + retry + cache + human review labour + allocated platform cost)
//!        / tasks whose verdict is `succeeded`.
//!
//! Every decided task's cost counts in the numerator, whatever its verdict; pending tasks are
//! left out of both sides until they are decided.

use super::money::{Micros, MoneyOverflow};
use super::status::{CallKind, TaskStatus};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where the money went. Each dollar lands in exactly one component.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostBreakdown {
    /// Model calls of a task's first attempt, less their cache tokens.
    pub model: Micros,
    /// Tool calls and retrievals of a task's first attempt.
    pub tool: Micros,
    /// Every call of every attempt after the first.
    pub retry: Micros,
    /// Cache reads and writes of a task's first attempt.
    pub cache: Micros,
    /// Review minutes at the loaded hourly rate of the task's team.
    pub labour: Micros,
    /// Fixed monthly costs spread over the days of the window.
    pub platform: Micros,
    /// Billed spend no call explains, allocated to workflows by their share of traced spend
    /// when finance chose to (off by default); spread over the days like platform costs.
    #[serde(default)]
    pub unattributed: Micros,
}

impl CostBreakdown {
    /// The sum of every component, or [`MoneyOverflow`].
    pub fn total(&self) -> Result<Micros, MoneyOverflow> {
        Micros::try_sum(self.components().map(|(_, amount)| amount))
    }

    /// Both breakdowns added component by component, or [`MoneyOverflow`].
    pub fn checked_add(&self, rhs: &CostBreakdown) -> Result<CostBreakdown, MoneyOverflow> {
        Ok(CostBreakdown {
            model: self.model.checked_add(rhs.model)?,
            tool: self.tool.checked_add(rhs.tool)?,
            retry: self.retry.checked_add(rhs.retry)?,
            cache: self.cache.checked_add(rhs.cache)?,
            labour: self.labour.checked_add(rhs.labour)?,
            platform: self.platform.checked_add(rhs.platform)?,
            unattributed: self.unattributed.checked_add(rhs.unattributed)?,
        })
    }

    /// Component labels and amounts, in the order every page shows them.
    pub fn components(&self) -> [(&'static str, Micros); 7] {
        [
            ("Model", self.model),
            ("Tool", self.tool),
            ("Retry", self.retry),
            ("Cache", self.cache),
            ("Human review", self.labour),
            ("Platform", self.platform),
            ("Unattributed spend", self.unattributed),
        ]
    }

    /// Whether the `index`th of [`CostBreakdown::components`] belongs on a page showing these
    /// breakdowns: every component does, except unattributed spend where none was allocated
    /// (it exists only when finance allocates billed spend no call explains).
    pub fn shows_component<'a>(
        index: usize,
        breakdowns: impl IntoIterator<Item = &'a CostBreakdown>,
    ) -> bool {
        index != 6
            || breakdowns
                .into_iter()
                .any(|b| b.unattributed != Micros::ZERO)
    }

    /// The share of one call's cost in each component.
    pub fn of_call(
        kind: CallKind,
        attempt_number: i64,
        cost: Micros,
        cache_cost: Micros,
    ) -> Result<Self, MoneyOverflow> {
        if attempt_number > 1 {
            return Ok(CostBreakdown {
                retry: cost,
                ..Default::default()
            });
        }
        Ok(match kind {
            CallKind::Model | CallKind::Other => CostBreakdown {
                model: cost.checked_sub(cache_cost)?,
                cache: cache_cost,
                ..Default::default()
            },
            CallKind::Tool | CallKind::Retrieval => CostBreakdown {
                tool: cost,
                ..Default::default()
            },
        })
    }
}

/// Labour cost of `seconds` of review at `rate_per_hour`, or [`MoneyOverflow`].
pub fn labour_cost(seconds: i64, rate_per_hour: Micros) -> Result<Micros, MoneyOverflow> {
    rate_per_hour.scale(seconds, 3600)
}

/// Cost per successful task, or the statement that there is none to divide by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cpst {
    Cost(Micros),
    #[default]
    NoSuccessfulTasks,
}

impl Cpst {
    pub fn micros(self) -> Option<Micros> {
        match self {
            Cpst::Cost(m) => Some(m),
            Cpst::NoSuccessfulTasks => None,
        }
    }

    /// How far this CPST lies above (positive) or below (negative) `budget`, as a fraction of
    /// the budget: 0.25 is 25 % over. None without a successful task or without a budget. For
    /// showing and ordering only; money itself stays in micro-dollars.
    pub fn variance_to(self, budget: Micros) -> Option<f64> {
        let cost = self.micros()?;
        (budget.0 > 0).then(|| (cost.0 as f64 - budget.0 as f64) / budget.0 as f64)
    }
}

/// A variance as a signed whole percentage: `+72%`, `−12%`, `0%`.
pub fn signed_percent(fraction: f64) -> String {
    let points = (fraction * 100.0).round();
    match points {
        p if p > 0.0 => format!("+{p:.0}%"),
        p if p < 0.0 => format!("−{:.0}%", -p),
        _ => "0%".to_owned(),
    }
}

impl fmt::Display for Cpst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cpst::Cost(m) => m.fmt(f),
            Cpst::NoSuccessfulTasks => f.write_str("no successful tasks"),
        }
    }
}

/// How many tasks reached each verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub pending: u64,
    pub succeeded: u64,
    pub assisted: u64,
    pub failed: u64,
    pub escalated: u64,
    pub abandoned: u64,
}

impl StatusCounts {
    pub fn get(&self, status: TaskStatus) -> u64 {
        match status {
            TaskStatus::Pending => self.pending,
            TaskStatus::Succeeded => self.succeeded,
            TaskStatus::Assisted => self.assisted,
            TaskStatus::Failed => self.failed,
            TaskStatus::Escalated => self.escalated,
            TaskStatus::Abandoned => self.abandoned,
        }
    }

    fn get_mut(&mut self, status: TaskStatus) -> &mut u64 {
        match status {
            TaskStatus::Pending => &mut self.pending,
            TaskStatus::Succeeded => &mut self.succeeded,
            TaskStatus::Assisted => &mut self.assisted,
            TaskStatus::Failed => &mut self.failed,
            TaskStatus::Escalated => &mut self.escalated,
            TaskStatus::Abandoned => &mut self.abandoned,
        }
    }

    /// Decided tasks: every verdict but pending.
    pub fn decided(&self) -> u64 {
        self.succeeded + self.assisted + self.failed + self.escalated + self.abandoned
    }
}

/// Any set of tasks (a workflow, a team, a day, a configuration version...) being totalled.
///
/// [`TaskSet::add`], [`TaskSet::add_platform`] and [`TaskSet::merge`] refuse a change whose
/// total cost would leave the range of [`Micros`], so the total of a set built through them is
/// always exact; write `costs` directly only in tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSet {
    pub counts: StatusCounts,
    pub costs: CostBreakdown,
}

impl TaskSet {
    /// Adds `tasks` tasks with one verdict and their summed cost. A pending task's cost is held
    /// back until its verdict is known, so that CPST never divides settled cost by unsettled work.
    /// Refused, leaving the set as it was, when the total would overflow.
    pub fn add(
        &mut self,
        status: TaskStatus,
        tasks: u64,
        cost: CostBreakdown,
    ) -> Result<(), MoneyOverflow> {
        if status != TaskStatus::Pending {
            self.costs = checked_costs(self.costs.checked_add(&cost)?)?;
        }
        let count = self.counts.get_mut(status);
        *count = count.saturating_add(tasks);
        Ok(())
    }

    /// Adds fixed cost that belongs to the set as a whole (platform costs for the window).
    pub fn add_platform(&mut self, amount: Micros) -> Result<(), MoneyOverflow> {
        let platform = self.costs.platform.checked_add(amount)?;
        self.costs = checked_costs(CostBreakdown {
            platform,
            ..self.costs
        })?;
        Ok(())
    }

    /// Adds billed spend no call explains, allocated to the set (see
    /// [`CostBreakdown::unattributed`]).
    pub fn add_unattributed(&mut self, amount: Micros) -> Result<(), MoneyOverflow> {
        let unattributed = self.costs.unattributed.checked_add(amount)?;
        self.costs = checked_costs(CostBreakdown {
            unattributed,
            ..self.costs
        })?;
        Ok(())
    }

    /// Adds another set's tasks and costs. Refused, leaving the set as it was, when the total
    /// would overflow.
    pub fn merge(&mut self, other: &TaskSet) -> Result<(), MoneyOverflow> {
        self.costs = checked_costs(self.costs.checked_add(&other.costs)?)?;
        for status in TaskStatus::ALL {
            let count = self.counts.get_mut(*status);
            *count = count.saturating_add(other.counts.get(*status));
        }
        Ok(())
    }

    /// The set's total cost: exact, since every way of adding to the set checks it.
    pub fn total_cost(&self) -> Micros {
        // Unreachable for a set built through its methods (see the type's documentation); a
        // test that writes `costs` by hand beyond range reads the largest amount.
        self.costs.total().unwrap_or(Micros(i64::MAX))
    }

    /// Total cost divided by the tasks that met their success rule.
    pub fn cost_per_successful_task(&self) -> Cpst {
        match self.total_cost().per(self.counts.succeeded) {
            Some(cost) => Cpst::Cost(cost),
            None => Cpst::NoSuccessfulTasks,
        }
    }

    /// Total cost divided by every decided task, successful or not.
    pub fn cost_per_attempted_task(&self) -> Option<Micros> {
        self.total_cost().per(self.counts.decided())
    }

    /// Share of decided tasks that succeeded, with its 95% Wilson interval.
    pub fn success_rate(&self) -> Option<Proportion> {
        Proportion::wilson(self.counts.succeeded, self.counts.decided())
    }
}

/// `costs` if its total is in range.
fn checked_costs(costs: CostBreakdown) -> Result<CostBreakdown, MoneyOverflow> {
    costs.total().map(|_| costs)
}

/// A proportion with its 95% Wilson score interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Proportion {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
    pub successes: u64,
    pub trials: u64,
}

impl Proportion {
    const Z95: f64 = 1.959_963_984_540_054;

    pub fn wilson(successes: u64, trials: u64) -> Option<Proportion> {
        if trials == 0 {
            return None;
        }
        let n = trials as f64;
        let p = successes as f64 / n;
        let z2 = Self::Z95 * Self::Z95;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = Self::Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
        Some(Proportion {
            value: p,
            // At the extremes the bound is exactly 0 or 1; say so rather than 0.9999999999999999.
            lower: if successes == 0 {
                0.0
            } else {
                (centre - half).max(0.0)
            },
            upper: if successes == trials {
                1.0
            } else {
                (centre + half).min(1.0)
            },
            successes,
            trials,
        })
    }
}

/// A rate as a percentage with one decimal: `93.1%`. A share that is not zero never reads as
/// zero: below 0.05% it is `< 0.1%`.
pub fn percent(rate: f64) -> String {
    if rate > 0.0 && rate < 0.0005 {
        return "< 0.1%".to_owned();
    }
    format!("{:.1}%", rate * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dollars(d: i64) -> Micros {
        Micros(d * 1_000_000)
    }

    #[test]
    fn a_share_that_is_not_zero_never_reads_as_zero() {
        assert_eq!(percent(0.931), "93.1%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(0.0001), "< 0.1%");
        assert_eq!(percent(0.0005), "0.1%");
    }

    #[test]
    fn variance_is_relative_to_the_budget() {
        let cpst = Cpst::Cost(Micros(1_550_000));
        let over = cpst.variance_to(Micros(900_000)).unwrap();
        assert_eq!(signed_percent(over), "+72%");
        let under = Cpst::Cost(Micros(880_000)).variance_to(dollars(1)).unwrap();
        assert_eq!(signed_percent(under), "−12%");
        assert_eq!(signed_percent(0.0001), "0%");
        assert_eq!(Cpst::NoSuccessfulTasks.variance_to(dollars(1)), None);
        assert_eq!(cpst.variance_to(Micros(0)), None);
    }

    fn set_with(succeeded: u64, failed: u64, model_cost: Micros) -> TaskSet {
        let mut set = TaskSet::default();
        set.add(TaskStatus::Succeeded, succeeded, CostBreakdown::default())
            .unwrap();
        set.add(TaskStatus::Failed, failed, CostBreakdown::default())
            .unwrap();
        set.costs.model = model_cost;
        set
    }

    #[test]
    fn week_one_of_the_support_team_costs_about_a_dollar_five_per_solved_ticket() {
        // $420 of model cost, 12.5 hours of editing at $30/hour, 760 solved tickets.
        let mut set = set_with(760, 0, dollars(420));
        set.costs.labour = labour_cost(12 * 3600 + 1800, dollars(30)).unwrap();
        assert_eq!(set.total_cost(), dollars(795));
        assert_eq!(
            set.cost_per_successful_task(),
            Cpst::Cost(Micros(1_046_053))
        );
    }

    #[test]
    fn week_two_cheaper_prompt_costs_about_a_dollar_seventy_four_once_labour_counts() {
        // $270 of model cost, 26.4 hours of editing at $30/hour, 610 solved tickets.
        let mut set = set_with(610, 0, dollars(270));
        set.costs.labour = labour_cost(26 * 3600 + 1440, dollars(30)).unwrap();
        assert_eq!(set.total_cost(), dollars(1062));
        assert_eq!(
            set.cost_per_successful_task(),
            Cpst::Cost(Micros(1_740_984))
        );
    }

    #[test]
    fn support_triage_agent_falls_from_a_dollar_forty_to_thirty_eight_cents() {
        let v1 = set_with(7_200, 2_800, dollars(10_080));
        let v2 = set_with(9_100, 900, dollars(3_486));
        assert_eq!(v1.cost_per_successful_task(), Cpst::Cost(Micros(1_400_000)));
        assert_eq!(v2.cost_per_successful_task(), Cpst::Cost(Micros(383_077)));
    }

    #[test]
    fn an_eighty_percent_success_rate_makes_cpst_a_quarter_above_cost_per_attempt() {
        let set = set_with(80, 20, dollars(100));
        let per_attempt = set.cost_per_attempted_task().unwrap();
        let cpst = set.cost_per_successful_task().micros().unwrap();
        assert_eq!(per_attempt, dollars(1));
        assert_eq!(cpst, Micros(1_250_000));
    }

    #[test]
    fn assisted_tasks_pay_into_the_numerator_but_never_count_as_success() {
        let mut set = TaskSet::default();
        let one_dollar = CostBreakdown {
            model: dollars(1),
            ..Default::default()
        };
        set.add(TaskStatus::Succeeded, 1, one_dollar).unwrap();
        set.add(TaskStatus::Assisted, 1, one_dollar).unwrap();
        assert_eq!(set.cost_per_successful_task(), Cpst::Cost(dollars(2)));
        assert_eq!(set.success_rate().unwrap().value, 0.5);
    }

    #[test]
    fn pending_tasks_are_left_out_of_both_sides() {
        let mut set = TaskSet::default();
        set.add(
            TaskStatus::Succeeded,
            2,
            CostBreakdown {
                model: dollars(2),
                ..Default::default()
            },
        )
        .unwrap();
        set.add(
            TaskStatus::Pending,
            5,
            CostBreakdown {
                model: dollars(50),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(set.cost_per_successful_task(), Cpst::Cost(dollars(1)));
        assert_eq!(set.counts.pending, 5);
        assert_eq!(set.counts.decided(), 2);
    }

    #[test]
    fn no_successes_is_stated_not_infinite_or_zero() {
        let set = set_with(0, 3, dollars(9));
        assert_eq!(set.cost_per_successful_task(), Cpst::NoSuccessfulTasks);
        assert_eq!(
            set.cost_per_successful_task().to_string(),
            "no successful tasks"
        );
    }

    #[test]
    fn a_call_in_a_retry_is_all_retry_cost_and_cache_is_split_out_of_model_cost() {
        let first = CostBreakdown::of_call(CallKind::Model, 1, Micros(100), Micros(30)).unwrap();
        assert_eq!(
            (first.model, first.cache, first.retry),
            (Micros(70), Micros(30), Micros(0))
        );
        let retry = CostBreakdown::of_call(CallKind::Tool, 2, Micros(100), Micros(0)).unwrap();
        assert_eq!((retry.tool, retry.retry), (Micros(0), Micros(100)));
        assert_eq!(
            CostBreakdown::of_call(CallKind::Retrieval, 1, Micros(5), Micros(0))
                .unwrap()
                .tool,
            Micros(5)
        );
    }

    #[test]
    fn a_set_refuses_costs_it_cannot_count_and_keeps_what_it_had() {
        let mut set = set_with(1, 0, Micros::ZERO);
        let huge = CostBreakdown {
            model: Micros(i64::MAX),
            ..Default::default()
        };
        set.add(TaskStatus::Succeeded, 1, huge).unwrap();
        assert_eq!(
            set.add(
                TaskStatus::Failed,
                1,
                CostBreakdown {
                    tool: Micros(1),
                    ..Default::default()
                }
            ),
            Err(MoneyOverflow)
        );
        assert_eq!(set.add_platform(Micros(1)), Err(MoneyOverflow));
        assert_eq!(set.clone().merge(&set), Err(MoneyOverflow));
        assert_eq!(set.total_cost(), Micros(i64::MAX), "nothing was half added");
        assert_eq!(set.counts.failed, 0);
        let split = CostBreakdown {
            model: Micros(i64::MAX),
            tool: Micros(1),
            ..Default::default()
        };
        assert_eq!(
            split.total(),
            Err(MoneyOverflow),
            "components in range, total not"
        );
        assert_eq!(
            TaskSet::default().add(TaskStatus::Succeeded, 1, split),
            Err(MoneyOverflow)
        );
    }

    #[test]
    fn wilson_interval_matches_the_textbook_example() {
        // 81 successes in 263 trials: 0.3080, interval 0.2553 to 0.3662.
        let p = Proportion::wilson(81, 263).unwrap();
        assert!((p.lower - 0.2553).abs() < 1e-4, "{}", p.lower);
        assert!((p.upper - 0.3662).abs() < 1e-4, "{}", p.upper);
        assert!(Proportion::wilson(0, 0).is_none());
        let all = Proportion::wilson(10, 10).unwrap();
        assert_eq!(all.upper, 1.0);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A task set with up to 50 successes and 50 failures and any cost up to $1,000.
        fn any_set() -> impl Strategy<Value = TaskSet> {
            (1u64..50, 0u64..50, 0i64..1_000_000_000, 0i64..100_000_000).prop_map(
                |(won, lost, model, retry)| {
                    let mut set = TaskSet::default();
                    set.add(
                        TaskStatus::Succeeded,
                        won,
                        CostBreakdown {
                            model: Micros(model),
                            ..Default::default()
                        },
                    )
                    .unwrap();
                    set.add(
                        TaskStatus::Failed,
                        lost,
                        CostBreakdown {
                            retry: Micros(retry),
                            ..Default::default()
                        },
                    )
                    .unwrap();
                    set
                },
            )
        }

        proptest! {
            #[test]
            fn adding_a_failed_attempt_never_lowers_cpst(set in any_set(), cost in 0i64..10_000_000) {
                let before = set.cost_per_successful_task().micros().unwrap();
                let mut after = set;
                after.add(TaskStatus::Failed, 1, CostBreakdown { retry: Micros(cost), ..Default::default() }).unwrap();
                prop_assert!(after.cost_per_successful_task().micros().unwrap() >= before);
            }

            #[test]
            fn a_success_below_average_cost_never_raises_cpst(set in any_set(), fraction in 0i64..=100) {
                let before = set.cost_per_successful_task().micros().unwrap();
                let cost = before.scale(fraction, 100).unwrap();
                let mut after = set;
                after.add(TaskStatus::Succeeded, 1, CostBreakdown { model: cost, ..Default::default() }).unwrap();
                prop_assert!(after.cost_per_successful_task().micros().unwrap() <= before);
            }

            #[test]
            fn merging_sets_adds_costs_and_counts_exactly(a in any_set(), b in any_set()) {
                let mut merged = a;
                merged.merge(&b).unwrap();
                prop_assert_eq!(Ok(merged.total_cost()), a.total_cost().checked_add(b.total_cost()));
                prop_assert_eq!(merged.counts.decided(), a.counts.decided() + b.counts.decided());
            }
        }
    }
}
