//! The command line end to end: help, validate, run with every output, snapshots.

use assert_cmd::Command;
use predicates::prelude::*;

fn cloudcapex() -> Command {
    Command::cargo_bin("cloudcapex").unwrap()
}

#[test]
fn help_explains_every_command() {
    cloudcapex()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("run").and(predicate::str::contains("validate")));
    cloudcapex()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--paths-out").and(predicate::str::contains("--set")));
    cloudcapex().args(["validate", "--help"]).assert().success();
}

#[test]
fn no_arguments_runs_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .current_dir(dir.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("scenario base").and(predicate::str::contains(
                "Revenue CAGR, start to horizon (%/yr)",
            )),
        );
    for file in ["quarterly.csv", "summary.csv", "scenario.toml", "run.json"] {
        assert!(
            dir.path().join("out/base").join(file).exists(),
            "{file} missing"
        );
    }
}

#[test]
fn every_scenario_file_validates_and_runs() {
    let files: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    assert!(!files.is_empty());
    cloudcapex().arg("validate").args(&files).assert().success();
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .arg("run")
        .args(&files)
        .args(["--paths", "200", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn run_json_lists_every_output_and_the_provenance() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "run",
            "--paths",
            "300",
            "--paths-out",
            "2",
            "--seed",
            "5",
            "--quiet",
            "--threads",
            "2",
        ])
        .args(["--set", "revenue.segments.ai.terminal_growth=0.05", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let folder = dir.path().join("base");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["seed"], 5);
    assert_eq!(json["paths"], 300);
    assert_eq!(json["block_size"], 1024);
    assert_eq!(json["threads"], 2);
    assert_eq!(json["cloudcapex_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        json["overrides"][0],
        "revenue.segments.ai.terminal_growth=0.05"
    );
    assert_eq!(
        json["resolved_scenario"]["revenue"]["segments"]["ai"]["terminal_growth"],
        0.05
    );
    assert_eq!(json["scenario_sha256"].as_str().unwrap().len(), 64);
    let outputs: Vec<&str> = json["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        outputs,
        [
            "quarterly.csv",
            "summary.csv",
            "convergence.csv",
            "fiscal_years.csv",
            "consensus.csv",
            "scenario.toml",
            "paths.csv",
            "path_scalars.csv",
            "drivers.csv",
            "run.json"
        ]
    );
    for file in outputs {
        assert!(folder.join(file).exists());
    }
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty());

    // The resolved scenario re-runs to identical statistics, under its original name.
    let rerun = dir.path().join("rerun");
    cloudcapex()
        .arg("run")
        .arg(folder.join("scenario.toml"))
        .args(["--paths-out", "2", "--quiet", "--out"])
        .arg(&rerun)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(folder.join("summary.csv")).unwrap(),
        std::fs::read_to_string(rerun.join("base/summary.csv")).unwrap()
    );
}

#[test]
fn a_later_run_without_paths_out_removes_a_stale_paths_csv() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        cloudcapex()
            .args(["run", "--paths", "100", "--quiet", "--out"])
            .arg(dir.path())
            .args(extra)
            .assert()
            .success();
    };
    run(&["--paths-out", "1"]);
    assert!(dir.path().join("base/paths.csv").exists());
    assert!(dir.path().join("base/path_scalars.csv").exists());
    run(&[]);
    assert!(!dir.path().join("base/paths.csv").exists());
    assert!(!dir.path().join("base/path_scalars.csv").exists());
}

/// Snapshot of every exported file of a tiny run (insta): any change to columns, order,
/// number formatting or values shows up in review.
#[test]
fn exported_files_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "run",
            "--paths",
            "64",
            "--paths-out",
            "1",
            "--quiet",
            "--threads",
            "1",
        ])
        .args([
            "--set",
            "time.horizon_quarters=5",
            "--set",
            "valuation.terminal_value=false",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let folder = dir.path().join("base");
    for file in [
        "quarterly.csv",
        "summary.csv",
        "fiscal_years.csv",
        "consensus.csv",
        "paths.csv",
        "path_scalars.csv",
        "scenario.toml",
    ] {
        // The version column changes with every release; the rest must not change silently.
        let text = std::fs::read_to_string(folder.join(file))
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
        insta::assert_snapshot!(file.replace('.', "_"), text);
    }
}

/// `compare` of a scenario with itself: every difference and its standard error are exactly
/// zero in comparison.csv; against a different scenario they are not, and pairing helps.
#[test]
fn compare_writes_paired_differences() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "compare",
            "scenarios/base.toml",
            "scenarios/base.toml",
            "scenarios/calm_world.toml",
        ])
        .args(["--paths", "600", "--threads", "2", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("Paired comparison against `base`"));
    let text = std::fs::read_to_string(dir.path().join("comparison/comparison.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (mut twins, mut calm) = (0, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        match f[col("scenario")] {
            "base#2" => {
                twins += 1;
                assert_eq!(f[col("difference")], "0", "{line}");
                assert!(matches!(f[col("difference_se")], "0" | ""), "{line}");
            }
            "calm_world" if f[col("metric")] == "plan_npv_rmb_bn" => {
                calm += 1;
                let vrf: f64 = f[col("variance_reduction_factor")].parse().unwrap();
                assert!(vrf > 1.0, "{line}");
            }
            _ => {}
        }
    }
    assert!(twins == cloudcapex::model::PER_PATH_SCALARS.len() && calm == 1);
}

/// A sweep point's outputs equal a plain `run` with the same overrides, byte for byte.
#[test]
fn sweep_point_equals_a_plain_run() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "sweep",
            "scenarios/base.toml",
            "--grid",
            "plan.total_rmb_bn=300,480",
        ])
        .args([
            "--grid",
            "costs.tax_rate=0.1:0.2:0.1",
            "--paths",
            "400",
            "--quiet",
            "--out",
        ])
        .arg(dir.path().join("sweep"))
        .assert()
        .success();
    // Point 3 is the last: total 480, tax 0.2.
    cloudcapex()
        .args([
            "run",
            "scenarios/base.toml",
            "--set",
            "plan.total_rmb_bn=480",
            "--set",
            "costs.tax_rate=0.2",
        ])
        .args(["--paths", "400", "--quiet", "--out"])
        .arg(dir.path().join("run"))
        .assert()
        .success();
    for file in ["quarterly.csv", "summary.csv", "scenario.toml"] {
        let point =
            std::fs::read(dir.path().join("sweep/sweep_base/point_0003").join(file)).unwrap();
        let run = std::fs::read(dir.path().join("run/base").join(file)).unwrap();
        assert!(point == run, "{file} differs");
    }
    let sweep = std::fs::read_to_string(dir.path().join("sweep/sweep_base/sweep.csv")).unwrap();
    assert!(sweep.starts_with("scenario,point,plan.total_rmb_bn,costs.tax_rate,metric,"));
    assert!(
        sweep
            .lines()
            .any(|l| l.starts_with("base,3,480,0.2,plan_npv_rmb_bn,"))
    );
}

#[test]
fn oversized_or_malformed_grids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for grid in [
        "costs.tax_rate=0:1:0.001",
        "costs.tax_rate",
        "costs.tax_rate=0.3:0.1:0.1",
    ] {
        cloudcapex()
            .args(["sweep", "scenarios/base.toml", "--grid", grid, "--out"])
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--grid").or(predicate::str::contains("--force")));
    }
    // An invalid value at one grid point is refused before anything runs.
    cloudcapex()
        .args([
            "sweep",
            "scenarios/base.toml",
            "--grid",
            "costs.tax_rate=0.2,1.5",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("grid point costs.tax_rate=1.5")
                .and(predicate::str::contains("costs.tax_rate")),
        );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing may be written"
    );
}

/// Breakeven on a deterministic scenario matches the closed form: the start revenue at
/// which final-year revenue is 100 is 100 / Σ_{t=5..8} 1.2^(t/4).
#[test]
fn breakeven_matches_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "breakeven",
            "tests/fixtures/breakeven.toml",
            "--vary",
            "revenue.segments.cloud.start_revenue_rmb_bn",
        ])
        .args([
            "--range",
            "1:50",
            "--target",
            "revenue_total_final_year_rmb_bn.mean=100",
            "--tolerance",
            "1e-9",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .success();
    let text =
        std::fs::read_to_string(dir.path().join("breakeven_breakeven/breakeven.csv")).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let value: f64 = row[4].parse().unwrap();
    let growth: f64 = (5..=8).map(|t| 1.2f64.powf(t as f64 / 4.0)).sum();
    assert!(
        (value - 100.0 / growth).abs() < 1e-8,
        "{value} vs {}",
        100.0 / growth
    );
    assert!(row[8].parse::<f64>().unwrap() - 100.0 < 1e-6);

    // A target outside the range is said to be so, and nothing is written.
    let other = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "breakeven",
            "tests/fixtures/breakeven.toml",
            "--vary",
            "revenue.segments.cloud.start_revenue_rmb_bn",
        ])
        .args([
            "--range",
            "1:5",
            "--target",
            "revenue_total_final_year_rmb_bn.mean=100",
            "--out",
        ])
        .arg(other.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot be reached within the range",
        ));
    // Nothing written but the lock file, which stays (removing it would break the lock).
    let left: Vec<_> = std::fs::read_dir(other.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [".cloudcapex.lock"]);
}

/// Tornado on a deterministic scenario with one uncertain input: final-year revenue is
/// linear in the start revenue, so its mean at the input's p10 and p90 is known exactly.
#[test]
fn tornado_moves_each_input_to_its_p10_and_p90() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "sensitivity",
            "tornado",
            "tests/fixtures/breakeven.toml",
            "--metric",
            "revenue_total_final_year_rmb_bn",
        ])
        .args([
            "--set",
            "revenue.segments.cloud.start_revenue_rmb_bn={ dist = \"uniform\", min = 5, max = 15 }",
        ])
        .args([
            "--set",
            "revenue.segments.cloud.initial_growth={ dist = \"uniform\", min = 0.19, max = 0.21 }",
        ])
        .args(["--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join("tornado_breakeven/tornado.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // Ranked by swing: the start revenue first.
    let mean_row = rows
        .iter()
        .find(|r| r[2] == "revenue.segments.cloud.start_revenue_rmb_bn" && r[7] == "mean")
        .unwrap();
    assert_eq!(mean_row[4], "1");
    let (low, high): (f64, f64) = (mean_row[5].parse().unwrap(), mean_row[6].parse().unwrap());
    assert!((low - 6.0).abs() < 1e-9 && (high - 14.0).abs() < 1e-9);
    // Growth at its median (0.2) while the start revenue moves.
    let growth: f64 = (5..=8).map(|t| 1.2f64.powf(t as f64 / 4.0)).sum();
    let at_low: f64 = mean_row[9].parse().unwrap();
    let at_high: f64 = mean_row[11].parse().unwrap();
    assert!(
        (at_low - 6.0 * growth).abs() < 1e-9 * at_low,
        "{at_low} vs {}",
        6.0 * growth
    );
    assert!((at_high - 14.0 * growth).abs() < 1e-9 * at_high);
}

/// Sobol indices of the model: one row per uncertain input plus the intrinsic-randomness
/// group; an input the metric does not depend on gets a total index of zero.
#[test]
fn sobol_indices_of_the_model() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "sensitivity",
            "sobol",
            "tests/fixtures/breakeven.toml",
            "--metric",
            "revenue_total_final_year_rmb_bn",
        ])
        .args([
            "--set",
            "revenue.segments.cloud.start_revenue_rmb_bn={ dist = \"uniform\", min = 5, max = 15 }",
        ])
        .args(["--set", "revenue.segments.cloud.iid_shock_sd=0.05"])
        .args(["--samples", "256", "--bootstrap", "50", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join("sobol_breakeven/sobol.csv")).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let inputs: Vec<&str> = rows.iter().map(|r| r[2]).collect();
    assert_eq!(
        inputs,
        [
            "revenue.segments.cloud.start_revenue_rmb_bn",
            "intrinsic_randomness"
        ]
    );
    for r in &rows {
        let (total, low, high): (f64, f64, f64) = (
            r[6].parse().unwrap(),
            r[7].parse().unwrap(),
            r[8].parse().unwrap(),
        );
        assert!(low <= total && total <= high && total > 0.0, "{r:?}");
    }
    // The start revenue dominates a 5% quarterly shock over two years.
    let start_total: f64 = rows[0][6].parse().unwrap();
    assert!(start_total > 0.8, "{start_total}");
}

/// `sensitivity sobol --second-order` writes one row per pair of inputs, in order, each
/// inside its interval and small (start revenue times growth interacts little over two
/// years); the first-order and total indices are unchanged by asking for them.
#[test]
fn sobol_second_order_indices_of_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &std::path::Path, second: bool| {
        let mut cmd = cloudcapex();
        cmd.args([
            "sensitivity",
            "sobol",
            "tests/fixtures/breakeven.toml",
            "--metric",
            "revenue_total_final_year_rmb_bn",
        ])
        .args([
            "--set",
            "revenue.segments.cloud.start_revenue_rmb_bn={ dist = \"uniform\", min = 5, max = 15 }",
        ])
        .args([
            "--set",
            "revenue.segments.cloud.initial_growth={ dist = \"uniform\", min = 0.1, max = 0.4 }",
        ])
        .args(["--set", "revenue.segments.cloud.iid_shock_sd=0.05"])
        .args(["--samples", "256", "--bootstrap", "50", "--out"])
        .arg(out);
        if second {
            cmd.arg("--second-order");
        }
        cmd.assert().success()
    };
    let with = dir.path().join("with");
    let printed = run(&with, true).get_output().stdout.clone();
    assert!(
        String::from_utf8(printed)
            .unwrap()
            .contains("Largest second-order indices (3 pairs")
    );
    run(&dir.path().join("without"), false);
    let text =
        std::fs::read_to_string(with.join("sobol_breakeven/sobol_second_order.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "scenario,metric,input_1,input_2,second_order,second_order_low,second_order_high,samples,evaluations,confidence,seed,scenario_sha256,cloudcapex_version"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let pairs: Vec<(&str, &str)> = rows.iter().map(|r| (r[2], r[3])).collect();
    assert_eq!(
        pairs,
        [
            (
                "revenue.segments.cloud.start_revenue_rmb_bn",
                "revenue.segments.cloud.initial_growth"
            ),
            (
                "revenue.segments.cloud.start_revenue_rmb_bn",
                "intrinsic_randomness"
            ),
            (
                "revenue.segments.cloud.initial_growth",
                "intrinsic_randomness"
            ),
        ]
    );
    for r in &rows {
        let (value, low, high): (f64, f64, f64) = (
            r[4].parse().unwrap(),
            r[5].parse().unwrap(),
            r[6].parse().unwrap(),
        );
        assert!(low <= value && value <= high && value.abs() < 0.1, "{r:?}");
        assert_eq!(r[8], (256 * (2 * 3 + 2)).to_string());
    }
    let first = |d: &std::path::Path| {
        std::fs::read_to_string(d.join("sobol_breakeven/sobol.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split(',').take(9).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
    };
    assert_eq!(first(&with), first(&dir.path().join("without")));
}

/// Progress bars appear only on a terminal: piped stderr stays empty on success.
#[test]
fn no_progress_output_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "3000", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

/// Explosive shocks overflow revenue: the run fails naming the path, metric and quarter,
/// and writes nothing.
#[test]
fn an_overflowing_path_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let output = cloudcapex()
        .args(["run", "--paths", "2000", "--quiet", "--out"])
        .arg(dir.path())
        .args([
            "--set",
            "revenue.segments.ai.persistent_shock_sd=1",
            "--set",
            "revenue.segments.ai.iid_shock_sd=1",
            "--set",
            "revenue.segments.ai.shock_persistence=0.99",
            "--set",
            "time.horizon_quarters=200",
            "--set",
            "risk.enabled=false",
        ])
        .assert()
        .failure()
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("produced a non-finite value") && stderr.contains("in quarter index"),
        "{stderr}"
    );
    assert!(!dir.path().join("base").exists());
}

/// Outputs get the permissions of any new file (0666 less the umask), not the owner-only
/// mode of a temporary file, so others sharing the machine's notebooks can read them.
#[cfg(target_os = "linux")]
#[test]
fn outputs_have_ordinary_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let umask = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "1024", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    // Every other command's files too: one writer for all of them.
    run_every_analysis_command(dir.path());
    let files = files_under(dir.path());
    for path in &files {
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o666 & !umask, "{}: {mode:o}", path.display());
    }
    let checked = files.len();
    assert!(checked >= 15, "{checked} files checked");
    for file in ["comparison/comparison.csv", "breakeven_base/breakeven.csv"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}

/// A stopping rule says on stderr whether it was met and at how many paths, --quiet or
/// not; --require-target makes an unreached target exit 1, the outputs still written.
#[test]
fn target_se_outcome_is_said_and_can_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], code: i32| -> String {
        let assert = cloudcapex()
            .arg("run")
            .args(args)
            .args(["--quiet", "--out"])
            .arg(dir.path())
            .assert()
            .code(code);
        String::from_utf8_lossy(&assert.get_output().stderr).to_string()
    };
    let unreached = run(&["--target-se", "0.01", "--max-paths", "2048"], 0);
    assert!(
        unreached.contains("NOT reached at 2048 paths"),
        "{unreached}"
    );
    let required = run(
        &[
            "--target-se",
            "0.01",
            "--max-paths",
            "2048",
            "--require-target",
        ],
        1,
    );
    assert!(required.contains("--require-target"), "{required}");
    assert!(dir.path().join("base").join("run.json").exists());
    let reached = run(&["--target-se", "5", "--require-target"], 0);
    assert!(reached.contains("reached at 2048 paths"), "{reached}");
}

/// A run owns its scenario folder: a second run without --report or --paths-out leaves
/// no report, charts or paths from the first, and the folder holds exactly what run.json
/// lists.
#[test]
fn a_rerun_leaves_no_stale_outputs() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["run", "--report", "--paths-out", "3", "--paths", "300"],
        vec!["run", "--antithetic", "--paths", "300"],
    ] {
        cloudcapex()
            .args(&args)
            .args(["--quiet", "--out"])
            .arg(dir.path())
            .assert()
            .success();
    }
    let folder = dir.path().join("base");
    // Every file but the hidden manifest (which lists them all with their hashes).
    let mut present: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".cloudcapex.manifest")
        .collect();
    present.sort();
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("run.json")).unwrap()).unwrap();
    let mut listed: Vec<String> = run["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(present, listed);
    assert!(
        !present
            .iter()
            .any(|f| f.ends_with(".svg") || f == "report.html" || f == "paths.csv")
    );
}

/// A resolved scenario.toml keeps its scenario's name, so two of them run together (and
/// into the folders of the originals); a name that is not a safe folder name is refused.
#[test]
fn resolved_scenarios_keep_their_names() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args([
            "run",
            "scenarios/base.toml",
            "scenarios/calm_world.toml",
            "--paths",
            "100",
            "--quiet",
            "--out",
        ])
        .arg(dir.path().join("first"))
        .assert()
        .success();
    cloudcapex()
        .arg("run")
        .arg(dir.path().join("first/base/scenario.toml"))
        .arg(dir.path().join("first/calm_world/scenario.toml"))
        .args(["--paths", "100", "--quiet", "--out"])
        .arg(dir.path().join("again"))
        .assert()
        .success();
    for name in ["base", "calm_world"] {
        let a = std::fs::read_to_string(dir.path().join("first").join(name).join("summary.csv"))
            .unwrap();
        let b = std::fs::read_to_string(dir.path().join("again").join(name).join("summary.csv"))
            .unwrap();
        assert_eq!(a, b, "{name}");
    }
    let refused = cloudcapex()
        .args([
            "validate",
            "scenarios/base.toml",
            "--set",
            "name=\"../elsewhere\"",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(stderr.contains("key `name`"), "{stderr}");
}

/// One provenance rule for every CSV any command writes: each row ends with the seed,
/// the scenario's SHA-256 and the crate version. The breakeven help example works on the
/// base scenario and reports the value's own standard error.
#[test]
fn every_csv_row_ends_with_its_provenance() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "200", "--paths-out", "2", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    run_every_analysis_command(dir.path());
    let mut checked = 0;
    for path in files_under(dir.path()) {
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let n = header.len();
        assert_eq!(
            header[n - 3..],
            ["seed", "scenario_sha256", "cloudcapex_version"],
            "{}",
            path.display()
        );
        for row in reader.records() {
            let row = row.unwrap();
            assert!(row[n - 3].parse::<u64>().is_ok(), "{}", path.display());
            assert_eq!(row[n - 2].len(), 64, "{}", path.display());
            assert!(!row[n - 1].is_empty(), "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 12, "{checked} CSV files checked");
    let breakeven =
        std::fs::read_to_string(dir.path().join("breakeven_base/breakeven.csv")).unwrap();
    assert!(breakeven.lines().next().unwrap().contains("value_se"));
}

/// Runs compare, sweep, breakeven (its help example), tornado and Sobol into `out`.
fn run_every_analysis_command(out: &std::path::Path) {
    for args in [
        vec![
            "compare",
            "scenarios/base.toml",
            "scenarios/calm_world.toml",
            "--paths",
            "200",
        ],
        vec![
            "sweep",
            "scenarios/base.toml",
            "--grid",
            "costs.tax_rate=0.1,0.2",
            "--paths",
            "200",
        ],
        vec![
            "breakeven",
            "scenarios/base.toml",
            "--vary",
            "plan.total_rmb_bn",
            "--range",
            "200:600",
            "--target",
            "plan_npv_rmb_bn.prob_negative=0.7",
            "--paths",
            "1000",
            "--tolerance",
            "5",
        ],
        vec![
            "sensitivity",
            "tornado",
            "scenarios/base.toml",
            "--paths",
            "100",
        ],
        vec![
            "sensitivity",
            "sobol",
            "scenarios/calm_world.toml",
            "--samples",
            "8",
            "--bootstrap",
            "5",
        ],
        vec![
            "sensitivity",
            "morris",
            "scenarios/base.toml",
            "--trajectories",
            "3",
            "--paths-per-point",
            "4",
        ],
        vec![
            "sensitivity",
            "regression",
            "scenarios/base.toml",
            "--paths",
            "200",
        ],
        vec![
            "backtest",
            "scenarios/base.toml",
            "--from",
            "2025Q1",
            "--rolling",
            "--paths",
            "200",
            "--report",
        ],
    ] {
        cloudcapex()
            .args(&args)
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    }
}

/// Every file under `dir`, subfolders included.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let (mut files, mut folders) = (Vec::new(), vec![dir.to_path_buf()]);
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// An `--out` that cannot be a folder (an existing file, a symbolic link to nothing) is
/// refused before any work, with exit 2, for every subcommand that writes.
#[test]
fn out_that_cannot_be_a_folder_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    std::fs::write(&file, "keep me").unwrap();
    let dangling = dir.path().join("dangling");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["run", "--paths", "64"],
        vec![
            "sensitivity",
            "tornado",
            "scenarios/base.toml",
            "--paths",
            "64",
        ],
        vec![
            "sensitivity",
            "sobol",
            "scenarios/base.toml",
            "--samples",
            "8",
        ],
    ];
    for args in &cases {
        cloudcapex()
            .args(args)
            .arg("--out")
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("is a file, not a folder"));
        #[cfg(unix)]
        cloudcapex()
            .args(args)
            .arg("--out")
            .arg(&dangling)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("symbolic link"));
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    assert!(!dir.path().join("missing").exists());
}

/// Two runs into the same `--out` at once cannot interleave files: the second is refused
/// while the first holds the lock, and a run killed mid-way releases it (the system drops
/// the advisory lock with the process), so the next run proceeds.
#[test]
fn concurrent_runs_into_one_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let binary = assert_cmd::cargo::cargo_bin("cloudcapex");
    let mut first = std::process::Command::new(&binary)
        .args(["run", "--paths", "5000000", "--quiet", "--out"])
        .arg(&out)
        .spawn()
        .unwrap();
    let lock = out.join(".cloudcapex.lock");
    for _ in 0..200 {
        if lock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(lock.exists(), "the first run took the lock");
    cloudcapex()
        .args(["run", "--paths", "64", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "another cloudcapex run is writing",
        ));
    first.kill().unwrap();
    first.wait().unwrap();
    cloudcapex()
        .args(["run", "--paths", "64", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
}

/// Interrupted while it writes (SIGINT, then SIGTERM), a run exits 130 and leaves no
/// temporary file, and the previous run's outputs are byte for byte as they were.
#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_the_previous_outputs_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    cloudcapex()
        .args([
            "run",
            "--paths",
            "500",
            "--paths-out",
            "3",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let folder = out.join("base");
    let snapshot = folder_bytes;
    let before = snapshot(&folder);
    let binary = assert_cmd::cargo::cargo_bin("cloudcapex");
    for signal in ["-INT", "-TERM"] {
        // Keeping 2,000 whole paths makes the write long enough to interrupt mid-way.
        let mut child = std::process::Command::new(&binary)
            .args([
                "run",
                "--paths",
                "2000",
                "--paths-out",
                "2000",
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .spawn()
            .unwrap();
        // Files are written into a staging folder beside the outputs.
        let writing = || {
            std::fs::read_dir(&out).unwrap().any(|e| {
                let staging = e.unwrap().path();
                staging
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(".cloudcapex.staging-"))
                    && std::fs::read_dir(staging.join("new/base")).is_ok_and(|mut files| {
                        files.any(|f| f.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
                    })
            })
        };
        for _ in 0..2_000 {
            if writing() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(writing(), "the run reached its writing phase");
        std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{signal}");
        assert_eq!(
            snapshot(&folder),
            before,
            "{signal}: outputs changed or temp files left"
        );
        let staged = std::fs::read_dir(&out)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".cloudcapex.staging-")
            })
            .count();
        assert_eq!(staged, 0, "{signal}: a staging folder was left");
    }
}

/// Every file of an output folder, by name, with its bytes (sorted).
#[cfg(unix)]
fn folder_bytes(folder: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// A run that cannot write (a full disk, a file-size limit) fails with exit 1 naming the
/// file and the system's reason, leaves no temporary file, and leaves the previous run's
/// outputs byte for byte whole. A first run that fails leaves no empty folder.
#[cfg(unix)]
fn full_disk_case(out: &std::path::Path, limited: impl Fn(&[&str]) -> std::process::Output) {
    let first = limited(&["run", "--paths", "2000", "--paths-out", "2000", "--quiet"]);
    assert_eq!(first.status.code(), Some(1), "{first:?}");
    assert!(
        !out.join("base").exists(),
        "a failed first run left a folder"
    );
    cloudcapex()
        .args(["run", "--paths", "500", "--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
    let before = folder_bytes(&out.join("base"));
    let again = limited(&[
        "run",
        "--paths",
        "2000",
        "--paths-out",
        "2000",
        "--report",
        "--quiet",
    ]);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert_eq!(
        folder_bytes(&out.join("base")),
        before,
        "earlier outputs changed"
    );
}

/// Under a file-size limit (`ulimit -f`, which would otherwise kill the process with
/// SIGXFSZ mid-write), and on a small tmpfs where this machine lets the test mount one.
#[cfg(unix)]
#[test]
fn a_full_disk_fails_cleanly_keeping_earlier_outputs() {
    let binary = assert_cmd::cargo::cargo_bin("cloudcapex");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // 64 blocks of 512 bytes: the summary files fit, the kept paths do not.
    full_disk_case(&out, |args| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -f 64 && exec \"$@\"")
            .arg("sh")
            .arg(&binary)
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    });

    let mount_point = dir.path().join("small");
    std::fs::create_dir(&mount_point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mount_point)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("skipped the tmpfs half: this machine does not let the test mount a tmpfs");
        return;
    }
    struct Unmount<'a>(&'a std::path::Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mount_point);
    let out = mount_point.join("out");
    full_disk_case(&out, |args| {
        std::process::Command::new(&binary)
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    });
}

/// `--drivers` writes one wide row per path (every path), and is refused beyond its limit.
#[test]
fn drivers_csv_has_a_row_per_path() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "1200", "--drivers", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join("base/drivers.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &header[..3],
        ["scenario", "path", "revenue.segments.ai.initial_growth"]
    );
    assert!(header.contains(&"risk.regime_share.calm") && header.contains(&"plan_npv_rmb_bn"));
    assert_eq!(
        header[header.len() - 3..],
        ["seed", "scenario_sha256", "cloudcapex_version"]
    );
    assert_eq!(lines.count(), 1200);
    cloudcapex()
        .args(["run", "--paths", "2000000", "--drivers", "--out"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--drivers writes a row per path"));
}

/// `sensitivity sobol --export-samples` writes a SALib problem and the design, running
/// nothing; `--import-samples` refuses a matrix of the wrong width, naming the line.
#[test]
fn sobol_samples_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let design = dir.path().join("design");
    cloudcapex()
        .args([
            "sensitivity",
            "sobol",
            "scenarios/base.toml",
            "--samples",
            "8",
            "--export-samples",
        ])
        .arg(&design)
        .assert()
        .success();
    let problem: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(design.join("problem.json")).unwrap())
            .unwrap();
    let k = problem["num_vars"].as_u64().unwrap() as usize;
    assert_eq!(problem["names"][k - 1], "intrinsic_randomness");
    let samples = std::fs::read_to_string(design.join("samples.csv")).unwrap();
    assert_eq!(samples.lines().count(), 1 + 8 * (k + 2));
    assert_eq!(problem["calc_second_order"], false);
    cloudcapex()
        .args([
            "sensitivity",
            "sobol",
            "scenarios/base.toml",
            "--samples",
            "8",
        ])
        .args(["--second-order", "--export-samples"])
        .arg(dir.path().join("design2"))
        .assert()
        .success();
    let samples = std::fs::read_to_string(dir.path().join("design2/samples.csv")).unwrap();
    assert_eq!(samples.lines().count(), 1 + 8 * (2 * k + 2));
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "0.5 0.5\n").unwrap();
    cloudcapex()
        .args([
            "sensitivity",
            "sobol",
            "scenarios/base.toml",
            "--import-samples",
        ])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 1: expected"));
}

/// Without the cargo feature `parquet`, `--format parquet` is refused before any work,
/// saying how to get it; nothing is written.
#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_needs_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    cloudcapex()
        .args(["run", "--paths", "100", "--format", "csv,parquet", "--out"])
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--features parquet"));
    assert!(!dir.path().join("out").exists());
    cloudcapex()
        .args(["run", "--paths", "100", "--format", "xlsx"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values: csv, parquet"));
}

/// A seed a scenario file cannot hold (TOML integers are signed 64-bit) is refused before
/// any work; a folder in the way of an output file fails the run before any file is
/// replaced, leaving the earlier outputs whole.
#[test]
fn outputs_are_not_mixed_when_a_run_cannot_finish() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    cloudcapex()
        .args([
            "run",
            "--paths",
            "100",
            "--seed",
            "9223372036854775808",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--seed"));
    assert!(!out.exists());
    cloudcapex()
        .args(["run", "--paths", "100", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(out.join("base"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    std::fs::create_dir(out.join("base/paths.csv")).unwrap();
    cloudcapex()
        .args([
            "run",
            "--paths",
            "200",
            "--paths-out",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("paths.csv").and(predicate::str::contains("folder")));
    for (path, bytes) in before {
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{}", path.display());
    }
}

/// With --second-order at the smallest sample every interval is a number (resamples
/// without variance are left out), and a later run without it removes the stale file.
#[test]
fn sobol_intervals_are_numbers_and_stale_second_order_files_go() {
    let dir = tempfile::tempdir().unwrap();
    let sobol = |extra: &[&str]| {
        cloudcapex()
            .args(["sensitivity", "sobol", "tests/fixtures/breakeven.toml"])
            .args(["--metric", "revenue_total_final_year_rmb_bn"])
            .args([
                "--set",
                "revenue.segments.cloud.start_revenue_rmb_bn={ dist = \"uniform\", min = 5, max = 15 }",
            ])
            .args(["--set", "revenue.segments.cloud.iid_shock_sd=0.05", "--quiet", "--out"])
            .arg(dir.path())
            .args(extra)
            .assert()
            .success();
    };
    sobol(&["--samples", "2", "--second-order"]);
    let folder = dir.path().join("sobol_breakeven");
    for file in ["sobol.csv", "sobol_second_order.csv"] {
        let text = std::fs::read_to_string(folder.join(file)).unwrap();
        assert!(!text.contains(",,"), "{file} has an empty cell:\n{text}");
    }
    sobol(&["--samples", "16"]);
    assert!(!folder.join("sobol_second_order.csv").exists());
}

/// The default run says the plan's answer first: the date and rate the NPV is valued at,
/// its mean with the Monte Carlo SE, its median and P(NPV < 0), and the median IRR beside
/// the discount rate (the first impression of a new user, before any table).
#[test]
fn the_default_run_opens_with_the_plans_answer() {
    let dir = tempfile::tempdir().unwrap();
    let output = cloudcapex()
        .args(["run", "--paths", "2048", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let first: Vec<&str> = stdout.lines().take(10).collect();
    assert!(
        first[0].starts_with("Verdict for `base`: the plan") && first[0].contains(" RMB bn"),
        "{stdout}"
    );
    assert!(
        first[1].starts_with("The plan: NPV in RMB bn valued at 2025Q1")
            && first[1].contains("valuation.discount_rate: triangular 7.2–10.5%"),
        "{stdout}"
    );
    assert!(first[2].contains("P(NPV < 0) = "), "{stdout}");
    assert!(
        first[3].contains("IRR median") && first[3].contains("discount rate's median 8.9%"),
        "{stdout}"
    );
    // The decision as of the start quarter, and what the business is worth.
    assert!(
        first[4].contains("Continue or stop as of 2026Q1 (spend before it sunk)"),
        "{stdout}"
    );
    assert!(
        first[5].contains("The cloud business with the plan: EV ")
            && first[5].contains("x trailing sales"),
        "{stdout}"
    );
    // The three drivers, measured on this run's paths, before any table.
    assert!(
        first[6].starts_with(
            "What moves the NPV most on these paths (linear fit on the first 2048 paths"
        ),
        "{stdout}"
    );
    for (k, line) in first[7..10].iter().enumerate() {
        assert!(
            line.starts_with(&format!("  {}. ", k + 1)) && line.contains(" RMB bn, "),
            "{stdout}"
        );
    }
    assert!(first[7].contains("revenue.segments.ai."), "{stdout}");
    let tables = stdout.find("scenario base | 2048 paths").unwrap();
    assert!(stdout.find("  3. ").unwrap() < tables, "{stdout}");
    // The tables show readable labels with units, not the CSV's snake_case names.
    assert!(stdout.contains("\nPlan NPV (RMB bn) "), "{stdout}");
    assert!(stdout.contains("\nPlan IRR (%/yr) "), "{stdout}");
    assert!(!stdout.contains("plan_npv_rmb_bn"), "{stdout}");
}

/// `run --name NAME` labels a variant without editing its file: its folder is OUT/NAME/,
/// every CSV's `scenario` column says NAME, and nothing else changes (the hash covers the
/// assumptions, not the name); run.json records it as `name="NAME"` among the overrides.
/// With two files, or a name no folder can take, it is refused before anything runs.
#[test]
fn run_name_labels_the_run_and_only_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        cloudcapex()
            .args([
                "run",
                "scenarios/base.toml",
                "--paths",
                "1024",
                "--quiet",
                "--out",
            ])
            .arg(dir.path())
            .args(extra)
            .assert()
            .success();
    };
    run(&[]);
    run(&["--name", "base fast ai"]);
    let named = dir.path().join("base fast ai");
    let read =
        |folder: &std::path::Path, file: &str| std::fs::read_to_string(folder.join(file)).unwrap();
    let base = dir.path().join("base");
    for file in ["summary.csv", "quarterly.csv", "convergence.csv"] {
        let (plain, renamed) = (read(&base, file), read(&named, file));
        assert!(
            renamed
                .lines()
                .skip(1)
                .all(|l| l.starts_with("base fast ai,")),
            "{file}"
        );
        assert_eq!(
            plain.replace("\nbase,", "\nbase fast ai,"),
            renamed,
            "{file}: only the name differs"
        );
    }
    let json = read(&named, "run.json");
    assert!(json.contains("\"scenario\": \"base fast ai\""), "{json}");
    assert!(json.contains(r#""name=\"base fast ai\"""#), "{json}");
    let sha = |text: &str| {
        text.lines()
            .find(|l| l.contains("scenario_sha256"))
            .unwrap()
            .to_string()
    };
    assert_eq!(sha(&json), sha(&read(&base, "run.json")));

    let refused = cloudcapex()
        .args([
            "run",
            "scenarios/base.toml",
            "scenarios/ai_boom.toml",
            "--name",
            "x",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .code(2);
    let stderr = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("--name names one run, and 2 scenario files were given"),
        "{stderr}"
    );
    for bad in ["comparison_report", "../up", "a/b", &"n".repeat(101)] {
        cloudcapex()
            .args(["run", "--paths", "16", "--name", bad, "--out"])
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "cannot name the run's output folder",
            ));
    }
    assert!(!dir.path().join("x").exists() && !dir.path().join("comparison_report").exists());
}

/// A reader that stops early (`cloudcapex run | head -1`) ends the run quietly: no panic on
/// a broken pipe, and the run's outputs are whole.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_run_without_a_panic() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    // Every shipped scenario: over 100 kB of console, more than a pipe's buffer holds.
    let mut scenarios: Vec<std::path::PathBuf> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    scenarios.sort();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cloudcapex"))
        .arg("run")
        .args(&scenarios)
        .args(["--paths", "1024", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close the pipe, as `head -c 1` would.
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    stdout.read_exact(&mut byte).unwrap();
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        status.signal(),
        Some(libc::SIGPIPE),
        "the pipe was closed early"
    );
    assert!(dir.path().join("base/summary.csv").is_file());
}
