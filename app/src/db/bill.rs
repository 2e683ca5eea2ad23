//! Billed cost imported from providers' bills, what Finishline's calls cost to compare it with,
//! and the installation's finance settings.

use super::{Db, DbError, DbResult, Tx, execute, on_db, on_tx, price};
use crate::domain::Micros;
use crate::domain::platform::allocate;
use crate::domain::reconcile::{Billed, Compared, Seen, TokenType, model_key, reconcile};
use crate::domain::time::{MS_PER_DAY, days_in_month_of, month_start};
use crate::model::{PlatformCost, Price};
use std::collections::BTreeMap;

/// One billing line, ready to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBillLine {
    pub line_key: String,
    pub format: &'static str,
    pub provider: String,
    pub model: String,
    pub model_key: String,
    /// `input`, `output`, `cache_read`, `cache_write`, or empty.
    pub token_type: &'static str,
    pub period_start: i64,
    pub period_end: i64,
    pub billed_micros: i64,
    pub tokens: Option<i64>,
    pub description: String,
}

/// Lines stored per statement: 13 parameters each.
const LINES_PER_STATEMENT: usize = 500;

/// Stores the lines whose key is new; returns how many were.
pub async fn insert_lines(
    tx: &mut Tx,
    lines: &[NewBillLine],
    source_file: &str,
    at: i64,
) -> DbResult<u64> {
    let mut inserted = 0;
    for chunk in lines.chunks(LINES_PER_STATEMENT) {
        inserted += on_tx!(tx, conn => {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO bill_lines (line_key, format, provider, model, model_key, token_type,
                     period_start, period_end, day, billed_micros, tokens, description,
                     source_file, imported_at) ",
            );
            query.push_values(chunk, |mut row, line| {
                row.push_bind(&line.line_key)
                    .push_bind(line.format)
                    .push_bind(&line.provider)
                    .push_bind(&line.model)
                    .push_bind(&line.model_key)
                    .push_bind(line.token_type)
                    .push_bind(line.period_start)
                    .push_bind(line.period_end)
                    .push_bind(line.period_start.div_euclid(crate::domain::time::MS_PER_DAY))
                    .push_bind(line.billed_micros)
                    .push_bind(line.tokens)
                    .push_bind(&line.description)
                    .push_bind(source_file)
                    .push_bind(at);
            });
            query.push(" ON CONFLICT (line_key) DO NOTHING");
            query.build().execute(&mut *conn).await.map(|done| done.rows_affected())
        })?;
    }
    Ok(inserted)
}

/// Billed cost per provider, model, bucket and day.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BilledRow {
    pub provider: String,
    pub model_key: String,
    pub model: String,
    pub token_type: String,
    pub day: i64,
    pub billed_micros: i64,
    /// Billed tokens, when every line of the row gives them.
    pub tokens: Option<i64>,
}

/// What the bill says for days `first_day..=last_day`.
pub async fn billed_rows(db: &Db, first_day: i64, last_day: i64) -> DbResult<Vec<BilledRow>> {
    let sql = "SELECT provider, model_key, MIN(model) AS model, token_type, day,
                   CAST(SUM(billed_micros) AS BIGINT) AS billed_micros,
                   CAST(CASE WHEN COUNT(tokens) = COUNT(*) THEN SUM(tokens) END AS BIGINT) AS tokens
               FROM bill_lines WHERE day BETWEEN $1 AND $2
               GROUP BY provider, model_key, token_type, day
               ORDER BY day, provider, model_key, token_type";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(first_day).bind(last_day).fetch_all(pool).await)?,
    )
}

/// What Finishline's calls cost per provider, model and day, from the call rollups.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SeenRow {
    pub provider: String,
    pub model: String,
    pub day: i64,
    pub cost_micros: i64,
    pub reported_cost_micros: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
}

/// The calls of days `first_day..=last_day`, every workflow's.
pub async fn seen_rows(db: &Db, first_day: i64, last_day: i64) -> DbResult<Vec<SeenRow>> {
    let sql = "SELECT provider, model, day,
                   CAST(SUM(cost_micros) AS BIGINT) AS cost_micros,
                   CAST(SUM(reported_cost_micros) AS BIGINT) AS reported_cost_micros,
                   CAST(SUM(input_tokens) AS BIGINT) AS input_tokens,
                   CAST(SUM(output_tokens) AS BIGINT) AS output_tokens,
                   CAST(SUM(cache_read_tokens) AS BIGINT) AS cache_read_tokens,
                   CAST(SUM(cache_write_tokens) AS BIGINT) AS cache_write_tokens
               FROM call_rollups WHERE day BETWEEN $1 AND $2
               GROUP BY provider, model, day
               ORDER BY day, provider, model";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(first_day).bind(last_day).fetch_all(pool).await)?,
    )
}

/// The first and last day any billing line covers, if any is stored.
pub async fn billed_days(db: &Db) -> DbResult<Option<(i64, i64)>> {
    let sql = "SELECT MIN(day), MAX(day) FROM bill_lines";
    let (first, last): (Option<i64>, Option<i64>) =
        on_db!(db, pool => sqlx::query_as(sql).fetch_one(pool).await)?;
    Ok(first.zip(last))
}

/// The installation's finance settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FinanceSettings {
    pub reconcile_threshold_bp: i64,
    pub allocate_unattributed: bool,
}

pub async fn finance_settings(db: &Db) -> DbResult<FinanceSettings> {
    let sql = "SELECT reconcile_threshold_bp, allocate_unattributed FROM finance_settings
               WHERE id = 1";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_one(pool).await)?)
}

pub async fn update_finance_settings(
    tx: &mut Tx,
    settings: &FinanceSettings,
    by: Option<i64>,
    at: i64,
) -> DbResult<()> {
    let sql = "UPDATE finance_settings SET reconcile_threshold_bp = $1, allocate_unattributed = $2,
                   updated_by = $3, updated_at = $4
               WHERE id = 1";
    execute!(
        tx,
        sqlx::query(sql)
            .bind(settings.reconcile_threshold_bp)
            .bind(settings.allocate_unattributed)
            .bind(by)
            .bind(at)
    )?;
    Ok(())
}

/// The bill against the calls for days `first_day..=last_day`, by day or by month, at the
/// installation's threshold.
pub async fn compared_lines(
    db: &Db,
    first_day: i64,
    last_day: i64,
    by_month: bool,
    threshold_bp: i64,
) -> Result<Vec<Compared>, DbError> {
    let period = |day: i64| if by_month { month_start(day) } else { day };
    let mut billed: BTreeMap<(String, String, i64), Billed> = BTreeMap::new();
    for row in billed_rows(db, first_day, last_day).await? {
        let key = (row.provider.clone(), row.model_key.clone(), period(row.day));
        let entry = billed.entry(key).or_insert_with(|| Billed {
            provider: row.provider.clone(),
            model_key: row.model_key.clone(),
            model: row.model.clone(),
            period: period(row.day),
            ..Billed::default()
        });
        entry.billed = entry.billed.checked_add(Micros(row.billed_micros))?;
        if let Some(token_type) = TokenType::parse(&row.token_type) {
            let (cost, tokens) = entry
                .by_type
                .entry(token_type)
                .or_insert((Micros(0), Some(0)));
            *cost = cost.checked_add(Micros(row.billed_micros))?;
            *tokens = tokens.zip(row.tokens).map(|(a, b)| a.saturating_add(b));
        }
    }
    let prices = price::list_prices(db).await?;
    let mut seen: BTreeMap<(String, String, i64), (Seen, i64)> = BTreeMap::new();
    for row in seen_rows(db, first_day, last_day).await? {
        let key = (row.provider.clone(), model_key(&row.model), period(row.day));
        let (entry, costliest) = seen.entry(key.clone()).or_insert_with(|| {
            let s = Seen {
                provider: key.0.clone(),
                model_key: key.1.clone(),
                model: row.model.clone(),
                period: key.2,
                ..Seen::default()
            };
            (s, i64::MIN)
        });
        entry.cost = entry.cost.checked_add(Micros(row.cost_micros))?;
        entry.reported = entry
            .reported
            .checked_add(Micros(row.reported_cost_micros))?;
        let plain = row.input_tokens - row.cache_read_tokens - row.cache_write_tokens;
        for (token_type, tokens) in [
            (TokenType::Input, plain),
            (TokenType::Output, row.output_tokens),
            (TokenType::CacheRead, row.cache_read_tokens),
            (TokenType::CacheWrite, row.cache_write_tokens),
        ] {
            let total = entry.tokens.entry(token_type).or_default();
            *total = total.saturating_add(tokens);
        }
        // The price book's rates for the model that cost most on the day stand for the line.
        if row.cost_micros > *costliest {
            *costliest = row.cost_micros;
            let at = row.day * MS_PER_DAY;
            entry.rates = Price::in_force(&prices, &row.provider, &row.model, at).map(Into::into);
        }
    }
    let billed: Vec<Billed> = billed.into_values().collect();
    let seen: Vec<Seen> = seen.into_values().map(|(s, _)| s).collect();
    Ok(reconcile(&billed, &seen, threshold_bp)?)
}

/// When finance allocates unattributed spend: every imported bill's spend that no call
/// explains, per provider and month, as monthly amounts per workflow in proportion to each
/// workflow's traced spend with that provider that month (with none, its traced spend with any
/// provider; with none at all, the month's unattributed spend has nowhere to go and stays out).
/// Each amount is in force for its month only, so the CPST engine spreads it over that
/// month's days exactly as it does platform costs. Empty when allocation is off.
pub async fn unattributed_allocations(db: &Db) -> Result<Vec<PlatformCost>, DbError> {
    let settings = finance_settings(db).await?;
    if !settings.allocate_unattributed {
        return Ok(Vec::new());
    }
    let Some((first, last)) = billed_days(db).await? else {
        return Ok(Vec::new());
    };
    let (first, last) = (
        month_start(first),
        month_start(last) + days_in_month_of(last) - 1,
    );
    let lines = compared_lines(db, first, last, true, settings.reconcile_threshold_bp).await?;
    let mut unattributed: BTreeMap<(i64, &str), Micros> = BTreeMap::new();
    for line in &lines {
        let amount = line.unattributed();
        if amount.0 > 0 {
            let entry = unattributed
                .entry((line.period, &line.provider))
                .or_default();
            *entry = entry.checked_add(amount)?;
        }
    }
    if unattributed.is_empty() {
        return Ok(Vec::new());
    }
    let sql = "SELECT workflow_id, provider, day, CAST(SUM(cost_micros) AS BIGINT)
               FROM call_rollups WHERE day BETWEEN $1 AND $2
               GROUP BY workflow_id, provider, day";
    let rows: Vec<(i64, String, i64, i64)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(first).bind(last).fetch_all(pool).await)?;
    // Traced spend per (month, provider, workflow), and per (month, workflow) over providers.
    let mut traced: BTreeMap<(i64, String), BTreeMap<i64, u64>> = BTreeMap::new();
    let mut any: BTreeMap<i64, BTreeMap<i64, u64>> = BTreeMap::new();
    for (workflow_id, provider, day, cost) in rows {
        let cost = cost.max(0) as u64;
        let month = month_start(day);
        *traced
            .entry((month, provider))
            .or_default()
            .entry(workflow_id)
            .or_default() += cost;
        *any.entry(month)
            .or_default()
            .entry(workflow_id)
            .or_default() += cost;
    }
    let mut allocations = Vec::new();
    for ((month, provider), amount) in unattributed {
        let weights = traced
            .get(&(month, provider.to_owned()))
            .filter(|w| w.values().any(|v| *v > 0))
            .or_else(|| any.get(&month).filter(|w| w.values().any(|v| *v > 0)));
        let Some(weights) = weights else { continue };
        let (workflows, shares): (Vec<i64>, Vec<u64>) =
            weights.iter().map(|(w, s)| (*w, *s)).unzip();
        for (workflow_id, share) in workflows.into_iter().zip(allocate(amount, &shares)) {
            allocations.push(PlatformCost {
                id: 0,
                name: format!("Unattributed {provider} spend"),
                workflow_id: Some(workflow_id),
                team_id: None,
                monthly_micros: share,
                effective_from: month * MS_PER_DAY,
                effective_to: Some((month + days_in_month_of(month)) * MS_PER_DAY),
                created_at: 0,
            });
        }
    }
    Ok(allocations)
}
