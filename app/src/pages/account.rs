//! One's own account: who they are, their role and teams, and their password.

use crate::api::account::get_viewer;
use crate::views::account::Problem;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map();
    let viewer = Resource::new(|| (), |_| get_viewer());
    let problem = move || {
        query
            .read()
            .get("problem")
            .and_then(|code| Problem::from_code(&code))
    };
    let changed = move || query.read().get("changed").is_some();
    view! {
        <Title text="Account" />
        <h1>"Your account"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Some(viewer) = viewer.await.ok().flatten() else {
                    return view! { <p class="error" role="alert">"Sign in to see your account."</p> }.into_any();
                };
                view! {
                    {viewer.must_change_password.then(|| view! {
                        <p class="notice" role="status">
                            "Your password was generated for you. Choose your own before you continue."
                        </p>
                    })}
                    <dl class="facts">
                        <dt>"Name"</dt><dd>{viewer.name.clone()}</dd>
                        <dt>"Email"</dt><dd>{viewer.email.clone()}</dd>
                        <dt>"Role"</dt><dd>{role_words(viewer.role)}</dd>
                    </dl>
                }.into_any()
            })}
        </Suspense>
        <section class="card narrow" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            {move || changed().then(|| view! { <p class="notice" role="status">"Your password was changed. Your other sessions were signed out."</p> })}
            {move || problem().map(|problem| view! { <p class="error" role="alert">{problem.message()}</p> })}
            <form method="post" action="/rpc/change_password" class="stacked">
                <label>
                    "Current password"
                    <input type="password" name="current_password" autocomplete="current-password" required />
                </label>
                <label>
                    "New password"
                    <input type="password" name="new_password" autocomplete="new-password" minlength="12" maxlength="256" required />
                </label>
                <label>
                    "New password again"
                    <input type="password" name="confirm_password" autocomplete="new-password" minlength="12" maxlength="256" required />
                </label>
                <p class="hint">"At least 12 characters. Changing it signs you out everywhere else."</p>
                <button type="submit">"Change password"</button>
            </form>
        </section>
    }
}

fn role_words(role: crate::domain::status::Role) -> &'static str {
    use crate::domain::status::Role;
    match role {
        Role::Admin => "Admin: people, API keys, teams, prices and everything else",
        Role::Owner => {
            "Owner: defines the workflows of your teams, their success rules, budgets and thresholds"
        }
        Role::Finance => "Finance: reads every financial view and export",
        Role::Reviewer => "Reviewer: grades the sampled tasks in the review queue",
    }
}
