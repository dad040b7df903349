//! SVG charts drawn with plotters' SVG backend (no system fonts: text stays SVG `<text>`):
//! fan charts of quarterly metrics and histograms of per-path metrics, per scenario, and
//! the comparison charts of several scenarios.

use std::io::{self, Write};

use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::prelude::*;

use super::{Exporter, RunRecord};
use crate::runner::Results;

/// Chart size in pixels: the report's full width (its pages are 1100 px wide, and the
/// SVGs scale with the page, keeping their proportions).
const SIZE: (u32, u32) = (1080, 500);

/// Font sizes as given to plotters, whose SVG text comes out at about 0.8 of them: tick
/// labels and axis titles about 14 px, captions about 19 px, legible at the page's width.
const TICK_FONT: u32 = 18;
const CAPTION_FONT: u32 = 24;
/// Room for the tick labels and axis titles at [`TICK_FONT`].
const X_LABEL_AREA: u32 = 56;
const Y_LABEL_AREA: u32 = 90;

/// Indices of p5, p25, p50, p75, p95 in [`crate::stats::QUANTILE_LEVELS`].
const P5: usize = 1;
const P25: usize = 3;
const P50: usize = 4;
const P75: usize = 5;
const P95: usize = 7;

const BAND_COLOR: RGBColor = RGBColor(31, 119, 180);
const MARK_COLOR: RGBColor = RGBColor(214, 39, 40);

fn chart_error<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::other(format!("drawing a chart: {e}"))
}

/// A fan chart of one quarterly metric: median line, p25–p75 and p5–p95 bands by quarter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FanChartSvg {
    /// Quarterly metric, as in `quarterly.csv`.
    pub metric: &'static str,
    /// Chart title.
    pub title: &'static str,
    /// Y-axis label, with the unit.
    pub unit: &'static str,
    /// Output file name.
    pub file: &'static str,
}

/// The fan charts of `--report`, drawn for each metric the scenario reports.
pub const FAN_CHARTS: [FanChartSvg; 4] = [
    FanChartSvg {
        metric: "revenue_total_rmb_bn",
        title: "Cloud revenue",
        unit: "RMB bn per quarter",
        file: "fan_revenue_total_rmb_bn.svg",
    },
    FanChartSvg {
        metric: "ebita_margin",
        title: "Adjusted EBITA margin",
        unit: "share of revenue",
        file: "fan_ebita_margin.svg",
    },
    FanChartSvg {
        metric: "ai_utilization",
        title: "AI capacity utilization",
        unit: "share of capacity",
        file: "fan_ai_utilization.svg",
    },
    FanChartSvg {
        metric: "incremental_fcf_rmb_bn",
        title: "Incremental free cash flow of the plan",
        unit: "RMB bn per quarter",
        file: "fan_incremental_fcf_rmb_bn.svg",
    },
];

impl FanChartSvg {
    /// Whether the run reports this chart's metric.
    pub fn applies_to(&self, results: &Results) -> bool {
        results.quarterly_metrics.iter().any(|m| m == self.metric)
    }

    /// The chart as an SVG document.
    ///
    /// # Errors
    ///
    /// If the run does not report the metric, or plotters fails.
    pub fn svg(&self, results: &Results) -> io::Result<String> {
        self.svg_with_history(results, None)
    }

    /// The reported values of this chart's metric in `history`, by quarter index relative
    /// to the run's start quarter (negative before it), from the first quarter on the
    /// current segment basis ([`crate::history::SEGMENT_BASIS_START`]) to the chart's
    /// last quarter. Revenue and the adjusted EBITA margin are reported; other metrics
    /// have none.
    pub fn reported(
        &self,
        results: &Results,
        history: &crate::history::History,
    ) -> Vec<(i32, f64)> {
        let value = |q: &crate::history::ReportedQuarter| match self.metric {
            "revenue_total_rmb_bn" => q.revenue_rmb_bn,
            "ebita_margin" => q.adj_ebita_margin_pct.map(|m| m / 100.0),
            _ => None,
        };
        let first = history.first_on_current_basis();
        let start = results.calendar[0];
        let last = results.quarters as i64 - 1;
        history
            .quarters
            .iter()
            .filter(|q| q.quarter >= first)
            .filter_map(|q| {
                let t = q.quarter.quarters_since(start);
                (t <= last).then_some((t as i32, value(q)?))
            })
            .collect()
    }

    /// [`FanChartSvg::svg`] with the reported history of the metric drawn on it (black
    /// line and dots), the quarters before the start quarter included.
    ///
    /// # Errors
    ///
    /// As [`FanChartSvg::svg`].
    pub fn svg_with_history(
        &self,
        results: &Results,
        history: Option<&crate::history::History>,
    ) -> io::Result<String> {
        let reported = history.map_or_else(Vec::new, |h| self.reported(results, h));
        let bands: Vec<(i32, [f64; 9])> = (0..results.quarters)
            .filter_map(|t| {
                let s = results.quarterly_summary(self.metric, t)?;
                Some((t as i32, s.quantiles))
            })
            .collect();
        if bands.is_empty() {
            return Err(io::Error::other(format!(
                "`{}` is not reported by scenario `{}`",
                self.metric, results.scenario
            )));
        }
        let (low, high) = bands
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |a, b| {
                (a.0.min(b.1[P5]), a.1.max(b.1[P95]))
            });
        let (low, high) = reported
            .iter()
            .fold((low, high), |a, p| (a.0.min(p.1), a.1.max(p.1)));
        let (low, high) = padded(low, high);
        let caption = format!("{}: {}", results.scenario, self.title);
        let last = results.quarters as i32 - 1;
        let first = reported.iter().map(|p| p.0).min().unwrap_or(0).min(0);
        quarter_chart_svg(
            caption,
            (first, last),
            (low, high),
            results.calendar[0],
            self.unit,
            |chart| {
                let fan: Vec<(i32, [f64; 5])> = bands
                    .iter()
                    .map(|(t, q)| (*t, [q[P5], q[P25], q[P50], q[P75], q[P95]]))
                    .collect();
                draw_fan(chart, &fan)?;
                if !reported.is_empty() {
                    draw_reported(chart, &reported)?;
                }
                Ok(())
            },
        )
    }
}

/// The p5–p95 and p25–p75 bands and the median line of a fan chart; `fan` holds
/// `(quarter, [p5, p25, p50, p75, p95])`.
fn draw_fan(chart: &mut QuarterChart<'_, '_>, fan: &[(i32, [f64; 5])]) -> io::Result<()> {
    for (lower, upper, opacity, label) in [(0, 4, 0.18, "p5-p95"), (1, 3, 0.38, "p25-p75")] {
        let mut outline: Vec<(i32, f64)> = fan.iter().map(|(t, q)| (*t, q[upper])).collect();
        outline.extend(fan.iter().rev().map(|(t, q)| (*t, q[lower])));
        chart
            .draw_series(std::iter::once(Polygon::new(
                outline,
                BAND_COLOR.mix(opacity).filled(),
            )))
            .map_err(chart_error)?
            .label(label)
            .legend(move |(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 18, y + 5)],
                    BAND_COLOR.mix(opacity).filled(),
                )
            });
    }
    chart
        .draw_series(LineSeries::new(
            fan.iter().map(|(t, q)| (*t, q[2])),
            BAND_COLOR.stroke_width(2),
        ))
        .map_err(chart_error)?
        .label("median")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BAND_COLOR.stroke_width(2)));
    Ok(())
}

/// Reported values as a black line with dots, labelled in the legend.
fn draw_reported(chart: &mut QuarterChart<'_, '_>, reported: &[(i32, f64)]) -> io::Result<()> {
    // One line per run of consecutive quarters: a quarter without a figure breaks it.
    let mut runs: Vec<Vec<(i32, f64)>> = Vec::new();
    for &point in reported {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|p| p.0 + 1 == point.0) => run.push(point),
            _ => runs.push(vec![point]),
        }
    }
    for (k, run) in runs.into_iter().enumerate() {
        let series = chart
            .draw_series(LineSeries::new(run, BLACK.stroke_width(1)))
            .map_err(chart_error)?;
        if k == 0 {
            series.label("reported").legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(1))
            });
        }
    }
    chart
        .draw_series(reported.iter().map(|p| Circle::new(*p, 3, BLACK.filled())))
        .map_err(chart_error)?;
    Ok(())
}

impl Exporter for FanChartSvg {
    fn file_name(&self) -> &'static str {
        self.file
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        out.write_all(self.svg_with_history(run.results, run.history)?.as_bytes())
    }
}

/// A histogram of a per-path metric kept per path, with p5, p50 and p95 marked and the
/// line it is read against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistogramSvg {
    /// Per-path scalar metric (one of [`crate::model::PER_PATH_SCALARS`]).
    pub metric: &'static str,
    /// Chart title.
    pub title: &'static str,
    /// Output file name.
    pub file: &'static str,
    /// The line drawn across the bars.
    pub reference: HistogramReference,
}

/// The value a histogram is read against, drawn as a labelled black line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HistogramReference {
    /// Zero: a path left of it loses money (`NPV = 0` on the chart).
    Zero,
    /// The median path discount rate, `valuation.discount_rate`'s median: a path left of
    /// it earns less than its cost of capital (`discount rate (WACC) median 8.9%`).
    DiscountRate,
    /// A stated value with its label, e.g. the low end of brokers' multiples.
    Value(f64, &'static str),
}

impl HistogramReference {
    /// The line's position in the metric's stored unit and its label, or `None` where the
    /// scenario has no discount rate.
    pub fn line(self, scenario: &crate::Scenario) -> Option<(f64, String)> {
        match self {
            HistogramReference::Zero => Some((0.0, "NPV = 0".to_string())),
            HistogramReference::DiscountRate => {
                let rate = super::median_discount_rate(scenario)?;
                Some((
                    rate,
                    format!("discount rate (WACC) median {:.1}%", rate * 100.0),
                ))
            }
            HistogramReference::Value(value, label) => Some((value, label.to_string())),
        }
    }
}

/// The histograms of `--report`.
pub const HISTOGRAMS: [HistogramSvg; 4] = [
    HistogramSvg {
        metric: "plan_npv_rmb_bn",
        title: "NPV of the plan",
        file: "hist_plan_npv_rmb_bn.svg",
        reference: HistogramReference::Zero,
    },
    HistogramSvg {
        metric: "plan_irr",
        title: "IRR of the plan (paths with a unique IRR)",
        file: "hist_plan_irr.svg",
        reference: HistogramReference::DiscountRate,
    },
    HistogramSvg {
        metric: "plan_forward_npv_rmb_bn",
        title: "Continuing the plan against stopping at the start quarter (spend before it sunk)",
        file: "hist_plan_forward_npv_rmb_bn.svg",
        reference: HistogramReference::Zero,
    },
    HistogramSvg {
        metric: "cloud_ev_to_trailing_sales",
        title: "Enterprise value of the cloud business over trailing sales",
        file: "hist_cloud_ev_to_trailing_sales.svg",
        // data/README.md: brokers' sum-of-the-parts put Alibaba Cloud at 4x to 10x sales.
        reference: HistogramReference::Value(4.0, "brokers' lowest, 4x (Feb-25)"),
    },
];

/// Bins of a histogram.
const BINS: usize = 50;

impl HistogramSvg {
    /// Whether the run keeps this metric per path with at least one defined value.
    pub fn applies_to(&self, results: &Results) -> bool {
        self.values(results).is_some_and(|v| !v.is_empty())
    }

    fn values(&self, results: &Results) -> Option<Vec<f64>> {
        let k = results.scalars.iter().position(|(m, _)| m == self.metric)?;
        let values = results.scalar_values[k].as_ref()?;
        Some(values.iter().copied().filter(|x| !x.is_nan()).collect())
    }

    /// The chart as an SVG document: values in the unit of the metric's label (rates in
    /// percent), the reference line drawn and labelled.
    ///
    /// # Errors
    ///
    /// If the run has no defined per-path value of the metric, or plotters fails.
    pub fn svg(&self, run: &RunRecord<'_>) -> io::Result<String> {
        let results = run.results;
        let label = super::metric_label(self.metric);
        let scale = label.unit.scale();
        let values: Vec<f64> = self
            .values(results)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                io::Error::other(format!(
                    "`{}` has no per-path values in scenario `{}`",
                    self.metric, results.scenario
                ))
            })?
            .into_iter()
            .map(|x| x * scale)
            .collect();
        let stats = results.scalar_stats(self.metric).expect("present");
        let summary = stats.summary.as_ref().expect("defined values");
        let reference = self
            .reference
            .line(run.scenario)
            .map(|(x, text)| (x * scale, text));
        let (low, high) = values
            .iter()
            .chain(reference.as_ref().map(|r| &r.0))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |a, &x| {
                (a.0.min(x), a.1.max(x))
            });
        let (low, high) = padded(low, high);
        let width = (high - low) / BINS as f64;
        let mut counts = [0u64; BINS];
        for &x in &values {
            counts[(((x - low) / width) as usize).min(BINS - 1)] += 1;
        }
        let share = |c: u64| c as f64 / values.len() as f64;
        let top = counts.iter().map(|&c| share(c)).fold(0.0, f64::max) * 1.1;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(chart_error)?;
            let caption = format!("{}: {}", results.scenario, self.title);
            let mut chart = ChartBuilder::on(&root)
                .caption(caption, ("sans-serif", CAPTION_FONT))
                .margin(12)
                .margin_right(32)
                .x_label_area_size(X_LABEL_AREA)
                .y_label_area_size(Y_LABEL_AREA)
                .build_cartesian_2d(low..high, 0.0..top)
                .map_err(chart_error)?;
            chart
                .configure_mesh()
                .label_style(("sans-serif", TICK_FONT))
                .axis_desc_style(("sans-serif", TICK_FONT))
                .disable_x_mesh()
                .x_label_formatter(&|x| axis_label(*x))
                .y_label_formatter(&|y| axis_label(*y))
                .x_desc(format!(
                    "{} ({} paths, {} undefined)",
                    label.text(),
                    values.len(),
                    stats.missing
                ))
                .y_desc("share of paths")
                .draw()
                .map_err(chart_error)?;
            chart
                .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                    let x0 = low + i as f64 * width;
                    Rectangle::new(
                        [(x0, 0.0), (x0 + width, share(c))],
                        BAND_COLOR.mix(0.6).filled(),
                    )
                }))
                .map_err(chart_error)?;
            for (level, index) in [("p5", P5), ("p50", P50), ("p95", P95)] {
                let x = summary.quantiles[index] * scale;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, 0.0), (x, top * 0.92)],
                        MARK_COLOR.stroke_width(2),
                    )))
                    .map_err(chart_error)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{level} {}", short(x)),
                        (x, top * 0.97),
                        ("sans-serif", TICK_FONT).into_font().color(&MARK_COLOR),
                    )))
                    .map_err(chart_error)?;
            }
            if let Some((x, text)) = reference {
                // Black and labelled beside the line, below the quantile marks' labels.
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, 0.0), (x, top)],
                        BLACK.stroke_width(3),
                    )))
                    .map_err(chart_error)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!(" {text}"),
                        (x, top * 0.85),
                        ("sans-serif", TICK_FONT).into_font().color(&BLACK),
                    )))
                    .map_err(chart_error)?;
            }
            root.present().map_err(chart_error)?;
        }
        Ok(svg)
    }
}

impl Exporter for HistogramSvg {
    fn file_name(&self) -> &'static str {
        self.file
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        out.write_all(self.svg(run)?.as_bytes())
    }
}

/// The median of a quarterly metric by quarter, one line per scenario.
///
/// # Errors
///
/// If no run reports the metric, or plotters fails.
pub fn comparison_medians_svg(runs: &[&Results], metric: &str, unit: &str) -> io::Result<String> {
    let lines: Vec<(&str, Vec<(i32, f64)>)> = runs
        .iter()
        .map(|r| {
            let line = (0..r.quarters)
                .filter_map(|t| Some((t as i32, r.quarterly_summary(metric, t)?.quantiles[P50])))
                .collect();
            (r.scenario.as_str(), line)
        })
        .collect();
    let points = lines.iter().flat_map(|(_, l)| l.iter().map(|p| p.1));
    let (low, high) = points.fold((f64::INFINITY, f64::NEG_INFINITY), |a, y| {
        (a.0.min(y), a.1.max(y))
    });
    if !low.is_finite() {
        return Err(io::Error::other(format!("no scenario reports `{metric}`")));
    }
    let (low, high) = padded(low, high);
    let last = runs.iter().map(|r| r.quarters).max().unwrap_or(1) as i32 - 1;
    let caption = format!("Median {metric} by scenario");
    quarter_chart_svg(
        caption,
        (0, last.max(1)),
        (low, high),
        runs[0].calendar[0],
        unit,
        |chart| {
            for (k, (name, line)) in lines.into_iter().enumerate() {
                let color = Palette99::pick(k).to_rgba();
                chart
                    .draw_series(LineSeries::new(line, color.stroke_width(2)))
                    .map_err(chart_error)?
                    .label(name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            }
            Ok(())
        },
    )
}

/// A chart over quarter indices `first..=last` (0 = the start quarter).
type QuarterChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordi32, RangedCoordf64>>;

/// An SVG chart by quarter: the frame (caption, calendar-labelled quarter axis, `unit` axis
/// over `[low, high]`), what `draw` adds, and a legend of the labelled series.
fn quarter_chart_svg(
    caption: String,
    (first, last): (i32, i32),
    (low, high): (f64, f64),
    zero: crate::time::Quarter,
    unit: &str,
    draw: impl FnOnce(&mut QuarterChart<'_, '_>) -> io::Result<()>,
) -> io::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", CAPTION_FONT))
            .margin(12)
            .margin_right(32)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(first..last, low..high)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", TICK_FONT))
            .y_label_formatter(&|y| axis_label(*y))
            .x_labels(11)
            .x_label_formatter(&|t| zero.offset(i64::from(*t)).label())
            .x_desc("quarter")
            .y_desc(unit)
            .draw()
            .map_err(chart_error)?;
        draw(&mut chart)?;
        chart
            .configure_series_labels()
            .label_font(("sans-serif", TICK_FONT))
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// The p5–p95 range and median of a per-path metric, one bar per scenario.
///
/// # Errors
///
/// If no run reports the metric, or plotters fails.
pub fn comparison_ranges_svg(runs: &[&Results], metric: &str, unit: &str) -> io::Result<String> {
    let ranges: Vec<(&str, [f64; 9])> = runs
        .iter()
        .filter_map(|r| Some((r.scenario.as_str(), r.scalar(metric)?.quantiles)))
        .collect();
    if ranges.is_empty() {
        return Err(io::Error::other(format!("no scenario reports `{metric}`")));
    }
    let (low, high) = ranges
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, (_, q)| {
            (a.0.min(q[P5]), a.1.max(q[P95]))
        });
    let (low, high) = padded(low.min(0.0), high.max(0.0));
    let rows = ranges.len() as f64;
    let mut svg = String::new();
    {
        let height = 120 + 34 * ranges.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let names: Vec<&str> = ranges.iter().map(|(n, _)| *n).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{metric}: p5-p95, p25-p75 and median by scenario"),
                ("sans-serif", CAPTION_FONT),
            )
            .margin(12)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(170)
            .build_cartesian_2d(low..high, -0.5..rows - 0.5)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", TICK_FONT))
            .disable_y_mesh()
            .y_labels(ranges.len())
            .y_label_formatter(&|y| {
                let k = y.round();
                if (y - k).abs() < 1e-9 && k >= 0.0 {
                    names
                        .get(k as usize)
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(unit)
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, rows - 0.5)],
                BLACK.stroke_width(1),
            )))
            .map_err(chart_error)?;
        for (k, (_, q)) in ranges.iter().enumerate() {
            let y = k as f64;
            chart
                .draw_series([
                    Rectangle::new(
                        [(q[P5], y - 0.25), (q[P95], y + 0.25)],
                        BAND_COLOR.mix(0.3).filled(),
                    ),
                    Rectangle::new(
                        [(q[P25], y - 0.25), (q[P75], y + 0.25)],
                        BAND_COLOR.mix(0.6).filled(),
                    ),
                ])
                .map_err(chart_error)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(q[P50], y - 0.3), (q[P50], y + 0.3)],
                    MARK_COLOR.stroke_width(3),
                )))
                .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// An axis range around `[low, high]` with 5% margins (and a unit span for a constant).
fn padded(low: f64, high: f64) -> (f64, f64) {
    let span = high - low;
    if span > 0.0 {
        (low - 0.05 * span, high + 0.05 * span)
    } else {
        (
            low - 0.5 * low.abs().max(1.0),
            high + 0.5 * high.abs().max(1.0),
        )
    }
}

/// An axis tick: up to five significant digits, trailing zeros trimmed, and never `-0`.
pub(crate) fn axis_label(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    if x.abs() < 1e-9 {
        return "0".into();
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (4 - magnitude).clamp(0, 8) as usize;
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

/// Four significant digits, for marks and tables.
pub(crate) fn short(x: f64) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let magnitude = if x == 0.0 {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    let decimals = (3 - magnitude).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

/// A fan chart of forecast bands with the reported values drawn on it: `bands` are
/// `(quarters after the origin, [p5, p10, p25, p50, p75, p90, p95])`, `reported` are
/// `(quarters after the origin, value)`, negative before it. Used by `backtest --report`.
///
/// # Errors
///
/// If there are no bands, or plotters fails.
pub fn fan_with_reported_svg(
    caption: String,
    origin: crate::time::Quarter,
    bands: &[(i32, [f64; 7])],
    reported: &[(i32, f64)],
    unit: &str,
) -> io::Result<String> {
    if bands.is_empty() {
        return Err(io::Error::other("no forecast bands to draw"));
    }
    let values = bands
        .iter()
        .flat_map(|(_, q)| [q[0], q[6]])
        .chain(reported.iter().map(|r| r.1));
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |a, y| {
        (a.0.min(y), a.1.max(y))
    });
    let (low, high) = padded(low, high);
    let first = reported.iter().map(|r| r.0).min().unwrap_or(0).min(0);
    let last = bands.iter().map(|b| b.0).max().unwrap_or(1).max(1);
    quarter_chart_svg(caption, (first, last), (low, high), origin, unit, |chart| {
        let fan: Vec<(i32, [f64; 5])> = bands
            .iter()
            .map(|(t, q)| (*t, [q[0], q[2], q[3], q[4], q[6]]))
            .collect();
        draw_fan(chart, &fan)?;
        draw_reported(chart, reported)
    })
}

/// One bar of a tornado chart: the statistic with the input at its low and high value.
#[derive(Clone, Debug, PartialEq)]
pub struct SwingBar {
    /// Bar label (the input's key path).
    pub label: String,
    /// The statistic with the input at its low value (p10).
    pub at_low: f64,
    /// The statistic with the input at its high value (p90).
    pub at_high: f64,
}

/// A tornado chart: one horizontal bar per input, from `base` to the statistic at the
/// input's p10 (light) and p90 (dark), largest swing on top (bars in the order given).
///
/// # Errors
///
/// If there are no bars, or plotters fails.
pub fn tornado_svg(
    caption: String,
    unit: &str,
    base: f64,
    bars: &[SwingBar],
) -> io::Result<String> {
    if bars.is_empty() {
        return Err(io::Error::other("no bars to draw"));
    }
    let (low, high) = bars.iter().fold((base, base), |a, b| {
        (
            a.0.min(b.at_low).min(b.at_high),
            a.1.max(b.at_low).max(b.at_high),
        )
    });
    let (low, high) = padded(low, high);
    let rows = bars.len() as i32;
    let height = (90 + 34 * rows).max(240) as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0 + 200, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", CAPTION_FONT))
            .margin(12)
            .margin_right(32)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(320)
            .build_cartesian_2d(low..high, 0..rows)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", TICK_FONT))
            .disable_y_mesh()
            .x_label_formatter(&|x| axis_label(*x))
            .y_labels(bars.len() + 1)
            .y_label_formatter(&|y| {
                let k = rows - 1 - *y;
                usize::try_from(k)
                    .ok()
                    .and_then(|k| labels.get(k))
                    .cloned()
                    .unwrap_or_default()
            })
            .x_desc(unit)
            .draw()
            .map_err(chart_error)?;
        for (k, bar) in bars.iter().enumerate() {
            let y = rows - 1 - k as i32;
            for (value, opacity, label) in [
                (bar.at_low, 0.35, "input at p10"),
                (bar.at_high, 0.85, "input at p90"),
            ] {
                let series = chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(base.min(value), y), (base.max(value), y + 1)],
                        BAND_COLOR.mix(opacity).filled(),
                    )))
                    .map_err(chart_error)?;
                if k == 0 {
                    series.label(label).legend(move |(x, y)| {
                        Rectangle::new(
                            [(x, y - 5), (x + 18, y + 5)],
                            BAND_COLOR.mix(opacity).filled(),
                        )
                    });
                }
            }
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(base, 0), (base, rows)],
                BLACK.stroke_width(1),
            )))
            .map_err(chart_error)?
            .label("every input at its median")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(1)));
        chart
            .configure_series_labels()
            .label_font(("sans-serif", TICK_FONT))
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// A scatter plot of `points` (x, y), e.g. a path's NPV against one input's draw.
///
/// # Errors
///
/// If there are no points, or plotters fails.
pub fn scatter_svg(
    caption: String,
    x_unit: &str,
    y_unit: &str,
    points: &[(f64, f64)],
) -> io::Result<String> {
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if finite.is_empty() {
        return Err(io::Error::other("no points to draw"));
    }
    let (x0, x1) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.0), a.1.max(p.0))
        });
    let (y0, y1) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.1), a.1.max(p.1))
        });
    let ((x0, x1), (y0, y1)) = (padded(x0, x1), padded(y0, y1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", CAPTION_FONT))
            .margin(12)
            .margin_right(32)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", TICK_FONT))
            .x_label_formatter(&|x| axis_label(*x))
            .y_label_formatter(&|y| axis_label(*y))
            .x_desc(x_unit)
            .y_desc(y_unit)
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(
                finite
                    .iter()
                    .map(|p| Circle::new(*p, 2, BAND_COLOR.mix(0.35).filled())),
            )
            .map_err(chart_error)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_never_show_negative_zero() {
        assert_eq!(axis_label(-0.0), "0");
        assert_eq!(axis_label(-1e-17), "0");
        assert_eq!(axis_label(2.5), "2.5");
        assert_eq!(axis_label(-150.0), "-150");
        assert_eq!(axis_label(0.0125), "0.0125");
        assert_eq!(axis_label(12345.0), "12345");
    }

    #[test]
    fn short_keeps_four_significant_digits() {
        assert_eq!(short(-157.2345), "-157.2");
        assert_eq!(short(0.046123), "0.04612");
        assert_eq!(short(12345.6), "12346");
        assert_eq!(short(0.0), "0.000");
        assert_eq!(short(f64::NAN), "");
    }

    #[test]
    fn padding_widens_and_handles_constants() {
        assert_eq!(padded(0.0, 10.0), (-0.5, 10.5));
        let (a, b) = padded(3.0, 3.0);
        assert!(a < 3.0 && b > 3.0);
    }
}
