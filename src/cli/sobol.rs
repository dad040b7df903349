//! `cloudcapex sensitivity sobol`: first-order and total Sobol indices of a per-path metric.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::{Override, Scenario};

use super::common::{check_threads, failure, parse_overrides, refuse, thread_pool};

/// The largest Sobol base sample.
const MAX_SAMPLES: usize = 1_000_000;
/// The most bootstrap resamples.
const MAX_BOOTSTRAP: usize = 100_000;

#[derive(Args, Debug)]
pub struct SobolArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Per-path metric analysed (must be defined on every path).
    #[arg(long, default_value = "plan_npv_rmb_bn")]
    metric: String,
    /// Base samples N (N (k + 3) one-path runs for k inputs).
    #[arg(long, value_name = "N", default_value_t = 1024)]
    samples: usize,
    /// Bootstrap resamples for the intervals.
    #[arg(long, value_name = "B", default_value_t = 200)]
    bootstrap: usize,
    /// Master seed (also seeds the bootstrap).
    #[arg(long, value_name = "S")]
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
    /// First-order estimator: saltelli (Saltelli et al. 2010, the default: exactly 0 for an
    /// input without effect) or jansen (Jansen 1999). Total indices are Jansen's.
    #[arg(long, value_enum, default_value = "saltelli")]
    first_order: FirstOrder,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum FirstOrder {
    Saltelli,
    Jansen,
}

/// Runs `cloudcapex sensitivity sobol`.
pub fn run(args: SobolArgs) -> ExitCode {
    if args.threads == Some(0) || args.samples < 2 {
        return refuse("--threads must be at least 1 and --samples at least 2");
    }
    if let Err(message) = check_threads(args.threads).and(super::common::check_out(&args.out)) {
        return refuse(message);
    }
    if args.samples > MAX_SAMPLES || args.bootstrap > MAX_BOOTSTRAP {
        return refuse(format!(
            "--samples at most {MAX_SAMPLES} and --bootstrap at most {MAX_BOOTSTRAP} (N (k + 3) one-path runs and \
             their values are kept); found {} and {}",
            args.samples, args.bootstrap
        ));
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
        Ok(s) => args.seed.map_or(s.clone(), |seed| s.with_seed(seed)),
        Err(e) => return refuse(e.to_string()),
    };
    let pool = match thread_pool(args.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let _lock = match super::common::lock_out(&args.out) {
        Ok(lock) => lock,
        Err(message) => return super::common::failure(message),
    };
    let result = pool.install(|| {
        cloudcapex::sensitivity::model_sobol(
            &scenario,
            make,
            &args.metric,
            args.samples,
            args.bootstrap,
            match args.first_order {
                FirstOrder::Saltelli => cloudcapex::sensitivity::FirstOrderEstimator::Saltelli2010,
                FirstOrder::Jansen => cloudcapex::sensitivity::FirstOrderEstimator::Jansen1999,
            },
        )
    });
    let sobol = match result {
        Ok(s) => s,
        Err(e) => return failure(e),
    };
    match sobol.write_csv(
        &args.out.join(format!("sobol_{}", scenario.name())),
        &scenario,
    ) {
        Ok(path) => {
            if !args.quiet {
                println!("{}\nwritten: {}", sobol.table(), path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}
