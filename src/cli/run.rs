//! `cloudcapex run` (and no subcommand): simulate scenarios, write their outputs, print
//! their summary tables.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::Scenario;
use cloudcapex::batch::{claim_outputs, run_into};
use cloudcapex::output::{OutputSelection, summary_table};
use cloudcapex::runner::{RunOptions, TargetSe};
use cloudcapex::shard::ShardSpec;

use super::common::{check_threads, failure, load_scenarios, progress_bars, refuse, thread_pool};

/// The most paths whose quarterly values a run keeps whole for `paths.csv`.
const MAX_PATHS_OUT: u64 = 100_000;
/// The most bytes of `paths.csv` a `--paths-out` may ask for, estimated up front (the path
/// count alone let 2,000 paths of a 400-quarter run write 6.7 GB).
const MAX_PATHS_CSV_BYTES: u64 = 2_000_000_000;
/// The estimate of a `paths.csv` row's bytes besides the scenario's name: 143 measured on
/// scenarios/base.toml (64 of them the scenario's SHA-256, ~18 the value, ~25 the metric's
/// name), rounded up.
const PATHS_CSV_ROW_BYTES: u64 = 150;

/// The most paths `--drivers` writes a row for (each row ~30 values, in memory while written).
const MAX_DRIVER_PATHS: u64 = 1_000_000;

/// Refuses a `--paths-out` whose `paths.csv` would exceed [`MAX_PATHS_CSV_BYTES`]: one row
/// per kept path, quarter and quarterly metric of `scenario` (its model's own count), each
/// [`PATHS_CSV_ROW_BYTES`] plus the scenario's name. (`slurm` checks it for its tasks.)
pub(super) fn check_paths_out_bytes(scenario: &Scenario, paths_out: u64) -> Result<(), String> {
    if paths_out == 0 {
        return Ok(());
    }
    let model = cloudcapex::model::Model::new(scenario);
    let (quarters, metrics) = (
        model.quarters() as u64,
        model.quarterly_metrics().len() as u64,
    );
    let row = PATHS_CSV_ROW_BYTES + scenario.name().len() as u64;
    let per_path = quarters * metrics * row;
    let bytes = paths_out.saturating_mul(per_path);
    if bytes <= MAX_PATHS_CSV_BYTES {
        return Ok(());
    }
    let gb = |b: u64| b as f64 / 1e9;
    Err(format!(
        "--paths-out {paths_out}: scenario `{}`'s paths.csv would be ~{:.1} GB ({paths_out} paths × {quarters} \
         quarters × {metrics} quarterly metrics, a row of ~{row} bytes each; the run keeps {:.1} GB of them in \
         memory, 8 bytes a value), above the {:.0} GB limit: keep at most {} paths, or a shorter horizon",
        scenario.name(),
        gb(bytes),
        gb(paths_out.saturating_mul(quarters * metrics * 8)),
        gb(MAX_PATHS_CSV_BYTES),
        MAX_PATHS_CSV_BYTES / per_path
    ))
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario files (TOML). None: the embedded default, scenarios/base.toml.
    scenarios: Vec<PathBuf>,
    /// Number of paths (overrides simulation.paths).
    #[arg(long, value_name = "N")]
    paths: Option<u64>,
    /// Master seed (overrides simulation.seed).
    #[arg(long, value_name = "S", value_parser = super::common::seed_parser())]
    seed: Option<u64>,
    /// Output directory; each scenario writes into its own folder inside it.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Worker threads (default: RAYON_NUM_THREADS, else one per core). Results do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// Override any key, e.g. --set revenue.segments.ai.initial_growth=0.8 (repeatable;
    /// the value is TOML, so a distribution table works too).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Name the run NAME instead of the scenario's own name: its folder OUT/NAME/ and the
    /// `scenario` of every output, e.g. to label a variant made with --set without editing
    /// its file. One scenario file at most; checked as a scenario's `name` key is.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Also write paths.csv (quarterly values), path_scalars.csv and drivers.csv (drawn
    /// inputs, regimes, events, outputs) of the first N paths.
    #[arg(long, value_name = "N", default_value_t = 0)]
    paths_out: u64,
    /// Do not print the summary table, nor draw the progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Add blocks of paths until the Monte Carlo standard error of a per-path metric's mean
    /// is at most this: `X` (for plan_npv_rmb_bn) or `METRIC=X`. Replaces --paths.
    #[arg(long, value_name = "[METRIC=]SE")]
    target_se: Option<String>,
    /// With --target-se, the most paths to run.
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    max_paths: u64,
    /// With --target-se, exit with code 1 when a scenario does not reach the target within
    /// --max-paths (its outputs are still written).
    #[arg(long, requires = "target_se")]
    require_target: bool,
    /// Antithetic pairs of revenue shocks (path 2j+1 negates path 2j's normals); standard
    /// errors come from pair averages and the achieved reduction is reported.
    #[arg(long)]
    antithetic: bool,
    #[command(flatten)]
    outputs: super::common::OutputArgs,
    /// Simulate only shard I of N (0-based) of each scenario's run: its contiguous range of
    /// blocks, written to OUT/<scenario>/shard-I-of-N.ccx for `cloudcapex merge`, which
    /// writes the outputs byte-identical to an unsharded run (docs/scale-out.md). Output
    /// options (--report, --drivers, --format) go to merge.
    #[arg(long, value_name = "I/N")]
    shard: Option<ShardSpec>,
}

/// Parses `X` or `METRIC=X` into a stopping rule.
fn parse_target_se(text: &str) -> Result<TargetSe, String> {
    let (metric, value) = text.split_once('=').unwrap_or(("plan_npv_rmb_bn", text));
    let se: f64 = value.trim().parse().map_err(|_| {
        format!(
            "--target-se {text:?}: expected a standard error such as 0.5 or plan_npv_rmb_bn=0.5"
        )
    })?;
    if !(se > 0.0 && se.is_finite()) {
        return Err(format!(
            "--target-se {text:?}: the standard error must be a positive number"
        ));
    }
    Ok(TargetSe {
        metric: metric.trim().to_string(),
        se,
    })
}

/// `--name NAME` as the last `--set name="NAME"`: the scenario's own `name` key, so it is
/// validated as one, recorded in run.json's `overrides` and carried by shard files to
/// `merge`. Refused with several scenario files (they would all take the one name) or a
/// name that cannot name a folder ([`cloudcapex::scenario::name_problem`]).
fn name_override(name: &str, files: usize) -> Result<String, String> {
    if files > 1 {
        return Err(format!(
            "--name names one run, and {files} scenario files were given (they would all write to \
             OUT/{name}/); run them one at a time, or give each file its own `name` key"
        ));
    }
    if let Some(problem) = cloudcapex::scenario::name_problem(name) {
        return Err(format!(
            "--name {name:?} cannot name the run's output folder: {problem}"
        ));
    }
    Ok(format!("name={}", toml::Value::String(name.to_string())))
}

/// Options checked against each other and every scenario loaded: nothing runs or is
/// written before this succeeds.
struct RunPlan {
    scenarios: Vec<Scenario>,
    options: RunOptions,
    outputs: OutputSelection,
    out: PathBuf,
    threads: Option<usize>,
    quiet: bool,
    require_target: bool,
    shard: Option<ShardSpec>,
}

impl RunArgs {
    /// The options checked against each other and every scenario loaded, in one place.
    fn plan(self) -> Result<RunPlan, String> {
        check_threads(self.threads)?;
        if self.shard.is_some() && self.target_se.is_some() {
            return Err(
                "--shard with --target-se: a stopping rule needs every block before it in one process; \
                 give a fixed --paths"
                    .into(),
            );
        }
        if self.shard.is_some() && self.outputs.any() {
            return Err(
                "--shard writes a shard file only: give --report, --drivers, --history and --format to \
                 `cloudcapex merge`"
                    .into(),
            );
        }
        if self.paths_out > MAX_PATHS_OUT {
            return Err(format!(
                "--paths-out {}: at most {MAX_PATHS_OUT} paths are kept whole (at the default 40-quarter horizon \
                 each is ~18 KB in memory and ~330 KB of paths.csv)",
                self.paths_out
            ));
        }
        if self.paths == Some(0) {
            return Err("--paths must be at least 1".into());
        }
        let target_se = self.target_se.as_deref().map(parse_target_se).transpose()?;
        if target_se.is_some() && self.paths.is_some() {
            return Err(
                "--target-se decides the path count: give --max-paths instead of --paths".into(),
            );
        }
        if self.max_paths == 0 {
            return Err("--max-paths must be at least 1".into());
        }
        let mut set = self.set.clone();
        if let Some(name) = &self.name {
            set.push(name_override(name, self.scenarios.len())?);
        }
        let mut scenarios = load_scenarios(&self.scenarios, &set).map_err(|e| e.to_string())?;
        for s in &mut scenarios {
            let mut next = s.clone();
            if let Some(seed) = self.seed {
                next = next.with_seed(seed);
            }
            if let Some(paths) = self.paths {
                next = next.with_paths(paths).map_err(|e| e.to_string())?;
            }
            if target_se.is_some() {
                next = next.with_paths(self.max_paths).map_err(|e| e.to_string())?;
            }
            if self.antithetic && !next.simulation().paths.is_multiple_of(2) {
                return Err(format!(
                    "--antithetic pairs paths: scenario `{}` has an odd path count ({}); use an even --paths",
                    next.name(),
                    next.simulation().paths
                ));
            }
            if let Some(spec) = self.shard {
                spec.blocks(next.simulation().paths)?;
            }
            if self.outputs.drivers && next.simulation().paths > MAX_DRIVER_PATHS {
                return Err(format!(
                    "--drivers writes a row per path: at most {MAX_DRIVER_PATHS} paths (scenario `{}` has {}); \
                     use --paths-out N for the first N",
                    next.name(),
                    next.simulation().paths
                ));
            }
            if self.paths_out > next.simulation().paths {
                return Err(format!(
                    "--paths-out {} exceeds the {} paths of scenario `{}`",
                    self.paths_out,
                    next.simulation().paths,
                    next.name()
                ));
            }
            check_paths_out_bytes(&next, self.paths_out)?;
            *s = next;
        }
        super::common::check_out(&self.out)?;
        let outputs = self.outputs.selection(self.paths_out > 0)?;
        let mut seen = std::collections::BTreeMap::new();
        for (s, file) in scenarios.iter().zip(&self.scenarios) {
            if let Some(other) = seen.insert(s.name().to_string(), file) {
                return Err(format!(
                    "{} and {} are both named `{}` and would write to the same folder; rename one",
                    other.display(),
                    file.display(),
                    s.name()
                ));
            }
        }
        Ok(RunPlan {
            scenarios,
            options: RunOptions {
                paths_out: self.paths_out,
                target_se,
                antithetic: self.antithetic,
            },
            outputs,
            shard: self.shard,
            out: self.out,
            threads: self.threads,
            quiet: self.quiet,
            require_target: self.require_target,
        })
    }
}

/// Runs `cloudcapex run`.
pub fn run(args: RunArgs) -> ExitCode {
    let plan = match args.plan() {
        Ok(plan) => plan,
        Err(message) => return refuse(message),
    };
    for s in &plan.scenarios {
        for warning in s.warnings() {
            eprintln!("warning: {warning}");
        }
    }
    let pool = match thread_pool(plan.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    if let Some(spec) = plan.shard {
        // A shared lock: concurrent shard tasks share OUT, each writing its own file.
        return run_shards(&plan, spec, &pool);
    }
    let mut transaction = match super::common::begin(&plan.out) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let names: Vec<&str> = plan.scenarios.iter().map(Scenario::name).collect();
    if let Err(e) = claim_outputs(&mut transaction, &names, &plan.outputs) {
        return super::common::transaction_error(e);
    }
    let bars = progress_bars(&plan.scenarios, plan.quiet);
    let on_block = |k: usize, paths: u64| {
        if let Some(bar) = bars.get(k) {
            bar.inc(paths);
        }
    };
    let outcome = pool
        .install(|| {
            run_into(
                &mut transaction,
                &plan.scenarios,
                &plan.options,
                &plan.outputs,
                &on_block,
            )
        })
        .map_err(failure)
        .and_then(|finished| super::common::commit(transaction).map(|()| finished));
    bars.iter()
        .for_each(indicatif::ProgressBar::finish_and_clear);
    match outcome {
        Ok(finished) => {
            // Whether a stopping rule was met is said on stderr, --quiet or not.
            let mut unreached = Vec::new();
            for f in &finished {
                if let Some(t) = &f.results.target {
                    let verdict = if t.reached { "reached" } else { "NOT reached" };
                    eprintln!(
                        "{}: target standard error {} of {} {verdict} at {} paths (achieved {:.4})",
                        f.results.scenario,
                        t.target.se,
                        t.target.metric,
                        f.results.paths,
                        t.achieved_se
                    );
                    if !t.reached {
                        unreached.push(f.results.scenario.clone());
                    }
                }
            }
            if !plan.quiet {
                for (f, scenario) in finished.iter().zip(&plan.scenarios) {
                    if let Some(headline) = cloudcapex::output::plan_headline(scenario, &f.results)
                    {
                        println!("{headline}");
                    }
                    println!("{}", summary_table(&f.results));
                    if plan.options.antithetic {
                        for (metric, stats) in &f.results.scalars {
                            if metric == "plan_npv_rmb_bn" || metric == "revenue_total_cagr" {
                                println!(
                                    "antithetic pairs: the variance of the mean of {metric} is {:.2}x smaller than with independent paths",
                                    stats.se_reduction_factor
                                );
                            }
                        }
                    }
                    println!("outputs: {}\n", f.folder.display());
                }
            }
            if plan.require_target && !unreached.is_empty() {
                return failure(format!(
                    "--require-target: the target standard error was not reached within --max-paths for {}; \
                     raise --max-paths or the target (outputs were written)",
                    unreached.join(", ")
                ));
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

/// `run --shard I/N`: each scenario's shard simulated in turn on the pool and written to
/// OUT/<scenario>/shard-I-of-N.ccx.
fn run_shards(plan: &RunPlan, spec: ShardSpec, pool: &rayon::ThreadPool) -> ExitCode {
    // Every folder checked before any shard runs.
    let mut folders = Vec::new();
    for scenario in &plan.scenarios {
        match cloudcapex::output::shard_folder(
            &plan.out,
            scenario.name(),
            cloudcapex::batch::RUN_KIND,
            &spec.file_name(),
            false,
        ) {
            Ok(folder) => folders.push(folder),
            Err(e) => return super::common::transaction_error(e),
        }
    }
    for ((position, scenario), (_lock, dir)) in (0u64..).zip(&plan.scenarios).zip(&folders) {
        let write = || cloudcapex::shard::run_shard(dir, scenario, &plan.options, spec, position);
        match pool.install(write) {
            Ok(file) => {
                if !plan.quiet {
                    let blocks = spec
                        .blocks(scenario.simulation().paths)
                        .expect("checked in plan");
                    println!(
                        "shard {spec} of `{}`: blocks {}..{} of {} paths; written: {}",
                        scenario.name(),
                        blocks.start,
                        blocks.end,
                        scenario.simulation().paths,
                        file.display()
                    );
                }
            }
            Err(e) => return failure(e),
        }
    }
    ExitCode::SUCCESS
}
