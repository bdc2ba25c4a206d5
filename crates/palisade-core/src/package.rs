//! What is inside an image: [`Package`]s found by catalogers, the [`Distro`] the image is built
//! on, and the [`Sbom`] that holds them with the image they came from.
//!
//! These are the inventory vulnerability matching works from, so versions are kept exactly as the
//! package manager wrote them (epoch included: `1:2.3-4`), and every package says where it was
//! found (file and layer) so a finding can point at the layer that brought it in.

use serde::{Deserialize, Serialize};

/// The packaging system a package belongs to. Together with the [`Distro`] (for OS packages) it
/// decides the version scheme and the advisory ecosystem a package is matched in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// Debian/Ubuntu `.deb` packages (dpkg database).
    Deb,
    /// Alpine/Wolfi/Chainguard `.apk` packages.
    Apk,
    /// RPM packages (Red Hat family, SUSE, Amazon Linux...).
    Rpm,
    /// Python distributions (PyPI).
    Python,
    /// Node.js packages (npm registry).
    Npm,
    /// Go modules (from build information embedded in binaries).
    Go,
    /// Rust crates (Cargo.lock, cargo-auditable data in binaries).
    Rust,
    /// Java archives (Maven coordinates).
    Java,
    /// Ruby gems.
    Ruby,
    /// PHP Composer packages (Packagist).
    Php,
    /// .NET assemblies and NuGet packages.
    Dotnet,
}

impl PackageKind {
    /// The Package URL type (<https://github.com/package-url/purl-spec>).
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Apk => "apk",
            PackageKind::Rpm => "rpm",
            PackageKind::Python => "pypi",
            PackageKind::Npm => "npm",
            PackageKind::Go => "golang",
            PackageKind::Rust => "cargo",
            PackageKind::Java => "maven",
            PackageKind::Ruby => "gem",
            PackageKind::Php => "composer",
            PackageKind::Dotnet => "nuget",
        }
    }

    /// Whether packages of this kind are installed by the operating system's package manager.
    pub fn is_os(self) -> bool {
        matches!(self, PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Apk => "apk",
            PackageKind::Rpm => "rpm",
            PackageKind::Python => "python",
            PackageKind::Npm => "npm",
            PackageKind::Go => "go",
            PackageKind::Rust => "rust",
            PackageKind::Java => "java",
            PackageKind::Ruby => "ruby",
            PackageKind::Php => "php",
            PackageKind::Dotnet => "dotnet",
        }
    }
}

/// The source package an OS binary package was built from (dpkg `Source`, rpm `sourcerpm`, apk
/// `origin`): advisories for OS packages are usually published against it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourcePackage {
    pub name: String,
    /// Only when it differs from the binary package's version (dpkg `Source: name (version)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One package found in an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// Exactly as the package manager or metadata file wrote it (dpkg epochs `1:`, rpm
    /// `epoch:version-release`, PEP 440, semver...).
    pub version: String,
    pub kind: PackageKind,
    /// Package URL, e.g. `pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12`.
    pub purl: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Declared licenses (SPDX expressions or names as declared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The file that declares the package (`/var/lib/dpkg/status`, a `METADATA`, a binary...),
    /// an absolute path in the image.
    pub location: String,
    /// Digest of the layer that last wrote [`Package::location`], when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// A language package whose files the OS package manager installed (say, `python3-yaml`'s
    /// `PyYAML`): vulnerability matching judges it through the OS package, not as PyPI's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub os_owned: bool,
    /// Files the package installed (OS packages: from the package database), absolute paths. Used
    /// to decide [`Package::os_owned`]; not part of SBOM output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Kind-specific facts worth keeping (Go: `goVersion`, `mainModule`; Java: `groupId`...).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// The operating system an image is built on, from `/etc/os-release` (or its fallbacks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID`: `debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, `almalinux`, `amzn`, `wolfi`...
    pub id: String,
    /// `VERSION_ID`: `12`, `22.04`, `3.20.3`, `9.4`. Empty for rolling distributions.
    #[serde(default)]
    pub version_id: String,
    /// `VERSION_CODENAME`: `bookworm`, `jammy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// `ID_LIKE`, split.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// `PRETTY_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// End of (standard) support, `YYYY-MM-DD`, when Palisade knows it for this release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<String>,
}

/// One layer of an image, in order from the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Digest of the layer blob as stored (compressed), `sha256:…`.
    pub digest: String,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
    pub media_type: String,
    /// Size of the blob in bytes.
    pub size: u64,
}

/// The image an SBOM describes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// What the user asked for: `registry.example.com/shop/app:1.2`, `oci:dir:tag`...
    pub reference: String,
    /// Manifest digest, when the image has one (`sha256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// Config blob digest: the image ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
    /// `os/architecture[/variant]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default)]
    pub layers: Vec<Layer>,
    /// Tags the source knows for the image (`repo:tag`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// Something a cataloger could not read, kept in the SBOM so a gap in the inventory is visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogNote {
    /// The cataloger (`dpkg`, `python`...).
    pub cataloger: String,
    /// The file, absolute path in the image.
    pub path: String,
    pub message: String,
}

impl CatalogNote {
    pub fn new(
        cataloger: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> CatalogNote {
        CatalogNote {
            cataloger: cataloger.into(),
            path: path.into(),
            message: message.into(),
        }
    }
}

/// An image's inventory: what Palisade's SBOM formats are written from and what vulnerability
/// matching reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sbom {
    pub image: ImageInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<CatalogNote>,
}

/// Percent-encodes a purl component (name, version, qualifier value) as the purl specification
/// asks: everything but unreserved characters (`A-Za-z0-9.-_~`) is escaped, `:` too.
pub fn purl_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-decodes a purl component (the inverse of [`purl_escape`]); a malformed escape is kept
/// as written rather than rejected, since a purl from someone else's SBOM or VEX document is still
/// the best name there is for the package.
pub fn purl_unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                index += 3;
            }
            None => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_components_round_trip_and_bad_escapes_stay() {
        for text in ["2.36-9+deb12u4", "1:1.2.13", "@types/node", "plain"] {
            assert_eq!(purl_unescape(&purl_escape(text)), text);
        }
        assert_eq!(purl_unescape("50%"), "50%");
        assert_eq!(purl_unescape("%zz1"), "%zz1");
    }

    #[test]
    fn purl_components_are_escaped() {
        assert_eq!(purl_escape("2.36-9+deb12u4"), "2.36-9%2Bdeb12u4");
        assert_eq!(purl_escape("1:1.2.13"), "1%3A1.2.13");
        assert_eq!(purl_escape("@types/node"), "%40types%2Fnode");
        assert_eq!(purl_escape("plain-name_1.0~rc1"), "plain-name_1.0~rc1");
    }

    #[test]
    fn os_kinds() {
        assert!(PackageKind::Deb.is_os() && PackageKind::Rpm.is_os());
        assert!(!PackageKind::Python.is_os());
        assert_eq!(PackageKind::Go.purl_type(), "golang");
    }
}
