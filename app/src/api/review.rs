//! The review queue: the next sampled task for the signed-in reviewer, with everything needed
//! to grade it, and the grade itself, which feeds the task's verdict and its labour cost.

use crate::error::AppError;

use leptos::prelude::*;
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
    pub attempts: Vec<TraceAttempt>,
    pub outcomes: Vec<String>,
    /// Items still waiting for this reviewer after this one.
    pub waiting_after: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceAttempt {
    pub number: i64,
    pub status: String,
    pub error: String,
    pub calls: Vec<TraceCall>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceCall {
    pub kind: String,
    pub step: String,
    pub model: String,
    pub tokens: String,
    pub latency_ms: i64,
    pub status: String,
}

/// What the grading screen loads: the next task, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewSlot {
    pub task: Option<ReviewTask>,
    /// Grades this reviewer gave today (UTC).
    pub graded_today: i64,
}

#[server(prefix = "/rpc", endpoint = "next_review")]
pub async fn next_review() -> Result<ReviewSlot, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.grades(), "grading tasks")?;
    crate::review::next_task(&db()?, &viewer, crate::db::now_ms()).await
}

/// Grades a claimed item and answers with the next one, so the screen moves on at once.
#[server(prefix = "/rpc", endpoint = "submit_grade")]
pub async fn submit_grade(
    item_id: i64,
    verdict: String,
    edit_severity: String,
    minutes: String,
    note: String,
) -> Result<ReviewSlot, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.grades(), "grading tasks")?;
    let db = db()?;
    let now = crate::db::now_ms();
    let grade = crate::review::GradeForm {
        verdict: &verdict,
        edit_severity: &edit_severity,
        minutes: &minutes,
        note: &note,
    };
    crate::review::grade(&db, &viewer, item_id, &grade, now).await?;
    crate::review::next_task(&db, &viewer, now).await
}

/// Passes on an item (it goes to someone else) and answers with the next one.
#[server(prefix = "/rpc", endpoint = "skip_review")]
pub async fn skip_review(item_id: i64) -> Result<ReviewSlot, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.grades(), "grading tasks")?;
    let db = db()?;
    let now = crate::db::now_ms();
    crate::review::skip(&db, &viewer, item_id, now).await?;
    crate::review::next_task(&db, &viewer, now).await
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
    pub disagreements: Vec<Disagreement>,
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
