//! The runner: fixed-size blocks of paths, simulated in parallel, merged in block order.
//!
//! A block's random streams depend only on (seed, block index, risk factor), and blocks are
//! merged serially in block order, so results are bit-identical for any thread count.
//! Blocks run in chunks of [`CHUNK_BLOCKS`] so that at most one chunk of per-block
//! statistics is alive at once: memory does not grow with the path count (except the one
//! f64 per path per scalar metric kept for exact quantiles).

use rayon::prelude::*;

use crate::Scenario;
use crate::model::{Model, PathWorkspace};
use crate::stats::{Moments, QuantileSketch, ScalarSummary, Summary};
use crate::time::Quarter;

/// Paths per block. A constant: changing it changes which stream feeds which path.
pub const BLOCK_SIZE: u64 = 1024;

/// Blocks simulated in parallel before they are merged.
pub const CHUNK_BLOCKS: u64 = 32;

/// Why a run failed after validation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Antithetic pairs need an even number of paths.
    #[error("--antithetic pairs paths, so the path count must be even; found {0}")]
    OddPaths(u64),
    /// The stopping rule names a metric the scenario does not report.
    #[error(
        "--target-se: `{metric}` is not a per-path metric of this scenario; expected one of {expected}"
    )]
    UnknownMetric {
        /// The name given.
        metric: String,
        /// The scenario's per-path metrics.
        expected: String,
    },
    /// A path produced NaN or infinity (e.g. explosive growth shocks over a long horizon).
    #[error(
        "path {path} produced a non-finite value of `{metric}` in quarter index {quarter_index}: \
         the assumptions let revenue overflow; lower the shock volatilities, the persistence or the horizon"
    )]
    NonFinite {
        /// 0-based path index.
        path: u64,
        /// Metric name.
        metric: String,
        /// Quarter index.
        quarter_index: usize,
    },
}

/// Options of a run beyond the scenario itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunOptions {
    /// Keep the quarterly values of the first `paths_out` paths (for `paths.csv`).
    pub paths_out: u64,
    /// Stop adding blocks once this precision is reached; the scenario's path count is then
    /// the most paths that will be run.
    pub target_se: Option<TargetSe>,
    /// Antithetic pairs: path `2j + 1` uses path `2j`'s revenue shocks with opposite signs;
    /// standard errors are computed from pair averages. Needs an even path count.
    pub antithetic: bool,
}

/// A stopping rule: add blocks of paths, in block order, until the Monte Carlo standard
/// error of a per-path metric's mean is at most `se` (checked after every block, from two
/// blocks on, so the stopping point is the same on any thread count).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetSe {
    /// A per-path scalar metric, e.g. `plan_npv_rmb_bn`.
    pub metric: String,
    /// The target standard error, in the metric's unit.
    pub se: f64,
}

/// What a run with a [`TargetSe`] achieved.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOutcome {
    /// The rule.
    pub target: TargetSe,
    /// Whether the standard error reached the target within the path cap.
    pub reached: bool,
    /// The standard error after the last block.
    pub achieved_se: f64,
}

/// One kept path's quarterly values, metric-major like [`PathWorkspace::quarterly`].
#[derive(Clone, Debug, PartialEq)]
pub struct PathRecord {
    /// 0-based path index.
    pub path: u64,
    /// `values[m * quarters + t]`; NaN where the metric is undefined.
    pub values: Vec<f64>,
    /// Per-path scalar metrics, in [`Results::scalars`] order; NaN where undefined.
    pub scalars: Vec<f64>,
}

/// Statistics of one quarterly metric in one quarter.
#[derive(Clone, Debug, PartialEq)]
pub struct QuarterlyStat {
    /// Metric name.
    pub metric: String,
    /// Quarter index (0 = start quarter).
    pub quarter_index: usize,
    /// Calendar quarter.
    pub quarter: Quarter,
    /// `None` where the metric is undefined (e.g. YoY growth before quarter index 4).
    pub summary: Option<Summary>,
}

/// Everything a run produced, in memory.
#[derive(Clone, Debug)]
pub struct Results {
    /// Scenario name.
    pub scenario: String,
    /// SHA-256 of the scenario's assumptions.
    pub scenario_sha256: String,
    /// Master seed.
    pub seed: u64,
    /// Paths simulated.
    pub paths: u64,
    /// Metric names of `quarterly`, in order.
    pub quarterly_metrics: Vec<String>,
    /// Per metric, then per quarter.
    pub quarterly: Vec<QuarterlyStat>,
    /// Per-path scalar metrics with exact quantiles, tail statistics and missing counts.
    pub scalars: Vec<(String, ScalarSummary)>,
    /// Quarter indices per path.
    pub quarters: usize,
    /// Calendar quarter of each quarter index.
    pub calendar: Vec<Quarter>,
    /// The first `paths_out` paths.
    pub kept_paths: Vec<PathRecord>,
    /// The stopping rule's outcome, when one was given.
    pub target: Option<TargetOutcome>,
    /// Every path's value of each scalar metric (`scalar_values[k][path]`, NaN where
    /// undefined), in path order: what paired comparisons difference path by path.
    pub scalar_values: Vec<Vec<f64>>,
}

impl Results {
    /// Statistics of `metric` in quarter index `quarter_index`, if defined.
    pub fn quarterly_summary(&self, metric: &str, quarter_index: usize) -> Option<&Summary> {
        let m = self
            .quarterly_metrics
            .iter()
            .position(|name| name == metric)?;
        self.quarterly
            .get(m * self.quarters + quarter_index)?
            .summary
            .as_ref()
    }

    /// Statistics of a scalar metric over the paths where it is defined.
    pub fn scalar(&self, metric: &str) -> Option<&Summary> {
        self.scalar_stats(metric)?.summary.as_ref()
    }

    /// All statistics of a scalar metric, with P(value < 0), CVaR 5% and missing count.
    pub fn scalar_stats(&self, metric: &str) -> Option<&ScalarSummary> {
        self.scalars
            .iter()
            .find(|(name, _)| name == metric)
            .map(|(_, s)| s)
    }
}

/// Partial statistics of a range of paths.
struct Accumulator {
    moments: Vec<Moments>,
    /// Moments of antithetic pair averages, per cell (empty without pairs).
    pair_moments: Vec<Moments>,
    sketches: Vec<QuantileSketch>,
    scalars: Vec<Vec<f64>>,
    kept_paths: Vec<PathRecord>,
}

impl Accumulator {
    fn new(model: &Model) -> Self {
        let cells = model.quarterly_metrics().len() * model.quarters();
        Self {
            moments: vec![Moments::default(); cells],
            pair_moments: vec![Moments::default(); cells],
            sketches: vec![QuantileSketch::default(); cells],
            scalars: vec![Vec::new(); model.scalar_metrics().len()],
            kept_paths: Vec::new(),
        }
    }

    fn merge(&mut self, other: Accumulator) {
        for (a, b) in self.moments.iter_mut().zip(&other.moments) {
            a.merge(b);
        }
        for (a, b) in self.pair_moments.iter_mut().zip(&other.pair_moments) {
            a.merge(b);
        }
        for (a, b) in self.sketches.iter_mut().zip(&other.sketches) {
            a.merge(b);
        }
        for (a, b) in self.scalars.iter_mut().zip(other.scalars) {
            a.extend(b);
        }
        self.kept_paths.extend(other.kept_paths);
    }
}

fn simulate_block(
    model: &Model,
    block_index: u64,
    total_paths: u64,
    options: &RunOptions,
) -> Result<Accumulator, RunError> {
    let first_path = block_index * BLOCK_SIZE;
    let paths = BLOCK_SIZE.min(total_paths - first_path);
    let quarters = model.quarters();
    let metrics = model.quarterly_metrics();
    let mut acc = Accumulator::new(model);
    for values in &mut acc.scalars {
        values.reserve(paths as usize);
    }
    let mut streams = model.block_streams_with(block_index, options.antithetic);
    let mut workspace = PathWorkspace::default();
    let mut pending: Vec<f64> = Vec::new();
    for path in first_path..first_path + paths {
        model.simulate_path(&mut streams, &mut workspace);
        if options.antithetic {
            if (path - first_path).is_multiple_of(2) {
                pending.clone_from(&workspace.quarterly);
            } else {
                for (m, metric) in metrics.iter().enumerate() {
                    for t in metric.first_quarter..quarters {
                        let cell = m * quarters + t;
                        acc.pair_moments[cell]
                            .push(0.5 * (pending[cell] + workspace.quarterly[cell]));
                    }
                }
            }
        }
        for (m, metric) in metrics.iter().enumerate() {
            for t in metric.first_quarter..quarters {
                let cell = m * quarters + t;
                let x = workspace.quarterly[cell];
                if !x.is_finite() {
                    return Err(RunError::NonFinite {
                        path,
                        metric: metric.name.clone(),
                        quarter_index: t,
                    });
                }
                acc.moments[cell].push(x);
                acc.sketches[cell].push(x);
            }
        }
        for (k, (values, &x)) in acc.scalars.iter_mut().zip(&workspace.scalars).enumerate() {
            // NaN marks an undefined value (no unique IRR, never paid back); infinity is a bug.
            if x.is_infinite() {
                return Err(RunError::NonFinite {
                    path,
                    metric: model.scalar_metrics()[k].clone(),
                    quarter_index: quarters - 1,
                });
            }
            values.push(x);
        }
        if path < options.paths_out {
            acc.kept_paths.push(PathRecord {
                path,
                values: workspace.quarterly.clone(),
                scalars: workspace.scalars.clone(),
            });
        }
    }
    Ok(acc)
}

/// Simulates a validated scenario on the current rayon thread pool.
///
/// # Errors
///
/// [`RunError::NonFinite`] if a path overflows.
///
/// # Examples
///
/// ```
/// use cloudcapex::{runner::{simulate, RunOptions}, Scenario};
/// let scenario = Scenario::default_scenario().with_paths(2000).unwrap();
/// let results = simulate(&scenario, &RunOptions::default()).unwrap();
/// let final_year = results.scalar("revenue_total_final_year_rmb_bn").unwrap();
/// assert!(final_year.mean > 0.0 && final_year.se > 0.0);
/// ```
pub fn simulate(scenario: &Scenario, options: &RunOptions) -> Result<Results, RunError> {
    simulate_observed(scenario, options, &|_| {})
}

/// [`simulate`], calling `on_block(paths)` as each block of `paths` paths finishes (from
/// worker threads, in any order): for progress bars. It cannot change the results.
///
/// # Errors
///
/// As [`simulate`].
pub fn simulate_observed(
    scenario: &Scenario,
    options: &RunOptions,
    on_block: &(dyn Fn(u64) + Sync),
) -> Result<Results, RunError> {
    let model = Model::new(scenario);
    let total_paths = scenario.simulation().paths;
    if options.antithetic && !total_paths.is_multiple_of(2) {
        return Err(RunError::OddPaths(total_paths));
    }
    let blocks = total_paths.div_ceil(BLOCK_SIZE);
    let mut total = Accumulator::new(&model);
    for values in &mut total.scalars {
        values.reserve(total_paths as usize);
    }
    let target_index = match &options.target_se {
        None => None,
        Some(t) => Some(
            model
                .scalar_metrics()
                .iter()
                .position(|m| *m == t.metric)
                .ok_or_else(|| RunError::UnknownMetric {
                    metric: t.metric.clone(),
                    expected: model.scalar_metrics().join(", "),
                })?,
        ),
    };
    let mut target_moments = Moments::default();
    let (mut merged_blocks, mut reached) = (0u64, false);
    let mut chunk_start = 0;
    'chunks: while chunk_start < blocks {
        let chunk_end = (chunk_start + CHUNK_BLOCKS).min(blocks);
        let partials: Vec<Result<Accumulator, RunError>> = (chunk_start..chunk_end)
            .into_par_iter()
            .map(|block| {
                let partial = simulate_block(&model, block, total_paths, options);
                on_block(BLOCK_SIZE.min(total_paths - block * BLOCK_SIZE));
                partial
            })
            .collect();
        for partial in partials {
            let partial = partial?;
            if let Some(k) = target_index {
                partial.scalars[k]
                    .iter()
                    .filter(|x| !x.is_nan())
                    .for_each(|&x| target_moments.push(x));
            }
            total.merge(partial);
            merged_blocks += 1;
            if let (Some(_), Some(t)) = (target_index, &options.target_se)
                && merged_blocks >= 2
                && target_moments.standard_error() <= t.se
            {
                reached = true;
                break 'chunks;
            }
        }
        chunk_start = chunk_end;
    }
    let simulated_paths = (merged_blocks * BLOCK_SIZE).min(total_paths);

    let quarters = model.quarters();
    let calendar: Vec<Quarter> = (0..quarters).map(|t| model.quarter(t)).collect();
    // Each cell's statistics depend on that cell alone: computed in parallel, collected in order.
    let metrics = model.quarterly_metrics();
    let quarterly: Vec<QuarterlyStat> = (0..total.moments.len())
        .into_par_iter()
        .map(|cell| QuarterlyStat {
            metric: metrics[cell / quarters].name.clone(),
            quarter_index: cell % quarters,
            quarter: calendar[cell % quarters],
            summary: if options.antithetic {
                Summary::from_stream_paired(
                    &total.moments[cell],
                    &total.pair_moments[cell],
                    &total.sketches[cell],
                )
            } else {
                Summary::from_stream(&total.moments[cell], &total.sketches[cell])
            },
        })
        .collect();
    let scalars = model
        .scalar_metrics()
        .par_iter()
        .zip(&total.scalars)
        .map(|(name, values)| {
            let stats = if options.antithetic {
                ScalarSummary::from_paired_values(values)
            } else {
                ScalarSummary::from_values(values)
            };
            (name.clone(), stats)
        })
        .collect();
    Ok(Results {
        scenario: scenario.name().to_string(),
        scenario_sha256: scenario.sha256(),
        seed: scenario.simulation().seed,
        paths: simulated_paths,
        target: options.target_se.as_ref().map(|t| TargetOutcome {
            target: t.clone(),
            reached,
            achieved_se: target_moments.standard_error(),
        }),
        quarterly_metrics: model
            .quarterly_metrics()
            .iter()
            .map(|m| m.name.clone())
            .collect(),
        quarterly,
        scalars,
        quarters,
        calendar,
        kept_paths: total.kept_paths,
        scalar_values: total.scalars,
    })
}
