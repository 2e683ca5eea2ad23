//! Reconciliation with the provider's bill: per provider, how much of the bill the calls
//! Finishline saw explain, and per model and day or month, each difference with its likely
//! cause. Admins and finance only: a bill covers every team.

use crate::api::reconcile::{SaveFinanceSettings, get_reconciliation};
use crate::components::forms::{ActionError, error_text};
use crate::components::period::{Period, PeriodPicker};
use crate::views::reconcile::{ReconciliationLine, ReconciliationView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ReconciliationPage() -> impl IntoView {
    let query = use_query_map();
    let period = move || Period::from_query(&query.read());
    let by_month = move || query.read().get("by").as_deref() != Some("day");
    let save = ServerAction::<SaveFinanceSettings>::new();
    let found = Resource::new(
        move || (period(), by_month(), save.version().get()),
        |(p, by_month, _)| {
            let (days, from, to) = p.args();
            get_reconciliation(days, from, to, by_month)
        },
    );
    view! {
        <Title text="Reconciliation with the bill" />
        <div class="page-head">
            <h1>"Reconciliation with the bill"</h1>
            <PeriodPicker base="/reconciliation" current=Signal::derive(period) />
        </div>
        <p class="lede">
            "What each provider billed against what the calls Finishline saw cost. "
            "Spend no gateway or agent reported is invisible to CPST until it shows here."
        </p>
        <nav class="period-picker grouping" aria-label="Grouping">
            <a href=move || format!("/reconciliation?{}", period().query()) aria-current=move || by_month().then_some("page")>"By month"</a>
            <a href=move || format!("/reconciliation?{}&by=day", period().query()) aria-current=move || (!by_month()).then_some("page")>"By day"</a>
        </nav>
        <Suspense fallback=|| view! { <p class="loading">"Loading the bill…"</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(view_) => view! { <Reconciliation view_ save /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Reconciliation(
    view_: ReconciliationView,
    save: ServerAction<SaveFinanceSettings>,
) -> impl IntoView {
    let window = format!("{} to {} (UTC)", view_.first_day, view_.last_day);
    let settings = view_.may_edit.then(|| {
        let threshold = view_.threshold.clone();
        let allocate = view_.allocate_unattributed;
        view! {
            <section class="card narrow" aria-labelledby="settings">
                <h2 id="settings">"Reconciliation settings"</h2>
                <ActionError action=save />
                <ActionForm action=save attr:class="stacked">
                    <label>"A period reconciles when it is within this share of the bill (%)"
                        <input type="text" name="threshold" inputmode="decimal" value=threshold required />
                    </label>
                    <label class="check">
                        <input type="checkbox" name="allocate_unattributed" value="on" checked=allocate />
                        " Allocate unattributed spend to workflows, by their share of traced spend, as a sixth cost component"
                    </label>
                    <button type="submit">"Save settings"</button>
                </ActionForm>
            </section>
        }
    });
    if view_.billed_days.is_empty() {
        return view! {
            <p class="empty">"No bill has been imported yet. Import the provider's cost export from the command line, for example:"</p>
            <pre class="code">"finishline import-bill november-focus.csv --format focus\nfinishline import-bill openai-costs.json --format openai\nfinishline import-bill anthropic-cost-report.json --format anthropic"</pre>
            <p class="hint">"FOCUS 1.0 to 1.3 CSV files, the OpenAI organisation costs and the Anthropic cost report are read as they are; other CSV exports with a column mapping. Importing a file again stores nothing twice."</p>
            {settings}
        }
        .into_any();
    }
    let (reconciled, differences): (Vec<_>, Vec<_>) =
        view_.lines.iter().cloned().partition(|l| l.reconciled);
    let allocation = if view_.allocate_unattributed {
        "Unattributed spend is allocated to workflows as a sixth cost component."
    } else {
        "Unattributed spend is not allocated: CPST counts only the calls Finishline saw."
    };
    view! {
        <p class="window">{window}</p>
        <p class="hint">{format!("Bills imported cover {}. A line reconciles within {} of its bill. {allocation}", view_.billed_days, view_.threshold_words)}</p>
        {if view_.providers.is_empty() {
            view! { <p class="empty">"No imported bill covers this period."</p> }.into_any()
        } else {
            view! {
                <section aria-labelledby="providers">
                    <h2 id="providers">"By provider"</h2>
                    <table class="figures" id="providers-table">
                        <thead>
                            <tr>
                                <th scope="col">"Provider"</th>
                                <th scope="col" class="num">"Billed"</th>
                                <th scope="col" class="num">"Seen by Finishline"</th>
                                <th scope="col" class="num">"Covered by CPST"</th>
                                <th scope="col" class="num">"Unattributed"</th>
                                <th scope="col" class="num">"Lines reconciled"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {view_.providers.into_iter().map(|p| view! {
                                <tr>
                                    <th scope="row">{p.provider}</th>
                                    <td class="num">{p.billed}</td>
                                    <td class="num">{p.seen}</td>
                                    <td class="num">{p.coverage}</td>
                                    <td class="num">{p.unattributed}</td>
                                    <td class="num">{format!("{} of {}", p.reconciled, p.lines)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
                <section aria-labelledby="lines">
                    <h2 id="lines">"Differences"</h2>
                    {if differences.is_empty() {
                        view! { <p class="ok" role="status">{format!("Every line is within {} of its bill.", view_.threshold_words)}</p> }.into_any()
                    } else {
                        view! { <LinesTable id="differences-table" lines=differences by_month=view_.by_month /> }.into_any()
                    }}
                    {(!reconciled.is_empty()).then(|| view! {
                        <details>
                            <summary>{format!("{} reconciled lines", reconciled.len())}</summary>
                            <LinesTable id="reconciled-table" lines=reconciled by_month=view_.by_month />
                        </details>
                    })}
                </section>
            }.into_any()
        }}
        {settings}
    }
    .into_any()
}

#[component]
fn LinesTable(id: &'static str, lines: Vec<ReconciliationLine>, by_month: bool) -> impl IntoView {
    view! {
        <table class="figures" id=id>
            <thead>
                <tr>
                    <th scope="col">"Model"</th>
                    <th scope="col">{if by_month { "Month" } else { "Day" }}</th>
                    <th scope="col" class="num">"Billed"</th>
                    <th scope="col" class="num">"Seen"</th>
                    <th scope="col" class="num">"Difference"</th>
                    <th scope="col">"Likely cause"</th>
                </tr>
            </thead>
            <tbody>
                {lines.into_iter().map(|l| {
                    let tone = if l.reconciled { "verdict under" } else { "verdict over" };
                    view! {
                        <tr>
                            <th scope="row">{l.model} <span class="muted">{format!(" {}", l.provider)}</span></th>
                            <td class="nowrap">{l.period}</td>
                            <td class="num">{l.billed}</td>
                            <td class="num">{l.seen}</td>
                            <td class="num nowrap">{format!("{} ({})", l.difference, l.difference_share)}</td>
                            <td class="cause"><span class=tone>{l.cause}</span> " " {l.explanation}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
