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

criterion_group!(benches, simulate_base, sketch_push, irr);
criterion_main!(benches);
