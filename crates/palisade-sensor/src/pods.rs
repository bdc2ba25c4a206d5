//! Container → pod metadata (container name, image, pod namespace, name and labels) for the
//! containers the cgroup paths identify.
//!
//! Sources, in order of preference: the CRI socket of the node's runtime (local, no credentials,
//! knows every container), the kubelet's `/pods` (HTTPS with the service account token), the
//! Kubernetes API filtered to this node. A background thread refreshes the cache periodically
//! and soon after a lookup misses (rate limited); the event thread only reads the cache, so a
//! slow or dead source never blocks it. When every source fails, the cache keeps what it last
//! knew and new containers stay attributed by cgroup alone (ID and runtime) until a source
//! answers again.
//!
//! Nothing here reads Secret values; the token is read from its file for each request (projected
//! tokens rotate), sent only as the bearer credential, and never logged or put in an error.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cgroup::ContainerRef;
use crate::cri::{CONTAINERD_SOCKET, CRIO_SOCKET, CriClient};
use crate::model::{ContainerInfo, PodInfo, Runtime};

/// The service account directory of an in-cluster pod.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The largest pod list read (a node's pods, with full specs, stay far below).
const MAX_POD_LIST: u64 = 64 * 1024 * 1024;

/// What a source says about one container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerMeta {
    pub id: String,
    /// The runtime, when the source says (CRI socket, kubelet `containerd://…` IDs).
    pub runtime: Option<Runtime>,
    pub name: Option<String>,
    pub image: Option<String>,
    pub image_digest: Option<String>,
    pub privileged: Option<bool>,
    pub pod: Option<PodInfo>,
}

/// Where pod metadata came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodSource {
    Cri,
    Kubelet,
    Api,
}

impl PodSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PodSource::Cri => "cri",
            PodSource::Kubelet => "kubelet",
            PodSource::Api => "api",
        }
    }
}

/// Where to look, and how often.
#[derive(Debug, Clone)]
pub struct PodSourcesConfig {
    /// CRI sockets tried in order; a missing socket file is skipped.
    pub cri_sockets: Vec<PathBuf>,
    /// The kubelet's pod list (`https://<node>:10250/pods`); `None` skips the kubelet.
    pub kubelet_url: Option<String>,
    /// The API server's base URL (`https://10.96.0.1:443`); `None` skips the API.
    pub api_url: Option<String>,
    /// This node's name, for the API's `spec.nodeName` field selector (the API is skipped
    /// without it: listing every pod of the cluster from every node would not scale).
    pub node_name: Option<String>,
    /// Bearer token file for the kubelet and the API.
    pub token_file: PathBuf,
    /// CA bundle the kubelet's and API server's certificates are verified against.
    pub ca_file: PathBuf,
    /// Per-request timeout (connect + answer).
    pub timeout: Duration,
    /// Refresh period when nothing asks.
    pub refresh_interval: Duration,
    /// Least time between two refreshes triggered by lookup misses.
    pub miss_refresh_interval: Duration,
}

impl Default for PodSourcesConfig {
    fn default() -> Self {
        PodSourcesConfig {
            cri_sockets: vec![PathBuf::from(CONTAINERD_SOCKET), PathBuf::from(CRIO_SOCKET)],
            kubelet_url: Some("https://127.0.0.1:10250/pods".to_string()),
            api_url: None,
            node_name: None,
            token_file: Path::new(SERVICE_ACCOUNT_DIR).join("token"),
            ca_file: Path::new(SERVICE_ACCOUNT_DIR).join("ca.crt"),
            timeout: Duration::from_secs(3),
            refresh_interval: Duration::from_secs(60),
            miss_refresh_interval: Duration::from_secs(2),
        }
    }
}

impl PodSourcesConfig {
    /// Defaults completed from the environment of an in-cluster DaemonSet: `NODE_NAME` (from the
    /// downward API) and `KUBERNETES_SERVICE_HOST`/`_PORT` for the API.
    pub fn from_env() -> Self {
        let mut config = PodSourcesConfig {
            node_name: std::env::var("NODE_NAME").ok().filter(|n| !n.is_empty()),
            ..PodSourcesConfig::default()
        };
        if let Ok(host) = std::env::var("KUBERNETES_SERVICE_HOST") {
            let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host
            };
            config.api_url = Some(format!("https://{host}:{port}"));
        }
        config
    }
}

/// The state of the sources, for `palisade sensor check`, metrics and health alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributionStatus {
    /// The source of the last successful refresh.
    pub source: Option<PodSource>,
    /// Containers known.
    pub containers: usize,
    /// Refreshes attempted and refreshes where every source failed.
    pub refreshes: u64,
    pub failures: u64,
    /// Whether the last refresh failed (attribution is degraded to cgroup IDs for new containers).
    pub degraded: bool,
    /// Why each source failed in the last failed refresh (no credentials in it).
    pub last_errors: Vec<String>,
}

/// One refresh: the sources tried in order, the first that answers wins.
pub fn fetch(config: &PodSourcesConfig) -> Result<(PodSource, Vec<ContainerMeta>), Vec<String>> {
    let mut errors = Vec::new();
    for socket in &config.cri_sockets {
        if !socket.exists() {
            // Reported only when every source fails, where it says why the CRI was not asked.
            errors.push(format!("cri {}: no socket", socket.display()));
            continue;
        }
        match CriClient::new(socket, config.timeout).snapshot() {
            Ok(containers) => return Ok((PodSource::Cri, containers)),
            Err(error) => errors.push(format!("cri {}: {error}", socket.display())),
        }
    }
    if let Some(url) = &config.kubelet_url {
        match get_pod_list(config, url) {
            Ok(containers) => return Ok((PodSource::Kubelet, containers)),
            Err(error) => errors.push(format!("kubelet: {error}")),
        }
    }
    if let (Some(base), Some(node)) = (&config.api_url, &config.node_name) {
        let url = format!(
            "{}/api/v1/pods?fieldSelector=spec.nodeName%3D{}",
            base.trim_end_matches('/'),
            percent_encode(node)
        );
        match get_pod_list(config, &url) {
            Ok(containers) => return Ok((PodSource::Api, containers)),
            Err(error) => errors.push(format!("api: {error}")),
        }
    }
    if errors.is_empty() {
        errors.push("no pod metadata source configured".to_string());
    }
    Err(errors)
}

/// GETs a `v1` `PodList` (kubelet `/pods` or the API) and reads its containers.
fn get_pod_list(config: &PodSourcesConfig, url: &str) -> Result<Vec<ContainerMeta>, String> {
    let tls = client_tls(&config.ca_file)?;
    let agent = ureq::AgentBuilder::new()
        .tls_config(tls)
        .redirects(0)
        .timeout(config.timeout)
        .user_agent(concat!("palisade-sensor/", env!("CARGO_PKG_VERSION")))
        .build();
    let mut request = agent.get(url).set("Accept", "application/json");
    if let Ok(token) = std::fs::read_to_string(&config.token_file) {
        let token = token.trim();
        if !token.is_empty() {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
    }
    let origin = origin_of(url);
    let response = request.call().map_err(|error| match error {
        ureq::Error::Status(status, _) => format!("{origin}: HTTP {status}"),
        ureq::Error::Transport(transport) => format!("{origin}: {}", transport.kind()),
    })?;
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_POD_LIST)
        .read_to_end(&mut body)
        .map_err(|error| format!("{origin}: reading the pod list: {error}"))?;
    parse_pod_list_json(&body).map_err(|error| format!("{origin}: {error}"))
}

/// A `v1` `PodList` in JSON (kubelet `/pods` or the API's answer) read into container metadata.
pub fn parse_pod_list_json(body: &[u8]) -> Result<Vec<ContainerMeta>, String> {
    let list: Value =
        serde_json::from_slice(body).map_err(|error| format!("pod list is not JSON: {error}"))?;
    if !list.get("items").is_some_and(Value::is_array) {
        return Err("answer is not a PodList".to_string());
    }
    Ok(parse_pod_list(&list))
}

fn client_tls(ca_file: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(ca_file)
        .map_err(|error| format!("CA file {}: {error}", ca_file.display()))?;
    for certificate in certificates {
        let certificate =
            certificate.map_err(|error| format!("CA file {}: {error}", ca_file.display()))?;
        roots
            .add(certificate)
            .map_err(|error| format!("CA file {}: {error}", ca_file.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("CA file {}: no certificate", ca_file.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS setup: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// `scheme://host:port` of a URL, for errors.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!("{scheme}://{host}")
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The containers of a `v1` `PodList`, keyed by the runtime IDs of their statuses (a container
/// without a status has not started and has no process to attribute).
pub fn parse_pod_list(list: &Value) -> Vec<ContainerMeta> {
    let mut containers = Vec::new();
    let Some(items) = list.get("items").and_then(Value::as_array) else {
        return containers;
    };
    for pod in items {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
        let metadata = pod.get("metadata");
        let labels: BTreeMap<String, String> = metadata
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let pod_info = PodInfo {
            uid: text(metadata.and_then(|m| m.get("uid"))).unwrap_or_default(),
            namespace: text(metadata.and_then(|m| m.get("namespace"))).unwrap_or_default(),
            name: text(metadata.and_then(|m| m.get("name"))).unwrap_or_default(),
            labels,
        };
        // securityContext.privileged by container name, over every container kind.
        let mut privileged: HashMap<&str, bool> = HashMap::new();
        let mut images: HashMap<&str, &str> = HashMap::new();
        for kind in ["containers", "initContainers", "ephemeralContainers"] {
            let specs = pod
                .get("spec")
                .and_then(|s| s.get(kind))
                .and_then(Value::as_array);
            for spec in specs.into_iter().flatten() {
                let Some(name) = spec.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let flag = spec
                    .get("securityContext")
                    .and_then(|s| s.get("privileged"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                privileged.insert(name, flag);
                if let Some(image) = spec.get("image").and_then(Value::as_str) {
                    images.insert(name, image);
                }
            }
        }
        for kind in [
            "containerStatuses",
            "initContainerStatuses",
            "ephemeralContainerStatuses",
        ] {
            let statuses = pod
                .get("status")
                .and_then(|s| s.get(kind))
                .and_then(Value::as_array);
            for status in statuses.into_iter().flatten() {
                let Some((runtime, id)) = status
                    .get("containerID")
                    .and_then(Value::as_str)
                    .and_then(split_container_id)
                else {
                    continue;
                };
                let name = status.get("name").and_then(Value::as_str);
                // The spec's image is what the user wrote; the status's may be resolved.
                let image = name
                    .and_then(|n| images.get(n).copied())
                    .or_else(|| status.get("image").and_then(Value::as_str))
                    .map(str::to_string);
                let image_digest = status
                    .get("imageID")
                    .and_then(Value::as_str)
                    .and_then(crate::cri::digest_of);
                containers.push(ContainerMeta {
                    id,
                    runtime,
                    name: name.map(str::to_string),
                    image,
                    image_digest,
                    privileged: name.and_then(|n| privileged.get(n).copied()),
                    pod: Some(pod_info.clone()),
                });
            }
        }
    }
    containers
}

/// `containerd://<id>` → (runtime, id).
fn split_container_id(value: &str) -> Option<(Option<Runtime>, String)> {
    let (scheme, id) = value.split_once("://")?;
    if id.is_empty() {
        return None;
    }
    let runtime = match scheme {
        "containerd" => Some(Runtime::Containerd),
        "cri-o" => Some(Runtime::CriO),
        "docker" => Some(Runtime::Docker),
        _ => None,
    };
    Some((runtime, id.to_string()))
}

#[derive(Debug, Default)]
struct Cache {
    containers: HashMap<String, ContainerMeta>,
    status: AttributionStatus,
    /// Successful refreshes so far: the generation a miss is compared with.
    successes: u64,
}

#[derive(Debug)]
struct Shared {
    cache: RwLock<Cache>,
    /// Set by a lookup miss, cleared by the refresher.
    wanted: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
    /// Container IDs looked up in vain, with the successful-refresh generation of their first
    /// miss. A container no source knows (plain runc, a container the runtime forgot) must not
    /// make every lookup ask the runtime again: once a successful refresh after its first miss
    /// did not find it, it waits for the periodic refresh.
    misses: Mutex<HashMap<String, u64>>,
}

/// Bound on remembered misses (IDs of short-lived unknown containers must not pile up).
const MAX_MISSES: usize = 16_384;

/// Container → pod metadata, refreshed in the background. Dropping it stops the refresher.
#[derive(Debug)]
pub struct PodResolver {
    shared: Arc<Shared>,
    refresher: Option<JoinHandle<()>>,
}

impl PodResolver {
    /// Starts the refresher thread; the first refresh runs at once, in the background.
    pub fn start(config: PodSourcesConfig) -> std::io::Result<PodResolver> {
        let shared = Arc::new(Shared {
            cache: RwLock::new(Cache::default()),
            wanted: Mutex::new(true),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            misses: Mutex::new(HashMap::new()),
        });
        let thread_shared = Arc::clone(&shared);
        let refresher = std::thread::Builder::new()
            .name("pod-metadata".to_string())
            .spawn(move || refresh_loop(&thread_shared, &config))?;
        Ok(PodResolver {
            shared,
            refresher: Some(refresher),
        })
    }

    /// What the sources said about a container, without waiting: a miss asks the refresher for
    /// a refresh (rate limited) and returns `None` now.
    pub fn lookup(&self, container_id: &str) -> Option<ContainerInfo> {
        let meta = self.meta(container_id)?;
        Some(ContainerInfo {
            id: meta.id.clone(),
            runtime: meta.runtime.unwrap_or(Runtime::Containerd),
            cgroup_path: String::new(),
            pod_uid: meta.pod.as_ref().map(|p| p.uid.clone()),
            name: meta.name,
            image: meta.image,
            image_digest: meta.image_digest,
            privileged: meta.privileged,
            pod: meta.pod,
        })
    }

    /// The container a cgroup path named, completed with what the sources know; the cgroup's
    /// facts (runtime, path, pod UID) stand when no source knows the container.
    pub fn attribute(&self, container: &ContainerRef) -> ContainerInfo {
        let mut info = container.to_container_info();
        if let Some(meta) = self.meta(&container.id) {
            info.name = meta.name;
            info.image = meta.image;
            info.image_digest = meta.image_digest;
            info.privileged = meta.privileged;
            if info.pod_uid.is_none() {
                info.pod_uid = meta.pod.as_ref().map(|p| p.uid.clone());
            }
            info.pod = meta.pod;
        }
        info
    }

    pub fn status(&self) -> AttributionStatus {
        read_lock(&self.shared.cache).status.clone()
    }

    /// Asks for a refresh soon (rate limited like a miss).
    pub fn request_refresh(&self) {
        let mut wanted = self
            .shared
            .wanted
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *wanted = true;
        self.shared.wake.notify_one();
    }

    fn meta(&self, container_id: &str) -> Option<ContainerMeta> {
        let (found, generation) = {
            let cache = read_lock(&self.shared.cache);
            (cache.containers.get(container_id).cloned(), cache.successes)
        };
        if found.is_none() {
            let mut misses = self
                .shared
                .misses
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if misses.len() >= MAX_MISSES {
                misses.clear();
            }
            let first_miss = *misses.entry(container_id.to_string()).or_insert(generation);
            drop(misses);
            if first_miss == generation {
                self.request_refresh();
            }
        }
        found
    }
}

impl Drop for PodResolver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_all();
        if let Some(refresher) = self.refresher.take() {
            let _ = refresher.join();
        }
    }
}

fn read_lock(cache: &RwLock<Cache>) -> std::sync::RwLockReadGuard<'_, Cache> {
    cache
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn refresh_loop(shared: &Shared, config: &PodSourcesConfig) {
    let mut last_refresh: Option<Instant> = None;
    loop {
        // Wait until a periodic refresh is due, or a miss asked and the rate limit allows.
        {
            let mut wanted = shared
                .wanted
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            loop {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let since = last_refresh.map(|at| at.elapsed());
                let periodic_due = since.is_none_or(|s| s >= config.refresh_interval);
                let miss_allowed = since.is_none_or(|s| s >= config.miss_refresh_interval);
                if periodic_due || (*wanted && miss_allowed) {
                    *wanted = false;
                    break;
                }
                let until_periodic = config
                    .refresh_interval
                    .saturating_sub(since.unwrap_or_default());
                let wait = if *wanted {
                    config
                        .miss_refresh_interval
                        .saturating_sub(since.unwrap_or_default())
                        .min(until_periodic)
                } else {
                    until_periodic
                };
                let (guard, _) = shared
                    .wake
                    .wait_timeout(wanted, wait.max(Duration::from_millis(1)))
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                wanted = guard;
            }
        }
        last_refresh = Some(Instant::now());
        let outcome = fetch(config);
        let mut cache = shared
            .cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.status.refreshes += 1;
        match outcome {
            Ok((source, containers)) => {
                cache.containers = containers.into_iter().map(|c| (c.id.clone(), c)).collect();
                cache.successes += 1;
                cache.status.source = Some(source);
                cache.status.containers = cache.containers.len();
                cache.status.degraded = false;
                cache.status.last_errors.clear();
            }
            Err(errors) => {
                // Keep what was known: a container that existed a minute ago most likely still
                // does, and a stale name beats none until a source answers again.
                cache.status.failures += 1;
                cache.status.degraded = true;
                cache.status.last_errors = errors;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod_list() -> Value {
        serde_json::json!({
            "kind": "PodList",
            "apiVersion": "v1",
            "items": [{
                "metadata": {
                    "name": "web-0", "namespace": "shop",
                    "uid": "5e0c4b8a-2f1d-4c3b-9a8e-7d6c5b4a3f21",
                    "labels": {"app": "web", "tier": "front"}
                },
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx:1.27",
                         "securityContext": {"privileged": true}},
                        {"name": "sidecar", "image": "busybox:1.36"}
                    ],
                    "initContainers": [{"name": "init", "image": "busybox:1.36"}]
                },
                "status": {
                    "containerStatuses": [
                        {"name": "nginx", "image": "docker.io/library/nginx:1.27",
                         "imageID": "docker.io/library/nginx@sha256:aa",
                         "containerID": "containerd://c1"},
                        {"name": "sidecar", "image": "busybox:1.36", "imageID": ""}
                    ],
                    "initContainerStatuses": [
                        {"name": "init", "containerID": "cri-o://c0", "imageID": "sha256:bb"}
                    ]
                }
            }, {"metadata": "not an object", "status": {"containerStatuses": [1, "x", null]}}]
        })
    }

    #[test]
    fn pod_list_containers() {
        let containers = parse_pod_list(&pod_list());
        assert_eq!(containers.len(), 2);
        let nginx = containers.iter().find(|c| c.id == "c1").expect("c1");
        assert_eq!(nginx.runtime, Some(Runtime::Containerd));
        assert_eq!(nginx.name.as_deref(), Some("nginx"));
        assert_eq!(nginx.image.as_deref(), Some("nginx:1.27"));
        assert_eq!(nginx.image_digest.as_deref(), Some("sha256:aa"));
        assert_eq!(nginx.privileged, Some(true));
        let pod = nginx.pod.as_ref().expect("pod");
        assert_eq!(
            (pod.namespace.as_str(), pod.name.as_str()),
            ("shop", "web-0")
        );
        assert_eq!(pod.labels.get("tier").map(String::as_str), Some("front"));
        let init = containers.iter().find(|c| c.id == "c0").expect("c0");
        assert_eq!(init.runtime, Some(Runtime::CriO));
        assert_eq!(init.privileged, Some(false));
        assert!(parse_pod_list(&serde_json::json!({"items": 3})).is_empty());
        assert!(parse_pod_list(&serde_json::json!([])).is_empty());
        assert!(parse_pod_list_json(b"{\"kind\":\"Status\"}").is_err());
        assert!(parse_pod_list_json(b"\xff").is_err());
        assert_eq!(
            parse_pod_list_json(pod_list().to_string().as_bytes()).map(|c| c.len()),
            Ok(2)
        );
    }

    #[test]
    fn container_id_schemes() {
        assert_eq!(
            split_container_id("docker://abc"),
            Some((Some(Runtime::Docker), "abc".to_string()))
        );
        assert_eq!(split_container_id("containerd://"), None);
        assert_eq!(split_container_id("abc"), None);
        assert_eq!(
            split_container_id("other://x"),
            Some((None, "x".to_string()))
        );
    }

    #[test]
    fn url_helpers() {
        assert_eq!(
            origin_of("https://10.0.0.1:10250/pods?x=1"),
            "https://10.0.0.1:10250"
        );
        assert_eq!(percent_encode("node-1.example"), "node-1.example");
        assert_eq!(percent_encode("a b&c"), "a%20b%26c");
    }

    #[test]
    fn no_source_degrades_without_blocking() {
        let config = PodSourcesConfig {
            cri_sockets: vec![PathBuf::from("/nonexistent/cri.sock")],
            kubelet_url: None,
            api_url: None,
            node_name: None,
            token_file: PathBuf::from("/nonexistent/token"),
            ca_file: PathBuf::from("/nonexistent/ca.crt"),
            timeout: Duration::from_millis(200),
            refresh_interval: Duration::from_secs(60),
            miss_refresh_interval: Duration::from_millis(10),
        };
        assert!(fetch(&config).is_err());
        let resolver = PodResolver::start(config).expect("start");
        let started = Instant::now();
        assert_eq!(resolver.lookup("c1"), None);
        assert!(started.elapsed() < Duration::from_millis(100));
        let deadline = Instant::now() + Duration::from_secs(5);
        while resolver.status().refreshes == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = resolver.status();
        assert!(status.degraded);
        assert!(status.failures >= 1);
        assert_eq!(status.source, None);
        // the cgroup's facts stand alone
        let reference = ContainerRef {
            runtime: Runtime::Runc,
            id: "box".to_string(),
            pod_uid: None,
            cgroup_path: "/palisade-test/box".to_string(),
        };
        let info = resolver.attribute(&reference);
        assert_eq!((info.id.as_str(), info.runtime), ("box", Runtime::Runc));
        // A plain runc container's name is its ID, known without any source.
        assert_eq!(info.name.as_deref(), Some("box"));
        assert_eq!(info.image, None);
    }

    #[test]
    fn api_without_node_name_is_skipped() {
        let config = PodSourcesConfig {
            cri_sockets: Vec::new(),
            kubelet_url: None,
            api_url: Some("https://127.0.0.1:1".to_string()),
            node_name: None,
            ..PodSourcesConfig::default()
        };
        let errors = fetch(&config).expect_err("nothing to ask");
        assert_eq!(errors, ["no pod metadata source configured"]);
    }
}
