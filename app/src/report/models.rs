//! Procurement: which model gives the cheapest finished task. A model's CPST differs per
//! workflow, so across workflows it is weighted by each workflow's traffic; within a workflow
//! the winner is the cheapest model per successful task among those meeting its quality target.
//! A workflow's latency budget (p95 task time) is a hard gate: a model whose p95 breaks it is
//! marked, and never named the winner.

use super::Window;
use super::figures::{Filter, Grouping, Ledger, figures};
use crate::domain::Micros;
use crate::domain::compare::weighted_cpst;
use crate::domain::cpst::{Cpst, Proportion, TaskSet};
use crate::domain::money::MoneyOverflow;
use crate::domain::stats::Buckets;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One model in one workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelUse {
    pub workflow_id: i64,
    pub workflow_slug: String,
    pub workflow_name: String,
    /// The workflow's share of the decided tasks of every workflow this model ran in: its
    /// weight in the model's weighted CPST.
    pub weight: Option<f64>,
    /// The model's share of the workflow's decided tasks.
    pub traffic_share: Option<f64>,
    pub set: TaskSet,
    /// The p95 time of its decided tasks here, start to finish, in milliseconds (from stored
    /// buckets: within 2.5%).
    pub p95_task_ms: Option<i64>,
    /// Whether that p95 breaks the workflow's latency budget.
    pub over_latency_budget: bool,
}

/// One model across the workflows it ran in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelFigures {
    /// `provider/model`.
    pub model: String,
    /// `None` when it has no successful task in one of its workflows: one undefined CPST
    /// leaves the weighted figure undefined too.
    pub weighted_cpst: Option<Micros>,
    /// Decided tasks it served, all workflows together.
    pub decided: u64,
    pub workflows: Vec<ModelUse>,
}

/// The cheapest model per successful task in one workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Winner {
    pub workflow_id: i64,
    pub workflow_slug: String,
    pub workflow_name: String,
    pub quality_target: f64,
    /// `None` when no model has a successful task there yet.
    pub model: Option<String>,
    pub cpst: Option<Micros>,
    /// Whether the winner meets the quality target: when none does, the cheapest of all is
    /// named and this says so.
    pub meets_quality_target: Option<bool>,
    /// Models compared in this workflow.
    pub candidates: usize,
    /// The named model's success rate in this workflow, with its 95% interval and the decided
    /// tasks it rests on. Below [`MIN_RECOMMENDATION_TASKS`] the pages name it without
    /// recommending it.
    pub success: Option<Proportion>,
    /// The workflow's latency budget, p95 task time in milliseconds.
    pub latency_budget_ms: Option<i64>,
    /// Models with a CPST here that the budget rules out, cheapest first: when every model
    /// breaks it, `model` is `None`.
    pub over_latency_budget: Vec<String>,
}

/// The fewest decided tasks of a model in a workflow before the pages recommend it there: with
/// fewer, a 95% interval is wider than about ±18 points.
pub const MIN_RECOMMENDATION_TASKS: u64 = 30;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelComparison {
    pub window: Window,
    /// Most decided tasks first.
    pub models: Vec<ModelFigures>,
    /// In the catalogue's workflow order.
    pub winners: Vec<Winner>,
}

/// Weighted CPST per model and each workflow's winner, over the tasks that pass `filter`;
/// `durations` holds each (workflow, model)'s task durations over the window.
pub fn compare_models(
    ledger: &Ledger<'_>,
    filter: &Filter,
    durations: &BTreeMap<(i64, String), Buckets>,
) -> Result<ModelComparison, MoneyOverflow> {
    let budget_of = |workflow_id: i64| {
        ledger
            .workflows
            .iter()
            .find(|w| w.id == workflow_id)
            .and_then(|w| w.latency_budget_ms)
    };
    let p95 = |workflow_id: i64, model: &str| {
        durations
            .get(&(workflow_id, model.to_owned()))
            .filter(|b| b.count() > 0)
            .map(|b| b.summary().p95)
    };
    // A model is over a budget when its p95 breaks it, or when it has no timed tasks to show
    // that it does not.
    let over = |workflow_id: i64, model: &str| {
        budget_of(workflow_id)
            .is_some_and(|budget| p95(workflow_id, model).is_none_or(|p| p > budget))
    };
    let traffic: BTreeMap<i64, u64> = figures(ledger, filter, Grouping::Workflow)?
        .iter()
        .filter_map(|g| Some((g.key.parse().ok()?, g.set.counts.decided())))
        .filter(|(_, decided)| *decided > 0)
        .collect();
    let mut by_model: BTreeMap<String, Vec<(i64, TaskSet)>> = BTreeMap::new();
    for &workflow_id in traffic.keys() {
        let only = Filter {
            workflow_ids: Some(vec![workflow_id]),
            ..filter.clone()
        };
        for group in figures(ledger, &only, Grouping::Model)? {
            if !group.key.is_empty() && group.set.counts.decided() > 0 {
                by_model
                    .entry(group.key)
                    .or_default()
                    .push((workflow_id, group.set));
            }
        }
    }
    let workflow = |id: i64| ledger.workflows.iter().find(|w| w.id == id);
    let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let mut models: Vec<ModelFigures> = by_model
        .iter()
        .map(|(model, uses)| {
            let weights: Vec<(Cpst, u64)> = uses
                .iter()
                .map(|(w, set)| (set.cost_per_successful_task(), traffic[w]))
                .collect();
            let covered: u64 = weights.iter().map(|(_, t)| t).sum();
            ModelFigures {
                model: model.clone(),
                weighted_cpst: weighted_cpst(&weights),
                decided: uses.iter().map(|(_, set)| set.counts.decided()).sum(),
                workflows: uses
                    .iter()
                    .map(|(w, set)| ModelUse {
                        workflow_id: *w,
                        workflow_slug: workflow(*w).map(|f| f.slug.clone()).unwrap_or_default(),
                        workflow_name: workflow(*w).map(|f| f.name.clone()).unwrap_or_default(),
                        weight: share(traffic[w], covered),
                        traffic_share: share(set.counts.decided(), traffic[w]),
                        set: *set,
                        p95_task_ms: p95(*w, model),
                        over_latency_budget: over(*w, model),
                    })
                    .collect(),
            }
        })
        .collect();
    models.sort_by(|a, b| b.decided.cmp(&a.decided).then(a.model.cmp(&b.model)));
    let winners = ledger
        .workflows
        .iter()
        .filter(|w| traffic.contains_key(&w.id))
        .map(|w| {
            let target = w.quality_target_bp as f64 / 10_000.0;
            let candidates: Vec<(&String, Micros, bool, Proportion)> = by_model
                .iter()
                .filter_map(|(model, uses)| {
                    let set = &uses.iter().find(|(id, _)| *id == w.id)?.1;
                    let rate = set.success_rate()?;
                    Some((
                        model,
                        set.cost_per_successful_task().micros()?,
                        rate.value >= target,
                        rate,
                    ))
                })
                .collect();
            let mut over_budget: Vec<(Micros, String)> = candidates
                .iter()
                .filter(|(model, ..)| over(w.id, model))
                .map(|(model, cpst, ..)| (*cpst, (*model).clone()))
                .collect();
            over_budget.sort();
            let best = candidates
                .iter()
                .filter(|(model, ..)| !over(w.id, model))
                .min_by_key(|(model, cpst, meets, _)| (!*meets, *cpst, (*model).clone()));
            Winner {
                workflow_id: w.id,
                workflow_slug: w.slug.clone(),
                workflow_name: w.name.clone(),
                quality_target: target,
                model: best.map(|b| b.0.clone()),
                cpst: best.map(|b| b.1),
                meets_quality_target: best.map(|b| b.2),
                success: best.map(|b| b.3),
                latency_budget_ms: w.latency_budget_ms,
                over_latency_budget: over_budget.into_iter().map(|(_, model)| model).collect(),
                candidates: by_model
                    .values()
                    .filter(|uses| uses.iter().any(|(id, _)| *id == w.id))
                    .count(),
            }
        })
        .collect();
    Ok(ModelComparison {
        window: ledger.window,
        models,
        winners,
    })
}
