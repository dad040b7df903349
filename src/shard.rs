//! Sharded runs: `run --shard I/N` simulates one contiguous range of a run's blocks and
//! writes its statistics to a shard file; `merge` checks that a folder's shard files are
//! the whole of one run and turns them into the run's results, byte-identical to an
//! unsharded run (docs/scale-out.md says why this is exact).
//!
//! A shard file is `shard-I-of-N.ccx`: the 8 bytes `CCXSHARD`, a little-endian `u32`
//! header length, the header as JSON ([`ShardHeader`]: format version, crate version,
//! scenario name and SHA-256, seed, paths, block range, payload length, and a SHA-256 of
//! the header and the payload together), then the payload: the resolved scenario's TOML,
//! the files and `--set` overrides it came from, and the shard's
//! [`ShardStatistics`](crate::runner::ShardStatistics), in postcard (a compact serde
//! binary format).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::Scenario;
use crate::output::{CRATE_VERSION, OutputError, write_atomically};
use crate::runner::{BLOCK_SIZE, Results, RunError, RunOptions, ShardStatistics};

/// Version of the shard file layout; a merge refuses any other. Version 2: the checksum
/// covers the header too, the header carries the scenario's position in its command.
/// Version 3: the header carries the build fingerprint, and the payload repeats the
/// header's identity (kind, build, scenario, hash, seed, paths, options, shard and range),
/// and the streamed statistics carry the moments the antithetic standard error of a
/// partly defined metric needs.
pub const FORMAT_VERSION: u32 = 3;

/// The build fingerprint (crate version, SHA-256 of the crate's source and `Cargo.lock`,
/// target; build.rs): shards of two builds that could compute different numbers are never
/// merged, even under one version string.
pub const BUILD: &str = env!("CLOUDCAPEX_BUILD");

/// The most missing shards a refusal lists (the rest are counted).
const MAX_LISTED_MISSING: usize = 20;

/// [`ShardHeader::kind`] of a run's shard.
pub const RUN: &str = "run";
/// [`ShardHeader::kind`] of a sweep's shard.
pub const SWEEP: &str = "sweep";
/// [`ShardHeader::kind`] of a Sobol analysis's shard.
pub const SOBOL: &str = "sobol";
/// [`ShardHeader::kind`] of a paired comparison's shard.
pub const COMPARE: &str = "compare";

const MAGIC: &[u8; 8] = crate::output::manifest::SHARD_MAGIC;
/// Headers are small; a larger length means the file is not a shard.
const MAX_HEADER_BYTES: u32 = 1 << 20;

/// Shard `index` of `count` (0-based, as Slurm's `SLURM_ARRAY_TASK_ID`): parsed from `I/N`.
///
/// # Examples
///
/// ```
/// use cloudcapex::shard::ShardSpec;
/// let spec: ShardSpec = "2/4".parse().unwrap();
/// assert_eq!(spec.blocks(10_000).unwrap(), 5..7); // 10 blocks of 1,024 paths
/// assert_eq!(spec.file_name(), "shard-2-of-4.ccx");
/// assert!("4/4".parse::<ShardSpec>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardSpec {
    /// 0-based index.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl FromStr for ShardSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "--shard {text:?}: expected I/N with 0 <= I < N (0-based, as $SLURM_ARRAY_TASK_ID), e.g. 0/4"
            )
        };
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(ShardSpec { index, count })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl ShardSpec {
    /// The blocks of a run of `paths` paths this shard simulates: shard `I` of `N` takes
    /// blocks `⌊I B / N⌋ .. ⌊(I + 1) B / N⌋` of the run's `B = ⌈paths / 1024⌉`.
    ///
    /// # Errors
    ///
    /// A message if the run has fewer blocks than shards (a shard would be empty).
    pub fn blocks(&self, paths: u64) -> Result<std::ops::Range<u64>, String> {
        let blocks = paths.div_ceil(BLOCK_SIZE);
        self.range(blocks, "blocks").map_err(|_| {
            format!(
                "--shard {self}: a run of {paths} paths has {blocks} blocks of {BLOCK_SIZE} paths, so at most {blocks} shards"
            )
        })
    }

    /// This shard's part `⌊I U / N⌋ .. ⌊(I + 1) U / N⌋` of `units` units (a run's blocks, a
    /// sweep's grid points).
    ///
    /// # Errors
    ///
    /// A message naming `what` if there are fewer units than shards.
    pub fn range(&self, units: u64, what: &str) -> Result<std::ops::Range<u64>, String> {
        if self.count > units {
            return Err(format!(
                "--shard {self}: {units} {what}, so at most {units} shards"
            ));
        }
        Ok(self.index * units / self.count..(self.index + 1) * units / self.count)
    }

    /// `shard-I-of-N.ccx`.
    pub fn file_name(&self) -> String {
        format!("shard-{}-of-{}.ccx", self.index, self.count)
    }
}

/// What a shard file says about itself, readable without its payload.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardHeader {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// What was sharded: `run` (a run's blocks) or `sweep` (a sweep's grid points).
    pub kind: String,
    /// Crate version of the writer.
    pub cloudcapex_version: String,
    /// The writer's build fingerprint ([`BUILD`]).
    pub build: String,
    /// Scenario name (for a sweep, its output folder's: `sweep_<scenario>`): a plain
    /// folder name, checked on reading.
    pub scenario: String,
    /// The scenario's place in its command's list (`run a.toml b.toml --shard`): merge
    /// writes the scenarios in this order, as the unsharded run does.
    pub position: u64,
    /// SHA-256 of the scenario's assumptions (for a sweep, of the scenario's hash and every
    /// grid point's overrides).
    pub scenario_sha256: String,
    /// Master seed.
    pub seed: u64,
    /// Paths of the whole run.
    pub paths: u64,
    /// Antithetic pairs.
    pub antithetic: bool,
    /// Paths kept whole for `paths.csv` (the first N of the run).
    pub paths_out: u64,
    /// 0-based shard index.
    pub shard_index: u64,
    /// Number of shards.
    pub shard_count: u64,
    /// The run's blocks, or the sweep's grid points.
    pub units: u64,
    /// The first block (or point) of this shard.
    pub first: u64,
    /// One past its last block (or point).
    pub end: u64,
    /// Length of the payload in bytes.
    pub payload_bytes: u64,
    /// SHA-256 (hex) of this header's JSON with this field empty, then the payload: any
    /// edit of either is caught.
    pub sha256: String,
}

impl ShardHeader {
    /// The header of shard `spec` of a job of `units` independent points (a sweep's grid
    /// points, a Sobol design's base rows), `range` its part; the payload's length and
    /// checksum are filled in by [`write_shard_file`]. `job_sha256` identifies the job (the
    /// scenario's hash and every setting the points depend on).
    #[allow(clippy::too_many_arguments)]
    pub fn for_points(
        kind: &str,
        name: &str,
        job_sha256: String,
        seed: u64,
        paths: u64,
        spec: ShardSpec,
        units: u64,
        range: std::ops::Range<u64>,
    ) -> Self {
        ShardHeader {
            format_version: FORMAT_VERSION,
            kind: kind.to_string(),
            cloudcapex_version: CRATE_VERSION.to_string(),
            build: BUILD.to_string(),
            scenario: name.to_string(),
            position: 0,
            scenario_sha256: job_sha256,
            seed,
            paths,
            antithetic: false,
            paths_out: 0,
            shard_index: spec.index,
            shard_count: spec.count,
            units,
            first: range.start,
            end: range.end,
            payload_bytes: 0,
            sha256: String::new(),
        }
    }

    /// What the payload repeats of this header: every field but the payload's length and
    /// the checksum.
    fn identity(&self) -> ShardHeader {
        ShardHeader {
            payload_bytes: 0,
            sha256: String::new(),
            ..self.clone()
        }
    }

    /// SHA-256 (hex) of this header's pretty-printed JSON with its `sha256` field empty,
    /// then `payload` (the file's bytes after the header): the checksum a shard file
    /// carries, for tools that check or write shard files themselves.
    pub fn checksum(&self, payload: &[u8]) -> String {
        let unsigned = ShardHeader {
            sha256: String::new(),
            ..self.clone()
        };
        let mut hasher = Sha256::new();
        hasher.update(serde_json::to_vec_pretty(&unsigned).expect("a header serializes"));
        hasher.update(payload);
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// What a shard file's payload holds: the header's identity again, inside the checksummed
/// bytes a merge decodes, then the kind's own content. A payload moved under another
/// header (another seed, build or shard) is refused even with its checksum recomputed.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    identity: ShardHeader,
    body: Vec<u8>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    scenario_toml: String,
    /// The files the scenario was read from and the `--set` overrides, for run.json.
    scenario_files: Vec<String>,
    overrides: Vec<String>,
    statistics: ShardStatistics,
}

/// Why shards could not be written, read or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// A file or folder could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No shard files where they were looked for.
    #[error("{}: no shard files (shard-I-of-N.ccx) in it or in its subfolders", dir.display())]
    NoShards {
        /// The folder.
        dir: PathBuf,
    },
    /// A file is not a readable shard of this format.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A shard does not belong with the others.
    #[error(
        "{}: {field} is {found}, but {} has {expected}: the shards are not of the same run",
        path.display(),
        first.display()
    )]
    Foreign {
        /// The odd shard.
        path: PathBuf,
        /// The shard it was compared with.
        first: PathBuf,
        /// The header field that differs.
        field: &'static str,
        /// The first shard's value.
        expected: String,
        /// This shard's value.
        found: String,
    },
    /// Two files claim the same shard.
    #[error("{} and {} are both shard {index} of scenario `{scenario}`", path.display(), other.display())]
    Duplicate {
        /// One file.
        path: PathBuf,
        /// The other.
        other: PathBuf,
        /// Scenario name.
        scenario: String,
        /// Shard index.
        index: u64,
    },
    /// Shards of the run are missing.
    #[error(
        "scenario `{scenario}`: missing shards {}{} of {count}; re-run them ({}) and merge again",
        list(missing),
        if *total_missing > missing.len() as u64 {
            format!(" and {} more", total_missing - missing.len() as u64)
        } else {
            String::new()
        },
        missing.iter().map(|i| format!("--shard {i}/{count}")).collect::<Vec<_>>().join(", ")
    )]
    Missing {
        /// Scenario name.
        scenario: String,
        /// Missing shard indices (the first 20).
        missing: Vec<u64>,
        /// How many are missing.
        total_missing: u64,
        /// Number of shards of the run.
        count: u64,
    },
    /// The merge itself failed.
    #[error("scenario `{scenario}`: {source}")]
    Run {
        /// Scenario name.
        scenario: String,
        /// Cause.
        #[source]
        source: RunError,
    },
}

fn list(indices: &[u64]) -> String {
    indices
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Simulates shard `spec` of `scenario`'s run and writes `dir/shard-I-of-N.ccx` through a
/// temporary file (a failed or killed task leaves none). Returns the file. `position` is
/// the scenario's place in its command's list of scenarios (0 for one).
///
/// # Errors
///
/// [`ShardError::Run`] if the simulation fails or the run has fewer blocks than shards;
/// [`ShardError::Io`] if the file cannot be written.
pub fn run_shard(
    dir: &Path,
    scenario: &Scenario,
    options: &RunOptions,
    spec: ShardSpec,
    position: u64,
) -> Result<PathBuf, ShardError> {
    let run_error = |source| ShardError::Run {
        scenario: scenario.name().to_string(),
        source,
    };
    let blocks = spec
        .blocks(scenario.simulation().paths)
        .map_err(|m| run_error(RunError::Sharded(m)))?;
    let statistics =
        crate::runner::simulate_shard(scenario, options, blocks.clone()).map_err(run_error)?;
    let payload = postcard::to_allocvec(&Payload {
        scenario_toml: scenario.resolved_toml(),
        scenario_files: scenario.files().to_vec(),
        overrides: scenario.overrides().to_vec(),
        statistics,
    })
    .map_err(|e| ShardError::Corrupt {
        path: dir.join(spec.file_name()),
        reason: format!("cannot encode the shard: {e}"),
    })?;
    let header = ShardHeader {
        format_version: FORMAT_VERSION,
        kind: RUN.to_string(),
        cloudcapex_version: CRATE_VERSION.to_string(),
        build: BUILD.to_string(),
        scenario: scenario.name().to_string(),
        position,
        scenario_sha256: scenario.sha256(),
        seed: scenario.simulation().seed,
        paths: scenario.simulation().paths,
        antithetic: options.antithetic,
        paths_out: options.paths_out,
        shard_index: spec.index,
        shard_count: spec.count,
        units: scenario.simulation().paths.div_ceil(BLOCK_SIZE),
        first: blocks.start,
        end: blocks.end,
        payload_bytes: 0,
        sha256: String::new(),
    };
    write_shard_file(&dir.join(spec.file_name()), header, &payload)
}

/// Writes a shard file (`header` completed with the payload's length and the checksum of
/// both) at `path` through a temporary file.
///
/// # Errors
///
/// [`ShardError::Io`] if it cannot be written.
pub fn write_shard_file(
    path: &Path,
    mut header: ShardHeader,
    payload: &[u8],
) -> Result<PathBuf, ShardError> {
    let payload = postcard::to_allocvec(&Envelope {
        identity: header.identity(),
        body: payload.to_vec(),
    })
    .map_err(|e| ShardError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("cannot encode the shard: {e}"),
    })?;
    let payload = payload.as_slice();
    header.payload_bytes = payload.len() as u64;
    header.sha256 = header.checksum(payload);
    let json = serde_json::to_vec_pretty(&header).expect("a header serializes");
    write_atomically(path, |out| {
        out.write_all(MAGIC)?;
        out.write_all(&(json.len() as u32).to_le_bytes())?;
        out.write_all(&json)?;
        out.write_all(payload)
    })
    .map_err(|OutputError { path, source }| ShardError::Io { path, source })
}

/// Reads a shard file's header (and leaves the payload unread).
///
/// # Errors
///
/// [`ShardError::Io`] or [`ShardError::Corrupt`] (not a shard, truncated, another format
/// version).
pub fn read_header(path: &Path) -> Result<ShardHeader, ShardError> {
    let mut file = std::fs::File::open(path).map_err(|source| ShardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_header_from(&mut file, path)
}

fn corrupt(path: &Path, reason: impl Into<String>) -> ShardError {
    ShardError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn read_header_from(file: &mut impl Read, path: &Path) -> Result<ShardHeader, ShardError> {
    let mut start = [0u8; 12];
    file.read_exact(&mut start)
        .map_err(|_| corrupt(path, "not a cloudcapex shard file (too short)"))?;
    if &start[..8] != MAGIC {
        return Err(corrupt(
            path,
            "not a cloudcapex shard file (it does not start with CCXSHARD)",
        ));
    }
    let length = u32::from_le_bytes(start[8..].try_into().expect("4 bytes"));
    if length > MAX_HEADER_BYTES {
        return Err(corrupt(path, "corrupt header length"));
    }
    let mut json = vec![0u8; length as usize];
    file.read_exact(&mut json)
        .map_err(|_| corrupt(path, "truncated header"))?;
    let header: ShardHeader = serde_json::from_slice(&json).map_err(|e| {
        let version = serde_json::from_slice::<serde_json::Value>(&json)
            .ok()
            .and_then(|v| v["format_version"].as_u64());
        match version {
            Some(v) if v != u64::from(FORMAT_VERSION) => format!(
                "shard format version {v}; this cloudcapex {CRATE_VERSION} reads version {FORMAT_VERSION}"
            ),
            _ => format!("corrupt header: {e}"),
        }
    })
    .map_err(|reason| corrupt(path, reason))?;
    if header.format_version != FORMAT_VERSION {
        return Err(corrupt(
            path,
            format!(
                "shard format version {}; this cloudcapex {CRATE_VERSION} reads version {FORMAT_VERSION}",
                header.format_version
            ),
        ));
    }
    Ok(header)
}

/// Reads and checks a shard's payload against its header's length and checksum.
fn read_payload(path: &Path, header: &ShardHeader) -> Result<Payload, ShardError> {
    decode(path, &read_payload_bytes(path, header)?)
}

fn decode<T: serde::de::DeserializeOwned>(path: &Path, payload: &[u8]) -> Result<T, ShardError> {
    postcard::from_bytes(payload).map_err(|e| corrupt(path, format!("undecodable payload: {e}")))
}

/// A shard's payload bytes, checked against its header's length and checksum.
fn read_payload_bytes(path: &Path, header: &ShardHeader) -> Result<Vec<u8>, ShardError> {
    let mut file = std::fs::File::open(path).map_err(|source| ShardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let again = read_header_from(&mut file, path)?;
    if &again != header {
        return Err(corrupt(path, "the file changed while merging"));
    }
    let mut payload = Vec::with_capacity(header.payload_bytes.min(1 << 30) as usize);
    file.read_to_end(&mut payload)
        .map_err(|source| ShardError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let (found, expected) = (payload.len() as u64, header.payload_bytes);
    if found < expected {
        return Err(corrupt(
            path,
            format!("truncated: the payload has {found} of its {expected} bytes"),
        ));
    }
    if found > expected {
        return Err(corrupt(
            path,
            format!(
                "{} bytes after the end of its {expected}-byte payload: the file was appended to or damaged",
                found - expected
            ),
        ));
    }
    if header.checksum(&payload) != header.sha256 {
        return Err(corrupt(
            path,
            "its SHA-256 does not match its header and payload: the file is damaged or was edited",
        ));
    }
    let envelope: Envelope = decode(path, &payload)?;
    if let Some((field, inside, outside)) = first_difference(&envelope.identity, &header.identity())
    {
        return Err(corrupt(
            path,
            format!(
                "its payload was written with {field} {inside}, but its header says {outside}: \
                 the header was edited or belongs to another shard"
            ),
        ));
    }
    Ok(envelope.body)
}

/// The first field in which two headers differ, with both values.
fn first_difference(a: &ShardHeader, b: &ShardHeader) -> Option<(String, String, String)> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return None;
    };
    a.iter()
        .find(|(key, value)| b.get(*key) != Some(value))
        .map(|(key, value)| {
            (
                key.clone(),
                value.to_string(),
                b.get(key).map_or("nothing".into(), ToString::to_string),
            )
        })
}

/// The shards of one scenario's run, checked to be complete and of one run, in order.
#[derive(Debug)]
pub struct ShardSet {
    /// The shards' common header fields (those of shard 0).
    pub header: ShardHeader,
    /// The files and their checked headers, shard 0 first.
    shards: Vec<(PathBuf, ShardHeader)>,
}

/// Finds the shard files in `dir` and its immediate subfolders (the `--out` of the shard
/// runs, one folder per scenario) and groups them into complete runs, one per scenario,
/// by scenario name.
///
/// # Errors
///
/// [`ShardError`]: no shards; a file that is not a shard or has another format version;
/// a shard whose scenario hash, seed, paths, crate version, antithetic or kept-paths
/// setting, or shard count differs from its scenario's others; two files for one shard;
/// a block range that is not the one its index gives; missing shards (all listed).
pub fn find_shards(dir: &Path) -> Result<Vec<ShardSet>, ShardError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ShardError::Io { path, source }
    };
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            folders.push(path);
        }
    }
    for folder in &folders {
        for entry in std::fs::read_dir(folder).map_err(io(folder))? {
            let path = entry.map_err(io(folder))?.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "ccx") {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(ShardError::NoShards {
            dir: dir.to_path_buf(),
        });
    }
    let mut by_scenario: BTreeMap<(String, String), Vec<(PathBuf, ShardHeader)>> = BTreeMap::new();
    for path in files {
        let header = read_header(&path)?;
        // The checksum (and the payload's copy of the header) before anything in the
        // header is trusted.
        read_payload_bytes(&path, &header)?;
        check_names(&path, &header)?;
        by_scenario
            .entry((header.kind.clone(), header.scenario.clone()))
            .or_default()
            .push((path, header));
    }
    let mut sets = by_scenario
        .into_values()
        .map(shard_set)
        .collect::<Result<Vec<_>, _>>()?;
    // The command's order of scenarios (then kind and name), as the unsharded run writes them.
    sets.sort_by_key(|set| set.header.position);
    Ok(sets)
}

/// A header's scenario must be one folder name (merge writes into `OUT/<scenario>`),
/// and the file must be named after the shard its header says it is.
fn check_names(path: &Path, header: &ShardHeader) -> Result<(), ShardError> {
    let name = &header.scenario;
    // One path component, as a scenario file's stem is (it may hold spaces): never a
    // path out of the merge's folder.
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if !plain {
        return Err(corrupt(
            path,
            format!(
                "its header names the scenario {name:?}, not one folder name (a path out of --out)"
            ),
        ));
    }
    let expected = format!("shard-{}-of-{}.ccx", header.shard_index, header.shard_count);
    if path.file_name().is_none_or(|f| f != expected.as_str()) {
        return Err(corrupt(
            path,
            format!(
                "its header says it is shard {}/{} of `{name}`, which is named {expected}: rename it back",
                header.shard_index, header.shard_count
            ),
        ));
    }
    Ok(())
}

fn shard_set(mut shards: Vec<(PathBuf, ShardHeader)>) -> Result<ShardSet, ShardError> {
    shards.sort_by_key(|(_, h)| h.shard_index);
    let (first_path, first) = shards[0].clone();
    for (path, header) in &shards {
        let fields: [(&'static str, String, String); 8] = [
            ("build", first.build.clone(), header.build.clone()),
            (
                "scenario_sha256",
                first.scenario_sha256.clone(),
                header.scenario_sha256.clone(),
            ),
            ("seed", first.seed.to_string(), header.seed.to_string()),
            ("paths", first.paths.to_string(), header.paths.to_string()),
            (
                "cloudcapex_version",
                first.cloudcapex_version.clone(),
                header.cloudcapex_version.clone(),
            ),
            (
                "antithetic",
                first.antithetic.to_string(),
                header.antithetic.to_string(),
            ),
            (
                "paths_out",
                first.paths_out.to_string(),
                header.paths_out.to_string(),
            ),
            (
                "shard_count",
                first.shard_count.to_string(),
                header.shard_count.to_string(),
            ),
        ];
        for (field, expected, found) in fields {
            if expected != found {
                return Err(ShardError::Foreign {
                    path: path.clone(),
                    first: first_path.clone(),
                    field,
                    expected,
                    found,
                });
            }
        }
        let spec = ShardSpec {
            index: header.shard_index,
            count: header.shard_count,
        };
        let units_ok = header.units == first.units
            && (header.kind != RUN || header.units == header.paths.div_ceil(BLOCK_SIZE));
        let expected = spec
            .range(header.units, "units")
            .map_err(|reason| corrupt(path, reason))?;
        if header.shard_index >= header.shard_count
            || !units_ok
            || expected != (header.first..header.end)
        {
            return Err(corrupt(
                path,
                format!(
                    "shard {spec} covers {}..{} of {}, not the range {}..{} its index gives",
                    header.first, header.end, header.units, expected.start, expected.end
                ),
            ));
        }
    }
    for pair in shards.windows(2) {
        if pair[0].1.shard_index == pair[1].1.shard_index {
            return Err(ShardError::Duplicate {
                path: pair[0].0.clone(),
                other: pair[1].0.clone(),
                scenario: first.scenario.clone(),
                index: pair[0].1.shard_index,
            });
        }
    }
    // Counted, and at most MAX_LISTED_MISSING listed, without a list as long as the count
    // a header claims (the checksums were checked before any count is trusted, and this
    // keeps a deliberately edited one from exhausting memory all the same).
    let present: std::collections::BTreeSet<u64> =
        shards.iter().map(|(_, h)| h.shard_index).collect();
    let total_missing = first.shard_count - present.len() as u64;
    if total_missing > 0 {
        let missing: Vec<u64> = (0..first.shard_count)
            .filter(|i| !present.contains(i))
            .take(MAX_LISTED_MISSING)
            .collect();
        return Err(ShardError::Missing {
            scenario: first.scenario.clone(),
            missing,
            total_missing,
            count: first.shard_count,
        });
    }
    Ok(ShardSet {
        header: first,
        shards,
    })
}

impl ShardSet {
    /// Reads every shard's payload and checks its length and checksum, so that a merge
    /// can refuse a damaged set before it writes anything.
    ///
    /// # Errors
    ///
    /// [`ShardError::Corrupt`] for a damaged payload, [`ShardError::Io`] for an unreadable one.
    pub fn verify(&self) -> Result<(), ShardError> {
        for (path, header) in &self.shards {
            read_payload_bytes(path, header)?;
        }
        Ok(())
    }

    /// Each shard's payload, decoded, in shard order (read one at a time).
    ///
    /// # Errors
    ///
    /// [`ShardError::Corrupt`] for a damaged or undecodable payload.
    pub fn payloads<T: serde::de::DeserializeOwned>(
        &self,
    ) -> impl Iterator<Item = Result<T, ShardError>> + '_ {
        self.shards
            .iter()
            .map(|(path, header)| decode(path, &read_payload_bytes(path, header)?))
    }

    /// The shard files, shard 0 first.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.shards.iter().map(|(path, _)| path.as_path())
    }

    /// The shard files with their headers, shard 0 first.
    pub fn shards(&self) -> impl Iterator<Item = (&Path, &ShardHeader)> {
        self.shards
            .iter()
            .map(|(path, header)| (path.as_path(), header))
    }

    /// The run's scenario (from shard 0's payload, checked against the headers' hash)
    /// and its [`Results`], merged one shard at a time in block order.
    ///
    /// # Errors
    ///
    /// [`ShardError::Corrupt`] for a damaged or undecodable payload or a scenario that
    /// does not match the headers; [`ShardError::Run`] if the statistics do not fit.
    pub fn merge(&self) -> Result<(Scenario, Results), ShardError> {
        let header = &self.header;
        if header.kind != RUN {
            return Err(corrupt(
                &self.shards[0].0,
                format!("a {} shard, not a run's", header.kind),
            ));
        }
        let first_file = &self.shards[0].0;
        let first = read_payload(first_file, header)?;
        let scenario = Scenario::from_toml_str(
            &header.scenario,
            "the shard's resolved scenario",
            &first.scenario_toml,
            &[],
        )
        .map_err(|e| corrupt(first_file, format!("its scenario does not load: {e}")))?
        .with_provenance(first.scenario_files.clone(), first.overrides.clone());
        if scenario.sha256() != header.scenario_sha256
            || scenario.simulation().seed != header.seed
            || scenario.simulation().paths != header.paths
        {
            return Err(corrupt(
                first_file,
                "its scenario does not match its header (hash, seed or paths)",
            ));
        }
        let options = RunOptions {
            paths_out: header.paths_out,
            antithetic: header.antithetic,
            ..Default::default()
        };
        let mut failure = None;
        let mut first = Some(first.statistics);
        let statistics = self.shards.iter().map_while(|(path, header)| {
            if let Some(statistics) = first.take() {
                return Some(statistics);
            }
            match read_payload(path, header) {
                Ok(payload) => Some(payload.statistics),
                Err(e) => {
                    failure = Some(e);
                    None
                }
            }
        });
        let merged = crate::runner::merge_shards(&scenario, &options, statistics);
        if let Some(e) = failure {
            return Err(e);
        }
        let results = merged.map_err(|source| ShardError::Run {
            scenario: header.scenario.clone(),
            source,
        })?;
        Ok((scenario, results))
    }
}
