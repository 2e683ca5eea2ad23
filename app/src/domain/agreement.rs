//! Agreement between two reviewers who graded the same tasks: the share of identical verdicts
//! and Cohen's kappa, which discounts the agreement two people would reach by chance given how
//! often each of them uses each verdict.

use super::status::GradeVerdict;
use serde::{Deserialize, Serialize};

/// Agreement over a set of doubly-graded tasks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub pairs: u64,
    pub agreed: u64,
    /// Cohen's kappa; `None` when it is undefined (no pairs, or both reviewers used one and
    /// the same verdict for everything, so chance agreement is already perfect).
    pub kappa: Option<f64>,
}

impl Agreement {
    pub fn rate(&self) -> Option<f64> {
        (self.pairs > 0).then(|| self.agreed as f64 / self.pairs as f64)
    }

    /// The usual reading of a kappa (Landis and Koch's bands).
    pub fn strength(&self) -> &'static str {
        match self.kappa {
            None => "not enough variety to say",
            Some(k) if k < 0.0 => "worse than chance",
            Some(k) if k <= 0.20 => "slight",
            Some(k) if k <= 0.40 => "fair",
            Some(k) if k <= 0.60 => "moderate",
            Some(k) if k <= 0.80 => "substantial",
            Some(_) => "almost perfect",
        }
    }
}

/// Agreement between the first and the second grade of each pair.
pub fn agreement(pairs: &[(GradeVerdict, GradeVerdict)]) -> Agreement {
    let index = |v: GradeVerdict| match v {
        GradeVerdict::Pass => 0,
        GradeVerdict::Assisted => 1,
        GradeVerdict::Fail => 2,
    };
    let mut first = [0u64; 3];
    let mut second = [0u64; 3];
    let mut agreed = 0;
    for &(a, b) in pairs {
        first[index(a)] += 1;
        second[index(b)] += 1;
        agreed += u64::from(a == b);
    }
    let n = pairs.len() as u64;
    let kappa = (n > 0)
        .then(|| {
            let observed = agreed as f64 / n as f64;
            let chance = (0..3)
                .map(|i| (first[i] as f64 / n as f64) * (second[i] as f64 / n as f64))
                .sum::<f64>();
            (chance < 1.0).then(|| (observed - chance) / (1.0 - chance))
        })
        .flatten();
    Agreement {
        pairs: n,
        agreed,
        kappa,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GradeVerdict::{Assisted, Fail, Pass};

    fn repeat(
        pairs: &[((GradeVerdict, GradeVerdict), usize)],
    ) -> Vec<(GradeVerdict, GradeVerdict)> {
        pairs
            .iter()
            .flat_map(|&(pair, times)| std::iter::repeat_n(pair, times))
            .collect()
    }

    #[test]
    fn the_textbook_two_by_two_example_gives_point_four() {
        // 50 tasks: both pass 20, both fail 15, first pass/second fail 5, the reverse 10.
        // Observed 0.7; chance 0.5 x 0.6 + 0.5 x 0.4 = 0.5; kappa (0.7 - 0.5) / 0.5 = 0.4.
        let pairs = repeat(&[
            ((Pass, Pass), 20),
            ((Fail, Fail), 15),
            ((Pass, Fail), 5),
            ((Fail, Pass), 10),
        ]);
        let found = agreement(&pairs);
        assert_eq!((found.pairs, found.agreed), (50, 35));
        assert!((found.kappa.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(found.strength(), "fair");
    }

    #[test]
    fn three_verdicts_count_assisted_as_its_own_category() {
        // 10 tasks. First grader 5 pass, 3 assisted, 2 fail; second 4 pass, 3 assisted, 3 fail.
        // Agreed 4 + 2 + 2 = 8, so 0.8 observed; chance 0.5*0.4 + 0.3*0.3 + 0.2*0.3 = 0.35;
        // kappa = (0.8 - 0.35) / (1 - 0.35) = 0.6923.
        let pairs = repeat(&[
            ((Pass, Pass), 4),
            ((Pass, Assisted), 1),
            ((Assisted, Assisted), 2),
            ((Assisted, Fail), 1),
            ((Fail, Fail), 2),
        ]);
        let found = agreement(&pairs);
        assert_eq!((found.pairs, found.agreed), (10, 8));
        assert!(
            (found.kappa.unwrap() - 0.45 / 0.65).abs() < 1e-12,
            "{found:?}"
        );
        assert_eq!(found.strength(), "substantial");
    }

    #[test]
    fn kappa_is_undefined_when_chance_already_agrees() {
        let all_pass = agreement(&[(Pass, Pass), (Pass, Pass)]);
        assert_eq!(all_pass.kappa, None);
        assert_eq!(all_pass.rate(), Some(1.0));
        assert_eq!(agreement(&[]).rate(), None);
        let opposite = agreement(&[(Pass, Fail), (Fail, Pass)]);
        assert!(opposite.kappa.unwrap() < 0.0);
    }
}
