//! Build a scenario in code (no TOML), run it, and read the results from memory: the
//! example to copy when embedding the engine.
//!
//! `cargo run --release --example custom_scenario -- [--paths N]`

use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::scenario::{ScenarioBuilder, SegmentSpec};
use cloudcapex::{Distribution, Param};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let paths: u64 = match (args.next().as_deref(), args.next()) {
        (Some("--paths"), Some(n)) => n.parse()?,
        (None, _) => 5_000,
        _ => anyhow::bail!("usage: custom_scenario [--paths N]"),
    };

    // Start from the calibrated base case and change what this study is about: a smaller,
    // back-loaded plan, a more uncertain AI demand, and no geopolitical risk.
    let scenario = ScenarioBuilder::from_default("smaller_backloaded_plan")
        .paths(paths)
        .seed(7)
        .set("plan.total_rmb_bn", 300.0)
        .set("plan.profile", "back_loaded")
        .segment(
            "ai",
            SegmentSpec::new(
                12.5,
                Param::Random(Distribution::pert(0.5, 0.9, 1.6)?),
                0.06,
                6.0,
            )
            .with_shocks(0.5, 0.03, 0.03),
        )
        .set("risk.enabled", false)
        .build()?;

    let results = simulate(&scenario, &RunOptions::default())?;
    let npv = results
        .scalar_stats("plan_npv_rmb_bn")
        .expect("the scenario has a plan");
    let s = npv.summary.as_ref().expect("NPV is always defined");
    println!(
        "scenario {} ({} paths, sha256 {})",
        results.scenario,
        results.paths,
        &results.scenario_sha256[..12]
    );
    println!(
        "plan NPV: mean {:.1} ± {:.1} RMB bn; p5 {:.1}, median {:.1}, p95 {:.1}",
        s.mean, s.se, s.quantiles[1], s.quantiles[4], s.quantiles[7]
    );
    println!(
        "P(NPV < 0) = {:.3} ± {:.3}",
        npv.prob_negative, npv.prob_negative_se
    );
    let last = results.quarters - 1;
    let utilization = results
        .quarterly_summary("ai_utilization", last)
        .expect("defined");
    println!(
        "AI utilization in {}: mean {:.3}",
        results.calendar[last].label(),
        utilization.mean
    );
    Ok(())
}
