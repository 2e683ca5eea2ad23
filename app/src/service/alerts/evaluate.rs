//! One pass of the alert rules: gather each subject's figures, let the domain decide, and fire,
//! refresh or resolve its alert, writing the notifications into the outbox in the same
//! transaction (so a crash can neither lose one nor, after a restart, send one twice).

use super::body;
use crate::db::catalog::{Catalog, window_spreads};
use crate::db::{Db, DbError, alert, workflow};
use crate::domain::Micros;
use crate::domain::alerting::{self, AlertKind, Finding, WindowEvidence};
use crate::domain::cpst::{TaskSet, percent};
use crate::domain::stats::Buckets;
use crate::domain::status::DeliveryEvent;
use crate::domain::time::{MS_PER_DAY, day_of, format_day, month_start};
use crate::model::{Alert, AlertDelivery, AlertRule, Workflow};
use crate::report::Window;
use crate::report::figures::{Filter, Grouping, Usage, figures};
use std::collections::HashMap;

/// How far (in points) a model's share of a workflow's first-attempt model calls must move to
/// be named as a cause.
pub const MIX_SHIFT_POINTS: f64 = 10.0;

/// What a pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub rules: u64,
    pub fired: u64,
    pub resolved: u64,
    /// Rules whose figures could not be worked out this time.
    pub skipped: u64,
}

/// What a rule watches, found in the catalogue.
pub(super) struct Subject<'a> {
    pub team_id: i64,
    pub name: String,
    /// The workflows whose figures count: one, or every workflow of the team.
    pub workflows: Vec<&'a Workflow>,
    /// The workflow, when the rule watches one.
    pub workflow: Option<&'a Workflow>,
}

pub(super) fn subject_of<'a>(catalog: &'a Catalog, rule: &AlertRule) -> Option<Subject<'a>> {
    if let Some(id) = rule.workflow_id {
        let flow = catalog.workflows.iter().find(|w| w.id == id)?;
        return Some(Subject {
            team_id: flow.team_id,
            name: flow.name.clone(),
            workflows: vec![flow],
            workflow: Some(flow),
        });
    }
    let team = catalog.teams.iter().find(|t| Some(t.id) == rule.team_id)?;
    Some(Subject {
        team_id: team.id,
        name: format!("Team {}", team.name),
        workflows: catalog
            .workflows
            .iter()
            .filter(|w| w.team_id == team.id)
            .collect(),
        workflow: None,
    })
}

/// Each workflow's figures per window, worked out once for the whole pass: one walk over a
/// window's rollup rows serves every rule that reads it, and the rows are let go at once.
struct Rows<'a> {
    db: &'a Db,
    catalog: &'a Catalog,
    read: HashMap<Window, HashMap<i64, (TaskSet, Usage)>>,
    spreads: HashMap<(i64, Window), Spread>,
}

/// A workflow's task-cost spread and escalations per reason over a window.
type Spread = (Buckets, Vec<(String, u64)>);

impl Rows<'_> {
    async fn of(&mut self, window: Window) -> Result<&HashMap<i64, (TaskSet, Usage)>, DbError> {
        if !self.read.contains_key(&window) {
            let rows = crate::db::catalog::window_rows(self.db, window).await?;
            let ledger = self.catalog.ledger(window, &rows);
            let by_workflow = figures(&ledger, &Filter::default(), Grouping::Workflow)?
                .into_iter()
                .filter_map(|g| Some((g.key.parse::<i64>().ok()?, (g.set, g.usage))))
                .collect();
            self.read.insert(window, by_workflow);
        }
        Ok(&self.read[&window])
    }

    /// The subject's task set and usage over `window`: its workflows' added together.
    async fn totals(
        &mut self,
        window: Window,
        subject: &Subject<'_>,
    ) -> Result<(TaskSet, Usage), DbError> {
        let by_workflow = self.of(window).await?;
        let mut set = TaskSet::default();
        let mut usage = Usage::default();
        for flow in &subject.workflows {
            if let Some((one, used)) = by_workflow.get(&flow.id) {
                set.merge(one)?;
                add_usage(&mut usage, used);
            }
        }
        Ok((set, usage))
    }
}

fn add_usage(into: &mut Usage, more: &Usage) {
    for (total, value) in [
        (&mut into.tasks, more.tasks),
        (
            &mut into.succeeded_first_attempt,
            more.succeeded_first_attempt,
        ),
        (
            &mut into.succeeded_within_three,
            more.succeeded_within_three,
        ),
        (&mut into.retried_tasks, more.retried_tasks),
        (&mut into.attempts, more.attempts),
        (&mut into.calls, more.calls),
        (&mut into.input_tokens, more.input_tokens),
        (&mut into.output_tokens, more.output_tokens),
        (&mut into.cache_read_tokens, more.cache_read_tokens),
        (&mut into.duration_ms, more.duration_ms),
    ] {
        *total = total.saturating_add(value);
    }
}

/// Cost spreads and escalations of the subject's workflows over `window`, added together (each
/// workflow's read once per pass).
async fn spreads(
    rows: &mut Rows<'_>,
    subject: &Subject<'_>,
    window: Window,
) -> Result<(Buckets, Vec<(String, u64)>), DbError> {
    let mut buckets = Vec::new();
    let mut reasons: HashMap<String, u64> = HashMap::new();
    for flow in &subject.workflows {
        if !rows.spreads.contains_key(&(flow.id, window)) {
            let spread = window_spreads(rows.db, flow.id, window).await?;
            rows.spreads
                .insert((flow.id, window), (spread.cost, spread.escalations));
        }
        let (cost, escalations) = &rows.spreads[&(flow.id, window)];
        buckets.extend(cost.buckets().iter().copied());
        for (reason, n) in escalations {
            *reasons.entry(reason.clone()).or_default() += n;
        }
    }
    let mut reasons: Vec<(String, u64)> = reasons.into_iter().collect();
    reasons.sort();
    Ok((Buckets::merge(buckets), reasons))
}

/// The figures beside an alert's headline, kept with it (and sent in its webhook).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertFigures {
    pub from: String,
    pub to: String,
    pub before_from: String,
    pub before_to: String,
    pub decided: u64,
    pub decided_before: u64,
    pub cpst_micros: Option<i64>,
    pub cpst_before_micros: Option<i64>,
    pub success_rate: Option<f64>,
    pub success_rate_before: Option<f64>,
    pub retry_rate: Option<f64>,
    pub retry_rate_before: Option<f64>,
    pub spend_micros: i64,
    pub month_to_date_micros: Option<i64>,
    pub forecast_micros: Option<i64>,
    pub monthly_budget_micros: Option<i64>,
}

/// A rule's evaluation: what it found, its figures, and for regressions and drops the likely
/// cause in words with the comparison that shows it (a query on the workflow's compare page).
pub(super) struct Evaluation {
    pub finding: Finding,
    pub figures: AlertFigures,
    pub cause: String,
    pub compare_query: String,
}

/// `"80,90,100"` (percentages, stored as basis points `8000,9000,10000`) as basis points.
pub fn thresholds_bp(text: &str) -> Vec<i64> {
    text.split(',')
        .filter_map(|t| t.trim().parse::<i64>().ok())
        .collect()
}

async fn evaluate_rule(
    rows: &mut Rows<'_>,
    rule: &AlertRule,
    subject: &Subject<'_>,
    open: bool,
    now: i64,
) -> Result<Evaluation, DbError> {
    let today = day_of(now);
    let window = Window::ending(today, rule.window_days);
    let before = window.previous();
    let (now_set, now_usage) = rows.totals(window, subject).await?;
    let (then_set, then_usage) = rows.totals(before, subject).await?;
    let mut figures = AlertFigures {
        from: format_day(window.first_day),
        to: format_day(window.last_day),
        before_from: format_day(before.first_day),
        before_to: format_day(before.last_day),
        decided: now_set.counts.decided(),
        decided_before: then_set.counts.decided(),
        cpst_micros: now_set.cost_per_successful_task().micros().map(|m| m.0),
        cpst_before_micros: then_set.cost_per_successful_task().micros().map(|m| m.0),
        success_rate: now_set.success_rate().map(|p| p.value),
        success_rate_before: then_set.success_rate().map(|p| p.value),
        retry_rate: ratio(now_usage.retried_tasks, now_usage.tasks),
        retry_rate_before: ratio(then_usage.retried_tasks, then_usage.tasks),
        spend_micros: now_set.total_cost().0,
        ..AlertFigures::default()
    };
    let days = rule.window_days;
    // The subject's targets: a team's are its workflows' budgets and targets weighted by
    // their decided tasks; a workflow's are its own.
    let budget = weighted(subject, rows, window, |w| w.budget_cpst_micros.0).await?;
    let finding = match rule.kind {
        AlertKind::CpstOverBudget => {
            alerting::over_budget(&now_set, Micros(budget), rule.min_tasks, days)
        }
        AlertKind::CpstRegression => {
            let (cost_now, _) = spreads(rows, subject, window).await?;
            let (cost_then, _) = spreads(rows, subject, before).await?;
            let tolerance = weighted(subject, rows, window, |w| w.drift_tolerance_bp).await?;
            alerting::regression(
                &WindowEvidence {
                    set: then_set,
                    task_costs: cost_then,
                    escalations: vec![],
                },
                &WindowEvidence {
                    set: now_set,
                    task_costs: cost_now,
                    escalations: vec![],
                },
                tolerance,
                rule.min_tasks,
                days,
            )
        }
        AlertKind::SuccessDrop => {
            let target = weighted(subject, rows, window, |w| w.quality_target_bp).await?;
            alerting::success_drop(&then_set, &now_set, target, rule.min_tasks, days)
        }
        AlertKind::EscalationSurge => {
            let (_, reasons_now) = spreads(rows, subject, window).await?;
            let (_, reasons_then) = spreads(rows, subject, before).await?;
            alerting::escalation_surge(&reasons_then, &reasons_now, rule.min_tasks, days)
        }
        AlertKind::SpendBudget => {
            let first = month_start(today);
            let month = Window {
                first_day: first,
                last_day: today,
            };
            let (month_set, _) = rows.totals(month, subject).await?;
            let month_ms = crate::domain::time::days_in_month_of(today) * MS_PER_DAY;
            let elapsed = now - first * MS_PER_DAY;
            let budget = Micros(rule.monthly_budget_micros.unwrap_or(1));
            let spent = month_set.total_cost();
            figures.month_to_date_micros = Some(spent.0);
            figures.monthly_budget_micros = Some(budget.0);
            figures.from = format_day(first);
            figures.forecast_micros = Some(alerting::forecast(spent, elapsed, month_ms).0);
            alerting::spend(
                spent,
                elapsed,
                month_ms,
                budget,
                &thresholds_bp(&rule.thresholds),
            )
        }
        AlertKind::GateTurned => match subject.workflow {
            Some(flow) => {
                // As the gate page judges it, from the pass's figures of the gate's windows.
                let gate_window = Window::ending(today, flow.gate_window_days);
                let (current, _) = rows.totals(gate_window, subject).await?;
                let (previous, _) = rows.totals(gate_window.previous(), subject).await?;
                let result = crate::domain::gate::evaluate_autonomy_gate(
                    &current,
                    &previous,
                    &flow.gate_settings(),
                );
                let failed = [
                    (!result.quality_proven).then_some(result.quality_evidence.as_str()),
                    (!result.cost_proven).then_some(result.cost_evidence.as_str()),
                ];
                let evidence = match failed.iter().flatten().copied().collect::<Vec<_>>() {
                    halves if halves.is_empty() => result.evidence(),
                    halves => halves.join("; "),
                };
                alerting::gate_turned(flow.autonomy_level, result.passes(), &evidence)
            }
            None => Finding::Quiet("the autonomy gate is a workflow's, not a team's".into()),
        },
    };
    // The cause is worked out when the alert fires (it reads raw calls) and kept while it is
    // open: what took effect in the window does not change while the condition holds.
    let (cause, compare_query) = match (rule.kind.has_cause(), finding.is_firing(), open) {
        (true, true, false) => {
            cause(rows.db, rows.catalog, subject, window, before, &figures).await?
        }
        _ => (String::new(), String::new()),
    };
    Ok(Evaluation {
        finding,
        figures,
        cause,
        compare_query,
    })
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// A setting of the subject: the workflow's own, or for a team its workflows' weighted by
/// their decided tasks in the window (their mean when none has any).
async fn weighted(
    subject: &Subject<'_>,
    rows: &mut Rows<'_>,
    window: Window,
    setting: impl Fn(&Workflow) -> i64,
) -> Result<i64, DbError> {
    if let [only] = subject.workflows.as_slice() {
        return Ok(setting(only));
    }
    if subject.workflows.is_empty() {
        return Ok(0);
    }
    let by_workflow = rows.of(window).await?;
    let mut sum = 0i128;
    let mut weight = 0i128;
    for flow in &subject.workflows {
        let n = by_workflow
            .get(&flow.id)
            .map_or(0, |(set, _)| i128::from(set.counts.decided()));
        sum += n * i128::from(setting(flow));
        weight += n;
    }
    if weight == 0 {
        let all: i128 = subject
            .workflows
            .iter()
            .map(|w| i128::from(setting(w)))
            .sum();
        return Ok((all / subject.workflows.len() as i128) as i64);
    }
    Ok((sum / weight) as i64)
}

/// What changed in the window that could explain a regression or a drop against the window
/// before: configuration versions that took effect, success rules that changed, prices that
/// started for models the subject uses, and shifts in its model mix; then the success and retry rates before and
/// after. Also the comparison that shows it: the two versions when exactly one took effect in
/// the window, else the two periods.
async fn cause(
    db: &Db,
    catalog: &Catalog,
    subject: &Subject<'_>,
    window: Window,
    before: Window,
    figures: &AlertFigures,
) -> Result<(String, String), DbError> {
    // Changes that took effect in the window being judged: what the baseline did not have.
    let in_periods = |at: i64| {
        let day = day_of(at);
        window.first_day <= day && day <= window.last_day
    };
    let mut changes = Vec::new();
    let mut compare = None;
    for flow in &subject.workflows {
        let versions = catalog.versions_of(flow.id);
        let started: Vec<_> = versions
            .iter()
            .enumerate()
            // A workflow's first version is where its data starts, not a change.
            .filter(|(i, v)| *i > 0 && in_periods(v.first_seen_at))
            .collect();
        for (i, version) in &started {
            changes.push(format!(
                "since {} took effect on {}",
                version.label,
                format_day(day_of(version.first_seen_at))
            ));
            if started.len() == 1 && subject.workflows.len() == 1 {
                let enc = crate::views::format::encode_query_value;
                compare = Some(match i.checked_sub(1).and_then(|j| versions.get(j)) {
                    Some(previous) => format!(
                        "baseline={}&candidate={}",
                        enc(&previous.label),
                        enc(&version.label)
                    ),
                    None => format!("candidate={}", enc(&version.label)),
                });
            }
        }
        let task_types = workflow::list_task_types(db, flow.id).await?;
        for rule in workflow::workflow_rules(db, flow.id).await? {
            if rule.version > 1 && in_periods(rule.effective_from) {
                let name = task_types
                    .iter()
                    .find(|t| t.id == rule.task_type_id)
                    .map_or("a task type", |t| t.name.as_str());
                changes.push(format!(
                    "the success rule of {name} changed to v{} on {}",
                    rule.version,
                    format_day(day_of(rule.effective_from))
                ));
            }
        }
        let mix_now = model_mix(db, flow.id, window).await?;
        let mix_then = model_mix(db, flow.id, before).await?;
        for price in &catalog.prices {
            let model = format!("{}/{}", price.provider, price.model);
            let used = mix_now.contains_key(&model) || mix_then.contains_key(&model);
            if used && in_periods(price.effective_from) {
                changes.push(format!(
                    "a new price for {model} from {}",
                    format_day(day_of(price.effective_from))
                ));
            }
        }
        let mut models: Vec<&String> = mix_now.keys().chain(mix_then.keys()).collect();
        models.sort();
        models.dedup();
        for model in models {
            let share = |mix: &HashMap<String, f64>| mix.get(model).copied().unwrap_or(0.0);
            let (then, now) = (share(&mix_then), share(&mix_now));
            if (now - then).abs() * 100.0 > MIX_SHIFT_POINTS {
                changes.push(format!(
                    "{model}'s share of first-attempt model calls moved {} → {}",
                    percent(then),
                    percent(now)
                ));
            }
        }
    }
    let mut words = match changes.is_empty() {
        true => {
            "No configuration, success rule, price or model-mix change in these periods".to_owned()
        }
        false => {
            let mut text = changes.join("; ");
            if let Some(first) = text.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            text
        }
    };
    let pair = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(format!("{} → {}", percent(a), percent(b))),
        _ => None,
    };
    if let Some(rates) = pair(figures.success_rate_before, figures.success_rate) {
        words.push_str(&format!("; success rate {rates}"));
    }
    let moved = figures
        .retry_rate_before
        .zip(figures.retry_rate)
        .is_some_and(|(a, b)| percent(a) != percent(b));
    if let (true, Some(rates)) = (moved, pair(figures.retry_rate_before, figures.retry_rate)) {
        words.push_str(&format!("; retries {rates}"));
    }
    let compare = compare.unwrap_or_else(|| {
        format!(
            "baseline_from={}&baseline_to={}&candidate_from={}&candidate_to={}",
            format_day(before.first_day),
            format_day(before.last_day),
            format_day(window.first_day),
            format_day(window.last_day)
        )
    });
    Ok((words, compare))
}

/// Each model's share of a workflow's first-attempt model calls over the window
/// ("provider/model" → share).
async fn model_mix(
    db: &Db,
    workflow_id: i64,
    window: Window,
) -> Result<HashMap<String, f64>, DbError> {
    let mut calls: HashMap<String, i64> = HashMap::new();
    let mix = alert::first_attempt_models(db, workflow_id, window.first_day, window.last_day);
    for (provider, model, n) in mix.await? {
        *calls.entry(format!("{provider}/{model}")).or_default() += n;
    }
    let total: i64 = calls.values().sum();
    Ok(calls
        .into_iter()
        .map(|(model, n)| (model, n as f64 / total.max(1) as f64))
        .collect())
}

/// Puts every notification of `message` (the rule's webhook, an email to each of `emails`) in
/// the outbox, due now, in the caller's transaction. A test belongs to no alert.
pub(super) async fn queue(
    tx: &mut crate::db::Tx,
    message: &body::Message<'_>,
    emails: Vec<String>,
    now: i64,
) -> Result<(), DbError> {
    let alert_id = (message.event != DeliveryEvent::Test).then_some(message.alert.id);
    for (channel, target, text) in body::deliveries(message, emails) {
        let delivery = AlertDelivery {
            id: 0,
            rule_id: message.rule.id,
            alert_id,
            event: message.event,
            channel,
            target,
            body: text,
            created_at: now,
            next_attempt_at: Some(now),
            attempts: 0,
            delivered_at: None,
            gave_up_at: None,
            last_outcome: String::new(),
        };
        alert::insert_delivery(tx, &delivery).await?;
    }
    Ok(())
}

/// Who may be emailed: active accounts and their teams, read once per pass.
pub(super) struct Recipients {
    users: Vec<crate::model::User>,
    memberships: Vec<(i64, i64)>,
}

impl Recipients {
    pub(super) async fn load(db: &Db) -> Result<Recipients, DbError> {
        Ok(Recipients {
            users: crate::db::identity::list_users(db).await?,
            memberships: crate::db::identity::memberships(db).await?,
        })
    }

    /// The addresses of the rule's email roles: admins and finance people, and owners of the
    /// subject's team; never disabled accounts, never reviewers.
    pub(super) fn of(&self, rule: &AlertRule, team_id: i64) -> Vec<String> {
        use crate::domain::status::Role;
        let roles: Vec<&str> = rule
            .email_roles
            .split(',')
            .filter(|r| !r.is_empty())
            .collect();
        let mut addresses: Vec<String> = self
            .users
            .iter()
            .filter(|u| u.disabled_at.is_none() && roles.contains(&u.role.as_str()))
            .filter(|u| match u.role {
                Role::Admin | Role::Finance => true,
                Role::Owner => self.memberships.contains(&(u.id, team_id)),
                Role::Reviewer => false,
            })
            .map(|u| u.email.clone())
            .collect();
        addresses.sort();
        addresses.dedup();
        addresses
    }
}

/// Evaluates every rule that is not paused, once. `site` is the server's public address, for
/// the links in notifications.
pub async fn evaluate_all(db: &Db, site: &str, now: i64) -> Result<Pass, DbError> {
    let catalog = Catalog::load(db).await?;
    let mut rows = Rows {
        db,
        catalog: &catalog,
        read: HashMap::new(),
        spreads: HashMap::new(),
    };
    let mut pass = Pass::default();
    let recipients = Recipients::load(db).await?;
    let open_rules: std::collections::HashSet<i64> = alert::rules_with_open_alerts(db).await?;
    for rule in alert::list_rules(db).await? {
        if rule.paused {
            continue;
        }
        let Some(subject) = subject_of(&catalog, &rule) else {
            continue;
        };
        pass.rules += 1;
        // A subject whose figures cannot be worked out (a total beyond what money can count)
        // leaves its rule's state as it was; the other rules are still checked.
        let open = open_rules.contains(&rule.id);
        let evaluation = match evaluate_rule(&mut rows, &rule, &subject, open, now).await {
            Ok(evaluation) => evaluation,
            Err(DbError::Overflow) => {
                tracing::warn!(
                    rule = rule.id,
                    "an alert rule's figures overflowed; skipped"
                );
                pass.skipped += 1;
                continue;
            }
            Err(other) => return Err(other),
        };
        let (fired, resolved) = settle(
            db,
            &catalog,
            &recipients,
            &rule,
            &subject,
            evaluation,
            site,
            now,
        )
        .await?;
        pass.fired += u64::from(fired);
        pass.resolved += u64::from(resolved);
    }
    Ok(pass)
}

/// Fires, refreshes or resolves the rule's alert from its evaluation, with the outbox rows, in
/// one transaction. Returns (fired, resolved).
#[allow(clippy::too_many_arguments)]
async fn settle(
    db: &Db,
    catalog: &Catalog,
    recipients: &Recipients,
    rule: &AlertRule,
    subject: &Subject<'_>,
    evaluation: Evaluation,
    site: &str,
    now: i64,
) -> Result<(bool, bool), DbError> {
    let mut tx = db.begin().await?;
    let open = alert::open_alert(&mut tx, rule.id).await?;
    let figures = serde_json::to_string(&evaluation.figures).unwrap_or_else(|_| "{}".into());
    let mut outcome = (false, false);
    let event = match (&evaluation.finding, open) {
        (Finding::Firing { headline, level_bp }, None) => {
            let fresh = Alert {
                id: 0,
                rule_id: rule.id,
                rule_version: rule.version,
                workflow_id: subject.workflow.map(|w| w.id),
                team_id: subject.team_id,
                fired_at: now,
                checked_at: now,
                level_bp: *level_bp,
                headline: headline.clone(),
                cause: evaluation.cause.clone(),
                link: evaluation.compare_query.clone(),
                figures,
                acknowledged_at: None,
                acknowledged_by: None,
                acknowledged_note: String::new(),
                resolved_at: None,
                resolution: String::new(),
            };
            match alert::insert_alert(&mut tx, &fresh).await? {
                Some(id) => {
                    outcome.0 = true;
                    Some((DeliveryEvent::Fired, Alert { id, ..fresh }))
                }
                None => None,
            }
        }
        (Finding::Firing { headline, level_bp }, Some(open)) => {
            let raised = *level_bp > open.level_bp;
            let refreshed = Alert {
                checked_at: now,
                level_bp: open.level_bp.max(*level_bp),
                headline: headline.clone(),
                // Kept from when it fired, unless this pass worked it out (it fired meanwhile
                // on another server and this pass did not know).
                cause: match evaluation.cause.is_empty() {
                    true => open.cause.clone(),
                    false => evaluation.cause.clone(),
                },
                link: match evaluation.compare_query.is_empty() {
                    true => open.link.clone(),
                    false => evaluation.compare_query.clone(),
                },
                figures,
                ..open
            };
            alert::refresh_alert(&mut tx, &refreshed).await?;
            raised.then_some((DeliveryEvent::Raised, refreshed))
        }
        (Finding::Quiet(words), Some(open)) => {
            let resolution = format!("The condition cleared: {words}");
            alert::resolve_alert(&mut tx, open.id, now, &resolution).await?;
            outcome.1 = true;
            Some((
                DeliveryEvent::Resolved,
                Alert {
                    resolved_at: Some(now),
                    resolution,
                    ..open
                },
            ))
        }
        (Finding::Quiet(_), None) => None,
    };
    if let Some((event, alert_row)) = event {
        let handle = subject.workflow.map(|w| catalog.handle(w));
        let message = body::Message {
            event,
            rule,
            alert: &alert_row,
            subject: &subject.name,
            workflow_handle: handle.as_deref(),
            site,
        };
        let emails = recipients.of(rule, subject.team_id);
        queue(&mut tx, &message, emails, now).await?;
    }
    alert::record_check(&mut tx, rule.id, now, evaluation.finding.words()).await?;
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_as_basis_points() {
        assert_eq!(
            thresholds_bp("8000, 9000,10000"),
            vec![8_000, 9_000, 10_000]
        );
        assert_eq!(thresholds_bp(""), Vec::<i64>::new());
    }

    #[test]
    fn months_start_on_their_first_day() {
        let day = crate::domain::time::days_from_civil(2026, 11, 20);
        assert_eq!(format_day(month_start(day)), "2026-11-01");
    }
}
