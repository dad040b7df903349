//! Capacity and the revenue link: AI demand from the revenue model, capped by compute in
//! service × price per compute unit × maximum utilization. Equations: docs/model.md,
//! "Capacity and AI revenue".

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::scenario::plan::Capacity;

/// The capacity block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct CapacityBlock {
    /// Index of the capacity-constrained segment in segment-name order.
    pub segment: usize,
    max_utilization: ParamSlot,
    start_unmet_demand_share: ParamSlot,
    price_decline: ParamSlot,
}

/// One path's capacity assumptions and its calibrated start price.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CapacityDraw {
    pub max_utilization: f64,
    /// Demand per unit of the revenue model's segment path: `1 / (1 - start unmet share)`.
    pub demand_scale: f64,
    /// `(1 - price_decline)^(1/4)`.
    pub price_step: f64,
    /// Revenue per compute unit per quarter at full utilization in the start quarter, RMB bn.
    price_start: f64,
}

/// Realized AI revenue and how capacity was used in one quarter.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct AiQuarter {
    pub realized_rmb_bn: f64,
    pub utilization: f64,
    pub unmet_demand_rmb_bn: f64,
}

impl CapacityBlock {
    pub(crate) fn new(capacity: &Capacity, segment: usize, params: &mut ParamTable) -> Self {
        Self {
            segment,
            max_utilization: params.slot("capacity.max_utilization", &capacity.max_utilization),
            start_unmet_demand_share: params.slot(
                "capacity.start_unmet_demand_share",
                &capacity.start_unmet_demand_share,
            ),
            price_decline: match &capacity.price_decline {
                Some(p) => params.slot("capacity.price_decline", p),
                None => ParamSlot::Fixed(0.0),
            },
        }
    }

    pub(crate) fn draw(&self, params: &mut ParamStreams) -> CapacityDraw {
        CapacityDraw {
            max_utilization: params.draw(&self.max_utilization),
            demand_scale: 1.0 / (1.0 - params.draw(&self.start_unmet_demand_share)),
            price_step: (1.0 - params.draw(&self.price_decline)).powf(0.25),
            price_start: 0.0,
        }
    }
}

impl CapacityDraw {
    /// Calibrates the start price so that the plan world's capacity earns exactly the
    /// reported AI revenue in the start quarter (supply-constrained start).
    pub(crate) fn calibrate(&mut self, reported_rmb_bn: f64, start_units: f64) {
        self.price_start = reported_rmb_bn / (self.max_utilization * start_units);
    }

    /// `min(demand, units × price_t × max utilization)`; `price_factor` is the events'
    /// multiplier on the price (1 without events).
    pub(crate) fn realize(
        &self,
        t: i64,
        demand_rmb_bn: f64,
        units: f64,
        price_factor: f64,
    ) -> AiQuarter {
        let price = self.price_start * self.price_step.powi(t as i32) * price_factor;
        let full_revenue = units * price;
        let realized = demand_rmb_bn.min(full_revenue * self.max_utilization);
        AiQuarter {
            realized_rmb_bn: realized,
            utilization: if full_revenue > 0.0 {
                realized / full_revenue
            } else {
                0.0
            },
            unmet_demand_rmb_bn: demand_rmb_bn - realized,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Utilization stays in [0, max], realized revenue never exceeds demand, and unmet
        /// demand is never negative.
        #[test]
        fn capacity_invariants(demand in 0.0f64..100.0, units in 0.0f64..100.0, util in 0.05f64..1.0, t in 0i64..60, step in 0.8f64..1.0) {
            let mut draw = CapacityDraw { max_utilization: util, demand_scale: 1.0, price_step: step, price_start: 0.0 };
            draw.calibrate(10.0, 20.0);
            let q = draw.realize(t, demand, units, 1.0);
            prop_assert!(q.realized_rmb_bn <= demand);
            prop_assert!(q.unmet_demand_rmb_bn >= 0.0);
            prop_assert!(q.utilization >= 0.0 && q.utilization <= util * (1.0 + 1e-12));
        }
    }

    #[test]
    fn calibrated_start_earns_the_reported_revenue() {
        let mut draw = CapacityDraw {
            max_utilization: 0.85,
            demand_scale: 1.0 / 0.85,
            price_step: 0.97,
            price_start: 0.0,
        };
        draw.calibrate(12.5, 40.0);
        let q = draw.realize(0, 12.5 * draw.demand_scale, 40.0, 1.0);
        assert!((q.realized_rmb_bn - 12.5).abs() < 1e-12);
        assert!((q.utilization - 0.85).abs() < 1e-12);
    }
}
