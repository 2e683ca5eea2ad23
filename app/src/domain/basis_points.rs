//! Rates people type as percentages (quality targets, tolerances, sampling rates), held as
//! whole basis points so no float ever decides whether a target was met.

use serde::{Deserialize, Serialize};

/// Hundredths of a percent: 10,000 is 100%.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(i64);

/// 100%.
pub const ALL: BasisPoints = BasisPoints(10_000);

/// Why a text is not an acceptable percentage, in words fit to show next to the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be a percentage from 0 to {} with at most two decimals", .max.0 / 100)]
pub struct NotAPercentage {
    pub max: BasisPoints,
}

impl BasisPoints {
    /// A percentage with up to two decimals (`92.5`, ` 5% `) within `0..=max`.
    pub fn parse_percent(text: &str, max: BasisPoints) -> Result<BasisPoints, NotAPercentage> {
        let text = text.trim().trim_end_matches('%').trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
        let well_formed =
            digits(whole) && (fraction.is_empty() || (fraction.len() <= 2 && digits(fraction)));
        let bp = well_formed
            .then(|| {
                let whole: i64 = whole.parse().ok()?;
                let hundredths: i64 = format!("{fraction:0<2}").parse().ok()?;
                Some(whole * 100 + hundredths)
            })
            .flatten()
            .filter(|bp| (0..=max.0).contains(bp));
        bp.map(BasisPoints).ok_or(NotAPercentage { max })
    }

    pub const fn new(bp: i64) -> BasisPoints {
        BasisPoints(bp)
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_with_up_to_two_decimals_become_basis_points() {
        let parse = |text| BasisPoints::parse_percent(text, ALL).map(BasisPoints::get);
        assert_eq!(parse("90"), Ok(9_000));
        assert_eq!(parse("92.5"), Ok(9_250));
        assert_eq!(parse(" 5% "), Ok(500));
        assert_eq!(parse("0.25"), Ok(25));
        assert_eq!(parse("100"), Ok(10_000));
    }

    #[test]
    fn a_percentage_past_its_limit_or_not_a_number_is_refused_saying_the_limit() {
        let max = BasisPoints::new(2_000);
        for bad in ["", "21", "-1", "1.234", "ten", "1e2", "99999999999"] {
            let err = BasisPoints::parse_percent(bad, max).unwrap_err();
            assert_eq!(
                err.to_string(),
                "must be a percentage from 0 to 20 with at most two decimals"
            );
        }
    }
}
