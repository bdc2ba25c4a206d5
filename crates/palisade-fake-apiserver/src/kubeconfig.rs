//! Kubeconfig files pointing at the stand-in, for each way `kubectl` authenticates.

use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// How the kubeconfig user authenticates.
#[derive(Clone)]
pub enum Credentials {
    /// `token:` (a static bearer token, as service-account kubeconfigs carry).
    Token(String),
    /// `client-certificate-data` / `client-key-data` for a certificate issued to this user.
    ClientCertificateData { user: String },
    /// `client-certificate` / `client-key` files written next to the kubeconfig.
    ClientCertificateFiles { user: String },
    /// An `exec` credential plugin (a shell script, like `aws eks get-token`) that prints an
    /// `ExecCredential` holding this token.
    Exec { token: String },
    /// No credentials at all.
    None,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are credentials: name the kind only.
        match self {
            Credentials::Token(_) => f.write_str("Token(..)"),
            Credentials::ClientCertificateData { user } => {
                write!(f, "ClientCertificateData {{ user: {user:?} }}")
            }
            Credentials::ClientCertificateFiles { user } => {
                write!(f, "ClientCertificateFiles {{ user: {user:?} }}")
            }
            Credentials::Exec { .. } => f.write_str("Exec { .. }"),
            Credentials::None => f.write_str("None"),
        }
    }
}

/// Which certificate authority the kubeconfig trusts for the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// `certificate-authority-data` with the stand-in's CA.
    CaData,
    /// `certificate-authority` naming a file with the stand-in's CA.
    CaFile,
    /// `certificate-authority-data` with a CA that did not sign the server's certificate.
    UnrelatedCa,
}

/// A kubeconfig to write with [`crate::FakeApiServer::write_kubeconfig`].
#[derive(Debug, Clone)]
pub struct Kubeconfig {
    pub cluster: String,
    pub context: String,
    pub user: String,
    pub credentials: Credentials,
    pub trust: Trust,
    /// The server URL; `None` for the stand-in's own.
    pub server: Option<String>,
    /// More contexts (name → cluster) sharing the same cluster entry layout, to test `--context`.
    pub extra_contexts: Vec<(String, String)>,
}

impl Kubeconfig {
    /// Cluster and context `shop`, the recorded cluster, user `admin` authenticated by `credentials`.
    pub fn new(credentials: Credentials) -> Kubeconfig {
        Kubeconfig {
            cluster: "shop".to_string(),
            context: "shop".to_string(),
            user: "admin".to_string(),
            credentials,
            trust: Trust::CaData,
            server: None,
            extra_contexts: Vec::new(),
        }
    }

    pub fn token(token: &str) -> Kubeconfig {
        Kubeconfig::new(Credentials::Token(token.to_string()))
    }

    pub fn named(mut self, cluster: &str, context: &str) -> Kubeconfig {
        self.cluster = cluster.to_string();
        self.context = context.to_string();
        self
    }

    pub fn trust(mut self, trust: Trust) -> Kubeconfig {
        self.trust = trust;
        self
    }

    pub fn server(mut self, url: &str) -> Kubeconfig {
        self.server = Some(url.to_string());
        self
    }

    /// Adds a context `name` pointing at a cluster entry `cluster` with the same server.
    pub fn with_context(mut self, name: &str, cluster: &str) -> Kubeconfig {
        self.extra_contexts
            .push((name.to_string(), cluster.to_string()));
        self
    }
}

/// YAML scalars written as JSON strings, which YAML reads unchanged whatever they contain.
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

pub(crate) struct Material<'a> {
    pub server: &'a str,
    pub ca_pem: &'a str,
    pub unrelated_ca_pem: Option<String>,
    pub client_certificate: Option<crate::ClientCertificate>,
}

pub(crate) fn write(
    dir: &Path,
    config: &Kubeconfig,
    material: Material<'_>,
) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let server = config.server.as_deref().unwrap_or(material.server);
    let trust = match config.trust {
        Trust::CaData => format!(
            "certificate-authority-data: {}",
            quote(&STANDARD.encode(material.ca_pem))
        ),
        Trust::CaFile => {
            let path = dir.join("ca.crt");
            std::fs::write(&path, material.ca_pem)?;
            format!("certificate-authority: {}", quote(&path.to_string_lossy()))
        }
        Trust::UnrelatedCa => format!(
            "certificate-authority-data: {}",
            quote(&STANDARD.encode(material.unrelated_ca_pem.unwrap_or_default()))
        ),
    };
    let mut clusters = format!(
        "- name: {}\n  cluster:\n    server: {}\n    {trust}\n",
        quote(&config.cluster),
        quote(server)
    );
    let mut contexts = format!(
        "- name: {}\n  context:\n    cluster: {}\n    user: {}\n",
        quote(&config.context),
        quote(&config.cluster),
        quote(&config.user)
    );
    for (context, cluster) in &config.extra_contexts {
        if cluster != &config.cluster {
            clusters.push_str(&format!(
                "- name: {}\n  cluster:\n    server: {}\n    {trust}\n",
                quote(cluster),
                quote(server)
            ));
        }
        contexts.push_str(&format!(
            "- name: {}\n  context:\n    cluster: {}\n    user: {}\n",
            quote(context),
            quote(cluster),
            quote(&config.user)
        ));
    }
    let user = match &config.credentials {
        Credentials::Token(token) => format!("    token: {}\n", quote(token)),
        Credentials::ClientCertificateData { .. } => {
            let identity = material
                .client_certificate
                .ok_or_else(|| io::Error::other("no client certificate was issued"))?;
            format!(
                "    client-certificate-data: {}\n    client-key-data: {}\n",
                quote(&STANDARD.encode(&identity.certificate_pem)),
                quote(&STANDARD.encode(&identity.key_pem))
            )
        }
        Credentials::ClientCertificateFiles { .. } => {
            let identity = material
                .client_certificate
                .ok_or_else(|| io::Error::other("no client certificate was issued"))?;
            let certificate = dir.join("client.crt");
            let key = dir.join("client.key");
            std::fs::write(&certificate, &identity.certificate_pem)?;
            write_private(&key, identity.key_pem.as_bytes())?;
            format!(
                "    client-certificate: {}\n    client-key: {}\n",
                quote(&certificate.to_string_lossy()),
                quote(&key.to_string_lossy())
            )
        }
        Credentials::Exec { token } => {
            let plugin = dir.join("credential-plugin.sh");
            let credential = serde_json::json!({
                "apiVersion": "client.authentication.k8s.io/v1",
                "kind": "ExecCredential",
                "status": { "token": token },
            });
            let calls = dir.join("credential-plugin.calls");
            let script = format!(
                "#!/bin/sh\n\
                 # Stands in for a credential plugin such as `aws eks get-token`.\n\
                 echo called >> '{}'\n\
                 cat <<'EOF'\n{credential}\nEOF\n",
                calls.to_string_lossy().replace('\'', "'\\''")
            );
            write_executable(&plugin, script.as_bytes())?;
            format!(
                "    exec:\n      apiVersion: \"client.authentication.k8s.io/v1\"\n      \
                 command: {}\n      interactiveMode: \"Never\"\n      \
                 provideClusterInfo: false\n",
                quote(&plugin.to_string_lossy())
            )
        }
        Credentials::None => "    {}\n".to_string(),
    };
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {}\nclusters:\n{clusters}contexts:\n\
         {contexts}users:\n- name: {}\n  user:\n{user}",
        quote(&config.context),
        quote(&config.user)
    );
    let path = dir.join("kubeconfig");
    write_private(&path, text.as_bytes())?;
    Ok(path)
}

#[cfg(unix)]
fn write_with_mode(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_with_mode(path: &Path, contents: &[u8], _mode: u32) -> io::Result<()> {
    std::fs::write(path, contents)
}

/// Kubeconfigs and keys hold credentials: readable by the owner only, as kubectl writes them.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_with_mode(path, contents, 0o600)
}

fn write_executable(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_with_mode(path, contents, 0o700)
}
