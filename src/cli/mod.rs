//! The subcommands, one file each (its arguments and its body), and what they share
//! ([`common`]). Each subcommand parses and checks its options, then calls the library;
//! no model arithmetic or file writing lives here.

pub mod backtest;
pub mod breakeven;
pub mod calibrate;
pub mod common;
pub mod compare;
pub mod merge;
pub mod mix;
pub mod morris;
pub mod regression;
pub mod run;
pub mod screen;
pub mod slurm;
pub mod sobol;
pub mod sweep;
pub mod tornado;
pub mod validate;
