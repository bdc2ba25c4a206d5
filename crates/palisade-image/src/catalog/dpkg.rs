//! Installed Debian packages: `/var/lib/dpkg/status` (RFC 822-style paragraphs, one per package
//! dpkg knows, installed or not) and distroless images' `/var/lib/dpkg/status.d/<name>` (one
//! paragraph per file, no `Status` field: everything there is installed).
//!
//! Files a package owns come from `/var/lib/dpkg/info/<name>[:<arch>].list` (full dpkg) or the
//! `status.d/<name>.md5sums` beside a distroless entry; licenses from the package's
//! `/usr/share/doc/<name>/copyright` when it is machine-readable (DEP-5).

use std::collections::BTreeSet;

use palisade_core::{CatalogNote, Package, PackageKind, SourcePackage};

use super::os_release::{distro_qualifier, os_purl, purl_namespace};
use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d";
const INFO: &str = "/var/lib/dpkg/info";
const DOC: &str = "/usr/share/doc";
/// Paragraphs beyond this are not a real dpkg database (Debian has ~65 000 packages in all).
const MAX_PARAGRAPHS: usize = 200_000;
/// Copyright files bigger than this are not read for licenses (the largest in Debian are a few
/// hundred KB).
const MAX_COPYRIGHT_BYTES: u64 = 4 * 1024 * 1024;

/// One paragraph of a dpkg database: fields in order, continuation lines joined with `\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraph {
    pub fields: Vec<(String, String)>,
}

impl Paragraph {
    /// A field's value (field names are case-insensitive in deb822).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits a dpkg status file into paragraphs. Lines that are neither `Field: value` nor a
/// continuation are skipped (a hand-edited or truncated file still yields its good paragraphs).
pub fn parse_status(text: &str) -> Vec<Paragraph> {
    let mut paragraphs = Vec::new();
    let mut current = Paragraph::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                if paragraphs.len() >= MAX_PARAGRAPHS {
                    return paragraphs;
                }
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, value)) = current.fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            current
                .fields
                .push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    if !current.fields.is_empty() && paragraphs.len() < MAX_PARAGRAPHS {
        paragraphs.push(current);
    }
    paragraphs
}

/// Whether the `Status` field (`want flag state`) says the package's files are on disk. Removed
/// packages that left configuration files behind (`deinstall ok config-files`) and those never
/// installed are not.
fn installed(status: Option<&str>) -> bool {
    let Some(status) = status else {
        // distroless status.d entries have no Status: they are installed by construction.
        return true;
    };
    let words: Vec<&str> = status.split_whitespace().collect();
    match words.as_slice() {
        [_, _, state] => !matches!(*state, "not-installed" | "config-files"),
        _ => false,
    }
}

/// The dpkg cataloger.
pub struct Dpkg;

impl Cataloger for Dpkg {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn interest(&self, path: &str, size: u64, _mode: u32) -> Interest {
        if path == STATUS {
            return Interest::Keep;
        }
        if let Some(name) = path
            .strip_prefix(STATUS_D)
            .and_then(|r| r.strip_prefix('/'))
        {
            return if name.contains('/') {
                Interest::None
            } else {
                Interest::Keep
            };
        }
        if let Some(name) = path.strip_prefix(INFO).and_then(|r| r.strip_prefix('/'))
            && !name.contains('/')
            && name.ends_with(".list")
        {
            return Interest::Keep;
        }
        if let Some(rest) = path.strip_prefix(DOC).and_then(|r| r.strip_prefix('/'))
            && let Some((package, file)) = rest.split_once('/')
            && file == "copyright"
            && !package.is_empty()
            && size <= MAX_COPYRIGHT_BYTES
        {
            return Interest::Keep;
        }
        Interest::None
    }

    fn catalog(
        &self,
        files: &FileTree,
        context: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        if let Some(bytes) = files.read(STATUS) {
            let text = String::from_utf8_lossy(bytes);
            let paragraphs = parse_status(&text);
            if paragraphs.is_empty() && !text.trim().is_empty() {
                notes.push(note(STATUS, "no package paragraphs found"));
            }
            for paragraph in paragraphs {
                if !installed(paragraph.get("Status")) {
                    continue;
                }
                if let Some(package) = to_package(&paragraph, STATUS, files, context, None) {
                    packages.push(package);
                }
            }
        }
        for (path, _) in files.under(STATUS_D) {
            // One file per package directly in status.d; its `.md5sums` companions list files.
            let Some(name) = path
                .strip_prefix(STATUS_D)
                .and_then(|rest| rest.strip_prefix('/'))
            else {
                continue;
            };
            if name.ends_with(".md5sums") || name.contains('/') {
                continue;
            }
            let Some(bytes) = files.read(path) else {
                continue;
            };
            let text = String::from_utf8_lossy(bytes);
            let paragraphs = parse_status(&text);
            if paragraphs.is_empty() {
                notes.push(note(path, "no package paragraph found"));
            }
            let md5sums = format!("{path}.md5sums");
            for paragraph in paragraphs {
                if !installed(paragraph.get("Status")) {
                    continue;
                }
                if let Some(package) = to_package(&paragraph, path, files, context, Some(&md5sums))
                {
                    packages.push(package);
                }
            }
        }
    }

    fn is_os(&self) -> bool {
        true
    }
}

fn note(path: &str, message: &str) -> CatalogNote {
    CatalogNote::new("dpkg", path, message)
}

fn to_package(
    paragraph: &Paragraph,
    location: &str,
    files: &FileTree,
    context: &Context<'_>,
    md5sums: Option<&str>,
) -> Option<Package> {
    let name = paragraph.get("Package").filter(|n| !n.is_empty())?;
    let version = paragraph.get("Version").unwrap_or_default();
    let arch = paragraph.get("Architecture").filter(|a| !a.is_empty());
    // `Source: glibc (2.36-9+deb12u4)` when the source version differs, `Source: glibc`
    // otherwise, nothing when source and binary package share their name.
    let source = match paragraph.get("Source").filter(|s| !s.is_empty()) {
        Some(source) => match source.split_once('(') {
            Some((source_name, rest)) => SourcePackage {
                name: source_name.trim().to_string(),
                version: Some(rest.trim_end_matches(')').trim().to_string())
                    .filter(|v| !v.is_empty() && v != version),
            },
            None => SourcePackage {
                name: source.trim().to_string(),
                version: None,
            },
        },
        None => SourcePackage {
            name: name.to_string(),
            version: None,
        },
    };
    let distro = distro_qualifier(context.distro);
    let purl = os_purl(
        PackageKind::Deb,
        &purl_namespace(context.distro, "debian"),
        name,
        version,
        &[("arch", arch), ("distro", distro.as_deref())],
    );
    let mut owned = owned_files(files, name, arch);
    if owned.is_empty()
        && let Some(md5sums) = md5sums
    {
        owned = md5sums_files(files, md5sums);
    }
    Some(Package {
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageKind::Deb,
        purl,
        source: Some(source),
        arch: arch.map(str::to_string),
        licenses: copyright_licenses(files, name),
        location: location.to_string(),
        layer: None,
        os_owned: false,
        files: owned,
        metadata: Default::default(),
    })
}

/// The `.list` file dpkg keeps for the package: `<name>:<arch>.list` for `Multi-Arch: same`
/// packages, `<name>.list` otherwise. Lines are absolute paths (directories included).
fn owned_files(files: &FileTree, name: &str, arch: Option<&str>) -> Vec<String> {
    let candidates = arch
        .map(|arch| format!("{INFO}/{name}:{arch}.list"))
        .into_iter()
        .chain(std::iter::once(format!("{INFO}/{name}.list")));
    for path in candidates {
        if let Some(bytes) = files.read(&path) {
            return String::from_utf8_lossy(bytes)
                .lines()
                .map(str::trim)
                .filter(|line| line.starts_with('/') && *line != "/.")
                .map(str::to_string)
                .collect();
        }
    }
    Vec::new()
}

/// `<md5>  <path relative to />` lines of a distroless `.md5sums` file.
fn md5sums_files(files: &FileTree, path: &str) -> Vec<String> {
    let Some(bytes) = files.read(path) else {
        return Vec::new();
    };
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| line.split_once(char::is_whitespace))
        .map(|(_, file)| file.trim().trim_start_matches('/'))
        .filter(|file| !file.is_empty())
        .map(|file| format!("/{file}"))
        .collect()
}

/// Licenses named by a machine-readable copyright file (DEP-5): the first line of every
/// `License:` field, deduplicated. Free-form copyright files name no license reliably and give
/// nothing.
fn copyright_licenses(files: &FileTree, package: &str) -> Vec<String> {
    let Some(bytes) = files.read(&format!("{DOC}/{package}/copyright")) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(bytes);
    let machine_readable = text
        .lines()
        .next()
        .is_some_and(|first| first.starts_with("Format:") && first.contains("copyright-format"));
    if !machine_readable {
        return Vec::new();
    }
    let mut licenses = BTreeSet::new();
    for paragraph in parse_status(&text) {
        for (key, value) in &paragraph.fields {
            if key.eq_ignore_ascii_case("License") {
                let short = value.lines().next().unwrap_or_default().trim();
                if !short.is_empty() {
                    licenses.insert(short.to_string());
                }
            }
        }
    }
    licenses.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{Content, Entry, EntryKind};
    use palisade_core::Distro;
    use std::sync::Arc;

    fn tree(files: &[(&str, &str)]) -> FileTree {
        let mut tree = FileTree::new();
        for (path, text) in files {
            tree.insert(
                path,
                Entry {
                    kind: EntryKind::File(Content::Bytes(Arc::from(text.as_bytes()))),
                    mode: 0o644,
                    size: text.len() as u64,
                    layer: 0,
                },
            );
        }
        tree
    }

    fn run(files: &FileTree, distro: Option<&Distro>) -> (Vec<Package>, Vec<CatalogNote>) {
        let mut packages = Vec::new();
        let mut notes = Vec::new();
        Dpkg.catalog(
            files,
            &Context {
                distro,
                os_files: None,
            },
            &mut packages,
            &mut notes,
        );
        (packages, notes)
    }

    const STATUS_TEXT: &str = "\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: removed-thing
Status: deinstall ok config-files
Architecture: all
Version: 1.0

Package: libpython3.11-minimal
Status: install ok installed
Architecture: amd64
Source: python3.11 (3.11.2-6+deb12u1)
Version: 3.11.2-6+deb12u2

Package: tzdata
Status: hold ok installed
Architecture: all
Version: 2024a-0+deb12u1
";

    #[test]
    fn status_file_packages() {
        let files = tree(&[
            ("/var/lib/dpkg/status", STATUS_TEXT),
            (
                "/var/lib/dpkg/info/libc6:amd64.list",
                "/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n",
            ),
            (
                "/usr/share/doc/tzdata/copyright",
                "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: public-domain\n This database is in the public domain.\n\nFiles: debian/*\nLicense: GPL-2\n",
            ),
            (
                "/usr/share/doc/libc6/copyright",
                "This is the Debian prepackaged version of glibc.\nLicense: LGPL\n",
            ),
        ]);
        let distro = Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Distro::default()
        };
        let (packages, notes) = run(&files, Some(&distro));
        assert!(notes.is_empty());
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libc6", "libpython3.11-minimal", "tzdata"]);
        let libc = &packages[0];
        assert_eq!(
            libc.purl,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(libc.files, ["/lib", "/lib/x86_64-linux-gnu/libc.so.6"]);
        assert_eq!(libc.location, "/var/lib/dpkg/status");
        assert!(
            libc.licenses.is_empty(),
            "free-form copyright gives nothing"
        );
        assert_eq!(
            packages[1].source,
            Some(SourcePackage {
                name: "python3.11".into(),
                version: Some("3.11.2-6+deb12u1".into())
            })
        );
        assert_eq!(packages[2].licenses, ["GPL-2", "public-domain"]);
        assert_eq!(
            packages[2].source.as_ref().map(|s| s.name.as_str()),
            Some("tzdata")
        );
    }

    #[test]
    fn distroless_status_d() {
        let files = tree(&[
            (
                "/var/lib/dpkg/status.d/base",
                "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
            ),
            (
                "/var/lib/dpkg/status.d/base.md5sums",
                "0123456789abcdef0123456789abcdef  etc/debian_version\n",
            ),
            ("/var/lib/dpkg/status.d/garbage", "\n\n"),
        ]);
        let (packages, notes) = run(&files, None);
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].name, "base-files");
        assert_eq!(packages[0].location, "/var/lib/dpkg/status.d/base");
        assert_eq!(packages[0].files, ["/etc/debian_version"]);
        assert_eq!(
            packages[0].purl,
            "pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64"
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].path, "/var/lib/dpkg/status.d/garbage");
    }

    #[test]
    fn interest_and_odd_input() {
        for path in [
            "/var/lib/dpkg/status",
            "/var/lib/dpkg/status.d/libc6",
            "/var/lib/dpkg/info/libc6:amd64.list",
            "/usr/share/doc/libc6/copyright",
        ] {
            assert!(
                matches!(Dpkg.interest(path, 10, 0o644), Interest::Keep),
                "{path}"
            );
        }
        for path in [
            "/var/lib/dpkg/status-old",
            "/var/lib/dpkg/info/libc6.md5sums",
            "/usr/share/doc/libc6/changelog.gz",
            "/usr/share/doc/copyright",
        ] {
            assert!(
                matches!(Dpkg.interest(path, 10, 0o644), Interest::None),
                "{path}"
            );
        }
        assert!(matches!(
            Dpkg.interest("/usr/share/doc/x/copyright", MAX_COPYRIGHT_BYTES + 1, 0o644),
            Interest::None
        ));
        assert!(parse_status(" continuation first\nno colon\n\n\n").is_empty());
        assert!(!installed(Some("install ok")));
        assert!(installed(Some("install ok half-configured")));
        assert!(!installed(Some("purge ok not-installed")));
    }
}
