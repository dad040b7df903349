//! The build fingerprint shard files carry (`CLOUDCAPEX_BUILD`): the crate version, a
//! SHA-256 of the crate's source (every file under `src/`) and `Cargo.lock`, and the target.
//! Two builds that could compute different numbers differ in it, so `merge` refuses to mix
//! their shards; a rebuild of the same source with other flags or features (Parquet) does
//! not, so its shards still merge. Source rather than the binary's bytes: the binary
//! changes with paths, features and linkers that do not change a single number.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut sources = Vec::new();
    files(&root.join("src"), &mut sources);
    sources.sort();
    sources.push(root.join("Cargo.lock"));
    let mut bytes = Vec::new();
    for path in &sources {
        if let Ok(content) = std::fs::read(path) {
            let rel = path.strip_prefix(&root).unwrap_or(path);
            bytes.extend_from_slice(rel.to_string_lossy().replace('\\', "/").as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(&(content.len() as u64).to_le_bytes());
            bytes.extend_from_slice(&content);
        }
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(&bytes);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    println!(
        "cargo:rustc-env=CLOUDCAPEX_BUILD={}+src.{hex}.{}",
        std::env::var("CARGO_PKG_VERSION").expect("set by cargo"),
        std::env::var("TARGET").expect("set by cargo")
    );
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.lock");
}
