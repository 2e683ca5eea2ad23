//! Working the review queue: the next task a reviewer may grade, the grade (which decides the
//! task's verdict and adds its minutes to the labour cost at once), passing on a task, and the
//! queue's health and reviewer agreement for owners.

use crate::db::rollup::refresh_slices;
use crate::db::verdict::decide_tasks;
use crate::db::{Db, DbError, grade, identity, on_db, outcome, queue, task, workflow};
use crate::domain::agreement::{Agreement, agreement};
use crate::domain::cpst::Proportion;
use crate::domain::rule::Rule;
use crate::domain::sampling::STRATUM_FLOOR;
use crate::domain::status::{EditSeverity, GradeVerdict, QueueReason};
use crate::domain::time::{MS_PER_DAY, day_of, format_day, format_instant};
use crate::error::AppError;
use crate::model::{QueueItem, Task, Workflow};
use crate::service::accounts::invalid;
use crate::service::trace::{Figures, attempt_rows, outcome_lines, pretty};
use crate::views::access::Viewer;
use crate::views::review::{
    AgreementRow, AgreementView, Disagreement, QueueHealth, ReviewSlot, ReviewTask, TaskTypeSample,
};
use std::collections::BTreeMap;

/// The widest a task type's pass-rate interval may be (± points) for its sample to count.
pub const ENOUGH_MARGIN_POINTS: f64 = 10.0;

/// A grade as the reviewer typed it.
pub struct GradeForm<'a> {
    pub verdict: &'a str,
    pub edit_severity: &'a str,
    /// Decimal minutes, like `2.5`.
    pub minutes: &'a str,
    pub note: &'a str,
}

/// Minutes with up to two decimals, as whole seconds, up to a day.
pub fn parse_minutes(text: &str) -> Result<i64, AppError> {
    crate::domain::ReviewTime::parse_minutes(text)
        .map(crate::domain::ReviewTime::seconds)
        .map_err(|e| invalid("minutes", e.to_string()))
}

/// Checks that a verdict and an edit severity say the same thing: a pass needed no factual
/// repair, and "assisted" means a person repaired facts.
pub fn check_verdict(verdict: GradeVerdict, severity: EditSeverity) -> Result<(), AppError> {
    match (verdict, severity) {
        (GradeVerdict::Pass, EditSeverity::Factual) => Err(invalid(
            "edit_severity",
            "a factual repair means the verdict is assisted (or fail), not pass",
        )),
        (GradeVerdict::Assisted, EditSeverity::None | EditSeverity::Cosmetic) => Err(invalid(
            "edit_severity",
            "assisted means a person repaired facts: choose factual, or grade it pass",
        )),
        _ => Ok(()),
    }
}

fn may_grade(viewer: &Viewer, workflow: &Workflow) -> bool {
    viewer.grades() && (viewer.grades_every_team() || viewer.team_ids.contains(&workflow.team_id))
}

/// A queue item with its task and workflow, if this viewer grades that workflow; otherwise
/// the item does not exist for them.
async fn item_for(
    db: &Db,
    viewer: &Viewer,
    item_id: i64,
) -> Result<(QueueItem, Task, Workflow), AppError> {
    let item = queue::get_item(db, item_id)
        .await?
        .ok_or(AppError::not_found("review item"))?;
    let task = task::get_task(db, item.task_id).await?;
    let flow = workflow::get_workflow(db, task.workflow_id).await?;
    if !may_grade(viewer, &flow) {
        return Err(AppError::not_found("review item"));
    }
    Ok((item, task, flow))
}

/// Claims and describes the next task this reviewer may grade.
pub async fn next_task(db: &Db, viewer: &Viewer, now: i64) -> Result<ReviewSlot, AppError> {
    let graded_today = graded_since(db, viewer.user_id, day_of(now) * MS_PER_DAY).await?;
    let Some(item) = queue::claim_next(db, viewer.user_id, viewer.grades_every_team(), now).await?
    else {
        return Ok(ReviewSlot {
            task: None,
            graded_today,
        });
    };
    let task = task::get_task(db, item.task_id).await?;
    let waiting_after =
        queue::count_claimable(db, viewer.user_id, viewer.grades_every_team(), now).await? - 1;
    Ok(ReviewSlot {
        task: Some(describe(db, &item, &task, waiting_after.max(0)).await?),
        graded_today,
    })
}

async fn graded_since(db: &Db, user_id: i64, since: i64) -> Result<i64, DbError> {
    let sql = "SELECT COUNT(*) FROM grades WHERE reviewer_id = $1 AND graded_at >= $2";
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).bind(user_id).bind(since).fetch_one(pool).await)?)
}

async fn describe(
    db: &Db,
    item: &QueueItem,
    task: &Task,
    waiting_after: i64,
) -> Result<ReviewTask, AppError> {
    let flow = workflow::get_workflow(db, task.workflow_id).await?;
    let task_type = match task.task_type_id {
        Some(id) => workflow::list_task_types(db, flow.id)
            .await?
            .into_iter()
            .find(|t| t.id == id),
        None => None,
    };
    let rule = match &task_type {
        Some(t) => workflow::rule_in_force(db, t.id, task.started_at)
            .await?
            .and_then(|r| Rule::from_json(&r.definition).ok())
            .map(|r| r.describe())
            .unwrap_or_default(),
        None => String::new(),
    };
    let attempts = task::list_attempts(db, task.id).await?;
    let calls = task::list_task_calls(db, task.id).await?;
    let outcomes = outcome::list_task_outcomes(db, task.id).await?;
    Ok(ReviewTask {
        item_id: item.id,
        reason: match item.reason {
            QueueReason::Sampled => "sampled",
            QueueReason::Forced => "added by the owner",
            QueueReason::SecondGrader => "second opinion",
        }
        .to_owned(),
        workflow: flow.name.clone(),
        task_type: task_type
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        user_goal: task_type
            .as_ref()
            .map(|t| t.user_goal.clone())
            .unwrap_or_default(),
        pass_condition: task_type
            .as_ref()
            .map(|t| t.pass_condition.clone())
            .unwrap_or_default(),
        rule,
        external_id: task.external_id.clone(),
        segment: task.segment.clone(),
        started: format_instant(task.started_at),
        automatic_verdict: task.status.label().to_owned(),
        automatic_reason: task.status_reason.clone(),
        input_summary: task.input_summary.clone(),
        output: pretty(task.output.as_deref()),
        expected: pretty(task.expected.as_deref()),
        attempts: attempt_rows(&attempts, &calls, task.started_at, Figures::WorkOnly),
        outcomes: outcome_lines(&outcomes),
        waiting_after,
    })
}

/// Records a reviewer's grade of a claimed item. The task's verdict and the rollups of its day
/// (its labour cost included) are brought up to date in the same transaction.
pub async fn grade(
    db: &Db,
    viewer: &Viewer,
    item_id: i64,
    form: &GradeForm<'_>,
    now: i64,
) -> Result<(), AppError> {
    let verdict: GradeVerdict = form
        .verdict
        .parse()
        .map_err(|e: crate::domain::status::UnknownValue| invalid("verdict", e.to_string()))?;
    let severity: EditSeverity =
        form.edit_severity
            .parse()
            .map_err(|e: crate::domain::status::UnknownValue| {
                invalid("edit_severity", e.to_string())
            })?;
    check_verdict(verdict, severity)?;
    let seconds = parse_minutes(form.minutes)?;
    if form.note.chars().count() > 2_000 {
        return Err(invalid("note", "must be at most 2000 characters"));
    }
    let (item, task, flow) = item_for(db, viewer, item_id).await?;
    if item.done_at.is_some() {
        return Err(invalid(
            "item_id",
            "this task has already been graded in this slot",
        ));
    }
    let held_by_other = item.claimed_by.is_some_and(|by| by != viewer.user_id)
        && item
            .claimed_at
            .is_some_and(|at| at >= now - queue::CLAIM_MS);
    if held_by_other {
        return Err(invalid("item_id", "another reviewer is grading this task"));
    }
    let grader = format!("user:{}", viewer.user_id);
    let mut tx = db.begin().await?;
    if grade::stored_grade_hash(&mut tx, task.id, &grader)
        .await?
        .is_some()
    {
        return Err(invalid("item_id", "you have already graded this task"));
    }
    if queue::passed_on(&mut tx, task.id, viewer.user_id).await? {
        return Err(invalid(
            "item_id",
            "you skipped this task; it is left to other reviewers",
        ));
    }
    let new = grade::NewGrade {
        external_id: None,
        task_id: task.id,
        reviewer_id: Some(viewer.user_id),
        grader: &grader,
        verdict,
        edit_severity: severity,
        review_seconds: seconds,
        note: form.note.trim(),
        graded_at: now,
        content_hash: &format!("app:{item_id}"),
    };
    grade::insert_grade(&mut tx, &new).await?;
    queue::mark_done(&mut tx, task.id, item.slot, Some(viewer.user_id), now).await?;
    decide_tasks(&mut tx, &[task.id], now).await?;
    let day = day_of(task.started_at);
    refresh_slices(&mut tx, flow.id, day, day).await?;
    tx.commit().await?;
    Ok(())
}

/// Passes on an item: it goes back to the queue for others and never returns to this reviewer.
pub async fn skip(db: &Db, viewer: &Viewer, item_id: i64, now: i64) -> Result<(), AppError> {
    let (item, _, _) = item_for(db, viewer, item_id).await?;
    let mut tx = db.begin().await?;
    queue::skip(&mut tx, item.id, viewer.user_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The queue's state for one workflow.
pub async fn health(db: &Db, flow: &Workflow, now: i64) -> Result<QueueHealth, DbError> {
    let (waiting, claimed_now) = queue::waiting_by_workflow(db, now)
        .await?
        .into_iter()
        .find(|(id, _, _)| *id == flow.id)
        .map_or((0, 0), |(_, w, c)| (w, c));
    let today = day_of(now);
    // A task's first grade decides it (those of the gate window count here); later ones measure
    // agreement.
    let gate_start = now - flow.gate_window_days * MS_PER_DAY;
    let summary = queue::grading_summary(
        db,
        flow.id,
        gate_start,
        (today - 6) * MS_PER_DAY,
        now - 30 * MS_PER_DAY,
    )
    .await?;
    let graded_per_day = (today - 6..=today)
        .map(|day| {
            let count = summary
                .per_day
                .iter()
                .find(|(d, _)| *d == day)
                .map_or(0, |(_, n)| *n);
            (format_day(day), count)
        })
        .collect();
    let median_minutes = summary.median_seconds.map(|s| s as f64 / 60.0);
    let task_types = workflow::list_task_types(db, flow.id).await?;
    let samples = task_types
        .iter()
        .map(|t| {
            let (graded, passed) = summary
                .first_grades
                .iter()
                .find(|(id, _, _)| *id == t.id)
                .map_or((0, 0), |(_, graded, passed)| {
                    (*graded as u64, *passed as u64)
                });
            let margin_points =
                Proportion::wilson(passed, graded).map(|p| (p.upper - p.lower) * 50.0);
            TaskTypeSample {
                task_type: t.name.clone(),
                graded,
                passed,
                margin_points,
                enough: graded >= STRATUM_FLOOR
                    && margin_points.is_some_and(|m| m <= ENOUGH_MARGIN_POINTS),
            }
        })
        .collect();
    Ok(QueueHealth {
        waiting,
        claimed_now,
        graded_per_day,
        median_minutes,
        sampling: format!(
            "{}% of finished tasks, at least {STRATUM_FLOOR} per task type and segment every {} days; {}% of those also get a second grade",
            flow.review_sampling_bp as f64 / 100.0,
            flow.gate_window_days,
            flow.second_grader_bp as f64 / 100.0,
        ),
        task_types: samples,
    })
}

fn row(label: String, found: Agreement) -> AgreementRow {
    AgreementRow {
        label,
        pairs: found.pairs,
        agreed: found.agreed,
        kappa: found.kappa,
        strength: found.strength().to_owned(),
    }
}

/// How many disagreements the workflow page lists, the most recent first.
pub const DISAGREEMENTS_SHOWN: usize = 20;

/// Agreement over the last 90 days: each task whose second grade came in them is a pair of its
/// first two grades. Every pair counts; the page lists the latest disagreements with their notes.
pub async fn agreement_of(db: &Db, flow: &Workflow, now: i64) -> Result<AgreementView, DbError> {
    let since = now - 90 * MS_PER_DAY;
    let (counts, latest, task_types, users) = tokio::try_join!(
        queue::pair_counts(db, flow.id, since),
        queue::latest_disagreements(db, flow.id, since, DISAGREEMENTS_SHOWN as i64),
        workflow::list_task_types(db, flow.id),
        identity::list_users(db),
    )?;
    let mut pairs: Vec<(i64, GradeVerdict, GradeVerdict)> = Vec::new();
    let mut disagreements_total = 0;
    for count in &counts {
        let (Ok(first), Ok(second)) = (count.first.parse(), count.second.parse()) else {
            continue;
        };
        let n = usize::try_from(count.pairs).unwrap_or(0);
        pairs.extend(std::iter::repeat_n((count.task_type_id, first, second), n));
        if first != second {
            disagreements_total += n as u64;
        }
    }
    let shown: Vec<i64> = latest.iter().map(|d| d.task_id).collect();
    let lines = queue::pair_grades(db, &shown).await?;
    let name_of = |grader: &str| {
        grader
            .strip_prefix("user:")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| users.iter().find(|u| u.id == id))
            .map_or_else(|| grader.to_owned(), |u| u.name.clone())
    };
    let mut by_task: BTreeMap<i64, Vec<&queue::GradeLine>> = BTreeMap::new();
    for line in &lines {
        by_task.entry(line.task_id).or_default().push(line);
    }
    let disagreements = latest
        .iter()
        .filter_map(|pair| {
            let (a, b) = match by_task.get(&pair.task_id)?.as_slice() {
                [a, b, ..] => (*a, *b),
                _ => return None,
            };
            let notes: Vec<&str> = [a.note.as_str(), b.note.as_str()]
                .into_iter()
                .filter(|n| !n.is_empty())
                .collect();
            Some(Disagreement {
                task_id: pair.task_id,
                external_id: a.task_external_id.clone(),
                task_type: task_types
                    .iter()
                    .find(|t| t.id == pair.task_type_id)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                first: format!("{} by {}", a.verdict, name_of(&a.grader)),
                second: format!("{} by {}", b.verdict, name_of(&b.grader)),
                notes: notes.join(" / "),
            })
        })
        .collect();
    let verdicts = |filter: &dyn Fn(i64) -> bool| -> Vec<(GradeVerdict, GradeVerdict)> {
        pairs
            .iter()
            .filter(|(t, _, _)| filter(*t))
            .map(|(_, a, b)| (*a, *b))
            .collect()
    };
    Ok(AgreementView {
        overall: row("All task types".to_owned(), agreement(&verdicts(&|_| true))),
        task_types: task_types
            .iter()
            .map(|t| row(t.name.clone(), agreement(&verdicts(&|id| id == t.id))))
            .collect(),
        disagreements,
        disagreements_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_become_whole_seconds() {
        assert_eq!(parse_minutes("2.5").unwrap(), 150);
        assert_eq!(parse_minutes("0").unwrap(), 0);
        assert_eq!(parse_minutes("1.01").unwrap(), 61);
        assert_eq!(parse_minutes("1440").unwrap(), 86_400);
        for bad in ["", "-1", "1441", "2,5", "1.234", "abc"] {
            assert!(parse_minutes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verdict_and_severity_must_agree() {
        use EditSeverity::*;
        use GradeVerdict::*;
        assert!(check_verdict(Pass, Cosmetic).is_ok());
        assert!(check_verdict(Pass, Factual).is_err());
        assert!(check_verdict(Assisted, Factual).is_ok());
        assert!(check_verdict(Assisted, None).is_err());
        assert!(check_verdict(Fail, None).is_ok());
    }
}
