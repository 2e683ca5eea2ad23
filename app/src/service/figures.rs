//! The finance figures: the overview of CPST and spend per workflow and team, and the models
//! compared by weighted CPST, over a period, across the workflows the viewer sees.

use crate::db::catalog::Catalog;
use crate::db::{Db, DbError};
use crate::domain::time::{day_of, format_day};
use crate::error::AppError;
use crate::report::Window;
use crate::report::figures::Filter;
use crate::report::models::{ModelComparison, compare_models};
use crate::views::access::Viewer;
use crate::views::overview::{GateState, OverviewPage};

/// The overview over `window`, with each workflow's latest gate verdict. Owners see their
/// teams' workflows only: the others leave the catalogue and the rows.
pub async fn overview_page(
    db: &Db,
    viewer: &Viewer,
    window: Window,
) -> Result<OverviewPage, AppError> {
    let catalog = Catalog::load_for(db, viewer).await?;
    let current = catalog.window_rows(db, window).await?;
    let previous = catalog.window_rows(db, window.previous()).await?;
    let gates = crate::db::gate::latest_evaluations(db)
        .await?
        .into_iter()
        .filter(|e| catalog.workflows.iter().any(|w| w.id == e.workflow_id))
        .map(|e| GateState {
            workflow_id: e.workflow_id,
            passes: e.quality_proven && e.cost_proven,
            evaluated: format_day(day_of(e.evaluated_at)),
        })
        .collect();
    let overview = crate::report::overview(&catalog.ledger(window, &current), &previous)
        .map_err(DbError::from)?;
    Ok(OverviewPage { overview, gates })
}

/// Models over `window`: weighted CPST per model and each workflow's cheapest model per success.
pub async fn models_page(
    db: &Db,
    viewer: &Viewer,
    window: Window,
) -> Result<ModelComparison, AppError> {
    let catalog = Catalog::load_for(db, viewer).await?;
    let rows = catalog.window_rows(db, window).await?;
    let compared = compare_models(&catalog.ledger(window, &rows), &Filter::default())
        .map_err(DbError::from)?;
    Ok(compared)
}
