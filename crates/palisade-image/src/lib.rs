//! Images: what is inside them. This crate owns reading images from their sources (a registry
//! over the OCI Distribution API, an OCI image layout, a `docker save` archive, an unpacked root
//! file system), streaming their layers without unpacking them (whiteouts applied, only the files
//! catalogers ask for kept, in memory or in Palisade's cache), the catalogers that turn those files
//! into packages, and the SBOM writers (CycloneDX, SPDX, Palisade JSON).
//!
//! It must not write anywhere but Palisade's cache directory, must not trust anything in an image
//! (paths, links, sizes, compression ratios, digests are all checked), must not match
//! vulnerabilities (that is `palisade-vulndb`), and must never log or store registry credentials.

pub mod catalog;
pub mod error;
pub mod files;
pub mod source;

pub use error::ImageError;
pub use files::{Content, Entry, EntryKind, FileTree, LayerChanges};
pub use source::ImageSource;

pub mod cache;
pub mod layer;
pub mod reference;
pub mod registry;
pub mod sbom;
pub mod scan;
/// Test support: builders of layers, OCI layouts and docker archives, a tiny cataloger, temporary
/// directories. Compiled into the library so integration tests and other crates' tests can use
/// it; not meant for production paths.
pub mod testing;
