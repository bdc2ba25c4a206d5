//! Manifests as registries serve them: OCI image index and manifest, Docker manifest list and
//! schema 2 — and the choice of one platform's image from an index.
//!
//! Only the fields Palisade reads are modelled (rather than `oci-spec`'s full types), so an
//! unknown annotation or a vendor field never fails a pull. Every digest is validated before it
//! is used in a URL: a hostile manifest must not steer requests to other paths.

use serde::Deserialize;

use crate::reference::validate_digest;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The `Accept` header for manifest requests: every kind Palisade reads.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// Registries limit manifests to 4 MiB (distribution's default); more is not a manifest.
pub const MANIFEST_MAX: u64 = 4 << 20;
/// Image configs carry the build history; 32 MiB is far beyond any real one.
pub const CONFIG_MAX: u64 = 32 << 20;

/// A content descriptor (`mediaType`, `digest`, `size`, `platform`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// `os/architecture[/variant]` of an image.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]` (`linux/arm64/v8`).
    pub fn parse(text: &str) -> Result<Platform, String> {
        let mut parts = text.split('/');
        let os = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let architecture = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let variant = parts
            .next()
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty());
        if os.is_empty() || architecture.is_empty() || parts.next().is_some() {
            return Err(format!(
                "invalid platform `{text}` (expected os/architecture[/variant], e.g. linux/arm64)"
            ));
        }
        Ok(Platform {
            os,
            architecture: normalize_architecture(&architecture).to_owned(),
            variant,
        })
    }

    /// Linux on this machine's architecture, named as Go (and so every image index) names it.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "loongarch64" => "loong64",
            "mips64" if cfg!(target_endian = "little") => "mips64le",
            "mips" if cfg!(target_endian = "little") => "mipsle",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// Whether an index entry for `candidate` is an image for this platform. A missing variant
    /// on either side matches the architecture's default (arm64 is v8, arm is v7), as
    /// containerd's platform matcher does.
    pub fn matches(&self, candidate: &Platform) -> bool {
        if !self.os.eq_ignore_ascii_case(&candidate.os)
            || self.architecture != normalize_architecture(&candidate.architecture)
        {
            return false;
        }
        let wanted = self.variant.as_deref().unwrap_or_default();
        let offered = candidate.variant.as_deref().unwrap_or_default();
        match self.variant {
            None => true,
            Some(_) => {
                default_variant(&self.architecture, wanted)
                    == default_variant(&self.architecture, offered)
            }
        }
    }

    /// How well `candidate` fits when no variant was asked for: the architecture's default
    /// variant (or none) first.
    fn rank(&self, candidate: &Platform) -> u8 {
        let offered = candidate.variant.as_deref().unwrap_or_default();
        if self.variant.is_some()
            || default_variant(&self.architecture, offered)
                == default_variant(&self.architecture, "")
        {
            0
        } else {
            1
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

fn normalize_architecture(architecture: &str) -> &str {
    match architecture {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" => "386",
        other => other,
    }
}

fn default_variant<'a>(architecture: &str, variant: &'a str) -> &'a str {
    match (architecture, variant) {
        ("arm64", "") => "v8",
        ("arm", "") => "v7",
        _ => variant,
    }
}

/// A manifest as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// OCI index or Docker manifest list: one image per platform.
    Index { manifests: Vec<Descriptor> },
    /// One image.
    Image {
        media_type: String,
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
}

#[derive(Deserialize)]
struct Document {
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<i64>,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
}

/// Parses a manifest body; `content_type` is the response's `Content-Type`, used when the body
/// does not say what it is (OCI makes `mediaType` optional).
pub fn parse_manifest(body: &[u8], content_type: Option<&str>) -> Result<Manifest, String> {
    let document: Document = serde_json::from_slice(body)
        .map_err(|error| format!("manifest is not valid JSON: {error}"))?;
    let content_type = content_type
        .and_then(|value| value.split(';').next())
        .map(str::trim)
        .filter(|value| !value.is_empty() && *value != "application/json");
    let media_type = document
        .media_type
        .as_deref()
        .or(content_type)
        .unwrap_or_default()
        .to_owned();
    if media_type == DOCKER_SCHEMA1
        || media_type == DOCKER_SCHEMA1_SIGNED
        || document.schema_version == Some(1)
    {
        return Err(
            "Docker schema 1 manifests are not supported (deprecated since 2017; push \
                    the image again with a current client)"
                .to_owned(),
        );
    }
    let is_index = match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        "" => document.manifests.is_some() && document.config.is_none(),
        other => return Err(format!("unsupported manifest media type `{other}`")),
    };
    if is_index {
        let manifests = document
            .manifests
            .ok_or("image index without `manifests`")?;
        for descriptor in &manifests {
            validate_digest(&descriptor.digest)?;
        }
        return Ok(Manifest::Index { manifests });
    }
    let config = document.config.ok_or("image manifest without `config`")?;
    validate_digest(&config.digest)?;
    if !config.media_type.is_empty()
        && config.media_type != OCI_CONFIG
        && config.media_type != DOCKER_CONFIG
    {
        return Err(format!(
            "not a container image: config media type is `{}`",
            config.media_type
        ));
    }
    let layers = document.layers.unwrap_or_default();
    for layer in &layers {
        validate_digest(&layer.digest)?;
    }
    Ok(Manifest::Image {
        media_type: if media_type.is_empty() {
            OCI_MANIFEST.to_owned()
        } else {
            media_type
        },
        config,
        layers,
    })
}

/// Picks `wanted`'s image from an index: the first exact match, preferring the architecture's
/// default variant when none was asked for. Entries for `unknown/unknown` (BuildKit's
/// attestation manifests) never match.
pub fn select<'a>(manifests: &'a [Descriptor], wanted: &Platform) -> Option<&'a Descriptor> {
    manifests
        .iter()
        .filter_map(|descriptor| {
            let platform = descriptor.platform.as_ref()?;
            wanted
                .matches(platform)
                .then(|| (wanted.rank(platform), descriptor))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, descriptor)| descriptor)
}

/// The platforms an index offers, for the error when none matches.
pub fn offered(manifests: &[Descriptor]) -> Vec<String> {
    manifests
        .iter()
        .filter_map(|descriptor| descriptor.platform.as_ref())
        .filter(|platform| platform.os != "unknown")
        .map(Platform::to_string)
        .collect()
}

/// What Palisade reads from an image config.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

pub fn parse_config(body: &[u8]) -> Result<Config, String> {
    serde_json::from_slice(body).map_err(|error| format!("image config is not valid JSON: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

    fn index() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": D1, "size": 1,
                 "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": OCI_MANIFEST, "digest": D2, "size": 1,
                 "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
                {"mediaType": OCI_MANIFEST, "digest": D3, "size": 1,
                 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"mediaType": OCI_MANIFEST, "digest": D3, "size": 1,
                 "platform": {"os": "unknown", "architecture": "unknown"}}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn index_and_platform_choice() {
        let Manifest::Index { manifests } = parse_manifest(&index(), None).unwrap() else {
            panic!("not an index");
        };
        let pick = |platform: &str| {
            select(&manifests, &Platform::parse(platform).unwrap()).map(|d| d.digest.as_str())
        };
        assert_eq!(pick("linux/amd64"), Some(D1));
        assert_eq!(pick("linux/x86_64"), Some(D1));
        assert_eq!(pick("linux/arm64"), Some(D3), "v8 is arm64's default");
        assert_eq!(pick("linux/arm64/v8"), Some(D3));
        assert_eq!(pick("linux/arm/v6"), Some(D2));
        assert_eq!(pick("linux/arm/v7"), None);
        assert_eq!(pick("windows/amd64"), None);
        assert_eq!(
            offered(&manifests),
            ["linux/amd64", "linux/arm/v6", "linux/arm64/v8"]
        );
    }

    #[test]
    fn image_manifest_without_media_type_uses_structure() {
        let body = serde_json::json!({
            "schemaVersion": 2,
            "config": {"mediaType": OCI_CONFIG, "digest": D1, "size": 10},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2, "size": 5}]
        });
        let manifest = parse_manifest(&serde_json::to_vec(&body).unwrap(), None).unwrap();
        let Manifest::Image {
            media_type, layers, ..
        } = manifest
        else {
            panic!("not an image");
        };
        assert_eq!(media_type, OCI_MANIFEST);
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].size, 5);
    }

    #[test]
    fn rejected_manifests() {
        let cases = [
            (
                serde_json::json!({"schemaVersion": 1, "fsLayers": []}),
                "schema 1",
            ),
            (
                serde_json::json!({"mediaType": "application/x-unknown", "layers": []}),
                "unsupported manifest media type",
            ),
            (
                serde_json::json!({"config": {"digest": "sha256:../../etc", "mediaType": OCI_CONFIG}}),
                "invalid digest",
            ),
            (
                serde_json::json!({"config": {"digest": D1, "mediaType": "application/vnd.cncf.helm.config.v1+json"}}),
                "not a container image",
            ),
            (
                serde_json::json!({"mediaType": OCI_INDEX, "manifests": [{"digest": "md5:00"}]}),
                "unsupported digest",
            ),
            (
                serde_json::json!({"mediaType": OCI_INDEX}),
                "without `manifests`",
            ),
        ];
        for (body, expected) in cases {
            let error = parse_manifest(&serde_json::to_vec(&body).unwrap(), None).unwrap_err();
            assert!(error.contains(expected), "{body}: {error}");
        }
        assert!(
            parse_manifest(b"{", None)
                .unwrap_err()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn content_type_is_used_when_the_body_is_silent() {
        let body =
            serde_json::to_vec(&serde_json::json!({"manifests": [], "config": {"digest": D1}}))
                .unwrap();
        assert!(matches!(
            parse_manifest(
                &body,
                Some("application/vnd.oci.image.index.v1+json; charset=utf-8")
            ),
            Ok(Manifest::Index { .. })
        ));
    }

    #[test]
    fn platform_strings() {
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/amd64/v2/x").is_err());
        assert_eq!(
            Platform::parse("Linux/ARM64/V8").unwrap().to_string(),
            "linux/arm64/v8"
        );
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        assert!(!host.architecture.is_empty());
        if cfg!(target_arch = "x86_64") {
            assert_eq!(host.architecture, "amd64");
        }
    }
}
