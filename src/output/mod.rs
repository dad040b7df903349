//! Exporters: one per output file, behind the [`Exporter`] trait, writing into a folder
//! that a [`Transaction`] stages and swaps into `OUT` whole, so a reader sees one run's
//! folder or the one before, never a mix (docs/reliability.md). Columns are documented in
//! docs/outputs.md.

mod assumptions;
mod charts;
pub mod consensus;
mod csv_files;
mod in_flight;
mod labels;
mod lock;
pub mod manifest;
mod mixture;
#[cfg(feature = "parquet")]
mod parquet_files;
mod report;
mod run_json;
mod scatter;
mod terminal;
mod transaction;
mod verdict;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use assumptions::{AssumptionRow, assumption_rows};
pub use charts::{
    FAN_CHARTS, FanChartSvg, HISTOGRAMS, HistogramReference, HistogramSvg, SwingBar,
    comparison_medians_svg, comparison_ranges_svg, fan_with_reported_svg, scatter_svg, tornado_svg,
};
pub use csv_files::{
    CONSENSUS_COLUMNS, ConsensusCsv, ConvergenceCsv, DriversCsv, FiscalYearsCsv, PathScalarsCsv,
    PathsCsv, QuarterlyCsv, SummaryCsv,
};
pub use labels::{DisplayUnit, MetricLabel, driver_label, metric_label};
pub use lock::{LOCK_FILE, LockError, LockMode, OutLock};
pub use mixture::{
    MIX_COLUMNS, MixCsv, MixPathsCsv, MixtureComponent, MixtureRecord, MixtureScenarioToml,
};
#[cfg(feature = "parquet")]
pub use parquet_files::{
    ConsensusParquet, ConvergenceParquet, DriversParquet, FiscalYearsParquet, PathScalarsParquet,
    PathsParquet, QuarterlyParquet, SummaryParquet,
};
pub use report::{ReportHtml, write_comparison_report};
pub use run_json::RunJson;
pub use scatter::{DRIVER_SCATTERS, DriverScatterSvg};
pub use terminal::summary_table;
pub use transaction::{
    COMPARISON, ClaimMode, RUN_KIND, Transaction, TransactionError, shard_folder,
};
pub use verdict::{
    MAX_DRIVER_FIT_PATHS, NpvDriver, NpvDrivers, PlanVerdict, median_discount_rate, plan_headline,
};

use crate::Scenario;
use crate::runner::Results;

/// Removes every temporary output file and staging folder of this process and stops it
/// from writing or committing more; a commit under way is waited for (its few renames
/// finish), so `OUT` holds the new outputs whole or the old ones. Called on SIGINT/SIGTERM
/// by the command line, just before it exits with code 130.
pub fn remove_in_flight() {
    transaction::stop_on_interrupt();
}

/// Version of this crate, written into every output.
pub const CRATE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What an exporter can read: the scenario and its results.
#[derive(Clone, Copy, Debug)]
pub struct RunRecord<'a> {
    /// The validated scenario.
    pub scenario: &'a Scenario,
    /// Its results.
    pub results: &'a Results,
    /// Reported history, drawn on the fan charts of the metrics it reports.
    pub history: Option<&'a crate::history::History>,
}

/// Writes one output file.
pub trait Exporter {
    /// File name inside the scenario's output folder.
    fn file_name(&self) -> &'static str;

    /// Writes the whole file.
    ///
    /// # Errors
    ///
    /// Any I/O error of `out`.
    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()>;
}

/// The resolved scenario as TOML (`scenario.toml`): runs again to the same results.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResolvedScenarioToml;

impl Exporter for ResolvedScenarioToml {
    fn file_name(&self) -> &'static str {
        "scenario.toml"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        writeln!(
            out,
            "# Resolved scenario `{}` (after extends, --set and defaults), cloudcapex {}.\n\
             # scenario_sha256 = {}\n",
            run.scenario.name(),
            CRATE_VERSION,
            run.scenario.sha256()
        )?;
        out.write_all(run.scenario.resolved_toml().as_bytes())
    }
}

/// An output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct OutputError {
    /// The file or folder.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: io::Error,
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError {
        path: path.to_path_buf(),
        source,
    }
}

/// A temporary file in `dir` that becomes an output when renamed: created with the
/// permissions of a normal new file (0666 less the umask on Unix), not tempfile's
/// owner-only default, so notebooks run by other users can read the outputs.
fn output_temp(dir: &Path, prefix: &str) -> io::Result<in_flight::TrackedTemp> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    in_flight::TrackedTemp::create(&builder, dir)
}

/// Writes `exporter`'s file into `dir` through a temporary file.
fn write_temp(
    dir: &Path,
    exporter: &dyn Exporter,
    run: &RunRecord<'_>,
) -> Result<in_flight::TrackedTemp, OutputError> {
    let target = dir.join(exporter.file_name());
    let mut file =
        output_temp(dir, &format!(".cloudcapex.{}.", exporter.file_name())).map_err(at(&target))?;
    {
        let mut writer = io::BufWriter::new(file.as_file_mut());
        exporter.write(run, &mut writer).map_err(at(&target))?;
        writer.flush().map_err(at(&target))?;
    }
    file.as_file().sync_all().map_err(at(&target))?;
    Ok(file)
}

/// The formats the tables (quarterly, summary, convergence, paths, path scalars,
/// drivers) are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableFormats {
    /// CSV only: the default and the contract.
    #[default]
    Csv,
    /// Parquet only (cargo feature `parquet`).
    Parquet,
    /// Both, side by side.
    CsvAndParquet,
}

impl TableFormats {
    /// Whether the CSV tables are written.
    pub fn csv(self) -> bool {
        matches!(self, TableFormats::Csv | TableFormats::CsvAndParquet)
    }

    /// Whether the Parquet tables are written.
    pub fn parquet(self) -> bool {
        matches!(self, TableFormats::Parquet | TableFormats::CsvAndParquet)
    }

    /// Whether this build can write them: Parquet needs the cargo feature `parquet`.
    pub fn supported(self) -> bool {
        cfg!(feature = "parquet") || !self.parquet()
    }
}

/// Which optional outputs to write besides the tables, `scenario.toml` and `run.json`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputSelection {
    /// The tables' formats (CSV unless asked).
    pub formats: TableFormats,
    /// `paths.csv` and `path_scalars.csv` (of the paths the run kept).
    pub paths: bool,
    /// `report.html` and its SVG charts.
    pub report: bool,
    /// `drivers.csv` for every path (`--drivers`); with `paths` alone it covers the kept
    /// paths.
    pub drivers: bool,
    /// Reported history drawn on the report's revenue and margin fan charts.
    pub history: Option<std::sync::Arc<crate::history::History>>,
}

/// Writes every output of one scenario into `dir` (created if needed; a folder a
/// [`Transaction`] staged): all files are written to temporary names first and renamed only
/// when all succeeded; `run.json`, which lists them, is written last. Returns the files
/// written, `run.json` last.
///
/// # Errors
///
/// [`OutputError`] naming the file that could not be written.
pub fn write_outputs(
    dir: &Path,
    run: &RunRecord<'_>,
    selection: &OutputSelection,
    run_json: &RunJson,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    write_into(dir, run, selection, run_json)
}

/// Writes a mixture's outputs into `dir` (as [`write_outputs`]; `run.scenario` is the
/// mixture's first component, whose consensus anchors `consensus.csv` compares with):
/// the tables, `mix.csv`, with kept paths `paths.csv`, `path_scalars.csv` and
/// `mix_paths.csv`, the mixture's `scenario.toml`, and `run.json` with its components.
/// Not `drivers.csv`: a path's drawn inputs are its component's, whose inputs may differ
/// (`mix_paths.csv` names it); nor the report (the CLI refuses `--report` for a mixture).
///
/// # Errors
///
/// [`OutputError`] naming the file that could not be written.
pub fn write_mixture_outputs(
    dir: &Path,
    run: &RunRecord<'_>,
    selection: &OutputSelection,
    run_json: &RunJson,
    mixture: &std::sync::Arc<MixtureRecord>,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    let mut exporters: Vec<Box<dyn Exporter>> = exporters(dir, run, selection)?
        .into_iter()
        .filter(|e| !e.file_name().starts_with("drivers."))
        .map(|e| -> Box<dyn Exporter> {
            if e.file_name() == ResolvedScenarioToml.file_name() {
                Box::new(MixtureScenarioToml(mixture.clone()))
            } else {
                e
            }
        })
        .collect();
    exporters.push(Box::new(MixCsv(mixture.clone())));
    if selection.paths {
        exporters.push(Box::new(MixPathsCsv(mixture.clone())));
    }
    let run_json = run_json.clone().with_mixture(mixture.clone());
    write_exporters(dir, run, &exporters, &run_json)
}

fn write_into(
    dir: &Path,
    run: &RunRecord<'_>,
    selection: &OutputSelection,
    run_json: &RunJson,
) -> Result<Vec<PathBuf>, OutputError> {
    let exporters = exporters(dir, run, selection)?;
    write_exporters(dir, run, &exporters, run_json)
}

/// The exporters of a run's outputs, in the order they are written.
fn exporters(
    dir: &Path,
    run: &RunRecord<'_>,
    selection: &OutputSelection,
) -> Result<Vec<Box<dyn Exporter>>, OutputError> {
    let mut exporters: Vec<Box<dyn Exporter>> = Vec::new();
    let csv = selection.formats.csv();
    if csv {
        exporters.push(Box::new(QuarterlyCsv));
        exporters.push(Box::new(SummaryCsv));
        exporters.push(Box::new(ConvergenceCsv));
        exporters.push(Box::new(FiscalYearsCsv));
        exporters.push(Box::new(ConsensusCsv));
    }
    #[cfg(feature = "parquet")]
    if selection.formats.parquet() {
        exporters.push(Box::new(QuarterlyParquet));
        exporters.push(Box::new(SummaryParquet));
        exporters.push(Box::new(ConvergenceParquet));
        exporters.push(Box::new(FiscalYearsParquet));
        exporters.push(Box::new(ConsensusParquet));
    }
    // `cfg!`, not `#[cfg]`: `dir` is then used in either build.
    if selection.formats.parquet() && !cfg!(feature = "parquet") {
        return Err(OutputError {
            path: dir.to_path_buf(),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "Parquet tables need the cargo feature `parquet` (cargo build --release --features parquet)",
            ),
        });
    }
    exporters.push(Box::new(ResolvedScenarioToml));
    if selection.report {
        for chart in FAN_CHARTS.iter().filter(|c| c.applies_to(run.results)) {
            exporters.push(Box::new(*chart));
        }
        for chart in HISTOGRAMS.iter().filter(|c| c.applies_to(run.results)) {
            exporters.push(Box::new(*chart));
        }
        // Fitted once for the page and its three scatters.
        let drivers = NpvDrivers::of(run.scenario, run.results).map(std::sync::Arc::new);
        for chart in &DRIVER_SCATTERS {
            let chart = chart.with_drivers(drivers.clone());
            if chart.applies_to(run) {
                exporters.push(Box::new(chart));
            }
        }
        exporters.push(Box::new(ReportHtml {
            tables: selection.formats,
            drivers,
        }));
    }
    if selection.paths && csv {
        exporters.push(Box::new(PathsCsv));
        exporters.push(Box::new(PathScalarsCsv));
    }
    if (selection.paths || selection.drivers) && csv {
        exporters.push(Box::new(DriversCsv {
            all: selection.drivers,
        }));
    }
    #[cfg(feature = "parquet")]
    if selection.formats.parquet() {
        if selection.paths {
            exporters.push(Box::new(PathsParquet));
            exporters.push(Box::new(PathScalarsParquet));
        }
        if selection.paths || selection.drivers {
            exporters.push(Box::new(DriversParquet {
                all: selection.drivers,
            }));
        }
    }
    Ok(exporters)
}

/// Writes `exporters`' files into `dir`, then `run.json` listing them.
fn write_exporters(
    dir: &Path,
    run: &RunRecord<'_>,
    exporters: &[Box<dyn Exporter>],
    run_json: &RunJson,
) -> Result<Vec<PathBuf>, OutputError> {
    // A target the renames below could not replace (a folder of that name) is found before
    // any of them, so a failure cannot leave some files new and others old.
    for name in exporters.iter().map(|e| e.file_name()).chain(["run.json"]) {
        let target = dir.join(name);
        if target.is_dir() {
            return Err(OutputError {
                path: target,
                source: io::Error::other("a folder is in the way of this output file; move it"),
            });
        }
    }
    let temps = exporters
        .iter()
        .map(|e| write_temp(dir, e.as_ref(), run))
        .collect::<Result<Vec<_>, _>>()?;
    let mut written = Vec::new();
    for (exporter, temp) in exporters.iter().zip(temps) {
        let target = dir.join(exporter.file_name());
        temp.persist(&target).map_err(|source| OutputError {
            path: target.clone(),
            source,
        })?;
        written.push(target);
    }
    let names: Vec<String> = exporters
        .iter()
        .map(|e| e.file_name().to_string())
        .collect();
    let json = run_json.with_outputs(names);
    let target = dir.join(json.file_name());
    write_temp(dir, &json, run)?
        .persist(&target)
        .map_err(|source| OutputError {
            path: target.clone(),
            source,
        })?;
    written.push(target);
    Ok(written)
}

/// Writes one file at `target` through a temporary file in the same folder (created if
/// needed), renamed into place only when `write` succeeded.
///
/// # Errors
///
/// [`OutputError`] naming `target`.
pub fn write_atomically(
    target: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<PathBuf, OutputError> {
    let fail = |source| OutputError {
        path: target.to_path_buf(),
        source,
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut temp = output_temp(dir, ".cloudcapex.").map_err(fail)?;
    {
        let mut writer = io::BufWriter::new(temp.as_file_mut());
        write(&mut writer).map_err(fail)?;
        writer.flush().map_err(fail)?;
    }
    temp.persist(target).map_err(fail)?;
    Ok(target.to_path_buf())
}

/// A number as a plain decimal (never exponent notation; shortest text that reads back to
/// the same f64), or the empty string for a missing value.
pub fn plain(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_decimals() {
        assert_eq!(plain(1e-7), "0.0000001");
        assert_eq!(plain(12.5), "12.5");
        assert_eq!(plain(f64::NAN), "");
        assert_eq!(plain(0.1 + 0.2).parse::<f64>().unwrap(), 0.1 + 0.2);
    }
}
