//! Sensitivity analysis: which inputs move a metric, and by how much. Each analysis but
//! [`regression`] evaluates the model through scenario overrides (`make` rebuilds the
//! scenario with some inputs fixed to numbers):
//!
//! - [`tornado`]: each uncertain input at its p10 and p90, the others at their median;
//! - [`sobol`]: first-order, total and second-order Sobol indices (the estimators on any
//!   function of the unit hypercube, and their application to one path of the model, in
//!   shards if need be);
//! - [`morris`]: Morris elementary-effects screening, for many inputs at few evaluations;
//! - [`screen`]: one-at-a-time screening of every numeric input, fixed or drawn;
//! - [`regression`]: standardized regression coefficients, rank correlations and
//!   contributions to variance from one ordinary run's drawn inputs.

pub mod morris;
pub mod regression;
pub mod screen;
pub mod sobol;
pub mod tornado;

/// Why a sensitivity analysis of the model ([`tornado`], [`sobol::model_sobol`],
/// [`morris::model_morris`]) could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SensitivityError {
    /// The scenario has no uncertain input (every assumption is a number).
    #[error(
        "the scenario has no uncertain input: a tornado moves assumptions given as distributions"
    )]
    NoUncertainInputs,
    /// A scenario with fixed inputs is invalid.
    #[error(transparent)]
    Scenario(#[from] Box<crate::ScenarioError>),
    /// A run failed or lacks the metric.
    #[error("{0}")]
    Run(String),
}
