//! Alerts: the rules owners set on their workflows and teams, the alerts the background job
//! raises from them (see [`evaluate`]), acknowledging, the alerts page and the notifications'
//! outbox. Reviewers see none: alerts carry money.

pub mod body;
pub mod evaluate;

use crate::db::catalog::Catalog;
use crate::db::{Db, alert};
use crate::domain::Micros;
use crate::domain::alerting::{AlertKind, is_internal_address};
use crate::domain::status::{DeliveryEvent, WebhookFormat};
use crate::domain::time::{MS_PER_DAY, format_instant};
use crate::error::AppError;
use crate::model::{Alert, AlertDelivery, AlertRule, DeliveryAttempt};
use crate::service::accounts::{Actor, audit, invalid};
use crate::views::access::Viewer;
use crate::views::alerts::{
    AlertLine, AlertQuery, AlertsView, DeliveryLine, OpenAlerts, RuleForm, RuleLine, RuleSaved,
};
use crate::views::choice::Choice;
use serde_json::json;

/// Where webhooks may go. Internal addresses (loopback, private networks, link-local) are
/// refused unless the server's administrator allowed them (`--allow-internal-webhooks`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WebhookPolicy {
    pub allow_internal: bool,
}

/// The server's public address (`--public-url`), for links in notifications.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicUrl(pub String);

/// The most rules one installation keeps, and the most alerts a page lists.
pub const MAX_RULES: usize = 1_000;
const PAGE_ALERTS: i64 = 200;
/// Windows a rule may read.
pub const WINDOWS: [i64; 3] = [1, 7, 30];

/// Whether `viewer` reads the alerts of `team_id`'s workflows.
fn sees(viewer: &Viewer, team_id: i64) -> bool {
    viewer.reads_finance() && viewer.sees_team(team_id)
}

/// Checks a webhook address: `http(s)`, a host, no internal address written as an IP or as a
/// local name unless allowed. Names are resolved again when each notification is sent.
pub fn check_webhook_url(text: &str, policy: WebhookPolicy) -> Result<url::Url, AppError> {
    let field = "webhook_url";
    if text.len() > 2_000 {
        return Err(invalid(field, "must be at most 2000 characters"));
    }
    let url = url::Url::parse(text.trim())
        .map_err(|err| invalid(field, format!("is not an address: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(field, "must start with https:// or http://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(field, "must not carry a user name or password"));
    }
    let internal = match url.host() {
        None => return Err(invalid(field, "must name a host")),
        Some(url::Host::Ipv4(ip)) => is_internal_address(ip.into()),
        Some(url::Host::Ipv6(ip)) => is_internal_address(ip.into()),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost"
                || name.ends_with(".localhost")
                || name.ends_with(".internal")
                || name.ends_with(".local")
                || !name.contains('.')
        }
    };
    if internal && !policy.allow_internal {
        return Err(invalid(
            field,
            "points at an internal address (loopback, private network or local name); an administrator can allow those when starting the server",
        ));
    }
    Ok(url)
}

/// A webhook address as pages and the audit log show it: scheme and host only, since the path
/// of an incoming-webhook address (Slack's, say) is itself a secret.
pub fn shown_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(url) => format!(
            "{}://{}/…",
            url.scheme(),
            url.host_str().unwrap_or_default()
        ),
        Err(_) => "(an address)".to_owned(),
    }
}

/// A rule's settings, checked, with the subject's team.
struct Checked {
    workflow_id: Option<i64>,
    team_id: Option<i64>,
    subject_team: i64,
    kind: AlertKind,
    window_days: i64,
    min_tasks: i64,
    monthly_budget_micros: Option<i64>,
    thresholds: String,
    webhook_url: Option<String>,
    webhook_format: WebhookFormat,
    email_roles: String,
    paused: bool,
}

/// Roles an alert may be emailed to (reviewers see no alerts).
pub const EMAIL_ROLES: [&str; 3] = ["owner", "finance", "admin"];

fn check_form(
    catalog: &Catalog,
    viewer: &Viewer,
    form: &RuleForm,
    policy: WebhookPolicy,
) -> Result<Checked, AppError> {
    let (workflow_id, team_id, subject_team) = match form.subject.split_once(':') {
        Some(("workflow", id)) => {
            let flow = id
                .parse::<i64>()
                .ok()
                .and_then(|id| catalog.workflows.iter().find(|w| w.id == id))
                .filter(|w| viewer.defines_success(w.team_id))
                .ok_or_else(|| invalid("subject", "is not a workflow you define success for"))?;
            (Some(flow.id), None, flow.team_id)
        }
        Some(("team", id)) => {
            let team = id
                .parse::<i64>()
                .ok()
                .and_then(|id| catalog.teams.iter().find(|t| t.id == id))
                .filter(|t| viewer.defines_success(t.id))
                .ok_or_else(|| invalid("subject", "is not a team you define success for"))?;
            (None, Some(team.id), team.id)
        }
        _ => return Err(invalid("subject", "must be a workflow or a team")),
    };
    let kind: AlertKind = form
        .kind
        .parse()
        .map_err(|_| invalid("kind", "must be one of the listed conditions"))?;
    if kind == AlertKind::GateTurned && workflow_id.is_none() {
        return Err(invalid(
            "kind",
            "the autonomy gate belongs to a workflow, not a team",
        ));
    }
    let window_days = match form.window_days.trim() {
        "" => AlertRule::DEFAULT_WINDOW_DAYS,
        text => text
            .parse::<i64>()
            .ok()
            .filter(|d| WINDOWS.contains(d))
            .ok_or_else(|| invalid("window_days", "must be 1, 7 or 30"))?,
    };
    let min_tasks = match form.min_tasks.trim() {
        "" => AlertRule::DEFAULT_MIN_TASKS,
        text => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| invalid("min_tasks", "must be a whole number from 1 to 1,000,000"))?,
    };
    let (monthly_budget_micros, thresholds) = if kind == AlertKind::SpendBudget {
        let budget = Micros::parse_dollars(form.monthly_budget.trim())
            .ok()
            .filter(|m| m.0 > 0 && m.0 <= 1_000_000_000 * 1_000_000)
            .ok_or_else(|| {
                invalid(
                    "monthly_budget",
                    "must be a dollar amount above 0, at most $1,000,000,000",
                )
            })?;
        let text = match form.thresholds.trim() {
            "" => "80, 90, 100",
            text => text,
        };
        let mut levels = Vec::new();
        for part in text.split(',') {
            let percent = part.trim().trim_end_matches('%').trim();
            let bp = crate::domain::BasisPoints::parse_percent(
                percent,
                crate::domain::BasisPoints::new(100_000),
            )
            .ok()
            .map(crate::domain::BasisPoints::get)
            .filter(|bp| *bp >= 100)
            .ok_or_else(|| {
                invalid(
                    "thresholds",
                    "must be percentages from 1 to 1000, comma-separated",
                )
            })?;
            levels.push(bp);
        }
        levels.sort_unstable();
        levels.dedup();
        if levels.len() > 10 {
            return Err(invalid("thresholds", "must be at most 10 percentages"));
        }
        let stored = levels
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        (Some(budget.0), stored)
    } else {
        (None, String::new())
    };
    let webhook_url = match form.webhook_url.trim() {
        "" => None,
        text => Some(check_webhook_url(text, policy)?.to_string()),
    };
    let webhook_format = match form.webhook_format.trim() {
        "" => WebhookFormat::Json,
        text => text
            .parse()
            .map_err(|_| invalid("webhook_format", "must be json or slack"))?,
    };
    let mut email_roles = Vec::new();
    for role in &form.email_roles {
        let role = role.trim();
        if !EMAIL_ROLES.contains(&role) {
            return Err(invalid("email_roles", "must be owner, finance or admin"));
        }
        if !email_roles.contains(&role) {
            email_roles.push(role);
        }
    }
    email_roles.sort_by_key(|r| EMAIL_ROLES.iter().position(|e| e == r));
    Ok(Checked {
        email_roles: email_roles.join(","),
        workflow_id,
        team_id,
        subject_team,
        kind,
        window_days,
        min_tasks,
        monthly_budget_micros,
        thresholds,
        webhook_url,
        webhook_format,
        paused: form.paused,
    })
}

/// What the audit log keeps of a rule (the webhook's host, never its path or secret).
fn audit_json(catalog: &Catalog, rule: &AlertRule) -> String {
    let subject = match (rule.workflow_id, rule.team_id) {
        (Some(id), _) => catalog
            .workflows
            .iter()
            .find(|w| w.id == id)
            .map(|w| format!("workflow {}", w.name)),
        (None, Some(id)) => catalog
            .teams
            .iter()
            .find(|t| t.id == id)
            .map(|t| format!("team {}", t.name)),
        _ => None,
    };
    json!({
        "condition": rule.kind.label(),
        "subject": subject,
        "window_days": rule.window_days,
        "min_tasks": rule.min_tasks,
        "monthly_budget": rule.monthly_budget_micros.map(|m| crate::views::format::plain_dollars(Micros(m))),
        "thresholds": thresholds_words(&rule.thresholds),
        "webhook": rule.webhook_url.as_deref().map(shown_url),
        "webhook_format": rule.webhook_format.as_str(),
        "email": rule.email_roles,
        "paused": rule.paused,
        "version": rule.version,
    })
    .to_string()
}

fn thresholds_words(stored: &str) -> String {
    evaluate::thresholds_bp(stored)
        .into_iter()
        .map(|bp| format!("{}%", crate::views::format::plain_percent(bp)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn new_secret() -> String {
    format!("whsec_{}", crate::service::auth::random_token(24))
}

/// Creates a rule (`id` None) or saves the next version of one. A new webhook gets a signing
/// secret, returned once.
pub async fn save_rule(
    db: &Db,
    viewer: &Viewer,
    id: Option<i64>,
    form: &RuleForm,
    policy: WebhookPolicy,
    now: i64,
) -> Result<RuleSaved, AppError> {
    let catalog = Catalog::load(db).await?;
    let mut checked = check_form(&catalog, viewer, form, policy)?;
    let existing = match id {
        Some(id) => Some(rule_for(db, viewer, id).await?),
        None => None,
    };
    // The form never shows a saved address (it is a secret): left empty, it stays.
    if let (Some(old), None, false) = (&existing, &checked.webhook_url, form.remove_webhook) {
        checked.webhook_url = old.webhook_url.clone();
    }
    if let Some(old) = &existing {
        if (old.workflow_id, old.team_id, old.kind)
            != (checked.workflow_id, checked.team_id, checked.kind)
        {
            return Err(invalid(
                "kind",
                "and the subject of a rule stay as they were made: make a new rule instead",
            ));
        }
    } else if alert::list_rules(db).await?.len() >= MAX_RULES {
        return Err(invalid(
            "kind",
            format!("at most {MAX_RULES} rules are kept"),
        ));
    }
    // A secret is made when a webhook is first set; it stays while the rule keeps one.
    let old_secret = existing.as_ref().and_then(|r| r.webhook_secret.clone());
    let (secret, shown) = match (&checked.webhook_url, old_secret) {
        (None, _) => (None, None),
        (Some(_), Some(kept)) => (Some(kept), None),
        (Some(_), None) => {
            let fresh = new_secret();
            (Some(fresh.clone()), Some(fresh))
        }
    };
    let rule = AlertRule {
        id: id.unwrap_or(0),
        workflow_id: checked.workflow_id,
        team_id: checked.team_id,
        kind: checked.kind,
        window_days: checked.window_days,
        min_tasks: checked.min_tasks,
        monthly_budget_micros: checked.monthly_budget_micros,
        thresholds: checked.thresholds,
        webhook_url: checked.webhook_url,
        webhook_format: checked.webhook_format,
        webhook_secret: secret,
        email_roles: checked.email_roles,
        version: existing.as_ref().map_or(1, |r| r.version),
        paused: checked.paused,
        checked_at: None,
        last_finding: String::new(),
        created_by: Some(viewer.user_id),
        created_at: now,
        updated_at: now,
    };
    let mut tx = db.begin().await?;
    let (saved_id, version, before) = match &existing {
        None => (alert::insert_rule(&mut tx, &rule).await?, 1, None),
        Some(old) => {
            if !alert::update_rule(&mut tx, &rule).await? {
                return Err(AppError::conflict(
                    "The rule was changed by someone else meanwhile: reload and try again.",
                ));
            }
            (old.id, old.version + 1, Some(audit_json(&catalog, old)))
        }
    };
    let after = AlertRule {
        id: saved_id,
        version,
        ..rule
    };
    let action = if existing.is_some() {
        "alert_rule.update"
    } else {
        "alert_rule.create"
    };
    audit(
        &mut tx,
        Actor::of(viewer),
        (action, "alert_rule", saved_id),
        (before, Some(audit_json(&catalog, &after))),
        Some(checked.subject_team),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(RuleSaved {
        id: saved_id,
        version,
        secret: shown,
    })
}

/// The rule `id`, when `viewer` defines success for its subject; else "no such rule", the
/// same whether it exists or not.
async fn rule_for(db: &Db, viewer: &Viewer, id: i64) -> Result<AlertRule, AppError> {
    let rule = alert::get_rule(db, id).await?;
    let catalog = Catalog::load(db).await?;
    rule.filter(|r| {
        evaluate::subject_of(&catalog, r).is_some_and(|s| viewer.defines_success(s.team_id))
    })
    .ok_or_else(|| AppError::not_found("alert rule"))
}

pub async fn delete_rule(db: &Db, viewer: &Viewer, id: i64, now: i64) -> Result<(), AppError> {
    let rule = rule_for(db, viewer, id).await?;
    let catalog = Catalog::load(db).await?;
    let team = evaluate::subject_of(&catalog, &rule).map(|s| s.team_id);
    let mut tx = db.begin().await?;
    alert::delete_rule(&mut tx, id).await?;
    audit(
        &mut tx,
        Actor::of(viewer),
        ("alert_rule.delete", "alert_rule", id),
        (Some(audit_json(&catalog, &rule)), None),
        team,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Puts a test notification for the rule's webhook and emails in the outbox; the delivery job
/// sends them within seconds, and their attempts show under the rule.
pub async fn test_rule(
    db: &Db,
    viewer: &Viewer,
    id: i64,
    site: &str,
    now: i64,
) -> Result<(), AppError> {
    let rule = rule_for(db, viewer, id).await?;
    if rule.webhook_url.is_none() && rule.email_roles.is_empty() {
        return Err(invalid(
            "webhook_url",
            "is not set and nobody is emailed: add a webhook or email roles to test",
        ));
    }
    let catalog = Catalog::load(db).await?;
    let subject =
        evaluate::subject_of(&catalog, &rule).ok_or_else(|| AppError::not_found("alert rule"))?;
    let sample = Alert {
        id: 0,
        rule_id: rule.id,
        rule_version: rule.version,
        workflow_id: rule.workflow_id,
        team_id: subject.team_id,
        fired_at: now,
        checked_at: now,
        level_bp: 0,
        headline: format!(
            "A test from Finishline: this {} rule delivers here.",
            rule.kind.label()
        ),
        cause: match rule.last_finding.as_str() {
            "" => String::new(),
            last => format!("Its last check found: {last}"),
        },
        link: String::new(),
        figures: "{}".into(),
        acknowledged_at: None,
        acknowledged_by: None,
        acknowledged_note: String::new(),
        resolved_at: None,
        resolution: String::new(),
    };
    let handle = subject.workflow.map(|w| catalog.handle(w));
    let message = body::Message {
        event: DeliveryEvent::Test,
        rule: &rule,
        alert: &sample,
        subject: &subject.name,
        workflow_handle: handle.as_deref(),
        site,
    };
    let emails = evaluate::Recipients::load(db)
        .await?
        .of(&rule, subject.team_id);
    let mut tx = db.begin().await?;
    evaluate::queue(&mut tx, &message, emails, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Acknowledges an open alert: someone is on it. The note says what they are doing.
pub async fn acknowledge(
    db: &Db,
    viewer: &Viewer,
    id: i64,
    note: &str,
    now: i64,
) -> Result<(), AppError> {
    let note = note.trim();
    if note.chars().count() > 1_000 {
        return Err(invalid("note", "must be at most 1000 characters"));
    }
    let found = alert::get_alert(db, id)
        .await?
        .filter(|a| sees(viewer, a.team_id))
        .ok_or_else(|| AppError::not_found("alert"))?;
    if found.resolved_at.is_some() {
        return Err(AppError::conflict(
            "The alert was resolved meanwhile: nothing to acknowledge.",
        ));
    }
    let mut tx = db.begin().await?;
    if !alert::acknowledge(&mut tx, id, viewer.user_id, now, note).await? {
        return Err(AppError::conflict("The alert was acknowledged already."));
    }
    audit(
        &mut tx,
        Actor::of(viewer),
        ("alert.acknowledge", "alert", id),
        (
            None,
            Some(json!({ "alert": found.headline, "note": note }).to_string()),
        ),
        Some(found.team_id),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How many open alerts `viewer` may see (the navigation's count).
pub async fn open_count(db: &Db, viewer: &Viewer) -> Result<i64, AppError> {
    if !viewer.reads_finance() {
        return Ok(0);
    }
    Ok(alert::open_counts(db)
        .await?
        .into_iter()
        .filter(|(team, _)| viewer.sees_team(*team))
        .map(|(_, n)| n)
        .sum())
}

/// The alerts page: alerts matching `query` that `viewer` sees, and the rules.
pub async fn page(
    db: &Db,
    viewer: &Viewer,
    query: &AlertQuery,
    now: i64,
) -> Result<AlertsView, AppError> {
    let catalog = Catalog::load_for(db, viewer).await?;
    let days = match query.days {
        0 => 30,
        d if (1..=366).contains(&d) => d,
        _ => return Err(invalid("days", "must be from 1 to 366")),
    };
    if !crate::model::ALERT_STATE_FILTERS.contains(&query.state.as_str()) {
        return Err(invalid(
            "state",
            "must be open, firing, acknowledged or resolved",
        ));
    }
    let workflow = match query.workflow.trim() {
        "" => None,
        name => Some(
            catalog
                .workflows
                .iter()
                .find(|w| catalog.handle(w) == name)
                .ok_or_else(|| invalid("workflow", "is not a workflow you see"))?
                .id,
        ),
    };
    let since = now - days * MS_PER_DAY;
    let alerts = alert::recent_alerts(db, since, workflow, PAGE_ALERTS).await?;
    let names = Names::of(db).await?;
    let deliveries = alert::deliveries_since(
        db,
        since.min(alerts.iter().map(|a| a.fired_at).min().unwrap_or(since)),
    )
    .await?;
    let ids: Vec<i64> = deliveries.iter().map(|d| d.id).collect();
    let attempts = alert::attempts_of_deliveries(db, &ids).await?;
    let mut lines = Vec::new();
    for found in alerts.iter().filter(|a| sees(viewer, a.team_id)) {
        if !found.in_state(&query.state) {
            continue;
        }
        lines.push(line(
            viewer,
            &catalog,
            &names,
            found,
            &deliveries,
            &attempts,
        )?);
    }
    let rules = alert::list_rules(db).await?;
    let mut rule_lines = Vec::new();
    for rule in &rules {
        let Some(subject) = evaluate::subject_of(&catalog, rule) else {
            continue;
        };
        if !sees(viewer, subject.team_id) {
            continue;
        }
        let tests = deliveries
            .iter()
            .filter(|d| d.rule_id == rule.id && d.event == DeliveryEvent::Test)
            .rev()
            .take(3);
        let mut test_lines = Vec::new();
        for delivery in tests {
            test_lines.push(delivery_line(delivery, &attempts));
        }
        rule_lines.push(RuleLine {
            id: rule.id,
            version: rule.version,
            kind: rule.kind.label().to_owned(),
            subject: subject.name.clone(),
            condition: condition_words(rule),
            delivery: delivery_words(rule),
            sends: rule.webhook_url.is_some() || !rule.email_roles.is_empty(),
            paused: rule.paused,
            last_check: match rule.checked_at {
                Some(at) => format!("{}: {}", format_instant(at), rule.last_finding),
                None => "Not checked yet: rules are checked every few minutes.".to_owned(),
            },
            editable: viewer.defines_success(subject.team_id),
            form: form_of(rule),
            tests: test_lines,
        });
    }
    let mut subjects: Vec<Choice> = catalog
        .workflows
        .iter()
        .filter(|w| viewer.defines_success(w.team_id))
        .map(|w| Choice {
            value: format!("workflow:{}", w.id),
            label: format!("Workflow: {}", w.name),
        })
        .collect();
    subjects.extend(
        catalog
            .teams
            .iter()
            .filter(|t| viewer.defines_success(t.id))
            .map(|t| Choice {
                value: format!("team:{}", t.id),
                label: format!("Team: {} (all its workflows)", t.name),
            }),
    );
    let workflows = catalog
        .workflows
        .iter()
        .map(|w| Choice {
            value: catalog.handle(w),
            label: w.name.clone(),
        })
        .collect();
    Ok(AlertsView {
        query: AlertQuery {
            days,
            ..query.clone()
        },
        alerts: lines,
        rules: rule_lines,
        can_define: viewer.defines_any_success() && !subjects.is_empty(),
        subjects,
        workflows,
    })
}

/// The open alerts of one workflow (its own rules' and its team's), for the top of its page.
pub async fn open_for_workflow(
    db: &Db,
    viewer: &Viewer,
    workflow_id: i64,
    team_id: i64,
) -> Result<OpenAlerts, AppError> {
    if !sees(viewer, team_id) {
        return Ok(OpenAlerts { alerts: vec![] });
    }
    let open = alert::open_alerts_of(db, workflow_id, team_id).await?;
    if open.is_empty() {
        return Ok(OpenAlerts { alerts: vec![] });
    }
    let catalog = Catalog::load_for(db, viewer).await?;
    let names = Names::of(db).await?;
    let mut alerts = Vec::new();
    for found in &open {
        alerts.push(line(
            viewer,
            &catalog,
            &names,
            found,
            &[],
            &Default::default(),
        )?);
    }
    Ok(OpenAlerts { alerts })
}

/// What alert lines are labelled with, read once per page: people's names (for
/// "acknowledged by") and each rule's condition.
struct Names {
    people: std::collections::HashMap<i64, String>,
    conditions: std::collections::HashMap<i64, AlertKind>,
}

impl Names {
    async fn of(db: &Db) -> Result<Names, AppError> {
        let people = crate::db::identity::list_users(db).await?;
        Ok(Names {
            people: people.into_iter().map(|u| (u.id, u.name)).collect(),
            conditions: alert::list_rules(db)
                .await?
                .into_iter()
                .map(|r| (r.id, r.kind))
                .collect(),
        })
    }
}

fn line(
    viewer: &Viewer,
    catalog: &Catalog,
    names: &Names,
    found: &Alert,
    deliveries: &[AlertDelivery],
    attempts: &Attempts,
) -> Result<AlertLine, AppError> {
    let flow = found
        .workflow_id
        .and_then(|id| catalog.workflows.iter().find(|w| w.id == id));
    let subject = match flow {
        Some(w) => w.name.clone(),
        None => catalog
            .teams
            .iter()
            .find(|t| t.id == found.team_id)
            .map(|t| format!("Team {}", t.name))
            .unwrap_or_default(),
    };
    let handle = flow.map(|w| crate::views::format::encode_query_value(&catalog.handle(w)));
    let mut delivery_lines = Vec::new();
    for delivery in deliveries.iter().filter(|d| d.alert_id == Some(found.id)) {
        delivery_lines.push(delivery_line(delivery, attempts));
    }
    Ok(AlertLine {
        id: found.id,
        state: found.state().to_owned(),
        kind: names
            .conditions
            .get(&found.rule_id)
            .map_or("Alert", |kind| kind.label())
            .to_owned(),
        subject,
        subject_href: handle.as_ref().map(|h| format!("/workflows/{h}")),
        headline: found.headline.clone(),
        cause: found.cause.clone(),
        compare_href: handle
            .as_ref()
            .filter(|_| !found.link.is_empty())
            .map(|h| format!("/workflows/{h}/compare?{}", found.link)),
        fired_at: format_instant(found.fired_at),
        acknowledged: found.acknowledged_at.map(|at| {
            let who = found
                .acknowledged_by
                .and_then(|id| names.people.get(&id).cloned())
                .unwrap_or_else(|| "someone".into());
            match found.acknowledged_note.as_str() {
                "" => format!("by {who} at {}", format_instant(at)),
                note => format!("by {who} at {}: {note}", format_instant(at)),
            }
        }),
        resolved: found
            .resolved_at
            .map(|at| format!("{}. {}", format_instant(at), found.resolution)),
        rule_id: found.rule_id,
        rule_version: found.rule_version,
        deliveries: delivery_lines,
        can_acknowledge: found.resolved_at.is_none()
            && found.acknowledged_at.is_none()
            && sees(viewer, found.team_id),
    })
}

/// Each delivery's attempts, read together for a page.
type Attempts = std::collections::BTreeMap<i64, Vec<DeliveryAttempt>>;

fn delivery_line(delivery: &AlertDelivery, attempts: &Attempts) -> DeliveryLine {
    let attempts: &[DeliveryAttempt] = attempts.get(&delivery.id).map_or(&[], Vec::as_slice);
    let status = match (
        delivery.delivered_at,
        delivery.gave_up_at,
        delivery.next_attempt_at,
    ) {
        (Some(at), _, _) => format!("delivered {}", format_instant(at)),
        (None, Some(at), _) => format!("gave up {}", format_instant(at)),
        (None, None, Some(at)) if delivery.attempts > 0 => {
            format!("retrying; next attempt {}", format_instant(at))
        }
        _ => "waiting to be sent".to_owned(),
    };
    DeliveryLine {
        event: delivery.event.as_str().to_owned(),
        channel: delivery.channel.as_str().to_owned(),
        target: shown_url(&delivery.target),
        status,
        attempts: attempts
            .iter()
            .map(|a| {
                format!(
                    "{}: {} ({} ms)",
                    format_instant(a.attempted_at),
                    a.outcome,
                    a.duration_ms
                )
            })
            .collect(),
    }
}

/// Where a rule's alerts go, in words.
fn delivery_words(rule: &AlertRule) -> String {
    let mut parts = Vec::new();
    if let Some(url) = &rule.webhook_url {
        parts.push(format!(
            "Webhook ({}) to {}",
            rule.webhook_format.as_str(),
            shown_url(url)
        ));
    }
    if !rule.email_roles.is_empty() {
        let roles = rule.email_roles.replace(',', ", ");
        parts.push(format!("Email to {roles} people"));
    }
    match parts.is_empty() {
        true => "Shown here and on the workflow's page only".to_owned(),
        false => parts.join("; "),
    }
}

/// The condition with its settings, in words.
pub fn condition_words(rule: &AlertRule) -> String {
    let days = match rule.window_days {
        1 => "1 day".to_owned(),
        d => format!("{d} days"),
    };
    let min = crate::views::format::count(rule.min_tasks);
    match rule.kind {
        AlertKind::CpstOverBudget => {
            format!("CPST above the budget over the last {days}, once {min} tasks are decided")
        }
        AlertKind::CpstRegression => format!(
            "CPST up by more than the drift tolerance against the {days} before, beyond noise; at least {min} decided tasks in each"
        ),
        AlertKind::SuccessDrop => format!(
            "Success rate below the quality target, or a drop beyond noise against the {days} before; at least {min} decided tasks"
        ),
        AlertKind::SpendBudget => format!(
            "This month's spend reaches {} of {}",
            thresholds_words(&rule.thresholds),
            Micros(rule.monthly_budget_micros.unwrap_or_default())
        ),
        AlertKind::GateTurned => {
            "The workflow's autonomy level is above what its gate's evidence supports".to_owned()
        }
        AlertKind::EscalationSurge => format!(
            "One escalation reason's share at least doubles against the {days} before, with {min} or more escalations"
        ),
    }
}

fn form_of(rule: &AlertRule) -> RuleForm {
    RuleForm {
        subject: match (rule.workflow_id, rule.team_id) {
            (Some(id), _) => format!("workflow:{id}"),
            (None, Some(id)) => format!("team:{id}"),
            _ => String::new(),
        },
        kind: rule.kind.as_str().to_owned(),
        window_days: rule.window_days.to_string(),
        min_tasks: rule.min_tasks.to_string(),
        monthly_budget: rule
            .monthly_budget_micros
            .map(|m| crate::views::format::plain_dollars(Micros(m)))
            .unwrap_or_default(),
        thresholds: evaluate::thresholds_bp(&rule.thresholds)
            .into_iter()
            .map(crate::views::format::plain_percent)
            .collect::<Vec<_>>()
            .join(", "),
        // The address is a secret: the form shows it empty and an empty field keeps it.
        webhook_url: String::new(),
        remove_webhook: false,
        email_roles: rule
            .email_roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        webhook_format: rule.webhook_format.as_str().to_owned(),
        paused: rule.paused,
    }
}

/// The alerts of the page's filters as CSV, one row per alert, for finance.
pub async fn alerts_csv(
    db: &Db,
    viewer: &Viewer,
    query: &AlertQuery,
    now: i64,
) -> Result<(String, String), AppError> {
    use crate::service::exports::{csv_field, file_name};
    let view = page(db, viewer, query, now).await?;
    let mut out = String::from(
        "id,state,condition,subject,fired_at_utc,headline,cause,acknowledged,resolved,rule_id,rule_version\r\n",
    );
    for line in &view.alerts {
        let fields = [
            line.id.to_string(),
            line.state.clone(),
            line.kind.clone(),
            line.subject.clone(),
            line.fired_at.clone(),
            line.headline.clone(),
            line.cause.clone(),
            line.acknowledged.clone().unwrap_or_default(),
            line.resolved.clone().unwrap_or_default(),
            line.rule_id.to_string(),
            line.rule_version.to_string(),
        ];
        let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    let days = format!("{}-days", view.query.days);
    let name = file_name(&[
        "alerts",
        view.query.state.trim(),
        view.query.workflow.trim(),
        &days,
    ]);
    Ok((name, out))
}
