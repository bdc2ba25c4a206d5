//! Which operating system an image is built on: `/etc/os-release` (or `/usr/lib/os-release`),
//! as systemd documents it.

use palisade_core::{CatalogNote, Distro, Package};

use super::{Cataloger, Context, Interest};
use crate::files::FileTree;

const FILES: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Keeps the os-release files; the distro itself is read by [`detect`] before any cataloger runs.
pub struct OsRelease;

impl Cataloger for OsRelease {
    fn name(&self) -> &'static str {
        "os-release"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if FILES.contains(&path) {
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

/// The image's distro from its os-release file; `None` when there is none (scratch, distroless
/// without one).
pub fn detect(files: &FileTree) -> Option<Distro> {
    let text = FILES.iter().find_map(|path| files.read(path))?;
    let fields = parse(&String::from_utf8_lossy(text));
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
}
