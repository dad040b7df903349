//! Scenario analysis on common random numbers: paired comparison ([`compare`]), parameter
//! sweeps ([`sweep`]), breakeven search ([`breakeven`]) and mixtures of scenarios as one
//! distribution ([`run_mixture`]). Scenarios run on the same seed
//! and path count see the same random draws factor by factor, so differences between them
//! are estimated path by path.

pub mod backtest;
mod breakeven;
mod compare;
pub mod fiscal_backtest;
mod mixture;
mod sweep;

pub use breakeven::{Breakeven, BreakevenError, Statistic, StatisticKind, breakeven};
pub use compare::{
    COMPARE_SHARD_FOLDER, Comparison, ComparisonRow, compare, compare_part, compare_shard,
    merge_comparison,
};
pub use mixture::{
    DEFAULT_MIX_NAME, MIX_KIND, MixtureInput, claim_mixture, mixture_folder_name, mixture_record,
    run_mixture,
};
pub use sweep::{
    GridAxis, GridError, MAX_SWEEP_POINTS, check_sweep_shards, grid_points, merge_sweep, sweep,
    sweep_folder_name, sweep_shard, sweep_table, write_sweep, write_sweep_csv,
};
