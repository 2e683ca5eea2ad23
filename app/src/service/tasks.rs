//! The task list: filters read from the address, checked and turned into a search; rows as the
//! page and the CSV export show them.

use crate::db::Db;
use crate::db::catalog::Catalog;
use crate::db::task::{TASK_SORTS, TaskListRow, TaskSearch};
use crate::domain::Micros;
use crate::domain::status::TaskStatus;
use crate::domain::time::{MS_PER_DAY, day_of, format_day, format_instant};
use crate::error::AppError;
use crate::report::{PeriodAsked, PeriodLimits};
use crate::service::exports::csv_field;
use crate::views::access::Viewer;
use crate::views::choice::Choice;
use crate::views::tasks::{PAGE_SIZE, TaskLine, TaskList, TaskQuery};

/// One page of the tasks `viewer` may see that match `query`, with the choices its filters
/// offer, or the first bad filter by name.
pub async fn list(
    db: &Db,
    viewer: &Viewer,
    query: &TaskQuery,
    now: i64,
) -> Result<TaskList, AppError> {
    let catalog = Catalog::load(db).await?;
    let (search, window) =
        search_of(viewer, &catalog, query, now).map_err(AppError::from_field_problem)?;
    let page = match query.page.trim() {
        "" => 0,
        text => text
            .parse::<u64>()
            .ok()
            .filter(|page| *page <= crate::domain::bounds::MAX_PAGE)
            .ok_or_else(|| {
                AppError::from_field_problem(format!(
                    "page: must be a whole number from 0 to {}",
                    crate::domain::bounds::MAX_PAGE
                ))
            })?,
    };
    let load = async {
        let total = crate::db::task::count_tasks(db, &search).await?;
        let rows = crate::db::task::search_tasks(
            db,
            &search,
            &query.sort,
            PAGE_SIZE,
            page as i64 * PAGE_SIZE,
        )
        .await?;
        Ok::<_, crate::db::DbError>((total, rows))
    };
    let (total, rows) = load.await?;
    let visible: Vec<&crate::model::Workflow> = catalog
        .workflows
        .iter()
        .filter(|w| viewer.sees_team(w.team_id))
        .collect();
    let chosen = search.workflow_id;
    Ok(TaskList {
        rows: rows.iter().map(|row| line(&catalog, row)).collect(),
        total,
        page,
        pages: (total.max(0) as u64).div_ceil(PAGE_SIZE as u64),
        window,
        workflows: visible
            .iter()
            .map(|w| Choice {
                value: crate::model::workflow_handle(w, visible.iter().copied(), &catalog.teams),
                label: w.name.clone(),
            })
            .collect(),
        task_types: catalog
            .task_types
            .iter()
            .filter(|t| chosen == Some(t.workflow_id))
            .map(|t| Choice {
                value: t.slug.clone(),
                label: t.name.clone(),
            })
            .collect(),
        versions: catalog
            .config_versions
            .iter()
            .filter(|v| chosen == Some(v.workflow_id))
            .map(|v| Choice {
                value: v.label.clone(),
                label: v.label.clone(),
            })
            .collect(),
    })
}

/// Checks the filters and builds the search, or names the first bad filter. Also returns the
/// window in words.
pub fn search_of(
    viewer: &Viewer,
    catalog: &Catalog,
    query: &TaskQuery,
    now: i64,
) -> Result<(TaskSearch, String), String> {
    let given = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let workflow = match given(&query.workflow) {
        None => None,
        Some(slug) => Some(
            crate::model::find_workflow(
                catalog
                    .workflows
                    .iter()
                    .filter(|w| viewer.sees_team(w.team_id)),
                &catalog.teams,
                &slug,
            )
            .map_err(|lookup| match lookup {
                crate::model::NameLookup::Unknown => {
                    format!("workflow: no workflow '{slug}' you may see")
                }
                crate::model::NameLookup::Ambiguous => {
                    format!("workflow: {}", crate::model::ambiguous_name(&slug))
                }
            })?,
        ),
    };
    let needs_workflow = |field: &str| format!("{field}: choose a workflow first");
    let task_type_id = match given(&query.task_type) {
        None => None,
        Some(slug) => {
            let flow = workflow.ok_or_else(|| needs_workflow("task_type"))?;
            Some(
                catalog
                    .task_types
                    .iter()
                    .find(|t| t.workflow_id == flow.id && t.slug == slug)
                    .ok_or_else(|| format!("task_type: '{}' has no task type '{slug}'", flow.slug))?
                    .id,
            )
        }
    };
    let config_version_id = match given(&query.version) {
        None => None,
        Some(label) => {
            let flow = workflow.ok_or_else(|| needs_workflow("version"))?;
            Some(
                catalog
                    .config_versions
                    .iter()
                    .find(|v| v.workflow_id == flow.id && v.label == label)
                    .ok_or_else(|| format!("version: '{}' has no version '{label}'", flow.slug))?
                    .id,
            )
        }
    };
    let status = match given(&query.status) {
        None => None,
        // Every task with a verdict: the tasks CPST, success rates and distributions count.
        Some(text) if text == "decided" => Some(text),
        Some(text) => Some(
            text.parse::<TaskStatus>()
                .map_err(|e| format!("status: {e}"))?
                .as_str()
                .to_owned(),
        ),
    };
    let window = PeriodAsked {
        from: &query.from,
        to: &query.to,
        days: "",
    }
    .window("", PeriodLimits::PAGE, 30, day_of(now))
    .map_err(|error| error.to_string())?;
    let (first_day, last_day) = (window.first_day, window.last_day);
    let money = |field: &str, text: &str| {
        Micros::parse_dollars(text.trim())
            .ok()
            .filter(|m| m.0 >= 0)
            .map(|m| m.0)
            .ok_or_else(|| format!("{field}: must be an amount in dollars like 0.50"))
    };
    let min_cost = given(&query.min_cost)
        .map(|t| money("min_cost", &t))
        .transpose()?;
    let max_cost = given(&query.max_cost)
        .map(|t| money("max_cost", &t))
        .transpose()?;
    if let Some(sort) = given(&query.sort)
        && !TASK_SORTS.iter().any(|(name, _)| *name == sort)
    {
        let names: Vec<&str> = TASK_SORTS.iter().map(|(name, _)| *name).collect();
        return Err(format!("sort: must be one of {}", names.join(", ")));
    }
    let search = TaskSearch {
        workflow_id: workflow.map(|w| w.id),
        status,
        task_type_id,
        segment: given(&query.segment),
        config_version_id,
        model: given(&query.model),
        escalation_reason: given(&query.reason),
        from: first_day * MS_PER_DAY,
        to: (last_day + 1) * MS_PER_DAY,
        min_cost,
        max_cost,
        user_id: viewer.user_id,
        all_teams: viewer.sees_every_team(),
    };
    Ok((
        search,
        format!(
            "{} to {} (UTC)",
            format_day(first_day),
            format_day(last_day)
        ),
    ))
}

/// A row with names instead of ids.
pub fn line(catalog: &Catalog, row: &TaskListRow) -> TaskLine {
    TaskLine {
        id: row.id,
        external_id: row.external_id.clone(),
        workflow: catalog
            .workflows
            .iter()
            .find(|w| w.id == row.workflow_id)
            .map(|w| w.name.clone())
            .unwrap_or_default(),
        task_type: catalog
            .task_types
            .iter()
            .find(|t| t.id == row.task_type_id)
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        segment: row.segment.clone(),
        version: catalog
            .config_versions
            .iter()
            .find(|v| v.id == row.config_version_id)
            .map(|v| v.label.clone())
            .unwrap_or_default(),
        model: row.primary_model.clone(),
        status: row.status.clone(),
        started: format_instant(row.started_at),
        duration: format!("{:.1} s", row.duration_ms as f64 / 1000.0),
        cost: Micros(row.total_cost).precise().to_string(),
        attempts: row.attempt_count,
        calls: row.call_count,
        tokens: row.token_count,
        escalation_reason: row.escalation_reason.clone(),
    }
}

/// The header and the rows of a task export. Money is exact dollars (six decimals), not the
/// rounded figure a page shows.
pub fn csv(catalog: &Catalog, rows: &[TaskListRow]) -> String {
    let mut out = String::from(
        "task_id,workflow,task_type,segment,version,model,status,started_at,duration_ms,total_cost_usd,attempts,calls,tokens,escalation_reason\r\n",
    );
    for row in rows {
        let line = line(catalog, row);
        let fields = [
            line.external_id,
            line.workflow,
            line.task_type,
            line.segment,
            line.version,
            line.model,
            line.status,
            line.started,
            row.duration_ms.to_string(),
            crate::views::format::plain_dollars(Micros(row.total_cost)),
            row.attempt_count.to_string(),
            row.call_count.to_string(),
            row.token_count.to_string(),
            line.escalation_reason,
        ];
        let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}
