//! Installed rpm packages, from the rpmdb in whichever of its three formats the image has:
//! SQLite (`rpmdb.sqlite`), Berkeley DB hash (`Packages`) or ndb (`Packages.db`). Each stores one
//! header blob per package ([`header`]).

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use std::collections::HashSet;

use palisade_core::{CatalogNote, Package, PackageKind, SourcePackage};

use super::os_release::{distro_qualifier, os_purl, purl_namespace};
use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

/// Directories rpm keeps its database in: the classic one and the `/usr` one Fedora ≥ 36 and
/// openSUSE use (the classic path is then often a symlink to it).
const DB_DIRS: [&str; 2] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];

/// Database files in the order rpm's backends are preferred when several are left in one
/// directory (a migrated image may keep a stale `Packages` beside `rpmdb.sqlite`).
const DB_FILES: [(&str, Format); 3] = [
    ("rpmdb.sqlite", Format::Sqlite),
    ("Packages.db", Format::Ndb),
    ("Packages", Format::Bdb),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Sqlite,
    Ndb,
    Bdb,
}

/// The rpm cataloger.
pub struct Rpm;

impl Cataloger for Rpm {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        let wanted = DB_DIRS.iter().any(|dir| {
            path.strip_prefix(dir)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|file| DB_FILES.iter().any(|(name, _)| *name == file))
        });
        if wanted {
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
        let mut seen_dirs = HashSet::new();
        for dir in DB_DIRS {
            let Some((real_dir, _)) = files.resolve(dir) else {
                continue;
            };
            if !seen_dirs.insert(real_dir.clone()) {
                continue;
            }
            for (file, format) in DB_FILES {
                let location = format!("{real_dir}/{file}");
                let Some(bytes) = files.read(&location) else {
                    continue;
                };
                let mut note = |message: String| {
                    notes.push(CatalogNote::new("rpm", location.as_str(), message));
                };
                let blobs = match format {
                    Format::Sqlite => sqlite::values(bytes),
                    Format::Ndb => ndb::values(bytes).map(|v| {
                        v.errors.into_iter().for_each(&mut note);
                        v.values
                    }),
                    Format::Bdb => bdb::values(bytes).map(|v| {
                        v.errors.into_iter().for_each(&mut note);
                        v.values
                    }),
                };
                let blobs = match blobs {
                    Ok(blobs) => blobs,
                    Err(e) => {
                        note(e);
                        continue;
                    }
                };
                for blob in blobs {
                    match header::parse(&blob) {
                        Ok(header) => {
                            if let Some(package) = to_package(header, &location, context) {
                                packages.push(package);
                            }
                        }
                        Err(e) => note(e.to_string()),
                    }
                }
                // One database per directory: the others are leftovers of a backend change.
                break;
            }
        }
    }

    fn is_os(&self) -> bool {
        true
    }
}

fn to_package(header: header::RpmHeader, location: &str, context: &Context<'_>) -> Option<Package> {
    // rpm registers imported signing keys as pseudo-packages; they are not software.
    if header.name == "gpg-pubkey" {
        return None;
    }
    let version_release = if header.release.is_empty() {
        header.version.clone()
    } else {
        format!("{}-{}", header.version, header.release)
    };
    let version = match header.epoch {
        Some(epoch) => format!("{epoch}:{version_release}"),
        None => version_release.clone(),
    };
    let epoch = header.epoch.map(|e| e.to_string());
    let distro = distro_qualifier(context.distro);
    let purl = os_purl(
        PackageKind::Rpm,
        &purl_namespace(context.distro, "redhat"),
        &header.name,
        &version_release,
        &[
            ("arch", header.arch.as_deref()),
            ("distro", distro.as_deref()),
            ("epoch", epoch.as_deref()),
        ],
    );
    let source = header
        .source_rpm
        .as_deref()
        .and_then(header::split_source_rpm)
        .map(|(name, source_version)| SourcePackage {
            name,
            version: (source_version != version_release).then_some(source_version),
        });
    let mut metadata = std::collections::BTreeMap::new();
    if let Some(source_rpm) = &header.source_rpm {
        metadata.insert("sourceRpm".to_string(), source_rpm.clone());
    }
    Some(Package {
        name: header.name,
        version,
        kind: PackageKind::Rpm,
        purl,
        source,
        arch: header.arch,
        licenses: header.license.into_iter().collect(),
        location: location.to_string(),
        layer: None,
        os_owned: false,
        files: header.files,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::header::tests::{blob, string};
    use super::*;
    use crate::files::{Content, Entry, EntryKind};
    use palisade_core::Distro;
    use std::sync::Arc;

    fn tree(path: &str, bytes: Vec<u8>) -> FileTree {
        let mut files = FileTree::new();
        files.insert(
            path,
            Entry {
                size: bytes.len() as u64,
                kind: EntryKind::File(Content::Bytes(Arc::from(bytes))),
                mode: 0o644,
                layer: 0,
            },
        );
        files
    }

    #[test]
    fn interest_in_every_backend_file() {
        for path in [
            "/var/lib/rpm/rpmdb.sqlite",
            "/var/lib/rpm/Packages",
            "/usr/lib/sysimage/rpm/Packages.db",
        ] {
            assert!(
                matches!(Rpm.interest(path, 1, 0o644), Interest::Keep),
                "{path}"
            );
        }
        for path in [
            "/var/lib/rpm/Name",
            "/var/lib/rpmPackages",
            "/var/lib/rpm/x/Packages",
        ] {
            assert!(
                matches!(Rpm.interest(path, 1, 0o644), Interest::None),
                "{path}"
            );
        }
    }

    #[test]
    fn rhel_purl_without_epoch_and_notes_for_corruption() {
        // A one-package ndb file built by hand around a header blob.
        let header = blob(&[
            string(1000, "bash"),
            string(1001, "5.1.8"),
            string(1002, "9.el9"),
            string(1022, "x86_64"),
            string(1044, "bash-5.1.8-9.el9.src.rpm"),
        ]);
        let mut db = vec![0u8; 4096];
        db[0..4].copy_from_slice(b"RpmP");
        db[12..16].copy_from_slice(&1u32.to_le_bytes());
        for slot in db[32..].chunks_exact_mut(16) {
            slot[0..4].copy_from_slice(b"Slot");
        }
        db[36..40].copy_from_slice(&1u32.to_le_bytes());
        db[40..44].copy_from_slice(&256u32.to_le_bytes());
        db[52..56].copy_from_slice(&2u32.to_le_bytes());
        db[56..60].copy_from_slice(&300u32.to_le_bytes());
        db.extend_from_slice(b"BlbS");
        db.extend_from_slice(&1u32.to_le_bytes());
        db.extend_from_slice(&0u32.to_le_bytes());
        db.extend_from_slice(&(header.len() as u32).to_le_bytes());
        db.extend_from_slice(&header);
        let files = tree("/usr/lib/sysimage/rpm/Packages.db", db);
        let distro = Distro {
            id: "rhel".into(),
            version_id: "9.4".into(),
            ..Distro::default()
        };
        let mut packages = Vec::new();
        let mut notes = Vec::new();
        Rpm.catalog(
            &files,
            &Context {
                distro: Some(&distro),
                os_files: None,
            },
            &mut packages,
            &mut notes,
        );
        assert_eq!(packages.len(), 1);
        let bash = &packages[0];
        assert_eq!(bash.version, "5.1.8-9.el9");
        assert_eq!(
            bash.purl,
            "pkg:rpm/redhat/bash@5.1.8-9.el9?arch=x86_64&distro=rhel-9.4"
        );
        assert_eq!(
            bash.source,
            Some(SourcePackage {
                name: "bash".into(),
                version: None
            })
        );
        assert_eq!(bash.location, "/usr/lib/sysimage/rpm/Packages.db");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].message.contains("package 2"));
    }
}
