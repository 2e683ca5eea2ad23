//! What the workflow pages show and send: the list, one workflow's settings, economics,
//! engineering health and trend, the rule editor's preview, and the version comparison.

use crate::domain::Micros;
use crate::domain::cpst::Cpst;
use crate::domain::status::TaskStatus;
use crate::model::SuccessRule;
use crate::views::choice::Choice;
use crate::views::review::{AgreementView, QueueHealth};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRow {
    pub slug: String,
    pub name: String,
    pub team: String,
    pub budget: String,
    pub quality_target: String,
    pub sampling: String,
    pub task_types: usize,
    pub autonomy_level: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowsView {
    pub workflows: Vec<WorkflowRow>,
    /// Teams this viewer may create workflows for; empty when they may not.
    pub teams: Vec<Choice>,
}

/// A workflow's settings as the form shows and sends them (exact values, not rounded for
/// reading); the success service checks them (`parse_settings`). `id` is 0 for a new workflow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsForm {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub team_id: i64,
    pub description: String,
    pub budget: String,
    pub quality_target: String,
    pub gate_window_days: String,
    pub gate_min_sample: String,
    pub drift_tolerance: String,
    pub sampling_rate: String,
    pub second_grader_rate: String,
    /// Seconds of p95 task time; empty for no budget.
    pub latency_budget: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleVersion {
    pub version: i64,
    pub description: String,
    pub definition: String,
    pub effective_from: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTypeView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub user_goal: String,
    pub pass_condition: String,
    pub review_method: String,
    pub segments: String,
    /// Every version, oldest first; the last one is in force.
    pub rules: Vec<RuleVersion>,
    /// The human baseline in force, as the form shows it: minutes ("6" or "7.5"), where the
    /// figure comes from, and the outcome-priced reference in dollars; empty when none.
    pub baseline_minutes: String,
    pub baseline_source: String,
    pub baseline_reference: String,
    /// Every baseline version in words, oldest first.
    pub baseline_history: Vec<String>,
}

/// One day or week of the workflow's trend, with the baselines that start in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendRow {
    /// The period's first day (`YYYY-MM-DD`).
    pub period: String,
    pub decided: u64,
    pub success_rate: Option<f64>,
    pub cpst: Cpst,
    /// Spend by component (model, tool, retry, cache, human review, platform).
    pub costs: crate::domain::cpst::CostBreakdown,
    pub baselines: Vec<String>,
    /// The period has not ended: today is in it, so its figures are still growing.
    pub partial: bool,
}

/// The trend's periods: twelve weeks, or the last thirty days one by one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrendBy {
    #[default]
    Week,
    Day,
}

impl TrendBy {
    pub fn parse(text: &str) -> TrendBy {
        match text {
            "day" => TrendBy::Day,
            _ => TrendBy::Week,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrendBy::Week => "week",
            TrendBy::Day => "day",
        }
    }
}

/// One group's unit economics: what a finished task costs and what failure adds to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EconomicsRow {
    pub label: String,
    /// For linking to the task list: `task_type=<slug>` or `segment=<name>`.
    pub filter: String,
    pub decided: u64,
    pub success_rate: Option<f64>,
    pub cpst: Cpst,
    pub cost_per_attempted: Option<Micros>,
    pub total: Micros,
}

/// The last 30 days of a workflow in money: the cost components, the failure tax, and the
/// split by task type and by segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Economics {
    pub from: String,
    pub to: String,
    /// (component, amount, share of the total).
    pub components: Vec<(String, Micros, Option<f64>)>,
    pub all: EconomicsRow,
    pub by_task_type: Vec<EconomicsRow>,
    pub by_segment: Vec<EconomicsRow>,
    /// Against the human baseline of its task types (uncovered when none has one).
    pub savings: crate::report::savings::Savings,
}

/// What changed between the last 30 days and the 30 before: the cost per success and success
/// rate, the components that moved most, and the configuration versions and success rules that
/// took effect since the earlier period began. The first place to look when a workflow goes over budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangePanel {
    pub from: String,
    pub to: String,
    pub before_from: String,
    pub before_to: String,
    pub cpst: Cpst,
    pub cpst_before: Cpst,
    pub success_rate: Option<f64>,
    pub success_rate_before: Option<f64>,
    /// The components whose cost per successful task moved most, largest move first.
    pub components: Vec<ComponentChange>,
    pub versions: Vec<VersionChange>,
    /// "Refund: rule v3 from 2026-11-20", in order.
    pub rules: Vec<String>,
}

/// One cost component's share of each success, now and before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentChange {
    pub name: String,
    pub per_success: Option<Micros>,
    pub per_success_before: Option<Micros>,
}

/// A configuration version first seen in the window, with a comparison against the one before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionChange {
    pub label: String,
    pub since: String,
    /// The comparison page's query: this version against the one before it.
    pub compare: String,
}

impl EconomicsRow {
    /// CPST above the cost per attempted task: what failed, assisted and abandoned work adds
    /// to each success.
    pub fn failure_tax(&self) -> Option<Micros> {
        self.cpst
            .micros()?
            .checked_sub(self.cost_per_attempted?)
            .ok()
    }
}

/// How the work runs, last 30 days: what an engineer tunes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineeringHealth {
    /// Success rate with its 95% Wilson interval.
    pub success: Option<(f64, f64, f64)>,
    pub pass_at_1: Option<f64>,
    pub pass_at_3: Option<f64>,
    pub retry_rate: Option<f64>,
    pub calls_per_task: Option<f64>,
    pub tokens_per_task: Option<f64>,
    /// Task latency and cost per task: (median, p95, max).
    pub latency_ms: (i64, i64, i64),
    pub cost_per_task: (Micros, Micros, Micros),
    /// Share of the tasks' cost carried by the costliest 5%.
    pub costliest_share: Option<f64>,
    /// (task id, sender id, verdict, cost).
    pub costliest: Vec<(i64, String, String, Micros)>,
    /// (reason, count, cumulative share of escalations), most frequent first.
    pub escalations: Vec<(String, u64, f64)>,
    /// Per step and model: (step, model, calls, error rate, cost, mean latency ms).
    pub steps: Vec<(String, String, i64, f64, Micros, i64)>,
    /// How many decided tasks cost how much (call cost and review labour).
    pub cost_histogram: Vec<crate::domain::stats::Bin>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowDetail {
    /// Open alerts on the workflow or its team, shown first.
    pub alerts: Vec<crate::views::alerts::AlertLine>,
    pub changes: ChangePanel,
    /// How the pages name the workflow: its slug, or `team:slug` when the viewer sees another
    /// workflow with the same slug.
    pub handle: String,
    pub economics: Economics,
    /// What moves the CPST over the last 30 days, against the 30 before.
    pub levers: crate::report::levers::Levers,
    /// Retrieval, prompt size and failing steps, from calls.
    pub call_levers: crate::report::call_levers::CallLevers,
    pub health_30d: EngineeringHealth,
    pub settings: SettingsForm,
    pub team: String,
    pub summary: Vec<(String, String)>,
    pub task_types: Vec<TaskTypeView>,
    pub trend_by: TrendBy,
    pub trend: Vec<TrendRow>,
    pub editable: bool,
    pub teams: Vec<Choice>,
    /// Owners' views: the review queue and reviewer agreement.
    pub health: Option<QueueHealth>,
    pub agreement: Option<AgreementView>,
}

/// What a draft rule would have done to the last days of a task type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RulePreview {
    pub description: String,
    pub first_day: i64,
    pub last_day: i64,
    pub tasks: u64,
    pub now: Outlook,
    pub draft: Outlook,
    /// Tasks whose verdict the draft changes.
    pub changed: u64,
    /// A few of them, for the owner to check.
    pub examples: Vec<ChangedTask>,
}

/// Verdict counts and CPST under one rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outlook {
    pub succeeded: u64,
    pub decided: u64,
    pub pending: u64,
    pub cpst: Cpst,
}

impl Outlook {
    pub fn success_rate(&self) -> Option<f64> {
        (self.decided > 0).then(|| self.succeeded as f64 / self.decided as f64)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedTask {
    pub task_id: i64,
    pub external_id: String,
    pub before: TaskStatus,
    pub after: TaskStatus,
    pub reason: String,
}

/// What saving a rule did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRule {
    pub rule: SuccessRule,
    /// Tasks re-decided under the new version (when a period was chosen)...
    pub reevaluated: u64,
    /// ...and the (workflow, day) slices whose figures changed as a result.
    pub changed: u64,
}

/// Two configuration versions of a workflow side by side over the same days, or the whole
/// workflow over two periods.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionComparison {
    pub slug: String,
    pub name: String,
    pub versions: Vec<String>,
    pub baseline: String,
    pub candidate: String,
    pub days: i64,
    pub window: String,
    /// Set when two periods are compared: baseline from and to, candidate from and to.
    pub periods: Option<[String; 4]>,
    /// What each side is, for the table's headings.
    pub baseline_heading: String,
    pub candidate_heading: String,
    /// `None` while the workflow has fewer than two versions (comparing versions).
    pub comparison: Option<crate::domain::compare::Comparison>,
}
