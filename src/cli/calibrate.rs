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
    /// Last quarter used (a fit "as of" that date); default the last quarter with a
    /// reported revenue.
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
    /// Write the fragment to this file (atomically; its folder must exist, and an existing
    /// path must be a regular file) instead of stdout.
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
    let Some(last) = args.start_quarter.or_else(|| history.last_reported()) else {
        return refuse(format!(
            "{}: no quarter has a reported revenue",
            history.source
        ));
    };
    let first = args.from.unwrap_or_else(|| default_first(&history));
    let fit = match calibrate(&history, first, last) {
        Ok(fit) => fit,
        Err(e) => return refuse(e),
    };
    let fragment = fit.to_toml(&history.source, args.segment.as_deref());
    // A fragment meant to run must validate: a history far from the model's ranges (growth
    // above 500% a year, a shock sd above 1) is said, not written.
    if args.segment.is_some()
        && let Err(e) =
            cloudcapex::Scenario::from_toml_str("calibrated", "the fitted fragment", &fragment, &[])
    {
        return refuse(format!(
            "the fit on {} gives values a scenario refuses, so no fragment was written:\n{e}",
            history.source
        ));
    }
    match &args.out {
        None => {
            print!("{fragment}");
            ExitCode::SUCCESS
        }
        Some(path) => {
            if let Err(message) = check_out_file(path) {
                return refuse(message);
            }
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

/// `--out FILE` writes by renaming a temporary file over the path: refuse anything but a
/// regular file (a symbolic link, a FIFO or a device would be replaced, not written) and a
/// folder that does not exist (rather than create it unasked).
fn check_out_file(path: &std::path::Path) -> Result<(), String> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if !parent.is_dir() {
        return Err(format!(
            "--out {}: the folder {} does not exist",
            path.display(),
            parent.display()
        ));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => Err(format!(
            "--out {}: exists and is not a regular file (a folder, link, FIFO or device); give a file path",
            path.display()
        )),
        _ => Ok(()),
    }
}
