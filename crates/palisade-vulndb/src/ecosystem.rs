//! Which OSV ecosystem and package name an inventory package is matched under, and how names
//! are normalized so that the advisory index and the inventory agree.
//!
//! Distro packages are release-qualified (`Debian:12`, `Alpine:v3.20`, `AlmaLinux:9`) and matched
//! only against their distro's advisories; language packages the OS package manager installed
//! (`os_owned`) are not matched at all as language packages, since their fixes arrive through the
//! distro's package.

use palisade_core::{Distro, Package, PackageKind};

/// The name an advisory index stores and looks up for `name` in `ecosystem`.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    match base {
        // PEP 503: case-insensitive, runs of `-`, `_`, `.` are equivalent.
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut separator = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    separator = true;
                } else {
                    if separator && !out.is_empty() {
                        out.push('-');
                    }
                    separator = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        // Both registries treat names case-insensitively.
        "NuGet" | "Packagist" => name.trim().to_ascii_lowercase(),
        _ => name.trim().to_string(),
    }
}

/// One way to look a package up: ecosystem, indexed name, and the version to compare.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    pub ecosystem: String,
    pub package: String,
    pub version: String,
}

/// The lookups for one inventory package; empty when it cannot be matched (an OS-owned language
/// package, an unknown distro, a `(devel)` Go module).
pub fn queries(package: &Package, distro: Option<&Distro>) -> Vec<Query> {
    if package.os_owned && !package.kind.is_os() {
        return Vec::new();
    }
    let version = package.version.trim();
    if version.is_empty() || version == "(devel)" {
        return Vec::new();
    }
    let query = |ecosystem: String, name: &str, version: &str| Query {
        package: normalize_name(&ecosystem, name),
        ecosystem,
        version: version.to_string(),
    };
    match package.kind {
        PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm => {
            let Some(ecosystem) = distro.and_then(|d| distro_ecosystem(package.kind, d)) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            match (&package.source, package.kind) {
                // Debian and Alpine publish advisories per source package, at the source version
                // (a binNMU `+b1` binary belongs to its source version).
                (Some(source), PackageKind::Deb | PackageKind::Apk) => {
                    let source_version = source.version.as_deref().unwrap_or(version);
                    out.push(query(ecosystem.clone(), &source.name, source_version));
                    if package.kind == PackageKind::Apk && source.name != package.name {
                        out.push(query(ecosystem, &package.name, version));
                    }
                }
                // Red Hat family advisories name binary packages (`openssl-libs`).
                _ => out.push(query(ecosystem, &package.name, version)),
            }
            out
        }
        PackageKind::Python => vec![query("PyPI".into(), &package.name, version)],
        PackageKind::Npm => vec![query("npm".into(), &package.name, version)],
        PackageKind::Go => {
            // The Go vulnerability database writes toolchain versions without `v`/`go`.
            let version = if package.name == "stdlib" || package.name == "toolchain" {
                version.trim_start_matches("go").trim_start_matches('v')
            } else {
                version
            };
            vec![query("Go".into(), &package.name, version)]
        }
        PackageKind::Rust => vec![query("crates.io".into(), &package.name, version)],
        PackageKind::Java => vec![query("Maven".into(), &package.name, version)],
        PackageKind::Ruby => vec![query("RubyGems".into(), &package.name, version)],
        PackageKind::Php => vec![query("Packagist".into(), &package.name, version)],
        PackageKind::Dotnet => vec![query("NuGet".into(), &package.name, version)],
    }
}

/// The release-qualified OSV ecosystem of a distro's packages: `Debian:12`, `Ubuntu:22.04:LTS`,
/// `Alpine:v3.20`, `AlmaLinux:9`, `Rocky Linux:9`, `Red Hat:…` is not published by OSV per
/// release, so RHEL images match nothing here rather than a wrong release.
pub fn distro_ecosystem(kind: PackageKind, distro: &Distro) -> Option<String> {
    let id = distro.id.as_str();
    let version = distro.version_id.trim();
    let major = version.split('.').next().unwrap_or(version);
    let major_minor = {
        let mut parts = version.split('.');
        match (parts.next(), parts.next()) {
            (Some(a), Some(b)) => format!("{a}.{b}"),
            _ => version.to_string(),
        }
    };
    let ecosystem = match (kind, id) {
        (PackageKind::Deb, "debian") if !major.is_empty() => format!("Debian:{major}"),
        (PackageKind::Deb, "ubuntu") if !version.is_empty() => {
            // OSV's Ubuntu ecosystem names LTS releases `Ubuntu:22.04:LTS` (even years, April).
            let lts = major_minor.ends_with(".04")
                && major.parse::<u32>().is_ok_and(|year| year % 2 == 0);
            if lts {
                format!("Ubuntu:{major_minor}:LTS")
            } else {
                format!("Ubuntu:{major_minor}")
            }
        }
        (PackageKind::Apk, "alpine") if !version.is_empty() => format!("Alpine:v{major_minor}"),
        (PackageKind::Apk, "wolfi") => "Wolfi".to_string(),
        (PackageKind::Apk, "chainguard") => "Chainguard".to_string(),
        (PackageKind::Rpm, "almalinux") if !major.is_empty() => format!("AlmaLinux:{major}"),
        (PackageKind::Rpm, "rocky") if !major.is_empty() => format!("Rocky Linux:{major}"),
        (PackageKind::Rpm, "opensuse-leap") if !version.is_empty() => {
            format!("openSUSE:Leap {version}")
        }
        (PackageKind::Rpm, "mageia") if !major.is_empty() => format!("Mageia:{major}"),
        (PackageKind::Rpm, "openEuler" | "openeuler") if !version.is_empty() => {
            format!("openEuler:{version}")
        }
        _ => return None,
    };
    Some(ecosystem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_names_follow_pep_503() {
        assert_eq!(
            normalize_name("PyPI", "Flask_SQLAlchemy"),
            "flask-sqlalchemy"
        );
        assert_eq!(normalize_name("PyPI", "zope.interface"), "zope-interface");
        assert_eq!(normalize_name("PyPI", "a--_.b"), "a-b");
        assert_eq!(normalize_name("npm", "@Scope/Pkg"), "@Scope/Pkg");
        assert_eq!(
            normalize_name("NuGet", "Newtonsoft.Json"),
            "newtonsoft.json"
        );
    }

    fn distro(id: &str, version: &str) -> Distro {
        Distro {
            id: id.to_string(),
            version_id: version.to_string(),
            ..Distro::default()
        }
    }

    #[test]
    fn distro_releases() {
        let eco = |kind, id, v| distro_ecosystem(kind, &distro(id, v));
        assert_eq!(
            eco(PackageKind::Deb, "debian", "12").as_deref(),
            Some("Debian:12")
        );
        assert_eq!(
            eco(PackageKind::Deb, "ubuntu", "22.04").as_deref(),
            Some("Ubuntu:22.04:LTS")
        );
        assert_eq!(
            eco(PackageKind::Deb, "ubuntu", "23.10").as_deref(),
            Some("Ubuntu:23.10")
        );
        assert_eq!(
            eco(PackageKind::Apk, "alpine", "3.20.3").as_deref(),
            Some("Alpine:v3.20")
        );
        assert_eq!(
            eco(PackageKind::Rpm, "almalinux", "9.4").as_deref(),
            Some("AlmaLinux:9")
        );
        assert_eq!(eco(PackageKind::Rpm, "rhel", "9.4"), None);
        assert_eq!(eco(PackageKind::Deb, "almalinux", "9.4"), None);
    }
}
