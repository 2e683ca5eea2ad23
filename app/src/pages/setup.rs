//! The first-run checklist on an admin's overview: five steps to a first figure, each ticked
//! off by the data, with a key made in place and a first batch to paste into a terminal.

use crate::api::keys::CreateApiKey;
use crate::api::setup::get_setup;
use crate::components::forms::{ActionError, CopyButton, OneTimeSecretBox};
use crate::views::setup::SetupChecklist;
use leptos::prelude::*;

/// Nothing once every step is done (the service then answers none), or for anyone but an admin.
#[component]
pub fn SetupPanel() -> impl IntoView {
    let make_key = ServerAction::<CreateApiKey>::new();
    let setup = Resource::new(move || make_key.version().get(), |_| get_setup());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(Some(list)) => view! { <Checklist list make_key /> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Checklist(list: SetupChecklist, make_key: ServerAction<CreateApiKey>) -> impl IntoView {
    let key_done = list.steps.iter().any(|s| s.key == "key" && s.done);
    // The address the reader's browser used, once it runs: the server only knows the Host.
    let origin = RwSignal::new(list.origin.clone());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Ok(here) = window().location().origin() {
            origin.set(here);
        }
    });
    let secret = move || {
        make_key
            .value()
            .get()
            .and_then(Result::ok)
            .map(|k| k.secret)
    };
    let key_line = move || match secret() {
        Some(secret) => format!("export FINISHLINE_KEY={secret}\n"),
        None => "export FINISHLINE_KEY=<paste your API key here>\n".to_owned(),
    };
    let (curl, otel, server_origin) = (list.curl.clone(), list.otel.clone(), list.origin.clone());
    let from_here = move |text: &str| text.replace(&server_origin, &origin.get());
    let from_here_too = from_here.clone();
    let curl_text = Signal::derive(move || format!("{}{}", key_line(), from_here(&curl)));
    let otel_text = Signal::derive(move || format!("{}{}", key_line(), from_here_too(&otel)));
    view! {
        <section class="card setup" aria-labelledby="setup">
            <h2 id="setup">"Getting started"</h2>
            <p>"Five steps to the first cost per successful task. Each ticks itself off when it is done."</p>
            <ol class="checklist">
                {list.steps.into_iter().map(|step| view! {
                    <li class:done=step.done data-step=step.key.clone()>
                        <span class="tick" aria-hidden="true">{if step.done { "✓" } else { "" }}</span>
                        <span>
                            <a href=step.href>{step.title}</a>
                            <span class="visually-hidden">{if step.done { " (done)" } else { " (to do)" }}</span>
                            <span class="hint">{step.hint}</span>
                        </span>
                    </li>
                }).collect_view()}
            </ol>
            <div id="first-key">
                {move || make_key.value().get().and_then(Result::ok).map(|issued| view! {
                    <OneTimeSecretBox label=format!("Key \u{201c}{}\u{201d}", issued.name) secret=issued.secret />
                })}
                <ActionError action=make_key />
                {(!key_done).then(|| view! {
                    <ActionForm action=make_key attr:class="inline">
                        <input type="hidden" name="name" value="first batch" />
                        <input type="hidden" name="scopes[]" value="all" />
                        <button type="submit">"Make a key for all workflows"</button>
                    </ActionForm>
                })}
            </div>
            <div id="first-batch">
                <h3>"The first batch"</h3>
                <p class="hint">"Paste into a terminal: one task, its attempt and a model call. Your own systems send the same shape (the API is described in "<a href="/api/v1/openapi.json">"its OpenAPI document"</a>")."</p>
                <pre class="code snippet"><code>{curl_text}</code></pre>
                <CopyButton text=curl_text />
                <h3>"Or from OpenTelemetry"</h3>
                <p class="hint">"Agents instrumented with OpenTelemetry export to Finishline with these standard settings."</p>
                <pre class="code snippet"><code>{otel_text}</code></pre>
                <CopyButton text=otel_text />
            </div>
        </section>
    }
}
