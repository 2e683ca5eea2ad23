//! The frame around every page: header with the role's navigation and the account menu, main
//! content, footer.

use crate::api::account::{get_stale_notice, get_viewer};
use crate::views::access::Viewer;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    let stale = Resource::new(|| (), |_| get_stale_notice());
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "Finishline"
            </a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    viewer.await.ok().flatten().map(|viewer| view! { <SignedInBar viewer /> })
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
fn SignedInBar(viewer: Viewer) -> impl IntoView {
    let location = use_location();
    let items = viewer.navigation();
    view! {
        <nav aria-label="Main">
            {items
                .into_iter()
                .map(|item| {
                    let current = move || (location.pathname.get() == item.href).then_some("page");
                    view! { <a href=item.href aria-current=current>{item.label}</a> }
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
    }
}
