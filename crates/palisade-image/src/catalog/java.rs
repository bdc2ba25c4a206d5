//! Java archives (`.jar`, `.war`, `.ear`, Jenkins `.jpi`/`.hpi`): Maven coordinates from
//! `META-INF/maven/**/pom.properties`, the archive's own identity from `META-INF/MANIFEST.MF` and
//! its file name, and the same for archives nested inside (Spring Boot `BOOT-INF/lib/*.jar`,
//! `WEB-INF/lib/*.jar`, EAR modules), as syft's `java-archive-cataloger` does.
//!
//! Zip needs random access (the central directory is at the end), so the extractor buffers an
//! archive of up to [`MAX_ARCHIVE`] bytes, reads what it needs, and keeps only a small JSON
//! summary (`Found` records). Nested archives are read from memory up to [`MAX_DEPTH`] levels,
//! and all inflated bytes of one outer archive share [`MAX_INFLATED`]: a zip bomb stops there
//! with a note instead of exhausting memory.
//!
//! Differences from syft: no guessing of group IDs from well-known package name tables; an
//! archive without a `pom.properties` gets its group from `Implementation-Vendor-Id` or
//! `Bundle-SymbolicName` when they exist, and otherwise a purl of `name/name`, as syft does.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read};

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};
use serde::{Deserialize, Serialize};

use super::{Cataloger, Context, Interest};
use crate::files::{Content, EntryKind, FileTree};

pub struct JavaArchives;

/// Largest archive buffered for reading (a big Spring Boot or WildFly archive is ~150 MiB).
pub const MAX_ARCHIVE: u64 = 256 << 20;
/// Largest archive nested in another that is read (application archives bundle libraries of a
/// few MiB; 64 MiB leaves room for big ones without letting a bomb balloon).
pub const MAX_NESTED_ARCHIVE: u64 = 64 << 20;
/// Total bytes inflated out of one outer archive (nested archives and metadata files).
pub const MAX_INFLATED: u64 = 512 << 20;
/// Nesting levels of archives inside archives read.
pub const MAX_DEPTH: usize = 4;
/// Largest `pom.properties`/`MANIFEST.MF` read.
const MAX_METADATA_FILE: u64 = 1 << 20;
/// Marks this cataloger's extracts.
const EXTRACT_MAGIC: &[u8] = b"\0jar1";

const ARCHIVE_SUFFIXES: [&str; 5] = [".jar", ".war", ".ear", ".jpi", ".hpi"];

fn is_archive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s))
}

impl Cataloger for JavaArchives {
    fn name(&self) -> &'static str {
        "java"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if is_archive(path) {
            Interest::Extract(archive_extract)
        } else {
            Interest::None
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
            let EntryKind::File(Content::Extract(extract)) = &entry.kind else {
                continue;
            };
            if !is_archive(path) {
                continue;
            }
            let Some(json) = extract.strip_prefix(EXTRACT_MAGIC) else {
                continue;
            };
            let Ok(found) = serde_json::from_slice::<Vec<Found>>(json) else {
                continue;
            };
            let (found_packages, found_notes) = packages_from_found(path, &found);
            packages.extend(found_packages);
            notes.extend(
                found_notes
                    .into_iter()
                    .map(|message| CatalogNote::new(self.name(), path, message)),
            );
        }
    }
}

/// What the extractor found in one archive (the outer one or a nested one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// Path of the archive inside the outer one: `""` for the outer archive,
    /// `BOOT-INF/lib/a.jar` (or `a.war!/WEB-INF/lib/b.jar` deeper down).
    pub archive: String,
    /// Each `pom.properties`: its path and properties.
    #[serde(default)]
    pub poms: Vec<(String, BTreeMap<String, String>)>,
    /// The main section of `META-INF/MANIFEST.MF`.
    #[serde(default)]
    pub manifest: BTreeMap<String, String>,
    /// What could not be read.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Buffers the archive and summarises it; `Ok(None)` when it is not a zip.
pub fn archive_extract(reader: &mut dyn Read, size: u64) -> std::io::Result<Option<Vec<u8>>> {
    let found = if size > MAX_ARCHIVE {
        vec![Found {
            notes: vec![format!(
                "archive of {size} bytes is larger than the {MAX_ARCHIVE}-byte limit: not read"
            )],
            ..Found::default()
        }]
    } else {
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        reader.take(MAX_ARCHIVE).read_to_end(&mut bytes)?;
        let mut found = Vec::new();
        let mut budget = MAX_INFLATED;
        if !read_archive(&bytes, "", 0, &mut budget, &mut found) {
            return Ok(None);
        }
        found
    };
    let mut out = EXTRACT_MAGIC.to_vec();
    serde_json::to_writer(&mut out, &found).map_err(std::io::Error::other)?;
    Ok(Some(out))
}

/// Reads `limit` bytes at most from `file`, charging `budget`; `None` when it is larger.
fn read_capped(file: &mut dyn Read, limit: u64, budget: &mut u64) -> Option<Vec<u8>> {
    let cap = limit.min(*budget);
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    let read = bytes.len() as u64;
    *budget = budget.saturating_sub(read);
    (read <= cap).then_some(bytes)
}

/// Summarises the archive in `bytes` (and the archives nested in it) into `out`; false when it
/// is not a readable zip at all.
fn read_archive(
    bytes: &[u8],
    archive: &str,
    depth: usize,
    budget: &mut u64,
    out: &mut Vec<Found>,
) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    // This archive's record goes first; nested archives are read (and their bytes dropped) one
    // at a time as they are met, so at most one nested archive per level is in memory.
    let own = out.len();
    out.push(Found {
        archive: archive.to_string(),
        ..Found::default()
    });
    let note = |out: &mut Vec<Found>, message: String| {
        if let Some(found) = out.get_mut(own) {
            found.notes.push(message);
        }
    };
    for index in 0..zip.len() {
        let Ok(mut file) = zip.by_index(index) else {
            note(out, format!("entry {index} of the archive is unreadable"));
            continue;
        };
        if file.is_dir() {
            continue;
        }
        let Ok(name) = file.name().map(|n| n.into_owned()) else {
            continue;
        };
        let is_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        let is_manifest = name.eq_ignore_ascii_case("META-INF/MANIFEST.MF");
        if is_pom || is_manifest {
            let Some(content) = read_capped(&mut file, MAX_METADATA_FILE, budget) else {
                note(out, format!("{name} too large or unreadable"));
                continue;
            };
            let text = String::from_utf8_lossy(&content);
            if let Some(found) = out.get_mut(own) {
                if is_pom {
                    found.poms.push((name, parse_properties(&text)));
                } else {
                    found.manifest = parse_manifest(&text);
                }
            }
        } else if is_archive(&name) {
            if depth + 1 >= MAX_DEPTH {
                note(
                    out,
                    format!("{name}: nested deeper than {MAX_DEPTH} archives, not read"),
                );
                continue;
            }
            let Some(content) = read_capped(&mut file, MAX_NESTED_ARCHIVE, budget) else {
                note(
                    out,
                    format!("{name}: nested archive not read (inflated size over the limit)"),
                );
                continue;
            };
            drop(file);
            let path = if archive.is_empty() {
                name
            } else {
                format!("{archive}!/{name}")
            };
            read_archive(&content, &path, depth + 1, budget, out);
        }
    }
    true
}

/// Java `.properties` (the subset Maven writes: `key=value`, `#` comments).
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter_map(|l| l.split_once(['=', ':']))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The main section of a JAR manifest: `Key: value` lines, continuation lines start with one
/// space and are joined without a separator (the 72-byte line wrap).
pub fn parse_manifest(text: &str) -> BTreeMap<String, String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(rest) = line.strip_prefix(' ') {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(rest);
            }
        } else if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    fields.into_iter().collect()
}

/// `commons-lang3-3.12.0.jar` → (`commons-lang3`, `3.12.0`): the name ends at the first `-`
/// followed by a digit.
pub fn name_version_from_file(file: &str) -> (String, Option<String>) {
    let stem = file.rsplit('/').next().unwrap_or(file);
    let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
    let bytes = stem.as_bytes();
    for (i, window) in bytes.windows(2).enumerate() {
        if window.first() == Some(&b'-') && window.get(1).is_some_and(u8::is_ascii_digit) {
            let name = stem.get(..i).unwrap_or(stem);
            let version = stem.get(i + 1..).map(str::to_string);
            return (name.to_string(), version);
        }
    }
    (stem.to_string(), None)
}

fn maven_package(
    group: &str,
    artifact: &str,
    version: &str,
    location: &str,
    licenses: Vec<String>,
    metadata: BTreeMap<String, String>,
) -> Package {
    Package {
        purl: format!(
            "pkg:maven/{}/{}@{}",
            purl_escape(group),
            purl_escape(artifact),
            purl_escape(version)
        ),
        name: artifact.to_string(),
        version: version.to_string(),
        kind: PackageKind::Java,
        source: None,
        arch: None,
        licenses,
        location: location.to_string(),
        layer: None,
        os_owned: false,
        files: Vec::new(),
        metadata,
    }
}

/// Turns the extract's records into packages (and notes) for the archive at `path`.
pub fn packages_from_found(path: &str, found: &[Found]) -> (Vec<Package>, Vec<String>) {
    let mut packages = Vec::new();
    let mut notes = Vec::new();
    let mut seen = HashSet::new();
    for archive in found {
        let location = if archive.archive.is_empty() {
            path.to_string()
        } else {
            format!("{path}!/{}", archive.archive)
        };
        for note in &archive.notes {
            notes.push(if archive.archive.is_empty() {
                note.clone()
            } else {
                format!("{}: {note}", archive.archive)
            });
        }
        let file_name = if archive.archive.is_empty() {
            path
        } else {
            archive.archive.as_str()
        };
        let (file_artifact, file_version) = name_version_from_file(file_name);
        let licenses: Vec<String> = archive
            .manifest
            .get("Bundle-License")
            .filter(|l| l.len() <= 200)
            .cloned()
            .into_iter()
            .collect();
        let mut own_pom = false;
        // Several pom.properties in one archive: shaded (relocated) dependencies, each a package.
        for (pom_path, properties) in &archive.poms {
            let (Some(group), Some(artifact), Some(version)) = (
                properties.get("groupId"),
                properties.get("artifactId"),
                properties.get("version"),
            ) else {
                continue;
            };
            if group.is_empty() || artifact.is_empty() || version.is_empty() {
                continue;
            }
            if !seen.insert((
                location.clone(),
                group.clone(),
                artifact.clone(),
                version.clone(),
            )) {
                continue;
            }
            let is_own = *artifact == file_artifact;
            own_pom |= is_own;
            let mut metadata = BTreeMap::new();
            metadata.insert("groupId".to_string(), group.clone());
            metadata.insert("artifactId".to_string(), artifact.clone());
            metadata.insert("pomPropertiesPath".to_string(), pom_path.clone());
            packages.push(maven_package(
                group,
                artifact,
                version,
                &location,
                if is_own { licenses.clone() } else { Vec::new() },
                metadata,
            ));
        }
        if own_pom {
            continue;
        }
        // No pom.properties for the archive itself: its manifest and file name.
        let manifest = |key: &str| archive.manifest.get(key).filter(|v| !v.is_empty());
        let version = manifest("Implementation-Version")
            .or_else(|| manifest("Bundle-Version"))
            .or_else(|| manifest("Specification-Version"))
            .cloned()
            .or(file_version);
        let Some(version) = version else {
            continue;
        };
        let artifact = if !file_artifact.is_empty() {
            file_artifact.clone()
        } else if let Some(title) = manifest("Implementation-Title") {
            title.clone()
        } else {
            continue;
        };
        let symbolic = manifest("Bundle-SymbolicName")
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_string());
        let group = manifest("Implementation-Vendor-Id")
            .cloned()
            .or_else(|| {
                symbolic
                    .as_deref()
                    .and_then(|s| s.rsplit_once('.'))
                    .map(|(g, _)| g.to_string())
            })
            .unwrap_or_else(|| artifact.clone());
        if !seen.insert((
            location.clone(),
            group.clone(),
            artifact.clone(),
            version.clone(),
        )) {
            continue;
        }
        let mut metadata = BTreeMap::new();
        metadata.insert("groupId".to_string(), group.clone());
        metadata.insert("artifactId".to_string(), artifact.clone());
        for key in [
            "Implementation-Title",
            "Implementation-Vendor",
            "Bundle-SymbolicName",
        ] {
            if let Some(value) = manifest(key) {
                metadata.insert(key.to_string(), value.clone());
            }
        }
        packages.push(maven_package(
            &group, &artifact, &version, &location, licenses, metadata,
        ));
    }
    (packages, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(entries: &[(&str, &[u8])], stored: bool) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(if stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        });
        for (name, content) in entries {
            writer.start_file(*name, options).expect("entry");
            writer.write_all(content).expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    fn extract(bytes: &[u8]) -> Vec<Found> {
        let out = archive_extract(&mut &bytes[..], bytes.len() as u64)
            .expect("read")
            .expect("zip");
        serde_json::from_slice(out.strip_prefix(EXTRACT_MAGIC).expect("magic")).expect("json")
    }

    #[test]
    fn spring_boot_fat_jar() {
        let inner = zip_of(
            &[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nImplementation-Title: Apache Commons Lang\r\nImplementation-Version: 3.12.0\r\nBundle-SymbolicName: org.apache.commons.lang3\r\nBundle-License: https://www.apache.org/licenses/LICENSE-2.0.t\r\n xt\r\n"),
                ("META-INF/maven/org.apache.commons/commons-lang3/pom.properties", b"#Created by Apache Maven 3.6.3\nversion=3.12.0\ngroupId=org.apache.commons\nartifactId=commons-lang3\n"),
            ],
            false,
        );
        let no_pom = zip_of(
            &[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nImplementation-Version: 2.1\nImplementation-Vendor-Id: com.acme\n")],
            false,
        );
        let outer = zip_of(
            &[
                (
                    "META-INF/MANIFEST.MF",
                    b"Manifest-Version: 1.0\nStart-Class: com.acme.App\n",
                ),
                (
                    "META-INF/maven/com.acme/shop/pom.properties",
                    b"groupId=com.acme\nartifactId=shop\nversion=1.0.0\n",
                ),
                ("BOOT-INF/lib/commons-lang3-3.12.0.jar", &inner),
                ("BOOT-INF/lib/acme-util.jar", &no_pom),
                ("BOOT-INF/lib/broken.jar", b"not a zip"),
            ],
            true,
        );
        let found = extract(&outer);
        assert_eq!(found.len(), 3);
        let (packages, notes) = packages_from_found("/app/shop-1.0.0.jar", &found);
        assert!(notes.is_empty(), "{notes:?}");
        let got: Vec<(&str, &str)> = packages
            .iter()
            .map(|p| (p.purl.as_str(), p.location.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("pkg:maven/com.acme/shop@1.0.0", "/app/shop-1.0.0.jar"),
                (
                    "pkg:maven/org.apache.commons/commons-lang3@3.12.0",
                    "/app/shop-1.0.0.jar!/BOOT-INF/lib/commons-lang3-3.12.0.jar"
                ),
                (
                    "pkg:maven/com.acme/acme-util@2.1",
                    "/app/shop-1.0.0.jar!/BOOT-INF/lib/acme-util.jar"
                ),
            ]
        );
        assert_eq!(
            packages[1].licenses,
            ["https://www.apache.org/licenses/LICENSE-2.0.txt"]
        );
    }

    #[test]
    fn shaded_jar_yields_every_pom() {
        let jar = zip_of(
            &[
                (
                    "META-INF/maven/com.acme/uber/pom.properties",
                    b"groupId=com.acme\nartifactId=uber\nversion=2.0\n",
                ),
                (
                    "META-INF/maven/com.google.guava/guava/pom.properties",
                    b"groupId=com.google.guava\nartifactId=guava\nversion=32.1.3-jre\n",
                ),
            ],
            false,
        );
        let (packages, _) = packages_from_found("/opt/uber-2.0.jar", &extract(&jar));
        let purls: Vec<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(
            purls,
            [
                "pkg:maven/com.acme/uber@2.0",
                "pkg:maven/com.google.guava/guava@32.1.3-jre"
            ]
        );
    }

    #[test]
    fn deep_nesting_is_capped() {
        let mut jar = zip_of(
            &[("META-INF/MANIFEST.MF", b"Implementation-Version: 1\n")],
            false,
        );
        for level in 0..6 {
            let name = format!("lib/level{level}.jar");
            jar = zip_of(&[(name.as_str(), &jar)], true);
        }
        let found = extract(&jar);
        assert_eq!(found.len(), MAX_DEPTH);
        assert!(
            found
                .iter()
                .any(|f| f.notes.iter().any(|n| n.contains("nested deeper")))
        );
    }

    #[test]
    fn inflated_bytes_are_capped_and_charged() {
        let data = [7u8; 100];
        let mut budget = 1000;
        assert_eq!(read_capped(&mut &data[..], 50, &mut budget), None);
        assert_eq!(budget, 949, "the bytes read before giving up count");
        assert_eq!(
            read_capped(&mut &data[..], 200, &mut budget).map(|b| b.len()),
            Some(100)
        );
        let mut nearly_spent = 10;
        assert_eq!(read_capped(&mut &data[..], 200, &mut nearly_spent), None);
        assert_eq!(nearly_spent, 0);
    }

    #[test]
    fn not_a_zip_and_file_names() {
        assert_eq!(
            archive_extract(&mut &b"PK garbage"[..], 10).expect("read"),
            None
        );
        assert_eq!(
            name_version_from_file("/x/jackson-databind-2.17.1.jar"),
            ("jackson-databind".to_string(), Some("2.17.1".to_string()))
        );
        assert_eq!(name_version_from_file("app.jar"), ("app".to_string(), None));
    }
}
