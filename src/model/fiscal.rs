//! Fiscal-year values of one path: the quarters of each complete Alibaba fiscal year
//! (April to March) summed, by world, with the ratios of those sums. Equations:
//! docs/model.md, "Fiscal years".
//!
//! Every value is computed from the path's own quarterly values as the outputs carry them,
//! summed in quarter order, so a fiscal year's sum equals the sum of its four quarters in
//! `paths.csv` exactly.

use crate::scenario::consensus::{FISCAL_ECONOMICS_METRICS, FISCAL_REVENUE_METRICS};
use crate::time::Quarter;

/// The worlds of the fiscal-year tables, in output order.
pub const FISCAL_WORLDS: [&str; 3] = ["plan", "counterfactual", "incremental"];

/// One per-path fiscal-year value: which fiscal year, world and metric it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiscalMetric {
    /// Fiscal year, as the calendar year its March falls in (2027 = FY27, April 2026 to
    /// March 2027).
    pub fiscal_year: i32,
    /// One of [`FISCAL_WORLDS`].
    pub world: &'static str,
    /// Metric name, units in the name (e.g. `revenue_total_rmb_bn`, `ebita_margin`).
    pub metric: String,
}

/// Where a fiscal-year sum is read from.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// A row of the path's quarterly values (a quarterly metric's index).
    Row(usize),
    /// The counterfactual world's AI revenue, which has no quarterly row without
    /// `[investment]`.
    CounterfactualAi,
}

/// A world's fiscal-year metric, from the sums of its sources.
#[derive(Clone, Copy, Debug)]
enum Formula {
    /// The year's sum of one source.
    Sum(usize),
    /// The year's sum of one source over the year's sum of another (NaN over a zero sum).
    Ratio(usize, usize),
}

/// The fiscal-year block: which quarters make up each complete fiscal year and how each
/// metric is formed from them.
#[derive(Clone, Debug)]
pub(crate) struct FiscalBlock {
    /// First quarter index and fiscal year of each fiscal year whose four quarters are all
    /// simulated (quarter indices `0..=H`).
    years: Vec<(usize, i32)>,
    sources: Vec<Source>,
    /// Per world but the incremental one (plan, then counterfactual when there is one):
    /// the metrics' names and formulas, parallel across worlds.
    names: Vec<String>,
    formulas: Vec<Vec<Formula>>,
    metrics: Vec<FiscalMetric>,
}

/// The quarterly rows the fiscal-year metrics read, by the name of their plan-world row:
/// resolves a quarterly metric's name to its index.
pub(crate) struct Rows<'a> {
    pub names: &'a [String],
}

impl Rows<'_> {
    fn index(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("the model reports `{name}` per quarter"))
    }
}

impl FiscalBlock {
    /// The block of a model starting at `start` with `quarters` quarter indices, its
    /// revenue `segments`, whether it has the economics and, with them, the capacity
    /// segment's index.
    pub(crate) fn new(
        start: Quarter,
        quarters: usize,
        segments: &[String],
        rows: &Rows<'_>,
        capacity_segment: Option<usize>,
    ) -> Self {
        let years = complete_fiscal_years(start, quarters);
        let mut sources = Vec::new();
        let mut source = |s: Source| {
            sources.push(s);
            sources.len() - 1
        };
        let mut names: Vec<String> = FISCAL_REVENUE_METRICS.map(String::from).to_vec();
        names.extend(segments.iter().map(|s| format!("revenue_{s}_rmb_bn")));
        let revenue = source(Source::Row(rows.index("revenue_total_rmb_bn")));
        let mut plan = vec![Formula::Sum(revenue)];
        for s in segments {
            plan.push(Formula::Sum(source(Source::Row(
                rows.index(&format!("revenue_{s}_rmb_bn")),
            ))));
        }
        let mut formulas = vec![plan];
        if let Some(ai) = capacity_segment {
            // The formulas below, in the order of these names.
            names.extend(FISCAL_ECONOMICS_METRICS.iter().map(|m| m.to_string()));
            let mut counterfactual = Vec::new();
            let cf_revenue = source(Source::Row(
                rows.index("revenue_total_counterfactual_rmb_bn"),
            ));
            counterfactual.push(Formula::Sum(cf_revenue));
            for k in 0..segments.len() {
                counterfactual.push(if k == ai {
                    Formula::Sum(source(Source::CounterfactualAi))
                } else {
                    // The other segments do not depend on the plan: the same quarters.
                    formulas[0][1 + k]
                });
            }
            for (world, suffix, revenue) in [(0, "", revenue), (1, "_counterfactual", cf_revenue)] {
                let mut row =
                    |name: &str| source(Source::Row(rows.index(&format!("{name}{suffix}_rmb_bn"))));
                let ebita = row("ebita");
                let capex = row("capex");
                let depreciation = row("depreciation");
                let fcf = row("fcf");
                let list = if world == 0 {
                    &mut formulas[0]
                } else {
                    &mut counterfactual
                };
                list.extend([
                    Formula::Sum(ebita),
                    Formula::Ratio(ebita, revenue),
                    Formula::Sum(capex),
                    Formula::Ratio(capex, revenue),
                    Formula::Sum(depreciation),
                    Formula::Sum(fcf),
                ]);
            }
            formulas.push(counterfactual);
        }
        let mut block = Self {
            years,
            sources,
            names,
            formulas,
            metrics: Vec::new(),
        };
        block.metrics = block.list_metrics();
        block
    }

    /// Every value [`FiscalBlock::values`] writes, in its order: by fiscal year, then world
    /// (plan, counterfactual, incremental), then metric.
    pub(crate) fn metrics(&self) -> &[FiscalMetric] {
        &self.metrics
    }

    fn list_metrics(&self) -> Vec<FiscalMetric> {
        let worlds = if self.formulas.len() == 2 { 3 } else { 1 };
        let mut metrics = Vec::new();
        for &(_, fiscal_year) in &self.years {
            for world in &FISCAL_WORLDS[..worlds] {
                metrics.extend(self.names.iter().map(|metric| FiscalMetric {
                    fiscal_year,
                    world,
                    metric: metric.clone(),
                }));
            }
        }
        metrics
    }

    /// Appends one path's fiscal-year values to `out`, in [`FiscalBlock::metrics`] order,
    /// from its quarterly values (`quarterly[m * quarters + t]`) and the counterfactual
    /// world's AI revenue by quarter (empty without the economics). `sums` is scratch.
    pub(crate) fn values(
        &self,
        quarterly: &[f64],
        quarters: usize,
        counterfactual_ai: &[f64],
        sums: &mut Vec<f64>,
        out: &mut Vec<f64>,
    ) {
        let years = self.years.len();
        sums.clear();
        for source in &self.sources {
            let series = match *source {
                Source::Row(m) => &quarterly[m * quarters..(m + 1) * quarters],
                Source::CounterfactualAi => counterfactual_ai,
            };
            for &(first, _) in &self.years {
                // In quarter order, so the sum is the one a reader of the quarters makes.
                let mut sum = 0.0;
                for value in &series[first..first + 4] {
                    sum += value;
                }
                sums.push(sum);
            }
        }
        let value = |formula: Formula, y: usize| match formula {
            Formula::Sum(s) => sums[s * years + y],
            Formula::Ratio(a, b) => {
                let denominator = sums[b * years + y];
                if denominator != 0.0 {
                    sums[a * years + y] / denominator
                } else {
                    f64::NAN
                }
            }
        };
        for y in 0..years {
            for world in &self.formulas {
                out.extend(world.iter().map(|&f| value(f, y)));
            }
            if let [plan, counterfactual] = self.formulas.as_slice() {
                out.extend(
                    plan.iter()
                        .zip(counterfactual)
                        .map(|(&p, &c)| value(p, y) - value(c, y)),
                );
            }
        }
    }
}

/// The fiscal years whose four quarters all fall within quarter indices `0..quarters`
/// from `start`: `(first quarter index, fiscal year)`.
fn complete_fiscal_years(start: Quarter, quarters: usize) -> Vec<(usize, i32)> {
    (0..quarters)
        .filter(|&t| start.plus(t as u32).quarter_of_year() == 2 && t + 4 <= quarters)
        .map(|t| (t, start.plus(t as u32 + 3).fiscal_year()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_fiscal_years_are_tabled() {
        let start: Quarter = "2026Q1".parse().unwrap();
        // 2026Q1 is FY26's last quarter: FY27 (2026Q2-2027Q1) is the first complete year.
        let years = complete_fiscal_years(start, 41);
        assert_eq!(years.first(), Some(&(1, 2027)));
        assert_eq!(years.last(), Some(&(37, 2036)));
        assert_eq!(years.len(), 10);
        let start: Quarter = "2025Q2".parse().unwrap();
        assert_eq!(complete_fiscal_years(start, 4), vec![(0, 2026)]);
        assert!(complete_fiscal_years(start, 3).is_empty());
    }

    #[test]
    fn sums_ratios_and_differences_follow_the_quarters() {
        let start: Quarter = "2026Q1".parse().unwrap();
        let quarters = 9;
        let segments = ["ai".to_string(), "core".to_string()];
        let names: Vec<String> = [
            "revenue_total_rmb_bn",
            "revenue_ai_rmb_bn",
            "revenue_core_rmb_bn",
            "revenue_total_counterfactual_rmb_bn",
            "ebita_rmb_bn",
            "ebita_counterfactual_rmb_bn",
            "capex_rmb_bn",
            "capex_counterfactual_rmb_bn",
            "depreciation_rmb_bn",
            "depreciation_counterfactual_rmb_bn",
            "fcf_rmb_bn",
            "fcf_counterfactual_rmb_bn",
        ]
        .map(String::from)
        .to_vec();
        let block = FiscalBlock::new(start, quarters, &segments, &Rows { names: &names }, Some(0));
        let quarterly: Vec<f64> = (0..names.len() * quarters)
            .map(|i| 1.0 + i as f64)
            .collect();
        let counterfactual_ai: Vec<f64> = (0..quarters).map(|t| 0.5 * t as f64).collect();
        let (mut sums, mut out) = (Vec::new(), Vec::new());
        block.values(
            &quarterly,
            quarters,
            &counterfactual_ai,
            &mut sums,
            &mut out,
        );
        assert_eq!(out.len(), block.metrics().len());
        let row_sum = |m: usize, first: usize| -> f64 {
            quarterly[m * quarters + first..m * quarters + first + 4]
                .iter()
                .sum()
        };
        let at = |year: i32, world: &str, metric: &str| {
            let k = block
                .metrics()
                .iter()
                .position(|m| m.fiscal_year == year && m.world == world && m.metric == metric)
                .unwrap();
            out[k]
        };
        assert_eq!(at(2027, "plan", "revenue_total_rmb_bn"), row_sum(0, 1));
        assert_eq!(at(2028, "plan", "revenue_core_rmb_bn"), row_sum(2, 5));
        assert_eq!(
            at(2027, "counterfactual", "revenue_core_rmb_bn"),
            row_sum(2, 1)
        );
        assert_eq!(
            at(2027, "counterfactual", "revenue_ai_rmb_bn"),
            0.5 * (1.0 + 2.0 + 3.0 + 4.0)
        );
        assert_eq!(
            at(2027, "plan", "ebita_margin"),
            row_sum(4, 1) / row_sum(0, 1)
        );
        assert_eq!(
            at(2027, "counterfactual", "capex_to_revenue"),
            row_sum(7, 1) / row_sum(3, 1)
        );
        assert_eq!(
            at(2027, "incremental", "fcf_rmb_bn"),
            row_sum(10, 1) - row_sum(11, 1)
        );
    }
}
