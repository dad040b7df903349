//! Tornado: each uncertain input moved to its p10 and its p90 with every other uncertain
//! input at its median, all cases on the same seed, and the swing of a metric's mean, p5
//! and P(< 0) per input.

use super::SensitivityError;

/// Quantile levels a tornado moves each input to.
pub const TORNADO_LEVELS: (f64, f64) = (0.10, 0.90);

/// One input's bar: the statistics with that input at its p10 and p90, every other
/// uncertain input at its median.
#[derive(Clone, Debug, PartialEq)]
pub struct TornadoBar {
    /// Key path of the input.
    pub input: String,
    /// Its distribution's name.
    pub distribution: &'static str,
    /// Its p10 and p90.
    pub low_value: f64,
    /// Its p90.
    pub high_value: f64,
    /// Statistics at the input's p10.
    pub at_low: TornadoStats,
    /// Statistics at the input's p90.
    pub at_high: TornadoStats,
}

impl TornadoBar {
    /// Swing of the mean, `|mean(p90) − mean(p10)|`, by which bars are sorted.
    pub fn swing(&self) -> f64 {
        (self.at_high.mean - self.at_low.mean).abs()
    }
}

/// The statistics a tornado reports for one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TornadoStats {
    /// Mean of the metric.
    pub mean: f64,
    /// Its standard error.
    pub mean_se: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Share of paths below 0.
    pub prob_negative: f64,
    /// Its standard error.
    pub prob_negative_se: f64,
}

/// A tornado: the base run (every uncertain input at its median) and one bar per input,
/// sorted by swing of the mean, largest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Tornado {
    /// Metric analysed.
    pub metric: String,
    /// Statistics with every uncertain input at its median.
    pub base: TornadoStats,
    /// Bars, largest swing first.
    pub bars: Vec<TornadoBar>,
}

fn tornado_stats(
    results: &crate::runner::Results,
    metric: &str,
) -> Result<TornadoStats, SensitivityError> {
    let stats = results.scalar_stats(metric).ok_or_else(|| {
        SensitivityError::Run(format!(
            "`{metric}` is not a per-path metric of this scenario"
        ))
    })?;
    let s = stats
        .summary
        .as_ref()
        .ok_or_else(|| SensitivityError::Run(format!("`{metric}` is undefined on every path")))?;
    Ok(TornadoStats {
        mean: s.mean,
        mean_se: s.se,
        p5: s.quantiles[1],
        prob_negative: stats.prob_negative,
        prob_negative_se: stats.prob_negative_se,
    })
}

/// Moves each uncertain input of `scenario` to its p10 and p90 with the others at their
/// median, runs every case on the same seed (common random numbers; the model's intrinsic
/// randomness stays random), and reports the swing of `metric`'s mean, p5 and P(< 0).
/// `make` rebuilds the scenario with extra overrides (the inputs fixed to numbers).
///
/// # Errors
///
/// [`SensitivityError`] when there is no uncertain input, a fixed value is invalid or a run fails.
pub fn tornado<F>(
    scenario: &crate::Scenario,
    make: F,
    metric: &str,
) -> Result<Tornado, SensitivityError>
where
    F: Fn(&[crate::Override]) -> Result<crate::Scenario, crate::ScenarioError> + Sync,
{
    use rayon::prelude::*;
    let inputs = crate::model::Model::new(scenario).uncertain_distributions();
    if inputs.is_empty() {
        return Err(SensitivityError::NoUncertainInputs);
    }
    let fixed = |key: &str, value: f64| {
        crate::Override::parse(&format!("{key}={value}")).expect("a key path and a number")
    };
    let medians: Vec<crate::Override> = inputs
        .iter()
        .map(|(k, d)| fixed(k, d.quantile(0.5)))
        .collect();
    // Case 0: all medians; then (input i, low) and (input i, high).
    let cases: Vec<Vec<crate::Override>> = std::iter::once(medians.clone())
        .chain(inputs.iter().enumerate().flat_map(|(i, (key, d))| {
            [TORNADO_LEVELS.0, TORNADO_LEVELS.1].map(|level| {
                let mut overrides = medians.clone();
                overrides[i] = fixed(key, d.quantile(level));
                overrides
            })
        }))
        .collect();
    let runs = cases
        .par_iter()
        .map(|overrides| {
            let s = make(overrides).map_err(|e| SensitivityError::Scenario(Box::new(e)))?;
            let results = crate::runner::simulate(&s, &crate::runner::RunOptions::default())
                .map_err(|e| SensitivityError::Run(e.to_string()))?;
            tornado_stats(&results, metric)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut bars: Vec<TornadoBar> = inputs
        .iter()
        .enumerate()
        .map(|(i, (key, d))| TornadoBar {
            input: key.clone(),
            distribution: d.kind(),
            low_value: d.quantile(TORNADO_LEVELS.0),
            high_value: d.quantile(TORNADO_LEVELS.1),
            at_low: runs[1 + 2 * i],
            at_high: runs[2 + 2 * i],
        })
        .collect();
    bars.sort_by(|a, b| b.swing().total_cmp(&a.swing()));
    Ok(Tornado {
        metric: metric.to_string(),
        base: runs[0],
        bars,
    })
}

impl Tornado {
    /// Writes `tornado.csv` (one row per input and statistic; columns in docs/outputs.md)
    /// to `dir` through a temporary file renamed into place.
    ///
    /// # Errors
    ///
    /// [`crate::output::OutputError`] naming the file.
    pub fn write_csv(
        &self,
        dir: &std::path::Path,
        scenario: &crate::Scenario,
    ) -> Result<std::path::PathBuf, crate::output::OutputError> {
        let plain = crate::output::plain;
        let mut text = String::from(
            "scenario,metric,input,distribution,rank,low_value,high_value,statistic,base,at_low,at_low_se,at_high,at_high_se,swing,paths,seed,scenario_sha256,cloudcapex_version\n",
        );
        for (rank, bar) in self.bars.iter().enumerate() {
            let rows = [
                (
                    "mean",
                    self.base.mean,
                    bar.at_low.mean,
                    bar.at_low.mean_se,
                    bar.at_high.mean,
                    bar.at_high.mean_se,
                ),
                (
                    "p5",
                    self.base.p5,
                    bar.at_low.p5,
                    f64::NAN,
                    bar.at_high.p5,
                    f64::NAN,
                ),
                (
                    "prob_negative",
                    self.base.prob_negative,
                    bar.at_low.prob_negative,
                    bar.at_low.prob_negative_se,
                    bar.at_high.prob_negative,
                    bar.at_high.prob_negative_se,
                ),
            ];
            for (statistic, base, low, low_se, high, high_se) in rows {
                text.push_str(&format!(
                    "{},{},{},{},{},{},{},{statistic},{},{},{},{},{},{},{},{},{},{}\n",
                    scenario.name(),
                    self.metric,
                    bar.input,
                    bar.distribution,
                    rank + 1,
                    plain(bar.low_value),
                    plain(bar.high_value),
                    plain(base),
                    plain(low),
                    plain(low_se),
                    plain(high),
                    plain(high_se),
                    plain((high - low).abs()),
                    scenario.simulation().paths,
                    scenario.simulation().seed,
                    scenario.sha256(),
                    crate::output::CRATE_VERSION
                ));
            }
        }
        crate::output::write_atomically(&dir.join("tornado.csv"), |out| {
            out.write_all(text.as_bytes())
        })
    }

    /// The tornado chart (SVG) of the mean: one bar per input, largest swing on top.
    ///
    /// # Errors
    ///
    /// If drawing fails.
    pub fn svg(&self) -> std::io::Result<String> {
        let bars: Vec<crate::output::SwingBar> = self
            .bars
            .iter()
            .map(|b| crate::output::SwingBar {
                label: b.input.clone(),
                at_low: b.at_low.mean,
                at_high: b.at_high.mean,
            })
            .collect();
        crate::output::tornado_svg(
            format!(
                "Tornado: mean {} with each input at its p10 / p90",
                self.metric
            ),
            &format!("mean {}", self.metric),
            self.base.mean,
            &bars,
        )
    }

    /// A readable table, largest swing first.
    pub fn table(&self) -> String {
        let mut out = format!(
            "Tornado of `{}`: each input at its p10 / p90, the others at their median\nbase (all at median): mean {:.2} ± {:.2}, p5 {:.2}, P(<0) {:.3}\n\n{:<52} {:>10} {:>10} {:>10} {:>10} {:>9}\n",
            self.metric,
            self.base.mean,
            self.base.mean_se,
            self.base.p5,
            self.base.prob_negative,
            "input",
            "p10",
            "p90",
            "mean@p10",
            "mean@p90",
            "swing"
        );
        for bar in &self.bars {
            out.push_str(&format!(
                "{:<52} {:>10.4} {:>10.4} {:>10.2} {:>10.2} {:>9.2}\n",
                bar.input,
                bar.low_value,
                bar.high_value,
                bar.at_low.mean,
                bar.at_high.mean,
                bar.swing()
            ));
        }
        out
    }
}
