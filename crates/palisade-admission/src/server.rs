//! The HTTPS server: accepts TLS connections (HTTP/1.1 and HTTP/2), routes `/validate`, `/healthz`,
//! `/readyz` and `/metrics`, and turns each admission review into a decision within the budget.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use palisade_policy::{Action, AdmissionRequest};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::decision::{FailureMode, Verdict, decide, failure_verdict};
use crate::log::DecisionLog;
use crate::metrics::{Failure, Metrics, Outcome};
use crate::review::{parse_review, render_response};
use crate::tls::{CertificateError, CertificateStore, TlsFiles};
use crate::{EvalError, Evaluator};

/// The API server refuses request bodies over 3 MiB, so no legitimate review is larger.
pub const DEFAULT_MAX_BODY_BYTES: usize = 3 * 1024 * 1024;
/// Gatekeeper's and Kyverno's default webhook budget is seconds; ours is 100 ms because the API
/// server's `timeoutSeconds` covers the network too and admission sits on every write.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(100);
pub const DEFAULT_CERTIFICATE_POLL: Duration = Duration::from_secs(5);
/// Slow or stalled clients must not hold a connection slot forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests get to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);
/// The policy name decision-log lines carry when the failure mode, not a policy, answered.
const FAILURE_MODE_POLICY: &str = "palisade:failure-mode";

/// How the webhook runs. [`Config::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub tls: TlsFiles,
    /// Requests in these namespaces are allowed without evaluation.
    pub exempt_namespaces: Vec<String>,
    pub failure_mode: FailureMode,
    /// Evaluation time allowed per request.
    pub budget: Duration,
    pub max_body_bytes: usize,
    /// How often the certificate files are reread; `None` reloads only on
    /// [`Server::reload_certificates`].
    pub certificate_poll: Option<Duration>,
    /// Where deny, warn and audit decisions are written as JSON lines; `None` writes none.
    pub decision_log: Option<Arc<DecisionLog>>,
}

impl Config {
    /// Defaults: `kube-system` and `own_namespace` (where the webhook runs — evaluating its own pods
    /// could lock it out of restarting) exempt, fail-open, a 100 ms budget, 3 MiB bodies,
    /// certificates polled every 5 s, no decision log.
    pub fn new(listen: SocketAddr, tls: TlsFiles, own_namespace: &str) -> Config {
        let mut exempt_namespaces = vec!["kube-system".to_string()];
        if !own_namespace.is_empty() && own_namespace != "kube-system" {
            exempt_namespaces.push(own_namespace.to_string());
        }
        Config {
            listen,
            tls,
            exempt_namespaces,
            failure_mode: FailureMode::Open,
            budget: DEFAULT_BUDGET,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            certificate_poll: Some(DEFAULT_CERTIFICATE_POLL),
            decision_log: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error("this server is already serving")]
    AlreadyServing,
}

struct Shared {
    evaluator: RwLock<Option<Arc<dyn Evaluator>>>,
    exempt_namespaces: Vec<String>,
    failure_mode: FailureMode,
    budget: Duration,
    max_body_bytes: usize,
    certificate_poll: Option<Duration>,
    decision_log: Option<Arc<DecisionLog>>,
    metrics: Metrics,
    certificates: Arc<CertificateStore>,
}

/// A bound webhook. Cloning gives another handle on the same server, so one task can
/// [`serve`](Server::serve) while others swap policies or reload certificates.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
    listener: Arc<Mutex<Option<TcpListener>>>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads the certificate and binds the listening socket; requests are answered once
    /// [`serve`](Server::serve) runs. Without an evaluator the server is not ready (`/readyz` 503)
    /// and reviews are answered by the failure mode.
    pub async fn bind(
        config: Config,
        evaluator: Option<Arc<dyn Evaluator>>,
    ) -> Result<Server, ServeError> {
        let certificates = Arc::new(CertificateStore::load(config.tls.clone())?);
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
        Ok(Server {
            shared: Arc::new(Shared {
                evaluator: RwLock::new(evaluator),
                exempt_namespaces: config.exempt_namespaces,
                failure_mode: config.failure_mode,
                budget: config.budget,
                max_body_bytes: config.max_body_bytes,
                certificate_poll: config.certificate_poll,
                decision_log: config.decision_log,
                metrics: Metrics::default(),
                certificates,
            }),
            listener: Arc::new(Mutex::new(Some(listener))),
            local_addr,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// Swaps in a new policy set. Requests already being evaluated finish with the set they
    /// started with; the next request uses the new one. Nothing is dropped.
    pub fn replace_evaluator(&self, evaluator: Arc<dyn Evaluator>) {
        *self
            .shared
            .evaluator
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(evaluator);
        self.shared.metrics.policy_reload(true);
        tracing::info!("policy set replaced");
    }

    /// Records that a new policy set was rejected by whoever loads policies (the old one stays);
    /// the server only logs and counts it, since it knows no policy language.
    pub fn policy_reload_failed(&self, error: &dyn std::fmt::Display) {
        self.shared.metrics.policy_reload(false);
        tracing::warn!(%error, "new policy set rejected; the previous one stays active");
    }

    /// Rereads the certificate files now. `Ok(true)`: new handshakes get the new certificate;
    /// `Ok(false)`: unchanged; `Err`: the new files are unusable and the previous certificate stays.
    pub fn reload_certificates(&self) -> Result<bool, CertificateError> {
        self.shared.reload_certificates()
    }

    /// Accepts connections until `shutdown` completes, then stops accepting and gives in-flight
    /// requests up to 25 s to finish. Callable once per bound server.
    pub async fn serve(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ServeError> {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or(ServeError::AlreadyServing)?;
        let acceptor = TlsAcceptor::from(Arc::new(self.shared.certificates.server_config()?));
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(BODY_READ_TIMEOUT);
        let builder = Arc::new(builder);
        let graceful = GracefulShutdown::new();

        let poller = self.shared.certificate_poll.map(|period| {
            let shared = Arc::clone(&self.shared);
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    // Errors are logged and counted inside; the old certificate keeps serving.
                    let _ = shared.reload_certificates();
                }
            })
        });

        tracing::info!(addr = %self.local_addr, "admission webhook listening");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let acceptor = acceptor.clone();
                        let builder = Arc::clone(&builder);
                        let shared = Arc::clone(&self.shared);
                        let watcher = graceful.watcher();
                        tokio::spawn(async move {
                            let tls = match tokio::time::timeout(
                                HANDSHAKE_TIMEOUT,
                                acceptor.accept(stream),
                            )
                            .await
                            {
                                Ok(Ok(tls)) => tls,
                                Ok(Err(error)) => {
                                    tracing::debug!(%peer, %error, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "TLS handshake timed out");
                                    return;
                                }
                            };
                            let service = service_fn(move |request| {
                                let shared = Arc::clone(&shared);
                                async move { Ok::<_, Infallible>(route(&shared, request).await) }
                            });
                            let connection = builder
                                .serve_connection(TokioIo::new(tls), service)
                                .into_owned();
                            if let Err(error) = watcher.watch(connection).await {
                                tracing::debug!(%peer, %error, "connection ended with an error");
                            }
                        });
                    }
                    Err(error) => {
                        // Typically EMFILE: back off instead of spinning on a full descriptor table.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        if let Some(poller) = poller {
            poller.abort();
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
        Ok(())
    }
}

impl Shared {
    fn reload_certificates(&self) -> Result<bool, CertificateError> {
        match self.certificates.reload() {
            Ok(true) => {
                self.metrics.certificate_reload(true);
                tracing::info!("serving certificate reloaded");
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err((error, is_new)) => {
                if is_new {
                    self.metrics.certificate_reload(false);
                    tracing::warn!(%error, "new serving certificate rejected; the previous one stays");
                }
                Err(error)
            }
        }
    }

    fn evaluator(&self) -> Option<Arc<dyn Evaluator>> {
        self.evaluator
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The verdict on one request, within the budget.
    async fn judge(&self, request: AdmissionRequest) -> (Verdict, Outcome) {
        if request.dry_run == Some(true) {
            self.metrics.dry_run();
        }
        if !request.namespace.is_empty() && self.exempt_namespaces.contains(&request.namespace) {
            return (Verdict::allow(), Outcome::Exempt);
        }
        let Some(evaluator) = self.evaluator() else {
            self.metrics.failure(Failure::NotReady);
            return self.fail(&request, "no policy set is loaded");
        };
        let request = Arc::new(request);
        let task = tokio::task::spawn_blocking({
            let request = Arc::clone(&request);
            move || evaluator.evaluate(&request)
        });
        // A timed-out evaluation keeps running on its blocking thread (threads cannot be cancelled);
        // its result is dropped.
        match tokio::time::timeout(self.budget, task).await {
            Err(_) => {
                self.metrics.timeout();
                let cause = format!(
                    "evaluation exceeded the {} ms budget",
                    self.budget.as_millis()
                );
                self.fail(&request, &cause)
            }
            Ok(Err(join_error)) => {
                self.metrics.failure(Failure::Panic);
                tracing::error!(error = %join_error, uid = %request.uid, "policy evaluation panicked");
                self.fail(&request, "policy evaluation panicked")
            }
            Ok(Ok(Err(EvalError(message)))) => {
                self.metrics.failure(Failure::Error);
                self.fail(&request, &format!("evaluation failed: {message}"))
            }
            Ok(Ok(Ok(violations))) => {
                for violation in &violations {
                    self.metrics.decision(&violation.policy, violation.action);
                    if let Some(log) = &self.decision_log {
                        log.record(
                            &request,
                            &violation.policy,
                            violation.action,
                            &violation.message,
                        );
                    }
                }
                let verdict = decide(&violations);
                let outcome = if verdict.allowed {
                    Outcome::Allowed
                } else {
                    Outcome::Denied
                };
                (verdict, outcome)
            }
        }
    }

    fn fail(&self, request: &AdmissionRequest, cause: &str) -> (Verdict, Outcome) {
        tracing::warn!(uid = %request.uid, cause, mode = ?self.failure_mode, "policies not evaluated");
        let verdict = failure_verdict(self.failure_mode, cause);
        let (action, outcome) = match self.failure_mode {
            FailureMode::Open => (Action::Warn, Outcome::FailedOpen),
            FailureMode::Closed => (Action::Deny, Outcome::FailedClosed),
        };
        if let Some(log) = &self.decision_log {
            log.record(request, FAILURE_MODE_POLICY, action, cause);
        }
        (verdict, outcome)
    }
}

type Body = Full<Bytes>;

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An error as a Kubernetes `metav1.Status`, which is what the API server expects to read when a
/// webhook call fails, so its log line names the problem.
fn error_reply(status: StatusCode, message: &str) -> Response<Body> {
    let reason = match status {
        StatusCode::NOT_FOUND => "NotFound",
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
        _ => "BadRequest",
    };
    let body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": status.as_u16(),
    });
    reply(status, "application/json", body.to_string())
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Body> {
    match (request.method(), request.uri().path()) {
        (&Method::POST, "/validate") => validate(shared, request).await,
        (&Method::GET, "/healthz") => reply(StatusCode::OK, "text/plain", "ok\n"),
        (&Method::GET, "/readyz") => {
            if shared.evaluator().is_some() {
                reply(StatusCode::OK, "text/plain", "ready\n")
            } else {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "no policy set loaded\n",
                )
            }
        }
        (&Method::GET, "/metrics") => reply(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            shared.metrics.render(),
        ),
        (_, "/validate" | "/healthz" | "/readyz" | "/metrics") => error_reply(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("method {} not allowed here", request.method()),
        ),
        (_, path) => error_reply(StatusCode::NOT_FOUND, &format!("no such path: {path}")),
    }
}

async fn validate(shared: &Shared, request: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let rejected = |message: &str| {
        shared.metrics.request(Outcome::Rejected, started.elapsed());
        error_reply(StatusCode::BAD_REQUEST, message)
    };
    let too_large = format!(
        "request body exceeds the {} byte limit",
        shared.max_body_bytes
    );
    // Refuse an announced oversized body before reading any of it.
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > shared.max_body_bytes as u64) {
        return rejected(&too_large);
    }
    let body = Limited::new(request.into_body(), shared.max_body_bytes).collect();
    let bytes = match tokio::time::timeout(BODY_READ_TIMEOUT, body).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return rejected(&too_large);
        }
        Ok(Err(error)) => return rejected(&format!("cannot read request body: {error}")),
        Err(_) => return rejected("request body not received in time"),
    };
    let review = match parse_review(&bytes) {
        Ok(review) => review,
        Err(error) => return rejected(&error.to_string()),
    };
    let version = review.version;
    let uid = review.request.uid.clone();
    let (verdict, outcome) = shared.judge(review.request).await;
    let body = render_response(version, &uid, &verdict).to_string();
    shared.metrics.request(outcome, started.elapsed());
    reply(StatusCode::OK, "application/json", body)
}
