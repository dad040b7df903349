//! The short readable table printed after a run.

use std::fmt::Write;

use super::labels::metric_label;
use crate::runner::Results;

fn fmt_value(x: f64) -> String {
    let text = if !x.is_finite() {
        return "-".into();
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.4}")
    };
    // A value that rounds to zero is shown as 0, not -0.0000.
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// A plain-text table of one scenario's results: total revenue by calendar year (the
/// year's last projected quarter) and every scalar metric with its standard error, under
/// its readable label ([`super::metric_label`]; rates in percent).
///
/// # Examples
///
/// ```
/// use cloudcapex::{output::summary_table, runner::{simulate, RunOptions}, Scenario};
/// let s = Scenario::default_scenario().with_paths(500).unwrap();
/// let table = summary_table(&simulate(&s, &RunOptions::default()).unwrap());
/// assert!(table.contains("Revenue CAGR, start to horizon (%/yr)"));
/// ```
pub fn summary_table(results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} | {} paths | seed {} | sha256 {}",
        results.scenario,
        results.paths,
        results.seed,
        &results.scenario_sha256[..12]
    );
    let _ = writeln!(
        out,
        "\nCloud revenue, RMB bn per quarter (Q4 of each year; start quarter first)"
    );
    let _ = writeln!(
        out,
        "{:<9} {:>10} {:>9} {:>10} {:>10} {:>10}",
        "quarter", "mean", "se", "p5", "median", "p95"
    );
    for t in 0..results.quarters {
        let quarter = results.calendar[t];
        if t != 0 && quarter.quarter_of_year() != 4 {
            continue;
        }
        if let Some(s) = results.quarterly_summary("revenue_total_rmb_bn", t) {
            let _ = writeln!(
                out,
                "{:<9} {:>10} {:>9} {:>10} {:>10} {:>10}",
                quarter.label(),
                fmt_value(s.mean),
                fmt_value(s.se),
                fmt_value(s.quantiles[1]),
                fmt_value(s.quantiles[4]),
                fmt_value(s.quantiles[7])
            );
        }
    }
    let labels: Vec<(String, f64)> = results
        .scalars
        .iter()
        .map(|(name, _)| {
            let label = metric_label(name);
            (label.text(), label.unit.scale())
        })
        .collect();
    let width = labels
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "\nPer-path metrics, rates in percent (quantiles exact, or ~ from the sketch within 0.5%; paths: where defined)"
    );
    let _ = writeln!(
        out,
        "{:<width$} {:>10} {:>9} {:>10} {:>10} {:>10} {:>1} {:>8}",
        "metric", "mean", "se", "p5", "median", "p95", "", "paths"
    );
    for ((_, stats), (label, scale)) in results.scalars.iter().zip(&labels) {
        let Some(s) = &stats.summary else { continue };
        let _ = writeln!(
            out,
            "{:<width$} {:>10} {:>9} {:>10} {:>10} {:>10} {:>1} {:>8}",
            label,
            fmt_value(s.mean * scale),
            fmt_value(s.se * scale),
            fmt_value(s.quantiles[1] * scale),
            fmt_value(s.quantiles[4] * scale),
            fmt_value(s.quantiles[7] * scale),
            if stats.exact { "" } else { "~" },
            s.count
        );
    }
    if let Some(npv) = results.scalar_stats("plan_npv_rmb_bn") {
        let _ = writeln!(
            out,
            "\nP(plan NPV < 0) = {:.3} ± {:.3}; CVaR 5% of NPV = {} ± {} RMB bn (mean of the worst 5% of paths)",
            npv.prob_negative,
            npv.prob_negative_se,
            fmt_value(npv.cvar5),
            fmt_value(npv.cvar5_se)
        );
        if let (Some(terminal), Some(without)) = (
            results.scalar_stats("plan_terminal_value_pv_rmb_bn"),
            results.scalar_stats("plan_npv_excl_terminal_rmb_bn"),
        ) {
            let mean =
                |s: &crate::stats::ScalarSummary| s.summary.as_ref().map_or(f64::NAN, |x| x.mean);
            let _ = writeln!(
                out,
                "Terminal value: mean PV {} RMB bn of the mean NPV {}; without it the mean NPV is {} and \
                 P(NPV < 0) = {:.3} ± {:.3}",
                fmt_value(mean(terminal)),
                fmt_value(mean(npv)),
                fmt_value(mean(without)),
                without.prob_negative,
                without.prob_negative_se
            );
        }
        let paths = results.paths;
        let defined = |name: &str| {
            results
                .scalar_stats(name)
                .map(|s| s.summary.as_ref().map_or(0, |x| x.count))
        };
        if let Some(irr) = defined("plan_irr") {
            let _ = writeln!(
                out,
                "IRR is unique on {irr} of {paths} paths; {} have none or several (see IRR roots found)",
                paths - irr
            );
        }
        if let Some(mirr) = defined("plan_mirr") {
            let _ = writeln!(out, "MIRR is defined on {mirr} of {paths} paths");
        }
        for (name, label) in [
            ("plan_payback_quarters", "Payback"),
            ("plan_discounted_payback_quarters", "Discounted payback"),
        ] {
            if let Some(within) = defined(name) {
                let _ = writeln!(
                    out,
                    "{label} happens within the horizon on {within} of {paths} paths; on {} it does not \
                     (censored: counted, not in the quantiles)",
                    paths - within
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_rounding_to_zero_print_without_a_sign() {
        assert_eq!(fmt_value(-0.00001), "0.0000");
        assert_eq!(fmt_value(-0.0), "0.0000");
        assert_eq!(fmt_value(-0.5), "-0.5000");
        assert_eq!(fmt_value(f64::NAN), "-");
    }

    /// The per-path table marks sketch quantiles and says on how many paths a metric is
    /// defined (a payback exists on some paths only).
    #[test]
    fn the_table_says_which_quantiles_are_sketched_and_how_many_paths_count() {
        let s = crate::Scenario::default_scenario().with_paths(600).unwrap();
        let results = crate::runner::simulate(&s, &crate::runner::RunOptions::default()).unwrap();
        let table = summary_table(&results);
        let payback = table
            .lines()
            .find(|l| l.starts_with("Payback (quarters) "))
            .unwrap();
        let count = results.scalar("plan_payback_quarters").unwrap().count;
        assert!(
            count < 600 && payback.trim_end().ends_with(&count.to_string()),
            "{payback}"
        );
        let roots = table
            .lines()
            .find(|l| l.starts_with("IRR roots found (count) "))
            .unwrap();
        assert!(roots.contains(" ~ "), "{roots}");
        assert!(!table.contains("-0.0000"));
    }
}
