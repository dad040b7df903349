//! A hindcast of the whole model by Alibaba fiscal year (ending March): the scenario run
//! from an earlier quarter with its economics, plan and risk, and scored on the fiscal
//! years reported since (docs/model.md, "Backtest", "Fiscal-year hindcast").
//!
//! The as-of scenario keeps every table. It starts at the origin from that quarter's
//! reported revenue and adjusted EBITA margin; each segment's start revenue is carried
//! back from the file's start quarter at its median initial growth, then the segments
//! are scaled to the reported total (the AI segment, growing fastest, was a smaller share
//! a year earlier). The plan's reported spend after the origin is dropped: the hindcast
//! forecasts it.

use crate::Quarter;
use crate::Scenario;
use crate::analysis::backtest::{BacktestError, retimed_table, scenario_as_of};
use crate::history::History;
use crate::runner::{Results, RunOptions, simulate};
use crate::scenario::Param;
use crate::stats::scoring::{pit, quantile};

/// One fiscal year's totals as filed, for the fiscal years whose quarters are not all in
/// the quarterly history (RMB bn; `None` where not reported).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FiledFiscalYear {
    /// Fiscal year, as the calendar year it ends in (2026 = FY26, April 2025 to March 2026).
    pub fiscal_year: i32,
    /// Cloud Intelligence Group revenue.
    pub revenue_rmb_bn: Option<f64>,
    /// Its adjusted EBITA.
    pub adj_ebita_rmb_bn: Option<f64>,
    /// AI + cloud (group) capex.
    pub capex_rmb_bn: Option<f64>,
    /// Where the figures come from, and their confidence.
    pub source: &'static str,
}

/// The annual totals of `../shared/data/README.md` (copied in `data/README.md`): the
/// filings' FY25 and FY26 totals on the current segment basis, and FY26 capex as the data
/// page estimates it (the Dec-25 quarter is not reported).
pub const FILED_FISCAL_YEARS: [FiledFiscalYear; 2] = [
    FiledFiscalYear {
        fiscal_year: 2025,
        revenue_rmb_bn: Some(118.028),
        adj_ebita_rmb_bn: Some(10.556),
        capex_rmb_bn: Some(85.972),
        source: "FY25 filings (revenue, adj. EBITA; group capex)",
    },
    FiledFiscalYear {
        fiscal_year: 2026,
        revenue_rmb_bn: Some(158.132),
        adj_ebita_rmb_bn: Some(14.265),
        capex_rmb_bn: Some(126.0),
        source: "FY26 filings (revenue, adj. EBITA); capex ~126 an estimate (Dec-25 quarter not reported)",
    },
];

/// The metrics scored per fiscal year, in output order.
pub const FISCAL_METRICS: [&str; 5] = [
    "revenue_rmb_bn",
    "adj_ebita_rmb_bn",
    "ebita_margin",
    "capex_rmb_bn",
    "depreciation_rmb_bn",
];

/// One fiscal year and metric: the model's distribution and the reported figure.
#[derive(Clone, Debug, PartialEq)]
pub struct FiscalRow {
    /// Fiscal year, as the calendar year it ends in.
    pub fiscal_year: i32,
    /// One of [`FISCAL_METRICS`].
    pub metric: &'static str,
    /// The reported figure, if any.
    pub reported: Option<f64>,
    /// Where it comes from: `quarters` (the four reported quarters summed) or a filing.
    pub reported_source: String,
    /// Mean over paths, its standard error, and quantiles.
    pub mean: f64,
    /// Monte Carlo standard error of the mean.
    pub se: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// The reported figure's percentile in the simulated distribution.
    pub pit: Option<f64>,
}

impl FiscalRow {
    /// `FY26` for 2026.
    pub fn label(&self) -> String {
        fiscal_label(self.fiscal_year)
    }
}

/// `FY26` for 2026.
pub fn fiscal_label(fiscal_year: i32) -> String {
    format!("FY{:02}", fiscal_year.rem_euclid(100))
}

/// The Alibaba fiscal year a calendar quarter belongs to (the calendar year of the March
/// that ends it): 2025Q2 … 2026Q1 are FY26.
pub fn fiscal_year(quarter: Quarter) -> i32 {
    quarter.fiscal_year()
}

fn median(param: &Param) -> f64 {
    match param {
        Param::Fixed(v) => *v,
        Param::Random(d) => d.quantile(0.5),
    }
}

/// The scenario as of `origin` with its economics (see the module docs), projecting to
/// `to` on `paths` paths.
///
/// # Errors
///
/// [`BacktestError`] if the origin is not before the scenario's start quarter, has no
/// reported revenue or margin, a segment's start revenue is a distribution, or the
/// as-of scenario is refused (a message naming the key).
pub fn economics_as_of(
    scenario: &Scenario,
    history: &History,
    origin: Quarter,
    to: Quarter,
    paths: u64,
) -> Result<Scenario, BacktestError> {
    let refused = |message: String| BacktestError::Scenario { origin, message };
    let start = scenario.assumptions().time.start_quarter;
    if origin >= start {
        return Err(BacktestError::Window(format!(
            "a fiscal-year hindcast starts before the scenario's start quarter {start}; --from {origin}"
        )));
    }
    let reported = history.get(origin);
    let revenue = reported.and_then(|q| q.revenue_rmb_bn).ok_or_else(|| {
        BacktestError::Window(format!(
            "{}: no reported revenue for the origin {origin}",
            history.source
        ))
    })?;
    let margin = reported
        .and_then(|q| {
            q.adj_ebita_margin_pct
                .map(|m| m / 100.0)
                .or(q.adj_ebita_rmb_bn.map(|e| e / revenue))
        })
        .ok_or_else(|| {
            BacktestError::Window(format!(
                "{}: no reported adjusted EBITA margin for the origin {origin}: the hindcast \
                 starts the cost structure from it",
                history.source
            ))
        })?;
    if !(-1.0 < margin && margin < 1.0) {
        return Err(BacktestError::Window(format!(
            "{}, line {}: the adjusted EBITA margin of {origin} is {}%, outside (-100%, 100%): \
             the column is in percent (9.0 for 9%)",
            history.source,
            reported.map_or(0, |q| q.line),
            margin * 100.0
        )));
    }
    let mut table = retimed_table(scenario, origin, to, paths)?;
    let back = start.quarters_since(origin) as f64;
    // Segments carried back at their median initial growth, then scaled to the reported
    // total.
    let segments = &scenario.assumptions().revenue.segments;
    let mut carried = Vec::with_capacity(segments.len());
    for (name, segment) in segments {
        let Param::Fixed(level) = segment.start_revenue_rmb_bn else {
            return Err(refused(format!(
                "revenue.segments.{name}.start_revenue_rmb_bn is a distribution; a hindcast \
                 scales fixed start revenues to the reported total"
            )));
        };
        let growth = median(&segment.initial_growth);
        carried.push((name.clone(), level * (1.0 + growth).powf(-back / 4.0)));
    }
    let total: f64 = carried.iter().map(|(_, v)| v).sum();
    let segment_tables = table
        .get_mut("revenue")
        .and_then(|r| r.get_mut("segments"))
        .and_then(|s| s.as_table_mut())
        .ok_or_else(|| refused("no revenue segments".into()))?;
    for (name, level) in carried {
        if let Some(segment) = segment_tables.get_mut(&name).and_then(|s| s.as_table_mut()) {
            segment.insert(
                "start_revenue_rmb_bn".into(),
                (level * revenue / total).into(),
            );
        }
    }
    // Documented screen ranges are about the file's inputs as written, not this run's.
    table.remove("screen");
    // The hindcast scores the years it projects; the plan's value is not asked.
    if let Some(valuation) = table.get_mut("valuation").and_then(|v| v.as_table_mut()) {
        valuation.insert("terminal_value".into(), false.into());
    }
    if let Some(costs) = table.get_mut("costs").and_then(|c| c.as_table_mut()) {
        costs.insert("start_ebita_margin".into(), margin.into());
    }
    // The plan's spend after the origin is what the hindcast forecasts.
    if let Some(actual) = table
        .get_mut("plan")
        .and_then(|p| p.get_mut("actual_spend_rmb_bn"))
        .and_then(|a| a.as_table_mut())
    {
        actual.retain(|quarter, _| quarter.parse::<Quarter>().is_ok_and(|q| q <= origin));
    }
    scenario_as_of(scenario, origin, &table)
}

/// Every path's value of each fiscal metric, for each fiscal year whose four quarters are
/// all projected (`t ≥ 1`): `(fiscal year, metric, values by path)`. Sums of the plan
/// world's quarters; the margin is the year's EBITA over its revenue.
///
/// # Panics
///
/// If `results` lacks the economics' metrics or kept no paths (the caller keeps them).
pub fn fiscal_year_values(results: &Results) -> Vec<(i32, &'static str, Vec<f64>)> {
    let index = |name: &str| {
        results
            .quarterly_metrics
            .iter()
            .position(|m| m == name)
            .unwrap_or_else(|| panic!("a run with economics has `{name}`"))
    };
    let columns = [
        index("revenue_total_rmb_bn"),
        index("ebita_rmb_bn"),
        index("capex_rmb_bn"),
        index("depreciation_rmb_bn"),
    ];
    let q = results.quarters;
    let mut out = Vec::new();
    let mut t = 1;
    while t + 3 < q {
        if results.calendar[t].quarter_of_year() != 2 {
            t += 1;
            continue;
        }
        let year = fiscal_year(results.calendar[t]);
        let sums: Vec<[f64; 4]> = results
            .kept_paths
            .iter()
            .map(|p| columns.map(|m| p.values[m * q + t..m * q + t + 4].iter().sum::<f64>()))
            .collect();
        let column = |k: usize| sums.iter().map(|s| s[k]).collect::<Vec<f64>>();
        out.push((year, "revenue_rmb_bn", column(0)));
        out.push((year, "adj_ebita_rmb_bn", column(1)));
        out.push((
            year,
            "ebita_margin",
            sums.iter().map(|s| s[1] / s[0]).collect(),
        ));
        out.push((year, "capex_rmb_bn", column(2)));
        out.push((year, "depreciation_rmb_bn", column(3)));
        t += 4;
    }
    out
}

/// The reported figure of `metric` in `fiscal_year`: the four reported quarters summed
/// when all are in `history`, else the filing in `filed` when the history's revenue
/// quarters match its revenue (the same data); the margin is EBITA over revenue from the
/// same rule. Depreciation of the cloud segment is not reported.
pub fn reported_fiscal(
    history: &History,
    filed: &[FiledFiscalYear],
    fiscal_year: i32,
    metric: &str,
) -> Option<(f64, String)> {
    let quarters: Vec<Quarter> = (0..4)
        .map(|k| {
            Quarter::new(fiscal_year - 1, 2)
                .expect("a valid quarter")
                .plus(k)
        })
        .collect();
    let summed = |field: fn(&crate::history::ReportedQuarter) -> Option<f64>| {
        quarters
            .iter()
            .map(|q| history.get(*q).and_then(field))
            .sum::<Option<f64>>()
    };
    // A filing speaks for this history only if the history's revenue quarters are all there
    // and sum to the filed revenue (within 0.1%, the rounding of derived quarters): an edited
    // or foreign history is scored on its own quarters alone.
    let filing = filed
        .iter()
        .find(|f| f.fiscal_year == fiscal_year)
        .filter(|f| {
            let quarters_revenue = summed(|q| q.revenue_rmb_bn);
            matches!((quarters_revenue, f.revenue_rmb_bn),
            (Some(q), Some(filed)) if (q - filed).abs() <= 1e-3 * filed)
        });
    let pick = |from_quarters: Option<f64>, from_filing: Option<f64>| match from_quarters {
        Some(v) => Some((v, "quarters".to_string())),
        None => from_filing.map(|v| (v, filing.map_or("", |f| f.source).to_string())),
    };
    let revenue = || {
        pick(
            summed(|q| q.revenue_rmb_bn),
            filing.and_then(|f| f.revenue_rmb_bn),
        )
    };
    let ebita = || {
        pick(
            summed(|q| q.adj_ebita_rmb_bn),
            filing.and_then(|f| f.adj_ebita_rmb_bn),
        )
    };
    match metric {
        "revenue_rmb_bn" => revenue(),
        "adj_ebita_rmb_bn" => ebita(),
        "ebita_margin" => {
            let ((e, es), (r, rs)) = (ebita()?, revenue()?);
            let source = if es == rs { es } else { format!("{es}; {rs}") };
            Some((e / r, source))
        }
        "capex_rmb_bn" => pick(
            summed(|q| q.group_capex_rmb_bn),
            filing.and_then(|f| f.capex_rmb_bn),
        ),
        _ => None,
    }
}

/// Summary statistics of `values` scored against `reported`.
pub fn score_fiscal(
    fiscal_year: i32,
    metric: &'static str,
    values: &[f64],
    reported: Option<(f64, String)>,
) -> FiscalRow {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let variance = sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let (reported, reported_source) = match reported {
        Some((v, s)) => (Some(v), s),
        None => (None, String::new()),
    };
    FiscalRow {
        fiscal_year,
        metric,
        reported,
        reported_source,
        mean,
        se: (variance / n).sqrt(),
        p5: quantile(&sorted, 0.05),
        p50: quantile(&sorted, 0.5),
        p95: quantile(&sorted, 0.95),
        pit: reported.map(|r| pit(&sorted, r)),
    }
}

/// Runs the scenario from `origin` to `to` with its economics and scores every fiscal year
/// after the origin (rows by fiscal year, then [`FISCAL_METRICS`]).
///
/// # Errors
///
/// [`BacktestError`] from [`economics_as_of`] or the run; [`BacktestError::Window`] if no
/// whole fiscal year lies between the origin and `to`, or the scenario has no economics.
pub fn fiscal_backtest(
    scenario: &Scenario,
    history: &History,
    filed: &[FiledFiscalYear],
    origin: Quarter,
    to: Quarter,
    paths: u64,
) -> Result<Vec<FiscalRow>, BacktestError> {
    if scenario.assumptions().economics.is_none() {
        return Err(BacktestError::Window(format!(
            "`{}` has no [plan]: a fiscal-year hindcast scores margins and capex, which need its economics",
            scenario.name()
        )));
    }
    let as_of = economics_as_of(scenario, history, origin, to, paths)?;
    let results = simulate(
        &as_of,
        &RunOptions {
            paths_out: paths,
            ..Default::default()
        },
    )
    .map_err(|source| BacktestError::Run { origin, source })?;
    let rows: Vec<FiscalRow> = fiscal_year_values(&results)
        .into_iter()
        .map(|(year, metric, values)| {
            score_fiscal(
                year,
                metric,
                &values,
                reported_fiscal(history, filed, year, metric),
            )
        })
        .collect();
    if rows.is_empty() {
        return Err(BacktestError::Window(format!(
            "no whole fiscal year (April to March) lies between {origin} and {to}"
        )));
    }
    Ok(rows)
}

/// `fiscal_backtest.csv`: one row per fiscal year and metric (columns in docs/outputs.md).
///
/// # Errors
///
/// I/O errors of `out`.
pub fn write_fiscal_csv(
    scenario: &Scenario,
    origin: Quarter,
    paths: u64,
    rows: &[FiscalRow],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    use crate::output::plain;
    writeln!(
        out,
        "scenario,origin,fiscal_year,metric,reported,reported_source,mean,se,p5,p50,p95,pit,paths,\
         seed,scenario_sha256,cloudcapex_version"
    )?;
    let optional = |v: Option<f64>| v.map(plain).unwrap_or_default();
    for r in rows {
        writeln!(
            out,
            "{},{origin},{},{},{},\"{}\",{},{},{},{},{},{},{paths},{},{},{}",
            scenario.name(),
            r.label(),
            r.metric,
            optional(r.reported),
            r.reported_source.replace('"', "'"),
            plain(r.mean),
            plain(r.se),
            plain(r.p5),
            plain(r.p50),
            plain(r.p95),
            optional(r.pit),
            scenario.simulation().seed,
            scenario.sha256(),
            crate::output::CRATE_VERSION,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_years_end_in_march() {
        let q = |s: &str| s.parse::<Quarter>().unwrap();
        assert_eq!(fiscal_year(q("2025Q1")), 2025);
        assert_eq!(fiscal_year(q("2025Q2")), 2026);
        assert_eq!(fiscal_year(q("2026Q1")), 2026);
        assert_eq!(fiscal_label(2026), "FY26");
    }

    /// FY26 from the embedded history: revenue from its four quarters, EBITA and capex
    /// from the filings (two quarters of EBITA and one of capex are not reported).
    #[test]
    fn reported_fiscal_years_come_from_quarters_or_filings() {
        let history = History::parse("embedded", crate::history::EMBEDDED).unwrap();
        let f = |m| reported_fiscal(&history, &FILED_FISCAL_YEARS, 2026, m).unwrap();
        let (revenue, source) = f("revenue_rmb_bn");
        assert!((revenue - (33.398 + 39.824 + 43.3 + 41.6)).abs() < 1e-9);
        assert_eq!(source, "quarters");
        assert_eq!(f("adj_ebita_rmb_bn").0, 14.265);
        assert!((f("ebita_margin").0 - 14.265 / revenue).abs() < 1e-12);
        assert_eq!(f("capex_rmb_bn").0, 126.0);
        assert!(
            reported_fiscal(&history, &FILED_FISCAL_YEARS, 2026, "depreciation_rmb_bn").is_none()
        );
    }

    #[test]
    fn the_base_as_of_2025q1_starts_from_the_reported_quarter() {
        let base = Scenario::load("scenarios/base.toml", &[]).unwrap();
        let history = History::parse("embedded", crate::history::EMBEDDED).unwrap();
        let origin: Quarter = "2025Q1".parse().unwrap();
        let s = economics_as_of(&base, &history, origin, "2026Q1".parse().unwrap(), 100).unwrap();
        let a = s.assumptions();
        assert_eq!(a.time.start_quarter, origin);
        assert_eq!(a.time.horizon_quarters, 4);
        let total: f64 = a
            .revenue
            .segments
            .values()
            .map(|seg| seg.start_revenue_rmb_bn.bounds().0)
            .sum();
        assert!((total - 30.127).abs() < 1e-9, "{total}");
        // AI, growing fastest, is a smaller share a year earlier than in 2026Q1.
        let ai = a.revenue.segments["ai"].start_revenue_rmb_bn.bounds().0;
        assert!(ai / total < 8.971 / 41.6, "{ai}");
        let text = s.resolved_toml();
        assert!(text.contains("start_ebita_margin = 0.079"), "{text}");
        assert!(
            !text.contains("2025Q2 = 38.6"),
            "the later reported spend is forecast"
        );
    }
}
