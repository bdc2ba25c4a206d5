//! Palisade's built-in audit-log detections and the [`Detector`] that runs them (plus any rule
//! files the user brings) over audit events and turns matches into [`Alert`]s.
//!
//! The conditions live in `rules/detections.yaml` (Falco rule syntax, so users read and
//! override them like any rule file); what an alert *means* — alert type, severity, MITRE and
//! Threat Matrix mapping, remediation — lives in [`DETECTIONS`], keyed by rule name. Rules
//! without an entry (user rules, Falco's own) become `K8S_CustomRule` alerts with a severity
//! from their priority and MITRE from their tags.

use std::collections::BTreeMap;
use std::io::BufRead;

pub use palisade_core::alert::Detection;
use palisade_core::{Alert, AlertAggregator, AlertSeverity, Entities, Mitre};
use palisade_rules::{LoadError, Match, RuleFile, RuleInfo, Ruleset};
use serde::Serialize;

use crate::event::{AuditEvent, LineReader, ReadStats};
use crate::fields::{AuditFields, AuditRecord, SOURCE_NAME};

/// The built-in rule file.
pub const BUILTIN_RULES: &str = include_str!("rules/detections.yaml");
/// The name the built-in rule file is loaded (and reported in errors) under.
pub const BUILTIN_RULES_NAME: &str = "palisade:builtin/detections.yaml";

/// The alert type of rules Palisade has no metadata for.
pub const CUSTOM_ALERT_TYPE: &str = "K8S_CustomRule";

use AlertSeverity::{High, Low, Medium};

/// Metadata of every built-in rule.
pub const DETECTIONS: &[Detection] = &[
    Detection {
        rule: "Kube-hunter Scan",
        alert_type: "K8S_PenTestToolsKubeHunter",
        display_name: "Kubernetes penetration testing tool (kube-hunter) detected",
        severity: Low,
        tactics: &["Execution"],
        techniques: &["T1595"],
        threat_matrix: None,
        remediation: "Confirm whether a penetration test was scheduled. If not, block the source addresses, make sure the API server is not reachable from the internet (authorized networks / private endpoint) and that anonymous authentication is disabled (--anonymous-auth=false).",
    },
    Detection {
        rule: "Attack Tool User Agent",
        alert_type: "K8S_AttackToolUserAgent",
        display_name: "Kubernetes attack tool used against the API server",
        severity: Medium,
        tactics: &["Execution", "Discovery"],
        techniques: &["T1613"],
        threat_matrix: Some("MS-TA9029: Access the K8S API server"),
        remediation: "Identify the credential the tool used (user, source IPs) and revoke it; review what it read or changed in the audit log.",
    },
    Detection {
        rule: "Anonymous Request Allowed Beyond Public Info",
        alert_type: "K8S_AnonymousAccessGranted",
        display_name: "Anonymous request allowed by the API server",
        severity: High,
        tactics: &["InitialAccess"],
        techniques: &["T1078.001"],
        threat_matrix: None,
        remediation: "Remove RoleBindings/ClusterRoleBindings whose subjects are `system:anonymous` or `system:unauthenticated` (the reason annotation names the binding), and set --anonymous-auth=false on the API server where possible.",
    },
    Detection {
        rule: "Anonymous Request For Credentials",
        alert_type: "K8S_AnonymousCredentialAccessAttempt",
        display_name: "Unauthenticated request for secrets or tokens",
        severity: Medium,
        tactics: &["CredentialAccess"],
        techniques: &["T1552.007"],
        threat_matrix: Some("MS-TA9025: List Kubernetes secrets"),
        remediation: "Restrict who can reach the API server (firewall, private endpoint) and block the source addresses; verify no binding grants anonymous users access to secrets.",
    },
    Detection {
        rule: "Secrets Listed Across Namespaces",
        alert_type: "K8S_SecretsListedClusterWide",
        display_name: "Secrets of every namespace listed",
        severity: High,
        tactics: &["CredentialAccess"],
        techniques: &["T1552.007"],
        threat_matrix: Some("MS-TA9025: List Kubernetes secrets"),
        remediation: "Confirm the principal needed every secret; if not, rotate the secrets it read and remove cluster-wide `list`/`watch` on `secrets` from its roles (bind a namespaced Role to what it needs). Known readers go in the `palisade_secret_readers` list.",
    },
    Detection {
        rule: "Secret Read By User",
        alert_type: "K8S_SecretReadByUser",
        display_name: "Secret read through the API by a user",
        severity: Medium,
        tactics: &["CredentialAccess"],
        techniques: &["T1552.007"],
        threat_matrix: Some("MS-TA9025: List Kubernetes secrets"),
        remediation: "Confirm the read was expected; otherwise rotate the secret and narrow the principal's RBAC `get` on `secrets`. Add expected readers to the `palisade_secret_readers` list.",
    },
    Detection {
        rule: "Impersonation",
        alert_type: "K8S_Impersonation",
        display_name: "Request made while impersonating another user",
        severity: High,
        tactics: &["PrivilegeEscalation", "DefenseEvasion"],
        techniques: &["T1078"],
        threat_matrix: None,
        remediation: "Review who holds the `impersonate` verb on users, groups and service accounts and remove it where not needed; never allow impersonating `system:masters`.",
    },
    Detection {
        rule: "Impersonation Denied",
        alert_type: "K8S_ImpersonationDenied",
        display_name: "Impersonation attempt denied",
        severity: Medium,
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1078"],
        threat_matrix: None,
        remediation: "Find out why this principal tried to impersonate another identity; if its credential may be stolen, revoke it.",
    },
    Detection {
        rule: "Permission Enumeration",
        alert_type: "K8S_PermissionEnumeration",
        display_name: "Principal enumerated its own permissions",
        severity: Low,
        tactics: &["Discovery"],
        techniques: &["T1613"],
        threat_matrix: Some("MS-TA9029: Access the K8S API server"),
        remediation: "Usually benign for people (`kubectl auth can-i --list`); for service accounts or unusual source IPs, check whether the credential is used by someone else.",
    },
    Detection {
        rule: "High-Privileged Role Created",
        alert_type: "K8S_HighPrivilegesRole",
        display_name: "High-privileged Role or ClusterRole created",
        severity: Medium,
        tactics: &["Persistence"],
        techniques: &["T1098.006"],
        threat_matrix: None,
        remediation: "Replace wildcard verbs/resources with the verbs and resources the subject needs; grant `escalate`, `bind` and `impersonate` only to cluster administrators; delete the role if it was not expected.",
    },
    Detection {
        rule: "RBAC Write Denied",
        alert_type: "K8S_RbacWriteDenied",
        display_name: "Attempt to change RBAC denied",
        severity: Medium,
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1098.006"],
        threat_matrix: None,
        remediation: "Find out why this principal tried to write RBAC objects; if its credential may be stolen, revoke it.",
    },
    Detection {
        rule: "Binding To Cluster-Admin",
        alert_type: "K8S_ClusterAdminBinding",
        display_name: "New binding to the cluster-admin role",
        severity: High,
        tactics: &["Persistence"],
        techniques: &["T1098.006"],
        threat_matrix: Some("MS-TA9019: Cluster-admin binding"),
        remediation: "Delete the binding unless it was approved; bind a role with only the needed permissions instead of `cluster-admin`.",
    },
    Detection {
        rule: "Admission Webhook Changed",
        alert_type: "K8S_AdmissionController",
        display_name: "Admission webhook or policy created, changed or deleted",
        severity: Medium,
        tactics: &["CredentialAccess", "Persistence"],
        techniques: &[],
        threat_matrix: Some("MS-TA9015: Malicious admission controller"),
        remediation: "Compare the webhook with its approved definition (failurePolicy, rules, namespaceSelector, clientConfig) and restore it; restrict write access to admissionregistration.k8s.io to cluster administrators.",
    },
    Detection {
        rule: "Kubernetes Events Deleted",
        alert_type: "K8S_DeleteEvents",
        display_name: "Kubernetes events deleted",
        severity: Low,
        tactics: &["DefenseEvasion"],
        techniques: &["T1070"],
        threat_matrix: Some("MS-TA9022: Delete K8S events"),
        remediation: "Review the principal's other activity around this time in the audit log (which is kept outside the cluster); remove `delete` on `events` from roles that do not need it.",
    },
    Detection {
        rule: "Exec Into Pod",
        alert_type: "K8S_ExecIntoContainer",
        display_name: "Command executed in a container through the API server",
        severity: Medium,
        tactics: &["Execution"],
        techniques: &["T1609"],
        threat_matrix: Some("MS-TA9006: Exec into container"),
        remediation: "Confirm the exec was expected (`command` in the URI); restrict `create`/`get` on `pods/exec` and `pods/attach` to break-glass roles.",
    },
    Detection {
        rule: "Port-Forward To Pod",
        alert_type: "K8S_PortForward",
        display_name: "Port of a pod forwarded through the API server",
        severity: Medium,
        tactics: &["CommandAndControl"],
        techniques: &["T1090"],
        threat_matrix: None,
        remediation: "Confirm the port-forward was expected; restrict `pods/portforward` to break-glass roles.",
    },
    Detection {
        rule: "Service Account Token Requested",
        alert_type: "K8S_ServiceAccountTokenCreated",
        display_name: "Service account token minted through TokenRequest",
        severity: Medium,
        tactics: &["CredentialAccess"],
        techniques: &["T1528"],
        threat_matrix: None,
        remediation: "Confirm who needed the token; remove `create` on `serviceaccounts/token` from roles that do not need it (the built-in `edit` role has it). Requests made with the token carry the issued credential ID in `user.extra`.",
    },
    Detection {
        rule: "CronJob Created",
        alert_type: "K8S_CronJobCreated",
        display_name: "CronJob created or changed",
        severity: Medium,
        tactics: &["Persistence"],
        techniques: &["T1053.007"],
        threat_matrix: Some("MS-TA9014: Kubernetes CronJob"),
        remediation: "Check the CronJob's image and command; delete it if unexpected and review who may create `cronjobs`.",
    },
    Detection {
        rule: "Workload Created In Kube-System",
        alert_type: "K8S_KubeSystemContainer",
        display_name: "Workload created in a control-plane namespace",
        severity: Medium,
        tactics: &["Persistence"],
        techniques: &["T1610"],
        threat_matrix: Some("MS-TA9008: New container"),
        remediation: "Delete the workload unless it belongs to a known add-on; only cluster administrators and controllers should create workloads in kube-system.",
    },
    Detection {
        rule: "Privileged Container Created",
        alert_type: "K8S_PrivilegedContainer",
        display_name: "Privileged container created",
        severity: High,
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1611", "T1610"],
        threat_matrix: Some("MS-TA9018: Privileged container"),
        remediation: "Remove `securityContext.privileged: true` (grant specific capabilities instead) and enforce the Pod Security Standard `baseline` on the namespace (`pod-security.kubernetes.io/enforce: baseline`).",
    },
    Detection {
        rule: "Sensitive Host Path Mounted",
        alert_type: "K8S_SensitiveMount",
        display_name: "Container with a sensitive host path mount",
        severity: High,
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1611"],
        threat_matrix: Some("MS-TA9013: Writable hostPath mount"),
        remediation: "Replace `hostPath` volumes with ConfigMaps, Secrets, emptyDir or PersistentVolumes; if a node agent really needs one, mount the narrowest path `readOnly: true`. PSS `baseline` forbids hostPath.",
    },
    Detection {
        rule: "Pod With Host Namespaces",
        alert_type: "K8S_HostNamespacePod",
        display_name: "Pod sharing the node's namespaces",
        severity: Medium,
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1611"],
        threat_matrix: None,
        remediation: "Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec; PSS `baseline` forbids them.",
    },
    Detection {
        rule: "Mirror Pod Created Through API",
        alert_type: "K8S_MirrorPodCreated",
        display_name: "Mirror pod forged through the API",
        severity: Medium,
        tactics: &["Persistence"],
        techniques: &["T1610"],
        threat_matrix: Some("MS-TA9017: Static Pods"),
        remediation: "Delete the pod and enable the NodeRestriction admission plugin and Node authorizer so only kubelets create mirror pods, and only for their own node.",
    },
    Detection {
        rule: "Static Pod Manifest Directory Mounted",
        alert_type: "K8S_StaticPodManifestMount",
        display_name: "Container can write static pod manifests",
        severity: High,
        tactics: &["Persistence"],
        techniques: &["T1611"],
        threat_matrix: Some("MS-TA9017: Static Pods"),
        remediation: "Delete the pod; check /etc/kubernetes/manifests on the node it ran on for unexpected manifests; forbid hostPath with PSS `baseline`.",
    },
    Detection {
        rule: "Kubernetes Dashboard Exposed",
        alert_type: "K8S_ExposedDashboard",
        display_name: "Exposed Kubernetes dashboard",
        severity: High,
        tactics: &["InitialAccess"],
        techniques: &["T1133"],
        threat_matrix: None,
        remediation: "Make the dashboard Service `ClusterIP` and reach it through `kubectl proxy` or an authenticated ingress; remove `--enable-skip-login` from the dashboard.",
    },
    Detection {
        rule: "Redis Exposed",
        alert_type: "K8S_ExposedRedis",
        display_name: "Exposed Redis service",
        severity: Low,
        tactics: &["InitialAccess"],
        techniques: &["T1133"],
        threat_matrix: Some("MS-TA9005: Exposed sensitive interfaces"),
        remediation: "Make the Service `ClusterIP`, require Redis authentication (`requirepass`/ACLs) and restrict ingress with a NetworkPolicy.",
    },
    Detection {
        rule: "Kubeflow Exposed",
        alert_type: "K8S_ExposedKubeflow",
        display_name: "Exposed Kubeflow dashboard",
        severity: Medium,
        tactics: &["InitialAccess"],
        techniques: &["T1133"],
        threat_matrix: Some("MS-TA9005: Exposed sensitive interfaces"),
        remediation: "Make the Service `ClusterIP` and put Kubeflow behind authentication (its Istio/Dex gateway).",
    },
    Detection {
        rule: "Service Exposed Outside Cluster",
        alert_type: "K8S_ExposedService",
        display_name: "Service exposed outside the cluster",
        severity: Medium,
        tactics: &["InitialAccess"],
        techniques: &["T1133"],
        threat_matrix: Some("MS-TA9005: Exposed sensitive interfaces"),
        remediation: "Confirm the workload is meant to be public; otherwise make the Service `ClusterIP`, or set `loadBalancerSourceRanges` to the networks that need it.",
    },
    Detection {
        rule: "CoreDNS Configuration Modified",
        alert_type: "K8S_CoreDnsModification",
        display_name: "CoreDNS configuration modified",
        severity: Medium,
        tactics: &["LateralMovement"],
        techniques: &["T1557"],
        threat_matrix: Some("MS-TA9035: CoreDNS poisoning"),
        remediation: "Diff the ConfigMap against its managed version and restore it; only cluster administrators should write ConfigMaps in kube-system.",
    },
    Detection {
        rule: "Certificate Signing Request Approved",
        alert_type: "K8S_CSRApproved",
        display_name: "Certificate signing request approved manually",
        severity: Medium,
        tactics: &["CredentialAccess", "PrivilegeEscalation"],
        techniques: &["T1649"],
        threat_matrix: None,
        remediation: "Check the CSR's requested identity (subject, groups, signerName); if unexpected, revoke the certificate by rotating the signer and remove `approve` on `signers` from the approver's roles.",
    },
    Detection {
        rule: "Node Proxy Access",
        alert_type: "K8S_NodesProxyAccess",
        display_name: "Kubelet API reached through nodes/proxy",
        severity: High,
        tactics: &["Execution", "Discovery"],
        techniques: &["T1613"],
        threat_matrix: Some("MS-TA9030: Access Kubelet API"),
        remediation: "Remove `nodes/proxy` from every role except the monitoring agents that need its read paths; it allows running commands in any pod of the node without exec auditing.",
    },
    Detection {
        rule: "Service Account Created In Kube-System",
        alert_type: "K8S_KubeSystemServiceAccount",
        display_name: "Service account created in kube-system",
        severity: Low,
        tactics: &["Persistence"],
        techniques: &["T1136"],
        threat_matrix: None,
        remediation: "Delete the service account unless it belongs to a known add-on, and check which bindings name it.",
    },
];

/// The metadata of built-in rule `rule`.
pub fn detection(rule: &str) -> Option<&'static Detection> {
    DETECTIONS.iter().find(|d| d.rule == rule)
}

/// How a [`Detector`] is set up.
#[derive(Debug, Clone)]
pub struct DetectorOptions {
    /// Load the built-in rules (`--no-builtin-rules` turns this off).
    pub builtin_rules: bool,
    /// Further rule files, in `--rules` order: (name for messages, text).
    pub rule_files: Vec<(String, String)>,
    /// `ka.cluster.name` and the alerts' `hostname`.
    pub cluster_name: Option<String>,
    /// Identical alerts within this much event time are merged into one.
    pub window_nanos: i64,
    /// Most distinct alerts held open at once; the oldest is sent early when more arrive.
    pub max_pending: usize,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            builtin_rules: true,
            rule_files: Vec::new(),
            cluster_name: None,
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

/// What makes two alerts "the same" for aggregation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AlertKey {
    rule: usize,
    user: String,
    verb: String,
    resource: String,
    namespace: String,
    name: String,
}

/// Evaluates audit events against the loaded rules and emits aggregated alerts.
pub struct Detector {
    rules: Ruleset,
    options: DetectorOptions,
    aggregator: AlertAggregator<AlertKey>,
    /// The latest event time seen; events without a time are placed here.
    clock: i64,
    matches: Vec<Match>,
}

/// Most audit IDs kept on one aggregated alert; `count` keeps counting past it.
const MAX_AUDIT_IDS: usize = 1000;

impl Detector {
    pub fn new(options: DetectorOptions) -> Result<Detector, DetectorError> {
        let builtin = options.builtin_rules.then_some(RuleFile {
            name: BUILTIN_RULES_NAME,
            text: BUILTIN_RULES,
        });
        let source = AuditFields {
            cluster_name: options.cluster_name.clone(),
        };
        let rules = Ruleset::load_after_builtin(builtin, &options.rule_files, &source)?;
        Ok(Detector {
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

    /// Evaluates one event; alerts whose window has passed (by this event's time) are pushed to
    /// `out`.
    pub fn process(&mut self, event: &AuditEvent, out: &mut Vec<Alert>) {
        let now = event.time_nanos().unwrap_or(self.clock);
        self.clock = self.clock.max(now);
        let record = AuditRecord::new(event, self.options.cluster_name.as_deref());
        let mut matches = std::mem::take(&mut self.matches);
        matches.clear();
        self.rules.evaluate(&record, &mut matches);
        for m in matches.drain(..) {
            self.aggregate(event, m, now, out);
        }
        self.matches = matches;
        self.aggregator.advance(self.clock, out);
    }

    /// Sends every alert still held (end of input).
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        self.aggregator.finish(out);
    }

    fn aggregate(&mut self, event: &AuditEvent, m: Match, now: i64, out: &mut Vec<Alert>) {
        let key = AlertKey {
            rule: m.rule,
            user: event.user.username.clone(),
            verb: event.verb.clone(),
            resource: event.resource_path(),
            namespace: event.namespace().to_string(),
            name: event.name().to_string(),
        };
        if let Some(held) = self.aggregator.held_mut(&key) {
            // The two stages of one long-running request are one request.
            if held.audit_ids.contains(&event.audit_id) {
                return;
            }
            held.count += 1;
            if held.audit_ids.len() < MAX_AUDIT_IDS {
                held.audit_ids.push(event.audit_id.clone());
            }
            return;
        }
        let Some(info) = self.rules.rules().get(m.rule) else {
            return;
        };
        let alert = build_alert(info, m, event, self.options.cluster_name.as_deref());
        self.aggregator.open(key, alert, now, out);
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn build_alert(info: &RuleInfo, m: Match, event: &AuditEvent, cluster: Option<&str>) -> Alert {
    let meta = detection(&info.name).filter(|_| info.source == SOURCE_NAME);
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
    let entities = Entities {
        user: non_empty(&event.user.username),
        groups: event.user.groups.clone(),
        source_ips: event.source_ips.clone(),
        user_agent: non_empty(&event.user_agent),
        impersonated_user: event
            .impersonated_user
            .as_ref()
            .and_then(|u| non_empty(&u.username)),
        verb: non_empty(&event.verb),
        resource: non_empty(&event.resource_path()),
        namespace: non_empty(event.namespace()),
        name: non_empty(event.name()),
        ..Entities::default()
    };
    Alert {
        rule: info.name.clone(),
        alert_type,
        severity,
        priority: info.priority.as_str().to_string(),
        output: m.output,
        mitre,
        entities,
        audit_ids: vec![event.audit_id.clone()],
        time: event.time().to_string(),
        count: 1,
        description: info.description.clone(),
        remediation,
        tags: info.tags.clone(),
        output_fields: m.output_fields.into_iter().collect::<BTreeMap<_, _>>(),
        source: SOURCE_NAME.to_string(),
        hostname: cluster.unwrap_or_default().to_string(),
    }
}

/// The result of [`analyze`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub alerts: Vec<Alert>,
    #[serde(flatten)]
    pub stats: ReadStats,
}

/// Runs `detector` over a JSON-lines audit log (what `palisade audit analyze FILE` does) and
/// returns every alert with the reader's counts. A read error ends the input and is returned
/// after the alerts gathered so far are flushed into nothing: the caller decides.
pub fn analyze<R: BufRead>(detector: &mut Detector, input: R) -> std::io::Result<Analysis> {
    let mut reader = LineReader::new(input);
    let mut alerts = Vec::new();
    for event in reader.by_ref() {
        detector.process(&event, &mut alerts);
    }
    if let Some(err) = reader.take_io_error() {
        return Err(err);
    }
    detector.finish(&mut alerts);
    Ok(Analysis {
        alerts,
        stats: reader.into_stats(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_unique_and_covers_every_builtin_rule() {
        let mut names: Vec<_> = DETECTIONS.iter().map(|d| d.rule).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DETECTIONS.len());
        let in_yaml: Vec<&str> = BUILTIN_RULES
            .lines()
            .filter_map(|l| l.strip_prefix("- rule: "))
            .map(str::trim)
            .collect();
        assert_eq!(in_yaml.len(), DETECTIONS.len());
        for rule in in_yaml {
            assert!(detection(rule).is_some(), "no metadata for `{rule}`");
        }
        for d in DETECTIONS {
            assert!(d.alert_type.starts_with("K8S_"), "{}", d.rule);
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
}
