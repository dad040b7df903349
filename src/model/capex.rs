//! Capex and depreciation: the plan's schedule, legacy and maintenance capex, vintages by
//! asset class, straight-line depreciation and AI compute units in service.
//! Equations: docs/model.md, "Capex plan" and "Depreciation".

use rand::RngExt;
use rand::rngs::ChaCha8Rng;

use super::params::{ParamSlot, ParamStreams, ParamTable};
use crate::rng::FactorStreams;
use crate::scenario::plan::{Economics, MaintenanceMode};
use crate::time::Quarter;

/// Which world a path is simulated in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum World {
    /// With the plan.
    Plan,
    /// Without it: maintenance capex from the plan's start.
    Counterfactual,
    /// The plan until the start quarter, then stopped: what is spent is spent, nothing more
    /// (`valuation.forward_value`).
    Stopped,
    /// The plan until a fiscal-year review stops it (`valuation.review`); the policy world
    /// knows when that happens (`policy_world::Lane::spends_plan`).
    Flexible,
}

impl World {
    /// Whether the world spends the plan's schedule in quarter `t` (when `t` is a plan
    /// quarter): the plan world always, the stopped world up to the start quarter.
    pub(crate) fn spends_plan(self, t: i64) -> bool {
        match self {
            World::Plan | World::Flexible => true,
            World::Stopped => t <= 0,
            World::Counterfactual => false,
        }
    }
}

#[derive(Clone, Debug)]
struct Class {
    share: f64,
    /// Share of legacy (pre-plan) capex.
    legacy_share: f64,
    life: usize,
    lag: usize,
}

#[derive(Clone, Debug)]
struct UpsizingSlots {
    probability: ParamSlot,
    size_rmb_bn: ParamSlot,
    /// Index of the first plan quarter of the raise.
    from: usize,
}

/// The capex block, precomputed.
#[derive(Clone, Debug)]
pub(crate) struct CapexBlock {
    /// First timeline quarter (relative to the start quarter, negative).
    first: i64,
    horizon: i64,
    plan_first: i64,
    plan_len: i64,
    weights: Vec<f64>,
    /// Spend of plan quarters up to the start quarter (actual, else scheduled).
    history_spend: Vec<Option<f64>>,
    total_rmb_bn: f64,
    upsizing: Option<UpsizingSlots>,
    upsizing_streams: FactorStreams,
    classes: Vec<Class>,
    compute: usize,
    mode: MaintenanceMode,
    revenue_share: ParamSlot,
    legacy: ParamSlot,
    multiplier: ParamSlot,
    hardware_decline: ParamSlot,
}

/// One path's draws for the capex block.
#[derive(Clone, Debug, Default)]
pub(crate) struct CapexDraw {
    /// Plan spend by plan quarter, RMB bn (upsizing included).
    pub plan_spend: Vec<f64>,
    legacy: f64,
    revenue_share: f64,
    /// `(1 - hardware_cost_decline)^(1/4)`.
    pub unit_cost_step: f64,
}

/// One world's vintages and running sums along a path.
#[derive(Clone, Debug, Default)]
pub(crate) struct CapexState {
    capex: Vec<Vec<f64>>,
    units: Vec<f64>,
    depreciation: Vec<f64>,
    units_in_service: f64,
    unit_cost: f64,
}

/// Paths whose capex states are stepped together: four f64 lanes (two SSE2 registers, one
/// AVX2). Eight ran no faster: eight paths' workspaces overflowed L1 (cachegrind: 28% more
/// L1 misses than four, 1.4% fewer instructions).
pub(crate) const LANES: usize = 4;

/// The capex state of `N` paths (at most) stepped together (the paths are the lanes):
/// each vintage's values of the lanes side by side, so sums over vintages run over every
/// lane at once. Each lane's arithmetic is that of [`CapexState`], in the same order, so
/// its values are the same to the bit; lanes beyond the batch's paths hold zero capex at
/// a unit cost of 1.
#[derive(Clone, Debug)]
pub(crate) struct CapexLanes<const N: usize = LANES> {
    /// Timeline quarters (vintages).
    len: usize,
    /// `capex[c * len + i]`, RMB bn.
    capex: Vec<[f64; N]>,
    /// `units[i]`: compute units bought at vintage `i`.
    units: Vec<[f64; N]>,
    /// `depreciation[c]`, RMB bn per quarter.
    depreciation: Vec<[f64; N]>,
    unit_cost: [f64; N],
    unit_cost_step: [f64; N],
    /// Each lane's result of the last booked quarter.
    pub steps: [CapexStep; N],
    /// Each lane's pipeline and retiring compute units (see [`CapexBlock::pipeline`]).
    pub pipeline: [(f64, f64); N],
}

impl<const N: usize> Default for CapexLanes<N> {
    fn default() -> Self {
        Self {
            len: 0,
            capex: Vec::new(),
            units: Vec::new(),
            depreciation: Vec::new(),
            unit_cost: [1.0; N],
            unit_cost_step: [1.0; N],
            steps: [CapexStep::default(); N],
            pipeline: [(0.0, 0.0); N],
        }
    }
}

impl<const N: usize> CapexLanes<N> {
    /// Saves the running state (depreciation by class, unit cost) into `snapshot`, for
    /// [`CapexLanes::restore_running`]. The vintages need no copy: a world decides every
    /// vintage from the valuation's first quarter on before it reads it, and never writes
    /// an earlier one.
    pub(crate) fn save_running(&self, snapshot: &mut CapexLanes<N>) {
        snapshot.depreciation.clone_from(&self.depreciation);
        snapshot.unit_cost = self.unit_cost;
    }

    /// Restores the running state saved by [`CapexLanes::save_running`].
    pub(crate) fn restore_running(&mut self, snapshot: &CapexLanes<N>) {
        self.depreciation.clone_from(&snapshot.depreciation);
        self.unit_cost = snapshot.unit_cost;
    }

    /// Lane `lane`'s cost of one compute unit bought now (before event factors), RMB bn.
    pub(crate) fn unit_cost(&self, lane: usize) -> f64 {
        self.unit_cost[lane]
    }
}

/// Capex, depreciation and compute in service of one quarter.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CapexStep {
    /// Capex of the quarter, RMB bn.
    pub capex_rmb_bn: f64,
    /// Depreciation of the quarter, RMB bn.
    pub depreciation_rmb_bn: f64,
    /// AI compute units in service.
    pub compute_units: f64,
    /// Gross book value of the compute class in service, RMB bn.
    pub compute_book_value_rmb_bn: f64,
    /// Gross book value of every class in service, RMB bn.
    pub book_value_rmb_bn: f64,
}

/// Event multipliers of one quarter on the capex block (1 when no event is active).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct CapexFactors {
    /// On the cost of a compute unit bought this quarter.
    pub unit_cost: f64,
    /// On the compute units that this quarter's purchases deploy.
    pub capacity: f64,
    /// On this quarter's scheduled plan spend.
    pub plan_size: f64,
}

impl Default for CapexFactors {
    fn default() -> Self {
        Self {
            unit_cost: 1.0,
            capacity: 1.0,
            plan_size: 1.0,
        }
    }
}

impl CapexBlock {
    pub(crate) fn new(
        economics: &Economics,
        start_quarter: Quarter,
        horizon: u32,
        seed: u64,
        params: &mut ParamTable,
    ) -> Self {
        let plan = &economics.plan;
        let plan_first = plan.start_quarter.quarters_since(start_quarter);
        let plan_len = plan.length_quarters as i64;
        let names: Vec<&String> = plan.assets.keys().collect();
        let compute_name = &economics.capacity.asset_class;
        let compute_share = plan.assets[compute_name].share;
        let classes: Vec<Class> = plan
            .assets
            .iter()
            .map(|(name, a)| Class {
                share: a.share,
                legacy_share: match economics.legacy.compute_share {
                    None => a.share,
                    Some(legacy) if name == compute_name => legacy,
                    Some(legacy) if compute_share < 1.0 => {
                        a.share * (1.0 - legacy) / (1.0 - compute_share)
                    }
                    Some(_) => 0.0,
                },
                life: a.useful_life_quarters as usize,
                lag: a.in_service_lag_quarters as usize,
            })
            .collect();
        let span = classes.iter().map(|c| c.life + c.lag).max().unwrap_or(1) as i64;
        let weights = plan.schedule_weights();
        let weight_sum: f64 = weights.iter().sum();
        let history_spend = (0..plan_len)
            .map(|k| {
                let quarter = plan.start_quarter.plus(k as u32);
                (quarter <= start_quarter).then(|| {
                    plan.actual_spend_rmb_bn
                        .get(&quarter.label())
                        .copied()
                        .unwrap_or_else(|| {
                            if weight_sum > 0.0 {
                                plan.total_rmb_bn * weights[k as usize] / weight_sum
                            } else {
                                0.0
                            }
                        })
                })
            })
            .collect();
        let upsizing = plan.upsizing.as_ref().map(|u| UpsizingSlots {
            probability: params.slot("plan.upsizing.probability", &u.probability),
            size_rmb_bn: params.slot("plan.upsizing.size_rmb_bn", &u.size_rmb_bn),
            from: u.quarter.quarters_since(plan.start_quarter) as usize,
        });
        Self {
            first: plan_first.min(0) - span - 1,
            horizon: horizon as i64,
            plan_first,
            plan_len,
            weights,
            history_spend,
            total_rmb_bn: plan.total_rmb_bn,
            upsizing,
            upsizing_streams: FactorStreams::new(seed, "plan.upsizing.event"),
            compute: names
                .iter()
                .position(|n| **n == economics.capacity.asset_class)
                .expect("validated"),
            classes,
            mode: economics
                .maintenance
                .as_ref()
                .map_or(MaintenanceMode::ReplaceRetirements, |m| m.mode),
            revenue_share: match economics
                .maintenance
                .as_ref()
                .and_then(|m| m.revenue_share.as_ref())
            {
                Some(p) => params.slot("maintenance.revenue_share", p),
                None => ParamSlot::Fixed(0.0),
            },
            legacy: params.slot(
                "legacy.capex_rmb_bn_per_quarter",
                &economics.legacy.capex_rmb_bn_per_quarter,
            ),
            multiplier: params.slot(
                "plan.execution_multiplier",
                &economics.plan.execution_multiplier,
            ),
            hardware_decline: params.slot(
                "capacity.hardware_cost_decline",
                &economics.capacity.hardware_cost_decline,
            ),
        }
    }

    /// First timeline quarter index (negative: history before the plan).
    pub(crate) fn first_quarter(&self) -> i64 {
        self.first
    }

    /// Last plan quarter, relative to the start quarter.
    pub(crate) fn plan_last_quarter(&self) -> i64 {
        self.plan_first + self.plan_len - 1
    }

    /// First quarter of the valuation (the plan's start, or the start quarter if later).
    pub(crate) fn valuation_first_quarter(&self) -> i64 {
        self.plan_first.min(0)
    }

    pub(crate) fn streams(&self, block_index: u64) -> ChaCha8Rng {
        self.upsizing_streams.block(block_index)
    }

    /// Draws one path's plan spend and capex assumptions.
    pub(crate) fn draw(
        &self,
        params: &mut ParamStreams,
        upsizing_rng: &mut ChaCha8Rng,
        draw: &mut CapexDraw,
    ) {
        let multiplier = params.draw(&self.multiplier);
        draw.legacy = params.draw(&self.legacy);
        draw.revenue_share = params.draw(&self.revenue_share);
        draw.unit_cost_step = (1.0 - params.draw(&self.hardware_decline)).powf(0.25);
        let spent: f64 = self.history_spend.iter().flatten().sum();
        let remaining = (self.total_rmb_bn * multiplier - spent).max(0.0);
        let future_weight: f64 = self
            .history_spend
            .iter()
            .zip(&self.weights)
            .filter(|(h, _)| h.is_none())
            .map(|(_, w)| w)
            .sum();
        draw.plan_spend.clear();
        for (history, w) in self.history_spend.iter().zip(&self.weights) {
            draw.plan_spend.push(match history {
                Some(spend) => *spend,
                None if future_weight > 0.0 => remaining * w / future_weight,
                None => 0.0,
            });
        }
        if let Some(u) = &self.upsizing {
            // One uniform per path whether or not the raise happens, so streams stay aligned.
            let uniform: f64 = upsizing_rng.random();
            let probability = params.draw(&u.probability);
            let size = params.draw(&u.size_rmb_bn);
            if uniform < probability {
                let weight: f64 = self.weights[u.from..].iter().sum();
                for k in u.from..self.weights.len() {
                    draw.plan_spend[k] += size * self.weights[k] / weight;
                }
            }
        }
    }

    /// Resets a world's state to the timeline's first quarter.
    pub(crate) fn begin(&self, draw: &CapexDraw, state: &mut CapexState) {
        let len = (self.horizon - self.first + 1) as usize;
        state.capex.resize_with(self.classes.len(), Vec::new);
        for c in &mut state.capex {
            c.clear();
            c.resize(len, 0.0);
        }
        state.units.clear();
        state.units.resize(len, 0.0);
        state.depreciation.clear();
        state.depreciation.resize(self.classes.len(), 0.0);
        state.units_in_service = 0.0;
        // Unit cost is 1 RMB bn per compute unit in the start quarter (t = 0).
        state.unit_cost = draw.unit_cost_step.powf(self.first as f64);
    }

    /// Capex of quarter `t` in `world`, then the depreciation and compute in service.
    /// `previous_revenue_rmb_bn` is the world's total revenue of `t - 1` (the reported start
    /// revenue for `t <= 0`), used by revenue-share maintenance.
    pub(crate) fn step(
        &self,
        world: World,
        t: i64,
        draw: &CapexDraw,
        previous_revenue_rmb_bn: f64,
        factors: CapexFactors,
        state: &mut CapexState,
    ) -> CapexStep {
        let i = (t - self.first) as usize;
        // Dearer compute deploys fewer units per RMB; a deployment cap deploys fewer still.
        let unit_cost = state.unit_cost * factors.unit_cost / factors.capacity;
        let in_plan = t >= self.plan_first && t < self.plan_first + self.plan_len;
        if t < self.plan_first && t <= 0 {
            for (c, class) in self.classes.iter().enumerate() {
                state.capex[c][i] = draw.legacy * class.legacy_share;
            }
            state.units[i] = state.capex[self.compute][i] / unit_cost;
        } else if world.spends_plan(t) && in_plan {
            let spend = draw.plan_spend[(t - self.plan_first) as usize] * factors.plan_size;
            self.maintenance(i, unit_cost, draw, previous_revenue_rmb_bn, state);
            let maintenance_total: f64 = state.capex.iter().map(|c| c[i]).sum();
            // Maintenance is the floor: a plan below it is topped up.
            if spend >= maintenance_total {
                for (c, class) in self.classes.iter().enumerate() {
                    state.capex[c][i] = spend * class.share;
                }
                state.units[i] = state.capex[self.compute][i] / unit_cost;
            }
        } else {
            self.maintenance(i, unit_cost, draw, previous_revenue_rmb_bn, state);
        }
        self.book(i, draw, state)
    }

    /// Books quarter `t`'s capex as decided by the investment policy: `capex_by_class`
    /// (RMB bn, in asset-class order) and the compute units it deploys.
    // One path alone: the reference the lanes are tested against.
    #[cfg(test)]
    pub(crate) fn step_decided(
        &self,
        t: i64,
        capex_by_class: &[f64],
        units: f64,
        draw: &CapexDraw,
        state: &mut CapexState,
    ) -> CapexStep {
        let i = (t - self.first) as usize;
        for (c, capex) in capex_by_class.iter().enumerate() {
            state.capex[c][i] = *capex;
        }
        state.units[i] = units;
        self.book(i, draw, state)
    }

    /// Cost of one compute unit bought now (before event factors), RMB bn.
    // One path alone: the reference the lanes are tested against.
    #[cfg(test)]
    pub(crate) fn unit_cost(&self, state: &CapexState) -> f64 {
        state.unit_cost
    }

    /// Compute units that will be in service at `t + lag` from purchases before `t`, and
    /// those of them that leave service at `t + lag` (bought at `t - life`). Docs:
    /// "Investment policy".
    // One path alone: the reference the lanes are tested against.
    #[cfg(test)]
    pub(crate) fn pipeline(&self, t: i64, state: &CapexState) -> (f64, f64) {
        let class = &self.classes[self.compute];
        let i = (t - self.first) as usize;
        let from = (i + 1).saturating_sub(class.life);
        let pipeline = state.units[from..i].iter().sum();
        let retiring = i.checked_sub(class.life).map_or(0.0, |v| state.units[v]);
        (pipeline, retiring)
    }

    /// Compute units in service in quarter `t` from purchases before `t`.
    // One path alone: the reference the lanes are tested against.
    #[cfg(test)]
    pub(crate) fn units_in_service_before(&self, t: i64, state: &CapexState) -> f64 {
        let class = &self.classes[self.compute];
        let i = (t - self.first) as usize;
        let Some(newest) = i.checked_sub(class.lag.max(1)) else {
            return 0.0;
        };
        let from = (i + 1).saturating_sub(class.lag + class.life);
        state.units[from..=newest].iter().sum()
    }

    /// Asset classes: (share, life, lag), in asset-class order, and the compute class's index.
    pub(crate) fn classes(&self) -> (Vec<(f64, usize, usize)>, usize) {
        (
            self.classes
                .iter()
                .map(|c| (c.share, c.life, c.lag))
                .collect(),
            self.compute,
        )
    }

    /// Whether quarter `t` is a plan quarter, and its scheduled spend (RMB bn) if so.
    pub(crate) fn plan_spend(&self, t: i64, draw: &CapexDraw) -> Option<f64> {
        (t >= self.plan_first && t < self.plan_first + self.plan_len)
            .then(|| draw.plan_spend[(t - self.plan_first) as usize])
    }

    /// [`CapexBlock::begin`] for every lane, one draw per lane (at most `N`), then
    /// the shared history before the valuation's first quarter (legacy capex, no events):
    /// [`CapexBlock::step`]'s legacy branch, quarter by quarter. Lanes without a path get
    /// zero capex at a unit cost of 1.
    // Lane loops index several arrays of LANES at once; the compiler vectorizes them.
    #[allow(clippy::needless_range_loop)]
    pub(crate) fn begin_history_lanes<'a, const N: usize>(
        &self,
        draws: impl Iterator<Item = &'a CapexDraw>,
        lanes: &mut CapexLanes<N>,
    ) {
        let len = (self.horizon - self.first + 1) as usize;
        lanes.len = len;
        for v in [&mut lanes.capex, &mut lanes.units, &mut lanes.depreciation] {
            v.clear();
        }
        lanes.capex.resize(self.classes.len() * len, [0.0; N]);
        lanes.units.resize(len, [0.0; N]);
        lanes.depreciation.resize(self.classes.len(), [0.0; N]);
        let mut legacy = [0.0; N];
        lanes.unit_cost = [1.0; N];
        lanes.unit_cost_step = [1.0; N];
        for (lane, draw) in draws.enumerate() {
            legacy[lane] = draw.legacy;
            lanes.unit_cost_step[lane] = draw.unit_cost_step;
            // Unit cost is 1 RMB bn per compute unit in the start quarter (t = 0).
            lanes.unit_cost[lane] = draw.unit_cost_step.powf(self.first as f64);
        }
        for t in self.first..self.valuation_first_quarter() {
            let i = (t - self.first) as usize;
            for (c, class) in self.classes.iter().enumerate() {
                let row = &mut lanes.capex[c * len + i];
                for lane in 0..N {
                    row[lane] = legacy[lane] * class.legacy_share;
                }
            }
            // `step` divides by the unit cost times the (unit) event factors: x · 1 / 1 = x.
            let compute = lanes.capex[self.compute * len + i];
            for lane in 0..N {
                lanes.units[i][lane] = compute[lane] / lanes.unit_cost[lane];
            }
            self.book_lanes(t, lanes);
        }
    }

    /// [`CapexBlock::units_in_service_before`] for every lane.
    pub(crate) fn units_in_service_before_lanes<const N: usize>(
        &self,
        t: i64,
        lanes: &CapexLanes<N>,
    ) -> [f64; N] {
        let class = &self.classes[self.compute];
        let i = (t - self.first) as usize;
        let Some(newest) = i.checked_sub(class.lag.max(1)) else {
            return [0.0; N];
        };
        let from = (i + 1).saturating_sub(class.lag + class.life);
        sum_lanes(&lanes.units[from..=newest])
    }

    /// [`CapexBlock::pipeline`] of quarter `t` for every lane, into `lanes.pipeline`.
    pub(crate) fn pipeline_lanes<const N: usize>(&self, t: i64, lanes: &mut CapexLanes<N>) {
        let class = &self.classes[self.compute];
        let i = (t - self.first) as usize;
        let from = (i + 1).saturating_sub(class.life);
        let pipeline = sum_lanes(&lanes.units[from..i]);
        let retiring = i
            .checked_sub(class.life)
            .map_or([0.0; N], |v| lanes.units[v]);
        for (lane, slot) in lanes.pipeline.iter_mut().enumerate() {
            *slot = (pipeline[lane], retiring[lane]);
        }
    }

    /// Sets lane `lane`'s capex of quarter `t` as decided by the investment policy (see
    /// [`CapexBlock::step_decided`]); [`CapexBlock::book_lanes`] then books the quarter.
    pub(crate) fn decide_lane<const N: usize>(
        &self,
        t: i64,
        lane: usize,
        capex_by_class: &[f64],
        units: f64,
        lanes: &mut CapexLanes<N>,
    ) {
        let (len, i) = (lanes.len, (t - self.first) as usize);
        for (c, capex) in capex_by_class.iter().enumerate() {
            lanes.capex[c * len + i][lane] = *capex;
        }
        lanes.units[i][lane] = units;
    }

    /// [`CapexBlock::book`] of quarter `t` for every lane, into `lanes.steps`.
    // Lane loops index several arrays of LANES at once; the compiler vectorizes them.
    #[allow(clippy::needless_range_loop)]
    pub(crate) fn book_lanes<const N: usize>(&self, t: i64, lanes: &mut CapexLanes<N>) {
        let (len, i) = (lanes.len, (t - self.first) as usize);
        for (c, class) in self.classes.iter().enumerate() {
            let life = class.life as f64;
            if let Some(entering) = i.checked_sub(class.lag) {
                let row = lanes.capex[c * len + entering];
                let d = &mut lanes.depreciation[c];
                for lane in 0..N {
                    d[lane] += row[lane] / life;
                }
                if let Some(leaving) = entering.checked_sub(class.life) {
                    let row = lanes.capex[c * len + leaving];
                    for lane in 0..N {
                        d[lane] -= row[lane] / life;
                    }
                }
            }
        }
        // Units in service: the sum over the vintages in service, as in `book`.
        let compute = &self.classes[self.compute];
        let in_service = i.checked_sub(compute.lag).map_or([0.0; N], |newest| {
            sum_lanes(&lanes.units[(newest + 1).saturating_sub(compute.life)..=newest])
        });
        for lane in 0..N {
            lanes.unit_cost[lane] *= lanes.unit_cost_step[lane];
        }
        let (mut capex, mut depreciation, mut book_value) = ([-0.0; N], [-0.0; N], [-0.0; N]);
        for (c, class) in self.classes.iter().enumerate() {
            let (row, d) = (lanes.capex[c * len + i], lanes.depreciation[c]);
            let life = class.life as f64;
            for lane in 0..N {
                capex[lane] += row[lane];
                depreciation[lane] += d[lane];
                book_value[lane] += d[lane] * life;
            }
        }
        let compute_depreciation = lanes.depreciation[self.compute];
        for lane in 0..N {
            lanes.steps[lane] = CapexStep {
                capex_rmb_bn: capex[lane],
                depreciation_rmb_bn: depreciation[lane].max(0.0),
                compute_units: in_service[lane].max(0.0),
                compute_book_value_rmb_bn: (compute_depreciation[lane] * compute.life as f64)
                    .max(0.0),
                book_value_rmb_bn: book_value[lane].max(0.0),
            };
        }
    }

    /// Vintage accounting of quarter index `i` once its capex is set: depreciation and
    /// compute units in service, then the unit cost steps to the next quarter.
    fn book(&self, i: usize, draw: &CapexDraw, state: &mut CapexState) -> CapexStep {
        for (c, class) in self.classes.iter().enumerate() {
            let life = class.life as f64;
            if let Some(entering) = i.checked_sub(class.lag) {
                state.depreciation[c] += state.capex[c][entering] / life;
                if let Some(leaving) = entering.checked_sub(class.life) {
                    state.depreciation[c] -= state.capex[c][leaving] / life;
                }
            }
        }
        // U(t) as docs/model.md defines it, the sum over the vintages in service. A running
        // sum (add the entering vintage, subtract the leaving one) left ~1e-14 units of
        // rounding residue once every vintage had retired: a phantom capacity that earned
        // ~1e-15 of AI revenue and made the year-on-year growth of a shut-down AI segment
        // 1e15 instead of the documented 0.
        let compute = &self.classes[self.compute];
        state.units_in_service = i.checked_sub(compute.lag).map_or(0.0, |newest| {
            state.units[(newest + 1).saturating_sub(compute.life)..=newest]
                .iter()
                .sum()
        });
        state.unit_cost *= draw.unit_cost_step;
        CapexStep {
            capex_rmb_bn: state.capex.iter().map(|c| c[i]).sum(),
            depreciation_rmb_bn: state.depreciation.iter().sum::<f64>().max(0.0),
            compute_units: state.units_in_service.max(0.0),
            compute_book_value_rmb_bn: (state.depreciation[self.compute] * compute.life as f64)
                .max(0.0),
            book_value_rmb_bn: self
                .classes
                .iter()
                .zip(&state.depreciation)
                .map(|(class, d)| d * class.life as f64)
                .sum::<f64>()
                .max(0.0),
        }
    }

    fn maintenance(
        &self,
        i: usize,
        unit_cost: f64,
        draw: &CapexDraw,
        previous_revenue_rmb_bn: f64,
        state: &mut CapexState,
    ) {
        match self.mode {
            MaintenanceMode::ReplaceRetirements => {
                // Buy at i what retires when the purchase enters service (vintage i - life).
                for (c, class) in self.classes.iter().enumerate() {
                    let replaced = i.checked_sub(class.life);
                    if c == self.compute {
                        state.units[i] = replaced.map_or(0.0, |v| state.units[v]);
                        state.capex[c][i] = state.units[i] * unit_cost;
                    } else {
                        state.capex[c][i] = replaced.map_or(0.0, |v| state.capex[c][v]);
                    }
                }
            }
            MaintenanceMode::RevenueShare => {
                let total = draw.revenue_share * previous_revenue_rmb_bn;
                for (c, class) in self.classes.iter().enumerate() {
                    state.capex[c][i] = total * class.share;
                }
                state.units[i] = state.capex[self.compute][i] / unit_cost;
            }
        }
    }
}

/// Each lane's sum of `rows` in order, from -0.0 as [`Iterator::sum`]: the same bits as
/// summing one lane alone.
// Lane loops index several arrays of LANES at once; the compiler vectorizes them.
#[allow(clippy::needless_range_loop)]
fn sum_lanes<const N: usize>(rows: &[[f64; N]]) -> [f64; N] {
    let mut sum = [-0.0; N];
    for row in rows {
        for lane in 0..N {
            sum[lane] += row[lane];
        }
    }
    sum
}

/// Straight-line depreciation of one vintage in quarter `t`: `cost / life` while in service
/// (`spent + lag <= t < spent + lag + life`), else 0.
pub fn vintage_depreciation(
    cost_rmb_bn: f64,
    spent_quarter: i64,
    lag: u32,
    life: u32,
    t: i64,
) -> f64 {
    let in_service_from = spent_quarter + lag as i64;
    if life > 0 && t >= in_service_from && t < in_service_from + life as i64 {
        cost_rmb_bn / life as f64
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Override, Scenario};
    use proptest::prelude::*;

    proptest! {
        /// The lanes step each path as it is stepped alone, to the bit: history, decided
        /// capex, pipeline, units in service and the booked quarter, with fewer paths than
        /// lanes (the rest idle).
        #[test]
        fn lanes_match_paths_alone(
            paths in 1usize..=LANES,
            seed in 0u64..1000,
            spend in prop::collection::vec(0.0f64..40.0, 41),
        ) {
            let scenario = Scenario::default_scenario();
            let economics = scenario.assumptions().economics.as_ref().unwrap();
            let start = scenario.assumptions().time.start_quarter;
            let mut params = ParamTable::new(seed);
            let block = CapexBlock::new(economics, start, 40, seed, &mut params);
            let draws: Vec<CapexDraw> = (0..paths)
                .map(|p| CapexDraw {
                    plan_spend: vec![10.0; block.plan_len as usize],
                    legacy: 5.0 + p as f64 + seed as f64 * 1e-3,
                    revenue_share: 0.0,
                    unit_cost_step: 0.97 + 0.004 * p as f64,
                })
                .collect();
            let mut states: Vec<CapexState> = draws
                .iter()
                .map(|d| {
                    let mut state = CapexState::default();
                    block.begin(d, &mut state);
                    for t in block.first..block.valuation_first_quarter() {
                        block.step(World::Plan, t, d, 1.0, CapexFactors::default(), &mut state);
                    }
                    state
                })
                .collect();
            let mut lanes = CapexLanes::<LANES>::default();
            block.begin_history_lanes(draws.iter(), &mut lanes);
            let bits = |x: f64| x.to_bits();
            for t in block.valuation_first_quarter()..=40 {
                if t >= 0 {
                    block.pipeline_lanes(t, &mut lanes);
                }
                for (k, (state, draw)) in states.iter_mut().zip(&draws).enumerate() {
                    prop_assert_eq!(bits(lanes.unit_cost(k)), bits(block.unit_cost(state)));
                    if t >= 0 {
                        let (pipeline, retiring) = block.pipeline(t, state);
                        prop_assert_eq!(bits(lanes.pipeline[k].0), bits(pipeline));
                        prop_assert_eq!(bits(lanes.pipeline[k].1), bits(retiring));
                    }
                    if t == 0 {
                        let alone = block.units_in_service_before(0, state);
                        let together = block.units_in_service_before_lanes(0, &lanes)[k];
                        prop_assert_eq!(bits(together), bits(alone));
                    }
                    let spent = spend[(t.max(0) as usize).min(40)] * (1.0 + k as f64);
                    let by_class: Vec<f64> =
                        block.classes.iter().map(|c| spent * c.share).collect();
                    let units = spent / block.unit_cost(state);
                    block.decide_lane(t, k, &by_class, units, &mut lanes);
                    let alone = block.step_decided(t, &by_class, units, draw, state);
                    lanes.steps[k] = alone;
                }
                let expected = lanes.steps;
                block.book_lanes(t, &mut lanes);
                for (k, (a, b)) in expected.iter().zip(&lanes.steps).take(paths).enumerate() {
                    for (x, y) in [
                        (a.capex_rmb_bn, b.capex_rmb_bn),
                        (a.depreciation_rmb_bn, b.depreciation_rmb_bn),
                        (a.compute_units, b.compute_units),
                        (a.compute_book_value_rmb_bn, b.compute_book_value_rmb_bn),
                        (a.book_value_rmb_bn, b.book_value_rmb_bn),
                    ] {
                        prop_assert_eq!(bits(x), bits(y), "t = {}, lane {}", t, k);
                    }
                }
            }
        }
    }

    /// Cost of the compute capex in service in quarter `t` (gross book value of the compute
    /// class), RMB bn, once `step` has run for `t`.
    fn compute_cost_in_service(block: &CapexBlock, t: i64, state: &CapexState) -> f64 {
        let class = &block.classes[block.compute];
        let i = (t - block.first) as usize;
        i.checked_sub(class.lag).map_or(0.0, |entering| {
            let from = entering.saturating_sub(class.life - 1);
            state.capex[block.compute][from..=entering].iter().sum()
        })
    }

    /// The block stepped through the history to the start quarter, with the unit cost held
    /// at its start value and no revenue-linked maintenance: what
    /// `Economics::start_capital` states in closed form.
    fn stepped_start(economics: &Economics, start_quarter: Quarter, legacy: f64) -> (f64, f64) {
        let mut params = ParamTable::new(0);
        let block = CapexBlock::new(economics, start_quarter, 0, 0, &mut params);
        let draw = CapexDraw {
            plan_spend: block
                .history_spend
                .iter()
                .map(|h| h.unwrap_or(0.0))
                .collect(),
            legacy,
            revenue_share: 0.0,
            unit_cost_step: 1.0,
        };
        let mut state = CapexState::default();
        block.begin(&draw, &mut state);
        let mut step = CapexStep::default();
        for t in block.first..=0 {
            step = block.step(
                World::Plan,
                t,
                &draw,
                0.0,
                CapexFactors::default(),
                &mut state,
            );
        }
        (
            step.depreciation_rmb_bn,
            compute_cost_in_service(&block, 0, &state),
        )
    }

    /// Validation's closed-form start capital (`Economics::start_capital`) is the capital
    /// the capex block reaches by stepping its vintages, over a grid of lives, lags, legacy
    /// capex, plan starts (before, at and after the start quarter; reported spend or not)
    /// and both maintenance rules.
    #[test]
    fn closed_form_start_capital_equals_the_stepped_block() {
        // The base file without its reported spend and raise, so any plan start validates.
        let mut no_actuals = crate::scenario::REPLACE_RETIREMENTS_TOML.to_string();
        for table in ["[plan.actual_spend_rmb_bn]", "[plan.upsizing]"] {
            let a = no_actuals.find(table).unwrap();
            let b = a + no_actuals[a..].find("\n\n").unwrap();
            no_actuals.replace_range(a..b, "");
        }
        let mut checked = 0;
        for (life, lag) in [(1, 0), (3, 2), (8, 7), (20, 2), (39, 5)] {
            for plan_start in ["2023Q2", "2025Q1", "2026Q1", "2026Q3"] {
                for mode in ["replace_retirements", "revenue_share"] {
                    let mut sets = vec![
                        format!("plan.assets.ai_compute.useful_life_quarters={life}"),
                        format!("plan.assets.ai_compute.in_service_lag_quarters={lag}"),
                        format!("plan.start_quarter=\"{plan_start}\""),
                        format!("maintenance.mode=\"{mode}\""),
                        "valuation.terminal_value=false".to_string(),
                        "costs.variable_cost_share=0.1".to_string(),
                    ];
                    if mode == "revenue_share" {
                        sets.push("maintenance.revenue_share=0.1".into());
                    }
                    let overrides: Vec<Override> =
                        sets.iter().map(|s| Override::parse(s).unwrap()).collect();
                    let scenario = Scenario::from_toml_str("t", "t.toml", &no_actuals, &overrides)
                        .unwrap_or_else(|e| panic!("{sets:?}: {e}"));
                    let economics = scenario.assumptions().economics.as_ref().unwrap();
                    let start = scenario.assumptions().time.start_quarter;
                    for legacy in [0.0, 3.5, 7.0, 19.0] {
                        let closed = economics.start_capital(start, legacy);
                        let (depreciation, compute) = stepped_start(economics, start, legacy);
                        let scale = 1.0 + compute.abs() + depreciation.abs();
                        assert!(
                            (closed.depreciation_rmb_bn - depreciation).abs() <= 1e-12 * scale,
                            "{sets:?} legacy {legacy}: depreciation {} vs {depreciation}",
                            closed.depreciation_rmb_bn
                        );
                        assert!(
                            (closed.compute_cost_in_service - compute).abs() <= 1e-12 * scale,
                            "{sets:?} legacy {legacy}: compute {} vs {compute}",
                            closed.compute_cost_in_service
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 4 * 2 * 4);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// The block's running depreciation equals, quarter by quarter, the sum of every
        /// vintage's straight-line schedule, in both worlds and for any lives and lags.
        #[test]
        fn running_depreciation_equals_vintage_schedules(
            life in 1u32..40, lag in 0u32..8, legacy in 0.1f64..20.0, total in 0.0f64..600.0,
            mode in prop_oneof![Just("replace_retirements"), Just("revenue_share")],
        ) {
            let mut sets = vec![
                format!("plan.assets.ai_compute.useful_life_quarters={life}"),
                format!("plan.assets.ai_compute.in_service_lag_quarters={lag}"),
                format!("legacy.capex_rmb_bn_per_quarter={legacy}"),
                format!("plan.total_rmb_bn={total}"),
                format!("maintenance.mode=\"{mode}\""),
                // Keep the start calibration valid for short lives (high depreciation).
                "costs.variable_cost_share=0".into(),
                "costs.start_ebita_margin=-0.9".into(),
            ];
            if mode == "revenue_share" {
                sets.push("maintenance.revenue_share=0.2".into());
            }
            let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
            let scenario = Scenario::from_toml_str(
                "replace_retirements",
                "replace_retirements.toml",
                crate::scenario::REPLACE_RETIREMENTS_TOML,
                &overrides,
            )
            .unwrap();
            let economics = scenario.assumptions().economics.as_ref().unwrap();
            let mut params = ParamTable::new(3);
            let block = CapexBlock::new(economics, scenario.assumptions().time.start_quarter, 40, 3, &mut params);
            let mut streams = params.streams(0);
            let mut upsizing = block.streams(0);
            let mut draw = CapexDraw::default();
            block.draw(&mut streams, &mut upsizing, &mut draw);
            let lives: Vec<(u32, u32)> = economics.plan.assets.values()
                .map(|a| (a.useful_life_quarters, a.in_service_lag_quarters)).collect();
            for world in [World::Plan, World::Counterfactual] {
                let mut state = CapexState::default();
                block.begin(&draw, &mut state);
                let mut running = Vec::new();
                for t in block.first..=40 {
                    running.push(block.step(world, t, &draw, 40.0, CapexFactors::default(), &mut state).depreciation_rmb_bn);
                }
                for (i, t) in (block.first..=40).enumerate() {
                    let mut reference = 0.0;
                    for (c, (life, lag)) in lives.iter().enumerate() {
                        for (v, cost) in state.capex[c].iter().enumerate() {
                            reference += vintage_depreciation(*cost, block.first + v as i64, *lag, *life, t);
                        }
                    }
                    prop_assert!((running[i] - reference).abs() <= 1e-9 * reference.max(1.0),
                        "{:?} t={}: running {} vs vintages {}", world, t, running[i], reference);
                }
            }
        }
    }

    proptest! {
        /// The depreciation of a vintage over its life sums to its cost.
        #[test]
        fn vintage_depreciation_sums_to_cost(cost in 0.0f64..1e3, spent in -50i64..50, lag in 0u32..10, life in 1u32..100) {
            let total: f64 = (spent - 1..spent + lag as i64 + life as i64 + 2)
                .map(|t| vintage_depreciation(cost, spent, lag, life, t))
                .sum();
            prop_assert!((total - cost).abs() <= 1e-9 * cost.max(1.0));
        }
    }
}
