//! The figures a sell-side analyst checks a scenario with, per path and by Alibaba fiscal
//! year (ending March): the plan's NPV (mean, median, P(< 0), without the terminal value),
//! the plan window's capex (2025Q1-2027Q4), revenue CAGR FY26 -> FY29 from the reported
//! FY26 (mean, p10, p50, p90), EBITA margins and capex/revenue by fiscal year, AI market
//! share and unmet share at the horizon.
//!
//! `cargo run --release --example analyst_figures -- [SCENARIO] [--paths N] [--set KEY=VALUE]...`

use cloudcapex::analysis::fiscal_backtest::{fiscal_label, fiscal_year};
use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::{Override, Scenario};

/// FY26 revenue as filed (data/README.md), the base of the three-year CAGR.
const FY26_REVENUE_RMB_BN: f64 = 158.132;

fn main() -> anyhow::Result<()> {
    let mut file = "scenarios/base.toml".to_string();
    let (mut paths, mut sets) = (20_000u64, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--paths" => paths = args.next().unwrap_or_default().parse()?,
            "--set" => sets.push(Override::parse(&args.next().unwrap_or_default())?),
            _ => file = arg,
        }
    }
    let scenario = Scenario::load(&file, &sets)?.with_paths(paths)?;
    let results = simulate(
        &scenario,
        &RunOptions {
            paths_out: paths,
            ..Default::default()
        },
    )?;
    let q = results.quarters;
    let index = |name: &str| results.quarterly_metrics.iter().position(|m| m == name);
    let column = |name: &str, path: usize, t: usize| {
        index(name).map_or(f64::NAN, |m| results.kept_paths[path].values[m * q + t])
    };
    let quantile = |values: &mut Vec<f64>, p: f64| {
        values.retain(|v| v.is_finite());
        values.sort_by(f64::total_cmp);
        cloudcapex::stats::scoring::quantile(values, p)
    };
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    println!(
        "{} ({}), {paths} paths, seed {}, sha256 {}",
        scenario.name(),
        file,
        scenario.simulation().seed,
        &scenario.sha256()[..12]
    );

    let npv = results.scalar_stats("plan_npv_rmb_bn");
    let excl = results.scalar_stats("plan_npv_excl_terminal_rmb_bn");
    if let (Some(npv), Some(excl)) = (npv, excl) {
        let (s, e) = (
            npv.summary.as_ref().unwrap(),
            excl.summary.as_ref().unwrap(),
        );
        println!(
            "plan NPV: mean {:.1} ± {:.1}, median {:.1}, P(< 0) {:.3} ± {:.3}; without terminal value: mean {:.1}, P(< 0) {:.3}",
            s.mean,
            s.se,
            s.quantiles[4],
            npv.prob_negative,
            npv.prob_negative_se,
            e.mean,
            excl.prob_negative
        );
    }

    // Plan-window capex: the reported 2025 quarters (before the start quarter) plus the
    // plan world's projected quarters of the window.
    if let Some(plan) = scenario.assumptions().economics.as_ref().map(|e| &e.plan) {
        let (first, last) = (
            plan.start_quarter,
            plan.start_quarter.plus(plan.length_quarters - 1),
        );
        let history: f64 = plan
            .actual_spend_rmb_bn
            .iter()
            .filter_map(|(quarter, v)| Some((quarter.parse::<cloudcapex::Quarter>().ok()?, v)))
            .filter(|(quarter, _)| *quarter >= first && *quarter < results.calendar[0])
            .map(|(_, v)| v)
            .sum();
        let mut window: Vec<f64> = (0..results.kept_paths.len())
            .map(|p| {
                history
                    + (0..q)
                        .filter(|t| results.calendar[*t] <= last)
                        .map(|t| column("capex_rmb_bn", p, t))
                        .sum::<f64>()
            })
            .collect();
        println!(
            "plan-window capex {first}-{last}: mean {:.1}, p5 {:.1}, p95 {:.1} (reported before the start quarter: {history:.1})",
            mean(&window),
            quantile(&mut window, 0.05),
            quantile(&mut window, 0.95)
        );
    }

    // Fiscal years wholly projected.
    let years: Vec<(i32, usize)> = (1..q.saturating_sub(3))
        .filter(|t| results.calendar[*t].quarter_of_year() == 2)
        .map(|t| (fiscal_year(results.calendar[t]), t))
        .collect();
    let sum =
        |name: &str, path: usize, t: usize| (t..t + 4).map(|k| column(name, path, k)).sum::<f64>();
    let n = results.kept_paths.len();
    if let Some(&(_, t29)) = years.iter().find(|(y, _)| *y == 2029) {
        let mut cagr: Vec<f64> = (0..n)
            .map(|p| {
                (sum("revenue_total_rmb_bn", p, t29) / FY26_REVENUE_RMB_BN).powf(1.0 / 3.0) - 1.0
            })
            .collect();
        println!(
            "revenue CAGR FY26 (filed 158.1) -> FY29: mean {:.1}%, p10 {:.1}%, p50 {:.1}%, p90 {:.1}%",
            100.0 * mean(&cagr),
            100.0 * quantile(&mut cagr.clone(), 0.10),
            100.0 * quantile(&mut cagr.clone(), 0.50),
            100.0 * quantile(&mut cagr, 0.90)
        );
    }
    println!(
        "fiscal year: revenue, AI revenue, EBITA margin, capex/revenue (plan; counterfactual); means of sums"
    );
    for &(year, t) in &years {
        let total = |name: &str| mean(&(0..n).map(|p| sum(name, p, t)).collect::<Vec<f64>>());
        let revenue = total("revenue_total_rmb_bn");
        let revenue_cf = total("revenue_total_counterfactual_rmb_bn");
        println!(
            "  {}: revenue {:.1} (AI {:.1}), margin {:.1}%, capex/revenue {:.0}% ({:.0}%)",
            fiscal_label(year),
            revenue,
            total("revenue_ai_rmb_bn"),
            100.0 * total("ebita_rmb_bn") / revenue,
            100.0 * total("capex_rmb_bn") / revenue,
            100.0 * total("capex_counterfactual_rmb_bn") / revenue_cf
        );
    }
    let horizon = q - 1;
    let at_horizon = |name: &str| {
        results
            .quarterly_summary(name, horizon)
            .map_or(f64::NAN, |s| s.mean)
    };
    println!(
        "at {}: AI market share {:.1}% (counterfactual {:.1}%), unmet share of AI demand {:.1}% ({:.1}%), retention {:.2}",
        results.calendar[horizon].label(),
        100.0 * at_horizon("ai_market_share"),
        100.0 * at_horizon("ai_market_share_counterfactual"),
        100.0 * at_horizon("ai_unmet_share"),
        100.0 * at_horizon("ai_unmet_share_counterfactual"),
        at_horizon("ai_customer_retention")
    );
    let first_quarters: Vec<String> = (0..4.min(q))
        .map(|t| {
            let m = |name: &str| {
                results
                    .quarterly_summary(name, t)
                    .map_or(f64::NAN, |s| s.mean)
            };
            format!(
                "{} revenue {:.2} AI {:.2} margin {:.1}%",
                results.calendar[t].label(),
                m("revenue_total_rmb_bn"),
                m("revenue_ai_rmb_bn"),
                100.0 * m("ebita_margin")
            )
        })
        .collect();
    println!("first quarters (means): {}", first_quarters.join("; "));
    Ok(())
}
