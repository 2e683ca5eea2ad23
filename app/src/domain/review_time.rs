//! The time a person spent reviewing a task, typed as decimal minutes and kept as whole
//! seconds: the labour cost of a review is counted from it.

use serde::{Deserialize, Serialize};

/// The longest one review may take: a day.
pub const MAX_REVIEW_MINUTES: i64 = 1_440;

/// Whole seconds of review, from 0 to a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReviewTime(i64);

/// Why a text is not a review time, in words fit to show next to the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("must be the minutes the review took, from 0 to 1440, like 2.5")]
pub struct NotReviewMinutes;

impl ReviewTime {
    /// Minutes with up to two decimals (`2.5`), rounded to the nearest second.
    pub fn parse_minutes(text: &str) -> Result<ReviewTime, NotReviewMinutes> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
        let well_formed =
            digits(whole) && (fraction.is_empty() || (fraction.len() <= 2 && digits(fraction)));
        let hundredths = well_formed
            .then(|| {
                let whole: i64 = whole.parse().ok()?;
                let hundredths: i64 = format!("{fraction:0<2}").parse().ok()?;
                Some(whole * 100 + hundredths)
            })
            .flatten()
            .filter(|h| *h <= MAX_REVIEW_MINUTES * 100)
            .ok_or(NotReviewMinutes)?;
        // A hundredth of a minute is 0.6 s: rounded to the nearest second.
        Ok(ReviewTime((hundredths * 60 + 50) / 100))
    }

    pub const fn seconds(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_minutes_become_whole_seconds() {
        let seconds = |text| ReviewTime::parse_minutes(text).map(ReviewTime::seconds);
        assert_eq!(seconds("2.5"), Ok(150));
        assert_eq!(seconds("0"), Ok(0));
        assert_eq!(seconds("1.01"), Ok(61));
        assert_eq!(seconds("1440"), Ok(86_400));
    }

    #[test]
    fn negative_over_a_day_or_oddly_written_minutes_are_refused() {
        for bad in ["", "-1", "1441", "2,5", "1.234", "abc"] {
            assert_eq!(
                ReviewTime::parse_minutes(bad),
                Err(NotReviewMinutes),
                "{bad}"
            );
        }
    }
}
