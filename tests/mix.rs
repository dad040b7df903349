//! `cloudcapex mix`: a weight of 1 reproduces `run` byte for byte; a real mixture is the
//! same on any thread count, its mean NPV agrees with the weighted means of its
//! components' own runs and its paths follow the weights; bad arguments and components
//! that cannot be mixed are refused (exit 2) with nothing written.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn cloudcapex() -> Command {
    Command::cargo_bin("cloudcapex").unwrap()
}

const BOOM: &str = "scenarios/ai_boom.toml";
const BASE: &str = "scenarios/base.toml";
const SLOWDOWN: &str = "scenarios/slowdown.toml";

/// run.json without its timing and thread count (the lines two runs of the same inputs
/// may differ in).
fn run_json_without_timing(folder: &Path) -> String {
    std::fs::read_to_string(folder.join("run.json"))
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"elapsed_seconds\"") && !l.contains("\"threads\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every file of `a` (hidden manifest aside) is in `b` with the same bytes, run.json
/// apart from timing and threads, and `b` has no other file.
fn assert_same_folders(a: &Path, b: &Path) {
    let names = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(a), names(b));
    for name in names(a) {
        if name == "run.json" {
            let same = run_json_without_timing(a) == run_json_without_timing(b);
            assert!(same, "run.json differs between {a:?} and {b:?}");
        } else {
            let (x, y) = (
                std::fs::read(a.join(&name)).unwrap(),
                std::fs::read(b.join(&name)).unwrap(),
            );
            assert!(x == y, "{name} differs between {a:?} and {b:?}");
        }
    }
}

/// The `column` of `summary.csv`'s row of `metric`.
fn summary_value(folder: &Path, metric: &str, column: &str) -> f64 {
    let text = std::fs::read_to_string(folder.join("summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    let metric_at = header.iter().position(|h| *h == "metric").unwrap();
    let row = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[metric_at] == metric)
        .unwrap();
    row[at].parse().unwrap()
}

#[test]
fn weight_one_on_base_is_the_plain_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let common = ["--paths", "2000", "--paths-out", "10", "--threads", "2"];
    cloudcapex()
        .args(["run", BASE, "--quiet", "--out"])
        .arg(dir.path().join("run"))
        .args(common)
        .assert()
        .success();
    cloudcapex()
        .args(["mix", &format!("{BASE}=1"), "--quiet", "--out"])
        .arg(dir.path().join("mix"))
        .args(common)
        .assert()
        .success();
    let (run, mix) = (dir.path().join("run/base"), dir.path().join("mix/base"));
    assert!(run.join("drivers.csv").is_file() && run.join("paths.csv").is_file());
    assert_same_folders(&run, &mix);
}

#[test]
fn a_mixture_is_the_same_on_1_2_and_4_threads_and_agrees_with_its_components() {
    let dir = tempfile::tempdir().unwrap();
    // The scenarios' own seed (the base's announcement date), given explicitly.
    let (paths, seed) = (3000u64, "20250224");
    let mix = |threads: &str, out: &str| {
        cloudcapex()
            .args([
                "mix",
                &format!("{BOOM}=0.25"),
                &format!("{BASE}=0.5"),
                &format!("{SLOWDOWN}=0.25"),
                "--paths",
                &paths.to_string(),
                "--seed",
                seed,
                "--paths-out",
                "50",
                "--quiet",
                "--threads",
                threads,
                "--out",
            ])
            .arg(dir.path().join(out))
            .assert()
            .success();
        dir.path().join(out).join("mix")
    };
    let (one, two, four) = (mix("1", "one"), mix("2", "two"), mix("4", "four"));
    assert_same_folders(&one, &two);
    assert_same_folders(&one, &four);
    for file in ["mix.csv", "mix_paths.csv", "scenario.toml", "quarterly.csv"] {
        assert!(one.join(file).is_file(), "{file}");
    }
    assert!(!one.join("drivers.csv").exists());
    // The components' own runs on the same seed and path count.
    let mut weighted_mean = 0.0;
    for (file, weight) in [(BOOM, 0.25), (BASE, 0.5), (SLOWDOWN, 0.25)] {
        cloudcapex()
            .args(["run", file, "--paths", &paths.to_string(), "--seed", seed])
            .args(["--quiet", "--out"])
            .arg(dir.path().join("own"))
            .assert()
            .success();
        let name = Path::new(file).file_stem().unwrap().to_str().unwrap();
        let own = dir.path().join("own").join(name);
        weighted_mean += weight * summary_value(&own, "plan_npv_rmb_bn", "mean");
    }
    let (mean, se) = (
        summary_value(&one, "plan_npv_rmb_bn", "mean"),
        summary_value(&one, "plan_npv_rmb_bn", "se"),
    );
    assert!(
        (mean - weighted_mean).abs() <= 4.0 * se,
        "mixture mean {mean} ± {se}, weighted component means {weighted_mean}"
    );
    // Paths per component within 4 binomial standard deviations of n·w.
    let table = std::fs::read_to_string(one.join("mix.csv")).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut assigned = 0;
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        let weight: f64 = row[col("weight")].parse().unwrap();
        let count: u64 = row[col("paths")].parse().unwrap();
        let sd = (paths as f64 * weight * (1.0 - weight)).sqrt();
        assert!(
            (count as f64 - paths as f64 * weight).abs() <= 4.0 * sd,
            "{line}"
        );
        assigned += count;
    }
    assert_eq!(assigned, paths);
}

/// Each refused command exits 2 without creating its output folder.
fn assert_refused(args: &[&str], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    cloudcapex()
        .arg("mix")
        .args(args)
        .args(["--paths", "1024", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message));
    assert!(!out.exists(), "{args:?} wrote {out:?}");
}

#[test]
fn bad_weights_and_arguments_are_refused_before_any_work() {
    let weights = [
        format!("{BOOM}=0.25"),
        format!("{BASE}=0.5"),
        format!("{SLOWDOWN}=0.2"),
    ];
    let weights: Vec<&str> = weights.iter().map(String::as_str).collect();
    assert_refused(&weights, "the weights sum to 0.95");
    assert_refused(&[BASE], "expected FILE=WEIGHT");
    assert_refused(&[&format!("{BASE}=half")], "is not a number");
    assert_refused(&[&format!("{BASE}=-1")], "positive finite");
    assert_refused(&["scenarios/nope.toml=1"], "no such scenario file");
    let halves = [format!("{BASE}=0.5"), format!("{BOOM}=0.5")];
    assert_refused(
        &[&halves[0], &halves[1], "--shard", "0/2"],
        "a mix is not sharded",
    );
    assert_refused(&[&halves[0], &halves[1], "--report"], "not supported");
}

#[test]
fn components_of_another_layout_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(BASE).unwrap();
    let short = dir.path().join("short.toml");
    std::fs::write(
        &short,
        format!(
            "extends = {:?}\n[time]\nhorizon_quarters = 20\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let short = short.display().to_string();
    assert_refused(
        &[&format!("{BASE}=0.5"), &format!("{short}=0.5")],
        "short.toml cannot be mixed with the lead scenarios/base.toml: horizon of 20 quarters",
    );
}

#[test]
fn a_named_mixture_records_its_components_and_hash_everywhere() {
    use cloudcapex::Scenario;
    use cloudcapex::runner::{MixtureAssignment, mixture_sha256};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let weights = [(BOOM, 0.25), (BASE, 0.5), (SLOWDOWN, 0.25)];
    let args: Vec<String> = weights.iter().map(|(f, w)| format!("{f}={w}")).collect();
    cloudcapex()
        .arg("mix")
        .args(&args)
        .args([
            "--name",
            "boom_base_slow",
            "--paths",
            "1100",
            "--paths-out",
            "7",
        ])
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let folder = out.join("boom_base_slow");
    let seed = Scenario::load(BOOM, &[]).unwrap().simulation().seed;
    let scenarios: Vec<Scenario> = weights
        .iter()
        .map(|(f, _)| {
            let s = Scenario::load(f, &[]).unwrap().with_seed(seed);
            s.with_paths(1100).unwrap()
        })
        .collect();
    let hashed: Vec<(&Scenario, f64)> = scenarios
        .iter()
        .zip(weights)
        .map(|(s, (_, w))| (s, w))
        .collect();
    let hash = mixture_sha256(&hashed);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["scenario"], "boom_base_slow");
    assert_eq!(json["scenario_sha256"], hash.as_str());
    let components = json["mixture"].as_array().unwrap();
    assert_eq!(components.len(), 3);
    let paths: u64 = components
        .iter()
        .map(|c| c["paths"].as_u64().unwrap())
        .sum();
    assert_eq!(paths, 1100);
    for (c, s) in components.iter().zip(&scenarios) {
        assert_eq!(c["scenario_sha256"], s.sha256().as_str());
    }
    for file in ["quarterly.csv", "summary.csv", "mix.csv"] {
        let text = std::fs::read_to_string(folder.join(file)).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("boom_base_slow,"), "{file}: {row}");
        assert!(row.contains(&hash), "{file}: {row}");
    }
    // The kept paths' components follow the assignment.
    let assignment = MixtureAssignment::new(seed, &[0.25, 0.5, 0.25]).unwrap();
    let kept = std::fs::read_to_string(folder.join("mix_paths.csv")).unwrap();
    let rows: Vec<&str> = kept.lines().skip(1).collect();
    assert_eq!(rows.len(), 7);
    for (p, row) in rows.iter().enumerate() {
        let expected = scenarios[assignment.component(p as u64)].name();
        assert_eq!(*row, format!("boom_base_slow,{p},{expected}"));
    }
    // scenario.toml holds each component's resolved scenario with its weight.
    let toml: toml::Table =
        toml::from_str(&std::fs::read_to_string(folder.join("scenario.toml")).unwrap()).unwrap();
    let listed = toml["component"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[1]["weight"].as_float(), Some(0.5));
    assert_eq!(listed[2]["scenario"]["name"].as_str(), Some("slowdown"));
    // A run's folder of the mixture's name is not replaced by a mixture.
    cloudcapex()
        .args(["run", BASE, "--paths", "1024", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    cloudcapex()
        .arg("mix")
        .args(&args)
        .args(["--name", "base", "--paths", "1024", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds a run output"));
}
