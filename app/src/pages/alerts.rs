//! The alerts page: open and recent alerts with their cause and notifications, acknowledging,
//! and the rules that raise them (defined by admins and the workflows' owners).

use crate::api::alerts::{
    AcknowledgeAlert, DeleteAlertRule, SaveAlertRule, TestAlertRule, list_alerts,
};
use crate::components::export::CsvLink;
use crate::components::forms::{ActionOutcome, OneTimeSecretBox, error_text, reset_on_success};
use crate::domain::alerting::AlertKind;
use crate::views::alerts::{AlertLine, AlertQuery, AlertsView, DeliveryLine, RuleForm, RuleLine};
use crate::views::choice::Choice;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || {
        let params = params.read();
        AlertQuery {
            state: params.get("state").unwrap_or_default(),
            workflow: params.get("workflow").unwrap_or_default(),
            days: params
                .get("days")
                .and_then(|d| d.parse().ok())
                .unwrap_or_default(),
        }
    };
    let acknowledge = ServerAction::<AcknowledgeAlert>::new();
    let save = ServerAction::<SaveAlertRule>::new();
    let delete = ServerAction::<DeleteAlertRule>::new();
    let test = ServerAction::<TestAlertRule>::new();
    let page = Resource::new(
        move || {
            (
                query(),
                acknowledge.version().get(),
                save.version().get(),
                delete.version().get(),
                test.version().get(),
            )
        },
        |(q, ..)| list_alerts(Some(q.state), Some(q.workflow), Some(q.days)),
    );
    view! {
        <Title text="Alerts" />
        <h1>"Alerts"</h1>
        <p class="lede">"When the cost of a finished task goes wrong, and the change that likely did it. Rules are checked every few minutes; an alert resolves itself once its condition clears."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading alerts…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(view_) => view! {
                        <Filters view_=view_.clone() />
                        <Alerts view_=view_.clone() acknowledge />
                        <Rules view_ save delete test />
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Filters(view_: AlertsView) -> impl IntoView {
    let q = view_.query;
    let states = [
        ("open", "Open (firing or acknowledged)"),
        ("firing", "Firing"),
        ("acknowledged", "Acknowledged"),
        ("resolved", "Resolved"),
    ];
    view! {
        <form method="get" action="/alerts" class="filters card" aria-label="Filters">
            <label>"State"
                <select name="state">
                    <option value="">"any"</option>
                    {states.into_iter().map(|(value, label)| view! {
                        <option value=value selected=q.state == value>{label}</option>
                    }).collect_view()}
                </select>
            </label>
            {crate::components::forms::choices("workflow", "Workflow", view_.workflows, q.workflow.clone())}
            <label>"Resolved in the last"
                <select name="days">
                    {crate::views::overview::PERIODS.into_iter().map(|d| view! {
                        <option value=d.to_string() selected=q.days == d>{if d == 1 { "1 day".to_owned() } else { format!("{d} days") }}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Show"</button>
        </form>
    }
}

#[component]
fn Alerts(view_: AlertsView, acknowledge: ServerAction<AcknowledgeAlert>) -> impl IntoView {
    let filtered = view_.query
        != AlertQuery {
            days: 30,
            ..AlertQuery::default()
        };
    let export = format!(
        "/export/alerts.csv?state={}&workflow={}&days={}",
        crate::views::format::encode_query_value(&view_.query.state),
        crate::views::format::encode_query_value(&view_.query.workflow),
        view_.query.days
    );
    let none = view_.alerts.is_empty();
    let body = if none {
        let empty = match (filtered, view_.rules.is_empty(), view_.can_define) {
            (true, _, _) => "No alerts match these filters.",
            (false, true, true) => "No alerts: no rule watches anything yet. Add one below.",
            (false, true, false) => {
                "No alerts: no rule watches anything yet. Rules watch a workflow or a team: once there is one, its owners and admins add them here."
            }
            (false, false, _) => "No alerts: every rule's condition is clear.",
        };
        view! { <p class="empty">{empty}</p> }.into_any()
    } else {
        view! {
            <ActionOutcome action=acknowledge done="Acknowledged: the alert shows who is on it until it resolves." />
            <ul class="alert-list">
                {view_.alerts.into_iter().map(|line| view! { <li><AlertCard line acknowledge /></li> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <div class="section-head">
            <h2 id="alerts">"Alerts"</h2>
            {(!none).then(|| view! { <CsvLink href=export.clone() what="these alerts" /> })}
        </div>
        {body}
    }
}

/// One alert: its state, what fired, the likely cause, and (on the alerts page) its
/// notifications and the acknowledge form.
#[component]
pub fn AlertCard(
    line: AlertLine,
    #[prop(optional)] acknowledge: Option<ServerAction<AcknowledgeAlert>>,
) -> impl IntoView {
    let state_label = match line.state.as_str() {
        "firing" => "Firing",
        "acknowledged" => "Acknowledged",
        _ => "Resolved",
    };
    let note_id = format!("ack-note-{}", line.id);
    view! {
        <article class=format!("alert-card {}", line.state) id=format!("alert-{}", line.id) aria-labelledby=format!("alert-title-{}", line.id)>
            <header>
                <span class=format!("alert-state {}", line.state)>{state_label}</span>
                <h3 id=format!("alert-title-{}", line.id)>
                    {line.kind.clone()} ": "
                    {match line.subject_href.clone() {
                        Some(href) => view! { <a href=href>{line.subject.clone()}</a> }.into_any(),
                        None => view! { <span>{line.subject.clone()}</span> }.into_any(),
                    }}
                </h3>
            </header>
            <p class="alert-headline">{line.headline.clone()}</p>
            {(!line.cause.is_empty()).then(|| view! { <p class="alert-cause">{line.cause.clone()}</p> })}
            <p class="alert-meta">
                {format!("Fired {} (rule v{})", line.fired_at, line.rule_version)}
                {line.compare_href.clone().map(|href| view! { " · " <a href=href>"Compare the two periods"</a> })}
            </p>
            {line.acknowledged.clone().map(|a| view! { <p class="alert-meta">"Acknowledged " {a}</p> })}
            {line.resolved.clone().map(|r| view! { <p class="alert-meta">"Resolved " {r}</p> })}
            {(!line.deliveries.is_empty()).then(|| view! {
                <details class="deliveries">
                    <summary>{format!("Notifications ({})", line.deliveries.len())}</summary>
                    <Deliveries lines=line.deliveries.clone() />
                </details>
            })}
            {acknowledge.filter(|_| line.can_acknowledge).map(|action| view! {
                <ActionForm action attr:class="inline-form">
                    <input type="hidden" name="id" value=line.id.to_string() />
                    <label for=note_id.clone()>"Note (optional)"</label>
                    <input id=note_id.clone() name="note" maxlength="1000" placeholder="e.g. rolling back to v2; watching tomorrow's figures" />
                    <button type="submit">"Acknowledge"</button>
                </ActionForm>
            })}
        </article>
    }
}

#[component]
fn Deliveries(lines: Vec<DeliveryLine>) -> impl IntoView {
    view! {
        <ul class="delivery-list">
            {lines.into_iter().map(|d| view! {
                <li>
                    <strong>{format!("{} by {} to {}", d.event, d.channel, d.target)}</strong>
                    ": " {d.status}
                    {(!d.attempts.is_empty()).then(|| view! {
                        <ol class="attempts">{d.attempts.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}</ol>
                    })}
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn Rules(
    view_: AlertsView,
    save: ServerAction<SaveAlertRule>,
    delete: ServerAction<DeleteAlertRule>,
    test: ServerAction<TestAlertRule>,
) -> impl IntoView {
    let subjects = view_.subjects.clone();
    let no_rules = view_.rules.is_empty();
    let secret = move || {
        match save.value().get() {
        Some(Ok(saved)) => saved.secret.map(|s| view! {
            <OneTimeSecretBox label="The webhook's signing secret: copy it now, it is not shown again. Check each notification's X-Finishline-Signature with it.".to_owned() secret=s />
        }),
        _ => None,
    }
    };
    view! {
        <h2 id="rules">"Rules"</h2>
        <ActionOutcome action=save done="Rule saved; it is checked within a few minutes." />
        {secret}
        <ActionOutcome action=delete done="Rule deleted; its alerts are gone with it." />
        <ActionOutcome action=test done="Test notification queued: its delivery shows under the rule within seconds." />
        {if no_rules {
            view! { <p class="empty">"No rules yet."</p> }.into_any()
        } else {
            view! {
                <ul class="rule-list">
                    {view_.rules.into_iter().map(|rule| view! { <li><RuleCard rule save delete test /></li> }).collect_view()}
                </ul>
            }.into_any()
        }}
        {view_.can_define.then(|| view! {
            <details class="card narrow" id="new-rule" open=no_rules>
                <summary>"New rule"</summary>
                <ActionForm action=save node_ref=reset_on_success(save) attr:class="stacked">
                    <input type="hidden" name="id" value="0" />
                    <RuleFields form=RuleForm::default() subjects=subjects.clone() editing=false prefix="new" />
                    <button type="submit">"Add rule"</button>
                </ActionForm>
            </details>
        })}
    }
}

#[component]
fn RuleCard(
    rule: RuleLine,
    save: ServerAction<SaveAlertRule>,
    delete: ServerAction<DeleteAlertRule>,
    test: ServerAction<TestAlertRule>,
) -> impl IntoView {
    let id = rule.id.to_string();
    let (test_id, delete_id) = (id.clone(), id.clone());
    // Only a rule that sends somewhere has something to test.
    let sends = rule.sends;
    let prefix = format!("rule-{}", rule.id);
    view! {
        <article class="card rule-card" id=format!("rule-{}", rule.id)>
            <h3>{format!("{}: {}", rule.kind, rule.subject)} {rule.paused.then(|| view! { " " <span class="verdict none">"paused"</span> })}</h3>
            <p>{rule.condition.clone()}</p>
            <p class="alert-meta">{rule.delivery.clone()} {format!(" · version {}", rule.version)}</p>
            <p class="alert-meta">"Last check: " {rule.last_check.clone()}</p>
            {(!rule.tests.is_empty()).then(|| view! {
                <details class="deliveries"><summary>"Test sends"</summary><Deliveries lines=rule.tests.clone() /></details>
            })}
            {rule.editable.then(move || view! {
                <div class="rule-actions">
                    {sends.then(move || view! {
                        <ActionForm action=test attr:class="inline-form">
                            <input type="hidden" name="id" value=test_id />
                            <button type="submit" class="secondary">"Send a test"</button>
                        </ActionForm>
                    })}
                    <ActionForm action=delete attr:class="inline-form">
                        <input type="hidden" name="id" value=delete_id />
                        <button type="submit" class="secondary danger">"Delete rule"</button>
                    </ActionForm>
                </div>
                <details>
                    <summary>"Change this rule"</summary>
                    <ActionForm action=save attr:class="stacked narrow">
                        <input type="hidden" name="id" value=id />
                        <input type="hidden" name="subject" value=rule.form.subject.clone() />
                        <input type="hidden" name="kind" value=rule.form.kind.clone() />
                        <RuleFields form=rule.form.clone() subjects=vec![] editing=true prefix=prefix.clone() />
                        <button type="submit">"Save as the next version"</button>
                    </ActionForm>
                </details>
            })}
        </article>
    }
}

/// The rule's fields. Editing keeps the subject and condition (sent as hidden fields).
#[component]
fn RuleFields(
    form: RuleForm,
    subjects: Vec<Choice>,
    editing: bool,
    #[prop(into)] prefix: String,
) -> impl IntoView {
    let field = move |name: &str| format!("{prefix}-{name}");
    let window = if form.window_days.is_empty() {
        "7".to_owned()
    } else {
        form.window_days.clone()
    };
    view! {
        {(!editing).then(|| view! {
            <label for=field("subject")>"Watch"</label>
            <select id=field("subject") name="subject" required>
                {subjects.into_iter().map(|c| view! { <option value=c.value>{c.label}</option> }).collect_view()}
            </select>
            <label for=field("kind")>"Condition"</label>
            <select id=field("kind") name="kind">
                {AlertKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
            </select>
            <p class="hint">"CPST and success-rate conditions use the workflow's own budget, drift tolerance and quality target (for a team, its workflows' weighted by their tasks). The autonomy gate is a workflow's only."</p>
        })}
        <label for=field("window")>"Window"</label>
        <select id=field("window") name="window_days">
            {[("1", "Last day"), ("7", "Last 7 days"), ("30", "Last 30 days")].into_iter().map(|(v, l)| view! {
                <option value=v selected=window == v>{l}</option>
            }).collect_view()}
        </select>
        <label for=field("min")>"Decided tasks needed before it may fire"</label>
        <input id=field("min") name="min_tasks" inputmode="numeric" value=form.min_tasks.clone() placeholder="e.g. 50" />
        <label for=field("budget")>"Monthly spend budget, $ (spend budgets only)"</label>
        <input id=field("budget") name="monthly_budget" inputmode="decimal" value=form.monthly_budget.clone() placeholder="e.g. 15000" />
        <label for=field("thresholds")>"Alert at these shares of it, % (spend budgets only)"</label>
        <input id=field("thresholds") name="thresholds" value=form.thresholds.clone() placeholder="e.g. 80, 90, 100" />
        <label for=field("url")>{if editing { "Webhook address (empty keeps the saved one)" } else { "Webhook address (optional)" }}</label>
        <input id=field("url") name="webhook_url" type="url" inputmode="url" maxlength="2000" placeholder="e.g. https://hooks.slack.com/services/…" />
        <label for=field("format")>"Webhook body"</label>
        <select id=field("format") name="webhook_format">
            <option value="json" selected=form.webhook_format != "slack">"Finishline JSON"</option>
            <option value="slack" selected=form.webhook_format == "slack">"Slack or Teams message"</option>
        </select>
        <fieldset class="choices">
            <legend>"Email to (when the server has SMTP settings)"</legend>
            {[("owner", "Owners of the team"), ("finance", "Finance"), ("admin", "Admins")].into_iter().map(|(value, label)| {
                let checked = form.email_roles.iter().any(|r| r == value);
                view! { <label class="check"><input type="checkbox" name="email_roles[]" value=value checked=checked /> {label}</label> }
            }).collect_view()}
        </fieldset>
        {editing.then(|| view! {
            <label class="check"><input type="checkbox" name="remove_webhook" value="on" /> "Take the webhook off"</label>
            <label class="check"><input type="checkbox" name="paused" value="on" checked=form.paused /> "Paused (not checked)"</label>
        })}
    }
}
