//! SBOM documents: writing an [`Sbom`] as CycloneDX 1.6 JSON, SPDX 2.3 JSON or Palisade's own
//! JSON, and reading any of them back (`palisade sbom:FILE` inputs).
//!
//! Output is byte-stable: the same inventory and options give the same bytes, so SBOMs can be
//! diffed, cached and signed. Nothing reads the clock or a random source; identifiers are derived
//! from the image digest and the package set, and the only time in a document is the one the
//! caller passes. docs/sbom.md describes the formats and how each field maps.

mod cyclonedx;
mod json;
mod license;
mod purl;
mod read;
mod spdx;

use std::io;

use palisade_core::{Package, Sbom};
use sha2::{Digest, Sha256};

pub use read::read;

/// The value of the `schema` member of Palisade JSON SBOMs.
pub const PALISADE_SCHEMA: &str = "palisade.dev/sbom/v1";

/// A document format Palisade writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    CycloneDx,
    /// SPDX 2.3 JSON.
    Spdx,
    /// Palisade's own JSON (`palisade.dev/sbom/v1`): everything Palisade knows, lossless.
    Json,
}

impl SbomFormat {
    /// The format named on the command line (`--format cyclonedx`), with the aliases other tools
    /// use (`cyclonedx-json`, `spdx-json`).
    pub fn from_name(name: &str) -> Option<SbomFormat> {
        match name.to_ascii_lowercase().as_str() {
            "cyclonedx" | "cyclonedx-json" | "cdx" | "cdx-json" => Some(SbomFormat::CycloneDx),
            "spdx" | "spdx-json" => Some(SbomFormat::Spdx),
            "json" | "palisade" | "palisade-json" => Some(SbomFormat::Json),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SbomFormat::CycloneDx => "cyclonedx",
            SbomFormat::Spdx => "spdx",
            SbomFormat::Json => "json",
        }
    }
}

/// What a document says about its own making.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Creation time, RFC 3339 (`2026-11-27T03:00:00Z`). CycloneDX leaves it out when `None`;
    /// SPDX requires one and refuses to write without it.
    pub timestamp: Option<String>,
    /// Palisade's version, named as the creating tool.
    pub tool_version: String,
}

/// Writes `sbom` as `format` to `out`. Fails only on `out` errors or an invalid
/// [`WriteOptions::timestamp`] (also a missing one for SPDX), as `InvalidInput`.
pub fn write(
    sbom: &Sbom,
    format: SbomFormat,
    options: &WriteOptions,
    out: &mut dyn io::Write,
) -> io::Result<()> {
    if let Some(timestamp) = &options.timestamp
        && !is_rfc3339(timestamp)
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("SBOM timestamp `{timestamp}` is not an RFC 3339 date-time"),
        ));
    }
    let mut out = io::BufWriter::new(out);
    match format {
        SbomFormat::CycloneDx => cyclonedx::write(sbom, options, &mut out)?,
        SbomFormat::Spdx => spdx::write(sbom, options, &mut out)?,
        SbomFormat::Json => json::write(sbom, &mut out)?,
    }
    io::Write::write_all(&mut out, b"\n")?;
    io::Write::flush(&mut out)
}

/// Serializes `value` pretty-printed (two spaces, like syft and the specifications' examples).
fn to_writer<T: serde::Serialize>(out: &mut dyn io::Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(out, value).map_err(io::Error::other)
}

/// A package's identity inside one document: the first 16 hex digits of a SHA-256 over what
/// makes it distinct (two copies of a library at different paths are two packages).
fn package_hash(package: &Package) -> String {
    let mut hasher = Sha256::new();
    for part in [
        package.kind.as_str(),
        &package.name,
        &package.version,
        &package.purl,
        &package.location,
    ] {
        hasher.update(part.as_bytes());
        // A separator that cannot occur in the parts keeps ("ab","c") and ("a","bc") apart.
        hasher.update([0u8]);
    }
    hex(&hasher.finalize()[..8])
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// Packages in document order with their ids, made unique: sorted by `id`, then by the fields
/// the id does not cover so that equal ids still come out in a fixed order. A repeated id gets
/// `-2`, `-3`... (two identical packages found twice in one file).
fn ordered(sbom: &Sbom, id: impl Fn(&Package, &str) -> String) -> Vec<(String, &Package)> {
    let mut entries: Vec<(String, &Package)> = sbom
        .packages
        .iter()
        .map(|package| (id(package, &package_hash(package)), package))
        .collect();
    entries.sort_by(|(id_a, a), (id_b, b)| {
        id_a.cmp(id_b)
            .then_with(|| a.layer.cmp(&b.layer))
            .then_with(|| a.arch.cmp(&b.arch))
            .then_with(|| a.licenses.cmp(&b.licenses))
            .then_with(|| a.os_owned.cmp(&b.os_owned))
            .then_with(|| a.metadata.cmp(&b.metadata))
    });
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for (id, _) in &mut entries {
        let count = seen.entry(id.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            id.push_str(&format!("-{count}"));
        }
    }
    entries
}

/// The digest that names the image in identifiers: manifest, else config, else the reference.
fn image_identity(sbom: &Sbom) -> &str {
    sbom.image
        .manifest_digest
        .as_deref()
        .or(sbom.image.config_digest.as_deref())
        .unwrap_or(&sbom.image.reference)
}

/// A name-based (version 5) UUID over the image identity and the package set: the same image
/// and inventory always get the same document id, a changed inventory a new one.
fn document_uuid(sbom: &Sbom) -> String {
    let mut hashes: Vec<String> = sbom.packages.iter().map(package_hash).collect();
    hashes.sort_unstable();
    let mut hasher = Sha256::new();
    hasher.update(image_identity(sbom).as_bytes());
    for hash in &hashes {
        hasher.update(b"\n");
        hasher.update(hash.as_bytes());
    }
    let name = format!("palisade-sbom:{}", hex(&hasher.finalize()));
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
        .hyphenated()
        .to_string()
}

/// An RFC 3339 `date-time`, the format both schemas ask for (core's parser, which also checks the
/// date is real).
fn is_rfc3339(text: &str) -> bool {
    palisade_core::time::parse_rfc3339(text).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert!(is_rfc3339("2026-11-27T03:00:00Z"));
        assert!(is_rfc3339("2026-11-27T03:00:00.123+01:00"));
        assert!(!is_rfc3339("2026-11-27 03:00:00Z"));
        assert!(!is_rfc3339("2026-11-27T03:00:00"));
        assert!(!is_rfc3339("2026-11-27T03:00:00.Z"));
        assert!(!is_rfc3339("2026-02-30T03:00:00Z"));
        assert!(!is_rfc3339(""));
    }

    #[test]
    fn format_names() {
        assert_eq!(
            SbomFormat::from_name("CycloneDX-JSON"),
            Some(SbomFormat::CycloneDx)
        );
        assert_eq!(SbomFormat::from_name("spdx-json"), Some(SbomFormat::Spdx));
        assert_eq!(SbomFormat::from_name("xml"), None);
        assert_eq!(
            SbomFormat::from_name(SbomFormat::Json.name()),
            Some(SbomFormat::Json)
        );
    }

    #[test]
    fn hashes_are_short_hex() {
        assert_eq!(hex(&[0x0f, 0xa0]), "0fa0");
    }
}
