//! The model: one file per economic block, composed here into one simulated path.
//!
//! Data flows one way: validated [`Scenario`] → [`Model`] (precomputed, immutable, shared by
//! all threads) → per-path values written into a reusable [`PathWorkspace`] → statistics.
//! A scenario with a `[plan]` is simulated twice per path on the same draws: in the plan
//! world and in the counterfactual world without the plan; the plan's return is valued on
//! the difference.

mod capacity;
pub mod capex;
mod demand;
mod fiscal;
mod investment;
mod margins;
mod params;
mod policy_world;
mod pricing;
mod revenue;
mod risk;
mod valuation;

use capacity::{CapacityBlock, CapacityDraw};
use capex::{CapexBlock, CapexDraw, CapexFactors, CapexLanes, CapexState, World};
use demand::{CustomerBlock, CustomerDraw};
use fiscal::{FiscalBlock, Rows};
use investment::{InvestmentBlock, InvestmentDraw};
use margins::{MarginBlock, MarginDraw, QuarterInputs};
use params::{ParamStreams, ParamTable};
use pricing::{PricingBlock, PricingDraw};
use rand::rngs::ChaCha8Rng;
use revenue::{RevenueBlock, RevenueScratch, RevenueStreams};
use risk::{RiskBlock, RiskPath, RiskStreams};
use valuation::{Incremental, ValuationBlock, ValuationDraw, WorldFlows};

pub use fiscal::{FISCAL_WORLDS, FiscalMetric};

use crate::Scenario;
use crate::time::Quarter;

/// Paths [`Model::simulate_paths`] steps together at most (a larger batch is stepped this
/// many at a time): the lanes of the capex vintages' sums.
pub const STEPPED_PATHS: usize = capex::LANES;

/// Paths per block (re-exported as `runner::BLOCK_SIZE`). A constant: changing it changes
/// which random stream feeds which path. Defined with the model, which draws a block's
/// streams, so the runner above it takes it from here.
pub const BLOCK_SIZE: u64 = 1024;

/// A metric reported per quarter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarterlyMetric {
    /// Column value in `quarterly.csv`, units in the name (e.g. `revenue_total_rmb_bn`).
    pub name: String,
    /// First quarter index where the metric is defined (year-over-year growth needs four
    /// quarters of history, so it starts at 4).
    pub first_quarter: usize,
}

/// Quarterly metrics of the plan and counterfactual worlds, in output order.
const ECONOMICS_METRICS: [&str; 19] = [
    "revenue_total_counterfactual_rmb_bn",
    "ai_demand_rmb_bn",
    "capex_rmb_bn",
    "capex_counterfactual_rmb_bn",
    "ai_capacity_units",
    "ai_capacity_counterfactual_units",
    "ai_utilization",
    "ai_utilization_counterfactual",
    "ai_unmet_demand_rmb_bn",
    "ai_unmet_demand_counterfactual_rmb_bn",
    "depreciation_rmb_bn",
    "depreciation_counterfactual_rmb_bn",
    "ebita_rmb_bn",
    "ebita_counterfactual_rmb_bn",
    "ebita_margin",
    "ebita_margin_counterfactual",
    "fcf_rmb_bn",
    "fcf_counterfactual_rmb_bn",
    "incremental_fcf_rmb_bn",
];

/// Quarterly metrics of the investment policy (with `[investment]`), in output order,
/// after [`ECONOMICS_METRICS`].
const POLICY_METRICS: [&str; 15] = [
    "revenue_ai_counterfactual_rmb_bn",
    "ai_unmet_share",
    "ai_unmet_share_counterfactual",
    "ai_market_share",
    "ai_market_share_counterfactual",
    "ai_customer_retention",
    "ai_customer_retention_counterfactual",
    "ai_price_per_unit_rmb_bn",
    "ai_price_premium",
    "ai_price_premium_counterfactual",
    "ai_orders_units",
    "ai_orders_counterfactual_units",
    "ai_investment_gate",
    "ai_investment_gate_counterfactual",
    "ai_opex_rmb_bn",
];

/// Per-path scalars of the investment policy's calibration (with `[investment]`).
const POLICY_SCALARS: [&str; 2] = ["ai_price_to_user_cost_start", "ai_user_cost_start_rmb_bn"];

/// Per-path scalars of the plan's return, in output order (then `plan_roic_year_<k>`).
const RETURN_SCALARS: [&str; 13] = [
    "plan_npv_rmb_bn",
    "plan_npv_excl_terminal_rmb_bn",
    "plan_irr",
    "plan_irr_root_count",
    "plan_mirr",
    "plan_payback_quarters",
    "plan_discounted_payback_quarters",
    "plan_moic",
    "plan_profitability_index",
    "plan_incremental_capex_rmb_bn",
    "plan_terminal_value_pv_rmb_bn",
    "plan_terminal_growth",
    "plan_terminal_ronic",
];

/// Per-path scalars of the review rule (`valuation.review`), in output order.
const REVIEW_SCALARS: [&str; 4] = [
    "plan_flexible_npv_rmb_bn",
    "plan_flexibility_value_rmb_bn",
    "plan_review_stopped",
    "plan_review_stop_quarter",
];

/// Per-path scalars kept one f64 per path for exact quantiles, paired comparisons,
/// quantile break-evens and convergence traces; every other scalar (segment final-year
/// revenues, IRR root counts, ROIC by year, NPV given an event, ...) is summarised by
/// streaming statistics, so memory per path stays at `8 × (this many)` bytes.
pub const PER_PATH_SCALARS: [&str; 9] = [
    "revenue_total_final_year_rmb_bn",
    "revenue_total_cagr",
    "plan_npv_rmb_bn",
    "plan_irr",
    "plan_payback_quarters",
    "plan_moic",
    "plan_incremental_capex_rmb_bn",
    "plan_forward_npv_rmb_bn",
    "cloud_ev_to_trailing_sales",
];

#[derive(Clone, Debug)]
struct EconomicsModel {
    capex: CapexBlock,
    capacity: CapacityBlock,
    margins: MarginBlock,
    valuation: ValuationBlock,
    /// Whether the valuation adds a terminal value (the enterprise values follow it).
    terminal_value: bool,
    /// Reported revenue of the four quarters to the start quarter (trailing EV/Sales).
    trailing_revenue_rmb_bn: Option<f64>,
    /// Shares outstanding, bn (values per share).
    shares_outstanding_bn: Option<f64>,
    /// Whether the plan is also valued forward from the start quarter (the stopped world).
    forward_value: bool,
    /// The review rule of the flexible world, if any.
    review: Option<crate::scenario::plan::Review>,
    /// The investment policy, pricing and customers (`[investment]`); `None`: the plan
    /// world spends the plan and both worlds follow the maintenance rule otherwise.
    policy: Option<PolicyBlocks>,
}

/// The blocks of the investment-policy economics.
#[derive(Clone, Debug)]
struct PolicyBlocks {
    investment: InvestmentBlock,
    pricing: Option<PricingBlock>,
    customers: Option<CustomerBlock>,
    /// The asset classes as the gate sees them, and the compute class's index.
    classes: Vec<investment::ClassTerms>,
    compute: usize,
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
/// assert!(model.scalar_metrics().iter().any(|m| m == "plan_npv_rmb_bn"));
/// ```
#[derive(Clone, Debug)]
pub struct Model {
    seed: u64,
    start_quarter: Quarter,
    horizon_quarters: usize,
    params: ParamTable,
    revenue: RevenueBlock,
    economics: Option<EconomicsModel>,
    risk: Option<RiskBlock>,
    quarterly_metrics: Vec<QuarterlyMetric>,
    scalar_metrics: Vec<String>,
    fiscal: FiscalBlock,
    /// Index in [`Model::scalar_metrics`] of the first fiscal-year value.
    first_fiscal_scalar: usize,
}

/// A block's random streams, one per risk factor.
pub struct BlockStreams {
    params: ParamStreams,
    revenue: RevenueStreams,
    upsizing: Option<ChaCha8Rng>,
    risk: Option<RiskStreams>,
}

/// One world's quarterly series along a path (quarters 0..=H).
#[derive(Clone, Debug, Default)]
struct WorldSeries {
    revenue: Vec<f64>,
    ai_revenue: Vec<f64>,
    capex: Vec<f64>,
    capacity: Vec<f64>,
    utilization: Vec<f64>,
    unmet: Vec<f64>,
    depreciation: Vec<f64>,
    ebita: Vec<f64>,
    fcf: Vec<f64>,
    nopat: Vec<f64>,
    working_capital_change: Vec<f64>,
    /// Capex and depreciation of valuation quarters before the start quarter.
    history_capex: Vec<f64>,
    history_depreciation: Vec<f64>,
    // Investment policy only.
    unmet_share: Vec<f64>,
    market_share: Vec<f64>,
    retention: Vec<f64>,
    premium: Vec<f64>,
    price: Vec<f64>,
    orders: Vec<f64>,
    gate: Vec<f64>,
    opex: Vec<f64>,
}

impl WorldSeries {
    /// Records a quarter's capex, capacity and operating result (both economics rules).
    fn push_operating(&mut self, step: &capex::CapexStep, op: &margins::OperatingQuarter) {
        self.capex.push(step.capex_rmb_bn);
        self.capacity.push(step.compute_units);
        self.depreciation.push(step.depreciation_rmb_bn);
        self.ebita.push(op.ebita);
        self.fcf.push(op.fcf);
        self.nopat.push(op.nopat);
        self.working_capital_change.push(op.working_capital_change);
    }

    fn clear(&mut self) {
        for v in [
            &mut self.revenue,
            &mut self.ai_revenue,
            &mut self.capex,
            &mut self.capacity,
            &mut self.utilization,
            &mut self.unmet,
            &mut self.depreciation,
            &mut self.ebita,
            &mut self.fcf,
            &mut self.nopat,
            &mut self.working_capital_change,
            &mut self.history_capex,
            &mut self.history_depreciation,
            &mut self.unmet_share,
            &mut self.market_share,
            &mut self.retention,
            &mut self.premium,
            &mut self.price,
            &mut self.orders,
            &mut self.gate,
            &mut self.opex,
        ] {
            v.clear();
        }
    }
}

/// One path's draws of the economics blocks (the policy's left at their defaults without
/// `[investment]`).
#[derive(Clone, Copy, Debug, Default)]
struct EconomicsDraws {
    capacity: CapacityDraw,
    margins: MarginDraw,
    investment: InvestmentDraw,
    pricing: PricingDraw,
    customers: CustomerDraw,
}

/// Buffers one path is simulated into; reused from path to path.
#[derive(Clone, Debug, Default)]
pub struct PathWorkspace {
    segment_revenue: Vec<f64>,
    revenue_scratch: RevenueScratch,
    capex_draw: CapexDraw,
    /// The economics blocks' draws of the path, taken before its quarters are stepped.
    draws: EconomicsDraws,
    capex_state: CapexState,
    /// The capex state at the end of the shared pre-plan history.
    capex_history: CapexState,
    /// The plan, counterfactual and (with `valuation.forward_value`) stopped worlds, and
    /// (with `valuation.review`) the flexible one.
    worlds: [WorldSeries; 4],
    /// The quarter index of the review that stopped the flexible world's plan; NaN: none.
    review_stop_quarter: f64,
    valuation_draw: ValuationDraw,
    /// `[P(0)/c(0), c(0)]` of the investment policy's start calibration.
    policy_scalars: [f64; 2],
    /// The policy's per-path buffers: AI demand and other revenue by quarter, capex by class.
    policy_demand: Vec<f64>,
    policy_other: Vec<f64>,
    policy_capex_by_class: Vec<f64>,
    incremental: Incremental,
    roic: Vec<f64>,
    risk_path: RiskPath,
    /// The capex state of the paths stepped together, each vintage's paths side by side
    /// (kept by the first path's workspace of a batch, reused from batch to batch).
    capex_lanes: CapexLanes,
    /// The lanes' running capex state (depreciation, unit cost) at the end of the shared
    /// history, restored for the counterfactual world.
    capex_lanes_history: CapexLanes,
    /// As `capex_lanes` and `capex_lanes_history`, for a path stepped alone.
    capex_lane: CapexLanes<1>,
    capex_lane_history: CapexLanes<1>,
    /// Quarterly values, metric-major: `quarterly[m * quarters + t]`. Entries before a
    /// metric's `first_quarter` are NaN.
    pub quarterly: Vec<f64>,
    /// Per-path scalar values, in [`Model::scalar_metrics`] order; NaN where undefined
    /// (no unique IRR, never paid back).
    pub scalars: Vec<f64>,
    /// The fiscal years' sums of the path (scratch of the fiscal-year block).
    fiscal_sums: Vec<f64>,
}

impl Model {
    /// Precomputes the model of a validated scenario.
    pub fn new(scenario: &Scenario) -> Self {
        let assumptions = scenario.assumptions();
        let seed = scenario.simulation().seed;
        let mut params = ParamTable::new(seed);
        let revenue = RevenueBlock::new(assumptions, seed, &mut params);
        let horizon_quarters = assumptions.time.horizon_quarters as usize;
        let economics = assumptions.economics.as_ref().map(|e| {
            let segment = revenue
                .segment_names()
                .iter()
                .position(|s| *s == e.capacity.segment)
                .expect("validated");
            let capex = CapexBlock::new(
                e,
                assumptions.time.start_quarter,
                horizon_quarters as u32,
                seed,
                &mut params,
            );
            let (classes, compute) = capex.classes();
            let classes = classes
                .into_iter()
                .map(|(share, life, lag)| investment::ClassTerms { share, life, lag })
                .collect();
            EconomicsModel {
                capex,
                capacity: CapacityBlock::new(&e.capacity, segment, &mut params),
                margins: MarginBlock::new(&e.costs, &mut params),
                valuation: ValuationBlock::new(&e.valuation, &mut params),
                terminal_value: e.valuation.terminal_value,
                trailing_revenue_rmb_bn: e.valuation.trailing_revenue_rmb_bn,
                shares_outstanding_bn: e.valuation.shares_outstanding_bn,
                forward_value: e.valuation.forward_value,
                review: e.valuation.review,
                policy: e.investment.as_ref().map(|investment| PolicyBlocks {
                    investment: InvestmentBlock::new(investment, &mut params),
                    pricing: e
                        .pricing
                        .as_ref()
                        .map(|p| PricingBlock::new(p, &mut params)),
                    customers: e
                        .customers
                        .as_ref()
                        .map(|c| CustomerBlock::new(c, &mut params)),
                    classes,
                    compute,
                }),
            }
        });

        let risk = assumptions.risk.as_ref().map(|r| {
            RiskBlock::new(
                r,
                revenue.segment_names(),
                seed,
                &mut params,
                horizon_quarters + 1,
            )
        });
        if let Some(correlation) = &assumptions.assumption_correlation {
            params.correlate(correlation);
        }

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
        if let Some(e) = &economics {
            quarterly_metrics.extend(ECONOMICS_METRICS.iter().map(|name| QuarterlyMetric {
                name: name.to_string(),
                first_quarter: 0,
            }));
            scalar_metrics.extend(RETURN_SCALARS.iter().map(|s| s.to_string()));
            scalar_metrics
                .extend((1..=horizon_quarters / 4).map(|k| format!("plan_roic_year_{k}")));
            scalar_metrics
                .extend(enterprise_value_scalars(e, horizon_quarters).map(str::to_string));
            if e.forward_value {
                scalar_metrics.extend(forward_value_scalars(e).map(str::to_string));
            }
            if e.review.is_some() {
                scalar_metrics.extend(REVIEW_SCALARS.iter().map(|s| s.to_string()));
            }
        }
        if economics.as_ref().is_some_and(|e| e.policy.is_some()) {
            quarterly_metrics.extend(POLICY_METRICS.iter().map(|name| QuarterlyMetric {
                name: name.to_string(),
                first_quarter: 0,
            }));
            scalar_metrics.extend(POLICY_SCALARS.iter().map(|s| s.to_string()));
        }
        if let Some(r) = &risk {
            let metric = |name: String| QuarterlyMetric {
                name,
                first_quarter: 0,
            };
            quarterly_metrics.extend(
                r.regime_names
                    .iter()
                    .map(|n| metric(format!("regime_{n}_probability"))),
            );
            for e in &r.event_names {
                quarterly_metrics.push(metric(format!("event_{e}_fired_share")));
                quarterly_metrics.push(metric(format!("event_{e}_firings")));
            }
            if economics.is_some() {
                for e in &r.event_names {
                    scalar_metrics.push(format!("plan_npv_given_{e}_fired_rmb_bn"));
                    scalar_metrics.push(format!("plan_npv_given_{e}_not_fired_rmb_bn"));
                }
            }
        }

        let row_names: Vec<String> = quarterly_metrics.iter().map(|m| m.name.clone()).collect();
        let fiscal = FiscalBlock::new(
            assumptions.time.start_quarter,
            horizon_quarters + 1,
            segments,
            &Rows { names: &row_names },
            economics.as_ref().map(|e| e.capacity.segment),
        );
        let first_fiscal_scalar = scalar_metrics.len();
        scalar_metrics.extend(
            fiscal
                .metrics()
                .iter()
                .map(|m| format!("fiscal_fy{}_{}_{}", m.fiscal_year, m.world, m.metric)),
        );

        Self {
            seed,
            start_quarter: assumptions.time.start_quarter,
            horizon_quarters,
            params,
            revenue,
            economics,
            risk,
            quarterly_metrics,
            scalar_metrics,
            fiscal,
            first_fiscal_scalar,
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

    /// Per-path scalar metrics, in output order: the summary's, then the fiscal-year values
    /// (from [`Model::first_fiscal_scalar`] on, one per [`Model::fiscal_metrics`] entry).
    pub fn scalar_metrics(&self) -> &[String] {
        &self.scalar_metrics
    }

    /// The per-path fiscal-year values, in the order they follow the summary's scalars:
    /// by fiscal year, world, then metric (docs/model.md, "Fiscal years").
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::{model::Model, Scenario};
    /// let model = Model::new(&Scenario::default_scenario());
    /// let first = &model.fiscal_metrics()[0];
    /// assert_eq!((first.fiscal_year, first.world, first.metric.as_str()), (2027, "plan", "revenue_total_rmb_bn"));
    /// assert_eq!(model.scalar_metrics().len() - model.first_fiscal_scalar(), model.fiscal_metrics().len());
    /// ```
    pub fn fiscal_metrics(&self) -> &[FiscalMetric] {
        self.fiscal.metrics()
    }

    /// Index in [`Model::scalar_metrics`] of the first fiscal-year value.
    pub fn first_fiscal_scalar(&self) -> usize {
        self.first_fiscal_scalar
    }

    /// Whether scalar metric `k` is kept per path (one of [`PER_PATH_SCALARS`]) rather
    /// than summarised by streaming statistics.
    pub fn scalar_kept_per_path(&self, k: usize) -> bool {
        PER_PATH_SCALARS.contains(&self.scalar_metrics[k].as_str())
    }

    /// Key paths of the assumptions drawn per path.
    pub fn uncertain_assumptions(&self) -> Vec<String> {
        self.params.keys().map(str::to_string).collect()
    }

    /// The per-path drivers of paths `0..paths`: every assumption drawn once per path
    /// (column named by its key path), each regime's share of the projected quarters
    /// (`risk.regime_share.<regime>`), and each event's firing count and first projected
    /// quarter index (`risk.events.<event>.firings`, `.first_quarter_index`, empty when it
    /// never fired): the run's own values, replayed from the same streams.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::{Scenario, model::Model};
    /// let model = Model::new(&Scenario::default_scenario());
    /// let (names, rows) = model.path_drivers(5);
    /// assert_eq!(rows.len(), 5);
    /// assert!(names.iter().any(|n| n == "risk.regime_share.calm"));
    /// ```
    pub fn path_drivers(&self, paths: u64) -> (Vec<String>, Vec<Vec<f64>>) {
        let mut names = self.per_path_assumptions();
        let mut rows = self.parameter_draws(paths);
        let Some(risk) = &self.risk else {
            return (names, rows);
        };
        names.extend(
            risk.regime_names
                .iter()
                .map(|r| format!("risk.regime_share.{r}")),
        );
        for e in &risk.event_names {
            names.push(format!("risk.events.{e}.firings"));
            names.push(format!("risk.events.{e}.first_quarter_index"));
        }
        let quarters = self.quarters();
        let block_size = BLOCK_SIZE;
        let mut path = RiskPath::default();
        let mut p = 0usize;
        for block in 0..paths.div_ceil(block_size) {
            // As in `simulate_path`: the copula's draws, then the risk path (which draws
            // the severities of the events that fire).
            let mut params = self.params.streams(block);
            let mut streams = risk.streams(block);
            for _ in 0..block_size.min(paths - block * block_size) {
                params.begin_path();
                risk.simulate(&mut params, &mut streams, quarters, &mut path);
                let projected = (quarters - 1).max(1) as f64;
                for r in 0..risk.regime_names.len() {
                    let share = path.regime[1..].iter().filter(|&&x| x == r).count() as f64;
                    rows[p].push(share / projected);
                }
                for e in 0..risk.event_names.len() {
                    let firings = &path.firings[e * quarters..(e + 1) * quarters];
                    rows[p].push(f64::from(firings[quarters - 1]));
                    rows[p].push(
                        firings
                            .iter()
                            .position(|&c| c > 0)
                            .map_or(f64::NAN, |t| t as f64),
                    );
                }
                p += 1;
            }
        }
        (names, rows)
    }

    /// The worlds each path is simulated in, in order: the plan's first (the others read its
    /// revenue), then the counterfactual, then the stopped world when the plan is also
    /// valued forward, then the flexible world of a review rule.
    fn worlds(&self) -> &'static [World] {
        use World::*;
        match &self.economics {
            Some(e) => match (e.forward_value, e.review.is_some()) {
                (true, true) => &[Plan, Counterfactual, Stopped, Flexible],
                (true, false) => &[Plan, Counterfactual, Stopped],
                (false, true) => &[Plan, Counterfactual, Flexible],
                (false, false) => &[Plan, Counterfactual],
            },
            None => &[Plan, Counterfactual],
        }
    }

    /// Key paths of the uncertain assumptions drawn once per path (every uncertain
    /// assumption but event severities, which are drawn at each firing).
    pub fn per_path_assumptions(&self) -> Vec<String> {
        self.params.per_path().map(|(_, k)| k.to_string()).collect()
    }

    /// Each path's draw of every uncertain assumption drawn once per path (columns in
    /// [`Model::per_path_assumptions`] order), for paths `0..paths`: the values the run
    /// uses, correlations (`[correlation]`) included, since each assumption has its own
    /// stream and is drawn once per path.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::{Scenario, model::Model};
    /// let model = Model::new(&Scenario::default_scenario());
    /// let draws = model.parameter_draws(10);
    /// assert_eq!(draws.len(), 10);
    /// assert_eq!(draws[0].len(), model.per_path_assumptions().len());
    /// ```
    pub fn parameter_draws(&self, paths: u64) -> Vec<Vec<f64>> {
        let block_size = BLOCK_SIZE;
        let columns: Vec<usize> = self.params.per_path().map(|(i, _)| i).collect();
        let mut rows = Vec::with_capacity(paths as usize);
        for block in 0..paths.div_ceil(block_size) {
            let mut streams = self.params.streams(block);
            for _ in 0..block_size.min(paths - block * block_size) {
                streams.begin_path();
                rows.push(
                    columns
                        .iter()
                        .map(|&i| streams.draw(&params::ParamSlot::Random(i)))
                        .collect(),
                );
            }
        }
        rows
    }

    /// The assumptions drawn per path with their distributions, in draw order.
    pub fn uncertain_distributions(&self) -> Vec<(String, crate::Distribution)> {
        self.params
            .distributions()
            .map(|(k, d)| (k.to_string(), d.clone()))
            .collect()
    }

    /// Master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Standard normal variates one path consumes (the draw floor of the speed benchmark).
    pub fn normals_per_path(&self) -> usize {
        self.revenue.normals_per_path()
    }

    /// The physical floor of one path: draws the random numbers a path consumes, from the
    /// same streams, and nothing else: the revenue shocks' standard normals, one draw of
    /// every uncertain assumption, the regime and event uniforms of every quarter and the
    /// upsizing uniform (event severities, drawn only when an event fires, are left out).
    /// Returns their sum so the work cannot be optimized away. For benchmarks.
    pub fn draw_floor_path(&self, streams: &mut BlockStreams) -> f64 {
        use rand::RngExt;
        let mut sum = streams.revenue.draw_only(self.horizon_quarters);
        sum += streams.params.draw_each_once();
        if let (Some(r), Some(risk_streams)) = (&self.risk, streams.risk.as_mut()) {
            sum += r.draw_only(risk_streams, self.quarters());
        }
        if let Some(upsizing) = streams.upsizing.as_mut() {
            sum += upsizing.random::<f64>();
        }
        sum
    }

    /// The random streams of block `block_index`.
    pub fn block_streams(&self, block_index: u64) -> BlockStreams {
        self.block_streams_with(block_index, false)
    }

    /// The random streams of block `block_index`; with `antithetic`, paths come in pairs
    /// whose revenue shocks are the same normals with opposite signs.
    pub fn block_streams_with(&self, block_index: u64, antithetic: bool) -> BlockStreams {
        BlockStreams {
            params: self.params.streams(block_index),
            revenue: self.revenue.streams(block_index, antithetic),
            upsizing: self
                .economics
                .as_ref()
                .map(|e| e.capex.streams(block_index)),
            risk: self.risk.as_ref().map(|r| r.streams(block_index)),
        }
    }

    /// Simulates the next path of a block into `workspace`.
    pub fn simulate_path(&self, streams: &mut BlockStreams, workspace: &mut PathWorkspace) {
        self.simulate_paths(streams, std::slice::from_mut(workspace));
    }

    /// Simulates the next `paths.len()` paths of a block, one into each workspace: the
    /// same values, bit for bit, as as many [`Model::simulate_path`] calls. Each path draws
    /// its random numbers in turn; then, world by world, the paths are stepped together
    /// quarter by quarter, each vintage holding the paths' capex side by side so the
    /// vintage book-keeping runs over all of them at once (under `[investment]`; without
    /// it, the worlds are stepped one path at a time).
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::{model::{Model, PathWorkspace}, Scenario};
    /// let model = Model::new(&Scenario::default_scenario());
    /// let mut streams = model.block_streams(0);
    /// let mut batch = vec![PathWorkspace::default(); 8];
    /// model.simulate_paths(&mut streams, &mut batch);
    /// let mut streams = model.block_streams(0);
    /// let mut one = PathWorkspace::default();
    /// for path in &batch {
    ///     model.simulate_path(&mut streams, &mut one);
    ///     assert_eq!(one.quarterly.len(), path.quarterly.len());
    ///     assert!(one.scalars.iter().zip(&path.scalars).all(|(a, b)| a.to_bits() == b.to_bits()));
    /// }
    /// ```
    pub fn simulate_paths(&self, streams: &mut BlockStreams, paths: &mut [PathWorkspace]) {
        for workspace in paths.iter_mut() {
            self.draw_path(streams, workspace);
        }
        if let Some(e) = &self.economics {
            match &e.policy {
                Some(policy) => self.simulate_policy_economics(e, policy, paths),
                None => {
                    for workspace in paths.iter_mut() {
                        self.simulate_economics(e, workspace);
                    }
                }
            }
        }
        for workspace in paths.iter_mut() {
            self.finish_path(workspace);
        }
    }

    /// A path's random draws, in the order of its streams: the copula, the risk path, the
    /// revenue path, then the economics blocks' assumptions.
    fn draw_path(&self, streams: &mut BlockStreams, workspace: &mut PathWorkspace) {
        streams.params.begin_path();
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        workspace.segment_revenue.resize(segments * quarters, 0.0);
        if let (Some(r), Some(risk_streams)) = (&self.risk, streams.risk.as_mut()) {
            r.simulate(
                &mut streams.params,
                risk_streams,
                quarters,
                &mut workspace.risk_path,
            );
        }
        self.revenue.simulate(
            &mut streams.params,
            &mut streams.revenue,
            &mut workspace.revenue_scratch,
            self.risk.as_ref().map(|_| &workspace.risk_path),
            &mut workspace.segment_revenue,
        );
        let Some(e) = &self.economics else {
            return;
        };
        let params = &mut streams.params;
        workspace.valuation_draw = e.valuation.draw(params);
        let upsizing = streams
            .upsizing
            .as_mut()
            .expect("plan scenarios have an upsizing stream");
        e.capex.draw(params, upsizing, &mut workspace.capex_draw);
        let capacity = e.capacity.draw(params);
        let margins = e.margins.draw(params);
        workspace.draws = match &e.policy {
            Some(policy) => EconomicsDraws {
                capacity,
                margins,
                investment: policy.investment.draw(params),
                pricing: policy
                    .pricing
                    .as_ref()
                    .map_or_else(PricingDraw::none, |p| p.draw(params)),
                customers: policy
                    .customers
                    .as_ref()
                    .map_or(CustomerDraw::default(), |c| c.draw(params)),
            },
            None => EconomicsDraws {
                capacity,
                margins,
                ..EconomicsDraws::default()
            },
        };
    }

    /// The path's quarterly values and scalars, once its economics are stepped.
    fn finish_path(&self, workspace: &mut PathWorkspace) {
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        workspace.quarterly.clear();
        workspace
            .quarterly
            .resize(self.quarterly_metrics.len() * quarters, f64::NAN);
        workspace.scalars.clear();

        let levels = segments + 1;
        // Revenue levels: the model's segment paths, with the capacity-constrained segment
        // replaced by its realized revenue when there is a plan.
        workspace.quarterly[quarters..levels * quarters]
            .copy_from_slice(&workspace.segment_revenue);
        if let Some(e) = &self.economics {
            let realized = &workspace.worlds[0].ai_revenue;
            let row = (1 + e.capacity.segment) * quarters;
            workspace.quarterly[row..row + quarters].copy_from_slice(realized);
        }
        let (level_values, rest) = workspace.quarterly.split_at_mut(levels * quarters);
        let (total, by_segment) = level_values.split_at_mut(quarters);
        total.fill(0.0);
        for s in 0..segments {
            for t in 0..quarters {
                total[t] += by_segment[s * quarters + t];
            }
        }
        let growth_values = &mut rest[..levels * quarters];
        for m in 0..levels {
            let level = &level_values[m * quarters..(m + 1) * quarters];
            let growth = &mut growth_values[m * quarters..(m + 1) * quarters];
            for t in 4..quarters {
                // A segment can shut down (AI capacity not replaced at a loss): growth from
                // a zero level is reported as 0, not infinity.
                growth[t] = if level[t - 4] > 0.0 {
                    level[t] / level[t - 4] - 1.0
                } else {
                    0.0
                };
            }
        }

        // Revenue scalars.
        let scalars = &mut workspace.scalars;
        let total = &level_values[..quarters];
        if self.horizon_quarters >= 4 {
            for m in 0..levels {
                let level = &level_values[m * quarters..(m + 1) * quarters];
                scalars.push(level[quarters - 4..].iter().sum());
            }
        }
        let h = self.horizon_quarters as f64;
        scalars.push((total[quarters - 1] / total[0]).powf(4.0 / h) - 1.0);
        scalars.push(total[1..].iter().sum());

        if let Some(e) = &self.economics {
            self.write_economics(e, workspace);
        }
        if let Some(r) = &self.risk {
            self.write_risk(r, workspace);
        }
        let counterfactual_ai: &[f64] = if self.economics.is_some() {
            &workspace.worlds[1].ai_revenue
        } else {
            &[]
        };
        self.fiscal.values(
            &workspace.quarterly,
            quarters,
            counterfactual_ai,
            &mut workspace.fiscal_sums,
            &mut workspace.scalars,
        );
    }

    /// Regime indicators, event firings and NPV conditional on each event.
    fn write_risk(&self, r: &RiskBlock, ws: &mut PathWorkspace) {
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        let economics_rows = match &self.economics {
            Some(e) if e.policy.is_some() => ECONOMICS_METRICS.len() + POLICY_METRICS.len(),
            Some(_) => ECONOMICS_METRICS.len(),
            None => 0,
        };
        let mut row = 2 * (segments + 1) + economics_rows;
        let path = &ws.risk_path;
        for k in 0..r.regime_names.len() {
            for t in 0..quarters {
                ws.quarterly[row * quarters + t] = f64::from(u8::from(path.regime[t] == k));
            }
            row += 1;
        }
        for e in 0..r.event_names.len() {
            for t in 0..quarters {
                let firings = path.firings[e * quarters + t];
                ws.quarterly[row * quarters + t] = f64::from(u8::from(firings > 0));
                ws.quarterly[(row + 1) * quarters + t] = f64::from(firings);
            }
            row += 2;
        }
        if let Some(econ) = &self.economics {
            let npv = ws.scalars[self
                .scalar_metrics
                .iter()
                .position(|m| m == "plan_npv_rmb_bn")
                .expect("present")];
            let by = econ
                .capex
                .plan_last_quarter()
                .clamp(0, self.horizon_quarters as i64) as usize;
            for e in 0..r.event_names.len() {
                let fired = path.firings[e * quarters + by] > 0;
                ws.scalars.push(if fired { npv } else { f64::NAN });
                ws.scalars.push(if fired { f64::NAN } else { npv });
            }
        }
    }

    /// Both worlds of one path under the plan-and-maintenance rule (no `[investment]`).
    fn simulate_economics(&self, e: &EconomicsModel, ws: &mut PathWorkspace) {
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        let mut capacity: CapacityDraw = ws.draws.capacity;
        let mut margins: MarginDraw = ws.draws.margins;

        let ai = e.capacity.segment;
        let reported_start_total: f64 = (0..segments)
            .map(|s| ws.segment_revenue[s * quarters])
            .sum();
        let reported_start_ai = ws.segment_revenue[ai * quarters];
        let valuation_first = e.capex.valuation_first_quarter();

        step_shared_history(e, reported_start_total, ws);
        // The plan world's revenue by quarter: overheads follow it in both worlds. Copied
        // only when they do (an elasticity is given), so the older rule allocates nothing.
        let mut business_revenue: Vec<f64> = Vec::new();
        for &world in self.worlds() {
            let w = world as usize;
            if w > 0
                && business_revenue.is_empty()
                && margins.fixed_cost_revenue_elasticity.is_some()
            {
                business_revenue.extend_from_slice(&ws.worlds[0].revenue);
            }
            let series = &mut ws.worlds[w];
            series.clear();
            if w > 0 {
                ws.capex_state.clone_from(&ws.capex_history);
            }
            let mut previous_revenue = reported_start_total;
            for t in valuation_first..=self.horizon_quarters as i64 {
                let factors = match (&self.risk, t > 0) {
                    (Some(_), true) => CapexFactors {
                        unit_cost: ws.risk_path.unit_cost_factor[t as usize],
                        capacity: ws.risk_path.capacity_factor[t as usize],
                        plan_size: ws.risk_path.plan_size_factor[t as usize],
                    },
                    _ => CapexFactors::default(),
                };
                let step = e.capex.step(
                    world,
                    t,
                    &ws.capex_draw,
                    previous_revenue,
                    factors,
                    &mut ws.capex_state,
                );
                if t < 0 {
                    if t >= valuation_first {
                        series.history_capex.push(step.capex_rmb_bn);
                        series.history_depreciation.push(step.depreciation_rmb_bn);
                    }
                    continue;
                }
                let ti = t as usize;
                if t == 0 && world == World::Plan {
                    // Calibrate on the plan world's start quarter: it reports the actuals.
                    capacity.calibrate(reported_start_ai, step.compute_units);
                    margins.calibrate(&QuarterInputs {
                        other_revenue: reported_start_total - reported_start_ai,
                        ai_revenue: reported_start_ai,
                        compute_book_value: step.compute_book_value_rmb_bn,
                        book_value: step.book_value_rmb_bn,
                        depreciation: step.depreciation_rmb_bn,
                        capex: step.capex_rmb_bn,
                    });
                }
                let demand = ws.segment_revenue[ai * quarters + ti] * capacity.demand_scale;
                let price_factor = if self.risk.is_some() {
                    ws.risk_path.price_factor[ti]
                } else {
                    1.0
                };
                let ai_quarter = capacity.realize(t, demand, step.compute_units, price_factor);
                let other: f64 = (0..segments)
                    .filter(|s| *s != ai)
                    .map(|s| ws.segment_revenue[s * quarters + ti])
                    .sum();
                let revenue = other + ai_quarter.realized_rmb_bn;
                let prior = (t > 0).then_some(previous_revenue);
                let op = margins.operate(
                    t,
                    &QuarterInputs {
                        other_revenue: other,
                        ai_revenue: ai_quarter.realized_rmb_bn,
                        compute_book_value: step.compute_book_value_rmb_bn,
                        book_value: step.book_value_rmb_bn,
                        depreciation: step.depreciation_rmb_bn,
                        capex: step.capex_rmb_bn,
                    },
                    prior,
                    business_revenue.get(ti).copied().unwrap_or(revenue) / reported_start_total,
                );
                series.revenue.push(revenue);
                series.ai_revenue.push(ai_quarter.realized_rmb_bn);
                series.utilization.push(ai_quarter.utilization);
                series.unmet.push(ai_quarter.unmet_demand_rmb_bn);
                series.push_operating(&step, &op);
                previous_revenue = revenue;
            }
        }
    }

    /// Writes the economics metrics and the plan's return scalars of one path.
    fn write_economics(&self, e: &EconomicsModel, ws: &mut PathWorkspace) {
        let quarters = self.quarters();
        let segments = self.revenue.segment_names().len();
        let base = 2 * (segments + 1) * quarters;
        let [plan, counterfactual, ..] = &ws.worlds;
        let margin = |w: &WorldSeries, t: usize| w.ebita[t] / w.revenue[t];
        for t in 0..quarters {
            let values = [
                counterfactual.revenue[t],
                plan.ai_revenue[t] + plan.unmet[t],
                plan.capex[t],
                counterfactual.capex[t],
                plan.capacity[t],
                counterfactual.capacity[t],
                plan.utilization[t],
                counterfactual.utilization[t],
                plan.unmet[t],
                counterfactual.unmet[t],
                plan.depreciation[t],
                counterfactual.depreciation[t],
                plan.ebita[t],
                counterfactual.ebita[t],
                margin(plan, t),
                margin(counterfactual, t),
                plan.fcf[t],
                counterfactual.fcf[t],
                plan.fcf[t] - counterfactual.fcf[t],
            ];
            for (m, v) in values.into_iter().enumerate() {
                ws.quarterly[base + m * quarters + t] = v;
            }
        }
        if e.policy.is_some() {
            let base = base + ECONOMICS_METRICS.len() * quarters;
            for t in 0..quarters {
                let values = [
                    counterfactual.ai_revenue[t],
                    plan.unmet_share[t],
                    counterfactual.unmet_share[t],
                    plan.market_share[t],
                    counterfactual.market_share[t],
                    plan.retention[t],
                    counterfactual.retention[t],
                    plan.price[t],
                    plan.premium[t],
                    counterfactual.premium[t],
                    plan.orders[t],
                    counterfactual.orders[t],
                    plan.gate[t],
                    counterfactual.gate[t],
                    plan.opex[t],
                ];
                for (m, v) in values.into_iter().enumerate() {
                    ws.quarterly[base + m * quarters + t] = v;
                }
            }
        }

        // Incremental series over the valuation quarters: history (capex only) then 0..=H.
        let spread = self.discount_spread(&ws.risk_path);
        let inc = &mut ws.incremental;
        fill_incremental(inc, plan, counterfactual, true, spread);
        let result = e.valuation.evaluate(ws.valuation_draw, inc, &mut ws.roic);
        ws.scalars.extend([
            result.npv_rmb_bn,
            result.npv_excl_terminal_rmb_bn,
            result.irr_annual,
            result.irr_roots,
            result.mirr_annual,
            result.payback_quarters,
            result.discounted_payback_quarters,
            result.moic,
            result.profitability_index,
            result.incremental_capex_rmb_bn,
            result.terminal_value_pv_rmb_bn,
            result.terminal_growth_annual,
            result.terminal_ronic_annual,
        ]);
        ws.scalars.extend(ws.roic.iter().copied());
        self.write_enterprise_values(e, ws, result.npv_rmb_bn);
        if e.forward_value {
            self.write_forward_values(e, ws);
        }
        if e.review.is_some() {
            self.write_review_values(e, ws, result.npv_rmb_bn);
        }
        if e.policy.is_some() {
            ws.scalars.extend(ws.policy_scalars);
        }
    }
}

/// Fills `inc` with world `a` minus world `b`: first the valuation quarters before the start
/// quarter (capex only: their revenue is not simulated) when `with_history`, then the
/// quarters `0..=H`, each with its discount spread (`spread`, none without risk).
fn fill_incremental(
    inc: &mut Incremental,
    a: &WorldSeries,
    b: &WorldSeries,
    with_history: bool,
    spread: Option<&[f64]>,
) {
    for v in [
        &mut inc.fcf,
        &mut inc.capex,
        &mut inc.nopat,
        &mut inc.depreciation,
        &mut inc.working_capital_change,
        &mut inc.discount_spread,
    ] {
        v.clear();
    }
    if with_history {
        for (j, (ac, bc)) in a.history_capex.iter().zip(&b.history_capex).enumerate() {
            inc.capex.push(ac - bc);
            inc.fcf.push(-(ac - bc));
            inc.nopat.push(0.0);
            inc.depreciation
                .push(a.history_depreciation[j] - b.history_depreciation[j]);
            inc.working_capital_change.push(0.0);
            inc.discount_spread.push(0.0);
        }
    }
    inc.start_index = inc.fcf.len();
    for t in 0..a.fcf.len() {
        inc.capex.push(a.capex[t] - b.capex[t]);
        inc.fcf.push(a.fcf[t] - b.fcf[t]);
        inc.nopat.push(a.nopat[t] - b.nopat[t]);
        inc.depreciation.push(a.depreciation[t] - b.depreciation[t]);
        inc.working_capital_change
            .push(a.working_capital_change[t] - b.working_capital_change[t]);
        inc.discount_spread.push(spread.map_or(0.0, |s| s[t]));
    }
}

/// The forward-value scalars (`valuation.forward_value`), in output order.
fn forward_value_scalars(e: &EconomicsModel) -> impl Iterator<Item = &'static str> {
    let shares = e.shares_outstanding_bn.is_some();
    [
        ("plan_forward_npv_rmb_bn", true),
        ("plan_forward_irr", true),
        ("plan_forward_profitability_index", true),
        ("plan_forward_incremental_capex_rmb_bn", true),
        ("plan_stop_now_npv_rmb_bn", true),
        ("plan_forward_npv_per_share_rmb", shares),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
}

/// The enterprise-value scalars of a model with economics, in output order.
fn enterprise_value_scalars(
    e: &EconomicsModel,
    horizon_quarters: usize,
) -> impl Iterator<Item = &'static str> {
    let forward = horizon_quarters >= 4;
    let trailing = e.trailing_revenue_rmb_bn.is_some();
    let shares = e.shares_outstanding_bn.is_some();
    [
        ("cloud_ev_rmb_bn", true),
        ("cloud_ev_counterfactual_rmb_bn", true),
        ("cloud_ev_to_trailing_sales", trailing),
        ("cloud_ev_to_trailing_sales_counterfactual", trailing),
        ("cloud_ev_to_forward_sales", forward),
        ("cloud_ev_to_forward_sales_counterfactual", forward),
        ("plan_npv_per_share_rmb", shares),
        ("cloud_ev_per_share_rmb", shares),
    ]
    .into_iter()
    .filter_map(|(name, present)| present.then_some(name))
}

impl Model {
    /// The path's discount spreads by quarter (regimes and events), or none without risk.
    fn discount_spread<'a>(&self, risk_path: &'a RiskPath) -> Option<&'a [f64]> {
        self.risk
            .as_ref()
            .map(|_| risk_path.discount_spread.as_slice())
    }

    /// The plan as the review rule runs it (docs/model.md, "The option to stop at
    /// reviews"): the flexible world against the counterfactual, valued as the plan is, and
    /// its difference from the committed plan's NPV `plan_npv` on the same path.
    fn write_review_values(&self, e: &EconomicsModel, ws: &mut PathWorkspace, plan_npv: f64) {
        let spread = self.discount_spread(&ws.risk_path);
        let [_, counterfactual, _, flexible] = &ws.worlds;
        fill_incremental(&mut ws.incremental, flexible, counterfactual, true, spread);
        let flexible = e
            .valuation
            .evaluate(ws.valuation_draw, &mut ws.incremental, &mut ws.roic);
        ws.scalars.extend([
            flexible.npv_rmb_bn,
            flexible.npv_rmb_bn - plan_npv,
            f64::from(u8::from(!ws.review_stop_quarter.is_nan())),
            ws.review_stop_quarter,
        ]);
    }

    /// The plan valued forward from the start quarter (docs/model.md, "The decision as of
    /// the start quarter"): continuing against stopping there, the increment of the plan
    /// world over the stopped world valued at the start quarter with the spend before it
    /// sunk; and what stopping there is worth against never having planned, valued as the
    /// plan is (at its first quarter).
    fn write_forward_values(&self, e: &EconomicsModel, ws: &mut PathWorkspace) {
        let spread = self.discount_spread(&ws.risk_path);
        let [plan, counterfactual, stopped, _] = &ws.worlds;
        fill_incremental(&mut ws.incremental, plan, stopped, false, spread);
        let forward = e
            .valuation
            .evaluate(ws.valuation_draw, &mut ws.incremental, &mut ws.roic);
        fill_incremental(&mut ws.incremental, stopped, counterfactual, true, spread);
        let stop_now = e
            .valuation
            .evaluate(ws.valuation_draw, &mut ws.incremental, &mut ws.roic);
        ws.scalars.extend([
            forward.npv_rmb_bn,
            forward.irr_annual,
            forward.profitability_index,
            forward.incremental_capex_rmb_bn,
            stop_now.npv_rmb_bn,
        ]);
        if let Some(shares) = e.shares_outstanding_bn {
            ws.scalars.push(forward.npv_rmb_bn / shares);
        }
    }

    /// Each world's enterprise value at the end of the start quarter, its EV/Sales, and the
    /// values per share (docs/model.md, "Enterprise value of the cloud business").
    fn write_enterprise_values(&self, e: &EconomicsModel, ws: &mut PathWorkspace, npv: f64) {
        let spread = self.discount_spread(&ws.risk_path);
        let [plan, counterfactual, ..] = &ws.worlds;
        let value = |w: &WorldSeries| {
            valuation::enterprise_value(
                &ws.valuation_draw,
                e.terminal_value,
                &WorldFlows {
                    fcf: &w.fcf,
                    nopat: &w.nopat,
                    discount_spread: spread,
                },
            )
        };
        let (plan_value, counterfactual_value) = (value(plan), value(counterfactual));
        ws.scalars.extend([plan_value, counterfactual_value]);
        if let Some(trailing) = e.trailing_revenue_rmb_bn {
            ws.scalars
                .extend([plan_value / trailing, counterfactual_value / trailing]);
        }
        if self.horizon_quarters >= 4 {
            // The four quarters after the start quarter as the outputs report them (the
            // plan world's total is the first quarterly row), summed in quarter order.
            let forward = |w: &[f64]| w[1..5].iter().sum::<f64>();
            ws.scalars.extend([
                plan_value / forward(&ws.quarterly),
                counterfactual_value / forward(&counterfactual.revenue),
            ]);
        }
        if let Some(shares) = e.shares_outstanding_bn {
            ws.scalars.extend([npv / shares, plan_value / shares]);
        }
    }
}

/// Steps the quarters before the valuation starts, pre-plan history the same in both
/// worlds (legacy capex, no events), once; each world then starts from `capex_history`.
fn step_shared_history(e: &EconomicsModel, reported_start_total: f64, ws: &mut PathWorkspace) {
    e.capex.begin(&ws.capex_draw, &mut ws.capex_state);
    for t in e.capex.first_quarter()..e.capex.valuation_first_quarter() {
        e.capex.step(
            World::Plan,
            t,
            &ws.capex_draw,
            reported_start_total,
            CapexFactors::default(),
            &mut ws.capex_state,
        );
    }
    ws.capex_history.clone_from(&ws.capex_state);
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
            "revenue.segments.core.initial_growth=0.20",
            "risk.enabled=false",
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

        // Core (not capacity-constrained): start 28.429 in 2026Q1 (q1 factor 0.938),
        // g0 = 0.20, gT = 0.04, half-life 8.
        let seasonal = [0.938, 0.958, 1.048, 1.056];
        let (g0, gt, h) = (0.20f64, 0.04f64, 8.0f64);
        let mut log_level = (28.429f64 / seasonal[0]).ln();
        let ai_metric = model
            .quarterly_metrics
            .iter()
            .position(|m| m.name == "revenue_core_rmb_bn")
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

    /// A path's numbers do not depend on the paths simulated before it in the same
    /// workspace: each path of a block, simulated in the block's reused workspace, equals
    /// the same path simulated in a fresh one. (A series left uncleared once made every
    /// path discount with the regime spreads of its block's first path.)
    #[test]
    fn a_reused_workspace_leaks_nothing_between_paths() {
        // Regimes with large, different discount spreads, so a leak shows in the NPV.
        let model = Model::new(&scenario(&[
            "risk.regimes.tension.discount_spread=0.05",
            "risk.regimes.crisis.discount_spread=0.15",
        ]));
        let paths = 24;
        let mut streams = model.block_streams(3);
        let mut reused = PathWorkspace::default();
        let mut in_block = Vec::new();
        for _ in 0..paths {
            model.simulate_path(&mut streams, &mut reused);
            in_block.push((reused.quarterly.clone(), reused.scalars.clone()));
        }
        let mut streams = model.block_streams(3);
        let mut spreads_seen = std::collections::BTreeSet::new();
        for (k, (quarterly, scalars)) in in_block.iter().enumerate() {
            let mut fresh = PathWorkspace::default();
            model.simulate_path(&mut streams, &mut fresh);
            let same = |a: &[f64], b: &[f64]| {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            };
            assert!(
                same(quarterly, &fresh.quarterly),
                "path {k}: quarterly values differ"
            );
            assert!(same(scalars, &fresh.scalars), "path {k}: scalars differ");
            let spread_sum: f64 = fresh.incremental.discount_spread.iter().sum();
            spreads_seen.insert(spread_sum.to_bits());
        }
        assert!(
            spreads_seen.len() > 1,
            "the paths should see different regime spreads"
        );
    }

    /// Paths stepped together equal the same paths stepped one by one, to the bit, in
    /// batches smaller than, equal to and larger than the lanes: every scenario file, with
    /// antithetic pairs, with a correlated copula, and at the vintages' edge cases.
    #[test]
    fn paths_stepped_together_equal_paths_alone() {
        let base = std::fs::read_to_string("scenarios/base.toml").unwrap();
        let copula = format!(
            "{base}\n[correlation.\"capacity.hardware_cost_decline\"]\n\
             \"valuation.discount_rate\" = -0.3\n"
        );
        let mut scenarios = vec![
            (scenario(&[]), true),
            // Edge cases of the vintages: compute in service the quarter it is bought, a
            // horizon shorter than a compute life, no risk block.
            (
                scenario(&["plan.assets.ai_compute.in_service_lag_quarters=0"]),
                false,
            ),
            (
                scenario(&["time.horizon_quarters=6", "valuation.terminal_value=false"]),
                false,
            ),
            (scenario(&["risk.enabled=false"]), false),
            (
                Scenario::from_toml_str("copula", "copula.toml", &copula, &[]).unwrap(),
                false,
            ),
        ];
        for entry in std::fs::read_dir("scenarios").unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                scenarios.push((Scenario::load(&path, &[]).unwrap(), false));
            }
        }
        for (k, (scenario, antithetic)) in scenarios.iter().enumerate() {
            let model = Model::new(scenario);
            let paths = 2 * STEPPED_PATHS + 3;
            let mut streams = model.block_streams_with(2, *antithetic);
            let mut alone = PathWorkspace::default();
            let expected: Vec<(Vec<f64>, Vec<f64>)> = (0..paths)
                .map(|_| {
                    model.simulate_path(&mut streams, &mut alone);
                    (alone.quarterly.clone(), alone.scalars.clone())
                })
                .collect();
            for batch in [2, STEPPED_PATHS, paths] {
                let mut streams = model.block_streams_with(2, *antithetic);
                let mut workspaces = vec![PathWorkspace::default(); batch];
                let mut got = Vec::new();
                while got.len() < paths {
                    let n = batch.min(paths - got.len());
                    model.simulate_paths(&mut streams, &mut workspaces[..n]);
                    got.extend(
                        workspaces[..n]
                            .iter()
                            .map(|w| (w.quarterly.clone(), w.scalars.clone())),
                    );
                }
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                for (p, (a, b)) in expected.iter().zip(&got).enumerate() {
                    assert_eq!(
                        bits(&a.0),
                        bits(&b.0),
                        "scenario {k}, batch {batch}, path {p}"
                    );
                    assert_eq!(
                        bits(&a.1),
                        bits(&b.1),
                        "scenario {k}, batch {batch}, path {p}"
                    );
                }
            }
        }
    }
}
