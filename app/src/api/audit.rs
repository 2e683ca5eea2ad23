//! The audit log, newest first: admins read all of it, owners the entries about their teams.

use crate::error::AppError;
use crate::views::audit::AuditPage;
#[cfg(feature = "ssr")]
use crate::views::audit::PAGE;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "list_audit")]
pub async fn list_audit(before: Option<i64>) -> Result<AuditPage, AppError> {
    use crate::api::context::*;
    use crate::domain::status::Role;

    let viewer = viewer_who(|v| v.reads_audit(), "the audit log")?;
    let member = (viewer.role != Role::Admin).then_some(viewer.user_id);
    let mut entries = crate::db::audit::page(&db()?, member, before, PAGE + 1).await?;
    let older = (entries.len() as i64 > PAGE).then(|| {
        entries.truncate(PAGE as usize);
        entries.last().map(|e| e.id).unwrap_or_default()
    });
    Ok(AuditPage { entries, older })
}
