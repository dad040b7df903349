//! A mergeable quantile sketch with a relative-error guarantee (DDSketch).
//!
//! Values are counted in logarithmic buckets `(gamma^(i-1), gamma^i]` with
//! `gamma = (1 + alpha) / (1 - alpha)`; a bucket is represented by `2 gamma^i / (gamma + 1)`,
//! which is within relative error `alpha` of every value in it. Negative values use a
//! mirrored set of buckets; values with `|x| < ZERO_THRESHOLD` are counted as zero.
//! Counts are integers, so merging is exact and independent of order.
//!
//! **Guarantee.** For a quantile level `q` over `n` values, let `r = q (n - 1)` and let
//! `x_lo`, `x_hi` be the order statistics of rank `floor(r)` and `ceil(r)`. The sketch
//! interpolates the representatives of those two ranks exactly as the "linear" (type 7)
//! definition used by NumPy and pandas interpolates `x_lo` and `x_hi`, so its answer is
//! within `alpha * max(|x_lo|, |x_hi|)` (plus `ZERO_THRESHOLD`) of the exact type-7 quantile.

/// Relative accuracy of every sketch quantile (0.5%).
pub const RELATIVE_ACCURACY: f64 = 0.005;

/// Values of smaller magnitude are counted as exactly zero (absolute error below this).
pub const ZERO_THRESHOLD: f64 = 1e-9;

/// Bucket counts over a contiguous range of bucket indices.
#[derive(Clone, Debug, Default, PartialEq)]
struct Store {
    /// Index of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
}

impl Store {
    #[inline]
    fn add(&mut self, index: i32, count: u64) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(0);
        } else if index < self.offset {
            let grow = (self.offset - index) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.offset = index;
        } else if index >= self.offset + self.counts.len() as i32 {
            self.counts.resize((index - self.offset) as usize + 1, 0);
        }
        self.counts[(index - self.offset) as usize] += count;
    }

    fn merge(&mut self, other: &Store) {
        for (i, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                self.add(other.offset + i as i32, c);
            }
        }
    }

    fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Streaming quantile sketch. See the module documentation for its error bound.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::QuantileSketch;
/// let mut sketch = QuantileSketch::default();
/// for i in 1..=1000 { sketch.push(i as f64); }
/// let median = sketch.quantile(0.5).unwrap();
/// assert!((median - 500.5).abs() <= 0.005 * 501.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileSketch {
    positive: Store,
    negative: Store,
    zero_count: u64,
    count: u64,
    min: f64,
    max: f64,
}

impl Default for QuantileSketch {
    fn default() -> Self {
        Self {
            positive: Store::default(),
            negative: Store::default(),
            zero_count: 0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

/// `ln(gamma) = ln((1 + alpha) / (1 - alpha))` for [`RELATIVE_ACCURACY`], precomputed
/// because `ln` is not `const` (a test checks it against the formula).
const LN_GAMMA: f64 = 0.010000083334583179;

/// `1 / LN_GAMMA`, so an insert costs one `ln` and one multiplication.
const INV_LN_GAMMA: f64 = 1.0 / LN_GAMMA;

fn ln_gamma() -> f64 {
    LN_GAMMA
}

#[inline]
fn bucket_index(magnitude: f64, inv_ln_gamma: f64) -> i32 {
    (magnitude.ln() * inv_ln_gamma).ceil() as i32
}

fn bucket_value(index: i32) -> f64 {
    let gamma = ln_gamma().exp();
    2.0 * (index as f64 * ln_gamma()).exp() / (gamma + 1.0)
}

impl QuantileSketch {
    /// Adds a finite value.
    ///
    /// # Panics
    ///
    /// On NaN or infinity: the model never produces them, so one is a bug upstream.
    #[inline]
    pub fn push(&mut self, x: f64) {
        assert!(x.is_finite(), "quantile sketch got a non-finite value {x}");
        let inv_ln_gamma = INV_LN_GAMMA;
        self.count += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if x > ZERO_THRESHOLD {
            self.positive.add(bucket_index(x, inv_ln_gamma), 1);
        } else if x < -ZERO_THRESHOLD {
            self.negative.add(bucket_index(-x, inv_ln_gamma), 1);
        } else {
            self.zero_count += 1;
        }
    }

    /// Adds another sketch's values. Exact: the result does not depend on merge order.
    pub fn merge(&mut self, other: &QuantileSketch) {
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
        self.zero_count += other.zero_count;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Approximate value of the order statistic of 0-based rank `rank`.
    fn value_at_rank(&self, rank: u64) -> f64 {
        let negative_total = self.negative.total();
        let value = if rank < negative_total {
            // Negative buckets in increasing value order: from the largest magnitude down.
            let mut seen = 0;
            let mut found = 0.0;
            for (i, &c) in self.negative.counts.iter().enumerate().rev() {
                seen += c;
                if seen > rank {
                    found = -bucket_value(self.negative.offset + i as i32);
                    break;
                }
            }
            found
        } else if rank < negative_total + self.zero_count {
            0.0
        } else {
            let mut seen = negative_total + self.zero_count;
            let mut found = 0.0;
            for (i, &c) in self.positive.counts.iter().enumerate() {
                seen += c;
                if seen > rank {
                    found = bucket_value(self.positive.offset + i as i32);
                    break;
                }
            }
            found
        };
        value.clamp(self.min, self.max)
    }

    /// The quantile at level `q` in [0, 1], or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * (self.count - 1) as f64;
        let (lo, hi) = (rank.floor(), rank.ceil());
        let low_value = self.value_at_rank(lo as u64);
        if hi == lo {
            return Some(low_value);
        }
        let high_value = self.value_at_rank(hi as u64);
        Some(low_value + (rank - lo) * (high_value - low_value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::exact_quantile;
    use proptest::prelude::*;

    /// The stated bound, checked against exact type-7 quantiles.
    fn assert_within_bound(values: &[f64], sketch: &QuantileSketch) {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        for q in [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0] {
            let exact = exact_quantile(&sorted, q);
            let rank = q * (sorted.len() - 1) as f64;
            let bound_scale = sorted[rank.floor() as usize]
                .abs()
                .max(sorted[rank.ceil() as usize].abs());
            let estimate = sketch.quantile(q).unwrap();
            let bound = RELATIVE_ACCURACY * bound_scale + ZERO_THRESHOLD;
            assert!(
                (estimate - exact).abs() <= bound * (1.0 + 1e-12),
                "q = {q}: sketch {estimate}, exact {exact}, bound {bound}"
            );
        }
    }

    proptest! {
        #[test]
        fn quantiles_within_stated_bound(values in prop::collection::vec(
            prop_oneof![-1e4f64..1e4, 1e-3f64..1e3, Just(0.0)], 1..400)) {
            let mut sketch = QuantileSketch::default();
            values.iter().for_each(|&x| sketch.push(x));
            assert_within_bound(&values, &sketch);
        }

        #[test]
        fn merge_is_exact(values in prop::collection::vec(-50f64..500.0, 1..300), split in 0usize..300) {
            let split = split.min(values.len());
            let mut whole = QuantileSketch::default();
            values.iter().for_each(|&x| whole.push(x));
            let (mut a, mut b) = (QuantileSketch::default(), QuantileSketch::default());
            values[..split].iter().for_each(|&x| a.push(x));
            values[split..].iter().for_each(|&x| b.push(x));
            let mut ba = b.clone();
            a.merge(&b);
            let mut a_only = QuantileSketch::default();
            values[..split].iter().for_each(|&x| a_only.push(x));
            ba.merge(&a_only);
            for q in [0.01, 0.5, 0.99] {
                prop_assert_eq!(a.quantile(q), whole.quantile(q));
                prop_assert_eq!(ba.quantile(q), whole.quantile(q));
            }
        }
    }

    #[test]
    fn lognormal_sample_of_a_million() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, LogNormal};
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(1);
        let dist = LogNormal::new(3.0, 0.5).unwrap();
        let values: Vec<f64> = (0..1_000_000).map(|_| dist.sample(&mut rng)).collect();
        let mut sketch = QuantileSketch::default();
        values.iter().for_each(|&x| sketch.push(x));
        assert_within_bound(&values, &sketch);
    }

    #[test]
    fn precomputed_gamma_matches_the_accuracy() {
        let exact = ((1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)).ln();
        assert!((LN_GAMMA - exact).abs() <= 1e-17);
    }

    #[test]
    fn empty_sketch_has_no_quantiles() {
        assert_eq!(QuantileSketch::default().quantile(0.5), None);
    }
}
