//! Pieces the forms of several pages share.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The message of a failed server call, fit for the page.
pub fn error_text(err: &ServerFnError) -> String {
    match err {
        ServerFnError::ServerError(message) => message.clone(),
        _ => {
            "The request did not reach the server. Check your connection and try again.".to_owned()
        }
    }
}

/// The error of an action's last run, if it failed.
#[component]
pub fn ActionError<S>(action: ServerAction<S>) -> impl IntoView
where
    S: ServerFn<Error = ServerFnError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|err| view! { <p class="error" role="alert">{error_text(&err)}</p> })
    }
}

/// A secret shown once: a generated password or an API key.
#[component]
pub fn OneTimeSecretBox(label: String, secret: String) -> impl IntoView {
    view! {
        <div class="secret" role="status">
            <p><strong>{label}</strong></p>
            <code class="secret-value">{secret}</code>
            <p class="hint">"Copy it now: Finishline keeps only a hash and cannot show it again."</p>
        </div>
    }
}
