//! Sweep the yearly probability of an export-control tightening from 0 to 99% and show
//! how the plan's P(NPV < 0) responds. A yearly probability `p` (at least one tightening in
//! a year) is the quarterly hazard `1 − (1 − p)^(1/4)`; 100% a year would be a hazard of 1,
//! a tightening every quarter, so the sweep stops at 99%. Every point uses the same seed,
//! so the differences come from the hazard, not from noise (common random numbers).
//!
//! `cargo run --release --example export_control_stress -- [--paths N] [--out DIR]`

use std::path::PathBuf;

use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::{Override, Scenario};

fn main() -> anyhow::Result<()> {
    let mut paths = 10_000u64;
    let mut out = PathBuf::from("out/examples/export_control_stress");
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
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }

    println!(
        "{:>14} {:>14} {:>18} {:>12}",
        "P(tighten)/yr", "hazard/qtr", "P(NPV<0) ± se", "mean NPV"
    );
    let mut csv = String::from(
        "annual_probability,quarterly_hazard,prob_npv_negative,prob_npv_negative_se,npv_mean_rmb_bn,npv_se_rmb_bn\n",
    );
    for annual in [
        0.0f64, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99,
    ] {
        let quarterly = 1.0 - (1.0 - annual).powf(0.25);
        // The same hazard in every regime: the sweep isolates the event's frequency.
        let set = Override::parse(&format!(
            "risk.events.export_controls_tighten.hazard={{ calm = {quarterly}, tension = {quarterly}, crisis = {quarterly} }}"
        ))?;
        let scenario = Scenario::default_with(&[set])?.with_paths(paths)?;
        let results = simulate(&scenario, &RunOptions::default())?;
        let npv = results.scalar_stats("plan_npv_rmb_bn").expect("reported");
        let s = npv.summary.as_ref().expect("defined");
        println!(
            "{:>13.0}% {:>14.4} {:>10.3} ± {:.3} {:>12.1}",
            100.0 * annual,
            quarterly,
            npv.prob_negative,
            npv.prob_negative_se,
            s.mean
        );
        csv.push_str(&format!(
            "{annual},{quarterly},{},{},{},{}\n",
            npv.prob_negative, npv.prob_negative_se, s.mean, s.se
        ));
    }
    let written = cloudcapex::output::write_atomically(&out.join("sweep.csv"), |w| {
        w.write_all(csv.as_bytes())
    })?;
    println!("\nwritten: {}", written.display());
    Ok(())
}
