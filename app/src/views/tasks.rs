//! What the task pages show: the filtered task list and one task's trace.

use crate::views::choice::Choice;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceCallRow {
    pub kind: String,
    pub step: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    /// None where the screen shows no spend (the review screen: reviewers grade work).
    pub cost: Option<CallCost>,
    /// Milliseconds after the task started, and how long the call took.
    pub offset_ms: i64,
    pub latency_ms: i64,
    pub status: String,
    pub error: String,
}

/// What a call cost, and where that figure came from ("priced", "reported").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCost {
    pub amount: String,
    pub source: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceAttemptRow {
    pub number: i64,
    pub correlation_id: String,
    pub status: String,
    pub error: String,
    pub calls: Vec<TraceCallRow>,
}

/// One line of a task's review time: the sender's reported minutes, or one grade's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabourLine {
    pub what: String,
    pub seconds: i64,
}

/// How the task's human-review cost is made: every line of review time, the hourly rate of
/// the team the task is booked to, and the cost they make together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabourView {
    pub lines: Vec<LabourLine>,
    pub rate_micros_per_hour: i64,
    pub rate: String,
    pub team: String,
    /// The task's human-review cost as stored (the figures use this one).
    pub cost: String,
    /// Total seconds priced at the team's rate now: differs from `cost` only when the rate
    /// changed after the task's day was last counted.
    pub at_current_rate: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTrace {
    pub id: i64,
    pub external_id: String,
    pub workflow: String,
    pub workflow_slug: String,
    pub task_type: String,
    pub segment: String,
    pub version: String,
    pub started: String,
    pub duration_ms: i64,
    pub reported: String,
    pub status: String,
    pub reason: String,
    /// The rule version the verdict used, in words.
    pub rule: String,
    pub escalation_reason: String,
    /// (component, amount) with the total last.
    pub costs: Vec<(String, String)>,
    pub labour: LabourView,
    pub attempts: Vec<TraceAttemptRow>,
    /// Why the attempts list no calls, when the task's day was sealed under the retention
    /// setting; empty otherwise.
    pub pruned: String,
    /// The span of the timeline, for drawing bars.
    pub span_ms: i64,
    pub outcomes: Vec<String>,
    /// Automatic evaluation results, one line each, oldest first.
    pub evaluations: Vec<String>,
    pub grades: Vec<String>,
    pub input_summary: String,
    pub output: String,
    pub expected: String,
}

/// A task list's filters as they appear in the address (`/tasks?workflow=…&status=…`), so a
/// filtered list can be shared and exported as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskQuery {
    pub workflow: String,
    pub status: String,
    pub task_type: String,
    pub segment: String,
    pub version: String,
    pub model: String,
    pub reason: String,
    /// First and last day (YYYY-MM-DD); the last 30 days when empty.
    pub from: String,
    pub to: String,
    /// Dollars.
    pub min_cost: String,
    pub max_cost: String,
    pub sort: String,
    pub page: String,
}

impl TaskQuery {
    pub const FIELDS: [&'static str; 13] = [
        "workflow",
        "status",
        "task_type",
        "segment",
        "version",
        "model",
        "reason",
        "from",
        "to",
        "min_cost",
        "max_cost",
        "sort",
        "page",
    ];

    fn values(&self) -> [&String; 13] {
        [
            &self.workflow,
            &self.status,
            &self.task_type,
            &self.segment,
            &self.version,
            &self.model,
            &self.reason,
            &self.from,
            &self.to,
            &self.min_cost,
            &self.max_cost,
            &self.sort,
            &self.page,
        ]
    }

    /// Reads the filters from query parameters by name.
    pub fn from_pairs<'a>(get: impl Fn(&str) -> Option<String> + 'a) -> TaskQuery {
        let field = |name: &str| get(name).unwrap_or_default();
        TaskQuery {
            workflow: field("workflow"),
            status: field("status"),
            task_type: field("task_type"),
            segment: field("segment"),
            version: field("version"),
            model: field("model"),
            reason: field("reason"),
            from: field("from"),
            to: field("to"),
            min_cost: field("min_cost"),
            max_cost: field("max_cost"),
            sort: field("sort"),
            page: field("page"),
        }
    }

    /// The non-empty filters as a query string, with `page` replaced (or dropped for 0).
    pub fn to_query(&self, page: Option<u64>) -> String {
        let mut parts: Vec<String> = Self::FIELDS
            .iter()
            .zip(self.values())
            .filter(|(name, value)| **name != "page" && !value.is_empty())
            .map(|(name, value)| {
                format!("{name}={}", crate::views::format::encode_query_value(value))
            })
            .collect();
        if let Some(page) = page.filter(|p| *p > 0) {
            parts.push(format!("page={page}"));
        }
        parts.join("&")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLine {
    pub id: i64,
    pub external_id: String,
    pub workflow: String,
    pub task_type: String,
    pub segment: String,
    pub version: String,
    pub model: String,
    pub status: String,
    pub started: String,
    pub duration: String,
    pub cost: String,
    pub attempts: i64,
    pub calls: i64,
    pub tokens: i64,
    pub escalation_reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskList {
    pub rows: Vec<TaskLine>,
    pub total: i64,
    pub page: u64,
    pub pages: u64,
    pub window: String,
    pub workflows: Vec<Choice>,
    pub task_types: Vec<Choice>,
    pub versions: Vec<Choice>,
}

/// Rows per page of the task list.
pub const PAGE_SIZE: i64 = 50;
