//! Finishline's costs as FOCUS 1.2 rows (the FinOps Foundation's open billing format), so that
//! the cost of finished work travels into the tools finance already uses. Pure: the service
//! loads a workflow's calls, tasks and daily figures; this turns them into rows.
//!
//! One row per day, workflow, task type, provider, model and cost component for the calls'
//! components (model, tool, retry, cache), one per day, workflow and task type for human
//! review, one per day and workflow for the platform share. Money is the engine's: calls are
//! attributed call by call exactly as the figures attribute them (`domain::attribution`),
//! review labour and the platform share come from the figures themselves, so the rows of a
//! period add up to the overview's spend. Costs are dated by the day their task started, as
//! every Finishline figure is.

use crate::domain::cpst::{CostBreakdown, Cpst};
use crate::domain::money::MoneyOverflow;
use crate::domain::time::{civil_from_days, days_from_civil};
use crate::domain::{CallKind, Micros};
use crate::model::TaskRollup;
use crate::report::figures::GroupFigures;
use crate::report::rollup::{CallFacts, TaskFacts};
use std::collections::{BTreeMap, HashMap};

/// The FOCUS columns written, in order: every Mandatory column of FOCUS 1.2, the Conditional
/// and Recommended ones that apply (sub-accounts are teams; usage is measured; tags exist),
/// then Finishline's own, prefixed `x_` as the specification requires.
pub const COLUMNS: [&str; 36] = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_CostComponent",
    "x_Workflow",
    "x_Team",
    "x_TaskType",
    "x_Model",
    "x_SucceededTasks",
    "x_AttemptedTasks",
    "x_CostPerSuccessfulTask",
];

/// Who issues the charges Finishline did not buy from a provider: review labour and shared
/// platform costs are the business's own.
const INTERNAL: &str = "Internal";

/// What one workflow contributes to an export: its tasks and calls over the period, each
/// call's attributed components (in the order of `calls`), its figures' rollup rows and its
/// figures by day.
pub struct WorkflowSlice<'a> {
    pub workflow_slug: &'a str,
    pub workflow_name: &'a str,
    pub team_slug: &'a str,
    pub team_name: &'a str,
    /// Task type id → slug.
    pub task_types: &'a HashMap<i64, String>,
    pub tasks: &'a [TaskFacts],
    pub calls: &'a [CallFacts],
    pub call_parts: &'a [CostBreakdown],
    pub rollups: &'a [TaskRollup],
    pub days: &'a [GroupFigures],
}

/// One FOCUS row, before it is written as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FocusRow {
    pub day: i64,
    pub component: &'static str,
    pub provider: String,
    pub model: String,
    pub task_type: Option<String>,
    pub description: String,
    pub quantity: i64,
    pub unit: &'static str,
    pub cost: Micros,
    pub recurring: bool,
    pub workflow: String,
    pub workflow_name: String,
    pub team: String,
    pub team_name: String,
    pub succeeded: u64,
    pub decided: u64,
    pub cpst: Cpst,
}

/// The rows of one workflow, ordered by day, then component, task type, provider and model.
/// Rows that cost nothing and measured nothing are left out.
pub fn rows(slice: &WorkflowSlice<'_>) -> Result<Vec<FocusRow>, MoneyOverflow> {
    type Key = (i64, usize, Option<String>, String, String);
    // (cost, quantity, unit) per key.
    let mut groups: BTreeMap<Key, (Micros, i64, &'static str)> = BTreeMap::new();
    let task_type_of: HashMap<i64, i64> =
        slice.tasks.iter().map(|t| (t.id, t.task_type_id)).collect();
    let day_of_task: HashMap<i64, i64> = slice.tasks.iter().map(|t| (t.id, t.day)).collect();
    let slug = |id: i64| slice.task_types.get(&id).cloned();
    for (call, parts) in slice.calls.iter().zip(slice.call_parts) {
        let c = &call.cost;
        let Some(&day) = day_of_task.get(&c.task_id) else {
            continue;
        };
        let task_type = task_type_of.get(&c.task_id).copied().and_then(slug);
        let model_like = matches!(c.kind, CallKind::Model | CallKind::Other);
        // The component a call belongs to (its cache share aside): retries whole, then model
        // or tool by kind; `domain::attribution` decides the amounts.
        let home = match (c.attempt_number > 1, model_like) {
            (true, _) => 2,
            (false, true) => 0,
            (false, false) => 1,
        };
        let tokens = call.input_tokens.saturating_add(call.output_tokens);
        let measured = |component: usize| match component {
            // Tools and retrievals are counted in calls; model work in the tokens reported.
            _ if !model_like => (1, "Calls"),
            3 => (c.cache_read_tokens, "Tokens"),
            _ => (tokens, "Tokens"),
        };
        let amounts = [parts.model, parts.tool, parts.retry, parts.cache];
        for (component, amount) in amounts.into_iter().enumerate() {
            if amount == Micros::ZERO && component != home {
                continue;
            }
            let (quantity, unit) = measured(component);
            let key = (
                day,
                component,
                task_type.clone(),
                c.pool.0.clone(),
                c.pool.1.clone(),
            );
            let entry = groups.entry(key).or_insert((Micros::ZERO, 0, unit));
            entry.0 = entry.0.checked_add(amount)?;
            entry.1 = entry.1.saturating_add(quantity);
        }
    }
    // Human review, from the figures' own rows: the labour they count, in hours reviewed.
    let mut review_seconds: BTreeMap<(i64, Option<String>), i64> = BTreeMap::new();
    for row in slice.rollups {
        let key = (
            row.day,
            4,
            slug(row.task_type_id),
            String::new(),
            String::new(),
        );
        let entry = groups.entry(key).or_insert((Micros::ZERO, 0, "Hours"));
        entry.0 = entry.0.checked_add(Micros(row.labour_cost_micros))?;
        *review_seconds
            .entry((row.day, slug(row.task_type_id)))
            .or_default() += row.review_seconds;
    }
    for ((day, task_type), seconds) in review_seconds {
        if let Some(entry) = groups.get_mut(&(day, 4, task_type, String::new(), String::new())) {
            // Whole hours would hide most reviews: the quantity is written in hundredths.
            entry.1 = (seconds * 100 + 1_800) / 3_600;
        }
    }
    let figures: HashMap<i64, &GroupFigures> =
        slice.days.iter().map(|d| (d.window.first_day, d)).collect();
    for day in slice.days {
        for (component, amount) in [(5, day.set.costs.platform), (6, day.set.costs.unattributed)] {
            if amount != Micros::ZERO {
                groups.insert(
                    (
                        day.window.first_day,
                        component,
                        None,
                        String::new(),
                        String::new(),
                    ),
                    (amount, 1, "Days"),
                );
            }
        }
    }
    let names = CostBreakdown::default().components();
    Ok(groups
        .into_iter()
        .filter(|(_, (cost, quantity, _))| *cost != Micros::ZERO || *quantity != 0)
        .map(
            |((day, component, task_type, provider, model), (cost, quantity, unit))| {
                let (succeeded, decided, cpst) =
                    figures
                        .get(&day)
                        .map_or((0, 0, Cpst::NoSuccessfulTasks), |d| {
                            (
                                d.set.counts.succeeded,
                                d.set.counts.decided(),
                                d.set.cost_per_successful_task(),
                            )
                        });
                let name = names[component].0;
                FocusRow {
                    day,
                    component: name,
                    description: describe(
                        name,
                        slice.workflow_name,
                        &provider,
                        &model,
                        task_type.as_deref(),
                    ),
                    provider,
                    model,
                    task_type,
                    quantity,
                    unit,
                    cost,
                    recurring: component == 5,
                    workflow: slice.workflow_slug.to_owned(),
                    workflow_name: slice.workflow_name.to_owned(),
                    team: slice.team_slug.to_owned(),
                    team_name: slice.team_name.to_owned(),
                    succeeded,
                    decided,
                    cpst,
                }
            },
        )
        .collect())
}

fn describe(
    component: &str,
    workflow: &str,
    provider: &str,
    model: &str,
    task_type: Option<&str>,
) -> String {
    let what = match component {
        "Human review" => "Human review".to_owned(),
        "Platform" => "Platform costs shared out".to_owned(),
        "Unattributed spend" => "Billed spend no call explains, allocated".to_owned(),
        _ if model.is_empty() && provider.is_empty() => format!("{component} cost"),
        _ => format!("{component} cost, {provider}/{model}"),
    };
    match task_type {
        Some(task_type) => format!("{what} of {workflow} ({task_type})"),
        None => format!("{what} of {workflow}"),
    }
}

/// `day` (days since 1970-01-01) at midnight UTC, as FOCUS writes times.
fn midnight(day: i64) -> String {
    let (year, month, date) = civil_from_days(day);
    format!("{year:04}-{month:02}-{date:02}T00:00:00Z")
}

/// The first day of the month `day` is in, and of the month after.
fn month_of(day: i64) -> (i64, i64) {
    let (year, month, _) = civil_from_days(day);
    let first = days_from_civil(year, month, 1);
    let next = match month {
        12 => days_from_civil(year + 1, 1, 1),
        m => days_from_civil(year, m + 1, 1),
    };
    (first, next)
}

/// A quantity in hundredths (review hours) or whole units, as a FOCUS decimal.
fn quantity(row: &FocusRow) -> String {
    match row.unit {
        "Hours" => format!("{}.{:02}", row.quantity / 100, row.quantity % 100),
        _ => row.quantity.to_string(),
    }
}

impl FocusRow {
    /// The row's fields in [`COLUMNS`] order; an empty field is a null.
    pub fn fields(&self) -> Vec<String> {
        let cost = crate::views::format::plain_dollars(self.cost);
        let (month, next_month) = month_of(self.day);
        let ai = self.component != "Human review";
        let generative = matches!(self.component, "Model" | "Retry" | "Cache");
        let (provider, service) = match self.component {
            "Human review" => (INTERNAL.to_owned(), "Human review".to_owned()),
            "Platform" => (INTERNAL.to_owned(), "Shared platform".to_owned()),
            "Unattributed spend" => (INTERNAL.to_owned(), "Unattributed AI spend".to_owned()),
            _ => {
                let provider = if self.provider.is_empty() {
                    INTERNAL.to_owned()
                } else {
                    self.provider.clone()
                };
                let service = match self.model.as_str() {
                    "" => format!("{provider} tools"),
                    model => format!("{provider}/{model}"),
                };
                (provider, service)
            }
        };
        let mut tags = serde_json::Map::new();
        tags.insert("finishline/team".into(), self.team.clone().into());
        tags.insert("finishline/workflow".into(), self.workflow.clone().into());
        if let Some(task_type) = &self.task_type {
            tags.insert("finishline/task_type".into(), task_type.clone().into());
        }
        vec![
            cost.clone(),
            "finishline".to_owned(),
            "Finishline".to_owned(),
            "USD".to_owned(),
            midnight(next_month),
            midnight(month),
            "Usage".to_owned(),
            String::new(),
            self.description.clone(),
            if self.recurring {
                "Recurring"
            } else {
                "Usage-Based"
            }
            .to_owned(),
            midnight(self.day + 1),
            midnight(self.day),
            quantity(self),
            self.unit.to_owned(),
            cost.clone(),
            cost.clone(),
            provider.clone(),
            cost,
            quantity(self),
            self.unit.to_owned(),
            provider.clone(),
            provider,
            if ai {
                "AI and Machine Learning"
            } else {
                "Other"
            }
            .to_owned(),
            service,
            match (ai, generative) {
                (false, _) => "Other (Other)",
                (true, true) => "Generative AI",
                (true, false) => "Other (AI and Machine Learning)",
            }
            .to_owned(),
            self.team.clone(),
            self.team_name.clone(),
            serde_json::Value::Object(tags).to_string(),
            self.component.to_owned(),
            self.workflow.clone(),
            self.team.clone(),
            self.task_type.clone().unwrap_or_default(),
            match (self.provider.as_str(), self.model.as_str()) {
                (_, "") => String::new(),
                (provider, model) => format!("{provider}/{model}"),
            },
            self.succeeded.to_string(),
            self.decided.to_string(),
            self.cpst
                .micros()
                .map(crate::views::format::plain_dollars)
                .unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TaskStatus;
    use crate::domain::attribution::{CallCost, call_costs};
    use crate::domain::cpst::TaskSet;
    use crate::report::Window;

    fn task(id: i64, task_type_id: i64) -> TaskFacts {
        TaskFacts {
            id,
            day: 20_000,
            workflow_id: 1,
            team_id: 1,
            task_type_id,
            segment: String::new(),
            config_version_id: 0,
            status: TaskStatus::Succeeded,
            review_seconds: 0,
            labour_rate: Micros(30_000_000),
            duration_ms: 0,
            attempts: 1,
            escalation_reason: None,
        }
    }

    fn call(task_id: i64, attempt: i64, kind: CallKind, cost: i64, cache_read: i64) -> CallFacts {
        CallFacts {
            cost: CallCost {
                task_id,
                attempt_number: attempt,
                kind,
                pool: match kind {
                    CallKind::Model => ("openai".into(), "gpt-4.1-mini".into(), 20_000),
                    _ => (String::new(), String::new(), 20_000),
                },
                cost: Micros(cost),
                cache_read_cost: Micros(cache_read),
                cache_write_cost: Micros(0),
                cache_read_tokens: if cache_read > 0 { 1_000 } else { 0 },
            },
            input_tokens: 2_000,
            output_tokens: 100,
            cache: crate::report::rollup::CacheUse::default(),
            step: String::new(),
        }
    }

    #[test]
    fn calls_become_rows_by_component_and_the_rows_keep_every_dollar() {
        let tasks = [task(1, 7), task(2, 7)];
        let calls = [
            call(1, 1, CallKind::Model, 5_000, 1_000),
            call(1, 1, CallKind::Tool, 2_000, 0),
            call(2, 2, CallKind::Model, 4_000, 0),
        ];
        let costs: Vec<CallCost> = calls.iter().map(|c| c.cost.clone()).collect();
        let parts = call_costs(&costs).unwrap();
        let rollups = [TaskRollup {
            day: 20_000,
            workflow_id: 1,
            task_type_id: 7,
            labour_cost_micros: 1_500_000,
            review_seconds: 180,
            ..TaskRollup::default()
        }];
        let mut set = TaskSet::default();
        set.costs.platform = Micros(300_000);
        let days = [GroupFigures {
            key: String::new(),
            label: String::new(),
            window: Window {
                first_day: 20_000,
                last_day: 20_000,
            },
            set,
            usage: Default::default(),
        }];
        let task_types = HashMap::from([(7, "refund".to_owned())]);
        let slice = WorkflowSlice {
            workflow_slug: "refunds",
            workflow_name: "Refunds",
            team_slug: "ops",
            team_name: "Ops",
            task_types: &task_types,
            tasks: &tasks,
            calls: &calls,
            call_parts: &parts,
            rollups: &rollups,
            days: &days,
        };
        let rows = rows(&slice).unwrap();
        let summary: Vec<(&str, i64, i64, &str)> = rows
            .iter()
            .map(|r| (r.component, r.cost.0, r.quantity, r.unit))
            .collect();
        assert_eq!(
            summary,
            [
                ("Model", 4_000, 2_100, "Tokens"),
                ("Tool", 2_000, 1, "Calls"),
                ("Retry", 4_000, 2_100, "Tokens"),
                ("Cache", 1_000, 1_000, "Tokens"),
                ("Human review", 1_500_000, 5, "Hours"),
                ("Platform", 300_000, 1, "Days"),
            ]
        );
        let total: i64 = rows.iter().map(|r| r.cost.0).sum();
        assert_eq!(
            total,
            5_000 + 2_000 + 4_000 + 1_500_000 + 300_000,
            "every dollar, once"
        );
        let fields = rows[4].fields();
        assert_eq!(
            fields[COLUMNS
                .iter()
                .position(|c| *c == "ConsumedQuantity")
                .unwrap()],
            "0.05"
        );
        assert_eq!(
            fields[COLUMNS
                .iter()
                .position(|c| *c == "ServiceCategory")
                .unwrap()],
            "Other"
        );
        let tags = &fields[COLUMNS.iter().position(|c| *c == "Tags").unwrap()];
        assert_eq!(
            tags,
            r#"{"finishline/task_type":"refund","finishline/team":"ops","finishline/workflow":"refunds"}"#
        );
    }

    #[test]
    fn times_are_midnights_in_utc_and_months_end_exclusively() {
        let day = days_from_civil(2026, 12, 31);
        assert_eq!(midnight(day), "2026-12-31T00:00:00Z");
        assert_eq!(midnight(day + 1), "2027-01-01T00:00:00Z");
        let (first, next) = month_of(day);
        assert_eq!(midnight(first), "2026-12-01T00:00:00Z");
        assert_eq!(midnight(next), "2027-01-01T00:00:00Z");
        let (first, next) = month_of(days_from_civil(2026, 2, 14));
        assert_eq!(
            (midnight(first), midnight(next)),
            (
                "2026-02-01T00:00:00Z".to_owned(),
                "2026-03-01T00:00:00Z".to_owned()
            )
        );
    }
}
