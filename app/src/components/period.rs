//! The period a finance page covers, kept in its address so a view can be shared: the last 7,
//! 30 or 90 days, or a custom range of dates.

use crate::components::forms::DayInput;
use crate::views::overview::PERIODS;
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

/// The period in the address: `days`, or a custom `from`/`to` range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub days: i64,
    pub from: String,
    pub to: String,
}

impl Period {
    /// Reads `days`, `from` and `to`; anything but an offered number of days is 30.
    pub fn from_query(query: &ParamsMap) -> Period {
        Period {
            days: query
                .get("days")
                .and_then(|d| d.parse::<i64>().ok())
                .filter(|d| PERIODS.contains(d))
                .unwrap_or(30),
            from: query.get("from").unwrap_or_default().trim().to_owned(),
            to: query.get("to").unwrap_or_default().trim().to_owned(),
        }
    }

    pub fn is_custom(&self) -> bool {
        !self.from.is_empty() || !self.to.is_empty()
    }

    /// The arguments of a server function that takes a period.
    pub fn args(self) -> (i64, Option<String>, Option<String>) {
        match self.is_custom() {
            true => (self.days, Some(self.from), Some(self.to)),
            false => (self.days, None, None),
        }
    }

    /// The period as an address query, for links and exports.
    pub fn query(&self) -> String {
        match self.is_custom() {
            true => format!("from={}&to={}", self.from, self.to),
            false => format!("days={}", self.days),
        }
    }
}

/// Links to the offered periods and a form for a custom range, on the page at `base`.
#[component]
pub fn PeriodPicker(base: &'static str, current: Signal<Period>) -> impl IntoView {
    view! {
        <div class="periods">
            <nav class="period-picker" aria-label="Period">
                {PERIODS
                    .iter()
                    .map(|days| {
                        let days = *days;
                        view! {
                            <a
                                href=format!("{base}?days={days}")
                                aria-current=move || {
                                    let p = current.get();
                                    (!p.is_custom() && p.days == days).then_some("page")
                                }
                            >
                                {if days == 1 { "1 day".to_owned() } else { format!("{days} days") }}
                            </a>
                        }
                    })
                    .collect_view()}
            </nav>
            <form method="get" action=base class="custom-period" aria-label="Custom period">
                <label>"From" <DayInput name="from" value=Signal::derive(move || current.get().from) /></label>
                <label>"To" <DayInput name="to" value=Signal::derive(move || current.get().to) /></label>
                <button type="submit" class="secondary">"Show"</button>
            </form>
        </div>
    }
}
