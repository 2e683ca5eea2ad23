//! People, their roles and teams: admins only.

use crate::api::users::{CreateUser, ResetUserPassword, SetUserEnabled, UpdateUser, list_users};
use crate::components::forms::{ActionError, ActionOutcome, OneTimeSecretBox, reset_on_success};
use crate::domain::status::Role;
use crate::views::users::{TeamOption, UserRow};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let enable = ServerAction::<SetUserEnabled>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                enable.version().get(),
                reset.version().get(),
            )
        },
        |_| list_users(),
    );
    view! {
        <Title text="Users" />
        <h1>"Users"</h1>
        <ActionOutcome action=update done="Saved: the role and teams apply from the person's next page." />
        <ActionOutcome action=enable done="Saved: a disabled account is signed out and cannot sign in." />
        <Show when=move || matches!(reset.value().get(), Some(Ok(_)))>
            {move || reset.value().get().and_then(Result::ok).map(|secret| view! {
                <OneTimeSecretBox label=format!("New one-time password for {}", secret.email) secret=secret.password />
            })}
        </Show>
        <ActionError action=reset />
        <Suspense fallback=|| view! { <p class="loading">"Loading people…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(view_) => {
                        let teams = view_.teams.clone();
                        view! {
                            <table class="figures">
                                <thead>
                                    <tr>
                                        <th scope="col">"Person"</th>
                                        <th scope="col">"Role"</th>
                                        <th scope="col">"Teams"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Change"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {view_.users.into_iter().map(|user| view! {
                                        <UserLine user teams=teams.clone() update enable reset />
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <NewUserForm teams=view_.teams create />
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{crate::components::forms::error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UserLine(
    user: UserRow,
    teams: Vec<TeamOption>,
    update: ServerAction<UpdateUser>,
    enable: ServerAction<SetUserEnabled>,
    reset: ServerAction<ResetUserPassword>,
) -> impl IntoView {
    let team_names: Vec<String> = teams
        .iter()
        .filter(|t| user.team_ids.contains(&t.id))
        .map(|t| t.name.clone())
        .collect();
    let status = if user.disabled {
        "Disabled"
    } else if user.must_change_password {
        "Must choose a password"
    } else {
        "Active"
    };
    let id = user.id;
    view! {
        <tr data-user=user.email.clone()>
            <th scope="row">
                {user.name.clone()}
                <br />
                <span class="muted">{user.email.clone()}</span>
                {user.is_demo.then(|| view! { " " <span class="demo-badge">"demo"</span> })}
            </th>
            <td>{user.role.as_str()}{user.can_edit_costs.then_some(" (edits costs)")}</td>
            <td>{if team_names.is_empty() { "—".to_owned() } else { team_names.join(", ") }}</td>
            <td>{status}</td>
            <td class="actions">
                <details>
                    <summary>"Role and teams"</summary>
                    <ActionForm action=update attr:class="stacked">
                        <input type="hidden" name="user_id" value=id.to_string() />
                        <RoleSelect selected=user.role />
                        <TeamChecks teams=teams.clone() checked=user.team_ids.clone() />
                        <label class="check">
                            <input type="checkbox" name="can_edit_costs" checked=user.can_edit_costs />
                            "May edit platform costs and labour rates (finance)"
                        </label>
                        <button type="submit">"Save"</button>
                    </ActionForm>
                </details>
                <ActionForm action=reset attr:class="inline">
                    <input type="hidden" name="user_id" value=id.to_string() />
                    <button type="submit" class="secondary">"Reset password"</button>
                </ActionForm>
                <ActionForm action=enable attr:class="inline">
                    <input type="hidden" name="user_id" value=id.to_string() />
                    <input type="hidden" name="enabled" value=if user.disabled { "true" } else { "false" } />
                    <button type="submit" class="secondary">{if user.disabled { "Enable" } else { "Disable" }}</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
fn NewUserForm(teams: Vec<TeamOption>, create: ServerAction<CreateUser>) -> impl IntoView {
    view! {
        <section class="card narrow" aria-labelledby="new-user">
            <h2 id="new-user">"Add a person"</h2>
            {move || create.value().get().and_then(Result::ok).map(|secret| view! {
                <OneTimeSecretBox label=format!("One-time password for {}", secret.email) secret=secret.password />
            })}
            <ActionError action=create />
            <ActionForm action=create node_ref=reset_on_success(create) attr:class="stacked">
                <label>"Email" <input type="email" name="email" required maxlength="254" /></label>
                <label>"Name" <input type="text" name="name" required maxlength="100" /></label>
                <RoleSelect selected=Role::Reviewer />
                <TeamChecks teams checked=Vec::new() />
                <label class="check">
                    <input type="checkbox" name="can_edit_costs" />
                    "May edit platform costs and labour rates (finance)"
                </label>
                <p class="hint">"Finishline makes a one-time password to hand over; the person chooses their own when they first sign in."</p>
                <button type="submit">"Add"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn RoleSelect(selected: Role) -> impl IntoView {
    view! {
        <label>
            "Role"
            <select name="role">
                {Role::ALL.iter().map(|role| view! {
                    <option value=role.as_str() selected=*role == selected>{role.as_str()}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn TeamChecks(teams: Vec<TeamOption>, checked: Vec<i64>) -> impl IntoView {
    view! {
        <fieldset>
            <legend>"Teams"</legend>
            {if teams.is_empty() {
                view! { <p class="hint">"No teams yet."</p> }.into_any()
            } else {
                teams.into_iter().map(|team| view! {
                    <label class="check">
                        <input type="checkbox" name="teams[]" value=team.id.to_string() checked=checked.contains(&team.id) />
                        {team.name}
                    </label>
                }).collect_view().into_any()
            }}
        </fieldset>
    }
}
