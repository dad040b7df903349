//! Scenarios: reading TOML files (with `extends` and `--set`), and validating them into
//! the parameters the model runs on. Nothing runs until a scenario has been validated.
//!
//! Each file stands above the ones it imports, and this one above all (it only declares
//! and re-exports): the file as written (`doc`, with its distributions in `dist`) and the
//! errors (`error`); the sources read and merged (`load`); the checks every section shares
//! (`validator`); each section's validated types and checks (`settings`, `revenue`,
//! `policy`, `plan`, `risk`, `copula`); the whole pass (`validate`); and the [`Scenario`]
//! it yields (`resolved`), which `builder` writes without a file.

mod builder;
pub mod consensus;
mod copula;
pub mod dist;
mod doc;
mod error;
mod load;
pub mod plan;
pub mod policy;
mod resolved;
mod revenue;
pub mod risk;
mod settings;
mod start_capital;
mod validate;
mod validator;

pub use builder::{ScenarioBuilder, SegmentSpec};
pub use copula::{AssumptionCorrelation, nearest_correlation};
pub use dist::{Distribution, DistributionError, Param};
pub(crate) use error::did_you_mean;
pub use error::{Location, MAX_REPORTED_ERRORS, ScenarioError};
pub use load::Override;
pub use resolved::{
    DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO_TOML, MAX_NAME_BYTES, REPLACE_RETIREMENTS_TOML,
    RESERVED_NAMES, Scenario, is_folder_name, name_problem,
};
pub use revenue::{
    Correlation, MIN_START_REVENUE_RMB_BN, RevenueAssumptions, Seasonality, SegmentAssumptions,
};
pub use settings::{MAX_PATHS, Simulation, TimeSettings};
pub use start_capital::StartCapital;
pub use validate::{Assumptions, ScreenRanges, is_whole_number_key};
