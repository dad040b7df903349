//! Scenario analysis. Paired comparison: scenarios run on the same seed and path count see
//! the same random draws factor by factor (common random numbers), so their difference
//! is estimated path by path, with a much smaller standard error than two independent
//! runs would give.

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
/// let other = Scenario::default_with(&[Override::parse("costs.variable_cost_share=0.37")?])?;
/// let comparison = compare(&[base, other])?;
/// let npv = comparison.rows.iter().find(|r| r.scenario == "base#2" && r.metric == "plan_npv_rmb_bn").unwrap();
/// assert!(npv.difference < 0.0 && npv.variance_reduction_factor > 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compare(scenarios: &[Scenario]) -> Result<Comparison, RunError> {
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
    let results = aligned
        .par_iter()
        .map(|s| simulate(s, &RunOptions::default()))
        .collect::<Result<Vec<_>, _>>()?;

    let mut labels: Vec<String> = Vec::new();
    for r in &results {
        let repeats = labels
            .iter()
            .filter(|l| l.split('#').next() == Some(r.scenario.as_str()))
            .count();
        labels.push(if repeats == 0 {
            r.scenario.clone()
        } else {
            format!("{}#{}", r.scenario, repeats + 1)
        });
    }

    let baseline = &results[0];
    let mut rows = Vec::new();
    for (label, result) in labels.iter().zip(&results) {
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

impl Comparison {
    /// Writes `comparison.csv` (columns in docs/outputs.md) to `dir`, through a temporary
    /// file renamed into place.
    ///
    /// # Errors
    ///
    /// [`OutputError`] naming the file.
    pub fn write_csv(&self, dir: &Path) -> Result<std::path::PathBuf, OutputError> {
        let target = dir.join("comparison.csv");
        let fail = |source| OutputError {
            path: target.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(fail)?;
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
        self.write_to(&mut io::BufWriter::new(temp.as_file_mut()))
            .map_err(fail)?;
        temp.persist(&target).map_err(|e| fail(e.error))?;
        Ok(target)
    }

    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
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
            "seed",
            "paths",
            "scenario_sha256",
            "baseline_sha256",
            "cloudcapex_version",
        ])
        .map_err(io::Error::other)?;
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
                result.seed.to_string(),
                result.paths.to_string(),
                result.scenario_sha256.clone(),
                baseline.scenario_sha256.clone(),
                CRATE_VERSION.to_string(),
            ])
            .map_err(io::Error::other)?;
        }
        w.flush()
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
    fn a_quantile_of_a_streamed_metric_is_refused_with_the_reason() {
        let s = Scenario::default_scenario().with_paths(300).unwrap();
        let results = simulate(&s, &RunOptions::default()).unwrap();
        let streamed = Statistic::parse("plan_roic_year_3.p50").unwrap();
        let message = streamed.evaluate(&results).unwrap_err();
        assert!(message.contains("streaming statistics"), "{message}");
        assert!(message.contains("plan_npv_rmb_bn"), "{message}");
        let mean = Statistic::parse("plan_roic_year_3.mean").unwrap();
        assert!(mean.evaluate(&results).is_ok());
        let kept = Statistic::parse("plan_npv_rmb_bn.p50").unwrap();
        assert!(kept.evaluate(&results).is_ok());
    }

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
        let set = crate::Override::parse("costs.variable_cost_share=0.37").unwrap();
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

/// Largest grid `sweep` runs without `force`.
pub const MAX_SWEEP_POINTS: usize = 200;

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
            let count = ((stop - start) / step * (1.0 + 1e-9)).floor() as usize + 1;
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
        Ok(Self {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// Every combination of the axes' values (the first axis varies slowest), as `key=value`
/// override arguments.
///
/// # Errors
///
/// [`GridError::TooLarge`] above [`MAX_SWEEP_POINTS`] unless `force`.
pub fn grid_points(axes: &[GridAxis], force: bool) -> Result<Vec<Vec<String>>, GridError> {
    let points: usize = axes.iter().map(|a| a.values.len()).product();
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
    crate::output::write_atomically(&dir.join("sweep.csv"), |out| {
        let mut w = csv::Writer::from_writer(out);
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
                "seed",
                "paths",
                "scenario_sha256",
                "cloudcapex_version",
            ]
            .map(String::from),
        );
        w.write_record(&header).map_err(io::Error::other)?;
        let plain = crate::output::plain;
        for (k, (point, result)) in points.iter().zip(results).enumerate() {
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
                    result.seed.to_string(),
                    result.paths.to_string(),
                    result.scenario_sha256.clone(),
                    CRATE_VERSION.to_string(),
                ]);
                w.write_record(&row).map_err(io::Error::other)?;
            }
        }
        w.flush()
    })
}

/// A statistic of a per-path metric: what `breakeven` drives to a target.
#[derive(Clone, Debug, PartialEq)]
pub struct Statistic {
    /// Per-path metric, e.g. `plan_npv_rmb_bn`.
    pub metric: String,
    /// Which statistic of it.
    pub kind: StatisticKind,
}

/// Statistics `breakeven` can target; each comes with a standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StatisticKind {
    /// Mean (standard error `sd/√n`).
    Mean,
    /// Share of paths below 0 (standard error `√(p(1−p)/n)`).
    ProbNegative,
    /// Exact quantile at this level (standard error from the distribution-free order
    /// statistic interval: half the distance between ranks `nq ± √(nq(1−q))`).
    Quantile(f64),
}

impl Statistic {
    /// Parses `METRIC.STAT` with STAT one of `mean`, `prob_negative`, `p1` … `p99`.
    ///
    /// # Errors
    ///
    /// A message saying what was expected.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::analysis::{Statistic, StatisticKind};
    /// let s = Statistic::parse("plan_npv_rmb_bn.p50").unwrap();
    /// assert_eq!(s.kind, StatisticKind::Quantile(0.5));
    /// assert!(Statistic::parse("plan_npv_rmb_bn.median").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let expected = || {
            format!(
                "{text:?}: expected METRIC.STAT with STAT mean, prob_negative or p1 ... p99, e.g. plan_npv_rmb_bn.prob_negative"
            )
        };
        let (metric, stat) = text.rsplit_once('.').ok_or_else(expected)?;
        let kind = match stat {
            "mean" => StatisticKind::Mean,
            "prob_negative" => StatisticKind::ProbNegative,
            p if p.starts_with('p') => {
                let level: u32 = p[1..].parse().map_err(|_| expected())?;
                if !(1..=99).contains(&level) {
                    return Err(expected());
                }
                StatisticKind::Quantile(level as f64 / 100.0)
            }
            _ => return Err(expected()),
        };
        Ok(Self {
            metric: metric.to_string(),
            kind,
        })
    }

    /// The statistic and its standard error from a run's statistics.
    ///
    /// # Errors
    ///
    /// A message when the run has no such metric, no path defines it, or a quantile is
    /// asked of a metric not kept per path ([`crate::model::PER_PATH_SCALARS`]).
    pub fn evaluate(&self, results: &Results) -> Result<(f64, f64), String> {
        let unknown = || {
            format!(
                "`{}` is not a defined per-path metric of this scenario",
                self.metric
            )
        };
        let k = results
            .scalars
            .iter()
            .position(|(m, _)| *m == self.metric)
            .ok_or_else(unknown)?;
        let stats = &results.scalars[k].1;
        let summary = stats.summary.as_ref().ok_or_else(unknown)?;
        Ok(match self.kind {
            StatisticKind::Mean => (summary.mean, summary.se),
            StatisticKind::ProbNegative => (stats.prob_negative, stats.prob_negative_se),
            StatisticKind::Quantile(q) => {
                let values = results.scalar_values[k].as_ref().ok_or_else(|| {
                    format!(
                        "`{}` is summarised by streaming statistics, so its quantiles are \
                         approximate and carry no standard error: target its mean or \
                         prob_negative, or a quantile of one of {}",
                        self.metric,
                        crate::model::PER_PATH_SCALARS.join(", ")
                    )
                })?;
                let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
                sorted.sort_unstable_by(f64::total_cmp);
                let n = sorted.len() as f64;
                let spread = (n * q * (1.0 - q)).sqrt();
                let rank = |r: f64| sorted[(r.round().max(0.0) as usize).min(sorted.len() - 1)];
                let se = (rank(n * q + spread) - rank(n * q - spread)) / 2.0;
                (crate::stats::exact_quantile(&sorted, q), se)
            }
        })
    }
}

/// The answer of `breakeven`.
#[derive(Clone, Debug, PartialEq)]
pub struct Breakeven {
    /// The input value found (midpoint of the final bracket).
    pub value: f64,
    /// Final bracket of the input.
    pub bracket: (f64, f64),
    /// Solver iterations (simulations after the two at the ends).
    pub iterations: u32,
    /// The statistic at `value`.
    pub statistic: f64,
    /// Its standard error at `value`.
    pub statistic_se: f64,
}

/// Why `breakeven` found no answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BreakevenError {
    /// The target lies outside the statistic's values at both ends of the range.
    #[error(
        "the target {target} cannot be reached within the range: the statistic is {at_low} at {low} and {at_high} at {high} \
         (both on the same side); widen the range or change the target"
    )]
    NotBracketed {
        /// Target.
        target: f64,
        /// Range start.
        low: f64,
        /// Statistic there.
        at_low: f64,
        /// Range end.
        high: f64,
        /// Statistic there.
        at_high: f64,
    },
    /// The scenario at some input value is invalid.
    #[error("at {value}: {source}")]
    Scenario {
        /// Input value.
        value: f64,
        /// Cause.
        #[source]
        source: Box<crate::ScenarioError>,
    },
    /// A simulation failed, or the statistic is undefined.
    #[error("at {value}: {message}")]
    Run {
        /// Input value.
        value: f64,
        /// Cause.
        message: String,
    },
}

/// Finds the input value in `[low, high]` at which `statistic` equals `target`, by
/// bisection on a bracket (robust to the steps a finite-path statistic has). Every
/// evaluation uses the same seed, so the statistic moves with the input, not with noise.
/// Stops when the bracket is narrower than `tolerance` or after 60 iterations.
///
/// # Errors
///
/// [`BreakevenError::NotBracketed`] when the target is not between the statistic's values
/// at the two ends; the other variants when a scenario or run fails.
///
/// # Examples
///
/// ```
/// use cloudcapex::analysis::{breakeven, Statistic};
/// use cloudcapex::{Override, Scenario};
/// // The terminal growth at which the mean NPV is 0 (a monotone input).
/// let make = |g: f64| {
///     Scenario::default_with(&[Override::parse(&format!("valuation.terminal_growth={g}"))?])?.with_paths(300)
/// };
/// let stat = Statistic::parse("plan_npv_rmb_bn.mean").unwrap();
/// match breakeven(make, (-0.5, 0.07), &stat, 0.0, 1e-3) {
///     Ok(b) => assert!(b.bracket.1 - b.bracket.0 <= 1e-3),
///     Err(e) => println!("{e}"), // may lie outside the range: said clearly
/// }
/// ```
pub fn breakeven<F>(
    make: F,
    range: (f64, f64),
    statistic: &Statistic,
    target: f64,
    tolerance: f64,
) -> Result<Breakeven, BreakevenError>
where
    F: Fn(f64) -> Result<Scenario, crate::ScenarioError>,
{
    let evaluate = |value: f64| -> Result<(f64, f64), BreakevenError> {
        let scenario = make(value).map_err(|source| BreakevenError::Scenario {
            value,
            source: Box::new(source),
        })?;
        let results =
            simulate(&scenario, &RunOptions::default()).map_err(|e| BreakevenError::Run {
                value,
                message: e.to_string(),
            })?;
        statistic
            .evaluate(&results)
            .map_err(|message| BreakevenError::Run { value, message })
    };
    let (mut low, mut high) = range;
    let (at_low, _) = evaluate(low)?;
    let (at_high, _) = evaluate(high)?;
    let side = |x: f64| x - target >= 0.0;
    if side(at_low) == side(at_high) {
        return Err(BreakevenError::NotBracketed {
            target,
            low,
            at_low,
            high,
            at_high,
        });
    }
    let low_side = side(at_low);
    let mut iterations = 0;
    while (high - low).abs() > tolerance && iterations < 60 {
        let mid = 0.5 * (low + high);
        let (at_mid, _) = evaluate(mid)?;
        if side(at_mid) == low_side {
            low = mid;
        } else {
            high = mid;
        }
        iterations += 1;
    }
    let value = 0.5 * (low + high);
    let (statistic_value, statistic_se) = evaluate(value)?;
    Ok(Breakeven {
        value,
        bracket: (low.min(high), low.max(high)),
        iterations,
        statistic: statistic_value,
        statistic_se,
    })
}

/// Runs every grid point in parallel: `make` builds the scenario with a point's overrides
/// (the same seed for all, so points share their random draws); returns each point's
/// scenario and results, in point order.
///
/// # Errors
///
/// The first invalid point's [`crate::ScenarioError`] (before anything runs), or a
/// simulation's [`RunError`], as text naming the point.
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
