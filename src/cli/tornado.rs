//! `cloudcapex sensitivity tornado`: each uncertain input at its p10 and p90.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::Override;

use super::common::{AnalysisOptions, failure, refuse};

#[derive(Args, Debug)]
pub struct TornadoArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Per-path metric analysed.
    #[arg(long, default_value = "plan_npv_rmb_bn")]
    metric: String,
    #[command(flatten)]
    common: AnalysisOptions,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
    /// Also draw the tornado chart of the mean (tornado.svg beside tornado.csv).
    #[arg(long)]
    report: bool,
}

/// Runs `cloudcapex sensitivity tornado`.
pub fn run(args: TornadoArgs) -> ExitCode {
    if let Err(code) = args.common.check() {
        return code;
    }
    let make = |extra: &[Override]| {
        let sets: Vec<String> = extra.iter().map(|o| o.argument().to_string()).collect();
        args.common.load(&args.scenario, &sets)
    };
    let scenario = match make(&[]) {
        Ok(s) => s,
        Err(e) => return refuse(e.to_string()),
    };
    let pool = match args.common.thread_pool() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let (transaction, dir) = match super::common::begin_folder(
        &args.common.out,
        &format!("tornado_{}", scenario.name()),
        "tornado",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let tornado = match pool
        .install(|| cloudcapex::sensitivity::tornado::tornado(&scenario, make, &args.metric))
    {
        Ok(t) => t,
        Err(e) => return failure(e),
    };
    if args.report {
        let chart = dir.join("tornado.svg");
        if let Err(e) = cloudcapex::output::write_atomically(&chart, |out| {
            out.write_all(tornado.svg()?.as_bytes())
        }) {
            return failure(e);
        }
    }
    super::common::report_written(
        transaction,
        tornado.write_csv(&dir, &scenario),
        || tornado.table(),
        args.quiet,
    )
}
