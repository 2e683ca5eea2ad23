//! Whether a move is good, bad or neutral, decided in one place for every page: the overview's
//! trend arrows, the workflow page's "what changed" and anything that colours a change.

/// A cost that moved less than this share (half a percent) is "about the same".
pub const COST_NOISE: f64 = 0.005;
/// A success rate that moved less than this many points is "about the same".
pub const RATE_NOISE_POINTS: f64 = 0.05;

/// How a move reads: its CSS class is the name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Neutral,
}

impl Tone {
    /// A cost's relative change (`0.18` is 18 % costlier): up is bad.
    pub fn of_cost(change: f64) -> Tone {
        Tone::of(change, COST_NOISE)
    }

    /// A success rate's change in points (`-7.8`): down is bad.
    pub fn of_rate(points: f64) -> Tone {
        Tone::of(-points, RATE_NOISE_POINTS)
    }

    /// `worse` is positive when things got worse.
    fn of(worse: f64, noise: f64) -> Tone {
        if worse > noise {
            Tone::Bad
        } else if worse < -noise {
            Tone::Good
        } else {
            Tone::Neutral
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Neutral => "neutral",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costlier_is_bad_a_lower_success_rate_is_bad_and_noise_is_neutral() {
        assert_eq!(Tone::of_cost(0.18), Tone::Bad);
        assert_eq!(Tone::of_cost(-0.02), Tone::Good);
        assert_eq!(Tone::of_cost(0.004), Tone::Neutral);
        assert_eq!(Tone::of_rate(-7.8), Tone::Bad);
        assert_eq!(Tone::of_rate(1.2), Tone::Good);
        assert_eq!(Tone::of_rate(0.04), Tone::Neutral);
    }
}
