//! Merged document → validated assumptions. Every check names the key path; the loader
//! turns it into the file, line and column where the key was last written.

use std::collections::BTreeMap;

use nalgebra::DMatrix;

use super::dist::RawParam;
use super::doc::{SeasonalityDoc, SegmentDoc};
use super::load::Loaded;
use super::validator::{Range, Validator};
use super::{
    Assumptions, Correlation, Param, RevenueAssumptions, ScenarioError, Seasonality,
    SegmentAssumptions, Simulation, TimeSettings,
};
use crate::time::Quarter;

/// Defaults of optional keys (documented in docs/scenario-format.md).
pub(crate) mod defaults {
    /// Master seed when the scenario gives none.
    pub const SEED: u64 = 20_250_224;
    /// Paths when the scenario gives none.
    pub const PATHS: u64 = 10_000;
    /// First projected quarter follows this reported quarter.
    pub const START_QUARTER: &str = "2026Q1";
    /// Ten years of quarters.
    pub const HORIZON_QUARTERS: u32 = 40;
}

/// Largest horizon accepted (100 years).
const MAX_HORIZON_QUARTERS: i64 = 400;
/// Largest path count accepted in one run.
const MAX_PATHS: i64 = super::MAX_PATHS as i64;

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

    fn segment(&self, name: &str, doc: &SegmentDoc) -> Result<SegmentAssumptions, ScenarioError> {
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

    fn seasonality(&self, doc: Option<&SeasonalityDoc>) -> Result<Seasonality, ScenarioError> {
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

    fn correlation(
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
                        super::error::did_you_mean(name, names.iter().map(|s| s.as_str()))
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

/// Valid but unusual values, each a warning naming its file, line and key: what a
/// percent-for-decimal slip that stays inside a range would look like.
pub(crate) fn plausibility(loaded: &Loaded, assumptions: &Assumptions) -> Vec<String> {
    let mut correlation_warnings = super::copula::fixed_pair_warnings(loaded);
    let mut warnings = Vec::new();
    let mut check = |key: String, param: &Param, low: f64, high: f64, what: &str| {
        let (min, max) = param.bounds();
        if max > high || min < low {
            let place = loaded.locate(&key).map_or(String::new(), |l| {
                format!("{}, line {}: ", l.source, l.line)
            });
            warnings.push(format!(
                "{place}key `{key}`: {what} outside [{low}, {high}] (it reaches {}); valid, but check it is a decimal, not a percentage",
                if max > high { max } else { min }
            ));
        }
    };
    for (name, s) in &assumptions.revenue.segments {
        let key = |f: &str| format!("revenue.segments.{name}.{f}");
        check(
            key("initial_growth"),
            &s.initial_growth,
            -0.5,
            3.0,
            "initial annual growth",
        );
        check(
            key("terminal_growth"),
            &s.terminal_growth,
            -0.1,
            0.15,
            "long-run annual growth",
        );
    }
    if let Some(e) = &assumptions.economics {
        check(
            "valuation.discount_rate".into(),
            &e.valuation.discount_rate,
            0.03,
            0.25,
            "an annual discount rate",
        );
        check(
            "valuation.terminal_growth".into(),
            &e.valuation.terminal_growth,
            -0.05,
            0.06,
            "terminal growth of the increment",
        );
        check(
            "costs.tax_rate".into(),
            &e.costs.tax_rate,
            0.0,
            0.4,
            "a tax rate",
        );
        check(
            "capacity.hardware_cost_decline".into(),
            &e.capacity.hardware_cost_decline,
            -0.1,
            0.5,
            "an annual fall of compute cost",
        );
    }
    warnings.append(&mut correlation_warnings);
    warnings
}

pub(crate) fn validate(
    loaded: &Loaded,
) -> Result<(String, Simulation, Assumptions), ScenarioError> {
    let v = Validator::new(loaded);
    let result = validate_with(&v);
    let refused = v.take_refused();
    if refused.is_empty() {
        return result;
    }
    // A later error may judge a stand-in rather than the file's value: report only the
    // refused values, and say when such a check stopped the pass.
    let (checks_skipped, truncated) = match &result {
        Ok(_) => (false, false),
        // The cap was reached: the pass stopped there.
        Err(ScenarioError::Several {
            errors,
            truncated: true,
            ..
        }) if errors.is_empty() => (false, true),
        Err(_) => (true, false),
    };
    let mut refused = refused;
    Err(if refused.len() == 1 && !checks_skipped {
        refused.remove(0)
    } else {
        ScenarioError::Several {
            errors: refused,
            checks_skipped,
            truncated,
        }
    })
}

fn validate_with(v: &Validator<'_>) -> Result<(String, Simulation, Assumptions), ScenarioError> {
    let loaded = v.loaded();
    let mut doc = loaded.document()?;

    let simulation_doc = doc.simulation.take().unwrap_or_default();
    let seed = match simulation_doc.seed {
        Some(seed) => v.integer("simulation.seed", seed, 0, i64::MAX, "a seed")? as u64,
        None => defaults::SEED,
    };
    let paths = match simulation_doc.paths {
        Some(paths) => v.integer(
            "simulation.paths",
            paths,
            1,
            MAX_PATHS,
            "a path count (each path keeps 56 bytes for exact quantiles: 11.2 GB at the limit)",
        )? as u64,
        None => defaults::PATHS,
    };

    let time_doc = doc.time.take().unwrap_or_default();
    let start_quarter: Quarter = match time_doc
        .start_quarter
        .as_deref()
        .unwrap_or(defaults::START_QUARTER)
        .parse()
    {
        Ok(q) => q,
        Err(e) => v.refuse(
            v.error("time.start_quarter", format!("{e}")),
            defaults::START_QUARTER.parse().expect("a valid quarter"),
        )?,
    };
    let horizon_quarters = match time_doc.horizon_quarters {
        Some(h) => v.integer(
            "time.horizon_quarters",
            h,
            1,
            MAX_HORIZON_QUARTERS,
            "a number of quarters",
        )? as u32,
        None => defaults::HORIZON_QUARTERS,
    };

    let revenue_doc = doc.revenue.take().unwrap_or_default();
    let segment_docs = revenue_doc.segments.unwrap_or_default();
    if segment_docs.is_empty() {
        return Err(v.error(
            "revenue.segments",
            "missing: at least one segment table is needed, e.g. [revenue.segments.cloud] \
             with start_revenue_rmb_bn, initial_growth, terminal_growth and growth_half_life_quarters",
        ));
    }
    let mut segments = BTreeMap::new();
    for (name, segment) in &segment_docs {
        v.identifier(&format!("revenue.segments.{name}"), name, "segment")?;
        segments.insert(name.clone(), v.segment(name, segment)?);
    }
    let names: Vec<String> = segments.keys().cloned().collect();
    let correlation = v.correlation(&names, revenue_doc.correlation.as_ref())?;
    let seasonality = v.seasonality(revenue_doc.seasonality.as_ref())?;
    let time = TimeSettings {
        start_quarter,
        horizon_quarters,
    };
    let revenue = RevenueAssumptions {
        segments,
        correlation,
        seasonality,
    };
    let economics = super::plan::validate_economics(v, &doc, &time, &revenue)?;
    let has_pricing = economics.as_ref().is_some_and(|e| e.pricing.is_some());
    let risk = super::risk::validate_risk(
        v,
        doc.risk.as_ref(),
        &revenue,
        economics.is_some(),
        has_pricing,
    )?;

    let assumption_correlation = v.assumption_correlation(loaded, doc.correlation.as_ref())?;
    let screen = v.screen_ranges(loaded, doc.screen.as_ref())?;

    Ok((
        doc.description.clone().unwrap_or_default(),
        Simulation { seed, paths },
        Assumptions {
            time,
            revenue,
            economics,
            risk,
            assumption_correlation,
            screen,
        },
    ))
}

/// Inputs that are whole numbers of quarters (the screen moves them in whole steps).
const WHOLE_NUMBER_KEYS: [&str; 4] = [
    "useful_life_quarters",
    "in_service_lag_quarters",
    "length_quarters",
    "planning_horizon_quarters",
];

/// Whether the key path `key` names an input that only takes whole numbers (a count of
/// quarters: a useful life, an in-service lag, the plan's length, a planning horizon, the
/// projection horizon; or `[simulation]`'s seed and path count). `breakeven` cannot bisect
/// over one: its midpoints would be fractional.
///
/// # Examples
///
/// ```
/// use cloudcapex::scenario::is_whole_number_key;
/// assert!(is_whole_number_key("plan.length_quarters"));
/// assert!(!is_whole_number_key("plan.total_rmb_bn"));
/// ```
pub fn is_whole_number_key(key: &str) -> bool {
    matches!(
        key,
        "simulation.seed" | "simulation.paths" | "time.horizon_quarters"
    ) || key
        .rsplit('.')
        .next()
        .is_some_and(|last| WHOLE_NUMBER_KEYS.contains(&last))
}

impl Validator<'_> {
    /// `[screen.ranges]`: each key an input written in the scenario (a number or a
    /// distribution, outside `[simulation]` and `[time]`), with `[low, high]`, finite,
    /// `low < high`. The value written may lie outside (an override or a sweep may take
    /// an input beyond its documented range; the screen still moves it over that range).
    fn screen_ranges(
        &self,
        loaded: &Loaded,
        doc: Option<&super::doc::ScreenDoc>,
    ) -> Result<super::ScreenRanges, ScenarioError> {
        let mut out = super::ScreenRanges::default();
        for (key, range) in doc.and_then(|d| d.ranges.as_ref()).into_iter().flatten() {
            let at = format!("screen.ranges.{key}");
            let written = super::copula::written_as(loaded, key);
            if written.is_none() || key.starts_with("simulation.") || key.starts_with("time.") {
                return Err(self.error(
                    &at,
                    format!(
                        "`{key}` is not an input written in the scenario: give the key path of a number \
                         or distribution outside [simulation] and [time], e.g. \"revenue.seasonality.q1\""
                    ),
                ));
            }
            // A key inside a distribution's table names one of its parameters, not an input.
            let parts: Vec<&str> = key.split('.').collect();
            let mut table = &loaded.merged;
            for (k, part) in parts.iter().enumerate().take(parts.len() - 1) {
                let Some(next) = table.get(*part).and_then(|v| v.as_table()) else {
                    break;
                };
                if next.contains_key("dist") {
                    let input = parts[..=k].join(".");
                    return Err(self.error(
                        &at,
                        format!(
                            "`{key}` is a parameter of the distribution `{input}`: give the range of the \
                             input itself, \"{input}\" = [low, high] (the screen moves it over its p5 to p95 \
                             without one)"
                        ),
                    ));
                }
                table = next;
            }
            let [low, high] = range.as_slice() else {
                return Err(self.error(&at, "expected [low, high], two numbers"));
            };
            if !(low.is_finite() && high.is_finite() && low < high) {
                return Err(self.error(
                    &at,
                    format!(
                        "expected [low, high], two finite numbers with low below high, found [{low}, {high}]"
                    ),
                ));
            }
            // Whole-number inputs by type (an integer literal such as `--set x=0` on a
            // number input does not make it one).
            let integer = WHOLE_NUMBER_KEYS.contains(parts.last().expect("a key"));
            if integer && (low.fract() != 0.0 || high.fract() != 0.0) {
                return Err(self.error(
                    &at,
                    format!(
                        "`{key}` is a whole number (quarters, a count): give whole ends, found [{low}, {high}]"
                    ),
                ));
            }
            out.ranges.insert(key.clone(), [*low, *high]);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::Scenario;

    const MINI: &str = "[revenue.segments.a]\nstart_revenue_rmb_bn = 10\ninitial_growth = 0.3\n\
                        terminal_growth = 0.05\ngrowth_half_life_quarters = 8\n\
                        [revenue.segments.b]\nstart_revenue_rmb_bn = 5\ninitial_growth = 0.1\n\
                        terminal_growth = 0.05\ngrowth_half_life_quarters = 8\n";

    fn error_of(extra: &str) -> crate::ScenarioError {
        Scenario::from_toml_str("t", "t.toml", &format!("{MINI}{extra}"), &[]).unwrap_err()
    }

    #[test]
    fn out_of_range_values_name_key_and_range() {
        let err = error_of("[simulation]\npaths = 0\n");
        assert_eq!(err.key(), Some("simulation.paths"));
        let err =
            Scenario::from_toml_str("t", "t.toml", &MINI.replace("0.3", "30"), &[]).unwrap_err();
        assert_eq!(err.key(), Some("revenue.segments.a.initial_growth"));
        assert!(err.to_string().contains("percentage"), "{err}");
        assert_eq!(err.location().unwrap().line, 3);
    }

    #[test]
    fn unbounded_distributions_are_refused_for_bounded_keys() {
        let err = Scenario::from_toml_str(
            "t",
            "t.toml",
            &MINI.replace(
                "initial_growth = 0.3",
                "initial_growth = { dist = \"normal\", mean = 0.3, sd = 0.1 }",
            ),
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("truncated_normal"), "{err}");
        // A lognormal never reaches 0, so it suits a strictly positive revenue.
        Scenario::from_toml_str(
            "t",
            "t.toml",
            &MINI.replace(
                "start_revenue_rmb_bn = 10",
                "start_revenue_rmb_bn = { dist = \"lognormal\", mu = 2.3, sigma = 0.1 }",
            ),
            &[],
        )
        .unwrap();
    }

    #[test]
    fn correlation_checks() {
        let err = error_of("[revenue.correlation]\na.c = 0.5\n");
        assert_eq!(err.key(), Some("revenue.correlation.a.c"));
        let err = error_of("[revenue.correlation]\na.b = 0.5\nb.a = 0.4\n");
        assert!(err.to_string().contains("not symmetric"), "{err}");
        let err = error_of("[revenue.correlation]\na.b = 1.0\n");
        assert!(err.to_string().contains("positive-definite"), "{err}");
        let ok = Scenario::from_toml_str(
            "t",
            "t.toml",
            &format!("{MINI}[revenue.correlation]\na.b = 0.6\n"),
            &[],
        )
        .unwrap();
        let l = ok.assumptions().revenue.correlation.cholesky_lower();
        assert!(
            (l * l.transpose() - ok.assumptions().revenue.correlation.matrix())
                .abs()
                .max()
                < 1e-15
        );
    }

    #[test]
    fn seasonality_must_average_one() {
        let err = error_of("[revenue.seasonality]\nq1 = 0.9\n");
        assert_eq!(err.key(), Some("revenue.seasonality"));
    }

    #[test]
    fn missing_keys_point_at_their_table() {
        let err = Scenario::from_toml_str(
            "t",
            "t.toml",
            &MINI.replace(
                "terminal_growth = 0.05\ngrowth_half_life_quarters = 8\n[revenue.segments.b]",
                "[revenue.segments.b]",
            ),
            &[],
        )
        .unwrap_err();
        assert_eq!(err.key(), Some("revenue.segments.a.terminal_growth"));
        assert_eq!(err.location().unwrap().line, 1);
    }
}
