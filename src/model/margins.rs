//! Margins and cash flows: adjusted EBITA with operating leverage, tax, working capital
//! and free cash flow. Equations: docs/model.md, "Margins" and "Cash flows".

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::scenario::plan::Costs;

/// The margin block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct MarginBlock {
    variable_cost_share: ParamSlot,
    start_ebita_margin: ParamSlot,
    fixed_cost_inflation: ParamSlot,
    tax_rate: ParamSlot,
    working_capital_share: ParamSlot,
    /// `None`: the capacity segment has the variable cost share of the rest.
    ai_variable_cost_share: Option<ParamSlot>,
    ai_opex_rate: ParamSlot,
    capacity_cost_rate: ParamSlot,
    fixed_cost_revenue_elasticity: Option<ParamSlot>,
}

/// One path's cost assumptions and calibrated fixed cost.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MarginDraw {
    pub(crate) variable_cost_share: f64,
    pub(crate) start_ebita_margin: f64,
    /// `(1 + fixed_cost_inflation)^(1/4)`.
    pub(crate) fixed_step: f64,
    pub tax_rate: f64,
    pub(crate) working_capital_share: f64,
    pub(crate) fixed_cost_start_rmb_bn: f64,
    /// Variable cost share of the capacity segment's revenue.
    pub ai_variable_cost_share: f64,
    /// Quarterly operating cost of compute in service, share of its gross book value
    /// (`ai_opex_rate / 4`).
    pub ai_opex_per_book_value: f64,
    /// Quarterly cash cost of the installed base, share of the gross book value of every
    /// class in service (`capacity_cost_rate / 4`).
    pub capacity_cost_per_book_value: f64,
    /// Elasticity of fixed costs to the business's scale; `None`: fixed costs
    /// ignore revenue (the older rule, bit for bit).
    pub(crate) fixed_cost_revenue_elasticity: Option<f64>,
}

/// One quarter's operating result and cash flow, RMB bn.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct OperatingQuarter {
    pub ebita: f64,
    pub nopat: f64,
    pub working_capital_change: f64,
    pub fcf: f64,
}

impl MarginBlock {
    pub(crate) fn new(costs: &Costs, params: &mut ParamTable) -> Self {
        Self {
            variable_cost_share: params
                .slot("costs.variable_cost_share", &costs.variable_cost_share),
            start_ebita_margin: params.slot("costs.start_ebita_margin", &costs.start_ebita_margin),
            fixed_cost_inflation: params
                .slot("costs.fixed_cost_inflation", &costs.fixed_cost_inflation),
            tax_rate: params.slot("costs.tax_rate", &costs.tax_rate),
            working_capital_share: params
                .slot("costs.working_capital_share", &costs.working_capital_share),
            ai_variable_cost_share: costs
                .ai_variable_cost_share
                .as_ref()
                .map(|p| params.slot("costs.ai_variable_cost_share", p)),
            ai_opex_rate: match &costs.ai_opex_rate {
                Some(p) => params.slot("costs.ai_opex_rate", p),
                None => ParamSlot::Fixed(0.0),
            },
            capacity_cost_rate: match &costs.capacity_cost_rate {
                Some(p) => params.slot("costs.capacity_cost_rate", p),
                None => ParamSlot::Fixed(0.0),
            },
            fixed_cost_revenue_elasticity: costs
                .fixed_cost_revenue_elasticity
                .as_ref()
                .map(|p| params.slot("costs.fixed_cost_revenue_elasticity", p)),
        }
    }

    pub(crate) fn draw(&self, params: &mut ParamStreams) -> MarginDraw {
        let variable_cost_share = params.draw(&self.variable_cost_share);
        MarginDraw {
            variable_cost_share,
            start_ebita_margin: params.draw(&self.start_ebita_margin),
            fixed_step: (1.0 + params.draw(&self.fixed_cost_inflation)).powf(0.25),
            tax_rate: params.draw(&self.tax_rate),
            working_capital_share: params.draw(&self.working_capital_share),
            fixed_cost_start_rmb_bn: 0.0,
            ai_variable_cost_share: self
                .ai_variable_cost_share
                .as_ref()
                .map_or(variable_cost_share, |slot| params.draw(slot)),
            ai_opex_per_book_value: params.draw(&self.ai_opex_rate) / 4.0,
            capacity_cost_per_book_value: params.draw(&self.capacity_cost_rate) / 4.0,
            fixed_cost_revenue_elasticity: self
                .fixed_cost_revenue_elasticity
                .as_ref()
                .map(|slot| params.draw(slot)),
        }
    }
}

/// One quarter's revenue by cost behaviour and its capital charges, RMB bn.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct QuarterInputs {
    /// Revenue of the segments other than the capacity segment.
    pub other_revenue: f64,
    /// Revenue of the capacity segment (AI).
    pub ai_revenue: f64,
    /// Gross book value of compute in service (drives AI opex).
    pub compute_book_value: f64,
    /// Gross book value of every class in service (drives capacity costs).
    pub book_value: f64,
    pub depreciation: f64,
    pub capex: f64,
}

impl MarginDraw {
    /// The capacity segment's cash operating costs of a quarter: variable costs on its
    /// revenue and opex on the compute in service, RMB bn. The investment gate charges a
    /// new unit exactly these (docs/model.md, "Investment policy").
    pub(crate) fn ai_cash_costs(&self, ai_revenue: f64, compute_book_value: f64) -> f64 {
        ai_revenue * self.ai_variable_cost_share + compute_book_value * self.ai_opex_per_book_value
    }

    /// Cash cost of the installed base in a quarter: fixed costs that step with capacity,
    /// RMB bn.
    pub(crate) fn capacity_costs(&self, book_value: f64) -> f64 {
        book_value * self.capacity_cost_per_book_value
    }

    /// Fixed cash costs of the start quarter such that the plan world reports the start
    /// margin: `F_0 = R_other (1 - v) + R_ai - AI costs - capacity costs - D_0 - m_0 R_0`
    /// (validation keeps it non-negative).
    pub(crate) fn calibrate(&mut self, start: &QuarterInputs) {
        let revenue = start.other_revenue + start.ai_revenue;
        self.fixed_cost_start_rmb_bn = start.other_revenue * (1.0 - self.variable_cost_share)
            + start.ai_revenue
            - self.ai_cash_costs(start.ai_revenue, start.compute_book_value)
            - self.capacity_costs(start.book_value)
            - start.depreciation
            - self.start_ebita_margin * revenue;
    }

    /// EBITA, NOPAT, working-capital change and FCF of quarter `t`. `previous_revenue` is
    /// `None` in the start quarter (no working-capital change is counted there).
    /// `business_scale` is the plan world's revenue of quarter `t` over the start quarter's
    /// (1 at `t = 0`): fixed costs (overheads) grow with it at their elasticity, the same in
    /// both worlds, so they cancel in the plan's increment.
    pub(crate) fn operate(
        &self,
        t: i64,
        quarter: &QuarterInputs,
        previous_revenue: Option<f64>,
        business_scale: f64,
    ) -> OperatingQuarter {
        let mut fixed = self.fixed_cost_start_rmb_bn * self.fixed_step.powi(t as i32);
        if let Some(elasticity) = self.fixed_cost_revenue_elasticity {
            fixed *= business_scale.powf(elasticity);
        }
        let revenue = quarter.other_revenue + quarter.ai_revenue;
        let ebita = quarter.other_revenue * (1.0 - self.variable_cost_share) + quarter.ai_revenue
            - self.ai_cash_costs(quarter.ai_revenue, quarter.compute_book_value)
            - self.capacity_costs(quarter.book_value)
            - fixed
            - quarter.depreciation;
        let nopat = ebita * (1.0 - self.tax_rate);
        let working_capital_change =
            previous_revenue.map_or(0.0, |p| self.working_capital_share * (revenue - p));
        OperatingQuarter {
            ebita,
            nopat,
            working_capital_change,
            fcf: nopat + quarter.depreciation - quarter.capex - working_capital_change,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_reproduces_the_start_margin() {
        let mut draw = MarginDraw {
            variable_cost_share: 0.6,
            start_ebita_margin: 0.09,
            fixed_step: 1.02f64.powf(0.25),
            tax_rate: 0.15,
            working_capital_share: 0.05,
            fixed_cost_start_rmb_bn: 0.0,
            ai_variable_cost_share: 0.2,
            ai_opex_per_book_value: 0.015,
            capacity_cost_per_book_value: 0.01,
            fixed_cost_revenue_elasticity: None,
        };
        let at = |revenue: f64| QuarterInputs {
            other_revenue: revenue * 0.75,
            ai_revenue: revenue * 0.25,
            compute_book_value: 40.0,
            book_value: 70.0,
            depreciation: 4.0,
            capex: 30.0,
        };
        draw.calibrate(&at(41.6));
        let q = draw.operate(0, &at(41.6), None, 1.0);
        assert!((q.ebita / 41.6 - 0.09).abs() < 1e-12);
        assert!((q.fcf - (q.ebita * 0.85 + 4.0 - 30.0)).abs() < 1e-12);
        // Operating leverage: 10% more revenue lifts the margin.
        let up = draw.operate(0, &at(41.6 * 1.1), Some(41.6), 1.0);
        assert!(up.ebita / (41.6 * 1.1) > 0.09);
        assert!((up.working_capital_change - 0.05 * 4.16).abs() < 1e-12);
    }

    /// Fixed costs follow the business's scale at their elasticity: with elasticity 1 and
    /// every other cost proportional, a business 1.5 times the start's (revenue, books and
    /// depreciation alike) keeps the start margin; with elasticity 0 the fixed cost stays
    /// put and the margin rises (operating leverage); the key absent is elasticity 0.
    #[test]
    fn fixed_costs_grow_with_the_business_at_their_elasticity() {
        let at = |scale: f64| QuarterInputs {
            other_revenue: 30.0 * scale,
            ai_revenue: 10.0 * scale,
            compute_book_value: 40.0 * scale,
            book_value: 70.0 * scale,
            depreciation: 4.0 * scale,
            capex: 0.0,
        };
        let margin_at = |elasticity: Option<f64>, scale: f64| {
            let mut draw = MarginDraw {
                variable_cost_share: 0.55,
                start_ebita_margin: 0.09,
                fixed_step: 1.0,
                tax_rate: 0.15,
                working_capital_share: 0.0,
                fixed_cost_start_rmb_bn: 0.0,
                ai_variable_cost_share: 0.2,
                ai_opex_per_book_value: 0.015,
                capacity_cost_per_book_value: 0.005,
                fixed_cost_revenue_elasticity: elasticity,
            };
            draw.calibrate(&at(1.0));
            let fixed = draw.fixed_cost_start_rmb_bn;
            let q = draw.operate(4, &at(scale), None, scale);
            (q.ebita / (40.0 * scale), fixed)
        };
        assert!((margin_at(Some(1.0), 1.5).0 - 0.09).abs() < 1e-12);
        let (fixed_margin, fixed) = margin_at(Some(0.0), 1.5);
        assert!(fixed_margin > 0.09);
        // EBITA = 1.5 (EBITA_0 + F_0) − F_0.
        let expected = (1.5 * (0.09 * 40.0 + fixed) - fixed) / 60.0;
        assert!((fixed_margin - expected).abs() < 1e-12);
        assert_eq!(margin_at(None, 1.5).0, fixed_margin);
        // Elasticity 0.5: the fixed cost grows by √1.5.
        let half = margin_at(Some(0.5), 1.5).0;
        let expected = (1.5 * (0.09 * 40.0 + fixed) - fixed * 1.5f64.sqrt()) / 60.0;
        assert!((half - expected).abs() < 1e-12);
    }
}
