//! The audit log: every change to what the numbers depend on, newest first.

use crate::api::audit::list_audit;
use crate::components::forms::error_text;
use crate::domain::time::format_instant;
use crate::model::AuditEntry;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let page = Resource::new(before, list_audit);
    view! {
        <Title text="Audit log" />
        <h1>"Audit log"</h1>
        <p class="lede">"Who changed what the figures depend on, when, and from what to what. Entries are never edited or removed."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading entries…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.entries.is_empty() => view! { <p class="empty">"Nothing has been changed yet."</p> }.into_any(),
                    Ok(page) => view! {
                        <table class="figures audit">
                            <thead>
                                <tr>
                                    <th scope="col">"When (UTC)"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"What"</th>
                                    <th scope="col">"Before"</th>
                                    <th scope="col">"After"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.entries.into_iter().map(|entry| view! { <EntryLine entry /> }).collect_view()}
                            </tbody>
                        </table>
                        {page.older.map(|id| view! { <p><a href=format!("/audit?before={id}")>"Older entries"</a></p> })}
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{error_text(&err)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EntryLine(entry: AuditEntry) -> impl IntoView {
    view! {
        <tr>
            <td class="nowrap">{format_instant(entry.at)}</td>
            <td>{entry.actor}</td>
            <td><code>{entry.action}</code>" "{entry.entity}" "{entry.entity_id}</td>
            <td class="change">{entry.before.unwrap_or_default()}</td>
            <td class="change">{entry.after.unwrap_or_default()}</td>
        </tr>
    }
}
