//! The audit log page: one page of entries, newest first.

use crate::model::AuditEntry;
use serde::{Deserialize, Serialize};

/// Entries per page.
pub const PAGE: i64 = 100;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page, if there is one.
    pub older: Option<i64>,
}
