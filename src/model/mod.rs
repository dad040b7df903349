//! The model: one file per economic block, composed here into one simulated path.
//!
//! Data flows one way: validated [`Scenario`] → [`Model`] (precomputed, immutable, shared by
//! all threads) → per-path values written into a reusable [`PathWorkspace`] → statistics.

mod params;
mod revenue;

use params::{ParamStreams, ParamTable};
use revenue::{RevenueBlock, RevenueScratch, RevenueStreams};

use crate::Scenario;
use crate::time::Quarter;

/// A metric reported per quarter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarterlyMetric {
    /// Column value in `quarterly.csv`, units in the name (e.g. `revenue_total_rmb_bn`).
    pub name: String,
    /// First quarter index where the metric is defined (year-over-year growth needs four
    /// quarters of history, so it starts at 4).
    pub first_quarter: usize,
}

/// The model of one scenario, ready to simulate paths.
///
/// # Examples
///
/// ```
/// use cloudcapex::{model::Model, Scenario};
/// let model = Model::new(&Scenario::default_scenario());
/// assert_eq!(model.quarters(), 41); // the start quarter and 40 projected quarters
/// assert_eq!(model.quarterly_metrics()[0].name, "revenue_total_rmb_bn");
/// ```
#[derive(Clone, Debug)]
pub struct Model {
    seed: u64,
    start_quarter: Quarter,
    horizon_quarters: usize,
    params: ParamTable,
    revenue: RevenueBlock,
    quarterly_metrics: Vec<QuarterlyMetric>,
    scalar_metrics: Vec<String>,
}

/// A block's random streams, one per risk factor.
pub struct BlockStreams {
    params: ParamStreams,
    revenue: RevenueStreams,
}

/// Buffers one path is simulated into; reused from path to path.
#[derive(Clone, Debug, Default)]
pub struct PathWorkspace {
    segment_revenue: Vec<f64>,
    revenue_scratch: RevenueScratch,
    /// Quarterly values, metric-major: `quarterly[m * quarters + t]`. Entries before a
    /// metric's `first_quarter` are NaN.
    pub quarterly: Vec<f64>,
    /// Per-path scalar values, in [`Model::scalar_metrics`] order.
    pub scalars: Vec<f64>,
}

impl Model {
    /// Precomputes the model of a validated scenario.
    pub fn new(scenario: &Scenario) -> Self {
        let assumptions = scenario.assumptions();
        let seed = scenario.simulation().seed;
        let mut params = ParamTable::new(seed);
        let revenue = RevenueBlock::new(assumptions, seed, &mut params);
        let horizon_quarters = assumptions.time.horizon_quarters as usize;

        let segments = revenue.segment_names();
        let level = |s: &str| QuarterlyMetric {
            name: format!("revenue_{s}_rmb_bn"),
            first_quarter: 0,
        };
        let growth = |s: &str| QuarterlyMetric {
            name: format!("revenue_{s}_yoy_growth"),
            first_quarter: 4,
        };
        let mut quarterly_metrics = vec![level("total")];
        quarterly_metrics.extend(segments.iter().map(|s| level(s)));
        quarterly_metrics.push(growth("total"));
        quarterly_metrics.extend(segments.iter().map(|s| growth(s)));

        let mut scalar_metrics = Vec::new();
        if horizon_quarters >= 4 {
            scalar_metrics.push("revenue_total_final_year_rmb_bn".to_string());
            scalar_metrics.extend(
                segments
                    .iter()
                    .map(|s| format!("revenue_{s}_final_year_rmb_bn")),
            );
        }
        scalar_metrics.push("revenue_total_cagr".to_string());
        scalar_metrics.push("revenue_total_cumulative_rmb_bn".to_string());

        Self {
            seed,
            start_quarter: assumptions.time.start_quarter,
            horizon_quarters,
            params,
            revenue,
            quarterly_metrics,
            scalar_metrics,
        }
    }

    /// Quarter indices per path: the start quarter (index 0) and the horizon.
    pub fn quarters(&self) -> usize {
        self.horizon_quarters + 1
    }

    /// Calendar quarter of a quarter index.
    pub fn quarter(&self, quarter_index: usize) -> Quarter {
        self.start_quarter.plus(quarter_index as u32)
    }

    /// Metrics reported per quarter, in output order.
    pub fn quarterly_metrics(&self) -> &[QuarterlyMetric] {
        &self.quarterly_metrics
    }

    /// Per-path scalar metrics, in output order.
    pub fn scalar_metrics(&self) -> &[String] {
        &self.scalar_metrics
    }

    /// Key paths of the assumptions drawn per path.
    pub fn uncertain_assumptions(&self) -> Vec<String> {
        self.params.keys().map(str::to_string).collect()
    }

    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Standard normal variates one path consumes (the draw floor of the speed benchmark).
    pub fn normals_per_path(&self) -> usize {
        self.revenue.normals_per_path()
    }

    /// The random streams of block `block_index`.
    pub fn block_streams(&self, block_index: u64) -> BlockStreams {
        BlockStreams {
            params: self.params.streams(block_index),
            revenue: self.revenue.streams(block_index),
        }
    }

    /// Simulates the next path of a block into `workspace`.
    pub fn simulate_path(&self, streams: &mut BlockStreams, workspace: &mut PathWorkspace) {
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        workspace.segment_revenue.resize(segments * quarters, 0.0);
        self.revenue.simulate(
            &mut streams.params,
            &mut streams.revenue,
            &mut workspace.revenue_scratch,
            &mut workspace.segment_revenue,
        );

        // Quarterly metrics: levels (total then segments), then YoY growth in the same order.
        let levels = segments + 1;
        workspace
            .quarterly
            .resize(self.quarterly_metrics.len() * quarters, f64::NAN);
        let (level_values, growth_values) = workspace.quarterly.split_at_mut(levels * quarters);
        let (total, by_segment) = level_values.split_at_mut(quarters);
        by_segment.copy_from_slice(&workspace.segment_revenue);
        total.fill(0.0);
        for s in 0..segments {
            for t in 0..quarters {
                total[t] += by_segment[s * quarters + t];
            }
        }
        for m in 0..levels {
            let level = &level_values[m * quarters..(m + 1) * quarters];
            let growth = &mut growth_values[m * quarters..(m + 1) * quarters];
            for t in 4..quarters {
                growth[t] = level[t] / level[t - 4] - 1.0;
            }
        }

        // Scalars.
        let total = &level_values[..quarters];
        workspace.scalars.clear();
        if self.horizon_quarters >= 4 {
            for m in 0..levels {
                let level = &level_values[m * quarters..(m + 1) * quarters];
                workspace.scalars.push(level[quarters - 4..].iter().sum());
            }
        }
        let h = self.horizon_quarters as f64;
        workspace
            .scalars
            .push((total[quarters - 1] / total[0]).powf(4.0 / h) - 1.0);
        workspace.scalars.push(total[1..].iter().sum());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Override;

    fn scenario(sets: &[&str]) -> Scenario {
        let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        Scenario::default_with(&overrides).unwrap()
    }

    /// With every shock switched off and fixed assumptions, the path is the hand-computed
    /// deterministic projection of docs/model.md.
    #[test]
    fn zero_volatility_matches_hand_computation() {
        let mut sets = vec![
            "revenue.segments.ai.initial_growth=1.0",
            "revenue.segments.core.initial_growth=0.18",
        ];
        for seg in ["ai", "core", "international"] {
            sets.push(Box::leak(
                format!("revenue.segments.{seg}.persistent_shock_sd=0").into_boxed_str(),
            ));
            sets.push(Box::leak(
                format!("revenue.segments.{seg}.iid_shock_sd=0").into_boxed_str(),
            ));
        }
        let s = scenario(&sets);
        let model = Model::new(&s);
        let mut streams = model.block_streams(0);
        let mut ws = PathWorkspace::default();
        model.simulate_path(&mut streams, &mut ws);

        // AI: start 12.5 in 2026Q1 (q1 factor 0.938), g0 = 1.0, gT = 0.06, half-life 6.
        let seasonal = [0.938, 0.958, 1.048, 1.056];
        let (g0, gt, h) = (1.0f64, 0.06f64, 6.0f64);
        let mut log_level = (12.5f64 / seasonal[0]).ln();
        let ai_metric = model
            .quarterly_metrics
            .iter()
            .position(|m| m.name == "revenue_ai_rmb_bn")
            .unwrap();
        let q = model.quarters();
        for t in 1..q {
            let w = 0.5f64.powf((t as f64 - 1.0) / h);
            log_level += (gt.ln_1p() + w * (g0.ln_1p() - gt.ln_1p())) / 4.0;
            let expected = log_level.exp() * seasonal[t % 4];
            let got = ws.quarterly[ai_metric * q + t];
            assert!(
                (got - expected).abs() < 1e-9 * expected,
                "t = {t}: {got} vs {expected}"
            );
        }
        // YoY growth and the CAGR scalar follow from the levels.
        let total = &ws.quarterly[..q];
        let growth_metric = model
            .quarterly_metrics
            .iter()
            .position(|m| m.name == "revenue_total_yoy_growth")
            .unwrap();
        assert!(ws.quarterly[growth_metric * q + 3].is_nan());
        assert!((ws.quarterly[growth_metric * q + 8] - (total[8] / total[4] - 1.0)).abs() < 1e-12);
        let cagr = model
            .scalar_metrics
            .iter()
            .position(|m| m == "revenue_total_cagr")
            .unwrap();
        assert!((ws.scalars[cagr] - ((total[40] / total[0]).powf(0.1) - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn paths_of_a_block_are_reproducible() {
        let model = Model::new(&Scenario::default_scenario());
        let run = || {
            let mut streams = model.block_streams(5);
            let mut ws = PathWorkspace::default();
            model.simulate_path(&mut streams, &mut ws);
            model.simulate_path(&mut streams, &mut ws);
            ws.quarterly.clone()
        };
        let (a, b) = (run(), run());
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
