//! Investment policy of both worlds: stock-adjustment orders of compute units towards a
//! non-anticipating forecast of demand, through a smooth economic gate on the NPV of a new
//! loaded unit, under a budget. Equations: docs/model.md, "Investment policy".

use super::margins::MarginDraw;
use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::scenario::policy::Investment;

/// The investment block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct InvestmentBlock {
    target_utilization: ParamSlot,
    adjustment_quarters: ParamSlot,
    gate_width: ParamSlot,
    premium_half_life: ParamSlot,
    budget_share: ParamSlot,
    counterfactual_budget_share: ParamSlot,
    plan_world_budget_share_after: Option<ParamSlot>,
    non_ai_capex_share: ParamSlot,
    /// Quarters from entry into service whose peak forecast demand the target covers.
    pub planning_horizon: usize,
    hurdle_rate: Option<ParamSlot>,
}

/// One path's investment assumptions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct InvestmentDraw {
    pub target_utilization: f64,
    pub adjustment_quarters: f64,
    pub gate_width: f64,
    /// `0.5^(1/half-life)`: per-quarter fade of today's premium in the gate's expectation.
    pub premium_fade: f64,
    pub budget_share: f64,
    pub counterfactual_budget_share: f64,
    pub plan_world_budget_share_after: f64,
    pub non_ai_capex_share: f64,
    /// The firm's annual hurdle rate (`investment.hurdle_rate`), if stated; else the
    /// path's valuation discount rate is the firm's too.
    pub hurdle_annual_rate: Option<f64>,
}

impl InvestmentBlock {
    pub(crate) fn new(investment: &Investment, params: &mut ParamTable) -> Self {
        let mut slot = |k: &str, p| params.slot(&format!("investment.{k}"), p);
        Self {
            target_utilization: slot("target_utilization", &investment.target_utilization),
            adjustment_quarters: slot("adjustment_quarters", &investment.adjustment_quarters),
            gate_width: slot("gate_width", &investment.gate_width),
            premium_half_life: slot(
                "premium_half_life_quarters",
                &investment.premium_half_life_quarters,
            ),
            budget_share: slot(
                "budget_share_of_revenue",
                &investment.budget_share_of_revenue,
            ),
            counterfactual_budget_share: slot(
                "counterfactual_budget_share_of_revenue",
                &investment.counterfactual_budget_share_of_revenue,
            ),
            plan_world_budget_share_after: investment
                .plan_world_budget_share_after_plan
                .as_ref()
                .map(|p| slot("plan_world_budget_share_after_plan", p)),
            non_ai_capex_share: slot(
                "non_ai_capex_share_of_revenue",
                &investment.non_ai_capex_share_of_revenue,
            ),
            planning_horizon: investment.planning_horizon_quarters as usize,
            hurdle_rate: investment
                .hurdle_rate
                .as_ref()
                .map(|p| slot("hurdle_rate", p)),
        }
    }

    pub(crate) fn draw(&self, params: &mut ParamStreams) -> InvestmentDraw {
        let budget_share = params.draw(&self.budget_share);
        InvestmentDraw {
            target_utilization: params.draw(&self.target_utilization),
            adjustment_quarters: params.draw(&self.adjustment_quarters),
            gate_width: params.draw(&self.gate_width),
            premium_fade: 0.5f64.powf(1.0 / params.draw(&self.premium_half_life)),
            budget_share,
            counterfactual_budget_share: params.draw(&self.counterfactual_budget_share),
            plan_world_budget_share_after: self
                .plan_world_budget_share_after
                .as_ref()
                .map_or(budget_share, |slot| params.draw(slot)),
            non_ai_capex_share: params.draw(&self.non_ai_capex_share),
            hurdle_annual_rate: self.hurdle_rate.as_ref().map(|slot| params.draw(slot)),
        }
    }
}

impl InvestmentDraw {
    /// Units to order: `w · max(0, retiring + (target − pipeline − retiring) / τ)`, where
    /// `pipeline + retiring` is the stock at `t + λ` before the vintage retiring then leaves.
    pub(crate) fn desired_orders(
        &self,
        target: f64,
        pipeline: f64,
        retiring: f64,
        gate: f64,
    ) -> f64 {
        gate * (retiring + (target - pipeline - retiring) / self.adjustment_quarters).max(0.0)
    }

    /// The smooth gate `clip(½ + NPV_unit / b, 0, 1)`.
    pub(crate) fn gate(&self, npv_per_rmb: f64) -> f64 {
        (0.5 + npv_per_rmb / self.gate_width).clamp(0.0, 1.0)
    }
}

/// One asset class as the gate sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClassTerms {
    pub share: f64,
    pub life: usize,
    pub lag: usize,
}

/// A base price path `A·x₁^t + B·x₂^t` (RMB bn per unit-quarter).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct PricePath {
    pub a: f64,
    pub x1: f64,
    pub b: f64,
    pub x2: f64,
}

impl PricePath {
    #[cfg(test)]
    pub(crate) fn at(&self, t: i64) -> f64 {
        self.value(self.powers(t))
    }

    /// `(x₁^t, x₂^t)`; the quarter loop keeps them by multiplication instead.
    pub(crate) fn powers(&self, t: i64) -> (f64, f64) {
        (self.x1.powi(t as i32), self.x2.powi(t as i32))
    }

    /// The price at the quarter whose powers are `(x₁^t, x₂^t)`.
    pub(crate) fn value(&self, (p1, p2): (f64, f64)) -> f64 {
        self.a * p1 + self.b * p2
    }
}

/// The discounted window sums of a price path, taken once per path: with them the gate
/// costs a few multiplications a quarter.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct PriceSums {
    prices: PricePath,
    /// `Σ_j (β x₁)^j`, `Σ_j (β x₁ φ)^j`, `Σ_j (β x₂)^j`, `Σ_j (β x₂ φ)^j` over the service life.
    sums: [f64; 4],
}

/// The economics of one new loaded compute unit on one path: the discounted sums the gate
/// needs, precomputed once per path (docs/model.md, "Investment policy").
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct UnitEconomics {
    /// Quarterly discount factor `β = (1 + r)^(−1/4)`.
    beta: f64,
    lag: usize,
    life: usize,
    /// Share of the compute class in a loaded unit's capex.
    compute_share: f64,
    /// PV of a unit's costs per RMB of its compute cost: opex, the classes' capital charges
    /// less their depreciation tax shields (`C` in the docs).
    cost_factor: f64,
    /// `(1 − τ)(1 − v_AI) μ_target`: after-tax contribution per RMB of price.
    contribution: f64,
    premium_fade: f64,
}

/// `Σ_{j = lag}^{lag + life − 1} y^j`.
fn window_sum(y: f64, lag: usize, life: usize) -> f64 {
    if (y - 1.0).abs() < 1e-12 {
        return life as f64;
    }
    y.powi(lag as i32) * (1.0 - y.powi(life as i32)) / (1.0 - y)
}

impl UnitEconomics {
    /// `classes` in asset-class order with the compute class at `compute`; `annual_rate`
    /// the path's discount rate; costs and tax from the margin block's draw.
    pub(crate) fn new(
        classes: &[ClassTerms],
        compute: usize,
        annual_rate: f64,
        margins: &MarginDraw,
        investment: &InvestmentDraw,
    ) -> Self {
        let beta = (1.0 + annual_rate).powf(-0.25);
        let unit = classes[compute];
        let tax = margins.tax_rate;
        let annuity = |n: usize| window_sum(beta, 0, n);
        let unit_annuity = annuity(unit.life);
        let mut cost_factor =
            (1.0 - tax) * margins.ai_opex_per_book_value * window_sum(beta, unit.lag, unit.life);
        for class in classes {
            let weight = class.share / unit.share;
            // A class that outlives the unit is charged for the unit's life only, by annuity
            // ratio; its tax shield and its capacity costs likewise.
            let charge = unit_annuity / annuity(class.life);
            let in_service = beta.powi(class.lag as i32) * unit_annuity;
            let shield = tax * in_service / class.life as f64;
            let upkeep = (1.0 - tax) * margins.capacity_cost_per_book_value * in_service;
            cost_factor += weight * (charge - shield + upkeep);
        }
        Self {
            beta,
            lag: unit.lag,
            life: unit.life,
            compute_share: unit.share,
            cost_factor,
            contribution: (1.0 - tax)
                * (1.0 - margins.ai_variable_cost_share)
                * investment.target_utilization,
            premium_fade: investment.premium_fade,
        }
    }

    /// The window sums of `prices` for [`npv_per_rmb`](Self::npv_per_rmb).
    pub(crate) fn price_sums(&self, prices: PricePath) -> PriceSums {
        let (lag, life, beta, fade) = (self.lag, self.life, self.beta, self.premium_fade);
        PriceSums {
            prices,
            sums: [
                window_sum(beta * prices.x1, lag, life),
                window_sum(beta * prices.x1 * fade, lag, life),
                window_sum(beta * prices.x2, lag, life),
                window_sum(beta * prices.x2 * fade, lag, life),
            ],
        }
    }

    /// Discounted price sum of a unit bought at `t` over its service life, per unit:
    /// `Σ_j β^j P_base(t + j) (1 + (S − 1) φ^j)` for `j = λ … λ + ℓ − 1`.
    fn price_sum(sums: &PriceSums, (p1, p2): (f64, f64), premium: f64) -> f64 {
        let (p, s) = (&sums.prices, &sums.sums);
        p.a * p1 * (s[0] + (premium - 1.0) * s[1]) + p.b * p2 * (s[2] + (premium - 1.0) * s[3])
    }

    /// NPV per RMB of capex of a unit bought at `t` (the price path's powers at `t`:
    /// `(x₁^t, x₂^t)`) for `unit_cost` RMB bn (its compute part), when the base price follows
    /// `sums`' path and today's premium is `premium`.
    pub(crate) fn npv_per_rmb(
        &self,
        sums: &PriceSums,
        powers: (f64, f64),
        premium: f64,
        unit_cost: f64,
    ) -> f64 {
        let value = self.contribution * Self::price_sum(sums, powers, premium);
        self.compute_share * (value / unit_cost - self.cost_factor)
    }

    /// The user cost `c₀` of a unit at unit cost 1: the price at which a unit whose price
    /// falls with hardware cost (`x = δ` per quarter, no premium) has NPV 0.
    pub(crate) fn user_cost(&self, hardware_step: f64) -> f64 {
        self.cost_factor
            / (self.contribution * window_sum(self.beta * hardware_step, self.lag, self.life))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn margins() -> MarginDraw {
        MarginDraw {
            tax_rate: 0.15,
            ai_variable_cost_share: 0.2,
            ai_opex_per_book_value: 0.015,
            capacity_cost_per_book_value: 0.008,
            ..MarginDraw::default()
        }
    }

    fn investment() -> InvestmentDraw {
        InvestmentDraw {
            target_utilization: 0.8,
            adjustment_quarters: 4.0,
            gate_width: 0.4,
            premium_fade: 0.5f64.powf(0.25),
            budget_share: 0.5,
            counterfactual_budget_share: 0.2,
            plan_world_budget_share_after: 0.5,
            non_ai_capex_share: 0.08,
            hurdle_annual_rate: None,
        }
    }

    const CLASSES: [ClassTerms; 3] = [
        ClassTerms {
            share: 0.7,
            life: 20,
            lag: 2,
        },
        ClassTerms {
            share: 0.1,
            life: 20,
            lag: 1,
        },
        ClassTerms {
            share: 0.2,
            life: 20,
            lag: 4,
        },
    ];

    /// The gate charges a unit exactly what the margin block charges it: a unit's cash
    /// flows built quarter by quarter with the margin block's cost function (AI variable
    /// cost, opex on book value), tax on EBITA after depreciation, and its capex, discount
    /// to the gate's NPV (classes as long-lived as the unit, so no annuity ratio applies).
    #[test]
    fn the_gate_and_the_margin_block_charge_the_same_costs() {
        let m = margins();
        let inv = investment();
        let rate = 0.095;
        let unit = UnitEconomics::new(&CLASSES, 0, rate, &m, &inv);
        let prices = PricePath {
            a: 0.2,
            x1: 0.95,
            b: -0.05,
            x2: 0.9,
        };
        let (t, premium, unit_cost) = (3, 1.3, 0.8);
        let beta = (1.0 + rate).powf(-0.25);
        let capex: f64 = CLASSES.iter().map(|c| unit_cost * c.share / 0.7).sum();
        let mut npv = -capex;
        for q in 0..40usize {
            let (mut depreciation, mut installed) = (0.0, 0.0);
            for c in &CLASSES {
                if q >= c.lag && q < c.lag + c.life {
                    depreciation += unit_cost * c.share / 0.7 / c.life as f64;
                    installed += unit_cost * c.share / 0.7;
                }
            }
            let in_service = (2..22).contains(&q);
            let (revenue, book) = if in_service {
                let price = prices.at(t + q as i64)
                    * (1.0 + (premium - 1.0) * inv.premium_fade.powi(q as i32));
                (price * inv.target_utilization, unit_cost)
            } else {
                (0.0, 0.0)
            };
            let ebita = revenue
                - m.ai_cash_costs(revenue, book)
                - m.capacity_costs(installed)
                - depreciation;
            let fcf = ebita * (1.0 - m.tax_rate) + depreciation;
            npv += beta.powi(q as i32) * fcf;
        }
        let gate = unit.npv_per_rmb(
            &unit.price_sums(prices),
            prices.powers(t),
            premium,
            unit_cost,
        );
        assert!(
            (gate - npv / capex).abs() < 1e-12,
            "{gate} vs {}",
            npv / capex
        );
    }

    /// At the user cost, with the price falling with hardware cost and no premium, a unit
    /// breaks even; above it the NPV is positive.
    #[test]
    fn a_unit_priced_at_the_user_cost_breaks_even() {
        let unit = UnitEconomics::new(&CLASSES, 0, 0.095, &margins(), &investment());
        let step = 0.8f64.powf(0.25);
        let c0 = unit.user_cost(step);
        let at_cost = PricePath {
            a: c0,
            x1: step,
            b: 0.0,
            x2: 1.0,
        };
        let sums = unit.price_sums(at_cost);
        for t in [0, 7, 30] {
            let unit_cost = step.powi(t as i32);
            let powers = at_cost.powers(t);
            assert!(unit.npv_per_rmb(&sums, powers, 1.0, unit_cost).abs() < 1e-12);
            assert!(unit.npv_per_rmb(&sums, powers, 1.2, unit_cost) > 0.0);
        }
    }

    /// A class that outlives the unit is charged by annuity ratio: a building charged for
    /// 20 of its 80 quarters costs less than its price.
    #[test]
    fn long_lived_classes_are_charged_for_the_units_life_only() {
        let long = [
            CLASSES[0],
            ClassTerms {
                share: 0.3,
                life: 80,
                lag: 0,
            },
        ];
        let short = [
            CLASSES[0],
            ClassTerms {
                share: 0.3,
                life: 20,
                lag: 0,
            },
        ];
        let (m, inv) = (margins(), investment());
        let a = UnitEconomics::new(&long, 0, 0.095, &m, &inv);
        let b = UnitEconomics::new(&short, 0, 0.095, &m, &inv);
        assert!(a.cost_factor < b.cost_factor);
    }

    #[test]
    fn orders_close_the_gap_and_replace_retirements() {
        let inv = investment();
        // Steady state: pipeline 19 vintages of 1, one retiring, target 20 → replace it.
        assert!((inv.desired_orders(20.0, 19.0, 1.0, 1.0) - 1.0).abs() < 1e-12);
        // A gap of 8 is closed over τ = 4 quarters on top of replacement.
        assert!((inv.desired_orders(28.0, 19.0, 1.0, 1.0) - 3.0).abs() < 1e-12);
        // Excess capacity orders nothing; the gate scales orders.
        assert_eq!(inv.desired_orders(5.0, 19.0, 1.0, 1.0), 0.0);
        assert!((inv.desired_orders(28.0, 19.0, 1.0, 0.5) - 1.5).abs() < 1e-12);
        assert_eq!(inv.gate(-1.0), 0.0);
        assert_eq!(inv.gate(0.0), 0.5);
        assert_eq!(inv.gate(1.0), 1.0);
    }
}
