//! Teams with their labour rates, and the fixed platform costs allocated to workflows.

use crate::api::costs::{AddPlatformCost, CreateTeam, EndPlatformCost, SetLabourRate, list_costs};
use crate::components::forms::{ActionOutcome, DayInput, error_text, reset_on_success};
use crate::views::costs::CostsView;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CostsPage() -> impl IntoView {
    let create_team = ServerAction::<CreateTeam>::new();
    let set_rate = ServerAction::<SetLabourRate>::new();
    let add_cost = ServerAction::<AddPlatformCost>::new();
    let end_cost = ServerAction::<EndPlatformCost>::new();
    let costs = Resource::new(
        move || {
            (
                create_team.version().get(),
                set_rate.version().get(),
                add_cost.version().get(),
                end_cost.version().get(),
            )
        },
        |_| list_costs(),
    );
    view! {
        <Title text="Teams and costs" />
        <h1>"Teams and costs"</h1>
        <p class="lede">
            "Two parts of every task's cost that no gateway reports: the minutes people spend reviewing, "
            "priced at their team's loaded hourly rate, and fixed monthly platform costs, spread over the tasks of "
            "the workflows they serve. A changed rate re-prices the team's past review minutes too."
        </p>
        <ActionOutcome action=set_rate done="Labour rate saved: review time is counted at it from today." />
        <ActionOutcome action=end_cost done="Platform cost ended: it is shared out no more after its last day." />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match costs.await {
                    Ok(view_) => view! { <CostTables view_ create_team set_rate add_cost end_cost /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CostTables(
    view_: CostsView,
    create_team: ServerAction<CreateTeam>,
    set_rate: ServerAction<SetLabourRate>,
    add_cost: ServerAction<AddPlatformCost>,
    end_cost: ServerAction<EndPlatformCost>,
) -> impl IntoView {
    let editable = view_.may_edit_costs;
    // A new installation starts here: the form is open while there is no team.
    let no_teams = view_.teams.is_empty();
    view! {
        <section aria-labelledby="teams">
            <h2 id="teams">"Teams"</h2>
            <table class="figures">
                <thead>
                    <tr>
                        <th scope="col">"Team"</th>
                        <th scope="col" class="num">"Labour rate"</th>
                        {editable.then(|| view! { <th scope="col">"Change rate"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {view_.teams.into_iter().map(|team| {
                        let id = team.id;
                        view! {
                            <tr data-team=team.slug.clone()>
                                <th scope="row">{team.name.clone()}</th>
                                <td class="num">{team.labour_rate.clone()}</td>
                                {editable.then(|| view! {
                                    <td>
                                        <ActionForm action=set_rate attr:class="inline">
                                            <input type="hidden" name="team_id" value=id.to_string() />
                                            <label class="visually-hidden" for=format!("rate-{id}")>"New hourly rate in dollars"</label>
                                            <input type="text" id=format!("rate-{id}") name="labour_rate" inputmode="decimal" size="8" placeholder="e.g. 48.00" required />
                                            " "
                                            <button type="submit" class="secondary">"Set"</button>
                                        </ActionForm>
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <ActionOutcome action=create_team done="Team created." />
            {view_.may_create_teams.then(|| view! {
                <details class="card narrow" id="new-team" open=no_teams>
                    <summary>"Add a team"</summary>
                    <ActionForm action=create_team node_ref=reset_on_success(create_team) attr:class="stacked">
                        <label>"Name" <input type="text" name="name" required maxlength="100" /></label>
                        <label>"Short name for addresses (a-z, 0-9, -)" <input type="text" name="slug" required maxlength="64" pattern="[a-z0-9\\-]+" /></label>
                        <label>"Loaded labour rate, dollars per hour" <input type="text" name="labour_rate" inputmode="decimal" required /></label>
                        <button type="submit">"Add team"</button>
                    </ActionForm>
                </details>
            })}
        </section>
        <section aria-labelledby="platform">
            <h2 id="platform">"Platform costs"</h2>
            {if view_.platform_costs.is_empty() {
                view! { <p class="empty">"No platform costs yet."</p> }.into_any()
            } else {
                view! {
                    <table class="figures">
                        <thead>
                            <tr>
                                <th scope="col">"Cost"</th>
                                <th scope="col">"Applies to"</th>
                                <th scope="col" class="num">"Amount"</th>
                                <th scope="col">"From"</th>
                                <th scope="col">"Until"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {view_.platform_costs.into_iter().map(|cost| {
                                let id = cost.id;
                                view! {
                                    <tr>
                                        <th scope="row">{cost.name.clone()}</th>
                                        <td>{cost.applies_to.clone()}</td>
                                        <td class="num">{cost.monthly.clone()}</td>
                                        <td class="nowrap">{cost.from_day.clone()}</td>
                                        <td>
                                            {match (cost.last_day.clone(), editable) {
                                                (Some(day), _) => view! { <span class="nowrap">{day}</span> }.into_any(),
                                                (None, true) => view! {
                                                    <ActionForm action=end_cost attr:class="inline">
                                                        <input type="hidden" name="cost_id" value=id.to_string() />
                                                        <label class="visually-hidden" for=format!("end-{id}")>"Last day"</label>
                                                        <DayInput id=format!("end-{id}") name="last_day" required=true />
                                                        " "
                                                        <button type="submit" class="secondary">"End"</button>
                                                    </ActionForm>
                                                }.into_any(),
                                                (None, false) => view! { <span class="muted">"open"</span> }.into_any(),
                                            }}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {editable.then(|| view! {
                <section class="card narrow" aria-labelledby="new-cost">
                    <h3 id="new-cost">"Add a platform cost"</h3>
                    <ActionOutcome action=add_cost done="Platform cost added: it is shared out from its first day." />
                    <ActionForm action=add_cost node_ref=reset_on_success(add_cost) attr:class="stacked">
                        <label>"Name" <input type="text" name="name" required maxlength="100" placeholder="e.g. vector database" /></label>
                        <label>
                            "Applies to"
                            <select name="applies_to">
                                {view_.targets.into_iter().map(|t| view! { <option value=t.value>{t.label}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Dollars per month" <input type="text" name="monthly" inputmode="decimal" required placeholder="e.g. 900.00" /></label>
                        <label>"First day (UTC)" <DayInput name="from_day" required=true /></label>
                        <button type="submit">"Add cost"</button>
                    </ActionForm>
                </section>
            })}
            {(!editable).then(|| view! {
                <p class="hint">"Only admins, and finance people an admin allowed, change rates and platform costs."</p>
            })}
        </section>
    }
}
