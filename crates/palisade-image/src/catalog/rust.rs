//! Rust crates: `Cargo.lock` files and cargo-auditable data in binaries (read by the shared
//! streaming [`binary_extract`](super::binary)).
//!
//! Difference from syft (`rust-cargo-lock-cataloger`, `cargo-auditable-binary-cataloger`):
//! crates without a registry or git source (workspace members, `path` dependencies, the audited
//! binary's own crate) are left out: they are the project itself, not something published that an
//! advisory could name, and reporting them invites false matches with same-named crates.io crates.

use std::collections::BTreeMap;

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};
use serde::Deserialize;

use super::binary::{self, TAG_RUST};
use super::{Cataloger, Context, Interest};
use crate::files::{Content, EntryKind, FileTree};

pub struct RustCrates;

impl Cataloger for RustCrates {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn interest(&self, path: &str, size: u64, mode: u32) -> Interest {
        if path.ends_with("/Cargo.lock") {
            Interest::Keep
        } else {
            binary::interest(path, size, mode)
        }
    }

    fn catalog(
        &self,
        files: &FileTree,
        _: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        for (path, entry) in files.kept() {
            let EntryKind::File(content) = &entry.kind else {
                continue;
            };
            let result = match content {
                Content::Bytes(bytes) if path.ends_with("/Cargo.lock") => {
                    parse_cargo_lock(path, bytes)
                }
                Content::Extract(extract) => {
                    let mut found = Ok(Vec::new());
                    for (tag, payload) in binary::records(extract) {
                        if tag == TAG_RUST {
                            found = parse_auditable(path, payload);
                        }
                    }
                    found
                }
                _ => continue,
            };
            match result {
                Ok(found) => packages.extend(found),
                Err(message) => notes.push(CatalogNote::new(self.name(), path, message)),
            }
        }
    }
}

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<LockedCrate>,
}

#[derive(Deserialize)]
struct LockedCrate {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
}

/// The crates of a `Cargo.lock` (any version of the format: all keep `[[package]]` tables).
pub fn parse_cargo_lock(location: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("Cargo.lock is not UTF-8: {e}"))?;
    let lock: CargoLock =
        toml::from_str(text).map_err(|e| format!("Cargo.lock is not valid TOML: {e}"))?;
    Ok(lock
        .package
        .into_iter()
        .filter_map(|c| {
            let source = c.source?;
            let mut extra = vec![("source", source.clone())];
            if let Some(checksum) = c.checksum {
                extra.push(("checksum", checksum));
            }
            published(location, c.name, c.version, &source, extra)
        })
        .collect())
}

#[derive(Deserialize)]
struct Auditable {
    #[serde(default)]
    packages: Vec<AuditedCrate>,
}

#[derive(Deserialize)]
struct AuditedCrate {
    name: String,
    version: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    kind: Option<String>,
}

/// The crates of a cargo-auditable dependency list.
pub fn parse_auditable(location: &str, json: &[u8]) -> Result<Vec<Package>, String> {
    let audit: Auditable = serde_json::from_slice(json)
        .map_err(|e| format!("cargo-auditable data is not valid JSON: {e}"))?;
    Ok(audit
        .packages
        .into_iter()
        .filter_map(|c| {
            let mut extra = vec![("source", c.source.clone())];
            if let Some(kind) = c.kind {
                extra.push(("dependencyKind", kind));
            }
            published(location, c.name, c.version, &c.source, extra)
        })
        .collect())
}

/// A crate from a registry (`registry+…`, `sparse+…`, cargo-auditable's `crates.io`/`registry`)
/// or git; `None` for local crates.
fn published(
    location: &str,
    name: String,
    version: String,
    source: &str,
    extra: Vec<(&str, String)>,
) -> Option<Package> {
    let registry = source.starts_with("registry+")
        || source.starts_with("sparse+")
        || matches!(source, "crates.io" | "registry" | "sparse");
    if !registry && !source.starts_with("git") {
        return None;
    }
    if name.is_empty() || version.is_empty() {
        return None;
    }
    let metadata: BTreeMap<String, String> = extra
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Some(Package {
        purl: format!("pkg:cargo/{}@{}", purl_escape(&name), purl_escape(&version)),
        name,
        version,
        kind: PackageKind::Rust,
        source: None,
        arch: None,
        licenses: Vec::new(),
        location: location.to_string(),
        layer: None,
        os_owned: false,
        files: Vec::new(),
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "myapp"
version = "0.1.0"
dependencies = ["serde"]

[[package]]
name = "serde"
version = "1.0.203"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "7253ab4de971e72fb7be983802300c30b5a7f0c2e56fab8abfc6a214307c0094"

[[package]]
name = "tokio"
version = "1.38.0"
source = "git+https://github.com/tokio-rs/tokio?rev=abc#abcdef"
"#;

    #[test]
    fn cargo_lock_keeps_published_crates() {
        let packages = parse_cargo_lock("/src/Cargo.lock", LOCK.as_bytes()).expect("parse");
        let got: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.purl.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("serde", "pkg:cargo/serde@1.0.203"),
                ("tokio", "pkg:cargo/tokio@1.38.0")
            ]
        );
        assert!(packages[0].metadata["checksum"].starts_with("7253ab"));
        assert!(parse_cargo_lock("/x", b"[[package]\nname=").is_err());
    }

    #[test]
    fn auditable_json() {
        let json = br#"{"packages":[
            {"name":"app","version":"0.1.0","source":"local","kind":"runtime","root":true},
            {"name":"rustls","version":"0.23.10","source":"crates.io","kind":"runtime","dependencies":[0]},
            {"name":"cc","version":"1.0.99","source":"crates.io","kind":"build"}]}"#;
        let packages = parse_auditable("/usr/bin/app", json).expect("parse");
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].purl, "pkg:cargo/rustls@0.23.10");
        assert_eq!(packages[1].metadata["dependencyKind"], "build");
    }
}
