//! `cloudcapex mix A.toml=0.25 B.toml=0.5 C.toml=0.25`: several scenarios as one
//! distribution, each path drawn from one of them with probability its weight, written
//! as one output folder.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::Scenario;
use cloudcapex::analysis::{MixtureInput, claim_mixture, mixture_folder_name, run_mixture};
use cloudcapex::output::{OutputSelection, summary_table};
use cloudcapex::runner::{RunOptions, mixture_layout_difference};
use cloudcapex::shard::ShardSpec;

use super::common::{check_threads, failure, progress_bars, refuse, thread_pool};

/// How far the weights' sum may be from 1: rounding of weights written in decimal, not a
/// licence to normalise (an analyst's 0.25/0.5/0.2 is refused, saying the sum).
const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;

/// The most paths kept whole for `paths.csv`, as for `run`.
const MAX_PATHS_OUT: u64 = 100_000;

#[derive(Args, Debug)]
pub struct MixArgs {
    /// Components as FILE=WEIGHT (weights positive, summing to 1), e.g.
    /// scenarios/ai_boom.toml=0.25 scenarios/base.toml=0.5 scenarios/slowdown.toml=0.25.
    /// The first is the lead: its seed and path count are every component's unless
    /// --seed/--paths are given, and its seed draws each path's component.
    #[arg(required = true, value_name = "FILE=WEIGHT")]
    components: Vec<String>,
    /// The mixture's name: its folder OUT/<NAME>/ and the `scenario` column of its tables
    /// (default `mix`; a single component of weight 1 is its scenario's run, named after it).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Number of paths of the mixture (default: the lead's simulation.paths).
    #[arg(long, value_name = "N")]
    paths: Option<u64>,
    /// Master seed of every component (default: the lead's simulation.seed).
    #[arg(long, value_name = "S", value_parser = super::common::seed_parser())]
    seed: Option<u64>,
    /// Output directory; the mixture writes into OUT/<NAME>/.
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Worker threads (default: RAYON_NUM_THREADS, else one per core). Results do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// Also write paths.csv, path_scalars.csv and mix_paths.csv (each kept path's
    /// component) of the first N paths.
    #[arg(long, value_name = "N", default_value_t = 0)]
    paths_out: u64,
    /// Do not print the tables, nor draw the progress bar.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    outputs: super::common::OutputArgs,
    /// Not supported for a mixture (refused): see docs/outputs.md, "mix".
    #[arg(long, value_name = "I/N")]
    shard: Option<ShardSpec>,
}

/// One `FILE=WEIGHT` argument parsed: the file exists and the weight is a positive number.
fn parse_component(text: &str) -> Result<(PathBuf, f64), String> {
    let Some((file, weight)) = text.rsplit_once('=') else {
        return Err(format!(
            "`{text}`: expected FILE=WEIGHT, e.g. scenarios/base.toml=0.5 (no `=` found)"
        ));
    };
    let weight: f64 = weight.trim().parse().map_err(|_| {
        format!("`{text}`: the weight `{weight}` is not a number; expected e.g. {file}=0.5")
    })?;
    if !(weight > 0.0 && weight.is_finite()) {
        return Err(format!(
            "`{text}`: a weight must be a positive finite number, found {weight}"
        ));
    }
    let file = PathBuf::from(file);
    if !file.is_file() {
        return Err(format!(
            "`{text}`: {}: no such scenario file",
            file.display()
        ));
    }
    Ok((file, weight))
}

/// Everything checked, nothing run or written yet.
struct MixPlan {
    name: String,
    components: Vec<MixtureInput>,
    options: RunOptions,
    outputs: OutputSelection,
    out: PathBuf,
    threads: Option<usize>,
    quiet: bool,
}

impl MixArgs {
    /// The options checked against each other and every component loaded, in one place.
    fn plan(self) -> Result<MixPlan, String> {
        check_threads(self.threads)?;
        if self.shard.is_some() {
            return Err(
                "--shard: a mix is not sharded (every block simulates every component); run it \
                 whole, or shard each component with `run --shard` and mix in memory"
                    .into(),
            );
        }
        if self.paths == Some(0) {
            return Err("--paths must be at least 1".into());
        }
        if self.paths_out > MAX_PATHS_OUT {
            return Err(format!(
                "--paths-out {}: at most {MAX_PATHS_OUT} paths are kept whole",
                self.paths_out
            ));
        }
        let parsed = self
            .components
            .iter()
            .map(|c| parse_component(c))
            .collect::<Result<Vec<_>, _>>()?;
        let sum: f64 = parsed.iter().map(|(_, w)| w).sum();
        if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
            return Err(format!(
                "the weights sum to {sum}, not 1 (within {WEIGHT_SUM_TOLERANCE}); give each \
                 component its probability, e.g. a=0.25 b=0.5 c=0.25"
            ));
        }
        let single = parsed.len() == 1;
        if single && self.name.is_some() {
            return Err(
                "--name: a single component of weight 1 is its scenario's run and is named after it"
                    .into(),
            );
        }
        if !single && (self.outputs.report || self.outputs.drivers) {
            return Err(
                "--report and --drivers show one scenario's drawn inputs and assumptions; a mix of \
                 several has each path's inputs from its own component: not supported (mix_paths.csv \
                 with --paths-out names each kept path's component)"
                    .into(),
            );
        }
        if let Some(problem) = self
            .name
            .as_deref()
            .and_then(cloudcapex::scenario::name_problem)
        {
            return Err(format!("--name: {problem}"));
        }
        let mut components = Vec::with_capacity(parsed.len());
        for (file, weight) in parsed {
            let scenario = Scenario::load(&file, &[]).map_err(|e| e.to_string())?;
            components.push(MixtureInput {
                file,
                scenario,
                weight,
            });
        }
        let lead = &components[0].scenario;
        let seed = self.seed.unwrap_or(lead.simulation().seed);
        let paths = self.paths.unwrap_or(lead.simulation().paths);
        for c in &mut components {
            c.scenario = c
                .scenario
                .clone()
                .with_seed(seed)
                .with_paths(paths)
                .map_err(|e| e.to_string())?;
        }
        let (lead, lead_file) = (&components[0].scenario, &components[0].file);
        for c in &components[1..] {
            if let Some(difference) = mixture_layout_difference(lead, &c.scenario) {
                return Err(format!(
                    "{} cannot be mixed with the lead {}: {difference}",
                    c.file.display(),
                    lead_file.display()
                ));
            }
        }
        if self.paths_out > paths {
            return Err(format!(
                "--paths-out {} exceeds the mixture's {paths} paths",
                self.paths_out
            ));
        }
        super::run::check_paths_out_bytes(lead, self.paths_out)?;
        super::common::check_out(&self.out)?;
        let outputs = self.outputs.selection(self.paths_out > 0)?;
        Ok(MixPlan {
            name: mixture_folder_name(self.name.as_deref(), &components),
            components,
            options: RunOptions {
                paths_out: self.paths_out,
                ..RunOptions::default()
            },
            outputs,
            out: self.out,
            threads: self.threads,
            quiet: self.quiet,
        })
    }
}

/// Runs `cloudcapex mix`.
pub fn run(args: MixArgs) -> ExitCode {
    let plan = match args.plan() {
        Ok(plan) => plan,
        Err(message) => return refuse(message),
    };
    for c in &plan.components {
        for warning in c.scenario.warnings() {
            eprintln!("warning: {}: {warning}", c.file.display());
        }
    }
    let pool = match thread_pool(plan.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let mut transaction = match super::common::begin(&plan.out) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if let Err(e) = claim_mixture(
        &mut transaction,
        &plan.name,
        &plan.components,
        &plan.outputs,
    ) {
        return super::common::transaction_error(e);
    }
    let bars = progress_bars(
        std::slice::from_ref(&plan.components[0].scenario),
        plan.quiet,
    );
    bars.iter().for_each(|b| b.set_prefix(plan.name.clone()));
    let on_block = |paths: u64| bars.iter().for_each(|b| b.inc(paths));
    let outcome = pool
        .install(|| {
            run_mixture(
                &mut transaction,
                &plan.name,
                &plan.components,
                &plan.options,
                &plan.outputs,
                &on_block,
            )
        })
        .map_err(failure)
        .and_then(|finished| super::common::commit(transaction).map(|()| finished));
    bars.iter()
        .for_each(indicatif::ProgressBar::finish_and_clear);
    let finished = match outcome {
        Ok(finished) => finished,
        Err(code) => return code,
    };
    if !plan.quiet {
        if let [single] = plan.components.as_slice()
            && let Some(headline) =
                cloudcapex::output::plan_headline(&single.scenario, &finished.results)
        {
            println!("{headline}");
        }
        println!("{}", summary_table(&finished.results));
        if plan.components.len() > 1 {
            print_components(&plan.components, &finished.results);
        }
        println!("outputs: {}\n", finished.folder.display());
    }
    ExitCode::SUCCESS
}

/// The components' table: weight, paths drawn, their paths' mean NPV.
fn print_components(components: &[MixtureInput], results: &cloudcapex::runner::Results) {
    let record = cloudcapex::analysis::mixture_record(components, results);
    println!(
        "{:<24} {:>8} {:>8} {:>14}  file",
        "component", "weight", "paths", "NPV mean"
    );
    for c in &record.components {
        println!(
            "{:<24} {:>8} {:>8} {:>+14.1}  {}",
            c.scenario.name(),
            c.weight,
            c.paths,
            c.plan_npv_mean_rmb_bn,
            c.file
        );
    }
}
