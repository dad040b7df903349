//! `[correlation]`: rank correlations between uncertain assumptions, validated for the
//! Gaussian copula that applies them (docs/model.md, "Correlated assumptions").
//!
//! ```toml
//! [correlation."capacity.hardware_cost_decline"]
//! "pricing.max_premium" = -0.4
//! ```
//!
//! Each key path must name an assumption written as a distribution. A pair with an
//! assumption written as a fixed number has no effect (a warning says so; a tornado or
//! sweep that fixes an input relies on this). The copula's normal correlation matrix
//! `R_ij = 2 sin(π ρ_ij / 6)` must be positive-definite; otherwise the scenario is refused
//! with the nearest valid matrix (Higham 2002), never repaired silently.

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use serde::Serialize;

use super::error::ScenarioError;
use super::load::Loaded;
use super::validator::Validator;

/// Rank correlation → the normal copula's correlation with that rank correlation.
pub(crate) fn normal_from_rank(rank: f64) -> f64 {
    2.0 * (std::f64::consts::PI * rank / 6.0).sin()
}

/// The normal copula's correlation → its rank correlation.
pub(crate) fn rank_from_normal(normal: f64) -> f64 {
    6.0 / std::f64::consts::PI * (normal / 2.0).asin()
}

/// The nearest correlation matrix (symmetric, positive semi-definite, unit diagonal) in
/// the Frobenius norm, by Higham's (2002) alternating projections with Dykstra's
/// correction; the smallest eigenvalue is then lifted to `floor` so that the result is
/// positive-definite.
pub fn nearest_correlation(matrix: &DMatrix<f64>, floor: f64) -> DMatrix<f64> {
    let n = matrix.nrows();
    let mut y = matrix.clone();
    let mut correction = DMatrix::<f64>::zeros(n, n);
    for _ in 0..1000 {
        let r = &y - &correction;
        let eigen = r.clone().symmetric_eigen();
        let clipped = eigen.eigenvalues.map(|l| l.max(floor));
        let x =
            &eigen.eigenvectors * DMatrix::from_diagonal(&clipped) * eigen.eigenvectors.transpose();
        correction = &x - &r;
        let mut next = x.clone();
        for i in 0..n {
            next[(i, i)] = 1.0;
        }
        let change = (&next - &y).norm();
        y = next;
        if change < 1e-12 {
            break;
        }
    }
    y
}

/// The nearest valid rank correlations, rounded to three decimals toward zero and shrunk
/// until the rounded values themselves pass (a suggestion that is refused when pasted back
/// would loop).
fn pasteable_suggestion(normal: &DMatrix<f64>) -> DMatrix<f64> {
    let nearest = nearest_correlation(normal, 1e-3).map(rank_from_normal);
    let round = |m: &DMatrix<f64>| m.map(|x| (x * 1000.0).trunc() / 1000.0);
    let mut shrink = 1.0;
    loop {
        let mut candidate = round(&nearest.map(|x| x * shrink));
        for i in 0..candidate.nrows() {
            candidate[(i, i)] = 1.0;
        }
        if candidate.map(normal_from_rank).cholesky().is_some() || shrink < 0.01 {
            return candidate;
        }
        shrink *= 0.99;
    }
}

/// Whether the merged document writes `key` as a distribution (`Some(true)`), a number
/// (`Some(false)`), or not at all (`None`).
pub(crate) fn written_as(loaded: &Loaded, key: &str) -> Option<bool> {
    let mut value: Option<&toml::Value> = None;
    let mut table = &loaded.merged;
    let parts: Vec<&str> = key.split('.').collect();
    for (k, part) in parts.iter().enumerate() {
        let v = table.get(*part)?;
        if k + 1 == parts.len() {
            value = Some(v);
        } else {
            table = v.as_table()?;
        }
    }
    match value? {
        toml::Value::Table(t) => t.contains_key("dist").then_some(true),
        toml::Value::Float(_) | toml::Value::Integer(_) => Some(false),
        _ => None,
    }
}

/// One warning per `[correlation]` pair that names an assumption written as a fixed number
/// (valid, but it has no effect).
pub(crate) fn fixed_pair_warnings(loaded: &Loaded) -> Vec<String> {
    let Some(table) = loaded.merged.get("correlation").and_then(|c| c.as_table()) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for (a, row) in table {
        for b in row.as_table().into_iter().flat_map(|r| r.keys()) {
            for name in [a, b] {
                if written_as(loaded, name) == Some(false) {
                    let key = format!("correlation.{a}.{b}");
                    let place = loaded
                        .locate(&key)
                        .map(|l| format!("{l}: "))
                        .unwrap_or_default();
                    warnings.push(format!(
                        "{place}key `{key}`: `{name}` is a fixed number, so this correlation has no effect"
                    ));
                }
            }
        }
    }
    warnings
}

impl Validator<'_> {
    /// Validates `[correlation]` (see the module docs); `None` when it is absent or every
    /// pair involves a fixed assumption ([`fixed_pair_warnings`] says which).
    pub(crate) fn assumption_correlation(
        &self,
        loaded: &Loaded,
        doc: Option<&BTreeMap<String, BTreeMap<String, f64>>>,
    ) -> Result<Option<AssumptionCorrelation>, ScenarioError> {
        let Some(doc) = doc else { return Ok(None) };
        let mut pairs: Vec<(String, String, f64, String)> = Vec::new();
        for (a, row) in doc {
            for (b, &rho) in row {
                let key = format!("correlation.{a}.{b}");
                let mut usable = true;
                for name in [a, b] {
                    if name.starts_with("risk.events.") && name.ends_with(".severity") {
                        let error = self.error(
                            &key,
                            format!(
                                "`{name}` is drawn at each firing of its event, not once per path, so it \
                                 cannot be correlated with per-path assumptions"
                            ),
                        );
                        self.refuse(error, ())?;
                        usable = false;
                        continue;
                    }
                    match written_as(loaded, name) {
                        Some(true) => {}
                        Some(false) => usable = false,
                        None => {
                            let error = self.error(
                                &key,
                                format!(
                                    "`{name}` is not an assumption written in the scenario: give the key path of an \
                                     assumption written as a distribution, e.g. \"capacity.hardware_cost_decline\""
                                ),
                            );
                            self.refuse(error, ())?;
                            usable = false;
                        }
                    }
                }
                if rho.is_nan() || !(-1.0..=1.0).contains(&rho) {
                    let error = self.error(
                        &key,
                        format!("expected a rank correlation from -1 to 1, found {rho}"),
                    );
                    self.refuse(error, ())?;
                    continue;
                }
                if a == b {
                    let error = self.error(
                        &key,
                        "an assumption's correlation with itself is 1; give pairs of different key paths",
                    );
                    self.refuse(error, ())?;
                    continue;
                }
                if usable {
                    pairs.push((a.clone(), b.clone(), rho, key));
                }
            }
        }
        let mut keys: Vec<String> = pairs
            .iter()
            .flat_map(|(a, b, _, _)| [a.clone(), b.clone()])
            .collect();
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return Ok(None);
        }
        let n = keys.len();
        let index = |k: &str| keys.iter().position(|x| x == k).expect("collected above");
        let mut rank = DMatrix::<f64>::identity(n, n);
        let mut given = DMatrix::<bool>::from_element(n, n, false);
        for (a, b, rho, key) in &pairs {
            let (i, j) = (index(a), index(b));
            if given[(i, j)] && rank[(i, j)] != *rho {
                return Err(self.error(
                    key,
                    format!(
                        "the pair is given twice with different values, {} and {rho}; give each pair once",
                        rank[(i, j)]
                    ),
                ));
            }
            rank[(i, j)] = *rho;
            rank[(j, i)] = *rho;
            given[(i, j)] = true;
            given[(j, i)] = true;
        }
        let normal = rank.map(normal_from_rank);
        let Some(cholesky) = normal.clone().cholesky() else {
            let nearest = pasteable_suggestion(&normal);
            let mut suggestion = String::new();
            for i in 0..n {
                for j in i + 1..n {
                    if given[(i, j)] || nearest[(i, j)].abs() > 5e-4 {
                        suggestion.push_str(&format!(
                            "\n\"{}\".\"{}\" = {:.3}    # given {}",
                            keys[i],
                            keys[j],
                            nearest[(i, j)],
                            if given[(i, j)] {
                                format!("{}", rank[(i, j)])
                            } else {
                                "none, i.e. 0".to_string()
                            }
                        ));
                    }
                }
            }
            let smallest = normal.symmetric_eigen().eigenvalues.min();
            return Err(self.error(
                "correlation",
                format!(
                    "these rank correlations cannot hold together: the Gaussian copula's matrix \
                     2 sin(pi rho / 6) is not positive-definite (smallest eigenvalue {smallest:.4}). \
                     The nearest valid rank correlations (Higham's nearest correlation matrix), to paste in \
                     place of the table:\n[correlation]{suggestion}\nNothing is repaired silently: edit the file."
                ),
            ));
        };
        Ok(Some(AssumptionCorrelation {
            keys,
            rank,
            cholesky_lower: cholesky.l(),
        }))
    }
}

/// Rank (Spearman) correlations between uncertain assumptions, applied by a Gaussian
/// copula: validated so that the copula's normal correlation matrix
/// `2 sin(π ρ_s / 6)` is positive-definite.
#[derive(Clone, Debug, PartialEq)]
pub struct AssumptionCorrelation {
    keys: Vec<String>,
    rank: DMatrix<f64>,
    cholesky_lower: DMatrix<f64>,
}

impl AssumptionCorrelation {
    /// Key paths of the correlated assumptions, in matrix order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The rank correlations as given (1 on the diagonal, 0 where none was given).
    pub fn rank(&self) -> &DMatrix<f64> {
        &self.rank
    }

    /// Lower Cholesky factor of the copula's normal correlation matrix.
    pub fn cholesky_lower(&self) -> &DMatrix<f64> {
        &self.cholesky_lower
    }
}

impl Serialize for AssumptionCorrelation {
    /// As in the file: `correlation."a"."b" = rho` for every given pair `a < b`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut pairs: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
        for (i, a) in self.keys.iter().enumerate() {
            for (j, b) in self.keys.iter().enumerate().skip(i + 1) {
                if self.rank[(i, j)] != 0.0 {
                    pairs.entry(a).or_default().insert(b, self.rank[(i, j)]);
                }
            }
        }
        pairs.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_and_normal_correlations_invert() {
        for r in [-1.0, -0.5, 0.0, 0.3, 0.9, 1.0] {
            assert!((rank_from_normal(normal_from_rank(r)) - r).abs() < 1e-12);
        }
        assert!((normal_from_rank(1.0) - 1.0).abs() < 1e-15);
    }

    /// Higham's example (2002, section 4): the nearest correlation matrix to
    /// [[1, 1, 0], [1, 1, 1], [0, 1, 1]] has off-diagonals 0.7607, 0.1573, 0.7607.
    #[test]
    fn nearest_correlation_matches_highams_example() {
        let a = DMatrix::from_row_slice(3, 3, &[1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
        let x = nearest_correlation(&a, 0.0);
        for (i, j, expected) in [(0, 1, 0.7607), (0, 2, 0.1573), (1, 2, 0.7607)] {
            assert!((x[(i, j)] - expected).abs() < 1e-4, "{}", x[(i, j)]);
        }
        assert!(x.symmetric_eigen().eigenvalues.min() > -1e-9);
    }
}
