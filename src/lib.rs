//! # cloudcapex
//!
//! Monte Carlo projections of Alibaba Cloud's revenue under scenario files.
//!
//! Data flows one way: a TOML [`Scenario`] is read and validated (every error names its
//! file, line and key) → [`model::Model`] precomputes it → [`runner::simulate`] runs
//! fixed-size blocks of paths in parallel, each block on its own random streams, and
//! merges streaming statistics in block order (bit-identical on any thread count) →
//! [`output`] exporters write tidy CSVs.
//!
//! # Examples
//!
//! ```
//! use cloudcapex::runner::{RunOptions, simulate};
//! use cloudcapex::{Override, Scenario};
//!
//! let slower_ai = Override::parse("revenue.segments.ai.terminal_growth=0.03")?;
//! let scenario = Scenario::default_with(&[slower_ai])?.with_paths(2_000)?;
//! let results = simulate(&scenario, &RunOptions::default())?;
//! let cagr = results.scalar("revenue_total_cagr").unwrap();
//! assert!(cagr.se > 0.0 && cagr.se < 0.01);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Equations: `docs/model.md`. Scenario keys: `docs/scenario-format.md`. Output columns:
//! `docs/outputs.md`.

#![warn(missing_docs)]

pub mod analysis;
pub mod batch;
pub mod calibration;
pub mod finance;
pub mod history;
pub mod input_file;
pub mod model;
pub mod output;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod sensitivity;
pub mod shard;
pub mod stats;
pub mod time;

pub use scenario::{Distribution, DistributionError, Override, Param, Scenario, ScenarioError};
pub use time::Quarter;
