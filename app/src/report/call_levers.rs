//! The levers measured from calls rather than tasks, over a window against the one before
//! (the rows come from [`super::steps`], summed over the window by the database):
//! - **retrieval**: retrieval calls and their tokens per decided task, what they cost, and the
//!   success rate of tasks by how many retrieval calls they made;
//! - **prompt size**: each step's input tokens per model call (median and p95) and what that
//!   step's model calls cost;
//! - **failing steps**: where failed attempts spent, costliest first.

use super::steps::{MOST_RETRIEVALS, RetrievalRow, StepRow};
use crate::domain::Micros;
use crate::domain::cpst::Proportion;
use crate::domain::money::MoneyOverflow;
use crate::domain::stats::Buckets;
use crate::domain::status::{CallKind, TaskStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One window's call-level rows of one workflow.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepWindow {
    /// Per (step, kind), summed over the window.
    pub steps: Vec<StepRow>,
    /// Model calls' input tokens per step.
    pub sizes: BTreeMap<String, Buckets>,
    /// Per (retrieval calls, verdict), summed over the window.
    pub retrievals: Vec<RetrievalRow>,
}

/// Retrieval calls per task are shown in these bands: (from, to), `to` included.
pub const RETRIEVAL_BANDS: [(i64, i64); 6] = [
    (0, 0),
    (1, 2),
    (3, 5),
    (6, 10),
    (11, 20),
    (21, MOST_RETRIEVALS),
];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallLevers {
    pub retrieval: Retrieval,
    /// Steps with model calls, costliest first.
    pub prompt_sizes: Vec<PromptSize>,
    /// Steps where failed attempts spent anything, costliest first.
    pub failing_steps: Vec<FailingStep>,
}

/// How much retrieval the decided tasks did, and how they fared by its volume.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Retrieval {
    pub tasks: u64,
    pub calls: u64,
    pub tokens: u64,
    pub cost: Micros,
    pub cost_before: Micros,
    pub calls_per_task: Option<f64>,
    pub calls_per_task_before: Option<f64>,
    pub tokens_per_task: Option<f64>,
    pub tokens_per_task_before: Option<f64>,
    /// Bands with tasks, fewest retrievals first.
    pub by_volume: Vec<VolumeBand>,
}

/// Decided tasks whose retrieval calls fall in one band, and their success rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeBand {
    pub from: i64,
    /// Included; [`MOST_RETRIEVALS`] stands for no upper end.
    pub to: i64,
    pub tasks: u64,
    pub success: Option<Proportion>,
}

impl VolumeBand {
    /// "0", "3–5", "21 or more".
    pub fn label(&self) -> String {
        match (self.from, self.to) {
            (from, to) if from == to => from.to_string(),
            (from, MOST_RETRIEVALS) => format!("{from} or more"),
            (from, to) => format!("{from}–{to}"),
        }
    }
}

/// One step's input tokens per model call, now and before, and what its model calls cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptSize {
    pub step: String,
    pub calls: u64,
    pub median: i64,
    pub p95: i64,
    pub median_before: Option<i64>,
    pub p95_before: Option<i64>,
    pub cost: Micros,
    pub cost_before: Micros,
}

/// What failed attempts' calls of one step cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailingStep {
    pub step: String,
    pub kind: CallKind,
    pub calls: u64,
    pub failed_calls: u64,
    pub failed_cost: Micros,
    pub failed_cost_before: Micros,
    /// Its share of every failed attempt's call cost.
    pub share: Option<f64>,
}

/// The call-level levers of `now` against `before`.
pub fn call_levers(now: &StepWindow, before: &StepWindow) -> Result<CallLevers, MoneyOverflow> {
    Ok(CallLevers {
        retrieval: retrieval(now, before)?,
        prompt_sizes: prompt_sizes(now, before)?,
        failing_steps: failing_steps(now, before)?,
    })
}

fn retrieval(now: &StepWindow, before: &StepWindow) -> Result<Retrieval, MoneyOverflow> {
    let totals = |w: &StepWindow| -> Result<(u64, u64, u64, Micros), MoneyOverflow> {
        let tasks: i64 = w.retrievals.iter().map(|r| r.tasks).sum();
        let tokens: i64 = w.retrievals.iter().map(|r| r.retrieval_tokens).sum();
        let rows = w.steps.iter().filter(|s| s.kind == CallKind::Retrieval);
        let calls: i64 = rows.clone().map(|s| s.calls).sum();
        let cost = Micros::try_sum(rows.map(|s| Micros(s.cost_micros)))?;
        Ok((count(tasks), count(calls), count(tokens), cost))
    };
    let (tasks, calls, tokens, cost) = totals(now)?;
    let (tasks_before, calls_before, tokens_before, cost_before) = totals(before)?;
    let per = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
    let by_volume = RETRIEVAL_BANDS
        .iter()
        .filter_map(|&(from, to)| {
            let rows = now
                .retrievals
                .iter()
                .filter(|r| (from..=to).contains(&r.retrievals));
            let tasks = count(rows.clone().map(|r| r.tasks).sum());
            let won = rows
                .filter(|r| r.status == TaskStatus::Succeeded)
                .map(|r| r.tasks)
                .sum();
            (tasks > 0).then(|| VolumeBand {
                from,
                to,
                tasks,
                success: Proportion::wilson(count(won), tasks),
            })
        })
        .collect();
    Ok(Retrieval {
        tasks,
        calls,
        tokens,
        cost,
        cost_before,
        calls_per_task: per(calls, tasks),
        calls_per_task_before: per(calls_before, tasks_before),
        tokens_per_task: per(tokens, tasks),
        tokens_per_task_before: per(tokens_before, tasks_before),
        by_volume,
    })
}

fn prompt_sizes(now: &StepWindow, before: &StepWindow) -> Result<Vec<PromptSize>, MoneyOverflow> {
    let model_cost = |w: &StepWindow, step: &str| {
        let rows = w.steps.iter();
        let rows = rows.filter(|s| s.kind == CallKind::Model && s.step == step);
        Micros::try_sum(rows.map(|s| Micros(s.cost_micros)))
    };
    let mut sizes = Vec::new();
    for (step, buckets) in &now.sizes {
        let summary = buckets.summary();
        let earlier = before.sizes.get(step).map(Buckets::summary);
        sizes.push(PromptSize {
            step: step.clone(),
            calls: summary.count,
            median: summary.median,
            p95: summary.p95,
            median_before: earlier.map(|s| s.median),
            p95_before: earlier.map(|s| s.p95),
            cost: model_cost(now, step)?,
            cost_before: model_cost(before, step)?,
        });
    }
    sizes.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.step.cmp(&b.step)));
    Ok(sizes)
}

fn failing_steps(now: &StepWindow, before: &StepWindow) -> Result<Vec<FailingStep>, MoneyOverflow> {
    let all = Micros::try_sum(now.steps.iter().map(|s| Micros(s.failed_cost_micros)))?;
    let mut steps: Vec<FailingStep> = now
        .steps
        .iter()
        .filter(|s| s.failed_calls > 0)
        .map(|s| FailingStep {
            step: s.step.clone(),
            kind: s.kind,
            calls: count(s.calls),
            failed_calls: count(s.failed_calls),
            failed_cost: Micros(s.failed_cost_micros),
            failed_cost_before: before
                .steps
                .iter()
                .find(|b| b.step == s.step && b.kind == s.kind)
                .map_or(Micros::ZERO, |b| Micros(b.failed_cost_micros)),
            share: (all.0 > 0).then(|| s.failed_cost_micros as f64 / all.0 as f64),
        })
        .collect();
    steps.sort_by(|a, b| {
        b.failed_cost
            .cmp(&a.failed_cost)
            .then_with(|| a.step.cmp(&b.step))
    });
    Ok(steps)
}

/// A stored count, never negative.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stats::Buckets;

    fn step(
        step: &str,
        kind: CallKind,
        calls: i64,
        cost: i64,
        failed: i64,
        failed_cost: i64,
    ) -> StepRow {
        StepRow {
            day: 0,
            step: step.into(),
            kind,
            calls,
            input_tokens: 0,
            output_tokens: 0,
            cost_micros: cost,
            failed_calls: failed,
            failed_cost_micros: failed_cost,
        }
    }

    fn outcome(retrievals: i64, status: TaskStatus, tasks: i64) -> RetrievalRow {
        RetrievalRow {
            day: 0,
            retrievals,
            status,
            tasks,
            retrieval_tokens: retrievals * tasks * 500,
        }
    }

    #[test]
    fn retrieval_is_counted_per_task_and_success_read_by_volume() {
        use TaskStatus::{Failed, Succeeded};
        let now = StepWindow {
            steps: vec![step(
                "retriever",
                CallKind::Retrieval,
                3 * 60 + 15 * 40,
                2_000_000,
                0,
                0,
            )],
            sizes: BTreeMap::new(),
            retrievals: vec![
                outcome(3, Succeeded, 57),
                outcome(3, Failed, 3),
                outcome(15, Succeeded, 28),
                outcome(15, Failed, 12),
            ],
        };
        let levers = call_levers(&now, &StepWindow::default()).unwrap();
        let r = &levers.retrieval;
        assert_eq!((r.tasks, r.calls), (100, 780));
        assert_eq!(r.calls_per_task, Some(7.8));
        assert_eq!(r.tokens_per_task, Some(3_900.0));
        assert_eq!(r.cost, Micros(2_000_000));
        assert_eq!(r.calls_per_task_before, None);
        let bands: Vec<(String, u64, u64)> = r
            .by_volume
            .iter()
            .map(|b| (b.label(), b.tasks, b.success.unwrap().successes))
            .collect();
        assert_eq!(bands, [("3–5".into(), 60, 57), ("11–20".into(), 40, 28)]);
    }

    #[test]
    fn prompt_sizes_and_failing_steps_name_the_step_and_its_money() {
        let mut sizes = BTreeMap::new();
        sizes.insert(
            "drafter".to_owned(),
            Buckets::of([1_000, 1_000, 1_000, 9_000]),
        );
        let now = StepWindow {
            steps: vec![
                step("drafter", CallKind::Model, 4, 400_000, 1, 100_000),
                step("lookup", CallKind::Tool, 10, 50_000, 6, 30_000),
            ],
            sizes,
            retrievals: Vec::new(),
        };
        let levers = call_levers(&now, &StepWindow::default()).unwrap();
        let drafter = &levers.prompt_sizes[0];
        assert_eq!((drafter.median, drafter.p95), (1_000, 9_000));
        assert_eq!(drafter.cost, Micros(400_000));
        assert_eq!(drafter.median_before, None);
        let failing: Vec<(&str, Micros)> = levers
            .failing_steps
            .iter()
            .map(|s| (s.step.as_str(), s.failed_cost))
            .collect();
        assert_eq!(
            failing,
            [("drafter", Micros(100_000)), ("lookup", Micros(30_000))]
        );
        assert_eq!(levers.failing_steps[1].share, Some(30_000.0 / 130_000.0));
    }
}
