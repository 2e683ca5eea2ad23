//! A workflow's autonomy gate: more autonomy only when quality and cost are both proven.

use crate::api::gate::{SetAutonomyLevel, get_gate};
use crate::components::forms::{ActionOutcome, error_text};
use crate::views::format::count;
use crate::views::gate::GateView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn GatePage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let change = ServerAction::<SetAutonomyLevel>::new();
    let gate = Resource::new(
        move || (slug(), change.version().get()),
        |(slug, _)| get_gate(slug),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Judging the gate…"</p> }>
            {move || Suspend::new(async move {
                match gate.await {
                    Ok(view_) => view! { <Gate view_ change /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn verdict(proven: bool) -> (&'static str, &'static str) {
    match proven {
        true => ("proven", "good"),
        false => ("not proven", "bad"),
    }
}

#[component]
fn Gate(view_: GateView, change: ServerAction<SetAutonomyLevel>) -> impl IntoView {
    let (quality, quality_class) = verdict(view_.quality_proven);
    let (cost, cost_class) = verdict(view_.cost_proven);
    let level = view_.level;
    view! {
        <Title text=format!("Autonomy gate: {}", view_.name) />
        <p class="crumbs"><a href="/workflows">"Workflows"</a> " › " <a href=format!("/workflows/{}", view_.slug)>{view_.name.clone()}</a></p>
        <h1>"Autonomy gate: " {view_.name.clone()}</h1>
        <p class="lede">
            {if view_.passes {
                "Quality and cost are both proven: the workflow may be given more autonomy."
            } else {
                "The gate does not pass: the workflow keeps its autonomy (or less) until quality and cost are both proven."
            }}
            " Judged over " {view_.window.clone()} "."
        </p>
        <div class="gate-halves">
            <section class=format!("card gate-half {quality_class}") aria-labelledby="quality">
                <h2 id="quality">"Quality: " {quality}</h2>
                <p>{view_.quality_evidence.clone()}</p>
            </section>
            <section class=format!("card gate-half {cost_class}") aria-labelledby="cost">
                <h2 id="cost">"Cost: " {cost}</h2>
                <p>{view_.cost_evidence.clone()}</p>
            </section>
        </div>
        <section aria-labelledby="level">
            <h2 id="level">"Autonomy level " {level}</h2>
            <ol class="levels" start="0">
                {view_.levels.iter().map(|(n, words)| view! {
                    <li class:current=*n == level>{words.clone()}</li>
                }).collect_view()}
            </ol>
            {view_.may_change.then(|| view! {
                <section class="card narrow" aria-labelledby="change-level">
                    <h3 id="change-level">"Change the level"</h3>
                    <p class="hint">"Raising it is refused while the gate does not pass; lowering it is always possible. The gate's evidence is stored with the change, and the audit log records it."</p>
                    <ActionOutcome action=change done="Autonomy level changed; the audit log records who and why." />
                    <ActionForm action=change attr:class="stacked">
                        <input type="hidden" name="workflow_id" value=view_.workflow_id.to_string() />
                        <label>
                            "New level"
                            <select name="level">
                                {view_.levels.iter().filter(|(n, _)| *n != level).map(|(n, words)| view! {
                                    <option value=n.to_string()>{format!("{n}: {words}")}</option>
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Why (kept with the change)" <textarea name="note" rows="2" maxlength="1000"></textarea></label>
                        <button type="submit">"Change level"</button>
                    </ActionForm>
                </section>
            })}
        </section>
        <section aria-labelledby="changes">
            <h2 id="changes">"Level changes"</h2>
            {if view_.changes.is_empty() {
                view! { <p class="empty">"The level has not been changed."</p> }.into_any()
            } else {
                view! {
                    <table class="figures">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"From"</th><th scope="col">"To"</th><th scope="col">"By"</th><th scope="col">"Why"</th></tr></thead>
                        <tbody>
                            {view_.changes.into_iter().map(|c| view! {
                                <tr><th scope="row">{c.when}</th><td>{c.from}</td><td>{c.to}</td><td>{c.by}</td><td>{c.note}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="history">
            <h2 id="history">"Gate history"</h2>
            <p class="hint">"Recorded once a day, and with every level change."</p>
            {if view_.history.is_empty() {
                view! { <p class="empty">"No evaluation recorded yet."</p> }.into_any()
            } else {
                view! {
                    <table class="figures">
                        <thead><tr>
                            <th scope="col">"Evaluated"</th><th scope="col">"Window"</th>
                            <th scope="col" class="num">"Decided"</th><th scope="col" class="num">"Succeeded"</th>
                            <th scope="col" class="num">"CPST"</th><th scope="col">"Quality"</th><th scope="col">"Cost"</th>
                        </tr></thead>
                        <tbody>
                            {view_.history.into_iter().map(|r| view! {
                                <tr>
                                    <th scope="row">{r.day}</th><td>{r.window}</td>
                                    <td class="num">{count(r.decided)}</td><td class="num">{count(r.succeeded)}</td>
                                    <td class="num">{r.cpst}</td>
                                    <td>{verdict(r.quality_proven).0}</td><td>{verdict(r.cost_proven).0}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
