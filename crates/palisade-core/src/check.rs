//! Catalogue entries: what a check looks for, why it matters, how to fix it, and where it sits in the
//! frameworks people audit against.

use serde::Serialize;

use crate::severity::Severity;

/// What part of the cluster a check is about; reports group and filter by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// The Pod Security Standards controls (baseline and restricted).
    PodSecurity,
    /// Workload hardening beyond the Pod Security Standards.
    Workload,
    /// Where images come from and how they are referenced.
    Image,
    /// Role-based access control.
    Rbac,
    /// Network exposure and isolation.
    Exposure,
    /// kube-apiserver, etcd, controller-manager, scheduler and kubelet configuration.
    ControlPlane,
    /// A custom policy the user brought (a Gatekeeper constraint, a ValidatingAdmissionPolicy).
    Policy,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::PodSecurity => "pod-security",
            Category::Workload => "workload",
            Category::Image => "image",
            Category::Rbac => "rbac",
            Category::Exposure => "exposure",
            Category::ControlPlane => "control-plane",
            Category::Policy => "policy",
        }
    }
}

/// Where a check sits in the frameworks auditors use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Frameworks {
    /// Pod Security Standards, as `"<level>:<pod-security-admission check id>"`.
    pub pss: Vec<String>,
    /// CIS Kubernetes Benchmark section numbers.
    pub cis: Vec<String>,
    /// NSA-CISA Kubernetes Hardening Guide sections.
    pub nsa: Vec<String>,
    /// MITRE ATT&CK technique IDs.
    pub mitre: Vec<String>,
    /// Microsoft Threat Matrix for Kubernetes techniques (`MS-TA9xxx`).
    pub microsoft: Vec<String>,
}

/// A catalogue entry. IDs are stable: reports, suppressions and configs refer to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub category: Category,
    pub description: String,
    pub remediation: String,
    pub frameworks: Frameworks,
}
