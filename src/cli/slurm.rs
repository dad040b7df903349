//! `cloudcapex slurm SCENARIO...`: a Slurm job array of `run --shard $SLURM_ARRAY_TASK_ID/N`
//! tasks and a merge job that depends on it, written as two readable sbatch scripts and,
//! with `--submit`, submitted with `sbatch --parsable`. No scheduler of our own: Slurm
//! runs the tasks, `merge` checks and joins their shards (docs/scale-out.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use cloudcapex::shard::ShardSpec;

use super::common::{OutputArgs, failure, load_scenarios, refuse};

#[derive(Args, Debug)]
pub struct SlurmArgs {
    /// Scenario files (TOML). None: the embedded default, scenarios/base.toml.
    scenarios: Vec<PathBuf>,
    /// Shards: array tasks 0..N-1, each `run --shard I/N` (at most the run's blocks of
    /// 1,024 paths).
    #[arg(long, value_name = "N", default_value_t = 4)]
    shards: u64,
    /// Number of paths (overrides simulation.paths).
    #[arg(long, value_name = "N")]
    paths: Option<u64>,
    /// Master seed (overrides simulation.seed).
    #[arg(long, value_name = "S", value_parser = super::common::seed_parser())]
    seed: Option<u64>,
    /// Overrides, passed to every task.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Keep the first N paths whole (paths.csv, path_scalars.csv, drivers.csv).
    #[arg(long, value_name = "N", default_value_t = 0)]
    paths_out: u64,
    /// Antithetic pairs of revenue shocks.
    #[arg(long)]
    antithetic: bool,
    /// Where the merged outputs go (OUT/<scenario>/, as `run`).
    #[arg(long, value_name = "DIR", default_value = "out")]
    out: PathBuf,
    /// Where the scripts, the shard files (shards/) and the tasks' logs (logs/) go.
    #[arg(long, value_name = "DIR", default_value = "slurm")]
    job_dir: PathBuf,
    /// Slurm partition (#SBATCH --partition); default: the cluster's default partition.
    #[arg(long, value_name = "P")]
    partition: Option<String>,
    /// Wall-time limit of each task and of the merge (#SBATCH --time), e.g. 00:30:00.
    #[arg(long, value_name = "T", default_value = "01:00:00")]
    time: String,
    /// CPUs per array task (#SBATCH --cpus-per-task); each task runs that many threads.
    #[arg(long, value_name = "C", default_value_t = 1)]
    cpus_per_task: u32,
    /// Submit both jobs (`sbatch --parsable`, the merge with --dependency=afterok on the
    /// array) and print their job ids; without it, only write the scripts.
    #[arg(long)]
    submit: bool,
    #[command(flatten)]
    outputs: OutputArgs,
}

/// A word quoted for bash: unchanged if it is plain, else in single quotes.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The absolute form of `path`, which goes into the scripts: refused if it holds a
/// control character (a newline would end a script line).
fn absolute(path: &Path, what: &str) -> Result<PathBuf, String> {
    let absolute =
        std::path::absolute(path).map_err(|e| format!("{what} {}: {e}", path.display()))?;
    if absolute.to_string_lossy().chars().any(char::is_control) {
        return Err(format!(
            "{what} {:?}: a path with a control character (a newline, a tab) cannot go into a job script; rename it",
            path.display()
        ));
    }
    Ok(absolute)
}

/// Whether `text` can stand unquoted in an `#SBATCH` line: sbatch splits its directives
/// on spaces, reads quotes and expands `%` patterns in file names.
fn sbatch_safe(text: &str) -> bool {
    !text.is_empty()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "'\"\\%#$`".contains(c))
}

/// A Slurm time limit: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M` or `D-H:M:S` (digits).
fn valid_time(text: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    let (days, rest) = match text.split_once('-') {
        Some((days, rest)) => (Some(days), rest),
        None => (None, text),
    };
    let groups: Vec<&str> = rest.split(':').collect();
    days.is_none_or(digits) && groups.len() <= 3 && groups.iter().all(|g| digits(g))
}

/// Slurm's default `MaxArraySize`: array indices up to 1,000.
const DEFAULT_MAX_ARRAY_SIZE: u64 = 1001;

/// Runs `cloudcapex slurm`.
pub fn run(args: SlurmArgs) -> ExitCode {
    match scripts(&args) {
        Ok((array, merge)) => {
            println!("written: {}\nwritten: {}", array.display(), merge.display());
            if args.submit {
                submit(&array, &merge)
            } else {
                println!(
                    "submit with: jobid=$(sbatch --parsable {}) && sbatch --dependency=afterok:${{jobid%%;*}} {}",
                    quote(&array.display().to_string()),
                    quote(&merge.display().to_string())
                );
                ExitCode::SUCCESS
            }
        }
        Err(Refusal::Input(message)) => refuse(message),
        Err(Refusal::Write(message)) => failure(message),
    }
}

enum Refusal {
    Input(String),
    Write(String),
}

/// Checks the run (scenarios load, every scenario has at least `--shards` blocks, the
/// output options are valid) and writes `array.sbatch` and `merge.sbatch` into the job
/// folder.
fn scripts(args: &SlurmArgs) -> Result<(PathBuf, PathBuf), Refusal> {
    let input = Refusal::Input;
    if args.shards == 0 || args.cpus_per_task == 0 {
        return Err(input(
            "--shards and --cpus-per-task must be at least 1".into(),
        ));
    }
    // Each task and the merge run with --threads C: checked here, not by every task.
    if args.cpus_per_task as usize > super::common::MAX_THREADS {
        return Err(input(format!(
            "--cpus-per-task {}: each task runs that many worker threads, at most {}",
            args.cpus_per_task,
            super::common::MAX_THREADS
        )));
    }
    if !valid_time(&args.time) {
        return Err(input(format!(
            "--time {:?}: expected a Slurm time such as 30, 01:00:00 or 1-00:00:00",
            args.time
        )));
    }
    if let Some(p) = &args.partition
        && (p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.,".contains(c)))
    {
        return Err(input(format!(
            "--partition {p:?}: expected a partition name"
        )));
    }
    args.outputs
        .selection(args.paths_out > 0)
        .map_err(Refusal::Input)?;
    super::common::check_out(&args.out).map_err(Refusal::Input)?;
    let scenarios = load_scenarios(&args.scenarios, &args.set).map_err(|e| input(e.to_string()))?;
    let spec = ShardSpec {
        index: 0,
        count: args.shards,
    };
    for s in &scenarios {
        let s = match args.paths {
            Some(paths) => s
                .clone()
                .with_paths(paths)
                .map_err(|e| input(e.to_string()))?,
            None => s.clone(),
        };
        let blocks = s
            .simulation()
            .paths
            .div_ceil(cloudcapex::runner::BLOCK_SIZE);
        if spec.blocks(s.simulation().paths).is_err() {
            return Err(input(format!(
                "--shards {}: scenario `{}` has {} paths, {blocks} blocks of 1,024, so at most {blocks} shards",
                args.shards,
                s.name(),
                s.simulation().paths
            )));
        }
        if args.outputs.drivers && s.simulation().paths > super::merge::MAX_DRIVER_PATHS {
            return Err(input(format!(
                "--drivers writes a row per path: at most {} paths (scenario `{}` has {}); the merge job would refuse it after the whole array ran",
                super::merge::MAX_DRIVER_PATHS,
                s.name(),
                s.simulation().paths
            )));
        }
        if args.paths_out > s.simulation().paths {
            return Err(input(format!(
                "--paths-out {} exceeds the {} paths of scenario `{}`",
                args.paths_out,
                s.simulation().paths,
                s.name()
            )));
        }
        super::run::check_paths_out_bytes(&s, args.paths_out).map_err(input)?;
    }

    let exe = std::env::current_exe()
        .map_err(|e| Refusal::Write(format!("cannot find this cloudcapex binary: {e}")))?;
    let job_dir = absolute(&args.job_dir, "--job-dir").map_err(input)?;
    if !sbatch_safe(&job_dir.display().to_string()) {
        return Err(input(format!(
            "--job-dir {}: the logs' path goes into #SBATCH --output, which takes no spaces, quotes, '%', '#', '$' or backslashes; choose a plainer folder",
            job_dir.display()
        )));
    }
    if args.shards > DEFAULT_MAX_ARRAY_SIZE {
        eprintln!(
            "note: {} array tasks exceed Slurm's default MaxArraySize ({DEFAULT_MAX_ARRAY_SIZE}); sbatch refuses the array unless your site raised it (scontrol show config | grep MaxArraySize)",
            args.shards
        );
    }
    let shards_dir = job_dir.join("shards");
    let logs = job_dir.join("logs");
    let out = absolute(&args.out, "--out").map_err(input)?;
    let mut task = vec![exe.display().to_string(), "run".to_string()];
    for file in &args.scenarios {
        task.push(
            absolute(file, "scenario")
                .map_err(input)?
                .display()
                .to_string(),
        );
    }
    if let Some(paths) = args.paths {
        task.extend(["--paths".to_string(), paths.to_string()]);
    }
    if let Some(seed) = args.seed {
        task.extend(["--seed".to_string(), seed.to_string()]);
    }
    for s in &args.set {
        task.extend(["--set".to_string(), s.clone()]);
    }
    if args.paths_out > 0 {
        task.extend(["--paths-out".to_string(), args.paths_out.to_string()]);
    }
    if args.antithetic {
        task.push("--antithetic".to_string());
    }
    task.extend([
        "--out".to_string(),
        shards_dir.display().to_string(),
        "--quiet".to_string(),
    ]);
    let task_line = task.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");

    let mut merge = vec![
        exe.display().to_string(),
        "merge".to_string(),
        shards_dir.display().to_string(),
        "--out".to_string(),
        out.display().to_string(),
        "--threads".to_string(),
        args.cpus_per_task.to_string(),
        "--quiet".to_string(),
    ];
    if args.outputs.report {
        merge.push("--report".to_string());
    }
    if let Some(history) = &args.outputs.history {
        merge.extend([
            "--history".to_string(),
            absolute(history, "--history")
                .map_err(input)?
                .display()
                .to_string(),
        ]);
    }
    if args.outputs.drivers {
        merge.push("--drivers".to_string());
    }
    let formats: Vec<&str> = args
        .outputs
        .format
        .iter()
        .map(|f| match f {
            super::common::Format::Csv => "csv",
            super::common::Format::Parquet => "parquet",
        })
        .collect();
    merge.extend(["--format".to_string(), formats.join(",")]);
    let merge_line = merge.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");

    // Scenario names (file stems) go into comments and the job name: kept to plain
    // characters there.
    let names: Vec<String> = scenarios
        .iter()
        .map(|s| {
            s.name()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        })
        .collect();
    let partition = args
        .partition
        .as_ref()
        .map(|p| format!("#SBATCH --partition={p}\n"))
        .unwrap_or_default();
    let version = cloudcapex::output::CRATE_VERSION;
    let n = args.shards;
    let array = format!(
        r#"#!/bin/bash
# cloudcapex {version}: {n} shards of the run of {scenarios}, as a Slurm job array.
# Task I simulates shard I/{n} (its contiguous blocks of 1,024 paths) and writes
# {shards}/<scenario>/shard-I-of-{n}.ccx; merge.sbatch joins them once every task succeeded.
# A failed or killed task leaves no shard file, and the merge job then never starts
# (squeue shows it pending with DependencyNeverSatisfied): scancel it, re-run just the
# missing indices, e.g.
#   sbatch --array={last} {array_file}
# and then submit merge.sbatch. Adapt the #SBATCH lines (account, QoS, memory) to your site.
#SBATCH --job-name=ccx-{job}
#SBATCH --array=0-{last}
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={time}
{partition}#SBATCH --output={logs}/shard-%a.out
set -euo pipefail
exec {task_line} \
  --threads "${{SLURM_CPUS_PER_TASK:-1}}" --shard "${{SLURM_ARRAY_TASK_ID}}/{n}"
"#,
        scenarios = names.join(", "),
        shards = shards_dir.display(),
        array_file = quote(&job_dir.join("array.sbatch").display().to_string()),
        job = names.join("-"),
        last = n - 1,
        cpus = args.cpus_per_task,
        time = args.time,
        logs = logs.display(),
    );
    let merge_script = format!(
        r#"#!/bin/bash
# cloudcapex {version}: merge the {n} shards of {scenarios} into --out/<scenario>/,
# byte-identical to an unsharded run. Submitted with --dependency=afterok:<array job id>,
# so it runs only when every array task succeeded; it refuses, naming them, shards that
# are missing, duplicated, damaged or of another run.
#SBATCH --job-name=ccx-{job}-merge
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={time}
{partition}#SBATCH --output={logs}/merge.out
set -euo pipefail
exec {merge_line}
"#,
        scenarios = names.join(", "),
        job = names.join("-"),
        cpus = args.cpus_per_task,
        time = args.time,
        logs = logs.display(),
    );
    let write = |name: &str, text: &str| {
        let path = job_dir.join(name);
        cloudcapex::output::write_atomically(&path, |w| w.write_all(text.as_bytes()))
            .map_err(|e| Refusal::Write(e.to_string()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| Refusal::Write(format!("{}: {e}", path.display())))?;
        }
        Ok(path)
    };
    std::fs::create_dir_all(&logs)
        .map_err(|e| Refusal::Write(format!("{}: {e}", logs.display())))?;
    Ok((
        write("array.sbatch", &array)?,
        write("merge.sbatch", &merge_script)?,
    ))
}

/// `sbatch --parsable` of the array, then of the merge with `--dependency=afterok` on it.
fn submit(array: &Path, merge: &Path) -> ExitCode {
    let sbatch = |args: &[&str], script: &Path| -> Result<String, String> {
        let output = std::process::Command::new("sbatch")
            .arg("--parsable")
            .args(args)
            .arg(script)
            .output()
            .map_err(|e| {
                format!("cannot run sbatch ({e}): is Slurm's client installed and on PATH?")
            })?;
        if !output.status.success() {
            return Err(format!(
                "sbatch {} failed: {}",
                script.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        // `--parsable` prints `jobid` or `jobid;cluster`.
        let text = String::from_utf8_lossy(&output.stdout);
        let id = text.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "sbatch printed no job id ({text:?}); the job may have been queued all the same: check squeue before submitting again"
            ));
        }
        Ok(id)
    };
    let array_id = match sbatch(&[], array) {
        Ok(id) => id,
        Err(message) => return failure(message),
    };
    let dependency = format!("--dependency=afterok:{array_id}");
    match sbatch(&[&dependency], merge) {
        Ok(merge_id) => {
            println!(
                "submitted: array job {array_id}, merge job {merge_id} (after the array succeeds)"
            );
            ExitCode::SUCCESS
        }
        Err(message) => failure(format!(
            "{message} (the array job {array_id} was submitted; scancel it or submit the merge by hand)"
        )),
    }
}
