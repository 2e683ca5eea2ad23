//! The closed vocabularies the data model is written in, with their stored spellings.

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling stored in the database and used on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(text: &str) -> Result<Self, UnknownValue> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        value: text.chars().take(64).collect(),
                        expected: concat!($($text, " "),+).trim_end(),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(text: String) -> Result<Self, UnknownValue> {
                text.parse()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A value outside a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not one of: {expected}")]
pub struct UnknownValue {
    pub value: String,
    pub expected: &'static str,
}

text_enum! {
    /// A task's verdict under the success rule in force. Only `Succeeded` is success.
    #[derive(Default)]
    #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
    TaskStatus {
        /// Waiting for evidence (a grade, or the end of a reopen window): excluded from both
        /// sides of CPST until it is decided.
        #[default]
        Pending => "pending",
        Succeeded => "succeeded",
        /// A person had to repair facts: useful, but not success.
        Assisted => "assisted",
        Failed => "failed",
        Escalated => "escalated",
        Abandoned => "abandoned",
    }
}

text_enum! {
    /// What the sending system said happened to a task, before any success rule is applied.
    ReportedStatus {
        Running => "running",
        Completed => "completed",
        Failed => "failed",
        Escalated => "escalated",
        Abandoned => "abandoned",
    }
}

text_enum! {
    /// What an alert rule watches (see `domain::alerting`).
    #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
    AlertKind {
        CpstOverBudget => "cpst_over_budget",
        CpstRegression => "cpst_regression",
        SuccessDrop => "success_drop",
        SpendBudget => "spend_budget",
        GateTurned => "gate_turned",
        EscalationSurge => "escalation_surge",
    }
}

text_enum! {
    /// The body an alert's webhook receives: Finishline's JSON, or a Slack-compatible message
    /// (`text` and blocks, which Slack and Microsoft Teams incoming webhooks accept).
    #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
    WebhookFormat {
        Json => "json",
        Slack => "slack",
    }
}

text_enum! {
    /// Why a notification was sent.
    #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
    DeliveryEvent {
        Fired => "fired",
        /// A spend budget's alert reached a higher threshold while open.
        Raised => "raised",
        Resolved => "resolved",
        /// Sent from the rule's test button.
        Test => "test",
    }
}

text_enum! {
    #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
    DeliveryChannel {
        Webhook => "webhook",
        Email => "email",
    }
}

text_enum! {
    /// What one call inside an attempt did.
    CallKind {
        Model => "model",
        Tool => "tool",
        Retrieval => "retrieval",
        Other => "other",
    }
}

text_enum! {
    CallStatus {
        Ok => "ok",
        Error => "error",
        /// Refused by the provider before doing any work: keeps a cost it reported; without
        /// one, costs nothing unless it reported usage (then its tokens are priced).
        Rejected => "rejected",
    }
}

text_enum! {
    /// Where a call's cost came from.
    CostSource {
        Reported => "reported",
        Priced => "priced",
        /// No cost sent and no price book entry for the model at the call's time.
        Unpriced => "unpriced",
        /// Rejected before doing work, with neither a reported cost nor usage: costs nothing.
        Rejected => "rejected",
    }
}

text_enum! {
    AttemptStatus {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
    }
}

text_enum! {
    OutcomeKind {
        Resolved => "resolved",
        Reopened => "reopened",
        Reconciled => "reconciled",
        Accepted => "accepted",
        Rejected => "rejected",
    }
}

text_enum! {
    /// A reviewer's verdict on a sampled task.
    GradeVerdict {
        Pass => "pass",
        Assisted => "assisted",
        Fail => "fail",
    }
}

text_enum! {
    EditSeverity {
        None => "none",
        Cosmetic => "cosmetic",
        Factual => "factual",
    }
}

text_enum! {
    ReviewMethod {
        Automatic => "automatic",
        Human => "human",
        Both => "both",
    }
}

text_enum! {
    Role {
        /// Users, API keys, teams, the price book: everything.
        Admin => "admin",
        /// Defines workflows, task types, success rules, budgets and thresholds for their teams.
        Owner => "owner",
        /// Reads every financial view and export.
        Finance => "finance",
        /// Works the review queue.
        Reviewer => "reviewer",
    }
}

text_enum! {
    QueueReason {
        Sampled => "sampled",
        Forced => "forced",
        SecondGrader => "second_grader",
    }
}

impl TaskStatus {
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Pending => "Pending",
            TaskStatus::Succeeded => "Succeeded",
            TaskStatus::Assisted => "Assisted",
            TaskStatus::Failed => "Failed",
            TaskStatus::Escalated => "Escalated",
            TaskStatus::Abandoned => "Abandoned",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips() {
        for status in TaskStatus::ALL {
            assert_eq!(status.as_str().parse::<TaskStatus>(), Ok(*status));
        }
        for kind in CallKind::ALL {
            assert_eq!(kind.as_str().parse::<CallKind>(), Ok(*kind));
        }
        assert_eq!(
            "second_grader".parse::<QueueReason>(),
            Ok(QueueReason::SecondGrader)
        );
    }

    #[test]
    fn unknown_values_say_what_was_expected() {
        let err = "won".parse::<TaskStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "'won' is not one of: pending succeeded assisted failed escalated abandoned"
        );
    }
}
