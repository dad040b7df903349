//! A mergeable quantile sketch with a relative-error guarantee (DDSketch with a
//! linearly interpolated logarithm).
//!
//! Values are counted in buckets of equal width `w` on the scale
//! `ℓ(x) = e + (m − 1)` for `x = 2^e · m`, `m ∈ [1, 2)`: a piecewise-linear `log2` read
//! straight from the bits of the float, so an insert costs no `ln` (the index mapping of
//! Masson, Rim and Lee, "DDSketch", VLDB 2019, §3.3). A bucket `[L, U)` then has
//! `U / L ≤ 1 + w`, and its representative `2 L U / (L + U)` is within relative error
//! `w / (2 + w) = alpha` of every value in it, for `w = 2 alpha / (1 − alpha)`. (The price
//! is about 1.44 times as many buckets as exact logarithms would need.) Negative values use
//! a mirrored set of buckets; values with `|x| < ZERO_THRESHOLD` are counted as zero.
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

/// Bucket counts over a contiguous range of bucket indices; `C` is `u64` in a
/// [`QuantileSketch`] and `u16` in a [`BlockSketch`] (a quarter of the cache footprint).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Store<C> {
    /// Index of `counts[0]`.
    offset: i32,
    counts: Vec<C>,
}

impl<C: Copy + Default + std::ops::AddAssign> Store<C> {
    #[inline]
    fn add(&mut self, index: i32, count: C) {
        if self.counts.is_empty() {
            self.offset = index;
            self.counts.push(C::default());
        } else if index < self.offset {
            let grow = (self.offset - index) as usize;
            self.reserve_headroom(grow);
            self.counts
                .splice(0..0, std::iter::repeat_n(C::default(), grow));
            self.offset = index;
        } else if index >= self.offset + self.counts.len() as i32 {
            let len = (index - self.offset) as usize + 1;
            self.reserve_headroom(len - self.counts.len());
            self.counts.resize(len, C::default());
        }
        self.counts[(index - self.offset) as usize] += count;
    }
}

impl<C: Copy + Default + std::ops::AddAssign + From<u8>> Store<C> {
    /// Adds one to the bucket of every index, growing the range once for all of them.
    fn add_all(&mut self, indices: &[i32]) {
        if indices.is_empty() {
            return;
        }
        let (mut low, mut high) = (i32::MAX, i32::MIN);
        for &index in indices {
            low = low.min(index);
            high = high.max(index);
        }
        // Two adds of zero grow the range to cover [low, high] at most twice.
        self.add(low, C::default());
        self.add(high, C::default());
        let offset = self.offset;
        for &index in indices {
            self.counts[(index - offset) as usize] += C::from(1);
        }
    }
}

impl<C> Store<C> {
    /// Room for `extra` more buckets plus an eighth: amortised growth without the up to
    /// twofold slack of doubling (the run keeps 1,640 of these alive).
    fn reserve_headroom(&mut self, extra: usize) {
        let needed = self.counts.len() + extra;
        if needed > self.counts.capacity() {
            self.counts
                .reserve_exact(needed - self.counts.len() + needed / 8 + 8);
        }
    }
}

impl Store<u64> {
    /// Adds `other`'s counts: the range grows once to cover `other`'s first and last
    /// non-empty buckets (as adding them one by one would), then the counts add in one pass.
    fn merge<C: Copy + Into<u64>>(&mut self, other: &Store<C>) {
        let nonzero = |c: &C| (*c).into() > 0;
        let (Some(first), Some(last)) = (
            other.counts.iter().position(nonzero),
            other.counts.iter().rposition(nonzero),
        ) else {
            return;
        };
        self.add(other.offset + first as i32, 0);
        self.add(other.offset + last as i32, 0);
        let start = (other.offset + first as i32 - self.offset) as usize;
        for (mine, &c) in self.counts[start..=start + last - first]
            .iter_mut()
            .zip(&other.counts[first..=last])
        {
            *mine += c.into();
        }
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
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuantileSketch {
    buckets: Buckets<u64>,
}

/// What both sketches hold: positive and negative bucket counts, the zero count, the
/// number of values and their range.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Buckets<C> {
    positive: Store<C>,
    negative: Store<C>,
    zero_count: u64,
    count: u64,
    min: f64,
    max: f64,
}

impl<C> Default for Buckets<C> {
    fn default() -> Self {
        Self {
            positive: Store {
                offset: 0,
                counts: Vec::new(),
            },
            negative: Store {
                offset: 0,
                counts: Vec::new(),
            },
            zero_count: 0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl<C: Copy + Default + std::ops::AddAssign + From<u8>> Buckets<C> {
    /// Adds a finite value.
    #[inline]
    fn push(&mut self, x: f64) {
        assert!(x.is_finite(), "quantile sketch got a non-finite value {x}");
        self.count += 1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if x > ZERO_THRESHOLD {
            self.positive.add(bucket_index(x), C::from(1));
        } else if x < -ZERO_THRESHOLD {
            self.negative.add(bucket_index(-x), C::from(1));
        } else {
            self.zero_count += 1;
        }
    }

    /// Adds finite values with one range check per sign and chunk of 64.
    fn extend_from_slice(&mut self, values: &[f64]) {
        const CHUNK: usize = 64;
        let mut indices = [0i32; CHUNK];
        for chunk in values.chunks(CHUNK) {
            // Plain comparisons (not f64::min, which must handle NaN) vectorize.
            let (mut low, mut high, mut finite) = (f64::INFINITY, f64::NEG_INFINITY, true);
            for &x in chunk {
                low = if x < low { x } else { low };
                high = if x > high { x } else { high };
                finite &= x.is_finite();
            }
            assert!(finite, "quantile sketch got a non-finite value");
            self.count += chunk.len() as u64;
            self.min = self.min.min(low);
            self.max = self.max.max(high);
            let indices = &mut indices[..chunk.len()];
            if low == high {
                // One value repeated (a start quarter, a closed gate, no shortage): one
                // bucket update for the chunk, the same counts as one by one.
                let n = C::from(chunk.len() as u8);
                if low > ZERO_THRESHOLD {
                    self.positive.add(bucket_index(low), n);
                } else if low < -ZERO_THRESHOLD {
                    self.negative.add(bucket_index(-low), n);
                } else {
                    self.zero_count += chunk.len() as u64;
                }
            } else if low > ZERO_THRESHOLD {
                // All positive, the common case: no branch per value.
                for (index, &x) in indices.iter_mut().zip(chunk) {
                    *index = bucket_index(x);
                }
                self.positive.add_all(indices);
            } else if high < -ZERO_THRESHOLD {
                for (index, &x) in indices.iter_mut().zip(chunk) {
                    *index = bucket_index(-x);
                }
                self.negative.add_all(indices);
            } else {
                let (mut positive, mut negative) = ([0i32; CHUNK], [0i32; CHUNK]);
                let (mut positives, mut negatives) = (0, 0);
                for &x in chunk {
                    if x > ZERO_THRESHOLD {
                        positive[positives] = bucket_index(x);
                        positives += 1;
                    } else if x < -ZERO_THRESHOLD {
                        negative[negatives] = bucket_index(-x);
                        negatives += 1;
                    } else {
                        self.zero_count += 1;
                    }
                }
                self.positive.add_all(&positive[..positives]);
                self.negative.add_all(&negative[..negatives]);
            }
        }
    }
}

impl Buckets<u64> {
    /// Adds another set of buckets' counts: exact, independent of merge order.
    fn merge<C: Copy + Into<u64>>(&mut self, other: &Buckets<C>) {
        self.positive.merge(&other.positive);
        self.negative.merge(&other.negative);
        self.zero_count += other.zero_count;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

/// Bucket width on the `ℓ` scale: `w = 2 alpha / (1 - alpha)`.
const BUCKET_WIDTH: f64 = 2.0 * RELATIVE_ACCURACY / (1.0 - RELATIVE_ACCURACY);

/// `1 / w`, so an insert costs a multiplication.
const BUCKETS_PER_UNIT: f64 = 1.0 / BUCKET_WIDTH;

const SIGNIFICAND_BITS: u64 = (1 << 52) - 1;
const ONE_BITS: u64 = 0x3ff0_0000_0000_0000;

/// `ℓ(x) = e + (m − 1)` for a positive normal `x = 2^e · m`, from its bits.
#[inline]
fn linear_log2(x: f64) -> f64 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let significand = f64::from_bits((bits & SIGNIFICAND_BITS) | ONE_BITS);
    exponent as f64 + (significand - 1.0)
}

/// The inverse of [`linear_log2`].
fn linear_exp2(l: f64) -> f64 {
    let exponent = l.floor();
    2f64.powi(exponent as i32) * (1.0 + (l - exponent))
}

/// Bucket of a magnitude above [`ZERO_THRESHOLD`]: `floor(ℓ(x) / w)`, the floor written
/// out because `f64::floor` is a library call on baseline x86-64.
#[inline]
fn bucket_index(magnitude: f64) -> i32 {
    let scaled = linear_log2(magnitude) * BUCKETS_PER_UNIT;
    let truncated = scaled as i32;
    truncated - i32::from(f64::from(truncated) > scaled)
}

/// The representative `2 L U / (L + U)` of bucket `[L, U)`.
fn bucket_value(index: i32) -> f64 {
    let lower = linear_exp2(f64::from(index) * BUCKET_WIDTH);
    let upper = linear_exp2(f64::from(index + 1) * BUCKET_WIDTH);
    2.0 * lower * upper / (lower + upper)
}

impl QuantileSketch {
    /// Adds a finite value.
    ///
    /// # Panics
    ///
    /// On NaN or infinity: the model never produces them, so one is a bug upstream.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.buckets.push(x);
    }

    /// Adds another sketch's values. Exact: the result does not depend on merge order.
    pub fn merge(&mut self, other: &QuantileSketch) {
        self.buckets.merge(&other.buckets);
    }

    /// Adds a [`BlockSketch`]'s values, exactly as if they had been pushed here.
    pub fn merge_block(&mut self, other: &BlockSketch) {
        self.buckets.merge(&other.buckets);
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.buckets.count
    }

    /// Bucket representatives with their counts, in increasing order of value (each
    /// clamped to the observed range).
    fn ascending(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let negative = (0..self.buckets.negative.counts.len()).rev().map(|i| {
            (
                -bucket_value(self.buckets.negative.offset + i as i32),
                self.buckets.negative.counts[i],
            )
        });
        let positive = (0..self.buckets.positive.counts.len()).map(|i| {
            (
                bucket_value(self.buckets.positive.offset + i as i32),
                self.buckets.positive.counts[i],
            )
        });
        negative
            .chain(std::iter::once((0.0, self.buckets.zero_count)))
            .chain(positive)
            .filter(|&(_, c)| c > 0)
            .map(|(v, c)| (v.clamp(self.buckets.min, self.buckets.max), c))
    }

    /// Mean and sample variance of the `k` lowest values, and the `k`-th lowest (rank
    /// `k - 1`), each value replaced by its bucket's representative (so within relative
    /// error [`RELATIVE_ACCURACY`]): the tail statistics behind CVaR. `None` when
    /// `k == 0` or `k` exceeds the count.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::stats::QuantileSketch;
    /// let mut sketch = QuantileSketch::default();
    /// for i in 1..=100 { sketch.push(i as f64); }
    /// let (mean, _variance, kth) = sketch.lowest(5).unwrap();
    /// assert!((mean - 3.0).abs() <= 0.005 * 5.0);
    /// assert!((kth - 5.0).abs() <= 0.005 * 5.0);
    /// ```
    pub fn lowest(&self, k: u64) -> Option<(f64, f64, f64)> {
        if k == 0 || k > self.buckets.count {
            return None;
        }
        let mut tail = super::moments::Moments::default();
        let (mut taken, mut kth) = (0, f64::NAN);
        for (value, count) in self.ascending() {
            let take = count.min(k - taken);
            tail.push_repeated(value, take);
            taken += take;
            kth = value;
            if taken == k {
                break;
            }
        }
        let variance = if k > 1 { tail.variance() } else { 0.0 };
        Some((tail.mean(), variance, kth))
    }

    /// The quantile at level `q` in [0, 1], or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles([q]).map(|[value]| value)
    }

    /// [`quantile`](Self::quantile) at several levels with one pass over the buckets (the
    /// same values), or `None` when empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::stats::QuantileSketch;
    /// let mut sketch = QuantileSketch::default();
    /// (1..=100).for_each(|i| sketch.push(i as f64));
    /// let [p10, p90] = sketch.quantiles([0.1, 0.9]).unwrap();
    /// assert_eq!(p10, sketch.quantile(0.1).unwrap());
    /// assert_eq!(p90, sketch.quantile(0.9).unwrap());
    /// ```
    pub fn quantiles<const N: usize>(&self, levels: [f64; N]) -> Option<[f64; N]> {
        if self.buckets.count == 0 {
            return None;
        }
        let ranks = levels.map(|q| q.clamp(0.0, 1.0) * (self.buckets.count - 1) as f64);
        // Order statistics wanted: (rank, level index, 0 = lower / 1 = upper).
        let mut wanted: Vec<(u64, usize, usize)> = ranks
            .iter()
            .enumerate()
            .flat_map(|(k, r)| [(r.floor() as u64, k, 0), (r.ceil() as u64, k, 1)])
            .collect();
        wanted.sort_unstable();
        let mut values = [[self.buckets.max; 2]; N];
        let mut next = wanted.iter().peekable();
        let mut seen = 0;
        for (value, count) in self.ascending() {
            seen += count;
            while let Some(&&(rank, k, side)) = next.peek() {
                if rank >= seen {
                    break;
                }
                values[k][side] = value;
                next.next();
            }
        }
        Some(std::array::from_fn(|k| {
            let (rank, [low, high]) = (ranks[k], values[k]);
            let lo = rank.floor();
            if rank.ceil() == lo {
                low
            } else {
                low + (rank - lo) * (high - low)
            }
        }))
    }
}

/// The same buckets as a [`QuantileSketch`] with 16-bit counts, for at most
/// [`BlockSketch::CAPACITY`] values: the runner's per-block statistics, which are merged
/// into a [`QuantileSketch`] with [`QuantileSketch::merge_block`]. A quarter of the memory
/// keeps a block's 1,640 sketches in cache.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::{BlockSketch, QuantileSketch};
/// let mut block = BlockSketch::default();
/// (1..=100).for_each(|i| block.push(i as f64));
/// let mut total = QuantileSketch::default();
/// total.merge_block(&block);
/// assert_eq!(total.count(), 100);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockSketch {
    buckets: Buckets<u16>,
}

impl BlockSketch {
    /// The most values a block sketch takes.
    pub const CAPACITY: u64 = u16::MAX as u64;

    /// Empties the sketch for the next block, keeping its buckets' memory (their counts
    /// are zeroed; a merge skips empty buckets, so a reused sketch merges as a new one).
    pub fn clear(&mut self) {
        let b = &mut self.buckets;
        b.positive.counts.fill(0);
        b.negative.counts.fill(0);
        b.zero_count = 0;
        b.count = 0;
        b.min = f64::INFINITY;
        b.max = f64::NEG_INFINITY;
    }

    /// Adds finite values, as [`push`](Self::push) one by one would (the same counts), but
    /// with one range check per sign for each 64 values (the runner passes 256 per cell).
    ///
    /// # Panics
    ///
    /// As [`push`](Self::push).
    pub fn extend_from_slice(&mut self, values: &[f64]) {
        assert!(
            self.buckets.count + values.len() as u64 <= Self::CAPACITY,
            "block sketch is full"
        );
        self.buckets.extend_from_slice(values);
    }

    /// Adds a finite value.
    ///
    /// # Panics
    ///
    /// On NaN or infinity, or beyond [`CAPACITY`](Self::CAPACITY) values.
    #[inline]
    pub fn push(&mut self, x: f64) {
        assert!(self.buckets.count < Self::CAPACITY, "block sketch is full");
        self.buckets.push(x);
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
        fn quantiles_in_one_pass_equal_quantile_one_by_one(values in prop::collection::vec(-1e3f64..1e3, 1..300)) {
            let mut sketch = QuantileSketch::default();
            values.iter().for_each(|&x| sketch.push(x));
            let levels = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0];
            let together = sketch.quantiles(levels).unwrap();
            for (q, value) in levels.iter().zip(together) {
                prop_assert_eq!(sketch.quantile(*q).unwrap(), value);
            }
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
    fn every_bucket_is_within_the_accuracy_of_its_representative() {
        for index in -3000..3000 {
            let lower = linear_exp2(f64::from(index) * BUCKET_WIDTH);
            let upper = linear_exp2(f64::from(index + 1) * BUCKET_WIDTH);
            let value = bucket_value(index);
            let worst = ((value - lower) / lower).max((upper - value) / upper);
            assert!(
                worst <= RELATIVE_ACCURACY * (1.0 + 1e-12),
                "bucket {index}: {worst}"
            );
            // Values at both ends of the bucket map back into it.
            assert_eq!(bucket_index(lower * (1.0 + 1e-12)), index);
            assert_eq!(bucket_index(upper * (1.0 - 1e-12)), index);
        }
    }

    #[test]
    fn linear_log2_is_exact_at_powers_of_two_and_inverts() {
        for e in -30..30 {
            assert_eq!(linear_log2(2f64.powi(e)), f64::from(e));
        }
        for x in [1e-6, 0.3, 1.0, 1.5, 7.25, 123.456, 9.9e8] {
            assert!((linear_exp2(linear_log2(x)) - x).abs() <= 1e-15 * x);
        }
    }

    #[test]
    fn lowest_matches_the_exact_tail_within_the_accuracy() {
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.37 - 120.0).collect();
        let mut sketch = QuantileSketch::default();
        values.iter().for_each(|&x| sketch.push(x));
        let (mean, _, kth) = sketch.lowest(50).unwrap();
        let exact_mean = values[..50].iter().sum::<f64>() / 50.0;
        assert!((mean - exact_mean).abs() <= RELATIVE_ACCURACY * 120.0);
        assert!((kth - values[49]).abs() <= RELATIVE_ACCURACY * values[49].abs());
        assert_eq!(sketch.lowest(0), None);
        assert_eq!(sketch.lowest(1001), None);
    }

    proptest! {
        #[test]
        fn block_sketch_merges_as_if_pushed(values in prop::collection::vec(
            prop_oneof![-1e3f64..1e3, Just(0.0), 1e-3f64..1e-2], 1..500)) {
            let mut pushed = QuantileSketch::default();
            let (mut block, mut batched) = (BlockSketch::default(), BlockSketch::default());
            for &x in &values {
                pushed.push(x);
                block.push(x);
            }
            for part in values.chunks(37) {
                batched.extend_from_slice(part);
            }
            let (mut merged, mut merged_batches) = (QuantileSketch::default(), QuantileSketch::default());
            merged.merge_block(&block);
            merged_batches.merge_block(&batched);
            prop_assert_eq!(&merged, &pushed);
            prop_assert_eq!(&merged_batches, &pushed);
        }

        /// Runs of one repeated value (the constant-chunk shortcut) count as pushed.
        #[test]
        fn repeated_values_batch_as_if_pushed(
            value in prop_oneof![-1e3f64..1e3, Just(0.0), Just(1.0)],
            other in -1e3f64..1e3, run in 1usize..200,
        ) {
            let mut values = vec![value; run];
            values.push(other);
            values.extend(std::iter::repeat_n(value, run));
            let mut pushed = QuantileSketch::default();
            values.iter().for_each(|&x| pushed.push(x));
            let mut batched = BlockSketch::default();
            for part in values.chunks(64) {
                batched.extend_from_slice(part);
            }
            let mut merged = QuantileSketch::default();
            merged.merge_block(&batched);
            prop_assert_eq!(&merged, &pushed);
        }
    }

    #[test]
    fn empty_sketch_has_no_quantiles() {
        assert_eq!(QuantileSketch::default().quantile(0.5), None);
    }
}
