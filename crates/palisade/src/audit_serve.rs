//! `palisade audit serve`: the HTTPS endpoint kube-apiserver's audit webhook backend posts
//! `EventList` batches to. Each accepted batch is written to a journal and synced before the
//! apiserver gets its 200, so a crash never loses a batch the apiserver believes delivered: on
//! restart the journal is replayed (alerts are delivered at least once). A batch that cannot be
//! journaled gets a 503 and the apiserver retries it.
//!
//! Blocking I/O, one thread per connection: the apiserver keeps a handful of connections open
//! and posts a batch every few seconds; HTTP/1.1 only (ALPN), the form its webhook client speaks.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow};
use palisade_alerts::{Dispatcher, SinkConfig};
use palisade_audit::{DecodeError, Detector, decode_event_list};
use palisade_core::Alert;

use crate::audit_cmd::AuditRuleArgs;

/// Largest batch accepted (the apiserver's default batch is 400 events, well under this).
const MAX_BODY: usize = 64 << 20;
/// Largest header section.
const MAX_HEADERS: usize = 64 << 10;

#[derive(clap::Args, Debug)]
pub struct AuditServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443", value_name = "ADDR")]
    pub listen: String,
    /// Serving certificate (PEM chain).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// Serving key (PEM).
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Require client certificates signed by this CA (PEM): only the API server (with the
    /// certificate of the webhook kubeconfig) may post events.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// palisade.yaml: alert sinks under `alerts.sinks` (docs/alerts.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also write every alert as a JSON line to FILE (`-`: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where the batch journal and the sinks' spools live (default: $PALISADE_HOME/audit).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub rules: AuditRuleArgs,
}

struct Service {
    detector: Mutex<Detector>,
    dispatcher: Dispatcher,
    output: Option<Mutex<Box<dyn Write + Send>>>,
    journal: Journal,
    window: Duration,
}

/// Accepted batches, one file each, synced before the batch is acknowledged.
struct Journal {
    dir: PathBuf,
    next: AtomicU64,
}

impl Journal {
    fn open(dir: PathBuf) -> Result<(Journal, Vec<PathBuf>)> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the journal directory {}", dir.display()))?;
        let mut pending: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        pending.sort();
        let next = pending
            .last()
            .and_then(|p| p.file_stem()?.to_str()?.parse::<u64>().ok())
            .map_or(0, |n| n + 1);
        Ok((
            Journal {
                dir,
                next: AtomicU64::new(next),
            },
            pending,
        ))
    }

    fn append(&self, body: &[u8]) -> io::Result<PathBuf> {
        let seq = self.next.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.join(format!("{seq:020}.json"));
        let temp = self.dir.join(format!("{seq:020}.tmp"));
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(body)?;
        file.sync_all()?;
        std::fs::rename(&temp, &path)?;
        // The rename must reach the disk too before the batch counts as kept.
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(path)
    }

    /// Batches older than `keep` have had every alert they could raise flushed (aggregation
    /// windows are shorter), so they are no longer needed for a replay.
    fn prune(&self, keep: Duration) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > keep);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl Service {
    /// Runs a batch through the detections and delivers what they raise.
    fn process(&self, events: &[palisade_audit::AuditEvent]) -> Result<()> {
        let mut alerts: Vec<Alert> = Vec::new();
        {
            let mut detector = self.detector.lock().unwrap_or_else(|e| e.into_inner());
            for event in events {
                detector.process(event, &mut alerts);
            }
        }
        self.deliver(&alerts)
    }

    fn deliver(&self, alerts: &[Alert]) -> Result<()> {
        for alert in alerts {
            self.dispatcher
                .send(alert)
                .map_err(|e| anyhow!("cannot hand an alert to the sinks: {e}"))?;
            if let Some(output) = &self.output {
                let mut out = output.lock().unwrap_or_else(|e| e.into_inner());
                serde_json::to_writer(&mut *out, alert)?;
                writeln!(out)?;
                out.flush()?;
            }
        }
        Ok(())
    }

    /// One HTTP/1.1 request: 200 for an accepted batch, 400 for a body that is not an audit
    /// EventList, 413 when too large, 503 when the batch could not be kept (the apiserver
    /// retries).
    fn handle(&self, method: &str, path: &str, body: &[u8]) -> (u16, &'static str, String) {
        match (method, path) {
            ("GET", "/healthz") | ("GET", "/readyz") => return (200, "OK", "ok".into()),
            ("POST", _) => {}
            _ => {
                return (
                    405,
                    "Method Not Allowed",
                    "POST audit EventLists here".into(),
                );
            }
        }
        let events = match decode_event_list(body) {
            Ok(events) => events,
            Err(DecodeError::NotAudit(message)) => {
                return (
                    400,
                    "Bad Request",
                    format!("not an audit EventList: {message}"),
                );
            }
            Err(error) => return (400, "Bad Request", format!("unreadable batch: {error}")),
        };
        if let Err(error) = self.journal.append(body) {
            tracing::error!("cannot journal an audit batch: {error}");
            return (
                503,
                "Service Unavailable",
                format!("cannot keep the batch: {error}"),
            );
        }
        if let Err(error) = self.process(&events) {
            // Journaled: the alerts will be raised again on restart; the apiserver need not retry.
            tracing::error!("{error:#}");
        }
        self.journal
            .prune(self.window * 3 + Duration::from_secs(60));
        (200, "OK", "{}".into())
    }
}

/// One request: method, path, body, and whether the client asked to close the connection.
type Request = (String, String, Vec<u8>, bool);

/// Reads one request; `None` at a clean end of the connection.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let read = reader
            .take((MAX_HEADERS - head.len()) as u64 + 1)
            .read_until(b'\n', &mut head)?;
        if read == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "cut-off request",
                ))
            };
        }
        if head.len() > MAX_HEADERS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "headers too large",
            ));
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    let mut chunked = false;
    let mut close = request_line.ends_with("HTTP/1.0");
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length")
                })?;
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
    }
    let body = if chunked {
        read_chunked(reader)?
    } else {
        if length > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    Ok(Some((method, path, body, close)))
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.take(1024).read_line(&mut size_line)?;
        let size =
            usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers end with an empty line.
            loop {
                let mut line = String::new();
                reader.take(MAX_HEADERS as u64).read_line(&mut line)?;
                if line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
    }
}

fn serve_connection(service: &Service, stream: TcpStream, tls: Arc<rustls::ServerConfig>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let Ok(connection) = rustls::ServerConnection::new(tls) else {
        return;
    };
    let mut tls_stream = rustls::StreamOwned::new(connection, stream);
    let mut reader = BufReader::new(&mut tls_stream);
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(error) => {
                let status = if error.to_string().contains("too large") {
                    (413, "Payload Too Large")
                } else {
                    (400, "Bad Request")
                };
                let _ = respond(
                    reader.get_mut(),
                    status.0,
                    status.1,
                    &error.to_string(),
                    true,
                );
                return;
            }
        };
        let (method, path, body, close) = request;
        let (code, reason, text) = service.handle(&method, &path, &body);
        if respond(reader.get_mut(), code, reason, &text, close).is_err() || close {
            let stream = reader.get_mut();
            stream.conn.send_close_notify();
            let _ = stream.flush();
            return;
        }
    }
}

fn respond(
    out: &mut impl Write,
    code: u16,
    reason: &str,
    body: &str,
    close: bool,
) -> io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}\r\n{body}",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    )?;
    out.flush()
}

fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read_certs = |path: &Path| -> Result<Vec<CertificateDer<'static>>> {
        CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read the certificate {}", path.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("cannot read the certificate {}", path.display()))
    };
    let certs = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS: {e}"))?;
    let builder = match client_ca {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in read_certs(path)? {
                roots
                    .add(ca)
                    .map_err(|e| anyhow!("{}: not a CA certificate: {e}", path.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| anyhow!("the certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub fn serve(args: AuditServeArgs) -> Result<ExitCode> {
    let state = crate::alert_delivery::state_dir(args.state_dir.as_deref(), "audit")?;
    let sinks: Vec<SinkConfig> = match &args.config {
        Some(path) => {
            let catalogue = palisade_posture::Catalogue::builtin();
            let config = crate::output::load_config(Some(path), &catalogue)?;
            crate::alert_delivery::sinks(&config, path)?
        }
        None => Vec::new(),
    };
    let dispatcher = crate::alert_delivery::dispatcher(
        &sinks,
        &state,
        args.rules.cluster_name.clone().unwrap_or_default(),
    )?;
    let output = match &args.output {
        None => None,
        Some(path) => Some(Mutex::new(crate::alert_delivery::alert_lines(path)?)),
    };
    let (journal, pending) = Journal::open(state.join("journal"))?;
    let service = Arc::new(Service {
        detector: Mutex::new(args.rules.detector()?),
        dispatcher,
        output,
        journal,
        window: Duration::from_secs(args.rules.window),
    });
    // Batches acknowledged before a crash or restart: raise their alerts again.
    for path in &pending {
        let body =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        match decode_event_list(&body) {
            Ok(events) => service.process(&events)?,
            Err(error) => tracing::warn!("skipping journaled batch {}: {error}", path.display()),
        }
    }
    if !pending.is_empty() {
        eprintln!("replayed {} journaled batches", pending.len());
    }
    let tls = tls_config(&args.tls_cert, &args.tls_key, args.client_ca.as_deref())?;
    let listener = TcpListener::bind(&args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "audit webhook listening on https://{}",
        listener
            .local_addr()
            .map_or(args.listen.clone(), |a| a.to_string())
    );
    // Aggregated alerts whose window passed without new events still go out.
    {
        let service = Arc::clone(&service);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(service.window.max(Duration::from_secs(1)));
                let mut alerts = Vec::new();
                service
                    .detector
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .finish(&mut alerts);
                if let Err(error) = service.deliver(&alerts) {
                    tracing::error!("{error:#}");
                }
            }
        });
    }
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let service = Arc::clone(&service);
        let tls = Arc::clone(&tls);
        std::thread::spawn(move || serve_connection(&service, stream, tls));
    }
    Ok(ExitCode::SUCCESS)
}
