//! Merged document → validated assumptions. Every check names the key path; the loader
//! turns it into the file, line and column where the key was last written.

use std::collections::BTreeMap;

use serde::Serialize;

use super::copula::AssumptionCorrelation;
use super::dist::Param;
use super::doc::ScreenDoc;
use super::error::ScenarioError;
use super::load::Loaded;
use super::plan::Economics;
use super::revenue::RevenueAssumptions;
use super::risk::Risk;
use super::settings::{Simulation, TimeSettings};
use super::validator::Validator;
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
const MAX_PATHS: i64 = super::settings::MAX_PATHS as i64;

/// Every model assumption: what the scenario hash covers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assumptions {
    /// Calendar.
    pub time: TimeSettings,
    /// Revenue block.
    pub revenue: RevenueAssumptions,
    /// Capex plan, capacity, costs and valuation (when the scenario has a `[plan]`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub economics: Option<Economics>,
    /// Geopolitical regimes and events (when the scenario has an enabled `[risk]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// Rank correlations between uncertain assumptions (`[correlation]`), when given.
    #[serde(rename = "correlation", skip_serializing_if = "Option::is_none")]
    pub assumption_correlation: Option<AssumptionCorrelation>,
    /// Documented plausible ranges of inputs (`[screen.ranges]`), which `sensitivity
    /// screen` uses instead of its default moves; they change no simulated number.
    #[serde(skip_serializing_if = "ScreenRanges::is_empty")]
    pub screen: ScreenRanges,
    /// Published figures by fiscal year (`[consensus.<name>]`), set beside the fiscal-year
    /// table; they change no simulated number.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "super::consensus::serialize_by_name"
    )]
    pub consensus: Vec<super::consensus::Anchor>,
}

/// `[screen.ranges]`: `"key.path" = [low, high]` per input.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ScreenRanges {
    /// Low and high end by key path.
    pub ranges: BTreeMap<String, [f64; 2]>,
}

impl ScreenRanges {
    /// No ranges given.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
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
            "a path count (each path keeps 72 bytes for exact quantiles: 14.4 GB at the limit)",
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
    let segment_names: Vec<String> = revenue.segments.keys().cloned().collect();
    let consensus = v.consensus(doc.consensus.as_ref(), &segment_names, economics.is_some())?;

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
            consensus,
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
        doc: Option<&ScreenDoc>,
    ) -> Result<ScreenRanges, ScenarioError> {
        let mut out = ScreenRanges::default();
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
