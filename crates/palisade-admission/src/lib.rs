//! The validating admission webhook: the HTTPS server the Kubernetes API server calls with
//! `AdmissionReview`s (`admission.k8s.io/v1` and `v1beta1`) on `POST /validate`, and everything around
//! a decision that is not a policy — TLS with certificate hot reload, exempt namespaces, the
//! per-request evaluation budget and the failure mode, hot swapping of the policy set, `/healthz`,
//! `/readyz`, Prometheus `/metrics` and the JSON-lines decision log.
//!
//! This crate knows no policy language: policies reach it only through the [`Evaluator`] trait,
//! which turns an [`AdmissionRequest`](palisade_policy::AdmissionRequest) into
//! [`Violation`](palisade_policy::Violation)s. It must not depend on a policy engine (Rego, CEL, the
//! built-in checks) nor load policy files; whoever builds the policy set hands it over with
//! [`Server::replace_evaluator`]. It must never panic on what a client sends: malformed, oversized
//! or hostile bodies get an HTTP 400 with a JSON error.
//!
//! Dry-run requests (`request.dryRun: true`) are evaluated and answered exactly like real ones, so
//! `kubectl apply --dry-run=server` shows the real verdict; their only trace is the decision log
//! (lines carry `"dry_run": true`) and metrics, never anything outside the process — which is what
//! lets the webhook be registered with `sideEffects: None`.

mod decision;
mod log;
mod metrics;
mod review;
mod server;
mod tls;

pub use decision::{FailureMode, Status, Verdict, decide};
pub use log::DecisionLog;
pub use metrics::Metrics;
pub use review::{Review, ReviewError, ReviewVersion, parse_review};
pub use server::{Config, ServeError, Server};
pub use tls::{CertificateError, TlsFiles};

use palisade_policy::{AdmissionRequest, Violation};

/// Why an evaluator could not judge a request. The server then answers according to its
/// [`FailureMode`] instead of guessing a decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// A policy set, as the server sees it. Implementations must be cheap to share across threads: one
/// instance serves every request until it is replaced.
pub trait Evaluator: Send + Sync + 'static {
    /// The violations of every policy that applies to `request` (none: the request is allowed).
    /// `Err` when a policy could not be evaluated; the failure mode decides the answer.
    fn evaluate(&self, request: &AdmissionRequest) -> Result<Vec<Violation>, EvalError>;
}

/// The policy set with no policies: every request is allowed. The floor for benchmarks and a valid
/// configuration for a webhook that only records (there is nothing to record).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Evaluator for AllowAll {
    fn evaluate(&self, _request: &AdmissionRequest) -> Result<Vec<Violation>, EvalError> {
        Ok(Vec::new())
    }
}

impl<F> Evaluator for F
where
    F: Fn(&AdmissionRequest) -> Result<Vec<Violation>, EvalError> + Send + Sync + 'static,
{
    fn evaluate(&self, request: &AdmissionRequest) -> Result<Vec<Violation>, EvalError> {
        self(request)
    }
}
