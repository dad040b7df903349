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
    let _lock = match super::common::lock_out(&args.common.out) {
        Ok(lock) => lock,
        Err(message) => return super::common::failure(message),
    };
    let comparison = match pool.install(|| cloudcapex::analysis::compare(&scenarios)) {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    match comparison.write_csv(&args.common.out) {
        Ok(path) => {
            if !args.quiet {
                println!("{}", comparison.table(&COMPARE_TABLE_METRICS));
                println!("written: {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}
