//! `cloudcapex backtest`: the scenario's revenue model run as of earlier quarters and
//! scored against the quarters reported since.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::Quarter;
use cloudcapex::analysis::backtest::{BacktestRun, backtest, coverage};
use cloudcapex::analysis::fiscal_backtest::{
    FILED_FISCAL_YEARS, FiledFiscalYear, fiscal_backtest, write_fiscal_csv,
};
use cloudcapex::history::History;

use super::common::{AnalysisOptions, failure, refuse};

/// Most paths per origin: every path of every scored quarter is kept for exact scores.
const MAX_BACKTEST_PATHS: u64 = 200_000;
/// Paths per origin when `--paths` is not given.
const DEFAULT_BACKTEST_PATHS: u64 = 4_000;

#[derive(Args, Debug)]
pub struct BacktestArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Forecast origin: the last quarter known (with --rolling, the first origin).
    #[arg(long, value_name = "QUARTER")]
    from: Quarter,
    /// Last quarter scored; default the last quarter with a reported revenue.
    #[arg(long, value_name = "QUARTER")]
    to: Option<Quarter>,
    /// Every origin from --from to the quarter before --to, each scored on the quarters
    /// after it.
    #[arg(long)]
    rolling: bool,
    /// Refit seasonality, growth and shocks on the history up to each origin (the
    /// earliest possible origin is 2025Q2: nine quarters on the current segment basis).
    #[arg(long)]
    recalibrate: bool,
    /// History file (format in data/README.md); default data/alibaba_cloud_quarterly.csv,
    /// else the copy embedded in the binary.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Also draw each origin's fan with the reported revenue on it (fan_<origin>.svg).
    #[arg(long)]
    report: bool,
    /// Also hindcast the whole model (economics, plan, risk) from --from by Alibaba fiscal
    /// year (ending March): revenue, adjusted EBITA and margin, capex and depreciation
    /// against the filings, in fiscal_backtest.csv. Needs one origin before the scenario's
    /// start quarter (not --rolling or --recalibrate).
    #[arg(long)]
    fiscal_years: bool,
    #[command(flatten)]
    common: AnalysisOptions,
    /// Do not print the table.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs `cloudcapex backtest`.
pub fn run(args: BacktestArgs) -> ExitCode {
    if let Err(code) = args.common.check() {
        return code;
    }
    let paths = args.common.paths.unwrap_or(DEFAULT_BACKTEST_PATHS);
    if paths > MAX_BACKTEST_PATHS {
        return refuse(format!(
            "--paths {paths}: a backtest keeps every path of every scored quarter; at most {MAX_BACKTEST_PATHS}"
        ));
    }
    let history = match History::load_or_default(args.data.as_deref()) {
        Ok(h) => h,
        Err(e) => return refuse(e),
    };
    let scenario = match args.common.load(&args.scenario, &[]) {
        Ok(s) => s,
        Err(e) => return refuse(e),
    };
    let (first, last) = history.span();
    let Some(last_reported) = history.last_reported() else {
        return refuse(format!(
            "{}: no quarter has a reported revenue",
            history.source
        ));
    };
    let to = args.to.unwrap_or(last_reported);
    if args.fiscal_years && (args.rolling || args.recalibrate) {
        return refuse(
            "--fiscal-years hindcasts the model from one origin, --from: drop --rolling and --recalibrate",
        );
    }
    if args.fiscal_years && args.from >= scenario.assumptions().time.start_quarter {
        return refuse(format!(
            "--fiscal-years --from {}: a hindcast must start before the scenario's start quarter {}; give an earlier --from",
            args.from,
            scenario.assumptions().time.start_quarter
        ));
    }
    if to > last || args.from < first || args.from >= to {
        return refuse(format!(
            "--from {} --to {to}: the origin must be a reported quarter before the last one scored, \
             within the history {} ({first} to {last})",
            args.from, history.source
        ));
    }
    // Rolling origins without a reported revenue (an NA row) are skipped.
    let origins: Vec<Quarter> = if args.rolling {
        (0..to.quarters_since(args.from))
            .map(|k| args.from.offset(k))
            .filter(|q| history.revenue(*q).is_some())
            .collect()
    } else {
        vec![args.from]
    };
    let pool = match args.common.thread_pool() {
        Ok(pool) => pool,
        Err(code) => return code,
    };
    let (transaction, dir) = match super::common::begin_folder(
        &args.common.out,
        &format!("backtest_{}", scenario.name()),
        "backtest",
        cloudcapex::output::ClaimMode::Replace,
    ) {
        Ok(claimed) => claimed,
        Err(code) => return code,
    };
    // The filings' annual totals fill fiscal years the history leaves incomplete, where the
    // history's own quarters agree with them (reported_fiscal checks that).
    let filed: &[FiledFiscalYear] = &FILED_FISCAL_YEARS;
    let fiscal = if args.fiscal_years {
        match pool.install(|| fiscal_backtest(&scenario, &history, filed, args.from, to, paths)) {
            Ok(rows) => Some(rows),
            Err(e) => return refuse(e),
        }
    } else {
        None
    };
    let rows = match pool
        .install(|| backtest(&scenario, &history, &origins, to, paths, args.recalibrate))
    {
        Ok(rows) if rows.is_empty() => {
            return refuse(format!(
                "no reported revenue to score between {} and {to} in {}",
                args.from, history.source
            ));
        }
        Ok(rows) => rows,
        Err(e) => return refuse(e),
    };
    let run = BacktestRun {
        scenario: &scenario,
        paths,
        recalibrate: args.recalibrate,
        rows: &rows,
    };
    let mut written = match run.write(&dir, &history, args.report) {
        Ok(w) => w,
        Err(e) => return failure(e),
    };
    if let Some(rows) = &fiscal {
        let file = dir.join("fiscal_backtest.csv");
        match cloudcapex::output::write_atomically(&file, |out| {
            write_fiscal_csv(&scenario, args.from, paths, rows, out)
        }) {
            Ok(path) => written.push(path),
            Err(e) => return failure(e),
        }
    }
    let written: Vec<_> = written.iter().map(|p| transaction.final_path(p)).collect();
    if let Err(code) = super::common::commit(transaction) {
        return code;
    }
    if !args.quiet {
        println!(
            "Backtest of `{}` on {}: {} origin{}, {paths} paths each{}",
            scenario.name(),
            history,
            origins.len(),
            if origins.len() == 1 { "" } else { "s" },
            if args.recalibrate { ", refitted" } else { "" }
        );
        println!(
            "{:<16} {:>6} {:>14} {:>14} {:>9} {:>12}",
            "scope", "count", "in 50% (SE)", "in 90% (SE)", "mean PIT", "mean CRPS"
        );
        let max_ahead = rows.iter().map(|r| r.quarters_ahead).max().unwrap_or(0);
        let groups = std::iter::once(("all".to_string(), None))
            .chain((1..=max_ahead).map(|h| (format!("{h} ahead"), Some(h))));
        for (label, ahead) in groups {
            if let Some(c) = coverage(
                rows.iter()
                    .filter(|r| ahead.is_none_or(|h| r.quarters_ahead == h)),
            ) {
                println!(
                    "{label:<16} {:>6} {:>7.2} ({:.2}) {:>7.2} ({:.2}) {:>9.3} {:>12.2}",
                    c.count,
                    c.in_50,
                    c.in_50_se,
                    c.in_90,
                    c.in_90_se,
                    c.mean_pit,
                    c.mean_crps_rmb_bn
                );
            }
        }
        println!(
            "Nominal: 0.50 and 0.90 inside the bands, mean PIT 0.5. Rows of overlapping origins \
             are correlated: the SEs are lower bounds. CRPS in RMB bn."
        );
        if let Some(rows) = &fiscal {
            println!(
                "\nHindcast of the whole model from {} by fiscal year (ending March), {paths} paths:",
                args.from
            );
            println!(
                "{:<6} {:<20} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10} {:>6}",
                "year", "metric", "reported", "mean", "se", "p5", "p50", "p95", "pit"
            );
            for r in rows {
                let reported = r.reported.map_or("-".into(), |v| format!("{v:.3}"));
                let pit = r.pit.map_or("-".into(), |v| format!("{v:.2}"));
                println!(
                    "{:<6} {:<20} {:>10} {:>10.3} {:>8.3} {:>10.3} {:>10.3} {:>10.3} {:>6}",
                    r.label(),
                    r.metric,
                    reported,
                    r.mean,
                    r.se,
                    r.p5,
                    r.p50,
                    r.p95,
                    pit
                );
            }
        }
        for path in &written {
            println!("written: {}", path.display());
        }
    }
    ExitCode::SUCCESS
}
