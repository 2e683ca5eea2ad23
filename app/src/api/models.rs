//! Procurement: weighted CPST per model and each workflow's cheapest model per success.

use crate::error::AppError;
use crate::report::models::ModelComparison;
use leptos::prelude::*;

/// Models over the last `days` days, or from `from` to `to` (dates) when given, across the
/// workflows the viewer sees.
#[server(prefix = "/rpc", endpoint = "get_models")]
pub async fn get_models(
    days: i64,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
) -> Result<ModelComparison, AppError> {
    use crate::api::context::{chosen_window, db, viewer_who};

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let window = chosen_window(days, from, to)?;
    crate::service::figures::models_page(&db()?, &viewer, window).await
}
