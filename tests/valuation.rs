//! The plan's valuation end to end: a terminal value that holds with the horizon, a return
//! figure (MIRR) on every path, and paybacks censored and counted, never silently missing.

use cloudcapex::runner::{Results, RunOptions, simulate};
use cloudcapex::{Override, Scenario};

/// The base case at its modes (no shocks, no uncertainty), every path the same.
fn modes(sets: &[&str]) -> Results {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let scenario = Scenario::load("tests/fixtures/policy_modes.toml", &overrides).unwrap();
    simulate(&scenario, &RunOptions::default()).unwrap()
}

fn mean(results: &Results, metric: &str) -> f64 {
    results.scalar(metric).unwrap().mean
}

/// NPV and PV of the incremental capex (from the profitability index, `1 + NPV / PV(capex)`).
fn npv_and_pv_capex(horizon: u32, method: &str) -> (f64, f64) {
    let results = modes(&[
        &format!("time.horizon_quarters={horizon}"),
        &format!("valuation.terminal_method=\"{method}\""),
    ]);
    let npv = mean(&results, "plan_npv_rmb_bn");
    (
        npv,
        npv / (mean(&results, "plan_profitability_index") - 1.0),
    )
}

/// The value-driver terminal value extrapolates the increment the model itself produces, so
/// lengthening the horizon from 40 to 80 quarters moves the NPV by little against the scale
/// of the decision, the PV of the plan's incremental capex. Tolerance 5% of it: what is left
/// is the increment's return on capital still falling after the horizon (docs/model.md,
/// "Return of the plan", gives the figures at the modes).
#[test]
fn npv_holds_with_the_horizon() {
    let (npv_40, pv_capex) = npv_and_pv_capex(40, "value_driver");
    let (npv_80, _) = npv_and_pv_capex(80, "value_driver");
    let (npv_160, _) = npv_and_pv_capex(160, "value_driver");
    assert!(pv_capex > 100.0, "{pv_capex}");
    let drift = (npv_80 - npv_40).abs() / pv_capex;
    assert!(
        drift < 0.05,
        "40: {npv_40}, 80: {npv_80}, PV capex {pv_capex}"
    );
    // Converging: the longer horizon is the closer to the long-run value.
    assert!((npv_160 - npv_80).abs() < (npv_80 - npv_40).abs());
}

/// The NPV without the terminal value plus the terminal value's PV is the NPV, and the
/// terminal value reports the growth and return it assumed.
#[test]
fn terminal_value_is_shown_beside_the_npv() {
    let results = modes(&[]);
    let npv = mean(&results, "plan_npv_rmb_bn");
    let without = mean(&results, "plan_npv_excl_terminal_rmb_bn");
    let terminal = mean(&results, "plan_terminal_value_pv_rmb_bn");
    assert!((npv - without - terminal).abs() < 1e-9 * npv.abs().max(1.0));
    let growth = mean(&results, "plan_terminal_growth");
    assert!(growth <= 0.02 && growth > -1.0, "{growth}");
    assert!(mean(&results, "plan_terminal_ronic").is_finite());
    // A stated RONIC equal to the discount rate makes growth worthless: the terminal value is
    // the no-growth perpetuity whatever the growth.
    let stated = |growth: &str| {
        let r = modes(&[
            "valuation.discount_rate=0.095",
            "valuation.terminal_ronic=0.095",
            &format!("valuation.terminal_growth={growth}"),
        ]);
        mean(&r, "plan_terminal_value_pv_rmb_bn")
    };
    let (flat, growing) = (stated("0.0"), stated("0.05"));
    assert!(
        (flat - growing).abs() < 0.02 * flat.abs(),
        "{flat} vs {growing}"
    );
}

/// MIRR is defined on every path of the base case, and equals the closed form on a
/// deterministic path: outlays financed at the WACC, inflows reinvested at the stated rate.
#[test]
fn mirr_on_every_path() {
    let scenario = Scenario::default_scenario().with_paths(500).unwrap();
    let results = simulate(&scenario, &RunOptions::default()).unwrap();
    let mirr = results.scalar_stats("plan_mirr").unwrap();
    assert_eq!(mirr.missing, 0);
    assert_eq!(mirr.summary.as_ref().unwrap().count, 500);
    let irr = results.scalar_stats("plan_irr").unwrap();
    assert!(irr.missing > 0, "some paths have no unique IRR");
    // Reinvesting at the WACC and at a higher rate: the MIRR rises with the reinvestment rate.
    let low = mean(&modes(&["valuation.reinvestment_rate=0.05"]), "plan_mirr");
    let high = mean(&modes(&["valuation.reinvestment_rate=0.20"]), "plan_mirr");
    assert!(high > low, "{low} {high}");
}

/// A payback that does not happen within the horizon is censored: missing, and counted.
#[test]
fn paybacks_are_censored_and_counted() {
    let scenario = Scenario::default_scenario().with_paths(400).unwrap();
    let results = simulate(&scenario, &RunOptions::default()).unwrap();
    for metric in ["plan_payback_quarters", "plan_discounted_payback_quarters"] {
        let stats = results.scalar_stats(metric).unwrap();
        let within = stats.summary.as_ref().map_or(0, |s| s.count);
        assert_eq!(within + stats.missing, 400, "{metric}");
        assert!(stats.missing > 0, "{metric}: some paths never pay back");
        let table = cloudcapex::output::summary_table(&results);
        assert!(
            table.contains(&format!(
                "within the horizon on {within} of 400 paths; on {} it does not",
                stats.missing
            )),
            "{table}"
        );
    }
}

/// With nothing of the plan spent before the start quarter (a plan starting the quarter
/// after it), stopping at the start quarter is never planning: the forward value equals the
/// value at announcement, bit for bit, and stopping is worth exactly nothing.
#[test]
fn forward_value_with_nothing_spent_is_the_announcement_value() {
    let overrides = [Override::parse("valuation.forward_value=true").unwrap()];
    let scenario = Scenario::load("tests/fixtures/plan_after_start.toml", &overrides).unwrap();
    let results = simulate(&scenario, &RunOptions::default()).unwrap();
    let npv = mean(&results, "plan_npv_rmb_bn");
    let forward = mean(&results, "plan_forward_npv_rmb_bn");
    assert_eq!(npv.to_bits(), forward.to_bits(), "{npv} against {forward}");
    assert_eq!(mean(&results, "plan_stop_now_npv_rmb_bn"), 0.0);
}

/// The stopped world is the plan world up to the start quarter: without a terminal value
/// (so values add up), the plan's NPV at announcement less that of stopping at the start
/// quarter is the forward value discounted from the start quarter to the announcement.
#[test]
fn continuing_and_stopping_add_up_to_the_plan() {
    let results = modes(&[
        "valuation.forward_value=true",
        "valuation.terminal_value=false",
    ]);
    let npv = mean(&results, "plan_npv_rmb_bn");
    let stop_now = mean(&results, "plan_stop_now_npv_rmb_bn");
    let forward = mean(&results, "plan_forward_npv_rmb_bn");
    // The plan starts four quarters before the start quarter (2025Q1, 2026Q1).
    let discount = 1.09f64.powf(-1.0);
    assert!(
        (npv - stop_now - discount * forward).abs() < 1e-9 * npv.abs().max(1.0),
        "{npv} - {stop_now} against {discount} x {forward}"
    );
    assert!(
        forward.abs() > 1.0,
        "continuing changes something: {forward}"
    );
}

/// The base with a review rule at `threshold` on utilization, and the forward value.
fn reviewed(threshold: &str, sets: &[&str]) -> Results {
    let mut overrides: Vec<Override> = [
        "valuation.forward_value=true",
        "valuation.review.signal=\"utilization\"",
        &format!("valuation.review.threshold={threshold}"),
    ]
    .iter()
    .map(|s| Override::parse(s).unwrap())
    .collect();
    overrides.extend(sets.iter().map(|s| Override::parse(s).unwrap()));
    let mut scenario = Scenario::load("scenarios/base.toml", &overrides).unwrap();
    if !sets.iter().any(|s| s.starts_with("simulation.paths")) {
        scenario = scenario.with_paths(600).unwrap();
    }
    simulate(&scenario, &RunOptions::default()).unwrap()
}

/// A review that can never fire (utilization is never below 0) is the committed plan on
/// every path: the value of flexibility is exactly 0 on each; one that always fires (below
/// 1, at the first review, the start quarter) is stopping there, path by path.
#[test]
fn review_rules_at_their_extremes_are_the_plan_and_stopping_now() {
    let never = reviewed("0.0", &[]);
    let value = never.scalar("plan_flexibility_value_rmb_bn").unwrap();
    assert_eq!((value.mean, value.sd, value.count), (0.0, 0.0, 600));
    assert_eq!(
        never
            .scalar_stats("plan_review_stopped")
            .unwrap()
            .summary
            .as_ref()
            .unwrap()
            .mean,
        0.0
    );
    let always = reviewed("1.0", &[]);
    assert_eq!(
        mean(&always, "plan_flexible_npv_rmb_bn").to_bits(),
        mean(&always, "plan_stop_now_npv_rmb_bn").to_bits()
    );
    assert_eq!(mean(&always, "plan_review_stopped"), 1.0);
    assert_eq!(mean(&always, "plan_review_stop_quarter"), 0.0);
    // In between, stopping where utilization disappoints is worth something, and the value
    // is paired path by path, so its standard error is small beside the NPV's.
    let between = reviewed("0.7", &[]);
    let value = between.scalar("plan_flexibility_value_rmb_bn").unwrap();
    assert!(value.mean > 0.0 && value.se < between.scalar("plan_npv_rmb_bn").unwrap().se);
}

/// The review never looks ahead: a run cut at any quarter after a review decides that
/// review identically (one path per seed, so the cut changes no draw before it).
#[test]
fn the_review_never_looks_ahead() {
    let mut stopped_somewhere = 0;
    for seed in 1..=30 {
        let decision = |horizon: u32| {
            let r = reviewed(
                "0.75",
                &[
                    "simulation.paths=1",
                    &format!("simulation.seed={seed}"),
                    &format!("time.horizon_quarters={horizon}"),
                ],
            );
            (
                mean(&r, "plan_review_stopped"),
                r.scalar("plan_review_stop_quarter").map(|s| s.mean),
            )
        };
        let whole = decision(40);
        for cut in [12, 20, 28] {
            assert_eq!(decision(cut), whole, "seed {seed}, cut at {cut}");
        }
        stopped_somewhere += usize::from(whole.0 > 0.0);
    }
    assert!(stopped_somewhere > 0, "the rule fires on some seeds");
}
