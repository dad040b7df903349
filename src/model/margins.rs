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
}

/// One path's cost assumptions and calibrated fixed cost.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MarginDraw {
    variable_cost_share: f64,
    start_ebita_margin: f64,
    /// `(1 + fixed_cost_inflation)^(1/4)`.
    fixed_step: f64,
    tax_rate: f64,
    working_capital_share: f64,
    fixed_cost_start_rmb_bn: f64,
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
        }
    }

    pub(crate) fn draw(&self, params: &mut ParamStreams) -> MarginDraw {
        MarginDraw {
            variable_cost_share: params.draw(&self.variable_cost_share),
            start_ebita_margin: params.draw(&self.start_ebita_margin),
            fixed_step: (1.0 + params.draw(&self.fixed_cost_inflation)).powf(0.25),
            tax_rate: params.draw(&self.tax_rate),
            working_capital_share: params.draw(&self.working_capital_share),
            fixed_cost_start_rmb_bn: 0.0,
        }
    }
}

impl MarginDraw {
    /// Fixed cash costs of the start quarter such that the plan world reports the start
    /// margin: `F_0 = R_0 (1 - v - m_0) - D_0` (validation keeps it non-negative).
    pub(crate) fn calibrate(&mut self, start_revenue_rmb_bn: f64, start_depreciation_rmb_bn: f64) {
        self.fixed_cost_start_rmb_bn = start_revenue_rmb_bn
            * (1.0 - self.variable_cost_share - self.start_ebita_margin)
            - start_depreciation_rmb_bn;
    }

    /// EBITA, NOPAT, working-capital change and FCF of quarter `t`. `previous_revenue` is
    /// `None` in the start quarter (no working-capital change is counted there).
    pub(crate) fn operate(
        &self,
        t: i64,
        revenue: f64,
        previous_revenue: Option<f64>,
        depreciation: f64,
        capex: f64,
    ) -> OperatingQuarter {
        let fixed = self.fixed_cost_start_rmb_bn * self.fixed_step.powi(t as i32);
        let ebita = revenue * (1.0 - self.variable_cost_share) - fixed - depreciation;
        let nopat = ebita * (1.0 - self.tax_rate);
        let working_capital_change =
            previous_revenue.map_or(0.0, |p| self.working_capital_share * (revenue - p));
        OperatingQuarter {
            ebita,
            nopat,
            working_capital_change,
            fcf: nopat + depreciation - capex - working_capital_change,
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
        };
        draw.calibrate(41.6, 4.0);
        let q = draw.operate(0, 41.6, None, 4.0, 30.0);
        assert!((q.ebita / 41.6 - 0.09).abs() < 1e-12);
        assert!((q.fcf - (q.ebita * 0.85 + 4.0 - 30.0)).abs() < 1e-12);
        // Operating leverage: 10% more revenue lifts the margin.
        let up = draw.operate(0, 41.6 * 1.1, Some(41.6), 4.0, 30.0);
        assert!(up.ebita / (41.6 * 1.1) > 0.09);
        assert!((up.working_capital_change - 0.05 * 4.16).abs() < 1e-12);
    }
}
