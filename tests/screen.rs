//! `cloudcapex sensitivity screen`: every numeric input, fixed or drawn, on common random
//! numbers; known swings on a model whose NPV is linear in an input; the command end to
//! end (byte-identical on 1 and 2 threads, refusals before any work).

use cloudcapex::Scenario;
use cloudcapex::sensitivity::screen::{InputKind, screen_inputs};

fn cloudcapex() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("cloudcapex").unwrap()
}

/// Every number of the base file outside [simulation] and [time] is screened, and every
/// uncertain assumption (event severities included) as drawn, at its p5 and p95.
#[test]
fn every_numeric_input_is_screened() {
    let base = Scenario::load("scenarios/base.toml", &[]).unwrap();
    let inputs = screen_inputs(&base, 0.2).unwrap();
    let model = cloudcapex::model::Model::new(&base);
    for (key, d) in model.uncertain_distributions() {
        let input = inputs.iter().find(|i| i.key == key).unwrap();
        assert_eq!(input.kind, InputKind::Drawn);
        assert_eq!(
            (input.low, input.high),
            (d.quantile(0.05), d.quantile(0.95))
        );
    }
    for key in [
        "revenue.segments.core.growth_half_life_quarters",
        "costs.variable_cost_share",
        "risk.events.price_war.hazard.calm",
        "plan.actual_spend_rmb_bn.2025Q2",
    ] {
        let input = inputs.iter().find(|i| i.key == key);
        assert!(input.is_some_and(|i| i.kind == InputKind::Fixed), "{key}");
    }
    assert!(!inputs.iter().any(|i| i.key.starts_with("simulation.")));
}

/// A model linear in its inputs, `y = 3 a − 2 b + 5 s₁ + noise`, on common random numbers
/// (the noise of a path is the same at both ends): the swings are the slopes times the
/// ranges, exactly, with zero standard error; a member of a sum-constrained group moves
/// the others by the opposite amount; an end the model refuses (b above 2.5) is moved
/// halfway back and the row says so.
#[test]
fn a_linear_model_gives_its_known_swings() {
    use cloudcapex::sensitivity::screen::{ScreenInput, screen_with};
    let fixed = |key: &str, base: f64, group: Vec<(String, f64)>| ScreenInput {
        key: key.into(),
        kind: InputKind::Fixed,
        base,
        low: base * 0.8,
        high: base * 1.2,
        integer: false,
        group,
        documented: false,
    };
    let inputs = vec![
        fixed("a", 1.0, vec![]),
        fixed("b", 2.5, vec![]),
        fixed("s.one", 0.4, vec![("s.two".into(), 0.6)]),
    ];
    let noise: Vec<f64> = (0..50).map(|i| ((i * 7919) % 101) as f64 / 10.0).collect();
    let evaluate = |sets: &[String]| -> Result<(f64, f64, Vec<f64>), String> {
        let get = |k: &str, d: f64| {
            sets.iter()
                .find_map(|s| s.strip_prefix(&format!("{k}=")))
                .map_or(d, |v| v.parse::<f64>().unwrap())
        };
        let (a, b, s1, s2) = (
            get("a", 1.0),
            get("b", 2.5),
            get("s.one", 0.4),
            get("s.two", 0.6),
        );
        if b > 2.5 * 1.1 {
            return Err("b above 2.75 is refused".into());
        }
        assert!((s1 + s2 - 1.0).abs() < 1e-12, "the group keeps its sum");
        let values: Vec<f64> = noise
            .iter()
            .map(|n| 3.0 * a - 2.0 * b + 5.0 * s1 + n)
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let negative = values.iter().filter(|v| **v < 0.0).count() as f64 / values.len() as f64;
        Ok((mean, negative, values))
    };
    let screen = screen_with(&inputs, "y", 50, 0.2, evaluate).unwrap();
    let row = |key: &str| screen.rows.iter().find(|r| r.input.key == key).unwrap();
    assert!((row("a").swing - 3.0 * 0.4).abs() < 1e-12);
    assert!((row("s.one").swing - 5.0 * 0.16).abs() < 1e-12);
    // b: high end 3.0 refused, moved to 2.75.
    let b = row("b");
    assert_eq!(b.at_high.unwrap().value, 2.75);
    assert!((b.swing + 2.0 * (2.75 - 2.0)).abs() < 1e-12);
    assert!(b.note.contains("refused"), "{}", b.note);
    for r in &screen.rows {
        assert!(r.swing_se < 1e-12, "{r:?}");
    }
    // Largest swing first.
    let order: Vec<&str> = screen.rows.iter().map(|r| r.input.key.as_str()).collect();
    assert_eq!(order, ["b", "a", "s.one"]);
}

#[test]
fn screen_writes_every_input_identically_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(threads);
        cloudcapex()
            .args([
                "sensitivity",
                "screen",
                "scenarios/base.toml",
                "--paths",
                "32",
            ])
            .args(["--threads", threads, "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        std::fs::read_to_string(out.join("screen_base/screen.csv")).unwrap()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    let lines: Vec<&str> = one.lines().collect();
    assert!(lines[0].starts_with(
        "scenario,metric,rank,input,kind,base_value,low_value,high_value,range,mean_at_low,mean_at_high,\
         prob_negative_at_low,prob_negative_at_high,swing,swing_se,"
    ));
    let base = Scenario::load("scenarios/base.toml", &[]).unwrap();
    assert_eq!(lines.len() - 1, screen_inputs(&base, 0.2).unwrap().len());
    assert!(lines[1].starts_with("base,plan_npv_rmb_bn,1,"));
}

#[test]
fn screen_refuses_bad_options_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (args, expected) in [
        (vec!["--share", "1.5"], "--share 1.5"),
        (vec!["--metric", "plan_mirr"], "kept per path"),
    ] {
        let assert = cloudcapex()
            .args(["sensitivity", "screen", "scenarios/base.toml"])
            .args(&args)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote output");
    }
}

/// `[screen.ranges]` documents an input's plausible range: the screen uses it instead of
/// the default move; a range that names no input or is empty is refused with the key.
#[test]
fn documented_ranges_replace_the_default_move_and_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::path::Path::new("scenarios/base.toml")
        .canonicalize()
        .unwrap();
    let write = |ranges: &str| {
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            format!(
                "extends = \"{}\"\n[screen.ranges]\n{ranges}\n",
                base.display()
            ),
        )
        .unwrap();
        Scenario::load(&file, &[])
    };
    let s =
        write("\"costs.tax_rate\" = [0.12, 0.25]\n\"capacity.hardware_cost_decline\" = [0.1, 0.3]")
            .unwrap();
    let inputs = screen_inputs(&s, 0.2).unwrap();
    let tax = inputs.iter().find(|i| i.key == "costs.tax_rate").unwrap();
    assert!(tax.documented && (tax.low, tax.high) == (0.12, 0.25));
    let decline = inputs
        .iter()
        .find(|i| i.key == "capacity.hardware_cost_decline")
        .unwrap();
    assert!(decline.documented && decline.kind == InputKind::Drawn && decline.low == 0.1);
    // The ranges round-trip through the resolved scenario and change no simulated number;
    // a value written outside its documented range is allowed (a --set or a sweep).
    assert!(s.resolved_toml().contains("[screen.ranges]"));
    write("\"costs.tax_rate\" = [0.2, 0.3]").unwrap();
    for (ranges, expected) in [
        (
            "\"costs.no_such_key\" = [0, 1]",
            "is not an input written in the scenario",
        ),
        (
            "\"simulation.paths\" = [1, 2]",
            "is not an input written in the scenario",
        ),
        ("\"costs.tax_rate\" = [0.3, 0.2]", "low below high"),
        ("\"costs.tax_rate\" = [0.1]", "expected [low, high]"),
        (
            "\"revenue.segments.ai.initial_growth.max\" = [1.5, 2.0]",
            "is a parameter of the distribution `revenue.segments.ai.initial_growth`",
        ),
        (
            "\"plan.assets.ai_compute.useful_life_quarters\" = [12.5, 23.7]",
            "give whole ends",
        ),
    ] {
        let error = write(ranges).unwrap_err().to_string();
        assert!(error.contains(expected), "{ranges}: {error}");
        assert!(error.contains("screen.ranges"), "{error}");
    }
}

/// Inputs written as negative numbers get ordered ends (low below high, so the swing's sign
/// means "raising the input"); rank correlations are not screened (their keys are key paths
/// `--set` cannot name); a plan metric on a scenario without a plan is refused up front.
#[test]
fn negative_inputs_correlations_and_plan_metrics() {
    let base = Scenario::load("scenarios/base.toml", &[]).unwrap();
    let inputs = screen_inputs(&base, 0.2).unwrap();
    let shift = inputs
        .iter()
        .find(|i| i.key == "risk.regimes.crisis.growth_shift.ai")
        .unwrap();
    assert!(shift.base < 0.0 && shift.low < shift.high, "{shift:?}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        format!(
            "extends = \"{}\"\n[correlation.\"capacity.hardware_cost_decline\"]\n\"valuation.discount_rate\" = -0.3\n",
            std::path::Path::new("scenarios/base.toml").canonicalize().unwrap().display()
        ),
    )
    .unwrap();
    let correlated = Scenario::load(&file, &[]).unwrap();
    assert!(
        !screen_inputs(&correlated, 0.2)
            .unwrap()
            .iter()
            .any(|i| i.key.starts_with("correlation."))
    );
    let revenue_only = dir.path().join("r.toml");
    std::fs::write(
        &revenue_only,
        "[revenue.segments.cloud]\nstart_revenue_rmb_bn = 40\ninitial_growth = 0.2\n\
         terminal_growth = 0.05\ngrowth_half_life_quarters = 8\n",
    )
    .unwrap();
    let assert = cloudcapex()
        .args(["sensitivity", "screen"])
        .arg(&revenue_only)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("has no [plan] table"), "{stderr}");
}
