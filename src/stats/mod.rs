//! Statistics of simulated values: streaming moments and quantile sketches for
//! quarterly metrics (memory independent of the path count), exact quantiles for
//! per-path scalar metrics.

mod moments;
pub mod scoring;
mod sketch;

pub use moments::Moments;
pub use sketch::{BlockSketch, QuantileSketch, RELATIVE_ACCURACY, ZERO_THRESHOLD};

/// Quantile levels reported in every output: p1, p5, p10, p25, p50, p75, p90, p95, p99.
pub const QUANTILE_LEVELS: [f64; 9] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

/// Column names of [`QUANTILE_LEVELS`].
pub const QUANTILE_NAMES: [&str; 9] = ["p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99"];

/// Exact quantile of sorted values, linear interpolation between order statistics
/// (type 7 of Hyndman and Fan; the default of NumPy, pandas and polars' `linear`).
///
/// # Panics
///
/// If `sorted` is empty.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::exact_quantile;
/// assert_eq!(exact_quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
/// assert_eq!(exact_quantile(&[1.0, 2.0, 3.0, 4.0], 0.1), 1.3);
/// ```
pub fn exact_quantile(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of no values");
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    sorted[lo] + (rank - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The statistics reported for one metric (one quarter of a quarterly metric, or one
/// per-path scalar).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Number of paths.
    pub count: u64,
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation across paths.
    pub sd: f64,
    /// Monte Carlo standard error of the mean, `sd / sqrt(count)`.
    pub se: f64,
    /// Values at [`QUANTILE_LEVELS`].
    pub quantiles: [f64; 9],
}

impl Summary {
    /// Summary of a quarterly metric from its streamed moments and sketch (`None` when no
    /// path defines the metric in that quarter).
    pub fn from_stream(moments: &Moments, sketch: &QuantileSketch) -> Option<Self> {
        if moments.count() == 0 {
            return None;
        }
        Some(Self {
            count: moments.count(),
            mean: moments.mean(),
            sd: moments.sd(),
            se: moments.standard_error(),
            quantiles: sketch
                .quantiles(QUANTILE_LEVELS)
                .expect("sketch has values"),
        })
    }

    /// [`from_stream`](Self::from_stream) for antithetic pairs: the standard error comes
    /// from `pairs`, the moments of the pair averages (paths within a pair are not
    /// independent), `se = sd(pair means) / sqrt(pairs)`.
    pub fn from_stream_paired(
        moments: &Moments,
        pairs: &Moments,
        sketch: &QuantileSketch,
    ) -> Option<Self> {
        let mut summary = Self::from_stream(moments, sketch)?;
        summary.se = if pairs.count() >= 2 {
            pairs.standard_error()
        } else {
            f64::NAN
        };
        Some(summary)
    }

    /// Summary of per-path values with exact quantiles (`None` when no value is defined;
    /// NaN marks an undefined value). Values are taken in path order for the moments, so
    /// the result is deterministic.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::stats::Summary;
    /// let s = Summary::exact(&[4.0, 1.0, 3.0, 2.0]).unwrap();
    /// assert_eq!(s.mean, 2.5);
    /// assert_eq!(s.quantiles[4], 2.5); // p50
    /// ```
    pub fn exact(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        sorted.sort_unstable_by(f64::total_cmp);
        Self::exact_with_sorted(values, &sorted)
    }

    /// [`exact`](Self::exact) when the caller already has the defined values sorted;
    /// `values` in path order, where NaN (undefined) is skipped.
    fn exact_with_sorted(values: &[f64], sorted: &[f64]) -> Option<Self> {
        if sorted.is_empty() {
            return None;
        }
        let mut moments = Moments::default();
        values
            .iter()
            .filter(|x| !x.is_nan())
            .for_each(|&x| moments.push(x));
        Some(Self {
            count: moments.count(),
            mean: moments.mean(),
            sd: moments.sd(),
            se: moments.standard_error(),
            quantiles: QUANTILE_LEVELS.map(|q| exact_quantile(sorted, q)),
        })
    }
}

/// Level of the tail whose mean is reported as CVaR (the worst 5% of paths).
pub const CVAR_LEVEL: f64 = 0.05;

/// Statistics of a per-path scalar metric: exact [`Summary`] of the paths where it is
/// defined, how many paths it is undefined on, the probability of a negative value and
/// the mean of the lowest 5% (CVaR 5%), each with its Monte Carlo standard error.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalarSummary {
    /// Summary over defined values (`None` if no path defines the metric).
    pub summary: Option<Summary>,
    /// Paths where the metric is undefined (e.g. no unique IRR, never paid back).
    pub missing: u64,
    /// Share of defined values below 0.
    pub prob_negative: f64,
    /// Its standard error, `sqrt(p (1 - p) / n)`.
    pub prob_negative_se: f64,
    /// Mean of the lowest `ceil(0.05 n)` defined values.
    pub cvar5: f64,
    /// Its asymptotic standard error, `sqrt((s²_tail + (1 - α)(CVaR - VaR)²) / (α n))`.
    pub cvar5_se: f64,
    /// With antithetic pairs: `(sd/√n)² / se²`, how much pairing shrank the variance of the
    /// mean against independent paths. NaN otherwise.
    pub se_reduction_factor: f64,
    /// `true` when the quantiles and CVaR are exact (the metric is kept per path);
    /// `false` when they come from a quantile sketch (within its stated bound).
    pub exact: bool,
}

impl ScalarSummary {
    /// A metric no path defines: `missing` paths, every statistic NaN.
    fn undefined(missing: u64, exact: bool) -> Self {
        Self {
            summary: None,
            missing,
            prob_negative: f64::NAN,
            prob_negative_se: f64::NAN,
            cvar5: f64::NAN,
            cvar5_se: f64::NAN,
            se_reduction_factor: f64::NAN,
            exact,
        }
    }

    /// Statistics of per-path values in path order; NaN marks an undefined value.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::stats::ScalarSummary;
    /// let values: Vec<f64> = (0..100).map(|i| i as f64 - 10.0).chain([f64::NAN]).collect();
    /// let s = ScalarSummary::from_values(&values);
    /// assert_eq!(s.missing, 1);
    /// assert_eq!(s.prob_negative, 0.10);
    /// assert_eq!(s.cvar5, -8.0); // mean of -10, -9, -8, -7, -6
    /// ```
    pub fn from_values(values: &[f64]) -> Self {
        // One sorted copy of the defined values: the only memory beyond the values.
        let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        let missing = (values.len() - sorted.len()) as u64;
        sorted.sort_unstable_by(f64::total_cmp);
        let Some(summary) = Summary::exact_with_sorted(values, &sorted) else {
            return Self::undefined(missing, true);
        };
        let n = sorted.len() as f64;
        let p = sorted.partition_point(|x| *x < 0.0) as f64 / n;
        let k = ((CVAR_LEVEL * n).ceil() as usize).clamp(1, sorted.len());
        let mut tail = Moments::default();
        sorted[..k].iter().for_each(|&x| tail.push(x));
        let value_at_risk = sorted[k - 1];
        let tail_variance = if k > 1 { tail.variance() } else { 0.0 };
        let cvar5_se = cvar_standard_error(tail_variance, tail.mean(), value_at_risk, n);
        Self {
            summary: Some(summary),
            missing,
            prob_negative: p,
            prob_negative_se: (p * (1.0 - p) / n).sqrt(),
            cvar5: tail.mean(),
            cvar5_se,
            se_reduction_factor: f64::NAN,
            exact: true,
        }
    }

    /// [`from_values`](Self::from_values) for antithetic pairs `(2j, 2j + 1)`: the mean's
    /// and P(< 0)'s standard errors come from the pairs where both values are defined, and
    /// `se_reduction_factor` says how much pairing helped. (The CVaR's standard error keeps
    /// its independent-paths formula.)
    pub fn from_paired_values(values: &[f64]) -> Self {
        let mut stats = Self::from_values(values);
        let Some(summary) = stats.summary.as_mut() else {
            return stats;
        };
        let (mut means, mut negatives, mut singles) =
            (Moments::default(), Moments::default(), Moments::default());
        for pair in values.chunks_exact(2) {
            if pair.iter().all(|x| !x.is_nan()) {
                means.push(0.5 * (pair[0] + pair[1]));
                negatives.push(
                    0.5 * (f64::from(u8::from(pair[0] < 0.0)) + f64::from(u8::from(pair[1] < 0.0))),
                );
                singles.push(pair[0]);
                singles.push(pair[1]);
            }
        }
        if means.count() >= 2 {
            summary.se = means.standard_error();
            stats.prob_negative_se = negatives.standard_error();
            // The same complete pairs, as if their paths were independent.
            let independent_se = singles.standard_error();
            stats.se_reduction_factor = (independent_se / summary.se).powi(2);
        }
        stats
    }
}

/// Streaming statistics of a per-path scalar metric that is not kept per path: moments,
/// a quantile sketch, exact counts of undefined and negative values and, with antithetic
/// pairs, the moments of pair averages. Memory does not grow with the path count.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::{ScalarSummary, StreamedScalar};
/// let mut streamed = StreamedScalar::default();
/// for i in 0..100 { streamed.push(i as f64 - 10.0); }
/// streamed.push(f64::NAN);
/// let s = ScalarSummary::from_stream(&streamed, false);
/// assert_eq!(s.missing, 1);
/// assert_eq!(s.prob_negative, 0.10);
/// assert!((s.cvar5 - -8.0).abs() <= 0.005 * 10.0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StreamedScalar {
    moments: Moments,
    sketch: QuantileSketch,
    missing: u64,
    negatives: u64,
    pair_means: Moments,
    pair_negatives: Moments,
    pair_singles: Moments,
}

impl StreamedScalar {
    /// Adds one path's value; NaN counts as undefined.
    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            self.missing += 1;
            return;
        }
        self.moments.push(x);
        self.sketch.push(x);
        self.negatives += u64::from(x < 0.0);
    }

    /// Records an antithetic pair `(2j, 2j + 1)` (both already [`push`](Self::push)ed);
    /// pairs with an undefined value are left out, as in
    /// [`ScalarSummary::from_paired_values`].
    pub fn push_pair(&mut self, first: f64, second: f64) {
        if first.is_nan() || second.is_nan() {
            return;
        }
        let negative = |x: f64| f64::from(u8::from(x < 0.0));
        self.pair_means.push(0.5 * (first + second));
        self.pair_negatives
            .push(0.5 * (negative(first) + negative(second)));
        self.pair_singles.push(first);
        self.pair_singles.push(second);
    }

    /// Adds the statistics of later paths.
    pub fn merge(&mut self, other: &StreamedScalar) {
        self.moments.merge(&other.moments);
        self.sketch.merge(&other.sketch);
        self.missing += other.missing;
        self.negatives += other.negatives;
        self.pair_means.merge(&other.pair_means);
        self.pair_negatives.merge(&other.pair_negatives);
        self.pair_singles.merge(&other.pair_singles);
    }

    /// Moments of the defined values.
    pub fn moments(&self) -> &Moments {
        &self.moments
    }

    /// The parts of [`merge`](Self::merge) whose result depends on merge order (floating
    /// point moments): the moments, then the three pair moments.
    pub(crate) fn ordered_parts(&self) -> [Moments; 4] {
        [
            self.moments,
            self.pair_means,
            self.pair_negatives,
            self.pair_singles,
        ]
    }

    /// [`merge`](Self::merge) of the order-dependent parts alone (see
    /// [`ordered_parts`](Self::ordered_parts)).
    pub(crate) fn merge_ordered_parts(&mut self, parts: &[Moments; 4]) {
        self.moments.merge(&parts[0]);
        self.pair_means.merge(&parts[1]);
        self.pair_negatives.merge(&parts[2]);
        self.pair_singles.merge(&parts[3]);
    }

    /// [`merge`](Self::merge) of the exact parts alone (sketch and counts), which give the
    /// same result in any order or grouping.
    pub(crate) fn merge_exact_parts(&mut self, other: &StreamedScalar) {
        self.sketch.merge(&other.sketch);
        self.missing += other.missing;
        self.negatives += other.negatives;
    }
}

impl ScalarSummary {
    /// Statistics of a streamed scalar: quantiles from its sketch (within the sketch's
    /// stated bound), P(value < 0) exact, CVaR 5% from the sketch's lowest buckets (each
    /// value within relative error [`RELATIVE_ACCURACY`]). With `paired`, standard errors
    /// come from antithetic pair averages as in
    /// [`from_paired_values`](Self::from_paired_values).
    pub fn from_stream(streamed: &StreamedScalar, paired: bool) -> Self {
        let Some(mut summary) = Summary::from_stream(&streamed.moments, &streamed.sketch) else {
            return Self::undefined(streamed.missing, false);
        };
        let n = streamed.moments.count() as f64;
        let p = streamed.negatives as f64 / n;
        let k = ((CVAR_LEVEL * n).ceil() as u64).clamp(1, streamed.moments.count());
        let (tail_mean, tail_variance, value_at_risk) =
            streamed.sketch.lowest(k).expect("1 <= k <= count");
        let mut stats = Self {
            missing: streamed.missing,
            prob_negative: p,
            prob_negative_se: (p * (1.0 - p) / n).sqrt(),
            cvar5: tail_mean,
            cvar5_se: cvar_standard_error(tail_variance, tail_mean, value_at_risk, n),
            se_reduction_factor: f64::NAN,
            exact: false,
            summary: None,
        };
        if paired && streamed.pair_means.count() >= 2 {
            summary.se = streamed.pair_means.standard_error();
            stats.prob_negative_se = streamed.pair_negatives.standard_error();
            stats.se_reduction_factor =
                (streamed.pair_singles.standard_error() / summary.se).powi(2);
        }
        stats.summary = Some(summary);
        stats
    }
}

/// Asymptotic standard error of CVaR at [`CVAR_LEVEL`] over `n` values:
/// `sqrt((s²_tail + (1 - α)(CVaR - VaR)²) / (α n))`.
fn cvar_standard_error(tail_variance: f64, cvar: f64, value_at_risk: f64, n: f64) -> f64 {
    ((tail_variance + (1.0 - CVAR_LEVEL) * (cvar - value_at_risk).powi(2)) / (CVAR_LEVEL * n))
        .sqrt()
}
