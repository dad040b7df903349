//! The tidy CSV exporters: `quarterly.csv`, `summary.csv`, `paths.csv`, `fiscal_years.csv`,
//! `consensus.csv`, ...

use std::io::{self, Write};

use super::consensus::consensus_rows;
use super::{CRATE_VERSION, Exporter, RunRecord, plain};
use crate::stats::{QUANTILE_NAMES, ScalarSummary, Summary};
use crate::time::Quarter;

fn csv_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Statistic columns shared by `quarterly.csv` and `summary.csv`.
fn stat_header() -> Vec<&'static str> {
    let mut h = vec!["count", "mean", "sd", "se"];
    h.extend(QUANTILE_NAMES);
    h
}

fn stat_fields(summary: Option<&Summary>) -> Vec<String> {
    match summary {
        None => {
            let mut v = vec!["0".to_string()];
            v.extend(std::iter::repeat_n(String::new(), 3 + QUANTILE_NAMES.len()));
            v
        }
        Some(s) => {
            let mut v = vec![s.count.to_string(), plain(s.mean), plain(s.sd), plain(s.se)];
            v.extend(s.quantiles.iter().map(|&q| plain(q)));
            v
        }
    }
}

/// Columns only `summary.csv` has (exact per-path values make them possible).
const SCALAR_EXTRAS: [&str; 6] = [
    "missing",
    "prob_negative",
    "prob_negative_se",
    "cvar5",
    "cvar5_se",
    "quantiles",
];

fn scalar_extras(stats: &ScalarSummary) -> [String; 6] {
    [
        stats.missing.to_string(),
        plain(stats.prob_negative),
        plain(stats.prob_negative_se),
        plain(stats.cvar5),
        plain(stats.cvar5_se),
        if stats.exact { "exact" } else { "sketch" }.to_string(),
    ]
}

const PROVENANCE: [&str; 3] = ["seed", "scenario_sha256", "cloudcapex_version"];

fn provenance(run: &RunRecord<'_>) -> [String; 3] {
    [
        run.results.seed.to_string(),
        run.results.scenario_sha256.clone(),
        CRATE_VERSION.to_string(),
    ]
}

/// `quarterly.csv`: one row per scenario, quarter and metric, with the streamed statistics.
#[derive(Clone, Copy, Debug, Default)]
pub struct QuarterlyCsv;

impl Exporter for QuarterlyCsv {
    fn file_name(&self) -> &'static str {
        "quarterly.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "scenario",
            "quarter_index",
            "quarter_label",
            "quarter_end",
            "metric",
        ];
        header.extend(stat_header());
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        for stat in &run.results.quarterly {
            let mut row = vec![
                run.results.scenario.clone(),
                stat.quarter_index.to_string(),
                stat.quarter.label(),
                stat.quarter.end_date(),
                stat.metric.clone(),
            ];
            row.extend(stat_fields(stat.summary.as_ref()));
            row.extend(tail.iter().cloned());
            w.write_record(&row).map_err(csv_error)?;
        }
        w.flush()
    }
}

/// `summary.csv`: one row per per-path scalar metric, with exact quantiles for the metrics
/// kept per path and sketch quantiles for the others (column `quantiles`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec!["scenario", "metric"];
        header.extend(stat_header());
        header.extend(SCALAR_EXTRAS);
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        for (metric, stats) in &run.results.scalars {
            let mut row = vec![run.results.scenario.clone(), metric.clone()];
            row.extend(stat_fields(stats.summary.as_ref()));
            row.extend(scalar_extras(stats));
            row.extend(tail.iter().cloned());
            w.write_record(&row).map_err(csv_error)?;
        }
        w.flush()
    }
}

/// `paths.csv`: the first N paths' quarterly values, long format.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathsCsv;

impl Exporter for PathsCsv {
    fn file_name(&self) -> &'static str {
        "paths.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "scenario",
            "path",
            "quarter_index",
            "quarter_label",
            "quarter_end",
            "metric",
            "value",
        ];
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        let labels: Vec<(String, String)> = results
            .calendar
            .iter()
            .map(|q| (q.label(), q.end_date()))
            .collect();
        for record in &results.kept_paths {
            let path = record.path.to_string();
            for (m, metric) in results.quarterly_metrics.iter().enumerate() {
                for (t, (label, end)) in labels.iter().enumerate() {
                    let value = plain(record.values[m * results.quarters + t]);
                    let t_text = t.to_string();
                    let fields: [&str; 10] = [
                        &results.scenario,
                        &path,
                        &t_text,
                        label,
                        end,
                        metric,
                        &value,
                        &tail[0],
                        &tail[1],
                        &tail[2],
                    ];
                    w.write_record(fields).map_err(csv_error)?;
                }
            }
        }
        w.flush()
    }
}

/// `path_scalars.csv`: the first N paths' per-path scalar metrics (NPV, IRR...), long format.
#[derive(Clone, Copy, Debug, Default)]
pub struct PathScalarsCsv;

impl Exporter for PathScalarsCsv {
    fn file_name(&self) -> &'static str {
        "path_scalars.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec!["scenario", "path", "metric", "value"];
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        for record in &results.kept_paths {
            let path = record.path.to_string();
            for ((metric, _), &value) in results.scalars.iter().zip(&record.scalars) {
                let value = plain(value);
                let fields: [&str; 7] = [
                    &results.scenario,
                    &path,
                    metric,
                    &value,
                    &tail[0],
                    &tail[1],
                    &tail[2],
                ];
                w.write_record(fields).map_err(csv_error)?;
            }
        }
        w.flush()
    }
}

/// One row of the convergence table: a metric's running mean after `paths` paths.
pub(super) struct ConvergenceRow<'a> {
    pub metric: &'a str,
    pub paths: u64,
    pub count: u64,
    pub mean: f64,
    pub se: f64,
}

/// The running mean and standard error of every exactly kept per-path metric after each
/// block of paths, in block order (and after the last path).
pub(super) fn convergence_rows(results: &crate::runner::Results) -> Vec<ConvergenceRow<'_>> {
    let block = crate::runner::BLOCK_SIZE as usize;
    let per_path = results.scalars.iter().zip(&results.scalar_values);
    let mut rows = Vec::new();
    for ((metric, _), values) in per_path.filter_map(|(s, v)| Some((s, v.as_ref()?))) {
        let mut moments = crate::stats::Moments::default();
        for (i, &x) in values.iter().enumerate() {
            if !x.is_nan() {
                moments.push(x);
            }
            if (i + 1) % block == 0 || i + 1 == values.len() {
                rows.push(ConvergenceRow {
                    metric,
                    paths: (i + 1) as u64,
                    count: moments.count(),
                    mean: moments.mean(),
                    se: moments.standard_error(),
                });
            }
        }
    }
    rows
}

/// `convergence.csv`: the running mean and standard error of every per-path metric after
/// each block of paths, in block order: how the estimate settled as paths were added.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConvergenceCsv;

impl Exporter for ConvergenceCsv {
    fn file_name(&self) -> &'static str {
        "convergence.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec!["scenario", "metric", "paths", "count", "mean", "se"];
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        for row in convergence_rows(results) {
            let fields = [
                results.scenario.clone(),
                row.metric.to_string(),
                row.paths.to_string(),
                row.count.to_string(),
                plain(row.mean),
                plain(row.se),
            ];
            w.write_record(fields.iter().chain(tail.iter()))
                .map_err(csv_error)?;
        }
        w.flush()
    }
}

/// The drivers table: column names of the drawn inputs, regimes and events, one row of
/// them per path, and the per-path outputs kept exactly.
pub(super) struct DriversTable<'a> {
    pub names: Vec<String>,
    pub rows: Vec<Vec<f64>>,
    pub outputs: Vec<(&'a str, &'a Vec<f64>)>,
}

impl<'a> DriversTable<'a> {
    /// Every path's drivers (`all`), else the kept paths'.
    pub fn new(run: &RunRecord<'a>, all: bool) -> Self {
        let results = run.results;
        let paths = if all {
            results.paths
        } else {
            results.kept_paths.len() as u64
        };
        let (names, rows) = crate::model::Model::new(run.scenario).path_drivers(paths);
        let outputs = results
            .scalars
            .iter()
            .zip(&results.scalar_values)
            .filter_map(|((name, _), values)| Some((name.as_str(), values.as_ref()?)))
            .collect();
        DriversTable {
            names,
            rows,
            outputs,
        }
    }
}

/// `drivers.csv`: one wide row per path, what drove it: every assumption drawn once per
/// path (by key path), each regime's share of the projected quarters, each event's firing
/// count and first quarter, and the per-path outputs kept exactly
/// ([`crate::model::PER_PATH_SCALARS`]). `all` writes every path (`--drivers`), else the
/// paths the run kept (`--paths-out N`).
#[derive(Clone, Copy, Debug, Default)]
pub struct DriversCsv {
    /// Every path rather than the kept ones.
    pub all: bool,
}

impl Exporter for DriversCsv {
    fn file_name(&self) -> &'static str {
        "drivers.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let results = run.results;
        let drivers = DriversTable::new(run, self.all);
        let mut w = csv::Writer::from_writer(out);
        let mut header: Vec<&str> = vec!["scenario", "path"];
        header.extend(drivers.names.iter().map(String::as_str));
        header.extend(drivers.outputs.iter().map(|(n, _)| *n));
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        for (p, row) in drivers.rows.iter().enumerate() {
            let mut record = vec![results.scenario.clone(), p.to_string()];
            record.extend(row.iter().map(|v| plain(*v)));
            record.extend(drivers.outputs.iter().map(|(_, values)| plain(values[p])));
            record.extend(tail.iter().cloned());
            w.write_record(&record).map_err(csv_error)?;
        }
        w.flush()
    }
}

/// `fiscal_years.csv`: one row per fiscal year, world and metric (docs/outputs.md), with
/// the streamed statistics of its per-path values.
#[derive(Clone, Copy, Debug, Default)]
pub struct FiscalYearsCsv;

/// The fiscal year's label (`FY27`), first calendar quarter and last quarter's end date.
pub(super) fn fiscal_year_span(fiscal_year: i32) -> (String, Quarter, String) {
    let first = Quarter::new(fiscal_year - 1, 2).expect("a valid quarter");
    (
        format!("FY{:02}", fiscal_year.rem_euclid(100)),
        first,
        first.plus(3).end_date(),
    )
}

impl Exporter for FiscalYearsCsv {
    fn file_name(&self) -> &'static str {
        "fiscal_years.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "scenario",
            "fiscal_year",
            "fiscal_year_label",
            "first_quarter",
            "last_quarter_end",
            "world",
            "metric",
        ];
        header.extend(stat_header());
        header.extend(["missing", "quantiles"]);
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        for stat in &run.results.fiscal_years {
            let (label, first, last_end) = fiscal_year_span(stat.key.fiscal_year);
            let mut row = vec![
                run.results.scenario.clone(),
                stat.key.fiscal_year.to_string(),
                label,
                first.label(),
                last_end,
                stat.key.world.to_string(),
                stat.key.metric.clone(),
            ];
            row.extend(stat_fields(stat.stats.summary.as_ref()));
            row.push(stat.stats.missing.to_string());
            row.push(if stat.stats.exact { "exact" } else { "sketch" }.to_string());
            row.extend(tail.iter().cloned());
            w.write_record(&row).map_err(csv_error)?;
        }
        w.flush()
    }
}

/// `consensus.csv`: each published figure of `[consensus.<name>]` beside the model's
/// statistics of the same fiscal year, world and metric.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsensusCsv;

/// `consensus.csv`'s columns before the provenance.
pub const CONSENSUS_COLUMNS: [&str; 20] = [
    "scenario",
    "name",
    "fiscal_year",
    "fiscal_year_label",
    "world",
    "metric",
    "anchor_low",
    "anchor_high",
    "source",
    "date",
    "note",
    "model_count",
    "model_mean",
    "model_se",
    "model_p5",
    "model_p50",
    "model_p95",
    "model_quantiles",
    "model_median_vs_anchor",
    "anchor_within_model_p5_p95",
];

impl Exporter for ConsensusCsv {
    fn file_name(&self) -> &'static str {
        "consensus.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = CONSENSUS_COLUMNS.to_vec();
        header.extend(PROVENANCE);
        w.write_record(&header).map_err(csv_error)?;
        let tail = provenance(run);
        let anchors = &run.scenario.assumptions().consensus;
        for row in consensus_rows(anchors, run.results) {
            let a = row.anchor;
            let summary = row.model.and_then(|m| m.stats.summary.as_ref());
            let stat = |f: fn(&Summary) -> f64| summary.map_or(String::new(), |s| plain(f(s)));
            let mut fields = vec![
                run.results.scenario.clone(),
                a.name.clone(),
                a.fiscal_year.to_string(),
                fiscal_year_span(a.fiscal_year).0,
                a.world.clone(),
                a.metric.clone(),
                a.low.map_or(String::new(), plain),
                a.high.map_or(String::new(), plain),
                a.source.clone(),
                a.date.clone(),
                a.note.clone(),
                summary.map_or(0, |s| s.count).to_string(),
                stat(|s| s.mean),
                stat(|s| s.se),
                stat(|s| s.quantiles[1]),
                stat(|s| s.quantiles[4]),
                stat(|s| s.quantiles[7]),
                row.model
                    .map_or("", |m| if m.stats.exact { "exact" } else { "sketch" })
                    .to_string(),
                row.median_position().unwrap_or("").to_string(),
                row.within_90pct_band()
                    .map_or(String::new(), |b| b.to_string()),
            ];
            fields.extend(tail.iter().cloned());
            w.write_record(&fields).map_err(csv_error)?;
        }
        w.flush()
    }
}
