//! Palisade's inventory: Kubernetes objects read from manifests, `kubectl` dumps, snapshots and live
//! clusters, turned into [`palisade_core::Resource`]s.
//!
//! This crate owns reading (files, standard input, the Kubernetes API) and redaction: Secret and
//! ConfigMap values never leave it, only their keys. It must not judge what it reads — checks live in
//! `palisade-posture` — and it must not print: problems come back as values for the caller to report.

#[cfg(feature = "live")]
pub mod cluster;
pub mod manifests;
pub mod redact;
pub mod snapshot;
pub mod yaml;
