//! Backtests: a scenario's revenue model run as of an earlier quarter and scored against
//! the quarters reported since (docs/model.md, "Backtest").
//!
//! The as-of scenario keeps the file's revenue block (segments, correlations,
//! seasonality) and its risk regimes and revenue events, starts at the origin quarter from
//! that quarter's reported revenue (the segments scaled to it, their mix kept), and
//! projects to the last scored quarter. The capex plan, capacity and valuation tables are
//! dropped: they describe a plan announced in 2025 and do not apply before it, and the
//! backtest scores revenue, which they constrain only through AI capacity.

use crate::Quarter;
use crate::Scenario;
use crate::calibration::{CalibrationError, calibrate, default_first};
use crate::history::History;
use crate::runner::{RunError, RunOptions, simulate};
use crate::stats::scoring::{crps, pit, quantile};

/// The metric scored: total revenue, RMB bn per quarter.
pub const SCORED_METRIC: &str = "revenue_total_rmb_bn";
/// Quantiles written per scored quarter.
pub const BAND_PROBABILITIES: [f64; 7] = [0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95];
/// Tables of a scenario that a revenue backtest keeps; the others are dropped.
const KEPT_TABLES: [&str; 6] = [
    "name",
    "description",
    "simulation",
    "time",
    "revenue",
    "risk",
];
/// Event levers that act on revenue (kept in the as-of scenario).
const REVENUE_LEVERS: [&str; 2] = ["revenue_level", "revenue_growth"];

/// One realized quarter scored against the forecast made at `origin`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredQuarter {
    /// Forecast origin: the last quarter known when the forecast was made.
    pub origin: Quarter,
    /// The quarter scored.
    pub quarter: Quarter,
    /// Quarters after the origin (1 = the next quarter).
    pub quarters_ahead: u32,
    /// Reported revenue, RMB bn.
    pub realized_rmb_bn: f64,
    /// The realized value's percentile in the simulated distribution.
    pub pit: f64,
    /// Inside the central 50% band (p25 to p75).
    pub in_50: bool,
    /// Inside the central 90% band (p5 to p95).
    pub in_90: bool,
    /// Continuous ranked probability score, RMB bn (lower is better).
    pub crps_rmb_bn: f64,
    /// Simulated quantiles at [`BAND_PROBABILITIES`], RMB bn.
    pub quantiles_rmb_bn: [f64; 7],
}

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BacktestError {
    /// The origins or the end quarter do not fit the history.
    #[error("{0}")]
    Window(String),
    /// The as-of scenario was refused (a message naming the key).
    #[error("the scenario as of {origin}: {message}")]
    Scenario {
        /// Origin.
        origin: Quarter,
        /// The validation error.
        message: String,
    },
    /// The refit as of an origin failed.
    #[error("--recalibrate as of {origin}: {source}")]
    Calibration {
        /// Origin.
        origin: Quarter,
        /// Why.
        #[source]
        source: CalibrationError,
    },
    /// The simulation failed.
    #[error("the run as of {origin}: {source}")]
    Run {
        /// Origin.
        origin: Quarter,
        /// Why.
        #[source]
        source: RunError,
    },
}

/// The scenario's revenue model as of `origin`, projecting to `to` on `paths` paths (see
/// the module docs); with `recalibrate`, its seasonality, growth and shocks refitted on the
/// history up to `origin`.
///
/// # Errors
///
/// [`BacktestError`] if the origin has no reported revenue, a segment's start revenue is a
/// distribution (it cannot be scaled to the reported total), the refit fails or the
/// as-of scenario is refused.
pub fn as_of(
    scenario: &Scenario,
    history: &History,
    origin: Quarter,
    to: Quarter,
    paths: u64,
    recalibrate: bool,
) -> Result<Scenario, BacktestError> {
    let refused = |message: String| BacktestError::Scenario { origin, message };
    let reported = history.revenue(origin).ok_or_else(|| {
        BacktestError::Window(format!(
            "{}: no reported revenue for the origin {origin}",
            history.source
        ))
    })?;
    let mut table = retimed_table(scenario, origin, to, paths)?;
    table.retain(|key, _| KEPT_TABLES.contains(&key));
    if let Some(events) = table
        .get_mut("risk")
        .and_then(|r| r.get_mut("events"))
        .and_then(|e| e.as_table_mut())
    {
        for (_, event) in events.iter_mut() {
            if let Some(effects) = event.get_mut("effects").and_then(|e| e.as_table_mut()) {
                effects.retain(|_, effect| {
                    effect
                        .get("lever")
                        .and_then(|l| l.as_str())
                        .is_some_and(|l| REVENUE_LEVERS.contains(&l))
                });
            }
        }
        events.retain(|_, event| {
            event
                .get("effects")
                .and_then(|e| e.as_table())
                .is_some_and(|e| !e.is_empty())
        });
    }
    let fit = if recalibrate {
        let first = default_first(history);
        Some(
            calibrate(history, first, origin)
                .map_err(|source| BacktestError::Calibration { origin, source })?,
        )
    } else {
        None
    };
    let revenue = table
        .get_mut("revenue")
        .and_then(|r| r.as_table_mut())
        .ok_or_else(|| refused("no [revenue] table".into()))?;
    if let Some(fit) = &fit {
        let mut seasonality = toml::Table::new();
        for (k, f) in fit.seasonal_factors.iter().enumerate() {
            seasonality.insert(format!("q{}", k + 1), f.value.into());
        }
        revenue.insert("seasonality".into(), seasonality.into());
    }
    let segments = revenue
        .get_mut("segments")
        .and_then(|s| s.as_table_mut())
        .ok_or_else(|| refused("no revenue segments".into()))?;
    let mut total = 0.0;
    for (name, segment) in segments.iter() {
        match segment
            .get("start_revenue_rmb_bn")
            .and_then(|v| v.as_float())
        {
            Some(v) => total += v,
            None => {
                return Err(refused(format!(
                    "revenue.segments.{name}.start_revenue_rmb_bn is a distribution; a backtest \
                     scales fixed start revenues to the reported total"
                )));
            }
        }
    }
    for (_, segment) in segments.iter_mut() {
        let Some(segment) = segment.as_table_mut() else {
            continue;
        };
        let start = segment["start_revenue_rmb_bn"].as_float().unwrap_or(0.0);
        segment.insert(
            "start_revenue_rmb_bn".into(),
            (start * reported / total).into(),
        );
        if let Some(fit) = &fit {
            segment.insert(
                "initial_growth".into(),
                fit.recent_annual_growth.value.into(),
            );
            segment.insert(
                "shock_persistence".into(),
                fit.persistence.value.clamp(-0.99, 0.99).into(),
            );
            segment.insert("persistent_shock_sd".into(), fit.innovation_sd.value.into());
            segment.insert("iid_shock_sd".into(), 0.0.into());
        }
    }
    scenario_as_of(scenario, origin, &table)
}

/// The resolved table of `scenario` set to start at `origin` and run to `to` on `paths`
/// paths: what every as-of scenario (revenue backtest, fiscal hindcast) starts from.
pub(crate) fn retimed_table(
    scenario: &Scenario,
    origin: Quarter,
    to: Quarter,
    paths: u64,
) -> Result<toml::Table, BacktestError> {
    let mut table: toml::Table =
        scenario
            .resolved_toml()
            .parse()
            .map_err(|e: toml::de::Error| BacktestError::Scenario {
                origin,
                message: e.to_string(),
            })?;
    let time = table
        .entry("time")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(time) = time.as_table_mut() {
        time.insert("start_quarter".into(), origin.to_string().into());
        time.insert("horizon_quarters".into(), to.quarters_since(origin).into());
    }
    if let Some(simulation) = table.get_mut("simulation").and_then(|s| s.as_table_mut()) {
        simulation.insert("paths".into(), (paths as i64).into());
    }
    Ok(table)
}

/// The as-of scenario validated from its edited `table`, named `<name> as of <origin>` in
/// its errors.
pub(crate) fn scenario_as_of(
    scenario: &Scenario,
    origin: Quarter,
    table: &toml::Table,
) -> Result<Scenario, BacktestError> {
    let refused = |message: String| BacktestError::Scenario { origin, message };
    let text = toml::to_string(table).map_err(|e| refused(format!("{e}")))?;
    Scenario::from_toml_str(
        scenario.name(),
        &format!("{} as of {origin}", scenario.name()),
        &text,
        &[],
    )
    .map_err(|e| refused(e.to_string()))
}

/// Runs the as-of scenario from each origin in `origins` to `to` and scores every reported
/// quarter after the origin. Rows by origin, then quarter.
///
/// # Errors
///
/// [`BacktestError`] from [`as_of`] or the run; [`BacktestError::Window`] if `to` is
/// beyond the history or not after every origin.
pub fn backtest(
    scenario: &Scenario,
    history: &History,
    origins: &[Quarter],
    to: Quarter,
    paths: u64,
    recalibrate: bool,
) -> Result<Vec<ScoredQuarter>, BacktestError> {
    let (first, last) = history.span();
    if to > last || origins.iter().any(|o| *o >= to || *o < first) {
        return Err(BacktestError::Window(format!(
            "origins must lie in the history ({first} to {last}) and before the last scored quarter {to}"
        )));
    }
    let mut rows = Vec::new();
    for &origin in origins {
        let as_of = as_of(scenario, history, origin, to, paths, recalibrate)?;
        let results = simulate(
            &as_of,
            &RunOptions {
                paths_out: paths,
                ..Default::default()
            },
        )
        .map_err(|source| BacktestError::Run { origin, source })?;
        let metric = results
            .quarterly_metrics
            .iter()
            .position(|m| m == SCORED_METRIC)
            .expect("every run has total revenue");
        for t in 1..results.quarters {
            let quarter = results.calendar[t];
            let Some(realized) = history.revenue(quarter) else {
                continue;
            };
            let mut sample: Vec<f64> = results
                .kept_paths
                .iter()
                .map(|p| p.values[metric * results.quarters + t])
                .filter(|v| v.is_finite())
                .collect();
            sample.sort_by(f64::total_cmp);
            let q = BAND_PROBABILITIES.map(|p| quantile(&sample, p));
            rows.push(ScoredQuarter {
                origin,
                quarter,
                quarters_ahead: t as u32,
                realized_rmb_bn: realized,
                pit: pit(&sample, realized),
                in_50: (q[2]..=q[4]).contains(&realized),
                in_90: (q[0]..=q[6]).contains(&realized),
                crps_rmb_bn: crps(&sample, realized),
                quantiles_rmb_bn: q,
            });
        }
    }
    Ok(rows)
}

/// Coverage of a set of scored quarters: the share inside each band with its binomial
/// standard error `√(p (1 − p) / n)` (rows from overlapping rolling origins are
/// correlated, so read it as a lower bound), the mean PIT and the mean CRPS.
#[derive(Clone, Debug, PartialEq)]
pub struct Coverage {
    /// Scored quarters.
    pub count: usize,
    /// Share inside the central 50% band.
    pub in_50: f64,
    /// Its standard error.
    pub in_50_se: f64,
    /// Share inside the central 90% band.
    pub in_90: f64,
    /// Its standard error.
    pub in_90_se: f64,
    /// Mean PIT (0.5 for an unbiased forecast).
    pub mean_pit: f64,
    /// Mean CRPS, RMB bn.
    pub mean_crps_rmb_bn: f64,
}

/// Coverage of `rows` (see [`Coverage`]); `None` when empty.
pub fn coverage<'a>(rows: impl IntoIterator<Item = &'a ScoredQuarter>) -> Option<Coverage> {
    let rows: Vec<&ScoredQuarter> = rows.into_iter().collect();
    if rows.is_empty() {
        return None;
    }
    let n = rows.len() as f64;
    let share =
        |f: &dyn Fn(&ScoredQuarter) -> bool| rows.iter().filter(|r| f(r)).count() as f64 / n;
    let se = |p: f64| (p * (1.0 - p) / n).sqrt();
    let (in_50, in_90) = (share(&|r| r.in_50), share(&|r| r.in_90));
    Some(Coverage {
        count: rows.len(),
        in_50,
        in_50_se: se(in_50),
        in_90,
        in_90_se: se(in_90),
        mean_pit: rows.iter().map(|r| r.pit).sum::<f64>() / n,
        mean_crps_rmb_bn: rows.iter().map(|r| r.crps_rmb_bn).sum::<f64>() / n,
    })
}

/// What produced a backtest, for its files' provenance columns.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestRun<'a> {
    /// The scenario as given (its name, seed and hash go on every row).
    pub scenario: &'a Scenario,
    /// Paths per origin.
    pub paths: u64,
    /// Whether each origin was refitted.
    pub recalibrate: bool,
    /// The scored rows.
    pub rows: &'a [ScoredQuarter],
}

impl BacktestRun<'_> {
    fn provenance(&self) -> String {
        format!(
            "{},{},{}",
            self.scenario.simulation().seed,
            self.scenario.sha256(),
            crate::output::CRATE_VERSION
        )
    }

    /// `backtest.csv`: one row per origin and scored quarter (columns in docs/outputs.md).
    ///
    /// # Errors
    ///
    /// I/O errors of `out`.
    pub fn write_rows(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        use crate::output::plain;
        writeln!(
            out,
            "scenario,origin,quarter,quarter_end,quarters_ahead,realized_rmb_bn,pit,in_50,in_90,crps_rmb_bn,\
             p5_rmb_bn,p10_rmb_bn,p25_rmb_bn,p50_rmb_bn,p75_rmb_bn,p90_rmb_bn,p95_rmb_bn,paths,recalibrated,\
             seed,scenario_sha256,cloudcapex_version"
        )?;
        let tail = self.provenance();
        for r in self.rows {
            let q: Vec<String> = r.quantiles_rmb_bn.iter().map(|v| plain(*v)).collect();
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                self.scenario.name(),
                r.origin,
                r.quarter,
                r.quarter.end_date(),
                r.quarters_ahead,
                plain(r.realized_rmb_bn),
                plain(r.pit),
                r.in_50,
                r.in_90,
                plain(r.crps_rmb_bn),
                q.join(","),
                self.paths,
                self.recalibrate,
                tail,
            )?;
        }
        Ok(())
    }

    /// `coverage.csv`: coverage over all rows (`scope = all`) and by quarters ahead
    /// (`scope = quarters_ahead`), with binomial SEs.
    ///
    /// # Errors
    ///
    /// I/O errors of `out`.
    pub fn write_coverage(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        use crate::output::plain;
        writeln!(
            out,
            "scenario,scope,quarters_ahead,count,in_50,in_50_se,in_90,in_90_se,mean_pit,mean_crps_rmb_bn,\
             seed,scenario_sha256,cloudcapex_version"
        )?;
        let tail = self.provenance();
        let max_ahead = self
            .rows
            .iter()
            .map(|r| r.quarters_ahead)
            .max()
            .unwrap_or(0);
        let groups = std::iter::once(("all", None))
            .chain((1..=max_ahead).map(|h| ("quarters_ahead", Some(h))));
        for (scope, ahead) in groups {
            let Some(c) = coverage(
                self.rows
                    .iter()
                    .filter(|r| ahead.is_none_or(|h| r.quarters_ahead == h)),
            ) else {
                continue;
            };
            writeln!(
                out,
                "{},{scope},{},{},{},{},{},{},{},{},{tail}",
                self.scenario.name(),
                ahead.map(|h| h.to_string()).unwrap_or_default(),
                c.count,
                plain(c.in_50),
                plain(c.in_50_se),
                plain(c.in_90),
                plain(c.in_90_se),
                plain(c.mean_pit),
                plain(c.mean_crps_rmb_bn),
            )?;
        }
        Ok(())
    }

    /// The fan of the forecast made at `origin`, with the reported revenue drawn on it,
    /// the quarters before the origin included.
    ///
    /// # Errors
    ///
    /// If no row has this origin, or drawing fails.
    pub fn fan_svg(&self, origin: Quarter, history: &History) -> std::io::Result<String> {
        // The fan opens from the origin's reported value, known when the forecast was made.
        let start = history.revenue(origin).map(|r| (0, [r; 7]));
        let bands: Vec<(i32, [f64; 7])> = start
            .into_iter()
            .chain(
                self.rows
                    .iter()
                    .filter(|r| r.origin == origin)
                    .map(|r| (r.quarters_ahead as i32, r.quantiles_rmb_bn)),
            )
            .collect();
        let reported: Vec<(i32, f64)> = history
            .quarters
            .iter()
            .filter_map(|q| Some((q.quarter.quarters_since(origin) as i32, q.revenue_rmb_bn?)))
            .collect();
        crate::output::fan_with_reported_svg(
            format!(
                "{}: revenue forecast as of {origin} against reported",
                self.scenario.name()
            ),
            origin,
            &bands,
            &reported,
            "RMB bn per quarter",
        )
    }

    /// Writes `backtest.csv`, `coverage.csv` and, with `report`, one
    /// `fan_<origin>.svg` per origin into `dir`, each through a temporary file renamed
    /// into place. Returns the files written.
    ///
    /// # Errors
    ///
    /// [`crate::output::OutputError`] naming the file.
    pub fn write(
        &self,
        dir: &std::path::Path,
        history: &History,
        report: bool,
    ) -> Result<Vec<std::path::PathBuf>, crate::output::OutputError> {
        let mut written = vec![
            crate::output::write_atomically(&dir.join("backtest.csv"), |out| self.write_rows(out))?,
            crate::output::write_atomically(&dir.join("coverage.csv"), |out| {
                self.write_coverage(out)
            })?,
        ];
        if report {
            let mut origins: Vec<Quarter> = self.rows.iter().map(|r| r.origin).collect();
            origins.dedup();
            for origin in origins {
                let path = dir.join(format!("fan_{origin}.svg"));
                written.push(crate::output::write_atomically(&path, |out| {
                    out.write_all(self.fan_svg(origin, history)?.as_bytes())
                })?);
            }
        }
        // The folder holds this backtest's files only: charts of an earlier one go.
        let at = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| crate::output::OutputError { path, source }
        };
        for entry in std::fs::read_dir(dir).map_err(at(dir))? {
            let path = entry.map_err(at(dir))?.path();
            let chart = path.extension().is_some_and(|e| e == "svg");
            if chart && path.is_file() && !written.contains(&path) {
                std::fs::remove_file(&path).map_err(at(&path))?;
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_scenario_as_of_2023q2_keeps_revenue_and_its_risk() {
        let base = Scenario::load("scenarios/base.toml", &[]).unwrap();
        let history = History::parse("embedded", crate::history::EMBEDDED).unwrap();
        let origin: Quarter = "2023Q2".parse().unwrap();
        let to: Quarter = "2026Q1".parse().unwrap();
        let s = as_of(&base, &history, origin, to, 100, false).unwrap();
        assert_eq!(s.assumptions().time.start_quarter, origin);
        assert_eq!(s.assumptions().time.horizon_quarters, 11);
        assert!(s.assumptions().economics.is_none());
        assert!(s.assumptions().risk.is_some());
        let total: f64 = s
            .assumptions()
            .revenue
            .segments
            .values()
            .map(|seg| seg.start_revenue_rmb_bn.bounds().0)
            .sum();
        assert!((total - 25.123).abs() < 1e-9, "{total}");
    }
}
