//! Fuzz target: see `history_csv` in ../checks.rs for what each input must satisfy.
#![no_main]

#[path = "../checks.rs"]
#[allow(dead_code)] // each target uses one of the checks
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::history_csv(bytes));
