//! Outputs are byte-identical for any thread count; the seed alone decides the numbers.

use std::path::Path;

use assert_cmd::Command;

const FILES: [&str; 7] = [
    "quarterly.csv",
    "summary.csv",
    "fiscal_years.csv",
    "consensus.csv",
    "paths.csv",
    "path_scalars.csv",
    "scenario.toml",
];

/// Runs the base scenario (5,000 paths: five blocks, one of them partial) and returns the
/// output folder.
fn run(dir: &Path, threads: &str, seed: &str) -> std::path::PathBuf {
    let out = dir.join(format!("t{threads}_s{seed}"));
    Command::cargo_bin("cloudcapex")
        .unwrap()
        .args([
            "run",
            "scenarios/base.toml",
            "--paths",
            "5000",
            "--paths-out",
            "3",
            "--quiet",
        ])
        .args(["--threads", threads, "--seed", seed, "--out"])
        .arg(&out)
        .assert()
        .success();
    out.join("base")
}

fn read(folder: &Path, file: &str) -> Vec<u8> {
    std::fs::read(folder.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", folder.join(file).display()))
}

/// run.json without the two fields allowed to differ.
fn run_json_without_timing(folder: &Path) -> serde_json::Value {
    let mut json: serde_json::Value = serde_json::from_slice(&read(folder, "run.json")).unwrap();
    let object = json.as_object_mut().unwrap();
    object.remove("threads");
    object.remove("elapsed_seconds");
    json
}

#[test]
fn outputs_are_identical_on_1_2_and_4_threads() {
    let dir = tempfile::tempdir().unwrap();
    let one = run(dir.path(), "1", "7");
    for threads in ["2", "4"] {
        let other = run(dir.path(), threads, "7");
        for file in FILES {
            assert!(
                read(&one, file) == read(&other, file),
                "{file} differs on {threads} threads"
            );
        }
        assert_eq!(
            run_json_without_timing(&one),
            run_json_without_timing(&other)
        );
    }
}

#[test]
fn same_seed_same_bytes_different_seed_different_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), "2", "11");
    let again = {
        let sub = dir.path().join("again");
        run(&sub, "2", "11")
    };
    for file in FILES {
        assert!(
            read(&first, file) == read(&again, file),
            "{file} differs between identical runs"
        );
    }
    let other = run(dir.path(), "2", "12");
    let a = String::from_utf8(read(&first, "summary.csv")).unwrap();
    let b = String::from_utf8(read(&other, "summary.csv")).unwrap();
    let means = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').nth(3).unwrap().to_string())
            .collect()
    };
    assert!(
        means(&a).iter().zip(means(&b)).all(|(x, y)| *x != y),
        "a different seed should move every mean"
    );
    // The scenario hash covers the assumptions only, so it does not change with the seed.
    let hash = |text: &str| {
        text.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(16)
            .unwrap()
            .to_string()
    };
    assert_eq!(hash(&a), hash(&b));
}

/// A run with a target standard error stops at the same block, and writes the same bytes,
/// on any thread count; its convergence.csv ends at the target.
#[test]
fn target_se_stops_at_the_same_block_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        Command::cargo_bin("cloudcapex")
            .unwrap()
            .args([
                "run",
                "--target-se",
                "plan_npv_rmb_bn=3.0",
                "--max-paths",
                "50000",
                "--quiet",
            ])
            .args(["--threads", threads, "--out"])
            .arg(&out)
            .assert()
            .success();
        out.join("base")
    };
    let (one, four) = (run("1"), run("4"));
    for file in [
        "quarterly.csv",
        "summary.csv",
        "convergence.csv",
        "scenario.toml",
    ] {
        assert!(read(&one, file) == read(&four, file), "{file} differs");
    }
    let json = run_json_without_timing(&one);
    assert_eq!(json["target_se"]["reached"], true);
    assert!(json["target_se"]["achieved"].as_f64().unwrap() <= 3.0);
    let paths = json["paths"].as_u64().unwrap();
    assert!(
        paths.is_multiple_of(1024) && paths < 50_000,
        "stopped at {paths}"
    );
    let convergence = String::from_utf8(read(&one, "convergence.csv")).unwrap();
    let last_npv = convergence
        .lines()
        .rfind(|l| l.contains(",plan_npv_rmb_bn,"))
        .unwrap()
        .to_string();
    let fields: Vec<&str> = last_npv.split(',').collect();
    assert_eq!(fields[2], paths.to_string());
    assert!(fields[5].parse::<f64>().unwrap() <= 3.0);
}

/// Antithetic runs are byte-identical on any thread count too.
#[test]
fn antithetic_outputs_are_identical_on_1_and_4_threads() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| {
        let out = dir.path().join(format!("t{threads}"));
        Command::cargo_bin("cloudcapex")
            .unwrap()
            .args([
                "run",
                "--antithetic",
                "--paths",
                "3000",
                "--quiet",
                "--threads",
                threads,
                "--out",
            ])
            .arg(&out)
            .assert()
            .success();
        out.join("base")
    };
    let (one, four) = (run("1"), run("4"));
    for file in ["quarterly.csv", "summary.csv", "convergence.csv"] {
        assert!(read(&one, file) == read(&four, file), "{file} differs");
    }
    assert!(
        run_json_without_timing(&one)["antithetic_se_reduction_factor"]["plan_npv_rmb_bn"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}
