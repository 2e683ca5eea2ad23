//! The audit log, newest first: admins read all of it, owners the entries about their teams.

use crate::error::AppError;
use crate::views::audit::AuditPage;
#[cfg(feature = "ssr")]
use crate::views::audit::AuditQuery;
use leptos::prelude::*;

/// One page of the log with the page's filters, each optional (see [`AuditQuery`]).
#[server(prefix = "/rpc", endpoint = "list_audit")]
pub async fn list_audit(
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
) -> Result<AuditPage, AppError> {
    use crate::api::context::*;

    let viewer = viewer_who(|v| v.reads_audit(), "the audit log")?;
    let query = AuditQuery {
        actor: actor.unwrap_or_default(),
        action: action.unwrap_or_default(),
        from: from.unwrap_or_default(),
        to: to.unwrap_or_default(),
        before: before.unwrap_or_default(),
    };
    crate::service::audit::audit_page(&db()?, &viewer, &query).await
}
