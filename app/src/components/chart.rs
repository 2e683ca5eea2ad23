//! Line charts drawn by ECharts in the browser (through `charming`), from series the server
//! computed. The server renders an empty, labelled box; the table beside every chart holds the
//! same numbers, so nothing is lost without JavaScript. No tooltip: ECharts' HTML tooltip
//! writes inline styles, which the content security policy refuses.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One chart: a category axis and one or more named series (a gap where a value is `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineChart {
    /// The element id, unique on the page.
    pub id: String,
    /// What the chart shows, for screen readers.
    pub label: String,
    pub x: Vec<String>,
    pub y_name: String,
    pub series: Vec<(String, Vec<Option<f64>>)>,
}

impl LineChart {
    /// The ECharts options for this chart.
    pub fn options(&self) -> charming::Chart {
        use charming::component::{Axis, Grid, Legend};
        use charming::element::AxisType;
        use charming::series::Line;

        let mut chart = charming::Chart::new()
            .legend(Legend::new())
            .grid(Grid::new().left("8%").right("4%").bottom("12%"))
            .x_axis(Axis::new().type_(AxisType::Category).data(self.x.clone()))
            .y_axis(Axis::new().type_(AxisType::Value).name(self.y_name.clone()));
        for (name, values) in &self.series {
            chart = chart.series(Line::new().name(name.clone()).data(values.clone()));
        }
        chart
    }
}

#[component]
pub fn Chart(chart: LineChart) -> impl IntoView {
    let id = chart.id.clone();
    let label = chart.label.clone();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let renderer = charming::WasmRenderer::new_opt(None, Some(280));
        if let Err(err) = renderer.render(&chart.id, &chart.options()) {
            leptos::logging::warn!("chart {} could not be drawn: {err}", chart.id);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = &chart;
    view! { <div id=id class="chart" role="img" aria-label=label></div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_carry_every_series_with_gaps() {
        let chart = LineChart {
            id: "cpst".into(),
            label: "CPST by week".into(),
            x: vec!["Week 1".into(), "Week 2".into()],
            y_name: "$".into(),
            series: vec![
                ("CPST".into(), vec![Some(2.5), None]),
                ("Budget".into(), vec![Some(3.0), Some(3.0)]),
            ],
        };
        let options = serde_json::to_value(chart.options()).unwrap();
        assert_eq!(
            options["xAxis"]["data"],
            serde_json::json!(["Week 1", "Week 2"])
        );
        assert_eq!(options["series"][0]["name"], "CPST");
        assert_eq!(options["series"][0]["data"][0], 2.5);
        assert_eq!(
            options["series"][0]["data"][1],
            serde_json::Value::Null,
            "a gap"
        );
        assert_eq!(options["series"][1]["data"][1], 3.0);
    }
}
