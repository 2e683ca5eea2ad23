//! API keys for the systems that send data: admins see every key, owners their teams' keys.

use crate::api::keys::{CreateApiKey, RevokeApiKey, list_api_keys};
use crate::components::forms::{
    ActionError, ActionOutcome, OneTimeSecretBox, error_text, reset_on_success,
};
use crate::domain::time::format_instant;
use crate::views::keys::KeyRow;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn KeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    view! {
        <Title text="API keys" />
        <h1>"API keys"</h1>
        <p class="lede">
            "Gateways and agents send tasks, calls and outcomes with "
            <code>"Authorization: Bearer <key>"</code>
            ". A key limited to teams or workflows cannot read or write anything else."
        </p>
        <ActionOutcome action=revoke done="Key revoked: it is refused from now on." />
        <Suspense fallback=|| view! { <p class="loading">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match keys.await {
                    Ok(view_) => view! {
                        {if view_.keys.is_empty() {
                            view! { <p class="empty">"No keys yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="figures">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Key starts with"</th>
                                            <th scope="col">"May send for"</th>
                                            <th scope="col">"Created"</th>
                                            <th scope="col">"Status"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {view_.keys.into_iter().map(|key| view! { <KeyLine key revoke /> }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        <section class="card narrow" aria-labelledby="new-key">
                            <h2 id="new-key">"New key"</h2>
                            {move || create.value().get().and_then(Result::ok).map(|issued| view! {
                                <OneTimeSecretBox label=format!("Key \u{201c}{}\u{201d}", issued.name) secret=issued.secret />
                            })}
                            <ActionError action=create />
                            <ActionForm action=create node_ref=reset_on_success(create) attr:class="stacked">
                                <label>"Name" <input type="text" name="name" required maxlength="100" placeholder="e.g. support gateway" /></label>
                                <fieldset>
                                    <legend>"May send for"</legend>
                                    {view_.may_create_unscoped.then(|| view! {
                                        <label class="check">
                                            <input type="checkbox" name="scopes[]" value="all" />
                                            "All workflows, now and future"
                                        </label>
                                    })}
                                    {view_.scope_options.into_iter().map(|option| view! {
                                        <label class="check">
                                            <input type="checkbox" name="scopes[]" value=option.value />
                                            {option.label}
                                        </label>
                                    }).collect_view()}
                                    <p class="hint">
                                        {if view_.may_create_unscoped {
                                            "Tick the teams or workflows this key may send for, or all workflows."
                                        } else {
                                            "Tick at least one of your teams or workflows."
                                        }}
                                    </p>
                                </fieldset>
                                <button type="submit">"Create key"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn KeyLine(key: KeyRow, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let KeyRow {
        id: key_id,
        name,
        prefix,
        scopes,
        created_at,
        revoked_at,
    } = key;
    let shown = format!("{prefix}…");
    view! {
        <tr data-key=prefix>
            <th scope="row">{name}</th>
            <td><code>{shown}</code></td>
            <td>{scopes.join(", ")}</td>
            <td>{format_instant(created_at)}</td>
            <td>
                {match revoked_at {
                    Some(at) => view! { <span class="muted">{format!("Revoked {}", format_instant(at))}</span> }.into_any(),
                    None => view! {
                        <ActionForm action=revoke attr:class="inline">
                            <input type="hidden" name="key_id" value=key_id.to_string() />
                            <button type="submit" class="secondary">"Revoke"</button>
                        </ActionForm>
                    }.into_any(),
                }}
            </td>
        </tr>
    }
}
