//! The audit log: every change to what the numbers depend on, newest first, in words, filtered
//! by who, what and when, and exported with the same filters.

use crate::api::audit::list_audit;
use crate::components::export::CsvLink;
use crate::components::forms::{DayInput, choices, error_text};
use crate::views::audit::{AuditLine, AuditPage, AuditQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_query_map();
    let query = move || AuditQuery::from_pairs(move |name| params.read().get(name));
    let page = Resource::new(query, |q| {
        list_audit(
            Some(q.actor),
            Some(q.action),
            Some(q.from),
            Some(q.to),
            Some(q.before),
        )
    });
    view! {
        <Title text="Audit log" />
        <h1>"Audit log"</h1>
        <p class="lede">"Who changed what the figures depend on, when, and from what to what. Entries are never edited or removed."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading entries…"</p> }>
            {move || Suspend::new(async move {
                let current = query();
                match page.await {
                    Ok(page) => view! { <Filters page=page.clone() /> <Entries page /> }.into_any(),
                    Err(err) => view! {
                        <Filters page=AuditPage { lines: vec![], older: None, query: current, actors: vec![], actions: vec![] } />
                        <p class="error" role="alert">{error_text(&err)}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Filters(page: AuditPage) -> impl IntoView {
    let query = page.query;
    view! {
        <form method="get" action="/audit" class="filters card" aria-label="Filters">
            {choices("actor", "Who", page.actors, query.actor.clone())}
            {choices("action", "What", page.actions, query.action.clone())}
            <label>"From" <DayInput name="from" value=query.from.clone() /></label>
            <label>"To" <DayInput name="to" value=query.to.clone() /></label>
            <button type="submit">"Show"</button>
        </form>
    }
}

#[component]
fn Entries(page: AuditPage) -> impl IntoView {
    let filtered = page.query != AuditQuery::default();
    if page.lines.is_empty() {
        let empty = match filtered {
            true => "No entries match these filters.",
            false => "Nothing has been changed yet.",
        };
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    let export = format!("/export/audit.csv?{}", page.query.to_query(None));
    let older = page
        .older
        .map(|id| format!("/audit?{}", page.query.to_query(Some(id))));
    view! {
        <div class="section-head">
            <h2 id="entries">"Entries"</h2>
            <CsvLink href=export what="these entries" />
        </div>
        <table class="figures audit">
            <thead>
                <tr>
                    <th scope="col">"When (UTC)"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Before → after"</th>
                </tr>
            </thead>
            <tbody>
                {page.lines.into_iter().map(|line| view! { <EntryLine line /> }).collect_view()}
            </tbody>
        </table>
        {older.map(|href| view! { <p><a href=href>"Older entries"</a></p> })}
    }
    .into_any()
}

#[component]
fn EntryLine(line: AuditLine) -> impl IntoView {
    view! {
        <tr data-action=line.action>
            <td class="nowrap">{line.at}</td>
            <td>{line.actor}</td>
            <td>{line.what}</td>
            <td>
                {(!line.changes.is_empty()).then(|| view! {
                    <dl class="changes">
                        {line.changes.into_iter().map(|c| view! {
                            <dt>{c.field}</dt>
                            <dd>
                                {(!c.before.is_empty()).then(|| view! { <del>{c.before}</del> " → " })}
                                <ins>{if c.after.is_empty() { "(none)".to_owned() } else { c.after }}</ins>
                            </dd>
                        }).collect_view()}
                    </dl>
                })}
            </td>
        </tr>
    }
}
