//! The investment policy, pricing and customer tables (`[investment]`, `[pricing]`,
//! `[customers]`): validated into typed parameters. Equations: docs/model.md,
//! "Investment policy", "Pricing" and "Customers".

use serde::Serialize;

use super::dist::Param;
use super::doc::{CustomersDoc, InvestmentDoc, PricingDoc};
use super::error::ScenarioError;
use super::validator::{DISCOUNT, Range, UNMET, UTILIZATION, Validator};

/// How both worlds invest from the plan's start: stock-adjustment orders of compute units
/// through an economic gate, under a budget.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Investment {
    /// Utilization new capacity is sized for (and the gate values a unit at).
    pub target_utilization: Param,
    /// Quarters taken to close a gap between target and pipeline (`τ`).
    pub adjustment_quarters: Param,
    /// Width of the gate in NPV per RMB (`b`): orders scale by `clip(½ + NPV/b, 0, 1)`.
    pub gate_width: Param,
    /// Half-life, quarters, of today's price premium in the gate's expectation.
    pub premium_half_life_quarters: Param,
    /// Capex cap, share of the world's trailing four-quarter average revenue, after the
    /// plan's window (both worlds) and for the plan world during it.
    pub budget_share_of_revenue: Param,
    /// The counterfactual's cap during the plan's window: the pre-plan budget.
    pub counterfactual_budget_share_of_revenue: Param,
    /// The plan world's cap after the window, if it differs (the plan as a permanent
    /// change of budget); absent: the same cap as the counterfactual.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_world_budget_share_after_plan: Option<Param>,
    /// Capex that non-AI revenue requires, share of that revenue.
    pub non_ai_capex_share_of_revenue: Param,
    /// Quarters from a unit's entry into service over which the order target covers the
    /// peak forecast demand (1: the quarter of entry only, the older rule; 4: the peak of
    /// the year, so seasonality is planned for).
    #[serde(skip_serializing_if = "is_one")]
    pub planning_horizon_quarters: u32,
    /// The firm's annual hurdle rate: the rate of its investment decisions (the gate's
    /// discount factor, and the user cost of compute that prices are tied to); absent: the
    /// path's `valuation.discount_rate`, the investor's rate that values the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hurdle_rate: Option<Param>,
}

fn is_one(quarters: &u32) -> bool {
    *quarters == 1
}

/// Prices tied to the user cost of compute and to industry tightness.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pricing {
    /// Long-run base price over the user cost of a new unit, minus 1.
    pub markup: Param,
    /// Half-life, quarters, of the base price's ratio to the user cost on its way from its
    /// calibrated start to `1 + markup`.
    pub markup_half_life_quarters: Param,
    /// Price premium of the start quarter (1 = none).
    pub start_premium: Param,
    /// Slope `a` of the premium target `1 + a ũ / (1 − ũ)` in industry tightness `ũ`.
    pub premium_slope: Param,
    /// Highest premium.
    pub max_premium: Param,
    /// Share of the gap to the target premium closed each quarter.
    pub premium_adjustment: Param,
    /// Alibaba's share of the China AI-cloud market (weight of its own shortage in `ũ`,
    /// and the start of `ai_market_share`).
    pub alibaba_share: Param,
    /// The rest of the market's unmet share of AI demand in the start quarter.
    pub rest_of_market_start_unmet_share: Param,
    /// ... and in the long run.
    pub rest_of_market_long_run_unmet_share: Param,
    /// Half-life, quarters, of the rest of the market's shortage.
    pub rest_of_market_half_life_quarters: Param,
    /// Price elasticity `ε` of AI demand volume, applied alike to every move of the price
    /// away from its trend (premium, price events, cost pass-through); absent: the older
    /// rule (volume moves one for one with cost pass-through only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demand_price_elasticity: Option<Param>,
}

/// Customers lost to unmet demand, and won back.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Customers {
    /// Share of retained demand lost per quarter per unit of unmet share (`ℓ`).
    pub loss_rate: Param,
    /// Share of lost demand won back per quarter while capacity is available (`ρ`).
    pub return_rate: Param,
}

const QUARTERS: Range = Range::new(1.0, true, 400.0, true, "a number of quarters from 1 to 400");
const HALF_LIFE: Range = Range::new(
    0.0,
    false,
    400.0,
    true,
    "a half-life in quarters greater than 0 and at most 400",
);
const GATE_WIDTH: Range = Range::new(
    0.0,
    false,
    10.0,
    true,
    "an NPV per RMB greater than 0 and at most 10",
);
const BUDGET: Range = Range::new(
    0.0,
    true,
    5.0,
    true,
    "a share of trailing quarterly revenue from 0 to 5 (write 0.5 for 50%)",
);
const REVENUE_SHARE: Range = Range::new(
    0.0,
    true,
    1.0,
    false,
    "a share of revenue from 0 to below 1 (write 0.08 for 8%)",
);
const MARKUP: Range = Range::new(
    -0.9,
    false,
    5.0,
    true,
    "a markup above -0.9 and at most 5 (write 0.1 for 10%)",
);
const PREMIUM: Range = Range::new(
    0.0,
    false,
    20.0,
    true,
    "a price multiplier greater than 0 and at most 20 (1 = no premium)",
);
/// The premium's ceiling: scarcity cannot push the price below its no-premium level.
const MAX_PREMIUM: Range = Range::new(
    1.0,
    true,
    20.0,
    true,
    "a price multiplier from 1 (no premium) to 20",
);
const SLOPE: Range = Range::new(0.0, true, 20.0, true, "a slope from 0 to 20");
const ELASTICITY: Range = Range::new(
    0.0,
    true,
    5.0,
    true,
    "a price elasticity of demand volume from 0 (none) to 5 (as a positive number: volume falls by ε% for a 1% price rise)",
);
const ADJUSTMENT: Range = Range::new(
    0.0,
    false,
    1.0,
    true,
    "a share of the gap closed per quarter, greater than 0 and at most 1",
);
const MARKET_SHARE: Range = Range::new(
    0.0,
    false,
    1.0,
    true,
    "a market share greater than 0 and at most 1 (write 0.358 for 35.8%)",
);
const RATE: Range = Range::new(0.0, true, 1.0, true, "a share per quarter from 0 to 1");

impl Validator<'_> {
    /// `[investment]`; `max_utilization_min` is the lowest maximum utilization.
    pub(crate) fn investment(
        &self,
        doc: &InvestmentDoc,
        max_utilization_min: f64,
    ) -> Result<Investment, ScenarioError> {
        let key = |k: &str| format!("investment.{k}");
        let target_utilization = self.param(
            &key("target_utilization"),
            doc.target_utilization.as_ref(),
            Some(0.8),
            &UTILIZATION,
        )?;
        let target_max = target_utilization.bounds().1;
        if target_max > max_utilization_min {
            return Err(self.error(
                &key("target_utilization"),
                format!(
                    "the target utilization can reach {target_max}, above the lowest maximum utilization \
                     {max_utilization_min} (capacity.max_utilization): capacity would be sized to run beyond what it can sell"
                ),
            ));
        }
        Ok(Investment {
            target_utilization,
            adjustment_quarters: self.param(
                &key("adjustment_quarters"),
                doc.adjustment_quarters.as_ref(),
                Some(4.0),
                &QUARTERS,
            )?,
            gate_width: self.param(
                &key("gate_width"),
                doc.gate_width.as_ref(),
                Some(0.4),
                &GATE_WIDTH,
            )?,
            premium_half_life_quarters: self.param(
                &key("premium_half_life_quarters"),
                doc.premium_half_life_quarters.as_ref(),
                Some(4.0),
                &HALF_LIFE,
            )?,
            budget_share_of_revenue: self.param(
                &key("budget_share_of_revenue"),
                doc.budget_share_of_revenue.as_ref(),
                Some(0.5),
                &BUDGET,
            )?,
            counterfactual_budget_share_of_revenue: self.param(
                &key("counterfactual_budget_share_of_revenue"),
                doc.counterfactual_budget_share_of_revenue.as_ref(),
                Some(0.2),
                &BUDGET,
            )?,
            plan_world_budget_share_after_plan: doc
                .plan_world_budget_share_after_plan
                .as_ref()
                .map(|raw| {
                    self.param(
                        &key("plan_world_budget_share_after_plan"),
                        Some(raw),
                        None,
                        &BUDGET,
                    )
                })
                .transpose()?,
            non_ai_capex_share_of_revenue: self.param(
                &key("non_ai_capex_share_of_revenue"),
                doc.non_ai_capex_share_of_revenue.as_ref(),
                Some(0.08),
                &REVENUE_SHARE,
            )?,
            planning_horizon_quarters: self.integer(
                &key("planning_horizon_quarters"),
                doc.planning_horizon_quarters.unwrap_or(1),
                1,
                8,
                "a number of quarters",
            )? as u32,
            hurdle_rate: doc
                .hurdle_rate
                .as_ref()
                .map(|raw| self.param(&key("hurdle_rate"), Some(raw), None, &DISCOUNT))
                .transpose()?,
        })
    }

    /// `[pricing]`.
    pub(crate) fn pricing(&self, doc: &PricingDoc) -> Result<Pricing, ScenarioError> {
        let key = |k: &str| format!("pricing.{k}");
        let p = |k: &str, raw, default, range| self.param(&key(k), raw, Some(default), range);
        let pricing = Pricing {
            markup: p("markup", doc.markup.as_ref(), 0.1, &MARKUP)?,
            markup_half_life_quarters: p(
                "markup_half_life_quarters",
                doc.markup_half_life_quarters.as_ref(),
                8.0,
                &HALF_LIFE,
            )?,
            start_premium: p("start_premium", doc.start_premium.as_ref(), 1.0, &PREMIUM)?,
            premium_slope: p("premium_slope", doc.premium_slope.as_ref(), 1.2, &SLOPE)?,
            max_premium: p("max_premium", doc.max_premium.as_ref(), 3.0, &MAX_PREMIUM)?,
            premium_adjustment: p(
                "premium_adjustment",
                doc.premium_adjustment.as_ref(),
                0.5,
                &ADJUSTMENT,
            )?,
            alibaba_share: p(
                "alibaba_share",
                doc.alibaba_share.as_ref(),
                0.358,
                &MARKET_SHARE,
            )?,
            rest_of_market_start_unmet_share: p(
                "rest_of_market_start_unmet_share",
                doc.rest_of_market_start_unmet_share.as_ref(),
                0.2,
                &UNMET,
            )?,
            rest_of_market_long_run_unmet_share: p(
                "rest_of_market_long_run_unmet_share",
                doc.rest_of_market_long_run_unmet_share.as_ref(),
                0.0,
                &UNMET,
            )?,
            rest_of_market_half_life_quarters: p(
                "rest_of_market_half_life_quarters",
                doc.rest_of_market_half_life_quarters.as_ref(),
                6.0,
                &HALF_LIFE,
            )?,
            demand_price_elasticity: doc
                .demand_price_elasticity
                .as_ref()
                .map(|raw| {
                    self.param(
                        &key("demand_price_elasticity"),
                        Some(raw),
                        None,
                        &ELASTICITY,
                    )
                })
                .transpose()?,
        };
        let (start_max, max_min) = (
            pricing.start_premium.bounds().1,
            pricing.max_premium.bounds().0,
        );
        if start_max > max_min {
            return Err(self.error(
                &key("start_premium"),
                format!("the start premium can reach {start_max}, above the lowest max_premium {max_min}"),
            ));
        }
        if pricing.max_premium.bounds().0 < 1.0 {
            return Err(self.error(
                &key("max_premium"),
                "the highest premium must be at least 1 (no premium)",
            ));
        }
        Ok(pricing)
    }

    /// `[customers]`.
    pub(crate) fn customers(&self, doc: &CustomersDoc) -> Result<Customers, ScenarioError> {
        Ok(Customers {
            loss_rate: self.param(
                "customers.loss_rate",
                doc.loss_rate.as_ref(),
                Some(0.25),
                &RATE,
            )?,
            return_rate: self.param(
                "customers.return_rate",
                doc.return_rate.as_ref(),
                Some(0.05),
                &RATE,
            )?,
        })
    }
}
