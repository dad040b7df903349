//! Run every scenario in scenarios/ in parallel (same seed: common random numbers) and
//! print them sorted by median plan NPV, with p5/p95 and P(NPV < 0).
//!
//! `cargo run --release --example compare_scenarios -- [--paths N] [--out DIR] [--write-readme]`
//!
//! `--write-readme` also replaces the table in scenarios/README.md (between its
//! `npv-table` markers), written to a temporary file and renamed into place.

use std::path::{Path, PathBuf};

use cloudcapex::Scenario;
use cloudcapex::analysis::compare;
use cloudcapex::batch::run_and_write;
use cloudcapex::runner::RunOptions;

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");

fn main() -> anyhow::Result<()> {
    let mut paths = 20_000u64;
    let mut out = PathBuf::from("out/examples/compare_scenarios");
    let mut write_readme = false;
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
            "--write-readme" => write_readme = true,
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }

    let mut files: Vec<PathBuf> = std::fs::read_dir(SCENARIOS)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    let scenarios = files
        .iter()
        .map(|f| Ok(Scenario::load(f, &[])?.with_paths(paths)?))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let finished = run_and_write(&scenarios, &RunOptions::default(), &out)?;
    // Paired differences against the base case (common random numbers: compare runs every
    // scenario on the first one's seed and path count).
    let base = files
        .iter()
        .position(|f| f.file_stem().is_some_and(|s| s == "base"))
        .ok_or_else(|| anyhow::anyhow!("scenarios/base.toml is missing"))?;
    let mut ordered = vec![scenarios[base].clone()];
    ordered.extend(
        scenarios
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != base)
            .map(|(_, s)| s.clone()),
    );
    let paired = compare(&ordered)?;
    let versus_base = |name: &str| {
        paired
            .rows
            .iter()
            .find(|r| r.metric == "plan_npv_rmb_bn" && r.scenario == name)
            .map(|r| (r.difference, r.difference_se))
    };

    let mut rows: Vec<Row> = finished
        .iter()
        .map(|f| {
            let npv = f
                .results
                .scalar_stats("plan_npv_rmb_bn")
                .expect("every scenario has a plan");
            let s = npv.summary.as_ref().expect("NPV is always defined");
            let without = f
                .results
                .scalar("plan_npv_excl_terminal_rmb_bn")
                .map_or(f64::NAN, |s| s.mean);
            let (difference, difference_se) =
                versus_base(&f.results.scenario).unwrap_or((f64::NAN, f64::NAN));
            Row {
                without_terminal: without,
                difference,
                difference_se,
                name: f.results.scenario.clone(),
                median: s.quantiles[4],
                p5: s.quantiles[1],
                p95: s.quantiles[7],
                mean: s.mean,
                se: s.se,
                p_negative: npv.prob_negative,
                p_negative_se: npv.prob_negative_se,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.median.total_cmp(&a.median));

    let mut table = format!(
        "Plan NPV, RMB bn at 2025Q1, {paths} paths per scenario (seed of each file; \
         `cargo run --release --example compare_scenarios -- --paths {paths} --write-readme`)\n\n\
         | scenario | median | p5 | p95 | mean ± se | P(NPV < 0) | mean without terminal value | mean vs base, paired |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for r in &rows {
        let versus = if r.difference_se > 0.0 {
            format!("{:+.1} ± {:.1}", r.difference, r.difference_se)
        } else {
            "".to_string()
        };
        table.push_str(&format!(
            "| `{}` | {:.0} | {:.0} | {:.0} | {:.0} ± {:.1} | {:.3} ± {:.3} | {:.0} | {} |\n",
            r.name,
            r.median,
            r.p5,
            r.p95,
            r.mean,
            r.se,
            r.p_negative,
            r.p_negative_se,
            r.without_terminal,
            versus
        ));
    }
    println!("{table}");
    if write_readme {
        replace_table(&Path::new(SCENARIOS).join("README.md"), &table)?;
        println!("updated scenarios/README.md");
    }
    Ok(())
}

/// One scenario's line of the table.
struct Row {
    without_terminal: f64,
    difference: f64,
    difference_se: f64,
    name: String,
    median: f64,
    p5: f64,
    p95: f64,
    mean: f64,
    se: f64,
    p_negative: f64,
    p_negative_se: f64,
}

/// Replaces the text between the README's markers, atomically.
fn replace_table(readme: &Path, table: &str) -> anyhow::Result<()> {
    let (start, end) = ("<!-- npv-table:start -->", "<!-- npv-table:end -->");
    let text = std::fs::read_to_string(readme)?;
    let (Some(a), Some(b)) = (text.find(start), text.find(end)) else {
        anyhow::bail!("{} lacks the {start} / {end} markers", readme.display());
    };
    let updated = format!("{}{start}\n{table}{}", &text[..a], &text[b..]);
    let dir = readme.parent().expect("a file has a folder");
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, updated.as_bytes())?;
    temp.persist(readme)?;
    Ok(())
}
