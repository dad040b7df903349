//! Running several validated scenarios in parallel and writing each one's outputs into
//! its own folder. The CLI is a thin layer over this.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::Scenario;
use crate::output::{
    ClaimMode, OutputError, OutputSelection, RunJson, RunRecord, Transaction, TransactionError,
    write_comparison_report, write_outputs,
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
    /// The output folder could not be locked, claimed or committed.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
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

pub use crate::output::RUN_KIND;

/// A failure to write into a staged folder, named where the file would have been, not in
/// the hidden staging folder.
pub(crate) fn staged_output_error<'a>(
    transaction: &'a Transaction,
    scenario: &'a str,
) -> impl Fn(OutputError) -> BatchError + 'a {
    move |source| BatchError::Output {
        scenario: scenario.to_string(),
        source: OutputError {
            path: transaction.final_path(&source.path),
            source: source.source,
        },
    }
}

/// Simulates `scenarios` in parallel on the current rayon pool, then writes each into
/// `out_dir/<scenario name>/`, all swapped in together as one [`Transaction`]: nothing
/// changes in `out_dir` unless every scenario simulated and every file was written.
///
/// # Errors
///
/// [`BatchError`] for the first scenario that failed, or a folder in the way
/// ([`BatchError::Transaction`]).
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
/// several scenarios, also the comparison page `out_dir/comparison/report.html`), calling
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
    let mut transaction = Transaction::begin(out_dir)?;
    let names: Vec<&str> = scenarios.iter().map(Scenario::name).collect();
    claim_outputs(&mut transaction, &names, selection)?;
    let finished = run_into(&mut transaction, scenarios, options, selection, on_block)?;
    transaction.commit()?;
    Ok(finished)
}

/// Claims the folders a run of scenarios `names` writes (each `OUT/<name>`, and
/// `OUT/comparison` with `selection.report` and several names), before any work: a folder
/// in the way is refused now, not after the simulation.
///
/// # Errors
///
/// [`TransactionError`] naming what is in the way.
pub fn claim_outputs(
    transaction: &mut Transaction,
    names: &[&str],
    selection: &OutputSelection,
) -> Result<(), TransactionError> {
    for name in names {
        transaction.claim(name, RUN_KIND, ClaimMode::Replace)?;
    }
    if selection.report && names.len() > 1 {
        let compares: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        transaction.claim_comparison(&compares)?;
    }
    Ok(())
}

/// Simulates `scenarios` in parallel and writes each into its folder staged by
/// `transaction` (claimed by [`claim_outputs`]); the caller commits.
///
/// # Errors
///
/// As [`run_and_write`].
///
/// # Panics
///
/// As [`run_and_write`], and if a scenario's folder was not claimed.
pub fn run_into(
    transaction: &mut Transaction,
    scenarios: &[Scenario],
    options: &RunOptions,
    selection: &OutputSelection,
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
    write_results(transaction, done, selection, threads)
}

/// Writes each scenario's results (with the seconds its simulation took) into its folder
/// staged by `transaction`, and with `selection.report` and several scenarios the
/// comparison page: what [`run_into`] does once the simulations finished, and what
/// `cloudcapex merge` does with merged shards. The caller commits; the [`Finished`] name
/// the folders as they will be after the commit.
///
/// # Errors
///
/// [`BatchError::Output`] for the first output that could not be written.
///
/// # Panics
///
/// If a scenario's folder was not claimed ([`claim_outputs`]).
pub fn write_results(
    transaction: &mut Transaction,
    done: Vec<(&Scenario, Results, f64)>,
    selection: &OutputSelection,
    threads: usize,
) -> Result<Vec<Finished>, BatchError> {
    let finished = done
        .into_iter()
        .map(|(scenario, results, elapsed)| {
            let staged = transaction
                .staged(scenario.name())
                .expect("the scenario's folder was claimed");
            let folder = transaction.out().join(scenario.name());
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
            let files = write_outputs(&staged, &record, selection, &RunJson::new(threads, elapsed))
                .map_err(staged_output_error(transaction, scenario.name()))?
                .into_iter()
                .map(|f| folder.join(f.file_name().expect("a file")))
                .collect();
            Ok(Finished {
                results,
                folder,
                files,
            })
        })
        .collect::<Result<Vec<_>, BatchError>>()?;
    if selection.report && finished.len() > 1 {
        let staged = transaction
            .staged(crate::output::COMPARISON)
            .expect("the comparison page's folder was claimed");
        let runs: Vec<&Results> = finished.iter().map(|f| &f.results).collect();
        write_comparison_report(&staged, &runs).map_err(|source: OutputError| {
            BatchError::Output {
                scenario: "comparison".to_string(),
                source,
            }
        })?;
    }
    Ok(finished)
}
