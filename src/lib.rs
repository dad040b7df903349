pub mod rng;
pub mod scenario;
pub mod stats;
pub mod time;
pub use scenario::{Distribution, DistributionError, Override, Param, Scenario, ScenarioError};
pub use time::Quarter;
pub mod model;
pub mod runner;
