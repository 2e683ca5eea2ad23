//! The audit log page: entries in words, filtered by who, what and when, newest first.

use crate::views::choice::Choice;
use serde::{Deserialize, Serialize};

/// Entries per page.
pub const PAGE: i64 = 100;

/// The filters of the audit log, as the address carries them (every one optional).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Who made the change, as the log names them.
    pub actor: String,
    /// An action code such as `workflow.update`, or a family such as `workflow`.
    pub action: String,
    /// The first and last day (UTC, `YYYY-MM-DD`).
    pub from: String,
    pub to: String,
    /// Entries older than this entry id (the next page).
    pub before: String,
}

impl AuditQuery {
    pub const FIELDS: [&'static str; 5] = ["actor", "action", "from", "to", "before"];

    pub fn from_pairs<'a>(get: impl Fn(&str) -> Option<String> + 'a) -> AuditQuery {
        let field = |name: &str| get(name).unwrap_or_default();
        AuditQuery {
            actor: field("actor"),
            action: field("action"),
            from: field("from"),
            to: field("to"),
            before: field("before"),
        }
    }

    /// The non-empty filters as a query string, with `before` replaced.
    pub fn to_query(&self, before: Option<i64>) -> String {
        let before = before.map(|id| id.to_string()).unwrap_or_default();
        [
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("before", before.as_str()),
        ]
        .iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(name, value)| {
            format!(
                "{name}={}",
                crate::views::format::encode_query_value(value.trim())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// One field a change touched: its label, and its value before and after in words (empty
/// where it had none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One entry, readable: when, who, a sentence saying what, and each field's before → after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub id: i64,
    /// `YYYY-MM-DD HH:MM` (UTC).
    pub at: String,
    pub actor: String,
    /// The action's code (`workflow.update`), for filtering and the export.
    pub action: String,
    /// "Changed the settings of workflow “Invoice clearing”".
    pub what: String,
    pub changes: Vec<FieldChange>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    /// Pass as `before` for the next (older) page, if there is one.
    pub older: Option<i64>,
    /// The filters as read.
    pub query: AuditQuery,
    /// The people and actions the filters offer: those in the entries the reader may see.
    pub actors: Vec<Choice>,
    pub actions: Vec<Choice>,
}
