//! `--report` scatter plots: a path's NPV against the three drivers that move it most (the
//! verdict's, [`super::NpvDrivers`]), so a reader sees *why* paths lose money.

use std::io::{self, Write};
use std::sync::Arc;

use super::{Exporter, RunRecord};

/// Paths drawn: the first this many, so the chart's size stays bounded however many paths
/// run.
const MAX_POINTS: usize = 2_000;

/// The scatter of NPV against the driver ranked `rank` (1 = strongest).
#[derive(Clone, Debug, PartialEq)]
pub struct DriverScatterSvg {
    /// 1, 2 or 3.
    pub rank: usize,
    /// Output file name.
    pub file: &'static str,
    /// The run's drivers, if already fitted (else the chart fits them).
    pub drivers: Option<Arc<super::NpvDrivers>>,
}

/// The three scatter plots of `--report`.
pub const DRIVER_SCATTERS: [DriverScatterSvg; 3] = [
    DriverScatterSvg {
        rank: 1,
        file: "scatter_plan_npv_driver_1.svg",
        drivers: None,
    },
    DriverScatterSvg {
        rank: 2,
        file: "scatter_plan_npv_driver_2.svg",
        drivers: None,
    },
    DriverScatterSvg {
        rank: 3,
        file: "scatter_plan_npv_driver_3.svg",
        drivers: None,
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

/// Pearson correlation (0 where either side has no spread); of ranks, Spearman's.
pub(super) fn correlation(a: &[f64], b: &[f64]) -> f64 {
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

/// A driver's key path, its standardized regression coefficient and Spearman correlation
/// with the NPV, and the (driver, NPV) points of the first paths.
type Driver = (String, f64, f64, Vec<(f64, f64)>);

/// The verdict's drivers ([`super::NpvDrivers`]), strongest first, each with the points
/// of the first [`MAX_POINTS`] fitted paths.
fn ranked_drivers(drivers: &super::NpvDrivers) -> Vec<Driver> {
    let shown = drivers.paths_used().min(MAX_POINTS);
    let y = &drivers.npv[..shown];
    let y_ranks = ranks(y);
    drivers
        .ranked
        .iter()
        .map(|d| {
            let x = &d.values[..shown];
            let rho = correlation(&ranks(x), &y_ranks);
            (
                d.key.clone(),
                d.src,
                rho,
                x.iter().copied().zip(y.iter().copied()).collect(),
            )
        })
        .collect()
}

impl DriverScatterSvg {
    /// The same chart drawn from drivers already fitted.
    pub fn with_drivers(&self, drivers: Option<Arc<super::NpvDrivers>>) -> Self {
        Self {
            drivers,
            ..self.clone()
        }
    }

    fn drivers(&self, run: &RunRecord<'_>) -> Option<Arc<super::NpvDrivers>> {
        self.drivers
            .clone()
            .or_else(|| super::NpvDrivers::of(run.scenario, run.results).map(Arc::new))
    }

    /// Whether the run has an NPV per path and at least `rank` drivers.
    pub fn applies_to(&self, run: &RunRecord<'_>) -> bool {
        self.drivers(run)
            .is_some_and(|d| d.ranked.len() >= self.rank)
    }

    /// The chart's title and SVG.
    ///
    /// # Errors
    ///
    /// If the run has no such driver, or drawing fails.
    pub fn svg(&self, run: &RunRecord<'_>) -> io::Result<(String, String)> {
        let drivers = self
            .drivers(run)
            .map_or_else(Vec::new, |d| ranked_drivers(&d));
        let (key, src, rho, points) = drivers
            .get(self.rank - 1)
            .ok_or_else(|| io::Error::other("no such driver"))?;
        let label = super::driver_label(key);
        let title = format!("NPV against {label} (SRC {src:.2}, Spearman {rho:.2})");
        let svg = super::scatter_svg(
            format!(
                "{}: {title}, first {} paths",
                run.results.scenario,
                points.len()
            ),
            &label,
            "Plan NPV (RMB bn)",
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
