//! The published figures of `[consensus.<name>]` set beside the run's fiscal-year
//! distribution of the same fiscal year, world and metric (`consensus.csv`, the report).

use crate::runner::{FiscalYearStat, Results};
use crate::scenario::consensus::Anchor;

/// One published figure and where the model stands against it.
#[derive(Clone, Debug)]
pub struct ConsensusRow<'a> {
    /// The figure as the scenario states it.
    pub anchor: &'a Anchor,
    /// The model's statistics of that fiscal year, world and metric; `None` when the fiscal
    /// year is not simulated whole (e.g. a year reported before the start quarter).
    pub model: Option<&'a FiscalYearStat>,
}

impl ConsensusRow<'_> {
    /// Where the model's median stands against the figure: `below`, `within` (inside the
    /// range, or equal to a value) or `above`; `None` when the model has no value.
    pub fn median_position(&self) -> Option<&'static str> {
        let median = self.model?.stats.summary.as_ref()?.quantiles[4];
        Some(match (self.anchor.low, self.anchor.high) {
            (Some(low), _) if median < low => "below",
            (_, Some(high)) if median > high => "above",
            _ => "within",
        })
    }

    /// Whether the figure (or its range) meets the model's 90% band, p5 to p95; `None`
    /// when the model has no value.
    pub fn within_90pct_band(&self) -> Option<bool> {
        let summary = self.model?.stats.summary.as_ref()?;
        let (p5, p95) = (summary.quantiles[1], summary.quantiles[7]);
        let low = self.anchor.low.unwrap_or(f64::NEG_INFINITY);
        let high = self.anchor.high.unwrap_or(f64::INFINITY);
        Some(low <= p95 && high >= p5)
    }
}

/// Every anchor of the scenario with the model's statistics, by fiscal year, metric,
/// world and name.
pub fn consensus_rows<'a>(anchors: &'a [Anchor], results: &'a Results) -> Vec<ConsensusRow<'a>> {
    let mut sorted: Vec<&Anchor> = anchors.iter().collect();
    sorted.sort_by(|a, b| {
        (a.fiscal_year, &a.metric, &a.world, &a.name).cmp(&(
            b.fiscal_year,
            &b.metric,
            &b.world,
            &b.name,
        ))
    });
    sorted
        .into_iter()
        .map(|anchor| ConsensusRow {
            anchor,
            model: results.fiscal_years.iter().find(|f| {
                f.key.fiscal_year == anchor.fiscal_year
                    && f.key.world == anchor.world
                    && f.key.metric == anchor.metric
            }),
        })
        .collect()
}
