//! What the reconciliation page and the overview's coverage line show.

use serde::{Deserialize, Serialize};

/// Each provider's bill against the calls, over the chosen period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSummary {
    pub provider: String,
    pub billed: String,
    pub seen: String,
    /// The share of the billed cost the calls cover ("93.1%"), or "–" when nothing was billed.
    pub coverage: String,
    /// Billed spend no call explains.
    pub unattributed: String,
    pub lines: usize,
    pub reconciled: usize,
}

/// One provider, model and period compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationLine {
    pub provider: String,
    /// The model as the bill names it, or "Other models" for calls of models the bill does
    /// not itemise and lines that name none.
    pub model: String,
    /// The day (`2026-11-03`) or month (`November 2026`).
    pub period: String,
    pub billed: String,
    pub seen: String,
    pub difference: String,
    /// The difference as a share of the billed cost, or "–" when nothing was billed.
    pub difference_share: String,
    pub reconciled: bool,
    /// `reconciled`, `unattributed spend`, `price mismatch`...
    pub cause: String,
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationView {
    pub first_day: String,
    pub last_day: String,
    pub by_month: bool,
    /// The threshold as typed ("2"), and in words ("2%").
    pub threshold: String,
    pub threshold_words: String,
    pub allocate_unattributed: bool,
    pub may_edit: bool,
    pub providers: Vec<ProviderSummary>,
    pub lines: Vec<ReconciliationLine>,
    /// The days any imported bill covers ("2026-09-01 to 2026-11-30"), or empty when none.
    pub billed_days: String,
}
