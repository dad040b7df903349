//! Engine throughput: `cargo bench --bench engine`.
//!
//! - `simulate/base/threads=N`: the base scenario end to end (model, statistics, merge),
//!   reported as paths per second on one thread and on every core;
//! - `sketch/push`: one quantile-sketch insert.

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

criterion_group!(benches, simulate_base, sketch_push);
criterion_main!(benches);
