//! The finance overview: CPST and spend per workflow and team over a period.

use crate::error::AppError;

use crate::report::Overview;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A workflow's autonomy gate as last recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateState {
    pub workflow_id: i64,
    pub passes: bool,
    /// When it was judged (the server records it daily and with every level change).
    pub evaluated: String,
}

/// The overview's figures and each workflow's last gate evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewPage {
    pub overview: Overview,
    pub gates: Vec<GateState>,
}

/// Periods the overview offers, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];

/// The overview over the last `days` days, or from `from` to `to` (dates) when given.
#[server(prefix = "/rpc", endpoint = "get_overview")]
pub async fn get_overview(
    days: i64,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<OverviewPage, AppError> {
    use crate::api::context::{chosen_window, db, viewer_who};
    use crate::db::report::Catalog;
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
