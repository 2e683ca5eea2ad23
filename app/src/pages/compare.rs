//! Two configuration versions of a workflow side by side: what changed in success and in
//! cost, and whether the change in success is more than sampling noise.

use crate::api::workflows::compare_versions;
use crate::components::export::CsvLink;
use crate::components::forms::DayInput;
use crate::components::forms::error_text;
use crate::domain::compare::Comparison;
use crate::domain::cpst::{TaskSet, percent};
use crate::domain::money::Micros;
use crate::views::workflows::VersionComparison;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let args = move || {
        let q = query.read();
        let date = |name: &str| q.get(name).filter(|d| !d.trim().is_empty());
        (
            params.read().get("slug").unwrap_or_default(),
            q.get("baseline").unwrap_or_default(),
            q.get("candidate").unwrap_or_default(),
            q.get("days")
                .and_then(|d| d.parse::<i64>().ok())
                .unwrap_or(90),
            [
                date("baseline_from"),
                date("baseline_to"),
                date("candidate_from"),
                date("candidate_to"),
            ],
        )
    };
    let found = Resource::new(args, |(slug, baseline, candidate, days, dates)| {
        let [bf, bt, cf, ct] = dates;
        compare_versions(slug, baseline, candidate, days, bf, bt, cf, ct)
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Comparing…"</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(view_) => view! { <Compared view_ /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn signed(change: Option<Micros>) -> String {
    match change {
        Some(m) if m.0 > 0 => format!("+{m}"),
        Some(m) => m.to_string(),
        None => "–".to_owned(),
    }
}

fn rate(set: &TaskSet) -> String {
    set.success_rate()
        .map(|p| {
            format!(
                "{} ({:.1}–{:.1}%)",
                percent(p.value),
                p.lower * 100.0,
                p.upper * 100.0
            )
        })
        .unwrap_or_else(|| "–".into())
}

#[component]
fn Compared(view_: VersionComparison) -> impl IntoView {
    let select = |name: &'static str, current: String, versions: Vec<String>| {
        view! {
            <select name=name>
                {versions.into_iter().map(|v| {
                    let selected = v == current;
                    let label = v.clone();
                    view! { <option value=v selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        }
    };
    let periods = view_.periods.clone().unwrap_or_default();
    let export = match &view_.periods {
        Some([bf, bt, cf, ct]) => {
            format!("baseline_from={bf}&baseline_to={bt}&candidate_from={cf}&candidate_to={ct}")
        }
        None => format!(
            "baseline={}&candidate={}&days={}",
            crate::views::format::encode_query_value(&view_.baseline),
            crate::views::format::encode_query_value(&view_.candidate),
            view_.days
        ),
    };
    let what = match view_.periods {
        Some(_) => "Every configuration version, tasks started in each period (UTC)".to_owned(),
        None => format!("Tasks started {} (UTC)", view_.window),
    };
    view! {
        <Title text=format!("Compare: {}", view_.name) />
        <p class="crumbs"><a href="/workflows">"Workflows"</a> " › " <a href=format!("/workflows/{}", view_.slug)>{view_.name.clone()}</a></p>
        <h1>"Compare: " {view_.name.clone()}</h1>
        <form method="get" class="filters card" aria-label="Versions">
            <label>"Baseline version" {select("baseline", view_.baseline.clone(), view_.versions.clone())}</label>
            <label>"Candidate version" {select("candidate", view_.candidate.clone(), view_.versions.clone())}</label>
            <label>"Days" <input type="text" name="days" value=view_.days.to_string() size="4" inputmode="numeric" /></label>
            <button type="submit">"Compare versions"</button>
        </form>
        <form method="get" class="filters card" aria-label="Periods">
            <label>"Baseline from" <DayInput name="baseline_from" value=periods[0].clone() required=true /></label>
            <label>"to" <DayInput name="baseline_to" value=periods[1].clone() /></label>
            <label>"Candidate from" <DayInput name="candidate_from" value=periods[2].clone() required=true /></label>
            <label>"to" <DayInput name="candidate_to" value=periods[3].clone() /></label>
            <button type="submit" class="secondary">"Compare periods"</button>
        </form>
        <div class="section-head">
            <p class="window">{what}</p>
            <CsvLink href=format!("/export/workflows/{}/comparison.csv?{export}", view_.slug) what="the comparison" />
        </div>
        {match view_.comparison {
            None => view! { <p class="empty">"Choose two different configuration versions: this workflow needs at least two. Or compare two periods."</p> }.into_any(),
            Some(c) => view! { <ComparisonTable c baseline=view_.baseline_heading candidate=view_.candidate_heading /> }.into_any(),
        }}
    }
}

#[component]
fn ComparisonTable(c: Comparison, baseline: String, candidate: String) -> impl IntoView {
    let verdict = match c.rate_change {
        Some(change) if change.significant => format!(
            "The success rate changed by {:+.1} points (95% interval {:+.1} to {:+.1}): more than sampling noise.",
            change.delta * 100.0,
            change.lower * 100.0,
            change.upper * 100.0
        ),
        Some(change) => format!(
            "The success rate changed by {:+.1} points (95% interval {:+.1} to {:+.1}): within sampling noise, not yet a real difference.",
            change.delta * 100.0,
            change.lower * 100.0,
            change.upper * 100.0
        ),
        None => {
            "One side has no decided tasks: the success rates cannot be compared yet.".to_owned()
        }
    };
    // A real rise is good news, a real fall bad news; noise is neither.
    let tone = match c.rate_change {
        Some(change) if change.significant && change.delta > 0.0 => "change good",
        Some(change) if change.significant => "change bad",
        _ => "change neutral",
    };
    let per_attempt = |set: &TaskSet, amount: Micros| {
        amount
            .per(set.counts.decided())
            .map(|m| m.to_string())
            .unwrap_or_else(|| "–".into())
    };
    let (b, a) = (c.baseline, c.candidate);
    view! {
        <p class=tone id="verdict">{verdict}</p>
        <table class="figures" id="comparison">
            <thead>
                <tr>
                    <th scope="col"></th>
                    <th scope="col" class="num">{baseline}</th>
                    <th scope="col" class="num">{candidate}</th>
                    <th scope="col" class="num">"Change"</th>
                </tr>
            </thead>
            <tbody>
                <tr><th scope="row">"Decided tasks"</th><td class="num">{b.counts.decided()}</td><td class="num">{a.counts.decided()}</td><td></td></tr>
                <tr><th scope="row">"Success rate (95% interval)"</th><td class="num">{rate(&b)}</td><td class="num">{rate(&a)}</td>
                    <td class="num">{c.rate_change.map(|r| format!("{:+.1} pts", r.delta * 100.0)).unwrap_or_else(|| "–".into())}</td></tr>
                <tr class="cpst-row"><th scope="row">"Cost per successful task"</th><td class="num cpst">{b.cost_per_successful_task().to_string()}</td>
                    <td class="num cpst">{a.cost_per_successful_task().to_string()}</td><td class="num">{signed(c.cpst_change)}</td></tr>
                <tr><th scope="row">"Cost per attempted task"</th>
                    <td class="num">{b.cost_per_attempted_task().map(|m| m.to_string()).unwrap_or_else(|| "–".into())}</td>
                    <td class="num">{a.cost_per_attempted_task().map(|m| m.to_string()).unwrap_or_else(|| "–".into())}</td><td></td></tr>
                {b.costs.components().into_iter().zip(a.costs.components()).zip(c.component_changes).enumerate()
                    .filter(|(index, _)| crate::domain::cpst::CostBreakdown::shows_component(*index, [&b.costs, &a.costs]))
                    .map(|(_, (((label, before), (_, after)), (_, change)))| view! {
                    <tr><th scope="row">{format!("· {} per attempted task", label.to_lowercase())}</th>
                        <td class="num">{per_attempt(&b, before)}</td><td class="num">{per_attempt(&a, after)}</td><td class="num">{signed(change)}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
