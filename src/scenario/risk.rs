//! Geopolitical risk: a Markov chain of named regimes and events with effects on named
//! model levers. Validated types and their checks; equations in docs/model.md, "Risk".

use std::collections::BTreeMap;

use serde::Serialize;

use super::dist::Param;
pub use super::doc::Lever;
use super::doc::{EventDoc, RegimeDoc, RiskDoc};
use super::error::ScenarioError;
use super::revenue::RevenueAssumptions;
use super::validator::{Range, Validator};

/// One regime of the Markov chain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Regime {
    /// Free text.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Probability of starting in this regime.
    pub initial_probability: f64,
    /// Probability of moving to each regime next quarter (sums to 1).
    pub transition: BTreeMap<String, f64>,
    /// Annual growth added to each segment's drift while in this regime.
    pub growth_shift: BTreeMap<String, f64>,
    /// Multiplier of every shock standard deviation while in this regime.
    pub volatility_scale: f64,
    /// Annual spread added to the discount rate while in this regime.
    pub discount_spread: f64,
}

/// One effect of an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Effect {
    /// The lever moved.
    pub lever: Lever,
    /// Segment, for revenue levers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Size at severity 1.
    pub size: f64,
    /// Quarters for the effect to halve; `None` is permanent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_life_quarters: Option<f64>,
}

/// An event that can fire in any projected quarter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Free text.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Probability of firing per quarter, by regime.
    pub hazard: BTreeMap<String, f64>,
    /// Whether it can fire more than once on a path.
    pub repeatable: bool,
    /// Multiplier of every effect's size, drawn at each firing.
    pub severity: Param,
    /// Effects by name.
    pub effects: BTreeMap<String, Effect>,
}

/// Regimes and events; absent (or `enabled = false`) means no geopolitical risk.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Risk {
    /// Regimes by name (the chain uses them in name order).
    pub regimes: BTreeMap<String, Regime>,
    /// Events by name.
    pub events: BTreeMap<String, Event>,
    /// Whether the regimes' growth shifts are centred each quarter on their mean under the
    /// chain's distribution, so that regimes widen growth without moving its mean
    /// (docs/model.md, "Risk"). Left out of the resolved scenario when false, so scenarios
    /// without the key keep their hash.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub centre_growth_shifts: bool,
}

const PROBABILITY: Range = Range::new(0.0, true, 1.0, true, "a probability from 0 to 1");
const SHIFT: Range = Range::new(
    -1.0,
    false,
    1.0,
    false,
    "an annual growth shift strictly between -1 and 1",
);
const SCALE: Range = Range::new(
    0.0,
    false,
    10.0,
    true,
    "a volatility multiplier greater than 0 and at most 10",
);
// Spreads only add risk premium, so the terminal-growth check on the base rate holds.
const SPREAD: Range = Range::new(0.0, true, 0.5, true, "an annual spread from 0 to 0.5");
const SEVERITY: Range = Range::new(0.0, true, 10.0, true, "a severity multiplier from 0 to 10");
const SIZE: Range = Range::new(-10.0, true, 10.0, true, "an effect size from -10 to 10");
const HALF_LIFE: Range = Range::new(
    0.0,
    false,
    1000.0,
    true,
    "a half-life in quarters greater than 0",
);

fn sums_to_one(values: impl Iterator<Item = f64>) -> bool {
    (values.sum::<f64>() - 1.0).abs() <= 1e-9
}

impl Validator<'_> {
    fn names_known(
        &self,
        key: &str,
        given: &BTreeMap<String, f64>,
        known: &[&String],
        what: &str,
    ) -> Result<(), ScenarioError> {
        for name in given.keys() {
            if !known.contains(&name) {
                let list: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
                return Err(self.error(
                    &format!("{key}.{name}"),
                    format!(
                        "unknown {what} `{name}`: expected one of {}{}",
                        list.join(", "),
                        super::error::did_you_mean(name, list.iter().copied())
                    ),
                ));
            }
        }
        Ok(())
    }

    fn regime(
        &self,
        name: &str,
        doc: &RegimeDoc,
        names: &[&String],
        revenue: &RevenueAssumptions,
    ) -> Result<Regime, ScenarioError> {
        let key = |f: &str| format!("risk.regimes.{name}.{f}");
        let transition = doc.transition.clone().ok_or_else(|| {
            self.error(&key("transition"), "missing: the probabilities of moving to each regime next quarter, e.g. { calm = 0.9, tension = 0.1 }")
        })?;
        self.names_known(&key("transition"), &transition, names, "regime")?;
        for (to, p) in &transition {
            self.number(&format!("{}.{to}", key("transition")), *p, &PROBABILITY)?;
        }
        if !sums_to_one(transition.values().copied()) {
            return Err(self.error(
                &key("transition"),
                format!(
                    "a transition row must sum to 1; it sums to {}",
                    transition.values().sum::<f64>()
                ),
            ));
        }
        let growth_shift = doc.growth_shift.clone().unwrap_or_default();
        let segments: Vec<&String> = revenue.segments.keys().collect();
        self.names_known(&key("growth_shift"), &growth_shift, &segments, "segment")?;
        for (s, g) in &growth_shift {
            self.number(&format!("{}.{s}", key("growth_shift")), *g, &SHIFT)?;
        }
        Ok(Regime {
            description: doc.description.clone().unwrap_or_default(),
            initial_probability: self.number(
                &key("initial_probability"),
                doc.initial_probability.unwrap_or(0.0),
                &PROBABILITY,
            )?,
            transition,
            growth_shift,
            volatility_scale: self.number(
                &key("volatility_scale"),
                doc.volatility_scale.unwrap_or(1.0),
                &SCALE,
            )?,
            discount_spread: self.number(
                &key("discount_spread"),
                doc.discount_spread.unwrap_or(0.0),
                &SPREAD,
            )?,
        })
    }

    fn event(
        &self,
        name: &str,
        doc: &EventDoc,
        regimes: &[&String],
        revenue: &RevenueAssumptions,
    ) -> Result<Event, ScenarioError> {
        let key = |f: &str| format!("risk.events.{name}.{f}");
        let hazard = doc.hazard.clone().unwrap_or_default();
        self.names_known(&key("hazard"), &hazard, regimes, "regime")?;
        for (r, h) in &hazard {
            self.number(&format!("{}.{r}", key("hazard")), *h, &PROBABILITY)?;
        }
        let severity = self.param(
            &key("severity"),
            doc.severity.as_ref(),
            Some(1.0),
            &SEVERITY,
        )?;
        let (severity_min, severity_max) = severity.bounds();
        let effect_docs = doc.effects.as_ref().filter(|e| !e.is_empty()).ok_or_else(|| {
            self.error(&key("effects"), "missing: at least one effect, e.g. [risk.events.NAME.effects.cost] lever = \"unit_cost\", size = 0.2")
        })?;
        let mut effects = BTreeMap::new();
        for (effect_name, e) in effect_docs {
            self.identifier(
                &format!("risk.events.{name}.effects.{effect_name}"),
                effect_name,
                "effect",
            )?;
            let ekey = |f: &str| format!("risk.events.{name}.effects.{effect_name}.{f}");
            let lever = e.lever.ok_or_else(|| {
                self.error(&ekey("lever"), "missing: one of revenue_level, revenue_growth, unit_cost, capacity_additions, price, plan_size, discount_rate")
            })?;
            let size = self.number(
                &ekey("size"),
                e.size.ok_or_else(|| {
                    self.error(&ekey("size"), "missing: the effect's size at severity 1")
                })?,
                &SIZE,
            )?;
            let segment = match (lever, &e.segment) {
                (Lever::RevenueLevel | Lever::RevenueGrowth, Some(s))
                    if revenue.segments.contains_key(s) =>
                {
                    Some(s.clone())
                }
                (Lever::RevenueLevel | Lever::RevenueGrowth, Some(s)) => {
                    return Err(
                        self.error(&ekey("segment"), format!("`{s}` is not a revenue segment"))
                    );
                }
                (Lever::RevenueLevel | Lever::RevenueGrowth, None) => {
                    return Err(self.error(
                        &ekey("segment"),
                        "missing: revenue levers need the segment they move",
                    ));
                }
                (_, Some(_)) => {
                    return Err(self.error(&ekey("segment"), "only revenue levers take a segment"));
                }
                (_, None) => None,
            };
            if lever.is_multiplicative()
                && (size * severity_max <= -1.0 || size * severity_min <= -1.0)
            {
                return Err(self.error(
                    &ekey("size"),
                    format!("size {size} times a severity up to {severity_max} reaches -100% or below: the lever would vanish or turn negative"),
                ));
            }
            if lever == Lever::DiscountRate && size < 0.0 {
                return Err(self.error(&ekey("size"), format!("a discount_rate effect adds a risk premium and must be 0 or more, found {size}")));
            }
            let half_life_quarters = e
                .half_life_quarters
                .map(|h| self.number(&ekey("half_life_quarters"), h, &HALF_LIFE))
                .transpose()?;
            effects.insert(
                effect_name.clone(),
                Effect {
                    lever,
                    segment,
                    size,
                    half_life_quarters,
                },
            );
        }
        Ok(Event {
            description: doc.description.clone().unwrap_or_default(),
            hazard,
            repeatable: doc.repeatable.unwrap_or(true),
            severity,
            effects,
        })
    }
}

/// Validates `[risk]`; `None` when absent or disabled.
pub(crate) fn validate_risk(
    v: &Validator<'_>,
    doc: Option<&RiskDoc>,
    revenue: &RevenueAssumptions,
    has_plan: bool,
    has_pricing: bool,
) -> Result<Option<Risk>, ScenarioError> {
    let Some(doc) = doc else { return Ok(None) };
    if doc.enabled == Some(false) {
        return Ok(None);
    }
    let regime_docs = doc.regimes.as_ref().filter(|r| !r.is_empty()).ok_or_else(|| {
        v.error("risk.regimes", "missing: at least one regime, e.g. [risk.regimes.calm] initial_probability = 1, transition = { calm = 1 }")
    })?;
    let names: Vec<&String> = regime_docs.keys().collect();
    let mut regimes = BTreeMap::new();
    for (name, r) in regime_docs {
        v.identifier(&format!("risk.regimes.{name}"), name, "regime")?;
        regimes.insert(name.clone(), v.regime(name, r, &names, revenue)?);
    }
    if !sums_to_one(regimes.values().map(|r| r.initial_probability)) {
        return Err(v.error(
            "risk.regimes",
            format!(
                "the regimes' initial_probability must sum to 1; they sum to {}",
                regimes.values().map(|r| r.initial_probability).sum::<f64>()
            ),
        ));
    }
    let mut events = BTreeMap::new();
    for (name, e) in doc.events.iter().flatten() {
        v.identifier(&format!("risk.events.{name}"), name, "event")?;
        let event = v.event(name, e, &names, revenue)?;
        let plan_lever = event
            .effects
            .iter()
            .find(|(_, x)| !matches!(x.lever, Lever::RevenueLevel | Lever::RevenueGrowth));
        if let (false, Some((effect, _))) = (has_plan, plan_lever) {
            return Err(v.error(
                &format!("risk.events.{name}.effects.{effect}.lever"),
                "this lever acts on the capex plan, capacity or valuation, which need a [plan] table",
            ));
        }
        let tightness = event
            .effects
            .iter()
            .find(|(_, x)| x.lever == Lever::MarketTightness);
        if let (false, Some((effect, _))) = (has_pricing, tightness) {
            return Err(v.error(
                &format!("risk.events.{name}.effects.{effect}.lever"),
                "market_tightness moves the price premium, which needs a [pricing] table",
            ));
        }
        events.insert(name.clone(), event);
    }
    Ok(Some(Risk {
        regimes,
        events,
        centre_growth_shifts: doc.centre_growth_shifts.unwrap_or(false),
    }))
}
