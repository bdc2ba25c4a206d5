//! Palisade's built-in node detections and the [`NodeDetector`] that runs them (plus any rule
//! files the user brings) over syscall records and turns matches into [`Alert`]s.
//!
//! As in palisade-audit: the conditions live in `rules/node.yaml` (Falco rule syntax, so users
//! read, append to and override them like any rule file); what an alert *means* — alert type
//! (`K8S.NODE_…`, Defender's ID where Defender has the same detection), severity, MITRE and
//! Threat Matrix mapping, remediation — lives in [`DETECTIONS`], keyed by rule name. Rules
//! without an entry (user rules, Falco's own) become `K8S.NODE_CustomRule` alerts with a
//! severity from their priority and MITRE from their tags.
//!
//! Binary drift is not a rule: whether an executable from outside the image is ignored,
//! alerted on or blocked is the drift policy's decision (the sensor's drift module). Once it
//! decides to report, [`NodeDetector::drift`] builds the alert from [`DRIFT_DETECTED`] or
//! [`DRIFT_BLOCKED`] and aggregates it like any other.

use std::collections::BTreeMap;

pub use palisade_core::alert::Detection;
use palisade_core::alert::{ContainerEntity, PodEntity, ProcessEntity};
use palisade_core::{Alert, AlertAggregator, AlertSeverity, Entities, Mitre};
use palisade_rules::{LoadError, Match, Priority, RuleFile, RuleInfo, Ruleset};

use crate::fields::{SOURCE_NAME, SyscallFields, SyscallRecord, rfc3339_nanos};

/// The built-in rule file.
pub const BUILTIN_RULES: &str = include_str!("rules/node.yaml");
/// The name the built-in rule file is loaded (and reported in errors) under.
pub const BUILTIN_RULES_NAME: &str = "palisade:builtin/node.yaml";

/// The alert type of rules Palisade has no metadata for.
pub const CUSTOM_ALERT_TYPE: &str = "K8S.NODE_CustomRule";

use AlertSeverity::{High, Low, Medium};

/// Metadata of every built-in rule.
pub const DETECTIONS: &[Detection] = &[
    Detection {
        rule: "Palisade Crypto Miner Executed",
        alert_type: "K8S.NODE_CryptoCoinMinerExecution",
        display_name: "Crypto-currency miner executed",
        severity: High,
        tactics: &["Execution", "Impact"],
        techniques: &["T1496"],
        threat_matrix: None,
        remediation: "Kill the process and delete the pod; find how the miner arrived (image, exec, download) before redeploying. Rebuild from a trusted image, rotate the pod's credentials, and set CPU limits and egress NetworkPolicies so a miner cannot reach its pool.",
    },
    Detection {
        rule: "Palisade Mining Pool Connection",
        alert_type: "K8S.NODE_DigitalCurrencyMining",
        display_name: "Connection to a crypto-mining pool port",
        severity: High,
        tactics: &["Impact", "CommandAndControl"],
        techniques: &["T1496"],
        threat_matrix: None,
        remediation: "Identify the process and its container; if it is a miner, delete the pod and investigate how it got there. Restrict egress with NetworkPolicies (default deny, allow-list destinations). Add legitimate services on these ports to `palisade_mining_pool_allowed`.",
    },
    Detection {
        rule: "Palisade Reverse Shell",
        alert_type: "K8S.NODE_ReverseShell",
        display_name: "Reverse shell",
        severity: High,
        tactics: &["Execution", "CommandAndControl"],
        techniques: &["T1059.004"],
        threat_matrix: None,
        remediation: "Treat the workload as compromised: isolate the pod (NetworkPolicy deny-all), capture what you need, delete it, and find the entry point (application exploit, exposed service). Block the remote address and restrict egress.",
    },
    Detection {
        rule: "Palisade Terminal Shell In Container",
        alert_type: "K8S.NODE_TerminalShellInContainer",
        display_name: "Interactive shell in a container",
        severity: Low,
        tactics: &["Execution"],
        techniques: &["T1059.004", "T1609"],
        threat_matrix: Some("MS-TA9006: Exec into container"),
        remediation: "Confirm who opened the shell (the API server audit log's pods/exec entries) and why; restrict `pods/exec` and `pods/attach` to break-glass roles, and prefer `kubectl debug` with an ephemeral container.",
    },
    Detection {
        rule: "Palisade Package Manager In Container",
        alert_type: "K8S.NODE_PackageManagerInContainer",
        display_name: "Package manager run in a container",
        severity: Medium,
        tactics: &["Persistence", "Execution"],
        techniques: &["T1072"],
        threat_matrix: None,
        remediation: "Install software when building the image, never at run time; set `readOnlyRootFilesystem: true` and run as non-root so installs fail. Images that legitimately install at start go in `palisade_package_manager_images_allowed`.",
    },
    Detection {
        rule: "Palisade SSH Server In Container",
        alert_type: "K8S.NODE_ContainerSSH",
        display_name: "SSH server running in a container",
        severity: Medium,
        tactics: &["Execution", "Persistence"],
        techniques: &["T1021.004"],
        threat_matrix: None,
        remediation: "Remove the SSH daemon from the image and the port from the Service; use `kubectl exec`/`kubectl debug`, which are authenticated and audited by the API server.",
    },
    Detection {
        rule: "Palisade Write Below Binary Directory",
        alert_type: "K8S.NODE_WriteBelowBinaryDir",
        display_name: "File written below a binary directory",
        severity: High,
        tactics: &["Persistence", "DefenseEvasion"],
        techniques: &["T1554"],
        threat_matrix: None,
        remediation: "Compare the file with the package's version (`dpkg -V`, `rpm -V`) or the image; in a container set `readOnlyRootFilesystem: true`. On a node, reinstall the package or the node and find who wrote it.",
    },
    Detection {
        rule: "Palisade Write Below Etc",
        alert_type: "K8S.NODE_WriteBelowEtc",
        display_name: "File written below /etc",
        severity: Medium,
        tactics: &["Persistence"],
        techniques: &["T1543"],
        threat_matrix: None,
        remediation: "Review the change (users, sudoers, cron, PAM, ld.so.preload) and revert it; in containers mount configuration from ConfigMaps read-only and set `readOnlyRootFilesystem: true`. Add legitimate maintainers to `palisade_etc_writers_allowed`.",
    },
    Detection {
        rule: "Palisade Shadow File Read",
        alert_type: "K8S.NODE_SuspectPasswordFileAccess",
        display_name: "Password hash file read by an unexpected program",
        severity: Medium,
        tactics: &["CredentialAccess"],
        techniques: &["T1003.008"],
        threat_matrix: None,
        remediation: "Find out why the program read the shadow file; if unexplained, rotate the passwords of the accounts in it and investigate the process's origin. Containers should not run as root, which prevents reading it.",
    },
    Detection {
        rule: "Palisade Kubeconfig Read",
        alert_type: "K8S.NODE_KubeConfigAccess",
        display_name: "Kubeconfig read by an unexpected program",
        severity: Medium,
        tactics: &["CredentialAccess"],
        techniques: &["T1552.001"],
        threat_matrix: None,
        remediation: "Rotate the credentials in the kubeconfig (client certificate or token) if the read was not expected; never mount node kubeconfigs (hostPath /etc/kubernetes) into pods. Add legitimate clients to `palisade_kubeconfig_readers_allowed`.",
    },
    Detection {
        rule: "Palisade Service Account Token Read",
        alert_type: "K8S.NODE_ServiceAccountTokenAccess",
        display_name: "Service account token read by a shell or file utility",
        severity: Medium,
        tactics: &["CredentialAccess"],
        techniques: &["T1528", "T1552.001"],
        threat_matrix: None,
        remediation: "Check the API server audit log for requests with this pod's service account after the read; delete the pod to invalidate its bound token. Set `automountServiceAccountToken: false` for pods that do not call the API and keep the account's RBAC minimal.",
    },
    Detection {
        rule: "Palisade Kernel Module Load",
        alert_type: "K8S.NODE_KernelModuleLoad",
        display_name: "Kernel module load attempted",
        severity: High,
        tactics: &["Persistence", "PrivilegeEscalation"],
        techniques: &["T1547.006"],
        threat_matrix: None,
        remediation: "Identify the module (`lsmod`, the command line) and remove it if unexpected; containers must not have CAP_SYS_MODULE or run privileged (PSS `baseline`). Consider `kernel.modules_disabled=1` after boot on nodes.",
    },
    Detection {
        rule: "Palisade Ptrace Attach",
        alert_type: "K8S.NODE_PtraceAttach",
        display_name: "Process attached to another with ptrace",
        severity: Medium,
        tactics: &["PrivilegeEscalation", "DefenseEvasion"],
        techniques: &["T1055.008"],
        threat_matrix: None,
        remediation: "Confirm whether someone was debugging; otherwise investigate both processes. Drop CAP_SYS_PTRACE from containers, do not share the host PID namespace, and set `kernel.yama.ptrace_scope` to 2 or 3 on nodes.",
    },
    Detection {
        rule: "Palisade Namespace Change From Container",
        alert_type: "K8S.NODE_NamespaceCreation",
        display_name: "Namespace created or entered from a container",
        severity: Medium,
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1611"],
        threat_matrix: None,
        remediation: "Workloads should not create or join namespaces: drop CAP_SYS_ADMIN, avoid privileged containers and hostPID, and keep the default seccomp profile (`seccompProfile: RuntimeDefault`), which blocks unshare/setns for unprivileged containers.",
    },
    Detection {
        rule: "Palisade Privileged Execution In Container",
        alert_type: "K8S.NODE_PrivilegedExecutionInContainer",
        display_name: "Privileged command run in a privileged container",
        severity: High,
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1611"],
        threat_matrix: Some("MS-TA9018: Privileged container"),
        remediation: "Remove `securityContext.privileged: true` (grant only the capabilities needed) and enforce PSS `baseline`; investigate what the command did on the node.",
    },
    Detection {
        rule: "Palisade Shell History Cleared",
        alert_type: "K8S.NODE_HistoryFileCleared",
        display_name: "Shell history cleared",
        severity: Medium,
        tactics: &["DefenseEvasion"],
        techniques: &["T1070.003"],
        threat_matrix: None,
        remediation: "Investigate the user's session (other alerts on the same process tree, login records); ship shell history or audit logs off the machine so erasing them locally does not destroy evidence.",
    },
    Detection {
        rule: "Palisade System Logs Removed",
        alert_type: "K8S.NODE_SystemLogRemoval",
        display_name: "System logs removed",
        severity: Medium,
        tactics: &["DefenseEvasion"],
        techniques: &["T1070.002"],
        threat_matrix: None,
        remediation: "Forward logs to a central store so local removal loses nothing, investigate the process tree that removed them, and add legitimate log maintainers to `palisade_log_maintainers_allowed`.",
    },
    Detection {
        rule: "Palisade Timestamps Tampered",
        alert_type: "K8S.NODE_TimestampTampering",
        display_name: "File timestamps tampered",
        severity: Low,
        tactics: &["DefenseEvasion"],
        techniques: &["T1070.006"],
        threat_matrix: None,
        remediation: "Check the file's content against its package or image; back-dated binaries and configuration are often planted. Investigate the process tree that changed the timestamps.",
    },
    Detection {
        rule: "Palisade Cloud Metadata Access From Container",
        alert_type: "K8S.NODE_ImdsCall",
        display_name: "Cloud metadata service accessed from a container",
        severity: Medium,
        tactics: &["CredentialAccess"],
        techniques: &["T1552.005"],
        threat_matrix: None,
        remediation: "Block pod access to the metadata service (AWS IMDSv2 with hop limit 1, GKE Workload Identity metadata server, Azure pod identity/NetworkPolicy to 169.254.169.254/32) and give pods their own cloud identities. Node agents go in `palisade_metadata_namespaces_allowed`/`palisade_metadata_images_allowed`.",
    },
    Detection {
        rule: "Palisade Kubernetes API Access From Container",
        alert_type: "K8S.NODE_KubernetesAPI",
        display_name: "Kubernetes API accessed from a container by a command-line tool",
        severity: Medium,
        tactics: &["Discovery", "LateralMovement"],
        techniques: &["T1613"],
        threat_matrix: Some("MS-TA9029: Access the K8S API server"),
        remediation: "Check the API server audit log for this pod's service account; set `automountServiceAccountToken: false` where the API is not needed, restrict egress to the API server with NetworkPolicies, and keep the account's RBAC minimal.",
    },
    Detection {
        rule: "Palisade Download And Run",
        alert_type: "K8S.NODE_DownloadAndRunCombo",
        display_name: "Downloaded content piped into a shell",
        severity: Medium,
        tactics: &["Execution", "CommandAndControl"],
        techniques: &["T1059.004", "T1105"],
        threat_matrix: None,
        remediation: "Fetch the URL from a safe place to see what ran; if unexpected, treat the workload as compromised. Restrict egress, remove curl/wget from production images and set `readOnlyRootFilesystem: true`.",
    },
    Detection {
        rule: "Palisade Fileless Execution",
        alert_type: "K8S.NODE_FilelessExecution",
        display_name: "Program executed from memory",
        severity: High,
        tactics: &["DefenseEvasion"],
        techniques: &["T1620"],
        threat_matrix: None,
        remediation: "Capture the process's memory and executable (`/proc/PID/exe`) before killing it; investigate how the loader ran. Legitimate users of memfd execution go in `palisade_memfd_execution_allowed`.",
    },
    Detection {
        rule: "Palisade Known Attack Tool",
        alert_type: "K8S.NODE_KnownLinuxAttackTool",
        display_name: "Known attack tool executed",
        severity: High,
        tactics: &["Execution", "Discovery"],
        techniques: &["T1613", "T1068"],
        threat_matrix: None,
        remediation: "Confirm whether a penetration test was scheduled; otherwise isolate the pod or node, find how the tool arrived, and rotate the credentials reachable from it (service account token, node credentials).",
    },
    Detection {
        rule: "Palisade Known Credential Tool",
        alert_type: "K8S.NODE_KnownLinuxCredentialAccessTool",
        display_name: "Known credential dumping tool executed",
        severity: High,
        tactics: &["CredentialAccess"],
        techniques: &["T1003.007"],
        threat_matrix: None,
        remediation: "Rotate every credential present on the machine or in the container (user passwords, keys, tokens, application secrets) and investigate how the tool arrived.",
    },
];

/// The alert of an executable from outside the image that the drift policy reports.
pub const DRIFT_DETECTED: Detection = Detection {
    rule: "Palisade Binary Drift",
    alert_type: "K8S.NODE_BinaryDrift",
    display_name: "Executable not from the container image was run",
    severity: Medium,
    tactics: &["Execution", "Persistence", "DefenseEvasion"],
    techniques: &["T1059", "T1105"],
    threat_matrix: None,
    remediation: "Find how the executable got into the container (download, `kubectl cp`, an exploit) and rebuild the workload from its image; set `readOnlyRootFilesystem: true` and mount writable volumes `noexec`. Switch the drift policy to `block` for workloads that never add executables.",
};

/// The alert of an executable from outside the image that the drift policy killed at exec.
pub const DRIFT_BLOCKED: Detection = Detection {
    rule: "Palisade Binary Drift Blocked",
    alert_type: "K8S.NODE_BinaryDriftBlocked",
    display_name: "Executable not from the container image was blocked",
    severity: Medium,
    tactics: &["Execution", "Persistence", "DefenseEvasion"],
    techniques: &["T1059", "T1105"],
    threat_matrix: None,
    remediation: "The process was killed at exec. Find how the executable got into the container; if it is legitimate, add it to the drift rule's process allow-list or build it into the image.",
};

/// The metadata of built-in rule `rule` (drift included).
pub fn detection(rule: &str) -> Option<&'static Detection> {
    DETECTIONS
        .iter()
        .chain([&DRIFT_DETECTED, &DRIFT_BLOCKED])
        .find(|d| d.rule == rule)
}

/// How a [`NodeDetector`] is set up.
#[derive(Debug, Clone)]
pub struct NodeDetectorOptions {
    /// Load the built-in rules (`--no-builtin-rules` turns this off).
    pub builtin_rules: bool,
    /// Further rule files, in `--rules` order: (name for messages, text).
    pub rule_files: Vec<(String, String)>,
    /// The node's name: the alerts' `hostname` and `evt.hostname`.
    pub node_name: String,
    /// Identical alerts within this many nanoseconds are merged into one.
    pub window_nanos: i64,
    /// Most distinct alerts held open at once; the oldest is sent early when more arrive.
    pub max_pending: usize,
}

impl Default for NodeDetectorOptions {
    fn default() -> Self {
        NodeDetectorOptions {
            builtin_rules: true,
            rule_files: Vec::new(),
            node_name: String::new(),
            window_nanos: 60 * 1_000_000_000,
            max_pending: 10_000,
        }
    }
}

/// Why the detector could not start.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    #[error(transparent)]
    Rules(#[from] LoadError),
}

/// What makes two alerts "the same" for aggregation: the same rule fired for the same program
/// (name, path, command line) in the same container on the same object (file or connection).
/// A script that runs the same command every minute is one alert with a count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AlertKey {
    /// Index into the rules; `usize::MAX - n` for the drift alerts.
    rule: usize,
    container: String,
    name: String,
    exepath: String,
    cmdline: String,
    object: String,
}

const DRIFT_DETECTED_KEY: usize = usize::MAX;
const DRIFT_BLOCKED_KEY: usize = usize::MAX - 1;

/// Evaluates syscall records against the loaded rules and emits aggregated alerts.
pub struct NodeDetector {
    rules: Ruleset,
    options: NodeDetectorOptions,
    aggregator: AlertAggregator<AlertKey>,
    /// The latest wall-clock time seen.
    clock: i64,
    matches: Vec<Match>,
}

impl NodeDetector {
    pub fn new(options: NodeDetectorOptions) -> Result<NodeDetector, DetectorError> {
        let builtin = options.builtin_rules.then_some(RuleFile {
            name: BUILTIN_RULES_NAME,
            text: BUILTIN_RULES,
        });
        let rules = Ruleset::load_after_builtin(builtin, &options.rule_files, &SyscallFields)?;
        Ok(NodeDetector {
            rules,
            aggregator: AlertAggregator::new(options.window_nanos, options.max_pending),
            options,
            clock: i64::MIN,
            matches: Vec::new(),
        })
    }

    /// Rules that were disabled or skipped while loading, with why.
    pub fn warnings(&self) -> &[String] {
        self.rules.warnings()
    }

    pub fn rules(&self) -> &[RuleInfo] {
        self.rules.rules()
    }

    /// Enabled rules that are tested against every event because their condition pins no
    /// `evt.type` (for `palisade sensor check` and benchmarks: each costs on every event).
    pub fn unindexed_rules(&self) -> Vec<&str> {
        self.rules
            .rules()
            .iter()
            .enumerate()
            .filter(|(i, r)| r.enabled && !self.rules.is_indexed(*i))
            .map(|(_, r)| r.name.as_str())
            .collect()
    }

    /// The record as rules see it: the node name and the wall-clock time filled in.
    fn stamped<'r>(&'r self, record: &SyscallRecord<'r>, time_nanos: i64) -> SyscallRecord<'r> {
        SyscallRecord {
            hostname: &self.options.node_name,
            time_nanos: Some(time_nanos),
            ..*record
        }
    }

    /// Evaluates one record at wall-clock `time_nanos` (Unix epoch); alerts whose window has
    /// passed are pushed to `out`.
    pub fn process(&mut self, record: &SyscallRecord<'_>, time_nanos: i64, out: &mut Vec<Alert>) {
        self.clock = self.clock.max(time_nanos);
        let mut matches = std::mem::take(&mut self.matches);
        {
            let stamped = self.stamped(record, time_nanos);
            self.rules.evaluate(&stamped, &mut matches);
        }
        for m in matches.drain(..) {
            let Some(info) = self.rules.rules().get(m.rule) else {
                continue;
            };
            let meta = detection(&info.name).filter(|_| info.source == SOURCE_NAME);
            let alert = self.build_alert(info, meta, m.output, m.output_fields, record, time_nanos);
            let key = alert_key(m.rule, record);
            self.aggregate(key, alert, time_nanos, out);
        }
        self.matches = matches;
        self.aggregator.advance(self.clock, out);
    }

    /// Reports binary drift for an exec record the drift policy decided to alert on
    /// (`blocked`: it was killed at exec). `policy_rule` names the drift rule that matched, for
    /// the alert's output.
    pub fn drift(
        &mut self,
        record: &SyscallRecord<'_>,
        blocked: bool,
        policy_rule: Option<&str>,
        time_nanos: i64,
        out: &mut Vec<Alert>,
    ) {
        self.clock = self.clock.max(time_nanos);
        let meta = if blocked {
            &DRIFT_BLOCKED
        } else {
            &DRIFT_DETECTED
        };
        let p = record.process;
        let origin = if p.origin.memfd {
            "memfd"
        } else if p.origin.tmpfs {
            "tmpfs"
        } else if p.origin.upper_layer {
            "container writable layer"
        } else {
            "unknown"
        };
        let stamped = self.stamped(record, time_nanos);
        let field = |name: &str| render(&stamped.get(name, None));
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        for name in [
            "proc.name",
            "proc.exepath",
            "proc.cmdline",
            "proc.pname",
            "user.name",
            "container.id",
            "container.image",
            "k8s.ns.name",
            "k8s.pod.name",
        ] {
            fields.insert(name.to_string(), field(name));
        }
        let verb = if blocked {
            "blocked (killed at exec)"
        } else {
            "ran"
        };
        let output = format!(
            "Executable not from the image {verb} (exepath={} origin={origin} command={} parent={} user={} container_id={} image={} k8s_ns={} k8s_pod={} policy_rule={})",
            field("proc.exepath"),
            field("proc.cmdline"),
            field("proc.pname"),
            field("user.name"),
            field("container.id"),
            field("container.image"),
            field("k8s.ns.name"),
            field("k8s.pod.name"),
            policy_rule.unwrap_or("<NA>"),
        );
        let info = RuleInfo {
            name: meta.rule.to_string(),
            description: format!("{}.", meta.display_name),
            priority: if blocked {
                Priority::Critical
            } else {
                Priority::Warning
            },
            tags: vec![
                "palisade".into(),
                "container".into(),
                "drift".into(),
                "process".into(),
            ],
            source: SOURCE_NAME.to_string(),
            enabled: true,
            output: String::new(),
        };
        let alert = self.build_alert(
            &info,
            Some(meta),
            output,
            fields.into_iter().collect(),
            record,
            time_nanos,
        );
        let key = alert_key(
            if blocked {
                DRIFT_BLOCKED_KEY
            } else {
                DRIFT_DETECTED_KEY
            },
            record,
        );
        self.aggregate(key, alert, time_nanos, out);
        self.aggregator.advance(self.clock, out);
    }

    /// Sends the alerts whose window has passed at wall-clock `now_nanos` (call it when no
    /// events arrive, so quiet nodes still report).
    pub fn tick(&mut self, now_nanos: i64, out: &mut Vec<Alert>) {
        self.clock = self.clock.max(now_nanos);
        self.aggregator.advance(self.clock, out);
    }

    /// Sends every alert still held (shutdown).
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        self.aggregator.finish(out);
    }

    fn build_alert(
        &self,
        info: &RuleInfo,
        meta: Option<&Detection>,
        output: String,
        output_fields: Vec<(String, String)>,
        record: &SyscallRecord<'_>,
        time_nanos: i64,
    ) -> Alert {
        let (alert_type, severity, mitre, remediation) = match meta {
            Some(d) => (
                d.alert_type.to_string(),
                d.severity,
                d.mitre(),
                d.remediation.to_string(),
            ),
            None => (
                CUSTOM_ALERT_TYPE.to_string(),
                AlertSeverity::of_falco_priority(info.priority.as_str()),
                Mitre::from_tags(&info.tags),
                String::new(),
            ),
        };
        Alert {
            rule: info.name.clone(),
            alert_type,
            severity,
            priority: info.priority.as_str().to_string(),
            output,
            mitre,
            entities: entities(record),
            audit_ids: Vec::new(),
            time: rfc3339_nanos(time_nanos),
            count: 1,
            description: info.description.clone(),
            remediation,
            tags: info.tags.clone(),
            output_fields: output_fields.into_iter().collect(),
            source: SOURCE_NAME.to_string(),
            hostname: self.options.node_name.clone(),
        }
    }

    fn aggregate(&mut self, key: AlertKey, alert: Alert, now: i64, out: &mut Vec<Alert>) {
        self.aggregator.open(key, alert, now, out);
    }
}

fn render(value: &palisade_rules::FieldValue<'_>) -> String {
    use palisade_rules::FieldValue;
    match value {
        FieldValue::Missing => "<NA>".to_string(),
        FieldValue::Str(s) => s.to_string(),
        FieldValue::Number(n) => n.to_string(),
        FieldValue::Bool(b) => b.to_string(),
        FieldValue::List(items) => format!("({})", items.join(",")),
    }
}

fn alert_key(rule: usize, record: &SyscallRecord<'_>) -> AlertKey {
    let p = record.process;
    let object = match record.get("fd.name", None) {
        palisade_rules::FieldValue::Missing => String::new(),
        other => render(&other),
    };
    AlertKey {
        rule,
        container: record.container.map(|c| c.id.clone()).unwrap_or_default(),
        name: p.name.clone(),
        exepath: p.exepath.clone(),
        cmdline: p.cmdline(),
        object,
    }
}

/// The process, container and pod an alert is about.
pub fn entities(record: &SyscallRecord<'_>) -> Entities {
    let p = record.process;
    let uid = record.event.task.uid;
    let user = match record.get("user.name", None) {
        palisade_rules::FieldValue::Str(name) => name.into_owned(),
        _ => uid.to_string(),
    };
    let container = record.container.map(|c| ContainerEntity {
        id: c.id.clone(),
        runtime: c.runtime.as_str().to_string(),
        name: c.name.clone().unwrap_or_default(),
        image: c.image.clone().unwrap_or_default(),
    });
    let k8s = record
        .container
        .and_then(|c| c.pod.as_ref())
        .map(|pod| PodEntity {
            namespace: pod.namespace.clone(),
            pod: pod.name.clone(),
        });
    Entities {
        process: Some(ProcessEntity {
            pid: p.pid,
            ppid: p.ppid,
            name: p.name.clone(),
            exepath: p.exepath.clone(),
            cmdline: p.cmdline(),
            user,
        }),
        container,
        k8s,
        ..Entities::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_unique_and_covers_every_builtin_rule() {
        let mut names: Vec<_> = DETECTIONS.iter().map(|d| d.rule).collect();
        names.push(DRIFT_DETECTED.rule);
        names.push(DRIFT_BLOCKED.rule);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DETECTIONS.len() + 2);
        let in_yaml: Vec<&str> = BUILTIN_RULES
            .lines()
            .filter_map(|l| l.strip_prefix("- rule: "))
            .map(str::trim)
            .collect();
        assert_eq!(in_yaml.len(), DETECTIONS.len());
        for rule in in_yaml {
            assert!(detection(rule).is_some(), "no metadata for `{rule}`");
        }
        for d in DETECTIONS.iter().chain([&DRIFT_DETECTED, &DRIFT_BLOCKED]) {
            assert!(d.alert_type.starts_with("K8S.NODE_"), "{}", d.rule);
            let techniques: Vec<String> = d.techniques.iter().map(|t| t.to_string()).collect();
            assert_eq!(
                Mitre::from_tags(&techniques).techniques.len(),
                d.techniques.len(),
                "{}: technique IDs look like T1234 or T1234.001",
                d.rule
            );
            assert!(!d.remediation.is_empty());
        }
    }

    #[test]
    fn builtin_rules_load_without_warnings() {
        let detector = NodeDetector::new(NodeDetectorOptions::default()).expect("rules load");
        assert!(detector.warnings().is_empty(), "{:#?}", detector.warnings());
        assert_eq!(detector.rules().len(), DETECTIONS.len());
        assert!(detector.rules().iter().all(|r| r.enabled));
        // Every built-in rule pins its event types, so an event is tested only against the
        // rules that can match it.
        assert!(
            detector.unindexed_rules().is_empty(),
            "{:?}",
            detector.unindexed_rules()
        );
    }
}
