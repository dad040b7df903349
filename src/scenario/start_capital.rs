//! The installed capital at the start quarter, in closed form from validated inputs: what
//! validation needs to bound the start calibration (compute in service, depreciation)
//! without simulating. `model::capex` steps the same vintages quarter by quarter; its
//! tests check that both agree.

use super::plan::{Economics, MaintenanceMode};
use crate::time::Quarter;

/// Depreciation and compute capex in service in the start quarter (plan world), with the
/// cost of a compute unit held at its start-quarter value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StartCapital {
    /// Depreciation of the start quarter, RMB bn.
    pub depreciation_rmb_bn: f64,
    /// Gross book value of the compute class in service in the start quarter, RMB bn.
    pub compute_cost_in_service: f64,
    /// Gross book value of every class in service in the start quarter, RMB bn.
    pub book_value_in_service: f64,
}

impl Economics {
    /// The plan world's capital at `start_quarter` when legacy capex is `legacy_capex`
    /// (RMB bn a quarter) before the plan: vintages of legacy capex, then the plan's spend
    /// up to the start quarter (reported, else scheduled), each quarter at least the
    /// maintenance floor (replacing what retires), depreciated straight-line from entering
    /// service (docs/model.md, "Capex plan" and "Depreciation").
    pub fn start_capital(&self, start_quarter: Quarter, legacy_capex: f64) -> StartCapital {
        let plan = &self.plan;
        let classes: Vec<_> = plan.assets.values().collect();
        let compute = plan
            .assets
            .keys()
            .position(|name| *name == self.capacity.asset_class)
            .expect("validated: the compute class is an asset class");
        // Quarters are indexed from the first one any start-quarter vintage can come from.
        let plan_first = plan.start_quarter.quarters_since(start_quarter);
        let span = classes
            .iter()
            .map(|c| (c.useful_life_quarters + c.in_service_lag_quarters) as i64)
            .max()
            .unwrap_or(1);
        let first = plan_first.min(0) - span - 1;
        let quarters = (-first + 1) as usize;
        let compute_plan_share = classes[compute].share;
        let legacy_share = |c: usize| match self.legacy.compute_share {
            None => classes[c].share,
            Some(legacy) if c == compute => legacy,
            Some(legacy) if compute_plan_share < 1.0 => {
                classes[c].share * (1.0 - legacy) / (1.0 - compute_plan_share)
            }
            Some(_) => 0.0,
        };
        let weights = plan.schedule_weights();
        let weight_sum: f64 = weights.iter().sum();
        let mut capex = vec![vec![0.0; quarters]; classes.len()];
        for i in 0..quarters {
            let t = first + i as i64;
            let k = t - plan_first;
            if t < plan_first {
                for (c, vintage) in capex.iter_mut().enumerate() {
                    vintage[i] = legacy_capex * legacy_share(c);
                }
                continue;
            }
            // Maintenance: replace what retires (revenue-share maintenance is 0 here: the
            // bound is taken before any revenue-linked spend).
            let mut maintenance_total = 0.0;
            for (c, class) in classes.iter().enumerate() {
                capex[c][i] = match self
                    .maintenance
                    .as_ref()
                    .map_or(MaintenanceMode::ReplaceRetirements, |m| m.mode)
                {
                    MaintenanceMode::ReplaceRetirements => i
                        .checked_sub(class.useful_life_quarters as usize)
                        .map_or(0.0, |v| capex[c][v]),
                    MaintenanceMode::RevenueShare => 0.0,
                };
                maintenance_total += capex[c][i];
            }
            if k < plan.length_quarters as i64 {
                let quarter = plan.start_quarter.plus(k as u32);
                let spend = plan
                    .actual_spend_rmb_bn
                    .get(&quarter.label())
                    .copied()
                    .unwrap_or_else(|| {
                        if weight_sum > 0.0 {
                            plan.total_rmb_bn * weights[k as usize] / weight_sum
                        } else {
                            0.0
                        }
                    });
                if spend >= maintenance_total {
                    for (c, class) in classes.iter().enumerate() {
                        capex[c][i] = spend * class.share;
                    }
                }
            }
        }
        // In service at the start (index quarters - 1): vintages from `entering - life + 1`
        // to `entering = start - lag`.
        let start = quarters - 1;
        let in_service = |c: usize| -> f64 {
            let class = classes[c];
            start
                .checked_sub(class.in_service_lag_quarters as usize)
                .map_or(0.0, |entering| {
                    let from = (entering + 1).saturating_sub(class.useful_life_quarters as usize);
                    capex[c][from..=entering].iter().sum()
                })
        };
        let depreciation: f64 = (0..classes.len())
            .map(|c| in_service(c) / classes[c].useful_life_quarters as f64)
            .sum();
        StartCapital {
            depreciation_rmb_bn: depreciation.max(0.0),
            compute_cost_in_service: in_service(compute),
            book_value_in_service: (0..classes.len()).map(in_service).sum(),
        }
    }
}
