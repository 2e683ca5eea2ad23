//! Money as integer micro-dollars: exact to add, never floating point in storage.
//!
//! `Micros` has no `+`, `-` or `sum()`: every sum goes through [`Micros::checked_add`],
//! [`Micros::checked_sub`] or [`Micros::try_sum`], and one that leaves the range of an `i64` is a
//! [`MoneyOverflow`] to refuse, never a wrapped or saturated amount.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of US dollars in millionths of a dollar.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Micros(pub i64);

impl Micros {
    pub const ZERO: Micros = Micros(0);

    /// Divides by a count, rounding half away from zero. `None` when the count is zero.
    pub fn per(self, count: u64) -> Option<Micros> {
        let count = i128::from(count);
        if count == 0 {
            return None;
        }
        Some(Micros(div_round(i128::from(self.0), count) as i64))
    }

    /// `self * numerator / denominator`, rounded half away from zero, computed without
    /// intermediate overflow; a result beyond an `i64`, or a zero denominator, is refused.
    pub fn scale(self, numerator: i64, denominator: i64) -> Result<Micros, MoneyOverflow> {
        if denominator == 0 {
            return Err(MoneyOverflow);
        }
        let scaled = div_round(
            i128::from(self.0) * i128::from(numerator),
            i128::from(denominator),
        );
        i64::try_from(scaled).map(Micros).map_err(|_| MoneyOverflow)
    }

    /// `self + rhs`, or [`MoneyOverflow`].
    pub fn checked_add(self, rhs: Micros) -> Result<Micros, MoneyOverflow> {
        self.0.checked_add(rhs.0).map(Micros).ok_or(MoneyOverflow)
    }

    /// `self - rhs`, or [`MoneyOverflow`].
    pub fn checked_sub(self, rhs: Micros) -> Result<Micros, MoneyOverflow> {
        self.0.checked_sub(rhs.0).map(Micros).ok_or(MoneyOverflow)
    }

    /// The sum of `amounts`, or [`MoneyOverflow`] as soon as a partial sum leaves the range.
    pub fn try_sum(amounts: impl IntoIterator<Item = Micros>) -> Result<Micros, MoneyOverflow> {
        amounts
            .into_iter()
            .try_fold(Micros::ZERO, |total, amount| total.checked_add(amount))
    }

    /// The amount in dollars, for charts and ratios only: never store the result.
    pub fn as_dollars(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }

    /// Parses a dollar amount written by a person: "1.05", "$1,040.5", "0.000002".
    pub fn parse_dollars(text: &str) -> Result<Micros, MoneyError> {
        let cleaned: String = text
            .trim()
            .trim_start_matches('$')
            .chars()
            .filter(|c| *c != ',')
            .collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(MoneyError::NotANumber);
        }
        if fraction.len() > 6 {
            return Err(MoneyError::TooPrecise);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::TooLarge)?
        };
        let fraction_micros: i64 = format!("{fraction:0<6}")
            .parse()
            .map_err(|_| MoneyError::NotANumber)?;
        let micros = whole
            .checked_mul(1_000_000)
            .and_then(|m| m.checked_add(fraction_micros))
            .ok_or(MoneyError::TooLarge)?;
        Ok(Micros(if negative { -micros } else { micros }))
    }
}

/// `numerator / denominator`, rounded half away from zero.
pub(crate) fn div_round(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if 2 * remainder.abs() >= denominator.abs() {
        quotient
            + if (numerator < 0) == (denominator < 0) {
                1
            } else {
                -1
            }
    } else {
        quotient
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("is not a dollar amount")]
    NotANumber,
    #[error("has more than six decimal places")]
    TooPrecise,
    #[error("is too large")]
    TooLarge,
}

/// A sum or product of money beyond what an `i64` of micro-dollars holds (about $9.2 trillion):
/// the data behind it is implausible, and the figure is refused rather than wrapped or clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an amount of money is beyond what can be counted (about $9.2 trillion)")]
pub struct MoneyOverflow;

/// Sums plain integer counts (tokens, seconds, micro-dollar columns) checked, for the same
/// reason as money: `None` when a partial sum leaves the range of an `i64`.
pub fn checked_total(values: impl IntoIterator<Item = i64>) -> Option<i64> {
    values
        .into_iter()
        .try_fold(0_i64, |total, value| total.checked_add(value))
}

/// Dollars as finance reads them: thousands separators and two decimals; an amount that is not
/// zero but rounds to nothing reads "< $0.01" (or "> -$0.01"), never "$0.00". Engineering views
/// that price single calls use [`Micros::precise`].
impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1..=4_999 => f.write_str("< $0.01"),
            -4_999..=-1 => f.write_str("> -$0.01"),
            _ => write_dollars(f, self.0, 2),
        }
    }
}

impl Micros {
    /// Dollars for a single call or task: cents from ten cents up, four decimals below (so that
    /// a $0.0042 call does not read as "< $0.01").
    pub fn precise(self) -> Precise {
        Precise(self)
    }
}

/// [`Micros`] shown with four decimals below ten cents; see [`Micros::precise`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Precise(Micros);

impl fmt::Display for Precise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.0.unsigned_abs();
        let decimals = if abs >= 100_000 || abs == 0 { 2 } else { 4 };
        write_dollars(f, self.0.0, decimals)
    }
}

/// `micros` rounded half away from zero to `decimals` (2 or 4) places, with separators. An
/// amount that rounds to nothing has no sign: never "-$0.0000".
fn write_dollars(f: &mut fmt::Formatter<'_>, micros: i64, decimals: u32) -> fmt::Result {
    let abs = micros.unsigned_abs();
    let unit = 10u64.pow(6 - decimals);
    let rounded = (abs + unit / 2) / unit;
    let sign = if micros < 0 && rounded > 0 { "-" } else { "" };
    let scale = 10u64.pow(decimals);
    write!(
        f,
        "{sign}${}.{:0width$}",
        group_thousands(rounded / scale),
        rounded % scale,
        width = decimals as usize
    )
}

/// `1234567` as `1,234,567`.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finance_reads_two_decimals_and_never_zero_for_a_non_zero_amount() {
        assert_eq!(Micros(1_050_000).to_string(), "$1.05");
        assert_eq!(Micros(10_080_000_000).to_string(), "$10,080.00");
        assert_eq!(Micros(87_660).to_string(), "$0.09");
        assert_eq!(Micros(5_000).to_string(), "$0.01");
        assert_eq!(Micros(4_999).to_string(), "< $0.01");
        assert_eq!(Micros(1).to_string(), "< $0.01");
        assert_eq!(Micros(-1).to_string(), "> -$0.01");
        assert_eq!(Micros(0).to_string(), "$0.00");
        assert_eq!(Micros(-12_345_678).to_string(), "-$12.35");
        assert_eq!(Micros(-2_500_000).to_string(), "-$2.50");
    }

    #[test]
    fn precise_amounts_show_four_decimals_below_ten_cents() {
        assert_eq!(Micros(4_200).precise().to_string(), "$0.0042");
        assert_eq!(Micros(350_000).precise().to_string(), "$0.35");
        assert_eq!(Micros(87_660).precise().to_string(), "$0.0877");
        assert_eq!(Micros(0).precise().to_string(), "$0.00");
        assert_eq!(Micros(-49).precise().to_string(), "$0.0000");
        assert_eq!(Micros(1_234_567_890).precise().to_string(), "$1,234.57");
    }

    #[test]
    fn division_rounds_half_away_from_zero_and_refuses_zero() {
        assert_eq!(Micros(10).per(4), Some(Micros(3)));
        assert_eq!(Micros(9).per(4), Some(Micros(2)));
        assert_eq!(Micros(-10).per(4), Some(Micros(-3)));
        assert_eq!(Micros(10).per(0), None);
    }

    #[test]
    fn scale_is_exact_for_large_products() {
        assert_eq!(Micros(i64::MAX / 2).scale(2, 2), Ok(Micros(i64::MAX / 2)));
        assert_eq!(Micros(30_000_000).scale(45, 3600), Ok(Micros(375_000)));
    }

    #[test]
    fn money_beyond_an_i64_is_refused_never_wrapped_or_clamped() {
        let most = Micros(i64::MAX);
        assert_eq!(most.checked_add(Micros(1)), Err(MoneyOverflow));
        assert_eq!(Micros(i64::MIN).checked_sub(Micros(1)), Err(MoneyOverflow));
        assert_eq!(most.scale(2, 1), Err(MoneyOverflow));
        assert_eq!(Micros(1).scale(1, 0), Err(MoneyOverflow));
        assert_eq!(Micros::try_sum([most, Micros(1)]), Err(MoneyOverflow));
        assert_eq!(
            Micros::try_sum([Micros(2), Micros(3)]),
            Ok(Micros(5)),
            "sums in range are exact"
        );
        assert_eq!(checked_total([i64::MAX, 1]), None);
        assert_eq!(checked_total([4, 5]), Some(9));
    }

    #[test]
    fn parses_dollar_amounts_people_write() {
        assert_eq!(Micros::parse_dollars("1.05"), Ok(Micros(1_050_000)));
        assert_eq!(Micros::parse_dollars("$1,040.5"), Ok(Micros(1_040_500_000)));
        assert_eq!(Micros::parse_dollars(".000002"), Ok(Micros(2)));
        assert_eq!(Micros::parse_dollars("-3"), Ok(Micros(-3_000_000)));
        assert_eq!(
            Micros::parse_dollars("1.0000001"),
            Err(MoneyError::TooPrecise)
        );
        assert_eq!(Micros::parse_dollars("abc"), Err(MoneyError::NotANumber));
        assert_eq!(Micros::parse_dollars(""), Err(MoneyError::NotANumber));
        assert_eq!(
            Micros::parse_dollars("99999999999999999"),
            Err(MoneyError::TooLarge)
        );
    }
}
