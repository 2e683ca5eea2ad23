//! The review queue: the next sampled task for the signed-in reviewer, with everything needed
//! to grade it, and the grade itself, which feeds the task's verdict and its labour cost.

use crate::error::AppError;
use crate::views::review::ReviewSlot;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "next_review")]
pub async fn next_review() -> Result<ReviewSlot, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.grades(), "grading tasks")?;
    crate::service::review::next_task(&db()?, &viewer, crate::db::now_ms()).await
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
    let grade = crate::service::review::GradeForm {
        verdict: &verdict,
        edit_severity: &edit_severity,
        minutes: &minutes,
        note: &note,
    };
    crate::service::review::grade(&db, &viewer, item_id, &grade, now).await?;
    crate::service::review::next_task(&db, &viewer, now).await
}

/// Passes on an item (it goes to someone else) and answers with the next one.
#[server(prefix = "/rpc", endpoint = "skip_review")]
pub async fn skip_review(item_id: i64) -> Result<ReviewSlot, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.grades(), "grading tasks")?;
    let db = db()?;
    let now = crate::db::now_ms();
    crate::service::review::skip(&db, &viewer, item_id, now).await?;
    crate::service::review::next_task(&db, &viewer, now).await
}
