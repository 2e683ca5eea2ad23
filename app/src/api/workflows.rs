//! Workflows, task types and success rules: read by everyone who reads financial figures (owners
//! their teams'), defined by admins and by the owners of the workflow's team.

#[cfg(feature = "ssr")]
use crate::domain::status::TaskStatus;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::views::workflows::SettingsForm;
use crate::views::workflows::{
    RulePreview, SavedRule, VersionComparison, WorkflowDetail, WorkflowsView,
};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_workflows")]
pub async fn list_workflows() -> Result<WorkflowsView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    crate::service::workflows::list(&db()?, &viewer).await
}

#[server(prefix = "/rpc", endpoint = "get_workflow")]
pub async fn get_workflow(
    slug: String,
    #[server(default)] trend_by: Option<String>,
) -> Result<WorkflowDetail, AppError> {
    use crate::api::context::*;
    use crate::views::workflows::TrendBy;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let trend_by = TrendBy::parse(trend_by.as_deref().unwrap_or_default());
    let now = crate::db::now_ms();
    crate::service::workflows::page(&db()?, &viewer, &slug, trend_by, now).await
}

#[server(prefix = "/rpc", endpoint = "save_workflow")]
#[allow(clippy::too_many_arguments)]
pub async fn save_workflow(
    id: i64,
    slug: String,
    name: String,
    team_id: i64,
    description: String,
    budget: String,
    quality_target: String,
    gate_window_days: String,
    gate_min_sample: String,
    drift_tolerance: String,
    sampling_rate: String,
    second_grader_rate: String,
    latency_budget: Option<String>,
) -> Result<String, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "defining workflows")?;
    let form = SettingsForm {
        id,
        slug,
        name,
        team_id,
        description,
        budget,
        quality_target,
        gate_window_days,
        gate_min_sample,
        drift_tolerance,
        sampling_rate,
        second_grader_rate,
        latency_budget: latency_budget.unwrap_or_default(),
    };
    let db = db()?;
    let id = (id > 0).then_some(id);
    let id = crate::service::success::save_workflow(&db, &viewer, id, &form, crate::db::now_ms())
        .await?;
    crate::service::workflows::handle_of(&db, &viewer, id).await
}

#[server(prefix = "/rpc", endpoint = "save_task_type")]
#[allow(clippy::too_many_arguments)]
pub async fn save_task_type(
    workflow_id: i64,
    id: i64,
    slug: String,
    name: String,
    user_goal: String,
    pass_condition: String,
    review_method: String,
    segments: String,
    #[server(default)] baseline_minutes: String,
    #[server(default)] baseline_source: String,
    #[server(default)] baseline_reference: String,
) -> Result<i64, AppError> {
    use crate::api::context::*;
    use crate::service::success::TaskTypeForm;

    let viewer = viewer_who(|v| v.defines_any_success(), "defining task types")?;
    let form = TaskTypeForm {
        slug,
        name,
        user_goal,
        pass_condition,
        review_method,
        segments,
        baseline_minutes,
        baseline_source,
        baseline_reference,
    };
    let id = (id > 0).then_some(id);
    crate::service::success::save_task_type(
        &db()?,
        &viewer,
        workflow_id,
        id,
        &form,
        crate::db::now_ms(),
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "preview_rule")]
pub async fn preview_rule(task_type_id: i64, definition: String) -> Result<RulePreview, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "defining success rules")?;
    crate::service::success::preview_rule(
        &db()?,
        &viewer,
        task_type_id,
        &definition,
        crate::db::now_ms(),
    )
    .await
}

/// Saves a new rule version; `reevaluate_from` (a day, or empty) applies it to tasks that
/// started since then instead of from now.
#[server(prefix = "/rpc", endpoint = "save_rule")]
pub async fn save_rule(
    task_type_id: i64,
    definition: String,
    reevaluate_from: String,
) -> Result<SavedRule, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "defining success rules")?;
    let from_day = match reevaluate_from.trim() {
        "" => None,
        text => Some(crate::domain::time::parse_day(text).ok_or_else(|| {
            AppError::from_field_problem(
                "reevaluate_from: must be a date like 2026-11-01, or empty",
            )
        })?),
    };
    crate::service::success::save_rule(
        &db()?,
        &viewer,
        task_type_id,
        &definition,
        from_day,
        crate::db::now_ms(),
    )
    .await
}

/// Queues tasks of the last `days` days for grading: all finished ones, or those escalated for
/// one reason, or those with one verdict.
#[server(prefix = "/rpc", endpoint = "force_review")]
pub async fn force_review(
    workflow_id: i64,
    days: i64,
    escalation_reason: String,
    status: String,
) -> Result<u64, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(
        |v| v.defines_any_success(),
        "adding tasks to the review queue",
    )?;
    let reason = Some(escalation_reason.trim()).filter(|r| !r.is_empty());
    let status = match status.trim() {
        "" => None,
        text => Some(
            text.parse::<TaskStatus>()
                .map_err(|e| AppError::from_field_problem(format!("status: {e}")))?,
        ),
    };
    crate::service::success::force_review(
        &db()?,
        &viewer,
        workflow_id,
        days,
        reason,
        status,
        crate::db::now_ms(),
    )
    .await
}

/// Compares `candidate` with `baseline` (configuration version labels; the first and the
/// latest when empty) over the last `days` days; or, when any period date is given, every
/// version over the period from `baseline_from` to `baseline_to` against the one from
/// `candidate_from` to `candidate_to` (an empty `to` is today).
#[server(prefix = "/rpc", endpoint = "compare_versions")]
#[allow(clippy::too_many_arguments)]
pub async fn compare_versions(
    slug: String,
    baseline: String,
    candidate: String,
    days: i64,
    #[server(default)] baseline_from: Option<String>,
    #[server(default)] baseline_to: Option<String>,
    #[server(default)] candidate_from: Option<String>,
    #[server(default)] candidate_to: Option<String>,
) -> Result<VersionComparison, AppError> {
    use crate::api::context::*;
    use crate::service::compare::{ComparisonAsked, compare};

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let asked = ComparisonAsked {
        slug,
        baseline,
        candidate,
        days,
        periods: [baseline_from, baseline_to, candidate_from, candidate_to],
    };
    compare(&db()?, &viewer, asked, crate::db::now_ms()).await
}
