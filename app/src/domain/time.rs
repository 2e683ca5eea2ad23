//! Calendar arithmetic on epoch milliseconds (UTC), shared by the server and the browser.

pub const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of an instant.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(MS_PER_DAY)
}

/// (year, month, day) of a day number, after Howard Hinnant's `civil_from_days`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day number of a calendar date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The first day of the month containing `day`.
pub fn month_start(day: i64) -> i64 {
    let (year, month, _) = civil_from_days(day);
    days_from_civil(year, month, 1)
}

/// Number of days in the month containing `day`.
pub fn days_in_month_of(day: i64) -> i64 {
    let (year, month, _) = civil_from_days(day);
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    days_from_civil(next_year, next_month, 1) - days_from_civil(year, month, 1)
}

/// `November 2026`: the month containing `day`.
pub fn format_month(day: i64) -> String {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (year, month, _) = civil_from_days(day);
    format!("{} {year}", NAMES[(month as usize).clamp(1, 12) - 1])
}

/// `2026-11-22`.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-22 14:05 UTC`.
pub fn format_instant(ms: i64) -> String {
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    format!(
        "{} {:02}:{:02} UTC",
        format_day(day_of(ms)),
        minutes / 60,
        minutes % 60
    )
}

/// Parses `YYYY-MM-DD` into a day number.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let number = days_from_civil(year, month, day);
    (civil_from_days(number) == (year, month, day)).then_some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for day in [-1000, 0, 1, 20_000, 20_779] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(format_day(20_414), "2025-11-22");
        assert_eq!(parse_day("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("soon"), None);
    }

    #[test]
    fn month_lengths_know_leap_years() {
        assert_eq!(days_in_month_of(days_from_civil(2024, 2, 10)), 29);
        assert_eq!(days_in_month_of(days_from_civil(2026, 2, 10)), 28);
        assert_eq!(days_in_month_of(days_from_civil(2026, 12, 31)), 31);
        assert_eq!(format_instant(90_061_000), "1970-01-02 01:01 UTC");
    }
}
