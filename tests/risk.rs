//! The risk block against closed forms: regime probabilities follow the chain's
//! distribution `π_t = π_0 P^t`, an event with a constant hazard `h` has fired by quarter
//! `t` with probability `1 − (1 − h)^t` and, if repeatable, `h t` times on average.
//! Tolerances: 4 Monte Carlo standard errors.

use cloudcapex::Scenario;
use cloudcapex::runner::{Results, RunOptions, simulate};

const TEXT: &str = r#"
[simulation]
paths = 20000
seed = 11
[time]
horizon_quarters = 12
[revenue.segments.cloud]
start_revenue_rmb_bn = 40
initial_growth = 0.2
terminal_growth = 0.05
growth_half_life_quarters = 8
iid_shock_sd = 0.02
[risk.regimes.calm]
initial_probability = 0.7
transition = { calm = 0.8, stormy = 0.2 }
[risk.regimes.stormy]
initial_probability = 0.3
transition = { calm = 0.4, stormy = 0.6 }
growth_shift = { cloud = -0.2 }
volatility_scale = 2.0
[risk.events.once]
hazard = { calm = 0.1, stormy = 0.1 }
repeatable = false
[risk.events.once.effects.level]
lever = "revenue_level"
segment = "cloud"
size = -0.1
[risk.events.often]
hazard = { calm = 0.15, stormy = 0.15 }
repeatable = true
[risk.events.often.effects.growth]
lever = "revenue_growth"
segment = "cloud"
size = -0.05
half_life_quarters = 2
"#;

fn results() -> Results {
    let scenario = Scenario::from_toml_str("risk", "risk.toml", TEXT, &[]).unwrap();
    simulate(&scenario, &RunOptions::default()).unwrap()
}

fn within(results: &Results, metric: &str, t: usize, expected: f64) {
    let s = results.quarterly_summary(metric, t).unwrap();
    let se = s.se.max(1e-12);
    assert!(
        (s.mean - expected).abs() <= 4.0 * se,
        "{metric} t={t}: {} vs {expected} (se {se})",
        s.mean
    );
}

#[test]
fn regime_probabilities_follow_the_chain() {
    let r = results();
    let (mut calm, transition) = (0.7f64, [[0.8, 0.2], [0.4, 0.6]]);
    for t in 0..=12 {
        within(&r, "regime_calm_probability", t, calm);
        within(&r, "regime_stormy_probability", t, 1.0 - calm);
        calm = calm * transition[0][0] + (1.0 - calm) * transition[1][0];
    }
}

#[test]
fn event_firings_follow_their_hazards() {
    let r = results();
    for t in 0..=12usize {
        within(&r, "event_once_fired_share", t, 1.0 - 0.9f64.powi(t as i32));
        within(&r, "event_once_firings", t, 1.0 - 0.9f64.powi(t as i32));
        within(&r, "event_often_firings", t, 0.15 * t as f64);
    }
}

/// An event certain to fire in the first projected quarter moves the lever exactly as
/// documented: a permanent level effect multiplies revenue by `1 + a`, a decaying growth
/// effect adds `a 2^{-(t-1)/h} / 4` to the quarterly log drift.
#[test]
fn certain_events_move_their_levers_exactly() {
    let base = r#"
[time]
horizon_quarters = 8
[revenue.segments.cloud]
start_revenue_rmb_bn = 40
initial_growth = 0.2
terminal_growth = 0.2
growth_half_life_quarters = 8
[revenue.segments.other]
start_revenue_rmb_bn = 10
initial_growth = 0.1
terminal_growth = 0.1
growth_half_life_quarters = 8
"#;
    let risk = r#"
[risk.regimes.only]
initial_probability = 1
transition = { only = 1 }
[risk.events.shock]
hazard = { only = 1 }
repeatable = false
[risk.events.shock.effects.level]
lever = "revenue_level"
segment = "cloud"
size = -0.1
[risk.events.shock.effects.growth]
lever = "revenue_growth"
segment = "other"
size = -0.08
half_life_quarters = 2
"#;
    let run = |text: &str| {
        let s = Scenario::from_toml_str("t", "t.toml", text, &[])
            .unwrap()
            .with_paths(4)
            .unwrap();
        simulate(&s, &RunOptions::default()).unwrap()
    };
    let (without, with) = (run(base), run(&format!("{base}{risk}")));
    let mut log_gap = 0.0;
    for t in 0..=8usize {
        let level = |r: &Results, m: &str| r.quarterly_summary(m, t).unwrap().mean;
        let cloud_ratio =
            level(&with, "revenue_cloud_rmb_bn") / level(&without, "revenue_cloud_rmb_bn");
        let expected_cloud = if t == 0 { 1.0 } else { 0.9 };
        assert!(
            (cloud_ratio - expected_cloud).abs() < 1e-12,
            "cloud t={t}: {cloud_ratio}"
        );
        if t >= 1 {
            log_gap += -0.08 * 0.5f64.powf((t as f64 - 1.0) / 2.0) / 4.0;
        }
        let other_ratio =
            level(&with, "revenue_other_rmb_bn") / level(&without, "revenue_other_rmb_bn");
        assert!(
            (other_ratio - log_gap.exp()).abs() < 1e-12,
            "other t={t}: {other_ratio} vs {}",
            log_gap.exp()
        );
    }
}

/// `[risk] centre_growth_shifts = true`: each quarter's shifts are centred on their mean
/// under `π_t = π_0 Pᵗ`, so the unconditional mean of a path's log growth is the segment's
/// own drift, whatever the regimes. Without shocks or events, `ln R_t − ln R^{det}_t` is
/// the sum of the centred shifts, whose mean over paths is 0 (closed form); uncentred it
/// is `Σ_{i≤t} Σ_r π_i(r) shift_r / 4`. Tolerance: 4 standard errors of the mean.
#[test]
fn centred_growth_shifts_leave_the_mean_growth_unchanged() {
    let text = |centre: bool| {
        format!(
            r#"
[simulation]
paths = 20000
seed = 5
[time]
horizon_quarters = 12
[revenue.seasonality]
q1 = 1
q2 = 1
q3 = 1
q4 = 1
[revenue.segments.cloud]
start_revenue_rmb_bn = 40
initial_growth = 0.2
terminal_growth = 0.2
growth_half_life_quarters = 8
[risk]
centre_growth_shifts = {centre}
[risk.regimes.calm]
initial_probability = 0.7
transition = {{ calm = 0.8, stormy = 0.2 }}
growth_shift = {{ cloud = 0.04 }}
[risk.regimes.stormy]
initial_probability = 0.3
transition = {{ calm = 0.4, stormy = 0.6 }}
growth_shift = {{ cloud = -0.2 }}
"#
        )
    };
    let (pi_calm_0, transition) = (0.7f64, [[0.8, 0.2], [0.4, 0.6]]);
    let mut pi_calm = vec![pi_calm_0];
    for t in 1..=12 {
        let c = pi_calm[t - 1];
        pi_calm.push(c * transition[0][0] + (1.0 - c) * transition[1][0]);
    }
    let drift = (1.2f64).ln() / 4.0;
    for centre in [true, false] {
        let scenario = Scenario::from_toml_str("c", "c.toml", &text(centre), &[]).unwrap();
        let r = simulate(
            &scenario,
            &RunOptions {
                paths_out: 20000,
                ..Default::default()
            },
        )
        .unwrap();
        let m = r
            .quarterly_metrics
            .iter()
            .position(|m| m == "revenue_cloud_rmb_bn")
            .unwrap();
        let q = r.quarters;
        let mut expected_cumulative = 0.0;
        for (t, calm) in pi_calm.iter().enumerate().take(q).skip(1) {
            let mean_shift = (calm * 0.04 + (1.0 - calm) * -0.2) / 4.0;
            if !centre {
                expected_cumulative += mean_shift;
            }
            let excess: Vec<f64> = r
                .kept_paths
                .iter()
                .map(|p| (p.values[m * q + t] / 40.0).ln() - drift * t as f64)
                .collect();
            let n = excess.len() as f64;
            let mean = excess.iter().sum::<f64>() / n;
            let sd = (excess.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            assert!(
                (mean - expected_cumulative).abs() <= 4.0 * sd / n.sqrt() + 1e-12,
                "centre={centre} t={t}: mean excess log revenue {mean}, expected {expected_cumulative} (se {})",
                sd / n.sqrt()
            );
        }
    }
}
