//! The rpm header blob every rpmdb backend stores per installed package: a big-endian index of
//! `(tag, type, offset, count)` entries followed by a data store (rpm's `lib/header.c`,
//! `hdrblobInit`/`hdrblobImport`; go-rpmdb's `pkg/entry.go` reads it the same way).
//!
//! Only the tags a package inventory needs are decoded. Every offset and count comes from the
//! image, so each read is bounds-checked and array counts are capped: a corrupt header is an
//! error, never a panic or a huge allocation.

use std::fmt;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
/// Pre-rpm-4.0 headers list full paths instead of BASENAMES/DIRNAMES/DIRINDEXES.
const TAG_OLDFILENAMES: u32 = 1027;
const TAG_SOURCERPM: u32 = 1044;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm itself refuses headers of 256 MiB or more (`headerMaxbytes`).
const MAX_HEADER_BYTES: usize = 256 * 1024 * 1024;
/// rpm caps the index at 0xffff entries (`hdrchkTags`).
const MAX_INDEX_ENTRIES: usize = 0xffff;
/// No real package has more files than this; a count above it is corruption.
const MAX_FILES: usize = 1_000_000;

/// The facts of one installed rpm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmHeader {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    pub license: Option<String>,
    /// `SOURCERPM`, e.g. `openssl-3.0.7-27.el9.src.rpm`.
    pub source_rpm: Option<String>,
    /// Absolute paths of the files (and directories) the package owns.
    pub files: Vec<String>,
}

/// Why a header blob could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError(pub String);

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt rpm header: {}", self.0)
    }
}

impl std::error::Error for HeaderError {}

fn err(message: impl Into<String>) -> HeaderError {
    HeaderError(message.into())
}

struct IndexEntry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let slice = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([slice[0], slice[1], slice[2], slice[3]]))
}

/// Parses one header blob as stored in an rpmdb (no lead, no magic: rpmdbs store the blob
/// starting at the index length).
pub fn parse(blob: &[u8]) -> Result<RpmHeader, HeaderError> {
    let index_len = be_u32(blob, 0).ok_or_else(|| err("shorter than 8 bytes"))? as usize;
    let data_len = be_u32(blob, 4).ok_or_else(|| err("shorter than 8 bytes"))? as usize;
    if index_len == 0 || index_len > MAX_INDEX_ENTRIES {
        return Err(err(format!("{index_len} index entries")));
    }
    let data_start = 8 + index_len * 16;
    let data_end = data_start
        .checked_add(data_len)
        .filter(|end| *end <= MAX_HEADER_BYTES)
        .ok_or_else(|| err(format!("data length {data_len} too large")))?;
    let data = blob.get(data_start..data_end).ok_or_else(|| {
        err(format!(
            "{} bytes, index and data need {data_end}",
            blob.len()
        ))
    })?;

    // Entries of the immutable region come first and "dribble" entries added later (after
    // install) follow; a tag present in both takes the later value, as rpm does.
    let mut entries: Vec<IndexEntry> = Vec::new();
    for i in 0..index_len {
        let at = 8 + i * 16;
        let (Some(tag), Some(kind), Some(offset), Some(count)) = (
            be_u32(blob, at),
            be_u32(blob, at + 4),
            be_u32(blob, at + 8),
            be_u32(blob, at + 12),
        ) else {
            return Err(err("truncated index"));
        };
        if matches!(
            tag,
            TAG_NAME
                | TAG_VERSION
                | TAG_RELEASE
                | TAG_EPOCH
                | TAG_LICENSE
                | TAG_ARCH
                | TAG_OLDFILENAMES
                | TAG_SOURCERPM
                | TAG_DIRINDEXES
                | TAG_BASENAMES
                | TAG_DIRNAMES
        ) {
            entries.retain(|e| e.tag != tag);
            entries.push(IndexEntry {
                tag,
                kind,
                offset: offset as usize,
                count: count as usize,
            });
        }
    }
    let find = |tag: u32| entries.iter().find(|e| e.tag == tag);
    let string = |tag: u32| -> Result<Option<String>, HeaderError> {
        match find(tag) {
            None => Ok(None),
            Some(entry) => read_strings(data, entry, 1).map(|mut v| v.pop()),
        }
    };

    let name = string(TAG_NAME)?.ok_or_else(|| err("no NAME tag"))?;
    let version = string(TAG_VERSION)?.unwrap_or_default();
    let release = string(TAG_RELEASE)?.unwrap_or_default();
    let epoch = match find(TAG_EPOCH) {
        Some(entry) => read_int32s(data, entry, 1)?.first().copied(),
        None => None,
    };
    // rpm writes "(none)" where a string tag has no value.
    let meaningful = |value: Option<String>| value.filter(|v| !v.is_empty() && v != "(none)");
    let arch = meaningful(string(TAG_ARCH)?);
    let license = meaningful(string(TAG_LICENSE)?);
    let source_rpm = meaningful(string(TAG_SOURCERPM)?);

    let files = match (
        find(TAG_BASENAMES),
        find(TAG_DIRNAMES),
        find(TAG_DIRINDEXES),
    ) {
        (Some(basenames), Some(dirnames), Some(dirindexes)) => {
            let basenames = read_strings(data, basenames, MAX_FILES)?;
            let dirnames = read_strings(data, dirnames, MAX_FILES)?;
            let dirindexes = read_int32s(data, dirindexes, MAX_FILES)?;
            if dirindexes.len() != basenames.len() {
                return Err(err("BASENAMES and DIRINDEXES differ in length"));
            }
            let mut files = Vec::with_capacity(basenames.len());
            for (base, dir_index) in basenames.iter().zip(dirindexes) {
                let dir = dirnames
                    .get(dir_index as usize)
                    .ok_or_else(|| err(format!("DIRINDEXES entry {dir_index} out of range")))?;
                files.push(format!("{dir}{base}"));
            }
            files
        }
        _ => match find(TAG_OLDFILENAMES) {
            Some(entry) => read_strings(data, entry, MAX_FILES)?,
            None => Vec::new(),
        },
    };

    Ok(RpmHeader {
        name,
        version,
        release,
        epoch,
        arch,
        license,
        source_rpm,
        files,
    })
}

/// `count` NUL-terminated strings from the data store (a STRING has count 1).
fn read_strings(data: &[u8], entry: &IndexEntry, cap: usize) -> Result<Vec<String>, HeaderError> {
    if !matches!(
        entry.kind,
        TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING
    ) {
        return Err(err(format!(
            "tag {} has type {}, not a string",
            entry.tag, entry.kind
        )));
    }
    if entry.count > cap {
        return Err(err(format!(
            "tag {} claims {} strings",
            entry.tag, entry.count
        )));
    }
    let mut rest = data
        .get(entry.offset..)
        .ok_or_else(|| err(format!("tag {} offset beyond the data", entry.tag)))?;
    // Each string takes at least one byte, so the count is also bounded by what is there.
    if entry.count > rest.len() {
        return Err(err(format!("tag {} overruns the data", entry.tag)));
    }
    let mut out = Vec::with_capacity(entry.count);
    for _ in 0..entry.count {
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or_else(|| err(format!("tag {} string not terminated", entry.tag)))?;
        out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
        rest = &rest[end + 1..];
    }
    Ok(out)
}

fn read_int32s(data: &[u8], entry: &IndexEntry, cap: usize) -> Result<Vec<u32>, HeaderError> {
    if entry.kind != TYPE_INT32 {
        return Err(err(format!(
            "tag {} has type {}, not int32",
            entry.tag, entry.kind
        )));
    }
    if entry.count > cap {
        return Err(err(format!(
            "tag {} claims {} values",
            entry.tag, entry.count
        )));
    }
    let bytes = entry
        .count
        .checked_mul(4)
        .and_then(|len| data.get(entry.offset..entry.offset.checked_add(len)?))
        .ok_or_else(|| err(format!("tag {} overruns the data", entry.tag)))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Splits `SOURCERPM` (`name-version-release.src.rpm`) into name and `version-release`; rpm
/// names may contain dashes, version and release may not.
pub fn split_source_rpm(source_rpm: &str) -> Option<(String, String)> {
    let stem = source_rpm
        .strip_suffix(".src.rpm")
        .or_else(|| source_rpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a header blob from `(tag, type, count, data)` entries, aligning int32 data as rpm
    /// does.
    pub(crate) fn blob(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut store = Vec::new();
        for (tag, kind, count, bytes) in entries {
            if *kind == TYPE_INT32 {
                while store.len() % 4 != 0 {
                    store.push(0);
                }
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&kind.to_be_bytes());
            index.extend_from_slice(&(store.len() as u32).to_be_bytes());
            index.extend_from_slice(&count.to_be_bytes());
            store.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(store.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(store);
        out
    }

    pub(crate) fn string(tag: u32, value: &str) -> (u32, u32, u32, Vec<u8>) {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        (tag, TYPE_STRING, 1, bytes)
    }

    fn strings(tag: u32, values: &[&str]) -> (u32, u32, u32, Vec<u8>) {
        let mut bytes = Vec::new();
        for value in values {
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(0);
        }
        (tag, TYPE_STRING_ARRAY, values.len() as u32, bytes)
    }

    fn int32s(tag: u32, values: &[u32]) -> (u32, u32, u32, Vec<u8>) {
        let bytes = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        (tag, TYPE_INT32, values.len() as u32, bytes)
    }

    #[test]
    fn reads_identity_source_and_files() {
        let header = parse(&blob(&[
            string(TAG_NAME, "openssl-libs"),
            string(TAG_VERSION, "3.0.7"),
            string(TAG_RELEASE, "27.el9"),
            int32s(TAG_EPOCH, &[1]),
            string(TAG_LICENSE, "ASL 2.0"),
            string(TAG_ARCH, "x86_64"),
            string(TAG_SOURCERPM, "openssl-3.0.7-27.el9.src.rpm"),
            int32s(TAG_DIRINDEXES, &[0, 1, 1]),
            strings(TAG_BASENAMES, &["libssl.so.3", "LICENSE", "README"]),
            strings(
                TAG_DIRNAMES,
                &["/usr/lib64/", "/usr/share/doc/openssl-libs/"],
            ),
        ]))
        .unwrap();
        assert_eq!(header.name, "openssl-libs");
        assert_eq!(header.epoch, Some(1));
        assert_eq!(header.arch.as_deref(), Some("x86_64"));
        assert_eq!(header.license.as_deref(), Some("ASL 2.0"));
        assert_eq!(
            header.files,
            [
                "/usr/lib64/libssl.so.3",
                "/usr/share/doc/openssl-libs/LICENSE",
                "/usr/share/doc/openssl-libs/README"
            ]
        );
        assert_eq!(
            split_source_rpm(header.source_rpm.as_deref().unwrap()),
            Some(("openssl".into(), "3.0.7-27.el9".into()))
        );
    }

    #[test]
    fn none_strings_and_old_file_lists() {
        let header = parse(&blob(&[
            string(TAG_NAME, "gpg-pubkey"),
            string(TAG_SOURCERPM, "(none)"),
            strings(TAG_OLDFILENAMES, &["/etc/a", "/etc/b"]),
        ]))
        .unwrap();
        assert_eq!(header.source_rpm, None);
        assert_eq!(header.epoch, None);
        assert_eq!(header.files, ["/etc/a", "/etc/b"]);
    }

    #[test]
    fn corrupt_headers_are_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
        // Huge claimed counts.
        assert!(
            parse(&blob(&[(
                TAG_NAME,
                TYPE_STRING_ARRAY,
                u32::MAX,
                b"x\0".to_vec()
            )]))
            .is_err()
        );
        assert!(
            parse(&blob(&[
                string(TAG_NAME, "x"),
                int32s(TAG_DIRINDEXES, &[7]),
                strings(TAG_BASENAMES, &["a"]),
                strings(TAG_DIRNAMES, &["/"]),
            ]))
            .is_err()
        );
        // Unterminated string.
        let mut bad = blob(&[string(TAG_NAME, "abc")]);
        bad.pop();
        assert!(parse(&bad).is_err());
        assert_eq!(split_source_rpm("nonsense"), None);
    }
}
