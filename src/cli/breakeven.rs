//! `cloudcapex breakeven`: the value of one input at which a statistic hits a target.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::analysis::{Statistic, breakeven};

use super::common::{AnalysisOptions, failure, refuse};

#[derive(Args, Debug)]
pub struct BreakevenArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Key path of the input to vary (set as a number).
    #[arg(long, value_name = "KEY")]
    vary: String,
    /// Range searched, LOW:HIGH.
    #[arg(long, value_name = "LOW:HIGH", allow_hyphen_values = true)]
    range: String,
    /// METRIC.STAT=VALUE, STAT one of mean, prob_negative, p1 ... p99.
    #[arg(long, value_name = "METRIC.STAT=VALUE", allow_hyphen_values = true)]
    target: String,
    /// Stop when the bracket is narrower than this (in the input's unit); default 1e-4 of the range.
    #[arg(long, value_name = "X")]
    tolerance: Option<f64>,
    #[command(flatten)]
    common: AnalysisOptions,
}

/// `LOW:HIGH` with finite `LOW < HIGH`.
fn parse_range(text: &str) -> Option<(f64, f64)> {
    text.split_once(':')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
        .filter(|(a, b)| a.is_finite() && b.is_finite() && a < b)
}

/// Runs `cloudcapex breakeven`.
pub fn run(args: BreakevenArgs) -> ExitCode {
    let Some(range) = parse_range(&args.range) else {
        return refuse(format!(
            "--range {:?}: expected LOW:HIGH with LOW < HIGH, e.g. 200:600",
            args.range
        ));
    };
    // A bisection asks for fractional midpoints, which a whole-number input refuses (after
    // simulations already ran): refused here, pointing to a sweep over its whole values.
    let key = args.vary.trim();
    if cloudcapex::scenario::is_whole_number_key(key) {
        let (low, high) = (range.0.ceil(), range.1.floor());
        let values = if low <= high {
            format!("{low}:{high}:1")
        } else {
            "V1,V2,...".to_string()
        };
        return refuse(format!(
            "--vary {key}: a whole-number input (quarters, a count) cannot be bisected, its midpoints would be \
             fractional; run its whole values instead: cloudcapex sweep {} --grid {key}={values}",
            args.scenario.display()
        ));
    }
    let Some((stat_text, value_text)) = args.target.split_once('=') else {
        return refuse(format!(
            "--target {:?}: expected METRIC.STAT=VALUE, e.g. plan_npv_rmb_bn.prob_negative=0.2",
            args.target
        ));
    };
    let statistic = match Statistic::parse(stat_text) {
        Ok(s) => s,
        Err(e) => return refuse(format!("--target {e}")),
    };
    let Ok(target) = value_text.trim().parse::<f64>() else {
        return refuse(format!(
            "--target {:?}: the value must be a number",
            args.target
        ));
    };
    if let Err(code) = args.common.check() {
        return code;
    }
    let tolerance = args.tolerance.unwrap_or((range.1 - range.0) * 1e-4);
    if tolerance.is_nan() || tolerance <= 0.0 {
        return refuse("--tolerance must be positive");
    }
    let make = |value: f64| {
        args.common
            .load(&args.scenario, &[format!("{}={value}", args.vary)])
    };
    // Both ends are validated before any simulation.
    for end in [range.0, range.1] {
        if let Err(e) = make(end) {
            return refuse(e.to_string());
        }
    }
    let pool = match args.common.thread_pool() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let name = args
        .scenario
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
    let (transaction, dir) = match super::common::begin_folder(
        &args.common.out,
        &format!("breakeven_{name}"),
        "breakeven",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    let found = match pool.install(|| breakeven(make, range, &statistic, target, tolerance)) {
        Ok(b) => b,
        Err(e) => return failure(e),
    };
    // Digits as the value's own standard error allows (two significant digits of it).
    let digits = if found.value_se.is_finite() && found.value_se > 0.0 {
        (1 - found.value_se.log10().floor() as i32).clamp(0, 10) as usize
    } else {
        6
    };
    println!(
        "{} = {:.digits$} ± {:.digits$} (Monte Carlo standard error) gives {} = {:.4} ± {:.4} (target {target})\n\
         solver bracket [{:.6}, {:.6}] after {} bisection steps",
        args.vary,
        found.value,
        found.value_se,
        stat_text,
        found.statistic,
        found.statistic_se,
        found.bracket.0,
        found.bracket.1,
        found.iterations
    );
    match found.write_csv(&dir, &name, &args.vary, stat_text, target) {
        Ok(_) => match super::common::commit(transaction) {
            Ok(()) => ExitCode::SUCCESS,
            Err(code) => code,
        },
        Err(e) => failure(e),
    }
}
