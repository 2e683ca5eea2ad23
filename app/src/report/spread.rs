//! How a workflow's decided tasks spread, kept per (workflow, day) beside the rollups so the
//! workflow page reads a month of medians, p95s, histograms, escalation reasons and costliest
//! tasks from a few thousand stored rows instead of one line per task. The rollup refresh
//! derives them from the same slice it rolls up; [`detail`](super::detail) computes the same
//! figures from task lines, exactly, where the lines are at hand.

use super::detail::{
    COSTLIEST_LISTED, CostlyTask, Detail, HISTOGRAM_BARS, escalation_label, most_frequent_first,
};
use super::rollup::{TaskFacts, TaskUsage};
use crate::domain::Micros;
use crate::domain::TaskStatus;
use crate::domain::money::MoneyOverflow;
use crate::domain::stats::{Bucket, Buckets};
use std::collections::{BTreeMap, HashMap};

/// What a bucketed spread measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// A task's cost in micro-dollars: calls and review labour, as in [`Detail::cost`].
    Cost,
    /// From a task's start to its finish, in milliseconds.
    Duration,
}

impl Measure {
    pub const ALL: [Measure; 2] = [Measure::Cost, Measure::Duration];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Cost => "cost",
            Measure::Duration => "duration",
        }
    }

    pub fn parse(text: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// One stored bucket of one day's spread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpreadRow {
    pub day: i64,
    pub measure: Measure,
    pub bucket: Bucket,
}

/// What one slice of a workflow's days keeps about its decided tasks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DaySpreads {
    pub spreads: Vec<SpreadRow>,
    /// (day, reason, escalated tasks).
    pub escalations: Vec<(i64, String, i64)>,
    /// (day, task id, cost): each day's costliest tasks, enough for any window's list.
    pub costliest: Vec<(i64, i64, i64)>,
    /// (day, primary model, bucket): each model's task durations, for its p95 task time.
    pub model_durations: Vec<(i64, String, Bucket)>,
}

/// The spreads of the decided tasks among `tasks`, per day. The tasks and their calls must
/// have passed [`check_countable`](super::rollup::check_countable), which bounds every sum here.
pub fn day_spreads(
    tasks: &[TaskFacts],
    usage: &HashMap<i64, TaskUsage>,
) -> Result<DaySpreads, MoneyOverflow> {
    let none = TaskUsage::default();
    let mut values: BTreeMap<(i64, Measure), Vec<i64>> = BTreeMap::new();
    let mut reasons: BTreeMap<(i64, String), i64> = BTreeMap::new();
    let mut ranked: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    let mut by_model: BTreeMap<(i64, &str), Vec<i64>> = BTreeMap::new();
    for task in tasks.iter().filter(|t| t.status != TaskStatus::Pending) {
        let used = usage.get(&task.id).unwrap_or(&none);
        by_model
            .entry((task.day, used.primary_model.as_str()))
            .or_default()
            .push(task.duration_ms);
        // Attributed call cost (labour and platform are not in it) plus review labour.
        let calls = used.cost.total()?;
        let cost = calls.checked_add(task.labour_cost()?)?.0;
        values
            .entry((task.day, Measure::Cost))
            .or_default()
            .push(cost);
        values
            .entry((task.day, Measure::Duration))
            .or_default()
            .push(task.duration_ms);
        ranked.entry(task.day).or_default().push((cost, task.id));
        if task.status == TaskStatus::Escalated {
            let reason = escalation_label(task.escalation_reason.as_deref());
            *reasons.entry((task.day, reason)).or_default() += 1;
        }
    }
    let spreads = values
        .into_iter()
        .flat_map(|((day, measure), values)| {
            Buckets::of(values)
                .buckets()
                .iter()
                .map(|bucket| SpreadRow {
                    day,
                    measure,
                    bucket: *bucket,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let costliest = ranked
        .into_iter()
        .flat_map(|(day, mut tasks)| {
            tasks.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            tasks
                .into_iter()
                .take(COSTLIEST_LISTED)
                .map(move |(cost, id)| (day, id, cost))
        })
        .collect();
    Ok(DaySpreads {
        spreads,
        escalations: reasons
            .into_iter()
            .map(|((day, reason), n)| (day, reason, n))
            .collect(),
        costliest,
        model_durations: by_model
            .into_iter()
            .flat_map(|((day, model), values)| {
                Buckets::of(values)
                    .buckets()
                    .iter()
                    .map(|bucket| (day, model.to_owned(), *bucket))
                    .collect::<Vec<_>>()
            })
            .collect(),
    })
}

/// A window's spreads, added up over its days by the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WindowSpreads {
    pub cost: Buckets,
    pub duration: Buckets,
    pub escalations: Vec<(String, u64)>,
    /// The window's costliest tasks, costliest first.
    pub costliest: Vec<CostlyTask>,
}

impl WindowSpreads {
    /// The detail figures the spreads carry: the cost and duration summaries, histogram and
    /// costliest share from buckets (percentiles within 2.5%), the rest exact. Tokens and calls
    /// per task are not kept: the rollups give their means.
    pub fn detail(&self) -> Detail {
        Detail {
            cost: self.cost.summary(),
            latency_ms: self.duration.summary(),
            cost_histogram: self.cost.histogram(HISTOGRAM_BARS),
            costliest_5pct_share_bp: self.cost.costliest_share_bp(5),
            costliest: self
                .costliest
                .iter()
                .take(COSTLIEST_LISTED)
                .cloned()
                .collect(),
            escalation_reasons: most_frequent_first(self.escalations.clone()),
            ..Detail::default()
        }
    }
}

/// One of the costliest tasks as stored: (task id, sender id, verdict, cost).
pub fn costly_task(id: i64, external_id: String, status: TaskStatus, cost: i64) -> CostlyTask {
    CostlyTask {
        id,
        external_id,
        status,
        cost: Micros(cost),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Window;
    use crate::report::detail::{DecidedTask, details};
    use crate::report::figures::{Filter, Grouping};

    fn task(id: i64, day: i64, status: TaskStatus, seconds: i64) -> TaskFacts {
        TaskFacts {
            id,
            day,
            workflow_id: 1,
            team_id: 1,
            task_type_id: 1,
            segment: String::new(),
            config_version_id: 1,
            status,
            review_seconds: seconds,
            labour_rate: Micros(36_000_000),
            duration_ms: 1_000 + id * 37,
            attempts: 1,
            escalation_reason: (status == TaskStatus::Escalated)
                .then(|| ["refund over limit", "", "angry customer"][id as usize % 3].to_owned()),
        }
    }

    #[test]
    fn two_days_of_spreads_read_back_as_the_detail_of_their_task_lines() {
        let statuses = [
            TaskStatus::Succeeded,
            TaskStatus::Failed,
            TaskStatus::Escalated,
            TaskStatus::Assisted,
            TaskStatus::Pending,
        ];
        let tasks: Vec<TaskFacts> = (1..=60)
            .map(|id| task(id, 10 + id % 2, statuses[id as usize % 5], id * 3))
            .collect();
        let usage: HashMap<i64, TaskUsage> = tasks
            .iter()
            .map(|t| {
                let mut used = TaskUsage::default();
                used.cost.model = Micros(t.id * t.id * 1_013);
                used.cost.retry = Micros(if t.id % 7 == 0 { 90_000 } else { 0 });
                (t.id, used)
            })
            .collect();
        let kept = day_spreads(&tasks, &usage).unwrap();
        assert!(
            kept.costliest
                .iter()
                .all(|(day, ..)| *day == 10 || *day == 11)
        );
        assert_eq!(kept.costliest.len(), 2 * COSTLIEST_LISTED);

        // What the database adds up for the window, by hand.
        let bucketed = |measure| {
            Buckets::merge(
                kept.spreads
                    .iter()
                    .filter(|r| r.measure == measure)
                    .map(|r| r.bucket),
            )
        };
        let mut escalations: BTreeMap<String, u64> = BTreeMap::new();
        for (_, reason, n) in &kept.escalations {
            *escalations.entry(reason.clone()).or_default() += *n as u64;
        }
        let mut costliest = kept.costliest.clone();
        costliest.sort_by(|a, b| b.2.cmp(&a.2).then(a.1.cmp(&b.1)));
        let status = |id: i64| tasks[id as usize - 1].status;
        let window = WindowSpreads {
            cost: bucketed(Measure::Cost),
            duration: bucketed(Measure::Duration),
            escalations: escalations.into_iter().collect(),
            costliest: costliest
                .iter()
                .map(|(_, id, cost)| costly_task(*id, format!("t-{id}"), status(*id), *cost))
                .collect(),
        };

        let lines: Vec<DecidedTask> = tasks
            .iter()
            .map(|t| DecidedTask {
                id: t.id,
                external_id: format!("t-{}", t.id),
                workflow_id: 1,
                team_id: 1,
                task_type_id: 1,
                segment: String::new(),
                config_version_id: 1,
                model: String::new(),
                day: t.day,
                status: t.status,
                cost_micros: usage[&t.id].cost.model.0
                    + usage[&t.id].cost.retry.0
                    + t.labour_cost().unwrap().0,
                calls: 0,
                tokens: 0,
                duration_ms: t.duration_ms,
                escalation_reason: t.escalation_reason.clone(),
            })
            .collect();
        let window_days = Window {
            first_day: 10,
            last_day: 11,
        };
        let exact = &details(&lines, &Filter::default(), Grouping::All, window_days)[""];
        let read = window.detail();
        assert_eq!(read.cost.count, 48, "pending tasks are left out");
        assert_eq!(
            (read.cost.total, read.cost.mean, read.cost.max),
            (exact.cost.total, exact.cost.mean, exact.cost.max)
        );
        assert_eq!(read.latency_ms.count, exact.latency_ms.count);
        for (estimate, truth) in [
            (read.cost.median, exact.cost.median),
            (read.cost.p95, exact.cost.p95),
            (read.latency_ms.median, exact.latency_ms.median),
            (read.latency_ms.p95, exact.latency_ms.p95),
        ] {
            assert!(
                (estimate - truth).abs() * 40 <= truth,
                "{estimate} for {truth}"
            );
        }
        assert_eq!(read.costliest, exact.costliest);
        assert_eq!(read.escalation_reasons, exact.escalation_reasons);
        assert!(
            read.escalation_reasons
                .iter()
                .any(|(reason, _)| reason == "(no reason given)")
        );
        assert_eq!(read.cost_histogram.iter().map(|b| b.count).sum::<u64>(), 48);
        let (share, truth) = (
            read.costliest_5pct_share_bp.unwrap(),
            exact.costliest_5pct_share_bp.unwrap(),
        );
        assert!((share - truth).abs() * 40 <= truth, "{share} for {truth}");
    }
}
