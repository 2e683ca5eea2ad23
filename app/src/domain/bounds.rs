//! The domain bound of every number Finishline takes from outside, in one place: the batch
//! API, OTLP, the import, the forms and the read API's parameters all check against these.
//!
//! Each is chosen from what is physically plausible, with a wide margin, and so that values
//! within them cannot overflow when combined: the largest priced call (two buckets of
//! [`MAX_TOKENS`] at [`MAX_PRICE_PER_MTOK`]) costs exactly [`MAX_CALL_COST`]. Sums over many
//! items are still checked (see `money`), since a sender can send many of them.

use super::money::Micros;

/// The largest token count (input, output, cache read or write, reasoning) one call may
/// report: 100 million, a hundred times the largest context windows offered today.
pub const MAX_TOKENS: i64 = 100_000_000;

/// The longest a call may take: one day, in milliseconds.
pub const MAX_LATENCY_MS: i64 = 86_400_000;

/// The most review one task or one grade may record: one day, in seconds.
pub const MAX_REVIEW_SECONDS: i64 = 86_400;

/// The largest cost one call may report or be priced at: $1,000,000.
pub const MAX_CALL_COST: Micros = Micros(1_000_000_000_000);

/// The largest price-book rate: $5,000 per million tokens (the costliest models list under
/// $1,000 today).
pub const MAX_PRICE_PER_MTOK: Micros = Micros(5_000_000_000);

/// The largest fixed platform cost: $100,000,000 a month.
pub const MAX_MONTHLY_PLATFORM_COST: Micros = Micros(100_000_000_000_000);

/// The largest loaded labour rate: $10,000 an hour.
pub const MAX_LABOUR_RATE_PER_HOUR: Micros = Micros(10_000_000_000);

/// The largest budget per successful task: $1,000,000.
pub const MAX_BUDGET_PER_TASK: Micros = Micros(1_000_000_000_000);

/// The longest latency budget, p95 task time: a day, in milliseconds.
pub const MAX_LATENCY_BUDGET_MS: i64 = 86_400_000;

/// The largest drift tolerance of the autonomy gate, in basis points: 1,000 %.
pub const MAX_DRIFT_TOLERANCE_BP: i64 = 100_000;

/// The largest magnitude of an evaluation score: evaluators score 0 to 1, 1 to 5 or 0 to 100;
/// a million leaves room for any scale without admitting nonsense.
pub const MAX_EVALUATION_SCORE: f64 = 1_000_000.0;

/// The longest evaluation name or label, in bytes: the length a success rule may name.
pub const MAX_EVALUATION_NAME: usize = 100;

/// The highest page number of a list: far past any list's end, and small enough that
/// `page * page size` never overflows.
pub const MAX_PAGE: u64 = 1_000_000;

/// Whether `value` is in `0..=max`, or a sentence saying what it must be.
pub fn check_count(value: i64, max: i64, unit: &str) -> Result<(), String> {
    if value < 0 {
        return Err("must not be negative".to_owned());
    }
    if value > max {
        return Err(format!("must be at most {max} {unit}"));
    }
    Ok(())
}

/// Whether `amount` is in `0..=max`, or a sentence saying what it must be.
pub fn check_money(amount: Micros, max: Micros) -> Result<(), String> {
    if amount.0 < 0 {
        return Err("must not be negative".to_owned());
    }
    if amount > max {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::pricing::{Rates, TokenCounts, price_usage};

    #[test]
    fn the_costliest_call_the_bounds_allow_is_priced_within_the_call_cost_bound() {
        let usage = TokenCounts {
            input: MAX_TOKENS,
            output: MAX_TOKENS,
            ..Default::default()
        };
        let top = MAX_PRICE_PER_MTOK.0;
        let rates = Rates {
            input: top,
            output: top,
            cache_read: top,
            cache_write: top,
            reasoning: top,
            audio_input: top,
            image_input: top,
        };
        assert_eq!(price_usage(&usage, &rates).unwrap().total, MAX_CALL_COST);
    }

    #[test]
    fn bounds_name_what_a_value_must_be() {
        assert_eq!(check_count(86_400, MAX_REVIEW_SECONDS, "seconds"), Ok(()));
        assert_eq!(
            check_count(86_401, MAX_REVIEW_SECONDS, "seconds"),
            Err("must be at most 86400 seconds".to_owned())
        );
        assert_eq!(
            check_count(-1, MAX_TOKENS, "tokens"),
            Err("must not be negative".to_owned())
        );
        assert_eq!(
            check_money(Micros(1_000_000_000_001), MAX_CALL_COST),
            Err("must be at most $1,000,000.00".to_owned())
        );
    }
}
