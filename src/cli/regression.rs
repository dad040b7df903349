//! `cloudcapex sensitivity regression`: standardized regression coefficients, rank
//! correlations and contributions to variance of a per-path metric, from one run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{AnalysisOptions, refuse};

#[derive(Args, Debug)]
pub struct RegressionArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Per-path metric analysed (one kept per path, e.g. plan_npv_rmb_bn).
    #[arg(long, default_value = "plan_npv_rmb_bn")]
    metric: String,
    #[command(flatten)]
    common: AnalysisOptions,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `cloudcapex sensitivity regression`.
pub fn run(args: RegressionArgs) -> ExitCode {
    if let Err(code) = args.common.check() {
        return code;
    }
    if !cloudcapex::model::PER_PATH_SCALARS.contains(&args.metric.as_str()) {
        return refuse(format!(
            "--metric {}: a regression needs a metric kept per path, one of: {}",
            args.metric,
            cloudcapex::model::PER_PATH_SCALARS.join(", ")
        ));
    }
    let scenario = match args.common.load(&args.scenario, &[]) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let pool = match args.common.thread_pool() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let (transaction, dir) = match super::common::begin_folder(
        &args.common.out,
        &format!("regression_{}", scenario.name()),
        "regression",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let regression = match pool
        .install(|| cloudcapex::sensitivity::regression::regression(&scenario, &args.metric))
    {
        Ok(r) => r,
        Err(e) => return refuse(e),
    };
    super::common::report_written(
        transaction,
        regression.write_csv(&dir, &scenario),
        || regression.table(),
        args.quiet,
    )
}
