//! Pricing: the base price of a compute unit follows the user cost of a new unit, and a
//! premium follows industry tightness (Alibaba's shortage and the rest of the market's).
//! Equations: docs/model.md, "Pricing".

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::scenario::policy::Pricing;

/// The pricing block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct PricingBlock {
    markup: ParamSlot,
    markup_half_life: ParamSlot,
    start_premium: ParamSlot,
    slope: ParamSlot,
    max_premium: ParamSlot,
    adjustment: ParamSlot,
    alibaba_share: ParamSlot,
    rest_start: ParamSlot,
    rest_long_run: ParamSlot,
    rest_half_life: ParamSlot,
    elasticity: Option<ParamSlot>,
}

/// One path's pricing assumptions.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct PricingDraw {
    /// `1 + markup`: the long-run ratio of the base price to the user cost.
    pub long_run_ratio: f64,
    /// `0.5^(1/half-life)`: per-quarter decay of the ratio's gap to its long run.
    pub ratio_decay: f64,
    pub start_premium: f64,
    slope: f64,
    max_premium: f64,
    adjustment: f64,
    /// Alibaba's market share `w_A`.
    pub alibaba_share: f64,
    rest_start: f64,
    rest_long_run: f64,
    rest_decay: f64,
    /// Price elasticity of demand volume; `None`: the older rule.
    elasticity: Option<f64>,
}

impl PricingBlock {
    pub(crate) fn new(pricing: &Pricing, params: &mut ParamTable) -> Self {
        let mut slot = |k: &str, p| params.slot(&format!("pricing.{k}"), p);
        Self {
            markup: slot("markup", &pricing.markup),
            markup_half_life: slot(
                "markup_half_life_quarters",
                &pricing.markup_half_life_quarters,
            ),
            start_premium: slot("start_premium", &pricing.start_premium),
            slope: slot("premium_slope", &pricing.premium_slope),
            max_premium: slot("max_premium", &pricing.max_premium),
            adjustment: slot("premium_adjustment", &pricing.premium_adjustment),
            alibaba_share: slot("alibaba_share", &pricing.alibaba_share),
            rest_start: slot(
                "rest_of_market_start_unmet_share",
                &pricing.rest_of_market_start_unmet_share,
            ),
            rest_long_run: slot(
                "rest_of_market_long_run_unmet_share",
                &pricing.rest_of_market_long_run_unmet_share,
            ),
            rest_half_life: slot(
                "rest_of_market_half_life_quarters",
                &pricing.rest_of_market_half_life_quarters,
            ),
            elasticity: pricing
                .demand_price_elasticity
                .as_ref()
                .map(|p| slot("demand_price_elasticity", p)),
        }
    }

    pub(crate) fn draw(&self, params: &mut ParamStreams) -> PricingDraw {
        PricingDraw {
            long_run_ratio: 1.0 + params.draw(&self.markup),
            ratio_decay: 0.5f64.powf(1.0 / params.draw(&self.markup_half_life)),
            start_premium: params.draw(&self.start_premium),
            slope: params.draw(&self.slope),
            max_premium: params.draw(&self.max_premium),
            adjustment: params.draw(&self.adjustment),
            alibaba_share: params.draw(&self.alibaba_share),
            rest_start: params.draw(&self.rest_start),
            rest_long_run: params.draw(&self.rest_long_run),
            rest_decay: 0.5f64.powf(1.0 / params.draw(&self.rest_half_life)),
            elasticity: self.elasticity.as_ref().map(|slot| params.draw(slot)),
        }
    }
}

/// Largest industry tightness the premium reads (keeps `ũ / (1 − ũ)` finite).
const MAX_TIGHTNESS: f64 = 0.95;

impl PricingDraw {
    /// A draw with no premium and the base price at the user cost (pricing switched off).
    pub(crate) fn none() -> Self {
        Self {
            long_run_ratio: 1.0,
            ratio_decay: 0.0,
            start_premium: 1.0,
            slope: 0.0,
            max_premium: 1.0,
            adjustment: 1.0,
            alibaba_share: 1.0,
            rest_start: 0.0,
            rest_long_run: 0.0,
            rest_decay: 0.0,
            elasticity: None,
        }
    }

    /// Demand volume relative to the trend's, `(f_u · S/S₀ · f_p)^(−ε)`, for a price that
    /// stands `f_u · S/S₀ · f_p` times its trend (the unit-cost pass-through `f_u`, the
    /// premium `S` over the start's `S₀`, the price events' `f_p`): every move counts
    /// alike. `None` without an elasticity: the caller keeps the older rule (volume
    /// `1 / f_u` of the trend's: RMB demand fixed under cost pass-through, volume blind to
    /// the premium and price events).
    pub(crate) fn volume_factor(&self, unit_cost: f64, premium: f64, price: f64) -> Option<f64> {
        self.elasticity
            .map(|elasticity| (unit_cost * premium / self.start_premium * price).powf(-elasticity))
    }

    /// Per-quarter decay of the rest of the market's shortage, `0.5^(1/h_r)`.
    pub(crate) fn rest_decay(&self) -> f64 {
        self.rest_decay
    }

    /// The rest of the market's unmet share in the quarter where its shortage has decayed
    /// by `decayed = rest_decay^t`, with the events' shift.
    pub(crate) fn rest_of_market_unmet(&self, decayed: f64, shift: f64) -> f64 {
        let path = self.rest_long_run + (self.rest_start - self.rest_long_run) * decayed;
        (path + shift).clamp(0.0, MAX_TIGHTNESS)
    }

    /// Industry tightness `ũ = w_A u_own + (1 − w_A) u_rest` (clamped to [0, 0.95]).
    pub(crate) fn tightness(&self, own_unmet: f64, rest_unmet: f64) -> f64 {
        (self.alibaba_share * own_unmet + (1.0 - self.alibaba_share) * rest_unmet)
            .clamp(0.0, MAX_TIGHTNESS)
    }

    /// Next quarter's premium: `S + θ (S* − S)` with `S* = min(S_max, 1 + a ũ / (1 − ũ))`.
    pub(crate) fn next_premium(&self, premium: f64, tightness: f64) -> f64 {
        let target = (1.0 + self.slope * tightness / (1.0 - tightness)).min(self.max_premium);
        premium + self.adjustment * (target - premium)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw() -> PricingDraw {
        PricingDraw {
            long_run_ratio: 1.1,
            ratio_decay: 0.5f64.powf(1.0 / 8.0),
            start_premium: 1.0,
            slope: 1.2,
            max_premium: 3.0,
            adjustment: 0.5,
            alibaba_share: 0.358,
            rest_start: 0.2,
            rest_long_run: 0.0,
            rest_decay: 0.5f64.powf(1.0 / 6.0),
            elasticity: None,
        }
    }

    /// One elasticity for every price move: a 10% rise of the price above its trend cuts
    /// demand volume by the same `1.1^(−ε)` whether it comes from cost pass-through, the
    /// premium or a price event (one test per move), and moves compound.
    #[test]
    fn the_elasticity_applies_alike_to_every_price_move() {
        let epsilon = 0.6;
        let d = PricingDraw {
            start_premium: 1.25,
            elasticity: Some(epsilon),
            ..draw()
        };
        let expected = 1.1f64.powf(-epsilon);
        let close = |x: Option<f64>, y: f64| (x.unwrap() - y).abs() < 1e-12;
        // At the trend: no move, no change in volume.
        assert!(close(d.volume_factor(1.0, 1.25, 1.0), 1.0));
        // Cost pass-through (export controls: the unit-cost factor f_u).
        assert!(close(d.volume_factor(1.1, 1.25, 1.0), expected));
        // The premium, relative to the start's.
        assert!(close(d.volume_factor(1.0, 1.25 * 1.1, 1.0), expected));
        // A price event (a price war is the same with a factor below 1).
        assert!(close(d.volume_factor(1.0, 1.25, 1.1), expected));
        assert!(close(
            d.volume_factor(1.0, 1.25, 0.85),
            0.85f64.powf(-epsilon)
        ));
        // Moves compound.
        assert!(close(
            d.volume_factor(1.1, 1.25 * 1.1, 1.1),
            expected.powi(3)
        ));
        // Elasticity 0: volume ignores every move.
        let rigid = PricingDraw {
            elasticity: Some(0.0),
            ..d
        };
        assert!(close(rigid.volume_factor(1.3, 2.0, 0.7), 1.0));
        // Without the key: the caller's older rule.
        assert_eq!(draw().volume_factor(1.1, 1.0, 1.0), None);
    }

    /// Calibration targets of docs/model.md: a loose market has no premium, ũ = 0.2 gives
    /// +30% (the Apr-26 rises were +25-34%), a very tight market is capped at 3x.
    #[test]
    fn premium_targets_match_the_calibration() {
        let d = draw();
        let settle = |u: f64| (0..200).fold(1.0, |s, _| d.next_premium(s, u));
        assert!((settle(0.0) - 1.0).abs() < 1e-12);
        assert!((settle(0.2) - 1.3).abs() < 1e-9, "{}", settle(0.2));
        assert!((settle(0.9) - 3.0).abs() < 1e-9);
        // Half the gap closes each quarter.
        assert!((d.next_premium(1.0, 0.2) - 1.15).abs() < 1e-12);
    }

    #[test]
    fn tightness_weights_alibaba_by_its_share() {
        let d = draw();
        assert!((d.tightness(1.0, 0.0) - 0.358).abs() < 1e-12);
        assert!((d.rest_of_market_unmet(d.rest_decay().powi(6), 0.0) - 0.1).abs() < 1e-12);
        assert_eq!(d.rest_of_market_unmet(1.0, 2.0), MAX_TIGHTNESS);
    }
}
