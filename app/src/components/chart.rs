//! Charts drawn by ECharts in the browser (through `charming`), from series the server computed.
//! The server renders an empty, labelled box; the table beside every chart holds the same
//! numbers (and exports them), so nothing is lost without JavaScript. Colours are the app's
//! (see `style/main.css`); tooltips are drawn on the canvas as rich text, since ECharts' HTML
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
    /// A line to measure against (a budget, a target): grey, dashed, without points.
    Reference,
}

/// The series' colours in order: the app's brand green first, then colours that stay apart
/// for the common kinds of colour blindness; the reference grey is `--ink-soft`.
pub const PALETTE: [&str; 6] = [
    "#14532d", "#2563eb", "#b45309", "#7c3aed", "#be123c", "#0e7490",
];
const REFERENCE: &str = "#475569";
const AXIS_TEXT: &str = "#475569";

/// Dollars to draw (and to show in a tooltip): four decimals, enough for a cent's fractions.
pub fn chart_dollars(amount: crate::domain::Micros) -> f64 {
    (amount.as_dollars() * 10_000.0).round() / 10_000.0
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
            AxisType, Color, ItemStyle, Label, LineStyle, LineStyleType, MarkLine, MarkLineData,
            MarkLineVariant, Symbol,
        };
        use charming::series::{Bar, Line};

        // Many series wrap the legend onto a second line: the plot starts lower to leave it room.
        let top = if self.series.len() > 4 { "28%" } else { "18%" };
        let mut chart = charming::Chart::new()
            .color(PALETTE.iter().map(|c| Color::from(*c)).collect())
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
                Kind::Reference => chart.series(
                    Line::new()
                        .name(series.name.clone())
                        .y_axis_index(axis)
                        .show_symbol(false)
                        .item_style(ItemStyle::new().color(REFERENCE))
                        .line_style(
                            LineStyle::new()
                                .type_(LineStyleType::Dashed)
                                .color(REFERENCE),
                        )
                        .data(series.values.clone()),
                ),
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

    /// What ECharts takes that `charming` cannot say, set once the chart is drawn: a tooltip
    /// for the hovered category rendered on the canvas (`renderMode: richText`, so no inline
    /// styles), every category labelled (slanted when there are many), axis text in the app's
    /// grey. A tooltip is created with the first options that carry one, so this must come
    /// second.
    pub fn extras(&self) -> serde_json::Value {
        let rotate = if self.x.len() > 5 { 35 } else { 0 };
        // Up to twelve categories (a quarter's weeks) all carry a label; thirty days would
        // overlap, so ECharts picks which to show and the tooltip names each.
        let interval = if self.x.len() <= 12 {
            serde_json::json!(0)
        } else {
            serde_json::json!("auto")
        };
        serde_json::json!({
            "tooltip": {
                "trigger": "axis",
                "renderMode": "richText",
                "confine": true,
                "backgroundColor": "#0f172a",
                "borderWidth": 0,
                "textStyle": { "color": "#ffffff" },
            },
            "xAxis": {
                "axisLabel": {
                    "interval": interval,
                    "rotate": rotate,
                    "hideOverlap": true,
                    "width": 140,
                    "overflow": "truncate",
                    "color": AXIS_TEXT,
                },
            },
            "yAxis": { "axisLabel": { "color": AXIS_TEXT } },
            // Room for the labels, slanted or not, inside the box.
            "grid": { "containLabel": true, "bottom": 4, "left": 12, "right": 12 },
            "legend": { "textStyle": { "color": AXIS_TEXT } },
        })
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
    use wasm_bindgen::JsCast;
    if document().get_element_by_id(&chart.id).is_none() {
        if frames_left > 0 {
            request_animation_frame(move || draw(chart, frames_left - 1));
        }
        return;
    }
    let renderer = charming::WasmRenderer::new_opt(None, Some(280));
    let drawn = match renderer.render(&chart.id, &chart.options()) {
        Ok(drawn) => drawn,
        Err(err) => {
            leptos::logging::warn!("chart {} could not be drawn: {err}", chart.id);
            return;
        }
    };
    let extras = js_sys::JSON::parse(&chart.extras().to_string());
    let set_option = js_sys::Reflect::get(&drawn, &"setOption".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>().map_err(Into::into));
    if let Err(err) = extras.and_then(|extras| set_option?.call1(&drawn, &extras)) {
        leptos::logging::warn!("chart {} has no tooltip: {err:?}", chart.id);
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
        assert_eq!(options["color"][0], PALETTE[0], "the app's colours");
        let empty = ChartSpec::new("e", "nothing", vec!["A".into()], "$").series(Series::new(
            "x",
            Kind::Bar,
            vec![None],
        ));
        assert!(!empty.has_data());
    }

    #[test]
    fn references_are_dashed_grey_and_tooltips_are_rich_text_on_the_canvas() {
        let weeks: Vec<String> = (1..=12).map(|w| format!("Week {w}")).collect();
        let chart = ChartSpec::new("cpst", "CPST by week", weeks.clone(), "$")
            .series(Series::new("CPST", Kind::Line, vec![Some(1.0); 12]))
            .series(Series::new("Budget", Kind::Reference, vec![Some(2.0); 12]));
        let options = serde_json::to_value(chart.options()).unwrap();
        let budget = &options["series"][1];
        assert_eq!(budget["type"], "line");
        assert_eq!(budget["lineStyle"]["type"], "dashed");
        assert_eq!(budget["lineStyle"]["color"], REFERENCE);
        assert_eq!(budget["showSymbol"], false);
        let extras = chart.extras();
        assert_eq!(extras["tooltip"]["renderMode"], "richText");
        assert_eq!(
            extras["xAxis"]["axisLabel"]["interval"], 0,
            "every week labelled"
        );
        assert_eq!(extras["xAxis"]["axisLabel"]["rotate"], 35);
        let days: Vec<String> = (1..=30).map(|d| format!("Day {d}")).collect();
        let daily = ChartSpec::new("d", "by day", days, "$");
        assert_eq!(daily.extras()["xAxis"]["axisLabel"]["interval"], "auto");
        let few = ChartSpec::new("f", "few", weeks[..3].to_vec(), "$");
        assert_eq!(few.extras()["xAxis"]["axisLabel"]["rotate"], 0);
    }
}
