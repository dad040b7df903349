//! Building a scenario in code, without writing TOML. Every value goes through the same
//! validation as a scenario file; errors name the key path.

use serde::Serialize;

use super::dist::Param;
use super::error::ScenarioError;
use super::resolved::{DEFAULT_SCENARIO_TOML, Scenario};

/// Assumptions of one revenue segment, for [`ScenarioBuilder::segment`].
///
/// # Examples
///
/// ```
/// use cloudcapex::scenario::SegmentSpec;
/// let cloud = SegmentSpec::new(40.0, 0.30, 0.05, 8.0).with_shocks(0.5, 0.02, 0.015);
/// assert_eq!(cloud.start_revenue_rmb_bn, 40.0.into());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentSpec {
    /// Start-quarter revenue, RMB bn.
    pub start_revenue_rmb_bn: Param,
    /// Annual growth of the first projected quarter.
    pub initial_growth: Param,
    /// Annual growth the drift fades to.
    pub terminal_growth: Param,
    /// Quarters for the growth gap to halve.
    pub growth_half_life_quarters: Param,
    /// AR(1) coefficient of the persistent shock.
    pub shock_persistence: Param,
    /// Quarterly sd of the persistent shock's innovation.
    pub persistent_shock_sd: Param,
    /// Quarterly sd of the i.i.d. shock.
    pub iid_shock_sd: Param,
}

impl SegmentSpec {
    /// A segment without shocks.
    pub fn new(
        start_revenue_rmb_bn: impl Into<Param>,
        initial_growth: impl Into<Param>,
        terminal_growth: impl Into<Param>,
        growth_half_life_quarters: impl Into<Param>,
    ) -> Self {
        Self {
            start_revenue_rmb_bn: start_revenue_rmb_bn.into(),
            initial_growth: initial_growth.into(),
            terminal_growth: terminal_growth.into(),
            growth_half_life_quarters: growth_half_life_quarters.into(),
            shock_persistence: Param::Fixed(0.0),
            persistent_shock_sd: Param::Fixed(0.0),
            iid_shock_sd: Param::Fixed(0.0),
        }
    }

    /// The same segment with growth shocks.
    pub fn with_shocks(
        mut self,
        persistence: impl Into<Param>,
        persistent_sd: impl Into<Param>,
        iid_sd: impl Into<Param>,
    ) -> Self {
        self.shock_persistence = persistence.into();
        self.persistent_shock_sd = persistent_sd.into();
        self.iid_shock_sd = iid_sd.into();
        self
    }
}

/// Builds a [`Scenario`] from code: start empty or from the embedded base scenario, set
/// values by key path or with typed helpers, then [`build`](Self::build) validates it all.
///
/// # Examples
///
/// ```
/// use cloudcapex::scenario::{ScenarioBuilder, SegmentSpec};
/// use cloudcapex::{Distribution, Param};
///
/// let scenario = ScenarioBuilder::new("two_segments")
///     .paths(500)
///     .horizon_quarters(20)
///     .segment("cloud", SegmentSpec::new(30.0, 0.25, 0.05, 6.0).with_shocks(0.5, 0.02, 0.02))
///     .segment("ai", SegmentSpec::new(10.0, Param::Random(Distribution::pert(0.6, 1.0, 1.5)?), 0.06, 6.0))
///     .correlation("ai", "cloud", 0.5)
///     .build()?;
/// assert_eq!(scenario.assumptions().revenue.segments.len(), 2);
///
/// // Values are checked by the same rules as files, naming the key.
/// let err = ScenarioBuilder::new("bad").segment("x", SegmentSpec::new(-1.0, 0.1, 0.05, 4.0)).build().unwrap_err();
/// assert_eq!(err.key(), Some("revenue.segments.x.start_revenue_rmb_bn"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ScenarioBuilder {
    name: String,
    table: toml::Table,
}

impl ScenarioBuilder {
    /// An empty scenario named `name` (a revenue-only projection until a plan is set).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            table: toml::Table::new(),
        }
    }

    /// The embedded base scenario (`scenarios/base.toml`) as a starting point.
    pub fn from_default(name: &str) -> Self {
        Self {
            name: name.to_string(),
            table: toml::from_str(DEFAULT_SCENARIO_TOML)
                .expect("the embedded base scenario is TOML"),
        }
    }

    /// Sets any key path to any value (number, bool, string, [`Param`], spec struct):
    /// the same paths as `--set` and scenario files.
    ///
    /// # Panics
    ///
    /// If `value` cannot be represented in a scenario (it always can for the crate's types).
    pub fn set(mut self, key: &str, value: impl Serialize) -> Self {
        let value = toml::Value::try_from(value).expect("scenario values serialize");
        let mut table = &mut self.table;
        let parts: Vec<&str> = key.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            let entry = table
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            table = entry.as_table_mut().expect("just made a table");
        }
        table.insert(parts[parts.len() - 1].to_string(), value);
        self
    }

    /// Number of paths.
    pub fn paths(self, paths: u64) -> Self {
        self.set("simulation.paths", paths)
    }

    /// Master seed.
    pub fn seed(self, seed: u64) -> Self {
        self.set("simulation.seed", seed)
    }

    /// Projected quarters.
    pub fn horizon_quarters(self, quarters: u32) -> Self {
        self.set("time.horizon_quarters", quarters)
    }

    /// Adds or replaces a revenue segment.
    pub fn segment(self, name: &str, spec: SegmentSpec) -> Self {
        self.set(&format!("revenue.segments.{name}"), spec)
    }

    /// Correlation of two segments' shocks.
    pub fn correlation(self, a: &str, b: &str, rho: f64) -> Self {
        self.set(&format!("revenue.correlation.{a}.{b}"), rho)
    }

    /// Validates everything and returns the scenario.
    ///
    /// # Errors
    ///
    /// [`ScenarioError`] naming the key path of the first invalid value.
    pub fn build(self) -> Result<Scenario, ScenarioError> {
        let text = toml::to_string(&self.table).map_err(|e| ScenarioError::Invalid {
            key: String::new(),
            location: None,
            message: format!("the scenario cannot be written as TOML: {e}"),
        })?;
        Scenario::from_toml_str(
            &self.name,
            &format!("scenario `{}` built in code", self.name),
            &text,
            &[],
        )
    }
}
