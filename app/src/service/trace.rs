//! One task's trace: every attempt and call with its cost, the outcomes and grades, and how
//! the verdict was reached. The number behind every aggregate can be followed to here.

use crate::db::{Db, DbError, evaluation, grade, identity, outcome, task, workflow};
use crate::domain::Micros;
use crate::domain::cpst::labour_cost;
use crate::domain::rule::Rule;
use crate::domain::time::format_instant;
use crate::error::AppError;
use crate::model::{Attempt, Call, Evaluation, OutcomeEvent};
use crate::views::access::Viewer;
use crate::views::tasks::{
    CallCost, LabourLine, LabourView, TaskTrace, TraceAttemptRow, TraceCallRow,
};

/// The trace of the task with this id, when `viewer` sees its workflow's team; otherwise the
/// same not-found answer as for a task that does not exist.
pub async fn task_trace(db: &Db, viewer: &Viewer, id: i64) -> Result<TaskTrace, AppError> {
    let not_found = || AppError::not_found("task");
    let found = match task::get_task(db, id).await {
        Ok(found) => found,
        Err(DbError::NotFound) => return Err(not_found()),
        Err(other) => return Err(other.into()),
    };
    let (visible, teams) = crate::service::access::seen_by(db, viewer).await?;
    // A task is seen by whoever sees its workflow: the team it is booked to does not widen that.
    let Some(flow) = visible.iter().find(|w| w.id == found.workflow_id) else {
        return Err(not_found());
    };
    let load = async {
        let task_types = workflow::list_task_types(db, flow.id).await?;
        let versions = crate::db::config_version::list_config_versions(db, flow.id).await?;
        let rules = workflow::workflow_rules(db, flow.id).await?;
        let attempts = task::list_attempts(db, found.id).await?;
        let calls = task::list_task_calls(db, found.id).await?;
        let outcomes = outcome::list_task_outcomes(db, found.id).await?;
        let evaluations = evaluation::list_task_evaluations(db, found.id).await?;
        let grades = grade::list_task_grades(db, found.id).await?;
        let users = identity::list_users(db).await?;
        let retention = crate::db::retention::state(db).await?;
        let grader = |g: &crate::model::Grade| {
            g.reviewer_id
                .and_then(|id| users.iter().find(|u| u.id == id))
                .map_or_else(|| g.grader.clone(), |u| u.name.clone())
        };
        let span_ms = calls
            .iter()
            .map(|c| c.started_at - found.started_at + c.latency_ms)
            .max()
            .unwrap_or(0)
            .max(found.finished_at.map_or(0, |f| f - found.started_at))
            .max(1);
        let parts = [
            ("Model", found.model_cost_micros),
            ("Tool", found.tool_cost_micros),
            ("Retry", found.retry_cost_micros),
            ("Cache", found.cache_cost_micros),
            ("Human review", found.labour_cost_micros),
        ];
        let total: i64 = parts.iter().map(|(_, m)| m).sum();
        Ok::<_, DbError>(TaskTrace {
            id: found.id,
            external_id: found.external_id.clone(),
            workflow: flow.name.clone(),
            workflow_slug: crate::model::workflow_handle(flow, &visible, &teams),
            task_type: found
                .task_type_id
                .and_then(|id| task_types.iter().find(|t| t.id == id))
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            segment: found.segment.clone(),
            version: found
                .config_version_id
                .and_then(|id| versions.iter().find(|v| v.id == id))
                .map(|v| v.label.clone())
                .unwrap_or_default(),
            started: format_instant(found.started_at),
            duration_ms: found.finished_at.map_or(0, |f| f - found.started_at),
            reported: found.reported_status.as_str().to_owned(),
            status: found.status.label().to_owned(),
            reason: found.status_reason.clone(),
            rule: found
                .status_rule_id
                .and_then(|id| rules.iter().find(|r| r.id == id))
                .map(|r| match Rule::from_json(&r.definition) {
                    Ok(rule) => format!("v{}: succeeds when {}", r.version, rule.describe()),
                    Err(_) => format!("v{}", r.version),
                })
                .unwrap_or_default(),
            escalation_reason: found.escalation_reason.clone().unwrap_or_default(),
            labour: labour_view(&found, &grades, &teams, &grader),
            costs: parts
                .iter()
                .map(|(name, m)| ((*name).to_owned(), Micros(*m).precise().to_string()))
                .chain(std::iter::once((
                    "Total".to_owned(),
                    Micros(total).precise().to_string(),
                )))
                .collect(),
            attempts: attempt_rows(&attempts, &calls, found.started_at, Figures::WithCosts),
            pruned: retention
                .filter(|kept| found.started_at < kept.kept_from_ms())
                .map(|kept| {
                    format!(
                        "This task's calls were removed: the days up to {} are sealed under the retention setting (raw calls are kept {} days). Its costs, tokens and verdict above were kept, and count in every figure as before.",
                        crate::domain::time::format_day(kept.sealed_through_day),
                        kept.keep_days
                    )
                })
                .unwrap_or_default(),
            span_ms,
            outcomes: outcome_lines(&outcomes),
            evaluations: evaluation_lines(&evaluations),
            grades: grades
                .iter()
                .map(|g| {
                    format!(
                        "{}: {} by {}, {}, {:.1} minutes{}",
                        format_instant(g.graded_at),
                        g.verdict.as_str(),
                        grader(g),
                        match g.edit_severity {
                            crate::domain::status::EditSeverity::None => "no edits",
                            crate::domain::status::EditSeverity::Cosmetic => "cosmetic edits",
                            crate::domain::status::EditSeverity::Factual => "factual edits",
                        },
                        g.review_seconds as f64 / 60.0,
                        if g.note.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", g.note)
                        }
                    )
                })
                .collect(),
            input_summary: found.input_summary.clone(),
            output: pretty(found.output.as_deref()),
            expected: pretty(found.expected.as_deref()),
        })
    };
    load.await.map_err(AppError::from)
}

/// Which figures a trace carries: the review screen's has none of the spend (reviewers grade
/// work, not cost).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Figures {
    WithCosts,
    WorkOnly,
}

/// A task's attempts, each with its calls in order, timed from the task's start.
pub(crate) fn attempt_rows(
    attempts: &[Attempt],
    calls: &[Call],
    task_started_at: i64,
    figures: Figures,
) -> Vec<TraceAttemptRow> {
    attempts
        .iter()
        .map(|a| TraceAttemptRow {
            number: a.number,
            correlation_id: a.correlation_id.clone(),
            status: a.status.as_str().to_owned(),
            error: a.error.clone().unwrap_or_default(),
            calls: calls
                .iter()
                .filter(|c| c.attempt_id == Some(a.id))
                .map(|c| TraceCallRow {
                    kind: c.kind.as_str().to_owned(),
                    step: c.step.clone(),
                    model: match c.model.as_str() {
                        "" => String::new(),
                        model => format!("{}/{model}", c.provider),
                    },
                    input_tokens: c.input_tokens,
                    output_tokens: c.output_tokens,
                    cache_read_tokens: c.cache_read_tokens,
                    cost: (figures == Figures::WithCosts).then(|| CallCost {
                        amount: c.cost_micros.precise().to_string(),
                        source: c.cost_source.as_str().to_owned(),
                    }),
                    offset_ms: (c.started_at - task_started_at).max(0),
                    latency_ms: c.latency_ms,
                    status: c.status.as_str().to_owned(),
                    error: c.error_type.clone().unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

/// A task's outcome events, one line each: when, what and from where.
pub(crate) fn outcome_lines(outcomes: &[OutcomeEvent]) -> Vec<String> {
    outcomes
        .iter()
        .map(|o| {
            format!(
                "{}: {} ({})",
                format_instant(o.occurred_at),
                o.kind.as_str(),
                o.source
            )
        })
        .collect()
}

/// A task's evaluation results, one line each: when, which, the score and label, from where,
/// and the evaluator's explanation.
pub(crate) fn evaluation_lines(evaluations: &[Evaluation]) -> Vec<String> {
    evaluations
        .iter()
        .map(|e| {
            let verdict = match (e.score, e.label.as_deref()) {
                (Some(score), Some(label)) => format!("{score} ({label})"),
                (Some(score), None) => score.to_string(),
                (None, Some(label)) => label.to_owned(),
                (None, None) => String::new(),
            };
            let mut line = format!("{}: {} {verdict}", format_instant(e.evaluated_at), e.name);
            if !e.source.is_empty() {
                line.push_str(&format!(", from {}", e.source));
            }
            if !e.explanation.is_empty() {
                line.push_str(&format!(": {}", e.explanation));
            }
            line
        })
        .collect()
}

/// Stored JSON (a task's output or expected answer), indented for reading; empty when absent
/// or not JSON.
pub(crate) fn pretty(json: Option<&str>) -> String {
    json.and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_default()
}

/// The task's review time line by line (the sender's reported minutes, then each grade's) and
/// what it costs at the hourly rate of the team the task is booked to.
fn labour_view(
    task: &crate::model::Task,
    grades: &[crate::model::Grade],
    teams: &[crate::model::Team],
    grader: &dyn Fn(&crate::model::Grade) -> String,
) -> LabourView {
    let team = teams.iter().find(|t| t.id == task.team_id);
    let rate = team.map_or(Micros(0), |t| t.labour_rate_micros_per_hour);
    let mut lines = Vec::new();
    if task.review_seconds > 0 {
        let what = "Review time reported by the sender".to_owned();
        lines.push(LabourLine {
            what,
            seconds: task.review_seconds,
        });
    }
    for g in grades {
        let what = format!("{} grade by {}", g.verdict.as_str(), grader(g));
        lines.push(LabourLine {
            what,
            seconds: g.review_seconds,
        });
    }
    let seconds = lines.iter().map(|l| l.seconds).sum();
    LabourView {
        lines,
        rate_micros_per_hour: rate.0,
        rate: rate.to_string(),
        team: team.map(|t| t.name.clone()).unwrap_or_default(),
        cost: Micros(task.labour_cost_micros).precise().to_string(),
        at_current_rate: labour_cost(seconds, rate)
            .map_or_else(|_| "–".to_owned(), |m| m.precise().to_string()),
    }
}
