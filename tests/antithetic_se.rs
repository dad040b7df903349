//! With antithetic pairs, the standard error reported for a per-path metric's mean (and
//! the variance-reduction factor) must match the spread of that mean over independent
//! replications, also for metrics defined on only some paths (conditional NPVs, payback),
//! where some pairs have one defined value or none.
//!
//! Tolerance: over `S` independent replications, the sample standard deviation of the
//! means has a relative standard error of about `1 / √(2 (S − 1))` (means are close to
//! normal); the reported standard error is averaged over the replications
//! (root-mean-square) and is much less noisy. The checks allow four such standard errors:
//! `|rms(se) / sd(means) − 1| ≤ 4 / √(2 (S − 1))`, and twice that for the
//! variance-reduction factor (a ratio of variances). The wrong estimator this guards
//! against (standard errors from complete pairs only) was off by 1.6–2.8x.

use cloudcapex::Scenario;
use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::stats::{ScalarSummary, StreamedScalar};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

/// Per replication: the mean, its reported standard error, the reported reduction factor.
struct Replications {
    means: Vec<f64>,
    ses: Vec<f64>,
    factors: Vec<f64>,
}

impl Replications {
    fn new() -> Self {
        Self {
            means: Vec::new(),
            ses: Vec::new(),
            factors: Vec::new(),
        }
    }

    fn push(&mut self, stats: &ScalarSummary) {
        let summary = stats.summary.as_ref().expect("defined somewhere");
        self.means.push(summary.mean);
        self.ses.push(summary.se);
        self.factors.push(stats.se_reduction_factor);
    }

    /// Checks the reported standard error and reduction factor against the replications;
    /// returns (rms se / sd of means, mean reported factor / empirical factor).
    fn check(&self, what: &str, iid_variances: &[f64]) -> (f64, f64) {
        let s = self.means.len() as f64;
        let mean = self.means.iter().sum::<f64>() / s;
        let variance = self.means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (s - 1.0);
        let mean_se2 = self.ses.iter().map(|e| e * e).sum::<f64>() / s;
        let se_ratio = (mean_se2 / variance).sqrt();
        let tolerance = 4.0 / (2.0 * (s - 1.0)).sqrt();
        // The empirical reduction: the independent-paths variance of the mean (s²/n, the
        // same in every replication up to noise) over the variance actually seen.
        let iid = iid_variances.iter().sum::<f64>() / s;
        let empirical_factor = iid / variance;
        let reported_factor = self.factors.iter().sum::<f64>() / s;
        let factor_ratio = reported_factor / empirical_factor;
        eprintln!(
            "{what}: rms se / sd(means) = {se_ratio:.3}, reported factor {reported_factor:.3} vs empirical {empirical_factor:.3} (tolerance {tolerance:.3})"
        );
        assert!(
            (se_ratio - 1.0).abs() <= tolerance,
            "{what}: rms se / sd(means) = {se_ratio} (tolerance {tolerance})"
        );
        assert!(
            (factor_ratio - 1.0).abs() <= 2.0 * tolerance,
            "{what}: reported factor {reported_factor} vs empirical {empirical_factor}"
        );
        (se_ratio, factor_ratio)
    }
}

/// A synthetic metric on `pairs` antithetic pairs: each path's value is
/// `10 + spread · w + shock · (±u) + e` (`w`, `e` per path, `u` shared by the pair with
/// opposite signs, or the same sign with `same_sign`), defined with probability
/// `defined` independently, or, with `by_value`, where the value exceeds a threshold.
struct Synthetic {
    spread: f64,
    shock: f64,
    same_sign: bool,
    defined: f64,
    by_value: bool,
}

impl Synthetic {
    fn pair_values(&self, rng: &mut ChaCha8Rng, pairs: usize) -> Vec<f64> {
        let mut values = Vec::with_capacity(2 * pairs);
        for _ in 0..pairs {
            let u: f64 = rng.sample(StandardNormal);
            for sign in [1.0, if self.same_sign { 1.0 } else { -1.0 }] {
                let w: f64 = rng.sample(StandardNormal);
                let e: f64 = rng.sample(StandardNormal);
                let x = 10.0 + self.spread * w + self.shock * sign * u + 0.5 * e;
                let keep = if self.by_value {
                    // Defined on roughly the upper 40%, as payback is defined on paths that
                    // pay back.
                    x > 10.0 + 0.25 * (self.spread.powi(2) + self.shock.powi(2)).sqrt()
                } else {
                    rng.random::<f64>() < self.defined
                };
                values.push(if keep { x } else { f64::NAN });
            }
        }
        values
    }
}

/// Feeds pairs of correlated values, some undefined, into both accumulators (exact and
/// streamed) over many seeds: their standard errors and reduction factors match the
/// replications, and the two accumulators agree.
#[test]
fn paired_standard_errors_match_replications_with_undefined_values() {
    const SEEDS: u64 = 1500;
    const PAIRS: usize = 1000;
    let cases = [
        (
            "revenue-like, all defined",
            Synthetic {
                spread: 0.5,
                shock: 3.0,
                same_sign: false,
                defined: 1.0,
                by_value: false,
            },
        ),
        (
            "revenue-like, 30% defined at random",
            Synthetic {
                spread: 0.5,
                shock: 3.0,
                same_sign: false,
                defined: 0.3,
                by_value: false,
            },
        ),
        (
            "assumption-driven, 10% defined at random",
            Synthetic {
                spread: 3.0,
                shock: 1.0,
                same_sign: false,
                defined: 0.1,
                by_value: false,
            },
        ),
        (
            "positively correlated, 60% defined at random",
            Synthetic {
                spread: 1.0,
                shock: 3.0,
                same_sign: true,
                defined: 0.6,
                by_value: false,
            },
        ),
        (
            "defined where the value is high",
            Synthetic {
                spread: 2.0,
                shock: 2.0,
                same_sign: false,
                defined: 0.0,
                by_value: true,
            },
        ),
    ];
    for (what, case) in cases {
        let (mut exact, mut streamed) = (Replications::new(), Replications::new());
        let mut iid_variances = Vec::new();
        for seed in 0..SEEDS {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let values = case.pair_values(&mut rng, PAIRS);
            let a = ScalarSummary::from_paired_values(&values);
            let mut stream = StreamedScalar::default();
            for pair in values.chunks_exact(2) {
                stream.push(pair[0]);
                stream.push(pair[1]);
                stream.push_pair(pair[0], pair[1]);
            }
            let b = ScalarSummary::from_stream(&stream, true);
            let (sa, sb) = (a.summary.as_ref().unwrap(), b.summary.as_ref().unwrap());
            assert!((sa.se - sb.se).abs() <= 1e-9 * sa.se, "{what}, seed {seed}");
            assert!((a.prob_negative_se - b.prob_negative_se).abs() <= 1e-9 * a.prob_negative_se);
            iid_variances.push(sa.sd * sa.sd / sa.count as f64);
            exact.push(&a);
            streamed.push(&b);
        }
        exact.check(&format!("{what} (exact)"), &iid_variances);
        streamed.check(&format!("{what} (streamed)"), &iid_variances);
    }
}

/// End to end: `--antithetic` runs of the base scenario over 120 seeds. The reported
/// standard error matches the spread of the means for metrics defined on every path, on
/// about half the paths (payback, kept per path) and on about one path in eleven (the NPV
/// given decoupling fired, streamed). Tolerance as above, 4 / √(2 · 119) = 26%.
#[test]
fn run_standard_errors_match_replications_over_seeds() {
    const SEEDS: u64 = 120;
    let metrics = [
        "plan_npv_rmb_bn",
        "revenue_total_cagr",
        "plan_payback_quarters",
        "plan_npv_given_decoupling_fired_rmb_bn",
        "plan_npv_given_price_war_fired_rmb_bn",
    ];
    let mut replications: Vec<Replications> = metrics.iter().map(|_| Replications::new()).collect();
    let mut iid_variances: Vec<Vec<f64>> = metrics.iter().map(|_| Vec::new()).collect();
    let options = RunOptions {
        antithetic: true,
        ..RunOptions::default()
    };
    for seed in 0..SEEDS {
        let scenario = Scenario::default_scenario()
            .with_paths(2048)
            .unwrap()
            .with_seed(1000 + seed);
        let results = simulate(&scenario, &options).unwrap();
        for (k, metric) in metrics.iter().enumerate() {
            let stats = results.scalar_stats(metric).unwrap();
            let summary = stats.summary.as_ref().unwrap();
            iid_variances[k].push(summary.sd * summary.sd / summary.count as f64);
            replications[k].push(stats);
        }
    }
    for ((metric, r), iid) in metrics.iter().zip(&replications).zip(&iid_variances) {
        r.check(metric, iid);
    }
}
