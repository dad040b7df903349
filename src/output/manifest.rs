//! Proof of ownership: every folder cloudcapex writes holds `.cloudcapex.manifest`, the
//! kind of output it is and every file in it with its size and SHA-256. A folder is
//! replaced only if everything in it is accounted for (listed and unchanged, a shard file,
//! a temporary file of ours, or a subfolder with a manifest of its own); anything else is
//! refused by name, never deleted.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::CRATE_VERSION;

/// The manifest's file name in each folder cloudcapex writes.
pub const MANIFEST_FILE: &str = ".cloudcapex.manifest";
/// The first bytes of a shard file (`run --shard`): such files are recognised as ours in a
/// folder without being listed, since shard tasks add them beside other outputs.
pub const SHARD_MAGIC: &[u8; 8] = b"CCXSHARD";
/// Version of the manifest's layout.
const MANIFEST_FORMAT: u32 = 1;
/// A manifest is small (a line per file); a larger file is not one.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// Folders cloudcapex writes nest at most this deep (a sweep's point folders: 1).
const MAX_DEPTH: usize = 4;

/// What a folder holds, as written by cloudcapex.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always `cloudcapex`.
    pub writer: String,
    /// Layout version.
    pub format: u32,
    /// Version of the crate that wrote the folder.
    pub cloudcapex_version: String,
    /// The kind of output (`run`, `sweep`, `comparison`, `tornado`, …): a folder is only
    /// ever replaced by output of the same kind.
    pub kind: String,
    /// For a comparison page: the folders (in the same `OUT`) it links to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compares: Vec<String>,
    /// Every file, by path relative to the folder (`/`-separated), with its size and hash.
    pub files: BTreeMap<String, ManifestFile>,
}

/// One file of a [`Manifest`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestFile {
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// Something in a folder that cloudcapex did not write (or that changed since): the reason
/// the folder is not replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Foreign {
    /// The file, link or folder.
    pub path: PathBuf,
    /// Why it is not ours.
    pub reason: String,
}

/// What [`inspect`] found in a folder, every entry of which is ours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inspection {
    /// The folder's kind: its manifest's, else that of the shard files in it, else none.
    pub kind: Option<String>,
    /// The folder's own manifest (none for a folder of shard files only).
    pub manifest: Option<Manifest>,
    /// Every file (relative paths), all ours.
    pub files: Vec<PathBuf>,
    /// The shard files among them (relative paths): inputs of a later `merge`, kept when
    /// the folder is replaced.
    pub shards: Vec<PathBuf>,
    /// Subfolders (relative), deepest first.
    pub folders: Vec<PathBuf>,
}

/// SHA-256 of a file, hex.
pub(crate) fn file_sha256(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hash.update(&buffer[..n]);
    }
    Ok(hex(&hash.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn relative_name(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Every regular file under `dir` (relative paths, sorted), except `dir`'s own manifest.
fn files_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    fn walk(root: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) -> io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        entries.sort();
        for name in entries {
            let path = rel.join(&name);
            let meta = std::fs::symlink_metadata(root.join(&path))?;
            if meta.is_dir() && depth < MAX_DEPTH {
                walk(root, &path, depth + 1, out)?;
            } else if meta.is_file() && !(depth == 0 && name == MANIFEST_FILE) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, Path::new(""), 0, &mut out)?;
    Ok(out)
}

/// Writes `dir/.cloudcapex.manifest` listing every file now in `dir` (hashed), with
/// `kind` and, for a comparison page, the folders it `compares`. Returns the manifest and
/// the SHA-256 of its bytes.
///
/// # Errors
///
/// Any I/O error reading the files or writing the manifest.
pub fn seal(dir: &Path, kind: &str, compares: &[String]) -> io::Result<(Manifest, String)> {
    let mut files = BTreeMap::new();
    for rel in files_under(dir)? {
        let path = dir.join(&rel);
        let bytes = std::fs::symlink_metadata(&path)?.len();
        files.insert(
            relative_name(&rel),
            ManifestFile {
                bytes,
                sha256: file_sha256(&path)?,
            },
        );
    }
    let manifest = Manifest {
        writer: "cloudcapex".to_string(),
        format: MANIFEST_FORMAT,
        cloudcapex_version: CRATE_VERSION.to_string(),
        kind: kind.to_string(),
        compares: compares.to_vec(),
        files,
    };
    let mut text = serde_json::to_vec_pretty(&manifest).map_err(io::Error::other)?;
    text.push(b'\n');
    let mut file = std::fs::File::create(dir.join(MANIFEST_FILE))?;
    file.write_all(&text)?;
    file.sync_all()?;
    Ok((manifest, hex(&Sha256::digest(&text))))
}

/// SHA-256 of `dir`'s manifest file, if it has a readable one.
pub(crate) fn manifest_sha256(dir: &Path) -> Option<String> {
    read_capped(&dir.join(MANIFEST_FILE))
        .ok()
        .flatten()
        .map(|bytes| hex(&Sha256::digest(&bytes)))
}

/// The bytes of a regular file (never through a link) of at most the manifest cap; `None`
/// if absent.
fn read_capped(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(meta) if !meta.is_file() => {
            return Err(io::Error::other("not a regular file"));
        }
        Ok(_) => {}
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(io::Error::other(
            "larger than any manifest cloudcapex writes",
        ));
    }
    Ok(Some(bytes))
}

/// `dir`'s manifest, if it has one written by cloudcapex.
///
/// # Errors
///
/// A [`Foreign`] naming the manifest file if it is unreadable or not cloudcapex's.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, Foreign> {
    let path = dir.join(MANIFEST_FILE);
    let foreign = |reason: String| Foreign {
        path: path.clone(),
        reason,
    };
    let Some(bytes) = read_capped(&path).map_err(|e| foreign(format!("unreadable: {e}")))? else {
        return Ok(None);
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| foreign(format!("not a cloudcapex manifest: {e}")))?;
    if manifest.writer != "cloudcapex" || manifest.format != MANIFEST_FORMAT {
        return Err(foreign("not a manifest this cloudcapex reads".into()));
    }
    Ok(Some(manifest))
}

/// The kind recorded in a shard file's header, if `path` is one (its magic, then a
/// little-endian header length, then the header as JSON with a `kind`).
fn shard_kind(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut start = [0u8; 12];
    file.read_exact(&mut start).ok()?;
    if &start[..8] != SHARD_MAGIC {
        return None;
    }
    let length = u32::from_le_bytes(start[8..12].try_into().ok()?);
    if length > 1 << 20 {
        return None;
    }
    let mut header = vec![0u8; length as usize];
    file.read_exact(&mut header).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&header).ok()?;
    value.get("kind")?.as_str().map(str::to_string)
}

fn is_shard_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("shard-")
        .and_then(|r| r.strip_suffix(".ccx"))
    else {
        return false;
    };
    let mut parts = rest.split("-of-");
    let digits =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
}

/// A temporary file cloudcapex creates while writing (`.cloudcapex.XXXXXX.tmp`,
/// `.cloudcapex.NAME.XXXXXX.tmp`): one left by a killed process is ours to remove. Only
/// that prefix: a `.draft.tmp` of yours is not ours.
fn is_temp_name(name: &str) -> bool {
    name.starts_with(".cloudcapex.") && name.ends_with(".tmp")
}

/// A folder cloudcapex nests in an output with a manifest of its own: a sweep's
/// `point_NNNN` (written by shard tasks beside their shard files). Any other subfolder's
/// manifest proves nothing (a copy of another output put there is not this one's).
fn is_point_folder(name: &str) -> bool {
    name.strip_prefix("point_")
        .is_some_and(|k| k.len() >= 4 && k.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks that everything in `dir` is cloudcapex's and unchanged: files listed in a
/// manifest (the folder's or a subfolder's) with the listed size and hash, shard files,
/// temporary files of ours, and folders holding only such. Symbolic links are never
/// followed and never ours.
///
/// # Errors
///
/// The first [`Foreign`] entry, in name order.
pub fn inspect(dir: &Path) -> Result<Inspection, Foreign> {
    // The folder itself is never reached through a link either.
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(Foreign {
                path: dir.to_path_buf(),
                reason: "a symbolic link (cloudcapex never follows or removes links in --out)"
                    .into(),
            });
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(Foreign {
                path: dir.to_path_buf(),
                reason: "not a folder".into(),
            });
        }
        Ok(_) => {}
        Err(e) => {
            return Err(Foreign {
                path: dir.to_path_buf(),
                reason: format!("unreadable: {e}"),
            });
        }
    }
    let mut inspection = Inspection {
        manifest: read_manifest(dir)?,
        ..Inspection::default()
    };
    // (prefix, manifest) of every manifest met on the way down.
    let mut manifests: Vec<(PathBuf, Manifest)> = Vec::new();
    if let Some(m) = &inspection.manifest {
        manifests.push((PathBuf::new(), m.clone()));
    }
    let mut shard_kinds = std::collections::BTreeSet::new();
    walk_owned(
        dir,
        Path::new(""),
        0,
        &mut manifests,
        &mut inspection,
        &mut shard_kinds,
    )?;
    inspection.kind = match &inspection.manifest {
        Some(m) => Some(m.kind.clone()),
        None => match shard_kinds.len() {
            0 => None,
            1 => shard_kinds.pop_first(),
            _ => {
                return Err(Foreign {
                    path: dir.to_path_buf(),
                    reason: format!(
                        "holds shard files of several kinds ({})",
                        shard_kinds.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        },
    };
    Ok(inspection)
}

fn walk_owned(
    root: &Path,
    rel: &Path,
    depth: usize,
    manifests: &mut Vec<(PathBuf, Manifest)>,
    inspection: &mut Inspection,
    shard_kinds: &mut std::collections::BTreeSet<String>,
) -> Result<(), Foreign> {
    let here = root.join(rel);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: io::Error| Foreign {
            path,
            reason: format!("unreadable: {e}"),
        }
    };
    let mut names: Vec<_> = std::fs::read_dir(&here)
        .map_err(io(&here))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .map_err(io(&here))?;
    names.sort();
    for name in names {
        let rel_path = rel.join(&name);
        let path = root.join(&rel_path);
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        let foreign = |reason: &str| Foreign {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let text = name.to_string_lossy();
        if meta.file_type().is_symlink() {
            return Err(foreign(
                "a symbolic link (cloudcapex never follows or removes links in --out)",
            ));
        }
        if meta.is_dir() {
            if depth + 1 >= MAX_DEPTH {
                return Err(foreign("nested deeper than cloudcapex writes"));
            }
            let own = if is_point_folder(&text) {
                read_manifest(&path)?
            } else {
                None
            };
            let pushed = own.is_some();
            if let Some(m) = own {
                manifests.push((rel_path.clone(), m));
            }
            let files_before = inspection.files.len();
            walk_owned(
                root,
                &rel_path,
                depth + 1,
                manifests,
                inspection,
                shard_kinds,
            )?;
            if pushed {
                manifests.pop();
            }
            // A folder is ours if it holds something of ours or a manifest lists files in
            // it; an empty one nobody listed was made by someone else.
            let listed = manifests.iter().any(|(outer, m)| {
                rel_path.strip_prefix(outer).is_ok_and(|inner| {
                    let inner = format!("{}/", relative_name(inner));
                    m.files.keys().any(|f| f.starts_with(&inner))
                })
            });
            if !pushed && inspection.files.len() == files_before && !listed {
                return Err(foreign("an empty folder cloudcapex did not write"));
            }
            inspection.folders.push(rel_path);
            continue;
        }
        if !meta.is_file() {
            return Err(foreign("not a regular file"));
        }
        if text == MANIFEST_FILE {
            inspection.files.push(rel_path);
            continue;
        }
        if is_temp_name(&text) {
            inspection.files.push(rel_path);
            continue;
        }
        if is_shard_name(&text) {
            let Some(kind) = shard_kind(&path) else {
                return Err(foreign("named as a shard but not a cloudcapex shard file"));
            };
            shard_kinds.insert(kind);
            inspection.shards.push(rel_path.clone());
            inspection.files.push(rel_path);
            continue;
        }
        let mut listed = None;
        for (prefix, manifest) in manifests.iter().rev() {
            if let Ok(inner) = rel_path.strip_prefix(prefix)
                && let Some(entry) = manifest.files.get(&relative_name(inner))
            {
                listed = Some(entry.clone());
                break;
            }
        }
        let Some(entry) = listed else {
            return Err(foreign(if manifests.is_empty() {
                "not written by cloudcapex (the folder has no .cloudcapex.manifest: an older \
                 cloudcapex or something else wrote it)"
            } else {
                "not written by cloudcapex (not in the folder's .cloudcapex.manifest)"
            }));
        };
        let changed =
            meta.len() != entry.bytes || file_sha256(&path).map_err(io(&path))? != entry.sha256;
        if changed {
            return Err(foreign("changed since cloudcapex wrote it"));
        }
        inspection.files.push(rel_path);
    }
    Ok(())
}

/// Removes `dir` if [`inspect`] proves everything in it ours (files, then the folders left
/// empty, then `dir`); otherwise touches nothing (a link is never followed) and returns
/// why (empty when all went).
pub(crate) fn remove_owned(dir: &Path) -> Vec<Foreign> {
    let inspection = match inspect(dir) {
        Ok(inspection) => inspection,
        Err(foreign) => return vec![foreign],
    };
    // Manifests last, deepest first: a removal cut short leaves every remaining file still
    // listed, so the next attempt can still prove it ours.
    let is_manifest = |f: &&PathBuf| f.file_name().is_some_and(|n| n == MANIFEST_FILE);
    let (mut manifests, files): (Vec<&PathBuf>, Vec<&PathBuf>) =
        inspection.files.iter().partition(is_manifest);
    manifests.sort_by_key(|f| std::cmp::Reverse(f.components().count()));
    for file in files.into_iter().chain(manifests) {
        let _ = std::fs::remove_file(dir.join(file));
    }
    for folder in &inspection.folders {
        let _ = std::fs::remove_dir(dir.join(folder));
    }
    let _ = std::fs::remove_dir(dir);
    if std::fs::symlink_metadata(dir).is_err() {
        return Vec::new();
    }
    // Something appeared in it while its own files went (a process writing there): not
    // ours, so it stays, named.
    match inspect(dir) {
        Err(foreign) => vec![foreign],
        Ok(_) => vec![Foreign {
            path: dir.to_path_buf(),
            reason: "could not be removed".into(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_sealed_folder_is_ours_until_something_changes_or_appears() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("summary.csv"), "a,b\n");
        write(&dir.path().join("point_0000/quarterly.csv"), "q\n");
        let (manifest, _) = seal(dir.path(), "sweep", &[]).unwrap();
        assert_eq!(manifest.files.len(), 2);
        let inspection = inspect(dir.path()).unwrap();
        assert_eq!(inspection.kind.as_deref(), Some("sweep"));
        assert_eq!(inspection.files.len(), 3);

        write(&dir.path().join("notes.txt"), "mine");
        let foreign = inspect(dir.path()).unwrap_err();
        assert!(foreign.path.ends_with("notes.txt"), "{foreign:?}");
        std::fs::remove_file(dir.path().join("notes.txt")).unwrap();

        write(&dir.path().join("summary.csv"), "a,c\n");
        let foreign = inspect(dir.path()).unwrap_err();
        assert!(foreign.reason.contains("changed"), "{foreign:?}");
    }

    #[test]
    fn an_unsealed_folder_with_files_is_foreign_and_remove_owned_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join(".ssh/id_rsa"), "secret");
        assert!(inspect(dir.path()).is_err());
        let kept = remove_owned(dir.path());
        assert_eq!(kept.len(), 1);
        assert!(dir.path().join(".ssh/id_rsa").is_file());
    }

    #[test]
    fn only_our_own_temporary_names_and_point_folders_count() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("summary.csv"), "a\n");
        seal(dir.path(), "run", &[]).unwrap();
        // A draft of yours named like a temporary file is not ours.
        write(&dir.path().join(".chapter1.tmp"), "irreplaceable");
        assert!(
            inspect(dir.path())
                .unwrap_err()
                .path
                .ends_with(".chapter1.tmp")
        );
        std::fs::remove_file(dir.path().join(".chapter1.tmp")).unwrap();
        write(
            &dir.path().join(".cloudcapex.summary.csv.a1b2c3.tmp"),
            "partial",
        );
        assert!(inspect(dir.path()).is_ok());
        // A copy of another output put inside this one is not this one's.
        let other = dir.path().join("ai_boom_archive");
        write(&other.join("summary.csv"), "b\n");
        seal(&other, "run", &[]).unwrap();
        assert!(inspect(dir.path()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn links_are_never_ours() {
        let dir = tempfile::tempdir().unwrap();
        seal(dir.path(), "run", &[]).unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("elsewhere")).unwrap();
        assert!(inspect(dir.path()).unwrap_err().reason.contains("link"));
    }

    #[test]
    fn shard_names_and_temporary_names() {
        assert!(is_shard_name("shard-0-of-4.ccx"));
        assert!(!is_shard_name("shard-0-of-.ccx") && !is_shard_name("shard-a-of-4.ccx"));
        assert!(is_temp_name(".cloudcapex.summary.csv.x1y2z3.tmp"));
        assert!(!is_temp_name(".chapter1.tmp") && !is_temp_name("summary.csv"));
        assert!(is_point_folder("point_0012") && !is_point_folder("ai_boom_archive"));
    }
}
