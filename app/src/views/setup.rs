//! The first-run checklist: what a new installation still needs before its first figure.

use serde::{Deserialize, Serialize};

/// One step, ticked off by the data itself (not by a click).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStep {
    /// `team`, `workflow`, `rule`, `key`, `batch`: the test hooks and the anchors.
    pub key: String,
    pub title: String,
    pub done: bool,
    /// Where the step is done.
    pub href: String,
    pub hint: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupChecklist {
    pub steps: Vec<SetupStep>,
    /// This server's address as the reader reached it, for the snippets.
    pub origin: String,
    /// The first batch as `curl`, and OpenTelemetry's exporter settings, for the installation's
    /// first workflow and task type; both read the key from `$FINISHLINE_KEY`.
    pub curl: String,
    pub otel: String,
}
