//! Billed cost imported from providers' bills, what Finishline's calls cost to compare it with,
//! and the installation's finance settings.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};

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
