//! Pieces the forms of several pages share.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The sentence of a failed server call, fit for the page. Rendered on the server, it also
/// gives the page the error's status (see [`crate::error::AppError::status`]).
pub fn error_text(err: &AppError) -> String {
    #[cfg(feature = "ssr")]
    crate::error::answer_with(err);
    err.to_string()
}

/// The error of an action's last run, if it failed.
#[component]
pub fn ActionError<S>(action: ServerAction<S>) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
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
