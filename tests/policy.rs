//! The investment-policy economics (docs/model.md, "Investment-policy economics") on the
//! base case at its modes (tests/fixtures/policy_modes.toml: no shocks, no risk, every
//! assumption fixed), and the traps the design avoids.

use cloudcapex::runner::{Results, RunOptions, simulate};
use cloudcapex::{Override, Scenario};

const MODES: &str = "tests/fixtures/policy_modes.toml";

fn run_path(file: &str, sets: &[&str]) -> Results {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let scenario = Scenario::load(file, &overrides)
        .unwrap()
        .with_paths(2)
        .unwrap();
    simulate(
        &scenario,
        &RunOptions {
            paths_out: 1,
            ..Default::default()
        },
    )
    .unwrap()
}

fn series(results: &Results, metric: &str) -> Vec<f64> {
    let m = results
        .quarterly_metrics
        .iter()
        .position(|n| n == metric)
        .unwrap_or_else(|| panic!("no metric {metric}"));
    let q = results.quarters;
    results.kept_paths[0].values[m * q..(m + 1) * q].to_vec()
}

/// Orders up to quarter t use only what is known at t: a run whose horizon ends at t (so
/// no later shock exists) orders exactly the same as the full run, on a path with shocks
/// and risk events (the base scenario, path 0).
#[test]
fn orders_do_not_anticipate_demand() {
    let full = run_path("scenarios/base.toml", &[]);
    let short = run_path(
        "scenarios/base.toml",
        &["time.horizon_quarters=20", "valuation.terminal_value=false"],
    );
    for metric in [
        "ai_orders_units",
        "ai_orders_counterfactual_units",
        "capex_rmb_bn",
        "ai_investment_gate",
    ] {
        let (a, b) = (series(&full, metric), series(&short, metric));
        for t in 0..=20 {
            assert_eq!(a[t].to_bits(), b[t].to_bits(), "{metric} at t = {t}");
        }
    }
}

/// Without lost customers and with the same budget after the plan, the counterfactual
/// catches up: by the horizon both worlds' capacity and AI revenue are within 2% of each
/// other, though they are apart by a factor of two at the start.
#[test]
fn without_lost_customers_the_worlds_converge() {
    let r = run_path(MODES, &["customers.loss_rate=0"]);
    let (plan, cf) = (
        series(&r, "revenue_ai_rmb_bn"),
        series(&r, "revenue_ai_counterfactual_rmb_bn"),
    );
    let (units, cf_units) = (
        series(&r, "ai_capacity_units"),
        series(&r, "ai_capacity_counterfactual_units"),
    );
    assert!(
        cf[0] < 0.5 * plan[0],
        "apart at the start: {} vs {}",
        cf[0],
        plan[0]
    );
    let last = plan.len() - 1;
    assert!(
        (plan[last] / cf[last] - 1.0).abs() < 0.02,
        "{} vs {}",
        plan[last],
        cf[last]
    );
    assert!(
        (units[last] / cf_units[last] - 1.0).abs() < 0.02,
        "{} vs {}",
        units[last],
        cf_units[last]
    );
}

/// With an unlimited budget, no in-service lag, orders that close gaps at once and a
/// gate that always passes, all demand is served from the first quarter on.
#[test]
fn unlimited_budget_and_no_lag_serve_all_demand() {
    let r = run_path(
        MODES,
        &[
            "plan.assets.ai_compute.in_service_lag_quarters=0",
            "investment.budget_share_of_revenue=5",
            "investment.counterfactual_budget_share_of_revenue=5",
            "investment.adjustment_quarters=1",
            "pricing.markup=3",
        ],
    );
    for metric in ["ai_unmet_share", "ai_unmet_share_counterfactual"] {
        let unmet = series(&r, metric);
        assert!(unmet[1..].iter().all(|u| *u < 1e-12), "{metric}: {unmet:?}");
    }
}

/// Unmet demand with budget left and a passing gate makes capacity grow: the
/// counterfactual starts short (capped at the business-as-usual budget in the plan's
/// window); after the window, with no budget limit, its capacity grows whenever its unmet
/// share is material and its gate passes.
#[test]
fn unmet_demand_with_budget_and_a_passing_gate_grows_capacity() {
    let r = run_path(MODES, &["investment.budget_share_of_revenue=5"]);
    let units = series(&r, "ai_capacity_counterfactual_units");
    let unmet = series(&r, "ai_unmet_share_counterfactual");
    let gate = series(&r, "ai_investment_gate_counterfactual");
    assert!(unmet[0] > 0.5, "short at the start: {}", unmet[0]);
    let lag = 3;
    let mut checked = 0;
    for t in 8..units.len() - lag - 1 {
        if unmet[t] > 0.05 && gate[t] > 0.9 {
            assert!(units[t + lag + 1] > units[t + lag], "t = {t}: {units:?}");
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked} quarters checked");
}

/// A collapsing price stops investment: with the base price heading to a fifth of the
/// user cost, the gate closes after the plan and nothing is ordered, so capacity falls.
#[test]
fn a_collapsing_price_stops_investment() {
    let r = run_path(
        MODES,
        &["pricing.markup=-0.8", "pricing.markup_half_life_quarters=2"],
    );
    let gate = series(&r, "ai_investment_gate");
    let orders = series(&r, "ai_orders_units");
    let units = series(&r, "ai_capacity_units");
    let last = gate.len() - 1;
    assert!(gate[12..].iter().all(|w| *w == 0.0), "{gate:?}");
    assert!(orders[12..].iter().all(|n| *n == 0.0), "{orders:?}");
    assert!(
        units[last] < 0.2 * units[12],
        "{} vs {}",
        units[last],
        units[12]
    );
}

/// No on/off cycling: at the modes, after the plan's window (and the quarters its
/// overbuild takes to fill), both worlds order something in nearly every quarter.
#[test]
fn post_plan_orders_do_not_cycle_on_and_off() {
    let r = run_path(MODES, &[]);
    for metric in ["ai_orders_units", "ai_orders_counterfactual_units"] {
        let orders = series(&r, metric);
        let after: Vec<f64> = orders[16..].to_vec();
        let positive = after.iter().filter(|n| **n > 0.0).count();
        assert!(
            positive as f64 >= 0.95 * after.len() as f64,
            "{metric}: {positive} of {} quarters order: {after:?}",
            after.len()
        );
    }
}

/// The plan's start calibration reports P(0)/c(0): at the modes the Mar-26 price is about
/// two thirds of the user cost of a new loaded unit (docs/model.md, "Pricing").
#[test]
fn start_price_to_user_cost_is_reported() {
    let r = run_path(MODES, &[]);
    let ratio = r.scalar("ai_price_to_user_cost_start").unwrap().mean;
    assert!((0.6..0.75).contains(&ratio), "{ratio}");
}
