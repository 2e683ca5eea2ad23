//! The workflow pages: the list of workflows, and one workflow's page (its definition and
//! task types with their rules, unit economics, engineering health, trend and review health).

use crate::db::catalog::Catalog;
use crate::db::{Db, identity, workflow};
use crate::domain::{Micros, cpst::Cpst};
use crate::error::AppError;
use crate::model::{NameLookup, Workflow, ambiguous_name, find_workflow, workflow_handle};
use crate::views::access::Viewer;
use crate::views::{
    choice::Choice,
    format::{plain_dollars, plain_percent},
    workflows::{
        ChangePanel, ComponentChange, Economics, EconomicsRow, EngineeringHealth, RuleVersion,
        SettingsForm, TaskTypeView, TrendBy, TrendRow, VersionChange, WorkflowDetail, WorkflowRow,
        WorkflowsView,
    },
};

/// A workflow someone named, with the handle pages link it by.
pub struct Named {
    pub workflow: Workflow,
    pub handle: String,
}

/// The workflow `viewer` names `name` (its slug, or `team:slug`) among the workflows they see.
/// One outside them gets the same answer as one that does not exist.
pub async fn named(db: &Db, viewer: &Viewer, name: &str) -> Result<Named, AppError> {
    let (visible, teams) = crate::service::access::seen_by(db, viewer).await?;
    match find_workflow(&visible, &teams, name) {
        Ok(found) => Ok(Named {
            handle: workflow_handle(found, &visible, &teams),
            workflow: found.clone(),
        }),
        Err(lookup) => Err(unnamed("workflow", name, lookup)),
    }
}

/// How the pages name the workflow `id`, which `viewer` sees.
pub async fn handle_of(db: &Db, viewer: &Viewer, id: i64) -> Result<String, AppError> {
    let (visible, teams) = crate::service::access::seen_by(db, viewer).await?;
    let found = visible.iter().find(|w| w.id == id);
    let found = found.ok_or_else(|| AppError::not_found("workflow"))?;
    Ok(workflow_handle(found, &visible, &teams))
}

/// The answer for a workflow name that picks no single workflow, in the field `field`.
pub fn unnamed(field: &str, name: &str, lookup: NameLookup) -> AppError {
    match lookup {
        NameLookup::Unknown => AppError::not_found("workflow"),
        NameLookup::Ambiguous => AppError::invalid(field, ambiguous_name(name)),
    }
}

/// The workflows `viewer` sees, with the teams they may add one to.
pub async fn list(db: &Db, viewer: &Viewer) -> Result<WorkflowsView, AppError> {
    let load = async {
        let teams = identity::list_teams(db).await?;
        let task_types = workflow::list_all_task_types(db).await?;
        let workflows = workflow::list_workflows(db).await?;
        let visible: Vec<&Workflow> = workflows
            .iter()
            .filter(|w| viewer.sees_team(w.team_id))
            .collect();
        Ok::<_, crate::db::DbError>(WorkflowsView {
            workflows: visible
                .iter()
                .map(|w| WorkflowRow {
                    slug: workflow_handle(w, visible.iter().copied(), &teams),
                    name: w.name.clone(),
                    team: teams
                        .iter()
                        .find(|t| t.id == w.team_id)
                        .map(|t| t.name.clone())
                        .unwrap_or_default(),
                    budget: format!(
                        "${}",
                        crate::views::format::plain_dollars(w.budget_cpst_micros)
                    ),
                    quality_target: format!("{}%", plain_percent(w.quality_target_bp)),
                    sampling: format!("{}%", plain_percent(w.review_sampling_bp)),
                    task_types: task_types.iter().filter(|t| t.workflow_id == w.id).count(),
                    autonomy_level: w.autonomy_level,
                })
                .collect(),
            teams: team_choices(viewer, &teams),
        })
    };
    load.await.map_err(AppError::from)
}

/// The page of the workflow `slug`, when `viewer` sees it; review health and agreement only
/// for those who define its success.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    slug: &str,
    trend_by: TrendBy,
    now: i64,
) -> Result<WorkflowDetail, AppError> {
    let Named {
        workflow: found,
        handle,
    } = named(db, viewer, slug).await?;
    let load = async {
        let catalog = Catalog::load(db).await?;
        let teams = &catalog.teams;
        let today = crate::domain::time::day_of(now);
        // Unit economics, how the work runs and what changed all read the last 30 days.
        let last_30 = crate::report::Window::ending(today, 30);
        let trend_window = trend_window(today, trend_by);
        // Every rollup row the page reads, in one read: the trend's days and the 60 before
        // today, sliced by day below.
        let span = crate::report::Window {
            first_day: trend_window.first_day.min(last_30.previous().first_day),
            last_day: today,
        };
        let editable = viewer.defines_success(found.team_id);
        // The page's reads do not depend on each other: on two cores they take half as long
        // side by side, each on a connection of its own.
        let (span_rows, alerts, steps_now, steps_before, task_types, health, agreement) = tokio::try_join!(
            async { Ok::<_, AppError>(crate::db::catalog::window_rows(db, span).await?) },
            async {
                let open =
                    crate::service::alerts::open_for_workflow(db, viewer, found.id, found.team_id);
                Ok::<_, AppError>(open.await?.alerts)
            },
            async {
                Ok::<_, AppError>(crate::db::catalog::step_window(db, found.id, last_30).await?)
            },
            async {
                let before = last_30.previous();
                Ok::<_, AppError>(crate::db::catalog::step_window(db, found.id, before).await?)
            },
            async { Ok::<_, AppError>(task_type_views(db, found.id).await?) },
            async {
                Ok::<_, AppError>(match editable {
                    true => Some(crate::service::review::health(db, &found, now).await?),
                    false => None,
                })
            },
            async {
                Ok::<_, AppError>(match editable {
                    true => Some(crate::service::review::agreement_of(db, &found, now).await?),
                    false => None,
                })
            },
        )?;
        let recent = Recent {
            window: last_30,
            rows: last_30.slice(&span_rows),
            before: last_30.previous().slice(&span_rows),
        };
        let (changes, health_30d, trend) = tokio::try_join!(
            changes(db, &catalog, &found, &handle, &recent),
            engineering(db, &catalog, &found, &recent),
            trend(
                db,
                &catalog,
                &found,
                today,
                trend_by,
                trend_window,
                &span_rows
            ),
        )?;
        Ok::<_, AppError>(WorkflowDetail {
            alerts,
            changes,
            levers: crate::report::levers::levers(
                &catalog.ledger(recent.window, recent.rows),
                &catalog.ledger(recent.window.previous(), recent.before),
                found.id,
            )
            .map_err(crate::db::DbError::from)?,
            call_levers: crate::report::call_levers::call_levers(&steps_now, &steps_before)
                .map_err(crate::db::DbError::from)?,
            handle,
            summary: summary(&found),
            team: teams
                .iter()
                .find(|t| t.id == found.team_id)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            task_types,
            trend_by,
            trend,
            economics: economics(&catalog, &found, &recent)?,
            health_30d,
            settings: settings_form(&found),
            editable,
            teams: team_choices(viewer, teams),
            health,
            agreement,
        })
    };
    load.await
}

/// The last 30 days' rollup rows and the 30 days' before, read once for every section of the
/// page that needs them.
struct Recent<'a> {
    window: crate::report::Window,
    rows: &'a [crate::model::TaskRollup],
    before: &'a [crate::model::TaskRollup],
}

fn team_choices(
    viewer: &crate::views::access::Viewer,
    teams: &[crate::model::Team],
) -> Vec<Choice> {
    teams
        .iter()
        .filter(|t| viewer.defines_success(t.id))
        .map(|t| Choice {
            value: t.id.to_string(),
            label: t.name.clone(),
        })
        .collect()
}

fn settings_form(w: &crate::model::Workflow) -> SettingsForm {
    SettingsForm {
        id: w.id,
        slug: w.slug.clone(),
        name: w.name.clone(),
        team_id: w.team_id,
        description: w.description.clone(),
        budget: plain_dollars(w.budget_cpst_micros),
        quality_target: plain_percent(w.quality_target_bp),
        gate_window_days: w.gate_window_days.to_string(),
        gate_min_sample: w.gate_min_sample.to_string(),
        drift_tolerance: plain_percent(w.drift_tolerance_bp),
        sampling_rate: plain_percent(w.review_sampling_bp),
        second_grader_rate: plain_percent(w.second_grader_bp),
        latency_budget: w
            .latency_budget_ms
            .map(crate::views::format::plain_seconds)
            .unwrap_or_default(),
    }
}

fn summary(w: &crate::model::Workflow) -> Vec<(String, String)> {
    vec![
        (
            "CPST budget".into(),
            format!(
                "${}",
                crate::views::format::plain_dollars(w.budget_cpst_micros)
            ),
        ),
        (
            "Quality target".into(),
            format!(
                "{}% success, proven over at least {} decided tasks in {} days",
                plain_percent(w.quality_target_bp),
                w.gate_min_sample,
                w.gate_window_days
            ),
        ),
        (
            "Latency budget".into(),
            match w.latency_budget_ms {
                Some(ms) => format!(
                    "p95 task time at most {} s; a model that takes longer is never named the cheapest that meets the bar",
                    crate::views::format::plain_seconds(ms)
                ),
                None => "none set".to_owned(),
            },
        ),
        (
            "Cost drift tolerance".into(),
            format!(
                "{}% over the previous window",
                plain_percent(w.drift_tolerance_bp)
            ),
        ),
        (
            "Review sampling".into(),
            format!(
                "{}% of finished tasks, {}% of those graded twice",
                plain_percent(w.review_sampling_bp),
                plain_percent(w.second_grader_bp)
            ),
        ),
        ("Autonomy level".into(), w.autonomy_level.to_string()),
    ]
}

async fn task_type_views(
    db: &crate::db::Db,
    workflow_id: i64,
) -> Result<Vec<TaskTypeView>, crate::db::DbError> {
    use crate::db::workflow;
    use crate::domain::rule::Rule;
    use crate::domain::time::format_instant;

    let task_types = workflow::list_task_types(db, workflow_id).await?;
    let segments = workflow::all_segments(db).await?;
    let rules = workflow::workflow_rules(db, workflow_id).await?;
    let baselines = crate::db::baseline::list_baselines(db).await?;
    let now = crate::db::now_ms();
    Ok(task_types
        .into_iter()
        .map(|t| {
            let current = crate::model::HumanBaseline::in_force(&baselines, t.id, now);
            let form = crate::service::success::baseline_form(current);
            (t, form)
        })
        .map(|(t, (minutes, source, reference))| TaskTypeView {
            baseline_minutes: minutes,
            baseline_source: source,
            baseline_reference: reference,
            baseline_history: baselines
                .iter()
                .filter(|b| b.task_type_id == t.id)
                .map(crate::service::success::baseline_words)
                .collect(),
            segments: segments
                .iter()
                .filter(|(id, _)| *id == t.id)
                .map(|(_, s)| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            rules: rules
                .iter()
                .filter(|r| r.task_type_id == t.id)
                .map(|r| RuleVersion {
                    version: r.version,
                    description: Rule::from_json(&r.definition)
                        .map(|rule| rule.describe())
                        .unwrap_or_else(|e| format!("unreadable rule: {e}")),
                    definition: r.definition.clone(),
                    effective_from: format_instant(r.effective_from),
                })
                .collect(),
            id: t.id,
            slug: t.slug,
            name: t.name,
            user_goal: t.user_goal,
            pass_condition: t.pass_condition,
            review_method: t.review_method.as_str().to_owned(),
        })
        .collect())
}

/// The workflow's last 30 days by cost component, task type and segment.
fn economics(
    catalog: &crate::db::catalog::Catalog,
    flow: &crate::model::Workflow,
    recent: &Recent<'_>,
) -> Result<Economics, crate::db::DbError> {
    use crate::domain::time::format_day;
    use crate::report::figures::{Filter, GroupFigures, Grouping, figures};

    let window = recent.window;
    let ledger = catalog.ledger(window, recent.rows);
    let filter = Filter {
        workflow_ids: Some(vec![flow.id]),
        ..Filter::default()
    };
    let row = |group: &GroupFigures, filter: String| EconomicsRow {
        label: group.label.clone(),
        filter,
        decided: group.set.counts.decided(),
        success_rate: group.set.success_rate().map(|p| p.value),
        cpst: group.set.cost_per_successful_task(),
        cost_per_attempted: group.set.cost_per_attempted_task(),
        total: group.set.total_cost(),
    };
    let whole = figures(&ledger, &filter, Grouping::All)?.pop();
    let all = whole
        .as_ref()
        .map(|g| row(g, String::new()))
        .unwrap_or(EconomicsRow {
            label: "All tasks".into(),
            filter: String::new(),
            decided: 0,
            success_rate: None,
            cpst: Cpst::NoSuccessfulTasks,
            cost_per_attempted: None,
            total: Micros(0),
        });
    let breakdown = whole.map(|g| g.set.costs).unwrap_or_default();
    // A set from `figures` has a total in range (TaskSet checks every addition).
    let total = breakdown.total().unwrap_or(Micros::ZERO);
    let savings = crate::report::savings::savings_by_workflow(&ledger, &catalog.baselines)?
        .remove(&flow.id)
        .unwrap_or_default();
    Ok(Economics {
        savings,
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        components: breakdown
            .components()
            .iter()
            .enumerate()
            .filter(|(index, _)| {
                crate::domain::cpst::CostBreakdown::shows_component(*index, [&breakdown])
            })
            .map(|(_, (name, amount))| {
                let share = (total.0 > 0).then(|| amount.0 as f64 / total.0 as f64);
                ((*name).to_owned(), *amount, share)
            })
            .collect(),
        all,
        by_task_type: figures(&ledger, &filter, Grouping::TaskType)?
            .iter()
            .map(|g| {
                let slug = catalog
                    .task_types
                    .iter()
                    .find(|t| t.id.to_string() == g.key)
                    .map(|t| t.slug.clone())
                    .unwrap_or_default();
                row(g, format!("task_type={slug}"))
            })
            .collect(),
        by_segment: figures(&ledger, &filter, Grouping::Segment)?
            .iter()
            .map(|g| {
                row(
                    g,
                    format!(
                        "segment={}",
                        crate::views::format::encode_query_value(&g.key)
                    ),
                )
            })
            .collect(),
    })
}

/// What changed between the last 30 days and the 30 before (see [`ChangePanel`]).
async fn changes(
    db: &crate::db::Db,
    catalog: &Catalog,
    flow: &Workflow,
    handle: &str,
    recent: &Recent<'_>,
) -> Result<ChangePanel, crate::db::DbError> {
    use crate::domain::time::{MS_PER_DAY, day_of, format_day};
    use crate::report::figures::{Filter, Grouping, figures};

    let window = recent.window;
    let before = window.previous();
    let filter = Filter {
        workflow_ids: Some(vec![flow.id]),
        ..Filter::default()
    };
    let whole = |w, rows: &[crate::model::TaskRollup]| {
        let found = figures(&catalog.ledger(w, rows), &filter, Grouping::All)?.pop();
        Ok::<_, crate::db::DbError>(found.map(|g| g.set).unwrap_or_default())
    };
    let now_set = whole(window, recent.rows)?;
    let before_set = whole(before, recent.before)?;
    let per_success =
        |set: &crate::domain::cpst::TaskSet, amount: Micros| amount.per(set.counts.succeeded);
    let mut components: Vec<ComponentChange> = now_set
        .costs
        .components()
        .iter()
        .zip(before_set.costs.components())
        .map(|((name, now), (_, then))| ComponentChange {
            name: (*name).to_owned(),
            per_success: per_success(&now_set, *now),
            per_success_before: per_success(&before_set, then),
        })
        .collect();
    let moved = |c: &ComponentChange| match (c.per_success, c.per_success_before) {
        (Some(now), Some(then)) => (now.0 - then.0).unsigned_abs(),
        (Some(one), None) | (None, Some(one)) => one.0.unsigned_abs(),
        (None, None) => 0,
    };
    components.sort_by_key(|c| std::cmp::Reverse(moved(c)));
    components.retain(|c| moved(c) > 0);
    components.truncate(3);
    // Anything that took effect since the earlier period began moves the comparison.
    let in_window = |at: i64| {
        let day = at.div_euclid(MS_PER_DAY);
        before.first_day <= day && day <= window.last_day
    };
    let versions = catalog.versions_of(flow.id);
    let version_changes = versions
        .iter()
        .enumerate()
        .filter(|(_, v)| in_window(v.first_seen_at))
        .map(|(i, v)| {
            let enc = crate::views::format::encode_query_value;
            let compare = match i.checked_sub(1).and_then(|j| versions.get(j)) {
                Some(previous) => format!(
                    "/workflows/{handle}/compare?baseline={}&candidate={}",
                    enc(&previous.label),
                    enc(&v.label)
                ),
                None => format!("/workflows/{handle}/compare?candidate={}", enc(&v.label)),
            };
            VersionChange {
                label: v.label.clone(),
                since: format_day(day_of(v.first_seen_at)),
                compare,
            }
        })
        .collect();
    let task_types = workflow::list_task_types(db, flow.id).await?;
    let rules = workflow::workflow_rules(db, flow.id)
        .await?
        .into_iter()
        .filter(|r| in_window(r.effective_from))
        .map(|r| {
            let task_type = task_types.iter().find(|t| t.id == r.task_type_id);
            format!(
                "{}: rule v{} from {}",
                task_type.map_or("?", |t| t.name.as_str()),
                r.version,
                format_day(day_of(r.effective_from))
            )
        })
        .collect();
    Ok(ChangePanel {
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        before_from: format_day(before.first_day),
        before_to: format_day(before.last_day),
        cpst: now_set.cost_per_successful_task(),
        cpst_before: before_set.cost_per_successful_task(),
        success_rate: now_set.success_rate().map(|p| p.value),
        success_rate_before: before_set.success_rate().map(|p| p.value),
        components,
        versions: version_changes,
        rules,
    })
}

/// The workflow's last 30 days as an engineer reads them.
async fn engineering(
    db: &crate::db::Db,
    catalog: &crate::db::catalog::Catalog,
    flow: &crate::model::Workflow,
    recent: &Recent<'_>,
) -> Result<EngineeringHealth, crate::db::DbError> {
    use crate::db::catalog::window_spreads;
    use crate::db::rollup::call_rollups;
    use crate::report::figures::{Filter, Grouping, figures};
    use std::collections::BTreeMap;

    let (window, rows) = (recent.window, recent.rows);
    let filter = Filter {
        workflow_ids: Some(vec![flow.id]),
        ..Filter::default()
    };
    let group = figures(&catalog.ledger(window, rows), &filter, Grouping::All)?.pop();
    let detail = window_spreads(db, flow.id, window).await?.detail();
    let escalated: u64 = detail.escalation_reasons.iter().map(|(_, n)| n).sum();
    let mut running = 0;
    let escalations = detail
        .escalation_reasons
        .iter()
        .map(|(reason, n)| {
            running += n;
            (reason.clone(), *n, running as f64 / escalated.max(1) as f64)
        })
        .collect();
    let mut steps: BTreeMap<(String, String), (i64, i64, i64, i64)> = BTreeMap::new();
    for call in call_rollups(db, window.first_day, window.last_day, Some(flow.id)).await? {
        let model = match call.model.as_str() {
            "" => String::new(),
            model => format!("{}/{model}", call.provider),
        };
        let entry = steps.entry((call.step, model)).or_default();
        entry.0 += call.calls;
        entry.1 += call.errors;
        entry.2 += call.cost_micros;
        entry.3 += call.latency_ms;
    }
    let usage = group.as_ref().map(|g| g.usage).unwrap_or_default();
    Ok(EngineeringHealth {
        success: group
            .as_ref()
            .and_then(|g| g.set.success_rate())
            .map(|p| (p.value, p.lower, p.upper)),
        pass_at_1: group.as_ref().and_then(|g| g.pass_at_1()),
        pass_at_3: group.as_ref().and_then(|g| g.pass_at_3()),
        retry_rate: group.as_ref().and_then(|g| g.retry_rate()),
        calls_per_task: usage.per_task(usage.calls),
        tokens_per_task: usage.per_task(usage.input_tokens + usage.output_tokens),
        latency_ms: (
            detail.latency_ms.median,
            detail.latency_ms.p95,
            detail.latency_ms.max,
        ),
        cost_per_task: (
            Micros(detail.cost.median),
            Micros(detail.cost.p95),
            Micros(detail.cost.max),
        ),
        costliest_share: detail
            .costliest_5pct_share_bp
            .map(|bp| bp as f64 / 10_000.0),
        costliest: detail
            .costliest
            .iter()
            .map(|t| {
                (
                    t.id,
                    t.external_id.clone(),
                    t.status.label().to_owned(),
                    t.cost,
                )
            })
            .collect(),
        escalations,
        cost_histogram: detail.cost_histogram.clone(),
        steps: steps
            .into_iter()
            .map(|((step, model), (calls, errors, cost, latency))| {
                let error_rate = errors as f64 / calls.max(1) as f64;
                (
                    step,
                    model,
                    calls,
                    error_rate,
                    Micros(cost),
                    latency / calls.max(1),
                )
            })
            .collect(),
    })
}

/// The trend's days: twelve whole weeks from a Monday (day 0 was a Thursday), this one being
/// the last, or the last 30 days.
fn trend_window(today: i64, by: TrendBy) -> crate::report::Window {
    match by {
        TrendBy::Week => crate::report::Window {
            first_day: today - (today + 3).rem_euclid(7) - 77,
            last_day: today,
        },
        TrendBy::Day => crate::report::Window::ending(today, 30),
    }
}

/// Twelve weeks (or thirty days) of success rate, CPST and spend by component, marking where
/// a rule version or a configuration version took effect: figures on either side of a
/// baseline measure different things. Over `window` (see [`trend_window`]), from `rows`,
/// rollup rows of at least its days in day order.
async fn trend(
    db: &crate::db::Db,
    catalog: &crate::db::catalog::Catalog,
    flow: &crate::model::Workflow,
    today: i64,
    by: TrendBy,
    window: crate::report::Window,
    rows: &[crate::model::TaskRollup],
) -> Result<Vec<TrendRow>, crate::db::DbError> {
    use crate::db::workflow;
    use crate::domain::time::MS_PER_DAY;
    use crate::report::figures::{Filter, Grouping, figures};

    let grouping = match by {
        TrendBy::Week => Grouping::Week,
        TrendBy::Day => Grouping::Day,
    };
    let rows = window.slice(rows);
    let filter = Filter {
        workflow_ids: Some(vec![flow.id]),
        ..Filter::default()
    };
    let groups = figures(&catalog.ledger(window, rows), &filter, grouping)?;
    let rules = workflow::workflow_rules(db, flow.id).await?;
    let task_types = workflow::list_task_types(db, flow.id).await?;
    let versions = catalog.versions_of(flow.id);
    Ok(groups
        .into_iter()
        .map(|group| {
            let within = |at: i64| {
                let day = at.div_euclid(MS_PER_DAY);
                day >= group.window.first_day && day <= group.window.last_day
            };
            let mut baselines: Vec<String> = rules
                .iter()
                .filter(|r| within(r.effective_from))
                .map(|r| {
                    let name = task_types
                        .iter()
                        .find(|t| t.id == r.task_type_id)
                        .map_or("", |t| t.name.as_str());
                    format!("{name} rule v{}", r.version)
                })
                .collect();
            baselines.extend(
                versions
                    .iter()
                    .filter(|v| within(v.first_seen_at))
                    .map(|v| format!("configuration {}", v.label)),
            );
            TrendRow {
                period: crate::domain::time::format_day(group.window.first_day),
                decided: group.set.counts.decided(),
                success_rate: group.set.success_rate().map(|p| p.value),
                cpst: group.set.cost_per_successful_task(),
                costs: group.set.costs,
                baselines,
                partial: group.window.last_day >= today,
            }
        })
        .collect())
}
