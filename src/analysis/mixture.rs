//! A mixture of scenarios (e.g. boom, base and slowdown at 25/50/25) run as one
//! distribution and written as one output folder (`cloudcapex mix`): each path is drawn
//! from one component with probability its weight ([`crate::runner::simulate_mixture`]),
//! so the run's ordinary statistics are the mixture's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::Scenario;
use crate::batch::{BatchError, Finished, claim_outputs, staged_output_error, write_results};
use crate::output::{
    ClaimMode, MixtureComponent, MixtureRecord, OutputSelection, RunJson, RunRecord, Transaction,
    TransactionError, write_mixture_outputs,
};
use crate::runner::{MixtureAssignment, Results, RunOptions, simulate_mixture_observed};

/// The output kind of a mixture's folder (its manifest's), distinct from a run's so that
/// neither replaces the other's folder. A mixture of one component is that scenario's
/// run and writes a run's folder.
pub const MIX_KIND: &str = "mix";

/// The folder name of a mixture without `--name`.
pub const DEFAULT_MIX_NAME: &str = "mix";

/// One component as given: its file (as written on the command line), its validated
/// scenario (with the mixture's seed and path count) and its weight.
#[derive(Clone, Debug)]
pub struct MixtureInput {
    /// The file as given.
    pub file: PathBuf,
    /// The validated scenario.
    pub scenario: Scenario,
    /// Its weight.
    pub weight: f64,
}

/// The folder a mixture writes: a single component's own name (it is that scenario's
/// run), else `name` or [`DEFAULT_MIX_NAME`].
pub fn mixture_folder_name(name: Option<&str>, components: &[MixtureInput]) -> String {
    match components {
        [single] => single.scenario.name().to_string(),
        _ => name.unwrap_or(DEFAULT_MIX_NAME).to_string(),
    }
}

/// Claims the folder a mixture writes, before any work: a run's folder for a single
/// component (as `run` claims it), else `OUT/<name>` of kind [`MIX_KIND`].
///
/// # Errors
///
/// [`TransactionError`] naming what is in the way.
pub fn claim_mixture(
    transaction: &mut Transaction,
    name: &str,
    components: &[MixtureInput],
    selection: &OutputSelection,
) -> Result<(), TransactionError> {
    if components.len() == 1 {
        claim_outputs(transaction, &[name], selection)
    } else {
        transaction.claim(name, MIX_KIND, ClaimMode::Replace)?;
        Ok(())
    }
}

/// Simulates the mixture of `components` on the current rayon pool and writes it into
/// its folder `name` staged by `transaction` ([`claim_mixture`]); the caller commits. A
/// single component writes exactly what `run` writes for it; several write the run's
/// tables named `name`, with `mix.csv` and the mixture's `scenario.toml` and `run.json`
/// ([`write_mixture_outputs`]). `on_block(paths)` is called as blocks finish.
///
/// # Errors
///
/// [`BatchError::Run`] if the simulation fails (components that cannot be mixed
/// included), [`BatchError::Output`] if a file cannot be written.
///
/// # Panics
///
/// If the folder was not claimed.
///
/// # Examples
///
/// ```no_run
/// use cloudcapex::analysis::{MixtureInput, claim_mixture, run_mixture};
/// use cloudcapex::output::{OutputSelection, Transaction};
/// use cloudcapex::{runner::RunOptions, Scenario};
/// let base = Scenario::default_scenario();
/// let components: Vec<MixtureInput> = [0.5, 0.5]
///     .map(|weight| MixtureInput { file: "base.toml".into(), scenario: base.clone(), weight })
///     .into();
/// let selection = OutputSelection::default();
/// let mut transaction = Transaction::begin("out".as_ref()).unwrap();
/// claim_mixture(&mut transaction, "mix", &components, &selection).unwrap();
/// let options = RunOptions::default();
/// run_mixture(&mut transaction, "mix", &components, &options, &selection, &|_| {}).unwrap();
/// transaction.commit().unwrap();
/// ```
pub fn run_mixture(
    transaction: &mut Transaction,
    name: &str,
    components: &[MixtureInput],
    options: &RunOptions,
    selection: &OutputSelection,
    on_block: &(dyn Fn(u64) + Sync),
) -> Result<Finished, BatchError> {
    let weighted: Vec<(Scenario, f64)> = components
        .iter()
        .map(|c| (c.scenario.clone(), c.weight))
        .collect();
    let threads = rayon::current_num_threads();
    let start = Instant::now();
    let mut results =
        simulate_mixture_observed(&weighted, options, on_block).map_err(|source| {
            BatchError::Run {
                scenario: name.to_string(),
                source,
            }
        })?;
    let elapsed = start.elapsed().as_secs_f64();
    let [single] = components else {
        results.scenario = name.to_string();
        return write_mixture(
            transaction,
            components,
            results,
            selection,
            threads,
            elapsed,
        );
    };
    let done = vec![(&single.scenario, results, elapsed)];
    Ok(write_results(transaction, done, selection, threads)?.remove(0))
}

/// What a mixture's outputs say about its components: paths assigned to each and their
/// mean NPV (recomputed from the assignment, a pure function of seed and path).
///
/// # Panics
///
/// If `components` is empty or its weights cannot be mixed (checked by the run).
pub fn mixture_record(components: &[MixtureInput], results: &Results) -> MixtureRecord {
    let weights: Vec<f64> = components.iter().map(|c| c.weight).collect();
    let assignment = MixtureAssignment::new(results.seed, &weights).expect("weights checked");
    let npv = results
        .scalars
        .iter()
        .position(|(m, _)| m == "plan_npv_rmb_bn")
        .and_then(|k| results.scalar_values[k].as_deref());
    let mut paths = vec![0u64; components.len()];
    let (mut sums, mut defined) = (vec![0.0; components.len()], vec![0u64; components.len()]);
    for path in 0..results.paths {
        let k = assignment.component(path);
        paths[k] += 1;
        if let Some(x) = npv.map(|v| v[path as usize]).filter(|x| x.is_finite()) {
            sums[k] += x;
            defined[k] += 1;
        }
    }
    let all_defined = defined.iter().sum::<u64>() as f64;
    MixtureRecord {
        name: results.scenario.clone(),
        components: components
            .iter()
            .enumerate()
            .map(|(k, c)| MixtureComponent {
                file: c.file.display().to_string(),
                scenario: c.scenario.clone(),
                weight: c.weight,
                paths: paths[k],
                plan_npv_mean_rmb_bn: sums[k] / defined[k] as f64,
                plan_npv_contribution_rmb_bn: sums[k] / all_defined,
            })
            .collect(),
        kept_components: results
            .kept_paths
            .iter()
            .map(|p| assignment.component(p.path))
            .collect(),
    }
}

/// Writes a mixture of several components into its staged folder.
fn write_mixture(
    transaction: &Transaction,
    components: &[MixtureInput],
    results: Results,
    selection: &OutputSelection,
    threads: usize,
    elapsed: f64,
) -> Result<Finished, BatchError> {
    let name = results.scenario.clone();
    let record = Arc::new(mixture_record(components, &results));
    let staged = transaction
        .staged(&name)
        .expect("the mixture's folder was claimed");
    let run = RunRecord {
        scenario: &components[0].scenario,
        results: &results,
        history: selection.history.as_deref(),
    };
    let folder = transaction.out().join(&name);
    let files = write_mixture_outputs(
        &staged,
        &run,
        selection,
        &RunJson::new(threads, elapsed),
        &record,
    )
    .map_err(staged_output_error(transaction, &name))?
    .into_iter()
    .map(|f| folder.join(f.file_name().expect("a file")))
    .collect();
    Ok(Finished {
        results,
        folder,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record's counts add up to the paths, its contributions to the mixture's mean
    /// NPV, and the kept paths' components follow the assignment.
    #[test]
    fn the_record_adds_up_to_the_mixture() {
        let base = Scenario::default_scenario().with_paths(3000).unwrap();
        let components: Vec<MixtureInput> = [0.2, 0.8]
            .map(|weight| MixtureInput {
                file: "base.toml".into(),
                scenario: base.clone(),
                weight,
            })
            .into();
        let weighted: Vec<(Scenario, f64)> = components
            .iter()
            .map(|c| (c.scenario.clone(), c.weight))
            .collect();
        let options = RunOptions {
            paths_out: 10,
            ..Default::default()
        };
        let results = crate::runner::simulate_mixture(&weighted, &options).unwrap();
        let record = mixture_record(&components, &results);
        assert_eq!(record.components.iter().map(|c| c.paths).sum::<u64>(), 3000);
        let mean = results.scalar("plan_npv_rmb_bn").unwrap().mean;
        let contributions: f64 = record
            .components
            .iter()
            .map(|c| c.plan_npv_contribution_rmb_bn)
            .sum();
        assert!((contributions - mean).abs() <= 1e-9 * mean.abs().max(1.0));
        let assignment = MixtureAssignment::new(results.seed, &[0.2, 0.8]).unwrap();
        for (p, &k) in record.kept_components.iter().enumerate() {
            assert_eq!(k, assignment.component(p as u64));
        }
    }
}
