//! Both worlds of a batch of paths under the investment policy, the paths stepped together
//! quarter by quarter, each in the order of
//! docs/model.md, "The quarter under the investment policy": capacity in service → demand
//! and unmet in units → price from last quarter's premium → orders (at the current price,
//! capped on trailing revenue) → revenue and costs → retention and premium for next quarter.

use super::capex::{CapexLanes, CapexStep, LANES, World};
use super::demand::{market_share, serve};
use super::investment::{ClassTerms, PricePath, PriceSums, UnitEconomics};
use super::margins::{MarginDraw, QuarterInputs};
use super::{EconomicsModel, Model, PathWorkspace, PolicyBlocks};
use crate::scenario::plan::ReviewSignal;

/// Risk factors of one quarter (1 or 0 without risk and in the start quarter).
#[derive(Clone, Copy, Debug)]
struct Factors {
    unit_cost: f64,
    capacity: f64,
    plan_size: f64,
    price: f64,
    tightness: f64,
}

impl Model {
    fn factors(&self, ws: &PathWorkspace, t: i64) -> Factors {
        match (&self.risk, t > 0) {
            (Some(_), true) => {
                let (p, i) = (&ws.risk_path, t as usize);
                Factors {
                    unit_cost: p.unit_cost_factor[i],
                    capacity: p.capacity_factor[i],
                    plan_size: p.plan_size_factor[i],
                    price: p.price_factor[i],
                    tightness: p.market_tightness[i],
                }
            }
            _ => Factors {
                unit_cost: 1.0,
                capacity: 1.0,
                plan_size: 1.0,
                price: 1.0,
                tightness: 0.0,
            },
        }
    }

    /// Trailing quarterly log growth of the capacity segment's demand at `t`, seasonality
    /// removed, from information available at `t` only: the last four quarters, completed
    /// before `t = 4` by the segment's reported growth at the start.
    fn trailing_growth(&self, demand: &[f64], t: usize, start_growth: f64) -> f64 {
        if t >= 4 {
            return (demand[t] / demand[t - 4]).ln() / 4.0;
        }
        let deseasonalized = |k: usize| demand[k] / self.revenue.seasonal(k);
        ((deseasonalized(t) / deseasonalized(0)).ln() + (4 - t) as f64 * start_growth.ln_1p() / 4.0)
            / 4.0
    }

    /// Simulates the plan and counterfactual worlds of the paths of `paths` under the
    /// policy, their draws taken: the paths are stepped together quarter by quarter, each
    /// with its own arithmetic in the order of one path alone, so its values do not depend
    /// on the paths beside it.
    pub(super) fn simulate_policy_economics(
        &self,
        e: &EconomicsModel,
        policy: &PolicyBlocks,
        paths: &mut [PathWorkspace],
    ) {
        match paths {
            [] => {}
            // One path alone in one lane, not in four of which three idle.
            [one] => {
                let mut capex = std::mem::take(&mut one.capex_lane);
                let mut history = std::mem::take(&mut one.capex_lane_history);
                self.step_policy_lanes(e, policy, paths, &mut capex, &mut history);
                paths[0].capex_lane = capex;
                paths[0].capex_lane_history = history;
            }
            _ => {
                let mut capex = std::mem::take(&mut paths[0].capex_lanes);
                let mut history = std::mem::take(&mut paths[0].capex_lanes_history);
                for batch in paths.chunks_mut(LANES) {
                    self.step_policy_lanes(e, policy, batch, &mut capex, &mut history);
                }
                paths[0].capex_lanes = capex;
                paths[0].capex_lanes_history = history;
            }
        }
    }

    /// [`Model::simulate_policy_economics`] of at most `N` paths, in the lanes of
    /// `capex_lanes` (`history`: scratch for the running state at the end of the shared
    /// history).
    fn step_policy_lanes<const N: usize>(
        &self,
        e: &EconomicsModel,
        policy: &PolicyBlocks,
        paths: &mut [PathWorkspace],
        capex_lanes: &mut CapexLanes<N>,
        history: &mut CapexLanes<N>,
    ) {
        debug_assert!(paths.len() <= N);
        let mut lanes: Vec<Lane> = paths
            .iter_mut()
            .map(|ws| self.begin_policy_lane(e, policy, ws))
            .collect();
        e.capex
            .begin_history_lanes(paths.iter().map(|ws| &ws.capex_draw), capex_lanes);
        capex_lanes.save_running(history);
        for &world in self.worlds() {
            if world != World::Plan {
                capex_lanes.restore_running(history);
            }
            // Quarters of the plan before the start quarter.
            for ws in paths.iter_mut() {
                ws.worlds[world as usize].clear();
            }
            for lane in &mut lanes {
                lane.review_stop = NO_STOP;
            }
            for t in e.capex.valuation_first_quarter()..0 {
                for (k, (ws, lane)) in paths.iter_mut().zip(&mut lanes).enumerate() {
                    Self::policy_history_orders(e, policy, world, t, k, ws, lane, capex_lanes);
                }
                e.capex.book_lanes(t, capex_lanes);
                for (ws, step) in paths.iter_mut().zip(&capex_lanes.steps) {
                    let series = &mut ws.worlds[world as usize];
                    series.history_capex.push(step.capex_rmb_bn);
                    series.history_depreciation.push(step.depreciation_rmb_bn);
                }
            }
            let start_units = e.capex.units_in_service_before_lanes(0, capex_lanes);
            for ((ws, lane), units) in paths.iter().zip(&mut lanes).zip(start_units) {
                if world == World::Plan {
                    lane.start_units = units;
                }
                lane.start_world(ws.draws.pricing.start_premium);
            }
            for ti in 0..self.quarters() {
                e.capex.pipeline_lanes(ti as i64, capex_lanes);
                for (k, (ws, lane)) in paths.iter_mut().zip(&mut lanes).enumerate() {
                    self.policy_orders(e, policy, world, ti, k, ws, lane, capex_lanes);
                }
                e.capex.book_lanes(ti as i64, capex_lanes);
                for (k, (ws, lane)) in paths.iter_mut().zip(&mut lanes).enumerate() {
                    self.policy_operate(world, ti, &capex_lanes.steps[k], ws, lane);
                    if world == World::Flexible {
                        self.review(e, ti, ws, lane);
                    }
                }
            }
        }
        for (ws, lane) in paths.iter_mut().zip(lanes) {
            ws.review_stop_quarter = if lane.review_stop == NO_STOP {
                f64::NAN
            } else {
                lane.review_stop as f64
            };
            ws.policy_capex_by_class = lane.capex_by_class;
        }
    }

    /// One path's constants of the policy worlds, from its draws.
    fn begin_policy_lane(
        &self,
        e: &EconomicsModel,
        policy: &PolicyBlocks,
        ws: &mut PathWorkspace,
    ) -> Lane {
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        let ai = e.capacity.segment;
        let draws = ws.draws;
        let (terms, compute) = (&policy.classes[..], policy.compute);
        let unit = UnitEconomics::new(
            terms,
            compute,
            // The firm's rate: its hurdle where stated, else the investor's.
            draws
                .investment
                .hurdle_annual_rate
                .unwrap_or(ws.valuation_draw.annual_rate),
            &draws.margins,
            &draws.investment,
        );
        let hardware_step = ws.capex_draw.unit_cost_step;
        let user_cost = unit.user_cost(hardware_step);

        let mut demand = std::mem::take(&mut ws.policy_demand);
        demand.clear();
        demand.extend_from_slice(&ws.segment_revenue[ai * quarters..(ai + 1) * quarters]);
        let mut other = std::mem::take(&mut ws.policy_other);
        other.clear();
        other.extend((0..quarters).map(|t| {
            (0..segments)
                .filter(|s| *s != ai)
                .map(|s| ws.segment_revenue[s * quarters + t])
                .sum::<f64>()
        }));
        let reported_start_ai = demand[0];
        let reported_start_total = reported_start_ai + other[0];
        let pricing = draws.pricing;
        let start_growth = self.revenue.initial_growth(&ws.revenue_scratch, ai);
        let rest_of_market_start =
            reported_start_ai * (1.0 - pricing.alibaba_share) / pricing.alibaba_share;
        ws.policy_demand = demand;
        ws.policy_other = other;

        let prices = PricePath::default();
        let mut capex_by_class = std::mem::take(&mut ws.policy_capex_by_class);
        capex_by_class.clear();
        capex_by_class.resize(terms.len(), 0.0);
        Lane {
            margins: draws.margins,
            unit,
            user_cost,
            hardware_step,
            reported_start_ai,
            reported_start_total,
            start_growth,
            rest_of_market_start,
            prices,
            price_sums: unit.price_sums(prices),
            // (x₁^λ, x₂^λ): the price path λ quarters ahead is today's times these.
            ahead: (1.0, 1.0),
            // Demand units per RMB of demand at the base price: 1 / ((1 − u₀) S₀).
            demand_units_per_rmb: draws.capacity.demand_scale / pricing.start_premium,
            capex_by_class,
            start_units: 0.0,
            retention: 1.0,
            powers: (1.0, 1.0),
            rest_decayed: 1.0,
            premium: pricing.start_premium,
            trailing: [reported_start_total; 4],
            previous_revenue: reported_start_total,
            quarter: QuarterState::default(),
            review_stop: NO_STOP,
        }
    }

    /// A plan quarter `t` before the start quarter of one path, up to its capex, set into
    /// lane `k`: the plan world spent the plan; the counterfactual spent its
    /// business-as-usual budget on the start revenue (revenue before the start is not
    /// simulated).
    #[allow(clippy::too_many_arguments)]
    fn policy_history_orders<const N: usize>(
        e: &EconomicsModel,
        policy: &PolicyBlocks,
        world: World,
        t: i64,
        k: usize,
        ws: &PathWorkspace,
        lane: &mut Lane,
        capex_lanes: &mut CapexLanes<N>,
    ) {
        let (terms, compute) = (&policy.classes[..], policy.compute);
        let compute_share = terms[compute].share;
        let investment = &ws.draws.investment;
        let budget = investment.counterfactual_budget_share * lane.reported_start_total;
        let non_ai = investment.non_ai_capex_share * ws.policy_other[0];
        let unit_cost = capex_lanes.unit_cost(k);
        let units = (budget - non_ai).max(0.0) * compute_share / unit_cost;
        allocate(
            terms,
            compute,
            units,
            unit_cost,
            non_ai,
            &mut lane.capex_by_class,
        );
        let units = plan_floor(
            lane.spends_plan(world, t),
            e.capex.plan_spend(t, &ws.capex_draw),
            terms,
            compute,
            unit_cost,
            units,
            &mut lane.capex_by_class,
        );
        e.capex
            .decide_lane(t, k, &lane.capex_by_class, units, capex_lanes);
    }

    /// Quarter `ti` of one path up to its capex: calibration at the start, prices, the
    /// orders from what is known at `ti`, set into lane `k` of `capex_lanes`.
    #[allow(clippy::too_many_arguments)]
    fn policy_orders<const N: usize>(
        &self,
        e: &EconomicsModel,
        policy: &PolicyBlocks,
        world: World,
        ti: usize,
        k: usize,
        ws: &mut PathWorkspace,
        lane: &mut Lane,
        capex_lanes: &mut CapexLanes<N>,
    ) {
        let t = ti as i64;
        let (terms, compute) = (&policy.classes[..], policy.compute);
        let compute_share = terms[compute].share;
        let lag = terms[compute].lag as i64;
        let (capacity, investment, pricing) =
            (ws.draws.capacity, ws.draws.investment, ws.draws.pricing);
        let f = self.factors(ws, t);
        let kappa = capex_lanes.unit_cost(k);
        let unit_cost = kappa * f.unit_cost / f.capacity;
        if t == 0 && world == World::Plan {
            // Calibrate on the plan world's start quarter: it reports the actuals.
            let price_start =
                lane.reported_start_ai / (capacity.max_utilization * lane.start_units);
            let base_start = price_start / pricing.start_premium;
            let user_cost = lane.user_cost;
            lane.prices = if policy.pricing.is_some() {
                let start_ratio = base_start / user_cost;
                let long_run = pricing.long_run_ratio;
                PricePath {
                    a: user_cost * long_run,
                    x1: lane.hardware_step,
                    b: user_cost * (start_ratio - long_run),
                    x2: lane.hardware_step * pricing.ratio_decay,
                }
            } else {
                PricePath {
                    a: base_start,
                    x1: capacity.price_step,
                    b: 0.0,
                    x2: 1.0,
                }
            };
            lane.price_sums = lane.unit.price_sums(lane.prices);
            lane.ahead = lane.prices.powers(lag);
            ws.policy_scalars = [price_start / user_cost, user_cost];
        }
        let demand = &ws.policy_demand;
        let (prices, powers, ahead) = (lane.prices, lane.powers, lane.ahead);
        // Export controls make compute dearer for every China cloud: the market's user
        // cost, hence the base price, carries the unit-cost factor too.
        let trend_price = prices.value(powers);
        let base_price = trend_price * f.unit_cost;
        // Demand volume at the trend price, moved by the price's distance from it.
        let volume = pricing.volume_factor(f.unit_cost, lane.premium, f.price);
        let demand_units = match volume {
            Some(volume) => demand[ti] * lane.demand_units_per_rmb / trend_price * volume,
            None => demand[ti] * lane.demand_units_per_rmb / base_price,
        };

        // Orders, from what is known at t.
        let growth = self.trailing_growth(demand, ti, lane.start_growth);
        let deseasonalized = demand[ti] / self.revenue.seasonal(ti);
        let forecast_rmb =
            deseasonalized * (lag as f64 * growth).exp() * self.revenue.seasonal(ti + lag as usize);
        let trend_ahead = prices.value((powers.0 * ahead.0, powers.1 * ahead.1));
        let mut forecast_units = match volume {
            Some(volume) => forecast_rmb * lane.demand_units_per_rmb / trend_ahead * volume,
            None => forecast_rmb * lane.demand_units_per_rmb / (trend_ahead * f.unit_cost),
        };
        // Planning for the peak of the quarters after entry into service: units bought now
        // serve the seasonal high of their first year, not just the quarter they arrive.
        let mut later = (powers.0 * ahead.0, powers.1 * ahead.1);
        for k in 1..policy.investment.planning_horizon {
            later = (later.0 * prices.x1, later.1 * prices.x2);
            let rmb = deseasonalized
                * ((lag as usize + k) as f64 * growth).exp()
                * self.revenue.seasonal(ti + lag as usize + k);
            let units = match volume {
                Some(volume) => rmb * lane.demand_units_per_rmb / prices.value(later) * volume,
                None => rmb * lane.demand_units_per_rmb / (prices.value(later) * f.unit_cost),
            };
            forecast_units = forecast_units.max(units);
        }
        let target = lane.retention * forecast_units / investment.target_utilization;
        let (pipeline, retiring) = capex_lanes.pipeline[k];
        // The gate expects today's unit-cost factor to persist on both sides.
        let npv = lane.unit.npv_per_rmb(
            &lane.price_sums,
            powers,
            lane.premium,
            unit_cost / f.unit_cost,
        );
        let gate = investment.gate(npv);
        let desired = investment.desired_orders(target, pipeline, retiring, gate);
        let plan_spend = e.capex.plan_spend(t, &ws.capex_draw);
        // In the plan's window both worlds have the business-as-usual budget and the
        // plan world spends at least the plan; after it, the same cap by default.
        // A world that stopped the plan returns to business as usual.
        let stopped_by_review = world == World::Flexible && lane.review_stop != NO_STOP;
        let budget_share = match (world, plan_spend.is_some()) {
            (_, true) => investment.counterfactual_budget_share,
            (World::Counterfactual | World::Stopped, false) => investment.budget_share,
            (World::Flexible, false) if stopped_by_review => investment.budget_share,
            (World::Plan | World::Flexible, false) => investment.plan_world_budget_share_after,
        };
        let budget = budget_share * lane.trailing.iter().sum::<f64>() / 4.0;
        let non_ai = investment.non_ai_capex_share * ws.policy_other[ti];
        let loaded_unit_cost = unit_cost / compute_share;
        let orders = desired.min((budget - non_ai).max(0.0) / loaded_unit_cost);
        allocate(
            terms,
            compute,
            orders,
            unit_cost,
            non_ai,
            &mut lane.capex_by_class,
        );
        let units = plan_floor(
            lane.spends_plan(world, t),
            plan_spend.map(|spend| spend * f.plan_size),
            terms,
            compute,
            unit_cost,
            orders,
            &mut lane.capex_by_class,
        );
        e.capex
            .decide_lane(t, k, &lane.capex_by_class, units, capex_lanes);
        lane.quarter = QuarterState {
            factors: f,
            base_price,
            demand_units,
            gate,
            units,
        };
    }

    /// Quarter `ti` of one path once its capex is booked (`step`): service, price, revenue
    /// and costs, then retention and premium for the next quarter.
    fn policy_operate(
        &self,
        world: World,
        ti: usize,
        step: &CapexStep,
        ws: &mut PathWorkspace,
        lane: &mut Lane,
    ) {
        let t = ti as i64;
        let (capacity, customers, pricing) =
            (ws.draws.capacity, ws.draws.customers, ws.draws.pricing);
        let QuarterState {
            factors: f,
            base_price,
            demand_units,
            gate,
            units,
        } = lane.quarter;
        let (demand, other) = (&ws.policy_demand, &ws.policy_other);
        let retention = lane.retention;
        let premium = lane.premium;
        let (served, unmet_share) = serve(
            demand_units,
            retention,
            step.compute_units,
            capacity.max_utilization,
        );
        let price = base_price * premium * f.price;
        let ai_revenue = served * price;
        let revenue = other[ti] + ai_revenue;
        let inputs = QuarterInputs {
            other_revenue: other[ti],
            ai_revenue,
            compute_book_value: step.compute_book_value_rmb_bn,
            book_value: step.book_value_rmb_bn,
            depreciation: step.depreciation_rmb_bn,
            capex: step.capex_rmb_bn,
        };
        let margins = &mut lane.margins;
        if t == 0 && world == World::Plan {
            margins.calibrate(&inputs);
        }
        // Overheads follow the business as it is run, the plan world's (the reported one):
        // the same in both worlds, so the plan's increment carries none of them.
        let business_revenue = match world {
            World::Plan => revenue,
            World::Counterfactual | World::Stopped | World::Flexible => {
                ws.worlds[World::Plan as usize].revenue[ti]
            }
        };
        let business_scale = business_revenue / lane.reported_start_total;
        let op = margins.operate(
            t,
            &inputs,
            (t > 0).then_some(lane.previous_revenue),
            business_scale,
        );
        let rest_of_market = lane.rest_of_market_start * demand[ti] / demand[0];

        let series = &mut ws.worlds[world as usize];
        series.revenue.push(revenue);
        series.ai_revenue.push(ai_revenue);
        series.push_operating(step, &op);
        series.utilization.push(if step.compute_units > 0.0 {
            served / step.compute_units
        } else {
            0.0
        });
        series
            .unmet
            .push((retention * demand_units - served).max(0.0) * price);
        series.unmet_share.push(unmet_share);
        series
            .market_share
            .push(market_share(ai_revenue, rest_of_market));
        series.retention.push(retention);
        series.premium.push(premium);
        series.price.push(price);
        series.orders.push(units);
        series.gate.push(gate);
        series
            .opex
            .push(margins.ai_cash_costs(0.0, step.compute_book_value_rmb_bn));

        // Next quarter's retention and premium.
        lane.retention = customers.next_retention(retention, unmet_share);
        let rest_unmet = pricing.rest_of_market_unmet(lane.rest_decayed, f.tightness);
        lane.rest_decayed *= pricing.rest_decay();
        lane.powers = (
            lane.powers.0 * lane.prices.x1,
            lane.powers.1 * lane.prices.x2,
        );
        lane.premium = pricing.next_premium(premium, pricing.tightness(unmet_share, rest_unmet));
        lane.trailing.rotate_left(1);
        lane.trailing[3] = revenue;
        lane.previous_revenue = revenue;
    }
}

impl Model {
    /// The flexible world's review at the end of quarter `ti` (docs/model.md, "The option to
    /// stop at reviews"): at a fiscal year's end (a calendar first quarter), while the plan
    /// has quarters left, the rest of the plan stops if the signal, read from this world's
    /// own quarters up to `ti`, is below the threshold. Nothing after `ti` is read.
    fn review(&self, e: &EconomicsModel, ti: usize, ws: &PathWorkspace, lane: &mut Lane) {
        let Some(review) = e.review else {
            return;
        };
        let t = ti as i64;
        if lane.review_stop != NO_STOP
            || self.quarter(ti).quarter_of_year() != 1
            || e.capex.plan_spend(t + 1, &ws.capex_draw).is_none()
        {
            return;
        }
        let series = &ws.worlds[World::Flexible as usize];
        let signal = match review.signal {
            ReviewSignal::Utilization => {
                let year = &series.utilization[ti.saturating_sub(3)..=ti];
                year.iter().sum::<f64>() / year.len() as f64
            }
            ReviewSignal::Gate => series.gate[ti],
        };
        if signal < review.threshold {
            lane.review_stop = t;
        }
    }
}

/// One path's constants and running state in the policy worlds.
struct Lane {
    /// The margin draw, calibrated on the plan world's start quarter.
    margins: MarginDraw,
    unit: UnitEconomics,
    user_cost: f64,
    hardware_step: f64,
    reported_start_ai: f64,
    reported_start_total: f64,
    start_growth: f64,
    rest_of_market_start: f64,
    prices: PricePath,
    price_sums: PriceSums,
    ahead: (f64, f64),
    demand_units_per_rmb: f64,
    capex_by_class: Vec<f64>,
    /// Compute units in service at the start from purchases before it.
    start_units: f64,
    retention: f64,
    powers: (f64, f64),
    rest_decayed: f64,
    premium: f64,
    trailing: [f64; 4],
    previous_revenue: f64,
    quarter: QuarterState,
    /// The flexible world's review that stopped the plan (its quarter index); [`NO_STOP`]
    /// while none has.
    review_stop: i64,
}

/// No review has stopped the plan.
const NO_STOP: i64 = i64::MAX;

impl Lane {
    /// Whether `world` spends the plan's schedule in quarter `t` (a plan quarter): the
    /// flexible world until the quarter after a review stops it.
    fn spends_plan(&self, world: World, t: i64) -> bool {
        match world {
            World::Flexible => t <= self.review_stop,
            other => other.spends_plan(t),
        }
    }

    /// A world's state at the start quarter.
    fn start_world(&mut self, start_premium: f64) {
        self.retention = 1.0;
        // (x₁^t, x₂^t) and the rest of the market's decay^t, kept by multiplication.
        self.powers = (1.0, 1.0);
        self.rest_decayed = 1.0;
        self.premium = start_premium;
        self.trailing = [self.reported_start_total; 4];
        self.previous_revenue = self.reported_start_total;
    }
}

/// What a quarter's orders pass on to its operation.
#[derive(Clone, Copy, Debug)]
struct QuarterState {
    factors: Factors,
    base_price: f64,
    demand_units: f64,
    gate: f64,
    units: f64,
}

impl Default for QuarterState {
    fn default() -> Self {
        Self {
            factors: Factors {
                unit_cost: 1.0,
                capacity: 1.0,
                plan_size: 1.0,
                price: 1.0,
                tightness: 0.0,
            },
            base_price: 0.0,
            demand_units: 0.0,
            gate: 0.0,
            units: 0.0,
        }
    }
}

/// A world that spends the plan (`spends_plan`) spends at least the plan's spend in its
/// quarters (split by the plan's shares); returns the compute units the quarter deploys.
fn plan_floor(
    spends_plan: bool,
    plan_spend: Option<f64>,
    classes: &[ClassTerms],
    compute: usize,
    unit_cost: f64,
    units: f64,
    capex_by_class: &mut [f64],
) -> f64 {
    match plan_spend {
        Some(spend) if spends_plan && spend > capex_by_class.iter().sum::<f64>() => {
            for (c, class) in classes.iter().enumerate() {
                capex_by_class[c] = spend * class.share;
            }
            spend * classes[compute].share / unit_cost
        }
        _ => units,
    }
}

/// Capex by asset class of a quarter: `orders` compute units at `unit_cost` with the other
/// classes in their plan shares (a loaded unit), plus the non-AI requirement over the
/// non-compute classes in proportion to their shares.
fn allocate(
    classes: &[ClassTerms],
    compute: usize,
    orders: f64,
    unit_cost: f64,
    non_ai: f64,
    capex_by_class: &mut [f64],
) {
    let compute_share = classes[compute].share;
    for (c, class) in classes.iter().enumerate() {
        let ai = orders * unit_cost * class.share / compute_share;
        capex_by_class[c] = if compute_share >= 1.0 {
            // One asset class: the non-AI requirement buys it too.
            ai + non_ai
        } else if c == compute {
            ai
        } else {
            ai + non_ai * class.share / (1.0 - compute_share)
        };
    }
}
