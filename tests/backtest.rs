//! Backtests: a model scored on history it generated itself covers near its nominal rates;
//! the base scenario's figures on the reported history are printed for the docs.

use cloudcapex::Scenario;
use cloudcapex::analysis::backtest::{backtest, coverage};
use cloudcapex::history::History;
use cloudcapex::runner::{RunOptions, simulate};

fn one_segment(seed: u64, paths: u64, start: &str, horizon: u32) -> Scenario {
    let toml = format!(
        "[simulation]\nseed = {seed}\npaths = {paths}\n[time]\nstart_quarter = \"{start}\"\nhorizon_quarters = {horizon}\n\
         [revenue.seasonality]\nq1 = 0.94\nq2 = 0.96\nq3 = 1.04\nq4 = 1.06\n\
         [revenue.segments.total]\nstart_revenue_rmb_bn = 25\ninitial_growth = 0.2\n\
         terminal_growth = 0.2\ngrowth_half_life_quarters = 8\nshock_persistence = 0.5\n\
         persistent_shock_sd = 0.02\niid_shock_sd = 0.01\n"
    );
    Scenario::from_toml_str("synthetic", "synthetic.toml", &toml, &[]).unwrap()
}

/// Histories drawn from the model itself, scored by the same model from rolling origins:
/// the 90% bands cover 85–95% of the realized quarters, the 50% bands 42–58%.
#[test]
fn a_model_scored_on_its_own_history_covers_near_nominal() {
    let (mut in_50, mut in_90, mut count) = (0.0, 0.0, 0usize);
    for seed in 1..=40 {
        let generator = one_segment(1000 + seed, 1, "2020Q1", 12);
        let results = simulate(
            &generator,
            &RunOptions {
                paths_out: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let m = results
            .quarterly_metrics
            .iter()
            .position(|n| n == "revenue_total_rmb_bn")
            .unwrap();
        let mut csv = String::from("quarter_end,cloud_revenue_rmb_bn\n");
        for t in 0..results.quarters {
            csv.push_str(&format!(
                "{},{}\n",
                results.calendar[t].end_date(),
                results.kept_paths[0].values[m * results.quarters + t]
            ));
        }
        let history = History::parse("synthetic.csv", &csv).unwrap();
        let model = one_segment(seed, 1, "2020Q1", 12);
        let origins: Vec<_> = (0..4).map(|k| history.span().0.plus(2 * k)).collect();
        let rows = backtest(&model, &history, &origins, history.span().1, 500, false).unwrap();
        let c = coverage(&rows).unwrap();
        in_50 += c.in_50 * c.count as f64;
        in_90 += c.in_90 * c.count as f64;
        count += c.count;
    }
    let (in_50, in_90) = (in_50 / count as f64, in_90 / count as f64);
    assert!(
        (0.85..=0.95).contains(&in_90),
        "90% band covers {in_90} of {count}"
    );
    assert!(
        (0.42..=0.58).contains(&in_50),
        "50% band covers {in_50} of {count}"
    );
}

#[test]
fn the_base_scenario_backtested_from_2023q2() {
    let base = Scenario::load("scenarios/base.toml", &[]).unwrap();
    let history = History::parse("embedded", cloudcapex::history::EMBEDDED).unwrap();
    let to = history.span().1;
    let single = backtest(
        &base,
        &history,
        &["2023Q2".parse().unwrap()],
        to,
        4000,
        false,
    )
    .unwrap();
    let c = coverage(&single).unwrap();
    eprintln!("single origin 2023Q2: {c:?}");
    for r in &single {
        eprintln!(
            "{} {} realized {:.1} pit {:.3} p5 {:.1} p95 {:.1}",
            r.origin,
            r.quarter,
            r.realized_rmb_bn,
            r.pit,
            r.quantiles_rmb_bn[0],
            r.quantiles_rmb_bn[6]
        );
    }
    assert_eq!(single.len(), 11);
    let origins: Vec<_> = (0..11)
        .map(|k| "2023Q2".parse::<cloudcapex::Quarter>().unwrap().plus(k))
        .collect();
    let rolling = backtest(&base, &history, &origins, to, 2000, false).unwrap();
    eprintln!("rolling 2023Q2..2025Q4: {:?}", coverage(&rolling).unwrap());
    let one_ahead: Vec<_> = rolling.iter().filter(|r| r.quarters_ahead == 1).collect();
    eprintln!("one quarter ahead: {:?}", coverage(one_ahead).unwrap());
}
