//! What-if: a workflow's CPST, cost per attempted task, success rate and monthly spend projected
//! from its own observed figures over a window, with one or more levers moved:
//! - **route** a task type to another model: every task of the type costs what that model's
//!   tasks of the type cost, succeeding or not, and succeeds at its observed rate; refused
//!   when the model decided fewer than [`MIN_EVIDENCE`] tasks of the type;
//! - set the **failure rate**: every group's failures scaled alike, a task that no longer fails
//!   costing what that group's succeeding tasks did;
//! - cut **retries**: the retry cost falls, success rates do not move;
//! - set the **cache hit share** or change the **input tokens per call**: tokens move between
//!   cached and uncached input at each model's current price (refused for a model without one).
//!
//! The volume is the window's: the same decided tasks, the same fixed platform costs. Tasks
//! are projected in millionths so that a what-if which moves nothing reproduces the engine's
//! figures exactly. Each figure's interval takes every group's success rate at the ends of its
//! 95% Wilson interval together. Pure: the service loads the rows and prices.

use super::figures::{Filter, Grouping, Ledger, figures, ratio, row_cost};
use super::levers::MIN_ROUTING_EVIDENCE;
use crate::domain::Micros;
use crate::domain::cpst::{CostBreakdown, Proportion, percent};
use crate::domain::money::MoneyOverflow;
use crate::domain::status::TaskStatus;
use crate::model::Price;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Decided tasks a model needs on a task type before a what-if routes the type to it.
pub const MIN_EVIDENCE: u64 = MIN_ROUTING_EVIDENCE;

/// Tasks are counted in millionths while projecting.
const PARTS: i64 = 1_000_000;

/// Ten thousand basis points make the whole.
pub const WHOLE_BPS: i64 = 10_000;

/// The levers a what-if moves; `None` leaves a lever as observed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenario {
    pub routes: Vec<Reroute>,
    /// Share of input tokens read from the cache, in basis points (0..=10,000).
    pub cache_share_bps: Option<i64>,
    /// Change of input tokens per call, in basis points (-9,000 is 90% fewer).
    pub input_change_bps: Option<i64>,
    /// Share of decided tasks that do not succeed, in basis points.
    pub failure_bps: Option<i64>,
    /// How much less retries cost, in basis points.
    pub retry_cut_bps: Option<i64>,
}

impl Scenario {
    pub fn is_empty(&self) -> bool {
        *self == Scenario::default()
    }
}

/// Every task of a task type sent to one model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reroute {
    pub task_type_id: i64,
    /// "provider/model".
    pub model: String,
}

/// The four figures of one state of the workflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outlook {
    pub decided: u64,
    /// Tasks that succeed, in millionths.
    pub successes: i64,
    pub total: Micros,
    /// `None` when no task would succeed.
    pub cpst: Option<Micros>,
    pub cost_per_attempted: Option<Micros>,
    pub success_rate: Option<f64>,
    /// The total at 30 days of the window's volume.
    pub monthly: Micros,
}

impl Outlook {
    /// The figures of `decided` tasks costing `total` over `days`, `successes` millionths of
    /// them succeeding.
    pub fn of(
        decided: u64,
        total: Micros,
        successes: i64,
        days: i64,
    ) -> Result<Outlook, MoneyOverflow> {
        let all = parts(decided)?;
        Ok(Outlook {
            decided,
            successes,
            total,
            cpst: match successes {
                0 => None,
                _ => Some(total.scale(PARTS, successes)?),
            },
            cost_per_attempted: total.per(decided),
            success_rate: (decided > 0).then(|| successes as f64 / all as f64),
            monthly: total.scale(30, days.max(1))?,
        })
    }
}

/// A projected figure's 95% interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Band<T> {
    pub low: T,
    pub high: T,
}

/// What the levers would make of the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub today: Outlook,
    pub projected: Outlook,
    /// The projection with every group's success rate at the low and at the high end of its
    /// interval.
    pub low: Outlook,
    pub high: Outlook,
    /// What the projection takes as given, in words.
    pub assumptions: Vec<String>,
}

impl Projection {
    pub fn cpst(&self) -> Band<Option<Micros>> {
        band(self.low.cpst, self.high.cpst)
    }

    pub fn cost_per_attempted(&self) -> Band<Option<Micros>> {
        band(self.low.cost_per_attempted, self.high.cost_per_attempted)
    }

    pub fn success_rate(&self) -> Band<Option<f64>> {
        band(self.low.success_rate, self.high.success_rate)
    }

    pub fn monthly(&self) -> Band<Micros> {
        band(self.low.monthly, self.high.monthly)
    }
}

/// A lever the evidence cannot answer for, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub lever: String,
    pub reason: String,
}

/// A projection, or today's figures and the levers a projection would have had to invent
/// figures for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WhatIf {
    Projected(Box<Projection>),
    Refused {
        today: Outlook,
        refusals: Vec<Refusal>,
    },
}

/// What one task type did on one model over the window: decided tasks by outcome, their cost
/// without platform, and their input tokens.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    pub succeeded: u64,
    pub other: u64,
    succeeded_cost: CostBreakdown,
    other_cost: CostBreakdown,
    input_tokens: i64,
    cache_read_tokens: i64,
}

impl Evidence {
    pub fn decided(&self) -> u64 {
        self.succeeded + self.other
    }

    fn add(&mut self, row: &crate::model::TaskRollup) -> Result<(), MoneyOverflow> {
        let tasks = u64::try_from(row.tasks).map_err(|_| MoneyOverflow)?;
        let (count, cost) = match row.status {
            TaskStatus::Succeeded => (&mut self.succeeded, &mut self.succeeded_cost),
            _ => (&mut self.other, &mut self.other_cost),
        };
        *count = count.checked_add(tasks).ok_or(MoneyOverflow)?;
        *cost = cost.checked_add(&row_cost(row))?;
        self.input_tokens = self.input_tokens.saturating_add(row.input_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(row.cache_read_tokens);
        Ok(())
    }
}

/// The decided tasks of `workflow_id` by (task type, model).
pub fn evidence(
    ledger: &Ledger<'_>,
    workflow_id: i64,
) -> Result<BTreeMap<(i64, String), Evidence>, MoneyOverflow> {
    let mut found: BTreeMap<(i64, String), Evidence> = BTreeMap::new();
    let rows = ledger.rows.iter().filter(|r| r.workflow_id == workflow_id);
    for row in rows.filter(|r| r.status != TaskStatus::Pending) {
        found
            .entry((row.task_type_id, row.model.clone()))
            .or_default()
            .add(row)?;
    }
    Ok(found)
}

/// Over all of a workflow's evidence: the share of input tokens read from the cache, and the
/// share of decided tasks that did not succeed.
pub fn observed_shares(found: &BTreeMap<(i64, String), Evidence>) -> (Option<f64>, Option<f64>) {
    let sum = |pick: fn(&Evidence) -> i64| {
        let total = found.values().map(pick).fold(0_i64, i64::saturating_add);
        u64::try_from(total).unwrap_or(0)
    };
    let cache = ratio(sum(|e| e.cache_read_tokens), sum(|e| e.input_tokens));
    let decided: u64 = found.values().map(Evidence::decided).sum();
    let succeeded: u64 = found.values().map(|e| e.succeeded).sum();
    (cache, ratio(succeeded, decided).map(|rate| 1.0 - rate))
}

/// Some tasks of a task type, projected from one model's evidence on it.
struct Group<'e> {
    /// Decided tasks, in millionths.
    tasks: i64,
    /// Of them, those that succeed, in millionths, and the interval's ends.
    successes: i64,
    low: i64,
    high: i64,
    model: &'e str,
    evidence: &'e Evidence,
}

/// Projects the window of `ledger` for `workflow_id` under `scenario`, pricing token levers
/// at the prices in force at `at`.
pub fn project(
    ledger: &Ledger<'_>,
    workflow_id: i64,
    scenario: &Scenario,
    prices: &[Price],
    at: i64,
) -> Result<WhatIf, MoneyOverflow> {
    let filter = Filter {
        workflow_ids: Some(vec![workflow_id]),
        ..Filter::default()
    };
    let whole = figures(ledger, &filter, Grouping::All)?
        .pop()
        .map(|g| g.set)
        .unwrap_or_default();
    let days = ledger.window.days().max(1);
    let fixed = whole.costs.platform.checked_add(whole.costs.unattributed)?;
    let today = Outlook::of(
        whole.counts.decided(),
        whole.total_cost(),
        parts(whole.counts.succeeded)?,
        days,
    )?;
    let found = evidence(ledger, workflow_id)?;
    let label = |id: i64| {
        let named = ledger.task_types.iter().find(|t| t.id == id);
        named.map_or_else(|| format!("task type {id}"), |t| t.name.clone())
    };
    let mut refusals = Vec::new();
    let mut assumptions = Vec::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
    let task_types: Vec<i64> = {
        let mut ids: Vec<i64> = found.keys().map(|(id, _)| *id).collect();
        ids.dedup();
        ids
    };
    for task_type_id in task_types {
        let of_type = found.iter().filter(|((id, _), _)| *id == task_type_id);
        let reroute = scenario
            .routes
            .iter()
            .find(|r| r.task_type_id == task_type_id);
        let Some(reroute) = reroute else {
            for ((_, model), evidence) in of_type {
                groups.push(Group::observed(model, evidence)?);
            }
            continue;
        };
        let tasks: u64 = of_type.map(|(_, e)| e.decided()).sum();
        let key = (task_type_id, reroute.model.clone());
        let on_model = found.get(&key).map_or(0, Evidence::decided);
        let lever = format!("Route {} to {}", label(task_type_id), reroute.model);
        match found.get_key_value(&key) {
            Some(((_, model), evidence)) if on_model >= MIN_EVIDENCE => {
                let rate = Proportion::wilson(evidence.succeeded, on_model);
                assumptions.push(format!(
                    "Every {} task runs on {}, at the cost per task and the success rate ({}) \
                     it showed on {on_model} decided tasks of the type.",
                    label(task_type_id),
                    reroute.model,
                    rate.map_or_else(String::new, |p| percent(p.value)),
                ));
                groups.push(Group::routed(model, evidence, tasks)?);
            }
            _ => refusals.push(Refusal {
                lever,
                reason: format!("not enough evidence: {on_model} tasks, need {MIN_EVIDENCE}"),
            }),
        }
    }
    if let Some(bps) = scenario.failure_bps {
        set_failure_rate(&mut groups, bps);
        assumptions.push(format!(
            "{} of decided tasks fail (today {}), every group's failures scaled alike; a task \
             that no longer fails costs what the group's succeeding tasks did.",
            percent(bps as f64 / WHOLE_BPS as f64),
            percent(1.0 - today.success_rate.unwrap_or(1.0)),
        ));
    }
    let tokens = TokenLevers::new(scenario, &groups, prices, at, &mut refusals);
    if !refusals.is_empty() {
        return Ok(WhatIf::Refused { today, refusals });
    }
    if let Some(bps) = scenario.retry_cut_bps {
        assumptions.push(format!(
            "Retries cost {} less; success rates as above.",
            percent(bps as f64 / WHOLE_BPS as f64)
        ));
    }
    assumptions.extend(tokens.words(scenario));
    assumptions.push(format!(
        "The window's volume: {} decided tasks in {days} days, platform costs unchanged; \
         intervals take every group's success rate at the ends of its 95% interval together.",
        today.decided
    ));
    let at_ends = |pick: fn(&Group<'_>) -> i64| {
        outlook(&groups, pick, scenario, &tokens, fixed, days, today.decided)
    };
    Ok(WhatIf::Projected(Box::new(Projection {
        today,
        projected: at_ends(|g| g.successes)?,
        low: at_ends(|g| g.low)?,
        high: at_ends(|g| g.high)?,
        assumptions,
    })))
}

impl<'e> Group<'e> {
    /// A model's own tasks of a type, as observed.
    fn observed(model: &'e str, evidence: &'e Evidence) -> Result<Self, MoneyOverflow> {
        Group::routed(model, evidence, evidence.decided())
    }

    /// `tasks` decided tasks at the success rate of `evidence`.
    fn routed(model: &'e str, evidence: &'e Evidence, tasks: u64) -> Result<Self, MoneyOverflow> {
        let tasks = parts(tasks)?;
        let decided = evidence.decided().max(1) as i128;
        let successes = div_round(i128::from(tasks) * evidence.succeeded as i128, decided);
        let mut group = Group {
            tasks,
            successes: i64::try_from(successes).map_err(|_| MoneyOverflow)?,
            low: 0,
            high: 0,
            model,
            evidence,
        };
        group.bound();
        Ok(group)
    }

    /// The interval's ends from the evidence's number of tasks at the projected rate.
    fn bound(&mut self) {
        let trials = self.evidence.decided();
        let rate = self.successes as f64 / self.tasks.max(1) as f64;
        let successes = (rate * trials as f64).round() as u64;
        let (lower, upper) = Proportion::wilson(successes.min(trials), trials)
            .map_or((rate, rate), |p| (p.lower, p.upper));
        let at = |share: f64| (share * self.tasks as f64).round() as i64;
        self.low = at(lower).min(self.successes);
        self.high = at(upper).max(self.successes);
    }
}

/// Scales every group's failures so that `bps` of all decided tasks fail.
fn set_failure_rate(groups: &mut [Group<'_>], bps: i64) {
    let tasks: i128 = groups.iter().map(|g| i128::from(g.tasks)).sum();
    let failures: i128 = groups
        .iter()
        .map(|g| i128::from(g.tasks - g.successes))
        .sum();
    let wanted = div_round(tasks * i128::from(bps), i128::from(WHOLE_BPS));
    for group in groups.iter_mut() {
        let fails = match failures {
            0 => div_round(
                i128::from(group.tasks) * i128::from(bps),
                i128::from(WHOLE_BPS),
            ),
            _ => div_round(i128::from(group.tasks - group.successes) * wanted, failures),
        };
        let fails = i64::try_from(fails).unwrap_or(group.tasks).min(group.tasks);
        group.successes = group.tasks - fails;
        group.bound();
    }
}

/// The prices the token levers need, one per model with input tokens.
struct TokenLevers {
    /// (model, input price, cache-read price) per million tokens.
    rates: Vec<(String, i64, i64)>,
}

impl TokenLevers {
    fn new(
        scenario: &Scenario,
        groups: &[Group<'_>],
        prices: &[Price],
        at: i64,
        refusals: &mut Vec<Refusal>,
    ) -> TokenLevers {
        let mut rates = Vec::new();
        let mut unpriced: Vec<&str> = Vec::new();
        if scenario.cache_share_bps.is_none() && scenario.input_change_bps.is_none() {
            return TokenLevers { rates };
        }
        for group in groups.iter().filter(|g| g.evidence.input_tokens > 0) {
            if rates.iter().any(|(m, ..)| m == group.model) || unpriced.contains(&group.model) {
                continue;
            }
            let (provider, name) = group.model.split_once('/').unwrap_or(("", group.model));
            match Price::in_force(prices, provider, name, at) {
                Some(price) => rates.push((
                    group.model.to_owned(),
                    price.input_micros_per_mtok,
                    price.cache_read_micros_per_mtok,
                )),
                None => {
                    unpriced.push(group.model);
                    refusals.push(Refusal {
                        lever: format!("Input tokens on {}", display_model(group.model)),
                        reason: "no price in the price book to tell what a token costs".into(),
                    })
                }
            }
        }
        TokenLevers { rates }
    }

    fn words(&self, scenario: &Scenario) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(bps) = scenario.input_change_bps {
            words.push(format!(
                "Input tokens per call change by {}{}, priced at each model's current input price.",
                if bps > 0 { "+" } else { "" },
                percent(bps as f64 / WHOLE_BPS as f64),
            ));
        }
        if let Some(bps) = scenario.cache_share_bps {
            words.push(format!(
                "{} of input tokens are read from the prompt cache, priced at each model's \
                 current input and cache-read prices.",
                percent(bps as f64 / WHOLE_BPS as f64)
            ));
        }
        words
    }

    /// What moving the group's tokens adds to its model and cache cost (negative saves).
    fn deltas(&self, group: &Group<'_>, scenario: &Scenario) -> (i128, i128) {
        let Some((_, input_rate, cache_rate)) = self.rates.iter().find(|(m, ..)| m == group.model)
        else {
            return (0, 0);
        };
        let per = |tokens: i64| {
            let decided = i128::from(parts(group.evidence.decided()).unwrap_or(1).max(1));
            div_round(i128::from(tokens) * i128::from(group.tasks), decided)
        };
        let (input, cached) = (
            per(group.evidence.input_tokens),
            per(group.evidence.cache_read_tokens),
        );
        let change = i128::from(WHOLE_BPS + scenario.input_change_bps.unwrap_or(0));
        let input_after = div_round(input * change, i128::from(WHOLE_BPS));
        let cached_after = match scenario.cache_share_bps {
            Some(bps) => div_round(input_after * i128::from(bps), i128::from(WHOLE_BPS)),
            None => div_round(cached * change, i128::from(WHOLE_BPS)),
        };
        let uncached = (input_after - cached_after) - (input - cached);
        (
            div_round(uncached * i128::from(*input_rate), 1_000_000),
            div_round((cached_after - cached) * i128::from(*cache_rate), 1_000_000),
        )
    }
}

/// The four figures with every group at the successes `pick` chooses.
fn outlook(
    groups: &[Group<'_>],
    pick: fn(&Group<'_>) -> i64,
    scenario: &Scenario,
    tokens: &TokenLevers,
    fixed: Micros,
    days: i64,
    decided: u64,
) -> Result<Outlook, MoneyOverflow> {
    let mut total = fixed;
    let mut successes: i128 = 0;
    for group in groups {
        let won = pick(group);
        successes += i128::from(won);
        let mut cost = group_cost(group, won)?;
        if let Some(bps) = scenario.retry_cut_bps {
            let cut = cost.retry.scale(bps, WHOLE_BPS)?;
            cost.retry = cost.retry.checked_sub(cut)?;
        }
        let (model, cache) = tokens.deltas(group, scenario);
        let moved = |amount: Micros, delta: i128| -> Result<Micros, MoneyOverflow> {
            let sum = i128::from(amount.0) + delta;
            i64::try_from(sum.max(0))
                .map(Micros)
                .map_err(|_| MoneyOverflow)
        };
        cost.model = moved(cost.model, model)?;
        cost.cache = moved(cost.cache, cache)?;
        total = total.checked_add(cost.total()?)?;
    }
    let successes = i64::try_from(successes).map_err(|_| MoneyOverflow)?;
    Outlook::of(decided, total, successes, days)
}

/// What the group's tasks cost with `won` of them (in millionths) succeeding: succeeding tasks
/// at the evidence's cost per succeeding task, the rest at its cost per other task; an outcome
/// the evidence never saw costs the evidence's mean.
fn group_cost(group: &Group<'_>, won: i64) -> Result<CostBreakdown, MoneyOverflow> {
    let e = group.evidence;
    if e.succeeded == 0 || e.other == 0 {
        let all = e.succeeded_cost.checked_add(&e.other_cost)?;
        return scale(&all, group.tasks, parts(e.decided())?);
    }
    let winning = scale(&e.succeeded_cost, won, parts(e.succeeded)?)?;
    let losing = scale(&e.other_cost, group.tasks - won, parts(e.other)?)?;
    winning.checked_add(&losing)
}

fn scale(cost: &CostBreakdown, by: i64, of: i64) -> Result<CostBreakdown, MoneyOverflow> {
    Ok(CostBreakdown {
        model: cost.model.scale(by, of)?,
        tool: cost.tool.scale(by, of)?,
        retry: cost.retry.scale(by, of)?,
        cache: cost.cache.scale(by, of)?,
        labour: cost.labour.scale(by, of)?,
        platform: cost.platform.scale(by, of)?,
        unattributed: cost.unattributed.scale(by, of)?,
    })
}

/// `a` and `b` as an interval, whichever is lower.
pub fn band<T: PartialOrd + Copy>(a: T, b: T) -> Band<T> {
    match a.partial_cmp(&b) {
        Some(std::cmp::Ordering::Greater) => Band { low: b, high: a },
        _ => Band { low: a, high: b },
    }
}

/// `tasks` in millionths.
pub fn parts(tasks: u64) -> Result<i64, MoneyOverflow> {
    i64::try_from(tasks)
        .ok()
        .and_then(|t| t.checked_mul(PARTS))
        .ok_or(MoneyOverflow)
}

fn display_model(model: &str) -> &str {
    if model.is_empty() {
        "tasks without a model call"
    } else {
        model
    }
}

/// `n / d` rounded half away from zero; `d` is positive.
fn div_round(n: i128, d: i128) -> i128 {
    let half = d / 2;
    if n >= 0 {
        (n + half) / d
    } else {
        (n - half) / d
    }
}

#[cfg(test)]
#[path = "whatif_tests.rs"]
mod tests;
