//! The frame around every page: header, navigation, main content.

use leptos::prelude::*;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "Finishline"
            </a>
            <nav aria-label="Main">
                <a href="/">"Overview"</a>
            </nav>
        </header>
        <main id="main">{children()}</main>
        <footer class="site-footer">
            "Cost per successful task: every attempt in the numerator, only tasks that met their success rule in the denominator."
        </footer>
    }
}
