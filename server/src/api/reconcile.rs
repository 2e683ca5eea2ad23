//! `GET /api/v1/reconciliation`: the provider's bill against the calls Finishline saw, per
//! provider, model and day or month, with the likely cause of each difference. A bill covers
//! every team, so only keys without a team scope read it.

use super::params::{ApiQuery, api_days, window};
use crate::caller::ApiCaller;
use crate::error::ApiError;
use app::db::{Db, bill};
use app::domain::reconcile::Cause;
use app::domain::time::format_day;
use app::service::reconcile::{compared_lines, provider_totals};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// First day, inclusive (UTC).
    #[param(format = Date, example = "2026-11-01")]
    pub from: Option<String>,
    /// Last day, inclusive (UTC); default today.
    #[param(format = Date, example = "2026-11-30")]
    pub to: Option<String>,
    #[param(schema_with = api_days)]
    pub days: Option<String>,
    /// `day` or `month` (default).
    #[param(example = "month")]
    pub group: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImpliedPriceOut {
    /// `input`, `output`, `cache_read` or `cache_write`.
    pub token_type: String,
    pub billed_per_mtok_micros: i64,
    pub book_per_mtok_micros: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReconciliationLineOut {
    pub provider: String,
    /// The model as the bill names it; empty for the calls of models the bill does not
    /// itemise and the lines that name none.
    pub model: String,
    /// The day, or the month's first day.
    #[schema(example = "2026-11-01")]
    pub period: String,
    pub billed_micros: i64,
    pub seen_micros: i64,
    pub difference_micros: i64,
    /// The difference as a share of the billed cost; null when nothing was billed.
    pub difference_bp: Option<i64>,
    pub reconciled: bool,
    /// `reconciled`, `unattributed_spend`, `not_billed`, `price_mismatch`,
    /// `reported_cost_drift` or `less_billed`.
    pub cause: String,
    pub explanation: String,
    pub implied_prices: Vec<ImpliedPriceOut>,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderReconciliationOut {
    pub provider: String,
    pub billed_micros: i64,
    pub seen_micros: i64,
    /// The share of the billed cost the calls cover; null when nothing was billed.
    pub coverage_bp: Option<i64>,
    pub unattributed_micros: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReconciliationOut {
    pub from: String,
    pub to: String,
    /// `day` or `month`.
    pub group: String,
    pub threshold_bp: i64,
    pub providers: Vec<ProviderReconciliationOut>,
    pub lines: Vec<ReconciliationLineOut>,
}

fn cause_key(cause: Cause) -> &'static str {
    match cause {
        Cause::Reconciled => "reconciled",
        Cause::Unattributed => "unattributed_spend",
        Cause::NotBilled => "not_billed",
        Cause::PriceMismatch => "price_mismatch",
        Cause::ReportedCostDrift => "reported_cost_drift",
        Cause::Overcounted => "less_billed",
    }
}

/// The bill against the calls over a period.
#[utoipa::path(get, path = "/api/v1/reconciliation", tag = "read",
    params(ReconciliationQuery),
    responses(
        (status = 200, description = "Per provider, and per provider, model and period, billed against seen", body = ReconciliationOut),
        crate::error::ReadErrors,
    ))]
pub async fn get_reconciliation(
    State(db): State<Db>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ReconciliationQuery>,
) -> Result<Json<ReconciliationOut>, ApiError> {
    let window = window(
        "",
        [&query.from, &query.to, &query.days].map(Option::as_deref),
        30,
    )?;
    let by_month = match query.group.as_deref() {
        None | Some("month") => true,
        Some("day") => false,
        Some(_) => return Err(ApiError::invalid("group", "must be day or month")),
    };
    if caller.team_ids.is_some() {
        return Err(ApiError::Forbidden(
            "a provider's bill covers every team: read it with a key that has no team scope".into(),
        ));
    }
    let threshold = bill::finance_settings(&db).await?.reconcile_threshold_bp;
    let lines = compared_lines(&db, window.first_day, window.last_day, by_month, threshold).await?;
    let providers = provider_totals(&lines)?
        .into_iter()
        .map(|p| ProviderReconciliationOut {
            provider: p.provider,
            billed_micros: p.billed.0,
            seen_micros: p.seen.0,
            coverage_bp: p.coverage_bp,
            unattributed_micros: p.unattributed.0,
        })
        .collect();
    let lines = lines
        .iter()
        .map(|l| ReconciliationLineOut {
            provider: l.provider.clone(),
            model: l.model.clone(),
            period: format_day(l.period),
            billed_micros: l.billed.0,
            seen_micros: l.seen.0,
            difference_micros: l.difference().0,
            difference_bp: l.difference_bp(),
            reconciled: l.cause == Cause::Reconciled,
            cause: cause_key(l.cause).to_owned(),
            explanation: l.explanation(threshold),
            implied_prices: l
                .implied
                .iter()
                .map(|p| ImpliedPriceOut {
                    token_type: p.token_type.as_str().to_owned(),
                    billed_per_mtok_micros: p.billed_per_mtok.0,
                    book_per_mtok_micros: p.book_per_mtok.0,
                })
                .collect(),
        })
        .collect();
    Ok(Json(ReconciliationOut {
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        group: if by_month { "month" } else { "day" }.to_owned(),
        threshold_bp: threshold,
        providers,
        lines,
    }))
}
