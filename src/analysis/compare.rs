//! Paired comparison: scenarios run on the same seed and path count see the same random
//! draws factor by factor (common random numbers), so their difference is estimated path
//! by path, with a much smaller standard error than two independent runs would give.

use std::io::{self, Write};
use std::path::Path;

use rayon::prelude::*;

use crate::Scenario;
use crate::output::{CRATE_VERSION, OutputError};
use crate::runner::{Results, RunError, RunOptions, simulate};
use crate::stats::Moments;

/// One scenario's value of one metric and its paired difference from the baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonRow {
    /// Scenario label (its name; `name#2`... when a name repeats).
    pub scenario: String,
    /// Per-path scalar metric.
    pub metric: String,
    /// Paths where the metric is defined in both this scenario and the baseline.
    pub count: u64,
    /// Mean in this scenario over those paths.
    pub mean: f64,
    /// Its Monte Carlo standard error.
    pub se: f64,
    /// Mean of the path-by-path difference from the baseline.
    pub difference: f64,
    /// Standard error of that paired difference, `sd(d) / sqrt(n)`.
    pub difference_se: f64,
    /// Standard error the difference would have from two independent runs,
    /// `sqrt(se² + se_baseline²)`.
    pub independent_se: f64,
    /// `independent_se² / difference_se²`: how many times fewer paths pairing needs for the
    /// same precision. NaN when both are 0 (a scenario compared with itself).
    pub variance_reduction_factor: f64,
}

/// A paired comparison of scenarios against the first.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Results of each scenario, baseline first.
    pub results: Vec<Results>,
    /// Labels, baseline first.
    pub labels: Vec<String>,
    /// One row per scenario and metric, baseline rows included (difference 0).
    pub rows: Vec<ComparisonRow>,
}

/// Runs `scenarios` in parallel with the first one's seed and path count (common random
/// numbers) and differences every per-path scalar metric against the first, path by path.
///
/// # Errors
///
/// [`RunError`] if a scenario fails to simulate.
///
/// # Examples
///
/// ```
/// use cloudcapex::analysis::compare;
/// use cloudcapex::{Override, Scenario};
/// let base = Scenario::default_scenario().with_paths(500)?;
/// let other = Scenario::default_with(&[Override::parse("costs.ai_variable_cost_share=0.3")?])?;
/// let comparison = compare(&[base, other])?;
/// let npv = comparison.rows.iter().find(|r| r.scenario == "base#2" && r.metric == "plan_npv_rmb_bn").unwrap();
/// assert!(npv.difference < 0.0 && npv.variance_reduction_factor > 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare(scenarios: &[Scenario]) -> Result<Comparison, RunError> {
    compare_part(scenarios, 0..scenarios.len())
}

/// [`compare`] of the scenarios `part` only (indices into `scenarios`, the first the
/// baseline): the baseline and those scenarios run, the rows of those scenarios, labelled
/// as in the whole comparison. A shard of a comparison; `0..len` is the whole.
///
/// # Errors
///
/// As [`compare`].
pub fn compare_part(
    scenarios: &[Scenario],
    part: std::ops::Range<usize>,
) -> Result<Comparison, RunError> {
    let Some(first) = scenarios.first() else {
        return Ok(Comparison {
            results: Vec::new(),
            labels: Vec::new(),
            rows: Vec::new(),
        });
    };
    let (seed, paths) = (first.simulation().seed, first.simulation().paths);
    let aligned: Vec<Scenario> = scenarios
        .iter()
        .map(|s| {
            s.clone()
                .with_seed(seed)
                .with_paths(paths)
                .expect("the first scenario has at least one path")
        })
        .collect();
    // The baseline, then the part's scenarios (the baseline once if the part starts at it).
    let indices: Vec<usize> = std::iter::once(0)
        .chain(part.clone().filter(|&i| i > 0))
        .collect();
    let results = indices
        .par_iter()
        .map(|&i| simulate(&aligned[i], &RunOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;

    let mut all_labels: Vec<String> = Vec::new();
    for s in &aligned {
        let repeats = all_labels
            .iter()
            .filter(|l| l.split('#').next() == Some(s.name()))
            .count();
        all_labels.push(if repeats == 0 {
            s.name().to_string()
        } else {
            format!("{}#{}", s.name(), repeats + 1)
        });
    }
    let labels: Vec<String> = indices.iter().map(|&i| all_labels[i].clone()).collect();

    let baseline = &results[0];
    let mut rows = Vec::new();
    for ((label, result), &i) in labels.iter().zip(&results).zip(&indices) {
        if !part.contains(&i) {
            continue;
        }
        for (k, (metric, _)) in result.scalars.iter().enumerate() {
            let Some(b) = baseline.scalars.iter().position(|(m, _)| m == metric) else {
                continue;
            };
            // Pairing needs per-path values: streamed metrics are not compared.
            let (Some(values), Some(baseline_values)) =
                (&result.scalar_values[k], &baseline.scalar_values[b])
            else {
                continue;
            };
            rows.push(paired_row(label, metric, values, baseline_values));
        }
    }
    Ok(Comparison {
        results,
        labels,
        rows,
    })
}

fn paired_row(label: &str, metric: &str, values: &[f64], baseline: &[f64]) -> ComparisonRow {
    let (mut x, mut y, mut d) = (Moments::default(), Moments::default(), Moments::default());
    for (&a, &b) in values.iter().zip(baseline) {
        if a.is_nan() || b.is_nan() {
            continue;
        }
        x.push(a);
        y.push(b);
        d.push(a - b);
    }
    let se = |m: &Moments| {
        if m.count() > 1 {
            m.standard_error()
        } else {
            f64::NAN
        }
    };
    let independent_se = (se(&x).powi(2) + se(&y).powi(2)).sqrt();
    let difference_se = se(&d);
    ComparisonRow {
        scenario: label.to_string(),
        metric: metric.to_string(),
        count: d.count(),
        mean: x.mean(),
        se: se(&x),
        difference: d.mean(),
        difference_se,
        independent_se,
        variance_reduction_factor: if difference_se > 0.0 {
            (independent_se / difference_se).powi(2)
        } else {
            f64::NAN
        },
    }
}

/// The columns of `comparison.csv`.
const COMPARISON_HEADER: [&str; 15] = [
    "scenario",
    "baseline",
    "metric",
    "count",
    "mean",
    "se",
    "difference",
    "difference_se",
    "independent_se",
    "variance_reduction_factor",
    "paths",
    "baseline_sha256",
    "seed",
    "scenario_sha256",
    "cloudcapex_version",
];

impl Comparison {
    /// Writes `comparison.csv` (columns in docs/outputs.md) to `dir`, through a temporary
    /// file renamed into place.
    ///
    /// # Errors
    ///
    /// [`OutputError`] naming the file.
    pub fn write_csv(&self, dir: &Path) -> Result<std::path::PathBuf, OutputError> {
        // The one atomic writer of every output file (ordinary permissions, renamed into place).
        crate::output::write_atomically(&dir.join("comparison.csv"), |out| self.write_to(out))
    }

    fn write_to(&self, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(&mut *out);
        w.write_record(COMPARISON_HEADER)
            .map_err(io::Error::other)?;
        w.flush()?;
        drop(w);
        out.write_all(&self.rows_csv()?)
    }

    /// The rows of `comparison.csv`, as CSV without the header.
    fn rows_csv(&self) -> io::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let plain = crate::output::plain;
        let baseline = &self.results[0];
        for row in &self.rows {
            let result = &self.results[self
                .labels
                .iter()
                .position(|l| *l == row.scenario)
                .expect("row of a scenario")];
            w.write_record([
                row.scenario.clone(),
                self.labels[0].clone(),
                row.metric.clone(),
                row.count.to_string(),
                plain(row.mean),
                plain(row.se),
                plain(row.difference),
                plain(row.difference_se),
                plain(row.independent_se),
                plain(row.variance_reduction_factor),
                result.paths.to_string(),
                baseline.scenario_sha256.clone(),
                result.seed.to_string(),
                result.scenario_sha256.clone(),
                CRATE_VERSION.to_string(),
            ])
            .map_err(io::Error::other)?;
        }
        w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }

    /// A readable table of the main metrics.
    pub fn table(&self, metrics: &[&str]) -> String {
        let mut out = format!(
            "Paired comparison against `{}` ({} paths, seed {}; common random numbers)\n\n{:<28} {:<32} {:>10} {:>8} {:>11} {:>9} {:>8}\n",
            self.labels[0],
            self.results[0].paths,
            self.results[0].seed,
            "scenario",
            "metric",
            "mean",
            "se",
            "difference",
            "diff se",
            "VRF"
        );
        for row in self
            .rows
            .iter()
            .filter(|r| metrics.contains(&r.metric.as_str()))
        {
            out.push_str(&format!(
                "{:<28} {:<32} {:>10.3} {:>8.3} {:>11.3} {:>9.4} {:>8.1}\n",
                row.scenario,
                row.metric,
                row.mean,
                row.se,
                row.difference,
                row.difference_se,
                row.variance_reduction_factor
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_compared_with_itself_differs_by_exactly_zero() {
        let s = Scenario::default_scenario().with_paths(700).unwrap();
        let c = compare(&[s.clone(), s]).unwrap();
        assert_eq!(c.labels, ["base", "base#2"]);
        let rows: Vec<_> = c.rows.iter().filter(|r| r.scenario == "base#2").collect();
        assert!(!rows.is_empty());
        for r in rows {
            assert_eq!(r.difference, 0.0, "{}", r.metric);
            assert!(
                r.difference_se == 0.0 || r.count < 2,
                "{}: se {}",
                r.metric,
                r.difference_se
            );
        }
    }

    #[test]
    fn pairing_shrinks_the_error_of_close_scenarios() {
        let base = Scenario::default_scenario().with_paths(2000).unwrap();
        // AI revenue differs between the worlds, so its costs move the incremental flows.
        let set = crate::Override::parse("costs.ai_variable_cost_share=0.3").unwrap();
        let other = Scenario::default_with(&[set]).unwrap();
        let c = compare(&[base, other]).unwrap();
        let npv = c
            .rows
            .iter()
            .find(|r| r.scenario == "base#2" && r.metric == "plan_npv_rmb_bn")
            .unwrap();
        assert!(
            npv.difference < 0.0,
            "dearer variable costs lower the NPV: {}",
            npv.difference
        );
        assert!(
            npv.variance_reduction_factor > 1.0,
            "VRF {}",
            npv.variance_reduction_factor
        );
        assert!(npv.difference_se < npv.independent_se);
    }
}

/// What a comparison shard carries: its scenarios' rows of `comparison.csv`.
#[derive(serde::Serialize, serde::Deserialize)]
struct CompareShard {
    rows: Vec<u8>,
}

/// The folder inside `--out` where a comparison's shard files go.
pub const COMPARE_SHARD_FOLDER: &str = "comparison";

/// SHA-256 of every scenario's name and hash, with the baseline's seed and paths.
fn compare_sha256(scenarios: &[Scenario]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    if let Some(first) = scenarios.first() {
        hash.update(format!(
            "{} {}",
            first.simulation().seed,
            first.simulation().paths
        ));
    }
    for s in scenarios {
        hash.update(format!("\n{} {}", s.name(), s.sha256()));
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Shard `spec` of [`compare`] over the scenarios (the baseline counted as the first):
/// runs the baseline and its part and writes `out/comparison/shard-I-of-N.ccx` with its
/// rows of `comparison.csv`, for [`merge_comparison`].
///
/// # Errors
///
/// A message if the split is larger than the scenario list, a run fails or the file cannot
/// be written.
pub fn compare_shard(
    out: &Path,
    spec: crate::shard::ShardSpec,
    scenarios: &[Scenario],
) -> Result<std::path::PathBuf, String> {
    let range = spec.range(scenarios.len() as u64, "scenarios to compare")?;
    let part = compare_part(scenarios, range.start as usize..range.end as usize)
        .map_err(|e| e.to_string())?;
    let rows = part.rows_csv().map_err(|e| e.to_string())?;
    let payload = postcard::to_allocvec(&CompareShard { rows }).map_err(|e| e.to_string())?;
    let first = &scenarios[0];
    let header = crate::shard::ShardHeader::for_points(
        crate::shard::COMPARE,
        COMPARE_SHARD_FOLDER,
        compare_sha256(scenarios),
        first.simulation().seed,
        first.simulation().paths,
        spec,
        scenarios.len() as u64,
        range,
    );
    crate::shard::write_shard_file(
        &out.join(COMPARE_SHARD_FOLDER).join(spec.file_name()),
        header,
        &payload,
    )
    .map_err(|e| e.to_string())
}

/// Joins a comparison's shards (checked complete by [`crate::shard::find_shards`]) into
/// `out/comparison/comparison.csv`, byte-identical to an unsharded `compare`.
///
/// # Errors
///
/// [`crate::shard::ShardError`] for a damaged shard or a write that fails.
pub fn merge_comparison(
    set: &crate::shard::ShardSet,
    out: &Path,
) -> Result<std::path::PathBuf, crate::shard::ShardError> {
    let mut rows = Vec::new();
    for shard in set.payloads::<CompareShard>() {
        rows.extend_from_slice(&shard?.rows);
    }
    crate::output::write_atomically(
        &out.join(COMPARE_SHARD_FOLDER).join("comparison.csv"),
        |w| {
            let mut header = csv::Writer::from_writer(&mut *w);
            header
                .write_record(COMPARISON_HEADER)
                .map_err(io::Error::other)?;
            header.flush()?;
            drop(header);
            w.write_all(&rows)
        },
    )
    .map_err(|e| crate::shard::ShardError::Io {
        path: e.path,
        source: e.source,
    })
}
