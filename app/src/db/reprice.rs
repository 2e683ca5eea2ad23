//! Explicit repricing: applying the price book again to calls that were priced by Finishline
//! (never to costs the sender reported, nor to rejected calls that reported no usage). History
//! only changes this way, and every repricing is written to the audit log with its totals.
//! Days sealed under the retention setting are refused: their calls are removed.

use super::audit::{NewAuditEntry, append};
use super::rollup::refresh_slices;
use super::{DbResult, Tx, execute, on_tx};
use crate::domain::Micros;
use crate::domain::pricing::{CallPricing, Rates, TokenCounts, cost_call};
use crate::domain::time::MS_PER_DAY;
use serde::Serialize;

/// What a repricing changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RepriceSummary {
    pub calls: u64,
    pub changed: u64,
    pub before: Micros,
    pub after: Micros,
}

/// A call as repricing reads it.
#[derive(sqlx::FromRow)]
struct CallRow {
    id: i64,
    provider: String,
    model: String,
    started_at: i64,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    reasoning_tokens: i64,
    audio_input_tokens: i64,
    image_input_tokens: i64,
    cost_micros: i64,
}

/// Re-prices the workflow's calls made on days `first_day..=last_day` with the price entries
/// in force at each call's time, refreshes the rollups they feed and appends an audit entry.
pub async fn reprice_calls(
    tx: &mut Tx,
    workflow_id: i64,
    first_day: i64,
    last_day: i64,
    actor: (Option<i64>, &str),
    now: i64,
) -> DbResult<RepriceSummary> {
    // The calls of sealed days are gone, or going: their costs are final.
    super::retention::refuse_sealed(tx, first_day).await?;
    let (from, to) = (first_day * MS_PER_DAY, (last_day + 1) * MS_PER_DAY);
    let sql =
        "SELECT id, provider, model, started_at, input_tokens, output_tokens, cache_read_tokens,
                   cache_write_tokens, reasoning_tokens, audio_input_tokens, image_input_tokens,
                   cost_micros
               FROM calls
               WHERE workflow_id = $1 AND started_at >= $2 AND started_at < $3
                 AND cost_source IN ('priced', 'unpriced')
               ORDER BY id";
    let calls: Vec<CallRow> = on_tx!(tx, conn => sqlx::query_as(sql).bind(workflow_id).bind(from).bind(to).fetch_all(conn).await)?;
    let mut summary = RepriceSummary::default();
    for call in calls {
        let (id, at, old_cost) = (call.id, call.started_at, call.cost_micros);
        let (provider, model) = (call.provider, call.model);
        let usage = TokenCounts {
            input: call.input_tokens,
            output: call.output_tokens,
            cache_read: call.cache_read_tokens,
            cache_write: call.cache_write_tokens,
            reasoning: call.reasoning_tokens,
            audio_input: call.audio_input_tokens,
            image_input: call.image_input_tokens,
        };
        let price = super::price::price_in_force(tx, &provider, &model, at).await?;
        let CallPricing {
            priced,
            source,
            price_id,
        } = cost_call(
            None,
            false,
            &usage,
            price.as_ref().map(|p| (p.id, Rates::from(p))),
        )?;
        let update = "UPDATE calls SET cost_micros = $1, cache_read_cost_micros = $2, cache_write_cost_micros = $3,
                          cost_source = $4, price_id = $5
                      WHERE id = $6";
        execute!(
            tx,
            sqlx::query(update)
                .bind(priced.total.0)
                .bind(priced.cache_read.0)
                .bind(priced.cache_write.0)
                .bind(source.as_str())
                .bind(price_id)
                .bind(id)
        )?;
        summary.calls += 1;
        summary.changed += u64::from(priced.total.0 != old_cost);
        summary.before = summary.before.checked_add(Micros(old_cost))?;
        summary.after = summary.after.checked_add(priced.total)?;
    }
    // Calls belong to the day their task started, which may be earlier than the call's own day.
    let span = "SELECT MIN(t.started_at) / 86400000, MAX(t.started_at) / 86400000
                FROM calls c JOIN tasks t ON t.id = c.task_id
                WHERE c.workflow_id = $1 AND c.started_at >= $2 AND c.started_at < $3";
    let (first, last): (Option<i64>, Option<i64>) = on_tx!(tx, conn => sqlx::query_as(span).bind(workflow_id).bind(from).bind(to).fetch_one(conn).await)?;
    let (first, last) = match (first, last) {
        (Some(first), Some(last)) => (first.min(first_day), last.max(last_day)),
        _ => (first_day, last_day),
    };
    refresh_slices(tx, workflow_id, first, last).await?;
    let after = serde_json::json!({
        "first_day": crate::domain::time::format_day(first_day),
        "last_day": crate::domain::time::format_day(last_day),
        "calls": summary.calls,
        "changed": summary.changed,
        "cost_before_micros": summary.before.0,
        "cost_after_micros": summary.after.0,
    });
    let team = "SELECT team_id FROM workflows WHERE id = $1";
    let team_id: i64 =
        on_tx!(tx, conn => sqlx::query_scalar(team).bind(workflow_id).fetch_one(conn).await)?;
    let entry = NewAuditEntry {
        actor_user_id: actor.0,
        actor: actor.1,
        action: "reprice",
        entity: "workflow",
        entity_id: &workflow_id.to_string(),
        before: None,
        after: Some(&after.to_string()),
        team_id: Some(team_id),
    };
    append(tx, &entry, now).await?;
    Ok(summary)
}
