//! Revenue assumptions fitted to the reported history (`cloudcapex calibrate`), with the
//! standard error of every estimate. The equations are in docs/model.md, "Calibration
//! from history".
//!
//! The model's log revenue is a random walk with drift, seasonality and an AR(1) growth
//! shock, so the fit works on **quarterly log growth** `g_t = ln R_t − ln R_{t−1}` (levels
//! would give a spurious trend regression):
//!
//! ```text
//! g_t = μ + Σ_{k=1..3} d_k · (S_k(q_t) − S_k(q_{t−1})) + u_t,   S_k(q) = 1[q = k] − 1[q = 4]
//! u_t = ρ u_{t−1} + e_t
//! ```
//!
//! `d_k` are the seasonal log factors (`d_4 = −d_1 − d_2 − d_3`), estimated by least
//! squares (nalgebra's QR); `ρ` and `sd(e)` by least squares on the residuals. With the
//! model's i.i.d. shock set to 0 this is exactly the model's growth process, so
//! `shock_persistence = ρ` and `persistent_shock_sd = sd(e)`.

use nalgebra::{DMatrix, DVector};

use crate::Quarter;
use crate::history::History;

pub use crate::history::SEGMENT_BASIS_START;
/// Fewest quarterly growth rates a fit accepts (four coefficients, then the AR(1)).
pub const MIN_GROWTH_RATES: usize = 8;

/// An estimate with its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Point estimate.
    pub value: f64,
    /// Standard error.
    pub se: f64,
}

/// What was fitted, on which quarters.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// First quarter whose level enters the fit.
    pub first: Quarter,
    /// Last quarter used: the start quarter of a scenario built on this fit.
    pub last: Quarter,
    /// Quarterly log growth rates fitted (`quarters − 1`).
    pub growth_rates: usize,
    /// Reported revenue of `last`, RMB bn (data, not an estimate).
    pub start_revenue_rmb_bn: f64,
    /// Seasonal factors q1..q4, averaging 1 (the scenario's `revenue.seasonality`).
    pub seasonal_factors: [Estimate; 4],
    /// Mean quarterly log growth μ over the window.
    pub mean_quarterly_log_growth: Estimate,
    /// Realized growth over the last four quarters, `R_last / R_{last−4} − 1`, as an
    /// estimate of current annual growth (its SE is the noise of four quarters' shocks).
    pub recent_annual_growth: Estimate,
    /// Residual sd of quarterly log growth (`u_t`).
    pub residual_sd: Estimate,
    /// AR(1) coefficient of the residuals (the scenario's `shock_persistence`).
    pub persistence: Estimate,
    /// Sd of the AR(1) innovations `e_t` (the scenario's `persistent_shock_sd`).
    pub innovation_sd: Estimate,
}

/// Why a fit was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CalibrationError {
    /// The window is outside the history, or backwards.
    #[error("{0}")]
    Window(String),
    /// A quarter in the window has no revenue.
    #[error(
        "{source_name}, line {line}: revenue of {quarter} is NA, but the fit from {first} to {last} needs every quarter; choose a window without it (--from, --start-quarter)"
    )]
    MissingRevenue {
        /// The history file.
        source_name: String,
        /// The row's line.
        line: u64,
        /// The quarter.
        quarter: Quarter,
        /// The window.
        first: Quarter,
        /// The window.
        last: Quarter,
    },
    /// Too few quarters to estimate four coefficients and the residuals' AR(1).
    #[error(
        "the fit from {first} to {last} has {growth_rates} quarterly growth rates; at least {MIN_GROWTH_RATES} are needed (nine quarters: the earliest last quarter is {})", first.offset(MIN_GROWTH_RATES as i64)
    )]
    TooShort {
        /// The window.
        first: Quarter,
        /// The window.
        last: Quarter,
        /// How many it had.
        growth_rates: usize,
    },
}

/// The default window: from [`SEGMENT_BASIS_START`] (or the history's first quarter, if
/// later) to `last` (or the history's last quarter).
pub fn default_first(history: &History) -> Quarter {
    history.first_on_current_basis()
}

fn seasonal_column(k: usize, quarter: Quarter) -> f64 {
    let q = usize::from(quarter.quarter_of_year());
    f64::from(u8::from(q == k)) - f64::from(u8::from(q == 4))
}

/// Least squares `y = X b + r`: coefficients, their covariance `s² (XᵀX)⁻¹`, residuals.
fn least_squares(x: &DMatrix<f64>, y: &DVector<f64>) -> (DVector<f64>, DMatrix<f64>, DVector<f64>) {
    let xtx = x.transpose() * x;
    let inverse = xtx
        .try_inverse()
        .expect("the seasonal design has full rank on eight or more consecutive quarters");
    let beta = &inverse * x.transpose() * y;
    let residuals = y - x * &beta;
    let dof = (x.nrows() - x.ncols()) as f64;
    let s2 = residuals.norm_squared() / dof;
    (beta, inverse * s2, residuals)
}

/// Fits the revenue assumptions on the quarters `first..=last` of `history`.
///
/// # Errors
///
/// [`CalibrationError`] if the window is outside the history or too short (fewer than
/// [`MIN_GROWTH_RATES`] growth rates), or a quarter in it has no revenue.
///
/// # Examples
///
/// ```
/// use cloudcapex::calibration::{calibrate, default_first};
/// use cloudcapex::history::{EMBEDDED, History};
/// let history = History::parse("embedded", EMBEDDED).unwrap();
/// let (first, last) = (default_first(&history), history.span().1);
/// let fit = calibrate(&history, first, last).unwrap();
/// assert_eq!(fit.start_revenue_rmb_bn, 41.6);
/// let mean: f64 = fit.seasonal_factors.iter().map(|f| f.value).sum::<f64>() / 4.0;
/// assert!((mean - 1.0).abs() < 1e-12);
/// ```
pub fn calibrate(
    history: &History,
    first: Quarter,
    last: Quarter,
) -> Result<Calibration, CalibrationError> {
    let (start, end) = history.span();
    if first < start || last > end {
        return Err(CalibrationError::Window(format!(
            "the fit window {first} to {last} must lie within the history {start} to {end}"
        )));
    }
    if first >= last {
        return Err(CalibrationError::TooShort {
            first,
            last,
            growth_rates: 0,
        });
    }
    let quarters = (last.quarters_since(first) + 1) as usize;
    let mut levels = Vec::with_capacity(quarters);
    for i in 0..quarters {
        let quarter = first.plus(i as u32);
        let row = history.get(quarter).expect("within the span");
        match row.revenue_rmb_bn {
            Some(r) => levels.push(r.ln()),
            None => {
                return Err(CalibrationError::MissingRevenue {
                    source_name: history.source.clone(),
                    line: row.line,
                    quarter,
                    first,
                    last,
                });
            }
        }
    }
    let n = quarters - 1;
    if n < MIN_GROWTH_RATES {
        return Err(CalibrationError::TooShort {
            first,
            last,
            growth_rates: n,
        });
    }
    let growth = DVector::from_iterator(n, (1..quarters).map(|i| levels[i] - levels[i - 1]));
    let x = DMatrix::from_fn(n, 4, |row, col| {
        if col == 0 {
            return 1.0;
        }
        let (now, before) = (first.plus(row as u32 + 1), first.plus(row as u32));
        seasonal_column(col, now) - seasonal_column(col, before)
    });
    let (beta, covariance, residuals) = least_squares(&x, &growth);

    // Seasonal log factors d_1..d_4 (d_4 = −Σ), as a linear map of the coefficients.
    let map = DMatrix::from_fn(4, 4, |k, col| match (k, col) {
        (_, 0) => 0.0,
        (3, _) => -1.0,
        (k, col) => f64::from(u8::from(k + 1 == col)),
    });
    let d = &map * &beta;
    let d_cov = &map * &covariance * map.transpose();
    // f_k = e^{d_k} / mean(e^d); gradient ∂f_k/∂d_j = f_k (δ_kj − w_j), w_j = e^{d_j}/Σe^d.
    let exp: Vec<f64> = d.iter().map(|v| v.exp()).collect();
    let total: f64 = exp.iter().sum();
    let factors: Vec<f64> = exp.iter().map(|e| 4.0 * e / total).collect();
    let gradient = DMatrix::from_fn(4, 4, |k, j| {
        factors[k] * (f64::from(u8::from(k == j)) - exp[j] / total)
    });
    let f_cov = &gradient * d_cov * gradient.transpose();
    let seasonal_factors =
        std::array::from_fn(|k| estimate(factors[k], f_cov[(k, k)].max(0.0).sqrt()));

    let dof = (n - 4) as f64;
    let residual_sd = residuals.norm_squared().sqrt() / dof.sqrt();
    // AR(1) on the residuals, without intercept (they have mean zero).
    let lagged: f64 = (1..n).map(|t| residuals[t - 1] * residuals[t - 1]).sum();
    let cross: f64 = (1..n).map(|t| residuals[t] * residuals[t - 1]).sum();
    // Residuals all zero (a noiseless history): no persistence to measure.
    let rho = if lagged > 0.0 { cross / lagged } else { 0.0 };
    let innovations: Vec<f64> = (1..n)
        .map(|t| residuals[t] - rho * residuals[t - 1])
        .collect();
    let m = innovations.len() as f64;
    let innovation_sd = (innovations.iter().map(|e| e * e).sum::<f64>() / (m - 1.0)).sqrt();
    let rho_se = if lagged > 0.0 {
        innovation_sd / lagged.sqrt()
    } else {
        0.0
    };

    // μ's OLS SE, widened by the long-run variance of AR(1) residuals, (1 + ρ)/(1 − ρ).
    let long_run = if rho.abs() < 1.0 {
        ((1.0 + rho) / (1.0 - rho)).max(0.0)
    } else {
        f64::INFINITY
    };
    let mean_growth = estimate(beta[0], covariance[(0, 0)].sqrt() * long_run.sqrt());

    // Last year's realized growth; its noise is four quarters of AR(1) residuals.
    let year_ago = levels.len().checked_sub(5).map(|i| levels[i]);
    let recent = match year_ago {
        Some(l) => {
            let log_growth = levels[levels.len() - 1] - l;
            let r = rho.clamp(-0.999, 0.999);
            let variance_factor: f64 =
                4.0 + 2.0 * (1..4).map(|k| (4 - k) as f64 * r.powi(k)).sum::<f64>();
            let sd_log = residual_sd * variance_factor.max(0.0).sqrt();
            let growth = log_growth.exp() - 1.0;
            estimate(growth, (1.0 + growth) * sd_log)
        }
        None => estimate(f64::NAN, f64::NAN),
    };

    Ok(Calibration {
        first,
        last,
        growth_rates: n,
        // The reported figure itself, not its logarithm's exponential.
        start_revenue_rmb_bn: history.revenue(last).expect("checked above"),
        seasonal_factors,
        mean_quarterly_log_growth: mean_growth,
        recent_annual_growth: recent,
        residual_sd: estimate(residual_sd, residual_sd / (2.0 * dof).sqrt()),
        persistence: estimate(rho, rho_se),
        innovation_sd: estimate(innovation_sd, innovation_sd / (2.0 * (m - 1.0)).sqrt()),
    })
}

fn estimate(value: f64, se: f64) -> Estimate {
    Estimate { value, se }
}

impl Calibration {
    /// A TOML fragment with every number commented by how it was estimated and on which
    /// quarters: `[time]`, `[revenue.seasonality]`, and the one-segment revenue figures, as
    /// an active `[revenue.segments.NAME]` table when `segment` is given, else commented
    /// out (a multi-segment scenario splits the start revenue among its segments).
    pub fn to_toml(&self, history_source: &str, segment: Option<&str>) -> String {
        let f = |e: Estimate, digits: usize| format!("{:.digits$}", e.value);
        let se = |e: Estimate, digits: usize| format!("{:.digits$}", e.se);
        let window = format!(
            "{} growth rates, {} to {}",
            self.growth_rates,
            self.first.plus(1),
            self.last
        );
        let mut out = String::new();
        out.push_str(&format!(
            "# Revenue assumptions fitted by `cloudcapex calibrate` (cloudcapex {}) to\n\
             # {history_source}, quarters {} to {} (quarterly log growth, {window}).\n\
             # Model (docs/model.md, \"Calibration from history\"):\n\
             #   ln R_t - ln R_(t-1) = mu + seasonal difference + u_t,  u_t = rho u_(t-1) + e_t\n\
             # Standard errors (SE) are the fit's; with so few quarters, treat them as wide.\n\
             # deseasonalized mean quarterly log growth mu = {} (SE {}): {:.1}%/yr over the window.\n\
             # residual sd of quarterly log growth = {} (SE {}).\n\n",
            env!("CARGO_PKG_VERSION"),
            self.first,
            self.last,
            f(self.mean_quarterly_log_growth, 4),
            se(self.mean_quarterly_log_growth, 4),
            100.0 * ((4.0 * self.mean_quarterly_log_growth.value).exp() - 1.0),
            f(self.residual_sd, 4),
            se(self.residual_sd, 4),
        ));
        out.push_str(&format!(
            "[time]\nstart_quarter = \"{}\"    # the last quarter the fit used\n\n",
            self.last
        ));
        out.push_str(&format!(
            "# Seasonal factors (mean 1): quarter dummies on the {window}.\n[revenue.seasonality]\n"
        ));
        // Four decimals, the last set so that the written factors average exactly 1.
        let mut written: Vec<f64> = self.seasonal_factors[..3]
            .iter()
            .map(|e| (e.value * 1e4).round() / 1e4)
            .collect();
        written.push(((4.0 - written.iter().sum::<f64>()) * 1e4).round() / 1e4);
        for (k, e) in self.seasonal_factors.iter().enumerate() {
            out.push_str(&format!(
                "q{} = {:.4}    # SE {}\n",
                k + 1,
                written[k],
                se(*e, 4)
            ));
        }
        let comment = if segment.is_some() { "" } else { "# " };
        let name = segment.unwrap_or("total");
        out.push('\n');
        if segment.is_none() {
            out.push_str(
                "# One segment carrying all of the reported revenue. Uncomment for a one-segment\n\
                 # scenario (or rerun with --segment NAME); a multi-segment scenario splits\n\
                 # start_revenue_rmb_bn among its segments and reads the shocks as a guide.\n",
            );
        }
        let recent = self.recent_annual_growth;
        let lines = [
            format!("[revenue.segments.{name}]"),
            format!(
                "start_revenue_rmb_bn = {}    # reported {} (data, no SE)",
                toml_float(self.start_revenue_rmb_bn),
                self.last
            ),
            format!(
                "initial_growth = {}    # SE {}: realized growth {} to {}",
                f(recent, 3),
                se(recent, 3),
                Quarter::new(self.last.year() - 1, self.last.quarter_of_year())
                    .map_or_else(|_| "a year earlier".to_string(), |q| q.to_string()),
                self.last
            ),
            "terminal_growth = 0.05    # ASSUMPTION: history cannot tell the long run".to_string(),
            "growth_half_life_quarters = 8    # ASSUMPTION: history cannot tell the fade".to_string(),
            format!(
                "shock_persistence = {}    # SE {}: AR(1) of the residuals",
                f(clamp_persistence(self.persistence), 3),
                se(self.persistence, 3)
            ),
            format!(
                "persistent_shock_sd = {}    # SE {}: sd of the AR(1) innovations",
                f(self.innovation_sd, 4),
                se(self.innovation_sd, 4)
            ),
            "iid_shock_sd = 0.0    # not identified apart from the persistent shock on so few quarters".to_string(),
        ];
        for line in lines {
            out.push_str(comment);
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

/// A number as a TOML float: always with a decimal point (`41600000000000000000` would be
/// read as an integer, and overflow).
fn toml_float(x: f64) -> String {
    let text = crate::output::plain(x);
    if text.contains(['.', 'e', 'E', 'n', 'i']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// The scenario's valid range for `shock_persistence` is (−1, 1).
fn clamp_persistence(e: Estimate) -> Estimate {
    Estimate {
        value: e.value.clamp(-0.99, 0.99),
        se: e.se,
    }
}
