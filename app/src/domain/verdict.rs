//! A task's verdict: the success rule in force applied to the evidence gathered so far.
//!
//! The sending system's report comes first (a task it escalated or abandoned is that, whatever
//! the rule says). A completed task is judged by its rule, except that a person's grade
//! overrides the rule's checks of the output: the first grade decides (later grades measure
//! agreement). A grade judges the output as it was when graded; a reopen is a later fact about
//! the outcome, so after a passing grade the rule's reopen windows still apply: the task waits
//! for them to close, and a reopen within one fails it.
//! A rule that needs more evidence leaves the task *pending*, with the time it can be decided
//! when that is known.

use super::rule::{Operator, Rule};
use super::status::{GradeVerdict, OutcomeKind, ReportedStatus, TaskStatus};
use serde_json::Value;
use std::collections::BTreeMap;

const MS_PER_HOUR: i64 = 3_600_000;

/// Everything known about one task that a rule can look at.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    pub reported: Option<ReportedStatus>,
    pub finished_at: Option<i64>,
    pub output: Option<Value>,
    pub expected: Option<Value>,
    /// Automatic checks the sender ran, by name (`schema_valid`, `fields_present`, ...).
    pub checks: BTreeMap<String, bool>,
    /// Numbers the sender reported (`confidence`, `amount_error`, ...).
    pub metrics: BTreeMap<String, f64>,
    /// Human grades, oldest first.
    pub grades: Vec<GradeVerdict>,
    /// Late outcome events with their times.
    pub outcomes: Vec<(OutcomeKind, i64)>,
    /// Automatic evaluation results, oldest first.
    pub evaluations: Vec<EvaluationResult>,
}

/// One automatic judgement of the task's output: an evaluator's score, label, or both.
#[derive(Clone, Debug, PartialEq)]
pub struct EvaluationResult {
    pub name: String,
    pub score: Option<f64>,
    pub label: Option<String>,
    pub evaluated_at: i64,
}

/// The verdict and why, in words a reviewer can check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: TaskStatus,
    pub reason: String,
    /// For a pending task, when the evidence window closes (if a time decides it).
    pub pending_until: Option<i64>,
}

impl Verdict {
    fn new(status: TaskStatus, reason: impl Into<String>) -> Verdict {
        Verdict {
            status,
            reason: reason.into(),
            pending_until: None,
        }
    }
}

/// What one rule says about the evidence.
#[derive(Clone, Debug, PartialEq)]
enum Finding {
    Pass(String),
    Fail(String),
    Pending(Option<i64>, String),
}

/// Decides a task's verdict under `rule` at time `now` (epoch milliseconds).
pub fn evaluate_task(rule: Option<&Rule>, evidence: &Evidence, now: i64) -> Verdict {
    match evidence.reported {
        None | Some(ReportedStatus::Running) => {
            return Verdict::new(TaskStatus::Pending, "The task has not finished yet");
        }
        Some(ReportedStatus::Escalated) => {
            return Verdict::new(
                TaskStatus::Escalated,
                "Handed to a person by the sending system",
            );
        }
        Some(ReportedStatus::Abandoned) => {
            return Verdict::new(TaskStatus::Abandoned, "Abandoned before finishing");
        }
        Some(ReportedStatus::Failed) => {
            return Verdict::new(TaskStatus::Failed, "The sending system reported a failure");
        }
        Some(ReportedStatus::Completed) => {}
    }
    let graded = match evidence.grades.first() {
        Some(GradeVerdict::Assisted) => {
            return Verdict::new(TaskStatus::Assisted, "A reviewer had to repair facts");
        }
        Some(GradeVerdict::Fail) => {
            return Verdict::new(TaskStatus::Failed, "A reviewer failed the output");
        }
        Some(GradeVerdict::Pass) => true,
        None => false,
    };
    let Some(rule) = rule else {
        return match graded {
            true => Verdict::new(TaskStatus::Succeeded, "A reviewer passed the output"),
            false => Verdict::new(
                TaskStatus::Pending,
                "No success rule is defined for this task type yet",
            ),
        };
    };
    match find(rule, evidence, now, graded) {
        Finding::Pass(reason) => Verdict::new(TaskStatus::Succeeded, reason),
        Finding::Fail(reason) => Verdict::new(TaskStatus::Failed, reason),
        Finding::Pending(until, reason) => Verdict {
            status: TaskStatus::Pending,
            reason,
            pending_until: until,
        },
    }
}

fn find(rule: &Rule, evidence: &Evidence, now: i64, graded: bool) -> Finding {
    let passed_by_reviewer = || Finding::Pass("A reviewer passed the output".into());
    match rule {
        Rule::NotReopenedWithin { hours } => not_reopened_within(*hours, evidence, now),
        Rule::All { rules } => all(rules.iter().map(|r| find(r, evidence, now, graded))),
        Rule::Any { rules } => any(rules.iter().map(|r| find(r, evidence, now, graded))),
        _ if graded => passed_by_reviewer(),
        Rule::SchemaValid { schema } => schema_valid(schema, evidence),
        Rule::FieldsPresent { fields } => fields_present(fields, evidence),
        Rule::ExactMatch { field } => exact_match(field, evidence),
        Rule::HumanAccepted {} => human_accepted(evidence),
        Rule::Metric {
            metric: name,
            op,
            value,
        } => metric(name, *op, *value, evidence),
        Rule::EvaluationScore {
            evaluation: name,
            op,
            value,
        } => evaluation_score(name, *op, *value, evidence),
        Rule::EvaluationLabel {
            evaluation: name,
            label,
        } => evaluation_label(name, label, evidence),
    }
}

fn all(findings: impl Iterator<Item = Finding>) -> Finding {
    let mut pending: Option<(Option<i64>, String)> = None;
    let mut reasons = Vec::new();
    for finding in findings {
        match finding {
            Finding::Fail(reason) => return Finding::Fail(reason),
            Finding::Pending(until, reason) => {
                let later = match &pending {
                    Some((Some(current), _)) => until.is_none_or(|u| u > *current),
                    Some((None, _)) => false,
                    None => true,
                };
                if later {
                    pending = Some((until, reason));
                }
            }
            Finding::Pass(reason) => reasons.push(reason),
        }
    }
    match pending {
        Some((until, reason)) => Finding::Pending(until, reason),
        None => Finding::Pass(reasons.join("; ")),
    }
}

fn any(findings: impl Iterator<Item = Finding>) -> Finding {
    let mut pending = None;
    let mut reasons = Vec::new();
    for finding in findings {
        match finding {
            Finding::Pass(reason) => return Finding::Pass(reason),
            Finding::Pending(until, reason) => pending = pending.or(Some((until, reason))),
            Finding::Fail(reason) => reasons.push(reason),
        }
    }
    match pending {
        Some((until, reason)) => Finding::Pending(until, reason),
        None => Finding::Fail(reasons.join("; ")),
    }
}

fn not_reopened_within(hours: i64, evidence: &Evidence, now: i64) -> Finding {
    let Some(finished_at) = evidence.finished_at else {
        return Finding::Pending(None, "Waiting for the task's finish time".into());
    };
    let window_end = finished_at + hours * MS_PER_HOUR;
    let reopened = evidence
        .outcomes
        .iter()
        .filter(|(kind, at)| *kind == OutcomeKind::Reopened && *at <= window_end)
        .map(|(_, at)| *at)
        .min();
    match reopened {
        Some(at) => Finding::Fail(format!(
            "Reopened {} h after finishing, within the {hours} h window",
            (at - finished_at).max(0) / MS_PER_HOUR
        )),
        None if now < window_end => Finding::Pending(
            Some(window_end),
            format!("Waiting for the {hours} h reopen window to close"),
        ),
        None => Finding::Pass(format!("Not reopened within {hours} h")),
    }
}

fn schema_valid(schema: &Value, evidence: &Evidence) -> Finding {
    if let Some(valid) = evidence.checks.get("schema_valid") {
        return reported_check("schema_valid", *valid);
    }
    let Some(output) = &evidence.output else {
        return Finding::Fail("No output to validate against the schema".into());
    };
    match jsonschema::validator_for(schema) {
        Err(err) => Finding::Fail(format!("The rule's schema is not valid: {err}")),
        Ok(validator) => match validator.iter_errors(output).next() {
            None => Finding::Pass("The output matches the schema".into()),
            Some(err) => Finding::Fail(format!(
                "The output does not match the schema at '{}': {err}",
                err.instance_path()
            )),
        },
    }
}

fn reported_check(name: &str, passed: bool) -> Finding {
    match passed {
        true => Finding::Pass(format!("The sender's {name} check passed")),
        false => Finding::Fail(format!("The sender's {name} check failed")),
    }
}

fn fields_present(fields: &[String], evidence: &Evidence) -> Finding {
    if let Some(passed) = evidence.checks.get("fields_present") {
        return reported_check("fields_present", *passed);
    }
    let Some(output) = &evidence.output else {
        return Finding::Fail("No output to look for the required fields in".into());
    };
    let missing: Vec<&str> = fields
        .iter()
        .filter(|f| is_empty(field(output, f)))
        .map(String::as_str)
        .collect();
    match missing.as_slice() {
        [] => Finding::Pass("Every required field is present".into()),
        _ => Finding::Fail(format!("Missing required fields: {}", missing.join(", "))),
    }
}

fn exact_match(name: &str, evidence: &Evidence) -> Finding {
    if let Some(passed) = evidence.checks.get("exact_match") {
        return reported_check("exact_match", *passed);
    }
    let Some(expected) = evidence.expected.as_ref().and_then(|e| field(e, name)) else {
        return Finding::Pending(None, format!("Waiting for the expected value of '{name}'"));
    };
    match evidence.output.as_ref().and_then(|o| field(o, name)) {
        Some(actual) if actual == expected => {
            Finding::Pass(format!("'{name}' matches the expected value"))
        }
        Some(actual) => Finding::Fail(format!("'{name}' is {actual}, expected {expected}")),
        None => Finding::Fail(format!("The output has no '{name}'")),
    }
}

fn human_accepted(evidence: &Evidence) -> Finding {
    let verdict = evidence
        .outcomes
        .iter()
        .filter(|(kind, _)| matches!(kind, OutcomeKind::Accepted | OutcomeKind::Rejected))
        .max_by_key(|(_, at)| *at);
    match verdict {
        Some((OutcomeKind::Accepted, _)) => Finding::Pass("A person accepted the output".into()),
        Some(_) => Finding::Fail("A person rejected the output".into()),
        None => Finding::Pending(
            None,
            "Waiting for a person to accept or reject the output".into(),
        ),
    }
}

fn metric(name: &str, op: Operator, threshold: f64, evidence: &Evidence) -> Finding {
    let Some(value) = evidence
        .metrics
        .get(name)
        .copied()
        .filter(|v| v.is_finite())
    else {
        return Finding::Fail(format!("The metric '{name}' was not reported"));
    };
    compare(&format!("'{name}'"), value, op, threshold)
}

fn compare(what: &str, value: f64, op: Operator, threshold: f64) -> Finding {
    let holds = match op {
        Operator::AtLeast => value >= threshold,
        Operator::AtMost => value <= threshold,
        Operator::Above => value > threshold,
        Operator::Below => value < threshold,
    };
    let text = format!(
        "{what} is {value}; the rule needs {} {threshold}",
        op.symbol()
    );
    if holds {
        Finding::Pass(text)
    } else {
        Finding::Fail(text)
    }
}

/// The latest evaluation result of this name: the last evaluated, the last sent on a tie.
fn latest_evaluation<'e>(name: &str, evidence: &'e Evidence) -> Option<&'e EvaluationResult> {
    evidence
        .evaluations
        .iter()
        .filter(|e| e.name == name)
        .max_by_key(|e| e.evaluated_at)
}

fn evaluation_score(name: &str, op: Operator, threshold: f64, evidence: &Evidence) -> Finding {
    let Some(result) = latest_evaluation(name, evidence) else {
        return Finding::Pending(None, format!("Waiting for the '{name}' evaluation"));
    };
    match result.score.filter(|s| s.is_finite()) {
        Some(score) => compare(
            &format!("The '{name}' evaluation's score"),
            score,
            op,
            threshold,
        ),
        None => Finding::Fail(format!(
            "The latest '{name}' evaluation has a label but no score"
        )),
    }
}

fn evaluation_label(name: &str, wanted: &str, evidence: &Evidence) -> Finding {
    let Some(result) = latest_evaluation(name, evidence) else {
        return Finding::Pending(None, format!("Waiting for the '{name}' evaluation"));
    };
    match result.label.as_deref() {
        Some(label) if label.trim().eq_ignore_ascii_case(wanted.trim()) => {
            Finding::Pass(format!("The '{name}' evaluation's label is '{label}'"))
        }
        Some(label) => Finding::Fail(format!(
            "The '{name}' evaluation's label is '{label}'; the rule needs '{wanted}'"
        )),
        None => Finding::Fail(format!(
            "The latest '{name}' evaluation has a score but no label"
        )),
    }
}

/// A field by name, or by JSON Pointer when the name starts with '/'.
fn field<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    if name.starts_with('/') {
        value.pointer(name)
    } else {
        value.get(name)
    }
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HOUR: i64 = MS_PER_HOUR;

    fn completed(output: Value) -> Evidence {
        Evidence {
            reported: Some(ReportedStatus::Completed),
            finished_at: Some(100 * HOUR),
            output: Some(output),
            ..Default::default()
        }
    }

    #[test]
    fn a_ticket_reopened_within_48_hours_turns_success_into_failure() {
        let rule = Rule::NotReopenedWithin { hours: 48 };
        let mut evidence = completed(json!({}));
        let waiting = evaluate_task(Some(&rule), &evidence, 120 * HOUR);
        assert_eq!(waiting.status, TaskStatus::Pending);
        assert_eq!(waiting.pending_until, Some(148 * HOUR));
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 149 * HOUR).status,
            TaskStatus::Succeeded
        );

        evidence.outcomes.push((OutcomeKind::Reopened, 130 * HOUR));
        let reopened = evaluate_task(Some(&rule), &evidence, 200 * HOUR);
        assert_eq!(reopened.status, TaskStatus::Failed);
        assert_eq!(
            reopened.reason,
            "Reopened 30 h after finishing, within the 48 h window"
        );
    }

    #[test]
    fn a_reopen_after_the_window_does_not_count() {
        let mut evidence = completed(json!({}));
        evidence.outcomes.push((OutcomeKind::Reopened, 160 * HOUR));
        let verdict = evaluate_task(
            Some(&Rule::NotReopenedWithin { hours: 48 }),
            &evidence,
            200 * HOUR,
        );
        assert_eq!(verdict.status, TaskStatus::Succeeded);
    }

    #[test]
    fn exact_match_compares_with_the_approved_label_and_waits_for_it() {
        let rule = Rule::ExactMatch {
            field: "gl_code".into(),
        };
        let mut evidence = completed(json!({"gl_code": "6100"}));
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).status,
            TaskStatus::Pending
        );
        evidence.expected = Some(json!({"gl_code": "6100"}));
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).status,
            TaskStatus::Succeeded
        );
        evidence.expected = Some(json!({"gl_code": "6999"}));
        let wrong = evaluate_task(Some(&rule), &evidence, 0);
        assert_eq!(
            (wrong.status, wrong.reason.as_str()),
            (
                TaskStatus::Failed,
                r#"'gl_code' is "6100", expected "6999""#
            )
        );
    }

    #[test]
    fn a_schema_rule_validates_the_output_unless_the_sender_ran_the_check() {
        let schema = json!({"type": "object", "required": ["decision", "amount_cents"],
            "properties": {"amount_cents": {"type": "integer", "minimum": 0}}});
        let rule = Rule::SchemaValid { schema };
        let good = completed(json!({"decision": "approve", "amount_cents": 1250}));
        assert_eq!(
            evaluate_task(Some(&rule), &good, 0).status,
            TaskStatus::Succeeded
        );
        let bad = completed(json!({"decision": "approve", "amount_cents": "12.50"}));
        let verdict = evaluate_task(Some(&rule), &bad, 0);
        assert_eq!(verdict.status, TaskStatus::Failed);
        assert!(
            verdict.reason.contains("/amount_cents"),
            "{}",
            verdict.reason
        );
        let mut reported = bad.clone();
        reported.checks.insert("schema_valid".into(), true);
        assert_eq!(
            evaluate_task(Some(&rule), &reported, 0).status,
            TaskStatus::Succeeded
        );
    }

    #[test]
    fn required_fields_must_be_present_and_not_empty() {
        let rule = Rule::FieldsPresent {
            fields: vec!["vendor".into(), "/lines/0/amount".into()],
        };
        let ok = completed(json!({"vendor": "Acme", "lines": [{"amount": 3}]}));
        assert_eq!(
            evaluate_task(Some(&rule), &ok, 0).status,
            TaskStatus::Succeeded
        );
        let missing = completed(json!({"vendor": " ", "lines": []}));
        let verdict = evaluate_task(Some(&rule), &missing, 0);
        assert_eq!(
            verdict.reason,
            "Missing required fields: vendor, /lines/0/amount"
        );
    }

    #[test]
    fn a_human_grade_overrides_automatic_checks_but_not_the_reopen_window() {
        let rule = Rule::All {
            rules: vec![
                Rule::ExactMatch {
                    field: "category".into(),
                },
                Rule::NotReopenedWithin { hours: 48 },
            ],
        };
        let mut evidence = completed(json!({"category": "billing"}));
        evidence.expected = Some(json!({"category": "access"}));
        evidence.grades = vec![GradeVerdict::Pass, GradeVerdict::Fail];
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 200 * HOUR).status,
            TaskStatus::Succeeded
        );
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 110 * HOUR).status,
            TaskStatus::Pending
        );
        evidence.grades = vec![GradeVerdict::Assisted];
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 200 * HOUR).status,
            TaskStatus::Assisted
        );
    }

    #[test]
    fn a_ticket_a_reviewer_passed_fails_when_it_is_reopened_within_the_window() {
        let rule = Rule::All {
            rules: vec![
                Rule::ExactMatch {
                    field: "category".into(),
                },
                Rule::NotReopenedWithin { hours: 48 },
            ],
        };
        let mut evidence = completed(json!({"category": "billing"}));
        evidence.grades = vec![GradeVerdict::Pass];
        evidence.outcomes.push((OutcomeKind::Reopened, 130 * HOUR));
        let verdict = evaluate_task(Some(&rule), &evidence, 200 * HOUR);
        assert_eq!(
            (verdict.status, verdict.reason.as_str()),
            (
                TaskStatus::Failed,
                "Reopened 30 h after finishing, within the 48 h window"
            ),
            "the customer came back after the grade: the ticket was not resolved"
        );
        evidence.outcomes = vec![(OutcomeKind::Reopened, 160 * HOUR)];
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 200 * HOUR).status,
            TaskStatus::Succeeded,
            "a reopen after the window leaves the grade standing"
        );
    }

    #[test]
    fn the_senders_report_decides_escalated_abandoned_and_running_tasks() {
        let rule = Rule::HumanAccepted {};
        for (reported, status) in [
            (ReportedStatus::Escalated, TaskStatus::Escalated),
            (ReportedStatus::Abandoned, TaskStatus::Abandoned),
            (ReportedStatus::Failed, TaskStatus::Failed),
            (ReportedStatus::Running, TaskStatus::Pending),
        ] {
            let evidence = Evidence {
                reported: Some(reported),
                grades: vec![GradeVerdict::Pass],
                ..Default::default()
            };
            assert_eq!(evaluate_task(Some(&rule), &evidence, 0).status, status);
        }
    }

    #[test]
    fn any_passes_on_one_pass_and_all_fails_on_one_failure() {
        let accepted = Rule::HumanAccepted {};
        let confident = Rule::Metric {
            metric: "confidence".into(),
            op: Operator::AtLeast,
            value: 0.8,
        };
        let mut evidence = completed(json!({}));
        evidence.metrics.insert("confidence".into(), 0.9);
        let any = Rule::Any {
            rules: vec![accepted.clone(), confident.clone()],
        };
        assert_eq!(
            evaluate_task(Some(&any), &evidence, 0).status,
            TaskStatus::Succeeded
        );
        let all = Rule::All {
            rules: vec![accepted, confident],
        };
        assert_eq!(
            evaluate_task(Some(&all), &evidence, 0).status,
            TaskStatus::Pending
        );
        evidence.outcomes.push((OutcomeKind::Rejected, 5));
        let rejected = evaluate_task(Some(&all), &evidence, 0);
        assert_eq!(
            (rejected.status, rejected.reason.as_str()),
            (TaskStatus::Failed, "A person rejected the output")
        );
    }

    fn evaluated(name: &str, score: Option<f64>, label: Option<&str>, at: i64) -> EvaluationResult {
        EvaluationResult {
            name: name.into(),
            score,
            label: label.map(str::to_owned),
            evaluated_at: at,
        }
    }

    #[test]
    fn evaluation_rules_wait_for_the_result_and_read_the_latest() {
        let rule = Rule::EvaluationScore {
            evaluation: "faithfulness".into(),
            op: Operator::AtLeast,
            value: 0.8,
        };
        let mut evidence = completed(json!({}));
        let waiting = evaluate_task(Some(&rule), &evidence, 0);
        assert_eq!(
            (waiting.status, waiting.reason.as_str()),
            (
                TaskStatus::Pending,
                "Waiting for the 'faithfulness' evaluation"
            )
        );
        evidence.evaluations = vec![
            evaluated("faithfulness", Some(0.95), None, 200),
            evaluated("faithfulness", Some(0.4), None, 100),
            evaluated("relevance", Some(0.1), None, 300),
        ];
        let passed = evaluate_task(Some(&rule), &evidence, 0);
        assert_eq!(
            (passed.status, passed.reason.as_str()),
            (
                TaskStatus::Succeeded,
                "The 'faithfulness' evaluation's score is 0.95; the rule needs >= 0.8"
            ),
            "the latest result decides, whatever order they were sent in"
        );
        evidence
            .evaluations
            .push(evaluated("faithfulness", Some(0.8), None, 200));
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).status,
            TaskStatus::Succeeded,
            "0.8 is at least 0.8"
        );
        evidence
            .evaluations
            .push(evaluated("faithfulness", Some(0.79), None, 400));
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).status,
            TaskStatus::Failed
        );
        evidence
            .evaluations
            .push(evaluated("faithfulness", None, Some("faithful"), 500));
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).reason,
            "The latest 'faithfulness' evaluation has a label but no score"
        );
    }

    #[test]
    fn a_label_rule_ignores_letter_case_and_a_grade_overrides_the_evaluator() {
        let rule = Rule::EvaluationLabel {
            evaluation: "resolution".into(),
            label: "resolved".into(),
        };
        let mut evidence = completed(json!({}));
        evidence.evaluations = vec![evaluated("resolution", Some(1.0), Some("Resolved"), 1)];
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).status,
            TaskStatus::Succeeded
        );
        evidence.evaluations = vec![evaluated("resolution", None, Some("unresolved"), 1)];
        let failed = evaluate_task(Some(&rule), &evidence, 0);
        assert_eq!(
            (failed.status, failed.reason.as_str()),
            (
                TaskStatus::Failed,
                "The 'resolution' evaluation's label is 'unresolved'; the rule needs 'resolved'"
            )
        );
        evidence.grades = vec![GradeVerdict::Pass];
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).status,
            TaskStatus::Succeeded,
            "a person's grade overrides automatic evidence"
        );
        evidence.grades = vec![GradeVerdict::Fail];
        evidence.evaluations = vec![evaluated("resolution", None, Some("resolved"), 1)];
        assert_eq!(
            evaluate_task(Some(&rule), &evidence, 0).status,
            TaskStatus::Failed
        );
    }

    #[test]
    fn without_a_rule_only_a_reviewer_can_decide_success() {
        let mut evidence = completed(json!({}));
        assert_eq!(
            evaluate_task(None, &evidence, 0).status,
            TaskStatus::Pending
        );
        evidence.grades.push(GradeVerdict::Pass);
        assert_eq!(
            evaluate_task(None, &evidence, 0).status,
            TaskStatus::Succeeded
        );
    }
}
