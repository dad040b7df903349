//! Run the default scenario with one assumption changed, entirely from Rust, and read the
//! results from memory: `cargo run --release --example revenue_fan`.

use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::{Override, Scenario};

fn main() -> anyhow::Result<()> {
    // The embedded scenarios/base.toml, with AI growth fading faster than in the base case.
    let faster_fade = Override::parse("revenue.segments.ai.growth_half_life_quarters=4")?;
    let scenario = Scenario::default_with(&[faster_fade])?.with_paths(20_000)?;
    let results = simulate(&scenario, &RunOptions::default())?;

    println!(
        "{:<8} {:>12} {:>12} {:>12}",
        "quarter", "p5", "median", "p95"
    );
    for t in (0..results.quarters).step_by(4) {
        let s = results
            .quarterly_summary("revenue_total_rmb_bn", t)
            .expect("revenue is defined every quarter");
        println!(
            "{:<8} {:>12.1} {:>12.1} {:>12.1}",
            results.calendar[t].label(),
            s.quantiles[1],
            s.quantiles[4],
            s.quantiles[7]
        );
    }
    let cagr = results
        .scalar("revenue_total_cagr")
        .expect("always reported");
    println!(
        "\nrevenue CAGR: {:.2}% ± {:.2}% (MC standard error)",
        100.0 * cagr.mean,
        100.0 * cagr.se
    );
    Ok(())
}
