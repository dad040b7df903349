//! `run.json`: what was run, how, and which files it wrote.

use std::io::{self, Write};

use serde::Serialize;

use super::{CRATE_VERSION, Exporter, RunRecord};
use crate::runner::BLOCK_SIZE;

/// The run's metadata. Only `threads` and `elapsed_seconds` may differ between two runs of
/// the same scenario, seed and path count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunJson {
    /// Threads of the pool the run used.
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub elapsed_seconds: f64,
    outputs: Vec<String>,
}

impl RunJson {
    /// Metadata for a run on `threads` threads that took `elapsed_seconds`.
    pub fn new(threads: usize, elapsed_seconds: f64) -> Self {
        Self {
            threads,
            elapsed_seconds,
            outputs: Vec::new(),
        }
    }

    pub(crate) fn with_outputs(&self, outputs: Vec<String>) -> Self {
        Self {
            outputs,
            ..self.clone()
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    scenario: &'a str,
    description: &'a str,
    scenario_files: &'a [String],
    overrides: &'a [String],
    scenario_sha256: &'a str,
    seed: u64,
    paths: u64,
    block_size: u64,
    cloudcapex_version: &'a str,
    threads: usize,
    elapsed_seconds: f64,
    outputs: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_se: Option<TargetJson<'a>>,
    /// With antithetic pairs: per metric, how much pairing shrank the mean's variance.
    #[serde(skip_serializing_if = "Option::is_none")]
    antithetic_se_reduction_factor: Option<std::collections::BTreeMap<&'a str, f64>>,
    resolved_scenario: toml::Value,
}

#[derive(Serialize)]
struct TargetJson<'a> {
    metric: &'a str,
    target: f64,
    achieved: f64,
    reached: bool,
}

impl Exporter for RunJson {
    fn file_name(&self) -> &'static str {
        "run.json"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let scenario = run.scenario;
        let resolved: toml::Value =
            toml::from_str(&scenario.resolved_toml()).map_err(io::Error::other)?;
        let mut outputs: Vec<&str> = self.outputs.iter().map(String::as_str).collect();
        outputs.push(self.file_name());
        let doc = Document {
            scenario: scenario.name(),
            description: scenario.description(),
            scenario_files: scenario.files(),
            overrides: scenario.overrides(),
            scenario_sha256: &run.results.scenario_sha256,
            seed: run.results.seed,
            paths: run.results.paths,
            block_size: BLOCK_SIZE,
            cloudcapex_version: CRATE_VERSION,
            threads: self.threads,
            elapsed_seconds: self.elapsed_seconds,
            outputs,
            target_se: run.results.target.as_ref().map(|t| TargetJson {
                metric: &t.target.metric,
                target: t.target.se,
                achieved: t.achieved_se,
                reached: t.reached,
            }),
            antithetic_se_reduction_factor: run
                .results
                .scalars
                .iter()
                .any(|(_, s)| !s.se_reduction_factor.is_nan())
                .then(|| {
                    run.results
                        .scalars
                        .iter()
                        .filter(|(_, s)| s.se_reduction_factor.is_finite())
                        .map(|(m, s)| (m.as_str(), s.se_reduction_factor))
                        .collect()
                }),
            resolved_scenario: resolved,
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)
    }
}
