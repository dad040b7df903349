//! Runs killed at random moments (SIGINT, SIGTERM, SIGKILL): after each kill, every folder
//! in `OUT` is entirely one run's (its manifest verifies, and `run.json`, `summary.csv` and
//! `quarterly.csv` name one seed), and the next run finishes or removes what the killed one
//! left. docs/reliability.md, "Guarantees".

#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_cloudcapex");
const SCENARIOS: [&str; 2] = ["scenarios/base.toml", "scenarios/calm_world.toml"];

fn start(out: &Path, seed: u64) -> std::process::Child {
    Command::new(BIN)
        .args([
            "run",
            "--quiet",
            "--paths",
            "1024",
            "--report",
            "--paths-out",
            "8",
        ])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(out)
        .args(SCENARIOS)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The seed a CSV's rows carry (the provenance column `seed`, the same on every row).
fn csv_seed(path: &Path) -> u64 {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "seed")
        .unwrap();
    let seeds: std::collections::BTreeSet<u64> = reader
        .records()
        .map(|r| r.unwrap()[column].parse().unwrap())
        .collect();
    assert_eq!(seeds.len(), 1, "{}: rows of several seeds", path.display());
    seeds.into_iter().next().unwrap()
}

/// Every scenario folder (and the comparison page) is one run's whole output.
fn check_whole(out: &Path, context: &str) {
    for name in ["base", "calm_world", "comparison_report"] {
        let folder = out.join(name);
        if !folder.exists() {
            continue;
        }
        let inspection = cloudcapex::output::manifest::inspect(&folder)
            .unwrap_or_else(|f| panic!("{context}: {} is {}", f.path.display(), f.reason));
        assert!(inspection.manifest.is_some(), "{context}: {name} unsealed");
        if name == "comparison_report" {
            continue;
        }
        let run: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("run.json")).unwrap()).unwrap();
        let seed = run["seed"].as_u64().unwrap();
        for table in ["summary.csv", "quarterly.csv", "path_scalars.csv"] {
            if table == "path_scalars.csv" && !folder.join(table).exists() {
                continue; // a run without --paths-out
            }
            assert_eq!(
                csv_seed(&folder.join(table)),
                seed,
                "{context}: {name}/{table} is not of the run run.json describes"
            );
        }
    }
    // Nothing half-written in view: only the lock and hidden staging folders besides the
    // outputs.
    for entry in std::fs::read_dir(out).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            [
                "base",
                "calm_world",
                "comparison_report",
                ".cloudcapex.lock"
            ]
            .contains(&name.as_str())
                || name.starts_with(".cloudcapex.staging-"),
            "{context}: unexpected {name} in OUT"
        );
    }
}

#[test]
fn runs_killed_at_random_moments_leave_whole_folders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // A first whole run, and how long one takes.
    let started = Instant::now();
    assert!(start(&out, 1).wait().unwrap().success());
    let duration = started.elapsed();
    check_whole(&out, "first run");
    // Delays spread over a whole run, its writing and commit included; a fixed generator,
    // so a failure replays.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let kills = std::env::var("CLOUDCAPEX_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(210);
    let signals = [libc::SIGINT, libc::SIGTERM, libc::SIGKILL];
    let mut killed_after_start = 0;
    for k in 0..kills {
        let signal = signals[k % 3];
        let delay = duration.mul_f64((next() % 1200) as f64 / 1000.0);
        let mut child = start(&out, 2 + k as u64);
        std::thread::sleep(delay);
        // SAFETY: signalling our own child, which has not been reaped (try_wait below).
        if child.try_wait().unwrap().is_none() {
            unsafe {
                libc::kill(child.id() as libc::pid_t, signal);
            }
            killed_after_start += 1;
        }
        let status = child.wait().unwrap();
        let context = format!("kill {k} (signal {signal} after {delay:?}, {status})");
        check_whole(&out, &context);
    }
    assert!(
        killed_after_start >= kills * 3 / 4,
        "only {killed_after_start} of {kills} runs were still running when signalled"
    );
    // The next run finishes or removes every leftover, and says so.
    let output = Command::new(BIN)
        .args(["run", "--quiet", "--paths", "1024", "--seed", "99", "--out"])
        .arg(&out)
        .args(SCENARIOS)
        .output()
        .unwrap();
    assert!(output.status.success());
    check_whole(&out, "after the kills");
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".cloudcapex.staging-"))
        .collect();
    assert!(left.is_empty(), "leftovers after a whole run: {left:?}");
    // A run without --report replaced both pages' subjects: the comparison page went too.
    assert!(!out.join("comparison_report").exists());
}
