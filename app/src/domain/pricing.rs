//! Pricing a call's tokens with a price book entry.
//!
//! Token counts follow the OpenTelemetry GenAI conventions: input tokens *include* cache-read
//! and cache-write tokens, and output tokens include reasoning tokens. Each token is therefore
//! priced once, at the rate of the bucket it really belongs to.

use super::money::{Micros, MoneyOverflow};
use serde::{Deserialize, Serialize};

/// Token counts of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCounts {
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    pub reasoning: i64,
    /// Uncached audio input, inside `input`.
    pub audio_input: i64,
    /// Uncached image input, inside `input`.
    pub image_input: i64,
}

/// Prices in micro-dollars per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    pub reasoning: i64,
    pub audio_input: i64,
    pub image_input: i64,
}

/// A priced call: the total and the cache parts inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedUsage {
    pub total: Micros,
    pub cache_read: Micros,
    pub cache_write: Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("cache tokens ({0}) exceed input tokens ({1}); input tokens must include cache tokens")]
    CacheExceedsInput(i64, i64),
    #[error(
        "cache, audio and image tokens ({0}) exceed input tokens ({1}); input tokens must include them all"
    )]
    ModalitiesExceedInput(i64, i64),
    #[error(
        "reasoning tokens ({0}) exceed output tokens ({1}); output tokens must include reasoning tokens"
    )]
    ReasoningExceedsOutput(i64, i64),
    #[error("token counts cannot be negative")]
    Negative,
}

impl TokenCounts {
    pub fn validate(&self) -> Result<(), UsageError> {
        if [
            self.input,
            self.output,
            self.cache_read,
            self.cache_write,
            self.reasoning,
            self.audio_input,
            self.image_input,
        ]
        .iter()
        .any(|n| *n < 0)
        {
            return Err(UsageError::Negative);
        }
        let cached = self.cache_read + self.cache_write;
        if cached > self.input {
            return Err(UsageError::CacheExceedsInput(cached, self.input));
        }
        let apart = cached + self.audio_input + self.image_input;
        if apart > self.input {
            return Err(UsageError::ModalitiesExceedInput(apart, self.input));
        }
        if self.reasoning > self.output {
            return Err(UsageError::ReasoningExceedsOutput(
                self.reasoning,
                self.output,
            ));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.input == 0 && self.output == 0
    }
}

fn cost(tokens: i64, micros_per_mtok: i64) -> Result<Micros, MoneyOverflow> {
    Micros(tokens).scale(micros_per_mtok, 1_000_000)
}

/// Prices `usage` at `rates`, or [`MoneyOverflow`] for a price no call could cost. The usage
/// must have passed [`TokenCounts::validate`].
pub fn price_usage(usage: &TokenCounts, rates: &Rates) -> Result<PricedUsage, MoneyOverflow> {
    let plain_input =
        usage.input - usage.cache_read - usage.cache_write - usage.audio_input - usage.image_input;
    let plain_output = usage.output - usage.reasoning;
    let cache_read = cost(usage.cache_read, rates.cache_read)?;
    let cache_write = cost(usage.cache_write, rates.cache_write)?;
    let total = Micros::try_sum([
        cost(plain_input, rates.input)?,
        cost(plain_output, rates.output)?,
        cost(usage.reasoning, rates.reasoning)?,
        cost(usage.audio_input, rates.audio_input)?,
        cost(usage.image_input, rates.image_input)?,
        cache_read,
        cache_write,
    ])?;
    Ok(PricedUsage {
        total,
        cache_read,
        cache_write,
    })
}

/// How one call is costed: its total, the cache parts inside it, and where the figure came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallPricing {
    pub priced: PricedUsage,
    pub source: super::status::CostSource,
    pub price_id: Option<i64>,
}

/// Costs a call: a reported cost is kept as sent, whatever the call's status (it is the
/// sender's word on what was billed, and the only figure a bill can be reconciled with); a
/// call rejected before doing work that reported no cost costs nothing unless it reported
/// usage; otherwise its tokens are priced at the entry in force (`price`, with its id), or left
/// unpriced at zero when there is none. [`MoneyOverflow`] when the price makes the tokens cost
/// more than money can count.
pub fn cost_call(
    reported: Option<Micros>,
    rejected: bool,
    usage: &TokenCounts,
    price: Option<(i64, Rates)>,
) -> Result<CallPricing, MoneyOverflow> {
    use super::status::CostSource;
    Ok(match (reported, price) {
        (Some(total), _) => CallPricing {
            priced: PricedUsage {
                total,
                ..Default::default()
            },
            source: CostSource::Reported,
            price_id: None,
        },
        _ if rejected && usage.is_empty() => CallPricing {
            priced: PricedUsage::default(),
            source: CostSource::Rejected,
            price_id: None,
        },
        (None, Some((id, rates))) if usage.validate().is_ok() => CallPricing {
            priced: price_usage(usage, &rates)?,
            source: CostSource::Priced,
            price_id: Some(id),
        },
        _ => CallPricing {
            priced: PricedUsage::default(),
            source: CostSource::Unpriced,
            price_id: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SONNET: Rates = Rates {
        input: 3_000_000,
        output: 15_000_000,
        cache_read: 300_000,
        cache_write: 3_750_000,
        reasoning: 15_000_000,
        audio_input: 3_000_000,
        image_input: 3_000_000,
    };

    #[test]
    fn cache_tokens_are_priced_once_at_their_own_rate() {
        // 10,000 input tokens of which 8,000 cache reads and 1,000 cache writes; 500 output.
        let usage = TokenCounts {
            input: 10_000,
            output: 500,
            cache_read: 8_000,
            cache_write: 1_000,
            ..Default::default()
        };
        let priced = price_usage(&usage, &SONNET).unwrap();
        assert_eq!(priced.cache_read, Micros(2_400));
        assert_eq!(priced.cache_write, Micros(3_750));
        // 1,000 plain input at $3/M = 3,000; 500 output at $15/M = 7,500.
        assert_eq!(priced.total, Micros(3_000 + 7_500 + 2_400 + 3_750));
    }

    #[test]
    fn audio_and_image_input_use_their_own_rates_and_must_fit_inside_input() {
        // gpt-4o-realtime-like rates: text $5/M, audio $40/M; images at text's rate.
        let rates = Rates {
            input: 5_000_000,
            audio_input: 40_000_000,
            image_input: 5_000_000,
            cache_read: 2_500_000,
            ..SONNET
        };
        let usage = TokenCounts {
            input: 10_000,
            cache_read: 2_000,
            audio_input: 3_000,
            image_input: 1_000,
            ..Default::default()
        };
        assert_eq!(usage.validate(), Ok(()));
        // 4,000 text at $5/M, 3,000 audio at $40/M, 1,000 image at $5/M, 2,000 cached at $2.5/M.
        assert_eq!(
            price_usage(&usage, &rates).unwrap().total,
            Micros(20_000 + 120_000 + 5_000 + 5_000)
        );
        let over = TokenCounts {
            audio_input: 8_500,
            ..usage
        };
        assert_eq!(
            over.validate(),
            Err(UsageError::ModalitiesExceedInput(11_500, 10_000))
        );
    }

    #[test]
    fn reasoning_tokens_inside_output_use_the_reasoning_rate() {
        let rates = Rates {
            reasoning: 30_000_000,
            ..SONNET
        };
        let usage = TokenCounts {
            input: 0,
            output: 1_000,
            reasoning: 400,
            ..Default::default()
        };
        assert_eq!(
            price_usage(&usage, &rates).unwrap().total,
            Micros(600 * 15 + 400 * 30)
        );
    }

    #[test]
    fn a_price_that_makes_a_call_cost_more_than_money_counts_is_refused() {
        let absurd = Rates {
            input: i64::MAX,
            ..SONNET
        };
        let usage = TokenCounts {
            input: 100_000_000,
            ..Default::default()
        };
        assert_eq!(price_usage(&usage, &absurd), Err(MoneyOverflow));
        assert_eq!(
            cost_call(None, false, &usage, Some((1, absurd))),
            Err(MoneyOverflow)
        );
    }

    #[test]
    fn impossible_usage_is_refused() {
        let usage = TokenCounts {
            input: 10,
            cache_read: 11,
            ..Default::default()
        };
        assert_eq!(usage.validate(), Err(UsageError::CacheExceedsInput(11, 10)));
        let usage = TokenCounts {
            output: 1,
            reasoning: 2,
            ..Default::default()
        };
        assert_eq!(
            usage.validate(),
            Err(UsageError::ReasoningExceedsOutput(2, 1))
        );
        assert_eq!(
            TokenCounts {
                input: -1,
                ..Default::default()
            }
            .validate(),
            Err(UsageError::Negative)
        );
    }

    #[test]
    fn a_call_keeps_its_reported_cost_and_a_rejected_one_costs_nothing() {
        use crate::domain::status::CostSource;
        let usage = TokenCounts {
            input: 1_000,
            output: 100,
            ..Default::default()
        };
        let reported = cost_call(Some(Micros(42)), false, &usage, Some((7, SONNET))).unwrap();
        assert_eq!(
            (reported.priced.total, reported.source, reported.price_id),
            (Micros(42), CostSource::Reported, None)
        );
        let priced = cost_call(None, false, &usage, Some((7, SONNET))).unwrap();
        assert_eq!(
            (priced.priced.total, priced.price_id),
            (Micros(4_500), Some(7))
        );
        let rejected = cost_call(None, true, &TokenCounts::default(), Some((7, SONNET))).unwrap();
        assert_eq!(
            (rejected.priced.total, rejected.source),
            (Micros(0), CostSource::Rejected)
        );
        let rejected_with_usage = cost_call(None, true, &usage, Some((7, SONNET))).unwrap();
        assert_eq!(
            rejected_with_usage.source,
            CostSource::Priced,
            "usage reported on a rejection is paid for"
        );
        assert_eq!(
            cost_call(None, false, &usage, None).unwrap().source,
            CostSource::Unpriced
        );
    }

    #[test]
    fn a_rejected_call_that_reports_a_cost_keeps_it() {
        use crate::domain::status::CostSource;
        // A gateway bills $0.015 for a request the provider refused, with no tokens counted.
        let billed = cost_call(
            Some(Micros(15_000)),
            true,
            &TokenCounts::default(),
            Some((7, SONNET)),
        )
        .unwrap();
        assert_eq!(
            (billed.priced.total, billed.source, billed.price_id),
            (Micros(15_000), CostSource::Reported, None)
        );
        let free = cost_call(Some(Micros(0)), true, &TokenCounts::default(), None).unwrap();
        assert_eq!(
            (free.priced.total, free.source),
            (Micros(0), CostSource::Reported),
            "a reported zero is the sender's figure too"
        );
    }
}
