//! Fixed platform costs: monthly amounts spread over days, and shares split without losing a micro.

use super::money::{Micros, MoneyOverflow};
use super::time::{civil_from_days, days_from_civil, days_in_month_of};

/// The part of a monthly cost that falls on days `first_day..=last_day`, where the cost is in
/// force on `effective_from_day..effective_to_day` (end exclusive, open when `None`). Each
/// calendar month carries exactly its monthly amount, spread evenly over its days with the
/// rounding carried from day to day: the first `k` days of a month carry the monthly amount
/// × k / days, rounded once, so any split of a month into days, weeks or other windows adds up
/// to the monthly amount to the micro-dollar.
pub fn monthly_cost_in_window(
    monthly: Micros,
    effective_from_day: i64,
    effective_to_day: Option<i64>,
    first_day: i64,
    last_day: i64,
) -> Result<Micros, MoneyOverflow> {
    let start = first_day.max(effective_from_day);
    let end = effective_to_day.map_or(last_day, |to| last_day.min(to - 1));
    let mut total = Micros::ZERO;
    let mut day = start;
    while day <= end {
        let (year, month, _) = civil_from_days(day);
        let month_start = days_from_civil(year, month, 1);
        let month_days = days_in_month_of(day);
        let segment_end = end.min(month_start + month_days - 1);
        let through_end = monthly.scale(segment_end - month_start + 1, month_days)?;
        let before_start = monthly.scale(day - month_start, month_days)?;
        total = total.checked_add(through_end.checked_sub(before_start)?)?;
        day = segment_end + 1;
    }
    Ok(total)
}

/// Splits `total` in proportion to `weights` by largest remainder, so the parts add up to the
/// total exactly. With no weight at all, nothing is allocated.
pub fn allocate(total: Micros, weights: &[u64]) -> Vec<Micros> {
    let sum: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    if sum == 0 || total.0 <= 0 {
        return vec![Micros::ZERO; weights.len()];
    }
    let amount = total.0 as u128;
    let mut parts: Vec<(usize, i64, u128)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let exact = amount * u128::from(*w);
            (i, (exact / sum) as i64, exact % sum)
        })
        .collect();
    let assigned: i64 = parts.iter().map(|p| p.1).sum();
    let mut left = total.0 - assigned;
    parts.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for part in parts.iter_mut() {
        if left == 0 {
            break;
        }
        part.1 += 1;
        left -= 1;
    }
    parts.sort_by_key(|p| p.0);
    parts.into_iter().map(|p| Micros(p.1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_month_carries_exactly_its_monthly_amount() {
        let nov1 = days_from_civil(2026, 11, 1);
        let monthly = Micros(3_000_000_000);
        assert_eq!(
            monthly_cost_in_window(monthly, 0, None, nov1, nov1 + 29).unwrap(),
            monthly
        );
        assert_eq!(
            monthly_cost_in_window(monthly, 0, None, nov1, nov1).unwrap(),
            Micros(100_000_000)
        );
        // Two days of February 2026 (28 days) and one of March (31 days).
        let feb27 = days_from_civil(2026, 2, 27);
        let expected = monthly
            .scale(2, 28)
            .and_then(|feb| feb.checked_add(monthly.scale(1, 31)?))
            .unwrap();
        assert_eq!(
            monthly_cost_in_window(monthly, 0, None, feb27, feb27 + 2).unwrap(),
            expected
        );
    }

    #[test]
    fn a_month_split_into_days_or_weeks_adds_up_to_its_amount_exactly() {
        // 6,876,580 µ$ does not divide by 30: rounding each day alone gave 6,876,600.
        let nov1 = days_from_civil(2026, 11, 1);
        let monthly = Micros(6_876_580);
        let day = |d| monthly_cost_in_window(monthly, 0, None, d, d).unwrap();
        let days = Micros::try_sum((nov1..nov1 + 30).map(day)).unwrap();
        assert_eq!(days, monthly);
        let weeks = Micros::try_sum((0..5).map(|w| {
            let first = nov1 + 7 * w;
            monthly_cost_in_window(monthly, 0, None, first, (first + 6).min(nov1 + 29)).unwrap()
        }))
        .unwrap();
        assert_eq!(weeks, monthly);
        // Every day carries within one micro-dollar of an even share.
        assert!((nov1..nov1 + 30).all(|d| (day(d).0 - 229_219).abs() <= 1));
    }

    #[test]
    fn only_days_in_force_are_charged() {
        let nov1 = days_from_civil(2026, 11, 1);
        let monthly = Micros(30_000_000);
        assert_eq!(
            monthly_cost_in_window(monthly, nov1 + 10, Some(nov1 + 20), nov1, nov1 + 29).unwrap(),
            Micros(10_000_000)
        );
        assert_eq!(
            monthly_cost_in_window(monthly, nov1 + 40, None, nov1, nov1 + 29).unwrap(),
            Micros::ZERO
        );
    }

    #[test]
    fn a_monthly_cost_beyond_what_money_counts_is_refused() {
        let nov1 = days_from_civil(2026, 11, 1);
        assert_eq!(
            monthly_cost_in_window(Micros(i64::MAX), 0, None, nov1, nov1 + 60),
            Err(MoneyOverflow)
        );
    }

    #[test]
    fn allocation_keeps_every_micro() {
        let parts = allocate(Micros(100), &[1, 1, 1]);
        assert_eq!(parts, vec![Micros(34), Micros(33), Micros(33)]);
        assert_eq!(
            allocate(Micros(10), &[0, 0]),
            vec![Micros::ZERO, Micros::ZERO]
        );
        let parts = allocate(Micros(1_000_003), &[7, 0, 13, 5]);
        assert_eq!(
            Micros::try_sum(parts.iter().copied()),
            Ok(Micros(1_000_003))
        );
        assert_eq!(parts[1], Micros::ZERO);
    }
}
