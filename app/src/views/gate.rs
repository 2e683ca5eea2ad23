//! What the autonomy gate page shows: the verdicts, their history and the level's changes.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRow {
    pub day: String,
    pub window: String,
    pub decided: i64,
    pub succeeded: i64,
    pub cpst: String,
    pub quality_proven: bool,
    pub cost_proven: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelChange {
    pub when: String,
    pub from: i64,
    pub to: i64,
    pub by: String,
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateView {
    pub workflow_id: i64,
    pub slug: String,
    pub name: String,
    pub window: String,
    pub passes: bool,
    pub quality_proven: bool,
    pub cost_proven: bool,
    pub quality_evidence: String,
    pub cost_evidence: String,
    pub level: i64,
    /// Every level with what it means.
    pub levels: Vec<(i64, String)>,
    pub may_change: bool,
    pub history: Vec<GateRow>,
    pub changes: Vec<LevelChange>,
}
