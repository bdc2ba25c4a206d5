//! The serving certificate, reloadable. cert-manager and Kubernetes secret volumes replace the files
//! in place (a symlink swap); the server rereads them on a timer or on request and hands new TLS
//! handshakes the new certificate, while connections already established keep the one they were
//! opened with. A new pair that does not parse or whose key does not match the certificate is
//! rejected and the previous pair stays in use, so a half-written rotation never takes the webhook
//! down.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Where the serving certificate chain and its private key live (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: no PEM certificate found")]
    NoCertificate { path: PathBuf },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("{cert} and {key} do not form a usable pair: {message}")]
    Pair {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn read(path: &Path) -> Result<Vec<u8>, CertificateError> {
    std::fs::read(path).map_err(|e| CertificateError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn certified_key(
    files: &TlsFiles,
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> Result<CertifiedKey, CertificateError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertificateError::Pem {
            path: files.cert.clone(),
            message: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(CertificateError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| CertificateError::Pem {
        path: files.key.clone(),
        message: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| CertificateError::Pair {
        cert: files.cert.clone(),
        key: files.key.clone(),
        message: e.to_string(),
    })
}

/// The bytes last read from the files and what became of them, so an unchanged (good or broken)
/// pair is neither reloaded nor counted again on every poll.
struct Seen {
    cert: Vec<u8>,
    key: Vec<u8>,
    error: Option<CertificateError>,
}

/// The current serving certificate, handed to every new TLS handshake.
pub(crate) struct CertificateStore {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    seen: Mutex<Seen>,
}

impl std::fmt::Debug for CertificateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateStore")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl CertificateStore {
    pub(crate) fn load(files: TlsFiles) -> Result<CertificateStore, CertificateError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cert = read(&files.cert)?;
        let key = read(&files.key)?;
        let current = certified_key(&files, &cert, &key, &provider)?;
        Ok(CertificateStore {
            files,
            provider,
            current: RwLock::new(Arc::new(current)),
            seen: Mutex::new(Seen {
                cert,
                key,
                error: None,
            }),
        })
    }

    /// Rereads the files. `Ok(true)`: a new certificate is now served; `Ok(false)`: the files did not
    /// change; `Err`: the files hold a pair that cannot be used (the previous certificate stays). The
    /// error of an unchanged broken pair is returned again, but `is_new` tells the caller whether to
    /// log and count it.
    pub(crate) fn reload(&self) -> Result<bool, (CertificateError, bool)> {
        let read_both = read(&self.files.cert).and_then(|c| Ok((c, read(&self.files.key)?)));
        // Unreadable files (mid-rotation, or removed) are always worth reporting: nothing was seen.
        let (cert, key) = read_both.map_err(|e| (e, true))?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.cert == cert && seen.key == key {
            return match &seen.error {
                None => Ok(false),
                Some(error) => Err((error.clone(), false)),
            };
        }
        let outcome = certified_key(&self.files, &cert, &key, &self.provider);
        seen.cert = cert;
        seen.key = key;
        match outcome {
            Ok(new) => {
                seen.error = None;
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
                Ok(true)
            }
            Err(error) => {
                seen.error = Some(error.clone());
                Err((error, true))
            }
        }
    }

    /// The rustls configuration resolving through this store (HTTP/2 and HTTP/1.1 offered: the API
    /// server speaks either).
    pub(crate) fn server_config(
        self: &Arc<Self>,
    ) -> Result<rustls::ServerConfig, CertificateError> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| CertificateError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for CertificateStore {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(|e| e.into_inner()),
        ))
    }
}
