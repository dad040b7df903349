//! The whole plan model on a deterministic scenario (no volatility, no uncertainty) against
//! a spreadsheet-style reference computed here cell by cell, with explicit loops over
//! vintages rather than the model's running sums. Every quarterly figure, the NPV and the
//! IRR must agree to 1e-9.

use std::collections::BTreeMap;

use cloudcapex::Scenario;
use cloudcapex::runner::{Results, RunOptions, simulate};

const SCENARIO: &str = r#"
[simulation]
paths = 3
[time]
start_quarter = "2026Q1"
horizon_quarters = 12
[revenue.segments.ai]
start_revenue_rmb_bn = 10
initial_growth = 0.2
terminal_growth = 0.2
growth_half_life_quarters = 4
[revenue.segments.core]
start_revenue_rmb_bn = 20
initial_growth = 0.1
terminal_growth = 0.1
growth_half_life_quarters = 4
[plan]
total_rmb_bn = 100
start_quarter = "2025Q3"
length_quarters = 4
profile = "flat"
[plan.actual_spend_rmb_bn]
2025Q3 = 20
2025Q4 = 30
[plan.assets.compute]
share = 0.6
useful_life_quarters = 8
in_service_lag_quarters = 1
[plan.assets.buildings]
share = 0.4
useful_life_quarters = 16
in_service_lag_quarters = 0
[legacy]
capex_rmb_bn_per_quarter = 5
[capacity]
segment = "ai"
asset_class = "compute"
max_utilization = 0.8
start_unmet_demand_share = 0.2
hardware_cost_decline = 0.19
price_decline = 0.0
[costs]
variable_cost_share = 0.3
start_ebita_margin = 0.1
fixed_cost_inflation = 0.0
tax_rate = 0.2
working_capital_share = 0.1
[valuation]
discount_rate = 0.1
terminal_value = true
terminal_method = "gordon"
terminal_growth = 0.0
"#;

const H: i64 = 12;
const FIRST: i64 = -40;
const PLAN_FIRST: i64 = -2;
const PLAN_LEN: i64 = 4;
/// (share, life, lag) of compute and buildings.
const CLASSES: [(f64, i64, i64); 2] = [(0.6, 8, 1), (0.4, 16, 0)];

fn unit_cost(t: i64) -> f64 {
    0.81f64.powf(t as f64 / 4.0)
}

/// Plan spend per plan quarter: two actuals, 2026Q1 scheduled (100 / 4), the rest remaining.
fn plan_spend(t: i64) -> f64 {
    match t {
        -2 => 20.0,
        -1 => 30.0,
        0 => 25.0,
        1 => 100.0 - 75.0,
        _ => unreachable!(),
    }
}

#[derive(Default, Debug)]
struct World {
    capex: BTreeMap<i64, [f64; 2]>,
    units: BTreeMap<i64, f64>,
    revenue: Vec<f64>,
    ai: Vec<f64>,
    demand: Vec<f64>,
    capacity: Vec<f64>,
    utilization: Vec<f64>,
    unmet: Vec<f64>,
    depreciation: BTreeMap<i64, f64>,
    ebita: Vec<f64>,
    fcf: Vec<f64>,
}

fn in_service(v: i64, t: i64, life: i64, lag: i64) -> bool {
    v + lag <= t && t < v + lag + life
}

/// One world, cell by cell. `price_start` is `None` for the plan world (it calibrates).
fn spreadsheet(
    plan: bool,
    price_start: Option<f64>,
    fixed_start: Option<f64>,
) -> (World, f64, f64) {
    let mut w = World::default();
    for t in FIRST..=H {
        let maintenance = |w: &World| -> ([f64; 2], f64) {
            let units = w.units.get(&(t - CLASSES[0].1)).copied().unwrap_or(0.0);
            let building = w.capex.get(&(t - CLASSES[1].1)).map_or(0.0, |c| c[1]);
            ([units * unit_cost(t), building], units)
        };
        let (capex, units) = if t < PLAN_FIRST {
            ([5.0 * 0.6, 5.0 * 0.4], 5.0 * 0.6 / unit_cost(t))
        } else if plan && t < PLAN_FIRST + PLAN_LEN {
            let spend = plan_spend(t);
            let (m, mu) = maintenance(&w);
            if spend >= m[0] + m[1] {
                ([spend * 0.6, spend * 0.4], spend * 0.6 / unit_cost(t))
            } else {
                (m, mu)
            }
        } else {
            maintenance(&w)
        };
        w.capex.insert(t, capex);
        w.units.insert(t, units);
        let mut depreciation = 0.0;
        for (c, (_, life, lag)) in CLASSES.iter().enumerate() {
            for (v, cap) in &w.capex {
                if in_service(*v, t, *life, *lag) {
                    depreciation += cap[c] / *life as f64;
                }
            }
        }
        w.depreciation.insert(t, depreciation);
    }
    let capacity_at = |w: &World, t: i64| -> f64 {
        w.units
            .iter()
            .filter(|(v, _)| in_service(**v, t, 8, 1))
            .map(|(_, u)| u)
            .sum()
    };
    let price = price_start.unwrap_or_else(|| 10.0 / (0.8 * capacity_at(&w, 0)));
    let fixed = fixed_start.unwrap_or_else(|| 30.0 * (1.0 - 0.3 - 0.1) - w.depreciation[&0]);
    for t in 0..=H {
        let demand = 10.0 * 1.2f64.powf(t as f64 / 4.0) / 0.8;
        let core = 20.0 * 1.1f64.powf(t as f64 / 4.0);
        let capacity = capacity_at(&w, t);
        let ai = demand.min(capacity * price * 0.8);
        let revenue = core + ai;
        let depreciation = w.depreciation[&t];
        let ebita = revenue * 0.7 - fixed - depreciation;
        let working_capital = if t == 0 {
            0.0
        } else {
            0.1 * (revenue - w.revenue[t as usize - 1])
        };
        let capex: f64 = w.capex[&t].iter().sum();
        w.fcf
            .push(ebita * 0.8 + depreciation - capex - working_capital);
        w.revenue.push(revenue);
        w.ai.push(ai);
        w.demand.push(demand);
        w.capacity.push(capacity);
        w.utilization.push(ai / (capacity * price));
        w.unmet.push(demand - ai);
        w.ebita.push(ebita);
    }
    (w, price, fixed)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn model_series(results: &Results, metric: &str) -> Vec<f64> {
    let m = results
        .quarterly_metrics
        .iter()
        .position(|n| n == metric)
        .unwrap_or_else(|| panic!("{metric}"));
    let q = results.quarters;
    results.kept_paths[0].values[m * q..(m + 1) * q].to_vec()
}

#[test]
fn every_figure_matches_the_spreadsheet() {
    let scenario =
        Scenario::from_toml_str("deterministic", "deterministic.toml", SCENARIO, &[]).unwrap();
    let results = simulate(
        &scenario,
        &RunOptions {
            paths_out: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let (plan, price, fixed) = spreadsheet(true, None, None);
    let (cf, _, _) = spreadsheet(false, Some(price), Some(fixed));

    let capex = |w: &World| {
        (0..=H)
            .map(|t| w.capex[&t].iter().sum())
            .collect::<Vec<f64>>()
    };
    let depreciation = |w: &World| (0..=H).map(|t| w.depreciation[&t]).collect::<Vec<f64>>();
    let margin = |w: &World| {
        w.ebita
            .iter()
            .zip(&w.revenue)
            .map(|(e, r)| e / r)
            .collect::<Vec<f64>>()
    };
    let incremental: Vec<f64> = plan.fcf.iter().zip(&cf.fcf).map(|(a, b)| a - b).collect();
    let expected: Vec<(&str, Vec<f64>)> = vec![
        ("revenue_total_rmb_bn", plan.revenue.clone()),
        ("revenue_ai_rmb_bn", plan.ai.clone()),
        ("revenue_total_counterfactual_rmb_bn", cf.revenue.clone()),
        ("ai_demand_rmb_bn", plan.demand.clone()),
        ("capex_rmb_bn", capex(&plan)),
        ("capex_counterfactual_rmb_bn", capex(&cf)),
        ("ai_capacity_units", plan.capacity.clone()),
        ("ai_capacity_counterfactual_units", cf.capacity.clone()),
        ("ai_utilization", plan.utilization.clone()),
        ("ai_utilization_counterfactual", cf.utilization.clone()),
        ("ai_unmet_demand_rmb_bn", plan.unmet.clone()),
        ("ai_unmet_demand_counterfactual_rmb_bn", cf.unmet.clone()),
        ("depreciation_rmb_bn", depreciation(&plan)),
        ("depreciation_counterfactual_rmb_bn", depreciation(&cf)),
        ("ebita_rmb_bn", plan.ebita.clone()),
        ("ebita_counterfactual_rmb_bn", cf.ebita.clone()),
        ("ebita_margin", margin(&plan)),
        ("ebita_margin_counterfactual", margin(&cf)),
        ("fcf_rmb_bn", plan.fcf.clone()),
        ("fcf_counterfactual_rmb_bn", cf.fcf.clone()),
        ("incremental_fcf_rmb_bn", incremental.clone()),
    ];
    for (metric, reference) in &expected {
        let got = model_series(&results, metric);
        for (t, (g, r)) in got.iter().zip(reference).enumerate() {
            assert!(close(*g, *r), "{metric} t={t}: model {g}, spreadsheet {r}");
        }
    }
    // The start quarter reproduces the calibration targets.
    assert!(close(plan.ebita[0] / plan.revenue[0], 0.1));
    assert!(close(plan.ai[0], 10.0));

    // Valuation from the plan's start (t = -2): history counts incremental capex only.
    let mut flows: Vec<f64> = (PLAN_FIRST..0)
        .map(|t| -(plan.capex[&t].iter().sum::<f64>() - cf.capex[&t].iter().sum::<f64>()))
        .collect();
    flows.extend(&incremental);
    let rate = 1.1f64.powf(0.25) - 1.0;
    // Terminal value on the steady-state increment: mean incremental NOPAT, last 4 quarters.
    let nopat = |w: &World, t: usize| w.ebita[t] * 0.8;
    let base: f64 = ((H - 3) as usize..=H as usize)
        .map(|t| nopat(&plan, t) - nopat(&cf, t))
        .sum::<f64>()
        / 4.0;
    let terminal = base / rate;
    let last = flows.len() - 1;
    let mut with_terminal = flows.clone();
    with_terminal[last] += terminal;
    let npv: f64 = with_terminal
        .iter()
        .enumerate()
        .map(|(j, f)| f / (1.0 + rate).powi(j as i32))
        .sum();
    let npv_model = results.scalar("plan_npv_rmb_bn").unwrap().mean;
    assert!(
        close(npv_model, npv),
        "NPV: model {npv_model}, spreadsheet {npv}"
    );

    // IRR by plain bisection on the spreadsheet flows.
    let f = |r: f64| {
        with_terminal
            .iter()
            .enumerate()
            .map(|(j, c)| c / (1.0 + r).powi(j as i32))
            .sum::<f64>()
    };
    let (mut lo, mut hi) = (-0.5f64, 1.0f64);
    assert!(
        f(lo).signum() != f(hi).signum(),
        "the reference IRR is bracketed"
    );
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid).signum() == f(lo).signum() {
            lo = mid
        } else {
            hi = mid
        }
    }
    let irr = (1.0 + 0.5 * (lo + hi)).powi(4) - 1.0;
    let irr_model = results.scalar("plan_irr").unwrap().mean;
    assert!(
        close(irr_model, irr),
        "IRR: model {irr_model}, spreadsheet {irr}"
    );

    // Undiscounted payback: first quarter from which cumulative flows stay >= 0.
    let mut cumulative = 0.0;
    let mut payback = None;
    for (j, c) in flows.iter().enumerate() {
        cumulative += c;
        if cumulative >= 0.0 {
            payback.get_or_insert(j);
        } else {
            payback = None;
        }
    }
    let stats = results.scalar_stats("plan_payback_quarters").unwrap();
    match payback {
        Some(k) => assert_eq!(stats.summary.as_ref().unwrap().mean, k as f64),
        None => assert_eq!(stats.missing, 3),
    }
    assert!(
        npv.abs() > 1.0 && flows.iter().any(|f| *f > 0.0),
        "the reference is not trivial"
    );
    let capex_total: f64 = (PLAN_FIRST..=H)
        .map(|t| plan.capex[&t].iter().sum::<f64>() - cf.capex[&t].iter().sum::<f64>())
        .sum::<f64>();
    assert!(close(
        results
            .scalar("plan_incremental_capex_rmb_bn")
            .unwrap()
            .mean,
        capex_total
    ));
}
