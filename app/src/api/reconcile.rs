//! Reconciliation with the provider's bill: the page's figures and the finance settings.

use crate::error::AppError;
use crate::views::reconcile::ReconciliationView;
use leptos::prelude::*;

/// The bill against the calls over the last `days` days, or `from` to `to`, by day or month.
#[server(prefix = "/rpc", endpoint = "get_reconciliation")]
pub async fn get_reconciliation(
    days: i64,
    #[server(default)] from: Option<String>,
    #[server(default)] to: Option<String>,
    #[server(default)] by_month: bool,
) -> Result<ReconciliationView, AppError> {
    use crate::api::context::{chosen_window, db, viewer_who};

    let viewer = viewer_who(
        |v| v.sees_every_team(),
        "the providers' bills, which cover every team",
    )?;
    let window = chosen_window(days, from, to)?;
    crate::service::reconcile::reconciliation_page(
        &db()?,
        &viewer,
        window.first_day,
        window.last_day,
        by_month,
    )
    .await
}

/// Saves the reconciliation threshold and whether unattributed spend is allocated.
#[server(prefix = "/rpc", endpoint = "save_finance_settings")]
pub async fn save_finance_settings(
    threshold: String,
    #[server(default)] allocate_unattributed: Option<String>,
) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.edits_costs(), "changing how bills are reconciled")?;
    crate::service::reconcile::save_finance_settings(
        &db()?,
        Actor::of(&viewer),
        &viewer,
        &threshold,
        allocate_unattributed.is_some(),
        crate::db::now_ms(),
    )
    .await
}
