//! `[consensus.<name>]`: published figures by fiscal year (reported results, brokers'
//! forecasts, peers' benchmarks) that the run's fiscal-year table is set beside. They
//! change no simulated number; `consensus.csv` and the report show each next to the
//! model's distribution of the same fiscal year, world and metric.

use serde::Serialize;

use super::ScenarioError;
use super::doc::AnchorDoc;
use super::validator::Validator;

/// Fiscal-year metrics every scenario's table has (`revenue_<segment>_rmb_bn` besides).
pub const FISCAL_REVENUE_METRICS: [&str; 1] = ["revenue_total_rmb_bn"];

/// Fiscal-year metrics of a scenario with a `[plan]`, after the revenue ones.
pub const FISCAL_ECONOMICS_METRICS: [&str; 6] = [
    "adj_ebita_rmb_bn",
    "ebita_margin",
    "capex_rmb_bn",
    "capex_to_revenue",
    "depreciation_rmb_bn",
    "fcf_rmb_bn",
];

/// A published figure for one fiscal year and metric: a value (`low == high`) or a range,
/// one end of which may be open (e.g. "above 30% a year" gives only `low`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Anchor {
    /// The entry's name (`[consensus.<name>]`; the table's key when written back).
    #[serde(skip)]
    pub name: String,
    /// Fiscal year, as the calendar year its March falls in (2028 = FY28).
    pub fiscal_year: i32,
    /// A fiscal-year metric (`revenue_total_rmb_bn`, `ebita_margin`, ...).
    pub metric: String,
    /// `plan` (default), `counterfactual` or `incremental`.
    pub world: String,
    /// Lower end; `None`: open below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// Upper end; `None`: open above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// Who published it and where it is recorded.
    pub source: String,
    /// When it was published (free text, e.g. `2025-09`).
    pub date: String,
    /// How it was derived or what it covers, when not plain.
    pub note: String,
}

/// Writes the anchors back as `[consensus.<name>]` tables, the form they are read in, so a
/// resolved `scenario.toml` reads back to the same scenario.
pub(crate) fn serialize_by_name<S: serde::Serializer>(
    anchors: &[Anchor],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(anchors.len()))?;
    for anchor in anchors {
        map.serialize_entry(&anchor.name, anchor)?;
    }
    map.end()
}

const WORLDS: [&str; 3] = ["plan", "counterfactual", "incremental"];

impl Validator<'_> {
    /// `[consensus.<name>]` entries: a fiscal year from 1990 to 2200, a metric of this
    /// scenario's fiscal-year table, a world, `value` or `low`/`high` (finite, low ≤ high),
    /// and a `source`.
    pub(crate) fn consensus(
        &self,
        doc: Option<&std::collections::BTreeMap<String, AnchorDoc>>,
        segments: &[String],
        has_plan: bool,
    ) -> Result<Vec<Anchor>, ScenarioError> {
        let mut metrics: Vec<String> = FISCAL_REVENUE_METRICS.map(String::from).to_vec();
        metrics.extend(segments.iter().map(|s| format!("revenue_{s}_rmb_bn")));
        if has_plan {
            metrics.extend(FISCAL_ECONOMICS_METRICS.map(String::from));
        }
        let mut anchors = Vec::new();
        for (name, entry) in doc.into_iter().flatten() {
            let key = |field: &str| format!("consensus.{name}.{field}");
            self.identifier(
                &format!("consensus.{name}"),
                name,
                "a consensus entry's name",
            )?;
            if !(1990..=2200).contains(&entry.fiscal_year) {
                return Err(self.error(
                    &key("fiscal_year"),
                    format!(
                        "expected a fiscal year as the calendar year its March falls in (2028 for FY28), found {}",
                        entry.fiscal_year
                    ),
                ));
            }
            if !metrics.contains(&entry.metric) {
                return Err(self.error(
                    &key("metric"),
                    format!(
                        "`{}` is not a fiscal-year metric of this scenario; expected one of {}",
                        entry.metric,
                        metrics.join(", ")
                    ),
                ));
            }
            let world = entry.world.clone().unwrap_or_else(|| "plan".to_string());
            let worlds = if has_plan { &WORLDS[..] } else { &WORLDS[..1] };
            if !worlds.contains(&world.as_str()) {
                return Err(self.error(
                    &key("world"),
                    format!("expected one of {}, found `{world}`", worlds.join(", ")),
                ));
            }
            let (low, high) = match (entry.value, entry.low, entry.high) {
                (Some(value), None, None) => (Some(value), Some(value)),
                (None, low, high) if low.is_some() || high.is_some() => (low, high),
                (Some(_), _, _) => {
                    return Err(self.error(
                        &key("value"),
                        "give either `value` or `low`/`high`, not both",
                    ));
                }
                (None, _, _) => {
                    return Err(self.error(
                        &format!("consensus.{name}"),
                        "missing the figure: give `value`, or `low` and/or `high` for a range",
                    ));
                }
            };
            for (field, x) in [("value", entry.value), ("low", low), ("high", high)] {
                if x.is_some_and(|x| !x.is_finite()) {
                    return Err(self.error(&key(field), "expected a finite number"));
                }
            }
            if let (Some(l), Some(h)) = (low, high)
                && l > h
            {
                return Err(self.error(&key("low"), format!("`low` ({l}) is above `high` ({h})")));
            }
            let Some(source) = entry.source.clone().filter(|s| !s.trim().is_empty()) else {
                return Err(self.error(
                    &format!("consensus.{name}"),
                    "missing `source`: say who published the figure and where it is recorded",
                ));
            };
            anchors.push(Anchor {
                name: name.clone(),
                fiscal_year: entry.fiscal_year as i32,
                metric: entry.metric.clone(),
                world,
                low,
                high,
                source,
                date: entry.date.clone().unwrap_or_default(),
                note: entry.note.clone().unwrap_or_default(),
            });
        }
        Ok(anchors)
    }
}
