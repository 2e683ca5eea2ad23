//! The call-level figures the levers need, kept per (workflow, day of the task's start) beside
//! the task rollups: each step's calls by kind with their input tokens and cost, and those of
//! failed attempts; the input tokens of each step's model calls in buckets (for their median
//! and p95); and decided tasks by their number of retrieval calls and verdict. Calls of
//! pending tasks wait for the verdict, as the levers do.
//!
//! A failed attempt is every attempt of a task that failed, was escalated or abandoned, and
//! every attempt but the last of one that succeeded or was assisted (as in
//! [`super::levers::FailedRuns`]).

use super::rollup::{CallFacts, TaskFacts};
use crate::domain::money::MoneyOverflow;
use crate::domain::stats::{Bucket, Buckets};
use crate::domain::status::{CallKind, TaskStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Retrieval counts at or above this are kept together.
pub const MOST_RETRIEVALS: i64 = 50;

/// One step's calls of one kind on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct StepRow {
    pub day: i64,
    pub step: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: CallKind,
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_micros: i64,
    pub failed_calls: i64,
    pub failed_cost_micros: i64,
}

/// Decided tasks of one day with one number of retrieval calls and one verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RetrievalRow {
    pub day: i64,
    /// Retrieval calls per task, [`MOST_RETRIEVALS`] standing for that many or more.
    pub retrievals: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: TaskStatus,
    pub tasks: i64,
    pub retrieval_tokens: i64,
}

/// Everything one slice keeps for the call-level levers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DaySteps {
    pub steps: Vec<StepRow>,
    /// (day, step, bucket) of model calls' input tokens.
    pub prompt_sizes: Vec<(i64, String, Bucket)>,
    pub retrievals: Vec<RetrievalRow>,
}

/// The call-level figures of the decided tasks among `tasks`. `calls` must have passed
/// [`check_countable`](super::rollup::check_countable), which bounds every sum here.
pub fn day_steps(tasks: &[TaskFacts], calls: &[CallFacts]) -> Result<DaySteps, MoneyOverflow> {
    let decided: HashMap<i64, &TaskFacts> = tasks
        .iter()
        .filter(|t| t.status != TaskStatus::Pending)
        .map(|t| (t.id, t))
        .collect();
    let mut steps: BTreeMap<(i64, &str, &str), StepRow> = BTreeMap::new();
    let mut sizes: BTreeMap<(i64, &str), Vec<i64>> = BTreeMap::new();
    // Per task: (retrieval calls, their tokens).
    let mut retrieved: HashMap<i64, (i64, i64)> = HashMap::new();
    for call in calls {
        let Some(task) = decided.get(&call.cost.task_id) else {
            continue;
        };
        let kind = call.cost.kind;
        let row = steps
            .entry((task.day, call.step.as_str(), kind.as_str()))
            .or_insert_with(|| StepRow {
                day: task.day,
                step: call.step.clone(),
                kind,
                calls: 0,
                input_tokens: 0,
                output_tokens: 0,
                cost_micros: 0,
                failed_calls: 0,
                failed_cost_micros: 0,
            });
        let cost = call.cost.cost.0;
        row.calls += 1;
        row.input_tokens += call.input_tokens;
        row.output_tokens += call.output_tokens;
        row.cost_micros = row.cost_micros.checked_add(cost).ok_or(MoneyOverflow)?;
        let failed = match task.status {
            TaskStatus::Succeeded | TaskStatus::Assisted => {
                call.cost.attempt_number < task.attempts
            }
            _ => true,
        };
        if failed {
            row.failed_calls += 1;
            row.failed_cost_micros = row
                .failed_cost_micros
                .checked_add(cost)
                .ok_or(MoneyOverflow)?;
        }
        match kind {
            CallKind::Model => sizes
                .entry((task.day, call.step.as_str()))
                .or_default()
                .push(call.input_tokens),
            CallKind::Retrieval => {
                let used = retrieved.entry(task.id).or_default();
                used.0 += 1;
                used.1 += call.input_tokens + call.output_tokens;
            }
            _ => {}
        }
    }
    let mut volumes: BTreeMap<(i64, i64, TaskStatus), (i64, i64)> = BTreeMap::new();
    for task in decided.values() {
        let (count, tokens) = retrieved.get(&task.id).copied().unwrap_or_default();
        let entry = volumes
            .entry((task.day, count.min(MOST_RETRIEVALS), task.status))
            .or_default();
        entry.0 += 1;
        entry.1 += tokens;
    }
    Ok(DaySteps {
        steps: steps.into_values().collect(),
        prompt_sizes: sizes
            .into_iter()
            .flat_map(|((day, step), values)| {
                Buckets::of(values)
                    .buckets()
                    .iter()
                    .map(|b| (day, step.to_owned(), *b))
                    .collect::<Vec<_>>()
            })
            .collect(),
        retrievals: volumes
            .into_iter()
            .map(
                |((day, retrievals, status), (tasks, tokens))| RetrievalRow {
                    day,
                    retrievals,
                    status,
                    tasks,
                    retrieval_tokens: tokens,
                },
            )
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Micros;
    use crate::domain::attribution::CallCost;
    use crate::report::rollup::CacheUse;

    fn task(id: i64, status: TaskStatus, attempts: i64) -> TaskFacts {
        TaskFacts {
            id,
            day: 7,
            workflow_id: 1,
            team_id: 1,
            task_type_id: 1,
            segment: String::new(),
            config_version_id: 0,
            status,
            review_seconds: 0,
            labour_rate: Micros(0),
            duration_ms: 0,
            attempts,
            escalation_reason: None,
        }
    }

    fn call(task_id: i64, attempt: i64, kind: CallKind, step: &str, input: i64) -> CallFacts {
        CallFacts {
            cost: CallCost {
                task_id,
                attempt_number: attempt,
                kind,
                pool: (String::new(), String::new(), 7),
                cost: Micros(1_000),
                cache_read_cost: Micros(0),
                cache_write_cost: Micros(0),
                cache_read_tokens: 0,
            },
            step: step.into(),
            input_tokens: input,
            output_tokens: 10,
            cache: CacheUse::default(),
        }
    }

    #[test]
    fn failed_attempts_retrievals_and_prompt_sizes_are_kept_per_step_of_decided_tasks() {
        use CallKind::{Model, Retrieval};
        let tasks = [
            task(1, TaskStatus::Succeeded, 2),
            task(2, TaskStatus::Escalated, 1),
            task(3, TaskStatus::Pending, 1),
        ];
        let calls = [
            // Task 1 retried: its first attempt failed, its second did not.
            call(1, 1, Retrieval, "retriever", 0),
            call(1, 1, Model, "drafter", 2_000),
            call(1, 2, Retrieval, "retriever", 0),
            call(1, 2, Model, "drafter", 3_000),
            // Task 2 was escalated: every call of it failed.
            call(2, 1, Model, "drafter", 9_000),
            // Task 3 is pending: left for its verdict.
            call(3, 1, Model, "drafter", 50_000),
        ];
        let kept = day_steps(&tasks, &calls).unwrap();
        let drafter = kept.steps.iter().find(|s| s.step == "drafter").unwrap();
        assert_eq!((drafter.calls, drafter.failed_calls), (3, 2));
        assert_eq!(drafter.failed_cost_micros, 2_000);
        let retriever = kept.steps.iter().find(|s| s.step == "retriever").unwrap();
        assert_eq!((retriever.calls, retriever.failed_calls), (2, 1));
        let sizes: Vec<i64> = kept
            .prompt_sizes
            .iter()
            .map(|(_, _, b)| b.largest)
            .collect();
        assert_eq!(sizes, [2_000, 3_000, 9_000]);
        let volumes: Vec<(i64, TaskStatus, i64)> = kept
            .retrievals
            .iter()
            .map(|r| (r.retrievals, r.status, r.tasks))
            .collect();
        assert_eq!(
            volumes,
            [(0, TaskStatus::Escalated, 1), (2, TaskStatus::Succeeded, 1)]
        );
    }
}
