//! The lock on an output folder: an advisory `flock` on `OUT/.cloudcapex.lock`, held on an
//! open file descriptor for as long as the holder lives and released by the system when
//! the process ends, however it ends. The file is never removed: removing it to "release"
//! the lock let a process that had opened the old file and a process that created a new one
//! both hold "the" lock. Commands that replace folders take it exclusively; shard tasks,
//! which only add their own shard files, share it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// The lock file's name inside `OUT`; scenario names may not start with a dot, so no
/// output can take it.
pub const LOCK_FILE: &str = ".cloudcapex.lock";

/// How the lock is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockMode {
    /// One holder: a command that replaces folders in `OUT`.
    Exclusive,
    /// Any number of holders, none exclusive: shard tasks adding their own files.
    Shared,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another cloudcapex process holds it.
    #[error(
        "another cloudcapex run is writing to {} (it holds {}); wait for it to finish or choose another --out",
        out.display(), lock.display()
    )]
    Busy {
        /// The output folder.
        out: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The lock file is not a regular file (a symbolic link, a folder): refused, so that
    /// taking the lock never creates or opens a file outside `OUT`.
    #[error(
        "{} is not a regular file (a symbolic link, a folder or a FIFO?); cloudcapex does not follow or open it: remove it",
        path.display()
    )]
    NotAFile {
        /// The lock file's path.
        path: PathBuf,
    },
    /// The folder or the file could not be created or opened.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file or the folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// A held lock on an output folder; dropping it releases the lock (the file stays).
#[derive(Debug)]
pub struct OutLock {
    _file: File,
    out: PathBuf,
    mode: LockMode,
}

impl OutLock {
    /// Takes the lock on `out` (created if needed) without waiting.
    ///
    /// # Errors
    ///
    /// [`LockError::Busy`] if another process holds it incompatibly; [`LockError::NotAFile`]
    /// if `OUT/.cloudcapex.lock` is a symbolic link or not a file; [`LockError::Io`]
    /// otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use cloudcapex::output::{LockMode, OutLock};
    /// let out = tempfile::tempdir().unwrap();
    /// let lock = OutLock::acquire(out.path(), LockMode::Exclusive).unwrap();
    /// assert!(OutLock::acquire(out.path(), LockMode::Shared).is_err());
    /// drop(lock);
    /// assert!(OutLock::acquire(out.path(), LockMode::Shared).is_ok());
    /// ```
    pub fn acquire(out: &Path, mode: LockMode) -> Result<Self, LockError> {
        let path = out.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(out).map_err(|source| LockError::Io {
            path: out.to_path_buf(),
            source,
        })?;
        // Whatever is at the lock's name must be a regular file: a link is never followed
        // (nor its target created), a FIFO never opened (the open would wait for a reader).
        if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
            return Err(LockError::NotAFile { path });
        }
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The same, for a link or FIFO put there since the check: O_NONBLOCK makes the
            // open of a FIFO fail at once instead of waiting.
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let file = match options.open(&path) {
            Ok(file) => file,
            Err(e) if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) => {
                drop(e);
                return Err(LockError::NotAFile { path });
            }
            Err(e) => return Err(io(e)),
        };
        if !file.metadata().map_err(io)?.is_file() {
            return Err(LockError::NotAFile { path });
        }
        let taken = match mode {
            LockMode::Exclusive => file.try_lock(),
            LockMode::Shared => file.try_lock_shared(),
        };
        match taken {
            Ok(()) => Ok(OutLock {
                _file: file,
                out: out.to_path_buf(),
                mode,
            }),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy {
                out: out.to_path_buf(),
                lock: path,
            }),
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// The folder this lock is on.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// How it is held.
    pub fn mode(&self) -> LockMode {
        self.mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_outlives_its_holder_and_keeps_excluding() {
        let out = tempfile::tempdir().unwrap();
        let first = OutLock::acquire(out.path(), LockMode::Exclusive).unwrap();
        drop(first);
        // The file stays: a process that opened it before the release and one that comes
        // later lock the same file, so they exclude each other.
        assert!(out.path().join(LOCK_FILE).is_file());
        let opened_early = OutLock::acquire(out.path(), LockMode::Exclusive).unwrap();
        assert!(matches!(
            OutLock::acquire(out.path(), LockMode::Exclusive),
            Err(LockError::Busy { .. })
        ));
        drop(opened_early);
    }

    #[test]
    fn shared_holders_coexist_and_exclude_an_exclusive_one() {
        let out = tempfile::tempdir().unwrap();
        let a = OutLock::acquire(out.path(), LockMode::Shared).unwrap();
        let b = OutLock::acquire(out.path(), LockMode::Shared).unwrap();
        assert!(OutLock::acquire(out.path(), LockMode::Exclusive).is_err());
        drop((a, b));
        assert!(OutLock::acquire(out.path(), LockMode::Exclusive).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_lock_file_is_refused_and_its_target_never_created() {
        let out = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("created");
        std::os::unix::fs::symlink(&target, out.path().join(LOCK_FILE)).unwrap();
        assert!(matches!(
            OutLock::acquire(out.path(), LockMode::Exclusive),
            Err(LockError::NotAFile { .. })
        ));
        assert!(!target.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_as_the_lock_file_is_refused_at_once() {
        let out = tempfile::tempdir().unwrap();
        let fifo = out.path().join(LOCK_FILE);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("SKIPPED: mkfifo is not available here");
            return;
        }
        assert!(matches!(
            OutLock::acquire(out.path(), LockMode::Exclusive),
            Err(LockError::NotAFile { .. })
        ));
    }
}
