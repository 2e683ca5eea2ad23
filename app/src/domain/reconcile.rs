//! Reconciliation with the provider's bill: what was billed, per provider, model and period,
//! against what Finishline's calls cost, and the likely cause of a difference in words.
//!
//! Bills and gateways name models differently ("Claude Haiku 4.5", "claude-haiku-4-5-20251001",
//! "gpt-4o-2024-08-06, input"), so both sides are matched by a [`model_key`]. Within one
//! provider and period the calls are partitioned: those of a model the bill itemises go to
//! that model's line, the rest to one "other models" line with the bill's lines that name no
//! model, so every dollar on either side is counted once.

use super::money::{Micros, MoneyOverflow};
use super::pricing::Rates;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A token bucket a bill may price separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TokenType {
    Input,
    Output,
    CacheRead,
    CacheWrite,
}

impl TokenType {
    pub const ALL: [TokenType; 4] = [
        TokenType::Input,
        TokenType::Output,
        TokenType::CacheRead,
        TokenType::CacheWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Input => "input",
            TokenType::Output => "output",
            TokenType::CacheRead => "cache_read",
            TokenType::CacheWrite => "cache_write",
        }
    }

    pub fn parse(text: &str) -> Option<TokenType> {
        TokenType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// How a reader calls it.
    pub fn words(self) -> &'static str {
        match self {
            TokenType::Input => "input",
            TokenType::Output => "output",
            TokenType::CacheRead => "cache reads",
            TokenType::CacheWrite => "cache writes",
        }
    }

    /// The bucket a bill names in words: `cached input`, `uncached_input_tokens`,
    /// `cache_creation.ephemeral_5m_input_tokens`, `input_no_cache`, `output`...
    pub fn named(text: &str) -> Option<TokenType> {
        let t = text.trim().to_lowercase().replace(['_', '.'], " ");
        if t.contains("uncached") || t.contains("no cache") {
            Some(TokenType::Input)
        } else if t.contains("cache read") || t.contains("cached") {
            Some(TokenType::CacheRead)
        } else if t.contains("cache write") || t.contains("cache creation") {
            Some(TokenType::CacheWrite)
        } else if t.contains("input") || t == "prompt" {
            Some(TokenType::Input)
        } else if t.contains("output") || t == "completion" {
            Some(TokenType::Output)
        } else {
            None
        }
    }

    /// The price-book rate of this bucket.
    pub fn rate(self, rates: &Rates) -> i64 {
        match self {
            TokenType::Input => rates.input,
            TokenType::Output => rates.output,
            TokenType::CacheRead => rates.cache_read,
            TokenType::CacheWrite => rates.cache_write,
        }
    }
}

/// A model name as both sides are matched by: lower case, words joined by `-`, dots as `-`,
/// no `provider/` prefix and no trailing date (`-20251001`, `-2024-08-06`).
pub fn model_key(model: &str) -> String {
    let lower = model.trim().to_lowercase();
    let name = lower.rsplit('/').next().unwrap_or_default();
    let mut key: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while key.contains("--") {
        key = key.replace("--", "-");
    }
    let mut key = key.trim_matches('-').to_owned();
    for date_len in [8, 10] {
        let cut = key.len().saturating_sub(date_len + 1);
        if key.len() > date_len + 1 && key.as_bytes()[cut] == b'-' {
            let tail = &key[cut + 1..];
            let digits = tail.chars().filter(char::is_ascii_digit).count();
            let dated = match date_len {
                8 => digits == 8,
                _ => digits == 8 && tail.as_bytes()[4] == b'-' && tail.as_bytes()[7] == b'-',
            };
            if dated && tail.starts_with("20") {
                key.truncate(cut);
                break;
            }
        }
    }
    key
}

/// A bill's model text with the token bucket some bills append or prepend to it ("gpt-4o,
/// input", "gpt-4o - cached input"), split into the model and the bucket.
pub fn split_token_type(text: &str) -> (String, Option<TokenType>) {
    for separator in [",", " - ", ":", "|"] {
        if let Some((model, bucket)) = text.rsplit_once(separator)
            && let Some(token_type) = TokenType::named(bucket)
        {
            return (model.trim().to_owned(), Some(token_type));
        }
    }
    (text.trim().to_owned(), None)
}

/// What the bill says for one provider, model and period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Billed {
    pub provider: String,
    /// [`model_key`] of the bill's model; empty when the lines name none.
    pub model_key: String,
    /// The model as the bill names it.
    pub model: String,
    pub period: i64,
    pub billed: Micros,
    /// Billed cost and billed tokens (when the bill gives them) per bucket, for lines that say
    /// their bucket.
    pub by_type: BTreeMap<TokenType, (Micros, Option<i64>)>,
}

/// What Finishline's calls cost for one provider, model and period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub provider: String,
    pub model_key: String,
    pub model: String,
    pub period: i64,
    pub cost: Micros,
    /// The part of `cost` senders reported.
    pub reported: Micros,
    /// Tokens per bucket (input without cache tokens).
    pub tokens: BTreeMap<TokenType, i64>,
    /// The price-book rates in force for the model, if any.
    pub rates: Option<Rates>,
}

/// The likely cause of a difference, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cause {
    /// Within the threshold.
    Reconciled,
    /// Billed with no calls, or more billed than the calls explain.
    Unattributed,
    /// Calls seen that the bill does not charge for.
    NotBilled,
    /// The calls' tokens priced differently from the bill.
    PriceMismatch,
    /// The costs senders reported differ from the bill.
    ReportedCostDrift,
    /// Less billed than the calls cost: credits, discounts or free calls.
    Overcounted,
}

impl Cause {
    pub fn label(self) -> &'static str {
        match self {
            Cause::Reconciled => "reconciled",
            Cause::Unattributed => "unattributed spend",
            Cause::NotBilled => "not on the bill",
            Cause::PriceMismatch => "price mismatch",
            Cause::ReportedCostDrift => "reported-cost drift",
            Cause::Overcounted => "less billed than seen",
        }
    }
}

/// A bucket whose billed price differs from the price book's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpliedPrice {
    pub token_type: TokenType,
    /// Billed cost per million tokens of the bucket.
    pub billed_per_mtok: Micros,
    pub book_per_mtok: Micros,
}

/// One compared line: a provider, a model (empty: the calls of models the bill does not
/// itemise, and the lines that name none) and a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compared {
    pub provider: String,
    pub model: String,
    pub period: i64,
    pub billed: Micros,
    pub seen: Micros,
    pub cause: Cause,
    pub implied: Vec<ImpliedPrice>,
}

impl Compared {
    /// Billed less seen.
    pub fn difference(&self) -> Micros {
        Micros(self.billed.0.saturating_sub(self.seen.0))
    }

    /// The difference as a share of the billed cost, in basis points; none when nothing was
    /// billed.
    pub fn difference_bp(&self) -> Option<i64> {
        (self.billed.0 != 0).then(|| {
            let bp = i128::from(self.difference().0) * 10_000 / i128::from(self.billed.0.abs());
            bp.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
        })
    }

    /// Spend on the bill that no call explains (none for other causes).
    pub fn unattributed(&self) -> Micros {
        match self.cause {
            Cause::Unattributed => Micros(self.difference().0.max(0)),
            _ => Micros(0),
        }
    }

    /// The part of the billed cost the calls cover: the smaller of the two, never below zero.
    pub fn covered(&self) -> Micros {
        Micros(self.billed.0.min(self.seen.0).max(0))
    }

    /// The cause in a sentence, with the amounts.
    pub fn explanation(&self, threshold_bp: i64) -> String {
        let gap = Micros(self.difference().0.abs());
        match self.cause {
            Cause::Reconciled => format!("Within {} of the bill.", percent_bp(threshold_bp)),
            Cause::Unattributed if self.seen.0 == 0 => format!(
                "Billed {}, but no calls were seen: spend no gateway or agent reported (a batch job, another key, a minimum charge).",
                self.billed
            ),
            Cause::Unattributed => format!(
                "{gap} more billed than the calls seen explain: spend no gateway or agent reported."
            ),
            Cause::NotBilled => format!(
                "Calls costing {} were seen, but the bill charges nothing for them: the bill may not cover this period yet, or the calls were free.",
                self.seen
            ),
            Cause::PriceMismatch => {
                let parts: Vec<String> = self
                    .implied
                    .iter()
                    .map(|p| {
                        format!(
                            "{} billed at {} per million tokens, the price book says {}",
                            p.token_type.words(),
                            p.billed_per_mtok.precise(),
                            p.book_per_mtok.precise()
                        )
                    })
                    .collect();
                format!(
                    "The calls' tokens are priced differently from the bill: {}.",
                    parts.join("; ")
                )
            }
            Cause::ReportedCostDrift => format!(
                "Most of this cost was reported by the sender, and the reported costs are {gap} {} the bill.",
                if self.billed.0 > self.seen.0 {
                    "under"
                } else {
                    "over"
                }
            ),
            Cause::Overcounted => format!(
                "{gap} less billed than the calls cost: credits, discounts, or calls the provider did not charge."
            ),
        }
    }
}

/// One provider and period's bill lines and calls.
type Sides<'a> = (Vec<&'a Billed>, Vec<&'a Seen>);

/// Compares the bill with the calls. Only providers the bill covers are compared (a provider
/// with no bill imported is not "unbilled"); within each, every period either side has.
/// [`MoneyOverflow`] when a line's sums are past what money can count.
pub fn reconcile(
    billed: &[Billed],
    seen: &[Seen],
    threshold_bp: i64,
) -> Result<Vec<Compared>, MoneyOverflow> {
    let providers: BTreeSet<&str> = billed.iter().map(|b| b.provider.as_str()).collect();
    let mut groups: BTreeMap<(&str, i64), Sides> = BTreeMap::new();
    for b in billed {
        groups
            .entry((b.provider.as_str(), b.period))
            .or_default()
            .0
            .push(b);
    }
    for s in seen
        .iter()
        .filter(|s| providers.contains(s.provider.as_str()))
    {
        groups
            .entry((s.provider.as_str(), s.period))
            .or_default()
            .1
            .push(s);
    }
    let mut compared = Vec::new();
    for ((provider, period), (bills, calls)) in groups {
        let itemised: BTreeSet<&str> = bills
            .iter()
            .map(|b| b.model_key.as_str())
            .filter(|k| !k.is_empty())
            .collect();
        for key in &itemised {
            let bill: Vec<&Billed> = bills
                .iter()
                .copied()
                .filter(|b| b.model_key == *key)
                .collect();
            let seen: Vec<&Seen> = calls
                .iter()
                .copied()
                .filter(|s| s.model_key == *key)
                .collect();
            compared.push(compare(provider, period, &bill, &seen, threshold_bp)?);
        }
        let bill: Vec<&Billed> = bills
            .iter()
            .copied()
            .filter(|b| b.model_key.is_empty())
            .collect();
        let seen: Vec<&Seen> = calls
            .iter()
            .copied()
            .filter(|s| !itemised.contains(s.model_key.as_str()))
            .collect();
        if !bill.is_empty() || !seen.is_empty() {
            compared.push(compare(provider, period, &bill, &seen, threshold_bp)?);
        }
    }
    compared.retain(|c| c.billed.0 != 0 || c.seen.0 != 0);
    Ok(compared)
}

fn compare(
    provider: &str,
    period: i64,
    bills: &[&Billed],
    calls: &[&Seen],
    threshold_bp: i64,
) -> Result<Compared, MoneyOverflow> {
    let billed = Micros::try_sum(bills.iter().map(|b| b.billed))?;
    let cost = Micros::try_sum(calls.iter().map(|s| s.cost))?;
    let reported = Micros::try_sum(calls.iter().map(|s| s.reported))?.0;
    let model = bills
        .iter()
        .map(|b| b.model.as_str())
        .find(|m| !m.is_empty())
        .unwrap_or_default()
        .to_owned();
    let mut compared = Compared {
        provider: provider.to_owned(),
        model,
        period,
        billed,
        seen: cost,
        cause: Cause::Reconciled,
        implied: Vec::new(),
    };
    let gap = i128::from(billed.0) - i128::from(cost.0);
    let allowed = i128::from(billed.0.abs()) * i128::from(threshold_bp) / 10_000;
    compared.cause = if gap.abs() <= allowed && billed.0 != 0 {
        Cause::Reconciled
    } else if cost.0 == 0 {
        Cause::Unattributed
    } else if billed.0 == 0 {
        Cause::NotBilled
    } else if reported.saturating_mul(2) >= cost.0 {
        Cause::ReportedCostDrift
    } else {
        compared.implied = implied_prices(bills, calls, threshold_bp);
        match (compared.implied.is_empty(), gap > 0) {
            (false, _) => Cause::PriceMismatch,
            (true, true) => Cause::Unattributed,
            (true, false) => Cause::Overcounted,
        }
    };
    Ok(compared)
}

/// The buckets whose billed price per million tokens (billed tokens if the bill gives them,
/// else the calls' tokens) differs from the price book's by more than the threshold.
fn implied_prices(bills: &[&Billed], calls: &[&Seen], threshold_bp: i64) -> Vec<ImpliedPrice> {
    // The rates of the costliest model on Finishline's side stand for the line.
    let Some(rates) = calls
        .iter()
        .filter(|s| s.rates.is_some())
        .max_by_key(|s| s.cost.0)
        .and_then(|s| s.rates)
    else {
        return Vec::new();
    };
    let mut implied = Vec::new();
    for token_type in TokenType::ALL {
        let mut cost = 0i64;
        let mut billed_tokens: Option<i64> = None;
        let mut typed = false;
        for (c, t) in bills.iter().filter_map(|b| b.by_type.get(&token_type)) {
            typed = true;
            cost = cost.saturating_add(c.0);
            if let Some(t) = t {
                billed_tokens = Some(billed_tokens.unwrap_or(0).saturating_add(*t));
            }
        }
        if !typed {
            continue;
        }
        let tokens = billed_tokens.unwrap_or_else(|| {
            calls
                .iter()
                .map(|s| s.tokens.get(&token_type).copied().unwrap_or(0))
                .sum()
        });
        if tokens <= 0 {
            continue;
        }
        let per_mtok = i128::from(cost) * 1_000_000 / i128::from(tokens);
        let book = i128::from(token_type.rate(&rates));
        if (per_mtok - book).abs() * 10_000 > book.abs() * i128::from(threshold_bp) {
            implied.push(ImpliedPrice {
                token_type,
                billed_per_mtok: Micros(per_mtok.clamp(0, i128::from(i64::MAX)) as i64),
                book_per_mtok: Micros(book as i64),
            });
        }
    }
    implied
}

/// Basis points as a percentage: `2%`, `2.5%`, `-0.04%`.
pub fn percent_bp(bp: i64) -> String {
    let text = format!("{:.2}", bp as f64 / 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// The share of the billed cost the calls cover, in basis points, over some compared lines:
/// none when nothing was billed.
pub fn coverage_bp(lines: &[&Compared]) -> Option<i64> {
    let billed: i128 = lines.iter().map(|c| i128::from(c.billed.0)).sum();
    let covered: i128 = lines.iter().map(|c| i128::from(c.covered().0)).sum();
    (billed > 0).then(|| (covered * 10_000 / billed) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HAIKU: Rates = Rates {
        input: 1_000_000,
        output: 5_000_000,
        cache_read: 100_000,
        cache_write: 1_250_000,
        reasoning: 5_000_000,
        audio_input: 1_000_000,
        image_input: 1_000_000,
    };

    #[test]
    fn model_names_from_bills_and_gateways_meet() {
        for (a, b) in [
            ("Claude Haiku 4.5", "claude-haiku-4-5"),
            ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
            ("openai/gpt-4.1-mini", "GPT-4.1-mini"),
        ] {
            assert_eq!(model_key(a), model_key(b), "{a} / {b}");
        }
        assert_ne!(model_key("gpt-4o-mini"), model_key("gpt-4o"));
        assert_eq!(model_key("o3-2025"), "o3-2025", "not a date: kept");
    }

    #[test]
    fn a_bucket_appended_to_the_model_is_split_off() {
        assert_eq!(
            split_token_type("gpt-4o-2024-08-06, input"),
            ("gpt-4o-2024-08-06".into(), Some(TokenType::Input))
        );
        assert_eq!(
            split_token_type("gpt-4o-mini, cached input"),
            ("gpt-4o-mini".into(), Some(TokenType::CacheRead))
        );
        assert_eq!(
            split_token_type("Claude Haiku 4.5 - output"),
            ("Claude Haiku 4.5".into(), Some(TokenType::Output))
        );
        assert_eq!(split_token_type("web search"), ("web search".into(), None));
        for (named, token_type) in [
            ("uncached_input_tokens", TokenType::Input),
            ("input_no_cache", TokenType::Input),
            ("cache_read_input_tokens", TokenType::CacheRead),
            (
                "cache_creation.ephemeral_5m_input_tokens",
                TokenType::CacheWrite,
            ),
            ("input_cache_write_1h", TokenType::CacheWrite),
            ("output_tokens", TokenType::Output),
        ] {
            assert_eq!(TokenType::named(named), Some(token_type), "{named}");
        }
    }

    fn seen(model: &str, period: i64, cost: i64, input: i64) -> Seen {
        Seen {
            provider: "anthropic".into(),
            model_key: model_key(model),
            model: model.into(),
            period,
            cost: Micros(cost),
            tokens: BTreeMap::from([(TokenType::Input, input)]),
            rates: Some(HAIKU),
            ..Default::default()
        }
    }

    fn billed(model: &str, period: i64, cost: i64) -> Billed {
        Billed {
            provider: "anthropic".into(),
            model_key: model_key(model),
            model: model.into(),
            period,
            billed: Micros(cost),
            ..Default::default()
        }
    }

    #[test]
    fn a_matching_month_reconciles_within_the_threshold() {
        let lines = reconcile(
            &[billed("Claude Haiku 4.5", 0, 10_000_000)],
            &[seen("claude-haiku-4-5", 0, 9_850_000, 0)],
            200,
        )
        .unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].cause, Cause::Reconciled);
        assert_eq!(lines[0].difference(), Micros(150_000));
        assert_eq!(lines[0].difference_bp(), Some(150));
        assert_eq!(lines[0].explanation(200), "Within 2% of the bill.");
        assert_eq!(coverage_bp(&[&lines[0]]), Some(9_850));
    }

    #[test]
    fn a_billed_day_without_calls_is_unattributed_spend() {
        let lines = reconcile(
            &[
                billed("claude-haiku-4-5", 1, 4_000_000),
                billed("claude-haiku-4-5", 2, 2_500_000),
            ],
            &[seen("claude-haiku-4-5", 1, 4_000_000, 0)],
            200,
        )
        .unwrap();
        let day_two = lines.iter().find(|l| l.period == 2).unwrap();
        assert_eq!(day_two.cause, Cause::Unattributed);
        assert_eq!(day_two.unattributed(), Micros(2_500_000));
        assert!(day_two.explanation(200).contains("no calls were seen"));
        assert_eq!(
            coverage_bp(&lines.iter().collect::<Vec<_>>()),
            Some(4_000 * 10_000 / 6_500)
        );
    }

    #[test]
    fn a_price_mismatch_shows_the_implied_price_against_the_books() {
        // 5 million input tokens billed $4.00: $0.80 per million, the book says $1.00.
        let mut bill = billed("claude-haiku-4-5", 0, 4_000_000);
        bill.by_type
            .insert(TokenType::Input, (Micros(4_000_000), None));
        let lines = reconcile(
            &[bill],
            &[seen("claude-haiku-4-5", 0, 5_000_000, 5_000_000)],
            200,
        )
        .unwrap();
        assert_eq!(lines[0].cause, Cause::PriceMismatch);
        assert_eq!(
            lines[0].implied,
            [ImpliedPrice {
                token_type: TokenType::Input,
                billed_per_mtok: Micros(800_000),
                book_per_mtok: Micros(1_000_000),
            }]
        );
        assert_eq!(
            lines[0].explanation(200),
            "The calls' tokens are priced differently from the bill: input billed at $0.80 per \
             million tokens, the price book says $1.00."
        );
    }

    #[test]
    fn calls_of_models_the_bill_does_not_itemise_meet_its_unnamed_lines() {
        let lines = reconcile(
            &[
                billed("claude-haiku-4-5", 0, 1_000_000),
                billed("", 0, 700_000),
            ],
            &[
                seen("claude-haiku-4-5", 0, 1_000_000, 0),
                seen("claude-sonnet-4-5", 0, 700_000, 0),
            ],
            200,
        )
        .unwrap();
        assert_eq!(lines.len(), 2);
        assert!(
            lines.iter().all(|l| l.cause == Cause::Reconciled),
            "{lines:?}"
        );
        // A provider the bill does not cover is not compared at all.
        let mut other = seen("gpt-4o", 0, 500, 0);
        other.provider = "openai".into();
        assert_eq!(
            reconcile(&[billed("", 0, 100)], &[other], 200)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn reported_costs_that_drift_and_unbilled_calls_are_named() {
        let mut drifting = seen("claude-haiku-4-5", 0, 1_000_000, 0);
        drifting.reported = Micros(900_000);
        let lines = reconcile(
            &[billed("claude-haiku-4-5", 0, 1_200_000)],
            &[drifting, seen("claude-haiku-4-5", 1, 300_000, 0)],
            200,
        )
        .unwrap();
        assert_eq!(lines[0].cause, Cause::ReportedCostDrift);
        assert_eq!(lines[1].cause, Cause::NotBilled);
        assert_eq!(lines[1].difference_bp(), None);
    }
}
