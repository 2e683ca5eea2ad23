//! What the account pages show: whether figures may be stale, and why a form was sent back.

use serde::{Deserialize, Serialize};

/// Why the figures on the pages may be stale: the database has refused ingested data since
/// `since`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleNotice {
    pub since: String,
    pub reason: String,
}

/// Why a form was sent back, as the `problem` query parameter of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Incorrect,
    Throttled,
    Current,
    Policy,
    Same,
    Mismatch,
}

impl Problem {
    pub const ALL: [Problem; 6] = [
        Problem::Incorrect,
        Problem::Throttled,
        Problem::Current,
        Problem::Policy,
        Problem::Same,
        Problem::Mismatch,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Problem::Incorrect => "incorrect",
            Problem::Throttled => "throttled",
            Problem::Current => "current",
            Problem::Policy => "policy",
            Problem::Same => "same",
            Problem::Mismatch => "mismatch",
        }
    }

    pub fn from_code(code: &str) -> Option<Problem> {
        Problem::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            Problem::Incorrect => "The email or password is incorrect.",
            Problem::Throttled => {
                "Too many failed sign-ins for this account or from this address. Wait 15 minutes, then try again."
            }
            Problem::Current => "The current password is not right.",
            Problem::Policy => {
                "The new password must be 12 to 256 characters long and must not be your email address."
            }
            Problem::Same => "The new password must differ from the current one.",
            Problem::Mismatch => "The two new passwords are not the same.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_round_trip_through_their_codes() {
        for problem in Problem::ALL {
            assert_eq!(Problem::from_code(problem.code()), Some(problem));
        }
        assert_eq!(Problem::from_code("<script>"), None);
    }
}
