//! `cloudcapex sweep`: a full grid of overrides on one scenario, on common random numbers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::analysis::{
    GridAxis, grid_points, sweep_folder_name, sweep_shard, sweep_table, write_sweep,
};
use cloudcapex::output::RunJson;

use super::common::{AnalysisOptions, failure, refuse};

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// A grid axis: KEY=V1,V2,... or KEY=START:STOP:STEP (repeatable; the full grid runs).
    #[arg(long = "grid", value_name = "KEY=VALUES", required = true)]
    grid: Vec<String>,
    /// Run grids larger than the limit (200 points).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    common: AnalysisOptions,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
    /// Run only shard I of N (0-based) of the grid's points: their point_<k>/ folders and
    /// OUT/sweep_<name>/shard-I-of-N.ccx, which `cloudcapex merge OUT` joins into sweep.csv,
    /// byte-identical to an unsharded sweep.
    #[arg(long, value_name = "I/N")]
    shard: Option<cloudcapex::shard::ShardSpec>,
}

/// Runs `cloudcapex sweep`.
pub fn run(args: SweepArgs) -> ExitCode {
    if let Err(code) = args.common.check() {
        return code;
    }
    let axes = match args
        .grid
        .iter()
        .map(|g| GridAxis::parse(g))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(a) => a,
        Err(e) => return refuse(e.to_string()),
    };
    let points = match grid_points(&axes, args.force) {
        Ok(p) => p,
        Err(e) => return refuse(e.to_string()),
    };
    if let Some(spec) = args.shard
        && let Err(message) = spec.range(points.len() as u64, "grid points")
    {
        return refuse(message);
    }
    let make = |point: &[String]| args.common.load(&args.scenario, point);
    // Every point is validated before anything runs (refused with exit code 2).
    for point in &points {
        if let Err(e) = make(point) {
            return refuse(format!("grid point {}: {e}", point.join(" ")));
        }
    }
    let pool = match args.common.thread_pool() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let threads = pool.current_num_threads();
    let started = std::time::Instant::now();
    if let Some(spec) = args.shard {
        let base = match args.common.load(&args.scenario, &[]) {
            Ok(s) => s,
            Err(e) => return refuse(e),
        };
        let (_lock, folder) = match cloudcapex::output::shard_folder(
            &args.common.out,
            &sweep_folder_name(&base),
            cloudcapex::shard::SWEEP,
            &spec.file_name(),
            true,
        ) {
            Ok(claimed) => claimed,
            Err(e) => return super::common::transaction_error(e),
        };
        let written =
            pool.install(|| sweep_shard(&folder, spec, &base, &axes, &points, make, threads));
        return match written {
            Ok(path) => {
                if !args.quiet {
                    println!("shard {spec} of the sweep; written: {}", path.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => failure(e),
        };
    }
    let base = match args.common.load(&args.scenario, &[]) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let (transaction, dir) = match super::common::begin_folder(
        &args.common.out,
        &sweep_folder_name(&base),
        "sweep",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let runs = match pool.install(|| cloudcapex::analysis::sweep(make, &points)) {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let elapsed = started.elapsed().as_secs_f64();
    let written = write_sweep(&dir, &axes, &points, &runs, &RunJson::new(threads, elapsed))
        .map(|path| transaction.final_path(&path));
    match written.map_err(failure).and_then(|path| {
        super::common::commit(transaction)?;
        Ok(path)
    }) {
        Ok(path) => {
            if !args.quiet {
                print!("{}", sweep_table(&points, &runs));
                println!("\nwritten: {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
