//! Charts drawn by ECharts in the browser (through `charming`), from series the server computed.
//! The server renders an empty, labelled box; the table beside every chart holds the same
//! numbers (and exports them), so nothing is lost without JavaScript. No tooltip: ECharts' HTML
//! tooltip writes inline styles, which the content security policy refuses.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How one series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Line,
    Bar,
    /// Bars stacked on the other stacked bars of the chart.
    StackedBar,
}

/// One named series over the chart's categories (a gap where a value is `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub kind: Kind,
    /// Drawn against the second (right-hand) value axis.
    pub right_axis: bool,
    pub values: Vec<Option<f64>>,
}

impl Series {
    pub fn new(name: impl Into<String>, kind: Kind, values: Vec<Option<f64>>) -> Series {
        Series {
            name: name.into(),
            kind,
            right_axis: false,
            values,
        }
    }

    pub fn on_right_axis(self) -> Series {
        Series {
            right_axis: true,
            ..self
        }
    }
}

/// One chart: a category axis, one or two value axes, its series, and labelled vertical
/// markers at some categories (where a new rule or configuration version took effect).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartSpec {
    /// The element id, unique on the page.
    pub id: String,
    /// What the chart shows, for screen readers.
    pub label: String,
    pub x: Vec<String>,
    pub y_name: String,
    /// The right-hand axis's name, when a series uses it.
    pub y2_name: Option<String>,
    pub series: Vec<Series>,
    /// `(category, label)` pairs drawn as vertical lines.
    pub markers: Vec<(String, String)>,
}

impl ChartSpec {
    pub fn new(
        id: impl Into<String>,
        label: impl Into<String>,
        x: Vec<String>,
        y_name: impl Into<String>,
    ) -> ChartSpec {
        ChartSpec {
            id: id.into(),
            label: label.into(),
            x,
            y_name: y_name.into(),
            y2_name: None,
            series: Vec::new(),
            markers: Vec::new(),
        }
    }

    pub fn series(mut self, series: Series) -> ChartSpec {
        self.series.push(series);
        self
    }

    pub fn right_axis(mut self, name: impl Into<String>) -> ChartSpec {
        self.y2_name = Some(name.into());
        self
    }

    pub fn markers(mut self, markers: Vec<(String, String)>) -> ChartSpec {
        self.markers = markers;
        self
    }

    /// Whether any series has a value to draw.
    pub fn has_data(&self) -> bool {
        self.series
            .iter()
            .any(|s| s.values.iter().any(Option::is_some))
    }

    /// The ECharts options for this chart.
    pub fn options(&self) -> charming::Chart {
        use charming::component::{Axis, Grid, Legend};
        use charming::element::{
            AxisType, Label, LineStyle, LineStyleType, MarkLine, MarkLineData, MarkLineVariant,
            Symbol,
        };
        use charming::series::{Bar, Line};

        // Many series wrap the legend onto a second line: the plot starts lower to leave it room.
        let top = if self.series.len() > 4 { "28%" } else { "18%" };
        let mut chart = charming::Chart::new()
            .legend(Legend::new())
            .grid(Grid::new().left("9%").right("9%").bottom("12%").top(top))
            .x_axis(Axis::new().type_(AxisType::Category).data(self.x.clone()))
            .y_axis(Axis::new().type_(AxisType::Value).name(self.y_name.clone()));
        if let Some(name) = &self.y2_name {
            chart = chart.y_axis(Axis::new().type_(AxisType::Value).name(name.clone()));
        }
        let marks = (!self.markers.is_empty()).then(|| {
            MarkLine::new()
                .symbol(vec![Symbol::None, Symbol::None])
                .silent(true)
                .label(Label::new().formatter("{b}"))
                .line_style(LineStyle::new().type_(LineStyleType::Dashed))
                .data(
                    self.markers
                        .iter()
                        .map(|(at, label)| {
                            MarkLineVariant::Simple(
                                MarkLineData::new().x_axis(at.as_str()).name(label.as_str()),
                            )
                        })
                        .collect(),
                )
        });
        for (index, series) in self.series.iter().enumerate() {
            let axis = if series.right_axis { 1.0 } else { 0.0 };
            let marks = if index == 0 { marks.clone() } else { None };
            chart = match series.kind {
                Kind::Line => {
                    let mut line = Line::new()
                        .name(series.name.clone())
                        .y_axis_index(axis)
                        .data(series.values.clone());
                    if let Some(marks) = marks {
                        line = line.mark_line(marks);
                    }
                    chart.series(line)
                }
                Kind::Bar | Kind::StackedBar => {
                    let mut bar = Bar::new()
                        .name(series.name.clone())
                        .y_axis_index(axis)
                        .data(series.values.clone());
                    if series.kind == Kind::StackedBar {
                        bar = bar.stack("total");
                    }
                    if let Some(marks) = marks {
                        bar = bar.mark_line(marks);
                    }
                    chart.series(bar)
                }
            };
        }
        chart
    }
}

#[component]
pub fn Chart(chart: ChartSpec) -> impl IntoView {
    let id = chart.id.clone();
    let label = chart.label.clone();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| draw(chart.clone(), 30));
    #[cfg(not(feature = "hydrate"))]
    let _ = &chart;
    view! { <div id=id class="chart" role="img" aria-label=label></div> }
}

/// Draws `chart` into its box once the box is in the document: after a client-side navigation
/// the page's new content is attached a frame or two after its effects run.
#[cfg(feature = "hydrate")]
fn draw(chart: ChartSpec, frames_left: u8) {
    if document().get_element_by_id(&chart.id).is_none() {
        if frames_left > 0 {
            request_animation_frame(move || draw(chart, frames_left - 1));
        }
        return;
    }
    let renderer = charming::WasmRenderer::new_opt(None, Some(280));
    if let Err(err) = renderer.render(&chart.id, &chart.options()) {
        leptos::logging::warn!("chart {} could not be drawn: {err}", chart.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn the_options_carry_every_series_with_gaps() {
        let chart = ChartSpec::new(
            "cpst",
            "CPST by week",
            vec!["Week 1".into(), "Week 2".into()],
            "$",
        )
        .series(Series::new("CPST", Kind::Line, vec![Some(2.5), None]))
        .series(Series::new(
            "Budget",
            Kind::Line,
            vec![Some(3.0), Some(3.0)],
        ));
        assert!(chart.has_data());
        let options = serde_json::to_value(chart.options()).unwrap();
        assert_eq!(options["xAxis"]["data"], json!(["Week 1", "Week 2"]));
        assert_eq!(options["series"][0]["name"], "CPST");
        assert_eq!(options["series"][0]["data"][0], 2.5);
        assert_eq!(options["series"][0]["data"][1], Value::Null, "a gap");
        assert_eq!(options["series"][1]["data"][1], 3.0);
        assert!(options["series"][0].get("markLine").is_none());
    }

    #[test]
    fn stacked_bars_share_a_stack_and_a_second_axis_and_markers_are_drawn_once() {
        let chart = ChartSpec::new(
            "mix",
            "Spend by component",
            vec!["A".into(), "B".into()],
            "$",
        )
        .right_axis("%")
        .series(Series::new(
            "Model",
            Kind::StackedBar,
            vec![Some(1.0), Some(2.0)],
        ))
        .series(Series::new("Tool", Kind::StackedBar, vec![Some(0.5), None]))
        .series(Series::new("Share", Kind::Line, vec![Some(50.0), Some(100.0)]).on_right_axis())
        .markers(vec![("B".into(), "configuration v2".into())]);
        let options = serde_json::to_value(chart.options()).unwrap();
        assert_eq!(options["yAxis"].as_array().map(Vec::len), Some(2));
        assert_eq!(options["series"][0]["type"], "bar");
        assert_eq!(options["series"][0]["stack"], "total");
        assert_eq!(options["series"][1]["stack"], "total");
        assert_eq!(options["series"][2]["type"], "line");
        assert_eq!(options["series"][2]["yAxisIndex"], 1.0);
        let marks = &options["series"][0]["markLine"]["data"];
        assert_eq!(marks[0]["xAxis"], "B");
        assert_eq!(marks[0]["name"], "configuration v2");
        assert!(options["series"][1].get("markLine").is_none());
        let empty = ChartSpec::new("e", "nothing", vec!["A".into()], "$").series(Series::new(
            "x",
            Kind::Bar,
            vec![None],
        ));
        assert!(!empty.has_data());
    }
}
