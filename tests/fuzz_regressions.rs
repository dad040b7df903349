//! Replays every saved fuzz input (the seed corpora in `fuzz/seeds/` and the inputs that
//! once failed, in `fuzz/regressions/`) through the checks the fuzz targets run, on stable
//! Rust and without libFuzzer: a fixed failure stays fixed. See docs/reliability.md.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let mut replayed = 0;
    for folder in ["fuzz/seeds", "fuzz/regressions"] {
        let dir = Path::new(folder).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{} fails its check", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no saved inputs for {target}");
}

#[test]
fn saved_scenario_texts_pass() {
    replay("scenario_toml", checks::scenario_toml);
}

#[test]
fn saved_set_arguments_pass() {
    replay("set_override", checks::set_override);
}

#[test]
fn saved_cash_flows_pass() {
    replay("finance", checks::finance);
}

#[test]
fn saved_history_files_pass() {
    replay("history_csv", checks::history_csv);
}

#[test]
fn saved_shard_files_pass() {
    replay("shard_file", checks::shard_file);
}
