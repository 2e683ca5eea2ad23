//! What the review screen shows: the task to grade, the queue's health and graders' agreement.

use crate::views::tasks::TraceAttemptRow;
use serde::{Deserialize, Serialize};

/// One task to grade, as the grading screen shows it. No cost figures: reviewers grade work,
/// not spend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTask {
    pub item_id: i64,
    /// "sampled", "forced" or "second opinion".
    pub reason: String,
    pub workflow: String,
    pub task_type: String,
    pub user_goal: String,
    pub pass_condition: String,
    /// The rule in force when the task started, in words; empty when there is none.
    pub rule: String,
    pub external_id: String,
    pub segment: String,
    pub started: String,
    pub automatic_verdict: String,
    pub automatic_reason: String,
    pub input_summary: String,
    pub output: String,
    pub expected: String,
    /// The task's attempts and calls, built as for the trace page, without costs.
    pub attempts: Vec<TraceAttemptRow>,
    pub outcomes: Vec<String>,
    /// Items still waiting for this reviewer after this one.
    pub waiting_after: i64,
}

/// What the grading screen loads: the next task, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSlot {
    pub task: Option<ReviewTask>,
    /// Grades this reviewer gave today (UTC).
    pub graded_today: i64,
}

/// How a workflow's review queue is doing, for its owner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueHealth {
    pub waiting: i64,
    pub claimed_now: i64,
    /// Grades per day for the last seven days, oldest first: (day, grades).
    pub graded_per_day: Vec<(String, i64)>,
    /// Median minutes a grade took over the last 30 days.
    pub median_minutes: Option<f64>,
    pub sampling: String,
    pub task_types: Vec<TaskTypeSample>,
}

/// Whether a task type's graded sample in the gate window is large enough to trust its pass
/// rate: at least the stratum floor, and a 95% interval no wider than ±10 points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskTypeSample {
    pub task_type: String,
    pub graded: u64,
    pub passed: u64,
    /// Half the width of the pass rate's 95% Wilson interval, in points.
    pub margin_points: Option<f64>,
    pub enough: bool,
}

/// Agreement between reviewers who graded the same tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgreementView {
    pub overall: AgreementRow,
    pub task_types: Vec<AgreementRow>,
    /// The latest disagreements (the service decides how many), most recent first.
    pub disagreements: Vec<Disagreement>,
    /// How many pairs disagree in all.
    pub disagreements_total: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgreementRow {
    pub label: String,
    pub pairs: u64,
    pub agreed: u64,
    pub kappa: Option<f64>,
    pub strength: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disagreement {
    pub task_id: i64,
    pub external_id: String,
    pub task_type: String,
    pub first: String,
    pub second: String,
    pub notes: String,
}
