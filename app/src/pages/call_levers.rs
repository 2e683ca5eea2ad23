//! The workflow page's call-level levers: success by retrieval volume, input tokens per model
//! call by step, and the steps where failed attempts spent.

use crate::domain::cpst::{Proportion, percent};
use crate::report::call_levers::CallLevers;
use crate::views::format::count;
use leptos::prelude::*;

fn rate(p: Option<Proportion>) -> String {
    p.map_or_else(
        || "–".to_owned(),
        |p| {
            format!(
                "{} ({:.1}–{:.1}%)",
                percent(p.value),
                p.lower * 100.0,
                p.upper * 100.0
            )
        },
    )
}

fn tokens(n: Option<i64>) -> String {
    n.map_or_else(|| "–".to_owned(), |n| count(n.max(0) as u64))
}

#[component]
pub fn CallLeversPanel(levers: CallLevers) -> impl IntoView {
    let retrieval = levers.retrieval;
    let retrieval_words = match retrieval.calls_per_task {
        Some(per) => format!(
            "Retrieval: {per:.1} calls{} a decided task (30 days before: {} calls), costing {} in all.",
            match retrieval.tokens_per_task.map(|t| t.round() as i64) {
                Some(t) if t > 0 => format!(" and {} tokens", count(t as u64)),
                _ => String::new(),
            },
            retrieval
                .calls_per_task_before
                .map_or_else(|| "none".to_owned(), |b| format!("{b:.1}")),
            retrieval.cost,
        ),
        None => "No decided task in the window.".to_owned(),
    };
    let bands = retrieval.by_volume;
    let sizes = levers.prompt_sizes;
    let costliest = sizes.first().map(|p| {
        format!(
            "Prompt size above is the median input tokens per model call of {}, the step whose model calls cost most.",
            step_name(&p.step)
        )
    });
    let failing = levers.failing_steps;
    view! {
        <p class="hint" id="retrieval">{retrieval_words}</p>
        {(bands.len() > 1).then(|| view! {
            <table class="figures compact" id="retrieval-volume">
                <caption>"Success by retrieval calls per task"</caption>
                <thead><tr>
                    <th scope="col">"Retrieval calls"</th>
                    <th scope="col" class="num">"Tasks"</th>
                    <th scope="col" class="num">"Success (95% interval)"</th>
                </tr></thead>
                <tbody>
                    {bands.into_iter().map(|b| view! {
                        <tr><th scope="row">{b.label()}</th><td class="num">{count(b.tasks)}</td><td class="num">{rate(b.success)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
        {costliest.map(|words| view! { <p class="hint">{words}</p> })}
        {(!sizes.is_empty()).then(|| view! {
            <table class="figures compact" id="prompt-sizes">
                <caption>"Input tokens per model call, by step"</caption>
                <thead><tr>
                    <th scope="col">"Step"</th>
                    <th scope="col" class="num">"Calls"</th>
                    <th scope="col" class="num">"Median (before)"</th>
                    <th scope="col" class="num">"p95 (before)"</th>
                    <th scope="col" class="num">"Cost"</th>
                </tr></thead>
                <tbody>
                    {sizes.into_iter().map(|p| view! {
                        <tr>
                            <th scope="row">{step_name(&p.step)}</th>
                            <td class="num">{count(p.calls)}</td>
                            <td class="num">{format!("{} ({})", tokens(Some(p.median)), tokens(p.median_before))}</td>
                            <td class="num">{format!("{} ({})", tokens(Some(p.p95)), tokens(p.p95_before))}</td>
                            <td class="num">{p.cost.to_string()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
        {(!failing.is_empty()).then(|| view! {
            <table class="figures compact" id="failing-steps">
                <caption>"Where failed attempts spent"</caption>
                <thead><tr>
                    <th scope="col">"Step"</th>
                    <th scope="col" class="num">"Failed calls"</th>
                    <th scope="col" class="num">"Cost (before)"</th>
                    <th scope="col" class="num">"Share"</th>
                </tr></thead>
                <tbody>
                    {failing.into_iter().map(|s| view! {
                        <tr>
                            <th scope="row">{format!("{} ({})", step_name(&s.step), s.kind.as_str())}</th>
                            <td class="num">{format!("{} of {}", count(s.failed_calls), count(s.calls))}</td>
                            <td class="num">{format!("{} ({})", s.failed_cost, s.failed_cost_before)}</td>
                            <td class="num">{s.share.map_or_else(|| "–".to_owned(), percent)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

/// A step as named by the agent, or words for calls that named none.
fn step_name(step: &str) -> String {
    match step {
        "" => "(no step given)".to_owned(),
        step => step.to_owned(),
    }
}
