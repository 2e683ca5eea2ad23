//! What the API keys page shows, and a newly issued key (shown once).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, to recognise it; the rest is never stored.
    pub prefix: String,
    /// What the key may write and read, in words.
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A team or workflow a new key may be limited to: `team:<id>` or `workflow:<id>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeOption {
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysView {
    pub keys: Vec<KeyRow>,
    pub scope_options: Vec<ScopeOption>,
    /// Only admins may make a key that sees every workflow.
    pub may_create_unscoped: bool,
}

/// A key just made: the secret is in this answer and nowhere else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedKeyView {
    pub name: String,
    pub prefix: String,
    pub secret: String,
}
