//! Global sensitivity analysis: first-order and total Sobol indices by Saltelli-style
//! sampling on a quasi-random (Sobol, Joe–Kuo D6) sequence, with the Jansen estimators and
//! percentile bootstrap confidence intervals.

use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use sobol::Sobol;
use sobol::params::JoeKuoD6;

/// An estimate with its bootstrap confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Point estimate.
    pub value: f64,
    /// Lower end of the confidence interval.
    pub low: f64,
    /// Upper end of the confidence interval.
    pub high: f64,
}

/// Sobol indices of every input.
#[derive(Clone, Debug, PartialEq)]
pub struct SobolIndices {
    /// First-order indices `S_i`, one per input.
    pub first_order: Vec<Estimate>,
    /// Total indices `S_Ti`, one per input.
    pub total: Vec<Estimate>,
    /// Variance of the output.
    pub variance: f64,
    /// Model evaluations used, `n (k + 2)`.
    pub evaluations: usize,
}

/// Why the indices could not be estimated.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SobolError {
    /// No inputs, fewer than 2 samples or a confidence level outside (0, 1).
    #[error("need at least one input, at least 2 samples and a confidence level in (0, 1)")]
    BadSetup,
    /// More inputs than the quasi-random sequence supports.
    #[error("{0} inputs: the Sobol sequence supports at most {1} (2 dimensions per input)")]
    TooManyInputs(usize, usize),
    /// The output does not vary (or is not finite), so indices are undefined.
    #[error("the output's variance is {0}: indices are undefined")]
    NoVariance(f64),
}

/// Jansen estimators on rows `rows` of the evaluations.
fn jansen(fa: &[f64], fb: &[f64], fab: &[Vec<f64>], rows: &[usize]) -> (Vec<f64>, Vec<f64>, f64) {
    let n = rows.len() as f64;
    let mean = rows.iter().map(|&r| fa[r] + fb[r]).sum::<f64>() / (2.0 * n);
    let variance = rows
        .iter()
        .map(|&r| (fa[r] - mean).powi(2) + (fb[r] - mean).powi(2))
        .sum::<f64>()
        / (2.0 * n - 1.0);
    let first = fab
        .iter()
        .map(|fi| {
            (variance - rows.iter().map(|&r| (fb[r] - fi[r]).powi(2)).sum::<f64>() / (2.0 * n))
                / variance
        })
        .collect();
    let total = fab
        .iter()
        .map(|fi| rows.iter().map(|&r| (fa[r] - fi[r]).powi(2)).sum::<f64>() / (2.0 * n) / variance)
        .collect();
    (first, total, variance)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    crate::stats::exact_quantile(sorted, q)
}

/// First-order and total Sobol indices of `f` with respect to `inputs` independent inputs.
///
/// `f` takes a point of the unit hypercube `[0, 1)^k`; map each coordinate to its input
/// through that input's quantile function (inverse CDF) inside `f`. Samples: two matrices
/// `A`, `B` of `samples` rows from a `2k`-dimensional Sobol sequence (the all-zero first
/// point skipped), and for each input `i` the matrix `A_B^i` (`A` with column `i` from
/// `B`): `samples (k + 2)` evaluations. Estimators (Jansen 1999; Saltelli et al. 2010):
///
/// ```text
/// S_i  = (V − Σ (f(B) − f(A_B^i))² / 2n) / V
/// S_Ti = Σ (f(A) − f(A_B^i))² / 2n / V
/// ```
///
/// Confidence intervals: percentile bootstrap over rows, `bootstrap` resamples drawn from a
/// ChaCha8 stream seeded with `seed`, at `confidence` (e.g. 0.95).
///
/// # Errors
///
/// [`SobolError`] for an empty setup, too many inputs, or an output without variance.
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::sobol_indices;
/// // y = x0 + 2 x1 with x uniform on [0, 1): S = (1/5, 4/5), no interactions.
/// let s = sobol_indices(|u| u[0] + 2.0 * u[1], 2, 4096, 100, 0.95, 1).unwrap();
/// assert!((s.first_order[0].value - 0.2).abs() < 0.02);
/// assert!((s.total[1].value - 0.8).abs() < 0.02);
/// ```
pub fn sobol_indices<F>(
    f: F,
    inputs: usize,
    samples: usize,
    bootstrap: usize,
    confidence: f64,
    seed: u64,
) -> Result<SobolIndices, SobolError>
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    use rayon::prelude::*;
    if inputs == 0 || samples < 2 || !(confidence > 0.0 && confidence < 1.0) {
        return Err(SobolError::BadSetup);
    }
    let params = JoeKuoD6::minimal();
    if 2 * inputs > params.max_dims {
        return Err(SobolError::TooManyInputs(inputs, params.max_dims / 2));
    }
    let points: Vec<Vec<f64>> = Sobol::<f64>::new(2 * inputs, &params)
        .skip(1)
        .take(samples)
        .collect();
    let a = |r: usize| &points[r][..inputs];
    let b = |r: usize| &points[r][inputs..];
    let fa: Vec<f64> = (0..samples).into_par_iter().map(|r| f(a(r))).collect();
    let fb: Vec<f64> = (0..samples).into_par_iter().map(|r| f(b(r))).collect();
    let fab: Vec<Vec<f64>> = (0..inputs)
        .map(|i| {
            (0..samples)
                .into_par_iter()
                .map(|r| {
                    let mut x = a(r).to_vec();
                    x[i] = b(r)[i];
                    f(&x)
                })
                .collect()
        })
        .collect();

    let all: Vec<usize> = (0..samples).collect();
    let (first, total, variance) = jansen(&fa, &fb, &fab, &all);
    if !(variance > 0.0 && variance.is_finite()) {
        return Err(SobolError::NoVariance(variance));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut boot_first = vec![Vec::with_capacity(bootstrap); inputs];
    let mut boot_total = vec![Vec::with_capacity(bootstrap); inputs];
    let mut rows = vec![0usize; samples];
    for _ in 0..bootstrap {
        rows.iter_mut()
            .for_each(|r| *r = rng.random_range(0..samples));
        let (f1, ft, _) = jansen(&fa, &fb, &fab, &rows);
        for i in 0..inputs {
            boot_first[i].push(f1[i]);
            boot_total[i].push(ft[i]);
        }
    }
    let tail = (1.0 - confidence) / 2.0;
    let interval = |point: f64, mut draws: Vec<f64>| {
        if draws.is_empty() {
            return Estimate {
                value: point,
                low: point,
                high: point,
            };
        }
        draws.sort_by(f64::total_cmp);
        Estimate {
            value: point,
            low: percentile(&draws, tail),
            high: percentile(&draws, 1.0 - tail),
        }
    };
    Ok(SobolIndices {
        first_order: first
            .iter()
            .zip(boot_first)
            .map(|(p, d)| interval(*p, d))
            .collect(),
        total: total
            .iter()
            .zip(boot_total)
            .map(|(p, d)| interval(*p, d))
            .collect(),
        variance,
        evaluations: samples * (inputs + 2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The Ishigami function (a = 7, b = 0.1) against its analytic indices: each analytic
    /// value lies within the estimate's bootstrap interval.
    #[test]
    fn ishigami_indices_match_the_analytic_values() {
        let (a, b) = (7.0f64, 0.1f64);
        let ishigami = |u: &[f64]| {
            let x: Vec<f64> = u.iter().map(|u| -PI + 2.0 * PI * u).collect();
            x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
        };
        let variance = a * a / 8.0 + b * PI.powi(4) / 5.0 + b * b * PI.powi(8) / 18.0 + 0.5;
        let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = 8.0 * b * b * PI.powi(8) / 225.0;
        let first = [v1 / variance, v2 / variance, 0.0];
        let total = [(v1 + v13) / variance, v2 / variance, v13 / variance];
        let s = sobol_indices(ishigami, 3, 1 << 14, 300, 0.99, 7).unwrap();
        for i in 0..3 {
            let (f, t) = (s.first_order[i], s.total[i]);
            assert!(
                f.low <= first[i] && first[i] <= f.high,
                "S{}: {:?} vs analytic {}",
                i + 1,
                f,
                first[i]
            );
            assert!(
                t.low <= total[i] && total[i] <= t.high,
                "ST{}: {:?} vs analytic {}",
                i + 1,
                t,
                total[i]
            );
            assert!(
                f.high - f.low < 0.1 && t.high - t.low < 0.1,
                "intervals too wide to mean anything"
            );
        }
        assert!((s.variance - variance).abs() < 0.05 * variance);
    }

    #[test]
    fn degenerate_setups_are_refused() {
        assert_eq!(
            sobol_indices(|u| u[0], 0, 100, 10, 0.95, 1),
            Err(SobolError::BadSetup)
        );
        assert!(matches!(
            sobol_indices(|_| 1.0, 2, 100, 10, 0.95, 1),
            Err(SobolError::NoVariance(_))
        ));
    }
}
