//! Temporary output files still being written, so that an interrupted run (SIGINT,
//! SIGTERM) can remove them before it exits: an interrupted run leaves no partial or
//! temporary file, and the previous outputs, renamed over only when everything was
//! written, stay whole.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The temporary files being written, and whether the run was interrupted (after which no
/// new one is created: the interrupt handler and the writer may run at the same time).
struct Registry {
    paths: Vec<PathBuf>,
    interrupted: bool,
}

static IN_FLIGHT: Mutex<Registry> = Mutex::new(Registry {
    paths: Vec::new(),
    interrupted: false,
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
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
    /// Creates a temporary file in `dir` with `builder` and registers it, both under the
    /// registry's lock, so an interrupt either sees the file registered or stops its
    /// creation: without the lock, a file created between the handler's clean-up and the
    /// process's exit was left behind.
    ///
    /// # Errors
    ///
    /// The creation's I/O error, or [`io::ErrorKind::Interrupted`] once the run was
    /// interrupted.
    pub(crate) fn create(builder: &tempfile::Builder<'_, '_>, dir: &Path) -> io::Result<Self> {
        let mut registry = registry();
        if registry.interrupted {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "the run was interrupted",
            ));
        }
        let file = builder.tempfile_in(dir)?;
        let path = file.path().to_path_buf();
        registry.paths.push(path.clone());
        Ok(Self {
            file: Some(file),
            path,
        })
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
        registry().paths.retain(|p| *p != self.path);
    }
}

/// Whether [`stop_and_remove_temporaries`] ran.
pub(crate) fn interrupted() -> bool {
    registry().interrupted
}

/// Removes every temporary output file still being written, and stops this process from
/// creating new ones (a writer then fails with [`io::ErrorKind::Interrupted`]).
pub(crate) fn stop_and_remove_temporaries() {
    let mut registry = registry();
    registry.interrupted = true;
    for path in registry.paths.drain(..) {
        let _ = std::fs::remove_file(path);
    }
}
