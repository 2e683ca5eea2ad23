//! The finance overview: CPST and spend per workflow and team over a period.

use crate::report::Overview;
use leptos::prelude::*;

/// Periods the overview offers, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];

#[server(prefix = "/rpc", endpoint = "get_overview")]
pub async fn get_overview(days: i64) -> Result<Overview, ServerFnError> {
    use crate::api::context::{db, storage_failure, viewer_who};
    use crate::db::now_ms;
    use crate::db::report::{Catalog, window_rows};
    use crate::domain::time::day_of;
    use crate::report::{Window, overview};

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let days = days.clamp(1, 366);
    let db = db()?;
    let window = Window::ending(day_of(now_ms()), days);
    let load = async {
        // Owners see their teams' workflows only: the others leave the catalogue and the rows.
        let mut catalog = Catalog::load(&db).await?;
        catalog.workflows.retain(|w| viewer.sees_team(w.team_id));
        catalog.teams.retain(|t| viewer.sees_team(t.id));
        let visible = |row: &crate::model::TaskRollup| {
            catalog.workflows.iter().any(|w| w.id == row.workflow_id)
        };
        let mut current = window_rows(&db, window).await?;
        current.retain(visible);
        let mut previous = window_rows(&db, window.previous()).await?;
        previous.retain(visible);
        Ok::<_, crate::db::DbError>(overview(&catalog.ledger(window, &current), &previous))
    };
    load.await.map_err(storage_failure)
}
