//! Teams, their loaded labour rates, fixed platform costs and the price book: the inputs of CPST
//! that are not sent by the systems doing the work. Each change is audited in its own
//! transaction.

use crate::db::{Db, DbError, identity, platform_cost, price, reprice, workflow};
use crate::domain::Micros;
use crate::domain::bounds::{
    MAX_LABOUR_RATE_PER_HOUR, MAX_MONTHLY_PLATFORM_COST, MAX_PRICE_PER_MTOK, check_money,
};
use crate::domain::status::Role;
use crate::domain::time::{MS_PER_DAY, format_day};
use crate::error::AppError;
use crate::model::{KeyScope, PlatformCost, Price};
use crate::service::accounts::{Actor, audit, check_name, invalid};
use crate::views::access::Viewer;
use crate::views::choice::Choice;
use crate::views::costs::{CostsView, PlatformRow, PriceRow, PricesView, TeamRow};
use crate::views::format::plain_dollars;
use serde_json::json;

/// Adds a team with its loaded hourly labour rate.
pub async fn create_team(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    name: &str,
    labour_rate: Micros,
    now: i64,
) -> Result<i64, AppError> {
    let slug = crate::service::success::parse_slug("slug", slug)?;
    let slug = slug.as_str();
    check_name("name", name)?;
    check_money(labour_rate, MAX_LABOUR_RATE_PER_HOUR).map_err(|e| invalid("labour_rate", e))?;
    if identity::list_teams(db)
        .await?
        .iter()
        .any(|t| t.slug == slug)
    {
        return Err(invalid("slug", "is taken by another team"));
    }
    let mut tx = db.begin().await?;
    let id = identity::insert_team(&mut tx, slug, name.trim(), labour_rate, now).await?;
    let after =
        json!({ "slug": slug, "name": name.trim(), "labour_rate": plain_dollars(labour_rate) });
    audit(
        &mut tx,
        actor,
        ("team.create", "team", id),
        (None, Some(after.to_string())),
        Some(id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes what an hour of a team's review costs; every day the team worked is re-priced.
pub async fn set_labour_rate(
    db: &Db,
    actor: Actor<'_>,
    team_id: i64,
    labour_rate: Micros,
    now: i64,
) -> Result<(), AppError> {
    check_money(labour_rate, MAX_LABOUR_RATE_PER_HOUR).map_err(|e| invalid("labour_rate", e))?;
    let team = identity::get_team(db, team_id)
        .await
        .map_err(|err| match err {
            DbError::NotFound => AppError::not_found("team"),
            other => AppError::from(other),
        })?;
    let mut tx = db.begin().await?;
    identity::set_team_labour_rate(&mut tx, team_id, labour_rate).await?;
    audit(
        &mut tx,
        actor,
        ("team.labour_rate", "team", team_id),
        (
            Some(plain_dollars(team.labour_rate_micros_per_hour)),
            Some(plain_dollars(labour_rate)),
        ),
        Some(team_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A fixed monthly cost to allocate, from its first day on.
pub struct NewPlatformCost<'a> {
    pub name: &'a str,
    pub applies_to: KeyScope,
    pub monthly: Micros,
    pub from_day: i64,
}

pub async fn add_platform_cost(
    db: &Db,
    actor: Actor<'_>,
    cost: &NewPlatformCost<'_>,
    now: i64,
) -> Result<i64, AppError> {
    check_name("name", cost.name)?;
    check_money(cost.monthly, MAX_MONTHLY_PLATFORM_COST).map_err(|e| invalid("monthly", e))?;
    let team = match cost.applies_to {
        KeyScope::Team(id) => {
            identity::get_team(db, id)
                .await
                .map_err(|err| match err {
                    DbError::NotFound => invalid("applies_to", format!("team {id} does not exist")),
                    other => AppError::from(other),
                })?
                .id
        }
        KeyScope::Workflow(id) => {
            workflow::list_workflows(db)
                .await?
                .iter()
                .find(|w| w.id == id)
                .ok_or_else(|| invalid("applies_to", format!("workflow {id} does not exist")))?
                .team_id
        }
    };
    let (workflow_id, team_id) = match cost.applies_to {
        KeyScope::Team(id) => (None, Some(id)),
        KeyScope::Workflow(id) => (Some(id), None),
    };
    let row = PlatformCost {
        id: 0,
        name: cost.name.trim().to_owned(),
        workflow_id,
        team_id,
        monthly_micros: cost.monthly,
        effective_from: cost.from_day * MS_PER_DAY,
        effective_to: None,
        created_at: now,
    };
    let mut tx = db.begin().await?;
    let id = platform_cost::insert_platform_cost(&mut tx, &row).await?;
    let after = json!({
        "name": row.name,
        "applies_to": cost.applies_to,
        "monthly": plain_dollars(cost.monthly),
        "from": crate::domain::time::format_day(cost.from_day),
    });
    audit(
        &mut tx,
        actor,
        ("platform_cost.create", "platform_cost", id),
        (None, Some(after.to_string())),
        Some(team),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Stops allocating a cost after `last_day` (inclusive).
pub async fn end_platform_cost(
    db: &Db,
    actor: Actor<'_>,
    cost_id: i64,
    last_day: i64,
    now: i64,
) -> Result<(), AppError> {
    let costs = platform_cost::list_platform_costs(db).await?;
    let cost = costs
        .iter()
        .find(|c| c.id == cost_id)
        .ok_or(AppError::not_found("platform cost"))?;
    if (last_day + 1) * MS_PER_DAY <= cost.effective_from {
        return Err(invalid(
            "last_day",
            "must not be before the cost's first day",
        ));
    }
    let team = match (cost.team_id, cost.workflow_id) {
        (Some(team), _) => Some(team),
        (None, Some(id)) => workflow::list_workflows(db)
            .await?
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.team_id),
        (None, None) => None,
    };
    let mut tx = db.begin().await?;
    if !platform_cost::end_platform_cost(&mut tx, cost_id, (last_day + 1) * MS_PER_DAY).await? {
        return Err(invalid(
            "last_day",
            "the cost already ends on or before that day",
        ));
    }
    audit(
        &mut tx,
        actor,
        ("platform_cost.end", "platform_cost", cost_id),
        (
            cost.effective_to
                .map(|to| crate::domain::time::format_day(to / MS_PER_DAY - 1)),
            Some(crate::domain::time::format_day(last_day)),
        ),
        team,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A price book entry as typed: rates in dollars per million tokens.
pub struct NewPrice<'a> {
    pub provider: &'a str,
    pub model: &'a str,
    /// input, output, cache read, cache write, reasoning.
    pub rates: [Micros; 5],
    /// Audio and image input, where they differ from text input.
    pub modalities: [Option<Micros>; 2],
    pub from_day: i64,
    pub source: &'a str,
    pub checked_on: &'a str,
}

/// What adding a price did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PriceAdded {
    pub id: i64,
    /// Whether calls made since were to be re-priced, how many were, and how many of them
    /// changed cost.
    pub repriced_asked: bool,
    pub repriced: u64,
    pub changed: u64,
}

impl PriceAdded {
    /// What the person who added the price is told.
    pub fn sentence(&self) -> String {
        match self.repriced_asked {
            true => format!(
                "Price added; {} calls re-priced, {} of them changed cost.",
                self.repriced, self.changed
            ),
            false => "Price added; it prices calls from its first day on.".to_owned(),
        }
    }
}

/// Adds a dated price for a model: the entry in force on its first day ends there, and an
/// entry that starts later ends this one. With `reprice`, calls made since its first day that
/// Finishline priced (never costs the sender reported) are priced again, each workflow's
/// repricing audited with its totals.
pub async fn add_price(
    db: &Db,
    actor: Actor<'_>,
    new: &NewPrice<'_>,
    reprice_calls: bool,
    now: i64,
) -> Result<PriceAdded, AppError> {
    let provider = new.provider.trim();
    let model = new.model.trim();
    check_name("provider", provider)?;
    check_name("model", model)?;
    let names = ["input", "output", "cache_read", "cache_write", "reasoning"];
    let modalities = ["audio_input", "image_input"]
        .into_iter()
        .zip(new.modalities);
    let given = modalities.filter_map(|(field, rate)| Some((field, rate?)));
    for (field, rate) in names.into_iter().zip(new.rates).chain(given) {
        check_money(rate, MAX_PRICE_PER_MTOK)
            .map_err(|e| invalid(field, format!("{e} per million tokens")))?;
    }
    if new.source.chars().count() > 500 {
        return Err(invalid("source", "must be at most 500 characters"));
    }
    if !new.checked_on.trim().is_empty()
        && crate::domain::time::parse_day(new.checked_on.trim()).is_none()
    {
        return Err(invalid(
            "checked_on",
            "must be a date like 2026-11-01, or empty",
        ));
    }
    let from = new.from_day * MS_PER_DAY;
    let existing: Vec<Price> = price::list_prices(db)
        .await?
        .into_iter()
        .filter(|p| p.provider == provider && p.model == model)
        .collect();
    if existing.iter().any(|p| p.effective_from == from) {
        return Err(invalid(
            "from_day",
            "this model already has a price starting that day",
        ));
    }
    let next_start = existing
        .iter()
        .map(|p| p.effective_from)
        .filter(|start| *start > from)
        .min();
    let [input, output, cache_read, cache_write, reasoning] = new.rates;
    let [audio_input, image_input] = new.modalities;
    let row = Price {
        id: 0,
        provider: provider.to_owned(),
        model: model.to_owned(),
        input_micros_per_mtok: input.0,
        output_micros_per_mtok: output.0,
        cache_read_micros_per_mtok: cache_read.0,
        cache_write_micros_per_mtok: cache_write.0,
        reasoning_micros_per_mtok: reasoning.0,
        audio_input_micros_per_mtok: audio_input.map(|m| m.0),
        image_input_micros_per_mtok: image_input.map(|m| m.0),
        effective_from: from,
        effective_to: next_start,
        source: new.source.trim().to_owned(),
        checked_on: new.checked_on.trim().to_owned(),
        created_at: now,
    };
    let mut tx = db.begin().await?;
    price::close_price(&mut tx, provider, model, from).await?;
    let id = price::insert_price(&mut tx, &row).await?;
    let after = json!({
        "provider": provider, "model": model,
        "per_million_tokens": {
            "input": plain_dollars(input), "output": plain_dollars(output),
            "cache_read": plain_dollars(cache_read), "cache_write": plain_dollars(cache_write),
            "reasoning": plain_dollars(reasoning),
            "audio_input": audio_input.map(plain_dollars),
            "image_input": image_input.map(plain_dollars),
        },
        "from": crate::domain::time::format_day(new.from_day),
        "source": row.source, "checked_on": row.checked_on,
    });
    audit(
        &mut tx,
        actor,
        ("price.create", "price", id),
        (None, Some(after.to_string())),
        None,
        now,
    )
    .await?;
    let mut added = PriceAdded {
        id,
        repriced_asked: reprice_calls,
        ..PriceAdded::default()
    };
    let today = crate::domain::time::day_of(now);
    if reprice_calls && new.from_day <= today {
        for workflow_id in price::workflows_using(db, provider, model, from).await? {
            let summary = reprice::reprice_calls(
                &mut tx,
                workflow_id,
                new.from_day,
                today,
                (actor.user_id, actor.name),
                now,
            )
            .await?;
            added.repriced += summary.calls;
            added.changed += summary.changed;
        }
    }
    tx.commit().await?;
    Ok(added)
}

/// The teams, labour rates and platform costs `viewer` sees, with the teams and workflows a
/// new platform cost may apply to.
pub async fn costs_page(db: &Db, viewer: &Viewer) -> Result<CostsView, AppError> {
    let load = async {
        let teams = identity::list_teams(db).await?;
        let workflows = workflow::list_workflows(db).await?;
        let costs = platform_cost::list_platform_costs(db).await?;
        let team_of = |cost: &crate::model::PlatformCost| {
            cost.team_id.or_else(|| {
                workflows
                    .iter()
                    .find(|w| Some(w.id) == cost.workflow_id)
                    .map(|w| w.team_id)
            })
        };
        let name_of_team = |id: i64| {
            teams
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.name.clone())
                .unwrap_or_default()
        };
        Ok::<_, crate::db::DbError>(CostsView {
            teams: teams
                .iter()
                .filter(|t| viewer.sees_team(t.id))
                .map(|t| TeamRow {
                    id: t.id,
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                    labour_rate: format!("{}/hour", t.labour_rate_micros_per_hour),
                })
                .collect(),
            platform_costs: costs
                .iter()
                .filter(|c| team_of(c).is_some_and(|team| viewer.sees_team(team)))
                .map(|c| PlatformRow {
                    id: c.id,
                    name: c.name.clone(),
                    applies_to: match (c.workflow_id, c.team_id) {
                        (Some(id), _) => workflows
                            .iter()
                            .find(|w| w.id == id)
                            .map(|w| format!("workflow {}", w.name))
                            .unwrap_or_default(),
                        (None, Some(id)) => {
                            format!("team {} (shared by its workflows)", name_of_team(id))
                        }
                        (None, None) => String::new(),
                    },
                    monthly: format!("{}/month", c.monthly_micros),
                    from_day: format_day(c.effective_from.div_euclid(MS_PER_DAY)),
                    last_day: c
                        .effective_to
                        .map(|to| format_day(to.div_euclid(MS_PER_DAY) - 1)),
                })
                .collect(),
            targets: teams
                .iter()
                .filter(|t| viewer.sees_team(t.id))
                .map(|t| Choice {
                    value: KeyScope::Team(t.id).form_value(),
                    label: format!("Team {}", t.name),
                })
                .chain(
                    workflows
                        .iter()
                        .filter(|w| viewer.sees_team(w.team_id))
                        .map(|w| Choice {
                            value: KeyScope::Workflow(w.id).form_value(),
                            label: format!("Workflow {}", w.name),
                        }),
                )
                .collect(),
            may_edit_costs: viewer.edits_costs(),
            may_create_teams: viewer.role == Role::Admin,
        })
    };
    load.await.map_err(AppError::from)
}

/// A price's own audio and image input rates in words; empty when both are text input's.
fn modality_rates(price: &Price) -> String {
    [
        ("audio", price.audio_input_micros_per_mtok),
        ("image", price.image_input_micros_per_mtok),
    ]
    .into_iter()
    .filter_map(|(what, rate)| {
        Some(format!(
            "{what} ${}",
            crate::views::format::plain_dollars(Micros(rate?))
        ))
    })
    .collect::<Vec<_>>()
    .join(", ")
}

/// The price book, newest entries first as stored, with whether `viewer` may add to it.
pub async fn prices_page(db: &Db, viewer: &Viewer) -> Result<PricesView, AppError> {
    let prices = price::list_prices(db).await?;
    let rows = prices
        .into_iter()
        .map(|p| PriceRow {
            rates: [
                p.input_micros_per_mtok,
                p.output_micros_per_mtok,
                p.cache_read_micros_per_mtok,
                p.cache_write_micros_per_mtok,
                p.reasoning_micros_per_mtok,
            ]
            .map(|rate| crate::views::format::plain_dollars(Micros(rate))),
            modalities: modality_rates(&p),
            from_day: format_day(p.effective_from.div_euclid(MS_PER_DAY)),
            last_day: p
                .effective_to
                .map(|to| format_day(to.div_euclid(MS_PER_DAY) - 1)),
            provider: p.provider,
            model: p.model,
            source: p.source,
            checked_on: p.checked_on,
        })
        .collect();
    Ok(PricesView {
        prices: rows,
        may_edit: viewer.edits_costs(),
    })
}
