//! Where alerts go. File and stdout sinks write synchronously (a local write either works or
//! fails at once); network sinks are [`Transport`]s driven by a delivery thread ([`worker`]) that
//! reads from the sink's spool.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use palisade_core::Alert;

pub mod file;
pub(crate) mod http;
pub mod splunk;
pub mod syslog;
pub mod webhook;
pub(crate) mod worker;

/// Why a delivery attempt did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The sink is unreachable or busy: the same alerts are tried again later (`after`: what the
    /// sink asked for with `Retry-After`). The reason is already free of secrets.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// The sink refused the alerts themselves (HTTP 400, 413, 422...): trying again cannot help.
    Rejected { reason: String },
}

/// A network sink's way of sending a batch of alerts. Every alert of `alerts` is delivered when it
/// returns `Ok`; on error none is considered delivered (the batch is retried whole, so a sink may
/// see an alert twice, never zero times).
pub trait Transport: Send {
    fn deliver(&mut self, alerts: &[Alert]) -> Result<(), DeliveryError>;

    /// How many alerts one `deliver` call may carry.
    fn max_batch(&self) -> usize {
        1
    }
}

/// TLS client settings: the Mozilla roots (the same everywhere, no dependence on the host's
/// store) plus the user's CA file for a private SIEM.
pub(crate) fn client_tls(ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut added = 0;
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|error| format!("CA file {}: {error}", path.display()))?;
        for certificate in certificates {
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

/// `scheme://host:port` of a URL: webhook URLs often carry their secret in the path or query
/// (Slack, Teams), and userinfo is a password, so errors name only the origin.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_the_origin() {
        assert_eq!(
            redact_url("https://user:pw@hooks.example.com:8443/services/T0/B0/secret?x=1"),
            "https://hooks.example.com:8443"
        );
        assert_eq!(redact_url("http://h/x#frag"), "http://h");
        assert_eq!(redact_url("host-only"), "host-only");
    }

    #[test]
    fn ca_file_errors_are_reported() {
        let missing = Path::new("/nonexistent/palisade-ca.pem");
        let error = client_tls(Some(missing)).unwrap_err();
        assert!(
            error.contains("CA file /nonexistent/palisade-ca.pem"),
            "{error}"
        );
        assert!(client_tls(None).is_ok());
    }
}
