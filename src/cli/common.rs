//! What every subcommand shares: exit codes, scenario loading with `--set` overrides, the
//! analysis commands' common options, the worker pool and progress bars.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use cloudcapex::{Override, Scenario, ScenarioError};

/// Exit code for refused input (bad scenario, bad options).
pub const EXIT_INVALID_INPUT: u8 = 2;
/// Exit code for failures while running or writing.
pub const EXIT_FAILURE: u8 = 1;

/// The most worker threads a command starts (refused above, with the reason).
pub const MAX_THREADS: usize = 256;

/// `--threads` within 1 ..= [`MAX_THREADS`]; without it, the variable the pool then reads
/// (RAYON_NUM_THREADS, else rayon's older RAYON_RS_NUM_CPUS) likewise, a value that is not
/// a whole number refused too (rayon would silently ignore it). An empty value counts as
/// unset, as rayon takes it.
pub fn check_threads(threads: Option<usize>) -> Result<(), String> {
    let cores = || std::thread::available_parallelism().map_or(1, |n| n.get());
    match threads {
        Some(0) => Err("--threads must be at least 1".into()),
        Some(t) if t > MAX_THREADS => Err(format!(
            "--threads {t}: at most {MAX_THREADS} worker threads (this machine has {}); results do not depend on it",
            cores()
        )),
        Some(_) => Ok(()),
        None => {
            for name in ["RAYON_NUM_THREADS", "RAYON_RS_NUM_CPUS"] {
                let Some(value) = std::env::var_os(name).filter(|v| !v.is_empty()) else {
                    continue;
                };
                return match value.to_str().and_then(|v| v.parse::<usize>().ok()) {
                    Some(t) if (1..=MAX_THREADS).contains(&t) => Ok(()),
                    _ => Err(format!(
                        "{name}={value:?} (the worker threads without --threads): expected a whole number from 1 \
                         to {MAX_THREADS} (this machine has {}); set it so, unset it (one thread per core) or give --threads T",
                        cores()
                    )),
                };
            }
            Ok(())
        }
    }
}

/// Refuses an `--out` that cannot be a folder, before any work: an existing file, or a
/// symbolic link to nothing (which `create_dir_all` would report as "File exists").
pub fn check_out(out: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(out) {
        Ok(meta) if meta.file_type().is_symlink() && std::fs::metadata(out).is_err() => {
            Err(format!(
                "--out {} is a symbolic link to {}, which does not exist; create it or choose another folder",
                out.display(),
                std::fs::read_link(out).map_or_else(|_| "?".into(), |t| t.display().to_string())
            ))
        }
        Ok(_) if std::fs::metadata(out).is_ok_and(|m| !m.is_dir()) => Err(format!(
            "--out {} is a file, not a folder; choose a folder (it is created if missing)",
            out.display()
        )),
        _ => Ok(()),
    }
}

/// Begins the command's transaction on `out` (created if needed): takes its lock and
/// finishes or removes what an interrupted command left there, saying so on stderr. Call it
/// after every input has been validated, and claim every output folder before any work.
pub fn begin(out: &Path) -> Result<cloudcapex::output::Transaction, ExitCode> {
    let transaction = cloudcapex::output::Transaction::begin(out).map_err(transaction_error)?;
    for note in transaction.notes() {
        eprintln!("note: {note}");
    }
    Ok(transaction)
}

/// A transaction's error as the command's exit: a folder in the way is refused input
/// (exit 2, nothing done), anything else a failure (exit 1).
pub fn transaction_error(e: cloudcapex::output::TransactionError) -> ExitCode {
    if e.is_refusal() {
        refuse(e)
    } else {
        failure(e)
    }
}

/// [`begin`], then claims the one folder `OUT/<name>` the command writes (output of
/// `kind`), before any work. Returns the transaction and the folder to write in.
pub fn begin_folder(
    out: &Path,
    name: &str,
    kind: &str,
    mode: cloudcapex::output::ClaimMode,
) -> Result<(cloudcapex::output::Transaction, PathBuf), ExitCode> {
    let mut transaction = begin(out)?;
    let staged = transaction
        .claim(name, kind, mode)
        .map_err(transaction_error)?;
    Ok((transaction, staged))
}

/// Commits `transaction` (every output folder swapped in whole), saying what it noted.
pub fn commit(transaction: cloudcapex::output::Transaction) -> Result<(), ExitCode> {
    let notes = transaction.commit().map_err(transaction_error)?;
    for note in notes {
        eprintln!("note: {note}");
    }
    Ok(())
}

/// Refuses input: prints the message, exit code 2.
pub fn refuse(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID_INPUT)
}

/// A failure while running or writing: prints the message, exit code 1.
pub fn failure(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_FAILURE)
}

/// `--set` arguments parsed into overrides.
pub fn parse_overrides(set: &[String]) -> Result<Vec<Override>, ScenarioError> {
    set.iter().map(|s| Override::parse(s)).collect()
}

/// Each file with the overrides applied; no files: the embedded default scenario.
pub fn load_scenarios(files: &[PathBuf], set: &[String]) -> Result<Vec<Scenario>, ScenarioError> {
    let overrides = parse_overrides(set)?;
    if files.is_empty() {
        return Ok(vec![Scenario::default_with(&overrides)?]);
    }
    files
        .iter()
        .map(|f| Scenario::load(f, &overrides))
        .collect()
}

/// The worker pool (`None`: RAYON_NUM_THREADS, else one thread per core).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ExitCode> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| failure(format!("cannot start worker threads: {e}")))
}

/// One progress bar per scenario on stderr (paths done, paths/s, ETA), only when stderr is
/// a terminal and not `--quiet`: never in pipes, logs or CSVs.
pub fn progress_bars(scenarios: &[Scenario], quiet: bool) -> Vec<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return Vec::new();
    }
    let multi = indicatif::MultiProgress::new();
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>24} [{bar:32}] {human_pos}/{human_len} paths {rate} ETA {eta}",
    )
    .expect("a valid template")
    // Whole paths per second (indicatif's {per_sec} prints four decimals).
    .with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        },
    )
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

/// Options every analysis command shares: all its runs use the same seed and path count.
#[derive(Args, Debug)]
pub struct AnalysisOptions {
    /// Number of paths of every run.
    #[arg(long, value_name = "N")]
    pub paths: Option<u64>,
    /// Master seed, the same for every run (common random numbers).
    #[arg(long, value_name = "S", value_parser = seed_parser())]
    pub seed: Option<u64>,
    /// Output directory.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
    /// Worker threads. Results do not depend on it.
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Overrides applied to every run first (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl AnalysisOptions {
    /// Refuses zero threads or paths, before any work.
    pub fn check(&self) -> Result<(), ExitCode> {
        if self.threads == Some(0) || self.paths == Some(0) {
            return Err(refuse("--threads and --paths must be at least 1"));
        }
        check_out(&self.out).map_err(refuse)?;
        check_threads(self.threads).map_err(refuse)
    }

    /// `file` with the shared overrides, then `extra`, then the seed and path count.
    pub fn load(&self, file: &Path, extra: &[String]) -> Result<Scenario, ScenarioError> {
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

    /// The worker pool for `--threads`.
    pub fn thread_pool(&self) -> Result<rayon::ThreadPool, ExitCode> {
        thread_pool(self.threads)
    }
}

/// The end of an analysis subcommand: on success commits `transaction` and prints its
/// table (unless `quiet`) and the file written, exit 0; on failure the error, exit 1, and
/// `OUT` as it was.
pub fn report_written(
    transaction: cloudcapex::output::Transaction,
    written: Result<PathBuf, cloudcapex::output::OutputError>,
    table: impl FnOnce() -> String,
    quiet: bool,
) -> ExitCode {
    match written {
        Ok(path) => {
            let path = transaction.final_path(&path);
            if let Err(code) = commit(transaction) {
                return code;
            }
            if !quiet {
                println!("{}\nwritten: {}", table(), path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(cloudcapex::output::OutputError {
            path: transaction.final_path(&e.path),
            source: e.source,
        }),
    }
}

/// The outputs written from a run's results besides the tables' defaults: shared by `run`
/// and `merge`, parsed here and checked in [`OutputArgs::selection`].
#[derive(clap::Args, Debug)]
pub struct OutputArgs {
    /// Also write report.html and SVG charts (fan charts, NPV and IRR histograms) per
    /// scenario, and with several scenarios a comparison page OUT/report.html.
    #[arg(long)]
    pub report: bool,
    /// Also write drivers.csv for every path: each path's drawn assumptions, regime shares,
    /// event firings and per-path outputs, one wide row (at most 1,000,000 paths).
    #[arg(long)]
    pub drivers: bool,
    /// With --report, the reported history drawn on the revenue and margin fan charts;
    /// default data/alibaba_cloud_quarterly.csv, else the copy embedded in the binary.
    #[arg(long, value_name = "FILE", requires = "report")]
    pub history: Option<PathBuf>,
    /// Table formats: csv (the default and the contract), parquet (typed columns, the
    /// provenance in file metadata; needs a build with `--features parquet`), or both,
    /// comma-separated: --format csv,parquet.
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        value_delimiter = ',',
        default_value = "csv"
    )]
    pub format: Vec<Format>,
}

/// A table format of `--format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV.
    Csv,
    /// Parquet.
    Parquet,
}

impl OutputArgs {
    /// Whether any of these options differs from its default.
    pub fn any(&self) -> bool {
        self.report || self.drivers || self.history.is_some() || self.format != [Format::Csv]
    }

    /// The selection these options ask for (`paths`: the run keeps paths for paths.csv);
    /// Parquet refused where this build cannot write it, the history loaded for --report.
    pub fn selection(&self, paths: bool) -> Result<cloudcapex::output::OutputSelection, String> {
        use cloudcapex::output::TableFormats;
        let formats = match (
            self.format.contains(&Format::Csv),
            self.format.contains(&Format::Parquet),
        ) {
            (true, true) => TableFormats::CsvAndParquet,
            (false, true) => TableFormats::Parquet,
            _ => TableFormats::Csv,
        };
        if !formats.supported() {
            return Err(
                "--format parquet: this cloudcapex was built without Parquet support; rebuild with \
                 `cargo build --release --features parquet` (or `cargo install --path . --features parquet`)"
                    .to_string(),
            );
        }
        let history = if self.report {
            let history = cloudcapex::history::History::load_or_default(self.history.as_deref())
                .map_err(|e| e.to_string())?;
            Some(std::sync::Arc::new(history))
        } else {
            None
        };
        Ok(cloudcapex::output::OutputSelection {
            formats,
            paths,
            report: self.report,
            drivers: self.drivers,
            history,
        })
    }
}

/// `--seed`: any integer a scenario file can hold (TOML integers are 64-bit signed), so
/// `scenario.toml` and `run.json` can record it.
pub fn seed_parser() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(..=i64::MAX as u64)
}
