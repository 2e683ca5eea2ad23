//! The period a page or a read API request names: `from`/`to` dates, or a number of `days`
//! ending `to`. One parser for both, so they refuse the same mistakes in the same words; each
//! reader brings its own [`PeriodLimits`].

use super::Window;
use crate::domain::time::{format_day, parse_day};

/// The longest period a page (or its CSV export) reads: a year, leap day included.
pub const PAGE_MAX_DAYS: i64 = 366;

/// The longest period the read API computes in one request: two years, so a year can be set
/// beside the year before it.
pub const API_MAX_DAYS: i64 = 731;

/// What a period may be, for the one who reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodLimits {
    /// The longest span, in days (also the largest `days`).
    pub max_days: i64,
    /// Whether `to` may be after today. A page refuses it, as it would show days that have not
    /// happened; the read API answers them with empty figures, so a client may ask for a whole
    /// month while it runs.
    pub to_after_today: bool,
}

impl PeriodLimits {
    /// Pages and their exports.
    pub const PAGE: PeriodLimits = PeriodLimits {
        max_days: PAGE_MAX_DAYS,
        to_after_today: false,
    };

    /// The read API under `/api/v1`.
    pub const API: PeriodLimits = PeriodLimits {
        max_days: API_MAX_DAYS,
        to_after_today: true,
    };
}

/// A period as it was asked for: each part as sent, empty when not given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeriodAsked<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub days: &'a str,
}

/// Why a period was refused: the field at fault (with its prefix) and what it must be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PeriodError {
    pub field: String,
    pub message: String,
}

impl PeriodAsked<'_> {
    /// The window asked for: `from` to `to` (an empty `to` is `today`), or `days` days ending
    /// `to`, or `default_days` days ending `to` when neither `from` nor `days` is given.
    /// `prefix` is put before every field name (`baseline_` reads `baseline_from`, ...).
    pub fn window(
        &self,
        prefix: &str,
        limits: PeriodLimits,
        default_days: i64,
        today: i64,
    ) -> Result<Window, PeriodError> {
        let max = limits.max_days;
        let refuse = |field: &str, message: String| PeriodError {
            field: format!("{prefix}{field}"),
            message,
        };
        let day = |field: &str, text: &str| match text.trim() {
            "" => Ok(None),
            text => parse_day(text)
                .map(Some)
                .ok_or_else(|| refuse(field, "must be a date like 2026-11-22".to_owned())),
        };
        let (from, to) = (day("from", self.from)?, day("to", self.to)?);
        let days = match self.days.trim() {
            "" => None,
            text => Some(
                text.parse::<i64>()
                    .ok()
                    .filter(|d| (1..=max).contains(d))
                    .ok_or_else(|| refuse("days", format!("must be from 1 to {max}")))?,
            ),
        };
        let last_day = to.unwrap_or(today);
        if !limits.to_after_today && last_day > today {
            return Err(refuse(
                "to",
                format!("must not be after today ({})", format_day(today)),
            ));
        }
        let window = match (from, days) {
            (Some(_), Some(_)) => {
                return Err(refuse(
                    "days",
                    format!("give {prefix}from or {prefix}days, not both"),
                ));
            }
            (Some(first_day), None) => Window {
                first_day,
                last_day,
            },
            (None, days) => Window::ending(last_day, days.unwrap_or(default_days)),
        };
        if window.first_day > window.last_day {
            return Err(refuse("from", format!("must not be after {prefix}to")));
        }
        if window.days() > max {
            return Err(refuse(
                "from",
                format!("a period covers at most {max} days"),
            ));
        }
        Ok(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked<'a>(from: &'a str, to: &'a str, days: &'a str) -> PeriodAsked<'a> {
        PeriodAsked { from, to, days }
    }

    fn today() -> i64 {
        parse_day("2026-11-24").unwrap()
    }

    fn refused(period: PeriodAsked, prefix: &str, limits: PeriodLimits) -> String {
        period
            .window(prefix, limits, 30, today())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_period_is_from_and_to_or_the_last_days_or_the_default() {
        let page = |p: PeriodAsked| p.window("", PeriodLimits::PAGE, 30, today()).unwrap();
        let last_30 = page(asked("", "", ""));
        assert_eq!((last_30.days(), last_30.last_day), (30, today()));
        let range = page(asked("2026-10-01", "2026-10-31", ""));
        assert_eq!(
            (format_day(range.first_day), range.days()),
            ("2026-10-01".into(), 31)
        );
        assert_eq!(
            page(asked("2026-11-20", "", "")).days(),
            5,
            "to defaults to today"
        );
        let week = page(asked("", "2026-11-10", "7"));
        assert_eq!(format_day(week.first_day), "2026-11-04");
    }

    #[test]
    fn a_page_reads_at_most_a_year_and_says_so_naming_the_field() {
        let page = PeriodLimits::PAGE;
        let year = asked("2025-11-23", "2026-11-23", "");
        assert_eq!(
            year.window("", page, 30, today()).unwrap().days(),
            PAGE_MAX_DAYS
        );
        assert_eq!(
            refused(asked("2025-11-22", "2026-11-23", ""), "", page),
            "from: a period covers at most 366 days"
        );
        assert_eq!(
            refused(asked("", "", "367"), "", page),
            "days: must be from 1 to 366"
        );
        assert_eq!(
            refused(asked("", "", "0"), "", page),
            "days: must be from 1 to 366"
        );
        assert!(
            refused(asked("", "2026-11-25", ""), "", page)
                .starts_with("to: must not be after today (2026-11-24)")
        );
    }

    #[test]
    fn the_read_api_reads_two_years_and_days_that_have_not_happened_yet() {
        let api = PeriodLimits::API;
        let two_years = asked("", "", "731").window("", api, 30, today()).unwrap();
        assert_eq!(two_years.days(), API_MAX_DAYS);
        assert_eq!(
            refused(asked("", "", "732"), "", api),
            "days: must be from 1 to 731"
        );
        assert_eq!(
            refused(asked("2024-01-01", "2026-11-24", ""), "", api),
            "from: a period covers at most 731 days"
        );
        let month = asked("2026-11-01", "2026-11-30", "");
        assert_eq!(month.window("", api, 30, today()).unwrap().days(), 30);
    }

    #[test]
    fn every_mistake_names_its_field_with_the_prefix() {
        let api = PeriodLimits::API;
        let cases = [
            (
                asked("2026-13-01", "", ""),
                "baseline_from: must be a date like 2026-11-22",
            ),
            (
                asked("", "yesterday", ""),
                "baseline_to: must be a date like 2026-11-22",
            ),
            (asked("", "", "ten"), "baseline_days: must be from 1 to 731"),
            (asked("", "", "-5"), "baseline_days: must be from 1 to 731"),
            (
                asked("2026-11-01", "", "10"),
                "baseline_days: give baseline_from or baseline_days, not both",
            ),
            (
                asked("2026-11-20", "2026-11-01", ""),
                "baseline_from: must not be after baseline_to",
            ),
        ];
        for (period, sentence) in cases {
            assert_eq!(refused(period, "baseline_", api), sentence, "{period:?}");
        }
    }
}
