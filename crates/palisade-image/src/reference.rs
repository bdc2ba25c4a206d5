//! Registry image references, parsed and normalized as Docker and containerd do
//! (`github.com/distribution/reference`, `ParseNormalizedNamed`): `nginx` is
//! `docker.io/library/nginx:latest`, `user/repo` is on Docker Hub, and the first path component is a
//! registry only when it looks like a host (has a `.` or a `:`, is `localhost`, or is not
//! lowercase — repositories never have upper case, so `Host.example/x` cannot be a repository).
//! One deliberate difference: `UPPER/x` (upper case, but no `.`, `:` or `localhost`) is reported
//! as a repository that must be lowercase rather than sent to a host named `UPPER`.

use std::fmt;

use crate::error::ImageError;

/// Docker Hub's name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// The host Docker Hub's registry API is served from. `index.docker.io` (the name Docker's
/// credential store uses) answers the v2 API too, but Docker and containerd talk to this one.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// Distribution's limit on the whole name (registry and repository).
const NAME_MAX: usize = 255;
const TAG_MAX: usize = 128;

/// A parsed registry reference: where the image is and which one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `docker.io`, `registry.example.com:5000`, `localhost`, `[::1]:5000`.
    pub registry: String,
    /// `library/nginx`, `a/b`.
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// `sha256:<64 hex>`; when set, the image is this manifest whatever the tag says.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `reference`; every error names it.
    pub fn parse(reference: &str) -> Result<Reference, ImageError> {
        parse(reference).map_err(|message| ImageError::Reference {
            reference: reference.to_owned(),
            message,
        })
    }

    /// The host (and port) the registry API is reached at.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }

    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What to ask the registry's manifest endpoint for: the digest when there is one (it pins
    /// the content), else the tag.
    pub fn manifest_reference(&self) -> &str {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest,
            (None, Some(tag)) => tag,
            (None, None) => "latest",
        }
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form: `docker.io/library/nginx:latest`, `r/a@sha256:…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The API host of a registry as written in references (`docker.io` → Docker Hub's API host).
pub fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB || registry == "index.docker.io" {
        DOCKER_HUB_API
    } else {
        registry
    }
}

/// Normalizes a registry name as references do (`index.docker.io` is `docker.io`).
pub fn normalize_registry(registry: &str) -> &str {
    if registry == "index.docker.io" || registry == DOCKER_HUB_API {
        DOCKER_HUB
    } else {
        registry
    }
}

fn parse(input: &str) -> Result<Reference, String> {
    if input.is_empty() {
        return Err("empty reference".to_owned());
    }
    let (rest, digest) = match input.split_once('@') {
        Some((name, digest)) => {
            validate_digest(digest)?;
            (name, Some(digest.to_owned()))
        }
        None => (input, None),
    };
    // A tag's `:` comes after the last `/`; an earlier one is the registry's port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let tag = &rest[last_slash + i + 1..];
            validate_tag(tag)?;
            (&rest[..last_slash + i], Some(tag.to_owned()))
        }
        None => (rest, None),
    };
    if name.is_empty() {
        return Err("missing repository name".to_owned());
    }
    let (registry, repository) = split_registry(name);
    if !registry.contains(['.', ':']) && registry != "localhost" && registry != DOCKER_HUB {
        // Docker would take an upper-case first component for a host; a single-label upper-case
        // host is far more likely a mistyped repository, so say what is wrong with it.
        return Err(format!("repository name `{name}` must be lowercase"));
    }
    validate_registry(registry)?;
    let registry = normalize_registry(registry).to_owned();
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository.to_owned()
    };
    validate_repository(&repository)?;
    // Distribution limits the normalized name (`docker.io/library/…` included).
    if registry.len() + 1 + repository.len() > NAME_MAX {
        return Err(format!("name is longer than {NAME_MAX} characters"));
    }
    if registry == DOCKER_HUB
        && repository.len() == 64 + "library/".len()
        && repository
            .strip_prefix("library/")
            .is_some_and(|id| id.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        // Docker refuses these too: a bare 64-hex string is an image ID, not a name.
        return Err(
            "a 64-character hexadecimal string is an image ID, not a repository".to_owned(),
        );
    }
    let tag = if tag.is_none() && digest.is_none() {
        Some("latest".to_owned())
    } else {
        tag
    };
    Ok(Reference {
        registry,
        repository,
        tag,
        digest,
    })
}

/// Splits off the registry the way Docker's `splitDockerDomain` does.
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    }
}

/// `host[:port]` where host is DNS labels (letters, digits, inner `-`) or a bracketed IPv6
/// address.
fn validate_registry(registry: &str) -> Result<(), String> {
    let invalid = || format!("invalid registry `{registry}`");
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (address, after) = rest.split_once(']').ok_or_else(invalid)?;
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(invalid());
        }
        match after {
            "" => (address, None),
            _ => (address, Some(after.strip_prefix(':').ok_or_else(invalid)?)),
        }
    } else {
        match registry.split_once(':') {
            Some((host, port)) => {
                validate_host(host).ok_or_else(invalid)?;
                (host, Some(port))
            }
            None => {
                validate_host(registry).ok_or_else(invalid)?;
                (registry, None)
            }
        }
    };
    let _ = host;
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid());
    }
    Ok(())
}

fn validate_host(host: &str) -> Option<()> {
    if host.is_empty() {
        return None;
    }
    for label in host.split('.') {
        let bytes = label.as_bytes();
        let first = bytes.first()?;
        let last = bytes.last()?;
        if !first.is_ascii_alphanumeric()
            || !last.is_ascii_alphanumeric()
            || !bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            return None;
        }
    }
    Some(())
}

/// Path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, joined by `/`.
fn validate_repository(repository: &str) -> Result<(), String> {
    for component in repository.split('/') {
        if component.is_empty() {
            return Err(format!(
                "repository `{repository}` has an empty path component"
            ));
        }
        if component.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("repository name `{repository}` must be lowercase"));
        }
        if !valid_path_component(component.as_bytes()) {
            return Err(format!(
                "invalid repository path component `{component}` (lowercase letters, digits and \
                 inner separators `.`, `_`, `__`, `-` only)"
            ));
        }
    }
    Ok(())
}

fn valid_path_component(component: &[u8]) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        // One run of [a-z0-9]+.
        let start = i;
        while component.get(i).is_some_and(alnum) {
            i += 1;
        }
        if i == start {
            return false;
        }
        let Some(&separator) = component.get(i) else {
            return true;
        };
        // Then a separator: `.`, `_`, `__` or `-+`.
        match separator {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if component.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while component.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `[\w][\w.-]{0,127}`.
fn validate_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    let valid = bytes.first().is_some_and(|b| word(*b))
        && bytes.len() <= TAG_MAX
        && bytes.iter().all(|b| word(*b) || *b == b'.' || *b == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid tag `{tag}` (letters, digits, `_`, `.`, `-`, not starting with `.` or `-`, at \
             most {TAG_MAX} characters)"
        ))
    }
}

/// A content digest Palisade can verify: `sha256:<64 lowercase hex>` or `sha512:<128>`.
pub fn validate_digest(digest: &str) -> Result<(), String> {
    let hex_len = match digest.split_once(':') {
        Some(("sha256", hex)) => (hex, 64),
        Some(("sha512", hex)) => (hex, 128),
        Some((algorithm, _)) => {
            return Err(format!(
                "unsupported digest algorithm `{algorithm}` (sha256 or sha512)"
            ));
        }
        None => {
            return Err(format!(
                "invalid digest `{digest}` (expected `sha256:<hex>`)"
            ));
        }
    };
    let (hex, len) = hex_len;
    if hex.len() != len
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "invalid digest `{digest}` (expected {len} lowercase hexadecimal digits)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parsed(input: &str) -> (String, String, Option<String>, Option<String>) {
        let reference = Reference::parse(input).unwrap();
        (
            reference.registry,
            reference.repository,
            reference.tag,
            reference.digest,
        )
    }

    fn some(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn official_image_is_on_docker_hub_library() {
        let reference = Reference::parse("nginx").unwrap();
        assert_eq!(reference.to_string(), "docker.io/library/nginx:latest");
        assert_eq!(reference.api_host(), DOCKER_HUB_API);
        assert_eq!(reference.manifest_reference(), "latest");
    }

    #[test]
    fn user_repository_with_tag() {
        assert_eq!(
            parsed("user/repo:1.2-rc_3"),
            (
                "docker.io".into(),
                "user/repo".into(),
                some("1.2-rc_3"),
                None
            )
        );
        assert_eq!(
            parsed("index.docker.io/user/repo").0,
            "docker.io",
            "index.docker.io is Docker Hub"
        );
        assert_eq!(parsed("docker.io/nginx").1, "library/nginx");
    }

    #[test]
    fn registry_with_port_and_nested_path() {
        assert_eq!(
            parsed("registry.example.com:5000/a/b:tag"),
            (
                "registry.example.com:5000".into(),
                "a/b".into(),
                some("tag"),
                None
            )
        );
        // Without a tag, the port is not mistaken for one.
        assert_eq!(
            parsed("registry.example.com:5000/a/b"),
            (
                "registry.example.com:5000".into(),
                "a/b".into(),
                some("latest"),
                None
            )
        );
    }

    #[test]
    fn digest_with_and_without_tag() {
        let by_digest = Reference::parse(&format!("nginx@{DIGEST}")).unwrap();
        assert_eq!(by_digest.tag, None);
        assert_eq!(by_digest.digest.as_deref(), Some(DIGEST));
        assert_eq!(by_digest.manifest_reference(), DIGEST);
        assert_eq!(
            by_digest.to_string(),
            format!("docker.io/library/nginx@{DIGEST}")
        );

        let both = Reference::parse(&format!("r.example:5000/a:1.0@{DIGEST}")).unwrap();
        assert_eq!(both.tag.as_deref(), Some("1.0"));
        assert_eq!(both.manifest_reference(), DIGEST, "the digest wins");
        assert_eq!(both.registry, "r.example:5000");
    }

    #[test]
    fn localhost_and_addresses_are_registries() {
        assert_eq!(
            parsed("localhost/x"),
            ("localhost".into(), "x".into(), some("latest"), None)
        );
        assert_eq!(parsed("localhost:5000/x:1").0, "localhost:5000");
        assert_eq!(parsed("127.0.0.1:5000/x").0, "127.0.0.1:5000");
        assert_eq!(parsed("[::1]:5000/x").0, "[::1]:5000");
        assert_eq!(parsed("[::1]/x").0, "[::1]");
        // Upper case cannot be a repository, so it is a host when it looks like one.
        assert_eq!(parsed("My.Host/x").0, "My.Host");
        // Without a dot, colon or `localhost`, the first component is a repository path.
        assert_eq!(parsed("myhost/x").0, "docker.io");
    }

    #[test]
    fn separators_in_repository_components() {
        for ok in ["a.b/c_d", "a__b/c-d", "a---b", "x9/0y"] {
            Reference::parse(ok).unwrap();
        }
    }

    #[test]
    fn bad_references_are_rejected_naming_the_input() {
        let cases = [
            ("", "empty"),
            ("UPPER/case:tag", "lowercase"),
            ("nginx:", "invalid tag"),
            ("nginx:.bad", "invalid tag"),
            ("nginx:bad/tag", "invalid registry"),
            ("nginx@sha256:abc", "64 lowercase"),
            ("nginx@md5:0123", "unsupported digest"),
            ("nginx@sha256", "invalid digest"),
            ("a//b", "empty path component"),
            ("-a", "invalid repository path component"),
            ("a-", "invalid repository path component"),
            ("a___b", "invalid repository path component"),
            ("a..b", "invalid repository path component"),
            ("bad_host.com:5000x/a", "invalid registry"),
            ("-bad.com/a", "invalid registry"),
            ("[zz]:5/a", "invalid registry"),
            ("registry.example.com/", "empty path component"),
            (":tag", "missing repository"),
        ];
        for (input, expected) in cases {
            let error = Reference::parse(input).unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, ImageError::Reference { .. }), "{input}");
            assert!(text.contains(expected), "{input:?}: {text}");
            assert!(text.contains(&format!("`{input}`")), "{text}");
        }
        let long_tag = format!("nginx:{}", "a".repeat(129));
        assert!(Reference::parse(&long_tag).is_err());
        assert!(Reference::parse(&format!("nginx:{}", "a".repeat(128))).is_ok());
        let long_name = format!("r.example/{}", "a".repeat(250));
        assert!(Reference::parse(&long_name).is_err());
        // The limit applies to the normalized name: `docker.io/library/` counts.
        assert!(Reference::parse(&"a".repeat(240)).is_err());
        assert!(Reference::parse(&"a".repeat(237)).is_ok());
        let image_id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert!(Reference::parse(image_id).is_err());
    }

    #[test]
    fn non_ascii_input_does_not_panic() {
        for input in ["né/x:é", "ü", "r.example/a:é", "a@é", "[::1]:é/a", "é:1/a"] {
            assert!(Reference::parse(input).is_err(), "{input}");
        }
    }
}
