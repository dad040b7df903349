//! Streaming mean and variance (Welford), mergeable (Chan et al.).

/// `Σ term(x)` with four partial sums: independent additions pipeline (one running sum
/// waits on each addition), in a fixed order, so the result is deterministic.
#[inline]
fn four_sums(values: &[f64], term: impl Fn(f64) -> f64) -> f64 {
    let mut sums = [0.0; 4];
    let mut chunks = values.chunks_exact(4);
    for chunk in &mut chunks {
        for (sum, &x) in sums.iter_mut().zip(chunk) {
            *sum += term(x);
        }
    }
    for (sum, &x) in sums.iter_mut().zip(chunks.remainder()) {
        *sum += term(x);
    }
    (sums[0] + sums[1]) + (sums[2] + sums[3])
}

/// Count, mean and sum of squared deviations of a stream of values.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::Moments;
/// let mut a = Moments::default();
/// for x in [1.0, 2.0, 3.0] { a.push(x); }
/// let mut b = Moments::default();
/// b.push(4.0);
/// a.merge(&b);
/// assert_eq!(a.count(), 4);
/// assert!((a.mean() - 2.5).abs() < 1e-15);
/// assert!((a.variance() - 5.0 / 3.0).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Moments {
    count: u64,
    mean: f64,
    sum_squared_deviations: f64,
}

impl Moments {
    /// Adds one value.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.sum_squared_deviations += delta * (x - self.mean);
    }

    /// Adds `count` copies of one value (the tail of a quantile sketch, bucket by bucket).
    pub fn push_repeated(&mut self, x: f64, count: u64) {
        self.merge(&Moments {
            count,
            mean: x,
            sum_squared_deviations: 0.0,
        });
    }

    /// Moments of a slice, by two passes over deviations from its first value (the mean,
    /// then squared deviations from it; the shift keeps a constant column exact): what the
    /// runner takes of each cell's batch of paths before merging it in.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::stats::Moments;
    /// let m = Moments::from_slice(&[1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(m.mean(), 2.5);
    /// assert!((m.variance() - 5.0 / 3.0).abs() < 1e-15);
    /// ```
    pub fn from_slice(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let shift = values[0];
        let shifted_mean = four_sums(values, |x| x - shift) / values.len() as f64;
        let sum_squared_deviations = four_sums(values, |x| {
            let deviation = (x - shift) - shifted_mean;
            deviation * deviation
        });
        Self {
            count: values.len() as u64,
            mean: shift + shifted_mean,
            sum_squared_deviations,
        }
    }

    /// Sum of squared deviations over `count - 1`, or 0 with fewer than two values (for
    /// finiteness checks).
    pub(crate) fn variance_or_zero(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            self.sum_squared_deviations / (self.count - 1) as f64
        }
    }

    /// Adds another stream's moments, as if its values had been pushed after ours.
    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let total = self.count + other.count;
        let delta = other.mean - self.mean;
        let other_weight = other.count as f64 / total as f64;
        self.mean += delta * other_weight;
        self.sum_squared_deviations +=
            other.sum_squared_deviations + delta * delta * self.count as f64 * other_weight;
        self.count = total;
    }

    /// Sum of squared deviations from the mean (0 when empty).
    pub(crate) fn sum_squared_deviations(&self) -> f64 {
        self.sum_squared_deviations
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sample mean (NaN when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.mean }
    }

    /// Unbiased sample variance (NaN with fewer than two values).
    pub fn variance(&self) -> f64 {
        if self.count < 2 {
            f64::NAN
        } else {
            self.sum_squared_deviations / (self.count - 1) as f64
        }
    }

    /// Sample standard deviation.
    pub fn sd(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Monte Carlo standard error of the mean, `sd / sqrt(count)`.
    pub fn standard_error(&self) -> f64 {
        self.sd() / (self.count as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn merge_equals_sequential(xs in prop::collection::vec(-1e6f64..1e6, 2..200), split in 0usize..200) {
            let split = split.min(xs.len());
            let mut whole = Moments::default();
            xs.iter().for_each(|&x| whole.push(x));
            let (mut left, mut right) = (Moments::default(), Moments::default());
            xs[..split].iter().for_each(|&x| left.push(x));
            xs[split..].iter().for_each(|&x| right.push(x));
            left.merge(&right);
            prop_assert_eq!(left.count(), whole.count());
            let scale = 1.0 + whole.mean().abs();
            prop_assert!((left.mean() - whole.mean()).abs() <= 1e-9 * scale);
            let var_scale = 1.0 + whole.variance();
            prop_assert!((left.variance() - whole.variance()).abs() <= 1e-9 * var_scale);
        }
    }

    proptest! {
        #[test]
        fn from_slice_equals_sequential(xs in prop::collection::vec(-1e6f64..1e6, 0..200)) {
            let mut sequential = Moments::default();
            xs.iter().for_each(|&x| sequential.push(x));
            let batch = Moments::from_slice(&xs);
            prop_assert_eq!(batch.count(), sequential.count());
            if !xs.is_empty() {
                prop_assert!((batch.mean() - sequential.mean()).abs() <= 1e-9 * (1.0 + sequential.mean().abs()));
            }
            if xs.len() > 1 {
                prop_assert!((batch.variance() - sequential.variance()).abs() <= 1e-9 * (1.0 + sequential.variance()));
            }
        }
    }

    #[test]
    fn two_pass_reference() {
        let xs = [1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0];
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.push(x));
        assert_eq!(m.mean(), 1e9 + 10.0);
        assert!((m.variance() - 30.0).abs() < 1e-6);
        assert!((m.standard_error() - (30.0f64 / 4.0).sqrt()).abs() < 1e-6);
    }
}
