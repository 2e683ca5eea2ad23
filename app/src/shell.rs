//! The HTML document and the route table.

use crate::components::layout::Layout;
use crate::pages::account::AccountPage;
use crate::pages::alerts::AlertsPage;
use crate::pages::audit::AuditPage;
use crate::pages::compare::ComparePage;
use crate::pages::costs::CostsPage;
use crate::pages::gate::GatePage;
use crate::pages::home::HomePage;
use crate::pages::keys::KeysPage;
use crate::pages::models::ModelsPage;
use crate::pages::not_found::NotFound;
use crate::pages::prices::PricesPage;
use crate::pages::reconcile::ReconciliationPage;
use crate::pages::review::ReviewPage;
use crate::pages::rule_editor::RuleEditorPage;
use crate::pages::sign_in::SignInPage;
use crate::pages::task::TaskPage;
use crate::pages::tasks::TasksPage;
use crate::pages::users::UsersPage;
use crate::pages::whatif::WhatIfPage;
use crate::pages::workflows::{WorkflowPage, WorkflowsPage};
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The document every page is rendered into on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // ECharts defines the global the charts' renderer calls; from this site, so the
                // content security policy's 'self' admits it.
                <script src="/vendor/echarts.min.js" defer></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Tells people and tests that the page is interactive, not only server-rendered.
    #[cfg(feature = "hydrate")]
    Effect::new(|| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="finishline" href="/pkg/finishline.css" />
        // The one formatter every page's title goes through: it escapes what the server writes.
        <Title formatter=crate::components::markup::document_title />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/costs") view=CostsPage ssr=SsrMode::Async />
                    <Route path=path!("/keys") view=KeysPage ssr=SsrMode::Async />
                    <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async />
                    <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("/alerts") view=AlertsPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows") view=WorkflowsPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/:slug") view=WorkflowPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/:slug/rules/:task_type") view=RuleEditorPage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/:slug/gate") view=GatePage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/:slug/compare") view=ComparePage ssr=SsrMode::Async />
                    <Route path=path!("/workflows/:slug/what-if") view=WhatIfPage ssr=SsrMode::Async />
                    <Route path=path!("/review") view=ReviewPage ssr=SsrMode::Async />
                    <Route path=path!("/prices") view=PricesPage ssr=SsrMode::Async />
                    <Route path=path!("/reconciliation") view=ReconciliationPage ssr=SsrMode::Async />
                    <Route path=path!("/tasks") view=TasksPage ssr=SsrMode::Async />
                    <Route path=path!("/tasks/:id") view=TaskPage ssr=SsrMode::Async />
                    <Route path=path!("/models") view=ModelsPage ssr=SsrMode::Async />
                </Routes>
            </Layout>
        </Router>
    }
}
