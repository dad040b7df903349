//! The capex plan and the economics around it: validated types and their checks.
//! Equations: docs/model.md, sections "Capex plan" to "Valuation".

use std::collections::BTreeMap;

use serde::Serialize;

use super::dist::Param;
use super::doc::{AssetDoc, ScenarioDoc};
pub use super::doc::{MaintenanceMode, Profile, ReviewSignal, TerminalMethod};
use super::error::ScenarioError;
use super::revenue::RevenueAssumptions;
use super::settings::TimeSettings;
use super::validator::{DISCOUNT, Range, UNMET, UTILIZATION, Validator};
use crate::time::Quarter;

/// One asset class of capex: its share of spend, useful life and in-service lag.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssetClass {
    /// Share of plan and legacy spend (shares sum to 1).
    pub share: f64,
    /// Straight-line depreciation life, quarters.
    pub useful_life_quarters: u32,
    /// Quarters from spend to entering service (and starting to depreciate).
    pub in_service_lag_quarters: u32,
}

/// A possible raise of the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Upsizing {
    /// Probability that the raise happens on a path.
    pub probability: Param,
    /// Size of the raise, RMB bn.
    pub size_rmb_bn: Param,
    /// Quarter from which the raise is spent (to the plan's end, by the profile's weights).
    pub quarter: Quarter,
}

/// The capex plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// Announced total, RMB bn.
    pub total_rmb_bn: f64,
    /// First quarter of the plan.
    pub start_quarter: Quarter,
    /// Number of quarters.
    pub length_quarters: u32,
    /// Shape of the schedule.
    pub profile: Profile,
    /// Weights by quarter label (only with `profile = "custom"`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, f64>,
    /// Multiplier on the total actually spent (overrun > 1, underrun < 1).
    pub execution_multiplier: Param,
    /// Reported spend by quarter label, RMB bn, for plan quarters up to the start quarter.
    pub actual_spend_rmb_bn: BTreeMap<String, f64>,
    /// Optional raise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upsizing: Option<Upsizing>,
    /// Asset classes by name.
    pub assets: BTreeMap<String, AssetClass>,
}

impl Plan {
    /// The quarter after the last plan quarter.
    pub fn end_quarter(&self) -> Quarter {
        self.start_quarter.plus(self.length_quarters)
    }

    /// Schedule weight of each plan quarter, in order (not normalized).
    pub fn schedule_weights(&self) -> Vec<f64> {
        let n = self.length_quarters as usize;
        match self.profile {
            Profile::Flat => vec![1.0; n],
            Profile::FrontLoaded => (0..n).map(|k| (n - k) as f64).collect(),
            Profile::BackLoaded => (0..n).map(|k| (k + 1) as f64).collect(),
            Profile::Custom => (0..n)
                .map(|k| self.weights[&self.start_quarter.plus(k as u32).label()])
                .collect(),
        }
    }
}

/// Capex of the installed base before the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Legacy {
    /// Steady capex per quarter before the plan, RMB bn (split by asset shares).
    pub capex_rmb_bn_per_quarter: Param,
    /// Share of legacy capex that bought the compute class (the rest is split over the
    /// other classes by their plan shares); absent: the compute class's plan share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute_share: Option<f64>,
}

/// Capex outside the plan (after it in the plan world, from its start in the counterfactual).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Maintenance {
    /// Rule.
    pub mode: MaintenanceMode,
    /// Share of the previous quarter's revenue (with `mode = "revenue_share"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue_share: Option<Param>,
}

/// AI compute capacity and its link to the AI segment's revenue.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Capacity {
    /// The capacity-constrained revenue segment.
    pub segment: String,
    /// The asset class that adds compute capacity.
    pub asset_class: String,
    /// Highest share of capacity that can be sold.
    pub max_utilization: Param,
    /// Share of AI demand unmet in the start quarter (supply-constrained start).
    pub start_unmet_demand_share: Param,
    /// Annual fall of the cost of one compute unit (hardware price-performance).
    pub hardware_cost_decline: Param,
    /// Annual fall of the revenue price of one compute unit (price competition); only
    /// without `[pricing]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_decline: Option<Param>,
}

/// Operating costs, tax and working capital.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Costs {
    /// Cash operating costs that scale with revenue, share of revenue.
    pub variable_cost_share: Param,
    /// Adjusted EBITA margin of the start quarter; calibrates the fixed costs.
    pub start_ebita_margin: Param,
    /// Annual growth of fixed cash costs.
    pub fixed_cost_inflation: Param,
    /// Tax rate on EBITA.
    pub tax_rate: Param,
    /// Working capital as a share of the quarterly revenue change.
    pub working_capital_share: Param,
    /// Variable cash costs of the capacity segment (power, bandwidth), share of its
    /// revenue; absent: `variable_cost_share`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_variable_cost_share: Option<Param>,
    /// Annual operating cost of compute in service (power, cooling, data-centre staff),
    /// share of its gross book value; absent: 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_opex_rate: Option<Param>,
    /// Annual cash cost of the installed base (data-centre staff, upkeep, leases), share of
    /// the gross book value of every asset class in service: fixed costs that step with
    /// capacity; absent: 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity_cost_rate: Option<Param>,
    /// Elasticity of the fixed cash costs to the plan world's revenue, the business as it is
    /// run (overheads that grow with it: staff, sales, R&D), the same in both worlds;
    /// absent: 0, fixed costs grow at `fixed_cost_inflation` alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_cost_revenue_elasticity: Option<Param>,
}

/// Discounting of the plan's incremental cash flows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Valuation {
    /// Annual discount rate (WACC), applied quarterly.
    pub discount_rate: Param,
    /// Whether to add a terminal value at the horizon.
    pub terminal_value: bool,
    /// How the terminal value is formed.
    pub terminal_method: TerminalMethod,
    /// Annual growth of the increment after the horizon: stated (Gordon, or value driver
    /// with a stated RONIC), or the ceiling on the growth the value driver estimates.
    pub terminal_growth: Param,
    /// Annual return on new invested capital after the horizon (value driver); `None`:
    /// estimated per path from the increment's last year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal_ronic: Option<Param>,
    /// Annual rate at which the MIRR reinvests positive flows; `None`: the path's discount
    /// rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reinvestment_rate: Option<Param>,
    /// Reported revenue of the four quarters ending with the start quarter (RMB bn), the
    /// denominator of the trailing EV/Sales; `None`: that multiple is not reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing_revenue_rmb_bn: Option<f64>,
    /// Shares outstanding (bn), for values per share; `None`: none are reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares_outstanding_bn: Option<f64>,
    /// Whether to value the plan forward from the start quarter too: continuing against
    /// stopping there, the spend before it sunk (a third world per path).
    pub forward_value: bool,
    /// A review rule: at each fiscal year's end the rest of the plan is stopped if the
    /// signal is below the threshold (a fourth world per path; with `[investment]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
}

/// `[valuation.review]`: stop the rest of the plan at a fiscal year's end when what the
/// path has seen so far falls below a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Review {
    /// What the review reads.
    pub signal: ReviewSignal,
    /// Stop when the signal is below it (0 to 1).
    pub threshold: f64,
}

/// Everything beyond the revenue block; present when the scenario has a `[plan]`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Economics {
    /// The capex plan.
    pub plan: Plan,
    /// Pre-plan capex.
    pub legacy: Legacy,
    /// Capex outside the plan (the old rule; `None` with `[investment]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<Maintenance>,
    /// Compute capacity.
    pub capacity: Capacity,
    /// Costs.
    pub costs: Costs,
    /// Valuation.
    pub valuation: Valuation,
    /// The investment policy of both worlds (`[investment]`); absent: the plan world
    /// spends the plan and both worlds follow `maintenance` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub investment: Option<super::policy::Investment>,
    /// Prices tied to the user cost of compute and to scarcity (`[pricing]`); absent: the
    /// price per unit falls at `capacity.price_decline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<super::policy::Pricing>,
    /// Customers lost to unmet demand and won back (`[customers]`); absent: none lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customers: Option<super::policy::Customers>,
}

const SHARE: Range = Range::new(0.0, true, 1.0, true, "a share from 0 to 1");
const PROBABILITY: Range = Range::new(0.0, true, 1.0, true, "a probability from 0 to 1");
const NON_NEGATIVE_RMB: Range = Range::new(
    0.0,
    true,
    f64::INFINITY,
    false,
    "an amount in RMB bn, 0 or more",
);
const POSITIVE_RMB: Range = Range::new(
    0.0,
    false,
    f64::INFINITY,
    false,
    "an amount in RMB bn above 0",
);
const SHARE_COUNT: Range = Range::new(
    0.0,
    false,
    1.0e4,
    true,
    "a share count in billions, above 0 (Alibaba: about 19 bn ordinary shares)",
);
const MULTIPLIER: Range = Range::new(
    0.0,
    true,
    10.0,
    true,
    "a multiplier from 0 to 10 (1 = on plan)",
);
const DECLINE: Range = Range::new(
    -1.0,
    false,
    1.0,
    false,
    "an annual rate of decline strictly between -1 and 1 (0.2 = 20% cheaper a year)",
);
const COST_SHARE: Range = Range::new(
    0.0,
    true,
    1.0,
    false,
    "a share of revenue from 0 to below 1",
);
const MARGIN: Range = Range::new(
    -1.0,
    false,
    1.0,
    false,
    "a margin strictly between -1 and 1",
);
const INFLATION: Range = Range::new(
    -0.5,
    false,
    1.0,
    true,
    "an annual rate above -0.5 and at most 1",
);
const WORKING_CAPITAL: Range = Range::new(
    -1.0,
    true,
    1.0,
    true,
    "a share of the revenue change from -1 to 1",
);
const FIXED_COST_ELASTICITY: Range = Range::new(
    0.0,
    true,
    2.0,
    true,
    "an elasticity of fixed costs to revenue from 0 (fixed) to 2 (1: they grow with revenue)",
);
const OPEX_RATE: Range = Range::new(
    0.0,
    true,
    1.0,
    true,
    "an annual share of gross book value from 0 to 1 (write 0.06 for 6%)",
);
const RONIC: Range = Range::new(
    0.0,
    false,
    5.0,
    true,
    "an annual return on capital greater than 0 and at most 5 (write 0.12 for 12%)",
);
const TERMINAL_GROWTH: Range = Range::new(
    -1.0,
    false,
    1.0,
    false,
    "an annual growth rate strictly between -1 and 1",
);

fn default_assets() -> BTreeMap<String, AssetClass> {
    // ASSUMPTION: shares; lives from data/README.md (computer equipment 3-5 years,
    // buildings 20+ years, unverified); lags are assumptions.
    [
        ("ai_compute", 0.55, 20, 2),
        ("general_servers", 0.15, 20, 1),
        ("network", 0.10, 28, 1),
        ("buildings", 0.20, 80, 6),
    ]
    .into_iter()
    .map(|(name, share, life, lag)| {
        (
            name.to_string(),
            AssetClass {
                share,
                useful_life_quarters: life,
                in_service_lag_quarters: lag,
            },
        )
    })
    .collect()
}

impl Validator<'_> {
    fn quarter(
        &self,
        key: &str,
        text: Option<&str>,
        default: &str,
    ) -> Result<Quarter, ScenarioError> {
        match text.unwrap_or(default).parse() {
            Ok(q) => Ok(q),
            // The default stands in, where there is one, so the pass goes on.
            Err(e) => match default.parse() {
                Ok(stand_in) => self.refuse(self.error(key, format!("{e}")), stand_in),
                Err(_) => Err(self.error(key, format!("{e}"))),
            },
        }
    }

    fn asset(&self, name: &str, doc: &AssetDoc) -> Result<AssetClass, ScenarioError> {
        let key = |f: &str| format!("plan.assets.{name}.{f}");
        Ok(AssetClass {
            share: self.number(
                &key("share"),
                doc.share
                    .ok_or_else(|| self.missing(&key("share"), &SHARE))?,
                &SHARE,
            )?,
            useful_life_quarters: self.integer(
                &key("useful_life_quarters"),
                doc.useful_life_quarters.ok_or_else(|| {
                    self.error(
                        &key("useful_life_quarters"),
                        "missing key: expected a useful life in quarters from 1 to 400",
                    )
                })?,
                1,
                400,
                "a useful life in quarters",
            )? as u32,
            in_service_lag_quarters: self.integer(
                &key("in_service_lag_quarters"),
                doc.in_service_lag_quarters.unwrap_or(0),
                0,
                40,
                "an in-service lag in quarters",
            )? as u32,
        })
    }

    fn plan(&self, doc: &super::doc::PlanDoc, time: &TimeSettings) -> Result<Plan, ScenarioError> {
        let start_quarter =
            self.quarter("plan.start_quarter", doc.start_quarter.as_deref(), "2025Q1")?;
        let length_quarters = self.integer(
            "plan.length_quarters",
            doc.length_quarters.unwrap_or(12),
            1,
            200,
            "a plan length in quarters",
        )? as u32;
        let total = Range::new(
            0.0,
            true,
            100_000.0,
            true,
            "a plan total in RMB bn from 0 to 100000",
        );
        let total_rmb_bn = self.number(
            "plan.total_rmb_bn",
            doc.total_rmb_bn.unwrap_or(380.0),
            &total,
        )?;
        let last_projected = time.start_quarter.plus(time.horizon_quarters);
        if start_quarter > last_projected {
            return Err(self.error(
                "plan.start_quarter",
                format!("the plan starts in {start_quarter}, after the projection ends in {last_projected}"),
            ));
        }
        let plan_quarters: Vec<String> = (0..length_quarters)
            .map(|k| start_quarter.plus(k).label())
            .collect();
        let in_plan = |label: &str| plan_quarters.iter().any(|q| q == label);
        let profile = doc.profile.unwrap_or_default();

        let mut weights = BTreeMap::new();
        match (profile, &doc.weights) {
            (Profile::Custom, None) => {
                return Err(self.error("plan.weights", "missing: profile = \"custom\" needs a weight for every plan quarter, e.g. [plan.weights] 2025Q1 = 1.0"));
            }
            (Profile::Custom, Some(given)) => {
                for (label, &w) in given {
                    let key = format!("plan.weights.{label}");
                    if !in_plan(label) {
                        return Err(self.error(
                            &key,
                            format!(
                                "{label} is not a plan quarter ({} to {})",
                                plan_quarters[0],
                                plan_quarters[plan_quarters.len() - 1]
                            ),
                        ));
                    }
                    let range =
                        Range::new(0.0, true, f64::INFINITY, false, "a weight of 0 or more");
                    weights.insert(label.clone(), self.number(&key, w, &range)?);
                }
                if let Some(missing) = plan_quarters.iter().find(|q| !weights.contains_key(*q)) {
                    return Err(self.error(
                        "plan.weights",
                        format!("missing the weight of plan quarter {missing}"),
                    ));
                }
                if weights.values().sum::<f64>() <= 0.0 {
                    return Err(self.error(
                        "plan.weights",
                        "the weights sum to 0: give at least one quarter a positive weight",
                    ));
                }
            }
            (_, Some(_)) => {
                return Err(self.error("plan.weights", "weights are used only with profile = \"custom\"; remove them or set the profile"));
            }
            (_, None) => {}
        }

        let mut actual_spend_rmb_bn = BTreeMap::new();
        for (label, &spend) in doc.actual_spend_rmb_bn.iter().flatten() {
            let key = format!("plan.actual_spend_rmb_bn.{label}");
            let quarter: Quarter = label
                .parse()
                .map_err(|e| self.error(&key, format!("{e}")))?;
            if !in_plan(label) {
                return Err(self.error(
                    &key,
                    format!(
                        "{label} is not a plan quarter ({} to {})",
                        plan_quarters[0],
                        plan_quarters[plan_quarters.len() - 1]
                    ),
                ));
            }
            if quarter > time.start_quarter {
                return Err(self.error(
                    &key,
                    format!("{label} is after the start quarter {}: only reported quarters have actual spend; later ones follow the schedule", time.start_quarter),
                ));
            }
            actual_spend_rmb_bn.insert(label.clone(), self.number(&key, spend, &NON_NEGATIVE_RMB)?);
        }

        let upsizing = match &doc.upsizing {
            None => None,
            Some(u) => {
                let quarter = self.quarter("plan.upsizing.quarter", u.quarter.as_deref(), "")?;
                if quarter <= time.start_quarter || !in_plan(&quarter.label()) {
                    return Err(self.error(
                        "plan.upsizing.quarter",
                        format!("expected a plan quarter after the start quarter {} (up to {}), found {quarter}", time.start_quarter, plan_quarters[plan_quarters.len() - 1]),
                    ));
                }
                Some(Upsizing {
                    probability: self.param(
                        "plan.upsizing.probability",
                        u.probability.as_ref(),
                        None,
                        &PROBABILITY,
                    )?,
                    size_rmb_bn: self.param(
                        "plan.upsizing.size_rmb_bn",
                        u.size_rmb_bn.as_ref(),
                        None,
                        &NON_NEGATIVE_RMB,
                    )?,
                    quarter,
                })
            }
        };

        let assets = match &doc.assets {
            None => default_assets(),
            Some(docs) => {
                let mut assets = BTreeMap::new();
                for (name, asset) in docs {
                    self.identifier(&format!("plan.assets.{name}"), name, "asset class")?;
                    assets.insert(name.clone(), self.asset(name, asset)?);
                }
                assets
            }
        };
        let share_sum: f64 = assets.values().map(|a| a.share).sum();
        if (share_sum - 1.0).abs() > 1e-6 {
            return Err(self.error(
                "plan.assets",
                format!("the asset classes' shares must sum to 1; they sum to {share_sum}"),
            ));
        }

        let plan = Plan {
            total_rmb_bn,
            start_quarter,
            length_quarters,
            profile,
            weights,
            execution_multiplier: self.param(
                "plan.execution_multiplier",
                doc.execution_multiplier.as_ref(),
                Some(1.0),
                &MULTIPLIER,
            )?,
            actual_spend_rmb_bn,
            upsizing,
            assets,
        };
        // Quarters that will be scheduled must carry some weight, or their spend would vanish.
        let weights = plan.schedule_weights();
        let first_future = (time.start_quarter.quarters_since(start_quarter) + 1).max(0) as usize;
        if first_future < weights.len() && weights[first_future..].iter().sum::<f64>() <= 0.0 {
            return Err(self.error("plan.weights", "the plan quarters after the start quarter all have weight 0, so the remaining spend has nowhere to go"));
        }
        if let Some(u) = &plan.upsizing {
            let from = u.quarter.quarters_since(start_quarter) as usize;
            if weights[from..].iter().sum::<f64>() <= 0.0 {
                return Err(self.error(
                    "plan.upsizing.quarter",
                    "the plan quarters from the upsizing quarter on all have weight 0",
                ));
            }
        }
        Ok(plan)
    }
}

/// Validates the economics sections; `None` when the scenario has no `[plan]`.
pub(crate) fn validate_economics(
    v: &Validator<'_>,
    doc: &ScenarioDoc,
    time: &TimeSettings,
    revenue: &RevenueAssumptions,
) -> Result<Option<Economics>, ScenarioError> {
    let Some(plan_doc) = &doc.plan else {
        for (present, key) in [
            (doc.legacy.is_some(), "legacy"),
            (doc.maintenance.is_some(), "maintenance"),
            (doc.capacity.is_some(), "capacity"),
            (doc.costs.is_some(), "costs"),
            (doc.valuation.is_some(), "valuation"),
        ] {
            if present {
                return Err(v.error(key, format!("[{key}] needs a [plan] table: without a plan the scenario is a revenue-only projection")));
            }
        }
        return Ok(None);
    };
    let plan = v.plan(plan_doc, time)?;
    for (present, key) in [
        (doc.pricing.is_some(), "pricing"),
        (doc.customers.is_some(), "customers"),
    ] {
        if present && doc.investment.is_none() {
            return Err(v.error(
                key,
                format!("[{key}] needs an [investment] table: it acts through the investment policy of both worlds"),
            ));
        }
    }

    let legacy_doc = doc.legacy.as_ref();
    let legacy = Legacy {
        capex_rmb_bn_per_quarter: v.param(
            "legacy.capex_rmb_bn_per_quarter",
            legacy_doc.and_then(|l| l.capex_rmb_bn_per_quarter.as_ref()),
            Some(5.0),
            &NON_NEGATIVE_RMB,
        )?,
        compute_share: legacy_doc
            .and_then(|l| l.compute_share)
            .map(|share| v.number("legacy.compute_share", share, &SHARE))
            .transpose()?,
    };

    let maintenance_doc = doc.maintenance.as_ref();
    let mode = maintenance_doc.and_then(|m| m.mode).unwrap_or_default();
    let share_doc = maintenance_doc.and_then(|m| m.revenue_share.as_ref());
    let maintenance = Maintenance {
        mode,
        revenue_share: match (mode, share_doc) {
            (MaintenanceMode::RevenueShare, raw) => {
                Some(v.param("maintenance.revenue_share", raw, None, &COST_SHARE)?)
            }
            (MaintenanceMode::ReplaceRetirements, Some(_)) => {
                return Err(v.error(
                    "maintenance.revenue_share",
                    "used only with mode = \"revenue_share\"; remove it or set the mode",
                ));
            }
            (MaintenanceMode::ReplaceRetirements, None) => None,
        },
    };

    let c = doc.capacity.as_ref();
    let segment = c
        .and_then(|c| c.segment.clone())
        .unwrap_or_else(|| "ai".into());
    if !revenue.segments.contains_key(&segment) {
        return Err(v.error(
            "capacity.segment",
            format!(
                "`{segment}` is not a revenue segment; expected one of {}{}",
                revenue
                    .segments
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                super::error::did_you_mean(&segment, revenue.segments.keys().map(|s| s.as_str()))
            ),
        ));
    }
    let asset_class = c
        .and_then(|c| c.asset_class.clone())
        .unwrap_or_else(|| "ai_compute".into());
    if !plan.assets.contains_key(&asset_class) {
        return Err(v.error(
            "capacity.asset_class",
            format!(
                "`{asset_class}` is not an asset class; expected one of {}{}",
                plan.assets.keys().cloned().collect::<Vec<_>>().join(", "),
                super::error::did_you_mean(&asset_class, plan.assets.keys().map(|s| s.as_str()))
            ),
        ));
    }
    let capacity = Capacity {
        segment,
        asset_class,
        max_utilization: v.param(
            "capacity.max_utilization",
            c.and_then(|c| c.max_utilization.as_ref()),
            Some(0.85),
            &UTILIZATION,
        )?,
        start_unmet_demand_share: v.param(
            "capacity.start_unmet_demand_share",
            c.and_then(|c| c.start_unmet_demand_share.as_ref()),
            Some(0.15),
            &UNMET,
        )?,
        hardware_cost_decline: v.param(
            "capacity.hardware_cost_decline",
            c.and_then(|c| c.hardware_cost_decline.as_ref()),
            Some(0.15),
            &DECLINE,
        )?,
        price_decline: match (&doc.pricing, c.and_then(|c| c.price_decline.as_ref())) {
            (Some(_), Some(_)) => {
                return Err(v.error(
                    "capacity.price_decline",
                    "with [pricing] the price follows the user cost of compute and scarcity; remove \
                     capacity.price_decline (or the [pricing] table)",
                ));
            }
            (Some(_), None) => None,
            (None, raw) => Some(v.param("capacity.price_decline", raw, Some(0.10), &DECLINE)?),
        },
    };

    let k = doc.costs.as_ref();
    let costs = Costs {
        variable_cost_share: v.param(
            "costs.variable_cost_share",
            k.and_then(|k| k.variable_cost_share.as_ref()),
            Some(0.6),
            &COST_SHARE,
        )?,
        start_ebita_margin: v.param(
            "costs.start_ebita_margin",
            k.and_then(|k| k.start_ebita_margin.as_ref()),
            Some(0.09),
            &MARGIN,
        )?,
        fixed_cost_inflation: v.param(
            "costs.fixed_cost_inflation",
            k.and_then(|k| k.fixed_cost_inflation.as_ref()),
            Some(0.02),
            &INFLATION,
        )?,
        tax_rate: v.param(
            "costs.tax_rate",
            k.and_then(|k| k.tax_rate.as_ref()),
            Some(0.15),
            &SHARE,
        )?,
        working_capital_share: v.param(
            "costs.working_capital_share",
            k.and_then(|k| k.working_capital_share.as_ref()),
            Some(0.05),
            &WORKING_CAPITAL,
        )?,
        ai_variable_cost_share: k
            .and_then(|k| k.ai_variable_cost_share.as_ref())
            .map(|raw| v.param("costs.ai_variable_cost_share", Some(raw), None, &COST_SHARE))
            .transpose()?,
        ai_opex_rate: k
            .and_then(|k| k.ai_opex_rate.as_ref())
            .map(|raw| v.param("costs.ai_opex_rate", Some(raw), None, &OPEX_RATE))
            .transpose()?,
        capacity_cost_rate: k
            .and_then(|k| k.capacity_cost_rate.as_ref())
            .map(|raw| v.param("costs.capacity_cost_rate", Some(raw), None, &OPEX_RATE))
            .transpose()?,
        fixed_cost_revenue_elasticity: k
            .and_then(|k| k.fixed_cost_revenue_elasticity.as_ref())
            .map(|raw| {
                v.param(
                    "costs.fixed_cost_revenue_elasticity",
                    Some(raw),
                    None,
                    &FIXED_COST_ELASTICITY,
                )
            })
            .transpose()?,
    };

    let val = doc.valuation.as_ref();
    let valuation = Valuation {
        discount_rate: v.param(
            "valuation.discount_rate",
            val.and_then(|x| x.discount_rate.as_ref()),
            Some(0.09),
            &DISCOUNT,
        )?,
        terminal_value: val.and_then(|x| x.terminal_value).unwrap_or(true),
        terminal_method: val.and_then(|x| x.terminal_method).unwrap_or_default(),
        terminal_growth: v.param(
            "valuation.terminal_growth",
            val.and_then(|x| x.terminal_growth.as_ref()),
            Some(0.02),
            &TERMINAL_GROWTH,
        )?,
        terminal_ronic: val
            .and_then(|x| x.terminal_ronic.as_ref())
            .map(|raw| v.param("valuation.terminal_ronic", Some(raw), None, &RONIC))
            .transpose()?,
        reinvestment_rate: val
            .and_then(|x| x.reinvestment_rate.as_ref())
            .map(|raw| v.param("valuation.reinvestment_rate", Some(raw), None, &DISCOUNT))
            .transpose()?,
        trailing_revenue_rmb_bn: val
            .and_then(|x| x.trailing_revenue_rmb_bn)
            .map(|x| v.number("valuation.trailing_revenue_rmb_bn", x, &POSITIVE_RMB))
            .transpose()?,
        shares_outstanding_bn: val
            .and_then(|x| x.shares_outstanding_bn)
            .map(|x| v.number("valuation.shares_outstanding_bn", x, &SHARE_COUNT))
            .transpose()?,
        forward_value: val.and_then(|x| x.forward_value).unwrap_or(false),
        review: match val.and_then(|x| x.review.as_ref()) {
            None => None,
            Some(review) => {
                if doc.investment.is_none() {
                    return Err(v.error(
                        "valuation.review",
                        "a review rule stops the plan and lets the investment policy decide what \
                         follows, so it needs an [investment] table; remove [valuation.review] or \
                         add [investment]",
                    ));
                }
                let Some(signal) = review.signal else {
                    return Err(v.error(
                        "valuation.review",
                        "missing `signal`: \"utilization\" (the fiscal year's mean AI utilization) \
                         or \"gate\" (the investment gate's openness at the review)",
                    ));
                };
                let Some(threshold) = review.threshold else {
                    return Err(v.error(
                        "valuation.review",
                        "missing `threshold`: the plan stops at a review where the signal is below it",
                    ));
                };
                Some(Review {
                    signal,
                    threshold: v.number("valuation.review.threshold", threshold, &SHARE)?,
                })
            }
        },
    };
    if valuation.terminal_ronic.is_some() && valuation.terminal_method == TerminalMethod::Gordon {
        return Err(v.error(
            "valuation.terminal_ronic",
            "a return on new invested capital only enters the value-driver terminal value; \
             remove it or set valuation.terminal_method = \"value_driver\""
                .to_string(),
        ));
    }
    if valuation.terminal_value {
        let plan_end = plan.end_quarter().plus(3);
        let last = time.start_quarter.plus(time.horizon_quarters);
        if last < plan_end {
            return Err(v.error(
                "valuation.terminal_value",
                format!(
                    "the terminal value grows the last four quarters' incremental cash flow, so the horizon must end at least four quarters after the plan (in {plan_end} or later, it ends in {last}); lengthen time.horizon_quarters or set valuation.terminal_value = false"
                ),
            ));
        }
        let (_, growth_max) = valuation.terminal_growth.bounds();
        let (rate_min, _) = valuation.discount_rate.bounds();
        let value_driver = valuation.terminal_method == TerminalMethod::ValueDriver;
        if value_driver {
            // The growth is estimated over the last two years after the start quarter.
            let needed = time.start_quarter.plus(11);
            if last < needed {
                return Err(v.error(
                    "valuation.terminal_method",
                    format!(
                        "the value-driver terminal value estimates the increment's growth over its last two \
                         years, so the horizon must end in {needed} or later (it ends in {last}); lengthen \
                         time.horizon_quarters or set valuation.terminal_method = \"gordon\""
                    ),
                ));
            }
        }
        if let Some(ronic) = &valuation.terminal_ronic {
            let (ronic_min, _) = ronic.bounds();
            if growth_max > ronic_min {
                return Err(v.error(
                    "valuation.terminal_growth",
                    format!(
                        "terminal growth can reach {growth_max}, above the lowest return on new invested capital \
                         {ronic_min}: growing at g takes a reinvestment of g / RONIC of NOPAT, more than all of it; \
                         keep valuation.terminal_growth at or below valuation.terminal_ronic"
                    ),
                ));
            }
        }
        if growth_max >= rate_min {
            return Err(v.error(
                "valuation.terminal_growth",
                format!(
                    "terminal growth can reach {growth_max}, at or above the lowest discount rate {rate_min}: the terminal \
                     value would be infinite or negative on such a path; keep terminal growth below the discount rate \
                     (it is the ceiling on the estimated growth with the value driver), or set \
                     valuation.terminal_value = false"
                ),
            ));
        }
    }

    let investment = doc
        .investment
        .as_ref()
        .map(|i| v.investment(i, capacity.max_utilization.bounds().0))
        .transpose()?;
    let pricing = doc.pricing.as_ref().map(|p| v.pricing(p)).transpose()?;
    let customers = doc.customers.as_ref().map(|c| v.customers(c)).transpose()?;
    if investment.is_some() && doc.maintenance.is_some() {
        return Err(v.error(
            "maintenance",
            "with [investment] both worlds invest by the policy; remove [maintenance] (or [investment] for the old rule)",
        ));
    }

    let economics = Economics {
        plan,
        legacy,
        maintenance: investment.is_none().then_some(maintenance),
        capacity,
        costs,
        valuation,
        investment,
        pricing,
        customers,
    };
    check_start_calibration(v, &economics, time, revenue)?;
    Ok(Some(economics))
}

/// The start quarter must have AI capacity in service (the price per compute unit is
/// calibrated on it) and non-negative fixed costs (calibrated from the start margin) on
/// every path: checked at the extremes of the assumptions' supports.
fn check_start_calibration(
    v: &Validator<'_>,
    economics: &Economics,
    time: &TimeSettings,
    revenue: &RevenueAssumptions,
) -> Result<(), ScenarioError> {
    let (legacy_min, legacy_max) = economics.legacy.capex_rmb_bn_per_quarter.bounds();
    let at_min = economics.start_capital(time.start_quarter, legacy_min);
    if at_min.compute_cost_in_service <= 0.0 {
        return Err(v.error(
            "legacy.capex_rmb_bn_per_quarter",
            format!(
                "no `{}` capacity is in service in the start quarter {}, so the price per compute unit cannot be calibrated \
                 on the reported AI revenue; give legacy capex (or earlier plan spend) a positive value",
                economics.capacity.asset_class, time.start_quarter
            ),
        ));
    }
    let at_max = economics.start_capital(time.start_quarter, legacy_max);
    let segment_min = |name: &str| revenue.segments[name].start_revenue_rmb_bn.bounds().0;
    let ai = &economics.capacity.segment;
    let ai_min = segment_min(ai);
    let other_min: f64 = revenue
        .segments
        .keys()
        .filter(|name| *name != ai)
        .map(|name| segment_min(name))
        .sum();
    let revenue_min = ai_min + other_min;
    let costs = &economics.costs;
    let variable_max = costs.variable_cost_share.bounds().1;
    let ai_variable_max = costs
        .ai_variable_cost_share
        .as_ref()
        .map_or(variable_max, |p| p.bounds().1);
    let opex_max = costs.ai_opex_rate.as_ref().map_or(0.0, |p| p.bounds().1) / 4.0
        * at_max.compute_cost_in_service
        + costs
            .capacity_cost_rate
            .as_ref()
            .map_or(0.0, |p| p.bounds().1)
            / 4.0
            * at_max.book_value_in_service;
    let margin_max = costs.start_ebita_margin.bounds().1;
    let fixed_min = other_min * (1.0 - variable_max - margin_max)
        + ai_min * (1.0 - ai_variable_max - margin_max)
        - opex_max
        - at_max.depreciation_rmb_bn;
    if fixed_min < 0.0 {
        let detail = if costs.ai_variable_cost_share.is_none()
            && costs.ai_opex_rate.is_none()
            && costs.capacity_cost_rate.is_none()
        {
            format!(
                "revenue {revenue_min:.2} × (1 − variable share {variable_max} − margin {margin_max}) is below depreciation {:.3}",
                at_max.depreciation_rmb_bn
            )
        } else {
            format!(
                "revenue {revenue_min:.2} less variable costs (shares {variable_max}, AI {ai_variable_max}), opex {opex_max:.3} \
                 and the margin {margin_max} is below depreciation {:.3}",
                at_max.depreciation_rmb_bn
            )
        };
        return Err(v.error(
            "costs",
            format!(
                "start-quarter fixed costs would be negative ({fixed_min:.3} RMB bn) on some path: {detail}; \
                 lower the variable cost share or the start margin, or the capex history"
            ),
        ));
    }
    Ok(())
}
