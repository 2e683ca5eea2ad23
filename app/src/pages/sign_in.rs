//! Signing in: a plain form, so it works before the page is interactive.

use crate::views::account::Problem;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let problem = move || {
        query
            .read()
            .get("problem")
            .and_then(|code| Problem::from_code(&code))
    };
    let next = move || query.read().get("next").unwrap_or_default();
    let signed_out = move || query.read().get("signed_out").is_some();
    view! {
        <Title text="Sign in" />
        <section class="narrow card">
            <h1>"Sign in"</h1>
            {move || signed_out().then(|| view! { <p class="notice" role="status">"You are signed out."</p> })}
            {move || problem().map(|problem| view! { <p class="error" role="alert">{problem.message()}</p> })}
            <form method="post" action="/rpc/sign_in" class="stacked">
                <input type="hidden" name="next" value=next />
                <label>
                    "Email"
                    <input type="email" name="email" autocomplete="username" required autofocus />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <button type="submit">"Sign in"</button>
            </form>
            <p class="hint">
                "No account yet? An admin adds people on the Users page. On a new installation, "
                "create the first admin with " <code>"finishline create-admin --email you@example.com"</code> "."
            </p>
        </section>
    }
}
