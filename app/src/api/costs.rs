//! Teams, labour rates and platform costs: read by everyone who reads financial figures (owners
//! their teams'), changed by admins and by finance people an admin allowed.

use crate::error::AppError;
use crate::views::costs::{CostsView, PricesView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_costs")]
pub async fn list_costs() -> Result<CostsView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    crate::service::costs::costs_page(&db()?, &viewer).await
}

#[server(prefix = "/rpc", endpoint = "create_team")]
pub async fn create_team(slug: String, name: String, labour_rate: String) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::domain::status::Role;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.role == Role::Admin, "adding teams")?;
    let rate = parse_money("labour_rate", &labour_rate)?;
    crate::service::costs::create_team(
        &db()?,
        Actor::of(&viewer),
        &slug,
        &name,
        rate,
        crate::db::now_ms(),
    )
    .await
    .map(|_| ())
}

#[server(prefix = "/rpc", endpoint = "set_labour_rate")]
pub async fn set_labour_rate(team_id: i64, labour_rate: String) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.edits_costs(), "changing labour rates")?;
    let rate = parse_money("labour_rate", &labour_rate)?;
    crate::service::costs::set_labour_rate(
        &db()?,
        Actor::of(&viewer),
        team_id,
        rate,
        crate::db::now_ms(),
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "add_platform_cost")]
pub async fn add_platform_cost(
    name: String,
    applies_to: String,
    monthly: String,
    from_day: String,
) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::model::KeyScope;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.edits_costs(), "changing platform costs")?;
    let target = KeyScope::from_form_value(&applies_to).ok_or_else(|| {
        AppError::from_field_problem("applies_to: must be team:<id> or workflow:<id>")
    })?;
    let cost = crate::service::costs::NewPlatformCost {
        name: &name,
        applies_to: target,
        monthly: parse_money("monthly", &monthly)?,
        from_day: parse_day("from_day", &from_day)?,
    };
    crate::service::costs::add_platform_cost(&db()?, Actor::of(&viewer), &cost, crate::db::now_ms())
        .await
        .map(|_| ())
}

#[server(prefix = "/rpc", endpoint = "end_platform_cost")]
pub async fn end_platform_cost(cost_id: i64, last_day: String) -> Result<(), AppError> {
    use crate::api::context::*;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.edits_costs(), "changing platform costs")?;
    let last_day = parse_day("last_day", &last_day)?;
    crate::service::costs::end_platform_cost(
        &db()?,
        Actor::of(&viewer),
        cost_id,
        last_day,
        crate::db::now_ms(),
    )
    .await
}

#[cfg(feature = "ssr")]
fn parse_money(field: &str, text: &str) -> Result<crate::domain::Micros, AppError> {
    crate::domain::Micros::parse_dollars(text)
        .ok()
        .filter(|m| m.0 >= 0)
        .ok_or_else(|| {
            AppError::from_field_problem(format!(
                "{field}: must be an amount in dollars like 42.50, not negative"
            ))
        })
}

/// An optional rate: left empty, none.
#[cfg(feature = "ssr")]
fn optional_money(
    field: &str,
    text: Option<&str>,
) -> Result<Option<crate::domain::Micros>, AppError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_money(field, text).map(Some),
    }
}

#[cfg(feature = "ssr")]
fn parse_day(field: &str, text: &str) -> Result<i64, AppError> {
    crate::domain::time::parse_day(text.trim()).ok_or_else(|| {
        AppError::from_field_problem(format!("{field}: must be a date like 2026-11-01"))
    })
}

#[server(prefix = "/rpc", endpoint = "list_prices")]
pub async fn list_prices() -> Result<PricesView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    crate::service::costs::prices_page(&db()?, &viewer).await
}

/// Adds a dated price; `reprice` ("on" from a checkbox) also re-prices calls made since.
#[server(prefix = "/rpc", endpoint = "add_price")]
#[allow(clippy::too_many_arguments)]
pub async fn add_price(
    provider: String,
    model: String,
    input: String,
    output: String,
    cache_read: String,
    cache_write: String,
    reasoning: String,
    from_day: String,
    source: String,
    checked_on: String,
    #[server(default)] reprice: Option<String>,
    #[server(default)] audio_input: Option<String>,
    #[server(default)] image_input: Option<String>,
) -> Result<String, AppError> {
    use crate::api::context::*;
    use crate::service::accounts::Actor;

    let viewer = viewer_who(|v| v.edits_costs(), "changing the price book")?;
    let new = crate::service::costs::NewPrice {
        provider: &provider,
        model: &model,
        rates: [
            parse_money("input", &input)?,
            parse_money("output", &output)?,
            parse_money("cache_read", &cache_read)?,
            parse_money("cache_write", &cache_write)?,
            parse_money("reasoning", &reasoning)?,
        ],
        modalities: [
            optional_money("audio_input", audio_input.as_deref())?,
            optional_money("image_input", image_input.as_deref())?,
        ],
        from_day: parse_day("from_day", &from_day)?,
        source: &source,
        checked_on: &checked_on,
    };
    let added = crate::service::costs::add_price(
        &db()?,
        Actor::of(&viewer),
        &new,
        reprice.is_some(),
        crate::db::now_ms(),
    )
    .await?;
    Ok(added.sentence())
}
