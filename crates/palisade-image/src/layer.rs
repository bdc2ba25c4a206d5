//! Reading one layer blob into [`LayerChanges`] without unpacking it.
//!
//! The blob is read once, front to back: its stored bytes are hashed (the digest is checked when
//! the stream ends), decompressed according to its magic bytes (gzip, zstd or a plain tar), and
//! parsed as a tar stream. Each entry is asked of the catalogers' [`Interest`]; only what they
//! want is kept, everything else is skipped as it streams past. Nothing touches the disk.
//!
//! Layers are hostile input: paths are normalized into the image root, whiteouts are recorded
//! rather than applied, files kept in memory are capped, and the total and the expansion ratio of
//! the decompressed stream are capped so a small blob cannot make us chew through terabytes.

use std::cell::Cell;
use std::io::{self, BufReader, Read};
use std::rc::Rc;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::catalog::{self, Cataloger, Interest};
use crate::error::ImageError;
use crate::files::{Content, Entry, EntryKind, LayerChanges, normalize};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// zstd's own default limit (128 MiB windows): a frame asking for more would make the decoder
/// allocate that much per layer, which a hostile blob must not be able to demand.
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

/// Read-ahead of the stored blob; large enough that decompressors are not starved by small reads.
const BLOB_BUFFER: usize = 256 * 1024;

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

/// How much one layer may expand and how much of it may be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerLimits {
    /// Uncompressed bytes one layer may have in total.
    pub max_uncompressed: u64,
    /// Largest uncompressed/compressed ratio tolerated once [`LayerLimits::ratio_grace`] bytes
    /// have been produced (real layers stay far below 100×; bombs reach thousands).
    pub max_ratio: u64,
    /// Uncompressed bytes produced before the ratio is checked, so that runs of zeros at the
    /// start of a legitimate layer (sparse files, empty databases) do not trip it.
    pub ratio_grace: u64,
    /// Largest file kept in memory (`Interest::Keep`); larger ones are recorded as not kept.
    pub max_kept_file: u64,
}

impl Default for LayerLimits {
    fn default() -> Self {
        LayerLimits {
            max_uncompressed: 64 * GIB,
            max_ratio: 1000,
            ratio_grace: 64 * MIB,
            max_kept_file: 64 * MIB,
        }
    }
}

/// The compression of a blob, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

impl Compression {
    /// Detects the compression from the first (up to four) bytes of a blob.
    pub fn detect(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if prefix.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Reads layer `index` of the image `reference` from its stored `blob` (compressed or not) and
/// returns what it changes, keeping the files `catalogers` ask for.
///
/// `digest` is the blob's expected digest (`sha256:…`); the stored bytes must hash to it. An
/// empty `digest` skips the check (sources that have none, such as a directory).
pub fn read_layer(
    blob: &mut dyn Read,
    reference: &str,
    digest: &str,
    index: usize,
    catalogers: &[Box<dyn Cataloger>],
    limits: &LayerLimits,
) -> Result<LayerChanges, ImageError> {
    let layer_error = |message: String| ImageError::Layer {
        reference: reference.to_string(),
        digest: digest.to_string(),
        message,
    };
    let expected = if digest.is_empty() {
        None
    } else {
        Some(expected_sha256(digest).ok_or_else(|| {
            layer_error("unsupported digest (expected `sha256:` and 64 hex digits)".to_string())
        })?)
    };

    let compressed = Rc::new(Cell::new(0u64));
    let mut hashing = HashingReader {
        inner: blob,
        hasher: Sha256::new(),
        count: Rc::clone(&compressed),
    };
    let mut prefix = [0u8; 4];
    let prefix_len = read_up_to(&mut hashing, &mut prefix)
        .map_err(|e| layer_error(format!("cannot read blob: {e}")))?;
    let head = prefix.get(..prefix_len).unwrap_or_default();
    let compression = Compression::detect(head);
    let buffered = BufReader::with_capacity(
        BLOB_BUFFER,
        io::Cursor::new(prefix)
            .take(prefix_len as u64)
            .chain(hashing),
    );

    let decompressed = Decompressor::new(compression, buffered)
        .map_err(|e| layer_error(format!("cannot start decompression: {e}")))?;
    let tripped = Rc::new(Cell::new(None));
    let guard = BombGuard {
        inner: decompressed,
        produced: 0,
        compressed: Rc::clone(&compressed),
        limits: limits.clone(),
        tripped: Rc::clone(&tripped),
    };
    // A failure deep in the reader stack surfaces as a generic tar or io error; when the bomb
    // guard caused it, its own message is the one that explains what happened.
    let explain = |what: &str, e: io::Error| match tripped.take() {
        Some(reason) => layer_error(reason),
        None => layer_error(format!("{what}: {e}")),
    };

    let mut archive = tar::Archive::new(guard);
    let mut changes = LayerChanges::default();
    {
        let entries = archive
            .entries()
            .map_err(|e| explain("corrupt tar stream", e))?;
        for entry in entries {
            let entry = entry.map_err(|e| explain("corrupt tar stream", e))?;
            add_entry(entry, index, catalogers, limits, &mut changes)
                .map_err(|e| explain("corrupt tar stream", e))?;
        }
    }
    // The tar end marker may precede padding, further gzip members or zstd frames: all of it is
    // part of the blob and must be hashed (and decompressed, so truncation is noticed).
    // What follows the end marker is not read by container runtimes either, so garbage there
    // (which the decompressor may reject) is tolerated; the digest still covers it, and a bomb
    // hidden there is still stopped.
    let mut guard = archive.into_inner();
    if io::copy(&mut guard, &mut io::sink()).is_err()
        && let Some(reason) = tripped.take()
    {
        return Err(layer_error(reason));
    }
    let mut rest = guard.inner.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| explain("cannot read blob", e))?;
    let (_, hashing) = rest.into_inner().into_inner();
    let actual: [u8; 32] = hashing.hasher.finalize().into();
    if let Some(expected) = expected
        && actual != expected
    {
        return Err(layer_error(format!(
            "digest mismatch: the blob hashes to sha256:{}",
            hex(&actual)
        )));
    }
    Ok(changes)
}

/// Records one tar entry in `changes`, reading its bytes only when a cataloger wants them.
fn add_entry<R: Read>(
    mut entry: tar::Entry<'_, R>,
    index: usize,
    catalogers: &[Box<dyn Cataloger>],
    limits: &LayerLimits,
    changes: &mut LayerChanges,
) -> io::Result<()> {
    let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let Some(path) = normalize(&raw_path) else {
        return Ok(());
    };
    if path == "/" {
        return Ok(());
    }
    let (parent, name) = split_parent(&path);
    if let Some(hidden) = name.strip_prefix(".wh.") {
        if hidden == ".wh..opq" {
            changes.opaque_dirs.push(parent.to_string());
        } else if !matches!(hidden, "" | "." | "..")
            && let Some(target) = normalize(&format!("{parent}/{hidden}"))
        {
            changes.whiteouts.push(target);
        }
        return Ok(());
    }
    let header = entry.header();
    let mode = header.mode().unwrap_or(0o644) & 0o7777;
    let entry_type = header.entry_type();
    let link_name = entry
        .link_name_bytes()
        .map(|name| String::from_utf8_lossy(&name).into_owned());
    let size = entry.size();
    let kind = match entry_type {
        tar::EntryType::Directory => EntryKind::Dir,
        tar::EntryType::Symlink => match link_name {
            Some(target) if !target.contains('\0') && !target.is_empty() => {
                EntryKind::Symlink(target)
            }
            _ => return Ok(()),
        },
        tar::EntryType::Link => {
            // A hard link names a file by its path in the archive; only a file earlier in this
            // same layer can be its content (links across layers are not allowed by the format).
            let linked = link_name
                .as_deref()
                .and_then(normalize)
                .and_then(|target| match changes.tree.get(&target) {
                    Some(
                        linked @ Entry {
                            kind: EntryKind::File(_),
                            ..
                        },
                    ) => Some(linked.clone()),
                    _ => None,
                });
            let entry = match linked {
                Some(linked) => Entry {
                    layer: index,
                    ..linked
                },
                None => Entry {
                    kind: EntryKind::File(Content::NotKept),
                    mode,
                    size: 0,
                    layer: index,
                },
            };
            changes.tree.insert(&path, entry);
            return Ok(());
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let content = match catalog::interest(catalogers, &path, size, mode) {
                Interest::Keep if size <= limits.max_kept_file => {
                    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                    (&mut entry)
                        .take(limits.max_kept_file)
                        .read_to_end(&mut bytes)?;
                    Content::Bytes(Arc::from(bytes))
                }
                Interest::Extract(extractor) => {
                    let mut limited = (&mut entry).take(size);
                    match extractor(&mut limited, size) {
                        Ok(Some(extract)) => Content::Extract(Arc::from(extract)),
                        // An extractor that fails on a file (not the format it hoped for) only
                        // loses that file; a broken stream shows up on the next header.
                        Ok(None) | Err(_) => Content::NotKept,
                    }
                }
                Interest::Keep | Interest::None => Content::NotKept,
            };
            EntryKind::File(content)
        }
        // Devices, FIFOs, sparse and vendor entries carry nothing a cataloger reads.
        _ => return Ok(()),
    };
    let size = if matches!(kind, EntryKind::File(_)) {
        size
    } else {
        0
    };
    changes.tree.insert(
        &path,
        Entry {
            kind,
            mode,
            size,
            layer: index,
        },
    );
    Ok(())
}

/// `/a/b/c` → (`/a/b`, `c`); `/c` → (`/`, `c`).
fn split_parent(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", path.get(1..).unwrap_or_default()),
        Some(at) => (
            path.get(..at).unwrap_or("/"),
            path.get(at + 1..).unwrap_or_default(),
        ),
        None => ("/", path),
    }
}

/// The 32 bytes of a `sha256:<64 hex>` digest.
pub(crate) fn expected_sha256(digest: &str) -> Option<[u8; 32]> {
    let hex_digits = digest.strip_prefix("sha256:")?;
    if hex_digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex_digits.as_bytes().chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        if !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// Lowercase hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Fills `buf` as far as the stream allows (short reads are normal for pipes and sockets).
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Hashes and counts the stored bytes as they are read.
struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
    count: Rc<Cell<u64>>,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(read) = buf.get(..n) {
            self.hasher.update(read);
        }
        self.count.set(self.count.get().saturating_add(n as u64));
        Ok(n)
    }
}

type Stored<'a> = BufReader<io::Chain<io::Take<io::Cursor<[u8; 4]>>, HashingReader<'a>>>;

/// The decompressed tar stream.
enum Decompressor<'a> {
    Gzip(flate2::bufread::MultiGzDecoder<Stored<'a>>),
    Zstd(zstd::stream::read::Decoder<'static, Stored<'a>>),
    None(Stored<'a>),
}

impl<'a> Decompressor<'a> {
    fn new(compression: Compression, stored: Stored<'a>) -> io::Result<Decompressor<'a>> {
        Ok(match compression {
            // Layers built by some tools are several gzip members back to back (pigz, appended
            // layers): all of them are the tar stream.
            Compression::Gzip => Decompressor::Gzip(flate2::bufread::MultiGzDecoder::new(stored)),
            Compression::Zstd => {
                let mut decoder = zstd::stream::read::Decoder::with_buffer(stored)?;
                decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Decompressor::Zstd(decoder)
            }
            Compression::None => Decompressor::None(stored),
        })
    }

    fn into_inner(self) -> Stored<'a> {
        match self {
            Decompressor::Gzip(d) => d.into_inner(),
            Decompressor::Zstd(d) => d.finish(),
            Decompressor::None(s) => s,
        }
    }
}

impl Read for Decompressor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decompressor::Gzip(d) => d.read(buf),
            Decompressor::Zstd(d) => d.read(buf),
            Decompressor::None(s) => s.read(buf),
        }
    }
}

/// Stops a decompression bomb: caps the total uncompressed bytes and the expansion ratio.
struct BombGuard<'a> {
    inner: Decompressor<'a>,
    produced: u64,
    compressed: Rc<Cell<u64>>,
    limits: LayerLimits,
    tripped: Rc<Cell<Option<String>>>,
}

impl Read for BombGuard<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.produced = self.produced.saturating_add(n as u64);
        let reason = if self.produced > self.limits.max_uncompressed {
            Some(format!(
                "decompression bomb: more than {} uncompressed bytes",
                self.limits.max_uncompressed
            ))
        } else if self.produced > self.limits.ratio_grace
            && self.produced / self.compressed.get().max(1) > self.limits.max_ratio
        {
            Some(format!(
                "decompression bomb: {} bytes expand to more than {} (over {}×)",
                self.compressed.get(),
                self.produced,
                self.limits.max_ratio
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            self.tripped.set(Some(reason.clone()));
            return Err(io::Error::other(reason));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_from_magic_bytes() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(Compression::detect(&ZSTD_MAGIC), Compression::Zstd);
        assert_eq!(Compression::detect(b"usr/"), Compression::None);
        assert_eq!(Compression::detect(&[0x1f]), Compression::None);
    }

    #[test]
    fn digests_must_be_sha256_hex() {
        let good = sha256_digest(b"x");
        assert!(expected_sha256(&good).is_some());
        assert!(expected_sha256("sha512:00").is_none());
        assert!(expected_sha256(&good.to_uppercase()).is_none());
        assert!(expected_sha256(&format!("{good}0")).is_none());
        assert!(
            expected_sha256("sha256:../../../../../../../../../../../../../../../../../etc/passw")
                .is_none()
        );
    }

    #[test]
    fn parent_and_name() {
        assert_eq!(split_parent("/a/b/.wh.c"), ("/a/b", ".wh.c"));
        assert_eq!(split_parent("/.wh.c"), ("/", ".wh.c"));
    }
}
