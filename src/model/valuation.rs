//! Valuation of the plan: NPV, IRR, payback, ROIC, MOIC and profitability index of the
//! incremental cash flows (plan world minus counterfactual). Equations: docs/model.md,
//! "Return of the plan".

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::finance::{self, Irr};
use crate::scenario::plan::{TerminalMethod, Valuation};

/// The valuation block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct ValuationBlock {
    discount_rate: ParamSlot,
    terminal_growth: ParamSlot,
    terminal_ronic: Option<ParamSlot>,
    reinvestment_rate: Option<ParamSlot>,
    terminal_value: bool,
    terminal_method: TerminalMethod,
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
    /// Incremental invested capital by quarter, RMB bn (kept to reuse its memory).
    invested: Vec<f64>,
}

/// One path's discounting assumptions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ValuationDraw {
    /// Annual discount rate (WACC) before regime and event spreads.
    pub annual_rate: f64,
    /// Annual terminal growth (stated, or the ceiling on the estimate).
    pub annual_growth: f64,
    /// Annual stated return on new invested capital; NaN: estimated.
    pub annual_ronic: f64,
    /// Annual MIRR reinvestment rate.
    pub annual_reinvestment: f64,
}

/// The return of the plan on one path. NaN marks an undefined value (no unique IRR,
/// never paid back, no incremental capital).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PlanReturn {
    pub npv_rmb_bn: f64,
    /// The NPV without the terminal value.
    pub npv_excl_terminal_rmb_bn: f64,
    pub irr_annual: f64,
    /// Number of IRRs found: 1 when `irr_annual` is defined, 0 or several otherwise.
    pub irr_roots: f64,
    /// Annualized MIRR (finance rate the path's WACC, reinvestment at the stated rate).
    pub mirr_annual: f64,
    pub payback_quarters: f64,
    pub discounted_payback_quarters: f64,
    pub moic: f64,
    pub profitability_index: f64,
    pub incremental_capex_rmb_bn: f64,
    pub terminal_value_pv_rmb_bn: f64,
    /// Annual growth of the increment the terminal value assumes (NaN: no terminal value).
    pub terminal_growth_annual: f64,
    /// Annual return on new invested capital the terminal value assumes (NaN: none).
    pub terminal_ronic_annual: f64,
}

/// The terminal value at the last quarter and the growth and RONIC it assumes (annual).
struct Terminal {
    value: f64,
    growth_annual: f64,
    ronic_annual: f64,
}

const NO_TERMINAL: Terminal = Terminal {
    value: 0.0,
    growth_annual: f64::NAN,
    ronic_annual: f64::NAN,
};

fn quarterly(annual: f64) -> f64 {
    (1.0 + annual).powf(0.25) - 1.0
}

impl ValuationBlock {
    pub(crate) fn new(valuation: &Valuation, params: &mut ParamTable) -> Self {
        Self {
            discount_rate: params.slot("valuation.discount_rate", &valuation.discount_rate),
            terminal_growth: params.slot("valuation.terminal_growth", &valuation.terminal_growth),
            terminal_ronic: valuation
                .terminal_ronic
                .as_ref()
                .map(|p| params.slot("valuation.terminal_ronic", p)),
            reinvestment_rate: valuation
                .reinvestment_rate
                .as_ref()
                .map(|p| params.slot("valuation.reinvestment_rate", p)),
            terminal_value: valuation.terminal_value,
            terminal_method: valuation.terminal_method,
        }
    }

    /// This path's discount rate and terminal growth.
    pub(crate) fn draw(&self, params: &mut ParamStreams) -> ValuationDraw {
        let annual_rate = params.draw(&self.discount_rate);
        ValuationDraw {
            annual_rate,
            annual_growth: params.draw(&self.terminal_growth),
            annual_ronic: self
                .terminal_ronic
                .as_ref()
                .map_or(f64::NAN, |slot| params.draw(slot)),
            annual_reinvestment: self
                .reinvestment_rate
                .as_ref()
                .map_or(annual_rate, |slot| params.draw(slot)),
        }
    }

    /// The terminal value at the last quarter (docs/model.md, "Return of the plan"), from
    /// the increment's NOPAT and invested capital over its last quarters.
    fn terminal(
        &self,
        draw: &ValuationDraw,
        inc: &Incremental,
        invested: &[f64],
        last_rate: f64,
    ) -> Terminal {
        if !self.terminal_value {
            return NO_TERMINAL;
        }
        let n = inc.nopat.len();
        // Steady-state NOPAT: the mean of the last four quarters, so that a replacement
        // cycle falling at the horizon does not swing it.
        let tail = &inc.nopat[inc.start_index.max(n.saturating_sub(4))..];
        let base = tail.iter().sum::<f64>() / tail.len() as f64;
        let capital = invested[n.saturating_sub(4)..].iter().sum::<f64>()
            / invested[n.saturating_sub(4)..].len() as f64;
        let gordon = |growth_annual: f64, reinvestment_share: f64, ronic_annual: f64| {
            let growth = quarterly(growth_annual);
            Terminal {
                value: base * (1.0 + growth) * (1.0 - reinvestment_share) / (last_rate - growth),
                growth_annual,
                ronic_annual,
            }
        };
        match self.terminal_method {
            TerminalMethod::Gordon => gordon(draw.annual_growth, 0.0, f64::NAN),
            TerminalMethod::ValueDriver if draw.annual_ronic.is_finite() => {
                let ronic = quarterly(draw.annual_ronic);
                gordon(
                    draw.annual_growth,
                    quarterly(draw.annual_growth) / ronic,
                    draw.annual_ronic,
                )
            }
            TerminalMethod::ValueDriver => {
                // Growth over the last two years, of the increment's invested capital (mean
                // of the last year against the year two before): smoother than its NOPAT and
                // of one sign on nearly every path. Undefined if the capital changes sign.
                if n < inc.start_index + 12 {
                    return NO_TERMINAL;
                }
                let last_year: f64 = invested[n - 4..].iter().sum();
                let earlier_year: f64 = invested[n - 12..n - 8].iter().sum();
                if last_year == 0.0
                    || earlier_year == 0.0
                    || (last_year > 0.0) != (earlier_year > 0.0)
                {
                    return NO_TERMINAL;
                }
                let growth_annual =
                    ((last_year / earlier_year).sqrt() - 1.0).min(draw.annual_growth);
                let growth = quarterly(growth_annual);
                // RONIC = the increment's own return on capital, base / capital per
                // quarter: NOPAT (1 − g/RONIC) = NOPAT − g · capital, defined for any sign.
                Terminal {
                    value: (1.0 + growth) * (base - growth * capital) / (last_rate - growth),
                    growth_annual,
                    ronic_annual: if capital != 0.0 {
                        (1.0 + base / capital).powi(4) - 1.0
                    } else {
                        f64::NAN
                    },
                }
            }
        }
    }

    /// Values the incremental flows with this path's discount rate and terminal growth.
    pub(crate) fn evaluate(
        &self,
        draw: ValuationDraw,
        inc: &mut Incremental,
        roic: &mut Vec<f64>,
    ) -> PlanReturn {
        let annual_rate = draw.annual_rate;
        let quarterly_with = |spread: f64| quarterly(annual_rate + spread);
        let n = inc.fcf.len();
        // Discount factors: each quarter discounted at the base rate plus its spread.
        inc.discount_factors.clear();
        let mut factor = 1.0;
        for j in 0..n {
            if j > 0 {
                factor /= 1.0 + quarterly_with(inc.discount_spread[j]);
            }
            inc.discount_factors.push(factor);
        }
        let last_rate = quarterly_with(inc.discount_spread[n - 1]);

        // Incremental invested capital IC(t) = Σ_{s ≤ t} (ΔCapex − ΔDep + ΔWC).
        let mut invested = std::mem::take(&mut inc.invested);
        invested.clear();
        let mut capital = 0.0;
        for j in 0..n {
            capital += inc.capex[j] - inc.depreciation[j] + inc.working_capital_change[j];
            invested.push(capital);
        }

        // Terminal value at the last quarter, discounted after the horizon at the last
        // quarter's rate (validation keeps growth below the rate).
        let terminal = self.terminal(&draw, inc, &invested, last_rate);
        inc.flows.clear();
        inc.flows.extend_from_slice(&inc.fcf);
        inc.flows[n - 1] += terminal.value;

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
        // MIRR: outlays financed at the path's WACC, inflows reinvested at the stated rate.
        let mirr_annual = finance::mirr(
            &inc.flows,
            quarterly(annual_rate),
            quarterly(draw.annual_reinvestment),
        )
        .ok()
        .flatten()
        .map_or(f64::NAN, |m| (1.0 + m).powi(4) - 1.0);
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
        let mut year_start = inc.start_index + 1;
        while year_start + 4 <= n {
            let quarters = year_start..year_start + 4;
            let nopat: f64 = inc.nopat[quarters.clone()].iter().sum();
            let average_capital = invested[quarters].iter().sum::<f64>() / 4.0;
            roic.push(defined(nopat, average_capital));
            year_start += 4;
        }

        inc.invested = invested;
        let terminal_pv = terminal.value * inc.discount_factors[n - 1];
        PlanReturn {
            npv_rmb_bn: npv,
            npv_excl_terminal_rmb_bn: npv - terminal_pv,
            irr_annual,
            irr_roots,
            mirr_annual,
            payback_quarters: payback,
            discounted_payback_quarters: discounted_payback,
            moic: defined(operating, total_capex),
            profitability_index: defined(npv + pv_capex, pv_capex),
            incremental_capex_rmb_bn: total_capex,
            terminal_value_pv_rmb_bn: terminal_pv,
            terminal_growth_annual: terminal.growth_annual,
            terminal_ronic_annual: terminal.ronic_annual,
        }
    }
}

/// One world's cash flows and the path's discounting, the inputs of its enterprise value.
pub(crate) struct WorldFlows<'a> {
    /// Free cash flow by quarter index `0..=H`, RMB bn.
    pub fcf: &'a [f64],
    /// NOPAT by quarter index `0..=H`, RMB bn.
    pub nopat: &'a [f64],
    /// Annual spread on the discount rate by quarter index (regimes and events), if any.
    pub discount_spread: Option<&'a [f64]>,
}

/// The enterprise value of one world's cloud business at the end of the start quarter
/// (docs/model.md, "Enterprise value of the cloud business"), RMB bn: the free cash flows
/// of quarters `1..=H` discounted at the path's rates, plus a value-driver terminal value
/// on the mean NOPAT of the last four quarters, `B (1 + g_q)(1 − g_q / RONIC_q) / (r_q − g_q)`,
/// with RONIC the stated `valuation.terminal_ronic` or else the last quarter's discount
/// rate (growth after the horizon earns its cost of capital and adds no value).
pub(crate) fn enterprise_value(
    draw: &ValuationDraw,
    terminal_value: bool,
    flows: &WorldFlows<'_>,
) -> f64 {
    let last = flows.fcf.len() - 1;
    let rate = |t: usize| quarterly(draw.annual_rate + flows.discount_spread.map_or(0.0, |s| s[t]));
    let mut factor = 1.0;
    let mut value = 0.0;
    for t in 1..=last {
        factor /= 1.0 + rate(t);
        value += flows.fcf[t] * factor;
    }
    if terminal_value && last >= 1 {
        let tail = &flows.nopat[last.saturating_sub(3).max(1)..=last];
        let base = tail.iter().sum::<f64>() / tail.len() as f64;
        let last_rate = rate(last);
        let growth = quarterly(draw.annual_growth);
        let ronic = if draw.annual_ronic.is_finite() {
            quarterly(draw.annual_ronic)
        } else {
            last_rate
        };
        value += base * (1.0 + growth) * (1.0 - growth / ronic) / (last_rate - growth) * factor;
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat business: FCF f and NOPAT b every quarter at a flat rate. The value is the
    /// annuity of `H` quarters plus `b (1 + g)/r` discounted `H` quarters (RONIC = r).
    #[test]
    fn enterprise_value_is_the_annuity_plus_the_value_driver_terminal_value() {
        let draw = ValuationDraw {
            annual_rate: 0.09,
            annual_growth: 0.02,
            annual_ronic: f64::NAN,
            annual_reinvestment: 0.09,
        };
        let (h, f, b) = (40usize, 3.0, 5.0);
        let fcf = vec![f; h + 1];
        let nopat = vec![b; h + 1];
        let flows = WorldFlows {
            fcf: &fcf,
            nopat: &nopat,
            discount_spread: None,
        };
        let r = 1.09f64.powf(0.25) - 1.0;
        let g = 1.02f64.powf(0.25) - 1.0;
        let v = 1.0 / (1.0 + r);
        let annuity = f * (1.0 - v.powi(h as i32)) / r;
        let terminal = b * (1.0 + g) / r * v.powi(h as i32);
        let value = enterprise_value(&draw, true, &flows);
        assert!(
            (value - (annuity + terminal)).abs() < 1e-9 * value,
            "{value}"
        );
        let explicit = enterprise_value(&draw, false, &flows);
        assert!((explicit - annuity).abs() < 1e-9 * annuity);
        // A stated RONIC above the rate makes growth worth something.
        let stated = ValuationDraw {
            annual_ronic: 0.20,
            ..draw
        };
        let ronic = 1.2f64.powf(0.25) - 1.0;
        let terminal = b * (1.0 + g) * (1.0 - g / ronic) / (r - g) * v.powi(h as i32);
        let value = enterprise_value(&stated, true, &flows);
        assert!((value - (annuity + terminal)).abs() < 1e-9 * value);
    }
}
