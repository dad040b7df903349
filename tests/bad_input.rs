//! Every broken scenario in tests/fixtures/bad/ is refused before any work: non-zero exit,
//! a message naming the file, line and key, and no output folder.

use assert_cmd::Command;

/// (fixture, key the message must name, line it must name)
const CATALOGUE: &[(&str, &str, usize)] = &[
    ("unknown_key.toml", "revenue.segments.ai.initial_grwth", 5),
    (
        "wrong_type.toml",
        "revenue.segments.core.terminal_growth",
        5,
    ),
    (
        "bad_distribution.toml",
        "revenue.segments.ai.initial_growth",
        5,
    ),
    (
        "out_of_range.toml",
        "revenue.segments.international.shock_persistence",
        5,
    ),
    ("non_psd.toml", "revenue.correlation", 4),
    (
        "correlation_above_one.toml",
        "revenue.correlation.ai.core",
        5,
    ),
    ("nan.toml", "revenue.segments.core.initial_growth", 5),
    (
        "percentage.toml",
        "revenue.segments.international.initial_growth",
        5,
    ),
    ("cycle_a.toml", "extends", 2),
    ("missing_parent.toml", "extends", 2),
    (
        "unbounded_normal.toml",
        "revenue.segments.core.initial_growth",
        5,
    ),
    ("seasonality.toml", "revenue.seasonality", 4),
    (
        "missing_key.toml",
        "revenue.segments.devices.terminal_growth",
        4,
    ),
    (
        "no_compute_at_start.toml",
        "legacy.capex_rmb_bn_per_quarter",
        6,
    ),
    ("negative_fixed_costs.toml", "costs", 8),
    ("investment_target.toml", "investment.target_utilization", 5),
    ("pricing_percent.toml", "pricing.alibaba_share", 5),
    ("customers_rate.toml", "customers.loss_rate", 5),
    (
        "price_decline_with_pricing.toml",
        "capacity.price_decline",
        5,
    ),
    (
        "tightness_without_pricing.toml",
        "risk.events.price_war.effects.tight.lever",
        5,
    ),
    ("pricing_without_investment.toml", "pricing", 4),
    ("terminal_growth.toml", "valuation.terminal_growth", 6),
    ("terminal_ronic.toml", "valuation.terminal_growth", 6),
    ("terminal_ronic_gordon.toml", "valuation.terminal_ronic", 6),
    (
        "subnormal_revenue.toml",
        "revenue.segments.ai.start_revenue_rmb_bn",
        5,
    ),
    ("segment_name.toml", "revenue.segments.a,b", 4),
    (
        "consensus_metric.toml",
        "consensus.ms_fy27_growth.metric",
        6,
    ),
    ("consensus_source.toml", "consensus.unsourced", 4),
    ("consensus_range.toml", "consensus.margin.low", 7),
    ("review_without_investment.toml", "valuation.review", 4),
];

/// `cloudcapex validate tests/fixtures/bad/FIXTURE`: refused with exit code 2; its stderr.
fn refused_by_validate(fixture: &str) -> String {
    let assert = Command::cargo_bin("cloudcapex")
        .unwrap()
        .args(["validate", &format!("tests/fixtures/bad/{fixture}")])
        .assert()
        .code(2);
    String::from_utf8_lossy(&assert.get_output().stderr).to_string()
}

#[test]
fn each_broken_file_is_refused_with_key_and_line_and_writes_nothing() {
    for (fixture, key, line) in CATALOGUE {
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().join("out");
        let assert = Command::cargo_bin("cloudcapex")
            .unwrap()
            .args([
                "run",
                &format!("tests/fixtures/bad/{fixture}"),
                "--paths",
                "10",
                "--out",
            ])
            .arg(&out_dir)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(
            stderr.contains(&format!("key `{key}`")),
            "{fixture}: no key `{key}` in:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("line {line},")),
            "{fixture}: no line {line} in:\n{stderr}"
        );
        assert!(
            stderr.contains(".toml"),
            "{fixture}: no file name in:\n{stderr}"
        );
        assert!(!out_dir.exists(), "{fixture}: an output folder was created");
    }
}

#[test]
fn syntax_errors_name_the_line_and_column() {
    let stderr = refused_by_validate("syntax.toml");
    assert!(
        stderr.contains("syntax.toml, line 4, column 21: invalid TOML"),
        "{stderr}"
    );
}

#[test]
fn bad_overrides_are_refused_with_their_argument() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("out");
    for (set, expected) in [
        (
            "revenue.segments.ai.initial_growth=fast",
            "key `revenue.segments.ai.initial_growth`",
        ),
        (
            "revenue.segmnts.ai.initial_growth=0.5",
            "unknown key `segmnts`",
        ),
        ("no_equals_sign", "expected KEY=VALUE"),
        ("simulation.paths=0", "key `simulation.paths`"),
    ] {
        let assert = Command::cargo_bin("cloudcapex")
            .unwrap()
            .args(["run", "--set", set, "--out"])
            .arg(&out_dir)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(
            stderr.contains(expected),
            "--set {set}: expected {expected:?} in:\n{stderr}"
        );
        assert!(!out_dir.exists());
    }
}

#[test]
fn inconsistent_options_are_refused_before_running() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("out");
    for args in [
        vec!["run", "--paths", "10", "--paths-out", "11"],
        vec!["run", "--threads", "0"],
        vec!["run", "scenarios/base.toml", "scenarios/base.toml"],
    ] {
        Command::cargo_bin("cloudcapex")
            .unwrap()
            .args(&args)
            .arg("--out")
            .arg(&out_dir)
            .assert()
            .code(2);
        assert!(!out_dir.exists(), "{args:?} created output");
    }
}

/// An unknown lever (or profile, or mode) is an unknown value, not an "unknown
/// distribution".
#[test]
fn an_unknown_enumerated_value_is_named_as_such() {
    let assert = Command::cargo_bin("cloudcapex")
        .unwrap()
        .args([
            "validate",
            "scenarios/base.toml",
            "--set",
            "risk.events.price_war.effects.price.lever=\"prise\"",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("unknown value `prise`"), "{stderr}");
    assert!(!stderr.contains("distribution"), "{stderr}");
}

/// Percent for decimal: a terminal growth of 4 (400%/yr) is refused with the "write 0.04"
/// hint; a valid but unusual 0.3 passes `validate` and `run` with a located warning.
#[test]
fn percent_slips_are_refused_and_unusual_values_warned() {
    let refused = Command::cargo_bin("cloudcapex")
        .unwrap()
        .args([
            "validate",
            "scenarios/base.toml",
            "--set",
            "revenue.segments.core.terminal_growth=4",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(stderr.contains("write 0.04"), "{stderr}");
    let out = tempfile::tempdir().unwrap();
    for args in [
        vec!["validate", "scenarios/base.toml"],
        vec!["run", "scenarios/base.toml", "--paths", "100", "--quiet"],
    ] {
        let mut command = Command::cargo_bin("cloudcapex").unwrap();
        command
            .args(&args)
            .args(["--set", "revenue.segments.core.terminal_growth=0.3"]);
        if args[0] == "run" {
            command.arg("--out").arg(out.path());
        }
        let warned = command.assert().success();
        let stderr = String::from_utf8_lossy(&warned.get_output().stderr).to_string();
        assert!(
            stderr.contains("warning:")
                && stderr.contains("key `revenue.segments.core.terminal_growth`"),
            "{args:?}: {stderr}"
        );
    }
}

/// Resource limits are refused up front with the reason, exit code 2, nothing written:
/// paths, threads, kept paths, Sobol samples, sweep grids.
#[test]
fn resource_limits_are_refused_up_front() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("out");
    for (args, expected) in [
        (vec!["run", "--paths", "300000000"], "200000000"),
        (
            vec!["run", "--threads", "100000"],
            "at most 256 worker threads",
        ),
        (
            vec!["run", "--paths", "300000", "--paths-out", "200000"],
            "--paths-out 200000",
        ),
        (
            vec!["run", "--set", "simulation.paths=10000000000"],
            "key `simulation.paths`",
        ),
        (
            vec![
                "sensitivity",
                "sobol",
                "scenarios/base.toml",
                "--samples",
                "100000000",
            ],
            "--samples at most",
        ),
        (
            vec![
                "sweep",
                "scenarios/base.toml",
                "--grid",
                "costs.tax_rate=0:0.5:0.00001",
                "--force",
            ],
            "hard limit",
        ),
        (
            vec!["compare", "scenarios/base.toml", "--threads", "999"],
            "worker threads",
        ),
    ] {
        let assert = Command::cargo_bin("cloudcapex")
            .unwrap()
            .args(&args)
            .arg("--out")
            .arg(&out_dir)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!out_dir.exists(), "{args:?} wrote output");
    }
}

/// A typo gets the fix suggested, not only the list of valid keys.
#[test]
fn close_misspellings_get_a_suggestion() {
    let stderr = refused_by_validate("unknown_key.toml");
    assert!(
        stderr.contains("(did you mean `initial_growth`?)"),
        "{stderr}"
    );
}

/// Every unknown key and wrong type of a file is reported in one pass, in the file's order,
/// each with its line.
#[test]
fn several_mistakes_are_reported_together() {
    let stderr = refused_by_validate("several.toml");
    assert!(stderr.contains("3 problems:"), "{stderr}");
    let positions: Vec<usize> = [
        "line 5, column 1: key `revenue.segments.ai.initial_grwth`",
        "line 8, column 19: key `plan.length_quarters`",
        "line 11, column 19: key `valuation.terminal_method`",
    ]
    .iter()
    .map(|needle| {
        stderr
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}\n{stderr}"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{stderr}");
}

/// Values out of their ranges are all reported in one pass, wherever they were written (a
/// file or `--set`), and the checks that combine keys wait for them rather than judge the
/// stand-ins; once the ranges are fixed, the combined check speaks.
#[test]
fn every_value_out_of_range_is_reported_together() {
    let fixture = "tests/fixtures/bad/several_ranges.toml";
    let refused = |extra: &[&str]| {
        let assert = Command::cargo_bin("cloudcapex")
            .unwrap()
            .args(["validate", fixture])
            .args(extra)
            .assert()
            .code(2);
        String::from_utf8_lossy(&assert.get_output().stderr).to_string()
    };
    let stderr = refused(&["--set", "plan.total_rmb_bn=-5"]);
    assert!(stderr.contains("4 problems:"), "{stderr}");
    for needle in [
        "line 6, column 1: key `revenue.segments.ai.initial_growth`",
        "--set plan.total_rmb_bn=-5, line 1, column 6: key `plan.total_rmb_bn`",
        "line 9, column 1: key `plan.upsizing.probability`",
        "line 18, column 1: key `costs.tax_rate`",
        "validation stopped at a check that combines several keys",
    ] {
        assert!(stderr.contains(needle), "{needle}\n{stderr}");
    }
    // Correlation entries and quarters are reported with the other values too.
    let more = refused(&[
        "--set",
        "revenue.correlation.ai.core=1.5",
        "--set",
        "time.start_quarter=2026Q7",
    ]);
    assert!(more.contains("5 problems:"), "{more}");
    assert!(
        more.contains("key `revenue.correlation.ai.core`: expected a correlation")
            && more.contains("key `time.start_quarter`"),
        "{more}"
    );
    let fixed = refused(&[
        "--set",
        "revenue.segments.ai.initial_growth=0.45",
        "--set",
        "plan.upsizing.probability=0.5",
        "--set",
        "costs.tax_rate=0.2",
    ]);
    assert!(!fixed.contains("problems:"), "{fixed}");
    assert!(
        fixed.contains("key `valuation.terminal_growth`") && fixed.contains("discount"),
        "{fixed}"
    );
}

/// A file with more mistakes than the cap reports the first [`MAX_REPORTED_ERRORS`] and stops.
#[test]
fn reported_errors_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("[revenue.segments]\n");
    for i in 0..30 {
        text.push_str(&format!(
            "[revenue.segments.s{i}]\nstart_revenue_rmb_bn = -1\ninitial_growth = 0.3\n\
             terminal_growth = 0.05\ngrowth_half_life_quarters = 8\n"
        ));
    }
    let path = dir.path().join("many.toml");
    std::fs::write(&path, text).unwrap();
    let assert = Command::cargo_bin("cloudcapex")
        .unwrap()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains(&format!(
            "{} problems:",
            cloudcapex::scenario::MAX_REPORTED_ERRORS
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("more follow once these are fixed"),
        "{stderr}"
    );
    // The first in the file are kept: segments s0.. are written first, in file order.
    assert!(
        stderr.contains("key `revenue.segments.s0.start_revenue_rmb_bn`"),
        "{stderr}"
    );
}

/// A misspelt table header is one problem, not one per key under it; a lone refused value
/// that stopped a combined check says so.
#[test]
fn a_misspelt_table_is_one_problem_and_a_stop_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize("scenarios/base.toml").unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("extends = {:?}\n{body}", base.display().to_string()),
        )
        .unwrap();
        path
    };
    let validate = |path: &std::path::Path| {
        let assert = Command::cargo_bin("cloudcapex")
            .unwrap()
            .arg("validate")
            .arg(path)
            .assert()
            .code(2);
        String::from_utf8_lossy(&assert.get_output().stderr).to_string()
    };
    let header = validate(&write(
        "header.toml",
        "[costz]\ntax_rate = 0.1\nvariable_cost_share = 0.2\n[valuation]\ndiscount_rat = 0.1\n",
    ));
    assert!(header.contains("2 problems:"), "{header}");
    assert!(
        header.contains("key `costz`") && header.contains("key `valuation.discount_rat`"),
        "{header}"
    );
    let stop = validate(&write("stop.toml", "[revenue.seasonality]\nq1 = 5\n"));
    assert!(stop.contains("key `revenue.seasonality.q1`"), "{stop}");
    assert!(
        stop.contains("validation stopped at a check that combines several keys"),
        "{stop}"
    );
}

/// Unknown keys given by several `--set` arguments, and by a file and a `--set`, are
/// reported together.
#[test]
fn mistakes_in_files_and_overrides_are_reported_together() {
    let assert = Command::cargo_bin("cloudcapex")
        .unwrap()
        .args([
            "validate",
            "tests/fixtures/bad/unknown_key.toml",
            "--set",
            "valuation.discount_rat=0.1",
            "--set",
            "costs.foo=1",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("3 problems:"), "{stderr}");
    assert!(
        stderr.contains("--set valuation.discount_rat=0.1, line 1")
            && stderr.contains("--set costs.foo=1, line 1")
            && stderr.contains("unknown_key.toml, line"),
        "{stderr}"
    );
}

/// `args` (with `--out` into a fresh folder, and `env` set) is refused with exit code 2,
/// its message holding every one of `expected`, no panic, nothing written. Returns stderr.
fn refused_up_front(args: &[&str], env: &[(&str, &str)], expected: &[&str]) -> String {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("out");
    let mut command = Command::cargo_bin("cloudcapex").unwrap();
    command.args(args).arg("--out").arg(&out_dir);
    for (name, value) in env {
        command.env(name, value);
    }
    let assert = command.assert().code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    for needle in expected {
        assert!(
            stderr.contains(needle),
            "{args:?} {env:?}: {needle}\n{stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!out_dir.exists(), "{args:?} wrote output");
    stderr
}

/// A grid is counted before it is made: a range with a tiny step (which overflowed, exit
/// 101, or allocated gigabytes before the limit was checked) and a product of axes
/// overflowing 64 bits are refused at once with the count; a key given to two `--grid`s
/// and a grid over `name` (which only renamed the output folder, differently sharded and
/// unsharded) are refused, naming the key.
#[test]
fn sweep_grids_are_counted_before_they_are_made() {
    let huge: Vec<String> = (0..5).map(|k| format!("revenue.k{k}=1:9000:1")).collect();
    let huge: Vec<&str> = huge.iter().map(String::as_str).collect();
    for (grid, expected) in [
        (
            vec!["costs.tax_rate=0:1:1e-300"],
            vec!["\"costs.tax_rate=0:1:1e-300\"", "1.0e300 values", "10000"],
        ),
        (
            vec!["costs.tax_rate=0:0.3:1e-9"],
            vec!["300000001 values", "use a larger STEP"],
        ),
        (
            vec!["costs.tax_rate=0:1:0.01", "plan.total_rmb_bn=1:200:1"],
            vec!["101 × 200 = 20200 points", "hard limit of 10000"],
        ),
        (huge, vec!["(more than 2^64)", "hard limit"]),
        (
            vec!["costs.tax_rate=0.1,0.2", "costs.tax_rate=0.3"],
            vec!["--grid costs.tax_rate=... is given twice"],
        ),
        (
            vec!["name=alpha,beta"],
            vec!["\"name=alpha,beta\"", "--set name=NAME"],
        ),
        // A step finer than the 12 decimals values are written with ran ten identical
        // points; a value listed twice alike.
        (
            vec!["costs.tax_rate=0:1e-12:1e-13"],
            vec!["the value 0 appears twice"],
        ),
        (
            vec!["costs.tax_rate=0.1,0.2,0.1"],
            vec!["the value 0.1 appears twice"],
        ),
    ] {
        let mut args = vec!["sweep", "scenarios/base.toml", "--force"];
        for g in &grid {
            args.extend(["--grid", g]);
        }
        refused_up_front(&args, &[], &expected);
    }
}

/// `breakeven` over a whole-number input failed at its first fractional midpoint, after
/// two simulations: refused up front, pointing to a sweep over its whole values.
#[test]
fn breakeven_over_a_whole_number_input_is_refused_up_front() {
    refused_up_front(
        &[
            "breakeven",
            "scenarios/base.toml",
            "--vary",
            "plan.length_quarters",
            "--range",
            "8:13",
            "--target",
            "plan_npv_rmb_bn.mean=0",
        ],
        &[],
        &[
            "--vary plan.length_quarters: a whole-number input",
            "--grid plan.length_quarters=8:13:1",
        ],
    );
}

/// Without `--threads`, RAYON_NUM_THREADS sized the pool unchecked (3000 passed the
/// 256-thread limit; 0 or a non-number were silently ignored): held to the limit, naming
/// the variable; an empty value counts as unset, as rayon takes it.
#[test]
fn rayon_num_threads_is_held_to_the_thread_limit() {
    for value in ["3000", "0", "four"] {
        refused_up_front(
            &["run", "--paths", "100"],
            &[("RAYON_NUM_THREADS", value)],
            &[&format!("RAYON_NUM_THREADS=\"{value}\""), "from 1 to 256"],
        );
    }
    refused_up_front(
        &["compare", "scenarios/base.toml", "--paths", "100"],
        &[("RAYON_NUM_THREADS", "3000")],
        &["RAYON_NUM_THREADS=\"3000\""],
    );
    // --threads decides when given; an empty variable is unset.
    let out = tempfile::tempdir().unwrap();
    for (threads, value) in [(Some("2"), "3000"), (None, "")] {
        let mut command = Command::cargo_bin("cloudcapex").unwrap();
        command
            .args(["run", "--paths", "100", "--quiet", "--out"])
            .arg(out.path())
            .env("RAYON_NUM_THREADS", value);
        if let Some(t) = threads {
            command.args(["--threads", t]);
        }
        command.assert().success();
    }
}

/// `slurm --cpus-per-task 300` wrote its scripts (exit 0), then every task refused
/// `--threads 300`: refused before any script is written.
#[test]
fn slurm_cpus_per_task_is_held_to_the_thread_limit() {
    let job = tempfile::tempdir().unwrap();
    let job_dir = job.path().join("job");
    refused_up_front(
        &[
            "slurm",
            "--cpus-per-task",
            "300",
            "--job-dir",
            job_dir.to_str().unwrap(),
        ],
        &[],
        &["--cpus-per-task 300", "at most 256"],
    );
    assert!(!job_dir.exists(), "a script was written");
}

/// `--paths-out` was limited in paths only: at 400 quarters 2,000 kept paths wrote 6.7 GB
/// of paths.csv (100,000 would be ~330 GB). Its bytes are estimated up front and refused
/// above 2 GB, with the estimate and the most paths allowed; by `slurm` too, before any
/// script is written.
#[test]
fn paths_out_is_held_to_a_byte_limit() {
    refused_up_front(
        &[
            "run",
            "--paths",
            "3000",
            "--paths-out",
            "2000",
            "--set",
            "time.horizon_quarters=400",
        ],
        &[],
        &[
            "--paths-out 2000: scenario `base`'s paths.csv would be ~6.8 GB",
            "2000 paths × 401 quarters × 55 quarterly metrics",
            "above the 2 GB limit: keep at most 588 paths",
        ],
    );
    refused_up_front(
        &["run", "--paths", "100000", "--paths-out", "100000"],
        &[],
        &["~34.7 GB", "at most 5759 paths"],
    );
    let job = tempfile::tempdir().unwrap();
    let job_dir = job.path().join("job");
    refused_up_front(
        &[
            "slurm",
            "--paths",
            "10000",
            "--paths-out",
            "8000",
            "--job-dir",
            job_dir.to_str().unwrap(),
        ],
        &[],
        &["--paths-out 8000", "2 GB limit"],
    );
    assert!(!job_dir.exists(), "a script was written");
}

/// `cloudcapex ARGS` in `dir`, which must stop (a FIFO read would hang: the timeout turns
/// that into a failure) with exit code 2; its stderr.
fn refused_in(dir: &std::path::Path, args: &[&str]) -> String {
    let assert = Command::cargo_bin("cloudcapex")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(2);
    String::from_utf8_lossy(&assert.get_output().stderr).to_string()
}

/// A FIFO named `name` in `dir`.
#[cfg(unix)]
fn fifo(dir: &std::path::Path, name: &str) {
    let status = std::process::Command::new("mkfifo")
        .arg(dir.join(name))
        .status()
        .unwrap();
    assert!(status.success());
}

/// Scenario, history and sample files must be regular files: a device that never ends
/// (`/dev/zero`), a FIFO no one writes (which blocked forever) or a directory is refused at
/// once, exit 2, naming the file, whether named on the command line or by `extends`.
#[cfg(unix)]
#[test]
fn input_files_that_are_not_regular_files_are_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize("scenarios/base.toml").unwrap();
    let base = base.to_str().unwrap();
    fifo(dir.path(), "pipe.toml");
    fifo(dir.path(), "pipe.csv");
    std::fs::write(dir.path().join("zero.toml"), "extends = \"/dev/zero\"\n").unwrap();
    std::fs::write(
        dir.path().join("via_pipe.toml"),
        "extends = \"pipe.toml\"\n",
    )
    .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["validate", "/dev/zero"],
            "/dev/zero: it is a character device",
        ),
        (
            vec!["run", "/dev/zero"],
            "/dev/zero: it is a character device",
        ),
        (
            vec!["validate", "zero.toml"],
            "key `extends`: cannot read scenario file /dev/zero",
        ),
        (vec!["validate", "pipe.toml"], "pipe.toml: it is a FIFO"),
        (
            vec!["validate", "via_pipe.toml"],
            "key `extends`: cannot read scenario file pipe.toml: it is a FIFO",
        ),
        (vec!["validate", "."], "it is a directory"),
        (
            vec!["calibrate", "/dev/zero"],
            "history file /dev/zero: it is a character device",
        ),
        (
            vec!["calibrate", "pipe.csv"],
            "history file pipe.csv: it is a FIFO",
        ),
        (
            vec!["backtest", base, "--from", "2025Q2", "--data", "pipe.csv"],
            "history file pipe.csv: it is a FIFO",
        ),
        (
            vec!["sensitivity", "sobol", base, "--import-samples", "pipe.csv"],
            "--import-samples pipe.csv: it is a FIFO",
        ),
        (
            vec![
                "sensitivity",
                "sobol",
                base,
                "--import-samples",
                "/dev/zero",
            ],
            "--import-samples /dev/zero: it is a character device",
        ),
    ];
    for (args, expected) in cases {
        let stderr = refused_in(dir.path(), &args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("out").exists());
}

/// A file over its kind's size cap is refused before it is read whole, naming the cap.
#[test]
fn oversized_input_files_are_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    // A valid scenario padded with comments past the cap.
    let mut text = std::fs::read_to_string("scenarios/base.toml").unwrap();
    let pad = format!("# {}\n", "x".repeat(1000));
    while text.len() as u64 <= cloudcapex::input_file::MAX_SCENARIO_BYTES {
        text.push_str(&pad);
    }
    std::fs::write(dir.path().join("big.toml"), &text).unwrap();
    std::fs::write(dir.path().join("small.toml"), "extends = \"big.toml\"\n").unwrap();
    for args in [vec!["validate", "big.toml"], vec!["validate", "small.toml"]] {
        let stderr = refused_in(dir.path(), &args);
        assert!(
            stderr.contains(
                "big.toml: it is larger than 4 MiB (4194304 bytes), the limit of a scenario file"
            ),
            "{args:?}: {stderr}"
        );
    }
    let mut csv = std::fs::read_to_string("data/alibaba_cloud_quarterly.csv").unwrap();
    while csv.len() as u64 <= cloudcapex::input_file::MAX_HISTORY_BYTES {
        csv.push_str(&pad);
    }
    std::fs::write(dir.path().join("big.csv"), &csv).unwrap();
    let stderr = refused_in(dir.path(), &["calibrate", "big.csv"]);
    assert!(stderr.contains("the limit of a history file"), "{stderr}");
}

/// A chain of 15,000 `extends` overflowed the stack (exit 134): the depth is capped, and
/// checked before each step deeper; a chain at the cap is read.
#[test]
fn a_very_long_extends_chain_is_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let n = 15_000;
    for i in 0..n {
        std::fs::write(
            dir.path().join(format!("c{i}.toml")),
            format!("extends = \"c{}.toml\"\n", i + 1),
        )
        .unwrap();
    }
    std::fs::copy("scenarios/base.toml", dir.path().join(format!("c{n}.toml"))).unwrap();
    let stderr = refused_in(dir.path(), &["validate", "c0.toml"]);
    let limit = cloudcapex::input_file::MAX_EXTENDS_DEPTH;
    assert!(
        stderr.contains(&format!("longer than {limit} files (the limit)"))
            && stderr.contains("key `extends`")
            && stderr.contains("line 1"),
        "{stderr}"
    );
    // Exactly the limit: the last `limit` files of the chain.
    Command::cargo_bin("cloudcapex")
        .unwrap()
        .current_dir(dir.path())
        .args(["validate", &format!("c{}.toml", n + 1 - limit)])
        .assert()
        .success();
    refused_in(dir.path(), &["validate", &format!("c{}.toml", n - limit)]);
}

/// An imported sample value outside [0, 1) is refused up front (exit 2, no output), naming
/// the file's line (the header is line 1) and the column's input; it was refused after
/// the scenario ran, as "row N" for line N + 1. The exported design imports back.
#[test]
fn imported_samples_out_of_range_are_refused_naming_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize("scenarios/base.toml").unwrap();
    let base = base.to_str().unwrap();
    Command::cargo_bin("cloudcapex")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "sensitivity",
            "sobol",
            base,
            "--samples",
            "2",
            "--export-samples",
            "design",
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(dir.path().join("design/samples.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let last = lines.len();
    let mut cells: Vec<String> = lines[last - 1].split(',').map(String::from).collect();
    cells[1] = "1.5".into();
    lines[last - 1] = cells.join(",");
    std::fs::write(dir.path().join("bad.csv"), lines.join("\n") + "\n").unwrap();
    let stderr = refused_in(
        dir.path(),
        &[
            "sensitivity",
            "sobol",
            base,
            "--import-samples",
            "bad.csv",
            "--out",
            "out",
        ],
    );
    assert!(
        stderr.contains(&format!(
            "bad.csv, line {last}, column 2 (`{}`): expected a quantile level in [0, 1), found 1.5",
            header[1]
        )),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists());
}

/// A scenario's name becomes its output folders (`OUT/<name>`, `OUT/sweep_<name>`, staged
/// in hidden `.cloudcapex.*` folders): a name that cannot be one is refused by validation,
/// exit 2, before any work, whether it comes from a `name` key, a `--set name=...` or the
/// file's stem. A 255-byte name failed after simulating ("File name too long");
/// `.cloudcapex.lock` and `report.html` failed after the work.
#[test]
fn scenario_names_that_cannot_be_folder_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize("scenarios/base.toml").unwrap();
    let limit = cloudcapex::scenario::MAX_NAME_BYTES;
    let long = "n".repeat(limit + 1);
    let bad: Vec<(&str, &str)> = vec![
        ("", "it is empty"),
        (&long, "more than the limit of 100"),
        (".cloudcapex.lock", "starts with '.'"),
        (".hidden", "starts with '.'"),
        ("..", "starts with '.'"),
        ("a/b", "contains '/'"),
        ("a\\\\b", "contains '\\\\'"),
        ("a:b", "contains ':'"),
        ("a\\nb", "contains '\\n'"),
        ("a\\tb", "contains '\\t'"),
        ("a\\u0000b", "contains '\\0'"),
        ("comparison_report", "is reserved"),
        ("Comparison", "is reserved"),
    ];
    for (name, expected) in &bad {
        // As a --set (a TOML basic string: the escapes are TOML's).
        let set = format!("name=\"{name}\"");
        let stderr = refused_in(
            dir.path(),
            &["validate", base.to_str().unwrap(), "--set", &set],
        );
        assert!(
            stderr.contains("key `name`") && stderr.contains(expected),
            "{set}: {stderr}"
        );
        // As a `name` key of the file, located.
        let file = dir.path().join("named.toml");
        std::fs::write(
            &file,
            format!(
                "extends = {:?}\nname = \"{name}\"\n",
                base.to_str().unwrap()
            ),
        )
        .unwrap();
        let stderr = refused_in(
            dir.path(),
            &["run", "named.toml", "--paths", "10", "--out", "out"],
        );
        assert!(
            stderr.contains("named.toml, line 2") && stderr.contains(expected),
            "{name:?}: {stderr}"
        );
        assert!(!dir.path().join("out").exists(), "{name:?}: wrote output");
    }
    // From the file's stem: a 250-byte stem, a reserved one and a hidden one.
    for (stem, expected) in [
        ("s".repeat(250), "more than the limit of 100"),
        ("comparison_report".to_string(), "reserved"),
        (".cloudcapex.lock".to_string(), "starts with '.'"),
        ("a:b".to_string(), "contains ':'"),
    ] {
        let file = format!("{stem}.toml");
        std::fs::copy(&base, dir.path().join(&file)).unwrap();
        let stderr = refused_in(dir.path(), &["run", &file, "--paths", "10", "--out", "out"]);
        assert!(
            stderr.contains("key `name`")
                && stderr.contains("from the stem of")
                && stderr.contains(expected),
            "{stem}: {stderr}"
        );
        assert!(!dir.path().join("out").exists(), "{stem}: wrote output");
        // A `name` key fixes it.
        Command::cargo_bin("cloudcapex")
            .unwrap()
            .current_dir(dir.path())
            .args(["validate", &file, "--set", "name=renamed"])
            .assert()
            .success();
    }
    // At the limit, and with spaces, a name is accepted.
    for name in ["n".repeat(limit), "my base case".into()] {
        Command::cargo_bin("cloudcapex")
            .unwrap()
            .args([
                "validate",
                base.to_str().unwrap(),
                "--set",
                &format!("name=\"{name}\""),
            ])
            .assert()
            .success();
    }
}

/// Segment, regime, event, effect and asset-class names become key paths, metric names
/// and column names (drivers.csv, the Sobol sample matrix): each must be an identifier.
/// A segment `a,b` or with a newline was exported as an unquoted header that the import
/// then refused.
#[test]
fn names_that_become_columns_must_be_identifiers() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize("scenarios/base.toml").unwrap();
    let segment = "start_revenue_rmb_bn = 1.0\ninitial_growth = 0.1\nterminal_growth = 0.03\n\
                   growth_half_life_quarters = 8\n";
    let cases = [
        (
            format!("[revenue.segments.\"a\\nb\"]\n{segment}"),
            "revenue.segments.a\nb",
            "segment",
        ),
        (
            format!("[revenue.segments.\"1st\"]\n{segment}"),
            "revenue.segments.1st",
            "segment",
        ),
        (
            format!("[revenue.segments.\"a.b\"]\n{segment}"),
            "revenue.segments.a.b",
            "segment",
        ),
        (
            "[risk.regimes.\"calm spell\"]\ninitial_probability = 0\n".into(),
            "risk.regimes.calm spell",
            "regime",
        ),
        (
            "[risk.events.\"x,y\".effects.cost]\nlever = \"unit_cost\"\nsize = 0.1\n".into(),
            "risk.events.x,y",
            "event",
        ),
        (
            "[risk.events.price_war.effects.\"a b\"]\nlever = \"unit_cost\"\nsize = 0.1\n".into(),
            "risk.events.price_war.effects.a b",
            "effect",
        ),
        (
            "[plan.assets.\"gpu;\"]\nshare = 0\nuseful_life_quarters = 12\n".into(),
            "plan.assets.gpu;",
            "asset class",
        ),
    ];
    for (table, key, what) in cases {
        let file = dir.path().join("names.toml");
        std::fs::write(
            &file,
            format!("extends = {:?}\n{table}", base.to_str().unwrap()),
        )
        .unwrap();
        let stderr = refused_in(dir.path(), &["validate", "names.toml"]);
        assert!(
            stderr.contains(&format!("key `{key}`"))
                && stderr.contains(&format!("{what} names must be identifiers"))
                && stderr.contains("names.toml, line 2"),
            "{table}: {stderr}"
        );
    }
    // Letters, digits, '_' and '-' after a letter are fine, and the design round-trips.
    let file = dir.path().join("ok.toml");
    std::fs::write(
        &file,
        format!(
            "extends = {:?}\n[revenue.segments.new-biz_2]\n{segment}\
             initial_growth = {{ dist = \"uniform\", min = 0.05, max = 0.2 }}\n",
            base.to_str().unwrap()
        )
        .replace("initial_growth = 0.1\n", ""),
    )
    .unwrap();
    Command::cargo_bin("cloudcapex")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "sensitivity",
            "sobol",
            "ok.toml",
            "--samples",
            "2",
            "--export-samples",
            "design",
        ])
        .assert()
        .success();
    let samples = std::fs::read_to_string(dir.path().join("design/samples.csv")).unwrap();
    assert!(
        samples
            .lines()
            .next()
            .unwrap()
            .contains("revenue.segments.new-biz_2.initial_growth"),
        "{samples}"
    );
}
