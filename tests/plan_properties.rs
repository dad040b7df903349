//! Invariants of the plan model over random assumptions (proptest), and the plan's
//! return against the discount rate.

use cloudcapex::runner::{Results, RunOptions, simulate};
use cloudcapex::{Override, Scenario};
use proptest::prelude::*;

fn run(sets: &[String], paths: u64) -> Results {
    run_on(cloudcapex::scenario::DEFAULT_SCENARIO_TOML, sets, paths)
}

/// On the pre-policy economics (`scenarios/replace_retirements.toml`).
fn run_old(sets: &[String], paths: u64) -> Results {
    run_on(cloudcapex::scenario::REPLACE_RETIREMENTS_TOML, sets, paths)
}

fn run_on(text: &str, sets: &[String], paths: u64) -> Results {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let scenario = Scenario::from_toml_str("t", "t.toml", text, &overrides)
        .unwrap()
        .with_paths(paths)
        .unwrap();
    simulate(
        &scenario,
        &RunOptions {
            paths_out: paths,
            ..Default::default()
        },
    )
    .unwrap()
}

fn series<'a>(results: &'a Results, path: usize, metric: &str) -> &'a [f64] {
    let m = results
        .quarterly_metrics
        .iter()
        .position(|n| n == metric)
        .unwrap();
    let q = results.quarters;
    &results.kept_paths[path].values[m * q..(m + 1) * q]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Capacity is never negative, utilization stays in [0, 1], realized AI revenue never
    /// exceeds demand, in both worlds, whatever the plan and the economics.
    #[test]
    fn capacity_and_revenue_invariants(
        total in 0.0f64..900.0,
        legacy in 0.5f64..20.0,
        hardware in -0.2f64..0.5,
        price in -0.2f64..0.5,
        utilization in 0.3f64..1.0,
        profile in prop_oneof![Just("flat"), Just("front_loaded"), Just("back_loaded")],
        mode in prop_oneof![Just("replace_retirements"), Just("revenue_share")],
        seed in 0u64..1000,
    ) {
        let mut sets = vec![
            format!("plan.total_rmb_bn={total}"),
            format!("legacy.capex_rmb_bn_per_quarter={legacy}"),
            format!("capacity.hardware_cost_decline={hardware}"),
            format!("capacity.price_decline={price}"),
            format!("capacity.max_utilization={utilization}"),
            format!("plan.profile=\"{profile}\""),
            format!("maintenance.mode=\"{mode}\""),
            format!("simulation.seed={seed}"),
        ];
        if mode == "revenue_share" {
            sets.push("maintenance.revenue_share=0.1".into());
        }
        check_invariants(&run_old(&sets, 20))?;
        // The investment policy: the same invariants, any plan, budget and pricing.
        let policy = vec![
            format!("plan.total_rmb_bn={total}"),
            format!("legacy.capex_rmb_bn_per_quarter={legacy}"),
            format!("capacity.hardware_cost_decline={hardware}"),
            format!("capacity.max_utilization={utilization}"),
            format!("investment.target_utilization={}", utilization * 0.9),
            format!("investment.budget_share_of_revenue={}", price + 0.3),
            format!("pricing.markup={price}"),
            format!("plan.profile=\"{profile}\""),
            format!("simulation.seed={seed}"),
            // Keep the start calibration valid for a large legacy fleet.
            "costs.variable_cost_share=0.2".to_string(),
            "costs.start_ebita_margin=-0.3".to_string(),
        ];
        check_invariants(&run(&policy, 20))?;
    }
}

/// Capacity is never negative, utilization stays in [0, 1], realized AI revenue never
/// exceeds demand, in both worlds.
fn check_invariants(results: &Results) -> Result<(), TestCaseError> {
    {
        for path in 0..20 {
            for world in ["", "_counterfactual"] {
                let capacity = series(results, path, &format!("ai_capacity{world}_units"));
                prop_assert!(
                    capacity.iter().all(|c| *c >= 0.0),
                    "capacity {:?}",
                    capacity
                );
                let util = series(results, path, &format!("ai_utilization{world}"));
                prop_assert!(
                    util.iter().all(|u| (0.0..=1.0).contains(u)),
                    "utilization {:?}",
                    util
                );
                let unmet = series(results, path, &format!("ai_unmet_demand{world}_rmb_bn"));
                prop_assert!(
                    unmet.iter().all(|u| *u >= 0.0),
                    "realized above demand: {:?}",
                    unmet
                );
            }
            let ai = series(results, path, "revenue_ai_rmb_bn");
            let demand = series(results, path, "ai_demand_rmb_bn");
            prop_assert!(
                ai.iter()
                    .zip(demand)
                    .all(|(a, d)| a <= &(d * (1.0 + 1e-12)))
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A plan of size zero is maintenance in both worlds: incremental cash flow is exactly
    /// zero on every path and quarter, and so is the NPV.
    #[test]
    fn zero_size_plan_returns_nothing(seed in 0u64..1000, multiplier in 0.5f64..1.5) {
        let mut sets = vec![
            "plan.total_rmb_bn=0".to_string(),
            format!("plan.execution_multiplier={multiplier}"),
            format!("simulation.seed={seed}"),
        ];
        for quarter in ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"] {
            sets.push(format!("plan.actual_spend_rmb_bn.{quarter}=0"));
        }
        let results = run(&sets, 30);
        for path in 0..30 {
            prop_assert!(series(&results, path, "incremental_fcf_rmb_bn").iter().all(|f| *f == 0.0));
        }
        let npv = results.scalar("plan_npv_rmb_bn").unwrap();
        prop_assert_eq!(npv.mean, 0.0);
        prop_assert_eq!(npv.sd, 0.0);
        // IRR is undefined when every flow is zero: reported as missing, never invented.
        prop_assert_eq!(results.scalar_stats("plan_irr").unwrap().missing, 30);
    }
}

/// With common random numbers, mean NPV falls as the discount rate rises, on the
/// pre-policy economics. (Without the terminal value: a negative terminal lump, possible
/// when the increment ends loss-making, makes the flows non-conventional, and then NPV need
/// not be monotone in the rate. Under the investment policy the rate also moves both
/// worlds' investment through the gate, so the NPV need not be monotone there either.)
#[test]
fn npv_falls_as_the_discount_rate_rises() {
    let npvs: Vec<f64> = [0.06, 0.08, 0.10, 0.12, 0.14]
        .iter()
        .map(|r| {
            let sets = [
                format!("valuation.discount_rate={r}"),
                "valuation.terminal_value=false".to_string(),
            ];
            run_old(&sets, 2000).scalar("plan_npv_rmb_bn").unwrap().mean
        })
        .collect();
    assert!(npvs.windows(2).all(|w| w[1] < w[0]), "{npvs:?}");
}

/// The base scenario gives finite NPV and IRR distributions.
#[test]
fn base_scenario_has_finite_return_distributions() {
    let results = run(&[], 3000);
    let npv = results.scalar_stats("plan_npv_rmb_bn").unwrap();
    assert_eq!(npv.missing, 0);
    let s = npv.summary.as_ref().unwrap();
    assert!(s.mean.is_finite() && s.se > 0.0 && s.quantiles.iter().all(|q| q.is_finite()));
    assert!((0.0..=1.0).contains(&npv.prob_negative) && npv.cvar5 < s.quantiles[1] + 1e-9);
    let irr = results.scalar_stats("plan_irr").unwrap();
    let defined = irr.summary.as_ref().unwrap();
    assert_eq!(defined.count + irr.missing, 3000);
    assert!(
        defined.count > 1000,
        "IRR unique on only {} of 3000 paths",
        defined.count
    );
    assert!(defined.quantiles.iter().all(|q| q.is_finite() && *q > -1.0));
    // Paths without a unique IRR are accounted for by their number of roots.
    let roots = results.scalar("plan_irr_root_count").unwrap();
    let unique_share = defined.count as f64 / 3000.0;
    assert!(roots.quantiles[0] >= 0.0 && (roots.mean >= unique_share));
}
