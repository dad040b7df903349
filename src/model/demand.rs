//! Demand and competition: AI demand as a quantity of compute, customers lost to unmet
//! demand and won back, and Alibaba's share of the China AI-cloud market. Equations:
//! docs/model.md, "Customers and market share".

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::scenario::policy::Customers;

/// The customer block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct CustomerBlock {
    loss_rate: ParamSlot,
    return_rate: ParamSlot,
}

/// One path's customer dynamics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CustomerDraw {
    /// `ℓ`: share of retained demand lost per quarter per unit of unmet share.
    pub loss_rate: f64,
    /// `ρ`: share of lost demand won back per quarter while capacity is available.
    pub return_rate: f64,
}

impl CustomerBlock {
    pub(crate) fn new(customers: &Customers, params: &mut ParamTable) -> Self {
        Self {
            loss_rate: params.slot("customers.loss_rate", &customers.loss_rate),
            return_rate: params.slot("customers.return_rate", &customers.return_rate),
        }
    }

    pub(crate) fn draw(&self, params: &mut ParamStreams) -> CustomerDraw {
        CustomerDraw {
            loss_rate: params.draw(&self.loss_rate),
            return_rate: params.draw(&self.return_rate),
        }
    }
}

impl CustomerDraw {
    /// `M(t+1) = M (1 − ℓ u) + ρ (1 − M)(1 − u)`: retention after a quarter with unmet
    /// share `u`. Stays in [0, 1] for `M, u, ℓ, ρ` in [0, 1].
    pub(crate) fn next_retention(&self, retention: f64, unmet_share: f64) -> f64 {
        retention * (1.0 - self.loss_rate * unmet_share)
            + self.return_rate * (1.0 - retention) * (1.0 - unmet_share)
    }
}

/// Served compute units and the unmet share of one quarter: `served = min(M Q, μ_max U)`,
/// `u = 1 − served / (M Q)` (0 when there is no demand).
pub(crate) fn serve(
    demand_units: f64,
    retention: f64,
    capacity_units: f64,
    max_utilization: f64,
) -> (f64, f64) {
    let wanted = retention * demand_units;
    let served = wanted.min(max_utilization * capacity_units).max(0.0);
    let unmet = if wanted > 0.0 {
        1.0 - served / wanted
    } else {
        0.0
    };
    (served, unmet)
}

/// Alibaba's share of the market when the rest of the market earns `rest_rmb_bn`.
pub(crate) fn market_share(ai_revenue_rmb_bn: f64, rest_rmb_bn: f64) -> f64 {
    let market = ai_revenue_rmb_bn + rest_rmb_bn;
    if market > 0.0 {
        ai_revenue_rmb_bn / market
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Retention stays in [0, 1]; full service never loses customers; a full shortage
        /// never wins any back.
        #[test]
        fn retention_stays_a_share(m in 0.0f64..=1.0, u in 0.0f64..=1.0, l in 0.0f64..=1.0, r in 0.0f64..=1.0) {
            let d = CustomerDraw { loss_rate: l, return_rate: r };
            let next = d.next_retention(m, u);
            prop_assert!((0.0..=1.0 + 1e-12).contains(&next));
            prop_assert!(d.next_retention(m, 0.0) >= m - 1e-12);
            prop_assert!(d.next_retention(m, 1.0) <= m + 1e-12);
        }

        #[test]
        fn service_never_exceeds_demand_or_capacity(q in 0.0f64..100.0, m in 0.0f64..=1.0, u in 0.0f64..100.0, mu in 0.1f64..=1.0) {
            let (served, unmet) = serve(q, m, u, mu);
            prop_assert!(served <= m * q + 1e-12 && served <= mu * u + 1e-12);
            prop_assert!((0.0..=1.0).contains(&unmet));
        }
    }

    #[test]
    fn without_losses_retention_stays_full() {
        let d = CustomerDraw {
            loss_rate: 0.0,
            return_rate: 0.05,
        };
        assert_eq!(d.next_retention(1.0, 0.6), 1.0);
        assert!((market_share(35.8, 64.2) - 0.358).abs() < 1e-12);
    }
}
