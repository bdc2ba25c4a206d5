//! The few Package URL operations the SBOM formats need: the image's own `pkg:oci` purl, and
//! taking a package's purl apart when reading an SBOM back.

use palisade_core::{ImageInfo, PackageKind, purl_escape, purl_unescape};

/// The parts of a purl (<https://github.com/package-url/purl-spec>), percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Purl {
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) version: Option<String>,
    pub(crate) qualifiers: Vec<(String, String)>,
}

impl Purl {
    pub(crate) fn parse(text: &str) -> Option<Purl> {
        let rest = text.strip_prefix("pkg:")?.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((before, query)) => (before, query),
            None => (rest, ""),
        };
        let (kind, path) = rest.split_once('/')?;
        if kind.is_empty() {
            return None;
        }
        // The version starts at the last `@`: npm scopes (`%40types`) are encoded, so an `@` in
        // the path can only be the version separator.
        let (path, version) = match path.rsplit_once('@') {
            Some((path, version)) => (path, Some(purl_unescape(version))),
            None => (path, None),
        };
        let path = path.trim_matches('/');
        let (namespace, name) = match path.rsplit_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, path),
        };
        if name.is_empty() {
            return None;
        }
        let qualifiers = qualifiers
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (key.to_ascii_lowercase(), purl_unescape(value)))
            .collect();
        Some(Purl {
            kind: kind.to_ascii_lowercase(),
            namespace: namespace.map(|namespace| {
                namespace
                    .split('/')
                    .map(purl_unescape)
                    .collect::<Vec<_>>()
                    .join("/")
            }),
            name: purl_unescape(name),
            version,
            qualifiers,
        })
    }

    pub(crate) fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// The package kind of this purl type, for the types Palisade catalogs.
    pub(crate) fn package_kind(&self) -> Option<PackageKind> {
        Some(match self.kind.as_str() {
            "deb" => PackageKind::Deb,
            "apk" => PackageKind::Apk,
            "rpm" => PackageKind::Rpm,
            "pypi" => PackageKind::Python,
            "npm" => PackageKind::Npm,
            "golang" => PackageKind::Go,
            "cargo" => PackageKind::Rust,
            "maven" => PackageKind::Java,
            "gem" => PackageKind::Ruby,
            "composer" => PackageKind::Php,
            "nuget" => PackageKind::Dotnet,
            _ => return None,
        })
    }
}

/// Where a registry reference points: `(repository_url, purl name, tag)`, e.g.
/// `("docker.io/library/nginx", "nginx", Some("1.27"))`. `None` for local sources (`oci:`,
/// `docker-archive:`, `dir:`, `sbom:`), which have no registry location.
fn registry_location(reference: &str) -> Option<(String, String, Option<String>)> {
    if ["oci:", "docker-archive:", "dir:", "sbom:"]
        .iter()
        .any(|prefix| reference.starts_with(prefix))
    {
        return None;
    }
    let without_digest = reference
        .split_once('@')
        .map_or(reference, |(name, _)| name);
    let (repository, tag) = match without_digest.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag.to_string())),
        _ => (without_digest, None),
    };
    if repository.is_empty() {
        return None;
    }
    // Docker's normalization: a first component without `.`/`:` (and not `localhost`) is a
    // Docker Hub path, and official images live under `library/`.
    let repository = match repository.split_once('/') {
        Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => {
            repository.to_string()
        }
        Some(_) => format!("docker.io/{repository}"),
        None => format!("docker.io/library/{repository}"),
    };
    let name = repository
        .rsplit('/')
        .next()
        .unwrap_or(&repository)
        .to_ascii_lowercase();
    Some((repository.to_ascii_lowercase(), name, tag))
}

/// A name for an image without a registry location: the last path component of the local
/// source, lower-cased as the `oci` purl type requires.
fn local_name(reference: &str) -> String {
    let path = reference
        .split_once(':')
        .map_or(reference, |(_, path)| path);
    let path = path.trim_end_matches('/');
    let name = path.rsplit('/').next().unwrap_or(path);
    let name = name.split(':').next().unwrap_or(name).to_ascii_lowercase();
    if name.is_empty() {
        "image".to_string()
    } else {
        name
    }
}

/// The image's purl, `pkg:oci/<name>@<digest>?arch=…&repository_url=…&tag=…` (qualifiers
/// sorted by key, as the purl specification's canonical form has them).
pub(crate) fn image_purl(image: &ImageInfo) -> String {
    let location = registry_location(&image.reference);
    let name = match &location {
        Some((_, name, _)) => name.clone(),
        None => local_name(&image.reference),
    };
    let mut purl = format!("pkg:oci/{}", purl_escape(&name));
    if let Some(digest) = image
        .manifest_digest
        .as_deref()
        .or(image.config_digest.as_deref())
    {
        purl.push('@');
        purl.push_str(&purl_escape(digest));
    }
    let arch = image
        .platform
        .as_deref()
        .and_then(|platform| platform.split('/').nth(1));
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(arch) = arch {
        qualifiers.push(("arch", purl_escape(arch)));
    }
    if let Some((repository, _, tag)) = &location {
        // `/` separates path segments in the URL and is kept readable, as in the purl spec's
        // own `repository_url=docker.io/library/debian` example.
        qualifiers.push((
            "repository_url",
            purl_escape(repository).replace("%2F", "/"),
        ));
        if let Some(tag) = tag {
            qualifiers.push(("tag", purl_escape(tag)));
        }
    }
    for (index, (key, value)) in qualifiers.iter().enumerate() {
        purl.push(if index == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        purl.push_str(value);
    }
    purl
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_purls() {
        let purl = Purl::parse("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12")
            .unwrap();
        assert_eq!(purl.kind, "deb");
        assert_eq!(purl.namespace.as_deref(), Some("debian"));
        assert_eq!(purl.name, "libc6");
        assert_eq!(purl.version.as_deref(), Some("2.36-9+deb12u4"));
        assert_eq!(purl.qualifier("arch"), Some("amd64"));
        assert_eq!(purl.package_kind(), Some(PackageKind::Deb));

        let scoped = Purl::parse("pkg:npm/%40types/node@20.1.0").unwrap();
        assert_eq!(scoped.namespace.as_deref(), Some("@types"));
        assert_eq!(scoped.name, "node");

        let go = Purl::parse("pkg:golang/github.com/spf13/cobra@v1.8.0#sub").unwrap();
        assert_eq!(go.namespace.as_deref(), Some("github.com/spf13"));
        assert_eq!(go.version.as_deref(), Some("v1.8.0"));

        for bad in ["", "pkg:", "pkg:deb", "pkg:/x", "pkg:deb/", "npm/x"] {
            assert_eq!(Purl::parse(bad), None, "{bad}");
        }
        // Broken escapes are kept as written.
        let odd = Purl::parse("pkg:deb/%zz@%").unwrap();
        assert_eq!(
            (odd.name.as_str(), odd.version.as_deref()),
            ("%zz", Some("%"))
        );
    }

    #[test]
    fn image_purls() {
        let mut image = ImageInfo {
            reference: "nginx:1.27".into(),
            manifest_digest: Some("sha256:abc".into()),
            platform: Some("linux/amd64".into()),
            ..ImageInfo::default()
        };
        assert_eq!(
            image_purl(&image),
            "pkg:oci/nginx@sha256%3Aabc?arch=amd64&repository_url=docker.io/library/nginx&tag=1.27"
        );
        image.reference = "registry.example.com:5000/Shop/App@sha256:abc".into();
        image.platform = None;
        assert_eq!(
            image_purl(&image),
            "pkg:oci/app@sha256%3Aabc?repository_url=registry.example.com%3A5000/shop/app"
        );
        image.reference = "oci:/tmp/layouts/shop-app:v1".into();
        image.manifest_digest = None;
        assert_eq!(image_purl(&image), "pkg:oci/shop-app");
    }
}
