//! Readable labels with units for the per-path metrics, the one table that the console
//! and `report.html` share. The CSVs keep the snake_case names: they are the contract.

/// How a metric's values are shown to a reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayUnit {
    /// RMB billions.
    RmbBn,
    /// RMB billions a year.
    RmbBnPerYear,
    /// RMB billions per unit of AI compute and quarter.
    RmbBnPerUnitQuarter,
    /// A decimal rate a year, shown in percent.
    PercentPerYear,
    /// A decimal share or return, shown in percent.
    Percent,
    /// A ratio, shown as is.
    Ratio,
    /// Quarters.
    Quarters,
    /// A count.
    Count,
}

impl DisplayUnit {
    /// The unit as written after a label.
    pub fn text(self) -> &'static str {
        match self {
            DisplayUnit::RmbBn => "RMB bn",
            DisplayUnit::RmbBnPerYear => "RMB bn/yr",
            DisplayUnit::RmbBnPerUnitQuarter => "RMB bn per unit-quarter",
            DisplayUnit::PercentPerYear => "%/yr",
            DisplayUnit::Percent => "%",
            DisplayUnit::Ratio => "ratio",
            DisplayUnit::Quarters => "quarters",
            DisplayUnit::Count => "count",
        }
    }

    /// What a stored value is multiplied by for display (rates are stored as decimals).
    pub fn scale(self) -> f64 {
        match self {
            DisplayUnit::PercentPerYear | DisplayUnit::Percent => 100.0,
            _ => 1.0,
        }
    }
}

/// A metric's readable name and the unit its values are shown in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricLabel {
    /// Words, without the unit (`Plan NPV`).
    pub name: String,
    /// The unit values are shown in.
    pub unit: DisplayUnit,
}

impl MetricLabel {
    /// Name and unit, `Plan NPV (RMB bn)`.
    pub fn text(&self) -> String {
        format!("{} ({})", self.name, self.unit.text())
    }
}

/// A segment or event name as words: `export_controls_tighten` → `export controls
/// tighten`, `ai` → `AI`.
fn words(name: &str) -> String {
    name.split('_')
        .map(|w| if w == "ai" { "AI" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Upper-cases the first letter.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// The readable label of a per-path metric of `summary.csv` (docs/outputs.md); a name
/// outside the table keeps its own text, shown as a ratio.
///
/// # Examples
///
/// ```
/// use cloudcapex::output::metric_label;
/// assert_eq!(metric_label("plan_npv_rmb_bn").text(), "Plan NPV (RMB bn)");
/// assert_eq!(metric_label("plan_irr").text(), "Plan IRR (%/yr)");
/// assert_eq!(
///     metric_label("plan_npv_given_price_war_fired_rmb_bn").text(),
///     "Plan NPV if price war fired (RMB bn)"
/// );
/// ```
pub fn metric_label(metric: &str) -> MetricLabel {
    use DisplayUnit::*;
    let label = |name: &str, unit| MetricLabel {
        name: name.to_string(),
        unit,
    };
    match metric {
        "revenue_total_final_year_rmb_bn" => label("Revenue, final year", RmbBnPerYear),
        "revenue_total_cagr" => label("Revenue CAGR, start to horizon", PercentPerYear),
        "revenue_total_cumulative_rmb_bn" => label("Revenue summed over the horizon", RmbBn),
        "plan_npv_rmb_bn" => label("Plan NPV", RmbBn),
        "plan_npv_excl_terminal_rmb_bn" => label("Plan NPV without terminal value", RmbBn),
        "plan_irr" => label("Plan IRR", PercentPerYear),
        "plan_irr_root_count" => label("IRR roots found", Count),
        "plan_mirr" => label("Plan MIRR", PercentPerYear),
        "plan_payback_quarters" => label("Payback", Quarters),
        "plan_discounted_payback_quarters" => label("Discounted payback", Quarters),
        "plan_moic" => label("Plan MOIC, inflows / capex", Ratio),
        "plan_profitability_index" => label("Profitability index, PV inflows / PV capex", Ratio),
        "plan_incremental_capex_rmb_bn" => label("Incremental capex", RmbBn),
        "plan_terminal_value_pv_rmb_bn" => label("Terminal value, present value", RmbBn),
        "plan_terminal_growth" => label("Terminal growth of the increment", PercentPerYear),
        "plan_terminal_ronic" => label("Terminal return on new capital", PercentPerYear),
        "ai_price_to_user_cost_start" => label("AI price / user cost of a new unit, start", Ratio),
        "ai_user_cost_start_rmb_bn" => {
            label("AI user cost of a new unit, start", RmbBnPerUnitQuarter)
        }
        "cloud_ev_rmb_bn" => label("Cloud EV with the plan, start quarter", RmbBn),
        "cloud_ev_counterfactual_rmb_bn" => label("Cloud EV without the plan", RmbBn),
        "cloud_ev_to_trailing_sales" => label("Cloud EV / trailing sales", Ratio),
        "cloud_ev_to_trailing_sales_counterfactual" => {
            label("Cloud EV / trailing sales, without the plan", Ratio)
        }
        "cloud_ev_to_forward_sales" => label("Cloud EV / next four quarters' sales", Ratio),
        "cloud_ev_to_forward_sales_counterfactual" => label(
            "Cloud EV / next four quarters' sales, without the plan",
            Ratio,
        ),
        "plan_npv_per_share_rmb" => label("Plan NPV per share (RMB)", Ratio),
        "cloud_ev_per_share_rmb" => label("Cloud EV per share (RMB)", Ratio),
        "plan_forward_npv_rmb_bn" => label("Continue vs stop now: forward NPV", RmbBn),
        "plan_forward_irr" => label("Continue vs stop now: forward IRR", PercentPerYear),
        "plan_forward_profitability_index" => {
            label("Continue vs stop now: profitability index", Ratio)
        }
        "plan_forward_incremental_capex_rmb_bn" => {
            label("Continue vs stop now: capex still to spend", RmbBn)
        }
        "plan_stop_now_npv_rmb_bn" => label("Stop now vs never plan: NPV", RmbBn),
        "plan_forward_npv_per_share_rmb" => label("Forward NPV per share (RMB)", Ratio),
        _ => patterned(metric).unwrap_or_else(|| label(metric, Ratio)),
    }
}

/// The metrics named after a segment, a year or an event.
fn patterned(metric: &str) -> Option<MetricLabel> {
    if let Some(year) = metric.strip_prefix("plan_roic_year_") {
        return Some(MetricLabel {
            name: format!("Incremental ROIC, year {year}"),
            unit: DisplayUnit::Percent,
        });
    }
    if let Some(segment) = metric
        .strip_prefix("revenue_")
        .and_then(|m| m.strip_suffix("_final_year_rmb_bn"))
    {
        return Some(MetricLabel {
            name: format!("{} revenue, final year", capitalized(&words(segment))),
            unit: DisplayUnit::RmbBnPerYear,
        });
    }
    let event = metric
        .strip_prefix("plan_npv_given_")?
        .strip_suffix("_rmb_bn")?;
    let name = if let Some(e) = event.strip_suffix("_not_fired") {
        format!("Plan NPV if {} did not fire", words(e))
    } else {
        format!("Plan NPV if {} fired", words(event.strip_suffix("_fired")?))
    };
    Some(MetricLabel {
        name,
        unit: DisplayUnit::RmbBn,
    })
}

/// A per-path driver (an assumption's key path, `risk.regime_share.<regime>` or
/// `risk.events.<event>.firings`, as in `drivers.csv`) in words, the key path kept where
/// it is what a reader would `--set`.
///
/// # Examples
///
/// ```
/// use cloudcapex::output::driver_label;
/// assert_eq!(driver_label("risk.regime_share.crisis"), "share of quarters in the crisis regime");
/// assert_eq!(driver_label("risk.events.price_war.firings"), "number of price war firings");
/// assert_eq!(driver_label("valuation.discount_rate"), "valuation.discount_rate");
/// ```
pub fn driver_label(key: &str) -> String {
    if let Some(regime) = key.strip_prefix("risk.regime_share.") {
        return format!("share of quarters in the {} regime", words(regime));
    }
    if let Some(event) = key
        .strip_prefix("risk.events.")
        .and_then(|k| k.strip_suffix(".firings"))
    {
        return format!("number of {} firings", words(event));
    }
    key.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric of the base scenario's summary gets words, not its snake_case name.
    #[test]
    fn every_base_metric_has_a_readable_label() {
        let s = crate::Scenario::default_scenario().with_paths(300).unwrap();
        let results = crate::runner::simulate(&s, &crate::runner::RunOptions::default()).unwrap();
        for (metric, _) in &results.scalars {
            let label = metric_label(metric);
            assert!(
                !label.name.contains('_'),
                "{metric} has no readable label: {label:?}"
            );
        }
    }

    #[test]
    fn segments_years_and_events_read_as_words() {
        assert_eq!(
            metric_label("revenue_ai_final_year_rmb_bn").text(),
            "AI revenue, final year (RMB bn/yr)"
        );
        assert_eq!(
            metric_label("plan_roic_year_10").text(),
            "Incremental ROIC, year 10 (%)"
        );
        assert_eq!(
            metric_label("plan_npv_given_decoupling_not_fired_rmb_bn").text(),
            "Plan NPV if decoupling did not fire (RMB bn)"
        );
        assert_eq!(
            metric_label("something_new").text(),
            "something_new (ratio)"
        );
    }
}
