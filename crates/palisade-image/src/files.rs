//! The merged view of an image's file system, holding only what catalogers asked for.
//!
//! Layers are streamed, never unpacked: for each entry the layer reader asks every cataloger's
//! [`Interest`](crate::catalog::Interest) and keeps the bytes (or a cataloger's extract of them)
//! only when someone wants them. What remains is this tree: every path the image has (so
//! catalogers can see that a file or directory exists, and symlinks can be followed), with contents
//! for the few files that matter.
//!
//! Paths are absolute, normalized (`/usr/lib/python3/dist-packages/x`), never contain `..`, and
//! symlink resolution never leaves the image's root.

use std::collections::BTreeMap;
use std::sync::Arc;

/// What a path is in the merged image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (hard links are recorded as the file they link to).
    File(Content),
    Dir,
    /// A symbolic link with its target as written (relative or absolute).
    Symlink(String),
}

/// What was kept of a regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Nobody asked for the bytes; the file exists.
    NotKept,
    /// The whole file.
    Bytes(Arc<[u8]>),
    /// What a cataloger's extractor returned for it (say, a Go binary's build information),
    /// instead of the file.
    Extract(Arc<[u8]>),
}

/// One path of the merged image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// Permission bits (`0o755`).
    pub mode: u32,
    /// Size of the file in the layer (0 for directories and links).
    pub size: u64,
    /// Index of the layer that last wrote this path, into the image's layer list.
    pub layer: usize,
}

/// A directory that exists only because something is under it.
static IMPLICIT_DIR: Entry = Entry {
    kind: EntryKind::Dir,
    mode: 0o755,
    size: 0,
    layer: 0,
};

/// Longest chain of symbolic links followed, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// The merged file system of an image (or of one layer, before merging).
#[derive(Debug, Clone, Default)]
pub struct FileTree {
    entries: BTreeMap<String, Entry>,
}

impl FileTree {
    pub fn new() -> FileTree {
        FileTree::default()
    }

    /// Adds or replaces `path` (normalized with [`normalize`]; an entry that normalizes to
    /// nothing, like `/` or `..`, is ignored).
    pub fn insert(&mut self, path: &str, entry: Entry) {
        if let Some(path) = normalize(path)
            && path != "/"
        {
            self.entries.insert(path, entry);
        }
    }

    /// Removes `path` and everything under it (an OCI whiteout `.wh.<name>`).
    pub fn remove(&mut self, path: &str) {
        let Some(path) = normalize(path) else { return };
        self.entries.remove(&path);
        self.remove_children(&path);
    }

    /// Removes everything under directory `path` but not the directory (an opaque whiteout
    /// `.wh..wh..opq`).
    pub fn remove_children(&mut self, path: &str) {
        let Some(path) = normalize(path) else { return };
        let prefix = if path == "/" {
            path
        } else {
            format!("{path}/")
        };
        let doomed: Vec<String> = self
            .entries
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.entries.remove(&p);
        }
    }

    /// The entry at `path` itself (a symlink is returned as the link).
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(&normalize(path)?)
    }

    /// Follows symbolic links in every component of `path` (as the kernel does), staying inside
    /// the image: `..` above `/` stays at `/`, absolute targets are relative to the image root.
    /// Returns the final path and its entry (a directory with no entry of its own but something
    /// under it counts as a directory), or `None` for a dangling link or a loop.
    pub fn resolve(&self, path: &str) -> Option<(String, &Entry)> {
        let mut pending: Vec<String> = components(path).map(str::to_string).collect();
        pending.reverse();
        let mut resolved: Vec<String> = Vec::new();
        let mut followed = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." | "" => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            resolved.push(component);
            let current = format!("/{}", resolved.join("/"));
            if let Some(Entry {
                kind: EntryKind::Symlink(target),
                ..
            }) = self.entries.get(&current)
            {
                followed += 1;
                if followed > MAX_SYMLINKS {
                    return None;
                }
                resolved.pop();
                if target.starts_with('/') {
                    resolved.clear();
                }
                let mut target_parts: Vec<String> =
                    components(target).map(str::to_string).collect();
                target_parts.reverse();
                pending.extend(target_parts);
            }
        }
        let final_path = format!("/{}", resolved.join("/"));
        match self.entries.get(&final_path) {
            Some(entry) => Some((final_path, entry)),
            // Layers may leave out the entries of parent directories.
            None if final_path == "/" || self.under(&final_path).next().is_some() => {
                Some((final_path, &IMPLICIT_DIR))
            }
            None => None,
        }
    }

    /// The kept bytes of the file at `path`, following symlinks; `None` when there is no such
    /// file or its bytes were not kept.
    pub fn read(&self, path: &str) -> Option<&[u8]> {
        match &self.resolve(path)?.1.kind {
            EntryKind::File(Content::Bytes(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// The extract a cataloger's extractor made of the file at `path` (following symlinks).
    pub fn extract(&self, path: &str) -> Option<&[u8]> {
        match &self.resolve(path)?.1.kind {
            EntryKind::File(Content::Extract(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// Whether anything exists at `path` (following symlinks).
    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path).is_some()
    }

    /// Every entry, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(p, e)| (p.as_str(), e))
    }

    /// Entries strictly under directory `dir` (not following symlinks), in path order.
    pub fn under<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Entry)> + 'a {
        let dir = normalize(dir).unwrap_or_else(|| "/".to_string());
        let prefix = if dir == "/" { dir } else { format!("{dir}/") };
        self.entries
            .range(prefix.clone()..)
            .take_while(move |(p, _)| p.starts_with(&prefix))
            .map(|(p, e)| (p.as_str(), e))
    }

    /// Files whose contents (or extracts) were kept, in path order: what catalogers look at.
    pub fn kept(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.iter().filter(|(_, e)| {
            matches!(
                e.kind,
                EntryKind::File(Content::Bytes(_)) | EntryKind::File(Content::Extract(_))
            )
        })
    }

    /// Applies `layer` on top of this tree: its whiteouts first, then its entries (the layer
    /// reader records whiteouts in [`LayerChanges`]).
    pub fn apply(&mut self, changes: LayerChanges) {
        for dir in &changes.opaque_dirs {
            self.remove_children(dir);
        }
        for path in &changes.whiteouts {
            self.remove(path);
        }
        for (path, entry) in changes.tree.entries {
            self.entries.insert(path, entry);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// What one layer does to the file system below it.
#[derive(Debug, Clone, Default)]
pub struct LayerChanges {
    /// Entries the layer adds or replaces.
    pub tree: FileTree,
    /// Paths the layer deletes (`.wh.<name>` entries), normalized.
    pub whiteouts: Vec<String>,
    /// Directories whose lower contents the layer hides (`.wh..wh..opq`), normalized.
    pub opaque_dirs: Vec<String>,
}

fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

/// `path` as an absolute, normalized path inside the image: `./usr//lib/../bin` → `/usr/bin`,
/// `../../etc/passwd` → `/etc/passwd` (never above the root). `None` for paths with NUL bytes.
pub fn normalize(path: &str) -> Option<String> {
    if path.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for component in components(path) {
        match component {
            "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: &[u8], layer: usize) -> Entry {
        Entry {
            kind: EntryKind::File(Content::Bytes(Arc::from(bytes))),
            mode: 0o644,
            size: bytes.len() as u64,
            layer,
        }
    }

    fn link(target: &str) -> Entry {
        Entry {
            kind: EntryKind::Symlink(target.to_string()),
            mode: 0o777,
            size: 0,
            layer: 0,
        }
    }

    #[test]
    fn paths_never_leave_the_root() {
        assert_eq!(normalize("./usr//lib/../bin").as_deref(), Some("/usr/bin"));
        assert_eq!(
            normalize("../../etc/passwd").as_deref(),
            Some("/etc/passwd")
        );
        assert_eq!(normalize("/").as_deref(), Some("/"));
        assert_eq!(normalize("a\0b"), None);
    }

    #[test]
    fn symlinks_resolve_inside_the_image() {
        let mut tree = FileTree::new();
        tree.insert("/usr/lib/os-release", file(b"ID=debian\n", 0));
        tree.insert("/etc/os-release", link("../usr/lib/os-release"));
        tree.insert("/lib", link("usr/lib"));
        tree.insert("/escape", link("../../../../usr/lib/os-release"));
        tree.insert("/abs", link("/usr/lib/os-release"));
        tree.insert("/loop", link("/loop"));
        tree.insert("/dangling", link("/nowhere"));
        assert_eq!(tree.read("/etc/os-release"), Some(&b"ID=debian\n"[..]));
        assert_eq!(tree.read("/lib/os-release"), Some(&b"ID=debian\n"[..]));
        assert_eq!(tree.read("/escape"), Some(&b"ID=debian\n"[..]));
        assert_eq!(tree.read("/abs"), Some(&b"ID=debian\n"[..]));
        assert_eq!(tree.read("/loop"), None);
        assert_eq!(tree.read("/dangling"), None);
        assert!(tree.exists("/lib"));
    }

    #[test]
    fn whiteouts_and_opaque_directories() {
        let mut tree = FileTree::new();
        tree.insert("/app/a", file(b"a", 0));
        tree.insert("/app/sub/b", file(b"b", 0));
        tree.insert("/apple", file(b"not under /app", 0));
        tree.insert("/etc/x", file(b"x", 0));
        let mut upper = LayerChanges::default();
        upper.opaque_dirs.push("/app".into());
        upper.whiteouts.push("/etc/x".into());
        upper.tree.insert("/app/c", file(b"c", 1));
        tree.apply(upper);
        let paths: Vec<&str> = tree.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["/app/c", "/apple"]);
        assert_eq!(tree.get("/app/c").map(|e| e.layer), Some(1));
        assert_eq!(tree.under("/app").count(), 1);
    }
}
