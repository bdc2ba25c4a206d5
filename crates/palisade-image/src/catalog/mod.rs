//! Catalogers: each knows one packaging system, says which files it needs kept while layers
//! stream past ([`Cataloger::interest`]), and turns the kept files into [`Package`]s.
//!
//! [`catalog`] runs them all over a merged [`FileTree`]: OS catalogers first, then language
//! catalogers, then marks language packages whose declaring file an OS package owns as
//! [`Package::os_owned`] (a `python3-yaml` deb's `PyYAML` is not also a PyPI finding).

use std::collections::HashSet;
use std::io::Read;

use palisade_core::{CatalogNote, Distro, Package};

use crate::files::FileTree;

pub mod apk;
pub mod binary;
pub mod dotnet;
pub mod dpkg;
pub mod golang;
pub mod java;
pub mod node;
pub mod os_release;
pub mod php;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod rust;

/// Reads a file's stream and returns the little a cataloger needs from it (a Go binary's build
/// information), so large files never sit in memory. `size` is the file's size in the layer.
/// `Ok(None)`: nothing of interest in this file.
pub type Extractor = fn(reader: &mut dyn Read, size: u64) -> std::io::Result<Option<Vec<u8>>>;

/// What a cataloger wants of a file as a layer streams past.
#[derive(Clone, Copy)]
pub enum Interest {
    /// Not needed (its path is still recorded).
    None,
    /// Keep the whole file (metadata files: small).
    Keep,
    /// Run this extractor over the file and keep its result.
    Extract(Extractor),
}

/// Everything a cataloger may consult besides the files.
pub struct Context<'a> {
    /// The image's OS, when one was found.
    pub distro: Option<&'a Distro>,
    /// Files the OS package manager installed (language catalogers run after the OS ones), when
    /// known: a lockfile a distribution package ships describes how upstream built it, not what
    /// is installed.
    pub os_files: Option<&'a HashSet<String>>,
}

/// One packaging system.
pub trait Cataloger: Send + Sync {
    /// Short, stable name used in notes and metadata: `dpkg`, `apk`, `rpm`, `python`...
    fn name(&self) -> &'static str;

    /// Whether this cataloger needs the file at `path` (absolute, normalized) of `size` bytes and
    /// permission bits `mode`. Called for every file of every layer: keep it cheap (string tests).
    fn interest(&self, path: &str, size: u64, mode: u32) -> Interest;

    /// Finds the packages in `files` (the merged image), appending to `packages`; what it cannot
    /// read becomes a note naming the file, never a panic or an abort of the whole catalog.
    fn catalog(
        &self,
        files: &FileTree,
        context: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    );

    /// Whether this cataloger reads the operating system's package database.
    fn is_os(&self) -> bool {
        false
    }
}

/// Every cataloger Palisade has, OS catalogers first.
pub fn all() -> Vec<Box<dyn Cataloger>> {
    let catalogers: Vec<Box<dyn Cataloger>> = vec![
        Box::new(os_release::OsRelease),
        Box::new(dpkg::Dpkg),
        Box::new(apk::Apk),
        Box::new(rpm::Rpm),
        Box::new(python::PythonPackages),
        Box::new(node::NodePackages),
        Box::new(golang::GoBinaries),
        Box::new(rust::RustCrates),
        Box::new(java::JavaArchives),
        Box::new(ruby::RubyGems),
        Box::new(php::ComposerPackages),
        Box::new(dotnet::DotnetDeps),
    ];
    catalogers
}

/// The combined interest of `catalogers` in one file: the first that wants it decides (an
/// extract is only taken when nobody wants the whole file).
pub fn interest(catalogers: &[Box<dyn Cataloger>], path: &str, size: u64, mode: u32) -> Interest {
    let mut extract = None;
    for cataloger in catalogers {
        match cataloger.interest(path, size, mode) {
            Interest::Keep => return Interest::Keep,
            Interest::Extract(f) => {
                extract.get_or_insert(f);
            }
            Interest::None => {}
        }
    }
    extract.map_or(Interest::None, Interest::Extract)
}

/// Runs `catalogers` over the merged image: returns the distro, the packages (in a stable order:
/// kind, name, version, location) and notes.
pub fn catalog(
    catalogers: &[Box<dyn Cataloger>],
    files: &FileTree,
) -> (Option<Distro>, Vec<Package>, Vec<CatalogNote>) {
    let distro = os_release::detect(files);
    let mut context = Context {
        distro: distro.as_ref(),
        os_files: None,
    };
    let mut packages = Vec::new();
    let mut notes = Vec::new();
    for cataloger in catalogers.iter().filter(|c| c.is_os()) {
        cataloger.catalog(files, &context, &mut packages, &mut notes);
    }
    let owned: HashSet<String> = packages
        .iter()
        .flat_map(|p| p.files.iter().cloned())
        .collect();
    context.os_files = Some(&owned);
    let os_count = packages.len();
    for cataloger in catalogers.iter().filter(|c| !c.is_os()) {
        cataloger.catalog(files, &context, &mut packages, &mut notes);
    }
    for package in &mut packages[os_count..] {
        // `/usr/share/java/a.jar!/lib/b.jar` is owned when `a.jar` is.
        let file = package
            .location
            .split_once("!/")
            .map_or(package.location.as_str(), |(file, _)| file);
        if owned.contains(file) {
            package.os_owned = true;
        }
    }
    packages.sort_by(|a, b| {
        (a.kind, &a.name, &a.version, &a.location).cmp(&(b.kind, &b.name, &b.version, &b.location))
    });
    notes.sort_by(|a, b| (&a.cataloger, &a.path).cmp(&(&b.cataloger, &b.path)));
    (distro, packages, notes)
}
