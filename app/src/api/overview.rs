//! The finance overview: CPST and spend per workflow and team over a period.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::views::overview::GateState;
use crate::views::overview::OverviewPage;
use leptos::prelude::*;

/// The overview over the last `days` days, or from `from` to `to` (dates) when given.
#[server(prefix = "/rpc", endpoint = "get_overview")]
pub async fn get_overview(
    days: i64,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<OverviewPage, AppError> {
    use crate::api::context::{chosen_window, db, viewer_who};
    use crate::db::catalog::Catalog;
    use crate::domain::time::day_of;
    use crate::report::overview;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let window = chosen_window(days, from, to)?;
    let db = db()?;
    let load = async {
        // Owners see their teams' workflows only: the others leave the catalogue and the rows.
        let catalog = Catalog::load_for(&db, &viewer).await?;
        let current = catalog.window_rows(&db, window).await?;
        let previous = catalog.window_rows(&db, window.previous()).await?;
        let gates = crate::db::gate::latest_evaluations(&db)
            .await?
            .into_iter()
            .filter(|e| catalog.workflows.iter().any(|w| w.id == e.workflow_id))
            .map(|e| GateState {
                workflow_id: e.workflow_id,
                passes: e.quality_proven && e.cost_proven,
                evaluated: crate::domain::time::format_day(day_of(e.evaluated_at)),
            })
            .collect();
        Ok::<_, crate::db::DbError>(OverviewPage {
            overview: overview(&catalog.ledger(window, &current), &previous)?,
            gates,
        })
    };
    load.await.map_err(AppError::from)
}
