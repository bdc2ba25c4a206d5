//! Per-layer results kept between scans, so images that share base layers read them once.
//!
//! Each layer's [`LayerChanges`] (every path, but contents only for the files catalogers kept) is
//! stored under Palisade's data directory keyed by the layer digest and a version string of the
//! catalogers that produced it: adding or changing a cataloger changes what must be kept, so old
//! entries simply stop matching. Files are written to a temporary name and renamed, so a reader
//! never sees half a file; a file that does not decode (truncated, foreign, bit-flipped: a
//! checksum covers it) is treated as absent and rewritten.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::catalog::Cataloger;
use crate::error::ImageError;
use crate::files::{Content, Entry, EntryKind, FileTree, LayerChanges};
use crate::layer::{LayerLimits, hex};

const MAGIC: &[u8; 8] = b"PLSDLYR1";

/// Distinguishes temporary files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Layer results stored on disk.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    /// The cache under `PALISADE_HOME` (or the platform data directory): `<home>/layers`.
    pub fn open_default() -> Result<LayerCache, ImageError> {
        let home = palisade_home().ok_or_else(|| ImageError::Cache {
            path: PathBuf::from("$PALISADE_HOME"),
            message: "no PALISADE_HOME, XDG_DATA_HOME or HOME to put the cache in".to_string(),
        })?;
        LayerCache::at(home.join("layers"))
    }

    /// A cache in directory `dir` (created when missing).
    pub fn at(dir: impl Into<PathBuf>) -> Result<LayerCache, ImageError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| ImageError::Cache {
            path: dir.clone(),
            message: format!("cannot create: {e}"),
        })?;
        Ok(LayerCache { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The stored changes of the layer `digest` made by catalogers `version`, with their entries
    /// attributed to layer `index` of the image being scanned. `None` when absent or unreadable.
    pub fn get(&self, digest: &str, version: &str, index: usize) -> Option<LayerChanges> {
        let bytes = fs::read(self.path(digest, version)).ok()?;
        decode(&bytes, index)
    }

    /// Stores the changes of layer `digest` made by catalogers `version`.
    pub fn put(
        &self,
        digest: &str,
        version: &str,
        changes: &LayerChanges,
    ) -> Result<(), ImageError> {
        let path = self.path(digest, version);
        let temp = self.dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let cache_error = |message: String| ImageError::Cache {
            path: path.clone(),
            message,
        };
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temp)?;
            file.write_all(&encode(changes))?;
            file.sync_all()?;
            fs::rename(&temp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temp);
            cache_error(format!("cannot write: {e}"))
        })
    }

    /// File names are a hash of the key, so no digest text (hostile in a hostile manifest) ever
    /// becomes a path component.
    fn path(&self, digest: &str, version: &str) -> PathBuf {
        let key = Sha256::digest(format!("{digest}\0{version}").as_bytes());
        self.dir.join(format!("{}.layer", hex(&key)))
    }
}

/// Palisade's data directory: `PALISADE_HOME`, else `$XDG_DATA_HOME/palisade`, else the platform
/// default under the home directory.
pub fn palisade_home() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(home) = non_empty("PALISADE_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        return Some(PathBuf::from(data).join("palisade"));
    }
    if cfg!(windows) {
        return non_empty("LOCALAPPDATA").map(|d| PathBuf::from(d).join("palisade"));
    }
    let home = PathBuf::from(non_empty("HOME")?);
    if cfg!(target_os = "macos") {
        Some(home.join("Library/Application Support/palisade"))
    } else {
        Some(home.join(".local/share/palisade"))
    }
}

/// What distinguishes one set of catalogers (and limits) from another in the cache: the crate
/// version, [`CACHE_FORMAT`], the catalogers' names, and the largest kept file.
pub fn catalogers_version(catalogers: &[Box<dyn Cataloger>], limits: &LayerLimits) -> String {
    let names: Vec<&str> = catalogers.iter().map(|c| c.name()).collect();
    format!(
        "{}:{}:{}:{}",
        env!("CARGO_PKG_VERSION"),
        CACHE_FORMAT,
        names.join(","),
        limits.max_kept_file
    )
}

/// Bump when what a cataloger keeps or extracts changes between releases (an interest or an
/// extract format): cached layers made for the old catalogers are then ignored.
pub const CACHE_FORMAT: u32 = 1;

fn encode(changes: &LayerChanges) -> Vec<u8> {
    let mut body = Vec::new();
    put_u64(&mut body, changes.tree.len() as u64);
    for (path, entry) in changes.tree.iter() {
        put_bytes(&mut body, path.as_bytes());
        let (tag, payload): (u8, &[u8]) = match &entry.kind {
            EntryKind::File(Content::NotKept) => (0, &[]),
            EntryKind::File(Content::Bytes(b)) => (1, b),
            EntryKind::File(Content::Extract(b)) => (2, b),
            EntryKind::Dir => (3, &[]),
            EntryKind::Symlink(target) => (4, target.as_bytes()),
        };
        body.push(tag);
        put_u64(&mut body, u64::from(entry.mode));
        put_u64(&mut body, entry.size);
        put_bytes(&mut body, payload);
    }
    for list in [&changes.whiteouts, &changes.opaque_dirs] {
        put_u64(&mut body, list.len() as u64);
        for path in list {
            put_bytes(&mut body, path.as_bytes());
        }
    }
    let mut out = Vec::with_capacity(body.len() + 40);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

fn decode(bytes: &[u8], index: usize) -> Option<LayerChanges> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (checksum, body) = rest.split_at_checked(32)?;
    if Sha256::digest(body).as_slice() != checksum {
        return None;
    }
    let mut reader = Decoder { rest: body };
    let mut tree = FileTree::new();
    for _ in 0..reader.u64()? {
        let path = reader.string()?;
        let tag = reader.byte()?;
        let mode = u32::try_from(reader.u64()?).ok()?;
        let size = reader.u64()?;
        let payload = reader.bytes()?;
        let kind = match tag {
            0 => EntryKind::File(Content::NotKept),
            1 => EntryKind::File(Content::Bytes(Arc::from(payload))),
            2 => EntryKind::File(Content::Extract(Arc::from(payload))),
            3 => EntryKind::Dir,
            4 => EntryKind::Symlink(String::from_utf8(payload.to_vec()).ok()?),
            _ => return None,
        };
        tree.insert(
            &path,
            Entry {
                kind,
                mode,
                size,
                layer: index,
            },
        );
    }
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        for _ in 0..reader.u64()? {
            list.push(reader.string()?);
        }
    }
    if !reader.rest.is_empty() {
        return None;
    }
    let [whiteouts, opaque_dirs] = lists;
    Some(LayerChanges {
        tree,
        whiteouts,
        opaque_dirs,
    })
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u64(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u64()?).ok()?;
        self.take(len)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;

    fn sample() -> LayerChanges {
        let mut changes = LayerChanges::default();
        let file = |content, size| Entry {
            kind: EntryKind::File(content),
            mode: 0o644,
            size,
            layer: 0,
        };
        changes.tree.insert(
            "/etc/os-release",
            file(Content::Bytes(Arc::from(&b"ID=x\n"[..])), 5),
        );
        changes.tree.insert(
            "/bin/app",
            file(Content::Extract(Arc::from(&b"go1.22"[..])), 9000),
        );
        changes.tree.insert("/big", file(Content::NotKept, 1 << 40));
        changes.tree.insert(
            "/lib",
            Entry {
                kind: EntryKind::Symlink("usr/lib".into()),
                mode: 0o777,
                size: 0,
                layer: 0,
            },
        );
        changes.whiteouts.push("/tmp/gone".into());
        changes.opaque_dirs.push("/var/cache".into());
        changes
    }

    #[test]
    fn round_trip_reattributes_layer_index() {
        let dir = TempDir::new("cache-roundtrip").expect("temp dir");
        let cache = LayerCache::at(dir.path()).expect("cache");
        cache.put("sha256:aa", "v1", &sample()).expect("put");
        let back = cache.get("sha256:aa", "v1", 3).expect("cached");
        assert_eq!(back.tree.len(), 4);
        assert_eq!(back.tree.read("/etc/os-release"), Some(&b"ID=x\n"[..]));
        assert_eq!(back.tree.extract("/bin/app"), Some(&b"go1.22"[..]));
        assert_eq!(
            back.tree.get("/big").map(|e| (e.size, e.layer)),
            Some((1 << 40, 3))
        );
        assert_eq!(back.whiteouts, ["/tmp/gone"]);
        assert_eq!(back.opaque_dirs, ["/var/cache"]);
        assert!(
            cache.get("sha256:aa", "v2", 0).is_none(),
            "other catalogers miss"
        );
    }

    #[test]
    fn corrupt_files_are_misses() {
        let dir = TempDir::new("cache-corrupt").expect("temp dir");
        let cache = LayerCache::at(dir.path()).expect("cache");
        cache.put("sha256:bb", "v1", &sample()).expect("put");
        let path = cache.path("sha256:bb", "v1");
        let mut bytes = fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).expect("write");
        assert!(cache.get("sha256:bb", "v1", 0).is_none());
        fs::write(&path, &bytes[..20]).expect("write");
        assert!(cache.get("sha256:bb", "v1", 0).is_none());
        cache.put("sha256:bb", "v1", &sample()).expect("rewrite");
        assert!(cache.get("sha256:bb", "v1", 0).is_some());
    }
}
