//! `[correlation]`: rank correlations between uncertain assumptions by a Gaussian copula.
//! The achieved Spearman correlation is the target within sampling error, each marginal
//! is unchanged (Kolmogorov–Smirnov), common random numbers hold across scenarios that
//! share the table, and an impossible matrix is refused with the nearest valid one.

use assert_cmd::Command;
use cloudcapex::Scenario;
use cloudcapex::model::Model;

const PATHS: u64 = 20_000;

fn scenario(extra: &str) -> Scenario {
    let text = format!(
        "[simulation]\nseed = 7\npaths = {PATHS}\n\
         [revenue.segments.a]\nstart_revenue_rmb_bn = 10\n\
         initial_growth = {{ dist = \"uniform\", min = 0.1, max = 0.3 }}\n\
         terminal_growth = {{ dist = \"triangular\", min = 0.02, mode = 0.04, max = 0.06 }}\n\
         growth_half_life_quarters = {{ dist = \"pert\", min = 4, mode = 8, max = 16 }}\n\
         {extra}"
    );
    Scenario::from_toml_str("c", "c.toml", &text, &[]).unwrap()
}

fn column(model: &Model, draws: &[Vec<f64>], key: &str) -> Vec<f64> {
    let k = model
        .per_path_assumptions()
        .iter()
        .position(|a| a == key)
        .unwrap();
    draws.iter().map(|row| row[k]).collect()
}

fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut rank = vec![0.0; values.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as f64;
    }
    rank
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = ra
        .iter()
        .zip(&rb)
        .map(|(x, y)| (x - mean) * (y - mean))
        .sum();
    let var: f64 = ra.iter().map(|x| (x - mean).powi(2)).sum();
    cov / var
}

/// Largest gap between the sample's empirical CDF and `cdf`.
fn kolmogorov_smirnov(sample: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut sorted = sample.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let f = cdf(*x);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max)
}

#[test]
fn achieved_rank_correlations_match_and_marginals_hold() {
    let correlated = scenario(
        "[correlation.\"revenue.segments.a.initial_growth\"]\n\
         \"revenue.segments.a.terminal_growth\" = 0.7\n\
         \"revenue.segments.a.growth_half_life_quarters\" = -0.4\n",
    );
    let model = Model::new(&correlated);
    let draws = model.parameter_draws(PATHS);
    let g0 = column(&model, &draws, "revenue.segments.a.initial_growth");
    let gt = column(&model, &draws, "revenue.segments.a.terminal_growth");
    let half = column(
        &model,
        &draws,
        "revenue.segments.a.growth_half_life_quarters",
    );
    // Sampling SE of a Spearman correlation ≈ (1 − ρ²)/√n (a normal approximation).
    for (a, b, target) in [(&g0, &gt, 0.7), (&g0, &half, -0.4), (&gt, &half, 0.0)] {
        let se = (1.0 - target * target) / (PATHS as f64).sqrt();
        let achieved = spearman(a, b);
        assert!(
            (achieved - target).abs() < 4.0 * se + 0.01 * (target != 0.0) as u8 as f64,
            "achieved {achieved}, target {target}"
        );
    }
    // Kolmogorov–Smirnov against each marginal: at the 0.1% level, D < 1.95/√n.
    let bound = 1.95 / (PATHS as f64).sqrt();
    let uniform = |x: f64| ((x - 0.1) / 0.2).clamp(0.0, 1.0);
    let triangular = |x: f64| {
        let (a, c, b) = (0.02, 0.04, 0.06);
        if x <= c {
            ((x - a).max(0.0)).powi(2) / ((b - a) * (c - a))
        } else {
            1.0 - ((b - x).max(0.0)).powi(2) / ((b - a) * (b - c))
        }
    };
    assert!(kolmogorov_smirnov(&g0, uniform) < bound);
    assert!(kolmogorov_smirnov(&gt, triangular) < bound);
    // Without the table the draws are independent (and the hash differs).
    let independent = scenario("");
    let free = Model::new(&independent).parameter_draws(PATHS);
    let m = Model::new(&independent);
    let rho = spearman(
        &column(&m, &free, "revenue.segments.a.initial_growth"),
        &column(&m, &free, "revenue.segments.a.terminal_growth"),
    );
    assert!(rho.abs() < 4.0 / (PATHS as f64).sqrt(), "{rho}");
    assert_ne!(independent.sha256(), correlated.sha256());
}

/// Two scenarios that share the table and differ elsewhere draw the same correlated values
/// path by path (common random numbers).
#[test]
fn scenarios_sharing_the_table_share_the_draws() {
    let table = "[correlation.\"revenue.segments.a.initial_growth\"]\n\
                 \"revenue.segments.a.terminal_growth\" = 0.5\n";
    let one = scenario(table);
    let other = scenario(&format!(
        "{table}[revenue.segments.b]\nstart_revenue_rmb_bn = 5\ninitial_growth = 0.2\n\
         terminal_growth = 0.03\ngrowth_half_life_quarters = {{ dist = \"uniform\", min = 4, max = 12 }}\n"
    ));
    let (m1, m2) = (Model::new(&one), Model::new(&other));
    let (d1, d2) = (m1.parameter_draws(2048), m2.parameter_draws(2048));
    for key in [
        "revenue.segments.a.initial_growth",
        "revenue.segments.a.terminal_growth",
    ] {
        assert_eq!(column(&m1, &d1, key), column(&m2, &d2, key), "{key}");
    }
}

/// A table that cannot hold is refused with the nearest valid rank correlations; a key
/// that is not a written assumption is refused by name; a fixed one is warned about.
#[test]
fn impossible_or_unknown_correlations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize("scenarios/base.toml").unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("extends = {:?}\n{body}", base.display().to_string()),
        )
        .unwrap();
        path
    };
    let validate = |path: &std::path::Path| {
        Command::cargo_bin("cloudcapex")
            .unwrap()
            .arg("validate")
            .arg(path)
            .output()
            .unwrap()
    };
    let impossible = validate(&write(
        "impossible.toml",
        "[correlation.\"capacity.hardware_cost_decline\"]\n\
         \"valuation.discount_rate\" = 0.9\n\"capacity.start_unmet_demand_share\" = 0.9\n\
         [correlation.\"valuation.discount_rate\"]\n\"capacity.start_unmet_demand_share\" = -0.9\n",
    ));
    assert_eq!(impossible.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&impossible.stderr);
    assert!(
        stderr.contains("cannot hold together")
            && stderr.contains("nearest valid rank correlations"),
        "{stderr}"
    );
    assert!(
        stderr.contains("# given 0.9") && stderr.contains("# given -0.9"),
        "{stderr}"
    );
    // The suggestion, pasted as printed, is accepted.
    let block = stderr.split("in place of the table:\n").nth(1).unwrap();
    let pasted: String = block
        .lines()
        .take_while(|l| !l.starts_with("Nothing"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(pasted.matches(" = ").count(), 3, "{stderr}");
    let accepted = validate(&write("pasted.toml", &pasted));
    assert_eq!(
        accepted.status.code(),
        Some(0),
        "{pasted}\n{}",
        String::from_utf8_lossy(&accepted.stderr)
    );

    let unknown = validate(&write(
        "unknown.toml",
        "[correlation.\"capacity.hardware_cost_decline\"]\n\"valuation.discount_rat\" = 0.3\n",
    ));
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("line 3")
            && stderr.contains("`valuation.discount_rat` is not an assumption"),
        "{stderr}"
    );

    let severity = validate(&write(
        "severity.toml",
        "[correlation.\"capacity.hardware_cost_decline\"]\n\"risk.events.price_war.severity\" = 0.3\n",
    ));
    assert_eq!(severity.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&severity.stderr);
    assert!(
        stderr.contains("is drawn at each firing of its event"),
        "{stderr}"
    );

    let fixed = validate(&write(
        "fixed.toml",
        "[correlation.\"capacity.hardware_cost_decline\"]\n\"costs.tax_rate\" = 0.3\n",
    ));
    assert_eq!(fixed.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&fixed.stderr);
    assert!(
        stderr.contains("`costs.tax_rate` is a fixed number, so this correlation has no effect"),
        "{stderr}"
    );
}

/// `Model::parameter_draws` gives the values the run used: a path's start-quarter revenue
/// is its draw of the start revenue, correlated or not, block boundaries included.
#[test]
fn parameter_draws_are_the_values_the_run_used() {
    use cloudcapex::runner::{RunOptions, simulate};
    for table in [
        "",
        "[correlation.\"revenue.segments.a.start_revenue_rmb_bn\"]\n\"revenue.segments.a.initial_growth\" = 0.6\n",
    ] {
        let text = format!(
            "[simulation]\nseed = 5\npaths = 2100\n\
             [revenue.segments.a]\nstart_revenue_rmb_bn = {{ dist = \"uniform\", min = 8, max = 12 }}\n\
             initial_growth = {{ dist = \"uniform\", min = 0.1, max = 0.3 }}\n\
             terminal_growth = 0.04\ngrowth_half_life_quarters = 8\n{table}"
        );
        let scenario = Scenario::from_toml_str("p", "p.toml", &text, &[]).unwrap();
        let model = Model::new(&scenario);
        let draws = model.parameter_draws(2100);
        let start = column(&model, &draws, "revenue.segments.a.start_revenue_rmb_bn");
        let results = simulate(
            &scenario,
            &RunOptions {
                paths_out: 2100,
                ..Default::default()
            },
        )
        .unwrap();
        let m = results
            .quarterly_metrics
            .iter()
            .position(|n| n == "revenue_total_rmb_bn")
            .unwrap();
        for (p, record) in results.kept_paths.iter().enumerate() {
            let revenue = record.values[m * results.quarters];
            assert!(
                (revenue - start[p]).abs() < 1e-9 * start[p],
                "path {p}: {revenue} vs {}",
                start[p]
            );
        }
    }
}

/// `drivers.csv` replays the run: on kept paths of the base scenario, each event's firing
/// count and first quarter agree with the run's own per-path `event_<e>_firings` series.
#[test]
fn drivers_replay_the_runs_event_firings() {
    use cloudcapex::runner::{RunOptions, simulate};
    let scenario = Scenario::default_scenario().with_paths(1500).unwrap();
    let results = simulate(
        &scenario,
        &RunOptions {
            paths_out: 1500,
            ..Default::default()
        },
    )
    .unwrap();
    let (names, rows) = Model::new(&scenario).path_drivers(1500);
    let quarters = results.quarters;
    let mut fired = 0;
    for event in ["price_war", "export_controls_tighten", "decoupling"] {
        let m = results
            .quarterly_metrics
            .iter()
            .position(|n| *n == format!("event_{event}_firings"))
            .unwrap();
        let count = names
            .iter()
            .position(|n| *n == format!("risk.events.{event}.firings"))
            .unwrap();
        let first = names
            .iter()
            .position(|n| *n == format!("risk.events.{event}.first_quarter_index"))
            .unwrap();
        for (p, record) in results.kept_paths.iter().enumerate() {
            let series = &record.values[m * quarters..(m + 1) * quarters];
            assert_eq!(rows[p][count], series[quarters - 1], "{event} path {p}");
            let run_first = series
                .iter()
                .position(|&c| c > 0.0)
                .map_or(f64::NAN, |t| t as f64);
            assert!(
                rows[p][first] == run_first || (rows[p][first].is_nan() && run_first.is_nan()),
                "{event} path {p}: {} vs {run_first}",
                rows[p][first]
            );
            fired += usize::from(run_first.is_finite());
        }
    }
    assert!(
        fired > 100,
        "the events fire on enough paths to test: {fired}"
    );
    // Regime shares of a path sum to 1.
    let shares: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].starts_with("risk.regime_share."))
        .collect();
    for row in &rows {
        let total: f64 = shares.iter().map(|&i| row[i]).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
