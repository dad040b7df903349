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

/// `ai_demand_rmb_bn` in quarter 1 of the base at its modes with one certain event at
/// quarter 1 (`effect`: a TOML effect table, or none) and the given elasticity (or none).
fn demand_in_quarter_one(effect: Option<&str>, elasticity: Option<f64>) -> f64 {
    let mut text = String::from("extends = \"policy_modes.toml\"\n");
    if let Some(e) = elasticity {
        text.push_str(&format!("[pricing]\ndemand_price_elasticity = {e}\n"));
    }
    if let Some(effect) = effect {
        // The base's regimes and events stay (extends merges tables): calm for ever,
        // every base event off, one certain event.
        text.push_str("[risk]\nenabled = true\n[risk.regimes.calm]\ninitial_probability = 1\n");
        text.push_str("transition = { calm = 1, tension = 0, crisis = 0 }\n");
        for regime in ["tension", "crisis"] {
            text.push_str(&format!(
                "[risk.regimes.{regime}]\ninitial_probability = 0\n"
            ));
        }
        for event in [
            "export_controls_tighten",
            "export_controls_loosen",
            "decoupling",
            "domestic_chip_mandate",
            "price_war",
        ] {
            text.push_str(&format!(
                "[risk.events.{event}]\nhazard = {{ calm = 0, tension = 0, crisis = 0 }}\n"
            ));
        }
        text.push_str(&format!(
            "[risk.events.move]\nhazard = {{ calm = 1 }}\nrepeatable = false\n\
             [risk.events.move.effects.it]\n{effect}\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let modes = std::path::Path::new(MODES).canonicalize().unwrap();
    let text = text.replace("policy_modes.toml", &modes.display().to_string());
    let file = dir.path().join("e.toml");
    std::fs::write(&file, text).unwrap();
    let scenario = Scenario::load(&file, &[]).unwrap().with_paths(2).unwrap();
    let results = simulate(
        &scenario,
        &RunOptions {
            paths_out: 1,
            ..Default::default()
        },
    )
    .unwrap();
    series(&results, "ai_demand_rmb_bn")[1]
}

/// One price elasticity ε of AI demand volume for every price move (docs/model.md,
/// "Pricing"): a certain event that moves the price by a factor `x` at quarter 1 (through
/// the unit cost passed into the base price, or the price lever of a price war) changes
/// the quarter's RMB demand `M Q P` by `x^(1−ε)`, whichever lever moved it (ε = 1: RMB
/// demand fixed under any move; ε = 0: volume fixed). The older rule without the key is
/// kept bit for bit (scenarios without it give the same outputs as before it existed).
#[test]
fn every_price_move_changes_demand_through_one_elasticity() {
    let dearer = "lever = \"unit_cost\"\nsize = 0.2";
    let cheaper = "lever = \"price\"\nsize = -0.15";
    for epsilon in [0.0, 0.5, 1.0, 1.7] {
        let base = demand_in_quarter_one(None, Some(epsilon));
        for (effect, factor) in [(dearer, 1.2f64), (cheaper, 0.85)] {
            let moved = demand_in_quarter_one(Some(effect), Some(epsilon));
            let expected = factor.powf(1.0 - epsilon);
            assert!(
                (moved / base - expected).abs() < 1e-12,
                "ε = {epsilon}, {effect}: ratio {} expected {expected}",
                moved / base
            );
        }
    }
}

/// `investment.planning_horizon_quarters`: planning for the peak of the year after entry
/// into service (4, the base) orders at least as much in the first quarter as planning for
/// the quarter of entry (1, the older rule) and leaves less AI demand unmet over the
/// horizon, in both worlds, at the base's modes.
#[test]
fn planning_for_the_seasonal_peak_serves_more_demand() {
    let one = run_path(MODES, &["investment.planning_horizon_quarters=1"]);
    let year = run_path(MODES, &["investment.planning_horizon_quarters=4"]);
    assert!(series(&year, "ai_orders_units")[0] >= series(&one, "ai_orders_units")[0]);
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    for metric in ["ai_unmet_share", "ai_unmet_share_counterfactual"] {
        let (before, after) = (mean(series(&one, metric)), mean(series(&year, metric)));
        assert!(after < before, "{metric}: {after} not below {before}");
    }
}

/// `investment.hurdle_rate` separates the firm's rate (the gate and the user cost that
/// prices follow) from the investor's (`valuation.discount_rate`): stated equal to the
/// discount rate it changes no number; stated higher, a unit's user cost rises by the
/// annuity factor, the gate passes fewer units in the counterfactual, and the plan is
/// still valued at the investor's rate.
#[test]
fn the_firms_hurdle_rate_moves_the_gate_and_prices_not_the_valuation_rate() {
    let plain = run_path(MODES, &[]);
    let same = run_path(MODES, &["investment.hurdle_rate=0.09"]);
    for metric in [
        "capex_counterfactual_rmb_bn",
        "capex_rmb_bn",
        "revenue_total_rmb_bn",
    ] {
        assert_eq!(series(&plain, metric), series(&same, metric), "{metric}");
    }
    let npv = |r: &Results| r.scalar("plan_npv_rmb_bn").unwrap().mean;
    assert_eq!(npv(&plain), npv(&same));

    let higher = run_path(MODES, &["investment.hurdle_rate=0.15"]);
    let user_cost = |r: &Results| r.scalar("ai_user_cost_start_rmb_bn").unwrap().mean;
    assert!(
        user_cost(&higher) > user_cost(&plain) * 1.05,
        "user cost {} at 15% vs {} at 9%",
        user_cost(&higher),
        user_cost(&plain)
    );
    let total = |r: &Results| series(r, "capex_counterfactual_rmb_bn").iter().sum::<f64>();
    assert!(
        total(&higher) < total(&plain),
        "counterfactual capex {} at a 15% hurdle vs {} at 9%",
        total(&higher),
        total(&plain)
    );
    // A hurdle outside (0, 1] is refused, naming its key.
    let bad = Scenario::load(
        MODES,
        &[Override::parse("investment.hurdle_rate=1.5").unwrap()],
    );
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("investment.hurdle_rate")
    );
}
