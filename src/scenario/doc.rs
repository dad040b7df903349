//! The scenario file as written: every key optional, unknown keys refused.
//!
//! One layer (a file, or one `--set`) is checked against these types on its own so that
//! type errors point at its own text; layers are then merged and the merged document is
//! validated into a [`Scenario`](super::Scenario).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::dist::RawParam;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioDoc {
    pub extends: Option<String>,
    pub description: Option<String>,
    pub simulation: Option<SimulationDoc>,
    pub time: Option<TimeDoc>,
    pub revenue: Option<RevenueDoc>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SimulationDoc {
    pub seed: Option<i64>,
    pub paths: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeDoc {
    pub start_quarter: Option<String>,
    pub horizon_quarters: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevenueDoc {
    pub segments: Option<BTreeMap<String, SegmentDoc>>,
    pub correlation: Option<BTreeMap<String, BTreeMap<String, f64>>>,
    pub seasonality: Option<SeasonalityDoc>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SegmentDoc {
    pub description: Option<String>,
    pub start_revenue_rmb_bn: Option<RawParam>,
    pub initial_growth: Option<RawParam>,
    pub terminal_growth: Option<RawParam>,
    pub growth_half_life_quarters: Option<RawParam>,
    pub shock_persistence: Option<RawParam>,
    pub persistent_shock_sd: Option<RawParam>,
    pub iid_shock_sd: Option<RawParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeasonalityDoc {
    pub q1: Option<f64>,
    pub q2: Option<f64>,
    pub q3: Option<f64>,
    pub q4: Option<f64>,
}
