//! A record's attributes as Finishline reads them: text, whole counts, a cost in dollars, and
//! the `finishline.check.*` / `finishline.metric.*` families; shared by spans, span events and
//! log records.

use app::domain::Micros;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use serde_json::{Map, Value, json};

/// A reported cost: the proposed GenAI attribute, then the older GenAI and OpenInference names.
pub(super) const COST: &[&str] = &[
    "gen_ai.usage.cost.amount",
    "gen_ai.usage.cost",
    "llm.cost.total",
];
/// The currency of `gen_ai.usage.cost.amount` (ISO 4217); Finishline's money is US dollars.
pub(super) const COST_CURRENCY: &str = "gen_ai.usage.cost.currency";

/// A record's attributes (a span's, an event's, a log record's), read before its resource's.
pub(crate) struct Attrs<'a> {
    pub(super) span: &'a [KeyValue],
    pub(super) resource: &'a [KeyValue],
}

impl<'a> Attrs<'a> {
    pub(super) fn get(&self, key: &str) -> Option<&'a Any> {
        let find = |list: &'a [KeyValue]| {
            list.iter()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        };
        find(self.span).or_else(|| find(self.resource))
    }

    pub(super) fn span_has(&self, key: &str) -> bool {
        self.span.iter().any(|kv| kv.key == key)
    }

    pub(super) fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Any::StringValue(s) if !s.is_empty() => Some(s.clone()),
            Any::IntValue(i) => Some(i.to_string()),
            _ => None,
        }
    }

    pub(super) fn first_text(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.text(k))
    }

    /// A whole, non-negative count from the first of `keys` that is present.
    pub(super) fn count(&self, keys: &[&str]) -> Result<i64, String> {
        let Some((key, value)) = keys.iter().find_map(|k| Some((*k, self.get(k)?))) else {
            return Ok(0);
        };
        let n = match value {
            Any::IntValue(i) => *i,
            Any::DoubleValue(d) if d.fract() == 0.0 && d.abs() < 1e15 => *d as i64,
            Any::StringValue(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("{key} must be a whole number, not '{s}'"))?,
            _ => return Err(format!("{key} must be a whole number")),
        };
        if n < 0 {
            return Err(format!("{key} must not be negative"));
        }
        Ok(n)
    }

    /// A cost in dollars as a decimal string, rounded to the micro-dollar.
    pub(super) fn cost(&self) -> Result<Option<String>, String> {
        let Some((key, value)) = COST.iter().find_map(|k| Some((*k, self.get(k)?))) else {
            return Ok(None);
        };
        match self.text(COST_CURRENCY) {
            Some(currency) if !currency.trim().eq_ignore_ascii_case("USD") => {
                return Err(format!(
                    "{COST_CURRENCY} is '{currency}': Finishline keeps money in US dollars; send \
                     the cost in USD, or leave it out and the price book prices the call"
                ));
            }
            _ => {}
        }
        let micros = match value {
            Any::StringValue(s) => Micros::parse_dollars(s).map_err(|e| format!("{key}: {e}"))?,
            Any::IntValue(i) => Micros(i.saturating_mul(1_000_000)),
            Any::DoubleValue(d) if d.is_finite() && d.abs() < 1e12 => {
                Micros((d * 1_000_000.0).round() as i64)
            }
            Any::DoubleValue(_) => return Err(format!("{key} must be a finite amount")),
            _ => return Err(format!("{key} must be an amount in dollars")),
        };
        if micros.0 < 0 {
            return Err(format!("{key} must not be negative"));
        }
        Ok(Some(format!(
            "{}.{:06}",
            micros.0 / 1_000_000,
            micros.0 % 1_000_000
        )))
    }

    /// `finishline.check.*` (true/false) or `finishline.metric.*` (numbers) on the span.
    pub(super) fn prefixed(&self, prefix: &str, numbers: bool) -> Option<Map<String, Value>> {
        let map: Map<String, Value> = self
            .span
            .iter()
            .filter_map(|kv| {
                let name = kv.key.strip_prefix(prefix)?;
                let value = match (kv.value.as_ref()?.value.as_ref()?, numbers) {
                    (Any::BoolValue(b), false) => json!(b),
                    (Any::IntValue(i), true) => json!(i),
                    (Any::DoubleValue(d), true) => json!(d),
                    _ => return None,
                };
                Some((name.to_owned(), value))
            })
            .collect();
        (!map.is_empty()).then_some(map)
    }
}
