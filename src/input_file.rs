//! Reading the files a user names (scenarios, histories, sample matrices): only regular
//! files, never more than a size cap. A FIFO, a device (`/dev/zero`) or a directory is
//! refused without blocking, and a file larger than its kind's cap (or one that grows
//! while read) is refused before it is all in memory.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Largest scenario file (each file of an `extends` chain), bytes: 4 MiB. The shipped
/// scenarios are under 20 KB.
pub const MAX_SCENARIO_BYTES: u64 = 4 * 1024 * 1024;

/// Largest history or data CSV (`--history`, `--data`), bytes: 16 MiB. The shipped history
/// is a few KB, one row per quarter.
pub const MAX_HISTORY_BYTES: u64 = 16 * 1024 * 1024;

/// Largest sample matrix (`sensitivity sobol --import-samples`), bytes: 1 GiB, tens of
/// millions of points (each a one-path run).
pub const MAX_SAMPLE_BYTES: u64 = 1024 * 1024 * 1024;

/// Most files in one `extends` chain, the named file included.
pub const MAX_EXTENDS_DEPTH: usize = 64;

/// `bytes` as MiB or GiB, for messages.
fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes as f64 / (1 << 20) as f64)
    }
}

/// What kind of file `metadata` describes, for a message refusing it.
fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    let t = metadata.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Opens `path` for reading without blocking: on Unix with `O_NONBLOCK`, so that opening a
/// FIFO with no writer returns at once (a plain open would wait for a writer forever); the
/// type is then checked on the open descriptor (`fstat`), so the file checked is the file
/// read, even if the path is swapped in between. Elsewhere the path's metadata is checked
/// before opening.
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        let metadata = std::fs::metadata(path)?;
        if !metadata.is_file() {
            return Err(not_regular(&metadata));
        }
    }
    options.open(path)
}

fn not_regular(metadata: &std::fs::Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "it is {}, not a regular file: give the path of a file",
            kind_of(metadata)
        ),
    )
}

fn too_large(cap: u64, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!(
            "it is larger than {} ({cap} bytes), the limit of {what}",
            size_text(cap)
        ),
    )
}

/// Reads a regular file of at most `cap` bytes as UTF-8 text. `what` names the kind of
/// file in the message ("a scenario file").
///
/// # Errors
///
/// The I/O error of opening or reading; [`io::ErrorKind::InvalidInput`] for a FIFO, a
/// device, a directory or any other file that is not a regular file (refused without
/// reading from it); [`io::ErrorKind::FileTooLarge`] for a file over `cap` bytes, read
/// through `take(cap + 1)` so a file that grows while read is bounded too;
/// [`io::ErrorKind::InvalidData`] for text that is not UTF-8. The messages do not repeat
/// the path: callers name it.
///
/// # Examples
///
/// ```
/// use cloudcapex::input_file::read_text;
/// # #[cfg(unix)]
/// # {
/// let err = read_text(std::path::Path::new("/dev/zero"), 1024, "a scenario file").unwrap_err();
/// assert!(err.to_string().contains("character device"));
/// # }
/// ```
pub fn read_text(path: &Path, cap: u64, what: &str) -> io::Result<String> {
    let file = open_nonblocking(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(not_regular(&metadata));
    }
    if metadata.len() > cap {
        return Err(too_large(cap, what));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap, what));
    }
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("stream did not contain valid UTF-8 ({e})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_under_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "x = 1\n").unwrap();
        assert_eq!(read_text(&path, 6, "a test file").unwrap(), "x = 1\n");
        let err = read_text(&path, 5, "a test file").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(
            err.to_string().contains("the limit of a test file"),
            "{err}"
        );
    }

    #[test]
    fn directories_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_text(dir.path(), 100, "a test file").unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
        #[cfg(unix)]
        {
            let err = read_text(Path::new("/dev/zero"), 100, "a test file").unwrap_err();
            assert!(err.to_string().contains("character device"), "{err}");
        }
    }

    #[test]
    fn sizes_are_named_in_mib_or_gib() {
        assert_eq!(size_text(MAX_SCENARIO_BYTES), "4 MiB");
        assert_eq!(size_text(MAX_SAMPLE_BYTES), "1 GiB");
        assert_eq!(size_text(512 * 1024), "0.5 MiB");
    }
}
