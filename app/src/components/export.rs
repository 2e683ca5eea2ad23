//! The link under every table that downloads its rows as CSV, with exact figures.

use leptos::prelude::*;

/// "Download CSV" for one table: `href` is the table's export with the page's filters.
#[component]
pub fn CsvLink(href: String, what: &'static str) -> impl IntoView {
    view! {
        <a class="csv" href=href download aria-label=format!("Download {what} as CSV")>"CSV"</a>
    }
}
