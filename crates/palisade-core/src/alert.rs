//! Run-time alerts: what a detection (audit-log rule, node sensor rule) raises, in the shape every
//! sink and report works from (docs/alerts.md). Values, no I/O: the audit and sensor crates build
//! them, the alerts crate delivers them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Alert severity, Defender's scale (informational to high; critical for the rare sure thing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl AlertSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Informational => "informational",
            AlertSeverity::Low => "low",
            AlertSeverity::Medium => "medium",
            AlertSeverity::High => "high",
            AlertSeverity::Critical => "critical",
        }
    }
}

/// MITRE ATT&CK mapping: tactic names as ATT&CK writes them (`PrivilegeEscalation`, the form
/// Defender's alert table uses) and technique IDs (`T1611`, `T1552.007`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mitre {
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    /// Microsoft's Threat Matrix for Kubernetes technique (`MS-TA9013`), when mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat_matrix: Option<String>,
}

/// Who did what to what. Audit-log alerts fill the Kubernetes request part; node-sensor alerts
/// fill process, container and pod. Never holds a credential or a Secret's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The user a request impersonated, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// `pods`, `pods/exec`, `clusterrolebindings`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s: Option<PodEntity>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEntity {
    pub pid: u32,
    #[serde(default)]
    pub ppid: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exepath: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cmdline: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerEntity {
    pub id: String,
    /// `containerd`, `cri-o`, `docker`, `runc`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEntity {
    pub namespace: String,
    pub pod: String,
}

/// One alert: a rule that fired, with its evidence and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's name as written in its rule file.
    pub rule: String,
    /// `K8S_…` (audit log) or `K8S.NODE_…` (node sensor), in Defender's style.
    pub alert_type: String,
    pub severity: AlertSeverity,
    /// Falco's priority of the rule (`Emergency` … `Debug`), as written.
    pub priority: String,
    /// The rule's output template rendered for the event.
    pub output: String,
    pub mitre: Mitre,
    pub entities: Entities,
    /// Audit IDs of the events that are the evidence (audit-log alerts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit_ids: Vec<String>,
    /// When it happened (the first event's time), RFC 3339 with the source's precision.
    pub time: String,
    /// How many identical alerts this one stands for (aggregation within a window); at least 1.
    pub count: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    /// The rule's tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The rendered fields of the output template (`ka.user.name` → `alice`), as Falco's JSON
    /// output gives them (`output_fields`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_fields: BTreeMap<String, String>,
    /// `k8s_audit` or `syscall`.
    pub source: String,
    /// Where it was raised: the cluster name (audit) or node name (sensor).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
}
