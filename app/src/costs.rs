//! Teams, their loaded labour rates, and fixed platform costs: the two inputs of CPST that
//! are not sent by the systems doing the work. Each change is audited in its own transaction.

use crate::accounts::{AccountError, Actor, audit, check_name, invalid};
use crate::db::{Db, DbError, identity, platform_cost, workflow};
use crate::domain::Micros;
use crate::domain::time::MS_PER_DAY;
use crate::model::{KeyScope, PlatformCost};
use serde_json::json;

/// Adds a team with its loaded hourly labour rate.
pub async fn create_team(
    db: &Db,
    actor: Actor<'_>,
    slug: &str,
    name: &str,
    labour_rate: Micros,
    now: i64,
) -> Result<i64, AccountError> {
    let slug = slug.trim();
    let valid_slug = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_slug {
        return Err(invalid(
            "slug",
            "must be 1 to 64 lower-case letters, digits or dashes",
        ));
    }
    check_name("name", name)?;
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
        json!({ "slug": slug, "name": name.trim(), "labour_rate": labour_rate.to_string() });
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
) -> Result<(), AccountError> {
    let team = identity::get_team(db, team_id)
        .await
        .map_err(|err| match err {
            DbError::NotFound => AccountError::NotFound("team"),
            other => AccountError::Storage(other),
        })?;
    let mut tx = db.begin().await?;
    identity::set_team_labour_rate(&mut tx, team_id, labour_rate).await?;
    audit(
        &mut tx,
        actor,
        ("team.labour_rate", "team", team_id),
        (
            Some(team.labour_rate_micros_per_hour.to_string()),
            Some(labour_rate.to_string()),
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
) -> Result<i64, AccountError> {
    check_name("name", cost.name)?;
    let team = match cost.applies_to {
        KeyScope::Team(id) => {
            identity::get_team(db, id)
                .await
                .map_err(|err| match err {
                    DbError::NotFound => invalid("applies_to", format!("team {id} does not exist")),
                    other => AccountError::Storage(other),
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
        "monthly": cost.monthly.to_string(),
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
) -> Result<(), AccountError> {
    let costs = platform_cost::list_platform_costs(db).await?;
    let cost = costs
        .iter()
        .find(|c| c.id == cost_id)
        .ok_or(AccountError::NotFound("platform cost"))?;
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
