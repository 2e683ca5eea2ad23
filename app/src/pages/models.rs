//! Models side by side for procurement: what a finished task costs on each model, weighted by
//! where the traffic goes, and the cheapest model per success in each workflow.

use crate::api::models::get_models;
use crate::components::chart::{Chart, ChartSpec, Kind, Series, chart_dollars};
use crate::components::export::CsvLink;
use crate::components::forms::error_text;
use crate::components::period::{Period, PeriodPicker};
use crate::domain::cpst::percent;
use crate::domain::money::group_thousands;
use crate::domain::time::format_day;
use crate::report::models::{MIN_RECOMMENDATION_TASKS, ModelComparison};
use crate::views::format::{count, interval, plain_seconds};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ModelsPage() -> impl IntoView {
    let query = use_query_map();
    let period = move || Period::from_query(&query.read());
    let found = Resource::new(period, |p| {
        let (days, from, to) = p.args();
        get_models(days, from, to)
    });
    view! {
        <Title text="Models" />
        <div class="page-head">
            <h1>"Cost per successful task by model"</h1>
            <PeriodPicker base="/models" current=Signal::derive(period) />
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Loading figures…"</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(models) => view! { <Models models export=period().query() /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Models(models: ModelComparison, export: String) -> impl IntoView {
    let window = models.window;
    let tasks = move |slug: &str, model: &str| {
        format!(
            "/tasks?workflow={slug}&model={}&from={}&to={}",
            crate::views::format::encode_query_value(model),
            format_day(window.first_day),
            format_day(window.last_day)
        )
    };
    if models.models.is_empty() {
        return view! {
            <p class="window">{format!("{} to {} (UTC)", format_day(window.first_day), format_day(window.last_day))}</p>
            <p class="empty">"No decided tasks with a model in this period: there is nothing to compare yet."</p>
        }
        .into_any();
    }
    let chart = ChartSpec::new(
        "models-chart",
        "Weighted cost per successful task by model",
        models.models.iter().map(|m| m.model.clone()).collect(),
        "$",
    )
    .series(Series::new(
        "Weighted CPST",
        Kind::Bar,
        models
            .models
            .iter()
            .map(|m| m.weighted_cpst.map(chart_dollars))
            .collect(),
    ));
    view! {
        <p class="window">{format!("{} to {} (UTC)", format_day(window.first_day), format_day(window.last_day))}</p>
        <p class="hint">
            "A model's CPST differs by workflow, so its overall figure weighs each workflow by its decided tasks. "
            "A task counts for the model of its costliest first-attempt model call. "
            "A workflow's latency budget rules out any model whose p95 task time breaks it."
        </p>
        <section aria-labelledby="winners">
            <div class="section-head">
                <h2 id="winners">"Cheapest model per successful task, by workflow"</h2>
                <CsvLink href=format!("/export/models/winners.csv?{export}") what="the winners" />
            </div>
            <table class="figures" id="winners-table">
                <thead>
                    <tr>
                        <th scope="col">"Workflow"</th>
                        <th scope="col">"Model"</th>
                        <th scope="col" class="num">"CPST"</th>
                        <th scope="col">"Quality target"</th>
                        <th scope="col" class="num">"Models compared"</th>
                        <th scope="col">"Latency budget"</th>
                    </tr>
                </thead>
                <tbody>
                    {models.winners.into_iter().map(|w| {
                        let target = percent(w.quality_target);
                        view! {
                            <tr data-workflow=w.workflow_slug.clone()>
                                <th scope="row"><a href=format!("/workflows/{}", w.workflow_slug)>{w.workflow_name.clone()}</a></th>
                                <td>{match &w.model {
                                    Some(model) => view! { <a href=tasks(&w.workflow_slug, model)>{model.clone()}</a> }.into_any(),
                                    None if !w.over_latency_budget.is_empty() => view! { <span class="verdict over">"no model within the latency budget"</span> }.into_any(),
                                    None => view! { <span class="empty">"no successful task yet"</span> }.into_any(),
                                }}</td>
                                <td class="num cpst">{w.cpst.map(|c| c.to_string()).unwrap_or_else(|| "–".into())}</td>
                                <td class="reading">{match (w.meets_quality_target, w.success) {
                                    // No recommendation on a handful of tasks: the interval says how little is known.
                                    (Some(_), Some(rate)) if rate.trials < MIN_RECOMMENDATION_TASKS => view! {
                                        <span class="verdict none">{format!("too few tasks to recommend ({} decided)", rate.trials)}</span>
                                        <small class="muted">{format!(" success {}", interval(rate))}</small>
                                    }.into_any(),
                                    (Some(true), Some(rate)) => view! {
                                        <span class="verdict under">{format!("meets {target}")}</span>
                                        <small class="muted">{format!(" success {}", interval(rate))}</small>
                                    }.into_any(),
                                    (Some(false), rate) => view! {
                                        <span class="verdict over">{format!("no model meets {target}")}</span>
                                        {rate.map(|rate| view! { <small class="muted">{format!(" this one {}", interval(rate))}</small> })}
                                    }.into_any(),
                                    _ => view! { <span class="verdict none">{target}</span> }.into_any(),
                                }}</td>
                                <td class="num">{count(w.candidates as u64)}</td>
                                <td class="reading latency-budget">{match w.latency_budget_ms {
                                    None => view! { <span class="muted">"none set"</span> }.into_any(),
                                    Some(budget) => view! {
                                        {format!("p95 at most {} s", plain_seconds(budget))}
                                        {(!w.over_latency_budget.is_empty()).then(|| view! {
                                            <small class="muted">{format!("; ruled out: {}", w.over_latency_budget.join(", "))}</small>
                                        })}
                                    }.into_any(),
                                }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-labelledby="by-model">
            <div class="section-head">
                <h2 id="by-model">"By model"</h2>
                <CsvLink href=format!("/export/models/models.csv?{export}") what="the models" />
            </div>
            <div class="charts"><Chart chart /></div>
            <table class="figures" id="models-table">
                <thead>
                    <tr>
                        <th scope="col">"Model"</th>
                        <th scope="col">"Workflow"</th>
                        <th scope="col" class="num">"Share of the workflow's tasks"</th>
                        <th scope="col" class="num">"Decided"</th>
                        <th scope="col" class="num">"Success rate"</th>
                        <th scope="col" class="num">"CPST"</th>
                        <th scope="col" class="num">"Weight in the model's CPST"</th>
                        <th scope="col" class="num">"p95 task time"</th>
                    </tr>
                </thead>
                {models.models.into_iter().map(|m| {
                    let uses = m.workflows.len();
                    let model = m.model.clone();
                    view! {
                        <tbody class="model-group" data-model=m.model.clone()>
                            <tr class="total">
                                <th scope="row">{m.model.clone()}</th>
                                <td>{format!("{uses} workflow{}", if uses == 1 { "" } else { "s" })}</td>
                                <td></td>
                                <td class="num">{group_thousands(m.decided)}</td>
                                <td></td>
                                <td class="num cpst">{m.weighted_cpst.map(|c| format!("{c} weighted")).unwrap_or_else(|| "undefined: a workflow has no success".into())}</td>
                                <td></td>
                                <td></td>
                            </tr>
                            {m.workflows.into_iter().map(|u| view! {
                                <tr>
                                    <td></td>
                                    <th scope="row"><a href=tasks(&u.workflow_slug, &model)>{u.workflow_name.clone()}</a></th>
                                    <td class="num">{u.traffic_share.map(percent).unwrap_or_else(|| "–".into())}</td>
                                    <td class="num">{group_thousands(u.set.counts.decided())}</td>
                                    <td class="num">{u.set.success_rate().map(|r| percent(r.value)).unwrap_or_else(|| "–".into())}</td>
                                    <td class="num">{u.set.cost_per_successful_task().to_string()}</td>
                                    <td class="num">{u.weight.map(percent).unwrap_or_else(|| "–".into())}</td>
                                    <td class="num p95-time">
                                        {u.p95_task_ms.map(|ms| format!("{:.1} s", ms as f64 / 1_000.0)).unwrap_or_else(|| "–".into())}
                                        {u.over_latency_budget.then(|| view! { <span class="verdict over">" over budget"</span> })}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    }
                }).collect_view()}
            </table>
        </section>
    }
    .into_any()
}
