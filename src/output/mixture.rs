//! A mixture's own outputs (`cloudcapex mix`): `mix.csv` (its components), `mix_paths.csv`
//! (the component of each kept path) and its `scenario.toml` (every component's resolved
//! scenario with its weight); `run.json` lists the components too (docs/outputs.md, "mix").

use std::io::{self, Write};
use std::sync::Arc;

use super::{CRATE_VERSION, Exporter, RunRecord, plain};
use crate::Scenario;

/// What a mixture's outputs say about it besides its results.
#[derive(Clone, Debug, PartialEq)]
pub struct MixtureRecord {
    /// The mixture's name (its folder, and the `scenario` column of its tables).
    pub name: String,
    /// Its components, in the order given.
    pub components: Vec<MixtureComponent>,
    /// The component of each kept path (`Results::kept_paths` order).
    pub kept_components: Vec<usize>,
}

/// One component of a mixture and what it contributed.
#[derive(Clone, Debug, PartialEq)]
pub struct MixtureComponent {
    /// The file as given on the command line (or a label).
    pub file: String,
    /// The validated scenario, with the mixture's seed and path count.
    pub scenario: Scenario,
    /// Its weight (the weights sum to 1).
    pub weight: f64,
    /// Paths assigned to it.
    pub paths: u64,
    /// Mean of `plan_npv_rmb_bn` over its assigned paths where defined (NaN if none),
    /// RMB bn.
    pub plan_npv_mean_rmb_bn: f64,
    /// Its share of the mixture's mean NPV: its paths' NPV sum over all the paths with
    /// an NPV, RMB bn (the components' contributions add up to the mixture's mean).
    pub plan_npv_contribution_rmb_bn: f64,
}

impl MixtureRecord {
    /// A one-line description: the components and their weights.
    pub fn description(&self) -> String {
        let parts: Vec<String> = self
            .components
            .iter()
            .map(|c| format!("{} ({})", c.scenario.name(), plain(c.weight)))
            .collect();
        format!("mixture of {}", parts.join(", "))
    }
}

/// Columns of `mix.csv`.
pub const MIX_COLUMNS: [&str; 10] = [
    "scenario",
    "component",
    "file",
    "weight",
    "paths",
    "paths_share",
    "plan_npv_mean_rmb_bn",
    "plan_npv_contribution_rmb_bn",
    "component_sha256",
    "scenario_sha256",
];

/// `mix.csv`: one row per component.
#[derive(Clone, Debug)]
pub struct MixCsv(pub Arc<MixtureRecord>);

impl Exporter for MixCsv {
    fn file_name(&self) -> &'static str {
        "mix.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = MIX_COLUMNS.to_vec();
        header.extend(["seed", "cloudcapex_version"]);
        w.write_record(&header).map_err(io::Error::other)?;
        let total = run.results.paths as f64;
        for c in &self.0.components {
            w.write_record([
                run.results.scenario.clone(),
                c.scenario.name().to_string(),
                c.file.clone(),
                plain(c.weight),
                c.paths.to_string(),
                plain(c.paths as f64 / total),
                plain(c.plan_npv_mean_rmb_bn),
                plain(c.plan_npv_contribution_rmb_bn),
                c.scenario.sha256(),
                run.results.scenario_sha256.clone(),
                run.results.seed.to_string(),
                CRATE_VERSION.to_string(),
            ])
            .map_err(io::Error::other)?;
        }
        w.flush()
    }
}

/// `mix_paths.csv` (with `--paths-out`): the component each kept path was drawn from.
#[derive(Clone, Debug)]
pub struct MixPathsCsv(pub Arc<MixtureRecord>);

impl Exporter for MixPathsCsv {
    fn file_name(&self) -> &'static str {
        "mix_paths.csv"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["scenario", "path", "component"])
            .map_err(io::Error::other)?;
        for (record, &k) in run.results.kept_paths.iter().zip(&self.0.kept_components) {
            w.write_record([
                run.results.scenario.as_str(),
                &record.path.to_string(),
                self.0.components[k].scenario.name(),
            ])
            .map_err(io::Error::other)?;
        }
        w.flush()
    }
}

/// A mixture's `scenario.toml`: a header with its hash, then one `[[component]]` per
/// component (file, weight, hash) holding its resolved scenario as `[component.scenario]`.
/// Not itself a scenario: each component's table runs again as one.
#[derive(Clone, Debug)]
pub struct MixtureScenarioToml(pub Arc<MixtureRecord>);

impl Exporter for MixtureScenarioToml {
    fn file_name(&self) -> &'static str {
        "scenario.toml"
    }

    fn write(&self, run: &RunRecord<'_>, out: &mut (dyn Write + Send)) -> io::Result<()> {
        writeln!(
            out,
            "# Mixture `{}` of {} resolved scenarios, cloudcapex {CRATE_VERSION}: each path is drawn \
             from one component\n# with probability its weight (docs/model.md, \"Mixtures\"); seed {}, \
             {} paths.\n# scenario_sha256 = {}\n",
            run.results.scenario,
            self.0.components.len(),
            run.results.seed,
            run.results.paths,
            run.results.scenario_sha256
        )?;
        let components = self
            .0
            .components
            .iter()
            .map(|c| {
                let resolved: toml::Value =
                    toml::from_str(&c.scenario.resolved_toml()).map_err(io::Error::other)?;
                let mut table = toml::Table::new();
                table.insert("file".into(), toml::Value::String(c.file.clone()));
                table.insert("weight".into(), toml::Value::Float(c.weight));
                table.insert(
                    "scenario_sha256".into(),
                    toml::Value::String(c.scenario.sha256()),
                );
                table.insert("scenario".into(), resolved);
                Ok(toml::Value::Table(table))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let mut document = toml::Table::new();
        document.insert("component".into(), toml::Value::Array(components));
        out.write_all(
            toml::to_string(&document)
                .map_err(io::Error::other)?
                .as_bytes(),
        )
    }
}
