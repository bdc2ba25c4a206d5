//! Installed Python distributions: `*.dist-info/METADATA` (wheels, pip), `*.egg-info/PKG-INFO`
//! and `*.egg-info` files (setuptools, Debian's python3-* packages), `*.egg/EGG-INFO/PKG-INFO`,
//! wherever they are (site-packages, dist-packages, virtualenvs, vendored trees), as syft's
//! `python-installed-package-cataloger` does.
//!
//! Only the RFC 822 header block is kept (the long description that follows can be large), via
//! [`metadata_headers`]. `location` is the metadata file itself, so a distribution installed by
//! a Debian package is recognised as OS-owned.

use std::collections::BTreeMap;

use palisade_core::{CatalogNote, Package, PackageKind, purl_escape};

use super::{Cataloger, Context, Interest};
use crate::files::{Content, EntryKind, FileTree};

pub struct PythonPackages;

/// Starts the extract of [`metadata_headers`], so another cataloger's extract of the same path is
/// never read as metadata.
const EXTRACT_MAGIC: &[u8] = b"\0pym1";
/// Headers of real metadata are a few KiB (many classifiers at most).
const MAX_HEADERS: usize = 1 << 20;

fn is_metadata_path(path: &str) -> bool {
    path.ends_with(".dist-info/METADATA")
        || path.ends_with(".egg-info/PKG-INFO")
        || path.ends_with(".egg-info")
        || path.ends_with(".egg/EGG-INFO/PKG-INFO")
}

impl Cataloger for PythonPackages {
    fn name(&self) -> &'static str {
        "python"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if is_metadata_path(path) {
            Interest::Extract(metadata_headers)
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
            if !is_metadata_path(path) {
                continue;
            }
            let text = match &entry.kind {
                EntryKind::File(Content::Extract(extract)) => {
                    match extract.strip_prefix(EXTRACT_MAGIC) {
                        Some(headers) => headers,
                        None => continue,
                    }
                }
                EntryKind::File(Content::Bytes(bytes)) => bytes,
                _ => continue,
            };
            match parse_metadata(path, text) {
                Some(package) => packages.push(package),
                None => notes.push(CatalogNote::new(
                    self.name(),
                    path,
                    "Python metadata without Name and Version",
                )),
            }
        }
    }
}

/// Keeps the header block of a metadata file (up to the first blank line).
pub fn metadata_headers(
    reader: &mut dyn std::io::Read,
    _size: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = EXTRACT_MAGIC.to_vec();
    let mut buffer = [0u8; 8192];
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        // Back up two bytes so a `\n\r\n` split across reads is still found.
        let start = out.len().saturating_sub(2).max(EXTRACT_MAGIC.len());
        out.extend_from_slice(buffer.get(..n).unwrap_or_default());
        if let Some(end) = find_blank_line(out.get(start..).unwrap_or_default()) {
            out.truncate(start + end);
            break;
        }
        if out.len() > MAX_HEADERS {
            out.truncate(MAX_HEADERS);
            break;
        }
    }
    Ok(Some(out))
}

fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    memchr::memmem::find(bytes, b"\n\n").or_else(|| memchr::memmem::find(bytes, b"\n\r\n"))
}

/// RFC 822 style headers (continuation lines start with whitespace) up to the first blank line.
pub fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

/// PEP 503 name normalization: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// The package a metadata file declares; `None` without a name and version.
pub fn parse_metadata(location: &str, bytes: &[u8]) -> Option<Package> {
    let text = String::from_utf8_lossy(bytes);
    let headers = parse_headers(&text);
    let get = |key: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty() && *v != "UNKNOWN")
    };
    let name = get("Name")?.to_string();
    let version = get("Version")?.to_string();
    let licenses = licenses(&headers, get("License-Expression"), get("License"));
    let mut metadata = BTreeMap::new();
    for (key, field) in [
        ("author", "Author"),
        ("authorEmail", "Author-email"),
        ("homePage", "Home-page"),
        ("metadataVersion", "Metadata-Version"),
    ] {
        if let Some(value) = get(field) {
            metadata.insert(key.to_string(), value.to_string());
        }
    }
    if let Some(root) = site_packages_root(location) {
        metadata.insert("sitePackagesRootPath".to_string(), root.to_string());
    }
    Some(Package {
        purl: format!(
            "pkg:pypi/{}@{}",
            purl_escape(&normalize_name(&name)),
            purl_escape(&version)
        ),
        name,
        version,
        kind: PackageKind::Python,
        source: None,
        arch: None,
        licenses,
        location: location.to_string(),
        layer: None,
        os_owned: false,
        files: Vec::new(),
        metadata,
    })
}

/// License-Expression (PEP 639) first, then a short `License` value (many packages paste the
/// whole license text there, which is not a license name), then the trove classifiers.
fn licenses(
    headers: &[(String, String)],
    expression: Option<&str>,
    license: Option<&str>,
) -> Vec<String> {
    if let Some(expression) = expression {
        return vec![expression.to_string()];
    }
    if let Some(license) = license
        && !license.contains('\n')
        && license.len() <= 100
    {
        return vec![license.to_string()];
    }
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Classifier"))
        .filter_map(|(_, v)| v.strip_prefix("License ::"))
        .filter_map(|v| v.rsplit("::").next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v != "OSI Approved")
        .collect()
}

/// The directory holding the metadata directory (`…/site-packages`).
fn site_packages_root(location: &str) -> Option<&str> {
    let dir = location
        .strip_suffix("/METADATA")
        .or_else(|| location.strip_suffix("/EGG-INFO/PKG-INFO"))
        .or_else(|| location.strip_suffix("/PKG-INFO"))
        .unwrap_or(location);
    dir.rsplit_once('/').map(|(parent, _)| parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed from PyYAML 6.0.1's wheel METADATA (PyPI).
    const PYYAML: &str = "Metadata-Version: 2.1\n\
Name: PyYAML\n\
Version: 6.0.1\n\
Summary: YAML parser and emitter for Python\n\
Home-page: https://pyyaml.org/\n\
Author: Kirill Simonov\n\
License: MIT\n\
Classifier: License :: OSI Approved :: MIT License\n\
Requires-Python: >=3.6\n\
\n\
YAML is a data serialization format designed for human readability\n\
Name: NotAHeader\n";

    #[test]
    fn wheel_metadata() {
        let p = parse_metadata(
            "/usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/METADATA",
            PYYAML.as_bytes(),
        )
        .expect("package");
        assert_eq!((p.name.as_str(), p.version.as_str()), ("PyYAML", "6.0.1"));
        assert_eq!(p.purl, "pkg:pypi/pyyaml@6.0.1");
        assert_eq!(p.licenses, ["MIT"]);
        assert_eq!(
            p.metadata["sitePackagesRootPath"],
            "/usr/lib/python3/dist-packages"
        );
    }

    #[test]
    fn license_fallbacks() {
        let text = "Name: zope.interface\nVersion: 6.0\nLicense: Copyright (c) x\n  all rights\n\
Classifier: License :: OSI Approved :: Zope Public License\n";
        let p = parse_metadata("/x.egg-info", text.as_bytes()).expect("package");
        assert_eq!(p.licenses, ["Zope Public License"]);
        assert_eq!(p.purl, "pkg:pypi/zope-interface@6.0");
        let text = "Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: MIT\n";
        let p = parse_metadata("/m", text.as_bytes()).expect("package");
        assert_eq!(p.licenses, ["MIT OR Apache-2.0"]);
        assert!(parse_metadata("/m", b"Name: only-name\n").is_none());
    }

    #[test]
    fn headers_extract_stops_at_body() {
        let out = metadata_headers(&mut PYYAML.as_bytes(), 0)
            .expect("read")
            .expect("extract");
        let headers = out.strip_prefix(EXTRACT_MAGIC).expect("magic");
        assert!(headers.ends_with(b"Requires-Python: >=3.6"));
        assert!(!String::from_utf8_lossy(headers).contains("NotAHeader"));
    }

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("Foo__Bar.baz-_Qux"), "foo-bar-baz-qux");
        assert_eq!(normalize_name("typing_extensions"), "typing-extensions");
    }
}
