//! The revenue block (`[revenue]`): its segments, the correlation of their shocks and the
//! seasonal factors, as validated types and their checks. Equations: docs/model.md,
//! "Revenue".

use std::collections::BTreeMap;

use nalgebra::DMatrix;
use serde::Serialize;

use super::dist::{Param, RawParam};
use super::doc::{SeasonalityDoc, SegmentDoc};
use super::error::{ScenarioError, did_you_mean};
use super::validator::{Range, Validator};
use crate::time::Quarter;

/// Assumptions of one revenue segment. Growth rates are annual decimals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentAssumptions {
    /// Free text.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Reported revenue in the start quarter, RMB bn (seasonal, as reported).
    pub start_revenue_rmb_bn: Param,
    /// Annual growth rate of the first projected quarter (0.30 = 30%/yr).
    pub initial_growth: Param,
    /// Annual growth rate the drift fades towards.
    pub terminal_growth: Param,
    /// Quarters for the gap between current and terminal log growth to halve.
    pub growth_half_life_quarters: Param,
    /// AR(1) coefficient of the persistent growth shock, per quarter.
    pub shock_persistence: Param,
    /// Standard deviation of the AR(1) innovation, quarterly log growth.
    pub persistent_shock_sd: Param,
    /// Standard deviation of the i.i.d. shock, quarterly log growth.
    pub iid_shock_sd: Param,
}

/// Correlation of the segments' shocks, validated symmetric positive-definite.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    names: Vec<String>,
    matrix: DMatrix<f64>,
    cholesky_lower: DMatrix<f64>,
}

impl Correlation {
    /// The correlation matrix, rows in segment-name order.
    pub fn matrix(&self) -> &DMatrix<f64> {
        &self.matrix
    }

    /// Its lower Cholesky factor `L` with `L Lᵀ = matrix`.
    pub fn cholesky_lower(&self) -> &DMatrix<f64> {
        &self.cholesky_lower
    }
}

impl Serialize for Correlation {
    /// As in the file: `correlation.a.b = rho` for every pair `a < b`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut pairs: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
        for (i, a) in self.names.iter().enumerate() {
            for (j, b) in self.names.iter().enumerate().skip(i + 1) {
                pairs.entry(a).or_default().insert(b, self.matrix[(i, j)]);
            }
        }
        pairs.serialize(serializer)
    }
}

/// Multiplicative seasonal factors by calendar quarter; their mean is 1.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Seasonality {
    /// January to March.
    pub q1: f64,
    /// April to June.
    pub q2: f64,
    /// July to September.
    pub q3: f64,
    /// October to December.
    pub q4: f64,
}

impl Seasonality {
    /// Factor of a calendar quarter.
    pub fn factor(&self, quarter: Quarter) -> f64 {
        match quarter.quarter_of_year() {
            1 => self.q1,
            2 => self.q2,
            3 => self.q3,
            _ => self.q4,
        }
    }
}

/// Revenue block assumptions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RevenueAssumptions {
    /// Segments by name; the model uses them in name order.
    pub segments: BTreeMap<String, SegmentAssumptions>,
    /// Correlation of segment shocks.
    pub correlation: Correlation,
    /// Seasonal factors.
    pub seasonality: Seasonality,
}

/// Smallest start revenue of a segment, RMB bn per quarter (RMB 1,000): far below any
/// reported revenue, and far enough above 0 for the model's arithmetic. The pricing
/// block's start price is the start AI revenue over the capacity, and its price path
/// starts at `a + b` with `a` the user cost times the long-run ratio and `b` the start
/// gap: for a start price below about 1e-16 of the user cost the sum cancels to 0 and
/// the run failed mid-way (5e-324, a subnormal, and even 1e-20 did; 1e-9 ran).
pub const MIN_START_REVENUE_RMB_BN: f64 = 1e-6;

/// Quantile level below which a distribution's draws count as never drawn, for the
/// start revenue's minimum (a lognormal reaches towards 0 but never gets there).
const NEGLIGIBLE_QUANTILE: f64 = 1e-12;

pub(crate) const REVENUE: Range = Range::new(
    0.0,
    false,
    f64::INFINITY,
    false,
    "quarterly revenue in RMB bn, greater than 0",
);
pub(crate) const GROWTH: Range = Range::new(
    -1.0,
    false,
    5.0,
    true,
    "an annual growth rate as a decimal (0.30 = 30%/yr), above -1 and at most 5 \
               (a percentage such as 30 must be written 0.30)",
);
/// Long-run growth of a segment: a mature business cannot compound at 50%+ a year forever.
const TERMINAL_GROWTH: Range = Range::new(
    -0.5,
    false,
    0.5,
    true,
    "a long-run annual growth rate as a decimal, above -0.5 and at most 0.5 \
               (write 0.04 for 4%/yr)",
);
const HALF_LIFE: Range = Range::new(
    0.0,
    false,
    400.0,
    true,
    "a half-life in quarters, greater than 0 and at most 400",
);
const PERSISTENCE: Range = Range::new(
    -1.0,
    false,
    1.0,
    false,
    "an AR(1) coefficient per quarter, strictly between -1 and 1",
);
const SHOCK_SD: Range = Range::new(
    0.0,
    true,
    1.0,
    true,
    "a standard deviation of quarterly log growth, from 0 to 1",
);
const SEASONAL: Range = Range::new(
    0.0,
    false,
    2.0,
    false,
    "a seasonal factor strictly between 0 and 2",
);

impl Validator<'_> {
    /// A start revenue of at least [`MIN_START_REVENUE_RMB_BN`]: a number, or a distribution
    /// whose lower end (or, unbounded towards 0, its [`NEGLIGIBLE_QUANTILE`] quantile) is.
    fn start_revenue(&self, key: &str, raw: Option<&RawParam>) -> Result<Param, ScenarioError> {
        let param = self.param(key, raw, None, &REVENUE)?;
        let lowest = match &param {
            Param::Fixed(x) => *x,
            Param::Random(d) => {
                let lo = d.support().0;
                if lo > 0.0 {
                    lo
                } else {
                    d.quantile(NEGLIGIBLE_QUANTILE)
                }
            }
        };
        if lowest >= MIN_START_REVENUE_RMB_BN {
            return Ok(param);
        }
        let what = match &param {
            Param::Fixed(_) => "found".to_string(),
            Param::Random(d) if d.support().0 > 0.0 => {
                format!("the {} distribution reaches", d.kind())
            }
            Param::Random(d) => format!(
                "the {} distribution's {NEGLIGIBLE_QUANTILE:e} quantile is",
                d.kind()
            ),
        };
        let error = self.error(
            key,
            format!(
                "expected a quarterly revenue of at least {MIN_START_REVENUE_RMB_BN} RMB bn (RMB 1,000; \
                 smaller start revenues are no reported figure and leave the model's price calibration \
                 without precision); {what} {lowest:e}"
            ),
        );
        self.refuse(error, Param::Fixed(REVENUE.stand_in()))
    }

    pub(super) fn segment(
        &self,
        name: &str,
        doc: &SegmentDoc,
    ) -> Result<SegmentAssumptions, ScenarioError> {
        let key = |field: &str| format!("revenue.segments.{name}.{field}");
        Ok(SegmentAssumptions {
            description: doc.description.clone().unwrap_or_default(),
            start_revenue_rmb_bn: self.start_revenue(
                &key("start_revenue_rmb_bn"),
                doc.start_revenue_rmb_bn.as_ref(),
            )?,
            initial_growth: self.param(
                &key("initial_growth"),
                doc.initial_growth.as_ref(),
                None,
                &GROWTH,
            )?,
            terminal_growth: self.param(
                &key("terminal_growth"),
                doc.terminal_growth.as_ref(),
                None,
                &TERMINAL_GROWTH,
            )?,
            growth_half_life_quarters: self.param(
                &key("growth_half_life_quarters"),
                doc.growth_half_life_quarters.as_ref(),
                None,
                &HALF_LIFE,
            )?,
            shock_persistence: self.param(
                &key("shock_persistence"),
                doc.shock_persistence.as_ref(),
                Some(0.0),
                &PERSISTENCE,
            )?,
            persistent_shock_sd: self.param(
                &key("persistent_shock_sd"),
                doc.persistent_shock_sd.as_ref(),
                Some(0.0),
                &SHOCK_SD,
            )?,
            iid_shock_sd: self.param(
                &key("iid_shock_sd"),
                doc.iid_shock_sd.as_ref(),
                Some(0.0),
                &SHOCK_SD,
            )?,
        })
    }

    pub(super) fn seasonality(
        &self,
        doc: Option<&SeasonalityDoc>,
    ) -> Result<Seasonality, ScenarioError> {
        let default = SeasonalityDoc::default();
        let doc = doc.unwrap_or(&default);
        let factor = |name: &str, value: Option<f64>| {
            self.number(
                &format!("revenue.seasonality.{name}"),
                value.unwrap_or(1.0),
                &SEASONAL,
            )
        };
        let seasonality = Seasonality {
            q1: factor("q1", doc.q1)?,
            q2: factor("q2", doc.q2)?,
            q3: factor("q3", doc.q3)?,
            q4: factor("q4", doc.q4)?,
        };
        let mean = (seasonality.q1 + seasonality.q2 + seasonality.q3 + seasonality.q4) / 4.0;
        if (mean - 1.0).abs() > 1e-6 {
            return Err(self.error(
                "revenue.seasonality",
                format!(
                    "the four seasonal factors must average 1 (they move revenue between quarters, \
                     not the annual level); their mean is {mean}"
                ),
            ));
        }
        Ok(seasonality)
    }

    pub(super) fn correlation(
        &self,
        names: &[String],
        doc: Option<&BTreeMap<String, BTreeMap<String, f64>>>,
    ) -> Result<Correlation, ScenarioError> {
        let n = names.len();
        let mut matrix = DMatrix::<f64>::identity(n, n);
        let mut given = DMatrix::<bool>::from_element(n, n, false);
        let index_of = |key: &str, name: &str| {
            names.iter().position(|s| s == name).ok_or_else(|| {
                self.error(
                    key,
                    format!(
                        "unknown segment `{name}`: expected one of {}{}",
                        names.join(", "),
                        did_you_mean(name, names.iter().map(|s| s.as_str()))
                    ),
                )
            })
        };
        // A refused entry (unknown segment, out of range) is reported with the others and
        // left out of the matrix.
        for (a, row) in doc.into_iter().flatten() {
            let i = match index_of(&format!("revenue.correlation.{a}"), a) {
                Ok(i) => i,
                Err(e) => {
                    self.refuse(e, ())?;
                    continue;
                }
            };
            for (b, &rho) in row {
                let key = format!("revenue.correlation.{a}.{b}");
                let j = match index_of(&key, b) {
                    Ok(j) => j,
                    Err(e) => {
                        self.refuse(e, ())?;
                        continue;
                    }
                };
                if rho.is_nan() || !(-1.0..=1.0).contains(&rho) {
                    let error = self.error(
                        &key,
                        format!("expected a correlation from -1 to 1, found {rho}"),
                    );
                    self.refuse(error, ())?;
                    continue;
                }
                if i == j && rho != 1.0 {
                    return Err(self.error(
                        &key,
                        format!("a segment's correlation with itself must be 1, found {rho}"),
                    ));
                }
                if given[(i, j)] && matrix[(i, j)] != rho {
                    return Err(self.error(
                        &key,
                        format!(
                            "the matrix is not symmetric: {b}.{a} = {} but {a}.{b} = {rho}; give each pair once",
                            matrix[(i, j)]
                        ),
                    ));
                }
                matrix[(i, j)] = rho;
                matrix[(j, i)] = rho;
                given[(i, j)] = true;
                given[(j, i)] = true;
            }
        }
        let Some(cholesky) = matrix.clone().cholesky() else {
            let smallest = matrix.clone().symmetric_eigen().eigenvalues.min();
            return Err(self.error(
                "revenue.correlation",
                format!(
                    "the correlation matrix is not positive-definite (smallest eigenvalue {smallest:.4}); \
                     these correlations cannot hold together: lower the largest ones or make them consistent"
                ),
            ));
        };
        Ok(Correlation {
            names: names.to_vec(),
            matrix,
            cholesky_lower: cholesky.l(),
        })
    }
}
