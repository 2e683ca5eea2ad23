//! One task's trace: the attempts and calls as a timeline, their costs, the late outcomes and
//! grades, and the verdict with the rule and the evidence that decided it.

use crate::api::tasks::get_task_trace;
use crate::components::forms::error_text;
use crate::views::format::count;
use crate::views::tasks::{LabourView, TaskTrace};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let trace = Resource::new(id, get_task_trace);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading the trace…"</p> }>
            {move || Suspend::new(async move {
                match trace.await {
                    Ok(trace) => view! { <Trace trace /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Trace(trace: TaskTrace) -> impl IntoView {
    let span = trace.span_ms.max(1) as f64;
    let pruned = !trace.pruned.is_empty();
    view! {
        <Title text=format!("Task {}", trace.external_id) />
        <p class="crumbs"><a href="/workflows">"Workflows"</a> " › " <a href=format!("/workflows/{}", trace.workflow_slug)>{trace.workflow.clone()}</a></p>
        <h1>"Task " <code>{trace.external_id.clone()}</code></h1>
        <dl class="facts">
            <dt>"Task type"</dt><dd>{trace.task_type.clone()} {(!trace.segment.is_empty()).then(|| format!(" · segment {}", trace.segment))}</dd>
            <dt>"Configuration"</dt><dd>{if trace.version.is_empty() { "–".to_owned() } else { trace.version.clone() }}</dd>
            <dt>"Started"</dt><dd>{trace.started.clone()} {format!(" · took {:.1} s", trace.duration_ms as f64 / 1000.0)}</dd>
            <dt>"Sender reported"</dt><dd>{trace.reported.clone()} {(!trace.escalation_reason.is_empty()).then(|| format!(" ({})", trace.escalation_reason))}</dd>
            <dt>"Verdict"</dt><dd><strong>{trace.status.clone()}</strong> ": " {trace.reason.clone()}</dd>
            <dt>"Rule"</dt><dd>{if trace.rule.is_empty() { "none".to_owned() } else { trace.rule.clone() }}</dd>
        </dl>
        <section aria-labelledby="cost">
            <h2 id="cost">"Cost"</h2>
            <table class="figures compact">
                <tbody>
                    {trace.costs.iter().map(|(name, amount)| view! {
                        <tr class:total=name == "Total"><th scope="row">{name.clone()}</th><td class="num">{amount.clone()}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="hint">"Platform costs are shared by the workflow's tasks over a period, so they appear in the figures, not here."</p>
            <Labour labour=trace.labour.clone() />
        </section>
        <section aria-labelledby="timeline">
            <h2 id="timeline">"Timeline"</h2>
            {(!trace.pruned.is_empty()).then(|| view! { <p class="empty" id="pruned">{trace.pruned.clone()}</p> })}
            {trace.attempts.into_iter().map(|a| view! {
                <h3>"Attempt " {a.number} ": " {a.status.clone()} {(!a.error.is_empty()).then(|| format!(" ({})", a.error))}
                    " " <small class="muted"><code>{a.correlation_id.clone()}</code></small></h3>
                {if a.calls.is_empty() {
                    // A sealed task's attempts lost their calls; the note above says so.
                    (!pruned).then(|| view! { <p class="muted">"No calls recorded for this attempt."</p> }).into_any()
                } else { view! {
                <table class="figures compact waterfall">
                    <thead><tr>
                        <th scope="col">"Call"</th><th scope="col">"Model"</th><th scope="col" class="num">"Tokens in / out / cached"</th>
                        <th scope="col" class="num">"Cost"</th><th scope="col">"Status"</th><th scope="col" class="bar-col">{format!("When: 0 to {:.1} s after the start", span / 1000.0)}</th>
                    </tr></thead>
                    <tbody>
                        {a.calls.into_iter().map(|c| {
                            let left = c.offset_ms as f64 / span * 100.0;
                            let width = (c.latency_ms as f64 / span * 100.0).max(0.5);
                            view! {
                                <tr>
                                    <th scope="row">{c.kind.clone()} {(!c.step.is_empty()).then(|| format!(" · {}", c.step))}</th>
                                    <td>{c.model.clone()}</td>
                                    <td class="num">{format!("{} / {} / {}", count(c.input_tokens), count(c.output_tokens), count(c.cache_read_tokens))}</td>
                                    <td class="num" title=c.cost.as_ref().map(|cost| cost.source.clone())>{c.cost.as_ref().map(|cost| cost.amount.clone())}</td>
                                    <td>{c.status.clone()} {(!c.error.is_empty()).then(|| format!(" ({})", c.error))}</td>
                                    <td class="bar-col">
                                        // Geometry in SVG attributes: the CSP allows no inline styles.
                                        <svg class="bar-track" viewBox="0 0 1000 10" preserveAspectRatio="none" role="img"
                                            aria-label=format!("starts {} ms after the task, takes {} ms", c.offset_ms, c.latency_ms)>
                                            <rect class="call-bar" x=format!("{:.1}", left * 10.0) y="0" width=format!("{:.1}", width * 10.0) height="10" rx="2" />
                                        </svg>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                }.into_any() }}
            }).collect_view()}
        </section>
        <section aria-labelledby="evidence">
            <h2 id="evidence">"Evidence"</h2>
            <h3>"Input"</h3><p>{trace.input_summary.clone()}</p>
            <Expandable title="Output" text=trace.output.clone() />
            {(!trace.expected.is_empty()).then(|| view! { <Expandable title="Expected" text=trace.expected.clone() /> })}
            <h3>"Outcomes"</h3>
            {if trace.outcomes.is_empty() { view! { <p class="muted">"None."</p> }.into_any() } else {
                view! { <ul class="plain">{trace.outcomes.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}</ul> }.into_any()
            }}
            <h3>"Evaluations"</h3>
            {if trace.evaluations.is_empty() { view! { <p class="muted">"None."</p> }.into_any() } else {
                view! { <ul class="plain" id="evaluations">{trace.evaluations.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ul> }.into_any()
            }}
            <h3>"Grades"</h3>
            {if trace.grades.is_empty() { view! { <p class="muted">"Not graded."</p> }.into_any() } else {
                view! { <ul class="plain">{trace.grades.into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}</ul> }.into_any()
            }}
        </section>
    }
}

/// The human-review cost line by line: minutes, the team's rate, and their product.
#[component]
fn Labour(labour: LabourView) -> impl IntoView {
    let minutes = |seconds: i64| format!("{:.1} min", seconds as f64 / 60.0);
    let total: i64 = labour.lines.iter().map(|l| l.seconds).sum();
    if labour.lines.is_empty() {
        return view! { <p class="muted">"No review time: no human-review cost."</p> }.into_any();
    }
    view! {
        <table class="figures compact" id="labour" data-rate-micros=labour.rate_micros_per_hour>
            <caption>"Human review, line by line"</caption>
            <tbody>
                {labour.lines.into_iter().map(|line| view! {
                    <tr data-seconds=line.seconds><th scope="row">{line.what}</th><td class="num">{minutes(line.seconds)}</td></tr>
                }).collect_view()}
            </tbody>
            <tfoot>
                <tr><th scope="row">{format!("{} at {} an hour ({})", minutes(total), labour.rate, labour.team)}</th><td class="num">{labour.at_current_rate.clone()}</td></tr>
            </tfoot>
        </table>
        {(labour.at_current_rate != labour.cost).then(|| view! {
            <p class="hint">{format!("The figures count {}: this task's day was last counted at the rate the team had then.", labour.cost)}</p>
        })}
    }
    .into_any()
}

/// Stored JSON (an output, an expected answer) that opens and closes; a short one starts open.
#[component]
fn Expandable(title: &'static str, text: String) -> impl IntoView {
    let lines = text.lines().count();
    let summary = match lines {
        0 => format!("{title}: none"),
        1 => format!("{title}: 1 line"),
        n => format!("{title}: {n} lines"),
    };
    view! {
        <details class="expandable" open=(1..=12).contains(&lines)>
            <summary>{summary}</summary>
            {(lines > 0).then(|| view! { <pre class="code">{text}</pre> })}
        </details>
    }
}
