//! Regression sensitivity (`cloudcapex sensitivity regression`): how much of a per-path
//! metric's spread each uncertain input explains, from one ordinary run, as @RISK reports
//! it (docs/model.md, "Regression sensitivity").
//!
//! Per input `x_i` (its drawn value on each path) and the metric `y`:
//! - the standardized regression coefficient `SRC_i` (least squares of standardized `y` on
//!   every standardized input at once), with its standard error;
//! - the rank (Spearman) correlation of `x_i` with `y`, with a 95% interval (Fisher's z,
//!   SE `√(1.06 / (n − 3))`, Fieller, Hartley & Pearson 1957);
//! - the contribution to variance, Pratt's measure `SRC_i · r_i` (`r_i` the Pearson
//!   correlation of `x_i` with `y`), which sums over inputs to the regression's `R²`;
//!   the rest, `1 − R²`, is the model's own randomness (growth shocks, regimes, events
//!   and their severities, which are drawn at each firing rather than once per path) and
//!   non-linearity.

use crate::Scenario;
use crate::model::{Model, PER_PATH_SCALARS};
use crate::runner::{RunOptions, simulate};
use crate::stats::regression::standardized;
// Below `output/` in the one-way flow, so the run's verdict can fit its drivers too.
pub use crate::stats::regression::standardized_regression;

/// One input's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionRow {
    /// Key path of the input.
    pub input: String,
    /// Its distribution, as written.
    pub distribution: String,
    /// Standardized regression coefficient.
    pub src: f64,
    /// Its standard error.
    pub src_se: f64,
    /// Pearson correlation with the metric.
    pub pearson: f64,
    /// Spearman rank correlation with the metric.
    pub spearman: f64,
    /// 95% interval of the Spearman correlation.
    pub spearman_interval: (f64, f64),
    /// Pratt's contribution to variance, `src · pearson` (sums to `r_squared`).
    pub contribution: f64,
}

/// The regression sensitivity of one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    /// The metric.
    pub metric: String,
    /// Inputs, by decreasing |contribution|.
    pub rows: Vec<RegressionRow>,
    /// Share of the metric's variance the linear fit explains.
    pub r_squared: f64,
    /// Paths where the metric is defined (the fit's sample).
    pub paths_used: u64,
    /// Paths run.
    pub paths: u64,
}

/// Why a regression could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegressionError {
    /// The metric is not kept per path.
    #[error("`{0}` is not kept per path; a regression needs one of: {list}", list = PER_PATH_SCALARS.join(", "))]
    Metric(String),
    /// The scenario has no uncertain input.
    #[error("the scenario has no uncertain input (no assumption is written as a distribution)")]
    NoUncertainInputs,
    /// Too few paths where the metric is defined.
    #[error(
        "only {used} paths have a defined `{metric}`; at least {needed} are needed for {inputs} inputs"
    )]
    TooFewPaths {
        /// The metric.
        metric: String,
        /// Paths where it is defined.
        used: u64,
        /// Needed.
        needed: u64,
        /// Inputs.
        inputs: usize,
    },
    /// The run failed.
    #[error("{0}")]
    Run(String),
}

fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut rank = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        // Ties share their mean rank.
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        let mean_rank = (start + end) as f64 / 2.0;
        for &i in &order[start..=end] {
            rank[i] = mean_rank;
        }
        start = end + 1;
    }
    rank
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    match (standardized(a), standardized(b)) {
        (Some(a), Some(b)) => {
            a.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>() / (a.len() as f64 - 1.0)
        }
        _ => 0.0,
    }
}

/// Runs `scenario` once and regresses the per-path `metric` on every uncertain input's
/// drawn value (see the module docs).
///
/// # Errors
///
/// [`RegressionError`] if the metric is not kept per path, the scenario has no uncertain
/// input, too few paths define the metric, or the run fails.
pub fn regression(scenario: &Scenario, metric: &str) -> Result<Regression, RegressionError> {
    if !PER_PATH_SCALARS.contains(&metric) {
        return Err(RegressionError::Metric(metric.to_string()));
    }
    let model = Model::new(scenario);
    // Event severities are drawn at each firing, not once per path: not inputs here.
    let per_path = model.per_path_assumptions();
    let inputs: Vec<(String, crate::Distribution)> = model
        .uncertain_distributions()
        .into_iter()
        .filter(|(k, _)| per_path.contains(k))
        .collect();
    if inputs.is_empty() {
        return Err(RegressionError::NoUncertainInputs);
    }
    let results = simulate(scenario, &RunOptions::default())
        .map_err(|e| RegressionError::Run(e.to_string()))?;
    let k = results
        .scalars
        .iter()
        .position(|(m, _)| m == metric)
        .ok_or_else(|| RegressionError::Metric(metric.to_string()))?;
    let values = results.scalar_values[k]
        .as_ref()
        .ok_or_else(|| RegressionError::Metric(metric.to_string()))?;
    let draws = model.parameter_draws(results.paths);
    let defined: Vec<usize> = (0..values.len())
        .filter(|&p| values[p].is_finite())
        .collect();
    let needed = (inputs.len() as u64 + 2).max(10);
    if (defined.len() as u64) < needed {
        return Err(RegressionError::TooFewPaths {
            metric: metric.to_string(),
            used: defined.len() as u64,
            needed,
            inputs: inputs.len(),
        });
    }
    let y: Vec<f64> = defined.iter().map(|&p| values[p]).collect();
    let columns: Vec<Vec<f64>> = (0..inputs.len())
        .map(|i| defined.iter().map(|&p| draws[p][i]).collect())
        .collect();
    let (src, src_se, r_squared) = standardized_regression(&columns, &y);
    let y_ranks = ranks(&y);
    let n = y.len() as f64;
    // Fieller, Hartley & Pearson (1957): var(atanh ρ_s) ≈ 1.06 / (n − 3).
    let fisher_se = (1.06 / (n - 3.0)).sqrt();
    let mut rows: Vec<RegressionRow> = inputs
        .iter()
        .enumerate()
        .map(|(i, (key, dist))| {
            let r = pearson(&columns[i], &y);
            let rho = pearson(&ranks(&columns[i]), &y_ranks);
            let z = rho.clamp(-0.999_999, 0.999_999).atanh();
            RegressionRow {
                input: key.clone(),
                distribution: dist.kind().to_string(),
                src: src[i],
                src_se: src_se[i],
                pearson: r,
                spearman: rho,
                spearman_interval: ((z - 1.96 * fisher_se).tanh(), (z + 1.96 * fisher_se).tanh()),
                contribution: src[i] * r,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
    Ok(Regression {
        metric: metric.to_string(),
        rows,
        r_squared,
        paths_used: y.len() as u64,
        paths: results.paths,
    })
}

impl Regression {
    /// `regression.csv` into `dir` (temporary file renamed into place): one row per input.
    ///
    /// # Errors
    ///
    /// [`crate::output::OutputError`] naming the file.
    pub fn write_csv(
        &self,
        dir: &std::path::Path,
        scenario: &Scenario,
    ) -> Result<std::path::PathBuf, crate::output::OutputError> {
        let plain = crate::output::plain;
        let mut text = String::from(
            "scenario,metric,input,distribution,rank,src,src_se,pearson,spearman,spearman_low,spearman_high,contribution,r_squared,paths_used,paths,seed,scenario_sha256,cloudcapex_version\n",
        );
        for (rank, r) in self.rows.iter().enumerate() {
            text.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                scenario.name(),
                self.metric,
                r.input,
                r.distribution,
                rank + 1,
                plain(r.src),
                plain(r.src_se),
                plain(r.pearson),
                plain(r.spearman),
                plain(r.spearman_interval.0),
                plain(r.spearman_interval.1),
                plain(r.contribution),
                plain(self.r_squared),
                self.paths_used,
                self.paths,
                scenario.simulation().seed,
                scenario.sha256(),
                crate::output::CRATE_VERSION
            ));
        }
        crate::output::write_atomically(&dir.join("regression.csv"), |out| {
            out.write_all(text.as_bytes())
        })
    }

    /// The console table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "Regression sensitivity of `{}` on {} of {} paths: R² = {:.3} (the rest is the model's own randomness and non-linearity)\n\n{:<52} {:>8} {:>8} {:>9} {:>18} {:>12}\n",
            self.metric,
            self.paths_used,
            self.paths,
            self.r_squared,
            "input",
            "SRC",
            "± SE",
            "Spearman",
            "95% interval",
            "contribution"
        );
        for r in &self.rows {
            out.push_str(&format!(
                "{:<52} {:>8.3} {:>8.3} {:>9.3} {:>8.3} to {:>6.3} {:>12.3}\n",
                r.input,
                r.src,
                r.src_se,
                r.spearman,
                r.spearman_interval.0,
                r.spearman_interval.1,
                r.contribution
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution as _, StandardNormal};

    /// y = 2 x1 − 3 x2 + 0 x3 + e, inputs independent N(0, 1), e ~ N(0, 2²): the true
    /// SRCs are (2, −3, 0) / √(4 + 9 + 4) and R² = 13/17; the estimates fall within four
    /// of their standard errors.
    #[test]
    fn a_linear_function_with_known_coefficients() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(1);
        let n = 20_000;
        let mut draw = || -> f64 { StandardNormal.sample(&mut rng) };
        let columns: Vec<Vec<f64>> = (0..3).map(|_| (0..n).map(|_| draw()).collect()).collect();
        let noise: Vec<f64> = (0..n).map(|_| 2.0 * draw()).collect();
        let y: Vec<f64> = (0..n)
            .map(|p| 2.0 * columns[0][p] - 3.0 * columns[1][p] + noise[p])
            .collect();
        let (src, se, r2) = standardized_regression(&columns, &y);
        let scale = 17f64.sqrt();
        for (i, truth) in [2.0 / scale, -3.0 / scale, 0.0].iter().enumerate() {
            assert!(
                (src[i] - truth).abs() < 4.0 * se[i],
                "{i}: {} ± {} vs {truth}",
                src[i],
                se[i]
            );
        }
        assert!((r2 - 13.0 / 17.0).abs() < 0.01, "{r2}");
        let contributions: f64 = (0..3).map(|i| src[i] * pearson(&columns[i], &y)).sum();
        assert!(
            (contributions - r2).abs() < 1e-9,
            "Pratt's measure sums to R²"
        );
    }

    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![2.5, 0.0, 2.5, 1.0]);
    }
}
