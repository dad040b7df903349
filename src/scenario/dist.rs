//! Assumptions that are either a number or a probability distribution.
//!
//! A scenario file writes an uncertain assumption as a table with a `dist` key, e.g.
//! `{ dist = "triangular", min = 0.6, mode = 0.9, max = 1.3 }`. The value is drawn
//! once per path (parameter uncertainty), from a random stream of its own keyed by the
//! assumption's key path, so adding uncertainty to one assumption never changes the
//! draws of another.

use std::fmt;

use rand::{Rng, RngExt};
use rand_distr::{Beta, Distribution as _, StandardNormal};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a distribution's parameters were refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DistributionError {
    /// A parameter is NaN or infinite.
    #[error("parameter `{parameter}` must be a finite number, found {value}")]
    NonFinite {
        /// Parameter name as written in the scenario file.
        parameter: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A scale or shape parameter is zero or negative.
    #[error("parameter `{parameter}` must be greater than 0, found {value}")]
    NotPositive {
        /// Parameter name as written in the scenario file.
        parameter: &'static str,
        /// The offending value.
        value: f64,
    },
    /// Bounds are not ordered as the distribution needs.
    #[error("parameters must satisfy {rule}, found {found}")]
    BadOrder {
        /// The rule, e.g. `min <= mode <= max`.
        rule: &'static str,
        /// The values found.
        found: String,
    },
}

/// The parameter table of a distribution, exactly as written in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
enum Spec {
    Normal {
        mean: f64,
        sd: f64,
    },
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Pert {
        min: f64,
        mode: f64,
        max: f64,
    },
    TruncatedNormal {
        mean: f64,
        sd: f64,
        min: f64,
        max: f64,
    },
    Beta {
        alpha: f64,
        beta: f64,
        #[serde(default = "zero")]
        min: f64,
        #[serde(default = "one")]
        max: f64,
    },
}

fn zero() -> f64 {
    0.0
}
fn one() -> f64 {
    1.0
}

/// How values are drawn; precomputed from the [`Spec`] at validation.
#[derive(Clone, Debug)]
enum Sampler {
    Normal {
        mean: f64,
        sd: f64,
    },
    Lognormal {
        mu: f64,
        sigma: f64,
    },
    Uniform {
        min: f64,
        width: f64,
    },
    Triangular {
        min: f64,
        max: f64,
        mode: f64,
        /// CDF at the mode.
        split: f64,
    },
    /// Normal truncated to [min, max], by inversion of the normal CDF on the side of the
    /// mean away from the tail so that far-tail intervals keep their precision.
    TruncatedNormal {
        mean: f64,
        sd: f64,
        mirrored: bool,
        cdf_low: f64,
        cdf_high: f64,
    },
    /// Beta on [min, min + width]; PERT is a Beta with shape from min, mode, max.
    ScaledBeta {
        beta: Beta<f64>,
        min: f64,
        width: f64,
    },
}

/// A validated probability distribution over the real numbers.
///
/// # Examples
///
/// ```
/// use cloudcapex::Distribution;
/// let d = Distribution::triangular(0.6, 0.9, 1.3).unwrap();
/// assert_eq!(d.support(), (0.6, 1.3));
/// assert!(Distribution::triangular(1.0, 0.5, 2.0).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Distribution {
    spec: Spec,
    sampler: Sampler,
}

impl PartialEq for Distribution {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

fn finite(parameter: &'static str, value: f64) -> Result<f64, DistributionError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(DistributionError::NonFinite { parameter, value })
    }
}

fn positive(parameter: &'static str, value: f64) -> Result<f64, DistributionError> {
    finite(parameter, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(DistributionError::NotPositive { parameter, value })
    }
}

fn ordered_min_max(min: f64, max: f64) -> Result<(), DistributionError> {
    finite("min", min)?;
    finite("max", max)?;
    if min < max {
        Ok(())
    } else {
        Err(DistributionError::BadOrder {
            rule: "min < max",
            found: format!("min = {min}, max = {max}"),
        })
    }
}

fn ordered_min_mode_max(min: f64, mode: f64, max: f64) -> Result<(), DistributionError> {
    ordered_min_max(min, max)?;
    finite("mode", mode)?;
    if (min..=max).contains(&mode) {
        Ok(())
    } else {
        Err(DistributionError::BadOrder {
            rule: "min <= mode <= max",
            found: format!("min = {min}, mode = {mode}, max = {max}"),
        })
    }
}

impl Distribution {
    /// Normal with the given mean and standard deviation (`sd > 0`).
    ///
    /// # Errors
    ///
    /// [`DistributionError`] if a parameter is not finite or `sd <= 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// assert!(Distribution::normal(0.0, 1.0).is_ok());
    /// assert!(Distribution::normal(0.0, 0.0).is_err());
    /// ```
    pub fn normal(mean: f64, sd: f64) -> Result<Self, DistributionError> {
        Self::from_spec(Spec::Normal { mean, sd })
    }

    /// Lognormal: `ln X` is normal with mean `mu` and standard deviation `sigma > 0`.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] if a parameter is not finite or `sigma <= 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// let d = Distribution::lognormal(0.0, 0.25).unwrap();
    /// assert_eq!(d.support(), (0.0, f64::INFINITY));
    /// ```
    pub fn lognormal(mu: f64, sigma: f64) -> Result<Self, DistributionError> {
        Self::from_spec(Spec::Lognormal { mu, sigma })
    }

    /// Uniform on `[min, max]`, `min < max`.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] if a bound is not finite or `min >= max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// assert!(Distribution::uniform(1.0, 2.0).is_ok());
    /// assert!(Distribution::uniform(2.0, 1.0).is_err());
    /// ```
    pub fn uniform(min: f64, max: f64) -> Result<Self, DistributionError> {
        Self::from_spec(Spec::Uniform { min, max })
    }

    /// Triangular on `[min, max]` with the given mode.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] unless `min <= mode <= max`, `min < max`, all finite.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// assert!(Distribution::triangular(0.6, 0.9, 1.3).is_ok());
    /// ```
    pub fn triangular(min: f64, mode: f64, max: f64) -> Result<Self, DistributionError> {
        Self::from_spec(Spec::Triangular { min, mode, max })
    }

    /// PERT on `[min, max]` with the given mode (a Beta with shape parameter 4).
    ///
    /// # Errors
    ///
    /// [`DistributionError`] unless `min <= mode <= max`, `min < max`, all finite.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// assert!(Distribution::pert(10.0, 12.0, 20.0).is_ok());
    /// ```
    pub fn pert(min: f64, mode: f64, max: f64) -> Result<Self, DistributionError> {
        Self::from_spec(Spec::Pert { min, mode, max })
    }

    /// Normal with `mean` and `sd`, truncated to `[min, max]`.
    ///
    /// # Errors
    ///
    /// [`DistributionError`] if a parameter is not finite, `sd <= 0` or `min >= max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// let d = Distribution::truncated_normal(0.3, 0.1, 0.0, 1.0).unwrap();
    /// assert_eq!(d.support(), (0.0, 1.0));
    /// ```
    pub fn truncated_normal(
        mean: f64,
        sd: f64,
        min: f64,
        max: f64,
    ) -> Result<Self, DistributionError> {
        Self::from_spec(Spec::TruncatedNormal { mean, sd, min, max })
    }

    /// Beta with shapes `alpha, beta > 0`, scaled to `[min, max]` (`[0, 1]` in the file
    /// when `min` and `max` are left out).
    ///
    /// # Errors
    ///
    /// [`DistributionError`] if a shape is not positive or `min >= max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// assert!(Distribution::beta(2.0, 5.0, 0.0, 1.0).is_ok());
    /// assert!(Distribution::beta(-1.0, 5.0, 0.0, 1.0).is_err());
    /// ```
    pub fn beta(alpha: f64, beta: f64, min: f64, max: f64) -> Result<Self, DistributionError> {
        Self::from_spec(Spec::Beta {
            alpha,
            beta,
            min,
            max,
        })
    }

    fn from_spec(spec: Spec) -> Result<Self, DistributionError> {
        let sampler = match spec {
            Spec::Normal { mean, sd } => Sampler::Normal {
                mean: finite("mean", mean)?,
                sd: positive("sd", sd)?,
            },
            Spec::Lognormal { mu, sigma } => Sampler::Lognormal {
                mu: finite("mu", mu)?,
                sigma: positive("sigma", sigma)?,
            },
            Spec::Uniform { min, max } => {
                ordered_min_max(min, max)?;
                Sampler::Uniform {
                    min,
                    width: max - min,
                }
            }
            Spec::Triangular { min, mode, max } => {
                ordered_min_mode_max(min, mode, max)?;
                Sampler::Triangular {
                    min,
                    max,
                    mode,
                    split: (mode - min) / (max - min),
                }
            }
            Spec::Pert { min, mode, max } => {
                ordered_min_mode_max(min, mode, max)?;
                let width = max - min;
                let alpha = 1.0 + 4.0 * (mode - min) / width;
                let beta = 1.0 + 4.0 * (max - mode) / width;
                Sampler::ScaledBeta {
                    beta: Beta::new(alpha, beta).expect("PERT shapes are at least 1"),
                    min,
                    width,
                }
            }
            Spec::TruncatedNormal { mean, sd, min, max } => {
                finite("mean", mean)?;
                positive("sd", sd)?;
                ordered_min_max(min, max)?;
                // Work on the side where the interval's CDF values are not close to 1.
                let mirrored = (min - mean) > (mean - max);
                let (low, high) = if mirrored {
                    ((mean - max) / sd, (mean - min) / sd)
                } else {
                    ((min - mean) / sd, (max - mean) / sd)
                };
                let (cdf_low, cdf_high) = (normal_cdf(low), normal_cdf(high));
                let mass = cdf_high - cdf_low;
                if mass.is_nan() || mass < 1e-300 {
                    return Err(DistributionError::BadOrder {
                        rule: "[min, max] within 37 sd of the mean (otherwise it has no probability mass)",
                        found: format!("mean = {mean}, sd = {sd}, min = {min}, max = {max}"),
                    });
                }
                Sampler::TruncatedNormal {
                    mean,
                    sd,
                    mirrored,
                    cdf_low,
                    cdf_high,
                }
            }
            Spec::Beta {
                alpha,
                beta,
                min,
                max,
            } => {
                positive("alpha", alpha)?;
                positive("beta", beta)?;
                ordered_min_max(min, max)?;
                Sampler::ScaledBeta {
                    beta: Beta::new(alpha, beta).expect("shapes checked positive"),
                    min,
                    width: max - min,
                }
            }
        };
        Ok(Self { spec, sampler })
    }

    /// Smallest and largest values the distribution can take (infinite if unbounded;
    /// for the lognormal the lower end 0 is never attained).
    pub fn support(&self) -> (f64, f64) {
        match self.spec {
            Spec::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Spec::Lognormal { .. } => (0.0, f64::INFINITY),
            Spec::Uniform { min, max }
            | Spec::Triangular { min, max, .. }
            | Spec::Pert { min, max, .. }
            | Spec::TruncatedNormal { min, max, .. }
            | Spec::Beta { min, max, .. } => (min, max),
        }
    }

    /// The value below which a share `p` of draws fall (inverse CDF), for `p` in (0, 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// let d = Distribution::triangular(0.0, 0.5, 1.0).unwrap();
    /// assert!((d.quantile(0.5) - 0.5).abs() < 1e-12);
    /// let n = Distribution::normal(1.0, 2.0).unwrap();
    /// assert!((n.quantile(0.975) - (1.0 + 2.0 * 1.959963984540054)).abs() < 1e-9);
    /// ```
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(1e-15, 1.0 - 1e-15);
        match &self.sampler {
            Sampler::Normal { mean, sd } => mean + sd * normal_quantile(p),
            Sampler::Lognormal { mu, sigma } => (mu + sigma * normal_quantile(p)).exp(),
            Sampler::Uniform { min, width } => min + width * p,
            Sampler::Triangular {
                min,
                max,
                mode,
                split,
            } => {
                if p < *split {
                    min + (p * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - p) * (max - min) * (max - mode)).sqrt()
                }
            }
            Sampler::TruncatedNormal {
                mean,
                sd,
                mirrored,
                cdf_low,
                cdf_high,
            } => {
                // Mirrored: the lower tail of x is the upper tail of the mirrored variable.
                let p = if *mirrored { 1.0 - p } else { p };
                let z = normal_quantile(cdf_low + p * (cdf_high - cdf_low));
                let (min, max) = self.support();
                (if *mirrored {
                    mean - sd * z
                } else {
                    mean + sd * z
                })
                .clamp(min, max)
            }
            Sampler::ScaledBeta { min, width, .. } => {
                let (alpha, beta) = match self.spec {
                    Spec::Pert { min, mode, max } => (
                        1.0 + 4.0 * (mode - min) / (max - min),
                        1.0 + 4.0 * (max - mode) / (max - min),
                    ),
                    Spec::Beta { alpha, beta, .. } => (alpha, beta),
                    _ => unreachable!("only PERT and beta sample from a Beta"),
                };
                min + width * beta_quantile(alpha, beta, p)
            }
        }
    }

    /// Whether the lower end of [`support`](Self::support) can be drawn.
    pub(crate) fn attains_lower_bound(&self) -> bool {
        !matches!(self.spec, Spec::Lognormal { .. })
    }

    /// Name as written after `dist =` in a scenario file.
    pub fn kind(&self) -> &'static str {
        match self.spec {
            Spec::Normal { .. } => "normal",
            Spec::Lognormal { .. } => "lognormal",
            Spec::Uniform { .. } => "uniform",
            Spec::Triangular { .. } => "triangular",
            Spec::Pert { .. } => "pert",
            Spec::TruncatedNormal { .. } => "truncated_normal",
            Spec::Beta { .. } => "beta",
        }
    }

    /// Draws one value.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Distribution;
    /// use rand::SeedableRng;
    /// let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
    /// let x = Distribution::uniform(2.0, 3.0).unwrap().sample(&mut rng);
    /// assert!((2.0..=3.0).contains(&x));
    /// ```
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.sampler {
            Sampler::Normal { mean, sd } => mean + sd * rng.sample::<f64, _>(StandardNormal),
            Sampler::Lognormal { mu, sigma } => {
                (mu + sigma * rng.sample::<f64, _>(StandardNormal)).exp()
            }
            Sampler::Uniform { min, width } => min + width * rng.random::<f64>(),
            Sampler::Triangular {
                min,
                max,
                mode,
                split,
            } => {
                let u: f64 = rng.random();
                if u < *split {
                    min + (u * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - u) * (max - min) * (max - mode)).sqrt()
                }
            }
            Sampler::TruncatedNormal {
                mean,
                sd,
                mirrored,
                cdf_low,
                cdf_high,
            } => {
                let u: f64 = rng.random();
                let p = (cdf_low + u * (cdf_high - cdf_low))
                    .clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON / 2.0);
                let z = normal_quantile(p);
                let x = if *mirrored {
                    mean - sd * z
                } else {
                    mean + sd * z
                };
                let (min, max) = self.support();
                x.clamp(min, max)
            }
            Sampler::ScaledBeta { beta, min, width } => min + width * beta.sample(rng),
        }
    }
}

impl Serialize for Distribution {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(serializer)
    }
}

/// Regularized incomplete beta `I_x(a, b)` by its continued fraction (Lentz's method),
/// using the symmetry `I_x(a, b) = 1 − I_{1−x}(b, a)` where the fraction converges slowly.
pub(crate) fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - regularized_incomplete_beta(b, a, 1.0 - x);
    }
    let ln_beta = libm::lgamma(a) + libm::lgamma(b) - libm::lgamma(a + b);
    let front = (a * x.ln() + b * (1.0 - x).ln() - ln_beta).exp() / a;
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut fraction = d;
    for m in 1..500 {
        let m = m as f64;
        for numerator in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + numerator * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + numerator / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            fraction *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    front * fraction
}

/// Beta(a, b) quantile by bisection on the regularized incomplete beta (monotone, bracketed
/// on [0, 1]; 100 halvings reach double precision).
pub(crate) fn beta_quantile(a: f64, b: f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if regularized_incomplete_beta(a, b, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Standard normal CDF.
pub(crate) fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// Standard normal quantile (Wichura's AS241, relative accuracy about 1e-16).
// Coefficients are kept exactly as published.
#[allow(clippy::excessive_precision)]
pub(crate) fn normal_quantile(p: f64) -> f64 {
    debug_assert!(p > 0.0 && p < 1.0);
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                + 67265.770927008700853)
                * r
                + 45921.953931549871457)
                * r
                + 13731.693765509461125)
                * r
                + 1971.5909503065514427)
                * r
                + 133.14166789178437745)
                * r
                + 3.387132872796366608)
            / (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                + 39307.89580009271061)
                * r
                + 21213.794301586595867)
                * r
                + 5394.1960214247511077)
                * r
                + 687.1870074920579083)
                * r
                + 42.313330701600911252)
                * r
                + 1.0);
    }
    let mut r = if q < 0.0 { p } else { 1.0 - p };
    r = (-r.ln()).sqrt();
    let value = if r <= 5.0 {
        r -= 1.6;
        (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
            + 0.24178072517745061177)
            * r
            + 1.27045825245236838258)
            * r
            + 3.64784832476320460504)
            * r
            + 5.7694972214606914055)
            * r
            + 4.6303378461565452959)
            * r
            + 1.42343711074968357734)
            / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                + 0.0151986665636164571966)
                * r
                + 0.14810397642748007459)
                * r
                + 0.68976733498510000455)
                * r
                + 1.6763848301838038494)
                * r
                + 2.05319162663775882187)
                * r
                + 1.0)
    } else {
        r -= 5.0;
        (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
            + 0.0012426609473880784386)
            * r
            + 0.026532189526576123093)
            * r
            + 0.29656057182850489123)
            * r
            + 1.7848265399172913358)
            * r
            + 5.4637849111641143699)
            * r
            + 6.6579046435011037772)
            / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                + 1.8463183175100546818e-5)
                * r
                + 7.868691311456132591e-4)
                * r
                + 0.0148753612908506148525)
                * r
                + 0.13692988092273580531)
                * r
                + 0.59983220655588793769)
                * r
                + 1.0)
    };
    if q < 0.0 { -value } else { value }
}

/// An assumption: a fixed number, or a distribution drawn once per path.
///
/// In a scenario file: `initial_growth = 0.9` or
/// `initial_growth = { dist = "triangular", min = 0.6, mode = 0.9, max = 1.3 }`.
///
/// # Examples
///
/// ```
/// use cloudcapex::{Distribution, Param};
/// assert_eq!(Param::Fixed(0.3).fixed_value(), Some(0.3));
/// let p = Param::Random(Distribution::uniform(0.2, 0.4).unwrap());
/// assert!(p.fixed_value().is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// The same value on every path.
    Fixed(f64),
    /// Drawn once per path.
    Random(Distribution),
}

impl Param {
    /// Smallest and largest values the assumption can take on any path.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::{Distribution, Param};
    /// assert_eq!(Param::Fixed(2.0).bounds(), (2.0, 2.0));
    /// assert_eq!(Param::Random(Distribution::uniform(1.0, 3.0).unwrap()).bounds(), (1.0, 3.0));
    /// ```
    pub fn bounds(&self) -> (f64, f64) {
        match self {
            Param::Fixed(v) => (*v, *v),
            Param::Random(d) => d.support(),
        }
    }

    /// The value if it is fixed.
    pub fn fixed_value(&self) -> Option<f64> {
        match self {
            Param::Fixed(v) => Some(*v),
            Param::Random(_) => None,
        }
    }
}

impl From<f64> for Param {
    fn from(value: f64) -> Self {
        Param::Fixed(value)
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Fixed(v) => serializer.serialize_f64(*v),
            Param::Random(d) => d.serialize(serializer),
        }
    }
}

/// A [`Param`] exactly as read from a file, before its distribution is validated.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RawParam {
    Fixed(f64),
    Random(Box<RawDistribution>),
}

/// Distribution parameters as read, validated later so the error can name the key.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RawDistribution(Spec);

impl RawDistribution {
    pub(crate) fn validate(&self) -> Result<Distribution, DistributionError> {
        Distribution::from_spec(self.0.clone())
    }
}

impl<'de> Deserialize<'de> for RawParam {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParamVisitor;

        impl<'de> Visitor<'de> for ParamVisitor {
            type Value = RawParam;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a number or a distribution table such as \
                     { dist = \"triangular\", min = 0.6, mode = 0.9, max = 1.3 }",
                )
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawParam, E> {
                Ok(RawParam::Fixed(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawParam, E> {
                Ok(RawParam::Fixed(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawParam, E> {
                Ok(RawParam::Fixed(v as f64))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawParam, A::Error> {
                let spec = Spec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawParam::Random(Box::new(RawDistribution(spec))))
            }
        }

        deserializer.deserialize_any(ParamVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    fn mean_and_sd(d: &Distribution, n: usize) -> (f64, f64, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (mean, var.sqrt(), xs)
    }

    /// Checks the sample mean against the analytic mean within 5 standard errors and that
    /// every draw lies in the support.
    fn check(d: Distribution, analytic_mean: f64) {
        let n = 200_000;
        let (mean, sd, xs) = mean_and_sd(&d, n);
        let se = sd / (n as f64).sqrt();
        assert!(
            (mean - analytic_mean).abs() < 5.0 * se,
            "{}: sample mean {mean} vs analytic {analytic_mean} (se {se})",
            d.kind()
        );
        let (lo, hi) = d.support();
        assert!(
            xs.iter().all(|x| *x >= lo && *x <= hi),
            "{} left its support",
            d.kind()
        );
    }

    #[test]
    fn sample_means_match_closed_forms() {
        check(Distribution::normal(1.5, 0.3).unwrap(), 1.5);
        check(
            Distribution::lognormal(0.1, 0.4).unwrap(),
            (0.1f64 + 0.08).exp(),
        );
        check(Distribution::uniform(2.0, 5.0).unwrap(), 3.5);
        check(
            Distribution::triangular(0.6, 0.9, 1.3).unwrap(),
            (0.6 + 0.9 + 1.3) / 3.0,
        );
        check(
            Distribution::pert(10.0, 12.0, 20.0).unwrap(),
            (10.0 + 4.0 * 12.0 + 20.0) / 6.0,
        );
        check(Distribution::beta(2.0, 5.0, 0.0, 1.0).unwrap(), 2.0 / 7.0);
        // Truncated at the mean: half-normal, mean = sd * sqrt(2 / pi).
        let half_normal_mean = 0.2 * (2.0 / std::f64::consts::PI).sqrt();
        check(
            Distribution::truncated_normal(0.0, 0.2, 0.0, 10.0).unwrap(),
            half_normal_mean,
        );
        // Far in the upper tail: the mirrored inversion keeps precision.
        let d = Distribution::truncated_normal(0.0, 1.0, 8.0, 9.0).unwrap();
        let (mean, _, _) = mean_and_sd(&d, 10_000);
        assert!(mean > 8.0 && mean < 8.2, "tail mean {mean}");
    }

    /// Quantiles invert the sampling: the share of draws below `quantile(p)` is `p`.
    #[test]
    fn quantiles_match_the_sampled_distributions() {
        let all = [
            Distribution::normal(1.5, 0.3).unwrap(),
            Distribution::lognormal(0.1, 0.4).unwrap(),
            Distribution::uniform(2.0, 5.0).unwrap(),
            Distribution::triangular(0.6, 0.9, 1.3).unwrap(),
            Distribution::pert(10.0, 12.0, 20.0).unwrap(),
            Distribution::beta(2.0, 5.0, 0.0, 1.0).unwrap(),
            Distribution::truncated_normal(0.0, 0.2, 0.0, 10.0).unwrap(),
        ];
        let n = 100_000;
        for d in all {
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
            for p in [0.1, 0.5, 0.9] {
                let q = d.quantile(p);
                let share = xs.iter().filter(|x| **x < q).count() as f64 / n as f64;
                let se = (p * (1.0 - p) / n as f64).sqrt();
                assert!(
                    (share - p).abs() < 5.0 * se,
                    "{} p={p}: share {share}",
                    d.kind()
                );
            }
        }
        // Beta(2, 2) is symmetric; I_x(1, 1) = x.
        assert!((beta_quantile(2.0, 2.0, 0.5) - 0.5).abs() < 1e-12);
        assert!((regularized_incomplete_beta(1.0, 1.0, 0.3) - 0.3).abs() < 1e-12);
        // Published value: I_0.4(2, 3) = 0.5248.
        assert!((regularized_incomplete_beta(2.0, 3.0, 0.4) - 0.5248).abs() < 1e-12);
    }

    #[test]
    fn normal_quantile_inverts_cdf() {
        for &p in &[1e-12, 1e-6, 0.01, 0.2, 0.5, 0.7, 0.975, 1.0 - 1e-9] {
            let z = normal_quantile(p);
            assert!((normal_cdf(z) - p).abs() < 1e-12 * p.max(1e-3), "p = {p}");
        }
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-14);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(matches!(
            Distribution::normal(0.0, -1.0),
            Err(DistributionError::NotPositive {
                parameter: "sd",
                ..
            })
        ));
        assert!(matches!(
            Distribution::uniform(f64::NAN, 1.0),
            Err(DistributionError::NonFinite {
                parameter: "min",
                ..
            })
        ));
        assert!(matches!(
            Distribution::pert(1.0, 3.0, 2.0),
            Err(DistributionError::BadOrder { .. })
        ));
        assert!(Distribution::truncated_normal(0.0, 1.0, 40.0, 41.0).is_err());
    }

    #[test]
    fn raw_params_read_numbers_and_tables() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            a: RawParam,
            b: RawParam,
            c: RawParam,
        }
        let doc: Doc =
            toml::from_str("a = 1\nb = 0.5\nc = { dist = \"beta\", alpha = 2, beta = 3 }").unwrap();
        assert_eq!(doc.a, RawParam::Fixed(1.0));
        assert_eq!(doc.b, RawParam::Fixed(0.5));
        let RawParam::Random(raw) = doc.c else {
            panic!()
        };
        assert_eq!(raw.validate().unwrap().support(), (0.0, 1.0));

        let err = toml::from_str::<Doc>(
            "a = 1\nb = 2\nc = { dist = \"beta\", alpha = 2, beta = 3, mode = 1 }",
        )
        .unwrap_err();
        assert!(
            err.message().contains("unknown field `mode`"),
            "{}",
            err.message()
        );
        let err = toml::from_str::<Doc>("a = \"fast\"\nb = 2\nc = 3").unwrap_err();
        assert!(
            err.message()
                .contains("expected a number or a distribution"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn serializes_back_to_the_file_form() {
        let d = Distribution::triangular(0.6, 0.9, 1.3).unwrap();
        let text =
            toml::to_string(&std::collections::BTreeMap::from([("x", Param::Random(d))])).unwrap();
        assert!(text.contains("dist = \"triangular\""), "{text}");
    }
}
