//! Fuzz target: see `shard_file` in ../checks.rs for what each input must satisfy.
#![no_main]

#[path = "../checks.rs"]
#[allow(dead_code)] // each target uses one of the checks
mod checks;

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| checks::shard_file(bytes));
