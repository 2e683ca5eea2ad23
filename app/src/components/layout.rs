//! The frame around every page: header with the role's navigation and the account menu, main
//! content, footer.

use crate::api::account::{get_header, get_stale_notice};
use crate::views::access::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let header = Resource::new(|| (), |_| get_header());
    let stale = Resource::new(|| (), |_| get_stale_notice());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <Suspense fallback=|| view! { <Brand home="/" /> }>
                {move || Suspend::new(async move {
                    match header.await.ok().flatten() {
                        // The logo leads to the role's first page, never to one it may not read.
                        Some(header) => view! { <Brand home=header.viewer.landing() /> <SignedInBar viewer=header.viewer open_alerts=header.open_alerts /> }.into_any(),
                        None => view! { <Brand home="/" /> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                stale.await.ok().flatten().map(|notice| view! {
                    <p class="stale-banner" role="alert">
                        <strong>"Figures may be stale. "</strong>
                        {format!(
                            "New cost and outcome data has not been stored since {}: {}. Senders are told to retry, so nothing is lost once the database takes writes again.",
                            notice.since, notice.reason,
                        )}
                    </p>
                })
            })}
        </Suspense>
        <main id="main">{children()}</main>
        <footer class="site-footer">
            "Cost per successful task: every attempt in the numerator, only tasks that met their success rule in the denominator."
        </footer>
    }
}

#[component]
fn Brand(home: &'static str) -> impl IntoView {
    view! {
        <a class="brand" href=home>
            <span class="brand-mark" aria-hidden="true">"◆"</span>
            "Finishline"
        </a>
    }
}

/// The role's navigation and the account menu. Below the width where they fit in one row (which
/// depends on how many pages the role has) they fold into a menu; its button is a checkbox and
/// its label, so it works before the page's script has loaded and without it.
#[component]
fn SignedInBar(viewer: Viewer, open_alerts: i64) -> impl IntoView {
    let location = use_location();
    let items = viewer.navigation();
    // The folded menu closes whenever the page changes.
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        open.set(false);
    });
    let length = match items.len() {
        0..=4 => "short",
        5..=8 => "medium",
        _ => "long",
    };
    view! {
        <div class=format!("header-bar {length}")>
        <input type="checkbox" id="menu-toggle" class="menu-toggle"
            prop:checked=move || open.get() on:change=move |ev| open.set(event_target_checked(&ev)) />
        <label for="menu-toggle" class="menu-button">"Menu"</label>
        <nav aria-label="Main">
            {items
                .into_iter()
                .map(|item| {
                    let current = move || (location.pathname.get() == item.href).then_some("page");
                    let count = (item.href == crate::views::access::ALERTS.href && open_alerts > 0).then(|| view! {
                        " " <span class="nav-count" title="Open alerts">{open_alerts}<span class="visually-hidden">" open"</span></span>
                    });
                    view! { <a href=item.href aria-current=current>{item.label}{count}</a> }
                })
                .collect_view()}
        </nav>
        <div class="account-menu">
            <span class="who">
                {viewer.name.clone()}
                <span class="role">{viewer.role.as_str()}</span>
                {viewer.is_demo.then(|| view! { <span class="demo-badge" title="A demo account: its password is public">"demo"</span> })}
            </span>
            <form method="post" action="/rpc/sign_out">
                <button type="submit" class="link-button">"Sign out"</button>
            </form>
        </div>
        </div>
    }
}
