//! The finance overview: CPST and spend per workflow and team over a period.

use crate::report::Overview;
use leptos::prelude::*;

/// Periods the overview offers, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];

#[server(prefix = "/rpc")]
pub async fn get_overview(days: i64) -> Result<Overview, ServerFnError> {
    use crate::api::context::{db, storage_failure};
    use crate::db::{identity, now_ms, platform_cost, rollup, workflow};
    use crate::domain::time::day_of;
    use crate::report::{OverviewInputs, Window, overview};

    let days = days.clamp(1, 366);
    let db = db()?;
    let window = Window::ending(day_of(now_ms()), days);
    let previous_window = window.previous();
    let load = async {
        let workflows = workflow::list_workflows(&db).await?;
        let teams = identity::list_teams(&db).await?;
        let platform_costs = platform_cost::list_platform_costs(&db).await?;
        let current = rollup::task_rollups(&db, window.first_day, window.last_day, None).await?;
        let previous = rollup::task_rollups(
            &db,
            previous_window.first_day,
            previous_window.last_day,
            None,
        )
        .await?;
        Ok::<_, crate::db::DbError>(overview(&OverviewInputs {
            window,
            workflows: &workflows,
            teams: &teams,
            platform_costs: &platform_costs,
            current: &current,
            previous: &previous,
        }))
    };
    load.await.map_err(storage_failure)
}
