//! Every example builds (cargo test builds examples) and runs with a small path count.

use std::path::PathBuf;
use std::process::Command;

/// target/<profile>/examples/<name>, next to this test's own binary in target/<profile>/deps.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn run(name: &str, args: &[&str], expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(example(name))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e} (is it built? cargo test builds examples)"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for text in expect {
        assert!(stdout.contains(text), "{name}: {text:?} not in\n{stdout}");
    }
}

#[test]
fn base_case() {
    run(
        "base_case",
        &["--paths", "300", "--out", "out"],
        &["adj. EBITA margin", "NPV, RMB bn", "P(NPV < 0)"],
    );
}

#[test]
fn compare_scenarios() {
    run(
        "compare_scenarios",
        &["--paths", "200", "--out", "out"],
        &[
            "| `base` |",
            "| `calm_world` |",
            "| `export_controls_tighten` |",
            "P(NPV < 0)",
        ],
    );
}

#[test]
fn export_control_stress() {
    run(
        "export_control_stress",
        &["--paths", "200", "--out", "out"],
        &["P(NPV<0)", "99%", "sweep.csv"],
    );
}

/// Yearly odds become quarterly hazards `1 − (1 − p)^(1/4)`: 50% a year is 0.1591 a
/// quarter, and the sweep never reaches a hazard of 1 (a tightening every quarter).
#[test]
fn export_control_stress_converts_yearly_odds() {
    let out = tempfile::tempdir().unwrap();
    run(
        "export_control_stress",
        &["--paths", "100", "--out", out.path().to_str().unwrap()],
        &["0.1591"],
    );
    let csv = std::fs::read_to_string(out.path().join("sweep.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let hazard: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
        assert!(hazard < 1.0, "{line}");
    }
}

#[test]
fn custom_scenario() {
    run(
        "custom_scenario",
        &["--paths", "300"],
        &["smaller_backloaded_plan", "P(NPV < 0)"],
    );
}

/// `docs/calibration.md` is what `calibration_report` writes for the committed scenarios:
/// it cannot drift from the model.
#[test]
fn calibration_page_is_fresh() {
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/calibration.md");
    run(
        "calibration_report",
        &["--check", "--page", page],
        &["is up to date"],
    );
}
