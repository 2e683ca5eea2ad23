//! The first-run checklist for admins of an installation that has no figures yet.

use crate::error::AppError;
use crate::views::setup::SetupChecklist;
use leptos::prelude::*;

/// The checklist, or nothing for a reader who is not an admin or once every step is done.
#[server(prefix = "/rpc", endpoint = "get_setup")]
pub async fn get_setup() -> Result<Option<SetupChecklist>, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|_| true, "the overview")?;
    let now = crate::db::now_ms();
    crate::service::setup::checklist(&db()?, &viewer, &site_origin(), now).await
}
