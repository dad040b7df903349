//! The revenue model against closed forms, with tolerances from the Monte Carlo standard
//! error (docs/model.md derives each formula).

use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::{Override, Scenario};

/// Three segments, fixed assumptions, shocks as given. Seasonality on, so the closed forms
/// must handle it too.
fn scenario(shocks: &str, extra: &str) -> Scenario {
    let mut text = String::from(
        "[simulation]\nseed = 99\npaths = 20000\n[time]\nstart_quarter = \"2026Q1\"\nhorizon_quarters = 12\n\
         [revenue.seasonality]\nq1 = 0.94\nq2 = 0.96\nq3 = 1.04\nq4 = 1.06\n\
         [revenue.correlation]\na.b = 0.6\na.c = 0.3\nb.c = -0.2\n",
    );
    for (name, start, g0) in [("a", 12.0, 0.8), ("b", 25.0, 0.2), ("c", 4.0, 0.3)] {
        text.push_str(&format!(
            "[revenue.segments.{name}]\nstart_revenue_rmb_bn = {start}\ninitial_growth = {g0}\n\
             terminal_growth = 0.05\ngrowth_half_life_quarters = 5\n{shocks}\n"
        ));
    }
    text.push_str(extra);
    Scenario::from_toml_str("closed_form", "closed_form.toml", &text, &[]).unwrap()
}

/// Deterministic log level of segment revenue in quarter t (docs/model.md, "Revenue").
fn deterministic_revenue(start: f64, g0: f64, t: usize) -> f64 {
    let seasonal = [0.94, 0.96, 1.04, 1.06];
    let (gt, h) = (0.05f64, 5.0f64);
    let mut log_level = (start / seasonal[0]).ln();
    for k in 1..=t {
        let weight = 0.5f64.powf((k as f64 - 1.0) / h);
        log_level += (gt.ln_1p() + weight * (g0.ln_1p() - gt.ln_1p())) / 4.0;
    }
    log_level.exp() * seasonal[t % 4]
}

#[test]
fn zero_volatility_is_the_deterministic_path() {
    let results = simulate(&scenario("", ""), &RunOptions::default()).unwrap();
    for (name, start, g0) in [("a", 12.0, 0.8), ("b", 25.0, 0.2), ("c", 4.0, 0.3)] {
        for t in 0..=12 {
            let s = results
                .quarterly_summary(&format!("revenue_{name}_rmb_bn"), t)
                .unwrap();
            let expected = deterministic_revenue(start, g0, t);
            assert!(
                (s.mean - expected).abs() < 1e-9 * expected,
                "{name} t={t}: {} vs {expected}",
                s.mean
            );
            assert!(s.sd.abs() < 1e-9 * expected);
        }
    }
}

/// With only i.i.d. shocks of sd σ, log revenue at t is normal with variance t σ², so
/// E[R_t] = deterministic_t · exp(t σ² / 2).
#[test]
fn iid_shocks_give_the_lognormal_mean() {
    let sigma = 0.05;
    let results = simulate(
        &scenario(&format!("iid_shock_sd = {sigma}"), ""),
        &RunOptions::default(),
    )
    .unwrap();
    for (name, start, g0) in [("a", 12.0, 0.8), ("b", 25.0, 0.2), ("c", 4.0, 0.3)] {
        for t in 1..=12 {
            let s = results
                .quarterly_summary(&format!("revenue_{name}_rmb_bn"), t)
                .unwrap();
            let expected =
                deterministic_revenue(start, g0, t) * (t as f64 * sigma * sigma / 2.0).exp();
            assert!(
                (s.mean - expected).abs() < 4.0 * s.se,
                "{name} t={t}: mean {} vs closed form {expected} (se {})",
                s.mean,
                s.se
            );
            // The sd of a lognormal: mean · sqrt(exp(t σ²) − 1); loose check (sd's own error ~ 1/sqrt(2n)).
            let expected_sd = expected * ((t as f64 * sigma * sigma).exp() - 1.0).sqrt();
            assert!(
                (s.sd / expected_sd - 1.0).abs() < 0.05,
                "{name} t={t}: sd {} vs {expected_sd}",
                s.sd
            );
        }
    }
}

/// Sample correlation of each pair's shocks, recovered from kept paths, against the
/// scenario's matrix; the tolerance is 4 standard errors of a correlation, (1 − ρ²)/√n.
fn assert_shock_correlation(scenario: &Scenario, persistence: f64) {
    let results = simulate(
        scenario,
        &RunOptions {
            paths_out: 4000,
            ..Default::default()
        },
    )
    .unwrap();
    let q = results.quarters;
    let metric = |name: &str| {
        results
            .quarterly_metrics
            .iter()
            .position(|m| m == name)
            .unwrap()
    };
    let seasonal = [0.94, 0.96, 1.04, 1.06];
    // Shock of quarter t: Δ log deseasonalized revenue minus the drift, which is the same on
    // every path and cancels in the correlation. With AR(1) shocks the innovation is
    // Δ_t − φ Δ_{t−1}.
    let innovations = |name: &str| -> Vec<f64> {
        let m = metric(&format!("revenue_{name}_rmb_bn"));
        let mut out = Vec::new();
        for path in &results.kept_paths {
            let log = |t: usize| (path.values[m * q + t] / seasonal[t % 4]).ln();
            let delta = |t: usize| log(t) - log(t - 1);
            for t in 2..q {
                out.push(delta(t) - persistence * delta(t - 1));
            }
        }
        out
    };
    let correlation = |x: &[f64], y: &[f64]| {
        // Centre per quarter position to remove the drift (same on every path).
        let per_path = q - 2;
        let centred = |v: &[f64]| -> Vec<f64> {
            let means: Vec<f64> = (0..per_path)
                .map(|k| {
                    v.iter().skip(k).step_by(per_path).sum::<f64>() / (v.len() / per_path) as f64
                })
                .collect();
            v.iter()
                .enumerate()
                .map(|(i, x)| x - means[i % per_path])
                .collect()
        };
        let (x, y) = (centred(x), centred(y));
        let sxy: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
        let sxx: f64 = x.iter().map(|a| a * a).sum();
        let syy: f64 = y.iter().map(|b| b * b).sum();
        (sxy / (sxx * syy).sqrt(), x.len())
    };
    let matrix = scenario.assumptions().revenue.correlation.matrix();
    let names = ["a", "b", "c"];
    let series: Vec<Vec<f64>> = names.iter().map(|n| innovations(n)).collect();
    for i in 0..3 {
        for j in i + 1..3 {
            let (rho_hat, n) = correlation(&series[i], &series[j]);
            let rho = matrix[(i, j)];
            let se = (1.0 - rho * rho) / (n as f64).sqrt();
            assert!(
                (rho_hat - rho).abs() < 4.0 * se,
                "{}-{}: sample correlation {rho_hat} vs {rho} (se {se})",
                names[i],
                names[j]
            );
        }
    }
}

#[test]
fn iid_shock_correlation_matches_the_matrix() {
    assert_shock_correlation(&scenario("iid_shock_sd = 0.04", ""), 0.0);
}

#[test]
fn persistent_shock_correlation_matches_the_matrix() {
    let s = scenario("shock_persistence = 0.6\npersistent_shock_sd = 0.03", "");
    assert_shock_correlation(&s, 0.6);
}

#[test]
fn sketch_quantiles_agree_with_exact_quantiles_of_kept_paths() {
    let s = scenario(
        "iid_shock_sd = 0.05\nshock_persistence = 0.5\npersistent_shock_sd = 0.02",
        "",
    )
    .with_paths(3000)
    .unwrap();
    let results = simulate(
        &s,
        &RunOptions {
            paths_out: 3000,
            ..Default::default()
        },
    )
    .unwrap();
    let q = results.quarters;
    for (m, name) in results.quarterly_metrics.iter().enumerate() {
        for t in 4..q {
            let mut values: Vec<f64> = results
                .kept_paths
                .iter()
                .map(|p| p.values[m * q + t])
                .collect();
            values.sort_by(f64::total_cmp);
            let summary = results.quarterly_summary(name, t).unwrap();
            for (k, level) in cloudcapex::stats::QUANTILE_LEVELS.iter().enumerate() {
                let exact = cloudcapex::stats::exact_quantile(&values, *level);
                let rank = level * (values.len() - 1) as f64;
                let scale = values[rank.floor() as usize]
                    .abs()
                    .max(values[rank.ceil() as usize].abs());
                let bound = cloudcapex::stats::RELATIVE_ACCURACY * scale
                    + cloudcapex::stats::ZERO_THRESHOLD;
                assert!(
                    (summary.quantiles[k] - exact).abs() <= bound * (1.0 + 1e-9),
                    "{name} t={t} q={level}: sketch {} exact {exact}",
                    summary.quantiles[k]
                );
            }
        }
    }
}

#[test]
fn overrides_change_only_what_they_name() {
    let base = Scenario::default_scenario();
    let set = Override::parse("revenue.segments.core.terminal_growth=0.02").unwrap();
    let changed = Scenario::default_with(&[set]).unwrap();
    let (a, b) = (
        &base.assumptions().revenue.segments,
        &changed.assumptions().revenue.segments,
    );
    assert_eq!(a["ai"], b["ai"]);
    assert_ne!(a["core"].terminal_growth, b["core"].terminal_growth);
    assert_eq!(a["core"].initial_growth, b["core"].initial_growth);
}

/// Common random numbers: changing one segment's assumption leaves the other segments'
/// paths bit-identical (each shock and each uncertain assumption has its own stream).
#[test]
fn common_random_numbers_across_scenarios() {
    let options = RunOptions {
        paths_out: 50,
        ..Default::default()
    };
    let base = Scenario::default_scenario().with_paths(50).unwrap();
    let set = Override::parse("revenue.segments.international.initial_growth=0.4").unwrap();
    let other = Scenario::default_with(&[set])
        .unwrap()
        .with_paths(50)
        .unwrap();
    let (a, b) = (
        simulate(&base, &options).unwrap(),
        simulate(&other, &options).unwrap(),
    );
    let m = a
        .quarterly_metrics
        .iter()
        .position(|n| n == "revenue_core_rmb_bn")
        .unwrap();
    let q = a.quarters;
    for (pa, pb) in a.kept_paths.iter().zip(&b.kept_paths) {
        assert_eq!(pa.values[m * q..(m + 1) * q], pb.values[m * q..(m + 1) * q]);
    }
}

/// Antithetic pairs: the second path of a pair uses the first path's shocks with opposite
/// signs, so the pair's average log revenue is the deterministic path exactly.
#[test]
fn antithetic_pairs_mirror_their_shocks() {
    let s = scenario(
        "iid_shock_sd = 0.05\nshock_persistence = 0.5\npersistent_shock_sd = 0.03",
        "",
    )
    .with_paths(64)
    .unwrap();
    let options = RunOptions {
        paths_out: 4,
        antithetic: true,
        ..Default::default()
    };
    let results = simulate(&s, &options).unwrap();
    let q = results.quarters;
    let m = results
        .quarterly_metrics
        .iter()
        .position(|n| n == "revenue_a_rmb_bn")
        .unwrap();
    for pair in results.kept_paths.chunks(2) {
        for t in 0..q {
            let average_log =
                0.5 * (pair[0].values[m * q + t].ln() + pair[1].values[m * q + t].ln());
            let expected = deterministic_revenue(12.0, 0.8, t).ln();
            assert!(
                (average_log - expected).abs() < 1e-12,
                "t={t}: {average_log} vs {expected}"
            );
        }
    }
    // An odd path count cannot be paired.
    assert!(simulate(&s.with_paths(63).unwrap(), &options).is_err());
}

/// On the base scenario, antithetic pairs shrink the variance of the mean NPV (the shocks
/// move NPV monotonically enough), and the standard error reported is the paired one.
#[test]
fn antithetic_pairs_reduce_the_error_of_mean_npv() {
    let s = Scenario::default_scenario().with_paths(20_000).unwrap();
    let options = RunOptions {
        antithetic: true,
        ..Default::default()
    };
    let results = simulate(&s, &options).unwrap();
    let npv = results.scalar_stats("plan_npv_rmb_bn").unwrap();
    assert!(
        npv.se_reduction_factor > 1.0,
        "reduction {}",
        npv.se_reduction_factor
    );
    let cagr = results.scalar_stats("revenue_total_cagr").unwrap();
    assert!(
        cagr.se_reduction_factor > 1.5,
        "reduction {}",
        cagr.se_reduction_factor
    );
}
