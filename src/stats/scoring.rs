//! Scores of a sampled forecast against the value that was realized: the probability
//! integral transform (PIT), central-band coverage and the continuous ranked probability
//! score (CRPS), each computed exactly for the sample (Gneiting & Raftery 2007).

/// The realized value's percentile in the sample: `(#{x < y} + ½ #{x = y}) / n` (ties
/// split, so a calibrated forecast gives uniform PITs). `sorted` must be ascending.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::scoring::pit;
/// assert_eq!(pit(&[1.0, 2.0, 3.0, 4.0], 2.5), 0.5);
/// assert_eq!(pit(&[1.0, 2.0, 3.0, 4.0], 2.0), 0.375);
/// assert_eq!(pit(&[1.0, 2.0], 9.0), 1.0);
/// ```
pub fn pit(sorted: &[f64], realized: f64) -> f64 {
    let below = sorted.partition_point(|x| *x < realized);
    let at_or_below = sorted.partition_point(|x| *x <= realized);
    (below as f64 + 0.5 * (at_or_below - below) as f64) / sorted.len() as f64
}

/// CRPS of the sample's empirical distribution at `realized`:
/// `(1/n) Σ |x_i − y| − (1/(2n²)) Σ_i Σ_j |x_i − x_j|`, the second sum as
/// `2 Σ_i (2i − n − 1) x_(i)` over the sorted sample (i from 1). In the units of the values;
/// lower is better; for one draw it is the absolute error. `sorted` must be ascending.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::scoring::crps;
/// // mean |x − 2.5| = 1, mean pairwise |x_i − x_j| / 2 = 20 / 32.
/// assert!((crps(&[1.0, 2.0, 3.0, 4.0], 2.5) - 0.375).abs() < 1e-15);
/// assert_eq!(crps(&[5.0], 3.0), 2.0);
/// ```
pub fn crps(sorted: &[f64], realized: f64) -> f64 {
    let n = sorted.len() as f64;
    let absolute: f64 = sorted.iter().map(|x| (x - realized).abs()).sum::<f64>() / n;
    let spread: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * (i as f64 + 1.0) - n - 1.0) * x)
        .sum::<f64>()
        * 2.0;
    absolute - spread / (2.0 * n * n)
}

/// The `p`-quantile of an ascending sample by linear interpolation between order
/// statistics (numpy's default, "linear": position `p (n − 1)`).
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::scoring::quantile;
/// assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
/// assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.0), 1.0);
/// ```
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let position = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = (lower + 1).min(sorted.len() - 1);
    let weight = position - lower as f64;
    sorted[lower] + weight * (sorted[upper] - sorted[lower])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CRPS against its integral definition ∫ (F(z) − 1[z ≥ y])² dz, on a fine grid.
    #[test]
    fn crps_matches_its_integral_definition() {
        let sample = [0.3, 1.7, 1.7, 2.2, 5.0];
        for realized in [-1.0, 0.3, 1.9, 4.0, 7.5] {
            let (lo, hi, steps) = (-3.0, 10.0, 1_300_000);
            let dz = (hi - lo) / steps as f64;
            let integral: f64 = (0..steps)
                .map(|k| {
                    let z = lo + (k as f64 + 0.5) * dz;
                    let cdf = sample.iter().filter(|x| **x <= z).count() as f64 / 5.0;
                    let step = f64::from(u8::from(z >= realized));
                    (cdf - step).powi(2) * dz
                })
                .sum();
            assert!(
                (crps(&sample, realized) - integral).abs() < 1e-4,
                "{realized}"
            );
        }
    }

    #[test]
    fn pit_of_a_uniform_sample_is_the_value() {
        let sample: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        assert!((pit(&sample, 0.25) - 0.25).abs() < 1e-12);
        assert!((quantile(&sample, 0.9) - 0.9).abs() < 1e-3);
    }
}
