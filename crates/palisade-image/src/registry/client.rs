//! One registry's HTTP client: scheme choice (HTTPS, plain HTTP only where allowed), the
//! authentication dance (anonymous → challenge → Basic or Bearer token), retries of transient
//! failures, redirects to blob storage, and error messages that name the registry and reference
//! with the registry's own explanation.

use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use url::Url;

use super::RegistryOptions;
use super::auth::{Challenge, Credentials, parse_www_authenticate};
use crate::error::ImageError;

/// Attempts per request for transient failures (429, 5xx, connection errors and timeouts).
const ATTEMPTS: u32 = 4;
/// First backoff; doubled per attempt.
const BACKOFF: Duration = Duration::from_millis(500);
/// Longest `Retry-After` Palisade waits; a registry asking for more gets an error saying so.
const RETRY_AFTER_MAX: Duration = Duration::from_secs(60);
const REDIRECTS_MAX: usize = 5;
/// Error bodies are read for their message only.
const ERROR_BODY_MAX: u64 = 64 << 10;
const TOKEN_BODY_MAX: u64 = 1 << 20;

/// Where a request goes and what it is for (error messages name `reference`).
pub(crate) struct Target<'a> {
    /// Path and query below the registry root (`/v2/a/b/manifests/1.0`) or an absolute URL on the
    /// registry (pagination links).
    pub path: &'a str,
    /// Token scope (`repository:a/b:pull`, `registry:catalog:*`).
    pub scope: &'a str,
    pub reference: &'a str,
}

pub(crate) struct Client {
    /// The registry as the user named it (`docker.io`), for messages and credential lookup.
    pub registry: String,
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`.
    base: Url,
    agent: ureq::Agent,
    credentials: Option<Credentials>,
    insecure: Vec<String>,
    state: Mutex<AuthState>,
}

#[derive(Default)]
struct AuthState {
    /// The registry asked for Basic: send credentials on every request.
    basic: bool,
    /// Bearer tokens by scope.
    tokens: HashMap<String, String>,
}

/// The outcome of one exchange that did not fail at the transport level.
pub(crate) struct Answer {
    pub response: ureq::Response,
    /// The URL that finally answered (after redirects).
    pub url: Url,
}

impl Client {
    pub fn new(
        registry: &str,
        host: &str,
        options: &RegistryOptions,
    ) -> Result<Client, ImageError> {
        let fail = |message: String| ImageError::Registry {
            registry: registry.to_owned(),
            reference: String::new(),
            status: None,
            message,
        };
        let tls = tls_config(options).map_err(fail)?;
        let timeout = options.timeout.unwrap_or(Duration::from_secs(60));
        let agent = ureq::AgentBuilder::new()
            .tls_config(tls)
            .redirects(0)
            .timeout_connect(timeout.min(Duration::from_secs(30)))
            .timeout_read(timeout)
            .timeout_write(timeout)
            .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
            .build();
        let credentials = match (&options.username, &options.password) {
            (Some(username), password) => Some(Credentials {
                username: username.clone(),
                password: password.clone().unwrap_or_default(),
                origin: "--username".to_owned(),
            }),
            (None, _) => {
                let config = options
                    .docker_config
                    .clone()
                    .or_else(super::auth::docker_config_path);
                match config {
                    Some(config) => {
                        super::auth::docker_config_credentials(&config, registry).map_err(fail)?
                    }
                    None => None,
                }
            }
        };
        let https = Url::parse(&format!("https://{host}/"))
            .map_err(|error| fail(format!("invalid registry host `{host}`: {error}")))?;
        let mut client = Client {
            registry: registry.to_owned(),
            base: https,
            agent,
            credentials,
            insecure: options.insecure.clone(),
            state: Mutex::new(AuthState::default()),
        };
        if client.plain_allowed(&client.base) {
            client.choose_scheme()?;
        }
        Ok(client)
    }

    /// For hosts where plain HTTP is allowed, Docker's rule: HTTPS if it answers, else HTTP.
    fn choose_scheme(&mut self) -> Result<(), ImageError> {
        let probe = self
            .base
            .join("/v2/")
            .map_err(|error| self.error("", None, error.to_string()))?;
        match self.agent.request_url("GET", &probe).call() {
            Ok(_) | Err(ureq::Error::Status(..)) => Ok(()),
            Err(ureq::Error::Transport(_)) => {
                let mut plain = self.base.clone();
                plain
                    .set_scheme("http")
                    .map_err(|()| self.error("", None, "cannot use plain HTTP".to_owned()))?;
                self.base = plain;
                Ok(())
            }
        }
    }

    pub fn error(&self, reference: &str, status: Option<u16>, message: String) -> ImageError {
        ImageError::Registry {
            registry: self.registry.clone(),
            reference: reference.to_owned(),
            status,
            message,
        }
    }

    fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    /// Plain HTTP is for loopback and the registries the user named insecure, nothing else.
    fn plain_allowed(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = bare.eq_ignore_ascii_case("localhost")
            || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        let with_port = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        loopback
            || self.insecure.iter().any(|entry| {
                let entry = entry.trim().to_ascii_lowercase();
                entry == with_port.to_ascii_lowercase() || entry == host.to_ascii_lowercase()
            })
    }

    /// GET with the registry's authentication; any non-2xx answer becomes an error naming
    /// `target.reference`.
    pub fn get(&self, target: &Target<'_>, headers: &[(&str, &str)]) -> Result<Answer, ImageError> {
        let url = self.url(target)?;
        let mut renewed = false;
        loop {
            let authorization = self.authorization(target.scope);
            let answer =
                self.exchange(&url, headers, authorization.as_deref(), target.reference)?;
            let status = answer.response.status();
            if status == 401 && !renewed {
                let challenges: Vec<Challenge> = answer
                    .response
                    .all("www-authenticate")
                    .into_iter()
                    .flat_map(parse_www_authenticate)
                    .collect();
                if self.authenticate(&challenges, target)? {
                    renewed = true;
                    continue;
                }
            }
            if (200..300).contains(&status) {
                return Ok(answer);
            }
            return Err(self.status_error(
                answer.response,
                target.reference,
                authorization.is_some(),
            ));
        }
    }

    fn url(&self, target: &Target<'_>) -> Result<Url, ImageError> {
        let url = self
            .base
            .join(target.path)
            .map_err(|error| self.error(target.reference, None, format!("bad URL: {error}")))?;
        if !self.same_origin(&url) {
            return Err(self.error(
                target.reference,
                None,
                format!("refusing to follow a link to another server: {url}"),
            ));
        }
        Ok(url)
    }

    fn authorization(&self, scope: &str) -> Option<String> {
        let state = self.state.lock().ok()?;
        if let Some(token) = state.tokens.get(scope) {
            return Some(format!("Bearer {token}"));
        }
        if state.basic {
            return self.credentials.as_ref().map(Credentials::basic_header);
        }
        None
    }

    /// Answers a 401's challenges; false when nothing more can be tried.
    fn authenticate(
        &self,
        challenges: &[Challenge],
        target: &Target<'_>,
    ) -> Result<bool, ImageError> {
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            let token = self.fetch_token(bearer, target)?;
            if let Ok(mut state) = self.state.lock() {
                state.tokens.insert(target.scope.to_owned(), token);
            }
            return Ok(true);
        }
        if challenges.iter().any(|c| c.scheme == "basic") && self.credentials.is_some() {
            let mut state = self
                .state
                .lock()
                .map_err(|_| self.error(target.reference, None, "client state poisoned".into()))?;
            if !state.basic {
                state.basic = true;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The token flow: GET the realm with `service` and `scope` (Basic credentials when known),
    /// answer `{"token"}` or `{"access_token"}`.
    fn fetch_token(
        &self,
        challenge: &Challenge,
        target: &Target<'_>,
    ) -> Result<String, ImageError> {
        let realm = challenge.param("realm").ok_or_else(|| {
            self.error(
                target.reference,
                Some(401),
                "Bearer challenge without a realm".into(),
            )
        })?;
        let mut url = Url::parse(realm).map_err(|error| {
            self.error(
                target.reference,
                Some(401),
                format!("invalid token realm `{realm}`: {error}"),
            )
        })?;
        if url.scheme() != "https" && !(url.scheme() == "http" && self.plain_allowed(&url)) {
            return Err(self.error(
                target.reference,
                Some(401),
                format!("token realm `{realm}` is not HTTPS (allowed only for loopback and --insecure-registry hosts)"),
            ));
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = challenge.param("service") {
                query.append_pair("service", service);
            }
            // The registry's scope says exactly what it wants; several are space-separated and go
            // as separate parameters, as Docker sends them.
            let scope = challenge.param("scope").unwrap_or(target.scope);
            for scope in scope.split(' ').filter(|s| !s.is_empty()) {
                query.append_pair("scope", scope);
            }
        }
        let basic = self.credentials.as_ref().map(Credentials::basic_header);
        let answer = self.exchange(&url, &[], basic.as_deref(), target.reference)?;
        let status = answer.response.status();
        if !(200..300).contains(&status) {
            let detail = error_message(answer.response);
            let who = match &self.credentials {
                Some(credentials) => format!("credentials from {} were rejected", credentials.origin),
                None => "anonymous access was refused (log in, or pass --username with --password-stdin)".to_owned(),
            };
            return Err(self.error(
                target.reference,
                Some(status),
                format!(
                    "token server {} answered HTTP {status}{detail}: {who}",
                    host_of(&url)
                ),
            ));
        }
        let mut body = Vec::new();
        answer
            .response
            .into_reader()
            .take(TOKEN_BODY_MAX)
            .read_to_end(&mut body)
            .map_err(|error| {
                self.error(target.reference, None, format!("reading token: {error}"))
            })?;
        let document: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
            self.error(
                target.reference,
                None,
                "token server answer is not JSON".into(),
            )
        })?;
        ["token", "access_token"]
            .iter()
            .filter_map(|key| document.get(*key).and_then(|v| v.as_str()))
            .find(|token| !token.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                self.error(
                    target.reference,
                    None,
                    "token server answer has no token".into(),
                )
            })
    }

    /// One request, retried on transient failures and following redirects. Returns the final
    /// answer whatever its status; fails only when the server could not be reached or kept
    /// failing.
    pub fn exchange(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        authorization: Option<&str>,
        reference: &str,
    ) -> Result<Answer, ImageError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (wait, last) = match self.follow(url, headers, authorization, reference) {
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Transport(message)) => (backoff(attempt), Err(message)),
                Ok(answer) => {
                    let status = answer.response.status();
                    let asked = retry_after(&answer.response);
                    if status == 429 {
                        if let Some(wait) = asked.filter(|wait| *wait > RETRY_AFTER_MAX) {
                            return Err(self.error(
                                reference,
                                Some(429),
                                format!(
                                    "rate limited (HTTP 429{}); the registry asks to retry after {} s",
                                    error_message(answer.response),
                                    wait.as_secs()
                                ),
                            ));
                        }
                        (asked.unwrap_or_else(|| backoff(attempt)), Ok(answer))
                    } else if retryable_status(status) {
                        let wait = asked.unwrap_or_else(|| backoff(attempt));
                        (wait.min(RETRY_AFTER_MAX), Ok(answer))
                    } else {
                        return Ok(answer);
                    }
                }
            };
            if attempt >= ATTEMPTS {
                return Err(match last {
                    // Still failing after every retry: report what the registry said last.
                    Ok(answer) => {
                        let status = answer.response.status();
                        let detail = error_message(answer.response);
                        self.error(
                            reference,
                            Some(status),
                            format!("HTTP {status}{detail} after {ATTEMPTS} attempts"),
                        )
                    }
                    Err(message) => self.error(
                        reference,
                        None,
                        format!("{message} (after {ATTEMPTS} attempts)"),
                    ),
                });
            }
            // The failed answer is dropped before waiting: its connection is not reused.
            drop(last);
            std::thread::sleep(wait);
        }
    }

    /// One attempt: the request and up to [`REDIRECTS_MAX`] redirects. Authorization goes only
    /// to the registry itself, never to the storage a blob is redirected to.
    fn follow(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        authorization: Option<&str>,
        reference: &str,
    ) -> Result<Answer, Failure> {
        let mut url = url.clone();
        let origin_host = (
            url.host_str().map(str::to_owned),
            url.port_or_known_default(),
        );
        for _ in 0..=REDIRECTS_MAX {
            if url.scheme() != "https" && !(url.scheme() == "http" && self.plain_allowed(&url)) {
                return Err(Failure::Fatal(self.error(
                    reference,
                    None,
                    format!(
                        "refusing plain HTTP to {} (allowed only for loopback and --insecure-registry hosts)",
                        host_of(&url)
                    ),
                )));
            }
            let mut request = self.agent.request_url("GET", &url);
            for (name, value) in headers {
                request = request.set(name, value);
            }
            let same_host = (
                url.host_str().map(str::to_owned),
                url.port_or_known_default(),
            ) == origin_host;
            if let Some(authorization) = authorization
                && same_host
            {
                request = request.set("Authorization", authorization);
            }
            let response = match request.call() {
                Ok(response) | Err(ureq::Error::Status(_, response)) => response,
                Err(ureq::Error::Transport(transport)) => {
                    return Err(Failure::Transport(transport_message(&transport)));
                }
            };
            let status = response.status();
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Ok(Answer { response, url });
            }
            let Some(location) = response.header("location") else {
                return Ok(Answer { response, url });
            };
            url = url.join(location).map_err(|error| {
                Failure::Fatal(self.error(
                    reference,
                    Some(status),
                    format!("bad redirect: {error}"),
                ))
            })?;
        }
        Err(Failure::Fatal(self.error(
            reference,
            None,
            format!("more than {REDIRECTS_MAX} redirects"),
        )))
    }

    /// The error for a non-2xx answer: status, the registry's own message, and for 401/403 what
    /// was tried (never the credentials themselves).
    fn status_error(
        &self,
        response: ureq::Response,
        reference: &str,
        sent_auth: bool,
    ) -> ImageError {
        let status = response.status();
        let text = response.status_text().to_owned();
        let detail = error_message(response);
        let hint = match status {
            401 | 403 => match (&self.credentials, sent_auth) {
                (Some(credentials), true) => {
                    format!(": credentials from {} were rejected", credentials.origin)
                }
                (Some(credentials), false) => format!(
                    ": authentication failed (credentials from {} were not accepted for this registry)",
                    credentials.origin
                ),
                (None, _) => {
                    ": authentication required (log in, or pass --username with --password-stdin)"
                        .to_owned()
                }
            },
            404 => ": not found".to_owned(),
            _ => String::new(),
        };
        self.error(
            reference,
            Some(status),
            format!("HTTP {status} {text}{detail}{hint}"),
        )
    }
}

pub(crate) enum Failure {
    /// Connection refused/reset, timeout, TLS failure: worth retrying.
    Transport(String),
    /// Nothing to retry (a refused redirect, too many redirects).
    Fatal(ImageError),
}

fn retryable_status(status: u16) -> bool {
    (500..600).contains(&status) && status != 501 && status != 505
}

fn backoff(attempt: u32) -> Duration {
    BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1).min(5))
}

/// `Retry-After`: delay seconds or an HTTP date.
fn retry_after(response: &ureq::Response) -> Option<Duration> {
    let value = response.header("retry-after")?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// ` (MANIFEST_UNKNOWN: manifest unknown)` from the registry's error JSON
/// (`{"errors":[{"code","message"}]}`), or nothing. Bounded, and stripped of control characters
/// so a hostile registry cannot forge terminal output.
pub(crate) fn error_message(response: ureq::Response) -> String {
    let mut body = Vec::new();
    if response
        .into_reader()
        .take(ERROR_BODY_MAX)
        .read_to_end(&mut body)
        .is_err()
    {
        return String::new();
    }
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return String::new();
    };
    let Some(first) = document.get("errors").and_then(|e| e.get(0)) else {
        return String::new();
    };
    let field = |name: &str| first.get(name).and_then(|v| v.as_str()).unwrap_or("");
    let (code, message) = (clean(field("code")), clean(field("message")));
    match (code.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" ({code})"),
        (true, false) => format!(" ({message})"),
        (false, false) => format!(" ({code}: {message})"),
    }
}

fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => url.scheme().to_owned(),
    }
}

fn transport_message(transport: &ureq::Transport) -> String {
    // ureq's message names the URL (never a credential: those travel in headers only).
    transport.to_string()
}

/// TLS: the Mozilla roots Palisade ships (no dependence on the host's store, so results are the
/// same everywhere), plus the user's CA file for private registries.
fn tls_config(options: &RegistryOptions) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &options.ca_file {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut added = 0;
        for certificate in CertificateDer::pem_file_iter(path)
            .map_err(|error| format!("CA file {}: {error}", path.display()))?
        {
            let certificate =
                certificate.map_err(|error| format!("CA file {}: {error}", path.display()))?;
            roots
                .add(certificate)
                .map_err(|error| format!("CA file {}: {error}", path.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!(
                "CA file {}: no PEM certificate in it",
                path.display()
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS setup: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(100), Duration::from_secs(16));
    }

    #[test]
    fn transient_statuses() {
        for status in [500, 502, 503, 504, 599] {
            assert!(retryable_status(status), "{status}");
        }
        for status in [200, 400, 401, 404, 429, 501, 505] {
            assert!(!retryable_status(status), "{status}");
        }
    }

    #[test]
    fn control_characters_are_stripped_from_registry_messages() {
        assert_eq!(clean("a\x1b[31mb\nc"), "a[31mbc");
        assert_eq!(clean(&"x".repeat(1000)).len(), 300);
    }

    #[test]
    fn plain_http_only_for_loopback_and_named_hosts() {
        let options = RegistryOptions {
            insecure: vec!["plain.example:5000".into(), "bare.example".into()],
            ..RegistryOptions::default()
        };
        let client = Client {
            registry: "r".into(),
            base: Url::parse("https://r.example/").unwrap(),
            agent: ureq::Agent::new(),
            credentials: None,
            insecure: options.insecure.clone(),
            state: Mutex::default(),
        };
        let allowed = |url: &str| client.plain_allowed(&Url::parse(url).unwrap());
        assert!(allowed("http://127.0.0.1:5000/v2/"));
        assert!(allowed("http://127.8.9.10/v2/"));
        assert!(allowed("http://[::1]:5000/v2/"));
        assert!(allowed("http://localhost:5000/v2/"));
        assert!(allowed("http://plain.example:5000/v2/"));
        assert!(
            allowed("http://bare.example:7000/v2/"),
            "a bare host allows any port"
        );
        assert!(!allowed("http://plain.example:5001/v2/"));
        assert!(!allowed("http://r.example/v2/"));
        assert!(!allowed("http://10.0.0.1/v2/"));
        assert!(!allowed("http://localhost.evil.example/v2/"));
    }
}
