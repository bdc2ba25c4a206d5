//! `oci:DIR[:TAG]`: an OCI image layout directory (`oci-layout`, `index.json`, `blobs/`), as
//! written by `skopeo copy … oci:DIR`, `umoci`, `buildah push oci:` or `docker buildx --output
//! type=oci` (unpacked).
//!
//! The tag is looked up in the `org.opencontainers.image.ref.name` annotations of `index.json`;
//! indexes (OCI image indexes and Docker manifest lists, nested or not) are resolved to the
//! manifest of the wanted platform. Every blob is named by digest and only `sha256:<64 hex>`
//! digests are accepted, so a hostile index cannot point outside `blobs/`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use palisade_core::{ImageInfo, Layer};
use serde::Deserialize;

use super::{ImageSource, Platform, SourceOptions, platform_string};
use crate::error::ImageError;
use crate::layer::{expected_sha256, sha256_digest};

/// Manifests, indexes and configs are small; a bigger one is hostile.
const MAX_METADATA: u64 = 16 * 1024 * 1024;
/// Indexes pointing at indexes: real ones nest once; a cycle must end.
const MAX_INDEX_DEPTH: usize = 4;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A content descriptor (OCI image spec `descriptor.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub platform: Option<PlatformSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PlatformSpec {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// An image index or a manifest: which one is told by the fields present, since `mediaType` is
/// optional in OCI documents.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// The parts of an image config Palisade reads.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ImageConfig {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// An image in an OCI layout.
#[derive(Debug)]
pub struct OciLayout {
    root: PathBuf,
    info: ImageInfo,
}

impl OciLayout {
    /// Opens `spec` (`DIR[:TAG]`, the part after `oci:`) of reference `reference`.
    pub fn open(
        reference: &str,
        spec: &str,
        options: &SourceOptions,
    ) -> Result<OciLayout, ImageError> {
        let (root, tag) = split_tag(spec);
        let source_error = |message: String| ImageError::Source {
            source_name: reference.to_string(),
            message,
        };
        if !root.join("index.json").is_file() {
            return Err(source_error(format!(
                "{} is not an OCI image layout (no index.json)",
                root.display()
            )));
        }
        let platform = Platform::wanted(reference, options)?;
        let layout = Layout {
            root: &root,
            reference,
        };
        let index: Document = serde_json::from_slice(&layout.read_file(&root.join("index.json"))?)
            .map_err(|e| source_error(format!("index.json: {e}")))?;
        let descriptors = index.manifests.unwrap_or_default();
        let candidates: Vec<Descriptor> = match tag.as_deref() {
            Some(tag) => descriptors
                .iter()
                .filter(|d| d.annotations.get(REF_NAME).is_some_and(|name| name == tag))
                .cloned()
                .collect(),
            None => descriptors.clone(),
        };
        if candidates.is_empty() {
            let tags: Vec<&str> = descriptors
                .iter()
                .filter_map(|d| d.annotations.get(REF_NAME).map(String::as_str))
                .collect();
            return Err(source_error(match tag {
                Some(tag) => format!("no image tagged `{tag}` (tags: {})", tags.join(", ")),
                None => "index.json lists no image".to_string(),
            }));
        }
        let tags: Vec<String> = candidates
            .iter()
            .filter_map(|d| d.annotations.get(REF_NAME).cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let chosen = layout.choose(candidates, &platform, 0)?;
        let manifest_bytes = layout.read_blob(&chosen)?;
        let manifest: Document = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| source_error(format!("manifest {}: {e}", chosen.digest)))?;
        let (Some(config), Some(layers)) = (manifest.config, manifest.layers) else {
            return Err(source_error(format!(
                "{} is not an image manifest",
                chosen.digest
            )));
        };
        let config_bytes = layout.read_blob(&config)?;
        let image_config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| source_error(format!("config {}: {e}", config.digest)))?;
        let info = image_info(
            reference,
            Some(chosen.digest.clone()),
            &config.digest,
            &image_config,
            &layers,
            tags,
        )
        .map_err(source_error)?;
        for layer in &info.layers {
            blob_path(&root, &layer.digest).map_err(source_error)?;
        }
        Ok(OciLayout { root, info })
    }
}

/// Builds the [`ImageInfo`] of a manifest's config and layer descriptors, refusing layers that
/// are not tar streams (artifacts, Helm charts, signatures).
pub(crate) fn image_info(
    reference: &str,
    manifest_digest: Option<String>,
    config_digest: &str,
    config: &ImageConfig,
    layers: &[Descriptor],
    tags: Vec<String>,
) -> Result<ImageInfo, String> {
    let diff_ids = config
        .rootfs
        .as_ref()
        .map(|r| r.diff_ids.as_slice())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        if !is_layer_media_type(&layer.media_type) {
            return Err(format!(
                "layer {} has unsupported media type `{}`",
                layer.digest, layer.media_type
            ));
        }
        out.push(Layer {
            digest: layer.digest.clone(),
            diff_id: diff_ids.get(i).cloned(),
            media_type: layer.media_type.clone(),
            size: layer.size,
        });
    }
    Ok(ImageInfo {
        reference: reference.to_string(),
        manifest_digest,
        config_digest: Some(config_digest.to_string()),
        platform: (!config.os.is_empty())
            .then(|| platform_string(&config.os, &config.architecture, config.variant.as_deref())),
        layers: out,
        tags,
    })
}

/// Layer media types whose blobs are tar streams (compressed or not); the reader detects the
/// compression from the bytes, not from this name.
pub(crate) fn is_layer_media_type(media_type: &str) -> bool {
    media_type.is_empty()
        || media_type.starts_with("application/vnd.oci.image.layer.")
        || media_type.starts_with("application/vnd.docker.image.rootfs.")
}

/// `DIR:TAG` or `DIR`: a path that exists as a directory wins, so directories with `:` in their
/// names still open.
fn split_tag(spec: &str) -> (PathBuf, Option<String>) {
    if Path::new(spec).is_dir() {
        return (PathBuf::from(spec), None);
    }
    match spec.rsplit_once(':') {
        Some((dir, tag)) if !tag.is_empty() && !tag.contains('/') => {
            (PathBuf::from(dir), Some(tag.to_string()))
        }
        _ => (PathBuf::from(spec), None),
    }
}

/// `blobs/sha256/<hex>` for a well-formed digest.
pub(crate) fn blob_path(root: &Path, digest: &str) -> Result<PathBuf, String> {
    if expected_sha256(digest).is_none() {
        return Err(format!(
            "digest `{digest}` is not `sha256:` and 64 lowercase hex digits"
        ));
    }
    let hex = digest.trim_start_matches("sha256:");
    Ok(root.join("blobs").join("sha256").join(hex))
}

struct Layout<'a> {
    root: &'a Path,
    reference: &'a str,
}

impl Layout<'_> {
    fn error(&self, message: String) -> ImageError {
        ImageError::Source {
            source_name: self.reference.to_string(),
            message,
        }
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, ImageError> {
        let file = File::open(path)
            .map_err(|e| self.error(format!("cannot open {}: {e}", path.display())))?;
        let mut bytes = Vec::new();
        file.take(MAX_METADATA + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.error(format!("cannot read {}: {e}", path.display())))?;
        if bytes.len() as u64 > MAX_METADATA {
            return Err(self.error(format!(
                "{} is larger than {MAX_METADATA} bytes",
                path.display()
            )));
        }
        Ok(bytes)
    }

    /// A metadata blob (index, manifest, config), checked against its digest.
    fn read_blob(&self, descriptor: &Descriptor) -> Result<Vec<u8>, ImageError> {
        let path = blob_path(self.root, &descriptor.digest).map_err(|e| self.error(e))?;
        let bytes = self.read_file(&path)?;
        if sha256_digest(&bytes) != descriptor.digest {
            return Err(self.error(format!(
                "blob {} does not match its digest",
                descriptor.digest
            )));
        }
        Ok(bytes)
    }

    /// Picks the manifest of `platform` among `candidates`, descending into indexes.
    fn choose(
        &self,
        candidates: Vec<Descriptor>,
        platform: &Platform,
        depth: usize,
    ) -> Result<Descriptor, ImageError> {
        if depth > MAX_INDEX_DEPTH {
            return Err(self.error("indexes nested too deeply".to_string()));
        }
        let chosen = if let [only] = candidates.as_slice() {
            only.clone()
        } else {
            let with_platform: Vec<&Descriptor> =
                candidates.iter().filter(|d| d.platform.is_some()).collect();
            if with_platform.is_empty() {
                let tags: Vec<&str> = candidates
                    .iter()
                    .filter_map(|d| d.annotations.get(REF_NAME).map(String::as_str))
                    .collect();
                return Err(self.error(format!(
                    "the layout holds {} images; name one as oci:DIR:TAG (tags: {})",
                    candidates.len(),
                    tags.join(", ")
                )));
            }
            let found = with_platform.iter().find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| platform.matches(&p.os, &p.architecture, p.variant.as_deref()))
            });
            match found {
                Some(d) => (*d).clone(),
                None => {
                    let offered: Vec<String> = with_platform
                        .iter()
                        .filter_map(|d| d.platform.as_ref())
                        .map(|p| platform_string(&p.os, &p.architecture, p.variant.as_deref()))
                        .collect();
                    return Err(self.error(format!(
                        "no image for platform {platform} (available: {})",
                        offered.join(", ")
                    )));
                }
            }
        };
        let is_index = matches!(chosen.media_type.as_str(), OCI_INDEX | DOCKER_LIST);
        let is_manifest = matches!(chosen.media_type.as_str(), OCI_MANIFEST | DOCKER_MANIFEST);
        if is_manifest {
            return Ok(chosen);
        }
        // OCI allows descriptors without a media type; look inside to tell index from manifest.
        let bytes = self.read_blob(&chosen)?;
        let document: Document = serde_json::from_slice(&bytes)
            .map_err(|e| self.error(format!("{}: {e}", chosen.digest)))?;
        let document_is_index = document.manifests.is_some()
            || matches!(
                document.media_type.as_deref(),
                Some(OCI_INDEX | DOCKER_LIST)
            );
        if is_index || document_is_index {
            let manifests = document.manifests.unwrap_or_default();
            if manifests.is_empty() {
                return Err(self.error(format!("index {} is empty", chosen.digest)));
            }
            return self.choose(manifests, platform, depth + 1);
        }
        if document.config.is_some() {
            return Ok(chosen);
        }
        Err(self.error(format!(
            "{} has unsupported media type `{}`",
            chosen.digest, chosen.media_type
        )))
    }
}

impl ImageSource for OciLayout {
    fn info(&self) -> &ImageInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let layer = self
            .info
            .layers
            .get(index)
            .ok_or_else(|| ImageError::Source {
                source_name: self.info.reference.clone(),
                message: format!("no layer {index}"),
            })?;
        let layer_error = |message: String| ImageError::Layer {
            reference: self.info.reference.clone(),
            digest: layer.digest.clone(),
            message,
        };
        let path = blob_path(&self.root, &layer.digest).map_err(layer_error)?;
        let file = File::open(&path)
            .map_err(|e| layer_error(format!("cannot open {}: {e}", path.display())))?;
        // The layer reader buffers; a second buffer here would only copy.
        Ok(Box::new(file))
    }
}
