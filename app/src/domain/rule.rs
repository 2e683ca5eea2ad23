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
        op: Operator,
        value: f64,
    },
    /// The score of the latest evaluation result of this name (an OpenTelemetry
    /// `gen_ai.evaluation.result`) compared with a threshold; pending until one arrives.
    EvaluationScore {
        evaluation: String,
        op: Operator,
        value: f64,
    },
    /// The label of the latest evaluation result of this name is this one (letter case aside);
    /// pending until one arrives.
    EvaluationLabel { evaluation: String, label: String },
    /// Every rule holds.
    All { rules: Vec<Rule> },
    /// At least one rule holds.
    Any { rules: Vec<Rule> },
}

/// How a metric is held against its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<")]
    Below,
}

/// How deep all/any combinations may nest: deeper rules are not ones two people read alike.
pub const MAX_DEPTH: usize = 4;
/// The most conditions one rule may hold, all levels together.
pub const MAX_CONDITIONS: usize = 32;
/// The longest reopen window, a year.
pub const MAX_HOURS: i64 = 24 * 365;

/// Why a rule cannot be saved: where in the rule, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct RuleProblem {
    /// Where: `rule`, `rule.rules[1].hours`...
    pub path: String,
    pub reason: String,
}

impl Operator {
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::AtLeast => ">=",
            Operator::AtMost => "<=",
            Operator::Above => ">",
            Operator::Below => "<",
        }
    }

    pub fn from_symbol(text: &str) -> Option<Operator> {
        [
            Operator::AtLeast,
            Operator::AtMost,
            Operator::Above,
            Operator::Below,
        ]
        .into_iter()
        .find(|c| c.symbol() == text)
    }

    fn words(self) -> &'static str {
        match self {
            Operator::AtLeast => "at least",
            Operator::AtMost => "at most",
            Operator::Above => "above",
            Operator::Below => "below",
        }
    }
}

impl Rule {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a rule always serialises")
    }

    pub fn from_json(text: &str) -> Result<Rule, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Checks what the types cannot: names present, windows and numbers in range, combinations
    /// not empty, not too deep or large. A schema's own validity is checked by the server,
    /// which holds the JSON Schema compiler.
    pub fn check(&self) -> Result<(), RuleProblem> {
        let mut count = 0;
        self.check_at("rule", 1, &mut count)
    }

    fn check_at(&self, path: &str, depth: usize, count: &mut usize) -> Result<(), RuleProblem> {
        let problem = |field: &str, reason: &str| RuleProblem {
            path: if field.is_empty() {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            },
            reason: reason.to_owned(),
        };
        *count += 1;
        if *count > MAX_CONDITIONS {
            return Err(problem(
                "",
                &format!("a rule may hold at most {MAX_CONDITIONS} conditions"),
            ));
        }
        let name_ok = |name: &str| !name.trim().is_empty() && name.len() <= 100;
        match self {
            Rule::SchemaValid { schema } if !schema.is_object() && !schema.is_boolean() => {
                Err(problem(
                    "schema",
                    "must be a JSON Schema: an object such as {\"type\": \"object\"}",
                ))
            }
            Rule::FieldsPresent { fields } if fields.is_empty() => {
                Err(problem("fields", "name at least one field"))
            }
            Rule::FieldsPresent { fields } => match fields.iter().position(|f| !name_ok(f)) {
                Some(i) => Err(problem(
                    &format!("fields[{i}]"),
                    "must be a field name of 1 to 100 characters",
                )),
                None => Ok(()),
            },
            Rule::ExactMatch { field } if !name_ok(field) => Err(problem(
                "field",
                "must be a field name of 1 to 100 characters",
            )),
            Rule::NotReopenedWithin { hours } if !(1..=MAX_HOURS).contains(hours) => Err(problem(
                "hours",
                &format!("must be from 1 to {MAX_HOURS} (a year)"),
            )),
            Rule::Metric { metric, .. } if !name_ok(metric) => Err(problem(
                "metric",
                "must be a metric name of 1 to 100 characters",
            )),
            Rule::Metric { value, .. } if !value.is_finite() => {
                Err(problem("value", "must be a finite number"))
            }
            Rule::EvaluationScore { evaluation, .. } | Rule::EvaluationLabel { evaluation, .. }
                if !name_ok(evaluation) =>
            {
                Err(problem(
                    "evaluation",
                    "must be an evaluation name of 1 to 100 characters",
                ))
            }
            Rule::EvaluationScore { value, .. } if !value.is_finite() => {
                Err(problem("value", "must be a finite number"))
            }
            Rule::EvaluationLabel { label, .. } if !name_ok(label) => {
                Err(problem("label", "must be a label of 1 to 100 characters"))
            }
            Rule::All { rules } | Rule::Any { rules } => {
                if rules.is_empty() {
                    return Err(problem("rules", "combine at least one condition"));
                }
                if depth >= MAX_DEPTH {
                    return Err(problem(
                        "rules",
                        &format!("combinations may nest at most {MAX_DEPTH} levels deep"),
                    ));
                }
                for (i, rule) in rules.iter().enumerate() {
                    rule.check_at(&format!("{path}.rules[{i}]"), depth + 1, count)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The rule in plain words, as a reviewer or a product owner reads it.
    pub fn describe(&self) -> String {
        match self {
            Rule::SchemaValid { .. } => {
                "the output is valid against the task type's JSON Schema".to_owned()
            }
            Rule::FieldsPresent { fields } => match fields.as_slice() {
                [one] => format!("the output has a non-empty \"{one}\""),
                many => format!(
                    "the output has non-empty {}",
                    list_words(
                        &many.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>(),
                        "and"
                    )
                ),
            },
            Rule::ExactMatch { field } => {
                format!("the output's \"{field}\" equals the approved expected value")
            }
            Rule::HumanAccepted {} => {
                "a person accepted the output (an accepted outcome or a passing grade)".to_owned()
            }
            Rule::NotReopenedWithin { hours } => {
                let window = if hours % 24 == 0 {
                    let days = hours / 24;
                    format!("{days} day{}", if days == 1 { "" } else { "s" })
                } else {
                    format!("{hours} hour{}", if *hours == 1 { "" } else { "s" })
                };
                format!("it is not reopened within {window} of finishing")
            }
            Rule::Metric { metric, op, value } => {
                format!("the reported \"{metric}\" is {} {value}", op.words())
            }
            Rule::EvaluationScore {
                evaluation,
                op,
                value,
            } => format!(
                "the \"{evaluation}\" evaluation scores {} {value}",
                op.words()
            ),
            Rule::EvaluationLabel { evaluation, label } => {
                format!("the \"{evaluation}\" evaluation's label is \"{label}\"")
            }
            Rule::All { rules } | Rule::Any { rules } if rules.len() == 1 => rules[0].describe(),
            Rule::All { rules } => list_words(&parts(rules), "and"),
            Rule::Any { rules } => format!("either {}", list_words(&parts(rules), "or")),
        }
    }

    /// Whether any condition needs a person: such rules leave tasks pending until graded.
    pub fn needs_a_person(&self) -> bool {
        match self {
            Rule::HumanAccepted {} => true,
            Rule::All { rules } => rules.iter().any(Rule::needs_a_person),
            Rule::Any { rules } => rules.iter().all(Rule::needs_a_person),
            _ => false,
        }
    }
}

fn parts(rules: &[Rule]) -> Vec<String> {
    rules
        .iter()
        .map(|rule| match rule {
            Rule::All { rules } | Rule::Any { rules } if rules.len() > 1 => {
                format!("({})", rule.describe())
            }
            _ => rule.describe(),
        })
        .collect()
}

fn list_words(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        // A comma keeps "a and b, and c" readable when a part has its own conjunction.
        [first, second] if !format!("{first}{second}").contains(&format!(" {conjunction} ")) => {
            format!("{first} {conjunction} {second}")
        }
        [init @ .., last] => format!("{}, {conjunction} {last}", init.join(", ")),
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
                    op: Operator::AtLeast,
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

    #[test]
    fn a_rule_reads_as_one_sentence() {
        let rule = Rule::All {
            rules: vec![
                Rule::ExactMatch {
                    field: "gl_code".into(),
                },
                Rule::NotReopenedWithin { hours: 48 },
                Rule::Any {
                    rules: vec![
                        Rule::HumanAccepted {},
                        Rule::Metric {
                            metric: "confidence".into(),
                            op: Operator::AtLeast,
                            value: 0.9,
                        },
                    ],
                },
            ],
        };
        assert_eq!(
            rule.describe(),
            "the output's \"gl_code\" equals the approved expected value, it is not reopened \
             within 2 days of finishing, and (either a person accepted the output (an accepted \
             outcome or a passing grade), or the reported \"confidence\" is at least 0.9)"
        );
        assert_eq!(
            Rule::NotReopenedWithin { hours: 36 }.describe(),
            "it is not reopened within 36 hours of finishing"
        );
        assert!(!rule.needs_a_person());
        assert!(
            Rule::All {
                rules: vec![Rule::HumanAccepted {}]
            }
            .needs_a_person()
        );
    }

    #[test]
    fn checks_name_the_place_and_the_reason() {
        let rule = Rule::All {
            rules: vec![Rule::FieldsPresent {
                fields: vec!["queue".into(), " ".into()],
            }],
        };
        let problem = rule.check().unwrap_err();
        assert_eq!(problem.path, "rule.rules[0].fields[1]");
        assert_eq!(
            Rule::NotReopenedWithin { hours: 0 }
                .check()
                .unwrap_err()
                .to_string(),
            "rule.hours: must be from 1 to 8760 (a year)"
        );
        assert!(Rule::Any { rules: vec![] }.check().is_err());
        assert!(
            Rule::SchemaValid {
                schema: serde_json::json!(3)
            }
            .check()
            .is_err()
        );
        let metric = Rule::Metric {
            metric: "confidence".into(),
            op: Operator::Above,
            value: f64::NAN,
        };
        assert_eq!(metric.check().unwrap_err().path, "rule.value");
    }

    #[test]
    fn evaluation_rules_read_and_check_like_the_others() {
        let rule = Rule::All {
            rules: vec![
                Rule::EvaluationScore {
                    evaluation: "faithfulness".into(),
                    op: Operator::AtLeast,
                    value: 0.8,
                },
                Rule::EvaluationLabel {
                    evaluation: "resolution".into(),
                    label: "resolved".into(),
                },
            ],
        };
        let json = rule.to_json();
        assert!(
            json.contains(
                r#"{"kind":"evaluation_score","evaluation":"faithfulness","op":">=","value":0.8}"#
            ),
            "{json}"
        );
        assert_eq!(Rule::from_json(&json).unwrap(), rule);
        assert_eq!(
            rule.describe(),
            "the \"faithfulness\" evaluation scores at least 0.8 and the \"resolution\" \
             evaluation's label is \"resolved\""
        );
        assert!(!rule.needs_a_person(), "an evaluator is not a person");
        let unnamed = Rule::EvaluationLabel {
            evaluation: " ".into(),
            label: "resolved".into(),
        };
        assert_eq!(unnamed.check().unwrap_err().path, "rule.evaluation");
        let no_label = Rule::EvaluationLabel {
            evaluation: "resolution".into(),
            label: String::new(),
        };
        assert_eq!(no_label.check().unwrap_err().path, "rule.label");
        let infinite = Rule::EvaluationScore {
            evaluation: "faithfulness".into(),
            op: Operator::Below,
            value: f64::INFINITY,
        };
        assert_eq!(infinite.check().unwrap_err().path, "rule.value");
    }

    #[test]
    fn deep_or_large_rules_are_refused() {
        let mut rule = Rule::HumanAccepted {};
        for _ in 0..MAX_DEPTH {
            rule = Rule::All { rules: vec![rule] };
        }
        assert!(rule.check().unwrap_err().reason.contains("nest"));
        let wide = Rule::Any {
            rules: vec![Rule::HumanAccepted {}; MAX_CONDITIONS],
        };
        assert!(wide.check().unwrap_err().reason.contains("at most"));
        let fine = Rule::Any {
            rules: vec![Rule::HumanAccepted {}; MAX_CONDITIONS - 1],
        };
        assert_eq!(fine.check(), Ok(()));
    }
}
