//! Revenue block: segment revenue with fading drift, persistent and i.i.d. growth shocks,
//! correlated across segments, and seasonality. Equations: docs/model.md, "Revenue".

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::params::{ParamSlot, ParamStreams, ParamTable};
use super::risk::RiskPath;
use crate::rng::FactorStreams;
use crate::scenario::Assumptions;

/// One segment's assumptions as sampling slots.
#[derive(Clone, Debug)]
struct SegmentSlots {
    start_revenue_rmb_bn: ParamSlot,
    initial_growth: ParamSlot,
    terminal_growth: ParamSlot,
    growth_half_life_quarters: ParamSlot,
    shock_persistence: ParamSlot,
    persistent_shock_sd: ParamSlot,
    iid_shock_sd: ParamSlot,
}

/// One path's draw of a segment's assumptions.
#[derive(Clone, Copy, Debug)]
struct SegmentDraw {
    start_revenue_rmb_bn: f64,
    initial_growth: f64,
    terminal_growth: f64,
    growth_half_life_quarters: f64,
    shock_persistence: f64,
    persistent_shock_sd: f64,
    iid_shock_sd: f64,
}

/// The revenue block, precomputed from validated assumptions.
#[derive(Clone, Debug)]
pub(crate) struct RevenueBlock {
    names: Vec<String>,
    segments: Vec<SegmentSlots>,
    /// Lower Cholesky factor, row-major, `n × n`.
    cholesky_lower: Vec<f64>,
    /// Seasonal factor of quarter index `t` is `seasonal[(start_quarter_of_year - 1 + t) % 4]`.
    seasonal_by_quarter_of_year: [f64; 4],
    start_quarter_of_year: usize,
    horizon_quarters: usize,
    persistent_factor: Vec<FactorStreams>,
    iid_factor: Vec<FactorStreams>,
}

/// Per-block random streams of the revenue shocks, one per segment and shock kind.
pub(crate) struct RevenueStreams {
    persistent: Vec<ChaCha8Rng>,
    iid: Vec<ChaCha8Rng>,
    /// Antithetic pairs: the even path of a pair records its normals, the odd path replays
    /// them negated (and draws nothing).
    antithetic: bool,
    replaying: bool,
    recorded: Vec<f64>,
    cursor: usize,
}

impl RevenueStreams {
    /// Fills `z` with the next standard normals of the persistent (or i.i.d.) streams.
    #[inline]
    fn fill(&mut self, persistent: bool, z: &mut [f64]) {
        if self.antithetic && self.replaying {
            for zi in z.iter_mut() {
                *zi = -self.recorded[self.cursor];
                self.cursor += 1;
            }
            return;
        }
        let streams = if persistent {
            &mut self.persistent
        } else {
            &mut self.iid
        };
        for (zi, rng) in z.iter_mut().zip(streams.iter_mut()) {
            *zi = rng.sample(StandardNormal);
        }
        if self.antithetic {
            self.recorded.extend_from_slice(z);
        }
    }

    /// Draws `quarters` quarters of shocks and discards them (the draw floor: the same
    /// normals, from the same streams, as a path consumes). Returns their sum.
    pub(crate) fn draw_only(&mut self, quarters: usize) -> f64 {
        let mut sum = 0.0;
        for _ in 0..quarters {
            for rng in self.persistent.iter_mut().chain(self.iid.iter_mut()) {
                sum += rng.sample::<f64, _>(StandardNormal);
            }
        }
        sum
    }

    /// Called at the end of each path: alternates recording and replaying.
    fn end_path(&mut self) {
        if self.antithetic {
            if self.replaying {
                self.recorded.clear();
            }
            self.replaying = !self.replaying;
            self.cursor = 0;
        }
    }
}

/// Work buffers reused across paths (no allocation per path).
#[derive(Clone, Debug, Default)]
pub(crate) struct RevenueScratch {
    draws: Vec<SegmentDraw>,
    uncorrelated: Vec<f64>,
    persistent_state: Vec<f64>,
    log_level: Vec<f64>,
    drift_gap: Vec<f64>,
    drift_decay: Vec<f64>,
    terminal_drift: Vec<f64>,
    persistent_shock: Vec<f64>,
    iid_shock: Vec<f64>,
}

impl RevenueBlock {
    pub(crate) fn new(assumptions: &Assumptions, seed: u64, params: &mut ParamTable) -> Self {
        let revenue = &assumptions.revenue;
        let names: Vec<String> = revenue.segments.keys().cloned().collect();
        let segments = revenue
            .segments
            .iter()
            .map(|(name, s)| {
                let mut slot =
                    |field: &str, p| params.slot(&format!("revenue.segments.{name}.{field}"), p);
                SegmentSlots {
                    start_revenue_rmb_bn: slot("start_revenue_rmb_bn", &s.start_revenue_rmb_bn),
                    initial_growth: slot("initial_growth", &s.initial_growth),
                    terminal_growth: slot("terminal_growth", &s.terminal_growth),
                    growth_half_life_quarters: slot(
                        "growth_half_life_quarters",
                        &s.growth_half_life_quarters,
                    ),
                    shock_persistence: slot("shock_persistence", &s.shock_persistence),
                    persistent_shock_sd: slot("persistent_shock_sd", &s.persistent_shock_sd),
                    iid_shock_sd: slot("iid_shock_sd", &s.iid_shock_sd),
                }
            })
            .collect();
        let l = revenue.correlation.cholesky_lower();
        let n = names.len();
        let cholesky_lower = (0..n * n).map(|k| l[(k / n, k % n)]).collect();
        let s = &revenue.seasonality;
        Self {
            persistent_factor: names
                .iter()
                .map(|name| FactorStreams::new(seed, &format!("revenue.persistent_shock.{name}")))
                .collect(),
            iid_factor: names
                .iter()
                .map(|name| FactorStreams::new(seed, &format!("revenue.iid_shock.{name}")))
                .collect(),
            names,
            segments,
            cholesky_lower,
            seasonal_by_quarter_of_year: [s.q1, s.q2, s.q3, s.q4],
            start_quarter_of_year: assumptions.time.start_quarter.quarter_of_year() as usize,
            horizon_quarters: assumptions.time.horizon_quarters as usize,
        }
    }

    pub(crate) fn segment_names(&self) -> &[String] {
        &self.names
    }

    pub(crate) fn streams(&self, block_index: u64, antithetic: bool) -> RevenueStreams {
        RevenueStreams {
            antithetic,
            replaying: false,
            recorded: Vec::new(),
            cursor: 0,
            persistent: self
                .persistent_factor
                .iter()
                .map(|f| f.block(block_index))
                .collect(),
            iid: self
                .iid_factor
                .iter()
                .map(|f| f.block(block_index))
                .collect(),
        }
    }

    /// Normal variates one path consumes (for the draw-floor benchmark).
    pub(crate) fn normals_per_path(&self) -> usize {
        2 * self.names.len() * self.horizon_quarters
    }

    #[inline]
    pub(crate) fn seasonal(&self, quarter_index: usize) -> f64 {
        self.seasonal_by_quarter_of_year[(self.start_quarter_of_year - 1 + quarter_index) % 4]
    }

    /// Segment `segment`'s drawn initial (current annual) growth on the last simulated path.
    pub(crate) fn initial_growth(&self, scratch: &RevenueScratch, segment: usize) -> f64 {
        scratch.draws[segment].initial_growth
    }

    /// Simulates one path. `revenue[s * (horizon + 1) + t]` receives segment `s`'s revenue
    /// in quarter index `t` (0 = the start quarter), RMB bn.
    pub(crate) fn simulate(
        &self,
        params: &mut ParamStreams,
        streams: &mut RevenueStreams,
        scratch: &mut RevenueScratch,
        risk: Option<&RiskPath>,
        revenue: &mut [f64],
    ) {
        let n = self.names.len();
        let quarters = self.horizon_quarters + 1;
        scratch.draws.clear();
        for slots in &self.segments {
            scratch.draws.push(SegmentDraw {
                start_revenue_rmb_bn: params.draw(&slots.start_revenue_rmb_bn),
                initial_growth: params.draw(&slots.initial_growth),
                terminal_growth: params.draw(&slots.terminal_growth),
                growth_half_life_quarters: params.draw(&slots.growth_half_life_quarters),
                shock_persistence: params.draw(&slots.shock_persistence),
                persistent_shock_sd: params.draw(&slots.persistent_shock_sd),
                iid_shock_sd: params.draw(&slots.iid_shock_sd),
            });
        }
        let seasonal_start = self.seasonal(0);
        scratch.persistent_state.clear();
        scratch.persistent_state.resize(n, 0.0);
        scratch.log_level.clear();
        scratch.drift_gap.clear();
        scratch.drift_decay.clear();
        scratch.terminal_drift.clear();
        for (s, d) in scratch.draws.iter().enumerate() {
            // Deseasonalize the reported start quarter.
            scratch
                .log_level
                .push((d.start_revenue_rmb_bn / seasonal_start).ln());
            let terminal = (1.0 + d.terminal_growth).ln() / 4.0;
            scratch.terminal_drift.push(terminal);
            scratch
                .drift_gap
                .push((1.0 + d.initial_growth).ln() / 4.0 - terminal);
            scratch
                .drift_decay
                .push((-std::f64::consts::LN_2 / d.growth_half_life_quarters).exp());
            revenue[s * quarters] = d.start_revenue_rmb_bn;
        }
        scratch.uncorrelated.resize(n, 0.0);
        scratch.persistent_shock.resize(n, 0.0);
        scratch.iid_shock.resize(n, 0.0);
        for t in 1..quarters {
            streams.fill(true, &mut scratch.uncorrelated);
            correlate(
                &self.cholesky_lower,
                &scratch.uncorrelated,
                &mut scratch.persistent_shock,
            );
            streams.fill(false, &mut scratch.uncorrelated);
            correlate(
                &self.cholesky_lower,
                &scratch.uncorrelated,
                &mut scratch.iid_shock,
            );
            let seasonal = self.seasonal(t);
            // Regimes shift drifts and scale volatilities; events shift drifts and levels.
            let volatility = risk.map_or(1.0, |r| r.volatility_scale[t]);
            for (s, d) in scratch.draws.iter().enumerate() {
                let cell = s * quarters + t;
                let (drift_shift, level_shift) =
                    risk.map_or((0.0, 0.0), |r| (r.drift_shift[cell], r.level_shift[cell]));
                let drift = scratch.terminal_drift[s] + scratch.drift_gap[s] + drift_shift;
                scratch.drift_gap[s] *= scratch.drift_decay[s];
                let state = &mut scratch.persistent_state[s];
                *state = d.shock_persistence * *state
                    + volatility * d.persistent_shock_sd * scratch.persistent_shock[s];
                scratch.log_level[s] +=
                    drift + *state + volatility * d.iid_shock_sd * scratch.iid_shock[s];
                revenue[cell] = (scratch.log_level[s] + level_shift).exp() * seasonal;
            }
        }
        streams.end_path();
    }
}

/// `out = L z`.
#[inline]
fn correlate(lower: &[f64], z: &[f64], out: &mut [f64]) {
    let n = z.len();
    for i in 0..n {
        let row = &lower[i * n..i * n + i + 1];
        out[i] = row.iter().zip(&z[..=i]).map(|(l, z)| l * z).sum();
    }
}
