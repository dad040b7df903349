//! `cloudcapex compare`: paired differences of scenarios against the first, on common
//! random numbers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{AnalysisOptions, failure, refuse};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario files; the first is the baseline. A file may appear twice.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    #[command(flatten)]
    common: AnalysisOptions,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
    /// Run only shard I of N (0-based) of the scenario list (the baseline first; every
    /// shard also runs the baseline): OUT/comparison/shard-I-of-N.ccx, which `cloudcapex
    /// merge OUT` joins into comparison.csv, byte-identical to an unsharded comparison.
    #[arg(long, value_name = "I/N")]
    shard: Option<cloudcapex::shard::ShardSpec>,
}

/// The metrics the comparison table shows (all of them go to comparison.csv).
const COMPARE_TABLE_METRICS: [&str; 4] = [
    "plan_npv_rmb_bn",
    "plan_irr",
    "revenue_total_cagr",
    "revenue_total_final_year_rmb_bn",
];

/// Runs `cloudcapex compare`.
pub fn run(args: CompareArgs) -> ExitCode {
    if let Err(code) = args.common.check() {
        return code;
    }
    // Seed and path count are the baseline's for every scenario (compare aligns them).
    let scenarios = match args
        .scenarios
        .iter()
        .map(|file| args.common.load(file, &[]))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let pool = match args.common.thread_pool() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    if let Some(spec) = args.shard {
        if let Err(message) = spec.range(scenarios.len() as u64, "scenarios to compare") {
            return refuse(message);
        }
        // A shared lock: concurrent shard tasks share OUT, each writing its own file.
        let _lock = match cloudcapex::output::shard_folder(
            &args.common.out,
            cloudcapex::analysis::COMPARE_SHARD_FOLDER,
            cloudcapex::shard::COMPARE,
            &spec.file_name(),
            false,
        ) {
            Ok((lock, _)) => lock,
            Err(e) => return super::common::transaction_error(e),
        };
        return match pool
            .install(|| cloudcapex::analysis::compare_shard(&args.common.out, spec, &scenarios))
        {
            Ok(path) => {
                if !args.quiet {
                    println!(
                        "shard {spec} of the comparison; written: {}",
                        path.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => failure(e),
        };
    }
    let (transaction, dir) = match super::common::begin_folder(
        &args.common.out,
        cloudcapex::analysis::COMPARE_SHARD_FOLDER,
        "compare",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let comparison = match pool.install(|| cloudcapex::analysis::compare(&scenarios)) {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    match comparison
        .write_csv(&dir)
        .map_err(failure)
        .and_then(|path| {
            let path = transaction.final_path(&path);
            super::common::commit(transaction)?;
            Ok(path)
        }) {
        Ok(path) => {
            if !args.quiet {
                println!("{}", comparison.table(&COMPARE_TABLE_METRICS));
                println!("written: {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
