//! The `sensor` section of palisade.yaml (docs/sensor.md lists every key):
//!
//! ```yaml
//! sensor:
//!   clusterName: prod-eu
//!   ruleFiles: [/etc/palisade/rules/extra.yaml]
//!   aggregationWindowSeconds: 60
//!   sensitiveReads: [/etc/vault/]
//!   watchedPaths: [/srv/audit/]
//!   attribution:
//!     criSockets: [/run/containerd/containerd.sock]
//!     procRoot: /host/proc
//!     api: true
//!   ringBufferMiB: 8
//!   allowedApiClients: [kubectl, /usr/local/bin/argocd*]
//!   moduleLoadAttempts: auto
//!   drift:
//!     rules:
//!       - {name: system, namespaces: [kube-system], action: ignore}
//!       - {name: everything-else, action: alert}
//! ```
//!
//! Unknown keys are errors naming the key and its line: a typo (`allowedProcess`) would otherwise
//! silently turn a setting off, and for `drift` that can mean blocking what was meant to be allowed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use palisade_core::ConfigError;
use palisade_core::{Mark, Node, Value};

use crate::drift::{self, DriftPolicy};
use crate::kernel::ModuleLoadAttempts;

/// Path prefixes whose reads are reported (the kernel filters opens for reading by these). They
/// hold credentials an attacker on the node or in a container goes for first: password hashes,
/// SSH keys, service account tokens, kubeconfigs and the kubelet's client certificates.
pub const DEFAULT_SENSITIVE_READS: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/ssh/ssh_host_",
    "/root/.ssh/",
    "/root/.kube/",
    "/var/run/secrets/kubernetes.io/",
    "/run/secrets/kubernetes.io/",
    "/var/run/secrets/tokens/",
    "/run/secrets/tokens/",
    "/etc/kubernetes/",
    "/var/lib/kubelet/kubeconfig",
    "/var/lib/kubelet/pki/",
    "/etc/rancher/k3s/",
    ".kube/config",
    ".ssh/id_",
    ".ssh/authorized_keys",
];

/// Paths whose removal, renaming, truncation or timestamp change is reported: logs and shell
/// histories are what an intruder erases or back-dates to cover their tracks.
pub const DEFAULT_WATCHED_PATHS: &[&str] = &[
    "/var/log/",
    "/var/audit/",
    ".bash_history",
    ".zsh_history",
    ".ash_history",
    ".sh_history",
    ".history",
    ".python_history",
    ".mysql_history",
    ".psql_history",
];

/// CRI sockets tried in order for pod and image names: containerd, CRI-O, cri-dockerd and the
/// containerd embedded in k3s/RKE2.
pub const DEFAULT_CRI_SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/cri-dockerd.sock",
    "/run/k3s/containerd/containerd.sock",
];

/// Most entries in each path list: the kernel keeps them in fixed-size maps.
pub const MAX_PATH_ENTRIES: usize = 128;
/// Longest path entry, in bytes: the kernel compares at most this many bytes of a path.
pub const MAX_PATH_LEN: usize = 255;

const DEFAULT_AGGREGATION_WINDOW: Duration = Duration::from_secs(60);
const DEFAULT_RING_BUFFER_MIB: u32 = 8;
/// Larger buffers are locked kernel memory on every node; 256 MiB is far beyond any flood the
/// user space side can drain anyway.
const MAX_RING_BUFFER_MIB: u32 = 256;

/// The whole `sensor` section, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorConfig {
    /// The node's name in alerts and for filtering the API's pod list; from `nodeName`, else the
    /// `NODE_NAME` environment variable (the DaemonSet sets it from `spec.nodeName`), else the
    /// host name.
    pub node_name: String,
    /// The cluster's name: alerts carry it and drift rules with `clusters` compare against it.
    pub cluster_name: Option<String>,
    /// Falco-syntax rule files loaded after the built-in rules.
    pub rule_files: Vec<PathBuf>,
    /// Whether the built-in detections are loaded.
    pub builtin_rules: bool,
    /// Identical alerts within this window are merged into one with a count; zero turns it off.
    pub aggregation_window: Duration,
    /// Reads of these paths are reported (defaults plus `sensitiveReads`).
    pub sensitive_reads: Vec<PathPattern>,
    /// Tampering with these paths is reported (defaults plus `watchedPaths`).
    pub watched_paths: Vec<PathPattern>,
    pub attribution: AttributionConfig,
    /// Size of the kernel-to-user ring buffer in bytes (a power of two, as the kernel requires).
    pub ring_buffer_bytes: u32,
    /// Processes allowed to talk to the Kubernetes API server from a container without an alert:
    /// exe path globs (containing `/`) or process names (globs allowed).
    pub allowed_api_clients: Vec<String>,
    /// Whether module-load attempts are watched on kernels where no load can succeed.
    pub module_load_attempts: ModuleLoadAttempts,
    pub drift: DriftPolicy,
}

/// Where attribution looks for pod metadata, in this order: CRI, kubelet, API server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributionConfig {
    /// CRI sockets, the first one that exists is used (as seen from the sensor: the DaemonSet
    /// mounts the host's `/run` paths at the same place).
    pub cri_sockets: Vec<PathBuf>,
    /// Whether to ask the kubelet's `/pods` endpoint when no CRI socket answers.
    pub kubelet: bool,
    /// The kubelet's URL; `None`: `https://$NODE_IP:10250`, or `https://127.0.0.1:10250` without
    /// `NODE_IP`.
    pub kubelet_url: Option<String>,
    /// Whether to list this node's pods from the API server as the last resort.
    pub api: bool,
    /// Where the host's procfs is (`/host/proc` in the DaemonSet: the host's own mount, which
    /// the runtime's masking of a container's `/proc` does not touch).
    pub proc_root: PathBuf,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            cri_sockets: DEFAULT_CRI_SOCKETS.iter().map(PathBuf::from).collect(),
            kubelet: true,
            kubelet_url: None,
            api: true,
            proc_root: PathBuf::from("/proc"),
        }
    }
}

/// A path a file event is compared with: an absolute prefix (`/etc/kubernetes/`) or, without a
/// leading `/`, the end of a path starting at a component (`.bash_history` matches
/// `/home/ana/.bash_history`, not `/tmp/x.bash_history`); its last component may be the start of
/// the file's name (`.ssh/id_` matches `/root/.ssh/id_rsa`). Relative entries exist because home
/// directories are anywhere (`/home/*`, `/var/lib/postgresql`), which a prefix cannot say.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathPattern {
    Prefix(String),
    Suffix(String),
}

impl PathPattern {
    pub fn parse(text: &str) -> Result<PathPattern, String> {
        if text.is_empty() {
            return Err("must not be empty".to_string());
        }
        if text.len() > MAX_PATH_LEN {
            return Err(format!("longer than {MAX_PATH_LEN} bytes"));
        }
        if text.contains('\0') {
            return Err("must not contain a NUL byte".to_string());
        }
        if text.contains('*') || text.contains('?') {
            return Err(
                "globs are not supported here: give a path prefix (`/etc/app/`) or a file name \
                 suffix (`.bash_history`)"
                    .to_string(),
            );
        }
        Ok(if text.starts_with('/') {
            PathPattern::Prefix(text.to_string())
        } else {
            PathPattern::Suffix(text.trim_start_matches("./").to_string())
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            PathPattern::Prefix(text) | PathPattern::Suffix(text) => text,
        }
    }

    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Prefix(prefix) => path.starts_with(prefix.as_str()),
            // Anywhere the entry starts a path component and the path ends within the entry's
            // last component: `.ssh/id_` matches `/root/.ssh/id_rsa`.
            PathPattern::Suffix(suffix) => path.match_indices(suffix.as_str()).any(|(at, _)| {
                let starts_component = at == 0 || path.as_bytes().get(at - 1) == Some(&b'/');
                let rest = path.get(at + suffix.len()..).unwrap_or("");
                starts_component && !rest.contains('/')
            }),
        }
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(crate) fn error(key: &str, mark: Mark, message: impl Into<String>) -> ConfigError {
    ConfigError::new(key, mark, message)
}

/// A map being read, with its key path for errors. Shared with the drift policy reader.
pub(crate) struct Section<'a> {
    pub node: &'a Node,
    pub path: String,
}

impl<'a> Section<'a> {
    /// `node` must be a map (or null, read as an empty map).
    pub fn new(node: &'a Node, path: &str, keys: &[&str]) -> Result<Section<'a>, ConfigError> {
        if !node.is_map() && !node.is_null() {
            return Err(error(path, node.mark, "expected a map"));
        }
        for (key, value) in node.entries() {
            if !keys.contains(&key.as_str()) {
                let hint = keys
                    .iter()
                    .find(|known| known.eq_ignore_ascii_case(key) || close(known, key))
                    .map(|known| format!(" (did you mean `{known}`?)"))
                    .unwrap_or_default();
                return Err(error(
                    &format!("{path}.{key}"),
                    value.mark,
                    format!("unknown key{hint}; expected one of {}", keys.join(", ")),
                ));
            }
        }
        Ok(Section {
            node,
            path: path.to_string(),
        })
    }

    pub fn key(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The value under `key`, `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key).filter(|n| !n.is_null())
    }

    pub fn mark_of(&self, key: &str) -> Mark {
        self.get(key).map_or(self.node.mark, |n| n.mark)
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(node) => match &node.value {
                Value::String(text) if !text.trim().is_empty() => Ok(Some(text.clone())),
                Value::String(_) => Err(error(&self.key(key), node.mark, "must not be empty")),
                Value::Bool(_) | Value::Int(_) | Value::Float(_) => Err(error(
                    &self.key(key),
                    node.mark,
                    "expected a string; quote values YAML reads as a boolean or a number \
                     (`\"on\"`, `\"n\"`, `\"1\"`)",
                )),
                _ => Err(error(&self.key(key), node.mark, "expected a string")),
            },
        }
    }

    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(node) => node
                .as_bool()
                .ok_or_else(|| error(&self.key(key), node.mark, "expected true or false")),
        }
    }

    pub fn integer(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(node) => match node.as_i64() {
                Some(n) if n >= 0 && (n as u64) >= min && (n as u64) <= max => Ok(n as u64),
                _ => Err(error(
                    &self.key(key),
                    node.mark,
                    format!("expected a whole number from {min} to {max}"),
                )),
            },
        }
    }

    /// A list of non-empty strings (a single string is not accepted: `[a]` vs `a` mistakes in
    /// scope lists would otherwise go unnoticed).
    pub fn strings(&self, key: &str) -> Result<Vec<(String, Mark)>, ConfigError> {
        let Some(node) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Seq(items) = &node.value else {
            return Err(error(
                &self.key(key),
                node.mark,
                "expected a list of strings",
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match &item.value {
                Value::String(text) if !text.trim().is_empty() => Ok((text.clone(), item.mark)),
                Value::String(_) => Err(error(
                    &format!("{}[{i}]", self.key(key)),
                    item.mark,
                    "must not be empty",
                )),
                _ => Err(error(
                    &format!("{}[{i}]", self.key(key)),
                    item.mark,
                    "expected a string",
                )),
            })
            .collect()
    }
}

/// One edit away (a letter added, dropped or changed): enough to catch typos in key names.
fn close(known: &str, typed: &str) -> bool {
    let (a, b) = (known.as_bytes(), typed.as_bytes());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (
        a.get(prefix..).unwrap_or_default(),
        b.get(prefix..).unwrap_or_default(),
    );
    ra.get(1..) == rb.get(1..) || ra.get(1..) == Some(rb) || Some(ra) == rb.get(1..)
}

const SENSOR_KEYS: &[&str] = &[
    "nodeName",
    "clusterName",
    "ruleFiles",
    "builtinRules",
    "aggregationWindowSeconds",
    "sensitiveReads",
    "watchedPaths",
    "defaultPaths",
    "attribution",
    "ringBufferMiB",
    "allowedApiClients",
    "moduleLoadAttempts",
    "drift",
];

impl SensorConfig {
    /// Reads the `sensor` section; a null node (section absent) gives the defaults.
    pub fn from_node(node: &Node) -> Result<SensorConfig, ConfigError> {
        Self::from_node_with(node, &Environment::current())
    }

    /// Reads the `sensor` key of a whole palisade.yaml document given as text; `file` names it in
    /// errors. Other top-level keys are left to their own readers.
    pub fn from_yaml(text: &str, file: &str) -> Result<SensorConfig, ConfigError> {
        let root = palisade_kube::yaml::read_document(text.as_bytes(), file).map_err(|e| {
            error(
                file,
                Mark::new(e.line.unwrap_or(0), e.column.unwrap_or(0)),
                e.message,
            )
        })?;
        let section = root.as_ref().and_then(|root| root.get("sensor"));
        Self::from_node(section.unwrap_or(Node::null()))
    }

    /// As [`SensorConfig::from_node`], with the environment given (tests).
    pub fn from_node_with(node: &Node, env: &Environment) -> Result<SensorConfig, ConfigError> {
        let section = Section::new(node, "sensor", SENSOR_KEYS)?;
        let node_name = match section.string("nodeName")? {
            Some(name) => name,
            None => env.node_name(),
        };
        let defaults = section.boolean("defaultPaths", true)?;
        let ring_mib = section.integer(
            "ringBufferMiB",
            u64::from(DEFAULT_RING_BUFFER_MIB),
            1,
            u64::from(MAX_RING_BUFFER_MIB),
        )? as u32;
        if !ring_mib.is_power_of_two() {
            return Err(error(
                &section.key("ringBufferMiB"),
                section.mark_of("ringBufferMiB"),
                format!("must be a power of two (the kernel requires it), got {ring_mib}"),
            ));
        }
        let allowed_api_clients = section
            .strings("allowedApiClients")?
            .into_iter()
            .map(|(text, _)| text)
            .collect();
        let module_load_attempts = match section.string("moduleLoadAttempts")?.as_deref() {
            None | Some("auto") => ModuleLoadAttempts::Auto,
            Some("always") => ModuleLoadAttempts::Always,
            Some(other) => {
                return Err(error(
                    &section.key("moduleLoadAttempts"),
                    section.mark_of("moduleLoadAttempts"),
                    format!("expected `auto` or `always`, got `{other}`"),
                ));
            }
        };
        let drift = match section.get("drift") {
            None => DriftPolicy::default(),
            Some(node) => drift::parse_policy(node, &section.key("drift"))?,
        };
        Ok(SensorConfig {
            node_name,
            cluster_name: section.string("clusterName")?,
            rule_files: section
                .strings("ruleFiles")?
                .into_iter()
                .map(|(text, _)| PathBuf::from(text))
                .collect(),
            builtin_rules: section.boolean("builtinRules", true)?,
            aggregation_window: Duration::from_secs(section.integer(
                "aggregationWindowSeconds",
                DEFAULT_AGGREGATION_WINDOW.as_secs(),
                0,
                3600,
            )?),
            sensitive_reads: path_list(
                &section,
                "sensitiveReads",
                defaults.then_some(DEFAULT_SENSITIVE_READS),
            )?,
            watched_paths: path_list(
                &section,
                "watchedPaths",
                defaults.then_some(DEFAULT_WATCHED_PATHS),
            )?,
            attribution: parse_attribution(&section)?,
            ring_buffer_bytes: ring_mib * 1024 * 1024,
            allowed_api_clients,
            module_load_attempts,
            drift,
        })
    }
}

impl Default for SensorConfig {
    fn default() -> Self {
        // The defaults cannot fail to parse: an empty section has nothing to reject.
        SensorConfig::from_node(Node::null()).unwrap_or_else(|_| SensorConfig {
            node_name: Environment::current().node_name(),
            cluster_name: None,
            rule_files: Vec::new(),
            builtin_rules: true,
            aggregation_window: DEFAULT_AGGREGATION_WINDOW,
            sensitive_reads: Vec::new(),
            watched_paths: Vec::new(),
            attribution: AttributionConfig::default(),
            ring_buffer_bytes: DEFAULT_RING_BUFFER_MIB * 1024 * 1024,
            allowed_api_clients: Vec::new(),
            module_load_attempts: ModuleLoadAttempts::Auto,
            drift: DriftPolicy::default(),
        })
    }
}

/// Defaults (when on) followed by the configured entries, without duplicates.
fn path_list(
    section: &Section<'_>,
    key: &str,
    defaults: Option<&[&str]>,
) -> Result<Vec<PathPattern>, ConfigError> {
    let mut patterns: Vec<PathPattern> = Vec::new();
    for text in defaults.unwrap_or_default() {
        if let Ok(pattern) = PathPattern::parse(text)
            && !patterns.contains(&pattern)
        {
            patterns.push(pattern);
        }
    }
    for (i, (text, mark)) in section.strings(key)?.into_iter().enumerate() {
        let pattern = PathPattern::parse(&text)
            .map_err(|message| error(&format!("{}[{i}]", section.key(key)), mark, message))?;
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    if patterns.len() > MAX_PATH_ENTRIES {
        return Err(error(
            &section.key(key),
            section.mark_of(key),
            format!(
                "{} paths with the defaults; at most {MAX_PATH_ENTRIES} fit the kernel's map",
                patterns.len()
            ),
        ));
    }
    Ok(patterns)
}

fn parse_attribution(sensor: &Section<'_>) -> Result<AttributionConfig, ConfigError> {
    let Some(node) = sensor.get("attribution") else {
        return Ok(AttributionConfig::default());
    };
    let section = Section::new(
        node,
        &sensor.key("attribution"),
        &["criSockets", "kubelet", "kubeletUrl", "api", "procRoot"],
    )?;
    let defaults = AttributionConfig::default();
    let cri_sockets = match section.get("criSockets") {
        None => defaults.cri_sockets,
        Some(_) => {
            let mut sockets = Vec::new();
            for (i, (text, mark)) in section.strings("criSockets")?.into_iter().enumerate() {
                let text = text.strip_prefix("unix://").unwrap_or(&text).to_string();
                if !text.starts_with('/') {
                    return Err(error(
                        &format!("{}[{i}]", section.key("criSockets")),
                        mark,
                        "expected an absolute socket path (`/run/containerd/containerd.sock`)",
                    ));
                }
                sockets.push(PathBuf::from(text));
            }
            sockets
        }
    };
    let kubelet_url = section.string("kubeletUrl")?;
    if let Some(url) = &kubelet_url
        && !url.starts_with("https://")
    {
        return Err(error(
            &section.key("kubeletUrl"),
            section.mark_of("kubeletUrl"),
            "expected an https:// URL (the kubelet's read-only HTTP port is not used)",
        ));
    }
    let proc_root = match section.string("procRoot")? {
        None => defaults.proc_root,
        Some(path) if path.starts_with('/') => PathBuf::from(path),
        Some(_) => {
            return Err(error(
                &section.key("procRoot"),
                section.mark_of("procRoot"),
                "expected an absolute path",
            ));
        }
    };
    Ok(AttributionConfig {
        cri_sockets,
        kubelet: section.boolean("kubelet", defaults.kubelet)?,
        kubelet_url,
        api: section.boolean("api", defaults.api)?,
        proc_root,
    })
}

/// What the defaults depend on outside the file.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `NODE_NAME`.
    pub node_name_var: Option<String>,
    /// The host's name (`/proc/sys/kernel/hostname`).
    pub hostname: Option<String>,
}

impl Environment {
    pub fn current() -> Environment {
        Environment {
            node_name_var: std::env::var("NODE_NAME").ok(),
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").ok(),
        }
    }

    /// `NODE_NAME` first: in a pod the host name is the pod's, not the node's (unless
    /// hostNetwork), while the DaemonSet passes `spec.nodeName` in `NODE_NAME`.
    pub fn node_name(&self) -> String {
        [&self.node_name_var, &self.hostname]
            .into_iter()
            .flatten()
            .map(|name| name.trim())
            .find(|name| !name.is_empty())
            .unwrap_or("localhost")
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::DriftAction;

    fn parse(yaml: &str) -> Result<SensorConfig, ConfigError> {
        let env = Environment {
            node_name_var: Some("node-a".to_string()),
            hostname: Some("host-a\n".to_string()),
        };
        let root = palisade_kube::yaml::read_document(yaml.as_bytes(), "palisade.yaml")
            .expect("test YAML is well formed")
            .unwrap_or_default();
        SensorConfig::from_node_with(root.get("sensor").unwrap_or(Node::null()), &env)
    }

    #[test]
    fn defaults_when_the_section_is_absent() {
        let config = parse("checks: {}\n").unwrap();
        assert_eq!(config.node_name, "node-a");
        assert_eq!(config.cluster_name, None);
        assert!(config.builtin_rules);
        assert!(config.rule_files.is_empty());
        assert_eq!(config.aggregation_window, Duration::from_secs(60));
        assert_eq!(config.ring_buffer_bytes, 8 * 1024 * 1024);
        assert!(
            config
                .sensitive_reads
                .contains(&PathPattern::Prefix("/etc/shadow".into()))
        );
        assert!(config.sensitive_reads.contains(&PathPattern::Prefix(
            "/var/run/secrets/kubernetes.io/".into()
        )));
        assert!(
            config
                .watched_paths
                .contains(&PathPattern::Suffix(".bash_history".into()))
        );
        assert!(config.attribution.api && config.attribution.kubelet);
        assert_eq!(
            config.attribution.cri_sockets.first(),
            Some(&PathBuf::from("/run/containerd/containerd.sock"))
        );
        assert!(config.drift.rules.is_empty());
    }

    #[test]
    fn node_name_falls_back_to_the_host_name() {
        let env = Environment {
            node_name_var: Some("  ".to_string()),
            hostname: Some("worker-3\n".to_string()),
        };
        assert_eq!(env.node_name(), "worker-3");
        assert_eq!(Environment::default().node_name(), "localhost");
        let explicit = parse("sensor:\n  nodeName: n1\n").unwrap();
        assert_eq!(explicit.node_name, "n1");
    }

    #[test]
    fn reads_every_key() {
        let config = parse(
            r#"
sensor:
  clusterName: prod
  ruleFiles: [/etc/palisade/extra.yaml]
  builtinRules: false
  aggregationWindowSeconds: 0
  sensitiveReads: [/etc/vault/, .netrc]
  watchedPaths: [/srv/audit/]
  defaultPaths: false
  attribution:
    criSockets: ["unix:///run/crio/crio.sock"]
    kubelet: false
    kubeletUrl: https://10.0.0.5:10250
    api: false
    procRoot: /host/proc
  ringBufferMiB: 32
  allowedApiClients: [kubectl]
  moduleLoadAttempts: always
  drift:
    rules:
      - {name: all, action: alert}
"#,
        )
        .unwrap();
        assert_eq!(config.module_load_attempts, ModuleLoadAttempts::Always);
        assert_eq!(config.cluster_name.as_deref(), Some("prod"));
        assert_eq!(
            config.rule_files,
            [PathBuf::from("/etc/palisade/extra.yaml")]
        );
        assert!(!config.builtin_rules);
        assert_eq!(config.aggregation_window, Duration::ZERO);
        assert_eq!(
            config.sensitive_reads,
            [
                PathPattern::Prefix("/etc/vault/".into()),
                PathPattern::Suffix(".netrc".into())
            ]
        );
        assert_eq!(
            config.watched_paths,
            [PathPattern::Prefix("/srv/audit/".into())]
        );
        assert_eq!(
            config.attribution,
            AttributionConfig {
                cri_sockets: vec![PathBuf::from("/run/crio/crio.sock")],
                kubelet: false,
                kubelet_url: Some("https://10.0.0.5:10250".into()),
                api: false,
                proc_root: PathBuf::from("/host/proc"),
            }
        );
        assert_eq!(config.ring_buffer_bytes, 32 * 1024 * 1024);
        assert_eq!(config.allowed_api_clients, ["kubectl"]);
        assert_eq!(config.drift.rules.len(), 1);
        assert_eq!(config.drift.rules[0].action, DriftAction::Alert);
    }

    #[test]
    fn configured_paths_add_to_the_defaults() {
        let config = parse("sensor:\n  sensitiveReads: [/etc/vault/, /etc/shadow]\n").unwrap();
        let shadow = PathPattern::Prefix("/etc/shadow".into());
        assert_eq!(
            config
                .sensitive_reads
                .iter()
                .filter(|p| **p == shadow)
                .count(),
            1
        );
        assert_eq!(
            config.sensitive_reads.last(),
            Some(&PathPattern::Prefix("/etc/vault/".into()))
        );
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let error = parse("sensor:\n  clusterName: a\n  ringBuffer: 8\n").unwrap_err();
        assert_eq!(error.key, "sensor.ringBuffer");
        assert_eq!(error.mark.line, 3);
        assert!(error.message.contains("ringBufferMiB"), "{error}");

        let nested = parse("sensor:\n  attribution:\n    criSocket: [/x]\n").unwrap_err();
        assert_eq!(nested.key, "sensor.attribution.criSocket");
        assert_eq!(nested.mark.line, 3);
        assert!(
            nested.to_string().starts_with("line 3, column "),
            "{nested}"
        );
        assert!(
            nested.message.contains("did you mean `criSockets`"),
            "{nested}"
        );
    }

    #[test]
    fn wrong_values_are_errors() {
        let cases = [
            ("sensor:\n  ringBufferMiB: 12\n", "sensor.ringBufferMiB", 2),
            ("sensor:\n  ringBufferMiB: 0\n", "sensor.ringBufferMiB", 2),
            (
                "sensor:\n  moduleLoadAttempts: never\n",
                "sensor.moduleLoadAttempts",
                2,
            ),
            ("sensor:\n  builtinRules: maybe\n", "sensor.builtinRules", 2),
            (
                "sensor:\n  aggregationWindowSeconds: -1\n",
                "sensor.aggregationWindowSeconds",
                2,
            ),
            ("sensor:\n  ruleFiles: /a.yaml\n", "sensor.ruleFiles", 2),
            (
                "sensor:\n  sensitiveReads:\n    - /etc/ok\n    - /etc/*.key\n",
                "sensor.sensitiveReads[1]",
                4,
            ),
            (
                "sensor:\n  attribution:\n    criSockets: [run/x.sock]\n",
                "sensor.attribution.criSockets[0]",
                3,
            ),
            (
                "sensor:\n  attribution:\n    kubeletUrl: http://127.0.0.1:10255\n",
                "sensor.attribution.kubeletUrl",
                3,
            ),
            ("sensor: [a]\n", "sensor", 1),
            ("sensor:\n  clusterName: on\n", "sensor.clusterName", 2),
        ];
        for (yaml, key, line) in cases {
            let error = parse(yaml).expect_err(yaml);
            assert_eq!((error.key.as_str(), error.mark.line), (key, line), "{yaml}");
        }
    }

    #[test]
    fn too_many_paths_are_rejected() {
        let many: Vec<String> = (0..MAX_PATH_ENTRIES).map(|i| format!("/p{i}")).collect();
        let yaml = format!("sensor:\n  watchedPaths: [{}]\n", many.join(", "));
        let error = parse(&yaml).unwrap_err();
        assert_eq!(error.key, "sensor.watchedPaths");
        assert!(error.message.contains("at most"), "{error}");
    }

    #[test]
    fn path_patterns_match_on_component_boundaries() {
        let history = PathPattern::parse(".bash_history").unwrap();
        assert!(history.matches("/home/ana/.bash_history"));
        assert!(!history.matches("/tmp/x.bash_history"));
        let keys = PathPattern::parse(".ssh/id_").unwrap();
        assert!(keys.matches("/root/.ssh/id_rsa"));
        assert!(keys.matches("/home/ana/.ssh/id_ed25519"));
        assert!(!keys.matches("/home/ana/x.ssh/id_rsa"));
        let logs = PathPattern::parse("/var/log/").unwrap();
        assert!(logs.matches("/var/log/syslog"));
        assert!(!logs.matches("/var/logs"));
        assert!(PathPattern::parse("").is_err());
        assert!(PathPattern::parse(&"/a".repeat(200)).is_err());
    }

    #[test]
    fn from_yaml_reads_the_sensor_key_and_reports_syntax_errors() {
        let config = SensorConfig::from_yaml("sensor:\n  nodeName: n9\n", "p.yaml").unwrap();
        assert_eq!(config.node_name, "n9");
        let error = SensorConfig::from_yaml("sensor: {nodeName: [\n", "p.yaml").unwrap_err();
        assert_eq!(error.key, "p.yaml");
    }
}
