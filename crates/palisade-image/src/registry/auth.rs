//! Registry credentials and authentication challenges: `WWW-Authenticate` parsing (RFC 7235, as
//! Docker's registry client reads it) and the Docker CLI's `config.json` (`auths`, `credHelpers`,
//! `credsStore`).
//!
//! Credentials never reach a log line or an error message: [`Credentials`] prints redacted, and
//! errors name the registry and where the credentials came from, not what they are.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A user name and password (or token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// Where they came from (`--username`, `~/.docker/config.json`, `docker-credential-pass`), for
    /// error messages.
    pub origin: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Credentials {
    /// The `Authorization` header value for HTTP Basic.
    pub fn basic_header(&self) -> String {
        let pair = format!("{}:{}", self.username, self.password);
        format!("Basic {}", STANDARD.encode(pair))
    }
}

/// One challenge of a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lower case: `bearer`, `basic`.
    pub scheme: String,
    /// Parameter names lower case, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Parses every challenge of a `WWW-Authenticate` value. Malformed parts are skipped, never an
/// error: the caller decides what a missing challenge means.
pub fn parse_www_authenticate(header: &str) -> Vec<Challenge> {
    let mut cursor = Cursor {
        text: header,
        position: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip(|b| b == b',' || b.is_ascii_whitespace());
        let scheme = cursor.token();
        if scheme.is_empty() {
            // Not a token where a scheme must be: skip one byte's worth of garbage and go on, so
            // the loop always advances.
            if !cursor.skip_char() {
                break;
            }
            continue;
        }
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        loop {
            cursor.skip(|b| b == b' ' || b == b'\t');
            let start = cursor.position;
            let name = cursor.token();
            cursor.skip(|b| b == b' ' || b == b'\t');
            if name.is_empty() || !cursor.eat(b'=') {
                // A token without `=` starts the next challenge (or is a token68 credential).
                cursor.position = start;
                if name.is_empty() {
                    // token68 tail (`abc==`) or stray characters up to the next comma.
                    cursor.skip(|b| b != b',');
                }
                break;
            }
            if cursor.peek() == Some(b'=') {
                // token68 (`Basic abc==`): not parameters.
                cursor.skip(|b| b != b',');
                break;
            }
            cursor.skip(|b| b == b' ' || b == b'\t');
            let value = if cursor.peek() == Some(b'"') {
                cursor.quoted()
            } else {
                cursor.token().to_owned()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
            cursor.skip(|b| b == b' ' || b == b'\t');
            if !cursor.eat(b',') {
                break;
            }
        }
        challenges.push(challenge);
        if cursor.position >= cursor.text.len() {
            break;
        }
    }
    challenges
}

struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.position).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn skip(&mut self, mut while_: impl FnMut(u8) -> bool) {
        while self.peek().is_some_and(&mut while_) {
            self.position += 1;
        }
        self.align();
    }

    /// Moves past one character; false at the end.
    fn skip_char(&mut self) -> bool {
        match self
            .text
            .get(self.position..)
            .and_then(|s| s.chars().next())
        {
            Some(c) => {
                self.position += c.len_utf8();
                true
            }
            None => false,
        }
    }

    /// Keeps `position` on a character boundary: predicates look at bytes, and a multi-byte
    /// character's continuation bytes must not be split.
    fn align(&mut self) {
        while self.position < self.text.len() && !self.text.is_char_boundary(self.position) {
            self.position += 1;
        }
    }

    /// An RFC 7230 token; non-ASCII bytes are accepted as token characters so that a slice never
    /// ends inside a character.
    fn token(&mut self) -> &'a str {
        let start = self.position;
        self.skip(|b| {
            !b.is_ascii() || b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&b)
        });
        self.text.get(start..self.position).unwrap_or("")
    }

    /// A quoted string starting at `"`; backslash escapes the next character. An unterminated
    /// string runs to the end.
    fn quoted(&mut self) -> String {
        let mut value = String::new();
        let Some(rest) = self.text.get(self.position + 1..) else {
            self.position = self.text.len();
            return value;
        };
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.position += 1 + i + 1;
                    return value;
                }
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                _ => value.push(c),
            }
        }
        self.position = self.text.len();
        value
    }
}

/// The Docker CLI's configuration file: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty())?;
    Some(PathBuf::from(home).join(".docker").join("config.json"))
}

/// Credentials for `registry` (as written in references: `docker.io`, `r.example:5000`) from a
/// Docker config file. A missing file means none; an unreadable or malformed one is an error (the
/// user expects it to be used), which names the file, never its contents.
pub fn docker_config_credentials(
    config: &Path,
    registry: &str,
) -> Result<Option<Credentials>, String> {
    let text = match std::fs::read(config) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("{}: {error}", config.display())),
    };
    let document: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|error| format!("{}: not valid JSON: {error}", config.display()))?;
    let origin = config.display().to_string();
    lookup(&document, registry, &origin, &run_credential_helper)
}

type HelperRunner = dyn Fn(&str, &str) -> Result<Option<(String, String)>, String>;

fn lookup(
    document: &serde_json::Value,
    registry: &str,
    origin: &str,
    helper: &HelperRunner,
) -> Result<Option<Credentials>, String> {
    let names = config_keys(registry);
    // A per-registry helper wins over stored auths, as in the Docker CLI.
    if let Some(helpers) = document.get("credHelpers").and_then(|h| h.as_object()) {
        for (key, name) in helpers {
            if let Some(name) = name.as_str()
                && names.contains(&normalize_key(key))
            {
                return from_helper(helper, name, key);
            }
        }
    }
    if let Some(auths) = document.get("auths").and_then(|a| a.as_object()) {
        for (key, entry) in auths {
            if !names.contains(&normalize_key(key)) {
                continue;
            }
            if let Some(found) = auth_entry(entry, key, origin)? {
                return Ok(Some(found));
            }
        }
    }
    if let Some(store) = document.get("credsStore").and_then(|s| s.as_str())
        && !store.is_empty()
    {
        for server in names.iter().flat_map(|name| server_urls(name)) {
            if let Some(found) = from_helper(helper, store, &server)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

fn auth_entry(
    entry: &serde_json::Value,
    key: &str,
    origin: &str,
) -> Result<Option<Credentials>, String> {
    let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let origin = format!("{origin} (auths.\"{key}\")");
    let auth = field("auth");
    if !auth.is_empty() {
        let decoded = STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| format!("{origin}: `auth` is not base64 of `user:password`"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| format!("{origin}: `auth` is not base64 of `user:password`"))?;
        return Ok(Some(Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
            origin,
        }));
    }
    let (username, password) = (field("username"), field("password"));
    if !username.is_empty() {
        return Ok(Some(Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
            origin,
        }));
    }
    Ok(None)
}

fn from_helper(
    helper: &HelperRunner,
    name: &str,
    server: &str,
) -> Result<Option<Credentials>, String> {
    Ok(
        helper(name, server)?.map(|(username, password)| Credentials {
            username,
            password,
            origin: format!("docker-credential-{name}"),
        }),
    )
}

/// Runs `docker-credential-<name> get` as the Docker CLI does (server URL on stdin, JSON
/// `{Username, Secret}` on stdout). "Not found" and a missing helper mean no credentials.
fn run_credential_helper(name: &str, server: &str) -> Result<Option<(String, String)>, String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(format!("invalid credential helper name `{name}`"));
    }
    let program = format!("docker-credential-{name}");
    let mut child = match Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("{program}: {error}")),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is answered by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|error| format!("{program}: {error}"))?;
    if !output.status.success() {
        return Ok(None);
    }
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|_| format!("{program}: answer is not JSON"))?;
    let username = answer
        .get("Username")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let secret = answer.get("Secret").and_then(|v| v.as_str()).unwrap_or("");
    if username.is_empty() || username == "<token>" {
        // `<token>` marks an OAuth identity token, which needs a flow Palisade does not speak.
        return Ok(None);
    }
    Ok(Some((username.to_owned(), secret.to_owned())))
}

/// The names a registry may be stored under, normalized like [`normalize_key`].
fn config_keys(registry: &str) -> Vec<String> {
    let registry = registry.to_ascii_lowercase();
    if matches!(
        registry.as_str(),
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        vec![
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ]
    } else {
        vec![registry]
    }
}

/// URLs a credential store may hold a registry under.
fn server_urls(name: &str) -> Vec<String> {
    if name == "index.docker.io" {
        vec!["https://index.docker.io/v1/".into()]
    } else if name == "docker.io" || name == "registry-1.docker.io" {
        Vec::new()
    } else {
        vec![name.to_owned(), format!("https://{name}")]
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`: config keys may carry a scheme and a path.
fn normalize_key(key: &str) -> String {
    let key = key.trim();
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or("").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let challenges = parse_www_authenticate(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        );
        assert_eq!(challenges.len(), 1);
        let bearer = &challenges[0];
        assert_eq!(bearer.scheme, "bearer");
        assert_eq!(bearer.param("realm"), Some("https://auth.docker.io/token"));
        assert_eq!(bearer.param("service"), Some("registry.docker.io"));
        assert_eq!(bearer.param("scope"), Some("repository:library/nginx:pull"));
    }

    #[test]
    fn several_challenges_spacing_escapes_and_tokens() {
        let challenges = parse_www_authenticate(
            r#"Basic realm="a \"quoted\" realm", charset=UTF-8 , Bearer realm=http://t/token,error="insufficient_scope""#,
        );
        assert_eq!(challenges.len(), 2, "{challenges:?}");
        assert_eq!(challenges[0].scheme, "basic");
        assert_eq!(challenges[0].param("realm"), Some(r#"a "quoted" realm"#));
        assert_eq!(challenges[0].param("charset"), Some("UTF-8"));
        assert_eq!(challenges[1].param("realm"), Some("http://t/token"));
        assert_eq!(challenges[1].param("error"), Some("insufficient_scope"));

        let token68 = parse_www_authenticate("Negotiate abc==, Basic realm=x");
        assert_eq!(token68.len(), 2, "{token68:?}");
        assert_eq!(token68[1].param("realm"), Some("x"));
    }

    #[test]
    fn malformed_challenges_do_not_panic() {
        for header in [
            "",
            ",,,",
            "=",
            "Bearer realm=\"unterminated",
            "Bearer realm=\"x\\",
            "Bearer =x, ,=",
            "é",
            "Bearer réalm=é,",
            "\"",
        ] {
            let _ = parse_www_authenticate(header);
        }
        let unterminated = parse_www_authenticate("Bearer realm=\"https://x");
        assert_eq!(unterminated[0].param("realm"), Some("https://x"));
    }

    fn no_helper(_: &str, _: &str) -> Result<Option<(String, String)>, String> {
        Ok(None)
    }

    #[test]
    fn docker_config_auths() {
        let document = serde_json::json!({
            "auths": {
                "https://index.docker.io/v1/": {"auth": STANDARD.encode("hubuser:hub:pass")},
                "r.example:5000": {"username": "u", "password": "p"},
                "http://plain.example/v2/": {"auth": "not base64!"}
            }
        });
        let hub = lookup(&document, "docker.io", "cfg", &no_helper)
            .unwrap()
            .unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.as_str()),
            ("hubuser", "hub:pass")
        );
        let other = lookup(&document, "r.example:5000", "cfg", &no_helper)
            .unwrap()
            .unwrap();
        assert_eq!(other.username, "u");
        assert_eq!(other.password, "p");
        assert!(
            lookup(&document, "r.example", "cfg", &no_helper)
                .unwrap()
                .is_none()
        );
        let error = lookup(&document, "plain.example", "cfg", &no_helper).unwrap_err();
        assert!(error.contains("not base64"), "{error}");
        assert!(!error.contains("not base64!\""), "the value is not echoed");
    }

    #[test]
    fn credential_helpers_are_asked() {
        let document = serde_json::json!({
            "auths": {"r.example": {"auth": STANDARD.encode("stored:x")}},
            "credHelpers": {"r.example": "fake"},
            "credsStore": "store"
        });
        let helper = |name: &str, server: &str| -> Result<Option<(String, String)>, String> {
            Ok(Some((format!("{name}@{server}"), "secret".to_owned())))
        };
        let found = lookup(&document, "r.example", "cfg", &helper)
            .unwrap()
            .unwrap();
        assert_eq!(found.username, "fake@r.example");
        assert_eq!(found.origin, "docker-credential-fake");
        let store = lookup(&document, "other.example", "cfg", &helper)
            .unwrap()
            .unwrap();
        assert_eq!(store.username, "store@other.example");
    }

    #[test]
    fn credentials_debug_is_redacted() {
        let credentials = Credentials {
            username: "u".into(),
            password: "hunter2".into(),
            origin: "test".into(),
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
        assert_eq!(credentials.basic_header(), "Basic dTpodW50ZXIy");
    }
}
