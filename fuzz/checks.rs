//! The checks the fuzz targets run on each input, shared with the regression test
//! `tests/fuzz_regressions.rs`, which replays every saved input through them (the targets
//! and the test include this file by path). See docs/reliability.md.

use cloudcapex::finance::{
    IRR_MAX_RATE, IRR_MIN_RATE, IRR_RESOLUTION, Irr, discounted_payback, irr, mirr, npv, payback,
    xirr, xnpv,
};
use cloudcapex::time::Date;
use cloudcapex::{Override, Scenario};

/// Scenario text from arbitrary bytes: loading and validation never panic, and a scenario
/// that validates resolves to TOML that validates again to the same scenario (same hash).
pub fn scenario_toml(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(scenario) = Scenario::from_toml_str("fuzz", "fuzz.toml", text, &[]) else {
        return;
    };
    let resolved = scenario.resolved_toml();
    let again = Scenario::from_toml_str("fuzz", "resolved.toml", &resolved, &[])
        .unwrap_or_else(|e| panic!("the resolved scenario is refused: {e}\n{resolved}"));
    assert_eq!(
        again.sha256(),
        scenario.sha256(),
        "resolving twice changes the scenario:\n{resolved}"
    );
}

/// History files from arbitrary bytes: parsing never panics; a refusal names a line; an
/// accepted history has consecutive quarters with positive revenue where given, and a
/// calibration on it either fits (finite estimates, factors averaging 1) or is refused.
pub fn history_csv(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let history = match cloudcapex::history::History::parse("fuzz.csv", text) {
        Ok(h) => h,
        Err(e) => {
            assert!(e.line().is_some(), "a refusal without a line: {e}");
            return;
        }
    };
    for pair in history.quarters.windows(2) {
        assert_eq!(pair[1].quarter, pair[0].quarter.plus(1), "not consecutive");
    }
    assert!(
        history
            .quarters
            .iter()
            .all(|q| q.revenue_rmb_bn.is_none_or(|r| r > 0.0))
    );
    let (first, last) = history.span();
    if let Ok(fit) = cloudcapex::calibration::calibrate(&history, first, last) {
        let mean: f64 = fit.seasonal_factors.iter().map(|f| f.value).sum::<f64>() / 4.0;
        assert!((mean - 1.0).abs() < 1e-9, "factors average {mean}: {fit:?}");
        for e in [
            fit.persistence,
            fit.innovation_sd,
            fit.residual_sd,
            fit.mean_quarterly_log_growth,
        ] {
            assert!(
                e.value.is_finite() && e.se.is_finite() && e.se >= 0.0,
                "{fit:?}"
            );
        }
        let fragment = fit.to_toml("fuzz.csv", Some("total"));
        assert!(
            fragment.parse::<toml::Table>().is_ok(),
            "not TOML:\n{fragment}"
        );
    }
}

/// `--set` arguments from arbitrary text: parsing and applying one to the default scenario
/// never panic, a refusal names the argument, the key or a place, and an accepted override
/// resolves to TOML that validates again to the same scenario.
pub fn set_override(bytes: &[u8]) {
    let Ok(argument) = std::str::from_utf8(bytes) else {
        return;
    };
    let item = match Override::parse(argument) {
        Ok(item) => item,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    match Scenario::default_with(std::slice::from_ref(&item)) {
        Ok(scenario) => {
            let again =
                Scenario::from_toml_str("fuzz", "resolved.toml", &scenario.resolved_toml(), &[])
                    .unwrap_or_else(|e| {
                        panic!("--set {argument:?}: the resolved scenario is refused: {e}")
                    });
            assert_eq!(again.sha256(), scenario.sha256(), "--set {argument:?}");
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.contains(item.key()) || message.contains("--set") || e.location().is_some(),
                "--set {argument:?}: a refusal that names neither key nor place: {message}"
            );
        }
    }
}

/// Largest scaled |NPV| accepted at a reported root (the differential test's bound).
const ROOT_TOLERANCE: f64 = 1e-9;
/// Grid cells over ln(1 + r) in the completeness check.
const GRID: usize = 400;
/// A grid point whose scaled NPV is this close to zero has no trustworthy sign.
const SIGN_NOISE: f64 = 1e-10;

/// Flows decoded from bytes in one of three ways (the first byte picks): raw f64 bits
/// (NaN, infinities, subnormals), small integers (conventional-looking projects), or a
/// mantissa and a decimal exponent (magnitudes 10^-300 to 10^300, mixed).
fn decode(bytes: &[u8]) -> (Vec<f64>, &[u8]) {
    let Some((&mode, rest)) = bytes.split_first() else {
        return (Vec::new(), bytes);
    };
    let (count, width) = match mode % 3 {
        0 => (rest.len() / 8, 8),
        1 => (rest.len() / 2, 2),
        _ => (rest.len() / 2, 2),
    };
    let count = count.min(700);
    let flows = rest
        .chunks_exact(width)
        .take(count)
        .map(|c| match mode % 3 {
            0 => f64::from_le_bytes(c.try_into().unwrap()),
            1 => f64::from(i16::from_le_bytes([c[0], c[1]])),
            _ => f64::from(c[0] as i8) * 10f64.powi(i32::from(c[1] as i8) * 300 / 128),
        })
        .collect();
    (flows, &rest[count * width..])
}

/// Σ f_j e^{-t_j y} / Σ |f_j| e^{-t_j y} at y = ln(1 + r), in log space (never overflows).
fn scaled_npv(flows: &[f64], times: &[f64], y: f64) -> f64 {
    let logs: Vec<f64> = flows
        .iter()
        .zip(times)
        .filter(|(f, _)| **f != 0.0)
        .map(|(f, t)| f.abs().ln() - t * y)
        .collect();
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut signed, mut total) = (0.0, 0.0);
    for ((f, _), l) in flows
        .iter()
        .zip(times)
        .filter(|(f, _)| **f != 0.0)
        .zip(&logs)
    {
        let w = (l - top).exp();
        signed += f.signum() * w;
        total += w;
    }
    if total == 0.0 { 0.0 } else { signed / total }
}

fn check_roots(flows: &[f64], times: &[f64], result: &Irr, what: &str) {
    let roots: Vec<f64> = match result {
        Irr::Unique(r) => vec![*r],
        Irr::Multiple(rs) => rs.clone(),
        _ => Vec::new(),
    };
    for &r in &roots {
        // The range is closed with a margin of 1e-9 in ln(1 + r) (finance.rs).
        let y = r.ln_1p();
        assert!(
            y >= IRR_MIN_RATE.ln_1p() - 1e-9 && y <= IRR_MAX_RATE.ln_1p() + 1e-9,
            "{what}: root {r} outside the searched range, flows {flows:?}"
        );
        let residual = scaled_npv(flows, times, y).abs();
        assert!(
            residual < ROOT_TOLERANCE,
            "{what}: reported root {r} has scaled NPV {residual:e}, flows {flows:?}"
        );
    }
    if matches!(result, Irr::Indeterminate) {
        return;
    }
    // Every sign change between grid points brackets a root, which must be reported.
    let (lo, hi) = (IRR_MIN_RATE.ln_1p(), IRR_MAX_RATE.ln_1p());
    let grid: Vec<(f64, f64)> = (0..=GRID)
        .map(|i| lo + (hi - lo) * i as f64 / GRID as f64)
        .map(|y| (y, scaled_npv(flows, times, y)))
        .collect();
    for pair in grid.windows(2) {
        let ((ya, va), (yb, vb)) = (pair[0], pair[1]);
        if va.abs() > SIGN_NOISE && vb.abs() > SIGN_NOISE && va.signum() != vb.signum() {
            let found = roots.iter().any(|r| {
                let y = r.ln_1p();
                y >= ya - IRR_RESOLUTION && y <= yb + IRR_RESOLUTION
            });
            assert!(
                found,
                "{what}: the NPV changes sign between r = {} and {} but no root there \
                 is reported ({result:?}), flows {flows:?}",
                ya.exp_m1(),
                yb.exp_m1()
            );
        }
    }
}

/// The finance functions on arbitrary cash flows: never a panic or a hang; every root `irr`
/// and `xirr` report is a root (scaled |NPV| below tolerance); every sign change of the NPV
/// on a grid of rates has a reported root inside it (no root is missed).
pub fn finance(bytes: &[u8]) {
    let (flows, rest) = decode(bytes);
    let rate = rest.first().map_or(0.1, |&b| f64::from(b) / 100.0 - 0.9);

    // Errors are documented refusals; only panics, hangs and wrong roots are failures.
    let _ = npv(rate, &flows);
    let _ = payback(&flows);
    let _ = discounted_payback(rate, &flows);
    let _ = mirr(&flows, rate, rate * 0.5);
    let periods: Vec<f64> = (0..flows.len()).map(|j| j as f64).collect();
    if let Ok(result) = irr(&flows) {
        check_roots(&flows, &periods, &result, "irr");
    }

    // Dates from the remaining bytes (years 2000 to 2149, any order, repeats allowed).
    let dates: Vec<Date> = rest
        .chunks_exact(3)
        .take(flows.len())
        .filter_map(|c| Date::new(2000 + i32::from(c[0] % 150), 1 + c[1] % 12, 1 + c[2] % 28).ok())
        .collect();
    if dates.len() == flows.len() && !flows.is_empty() {
        let _ = xnpv(rate, &flows, &dates);
        if let Ok(result) = xirr(&flows, &dates) {
            // xirr nets same-day flows and measures time in years of 365 days from the
            // earliest date.
            let first = dates.iter().map(|d| d.days_since_epoch()).min().unwrap();
            let mut netted: std::collections::BTreeMap<i64, f64> = Default::default();
            for (f, d) in flows.iter().zip(&dates) {
                *netted.entry(d.days_since_epoch() - first).or_default() += f;
            }
            let (times, net): (Vec<f64>, Vec<f64>) =
                netted.iter().map(|(&d, &f)| (d as f64 / 365.0, f)).unzip();
            check_roots(&net, &times, &result, "xirr");
        }
    }
}

/// Shard files from arbitrary bytes (as `shard-0-of-1.ccx`, the file a one-shard run
/// writes): finding, checking and merging never panic and never allocate by a count the
/// file claims before its checksum held; a refusal names the file; a set that merges gives
/// results of the header's path count.
pub fn shard_file(bytes: &[u8]) {
    use cloudcapex::shard::{RUN, find_shards};
    let dir = std::env::temp_dir().join(format!("cloudcapex-fuzz-shard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let file = dir.join("shard-0-of-1.ccx");
    std::fs::write(&file, bytes).expect("the scratch file");
    match find_shards(&dir) {
        Ok(sets) => {
            for set in sets {
                if set.verify().is_err() || set.header.kind != RUN {
                    continue;
                }
                if let Ok((scenario, results)) = set.merge() {
                    assert_eq!(results.paths, set.header.paths);
                    assert_eq!(scenario.simulation().seed, set.header.seed);
                }
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.contains("shard-0-of-1.ccx") || message.contains("scenario `"),
                "a refusal that names neither the file nor the scenario: {message}"
            );
        }
    }
}
