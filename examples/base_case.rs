//! Run the base scenario and print its revenue and margin fan by year and the plan's NPV
//! and IRR distribution; CSVs go to out/examples/base_case/base/.
//!
//! `cargo run --release --example base_case -- [--paths N] [--out DIR]`

use std::path::PathBuf;

use cloudcapex::Scenario;
use cloudcapex::batch::run_and_write;
use cloudcapex::runner::RunOptions;

fn main() -> anyhow::Result<()> {
    let (paths, out) = args(20_000, "out/examples/base_case")?;
    let scenario = Scenario::default_scenario().with_paths(paths)?;
    let finished = run_and_write(&[scenario], &RunOptions::default(), &out)?;
    let results = &finished[0].results;

    println!("Base scenario, {paths} paths: calendar Q4 of each year (p5 / median / p95)\n");
    println!(
        "{:<8} {:>26} {:>26}",
        "quarter", "revenue, RMB bn/quarter", "adj. EBITA margin"
    );
    for t in
        (0..results.quarters).filter(|t| *t == 0 || results.calendar[*t].quarter_of_year() == 4)
    {
        let revenue = results
            .quarterly_summary("revenue_total_rmb_bn", t)
            .expect("always defined");
        let margin = results
            .quarterly_summary("ebita_margin", t)
            .expect("always defined");
        println!(
            "{:<8} {:>8.1} {:>8.1} {:>8.1} {:>8.1}% {:>7.1}% {:>7.1}%",
            results.calendar[t].label(),
            revenue.quantiles[1],
            revenue.quantiles[4],
            revenue.quantiles[7],
            100.0 * margin.quantiles[1],
            100.0 * margin.quantiles[4],
            100.0 * margin.quantiles[7]
        );
    }

    println!("\nThe plan's return (valued at 2025Q1)");
    println!(
        "{:<16} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "mean", "se", "p5", "p25", "median", "p75", "p95"
    );
    for (label, metric, scale) in [
        ("NPV, RMB bn", "plan_npv_rmb_bn", 1.0),
        ("IRR, %/yr", "plan_irr", 100.0),
    ] {
        let s = results.scalar(metric).expect("plan scenarios report it");
        let q = |k: usize| s.quantiles[k] * scale;
        println!(
            "{label:<16} {:>9.1} {:>8.2} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            s.mean * scale,
            s.se * scale,
            q(1),
            q(3),
            q(4),
            q(5),
            q(7)
        );
    }
    let npv = results.scalar_stats("plan_npv_rmb_bn").expect("reported");
    let irr = results.scalar_stats("plan_irr").expect("reported");
    println!(
        "\nP(NPV < 0) = {:.3} ± {:.3}; IRR undefined (no or several roots) on {} of {paths} paths",
        npv.prob_negative, npv.prob_negative_se, irr.missing
    );
    println!("CSV outputs: {}", finished[0].folder.display());
    Ok(())
}

/// `--paths N` and `--out DIR`, with defaults.
fn args(default_paths: u64, default_out: &str) -> anyhow::Result<(u64, PathBuf)> {
    let mut paths = default_paths;
    let mut out = PathBuf::from(default_out);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--paths" => {
                paths = it
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--paths needs a number"))?
                    .parse()?
            }
            "--out" => {
                out = it
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--out needs a folder"))?
                    .into()
            }
            other => anyhow::bail!("unknown argument {other:?}; expected --paths N or --out DIR"),
        }
    }
    Ok((paths, out))
}
