//! Statistics of simulated values: streaming moments and quantile sketches for
//! quarterly metrics (memory independent of the path count), exact quantiles for
//! per-path scalar metrics.

mod moments;
mod sketch;

pub use moments::Moments;
pub use sketch::{QuantileSketch, RELATIVE_ACCURACY, ZERO_THRESHOLD};

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
            quantiles: QUANTILE_LEVELS.map(|q| sketch.quantile(q).expect("sketch has values")),
        })
    }

    /// Summary of per-path values with exact quantiles (`None` when empty). Values are
    /// taken in path order for the moments, so the result is deterministic.
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
        if values.is_empty() {
            return None;
        }
        let mut moments = Moments::default();
        values.iter().for_each(|&x| moments.push(x));
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        Some(Self {
            count: moments.count(),
            mean: moments.mean(),
            sd: moments.sd(),
            se: moments.standard_error(),
            quantiles: QUANTILE_LEVELS.map(|q| exact_quantile(&sorted, q)),
        })
    }
}
