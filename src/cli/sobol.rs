//! `cloudcapex sensitivity sobol`: first-order and total Sobol indices of a per-path metric.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::sensitivity::sobol::{FirstOrderEstimator, SobolOptions};
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
    #[arg(long, value_name = "S", value_parser = super::common::seed_parser())]
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
    /// Also estimate the second-order index of every pair of inputs (Saltelli 2002; N k
    /// more one-path runs) into sobol_second_order.csv; with --export-samples, export
    /// SALib's calc_second_order=True design.
    #[arg(long)]
    second_order: bool,
    /// Evaluate only shard I of N (0-based) of the design's base rows, into
    /// OUT/sobol_<name>/shard-I-of-N.ccx; `cloudcapex merge OUT` computes the indices,
    /// byte-identical to an unsharded run.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["export_samples", "import_samples"])]
    shard: Option<cloudcapex::shard::ShardSpec>,
    /// Write the engine's sample matrix (--samples base rows, SALib's Saltelli order) and a
    /// SALib problem definition (problem.json) into DIR, and stop: for SALib notebooks.
    #[arg(long, value_name = "DIR", conflicts_with = "import_samples")]
    export_samples: Option<PathBuf>,
    /// Evaluate the model at every row of a sample matrix (e.g. from SALib's
    /// saltelli.sample on the exported problem.json; quantile levels in [0, 1), one column
    /// per input then intrinsic_randomness) and write OUT/sobol_<name>/evaluations.csv,
    /// the Y for SALib's sobol.analyze.
    #[arg(long, value_name = "FILE")]
    import_samples: Option<PathBuf>,
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
    let names = cloudcapex::sensitivity::sobol::sobol_input_names(&scenario);
    if let Some(dir) = &args.export_samples {
        return export_samples(dir, &names, args.samples, args.second_order);
    }
    let imported = match &args.import_samples {
        Some(file) => match read_samples(file, &names) {
            Ok(rows) => Some(rows),
            Err(message) => return refuse(message),
        },
        None => None,
    };
    let pool = match thread_pool(args.threads) {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let options = SobolOptions::default()
        .bootstrap(args.bootstrap)
        .seed(scenario.simulation().seed)
        .first_order(match args.first_order {
            FirstOrder::Saltelli => FirstOrderEstimator::Saltelli2010,
            FirstOrder::Jansen => FirstOrderEstimator::Jansen1999,
        })
        .second_order(args.second_order);
    if let Some(spec) = args.shard {
        if let Err(message) = spec.range(args.samples as u64, "base rows of the Sobol design") {
            return refuse(message);
        }
        // A shared lock: concurrent shard tasks share OUT, each writing its own file.
        let (_lock, folder) = match cloudcapex::output::shard_folder(
            &args.out,
            &cloudcapex::sensitivity::sobol::sobol_folder_name(&scenario),
            cloudcapex::shard::SOBOL,
            &spec.file_name(),
            false,
        ) {
            Ok(claimed) => claimed,
            Err(e) => return super::common::transaction_error(e),
        };
        let written = pool.install(|| {
            cloudcapex::sensitivity::sobol::sobol_shard(
                &folder,
                spec,
                &scenario,
                make,
                &args.metric,
                args.samples,
                &options,
            )
        });
        return match written {
            Ok(path) => {
                if !args.quiet {
                    println!(
                        "shard {spec} of the Sobol design; written: {}",
                        path.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => failure(e),
        };
    }
    let (transaction, dir) = match super::common::begin_folder(
        &args.out,
        &cloudcapex::sensitivity::sobol::sobol_folder_name(&scenario),
        "sobol",
        cloudcapex::output::ClaimMode::Update,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    if let Some(rows) = imported {
        let values = match pool.install(|| {
            cloudcapex::sensitivity::sobol::evaluate_points(&scenario, make, &args.metric, &rows)
        }) {
            Ok(v) => v,
            Err(e) => return failure(e),
        };
        let path = dir.join("evaluations.csv");
        let mut text = format!(
            "row,{},seed,scenario_sha256,cloudcapex_version\n",
            args.metric
        );
        for (r, v) in values.iter().enumerate() {
            text.push_str(&format!(
                "{r},{},{},{},{}\n",
                cloudcapex::output::plain(*v),
                scenario.simulation().seed,
                scenario.sha256(),
                cloudcapex::output::CRATE_VERSION
            ));
        }
        let written = cloudcapex::output::write_atomically(&path, |w| w.write_all(text.as_bytes()))
            .map_err(failure)
            .and_then(|path| {
                let path = transaction.final_path(&path);
                super::common::commit(transaction)?;
                Ok(path)
            });
        return match written {
            Ok(path) => {
                if !args.quiet {
                    println!(
                        "{} rows evaluated; written: {}",
                        values.len(),
                        path.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        };
    }
    let result = pool.install(|| {
        cloudcapex::sensitivity::sobol::model_sobol(
            &scenario,
            make,
            &args.metric,
            args.samples,
            &options,
        )
    });
    let sobol = match result {
        Ok(s) => s,
        Err(e) => return failure(e),
    };
    super::common::report_written(
        transaction,
        sobol.write_csv(&dir, &scenario),
        || sobol.table(),
        args.quiet,
    )
}

/// `problem.json` (SALib's problem: names, unit bounds, uniform dists; each input is a
/// quantile level) and `samples.csv` (a header of names, then the engine's points).
fn export_samples(
    dir: &std::path::Path,
    names: &[String],
    samples: usize,
    second_order: bool,
) -> ExitCode {
    let points =
        match cloudcapex::sensitivity::sobol::saltelli_points(names.len(), samples, second_order) {
            Ok(p) => p,
            Err(e) => return refuse(e),
        };
    let problem = serde_json::json!({
        "num_vars": names.len(),
        "names": names,
        "bounds": vec![[0.0, 1.0]; names.len()],
        "dists": vec!["unif"; names.len()],
        "calc_second_order": second_order,
        "note": "analyse with SALib's sobol.analyze(problem, Y, calc_second_order=problem['calc_second_order']); each input is the quantile level of the cloudcapex assumption of that key path; the last, intrinsic_randomness, seeds the path's own random streams",
    });
    // Through the csv writer, so the header is quoted as CSV wants whatever the names
    // (validation keeps them identifiers: nothing needs quoting today).
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut record = writer.write_record(names);
    for p in &points {
        if record.is_err() {
            break;
        }
        record = writer.write_record(p.iter().map(|x| cloudcapex::output::plain(*x)));
    }
    let csv = match record.and_then(|_| writer.into_inner().map_err(|e| e.into_error().into())) {
        Ok(bytes) => bytes,
        Err(e) => return failure(e),
    };
    let json = serde_json::to_string_pretty(&problem).expect("a JSON value") + "\n";
    let written = cloudcapex::output::write_atomically(&dir.join("problem.json"), |w| {
        w.write_all(json.as_bytes())
    })
    .and_then(|_| {
        cloudcapex::output::write_atomically(&dir.join("samples.csv"), |w| w.write_all(&csv))
    });
    match written {
        Ok(path) => {
            println!(
                "{} points of {} inputs; written: {} and problem.json",
                points.len(),
                names.len(),
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}

/// A sample matrix: comma- or whitespace-separated numbers, one row per point, with an
/// optional header that must name the inputs in order (a comma-separated header is read
/// as CSV, quotes and all). Every value must be a quantile level in [0, 1): one outside
/// is refused here, before any work, naming its line (the header is line 1) and column.
fn read_samples(file: &std::path::Path, names: &[String]) -> Result<Vec<Vec<f64>>, String> {
    let text = cloudcapex::input_file::read_text(
        file,
        cloudcapex::input_file::MAX_SAMPLE_BYTES,
        "a sample file",
    )
    .map_err(|e| format!("--import-samples {}: {e}", file.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line
            .split([',', ' ', '\t'])
            .filter(|c| !c.is_empty())
            .collect();
        let parsed: Result<Vec<f64>, _> = cells.iter().map(|c| c.parse::<f64>()).collect();
        match parsed {
            Ok(values) => {
                if values.len() != names.len() {
                    return Err(format!(
                        "--import-samples {}, line {}: expected {} columns ({}), found {}",
                        file.display(),
                        n + 1,
                        names.len(),
                        names.join(", "),
                        values.len()
                    ));
                }
                if let Some(c) = values.iter().position(|x| !(0.0..1.0).contains(x)) {
                    return Err(format!(
                        "--import-samples {}, line {}, column {} (`{}`): expected a quantile level \
                         in [0, 1), found {}",
                        file.display(),
                        n + 1,
                        c + 1,
                        names[c],
                        cells[c]
                    ));
                }
                rows.push(values);
            }
            Err(_) if rows.is_empty() && n == 0 => {
                if header_cells(line) != *names {
                    return Err(format!(
                        "--import-samples {}, line 1: the header must name the inputs in order: {}",
                        file.display(),
                        names.join(",")
                    ));
                }
            }
            Err(_) => {
                return Err(format!(
                    "--import-samples {}, line {}: expected numbers, found {line:?}",
                    file.display(),
                    n + 1
                ));
            }
        }
    }
    if rows.is_empty() {
        return Err(format!(
            "--import-samples {}: no sample rows",
            file.display()
        ));
    }
    Ok(rows)
}

/// The names of a header line: CSV fields if it has a comma (quoted ones unquoted), else
/// its whitespace-separated words.
fn header_cells(line: &str) -> Vec<String> {
    if line.contains(',') {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(line.as_bytes());
        if let Some(Ok(record)) = reader.records().next() {
            return record.iter().map(String::from).collect();
        }
    }
    line.split_whitespace().map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::header_cells;

    #[test]
    fn headers_are_read_as_csv_or_words() {
        assert_eq!(header_cells("a, b ,c"), ["a", "b", "c"]);
        assert_eq!(header_cells("\"a,b\",c"), ["a,b", "c"]);
        assert_eq!(header_cells("a b\tc"), ["a", "b", "c"]);
    }
}
