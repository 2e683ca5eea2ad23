//! The autonomy gate page: whether quality and cost are proven, the gate's history, the level
//! and its changes; admins and the workflow's owners change the level.

use crate::error::AppError;
use crate::views::gate::GateView;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "get_gate")]
pub async fn get_gate(slug: String) -> Result<GateView, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_finance(), "financial figures")?;
    crate::service::gate::page(&db()?, &viewer, &slug, crate::db::now_ms()).await
}

/// Raises or lowers a workflow's autonomy level; raising is refused while the gate fails.
#[server(prefix = "/rpc", endpoint = "set_autonomy_level")]
pub async fn set_autonomy_level(
    workflow_id: i64,
    level: i64,
    note: String,
) -> Result<(), AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.defines_any_success(), "changing autonomy levels")?;
    crate::service::gate::set_level(
        &db()?,
        &viewer,
        workflow_id,
        level,
        &note,
        crate::db::now_ms(),
    )
    .await
    .map(|_| ())
}
