//! `cloudcapex merge SHARD_DIR`: the shard files of `run --shard I/N` checked to be the
//! whole of one run per scenario and merged into that run's outputs, byte-identical to an
//! unsharded run's.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use cloudcapex::output::{ClaimMode, summary_table};
use cloudcapex::shard::{self, ShardError, ShardSet, find_shards};

use super::common::{OutputArgs, check_threads, failure, refuse, thread_pool};

/// The most paths `--drivers` writes a row for (as `run --drivers`).
pub(super) const MAX_DRIVER_PATHS: u64 = 1_000_000;

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
    if !args.shards.is_dir() {
        return refuse(format!(
            "{}: no such folder: give the folder the shard tasks wrote into (their --out)",
            args.shards.display()
        ));
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
    let mut transaction = match super::common::begin(&args.out) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // Every payload's checksum (and a sweep's point folders) before anything is written:
    // a damaged set leaves no other set's outputs behind either.
    for set in &sets {
        let checked = set.verify().and_then(|()| {
            if set.header.kind == shard::SWEEP {
                cloudcapex::analysis::check_sweep_shards(set)
            } else {
                Ok(())
            }
        });
        match checked {
            Ok(()) => {}
            Err(e @ ShardError::Io { .. }) => return failure(e),
            Err(e) => return refuse(e),
        }
    }
    // Every folder this merge writes claimed before any is: one in the way refuses the merge.
    let mut runs = Vec::new();
    for set in &sets {
        let kind = set.header.kind.as_str();
        let claimed = if kind == shard::RUN {
            runs.push(set.header.scenario.as_str());
            Ok(())
        } else {
            // A Sobol folder keeps an earlier --import-samples' evaluations beside the merge.
            let mode = if kind == shard::SOBOL {
                ClaimMode::Update
            } else {
                ClaimMode::Replace
            };
            transaction
                .claim(&set.header.scenario, kind, mode)
                .map(drop)
        };
        if let Err(e) = claimed {
            return super::common::transaction_error(e);
        }
    }
    if let Err(e) = cloudcapex::batch::claim_outputs(&mut transaction, &runs, &selection) {
        return super::common::transaction_error(e);
    }
    let staged = transaction.staged_root();
    let shown = |path: std::path::PathBuf| transaction.final_path(&path);
    // Points kinds first, each into its own files; the runs' outputs below (a sweep's point
    // folders are among them only when its shards were written elsewhere).
    let sets = match merge_kind(sets, shard::COMPARE, args.quiet, |set| {
        let path = cloudcapex::analysis::merge_comparison(set, &staged)?;
        Ok(format!(
            "merged {} shards of a comparison of {} scenarios; written: {}",
            set.header.shard_count,
            set.header.units,
            shown(path).display()
        ))
    })
    .and_then(|sets| {
        merge_kind(sets, shard::SOBOL, args.quiet, |set| {
            let (sobol, path) = cloudcapex::sensitivity::sobol::merge_sobol(set, &staged)?;
            Ok(format!(
                "{}\nmerged {} shards of {} base rows; written: {}",
                sobol.table(),
                set.header.shard_count,
                set.header.units,
                shown(path).display()
            ))
        })
    })
    .and_then(|sets| {
        merge_kind(sets, shard::SWEEP, args.quiet, |set| {
            let path = cloudcapex::analysis::merge_sweep(set, &staged)?;
            Ok(format!(
                "merged {} shards of {} grid points; written: {}",
                set.header.shard_count,
                set.header.units,
                shown(path).display()
            ))
        })
    }) {
        Ok(sets) => sets,
        Err(code) => return code,
    };
    let mut scenarios = Vec::with_capacity(sets.len());
    let mut merged = Vec::with_capacity(sets.len());
    for set in &sets {
        let start = Instant::now();
        match pool.install(|| set.merge()) {
            Ok((scenario, results)) => {
                scenarios.push(scenario);
                merged.push((results, start.elapsed().as_secs_f64()));
            }
            Err(e @ ShardError::Io { .. }) => return failure(e),
            Err(e) => return refuse(e),
        }
    }
    let done = scenarios
        .iter()
        .zip(merged)
        .map(|(scenario, (results, elapsed))| (scenario, results, elapsed))
        .collect();
    let threads = pool.current_num_threads();
    let written = cloudcapex::batch::write_results(&mut transaction, done, &selection, threads)
        .map_err(failure)
        .and_then(|finished| super::common::commit(transaction).map(|()| finished));
    match written {
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
        Err(code) => code,
    }
}

/// Merges every set of `kind` with `merge_one`, printing the line it returns unless `quiet`,
/// and hands back the sets of other kinds. An I/O failure exits 1, a bad set 2.
fn merge_kind(
    sets: Vec<ShardSet>,
    kind: &str,
    quiet: bool,
    merge_one: impl Fn(&ShardSet) -> Result<String, ShardError>,
) -> Result<Vec<ShardSet>, ExitCode> {
    let (of_kind, others): (Vec<_>, Vec<_>) = sets.into_iter().partition(|s| s.header.kind == kind);
    for set in &of_kind {
        match merge_one(set) {
            Ok(line) if !quiet => println!("{line}"),
            Ok(_) => {}
            Err(e @ ShardError::Io { .. }) => return Err(failure(e)),
            Err(e) => return Err(refuse(e)),
        }
    }
    Ok(others)
}
