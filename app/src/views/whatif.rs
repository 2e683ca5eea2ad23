//! The what-if page: the levers a reader may move, the projection, and saved scenarios held
//! against what happened after them.

use crate::report::whatif::{Outlook, WhatIf};
use serde::{Deserialize, Serialize};

/// The levers as the form sends them: percentages as typed, routes as
/// `task_type_id:provider/model` pairs separated by `;`. Empty leaves a lever as observed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhatIfForm {
    pub routes: String,
    pub cache_share: String,
    pub input_change: String,
    pub failure_rate: String,
    pub retry_cut: String,
}

impl WhatIfForm {
    pub fn is_empty(&self) -> bool {
        [
            &self.routes,
            &self.cache_share,
            &self.input_change,
            &self.failure_rate,
            &self.retry_cut,
        ]
        .iter()
        .all(|field| field.trim().is_empty())
    }

    /// The model the form routes a task type to, if any.
    pub fn route_of(&self, task_type_id: i64) -> Option<&str> {
        self.routes.split(';').find_map(|pair| {
            let (id, model) = pair.split_once(':')?;
            (id.trim().parse::<i64>().ok()? == task_type_id).then_some(model.trim())
        })
    }
}

/// One task type, with the models that did its work and how much evidence each has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteChoice {
    pub task_type_id: i64,
    pub label: String,
    pub decided: u64,
    /// (model, decided tasks, success rate), most tasks first.
    pub models: Vec<(String, u64, Option<f64>)>,
}

/// A saved scenario: the window before it, what it projected, and what happened since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedScenario {
    pub id: i64,
    pub name: String,
    pub saved_on: String,
    pub saved_by: String,
    /// The form that made it, to run it again.
    pub form: WhatIfForm,
    pub assumptions: Vec<String>,
    /// The window the evidence came from, and its figures then.
    pub before_window: String,
    pub before: Outlook,
    pub projected: Outlook,
    /// The projection at the ends of its interval.
    pub low: Outlook,
    pub high: Outlook,
    /// The days since it was saved (through yesterday), and their figures; `None` until a
    /// whole day has passed.
    pub after_window: Option<String>,
    pub after: Option<Outlook>,
    /// The comparison page over the evidence's window against the days since, once there are
    /// any.
    pub compare: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WhatIfView {
    pub handle: String,
    pub workflow: String,
    pub from: String,
    pub to: String,
    pub choices: Vec<RouteChoice>,
    /// Today's share of input read from the cache and share of decided tasks that failed.
    pub cache_share: Option<f64>,
    pub failure_rate: Option<f64>,
    pub form: WhatIfForm,
    /// `None` until a lever is moved.
    pub result: Option<WhatIf>,
    pub saved: Vec<SavedScenario>,
    /// The minimum decided tasks a model needs on a task type to be routed to.
    pub min_evidence: u64,
}
