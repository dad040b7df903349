//! The plan's answer first, for the console and the top of `report.html`: a sentence, the
//! NPV with its valuation date, rate and standard error, the IRR beside the rate, and the
//! three drivers that move the NPV most on the run's own paths.

use std::fmt::Write;
use std::sync::Arc;

use crate::Scenario;
use crate::model::Model;
use crate::runner::Results;
use crate::stats::regression::standardized_regression;

use super::labels::driver_label;

/// The per-path metric the verdict is about.
const NPV: &str = "plan_npv_rmb_bn";

/// The drivers are fitted on the first this many paths (all of a default run): enough for
/// coefficients within about ±0.01, and a bounded cost (a few MB, milliseconds) however
/// many paths run. The first paths are the same on any thread count.
pub const MAX_DRIVER_FIT_PATHS: u64 = 20_000;

/// How many drivers the verdict names.
pub const VERDICT_DRIVERS: usize = 3;

/// One per-path driver of the NPV: its effect in the linear fit of the NPV on every driver.
#[derive(Clone, Debug, PartialEq)]
pub struct NpvDriver {
    /// Key path as in `drivers.csv` (`revenue.segments.ai.initial_growth`,
    /// `risk.regime_share.crisis`, `risk.events.price_war.firings`).
    pub key: String,
    /// Standard deviation of the driver over the fitted paths, in its own unit.
    pub sd: f64,
    /// Standardized regression coefficient (the others held).
    pub src: f64,
    /// NPV change for a one-sd rise of the driver, the others held: `src · sd(NPV)`.
    pub npv_per_sd_rmb_bn: f64,
    /// Pearson correlation of the driver with the NPV.
    pub pearson: f64,
    /// Share of the NPV's variance attributed to the driver, Pratt's `src · pearson` (as
    /// `sensitivity regression` ranks its inputs; the shares sum to the fit's R²).
    pub variance_share: f64,
    /// The driver's value on each fitted path, in path order.
    pub values: Vec<f64>,
}

/// The NPV's drivers on the first paths of a run, strongest first.
#[derive(Clone, Debug, PartialEq)]
pub struct NpvDrivers {
    /// Every driver with spread, by decreasing |share of variance| (ties in `drivers.csv`
    /// column order).
    pub ranked: Vec<NpvDriver>,
    /// The NPV on each fitted path, in path order.
    pub npv: Vec<f64>,
    /// Share of the NPV's variance the linear fit explains.
    pub r_squared: f64,
}

impl NpvDrivers {
    /// Paths the fit used.
    pub fn paths_used(&self) -> usize {
        self.npv.len()
    }

    /// The NPV's drivers on the first [`MAX_DRIVER_FIT_PATHS`] paths of `results`: the
    /// linear fit of the kept per-path NPV on every per-path driver of
    /// [`Model::path_drivers`] (draws, regime shares, event firing counts; first-firing
    /// quarters, empty when an event never fired, are left out, and the first regime's
    /// share too: the shares sum to one, so it is the reference the others move against).
    /// Ranked by their share of the NPV's variance (Pratt's measure, as `sensitivity
    /// regression`); each with the NPV's change for a one-sd rise, the others held. `None`
    /// without a per-path NPV, a driver with spread, or enough paths.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::{Scenario, output::NpvDrivers, runner::{simulate, RunOptions}};
    /// let s = Scenario::default_scenario().with_paths(1024).unwrap();
    /// let results = simulate(&s, &RunOptions::default()).unwrap();
    /// let drivers = NpvDrivers::of(&s, &results).unwrap();
    /// let shares: f64 = drivers.ranked.iter().map(|d| d.variance_share).sum();
    /// assert!((shares - drivers.r_squared).abs() < 1e-9);
    /// ```
    pub fn of(scenario: &Scenario, results: &Results) -> Option<Self> {
        let k = results.scalars.iter().position(|(m, _)| m == NPV)?;
        let npv = results.scalar_values[k].as_ref()?;
        let paths = (npv.len() as u64).min(MAX_DRIVER_FIT_PATHS);
        let model = Model::new(scenario);
        let (names, rows) = model.path_drivers(paths);
        let reference_regime = names
            .iter()
            .position(|n| n.starts_with("risk.regime_share."));
        let columns: Vec<usize> = (0..names.len())
            .filter(|&c| Some(c) != reference_regime)
            .filter(|&c| !names[c].ends_with(".first_quarter_index"))
            .collect();
        let defined: Vec<usize> = (0..paths as usize)
            .filter(|&p| npv[p].is_finite() && columns.iter().all(|&c| rows[p][c].is_finite()))
            .collect();
        if defined.len() < (columns.len() + 2).max(10) {
            return None;
        }
        let y: Vec<f64> = defined.iter().map(|&p| npv[p]).collect();
        let x: Vec<Vec<f64>> = columns
            .iter()
            .map(|&c| defined.iter().map(|&p| rows[p][c]).collect())
            .collect();
        let (src, _, r_squared) = standardized_regression(&x, &y);
        let npv_sd = sample_sd(&y);
        let mut ranked: Vec<NpvDriver> = columns
            .iter()
            .zip(x)
            .zip(src)
            .map(|((&c, values), src)| {
                let pearson = super::scatter::correlation(&values, &y);
                NpvDriver {
                    key: names[c].clone(),
                    sd: sample_sd(&values),
                    src,
                    npv_per_sd_rmb_bn: src * npv_sd,
                    pearson,
                    variance_share: src * pearson,
                    values,
                }
            })
            .filter(|d| d.sd > 0.0)
            .collect();
        if ranked.is_empty() {
            return None;
        }
        // By contribution to variance rather than |SRC|: regime shares and event firings
        // are correlated (crises make export controls likelier), and a coefficient that
        // holds the others fixed can be large for a driver that explains little alone.
        ranked.sort_by(|a, b| b.variance_share.abs().total_cmp(&a.variance_share.abs()));
        Some(Self {
            ranked,
            npv: y,
            r_squared,
        })
    }
}

fn sample_sd(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// A rate assumption in words: `9.0%` if fixed, else its kind, range and median
/// (`triangular 7.2–10.5%, median 8.9%`).
fn rate_text(param: &crate::Param) -> String {
    match param {
        crate::Param::Fixed(v) => format!("{:.1}%", v * 100.0),
        crate::Param::Random(d) => {
            let (low, high) = d.support();
            format!(
                "{} {:.1}–{:.1}%, median {:.1}%",
                d.kind(),
                low * 100.0,
                high * 100.0,
                d.quantile(0.5) * 100.0
            )
        }
    }
}

/// The median of a rate assumption (its value if fixed).
fn median_rate(param: &crate::Param) -> f64 {
    match param {
        crate::Param::Fixed(v) => *v,
        crate::Param::Random(d) => d.quantile(0.5),
    }
}

/// The median path discount rate of a scenario with a plan (`valuation.discount_rate`'s
/// median, before regime spreads): the rate an IRR is read against, and the line drawn on
/// the IRR histogram.
pub fn median_discount_rate(scenario: &Scenario) -> Option<f64> {
    let economics = scenario.assumptions().economics.as_ref()?;
    Some(median_rate(&economics.valuation.discount_rate))
}

/// The plan's answer: what the NPV is valued at, its statistics, the IRR beside the rate
/// and the drivers, each as the run measured it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanVerdict {
    /// Scenario name.
    pub scenario: String,
    /// The quarter the NPV is valued at (the plan's first).
    pub valued_at: crate::time::Quarter,
    /// `valuation.discount_rate` in words.
    pub discount_rate: String,
    /// Its median.
    pub discount_rate_median: f64,
    /// `investment.hurdle_rate` in words, if the firm invests by one.
    pub hurdle_rate: Option<String>,
    /// NPV mean, its Monte Carlo SE and median, RMB bn.
    pub npv_mean: f64,
    /// Standard error of the mean.
    pub npv_se: f64,
    /// Median (exact).
    pub npv_median: f64,
    /// P(NPV < 0) and its standard error.
    pub prob_negative: (f64, f64),
    /// Median IRR and the paths where it is unique.
    pub irr_median: Option<(f64, u64)>,
    /// Paths run.
    pub paths: u64,
    /// The NPV's drivers, if any.
    pub drivers: Option<Arc<NpvDrivers>>,
    /// The decision as of the start quarter (`valuation.forward_value`).
    pub forward: Option<ForwardFacts>,
    /// The cloud business's enterprise value with the plan: mean, SE, median, RMB bn; and
    /// the median EV over trailing sales, when the scenario states them.
    pub enterprise_value: Option<(f64, f64, f64, Option<f64>)>,
}

/// The plan valued forward from the start quarter: continuing against stopping there.
#[derive(Clone, Debug, PartialEq)]
pub struct ForwardFacts {
    /// The start quarter, which it is valued at.
    pub valued_at: crate::time::Quarter,
    /// `plan_forward_npv_rmb_bn`: mean, SE, P(< 0).
    pub npv: (f64, f64, f64),
    /// `plan_stop_now_npv_rmb_bn`: mean, SE.
    pub stop_now: (f64, f64),
}

impl PlanVerdict {
    /// The verdict of a run; `None` for a scenario without a plan.
    pub fn of(scenario: &Scenario, results: &Results) -> Option<Self> {
        let drivers = NpvDrivers::of(scenario, results).map(Arc::new);
        Self::with_drivers(scenario, results, drivers)
    }

    /// [`PlanVerdict::of`] with the drivers already fitted ([`NpvDrivers::of`] of the same
    /// run), so a report fits them once for its page and its charts.
    pub fn with_drivers(
        scenario: &Scenario,
        results: &Results,
        drivers: Option<Arc<NpvDrivers>>,
    ) -> Option<Self> {
        let economics = scenario.assumptions().economics.as_ref()?;
        let npv = results.scalar_stats(NPV)?;
        let summary = npv.summary.as_ref()?;
        let valuation = &economics.valuation;
        Some(Self {
            scenario: results.scenario.clone(),
            valued_at: economics.plan.start_quarter,
            discount_rate: rate_text(&valuation.discount_rate),
            discount_rate_median: median_rate(&valuation.discount_rate),
            hurdle_rate: economics
                .investment
                .as_ref()
                .and_then(|i| i.hurdle_rate.as_ref())
                .map(rate_text),
            npv_mean: summary.mean,
            npv_se: summary.se,
            npv_median: summary.quantiles[4],
            prob_negative: (npv.prob_negative, npv.prob_negative_se),
            irr_median: results
                .scalar("plan_irr")
                .map(|irr| (irr.quantiles[4], irr.count)),
            paths: results.paths,
            drivers,
            forward: results
                .scalar_stats("plan_forward_npv_rmb_bn")
                .and_then(|f| {
                    let s = f.summary.as_ref()?;
                    let stop = results.scalar("plan_stop_now_npv_rmb_bn")?;
                    Some(ForwardFacts {
                        valued_at: scenario.assumptions().time.start_quarter,
                        npv: (s.mean, s.se, f.prob_negative),
                        stop_now: (stop.mean, stop.se),
                    })
                }),
            enterprise_value: results.scalar("cloud_ev_rmb_bn").map(|ev| {
                (
                    ev.mean,
                    ev.se,
                    ev.quantiles[4],
                    results
                        .scalar("cloud_ev_to_trailing_sales")
                        .map(|m| m.quantiles[4]),
                )
            }),
        })
    }

    /// The answer in one sentence: whether the mean NPV is above or below zero beyond two
    /// standard errors, and whether most paths lose money.
    pub fn sentence(&self) -> String {
        let mean = format!("{:+.1} ± {:.1} RMB bn", self.npv_mean, self.npv_se);
        let losing = self.prob_negative.0;
        let share = format!("{:.0}%", losing * 100.0);
        let most_lose = losing > 0.5;
        let text = if self.npv_mean - 2.0 * self.npv_se > 0.0 {
            if most_lose {
                format!(
                    "the plan pays on average (mean NPV {mean}) but loses money on {share} of paths: \
                     its value is in the right tail"
                )
            } else {
                format!("the plan pays (mean NPV {mean}), and only {share} of paths lose money")
            }
        } else if self.npv_mean + 2.0 * self.npv_se < 0.0 {
            if most_lose {
                format!("the plan does not pay (mean NPV {mean}), and {share} of paths lose money")
            } else {
                format!(
                    "the plan loses on average (mean NPV {mean}) though only {share} of paths lose \
                     money: the left tail outweighs the rest"
                )
            }
        } else {
            format!(
                "the plan's mean NPV ({mean}) is within two standard errors of zero, and {share} \
                 of paths lose money"
            )
        };
        format!("Verdict for `{}`: {text}.", self.scenario)
    }

    /// The lines after the sentence: valuation, NPV, IRR, hurdle rate.
    pub fn facts(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "The plan: NPV in RMB bn valued at {} (its first quarter), each path discounted at its \
                 discount rate (valuation.discount_rate: {}) plus regime spreads",
                self.valued_at, self.discount_rate
            ),
            format!(
                "NPV mean {:+.1} ± {:.1} (Monte Carlo SE), median {:+.1}; P(NPV < 0) = {:.3} ± {:.3}",
                self.npv_mean,
                self.npv_se,
                self.npv_median,
                self.prob_negative.0,
                self.prob_negative.1
            ),
        ];
        if let Some((irr, count)) = self.irr_median {
            let side = if irr < self.discount_rate_median {
                "below"
            } else {
                "above"
            };
            lines.push(format!(
                "IRR median {:.1}% on the {count} of {} paths where it is unique, {side} the discount \
                 rate's median {:.1}%",
                irr * 100.0,
                self.paths,
                self.discount_rate_median * 100.0
            ));
        }
        if let Some(hurdle) = &self.hurdle_rate {
            lines.push(format!(
                "the firm invests at its hurdle rate (investment.hurdle_rate: {hurdle})"
            ));
        }
        if let Some(f) = &self.forward {
            lines.push(format!(
                "Continue or stop as of {} (spend before it sunk): continuing is worth {:+.1} ± {:.1} \
                 against stopping there, P(< 0) = {:.3}; stopping there is worth {:+.1} ± {:.1} \
                 against never planning (valued at {})",
                f.valued_at, f.npv.0, f.npv.1, f.npv.2, f.stop_now.0, f.stop_now.1, self.valued_at
            ));
        }
        if let Some((mean, se, median, multiple)) = self.enterprise_value {
            let multiple = multiple.map_or(String::new(), |m| {
                format!(", median {m:.1}x trailing sales")
            });
            lines.push(format!(
                "The cloud business with the plan: EV {mean:.0} ± {se:.0} RMB bn (median {median:.0}{multiple}) \
                 at the start quarter, growth after the horizon earning its cost of capital"
            ));
        }
        lines
    }

    /// The heading of the drivers' list, saying how they were measured.
    pub fn drivers_heading(&self) -> Option<String> {
        let d = self.drivers.as_ref()?;
        Some(format!(
            "What moves the NPV most on these paths (linear fit on the first {} paths, R² {:.2}): \
             the NPV's change for a one-sd rise of each driver, the others held, and its share \
             of the NPV's variance",
            d.paths_used(),
            d.r_squared
        ))
    }

    /// The strongest drivers, one line each: `label (sd S): ±X RMB bn, P% of the variance`.
    pub fn driver_lines(&self) -> Vec<String> {
        let Some(d) = &self.drivers else {
            return Vec::new();
        };
        d.ranked
            .iter()
            .take(VERDICT_DRIVERS)
            .map(|driver| {
                format!(
                    "{} (sd {}): {:+.1} RMB bn, {:.0}% of the variance",
                    driver_label(&driver.key),
                    super::charts::short(driver.sd),
                    driver.npv_per_sd_rmb_bn,
                    driver.variance_share * 100.0
                )
            })
            .collect()
    }

    /// The verdict as console text: the sentence, the facts indented, the drivers
    /// numbered.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.sentence());
        for (k, line) in self.facts().iter().enumerate() {
            let indent = if k == 0 { "" } else { "  " };
            let _ = writeln!(out, "{indent}{line}");
        }
        if let Some(heading) = self.drivers_heading() {
            let _ = writeln!(out, "{heading}:");
            for (k, line) in self.driver_lines().iter().enumerate() {
                let _ = writeln!(out, "  {}. {line}", k + 1);
            }
        }
        out
    }
}

/// The plan's answer first, in words a reader of the results acts on: a verdict sentence,
/// what the NPV is valued at (date, currency, rate), its mean with its standard error,
/// median and P(NPV < 0), the median IRR beside the rate it should be compared with, and
/// the three drivers that move the NPV most on the run's paths. `None` for a scenario
/// without a plan.
///
/// # Examples
///
/// ```
/// use cloudcapex::{Scenario, output::plan_headline, runner::{simulate, RunOptions}};
/// let s = Scenario::default_scenario().with_paths(1024).unwrap();
/// let results = simulate(&s, &RunOptions::default()).unwrap();
/// let text = plan_headline(&s, &results).unwrap();
/// assert!(text.starts_with("Verdict for `base`: "));
/// assert!(text.contains("valued at 2025Q1") && text.contains("P(NPV < 0)"));
/// assert!(text.contains("  1. ") && text.contains("  3. "));
/// ```
pub fn plan_headline(scenario: &Scenario, results: &Results) -> Option<String> {
    PlanVerdict::of(scenario, results).map(|v| v.text())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{RunOptions, simulate};

    fn verdict(paths: u64) -> PlanVerdict {
        let s = Scenario::default_scenario().with_paths(paths).unwrap();
        PlanVerdict::of(&s, &simulate(&s, &RunOptions::default()).unwrap()).unwrap()
    }

    /// The drivers are fitted on the first paths only, so the verdict's cost is bounded
    /// however many paths run; the same run gives the same drivers.
    #[test]
    fn the_drivers_come_from_the_first_paths_only() {
        let long = verdict(MAX_DRIVER_FIT_PATHS + 1024);
        assert_eq!(
            long.drivers.as_ref().unwrap().paths_used() as u64,
            MAX_DRIVER_FIT_PATHS
        );
        let s = Scenario::default_scenario().with_paths(2048).unwrap();
        let results = simulate(&s, &RunOptions::default()).unwrap();
        let a = NpvDrivers::of(&s, &results).unwrap();
        assert_eq!(a, NpvDrivers::of(&s, &results).unwrap(), "deterministic");
        assert!(a.r_squared > 0.0 && a.r_squared <= 1.0);
        // The reference regime and first-firing quarters are not drivers.
        assert!(
            !a.ranked
                .iter()
                .any(|d| d.key == "risk.regime_share.calm"
                    || d.key.ends_with(".first_quarter_index"))
        );
        assert!(a.ranked.iter().any(|d| d.key == "risk.regime_share.crisis"));
    }

    /// The NPV change per sd is the SRC times the NPV's sd; the list is ranked by share
    /// of variance, and on the base case the AI segment's growth and its half-life lead.
    #[test]
    fn drivers_are_ranked_by_their_share_of_variance() {
        let v = verdict(2048);
        let d = v.drivers.as_ref().unwrap();
        let npv_sd = sample_sd(&d.npv);
        for pair in d.ranked.windows(2) {
            assert!(pair[0].variance_share.abs() >= pair[1].variance_share.abs());
        }
        let top: Vec<&str> = d.ranked[..2].iter().map(|d| d.key.as_str()).collect();
        assert!(
            top.contains(&"revenue.segments.ai.initial_growth")
                && top.contains(&"revenue.segments.ai.growth_half_life_quarters"),
            "{top:?}"
        );
        for driver in &d.ranked {
            assert!((driver.npv_per_sd_rmb_bn - driver.src * npv_sd).abs() < 1e-9);
        }
        assert_eq!(v.driver_lines().len(), VERDICT_DRIVERS);
    }

    #[test]
    fn the_sentence_follows_the_numbers() {
        let mut v = verdict(1024);
        v.scenario = "x".into();
        (v.npv_mean, v.npv_se, v.prob_negative) = (10.0, 1.0, (0.6, 0.01));
        assert!(v.sentence().contains("pays on average"), "{}", v.sentence());
        v.prob_negative.0 = 0.3;
        assert!(
            v.sentence()
                .contains("the plan pays (mean NPV +10.0 ± 1.0 RMB bn)")
        );
        v.npv_mean = -10.0;
        assert!(v.sentence().contains("loses on average"));
        v.prob_negative.0 = 0.7;
        assert!(v.sentence().contains("does not pay"));
        v.npv_mean = 1.0;
        assert!(v.sentence().contains("within two standard errors of zero"));
    }
}
