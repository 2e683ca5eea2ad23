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

/// A filter's select list: "any", then `options`, with `current` chosen.
pub fn choices(
    name: &'static str,
    label: &'static str,
    options: Vec<crate::views::choice::Choice>,
    current: String,
) -> impl IntoView {
    view! {
        <label>{label}
            <select name=name>
                <option value="">"any"</option>
                {options.into_iter().map(|o| {
                    let selected = o.value == current;
                    view! { <option value=o.value selected=selected>{o.label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// A day typed as `YYYY-MM-DD` (UTC), the one date format of every page, export and API:
/// the browser's own date picker would show the reader's locale format beside ISO days.
#[component]
pub fn DayInput(
    name: &'static str,
    #[prop(into, optional)] value: Signal<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] id: Option<String>,
) -> impl IntoView {
    view! {
        <input
            type="text"
            id=id
            name=name
            value=value
            required=required
            inputmode="numeric"
            maxlength="10"
            size="10"
            autocomplete="off"
            placeholder="YYYY-MM-DD"
            pattern="\\d{4}-\\d{2}-\\d{2}"
            title="A day as YYYY-MM-DD, for example 2026-12-01"
        />
    }
}

/// How a form's last save ended: the error naming the field, or `done` confirming it, so that
/// every save is seen to finish.
#[component]
pub fn ActionOutcome<S>(action: ServerAction<S>, done: &'static str) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || match action.value().get() {
        Some(Ok(_)) => Some(view! { <p class="ok" role="status">{done}</p> }.into_any()),
        Some(Err(err)) => {
            Some(view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any())
        }
        None => None,
    }
}

/// A form that empties itself once `action` succeeds, for forms that create something: a
/// second press cannot create it twice. Pass the result as the `ActionForm`'s `node_ref`.
pub fn reset_on_success<S>(action: ServerAction<S>) -> NodeRef<leptos::html::Form>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_)))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
    form
}

/// A secret shown once: a generated password or an API key, with a button that copies it.
#[component]
pub fn OneTimeSecretBox(label: String, secret: String) -> impl IntoView {
    view! {
        <div class="secret" role="status">
            <p><strong>{label}</strong></p>
            <p class="secret-line">
                <code class="secret-value">{secret.clone()}</code>
                <CopyButton text=Signal::stored(secret) />
            </p>
            <p class="hint">"Copy it now: Finishline keeps only a hash and cannot show it again."</p>
        </div>
    }
}

/// "Copy", which puts `text` on the clipboard and then reads "Copied".
#[component]
pub fn CopyButton(#[prop(into)] text: Signal<String>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        copied.set(copy_to_clipboard(&text.get_untracked()));
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    };
    view! {
        <button type="button" class="secondary copy" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// Hands `text` to the browser's clipboard; whether the browser offers one.
#[cfg(feature = "hydrate")]
fn copy_to_clipboard(text: &str) -> bool {
    use wasm_bindgen::JsCast;
    let navigator = js_sys::Reflect::get(&window(), &"navigator".into()).ok();
    let clipboard = navigator
        .and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok())
        .filter(|c| !c.is_undefined());
    let write = clipboard.as_ref().and_then(|c| {
        js_sys::Reflect::get(c, &"writeText".into())
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()
    });
    match (clipboard, write) {
        (Some(clipboard), Some(write)) => write.call1(&clipboard, &text.into()).is_ok(),
        _ => false,
    }
}
