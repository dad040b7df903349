pub mod rng;
pub mod time;
pub mod scenario { pub mod dist; }
pub use scenario::dist::{Distribution, DistributionError, Param};
pub use time::Quarter;
