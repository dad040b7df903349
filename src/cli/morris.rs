//! `cloudcapex sensitivity morris`: elementary-effects screening of every uncertain input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::{Override, Scenario};

use super::common::{check_threads, failure, parse_overrides, refuse, thread_pool};

/// The most trajectories.
const MAX_TRAJECTORIES: usize = 100_000;
/// The most paths averaged per evaluation.
const MAX_PATHS_PER_POINT: u64 = 100_000;

#[derive(Args, Debug)]
pub struct MorrisArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Per-path metric analysed (must be defined on every path).
    #[arg(long, default_value = "plan_npv_rmb_bn")]
    metric: String,
    /// Trajectories r (r (k + 1) evaluations for k inputs).
    #[arg(long, value_name = "R", default_value_t = 40)]
    trajectories: usize,
    /// Grid levels p (even).
    #[arg(long, value_name = "P", default_value_t = 4)]
    levels: usize,
    /// Paths averaged per evaluation, on the same random streams along a trajectory.
    #[arg(long, value_name = "N", default_value_t = 64)]
    paths_per_point: u64,
    /// Master seed.
    #[arg(long, value_name = "S", value_parser = super::common::seed_parser())]
    seed: Option<u64>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Worker threads. Results do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// Overrides applied first.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `cloudcapex sensitivity morris`.
pub fn run(args: MorrisArgs) -> ExitCode {
    if args.threads == Some(0)
        || args.trajectories < 2
        || args.trajectories > MAX_TRAJECTORIES
        || args.levels < 2
        || !args.levels.is_multiple_of(2)
        || args.paths_per_point == 0
        || args.paths_per_point > MAX_PATHS_PER_POINT
    {
        return refuse(format!(
            "--trajectories from 2 to {MAX_TRAJECTORIES}, --levels even and at least 2, --paths-per-point from 1 to \
             {MAX_PATHS_PER_POINT}, --threads at least 1"
        ));
    }
    if let Err(message) = check_threads(args.threads).and(super::common::check_out(&args.out)) {
        return refuse(message);
    }
    let base_sets = match parse_overrides(&args.set) {
        Ok(o) => o,
        Err(e) => return refuse(e.to_string()),
    };
    let make = |extra: &[Override]| {
        let overrides: Vec<Override> = base_sets.iter().chain(extra).cloned().collect();
        Scenario::load(&args.scenario, &overrides)
    };
    let scenario = match make(&[]) {
        Ok(s) => match args.seed {
            Some(seed) => s.with_seed(seed),
            None => s,
        },
        Err(e) => return refuse(e.to_string()),
    };
    let seed = scenario.simulation().seed;
    let make = |extra: &[Override]| make(extra).map(|s| s.with_seed(seed));
    let pool = match thread_pool(args.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let (transaction, dir) = match super::common::begin_folder(
        &args.out,
        &format!("morris_{}", scenario.name()),
        "morris",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let result = pool.install(|| {
        cloudcapex::sensitivity::morris::model_morris(
            &scenario,
            make,
            &args.metric,
            args.trajectories,
            args.levels,
            args.paths_per_point,
        )
    });
    let morris = match result {
        Ok(m) => m,
        Err(e) => return failure(e),
    };
    super::common::report_written(
        transaction,
        morris.write_csv(&dir, &scenario),
        || morris.table(),
        args.quiet,
    )
}
