//! Global sensitivity analysis: first-order and total Sobol indices by Saltelli-style
//! sampling on a quasi-random (Sobol, Joe–Kuo D6) sequence, with the Saltelli (2010)
//! first-order and Jansen (1999) total estimators (the Jansen first-order one on request)
//! and percentile bootstrap confidence intervals; then the indices of one model path's
//! metric ([`model_sobol`]), evaluated whole, in shards ([`sobol_shard`], [`merge_sobol`])
//! or on a design exported for SALib ([`saltelli_points`], [`evaluate_points`]).

use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use sobol::Sobol;
use sobol::params::JoeKuoD6;

use super::SensitivityError;

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
    /// Second-order indices `S_ij` of every pair `i < j`, in order (0, 1), (0, 2), …,
    /// (1, 2), …; empty unless [`SobolOptions::second_order`] asked for them.
    pub second_order: Vec<PairIndex>,
    /// Variance of the output.
    pub variance: f64,
    /// Model evaluations used: `n (k + 2)`, or `n (2k + 2)` with second-order indices.
    pub evaluations: usize,
    /// Base samples `n`.
    pub samples: usize,
    /// Confidence level of the intervals.
    pub confidence: f64,
}

/// The second-order index of one pair of inputs: the share of the output's variance due
/// to their interaction alone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairIndex {
    /// The first input of the pair.
    pub first: usize,
    /// The second input (`second > first`).
    pub second: usize,
    /// `S_ij` with its bootstrap interval.
    pub index: Estimate,
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

/// The estimator of first-order indices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FirstOrderEstimator {
    /// Saltelli et al. (2010): `S_i = Σ (f(B) − f̄) (f(A_B^i) − f(A)) / n / V`, centred on
    /// the mean `f̄` of `f(A)` and `f(B)` (as SALib does). The default: an
    /// input without effect gives `f(A_B^i) = f(A)` on every row, hence exactly 0, and its
    /// variance is lowest for small indices (Saltelli et al. 2010, table 2).
    #[default]
    Saltelli2010,
    /// Jansen (1999): `S_i = (V − Σ (f(B) − f(A_B^i))² / 2n) / V`; noisier for small indices
    /// (an input without effect gets `≈ 0.01` at n = 1024 on the base case).
    Jansen1999,
}

/// How [`sobol_analysis`] estimates: bootstrap resamples, confidence level, the
/// bootstrap's seed, the first-order estimator and whether to estimate second-order
/// indices. Setters that take a value with a range refuse one outside it.
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::sobol::SobolOptions;
/// let options = SobolOptions::default().bootstrap(500).confidence(0.99).unwrap().second_order(true);
/// assert!(SobolOptions::default().confidence(1.5).is_err());
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SobolOptions {
    bootstrap: usize,
    confidence: f64,
    seed: u64,
    first_order: FirstOrderEstimator,
    second_order: bool,
}

impl Default for SobolOptions {
    /// 200 bootstrap resamples, 95% intervals, seed 0, Saltelli (2010) first order, no
    /// second-order indices.
    fn default() -> Self {
        SobolOptions {
            bootstrap: 200,
            confidence: 0.95,
            seed: 0,
            first_order: FirstOrderEstimator::default(),
            second_order: false,
        }
    }
}

impl SobolOptions {
    /// Bootstrap resamples for the intervals (0: intervals collapse to the estimate).
    #[must_use]
    pub fn bootstrap(mut self, resamples: usize) -> Self {
        self.bootstrap = resamples;
        self
    }

    /// Confidence level of the intervals.
    ///
    /// # Errors
    ///
    /// [`SobolError::BadSetup`] outside (0, 1).
    pub fn confidence(mut self, level: f64) -> Result<Self, SobolError> {
        if !(level > 0.0 && level < 1.0) {
            return Err(SobolError::BadSetup);
        }
        self.confidence = level;
        Ok(self)
    }

    /// Seed of the bootstrap's ChaCha8 stream.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The first-order estimator.
    #[must_use]
    pub fn first_order(mut self, estimator: FirstOrderEstimator) -> Self {
        self.first_order = estimator;
        self
    }

    /// Whether to estimate second-order indices (`n k` more evaluations: the matrices
    /// `B_A^i`).
    #[must_use]
    pub fn second_order(mut self, on: bool) -> Self {
        self.second_order = on;
        self
    }
}

/// The model's values on a design's base rows: `f(A)`, `f(B)`, `f(A_B^i)` per input and,
/// for second-order indices, `f(B_A^i)` per input (empty otherwise). Those of consecutive
/// ranges of rows [`append`](Self::append) into the whole design's, exactly.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SobolEvaluations {
    fa: Vec<f64>,
    fb: Vec<f64>,
    fab: Vec<Vec<f64>>,
    fba: Vec<Vec<f64>>,
}

impl SobolEvaluations {
    /// Base rows evaluated.
    pub fn rows(&self) -> usize {
        self.fa.len()
    }

    /// Adds the next rows' values (`later` must be of the same inputs and order).
    ///
    /// # Errors
    ///
    /// [`SobolError::BadSetup`] if `later` has other inputs or no second-order values where
    /// these have them (or the reverse).
    pub fn append(&mut self, later: SobolEvaluations) -> Result<(), SobolError> {
        if later.fab.len() != self.fab.len() || later.fba.len() != self.fba.len() {
            return Err(SobolError::BadSetup);
        }
        self.fa.extend(later.fa);
        self.fb.extend(later.fb);
        for (a, b) in self.fab.iter_mut().zip(later.fab) {
            a.extend(b);
        }
        for (a, b) in self.fba.iter_mut().zip(later.fba) {
            a.extend(b);
        }
        Ok(())
    }
}

/// Point estimates on rows `rows`.
struct Indices {
    first: Vec<f64>,
    total: Vec<f64>,
    second: Vec<f64>,
    variance: f64,
}

/// The estimators on rows `rows` of the evaluations; total indices by Jansen (1999),
/// second-order by Saltelli (2002).
fn estimate(e: &SobolEvaluations, rows: &[usize], estimator: FirstOrderEstimator) -> Indices {
    let (fa, fb) = (&e.fa, &e.fb);
    let n = rows.len() as f64;
    let mean = rows.iter().map(|&r| fa[r] + fb[r]).sum::<f64>() / (2.0 * n);
    let variance = rows
        .iter()
        .map(|&r| (fa[r] - mean).powi(2) + (fb[r] - mean).powi(2))
        .sum::<f64>()
        / (2.0 * n - 1.0);
    // Saltelli (2010) first order, centred on the mean: the raw product is not
    // shift-invariant in a finite sample, and a metric with a large mean would make it noisy.
    let saltelli = |fi: &[f64]| {
        rows.iter()
            .map(|&r| (fb[r] - mean) * (fi[r] - fa[r]))
            .sum::<f64>()
            / n
            / variance
    };
    let first: Vec<f64> = e
        .fab
        .iter()
        .map(|fi| match estimator {
            FirstOrderEstimator::Saltelli2010 => saltelli(fi),
            FirstOrderEstimator::Jansen1999 => {
                (variance - rows.iter().map(|&r| (fb[r] - fi[r]).powi(2)).sum::<f64>() / (2.0 * n))
                    / variance
            }
        })
        .collect();
    let total = e
        .fab
        .iter()
        .map(|fi| rows.iter().map(|&r| (fa[r] - fi[r]).powi(2)).sum::<f64>() / (2.0 * n) / variance)
        .collect();
    // Saltelli (2002): B_A^i and A_B^j share exactly x_i and x_j, so the centred mean of
    // their product, less that of A and B, is the closed variance V_i + V_j + V_ij; the
    // first-order parts are removed with the same (Saltelli 2010) estimator SALib uses.
    let k = e.fba.len();
    let mut second = Vec::with_capacity(k * k.saturating_sub(1) / 2);
    for i in 0..k {
        for j in i + 1..k {
            let closed = rows
                .iter()
                .map(|&r| {
                    (e.fba[i][r] - mean) * (e.fab[j][r] - mean) - (fa[r] - mean) * (fb[r] - mean)
                })
                .sum::<f64>()
                / n
                / variance;
            second.push(closed - saltelli(&e.fab[i]) - saltelli(&e.fab[j]));
        }
    }
    Indices {
        first,
        total,
        second,
        variance,
    }
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
/// `B`): `samples (k + 2)` evaluations. Estimators (Saltelli et al. 2010; Jansen 1999):
///
/// ```text
/// S_i  = Σ (f(B) − f̄) (f(A_B^i) − f(A)) / n / V
/// S_Ti = Σ (f(A) − f(A_B^i))² / 2n / V
/// ```
///
/// ([`sobol_analysis`] offers Jansen's first-order estimator and second-order indices.)
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
/// use cloudcapex::sensitivity::sobol::sobol_indices;
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
    sobol_indices_with(
        f,
        inputs,
        samples,
        bootstrap,
        confidence,
        seed,
        FirstOrderEstimator::default(),
    )
}

/// [`sobol_indices`] with a choice of first-order estimator.
///
/// # Errors
///
/// As [`sobol_indices`].
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::sobol::{FirstOrderEstimator, sobol_indices_with};
/// let s = sobol_indices_with(|u| u[0], 2, 1024, 0, 0.95, 1, FirstOrderEstimator::Jansen1999)
///     .unwrap();
/// assert!((s.first_order[0].value - 1.0).abs() < 0.01);
/// ```
pub fn sobol_indices_with<F>(
    f: F,
    inputs: usize,
    samples: usize,
    bootstrap: usize,
    confidence: f64,
    seed: u64,
    estimator: FirstOrderEstimator,
) -> Result<SobolIndices, SobolError>
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    let options = SobolOptions::default()
        .bootstrap(bootstrap)
        .confidence(confidence)?
        .seed(seed)
        .first_order(estimator);
    sobol_analysis(f, inputs, samples, &options)
}

/// Sobol indices of `f` as [`sobol_indices`] with every choice in `options`; with
/// [`SobolOptions::second_order`], also the second-order index of every pair (Saltelli
/// 2002), from the matrices `B_A^i` (`B` with column `i` from `A`): `samples (2k + 2)`
/// evaluations.
///
/// ```text
/// S_ij = Σ [(f(B_A^i) − f̄)(f(A_B^j) − f̄) − (f(A) − f̄)(f(B) − f̄)] / n / V − S_i − S_j
/// ```
///
/// # Errors
///
/// As [`sobol_indices`].
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::sobol::{SobolOptions, sobol_analysis};
/// // y = x0 x1 + x2 on [0, 1)³: the only interaction is between x0 and x1,
/// // S_01 = (1/144) / (1/144 + 2/48 + 1/12) ≈ 0.053.
/// let options = SobolOptions::default().bootstrap(0).second_order(true);
/// let s = sobol_analysis(|u| u[0] * u[1] + u[2], 3, 8192, &options).unwrap();
/// let pair = |a, b| s.second_order.iter().find(|p| (p.first, p.second) == (a, b)).unwrap();
/// assert!((pair(0, 1).index.value - 0.0526).abs() < 0.01);
/// assert!(pair(0, 2).index.value.abs() < 0.01);
/// ```
pub fn sobol_analysis<F>(
    f: F,
    inputs: usize,
    samples: usize,
    options: &SobolOptions,
) -> Result<SobolIndices, SobolError>
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    let evaluations = sobol_evaluations(f, inputs, samples, 0..samples, options.second_order)?;
    sobol_from_evaluations(&evaluations, options)
}

/// `f` on base rows `rows` of the design [`sobol_analysis`] uses for `inputs` inputs and
/// `samples` base rows (with the `B_A^i` for second-order indices): a shard of a Sobol
/// analysis. [`SobolEvaluations::append`] joins consecutive ranges, and
/// [`sobol_from_evaluations`] gives the same indices as [`sobol_analysis`], to the bit.
///
/// # Errors
///
/// [`SobolError`] for no inputs, fewer than 2 samples, too many inputs or rows outside the
/// design.
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::sobol::{SobolOptions, sobol_analysis, sobol_evaluations, sobol_from_evaluations};
/// let f = |u: &[f64]| u[0] + 2.0 * u[1] * u[1];
/// let options = SobolOptions::default().bootstrap(20);
/// let mut whole = sobol_evaluations(f, 2, 512, 0..200, false).unwrap();
/// whole.append(sobol_evaluations(f, 2, 512, 200..512, false).unwrap()).unwrap();
/// let merged = sobol_from_evaluations(&whole, &options).unwrap();
/// assert_eq!(merged, sobol_analysis(f, 2, 512, &options).unwrap());
/// ```
pub fn sobol_evaluations<F>(
    f: F,
    inputs: usize,
    samples: usize,
    rows: std::ops::Range<usize>,
    second_order: bool,
) -> Result<SobolEvaluations, SobolError>
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    use rayon::prelude::*;
    if inputs == 0 || samples < 2 || rows.end > samples || rows.start > rows.end {
        return Err(SobolError::BadSetup);
    }
    let params = JoeKuoD6::minimal();
    if 2 * inputs > params.max_dims {
        return Err(SobolError::TooManyInputs(inputs, params.max_dims / 2));
    }
    let points: Vec<Vec<f64>> = Sobol::<f64>::new(2 * inputs, &params)
        .skip(1 + rows.start)
        .take(rows.len())
        .collect();
    let n = points.len();
    let a = |r: usize| &points[r][..inputs];
    let b = |r: usize| &points[r][inputs..];
    // A with column i from B (`a_base`), or B with column i from A.
    let crossed = |a_base: bool, i: usize| {
        (0..n)
            .into_par_iter()
            .map(|r| {
                let (base, other) = if a_base { (a(r), b(r)) } else { (b(r), a(r)) };
                let mut x = base.to_vec();
                x[i] = other[i];
                f(&x)
            })
            .collect::<Vec<f64>>()
    };
    Ok(SobolEvaluations {
        fa: (0..n).into_par_iter().map(|r| f(a(r))).collect(),
        fb: (0..n).into_par_iter().map(|r| f(b(r))).collect(),
        fab: (0..inputs).map(|i| crossed(true, i)).collect(),
        fba: if second_order {
            (0..inputs).map(|i| crossed(false, i)).collect()
        } else {
            Vec::new()
        },
    })
}

/// The indices of [`sobol_analysis`] from a whole design's evaluations (second-order
/// indices if they hold the `B_A^i` values, whatever `options` say).
///
/// # Errors
///
/// As [`sobol_analysis`].
pub fn sobol_from_evaluations(
    evaluations: &SobolEvaluations,
    options: &SobolOptions,
) -> Result<SobolIndices, SobolError> {
    let (inputs, samples) = (evaluations.fab.len(), evaluations.rows());
    if inputs == 0 || samples < 2 {
        return Err(SobolError::BadSetup);
    }
    let all: Vec<usize> = (0..samples).collect();
    let point = estimate(evaluations, &all, options.first_order);
    if !(point.variance > 0.0 && point.variance.is_finite()) {
        return Err(SobolError::NoVariance(point.variance));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut boot_first = vec![Vec::with_capacity(options.bootstrap); inputs];
    let mut boot_total = vec![Vec::with_capacity(options.bootstrap); inputs];
    let mut boot_second = vec![Vec::with_capacity(options.bootstrap); point.second.len()];
    let mut rows = vec![0usize; samples];
    for _ in 0..options.bootstrap {
        rows.iter_mut()
            .for_each(|r| *r = rng.random_range(0..samples));
        let draw = estimate(evaluations, &rows, options.first_order);
        for i in 0..inputs {
            boot_first[i].push(draw.first[i]);
            boot_total[i].push(draw.total[i]);
        }
        for (pair, value) in boot_second.iter_mut().zip(draw.second) {
            pair.push(value);
        }
    }
    let tail = (1.0 - options.confidence) / 2.0;
    let interval = |point: f64, mut draws: Vec<f64>| {
        // A resample can have no variance (NaN indices), at tiny n above all: left out,
        // rather than sorted first as the lowest draw.
        draws.retain(|d| d.is_finite());
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
    let pairs = (0..inputs).flat_map(|i| (i + 1..inputs).map(move |j| (i, j)));
    Ok(SobolIndices {
        first_order: point
            .first
            .iter()
            .zip(boot_first)
            .map(|(p, d)| interval(*p, d))
            .collect(),
        total: point
            .total
            .iter()
            .zip(boot_total)
            .map(|(p, d)| interval(*p, d))
            .collect(),
        second_order: pairs
            .zip(point.second.iter().zip(boot_second))
            .map(|((first, second), (p, d))| PairIndex {
                first,
                second,
                index: interval(*p, d),
            })
            .collect(),
        variance: point.variance,
        evaluations: samples * (inputs + 2 + evaluations.fba.len()),
        samples,
        confidence: options.confidence,
    })
}

/// Name of the group that stands for the model's intrinsic randomness (growth shocks,
/// regime paths, event firings) in [`model_sobol`].
pub const INTRINSIC_GROUP: &str = "intrinsic_randomness";

/// Sobol indices of a model's per-path metric.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSobol {
    /// Metric analysed.
    pub metric: String,
    /// Input names: every uncertain assumption's key path, then [`INTRINSIC_GROUP`].
    pub inputs: Vec<String>,
    /// The indices, in `inputs` order.
    pub indices: SobolIndices,
}

/// First-order and total (and, if `options` ask, second-order) Sobol indices of one
/// path's `metric` with respect to every uncertain input of `scenario` and one group for
/// the model's intrinsic randomness.
///
/// An evaluation fixes each uncertain input at its quantile `u_i` (through `make`, which
/// rebuilds the scenario with those values as overrides) and simulates one path whose
/// random streams come from a seed derived from the last coordinate, so that coordinate
/// carries all the intrinsic randomness. `samples (k + 3)` one-path runs for `k`
/// uncertain inputs (`samples (2k + 4)` with second-order indices).
///
/// # Errors
///
/// [`SensitivityError::NoUncertainInputs`] without uncertain inputs; [`SensitivityError::Run`] if
/// the estimator fails (e.g. a metric undefined on some evaluations).
pub fn model_sobol<F>(
    scenario: &crate::Scenario,
    make: F,
    metric: &str,
    samples: usize,
    options: &SobolOptions,
) -> Result<ModelSobol, SensitivityError>
where
    F: Fn(&[crate::Override]) -> Result<crate::Scenario, crate::ScenarioError> + Sync,
{
    let evaluations = model_sobol_evaluations(
        scenario,
        make,
        metric,
        samples,
        0..samples,
        options.second_order,
    )?;
    model_sobol_from(scenario, metric, &evaluations, options)
}

/// The evaluations of [`model_sobol`] on base rows `rows` only: a shard of the analysis,
/// joined with [`SobolEvaluations::append`] and finished by [`model_sobol_from`].
///
/// # Errors
///
/// As [`model_sobol`]; [`SensitivityError::Run`] for rows outside the design.
pub fn model_sobol_evaluations<F>(
    scenario: &crate::Scenario,
    make: F,
    metric: &str,
    samples: usize,
    rows: std::ops::Range<usize>,
    second_order: bool,
) -> Result<SobolEvaluations, SensitivityError>
where
    F: Fn(&[crate::Override]) -> Result<crate::Scenario, crate::ScenarioError> + Sync,
{
    let inputs = crate::model::Model::new(scenario).uncertain_distributions();
    if inputs.is_empty() {
        return Err(SensitivityError::NoUncertainInputs);
    }
    let evaluate = |u: &[f64]| point_value(&inputs, &make, metric, u);
    sobol_evaluations(evaluate, inputs.len() + 1, samples, rows, second_order)
        .map_err(|e| SensitivityError::Run(e.to_string()))
}

/// [`model_sobol`]'s indices from the whole design's evaluations.
///
/// # Errors
///
/// As [`model_sobol`].
pub fn model_sobol_from(
    scenario: &crate::Scenario,
    metric: &str,
    evaluations: &SobolEvaluations,
    options: &SobolOptions,
) -> Result<ModelSobol, SensitivityError> {
    let names = sobol_input_names(scenario);
    if names.len() != evaluations.fab.len() {
        return Err(SensitivityError::Run(format!(
            "the evaluations are of {} inputs, the scenario has {}",
            evaluations.fab.len(),
            names.len()
        )));
    }
    let indices = sobol_from_evaluations(evaluations, options).map_err(|e| {
        SensitivityError::Run(format!(
            "{e} (is `{metric}` defined on every path? IRR and payback are not)"
        ))
    })?;
    Ok(ModelSobol {
        metric: metric.to_string(),
        inputs: names,
        indices,
    })
}

/// What a Sobol shard carries: the analysis's settings, the resolved scenario and its base
/// rows' evaluations.
#[derive(serde::Serialize, serde::Deserialize)]
struct SobolShard {
    scenario_toml: String,
    metric: String,
    samples: usize,
    bootstrap: usize,
    confidence: f64,
    seed: u64,
    jansen: bool,
    second_order: bool,
    evaluations: SobolEvaluations,
}

impl SobolShard {
    /// SHA-256 of the scenario's hash and every setting the indices depend on.
    fn job_sha256(&self, scenario: &crate::Scenario) -> String {
        use sha2::{Digest, Sha256};
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            scenario.sha256(),
            self.metric,
            self.samples,
            self.bootstrap,
            self.confidence,
            self.seed,
            self.jansen,
            self.second_order
        );
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn options(&self) -> Result<SobolOptions, SobolError> {
        Ok(SobolOptions::default()
            .bootstrap(self.bootstrap)
            .confidence(self.confidence)?
            .seed(self.seed)
            .first_order(if self.jansen {
                FirstOrderEstimator::Jansen1999
            } else {
                FirstOrderEstimator::Saltelli2010
            })
            .second_order(self.second_order))
    }
}

/// `sobol_<scenario>`: a Sobol analysis's output folder name.
pub fn sobol_folder_name(scenario: &crate::Scenario) -> String {
    format!("sobol_{}", scenario.name())
}

/// Shard `spec` of [`model_sobol`]: evaluates its part of the design's `samples` base rows
/// and writes `folder/shard-I-of-N.ccx`, for [`merge_sobol`].
///
/// # Errors
///
/// A message if the split is larger than the design, the evaluations fail or the file
/// cannot be written.
pub fn sobol_shard<F>(
    folder: &std::path::Path,
    spec: crate::shard::ShardSpec,
    scenario: &crate::Scenario,
    make: F,
    metric: &str,
    samples: usize,
    options: &SobolOptions,
) -> Result<std::path::PathBuf, String>
where
    F: Fn(&[crate::Override]) -> Result<crate::Scenario, crate::ScenarioError> + Sync,
{
    let range = spec.range(samples as u64, "base rows of the Sobol design")?;
    let rows = range.start as usize..range.end as usize;
    let evaluations =
        model_sobol_evaluations(scenario, make, metric, samples, rows, options.second_order)
            .map_err(|e| e.to_string())?;
    let shard = SobolShard {
        scenario_toml: scenario.resolved_toml(),
        metric: metric.to_string(),
        samples,
        bootstrap: options.bootstrap,
        confidence: options.confidence,
        seed: options.seed,
        jansen: options.first_order == FirstOrderEstimator::Jansen1999,
        second_order: options.second_order,
        evaluations,
    };
    let header = crate::shard::ShardHeader::for_points(
        crate::shard::SOBOL,
        &sobol_folder_name(scenario),
        shard.job_sha256(scenario),
        scenario.simulation().seed,
        scenario.simulation().paths,
        spec,
        samples as u64,
        range,
    );
    let payload = postcard::to_allocvec(&shard).map_err(|e| e.to_string())?;
    crate::shard::write_shard_file(&folder.join(spec.file_name()), header, &payload)
        .map_err(|e| e.to_string())
}

/// Joins a Sobol analysis's shards (checked complete by [`crate::shard::find_shards`]) and
/// writes `out/sobol_<scenario>/sobol.csv` (and `sobol_second_order.csv`), byte-identical
/// to an unsharded `sensitivity sobol`. Returns the indices and the path of `sobol.csv`.
///
/// # Errors
///
/// [`crate::shard::ShardError`] for a damaged shard, shards of different settings, or an
/// estimation or write that fails.
pub fn merge_sobol(
    set: &crate::shard::ShardSet,
    out: &std::path::Path,
) -> Result<(ModelSobol, std::path::PathBuf), crate::shard::ShardError> {
    use crate::shard::ShardError;
    let first_file = set.files().next().expect("a set has a shard").to_path_buf();
    let corrupt = |reason: String| ShardError::Corrupt {
        path: first_file.clone(),
        reason,
    };
    let mut shards = set.payloads::<SobolShard>();
    let mut first = shards.next().expect("a set has a shard")?;
    let scenario = crate::Scenario::from_toml_str(
        set.header
            .scenario
            .strip_prefix("sobol_")
            .unwrap_or(&set.header.scenario),
        "the shard's resolved scenario",
        &first.scenario_toml,
        &[],
    )
    .map_err(|e| corrupt(format!("its scenario does not load: {e}")))?;
    if first.job_sha256(&scenario) != set.header.scenario_sha256 {
        return Err(corrupt(
            "its settings do not match its header's hash".to_string(),
        ));
    }
    for (shard, file) in shards.zip(set.files().skip(1)) {
        let shard = shard?;
        if shard.job_sha256(&scenario) != set.header.scenario_sha256 {
            return Err(ShardError::Corrupt {
                path: file.to_path_buf(),
                reason: "its settings do not match its header's hash".to_string(),
            });
        }
        first
            .evaluations
            .append(shard.evaluations)
            .map_err(|e| corrupt(e.to_string()))?;
    }
    let options = first.options().map_err(|e| corrupt(e.to_string()))?;
    let run = |e: SensitivityError| ShardError::Run {
        scenario: set.header.scenario.clone(),
        source: crate::runner::RunError::Sharded(e.to_string()),
    };
    let sobol =
        model_sobol_from(&scenario, &first.metric, &first.evaluations, &options).map_err(run)?;
    let path = sobol
        .write_csv(&out.join(&set.header.scenario), &scenario)
        .map_err(|e| ShardError::Io {
            path: e.path,
            source: e.source,
        })?;
    Ok((sobol, path))
}

/// One path's `metric` at point `u` of the unit hypercube: the inputs at their quantiles
/// `u[..k]`, the path's random streams seeded from the intrinsic coordinate `u[k]`
/// (distinct points, distinct streams). NaN where the metric is undefined.
fn point_value<F>(
    inputs: &[(String, crate::Distribution)],
    make: &F,
    metric: &str,
    u: &[f64],
) -> f64
where
    F: Fn(&[crate::Override]) -> Result<crate::Scenario, crate::ScenarioError> + Sync,
{
    let k = inputs.len();
    let overrides: Vec<crate::Override> = inputs
        .iter()
        .zip(u)
        .map(|((key, d), &p)| {
            crate::Override::parse(&format!("{key}={}", d.quantile(p)))
                .expect("a key path and a number")
        })
        .collect();
    let seed = (u[k] * 9_007_199_254_740_992.0) as u64;
    let Ok(s) = make(&overrides).and_then(|s| s.with_seed(seed).with_paths(1)) else {
        return f64::NAN;
    };
    match crate::runner::simulate(&s, &crate::runner::RunOptions::default()) {
        Ok(r) => r.scalar(metric).map_or(f64::NAN, |s| s.mean),
        Err(_) => f64::NAN,
    }
}

/// The names of a model's Sobol inputs: every uncertain assumption's key path, then
/// [`INTRINSIC_GROUP`] (the columns of an exported or imported sample matrix).
pub fn sobol_input_names(scenario: &crate::Scenario) -> Vec<String> {
    let mut names: Vec<String> = crate::model::Model::new(scenario)
        .uncertain_distributions()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    names.push(INTRINSIC_GROUP.to_string());
    names
}

/// The engine's Saltelli design for `inputs` inputs and `samples` base rows, in SALib's
/// `sobol.sample(..., calc_second_order=second_order)` order: for each row `j`, `A_j`,
/// then `A_B^i` for every input `i`, then (with `second_order`) `B_A^i` for every input,
/// then `B_j`: `samples (k + 2)` points, or `samples (2k + 2)`. SALib's `sobol.analyze`
/// reads the engine's evaluations of them.
///
/// # Errors
///
/// [`SobolError`] for no inputs, fewer than 2 samples or too many inputs.
///
/// # Examples
///
/// ```
/// use cloudcapex::sensitivity::sobol::saltelli_points;
/// assert_eq!(saltelli_points(3, 4, false).unwrap().len(), 4 * 5);
/// assert_eq!(saltelli_points(3, 4, true).unwrap().len(), 4 * 8);
/// ```
pub fn saltelli_points(
    inputs: usize,
    samples: usize,
    second_order: bool,
) -> Result<Vec<Vec<f64>>, SobolError> {
    if inputs == 0 || samples < 2 {
        return Err(SobolError::BadSetup);
    }
    let params = JoeKuoD6::minimal();
    if 2 * inputs > params.max_dims {
        return Err(SobolError::TooManyInputs(inputs, params.max_dims / 2));
    }
    let crossings = if second_order { 2 * inputs } else { inputs };
    let mut points = Vec::with_capacity(samples * (crossings + 2));
    for row in Sobol::<f64>::new(2 * inputs, &params).skip(1).take(samples) {
        let (a, b) = row.split_at(inputs);
        points.push(a.to_vec());
        let crossed = |base: &[f64], other: &[f64], i: usize| {
            let mut x = base.to_vec();
            x[i] = other[i];
            x
        };
        points.extend((0..inputs).map(|i| crossed(a, b, i)));
        if second_order {
            points.extend((0..inputs).map(|i| crossed(b, a, i)));
        }
        points.push(b.to_vec());
    }
    Ok(points)
}

/// One path's `metric` at each point (rows of quantile levels, the last column the
/// intrinsic-randomness coordinate), as in [`model_sobol`]; NaN where undefined.
///
/// # Errors
///
/// [`SensitivityError::NoUncertainInputs`] without uncertain inputs;
/// [`SensitivityError::Run`] if a point has the wrong number of columns or a value outside
/// [0, 1).
pub fn evaluate_points<F>(
    scenario: &crate::Scenario,
    make: F,
    metric: &str,
    points: &[Vec<f64>],
) -> Result<Vec<f64>, SensitivityError>
where
    F: Fn(&[crate::Override]) -> Result<crate::Scenario, crate::ScenarioError> + Sync,
{
    use rayon::prelude::*;
    let inputs = crate::model::Model::new(scenario).uncertain_distributions();
    if inputs.is_empty() {
        return Err(SensitivityError::NoUncertainInputs);
    }
    for (r, p) in points.iter().enumerate() {
        if p.len() != inputs.len() + 1 || p.iter().any(|x| !(0.0..1.0).contains(x)) {
            return Err(SensitivityError::Run(format!(
                "sample row {}: expected {} quantile levels in [0, 1) (the inputs, then {INTRINSIC_GROUP}), found {:?}",
                r + 1,
                inputs.len() + 1,
                p
            )));
        }
    }
    Ok(points
        .par_iter()
        .map(|u| point_value(&inputs, &make, metric, u))
        .collect())
}

impl ModelSobol {
    /// Writes `sobol.csv` (one row per input) and, when second-order indices were
    /// estimated, `sobol_second_order.csv` (one row per pair; otherwise an earlier one is
    /// removed) to `dir`, each through a temporary file; returns the path of `sobol.csv`.
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
        let indices = &self.indices;
        let provenance = format!(
            "{},{},{},{},{},{}",
            indices.samples,
            indices.evaluations,
            plain(indices.confidence),
            scenario.simulation().seed,
            scenario.sha256(),
            crate::output::CRATE_VERSION
        );
        let estimate =
            |e: Estimate| format!("{},{},{}", plain(e.value), plain(e.low), plain(e.high));
        if !indices.second_order.is_empty() {
            let mut text = String::from(
                "scenario,metric,input_1,input_2,second_order,second_order_low,second_order_high,samples,evaluations,confidence,seed,scenario_sha256,cloudcapex_version\n",
            );
            for pair in &indices.second_order {
                text.push_str(&format!(
                    "{},{},{},{},{},{provenance}\n",
                    scenario.name(),
                    self.metric,
                    self.inputs[pair.first],
                    self.inputs[pair.second],
                    estimate(pair.index)
                ));
            }
            crate::output::write_atomically(&dir.join("sobol_second_order.csv"), |out| {
                out.write_all(text.as_bytes())
            })?;
        } else {
            // An earlier --second-order run's file would contradict this sobol.csv.
            let stale = dir.join("sobol_second_order.csv");
            match std::fs::remove_file(&stale) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(crate::output::OutputError {
                        path: stale,
                        source: e,
                    });
                }
                _ => {}
            }
        }
        let mut text = String::from(
            "scenario,metric,input,first_order,first_order_low,first_order_high,total,total_low,total_high,samples,evaluations,confidence,seed,scenario_sha256,cloudcapex_version\n",
        );
        for (i, input) in self.inputs.iter().enumerate() {
            text.push_str(&format!(
                "{},{},{input},{},{},{provenance}\n",
                scenario.name(),
                self.metric,
                estimate(indices.first_order[i]),
                estimate(indices.total[i]),
            ));
        }
        crate::output::write_atomically(&dir.join("sobol.csv"), |out| {
            out.write_all(text.as_bytes())
        })
    }

    /// A readable table, largest total index first; with second-order indices, the
    /// largest pairs (at most 10) after it.
    pub fn table(&self) -> String {
        let indices = &self.indices;
        let mut order: Vec<usize> = (0..self.inputs.len()).collect();
        order.sort_by(|a, b| indices.total[*b].value.total_cmp(&indices.total[*a].value));
        let mut out = format!(
            "Sobol indices of one path's `{}` ({} evaluations; {}% bootstrap intervals)\n\n{:<52} {:>22} {:>22}\n",
            self.metric,
            indices.evaluations,
            crate::output::plain(indices.confidence * 100.0),
            "input",
            "first order",
            "total"
        );
        for i in order {
            let (f, t) = (indices.first_order[i], indices.total[i]);
            out.push_str(&format!(
                "{:<52} {:>6.3} [{:>6.3}, {:>6.3}] {:>6.3} [{:>6.3}, {:>6.3}]\n",
                self.inputs[i], f.value, f.low, f.high, t.value, t.low, t.high
            ));
        }
        if !indices.second_order.is_empty() {
            let mut pairs: Vec<&PairIndex> = indices.second_order.iter().collect();
            pairs.sort_by(|a, b| b.index.value.total_cmp(&a.index.value));
            out.push_str(&format!(
                "\nLargest second-order indices ({} pairs in sobol_second_order.csv)\n\n",
                pairs.len()
            ));
            for pair in pairs.into_iter().take(10) {
                let e = pair.index;
                out.push_str(&format!(
                    "{:<75} {:>6.3} [{:>6.3}, {:>6.3}]\n",
                    format!("{} × {}", self.inputs[pair.first], self.inputs[pair.second]),
                    e.value,
                    e.low,
                    e.high
                ));
            }
        }
        out
    }
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

    /// Sobol' G function, a = (0, 1, 4.5, 9, 99, 99): `V_i = (1/3) / (1 + a_i)²`,
    /// `V = Π (1 + V_i) − 1`, no-effect-like inputs at a = 99. Each analytic index lies in
    /// the estimate's bootstrap interval, with both first-order estimators.
    #[test]
    fn g_function_indices_match_the_analytic_values() {
        let a = [0.0, 1.0, 4.5, 9.0, 99.0, 99.0];
        let g = |u: &[f64]| {
            u.iter()
                .zip(&a)
                .map(|(x, a)| ((4.0 * x - 2.0).abs() + a) / (1.0 + a))
                .product::<f64>()
        };
        let partial: Vec<f64> = a.iter().map(|a| 1.0 / 3.0 / (1.0 + a).powi(2)).collect();
        let variance = partial.iter().map(|v| 1.0 + v).product::<f64>() - 1.0;
        for estimator in [
            FirstOrderEstimator::Saltelli2010,
            FirstOrderEstimator::Jansen1999,
        ] {
            let s = sobol_indices_with(g, 6, 1 << 14, 300, 0.99, 11, estimator).unwrap();
            for i in 0..6 {
                let first = partial[i] / variance;
                let total = partial[i]
                    * partial
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, v)| 1.0 + v)
                        .product::<f64>()
                    / variance;
                let (f, t) = (s.first_order[i], s.total[i]);
                assert!(
                    f.low <= first && first <= f.high,
                    "{estimator:?} S{i}: {f:?} vs {first}"
                );
                assert!(t.low <= total && total <= t.high, "ST{i}: {t:?} vs {total}");
            }
        }
    }

    /// Second-order indices of the Ishigami function (only x1 × x3 interacts:
    /// `S_13 = V_13 / V`) and of the G function (`V_ij = V_i V_j`) lie in their bootstrap
    /// intervals, with the first-order and total indices unchanged by asking for them.
    #[test]
    fn second_order_indices_match_the_analytic_values() {
        let (a, b) = (7.0f64, 0.1f64);
        let ishigami = |u: &[f64]| {
            let x: Vec<f64> = u.iter().map(|u| -PI + 2.0 * PI * u).collect();
            x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
        };
        let variance = a * a / 8.0 + b * PI.powi(4) / 5.0 + b * b * PI.powi(8) / 18.0 + 0.5;
        let s13 = 8.0 * b * b * PI.powi(8) / 225.0 / variance;
        let options = SobolOptions::default()
            .bootstrap(300)
            .confidence(0.99)
            .unwrap()
            .seed(7);
        let with = sobol_analysis(ishigami, 3, 1 << 14, &options.second_order(true)).unwrap();
        let without = sobol_analysis(ishigami, 3, 1 << 14, &options).unwrap();
        assert_eq!(with.first_order, without.first_order);
        assert_eq!(with.total, without.total);
        assert!(without.second_order.is_empty());
        assert_eq!(with.evaluations, (1 << 14) * 8);
        let pairs: Vec<(usize, usize)> = with
            .second_order
            .iter()
            .map(|p| (p.first, p.second))
            .collect();
        assert_eq!(pairs, [(0, 1), (0, 2), (1, 2)]);
        for (pair, analytic) in with.second_order.iter().zip([0.0, s13, 0.0]) {
            let e = pair.index;
            assert!(
                e.low <= analytic && analytic <= e.high && e.high - e.low < 0.1,
                "S{}{}: {e:?} vs analytic {analytic}",
                pair.first + 1,
                pair.second + 1
            );
        }

        let a = [0.0, 1.0, 4.5, 9.0];
        let g = |u: &[f64]| {
            u.iter()
                .zip(&a)
                .map(|(x, a)| ((4.0 * x - 2.0).abs() + a) / (1.0 + a))
                .product::<f64>()
        };
        let partial: Vec<f64> = a.iter().map(|a| 1.0 / 3.0 / (1.0 + a).powi(2)).collect();
        let variance = partial.iter().map(|v| 1.0 + v).product::<f64>() - 1.0;
        let s = sobol_analysis(g, 4, 1 << 14, &options.seed(11).second_order(true)).unwrap();
        assert_eq!(s.second_order.len(), 6);
        for pair in &s.second_order {
            let analytic = partial[pair.first] * partial[pair.second] / variance;
            let e = pair.index;
            assert!(
                e.low <= analytic && analytic <= e.high,
                "G S{}{}: {e:?} vs analytic {analytic}",
                pair.first,
                pair.second
            );
        }
    }

    /// An input without effect gets exactly 0 from Saltelli's estimator, and the first-order
    /// indices of an additive function sum to 1 within their intervals.
    #[test]
    fn an_input_without_effect_gets_zero() {
        let s = sobol_indices(|u| u[0] + 2.0 * u[1], 3, 1024, 100, 0.95, 3).unwrap();
        assert_eq!(s.first_order[2].value, 0.0);
        assert_eq!(s.total[2].value, 0.0);
        let sum: f64 = s.first_order.iter().map(|e| e.value).sum();
        assert!((sum - 1.0).abs() < 0.03, "{sum}");
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
