//! Built-in posture checks over an inventory: the check catalogue ([`Catalogue`]), the checks
//! themselves (Pod Security Standards, workload hardening, RBAC, exposure, control-plane flags), and
//! the exceptions users configure ([`Config`], `palisade.dev/ignore` annotations).
//!
//! Objects are assessed one at a time as they stream in ([`Session::assess`]); what a check needs to
//! know about the rest of the cluster (roles a binding points at, which namespaces have a
//! NetworkPolicy, which workloads a Service selects) is kept as compact facts and assessed in
//! [`Session::finish`]. Sessions built on different threads merge. This crate must not do I/O:
//! loaders hand it [`palisade_core::Resource`]s, reporters take its findings.

pub(crate) mod admission;
mod catalogue;
mod checks;
mod config;
mod custom;
mod emit;
mod engine;
mod pod;
pub mod suite;
#[cfg(test)]
mod testing;

pub use admission::admission_violations;
pub use catalogue::{Catalogue, UnknownCheck};
pub use config::{
    AdmissionRule, Config, ConfigError, Exemption, GateConditions, ImageGateRule, ImageGates,
    UnscannedAction,
};
pub use custom::{CustomPolicies, PolicyLoadError};
pub use emit::{Context, Emitter, IGNORE_ANNOTATION, IGNORE_REASON_ANNOTATION};
pub use engine::{Assessment, Session};
pub use pod::{ContainerView, PodView};
