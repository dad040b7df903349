//! A validated scenario with where it came from: read from its sources (files, `extends`,
//! `--set`), merged, validated and named, ready to run.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::{self, ScenarioError};
use super::load::{self, Override};
use super::settings::{MAX_PATHS, Simulation};
use super::validate::{self, Assumptions};

/// The default scenario (`scenarios/base.toml`), compiled into the binary.
pub const DEFAULT_SCENARIO_TOML: &str = include_str!("../../scenarios/base.toml");

/// The pre-policy economics (`scenarios/replace_retirements.toml`): after the plan both
/// worlds only replace retirements; kept for tests of the old rule and the NumPy twin.
pub const REPLACE_RETIREMENTS_TOML: &str = include_str!("../../scenarios/replace_retirements.toml");

/// Name of the embedded default scenario.
pub const DEFAULT_SCENARIO_NAME: &str = "base";

/// A validated scenario: every value checked, ready to run.
///
/// # Examples
///
/// ```
/// use cloudcapex::Scenario;
/// let base = Scenario::default_scenario();
/// assert_eq!(base.name(), "base");
/// assert_eq!(base.sha256().len(), 64);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Valid but unusual values (see [`Scenario::warnings`]).
    warnings: Vec<String>,
    name: String,
    description: String,
    files: Vec<String>,
    overrides: Vec<String>,
    simulation: Simulation,
    assumptions: Assumptions,
}

/// Longest scenario name, in bytes: every output folder is the name behind a prefix of a
/// few bytes (`sweep_`, `regression_`, ...) and staged in a hidden `.cloudcapex.*` folder
/// with a suffix, and all of it must fit the 255-byte file-name limit of common file
/// systems.
pub const MAX_NAME_BYTES: usize = 100;

/// Names a scenario's folder cannot take: the folders other outputs write in `OUT` under
/// no prefix, `compare`'s (`comparison`) and the comparison page's (`comparison_report`)
/// (checked without regard to case, for case-insensitive file systems). The ownership
/// check would refuse the clash anyway, but only once the folders meet; this refuses it
/// at validation.
pub const RESERVED_NAMES: [&str; 2] = ["comparison", "comparison_report"];

/// Why `name` cannot name a scenario's output folder `OUT/<name>` (and the analyses'
/// `OUT/<prefix>_<name>`), or `None` if it can. A name is one path component of 1 to
/// [`MAX_NAME_BYTES`] bytes (spaces allowed, as in a file stem) that does not start with
/// `.` (hidden, and the staging folders' prefix), holds no `/`, `\`, `:`, NUL or other
/// control character, and is not one of [`RESERVED_NAMES`].
///
/// # Examples
///
/// ```
/// use cloudcapex::scenario::name_problem;
/// assert_eq!(name_problem("my base"), None);
/// assert!(name_problem(".cloudcapex.lock").unwrap().contains("'.'"));
/// ```
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "it is {} bytes long, more than the limit of {MAX_NAME_BYTES} (the output folders add \
             prefixes and staging suffixes to it within the 255-byte file-name limit)",
            name.len()
        ));
    }
    if name.starts_with('.') {
        return Some(
            "it starts with '.' (hidden names, '.' and '..' and the staging folders `.cloudcapex.*` \
             are not scenario folders)"
                .into(),
        );
    }
    if let Some(c) = name
        .chars()
        .find(|&c| c == '/' || c == '\\' || c == ':' || c.is_control())
    {
        return Some(format!(
            "it contains {c:?} ('/', '\\', ':' and control characters such as newlines and tabs \
             cannot be in a folder name)"
        ));
    }
    if let Some(reserved) = RESERVED_NAMES.iter().find(|r| r.eq_ignore_ascii_case(name)) {
        return Some(format!(
            "`{reserved}` is reserved: `compare` writes OUT/comparison/ and `run --report` of \
             several scenarios OUT/comparison_report/"
        ));
    }
    None
}

/// Whether `name` can name a scenario's output folder: [`name_problem`] finds nothing.
///
/// # Examples
///
/// ```
/// use cloudcapex::scenario::is_folder_name;
/// assert!(is_folder_name("my base"));
/// assert!(!is_folder_name("../etc") && !is_folder_name("..") && !is_folder_name(""));
/// assert!(!is_folder_name("comparison_report") && !is_folder_name(&"x".repeat(101)));
/// ```
pub fn is_folder_name(name: &str) -> bool {
    name_problem(name).is_none()
}

impl Scenario {
    /// Reads and validates a scenario file, its `extends` chain and `overrides`.
    /// The scenario is named after the file's stem.
    ///
    /// # Errors
    ///
    /// A [`ScenarioError`] naming the file, line, column and key of the first problem;
    /// [`ScenarioError::Read`] for a file that is not a regular file or is larger than
    /// [`crate::input_file::MAX_SCENARIO_BYTES`]; an error at the `extends` key for a chain
    /// longer than [`crate::input_file::MAX_EXTENDS_DEPTH`]; an error at `name` for a name
    /// (or file stem) that cannot name a folder (see [`name_problem`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use cloudcapex::{Override, Scenario};
    /// let faster = Override::parse("revenue.segments.ai.initial_growth=1.2").unwrap();
    /// let s = Scenario::load("scenarios/base.toml", &[faster]).unwrap();
    /// assert_eq!(s.name(), "base");
    /// ```
    pub fn load(path: impl AsRef<Path>, overrides: &[Override]) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let mut loaded = load::Loaded::default();
        if let Err(e) = loaded.load_file(path, &mut Vec::<PathBuf>::new(), None) {
            // The overrides' own unknown keys and wrong types are reported with the file's.
            let mut scratch = load::Loaded::default();
            let mut errors = vec![e];
            if matches!(
                errors[0],
                ScenarioError::Invalid { .. } | ScenarioError::Several { .. }
            ) {
                errors.extend(
                    overrides
                        .iter()
                        .filter_map(|o| scratch.apply_override(o).err()),
                );
            }
            return Err(error::combine(errors));
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        Self::finish(name, loaded, overrides)
    }

    /// Validates a scenario given as TOML text (it cannot use `extends`).
    ///
    /// # Errors
    ///
    /// A [`ScenarioError`]; locations name `source_name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::Scenario;
    /// let text = r#"
    /// [revenue.segments.cloud]
    /// start_revenue_rmb_bn = 40.0
    /// initial_growth = 0.3
    /// terminal_growth = 0.05
    /// growth_half_life_quarters = 8
    /// "#;
    /// let s = Scenario::from_toml_str("mini", "mini.toml", text, &[]).unwrap();
    /// assert_eq!(s.assumptions().time.horizon_quarters, 40);
    ///
    /// let err = Scenario::from_toml_str("mini", "mini.toml", "[simulation]\npaths = -5", &[]).unwrap_err();
    /// assert_eq!(err.key(), Some("simulation.paths"));
    /// ```
    pub fn from_toml_str(
        name: &str,
        source_name: &str,
        text: &str,
        overrides: &[Override],
    ) -> Result<Self, ScenarioError> {
        let mut loaded = load::Loaded::default();
        loaded.load_text(source_name, text)?;
        Self::finish(name.to_string(), loaded, overrides)
    }

    /// The embedded default scenario (`scenarios/base.toml`).
    ///
    /// # Panics
    ///
    /// Never in a released build: a test validates the embedded file.
    pub fn default_scenario() -> Self {
        Self::default_with(&[]).expect("the embedded base scenario is valid")
    }

    /// The embedded default scenario with overrides.
    ///
    /// # Errors
    ///
    /// A [`ScenarioError`] if an override is invalid.
    pub fn default_with(overrides: &[Override]) -> Result<Self, ScenarioError> {
        Self::from_toml_str(
            DEFAULT_SCENARIO_NAME,
            "scenarios/base.toml (embedded default)",
            DEFAULT_SCENARIO_TOML,
            overrides,
        )
    }

    fn finish(
        name: String,
        mut loaded: load::Loaded,
        overrides: &[Override],
    ) -> Result<Self, ScenarioError> {
        let errors: Vec<ScenarioError> = overrides
            .iter()
            .filter_map(|item| loaded.apply_override(item).err())
            .collect();
        if !errors.is_empty() {
            return Err(error::combine(errors));
        }
        // The name, from the `name` key (of the last file read or a `--set`) or else the
        // file's stem, names the output folders: checked before any work.
        if let Some(declared) = loaded.declared_name.clone() {
            if let Some(problem) = name_problem(&declared) {
                return Err(ScenarioError::Invalid {
                    key: "name".into(),
                    location: loaded.locate("name"),
                    message: format!(
                        "the scenario's name names its output folders, and {declared:?} cannot: {problem}"
                    ),
                });
            }
        } else if let Some(problem) = name_problem(&name) {
            let file = loaded.files.last().cloned().unwrap_or_default();
            return Err(ScenarioError::Invalid {
                key: "name".into(),
                location: None,
                message: format!(
                    "the scenario takes the name {name:?} from the stem of {file}, and it cannot \
                     name its output folders: {problem}; rename the file or give a `name` key"
                ),
            });
        }
        let name = loaded.declared_name.clone().unwrap_or(name);
        let (description, simulation, assumptions) = validate::validate(&loaded)?;
        let warnings = validate::plausibility(&loaded, &assumptions);
        Ok(Self {
            warnings,
            name,
            description,
            files: loaded.files,
            overrides: overrides.iter().map(|o| o.argument().to_string()).collect(),
            simulation,
            assumptions,
        })
    }

    /// Name: the file's `name` key, else its stem (`base` for `scenarios/base.toml`). A
    /// resolved `scenario.toml` keeps the original name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Valid but unusual assumptions, one message each naming the file, line and key
    /// (e.g. a terminal growth above 15%/yr): printed by `validate` and `run`, never fatal.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::{Override, Scenario};
    /// assert!(Scenario::default_scenario().warnings().is_empty());
    /// let high = Override::parse("revenue.segments.core.terminal_growth=0.3").unwrap();
    /// let s = Scenario::default_with(&[high]).unwrap();
    /// assert!(s.warnings()[0].contains("revenue.segments.core.terminal_growth"));
    /// ```
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The `description` key.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Files read, the root of the `extends` chain first.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The `--set` overrides applied, as given.
    pub fn overrides(&self) -> &[String] {
        &self.overrides
    }

    /// The same scenario recorded as read from `files` with `overrides` (a resolved
    /// scenario reloaded from a shard file keeps its original provenance for run.json).
    pub(crate) fn with_provenance(mut self, files: Vec<String>, overrides: Vec<String>) -> Self {
        self.files = files;
        self.overrides = overrides;
        self
    }

    /// Seed and path count.
    pub fn simulation(&self) -> &Simulation {
        &self.simulation
    }

    /// The model assumptions.
    pub fn assumptions(&self) -> &Assumptions {
        &self.assumptions
    }

    /// Same scenario with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.simulation.seed = seed;
        self
    }

    /// Same scenario with another path count.
    ///
    /// # Errors
    ///
    /// [`ScenarioError::Invalid`] for zero paths.
    pub fn with_paths(mut self, paths: u64) -> Result<Self, ScenarioError> {
        if paths == 0 || paths > MAX_PATHS {
            return Err(ScenarioError::Invalid {
                key: "simulation.paths".into(),
                location: None,
                message: format!(
                    "expected 1 to {MAX_PATHS} paths (each path keeps 72 bytes for exact quantiles: \
                     14.4 GB at the limit), found {paths}"
                ),
            });
        }
        self.simulation.paths = paths;
        Ok(self)
    }

    /// The resolved scenario (after `extends`, `--set` and defaults) as TOML: running
    /// this text with the same seed reproduces the run.
    pub fn resolved_toml(&self) -> String {
        #[derive(Serialize)]
        struct Resolved<'a> {
            name: &'a str,
            description: &'a str,
            simulation: &'a Simulation,
            #[serde(flatten)]
            assumptions: &'a Assumptions,
        }
        toml::to_string(&Resolved {
            name: &self.name,
            description: &self.description,
            simulation: &self.simulation,
            assumptions: &self.assumptions,
        })
        .expect("scenarios serialize to TOML")
    }

    /// SHA-256 (hex) of the canonical TOML of the model assumptions. Seed, path count,
    /// name and description are not part of it: two runs of the same assumptions with
    /// different seeds share the hash.
    pub fn sha256(&self) -> String {
        let canonical = toml::to_string(&self.assumptions).expect("scenarios serialize to TOML");
        let digest = Sha256::digest(canonical.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid_and_round_trips() {
        let base = Scenario::default_scenario();
        let again =
            Scenario::from_toml_str("base", "resolved", &base.resolved_toml(), &[]).unwrap();
        assert_eq!(again.assumptions, base.assumptions);
        assert_eq!(again.sha256(), base.sha256());
    }

    #[test]
    fn seed_does_not_change_the_hash_but_assumptions_do() {
        let base = Scenario::default_scenario();
        assert_eq!(base.clone().with_seed(99).sha256(), base.sha256());
        let set = Override::parse("revenue.segments.ai.terminal_growth=0.04").unwrap();
        assert_ne!(
            Scenario::default_with(&[set]).unwrap().sha256(),
            base.sha256()
        );
    }
}
