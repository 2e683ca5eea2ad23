//! Defining the finish line before measuring: workflows with their budgets, thresholds and
//! sampling, task types in plain words, and versioned success rules with a preview of what a
//! draft would do. Every change is checked field by field and audited in its transaction.
//! Callers check the viewer's role; the team scope is checked here, against the stored rows.

use crate::db::catalog::{Catalog, window_rows};
use crate::db::verdict::{reevaluate_tasks, task_type_evidence};
use crate::db::{Db, DbError, identity, queue, workflow};
use crate::domain::Micros;
use crate::domain::cpst::Cpst;
use crate::domain::rule::Rule;
use crate::domain::status::{ReviewMethod, TaskStatus};
use crate::domain::time::{MS_PER_DAY, day_of};
use crate::domain::verdict::evaluate_task;
use crate::domain::{BasisPoints, Slug};
use crate::error::AppError;
use crate::model::{TaskType, Workflow, WorkflowSettings};
use crate::report::Window;
use crate::report::figures::{Filter, Grouping, figures};
use crate::service::accounts::{Actor, audit, check_name, invalid};
use crate::views::access::Viewer;
use crate::views::workflows::{ChangedTask, Outlook, RulePreview, SavedRule, SettingsForm};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How far back a draft rule is tried.
pub const PREVIEW_DAYS: i64 = 30;
/// How far back an owner may re-evaluate tasks under a new rule.
pub const MAX_REEVALUATE_DAYS: i64 = 365;

/// The slug typed into `field`, or a refusal naming it.
pub(crate) fn parse_slug(field: &'static str, text: &str) -> Result<Slug, AppError> {
    Slug::parse(text).map_err(|e| invalid(field, e.to_string()))
}

/// A percentage typed into `field`, as basis points within `0..=max_bp`, or a refusal naming
/// the field.
pub fn parse_percent(field: &'static str, text: &str, max_bp: i64) -> Result<i64, AppError> {
    BasisPoints::parse_percent(text, BasisPoints::new(max_bp))
        .map(BasisPoints::get)
        .map_err(|e| invalid(field, e.to_string()))
}

/// A whole number within `range`.
pub fn parse_count(
    field: &'static str,
    text: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, AppError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            invalid(
                field,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// Reads a workflow form into settings, naming the first field that is not acceptable.
pub fn parse_settings(form: &SettingsForm) -> Result<WorkflowSettings, AppError> {
    let slug = parse_slug("slug", &form.slug)?;
    check_name("name", &form.name)?;
    if form.description.chars().count() > 2_000 {
        return Err(invalid("description", "must be at most 2000 characters"));
    }
    let budget = Micros::parse_dollars(form.budget.trim())
        .ok()
        .filter(|m| m.0 >= 0)
        .ok_or_else(|| {
            invalid(
                "budget",
                "must be an amount in dollars like 0.40, not negative",
            )
        })?;
    crate::domain::bounds::check_money(budget, crate::domain::bounds::MAX_BUDGET_PER_TASK)
        .map_err(|e| invalid("budget", e))?;
    Ok(WorkflowSettings {
        slug: slug.into_string(),
        name: form.name.trim().to_owned(),
        team_id: form.team_id,
        description: form.description.trim().to_owned(),
        budget_cpst_micros: budget,
        quality_target_bp: parse_percent("quality_target", &form.quality_target, 10_000)?,
        gate_window_days: parse_count("gate_window_days", &form.gate_window_days, 1..=365)?,
        gate_min_sample: parse_count("gate_min_sample", &form.gate_min_sample, 1..=1_000_000)?,
        drift_tolerance_bp: parse_percent(
            "drift_tolerance",
            &form.drift_tolerance,
            crate::domain::bounds::MAX_DRIFT_TOLERANCE_BP,
        )?,
        review_sampling_bp: parse_percent("sampling_rate", &form.sampling_rate, 10_000)?,
        second_grader_bp: parse_percent("second_grader_rate", &form.second_grader_rate, 10_000)?,
        latency_budget_ms: parse_latency_budget(&form.latency_budget)?,
    })
}

/// The latency budget field: seconds of p95 task time, decimals allowed, or empty for none.
fn parse_latency_budget(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let max = crate::domain::bounds::MAX_LATENCY_BUDGET_MS;
    let reason = format!(
        "must be seconds of p95 task time like 8 or 2.5, from 0.1 to {}, or empty for no budget",
        max / 1_000
    );
    // Whole seconds and up to three decimals, read exactly as milliseconds.
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let millis = (digits(whole) && digits(fraction) && !whole.is_empty() && fraction.len() <= 3)
        .then(|| {
            let whole: i64 = whole.parse().ok()?;
            let fraction: i64 = format!("{fraction:0<3}").parse().ok()?;
            whole.checked_mul(1_000)?.checked_add(fraction)
        })
        .flatten()
        .filter(|ms| (100..=max).contains(ms));
    millis
        .map(Some)
        .ok_or_else(|| invalid("latency_budget", reason))
}

fn settings_json(settings: &WorkflowSettings) -> String {
    json!({
        "slug": settings.slug,
        "name": settings.name,
        "team_id": settings.team_id,
        "description": settings.description,
        "budget_cpst": crate::views::format::plain_dollars(settings.budget_cpst_micros),
        "quality_target_bp": settings.quality_target_bp,
        "gate_window_days": settings.gate_window_days,
        "gate_min_sample": settings.gate_min_sample,
        "drift_tolerance_bp": settings.drift_tolerance_bp,
        "review_sampling_bp": settings.review_sampling_bp,
        "second_grader_bp": settings.second_grader_bp,
        "latency_budget_ms": settings.latency_budget_ms,
    })
    .to_string()
}

fn settings_of(workflow: &Workflow) -> WorkflowSettings {
    WorkflowSettings {
        slug: workflow.slug.clone(),
        name: workflow.name.clone(),
        team_id: workflow.team_id,
        description: workflow.description.clone(),
        budget_cpst_micros: workflow.budget_cpst_micros,
        quality_target_bp: workflow.quality_target_bp,
        gate_window_days: workflow.gate_window_days,
        gate_min_sample: workflow.gate_min_sample,
        drift_tolerance_bp: workflow.drift_tolerance_bp,
        review_sampling_bp: workflow.review_sampling_bp,
        second_grader_bp: workflow.second_grader_bp,
        latency_budget_ms: workflow.latency_budget_ms,
    }
}

/// The stored workflow, if this viewer defines success for its team.
pub async fn workflow_for(
    db: &Db,
    viewer: &Viewer,
    workflow_id: i64,
) -> Result<Workflow, AppError> {
    match workflow::get_workflow(db, workflow_id).await {
        Ok(found) if viewer.defines_success(found.team_id) => Ok(found),
        Ok(_) | Err(DbError::NotFound) => Err(AppError::not_found("workflow")),
        Err(other) => Err(AppError::from(other)),
    }
}

/// Creates a workflow (`id` None) or changes one; returns its id.
pub async fn save_workflow(
    db: &Db,
    viewer: &Viewer,
    id: Option<i64>,
    form: &SettingsForm,
    now: i64,
) -> Result<i64, AppError> {
    let settings = parse_settings(form)?;
    let teams = identity::list_teams(db).await?;
    // Owners hear the same for another team's id as for one that does not exist.
    if !viewer.defines_success(settings.team_id) {
        return Err(invalid("team_id", "must be one of your teams"));
    }
    if !teams.iter().any(|t| t.id == settings.team_id) {
        return Err(invalid("team_id", "is not a team"));
    }
    let before = match id {
        Some(id) => Some(workflow_for(db, viewer, id).await?),
        None => None,
    };
    // Slugs are unique within a team: only the team's own workflows can hold this one, so the
    // answer says nothing about other teams.
    let taken = workflow::list_workflows(db)
        .await?
        .into_iter()
        .any(|other| {
            other.team_id == settings.team_id && other.slug == settings.slug && Some(other.id) != id
        });
    if taken {
        return Err(invalid("slug", "is taken by another workflow of this team"));
    }
    let mut tx = db.begin().await?;
    let after = Some(settings_json(&settings));
    let id = match &before {
        None => {
            let id = workflow::insert_workflow(&mut tx, &settings, now).await?;
            let change = ("workflow.create", "workflow", id);
            audit(
                &mut tx,
                Actor::of(viewer),
                change,
                (None, after),
                Some(settings.team_id),
                now,
            )
            .await?;
            id
        }
        Some(old) => {
            workflow::update_workflow(&mut tx, old.id, &settings, now).await?;
            let change = ("workflow.update", "workflow", old.id);
            let old_json = Some(settings_json(&settings_of(old)));
            audit(
                &mut tx,
                Actor::of(viewer),
                change,
                (old_json, after),
                Some(settings.team_id),
                now,
            )
            .await?;
            old.id
        }
    };
    tx.commit().await?;
    Ok(id)
}

/// A task type as typed into the form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTypeForm {
    pub slug: String,
    pub name: String,
    pub user_goal: String,
    pub pass_condition: String,
    pub review_method: String,
    /// Comma-separated.
    pub segments: String,
    /// The human baseline: minutes a person takes unaided (empty: none), where that comes
    /// from, and an outcome-priced vendor's price per resolved task in dollars (empty: none).
    pub baseline_minutes: String,
    pub baseline_source: String,
    pub baseline_reference: String,
}

/// The longest human baseline: 40 hours, a working week for one task.
const MAX_BASELINE_SECONDS: i64 = 144_000;

/// A baseline version as the task type form shows it: minutes, source, reference dollars.
pub fn baseline_form(baseline: Option<&crate::model::HumanBaseline>) -> (String, String, String) {
    let Some(b) = baseline else {
        return Default::default();
    };
    let minutes = b.seconds.map(minutes_text).unwrap_or_default();
    let reference = b
        .reference_price_micros
        .map(|m| crate::views::format::plain_dollars(Micros(m)))
        .unwrap_or_default();
    (minutes, b.source.clone(), reference)
}

fn minutes_text(seconds: i64) -> String {
    let text = format!("{:.2}", seconds as f64 / 60.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// One baseline version in words, for the task type's history.
pub fn baseline_words(b: &crate::model::HumanBaseline) -> String {
    let when = crate::domain::time::format_instant(b.effective_from);
    match b.seconds {
        None => format!("v{} from {when}: no baseline", b.version),
        Some(seconds) => format!(
            "v{} from {when}: {} minutes a task{}{}",
            b.version,
            minutes_text(seconds),
            b.reference_price_micros
                .map(|m| format!(", outcome-priced reference {}", Micros(m)))
                .unwrap_or_default(),
            if b.source.is_empty() {
                String::new()
            } else {
                format!(" ({})", b.source)
            }
        ),
    }
}

/// The baseline the form asks for, checked: seconds, reference price, source.
fn read_baseline(form: &TaskTypeForm) -> Result<(Option<i64>, Option<i64>, String), AppError> {
    let minutes = form.baseline_minutes.trim();
    let seconds = match minutes {
        "" => None,
        text => {
            let micros = Micros::parse_dollars(text).map_err(|_| {
                invalid(
                    "baseline_minutes",
                    "must be a number of minutes, like 6 or 7.5",
                )
            })?;
            // Minutes with up to six decimals, in whole seconds.
            let seconds = (i128::from(micros.0) * 60 + 500_000) / 1_000_000;
            if !(1..=i128::from(MAX_BASELINE_SECONDS)).contains(&seconds) {
                return Err(invalid(
                    "baseline_minutes",
                    "must be from 1 second to 2,400 minutes (40 hours)",
                ));
            }
            Some(seconds as i64)
        }
    };
    let reference = match form.baseline_reference.trim() {
        "" => None,
        text => Some(
            Micros::parse_dollars(text)
                .ok()
                .filter(|m| (0..=1_000_000_000_000).contains(&m.0))
                .ok_or_else(|| {
                    invalid(
                        "baseline_reference",
                        "must be an amount in dollars like 0.99, from 0 to 1,000,000",
                    )
                })?
                .0,
        ),
    };
    if reference.is_some() && seconds.is_none() {
        return Err(invalid(
            "baseline_reference",
            "give the human baseline's minutes too: the reference is compared with it",
        ));
    }
    let source = form.baseline_source.trim().to_owned();
    if source.chars().count() > 200 {
        return Err(invalid("baseline_source", "must be at most 200 characters"));
    }
    Ok((seconds, reference, source))
}

/// Creates a task type of a workflow (`id` None) or changes one; returns its id.
pub async fn save_task_type(
    db: &Db,
    viewer: &Viewer,
    workflow_id: i64,
    id: Option<i64>,
    form: &TaskTypeForm,
    now: i64,
) -> Result<i64, AppError> {
    let owner = workflow_for(db, viewer, workflow_id).await?;
    let slug = parse_slug("slug", &form.slug)?;
    let slug = slug.as_str();
    check_name("name", &form.name)?;
    for (field, text) in [
        ("user_goal", &form.user_goal),
        ("pass_condition", &form.pass_condition),
    ] {
        let chars = text.trim().chars().count();
        if chars == 0 || chars > 1_000 {
            return Err(invalid(
                field,
                "must be 1 to 1000 characters: say it so two reviewers would score it the same way",
            ));
        }
    }
    let review_method: ReviewMethod =
        form.review_method
            .parse()
            .map_err(|e: crate::domain::status::UnknownValue| {
                invalid("review_method", e.to_string())
            })?;
    let mut segments: Vec<&str> = form
        .segments
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    segments.sort_unstable();
    segments.dedup();
    if segments.len() > 20 || segments.iter().any(|s| s.chars().count() > 64) {
        return Err(invalid(
            "segments",
            "at most 20 segments of up to 64 characters each",
        ));
    }
    let (baseline_seconds, baseline_reference, baseline_source) = read_baseline(form)?;
    let existing = workflow::list_task_types(db, owner.id).await?;
    if let Some(id) = id
        && !existing.iter().any(|t| t.id == id)
    {
        return Err(AppError::not_found("task type"));
    }
    if existing.iter().any(|t| t.slug == slug && Some(t.id) != id) {
        return Err(invalid(
            "slug",
            "is taken by another task type of this workflow",
        ));
    }
    let new = workflow::NewTaskType {
        workflow_id: owner.id,
        slug,
        name: form.name.trim(),
        user_goal: form.user_goal.trim(),
        pass_condition: form.pass_condition.trim(),
        review_method,
        segments: &segments,
    };
    let after = json!({
        "slug": slug, "name": new.name, "user_goal": new.user_goal,
        "pass_condition": new.pass_condition, "review_method": review_method.as_str(),
        "segments": segments,
    })
    .to_string();
    let mut tx = db.begin().await?;
    let (id, action, before) = match id {
        None => (
            workflow::insert_task_type(&mut tx, &new, now).await?,
            "task_type.create",
            None,
        ),
        Some(id) => {
            let old = existing.iter().find(|t| t.id == id).expect("checked above");
            let old_segments = workflow::task_type_segments(db, id).await?;
            workflow::update_task_type(&mut tx, id, &new).await?;
            let before = json!({
                "slug": old.slug, "name": old.name, "user_goal": old.user_goal,
                "pass_condition": old.pass_condition,
                "review_method": old.review_method.as_str(), "segments": old_segments,
            });
            (id, "task_type.update", Some(before.to_string()))
        }
    };
    audit(
        &mut tx,
        Actor::of(viewer),
        (action, "task_type", id),
        (before, Some(after)),
        Some(owner.team_id),
        now,
    )
    .await?;
    // The baseline is versioned like rules: a change is a new version from now, so the
    // figures of tasks started before it keep theirs.
    let baselines = crate::db::baseline::list_baselines(db).await?;
    let current = crate::model::HumanBaseline::in_force(&baselines, id, now);
    let unchanged = match current {
        Some(b) => {
            (b.seconds, b.reference_price_micros, b.source.as_str())
                == (
                    baseline_seconds,
                    baseline_reference,
                    baseline_source.as_str(),
                )
        }
        None => baseline_seconds.is_none(),
    };
    if !unchanged {
        let new = crate::db::baseline::NewBaseline {
            task_type_id: id,
            seconds: baseline_seconds,
            reference_price_micros: baseline_reference,
            source: &baseline_source,
            effective_from: now,
            created_by: Some(viewer.user_id),
        };
        let stored = crate::db::baseline::insert_baseline(&mut tx, &new, now).await?;
        audit(
            &mut tx,
            Actor::of(viewer),
            ("task_type.baseline", "task_type", id),
            (current.map(baseline_words), Some(baseline_words(&stored))),
            Some(owner.team_id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Reads a draft rule and checks it completely: its JSON, its shape, and every JSON Schema it
/// holds (against the JSON Schema meta-schema).
pub fn read_rule(definition: &str) -> Result<Rule, AppError> {
    let rule = Rule::from_json(definition).map_err(|e| {
        invalid(
            "definition",
            format!("is not a rule ({e}); see the README for the rule kinds"),
        )
    })?;
    rule.check()
        .map_err(|problem| invalid("definition", problem.to_string()))?;
    check_schemas(&rule, "rule")?;
    Ok(rule)
}

fn check_schemas(rule: &Rule, path: &str) -> Result<(), AppError> {
    match rule {
        Rule::SchemaValid { schema } => {
            jsonschema::validator_for(schema).map(|_| ()).map_err(|e| {
                invalid(
                    "definition",
                    format!("{path}.schema is not a valid JSON Schema: {e}"),
                )
            })
        }
        Rule::All { rules } | Rule::Any { rules } => {
            for (i, rule) in rules.iter().enumerate() {
                check_schemas(rule, &format!("{path}.rules[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The task type with its workflow, if this viewer defines success for it.
pub async fn task_type_for(
    db: &Db,
    viewer: &Viewer,
    task_type_id: i64,
) -> Result<(Workflow, TaskType), AppError> {
    let task_types = workflow::list_all_task_types(db).await?;
    let task_type = task_types
        .into_iter()
        .find(|t| t.id == task_type_id)
        .ok_or(AppError::not_found("task type"))?;
    let owner = workflow_for(db, viewer, task_type.workflow_id)
        .await
        .map_err(|err| match err {
            AppError::NotFound { .. } => AppError::not_found("task type"),
            other => other,
        })?;
    Ok((owner, task_type))
}

/// Tries a draft rule on the task type's tasks of the last [`PREVIEW_DAYS`] days, without
/// storing anything. Costs are those of the same tasks (with their platform share) as the
/// figures show them today: a rule changes which tasks count as finished, not what they cost.
pub async fn preview_rule(
    db: &Db,
    viewer: &Viewer,
    task_type_id: i64,
    definition: &str,
    now: i64,
) -> Result<RulePreview, AppError> {
    let (owner, task_type) = task_type_for(db, viewer, task_type_id).await?;
    let rule = read_rule(definition)?;
    let window = Window::ending(day_of(now), PREVIEW_DAYS);
    let tasks = task_type_evidence(
        db,
        task_type.id,
        window.first_day * MS_PER_DAY,
        (window.last_day + 1) * MS_PER_DAY,
    )
    .await?;
    let mut current = Outlook::default();
    let mut draft = Outlook::default();
    let mut changed = 0;
    let mut examples = Vec::new();
    for task in &tasks {
        let verdict = evaluate_task(Some(&rule), &task.evidence, now);
        for (outlook, status) in [(&mut current, task.status), (&mut draft, verdict.status)] {
            match status {
                TaskStatus::Pending => outlook.pending += 1,
                TaskStatus::Succeeded => {
                    outlook.succeeded += 1;
                    outlook.decided += 1;
                }
                _ => outlook.decided += 1,
            }
        }
        if verdict.status != task.status {
            changed += 1;
            if examples.len() < 10 {
                examples.push(ChangedTask {
                    task_id: task.id,
                    external_id: task.external_id.clone(),
                    before: task.status,
                    after: verdict.status,
                    reason: verdict.reason,
                });
            }
        }
    }
    let catalog = Catalog::load(db).await?;
    let rows = window_rows(db, window).await?;
    let filter = Filter {
        workflow_ids: Some(vec![owner.id]),
        task_type_id: Some(task_type.id),
        ..Filter::default()
    };
    let total = figures(&catalog.ledger(window, &rows), &filter, Grouping::All)
        .map_err(DbError::from)?
        .pop()
        .map(|group| group.set.total_cost())
        .unwrap_or_default();
    let cpst = |successes: u64| match total.per(successes) {
        Some(cost) => Cpst::Cost(cost),
        None => Cpst::NoSuccessfulTasks,
    };
    current.cpst = cpst(current.succeeded);
    draft.cpst = cpst(draft.succeeded);
    Ok(RulePreview {
        description: rule.describe(),
        first_day: window.first_day,
        last_day: window.last_day,
        tasks: tasks.len() as u64,
        now: current,
        draft,
        changed,
        examples,
    })
}

/// Saves a new version of a task type's rule. It takes effect now, so tasks already measured
/// keep the verdicts their rule gave them, unless `reevaluate_from_day` names a day from which
/// the new version applies instead: those tasks are re-decided, and the audit log says so.
pub async fn save_rule(
    db: &Db,
    viewer: &Viewer,
    task_type_id: i64,
    definition: &str,
    reevaluate_from_day: Option<i64>,
    now: i64,
) -> Result<SavedRule, AppError> {
    let (owner, task_type) = task_type_for(db, viewer, task_type_id).await?;
    let rule = read_rule(definition)?;
    let history = workflow::rule_history(db, task_type.id).await?;
    let effective_from = match reevaluate_from_day {
        None => now,
        Some(day) => {
            let from = day * MS_PER_DAY;
            if from > now {
                return Err(invalid("reevaluate_from", "must not be in the future"));
            }
            if from < now - MAX_REEVALUATE_DAYS * MS_PER_DAY {
                return Err(invalid(
                    "reevaluate_from",
                    format!("may reach back at most {MAX_REEVALUATE_DAYS} days"),
                ));
            }
            if let Some(latest) = history.iter().map(|r| r.effective_from).max()
                && from < latest
            {
                return Err(invalid(
                    "reevaluate_from",
                    format!(
                        "must not be before the current version took effect ({})",
                        crate::domain::time::format_instant(latest)
                    ),
                ));
            }
            from
        }
    };
    let previous = history.last();
    let mut tx = db.begin().await?;
    let stored = workflow::insert_success_rule(
        &mut tx,
        task_type.id,
        &rule.to_json(),
        effective_from,
        Some(viewer.user_id),
        now,
    )
    .await?;
    let change = ("rule.create", "success_rule", stored.id);
    let before = previous.map(|r| r.definition.clone());
    audit(
        &mut tx,
        Actor::of(viewer),
        change,
        (before, Some(stored.definition.clone())),
        Some(owner.team_id),
        now,
    )
    .await?;
    let (mut reevaluated, mut changed) = (0, 0);
    if reevaluate_from_day.is_some() {
        let ids = task_ids_since(&mut tx, task_type.id, effective_from).await?;
        reevaluated = ids.len() as u64;
        changed = reevaluate_tasks(&mut tx, &ids, now).await?;
        let summary = json!({
            "task_type": task_type.slug, "version": stored.version,
            "from": crate::domain::time::format_instant(effective_from),
            "tasks": reevaluated, "slices_changed": changed,
        });
        audit(
            &mut tx,
            Actor::of(viewer),
            ("rule.reevaluate", "success_rule", stored.id),
            (None, Some(summary.to_string())),
            Some(owner.team_id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(SavedRule {
        rule: stored,
        reevaluated,
        changed,
    })
}

async fn task_ids_since(
    tx: &mut crate::db::Tx,
    task_type_id: i64,
    from: i64,
) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT id FROM tasks WHERE task_type_id = $1 AND started_at >= $2 ORDER BY id";
    Ok(
        crate::db::on_tx!(tx, conn => sqlx::query_scalar(sql).bind(task_type_id).bind(from).fetch_all(conn).await)?,
    )
}

/// Queues a workflow's finished tasks of the last `days` days for grading, all of them or
/// those escalated for one reason or with one verdict; audited. Returns how many were added.
pub async fn force_review(
    db: &Db,
    viewer: &Viewer,
    workflow_id: i64,
    days: i64,
    escalation_reason: Option<&str>,
    status: Option<TaskStatus>,
    now: i64,
) -> Result<u64, AppError> {
    let owner = workflow_for(db, viewer, workflow_id).await?;
    if !(1..=365).contains(&days) {
        return Err(invalid("days", "must be a whole number from 1 to 365"));
    }
    if escalation_reason.is_some_and(|r| r.trim().is_empty() || r.len() > 200) {
        return Err(invalid("escalation_reason", "must be 1 to 200 characters"));
    }
    let mut tx = db.begin().await?;
    let added = queue::force_add(
        &mut tx,
        owner.id,
        now - days * MS_PER_DAY,
        escalation_reason,
        status.map(TaskStatus::as_str),
        now,
    )
    .await?;
    let after = json!({
        "days": days, "escalation_reason": escalation_reason,
        "status": status.map(TaskStatus::as_str), "added": added,
    });
    audit(
        &mut tx,
        Actor::of(viewer),
        ("queue.force", "workflow", owner.id),
        (None, Some(after.to_string())),
        Some(owner.team_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refused field as `"field: reason"`.
    fn refusal(err: &AppError) -> String {
        match err {
            AppError::InvalidParameter { field, reason, .. } => format!("{field}: {reason}"),
            other => other.to_string(),
        }
    }

    #[test]
    fn percentages_become_basis_points() {
        assert_eq!(parse_percent("x", "90", 10_000).unwrap(), 9_000);
        assert_eq!(parse_percent("x", "92.5", 10_000).unwrap(), 9_250);
        assert_eq!(parse_percent("x", " 5% ", 10_000).unwrap(), 500);
        assert_eq!(parse_percent("x", "0.25", 10_000).unwrap(), 25);
        for bad in ["", "101", "-1", "1.234", "ten", "1e2", "99999999999"] {
            let err = parse_percent("quality_target", bad, 10_000).unwrap_err();
            assert_eq!(err.field(), Some("quality_target"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_workflow_form_names_the_first_bad_field() {
        let form = SettingsForm {
            id: 0,
            slug: "invoice-clearing".into(),
            name: "Invoice clearing".into(),
            team_id: 1,
            description: String::new(),
            budget: "0.40".into(),
            quality_target: "90".into(),
            gate_window_days: "30".into(),
            gate_min_sample: "200".into(),
            drift_tolerance: "10".into(),
            sampling_rate: "5".into(),
            second_grader_rate: "20".into(),
            latency_budget: String::new(),
        };
        let settings = parse_settings(&form).unwrap();
        assert_eq!(settings.budget_cpst_micros, Micros(400_000));
        assert_eq!(settings.review_sampling_bp, 500);
        assert_eq!(settings.latency_budget_ms, None);
        for (text, ms) in [
            ("8", 8_000),
            (" 2.5 ", 2_500),
            ("0.125", 125),
            ("86400", 86_400_000),
        ] {
            let with = SettingsForm {
                latency_budget: text.into(),
                ..form.clone()
            };
            assert_eq!(
                parse_settings(&with).unwrap().latency_budget_ms,
                Some(ms),
                "{text}"
            );
        }
        for bad in [
            "eight",
            "0",
            "0.05",
            "1.2345",
            "-3",
            "86401",
            "1e3",
            ".5",
            "99999999999999999999",
        ] {
            let with = SettingsForm {
                latency_budget: bad.into(),
                ..form.clone()
            };
            assert!(
                refusal(&parse_settings(&with).unwrap_err()).starts_with("latency_budget: "),
                "{bad}"
            );
        }
        let bad = SettingsForm {
            gate_window_days: "0".into(),
            ..form.clone()
        };
        assert_eq!(
            refusal(&parse_settings(&bad).unwrap_err()),
            "gate_window_days: must be a whole number from 1 to 365"
        );
        let bad = SettingsForm {
            budget: "-1".into(),
            ..form
        };
        assert!(refusal(&parse_settings(&bad).unwrap_err()).starts_with("budget: "));
    }

    #[test]
    fn a_draft_rule_is_checked_down_to_its_schemas() {
        assert!(read_rule(r#"{"kind":"not_reopened_within","hours":48}"#).is_ok());
        let err = read_rule(r#"{"kind":"schema_valid","schema":{"type":"nonsense"}}"#).unwrap_err();
        assert!(
            refusal(&err).starts_with("definition: rule.schema is not a valid JSON Schema"),
            "{err}"
        );
        let err =
            read_rule(r#"{"kind":"all","rules":[{"kind":"exact_match","field":""}]}"#).unwrap_err();
        assert!(err.to_string().contains("rule.rules[0].field"), "{err}");
        let err = read_rule("{").unwrap_err();
        assert!(
            refusal(&err).starts_with("definition: is not a rule"),
            "{err}"
        );
    }
}
