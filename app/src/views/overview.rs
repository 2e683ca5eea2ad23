//! What the finance overview shows: the figures and each workflow's gate.

use crate::report::Overview;
use serde::{Deserialize, Serialize};

/// A workflow's autonomy gate as last recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateState {
    pub workflow_id: i64,
    pub passes: bool,
    /// When it was judged (the server records it daily and with every level change).
    pub evaluated: String,
}

/// The overview's figures and each workflow's last gate evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewPage {
    pub overview: Overview,
    pub gates: Vec<GateState>,
    /// How much of each imported provider bill of the period CPST covers, one sentence per
    /// provider and month (admins and finance only).
    pub bill_coverage: Vec<String>,
}

/// Rolling periods the overview and the models page offer, in days, each ending today: the
/// last day (today so far), week, month and quarter.
pub const PERIODS: [i64; 4] = [1, 7, 30, 90];
