//! `cloudcapex calibrate`: fit the revenue assumptions to the reported history and write
//! them as a TOML fragment a scenario can `extends` from or paste.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use cloudcapex::Quarter;
use cloudcapex::calibration::{calibrate, default_first};
use cloudcapex::history::History;

use super::common::{failure, refuse};

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// History file (format in data/README.md). Default: data/alibaba_cloud_quarterly.csv,
    /// else the copy embedded in the binary.
    data: Option<PathBuf>,
    /// Last quarter used (a fit "as of" that date); default the history's last quarter.
    #[arg(long, value_name = "QUARTER")]
    start_quarter: Option<Quarter>,
    /// First quarter whose level enters the fit; default 2023Q2, the first on the current
    /// segment basis (or the history's first quarter, if later).
    #[arg(long, value_name = "QUARTER")]
    from: Option<Quarter>,
    /// Write the one-segment figures as an active [revenue.segments.NAME] table (else they
    /// are commented out).
    #[arg(long, value_name = "NAME")]
    segment: Option<String>,
    /// Write the fragment to this file (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Runs `cloudcapex calibrate`.
pub fn run(args: CalibrateArgs) -> ExitCode {
    let history = match History::load_or_default(args.data.as_deref()) {
        Ok(h) => h,
        Err(e) => return refuse(e),
    };
    if let Some(name) = &args.segment
        && (name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return refuse(format!(
            "--segment {name:?}: expected a bare TOML key (letters, digits, `_`, `-`)"
        ));
    }
    let last = args.start_quarter.unwrap_or(history.span().1);
    let first = args.from.unwrap_or_else(|| default_first(&history));
    let fit = match calibrate(&history, first, last) {
        Ok(fit) => fit,
        Err(e) => return refuse(e),
    };
    let fragment = fit.to_toml(&history.source, args.segment.as_deref());
    match &args.out {
        None => {
            print!("{fragment}");
            ExitCode::SUCCESS
        }
        Some(path) => {
            match cloudcapex::output::write_atomically(path, |w| w.write_all(fragment.as_bytes())) {
                Ok(path) => {
                    eprintln!("wrote {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => failure(e),
            }
        }
    }
}
