//! Temporary output files still being written, so that an interrupted run (SIGINT,
//! SIGTERM) can remove them before it exits: an interrupted run leaves no partial or
//! temporary file, and the previous outputs, renamed over only when everything was
//! written, stay whole.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn registry() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    IN_FLIGHT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A temporary file, registered while it exists.
pub(crate) struct TrackedTemp {
    file: Option<tempfile::NamedTempFile>,
    path: PathBuf,
}

impl TrackedTemp {
    pub(crate) fn new(file: tempfile::NamedTempFile) -> Self {
        let path = file.path().to_path_buf();
        registry().push(path.clone());
        Self {
            file: Some(file),
            path,
        }
    }

    fn file(&self) -> &tempfile::NamedTempFile {
        self.file.as_ref().expect("present until persisted")
    }

    pub(crate) fn as_file(&self) -> &std::fs::File {
        self.file().as_file()
    }

    pub(crate) fn as_file_mut(&mut self) -> &mut std::fs::File {
        self.file
            .as_mut()
            .expect("present until persisted")
            .as_file_mut()
    }

    /// Renames the file to `target` (atomically, in the same folder).
    pub(crate) fn persist(mut self, target: &Path) -> io::Result<()> {
        let file = self.file.take().expect("present until persisted");
        file.persist(target).map(drop).map_err(|e| e.error)
    }
}

impl Drop for TrackedTemp {
    fn drop(&mut self) {
        // Persisted, or removed by NamedTempFile's own drop: no longer in flight.
        registry().retain(|p| *p != self.path);
    }
}

/// Removes every temporary output file still being written. Called on SIGINT/SIGTERM by
/// the command line; safe to call at any time.
pub fn remove_in_flight() {
    for path in registry().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}
