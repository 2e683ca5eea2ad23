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

/// The overview over `window`, with each workflow's latest gate verdict, its workflows ordered
/// by how far over budget they are. Owners see their
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
    let mut overview = crate::report::overview(&catalog.ledger(window, &current), &previous)
        .map_err(DbError::from)?;
    for row in &mut overview.workflows {
        row.slug = handle(&catalog, row.workflow_id);
    }
    // Furthest over budget first (in percent, so small and large workflows compare); those
    // without a successful task, whose CPST cannot be computed, last.
    overview.workflows.sort_by(|a, b| {
        let variance = |w: &crate::report::WorkflowFigures| {
            w.set.cost_per_successful_task().variance_to(w.budget)
        };
        match (variance(a), variance(b)) {
            (Some(a), Some(b)) => b.total_cmp(&a),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        }
    });
    let bill_coverage = crate::service::reconcile::coverage_sentences(
        db,
        viewer,
        window.first_day,
        window.last_day,
    )
    .await?;
    Ok(OverviewPage {
        overview,
        gates,
        bill_coverage,
    })
}

/// Models over `window`: weighted CPST per model and each workflow's cheapest model per success.
pub async fn models_page(
    db: &Db,
    viewer: &Viewer,
    window: Window,
) -> Result<ModelComparison, AppError> {
    let catalog = Catalog::load_for(db, viewer).await?;
    let rows = catalog.window_rows(db, window).await?;
    let durations = crate::db::catalog::model_durations(db, window).await?;
    let mut compared = compare_models(
        &catalog.ledger(window, &rows),
        &Filter::default(),
        &durations,
    )
    .map_err(DbError::from)?;
    for model in &mut compared.models {
        for row in &mut model.workflows {
            row.workflow_slug = handle(&catalog, row.workflow_id);
        }
    }
    for row in &mut compared.winners {
        row.workflow_slug = handle(&catalog, row.workflow_id);
    }
    Ok(compared)
}

/// The pages link a workflow by its handle (`team:slug` where the viewer sees two workflows
/// with one slug), not by the bare slug the figures carry.
fn handle(catalog: &Catalog, workflow_id: i64) -> String {
    let found = catalog.workflows.iter().find(|w| w.id == workflow_id);
    found.map(|w| catalog.handle(w)).unwrap_or_default()
}
