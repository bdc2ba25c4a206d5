//! Errors of reading images. Every message names the input it is about (registry and reference,
//! archive or directory, layer digest, file in the image), never a credential.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A reference that cannot be parsed (`palisade sbom 'UPPER/case:tag'`).
    #[error("invalid image reference `{reference}`: {message}")]
    Reference { reference: String, message: String },

    /// The registry refused or failed (`status` when it answered HTTP).
    #[error("registry {registry}: {reference}: {message}")]
    Registry {
        registry: String,
        reference: String,
        status: Option<u16>,
        message: String,
    },

    /// A local source (OCI layout, docker archive, directory, SBOM file) is unreadable or
    /// malformed.
    #[error("{source_name}: {message}")]
    Source {
        source_name: String,
        message: String,
    },

    /// A layer is corrupt, hostile or does not match its digest.
    #[error("{reference}: layer {digest}: {message}")]
    Layer {
        reference: String,
        digest: String,
        message: String,
    },

    /// Palisade's cache directory cannot be used.
    #[error("cache {}: {message}", path.display())]
    Cache { path: PathBuf, message: String },
}
