//! Distributions of per-task figures (cost, tokens, calls, latency): mean, median, p95 and the
//! weight of the costliest tail. Integer in, integer out: means and percentiles of micro-dollars
//! stay micro-dollars.

use super::money::div_round;
use serde::{Deserialize, Serialize};

/// Summary of one per-task figure over a set of tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub total: i64,
    /// Rounded half away from zero.
    pub mean: i64,
    pub median: i64,
    pub p95: i64,
    pub max: i64,
}

impl Summary {
    /// Summarises `values`; sorts them in place.
    pub fn of(values: &mut [i64]) -> Summary {
        if values.is_empty() {
            return Summary::default();
        }
        values.sort_unstable();
        let count = values.len() as u64;
        let total: i64 = values.iter().sum();
        Summary {
            count,
            total,
            mean: div_round(i128::from(total), i128::from(count)) as i64,
            median: nearest_rank(values, 50),
            p95: nearest_rank(values, 95),
            max: values[values.len() - 1],
        }
    }
}

/// The nearest-rank percentile of sorted `values`: the smallest value with at least
/// `percent`% of the values at or below it.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (u64::from(percent) * sorted.len() as u64)
        .div_ceil(100)
        .max(1);
    sorted[rank as usize - 1]
}

/// How many of `count` items make up the costliest `percent`% (at least one when there are any).
pub fn tail_size(count: usize, percent: u32) -> usize {
    if count == 0 {
        return 0;
    }
    (count * percent as usize).div_ceil(100).max(1)
}

/// The share of the total carried by the costliest `percent`% of `values`, in basis points.
/// `values` are sorted in place. `None` when the total is zero.
pub fn costliest_share_bp(values: &mut [i64], percent: u32) -> Option<i64> {
    values.sort_unstable_by(|a, b| b.cmp(a));
    let total: i128 = values.iter().map(|v| i128::from(*v)).sum();
    if total <= 0 {
        return None;
    }
    let tail: i128 = values[..tail_size(values.len(), percent)]
        .iter()
        .map(|v| i128::from(*v))
        .sum();
    Some(div_round(tail * 10_000, total) as i64)
}

/// One bar of a histogram: values from `from` up to, not including, `to`; `to` is `None` for the
/// last bar when it gathers everything above the regular bars (the long tail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bin {
    pub from: i64,
    pub to: Option<i64>,
    pub count: u64,
}

/// A histogram of non-negative `values` (sorted in place) in at most `bars` regular bars of one
/// round width (1, 2 or 5 × 10^k) from zero to the 99th percentile, plus a last bar for anything
/// above them, so one outlier does not squash the rest into the first bar. Empty for no values.
pub fn histogram(values: &mut [i64], bars: usize) -> Vec<Bin> {
    if values.is_empty() || bars == 0 {
        return Vec::new();
    }
    values.sort_unstable();
    let top = nearest_rank(values, 99).max(0);
    let width = round_width((top / bars as i64).max(1));
    let regular = ((top / width) + 1).min(bars as i64) as usize;
    let mut bins: Vec<Bin> = (0..regular)
        .map(|i| Bin {
            from: i as i64 * width,
            to: Some((i as i64 + 1) * width),
            count: 0,
        })
        .collect();
    let edge = regular as i64 * width;
    let mut tail = 0;
    for value in values.iter().map(|v| (*v).max(0)) {
        match bins.get_mut((value / width) as usize) {
            Some(bin) if value < edge => bin.count += 1,
            _ => tail += 1,
        }
    }
    if tail > 0 {
        bins.push(Bin {
            from: edge,
            to: None,
            count: tail,
        });
    }
    bins
}

/// The smallest of 1, 2 or 5 × 10^k that is at least `at_least` (which is positive).
fn round_width(at_least: i64) -> i64 {
    let mut scale = 1i64;
    loop {
        for step in [1, 2, 5] {
            if step * scale >= at_least {
                return step * scale;
            }
        }
        scale = scale.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_has_round_bars_up_to_the_99th_percentile_and_a_tail() {
        // 100 tasks from $0.01 to $1.00 and one at $50: bars of $0.10, the outlier on its own.
        let mut costs: Vec<i64> = (1..=100).map(|i| i * 10_000).collect();
        costs.push(50_000_000);
        let bins = histogram(&mut costs, 12);
        assert_eq!(
            bins[0],
            Bin {
                from: 0,
                to: Some(100_000),
                count: 9
            }
        );
        assert_eq!(bins.len(), 12, "0 to $1.10 in eleven bars, then the tail");
        assert_eq!(bins[10].count, 1, "$1.00 exactly starts the eleventh bar");
        assert_eq!(
            bins[11],
            Bin {
                from: 1_100_000,
                to: None,
                count: 1
            }
        );
        assert_eq!(
            bins.iter().map(|b| b.count).sum::<u64>(),
            101,
            "every task counted once"
        );
        assert_eq!(round_width(3), 5);
        assert_eq!(round_width(11), 20);
        assert_eq!(round_width(1), 1);
        assert!(histogram(&mut [], 10).is_empty());
        let same = histogram(&mut [7, 7, 7], 10);
        assert_eq!(same.iter().map(|b| b.count).sum::<u64>(), 3);
    }

    #[test]
    fn median_and_p95_use_the_nearest_rank() {
        let mut values: Vec<i64> = (1..=100).rev().collect();
        let s = Summary::of(&mut values);
        assert_eq!(
            (s.count, s.median, s.p95, s.max, s.total),
            (100, 50, 95, 100, 5050)
        );
        assert_eq!(s.mean, 51, "50.5 rounds half away from zero");
        assert_eq!(Summary::of(&mut [7]).p95, 7);
        assert_eq!(Summary::of(&mut []), Summary::default());
    }

    #[test]
    fn the_costliest_five_percent_share_counts_at_least_one_task() {
        // 20 tasks: one costs 81, the rest 1 each; the costliest 5% is that one task.
        let mut values = vec![1; 19];
        values.push(81);
        assert_eq!(costliest_share_bp(&mut values, 5), Some(8_100));
        assert_eq!(costliest_share_bp(&mut [0, 0], 5), None);
        assert_eq!(tail_size(3, 5), 1);
        assert_eq!(tail_size(41, 5), 3);
    }
}
