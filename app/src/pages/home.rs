//! The overview: cost per successful task, success and spend for every workflow and team.

use crate::api::overview::get_overview;
use crate::components::chart::{Chart, ChartSpec, Kind, Series};
use crate::components::export::CsvLink;
use crate::components::forms::error_text;
use crate::components::period::{Period, PeriodPicker};
use crate::domain::Micros;
use crate::domain::cpst::{Cpst, TaskSet, percent, signed_percent};
use crate::domain::money::group_thousands;
use crate::domain::time::format_day;
use crate::pages::setup::SetupPanel;
use crate::report::savings::Savings;
use crate::report::{Overview, WorkflowFigures};
use crate::views::format::{net_savings, savings_sentence};
use crate::views::overview::GateState;
use crate::views::tone::Tone;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let period = move || Period::from_query(&query.read());
    let overview = Resource::new(period, |p| {
        let (days, from, to) = p.args();
        get_overview(days, from, to)
    });
    view! {
        <Title text="Overview" />
        <div class="page-head">
            <h1>"Cost per successful task"</h1>
            <PeriodPicker base="/" current=Signal::derive(period) />
        </div>
        <SetupPanel />
        <Suspense fallback=|| view! { <p class="loading">"Loading figures…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(page) => view! { <OverviewTables overview=page.overview gates=page.gates coverage=page.bill_coverage export=period().query() /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewTables(
    overview: Overview,
    gates: Vec<GateState>,
    coverage: Vec<String>,
    export: String,
) -> impl IntoView {
    let window = overview.window;
    let chart = budget_chart(&overview);
    let pending = overview.total.counts.pending;
    let empty = overview.workflows.is_empty();
    view! {
        <p class="window">
            {format!("{} to {} (UTC)", format_day(window.first_day), format_day(window.last_day))}
            {(pending > 0).then(|| view! {
                <span class="pending-note">
                    {format!(" · {} tasks still pending a verdict are left out of both sides", group_thousands(pending))}
                </span>
            })}
        </p>
        {(!coverage.is_empty()).then(|| view! {
            <p class="hint" id="bill-coverage">
                {coverage.join(" ")} " " <a href=format!("/reconciliation?{export}")>"Reconcile with the bill"</a>
            </p>
        })}
        {if empty {
            view! { <p class="empty">"No workflows yet. Define one, then send tasks and calls to see their cost."</p> }.into_any()
        } else {
            view! {
                <Headline overview=overview.clone() />
                <section aria-labelledby="by-workflow">
                    <div class="section-head">
                        <h2 id="by-workflow">"By workflow"</h2>
                        <CsvLink href=format!("/export/overview/workflows.csv?{export}") what="the workflows" />
                    </div>
                    <WorkflowTable rows=overview.workflows total=overview.total total_savings=overview.total_savings.clone() total_budget=overview.total_budget window gates />
                    <p class="hint" id="savings-note">{savings_sentence(&overview.total_savings)}</p>
                    <div class="charts">
                        <Chart chart />
                    </div>
                    <p class="hint">
                        "For FinOps tools: "
                        <a href=format!("/export/focus.csv?{export}") download>"the period's costs as a FOCUS 1.2 file"</a>
                        " (by day, workflow, task type, provider, model and cost component)."
                    </p>
                </section>
                <section aria-labelledby="by-team">
                    <div class="section-head">
                        <h2 id="by-team">"By team"</h2>
                        <CsvLink href=format!("/export/overview/teams.csv?{export}") what="the teams" />
                    </div>
                    <p class="hint">"A team's budget is its workflows' budgets weighted by the tasks each made succeed."</p>
                    <table class="figures" id="teams">
                        <thead>
                            <tr>
                                <th scope="col">"Team"</th>
                                <th scope="col" class="num">"Cost per successful task"</th>
                                <th scope="col">"Budget"</th>
                                <th scope="col" class="num">"Success rate"</th>
                                <th scope="col" class="num">"Succeeded"</th>
                                <th scope="col" class="num">"Total spend"</th>
                                <th scope="col" class="num">"Net savings"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {overview.teams.into_iter().map(|team| {
                                let cpst = team.set.cost_per_successful_task();
                                view! {
                                    <tr>
                                        <th scope="row">{team.name}</th>
                                        <td class="num cpst">{cpst.to_string()}</td>
                                        <td><TeamBudget cpst budget=team.budget /></td>
                                        <td class="num">{rate_text(&team.set)}</td>
                                        <td class="num">{group_thousands(team.set.counts.succeeded)}</td>
                                        <td class="num">{team.set.total_cost().to_string()}</td>
                                        <td class="num savings">{net_savings(&team.savings)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }.into_any()
        }}
    }
}

/// The answer first: what was spent, what a success cost against the budget, and how many
/// workflows are over it.
#[component]
fn Headline(overview: Overview) -> impl IntoView {
    let cpst = overview.total.cost_per_successful_task();
    let over = overview
        .workflows
        .iter()
        .filter(|w| {
            w.set
                .cost_per_successful_task()
                .variance_to(w.budget)
                .is_some_and(|v| v > 0.0)
        })
        .count();
    let blended = match (cpst, overview.total_budget) {
        (Cpst::Cost(_), Some(budget)) => match cpst.variance_to(budget) {
            Some(v) => format!("against a {budget} budget ({})", signed_percent(v)),
            None => format!("against a {budget} budget"),
        },
        _ => "no successful task yet, so no cost per success".to_owned(),
    };
    let tone = if over > 0 { "bad" } else { "good" };
    view! {
        <dl class="headline" aria-label="The period in three figures">
            <div><dt>"Spend"</dt><dd>{overview.total.total_cost().to_string()}</dd></div>
            <div>
                <dt>"Cost per successful task"</dt>
                <dd>{cpst.to_string()} <small>{blended}</small></dd>
            </div>
            <div class=tone>
                <dt>"Workflows over budget"</dt>
                <dd>{format!("{over} of {}", overview.workflows.len())}</dd>
            </div>
        </dl>
    }
}

#[component]
fn WorkflowTable(
    rows: Vec<WorkflowFigures>,
    total: TaskSet,
    total_savings: Savings,
    total_budget: Option<Micros>,
    window: crate::report::Window,
    gates: Vec<GateState>,
) -> impl IntoView {
    // Every count links to the tasks behind it, over the same days.
    let tasks = move |slug: &str, status: &str| {
        format!(
            "/tasks?workflow={slug}&status={status}&from={}&to={}",
            format_day(window.first_day),
            format_day(window.last_day)
        )
    };
    view! {
        <table class="figures">
            <thead>
                <tr>
                    <th scope="col">"Workflow"</th>
                    <th scope="col" class="wide-only roomy-only">"Team"</th>
                    <th scope="col" class="num">"Cost per successful task"</th>
                    <th scope="col">"Budget"</th>
                    <th scope="col">"Trend"</th>
                    <th scope="col" class="num">"Success rate"</th>
                    <th scope="col" class="num">"Succeeded"</th>
                    <th scope="col" class="num">"Total spend"</th>
                    <th scope="col" class="num">"Net savings"</th>
                    <th scope="col">"Autonomy gate"</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let gate = gates.iter().find(|g| g.workflow_id == row.workflow_id).cloned();
                    let cpst = row.set.cost_per_successful_task();
                    view! {
                        <tr data-workflow=row.slug.clone()>
                            <th scope="row"><a href=format!("/workflows/{}", row.slug)>{row.name.clone()}</a></th>
                            <td class="wide-only roomy-only">{row.team_name.clone()}</td>
                            <td class="num cpst">{cpst.to_string()}</td>
                            <td><BudgetVerdict cpst budget=row.budget /></td>
                            <td><Trend now=cpst before=row.previous_cpst /></td>
                            <td class="num">{rate_text(&row.set)}</td>
                            <td class="num"><a href=tasks(&row.slug, "succeeded")>{group_thousands(row.set.counts.succeeded)}</a></td>
                            <td class="num">{row.set.total_cost().to_string()}</td>
                            <td class="num savings">{net_savings(&row.savings)}</td>
                            <td>
                                <a href=format!("/workflows/{}/gate", row.slug) class=match &gate {
                                    Some(g) if g.passes => "gate passes",
                                    Some(_) => "gate fails",
                                    None => "gate",
                                }>
                                    {match &gate {
                                        Some(g) if g.passes && row.autonomy_level < 3 => format!("ready to raise (level {})", row.autonomy_level),
                                        Some(g) if g.passes => format!("proven (level {})", row.autonomy_level),
                                        Some(_) => format!("not proven (level {})", row.autonomy_level),
                                        None => format!("not judged yet (level {})", row.autonomy_level),
                                    }}
                                </a>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
            <tfoot>
                <tr>
                    <th scope="row">"All workflows"</th>
                    <td class="wide-only roomy-only"></td>
                    <td class="num cpst">{total.cost_per_successful_task().to_string()}</td>
                    <td><TeamBudget cpst=total.cost_per_successful_task() budget=total_budget /></td>
                    <td></td>
                    <td class="num">{rate_text(&total)}</td>
                    <td class="num">{group_thousands(total.counts.succeeded)}</td>
                    <td class="num">{total.total_cost().to_string()}</td>
                    <td class="num savings">{net_savings(&total_savings)}</td>
                    <td></td>
                </tr>
            </tfoot>
        </table>
    }
}

/// A blended budget against the CPST, or why there is none.
#[component]
fn TeamBudget(cpst: Cpst, budget: Option<Micros>) -> impl IntoView {
    match budget {
        Some(budget) => view! { <BudgetVerdict cpst budget /> }.into_any(),
        None => view! { <span class="verdict none">"no successful tasks yet"</span> }.into_any(),
    }
}

/// Each workflow's CPST as a percentage of its budget, against a 100 % line, so a small
/// workflow's overrun is as visible as a large one's (the table above holds the exact figures).
fn budget_chart(overview: &Overview) -> ChartSpec {
    let rows = &overview.workflows;
    ChartSpec::new(
        "budget-chart",
        "Cost per successful task as a percentage of the budget, by workflow",
        rows.iter().map(|w| w.name.clone()).collect(),
        "% of budget",
    )
    .series(Series::new(
        "Cost per successful task, % of budget",
        Kind::Bar,
        rows.iter()
            .map(|w| {
                let cpst = w.set.cost_per_successful_task();
                cpst.variance_to(w.budget)
                    .map(|v| ((1.0 + v) * 1000.0).round() / 10.0)
            })
            .collect(),
    ))
    .series(Series::new(
        "Budget (100%)",
        Kind::Reference,
        rows.iter().map(|_| Some(100.0)).collect(),
    ))
}

fn rate_text(set: &TaskSet) -> String {
    set.success_rate()
        .map(|p| percent(p.value))
        .unwrap_or_else(|| "no decided tasks".to_owned())
}

/// Budget versus actual, in words as well as colour.
#[component]
fn BudgetVerdict(cpst: Cpst, budget: Micros) -> impl IntoView {
    match cpst {
        Cpst::Cost(cost) if cost <= budget => view! {
            <span class="verdict under">{format!("Within {budget} budget")}</span>
        }
        .into_any(),
        Cpst::Cost(cost) => {
            let words = match (cost.checked_sub(budget), cpst.variance_to(budget)) {
                (Ok(over), Some(v)) => format!("Over {budget} budget by {over} ({})", signed_percent(v)),
                (Ok(over), None) => format!("Over {budget} budget by {over}"),
                (Err(_), _) => format!("Over {budget} budget"),
            };
            // A phone's narrow column gets the percentage first, in a third of the words.
            let short = cpst
                .variance_to(budget)
                .map(|v| format!("{} over {budget}", signed_percent(v)));
            view! {
                <span class="verdict over">
                    <span class:wide-only=short.is_some()>{words}</span>
                    {short.map(|short| view! { <span class="narrow-only">{short}</span> })}
                </span>
            }
            .into_any()
        }
        Cpst::NoSuccessfulTasks => view! {
            <span class="verdict none">{format!("{budget} budget; no success to divide by yet")}</span>
        }
        .into_any(),
    }
}

/// Change against the previous period of the same length.
#[component]
fn Trend(now: Cpst, before: Cpst) -> impl IntoView {
    match (now.micros(), before.micros()) {
        (Some(now), Some(before)) if before.0 > 0 => {
            let change = (now.0 - before.0) as f64 / before.0 as f64;
            let (arrow, class, words) = match Tone::of_cost(change) {
                Tone::Bad => ("▲", "trend up", "costlier than the previous period"),
                Tone::Good => ("▼", "trend down", "cheaper than the previous period"),
                Tone::Neutral => ("▶", "trend flat", "about the same as the previous period"),
            };
            view! {
                <span class=class title=words>
                    <span aria-hidden="true">{arrow}" "</span>
                    {format!("{:+.1}%", change * 100.0)}
                    <span class="visually-hidden">{format!(" {words}")}</span>
                </span>
            }
            .into_any()
        }
        _ => view! { <span class="trend none">"no earlier figure"</span> }.into_any(),
    }
}
