//! What the alerts page shows and its forms send.

use super::choice::Choice;
use serde::{Deserialize, Serialize};

/// Which alerts the page lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertQuery {
    /// `open` (firing or acknowledged), `firing`, `acknowledged`, `resolved`, or empty for all.
    pub state: String,
    /// A workflow's handle, or empty for every workflow the reader sees.
    pub workflow: String,
    /// Resolved alerts of the last this many days are listed (30 unless chosen).
    pub days: i64,
}

/// An alert as a page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertLine {
    pub id: i64,
    /// `firing`, `acknowledged` or `resolved`.
    pub state: String,
    pub kind: String,
    /// The workflow or team it is about, by name.
    pub subject: String,
    /// Where the subject's page is (a workflow's), if it has one.
    pub subject_href: Option<String>,
    pub headline: String,
    pub cause: String,
    /// The comparison of the two periods (or versions) behind it, if any.
    pub compare_href: Option<String>,
    pub fired_at: String,
    pub acknowledged: Option<String>,
    pub resolved: Option<String>,
    pub rule_id: i64,
    pub rule_version: i64,
    pub deliveries: Vec<DeliveryLine>,
    /// Whether the reader may acknowledge it.
    pub can_acknowledge: bool,
}

/// One notification of an alert (or a rule's test) and its attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLine {
    pub event: String,
    pub channel: String,
    pub target: String,
    /// `delivered`, `retrying` or `gave up`, with when.
    pub status: String,
    pub attempts: Vec<String>,
}

/// A rule as the rule list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleLine {
    pub id: i64,
    pub version: i64,
    pub kind: String,
    pub subject: String,
    /// The condition with its settings, in words.
    pub condition: String,
    /// Where it sends alerts, in words.
    pub delivery: String,
    /// Whether it sends anywhere beyond the pages (a webhook or emails): what a test tries.
    pub sends: bool,
    pub paused: bool,
    pub last_check: String,
    pub editable: bool,
    pub form: RuleForm,
    /// Test sends of this rule, newest first.
    pub tests: Vec<DeliveryLine>,
}

/// The alerts page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertsView {
    pub query: AlertQuery,
    pub alerts: Vec<AlertLine>,
    pub rules: Vec<RuleLine>,
    /// Subjects the reader may watch: `workflow:<id>` and `team:<id>`.
    pub subjects: Vec<Choice>,
    /// Workflows the filter offers (handle, name).
    pub workflows: Vec<Choice>,
    pub can_define: bool,
}

/// What the rule form sends. Numbers travel as text and are checked by the server, which
/// names the field it refuses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleForm {
    /// `workflow:<id>` or `team:<id>`.
    pub subject: String,
    pub kind: String,
    pub window_days: String,
    pub min_tasks: String,
    /// Dollars, spend budgets only.
    pub monthly_budget: String,
    /// Percentages, comma-separated: `80, 90, 100`.
    pub thresholds: String,
    pub webhook_url: String,
    pub webhook_format: String,
    /// Editing: take the webhook off (an empty address otherwise keeps the saved one).
    pub remove_webhook: bool,
    /// Roles emailed: `admin`, `owner` (of the subject's team), `finance`.
    pub email_roles: Vec<String>,
    pub paused: bool,
}

/// A saved rule: its id and, when a webhook was set up, the signing secret (shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSaved {
    pub id: i64,
    pub version: i64,
    pub secret: Option<String>,
}

/// A workflow page's open alerts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenAlerts {
    pub alerts: Vec<AlertLine>,
}
