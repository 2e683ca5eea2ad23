//! From raw tasks and calls to per-task costs and daily rollup rows. Pure: the storage layer
//! loads a slice of raw rows, this decides every figure, storage writes the result back. The
//! same functions serve the independent recomputation the tests compare rollups with.

use crate::domain::Micros;
use crate::domain::attribution::{CallCost, task_costs};
use crate::domain::cpst::{CostBreakdown, labour_cost};
use crate::domain::money::MoneyOverflow;
use crate::domain::{CallKind, TaskStatus};
use crate::model::TaskRollup;
use std::collections::{BTreeMap, HashMap};

/// What a rollup needs to know about one task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskFacts {
    pub id: i64,
    pub day: i64,
    pub workflow_id: i64,
    pub team_id: i64,
    pub task_type_id: i64,
    pub segment: String,
    pub config_version_id: i64,
    pub status: TaskStatus,
    /// Review seconds: the task's own and its grades'.
    pub review_seconds: i64,
    /// The loaded hourly rate of the task's team (the workflow's team unless the task was
    /// booked to another): review time is priced at the rate of the people who spent it.
    pub labour_rate: Micros,
    pub duration_ms: i64,
    pub attempts: i64,
    pub escalation_reason: Option<String>,
}

impl TaskFacts {
    pub fn labour_cost(&self) -> Result<Micros, MoneyOverflow> {
        labour_cost(self.review_seconds, self.labour_rate)
    }
}

/// Whether every figure of a slice can be counted: the sums of the magnitudes of its money
/// (call costs, cache parts, labour), of its token counts and of its times each fit an `i64`.
/// Every figure the slice stores (a task's cost, a rollup row, a bucket of a spread) adds up a
/// part of those terms with signs, so when this holds none of them can overflow. A slice that
/// fails it holds data no sender could plausibly have produced, and is refused whole.
pub fn check_countable(tasks: &[TaskFacts], calls: &[CallFacts]) -> Result<(), MoneyOverflow> {
    let fits = |terms: &mut dyn Iterator<Item = i64>| {
        let total: i128 = terms.map(|v| i128::from(v).abs()).sum();
        (total <= i128::from(i64::MAX))
            .then_some(())
            .ok_or(MoneyOverflow)
    };
    let mut labour = Vec::with_capacity(tasks.len());
    for task in tasks {
        labour.push(task.labour_cost()?.0);
    }
    fits(&mut labour.into_iter().chain(calls.iter().flat_map(|c| {
        [
            c.cost.cost.0,
            c.cost.cache_read_cost.0,
            c.cost.cache_write_cost.0,
            c.cache.saved.0,
        ]
    })))?;
    fits(&mut calls.iter().flat_map(|c| {
        [
            c.input_tokens,
            c.output_tokens,
            c.cost.cache_read_tokens,
            c.cache.unpriced_tokens,
        ]
    }))?;
    fits(&mut tasks.iter().map(|t| t.duration_ms))?;
    fits(&mut tasks.iter().map(|t| t.review_seconds))?;
    fits(&mut tasks.iter().map(|t| t.attempts))?;
    Ok(())
}

/// One call's cost facts plus its token counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallFacts {
    pub cost: CallCost,
    /// The agent's name for the step the call belongs to; empty when not given.
    pub step: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache: CacheUse,
}

/// What the prompt cache did for one call, against its model's input price.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheUse {
    /// The cached tokens (read and written) at the input price, less what they cost; zero for
    /// a call without a price.
    pub saved: Micros,
    /// Cached tokens of a call without a price: a reported cost does not say what its cached
    /// tokens cost, so their saving cannot be told.
    pub unpriced_tokens: i64,
}

impl CacheUse {
    /// A call's `cached_tokens` that cost `cached_cost`, priced at `input_rate` (micro-dollars
    /// per million tokens) when the call was priced from the price book.
    pub fn new(
        cached_tokens: i64,
        cached_cost: Micros,
        input_rate: Option<i64>,
    ) -> Result<CacheUse, MoneyOverflow> {
        Ok(match input_rate {
            Some(rate) => CacheUse {
                saved: Micros(cached_tokens)
                    .scale(rate, 1_000_000)?
                    .checked_sub(cached_cost)?,
                unpriced_tokens: 0,
            },
            None => CacheUse {
                saved: Micros::ZERO,
                unpriced_tokens: cached_tokens,
            },
        })
    }
}

/// One task's attributed cost (labour and platform excluded) and usage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskUsage {
    pub cost: CostBreakdown,
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache: CacheUse,
    /// "provider/model" of the costliest first-attempt model call; empty without model calls.
    pub primary_model: String,
}

/// Attributes every call's cost and totals each task's usage. Token totals assume the calls
/// passed [`check_countable`]; money is checked here as well.
pub fn task_usage(calls: &[CallFacts]) -> Result<HashMap<i64, TaskUsage>, MoneyOverflow> {
    let costs: Vec<CallCost> = calls.iter().map(|c| c.cost.clone()).collect();
    let attributed = task_costs(&costs)?;
    let mut usage: HashMap<i64, TaskUsage> = HashMap::new();
    // (first attempt?, cost, name) of the best model-call candidate per task.
    let mut primary: HashMap<i64, (bool, i64, String)> = HashMap::new();
    for call in calls {
        let c = &call.cost;
        let entry = usage.entry(c.task_id).or_default();
        entry.calls += 1;
        entry.input_tokens += call.input_tokens;
        entry.output_tokens += call.output_tokens;
        entry.cache_read_tokens += c.cache_read_tokens;
        entry.cache.saved = entry.cache.saved.checked_add(call.cache.saved)?;
        entry.cache.unpriced_tokens += call.cache.unpriced_tokens;
        if matches!(c.kind, CallKind::Model | CallKind::Other) && !c.pool.1.is_empty() {
            let candidate = (
                c.attempt_number <= 1,
                c.cost.0,
                format!("{}/{}", c.pool.0, c.pool.1),
            );
            let best = primary
                .entry(c.task_id)
                .or_insert_with(|| candidate.clone());
            let better = (candidate.0, candidate.1, std::cmp::Reverse(&candidate.2))
                > (best.0, best.1, std::cmp::Reverse(&best.2));
            if better {
                *best = candidate;
            }
        }
    }
    for (task_id, entry) in usage.iter_mut() {
        entry.cost = attributed.get(task_id).copied().unwrap_or_default();
        entry.primary_model = primary.remove(task_id).map(|p| p.2).unwrap_or_default();
    }
    Ok(usage)
}

/// Groups tasks into daily rollup rows keyed by every grouping dimension and the verdict. The
/// tasks and their calls must have passed [`check_countable`], which bounds every sum here.
pub fn rollup_rows(
    tasks: &[TaskFacts],
    usage: &HashMap<i64, TaskUsage>,
) -> Result<Vec<TaskRollup>, MoneyOverflow> {
    type Key = (i64, i64, i64, i64, String, i64, String, TaskStatus);
    let mut rows: BTreeMap<Key, TaskRollup> = BTreeMap::new();
    let none = TaskUsage::default();
    for task in tasks {
        let used = usage.get(&task.id).unwrap_or(&none);
        let key = (
            task.day,
            task.workflow_id,
            task.team_id,
            task.task_type_id,
            task.segment.clone(),
            task.config_version_id,
            used.primary_model.clone(),
            task.status,
        );
        let row = rows.entry(key).or_insert_with(|| TaskRollup {
            day: task.day,
            workflow_id: task.workflow_id,
            team_id: task.team_id,
            task_type_id: task.task_type_id,
            segment: task.segment.clone(),
            config_version_id: task.config_version_id,
            model: used.primary_model.clone(),
            status: task.status,
            ..TaskRollup::default()
        });
        let attempts = task.attempts.max(1);
        row.tasks += 1;
        row.first_attempt_tasks += i64::from(attempts <= 1);
        row.within_three_tasks += i64::from(attempts <= 3);
        row.attempts += attempts;
        row.calls += used.calls;
        row.input_tokens += used.input_tokens;
        row.output_tokens += used.output_tokens;
        row.cache_read_tokens += used.cache_read_tokens;
        row.model_cost_micros += used.cost.model.0;
        row.tool_cost_micros += used.cost.tool.0;
        row.retry_cost_micros += used.cost.retry.0;
        row.cache_cost_micros += used.cost.cache.0;
        row.cache_saved_micros += used.cache.saved.0;
        row.cache_unpriced_tokens += used.cache.unpriced_tokens;
        row.labour_cost_micros += task.labour_cost()?.0;
        row.review_seconds += task.review_seconds;
        row.duration_ms += task.duration_ms;
    }
    Ok(rows.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(task_id: i64, attempt: i64, model: &str, cost: i64) -> CallFacts {
        CallFacts {
            cost: CallCost {
                task_id,
                attempt_number: attempt,
                kind: CallKind::Model,
                pool: ("openai".into(), model.into(), 1),
                cost: Micros(cost),
                cache_read_cost: Micros(0),
                cache_write_cost: Micros(0),
                cache_read_tokens: 0,
            },
            input_tokens: 100,
            output_tokens: 10,
            cache: CacheUse::default(),
            step: String::new(),
        }
    }

    #[test]
    fn a_tasks_model_is_its_costliest_first_attempt_model_call() {
        let usage = task_usage(&[
            call(1, 1, "gpt-5-mini", 10),
            call(1, 1, "gpt-5", 30),
            call(1, 2, "o3", 900),
        ])
        .unwrap();
        assert_eq!(usage[&1].primary_model, "openai/gpt-5");
        assert_eq!((usage[&1].calls, usage[&1].input_tokens), (3, 300));
        assert_eq!(usage[&1].cost.retry, Micros(900));
    }

    #[test]
    fn rollup_rows_keep_every_task_and_every_micro() {
        let task = |id, status| TaskFacts {
            id,
            day: 1,
            workflow_id: 1,
            team_id: 1,
            task_type_id: 1,
            segment: String::new(),
            config_version_id: 1,
            status,
            review_seconds: 60,
            labour_rate: Micros(30_000_000),
            duration_ms: 1_000,
            attempts: id,
            escalation_reason: None,
        };
        let tasks = [
            task(1, TaskStatus::Succeeded),
            task(2, TaskStatus::Succeeded),
            task(4, TaskStatus::Failed),
        ];
        let usage = task_usage(&[
            call(1, 1, "gpt-5", 10),
            call(2, 1, "gpt-5", 20),
            call(2, 2, "gpt-5", 5),
            call(4, 1, "gpt-5", 7),
        ])
        .unwrap();
        let rows = rollup_rows(&tasks, &usage).unwrap();
        assert_eq!(rows.len(), 2);
        let won = &rows
            .iter()
            .find(|r| r.status == TaskStatus::Succeeded)
            .unwrap();
        assert_eq!(
            (
                won.tasks,
                won.first_attempt_tasks,
                won.within_three_tasks,
                won.attempts
            ),
            (2, 1, 2, 3)
        );
        let total: i64 = rows
            .iter()
            .map(|r| r.model_cost_micros + r.retry_cost_micros)
            .sum();
        assert_eq!(total, 42);
        let labour: i64 = rows.iter().map(|r| r.labour_cost_micros).sum();
        assert_eq!(
            labour,
            3 * 500_000,
            "a minute at $30/hour is $0.50 per task"
        );
    }

    #[test]
    fn a_slice_whose_sums_cannot_be_counted_is_refused_whole() {
        let costly = |task_id| CallFacts {
            cost: CallCost {
                cost: Micros(i64::MAX / 2 + 1),
                ..call(task_id, 1, "gpt-5", 0).cost
            },
            ..call(task_id, 1, "gpt-5", 0)
        };
        let task = |id| TaskFacts {
            id,
            day: 1,
            workflow_id: 1,
            team_id: 1,
            task_type_id: 1,
            segment: String::new(),
            config_version_id: 1,
            status: TaskStatus::Succeeded,
            review_seconds: 0,
            labour_rate: Micros(0),
            duration_ms: 0,
            attempts: 1,
            escalation_reason: None,
        };
        assert_eq!(check_countable(&[task(1)], &[costly(1)]), Ok(()));
        assert_eq!(
            check_countable(&[task(1), task(2)], &[costly(1), costly(2)]),
            Err(MoneyOverflow),
            "two tasks each in range, their day's rollup not"
        );
        let slow = TaskFacts {
            review_seconds: i64::MAX,
            labour_rate: Micros(30_000_000),
            ..task(3)
        };
        assert_eq!(check_countable(&[slow], &[]), Err(MoneyOverflow));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Up to 40 tasks over 3 days, 2 segments and 3 verdicts, each with up to 4 calls.
        fn any_day() -> impl Strategy<Value = (Vec<TaskFacts>, Vec<CallFacts>)> {
            let task = (0i64..3, 0usize..2, 0usize..3, 0i64..600, 1i64..4);
            let call = (
                0i64..40,
                1i64..3,
                0usize..3,
                0i64..50_000,
                0i64..2_000,
                0i64..3_000,
                0i64..9_000,
            );
            (
                prop::collection::vec(task, 1..40),
                prop::collection::vec(call, 0..160),
            )
                .prop_map(|(tasks, calls)| {
                    let statuses = [
                        TaskStatus::Succeeded,
                        TaskStatus::Failed,
                        TaskStatus::Pending,
                    ];
                    let n = tasks.len() as i64;
                    let tasks: Vec<TaskFacts> = tasks
                        .into_iter()
                        .enumerate()
                        .map(|(i, (day, segment, status, seconds, attempts))| TaskFacts {
                            id: i as i64,
                            day,
                            workflow_id: 1,
                            team_id: 1,
                            task_type_id: 1,
                            segment: ["self-serve", "enterprise"][segment].into(),
                            config_version_id: 1,
                            status: statuses[status],
                            review_seconds: seconds,
                            labour_rate: Micros(30_000_000),
                            duration_ms: 1_000,
                            attempts,
                            escalation_reason: None,
                        })
                        .collect();
                    let calls = calls
                        .into_iter()
                        .map(|(task, attempt, kind, cost, read, write, read_tokens)| {
                            let task_id = task % n;
                            CallFacts {
                                cost: CallCost {
                                    task_id,
                                    attempt_number: attempt,
                                    kind: [CallKind::Model, CallKind::Tool, CallKind::Retrieval]
                                        [kind],
                                    pool: (
                                        "anthropic".into(),
                                        "claude-haiku-4-5".into(),
                                        tasks[task_id as usize].day,
                                    ),
                                    cost: Micros(cost + read + write),
                                    cache_read_cost: Micros(read),
                                    cache_write_cost: Micros(write),
                                    cache_read_tokens: read_tokens,
                                },
                                input_tokens: 100,
                                output_tokens: 10,
                                cache: CacheUse::default(),
                                step: String::new(),
                            }
                        })
                        .collect();
                    (tasks, calls)
                })
        }

        proptest! {
            #[test]
            fn rollup_rows_equal_the_raw_computation((tasks, calls) in any_day()) {
                let rows = rollup_rows(&tasks, &task_usage(&calls).unwrap()).unwrap();
                let spent: i64 = calls.iter().map(|c| c.cost.cost.0).sum();
                let rolled: i64 = rows
                    .iter()
                    .map(|r| r.model_cost_micros + r.tool_cost_micros + r.retry_cost_micros + r.cache_cost_micros)
                    .sum();
                prop_assert_eq!(rolled, spent, "every call's dollars land in exactly one rollup");
                prop_assert_eq!(rows.iter().map(|r| r.tasks).sum::<i64>(), tasks.len() as i64);
                prop_assert_eq!(rows.iter().map(|r| r.calls).sum::<i64>(), calls.len() as i64);
                for status in [TaskStatus::Succeeded, TaskStatus::Failed, TaskStatus::Pending] {
                    let raw_labour: i64 = tasks.iter().filter(|t| t.status == status).map(|t| t.labour_cost().unwrap().0).sum();
                    let rolled_labour: i64 = rows.iter().filter(|r| r.status == status).map(|r| r.labour_cost_micros).sum();
                    prop_assert_eq!(rolled_labour, raw_labour);
                }
            }
        }
    }
}
