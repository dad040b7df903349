//! Sweeps: a full grid of overrides on one scenario, every point on the same seed (common
//! random numbers across points).

use std::io;
use std::path::Path;

use rayon::prelude::*;

use crate::Scenario;
use crate::output::{CRATE_VERSION, OutputError};
use crate::runner::{Results, RunOptions, simulate};

/// Largest grid `sweep` runs without `force`.
pub const MAX_SWEEP_POINTS: usize = 200;

/// Largest grid `sweep` runs at all (each point keeps its results until written).
pub const MAX_FORCED_SWEEP_POINTS: usize = 10_000;

/// One axis of a sweep: a key path and its values (TOML text, as `--set` takes them).
#[derive(Clone, Debug, PartialEq)]
pub struct GridAxis {
    /// Dotted key path.
    pub key: String,
    /// Values, in order.
    pub values: Vec<String>,
}

/// Why a grid was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// Not `key=v1,v2,...` or `key=start:stop:step`.
    #[error(
        "--grid {0:?}: expected KEY=V1,V2,... or KEY=START:STOP:STEP, e.g. plan.total_rmb_bn=300,380,480"
    )]
    Malformed(String),
    /// A range with a non-positive step, a start after its stop, or non-numbers.
    #[error("--grid {0:?}: a range needs numbers with START <= STOP and STEP > 0")]
    BadRange(String),
    /// A range with more values than the hard limit on grid points (counted before any
    /// value is made, so a tiny step neither overflows nor allocates).
    #[error(
        "--grid {grid:?}: the range has {} values, more than the hard limit of {limit} grid points; \
         use a larger STEP",
        count_text(*.values)
    )]
    RangeTooLarge {
        /// The `--grid` argument.
        grid: String,
        /// Values the range would have (a float: it may exceed any integer type).
        values: f64,
        /// The hard limit.
        limit: usize,
    },
    /// Two axes on one key: the later would override the earlier at every point, and
    /// `sweep.csv` would have two columns of that name.
    #[error(
        "--grid {0}=... is given twice: a key is one axis; give all its values in one --grid, \
         e.g. --grid {0}=V1,V2,V3"
    )]
    DuplicateKey(String),
    /// An axis on the scenario's `name`: it names the output folder, not an input.
    #[error(
        "--grid {0:?}: `name` names the scenario's output folder, it is not an input (every point would \
         run the same model, and the sweep's folder would take the first point's name); set it once with \
         --set name=NAME and grid over inputs"
    )]
    NameKey(String),
    /// One value twice on an axis (listed twice, or a step finer than the 12 decimals
    /// values are written with): two points would be the same run.
    #[error(
        "--grid {grid:?}: the value {value} appears twice on this axis (a step below 1e-12 is written \
         to 12 decimals); list each value once, or use a coarser step"
    )]
    RepeatedValue {
        /// The axis as given.
        grid: String,
        /// The repeated value.
        value: String,
    },
    /// Too many grid points even with `force`.
    #[error(
        "the grid has {} points, more than the hard limit of {limit} (each point keeps its results \
         until written); narrow it or split it into several sweeps",
        shape_text(.axes)
    )]
    FarTooLarge {
        /// Values on each axis, in order.
        axes: Vec<usize>,
        /// The hard limit.
        limit: usize,
    },
    /// Too many grid points.
    #[error(
        "the grid has {points} points, more than the limit of {limit}; narrow it or pass --force"
    )]
    TooLarge {
        /// Points in the full grid.
        points: usize,
        /// The limit.
        limit: usize,
    },
}

impl GridAxis {
    /// Parses `key=v1,v2,...` or `key=start:stop:step` (inclusive of `stop` when it lies on
    /// the grid, to a relative 1e-9).
    ///
    /// # Errors
    ///
    /// [`GridError`] for malformed text or an empty or backwards range.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::analysis::GridAxis;
    /// let axis = GridAxis::parse("plan.total_rmb_bn=300:480:90").unwrap();
    /// assert_eq!(axis.values, ["300", "390", "480"]);
    /// assert_eq!(GridAxis::parse("costs.tax_rate=0.1:0.2:0.05").unwrap().values, ["0.1", "0.15", "0.2"]);
    /// assert_eq!(GridAxis::parse("plan.profile=flat,back_loaded").unwrap().values.len(), 2);
    /// ```
    pub fn parse(text: &str) -> Result<Self, GridError> {
        let (key, spec) = text
            .split_once('=')
            .ok_or_else(|| GridError::Malformed(text.to_string()))?;
        if key.trim().is_empty() || spec.trim().is_empty() {
            return Err(GridError::Malformed(text.to_string()));
        }
        let parts: Vec<&str> = spec.split(':').collect();
        let values = if parts.len() == 3 && !spec.contains(',') {
            let number = |s: &str| {
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| GridError::BadRange(text.to_string()))
            };
            let (start, stop, step) = (number(parts[0])?, number(parts[1])?, number(parts[2])?);
            if !(step > 0.0 && start <= stop && start.is_finite() && stop.is_finite()) {
                return Err(GridError::BadRange(text.to_string()));
            }
            // Counted in f64 and checked before any value is made: a tiny step gives a
            // huge (or infinite) count, never an overflow or an allocation.
            let span = (stop - start) / step * (1.0 + 1e-9);
            if span.is_nan() || span >= MAX_FORCED_SWEEP_POINTS as f64 {
                return Err(GridError::RangeTooLarge {
                    grid: text.to_string(),
                    values: span.floor() + 1.0,
                    limit: MAX_FORCED_SWEEP_POINTS,
                });
            }
            let count = span.floor() as usize + 1;
            // Printed to 12 decimals so that 0.1 + 2 × 0.05 reads 0.2, not 0.20000000000000004.
            (0..count)
                .map(|k| {
                    let text = format!("{:.12}", start + k as f64 * step);
                    text.trim_end_matches('0').trim_end_matches('.').to_string()
                })
                .collect()
        } else {
            spec.split(',')
                .map(|v| v.trim().to_string())
                .collect::<Vec<_>>()
        };
        if values.iter().any(|v| v.is_empty()) {
            return Err(GridError::Malformed(text.to_string()));
        }
        if key.trim() == "name" {
            return Err(GridError::NameKey(text.to_string()));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(value) = values.iter().find(|v| !seen.insert(v.as_str())) {
            return Err(GridError::RepeatedValue {
                grid: text.to_string(),
                value: value.clone(),
            });
        }
        Ok(Self {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// A count for a message: whole below 10^15, else in scientific notation.
fn count_text(count: f64) -> String {
    if count < 1e15 {
        format!("{count:.0}")
    } else {
        format!("{count:.1e}")
    }
}

/// An oversized grid's shape for a message: `100 × 200 = 20000`, or, when the product
/// overflows, `100 × 200 × ... (more than 2^64)`.
fn shape_text(axes: &[usize]) -> String {
    let factors: Vec<String> = axes.iter().map(usize::to_string).collect();
    let product = axes.iter().try_fold(1usize, |p, &n| p.checked_mul(n));
    match (axes.len(), product) {
        (1, Some(p)) => p.to_string(),
        (_, Some(p)) => format!("{} = {p}", factors.join(" × ")),
        (_, None) => format!("{} (more than 2^64)", factors.join(" × ")),
    }
}

/// Every combination of the axes' values (the first axis varies slowest), as `key=value`
/// override arguments.
///
/// # Errors
///
/// [`GridError::DuplicateKey`] for two axes on one key; [`GridError::FarTooLarge`] above
/// [`MAX_FORCED_SWEEP_POINTS`] (the product checked, before the grid is made);
/// [`GridError::TooLarge`] above [`MAX_SWEEP_POINTS`] unless `force`.
pub fn grid_points(axes: &[GridAxis], force: bool) -> Result<Vec<Vec<String>>, GridError> {
    let mut keys = std::collections::BTreeSet::new();
    if let Some(axis) = axes.iter().find(|a| !keys.insert(a.key.as_str())) {
        return Err(GridError::DuplicateKey(axis.key.clone()));
    }
    let points = axes
        .iter()
        .try_fold(1usize, |p, a| p.checked_mul(a.values.len()))
        .filter(|&p| p <= MAX_FORCED_SWEEP_POINTS)
        .ok_or_else(|| GridError::FarTooLarge {
            axes: axes.iter().map(|a| a.values.len()).collect(),
            limit: MAX_FORCED_SWEEP_POINTS,
        })?;
    if points > MAX_SWEEP_POINTS && !force {
        return Err(GridError::TooLarge {
            points,
            limit: MAX_SWEEP_POINTS,
        });
    }
    let mut grid = vec![Vec::new()];
    for axis in axes {
        grid = grid
            .into_iter()
            .flat_map(|point: Vec<String>| {
                axis.values.iter().map(move |v| {
                    let mut next = point.clone();
                    next.push(format!("{}={v}", axis.key));
                    next
                })
            })
            .collect();
    }
    Ok(grid)
}

/// Writes `sweep.csv` for grid points run with the given overrides: one row per point and
/// per-path metric, the point's grid values in one column per axis (columns in
/// docs/outputs.md). Written to a temporary file renamed into place.
///
/// # Errors
///
/// [`OutputError`] naming the file.
pub fn write_sweep_csv(
    dir: &Path,
    axes: &[GridAxis],
    points: &[Vec<String>],
    results: &[Results],
) -> Result<std::path::PathBuf, OutputError> {
    let results: Vec<&Results> = results.iter().collect();
    write_sweep_rows(dir, axes, points, &results)
}

fn write_sweep_rows(
    dir: &Path,
    axes: &[GridAxis],
    points: &[Vec<String>],
    results: &[&Results],
) -> Result<std::path::PathBuf, OutputError> {
    let rows = sweep_rows(0, points, results).map_err(|source| OutputError {
        path: dir.join("sweep.csv"),
        source,
    })?;
    write_sweep_file(dir, &sweep_header(axes), &rows)
}

/// `sweep.csv` from its header and its rows' bytes, through a temporary file.
fn write_sweep_file(
    dir: &Path,
    header: &[String],
    rows: &[u8],
) -> Result<std::path::PathBuf, OutputError> {
    crate::output::write_atomically(&dir.join("sweep.csv"), |out| {
        let mut w = csv::Writer::from_writer(&mut *out);
        w.write_record(header).map_err(io::Error::other)?;
        w.flush()?;
        drop(w);
        out.write_all(rows)
    })
}

/// The columns of `sweep.csv`.
fn sweep_header(axes: &[GridAxis]) -> Vec<String> {
    let mut header = vec!["scenario".to_string(), "point".to_string()];
    header.extend(axes.iter().map(|a| a.key.clone()));
    header.extend(["metric", "count", "missing", "mean", "sd", "se"].map(String::from));
    header.extend(crate::stats::QUANTILE_NAMES.map(String::from));
    header.extend(
        [
            "prob_negative",
            "prob_negative_se",
            "cvar5",
            "cvar5_se",
            "paths",
            "seed",
            "scenario_sha256",
            "cloudcapex_version",
        ]
        .map(String::from),
    );
    header
}

/// The rows of `sweep.csv` for `points` (the grid's points from index `first`), as CSV.
fn sweep_rows(first: usize, points: &[Vec<String>], results: &[&Results]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let plain = crate::output::plain;
    for (j, (point, result)) in points.iter().zip(results).enumerate() {
        let k = first + j;
        let values: Vec<&str> = point
            .iter()
            .map(|o| o.split_once('=').map_or("", |(_, v)| v))
            .collect();
        for (metric, stats) in &result.scalars {
            let mut row = vec![result.scenario.clone(), k.to_string()];
            row.extend(values.iter().map(|v| v.to_string()));
            row.push(metric.clone());
            match &stats.summary {
                Some(s) => {
                    row.extend([
                        s.count.to_string(),
                        stats.missing.to_string(),
                        plain(s.mean),
                        plain(s.sd),
                        plain(s.se),
                    ]);
                    row.extend(s.quantiles.iter().map(|q| plain(*q)));
                }
                None => {
                    row.extend(["0".to_string(), stats.missing.to_string()]);
                    row.extend(std::iter::repeat_n(String::new(), 3 + 9));
                }
            }
            row.extend([
                plain(stats.prob_negative),
                plain(stats.prob_negative_se),
                plain(stats.cvar5),
                plain(stats.cvar5_se),
                result.paths.to_string(),
                result.seed.to_string(),
                result.scenario_sha256.clone(),
                CRATE_VERSION.to_string(),
            ]);
            w.write_record(&row).map_err(io::Error::other)?;
        }
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Runs every grid point in parallel: `make` builds the scenario with a point's overrides
/// (the same seed for all, so points share their random draws); returns each point's
/// scenario and results, in point order.
///
/// # Errors
///
/// The first invalid point's [`crate::ScenarioError`] (before anything runs), or a
/// simulation's [`crate::runner::RunError`], as text naming the point.
///
/// # Examples
///
/// ```
/// use cloudcapex::analysis::{grid_points, sweep, GridAxis};
/// use cloudcapex::{Override, Scenario};
/// let axes = [GridAxis::parse("costs.tax_rate=0.1,0.2").unwrap()];
/// let points = grid_points(&axes, false).unwrap();
/// let make = |sets: &[String]| {
///     let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s)).collect::<Result<_, _>>()?;
///     Scenario::default_with(&overrides)?.with_paths(200)
/// };
/// let runs = sweep(make, &points).unwrap();
/// let npv = |k: usize| runs[k].1.scalar("plan_npv_rmb_bn").unwrap().mean;
/// assert!(npv(1) != npv(0));
/// ```
pub fn sweep<F>(make: F, points: &[Vec<String>]) -> Result<Vec<(Scenario, Results)>, String>
where
    F: Fn(&[String]) -> Result<Scenario, crate::ScenarioError> + Sync,
{
    let scenarios = points
        .iter()
        .map(|point| make(point).map_err(|e| format!("grid point {}: {e}", point.join(" "))))
        .collect::<Result<Vec<_>, _>>()?;
    let results = scenarios
        .par_iter()
        .zip(points)
        .map(|(s, point)| {
            simulate(s, &RunOptions::default())
                .map_err(|e| format!("grid point {}: {e}", point.join(" ")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(scenarios.into_iter().zip(results).collect())
}

/// Writes a sweep's outputs into `folder`: each point's usual run outputs in
/// `point_<k>/` (as [`crate::output::write_outputs`] writes them, with `run_json`'s
/// metadata), then `sweep.csv` (see [`write_sweep_csv`]). Returns the path of `sweep.csv`.
///
/// # Errors
///
/// [`OutputError`] naming the first file that could not be written.
pub fn write_sweep(
    folder: &Path,
    axes: &[GridAxis],
    points: &[Vec<String>],
    runs: &[(Scenario, Results)],
    run_json: &crate::output::RunJson,
) -> Result<std::path::PathBuf, OutputError> {
    write_point_folders(folder, 0, runs, run_json)?;
    let results: Vec<&Results> = runs.iter().map(|(_, r)| r).collect();
    write_sweep_rows(folder, axes, points, &results)
}

fn point_folder(folder: &Path, k: usize) -> std::path::PathBuf {
    folder.join(format!("point_{k:04}"))
}

/// Each run's outputs in `point_<k>/`, `k` counting from `first`.
fn write_point_folders(
    folder: &Path,
    first: usize,
    runs: &[(Scenario, Results)],
    run_json: &crate::output::RunJson,
) -> Result<(), OutputError> {
    for (j, (scenario, results)) in runs.iter().enumerate() {
        let record = crate::output::RunRecord {
            scenario,
            results,
            history: None,
        };
        let point = point_folder(folder, first + j);
        crate::output::write_outputs(
            &point,
            &record,
            &crate::output::OutputSelection::default(),
            run_json,
        )?;
        // Its own manifest: a shard task writes point folders beside its shard file, outside
        // any transaction, and a later command must recognise them as cloudcapex's.
        crate::output::manifest::seal(&point, crate::output::RUN_KIND, &[]).map_err(|source| {
            OutputError {
                path: point.join(crate::output::manifest::MANIFEST_FILE),
                source,
            }
        })?;
    }
    Ok(())
}

/// What a sweep shard carries: `sweep.csv`'s header and its points' rows.
#[derive(serde::Serialize, serde::Deserialize)]
struct SweepShard {
    header: Vec<String>,
    rows: Vec<u8>,
}

/// The SHA-256 a sweep's shards share: of the base scenario's hash and every grid point's
/// overrides, so shards of another grid or scenario are refused.
fn sweep_sha256(base: &Scenario, points: &[Vec<String>]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(base.sha256());
    for point in points {
        hash.update(b"\n");
        hash.update(point.join(" "));
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Shard `spec` of a sweep: runs its part of the grid's points (common random numbers, as
/// [`sweep`]), writes their `point_<k>/` folders into `folder` and
/// `folder/shard-I-of-N.ccx` with their `sweep.csv` rows, for [`merge_sweep`]. `base` is the
/// scenario without grid overrides; `threads` goes into each point's `run.json`.
///
/// # Errors
///
/// A message for a run that fails or an output that cannot be written.
pub fn sweep_shard<F>(
    folder: &Path,
    spec: crate::shard::ShardSpec,
    base: &Scenario,
    axes: &[GridAxis],
    points: &[Vec<String>],
    make: F,
    threads: usize,
) -> Result<std::path::PathBuf, String>
where
    F: Fn(&[String]) -> Result<Scenario, crate::ScenarioError> + Sync,
{
    let range = spec.range(points.len() as u64, "grid points")?;
    let (first, end) = (range.start as usize, range.end as usize);
    let started = std::time::Instant::now();
    let runs = sweep(make, &points[first..end])?;
    let run_json = crate::output::RunJson::new(threads, started.elapsed().as_secs_f64());
    write_point_folders(folder, first, &runs, &run_json).map_err(|e| e.to_string())?;
    let results: Vec<&Results> = runs.iter().map(|(_, r)| r).collect();
    let rows = sweep_rows(first, &points[first..end], &results).map_err(|e| e.to_string())?;
    let payload = postcard::to_allocvec(&SweepShard {
        header: sweep_header(axes),
        rows,
    })
    .map_err(|e| e.to_string())?;
    let header = crate::shard::ShardHeader::for_points(
        crate::shard::SWEEP,
        &sweep_folder_name(base),
        sweep_sha256(base, points),
        base.simulation().seed,
        base.simulation().paths,
        spec,
        points.len() as u64,
        range,
    );
    crate::shard::write_shard_file(&folder.join(spec.file_name()), header, &payload)
        .map_err(|e| e.to_string())
}

/// `sweep_<scenario>`: a sweep's output folder name.
pub fn sweep_folder_name(base: &Scenario) -> String {
    format!("sweep_{}", base.name())
}

/// Joins a sweep's shards (checked complete by [`crate::shard::find_shards`]) into
/// `out/sweep_<scenario>/sweep.csv`, byte-identical to an unsharded sweep's, and copies
/// their `point_<k>/` folders there if the shards were written elsewhere.
///
/// # Errors
///
/// [`crate::shard::ShardError`] for a damaged shard or a file that cannot be copied or
/// written.
pub fn merge_sweep(
    set: &crate::shard::ShardSet,
    out: &Path,
) -> Result<std::path::PathBuf, crate::shard::ShardError> {
    use crate::shard::ShardError;
    let folder = out.join(&set.header.scenario);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ShardError::Io { path, source }
    };
    check_sweep_shards(set)?;
    let mut header = Vec::new();
    let mut rows = Vec::new();
    let target = std::fs::canonicalize(&folder).ok();
    for (shard, (file, shard_header)) in set.payloads::<SweepShard>().zip(set.shards()) {
        let shard = shard?;
        header = shard.header;
        rows.extend_from_slice(&shard.rows);
        let source = file.parent().unwrap_or(Path::new("."));
        // Shards written into the merge's own folder need no copy.
        if target.as_ref() == Some(&std::fs::canonicalize(source).map_err(io(source))?) {
            continue;
        }
        // Only this shard's own points: anything else in the folder is not its output.
        for k in shard_header.first..shard_header.end {
            let from = point_folder(source, k as usize);
            let name = from.file_name().expect("a point folder").to_owned();
            for file in std::fs::read_dir(&from).map_err(io(&from))? {
                let file = file.map_err(io(&from))?.path();
                if !file.is_file() {
                    continue;
                }
                let bytes = std::fs::read(&file).map_err(io(&file))?;
                let target = folder.join(&name).join(file.file_name().expect("a file"));
                crate::output::write_atomically(&target, |w| w.write_all(&bytes)).map_err(|e| {
                    ShardError::Io {
                        path: e.path,
                        source: e.source,
                    }
                })?;
            }
        }
    }
    write_sweep_file(&folder, &header, &rows).map_err(|e| ShardError::Io {
        path: e.path,
        source: e.source,
    })
}

/// Checks that every point folder a sweep's shards wrote (`point_<k>/` beside each shard
/// file, with its `run.json`) is there, before [`merge_sweep`] writes anything.
///
/// # Errors
///
/// [`ShardError::Corrupt`](crate::shard::ShardError::Corrupt) naming the shard and the
/// missing folder.
pub fn check_sweep_shards(set: &crate::shard::ShardSet) -> Result<(), crate::shard::ShardError> {
    for (file, header) in set.shards() {
        let source = file.parent().unwrap_or(Path::new("."));
        for k in header.first..header.end {
            let point = point_folder(source, k as usize);
            if !point.join("run.json").is_file() {
                return Err(crate::shard::ShardError::Corrupt {
                    path: file.to_path_buf(),
                    reason: format!(
                        "its point folder {} is missing or incomplete: copy the point folders with the shard files, or re-run --shard {}/{}",
                        point.display(),
                        header.shard_index,
                        header.shard_count
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The console table of a sweep: one line per point with its overrides, the mean NPV, its
/// standard error and P(NPV < 0).
pub fn sweep_table(points: &[Vec<String>], runs: &[(Scenario, Results)]) -> String {
    let mut out = format!(
        "{:<6} {:<48} {:>12} {:>8} {:>10}\n",
        "point", "overrides", "mean NPV", "se", "P(NPV<0)"
    );
    for (k, (point, (_, r))) in points.iter().zip(runs).enumerate() {
        if let Some(npv) = r.scalar_stats("plan_npv_rmb_bn")
            && let Some(s) = npv.summary.as_ref()
        {
            out.push_str(&format!(
                "{k:<6} {:<48} {:>12.2} {:>8.2} {:>10.3}\n",
                point.join(" "),
                s.mean,
                s.se,
                npv.prob_negative
            ));
        }
    }
    out
}
