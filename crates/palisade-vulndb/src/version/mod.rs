//! Version schemes: how each ecosystem orders its versions. Matching asks one question of them —
//! is this installed version before, at or after a range event — so every scheme answers with
//! [`compare`], and every answer is checked against the ecosystem's reference implementation
//! (`dpkg --compare-versions`, rpm's `rpmvercmp`, Python's `packaging`, ...) in tests.

use std::cmp::Ordering;

mod apk;
mod dpkg;
mod golang;
mod maven;
mod nuget;
mod packagist;
mod pep440;
mod rpm;
mod rubygems;
mod semver;

/// A version ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian policy §5.6.12 (Debian, Ubuntu).
    Dpkg,
    /// rpm's `rpmvercmp` with epoch, tilde and caret (Red Hat family, SUSE, Amazon Linux...).
    Rpm,
    /// apk-tools' ordering (Alpine, Wolfi, Chainguard).
    Apk,
    /// PEP 440 (PyPI).
    Pep440,
    /// Semantic Versioning 2.0 (npm, crates.io; OSV `SEMVER` ranges).
    Semver,
    /// Go modules: SemVer with a `v` prefix, pseudo-versions, `+incompatible`; the toolchain as
    /// `stdlib`/`toolchain` with `go1.x` forms.
    Go,
    /// Maven's ComparableVersion.
    Maven,
    /// RubyGems' `Gem::Version`.
    RubyGems,
    /// Composer's version normalisation (Packagist).
    Packagist,
    /// NuGet's `NuGetVersion` (four numeric parts, SemVer 2 prerelease).
    NuGet,
}

/// A version string a scheme cannot order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{version:?} is not a valid {scheme:?} version: {reason}")]
pub struct VersionError {
    pub scheme: Scheme,
    pub version: String,
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        VersionError {
            scheme,
            version: version.to_string(),
            reason: reason.into(),
        }
    }
}

impl Scheme {
    /// The scheme of an OSV ecosystem name (`Debian:12`, `AlmaLinux:9`, `PyPI`, `Go`, ...); the
    /// release qualifier after `:` does not change the ordering.
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "AlmaLinux" | "Rocky Linux" | "Red Hat" | "Fedora" | "SUSE" | "openSUSE"
            | "Amazon Linux" | "Mageia" | "openEuler" | "Azure Linux" | "CentOS" => Scheme::Rpm,
            "Alpine" | "Wolfi" | "Chainguard" | "Alpaquita" | "BellSoft Hardened Containers" => {
                Scheme::Apk
            }
            "PyPI" => Scheme::Pep440,
            "npm" | "crates.io" => Scheme::Semver,
            "Go" => Scheme::Go,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            "Packagist" => Scheme::Packagist,
            "NuGet" => Scheme::NuGet,
            _ => return None,
        })
    }

    /// Orders two versions of this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        match self {
            Scheme::Dpkg => dpkg::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Pep440 => pep440::compare(a, b),
            Scheme::Semver => semver::compare(a, b),
            Scheme::Go => golang::compare(a, b),
            Scheme::Maven => maven::compare(a, b),
            Scheme::RubyGems => rubygems::compare(a, b),
            Scheme::Packagist => packagist::compare(a, b),
            Scheme::NuGet => nuget::compare(a, b),
        }
    }
}
