//! The records of the data model, as the pages and the API see them.
//! Under `ssr` they also decode straight from database rows.

use crate::domain::Micros;
use crate::domain::status::{
    AlertKind, AttemptStatus, CallKind, CallStatus, CostSource, DeliveryChannel, DeliveryEvent,
    EditSeverity, GradeVerdict, OutcomeKind, QueueReason, ReportedStatus, ReviewMethod, Role,
    TaskStatus, WebhookFormat,
};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use sqlx::FromRow;

/// A team: owns workflows and pays for the review labour of its people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Team {
    pub id: i64,
    pub slug: String,
    pub name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub labour_rate_micros_per_hour: Micros,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub role: Role,
    pub can_edit_costs: bool,
    pub is_demo: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
    pub disabled_at: Option<i64>,
    pub must_change_password: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Session {
    pub id_hash: String,
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    #[serde(skip)]
    pub key_hash: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// One team or one workflow an API key may write for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyScope {
    Team(i64),
    Workflow(i64),
}

impl KeyScope {
    /// The spelling forms use for it: `team:<id>` or `workflow:<id>`.
    pub fn form_value(self) -> String {
        match self {
            KeyScope::Team(id) => format!("team:{id}"),
            KeyScope::Workflow(id) => format!("workflow:{id}"),
        }
    }

    /// Reads [`KeyScope::form_value`]'s spelling back.
    pub fn from_form_value(text: &str) -> Option<KeyScope> {
        match text.split_once(':')? {
            ("team", id) => id.parse().ok().map(KeyScope::Team),
            ("workflow", id) => id.parse().ok().map(KeyScope::Workflow),
            _ => None,
        }
    }
}

/// A workflow with its budget, quality target and autonomy settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Workflow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub team_id: i64,
    pub description: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub budget_cpst_micros: Micros,
    pub quality_target_bp: i64,
    pub gate_window_days: i64,
    pub gate_min_sample: i64,
    pub drift_tolerance_bp: i64,
    pub autonomy_level: i64,
    pub review_sampling_bp: i64,
    pub second_grader_bp: i64,
    /// The p95 task time, start to finish, a model must keep in this workflow to be named the
    /// cheapest that meets the bar; `None`: no budget.
    pub latency_budget_ms: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Workflow {
    /// A workflow of `team_id` with plain settings, for tests: a $1.00 budget, a 90% target.
    #[cfg(test)]
    pub(crate) fn sample(id: i64, team_id: i64) -> Workflow {
        Workflow {
            id,
            slug: format!("w{id}"),
            name: format!("Workflow {id}"),
            team_id,
            description: String::new(),
            budget_cpst_micros: Micros(1_000_000),
            quality_target_bp: 9_000,
            gate_window_days: 30,
            gate_min_sample: 1,
            drift_tolerance_bp: 1_000,
            autonomy_level: 0,
            review_sampling_bp: 0,
            second_grader_bp: 0,
            latency_budget_ms: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    /// What the workflow's autonomy gate is judged against: its own settings.
    pub fn gate_settings(&self) -> crate::domain::gate::GateSettings {
        crate::domain::gate::GateSettings {
            quality_target_bp: self.quality_target_bp,
            min_sample: self.gate_min_sample,
            window_days: self.gate_window_days,
            budget: self.budget_cpst_micros,
            drift_tolerance_bp: self.drift_tolerance_bp,
        }
    }
}

/// Why a workflow's name found no single workflow among those a caller sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameLookup {
    /// No workflow the caller sees has this name (whether or not one exists elsewhere).
    Unknown,
    /// Several workflows the caller sees, in different teams, share this slug: name one as
    /// `team:slug`.
    Ambiguous,
}

/// The reason given, wherever a workflow is named, for a bare slug that several workflows the
/// caller sees share.
pub fn ambiguous_name(name: &str) -> String {
    format!("'{name}' is the slug of workflows in several teams you see: write team:{name}")
}

/// A workflow's slug is unique within its team only. From outside, a workflow is named by its
/// slug when that picks one workflow among the ones the caller sees, or by `team:slug` (the
/// team's slug, a colon, the workflow's slug), which always picks at most one. Only the
/// workflows in `visible` are considered, so the answer never depends on other teams' names.
pub fn find_workflow<'w>(
    visible: impl IntoIterator<Item = &'w Workflow>,
    teams: &[Team],
    name: &str,
) -> Result<&'w Workflow, NameLookup> {
    let (team, slug) = match name.split_once(':') {
        Some((team, slug)) => (teams.iter().find(|t| t.slug == team).map(|t| t.id), slug),
        None => (None, name),
    };
    if name.contains(':') && team.is_none() {
        return Err(NameLookup::Unknown);
    }
    let mut found = visible
        .into_iter()
        .filter(|w| w.slug == slug && team.is_none_or(|team| w.team_id == team));
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(NameLookup::Unknown),
        (Some(_), Some(_)) => Err(NameLookup::Ambiguous),
    }
}

/// How `workflow` is named in addresses and links for a caller who sees `visible`: its slug,
/// or `team:slug` when another workflow the caller sees has the same slug.
pub fn workflow_handle<'w>(
    workflow: &Workflow,
    visible: impl IntoIterator<Item = &'w Workflow>,
    teams: &[Team],
) -> String {
    let shared = visible
        .into_iter()
        .any(|w| w.id != workflow.id && w.slug == workflow.slug);
    match teams.iter().find(|t| t.id == workflow.team_id) {
        Some(team) if shared => format!("{}:{}", team.slug, workflow.slug),
        _ => workflow.slug.clone(),
    }
}

/// The settings a workflow is created or edited with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowSettings {
    pub slug: String,
    pub name: String,
    pub team_id: i64,
    pub description: String,
    pub budget_cpst_micros: Micros,
    pub quality_target_bp: i64,
    pub gate_window_days: i64,
    pub gate_min_sample: i64,
    pub drift_tolerance_bp: i64,
    pub review_sampling_bp: i64,
    pub second_grader_bp: i64,
    #[serde(default)]
    pub latency_budget_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct TaskType {
    pub id: i64,
    pub workflow_id: i64,
    pub slug: String,
    pub name: String,
    pub user_goal: String,
    pub pass_condition: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub review_method: ReviewMethod,
    pub created_at: i64,
}

/// One version of a task type's human baseline (see `domain::savings`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct HumanBaseline {
    pub id: i64,
    pub task_type_id: i64,
    pub version: i64,
    /// How long a person takes to do one task unaided; `None` withdraws the baseline.
    pub seconds: Option<i64>,
    /// What an outcome-priced vendor charges per resolved task, for comparison.
    pub reference_price_micros: Option<i64>,
    /// Where the figure comes from, in words ("time study, October 2026").
    pub source: String,
    pub effective_from: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl HumanBaseline {
    /// The version of `task_type_id` in force at `at`: the latest to start by then.
    pub fn in_force(
        baselines: &[HumanBaseline],
        task_type_id: i64,
        at: i64,
    ) -> Option<&HumanBaseline> {
        baselines
            .iter()
            .filter(|b| b.task_type_id == task_type_id && b.effective_from <= at)
            .max_by_key(|b| (b.effective_from, b.version))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct SuccessRule {
    pub id: i64,
    pub task_type_id: i64,
    pub version: i64,
    /// The rule as JSON.
    pub definition: String,
    pub effective_from: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct ConfigVersion {
    pub id: i64,
    pub workflow_id: i64,
    pub label: String,
    pub description: String,
    pub first_seen_at: i64,
}

/// One unit of user work and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Task {
    pub id: i64,
    pub external_id: String,
    pub workflow_id: i64,
    pub task_type_id: Option<i64>,
    pub team_id: i64,
    pub config_version_id: Option<i64>,
    pub segment: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub reported_status: ReportedStatus,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: TaskStatus,
    pub status_rule_id: Option<i64>,
    pub status_reason: String,
    pub pending_until: Option<i64>,
    pub escalation_reason: Option<String>,
    pub review_seconds: i64,
    pub input_summary: String,
    pub output: Option<String>,
    pub expected: Option<String>,
    pub checks: Option<String>,
    pub metrics: Option<String>,
    pub content_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Attributed cost and usage, kept current by the rollup refresh.
    pub model_cost_micros: i64,
    pub tool_cost_micros: i64,
    pub retry_cost_micros: i64,
    pub cache_cost_micros: i64,
    pub labour_cost_micros: i64,
    pub attempt_count: i64,
    pub call_count: i64,
    pub token_count: i64,
    pub primary_model: String,
}

/// A task as it arrives, before it has an id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTask {
    pub external_id: String,
    pub workflow_id: i64,
    pub task_type_id: Option<i64>,
    pub team_id: i64,
    pub config_version_id: Option<i64>,
    pub segment: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub reported_status: Option<ReportedStatus>,
    pub status: Option<TaskStatus>,
    pub status_rule_id: Option<i64>,
    pub status_reason: String,
    pub pending_until: Option<i64>,
    pub escalation_reason: Option<String>,
    pub review_seconds: i64,
    pub input_summary: String,
    pub output: Option<String>,
    pub expected: Option<String>,
    pub checks: Option<String>,
    pub metrics: Option<String>,
    pub content_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Attempt {
    pub id: i64,
    pub task_id: i64,
    pub number: i64,
    pub correlation_id: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: AttemptStatus,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub content_hash: String,
}

/// One model call, tool call or retrieval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Call {
    pub id: i64,
    pub external_id: String,
    pub workflow_id: i64,
    pub correlation_id: String,
    pub task_id: Option<i64>,
    pub attempt_id: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: CallKind,
    pub step: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
    /// Uncached audio and image input, inside `input_tokens`.
    pub audio_input_tokens: i64,
    pub image_input_tokens: i64,
    pub reported_cost_micros: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub cost_micros: Micros,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub cache_read_cost_micros: Micros,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub cache_write_cost_micros: Micros,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub cost_source: CostSource,
    pub price_id: Option<i64>,
    pub started_at: i64,
    pub latency_ms: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: CallStatus,
    pub error_type: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub content_hash: String,
    pub created_at: i64,
}

/// An automatic judgement of a task's output (an OpenTelemetry `gen_ai.evaluation.result`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Evaluation {
    pub id: i64,
    pub external_id: String,
    pub workflow_id: i64,
    pub task_external_id: String,
    pub task_id: Option<i64>,
    pub name: String,
    pub score: Option<f64>,
    pub label: Option<String>,
    pub explanation: String,
    pub evaluated_at: i64,
    pub source: String,
    pub content_hash: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct OutcomeEvent {
    pub id: i64,
    pub external_id: String,
    pub workflow_id: i64,
    pub task_external_id: String,
    pub task_id: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: OutcomeKind,
    pub occurred_at: i64,
    pub source: String,
    pub detail: String,
    pub content_hash: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Grade {
    pub id: i64,
    pub external_id: Option<String>,
    pub task_id: i64,
    pub reviewer_id: Option<i64>,
    pub grader: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub verdict: GradeVerdict,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub edit_severity: EditSeverity,
    pub review_seconds: i64,
    pub note: String,
    pub graded_at: i64,
    pub content_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct QueueItem {
    pub id: i64,
    pub task_id: i64,
    pub slot: i64,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub reason: QueueReason,
    pub enqueued_at: i64,
    pub claimed_by: Option<i64>,
    pub claimed_at: Option<i64>,
    pub done_at: Option<i64>,
}

/// A dated price book entry; prices are micro-dollars per million tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Price {
    pub id: i64,
    pub provider: String,
    pub model: String,
    pub input_micros_per_mtok: i64,
    pub output_micros_per_mtok: i64,
    pub cache_read_micros_per_mtok: i64,
    pub cache_write_micros_per_mtok: i64,
    pub reasoning_micros_per_mtok: i64,
    /// Audio and image input rates where they differ from text input's; `None` prices those
    /// tokens as text input.
    pub audio_input_micros_per_mtok: Option<i64>,
    pub image_input_micros_per_mtok: Option<i64>,
    pub effective_from: i64,
    pub effective_to: Option<i64>,
    pub source: String,
    pub checked_on: String,
    pub created_at: i64,
}

impl Price {
    /// The entry of `prices` in force for a model at `at`: the latest to start at or before it
    /// and not yet ended.
    pub fn in_force<'p>(
        prices: &'p [Price],
        provider: &str,
        model: &str,
        at: i64,
    ) -> Option<&'p Price> {
        prices
            .iter()
            .filter(|p| p.provider == provider && p.model == model)
            .filter(|p| p.effective_from <= at && p.effective_to.is_none_or(|to| to > at))
            .max_by_key(|p| p.effective_from)
    }
}

impl From<&Price> for crate::domain::pricing::Rates {
    fn from(price: &Price) -> Self {
        crate::domain::pricing::Rates {
            input: price.input_micros_per_mtok,
            output: price.output_micros_per_mtok,
            cache_read: price.cache_read_micros_per_mtok,
            cache_write: price.cache_write_micros_per_mtok,
            reasoning: price.reasoning_micros_per_mtok,
            audio_input: price
                .audio_input_micros_per_mtok
                .unwrap_or(price.input_micros_per_mtok),
            image_input: price
                .image_input_micros_per_mtok
                .unwrap_or(price.input_micros_per_mtok),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct PlatformCost {
    pub id: i64,
    pub name: String,
    pub workflow_id: Option<i64>,
    pub team_id: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub monthly_micros: Micros,
    pub effective_from: i64,
    pub effective_to: Option<i64>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub team_id: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct GateEvaluation {
    pub id: i64,
    pub workflow_id: i64,
    pub evaluated_at: i64,
    pub window_start: i64,
    pub window_end: i64,
    pub sample: i64,
    pub successes: i64,
    pub cpst_micros: Option<i64>,
    pub previous_cpst_micros: Option<i64>,
    pub quality_proven: bool,
    pub cost_proven: bool,
    pub evidence: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct AutonomyChange {
    pub id: i64,
    pub workflow_id: i64,
    pub from_level: i64,
    pub to_level: i64,
    pub changed_by: Option<i64>,
    pub gate_evaluation_id: Option<i64>,
    pub changed_at: i64,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct ImportRun {
    pub id: i64,
    pub source: String,
    pub source_hash: String,
    pub rows_done: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// One row of `task_rollups`: the tasks of one day sharing every grouping key and a verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct TaskRollup {
    pub day: i64,
    pub workflow_id: i64,
    pub team_id: i64,
    pub task_type_id: i64,
    pub segment: String,
    pub config_version_id: i64,
    /// The tasks' primary model, "provider/model"; empty for tasks without model calls.
    pub model: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: TaskStatus,
    pub tasks: i64,
    pub first_attempt_tasks: i64,
    pub within_three_tasks: i64,
    pub attempts: i64,
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub model_cost_micros: i64,
    pub tool_cost_micros: i64,
    pub retry_cost_micros: i64,
    pub cache_cost_micros: i64,
    pub labour_cost_micros: i64,
    pub review_seconds: i64,
    pub duration_ms: i64,
    /// What the prompt cache saved the tasks' priced calls: their cached tokens at the input
    /// price, less what those tokens cost (negative when writes were never paid back).
    pub cache_saved_micros: i64,
    /// Cached tokens of calls without a price (reported costs), whose saving cannot be told.
    pub cache_unpriced_tokens: i64,
}

impl TaskRollup {
    /// One day's `tasks` tasks of workflow 1 with one verdict, a thousand input tokens each
    /// and all their `cost` on the model, for tests.
    #[cfg(test)]
    pub(crate) fn sample(
        task_type_id: i64,
        model: &str,
        status: crate::domain::status::TaskStatus,
        tasks: i64,
        cost: i64,
    ) -> TaskRollup {
        TaskRollup {
            day: 100,
            workflow_id: 1,
            team_id: 1,
            task_type_id,
            segment: String::new(),
            config_version_id: 0,
            model: model.to_owned(),
            status,
            tasks,
            first_attempt_tasks: tasks,
            within_three_tasks: tasks,
            attempts: tasks,
            calls: tasks,
            input_tokens: 1_000 * tasks,
            output_tokens: 100 * tasks,
            cache_read_tokens: 0,
            model_cost_micros: cost,
            tool_cost_micros: 0,
            retry_cost_micros: 0,
            cache_cost_micros: 0,
            labour_cost_micros: 0,
            review_seconds: 0,
            duration_ms: 0,
            cache_saved_micros: 0,
            cache_unpriced_tokens: 0,
        }
    }
}

/// A saved what-if (see `report::whatif`): the levers as the form sent them, the window its
/// evidence came from, and what it projected, with successes in millionths of a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct ScenarioRecord {
    pub id: i64,
    pub workflow_id: i64,
    pub name: String,
    pub routes: String,
    pub cache_share: String,
    pub input_change: String,
    pub failure_rate: String,
    pub retry_cut: String,
    /// A JSON array of sentences.
    pub assumptions: String,
    pub window_first_day: i64,
    pub window_last_day: i64,
    pub decided: i64,
    pub before_total_micros: i64,
    pub before_successes: i64,
    pub total_micros: i64,
    pub successes: i64,
    pub low_total_micros: i64,
    pub low_successes: i64,
    pub high_total_micros: i64,
    pub high_successes: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl From<i64> for Micros {
    fn from(value: i64) -> Self {
        Micros(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_form_spelling() {
        for scope in [KeyScope::Team(3), KeyScope::Workflow(41)] {
            assert_eq!(KeyScope::from_form_value(&scope.form_value()), Some(scope));
        }
        assert_eq!(KeyScope::Team(3).form_value(), "team:3");
        for bad in ["team", "team:x", "user:1", ":1", "workflow:-"] {
            assert_eq!(KeyScope::from_form_value(bad), None, "{bad}");
        }
    }
}

/// An alert rule: one condition watched on one workflow or one team, with where its alerts go.
/// Edits raise `version`; every alert records the version that fired it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct AlertRule {
    pub id: i64,
    pub workflow_id: Option<i64>,
    pub team_id: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: AlertKind,
    pub window_days: i64,
    pub min_tasks: i64,
    pub monthly_budget_micros: Option<i64>,
    /// Spend budgets: the shares of the budget that raise the alert, in basis points,
    /// comma-separated (`8000,9000,10000`).
    pub thresholds: String,
    pub webhook_url: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub webhook_format: WebhookFormat,
    /// The signing secret: shown once when made, never sent to a page again.
    #[serde(skip)]
    pub webhook_secret: Option<String>,
    pub email_roles: String,
    pub version: i64,
    pub paused: bool,
    pub checked_at: Option<i64>,
    pub last_finding: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl AlertRule {
    /// The window a rule reads unless it says otherwise.
    pub const DEFAULT_WINDOW_DAYS: i64 = 7;
    /// The decided tasks a rule needs before it may fire, unless it says otherwise.
    pub const DEFAULT_MIN_TASKS: i64 = 50;

    /// A new rule on a workflow or a team with the default window and minimum, no budget, and
    /// no delivery beyond the pages.
    pub fn new(
        workflow_id: Option<i64>,
        team_id: Option<i64>,
        kind: AlertKind,
        now: i64,
    ) -> AlertRule {
        AlertRule {
            id: 0,
            workflow_id,
            team_id,
            kind,
            window_days: Self::DEFAULT_WINDOW_DAYS,
            min_tasks: Self::DEFAULT_MIN_TASKS,
            monthly_budget_micros: None,
            thresholds: String::new(),
            webhook_url: None,
            webhook_format: WebhookFormat::Json,
            webhook_secret: None,
            email_roles: String::new(),
            version: 1,
            paused: false,
            checked_at: None,
            last_finding: String::new(),
            created_by: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// An alert a rule raised: open until its condition clears.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct Alert {
    pub id: i64,
    pub rule_id: i64,
    pub rule_version: i64,
    pub workflow_id: Option<i64>,
    pub team_id: i64,
    pub fired_at: i64,
    pub checked_at: i64,
    pub level_bp: i64,
    pub headline: String,
    pub cause: String,
    pub link: String,
    pub figures: String,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_note: String,
    pub resolved_at: Option<i64>,
    pub resolution: String,
}

/// The state filters the alerts page and API take: a state, `open` (firing or acknowledged),
/// or empty for any.
pub const ALERT_STATE_FILTERS: [&str; 5] = ["", "open", "firing", "acknowledged", "resolved"];

impl Alert {
    /// `firing`, `acknowledged` or `resolved`.
    pub fn state(&self) -> &'static str {
        match (self.resolved_at, self.acknowledged_at) {
            (Some(_), _) => "resolved",
            (None, Some(_)) => "acknowledged",
            (None, None) => "firing",
        }
    }

    /// Whether the alert passes a state filter (one of [`ALERT_STATE_FILTERS`]).
    pub fn in_state(&self, filter: &str) -> bool {
        match filter {
            "" => true,
            "open" => self.resolved_at.is_none(),
            state => state == self.state(),
        }
    }
}

/// A notification waiting in (or gone from) the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct AlertDelivery {
    pub id: i64,
    pub rule_id: i64,
    pub alert_id: Option<i64>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub event: DeliveryEvent,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub channel: DeliveryChannel,
    pub target: String,
    pub body: String,
    pub created_at: i64,
    pub next_attempt_at: Option<i64>,
    pub attempts: i64,
    pub delivered_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub last_outcome: String,
}

/// One try at delivering a notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(FromRow))]
pub struct DeliveryAttempt {
    pub id: i64,
    pub delivery_id: i64,
    pub attempted_at: i64,
    pub outcome: String,
    pub succeeded: bool,
    pub duration_ms: i64,
}
