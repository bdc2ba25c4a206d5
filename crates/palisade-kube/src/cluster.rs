//! Reading a live cluster through the Kubernetes API: connect the way `kubectl` does (kubeconfig,
//! context, in-cluster service account), ask discovery what the server serves, then list every
//! security-relevant kind cluster-wide, page by page, handing each redacted object to the caller.
//!
//! Secret and ConfigMap values never reach memory we own as text: their pages are parsed with a type
//! that keeps metadata and the *keys* of `data`/`stringData`/`binaryData` and skips the values (and
//! the `kubectl.kubernetes.io/last-applied-configuration` annotation, which repeats them) while the
//! JSON is read.
//!
//! Failures that concern one kind (403, 500, a timeout) become [`NotAssessed`] records and the scan
//! goes on; failures that concern the whole cluster (cannot connect, TLS, rejected credentials, a
//! bad kubeconfig) end it with a one-line [`ClusterError`].

use std::collections::{BTreeMap, HashSet};
use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};
use palisade_core::{Node, NotAssessed, Resource, Source, Value};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use tokio::sync::mpsc;

use crate::redact::{LAST_APPLIED, redact};

/// How to reach the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterOptions {
    /// The kubeconfig file; `None` for `KUBECONFIG`, then `~/.kube/config`, then the in-cluster
    /// service account.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context; `None` for its `current-context`.
    pub context: Option<String>,
    /// Objects per list request (`?limit=`).
    pub page_size: u32,
}

impl Default for ClusterOptions {
    fn default() -> ClusterOptions {
        ClusterOptions {
            kubeconfig: None,
            context: None,
            page_size: 500,
        }
    }
}

/// Which cluster was scanned, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClusterIdentity {
    /// The kubeconfig cluster name of the context, or `in-cluster`.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The API server URL.
    pub server: String,
    /// The server's `gitVersion` (`v1.36.2`), when `/version` answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The outcome of a scan that reached the cluster. Objects went to the callback; this holds what
/// could not be listed and how many objects of each kind were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterScan {
    pub identity: ClusterIdentity,
    /// Kinds not listed and why, sorted by API version and kind.
    pub not_assessed: Vec<NotAssessed>,
    /// Objects listed per kind (`Pod` → 28); a kind listed with no objects counts 0.
    pub listed: BTreeMap<String, usize>,
}

/// What kind of failure ended a scan, for callers choosing an exit status or a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterErrorKind {
    /// No usable kubeconfig or in-cluster configuration, or an unknown context.
    Config,
    /// The server could not be reached (refused, timed out, name not resolved).
    Unreachable,
    /// The TLS handshake failed (server certificate not trusted, client certificate refused).
    Tls,
    /// The credentials could not be obtained (credential plugin failed, token file unreadable).
    Credentials,
    /// The server rejected the credentials (401).
    Unauthorized,
    /// Anything else the server or the transport did.
    Other,
}

/// A failure of the whole scan. Displays as one line: the cluster, then the root cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterError {
    pub kind: ClusterErrorKind,
    /// `cluster "prod" (https://10.0.0.1:6443)`, or the kubeconfig when no cluster was chosen yet.
    pub target: String,
    /// The root cause in plain words.
    pub cause: String,
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.cause)
    }
}

impl StdError for ClusterError {}

/// A kind Palisade assesses, and where the API serves it.
#[derive(Debug, Clone, Copy)]
struct KindSpec {
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    kind: &'static str,
    /// Secrets and ConfigMaps: only metadata and data keys are read.
    keys_only: bool,
}

impl KindSpec {
    const fn new(group: &'static str, resource: &'static str, kind: &'static str) -> KindSpec {
        KindSpec {
            group,
            version: "v1",
            resource,
            kind,
            keys_only: false,
        }
    }

    const fn keys_only(resource: &'static str, kind: &'static str) -> KindSpec {
        KindSpec {
            group: "",
            version: "v1",
            resource,
            kind,
            keys_only: true,
        }
    }

    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn list_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}/{}", self.version, self.resource)
        } else {
            format!("/apis/{}/{}/{}", self.group, self.version, self.resource)
        }
    }

    fn group_version_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }
}

const APPS: &str = "apps";
const BATCH: &str = "batch";
const NETWORKING: &str = "networking.k8s.io";
const RBAC: &str = "rbac.authorization.k8s.io";
const ADMISSION: &str = "admissionregistration.k8s.io";

/// Every kind a check may read. All are at their GA version, served by every supported release.
const KINDS: &[KindSpec] = &[
    KindSpec::new("", "pods", "Pod"),
    KindSpec::new(APPS, "deployments", "Deployment"),
    KindSpec::new(APPS, "replicasets", "ReplicaSet"),
    KindSpec::new(APPS, "statefulsets", "StatefulSet"),
    KindSpec::new(APPS, "daemonsets", "DaemonSet"),
    KindSpec::new(BATCH, "jobs", "Job"),
    KindSpec::new(BATCH, "cronjobs", "CronJob"),
    KindSpec::new("", "replicationcontrollers", "ReplicationController"),
    KindSpec::new("", "services", "Service"),
    KindSpec::new(NETWORKING, "ingresses", "Ingress"),
    KindSpec::new(NETWORKING, "networkpolicies", "NetworkPolicy"),
    KindSpec::new("", "namespaces", "Namespace"),
    KindSpec::new("", "nodes", "Node"),
    KindSpec::new("", "serviceaccounts", "ServiceAccount"),
    KindSpec::new(RBAC, "roles", "Role"),
    KindSpec::new(RBAC, "clusterroles", "ClusterRole"),
    KindSpec::new(RBAC, "rolebindings", "RoleBinding"),
    KindSpec::new(RBAC, "clusterrolebindings", "ClusterRoleBinding"),
    KindSpec::new(
        ADMISSION,
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
    ),
    KindSpec::new(
        ADMISSION,
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
    ),
    KindSpec::keys_only("configmaps", "ConfigMap"),
    KindSpec::keys_only("secrets", "Secret"),
];

/// Kinds listed at the same time: enough to hide latency, few enough not to trip API priority and
/// fairness on a busy server.
const CONCURRENT_KINDS: usize = 4;
/// Pages buffered between the listing tasks and the caller's callback.
const PAGES_IN_FLIGHT: usize = 4;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const NOT_SERVED: &str = "not served by this API server";
/// What current kubectl asks for: aggregated discovery, or the legacy documents from servers that
/// do not have it.
const DISCOVERY_ACCEPT: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

/// Scans the cluster: every served kind of [`KINDS`] is listed and each object, redacted, is passed
/// to `on_resource` as its page arrives.
pub async fn scan(
    options: &ClusterOptions,
    on_resource: &mut (dyn FnMut(Resource) + Send),
) -> Result<ClusterScan, ClusterError> {
    let target = resolve(options).await?;
    let Target {
        config,
        mut identity,
        credentials,
    } = target;
    let failure = |identity: &ClusterIdentity, (kind, cause): Failure| ClusterError {
        kind,
        target: describe_cluster(identity),
        cause,
    };
    let client =
        Client::try_from(config).map_err(|e| failure(&identity, root_cause(&e, credentials)))?;
    let connection = Connection {
        client: &client,
        credentials,
    };

    identity.version = connection
        .version()
        .await
        .map_err(|f| failure(&identity, f))?;
    let served = connection
        .discover()
        .await
        .map_err(|f| failure(&identity, f))?;
    tracing::debug!(server = %identity.server, version = ?identity.version, "connected");

    let mut not_assessed = Vec::new();
    let mut to_list = Vec::new();
    for spec in KINDS {
        if served.serves(spec) {
            to_list.push(*spec);
        } else {
            not_assessed.push(NotAssessed {
                api_version: spec.api_version(),
                kind: spec.kind.to_string(),
                namespace: None,
                reason: NOT_SERVED.to_string(),
            });
        }
    }

    let cluster: Arc<str> = Arc::from(identity.name.as_str());
    let page_size = options.page_size.max(1);
    let abort = AtomicBool::new(false);
    let (pages, mut received) = mpsc::channel::<Vec<Resource>>(PAGES_IN_FLIGHT);
    let listing = {
        let connection = &connection;
        let cluster = &cluster;
        let abort = &abort;
        async move {
            let outcomes = futures::stream::iter(to_list.into_iter().map(|spec| {
                let pages = pages.clone();
                async move {
                    let outcome = connection
                        .list_kind(spec, page_size, cluster, &pages, abort)
                        .await;
                    if matches!(outcome, Listing::Fatal(..)) {
                        abort.store(true, Ordering::Relaxed);
                    }
                    (spec, outcome)
                }
            }))
            .buffer_unordered(CONCURRENT_KINDS)
            .collect::<Vec<_>>()
            .await;
            // The last sender goes here, which ends the delivery loop below.
            drop(pages);
            outcomes
        }
    };
    let delivery = async {
        while let Some(page) = received.recv().await {
            for resource in page {
                on_resource(resource);
            }
        }
    };
    let (outcomes, ()) = futures::join!(listing, delivery);

    let mut listed = BTreeMap::new();
    let mut fatal = None;
    for (spec, outcome) in outcomes {
        match outcome {
            Listing::Listed(count) => {
                listed.insert(spec.kind.to_string(), count);
            }
            Listing::NotAssessed(reason) => not_assessed.push(NotAssessed {
                api_version: spec.api_version(),
                kind: spec.kind.to_string(),
                namespace: None,
                reason,
            }),
            Listing::Fatal(kind, cause) => fatal = fatal.or(Some((kind, cause))),
            Listing::Aborted => {}
        }
    }
    if let Some(fatal) = fatal {
        return Err(failure(&identity, fatal));
    }
    not_assessed.sort_by(|a, b| (&a.api_version, &a.kind).cmp(&(&b.api_version, &b.kind)));
    Ok(ClusterScan {
        identity,
        not_assessed,
        listed,
    })
}

/// How the kubeconfig user authenticates: decides how a 401 is explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Token,
    ClientCertificate,
    Exec,
    AuthProvider,
    Basic,
    ServiceAccount,
    None,
}

impl Credentials {
    fn of(user: Option<&AuthInfo>) -> Credentials {
        let Some(user) = user else {
            return Credentials::None;
        };
        if user.exec.is_some() {
            Credentials::Exec
        } else if user.auth_provider.is_some() {
            Credentials::AuthProvider
        } else if user.token.is_some() || user.token_file.is_some() {
            Credentials::Token
        } else if user.client_certificate.is_some() || user.client_certificate_data.is_some() {
            Credentials::ClientCertificate
        } else if user.username.is_some() {
            Credentials::Basic
        } else {
            Credentials::None
        }
    }

    fn unauthorized(self) -> String {
        let rejected = "the server rejected the credentials (401 Unauthorized)";
        match self {
            Credentials::Token => format!("{rejected}: the token may have expired or been revoked"),
            Credentials::ServiceAccount => {
                format!("{rejected}: the service account token may have expired or been revoked")
            }
            Credentials::Exec => format!(
                "{rejected}: the token from the credential plugin may have expired or been revoked"
            ),
            Credentials::AuthProvider => {
                format!("{rejected}: the auth-provider token may have expired")
            }
            Credentials::ClientCertificate => format!(
                "{rejected}: the client certificate may have expired or not be signed by the \
                 cluster's CA"
            ),
            Credentials::Basic => format!("{rejected}: the username or password is wrong"),
            Credentials::None => {
                "the server requires credentials (401 Unauthorized) and the kubeconfig user has none"
                    .to_string()
            }
        }
    }
}

struct Target {
    config: Config,
    identity: ClusterIdentity,
    credentials: Credentials,
}

fn describe_cluster(identity: &ClusterIdentity) -> String {
    match &identity.context {
        Some(context) if context != &identity.name => format!(
            "cluster {:?} (context {context:?}, {})",
            identity.name, identity.server
        ),
        _ => format!("cluster {:?} ({})", identity.name, identity.server),
    }
}

fn config_error(target: String, cause: String) -> ClusterError {
    ClusterError {
        kind: ClusterErrorKind::Config,
        target,
        cause,
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Finds the configuration the way kubectl does: `--kubeconfig`, `KUBECONFIG`, `~/.kube/config`,
/// and in a pod without any of those the service account.
async fn resolve(options: &ClusterOptions) -> Result<Target, ClusterError> {
    let default_path = home_dir().map(|h| h.join(".kube").join("config"));
    let env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty());
    let (kubeconfig, origin) = if let Some(path) = &options.kubeconfig {
        let origin = format!("kubeconfig {}", path.display());
        (read_kubeconfig(path, &origin)?, origin)
    } else if let Some(value) = env {
        let origin = format!("kubeconfig {}", PathBuf::from(&value).display());
        let config = Kubeconfig::from_env()
            .map_err(|e| config_error(origin.clone(), describe_kubeconfig_error(&e)))?
            .unwrap_or_default();
        (config, origin)
    } else if let Some(path) = default_path.as_deref().filter(|p| p.exists()) {
        let origin = format!("kubeconfig {}", path.display());
        (read_kubeconfig(path, &origin)?, origin)
    } else {
        return in_cluster(options);
    };

    let context_name = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            config_error(
                origin.clone(),
                "no current-context is set; choose one with --context".to_string(),
            )
        })?;
    let context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.clone())
        .ok_or_else(|| {
            let known: Vec<&str> = kubeconfig
                .contexts
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            config_error(
                format!("context {context_name:?}"),
                format!(
                    "not found in {origin} (contexts: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })?;
    let server = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == context.cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .ok_or_else(|| {
            config_error(
                format!("context {context_name:?}"),
                format!(
                    "cluster {:?} is missing or has no server in {origin}",
                    context.cluster
                ),
            )
        })?;
    let user = context.user.as_ref().and_then(|name| {
        kubeconfig
            .auth_infos
            .iter()
            .find(|u| &u.name == name)
            .and_then(|u| u.auth_info.as_ref())
    });
    let credentials = Credentials::of(user);
    let identity = ClusterIdentity {
        name: context.cluster.clone(),
        context: Some(context_name.clone()),
        server,
        version: None,
    };
    let mut config = Config::from_custom_kubeconfig(
        kubeconfig,
        &KubeConfigOptions {
            context: Some(context_name),
            ..KubeConfigOptions::default()
        },
    )
    .await
    .map_err(|e| config_error(describe_cluster(&identity), describe_kubeconfig_error(&e)))?;
    set_timeouts(&mut config);
    Ok(Target {
        config,
        identity,
        credentials,
    })
}

fn in_cluster(options: &ClusterOptions) -> Result<Target, ClusterError> {
    let no_kubeconfig =
        "no kubeconfig found (looked at --kubeconfig, KUBECONFIG and ~/.kube/config)";
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() {
        return Err(config_error(
            "kubeconfig".to_string(),
            format!("{no_kubeconfig} and not running inside a cluster"),
        ));
    }
    if let Some(context) = &options.context {
        return Err(config_error(
            format!("context {context:?}"),
            format!("{no_kubeconfig}; contexts need a kubeconfig"),
        ));
    }
    let mut config = Config::incluster().map_err(|e| {
        config_error(
            "in-cluster service account".to_string(),
            one_line(&e.to_string()),
        )
    })?;
    set_timeouts(&mut config);
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    Ok(Target {
        config,
        identity: ClusterIdentity {
            name: "in-cluster".to_string(),
            context: None,
            server,
            version: None,
        },
        credentials: Credentials::ServiceAccount,
    })
}

fn set_timeouts(config: &mut Config) {
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    // Count the read timeout from each request, not from when a pooled connection went idle.
    config.reset_reader_on_write = true;
}

fn read_kubeconfig(path: &Path, origin: &str) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path)
        .map_err(|e| config_error(origin.to_string(), describe_kubeconfig_error(&e)))
}

fn describe_kubeconfig_error(error: &KubeconfigError) -> String {
    match error {
        KubeconfigError::ReadConfig(io, _) => format!("cannot be read: {io}"),
        // The parser's message may quote the offending text, which can be a credential: give the
        // position only.
        KubeconfigError::Parse(parse) => match position(&parse.to_string()) {
            Some(at) => format!("is not a valid kubeconfig (YAML error at {at})"),
            None => "is not a valid kubeconfig (YAML error)".to_string(),
        },
        other => one_line(&other.to_string()),
    }
}

/// `line N column M` from a parser message, if it names one.
fn position(message: &str) -> Option<String> {
    let start = message.find("line ")?;
    let digits_end = |from: usize| {
        message.get(from..).map(|rest| {
            from + rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len())
        })
    };
    let line_end = digits_end(start + 5)?;
    if line_end == start + 5 {
        return None;
    }
    let mut at = message.get(start..line_end)?.to_string();
    if let Some(column) = message
        .get(line_end..)
        .and_then(|r| r.strip_prefix(" column "))
    {
        let len = column
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(column.len());
        if len > 0 {
            at.push_str(" column ");
            at.push_str(column.get(..len).unwrap_or(""));
        }
    }
    Some(at)
}

/// What discovery said the server serves.
struct Served {
    /// `(group, version, resource)` that support `list`.
    listable: HashSet<(String, String, String)>,
    /// Group versions discovery could not tell about (their documents failed): listed anyway, the
    /// list answer decides.
    unknown: HashSet<(String, String)>,
}

impl Served {
    fn serves(&self, spec: &KindSpec) -> bool {
        self.listable.contains(&(
            spec.group.to_string(),
            spec.version.to_string(),
            spec.resource.to_string(),
        )) || self
            .unknown
            .contains(&(spec.group.to_string(), spec.version.to_string()))
    }
}

#[derive(Deserialize)]
struct DiscoveryDocument {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    items: Vec<DiscoveryGroup>,
}

#[derive(Deserialize)]
struct DiscoveryGroup {
    #[serde(default)]
    metadata: DiscoveryGroupMetadata,
    #[serde(default)]
    versions: Vec<DiscoveryVersion>,
}

#[derive(Deserialize, Default)]
struct DiscoveryGroupMetadata {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct DiscoveryVersion {
    version: String,
    #[serde(default)]
    resources: Vec<DiscoveryResource>,
}

#[derive(Deserialize)]
struct DiscoveryResource {
    resource: String,
    #[serde(default)]
    verbs: Vec<String>,
}

#[derive(Deserialize)]
struct ResourceList {
    #[serde(default)]
    resources: Vec<LegacyResource>,
}

#[derive(Deserialize)]
struct LegacyResource {
    name: String,
    #[serde(default)]
    verbs: Vec<String>,
}

#[derive(Deserialize)]
struct VersionInfo {
    #[serde(rename = "gitVersion", default)]
    git_version: String,
}

/// The parts of a `metav1.Status` failure a reason is made of.
#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    message: String,
}

enum Answer {
    Ok(bytes::Bytes),
    Failed(http::StatusCode, bytes::Bytes),
}

/// A per-kind outcome.
enum Listing {
    Listed(usize),
    NotAssessed(String),
    /// The whole scan must stop (the credentials stopped working).
    Fatal(ClusterErrorKind, String),
    /// Stopped because another kind hit a fatal error.
    Aborted,
}

type Failure = (ClusterErrorKind, String);

struct Connection<'a> {
    client: &'a Client,
    credentials: Credentials,
}

impl Connection<'_> {
    async fn get(&self, uri: &str, accept: Option<&str>) -> Result<Answer, kube::Error> {
        let mut request = http::Request::get(uri);
        if let Some(accept) = accept {
            request = request.header(http::header::ACCEPT, accept);
        }
        let request = request
            .body(kube::client::Body::empty())
            .map_err(kube::Error::HttpError)?;
        let response = self.client.send(request).await?;
        let status = response.status();
        let body = response.into_body().collect_bytes().await?;
        Ok(if status.is_success() {
            Answer::Ok(body)
        } else {
            Answer::Failed(status, body)
        })
    }

    /// The first request: whole-cluster failures (connection, TLS, credentials) show up here.
    async fn version(&self) -> Result<Option<String>, Failure> {
        match self.get("/version", None).await {
            Ok(Answer::Ok(body)) => Ok(serde_json::from_slice::<VersionInfo>(&body)
                .ok()
                .map(|v| v.git_version)
                .filter(|v| !v.is_empty())),
            Ok(Answer::Failed(status, _)) if status == http::StatusCode::UNAUTHORIZED => Err((
                ClusterErrorKind::Unauthorized,
                self.credentials.unauthorized(),
            )),
            // Some clusters close `/version` to the user; the scan does not need it.
            Ok(Answer::Failed(status, _)) => {
                tracing::debug!(%status, "/version not available");
                Ok(None)
            }
            Err(e) => Err(root_cause(&e, self.credentials)),
        }
    }

    async fn discover(&self) -> Result<Served, Failure> {
        let mut served = Served {
            listable: HashSet::new(),
            unknown: HashSet::new(),
        };
        let mut aggregated = true;
        for path in ["/api", "/apis"] {
            match self.get(path, Some(DISCOVERY_ACCEPT)).await {
                Ok(Answer::Ok(body)) => match serde_json::from_slice::<DiscoveryDocument>(&body) {
                    Ok(document) if document.kind == "APIGroupDiscoveryList" => {
                        for group in document.items {
                            for version in group.versions {
                                for resource in version.resources {
                                    if resource.verbs.iter().any(|v| v == "list") {
                                        served.listable.insert((
                                            group.metadata.name.clone(),
                                            version.version.clone(),
                                            resource.resource,
                                        ));
                                    }
                                }
                            }
                        }
                    }
                    // A server without aggregated discovery answers with the legacy document.
                    _ => aggregated = false,
                },
                Ok(Answer::Failed(status, _)) if status == http::StatusCode::UNAUTHORIZED => {
                    return Err((
                        ClusterErrorKind::Unauthorized,
                        self.credentials.unauthorized(),
                    ));
                }
                Ok(Answer::Failed(status, _)) => {
                    tracing::debug!(path, %status, "aggregated discovery unavailable");
                    aggregated = false;
                }
                Err(e) => return Err(root_cause(&e, self.credentials)),
            }
        }
        if aggregated {
            return Ok(served);
        }
        let group_versions: std::collections::BTreeSet<(&str, &str, String)> = KINDS
            .iter()
            .map(|k| (k.group, k.version, k.group_version_path()))
            .collect();
        for (group, version, path) in group_versions {
            match self.get(&path, None).await {
                Ok(Answer::Ok(body)) => match serde_json::from_slice::<ResourceList>(&body) {
                    Ok(list) => {
                        for resource in list.resources {
                            if resource.verbs.iter().any(|v| v == "list") {
                                served.listable.insert((
                                    group.to_string(),
                                    version.to_string(),
                                    resource.name,
                                ));
                            }
                        }
                    }
                    Err(_) => {
                        served
                            .unknown
                            .insert((group.to_string(), version.to_string()));
                    }
                },
                Ok(Answer::Failed(status, _)) if status == http::StatusCode::NOT_FOUND => {}
                Ok(Answer::Failed(status, _)) if status == http::StatusCode::UNAUTHORIZED => {
                    return Err((
                        ClusterErrorKind::Unauthorized,
                        self.credentials.unauthorized(),
                    ));
                }
                Ok(Answer::Failed(..)) => {
                    served
                        .unknown
                        .insert((group.to_string(), version.to_string()));
                }
                Err(e) => return Err(root_cause(&e, self.credentials)),
            }
        }
        Ok(served)
    }

    /// Lists one kind cluster-wide, page by page, sending each page's resources to `pages`.
    async fn list_kind(
        &self,
        spec: KindSpec,
        page_size: u32,
        cluster: &Arc<str>,
        pages: &mpsc::Sender<Vec<Resource>>,
        abort: &AtomicBool,
    ) -> Listing {
        let path = spec.list_path();
        let mut continue_token: Option<String> = None;
        let mut restarted = false;
        // After a restart (410) the first pages come again: deliver each object once.
        let mut delivered: HashSet<String> = HashSet::new();
        let mut count = 0usize;
        loop {
            if abort.load(Ordering::Relaxed) {
                return Listing::Aborted;
            }
            let mut uri = format!("{path}?limit={page_size}");
            if let Some(token) = &continue_token {
                uri.push_str("&continue=");
                uri.push_str(&percent_encode(token));
            }
            let body = match self.get(&uri, None).await {
                Ok(Answer::Ok(body)) => body,
                Ok(Answer::Failed(status, body)) => match status.as_u16() {
                    401 => {
                        return Listing::Fatal(
                            ClusterErrorKind::Unauthorized,
                            self.credentials.unauthorized(),
                        );
                    }
                    403 => {
                        return Listing::NotAssessed(
                            status_message(&body).unwrap_or_else(|| "forbidden (403)".to_string()),
                        );
                    }
                    404 => return Listing::NotAssessed(NOT_SERVED.to_string()),
                    410 if continue_token.is_some() && !restarted => {
                        // The snapshot the paging started from was compacted: start over once.
                        tracing::debug!(path = %path, "continue token expired, listing again");
                        restarted = true;
                        continue_token = None;
                        continue;
                    }
                    _ => {
                        let reason = status.canonical_reason().unwrap_or("error");
                        return Listing::NotAssessed(match status_message(&body) {
                            Some(message) => format!(
                                "the API server answered {} {reason}: {message}",
                                status.as_u16()
                            ),
                            None => {
                                format!("the API server answered {} {reason}", status.as_u16())
                            }
                        });
                    }
                },
                Err(e) => {
                    let (kind, cause) = root_cause(&e, self.credentials);
                    return match kind {
                        ClusterErrorKind::Credentials => Listing::Fatal(kind, cause),
                        _ => Listing::NotAssessed(cause),
                    };
                }
            };
            let page = match parse_page(&spec, &body, cluster) {
                Ok(page) => page,
                Err(e) => {
                    return Listing::NotAssessed(format!(
                        "the API server sent a list that could not be read: {e}"
                    ));
                }
            };
            drop(body);
            let fresh: Vec<Resource> = page
                .resources
                .into_iter()
                .filter(|r| {
                    delivered.insert(format!("{}/{}", r.namespace().unwrap_or(""), r.name()))
                })
                .collect();
            count += fresh.len();
            tracing::debug!(path = %path, objects = fresh.len(), "page");
            if !fresh.is_empty() && pages.send(fresh).await.is_err() {
                return Listing::Aborted;
            }
            match page.continue_token.filter(|t| !t.is_empty()) {
                Some(next) if Some(&next) == continue_token.as_ref() => {
                    return Listing::NotAssessed(
                        "the API server repeated a continue token; listing stopped".to_string(),
                    );
                }
                Some(next) => continue_token = Some(next),
                None => break,
            }
        }
        tracing::debug!(path = %path, objects = count, "listed");
        Listing::Listed(count)
    }
}

fn status_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<StatusBody>(body)
        .ok()
        .map(|s| one_line(&s.message))
        .filter(|m| !m.is_empty())
}

/// Continue tokens are base64url, but nothing promises that: escape what a query cannot carry.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Page {
    resources: Vec<Resource>,
    continue_token: Option<String>,
}

#[derive(Deserialize)]
struct ListPage<T> {
    #[serde(default)]
    metadata: ListMetadata,
    items: Option<Vec<T>>,
}

#[derive(Deserialize, Default)]
struct ListMetadata {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

fn parse_page(spec: &KindSpec, body: &[u8], cluster: &Arc<str>) -> Result<Page, serde_json::Error> {
    let api_version = spec.api_version();
    let (objects, continue_token): (Vec<Node>, _) = if spec.keys_only {
        let page: ListPage<KeysOnly> = serde_json::from_slice(body)?;
        let objects = page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| Node::map(item.0))
            .collect();
        (objects, page.metadata.continue_token)
    } else {
        let page: ListPage<serde_json::Value> = serde_json::from_slice(body)?;
        let objects = page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(Node::from_json)
            .collect();
        (objects, page.metadata.continue_token)
    };
    let source = Source {
        file: None,
        cluster: Some(Arc::clone(cluster)),
        ..Source::default()
    };
    let resources = objects
        .into_iter()
        .filter_map(|object| {
            let object = redact(with_type(object, &api_version, spec.kind));
            Resource::from_object(object, source.clone())
        })
        .collect();
    Ok(Page {
        resources,
        continue_token,
    })
}

/// Items of a list carry neither `apiVersion` nor `kind`; objects need both, first as in a
/// manifest.
fn with_type(mut object: Node, api_version: &str, kind: &str) -> Node {
    if let Value::Map(entries) = &mut object.value {
        entries.retain(|(key, _)| key != "apiVersion" && key != "kind");
        entries.insert(0, ("kind".to_string(), Node::string(kind)));
        entries.insert(0, ("apiVersion".to_string(), Node::string(api_version)));
    }
    object
}

/// A Secret or ConfigMap read for its shape only: `metadata` (without managed fields and the
/// last-applied copy), `type`, `immutable` and the keys of `data`, `stringData` and `binaryData`.
/// Values are skipped by the parser; every other field is dropped.
struct KeysOnly(Vec<(String, Node)>);

impl<'de> Deserialize<'de> for KeysOnly {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeysOnly, D::Error> {
        struct ItemVisitor;
        impl<'de> Visitor<'de> for ItemVisitor {
            type Value = KeysOnly;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Secret or ConfigMap object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeysOnly, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "metadata" => {
                            let metadata = map.next_value::<MetadataWithoutCopies>()?;
                            fields.push((key, metadata.0));
                        }
                        "data" | "stringData" | "binaryData" => {
                            let keys = map.next_value::<KeysOf>()?;
                            fields.push((key, keys.0));
                        }
                        "type" | "immutable" => {
                            let value = map.next_value::<serde_json::Value>()?;
                            fields.push((key, Node::from_json(value)));
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(KeysOnly(fields))
            }
        }
        deserializer.deserialize_map(ItemVisitor)
    }
}

/// `metadata` without `managedFields` and without the last-applied annotation.
struct MetadataWithoutCopies(Node);

impl<'de> Deserialize<'de> for MetadataWithoutCopies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MetadataVisitor;
        impl<'de> Visitor<'de> for MetadataVisitor {
            type Value = MetadataWithoutCopies;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("object metadata")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "managedFields" => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        "annotations" => {
                            let annotations = map.next_value::<AnnotationsWithoutCopies>()?;
                            fields.push((key, annotations.0));
                        }
                        _ => {
                            let value = map.next_value::<serde_json::Value>()?;
                            fields.push((key, Node::from_json(value)));
                        }
                    }
                }
                Ok(MetadataWithoutCopies(Node::map(fields)))
            }
        }
        deserializer.deserialize_map(MetadataVisitor)
    }
}

struct AnnotationsWithoutCopies(Node);

impl<'de> Deserialize<'de> for AnnotationsWithoutCopies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnnotationsVisitor;
        impl<'de> Visitor<'de> for AnnotationsVisitor {
            type Value = AnnotationsWithoutCopies;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("annotations")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(AnnotationsWithoutCopies(Node::default()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == LAST_APPLIED {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        let value = map.next_value::<serde_json::Value>()?;
                        entries.push((key, Node::from_json(value)));
                    }
                }
                Ok(AnnotationsWithoutCopies(Node::map(entries)))
            }
        }
        deserializer.deserialize_any(AnnotationsVisitor)
    }
}

/// The keys of a data map; every value becomes `""` ("present, not read"), as [`redact`] writes.
struct KeysOf(Node);

impl<'de> Deserialize<'de> for KeysOf {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = KeysOf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of keys to values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(KeysOf(Node::default()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push((key, Node::string("")));
                }
                Ok(KeysOf(Node::map(keys)))
            }
        }
        deserializer.deserialize_any(KeysVisitor)
    }
}

/// The root cause of a transport or client failure in plain words, found by walking the error's
/// source chain (printed once, not as a stack).
fn root_cause(error: &kube::Error, credentials: Credentials) -> (ClusterErrorKind, String) {
    if let kube::Error::Api(status) = error {
        if status.code == 401 {
            return (ClusterErrorKind::Unauthorized, credentials.unauthorized());
        }
        return (ClusterErrorKind::Other, one_line(&status.message));
    }
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    let mut deepest = error.to_string();
    while let Some(e) = current {
        if let Some(found) = recognise(e) {
            return found;
        }
        deepest = e.to_string();
        current = e.source();
    }
    (ClusterErrorKind::Other, one_line(&deepest))
}

/// One link of an error chain, if it is a cause worth naming. Looks inside `io::Error`s, whose
/// `source()` skips the error they wrap: hyper-rustls and tokio-rustls nest the TLS error two
/// `io::Error`s deep.
fn recognise(e: &(dyn StdError + 'static)) -> Option<(ClusterErrorKind, String)> {
    if let Some(auth) = e.downcast_ref::<kube::client::AuthError>() {
        return Some((ClusterErrorKind::Credentials, describe_auth(auth)));
    }
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some((ClusterErrorKind::Tls, describe_tls(tls)));
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if let Some(found) = io.get_ref().and_then(|inner| recognise(inner)) {
            return Some(found);
        }
        if let Some(found) = describe_io(io) {
            return Some(found);
        }
    }
    if let Some(tls) = e.downcast_ref::<kube::client::RustlsTlsError>() {
        return Some((
            ClusterErrorKind::Config,
            format!("the TLS settings in the kubeconfig are not usable: {tls}"),
        ));
    }
    let text = e.to_string();
    if text.starts_with("dns error") {
        let detail = e.source().map(|s| s.to_string()).unwrap_or(text);
        return Some((
            ClusterErrorKind::Unreachable,
            format!(
                "the server's host name could not be resolved ({})",
                one_line(&detail)
            ),
        ));
    }
    None
}

fn describe_io(io: &std::io::Error) -> Option<(ClusterErrorKind, String)> {
    use std::io::ErrorKind as K;
    let cause = match io.kind() {
        K::ConnectionRefused => "connection refused",
        K::TimedOut => "the connection timed out",
        K::ConnectionReset => "the connection was reset by the server",
        K::ConnectionAborted => "the connection was aborted",
        K::HostUnreachable => "the host is unreachable",
        K::NetworkUnreachable => "the network is unreachable",
        K::AddrNotAvailable => "the server address is not available",
        K::UnexpectedEof => "the server closed the connection (is it speaking TLS?)",
        _ => return None,
    };
    let kind = match io.kind() {
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted => ClusterErrorKind::Other,
        _ => ClusterErrorKind::Unreachable,
    };
    Some((kind, cause.to_string()))
}

fn describe_tls(error: &rustls::Error) -> String {
    use rustls::{AlertDescription, CertificateError};
    let failed = "TLS handshake failed";
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                "{failed}: certificate is not trusted ({error}; check certificate-authority in the \
                 kubeconfig)"
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("{failed}: the server's certificate is not valid for its address ({error})")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("{failed}: the server's certificate has expired ({error})")
            }
            _ => format!("{failed}: the server's certificate was refused ({error})"),
        },
        rustls::Error::AlertReceived(
            AlertDescription::BadCertificate
            | AlertDescription::CertificateRequired
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown,
        ) => format!("{failed}: the server refused the client certificate ({error})"),
        _ => format!("{failed}: {error}"),
    }
}

fn describe_auth(error: &kube::client::AuthError) -> String {
    use kube::client::AuthError as A;
    match error {
        A::AuthExecStart(io) => format!("the credential plugin could not be started: {io}"),
        // Its Display carries the plugin's whole output, which may hold a token: say how it ended
        // and its last line of stderr only.
        A::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            match stderr.lines().rev().find(|l| !l.trim().is_empty()) {
                Some(line) => format!(
                    "the credential plugin failed ({}): {}",
                    out.status,
                    truncate(line.trim(), 200)
                ),
                None => format!("the credential plugin failed ({})", out.status),
            }
        }
        A::AuthExecParse(_) => {
            "the credential plugin did not print a valid ExecCredential".to_string()
        }
        A::ExecPluginFailed => "the credential plugin's ExecCredential has no status".to_string(),
        A::ReadTokenFile(io, path) => {
            format!("the token file {} cannot be read: {io}", path.display())
        }
        other => one_line(&other.to_string()),
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_string(),
    }
}

/// Error messages of servers and libraries may span lines; a report line must not.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_only(json: &str) -> Node {
        let item: KeysOnly = serde_json::from_str(json).expect("parses");
        Node::map(item.0)
    }

    #[test]
    fn keys_only_items_keep_keys_and_metadata_but_no_values() {
        let node = keys_only(
            r#"{"metadata":{"name":"db","namespace":"payments","labels":{"app":"pg"},
                "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"aHVudGVyMg==\"}}","team":"payments"},
                "managedFields":[{"manager":"kubectl"}]},
               "data":{"password":"aHVudGVyMg=="},"stringData":{"token":"hunter2"},
               "type":"Opaque","extra":{"secret":"x"}}"#,
        );
        let text = serde_json::to_string(&node).unwrap_or_default();
        assert!(!text.contains("aHVudGVyMg"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("managedFields"), "{text}");
        assert!(!text.contains("extra"), "{text}");
        assert_eq!(
            node.at(&["data", "password"]).and_then(Node::as_str),
            Some("")
        );
        assert_eq!(
            node.at(&["stringData", "token"]).and_then(Node::as_str),
            Some("")
        );
        assert_eq!(node.str_at("type"), Some("Opaque"));
        assert_eq!(
            node.at(&["metadata", "annotations", "team"])
                .and_then(Node::as_str),
            Some("payments")
        );
        assert_eq!(
            node.at(&["metadata", "labels", "app"])
                .and_then(Node::as_str),
            Some("pg")
        );
    }

    #[test]
    fn keys_only_accepts_null_maps_and_rejects_non_objects() {
        let node = keys_only(r#"{"metadata":{"name":"e","annotations":null},"data":null}"#);
        assert!(node.get("data").is_some_and(Node::is_null));
        assert!(serde_json::from_str::<KeysOnly>(r#""just a string""#).is_err());
        assert!(serde_json::from_str::<KeysOnly>(r#"{"data":"value"}"#).is_err());
    }

    #[test]
    fn list_items_get_api_version_and_kind_first() {
        let spec = KindSpec::new(APPS, "deployments", "Deployment");
        let cluster: Arc<str> = Arc::from("shop");
        let page = parse_page(
            &spec,
            br#"{"metadata":{"continue":"abc"},"items":[{"metadata":{"name":"web","namespace":"shop"},"spec":{}}, 7]}"#,
            &cluster,
        )
        .expect("parses");
        assert_eq!(page.continue_token.as_deref(), Some("abc"));
        assert_eq!(page.resources.len(), 1, "a non-object item is skipped");
        let resource = &page.resources[0];
        assert_eq!(resource.reference.api_version, "apps/v1");
        assert_eq!(resource.kind(), "Deployment");
        assert_eq!(resource.namespace(), Some("shop"));
        assert_eq!(resource.source.cluster.as_deref(), Some("shop"));
        assert_eq!(
            resource.object.entries().first().map(|(k, _)| k.as_str()),
            Some("apiVersion")
        );
        let empty =
            parse_page(&spec, br#"{"metadata":{},"items":null}"#, &cluster).expect("parses");
        assert!(empty.resources.is_empty());
    }

    #[test]
    fn positions_are_extracted_without_the_offending_text() {
        assert_eq!(
            position("invalid type: string \"s3cr3t\", expected a map at line 4 column 9"),
            Some("line 4 column 9".to_string())
        );
        assert_eq!(position("at line 12"), Some("line 12".to_string()));
        assert_eq!(position("no position"), None);
        assert_eq!(position("line x"), None);
    }

    #[test]
    fn errors_display_on_one_line() {
        let error = ClusterError {
            kind: ClusterErrorKind::Unreachable,
            target: "cluster \"prod\" (https://10.0.0.1:6443)".to_string(),
            cause: one_line("connection\nrefused"),
        };
        assert_eq!(
            error.to_string(),
            "cluster \"prod\" (https://10.0.0.1:6443): connection refused"
        );
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(percent_encode("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }

    #[test]
    fn the_scan_future_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let options = ClusterOptions::default();
        let mut count = 0usize;
        let mut on_resource = |_: Resource| count += 1;
        let future = scan(&options, &mut on_resource);
        assert_send(&future);
        drop(future);
        assert_eq!(count, 0, "nothing runs until polled");
    }

    #[test]
    fn every_kind_maps_to_a_distinct_list_path() {
        let paths: HashSet<String> = KINDS.iter().map(KindSpec::list_path).collect();
        assert_eq!(paths.len(), KINDS.len());
        assert!(paths.contains("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"));
        assert!(paths.contains("/api/v1/secrets"));
    }
}
