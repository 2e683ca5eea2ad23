//! Distributions of per-task figures (cost, tokens, calls, latency): mean, median, p95 and the
//! weight of the costliest tail. Integer in, integer out: means and percentiles of micro-dollars
//! stay micro-dollars.

use super::money::div_round;
use serde::{Deserialize, Serialize};

/// Summary of one per-task figure over a set of tasks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
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
    let mut bars = Bars::up_to(nearest_rank(values, 99), bars);
    for value in values.iter() {
        bars.count(*value, 1);
    }
    bars.finish()
}

/// Histogram bars being counted: regular ones of one round width, then the tail.
struct Bars {
    width: i64,
    bins: Vec<Bin>,
    tail: u64,
}

impl Bars {
    /// At most `bars` regular bars reaching past `top`.
    fn up_to(top: i64, bars: usize) -> Bars {
        let top = top.max(0);
        let width = round_width((top / bars as i64).max(1));
        let regular = ((top / width) + 1).min(bars as i64) as usize;
        let bins = (0..regular)
            .map(|i| Bin {
                from: i as i64 * width,
                to: Some((i as i64 + 1) * width),
                count: 0,
            })
            .collect();
        Bars {
            width,
            bins,
            tail: 0,
        }
    }

    fn count(&mut self, value: i64, count: u64) {
        let edge = self.bins.len() as i64 * self.width;
        let value = value.max(0);
        match self.bins.get_mut((value / self.width) as usize) {
            Some(bin) if value < edge => bin.count += count,
            _ => self.tail += count,
        }
    }

    fn finish(mut self) -> Vec<Bin> {
        if self.tail > 0 {
            self.bins.push(Bin {
                from: self.bins.len() as i64 * self.width,
                to: None,
                count: self.tail,
            });
        }
        self.bins
    }
}

/// The lower edge of the bucket `value` is counted in when a distribution is kept as buckets
/// rather than values: exact below 100, above that three significant digits rounded down to a
/// step of 2 (leading digits 100-199), 5 (200-499) or 10 (500-999). No bucket is wider than
/// 2.5% of its lower edge, a decade holds 160 buckets, and every edge a [`histogram`] bar can
/// have (at most two significant digits) is a bucket edge, so bars count buckets exactly.
pub fn bucket_of(value: i64) -> i64 {
    let value = value.max(0);
    if value < 100 {
        return value;
    }
    let mut scale = 1;
    while value / scale >= 1_000 {
        scale *= 10;
    }
    let leading = value / scale;
    let step = match leading {
        100..=199 => 2,
        200..=499 => 5,
        _ => 10,
    };
    (leading - leading % step) * scale
}

/// The values that fell in one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// The bucket's lower edge, as [`bucket_of`] gives it.
    pub from: i64,
    pub count: u64,
    pub total: i64,
    pub largest: i64,
}

impl Bucket {
    fn mean(&self) -> i64 {
        div_round(i128::from(self.total), i128::from(self.count.max(1))) as i64
    }
}

/// A distribution kept as buckets, in ascending order, one per lower edge. Counts, totals,
/// means and the maximum are exact; percentiles are exact when they fall on the largest value
/// of a bucket and otherwise read as the bucket's mean, within its 2.5%.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buckets(Vec<Bucket>);

impl Buckets {
    /// `values` counted into buckets.
    pub fn of(values: impl IntoIterator<Item = i64>) -> Buckets {
        Buckets::merge(values.into_iter().map(|value| Bucket {
            from: bucket_of(value),
            count: 1,
            total: value,
            largest: value,
        }))
    }

    /// Buckets (of several days, say) added together by lower edge.
    pub fn merge(buckets: impl IntoIterator<Item = Bucket>) -> Buckets {
        let mut merged: std::collections::BTreeMap<i64, Bucket> = Default::default();
        for bucket in buckets {
            let into = merged.entry(bucket.from).or_insert(Bucket {
                from: bucket.from,
                largest: bucket.largest,
                ..Bucket::default()
            });
            into.count += bucket.count;
            into.total += bucket.total;
            into.largest = into.largest.max(bucket.largest);
        }
        Buckets(merged.into_values().collect())
    }

    pub fn buckets(&self) -> &[Bucket] {
        &self.0
    }

    pub fn count(&self) -> u64 {
        self.0.iter().map(|b| b.count).sum()
    }

    pub fn summary(&self) -> Summary {
        let count = self.count();
        if count == 0 {
            return Summary::default();
        }
        let total: i64 = self.0.iter().map(|b| b.total).sum();
        Summary {
            count,
            total,
            mean: div_round(i128::from(total), i128::from(count)) as i64,
            median: self.nearest_rank(50),
            p95: self.nearest_rank(95),
            max: self.0.iter().map(|b| b.largest).max().unwrap_or(0),
        }
    }

    /// The nearest-rank percentile, as [`nearest_rank`] over the values would give it: the
    /// bucket's largest value when the rank is its last, its mean otherwise.
    pub fn nearest_rank(&self, percent: u32) -> i64 {
        let count = self.count();
        let rank = (u64::from(percent) * count).div_ceil(100).max(1);
        let mut below = 0;
        for bucket in &self.0 {
            if below + bucket.count >= rank {
                return if below + bucket.count == rank {
                    bucket.largest
                } else {
                    bucket.mean().clamp(bucket.from, bucket.largest)
                };
            }
            below += bucket.count;
        }
        0
    }

    /// The [`histogram`] of the values, bars counted exactly (bar edges are bucket edges while
    /// there are fewer than 20 bars); only the 99th percentile that sizes the bars is read
    /// from the buckets.
    pub fn histogram(&self, bars: usize) -> Vec<Bin> {
        debug_assert!(
            bars < 20,
            "bar edges past 19 × 5 × 10^k are not bucket edges"
        );
        if self.0.is_empty() || bars == 0 {
            return Vec::new();
        }
        let mut layout = Bars::up_to(self.nearest_rank(99), bars);
        for bucket in &self.0 {
            layout.count(bucket.from, bucket.count);
        }
        layout.finish()
    }

    /// [`costliest_share_bp`] of the values; a bucket only partly in the costliest share counts
    /// at its mean.
    pub fn costliest_share_bp(&self, percent: u32) -> Option<i64> {
        let total: i128 = self.0.iter().map(|b| i128::from(b.total)).sum();
        if total <= 0 {
            return None;
        }
        let mut wanted = tail_size(self.count() as usize, percent) as u64;
        let mut tail: i128 = 0;
        for bucket in self.0.iter().rev() {
            if wanted == 0 {
                break;
            }
            let taken = wanted.min(bucket.count);
            tail += if taken == bucket.count {
                i128::from(bucket.total)
            } else {
                div_round(
                    i128::from(bucket.total) * i128::from(taken),
                    i128::from(bucket.count),
                )
            };
            wanted -= taken;
        }
        Some(div_round(tail * 10_000, total) as i64)
    }
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
    use proptest::prelude::*;

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

    /// A skewed spread of costs: most small, a long tail, a few outliers; 0 to ~$40.
    fn skewed() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(
            prop_oneof![
                8 => 0i64..5_000,
                3 => 5_000i64..400_000,
                1 => 400_000i64..40_000_000,
            ],
            1..400,
        )
    }

    proptest! {
        #[test]
        fn a_bucket_holds_its_lower_edge_and_is_at_most_two_and_a_half_percent_wide(value in 0i64..i64::MAX / 2) {
            let from = bucket_of(value);
            prop_assert!(from <= value);
            prop_assert_eq!(bucket_of(from), from);
            prop_assert!((value - from) * 40 <= from, "{value} in {from}");
        }

        #[test]
        fn buckets_give_exact_counts_totals_and_bars_and_percentiles_within_their_width(mut values in skewed()) {
            let buckets = Buckets::of(values.iter().copied());
            let exact = Summary::of(&mut values);
            let read = buckets.summary();
            prop_assert_eq!((read.count, read.total, read.mean, read.max), (exact.count, exact.total, exact.mean, exact.max));
            for (estimate, truth) in [(read.median, exact.median), (read.p95, exact.p95)] {
                prop_assert!((estimate - truth).abs() * 40 <= truth, "{estimate} for {truth}");
            }
            for bin in buckets.histogram(12) {
                let inside = values.iter().filter(|v| **v >= bin.from && bin.to.is_none_or(|to| **v < to)).count();
                prop_assert_eq!(bin.count, inside as u64, "bar from {}", bin.from);
            }
            let share = buckets.costliest_share_bp(5);
            let truth = costliest_share_bp(&mut values, 5);
            match (share, truth) {
                (Some(share), Some(truth)) => prop_assert!((share - truth).abs() * 40 <= truth + 40, "{share} for {truth}"),
                (share, truth) => prop_assert_eq!(share, truth),
            }
        }
    }

    #[test]
    fn buckets_of_days_merge_into_the_buckets_of_all_their_values() {
        let (monday, tuesday) = ([120, 121, 5_000, 99], [121, 5_004, 1_000_000]);
        let merged = Buckets::merge(
            Buckets::of(monday)
                .buckets()
                .iter()
                .chain(Buckets::of(tuesday).buckets())
                .copied(),
        );
        assert_eq!(merged, Buckets::of(monday.into_iter().chain(tuesday)));
        assert_eq!(
            merged.buckets()[1],
            Bucket {
                from: 120,
                count: 3,
                total: 362,
                largest: 121
            }
        );
        assert_eq!(bucket_of(5_004), 5_000);
        assert_eq!(bucket_of(1_990), 1_980);
        assert_eq!(bucket_of(2_990), 2_950);
        assert_eq!(bucket_of(-3), 0);
        assert_eq!(merged.summary().max, 1_000_000);
        assert_eq!(Buckets::default().summary(), Summary::default());
        assert!(Buckets::default().histogram(12).is_empty());
        assert_eq!(Buckets::default().costliest_share_bp(5), None);
    }
}
