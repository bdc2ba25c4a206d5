//! Which operating system an image is built on: `/etc/os-release` (or `/usr/lib/os-release`),
//! as systemd documents it.

use palisade_core::{CatalogNote, Distro, Package, PackageKind, purl_escape};

use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

const FILES: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Older or minimal images without os-release still name their release in one of these.
const FALLBACK_FILES: [&str; 5] = [
    "/etc/lsb-release",
    "/etc/alpine-release",
    "/etc/redhat-release",
    "/etc/centos-release",
    "/etc/debian_version",
];

/// Keeps the os-release files; the distro itself is read by [`detect`] before any cataloger runs.
pub struct OsRelease;

impl Cataloger for OsRelease {
    fn name(&self) -> &'static str {
        "os-release"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if FILES.contains(&path) || FALLBACK_FILES.contains(&path) {
            Interest::Keep
        } else {
            Interest::None
        }
    }

    fn catalog(
        &self,
        _: &FileTree,
        _: &Context<'_>,
        _: &mut Vec<Package>,
        _: &mut Vec<CatalogNote>,
    ) {
    }

    fn is_os(&self) -> bool {
        true
    }
}

/// The image's distro from its os-release file, or else from the release files older images
/// carry; `None` when there is none (scratch, distroless without one).
pub fn detect(files: &FileTree) -> Option<Distro> {
    let mut distro = FILES
        .iter()
        .find_map(|path| files.read(path))
        .and_then(|text| from_os_release(&String::from_utf8_lossy(text)))
        .or_else(|| from_fallbacks(files))?;
    distro.end_of_life = end_of_life(&distro.id, &distro.version_id).map(str::to_string);
    Some(distro)
}

fn from_os_release(text: &str) -> Option<Distro> {
    let fields = parse(text);
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    Some(Distro {
        id: get("ID")?.to_ascii_lowercase(),
        version_id: get("VERSION_ID").unwrap_or_default(),
        codename: get("VERSION_CODENAME"),
        id_like: get("ID_LIKE")
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        pretty_name: get("PRETTY_NAME"),
        end_of_life: None,
    })
}

/// Reads the pre-os-release files, most specific first: Ubuntu also has `/etc/debian_version`,
/// CentOS also has `/etc/redhat-release`.
fn from_fallbacks(files: &FileTree) -> Option<Distro> {
    let read = |path: &str| {
        files
            .read(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    if let Some(text) = read("/etc/lsb-release") {
        let fields = parse(&text);
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        if let Some(id) = get("DISTRIB_ID") {
            return Some(Distro {
                id: id.to_ascii_lowercase(),
                version_id: get("DISTRIB_RELEASE").unwrap_or_default(),
                codename: get("DISTRIB_CODENAME"),
                pretty_name: get("DISTRIB_DESCRIPTION"),
                ..Distro::default()
            });
        }
    }
    if let Some(text) = read("/etc/alpine-release") {
        let version = text.trim();
        if !version.is_empty() {
            return Some(Distro {
                id: "alpine".into(),
                version_id: version.to_string(),
                ..Distro::default()
            });
        }
    }
    for path in ["/etc/centos-release", "/etc/redhat-release"] {
        if let Some(distro) = read(path).and_then(|text| from_redhat_release(&text)) {
            return Some(distro);
        }
    }
    if let Some(text) = read("/etc/debian_version") {
        let text = text.trim();
        if !text.is_empty() {
            // `12.5` names point release 5 of Debian 12 (os-release says `12`); testing and
            // unstable write a codename (`trixie/sid`) instead.
            let major = text.split('.').next().unwrap_or_default();
            let numeric = !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit());
            return Some(Distro {
                id: "debian".into(),
                version_id: if numeric {
                    major.to_string()
                } else {
                    String::new()
                },
                ..Distro::default()
            });
        }
    }
    None
}

/// `Red Hat Enterprise Linux release 9.4 (Plow)`, `CentOS Linux release 7.9.2009 (Core)`,
/// `Rocky Linux release 9.3 (Blue Onyx)`: the name before ` release `, the version after.
fn from_redhat_release(text: &str) -> Option<Distro> {
    let line = text.lines().next()?.trim();
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?;
    let lower = name.to_ascii_lowercase();
    let id = if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("oracle") {
        "ol"
    } else {
        return None;
    };
    // CentOS's os-release says `7`, not the `7.9.2009` of its release file.
    let version_id = if id == "centos" {
        version.split('.').next().unwrap_or(version).to_string()
    } else {
        version.to_string()
    };
    Some(Distro {
        id: id.into(),
        version_id,
        pretty_name: Some(line.to_string()),
        ..Distro::default()
    })
}

/// End of standard support of well-known releases, `YYYY-MM-DD`. Dates are Trivy's, from the
/// per-distro maps in github.com/aquasecurity/trivy `pkg/detector/ospkg/<distro>/<distro>.go`
/// (`debian/debian.go`, `ubuntu/ubuntu.go`, `alpine/alpine.go` as of commit 1849d2ff,
/// `redhat/redhat.go` for CentOS, `alma/alma.go`, `rocky/rocky.go`, `amazon/amazon.go`).
/// Left out: releases Trivy marks with placeholder dates (RHEL 7–9, Debian 13) and Ubuntu
/// 24.04, whose date there (2034) is its extended, not standard, support.
fn end_of_life(id: &str, version_id: &str) -> Option<&'static str> {
    let major = version_id.split('.').next().unwrap_or_default();
    let major_minor = {
        let mut parts = version_id.splitn(3, '.');
        match (parts.next(), parts.next()) {
            (Some(a), Some(b)) => format!("{a}.{b}"),
            _ => version_id.to_string(),
        }
    };
    let table: &[(&str, &str)] = match id {
        "debian" => &[
            ("7", "2018-05-31"),
            ("8", "2020-06-30"),
            ("9", "2022-06-30"),
            ("10", "2024-06-30"),
            ("11", "2026-08-14"),
            ("12", "2028-06-10"),
        ],
        "ubuntu" => &[
            ("14.04", "2022-04-25"),
            ("16.04", "2021-04-21"),
            ("18.04", "2023-05-31"),
            ("18.10", "2019-07-18"),
            ("19.04", "2020-01-18"),
            ("19.10", "2020-07-17"),
            ("20.04", "2025-05-31"),
            ("20.10", "2021-07-22"),
            ("21.04", "2022-01-20"),
            ("21.10", "2022-07-14"),
            ("22.04", "2027-04-23"),
            ("22.10", "2023-07-20"),
            ("23.04", "2024-01-20"),
            ("23.10", "2024-06-30"),
            ("24.10", "2025-07-09"),
            ("25.04", "2026-01-16"),
            ("25.10", "2026-07-01"),
            ("26.04", "2031-05-31"),
        ],
        "alpine" => &[
            ("3.10", "2021-05-01"),
            ("3.11", "2021-11-01"),
            ("3.12", "2022-05-01"),
            ("3.13", "2022-11-01"),
            ("3.14", "2023-05-01"),
            ("3.15", "2023-11-01"),
            ("3.16", "2024-05-23"),
            ("3.17", "2024-11-22"),
            ("3.18", "2025-05-09"),
            ("3.19", "2025-11-01"),
            ("3.20", "2026-04-01"),
            ("3.21", "2026-11-01"),
            ("3.22", "2027-05-01"),
            ("3.23", "2027-11-01"),
            ("3.24", "2028-06-01"),
        ],
        "centos" => &[
            ("5", "2017-03-31"),
            ("6", "2020-11-30"),
            ("7", "2024-06-30"),
            ("8", "2021-12-31"),
        ],
        "rhel" => &[("5", "2020-11-30"), ("6", "2024-06-30")],
        "almalinux" => &[("8", "2029-03-01"), ("9", "2032-05-31")],
        "rocky" => &[("8", "2029-05-31"), ("9", "2032-05-31")],
        "amzn" => &[("2", "2026-06-30"), ("2023", "2028-03-15")],
        _ => &[],
    };
    let key = match id {
        "ubuntu" | "alpine" => major_minor.as_str(),
        _ => major,
    };
    table.iter().find(|(v, _)| *v == key).map(|(_, date)| *date)
}

/// `distro=` qualifier value of OS package URLs: `debian-12`, `alpine-3.20.3`, or the bare id
/// of a rolling distribution.
pub(crate) fn distro_qualifier(distro: Option<&Distro>) -> Option<String> {
    let distro = distro?;
    if distro.id.is_empty() {
        return None;
    }
    Some(if distro.version_id.is_empty() {
        distro.id.clone()
    } else {
        format!("{}-{}", distro.id, distro.version_id)
    })
}

/// The purl namespace of an OS package: the distro's id (`debian`, `ubuntu`, `alpine`...),
/// `redhat` for RHEL as Syft and the purl examples write it, `fallback` when the distro is
/// unknown.
pub(crate) fn purl_namespace(distro: Option<&Distro>, fallback: &str) -> String {
    match distro.map(|d| d.id.as_str()) {
        Some("rhel") => "redhat".into(),
        Some(id) if !id.is_empty() => purl_escape(id),
        _ => fallback.into(),
    }
}

/// An OS package URL: `pkg:<type>/<namespace>/<name>@<version>?<qualifiers>`, qualifiers with a
/// value only, sorted by key as the purl specification's canonical form asks.
pub(crate) fn os_purl(
    kind: PackageKind,
    namespace: &str,
    name: &str,
    version: &str,
    qualifiers: &[(&str, Option<&str>)],
) -> String {
    let mut purl = format!(
        "pkg:{}/{}/{}@{}",
        kind.purl_type(),
        namespace,
        purl_escape(name),
        purl_escape(version)
    );
    let mut present: Vec<(&str, &str)> = qualifiers
        .iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    present.sort();
    for (i, (key, value)) in present.iter().enumerate() {
        purl.push(if i == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        purl.push_str(&purl_escape(value));
    }
    purl
}

/// `KEY=value` lines with shell-style quoting (`"…"`, `'…'`, backslash escapes inside double
/// quotes); comments and malformed lines are skipped.
fn parse(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let raw = raw.trim();
        let value = if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            let mut value = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        value.push(next);
                    }
                } else {
                    value.push(c);
                }
            }
            value
        } else if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            inner.to_string()
        } else {
            raw.to_string()
        };
        out.push((key.trim().to_string(), value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{Content, Entry, EntryKind};
    use std::sync::Arc;

    #[test]
    fn debian_os_release() {
        let mut files = FileTree::new();
        files.insert(
            "/usr/lib/os-release",
            Entry {
                kind: EntryKind::File(Content::Bytes(Arc::from(
                    &b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n# comment\nbroken line\n"[..],
                ))),
                mode: 0o644,
                size: 0,
                layer: 0,
            },
        );
        files.insert(
            "/etc/os-release",
            Entry {
                kind: EntryKind::Symlink("../usr/lib/os-release".into()),
                mode: 0o777,
                size: 0,
                layer: 0,
            },
        );
        let distro = detect(&files).unwrap();
        assert_eq!(distro.id, "debian");
        assert_eq!(distro.version_id, "12");
        assert_eq!(distro.codename.as_deref(), Some("bookworm"));
        assert_eq!(
            distro.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

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

    #[test]
    fn fallback_release_files() {
        let alpine = detect(&tree(&[("/etc/alpine-release", "3.20.3\n")])).unwrap();
        assert_eq!(
            (alpine.id.as_str(), alpine.version_id.as_str()),
            ("alpine", "3.20.3")
        );
        assert_eq!(alpine.end_of_life.as_deref(), Some("2026-04-01"));

        let centos = detect(&tree(&[
            (
                "/etc/redhat-release",
                "CentOS Linux release 7.9.2009 (Core)\n",
            ),
            (
                "/etc/centos-release",
                "CentOS Linux release 7.9.2009 (Core)\n",
            ),
        ]))
        .unwrap();
        assert_eq!(
            (centos.id.as_str(), centos.version_id.as_str()),
            ("centos", "7")
        );
        assert_eq!(centos.end_of_life.as_deref(), Some("2024-06-30"));

        let rhel = detect(&tree(&[(
            "/etc/redhat-release",
            "Red Hat Enterprise Linux release 9.4 (Plow)",
        )]))
        .unwrap();
        assert_eq!(
            (rhel.id.as_str(), rhel.version_id.as_str()),
            ("rhel", "9.4")
        );
        assert_eq!(rhel.end_of_life, None);

        let ubuntu = detect(&tree(&[
            ("/etc/debian_version", "bookworm/sid\n"),
            (
                "/etc/lsb-release",
                "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\nDISTRIB_DESCRIPTION=\"Ubuntu 22.04.4 LTS\"\n",
            ),
        ]))
        .unwrap();
        assert_eq!(
            (ubuntu.id.as_str(), ubuntu.version_id.as_str()),
            ("ubuntu", "22.04")
        );
        assert_eq!(ubuntu.codename.as_deref(), Some("jammy"));
        assert_eq!(ubuntu.end_of_life.as_deref(), Some("2027-04-23"));

        let debian = detect(&tree(&[("/etc/debian_version", "12.5\n")])).unwrap();
        assert_eq!(
            (debian.id.as_str(), debian.version_id.as_str()),
            ("debian", "12")
        );
        let sid = detect(&tree(&[("/etc/debian_version", "trixie/sid\n")])).unwrap();
        assert_eq!(sid.version_id, "");
        assert_eq!(sid.end_of_life, None);

        assert_eq!(detect(&tree(&[("/etc/redhat-release", "garbage")])), None);
        assert_eq!(detect(&FileTree::new()), None);
    }

    #[test]
    fn os_release_wins_and_gets_end_of_life() {
        let distro = detect(&tree(&[
            ("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
            ("/etc/debian_version", "11.9"),
        ]))
        .unwrap();
        assert_eq!(distro.version_id, "12");
        assert_eq!(distro.end_of_life.as_deref(), Some("2028-06-10"));
        assert!(matches!(
            OsRelease.interest("/etc/alpine-release", 7, 0o644),
            Interest::Keep
        ));
    }

    #[test]
    fn purls_are_canonical() {
        let rhel = Distro {
            id: "rhel".into(),
            version_id: "9.4".into(),
            ..Distro::default()
        };
        assert_eq!(
            os_purl(
                PackageKind::Rpm,
                &purl_namespace(Some(&rhel), "redhat"),
                "openssl-libs",
                "3.0.7-27.el9",
                &[
                    ("arch", Some("x86_64")),
                    ("epoch", Some("1")),
                    ("distro", distro_qualifier(Some(&rhel)).as_deref()),
                    ("upstream", None),
                ],
            ),
            "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1"
        );
        assert_eq!(purl_namespace(None, "debian"), "debian");
        assert_eq!(distro_qualifier(None), None);
    }
}
