//! Both worlds of one path under the investment policy, quarter by quarter in the order of
//! docs/model.md, "The quarter under the investment policy": capacity in service → demand
//! and unmet in units → price from last quarter's premium → orders (at the current price,
//! capped on trailing revenue) → revenue and costs → retention and premium for next quarter.

use super::capex::{CapexStep, World};
use super::demand::{CustomerDraw, market_share, serve};
use super::investment::{ClassTerms, PricePath, UnitEconomics};
use super::margins::QuarterInputs;
use super::pricing::PricingDraw;
use super::{BlockStreams, EconomicsModel, Model, PathWorkspace, PolicyBlocks};

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

    /// Simulates the plan and counterfactual worlds of one path under the policy.
    pub(super) fn simulate_policy_economics(
        &self,
        e: &EconomicsModel,
        policy: &PolicyBlocks,
        streams: &mut BlockStreams,
        ws: &mut PathWorkspace,
    ) {
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        let ai = e.capacity.segment;
        let upsizing = streams
            .upsizing
            .as_mut()
            .expect("plan scenarios have an upsizing stream");
        e.capex
            .draw(&mut streams.params, upsizing, &mut ws.capex_draw);
        let capacity = e.capacity.draw(&mut streams.params);
        let mut margins = e.margins.draw(&mut streams.params);
        let investment = policy.investment.draw(&mut streams.params);
        let pricing = policy
            .pricing
            .as_ref()
            .map_or_else(PricingDraw::none, |p| p.draw(&mut streams.params));
        let customers = policy
            .customers
            .as_ref()
            .map_or(CustomerDraw::default(), |c| c.draw(&mut streams.params));

        let (terms, compute) = (&policy.classes[..], policy.compute);
        let compute_share = terms[compute].share;
        let unit = UnitEconomics::new(
            terms,
            compute,
            ws.valuation_draw.annual_rate,
            &margins,
            &investment,
        );
        let hardware_step = ws.capex_draw.unit_cost_step;
        let user_cost = unit.user_cost(hardware_step);
        let lag = terms[compute].lag as i64;

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
        let start_growth = self.revenue.initial_growth(&ws.revenue_scratch, ai);
        let rest_of_market_start =
            reported_start_ai * (1.0 - pricing.alibaba_share) / pricing.alibaba_share;
        let valuation_first = e.capex.valuation_first_quarter();

        super::step_shared_history(e, reported_start_total, ws);

        let mut prices = PricePath::default();
        let mut price_sums = unit.price_sums(prices);
        // (x₁^λ, x₂^λ): the price path λ quarters ahead is today's times these.
        let mut ahead = (1.0, 1.0);
        // Demand units per RMB of demand at the base price: 1 / ((1 − u₀) S₀).
        let demand_units_per_rmb = capacity.demand_scale / pricing.start_premium;
        let mut capex_by_class = std::mem::take(&mut ws.policy_capex_by_class);
        capex_by_class.clear();
        capex_by_class.resize(terms.len(), 0.0);
        for (w, world) in [World::Plan, World::Counterfactual].into_iter().enumerate() {
            ws.worlds[w].clear();
            if w > 0 {
                ws.capex_state.clone_from(&ws.capex_history);
            }
            // Quarters of the plan before the start quarter: the plan world spent the plan;
            // the counterfactual spent its business-as-usual budget on the start revenue
            // (revenue before the start is not simulated).
            for t in valuation_first..0 {
                let budget = investment.counterfactual_budget_share * reported_start_total;
                let non_ai = investment.non_ai_capex_share * other[0];
                let unit_cost = e.capex.unit_cost(&ws.capex_state);
                let units = (budget - non_ai).max(0.0) * compute_share / unit_cost;
                allocate(
                    terms,
                    compute,
                    units,
                    unit_cost,
                    non_ai,
                    &mut capex_by_class,
                );
                let units = plan_floor(
                    world,
                    e.capex.plan_spend(t, &ws.capex_draw),
                    terms,
                    compute,
                    unit_cost,
                    units,
                    &mut capex_by_class,
                );
                let step = e.capex.step_decided(
                    t,
                    &capex_by_class,
                    units,
                    &ws.capex_draw,
                    &mut ws.capex_state,
                );
                let series = &mut ws.worlds[w];
                series.history_capex.push(step.capex_rmb_bn);
                series.history_depreciation.push(step.depreciation_rmb_bn);
            }

            let mut retention = 1.0;
            // (x₁^t, x₂^t) and the rest of the market's decay^t, kept by multiplication.
            let mut powers = (1.0, 1.0);
            let mut rest_decayed = 1.0;
            let mut premium = pricing.start_premium;
            let mut trailing = [reported_start_total; 4];
            let mut previous_revenue = reported_start_total;
            for ti in 0..quarters {
                let t = ti as i64;
                let f = self.factors(ws, t);
                let kappa = e.capex.unit_cost(&ws.capex_state);
                let unit_cost = kappa * f.unit_cost / f.capacity;
                if t == 0 && world == World::Plan {
                    // Calibrate on the plan world's start quarter: it reports the actuals.
                    let start_units = e.capex.units_in_service_before(0, &ws.capex_state);
                    let price_start = reported_start_ai / (capacity.max_utilization * start_units);
                    let base_start = price_start / pricing.start_premium;
                    prices = if policy.pricing.is_some() {
                        let start_ratio = base_start / user_cost;
                        let long_run = pricing.long_run_ratio;
                        PricePath {
                            a: user_cost * long_run,
                            x1: hardware_step,
                            b: user_cost * (start_ratio - long_run),
                            x2: hardware_step * pricing.ratio_decay,
                        }
                    } else {
                        PricePath {
                            a: base_start,
                            x1: capacity.price_step,
                            b: 0.0,
                            x2: 1.0,
                        }
                    };
                    price_sums = unit.price_sums(prices);
                    ahead = prices.powers(lag);
                    ws.policy_scalars = [price_start / user_cost, user_cost];
                }
                // Export controls make compute dearer for every China cloud: the market's user
                // cost, hence the base price, carries the unit-cost factor too.
                let base_price = prices.value(powers) * f.unit_cost;
                let demand_units = demand[ti] * demand_units_per_rmb / base_price;

                // Orders, from what is known at t.
                let growth = self.trailing_growth(&demand, ti, start_growth);
                let forecast_rmb = demand[ti] / self.revenue.seasonal(ti)
                    * (lag as f64 * growth).exp()
                    * self.revenue.seasonal(ti + lag as usize);
                let forecast_units = forecast_rmb * demand_units_per_rmb
                    / (prices.value((powers.0 * ahead.0, powers.1 * ahead.1)) * f.unit_cost);
                let target = retention * forecast_units / investment.target_utilization;
                let (pipeline, retiring) = e.capex.pipeline(t, &ws.capex_state);
                // The gate expects today's unit-cost factor to persist on both sides.
                let npv = unit.npv_per_rmb(&price_sums, powers, premium, unit_cost / f.unit_cost);
                let gate = investment.gate(npv);
                let desired = investment.desired_orders(target, pipeline, retiring, gate);
                let plan_spend = e.capex.plan_spend(t, &ws.capex_draw);
                // In the plan's window both worlds have the business-as-usual budget and the
                // plan world spends at least the plan; after it, the same cap by default.
                let budget_share = match (world, plan_spend.is_some()) {
                    (_, true) => investment.counterfactual_budget_share,
                    (World::Counterfactual, false) => investment.budget_share,
                    (World::Plan, false) => investment.plan_world_budget_share_after,
                };
                let budget = budget_share * trailing.iter().sum::<f64>() / 4.0;
                let non_ai = investment.non_ai_capex_share * other[ti];
                let loaded_unit_cost = unit_cost / compute_share;
                let orders = desired.min((budget - non_ai).max(0.0) / loaded_unit_cost);
                allocate(
                    terms,
                    compute,
                    orders,
                    unit_cost,
                    non_ai,
                    &mut capex_by_class,
                );
                let units = plan_floor(
                    world,
                    plan_spend.map(|spend| spend * f.plan_size),
                    terms,
                    compute,
                    unit_cost,
                    orders,
                    &mut capex_by_class,
                );
                let step: CapexStep = e.capex.step_decided(
                    t,
                    &capex_by_class,
                    units,
                    &ws.capex_draw,
                    &mut ws.capex_state,
                );

                // Service, price, revenue and costs.
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
                if t == 0 && world == World::Plan {
                    margins.calibrate(&inputs);
                }
                let op = margins.operate(t, &inputs, (t > 0).then_some(previous_revenue));
                let rest_of_market = rest_of_market_start * demand[ti] / demand[0];

                let series = &mut ws.worlds[w];
                series.revenue.push(revenue);
                series.ai_revenue.push(ai_revenue);
                series.push_operating(&step, &op);
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
                retention = customers.next_retention(retention, unmet_share);
                let rest_unmet = pricing.rest_of_market_unmet(rest_decayed, f.tightness);
                rest_decayed *= pricing.rest_decay();
                powers = (powers.0 * prices.x1, powers.1 * prices.x2);
                premium = pricing.next_premium(premium, pricing.tightness(unmet_share, rest_unmet));
                trailing.rotate_left(1);
                trailing[3] = revenue;
                previous_revenue = revenue;
            }
        }
        ws.policy_demand = demand;
        ws.policy_other = other;
        ws.policy_capex_by_class = capex_by_class;
    }
}

/// The plan world spends at least the plan's spend in its quarters (split by the plan's
/// shares); returns the compute units the quarter deploys.
fn plan_floor(
    world: World,
    plan_spend: Option<f64>,
    classes: &[ClassTerms],
    compute: usize,
    unit_cost: f64,
    units: f64,
    capex_by_class: &mut [f64],
) -> f64 {
    match plan_spend {
        Some(spend) if world == World::Plan && spend > capex_by_class.iter().sum::<f64>() => {
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
