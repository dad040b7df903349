//! Backtests: a model scored on history it generated itself covers near its nominal rates;
//! the base scenario's figures on the reported history are printed for the docs.

mod common;

use cloudcapex::Scenario;
use cloudcapex::analysis::backtest::{backtest, coverage};
use cloudcapex::history::History;

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
        let history = common::history_from_first_path(&generator);
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

fn cloudcapex() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("cloudcapex").unwrap()
}

/// The command end to end: tidy CSVs with provenance, byte-identical on 1 and 2 threads,
/// one chart per origin with --report (valid SVG), stale charts removed.
#[test]
fn backtest_writes_scored_rows_and_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &std::path::Path, threads: &str, extra: &[&str]| {
        cloudcapex()
            .args([
                "backtest",
                "scenarios/base.toml",
                "--from",
                "2025Q1",
                "--paths",
                "300",
            ])
            .args(["--threads", threads, "--quiet", "--out"])
            .arg(out)
            .args(extra)
            .assert()
            .success();
        out.join("backtest_base")
    };
    let one = run(&dir.path().join("one"), "1", &["--rolling", "--report"]);
    let two = run(&dir.path().join("two"), "2", &["--rolling", "--report"]);
    for file in [
        "backtest.csv",
        "coverage.csv",
        "fan_2025Q1.svg",
        "fan_2025Q4.svg",
    ] {
        assert_eq!(
            std::fs::read(one.join(file)).unwrap(),
            std::fs::read(two.join(file)).unwrap(),
            "{file} differs between thread counts"
        );
    }
    let rows = std::fs::read_to_string(one.join("backtest.csv")).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    // Origins 2025Q1..2025Q4, each scored on the quarters after it to 2026Q1: 4+3+2+1.
    assert_eq!(lines.len(), 1 + 10, "{rows}");
    assert!(
        lines[0]
            .starts_with("scenario,origin,quarter,quarter_end,quarters_ahead,realized_rmb_bn,pit")
    );
    assert!(
        lines[1].starts_with("base,2025Q1,2025Q2,2025-06-30,1,33.398,"),
        "{}",
        lines[1]
    );
    let svg = std::fs::read_to_string(one.join("fan_2025Q1.svg")).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
    // A single origin afterwards: the rolling run's other charts are gone.
    let again = run(&dir.path().join("one"), "1", &["--report"]);
    let charts: Vec<_> = std::fs::read_dir(&again)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    assert_eq!(charts, vec!["fan_2025Q1.svg".to_string()]);
}

/// `--fiscal-years`: fiscal_backtest.csv beside the revenue backtest, one row per fiscal
/// year and metric with the filings beside the model, byte-identical on 1 and 2 threads.
#[test]
fn backtest_fiscal_years_writes_the_hindcast_by_fiscal_year() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(threads);
        cloudcapex()
            .args([
                "backtest",
                "scenarios/base.toml",
                "--from",
                "2025Q1",
                "--fiscal-years",
            ])
            .args(["--paths", "500", "--threads", threads, "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        std::fs::read_to_string(out.join("backtest_base/fiscal_backtest.csv")).unwrap()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(
        lines[0],
        "scenario,origin,fiscal_year,metric,reported,reported_source,mean,se,p5,p50,p95,pit,paths,\
         seed,scenario_sha256,cloudcapex_version"
    );
    // FY26 (2025Q2 to 2026Q1) is the one whole fiscal year after 2025Q1: five metrics.
    assert_eq!(lines.len(), 6, "{one}");
    assert!(lines[1].starts_with("base,2025Q1,FY26,revenue_rmb_bn,158.122,\"quarters\","));
    assert!(lines[2].starts_with("base,2025Q1,FY26,adj_ebita_rmb_bn,14.265,\"FY26 filings"));
    assert!(lines[5].starts_with("base,2025Q1,FY26,depreciation_rmb_bn,,\"\","));
}

/// Origins outside the history, too many paths and a refit without enough history are
/// refused before any work, and nothing is written.
#[test]
fn backtest_refuses_bad_windows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (args, expected) in [
        (
            vec!["--from", "2026Q1"],
            "the origin must be a reported quarter before",
        ),
        (
            vec!["--from", "2019Q1"],
            "the origin must be a reported quarter before",
        ),
        (
            vec!["--from", "2025Q1", "--to", "2027Q1"],
            "the origin must be a reported quarter before",
        ),
        (
            vec!["--from", "2025Q1", "--paths", "1000000"],
            "at most 200000",
        ),
        (
            vec!["--from", "2024Q1", "--recalibrate"],
            "at least 8 are needed",
        ),
        (
            vec!["--from", "2025Q1", "--fiscal-years", "--rolling"],
            "--fiscal-years hindcasts the model from one origin",
        ),
    ] {
        let assert = cloudcapex()
            .args(["backtest", "scenarios/base.toml"])
            .args(&args)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!out.join("backtest_base").exists(), "{args:?} wrote output");
    }
}

/// Rows for quarters not yet reported (NA) are skipped as origins and as scored quarters;
/// a window with nothing to score is refused; a one-quarter fan opens from the origin.
#[test]
fn backtest_skips_unreported_quarters_and_refuses_an_empty_score() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string("data/alibaba_cloud_quarterly.csv").unwrap();
    let data = dir.path().join("h.csv");
    std::fs::write(
        &data,
        format!(
            "{shipped}2026-06-30,FY27Q1,NA,NA,NA,NA,NA,,\n2026-09-30,FY27Q2,NA,NA,NA,NA,NA,,\n"
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    cloudcapex()
        .args([
            "backtest",
            "scenarios/base.toml",
            "--from",
            "2025Q3",
            "--rolling",
            "--report",
        ])
        .args(["--paths", "200", "--quiet", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let rows = std::fs::read_to_string(out.join("backtest_base/backtest.csv")).unwrap();
    assert_eq!(rows.lines().count(), 1 + 2 + 1, "{rows}");
    let svg = std::fs::read_to_string(out.join("backtest_base/fan_2025Q4.svg")).unwrap();
    let polygon = svg.split("<polygon").nth(1).unwrap();
    let points = polygon
        .split("points=\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .unwrap();
    assert!(
        points.split_whitespace().count() >= 4,
        "a one-quarter fan has no area: {points}"
    );

    let assert = cloudcapex()
        .args([
            "backtest",
            "scenarios/base.toml",
            "--from",
            "2026Q1",
            "--to",
            "2026Q2",
        ])
        .args(["--paths", "200", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("empty"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("no reported revenue to score"), "{stderr}");
}

/// The fiscal-year hindcast scored on histories the model generated itself: the base as
/// of 2025Q1 (its economics, plan and risk) run to 2027Q1 on one seed gives the forecast;
/// each path of a run on another seed is written out as a reported history (revenue,
/// adjusted EBITA, capex by quarter) and its FY26 and FY27 figures, summed from those
/// quarters, are scored against the forecast. Over 300 histories the 90% band covers
/// 0.90 and the 50% band 0.50 of them, within 4 binomial standard errors, for every
/// metric.
#[test]
fn the_fiscal_hindcast_covers_its_own_fiscal_years_at_nominal_rates() {
    use cloudcapex::Quarter;
    use cloudcapex::analysis::fiscal_backtest::{
        economics_as_of, fiscal_year_values, reported_fiscal, score_fiscal,
    };
    use cloudcapex::runner::{RunOptions, simulate};
    let base = Scenario::load("scenarios/base.toml", &[]).unwrap();
    let reported = History::parse("embedded", cloudcapex::history::EMBEDDED).unwrap();
    let origin: Quarter = "2025Q1".parse().unwrap();
    let as_of = economics_as_of(&base, &reported, origin, "2027Q1".parse().unwrap(), 4000).unwrap();
    let keep = |s: Scenario, paths: u64| {
        simulate(
            &s,
            &RunOptions {
                paths_out: paths,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let forecast = fiscal_year_values(&keep(as_of.clone().with_seed(1), 4000));
    let histories = 1000;
    let generated = keep(as_of.with_seed(3).with_paths(histories).unwrap(), histories);
    let q = generated.quarters;
    let column = |name: &str| {
        generated
            .quarterly_metrics
            .iter()
            .position(|m| m == name)
            .unwrap()
    };
    let (revenue, ebita, capex) = (
        column("revenue_total_rmb_bn"),
        column("ebita_rmb_bn"),
        column("capex_rmb_bn"),
    );
    let mut inside = std::collections::BTreeMap::<&str, (f64, f64)>::new();
    for path in &generated.kept_paths {
        let mut csv =
            String::from("quarter_end,cloud_revenue_rmb_bn,adj_ebita_rmb_bn,group_capex_rmb_bn\n");
        for t in 0..q {
            let v = |m: usize| path.values[m * q + t];
            csv.push_str(&format!(
                "{},{},{},{}\n",
                generated.calendar[t].end_date(),
                v(revenue),
                v(ebita),
                v(capex)
            ));
        }
        let history = History::parse("generated", &csv).unwrap();
        for (year, metric, values) in &forecast {
            // A point forecast (the plan's capex, on its schedule) has no band to cover.
            let spread = values.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v))
                - values.iter().fold(f64::INFINITY, |m, v| m.min(*v));
            if spread < 1e-9 {
                continue;
            }
            let Some(figure) = reported_fiscal(&history, &[], *year, metric) else {
                assert_eq!(*metric, "depreciation_rmb_bn");
                continue;
            };
            assert_eq!(figure.1, "quarters");
            let pit = score_fiscal(*year, metric, values, Some(figure))
                .pit
                .unwrap();
            let cell = inside.entry(metric).or_default();
            cell.0 += f64::from(u8::from((0.05..=0.95).contains(&pit)));
            cell.1 += f64::from(u8::from((0.25..=0.75).contains(&pit)));
        }
    }
    // Two fiscal years a history, correlated: the SEs are taken on one year's count.
    let n = histories as f64;
    for (metric, (in_90, in_50)) in inside {
        let (in_90, in_50) = (in_90 / (2.0 * n), in_50 / (2.0 * n));
        assert!(
            (in_90 - 0.9).abs() <= 4.0 * (0.09 / n).sqrt(),
            "{metric}: 90% band held {in_90}"
        );
        assert!(
            (in_50 - 0.5).abs() <= 4.0 * (0.25 / n).sqrt(),
            "{metric}: 50% band held {in_50}"
        );
    }
}
