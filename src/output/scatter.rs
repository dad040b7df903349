//! `--report` scatter plots: a path's NPV against the draws of the three uncertain inputs
//! most rank-correlated with it, so a reader sees *why* paths lose money.

use std::io::{self, Write};

use super::{Exporter, RunRecord};
use crate::model::Model;

/// Metric on the y axis (kept per path).
const METRIC: &str = "plan_npv_rmb_bn";
/// Paths drawn and used to rank the inputs: the first this many, so the chart's size and
/// cost stay bounded however many paths run.
const MAX_POINTS: usize = 2_000;

/// The scatter of NPV against the input ranked `rank` (1 = strongest).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DriverScatterSvg {
    /// 1, 2 or 3.
    pub rank: usize,
    /// Output file name.
    pub file: &'static str,
}

/// The three scatter plots of `--report`.
pub const DRIVER_SCATTERS: [DriverScatterSvg; 3] = [
    DriverScatterSvg {
        rank: 1,
        file: "scatter_plan_npv_driver_1.svg",
    },
    DriverScatterSvg {
        rank: 2,
        file: "scatter_plan_npv_driver_2.svg",
    },
    DriverScatterSvg {
        rank: 3,
        file: "scatter_plan_npv_driver_3.svg",
    },
];

fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut rank = vec![0.0; values.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as f64;
    }
    rank
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va > 0.0 && vb > 0.0 {
        cov / (va * vb).sqrt()
    } else {
        0.0
    }
}

/// An input's key path, its Spearman correlation with the NPV, and the (draw, NPV) points.
type Driver = (String, f64, Vec<(f64, f64)>);

/// The inputs by decreasing |Spearman correlation| with the NPV over the first paths, each
/// with its draws and the NPVs (paths with an NPV only).
fn ranked_drivers(run: &RunRecord<'_>) -> Vec<Driver> {
    let results = run.results;
    let Some(k) = results.scalars.iter().position(|(m, _)| m == METRIC) else {
        return Vec::new();
    };
    let Some(npv) = results.scalar_values[k].as_ref() else {
        return Vec::new();
    };
    let model = Model::new(run.scenario);
    let keys = model.per_path_assumptions();
    let paths = npv.len().min(MAX_POINTS);
    let draws = model.parameter_draws(paths as u64);
    let defined: Vec<usize> = (0..paths).filter(|&p| npv[p].is_finite()).collect();
    if defined.len() < 10 {
        return Vec::new();
    }
    let y: Vec<f64> = defined.iter().map(|&p| npv[p]).collect();
    let y_ranks = ranks(&y);
    let mut drivers: Vec<Driver> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let x: Vec<f64> = defined.iter().map(|&p| draws[p][i]).collect();
            let rho = correlation(&ranks(&x), &y_ranks);
            (
                key.clone(),
                rho,
                x.into_iter().zip(y.iter().copied()).collect(),
            )
        })
        .collect();
    drivers.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    drivers
}

impl DriverScatterSvg {
    /// Whether the run has an NPV per path and at least `rank` uncertain inputs.
    pub fn applies_to(&self, run: &RunRecord<'_>) -> bool {
        let has_npv = run
            .results
            .scalars
            .iter()
            .position(|(m, _)| m == METRIC)
            .is_some_and(|k| run.results.scalar_values[k].is_some());
        has_npv && Model::new(run.scenario).per_path_assumptions().len() >= self.rank
    }

    /// The chart's title and SVG.
    ///
    /// # Errors
    ///
    /// If the run has no such driver, or drawing fails.
    pub fn svg(&self, run: &RunRecord<'_>) -> io::Result<(String, String)> {
        let drivers = ranked_drivers(run);
        let (key, rho, points) = drivers
            .get(self.rank - 1)
            .ok_or_else(|| io::Error::other("no such driver"))?;
        let title = format!("NPV against {key} (Spearman {rho:.2})");
        let svg = super::scatter_svg(
            format!(
                "{}: {title}, first {} paths",
                run.results.scenario,
                points.len()
            ),
            key,
            "plan NPV, RMB bn",
            points,
        )?;
        Ok((title, svg))
    }
}

impl Exporter for DriverScatterSvg {
    fn file_name(&self) -> &'static str {
        self.file
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        out.write_all(self.svg(run)?.1.as_bytes())
    }
}
