//! Money as integer micro-dollars: exact to add, never floating point in storage.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

/// An amount of US dollars in millionths of a dollar.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Micros(pub i64);

impl Micros {
    pub const ZERO: Micros = Micros(0);

    pub fn from_dollars_cents(dollars: i64, cents: i64) -> Self {
        Micros(dollars * 1_000_000 + cents * 10_000)
    }

    /// Divides by a count, rounding half away from zero. `None` when the count is zero.
    pub fn per(self, count: u64) -> Option<Micros> {
        let count = i128::from(count);
        if count == 0 {
            return None;
        }
        Some(Micros(div_round(i128::from(self.0), count) as i64))
    }

    /// `self * numerator / denominator`, rounded half away from zero, without overflow.
    pub fn scale(self, numerator: i64, denominator: i64) -> Micros {
        assert!(denominator != 0, "scale by a zero denominator");
        Micros(div_round(
            i128::from(self.0) * i128::from(numerator),
            i128::from(denominator),
        ) as i64)
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

impl Add for Micros {
    type Output = Micros;
    fn add(self, rhs: Micros) -> Micros {
        Micros(self.0 + rhs.0)
    }
}

impl AddAssign for Micros {
    fn add_assign(&mut self, rhs: Micros) {
        self.0 += rhs.0;
    }
}

impl Sub for Micros {
    type Output = Micros;
    fn sub(self, rhs: Micros) -> Micros {
        Micros(self.0 - rhs.0)
    }
}

impl Sum for Micros {
    fn sum<I: Iterator<Item = Micros>>(iter: I) -> Micros {
        iter.fold(Micros::ZERO, Add::add)
    }
}

/// Dollars with thousands separators; cents from ten cents up, four decimals below (so that a
/// $0.0042 call does not read as $0.00).
impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (decimals, unit) = if abs >= 100_000 || abs == 0 {
            (2, 10_000)
        } else {
            (4, 100)
        };
        let rounded = (abs + unit / 2) / unit;
        let scale = 10u64.pow(decimals);
        let whole = rounded / scale;
        let fraction = rounded % scale;
        write!(
            f,
            "{sign}${}.{fraction:0width$}",
            group_thousands(whole),
            width = decimals as usize
        )
    }
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
    fn formats_dollars_with_cents_and_small_amounts_with_four_decimals() {
        assert_eq!(Micros(1_050_000).to_string(), "$1.05");
        assert_eq!(Micros(10_080_000_000).to_string(), "$10,080.00");
        assert_eq!(Micros(4_200).to_string(), "$0.0042");
        assert_eq!(Micros(350_000).to_string(), "$0.35");
        assert_eq!(Micros(87_660).to_string(), "$0.0877");
        assert_eq!(Micros(0).to_string(), "$0.00");
        assert_eq!(Micros(-2_500_000).to_string(), "-$2.50");
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
        assert_eq!(Micros(i64::MAX / 2).scale(2, 2), Micros(i64::MAX / 2));
        assert_eq!(Micros(30_000_000).scale(45, 3600), Micros(375_000));
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
