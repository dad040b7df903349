//! Outputs as transactions, driven through the CLI: each finding of the attack on the
//! released binary (docs/reliability.md) as a regression test. Runs killed at random
//! moments are in `tests/kill.rs`.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn cloudcapex() -> Command {
    Command::cargo_bin("cloudcapex").unwrap()
}

fn run(out: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    cloudcapex()
        .args(["run", "--paths", "1024", "--quiet", "--out"])
        .arg(out)
        .args(args)
        .assert()
}

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// `--out fakehome` with a scenario named `.ssh` deleted `fakehome/.ssh/id_rsa`: a folder
/// cloudcapex did not write is never replaced (exit 2 before any work), nor is one that
/// holds a file of yours beside its outputs, and nothing in it is touched.
#[test]
fn a_folder_cloudcapex_did_not_write_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("fakehome");
    std::fs::create_dir_all(home.join("base")).unwrap();
    std::fs::write(home.join("base/id_rsa"), "secret").unwrap();
    run(&home, &[]).code(2).stderr(
        predicate::str::contains("id_rsa")
            .and(predicate::str::contains("not written by cloudcapex")),
    );
    assert_eq!(
        std::fs::read_to_string(home.join("base/id_rsa")).unwrap(),
        "secret"
    );
    // A name that starts with a dot is refused by validation, whatever is there.
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "key").unwrap();
    let scenario = dir.path().join(".ssh.toml");
    std::fs::copy("scenarios/base.toml", &scenario).unwrap();
    cloudcapex()
        .arg("run")
        .arg(&scenario)
        .args(["--paths", "1024", "--quiet", "--out"])
        .arg(&home)
        .assert()
        .code(2);
    assert!(home.join(".ssh/id_rsa").is_file());
    // A file of yours put into a run's folder: the next run refuses, the file stays.
    let out = dir.path().join("out");
    run(&out, &[]).success();
    std::fs::write(out.join("base/notes.txt"), "mine").unwrap();
    let before = snapshot(&out.join("base"));
    run(&out, &["--seed", "5"])
        .code(2)
        .stderr(predicate::str::contains("notes.txt"));
    assert_eq!(snapshot(&out.join("base")), before);
    // `OUT/<name>` a regular file failed after the simulation: refused before it now.
    let plain = dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("base"), "a file").unwrap();
    run(&plain, &[]).code(2).stderr(predicate::str::contains(
        "is a file where this output's folder goes",
    ));
    // An output edited by hand is not replaced either.
    std::fs::remove_file(out.join("base/notes.txt")).unwrap();
    std::fs::write(out.join("base/summary.csv"), "edited").unwrap();
    run(&out, &["--seed", "5"])
        .code(2)
        .stderr(predicate::str::contains(
            "changed since cloudcapex wrote it",
        ));
}

/// `OUT/base` as a symbolic link to another folder: the run wrote there and deleted that
/// folder's files. Now refused before any work; the link and its target untouched.
#[cfg(unix)]
#[test]
fn a_symbolic_link_in_out_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("thesis.tex"), "chapter 1").unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("base")).unwrap();
    run(&out, &[])
        .code(2)
        .stderr(predicate::str::contains("symbolic link"));
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("thesis.tex")).unwrap(),
        "chapter 1"
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 1);
    // A lock file planted as a link: refused, and its target never created.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let target = dir.path().join("created-outside");
    std::os::unix::fs::symlink(&target, other.join(".cloudcapex.lock")).unwrap();
    run(&other, &[])
        .code(2)
        .stderr(predicate::str::contains(".cloudcapex.lock"));
    assert!(!target.exists());
}

/// A scenario named `sweep_base` deleted an earlier sweep's `sweep.csv`; its shards
/// overwrote the sweep's shard files. Kinds never replace each other now, shards included.
#[test]
fn outputs_of_one_kind_never_replace_another_kind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    cloudcapex()
        .args([
            "sweep",
            "scenarios/base.toml",
            "--grid",
            "costs.tax_rate=0.1,0.2",
        ])
        .args(["--paths", "1024", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let sweep = snapshot(&out.join("sweep_base"));
    let named = dir.path().join("sweep_base.toml");
    std::fs::copy("scenarios/base.toml", &named).unwrap();
    for extra in [&[][..], &["--shard", "0/1"][..]] {
        cloudcapex()
            .arg("run")
            .arg(&named)
            .args(["--paths", "1024", "--quiet", "--out"])
            .arg(&out)
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("holds a sweep output"));
    }
    assert_eq!(snapshot(&out.join("sweep_base")), sweep);
}

/// A sweep shard task rewrote the point folders of a finished (unsharded) sweep in place,
/// leaving it half one job and half another: refused now, the sweep untouched.
#[test]
fn a_sweep_shard_never_rewrites_a_finished_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = |grid: &str, extra: &[&str]| {
        cloudcapex()
            .args(["sweep", "scenarios/base.toml", "--grid", grid])
            .args(["--paths", "1024", "--quiet", "--out"])
            .arg(dir.path())
            .args(extra)
            .assert()
    };
    sweep("costs.tax_rate=0.1,0.2,0.3", &[]).success();
    let before = snapshot(&dir.path().join("sweep_base"));
    sweep("costs.tax_rate=0.5,0.6", &["--shard", "0/2"])
        .code(2)
        .stderr(predicate::str::contains("finished sweep output"));
    assert_eq!(snapshot(&dir.path().join("sweep_base")), before);
}

/// Files of yours named like temporary files (`.chapter1.tmp`) were taken for cloudcapex's
/// and deleted, even in a folder it never wrote; a shard task overwrote the shard file a
/// finished merge was made from.
#[test]
fn look_alike_names_are_not_proof_of_ownership() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("base/drafts")).unwrap();
    std::fs::write(out.join("base/.chapter1.tmp"), "irreplaceable").unwrap();
    run(&out, &[])
        .code(2)
        .stderr(predicate::str::contains(".chapter1.tmp"));
    assert!(out.join("base/.chapter1.tmp").is_file());
    let merged = dir.path().join("merged");
    for index in 0..2 {
        cloudcapex()
            .args(["run", "scenarios/base.toml", "--paths", "2048", "--quiet"])
            .args(["--shard", &format!("{index}/2"), "--out"])
            .arg(&merged)
            .assert()
            .success();
    }
    cloudcapex()
        .arg("merge")
        .arg(&merged)
        .arg("--out")
        .arg(&merged)
        .arg("--quiet")
        .assert()
        .success();
    let before = snapshot(&merged.join("base"));
    cloudcapex()
        .args([
            "run",
            "scenarios/base.toml",
            "--paths",
            "2048",
            "--quiet",
            "--seed",
            "99",
        ])
        .args(["--shard", "0/2", "--out"])
        .arg(&merged)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("merged from its shard-0-of-2.ccx"));
    assert_eq!(snapshot(&merged.join("base")), before);
}

/// A sweep rerun with fewer points kept the old `point_0002`, `point_0003`: the folder is
/// replaced whole, so it holds this sweep's points only.
#[test]
fn a_sweep_rerun_with_fewer_points_leaves_no_stale_point() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = |grid: &str| {
        cloudcapex()
            .args(["sweep", "scenarios/base.toml", "--grid", grid])
            .args(["--paths", "1024", "--quiet", "--out"])
            .arg(dir.path())
            .assert()
            .success();
    };
    sweep("costs.tax_rate=0.1,0.15,0.2,0.25");
    assert!(dir.path().join("sweep_base/point_0003").is_dir());
    sweep("costs.tax_rate=0.1,0.2");
    let mut points: Vec<String> = std::fs::read_dir(dir.path().join("sweep_base"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("point_"))
        .collect();
    points.sort();
    assert_eq!(points, ["point_0000", "point_0001"]);
}

/// A later run removed `out/base/report.html` but left the comparison page, whose links
/// then failed and whose figures no longer matched: the page goes in the same transaction
/// as the folders it compares. Every page has a content-security policy and links only
/// to relative paths.
#[test]
fn the_comparison_page_never_outlives_the_runs_it_compares() {
    let dir = tempfile::tempdir().unwrap();
    let both = ["scenarios/base.toml", "scenarios/calm_world.toml"];
    run(dir.path(), &["--report"]).success();
    cloudcapex()
        .arg("run")
        .args(both)
        .args(["--paths", "1024", "--quiet", "--report", "--out"])
        .arg(dir.path())
        .assert()
        .success();
    let page = dir.path().join("comparison_report/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("href=\"../base/report.html\""), "{html}");
    for folder in ["base", "calm_world", "comparison_report"] {
        let html = std::fs::read_to_string(dir.path().join(folder).join("report.html")).unwrap();
        assert!(
            html.contains("Content-Security-Policy") && html.contains("default-src 'none'"),
            "{folder}"
        );
        for href in html.split("href=\"").skip(1) {
            let link = href.split('"').next().unwrap();
            assert!(
                !link.contains(':') && !link.starts_with('/'),
                "{folder}: {link}"
            );
        }
    }
    cloudcapex()
        .args(["run", "scenarios/base.toml", "--paths", "1024", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(
            predicate::str::contains("comparison_report").and(predicate::str::contains(
                "compared runs this command replaced",
            )),
        );
    assert!(!page.exists());
    assert!(dir.path().join("calm_world/report.html").is_file());
}

/// What a shard file holds after its header (docs/scale-out.md): the header again, then
/// the kind's own bytes.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    identity: cloudcapex::shard::ShardHeader,
    body: Vec<u8>,
}

/// Reads a shard file into its header and envelope.
fn read_shard(path: &Path) -> (cloudcapex::shard::ShardHeader, Envelope) {
    let bytes = std::fs::read(path).unwrap();
    let length = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[12..12 + length]).unwrap();
    let envelope = postcard::from_bytes(&bytes[12 + length..]).unwrap();
    (header, envelope)
}

/// Writes a shard file with a recomputed checksum, as a careful editor would.
fn write_shard(path: &Path, mut header: cloudcapex::shard::ShardHeader, envelope: &Envelope) {
    let payload = postcard::to_allocvec(envelope).unwrap();
    header.payload_bytes = payload.len() as u64;
    header.sha256 = String::new();
    header.sha256 = header.checksum(&payload);
    let json = serde_json::to_vec_pretty(&header).unwrap();
    let mut bytes = b"CCXSHARD".to_vec();
    bytes.extend_from_slice(&(json.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&json);
    bytes.extend_from_slice(&payload);
    std::fs::write(path, bytes).unwrap();
}

/// `merge` mixed shard 1 of a build with a one-line model change (same version string)
/// with shards 0 and 2 of the release, and accepted a seed-12 payload under a seed-11
/// header with its checksum recomputed. Both refused now, naming the field.
#[test]
fn merge_refuses_shards_of_another_build_or_a_moved_payload() {
    let dir = tempfile::tempdir().unwrap();
    let shards = dir.path().join("shards");
    for index in 0..3 {
        cloudcapex()
            .args(["run", "scenarios/base.toml", "--paths", "3072", "--quiet"])
            .args(["--shard", &format!("{index}/3"), "--out"])
            .arg(&shards)
            .assert()
            .success();
    }
    let file = shards.join("base/shard-1-of-3.ccx");
    let good = std::fs::read(&file).unwrap();
    let merge = || {
        cloudcapex()
            .arg("merge")
            .arg(&shards)
            .arg("--out")
            .arg(dir.path().join("merged"))
            .arg("--quiet")
            .assert()
    };
    // Another build: header and payload agree, but not with the other shards.
    let (mut header, mut envelope) = read_shard(&file);
    header.build = "0.1.0+src.0123456789abcdef.x86_64-unknown-linux-gnu".into();
    envelope.identity.build = header.build.clone();
    write_shard(&file, header, &envelope);
    merge().code(2).stderr(
        predicate::str::contains("build").and(predicate::str::contains("not of the same run")),
    );
    // Another seed in the header only, the checksum recomputed: the payload says otherwise.
    std::fs::write(&file, &good).unwrap();
    let (mut header, envelope) = read_shard(&file);
    header.seed = 12;
    write_shard(&file, header, &envelope);
    merge()
        .code(2)
        .stderr(
            predicate::str::contains("shard-1-of-3.ccx").and(predicate::str::contains(
                "its payload was written with seed",
            )),
        );
    // A shard count of 2^52 in a damaged header is refused as damaged, at once.
    std::fs::write(&file, &good).unwrap();
    let (mut header, envelope) = read_shard(&file);
    header.shard_count = 1 << 52;
    let mut damaged = std::fs::read(&file).unwrap();
    let length = u32::from_le_bytes(damaged[8..12].try_into().unwrap()) as usize;
    let json = serde_json::to_vec_pretty(&header).unwrap();
    damaged.splice(8..12 + length, {
        let mut head = (json.len() as u32).to_le_bytes().to_vec();
        head.extend_from_slice(&json);
        head
    });
    drop(envelope);
    std::fs::write(&file, &damaged).unwrap();
    merge().code(2).stderr(predicate::str::contains(
        "does not match its header and payload",
    ));
    assert!(!dir.path().join("merged/base").exists());
    std::fs::write(&file, &good).unwrap();
    merge().success();
}
