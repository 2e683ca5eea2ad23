//! Review sampling decided from a task's id alone, so re-sending a task never re-samples it.

/// A stable bucket in `0..10_000` for an id (FNV-1a, then a final mix).
pub fn sample_bucket(id: &str) -> u32 {
    let mut hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    (hash % 10_000) as u32
}

/// Whether the task with this id falls in a sample of `rate_bp` basis points.
pub fn is_sampled(id: &str, rate_bp: i64) -> bool {
    i64::from(sample_bucket(id)) < rate_bp
}

/// Sampled tasks each stratum (task type and segment of a workflow) gets per gate window at
/// least, whatever the rate: a rare segment is still graded, not hidden in a 5% average.
pub const STRATUM_FLOOR: u64 = 5;

/// A workflow's sampling settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SamplingPlan {
    /// Share of finished tasks graded, in basis points.
    pub rate_bp: i64,
    /// Share of sampled tasks also graded by a second person, for agreement.
    pub second_grader_bp: i64,
}

/// Why a task enters the review queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Taken to bring a thin stratum up to [`STRATUM_FLOOR`] rather than by the rate.
    pub by_floor: bool,
    /// Also queued for a second, independent grade.
    pub second_grader: bool,
}

/// Decides once, when a task finishes, whether it is graded. `sampled_in_stratum` is how many
/// tasks of its stratum were sampled in the current gate window. The rate part depends on the
/// id alone; the floor part tops thin strata up. A rate of zero turns sampling off entirely.
pub fn decide(id: &str, plan: SamplingPlan, sampled_in_stratum: u64) -> Option<Sample> {
    if plan.rate_bp <= 0 {
        return None;
    }
    let by_rate = is_sampled(id, plan.rate_bp);
    if !by_rate && sampled_in_stratum >= STRATUM_FLOOR {
        return None;
    }
    Some(Sample {
        by_floor: !by_rate,
        // A separate hash so that second grades are not concentrated in low buckets.
        second_grader: is_sampled(&format!("{id}#second"), plan.second_grader_bp),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_id_is_always_sampled_the_same_way() {
        assert_eq!(
            sample_bucket("support-triage-000042"),
            sample_bucket("support-triage-000042")
        );
        assert!(!is_sampled("anything", 0));
        assert!(is_sampled("anything", 10_000));
    }

    #[test]
    fn a_five_percent_rate_samples_about_five_percent_of_sequential_ids() {
        let sampled = (0..100_000)
            .filter(|i| is_sampled(&format!("task-{i}"), 500))
            .count();
        assert!((4_700..=5_300).contains(&sampled), "{sampled} of 100000");
    }

    #[test]
    fn every_stratum_is_sampled_at_its_rate_and_thin_ones_are_topped_up() {
        use std::collections::BTreeMap;
        let plan = SamplingPlan {
            rate_bp: 500,
            second_grader_bp: 2_000,
        };
        // Three task types by two segments, one of them rare (60 tasks of 60,000).
        let strata = [
            ("reset", "smb", 20_000),
            ("reset", "enterprise", 10_000),
            ("refund", "smb", 14_940),
            ("refund", "enterprise", 60),
            ("billing", "smb", 10_000),
            ("billing", "enterprise", 5_000),
        ];
        let mut sampled: BTreeMap<(&str, &str), (u64, u64, u64)> = BTreeMap::new();
        for (task_type, segment, count) in strata {
            for i in 0..count {
                let entry = sampled.entry((task_type, segment)).or_default();
                let id = format!("{task_type}-{segment}-{i}");
                if let Some(sample) = decide(&id, plan, entry.0) {
                    entry.0 += 1;
                    entry.1 += u64::from(sample.second_grader);
                    entry.2 += u64::from(sample.by_floor);
                }
            }
        }
        for (task_type, segment, count) in strata {
            let (taken, second, by_floor) = sampled[&(task_type, segment)];
            let expected = count as f64 * 0.05;
            if count >= 5_000 {
                // Within 15% of 5% for strata big enough to estimate a rate.
                let error = (taken as f64 - expected).abs() / expected;
                assert!(error < 0.15, "{task_type}/{segment}: {taken} of {count}");
                assert!(
                    by_floor <= STRATUM_FLOOR,
                    "{task_type}/{segment}: {by_floor} by floor"
                );
                let share = second as f64 / taken as f64;
                assert!((0.15..0.25).contains(&share), "second grader share {share}");
            } else {
                assert!(taken >= STRATUM_FLOOR, "the rare stratum got {taken}");
            }
        }
        // Re-deciding the same ids gives the same rate part.
        assert_eq!(
            decide("refund-smb-17", plan, STRATUM_FLOOR),
            decide("refund-smb-17", plan, STRATUM_FLOOR)
        );
    }

    #[test]
    fn a_zero_rate_turns_sampling_off() {
        let off = SamplingPlan {
            rate_bp: 0,
            second_grader_bp: 10_000,
        };
        assert_eq!(decide("task-1", off, 0), None);
    }
}
