//! The runner: fixed-size blocks of paths, simulated in parallel, merged in block order.
//!
//! A block's random streams depend only on (seed, block index, risk factor), and blocks are
//! merged serially in block order, so results are bit-identical for any thread count.
//! Workers take blocks in increasing order and merge each finished block as soon as its
//! predecessors are merged, so only a few blocks' statistics are alive at once: memory does
//! not grow with the path count (except the one f64 per path for each metric of
//! [`crate::model::PER_PATH_SCALARS`], kept for exact quantiles).

use rayon::prelude::*;

use crate::Scenario;
use crate::model::{FiscalMetric, Model, PathWorkspace, STEPPED_PATHS};
use crate::stats::{
    BlockSketch, MeanMoments, Moments, QuantileSketch, ScalarSummary, StreamedScalar, Summary,
};
use crate::time::Quarter;

pub use crate::model::BLOCK_SIZE;

/// Paths whose moments are taken at once (two passes over one cell's batch), then merged
/// with Chan's formula: the grouping is part of the moments' bits, so it is fixed.
const STATS_BATCH: usize = 64;

/// Paths whose quarterly values are buffered cell-major before their statistics are taken
/// cell by cell: each cell's values of these paths are contiguous, its moments taken
/// [`STATS_BATCH`] at a time and its sketch filled with all of them at once. Sketch counts
/// are integers, exact in any grouping, so a larger buffer than the moments' batch changes
/// no bit; it touches each cell's bucket counts (most of a block's sketch memory, more than
/// the cache holds) a quarter as often. A multiple of [`STATS_BATCH`], so that the moments'
/// batches are the same as without the buffer.
const BUFFERED_PATHS: usize = 4 * STATS_BATCH;
const _: () = assert!(BUFFERED_PATHS.is_multiple_of(STATS_BATCH));

/// Distance between two cells' rows in the buffer: one cache line more than
/// [`BUFFERED_PATHS`]. A power-of-two stride (2 KiB) maps a path's 2,255 strided writes
/// onto a few dozen cache sets, so they missed L1 and L2 alike and a third of a run was
/// spent on them; an odd number of cache lines spreads them over every set.
const BUFFER_STRIDE: usize = BUFFERED_PATHS + 8;

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
    /// A shard's range or a merge's shards do not fit the run.
    #[error("sharded run: {0}")]
    Sharded(String),
    /// A mixture's components or weights cannot be mixed (see [`simulate_mixture`]).
    #[error("mixture: {0}")]
    Mixture(String),
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
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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

/// Statistics of one fiscal year's metric in one world over the paths.
#[derive(Clone, Debug, PartialEq)]
pub struct FiscalYearStat {
    /// Which fiscal year, world and metric.
    pub key: FiscalMetric,
    /// Mean, standard error, quantiles (from the sketch) and missing count.
    pub stats: ScalarSummary,
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
    /// Statistics of the per-path fiscal-year values, by fiscal year, world and metric
    /// ([`crate::model::Model::fiscal_metrics`] order).
    pub fiscal_years: Vec<FiscalYearStat>,
    /// Quarter indices per path.
    pub quarters: usize,
    /// Calendar quarter of each quarter index.
    pub calendar: Vec<Quarter>,
    /// The first `paths_out` paths.
    pub kept_paths: Vec<PathRecord>,
    /// The stopping rule's outcome, when one was given.
    pub target: Option<TargetOutcome>,
    /// Every path's value of each scalar metric kept per path
    /// ([`crate::model::PER_PATH_SCALARS`]): `scalar_values[k]` is `Some(values)` with
    /// `values[path]` in path order (NaN where undefined), what paired comparisons
    /// difference path by path; `None` for the metrics summarised by streaming statistics.
    pub scalar_values: Vec<Option<Vec<f64>>>,
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

/// Statistics of a range of paths: a block's, with [`BlockSketch`]es, or the run's, with
/// [`QuantileSketch`]es.
struct Accumulator<Sketch> {
    moments: Vec<Moments>,
    /// Moments of antithetic pair averages, per cell (empty without pairs).
    pair_moments: Vec<Moments>,
    sketches: Vec<Sketch>,
    /// Per scalar metric: its values in path order, or its streaming statistics.
    scalars: Vec<ScalarAccumulator>,
    kept_paths: Vec<PathRecord>,
}

#[derive(serde::Serialize, serde::Deserialize)]
enum ScalarAccumulator {
    PerPath(Vec<f64>),
    Streamed(Box<StreamedScalar>),
}

impl ScalarAccumulator {
    /// Moments of the defined values and, with antithetic pairs, of the pairs (for the
    /// stopping rule).
    fn mean_moments(&self, paired: bool) -> MeanMoments {
        match self {
            Self::PerPath(values) => MeanMoments::from_values(values, paired),
            Self::Streamed(streamed) => streamed.mean_moments(paired),
        }
    }
}

impl<Sketch: Clone + Default> Accumulator<Sketch> {
    fn new(model: &Model, antithetic: bool) -> Self {
        let cells = model.quarterly_metrics().len() * model.quarters();
        Self {
            moments: vec![Moments::default(); cells],
            pair_moments: if antithetic {
                vec![Moments::default(); cells]
            } else {
                Vec::new()
            },
            sketches: vec![Sketch::default(); cells],
            scalars: (0..model.scalar_metrics().len())
                .map(|k| {
                    if model.scalar_kept_per_path(k) {
                        ScalarAccumulator::PerPath(Vec::new())
                    } else {
                        ScalarAccumulator::Streamed(Box::default())
                    }
                })
                .collect(),
            kept_paths: Vec::new(),
        }
    }
}

impl Accumulator<QuantileSketch> {
    /// Adds the next block's statistics (blocks are merged in block order); `other` is
    /// left spent, to be [`reset`](Accumulator::reset) for another block.
    fn merge(&mut self, other: &mut Accumulator<BlockSketch>) {
        for (a, b) in self.moments.iter_mut().zip(&other.moments) {
            a.merge(b);
        }
        for (a, b) in self.pair_moments.iter_mut().zip(&other.pair_moments) {
            a.merge(b);
        }
        for (a, b) in self.sketches.iter_mut().zip(&other.sketches) {
            a.merge_block(b);
        }
        for (a, b) in self.scalars.iter_mut().zip(&mut other.scalars) {
            match (a, b) {
                (ScalarAccumulator::PerPath(a), ScalarAccumulator::PerPath(b)) => a.append(b),
                (ScalarAccumulator::Streamed(a), ScalarAccumulator::Streamed(b)) => a.merge(b),
                _ => unreachable!("a metric is kept the same way in every block"),
            }
        }
        self.kept_paths.append(&mut other.kept_paths);
    }
}

impl Accumulator<BlockSketch> {
    /// Empties a spent block's statistics for the next block, keeping their memory (the
    /// sketches' buckets above all: growing them anew for every block and cell was a
    /// tenth of a run).
    fn reset(&mut self) {
        self.moments.fill(Moments::default());
        self.pair_moments.fill(Moments::default());
        self.sketches.iter_mut().for_each(BlockSketch::clear);
        for scalar in &mut self.scalars {
            match scalar {
                ScalarAccumulator::PerPath(values) => values.clear(),
                ScalarAccumulator::Streamed(streamed) => **streamed = StreamedScalar::default(),
            }
        }
        self.kept_paths.clear();
    }

    /// Takes one path's scalar metrics (`path` is its index; `pair_first`, for the second
    /// path of an antithetic pair, is its partner's scalars).
    fn observe_path(
        &mut self,
        model: &Model,
        path: u64,
        workspace: &PathWorkspace,
        pair_first: Option<&[f64]>,
    ) -> Result<(), RunError> {
        for (k, (scalar, &x)) in self.scalars.iter_mut().zip(&workspace.scalars).enumerate() {
            // NaN marks an undefined value (no unique IRR, never paid back); infinity is a bug.
            if x.is_infinite() {
                return Err(RunError::NonFinite {
                    path,
                    metric: model.scalar_metrics()[k].clone(),
                    quarter_index: model.quarters() - 1,
                });
            }
            match scalar {
                ScalarAccumulator::PerPath(values) => values.push(x),
                ScalarAccumulator::Streamed(streamed) => {
                    streamed.push(x);
                    if let Some(first) = pair_first {
                        streamed.push_pair(first[k], x);
                    }
                }
            }
        }
        Ok(())
    }

    /// Takes the statistics of `paths` buffered paths from `batch` (cell-major: cell `c`'s
    /// values of the paths at `batch[c * BUFFER_STRIDE..][..paths]`) whose first path is
    /// `first_path`.
    fn add_batch(
        &mut self,
        model: &Model,
        batch: &[f64],
        paths: usize,
        first_path: u64,
        antithetic: bool,
    ) -> Result<(), RunError> {
        let quarters = model.quarters();
        for (m, metric) in model.quarterly_metrics().iter().enumerate() {
            for t in metric.first_quarter..quarters {
                let cell = m * quarters + t;
                let values = &batch[cell * BUFFER_STRIDE..cell * BUFFER_STRIDE + paths];
                for (k, chunk) in values.chunks(STATS_BATCH).enumerate() {
                    let moments = Moments::from_slice(chunk);
                    // NaN and infinity propagate into the moments: only then look for the path.
                    if !(moments.mean().is_finite() && moments.variance_or_zero().is_finite()) {
                        let j = chunk.iter().position(|x| !x.is_finite()).unwrap_or(0);
                        return Err(RunError::NonFinite {
                            path: first_path + (k * STATS_BATCH + j) as u64,
                            metric: metric.name.clone(),
                            quarter_index: t,
                        });
                    }
                    self.moments[cell].merge(&moments);
                }
                self.sketches[cell].extend_from_slice(values);
                if antithetic {
                    // Batches start on even paths, so pairs never straddle two batches.
                    for pair in values.chunks_exact(2) {
                        self.pair_moments[cell].push(0.5 * (pair[0] + pair[1]));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Why merging stopped before the last block.
enum Stop {
    /// The stopping rule's standard error was reached.
    Reached,
    /// The first block (in block order) that failed.
    Failed(RunError),
}

/// Merges finished blocks into the run's statistics in block order, whatever order they
/// finish in, so the result is the same on any thread count.
struct Merger {
    total: Accumulator<QuantileSketch>,
    /// The next block to merge (= blocks merged so far).
    next: u64,
    pending: std::collections::BTreeMap<u64, Result<Accumulator<BlockSketch>, RunError>>,
    /// Merged blocks' statistics, kept for the next blocks to reuse.
    spare: Vec<Accumulator<BlockSketch>>,
    /// Moments of the stopping rule's metric (with antithetic pairs, also of its pairs).
    target_moments: MeanMoments,
    /// Whether paths come in antithetic pairs.
    antithetic: bool,
    done: Option<Stop>,
    /// For a shard: each merged block's order-dependent statistics, in block order.
    recorded: Option<Vec<BlockMoments>>,
}

impl Merger {
    fn add(
        &mut self,
        block: u64,
        partial: Result<Accumulator<BlockSketch>, RunError>,
        target: Option<(usize, &TargetSe)>,
    ) {
        self.pending.insert(block, partial);
        while self.done.is_none() {
            let Some(partial) = self.pending.remove(&self.next) else {
                break;
            };
            let mut partial = match partial {
                Ok(partial) => partial,
                Err(error) => {
                    self.done = Some(Stop::Failed(error));
                    break;
                }
            };
            if let Some((k, _)) = target {
                self.target_moments
                    .merge(&partial.scalars[k].mean_moments(self.antithetic));
            }
            if let Some(recorded) = &mut self.recorded {
                recorded.push(BlockMoments::of(&partial));
            }
            self.total.merge(&mut partial);
            self.spare.push(partial);
            self.next += 1;
            if let Some((_, rule)) = target
                && self.next >= 2
                && self.target_moments.standard_error() <= rule.se
            {
                self.done = Some(Stop::Reached);
            }
        }
        if self.done.is_some() {
            self.pending.clear();
        }
    }
}

/// Simulates one block of paths on its own streams and takes its statistics: each path is
/// stepped, observed (its scalars and, if kept, its quarterly values), and copied into a
/// buffer of [`BUFFERED_PATHS`] paths whose cells' statistics are taken together.
fn simulate_block(
    model: &Model,
    mixture: Option<&MixtureModels>,
    block_index: u64,
    total_paths: u64,
    options: &RunOptions,
    mut acc: Accumulator<BlockSketch>,
) -> Result<Accumulator<BlockSketch>, RunError> {
    let first_path = block_index * BLOCK_SIZE;
    let paths = BLOCK_SIZE.min(total_paths - first_path);
    let cells = model.quarterly_metrics().len() * model.quarters();
    acc.reset();
    for values in &mut acc.scalars {
        if let ScalarAccumulator::PerPath(values) = values {
            values.reserve(paths as usize);
        }
    }
    // The worker's buffer, kept from block to block (4.8 MB for the base case: allocating
    // and zeroing it per block cost 2% of a run). Every slot read was written first.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut batch = BUFFER.take();
    batch.resize(cells * BUFFER_STRIDE, 0.0);
    let result = fill_and_observe(
        model, mixture, first_path, paths, options, &mut acc, &mut batch,
    );
    BUFFER.set(batch);
    result.map(|()| acc)
}

/// The paths of [`simulate_block`], through `batch`: `model`'s own, or with a `mixture`
/// each path from its assigned component (every component with a positive weight steps
/// the block's paths on its own streams, and the path keeps its component's workspace).
fn fill_and_observe(
    model: &Model,
    mixture: Option<&MixtureModels>,
    first_path: u64,
    paths: u64,
    options: &RunOptions,
    acc: &mut Accumulator<BlockSketch>,
    batch: &mut [f64],
) -> Result<(), RunError> {
    let block_index = first_path / BLOCK_SIZE;
    let mut streams = model.block_streams_with(block_index, options.antithetic);
    let mut workspaces = vec![PathWorkspace::default(); STEPPED_PATHS];
    let mut components = mixture.map_or_else(Vec::new, |m| m.block(block_index));
    let mut previous_scalars: Vec<f64> = Vec::new();
    let (mut batch_first, mut in_batch) = (first_path, 0);
    let end = first_path + paths;
    let mut group_first = first_path;
    while group_first < end {
        let group = STEPPED_PATHS.min((end - group_first) as usize);
        if let Some(mixture) = mixture {
            mixture.simulate_paths(&mut components, group);
        } else {
            model.simulate_paths(&mut streams, &mut workspaces[..group]);
        }
        for (i, path) in (group_first..group_first + group as u64).enumerate() {
            let workspace = match mixture {
                Some(mixture) => mixture.workspace(&components, path, i),
                None => &workspaces[i],
            };
            // A strided write per path. Each cell's cache line is fetched once per eight
            // paths and stays in cache while they write it (gathering path-major rows by
            // cell did worse); the fetches (the buffer is larger than L2) are its cost.
            for (slot, &value) in batch[in_batch..]
                .iter_mut()
                .step_by(BUFFER_STRIDE)
                .zip(&workspace.quarterly)
            {
                *slot = value;
            }
            let second_of_pair = options.antithetic && !(path - first_path).is_multiple_of(2);
            acc.observe_path(
                model,
                path,
                workspace,
                second_of_pair.then_some(previous_scalars.as_slice()),
            )?;
            if options.antithetic {
                previous_scalars.clone_from(&workspace.scalars);
            }
            if path < options.paths_out {
                acc.kept_paths.push(PathRecord {
                    path,
                    values: workspace.quarterly.clone(),
                    scalars: workspace.scalars.clone(),
                });
            }
            in_batch += 1;
            if in_batch == BUFFERED_PATHS || path + 1 == end {
                acc.add_batch(model, batch, in_batch, batch_first, options.antithetic)?;
                (batch_first, in_batch) = (path + 1, 0);
            }
        }
        group_first += group as u64;
    }
    Ok(())
}

/// The per-path scalar metric the stopping rule watches, by index.
fn target_metric(model: &Model, options: &RunOptions) -> Result<Option<usize>, RunError> {
    options
        .target_se
        .as_ref()
        .map(|t| {
            model
                .scalar_metrics()
                .iter()
                .position(|m| *m == t.metric)
                .ok_or_else(|| RunError::UnknownMetric {
                    metric: t.metric.clone(),
                    expected: model.scalar_metrics().join(", "),
                })
        })
        .transpose()
}

/// The run's statistics once blocks are merged.
struct Merged {
    total: Accumulator<QuantileSketch>,
    /// Blocks merged (a prefix of the run's blocks, in block order).
    blocks: u64,
    /// For a shard, each block's order-dependent statistics.
    recorded: Option<Vec<BlockMoments>>,
    /// Moments of the stopping rule's metric.
    target_moments: MeanMoments,
    /// Whether the stopping rule's target was reached.
    reached: bool,
}

/// Schedules the run's blocks on the current thread pool: workers take blocks in
/// increasing order from one counter, simulate them and merge what they finish, in block
/// order, under a lock (no barrier between groups of blocks, and at most about two blocks'
/// statistics per worker alive at once). Stops early at the first failed block or when
/// the stopping rule is met.
fn schedule_blocks(
    model: &Model,
    mixture: Option<&MixtureModels>,
    total_paths: u64,
    options: &RunOptions,
    target: Option<(usize, &TargetSe)>,
    on_block: &(dyn Fn(u64) + Sync),
) -> Result<Merged, RunError> {
    let blocks = total_paths.div_ceil(BLOCK_SIZE);
    schedule_block_range(
        model,
        mixture,
        total_paths,
        0..blocks,
        options,
        target,
        on_block,
        false,
    )
}

/// [`schedule_blocks`] over the blocks `range` only (a shard's), recording each block's
/// order-dependent statistics if `record`.
#[allow(clippy::too_many_arguments)] // each is one independent choice of the run
fn schedule_block_range(
    model: &Model,
    mixture: Option<&MixtureModels>,
    total_paths: u64,
    range: std::ops::Range<u64>,
    options: &RunOptions,
    target: Option<(usize, &TargetSe)>,
    on_block: &(dyn Fn(u64) + Sync),
    record: bool,
) -> Result<Merged, RunError> {
    let (first, blocks) = (range.start, range.end);
    let range_paths = (blocks * BLOCK_SIZE).min(total_paths) - first * BLOCK_SIZE;
    let mut total = Accumulator::<QuantileSketch>::new(model, options.antithetic);
    for values in &mut total.scalars {
        if let ScalarAccumulator::PerPath(values) = values {
            // Reserved once: growing by doubling could hold twice the memory at the end.
            values.reserve_exact(range_paths as usize);
        }
    }
    let merger = std::sync::Mutex::new(Merger {
        total,
        next: first,
        pending: std::collections::BTreeMap::new(),
        spare: Vec::new(),
        target_moments: MeanMoments::default(),
        antithetic: options.antithetic,
        done: None,
        recorded: record.then(Vec::new),
    });
    let next_block = std::sync::atomic::AtomicU64::new(first);
    let workers = rayon::current_num_threads()
        .min((blocks - first) as usize)
        .max(1);
    let lock = || merger.lock().expect("no panic while merging");
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                while lock().done.is_none() {
                    let block = next_block.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if block >= blocks {
                        break;
                    }
                    let spare = lock().spare.pop();
                    let acc = spare.unwrap_or_else(|| Accumulator::new(model, options.antithetic));
                    let partial = simulate_block(model, mixture, block, total_paths, options, acc);
                    on_block(BLOCK_SIZE.min(total_paths - block * BLOCK_SIZE));
                    lock().add(block, partial, target);
                }
            });
        }
    });
    let Merger {
        total,
        next,
        target_moments,
        done,
        recorded,
        ..
    } = merger.into_inner().expect("no panic while merging");
    let reached = match done {
        Some(Stop::Failed(error)) => return Err(error),
        Some(Stop::Reached) => true,
        None => false,
    };
    Ok(Merged {
        total,
        blocks: next - first,
        recorded,
        target_moments,
        reached,
    })
}

/// Statistics of every quarterly cell. Each cell's depend on that cell alone: computed in
/// parallel, collected in order.
fn quarterly_stats(
    model: &Model,
    total: &Accumulator<QuantileSketch>,
    calendar: &[Quarter],
    antithetic: bool,
) -> Vec<QuarterlyStat> {
    let quarters = model.quarters();
    let metrics = model.quarterly_metrics();
    (0..total.moments.len())
        .into_par_iter()
        .map(|cell| QuarterlyStat {
            metric: metrics[cell / quarters].name.clone(),
            quarter_index: cell % quarters,
            quarter: calendar[cell % quarters],
            summary: if antithetic {
                Summary::from_stream_paired(
                    &total.moments[cell],
                    &total.pair_moments[cell],
                    &total.sketches[cell],
                )
            } else {
                Summary::from_stream(&total.moments[cell], &total.sketches[cell])
            },
        })
        .collect()
}

/// Statistics of every scalar metric, one metric at a time: each exact summary sorts a copy
/// of its values, and only one such copy is alive at once.
fn scalar_stats(
    model: &Model,
    scalars: &[ScalarAccumulator],
    antithetic: bool,
) -> Vec<(String, ScalarSummary)> {
    model
        .scalar_metrics()
        .iter()
        .zip(scalars)
        .map(|(name, scalar)| {
            let stats = match scalar {
                ScalarAccumulator::PerPath(values) if antithetic => {
                    ScalarSummary::from_paired_values(values)
                }
                ScalarAccumulator::PerPath(values) => ScalarSummary::from_values(values),
                ScalarAccumulator::Streamed(streamed) => {
                    ScalarSummary::from_stream(streamed, antithetic)
                }
            };
            (name.clone(), stats)
        })
        .collect()
}

/// The run's [`Results`] from its merged statistics.
fn finish(model: &Model, scenario: &Scenario, options: &RunOptions, merged: Merged) -> Results {
    let Merged {
        total,
        blocks,
        target_moments,
        reached,
        ..
    } = merged;
    let quarters = model.quarters();
    let calendar: Vec<Quarter> = (0..quarters).map(|t| model.quarter(t)).collect();
    let quarterly = quarterly_stats(model, &total, &calendar, options.antithetic);
    let mut scalars = scalar_stats(model, &total.scalars, options.antithetic);
    // The fiscal-year values ride with the scalars through blocks, threads and shards, and
    // are reported in their own table.
    let fiscal_years = scalars
        .split_off(model.first_fiscal_scalar())
        .into_iter()
        .zip(model.fiscal_metrics())
        .map(|((_, stats), key)| FiscalYearStat {
            key: key.clone(),
            stats,
        })
        .collect();
    let scalar_values = total
        .scalars
        .into_iter()
        .take(model.first_fiscal_scalar())
        .map(|scalar| match scalar {
            ScalarAccumulator::PerPath(values) => Some(values),
            ScalarAccumulator::Streamed(_) => None,
        })
        .collect();
    let mut kept_paths = total.kept_paths;
    for path in &mut kept_paths {
        path.scalars.truncate(model.first_fiscal_scalar());
    }
    Results {
        scenario: scenario.name().to_string(),
        scenario_sha256: scenario.sha256(),
        seed: scenario.simulation().seed,
        paths: (blocks * BLOCK_SIZE).min(scenario.simulation().paths),
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
        fiscal_years,
        quarters,
        calendar,
        kept_paths,
        scalar_values,
    }
}

/// The order-dependent statistics of one block: its cells' moments (and antithetic pair
/// moments) and its streamed scalars' moments. Floating-point merges are not associative,
/// so a shard keeps these per block and a merge replays the run's block-order reduction
/// with them; everything else merges exactly in any grouping.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BlockMoments {
    cells: Vec<Moments>,
    pairs: Vec<Moments>,
    /// One per streamed scalar metric, in scalar order.
    streamed: Vec<[Moments; 5]>,
}

impl BlockMoments {
    fn of(block: &Accumulator<BlockSketch>) -> Self {
        BlockMoments {
            cells: block.moments.clone(),
            pairs: block.pair_moments.clone(),
            streamed: block
                .scalars
                .iter()
                .filter_map(|s| match s {
                    ScalarAccumulator::Streamed(streamed) => Some(streamed.ordered_parts()),
                    ScalarAccumulator::PerPath(_) => None,
                })
                .collect(),
        }
    }
}

/// What one shard of a run computed over its contiguous range of blocks: each block's
/// [`BlockMoments`] in block order, and the statistics that merge exactly in any grouping
/// (quantile sketches, counts, per-path values in path order, the kept paths).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ShardStatistics {
    /// The first block of the range.
    pub first_block: u64,
    /// One per block of the range, in block order.
    pub blocks: Vec<BlockMoments>,
    sketches: Vec<QuantileSketch>,
    scalars: Vec<ScalarAccumulator>,
    kept_paths: Vec<PathRecord>,
}

impl ShardStatistics {
    /// Number of blocks.
    pub fn block_count(&self) -> u64 {
        self.blocks.len() as u64
    }

    /// Whether its layout is the one `scenario`'s model produces (cells, metrics, how each
    /// scalar is kept): a check on a file read back, before merging it.
    pub fn fits(&self, scenario: &Scenario, options: &RunOptions) -> bool {
        let model = Model::new(scenario);
        let cells = model.quarterly_metrics().len() * model.quarters();
        let streamed = (0..model.scalar_metrics().len())
            .filter(|&k| !model.scalar_kept_per_path(k))
            .count();
        let pairs = if options.antithetic { cells } else { 0 };
        self.sketches.len() == cells
            && self.scalars.len() == model.scalar_metrics().len()
            && self.scalars.iter().enumerate().all(|(k, s)| {
                matches!(s, ScalarAccumulator::PerPath(_)) == model.scalar_kept_per_path(k)
            })
            && self.blocks.iter().all(|b| {
                b.cells.len() == cells && b.pairs.len() == pairs && b.streamed.len() == streamed
            })
            && self
                .kept_paths
                .iter()
                .all(|p| p.values.len() == cells && p.scalars.len() == self.scalars.len())
    }
}

/// Simulates the blocks `blocks` of a validated scenario's run (a shard of it) on the
/// current rayon thread pool; [`merge_shards`] turns the shards of every block into the
/// run's [`Results`], identical to [`simulate`]'s.
///
/// # Errors
///
/// As [`simulate`]; [`RunError::Sharded`] with a stopping rule (it needs every block
/// before it in one process) or a range outside the run's blocks.
///
/// # Examples
///
/// ```
/// use cloudcapex::runner::{merge_shards, simulate, simulate_shard, RunOptions};
/// use cloudcapex::Scenario;
/// let scenario = Scenario::default_scenario().with_paths(3000).unwrap();
/// let options = RunOptions::default();
/// let shards = vec![
///     simulate_shard(&scenario, &options, 0..1).unwrap(),
///     simulate_shard(&scenario, &options, 1..3).unwrap(),
/// ];
/// let merged = merge_shards(&scenario, &options, shards).unwrap();
/// let whole = simulate(&scenario, &options).unwrap();
/// assert_eq!(merged.quarterly, whole.quarterly);
/// ```
pub fn simulate_shard(
    scenario: &Scenario,
    options: &RunOptions,
    blocks: std::ops::Range<u64>,
) -> Result<ShardStatistics, RunError> {
    let total_paths = scenario.simulation().paths;
    let all = total_paths.div_ceil(BLOCK_SIZE);
    if options.target_se.is_some() || blocks.start >= blocks.end || blocks.end > all {
        return Err(RunError::Sharded(format!(
            "a shard is a non-empty range of the run's {all} blocks, without a stopping rule; found blocks {}..{}{}",
            blocks.start,
            blocks.end,
            if options.target_se.is_some() {
                " and --target-se"
            } else {
                ""
            }
        )));
    }
    if options.antithetic && !total_paths.is_multiple_of(2) {
        return Err(RunError::OddPaths(total_paths));
    }
    let model = Model::new(scenario);
    let first_block = blocks.start;
    let merged = schedule_block_range(
        &model,
        None,
        total_paths,
        blocks,
        options,
        None,
        &|_| {},
        true,
    )?;
    Ok(ShardStatistics {
        first_block,
        blocks: merged.recorded.expect("recorded"),
        sketches: merged.total.sketches,
        scalars: merged.total.scalars,
        kept_paths: merged.total.kept_paths,
    })
}

/// The run's [`Results`] from the shards of all its blocks, given in block order (one at a
/// time, so only one shard's statistics need be in memory): the blocks' moments merged in
/// block order exactly as [`simulate`] merges them, the exact statistics added. The same
/// bytes as an unsharded run, whatever the split.
///
/// # Errors
///
/// [`RunError::Sharded`] if the shards do not cover the run's blocks in order, once each,
/// or do not fit the scenario's model.
pub fn merge_shards(
    scenario: &Scenario,
    options: &RunOptions,
    shards: impl IntoIterator<Item = ShardStatistics>,
) -> Result<Results, RunError> {
    let model = Model::new(scenario);
    let total_paths = scenario.simulation().paths;
    let all = total_paths.div_ceil(BLOCK_SIZE);
    let mut total = Accumulator::<QuantileSketch>::new(&model, options.antithetic);
    for values in &mut total.scalars {
        if let ScalarAccumulator::PerPath(values) = values {
            values.reserve_exact(total_paths as usize);
        }
    }
    let mut next = 0;
    for shard in shards {
        if shard.first_block != next || !shard.fits(scenario, options) {
            return Err(RunError::Sharded(format!(
                "a shard starting at block {} where block {next} was expected, or not of this scenario's model",
                shard.first_block
            )));
        }
        for block in &shard.blocks {
            for (a, b) in total.moments.iter_mut().zip(&block.cells) {
                a.merge(b);
            }
            for (a, b) in total.pair_moments.iter_mut().zip(&block.pairs) {
                a.merge(b);
            }
            let streamed = total.scalars.iter_mut().filter_map(|s| match s {
                ScalarAccumulator::Streamed(streamed) => Some(streamed),
                ScalarAccumulator::PerPath(_) => None,
            });
            for (a, b) in streamed.zip(&block.streamed) {
                a.merge_ordered_parts(b);
            }
        }
        for (a, b) in total.sketches.iter_mut().zip(&shard.sketches) {
            a.merge(b);
        }
        for (a, b) in total.scalars.iter_mut().zip(shard.scalars) {
            match (a, b) {
                (ScalarAccumulator::PerPath(a), ScalarAccumulator::PerPath(mut b)) => {
                    a.append(&mut b);
                }
                (ScalarAccumulator::Streamed(a), ScalarAccumulator::Streamed(b)) => {
                    a.merge_exact_parts(&b);
                }
                _ => unreachable!("checked by fits"),
            }
        }
        total.kept_paths.extend(shard.kept_paths);
        next += shard.blocks.len() as u64;
    }
    if next != all {
        return Err(RunError::Sharded(format!(
            "the shards cover blocks 0..{next} of the run's {all}"
        )));
    }
    let merged = Merged {
        total,
        blocks: all,
        recorded: None,
        target_moments: MeanMoments::default(),
        reached: false,
    };
    Ok(finish(&model, scenario, options, merged))
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
    let target = target_metric(&model, options)?.zip(options.target_se.as_ref());
    let merged = schedule_blocks(&model, None, total_paths, options, target, on_block)?;
    Ok(finish(&model, scenario, options, merged))
}

/// The factor name of the mixture's assignment stream (see [`MixtureAssignment`]).
const MIXTURE_FACTOR: &str = "mixture.component";

/// Tag hashed ahead of a mixture's components (see [`mixture_sha256`]).
const MIXTURE_HASH_TAG: &[u8] = b"cloudcapex/mixture/v1";

/// Which component of a mixture each path is drawn from: path `p` takes the first
/// component `k` whose cumulative weight exceeds its uniform `u_p`, the first draw of
/// stream `p` of the factor `mixture.component` under the lead scenario's seed. A pure
/// function of (seed, path index, weights): the same on any thread count and block
/// schedule, and apart from every stream the model draws (another factor's key), so the
/// assignment disturbs no path's numbers.
///
/// # Examples
///
/// ```
/// use cloudcapex::runner::MixtureAssignment;
/// let assignment = MixtureAssignment::new(20250224, &[0.25, 0.5, 0.25]).unwrap();
/// let counts = assignment.counts(10_000);
/// assert_eq!(counts.iter().sum::<u64>(), 10_000);
/// assert!((counts[1] as f64 - 5_000.0).abs() < 4.0 * 50.0); // 4 binomial SDs
/// assert_eq!(assignment.component(7), assignment.component(7));
/// ```
#[derive(Clone, Debug)]
pub struct MixtureAssignment {
    streams: crate::rng::FactorStreams,
    /// Cumulative weights, normalised so the last is 1.
    cumulative: Vec<f64>,
    /// The last component with a positive weight (the assignment of `u` at rounding's edge).
    last_positive: usize,
}

impl MixtureAssignment {
    /// The assignment of `seed`'s paths to components of `weights`.
    ///
    /// # Errors
    ///
    /// [`RunError::Mixture`] if there are no weights, one is negative or not finite, or
    /// none is positive.
    pub fn new(seed: u64, weights: &[f64]) -> Result<Self, RunError> {
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(RunError::Mixture(format!(
                "a weight must be a finite number >= 0; found {w}"
            )));
        }
        let Some(last_positive) = weights.iter().rposition(|&w| w > 0.0) else {
            return Err(RunError::Mixture(
                "at least one component needs a positive weight".into(),
            ));
        };
        let total: f64 = weights.iter().sum();
        let mut running = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                running += w;
                running / total
            })
            .collect();
        Ok(Self {
            streams: crate::rng::FactorStreams::new(seed, MIXTURE_FACTOR),
            cumulative,
            last_positive,
        })
    }

    /// The component path `path` is drawn from.
    pub fn component(&self, path: u64) -> usize {
        use rand::RngExt;
        let u: f64 = self.streams.block(path).random();
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.last_positive)
    }

    /// How many of the first `paths` paths each component is assigned.
    pub fn counts(&self, paths: u64) -> Vec<u64> {
        let mut counts = vec![0; self.cumulative.len()];
        for path in 0..paths {
            counts[self.component(path)] += 1;
        }
        counts
    }
}

/// The mixture's "scenario hash": SHA-256 of the tag `cloudcapex/mixture/v1`, then per
/// component in order its scenario's SHA-256 (64 hex characters) and its weight (the
/// f64's 8 bytes, little-endian), as lowercase hex. Any change of a component's
/// assumptions, of a weight or of the order changes it.
///
/// # Examples
///
/// ```
/// use cloudcapex::{runner::mixture_sha256, Scenario};
/// let base = Scenario::default_scenario();
/// let a = mixture_sha256(&[(&base, 0.5), (&base, 0.5)]);
/// assert_eq!(a.len(), 64);
/// assert_ne!(a, mixture_sha256(&[(&base, 0.25), (&base, 0.75)]));
/// ```
pub fn mixture_sha256(components: &[(&Scenario, f64)]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(MIXTURE_HASH_TAG);
    for (scenario, weight) in components {
        hasher.update(scenario.sha256().as_bytes());
        hasher.update(weight.to_le_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first difference between the output layouts of two scenarios, which a mixture's
/// components must share: start quarter, horizon, quarterly, scalar and fiscal-year
/// metrics, seed and path count. `None` if they share it.
///
/// # Examples
///
/// ```
/// use cloudcapex::{runner::mixture_layout_difference, Scenario};
/// let base = Scenario::default_scenario();
/// assert_eq!(mixture_layout_difference(&base, &base), None);
/// let other = base.clone().with_paths(500).unwrap();
/// assert!(mixture_layout_difference(&base, &other).unwrap().contains("path count"));
/// ```
pub fn mixture_layout_difference(lead: &Scenario, other: &Scenario) -> Option<String> {
    let (a, b) = (Model::new(lead), Model::new(other));
    let names = |m: &Model| -> Vec<String> {
        m.quarterly_metrics()
            .iter()
            .map(|q| format!("{}@{}", q.name, q.first_quarter))
            .collect()
    };
    let fiscal = |m: &Model| -> Vec<String> {
        m.fiscal_metrics()
            .iter()
            .map(|f| format!("FY{}.{}.{}", f.fiscal_year, f.world, f.metric))
            .collect()
    };
    let first_difference = |what: &str, x: &[String], y: &[String]| -> Option<String> {
        if x == y {
            return None;
        }
        let at = x.iter().zip(y).position(|(p, q)| p != q);
        Some(match at {
            Some(i) => format!("{what} differ: `{}` where the lead has `{}`", y[i], x[i]),
            None => format!("{what} differ: {} where the lead has {}", y.len(), x.len()),
        })
    };
    if a.quarter(0) != b.quarter(0) {
        return Some(format!(
            "start quarter {} where the lead has {}",
            b.quarter(0),
            a.quarter(0)
        ));
    }
    if a.quarters() != b.quarters() {
        return Some(format!(
            "horizon of {} quarters where the lead has {}",
            b.quarters() - 1,
            a.quarters() - 1
        ));
    }
    first_difference("quarterly metrics", &names(&a), &names(&b))
        .or_else(|| first_difference("scalar metrics", a.scalar_metrics(), b.scalar_metrics()))
        .or_else(|| first_difference("fiscal-year metrics", &fiscal(&a), &fiscal(&b)))
        .or_else(|| {
            (a.seed() != b.seed())
                .then(|| format!("seed {} where the lead has {}", b.seed(), a.seed()))
        })
        .or_else(|| {
            let (p, q) = (lead.simulation().paths, other.simulation().paths);
            (p != q).then(|| format!("path count {q} where the lead has {p}"))
        })
}

/// A mixture's component models and its assignment, for [`fill_and_observe`].
struct MixtureModels {
    /// One per component; `None` for a weight of 0 (never assigned, never simulated).
    models: Vec<Option<Model>>,
    assignment: MixtureAssignment,
}

/// One component's streams and workspaces in a block.
type ComponentBlock = Option<(crate::model::BlockStreams, Vec<PathWorkspace>)>;

impl MixtureModels {
    /// Each simulated component's streams of block `block_index`: the ones its plain run
    /// would use there (common random numbers).
    fn block(&self, block_index: u64) -> Vec<ComponentBlock> {
        self.models
            .iter()
            .map(|m| {
                m.as_ref().map(|m| {
                    (
                        m.block_streams(block_index),
                        vec![PathWorkspace::default(); STEPPED_PATHS],
                    )
                })
            })
            .collect()
    }

    /// Steps the block's next `group` paths in every simulated component.
    fn simulate_paths(&self, components: &mut [ComponentBlock], group: usize) {
        for (model, block) in self.models.iter().zip(components) {
            if let (Some(model), Some((streams, workspaces))) = (model, block) {
                model.simulate_paths(streams, &mut workspaces[..group]);
            }
        }
    }

    /// Path `path`'s values, the `i`-th of the group just stepped: its component's.
    fn workspace<'a>(
        &self,
        components: &'a [ComponentBlock],
        path: u64,
        i: usize,
    ) -> &'a PathWorkspace {
        let (_, workspaces) = components[self.assignment.component(path)]
            .as_ref()
            .expect("paths are assigned only to simulated components");
        &workspaces[i]
    }
}

/// Simulates a mixture of validated scenarios, each with its weight, as one run: path `p`
/// is drawn from one component, chosen by [`MixtureAssignment`] (keyed by the first
/// scenario's seed and `p`), and is that component's path `p`, bit for bit: every
/// component with a positive weight steps every block on its own streams (so K
/// components cost K runs' model work) and each path keeps its component's values. The
/// paths are i.i.d. draws of the mixture, so the ordinary statistics are the mixture's
/// (docs/model.md, "Mixtures"). With one component the results are its plain
/// [`simulate`]'s, bit for bit, name and hash included; otherwise named `mix`, with
/// [`mixture_sha256`] as the hash.
///
/// # Errors
///
/// [`RunError::Mixture`] if there are no components, a weight is negative, not finite or
/// all are 0, a component's layout differs from the first's
/// ([`mixture_layout_difference`]), or with antithetic pairs (a pair's two paths may come
/// from different components); otherwise as [`simulate`].
///
/// # Examples
///
/// ```
/// use cloudcapex::{runner::{simulate, simulate_mixture, RunOptions}, Scenario};
/// let base = Scenario::default_scenario().with_paths(1500).unwrap();
/// let options = RunOptions::default();
/// let alone = simulate_mixture(&[(base.clone(), 1.0)], &options).unwrap();
/// assert_eq!(alone.quarterly, simulate(&base, &options).unwrap().quarterly);
/// let half = simulate_mixture(&[(base.clone(), 0.5), (base, 0.5)], &options).unwrap();
/// assert_eq!(half.scenario, "mix");
/// assert_eq!(half.quarterly, alone.quarterly); // the same scenario twice: the same paths
/// ```
pub fn simulate_mixture(
    components: &[(Scenario, f64)],
    options: &RunOptions,
) -> Result<Results, RunError> {
    simulate_mixture_observed(components, options, &|_| {})
}

/// [`simulate_mixture`], calling `on_block(paths)` as each block finishes (for progress
/// bars; it cannot change the results).
///
/// # Errors
///
/// As [`simulate_mixture`].
pub fn simulate_mixture_observed(
    components: &[(Scenario, f64)],
    options: &RunOptions,
    on_block: &(dyn Fn(u64) + Sync),
) -> Result<Results, RunError> {
    let Some((lead, _)) = components.first() else {
        return Err(RunError::Mixture("no components".into()));
    };
    if options.antithetic {
        return Err(RunError::Mixture(
            "antithetic pairs: a pair's two paths may come from different components".into(),
        ));
    }
    for (k, (scenario, _)) in components.iter().enumerate().skip(1) {
        if let Some(difference) = mixture_layout_difference(lead, scenario) {
            return Err(RunError::Mixture(format!(
                "component {k} (`{}`): {difference}",
                scenario.name()
            )));
        }
    }
    let weights: Vec<f64> = components.iter().map(|(_, w)| *w).collect();
    let mixture = MixtureModels {
        assignment: MixtureAssignment::new(lead.simulation().seed, &weights)?,
        models: components
            .iter()
            .map(|(s, w)| (*w > 0.0).then(|| Model::new(s)))
            .collect(),
    };
    // The layout (metric names, quarters) is every component's; the lead's model holds it.
    let model = Model::new(lead);
    let total_paths = lead.simulation().paths;
    let target = target_metric(&model, options)?.zip(options.target_se.as_ref());
    let merged = schedule_blocks(
        &model,
        Some(&mixture),
        total_paths,
        options,
        target,
        on_block,
    )?;
    let mut results = finish(&model, lead, options, merged);
    if components.len() > 1 {
        results.scenario = "mix".to_string();
        let hashed: Vec<(&Scenario, f64)> = components.iter().map(|(s, w)| (s, *w)).collect();
        results.scenario_sha256 = mixture_sha256(&hashed);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Override;
    use crate::model::PER_PATH_SCALARS;

    /// Shards of any split, merged, give the unsharded run's results bit for bit: every
    /// quarterly and scalar statistic, the kept paths and the per-path values; with
    /// antithetic pairs and kept paths too.
    #[test]
    fn merged_shards_equal_the_whole_run() {
        let scenario = Scenario::default_scenario().with_paths(7300).unwrap();
        for options in [
            RunOptions::default(),
            RunOptions {
                paths_out: 1500,
                antithetic: true,
                ..Default::default()
            },
        ] {
            let whole = simulate(&scenario, &options).unwrap();
            let blocks = 7300u64.div_ceil(BLOCK_SIZE);
            for count in [1, 2, 3, 7] {
                let shards = (0..count).map(|i| {
                    let range = i * blocks / count..(i + 1) * blocks / count;
                    simulate_shard(&scenario, &options, range).unwrap()
                });
                let merged = merge_shards(&scenario, &options, shards).unwrap();
                assert_eq!(merged.paths, whole.paths);
                assert_eq!(merged.quarterly, whole.quarterly, "{count} shards");
                assert_eq!(
                    format!("{:?}", merged.scalars),
                    format!("{:?}", whole.scalars),
                    "{count} shards"
                );
                // Debug text: NaN (undefined values) is not equal to itself.
                assert_eq!(
                    format!("{:?}", merged.kept_paths),
                    format!("{:?}", whole.kept_paths)
                );
                for (a, b) in merged.scalar_values.iter().zip(&whole.scalar_values) {
                    let (a, b) = (a.as_deref().unwrap_or(&[]), b.as_deref().unwrap_or(&[]));
                    assert_eq!(a.len(), b.len(), "{count} shards");
                    let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{count} shards, {options:?}");
                }
            }
        }
    }

    /// Shards that leave a block out, repeat one or come out of order are refused.
    #[test]
    fn merging_incomplete_shards_is_refused() {
        let scenario = Scenario::default_scenario().with_paths(3000).unwrap();
        let options = RunOptions::default();
        let shard = |r: std::ops::Range<u64>| simulate_shard(&scenario, &options, r).unwrap();
        for shards in [
            vec![shard(0..1), shard(2..3)],
            vec![shard(0..2)],
            vec![shard(0..2), shard(1..3)],
            vec![shard(1..3), shard(0..1)],
        ] {
            assert!(matches!(
                merge_shards(&scenario, &options, shards),
                Err(RunError::Sharded(_))
            ));
        }
        assert!(simulate_shard(&scenario, &options, 2..4).is_err());
        assert!(simulate_shard(&scenario, &options, 1..1).is_err());
    }

    /// Only the metrics of `PER_PATH_SCALARS` keep a value per path; every other scalar is
    /// streamed, with a summary whose quantiles say they come from the sketch.
    #[test]
    fn only_the_listed_scalars_are_kept_per_path() {
        let scenario = Scenario::default_scenario().with_paths(1500).unwrap();
        let results = simulate(&scenario, &RunOptions::default()).unwrap();
        let mut kept = 0;
        for ((name, stats), values) in results.scalars.iter().zip(&results.scalar_values) {
            let listed = PER_PATH_SCALARS.contains(&name.as_str());
            assert_eq!(values.is_some(), listed, "{name}");
            assert_eq!(stats.exact, listed, "{name}");
            if let Some(values) = values {
                assert_eq!(values.len(), 1500);
                kept += 1;
            }
        }
        assert_eq!(kept, PER_PATH_SCALARS.len());
        assert!(
            results.scalars.len() > 3 * kept,
            "most scalars are streamed"
        );
    }

    /// A streamed scalar's statistics agree with the exact ones computed from the kept
    /// paths: same count and mean, quantiles within the sketch's bound.
    #[test]
    fn streamed_scalars_agree_with_their_kept_paths() {
        let scenario = Scenario::default_scenario().with_paths(2000).unwrap();
        let options = RunOptions {
            paths_out: 2000,
            ..RunOptions::default()
        };
        let results = simulate(&scenario, &options).unwrap();
        let k = results
            .scalars
            .iter()
            .position(|(m, _)| m == "plan_roic_year_6")
            .unwrap();
        let values: Vec<f64> = results.kept_paths.iter().map(|p| p.scalars[k]).collect();
        let exact = ScalarSummary::from_values(&values);
        let streamed = &results.scalars[k].1;
        let (e, s) = (exact.summary.unwrap(), streamed.summary.clone().unwrap());
        assert_eq!(e.count, s.count);
        assert!((e.mean - s.mean).abs() <= 1e-12 * e.mean.abs().max(1.0));
        assert!((e.sd - s.sd).abs() <= 1e-9 * e.sd);
        let mut sorted: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
        sorted.sort_by(f64::total_cmp);
        let largest = sorted[0].abs().max(sorted[sorted.len() - 1].abs());
        for (a, b) in e.quantiles.iter().zip(&s.quantiles) {
            assert!((a - b).abs() <= crate::stats::RELATIVE_ACCURACY * largest + 1e-9);
        }
        assert_eq!(exact.prob_negative, streamed.prob_negative);
        assert!((exact.cvar5 - streamed.cvar5).abs() <= crate::stats::RELATIVE_ACCURACY * largest);
    }

    /// The assignment is a pure function of (seed, path, weights), follows the weights
    /// within binomial bounds, never picks a weight of 0, and depends on the seed.
    #[test]
    fn mixture_assignment_is_deterministic_and_follows_the_weights() {
        let weights = [0.25, 0.0, 0.5, 0.25];
        let a = MixtureAssignment::new(7, &weights).unwrap();
        let b = MixtureAssignment::new(7, &weights).unwrap();
        let n = 20_000u64;
        let counts = a.counts(n);
        assert_eq!(counts, b.counts(n));
        assert_eq!(counts[1], 0);
        assert_eq!(counts.iter().sum::<u64>(), n);
        for (count, w) in counts.iter().zip(weights) {
            let sd = (n as f64 * w * (1.0 - w)).sqrt();
            assert!(
                (*count as f64 - n as f64 * w).abs() <= 4.0 * sd + 1.0,
                "{counts:?}"
            );
        }
        // Random access: any path alone agrees with the sequence.
        for path in [0, 1, 1023, 1024, 19_999] {
            assert_eq!(a.component(path), b.component(path));
        }
        let other = MixtureAssignment::new(8, &weights).unwrap();
        assert!((0..64).any(|p| other.component(p) != a.component(p)));
        assert!(MixtureAssignment::new(7, &[0.0, 0.0]).is_err());
        assert!(MixtureAssignment::new(7, &[f64::NAN]).is_err());
        assert!(MixtureAssignment::new(7, &[]).is_err());
    }

    /// One component of weight 1 is its plain run, bit for bit, name and hash included.
    #[test]
    fn a_mixture_of_one_is_the_plain_run() {
        let scenario = Scenario::default_scenario().with_paths(2100).unwrap();
        let options = RunOptions {
            paths_out: 30,
            ..Default::default()
        };
        let plain = simulate(&scenario, &options).unwrap();
        let mixed = simulate_mixture(&[(scenario, 1.0)], &options).unwrap();
        assert_eq!(format!("{mixed:?}"), format!("{plain:?}"));
    }

    /// Each path of a mixture is its component's path of the same index (common random
    /// numbers), and the results are the same on 1 and 3 threads.
    #[test]
    fn mixture_paths_are_their_components_paths_on_any_thread_count() {
        let base = Scenario::default_scenario().with_paths(2500).unwrap();
        let other = Scenario::default_with(&[Override::parse("plan.total_rmb_bn=300").unwrap()])
            .unwrap()
            .with_paths(2500)
            .unwrap();
        let options = RunOptions {
            paths_out: 2500,
            ..Default::default()
        };
        let components = [(base.clone(), 0.3), (other.clone(), 0.7)];
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| simulate_mixture(&components, &options).unwrap())
        };
        let (one, three) = (on(1), on(3));
        assert_eq!(format!("{one:?}"), format!("{three:?}"));
        let runs = [
            simulate(&base, &options).unwrap(),
            simulate(&other, &options).unwrap(),
        ];
        let assignment = MixtureAssignment::new(base.simulation().seed, &[0.3, 0.7]).unwrap();
        for (p, kept) in one.kept_paths.iter().enumerate() {
            let own = &runs[assignment.component(p as u64)].kept_paths[p];
            assert_eq!(format!("{kept:?}"), format!("{own:?}"), "path {p}");
        }
        assert_eq!(one.scenario, "mix");
        assert_eq!(
            one.scenario_sha256,
            mixture_sha256(&[(&base, 0.3), (&other, 0.7)])
        );
    }

    /// Components whose layouts differ, and antithetic pairs, are refused.
    #[test]
    fn mismatched_mixtures_are_refused() {
        let base = Scenario::default_scenario().with_paths(1024).unwrap();
        let fewer = base.clone().with_paths(2048).unwrap();
        let reseeded = base.clone().with_seed(1);
        for other in [fewer, reseeded] {
            let error =
                simulate_mixture(&[(base.clone(), 0.5), (other, 0.5)], &RunOptions::default())
                    .unwrap_err();
            assert!(matches!(error, RunError::Mixture(_)), "{error}");
        }
        let paired = RunOptions {
            antithetic: true,
            ..Default::default()
        };
        assert!(simulate_mixture(&[(base, 1.0)], &paired).is_err());
    }
}
