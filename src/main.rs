//! `cloudcapex`: a thin command line over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use cloudcapex::batch::run_and_write_observed;
use cloudcapex::output::OutputSelection;
use cloudcapex::output::summary_table;
use cloudcapex::runner::{RunOptions, TargetSe};
use cloudcapex::{Override, Scenario, ScenarioError};

/// Exit code for refused input (bad scenario, bad options).
const EXIT_INVALID_INPUT: u8 = 2;
/// Exit code for failures while running or writing.
const EXIT_FAILURE: u8 = 1;

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
    /// Run a grid of overrides on one scenario (common random numbers across points):
    /// OUT/sweep_<name>/sweep.csv, and each point's outputs in OUT/sweep_<name>/point_<k>/.
    Sweep(SweepArgs),
    /// Find the value of one input at which a statistic hits a target, e.g. the plan size at
    /// which P(NPV < 0) = 0.2: `--vary plan.total_rmb_bn --range 200:600
    /// --target plan_npv_rmb_bn.prob_negative=0.2`. Writes OUT/breakeven_<name>.csv.
    Breakeven(BreakevenArgs),
    /// Sensitivity of a per-path metric to the uncertain inputs (assumptions given as
    /// distributions).
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
}

/// Options every analysis command shares: all its runs use the same seed and path count.
#[derive(Args, Debug)]
struct AnalysisOptions {
    /// Number of paths of every run.
    #[arg(long, value_name = "N")]
    paths: Option<u64>,
    /// Master seed, the same for every run (common random numbers).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Worker threads. Results do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// Overrides applied to every run first (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

impl AnalysisOptions {
    /// Refuses zero threads or paths, before any work.
    fn check(&self) -> Result<(), ExitCode> {
        if self.threads == Some(0) || self.paths == Some(0) {
            return Err(refuse("--threads and --paths must be at least 1"));
        }
        Ok(())
    }

    /// `file` with the shared overrides, then `extra`, then the seed and path count.
    fn load(&self, file: &std::path::Path, extra: &[String]) -> Result<Scenario, ScenarioError> {
        let sets: Vec<String> = self.set.iter().chain(extra).cloned().collect();
        let mut scenario = load_scenarios(&[file.to_path_buf()], &sets)?.remove(0);
        if let Some(seed) = self.seed {
            scenario = scenario.with_seed(seed);
        }
        match self.paths {
            Some(paths) => scenario.with_paths(paths),
            None => Ok(scenario),
        }
    }
}

#[derive(Args, Debug)]
struct SobolArgs {
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
}

#[derive(Args, Debug)]
struct TornadoArgs {
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
}

#[derive(Args, Debug)]
struct BreakevenArgs {
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

#[derive(Args, Debug)]
struct SweepArgs {
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
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Scenario files; the first is the baseline. A file may appear twice.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    #[command(flatten)]
    common: AnalysisOptions,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug, Default)]
struct RunArgs {
    /// Scenario files (TOML). None: the embedded default, scenarios/base.toml.
    scenarios: Vec<PathBuf>,
    /// Number of paths (overrides simulation.paths).
    #[arg(long, value_name = "N")]
    paths: Option<u64>,
    /// Master seed (overrides simulation.seed).
    #[arg(long, value_name = "S")]
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
    /// Also write paths.csv with the quarterly values of the first N paths.
    #[arg(long, value_name = "N", default_value_t = 0)]
    paths_out: u64,
    /// Do not print the summary table.
    #[arg(long, short)]
    quiet: bool,
    /// Add blocks of paths until the Monte Carlo standard error of a per-path metric's mean
    /// is at most this: `X` (for plan_npv_rmb_bn) or `METRIC=X`. Replaces --paths.
    #[arg(long, value_name = "[METRIC=]SE")]
    target_se: Option<String>,
    /// With --target-se, the most paths to run.
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    max_paths: u64,
    /// Antithetic pairs of revenue shocks (path 2j+1 negates path 2j's normals); standard
    /// errors come from pair averages and the achieved reduction is reported.
    #[arg(long)]
    antithetic: bool,
    /// Also write report.html and SVG charts (fan charts, NPV and IRR histograms) per
    /// scenario, and with several scenarios a comparison page OUT/report.html.
    #[arg(long)]
    report: bool,
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

#[derive(Args, Debug)]
struct ValidateArgs {
    /// Scenario files to check.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Overrides to check along with the files.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// One progress bar per scenario on stderr (paths done, paths/s, ETA), only when stderr is
/// a terminal and not `--quiet`: never in pipes, logs or CSVs.
fn progress_bars(scenarios: &[Scenario], quiet: bool) -> Vec<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return Vec::new();
    }
    let multi = indicatif::MultiProgress::new();
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>24} [{bar:32}] {human_pos}/{human_len} paths {per_sec} ETA {eta}",
    )
    .expect("a valid template")
    .progress_chars("=> ");
    scenarios
        .iter()
        .map(|s| {
            let bar = multi.add(indicatif::ProgressBar::new(s.simulation().paths));
            bar.set_style(style.clone());
            bar.set_prefix(s.name().to_string());
            bar
        })
        .collect()
}

/// Refuses input: prints the message, exit code 2.
fn refuse(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID_INPUT)
}

/// A failure while running or writing: prints the message, exit code 1.
fn failure(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_FAILURE)
}

/// The worker pool (`None`: RAYON_NUM_THREADS, else one thread per core).
fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ExitCode> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| failure(format!("cannot start worker threads: {e}")))
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
}

fn load_scenarios(files: &[PathBuf], set: &[String]) -> Result<Vec<Scenario>, ScenarioError> {
    let overrides = set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    if files.is_empty() {
        return Ok(vec![Scenario::default_with(&overrides)?]);
    }
    files
        .iter()
        .map(|f| Scenario::load(f, &overrides))
        .collect()
}

impl RunArgs {
    fn plan(self) -> Result<RunPlan, String> {
        if self.threads == Some(0) {
            return Err("--threads must be at least 1".into());
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
        let mut scenarios =
            load_scenarios(&self.scenarios, &self.set).map_err(|e| e.to_string())?;
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
            if self.paths_out > next.simulation().paths {
                return Err(format!(
                    "--paths-out {} exceeds the {} paths of scenario `{}`",
                    self.paths_out,
                    next.simulation().paths,
                    next.name()
                ));
            }
            *s = next;
        }
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
            outputs: OutputSelection {
                paths: self.paths_out > 0,
                report: self.report,
            },
            out: self.out,
            threads: self.threads,
            quiet: self.quiet,
        })
    }
}

fn run(args: RunArgs) -> ExitCode {
    let plan = match args.plan() {
        Ok(plan) => plan,
        Err(message) => return refuse(message),
    };
    let pool = match thread_pool(plan.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let bars = progress_bars(&plan.scenarios, plan.quiet);
    let on_block = |k: usize, paths: u64| {
        if let Some(bar) = bars.get(k) {
            bar.inc(paths);
        }
    };
    let outcome = pool.install(|| {
        run_and_write_observed(
            &plan.scenarios,
            &plan.options,
            &plan.outputs,
            &plan.out,
            &on_block,
        )
    });
    bars.iter()
        .for_each(indicatif::ProgressBar::finish_and_clear);
    match outcome {
        Ok(finished) => {
            if !plan.quiet {
                for f in &finished {
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
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}

/// The metrics the comparison table shows (all of them go to comparison.csv).
const COMPARE_TABLE_METRICS: [&str; 4] = [
    "plan_npv_rmb_bn",
    "plan_irr",
    "revenue_total_cagr",
    "revenue_total_final_year_rmb_bn",
];

fn compare(args: CompareArgs) -> ExitCode {
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
    let pool = match thread_pool(args.common.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
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

fn sweep(args: SweepArgs) -> ExitCode {
    use cloudcapex::analysis::{GridAxis, grid_points, write_sweep_csv};
    use cloudcapex::output::{RunJson, RunRecord, write_outputs};

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
    let make = |point: &[String]| args.common.load(&args.scenario, point);
    // Every point is validated before anything runs (refused with exit code 2).
    for point in &points {
        if let Err(e) = make(point) {
            return refuse(format!("grid point {}: {e}", point.join(" ")));
        }
    }
    let pool = match thread_pool(args.common.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let threads = pool.current_num_threads();
    let started = std::time::Instant::now();
    let runs = match pool.install(|| cloudcapex::analysis::sweep(make, &points)) {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (scenarios, results): (Vec<Scenario>, Vec<_>) = runs.into_iter().unzip();
    let folder = args
        .common
        .out
        .join(format!("sweep_{}", scenarios[0].name()));
    for (k, (scenario, result)) in scenarios.iter().zip(&results).enumerate() {
        let record = RunRecord {
            scenario,
            results: result,
        };
        let dir = folder.join(format!("point_{k:04}"));
        if let Err(e) = write_outputs(
            &dir,
            &record,
            &OutputSelection::default(),
            &RunJson::new(threads, elapsed),
        ) {
            return failure(e);
        }
    }
    match write_sweep_csv(&folder, &axes, &points, &results) {
        Ok(path) => {
            if !args.quiet {
                println!(
                    "{:<6} {:<48} {:>12} {:>8} {:>10}",
                    "point", "overrides", "mean NPV", "se", "P(NPV<0)"
                );
                for (k, (point, r)) in points.iter().zip(&results).enumerate() {
                    if let Some(npv) = r.scalar_stats("plan_npv_rmb_bn") {
                        let s = npv.summary.as_ref().expect("defined");
                        println!(
                            "{k:<6} {:<48} {:>12.2} {:>8.2} {:>10.3}",
                            point.join(" "),
                            s.mean,
                            s.se,
                            npv.prob_negative
                        );
                    }
                }
                println!("\nwritten: {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}

fn breakeven(args: BreakevenArgs) -> ExitCode {
    use cloudcapex::analysis::{Statistic, breakeven};

    let range = args
        .range
        .split_once(':')
        .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
        .filter(|(a, b)| a.is_finite() && b.is_finite() && a < b);
    let Some(range) = range else {
        return refuse(format!(
            "--range {:?}: expected LOW:HIGH with LOW < HIGH, e.g. 200:600",
            args.range
        ));
    };
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
    let pool = match thread_pool(args.common.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    match pool.install(|| breakeven(make, range, &statistic, target, tolerance)) {
        Ok(b) => {
            println!(
                "{} = {:.6} gives {} = {:.6} ± {:.6} (target {target})\nbracket [{:.6}, {:.6}] after {} bisection steps",
                args.vary,
                b.value,
                stat_text,
                b.statistic,
                b.statistic_se,
                b.bracket.0,
                b.bracket.1,
                b.iterations
            );
            let name = args
                .scenario
                .file_stem()
                .map_or("scenario".into(), |s| s.to_string_lossy().into_owned());
            let csv = format!(
                "scenario,input,statistic,target,value,bracket_low,bracket_high,iterations,statistic_value,statistic_se,cloudcapex_version\n\
                 {name},{},{stat_text},{target},{},{},{},{},{},{},{}\n",
                args.vary,
                b.value,
                b.bracket.0,
                b.bracket.1,
                b.iterations,
                b.statistic,
                b.statistic_se,
                cloudcapex::output::CRATE_VERSION
            );
            let target = args.common.out.join(format!("breakeven_{name}.csv"));
            match cloudcapex::output::write_atomically(&target, |out| out.write_all(csv.as_bytes()))
            {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => failure(e),
            }
        }
        Err(e) => failure(e),
    }
}

fn tornado(args: TornadoArgs) -> ExitCode {
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
    let pool = match thread_pool(args.common.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let tornado =
        match pool.install(|| cloudcapex::sensitivity::tornado(&scenario, make, &args.metric)) {
            Ok(t) => t,
            Err(e) => return failure(e),
        };
    match tornado.write_csv(
        &args.common.out.join(format!("tornado_{}", scenario.name())),
        &scenario,
    ) {
        Ok(path) => {
            if !args.quiet {
                println!("{}\nwritten: {}", tornado.table(), path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}

fn sobol(args: SobolArgs) -> ExitCode {
    if args.threads == Some(0) || args.samples < 2 {
        return refuse("--threads must be at least 1 and --samples at least 2");
    }
    let base_sets = match args
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
    {
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
    let result = pool.install(|| {
        cloudcapex::sensitivity::model_sobol(
            &scenario,
            make,
            &args.metric,
            args.samples,
            args.bootstrap,
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

fn validate(args: ValidateArgs) -> ExitCode {
    let overrides = match args
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(o) => o,
        Err(e) => return refuse(e),
    };
    let mut failed = false;
    for file in &args.scenarios {
        match Scenario::load(file, &overrides) {
            Ok(s) => println!(
                "ok: {} (scenario `{}`, sha256 {})",
                file.display(),
                s.name(),
                s.sha256()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(EXIT_INVALID_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        // No subcommand: `run` with its defaults, exactly as `cloudcapex run` parses them.
        None => {
            run(Cli::parse_from(["cloudcapex", "run"])
                .command
                .map_or_else(RunArgs::default, |c| match c {
                    Command::Run(args) => args,
                    _ => unreachable!("parsed `run`"),
                }))
        }
        Some(Command::Run(args)) => run(args),
        Some(Command::Validate(args)) => validate(args),
        Some(Command::Compare(args)) => compare(args),
        Some(Command::Sweep(args)) => sweep(args),
        Some(Command::Breakeven(args)) => breakeven(args),
        Some(Command::Sensitivity(SensitivityCommand::Tornado(args))) => tornado(args),
        Some(Command::Sensitivity(SensitivityCommand::Sobol(args))) => sobol(args),
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
