//! `dir:PATH`: an unpacked root file system (a `debootstrap` target, a mounted image, a chroot).
//!
//! It has no layers: the walk produces the file tree directly, as one pseudo-layer. Symbolic links
//! are recorded, never followed (a link to `/` must not make us scan the host), the walk does not
//! leave the directory, and only regular files are opened, so a FIFO cannot block it.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use palisade_core::ImageInfo;

use super::ImageSource;
use crate::catalog::{self, Cataloger, Interest};
use crate::error::ImageError;
use crate::files::{Content, Entry, EntryKind, LayerChanges};
use crate::layer::LayerLimits;

/// Directories nested deeper than this are not walked (real trees stay under a hundred).
const MAX_DEPTH: usize = 256;

/// An unpacked root file system.
#[derive(Debug)]
pub struct RootDir {
    root: PathBuf,
    info: ImageInfo,
}

impl RootDir {
    /// Opens `path` (the part after `dir:`) of reference `reference`.
    pub fn open(reference: &str, path: &str) -> Result<RootDir, ImageError> {
        let root = PathBuf::from(path);
        let is_dir = fs::metadata(&root).map(|m| m.is_dir()).unwrap_or(false);
        if !is_dir {
            return Err(ImageError::Source {
                source_name: reference.to_string(),
                message: format!("{} is not a directory", root.display()),
            });
        }
        Ok(RootDir {
            root,
            info: ImageInfo {
                reference: reference.to_string(),
                ..ImageInfo::default()
            },
        })
    }

    fn walk(
        &self,
        catalogers: &[Box<dyn Cataloger>],
        limits: &LayerLimits,
    ) -> Result<LayerChanges, ImageError> {
        let mut changes = LayerChanges::default();
        // Directories to list, with how they looked when their parent was listed.
        let mut pending: Vec<(PathBuf, String, usize, Option<fs::Metadata>)> =
            vec![(self.root.clone(), String::new(), 0, None)];
        while let Some((dir, image_dir, depth, listed)) = pending.pop() {
            // A directory swapped for a symlink since it was listed would lead the walk out of
            // the root; such a directory is skipped. (What remains is the instant between this
            // check and the listing; files are checked on their open descriptor, see
            // `read_content`.)
            if let Some(listed) = &listed
                && !fs::symlink_metadata(&dir)
                    .is_ok_and(|now| now.is_dir() && same_file(&now, listed))
            {
                continue;
            }
            let listing = match fs::read_dir(&dir) {
                Ok(listing) => listing,
                // The root itself must be readable; an unreadable subdirectory (permissions) only
                // loses what is under it.
                Err(e) if depth == 0 => {
                    return Err(ImageError::Source {
                        source_name: self.info.reference.clone(),
                        message: format!("cannot read {}: {e}", dir.display()),
                    });
                }
                Err(_) => continue,
            };
            for item in listing.flatten() {
                let name = item.file_name().to_string_lossy().into_owned();
                let image_path = format!("{image_dir}/{name}");
                let Ok(meta) = fs::symlink_metadata(item.path()) else {
                    continue;
                };
                let mode = mode_of(&meta);
                let kind = if meta.file_type().is_symlink() {
                    match fs::read_link(item.path()) {
                        Ok(target) => EntryKind::Symlink(target.to_string_lossy().into_owned()),
                        Err(_) => continue,
                    }
                } else if meta.is_dir() {
                    if depth < MAX_DEPTH {
                        pending.push((
                            item.path(),
                            image_path.clone(),
                            depth + 1,
                            Some(meta.clone()),
                        ));
                    }
                    EntryKind::Dir
                } else if meta.is_file() {
                    EntryKind::File(read_content(
                        &item.path(),
                        &image_path,
                        &meta,
                        catalogers,
                        limits,
                    ))
                } else {
                    continue;
                };
                let size = if matches!(kind, EntryKind::File(_)) {
                    meta.len()
                } else {
                    0
                };
                changes.tree.insert(
                    &image_path,
                    Entry {
                        kind,
                        mode,
                        size,
                        layer: 0,
                    },
                );
            }
        }
        Ok(changes)
    }
}

/// What catalogers want of the file at `path`, a regular file when it was `listed`.
fn read_content(
    path: &Path,
    image_path: &str,
    listed: &fs::Metadata,
    catalogers: &[Box<dyn Cataloger>],
    limits: &LayerLimits,
) -> Content {
    let size = listed.len();
    let interest = catalog::interest(catalogers, image_path, size, mode_of(listed));
    if matches!(interest, Interest::None) {
        return Content::NotKept;
    }
    let Ok(file) = File::open(path) else {
        return Content::NotKept;
    };
    // A live root file system can change under us: the entry, or a directory above it, may have
    // been swapped for a symlink pointing outside the root since it was listed. Only the very
    // file that was listed (same device and inode, checked on the open descriptor) is read.
    if !file
        .metadata()
        .is_ok_and(|opened| opened.is_file() && same_file(&opened, listed))
    {
        return Content::NotKept;
    }
    match interest {
        Interest::Keep if size <= limits.max_kept_file => {
            let mut bytes = Vec::new();
            match file.take(limits.max_kept_file).read_to_end(&mut bytes) {
                Ok(_) => Content::Bytes(Arc::from(bytes)),
                Err(_) => Content::NotKept,
            }
        }
        Interest::Extract(extractor) => {
            let mut limited = file.take(size);
            match extractor(&mut limited, size) {
                Ok(Some(extract)) => Content::Extract(Arc::from(extract)),
                Ok(None) | Err(_) => Content::NotKept,
            }
        }
        Interest::Keep | Interest::None => Content::NotKept,
    }
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() { 0o755 } else { 0o644 }
}

impl ImageSource for RootDir {
    fn info(&self) -> &ImageInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        Err(ImageError::Source {
            source_name: self.info.reference.clone(),
            message: format!("a directory has no layer {index}; it is read as a whole"),
        })
    }

    fn read_root(
        &self,
        catalogers: &[Box<dyn Cataloger>],
        limits: &LayerLimits,
    ) -> Option<Result<LayerChanges, ImageError>> {
        Some(self.walk(catalogers, limits))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::testing::{TempDir, test_catalogers};

    #[test]
    fn a_file_swapped_for_a_symlink_after_listing_is_not_read() {
        let dir = TempDir::new("dir-swap").unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("var")).unwrap();
        let outside = dir.path().join("host-secret.pkg");
        fs::write(&outside, b"host data\n").unwrap();
        let inside = root.join("var/app.pkg");
        fs::write(&inside, b"image data\n").unwrap();
        let catalogers = test_catalogers();
        let limits = LayerLimits::default();

        let listed = fs::symlink_metadata(&inside).unwrap();
        let read = read_content(&inside, "/var/app.pkg", &listed, &catalogers, &limits);
        assert!(matches!(&read, Content::Bytes(b) if &b[..] == b"image data\n"));

        // Swap between listing and reading: the symlink leads outside the root.
        fs::remove_file(&inside).unwrap();
        std::os::unix::fs::symlink(&outside, &inside).unwrap();
        let read = read_content(&inside, "/var/app.pkg", &listed, &catalogers, &limits);
        assert!(
            matches!(read, Content::NotKept),
            "read through the swapped-in symlink"
        );
    }
}
