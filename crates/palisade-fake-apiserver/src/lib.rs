//! A local HTTPS stand-in for kube-apiserver, for Palisade's tests.
//!
//! No real Kubernetes API server can run on the machines Palisade is built and tested on, so this
//! crate stands in for one: it speaks the Kubernetes API wire protocol over TLS and **replays
//! responses recorded from a real kube-apiserver v1.36.2** (the demo cluster "shop", see
//! `tests/fixtures/kube-api/README.md`). Discovery documents, lists and the watch stream are served
//! byte for byte as recorded. What is generated follows the real server's behaviour and is tested
//! against the recordings where one exists:
//!
//! * pages of lists requested with `limit` (items, `continue` tokens and `remainingItemCount` as
//!   kube-apiserver writes them), namespaced lists and single objects, cut from the recorded
//!   cluster-wide lists; unknown or expired continue tokens get `410 Gone` (`reason: Expired`);
//! * authentication by bearer token or by a client certificate signed by the stand-in's CA (a new
//!   CA and serving certificate are generated at every start); anything else gets `401` with the
//!   Status body kube-apiserver sends;
//! * failures on demand: a resource forbidden (`403` with RBAC's message for the authenticated
//!   user), failing (`500`), not served (absent from discovery, `404`), or its next continue token
//!   expired;
//! * unknown paths get kube-apiserver's `404` Status body.
//!
//! Served resources that were not recorded (for example ReplicationControllers, of which the
//! cluster had none) are answered with an empty list, as the real server would.
//!
//! ```no_run
//! use palisade_fake_apiserver::{FakeApiServer, Kubeconfig, Options};
//!
//! let server = FakeApiServer::start(Options::default().forbid("secrets"))?;
//! let dir = std::env::temp_dir().join("palisade-example");
//! let kubeconfig = server.write_kubeconfig(&dir, &Kubeconfig::token(server.admin_token()))?;
//! // ... run the code under test with `kubeconfig` ...
//! assert!(server.requests().iter().any(|r| r.path == "/api/v1/pods"));
//! # Ok::<(), std::io::Error>(())
//! ```

mod api;
mod kubeconfig;
mod pki;
mod recording;
mod server;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use kubeconfig::{Credentials, Kubeconfig, Trust};
pub use pki::ClientCertificate;
pub use recording::AGGREGATED_DISCOVERY;

/// The bearer token of the `admin` user unless [`Options::token`] says otherwise.
pub const ADMIN_TOKEN: &str = "palisade-fake-admin-token";

/// The recorded responses in this repository (`tests/fixtures/kube-api`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kube-api")
}

/// How the stand-in behaves. Resources are named the way `kubectl` names them: `secrets`,
/// `deployments.apps`, `validatingwebhookconfigurations.admissionregistration.k8s.io`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the recording is (`index.json` and the files it names).
    pub fixtures: PathBuf,
    /// Accepted bearer tokens and the user each authenticates as.
    pub tokens: Vec<(String, String)>,
    pub forbidden: Vec<String>,
    pub failing: Vec<String>,
    pub unserved: Vec<String>,
    pub expire_next_continue: Vec<String>,
    /// Whether `/api` and `/apis` answer aggregated discovery when asked for it (servers before
    /// Kubernetes 1.26 do not).
    pub aggregated_discovery: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            fixtures: fixtures_dir(),
            tokens: vec![(ADMIN_TOKEN.to_string(), "admin".to_string())],
            forbidden: Vec::new(),
            failing: Vec::new(),
            unserved: Vec::new(),
            expire_next_continue: Vec::new(),
            aggregated_discovery: true,
        }
    }
}

impl Options {
    /// Accept `token` as user `user` (in addition to the admin token).
    pub fn token(mut self, token: &str, user: &str) -> Options {
        self.tokens.push((token.to_string(), user.to_string()));
        self
    }

    /// Every user gets `403 Forbidden` for `resource`, with RBAC's message.
    pub fn forbid(mut self, resource: &str) -> Options {
        self.forbidden.push(resource.to_string());
        self
    }

    /// Requests for `resource` fail with `500 Internal Server Error`.
    pub fn fail(mut self, resource: &str) -> Options {
        self.failing.push(resource.to_string());
        self
    }

    /// `resource` is left out of discovery and its paths answer `404`, as on a server that does not
    /// serve it.
    pub fn unserve(mut self, resource: &str) -> Options {
        self.unserved.push(resource.to_string());
        self
    }

    /// The next request for `resource` that carries a continue token gets `410 Gone`, as when etcd
    /// compacted the revision the paging started at.
    pub fn expire_next_continue(mut self, resource: &str) -> Options {
        self.expire_next_continue.push(resource.to_string());
        self
    }

    /// Answer `/api` and `/apis` with the legacy documents only.
    pub fn without_aggregated_discovery(mut self) -> Options {
        self.aggregated_discovery = false;
        self
    }
}

/// One request the stand-in answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// The authenticated user (`None` when authentication failed).
    pub user: Option<String>,
    pub status: u16,
}

impl RecordedRequest {
    /// The value of query parameter `name`, undecoded.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key == name).then_some(value)
        })
    }
}

/// A running stand-in API server on `127.0.0.1`, on its own thread; stopped when dropped.
pub struct FakeApiServer {
    url: String,
    pki: Arc<pki::Pki>,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
    admin_token: String,
    running: Option<server::Running>,
}

impl FakeApiServer {
    /// Loads the recording, generates the certificates and starts serving on a free port.
    pub fn start(options: Options) -> io::Result<FakeApiServer> {
        let recording = recording::Recording::load(&options.fixtures)?;
        let names = |list: &[String]| list.iter().map(|n| api::GroupResource::parse(n)).collect();
        let behaviour = api::Behaviour {
            tokens: options.tokens.iter().cloned().collect(),
            forbidden: names(&options.forbidden),
            failing: names(&options.failing),
            unserved: names(&options.unserved),
            expire_next_continue: Mutex::new(
                options
                    .expire_next_continue
                    .iter()
                    .map(|n| api::GroupResource::parse(n))
                    .collect(),
            ),
            aggregated_discovery: options.aggregated_discovery,
        };
        let admin_token = options
            .tokens
            .iter()
            .find(|(_, user)| user == "admin")
            .map(|(token, _)| token.clone())
            .unwrap_or_default();
        let pki = Arc::new(pki::Pki::generate()?);
        let log = Arc::new(Mutex::new(Vec::new()));
        let api = Arc::new(api::Api {
            recording,
            behaviour,
        });
        let running = server::start(api, &pki, Arc::clone(&log))?;
        Ok(FakeApiServer {
            url: format!("https://{}", running.address),
            pki,
            log,
            admin_token,
            running: Some(running),
        })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The cluster CA (PEM) that signed the serving certificate and the client certificates.
    pub fn ca_pem(&self) -> &str {
        self.pki.ca_pem()
    }

    /// The bearer token of user `admin`.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// A client certificate for `user` in `groups`, signed by the cluster CA.
    pub fn issue_client_certificate(
        &self,
        user: &str,
        groups: &[&str],
    ) -> io::Result<ClientCertificate> {
        self.pki.issue_client_certificate(user, groups)
    }

    /// Writes `dir/kubeconfig` (and the files it refers to: CA, client certificate and key, exec
    /// plugin) and returns its path. An exec plugin appends a line to
    /// `dir/credential-plugin.calls` each time it runs.
    pub fn write_kubeconfig(&self, dir: &Path, config: &Kubeconfig) -> io::Result<PathBuf> {
        let client_certificate = match &config.credentials {
            Credentials::ClientCertificateData { user }
            | Credentials::ClientCertificateFiles { user } => {
                Some(self.issue_client_certificate(user, &["system:masters"])?)
            }
            _ => None,
        };
        let unrelated_ca_pem = match config.trust {
            Trust::UnrelatedCa => Some(pki::unrelated_ca_pem()?),
            _ => None,
        };
        kubeconfig::write(
            dir,
            config,
            kubeconfig::Material {
                server: &self.url,
                ca_pem: self.ca_pem(),
                unrelated_ca_pem,
                client_certificate,
            },
        )
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }

    /// The requests for `path` (without query), in order.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

#[cfg(test)]
mod tests;
