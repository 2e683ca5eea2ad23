//! What the users page shows, and a one-time password.

use crate::domain::status::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_ids: Vec<i64>,
    pub can_edit_costs: bool,
    pub is_demo: bool,
    pub disabled: bool,
    pub must_change_password: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamOption {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersView {
    pub users: Vec<UserRow>,
    pub teams: Vec<TeamOption>,
}

/// A generated password, shown to the admin once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeSecret {
    pub email: String,
    pub password: String,
}
