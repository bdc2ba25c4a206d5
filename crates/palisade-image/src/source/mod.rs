//! Where images come from. Every source describes the image ([`ImageInfo`]: manifest and config
//! digests, platform, layers in order) and opens each layer as a stream of the blob as stored —
//! compressed or not; the layer reader detects the compression and verifies the digest.

use std::io::Read;

use palisade_core::ImageInfo;

use crate::catalog::Cataloger;
use crate::error::ImageError;
use crate::files::LayerChanges;
use crate::layer::LayerLimits;

pub mod dir;
pub mod docker_archive;
pub mod oci_layout;

/// An image whose layers can be streamed.
pub trait ImageSource: Send + Sync {
    /// The image: reference as given, digests, platform, layers (base first).
    fn info(&self) -> &ImageInfo;

    /// Opens layer `index` (into [`ImageInfo::layers`]) as the stored blob. May be called from
    /// several threads at once, for different layers.
    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError>;

    /// For sources that are a file system rather than layers (an unpacked root file system):
    /// the whole tree as one pseudo-layer, keeping what `catalogers` ask for. `None` for
    /// layered sources, whose layers are read with [`ImageSource::open_layer`].
    fn read_root(
        &self,
        catalogers: &[Box<dyn Cataloger>],
        limits: &LayerLimits,
    ) -> Option<Result<LayerChanges, ImageError>> {
        let _ = (catalogers, limits);
        None
    }
}

/// How a source is opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceOptions {
    /// `os/arch[/variant]` to pick from a multi-platform image; default linux and this machine's
    /// architecture.
    pub platform: Option<String>,
}

/// Opens a local image source from its reference: `oci:DIR[:TAG]`, `docker-archive:FILE`,
/// `dir:PATH`. Registry references are opened by the registry module.
pub fn open(reference: &str, options: &SourceOptions) -> Result<Box<dyn ImageSource>, ImageError> {
    if let Some(rest) = reference.strip_prefix("oci:") {
        return Ok(Box::new(oci_layout::OciLayout::open(
            reference, rest, options,
        )?));
    }
    if let Some(rest) = reference.strip_prefix("docker-archive:") {
        return Ok(Box::new(docker_archive::DockerArchive::open(
            reference, rest, options,
        )?));
    }
    if let Some(rest) = reference.strip_prefix("dir:") {
        return Ok(Box::new(dir::RootDir::open(reference, rest)?));
    }
    Err(ImageError::Reference {
        reference: reference.to_string(),
        message: "registry references need the registry module".to_string(),
    })
}

/// The platform to select: the one asked for, else linux on this machine's architecture.
pub(crate) struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub(crate) fn wanted(reference: &str, options: &SourceOptions) -> Result<Platform, ImageError> {
        let Some(text) = options.platform.as_deref() else {
            return Ok(Platform {
                os: "linux".to_string(),
                architecture: host_architecture().to_string(),
                variant: None,
            });
        };
        let mut parts = text.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(os), Some(arch), variant, None) if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform {
                    os: os.to_string(),
                    architecture: arch.to_string(),
                    variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
                })
            }
            _ => Err(ImageError::Reference {
                reference: reference.to_string(),
                message: format!("invalid platform `{text}` (expected os/arch[/variant])"),
            }),
        }
    }

    /// Whether an image for `os`/`architecture`/`variant` runs here. A missing variant on either
    /// side matches (most indexes only name variants for arm).
    pub(crate) fn matches(&self, os: &str, architecture: &str, variant: Option<&str>) -> bool {
        let normalize_variant = |arch: &str, v: Option<&str>| match (arch, v) {
            // arm64 images are v8 unless they say otherwise.
            ("arm64", Some("v8")) => None,
            (_, v) => v.map(str::to_string),
        };
        os == self.os
            && architecture == self.architecture
            && match (
                normalize_variant(&self.architecture, self.variant.as_deref()),
                normalize_variant(architecture, variant),
            ) {
                (Some(wanted), Some(offered)) => wanted == offered,
                (Some(_), None) => false,
                (None, _) => true,
            }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// This machine's architecture in OCI's (Go's) spelling.
pub(crate) fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// `os/arch[/variant]` as ImageInfo spells a platform.
pub(crate) fn platform_string(os: &str, architecture: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) if !v.is_empty() => format!("{os}/{architecture}/{v}"),
        _ => format!("{os}/{architecture}"),
    }
}
