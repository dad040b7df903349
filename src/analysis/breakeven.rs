//! Breakeven search: the value of one input at which a statistic of a per-path metric hits
//! a target, by bisection on common random numbers.

use crate::Scenario;
use crate::runner::{Results, RunOptions, simulate};

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
    /// Its Monte Carlo standard error: the statistic's standard error over the statistic's
    /// local slope in the input (infinite where the slope is 0). The bracket is the
    /// solver's precision only.
    pub value_se: f64,
    /// Final bracket of the input.
    pub bracket: (f64, f64),
    /// Solver iterations (simulations after the two at the ends).
    pub iterations: u32,
    /// The statistic at `value`.
    pub statistic: f64,
    /// Its standard error at `value`.
    pub statistic_se: f64,
    /// Seed of the run at `value`.
    pub seed: u64,
    /// SHA-256 of the scenario at `value` (the varied input set to it).
    pub scenario_sha256: String,
}

impl Breakeven {
    /// Writes `breakeven_<name>.csv` into `dir` (one row: the input, the statistic and its
    /// target, the value found, the final bracket, iterations, the statistic there with its
    /// standard error, and the crate version; columns in docs/outputs.md), through a
    /// temporary file renamed into place. `statistic` is the statistic's text as given,
    /// e.g. `plan_npv_rmb_bn.prob_negative`. Returns the path written.
    ///
    /// # Errors
    ///
    /// [`crate::output::OutputError`] naming the file.
    pub fn write_csv(
        &self,
        dir: &std::path::Path,
        name: &str,
        input: &str,
        statistic: &str,
        target: f64,
    ) -> Result<std::path::PathBuf, crate::output::OutputError> {
        let csv = format!(
            "scenario,input,statistic,target,value,value_se,bracket_low,bracket_high,iterations,statistic_value,statistic_se,seed,scenario_sha256,cloudcapex_version\n\
             {name},{input},{statistic},{target},{},{},{},{},{},{},{},{},{},{}\n",
            self.value,
            crate::output::plain(self.value_se),
            self.bracket.0,
            self.bracket.1,
            self.iterations,
            self.statistic,
            self.statistic_se,
            self.seed,
            self.scenario_sha256,
            crate::output::CRATE_VERSION
        );
        crate::output::write_atomically(&dir.join("breakeven.csv"), |out| {
            out.write_all(csv.as_bytes())
        })
    }
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
    let run = |value: f64| -> Result<(f64, f64, Scenario), BreakevenError> {
        let scenario = make(value).map_err(|source| BreakevenError::Scenario {
            value,
            source: Box::new(source),
        })?;
        let results =
            simulate(&scenario, &RunOptions::default()).map_err(|e| BreakevenError::Run {
                value,
                message: e.to_string(),
            })?;
        let (stat, se) = statistic
            .evaluate(&results)
            .map_err(|message| BreakevenError::Run { value, message })?;
        Ok((stat, se, scenario))
    };
    let evaluate = |value: f64| run(value).map(|(stat, se, _)| (stat, se));
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
    let (statistic_value, statistic_se, scenario) = run(value)?;
    // The value's own uncertainty: the statistic's standard error over its local slope,
    // taken over 2% of the range either side (on the same draws).
    let step = 0.02 * (range.1 - range.0);
    let (left, right) = ((value - step).max(range.0), (value + step).min(range.1));
    let slope = (evaluate(right)?.0 - evaluate(left)?.0) / (right - left);
    Ok(Breakeven {
        value,
        value_se: if slope != 0.0 {
            statistic_se / slope.abs()
        } else {
            f64::INFINITY
        },
        bracket: (low.min(high), low.max(high)),
        iterations,
        statistic: statistic_value,
        statistic_se,
        seed: scenario.simulation().seed,
        scenario_sha256: scenario.sha256(),
    })
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
}
