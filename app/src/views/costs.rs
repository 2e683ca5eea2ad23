//! What the costs and prices pages show: teams and labour rates, platform costs, prices.

use crate::views::choice::Choice;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// Loaded cost of an hour of the team's review, formatted.
    pub labour_rate: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformRow {
    pub id: i64,
    pub name: String,
    pub applies_to: String,
    pub monthly: String,
    pub from_day: String,
    /// The last day it applies, if it ends.
    pub last_day: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostsView {
    pub teams: Vec<TeamRow>,
    pub platform_costs: Vec<PlatformRow>,
    /// Where a new platform cost may apply: `team:<id>` or `workflow:<id>`.
    pub targets: Vec<Choice>,
    pub may_edit_costs: bool,
    pub may_create_teams: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRow {
    pub provider: String,
    pub model: String,
    /// Dollars per million tokens: input, output, cache read, cache write, reasoning.
    pub rates: [String; 5],
    /// Audio and image input rates where the price has its own ("audio $40"), else empty.
    pub modalities: String,
    pub from_day: String,
    /// The last day it applies, if it ends.
    pub last_day: Option<String>,
    pub source: String,
    pub checked_on: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricesView {
    pub prices: Vec<PriceRow>,
    pub may_edit: bool,
}
