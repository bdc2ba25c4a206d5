//! From an image source to its SBOM: read the layers (concurrently, from the cache when it has
//! them), merge them in order, run the catalogers, attribute each package to the layer that wrote
//! the file declaring it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use palisade_core::Sbom;

use crate::cache::{LayerCache, catalogers_version};
use crate::catalog::{self, Cataloger};
use crate::error::ImageError;
use crate::files::{FileTree, LayerChanges};
use crate::layer::{LayerLimits, read_layer};
use crate::source::ImageSource;

/// How a scan runs.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub limits: LayerLimits,
    /// Layers read at once; default the machine's available parallelism.
    pub threads: Option<usize>,
}

/// Scans `source` with `catalogers`, reusing and filling `cache` when given.
pub fn scan(
    source: &dyn ImageSource,
    catalogers: &[Box<dyn Cataloger>],
    cache: Option<&LayerCache>,
) -> Result<Sbom, ImageError> {
    scan_with(source, catalogers, cache, &ScanOptions::default())
}

/// [`scan`] with explicit limits and parallelism.
pub fn scan_with(
    source: &dyn ImageSource,
    catalogers: &[Box<dyn Cataloger>],
    cache: Option<&LayerCache>,
    options: &ScanOptions,
) -> Result<Sbom, ImageError> {
    let files = match source.read_root(catalogers, &options.limits) {
        Some(root) => {
            let mut files = FileTree::new();
            files.apply(root?);
            files
        }
        None => merge_layers(source, catalogers, cache, options)?,
    };
    let info = source.info().clone();
    let (distro, mut packages, notes) = catalog::catalog(catalogers, &files);
    for package in &mut packages {
        package.layer = files
            .get(file_of(&package.location))
            .or_else(|| {
                files
                    .resolve(file_of(&package.location))
                    .map(|(_, entry)| entry)
            })
            .and_then(|entry| info.layers.get(entry.layer))
            .map(|layer| layer.digest.clone());
    }
    Ok(Sbom {
        image: info,
        distro,
        packages,
        notes,
    })
}

/// Reads every layer (at most `threads` at a time) and applies them base first.
fn merge_layers(
    source: &dyn ImageSource,
    catalogers: &[Box<dyn Cataloger>],
    cache: Option<&LayerCache>,
    options: &ScanOptions,
) -> Result<FileTree, ImageError> {
    let info = source.info();
    let count = info.layers.len();
    let version = catalogers_version(catalogers, &options.limits);
    let threads = options
        .threads
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .clamp(1, count.max(1));
    let results: Vec<Mutex<Option<Result<LayerChanges, ImageError>>>> =
        (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let read_one = |index: usize| -> Result<LayerChanges, ImageError> {
        let digest = info
            .layers
            .get(index)
            .map(|l| l.digest.as_str())
            .unwrap_or_default();
        // Only a digest the reader verifies may key the cache; a layer without one would let
        // whatever was read under that name stand for it later.
        let cache = cache.filter(|_| !digest.is_empty());
        if let Some(cached) = cache.and_then(|c| c.get(digest, &version, index)) {
            return Ok(cached);
        }
        let mut blob = source.open_layer(index)?;
        let changes = read_layer(
            &mut blob,
            &info.reference,
            digest,
            index,
            catalogers,
            &options.limits,
        )?;
        if let Some(cache) = cache {
            // A cache that cannot be written costs the next scan time, not this scan its result.
            let _ = cache.put(digest, &version, &changes);
        }
        Ok(changes)
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = results.get(index) else {
                        break;
                    };
                    let result = read_one(index);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    let mut layers = Vec::with_capacity(count);
    for (index, slot) in results.into_iter().enumerate() {
        match slot.into_inner().ok().flatten() {
            Some(Ok(changes)) => layers.push(changes),
            Some(Err(e)) => return Err(e),
            // Workers stop picking layers once one fails; that failure is in an earlier slot
            // or a later one, and is what the caller must see.
            None => {
                if !failed.load(Ordering::Relaxed) {
                    return Err(ImageError::Source {
                        source_name: info.reference.clone(),
                        message: format!("layer {index} was not read"),
                    });
                }
            }
        }
    }
    let mut files = FileTree::new();
    for changes in layers {
        files.apply(changes);
    }
    Ok(files)
}

/// The image file a package location lives in: `/app/a.jar!/BOOT-INF/lib/b.jar` is inside
/// `/app/a.jar`.
fn file_of(location: &str) -> &str {
    location.split_once("!/").map_or(location, |(file, _)| file)
}
