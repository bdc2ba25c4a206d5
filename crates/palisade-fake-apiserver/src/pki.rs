//! The stand-in's certificates, generated at start: a cluster CA, the serving certificate it signs
//! (for `127.0.0.1`, `::1` and `localhost`) and client certificates for kubeconfig users, the way a
//! cluster's CA signs `admin.conf` and kubelet certificates.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};

/// A client certificate and its private key, PEM-encoded, for a kubeconfig user.
#[derive(Clone)]
pub struct ClientCertificate {
    pub certificate_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a credential: keep it out of test output.
        f.debug_struct("ClientCertificate")
            .field("certificate_pem", &self.certificate_pem)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivatePkcs8KeyDer<'static>,
    /// DER of every client certificate issued → the user it names.
    issued: Arc<Mutex<BTreeMap<Vec<u8>, String>>>,
}

fn tls_error(error: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("stand-in API server certificates: {error}"))
}

fn certificate_authority(common_name: &str) -> io::Result<CertifiedIssuer<'static, KeyPair>> {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().map_err(tls_error)?;
    CertifiedIssuer::self_signed(params, key).map_err(tls_error)
}

/// A CA that signed nothing the stand-in serves: a kubeconfig trusting only it fails verification.
pub(crate) fn unrelated_ca_pem() -> io::Result<String> {
    Ok(certificate_authority("unrelated-ca")?.pem())
}

impl Pki {
    pub fn generate() -> io::Result<Pki> {
        let ca = certificate_authority("kubernetes")?;
        let mut params = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "::1".to_string(),
            "localhost".to_string(),
            "kubernetes.default.svc".to_string(),
        ])
        .map_err(tls_error)?;
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate().map_err(tls_error)?;
        let certificate = params.signed_by(&key, &ca).map_err(tls_error)?;
        let server_key = PrivatePkcs8KeyDer::from(key.serialize_der());
        Ok(Pki {
            ca_pem: ca.pem(),
            server_chain: vec![certificate.der().clone(), ca.der().clone()],
            server_key,
            ca,
            issued: Arc::new(Mutex::new(BTreeMap::new())),
        })
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A client certificate for `user` (common name) in `groups` (organizations), as
    /// kube-apiserver's x509 authenticator reads them.
    pub fn issue_client_certificate(
        &self,
        user: &str,
        groups: &[&str],
    ) -> io::Result<ClientCertificate> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *group);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate().map_err(tls_error)?;
        let certificate = params.signed_by(&key, &self.ca).map_err(tls_error)?;
        self.issued
            .lock()
            .map_err(|_| tls_error("certificate registry poisoned"))?
            .insert(certificate.der().to_vec(), user.to_string());
        Ok(ClientCertificate {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// The user a verified client certificate was issued to.
    pub fn issued(&self) -> Arc<Mutex<BTreeMap<Vec<u8>, String>>> {
        Arc::clone(&self.issued)
    }

    /// TLS as kube-apiserver sets it up: client certificates signed by the cluster CA are accepted
    /// but not required (bearer tokens work without one).
    pub fn server_config(&self) -> io::Result<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).map_err(tls_error)?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(tls_error)?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                self.server_chain.clone(),
                PrivateKeyDer::Pkcs8(self.server_key.clone_key()),
            )
            .map_err(tls_error)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}
