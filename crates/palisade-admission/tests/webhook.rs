//! End to end: the webhook on 127.0.0.1 with a throwaway CA, a real rustls client posting
//! AdmissionReviews over HTTPS, as the API server does.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use palisade_admission::{
    Config, DecisionLog, EvalError, Evaluator, FailureMode, Server, TlsFiles,
};
use palisade_policy::{Action, AdmissionRequest, Violation};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

// ---------------------------------------------------------------- certificates

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn pki(name: &str) -> Pki {
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params.distinguished_name.push(DnType::CommonName, name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// Replaces a file the way a secret volume update does: write aside, then rename over.
fn replace(path: &Path, contents: &str) {
    let aside = path.with_extension("new");
    std::fs::write(&aside, contents).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

fn install(dir: &Path, pki: &Pki) -> TlsFiles {
    let files = TlsFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    replace(&files.cert, &pki.cert_pem);
    replace(&files.key, &pki.key_pem);
    files
}

// ---------------------------------------------------------------- client

async fn connect(addr: SocketAddr, ca_pem: &str) -> std::io::Result<TlsStream<TcpStream>> {
    connect_with_alpn(addr, ca_pem, Vec::new()).await
}

async fn connect_with_alpn(
    addr: SocketAddr,
    ca_pem: &str,
    alpn: Vec<Vec<u8>>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut config = config;
    config.alpn_protocols = alpn;
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn open(addr: SocketAddr, ca_pem: &str) -> std::io::Result<Sender> {
    let tls = connect(addr, ca_pem).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(sender)
}

struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(sender: &mut Sender, method: &str, path: &str, body: Vec<u8>) -> Reply {
    sender.ready().await.unwrap();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        content_type,
        body,
    }
}

async fn request(addr: SocketAddr, ca_pem: &str, method: &str, path: &str, body: Vec<u8>) -> Reply {
    let mut sender = open(addr, ca_pem).await.unwrap();
    send(&mut sender, method, path, body).await
}

async fn review(addr: SocketAddr, ca_pem: &str, body: &Value) -> Value {
    let reply = request(
        addr,
        ca_pem,
        "POST",
        "/validate",
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn pod_review(version: &str, uid: &str, namespace: &str, privileged: bool, labels: Value) -> Value {
    json!({
        "apiVersion": version,
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web", "namespace": namespace, "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web", "namespace": namespace, "labels": labels},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:latest",
                    "securityContext": {"privileged": privileged}}]}
            },
            "dryRun": false
        }
    })
}

const V1: &str = "admission.k8s.io/v1";

// ---------------------------------------------------------------- evaluators

/// Three policies, one per action: privileged containers are denied, pods without a `team` label
/// warned about, `:latest` images audited.
#[derive(Default)]
struct PodPolicies {
    calls: AtomicUsize,
}

fn violation(policy: &str, action: Action, message: String) -> Violation {
    Violation {
        policy: policy.to_string(),
        message,
        details: None,
        action,
        reason: None,
    }
}

impl Evaluator for PodPolicies {
    fn evaluate(&self, request: &AdmissionRequest) -> Result<Vec<Violation>, EvalError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut violations = Vec::new();
        let Some(pod) = request.object.as_ref() else {
            return Ok(violations);
        };
        let containers = pod["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for container in &containers {
            let name = container["name"].as_str().unwrap_or("");
            if container["securityContext"]["privileged"] == json!(true) {
                violations.push(violation(
                    "no-privileged",
                    Action::Deny,
                    format!("container `{name}` is privileged"),
                ));
            }
            if container["image"]
                .as_str()
                .is_some_and(|i| i.ends_with(":latest"))
            {
                violations.push(violation(
                    "no-latest",
                    Action::Audit,
                    format!("container `{name}` uses a :latest image"),
                ));
            }
        }
        if pod["metadata"]["labels"]["team"].is_null() {
            violations.push(violation(
                "require-team",
                Action::Warn,
                "pod has no `team` label".to_string(),
            ));
        }
        Ok(violations)
    }
}

#[derive(Clone, Default)]
struct SharedLog(Arc<Mutex<Vec<u8>>>);

impl Write for SharedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedLog {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

struct Running {
    server: Server,
    addr: SocketAddr,
    pki: Pki,
    dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("server did not shut down")
            .unwrap();
    }
}

async fn start(evaluator: Option<Arc<dyn Evaluator>>, adjust: impl FnOnce(&mut Config)) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki("webhook-ca-1");
    let files = install(dir.path(), &pki);
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), files, "palisade-system");
    config.certificate_poll = None;
    adjust(&mut config);
    let server = Server::bind(config, evaluator).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server.clone();
    let task = tokio::spawn(async move {
        serving
            .serve(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running {
        server,
        addr,
        pki,
        dir,
        stop: Some(stop),
        task,
    }
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_warn_audit_and_allow() {
    let log = SharedLog::default();
    let policies = Arc::new(PodPolicies::default());
    let running = start(Some(policies.clone()), |config| {
        config.decision_log = Some(Arc::new(DecisionLog::new(log.clone())));
    })
    .await;
    let (addr, ca) = (running.addr, running.pki.ca_pem.clone());

    let denied = review(
        addr,
        &ca,
        &pod_review(V1, "u-deny", "shop", true, json!({"team": "a"})),
    )
    .await;
    assert_eq!(denied["apiVersion"], V1);
    assert_eq!(denied["kind"], "AdmissionReview");
    let response = &denied["response"];
    assert_eq!(response["uid"], "u-deny");
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    assert_eq!(response["status"]["reason"], "Forbidden");
    assert_eq!(
        response["status"]["message"],
        "[no-privileged] container `nginx` is privileged"
    );

    let allowed = review(
        addr,
        &ca,
        &pod_review(V1, "u-ok", "shop", false, json!({"team": "a"})),
    )
    .await;
    assert_eq!(allowed["response"]["uid"], "u-ok");
    assert_eq!(allowed["response"]["allowed"], true);
    assert!(allowed["response"].get("status").is_none());
    assert!(allowed["response"].get("warnings").is_none());

    let warned = review(
        addr,
        &ca,
        &pod_review(V1, "u-warn", "shop", false, json!({})),
    )
    .await;
    assert_eq!(warned["response"]["allowed"], true);
    assert_eq!(
        warned["response"]["warnings"],
        json!(["[require-team] pod has no `team` label"])
    );

    // Every deny, warn and audit decision is logged: deny+audit, audit, warn+audit.
    let lines = log.lines();
    let summary: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["uid"].as_str().unwrap().to_string(),
                l["policy"].as_str().unwrap().to_string(),
                l["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("u-deny", "no-privileged", "deny"),
        ("u-deny", "no-latest", "audit"),
        ("u-ok", "no-latest", "audit"),
        ("u-warn", "no-latest", "audit"),
        ("u-warn", "require-team", "warn"),
    ];
    assert_eq!(summary.len(), expected.len(), "{lines:?}");
    for (uid, policy, action) in expected {
        assert!(
            summary
                .iter()
                .any(|s| (s.0.as_str(), s.1.as_str(), s.2.as_str()) == (uid, policy, action)),
            "missing {uid} {policy} {action} in {summary:?}"
        );
    }
    let deny_line = lines.iter().find(|l| l["action"] == "deny").unwrap();
    assert_eq!(deny_line["kind"], "Pod");
    assert_eq!(deny_line["namespace"], "shop");
    assert_eq!(deny_line["name"], "web");
    assert_eq!(deny_line["operation"], "CREATE");
    assert_eq!(deny_line["user"], "alice");
    assert_eq!(deny_line["dry_run"], false);

    let metrics = request(addr, &ca, "GET", "/metrics", Vec::new()).await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type.starts_with("text/plain"));
    let text = metrics.text();
    assert_eq!(
        metric(
            &text,
            "palisade_admission_requests_total{outcome=\"denied\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_requests_total{outcome=\"allowed\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_decisions_total{policy=\"no-latest\",action=\"audit\"}"
        ),
        3.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_decisions_total{policy=\"no-privileged\",action=\"deny\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(&text, "palisade_admission_request_duration_seconds_count"),
        3.0
    );
    assert_eq!(
        metric(&text, "palisade_admission_evaluation_timeouts_total"),
        0.0
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1beta1_is_answered_in_v1beta1_and_dry_run_is_evaluated() {
    let log = SharedLog::default();
    let running = start(Some(Arc::new(PodPolicies::default())), |config| {
        config.decision_log = Some(Arc::new(DecisionLog::new(log.clone())));
    })
    .await;
    let mut body = pod_review(
        "admission.k8s.io/v1beta1",
        "u-beta",
        "shop",
        true,
        json!({"team": "a"}),
    );
    body["request"]["dryRun"] = json!(true);
    let answer = review(running.addr, &running.pki.ca_pem, &body).await;
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(answer["response"]["uid"], "u-beta");
    // A dry run gets the real answer, so `kubectl --dry-run=server` shows what would happen.
    assert_eq!(answer["response"]["allowed"], false);
    assert!(log.lines().iter().all(|l| l["dry_run"] == true));
    assert!(!log.lines().is_empty());
    let text = request(
        running.addr,
        &running.pki.ca_pem,
        "GET",
        "/metrics",
        Vec::new(),
    )
    .await
    .text();
    assert_eq!(
        metric(&text, "palisade_admission_dry_run_requests_total"),
        1.0
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kind_is_evaluated_and_an_empty_evaluator_allows() {
    let running = start(Some(Arc::new(palisade_admission::AllowAll)), |_| {}).await;
    let body = json!({"apiVersion": V1, "kind": "AdmissionReview", "request": {
        "uid": "u-crd", "kind": {"group": "example.com", "version": "v1", "kind": "Widget"},
        "operation": "CREATE", "namespace": "shop",
        "object": {"apiVersion": "example.com/v1", "kind": "Widget"}}});
    let answer = review(running.addr, &running.pki.ca_pem, &body).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(answer["response"]["uid"], "u-crd");
    running.stop().await;
}

fn slow(delay: Duration) -> Arc<dyn Evaluator> {
    Arc::new(move |_: &AdmissionRequest| {
        std::thread::sleep(delay);
        Ok(vec![violation("late", Action::Deny, "too late".into())])
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_overrun_fails_open() {
    let log = SharedLog::default();
    let running = start(Some(slow(Duration::from_millis(1500))), |config| {
        config.budget = Duration::from_millis(50);
        config.failure_mode = FailureMode::Open;
        config.decision_log = Some(Arc::new(DecisionLog::new(log.clone())));
    })
    .await;
    let started = std::time::Instant::now();
    let answer = review(
        running.addr,
        &running.pki.ca_pem,
        &pod_review(V1, "u-slow", "shop", false, json!({})),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "the budget was not enforced"
    );
    assert_eq!(answer["response"]["allowed"], true);
    let warning = answer["response"]["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("exceeded the 50 ms budget") && warning.contains("fail-open"),
        "{warning}"
    );
    let text = request(
        running.addr,
        &running.pki.ca_pem,
        "GET",
        "/metrics",
        Vec::new(),
    )
    .await
    .text();
    assert_eq!(
        metric(&text, "palisade_admission_evaluation_timeouts_total"),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_requests_total{outcome=\"failed_open\"}"
        ),
        1.0
    );
    assert_eq!(log.lines().len(), 1);
    assert_eq!(log.lines()[0]["action"], "warn");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_overrun_and_errors_fail_closed() {
    // A budget roomy enough for the panicking evaluator below: printing its panic (with a
    // backtrace when RUST_BACKTRACE is set, symbolised from a large debug binary on a loaded
    // 2-core CI machine — 400 ms was once not enough) must not itself overrun the budget.
    let running = start(Some(slow(Duration::from_millis(3000))), |config| {
        config.budget = Duration::from_millis(1200);
        config.failure_mode = FailureMode::Closed;
    })
    .await;
    let (addr, ca) = (running.addr, running.pki.ca_pem.clone());
    let answer = review(
        addr,
        &ca,
        &pod_review(V1, "u-slow", "shop", false, json!({})),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false);
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("budget") && message.contains("fail-closed"),
        "{message}"
    );

    running
        .server
        .replace_evaluator(Arc::new(|_: &AdmissionRequest| {
            Err::<Vec<Violation>, _>(EvalError("rego: undefined function".into()))
        }));
    let answer = review(
        addr,
        &ca,
        &pod_review(V1, "u-err", "shop", false, json!({})),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false);
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("rego: undefined function"), "{message}");

    running.server.replace_evaluator(Arc::new(
        |_: &AdmissionRequest| -> Result<Vec<Violation>, EvalError> { panic!("evaluator bug") },
    ));
    let answer = review(
        addr,
        &ca,
        &pod_review(V1, "u-panic", "shop", false, json!({})),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false);

    let text = request(addr, &ca, "GET", "/metrics", Vec::new())
        .await
        .text();
    assert_eq!(
        metric(&text, "palisade_admission_evaluation_timeouts_total"),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_evaluation_failures_total{cause=\"error\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_evaluation_failures_total{cause=\"panic\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_requests_total{outcome=\"failed_closed\"}"
        ),
        3.0
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_400_with_json() {
    let running = start(Some(Arc::new(PodPolicies::default())), |_| {}).await;
    let (addr, ca) = (running.addr, running.pki.ca_pem.clone());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{not json".to_vec(), "not a valid AdmissionReview"),
        (
            json!({"apiVersion": V1, "kind": "AdmissionReview"})
                .to_string()
                .into_bytes(),
            "no request",
        ),
        (
            json!({"apiVersion": "v1", "kind": "AdmissionReview", "request": {"uid": "x"}})
                .to_string()
                .into_bytes(),
            "unsupported AdmissionReview apiVersion",
        ),
    ];
    for (body, expected) in cases {
        let reply = request(addr, &ca, "POST", "/validate", body).await;
        assert_eq!(reply.status, 400, "{}", reply.text());
        assert!(reply.content_type.starts_with("application/json"));
        let error = reply.json();
        assert_eq!(error["kind"], "Status");
        assert_eq!(error["code"], 400);
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "{message} should mention {expected}"
        );
    }

    // An oversized body announced in Content-Length is refused before any of it is read.
    let mut tls = connect(addr, &ca).await.unwrap();
    tls.write_all(
        format!(
            "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            3 * 1024 * 1024 + 1
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("\"code\":400") && answer.contains("byte limit"),
        "{answer}"
    );

    // An oversized body without Content-Length (chunked) is cut off while reading.
    let mut tls = connect(addr, &ca).await.unwrap();
    tls.write_all(
        b"POST /validate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let chunk = vec![b' '; 1024 * 1024];
    let mut answer = Vec::new();
    for _ in 0..4 {
        let header = format!("{:x}\r\n", chunk.len());
        // The server may answer and close before taking every chunk.
        if tls.write_all(header.as_bytes()).await.is_err()
            || tls.write_all(&chunk).await.is_err()
            || tls.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = tls.write_all(b"0\r\n\r\n").await;
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("byte limit"), "{answer}");

    let text = request(addr, &ca, "GET", "/metrics", Vec::new())
        .await
        .text();
    assert_eq!(
        metric(
            &text,
            "palisade_admission_requests_total{outcome=\"rejected\"}"
        ),
        5.0
    );

    let missing = request(addr, &ca, "GET", "/nope", Vec::new()).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], 404);
    let wrong_method = request(addr, &ca, "GET", "/validate", Vec::new()).await;
    assert_eq!(wrong_method.status, 405);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exempt_namespaces_skip_evaluation() {
    let policies = Arc::new(PodPolicies::default());
    let running = start(Some(policies.clone()), |config| {
        config.exempt_namespaces.push("ci".to_string());
    })
    .await;
    for namespace in ["kube-system", "palisade-system", "ci"] {
        let answer = review(
            running.addr,
            &running.pki.ca_pem,
            &pod_review(V1, "u-x", namespace, true, json!({})),
        )
        .await;
        assert_eq!(answer["response"]["allowed"], true, "{namespace}");
    }
    assert_eq!(policies.calls.load(Ordering::SeqCst), 0);
    let answer = review(
        running.addr,
        &running.pki.ca_pem,
        &pod_review(V1, "u-y", "shop", true, json!({})),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false);
    assert_eq!(policies.calls.load(Ordering::SeqCst), 1);
    let text = request(
        running.addr,
        &running.pki.ca_pem,
        "GET",
        "/metrics",
        Vec::new(),
    )
    .await
    .text();
    assert_eq!(
        metric(
            &text,
            "palisade_admission_requests_total{outcome=\"exempt\"}"
        ),
        3.0
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_and_hot_policy_swap_under_load() {
    let running = start(None, |config| config.budget = Duration::from_secs(2)).await;
    let (addr, ca) = (running.addr, running.pki.ca_pem.clone());
    assert_eq!(
        request(addr, &ca, "GET", "/healthz", Vec::new())
            .await
            .status,
        200
    );
    assert_eq!(
        request(addr, &ca, "GET", "/readyz", Vec::new())
            .await
            .status,
        503
    );
    // Not ready: the failure mode (open by default) answers.
    let answer = review(addr, &ca, &pod_review(V1, "u-0", "shop", true, json!({}))).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert!(
        answer["response"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no policy set")
    );

    let deny_all: Arc<dyn Evaluator> = Arc::new(|_: &AdmissionRequest| {
        std::thread::sleep(Duration::from_millis(2));
        Ok(vec![violation("generation-a", Action::Deny, "a".into())])
    });
    let allow_all: Arc<dyn Evaluator> = Arc::new(|_: &AdmissionRequest| {
        std::thread::sleep(Duration::from_millis(2));
        Ok(Vec::new())
    });
    running.server.replace_evaluator(deny_all.clone());
    assert_eq!(
        request(addr, &ca, "GET", "/readyz", Vec::new())
            .await
            .status,
        200
    );

    let clients: Vec<_> = (0..8)
        .map(|client| {
            let ca = ca.clone();
            tokio::spawn(async move {
                let mut sender = open(addr, &ca).await.unwrap();
                let mut verdicts = Vec::new();
                for i in 0..40 {
                    let uid = format!("c{client}-{i}");
                    let body = pod_review(V1, &uid, "shop", false, json!({}));
                    let reply = send(
                        &mut sender,
                        "POST",
                        "/validate",
                        body.to_string().into_bytes(),
                    )
                    .await;
                    assert_eq!(reply.status, 200, "{}", reply.text());
                    let answer = reply.json();
                    assert_eq!(answer["response"]["uid"], uid.as_str());
                    // Every answer comes from one of the two policy sets, never the failure mode.
                    assert!(answer["response"].get("warnings").is_none(), "{answer}");
                    verdicts.push(answer["response"]["allowed"].as_bool().unwrap());
                }
                verdicts
            })
        })
        .collect();
    for generation in 0..20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let next = if generation % 2 == 0 {
            &allow_all
        } else {
            &deny_all
        };
        running.server.replace_evaluator(next.clone());
    }
    let mut seen = Vec::new();
    for client in clients {
        seen.extend(client.await.unwrap());
    }
    assert_eq!(seen.len(), 320);
    // The last swap installed deny_all (generation 19 is odd).
    let answer = review(
        addr,
        &ca,
        &pod_review(V1, "u-last", "shop", false, json!({})),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false);
    let text = request(addr, &ca, "GET", "/metrics", Vec::new())
        .await
        .text();
    assert_eq!(
        metric(&text, "palisade_admission_policy_reloads_total"),
        21.0
    );
    running
        .server
        .policy_reload_failed(&"ConstraintTemplate k8spsp: rego parse error at line 3");
    let text = request(addr, &ca, "GET", "/metrics", Vec::new())
        .await
        .text();
    assert_eq!(
        metric(&text, "palisade_admission_policy_reload_failures_total"),
        1.0
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_reload_on_call_and_keep_the_last_good_pair() {
    let running = start(Some(Arc::new(PodPolicies::default())), |_| {}).await;
    let addr = running.addr;
    let old_ca = running.pki.ca_pem.clone();
    assert_eq!(running.server.reload_certificates(), Ok(false));

    // A connection established under the old certificate keeps working across the rotation.
    let mut established = open(addr, &old_ca).await.unwrap();
    assert_eq!(
        send(&mut established, "GET", "/healthz", Vec::new())
            .await
            .status,
        200
    );

    let rotated = pki("webhook-ca-2");
    install(running.dir.path(), &rotated);
    assert_eq!(running.server.reload_certificates(), Ok(true));
    assert_eq!(
        request(addr, &rotated.ca_pem, "GET", "/healthz", Vec::new())
            .await
            .status,
        200
    );
    assert!(
        connect(addr, &old_ca).await.is_err(),
        "the old certificate is still served"
    );
    assert_eq!(
        send(&mut established, "GET", "/healthz", Vec::new())
            .await
            .status,
        200
    );

    // A key that does not belong to the certificate is refused; the rotated pair stays.
    let stray = pki("webhook-ca-3");
    replace(&running.dir.path().join("tls.key"), &stray.key_pem);
    let error = running.server.reload_certificates().unwrap_err();
    assert!(
        error.to_string().contains("do not form a usable pair"),
        "{error}"
    );
    // Unchanged broken files are reported again but counted once.
    assert!(running.server.reload_certificates().is_err());
    replace(&running.dir.path().join("tls.crt"), "not a certificate");
    assert!(running.server.reload_certificates().is_err());
    assert_eq!(
        request(addr, &rotated.ca_pem, "GET", "/healthz", Vec::new())
            .await
            .status,
        200
    );

    let text = request(addr, &rotated.ca_pem, "GET", "/metrics", Vec::new())
        .await
        .text();
    assert_eq!(
        metric(&text, "palisade_admission_certificate_reloads_total"),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "palisade_admission_certificate_reload_failures_total"
        ),
        2.0
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_polled() {
    let running = start(Some(Arc::new(PodPolicies::default())), |config| {
        config.certificate_poll = Some(Duration::from_millis(100));
    })
    .await;
    let rotated = pki("webhook-ca-2");
    install(running.dir.path(), &rotated);
    let mut picked_up = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if connect(running.addr, &rotated.ca_pem).await.is_ok() {
            picked_up = true;
            break;
        }
    }
    assert!(picked_up, "the rotated certificate was never served");
    // While a request is being served under the new certificate, everything still answers.
    let answer = review(
        running.addr,
        &rotated.ca_pem,
        &pod_review(V1, "u-p", "shop", false, json!({"team": "t"})),
    )
    .await;
    assert_eq!(answer["response"]["allowed"], true);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_served() {
    // The API server's webhook client negotiates HTTP/2 when the webhook offers it.
    let running = start(Some(Arc::new(PodPolicies::default())), |_| {}).await;
    let tls = connect_with_alpn(running.addr, &running.pki.ca_pem, vec![b"h2".to_vec()])
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let body = pod_review(V1, "u-h2", "shop", true, json!({"team": "a"})).to_string();
    let request = Request::builder()
        .method("POST")
        .uri("https://localhost/validate")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["response"]["uid"], "u-h2");
    assert_eq!(answer["response"]["allowed"], false);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish() {
    let running = start(Some(slow(Duration::from_millis(300))), |config| {
        config.budget = Duration::from_secs(5);
    })
    .await;
    let (addr, ca) = (running.addr, running.pki.ca_pem.clone());
    let mut sender = open(addr, &ca).await.unwrap();
    let in_flight = tokio::spawn(async move {
        let body = pod_review(V1, "u-late", "shop", false, json!({})).to_string();
        send(&mut sender, "POST", "/validate", body.into_bytes()).await
    });
    // Let the request reach the evaluator before shutting down.
    tokio::time::sleep(Duration::from_millis(100)).await;
    running.stop().await;
    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["response"]["uid"], "u-late");
    assert!(
        connect(addr, &ca).await.is_err(),
        "still accepting after shutdown"
    );
}
