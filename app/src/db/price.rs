//! The dated price book.

use super::{Db, DbResult, Tx, execute, on_db, on_tx};
use crate::model::Price;

pub async fn insert_price(tx: &mut Tx, price: &Price) -> DbResult<i64> {
    let sql = "INSERT INTO prices (provider, model, input_micros_per_mtok, output_micros_per_mtok,
                   cache_read_micros_per_mtok, cache_write_micros_per_mtok, reasoning_micros_per_mtok,
                   audio_input_micros_per_mtok, image_input_micros_per_mtok,
                   effective_from, effective_to, source, checked_on, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
               RETURNING id";
    Ok(on_tx!(tx, conn => sqlx::query_scalar(sql)
        .bind(&price.provider)
        .bind(&price.model)
        .bind(price.input_micros_per_mtok)
        .bind(price.output_micros_per_mtok)
        .bind(price.cache_read_micros_per_mtok)
        .bind(price.cache_write_micros_per_mtok)
        .bind(price.reasoning_micros_per_mtok)
        .bind(price.audio_input_micros_per_mtok)
        .bind(price.image_input_micros_per_mtok)
        .bind(price.effective_from)
        .bind(price.effective_to)
        .bind(&price.source)
        .bind(&price.checked_on)
        .bind(price.created_at)
        .fetch_one(conn)
        .await)?)
}

/// Ends the entry in force for a model at `at`, so that a new one can start there.
pub async fn close_price(tx: &mut Tx, provider: &str, model: &str, at: i64) -> DbResult<()> {
    let sql = "UPDATE prices SET effective_to = $1
               WHERE provider = $2 AND model = $3 AND effective_from < $1
                 AND (effective_to IS NULL OR effective_to > $1)";
    execute!(tx, sqlx::query(sql).bind(at).bind(provider).bind(model))?;
    Ok(())
}

/// The entry in force for a model at a call's time.
pub async fn price_at(db: &Db, provider: &str, model: &str, at: i64) -> DbResult<Option<Price>> {
    let sql = "SELECT * FROM prices
               WHERE provider = $1 AND model = $2 AND effective_from <= $3
                 AND (effective_to IS NULL OR effective_to > $3)
               ORDER BY effective_from DESC LIMIT 1";
    Ok(
        on_db!(db, pool => sqlx::query_as(sql).bind(provider).bind(model).bind(at).fetch_optional(pool).await)?,
    )
}

/// The entry in force for a model at `at`, inside a transaction.
pub async fn price_in_force(
    tx: &mut Tx,
    provider: &str,
    model: &str,
    at: i64,
) -> DbResult<Option<Price>> {
    let sql = "SELECT * FROM prices
               WHERE provider = $1 AND model = $2 AND effective_from <= $3
                 AND (effective_to IS NULL OR effective_to > $3)
               ORDER BY effective_from DESC LIMIT 1";
    Ok(
        on_tx!(tx, conn => sqlx::query_as(sql).bind(provider).bind(model).bind(at).fetch_optional(conn).await)?,
    )
}

pub async fn list_prices(db: &Db) -> DbResult<Vec<Price>> {
    let sql = "SELECT * FROM prices ORDER BY provider, model, effective_from";
    Ok(on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await)?)
}

/// Workflows with calls to a model made since `since`: the ones a new price may re-price.
pub async fn workflows_using(
    db: &Db,
    provider: &str,
    model: &str,
    since: i64,
) -> DbResult<Vec<i64>> {
    let sql = "SELECT DISTINCT workflow_id FROM calls
               WHERE provider = $1 AND model = $2 AND started_at >= $3 ORDER BY workflow_id";
    Ok(
        on_db!(db, pool => sqlx::query_scalar(sql).bind(provider).bind(model).bind(since).fetch_all(pool).await)?,
    )
}
