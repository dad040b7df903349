//! Running several validated scenarios in parallel and writing each one's outputs into
//! its own folder. The CLI is a thin layer over this.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::Scenario;
use crate::output::{
    OutputError, OutputSelection, RunJson, RunRecord, write_comparison_report, write_outputs,
};
use crate::runner::{Results, RunError, RunOptions, simulate_observed};

/// A finished scenario: its results and where they were written.
#[derive(Debug)]
pub struct Finished {
    /// Results in memory.
    pub results: Results,
    /// Output folder.
    pub folder: PathBuf,
    /// Files written, `run.json` last.
    pub files: Vec<PathBuf>,
}

/// Why a batch failed after validation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// Simulation failed.
    #[error("scenario `{scenario}`: {source}")]
    Run {
        /// Scenario name.
        scenario: String,
        /// Cause.
        #[source]
        source: RunError,
    },
    /// An output could not be written.
    #[error("scenario `{scenario}`: {source}")]
    Output {
        /// Scenario name.
        scenario: String,
        /// Cause.
        #[source]
        source: OutputError,
    },
}

/// Simulates `scenarios` in parallel on the current rayon pool, then writes each into
/// `out_dir/<scenario name>/`. Nothing is written unless every scenario simulated.
///
/// # Errors
///
/// [`BatchError`] for the first scenario that failed.
///
/// # Panics
///
/// If two scenarios share a name (the CLI refuses that before running).
pub fn run_and_write(
    scenarios: &[Scenario],
    options: &RunOptions,
    out_dir: &Path,
) -> Result<Vec<Finished>, BatchError> {
    let selection = OutputSelection {
        paths: options.paths_out > 0,
        report: false,
        drivers: false,
        history: None,
        formats: crate::output::TableFormats::Csv,
    };
    run_and_write_observed(scenarios, options, &selection, out_dir, &|_, _| {})
}

/// [`run_and_write`] with a choice of optional outputs (with `selection.report` and
/// several scenarios, also the comparison page `out_dir/report.html`), calling
/// `on_block(scenario index, paths)` as blocks finish (for progress bars; it cannot change
/// the results).
///
/// # Errors
///
/// As [`run_and_write`].
///
/// # Panics
///
/// As [`run_and_write`].
pub fn run_and_write_observed(
    scenarios: &[Scenario],
    options: &RunOptions,
    selection: &OutputSelection,
    out_dir: &Path,
    on_block: &(dyn Fn(usize, u64) + Sync),
) -> Result<Vec<Finished>, BatchError> {
    let names: std::collections::BTreeSet<&str> = scenarios.iter().map(Scenario::name).collect();
    assert_eq!(
        names.len(),
        scenarios.len(),
        "scenario names must be distinct"
    );
    let threads = rayon::current_num_threads();
    let runs: Vec<(Result<Results, RunError>, f64)> = scenarios
        .par_iter()
        .enumerate()
        .map(|(k, s)| {
            let start = Instant::now();
            let results = simulate_observed(s, options, &|paths| on_block(k, paths));
            (results, start.elapsed().as_secs_f64())
        })
        .collect();
    let mut done = Vec::with_capacity(runs.len());
    for (scenario, (results, elapsed)) in scenarios.iter().zip(runs) {
        let results = results.map_err(|source| BatchError::Run {
            scenario: scenario.name().to_string(),
            source,
        })?;
        done.push((scenario, results, elapsed));
    }
    write_results(out_dir, done, selection, threads)
}

/// Writes each scenario's results (with the seconds its simulation took) into
/// `out_dir/<scenario name>/`, and with `selection.report` and several scenarios the
/// comparison page `out_dir/report.html`: what [`run_and_write_observed`] does once the
/// simulations finished, and what `cloudcapex merge` does with merged shards.
///
/// # Errors
///
/// [`BatchError::Output`] for the first output that could not be written.
pub fn write_results(
    out_dir: &Path,
    done: Vec<(&Scenario, Results, f64)>,
    selection: &OutputSelection,
    threads: usize,
) -> Result<Vec<Finished>, BatchError> {
    let finished = done
        .into_iter()
        .map(|(scenario, results, elapsed)| {
            let folder = out_dir.join(scenario.name());
            // A stopping rule may end the run early: record the paths actually run, so that
            // scenario.toml reproduces the results without the rule.
            let ran = scenario
                .clone()
                .with_paths(results.paths)
                .expect("at least one block ran");
            let record = RunRecord {
                scenario: &ran,
                results: &results,
                history: selection.history.as_deref(),
            };
            let files = write_outputs(&folder, &record, selection, &RunJson::new(threads, elapsed))
                .map_err(|source| BatchError::Output {
                    scenario: scenario.name().to_string(),
                    source,
                })?;
            Ok(Finished {
                results,
                folder,
                files,
            })
        })
        .collect::<Result<Vec<_>, BatchError>>()?;
    if selection.report && finished.len() > 1 {
        let runs: Vec<&Results> = finished.iter().map(|f| &f.results).collect();
        write_comparison_report(out_dir, &runs).map_err(|source| BatchError::Output {
            scenario: "comparison".to_string(),
            source,
        })?;
    }
    Ok(finished)
}
