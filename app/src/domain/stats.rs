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

#[cfg(test)]
mod tests {
    use super::*;

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
