//! Statistics of simulated values: streaming moments and quantile sketches for
//! quarterly metrics (memory independent of the path count), exact quantiles for
//! per-path scalar metrics.

mod moments;
pub mod regression;
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
    /// and P(< 0)'s standard errors treat each pair as a cluster (see
    /// [`paired_standard_error`]), and `se_reduction_factor` says how much pairing helped.
    /// (The CVaR's standard error keeps its independent-paths formula.)
    pub fn from_paired_values(values: &[f64]) -> Self {
        let mut stats = Self::from_values(values);
        let mut pairs = PairStatistics::default();
        for pair in values.chunks_exact(2) {
            pairs.push_pair(pair[0], pair[1]);
        }
        pairs.apply(&mut stats);
        stats
    }
}

/// Standard error of the mean `mean` of every defined value of a metric whose paths come
/// in antithetic pairs, when some pairs have one defined value or none: each pair with a
/// defined value is a cluster `j` with `c_j` (1 or 2) defined values summing to `S_j`;
/// with `n = Σ c_j` and `J` clusters, the ratio estimator's (linearisation) variance is
/// `Var(mean) ≈ J / (J − 1) · Σ_j (S_j − mean · c_j)² / n²`. `pairs` holds the moments of
/// the complete pairs' averages, `lone` those of the values whose partner is undefined.
/// With every pair complete it is the pair-average standard error
/// `sd(pair means) / √pairs`; with none complete, the independent-paths `sd / √n`. NaN
/// with fewer than two clusters.
pub(crate) fn paired_standard_error(mean: f64, pairs: &Moments, lone: &Moments) -> f64 {
    let clusters = pairs.count() + lone.count();
    if clusters < 2 {
        return f64::NAN;
    }
    let n = (2 * pairs.count() + lone.count()) as f64;
    // Σ_j (S_j − mean · c_j)², from each kind of cluster's moments: a complete pair's
    // `S_j − 2 mean` is twice its average's deviation.
    let mut residuals = 0.0;
    if pairs.count() > 0 {
        let shift = pairs.mean() - mean;
        residuals += 4.0 * (pairs.sum_squared_deviations() + pairs.count() as f64 * shift * shift);
    }
    if lone.count() > 0 {
        let shift = lone.mean() - mean;
        residuals += lone.sum_squared_deviations() + lone.count() as f64 * shift * shift;
    }
    let clusters = clusters as f64;
    (clusters / (clusters - 1.0) * residuals).sqrt() / n
}

/// A per-path metric's antithetic pairs `(2j, 2j + 1)`: moments of the complete pairs'
/// averages (of the values and of the indicator of a negative value), of their values
/// as if independent, and of the values whose partner is undefined.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct PairStatistics {
    means: Moments,
    negatives: Moments,
    singles: Moments,
    lone: Moments,
    lone_negatives: u64,
}

impl PairStatistics {
    fn push_pair(&mut self, first: f64, second: f64) {
        let negative = |x: f64| f64::from(u8::from(x < 0.0));
        match (first.is_nan(), second.is_nan()) {
            (false, false) => {
                self.means.push(0.5 * (first + second));
                self.negatives
                    .push(0.5 * (negative(first) + negative(second)));
                self.singles.push(first);
                self.singles.push(second);
            }
            (false, true) | (true, false) => {
                let x = if first.is_nan() { second } else { first };
                self.lone.push(x);
                self.lone_negatives += u64::from(x < 0.0);
            }
            (true, true) => {}
        }
    }

    /// Sets the standard errors of the mean and of P(< 0), and `se_reduction_factor`, of
    /// `stats` (computed as for independent paths) from the pairs.
    fn apply(&self, stats: &mut ScalarSummary) {
        let Some(summary) = stats.summary.as_mut() else {
            return;
        };
        if self.lone.count() == 0 {
            // Every defined value has its partner: the pair-average standard errors, to
            // which the clustered estimator reduces, computed from the pair averages.
            if self.means.count() >= 2 {
                summary.se = self.means.standard_error();
                stats.prob_negative_se = self.negatives.standard_error();
                // The same complete pairs, as if their paths were independent.
                stats.se_reduction_factor = (self.singles.standard_error() / summary.se).powi(2);
            }
            return;
        }
        let se = paired_standard_error(summary.mean, &self.means, &self.lone);
        if se.is_nan() {
            return;
        }
        // `summary.se` is still the independent-paths `sd / √n` of every defined value.
        stats.se_reduction_factor = (summary.se / se).powi(2);
        summary.se = se;
        let mut lone_negatives = Moments::default();
        lone_negatives.push_repeated(1.0, self.lone_negatives);
        lone_negatives.push_repeated(0.0, self.lone.count() - self.lone_negatives);
        stats.prob_negative_se =
            paired_standard_error(stats.prob_negative, &self.negatives, &lone_negatives);
    }

    fn merge(&mut self, other: &PairStatistics) {
        self.means.merge(&other.means);
        self.negatives.merge(&other.negatives);
        self.singles.merge(&other.singles);
        self.lone.merge(&other.lone);
        self.lone_negatives += other.lone_negatives;
    }
}

/// Streaming statistics of a per-path scalar metric that is not kept per path: moments,
/// a quantile sketch, exact counts of undefined and negative values and, with antithetic
/// pairs, the moments of complete pairs' averages and of values whose partner is
/// undefined. Memory does not grow with the path count.
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
    pairs: PairStatistics,
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

    /// Records an antithetic pair `(2j, 2j + 1)` (both already [`push`](Self::push)ed),
    /// as in [`ScalarSummary::from_paired_values`]: a pair with one undefined value counts
    /// with its defined one alone, a pair with none is left out.
    pub fn push_pair(&mut self, first: f64, second: f64) {
        self.pairs.push_pair(first, second);
    }

    /// Adds the statistics of later paths.
    pub fn merge(&mut self, other: &StreamedScalar) {
        self.moments.merge(&other.moments);
        self.sketch.merge(&other.sketch);
        self.missing += other.missing;
        self.negatives += other.negatives;
        self.pairs.merge(&other.pairs);
    }

    /// Moments of the defined values.
    pub fn moments(&self) -> &Moments {
        &self.moments
    }

    /// What the standard error of the mean of the defined values needs, with or without
    /// antithetic pairs (for the stopping rule).
    pub(crate) fn mean_moments(&self, paired: bool) -> MeanMoments {
        MeanMoments {
            values: self.moments,
            pairs: self.pairs.means,
            lone: self.pairs.lone,
            paired,
        }
    }

    /// The parts of [`merge`](Self::merge) whose result depends on merge order (floating
    /// point moments): the moments, then the four pair moments.
    pub(crate) fn ordered_parts(&self) -> [Moments; 5] {
        [
            self.moments,
            self.pairs.means,
            self.pairs.negatives,
            self.pairs.singles,
            self.pairs.lone,
        ]
    }

    /// [`merge`](Self::merge) of the order-dependent parts alone (see
    /// [`ordered_parts`](Self::ordered_parts)).
    pub(crate) fn merge_ordered_parts(&mut self, parts: &[Moments; 5]) {
        self.moments.merge(&parts[0]);
        self.pairs.means.merge(&parts[1]);
        self.pairs.negatives.merge(&parts[2]);
        self.pairs.singles.merge(&parts[3]);
        self.pairs.lone.merge(&parts[4]);
    }

    /// [`merge`](Self::merge) of the exact parts alone (sketch and counts), which give the
    /// same result in any order or grouping.
    pub(crate) fn merge_exact_parts(&mut self, other: &StreamedScalar) {
        self.sketch.merge(&other.sketch);
        self.missing += other.missing;
        self.negatives += other.negatives;
        self.pairs.lone_negatives += other.pairs.lone_negatives;
    }
}

impl ScalarSummary {
    /// Statistics of a streamed scalar: quantiles from its sketch (within the sketch's
    /// stated bound), P(value < 0) exact, CVaR 5% from the sketch's lowest buckets (each
    /// value within relative error [`RELATIVE_ACCURACY`]). With `paired`, standard errors
    /// treat antithetic pairs as clusters as in
    /// [`from_paired_values`](Self::from_paired_values).
    pub fn from_stream(streamed: &StreamedScalar, paired: bool) -> Self {
        let Some(summary) = Summary::from_stream(&streamed.moments, &streamed.sketch) else {
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
            summary: Some(summary),
        };
        if paired {
            streamed.pairs.apply(&mut stats);
        }
        stats
    }
}

/// Running moments of a per-path metric's defined values and, with antithetic pairs, of
/// its complete pairs' averages and of its values whose partner is undefined: the
/// standard error of its mean, merged block by block (the stopping rule's).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct MeanMoments {
    values: Moments,
    pairs: Moments,
    lone: Moments,
    paired: bool,
}

impl MeanMoments {
    /// Of per-path values in path order (NaN: undefined), paths `(2j, 2j + 1)` paired if
    /// `paired`.
    pub(crate) fn from_values(values: &[f64], paired: bool) -> Self {
        let mut moments = Self {
            paired,
            ..Self::default()
        };
        values
            .iter()
            .filter(|x| !x.is_nan())
            .for_each(|&x| moments.values.push(x));
        if paired {
            for pair in values.chunks_exact(2) {
                match (pair[0].is_nan(), pair[1].is_nan()) {
                    (false, false) => moments.pairs.push(0.5 * (pair[0] + pair[1])),
                    (false, true) => moments.lone.push(pair[0]),
                    (true, false) => moments.lone.push(pair[1]),
                    (true, true) => {}
                }
            }
        }
        moments
    }

    /// Adds the moments of later paths.
    pub(crate) fn merge(&mut self, other: &MeanMoments) {
        self.values.merge(&other.values);
        self.pairs.merge(&other.pairs);
        self.lone.merge(&other.lone);
        self.paired |= other.paired;
    }

    /// Standard error of the mean of the defined values: `sd / √n`, or with pairs the
    /// clustered [`paired_standard_error`] (the pair-average one when every defined value
    /// has its partner), as [`ScalarSummary`] reports it.
    pub(crate) fn standard_error(&self) -> f64 {
        if !self.paired {
            self.values.standard_error()
        } else if self.lone.count() == 0 {
            if self.pairs.count() >= 2 {
                self.pairs.standard_error()
            } else {
                self.values.standard_error()
            }
        } else {
            paired_standard_error(self.values.mean(), &self.pairs, &self.lone)
        }
    }
}

/// Asymptotic standard error of CVaR at [`CVAR_LEVEL`] over `n` values:
/// `sqrt((s²_tail + (1 - α)(CVaR - VaR)²) / (α n))`.
fn cvar_standard_error(tail_variance: f64, cvar: f64, value_at_risk: f64, n: f64) -> f64 {
    ((tail_variance + (1.0 - CVAR_LEVEL) * (cvar - value_at_risk).powi(2)) / (CVAR_LEVEL * n))
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values in pairs `(2j, 2j + 1)`, some undefined: a deterministic mix of complete
    /// pairs, pairs with one value and empty pairs.
    fn mixed_pairs(pairs: usize) -> Vec<f64> {
        (0..pairs)
            .flat_map(|j| {
                let a = ((j * 37 % 101) as f64).sin() * 10.0 + 3.0;
                let b = -0.6 * a + ((j * 53 % 97) as f64).cos() * 4.0;
                match j % 5 {
                    0 => [a, f64::NAN],
                    1 => [f64::NAN, b],
                    2 => [f64::NAN, f64::NAN],
                    _ => [a, b],
                }
            })
            .collect()
    }

    /// The clustered variance written out: `J / (J − 1) Σ_j (S_j − m c_j)² / n²`.
    fn clustered_se_by_definition(values: &[f64]) -> f64 {
        let defined: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        let n = defined.len() as f64;
        let mean = defined.iter().sum::<f64>() / n;
        let (mut residuals, mut clusters) = (0.0, 0.0);
        for pair in values.chunks_exact(2) {
            let (count, sum) = pair
                .iter()
                .filter(|x| !x.is_nan())
                .fold((0.0, 0.0), |(c, s), &x| (c + 1.0, s + x));
            if count > 0.0 {
                residuals += (sum - mean * count).powi(2);
                clusters += 1.0;
            }
        }
        (clusters / (clusters - 1.0) * residuals).sqrt() / n
    }

    #[test]
    fn paired_standard_error_is_the_pair_average_one_when_every_pair_is_complete() {
        let values: Vec<f64> = mixed_pairs(400)
            .chunks_exact(2)
            .filter(|p| p.iter().all(|x| !x.is_nan()))
            .flatten()
            .copied()
            .collect();
        let (mut all, mut pairs) = (Moments::default(), Moments::default());
        values.iter().for_each(|&x| all.push(x));
        values
            .chunks_exact(2)
            .for_each(|p| pairs.push(0.5 * (p[0] + p[1])));
        let clustered = paired_standard_error(all.mean(), &pairs, &Moments::default());
        assert!((clustered - pairs.standard_error()).abs() <= 1e-12 * clustered);
        // The summaries report exactly the pair-average standard error there.
        let stats = ScalarSummary::from_paired_values(&values);
        assert_eq!(stats.summary.unwrap().se, pairs.standard_error());
    }

    #[test]
    fn paired_standard_error_is_the_independent_one_when_no_pair_is_complete() {
        let values: Vec<f64> = mixed_pairs(400)
            .chunks_exact(2)
            .map(|p| [p[0], f64::NAN])
            .filter(|p| !p[0].is_nan())
            .flatten()
            .collect();
        let mut lone = Moments::default();
        values
            .iter()
            .filter(|x| !x.is_nan())
            .for_each(|&x| lone.push(x));
        let clustered = paired_standard_error(lone.mean(), &Moments::default(), &lone);
        assert!((clustered - lone.standard_error()).abs() <= 1e-12 * clustered);
        let stats = ScalarSummary::from_paired_values(&values);
        let iid = ScalarSummary::from_values(&values);
        let (paired, independent) = (stats.summary.unwrap(), iid.summary.unwrap());
        assert!((paired.se - independent.se).abs() <= 1e-12 * independent.se);
        assert!((stats.se_reduction_factor - 1.0).abs() <= 1e-12);
        // For P(< 0) the independent formula `√(p (1 − p) / n)` has no `n / (n − 1)`.
        let n = independent.count as f64;
        let unbiased = iid.prob_negative_se * (n / (n - 1.0)).sqrt();
        assert!((stats.prob_negative_se - unbiased).abs() <= 1e-12 * unbiased);
    }

    /// With a mix of complete, half and empty pairs: the formula written out, for the
    /// exact summary, the streamed one (merged from two halves) and the stopping rule's
    /// moments alike; the reduction factor is the independent variance over it.
    #[test]
    fn paired_standard_error_with_undefined_values_is_the_clustered_one() {
        let values = mixed_pairs(1000);
        let expected = clustered_se_by_definition(&values);
        let exact = ScalarSummary::from_paired_values(&values);
        let (mut first, mut second) = (StreamedScalar::default(), StreamedScalar::default());
        for (j, pair) in values.chunks_exact(2).enumerate() {
            let half = if j < 300 { &mut first } else { &mut second };
            half.push(pair[0]);
            half.push(pair[1]);
            half.push_pair(pair[0], pair[1]);
        }
        first.merge(&second);
        let streamed = ScalarSummary::from_stream(&first, true);
        let rule = MeanMoments::from_values(&values, true);
        for se in [
            exact.summary.as_ref().unwrap().se,
            streamed.summary.as_ref().unwrap().se,
            rule.standard_error(),
        ] {
            assert!(
                (se - expected).abs() <= 1e-12 * expected,
                "{se} vs {expected}"
            );
        }
        let independent = ScalarSummary::from_values(&values).summary.unwrap().se;
        let factor = (independent / expected).powi(2);
        assert!((exact.se_reduction_factor - factor).abs() <= 1e-9 * factor);
        assert!((streamed.se_reduction_factor - factor).abs() <= 1e-9 * factor);
        // P(< 0)'s standard error is the same estimator on the indicator.
        let indicator: Vec<f64> = values
            .iter()
            .map(|&x| {
                if x.is_nan() {
                    x
                } else {
                    f64::from(u8::from(x < 0.0))
                }
            })
            .collect();
        let expected = clustered_se_by_definition(&indicator);
        assert!((exact.prob_negative_se - expected).abs() <= 1e-12 * expected);
        assert!((streamed.prob_negative_se - expected).abs() <= 1e-12 * expected);
    }
}
