//! What every policy engine (Rego/Gatekeeper, CEL/ValidatingAdmissionPolicy, the built-in checks)
//! shares: the [`AdmissionRequest`] a policy judges (the `request` of a Kubernetes
//! `AdmissionReview`, also built from a manifest for offline scans), the [`Inventory`] referential
//! policies read (`data.inventory` in Gatekeeper's layout, namespaces for namespace selectors), label
//! [`selector`]s, and the [`Violation`]s policies return with their [`Action`].
//!
//! This crate must not evaluate any policy language and must not do I/O; engines live in their own
//! crates and depend on this one.

pub mod inventory;
pub mod request;
pub mod selector;

pub use inventory::Inventory;
pub use request::{AdmissionRequest, GroupVersionKind, GroupVersionResource, Operation, UserInfo};
pub use selector::{LabelSelector, SelectorError};

use serde::Serialize;

/// What happens when a policy finds a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Reject the request (Gatekeeper `deny`, VAP `Deny`).
    Deny,
    /// Admit it with a warning returned to the client (Gatekeeper `warn`, VAP `Warn`).
    Warn,
    /// Admit it and record the violation (Gatekeeper `dryrun`, VAP `Audit`).
    Audit,
}

/// One violation reported by a policy for one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// The policy that produced it: `<ConstraintKind>/<constraint name>` for Gatekeeper,
    /// the ValidatingAdmissionPolicyBinding's name for CEL, the check ID for built-in checks.
    pub policy: String,
    /// The message shown to the user (Gatekeeper `msg`, VAP `message`/`messageExpression`).
    pub message: String,
    /// Structured details when the policy gives them (Gatekeeper `details`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    pub action: Action,
    /// A VAP `reason` (`Forbidden`, `Invalid`, …) when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
