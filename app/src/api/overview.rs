//! The finance overview: CPST and spend per workflow and team over a period.

use crate::report::Overview;
use leptos::prelude::*;

/// Periods the overview offers, in days.
pub const PERIODS: [i64; 3] = [7, 30, 90];

#[server(prefix = "/rpc")]
pub async fn get_overview(days: i64) -> Result<Overview, ServerFnError> {
    use crate::api::context::{db, storage_failure};
    use crate::db::now_ms;
    use crate::db::report::{Catalog, window_rows};
    use crate::domain::time::day_of;
    use crate::report::{Window, overview};

    let days = days.clamp(1, 366);
    let db = db()?;
    let window = Window::ending(day_of(now_ms()), days);
    let load = async {
        let catalog = Catalog::load(&db).await?;
        let current = window_rows(&db, window).await?;
        let previous = window_rows(&db, window.previous()).await?;
        Ok::<_, crate::db::DbError>(overview(&catalog.ledger(window, &current), &previous))
    };
    load.await.map_err(storage_failure)
}
