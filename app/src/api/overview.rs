//! The finance overview: CPST and spend per workflow and team over a period.

use crate::error::AppError;
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

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let window = chosen_window(days, from, to)?;
    crate::service::figures::overview_page(&db()?, &viewer, window).await
}
