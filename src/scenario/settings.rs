//! `[simulation]` and `[time]`, validated: the seed, the path count and the calendar of the
//! projection.

use serde::Serialize;

use crate::time::Quarter;

/// The most paths one run takes: each keeps 72 bytes (the metrics with exact quantiles),
/// so the limit needs 14.4 GB. Refused up front, never an allocation until killed.
pub const MAX_PATHS: u64 = 200_000_000;

/// Seed and path count.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Simulation {
    /// Master seed of every random stream.
    pub seed: u64,
    /// Number of simulated paths.
    pub paths: u64,
}

/// The calendar of the projection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeSettings {
    /// The last reported quarter, whose revenue the segments start from (quarter index 0).
    pub start_quarter: Quarter,
    /// Number of projected quarters after the start quarter.
    pub horizon_quarters: u32,
}
