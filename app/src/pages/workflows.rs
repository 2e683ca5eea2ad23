//! Workflows: the list, and each workflow's definition of success (settings, task types and
//! their rules), trend with baselines, review queue health and reviewer agreement.

use crate::api::workflows::{
    ForceReview, SaveTaskType, SaveWorkflow, get_workflow, list_workflows,
};
use crate::components::chart::{Chart, ChartSpec, Kind, Series, chart_dollars};
use crate::components::export::CsvLink;
use crate::components::forms::{ActionError, ActionOutcome, error_text, reset_on_success};
use crate::components::markup::TextArea;
use crate::domain::Micros;
use crate::domain::cpst::percent;
use crate::views::choice::Choice;
use crate::views::format::{count, dollars};
use crate::views::review::{AgreementView, QueueHealth};
use crate::views::tone::Tone;
use crate::views::workflows::{
    ChangePanel, Economics, EconomicsRow, EngineeringHealth, SettingsForm, TaskTypeView, TrendBy,
    TrendRow,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let create = ServerAction::<SaveWorkflow>::new();
    let workflows = Resource::new(move || create.version().get(), |_| list_workflows());
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(slug)) = create.value().get() {
            navigate(
                &format!("/workflows/{slug}?created=1#rules"),
                Default::default(),
            );
        }
    });
    view! {
        <Title text="Workflows" />
        <h1>"Workflows"</h1>
        <p class="lede">
            "Each workflow says what finished means for each kind of task before anything is measured, "
            "what a successful task may cost, and how much of its work people review."
        </p>
        <Suspense fallback=|| view! { <p class="loading">"Loading workflows…"</p> }>
            {move || Suspend::new(async move {
                match workflows.await {
                    Ok(view_) => {
                        let no_workflows = view_.workflows.is_empty();
                        view! {
                        <table class="figures">
                            <thead>
                                <tr>
                                    <th scope="col">"Workflow"</th>
                                    <th scope="col">"Team"</th>
                                    <th scope="col" class="num">"CPST budget"</th>
                                    <th scope="col" class="num">"Quality target"</th>
                                    <th scope="col" class="num">"Sampled"</th>
                                    <th scope="col" class="num">"Task types"</th>
                                    <th scope="col" class="num">"Autonomy"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {view_.workflows.into_iter().map(|w| view! {
                                    <tr>
                                        <th scope="row"><a href=format!("/workflows/{}", w.slug)>{w.name}</a></th>
                                        <td>{w.team}</td>
                                        <td class="num">{w.budget}</td>
                                        <td class="num">{w.quality_target}</td>
                                        <td class="num">{w.sampling}</td>
                                        <td class="num">{w.task_types}</td>
                                        <td class="num">{w.autonomy_level}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <ActionError action=create />
                        {(no_workflows && view_.teams.is_empty()).then(|| view! {
                            <p class="empty">"A workflow belongs to a team: " <a href="/costs#new-team">"create a team"</a> " first."</p>
                        })}
                        {(!view_.teams.is_empty()).then(|| view! {
                            <details class="card narrow" id="new-workflow" open=no_workflows>
                                <summary>"Add a workflow"</summary>
                                <ActionForm action=create node_ref=reset_on_success(create) attr:class="stacked">
                                    <SettingsFields settings=SettingsForm {
                                        gate_window_days: "30".into(),
                                        gate_min_sample: "200".into(),
                                        drift_tolerance: "10".into(),
                                        sampling_rate: "5".into(),
                                        second_grader_rate: "20".into(),
                                        quality_target: "90".into(),
                                        ..SettingsForm::default()
                                    } teams=view_.teams />
                                    <button type="submit">"Add workflow"</button>
                                </ActionForm>
                            </details>
                        })}
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The settings inputs, shared by the create and edit forms.
#[component]
fn SettingsFields(settings: SettingsForm, teams: Vec<Choice>) -> impl IntoView {
    let team = settings.team_id.to_string();
    view! {
        <input type="hidden" name="id" value=settings.id.to_string() />
        <label>"Name" <input type="text" name="name" required maxlength="100" value=settings.name placeholder="e.g. Invoice clearing" /></label>
        <label>"Short name for addresses and the API (a-z, 0-9, -)" <input type="text" name="slug" required maxlength="64" pattern="[a-z0-9\\-]+" value=settings.slug /></label>
        <label>
            "Team"
            <select name="team_id">
                {teams.into_iter().map(|t| {
                    let selected = t.value == team;
                    view! { <option value=t.value selected=selected>{t.label}</option> }
                }).collect_view()}
            </select>
        </label>
        <label>"What it does" <TextArea name="description" rows=2 maxlength=2000 value=settings.description /></label>
        <label>"CPST budget, dollars per successful task" <input type="text" name="budget" inputmode="decimal" required value=settings.budget placeholder="e.g. 0.40" /></label>
        <label>"Quality target, % success" <input type="text" name="quality_target" inputmode="decimal" required value=settings.quality_target /></label>
        <label>"Gate window, days" <input type="text" name="gate_window_days" inputmode="numeric" required value=settings.gate_window_days /></label>
        <label>"Minimum decided tasks for the gate" <input type="text" name="gate_min_sample" inputmode="numeric" required value=settings.gate_min_sample /></label>
        <label>"Allowed CPST drift, % over the previous window" <input type="text" name="drift_tolerance" inputmode="decimal" required value=settings.drift_tolerance /></label>
        <label>"Review sampling, % of finished tasks (5 to 10 is usual)" <input type="text" name="sampling_rate" inputmode="decimal" required value=settings.sampling_rate /></label>
        <label>"Second grader, % of sampled tasks" <input type="text" name="second_grader_rate" inputmode="decimal" required value=settings.second_grader_rate /></label>
        <label>"Latency budget, seconds of p95 task time (empty: none)" <input type="text" name="latency_budget" inputmode="decimal" value=settings.latency_budget placeholder="e.g. 8" /></label>
    }
}

#[component]
pub fn WorkflowPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let trend_by = move || query.read().get("trend");
    // The list's create form comes here with `created=1`.
    let created = move || query.read().get("created").is_some();
    // The rule editor comes back here with `rule_saved=<task type id>&version=<n>`.
    let rule_saved = move || {
        let query = query.read();
        let task_type = query.get("rule_saved")?.parse::<i64>().ok()?;
        let version = query.get("version")?.parse::<i64>().ok()?;
        Some((task_type, version))
    };
    let save = ServerAction::<SaveWorkflow>::new();
    let save_type = ServerAction::<SaveTaskType>::new();
    // A new task type goes straight on to its success rule.
    let add_type = ServerAction::<SaveTaskType>::new();
    let force = ServerAction::<ForceReview>::new();
    let detail = Resource::new(
        move || {
            (
                slug(),
                trend_by(),
                save.version().get(),
                save_type.version().get(),
                force.version().get(),
            )
        },
        |(slug, trend_by, ..)| get_workflow(slug, trend_by),
    );
    let navigate = use_navigate();
    Effect::new(move || {
        if let Some(Ok(new_slug)) = save.value().get()
            && new_slug != slug()
        {
            navigate(&format!("/workflows/{new_slug}"), Default::default());
        }
    });
    let to_rule = use_navigate();
    Effect::new(move || {
        if let Some(Ok(task_type)) = add_type.value().get() {
            to_rule(
                &format!("/workflows/{}/rules/{task_type}?added=1", slug()),
                Default::default(),
            );
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the workflow…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let name = d.settings.name.clone();
                        let workflow_id = d.settings.id;
                        let slug = d.handle.clone();
                        let (from, to) = (d.economics.from.clone(), d.economics.to.clone());
                        let no_task_types = d.task_types.is_empty();
                        view! {
                            <Title text=name.clone() />
                            <p class="crumbs"><a href="/workflows">"Workflows"</a></p>
                            <h1>{name}</h1>
                            {created().then(|| view! {
                                <p class="ok" role="status">"Workflow created. Next, say what finished means: add its task types and their success rules below."</p>
                            })}
                            {(!d.alerts.is_empty()).then(|| view! {
                                <section class="open-alerts" aria-labelledby="open-alerts">
                                    <h2 id="open-alerts">{format!("Open alerts ({})", d.alerts.len())}</h2>
                                    <ul class="alert-list">
                                        {d.alerts.clone().into_iter().map(|line| view! { <li><crate::pages::alerts::AlertCard line /></li> }).collect_view()}
                                    </ul>
                                    <p><a href=format!("/alerts?workflow={}", crate::views::format::encode_query_value(&d.handle))>"Acknowledge or see all on the alerts page"</a></p>
                                </section>
                            })}
                            <p class="lede">{d.settings.description.clone()}</p>
                            <dl class="facts two-columns">
                                <dt>"Team"</dt><dd>{d.team.clone()}</dd>
                                {d.summary.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                            </dl>
                            <p>
                                <a class="button secondary" href=format!("/workflows/{slug}/gate")>"Autonomy gate"</a>
                                " "
                                <a class="button secondary" href=format!("/tasks?workflow={slug}")>"Tasks"</a>
                                " "
                                <a class="button secondary" href=format!("/workflows/{slug}/compare")>"Compare versions"</a>
                                " "
                                <a class="button secondary" href=format!("/workflows/{slug}/what-if")>"What if…"</a>
                            </p>
                            // Money and its cause first; the rest one click away, settings last.
                            <nav class="in-page" aria-label="On this page">
                                <a href="#what-changed">"What changed"</a>
                                <a href="#economics">"Unit economics"</a>
                                <a href="#levers">"Levers"</a>
                                <a href="#engineering">"How the work runs"</a>
                                <a href="#trend">"Trend"</a>
                                <a href="#rules">"Task types and rules"</a>
                                {d.health.is_some().then(|| view! { <a href="#queue">"Review"</a> })}
                                {d.editable.then(|| view! { <a href="#settings">"Settings"</a> })}
                            </nav>
                            <WhatChanged changes=d.changes budget=d.settings.budget.clone() />
                            <UnitEconomics economics=d.economics slug=slug.clone() />
                            <Levers levers=d.levers calls=d.call_levers handle=d.handle.clone() />
                            <Engineering health=d.health_30d slug=slug.clone() from=from to=to />
                            <Trend rows=d.trend by=d.trend_by slug=slug.clone() budget=crate::domain::Micros::parse_dollars(&d.settings.budget).ok() />
                            <TaskTypes task_types=d.task_types slug=slug.clone() editable=d.editable workflow_id save_type rule_saved=rule_saved() />
                            {d.editable.then(|| view! { <NewTaskType workflow_id add_type first=no_task_types /> })}
                            {d.health.map(|h| view! { <ReviewQueue health=h workflow_id force /> })}
                            {d.agreement.map(|a| view! { <Agreement agreement=a /> })}
                            {d.editable.then(|| view! {
                                <details class="card narrow" id="settings">
                                    <summary>"Change settings"</summary>
                                    <ActionOutcome action=save done="Settings saved; the audit log keeps the earlier values." />
                                    <ActionForm action=save attr:class="stacked">
                                        <SettingsFields settings=d.settings.clone() teams=d.teams.clone() />
                                        <button type="submit">"Save settings"</button>
                                    </ActionForm>
                                </details>
                            })}
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TaskTypes(
    task_types: Vec<TaskTypeView>,
    slug: String,
    editable: bool,
    workflow_id: i64,
    save_type: ServerAction<SaveTaskType>,
    rule_saved: Option<(i64, i64)>,
) -> impl IntoView {
    let saved_rule = rule_saved.and_then(|(id, version)| {
        let t = task_types.iter().find(|t| t.id == id)?;
        let rule = t.rules.iter().find(|r| r.version == version)?;
        Some(format!(
            "Rule v{version} of \u{201c}{}\u{201d} saved: it judges the tasks that start from {} on.",
            t.name, rule.effective_from
        ))
    });
    view! {
        <section aria-labelledby="rules">
            <h2 id="rules">"Task types and their success rules"</h2>
            {saved_rule.map(|sentence| view! { <p class="ok" role="status">{sentence}</p> })}
            <ActionOutcome action=save_type done="Task type saved." />
            {task_types.is_empty().then(|| view! { <p class="empty">"No task types yet: add one to say what finished means."</p> })}
            {task_types.into_iter().map(|t| {
                let current = t.rules.last().cloned();
                let history: Vec<_> = t.rules.iter().rev().skip(1).cloned().collect();
                let editing = t.clone();
                view! {
                    <article class="card task-type" data-task-type=t.slug.clone()>
                        <h3>{t.name.clone()} " " <small class="muted">{t.slug.clone()}</small></h3>
                        <dl class="facts">
                            <dt>"User goal"</dt><dd>{t.user_goal.clone()}</dd>
                            <dt>"Pass condition"</dt><dd>{t.pass_condition.clone()}</dd>
                            <dt>"Review"</dt><dd>{t.review_method.clone()}</dd>
                            <dt>"Segments"</dt><dd>{if t.segments.is_empty() { "none".to_owned() } else { t.segments.clone() }}</dd>
                            <dt>"Human baseline"</dt>
                            <dd class="baseline">{t.baseline_history.last().cloned().filter(|_| !t.baseline_minutes.is_empty()).unwrap_or_else(|| "none: its savings are not counted".to_owned())}</dd>
                            <dt>"Success rule"</dt>
                            <dd class="rule">
                                {match current {
                                    Some(r) => view! {
                                        <span>"Succeeds when " {r.description} "."</span>
                                        <span class="muted">" (version " {r.version} ", in force from " {r.effective_from} ")"</span>
                                    }.into_any(),
                                    None => view! { <span class="muted">"None yet: its tasks stay pending until a reviewer grades them."</span> }.into_any(),
                                }}
                            </dd>
                        </dl>
                        {(!history.is_empty()).then(|| view! {
                            <details>
                                <summary>"Earlier versions"</summary>
                                <ul class="plain">
                                    {history.into_iter().map(|r| view! {
                                        <li>"v" {r.version} ", from " {r.effective_from} ": " {r.description}</li>
                                    }).collect_view()}
                                </ul>
                            </details>
                        })}
                        {editable.then(|| view! {
                            <p><a class="button secondary" href=format!("/workflows/{slug}/rules/{}", t.id)>"Edit the rule"</a></p>
                            <details>
                                <summary>"Change the task type"</summary>
                                <ActionForm action=save_type attr:class="stacked narrow">
                                    <TaskTypeFields workflow_id task_type=editing.clone() />
                                    <button type="submit">"Save task type"</button>
                                </ActionForm>
                            </details>
                        })}
                    </article>
                }
            }).collect_view()}
        </section>
    }
}

#[component]
fn NewTaskType(
    workflow_id: i64,
    add_type: ServerAction<SaveTaskType>,
    first: bool,
) -> impl IntoView {
    view! {
        <details class="card narrow" id="new-task-type" open=first>
            <summary>"Add a task type"</summary>
            <ActionError action=add_type />
            <ActionForm action=add_type node_ref=reset_on_success(add_type) attr:class="stacked">
                <TaskTypeFields workflow_id task_type=TaskTypeView {
                    id: 0,
                    slug: String::new(),
                    name: String::new(),
                    user_goal: String::new(),
                    pass_condition: String::new(),
                    review_method: "both".into(),
                    segments: String::new(),
                    rules: Vec::new(),
                    baseline_minutes: String::new(),
                    baseline_source: String::new(),
                    baseline_reference: String::new(),
                    baseline_history: Vec::new(),
                } />
                <button type="submit">"Add task type"</button>
            </ActionForm>
        </details>
    }
}

/// A task type's inputs, shared by the add and change forms.
#[component]
fn TaskTypeFields(workflow_id: i64, task_type: TaskTypeView) -> impl IntoView {
    let method = task_type.review_method.clone();
    view! {
        <input type="hidden" name="workflow_id" value=workflow_id.to_string() />
        <input type="hidden" name="id" value=task_type.id.to_string() />
        <label>"Name" <input type="text" name="name" required maxlength="100" value=task_type.name placeholder="e.g. Password reset" /></label>
        <label>"Short name (a-z, 0-9, -)" <input type="text" name="slug" required maxlength="64" pattern="[a-z0-9\\-]+" value=task_type.slug /></label>
        <label>"User goal, in plain words" <TextArea name="user_goal" rows=2 required=true maxlength=1000 placeholder="e.g. The customer can sign in again" value=task_type.user_goal /></label>
        <label>"Pass condition, as two reviewers would score it" <TextArea name="pass_condition" rows=2 required=true maxlength=1000 placeholder="e.g. Reset link sent to the verified address and the ticket not reopened within 48 hours" value=task_type.pass_condition /></label>
        <label>
            "Review method"
            <select name="review_method">
                {[("automatic", "automatic checks"), ("human", "human review"), ("both", "both")].into_iter().map(|(value, label)| {
                    let selected = method == value;
                    view! { <option value=value selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        </label>
        <label>"Segments, comma-separated (optional)" <input type="text" name="segments" value=task_type.segments placeholder="e.g. smb, enterprise" /></label>
        <fieldset>
            <legend>"Human baseline (optional): what savings are counted against"</legend>
            <label>"Minutes a person takes to do one such task unaided" <input type="text" name="baseline_minutes" inputmode="decimal" value=task_type.baseline_minutes placeholder="e.g. 6" /></label>
            <label>"Where that figure comes from" <input type="text" name="baseline_source" maxlength="200" value=task_type.baseline_source placeholder="e.g. time study, October 2026" /></label>
            <label>"An outcome-priced vendor's price per resolved task, $ (optional)" <input type="text" name="baseline_reference" inputmode="decimal" value=task_type.baseline_reference placeholder="e.g. 0.99" /></label>
        </fieldset>
    }
}

#[component]
fn UnitEconomics(economics: Economics, slug: String) -> impl IntoView {
    let window = format!("from={}&to={}", economics.from, economics.to);
    let tax = economics.all.failure_tax();
    let split = move |caption: &'static str,
                      table: &'static str,
                      rows: Vec<EconomicsRow>,
                      slug: String,
                      window: String| {
        view! {
            <table class="figures" id=table>
                <caption>{caption} " " <CsvLink href=format!("/export/workflows/{slug}/{table}.csv") what=caption /></caption>
                <thead>
                    <tr>
                        <th scope="col"></th>
                        <th scope="col" class="num">"Decided"</th>
                        <th scope="col" class="num">"Success rate"</th>
                        <th scope="col" class="num">"CPST"</th>
                        <th scope="col" class="num">"Cost per attempted task"</th>
                        <th scope="col" class="num">"Failure tax"</th>
                        <th scope="col" class="num">"Spend"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let tax = r.failure_tax();
                        view! {
                            <tr>
                                <th scope="row"><a href=format!("/tasks?workflow={slug}&{}&{window}", r.filter)>{if r.label.is_empty() { "(none)".to_owned() } else { r.label.clone() }}</a></th>
                                <td class="num">{count(r.decided)}</td>
                                <td class="num">{r.success_rate.map(percent).unwrap_or_else(|| "–".into())}</td>
                                <td class="num cpst">{r.cpst.to_string()}</td>
                                <td class="num">{r.cost_per_attempted.map(|m| m.to_string()).unwrap_or_else(|| "–".into())}</td>
                                <td class="num">{tax.map(|m| m.to_string()).unwrap_or_else(|| "–".into())}</td>
                                <td class="num">{r.total.to_string()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
    };
    view! {
        <section aria-labelledby="economics">
            <h2 id="economics">"Unit economics, last 30 days"</h2>
            <p>
                "A successful task cost " <strong>{economics.all.cpst.to_string()}</strong>
                {match (economics.all.cost_per_attempted, tax) {
                    (Some(per), Some(tax)) => format!(
                        "; every attempted task cost {per}, so failures add {tax} to each success (the failure tax)."
                    ),
                    _ => ".".to_owned(),
                }}
            </p>
            <p class="hint" id="savings">{crate::views::format::savings_sentence(&economics.savings)}</p>
            <table class="figures compact" id="cost-components">
                <caption>"Where the money went " <CsvLink href=format!("/export/workflows/{slug}/components.csv") what="the cost components" /></caption>
                <thead><tr><th scope="col">"Component"</th><th scope="col" class="num">"Amount"</th><th scope="col" class="num">"Share"</th></tr></thead>
                <tbody>
                    {economics.components.into_iter().map(|(name, amount, share)| view! {
                        <tr><th scope="row">{name}</th><td class="num">{amount.to_string()}</td><td class="num">{share.map(percent).unwrap_or_else(|| "–".into())}</td></tr>
                    }).collect_view()}
                </tbody>
                <tfoot><tr><th scope="row">"Total"</th><td class="num">{economics.all.total.to_string()}</td><td></td></tr></tfoot>
            </table>
            {split("By task type", "task-types", economics.by_task_type, slug.clone(), window.clone())}
            {split("By segment", "segments", economics.by_segment, slug.clone(), window)}
        </section>
    }
}

/// What moves the CPST: each lever now, over the 30 days before, and its money; then what each
/// figure rests on in sentences, and routing per task type and model.
#[component]
fn Levers(
    levers: crate::report::levers::Levers,
    calls: crate::report::call_levers::CallLevers,
    handle: String,
) -> impl IntoView {
    use crate::report::levers::MIN_ROUTING_EVIDENCE;
    let share = |v: Option<f64>| v.map(percent).unwrap_or_else(|| "–".into());
    let per_task = |v: Option<f64>| {
        v.map(|n| format!("{n:.1} calls"))
            .unwrap_or_else(|| "–".into())
    };
    // The share of the routed task types' tasks that ran on their best model.
    let on_best = |before: bool| {
        let (mut on, mut all) = (0.0, 0.0);
        for routing in levers.routing.iter().filter(|r| r.best.is_some()) {
            for route in &routing.routes {
                let part = if before {
                    route.task_share_before
                } else {
                    route.task_share
                };
                all += part.unwrap_or(0.0);
                if routing.best.as_deref() == Some(route.model.as_str()) {
                    on += part.unwrap_or(0.0);
                }
            }
        }
        (all > 0.0).then(|| on / all)
    };
    let routed = levers.routing.iter().any(|r| r.best.is_some());
    let caching = &levers.caching;
    let failed = &levers.failed_runs;
    let summary = [
        (
            "Routing",
            match routed {
                true => format!("{} on the best model", share(on_best(false))),
                false => "no clear winner".to_owned(),
            },
            match routed {
                true => share(on_best(true)),
                false => "–".to_owned(),
            },
            format!("{} at stake", levers.routing_at_stake),
        ),
        (
            "Caching",
            format!("{} of input cached", share(caching.share)),
            share(caching.share_before),
            format!("{} saved", dollars(caching.saved)),
        ),
        (
            "Failed runs",
            format!("{} of attempts failed", share(failed.failed_share)),
            share(failed.failed_share_before),
            format!("{} failure tax", failed.tax),
        ),
        (
            "Retrieval",
            per_task(calls.retrieval.calls_per_task),
            per_task(calls.retrieval.calls_per_task_before),
            format!("{} spent", calls.retrieval.cost),
        ),
        (
            "Prompt size",
            calls.prompt_sizes.first().map_or_else(
                || "–".to_owned(),
                |p| format!("{} tokens", count(p.median.max(0) as u64)),
            ),
            calls
                .prompt_sizes
                .first()
                .and_then(|p| p.median_before)
                .map_or_else(|| "–".to_owned(), |m| count(m.max(0) as u64)),
            calls
                .prompt_sizes
                .first()
                .map_or_else(|| "–".to_owned(), |p| format!("{} spent", p.cost)),
        ),
    ];
    let routing_words = match routed {
        true => "Routing weighs the model of each task's first attempt: a task type's best model is the cheapest per success whose success rate is not clearly below another's, and at stake over the last 30 days is what the clearly dearer models' finished tasks cost above its CPST.".to_owned(),
        false => format!("Routing weighs the model of each task's first attempt: no task type has one clearly cheaper per success than another (each needs {MIN_ROUTING_EVIDENCE} decided tasks of the type)."),
    };
    let caching_words = format!(
        "Caching saved {} against the input price (30 days before: {}); the cache itself cost {}{}.",
        dollars(caching.saved),
        dollars(caching.saved_before),
        caching.cost,
        match caching.unpriced_tokens {
            0 => String::new(),
            n => format!(
                "; {} cached tokens of calls with reported costs cannot be priced and are not counted",
                count(n)
            ),
        }
    );
    let by_verdict = failed
        .by_status
        .iter()
        .map(|(status, tasks, cost)| {
            format!("{} {} tasks cost {cost}", count(*tasks), status.as_str())
        })
        .chain(
            (failed.finished_retries.0 > 0)
                .then(|| format!("retries of finished tasks cost {}", failed.finished_retries)),
        )
        .collect::<Vec<_>>();
    let tax_words = format!(
        "Failure tax {}{} (30 days before: {}).",
        failed.tax,
        match by_verdict.is_empty() {
            true => String::new(),
            false => format!(": {}", by_verdict.join("; ")),
        },
        failed.tax_before
    );
    let routing = levers.routing.clone();
    let rate = |p: crate::domain::cpst::Proportion| {
        format!(
            "{} ({:.1}–{:.1}%)",
            percent(p.value),
            p.lower * 100.0,
            p.upper * 100.0
        )
    };
    view! {
        <section aria-labelledby="levers">
            <h2 id="levers">"What moves the cost, last 30 days"</h2>
            <table class="figures compact" id="levers-summary">
                <caption>"Levers, now and 30 days before"</caption>
                <thead><tr>
                    <th scope="col">"Lever"</th>
                    <th scope="col" class="num">"Now"</th>
                    <th scope="col" class="num">"Before"</th>
                    <th scope="col" class="num">"Money"</th>
                </tr></thead>
                <tbody>
                    {summary.into_iter().map(|(name, now, before, money)| view! {
                        <tr><th scope="row">{name}</th><td class="num">{now}</td><td class="num">{before}</td><td class="num">{money}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="hint">{routing_words}</p>
            <p class="hint" id="caching">{caching_words}</p>
            <p class="hint" id="failure-tax">{tax_words}</p>
            {(!routing.is_empty()).then(|| view! {
                <table class="figures" id="routing">
                    <caption>"Routing by task type"</caption>
                    <thead><tr>
                        <th scope="col">"Model"</th>
                        <th scope="col" class="num">"Tasks"</th>
                        <th scope="col" class="num">"Share (before)"</th>
                        <th scope="col" class="num">"Share of cost"</th>
                        <th scope="col" class="num">"Success (95% interval)"</th>
                        <th scope="col" class="num">"CPST"</th>
                        <th scope="col" class="num">"At stake"</th>
                    </tr></thead>
                    {routing.into_iter().map(|r| {
                        let best = r.best.clone();
                        view! {
                            <tbody>
                                <tr class="group">
                                    <th scope="rowgroup" colspan="6">{r.label.clone()}
                                        <small class="muted">{match &best {
                                            Some(_) => " route to the best",
                                            None => " no clear winner",
                                        }}</small>
                                    </th>
                                    <td class="num">{r.at_stake.to_string()}</td>
                                </tr>
                                {r.routes.into_iter().map(|m| {
                                    let is_best = best.as_deref() == Some(m.model.as_str());
                                    view! {
                                        <tr>
                                            <th scope="row">{if m.model.is_empty() { "(no model call)".to_owned() } else { m.model.clone() }}
                                                {is_best.then(|| view! { " " <span class="verdict under">"best"</span> })}
                                            </th>
                                            <td class="num">{count(m.tasks)}</td>
                                            <td class="num">{format!("{} ({})", share(m.task_share), share(m.task_share_before))}</td>
                                            <td class="num">{share(m.cost_share)}</td>
                                            <td class="num">{m.success.map(rate).unwrap_or_else(|| "–".into())}</td>
                                            <td class="num cpst">{m.cpst.to_string()}</td>
                                            <td class="num">{m.at_stake.to_string()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        }
                    }).collect_view()}
                </table>
            })}
            <crate::pages::call_levers::CallLeversPanel levers=calls />
            <p><a class="button secondary" href=format!("/workflows/{handle}/what-if")>"What if… project a change"</a></p>
        </section>
    }
}

#[component]
fn Engineering(health: EngineeringHealth, slug: String, from: String, to: String) -> impl IntoView {
    let share = |v: Option<f64>| v.map(percent).unwrap_or_else(|| "–".into());
    let export = {
        let slug = slug.clone();
        move |table: &str| format!("/export/workflows/{slug}/{table}.csv")
    };
    let tasks = format!("/tasks?workflow={slug}&from={from}&to={to}");
    let pareto = ChartSpec::new(
        "pareto-chart",
        "Escalation reasons ranked, with their cumulative share",
        health.escalations.iter().map(|(r, ..)| r.clone()).collect(),
        "tasks",
    )
    .right_axis("%")
    .series(Series::new(
        "Escalated tasks",
        Kind::Bar,
        health
            .escalations
            .iter()
            .map(|(_, n, _)| Some(*n as f64))
            .collect(),
    ))
    .series(
        Series::new(
            "Cumulative share",
            Kind::Line,
            health
                .escalations
                .iter()
                .map(|(.., c)| Some((c * 1000.0).round() / 10.0))
                .collect(),
        )
        .on_right_axis(),
    );
    let bins = health.cost_histogram.clone();
    let bin_label = |b: &crate::domain::stats::Bin| match b.to {
        Some(to) => format!("{}–{}", Micros(b.from).precise(), Micros(to).precise()),
        None => format!("{} and above", Micros(b.from).precise()),
    };
    let histogram = ChartSpec::new(
        "cost-histogram-chart",
        "How many decided tasks cost how much",
        bins.iter().map(bin_label).collect(),
        "tasks",
    )
    .series(Series::new(
        "Tasks",
        Kind::Bar,
        bins.iter().map(|b| Some(b.count as f64)).collect(),
    ));
    let number = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into());
    let (cost_median, cost_p95, cost_max) = health.cost_per_task;
    let (lat_median, lat_p95, lat_max) = health.latency_ms;
    view! {
        <section aria-labelledby="engineering">
            <h2 id="engineering">"How the work runs, last 30 days"</h2>
            <dl class="facts" id="health-facts">
                <dt>"Success rate"</dt>
                <dd>{match health.success {
                    Some((rate, low, high)) => format!("{} (95% interval {:.1}% to {:.1}%)", percent(rate), low * 100.0, high * 100.0),
                    None => "no decided tasks".to_owned(),
                }}</dd>
                <dt>"pass@1 / pass@3"</dt><dd>{share(health.pass_at_1)} " / " {share(health.pass_at_3)}</dd>
                <dt>"Tasks retried"</dt><dd>{share(health.retry_rate)}</dd>
                <dt>"Per task"</dt><dd>{number(health.calls_per_task)} " calls, " {health.tokens_per_task.map(|t| crate::domain::money::group_thousands(t.round() as u64)).unwrap_or_else(|| "–".into())} " tokens"</dd>
                <dt>"Task duration"</dt><dd>{format!("median {:.1} s, p95 {:.1} s, max {:.1} s", lat_median as f64 / 1000.0, lat_p95 as f64 / 1000.0, lat_max as f64 / 1000.0)}</dd>
                <dt>"Cost per task"</dt><dd>{format!("median {}, p95 {}, max {}", cost_median.precise(), cost_p95.precise(), cost_max.precise())}
                    {health.costliest_share.map(|s| format!("; the costliest 5% of tasks carry {}", percent(s)))}</dd>
            </dl>
            {(!bins.is_empty()).then(|| view! {
                <div class="chart-table">
                    <Chart chart=histogram />
                    <table class="figures compact" id="cost-histogram">
                        <caption>"Cost per decided task " <CsvLink href=export("cost-histogram") what="the cost distribution" /></caption>
                        <thead><tr><th scope="col">"Cost"</th><th scope="col" class="num">"Tasks"</th></tr></thead>
                        <tbody>
                            {bins.iter().map(|b| {
                                let max = b.to.map(|to| format!("&max_cost={}", crate::views::format::plain_dollars(Micros(to - 1)))).unwrap_or_default();
                                let href = format!("{tasks}&status=decided&min_cost={}{max}", crate::views::format::plain_dollars(Micros(b.from)));
                                view! {
                                    <tr><th scope="row"><a href=href>{bin_label(b)}</a></th><td class="num">{count(b.count)}</td></tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            {(!health.escalations.is_empty()).then(|| view! {
                <div class="chart-table">
                <Chart chart=pareto />
                <table class="figures compact" id="escalations">
                    <caption>"Escalation reasons " <CsvLink href=export("escalations") what="the escalation reasons" /></caption>
                    <thead><tr><th scope="col">"Reason"</th><th scope="col" class="num">"Tasks"</th><th scope="col" class="num">"Cumulative share"</th></tr></thead>
                    <tbody>
                        {health.escalations.into_iter().map(|(reason, n, cumulative)| {
                            let href = format!("{tasks}&status=escalated&reason={}", crate::views::format::encode_query_value(&reason));
                            view! {
                                <tr><th scope="row"><a href=href>{reason}</a></th><td class="num">{count(n)}</td><td class="num">{percent(cumulative)}</td></tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            })}
            {(!health.steps.is_empty()).then(|| view! {
                <table class="figures compact">
                    <caption>"Calls by step and model " <CsvLink href=export("steps") what="calls by step and model" /></caption>
                    <thead><tr><th scope="col">"Step"</th><th scope="col">"Model"</th><th scope="col" class="num">"Calls"</th><th scope="col" class="num">"Errors"</th><th scope="col" class="num">"Cost"</th><th scope="col" class="num">"Mean latency"</th></tr></thead>
                    <tbody>
                        {health.steps.into_iter().map(|(step, model, calls, errors, cost, latency)| view! {
                            <tr>
                                <th scope="row">{if step.is_empty() { "(no step)".to_owned() } else { step }}</th>
                                <td>{model}</td>
                                <td class="num">{count(calls)}</td>
                                <td class="num">{percent(errors)}</td>
                                <td class="num">{cost.precise().to_string()}</td>
                                <td class="num">{format!("{latency} ms")}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {(!health.costliest.is_empty()).then(|| view! {
                <table class="figures compact">
                    <caption>"Costliest tasks " <CsvLink href=export("costliest") what="the costliest tasks" /></caption>
                    <thead><tr><th scope="col">"Task"</th><th scope="col">"Verdict"</th><th scope="col" class="num">"Cost"</th></tr></thead>
                    <tbody>
                        {health.costliest.into_iter().map(|(id, external, verdict, cost)| view! {
                            <tr><th scope="row"><a href=format!("/tasks/{id}")><code>{external}</code></a></th><td>{verdict}</td><td class="num">{cost.precise().to_string()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// Fewer decided tasks than this in a period make its rate and CPST noise, not a trend point.
const MIN_PLOTTED: u64 = 10;

#[component]
fn Trend(
    rows: Vec<TrendRow>,
    by: TrendBy,
    slug: String,
    budget: Option<crate::domain::Micros>,
) -> impl IntoView {
    // Dollars and percentages for drawing only; the table holds the exact figures. A period
    // with few decided tasks (the current one, mostly pending) is a gap, not a cliff.
    let plotted = |r: &TrendRow| r.decided >= MIN_PLOTTED;
    // The period today is in is labelled as such: its bars are not yet comparable.
    let label = |r: &TrendRow| match r.partial {
        true => format!("{} (so far)", r.period),
        false => r.period.clone(),
    };
    let x: Vec<String> = rows.iter().map(label).collect();
    let markers: Vec<(String, String)> = rows
        .iter()
        .filter(|r| !r.baselines.is_empty())
        .map(|r| (label(r), r.baselines.join("; ")))
        .collect();
    let (unit, title) = match by {
        TrendBy::Week => ("week", "Weekly trend"),
        TrendBy::Day => ("day", "Daily trend"),
    };
    let cpst = ChartSpec::new(
        "cpst-chart",
        format!("Cost per successful task by {unit}, against the budget"),
        x.clone(),
        "$",
    )
    .series(Series::new(
        "CPST",
        Kind::Line,
        rows.iter()
            .map(|r| r.cpst.micros().filter(|_| plotted(r)).map(chart_dollars))
            .collect(),
    ))
    .series(Series::new(
        "Budget",
        Kind::Reference,
        rows.iter().map(|_| budget.map(chart_dollars)).collect(),
    ))
    .markers(markers.clone());
    let success = ChartSpec::new(
        "success-chart",
        format!("Success rate by {unit}"),
        x.clone(),
        "%",
    )
    .series(Series::new(
        "Success rate",
        Kind::Line,
        rows.iter()
            .map(|r| {
                r.success_rate
                    .filter(|_| plotted(r))
                    .map(|v| (v * 1000.0).round() / 10.0)
            })
            .collect(),
    ))
    .markers(markers);
    let mut spend = ChartSpec::new(
        "spend-chart",
        format!("Spend by cost component, by {unit}"),
        x,
        "$",
    );
    let shown = |index: usize| {
        crate::domain::cpst::CostBreakdown::shows_component(index, rows.iter().map(|r| &r.costs))
    };
    let columns: Vec<usize> = (0..7).filter(|i| shown(*i)).collect();
    for (index, (name, _)) in crate::domain::cpst::CostBreakdown::default()
        .components()
        .iter()
        .enumerate()
        .filter(|(index, _)| shown(*index))
    {
        spend = spend.series(Series::new(
            *name,
            Kind::StackedBar,
            rows.iter()
                .map(|r| Some(chart_dollars(r.costs.components()[index].1)))
                .collect(),
        ));
    }
    let other = match by {
        TrendBy::Week => ("day", "By day, last 30 days"),
        TrendBy::Day => ("week", "By week, last 12 weeks"),
    };
    view! {
        <section aria-labelledby="trend">
            <div class="section-head">
                <h2 id="trend">{title}</h2>
                <a href=format!("/workflows/{slug}?trend={}#trend", other.0)>{other.1}</a>
                <CsvLink href=format!("/export/workflows/{slug}/trend.csv?trend={}", by.as_str()) what="the trend" />
            </div>
            <div class="charts">
                <Chart chart=cpst />
                <Chart chart=success />
                <Chart chart=spend />
            </div>
            <p class="hint">{format!("Periods with fewer than {MIN_PLOTTED} decided tasks are not drawn in the CPST and success charts. ")}"A dashed line marks where a new rule or configuration version took effect: compare figures on the same side of it."</p>
            <table class="figures" id="trend-table">
                <thead>
                    <tr>
                        <th scope="col">{if by == TrendBy::Week { "Week of" } else { "Day" }}</th>
                        <th scope="col" class="num">"Decided"</th>
                        <th scope="col" class="num">"Success rate"</th>
                        <th scope="col" class="num">"CPST"</th>
                        {columns.iter().map(|index| view! {
                            <th scope="col" class="num">{crate::domain::cpst::CostBreakdown::default().components()[*index].0}</th>
                        }).collect_view()}
                        <th scope="col">"Baseline"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let marked = !r.baselines.is_empty();
                        view! {
                            <tr class:baseline=marked class:partial=r.partial>
                                <th scope="row">{r.period} {r.partial.then(|| view! { <small>"so far"</small> })}</th>
                                <td class="num">{count(r.decided)}</td>
                                <td class="num">{r.success_rate.map(percent).unwrap_or_else(|| "–".into())}</td>
                                <td class="num">{r.cpst.to_string()}</td>
                                {columns.iter().map(|index| view! {
                                    <td class="num">{r.costs.components()[*index].1.to_string()}</td>
                                }).collect_view()}
                                <td>{r.baselines.join("; ")}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn ReviewQueue(
    health: QueueHealth,
    workflow_id: i64,
    force: ServerAction<ForceReview>,
) -> impl IntoView {
    view! {
        <section aria-labelledby="queue">
            <h2 id="queue">"Review queue"</h2>
            <p>
                {health.waiting} " waiting (" {health.claimed_now} " being graded now). "
                "Sampling: " {health.sampling.clone()} ". "
                {match health.median_minutes {
                    Some(m) => format!("Median grading time {m:.1} minutes."),
                    None => "No grades in the last 30 days.".to_owned(),
                }}
            </p>
            <table class="figures compact">
                <caption>"Grades per day"</caption>
                <thead><tr>{health.graded_per_day.iter().map(|(d, _)| view! { <th scope="col" class="num">{d[5..].to_owned()}</th> }).collect_view()}</tr></thead>
                <tbody><tr>{health.graded_per_day.iter().map(|(_, n)| view! { <td class="num">{*n}</td> }).collect_view()}</tr></tbody>
            </table>
            <table class="figures">
                <caption>"Graded sample in the gate window, per task type"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Task type"</th>
                        <th scope="col" class="num">"Graded"</th>
                        <th scope="col" class="num">"Passed"</th>
                        <th scope="col" class="num">"Margin (95%)"</th>
                        <th scope="col">"Enough for the gate?"</th>
                    </tr>
                </thead>
                <tbody>
                    {health.task_types.into_iter().map(|t| view! {
                        <tr>
                            <th scope="row">{t.task_type}</th>
                            <td class="num">{count(t.graded)}</td>
                            <td class="num">{count(t.passed)}</td>
                            <td class="num">{t.margin_points.map(|m| format!("±{m:.0} points")).unwrap_or_else(|| "–".into())}</td>
                            <td>{if t.enough { "yes" } else { "not yet: grade more or raise the sampling rate" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <details class="card narrow">
                <summary>"Add tasks to the queue"</summary>
                <p class="hint">"For example every escalation of one reason, to see what the agent got wrong."</p>
                <ActionError action=force />
                {move || force.value().get().and_then(Result::ok).map(|n| view! { <p class="ok" role="status">{format!("{n} tasks added to the queue.")}</p> })}
                <ActionForm action=force attr:class="stacked">
                    <input type="hidden" name="workflow_id" value=workflow_id.to_string() />
                    <label>"Tasks that started in the last … days" <input type="text" name="days" inputmode="numeric" value="7" required /></label>
                    <label>"Escalation reason (optional)" <input type="text" name="escalation_reason" maxlength="200" /></label>
                    <label>
                        "Verdict (optional)"
                        <select name="status">
                            <option value="">"any"</option>
                            <option value="succeeded">"succeeded"</option>
                            <option value="assisted">"assisted"</option>
                            <option value="failed">"failed"</option>
                            <option value="escalated">"escalated"</option>
                        </select>
                    </label>
                    <button type="submit">"Add to queue"</button>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn Agreement(agreement: AgreementView) -> impl IntoView {
    let rows = std::iter::once(agreement.overall).chain(agreement.task_types);
    view! {
        <section aria-labelledby="agreement">
            <h2 id="agreement">"Reviewer agreement"</h2>
            <p class="hint">"Tasks graded by two people in the last 90 days. Cohen's kappa discounts the agreement chance alone would give; below 0.6 the pass condition is probably not one two people read the same way."</p>
            <table class="figures">
                <thead>
                    <tr>
                        <th scope="col">"Task type"</th>
                        <th scope="col" class="num">"Pairs"</th>
                        <th scope="col" class="num">"Agreed"</th>
                        <th scope="col" class="num">"Cohen's kappa"</th>
                        <th scope="col">"Reading"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.map(|r| view! {
                        <tr>
                            <th scope="row">{r.label}</th>
                            <td class="num">{count(r.pairs)}</td>
                            <td class="num">{if r.pairs > 0 { percent(r.agreed as f64 / r.pairs as f64) } else { "–".into() }}</td>
                            <td class="num">{r.kappa.map(|k| format!("{k:.2}")).unwrap_or_else(|| "–".into())}</td>
                            <td>{r.strength}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {(!agreement.disagreements.is_empty()).then(|| view! {
                <table class="figures">
                    <caption>{disagreements_caption(agreement.disagreements.len(), agreement.disagreements_total)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Task"</th>
                            <th scope="col">"Task type"</th>
                            <th scope="col">"First grade"</th>
                            <th scope="col">"Second grade"</th>
                            <th scope="col">"Notes"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {agreement.disagreements.into_iter().map(|d| view! {
                            <tr>
                                <th scope="row"><a href=format!("/tasks/{}", d.task_id)><code>{d.external_id}</code></a></th>
                                <td>{d.task_type}</td>
                                <td>{d.first}</td>
                                <td>{d.second}</td>
                                <td>{d.notes}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

/// "Disagreements", or which of them the table shows when it shows only the latest.
fn disagreements_caption(shown: usize, total: u64) -> String {
    if shown as u64 >= total {
        "Disagreements".to_owned()
    } else {
        format!("Disagreements: the latest {shown} of {}", count(total))
    }
}

/// The last 30 days against the 30 before: the cost per success and the success rate, the
/// components that moved most, and what took effect meanwhile, with a comparison one click away.
#[component]
fn WhatChanged(changes: ChangePanel, budget: String) -> impl IntoView {
    let money = |m: Option<Micros>| m.map_or_else(|| "–".to_owned(), |m| m.to_string());
    let rate = |r: Option<f64>| r.map_or_else(|| "–".to_owned(), crate::domain::cpst::percent);
    let cpst_move = match (changes.cpst.micros(), changes.cpst_before.micros()) {
        (Some(now), Some(then)) if then.0 > 0 => {
            let change = (now.0 - then.0) as f64 / then.0 as f64;
            Some((
                crate::domain::cpst::signed_percent(change),
                Tone::of_cost(change).class(),
            ))
        }
        _ => None,
    };
    let rate_move = match (changes.success_rate, changes.success_rate_before) {
        (Some(now), Some(then)) => {
            let points = (now - then) * 100.0;
            Some((
                format!("{points:+.1} points"),
                Tone::of_rate(points).class(),
            ))
        }
        _ => None,
    };
    let nothing_took_effect = changes.versions.is_empty() && changes.rules.is_empty();
    view! {
        <section aria-labelledby="what-changed" class="card what-changed">
            <h2 id="what-changed">"What changed"</h2>
            <p class="window">{format!("{} to {} against {} to {}", changes.from, changes.to, changes.before_from, changes.before_to)}</p>
            <dl class="headline">
                <div class=cpst_move.as_ref().map_or("neutral", |m| m.1)>
                    <dt>"Cost per successful task"</dt>
                    <dd>{changes.cpst.to_string()}
                        <small>{format!("was {}{}; budget ${budget}", changes.cpst_before, cpst_move.as_ref().map(|m| format!(" ({})", m.0)).unwrap_or_default())}</small>
                    </dd>
                </div>
                <div class=rate_move.as_ref().map_or("neutral", |m| m.1)>
                    <dt>"Success rate"</dt>
                    <dd>{rate(changes.success_rate)}
                        <small>{format!("was {}{}", rate(changes.success_rate_before), rate_move.as_ref().map(|m| format!(" ({})", m.0)).unwrap_or_default())}</small>
                    </dd>
                </div>
            </dl>
            {(!changes.components.is_empty()).then(|| view! {
                <table class="figures compact" id="component-changes">
                    <caption>"Cost per successful task by component: the largest moves"</caption>
                    <thead><tr><th scope="col">"Component"</th><th scope="col" class="num">"Before"</th><th scope="col" class="num">"Now"</th></tr></thead>
                    <tbody>
                        {changes.components.into_iter().map(|c| view! {
                            <tr><th scope="row">{c.name}</th><td class="num">{money(c.per_success_before)}</td><td class="num">{money(c.per_success)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {if nothing_took_effect {
                view! { <p class="muted">{format!("No configuration version or success rule took effect since {}.", changes.before_from)}</p> }.into_any()
            } else {
                view! {
                    <p class="took-effect-head">{format!("Took effect since {}:", changes.before_from)}</p>
                    <ul class="plain" id="took-effect">
                        {changes.versions.into_iter().map(|v| view! {
                            <li>{format!("Configuration {} from {} ", v.label, v.since)} <a href=v.compare>"compare with the one before"</a></li>
                        }).collect_view()}
                        {changes.rules.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
