//! `cloudcapex`: a thin command line over the library. This file declares the command tree
//! and dispatches; each subcommand lives in its own file under `src/cli/`.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::backtest::BacktestArgs;
use cli::breakeven::BreakevenArgs;
use cli::calibrate::CalibrateArgs;
use cli::compare::CompareArgs;
use cli::merge::MergeArgs;
use cli::mix::MixArgs;
use cli::morris::MorrisArgs;
use cli::regression::RegressionArgs;
use cli::run::RunArgs;
use cli::screen::ScreenArgs;
use cli::slurm::SlurmArgs;
use cli::sobol::SobolArgs;
use cli::sweep::SweepArgs;
use cli::tornado::TornadoArgs;
use cli::validate::ValidateArgs;

#[derive(Parser, Debug)]
#[command(
    name = "cloudcapex",
    version,
    about = "Monte Carlo projections of Alibaba Cloud's revenue under scenario files",
    long_about = "Monte Carlo projections of Alibaba Cloud's revenue under configurable assumptions.\n\n\
                  With no subcommand, runs the embedded default scenario (scenarios/base.toml) \
                  and writes its outputs under out/base/.\n\
                  Scenario format: docs/scenario-format.md. Outputs: docs/outputs.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenarios and write quarterly.csv, summary.csv, scenario.toml and run.json
    /// (and paths.csv with --paths-out) into OUT/<scenario name>/.
    Run(RunArgs),
    /// Check scenario files (extends chains and overrides included) without running them.
    Validate(ValidateArgs),
    /// Compare scenarios against the first on common random numbers (same seed and paths,
    /// path by path): each per-path metric's difference with its paired standard error and
    /// variance-reduction factor. Writes OUT/comparison.csv.
    Compare(CompareArgs),
    /// Run several scenarios as one distribution, each path drawn from one of them with
    /// probability its weight (FILE=WEIGHT, summing to 1), on common random numbers:
    /// OUT/<NAME>/ with a run's files and mix.csv (components, weights, paths drawn).
    Mix(MixArgs),
    /// Run a grid of overrides on one scenario (common random numbers across points):
    /// OUT/sweep_<name>/sweep.csv, and each point's outputs in OUT/sweep_<name>/point_<k>/.
    Sweep(SweepArgs),
    /// Find the value of one input at which a statistic hits a target, with the value's
    /// Monte Carlo standard error, e.g. the plan size at which P(NPV < 0) = 0.7:
    /// `--vary plan.total_rmb_bn --range 200:600 --target plan_npv_rmb_bn.prob_negative=0.7`.
    /// Writes OUT/breakeven_<name>.csv.
    Breakeven(BreakevenArgs),
    /// Fit the revenue assumptions (seasonality, growth, shock size and persistence, start
    /// revenue) to the reported history, with standard errors, as a TOML fragment.
    Calibrate(CalibrateArgs),
    /// Run the scenario's revenue model as of an earlier quarter (--from; --rolling: every
    /// quarter since) and score the reported quarters: PIT, 50%/90% band coverage, CRPS.
    /// Writes OUT/backtest_<name>/backtest.csv and coverage.csv (--report: fan charts).
    Backtest(BacktestArgs),
    /// Merge the shard files of `run --shard I/N` (SHARD_DIR: the shard tasks' --out) into
    /// each scenario's outputs, byte-identical to an unsharded run; refuses missing,
    /// duplicated, damaged or foreign shards, naming them.
    Merge(MergeArgs),
    /// Write (and with --submit, submit) a Slurm job array of `run --shard $SLURM_ARRAY_TASK_ID/N`
    /// tasks and a merge job that runs after it succeeds: JOB_DIR/array.sbatch, merge.sbatch.
    Slurm(SlurmArgs),
    /// Sensitivity of a per-path metric to the inputs: the uncertain ones (assumptions
    /// given as distributions), or every numeric input (`screen`).
    #[command(subcommand)]
    Sensitivity(SensitivityCommand),
}

#[derive(Subcommand, Debug)]
enum SensitivityCommand {
    /// Each uncertain input at its p10 and p90, the others at their median: swings of the
    /// metric's mean, p5 and P(< 0), sorted. Writes OUT/tornado_<name>/tornado.csv.
    Tornado(TornadoArgs),
    /// First-order and total Sobol indices of one path's metric with respect to every
    /// uncertain input and the model's intrinsic randomness (one group), with bootstrap
    /// intervals. Writes OUT/sobol_<name>/sobol.csv.
    Sobol(SobolArgs),
    /// Standardized regression coefficients (with SEs), rank correlations (with 95%
    /// intervals) and contributions to variance of a per-path metric on every uncertain
    /// input, from one run. Writes OUT/regression_<name>/regression.csv.
    Regression(RegressionArgs),
    /// Morris elementary-effects screening of every uncertain input (mu*, mu, sigma), for
    /// many inputs at r (k + 1) evaluations. Writes OUT/morris_<name>/morris.csv.
    Morris(MorrisArgs),
    /// Every numeric input, fixed or drawn, at the two ends of a stated range (drawn: p5 and
    /// p95; fixed: ±--share), one at a time on common random numbers: the metric's mean and
    /// P(< 0) at each end, the paired swing and its SE. Writes OUT/screen_<name>/screen.csv.
    Screen(ScreenArgs),
}

fn main() -> ExitCode {
    // Interrupted (SIGINT, SIGTERM): remove the temporary outputs being written and exit
    // 130; files already renamed into place are whole, earlier outputs are untouched.
    let _ = ctrlc::set_handler(|| {
        cloudcapex::output::remove_in_flight();
        std::process::exit(130);
    });
    // A file-size limit (`ulimit -f`) would kill the process mid-write with SIGXFSZ, leaving
    // a temporary file; ignored, the write fails with EFBIG and the writer cleans up, as for
    // a full disk.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // A reader that closes the pipe early (`cloudcapex run | head`) ends the process quietly,
    // as it does any Unix filter, instead of a panic on the next print. The console is
    // written after a command's commit; a pipe closed before it is a kill, which the
    // transactions survive (docs/reliability.md).
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    match Cli::parse().command {
        // No subcommand: `run` with its defaults, exactly as `cloudcapex run` parses them.
        None => match Cli::parse_from(["cloudcapex", "run"]).command {
            Some(Command::Run(args)) => cli::run::run(args),
            _ => unreachable!("parsed `run`"),
        },
        Some(Command::Run(args)) => cli::run::run(args),
        Some(Command::Validate(args)) => cli::validate::run(args),
        Some(Command::Compare(args)) => cli::compare::run(args),
        Some(Command::Mix(args)) => cli::mix::run(args),
        Some(Command::Sweep(args)) => cli::sweep::run(args),
        Some(Command::Breakeven(args)) => cli::breakeven::run(args),
        Some(Command::Calibrate(args)) => cli::calibrate::run(args),
        Some(Command::Backtest(args)) => cli::backtest::run(args),
        Some(Command::Merge(args)) => cli::merge::run(args),
        Some(Command::Slurm(args)) => cli::slurm::run(args),
        Some(Command::Sensitivity(SensitivityCommand::Tornado(args))) => cli::tornado::run(args),
        Some(Command::Sensitivity(SensitivityCommand::Sobol(args))) => cli::sobol::run(args),
        Some(Command::Sensitivity(SensitivityCommand::Regression(args))) => {
            cli::regression::run(args)
        }
        Some(Command::Sensitivity(SensitivityCommand::Morris(args))) => cli::morris::run(args),
        Some(Command::Sensitivity(SensitivityCommand::Screen(args))) => cli::screen::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
