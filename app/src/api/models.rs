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
    use crate::db::catalog::Catalog;
    use crate::report::figures::Filter;
    use crate::report::models::compare_models;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    let window = chosen_window(days, from, to)?;
    let db = db()?;
    let load = async {
        let catalog = Catalog::load_for(&db, &viewer).await?;
        let rows = catalog.window_rows(&db, window).await?;
        Ok::<_, crate::db::DbError>(compare_models(
            &catalog.ledger(window, &rows),
            &Filter::default(),
        )?)
    };
    load.await.map_err(AppError::from)
}
