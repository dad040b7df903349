//! Valuation of the plan: NPV, IRR, payback, ROIC, MOIC and profitability index of the
//! incremental cash flows (plan world minus counterfactual). Equations: docs/model.md,
//! "Return of the plan".

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::finance::{self, Irr};
use crate::scenario::plan::Valuation;

/// The valuation block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct ValuationBlock {
    discount_rate: ParamSlot,
    terminal_growth: ParamSlot,
    terminal_value: bool,
}

/// One path's incremental series over the valuation quarters (plan start to horizon).
#[derive(Clone, Debug, Default)]
pub(crate) struct Incremental {
    /// Incremental free cash flow, RMB bn.
    pub fcf: Vec<f64>,
    /// Incremental capex, RMB bn.
    pub capex: Vec<f64>,
    /// Incremental NOPAT (0 before the start quarter), RMB bn.
    pub nopat: Vec<f64>,
    /// Incremental depreciation, RMB bn.
    pub depreciation: Vec<f64>,
    /// Incremental working-capital change, RMB bn.
    pub working_capital_change: Vec<f64>,
    /// Annual spread added to the discount rate in each quarter (regimes and events).
    pub discount_spread: Vec<f64>,
    /// Index of the start quarter (t = 0) in these series.
    pub start_index: usize,
    flows: Vec<f64>,
    discount_factors: Vec<f64>,
}

/// One path's discounting assumptions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ValuationDraw {
    /// Annual discount rate (WACC) before regime and event spreads.
    pub annual_rate: f64,
    /// Annual terminal growth.
    pub annual_growth: f64,
}

/// The return of the plan on one path. NaN marks an undefined value (no unique IRR,
/// never paid back, no incremental capital).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PlanReturn {
    pub npv_rmb_bn: f64,
    pub irr_annual: f64,
    /// Number of IRRs found: 1 when `irr_annual` is defined, 0 or several otherwise.
    pub irr_roots: f64,
    pub payback_quarters: f64,
    pub discounted_payback_quarters: f64,
    pub moic: f64,
    pub profitability_index: f64,
    pub incremental_capex_rmb_bn: f64,
    pub terminal_value_pv_rmb_bn: f64,
}

impl ValuationBlock {
    pub(crate) fn new(valuation: &Valuation, params: &mut ParamTable) -> Self {
        Self {
            discount_rate: params.slot("valuation.discount_rate", &valuation.discount_rate),
            terminal_growth: params.slot("valuation.terminal_growth", &valuation.terminal_growth),
            terminal_value: valuation.terminal_value,
        }
    }

    /// This path's discount rate and terminal growth.
    pub(crate) fn draw(&self, params: &mut ParamStreams) -> ValuationDraw {
        ValuationDraw {
            annual_rate: params.draw(&self.discount_rate),
            annual_growth: params.draw(&self.terminal_growth),
        }
    }

    /// Values the incremental flows with this path's discount rate and terminal growth.
    pub(crate) fn evaluate(
        &self,
        draw: ValuationDraw,
        inc: &mut Incremental,
        roic: &mut Vec<f64>,
    ) -> PlanReturn {
        let ValuationDraw {
            annual_rate,
            annual_growth,
        } = draw;
        let quarterly = |spread: f64| (1.0 + annual_rate + spread).powf(0.25) - 1.0;
        let growth = (1.0 + annual_growth).powf(0.25) - 1.0;
        let n = inc.fcf.len();
        // Discount factors: each quarter discounted at the base rate plus its spread.
        inc.discount_factors.clear();
        let mut factor = 1.0;
        for j in 0..n {
            if j > 0 {
                factor /= 1.0 + quarterly(inc.discount_spread[j]);
            }
            inc.discount_factors.push(factor);
        }
        let last_rate = quarterly(inc.discount_spread[n - 1]);

        // Gordon terminal value at the last quarter on the steady-state incremental cash
        // flow: the mean incremental NOPAT of the last four quarters, i.e. FCF with
        // maintenance capex equal to depreciation and no working-capital change, so that a
        // replacement cycle falling at the horizon does not swing it (validation keeps
        // growth < rate and the last four quarters after the plan). Discounted after the
        // horizon at the last quarter's rate.
        let terminal = if self.terminal_value {
            let tail = &inc.nopat[inc.start_index.max(n.saturating_sub(4))..];
            let base = tail.iter().sum::<f64>() / tail.len() as f64;
            base * (1.0 + growth) / (last_rate - growth)
        } else {
            0.0
        };
        inc.flows.clear();
        inc.flows.extend_from_slice(&inc.fcf);
        inc.flows[n - 1] += terminal;

        let present = |flows: &[f64]| {
            flows
                .iter()
                .zip(&inc.discount_factors)
                .map(|(f, d)| f * d)
                .sum::<f64>()
        };
        let npv = present(&inc.flows);
        let (irr_annual, irr_roots) = match finance::irr(&inc.flows) {
            Ok(Irr::Unique(r)) => ((1.0 + r).powi(4) - 1.0, 1.0),
            Ok(Irr::Multiple(roots)) => (f64::NAN, roots.len() as f64),
            _ => (f64::NAN, 0.0),
        };
        let never = |p: Option<usize>| p.map_or(f64::NAN, |k| k as f64);
        let payback = never(finance::payback_unchecked(inc.fcf.iter().copied()));
        let discounted_payback = never(finance::payback_unchecked(
            inc.fcf
                .iter()
                .zip(&inc.discount_factors)
                .map(|(f, d)| f * d),
        ));

        let pv_capex = present(&inc.capex);
        let total_capex: f64 = inc.capex.iter().sum();
        let operating: f64 = inc.fcf.iter().zip(&inc.capex).map(|(f, c)| f + c).sum();
        let defined = |x: f64, denominator: f64| {
            if denominator > 0.0 {
                x / denominator
            } else {
                f64::NAN
            }
        };

        // ROIC by projected year k: quarters 4k-3 ..= 4k.
        roic.clear();
        let mut invested = Vec::with_capacity(n);
        let mut capital = 0.0;
        for j in 0..n {
            capital += inc.capex[j] - inc.depreciation[j] + inc.working_capital_change[j];
            invested.push(capital);
        }
        let mut year_start = inc.start_index + 1;
        while year_start + 4 <= n {
            let quarters = year_start..year_start + 4;
            let nopat: f64 = inc.nopat[quarters.clone()].iter().sum();
            let average_capital = invested[quarters].iter().sum::<f64>() / 4.0;
            roic.push(defined(nopat, average_capital));
            year_start += 4;
        }

        PlanReturn {
            npv_rmb_bn: npv,
            irr_annual,
            irr_roots,
            payback_quarters: payback,
            discounted_payback_quarters: discounted_payback,
            moic: defined(operating, total_capex),
            profitability_index: defined(npv + pv_capex, pv_capex),
            incremental_capex_rmb_bn: total_capex,
            terminal_value_pv_rmb_bn: terminal * inc.discount_factors[n - 1],
        }
    }
}
