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
    /// The scenario's name (and output folder); default: the file's stem.
    #[allow(dead_code)] // read from the raw layer: it is not inherited through `extends`
    pub name: Option<String>,
    pub description: Option<String>,
    pub simulation: Option<SimulationDoc>,
    pub time: Option<TimeDoc>,
    pub revenue: Option<RevenueDoc>,
    pub plan: Option<PlanDoc>,
    pub legacy: Option<LegacyDoc>,
    pub maintenance: Option<MaintenanceDoc>,
    pub capacity: Option<CapacityDoc>,
    pub costs: Option<CostsDoc>,
    pub valuation: Option<ValuationDoc>,
    pub investment: Option<InvestmentDoc>,
    pub pricing: Option<PricingDoc>,
    pub customers: Option<CustomersDoc>,
    pub risk: Option<RiskDoc>,
    /// Rank correlations between uncertain assumptions, by key path.
    pub correlation: Option<BTreeMap<String, BTreeMap<String, f64>>>,
    /// Documented plausible ranges of inputs for `sensitivity screen`.
    pub screen: Option<ScreenDoc>,
    /// Published figures by fiscal year, set beside the fiscal-year table.
    pub consensus: Option<BTreeMap<String, AnchorDoc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScreenDoc {
    /// `"key.path" = [low, high]`.
    pub ranges: Option<BTreeMap<String, Vec<f64>>>,
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

/// How the plan's remaining spend is spread over its quarters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Equal weights.
    #[default]
    Flat,
    /// Weights falling linearly: `L, L-1, ..., 1`.
    FrontLoaded,
    /// Weights rising linearly: `1, 2, ..., L`.
    BackLoaded,
    /// Explicit weights per quarter in `plan.weights`.
    Custom,
}

/// How capex is set outside the plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceMode {
    /// Buy what retires, so that the installed base (and AI capacity) stays constant.
    #[default]
    ReplaceRetirements,
    /// Spend a share of the previous quarter's revenue, split by asset shares.
    RevenueShare,
}

/// How the terminal value at the horizon is formed (docs/model.md, "Return of the plan").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminalMethod {
    /// `NOPAT (1 − g/RONIC) / (r − g)` on the increment, with its growth and return on new
    /// capital estimated from the model's last two years or stated.
    #[default]
    ValueDriver,
    /// `NOPAT / (r − g)` on the increment with a stated growth (no reinvestment).
    Gordon,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanDoc {
    pub total_rmb_bn: Option<f64>,
    pub start_quarter: Option<String>,
    pub length_quarters: Option<i64>,
    pub profile: Option<Profile>,
    pub weights: Option<BTreeMap<String, f64>>,
    pub execution_multiplier: Option<RawParam>,
    pub actual_spend_rmb_bn: Option<BTreeMap<String, f64>>,
    pub upsizing: Option<UpsizingDoc>,
    pub assets: Option<BTreeMap<String, AssetDoc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpsizingDoc {
    pub probability: Option<RawParam>,
    pub size_rmb_bn: Option<RawParam>,
    pub quarter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssetDoc {
    pub share: Option<f64>,
    pub useful_life_quarters: Option<i64>,
    pub in_service_lag_quarters: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LegacyDoc {
    pub capex_rmb_bn_per_quarter: Option<RawParam>,
    pub compute_share: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MaintenanceDoc {
    pub mode: Option<MaintenanceMode>,
    pub revenue_share: Option<RawParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CapacityDoc {
    pub segment: Option<String>,
    pub asset_class: Option<String>,
    pub max_utilization: Option<RawParam>,
    pub start_unmet_demand_share: Option<RawParam>,
    pub hardware_cost_decline: Option<RawParam>,
    pub price_decline: Option<RawParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CostsDoc {
    pub variable_cost_share: Option<RawParam>,
    pub start_ebita_margin: Option<RawParam>,
    pub fixed_cost_inflation: Option<RawParam>,
    pub tax_rate: Option<RawParam>,
    pub working_capital_share: Option<RawParam>,
    pub ai_variable_cost_share: Option<RawParam>,
    pub ai_opex_rate: Option<RawParam>,
    pub capacity_cost_rate: Option<RawParam>,
    pub fixed_cost_revenue_elasticity: Option<RawParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValuationDoc {
    pub discount_rate: Option<RawParam>,
    pub terminal_value: Option<bool>,
    pub terminal_method: Option<TerminalMethod>,
    pub terminal_growth: Option<RawParam>,
    pub terminal_ronic: Option<RawParam>,
    pub reinvestment_rate: Option<RawParam>,
    pub trailing_revenue_rmb_bn: Option<f64>,
    pub shares_outstanding_bn: Option<f64>,
    pub forward_value: Option<bool>,
    pub review: Option<ReviewDoc>,
}

/// `[valuation.review]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewDoc {
    pub signal: Option<ReviewSignal>,
    pub threshold: Option<f64>,
}

/// What a fiscal-year review reads (docs/model.md, "The option to stop at reviews").
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSignal {
    /// The AI compute's mean utilization over the fiscal year just ended.
    Utilization,
    /// The investment gate's openness in the review quarter (the firm's own NPV signal for
    /// a new unit, 0 to 1).
    Gate,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvestmentDoc {
    pub target_utilization: Option<RawParam>,
    pub adjustment_quarters: Option<RawParam>,
    pub gate_width: Option<RawParam>,
    pub premium_half_life_quarters: Option<RawParam>,
    pub budget_share_of_revenue: Option<RawParam>,
    pub counterfactual_budget_share_of_revenue: Option<RawParam>,
    pub plan_world_budget_share_after_plan: Option<RawParam>,
    pub non_ai_capex_share_of_revenue: Option<RawParam>,
    pub planning_horizon_quarters: Option<i64>,
    pub hurdle_rate: Option<RawParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PricingDoc {
    pub markup: Option<RawParam>,
    pub markup_half_life_quarters: Option<RawParam>,
    pub start_premium: Option<RawParam>,
    pub premium_slope: Option<RawParam>,
    pub max_premium: Option<RawParam>,
    pub premium_adjustment: Option<RawParam>,
    pub alibaba_share: Option<RawParam>,
    pub rest_of_market_start_unmet_share: Option<RawParam>,
    pub rest_of_market_long_run_unmet_share: Option<RawParam>,
    pub rest_of_market_half_life_quarters: Option<RawParam>,
    pub demand_price_elasticity: Option<RawParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomersDoc {
    pub loss_rate: Option<RawParam>,
    pub return_rate: Option<RawParam>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskDoc {
    pub enabled: Option<bool>,
    pub centre_growth_shifts: Option<bool>,
    pub regimes: Option<BTreeMap<String, RegimeDoc>>,
    pub events: Option<BTreeMap<String, EventDoc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegimeDoc {
    pub description: Option<String>,
    pub initial_probability: Option<f64>,
    pub transition: Option<BTreeMap<String, f64>>,
    pub growth_shift: Option<BTreeMap<String, f64>>,
    pub volatility_scale: Option<f64>,
    pub discount_spread: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventDoc {
    pub description: Option<String>,
    pub hazard: Option<BTreeMap<String, f64>>,
    pub repeatable: Option<bool>,
    pub severity: Option<RawParam>,
    pub effects: Option<BTreeMap<String, EffectDoc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EffectDoc {
    pub lever: Option<Lever>,
    pub segment: Option<String>,
    pub size: Option<f64>,
    pub half_life_quarters: Option<f64>,
}

/// A model lever an event can move.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Lever {
    /// A segment's revenue level: multiplies it by `1 + size` (needs `segment`).
    RevenueLevel,
    /// A segment's annual growth: adds `size` to it (needs `segment`).
    RevenueGrowth,
    /// Cost of a compute unit (export controls make compute dearer): `× (1 + size)`.
    UnitCost,
    /// Compute units that new capex deploys (a deployment cap): `× (1 + size)`.
    CapacityAdditions,
    /// Revenue price per compute unit (a price war): `× (1 + size)`.
    Price,
    /// Remaining plan spend: `× (1 + size)`.
    PlanSize,
    /// Annual discount rate: `+ size`.
    DiscountRate,
    /// The rest of the AI-compute market's unmet share of demand (industry tightness, which
    /// sets the price premium; needs `[pricing]`): `+ size`.
    MarketTightness,
}

impl Lever {
    /// Whether the effect multiplies by `1 + size` (so `size` must stay above -1).
    pub fn is_multiplicative(self) -> bool {
        !matches!(
            self,
            Lever::RevenueGrowth | Lever::DiscountRate | Lever::MarketTightness
        )
    }
}

/// A consensus entry as written (`[consensus.<name>]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnchorDoc {
    pub fiscal_year: i64,
    pub metric: String,
    pub world: Option<String>,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub source: Option<String>,
    pub date: Option<String>,
    pub note: Option<String>,
}
