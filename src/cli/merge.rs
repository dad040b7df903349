//! `cloudcapex merge SHARD_DIR`: the shard files of `run --shard I/N` checked to be the
//! whole of one run per scenario and merged into that run's outputs, byte-identical to an
//! unsharded run's.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use cloudcapex::output::summary_table;
use cloudcapex::shard::{ShardError, find_shards};

use super::common::{OutputArgs, check_threads, failure, refuse, thread_pool};

/// The most paths `--drivers` writes a row for (as `run --drivers`).
const MAX_DRIVER_PATHS: u64 = 1_000_000;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The folder the shard tasks wrote into (their --out): shard-I-of-N.ccx files in it or
    /// in its scenario subfolders.
    shards: PathBuf,
    /// Output directory; each scenario writes into its own folder inside it, as `run` does.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Worker threads for the final statistics. Results do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// Do not print the summary tables.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    outputs: OutputArgs,
}

/// Runs `cloudcapex merge`.
pub fn run(args: MergeArgs) -> ExitCode {
    if let Err(message) = check_threads(args.threads).and(super::common::check_out(&args.out)) {
        return refuse(message);
    }
    let sets = match find_shards(&args.shards) {
        Ok(sets) => sets,
        Err(e @ ShardError::Io { .. }) => return failure(e),
        Err(e) => return refuse(e),
    };
    let paths_out = sets.iter().any(|s| s.header.paths_out > 0);
    let selection = match args.outputs.selection(paths_out) {
        Ok(s) => s,
        Err(message) => return refuse(message),
    };
    if args.outputs.drivers
        && let Some(set) = sets.iter().find(|s| s.header.paths > MAX_DRIVER_PATHS)
    {
        return refuse(format!(
            "--drivers writes a row per path: at most {MAX_DRIVER_PATHS} paths (scenario `{}` has {})",
            set.header.scenario, set.header.paths
        ));
    }
    let pool = match thread_pool(args.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let _lock = match super::common::lock_out(&args.out) {
        Ok(lock) => lock,
        Err(message) => return failure(message),
    };
    // Comparisons: comparison.csv joined.
    let (comparisons, sets): (Vec<_>, Vec<_>) = sets
        .into_iter()
        .partition(|s| s.header.kind == cloudcapex::shard::COMPARE);
    for set in &comparisons {
        match cloudcapex::analysis::merge_comparison(set, &args.out) {
            Ok(path) => {
                if !args.quiet {
                    println!(
                        "merged {} shards of a comparison of {} scenarios; written: {}",
                        set.header.shard_count,
                        set.header.units,
                        path.display()
                    );
                }
            }
            Err(e @ ShardError::Io { .. }) => return failure(e),
            Err(e) => return refuse(e),
        }
    }
    // Sobol analyses: their indices computed from the joined evaluations.
    let (sobols, sets): (Vec<_>, Vec<_>) = sets
        .into_iter()
        .partition(|s| s.header.kind == cloudcapex::shard::SOBOL);
    for set in &sobols {
        match cloudcapex::sensitivity::merge_sobol(set, &args.out) {
            Ok((sobol, path)) => {
                if !args.quiet {
                    println!(
                        "{}\nmerged {} shards of {} base rows; written: {}",
                        sobol.table(),
                        set.header.shard_count,
                        set.header.units,
                        path.display()
                    );
                }
            }
            Err(e @ ShardError::Io { .. }) => return failure(e),
            Err(e) => return refuse(e),
        }
    }
    // Sweeps: their sweep.csv (and point folders) joined; the runs' outputs below.
    let (sweeps, sets): (Vec<_>, Vec<_>) = sets
        .into_iter()
        .partition(|s| s.header.kind == cloudcapex::shard::SWEEP);
    for set in &sweeps {
        match cloudcapex::analysis::merge_sweep(set, &args.out) {
            Ok(path) => {
                if !args.quiet {
                    println!(
                        "merged {} shards of {} grid points; written: {}",
                        set.header.shard_count,
                        set.header.units,
                        path.display()
                    );
                }
            }
            Err(e @ ShardError::Io { .. }) => return failure(e),
            Err(e) => return refuse(e),
        }
    }
    let mut merged = Vec::with_capacity(sets.len());
    for set in &sets {
        let start = Instant::now();
        match pool.install(|| set.merge()) {
            Ok((scenario, results)) => {
                merged.push((scenario, results, start.elapsed().as_secs_f64()));
            }
            Err(e @ ShardError::Io { .. }) => return failure(e),
            Err(e) => return refuse(e),
        }
    }
    let done = merged.iter().map(|(s, r, t)| (s, r.clone(), *t)).collect();
    let threads = pool.current_num_threads();
    match cloudcapex::batch::write_results(&args.out, done, &selection, threads) {
        Ok(finished) => {
            if !args.quiet {
                for (f, set) in finished.iter().zip(&sets) {
                    println!("{}", summary_table(&f.results));
                    println!(
                        "merged {} shards of {} paths; outputs: {}\n",
                        set.header.shard_count,
                        set.header.paths,
                        f.folder.display()
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}
