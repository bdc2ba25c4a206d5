//! Installed Alpine (and Wolfi/Chainguard) packages: `/lib/apk/db/installed`, blank-line
//! separated records of `X:value` lines (apk-tools' `apk_db_index_read`): `P` name, `V` version,
//! `A` arch, `L` license, `o` origin (source package), `F` a directory, `R` a file in the last
//! `F` directory.

use std::collections::HashSet;

use palisade_core::{CatalogNote, Package, PackageKind, SourcePackage};

use super::os_release::{distro_qualifier, os_purl, purl_namespace};
use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

/// apk-tools ≤ 2 and Alpine < 3.22 use the first; newer images move the database under `/usr`
/// (the old path is then usually a symlink).
const DATABASES: [&str; 2] = ["/lib/apk/db/installed", "/usr/lib/apk/db/installed"];
/// Far above any real image (Alpine main+community has ~20 000 packages).
const MAX_RECORDS: usize = 200_000;

/// One package record of the installed database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApkRecord {
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    pub license: Option<String>,
    pub origin: Option<String>,
    /// Absolute paths of the files (and directories) the package installed.
    pub files: Vec<String>,
}

/// Parses an installed database. Records without a name are dropped; unknown fields ignored.
pub fn parse_installed(text: &str) -> Vec<ApkRecord> {
    let mut records = Vec::new();
    let mut current = ApkRecord::default();
    let mut directory = String::new();
    let finish = |record: &mut ApkRecord, records: &mut Vec<ApkRecord>| {
        let record = std::mem::take(record);
        if !record.name.is_empty() && records.len() < MAX_RECORDS {
            records.push(record);
        }
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            finish(&mut current, &mut records);
            directory.clear();
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim_end_matches('\r');
        let optional = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
        match key {
            "P" => current.name = value.to_string(),
            "V" => current.version = value.to_string(),
            "A" => current.arch = optional(value),
            "L" => current.license = optional(value),
            "o" => current.origin = optional(value),
            "F" => {
                directory = value.trim_matches('/').to_string();
                current.files.push(format!("/{directory}"));
            }
            "R" => {
                let path = if directory.is_empty() {
                    format!("/{value}")
                } else {
                    format!("/{directory}/{value}")
                };
                current.files.push(path);
            }
            _ => {}
        }
    }
    finish(&mut current, &mut records);
    records
}

/// The apk cataloger.
pub struct Apk;

impl Cataloger for Apk {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if DATABASES.contains(&path) {
            Interest::Keep
        } else {
            Interest::None
        }
    }

    fn catalog(
        &self,
        files: &FileTree,
        context: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        let mut seen = HashSet::new();
        for database in DATABASES {
            let Some((location, _)) = files.resolve(database) else {
                continue;
            };
            if !seen.insert(location.clone()) {
                continue;
            }
            let Some(bytes) = files.read(&location) else {
                continue;
            };
            let text = String::from_utf8_lossy(bytes);
            let records = parse_installed(&text);
            if records.is_empty() && !text.trim().is_empty() {
                notes.push(CatalogNote::new(
                    "apk",
                    &location,
                    "no package records found",
                ));
            }
            let distro = distro_qualifier(context.distro);
            let namespace = purl_namespace(context.distro, "alpine");
            for record in records {
                let purl = os_purl(
                    PackageKind::Apk,
                    &namespace,
                    &record.name,
                    &record.version,
                    &[
                        ("arch", record.arch.as_deref()),
                        ("distro", distro.as_deref()),
                    ],
                );
                packages.push(Package {
                    source: Some(SourcePackage {
                        name: record.origin.unwrap_or_else(|| record.name.clone()),
                        version: None,
                    }),
                    name: record.name,
                    version: record.version,
                    kind: PackageKind::Apk,
                    purl,
                    arch: record.arch,
                    licenses: record.license.into_iter().collect(),
                    location: location.clone(),
                    layer: None,
                    os_owned: false,
                    files: record.files,
                    metadata: Default::default(),
                });
            }
        }
    }

    fn is_os(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{Content, Entry, EntryKind};
    use palisade_core::Distro;
    use std::sync::Arc;

    const INSTALLED: &str = "\
C:Q1/8/SnWtKyYkjSGLLPHmt7mJhMwFo=
P:musl
V:1.2.5-r0
A:x86_64
S:411524
I:647168
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1712591498
c:1b9bc6a0c2e1c0e5ab3c3e4f0c9d2b1a7f3e6d5c
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1t6ZjI4OkB3iWx0PHGEPfOgQz0yg=
R:libc.musl-x86_64.so.1

P:libcrypto3
V:3.3.2-r0
A:x86_64
L:Apache-2.0
o:openssl
F:usr/lib
R:libcrypto.so.3

broken line without colon
";

    #[test]
    fn records_with_files_and_origin() {
        let records = parse_installed(INSTALLED);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].name, "musl");
        assert_eq!(
            records[0].files,
            [
                "/lib",
                "/lib/ld-musl-x86_64.so.1",
                "/lib/libc.musl-x86_64.so.1"
            ]
        );
        assert_eq!(records[1].origin.as_deref(), Some("openssl"));
        assert!(parse_installed("V:1.0\n\n:::\n").is_empty());
    }

    #[test]
    fn catalog_follows_the_usr_merge_symlink() {
        let mut files = FileTree::new();
        files.insert(
            "/usr/lib/apk/db/installed",
            Entry {
                kind: EntryKind::File(Content::Bytes(Arc::from(INSTALLED.as_bytes()))),
                mode: 0o644,
                size: INSTALLED.len() as u64,
                layer: 0,
            },
        );
        files.insert(
            "/lib/apk",
            Entry {
                kind: EntryKind::Symlink("../usr/lib/apk".into()),
                mode: 0o777,
                size: 0,
                layer: 0,
            },
        );
        let distro = Distro {
            id: "alpine".into(),
            version_id: "3.20.3".into(),
            ..Distro::default()
        };
        let mut packages = Vec::new();
        let mut notes = Vec::new();
        Apk.catalog(
            &files,
            &Context {
                distro: Some(&distro),
                os_files: None,
            },
            &mut packages,
            &mut notes,
        );
        assert!(notes.is_empty());
        assert_eq!(packages.len(), 2, "one database, read once");
        assert_eq!(
            packages[0].purl,
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3"
        );
        assert_eq!(
            packages[1].purl,
            "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3"
        );
        assert_eq!(packages[1].licenses, ["Apache-2.0"]);
        assert_eq!(packages[1].location, "/usr/lib/apk/db/installed");
    }
}
