//! `docker-archive:FILE[:REPO:TAG]`: a `docker save` tarball.
//!
//! Its `manifest.json` lists, per image, the config member, the tags and the layer members —
//! `<id>/layer.tar` (plain tars) in the classic format, `blobs/sha256/<hex>` (possibly
//! compressed) since Docker 25. The archive is read once to index where each member's data
//! starts; a layer is then opened by seeking to it, so nothing is extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use palisade_core::{ImageInfo, Layer};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::oci_layout::ImageConfig;
use super::{ImageSource, SourceOptions, platform_string};
use crate::error::ImageError;
use crate::layer::{Compression, hex, sha256_digest};

const MAX_METADATA: u64 = 16 * 1024 * 1024;
/// Members in an archive index: a saved image has a few per layer; millions mean a hostile file.
const MAX_MEMBERS: usize = 1_000_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// Where a member's data lies in the archive.
#[derive(Debug, Clone, Copy)]
struct Member {
    offset: u64,
    size: u64,
}

/// One image of a `docker save` archive.
#[derive(Debug)]
pub struct DockerArchive {
    path: PathBuf,
    info: ImageInfo,
    /// Member of each layer, in [`ImageInfo::layers`] order.
    layers: Vec<Member>,
}

impl DockerArchive {
    /// Opens `spec` (`FILE` or `FILE:REPO:TAG`, the part after `docker-archive:`).
    pub fn open(
        reference: &str,
        spec: &str,
        options: &SourceOptions,
    ) -> Result<DockerArchive, ImageError> {
        let (path, wanted_tag) = split_file(spec);
        let source_error = |message: String| ImageError::Source {
            source_name: reference.to_string(),
            message,
        };
        let mut file = File::open(&path)
            .map_err(|e| source_error(format!("cannot open {}: {e}", path.display())))?;
        let members = index_members(&mut file)
            .map_err(|e| source_error(format!("not a readable tar archive: {e}")))?;
        let read_member = |file: &mut File, name: &str| -> Result<Vec<u8>, ImageError> {
            let member = members
                .get(&member_name(name))
                .ok_or_else(|| source_error(format!("archive has no member `{name}`")))?;
            if member.size > MAX_METADATA {
                return Err(source_error(format!(
                    "`{name}` is larger than {MAX_METADATA} bytes"
                )));
            }
            let mut bytes = Vec::new();
            file.seek(SeekFrom::Start(member.offset))
                .and_then(|_| (&mut *file).take(member.size).read_to_end(&mut bytes))
                .map_err(|e| source_error(format!("cannot read `{name}`: {e}")))?;
            Ok(bytes)
        };
        let manifest: Vec<ManifestEntry> =
            serde_json::from_slice(&read_member(&mut file, "manifest.json")?)
                .map_err(|e| source_error(format!("manifest.json: {e}")))?;
        let entry = match wanted_tag.as_deref() {
            Some(tag) => manifest.iter().find(|m| {
                m.repo_tags
                    .as_ref()
                    .is_some_and(|tags| tags.iter().any(|t| t == tag))
            }),
            None if manifest.len() == 1 => manifest.first(),
            None => None,
        };
        let Some(entry) = entry else {
            let tags: Vec<&str> = manifest
                .iter()
                .flat_map(|m| m.repo_tags.iter().flatten().map(String::as_str))
                .collect();
            return Err(source_error(match wanted_tag {
                Some(tag) => format!("no image tagged `{tag}` (tags: {})", tags.join(", ")),
                None if manifest.is_empty() => "manifest.json lists no image".to_string(),
                None => format!(
                    "the archive holds {} images; name one as docker-archive:FILE:REPO:TAG (tags: {})",
                    manifest.len(),
                    tags.join(", ")
                ),
            }));
        };
        let config_bytes = read_member(&mut file, &entry.config)?;
        let config: ImageConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| source_error(format!("config `{}`: {e}", entry.config)))?;
        if let Some(platform) = options.platform.as_deref() {
            let wanted = super::Platform::wanted(reference, options)?;
            if !wanted.matches(&config.os, &config.architecture, config.variant.as_deref()) {
                return Err(source_error(format!(
                    "the image is for {}, not {platform}",
                    platform_string(&config.os, &config.architecture, config.variant.as_deref())
                )));
            }
        }
        let diff_ids = config
            .rootfs
            .as_ref()
            .map(|r| r.diff_ids.as_slice())
            .unwrap_or_default();
        let mut layers = Vec::with_capacity(entry.layers.len());
        let mut members_of_layers = Vec::with_capacity(entry.layers.len());
        for (i, name) in entry.layers.iter().enumerate() {
            let member = *members
                .get(&member_name(name))
                .ok_or_else(|| source_error(format!("archive has no layer member `{name}`")))?;
            let mut prefix = [0u8; 4];
            let mut reader = open_member(&path, member)
                .map_err(|e| source_error(format!("cannot read `{name}`: {e}")))?;
            let got = reader.read(&mut prefix).unwrap_or(0);
            let compression = Compression::detect(prefix.get(..got).unwrap_or_default());
            let diff_id = diff_ids.get(i).cloned();
            let digest = match blob_digest(name) {
                Some(digest) => digest,
                // A classic `<id>/layer.tar` is the uncompressed tar: its digest is its diff_id.
                None if compression == Compression::None && diff_id.is_some() => {
                    diff_id.clone().unwrap_or_default()
                }
                // Otherwise nothing names its digest: compute it (one extra read of that layer).
                None => hash_member(&path, member)
                    .map_err(|e| source_error(format!("cannot read `{name}`: {e}")))?,
            };
            let media_type = match compression {
                Compression::Gzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
                Compression::None => "application/vnd.docker.image.rootfs.diff.tar",
            };
            layers.push(Layer {
                digest,
                diff_id,
                media_type: media_type.to_string(),
                size: member.size,
            });
            members_of_layers.push(member);
        }
        let info = ImageInfo {
            reference: reference.to_string(),
            manifest_digest: None,
            config_digest: Some(sha256_digest(&config_bytes)),
            platform: (!config.os.is_empty()).then(|| {
                platform_string(&config.os, &config.architecture, config.variant.as_deref())
            }),
            layers,
            tags: entry.repo_tags.clone().unwrap_or_default(),
        };
        Ok(DockerArchive {
            path,
            info,
            layers: members_of_layers,
        })
    }
}

/// `FILE` or `FILE:REPO:TAG`: an existing file wins, then the longest existing prefix before a
/// `:`.
fn split_file(spec: &str) -> (PathBuf, Option<String>) {
    if Path::new(spec).is_file() {
        return (PathBuf::from(spec), None);
    }
    for (at, _) in spec.match_indices(':') {
        let (file, rest) = spec.split_at(at);
        if Path::new(file).is_file() {
            let tag = rest.trim_start_matches(':');
            return (
                PathBuf::from(file),
                (!tag.is_empty()).then(|| tag.to_string()),
            );
        }
    }
    (PathBuf::from(spec), None)
}

/// Member names as written in `manifest.json` and in tar headers differ by `./` prefixes.
fn member_name(name: &str) -> String {
    let mut name = name;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name.trim_start_matches('/').to_string()
}

/// `blobs/sha256/<hex>` → `sha256:<hex>`.
fn blob_digest(name: &str) -> Option<String> {
    let name = member_name(name);
    let hex_digits = name.strip_prefix("blobs/sha256/")?;
    let digest = format!("sha256:{hex_digits}");
    crate::layer::expected_sha256(&digest).map(|_| digest)
}

/// Scans the archive's headers (seeking over data) and records where each regular member lies.
fn index_members(file: &mut File) -> io::Result<HashMap<String, Member>> {
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    for entry in archive.entries_with_seek()? {
        let entry = entry?;
        if !matches!(
            entry.header().entry_type(),
            tar::EntryType::Regular | tar::EntryType::Continuous
        ) {
            continue;
        }
        if members.len() >= MAX_MEMBERS {
            return Err(io::Error::other("too many members"));
        }
        let name = member_name(&String::from_utf8_lossy(&entry.path_bytes()));
        members.insert(
            name,
            Member {
                offset: entry.raw_file_position(),
                size: entry.size(),
            },
        );
    }
    Ok(members)
}

fn open_member(path: &Path, member: Member) -> io::Result<io::Take<File>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(member.offset))?;
    Ok(file.take(member.size))
}

fn hash_member(path: &Path, member: Member) -> io::Result<String> {
    let mut reader = open_member(path, member)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(format!("sha256:{}", hex(&hasher.finalize())))
}

impl ImageSource for DockerArchive {
    fn info(&self) -> &ImageInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let (Some(layer), Some(member)) = (self.info.layers.get(index), self.layers.get(index))
        else {
            return Err(ImageError::Source {
                source_name: self.info.reference.clone(),
                message: format!("no layer {index}"),
            });
        };
        let reader = open_member(&self.path, *member).map_err(|e| ImageError::Layer {
            reference: self.info.reference.clone(),
            digest: layer.digest.clone(),
            message: format!("cannot read {}: {e}", self.path.display()),
        })?;
        Ok(Box::new(reader))
    }
}
