//! Alerts: the page's list and rules, saving and deleting rules, test sends and
//! acknowledging. Finance reads and acknowledges; admins and owners define rules.

use crate::error::AppError;
use crate::views::alerts::{AlertsView, RuleSaved};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_alerts")]
pub async fn list_alerts(
    state: Option<String>,
    workflow: Option<String>,
    days: Option<i64>,
) -> Result<AlertsView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "alerts")?;
    let query = crate::views::alerts::AlertQuery {
        state: state.unwrap_or_default(),
        workflow: workflow.unwrap_or_default(),
        days: days.unwrap_or_default(),
    };
    crate::service::alerts::page(&db()?, &viewer, &query, crate::db::now_ms()).await
}

/// Creates a rule (`id` 0) or saves its next version.
#[server(prefix = "/rpc", endpoint = "save_alert_rule")]
#[allow(clippy::too_many_arguments)]
pub async fn save_alert_rule(
    id: i64,
    subject: String,
    kind: String,
    #[server(default)] window_days: String,
    #[server(default)] min_tasks: String,
    #[server(default)] monthly_budget: String,
    #[server(default)] thresholds: String,
    #[server(default)] webhook_url: String,
    #[server(default)] webhook_format: String,
    #[server(default)] remove_webhook: Option<String>,
    #[server(default)] email_roles: Option<Vec<String>>,
    #[server(default)] paused: Option<String>,
) -> Result<RuleSaved, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "defining alert rules")?;
    let form = crate::views::alerts::RuleForm {
        subject,
        kind,
        window_days,
        min_tasks,
        monthly_budget,
        thresholds,
        webhook_url,
        webhook_format,
        remove_webhook: remove_webhook.is_some(),
        email_roles: email_roles.unwrap_or_default(),
        paused: paused.is_some(),
    };
    crate::service::alerts::save_rule(
        &db()?,
        &viewer,
        (id > 0).then_some(id),
        &form,
        webhook_policy(),
        crate::db::now_ms(),
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "delete_alert_rule")]
pub async fn delete_alert_rule(id: i64) -> Result<(), AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "defining alert rules")?;
    crate::service::alerts::delete_rule(&db()?, &viewer, id, crate::db::now_ms()).await
}

/// Sends a test notification to the rule's webhook (through the outbox, within seconds).
#[server(prefix = "/rpc", endpoint = "test_alert_rule")]
pub async fn test_alert_rule(id: i64) -> Result<(), AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "defining alert rules")?;
    crate::service::alerts::test_rule(&db()?, &viewer, id, &public_url(), crate::db::now_ms()).await
}

#[server(prefix = "/rpc", endpoint = "acknowledge_alert")]
pub async fn acknowledge_alert(id: i64, #[server(default)] note: String) -> Result<(), AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "alerts")?;
    crate::service::alerts::acknowledge(&db()?, &viewer, id, &note, crate::db::now_ms()).await
}
