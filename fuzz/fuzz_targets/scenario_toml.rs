//! Fuzz target: see `scenario_toml` in ../checks.rs for what each input must satisfy.
#![no_main]

#[path = "../checks.rs"]
#[allow(dead_code)] // each target uses one of the checks
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::scenario_toml(bytes));
