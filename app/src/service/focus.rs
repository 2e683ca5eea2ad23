//! The FOCUS export: the period's costs of every workflow the reader sees, as FOCUS 1.2 rows
//! (see `report::focus`), written as CSV.

use crate::db::catalog::Catalog;
use crate::db::{Db, DbError, rollup};
use crate::domain::attribution::call_costs;
use crate::domain::time::{MS_PER_DAY, format_day};
use crate::error::AppError;
use crate::report::Window;
use crate::report::figures::{Filter, Grouping, figures};
use crate::report::focus::{COLUMNS, WorkflowSlice, rows};
use crate::service::exports::{csv_field, file_name};
use crate::views::access::Viewer;
use std::collections::HashMap;

/// The export's file name and CSV text for `window`.
pub async fn focus_csv(
    db: &Db,
    viewer: &Viewer,
    window: Window,
) -> Result<(String, String), AppError> {
    // Its rows are made call by call: the calls of sealed days are removed.
    if let Some(kept) = crate::db::retention::state(db).await?
        && window.first_day <= kept.sealed_through_day
    {
        return Err(AppError::invalid(
            "from",
            format!(
                "the FOCUS export is made from each call, and the calls of every day up to {} were removed under the retention setting: choose a period that starts later (the figures of earlier periods are kept on every page)",
                format_day(kept.sealed_through_day)
            ),
        ));
    }
    let catalog = Catalog::load_for(db, viewer).await?;
    let rollups = catalog.window_rows(db, window).await?;
    let ledger = catalog.ledger(window, &rollups);
    let slugs: HashMap<i64, String> = catalog
        .task_types
        .iter()
        .map(|t| (t.id, t.slug.clone()))
        .collect();
    let mut slices: HashMap<(i64, i64), Vec<crate::model::TaskRollup>> = HashMap::new();
    for row in &rollups {
        slices
            .entry((row.workflow_id, row.day))
            .or_default()
            .push(row.clone());
    }
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for workflow in &catalog.workflows {
        let Some(team) = catalog.teams.iter().find(|t| t.id == workflow.team_id) else {
            continue;
        };
        let filter = Filter {
            workflow_ids: Some(vec![workflow.id]),
            ..Filter::default()
        };
        let mut by_day: HashMap<i64, _> = figures(&ledger, &filter, Grouping::Day)
            .map_err(DbError::from)?
            .into_iter()
            .map(|d| (d.window.first_day, d))
            .collect();
        // One day at a time: a day's calls share their cache pools, and a long period of a
        // busy workflow never sits in memory at once.
        for day in window.first_day..=window.last_day {
            let (tasks, calls) = {
                let mut tx = db.begin_snapshot().await?;
                rollup::load_slice(
                    &mut tx,
                    workflow.id,
                    day * MS_PER_DAY,
                    (day + 1) * MS_PER_DAY,
                    i64::MIN,
                )
                .await?
            };
            let costs: Vec<_> = calls.iter().map(|c| c.cost.clone()).collect();
            let call_parts = call_costs(&costs).map_err(DbError::from)?;
            let own = slices.remove(&(workflow.id, day)).unwrap_or_default();
            let today: Vec<_> = by_day.remove(&day).into_iter().collect();
            let slice = WorkflowSlice {
                workflow_slug: &workflow.slug,
                workflow_name: &workflow.name,
                team_slug: &team.slug,
                team_name: &team.name,
                task_types: &slugs,
                tasks: &tasks,
                calls: &calls,
                call_parts: &call_parts,
                rollups: &own,
                days: &today,
            };
            for row in rows(&slice).map_err(DbError::from)? {
                let fields: Vec<String> = row.fields().iter().map(|f| csv_field(f)).collect();
                out.push_str(&fields.join(","));
                out.push_str("\r\n");
            }
        }
    }
    let name = file_name(&[
        "focus",
        &format_day(window.first_day),
        "to",
        &format_day(window.last_day),
    ]);
    Ok((name, out))
}
