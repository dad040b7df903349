//! Finance primitives over plain slices of cash flows.
//!
//! **Conventions.** `flows[0]` happens at t = 0 and is **not discounted**; `flows[k]` happens
//! `k` periods later and is discounted by `(1 + rate)^k`. Rates are per period (use
//! `(1 + annual)^(1/4) - 1` for quarterly flows). `xnpv`/`xirr` discount by the actual
//! number of days from the first date over 365 (Act/365), as Excel's XNPV and XIRR do.
//!
//! **IRR.** Roots are searched for rates in [`IRR_MIN_RATE`], [`IRR_MAX_RATE`] by
//! bracketing and Brent's method (which never leaves its bracket), never by a bare Newton step. Flows with one sign change have at
//! most one root (Descartes' rule of signs), bracketed on the whole range. Flows
//! with several sign changes may have several roots: the range is scanned on a grid of
//! [`IRR_SCAN_POINTS`] points, even in `x = ln(1 + rate)` and split at `x = 0`, evaluating
//! the NPV and its slope. A sign change of the NPV between two grid points brackets a root;
//! a sign change of the slope brackets an extremum, which is located by Brent's method, and if
//! the NPV changes sign there the two roots on either side are bracketed too. Every root is
//! refined by Brent's bracketed method and all are reported ([`Irr::Multiple`]). Only a cluster of three or
//! more roots of the slope within one grid step (about 15% in `1 + rate`) could hide roots.

/// Lowest per-period rate searched for an IRR.
pub const IRR_MIN_RATE: f64 = -0.9999;
/// Highest per-period rate searched for an IRR.
pub const IRR_MAX_RATE: f64 = 1000.0;
/// Grid points of the scan for flows with several sign changes (on each side of rate 0).
pub const IRR_SCAN_POINTS: usize = 64;

/// Why a finance function refused its input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FinanceError {
    /// No cash flows.
    #[error("no cash flows")]
    Empty,
    /// A flow (or rate) is NaN or infinite.
    #[error("cash flow {index} is not a finite number")]
    NonFinite {
        /// Index of the flow.
        index: usize,
    },
    /// A rate at or below -100%.
    #[error("rate {rate} must be finite and greater than -1")]
    RateOutOfRange {
        /// The rate.
        rate: f64,
    },
    /// `flows` and `dates` differ in length.
    #[error("{flows} flows but {dates} dates")]
    LengthMismatch {
        /// Number of flows.
        flows: usize,
        /// Number of dates.
        dates: usize,
    },
    /// A date precedes the first date.
    #[error("date {index} is before the first date")]
    DateBeforeFirst {
        /// Index of the date.
        index: usize,
    },
}

/// The internal rate(s) of return of a cash-flow series.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Irr {
    /// Exactly one root in the searched range.
    Unique(f64),
    /// No root in the searched range (e.g. all flows of one sign).
    NoRoot,
    /// Several roots (non-conventional flows), ascending. Which one is "the" IRR is a
    /// modelling choice; none is silently picked.
    Multiple(Vec<f64>),
    /// Every flow is zero: every rate is a root.
    Indeterminate,
}

impl Irr {
    /// The rate when it is unique.
    pub fn unique(&self) -> Option<f64> {
        match self {
            Irr::Unique(r) => Some(*r),
            _ => None,
        }
    }
}

fn check_flows(flows: &[f64]) -> Result<(), FinanceError> {
    if flows.is_empty() {
        return Err(FinanceError::Empty);
    }
    match flows.iter().position(|f| !f.is_finite()) {
        Some(index) => Err(FinanceError::NonFinite { index }),
        None => Ok(()),
    }
}

fn check_rate(rate: f64) -> Result<(), FinanceError> {
    if rate.is_finite() && rate > -1.0 {
        Ok(())
    } else {
        Err(FinanceError::RateOutOfRange { rate })
    }
}

/// Net present value at a per-period `rate`; `flows[0]` is at t = 0, undiscounted.
/// Horner's scheme: `flows[0] + v (flows[1] + v (flows[2] + ...))`, `v = 1/(1+rate)`.
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow, or `rate <= -1`.
///
/// # Examples
///
/// ```
/// use cloudcapex::finance::npv;
/// // numpy-financial's test: npv(0.05, [-15000, 1500, 2500, 3500, 4500, 6000]) = 122.894855
/// let v = npv(0.05, &[-15000.0, 1500.0, 2500.0, 3500.0, 4500.0, 6000.0]).unwrap();
/// assert!((v - 122.894854950940).abs() < 1e-8);
/// ```
pub fn npv(rate: f64, flows: &[f64]) -> Result<f64, FinanceError> {
    check_flows(flows)?;
    check_rate(rate)?;
    Ok(npv_unchecked(rate, flows))
}

/// [`npv`] without checks, for hot loops over validated flows.
#[inline]
pub(crate) fn npv_unchecked(rate: f64, flows: &[f64]) -> f64 {
    let v = 1.0 / (1.0 + rate);
    flows.iter().rev().fold(0.0, |acc, &f| acc * v + f)
}

/// Number of sign changes, zeros skipped: an upper bound on the number of IRRs.
fn sign_changes(flows: &[f64]) -> usize {
    let mut last = 0.0f64;
    let mut changes = 0;
    for &f in flows.iter().filter(|f| **f != 0.0) {
        if last != 0.0 && (f > 0.0) != (last > 0.0) {
            changes += 1;
        }
        last = f;
    }
    changes
}

/// [`scaled_npv`] without the slope (half the work, for root refinement).
fn scaled_npv_value(flows: &[f64], x: f64) -> f64 {
    if x >= 0.0 {
        let v = (-x).exp();
        flows.iter().rev().fold(0.0, |acc, &f| acc * v + f)
    } else {
        let w = x.exp();
        flows.iter().fold(0.0, |acc, &f| acc * w + f)
    }
}

/// Sign-preserving NPV and its slope as functions of `x = ln(1 + rate)`: `Σ c_k e^{-kx}`
/// for `x >= 0`, and that times `e^{nx}` (`Σ c_k e^{(n-k)x}`) for `x < 0`, so that neither
/// overflows. Each side is a smooth function whose roots are the NPV's roots.
fn scaled_npv(flows: &[f64], x: f64) -> (f64, f64) {
    if x >= 0.0 {
        let v = (-x).exp();
        let (mut value, mut slope) = (0.0, 0.0);
        for (k, &f) in flows.iter().enumerate().rev() {
            value = value * v + f;
            slope = slope * v - k as f64 * f;
        }
        (value, slope)
    } else {
        let w = x.exp();
        let n = flows.len() - 1;
        let (mut value, mut slope) = (0.0, 0.0);
        for (k, &f) in flows.iter().enumerate() {
            value = value * w + f;
            slope = slope * w + (n - k) as f64 * f;
        }
        (value, slope)
    }
}

/// Brent's method (Brent 1973, "zeroin") on a bracket `[a, b]` where `f(a)` and `f(b)`
/// have opposite signs: inverse quadratic interpolation and secant steps, falling back to
/// bisection whenever they would leave the bracket or converge slowly. Always stays
/// bracketed and stops after at most 200 steps.
fn brent(f: &dyn Fn(f64) -> f64, a: f64, b: f64, fa: f64) -> f64 {
    let (mut a, mut b, mut fa) = (a, b, fa);
    let mut fb = f(b);
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            (c, fc) = (a, fa);
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, fa) = (b, fb);
            (b, fb) = (c, fc);
            (c, fc) = (a, fa);
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 1e-16;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return b;
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * m * s, 1.0 - s)
            } else {
                let (q0, r) = (fa / fc, fb / fc);
                (
                    s * (2.0 * m * q0 * (q0 - r) - (b - a) * (r - 1.0)),
                    (q0 - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b);
    }
    b
}

/// Roots of a smooth `f` (given with its slope) on `[x_min, x_max]`, scanning `points`
/// grid points, or only the ends when at most one root is possible.
/// Evaluates value and slope at many points, in order, into its output.
type Scan<'a> = dyn Fn(&[f64], &mut Vec<(f64, f64)>) + 'a;

/// A smooth function whose roots are sought: value and slope at a point, the same at many
/// points, and the value alone.
struct Smooth<'a> {
    point: &'a dyn Fn(f64) -> (f64, f64),
    scan: &'a Scan<'a>,
    value: &'a dyn Fn(f64) -> f64,
}

fn roots_on(
    f: &Smooth<'_>,
    at_most_one: bool,
    x_min: f64,
    x_max: f64,
    points: usize,
    found: &mut Vec<f64>,
) {
    let points = if at_most_one { 2 } else { points };
    let xs: Vec<f64> = (0..points)
        .map(|i| {
            if i == 0 {
                x_min
            } else if i == points - 1 {
                x_max
            } else {
                x_min + (x_max - x_min) * i as f64 / (points - 1) as f64
            }
        })
        .collect();
    // Every grid point at once: independent evaluations pipeline, the scan below is the
    // same as evaluating point by point.
    let (value, slope) = (f.value, |x: f64| (f.point)(x).1);
    let mut on_grid = Vec::with_capacity(points);
    (f.scan)(&xs, &mut on_grid);
    let (mut a, (mut fa, mut da)) = (xs[0], on_grid[0]);
    if fa == 0.0 {
        found.push(a);
    }
    for (&b, &(fb, db)) in xs.iter().zip(&on_grid).skip(1) {
        if fb == 0.0 {
            found.push(b);
        } else if fa != 0.0 && (fb > 0.0) != (fa > 0.0) {
            found.push(brent(value, a, b, fa));
        } else if !at_most_one && fa != 0.0 && (da > 0.0) != (db > 0.0) && da != 0.0 && db != 0.0 {
            // An extremum inside: if the NPV crosses zero there, two roots hide in [a, b].
            let extremum = brent(&slope, a, b, da);
            let fe = value(extremum);
            if fe == 0.0 {
                found.push(extremum);
            } else if (fe > 0.0) != (fa > 0.0) {
                found.push(brent(value, a, extremum, fa));
                found.push(brent(value, extremum, b, fe));
            }
        }
        (a, fa, da) = (b, fb, db);
    }
}

/// Roots of `f` on both sides of `x = 0`.
fn roots(f: &Smooth<'_>, at_most_one: bool) -> Vec<f64> {
    let (x_min, x_max) = (IRR_MIN_RATE.ln_1p(), IRR_MAX_RATE.ln_1p());
    let mut found = Vec::new();
    if at_most_one {
        // One root at most: the two sides' functions differ by a positive factor, so a
        // sign change anywhere shows between the ends of one side or across 0.
        roots_on(f, true, x_min, 0.0, 2, &mut found);
        if found.is_empty() {
            roots_on(f, true, 0.0, x_max, 2, &mut found);
        }
    } else {
        roots_on(f, false, x_min, 0.0, IRR_SCAN_POINTS, &mut found);
        roots_on(f, false, 0.0, x_max, IRR_SCAN_POINTS, &mut found);
    }
    found
}

/// [`scaled_npv`] at every point of `xs`, eight points at a time where they are on the same
/// side (the same operations per point, so the same results, without one long chain of
/// dependent multiply-adds per point).
fn scaled_npv_scan(flows: &[f64], xs: &[f64], out: &mut Vec<(f64, f64)>) {
    const LANES: usize = 8;
    out.clear();
    let n = flows.len().saturating_sub(1);
    for chunk in xs.chunks(LANES) {
        if chunk.len() == LANES && chunk.iter().all(|&x| x >= 0.0) {
            let v: [f64; LANES] = std::array::from_fn(|l| (-chunk[l]).exp());
            let (mut value, mut slope) = ([0.0; LANES], [0.0; LANES]);
            for (k, &f) in flows.iter().enumerate().rev() {
                let weighted = k as f64 * f;
                for l in 0..LANES {
                    value[l] = value[l] * v[l] + f;
                    slope[l] = slope[l] * v[l] - weighted;
                }
            }
            out.extend((0..LANES).map(|l| (value[l], slope[l])));
        } else if chunk.len() == LANES && chunk.iter().all(|&x| x < 0.0) {
            let w: [f64; LANES] = std::array::from_fn(|l| chunk[l].exp());
            let (mut value, mut slope) = ([0.0; LANES], [0.0; LANES]);
            for (k, &f) in flows.iter().enumerate() {
                let weighted = (n - k) as f64 * f;
                for l in 0..LANES {
                    value[l] = value[l] * w[l] + f;
                    slope[l] = slope[l] * w[l] + weighted;
                }
            }
            out.extend((0..LANES).map(|l| (value[l], slope[l])));
        } else {
            out.extend(chunk.iter().map(|&x| scaled_npv(flows, x)));
        }
    }
}

fn classify(mut rates: Vec<f64>) -> Irr {
    rates.sort_by(f64::total_cmp);
    rates.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * (1.0 + b.abs()));
    match rates.len() {
        0 => Irr::NoRoot,
        1 => Irr::Unique(rates[0]),
        _ => Irr::Multiple(rates),
    }
}

/// Internal rate(s) of return per period: the rates where [`npv`] is zero.
///
/// # Errors
///
/// [`FinanceError`] for no flows or a non-finite flow. Never panics, never loops.
///
/// # Examples
///
/// ```
/// use cloudcapex::finance::{irr, Irr};
/// // Excel's IRR documentation example.
/// let r = irr(&[-70000.0, 12000.0, 15000.0, 18000.0, 21000.0, 26000.0]).unwrap();
/// assert!((r.unique().unwrap() - 0.0866309480).abs() < 1e-9);
/// // Two sign changes, two roots: reported, not silently chosen.
/// match irr(&[-100.0, 230.0, -132.0]).unwrap() {
///     Irr::Multiple(roots) => {
///         assert!((roots[0] - 0.10).abs() < 1e-12 && (roots[1] - 0.20).abs() < 1e-12)
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn irr(flows: &[f64]) -> Result<Irr, FinanceError> {
    check_flows(flows)?;
    if flows.iter().all(|f| *f == 0.0) {
        return Ok(Irr::Indeterminate);
    }
    let changes = sign_changes(flows);
    if changes == 0 {
        return Ok(Irr::NoRoot);
    }
    let f = |x: f64| scaled_npv(flows, x);
    let scan = |xs: &[f64], out: &mut Vec<(f64, f64)>| scaled_npv_scan(flows, xs, out);
    let value = |x: f64| scaled_npv_value(flows, x);
    let smooth = Smooth {
        point: &f,
        scan: &scan,
        value: &value,
    };
    let xs = roots(&smooth, changes == 1);
    Ok(classify(xs.into_iter().map(f64::exp_m1).collect()))
}

/// Modified internal rate of return: negative flows financed at `finance_rate`, positive
/// flows reinvested at `reinvest_rate`, as Excel's MIRR. `None` when the flows lack a
/// negative or a positive flow.
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow or a rate `<= -1`.
///
/// # Examples
///
/// ```
/// use cloudcapex::finance::mirr;
/// // Excel's MIRR documentation example: 12.61%.
/// let flows = [-120000.0, 39000.0, 30000.0, 21000.0, 37000.0, 46000.0];
/// let m = mirr(&flows, 0.10, 0.12).unwrap().unwrap();
/// assert!((m - 0.126094).abs() < 1e-6);
/// ```
pub fn mirr(
    flows: &[f64],
    finance_rate: f64,
    reinvest_rate: f64,
) -> Result<Option<f64>, FinanceError> {
    check_flows(flows)?;
    check_rate(finance_rate)?;
    check_rate(reinvest_rate)?;
    let n = flows.len();
    if n < 2 {
        return Ok(None);
    }
    let last = (n - 1) as f64;
    let future_positive: f64 = flows
        .iter()
        .enumerate()
        .filter(|(_, f)| **f > 0.0)
        .map(|(k, f)| f * (1.0 + reinvest_rate).powf(last - k as f64))
        .sum();
    let present_negative: f64 = flows
        .iter()
        .enumerate()
        .filter(|(_, f)| **f < 0.0)
        .map(|(k, f)| f / (1.0 + finance_rate).powi(k as i32))
        .sum();
    if future_positive == 0.0 || present_negative == 0.0 {
        return Ok(None);
    }
    Ok(Some(
        (future_positive / -present_negative).powf(1.0 / last) - 1.0,
    ))
}

/// Payback period: the first index from which cumulative flows are `>= 0` at that index
/// and every later one. `None` ("never") if the cumulative ends negative. Undiscounted;
/// see [`discounted_payback`].
///
/// # Errors
///
/// [`FinanceError`] for no flows or a non-finite flow.
///
/// # Examples
///
/// ```
/// use cloudcapex::finance::payback;
/// assert_eq!(payback(&[-100.0, 30.0, 40.0, 50.0]).unwrap(), Some(3));
/// assert_eq!(payback(&[-100.0, 30.0, 40.0]).unwrap(), None);
/// assert_eq!(payback(&[-100.0, 150.0, -80.0, 100.0]).unwrap(), Some(3)); // dips again at 2
/// ```
pub fn payback(flows: &[f64]) -> Result<Option<usize>, FinanceError> {
    check_flows(flows)?;
    Ok(payback_unchecked(flows.iter().copied()))
}

pub(crate) fn payback_unchecked(flows: impl Iterator<Item = f64>) -> Option<usize> {
    let mut cumulative = 0.0;
    let mut since = None;
    for (k, f) in flows.enumerate() {
        cumulative += f;
        if cumulative >= 0.0 {
            since.get_or_insert(k);
        } else {
            since = None;
        }
    }
    since
}

/// [`payback`] of the flows discounted at the per-period `rate`.
///
/// # Errors
///
/// [`FinanceError`] as [`npv`].
///
/// # Examples
///
/// ```
/// use cloudcapex::finance::discounted_payback;
/// assert_eq!(discounted_payback(0.1, &[-100.0, 60.0, 60.0]).unwrap(), Some(2));
/// assert_eq!(discounted_payback(0.3, &[-100.0, 60.0, 60.0]).unwrap(), None);
/// ```
pub fn discounted_payback(rate: f64, flows: &[f64]) -> Result<Option<usize>, FinanceError> {
    check_flows(flows)?;
    check_rate(rate)?;
    let v = 1.0 / (1.0 + rate);
    Ok(payback_unchecked(flows.iter().scan(1.0, |d, f| {
        let discounted = f * *d;
        *d *= v;
        Some(discounted)
    })))
}

fn year_fractions(flows: &[f64], dates: &[crate::time::Date]) -> Result<Vec<f64>, FinanceError> {
    check_flows(flows)?;
    if flows.len() != dates.len() {
        return Err(FinanceError::LengthMismatch {
            flows: flows.len(),
            dates: dates.len(),
        });
    }
    dates
        .iter()
        .enumerate()
        .map(|(index, d)| {
            let days = d.days_since(dates[0]);
            if days < 0 {
                Err(FinanceError::DateBeforeFirst { index })
            } else {
                Ok(days as f64 / 365.0)
            }
        })
        .collect()
}

/// NPV of dated flows, Act/365 from the first date (Excel's XNPV).
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow, a rate `<= -1`, a length mismatch or
/// a date before the first.
///
/// # Examples
///
/// ```
/// use cloudcapex::finance::xnpv;
/// use cloudcapex::time::Date;
/// // Excel's XNPV documentation example: 2086.65.
/// let flows = [-10000.0, 2750.0, 4250.0, 3250.0, 2750.0];
/// let dates = [(2008, 1, 1), (2008, 3, 1), (2008, 10, 30), (2009, 2, 15), (2009, 4, 1)]
///     .map(|(y, m, d)| Date::new(y, m, d).unwrap());
/// assert!((xnpv(0.09, &flows, &dates).unwrap() - 2086.65).abs() < 0.005);
/// ```
pub fn xnpv(rate: f64, flows: &[f64], dates: &[crate::time::Date]) -> Result<f64, FinanceError> {
    check_rate(rate)?;
    let years = year_fractions(flows, dates)?;
    Ok(flows
        .iter()
        .zip(&years)
        .map(|(f, t)| f * (1.0 + rate).powf(-t))
        .sum())
}

/// IRR of dated flows, Act/365 (Excel's XIRR), with the same guarantees as [`irr`].
///
/// # Errors
///
/// [`FinanceError`] as [`xnpv`].
///
/// # Examples
///
/// ```
/// use cloudcapex::finance::xirr;
/// use cloudcapex::time::Date;
/// // Excel's XIRR documentation example: 0.373362535.
/// let flows = [-10000.0, 2750.0, 4250.0, 3250.0, 2750.0];
/// let dates = [(2008, 1, 1), (2008, 3, 1), (2008, 10, 30), (2009, 2, 15), (2009, 4, 1)]
///     .map(|(y, m, d)| Date::new(y, m, d).unwrap());
/// let r = xirr(&flows, &dates).unwrap().unique().unwrap();
/// assert!((r - 0.373362535).abs() < 1e-8);
/// ```
pub fn xirr(flows: &[f64], dates: &[crate::time::Date]) -> Result<Irr, FinanceError> {
    let years = year_fractions(flows, dates)?;
    if flows.iter().all(|f| *f == 0.0) {
        return Ok(Irr::Indeterminate);
    }
    // Flows ordered by date keep Descartes' bound; otherwise scan.
    let ordered = years.windows(2).all(|w| w[0] <= w[1]);
    let changes = sign_changes(flows);
    if ordered && changes == 0 {
        return Ok(Irr::NoRoot);
    }
    let f = |x: f64| {
        flows
            .iter()
            .zip(&years)
            .fold((0.0, 0.0), |(value, slope), (c, t)| {
                let term = c * (-x * t).exp();
                (value + term, slope - t * term)
            })
    };
    let value = |x: f64| f(x).0;
    let scan = |xs: &[f64], out: &mut Vec<(f64, f64)>| {
        out.clear();
        out.extend(xs.iter().map(|&x| f(x)));
    };
    let smooth = Smooth {
        point: &f,
        scan: &scan,
        value: &value,
    };
    let xs = roots(&smooth, ordered && changes == 1);
    Ok(classify(xs.into_iter().map(f64::exp_m1).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unique(flows: &[f64]) -> f64 {
        irr(flows)
            .unwrap()
            .unique()
            .unwrap_or_else(|| panic!("{flows:?}: {:?}", irr(flows)))
    }

    /// numpy-financial's test_financial.py values (rounded as published there).
    #[test]
    fn numpy_financial_irr_values() {
        assert!(
            (unique(&[-150000.0, 15000.0, 25000.0, 35000.0, 45000.0, 60000.0]) - 0.0524).abs()
                < 5e-5
        );
        assert!((unique(&[-100.0, 0.0, 0.0, 74.0]) - (-0.0955)).abs() < 5e-5);
        assert!((unique(&[-100.0, 39.0, 59.0, 55.0, 20.0]) - 0.28095).abs() < 5e-6);
        assert!((unique(&[-100.0, 100.0, 0.0, 7.0]) - 0.06206).abs() < 5e-6);
        // Non-conventional flows: numpy-financial returns the root nearest 0; we return all.
        let Irr::Multiple(roots) = irr(&[-5.0, 10.5, 1.0, -8.0, 1.0]).unwrap() else {
            panic!()
        };
        assert!(roots.iter().any(|r| (r - 0.0886).abs() < 5e-5), "{roots:?}");
        assert_eq!(roots.len(), 3, "{roots:?}");
        let Irr::Multiple(roots) = irr(&[-100.0, 100.0, 0.0, -7.0]).unwrap() else {
            panic!()
        };
        assert!(
            roots.iter().any(|r| (r - (-0.0833)).abs() < 5e-5),
            "{roots:?}"
        );
    }

    /// Excel's IRR documentation: five years, four years, and two years of the same project.
    #[test]
    fn excel_irr_values() {
        let flows = [-70000.0, 12000.0, 15000.0, 18000.0, 21000.0, 26000.0];
        assert!((unique(&flows) - 0.0866309480).abs() < 1e-9);
        assert!((unique(&flows[..5]) - (-0.0212448)).abs() < 1e-7);
        assert!((unique(&flows[..3]) - (-0.4435069)).abs() < 1e-7);
    }

    /// Two roots 1% apart fall inside one grid step: found through the extremum between them.
    #[test]
    fn close_roots_are_both_found() {
        // NPV · (1+r)² = -(w - 1.10)(w - 1.11), w = 1 + r.
        let Irr::Multiple(roots) = irr(&[-1.0, 2.21, -1.221]).unwrap() else {
            panic!()
        };
        assert_eq!(roots.len(), 2);
        assert!(
            (roots[0] - 0.10).abs() < 1e-12 && (roots[1] - 0.11).abs() < 1e-12,
            "{roots:?}"
        );
        let Irr::Multiple(roots) = irr(&[1.0, -2.21, 1.221]).unwrap() else {
            panic!()
        };
        assert_eq!(roots.len(), 2);
    }

    #[test]
    fn degenerate_inputs_are_typed_not_panics() {
        assert_eq!(irr(&[0.0, 0.0]).unwrap(), Irr::Indeterminate);
        assert_eq!(irr(&[100.0, 50.0]).unwrap(), Irr::NoRoot);
        assert_eq!(irr(&[]).unwrap_err(), FinanceError::Empty);
        assert_eq!(
            irr(&[1.0, f64::NAN]).unwrap_err(),
            FinanceError::NonFinite { index: 1 }
        );
        assert!(npv(-1.0, &[1.0]).is_err());
        assert_eq!(mirr(&[39000.0, 30000.0, 21000.0], 0.1, 0.12).unwrap(), None);
    }

    #[test]
    fn numpy_financial_mirr_values() {
        let m = |f: &[f64], a, b| mirr(f, a, b).unwrap().unwrap();
        assert!(
            (m(
                &[
                    -4500.0, -800.0, 800.0, 800.0, 600.0, 600.0, 800.0, 800.0, 700.0, 3000.0
                ],
                0.08,
                0.055
            ) - 0.0666)
                .abs()
                < 5e-5
        );
        assert!((m(&[100.0, 200.0, -50.0, 300.0, -200.0], 0.05, 0.06) - 0.3428).abs() < 5e-5);
    }

    proptest! {
        /// NPV at the reported IRR is zero, and NPV falls as the rate rises for
        /// conventional flows.
        #[test]
        fn irr_zeroes_npv(outlay in 1.0f64..1e4, inflows in prop::collection::vec(0.0f64..5e3, 1..60)) {
            let mut flows = vec![-outlay];
            flows.extend(inflows);
            match irr(&flows).unwrap() {
                Irr::Unique(r) => {
                    let scale: f64 = flows.iter().map(|f| f.abs()).sum();
                    prop_assert!(npv(r, &flows).unwrap().abs() <= 1e-8 * scale);
                }
                Irr::NoRoot => {}
                other => prop_assert!(false, "conventional flows gave {:?}", other),
            }
            let (a, b) = (npv(0.01, &flows).unwrap(), npv(0.02, &flows).unwrap());
            prop_assert!(b <= a);
        }

        /// Every reported root brackets a sign change of NPV (a root, not a stray point).
        #[test]
        fn every_reported_root_is_a_root(flows in prop::collection::vec(-100.0f64..100.0, 2..12)) {
            let rates = match irr(&flows).unwrap() {
                Irr::Unique(r) => vec![r],
                Irr::Multiple(rs) => rs,
                _ => vec![],
            };
            for r in rates {
                let x = r.ln_1p();
                let (below, above) = (scaled_npv(&flows, x - 1e-9).0, scaled_npv(&flows, x + 1e-9).0);
                prop_assert!(below == 0.0 || above == 0.0 || (below > 0.0) != (above > 0.0), "{} is not a root", r);
            }
        }
    }
}
