//! A command's outputs as one transaction. Every folder a command writes in `OUT` is built
//! in a staging folder beside it (`OUT/.cloudcapex.staging-*/new/<name>`), sealed with a
//! manifest, and swapped in whole at the end: with `renameat2(RENAME_EXCHANGE)` where the
//! system has it (Linux), so `OUT/<name>` is at every moment the old folder or the new one;
//! elsewhere (or on a filesystem that refuses the exchange) by two renames, between which
//! `OUT/<name>` is briefly absent, never mixed. A journal written before the first swap
//! lets the next command finish a commit that a SIGKILL cut short (roll forward); staging
//! folders without a journal are discarded. Before anything is simulated, each destination
//! is checked to be absent or cloudcapex's own output of the same kind
//! ([`manifest::inspect`]); anything else is refused by name, never deleted.
//! docs/reliability.md states the guarantees.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::lock::{LockError, LockMode, OutLock};
use super::manifest::{self, Foreign, Inspection};

/// Prefix of staging folders in `OUT`.
const STAGING_PREFIX: &str = ".cloudcapex.staging-";
/// The journal of a commit under way, inside its staging folder.
const JOURNAL: &str = "journal.json";
/// The kind of output a run's folder holds (see [`Transaction::claim`]).
pub const RUN_KIND: &str = "run";
/// The name of the comparison page's folder, and its kind.
pub const COMPARISON: &str = "comparison_report";

/// Held while a commit's swaps are under way: an interrupt waits for them (a few renames),
/// so it never stops a commit half done.
static COMMITTING: Mutex<()> = Mutex::new(());

/// The staging folders of this process's live transactions, removed on an interrupt.
static STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn staging_registry() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    STAGING.lock().unwrap_or_else(|p| p.into_inner())
}

fn register_staging(dir: &Path) {
    staging_registry().push(dir.to_path_buf());
}

fn unregister_staging(dir: &Path) {
    staging_registry().retain(|d| d != dir);
}

/// On an interrupt: waits for a commit under way, stops new writes and commits, and
/// removes every temporary file and staging folder of this process (a commit that a
/// failure cut short is finished first). Called by [`super::remove_in_flight`].
pub(crate) fn stop_on_interrupt() {
    let _commits = hold_commits();
    super::in_flight::stop_and_remove_temporaries();
    for dir in staging_registry().drain(..) {
        discard_on_interrupt(&dir);
    }
}

/// How a claimed folder is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimMode {
    /// The new folder holds only what this command writes (and the shard files the old one
    /// held, inputs of a later `merge`).
    Replace,
    /// The new folder starts as a copy of the old one (hard links), so a command that adds
    /// or rewrites some files of a folder (a Sobol design's export, then its evaluations)
    /// keeps the others.
    Update,
}

/// Why a transaction could not begin, claim or commit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The lock on `OUT` could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The destination holds something cloudcapex did not write, or output of another kind.
    #[error(
        "{}{}: {reason}; cloudcapex replaces only folders it wrote itself: move {} away or choose another --out",
        folder.display(),
        if path == folder { String::new() } else { format!(" cannot be replaced, {} is there", path.display()) },
        if path == folder { "it" } else { "the folder (or that file)" }
    )]
    NotOwned {
        /// The output folder that cannot be replaced.
        folder: PathBuf,
        /// The file, link or folder in the way (the folder itself, or something in it).
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Two outputs of one command want the same folder.
    #[error("{} is written twice by this command ({first} and {second}); rename one", path.display())]
    Clash {
        /// The folder.
        path: PathBuf,
        /// The first output's kind.
        first: String,
        /// The second's.
        second: String,
    },
    /// An I/O error.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl TransactionError {
    /// Whether the error is refused input (exit 2) rather than a failure while writing.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::NotOwned { .. } | Self::Clash { .. })
            || matches!(self, Self::Lock(LockError::NotAFile { .. }))
    }
}

fn not_owned(folder: &Path, foreign: Foreign) -> TransactionError {
    TransactionError::NotOwned {
        folder: folder.to_path_buf(),
        path: foreign.path,
        reason: foreign.reason,
    }
}

fn refused(folder: &Path, reason: impl Into<String>) -> TransactionError {
    TransactionError::NotOwned {
        folder: folder.to_path_buf(),
        path: folder.to_path_buf(),
        reason: reason.into(),
    }
}

impl From<TransactionError> for super::OutputError {
    fn from(e: TransactionError) -> Self {
        match e {
            TransactionError::Io { path, source } => super::OutputError { path, source },
            other => super::OutputError {
                path: PathBuf::new(),
                source: io::Error::other(other.to_string()),
            },
        }
    }
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> TransactionError + '_ {
    move |source| TransactionError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Debug)]
struct Claim {
    name: String,
    kind: String,
    compares: Vec<String>,
}

/// One command's outputs in `OUT`, swapped in together by [`Transaction::commit`];
/// dropped uncommitted, it leaves `OUT` as it found it.
#[derive(Debug)]
pub struct Transaction {
    _lock: OutLock,
    out: PathBuf,
    staging: PathBuf,
    claims: Vec<Claim>,
    notes: Vec<String>,
    committed: bool,
}

/// The journal: what a commit swaps in, each folder with the SHA-256 of its new manifest.
#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
    replace: Vec<(String, String)>,
    remove: Vec<String>,
}

impl Transaction {
    /// Takes the exclusive lock on `out` (created if needed), finishes or discards what an
    /// interrupted command left (said in [`Transaction::notes`]) and creates this one's
    /// staging folder.
    ///
    /// # Errors
    ///
    /// [`TransactionError::Lock`] if another command holds `out`; I/O errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::output::{ClaimMode, Transaction};
    /// let out = tempfile::tempdir().unwrap();
    /// let mut tx = Transaction::begin(out.path()).unwrap();
    /// let staged = tx.claim("base", "run", ClaimMode::Replace).unwrap();
    /// std::fs::write(staged.join("summary.csv"), "a\n").unwrap();
    /// tx.commit().unwrap();
    /// assert!(out.path().join("base/summary.csv").is_file());
    /// ```
    pub fn begin(out: &Path) -> Result<Self, TransactionError> {
        let lock = OutLock::acquire(out, LockMode::Exclusive)?;
        let notes = recover(out);
        let staging = out.join(format!(
            "{STAGING_PREFIX}{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir(&staging).map_err(io_at(&staging))?;
        std::fs::create_dir(staging.join("new")).map_err(io_at(&staging))?;
        register_staging(&staging);
        Ok(Transaction {
            _lock: lock,
            out: out.to_path_buf(),
            staging,
            claims: Vec::new(),
            notes,
            committed: false,
        })
    }

    /// What beginning found and did (leftovers of an interrupted command finished or
    /// removed), for the command to say.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The output folder.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Claims `OUT/<name>` for output of `kind`: checks that it is absent or cloudcapex's
    /// own output of that kind, and returns the staging folder to write it in (empty for
    /// [`ClaimMode::Replace`] but for the old folder's shard files; a copy of the old one
    /// for [`ClaimMode::Update`]).
    ///
    /// # Errors
    ///
    /// [`TransactionError::NotOwned`] naming what is in the way; [`TransactionError::Clash`]
    /// if this command already claimed the name; I/O errors.
    pub fn claim(
        &mut self,
        name: &str,
        kind: &str,
        mode: ClaimMode,
    ) -> Result<PathBuf, TransactionError> {
        let destination = self.out.join(name);
        if !is_output_name(name) {
            return Err(refused(
                &destination,
                "not a name cloudcapex writes (one path component, not starting with a dot)",
            ));
        }
        if let Some(first) = self.claims.iter().find(|c| c.name == name) {
            return Err(TransactionError::Clash {
                path: destination,
                first: first.kind.clone(),
                second: kind.to_string(),
            });
        }
        let prior = check_destination(&destination, kind)?;
        let staged = self.staging.join("new").join(name);
        std::fs::create_dir(&staged).map_err(io_at(&staged))?;
        if let Some(prior) = prior {
            let carried: Vec<&PathBuf> = match mode {
                ClaimMode::Replace => prior.shards.iter().collect(),
                ClaimMode::Update => prior
                    .files
                    .iter()
                    .filter(|f| !is_manifest_or_temp(f))
                    .collect(),
            };
            for rel in carried {
                let to = staged.join(rel);
                if let Some(parent) = to.parent() {
                    std::fs::create_dir_all(parent).map_err(io_at(parent))?;
                }
                let from = destination.join(rel);
                if std::fs::hard_link(&from, &to).is_err() {
                    std::fs::copy(&from, &to).map_err(io_at(&to))?;
                }
            }
        }
        self.claims.push(Claim {
            name: name.to_string(),
            kind: kind.to_string(),
            compares: Vec::new(),
        });
        Ok(staged)
    }

    /// Claims the comparison page's folder `OUT/comparison`, which links to the folders
    /// `compares` (replaced with them, and removed when a later command replaces one of them
    /// without writing a new page).
    ///
    /// # Errors
    ///
    /// As [`Transaction::claim`].
    pub fn claim_comparison(&mut self, compares: &[String]) -> Result<PathBuf, TransactionError> {
        let staged = self.claim(COMPARISON, COMPARISON, ClaimMode::Replace)?;
        if let Some(claim) = self.claims.last_mut() {
            claim.compares = compares.to_vec();
        }
        Ok(staged)
    }

    /// The folder the claimed folders are staged in, side by side as in `OUT`: a writer
    /// given it in place of `OUT` writes every claimed folder's files into their staging.
    pub fn staged_root(&self) -> PathBuf {
        self.staging.join("new")
    }

    /// The staging folder of a claimed name.
    pub fn staged(&self, name: &str) -> Option<PathBuf> {
        self.claims
            .iter()
            .any(|c| c.name == name)
            .then(|| self.staging.join("new").join(name))
    }

    /// Where a file written at `staged` (inside a claimed folder's staging folder) will be
    /// once committed; any other path unchanged.
    pub fn final_path(&self, staged: &Path) -> PathBuf {
        staged
            .strip_prefix(self.staging.join("new"))
            .map_or_else(|_| staged.to_path_buf(), |rel| self.out.join(rel))
    }

    /// Seals every claimed folder with its manifest and swaps them all into `OUT`; a
    /// comparison page linking to a replaced folder, and not rewritten, is removed with it.
    /// Returns what was said (notes of leftovers, files kept).
    ///
    /// # Errors
    ///
    /// [`TransactionError::NotOwned`] if a destination changed hands since it was claimed
    /// (then nothing is swapped); I/O errors. An error before the first swap leaves `OUT`
    /// as it was.
    pub fn commit(mut self) -> Result<Vec<String>, TransactionError> {
        let mut journal = Journal {
            replace: Vec::new(),
            remove: Vec::new(),
        };
        for claim in &self.claims {
            let staged = self.staging.join("new").join(&claim.name);
            let (_, sha) =
                manifest::seal(&staged, &claim.kind, &claim.compares).map_err(io_at(&staged))?;
            // Checked again: something may have been put there since the claim.
            check_destination(&self.out.join(&claim.name), &claim.kind)?;
            journal.replace.push((claim.name.clone(), sha));
        }
        let replaced: Vec<&str> = self.claims.iter().map(|c| c.name.as_str()).collect();
        let page = self.out.join(COMPARISON);
        let page_is_folder = std::fs::symlink_metadata(&page)
            .is_ok_and(|m| m.is_dir() && !m.file_type().is_symlink());
        if !replaced.contains(&COMPARISON)
            && page_is_folder
            && let Ok(Some(m)) = manifest::read_manifest(&page)
            && m.kind == COMPARISON
            && m.compares.iter().any(|c| replaced.contains(&c.as_str()))
        {
            match manifest::inspect(&page) {
                Ok(_) => {
                    journal.remove.push(COMPARISON.to_string());
                    self.notes.push(format!(
                        "removed {}: it compared runs this command replaced",
                        page.display()
                    ));
                }
                Err(f) => self.notes.push(format!(
                    "kept {} although it compares runs this command replaced: {} is {}",
                    page.display(),
                    f.path.display(),
                    f.reason
                )),
            }
        }
        // The journal, the swaps and the clean-up under one guard: an interrupt waits for
        // them, and a SIGKILL among them leaves the journal for the next command.
        let _committing = hold_commits();
        if super::in_flight::interrupted() {
            return Err(TransactionError::Io {
                path: self.out.clone(),
                source: io::Error::new(io::ErrorKind::Interrupted, "the run was interrupted"),
            });
        }
        let journal_path = self.staging.join(JOURNAL);
        let bytes = serde_json::to_vec(&journal).map_err(io::Error::other);
        bytes
            .and_then(|bytes| write_synced(&journal_path, &bytes))
            .map_err(io_at(&journal_path))?;
        self.committed = true;
        let mut done = Vec::new();
        if let Err(e) = apply(&self.out, &self.staging, &journal, &mut done) {
            // A swap failed part way (a folder made immutable, a mount point): undo the
            // others, so that an error changes nothing; if that fails too, the journal
            // stays and the next command into OUT finishes the commit.
            if roll_back(&self.out, &self.staging, &done) {
                let _ = std::fs::remove_file(&journal_path);
                self.committed = false; // all of staging is new again: Drop removes it
                return Err(e);
            }
            let replaced: Vec<&str> = done.iter().map(Step::name).collect();
            return Err(TransactionError::Io {
                path: self.out.clone(),
                source: io::Error::other(format!(
                    "{e}; {} already replaced and could not be put back: the commit stays pending \
                     ({}), and the next command into this folder finishes it",
                    replaced.join(", "),
                    self.staging.display()
                )),
            });
        }
        self.notes.extend(discard(&self.staging, false));
        unregister_staging(&self.staging);
        Ok(std::mem::take(&mut self.notes))
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.committed {
            // Nothing was swapped in: the staging folder is all new, all ours.
            let _ = discard(&self.staging, true);
            unregister_staging(&self.staging);
        }
    }
}

/// For a shard task (`run --shard`, `sweep --shard`, …), which adds its own shard file to
/// `OUT/<name>` beside other tasks' and outside any transaction: takes the lock on `out`
/// shared (tasks run together; a command replacing folders waits for none and is refused
/// while they run), checks that `OUT/<name>` is absent or cloudcapex's output of `kind`,
/// and creates it. A task that `adds_outputs` beside its shard file (a sweep's point
/// folders) is refused a folder holding a finished output, whose files it would rewrite in
/// place; any task is refused one whose finished output was merged from a `shard_file` of
/// the same name. Returns the lock, to hold while the task writes, and the folder.
///
/// # Errors
///
/// As [`Transaction::claim`], and [`TransactionError::Lock`] while a command holds `out`
/// exclusively.
pub fn shard_folder(
    out: &Path,
    name: &str,
    kind: &str,
    shard_file: &str,
    adds_outputs: bool,
) -> Result<(OutLock, PathBuf), TransactionError> {
    let lock = OutLock::acquire(out, LockMode::Shared)?;
    let folder = out.join(name);
    if !is_output_name(name) {
        return Err(refused(
            &folder,
            "not a name cloudcapex writes (one path component, not starting with a dot)",
        ));
    }
    let committed = |inspection: Option<Inspection>| match inspection {
        Some(i) if adds_outputs && i.manifest.is_some() => Err(refused(
            &folder,
            format!(
                "holds a finished {kind} output, whose files this shard task would rewrite in \
                 place; give the shard tasks another --out, or remove the folder"
            ),
        )),
        Some(i) if i.manifest.is_some() && i.shards.iter().any(|s| s == Path::new(shard_file)) => {
            Err(refused(
                &folder,
                format!(
                    "holds a finished {kind} output merged from its {shard_file}, which this \
                     shard task would overwrite; give the new job another --out, or remove the folder"
                ),
            ))
        }
        _ => Ok(()),
    };
    committed(check_destination(&folder, kind)?)?;
    match std::fs::create_dir(&folder) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_at(&folder)(e)),
    }
    // Created by another task in between, or already there: checked once more.
    committed(check_destination(&folder, kind)?)?;
    Ok((lock, folder))
}

/// A name cloudcapex gives a folder in `OUT`: one path component, not hidden (the lock and
/// the staging folders are), within the file-name limit.
fn is_output_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

fn is_manifest_or_temp(rel: &Path) -> bool {
    rel.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n == manifest::MANIFEST_FILE || (n.starts_with(".cloudcapex.") && n.ends_with(".tmp"))
    })
}

/// `None` if `destination` is absent; its inspection if it is cloudcapex's output of `kind`
/// (or a folder of shards of that kind, or empty); otherwise why not.
fn check_destination(
    destination: &Path,
    kind: &str,
) -> Result<Option<Inspection>, TransactionError> {
    let meta = match std::fs::symlink_metadata(destination) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at(destination)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(refused(
            destination,
            "is a symbolic link (cloudcapex never writes through links in --out)",
        ));
    }
    if !meta.is_dir() {
        return Err(refused(
            destination,
            "is a file where this output's folder goes",
        ));
    }
    let inspection = manifest::inspect(destination).map_err(|f| not_owned(destination, f))?;
    if let Some(found) = &inspection.kind
        && found != kind
    {
        return Err(refused(
            destination,
            format!("holds a {found} output, and this command writes a {kind} output there"),
        ));
    }
    Ok(Some(inspection))
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Swaps `from` and `to` atomically (both exist), if the system can.
fn exchange(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::other("a NUL byte in a path"))
        };
        let (a, b) = (c(from)?, c(to)?);
        // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
        let status = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if status == 0 {
            return Ok(());
        }
        Err(io::Error::last_os_error())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (from, to);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Puts the staged folder `staged` at `destination`: exchanged where the system can,
/// else the old folder moved to `displaced` first.
/// How a folder was put in place, so that it can be undone.
#[derive(Clone, Debug)]
enum Step {
    /// Exchanged with the old folder (now at the staged path).
    Exchanged(String),
    /// Renamed into an absent name.
    Renamed(String),
    /// The old folder renamed to `displaced/`, then the new one into place.
    Displaced(String),
    /// The old folder renamed to `removed/`.
    Removed(String),
}

impl Step {
    /// The folder the step moved.
    fn name(&self) -> &str {
        match self {
            Step::Exchanged(n) | Step::Renamed(n) | Step::Displaced(n) | Step::Removed(n) => n,
        }
    }
}

fn swap_in(staged: &Path, destination: &Path, displaced: &Path, name: &str) -> io::Result<Step> {
    match std::fs::symlink_metadata(destination) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::rename(staged, destination).map(|()| Step::Renamed(name.to_string()))
        }
        Err(e) => Err(e),
        Ok(_) => match exchange(staged, destination) {
            Ok(()) => Ok(Step::Exchanged(name.to_string())),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
                ) || e.kind() == io::ErrorKind::Unsupported =>
            {
                // No atomic exchange here: the name is absent between the two renames.
                std::fs::rename(destination, displaced)?;
                if let Err(e) = std::fs::rename(staged, destination) {
                    let _ = std::fs::rename(displaced, destination);
                    return Err(e);
                }
                Ok(Step::Displaced(name.to_string()))
            }
            Err(e) => Err(e),
        },
    }
}

/// Carries out (or finishes) a journal's swaps; each step is skipped if already done, so a
/// journal can be applied again after a crash. Records each step taken in `done`.
fn apply(
    out: &Path,
    staging: &Path,
    journal: &Journal,
    done: &mut Vec<Step>,
) -> Result<(), TransactionError> {
    let displaced = staging.join("displaced");
    let removed = staging.join("removed");
    for (name, sha) in &journal.replace {
        let staged = staging.join("new").join(name);
        let destination = out.join(name);
        if manifest::manifest_sha256(&destination).as_deref() == Some(sha.as_str()) {
            continue; // already in place
        }
        if manifest::manifest_sha256(&staged).as_deref() != Some(sha.as_str()) {
            continue; // neither here nor there: nothing left to do
        }
        std::fs::create_dir_all(&displaced).map_err(io_at(&displaced))?;
        let step = swap_in(&staged, &destination, &displaced.join(name), name)
            .map_err(io_at(&destination))?;
        done.push(step);
    }
    for name in &journal.remove {
        let destination = out.join(name);
        // Only a real folder goes: a link put there since is left alone.
        if std::fs::symlink_metadata(&destination)
            .is_ok_and(|m| m.is_dir() && !m.file_type().is_symlink())
        {
            std::fs::create_dir_all(&removed).map_err(io_at(&removed))?;
            std::fs::rename(&destination, removed.join(name)).map_err(io_at(&destination))?;
            done.push(Step::Removed(name.to_string()));
        }
    }
    Ok(())
}

/// Undoes `done`, last step first, after a swap failed part way: `OUT` as before the
/// commit. Returns whether every step was undone.
fn roll_back(out: &Path, staging: &Path, done: &[Step]) -> bool {
    let mut whole = true;
    for step in done.iter().rev() {
        let undone = match step {
            Step::Exchanged(name) => exchange(&staging.join("new").join(name), &out.join(name)),
            Step::Renamed(name) => std::fs::rename(out.join(name), staging.join("new").join(name)),
            Step::Displaced(name) => {
                std::fs::rename(out.join(name), staging.join("new").join(name)).and_then(|()| {
                    std::fs::rename(staging.join("displaced").join(name), out.join(name))
                })
            }
            Step::Removed(name) => {
                std::fs::rename(staging.join("removed").join(name), out.join(name))
            }
        };
        whole &= undone.is_ok();
    }
    whole
}

/// Removes a staging folder: everything, if nothing in it was ever swapped (`all_new`);
/// otherwise only what [`manifest::inspect`] proves ours (old folders swapped out may hold
/// something put there during the commit). Returns notes of what stayed.
fn discard(staging: &Path, all_new: bool) -> Vec<String> {
    if all_new {
        let _ = std::fs::remove_dir_all(staging);
        return Vec::new();
    }
    let mut notes = Vec::new();
    let out = staging.parent().unwrap_or(Path::new("."));
    for part in ["new", "displaced", "removed"] {
        let Ok(entries) = std::fs::read_dir(staging.join(part)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let kept = manifest::remove_owned(&path);
            if kept.is_empty() {
                continue;
            }
            // Something not ours was swapped out with an old folder (put there, or a link
            // put in its place, while this command committed): never deleted, and moved
            // back into view beside the new folder rather than left in a hidden one.
            let name = entry.file_name().to_string_lossy().into_owned();
            let visible = (0..)
                .map(|k| out.join(format!("{name}.kept-{}-{k}", std::process::id())))
                .find(|p| std::fs::symlink_metadata(p).is_err())
                .expect("a free name");
            let moved = std::fs::rename(&path, &visible);
            for foreign in kept {
                // Named where it is now, not in the hidden staging folder.
                let shown = foreign
                    .path
                    .strip_prefix(&path)
                    .map_or_else(|_| visible.clone(), |rel| visible.join(rel));
                notes.push(match &moved {
                    Ok(()) => format!(
                        "moved what was in {name} when this command replaced it to {}: {} is {} \
                         (it appeared while the command committed; nothing was deleted)",
                        visible.display(),
                        shown.display(),
                        foreign.reason
                    ),
                    Err(e) => format!(
                        "kept {} ({}), which appeared while this command committed, in {}: {e}",
                        foreign.path.display(),
                        foreign.reason,
                        staging.display()
                    ),
                });
            }
        }
        let _ = std::fs::remove_dir(staging.join(part));
    }
    // The journal goes last, and only once nothing else is left: until then the next
    // command treats what is here as swapped out (proved ours before removal), never as
    // all new.
    let emptied = ["new", "displaced", "removed"]
        .iter()
        .all(|part| std::fs::symlink_metadata(staging.join(part)).is_err());
    if emptied {
        let _ = std::fs::remove_file(staging.join(JOURNAL));
        let _ = std::fs::remove_dir(staging);
    } else {
        notes.push(format!(
            "left {} with its journal: something in it could not be moved or removed; the next \
             command into this folder tries again",
            staging.display()
        ));
    }
    notes
}

/// Finishes or discards the staging folders an interrupted command left in `out` (the
/// caller holds the exclusive lock, so none is live). Returns what was done, to be said.
fn recover(out: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let Ok(entries) = std::fs::read_dir(out) else {
        return notes;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(STAGING_PREFIX)
            || !entry.file_type().is_ok_and(|t| t.is_dir())
        {
            continue;
        }
        let staging = entry.path();
        let journal = std::fs::read(staging.join(JOURNAL))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Journal>(&bytes).ok());
        match journal {
            Some(journal) => {
                let mut done = Vec::new();
                let finished = apply(out, &staging, &journal, &mut done).map(|()| done.len());
                let names: Vec<&str> = journal.replace.iter().map(|(n, _)| n.as_str()).collect();
                let ok = finished.is_ok();
                notes.push(match finished {
                    Ok(0) => format!(
                        "removed what an interrupted command left after its commit ({})",
                        staging.display()
                    ),
                    Ok(_) => format!(
                        "finished the commit of an interrupted command ({}): {}",
                        staging.display(),
                        names.join(", ")
                    ),
                    Err(e) => format!(
                        "could not finish the commit of an interrupted command ({}): {e}",
                        staging.display()
                    ),
                });
                if ok {
                    notes.extend(discard(&staging, false));
                }
            }
            None => {
                // Never committed: nothing in it was swapped, all of it is new.
                let _ = std::fs::remove_dir_all(&staging);
                notes.push(format!(
                    "removed the unfinished outputs of an interrupted command ({})",
                    staging.display()
                ));
            }
        }
    }
    notes
}

/// Removes a staging folder of this process on an interrupt, once no commit is under way.
fn discard_on_interrupt(staging: &Path) {
    let journal = std::fs::read(staging.join(JOURNAL))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Journal>(&bytes).ok());
    match (journal, staging.parent()) {
        // A commit that failed part way: finish it, as the next command would.
        (Some(journal), Some(out)) => {
            let _ = apply(out, staging, &journal, &mut Vec::new());
            let _ = discard(staging, false);
        }
        // Nothing was swapped: all of it is new.
        _ => {
            let _ = discard(staging, true);
        }
    }
}

/// Waits for a commit under way to finish; holds off new ones while the guard lives.
fn hold_commits() -> std::sync::MutexGuard<'static, ()> {
    COMMITTING.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seals the staged `names` and returns the journal a commit of them writes.
    fn sealed_journal(staging: &Path, names: &[&str]) -> Journal {
        let mut journal = Journal {
            replace: Vec::new(),
            remove: Vec::new(),
        };
        for name in names {
            let (_, sha) = manifest::seal(&staging.join("new").join(name), RUN_KIND, &[]).unwrap();
            journal.replace.push((name.to_string(), sha));
        }
        journal
    }

    fn stage(tx: &mut Transaction, name: &str, text: &str) {
        let dir = tx.claim(name, "run", ClaimMode::Replace).unwrap();
        std::fs::write(dir.join("summary.csv"), text).unwrap();
    }

    #[test]
    fn a_commit_replaces_folders_whole_and_leaves_no_staging() {
        let out = tempfile::tempdir().unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "old");
        let extra = tx.staged("base").unwrap().join("paths.csv");
        std::fs::write(extra, "x").unwrap();
        tx.commit().unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "new");
        tx.commit().unwrap();
        let base = out.path().join("base");
        assert_eq!(
            std::fs::read_to_string(base.join("summary.csv")).unwrap(),
            "new"
        );
        assert!(!base.join("paths.csv").exists());
        let left: Vec<_> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !left.iter().any(|n| n.starts_with(STAGING_PREFIX)),
            "{left:?}"
        );
    }

    #[test]
    fn foreign_folders_and_other_kinds_are_refused_and_kept() {
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(out.path().join(".ssh")).unwrap();
        std::fs::create_dir_all(out.path().join("home")).unwrap();
        std::fs::write(out.path().join("home/id_rsa"), "key").unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        let refused = tx.claim("home", "run", ClaimMode::Replace).unwrap_err();
        assert!(refused.is_refusal(), "{refused}");
        assert!(tx.claim(".ssh", "run", ClaimMode::Replace).is_err());
        stage(&mut tx, "sweep_base", "run");
        tx.commit().unwrap();
        assert!(out.path().join("home/id_rsa").is_file());
        let mut tx = Transaction::begin(out.path()).unwrap();
        let clash = tx
            .claim("sweep_base", "sweep", ClaimMode::Replace)
            .unwrap_err();
        assert!(clash.to_string().contains("holds a run output"), "{clash}");
    }

    #[test]
    fn an_uncommitted_transaction_changes_nothing() {
        let out = tempfile::tempdir().unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "first");
        tx.commit().unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "second");
        stage(&mut tx, "alt", "second");
        drop(tx);
        assert_eq!(
            std::fs::read_to_string(out.path().join("base/summary.csv")).unwrap(),
            "first"
        );
        assert!(!out.path().join("alt").exists());
    }

    #[test]
    fn swaps_done_before_a_failure_are_undone() {
        let out = tempfile::tempdir().unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "old");
        tx.commit().unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "new");
        stage(&mut tx, "alt", "new");
        let staging = tx.staging.clone();
        let journal = sealed_journal(&staging, &["alt", "base"]);
        let mut done = Vec::new();
        apply(out.path(), &staging, &journal, &mut done).unwrap();
        assert_eq!(done.len(), 2);
        assert!(roll_back(out.path(), &staging, &done));
        assert_eq!(
            std::fs::read_to_string(out.path().join("base/summary.csv")).unwrap(),
            "old"
        );
        assert!(!out.path().join("alt").exists());
        drop(tx);
        assert!(!staging.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_comparison_page_that_is_a_link_is_never_followed_or_removed() {
        let out = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        // A real page in another folder, linked into OUT under the page's name.
        let mut tx = Transaction::begin(other.path()).unwrap();
        stage(&mut tx, "base", "x");
        let page = tx.claim_comparison(&["base".to_string()]).unwrap();
        std::fs::write(page.join("report.html"), "page").unwrap();
        tx.commit().unwrap();
        let target = other.path().join(COMPARISON);
        std::os::unix::fs::symlink(&target, out.path().join(COMPARISON)).unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "y");
        tx.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("report.html")).unwrap(),
            "page"
        );
        assert!(
            std::fs::symlink_metadata(out.path().join(COMPARISON))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[cfg(unix)]
    #[test]
    fn what_was_swapped_out_but_not_ours_is_moved_back_into_view_never_deleted() {
        let out = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("thesis.tex"), "chapter").unwrap();
        // As a commit killed after its swaps left it: a link swapped out in place of `base`
        // (put there during the commit) and an old `alt` with a file that appeared in it.
        let staging = out.path().join(format!("{STAGING_PREFIX}1-2"));
        std::fs::create_dir_all(staging.join("new")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), staging.join("new/base")).unwrap();
        std::fs::create_dir_all(staging.join("new/alt")).unwrap();
        std::fs::write(staging.join("new/alt/summary.csv"), "old").unwrap();
        manifest::seal(&staging.join("new/alt"), RUN_KIND, &[]).unwrap();
        std::fs::write(staging.join("new/alt/my_notes.txt"), "mine").unwrap();
        let journal = Journal {
            replace: Vec::new(),
            remove: Vec::new(),
        };
        std::fs::write(staging.join(JOURNAL), serde_json::to_vec(&journal).unwrap()).unwrap();
        let tx = Transaction::begin(out.path()).unwrap();
        let notes = tx.notes().join("\n");
        drop(tx);
        assert_eq!(
            std::fs::read_to_string(elsewhere.path().join("thesis.tex")).unwrap(),
            "chapter"
        );
        assert!(!staging.exists(), "{notes}");
        let names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let kept_alt = names
            .iter()
            .find(|n| n.starts_with("alt.kept-"))
            .expect(&notes);
        assert_eq!(
            std::fs::read_to_string(out.path().join(kept_alt).join("my_notes.txt")).unwrap(),
            "mine"
        );
        assert!(
            names.iter().any(|n| n.starts_with("base.kept-")),
            "{names:?}"
        );
        assert!(notes.contains("my_notes.txt"), "{notes}");
    }

    #[test]
    fn a_journal_left_by_a_killed_commit_is_rolled_forward() {
        let out = tempfile::tempdir().unwrap();
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "first");
        stage(&mut tx, "alt", "first");
        tx.commit().unwrap();
        // A commit killed after its journal and one of two swaps.
        let mut tx = Transaction::begin(out.path()).unwrap();
        stage(&mut tx, "base", "second");
        stage(&mut tx, "alt", "second");
        let staging = tx.staging.clone();
        let journal = sealed_journal(&staging, &["alt", "base"]);
        std::fs::write(staging.join(JOURNAL), serde_json::to_vec(&journal).unwrap()).unwrap();
        exchange(&staging.join("new/alt"), &out.path().join("alt")).unwrap();
        tx.committed = true; // as if killed: no clean-up
        super::unregister_staging(&staging);
        drop(tx);
        let tx = Transaction::begin(out.path()).unwrap();
        assert!(
            tx.notes()[0].contains("finished the commit"),
            "{:?}",
            tx.notes()
        );
        for name in ["alt", "base"] {
            let text = std::fs::read_to_string(out.path().join(name).join("summary.csv")).unwrap();
            assert_eq!(text, "second", "{name}");
        }
        drop(tx);
        assert!(!staging.exists());
    }
}
