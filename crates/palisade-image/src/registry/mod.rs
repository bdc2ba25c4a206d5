//! Images from registries over the OCI Distribution API (Docker Registry HTTP API v2).
//!
//! Why a client of our own on blocking `ureq` rather than `oci-client`: Palisade's image pipeline
//! is synchronous (layers are streamed through `Read` on worker threads), and `oci-client` is
//! async-only — every layer would need a runtime bridge — while its retry behaviour (429
//! `Retry-After`, 5xx, resuming a broken blob download) cannot be controlled from outside, and
//! its redirect and scheme handling is not ours to audit. The protocol subset needed to *read*
//! images (manifests, blobs, token auth, catalog) is small; owning it keeps the rules explicit:
//! plain HTTP only for loopback and `--insecure-registry` hosts, no Authorization header sent to
//! blob storage on another host, bounded retries, and no credential in any log or error.
//! `oci-spec` is not used either: only a handful of manifest fields matter, and tolerant types of
//! our own ([`manifest`]) do not fail on vendor extensions.

pub mod auth;
mod client;
pub mod manifest;

use std::io::{self, Read};
use std::path::PathBuf;
use std::time::Duration;

use palisade_core::{ImageInfo, Layer};
use sha2::{Digest, Sha256, Sha512};

use self::client::{Client, Target};
use self::manifest::{CONFIG_MAX, MANIFEST_MAX, Manifest, Platform};
use crate::error::ImageError;
use crate::reference::{self, Reference};
use crate::source::ImageSource;

/// How to reach registries. `Default` is anonymous-or-docker-login, HTTPS with the bundled
/// Mozilla roots, linux on this machine's architecture.
#[derive(Clone, Default)]
pub struct RegistryOptions {
    /// Explicit user name (`--username`); when set, the Docker config is not read.
    pub username: Option<String>,
    /// Explicit password or token (`--password-stdin`).
    pub password: Option<String>,
    /// The Docker config file to read credentials from; default `$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// Hosts (`host` or `host:port`) that may be reached over plain HTTP
    /// (`--insecure-registry`). Loopback always may.
    pub insecure: Vec<String>,
    /// Extra trusted CA certificates (PEM), for private registries.
    pub ca_file: Option<PathBuf>,
    /// `os/arch[/variant]` to pick from multi-platform images; default linux and this machine's
    /// architecture.
    pub platform: Option<String>,
    /// Connection and per-read timeout; default 60 s.
    pub timeout: Option<Duration>,
    /// Entries per catalog or tag-list page; default 1000 (registries may answer with fewer).
    pub page_size: Option<u32>,
}

impl std::fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("docker_config", &self.docker_config)
            .field("insecure", &self.insecure)
            .field("ca_file", &self.ca_file)
            .field("platform", &self.platform)
            .field("timeout", &self.timeout)
            .field("page_size", &self.page_size)
            .finish()
    }
}

/// An image in a registry: its manifest and config have been read; layers stream on demand.
pub struct RegistrySource {
    client: Client,
    reference: Reference,
    info: ImageInfo,
    index_digest: Option<String>,
}

/// Resolves `reference` (`nginx`, `r.example:5000/a/b:1.0`, `…@sha256:…`) to one image: fetches
/// its manifest (choosing the platform from an index), checks digests, reads the config.
pub fn open(reference: &str, options: &RegistryOptions) -> Result<RegistrySource, ImageError> {
    let parsed = Reference::parse(reference)?;
    let wanted = match &options.platform {
        Some(text) => Some(
            Platform::parse(text).map_err(|message| ImageError::Reference {
                reference: reference.to_owned(),
                message,
            })?,
        ),
        None => None,
    };
    let client = Client::new(&parsed.registry, parsed.api_host(), options)?;
    let fail = |status, message| client.error(reference, status, message);
    let scope = format!("repository:{}:pull", parsed.repository);

    let (body, content_type, digest) = fetch_manifest(
        &client,
        &parsed,
        parsed.manifest_reference(),
        &scope,
        reference,
    )?;
    let mut manifest = manifest::parse_manifest(&body, content_type.as_deref())
        .map_err(|message| fail(None, message))?;
    let mut manifest_digest = digest;
    let mut index_digest = None;
    let platform_wanted = wanted.clone().unwrap_or_else(Platform::host);
    if let Manifest::Index { manifests } = &manifest {
        let chosen = manifest::select(manifests, &platform_wanted).ok_or_else(|| {
            fail(
                None,
                format!(
                    "no image for platform {platform_wanted} in the index (it has: {})",
                    manifest::offered(manifests).join(", ")
                ),
            )
        })?;
        let child_digest = chosen.digest.clone();
        let (body, content_type, digest) =
            fetch_manifest(&client, &parsed, &child_digest, &scope, reference)?;
        let child = manifest::parse_manifest(&body, content_type.as_deref())
            .map_err(|message| fail(None, format!("manifest {child_digest}: {message}")))?;
        if matches!(child, Manifest::Index { .. }) {
            return Err(fail(
                None,
                format!("manifest {child_digest} for {platform_wanted} is another index"),
            ));
        }
        index_digest = Some(manifest_digest);
        manifest_digest = digest;
        manifest = child;
    }
    let Manifest::Image {
        media_type: _,
        config,
        layers,
    } = manifest
    else {
        return Err(fail(
            None,
            "index where an image manifest was expected".into(),
        ));
    };

    let config_body = fetch_blob_bytes(
        &client,
        &parsed,
        &config.digest,
        CONFIG_MAX,
        &scope,
        reference,
    )?;
    let image_config =
        manifest::parse_config(&config_body).map_err(|message| fail(None, message))?;
    let platform = Platform {
        os: image_config.os.clone(),
        architecture: image_config.architecture.clone(),
        variant: image_config.variant.clone().filter(|v| !v.is_empty()),
    };
    if let Some(wanted) = &wanted
        && !platform.os.is_empty()
        && !wanted.matches(&platform)
    {
        return Err(fail(
            None,
            format!("the image is for {platform}, not the requested platform {wanted}"),
        ));
    }
    let diff_ids = image_config
        .rootfs
        .map(|rootfs| rootfs.diff_ids)
        .filter(|ids| ids.len() == layers.len());
    let layers = layers
        .into_iter()
        .enumerate()
        .map(|(i, layer)| Layer {
            diff_id: diff_ids.as_ref().and_then(|ids| ids.get(i).cloned()),
            digest: layer.digest,
            media_type: layer.media_type,
            size: layer.size,
        })
        .collect();
    let info = ImageInfo {
        reference: reference.to_owned(),
        manifest_digest: Some(manifest_digest),
        config_digest: Some(config.digest),
        platform: (!platform.os.is_empty()).then(|| platform.to_string()),
        layers,
        tags: parsed
            .tag
            .iter()
            .map(|tag| format!("{}:{tag}", parsed.name()))
            .collect(),
    };
    Ok(RegistrySource {
        client,
        reference: parsed,
        info,
        index_digest,
    })
}

impl RegistrySource {
    /// The parsed, normalized reference.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// The digest of the index (manifest list) the image was chosen from, when there was one:
    /// what `docker pull` prints as the image's digest.
    pub fn index_digest(&self) -> Option<&str> {
        self.index_digest.as_deref()
    }

    fn scope(&self) -> String {
        format!("repository:{}:pull", self.reference.repository)
    }
}

impl ImageSource for RegistrySource {
    fn info(&self) -> &ImageInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let layer = self
            .info
            .layers
            .get(index)
            .ok_or_else(|| ImageError::Layer {
                reference: self.info.reference.clone(),
                digest: String::new(),
                message: format!(
                    "no layer {index} (the image has {})",
                    self.info.layers.len()
                ),
            })?;
        let reader = BlobReader::open(
            &self.client,
            &self.reference,
            &layer.digest,
            self.scope(),
            &self.info.reference,
        )
        .map_err(|error| match error {
            // Which layer failed is what a registry operator needs to find the damage.
            ImageError::Registry {
                registry,
                reference,
                status,
                message,
            } => ImageError::Registry {
                registry,
                reference,
                status,
                message: format!("layer {}: {message}", layer.digest),
            },
            other => other,
        })?;
        Ok(Box::new(reader))
    }
}

/// Repositories of a registry (`/v2/_catalog`, every page). `registry` may carry a path prefix
/// (`r.example:5000/team`): only repositories under it are returned.
pub fn list_repositories(
    registry: &str,
    options: &RegistryOptions,
) -> Result<Vec<String>, ImageError> {
    let (host, prefix) = match registry.split_once('/') {
        Some((host, prefix)) => (host, prefix.trim_matches('/')),
        None => (registry, ""),
    };
    let name = reference::normalize_registry(host);
    let client = Client::new(name, reference::api_host(name), options)?;
    let page = options.page_size.unwrap_or(1000).max(1);
    let repositories = paginate(
        &client,
        &format!("/v2/_catalog?n={page}"),
        "registry:catalog:*",
        "catalog",
        "repositories",
    )?;
    Ok(repositories
        .into_iter()
        .filter(|repository| {
            prefix.is_empty()
                || repository == prefix
                || repository
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .collect())
}

/// Tags of one repository (`/v2/<name>/tags/list`, every page).
pub fn list_tags(
    registry: &str,
    repository: &str,
    options: &RegistryOptions,
) -> Result<Vec<String>, ImageError> {
    // Parse as a reference so the repository is validated (it goes into the URL path) and
    // Docker Hub's `library/` rule applies.
    let parsed = Reference::parse(&format!("{registry}/{repository}"))?;
    let client = Client::new(&parsed.registry, parsed.api_host(), options)?;
    let page = options.page_size.unwrap_or(1000).max(1);
    paginate(
        &client,
        &format!("/v2/{}/tags/list?n={page}", parsed.repository),
        &format!("repository:{}:pull", parsed.repository),
        &parsed.name(),
        "tags",
    )
}

/// Follows `Link: <…>; rel="next"` until the last page.
fn paginate(
    client: &Client,
    first: &str,
    scope: &str,
    what: &str,
    field: &str,
) -> Result<Vec<String>, ImageError> {
    /// A registry that links forever is cut off here (a million repositories at 1000 a page).
    const PAGES_MAX: usize = 1000;
    const PAGE_BODY_MAX: u64 = 32 << 20;
    let mut items = Vec::new();
    let mut next = Some(first.to_owned());
    let mut seen = std::collections::HashSet::new();
    while let Some(path) = next.take() {
        if !seen.insert(path.clone()) || seen.len() > PAGES_MAX {
            return Err(client.error(what, None, format!("pagination does not end (at {path})")));
        }
        let answer = client.get(
            &Target {
                path: &path,
                scope,
                reference: what,
            },
            &[],
        )?;
        let link = answer.response.header("link").map(str::to_owned);
        let mut body = Vec::new();
        answer
            .response
            .into_reader()
            .take(PAGE_BODY_MAX)
            .read_to_end(&mut body)
            .map_err(|error| client.error(what, None, format!("reading {field}: {error}")))?;
        let document: serde_json::Value = serde_json::from_slice(&body).map_err(|error| {
            client.error(what, None, format!("{field} list is not JSON: {error}"))
        })?;
        if let Some(list) = document.get(field).and_then(|v| v.as_array()) {
            items.extend(list.iter().filter_map(|v| v.as_str()).map(str::to_owned));
        }
        next = link
            .as_deref()
            .and_then(next_link)
            .map(|link| resolve_link(&answer.url, &link));
    }
    Ok(items)
}

/// The target of the `rel="next"` entry of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|entry| {
        let (target, params) = entry.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|param| {
            param
                .trim()
                .strip_prefix("rel=")
                .is_some_and(|rel| rel.trim_matches('"').split(' ').any(|r| r == "next"))
        });
        is_next.then(|| target.to_owned())
    })
}

fn resolve_link(current: &url::Url, link: &str) -> String {
    current
        .join(link)
        .map(|url| url.to_string())
        .unwrap_or_else(|_| link.to_owned())
}

/// GET a manifest by tag or digest: its body, `Content-Type`, and digest (verified against the
/// body; when asked by digest, it must be that digest).
fn fetch_manifest(
    client: &Client,
    parsed: &Reference,
    reference_or_digest: &str,
    scope: &str,
    reference: &str,
) -> Result<(Vec<u8>, Option<String>, String), ImageError> {
    let path = format!("/v2/{}/manifests/{reference_or_digest}", parsed.repository);
    let answer = client.get(
        &Target {
            path: &path,
            scope,
            reference,
        },
        &[("Accept", manifest::ACCEPT)],
    )?;
    let content_type = answer.response.header("content-type").map(str::to_owned);
    let header_digest = answer
        .response
        .header("docker-content-digest")
        .map(|d| d.trim().to_owned());
    let body = read_bounded(answer.response, MANIFEST_MAX)
        .map_err(|message| client.error(reference, None, format!("manifest: {message}")))?;
    let expected = if reference_or_digest.contains(':') {
        Some(reference_or_digest.to_owned())
    } else {
        header_digest.filter(|d| reference::validate_digest(d).is_ok())
    };
    let digest = match expected {
        Some(expected) => {
            let actual = digest_of(&body, &expected);
            if actual != expected {
                return Err(client.error(
                    reference,
                    None,
                    format!("manifest digest mismatch: expected {expected}, content is {actual}"),
                ));
            }
            expected
        }
        None => digest_of(&body, "sha256:"),
    };
    Ok((body, content_type, digest))
}

/// A small blob (the config), read whole and checked against its digest.
fn fetch_blob_bytes(
    client: &Client,
    parsed: &Reference,
    digest: &str,
    limit: u64,
    scope: &str,
    reference: &str,
) -> Result<Vec<u8>, ImageError> {
    let path = format!("/v2/{}/blobs/{digest}", parsed.repository);
    let answer = client.get(
        &Target {
            path: &path,
            scope,
            reference,
        },
        &[],
    )?;
    let body = read_bounded(answer.response, limit)
        .map_err(|message| client.error(reference, None, format!("blob {digest}: {message}")))?;
    let actual = digest_of(&body, digest);
    if actual != digest {
        return Err(client.error(
            reference,
            None,
            format!("blob {digest}: digest mismatch (content is {actual})"),
        ));
    }
    Ok(body)
}

fn read_bounded(response: ureq::Response, limit: u64) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    response
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|error| error.to_string())?;
    if body.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes"));
    }
    Ok(body)
}

/// `algorithm:hex` of `body`, with the algorithm of `like` (sha512 or sha256).
fn digest_of(body: &[u8], like: &str) -> String {
    if like.starts_with("sha512:") {
        format!("sha512:{:x}", Sha512::digest(body))
    } else {
        format!("sha256:{:x}", Sha256::digest(body))
    }
}

/// A layer blob as it downloads. A connection that breaks mid-blob is resumed with a `Range`
/// request (or, if the server ignores ranges, by skipping what was already read), a bounded
/// number of times; the layer reader checks the digest of what comes out.
struct BlobReader<'a> {
    client: &'a Client,
    path: String,
    scope: String,
    reference: &'a str,
    digest: String,
    body: Box<dyn Read + Send + Sync>,
    offset: u64,
    resumes_left: u32,
}

impl<'a> BlobReader<'a> {
    const RESUMES: u32 = 3;

    fn open(
        client: &'a Client,
        parsed: &Reference,
        digest: &str,
        scope: String,
        reference: &'a str,
    ) -> Result<BlobReader<'a>, ImageError> {
        let path = format!("/v2/{}/blobs/{digest}", parsed.repository);
        let answer = client.get(
            &Target {
                path: &path,
                scope: &scope,
                reference,
            },
            &[],
        )?;
        Ok(BlobReader {
            client,
            path,
            scope,
            reference,
            digest: digest.to_owned(),
            body: answer.response.into_reader(),
            offset: 0,
            resumes_left: Self::RESUMES,
        })
    }

    fn resume(&mut self) -> io::Result<()> {
        let range = format!("bytes={}-", self.offset);
        let answer = self
            .client
            .get(
                &Target {
                    path: &self.path,
                    scope: &self.scope,
                    reference: self.reference,
                },
                &[("Range", &range)],
            )
            .map_err(io::Error::other)?;
        let status = answer.response.status();
        let mut body = answer.response.into_reader();
        if status != 206 {
            // The whole blob again: skip what the caller already has.
            let skipped = io::copy(&mut (&mut body).take(self.offset), &mut io::sink())?;
            if skipped != self.offset {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "blob shorter on retry",
                ));
            }
        }
        self.body = body;
        Ok(())
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.body.read(buf) {
                Ok(n) => {
                    self.offset += n as u64;
                    return Ok(n);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) if self.resumes_left > 0 => {
                    self.resumes_left -= 1;
                    let attempt = Self::RESUMES - self.resumes_left;
                    std::thread::sleep(Duration::from_millis(500) * attempt);
                    if let Err(resume_error) = self.resume() {
                        return Err(io::Error::new(
                            error.kind(),
                            format!(
                                "registry {}: blob {} broke at byte {} ({error}) and could not be resumed: {resume_error}",
                                self.client.registry, self.digest, self.offset
                            ),
                        ));
                    }
                }
                Err(error) => {
                    return Err(io::Error::new(
                        error.kind(),
                        format!(
                            "registry {}: blob {} at byte {}: {error}",
                            self.client.registry, self.digest, self.offset
                        ),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/_catalog?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/_catalog?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://x/prev>; rel="prev", <https://x/next>; rel=next"#).as_deref(),
            Some("https://x/next")
        );
        assert_eq!(next_link(r#"</a>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn options_debug_hides_the_password() {
        let options = RegistryOptions {
            username: Some("u".into()),
            password: Some("hunter2".into()),
            ..RegistryOptions::default()
        };
        let text = format!("{options:?}");
        assert!(
            !text.contains("hunter2") && text.contains("<redacted>"),
            "{text}"
        );
    }

    #[test]
    fn digests_by_algorithm() {
        assert_eq!(
            digest_of(b"", "sha256:"),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(digest_of(b"", "sha512:x").starts_with("sha512:cf83e1357eefb8bd"));
    }

    #[test]
    fn bad_reference_or_platform_fails_before_any_request() {
        let error = open("UPPER/x", &RegistryOptions::default()).err().unwrap();
        assert!(matches!(error, ImageError::Reference { .. }), "{error}");
        let options = RegistryOptions {
            platform: Some("linux".into()),
            ..RegistryOptions::default()
        };
        let error = open("r.example/x", &options).err().unwrap();
        assert!(error.to_string().contains("invalid platform"), "{error}");
    }
}
