//! Standardized linear regression of a per-path metric on per-path inputs: the fit behind
//! `sensitivity regression` and the drivers of a run's verdict (docs/model.md,
//! "Regression sensitivity").

use nalgebra::{DMatrix, DVector};

/// `values` centred and scaled to unit sample sd (n − 1), or `None` without spread.
pub(crate) fn standardized(values: &[f64]) -> Option<Vec<f64>> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    (sd > 0.0 && sd.is_finite()).then(|| values.iter().map(|v| (v - mean) / sd).collect())
}

/// Standardized regression of `output` on the `inputs` columns: the coefficients, their
/// standard errors and `R²`. Columns without spread get a coefficient of 0.
///
/// # Examples
///
/// ```
/// use cloudcapex::stats::regression::standardized_regression;
/// let x1: Vec<f64> = (0..100).map(|i| (i % 10) as f64).collect();
/// let x2: Vec<f64> = (0..100).map(|i| (i / 10) as f64).collect();
/// let y: Vec<f64> = x1.iter().zip(&x2).map(|(a, b)| 2.0 * a - b).collect();
/// let (src, _, r2) = standardized_regression(&[x1, x2], &y);
/// assert!((r2 - 1.0).abs() < 1e-12);
/// assert!((src[0] - 2.0 / 5f64.sqrt()).abs() < 1e-12);
/// ```
pub fn standardized_regression(inputs: &[Vec<f64>], output: &[f64]) -> (Vec<f64>, Vec<f64>, f64) {
    let n = output.len();
    let Some(y) = standardized(output) else {
        return (vec![0.0; inputs.len()], vec![0.0; inputs.len()], 0.0);
    };
    let usable: Vec<(usize, Vec<f64>)> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, x)| standardized(x).map(|z| (i, z)))
        .collect();
    let k = usable.len();
    let mut src = vec![0.0; inputs.len()];
    let mut se = vec![0.0; inputs.len()];
    if k == 0 || n <= k + 1 {
        return (src, se, 0.0);
    }
    let x = DMatrix::from_fn(n, k, |row, col| usable[col].1[row]);
    let yv = DVector::from_vec(y);
    let xtx = x.transpose() * &x;
    let Some(inverse) = xtx.try_inverse() else {
        return (src, se, 0.0);
    };
    let beta = &inverse * x.transpose() * &yv;
    let residuals = &yv - &x * &beta;
    let rss = residuals.norm_squared();
    let tss = yv.norm_squared();
    let s2 = rss / (n - k - 1) as f64;
    for (col, (i, _)) in usable.iter().enumerate() {
        src[*i] = beta[col];
        se[*i] = (s2 * inverse[(col, col)]).max(0.0).sqrt();
    }
    (src, se, 1.0 - rss / tss)
}
