//! `run --shard I/N` and `merge`: merged outputs are byte-identical to an unsharded run
//! for any split, and a merge refuses missing, duplicated, damaged and foreign shards,
//! naming them; re-running a missing shard completes the run with the same bytes.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn cloudcapex() -> Command {
    Command::cargo_bin("cloudcapex").unwrap()
}

/// Every output a run and a merge both write, except run.json (threads and timings).
const COMPARED: [&str; 9] = [
    "quarterly.csv",
    "summary.csv",
    "convergence.csv",
    "fiscal_years.csv",
    "consensus.csv",
    "paths.csv",
    "path_scalars.csv",
    "drivers.csv",
    "scenario.toml",
];

const RUN: [&str; 8] = [
    "run",
    "scenarios/base.toml",
    "--paths",
    "7300",
    "--paths-out",
    "5",
    "--quiet",
    "--out",
];

fn shard(out: &Path, spec: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    cloudcapex()
        .args(RUN)
        .arg(out)
        .args(["--shard", spec])
        .args(extra)
        .assert()
}

fn merge(shards: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    cloudcapex()
        .arg("merge")
        .arg(shards)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
}

fn assert_same_outputs(plain: &Path, merged: &Path) {
    for file in COMPARED {
        let (a, b) = (plain.join(file), merged.join(file));
        if a.exists() || b.exists() {
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "{file} differs"
            );
        }
    }
}

#[test]
fn merged_outputs_are_byte_identical_for_any_split() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    cloudcapex()
        .args(RUN)
        .arg(&plain)
        .args(["--drivers", "--threads", "2"])
        .assert()
        .success();
    for count in [1, 2, 3, 7] {
        let shards = dir.path().join(format!("shards_{count}"));
        for index in 0..count {
            shard(&shards, &format!("{index}/{count}"), &["--threads", "1"]).success();
            assert!(
                shards
                    .join(format!("base/shard-{index}-of-{count}.ccx"))
                    .exists()
            );
        }
        let merged = dir.path().join(format!("merged_{count}"));
        merge(&shards, &merged, &["--drivers"]).success();
        assert_same_outputs(&plain.join("base"), &merged.join("base"));
        let listed = std::fs::read_to_string(merged.join("base/run.json")).unwrap();
        assert!(listed.contains("drivers.csv"), "{listed}");
    }
}

/// Antithetic pairs shard too: the pair statistics merge in block order.
#[test]
fn antithetic_runs_merge_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    cloudcapex()
        .args(RUN)
        .arg(&plain)
        .arg("--antithetic")
        .assert()
        .success();
    let shards = dir.path().join("shards");
    for index in 0..3 {
        shard(&shards, &format!("{index}/3"), &["--antithetic"]).success();
    }
    merge(&shards, &dir.path().join("merged"), &[]).success();
    assert_same_outputs(&plain.join("base"), &dir.path().join("merged/base"));
}

#[test]
fn a_missing_shard_is_named_and_rerunning_it_completes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let shards = dir.path().join("shards");
    for index in [0, 2, 3] {
        shard(&shards, &format!("{index}/4"), &[]).success();
    }
    let merged = dir.path().join("merged");
    merge(&shards, &merged, &[]).code(2).stderr(
        predicate::str::contains("missing shards 1 of 4")
            .and(predicate::str::contains("--shard 1/4")),
    );
    assert!(!merged.join("base").exists(), "nothing is written");
    shard(&shards, "1/4", &[]).success();
    merge(&shards, &merged, &[]).success();
    let plain = dir.path().join("plain");
    cloudcapex().args(RUN).arg(&plain).assert().success();
    assert_same_outputs(&plain.join("base"), &merged.join("base"));
}

#[test]
fn damaged_foreign_duplicated_and_stray_shards_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let shards = dir.path().join("shards");
    for index in 0..2 {
        shard(&shards, &format!("{index}/2"), &[]).success();
    }
    let file = shards.join("base/shard-1-of-2.ccx");
    let good = std::fs::read(&file).unwrap();
    let out = dir.path().join("merged");

    // A flipped byte in the payload.
    let mut damaged = good.clone();
    let last = damaged.len() - 10;
    damaged[last] ^= 0xff;
    std::fs::write(&file, &damaged).unwrap();
    merge(&shards, &out, &[]).code(2).stderr(
        predicate::str::contains("shard-1-of-2.ccx").and(predicate::str::contains("SHA-256")),
    );
    // Truncated.
    std::fs::write(&file, &good[..good.len() / 2]).unwrap();
    merge(&shards, &out, &[]).code(2).stderr(
        predicate::str::contains("shard-1-of-2.ccx").and(predicate::str::contains("truncated")),
    );
    // Of another run (another seed).
    std::fs::remove_file(&file).unwrap();
    shard(&shards, "1/2", &["--seed", "99"]).success();
    merge(&shards, &out, &[]).code(2).stderr(
        predicate::str::contains("shard-1-of-2.ccx")
            .and(predicate::str::contains("seed is 99"))
            .and(predicate::str::contains("not of the same run")),
    );
    std::fs::write(&file, &good).unwrap();
    // Bytes appended.
    std::fs::write(&file, [good.as_slice(), b"extra"].concat()).unwrap();
    merge(&shards, &out, &[]).code(2).stderr(
        predicate::str::contains("shard-1-of-2.ccx")
            .and(predicate::str::contains("5 bytes after the end")),
    );
    // Edited headers: the checksum covers them (here the seed of both, same length, so
    // the shards still agree with each other).
    let first = shards.join("base/shard-0-of-2.ccx");
    let first_good = std::fs::read(&first).unwrap();
    for (path, bytes) in [(&first, &first_good), (&file, &good)] {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let at = text
            .find("\"seed\": 20250224")
            .expect("the header names the seed");
        let mut edited = bytes.clone();
        edited[at + 9] = b'3';
        std::fs::write(path, &edited).unwrap();
    }
    merge(&shards, &out, &[])
        .code(2)
        .stderr(
            predicate::str::contains("shard-0-of-2.ccx").and(predicate::str::contains(
                "does not match its header and payload",
            )),
        );
    std::fs::write(&first, &first_good).unwrap();
    std::fs::write(&file, &good).unwrap();
    // A shard renamed: the file name must say what the header says.
    std::fs::rename(&file, shards.join("base/shard-0-of-3.ccx")).unwrap();
    merge(&shards, &out, &[])
        .code(2)
        .stderr(
            predicate::str::contains("shard-0-of-3.ccx").and(predicate::str::contains(
                "named shard-1-of-2.ccx: rename it back",
            )),
        );
    std::fs::rename(shards.join("base/shard-0-of-3.ccx"), &file).unwrap();
    // The same shard twice.
    std::fs::create_dir(shards.join("copy")).unwrap();
    std::fs::write(shards.join("copy/shard-1-of-2.ccx"), &good).unwrap();
    merge(&shards, &out, &[])
        .code(2)
        .stderr(predicate::str::contains("are both shard 1"));
    std::fs::remove_dir_all(shards.join("copy")).unwrap();
    // A file that is not a shard.
    std::fs::write(shards.join("notes.ccx"), "hello").unwrap();
    merge(&shards, &out, &[]).code(2).stderr(
        predicate::str::contains("notes.ccx")
            .and(predicate::str::contains("not a cloudcapex shard")),
    );
    std::fs::remove_file(shards.join("notes.ccx")).unwrap();
    merge(&shards, &out, &[]).success();
    // An empty folder.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    merge(&empty, &out, &[])
        .code(2)
        .stderr(predicate::str::contains("no shard files"));
    assert!(!out.join("empty").exists());
    merge(&dir.path().join("nowhere"), &out, &[])
        .code(2)
        .stderr(predicate::str::contains("no such folder"));
}

/// The default flow (`run --shard` and `merge` both into `out/`) writes the outputs beside
/// the shards and keeps them; several scenarios keep the command's order (the report's
/// comparison page is byte-identical too) and run.json its provenance.
#[test]
fn merging_into_the_shard_folder_keeps_the_shards_and_the_command_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = |out: &Path, extra: &[&str]| {
        cloudcapex()
            .args(["run", "scenarios/slowdown.toml", "scenarios/base.toml"])
            .args(["--paths", "2100", "--quiet", "--set", "costs.tax_rate=0.2"])
            .arg("--out")
            .arg(out)
            .args(extra)
            .assert()
            .success()
    };
    for index in 0..2 {
        run(&out, &["--shard", &format!("{index}/2")]);
    }
    merge(&out, &out, &["--report"]).success();
    let plain = dir.path().join("plain");
    run(&plain, &["--report"]);
    for scenario in ["slowdown", "base"] {
        for index in 0..2 {
            assert!(
                out.join(format!("{scenario}/shard-{index}-of-2.ccx"))
                    .exists()
            );
        }
        assert_same_outputs(&plain.join(scenario), &out.join(scenario));
        let run_json = |root: &Path| {
            let text = std::fs::read_to_string(root.join(scenario).join("run.json")).unwrap();
            let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
            for volatile in ["elapsed_seconds", "threads"] {
                value.as_object_mut().unwrap().remove(volatile);
            }
            value
        };
        assert_eq!(run_json(&plain), run_json(&out), "{scenario}/run.json");
    }
    for file in std::fs::read_dir(&plain).unwrap() {
        let file = file.unwrap().path();
        if file.is_file() {
            let name = file.file_name().unwrap();
            assert_eq!(
                std::fs::read(&file).unwrap(),
                std::fs::read(out.join(name)).unwrap(),
                "{name:?}"
            );
        }
    }
    // Rerunning plainly into the shard folder leaves the shards alone too.
    run(&out, &[]);
    assert!(out.join("base/shard-0-of-2.ccx").exists());
}

/// A merge writes nothing unless every set in the folder is whole: a damaged run shard
/// beside a sweep's stops the sweep's outputs too; a sweep's missing point folder is named,
/// and a stale one beside the shards is not copied.
#[test]
fn a_merge_is_all_or_nothing_and_copies_only_the_shards_points() {
    let dir = tempfile::tempdir().unwrap();
    let shards = dir.path().join("shards");
    let sweep = |index: u64| {
        cloudcapex()
            .args(["sweep", "scenarios/base.toml", "--paths", "1100", "--quiet"])
            .args(["--grid", "plan.total_rmb_bn=300,380,460"])
            .args(["--shard", &format!("{index}/2")])
            .arg("--out")
            .arg(&shards)
            .assert()
            .success()
    };
    sweep(0);
    sweep(1);
    for index in 0..2 {
        shard(&shards, &format!("{index}/2"), &[]).success();
    }
    let file = shards.join("base/shard-1-of-2.ccx");
    let good = std::fs::read(&file).unwrap();
    std::fs::write(&file, &good[..good.len() - 3]).unwrap();
    let out = dir.path().join("merged");
    merge(&shards, &out, &[])
        .code(2)
        .stderr(predicate::str::contains("truncated"));
    assert!(!out.join("sweep_base").exists(), "no set written");
    std::fs::write(&file, &good).unwrap();
    std::fs::create_dir(shards.join("sweep_base/point_0099")).unwrap();
    std::fs::write(shards.join("sweep_base/point_0099/run.json"), "{}").unwrap();
    merge(&shards, &out, &[]).success();
    assert!(out.join("sweep_base/point_0002/quarterly.csv").exists());
    assert!(
        !out.join("sweep_base/point_0099").exists(),
        "a stale folder is not copied"
    );
    std::fs::remove_dir_all(shards.join("sweep_base/point_0001")).unwrap();
    let again = dir.path().join("again");
    merge(&shards, &again, &[])
        .code(2)
        .stderr(predicate::str::contains("point_0001").and(predicate::str::contains("missing")));
    assert!(!again.join("base").exists());
}

#[test]
fn shard_options_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (args, message) in [
        (vec!["--shard", "4/4"], "expected I/N"),
        (vec!["--shard", "1-4"], "expected I/N"),
        (vec!["--shard", "0/9"], "at most 8 shards"),
        (vec!["--shard", "0/2", "--report"], "give --report"),
        (vec!["--shard", "0/2", "--format", "csv"], "give --report"),
    ] {
        let mut cmd = cloudcapex();
        cmd.args(RUN).arg(&out).args(&args);
        if args.contains(&"--format") {
            // `--format csv` is the default: accepted.
            cmd.assert().success();
            continue;
        }
        cmd.assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    cloudcapex()
        .args(["run", "--target-se", "1", "--shard", "0/2", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--target-se"));
}

/// `cloudcapex slurm` writes a job array of shard tasks and a merge script, quoting what
/// the shell would split; it refuses a split larger than the run or a malformed Slurm
/// option, and says so when sbatch is missing.
#[test]
fn slurm_scripts_are_written_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job");
    cloudcapex()
        .args([
            "slurm",
            "scenarios/base.toml",
            "--paths",
            "9000",
            "--shards",
            "4",
        ])
        .args([
            "--set",
            "revenue.segments.ai.initial_growth={ dist = \"uniform\", min = 0.5, max = 0.9 }",
        ])
        .args([
            "--partition",
            "short",
            "--time",
            "00:20:00",
            "--cpus-per-task",
            "2",
            "--report",
        ])
        .arg("--job-dir")
        .arg(&job)
        .assert()
        .success()
        .stdout(predicate::str::contains("sbatch --dependency=afterok"));
    let array = std::fs::read_to_string(job.join("array.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-3",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --time=00:20:00",
        "#SBATCH --partition=short",
        "--shard \"${SLURM_ARRAY_TASK_ID}/4\"",
        "--threads \"${SLURM_CPUS_PER_TASK:-1}\"",
        "'revenue.segments.ai.initial_growth={ dist = \"uniform\", min = 0.5, max = 0.9 }'",
    ] {
        assert!(array.contains(line), "{line} not in\n{array}");
    }
    let merge = std::fs::read_to_string(job.join("merge.sbatch")).unwrap();
    assert!(
        merge.contains(" merge ") && merge.contains("--report"),
        "{merge}"
    );
    for (args, message) in [
        (
            vec!["--shards", "10"],
            "--shards 10: scenario `base` has 9000 paths",
        ),
        (vec!["--time", "soon"], "expected a Slurm time"),
        (vec!["--time", "::::"], "expected a Slurm time"),
        (vec!["--partition", "a b"], "expected a partition name"),
        (vec!["--shards", "0"], "at least 1"),
    ] {
        cloudcapex()
            .args(["slurm", "scenarios/base.toml", "--paths", "9000"])
            .args(&args)
            .arg("--job-dir")
            .arg(dir.path().join("refused"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    assert!(!dir.path().join("refused").exists());
    cloudcapex()
        .args(["slurm", "--paths", "2000000", "--drivers", "--job-dir"])
        .arg(dir.path().join("refused"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--drivers writes a row per path"));
    // What would break an #SBATCH line or a script line is refused before any file.
    let spaced = dir.path().join("job dir");
    cloudcapex()
        .args([
            "slurm",
            "scenarios/base.toml",
            "--paths",
            "9000",
            "--job-dir",
        ])
        .arg(&spaced)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("#SBATCH --output"));
    assert!(!spaced.exists());
    let odd = dir.path().join("x\ntouch PWNED\n.toml");
    std::fs::copy("scenarios/base.toml", &odd).unwrap();
    cloudcapex()
        .arg("slurm")
        .arg(&odd)
        .args(["--paths", "9000", "--job-dir"])
        .arg(dir.path().join("odd"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("control character"));
    assert!(!dir.path().join("odd").exists());
    cloudcapex()
        .env("PATH", "")
        .args([
            "slurm",
            "scenarios/base.toml",
            "--paths",
            "9000",
            "--submit",
        ])
        .arg("--job-dir")
        .arg(dir.path().join("nosbatch"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot run sbatch"));
}

/// `sweep --shard I/N` runs its part of the grid's points; `merge` joins sweep.csv and the
/// point folders, byte-identical to an unsharded sweep, and names a missing shard.
#[test]
fn sharded_sweeps_merge_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = |out: &Path, extra: &[&str]| {
        cloudcapex()
            .args(["sweep", "scenarios/base.toml", "--paths", "1100", "--quiet"])
            .args([
                "--grid",
                "plan.total_rmb_bn=300,380,460",
                "--grid",
                "costs.tax_rate=0.15,0.25",
            ])
            .arg("--out")
            .arg(out)
            .args(extra)
            .assert()
    };
    let plain = dir.path().join("plain");
    sweep(&plain, &[]).success();
    for count in [1, 2, 4] {
        let shards = dir.path().join(format!("shards_{count}"));
        for index in 0..count {
            sweep(&shards, &["--shard", &format!("{index}/{count}")]).success();
        }
        let merged = dir.path().join(format!("merged_{count}"));
        merge(&shards, &merged, &[]).success();
        let compare = |relative: &str| {
            assert_eq!(
                std::fs::read(plain.join(relative)).unwrap(),
                std::fs::read(merged.join(relative)).unwrap(),
                "{count} shards: {relative}"
            );
        };
        compare("sweep_base/sweep.csv");
        for k in 0..6 {
            for file in [
                "quarterly.csv",
                "summary.csv",
                "convergence.csv",
                "scenario.toml",
            ] {
                compare(&format!("sweep_base/point_{k:04}/{file}"));
            }
        }
    }
    let partial = dir.path().join("partial");
    sweep(&partial, &["--shard", "1/3"]).success();
    merge(&partial, &dir.path().join("never"), &[])
        .code(2)
        .stderr(predicate::str::contains("missing shards 0, 2 of 3"));
    sweep(&partial, &["--shard", "0/7"])
        .code(2)
        .stderr(predicate::str::contains(
            "6 grid points, so at most 6 shards",
        ));
}

/// `sensitivity sobol --shard I/N` evaluates its part of the design's base rows; `merge`
/// computes the indices from the joined evaluations, byte-identical to an unsharded
/// analysis (first, total and second order), and refuses shards of other settings.
#[test]
fn sharded_sobol_analyses_merge_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let sobol = |out: &Path, extra: &[&str]| {
        cloudcapex()
            .args([
                "sensitivity",
                "sobol",
                "scenarios/base.toml",
                "--samples",
                "24",
            ])
            .args(["--second-order", "--bootstrap", "40", "--quiet", "--out"])
            .arg(out)
            .args(extra)
            .assert()
    };
    let plain = dir.path().join("plain");
    sobol(&plain, &[]).success();
    for count in [1, 2, 5] {
        let shards = dir.path().join(format!("shards_{count}"));
        for index in 0..count {
            sobol(&shards, &["--shard", &format!("{index}/{count}")]).success();
        }
        let merged = dir.path().join(format!("merged_{count}"));
        merge(&shards, &merged, &[]).success();
        for file in ["sobol.csv", "sobol_second_order.csv"] {
            assert_eq!(
                std::fs::read(plain.join("sobol_base").join(file)).unwrap(),
                std::fs::read(merged.join("sobol_base").join(file)).unwrap(),
                "{count} shards: {file}"
            );
        }
    }
    // A shard of another bootstrap count does not belong with the others.
    let mixed = dir.path().join("mixed");
    sobol(&mixed, &["--shard", "0/2"]).success();
    cloudcapex()
        .args([
            "sensitivity",
            "sobol",
            "scenarios/base.toml",
            "--samples",
            "24",
        ])
        .args([
            "--second-order",
            "--bootstrap",
            "41",
            "--quiet",
            "--shard",
            "1/2",
            "--out",
        ])
        .arg(&mixed)
        .assert()
        .success();
    merge(&mixed, &dir.path().join("never"), &[])
        .code(2)
        .stderr(predicate::str::contains("not of the same run"));
}

/// `compare --shard I/N` runs the baseline and its part of the scenario list; `merge`
/// joins comparison.csv byte-identical to an unsharded comparison (repeated names keep
/// their `#2` labels).
#[test]
fn sharded_comparisons_merge_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = [
        "scenarios/base.toml",
        "scenarios/price_war.toml",
        "scenarios/ai_boom.toml",
        "scenarios/base.toml",
    ];
    let compare = |out: &Path, extra: &[&str]| {
        cloudcapex()
            .arg("compare")
            .args(scenarios)
            .args(["--paths", "1100", "--quiet", "--out"])
            .arg(out)
            .args(extra)
            .assert()
    };
    let plain = dir.path().join("plain");
    compare(&plain, &[]).success();
    for count in [1, 3, 4] {
        let shards = dir.path().join(format!("shards_{count}"));
        for index in 0..count {
            compare(&shards, &["--shard", &format!("{index}/{count}")]).success();
        }
        let merged = dir.path().join(format!("merged_{count}"));
        merge(&shards, &merged, &[]).success();
        assert_eq!(
            std::fs::read(plain.join("comparison/comparison.csv")).unwrap(),
            std::fs::read(merged.join("comparison/comparison.csv")).unwrap(),
            "{count} shards"
        );
    }
    compare(&dir.path().join("x"), &["--shard", "0/5"])
        .code(2)
        .stderr(predicate::str::contains(
            "4 scenarios to compare, so at most 4 shards",
        ));
}

/// A scenario named by a file stem with a space shards and merges like any other (only a
/// header naming a path out of `--out` is refused).
#[test]
fn a_scenario_file_with_a_space_in_its_name_shards_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my base.toml");
    std::fs::copy("scenarios/base.toml", &file).unwrap();
    let run = |out: &Path, extra: &[&str]| {
        cloudcapex()
            .arg("run")
            .arg(&file)
            .args(["--paths", "2100", "--quiet", "--out"])
            .arg(out)
            .args(extra)
            .assert()
            .success()
    };
    let shards = dir.path().join("shards");
    for index in 0..2 {
        run(&shards, &["--shard", &format!("{index}/2")]);
    }
    merge(&shards, &dir.path().join("merged"), &[]).success();
    run(&dir.path().join("plain"), &[]);
    assert_same_outputs(
        &dir.path().join("plain/my base"),
        &dir.path().join("merged/my base"),
    );
}
