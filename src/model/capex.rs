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
        } else if world == World::Plan && in_plan {
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
    pub(crate) fn unit_cost(&self, state: &CapexState) -> f64 {
        state.unit_cost
    }

    /// Compute units that will be in service at `t + lag` from purchases before `t`, and
    /// those of them that leave service at `t + lag` (bought at `t - life`). Docs:
    /// "Investment policy".
    pub(crate) fn pipeline(&self, t: i64, state: &CapexState) -> (f64, f64) {
        let class = &self.classes[self.compute];
        let i = (t - self.first) as usize;
        let from = (i + 1).saturating_sub(class.life);
        let pipeline = state.units[from..i].iter().sum();
        let retiring = i.checked_sub(class.life).map_or(0.0, |v| state.units[v]);
        (pipeline, retiring)
    }

    /// Compute units in service in quarter `t` from purchases before `t`.
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
