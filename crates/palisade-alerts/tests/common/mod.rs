//! Local receivers for the integration tests: a small HTTP server (webhook and Splunk HEC), and
//! syslog receivers over UDP, TCP and TLS. Each records exactly the bytes it received.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_core::{Alert, AlertSeverity, Entities, Mitre};

pub fn sample_alert() -> Alert {
    Alert {
        rule: "Attach/Exec Pod".to_string(),
        alert_type: "K8S_ExecIntoContainer".to_string(),
        severity: AlertSeverity::High,
        priority: "NOTICE".to_string(),
        output: "Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)"
            .to_string(),
        mitre: Mitre {
            tactics: vec!["Execution".to_string()],
            techniques: vec!["T1609".to_string()],
            threat_matrix: Some("MS-TA9006".to_string()),
        },
        entities: Entities {
            user: Some("alice".to_string()),
            groups: vec!["system:authenticated".to_string()],
            source_ips: vec!["10.0.0.7".to_string()],
            verb: Some("create".to_string()),
            resource: Some("pods/exec".to_string()),
            namespace: Some("shop".to_string()),
            name: Some("web-0".to_string()),
            ..Entities::default()
        },
        audit_ids: vec!["5b1c1e9e-0d7a-4c0e-9a51-2f0c6c1d8e11".to_string()],
        time: "2026-05-01T10:00:00.123456789Z".to_string(),
        count: 1,
        description: String::new(),
        remediation: String::new(),
        tags: vec!["k8s".to_string(), "mitre_execution".to_string()],
        output_fields: BTreeMap::from([
            ("ka.target.name".to_string(), "web-0".to_string()),
            ("ka.user.name".to_string(), "alice".to_string()),
        ]),
        source: "k8s_audit".to_string(),
        hostname: "shop-cluster".to_string(),
    }
}

/// The sample alert numbered `n` (its `output` and audit ID carry the number).
pub fn numbered(n: usize) -> Alert {
    let mut alert = sample_alert();
    alert.output = format!("alert #{n}");
    alert.audit_ids = vec![format!("audit-{n}")];
    alert
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "palisade-alerts-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits until `condition` holds, up to `timeout`.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    condition()
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Request {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A canned response: status and extra headers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: r#"{"text":"Success","code":0}"#.to_string(),
        }
    }

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

/// An HTTP/1.1 server answering each request from a script (then 200), one request per
/// connection (`Connection: close`).
pub struct HttpServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Request>>>,
    pub script: Arc<Mutex<VecDeque<Reply>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start() -> HttpServer {
        HttpServer::start_on("127.0.0.1:0".parse().unwrap())
    }

    /// Binds `addr` (a restarted server reuses its predecessor's port), retrying briefly.
    pub fn start_on(addr: SocketAddr) -> HttpServer {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(addr) {
                Ok(listener) => break listener,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => panic!("bind {addr}: {error}"),
            }
        };
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, script, stop) = (requests.clone(), script.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            if let Some(request) = handle(stream, &script) {
                                requests.lock().unwrap().push(request);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        HttpServer {
            addr,
            requests,
            script,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn push_reply(&self, reply: Reply) {
        self.script.lock().unwrap().push_back(reply);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Stops accepting and closes the listening socket (the port refuses connections).
    pub fn stop(mut self) -> Vec<Request> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        self.requests()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn handle(stream: TcpStream, script: &Mutex<VecDeque<Reply>>) -> Option<Request> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let reply = script.lock().unwrap().pop_front().unwrap_or_else(Reply::ok);
    let mut response = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&reply.body);
    let mut stream = stream;
    stream.write_all(response.as_bytes()).ok()?;
    let _ = stream.flush();
    Some(Request {
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    })
}

/// Received syslog messages (framing removed) and the raw bytes.
#[derive(Default)]
pub struct Received {
    pub messages: Vec<String>,
    pub raw: Vec<u8>,
}

pub struct SyslogServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Received>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SyslogServer {
    pub fn udp() -> SyslogServer {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Received::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (received, stop) = (received.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buffer = vec![0u8; 70_000];
                while !stop.load(Ordering::SeqCst) {
                    if let Ok(n) = socket.recv(&mut buffer) {
                        let mut r = received.lock().unwrap();
                        r.raw.extend_from_slice(&buffer[..n]);
                        r.messages
                            .push(String::from_utf8_lossy(&buffer[..n]).into_owned());
                    }
                }
            })
        };
        SyslogServer {
            addr,
            received,
            stop,
            thread: Some(thread),
        }
    }

    /// TCP, or TLS when `tls` is given; frames are RFC 6587 octet-counted.
    pub fn stream(tls: Option<Arc<rustls::ServerConfig>>) -> SyslogServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Received::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (received, stop) = (received.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok((stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    stream.set_nonblocking(false).unwrap();
                    stream
                        .set_read_timeout(Some(Duration::from_millis(50)))
                        .unwrap();
                    let (received, stop, tls) = (received.clone(), stop.clone(), tls.clone());
                    std::thread::spawn(move || match tls {
                        Some(config) => {
                            let connection = rustls::ServerConnection::new(config).unwrap();
                            let stream = rustls::StreamOwned::new(connection, stream);
                            read_frames(stream, &received, &stop);
                        }
                        None => read_frames(stream, &received, &stop),
                    });
                }
            })
        };
        SyslogServer {
            addr,
            received,
            stop,
            thread: Some(thread),
        }
    }

    pub fn messages(&self) -> Vec<String> {
        self.received.lock().unwrap().messages.clone()
    }

    pub fn raw(&self) -> Vec<u8> {
        self.received.lock().unwrap().raw.clone()
    }
}

impl Drop for SyslogServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads `<len> <msg>` frames until the peer closes or the server stops.
fn read_frames(mut stream: impl Read, received: &Mutex<Received>, stop: &AtomicBool) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                let mut r = received.lock().unwrap();
                r.raw.extend_from_slice(&chunk[..n]);
                while let Some(space) = buffer.iter().position(|b| *b == b' ') {
                    let len: usize = std::str::from_utf8(&buffer[..space])
                        .unwrap()
                        .parse()
                        .unwrap();
                    if buffer.len() < space + 1 + len {
                        break;
                    }
                    let message = buffer[space + 1..space + 1 + len].to_vec();
                    buffer.drain(..space + 1 + len);
                    r.messages.push(String::from_utf8(message).unwrap());
                }
            }
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// A CA and a `localhost` server certificate it signed; returns the server config and the CA PEM.
pub fn tls_server() -> (Arc<rustls::ServerConfig>, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let certificate = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate.der().clone()],
            rustls_pki_types::PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(
                key.serialize_der(),
            )),
        )
        .unwrap();
    (Arc::new(config), ca.pem())
}
