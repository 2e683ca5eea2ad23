//! Success rules: what "finished" means for a task type, stated before anything is measured.
//! A rule is stored as JSON; the shapes here are its only vocabulary.

use serde::{Deserialize, Serialize};

/// A success rule, possibly combining others.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The task's output validates against a JSON Schema.
    SchemaValid { schema: serde_json::Value },
    /// Every listed field of the output is present and not empty.
    FieldsPresent { fields: Vec<String> },
    /// The output's `field` equals the expected value's `field` (an approved label).
    ExactMatch { field: String },
    /// A person accepted the output: an `accepted` outcome or a passing grade.
    HumanAccepted {},
    /// No `reopened` outcome within `hours` of the task finishing; pending until then.
    NotReopenedWithin { hours: i64 },
    /// A reported metric compared with a threshold.
    Metric {
        metric: String,
        op: Comparison,
        value: f64,
    },
    /// Every rule holds.
    All { rules: Vec<Rule> },
    /// At least one rule holds.
    Any { rules: Vec<Rule> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<")]
    Below,
}

impl Rule {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a rule always serialises")
    }

    pub fn from_json(text: &str) -> Result<Rule, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_through_their_stored_json() {
        let rule = Rule::All {
            rules: vec![
                Rule::ExactMatch {
                    field: "gl_code".into(),
                },
                Rule::NotReopenedWithin { hours: 48 },
                Rule::Metric {
                    metric: "confidence".into(),
                    op: Comparison::AtLeast,
                    value: 0.8,
                },
            ],
        };
        let json = rule.to_json();
        assert!(
            json.contains(r#""kind":"not_reopened_within","hours":48"#),
            "{json}"
        );
        assert_eq!(Rule::from_json(&json).unwrap(), rule);
    }

    #[test]
    fn unknown_rule_kinds_are_refused() {
        assert!(Rule::from_json(r#"{"kind":"vibes"}"#).is_err());
        assert!(Rule::from_json(r#"{"kind":"human_accepted","extra":1}"#).is_err());
    }
}
