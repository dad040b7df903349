//! Engine throughput: `cargo bench --bench engine`.
//!
//! - `simulate/base/threads=N`: the base scenario end to end (model, statistics, merge),
//!   reported as paths per second on one thread and on every core;
//! - `block/model` and `block/draw_floor`: one block of 1,024 paths through the model
//!   (stepped [`STEPPED_PATHS`](cloudcapex::model::STEPPED_PATHS) at a time, as the runner
//!   does; `block/model_path_by_path`: one at a time), and the same block drawing only the
//!   random numbers it consumes, on the same streams;
//! - `sketch/push`, `sketch/extend_block`, `sketch/merge_block`: quantile-sketch inserts
//!   one by one, a block's worth in the runner's batches, and a block merged into a run;
//! - `finance/irr/*`: IRR of 53 quarterly flows with one and several sign changes;
//! - `csv/quarterly_and_summary`: writing a run's two main CSVs to memory.
//!
//! Paths per second compared with NumPy: `benches/compare_numpy.sh`; memory:
//! `benches/memory.sh`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use cloudcapex::Scenario;
use cloudcapex::runner::{RunOptions, simulate};
use cloudcapex::stats::QuantileSketch;

const PATHS: u64 = 16_384;

fn simulate_base(c: &mut Criterion) {
    let scenario = Scenario::default_scenario().with_paths(PATHS).unwrap();
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(PATHS));
    group.sample_size(10);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        group.bench_function(format!("base/threads={threads}"), |b| {
            b.iter(|| {
                pool.install(|| simulate(black_box(&scenario), &RunOptions::default()).unwrap())
            })
        });
    }
    group.finish();
}

fn sketch_push(c: &mut Criterion) {
    let values: Vec<f64> = (0..4096)
        .map(|i| 40.0 * (1.0 + (i as f64 * 0.37).sin() * 0.3))
        .collect();
    let mut group = c.benchmark_group("sketch");
    group.throughput(Throughput::Elements(values.len() as u64));
    group.bench_function("push", |b| {
        b.iter(|| {
            let mut sketch = QuantileSketch::default();
            for &x in &values {
                sketch.push(black_box(x));
            }
            sketch
        })
    });
    group.finish();
}

/// IRR of 53 quarterly flows (the base plan's 2025Q1-2036Q1), conventional and with
/// several sign changes (which needs the full bracketing scan).
fn irr(c: &mut Criterion) {
    let conventional: Vec<f64> = (0..53)
        .map(|k| if k < 12 { -30.0 } else { 12.0 + k as f64 * 0.1 })
        .collect();
    let non_conventional: Vec<f64> = (0..53)
        .map(|k| {
            if k < 12 || (28..32).contains(&k) {
                -30.0
            } else {
                12.0
            }
        })
        .collect();
    let mut group = c.benchmark_group("finance");
    group.bench_function("irr/conventional_53", |b| {
        b.iter(|| cloudcapex::finance::irr(black_box(&conventional)))
    });
    group.bench_function("irr/non_conventional_53", |b| {
        b.iter(|| cloudcapex::finance::irr(black_box(&non_conventional)))
    });
    group.finish();
}

/// One block of the base model on one thread, against the physical floor: the same block
/// only drawing the normal variates its paths consume, from the same streams. The ratio
/// model / floor is what docs/performance.md reports.
fn block_and_floor(c: &mut Criterion) {
    use cloudcapex::model::{Model, PathWorkspace, STEPPED_PATHS};
    let model = Model::new(&Scenario::default_scenario());
    let paths = cloudcapex::runner::BLOCK_SIZE;
    let mut group = c.benchmark_group("block");
    group.throughput(Throughput::Elements(paths));
    // As the runner steps them: STEPPED_PATHS paths together.
    group.bench_function("model", |b| {
        b.iter(|| {
            let mut streams = model.block_streams(black_box(3));
            let mut workspaces = vec![PathWorkspace::default(); STEPPED_PATHS];
            for _ in 0..paths as usize / STEPPED_PATHS {
                model.simulate_paths(&mut streams, &mut workspaces);
            }
            workspaces[0].scalars[0]
        })
    });
    group.bench_function("model_path_by_path", |b| {
        b.iter(|| {
            let mut streams = model.block_streams(black_box(3));
            let mut workspace = PathWorkspace::default();
            for _ in 0..paths {
                model.simulate_path(&mut streams, &mut workspace);
            }
            workspace.scalars[0]
        })
    });
    group.bench_function("draw_floor", |b| {
        b.iter(|| {
            let mut streams = model.block_streams(black_box(3));
            (0..paths)
                .map(|_| model.draw_floor_path(&mut streams))
                .sum::<f64>()
        })
    });
    group.finish();
}

/// Merging statistics: a quantile sketch of a block into a running one.
fn stats_merge(c: &mut Criterion) {
    use cloudcapex::stats::BlockSketch;
    let values: Vec<f64> = (0..1024)
        .map(|i| 40.0 * (1.0 + (i as f64 * 0.37).sin() * 0.3))
        .collect();
    // Per cell and block: 1,024 values in batches of 64 (the runner passes 256) into a
    // 16-bit block sketch, then the block merged into the run's sketch.
    c.bench_function("sketch/extend_block", |b| {
        b.iter(|| {
            let mut block = BlockSketch::default();
            for batch in black_box(&values).chunks(64) {
                block.extend_from_slice(batch);
            }
            block
        })
    });
    let mut block = BlockSketch::default();
    block.extend_from_slice(&values);
    let mut total = QuantileSketch::default();
    total.merge_block(&block);
    c.bench_function("sketch/merge_block", |b| {
        b.iter(|| {
            let mut run = total.clone();
            run.merge_block(black_box(&block));
            run
        })
    });
}

fn csv_writing(c: &mut Criterion) {
    use cloudcapex::output::{Exporter, QuarterlyCsv, RunRecord, SummaryCsv};
    let scenario = Scenario::default_scenario().with_paths(PATHS).unwrap();
    let results = simulate(&scenario, &RunOptions::default()).unwrap();
    let record = RunRecord {
        scenario: &scenario,
        results: &results,
        history: None,
    };
    c.bench_function("csv/quarterly_and_summary", |b| {
        b.iter(|| {
            let mut buffer = Vec::with_capacity(1 << 20);
            QuarterlyCsv.write(&record, &mut buffer).unwrap();
            SummaryCsv.write(&record, &mut buffer).unwrap();
            buffer.len()
        })
    });
}

criterion_group!(
    benches,
    simulate_base,
    sketch_push,
    irr,
    block_and_floor,
    stats_merge,
    csv_writing
);
criterion_main!(benches);
