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
    /// A mixture's components (`cloudcapex mix`); `None` for a scenario's run.
    mixture: Option<std::sync::Arc<super::MixtureRecord>>,
}

impl RunJson {
    /// Metadata for a run on `threads` threads that took `elapsed_seconds`.
    pub fn new(threads: usize, elapsed_seconds: f64) -> Self {
        Self {
            threads,
            elapsed_seconds,
            outputs: Vec::new(),
            mixture: None,
        }
    }

    /// The same metadata for a mixture: `run.json` names the mixture, lists every
    /// component's files and resolved scenario, and adds `mixture` (file, name, hash,
    /// weight and paths of each component).
    pub fn with_mixture(self, mixture: std::sync::Arc<super::MixtureRecord>) -> Self {
        Self {
            mixture: Some(mixture),
            ..self
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
    /// A mixture's components, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    mixture: Option<Vec<ComponentJson<'a>>>,
    /// The scenario's resolved assumptions; a mixture's: one per component, in order.
    resolved_scenario: toml::Value,
}

#[derive(Serialize)]
struct ComponentJson<'a> {
    file: &'a str,
    scenario: &'a str,
    scenario_sha256: String,
    weight: f64,
    paths: u64,
    plan_npv_mean_rmb_bn: Option<f64>,
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
        let resolve = |s: &crate::Scenario| -> io::Result<toml::Value> {
            toml::from_str(&s.resolved_toml()).map_err(io::Error::other)
        };
        let mixture = self.mixture.as_deref();
        let resolved = match mixture {
            None => resolve(scenario)?,
            Some(m) => toml::Value::Array(
                m.components
                    .iter()
                    .map(|c| resolve(&c.scenario))
                    .collect::<io::Result<_>>()?,
            ),
        };
        let description = mixture.map(super::MixtureRecord::description);
        let files: Option<Vec<String>> = mixture.map(|m| {
            m.components
                .iter()
                .flat_map(|c| c.scenario.files().iter().cloned())
                .collect()
        });
        let mut outputs: Vec<&str> = self.outputs.iter().map(String::as_str).collect();
        outputs.push(self.file_name());
        let doc = Document {
            // A run's results carry its scenario's name; a mixture's, the mixture's.
            scenario: &run.results.scenario,
            description: description.as_deref().unwrap_or(scenario.description()),
            scenario_files: files.as_deref().unwrap_or(scenario.files()),
            overrides: if mixture.is_some() {
                &[]
            } else {
                scenario.overrides()
            },
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
            mixture: mixture.map(|m| {
                m.components
                    .iter()
                    .map(|c| ComponentJson {
                        file: &c.file,
                        scenario: c.scenario.name(),
                        scenario_sha256: c.scenario.sha256(),
                        weight: c.weight,
                        paths: c.paths,
                        plan_npv_mean_rmb_bn: c
                            .plan_npv_mean_rmb_bn
                            .is_finite()
                            .then_some(c.plan_npv_mean_rmb_bn),
                    })
                    .collect()
            }),
            resolved_scenario: resolved,
        };
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
        writeln!(out)
    }
}
