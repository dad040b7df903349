//! `cloudcapex sensitivity screen`: every numeric input, fixed or drawn, moved over its
//! stated range one at a time on common random numbers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::Override;

use super::common::{AnalysisOptions, failure, refuse};

/// Paths per case when `--paths` is not given (not the scenario's own count): a case is a
/// whole run, and a screen runs two per input.
const DEFAULT_SCREEN_PATHS: u64 = 2_000;

#[derive(Args, Debug)]
pub struct ScreenArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Per-path metric analysed (one kept path by path, so that swings are paired).
    #[arg(long, default_value = "plan_npv_rmb_bn")]
    metric: String,
    /// Relative move of inputs written as numbers (0.2: ±20%); drawn inputs move over
    /// their p5 to p95.
    #[arg(long, value_name = "SHARE", default_value_t = 0.2)]
    share: f64,
    /// Rows printed (screen.csv has every input).
    #[arg(long, value_name = "N", default_value_t = 15)]
    top: usize,
    #[command(flatten)]
    common: AnalysisOptions,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `cloudcapex sensitivity screen`.
pub fn run(args: ScreenArgs) -> ExitCode {
    if let Err(code) = args.common.check() {
        return code;
    }
    if !(args.share > 0.0 && args.share < 1.0) {
        return refuse(format!(
            "--share {}: the relative move of fixed inputs must be greater than 0 and below 1",
            args.share
        ));
    }
    if !cloudcapex::model::PER_PATH_SCALARS.contains(&args.metric.as_str()) {
        return refuse(format!(
            "--metric {}: a screen pairs each input's two ends path by path, so the metric must be \
             one kept per path: {}",
            args.metric,
            cloudcapex::model::PER_PATH_SCALARS.join(", ")
        ));
    }
    let paths = args.common.paths.unwrap_or(DEFAULT_SCREEN_PATHS);
    let make = |extra: &[Override]| {
        let sets: Vec<String> = extra.iter().map(|o| o.argument().to_string()).collect();
        args.common.load(&args.scenario, &sets)
    };
    let scenario = match make(&[]).and_then(|s| s.with_paths(paths)) {
        Ok(s) => s,
        Err(e) => return refuse(e.to_string()),
    };
    if args.metric.starts_with("plan_") && scenario.assumptions().economics.is_none() {
        return refuse(format!(
            "{}: --metric {} is the plan's, and the scenario has no [plan] table; screen a revenue \
             metric instead (e.g. --metric revenue_total_cagr)",
            args.scenario.display(),
            args.metric
        ));
    }
    let pool = match args.common.thread_pool() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let (transaction, dir) = match super::common::begin_folder(
        &args.common.out,
        &format!("screen_{}", scenario.name()),
        "screen",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let screen = match pool.install(|| {
        cloudcapex::sensitivity::screen::screen(&scenario, make, &args.metric, args.share)
    }) {
        Ok(s) => s,
        Err(e) => return failure(e),
    };
    super::common::report_written(
        transaction,
        screen.write_csv(&dir, &scenario),
        || screen.table(args.top),
        args.quiet,
    )
}
