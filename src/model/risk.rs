//! Risk regimes and events: a Markov chain of regimes per path, events that fire with a
//! regime-dependent hazard, and the per-quarter lever series their effects produce.
//! Equations: docs/model.md, "Risk".

use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::rng::FactorStreams;
use crate::scenario::risk::{Lever, Risk};

#[derive(Clone, Debug)]
struct EffectModel {
    lever: Lever,
    segment: usize,
    size: f64,
    /// Per-quarter decay factor `2^(-1/h)`; 1 for a permanent effect.
    decay: f64,
}

#[derive(Clone, Debug)]
struct EventModel {
    hazard: Vec<f64>,
    repeatable: bool,
    severity: ParamSlot,
    effects: Vec<EffectModel>,
    streams: FactorStreams,
}

/// The risk block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct RiskBlock {
    pub regime_names: Vec<String>,
    pub event_names: Vec<String>,
    initial_cdf: Vec<f64>,
    transition_cdf: Vec<Vec<f64>>,
    /// `[regime][segment]`, quarterly log drift added.
    growth_shift: Vec<Vec<f64>>,
    /// `[segment * quarters + t]`, quarterly log drift added whatever the regime: minus the
    /// mean shift under the chain's distribution of quarter `t` when the shifts are
    /// centred, otherwise empty.
    growth_centring: Vec<f64>,
    volatility_scale: Vec<f64>,
    discount_spread: Vec<f64>,
    events: Vec<EventModel>,
    regime_streams: FactorStreams,
    segments: usize,
}

/// A block's random streams for the regime chain and each event.
pub(crate) struct RiskStreams {
    regime: ChaCha8Rng,
    events: Vec<ChaCha8Rng>,
}

/// One path's regimes, firings and lever series over quarters `0..=H`.
#[derive(Clone, Debug, Default)]
pub(crate) struct RiskPath {
    pub regime: Vec<usize>,
    /// Cumulative firings of each event by quarter: `firings[e * quarters + t]`.
    pub firings: Vec<u32>,
    /// Added to segment `s`'s quarterly log drift: `drift_shift[s * quarters + t]`.
    pub drift_shift: Vec<f64>,
    /// Added to segment `s`'s log revenue level.
    pub level_shift: Vec<f64>,
    pub volatility_scale: Vec<f64>,
    pub unit_cost_factor: Vec<f64>,
    pub capacity_factor: Vec<f64>,
    pub price_factor: Vec<f64>,
    pub plan_size_factor: Vec<f64>,
    /// Annual spread added to the discount rate.
    pub discount_spread: Vec<f64>,
    /// Added to the rest of the market's unmet share of AI demand.
    pub market_tightness: Vec<f64>,
    fired: Vec<(usize, usize, f64)>,
    counts: Vec<u32>,
}

fn cdf(probabilities: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    let mut out: Vec<f64> = probabilities
        .map(|p| {
            total += p;
            total
        })
        .collect();
    if let Some(last) = out.last_mut() {
        *last = f64::INFINITY; // rounding never leaves a uniform unassigned
    }
    out
}

/// The distribution of the regime in each quarter, `π_t = π_0 Pᵗ` (`[t][regime]`, regimes
/// in name order): what a path's regime is in quarter `t` before anything is known.
pub(crate) fn regime_distribution(risk: &Risk, quarters: usize) -> Vec<Vec<f64>> {
    let names: Vec<&String> = risk.regimes.keys().collect();
    let mut current: Vec<f64> = risk
        .regimes
        .values()
        .map(|r| r.initial_probability)
        .collect();
    let mut out = Vec::with_capacity(quarters);
    for _ in 0..quarters {
        out.push(current.clone());
        current = (0..names.len())
            .map(|j| {
                risk.regimes
                    .values()
                    .zip(&current)
                    .map(|(from, p)| p * from.transition.get(names[j]).copied().unwrap_or(0.0))
                    .sum()
            })
            .collect();
    }
    out
}

/// Minus each segment's mean quarterly growth shift in quarter `t` under `π_t`
/// (`[segment * quarters + t]`; 0 at `t = 0`, which no shift reaches): added to every
/// path's drift, it leaves `E[shift_t] = 0`, so regimes spread growth around the segment's
/// own assumption instead of lowering it (docs/model.md, "Risk").
fn growth_centring(risk: &Risk, segment_names: &[String], quarters: usize) -> Vec<f64> {
    let distribution = regime_distribution(risk, quarters);
    let mut out = vec![0.0; segment_names.len() * quarters];
    for (s, segment) in segment_names.iter().enumerate() {
        for (t, pi) in distribution.iter().enumerate().skip(1) {
            let mean: f64 = risk
                .regimes
                .values()
                .zip(pi)
                .map(|(r, p)| p * r.growth_shift.get(segment).copied().unwrap_or(0.0) / 4.0)
                .sum();
            out[s * quarters + t] = -mean;
        }
    }
    out
}

fn pick(cdf: &[f64], u: f64) -> usize {
    cdf.iter().position(|c| u < *c).unwrap_or(cdf.len() - 1)
}

impl RiskBlock {
    /// The block for `quarters` quarter indices (the start quarter and the horizon).
    pub(crate) fn new(
        risk: &Risk,
        segment_names: &[String],
        seed: u64,
        params: &mut ParamTable,
        quarters: usize,
    ) -> Self {
        let regime_names: Vec<String> = risk.regimes.keys().cloned().collect();
        let regimes: Vec<_> = risk.regimes.values().collect();
        let segment_index = |s: &str| {
            segment_names
                .iter()
                .position(|n| n == s)
                .expect("validated")
        };
        let growth_centring = if risk.centre_growth_shifts {
            growth_centring(risk, segment_names, quarters)
        } else {
            Vec::new()
        };
        Self {
            growth_centring,
            initial_cdf: cdf(regimes.iter().map(|r| r.initial_probability)),
            transition_cdf: regimes
                .iter()
                .map(|r| {
                    cdf(regime_names
                        .iter()
                        .map(|n| r.transition.get(n).copied().unwrap_or(0.0)))
                })
                .collect(),
            growth_shift: regimes
                .iter()
                .map(|r| {
                    segment_names
                        .iter()
                        .map(|s| r.growth_shift.get(s).copied().unwrap_or(0.0) / 4.0)
                        .collect()
                })
                .collect(),
            volatility_scale: regimes.iter().map(|r| r.volatility_scale).collect(),
            discount_spread: regimes.iter().map(|r| r.discount_spread).collect(),
            events: risk
                .events
                .iter()
                .map(|(name, e)| EventModel {
                    hazard: regime_names
                        .iter()
                        .map(|r| e.hazard.get(r).copied().unwrap_or(0.0))
                        .collect(),
                    repeatable: e.repeatable,
                    severity: params
                        .slot_per_firing(&format!("risk.events.{name}.severity"), &e.severity),
                    effects: e
                        .effects
                        .values()
                        .map(|x| EffectModel {
                            lever: x.lever,
                            segment: x.segment.as_deref().map_or(0, segment_index),
                            size: x.size,
                            decay: x.half_life_quarters.map_or(1.0, |h| 0.5f64.powf(1.0 / h)),
                        })
                        .collect(),
                    streams: FactorStreams::new(seed, &format!("risk.event.{name}")),
                })
                .collect(),
            event_names: risk.events.keys().cloned().collect(),
            regime_names,
            regime_streams: FactorStreams::new(seed, "risk.regime"),
            segments: segment_names.len(),
        }
    }

    pub(crate) fn streams(&self, block_index: u64) -> RiskStreams {
        RiskStreams {
            regime: self.regime_streams.block(block_index),
            events: self
                .events
                .iter()
                .map(|e| e.streams.block(block_index))
                .collect(),
        }
    }

    /// Simulates one path's regimes and events and fills its lever series. Every quarter
    /// consumes one uniform per event and (after the first) one for the regime, fired or
    /// not, so streams stay aligned across scenarios.
    /// Draws the uniforms a path consumes (one regime draw per quarter, one per event and
    /// projected quarter) and nothing else: the draw floor. Returns their sum.
    pub(crate) fn draw_only(&self, streams: &mut RiskStreams, quarters: usize) -> f64 {
        let mut sum: f64 = (0..quarters).map(|_| streams.regime.random::<f64>()).sum();
        for rng in &mut streams.events {
            sum += (1..quarters).map(|_| rng.random::<f64>()).sum::<f64>();
        }
        sum
    }

    pub(crate) fn simulate(
        &self,
        params: &mut ParamStreams,
        streams: &mut RiskStreams,
        quarters: usize,
        path: &mut RiskPath,
    ) {
        let n_events = self.events.len();
        path.regime.clear();
        path.fired.clear();
        path.firings.clear();
        path.firings.resize(n_events * quarters, 0);
        let mut regime = pick(&self.initial_cdf, streams.regime.random());
        let counts = &mut path.counts;
        counts.clear();
        counts.resize(n_events, 0);
        for t in 0..quarters {
            if t > 0 {
                regime = pick(&self.transition_cdf[regime], streams.regime.random());
            }
            path.regime.push(regime);
            for (e, event) in self.events.iter().enumerate() {
                if t == 0 {
                    continue; // the start quarter is reported history
                }
                let u: f64 = streams.events[e].random();
                if u < event.hazard[regime] && (event.repeatable || counts[e] == 0) {
                    counts[e] += 1;
                    path.fired.push((e, t, params.draw(&event.severity)));
                }
                path.firings[e * quarters + t] = counts[e];
            }
        }

        let reset = |v: &mut Vec<f64>, len: usize, value: f64| {
            v.clear();
            v.resize(len, value);
        };
        reset(&mut path.drift_shift, self.segments * quarters, 0.0);
        reset(&mut path.level_shift, self.segments * quarters, 0.0);
        reset(&mut path.volatility_scale, quarters, 1.0);
        reset(&mut path.unit_cost_factor, quarters, 1.0);
        reset(&mut path.capacity_factor, quarters, 1.0);
        reset(&mut path.price_factor, quarters, 1.0);
        reset(&mut path.plan_size_factor, quarters, 1.0);
        reset(&mut path.discount_spread, quarters, 0.0);
        reset(&mut path.market_tightness, quarters, 0.0);
        for t in 1..quarters {
            let r = path.regime[t];
            for s in 0..self.segments {
                path.drift_shift[s * quarters + t] = self.growth_shift[r][s];
            }
            if !self.growth_centring.is_empty() {
                for s in 0..self.segments {
                    path.drift_shift[s * quarters + t] += self.growth_centring[s * quarters + t];
                }
            }
            path.volatility_scale[t] = self.volatility_scale[r];
            path.discount_spread[t] = self.discount_spread[r];
        }
        for &(e, fired_at, severity) in &path.fired {
            for effect in &self.events[e].effects {
                let mut size = effect.size * severity;
                for t in fired_at..quarters {
                    let cell = effect.segment * quarters + t;
                    match effect.lever {
                        Lever::RevenueGrowth => path.drift_shift[cell] += size / 4.0,
                        Lever::RevenueLevel => path.level_shift[cell] += size.ln_1p(),
                        Lever::UnitCost => path.unit_cost_factor[t] *= 1.0 + size,
                        Lever::CapacityAdditions => path.capacity_factor[t] *= 1.0 + size,
                        Lever::Price => path.price_factor[t] *= 1.0 + size,
                        Lever::PlanSize => path.plan_size_factor[t] *= 1.0 + size,
                        Lever::DiscountRate => path.discount_spread[t] += size,
                        Lever::MarketTightness => path.market_tightness[t] += size,
                    }
                    size *= effect.decay;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_from_cumulative_probabilities() {
        let c = cdf([0.2, 0.5, 0.3].into_iter());
        assert_eq!(pick(&c, 0.1), 0);
        assert_eq!(pick(&c, 0.69), 1);
        assert_eq!(pick(&c, 0.999_999_999), 2);
        let only_last = cdf([0.0, 0.0, 1.0].into_iter());
        assert_eq!(pick(&only_last, 0.0), 2);
    }
}
