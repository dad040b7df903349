//! Finance primitives over plain slices of cash flows.
//!
//! **Conventions.** `flows[0]` happens at t = 0 and is **not discounted**; `flows[k]` happens
//! `k` periods later and is discounted by `(1 + rate)^k`. Rates are per period (use
//! `(1 + annual)^(1/4) - 1` for quarterly flows). `xnpv`/`xirr` discount by the actual
//! number of days from the first date over 365 (Act/365), as Excel's XNPV and XIRR do.
//!
//! **IRR: what is guaranteed.** Roots are sought for rates in the closed range
//! [[`IRR_MIN_RATE`], [`IRR_MAX_RATE`]] (a root within 10⁻⁹ of either end, in
//! `x = ln(1 + rate)`, is included), never by a bare Newton step:
//! - *Every reported root is a root*: the NPV changes sign across it (Brent's bracketed
//!   method, to a few ulps of `x`) or evaluates to exactly zero there, so its scaled residual
//!   `|NPV(r)| / Σ|c_k|(1+r)^-k` is at the level of rounding error.
//! - *No root is missed* unless it lies within [`IRR_RESOLUTION`] (in `x`) of another root, or
//!   it is a root of even multiplicity (the NPV touches zero without crossing it, which
//!   floating point cannot tell from a near miss), or it lies in a narrow region left to the
//!   end-sign test once the cell budget below is spent (only beside a root of high
//!   multiplicity). So [`Irr::Unique`] means one sign change of the NPV at that resolution and
//!   [`Irr::NoRoot`] none.
//! - *Refused* ([`FinanceError::DynamicRange`]) when the first or last non-zero flow is so
//!   much smaller than the largest (about 10^-292) that scaled together it would lose its
//!   precision: such flows have no IRR computable in `f64`.
//! - More roots than sign changes (Descartes' bound) can only be rounding noise around a
//!   root of high multiplicity: roots within 0.01 of each other in `x` are then merged into
//!   their median, which locates that root only as well as `f64` can.
//!
//! How: zero runs at either end are trimmed (they scale the NPV by a power of `1 + rate`
//! and would underflow it to a false zero) and the flows are scaled by a power of two. Each
//! side of rate 0 is written as `S(y) = Σ a_j e^{-λ_j y}`, `y ≥ 0`, with every exponential
//! at most 1, so nothing overflows (`y = x` above 0 with `a_j = c_j`; `y = -x` below 0 with
//! the flows reversed, which is the NPV times `(1 + rate)^n`). Flows with one sign change
//! have one root at most (Descartes' rule of signs), bracketed on the whole side. Otherwise
//! each side is split into cells until every cell is settled: *no root*, when the value at
//! its centre exceeds what its slope and the bound `Σ|a_j|λ_j² e^{-λ_j y}` on the curvature
//! (with a rounding allowance) can take to zero; *monotone*, when the slope cannot vanish in
//! it, so a sign change between its ends is its only root; or narrower than
//! [`IRR_RESOLUTION`], where a sign change is refined. A budget of narrow cells
//! ([`IRR_MAX_CELLS`] per side, cells narrower than 1/4096 of the side) bounds the work: it is
//! reached only where the NPV is within rounding of zero over a range (a root of high
//! multiplicity); past it narrow cells are settled by the signs at their ends alone, while
//! wider cells elsewhere on the side are still examined, so well-separated roots are found.
//!
//! **MIRR** is computed in log space, so long series at extreme rates neither overflow nor
//! underflow, with the two legs' leading terms compared as a ratio so that a MIRR near 0
//! keeps its digits. **NPV** functions return [`FinanceError::Overflow`] rather than an
//! infinite or NaN value when the exact result is beyond `f64`; `xnpv` sums its terms in log
//! form, so no term overflows or underflows on its own.

/// Lowest per-period rate searched for an IRR.
pub const IRR_MIN_RATE: f64 = -0.9999;
/// Highest per-period rate searched for an IRR.
pub const IRR_MAX_RATE: f64 = 1000.0;
/// Two roots closer than this in `x = ln(1 + rate)` (about 10⁻⁴ % in `1 + rate`) may be
/// missed; any root farther than this from every other is found.
pub const IRR_RESOLUTION: f64 = 1e-6;
/// Most narrow cells (narrower than 1/4096 of the side) examined on each side of rate 0 by
/// the root isolation; wider cells are always examined.
pub const IRR_MAX_CELLS: usize = 1 << 14;
/// How far beyond each end of the range a root is still reported, in `x`.
const CAP_MARGIN: f64 = 1e-9;
/// Gap in `x` below which roots found beyond Descartes' bound are merged (see `classify`).
const NOISE_MERGE: f64 = 1e-2;

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
    /// The first and last non-zero flows are so much smaller than the largest that scaled
    /// together they would not keep full precision in `f64` (a ratio beyond about 10^292):
    /// the roots near the ends of the range are not computable.
    #[error(
        "the flows span more than 10^292 in magnitude (largest {largest:e}, smallest end flow {end:e}): their IRR is not computable in f64"
    )]
    DynamicRange {
        /// Largest absolute flow.
        largest: f64,
        /// Smaller absolute value of the first and last non-zero flows.
        end: f64,
    },
    /// The exact result is beyond the range of `f64` (discounting at a rate near -1 over
    /// many periods).
    #[error("the result at rate {rate} is beyond the range of f64")]
    Overflow {
        /// The rate.
        rate: f64,
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
    /// Every flow is zero (after netting flows on the same date): every rate is a root.
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

fn finite_or_overflow(value: f64, rate: f64) -> Result<f64, FinanceError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(FinanceError::Overflow { rate })
    }
}

/// Net present value at a per-period `rate`; `flows[0]` is at t = 0, undiscounted.
/// Horner's scheme: `flows[0] + v (flows[1] + v (flows[2] + ...))`, `v = 1/(1+rate)`.
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow, `rate <= -1`, or an NPV beyond the
/// range of `f64` (a rate near -1 over many periods).
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
    finite_or_overflow(npv_unchecked(rate, flows), rate)
}

/// [`npv`] without checks, for hot loops over validated flows.
#[inline]
pub(crate) fn npv_unchecked(rate: f64, flows: &[f64]) -> f64 {
    let v = 1.0 / (1.0 + rate);
    flows.iter().rev().fold(0.0, |acc, &f| acc * v + f)
}

/// Number of sign changes, zeros skipped: an upper bound on the number of IRRs (Descartes;
/// for dated flows in date order, its generalisation to sums of exponentials).
fn sign_changes(flows: impl Iterator<Item = f64>) -> usize {
    let mut last = 0.0f64;
    let mut changes = 0;
    for f in flows.filter(|f| *f != 0.0) {
        if last != 0.0 && (f > 0.0) != (last > 0.0) {
            changes += 1;
        }
        last = f;
    }
    changes
}

/// A power of two that brings the largest `|flow|` near 1 (exact: scaling by it changes no
/// rounding), so that neither sums nor their bounds overflow or go subnormal.
fn power_of_two_scale(largest: f64) -> f64 {
    // largest is finite and non-zero; its exponent is in [-1074, 1023].
    let exponent = largest.log2().floor() as i32;
    2f64.powi(-exponent.clamp(-1000, 1000))
}

/// The scale for flows whose largest magnitude is `largest` and whose end flows (the terms
/// that dominate each side at the far end of the range) are `first` and `last`: refused when
/// an end flow would lose precision once scaled (subnormal or zero: a false root at the cap).
fn checked_scale(largest: f64, first: f64, last: f64) -> Result<f64, FinanceError> {
    let scale = power_of_two_scale(largest);
    let end = first.abs().min(last.abs());
    if end * scale < f64::MIN_POSITIVE / f64::EPSILON {
        return Err(FinanceError::DynamicRange { largest, end });
    }
    Ok(scale)
}

/// One side of rate 0 as `S(y) = Σ a_j e^{-λ_j y}` for `y ≥ 0`, `0 = λ_0 < λ_1 < ...`.
trait Side {
    /// `S(y)`.
    fn value(&self, y: f64) -> f64;
    /// `S(y)`, `S'(y)` and the bounds `Σ|a_j| λ_j^m e^{-λ_j y}`, m = 0, 1, 2, which bound
    /// `|S|`, `|S'|`, `|S''|` at every point `≥ y`.
    fn value_slope_bounds(&self, y: f64) -> [f64; 5];
    /// `S^{(m)}(y)` for `m < TAYLOR_ORDER` and the bounds `Σ|a_j| λ_j^m e^{-λ_j y}` for
    /// `m ≤ TAYLOR_ORDER`.
    fn derivatives(&self, y: f64) -> Taylor;
    /// Number of terms (for the rounding allowance).
    fn terms(&self) -> usize;
}

/// Order of the Taylor test used where the curvature bound alone cannot settle a cell
/// (the NPV nearly cancels: roots close together).
const TAYLOR_ORDER: usize = 12;

/// Derivatives and absolute bounds at one point (see [`Side::derivatives`]).
struct Taylor {
    derivatives: [f64; TAYLOR_ORDER],
    bounds: [f64; TAYLOR_ORDER + 1],
}

impl Taylor {
    fn new() -> Self {
        Taylor {
            derivatives: [0.0; TAYLOR_ORDER],
            bounds: [0.0; TAYLOR_ORDER + 1],
        }
    }

    /// Adds the term `a e^{-λ y}` (`e` = `e^{-λ y}`), or, with `v` given, does one Horner
    /// step: everything times `v` plus the term at `e = 1`.
    fn add(&mut self, lambda: f64, a: f64, e: f64, v: f64) {
        let (mut signed, mut size) = (a * e, a.abs() * e);
        for m in 0..TAYLOR_ORDER {
            self.derivatives[m] = self.derivatives[m] * v + signed;
            self.bounds[m] = self.bounds[m] * v + size;
            signed *= -lambda;
            size *= lambda;
        }
        self.bounds[TAYLOR_ORDER] = self.bounds[TAYLOR_ORDER] * v + size;
    }
}

/// Periodic flows: `λ_j = j`. Above rate 0 `a_j = c_j`; below it `a_j = c_{n-j}`
/// (`reversed`), which is the NPV times `(1 + rate)^n`.
struct Periodic<'a> {
    flows: &'a [f64],
    reversed: bool,
}

impl Side for Periodic<'_> {
    fn value(&self, y: f64) -> f64 {
        let v = (-y).exp();
        if self.reversed {
            self.flows.iter().fold(0.0, |acc, &f| acc * v + f)
        } else {
            self.flows.iter().rev().fold(0.0, |acc, &f| acc * v + f)
        }
    }

    fn value_slope_bounds(&self, y: f64) -> [f64; 5] {
        let v = (-y).exp();
        let n = self.flows.len() - 1;
        let mut acc = [0.0; 5];
        let mut step = |j: usize, f: f64| {
            let (lambda, size) = (j as f64, f.abs());
            acc[0] = acc[0] * v + f;
            acc[1] = acc[1] * v - lambda * f;
            acc[2] = acc[2] * v + size;
            acc[3] = acc[3] * v + lambda * size;
            acc[4] = acc[4] * v + lambda * lambda * size;
        };
        if self.reversed {
            for (k, &f) in self.flows.iter().enumerate() {
                step(n - k, f);
            }
        } else {
            for (k, &f) in self.flows.iter().enumerate().rev() {
                step(k, f);
            }
        }
        acc
    }

    fn derivatives(&self, y: f64) -> Taylor {
        let v = (-y).exp();
        let n = self.flows.len() - 1;
        let mut taylor = Taylor::new();
        if self.reversed {
            for (k, &f) in self.flows.iter().enumerate() {
                taylor.add((n - k) as f64, f, 1.0, v);
            }
        } else {
            for (k, &f) in self.flows.iter().enumerate().rev() {
                taylor.add(k as f64, f, 1.0, v);
            }
        }
        taylor
    }

    fn terms(&self) -> usize {
        self.flows.len()
    }
}

/// Dated flows: `(λ_j, a_j)` in increasing `λ`, `λ` in years.
struct Dated {
    terms: Vec<(f64, f64)>,
}

impl Side for Dated {
    fn value(&self, y: f64) -> f64 {
        self.terms.iter().map(|&(l, a)| a * (-l * y).exp()).sum()
    }

    fn value_slope_bounds(&self, y: f64) -> [f64; 5] {
        let mut acc = [0.0; 5];
        for &(l, a) in &self.terms {
            let e = (-l * y).exp();
            acc[0] += a * e;
            acc[1] -= l * a * e;
            acc[2] += a.abs() * e;
            acc[3] += l * a.abs() * e;
            acc[4] += l * l * a.abs() * e;
        }
        acc
    }

    fn derivatives(&self, y: f64) -> Taylor {
        let mut taylor = Taylor::new();
        for &(l, a) in &self.terms {
            taylor.add(l, a, (-l * y).exp(), 1.0);
        }
        taylor
    }

    fn terms(&self) -> usize {
        self.terms.len()
    }
}

/// Brent's method (Brent 1973, "zeroin") on a bracket `[a, b]` where `f(a)` and `f(b)`
/// have opposite signs: inverse quadratic interpolation and secant steps, falling back to
/// bisection whenever they would leave the bracket or converge slowly. Always stays
/// bracketed and stops after at most 200 steps.
fn brent(f: &dyn Fn(f64) -> f64, a: f64, b: f64, fa: f64, fb: f64) -> f64 {
    let (mut a, mut b, mut fa, mut fb) = (a, b, fa, fb);
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

fn crosses(fa: f64, fb: f64) -> bool {
    fa != 0.0 && fb != 0.0 && (fa > 0.0) != (fb > 0.0)
}

enum Settled {
    NoRoot,
    Monotone,
    No,
}

/// The Taylor test of order [`TAYLOR_ORDER`] on the cell `mid ± half` starting at `start`:
/// the expansion at `mid` with the remainder bounded by `B_M half^M / M!` (`B_M` at the
/// cell's start), and the same for the slope.
fn taylor_test(side: &dyn Side, start: f64, mid: f64, half: f64, rounding: f64) -> Settled {
    let at_mid = side.derivatives(mid);
    let remainder_bound = side.derivatives(start).bounds[TAYLOR_ORDER];
    let error = |m: usize| rounding * (at_mid.bounds[m] + at_mid.bounds[m + 1]);
    // Σ_{m=from}^{M-1} (|D_m| + e_m) h^{m-from} / (m-from)!  +  B_M h^{M-from} / (M-from)!
    let spread = |from: usize| {
        let (mut total, mut power) = (0.0, 1.0);
        for m in from + 1..TAYLOR_ORDER {
            power *= half / (m - from) as f64;
            total += (at_mid.derivatives[m].abs() + error(m)) * power;
        }
        power *= half / (TAYLOR_ORDER - from) as f64;
        total + remainder_bound * power
    };
    if at_mid.derivatives[0].abs() - error(0) > spread(0) {
        Settled::NoRoot
    } else if at_mid.derivatives[1].abs() - error(1) > spread(1) {
        Settled::Monotone
    } else {
        Settled::No
    }
}

/// Roots `y` of one side in `(0, y_end]` (the caller handles `y = 0`), given `S(0)`.
/// `at_most_one`: Descartes allows one root at most, so the ends' signs settle it.
fn side_roots(side: &dyn Side, at_zero: f64, y_end: f64, at_most_one: bool, found: &mut Vec<f64>) {
    let value = |y: f64| side.value(y);
    if at_most_one {
        let at_end = side.value(y_end);
        if at_end == 0.0 {
            found.push(y_end);
        } else if crosses(at_zero, at_end) {
            found.push(brent(&value, 0.0, y_end, at_zero, at_end));
        }
        return;
    }
    // Rounding allowance on computed sums: a few times n ulps of the absolute sums
    // (Horner's error bound, with the error of e^{-y} carried through the slope).
    let rounding = 4.0 * (side.terms() as f64 + 2.0) * f64::EPSILON;
    let at_start = side.value_slope_bounds(0.0);
    let at_end = side.value(y_end);
    if at_end == 0.0 {
        found.push(y_end);
    }
    // Cells as (start, S(start), bounds at start, end, S(end)): the bounds at a cell's start
    // hold over all of it, since every e^{-λ y} falls with y.
    let mut cells = vec![(
        0.0,
        at_zero,
        [at_start[2], at_start[3], at_start[4]],
        y_end,
        at_end,
    )];
    let mut examined = 0;
    while let Some((a, fa, [b0, b1, b2], b, fb)) = cells.pop() {
        let sign_change = crosses(fa, fb);
        // Only narrow cells count against the budget, so a cluster that exhausts it cannot
        // starve the rest of the side: wide cells are few and always examined.
        let narrow = b - a <= y_end / 4096.0;
        if narrow {
            examined += 1;
        }
        if narrow && examined > IRR_MAX_CELLS {
            if sign_change {
                found.push(brent(&value, a, b, fa, fb));
            }
            continue;
        }
        let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        let [s, ds, m0, m1, m2] = side.value_slope_bounds(mid);
        let (value_error, slope_error) = (rounding * (b0 + b1), rounding * (b1 + b2));
        if !sign_change
            && s.abs() - value_error > (ds.abs() + slope_error) * half + 0.5 * b2 * half * half
        {
            continue; // no root: the Taylor bound keeps S away from zero
        }
        if ds.abs() - slope_error > b2 * half || 2.0 * half <= IRR_RESOLUTION {
            // Monotone (or at the resolution): a sign change of the ends is the one root.
            if sign_change {
                found.push(brent(&value, a, b, fa, fb));
            }
            continue;
        }
        // Only where the NPV nearly cancels, or deep down: elsewhere the cheap test settles
        // cells at a few more splits for much less work.
        if half <= y_end / 64.0 && (s.abs() < 1e-3 * b0 || half <= y_end / 4096.0) {
            match taylor_test(side, a, mid, half, rounding) {
                Settled::NoRoot => continue,
                Settled::Monotone => {
                    if sign_change {
                        found.push(brent(&value, a, b, fa, fb));
                    }
                    continue;
                }
                Settled::No => {}
            }
        }
        if s == 0.0 {
            found.push(mid);
        }
        cells.push((mid, s, [m0, m1, m2], b, fb));
        cells.push((a, fa, [b0, b1, b2], mid, s));
    }
}

/// The roots as rates, ascending, roots that round to the same rate merged. More roots than
/// sign changes (Descartes' bound) means sign flips of rounding noise around a root of high
/// multiplicity: roots within [`NOISE_MERGE`] of each other in `ln(1 + r)` are then merged
/// into their median.
fn classify(mut rates: Vec<f64>, sign_changes: usize) -> Irr {
    rates.sort_by(f64::total_cmp);
    rates.dedup_by(|a, b| (*a - *b).abs() <= 1e-12 * (1.0 + b.abs()));
    if rates.len() > sign_changes {
        let mut merged = Vec::new();
        let mut group: Vec<f64> = Vec::new();
        for r in rates {
            if let Some(&last) = group.last()
                && (r.ln_1p() - last.ln_1p()).abs() > NOISE_MERGE
            {
                merged.push(group[group.len() / 2]);
                group.clear();
            }
            group.push(r);
        }
        if !group.is_empty() {
            merged.push(group[group.len() / 2]);
        }
        rates = merged;
    }
    match rates.len() {
        0 => Irr::NoRoot,
        1 => Irr::Unique(rates[0]),
        _ => Irr::Multiple(rates),
    }
}

/// Roots on both sides of rate 0, as rates: `above` and `below` are the two sides, `at_zero`
/// the NPV at rate 0 (one value for both, so their signs agree there).
fn roots_both_sides(above: &dyn Side, below: &dyn Side, at_zero: f64, changes: usize) -> Irr {
    let at_most_one = changes == 1;
    let (y_above, y_below) = (
        IRR_MAX_RATE.ln_1p() + CAP_MARGIN,
        -IRR_MIN_RATE.ln_1p() + CAP_MARGIN,
    );
    let mut rates = Vec::new();
    if at_zero == 0.0 {
        rates.push(0.0);
    }
    let mut ys = Vec::new();
    side_roots(above, at_zero, y_above, at_most_one, &mut ys);
    rates.extend(ys.drain(..).map(f64::exp_m1));
    if !at_most_one || rates.is_empty() {
        side_roots(below, at_zero, y_below, at_most_one, &mut ys);
        rates.extend(ys.into_iter().map(|y| (-y).exp_m1()));
    }
    classify(rates, changes)
}

/// Internal rate(s) of return per period: the rates where [`npv`] is zero, with the
/// guarantees stated in the [module docs](self).
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow, or flows spanning more than about
/// 10^292 in magnitude ([`FinanceError::DynamicRange`]). Never panics, never loops.
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
/// // Three roots 1% apart (0.10, 0.11, 0.12) are all found.
/// let Irr::Multiple(roots) = irr(&[-1.0, 3.33, -3.6962, 1.36752]).unwrap() else { panic!() };
/// assert_eq!(roots.len(), 3);
/// ```
pub fn irr(flows: &[f64]) -> Result<Irr, FinanceError> {
    check_flows(flows)?;
    // Zero runs at the ends only scale the NPV by a power of (1 + rate).
    let Some(first) = flows.iter().position(|f| *f != 0.0) else {
        return Ok(Irr::Indeterminate);
    };
    let last = flows.iter().rposition(|f| *f != 0.0).unwrap_or(first);
    let trimmed = &flows[first..=last];
    let changes = sign_changes(trimmed.iter().copied());
    if changes == 0 {
        return Ok(Irr::NoRoot);
    }
    let largest = trimmed.iter().fold(0.0f64, |m, f| m.max(f.abs()));
    let scale = checked_scale(largest, trimmed[0], trimmed[trimmed.len() - 1])?;
    let scaled: Vec<f64> = trimmed.iter().map(|f| f * scale).collect();
    let at_zero: f64 = scaled.iter().sum();
    let above = Periodic {
        flows: &scaled,
        reversed: false,
    };
    let below = Periodic {
        flows: &scaled,
        reversed: true,
    };
    Ok(roots_both_sides(&above, &below, at_zero, changes))
}

/// Modified internal rate of return: negative flows financed at `finance_rate`, positive
/// flows reinvested at `reinvest_rate`, as Excel's MIRR and numpy-financial's `mirr`:
/// `(FV(positive flows at reinvest_rate) / -PV(negative flows at finance_rate))^(1/(n-1)) - 1`.
/// Computed in log space, so it is finite whenever the exact value is. `None` when the
/// flows lack a negative or a positive flow.
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow or a rate `<= -1`, and
/// [`FinanceError::Overflow`] when the MIRR itself is beyond `f64`.
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
    let (log_reinvest, log_finance) = (reinvest_rate.ln_1p(), finance_rate.ln_1p());
    // Each leg as its largest term times a sum of ratios to it (log-sum-exp), and the
    // difference of the two largest terms' logs taken as the log of their flows' ratio where
    // that is representable, so a MIRR near 0 keeps its digits.
    let leg = |positive: bool| {
        let terms: Vec<(usize, f64)> = flows
            .iter()
            .enumerate()
            .filter(|(_, f)| if positive { **f > 0.0 } else { **f < 0.0 })
            .map(|(k, f)| {
                let growth = if positive {
                    (last - k as f64) * log_reinvest
                } else {
                    -(k as f64) * log_finance
                };
                (k, f.abs().ln() + growth)
            })
            .collect();
        let (top_index, top) = terms.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
        let ratios: f64 = terms.iter().map(|&(_, l)| (l - top).exp()).sum();
        Some((top_index, top, ratios))
    };
    let (Some((k_future, top_future, sum_future)), Some((k_present, top_present, sum_present))) =
        (leg(true), leg(false))
    else {
        return Ok(None);
    };
    let flow_ratio = flows[k_future].abs() / flows[k_present].abs();
    let top_difference = if flow_ratio.is_finite() && flow_ratio > 0.0 {
        flow_ratio.ln() + (last - k_future as f64) * log_reinvest + k_present as f64 * log_finance
    } else {
        top_future - top_present
    };
    let sums = ((sum_future - sum_present) / sum_present).ln_1p();
    let mirr = ((top_difference + sums) / last).exp_m1();
    finite_or_overflow(mirr, reinvest_rate).map(Some)
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
/// [`FinanceError`] as [`npv`], including [`FinanceError::Overflow`] when a discounted flow
/// is beyond the range of `f64`.
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
    let mut discount = 1.0;
    let mut discounted = Vec::with_capacity(flows.len());
    for &f in flows {
        discounted.push(finite_or_overflow(f * discount, rate)?);
        discount *= v;
    }
    let cumulative: f64 = discounted.iter().sum();
    finite_or_overflow(cumulative, rate)?;
    Ok(payback_unchecked(discounted.into_iter()))
}

/// Flows netted by date and sorted by it, as `(years from the first date, flow)`.
fn dated_terms(
    flows: &[f64],
    dates: &[crate::time::Date],
) -> Result<Vec<(f64, f64)>, FinanceError> {
    check_flows(flows)?;
    if flows.len() != dates.len() {
        return Err(FinanceError::LengthMismatch {
            flows: flows.len(),
            dates: dates.len(),
        });
    }
    let mut days = Vec::with_capacity(flows.len());
    for (index, (d, &f)) in dates.iter().zip(flows).enumerate() {
        let since = d.days_since(dates[0]);
        if since < 0 {
            return Err(FinanceError::DateBeforeFirst { index });
        }
        days.push((since, f));
    }
    days.sort_by_key(|&(d, _)| d);
    let mut netted: Vec<(i64, f64)> = Vec::with_capacity(days.len());
    for (d, f) in days {
        match netted.last_mut() {
            Some((last, sum)) if *last == d => *sum += f,
            _ => netted.push((d, f)),
        }
    }
    Ok(netted
        .into_iter()
        .map(|(d, f)| (d as f64 / 365.0, f))
        .collect())
}

/// NPV of dated flows, Act/365 from the first date (Excel's XNPV).
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow, a rate `<= -1`, a length mismatch, a
/// date before the first, or an NPV beyond the range of `f64`.
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
    let terms = dated_terms(flows, dates)?;
    let x = rate.ln_1p();
    // Each term in log form, `ln|f| − x t`, summed relative to the largest: no term
    // overflows or underflows on its own, so the result is finite whenever it is
    // representable.
    let logs = terms
        .iter()
        .filter(|t| t.1 != 0.0)
        .map(|&(t, f)| f.abs().ln() - x * t);
    let Some(top) = logs.clone().reduce(f64::max) else {
        return Ok(0.0);
    };
    let scaled: f64 = terms
        .iter()
        .filter(|t| t.1 != 0.0)
        .map(|&(t, f)| f.signum() * (f.abs().ln() - x * t - top).exp())
        .sum();
    if scaled == 0.0 {
        return Ok(0.0);
    }
    finite_or_overflow(scaled.signum() * (scaled.abs().ln() + top).exp(), rate)
}

/// IRR of dated flows, Act/365 (Excel's XIRR), with the same guarantees as [`irr`]. Flows
/// on the same date are netted first; if every date nets to zero the IRR is
/// [`Irr::Indeterminate`].
///
/// # Errors
///
/// [`FinanceError`] for no flows, a non-finite flow, a length mismatch or a date before the
/// first.
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
    let mut terms = dated_terms(flows, dates)?;
    terms.retain(|&(_, f)| f != 0.0);
    let (Some(&(first, _)), Some(&(last, _))) = (terms.first(), terms.last()) else {
        return Ok(Irr::Indeterminate);
    };
    let changes = sign_changes(terms.iter().map(|t| t.1));
    if changes == 0 {
        return Ok(Irr::NoRoot);
    }
    let largest = terms.iter().fold(0.0f64, |m, t| m.max(t.1.abs()));
    let scale = checked_scale(largest, terms[0].1, terms[terms.len() - 1].1)?;
    let above = Dated {
        terms: terms.iter().map(|&(t, f)| (t - first, f * scale)).collect(),
    };
    let below = Dated {
        terms: terms
            .iter()
            .rev()
            .map(|&(t, f)| (last - t, f * scale))
            .collect(),
    };
    let at_zero: f64 = above.terms.iter().map(|t| t.1).sum();
    Ok(roots_both_sides(&above, &below, at_zero, changes))
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

    /// The issue's counterexamples (differential test against numpy-financial and pyxirr).
    #[test]
    fn zero_runs_give_no_false_roots() {
        let mut flows = vec![-100.0, 30.0, 40.0, 50.0];
        flows.extend(std::iter::repeat_n(0.0, 85));
        assert!((unique(&flows) - 0.088963).abs() < 1e-6);
        let mut leading = vec![0.0; 109];
        leading.extend([-100.0, 30.0, 40.0, 50.0]);
        assert!((unique(&leading) - 0.088963).abs() < 1e-6);
        // Underflow on both sides of a long zero run inside.
        let mut inside = vec![-100.0];
        inside.extend(std::iter::repeat_n(0.0, 400));
        inside.push(150.0);
        let r = unique(&inside);
        assert!((r - (1.5f64.ln() / 401.0).exp_m1()).abs() < 1e-12, "{r}");
    }

    #[test]
    fn three_close_roots_are_all_found() {
        // -(w-1.10)(w-1.11)(w-1.12) in w = 1 + r, as NPV times w^3.
        let Irr::Multiple(roots) = irr(&[-1.0, 3.33, -3.6962, 1.36752]).unwrap() else {
            panic!()
        };
        assert_eq!(roots.len(), 3, "{roots:?}");
        for (r, want) in roots.iter().zip([0.10, 0.11, 0.12]) {
            assert!((r - want).abs() < 1e-9, "{roots:?}");
        }
        // Two roots 10 * IRR_RESOLUTION apart (in ln(1 + r)) are both found.
        let (w1, w2) = (1.05f64, 1.05f64 * (10.0 * IRR_RESOLUTION).exp());
        let flows = [-1.0, w1 + w2, -w1 * w2];
        let Irr::Multiple(roots) = irr(&flows).unwrap() else {
            panic!("{:?}", irr(&flows))
        };
        assert_eq!(roots.len(), 2);
    }

    #[test]
    fn root_at_the_cap_is_found() {
        assert!((unique(&[-1.0, 1001.0]) - 1000.0).abs() < 1e-9);
        assert!((unique(&[-1.0, 0.0001]) - IRR_MIN_RATE).abs() < 1e-12);
        assert_eq!(irr(&[-1.0, 1002.0]).unwrap(), Irr::NoRoot);
    }

    #[test]
    fn extreme_magnitudes_scale() {
        let r = unique(&[-1e-300, 1.1e-300]);
        assert!((r - 0.1).abs() < 1e-12);
        let r = unique(&[-1e300, 6e299, 6e299]);
        assert!((npv(r, &[-1.0, 0.6, 0.6]).unwrap()).abs() < 1e-12);
    }

    #[test]
    fn long_mixed_series_finds_every_root() {
        // A 500-flow series with roots at -0.1122 and -0.0109 (and none missed).
        let (a, b) = (1.0 - 0.1122f64, 1.0 - 0.0109f64);
        // NPV(r) * (1+r)^499 = (w - a)(w - b) * sum_{k<498} w^k * (-1)^(k % 3 == 0) pattern.
        let tail: Vec<f64> = (0..498)
            .map(|k| if k % 3 == 0 { 1.0 } else { 0.3 })
            .collect();
        // Polynomial in w, coefficients from the highest power (flows[0]) down.
        let mut poly = vec![0.0; tail.len() + 2];
        for (i, t) in tail.iter().enumerate() {
            poly[i] += t;
            poly[i + 1] -= t * (a + b);
            poly[i + 2] += t * a * b;
        }
        let Irr::Multiple(roots) = irr(&poly).unwrap() else {
            panic!("{:?}", irr(&poly))
        };
        assert!(
            roots.iter().any(|r| (r - (a - 1.0)).abs() < 1e-9),
            "{roots:?}"
        );
        assert!(
            roots.iter().any(|r| (r - (b - 1.0)).abs() < 1e-9),
            "{roots:?}"
        );
    }

    #[test]
    fn xirr_long_spans_and_same_day_netting() {
        use crate::time::Date;
        let d = |y| Date::new(y, 1, 1).unwrap();
        // 120 years: no overflow near -0.9999, the root is found.
        let flows = [-100.0, 10.0, 10.0, 200.0];
        let dates = [d(1900), d(1901), d(1960), d(2020)];
        let r = xirr(&flows, &dates).unwrap().unique().unwrap();
        assert!(xnpv(r, &flows, &dates).unwrap().abs() < 1e-9, "{r}");
        // Negative roots over long spans too.
        let flows = [-100.0, 1.0];
        let dates = [d(1900), d(1980)];
        let r = xirr(&flows, &dates).unwrap().unique().unwrap();
        assert!(xnpv(r, &flows, &dates).unwrap().abs() < 1e-9, "{r}");
        // Same-day flows that net to zero: every rate is a root.
        assert_eq!(
            xirr(&[-100.0, 100.0], &[d(2020), d(2020)]).unwrap(),
            Irr::Indeterminate
        );
    }

    #[test]
    fn mirr_in_log_space() {
        let mut flows = vec![-1.0];
        flows.extend(std::iter::repeat_n(1.0, 399));
        let m = mirr(&flows, 0.1, 10.0).unwrap().unwrap();
        assert!((m - 9.9367).abs() < 5e-5, "{m}");
        let mut flows = vec![-1.0; 1];
        flows.extend((1..329).map(|k| if k % 2 == 0 { -1.0 } else { 1.0 }));
        let m = mirr(&flows, -0.935, 1.0).unwrap().unwrap();
        // Exact: PV of the negatives dominated by the last one, discounted at -0.935.
        let last = flows.len() - 1;
        let log_pv = {
            let terms: Vec<f64> = (0..=last)
                .filter(|k| flows[*k] < 0.0)
                .map(|k| -(k as f64) * (-0.935f64).ln_1p())
                .collect();
            let top = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
        };
        let log_fv = {
            let terms: Vec<f64> = (0..=last)
                .filter(|k| flows[*k] > 0.0)
                .map(|k| (last - k) as f64 * 2f64.ln())
                .collect();
            let top = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
        };
        let exact = ((log_fv - log_pv) / last as f64).exp_m1();
        assert!(m > -1.0 && (m - exact).abs() < 1e-12, "{m} vs {exact}");
    }

    #[test]
    fn npv_overflow_is_an_error() {
        let flows: Vec<f64> = (0..400)
            .map(|k| if k % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        assert!(matches!(
            npv(-0.9999, &flows),
            Err(FinanceError::Overflow { .. })
        ));
        use crate::time::Date;
        let d = |y| Date::new(y, 1, 1).unwrap();
        assert!(matches!(
            xnpv(-0.9999, &[1.0, -1.0, 1.0], &[d(1900), d(1950), d(2000)]),
            Err(FinanceError::Overflow { .. })
        ));
        // Beyond f64 (2^1200) is an error; finite whenever the exact value is.
        let v = xnpv(-0.5, &[1.0, -1.0], &[d(1900), d(3100)]);
        assert!(matches!(v, Err(FinanceError::Overflow { .. })), "{v:?}");
        let v = xnpv(-0.5, &[1.0, -1.0], &[d(1900), d(1901)]).unwrap();
        assert!((v - (1.0 - 2f64.powf(365.0 / 365.0))).abs() < 1e-12, "{v}");
    }

    /// An independent attack on the guarantees (its counterexamples, now fixed).
    #[test]
    fn attack_counterexamples() {
        // Tiny end flows next to huge ones: refused, not a false root at the cap.
        let mut flows = vec![1e300];
        flows.extend(std::iter::repeat_n(0.0, 199));
        flows.push(-1e-300);
        assert!(matches!(
            irr(&flows),
            Err(FinanceError::DynamicRange { .. })
        ));
        // A cluster of eight roots near 0.05 does not starve two well-separated roots.
        let flows = [
            1.0,
            -458.4,
            48810.87,
            -391956.32699999993,
            1418407.2354375003,
            -2955574.9186425,
            3861044.5055529377,
            -3233125.999375257,
            1693587.5461645068,
            -507221.0071059554,
            66485.49497050783,
        ];
        let roots = match irr(&flows).unwrap() {
            Irr::Multiple(r) => r,
            Irr::Unique(r) => vec![r],
            other => panic!("{other:?}"),
        };
        for want in [149.0, 299.0] {
            assert!(
                roots.iter().any(|r| ((r - want) / want).abs() < 1e-6),
                "{roots:?}"
            );
        }
        // (1 - v)^40: never negative; noise roots never exceed Descartes' bound.
        let mut binomial = vec![1.0f64];
        for _ in 0..40 {
            let mut next = vec![0.0; binomial.len() + 1];
            for (k, c) in binomial.iter().enumerate() {
                next[k] += c;
                next[k + 1] -= c;
            }
            binomial = next;
        }
        if let Irr::Multiple(r) = irr(&binomial).unwrap() {
            assert!(r.len() <= 40, "{}", r.len());
        }
        // xnpv: no false overflow, no underflow of single terms.
        use crate::time::Date;
        let d = |y, m| Date::new(y, m, 1).unwrap();
        assert_eq!(
            xnpv(-0.9999, &[1.0, 0.0], &[d(2000, 1), d(2080, 1)]).unwrap(),
            1.0
        );
        let v = xnpv(-0.9999, &[1e300, 1e-300], &[d(2000, 1), d(2080, 1)]).unwrap();
        assert!((v / 1e300 - 1.0).abs() < 1e-12, "{v}");
        let v = xnpv(1000.0, &[0.0, 1e300], &[d(2000, 1), d(2120, 1)]).unwrap();
        let years = d(2120, 1).days_since(d(2000, 1)) as f64 / 365.0;
        let exact = (1e300f64.ln() - years * 1001f64.ln()).exp();
        assert!((v / exact - 1.0).abs() < 1e-9, "{v} vs {exact}");
        // mirr: near 0 keeps its digits; beyond f64 is an error, not inf.
        let m = mirr(&[-1e300, 1.0000000001e300], 0.0, 0.0)
            .unwrap()
            .unwrap();
        assert!(
            (m / 1.0000000001e300f64.mul_add(0.0, 1e-10) - 1.0).abs() < 1e-5,
            "{m}"
        );
        assert!(matches!(
            mirr(&[-1e-300, 1e300], 0.0, 0.0),
            Err(FinanceError::Overflow { .. })
        ));
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
                let at = |x: f64| npv(x.exp_m1(), &flows).unwrap();
                let scale: f64 = flows.iter().enumerate().map(|(k, f)| f.abs() * (-x * k as f64).exp()).sum();
                let (below, above) = (at(x - 1e-9), at(x + 1e-9));
                prop_assert!(
                    at(x).abs() <= 1e-12 * scale || (below > 0.0) != (above > 0.0),
                    "{} is not a root", r
                );
            }
        }
    }
}
