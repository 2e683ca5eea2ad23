//! The what-if page: projections from a workflow's own evidence, read by everyone who reads its
//! financial figures, who may also save them as named scenarios.

use crate::error::AppError;
use crate::views::whatif::{WhatIfForm, WhatIfView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "get_what_if")]
pub async fn get_what_if(slug: String, form: WhatIfForm) -> Result<WhatIfView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    crate::service::whatif::page(&db()?, &viewer, &slug, &form, crate::db::now_ms()).await
}

/// Saves a projection under a name; the server projects it again rather than trusting figures
/// sent by the page.
#[server(prefix = "/rpc", endpoint = "save_what_if")]
pub async fn save_what_if(slug: String, name: String, form: WhatIfForm) -> Result<i64, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    crate::service::whatif::save(&db()?, &viewer, &slug, &name, &form, crate::db::now_ms()).await
}
