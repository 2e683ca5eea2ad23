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
}
