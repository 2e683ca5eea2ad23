//! What-if on a workflow: move the levers, see CPST, cost per attempted task, success rate and
//! monthly spend projected from the workflow's own last 30 days, save the projection, and hold
//! saved ones against what happened after.

use crate::api::whatif::{SaveWhatIf, get_what_if};
use crate::components::forms::{ActionOutcome, error_text, reset_on_success};
use crate::domain::Micros;
use crate::domain::cpst::percent;
use crate::report::whatif::{Band, Outlook, Projection, WhatIf};
use crate::views::format::{count, encode_query_value};
use crate::views::whatif::{SavedScenario, WhatIfForm, WhatIfView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn WhatIfPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let save = ServerAction::<SaveWhatIf>::new();
    let args = move || {
        let q = query.read();
        let field = |name: &str| q.get(name).unwrap_or_default();
        let mut routes: Vec<String> = q
            .clone()
            .into_iter()
            .filter_map(|(key, value)| {
                let id = key.strip_prefix("route_")?;
                (!value.trim().is_empty()).then(|| format!("{id}:{value}"))
            })
            .collect();
        routes.sort();
        let form = WhatIfForm {
            routes: routes.join(";"),
            cache_share: field("cache_share"),
            input_change: field("input_change"),
            failure_rate: field("failure_rate"),
            retry_cut: field("retry_cut"),
        };
        (params.read().get("slug").unwrap_or_default(), form)
    };
    let found = Resource::new(
        move || (args(), save.version().get()),
        |((slug, form), _)| get_what_if(slug, form),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Projecting…"</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(view_) => view! { <WhatIfBody view_ save /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page's query for a form, so a saved scenario can be run again on today's evidence.
fn query_of(form: &WhatIfForm) -> String {
    let mut pairs: Vec<String> = form
        .routes
        .split(';')
        .filter_map(|pair| pair.split_once(':'))
        .map(|(id, model)| format!("route_{}={}", id.trim(), encode_query_value(model.trim())))
        .collect();
    for (name, value) in [
        ("cache_share", &form.cache_share),
        ("input_change", &form.input_change),
        ("failure_rate", &form.failure_rate),
        ("retry_cut", &form.retry_cut),
    ] {
        if !value.trim().is_empty() {
            pairs.push(format!("{name}={}", encode_query_value(value.trim())));
        }
    }
    pairs.join("&")
}

fn money(amount: Option<Micros>) -> String {
    amount.map_or_else(|| "no success".to_owned(), |m| m.to_string())
}

fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), percent)
}

fn money_band(band: Band<Option<Micros>>) -> String {
    format!("{} – {}", money(band.low), money(band.high))
}

/// The change from `before` to `after` as a signed share of `before`, to a tenth of a percent.
fn change(before: Option<f64>, after: Option<f64>) -> String {
    let points = match (before, after) {
        (Some(b), Some(a)) if b != 0.0 => ((a - b) / b * 1000.0).round() / 10.0,
        _ => return "–".to_owned(),
    };
    match points {
        p if p > 0.0 => format!("+{p:.1}%"),
        p if p < 0.0 => format!("−{:.1}%", -p),
        _ => "0%".to_owned(),
    }
}

fn dollars_of(amount: Option<Micros>) -> Option<f64> {
    amount.map(|m| m.0 as f64)
}

#[component]
fn WhatIfBody(view_: WhatIfView, save: ServerAction<SaveWhatIf>) -> impl IntoView {
    let base = format!("/workflows/{}", view_.handle);
    let form = view_.form.clone();
    let placeholder =
        |share: Option<f64>| share.map_or_else(String::new, |s| format!("today {}", percent(s)));
    let routes = view_
        .choices
        .iter()
        .map(|choice| {
            let name = format!("route_{}", choice.task_type_id);
            let picked = form.route_of(choice.task_type_id).unwrap_or_default().to_owned();
            let options = choice
                .models
                .iter()
                .map(|(model, decided, success)| {
                    let thin = *decided < view_.min_evidence;
                    let words = format!(
                        "{model}: {} tasks, {} succeeded{}",
                        count(*decided),
                        rate(*success),
                        if thin { " (too few to route to)" } else { "" }
                    );
                    let selected = picked == *model;
                    view! { <option value=model.clone() selected=selected>{words}</option> }
                })
                .collect_view();
            view! {
                <label>
                    {format!("Send every {} task ({} decided) to", choice.label, count(choice.decided))}
                    <select name=name>
                        <option value="">"the models it uses today"</option>
                        {options}
                    </select>
                </label>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("What if: {}", view_.workflow) />
        <p class="crumbs"><a href="/workflows">"Workflows"</a> " › " <a href=base.clone()>{view_.workflow.clone()}</a></p>
        <h1>"What if: " {view_.workflow.clone()}</h1>
        <p class="lede">
            "Projections from this workflow's own tasks, " {view_.from.clone()} " to " {view_.to.clone()}
            ": the same volume and fixed costs, each figure with a 95% interval. A task type is routed to a model only when that model decided at least "
            {view_.min_evidence} " tasks of the type."
        </p>
        <form method="get" class="card stacked whatif-form">
            <h2>"Levers"</h2>
            {routes}
            <label>"Share of input tokens read from the cache (%)"
                <input type="text" name="cache_share" inputmode="decimal" value=form.cache_share.clone() placeholder=placeholder(view_.cache_share) />
            </label>
            <label>"Change of input tokens per call (%, e.g. -20)"
                <input type="text" name="input_change" inputmode="decimal" value=form.input_change.clone() />
            </label>
            <label>"Share of decided tasks that fail (%)"
                <input type="text" name="failure_rate" inputmode="decimal" value=form.failure_rate.clone() placeholder=placeholder(view_.failure_rate) />
            </label>
            <label>"Retries cost less by (%)"
                <input type="text" name="retry_cut" inputmode="decimal" value=form.retry_cut.clone() />
            </label>
            <button type="submit">"Project"</button>
        </form>
        {view_.result.clone().map(|result| view! { <Outcome result form=form.clone() handle=view_.handle.clone() save /> })}
        <Saved saved=view_.saved.clone() base />
    }
}

#[component]
fn Outcome(
    result: WhatIf,
    form: WhatIfForm,
    handle: String,
    save: ServerAction<SaveWhatIf>,
) -> impl IntoView {
    match result {
        WhatIf::Refused { refusals, .. } => view! {
            <section class="card refusal" aria-labelledby="projection" role="status">
                <h2 id="projection">"Not enough evidence to project"</h2>
                <ul>
                    {refusals.into_iter().map(|r| view! { <li><strong>{r.lever}</strong> ": " {r.reason}</li> }).collect_view()}
                </ul>
            </section>
        }
        .into_any(),
        WhatIf::Projected(projection) => view! {
            <section class="card" aria-labelledby="projection">
                <h2 id="projection">"Projection"</h2>
                <ProjectionTable projection=(*projection).clone() />
                <h3>"Assumptions"</h3>
                <ul class="assumptions">
                    {projection.assumptions.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}
                </ul>
                <ActionForm action=save node_ref=reset_on_success(save) attr:class="stacked save-scenario">
                    <input type="hidden" name="slug" value=handle />
                    <input type="hidden" name="form[routes]" value=form.routes />
                    <input type="hidden" name="form[cache_share]" value=form.cache_share />
                    <input type="hidden" name="form[input_change]" value=form.input_change />
                    <input type="hidden" name="form[failure_rate]" value=form.failure_rate />
                    <input type="hidden" name="form[retry_cut]" value=form.retry_cut />
                    <label>"Save as"
                        <input type="text" name="name" required maxlength="120" placeholder="e.g. resets on the small model" />
                    </label>
                    <button type="submit">"Save scenario"</button>
                </ActionForm>
                <ActionOutcome action=save done="Saved: it is listed below with what happens next." />
            </section>
        }
        .into_any(),
    }
}

#[component]
fn ProjectionTable(projection: Projection) -> impl IntoView {
    let (today, projected) = (projection.today, projection.projected);
    let rows = [
        (
            "Cost per success",
            money(today.cpst),
            money(projected.cpst),
            money_band(projection.cpst()),
            change(dollars_of(today.cpst), dollars_of(projected.cpst)),
        ),
        (
            "Cost per attempt",
            money(today.cost_per_attempted),
            money(projected.cost_per_attempted),
            money_band(projection.cost_per_attempted()),
            change(
                dollars_of(today.cost_per_attempted),
                dollars_of(projected.cost_per_attempted),
            ),
        ),
        (
            "Success rate",
            rate(today.success_rate),
            rate(projected.success_rate),
            format!(
                "{} – {}",
                rate(projection.success_rate().low),
                rate(projection.success_rate().high)
            ),
            change(today.success_rate, projected.success_rate),
        ),
        (
            "Monthly spend",
            today.monthly.to_string(),
            projected.monthly.to_string(),
            format!(
                "{} – {}",
                projection.monthly().low,
                projection.monthly().high
            ),
            change(
                dollars_of(Some(today.monthly)),
                dollars_of(Some(projected.monthly)),
            ),
        ),
    ];
    view! {
        <div class="table-scroll">
            <table class="figures">
                <thead><tr><th scope="col">"Figure"</th><th scope="col">"Today"</th><th scope="col">"Projected (95% interval)"</th><th scope="col">"Change"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(name, now, then, band, delta)| view! {
                        <tr><th scope="row">{name}</th><td>{now}</td><td><strong>{then}</strong><span class="interval">{band}</span></td><td>{delta}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Whether `actual` lies within the band from `low` to `high`, in words.
fn verdict(actual: Option<Micros>, low: Option<Micros>, high: Option<Micros>) -> &'static str {
    let band = crate::report::whatif::band(low, high);
    match actual {
        None => "",
        Some(_) if actual < band.low => "better than projected",
        Some(_) if actual > band.high => "worse than projected",
        Some(_) => "within the interval",
    }
}

#[component]
fn Saved(saved: Vec<SavedScenario>, base: String) -> impl IntoView {
    let empty = saved.is_empty();
    let cards = saved
        .into_iter()
        .map(|s| {
            let again = format!("{base}/what-if?{}", query_of(&s.form));
            let after = s.after.unwrap_or_default();
            let outlook_rows = |o: &Outlook| (money(o.cpst), money(o.cost_per_attempted), rate(o.success_rate), o.monthly.to_string());
            let before = outlook_rows(&s.before);
            let projected = outlook_rows(&s.projected);
            let actual = s.after.as_ref().map(outlook_rows);
            let note = match &s.after_window {
                Some(window) => format!(
                    "Actual, {window}: {} decided tasks; CPST {}.",
                    count(after.decided),
                    verdict(after.cpst, s.low.cpst, s.high.cpst)
                ),
                None => "Actual figures start the day after it was saved.".to_owned(),
            };
            let cell = move |pick: fn(&(String, String, String, String)) -> String| {
                (pick(&before), pick(&projected), actual.as_ref().map_or_else(|| "–".to_owned(), pick))
            };
            let lines = [
                ("Cost per success", cell(|r| r.0.clone())),
                ("Cost per attempt", cell(|r| r.1.clone())),
                ("Success rate", cell(|r| r.2.clone())),
                ("Monthly spend", cell(|r| r.3.clone())),
            ];
            view! {
                <article class="card scenario">
                    <h3>{s.name.clone()}</h3>
                    <p class="hint">"Saved " {s.saved_on.clone()} " by " {s.saved_by.clone()} "; evidence " {s.before_window.clone()} "."</p>
                    <div class="table-scroll">
                        <table class="figures">
                            <thead><tr><th scope="col">"Figure"</th><th scope="col">"Before"</th><th scope="col">"Projected"</th><th scope="col">"Actual since"</th></tr></thead>
                            <tbody>
                                {lines.into_iter().map(|(name, (b, p, a))| view! {
                                    <tr><th scope="row">{name}</th><td>{b}</td><td>{p}</td><td>{a}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <p>{note}</p>
                    <details>
                        <summary>"Assumptions"</summary>
                        <ul class="assumptions">{s.assumptions.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul>
                    </details>
                    <p>
                        <a href=again>"Project it again on today's evidence"</a>
                        {s.compare.clone().map(|link| view! { " · " <a href=link>"Compare the periods before and after"</a> })}
                    </p>
                </article>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="saved">
            <h2 id="saved">"Saved scenarios"</h2>
            {empty.then(|| view! { <p class="empty">"None yet: project a change above and save it to compare it later with what happened."</p> })}
            {cards}
        </section>
    }
}
