//! `cloudcapex validate`: check scenario files without running them.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::Scenario;

use super::common::{EXIT_INVALID_INPUT, parse_overrides, refuse};

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files to check.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Overrides to check along with the files.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// Runs `cloudcapex validate`: every file is checked, each error printed; exit code 2 if
/// any failed.
pub fn run(args: ValidateArgs) -> ExitCode {
    let overrides = match parse_overrides(&args.set) {
        Ok(o) => o,
        Err(e) => return refuse(e),
    };
    let mut failed = false;
    for file in &args.scenarios {
        match Scenario::load(file, &overrides) {
            Ok(s) => {
                println!(
                    "ok: {} (scenario `{}`, sha256 {})",
                    file.display(),
                    s.name(),
                    s.sha256()
                );
                for warning in s.warnings() {
                    eprintln!("warning: {warning}");
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(EXIT_INVALID_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}
