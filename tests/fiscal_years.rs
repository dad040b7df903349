//! The analyst's tables: fiscal-year values that are the sums of their quarters, exactly,
//! path by path; the enterprise value against its closed form; the published figures set
//! beside the model (docs/model.md, "Fiscal years", "Enterprise value of the cloud business").

use cloudcapex::model::{Model, PathWorkspace};
use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::{Override, Scenario};

/// The quarterly row a fiscal-year metric of a world sums, or the two rows of a ratio.
fn rows_of(metric: &str, world: &str) -> (String, Option<String>) {
    let suffix = if world == "counterfactual" {
        "_counterfactual"
    } else {
        ""
    };
    let row = |name: &str| match name {
        "revenue_total" => format!("revenue_total{suffix}_rmb_bn"),
        "ai" if world == "counterfactual" => "revenue_ai_counterfactual_rmb_bn".to_string(),
        "ai" => "revenue_ai_rmb_bn".to_string(),
        _ => format!("{name}{suffix}_rmb_bn"),
    };
    match metric {
        "revenue_total_rmb_bn" => (row("revenue_total"), None),
        "adj_ebita_rmb_bn" => (row("ebita"), None),
        "ebita_margin" => (row("ebita"), Some(row("revenue_total"))),
        "capex_to_revenue" => (row("capex"), Some(row("revenue_total"))),
        "capex_rmb_bn" | "depreciation_rmb_bn" | "fcf_rmb_bn" => {
            (row(metric.trim_end_matches("_rmb_bn")), None)
        }
        segment => {
            let name = segment
                .strip_prefix("revenue_")
                .and_then(|s| s.strip_suffix("_rmb_bn"))
                .expect("a segment's revenue");
            if name == "ai" {
                (row("ai"), None)
            } else {
                // The other segments do not depend on the plan: the plan world's rows.
                (format!("revenue_{name}_rmb_bn"), None)
            }
        }
    }
}

/// Every fiscal-year value of every path equals its quarters summed in quarter order (the
/// ratios: the ratio of those sums; the incremental world: plan minus counterfactual), bit
/// for bit, on the base case with its risk, policy and plan.
#[test]
fn fiscal_years_are_their_quarters_summed_exactly() {
    let model = Model::new(&Scenario::default_scenario());
    let quarters = model.quarters();
    let names: Vec<&str> = model
        .quarterly_metrics()
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    let row = |ws: &PathWorkspace, name: &str| -> Vec<f64> {
        let m = names
            .iter()
            .position(|n| *n == name)
            .unwrap_or_else(|| panic!("{name}"));
        ws.quarterly[m * quarters..(m + 1) * quarters].to_vec()
    };
    let sum = |values: &[f64], first: usize| {
        let mut total = 0.0;
        for v in &values[first..first + 4] {
            total += v;
        }
        total
    };
    let mut streams = model.block_streams(0);
    let mut batch = vec![PathWorkspace::default(); 40];
    model.simulate_paths(&mut streams, &mut batch);
    let first_quarter = |year: i32| {
        (0..quarters)
            .find(|&t| {
                model.quarter(t).fiscal_year() == year && model.quarter(t).quarter_of_year() == 2
            })
            .unwrap()
    };
    let fiscal = model.fiscal_metrics();
    assert_eq!(
        fiscal.len(),
        10 * 3 * 10,
        "FY27-FY36, three worlds, ten metrics"
    );
    for ws in &batch {
        let values = &ws.scalars[model.first_fiscal_scalar()..];
        assert_eq!(values.len(), fiscal.len());
        let world_value = |year: i32, world: &str, metric: &str| {
            let first = first_quarter(year);
            let (numerator, denominator) = rows_of(metric, world);
            let top = sum(&row(ws, &numerator), first);
            match denominator {
                Some(d) => top / sum(&row(ws, &d), first),
                None => top,
            }
        };
        for (key, &value) in fiscal.iter().zip(values) {
            let expected = match key.world {
                "incremental" => {
                    world_value(key.fiscal_year, "plan", &key.metric)
                        - world_value(key.fiscal_year, "counterfactual", &key.metric)
                }
                world => world_value(key.fiscal_year, world, &key.metric),
            };
            assert_eq!(
                value.to_bits(),
                expected.to_bits(),
                "FY{} {} {}: {value} against {expected}",
                key.fiscal_year,
                key.world,
                key.metric
            );
        }
    }
}

/// At the modes without a terminal value, every path's enterprise value is the closed form
/// `Σ_{t=1..H} FCF(t) / (1 + r_q)^t` of its own quarterly free cash flows, and the forward
/// EV/Sales divides it by the four quarters after the start quarter.
#[test]
fn enterprise_value_is_the_discounted_free_cash_flow_at_the_modes() {
    let overrides = [Override::parse("valuation.terminal_value=false").unwrap()];
    let mut scenario = Scenario::load("tests/fixtures/policy_modes.toml", &overrides).unwrap();
    scenario = scenario.with_paths(2).unwrap();
    let results = simulate(
        &scenario,
        &RunOptions {
            paths_out: 1,
            ..RunOptions::default()
        },
    )
    .unwrap();
    let path = &results.kept_paths[0];
    let q = results.quarters;
    let row = |name: &str| {
        let m = results
            .quarterly_metrics
            .iter()
            .position(|n| n == name)
            .unwrap();
        &path.values[m * q..(m + 1) * q]
    };
    let rate = 1.09f64.powf(0.25) - 1.0;
    for (world, fcf, revenue) in [
        ("", "fcf_rmb_bn", "revenue_total_rmb_bn"),
        (
            "_counterfactual",
            "fcf_counterfactual_rmb_bn",
            "revenue_total_counterfactual_rmb_bn",
        ),
    ] {
        let flows = row(fcf);
        let closed_form: f64 = (1..q).map(|t| flows[t] / (1.0 + rate).powi(t as i32)).sum();
        let ev = results
            .scalar(&format!("cloud_ev{world}_rmb_bn"))
            .unwrap()
            .mean;
        assert!(
            (ev - closed_form).abs() < 1e-9 * closed_form.abs(),
            "{world}: {ev} against {closed_form}"
        );
        let forward: f64 = row(revenue)[1..5].iter().sum();
        let multiple = results
            .scalar(&format!("cloud_ev_to_forward_sales{world}"))
            .unwrap()
            .mean;
        assert!((multiple - ev / forward).abs() < 1e-12 * multiple.abs());
    }
}

/// The published figures stand beside the model's fiscal year: a figure of a simulated year
/// gets the model's statistics, one before the start quarter none; a range is judged by its
/// ends.
#[test]
fn consensus_rows_meet_the_models_fiscal_years() {
    let scenario = Scenario::default_scenario().with_paths(1000).unwrap();
    let results = simulate(&scenario, &RunOptions::default()).unwrap();
    let rows =
        cloudcapex::output::consensus::consensus_rows(&scenario.assumptions().consensus, &results);
    assert_eq!(rows.len(), scenario.assumptions().consensus.len());
    let by_name = |name: &str| rows.iter().find(|r| r.anchor.name == name).unwrap();
    let reported = by_name("fy26_revenue_reported");
    assert!(
        reported.model.is_none(),
        "FY26 ends at the start quarter: not simulated whole"
    );
    assert_eq!(reported.median_position(), None);
    let ms = by_name("ms_fy28_revenue");
    let model = ms.model.unwrap();
    assert_eq!((model.key.fiscal_year, model.key.world), (2028, "plan"));
    let median = model.stats.summary.as_ref().unwrap().quantiles[4];
    let expected = if median > 240.0 { "above" } else { "within" };
    assert_eq!(
        ms.median_position(),
        Some(if median < 240.0 { "below" } else { expected })
    );
    // CICC's floor has no upper end.
    assert_eq!(by_name("cicc_fy29_revenue").anchor.high, None);
    // In fiscal-year order.
    assert!(
        rows.windows(2)
            .all(|w| w[0].anchor.fiscal_year <= w[1].anchor.fiscal_year)
    );
}
