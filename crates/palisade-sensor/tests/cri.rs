//! Pod metadata sources against local servers:
//!
//! - a CRI runtime: a gRPC server over a Unix socket written here with `h2`, speaking the exact
//!   CRI wire format (HTTP/2 POST `/runtime.v1.RuntimeService/<Method>`, `content-type:
//!   application/grpc`, 5-byte length-prefixed protobuf messages, `grpc-status` trailer). Its
//!   protobuf is encoded by hand below from the field numbers of kubernetes/cri-api
//!   `pkg/apis/runtime/v1/api.proto`, independently of the client's prost declarations, so a
//!   wrong field number on either side fails the test;
//! - the kubelet's `/pods` and the API's pod list: a local HTTPS server (test CA and certificate
//!   in `tests/fixtures/attrib/tls`) answering a pod list recorded from the demo cluster.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use palisade_sensor::cgroup::parse_cgroup_path;
use palisade_sensor::cri::{CriClient, CriError};
use palisade_sensor::model::Runtime;
use palisade_sensor::pods::{PodResolver, PodSource, PodSourcesConfig, fetch};

const WEB_ID: &str = "1d2209c5a547b4bfffd02862e081a861218f4fd72527f32254cda52e616037df";
const JOB_ID: &str = "a225545d519a6c972ff1c50c153cd9b7f7b3612ffa9e7ed344761812efaeab18";
const POD_UID: &str = "5e0c4b8a-2f1d-4c3b-9a8e-7d6c5b4a3f21";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attrib")
}

fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "palisade-sensor-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Polls `probe` until it gives `Some`, for at most five seconds.
fn eventually<T>(mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Protobuf, by hand: wire type 0 (varint) and 2 (length-delimited) are all CRI lists need.

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn field_bytes(number: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(number) << 3 | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn field_str(number: u32, value: &str, out: &mut Vec<u8>) {
    field_bytes(number, value.as_bytes(), out);
}

fn field_varint(number: u32, value: u64, out: &mut Vec<u8>) {
    varint(u64::from(number) << 3, out);
    varint(value, out);
}

/// A `map<string, string>` entry: a nested message with key = 1, value = 2.
fn field_map_entry(number: u32, key: &str, value: &str, out: &mut Vec<u8>) {
    let mut entry = Vec::new();
    field_str(1, key, &mut entry);
    field_str(2, value, &mut entry);
    field_bytes(number, &entry, out);
}

struct FakeContainer {
    id: &'static str,
    sandbox: &'static str,
    name: &'static str,
    image_id: &'static str,
    user_image: &'static str,
    image_ref: &'static str,
}

struct FakeSandbox {
    id: &'static str,
    name: &'static str,
    uid: &'static str,
    namespace: &'static str,
    labels: &'static [(&'static str, &'static str)],
}

/// `ListContainersResponse { repeated Container containers = 1; }`
fn list_containers_response(containers: &[FakeContainer]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in containers {
        let mut container = Vec::new();
        field_str(1, c.id, &mut container); // id
        field_str(2, c.sandbox, &mut container); // pod_sandbox_id
        let mut metadata = Vec::new();
        field_str(1, c.name, &mut metadata); // ContainerMetadata.name
        field_varint(2, 0, &mut metadata); // attempt
        field_bytes(3, &metadata, &mut container); // metadata
        let mut image = Vec::new();
        field_str(1, c.image_id, &mut image); // ImageSpec.image
        field_str(18, c.user_image, &mut image); // ImageSpec.user_specified_image
        field_bytes(4, &image, &mut container); // image
        field_str(5, c.image_ref, &mut container); // image_ref
        field_varint(6, 1, &mut container); // state = CONTAINER_RUNNING
        field_varint(7, 1_764_000_000_000_000_000, &mut container); // created_at (unread)
        field_map_entry(8, "io.kubernetes.container.name", c.name, &mut container); // labels
        field_map_entry(9, "io.kubernetes.container.hash", "1234", &mut container); // annotations
        field_bytes(1, &container, &mut out);
    }
    out
}

/// `ListPodSandboxResponse { repeated PodSandbox items = 1; }`
fn list_sandboxes_response(sandboxes: &[FakeSandbox]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in sandboxes {
        let mut sandbox = Vec::new();
        field_str(1, s.id, &mut sandbox); // id
        let mut metadata = Vec::new();
        field_str(1, s.name, &mut metadata); // PodSandboxMetadata.name
        field_str(2, s.uid, &mut metadata); // uid
        field_str(3, s.namespace, &mut metadata); // namespace
        field_varint(4, 0, &mut metadata); // attempt
        field_bytes(2, &metadata, &mut sandbox); // metadata
        field_varint(3, 0, &mut sandbox); // state = SANDBOX_READY
        for (key, value) in s.labels {
            field_map_entry(5, key, value, &mut sandbox); // labels
        }
        field_map_entry(5, "io.kubernetes.pod.namespace", s.namespace, &mut sandbox);
        field_str(7, "runc", &mut sandbox); // runtime_handler (unread)
        field_bytes(1, &sandbox, &mut out);
    }
    out
}

const WEB: FakeContainer = FakeContainer {
    id: WEB_ID,
    sandbox: "sb-web",
    name: "nginx",
    image_id: "sha256:9f1b0d7c",
    user_image: "nginxinc/nginx-unprivileged:1.27.3",
    image_ref: "sha256:9f1b0d7c",
};

const JOB: FakeContainer = FakeContainer {
    id: JOB_ID,
    sandbox: "sb-job",
    name: "cleanup",
    image_id: "ghcr.io/acme-shop/cart:latest",
    user_image: "",
    image_ref: "ghcr.io/acme-shop/cart@sha256:c2f27d93",
};

const WEB_POD: FakeSandbox = FakeSandbox {
    id: "sb-web",
    name: "frontend-5bd457c98-vkldj",
    uid: POD_UID,
    namespace: "shop",
    labels: &[("app", "frontend"), ("app.kubernetes.io/part-of", "shop")],
};

const JOB_POD: FakeSandbox = FakeSandbox {
    id: "sb-job",
    name: "abandoned-cart-cleanup-29928515-qrhf7",
    uid: "0b5e2c1d-3f4a-4b6c-8d7e-9f0a1b2c3d4e",
    namespace: "shop",
    labels: &[("job-name", "abandoned-cart-cleanup-29928515")],
};

/// A CRI server on a Unix socket, in its own thread and Tokio runtime; stopped when dropped.
struct CriServer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    socket: PathBuf,
    calls: Arc<Mutex<Vec<String>>>,
}

impl CriServer {
    /// Serves the given lists; `fail_containers` answers ListContainers with gRPC status 14.
    fn start(
        socket: &Path,
        containers: Vec<FakeContainer>,
        sandboxes: Vec<FakeSandbox>,
        fail_containers: bool,
    ) -> CriServer {
        let _ = std::fs::remove_file(socket);
        let containers = Bytes::from(list_containers_response(&containers));
        let sandboxes = Bytes::from(list_sandboxes_response(&sandboxes));
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let thread_calls = Arc::clone(&calls);
        let path = socket.to_path_buf();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let listener = tokio::net::UnixListener::bind(&path).expect("bind CRI socket");
                ready_tx.send(()).expect("ready");
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let containers = containers.clone();
                        let sandboxes = sandboxes.clone();
                        let calls = Arc::clone(&thread_calls);
                        tokio::spawn(async move {
                            let Ok(mut connection) = h2::server::handshake(stream).await else {
                                return;
                            };
                            while let Some(Ok((request, respond))) = connection.accept().await {
                                let containers = containers.clone();
                                let sandboxes = sandboxes.clone();
                                let calls = Arc::clone(&calls);
                                tokio::spawn(async move {
                                    answer(
                                        request,
                                        respond,
                                        containers,
                                        sandboxes,
                                        fail_containers,
                                        calls,
                                    )
                                    .await;
                                });
                            }
                        });
                    }
                };
                let stopped = async {
                    while !thread_stop.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        ready_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("server ready");
        CriServer {
            stop,
            thread: Some(thread),
            socket: socket.to_path_buf(),
            calls,
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Drop for CriServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

async fn answer(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    containers: Bytes,
    sandboxes: Bytes,
    fail_containers: bool,
    calls: Arc<Mutex<Vec<String>>>,
) {
    let (parts, mut body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let content_type = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let te = parts
        .headers
        .get("te")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut received = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        received.extend_from_slice(&chunk);
    }
    // The request: one uncompressed frame holding an empty List*Request.
    let well_formed = parts.method == http::Method::POST
        && content_type == "application/grpc"
        && te == "trailers"
        && received == [0, 0, 0, 0, 0];
    if let Ok(mut calls) = calls.lock() {
        calls.push(format!("{path} well_formed={well_formed}"));
    }
    let (status, message) = match path.as_str() {
        "/runtime.v1.RuntimeService/ListContainers" if fail_containers => (14, Bytes::new()),
        "/runtime.v1.RuntimeService/ListContainers" => (0, containers),
        "/runtime.v1.RuntimeService/ListPodSandbox" => (0, sandboxes),
        _ => (12, Bytes::new()),
    };
    let response = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .body(())
        .expect("response");
    if status != 0 {
        // Trailers-only response: the status in the headers, end of stream at once.
        let response = http::Response::builder()
            .status(200)
            .header("content-type", "application/grpc")
            .header("grpc-status", status.to_string())
            .header("grpc-message", "unavailable")
            .body(())
            .expect("response");
        let _ = respond.send_response(response, true);
        return;
    }
    let Ok(mut send) = respond.send_response(response, false) else {
        return;
    };
    let mut framed = vec![0u8];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
    let _ = send.send_data(Bytes::from(framed), false);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let _ = send.send_trailers(trailers);
}

fn cri_only(socket: &Path) -> PodSourcesConfig {
    PodSourcesConfig {
        cri_sockets: vec![socket.to_path_buf()],
        kubelet_url: None,
        api_url: None,
        node_name: None,
        timeout: Duration::from_secs(2),
        refresh_interval: Duration::from_secs(300),
        miss_refresh_interval: Duration::from_millis(50),
        ..PodSourcesConfig::default()
    }
}

#[test]
fn cri_snapshot_reads_names_images_and_pods() {
    let dir = temp_dir("cri-snapshot");
    let socket = dir.join("containerd.sock");
    let server = CriServer::start(&socket, vec![WEB, JOB], vec![WEB_POD, JOB_POD], false);
    let client = CriClient::new(&socket, Duration::from_secs(2));
    let containers = client.snapshot().expect("snapshot");
    assert_eq!(containers.len(), 2);

    let web = containers.iter().find(|c| c.id == WEB_ID).expect("web");
    assert_eq!(web.name.as_deref(), Some("nginx"));
    // user_specified_image wins over the image ID
    assert_eq!(
        web.image.as_deref(),
        Some("nginxinc/nginx-unprivileged:1.27.3")
    );
    assert_eq!(web.image_digest.as_deref(), Some("sha256:9f1b0d7c"));
    assert_eq!(web.runtime, Some(Runtime::Containerd));
    let pod = web.pod.as_ref().expect("web pod");
    assert_eq!(pod.name, "frontend-5bd457c98-vkldj");
    assert_eq!(pod.namespace, "shop");
    assert_eq!(pod.uid, POD_UID);
    assert_eq!(pod.labels.get("app").map(String::as_str), Some("frontend"));
    // the kubelet's own sandbox labels are not pod labels
    assert!(!pod.labels.contains_key("io.kubernetes.pod.namespace"));

    let job = containers.iter().find(|c| c.id == JOB_ID).expect("job");
    // an older runtime without user_specified_image: the reference in `image`
    assert_eq!(job.image.as_deref(), Some("ghcr.io/acme-shop/cart:latest"));
    assert_eq!(job.image_digest.as_deref(), Some("sha256:c2f27d93"));

    let calls = server.calls();
    assert_eq!(
        calls,
        [
            "/runtime.v1.RuntimeService/ListContainers well_formed=true",
            "/runtime.v1.RuntimeService/ListPodSandbox well_formed=true",
        ]
    );
}

#[test]
fn cri_error_status_is_reported() {
    let dir = temp_dir("cri-status");
    let socket = dir.join("crio.sock");
    let _server = CriServer::start(&socket, vec![WEB], vec![WEB_POD], true);
    match CriClient::new(&socket, Duration::from_secs(2)).snapshot() {
        Err(CriError::Status { code, message }) => {
            assert_eq!((code, message.as_str()), (14, "unavailable"));
        }
        other => panic!("expected gRPC status 14, got {other:?}"),
    }
}

#[test]
fn resolver_degrades_when_the_runtime_stops_and_recovers() {
    let dir = temp_dir("cri-resolver");
    let socket = dir.join("containerd.sock");
    let server = CriServer::start(&socket, vec![WEB], vec![WEB_POD], false);
    let resolver = PodResolver::start(cri_only(&socket)).expect("resolver");

    let cgroup = format!(
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{}.slice/cri-containerd-{WEB_ID}.scope",
        POD_UID.replace('-', "_")
    );
    let reference = parse_cgroup_path(&cgroup).expect("cgroup names the container");
    let info = eventually(|| resolver.lookup(WEB_ID)).expect("web attributed from CRI");
    assert_eq!(info.name.as_deref(), Some("nginx"));
    assert_eq!(
        info.pod
            .as_ref()
            .map(|p| (p.namespace.as_str(), p.name.as_str())),
        Some(("shop", "frontend-5bd457c98-vkldj"))
    );
    let attributed = resolver.attribute(&reference);
    assert_eq!(attributed.cgroup_path, cgroup);
    assert_eq!(attributed.runtime, Runtime::Containerd);
    assert_eq!(
        attributed.image.as_deref(),
        Some("nginxinc/nginx-unprivileged:1.27.3")
    );
    assert_eq!(
        attributed
            .pod
            .as_ref()
            .and_then(|p| p.labels.get("app.kubernetes.io/part-of"))
            .map(String::as_str),
        Some("shop")
    );
    assert_eq!(resolver.status().source, Some(PodSource::Cri));
    assert!(!resolver.status().degraded);

    // The runtime goes away: a container started meanwhile is only known by its cgroup.
    drop(server);
    let started = Instant::now();
    assert_eq!(resolver.lookup(JOB_ID), None);
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "lookup must not block"
    );
    let degraded = eventually(|| {
        let status = resolver.status();
        status.degraded.then_some(status)
    })
    .expect("degraded status");
    assert!(degraded.failures >= 1);
    assert!(
        degraded.last_errors.iter().any(|e| e.contains("cri")),
        "{:?}",
        degraded.last_errors
    );
    // what was known stays known
    assert_eq!(
        resolver.lookup(WEB_ID).and_then(|i| i.name),
        Some("nginx".to_string())
    );
    let job_ref = parse_cgroup_path(&format!("/kubepods/besteffort/pod{POD_UID}/{JOB_ID}"))
        .expect("job cgroup");
    let job_only = resolver.attribute(&job_ref);
    assert_eq!(
        (job_only.id.as_str(), job_only.name.as_deref()),
        (JOB_ID, None)
    );

    // The runtime comes back with the new container: a miss triggers a refresh that finds it.
    let _server = CriServer::start(&socket, vec![WEB, JOB], vec![WEB_POD, JOB_POD], false);
    let job = eventually(|| resolver.lookup(JOB_ID)).expect("recovered");
    assert_eq!(job.name.as_deref(), Some("cleanup"));
    assert_eq!(
        job.pod
            .as_ref()
            .and_then(|p| p.labels.get("job-name"))
            .map(String::as_str),
        Some("abandoned-cart-cleanup-29928515")
    );
    let recovered = eventually(|| {
        let status = resolver.status();
        (!status.degraded).then_some(status)
    })
    .expect("recovered status");
    assert_eq!(recovered.containers, 2);
}

#[test]
fn unknown_container_does_not_hammer_the_runtime() {
    let dir = temp_dir("cri-misses");
    let socket = dir.join("containerd.sock");
    let server = CriServer::start(&socket, vec![WEB], vec![WEB_POD], false);
    let resolver = PodResolver::start(cri_only(&socket)).expect("resolver");
    eventually(|| resolver.lookup(WEB_ID)).expect("first refresh");
    // a plain runc container: no CRI knows it
    assert_eq!(resolver.lookup("palisade-box"), None);
    let asked = eventually(|| (resolver.status().refreshes >= 2).then_some(()));
    assert!(asked.is_some(), "the first miss asks for a refresh");
    let calls_after_first_miss = server.calls().len();
    for _ in 0..10 {
        assert_eq!(resolver.lookup("palisade-box"), None);
        std::thread::sleep(Duration::from_millis(60));
    }
    // 10 misses over 600 ms with a 50 ms rate limit: no new CRI calls for the same unknown ID
    assert_eq!(server.calls().len(), calls_after_first_miss);
    // a new ID still triggers a refresh
    assert_eq!(resolver.lookup(JOB_ID), None);
    let more = eventually(|| (server.calls().len() > calls_after_first_miss).then_some(()));
    assert!(more.is_some(), "a new ID asks again");
}

// ---------------------------------------------------------------------------------------------
// Kubelet and API server over HTTPS.

/// An HTTPS server answering every GET with the pod list fixture; records request lines and
/// whether the bearer token was the expected one (the token itself is not recorded).
struct PodListServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl PodListServer {
    fn start(expected_token: &'static str) -> PodListServer {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let tls = fixtures().join("tls");
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(tls.join("server.crt"))
                .expect("server.crt")
                .collect::<Result<_, _>>()
                .expect("certificates");
        let key = PrivateKeyDer::from_pem_file(tls.join("server.key")).expect("server.key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config");
        let config = Arc::new(config);
        let body = std::fs::read(fixtures().join("pods.json")).expect("pods.json");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread_requests = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Ok(connection) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut reader = BufReader::new(&mut tls);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut authorized = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                        break;
                    }
                    if line
                        .trim()
                        .eq_ignore_ascii_case(&format!("authorization: Bearer {expected_token}"))
                    {
                        authorized = true;
                    }
                }
                drop(reader);
                if let Ok(mut requests) = thread_requests.lock() {
                    requests.push(format!("{} authorized={authorized}", request_line.trim()));
                }
                let head = if authorized {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = tls.write_all(head.as_bytes());
                if authorized {
                    let _ = tls.write_all(&body);
                }
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        PodListServer { port, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

fn http_config(dir: &Path, token: &str) -> PodSourcesConfig {
    let token_file = dir.join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("token file");
    PodSourcesConfig {
        cri_sockets: vec![dir.join("absent.sock")],
        kubelet_url: None,
        api_url: None,
        node_name: None,
        token_file,
        ca_file: fixtures().join("tls/ca.crt"),
        timeout: Duration::from_secs(3),
        ..PodSourcesConfig::default()
    }
}

#[test]
fn kubelet_pods_over_https() {
    let server = PodListServer::start("kubelet-test-token");
    let dir = temp_dir("kubelet");
    let mut config = http_config(&dir, "kubelet-test-token");
    config.kubelet_url = Some(format!("https://127.0.0.1:{}/pods", server.port));
    let (source, containers) = fetch(&config).expect("kubelet answers");
    assert_eq!(source, PodSource::Kubelet);
    assert_eq!(server.requests(), ["GET /pods HTTP/1.1 authorized=true"]);
    assert_eq!(containers.len(), 4);
    let web = containers
        .iter()
        .find(|c| c.id == WEB_ID)
        .expect("frontend");
    assert_eq!(web.name.as_deref(), Some("nginx"));
    assert_eq!(
        web.image.as_deref(),
        Some("nginxinc/nginx-unprivileged:1.27.3")
    );
    assert_eq!(
        web.image_digest.as_deref(),
        Some("sha256:4082a6e81a5f41e79ed3a2c13af3caa473ed535faa4d03f113c97821715d272c")
    );
    assert_eq!(web.privileged, Some(false));
    let pod = web.pod.as_ref().expect("pod");
    assert_eq!(
        (pod.namespace.as_str(), pod.name.as_str()),
        ("shop", "frontend-5bd457c98-vkldj")
    );
    assert_eq!(pod.labels.get("app").map(String::as_str), Some("frontend"));

    // a wrong token is an error naming the status, never the token
    let mut wrong = http_config(&dir, "not-the-token");
    wrong.kubelet_url = config.kubelet_url.clone();
    let errors = fetch(&wrong).expect_err("401");
    assert!(errors.iter().any(|e| e.contains("401")), "{errors:?}");
    assert!(
        errors.iter().all(|e| !e.contains("not-the-token")),
        "{errors:?}"
    );
}

#[test]
fn api_pod_list_when_kubelet_is_down() {
    let server = PodListServer::start("api-test-token");
    let dir = temp_dir("api");
    let mut config = http_config(&dir, "api-test-token");
    // nothing listens there: the kubelet is down
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_port = closed.local_addr().expect("addr").port();
    drop(closed);
    config.kubelet_url = Some(format!("https://127.0.0.1:{closed_port}/pods"));
    config.api_url = Some(format!("https://127.0.0.1:{}/", server.port));
    config.node_name = Some("ip-10-0-2-41.eu-west-1.compute.internal".to_string());
    let (source, containers) = fetch(&config).expect("API answers");
    assert_eq!(source, PodSource::Api);
    assert_eq!(
        server.requests(),
        [
            "GET /api/v1/pods?fieldSelector=spec.nodeName%3Dip-10-0-2-41.eu-west-1.compute.internal HTTP/1.1 authorized=true"
        ]
    );
    assert!(containers.iter().any(|c| c.id == JOB_ID));
}

#[test]
fn untrusted_certificate_is_refused() {
    let server = PodListServer::start("t");
    let dir = temp_dir("untrusted");
    let mut config = http_config(&dir, "t");
    config.kubelet_url = Some(format!("https://127.0.0.1:{}/pods", server.port));
    // the server certificate itself is not a CA
    config.ca_file = fixtures().join("tls/server.crt");
    let errors = fetch(&config).expect_err("untrusted");
    assert!(
        errors.iter().any(|e| e.starts_with("kubelet:")),
        "{errors:?}"
    );
}
