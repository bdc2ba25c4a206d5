//! Load generator for `palisade admission serve`.
//!
//! Opens N keep-alive HTTPS/1.1 connections (one request in flight per connection, as the
//! kube-apiserver's webhook client does per connection) and POSTs one AdmissionReview over and over:
//!
//! * open loop (`--rate R`): request *i* is due at `start + i/R`, spread round-robin over the
//!   connections. Latency is measured from the due time, not from the moment the request could be
//!   sent, so a server that falls behind shows its queueing delay in the percentiles instead of
//!   silently slowing the generator down (no coordinated omission).
//! * closed loop (`--rate 0`): every connection sends its next request as soon as the previous
//!   answer arrived; the achieved rate is the server's maximum throughput at that concurrency.
//!
//! Samples taken during `--warmup` are dropped (TLS session caches, allocator arenas and the
//! engines' lazy compilation settle there). Prints a summary and, with `--json`, one JSON line that
//! bench/admission/run.sh parses.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// An answer slower than this counts as an error: the kube-apiserver's webhook timeout is at most
/// 30 s and usually 10 s, so anything near it is a failed admission, not a slow one.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A realistic create of a Deployment in an application namespace: two containers (app and
/// sidecar), pinned images, resources, probes, a partly hardened securityContext. The sidecar
/// omits `runAsNonRoot`, so a warn rule on it answers with a warning, as real traffic often does;
/// nothing in it is denied, so every policy is evaluated to the end.
const DEFAULT_REVIEW: &str = include_str!("../deployment-review.json");

struct Options {
    url_host: String,
    url_port: u16,
    url_path: String,
    ca: PathBuf,
    server_name: String,
    connections: usize,
    rate: f64,
    duration: Duration,
    warmup: Duration,
    body: Bytes,
    threads: usize,
    json: bool,
    label: String,
}

const USAGE: &str = "\
usage: palisade-admission-loadgen --url https://HOST:PORT/PATH --ca CA.pem [options]

  --url URL            webhook endpoint (https only), e.g. https://127.0.0.1:8443/validate
  --ca FILE            PEM file with the CA certificate(s) that signed the server certificate
  --server-name NAME   TLS server name to verify (default: the URL host)
  --connections N      keep-alive connections (default 16)
  --rate R             open loop at R requests/s in total; 0 = closed loop, max throughput (default 0)
  --duration SECS      measured time (default 10)
  --warmup SECS        unmeasured time before it (default 2)
  --body FILE          AdmissionReview JSON to post (default: a built-in Deployment create)
  --threads N          tokio worker threads (default 1: leave the cores to the server)
  --label TEXT         name printed with the results
  --json               also print one JSON line with the results";

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut ca = None;
    let mut server_name = None;
    let mut connections = 16usize;
    let mut rate = 0f64;
    let mut duration = 10f64;
    let mut warmup = 2f64;
    let mut body_file: Option<PathBuf> = None;
    let mut threads = 1usize;
    let mut json = false;
    let mut label = String::new();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value("--url")?),
            "--ca" => ca = Some(PathBuf::from(value("--ca")?)),
            "--server-name" => server_name = Some(value("--server-name")?),
            "--connections" => connections = number(&value("--connections")?, "--connections")?,
            "--rate" => rate = number(&value("--rate")?, "--rate")?,
            "--duration" => duration = number(&value("--duration")?, "--duration")?,
            "--warmup" => warmup = number(&value("--warmup")?, "--warmup")?,
            "--body" => body_file = Some(PathBuf::from(value("--body")?)),
            "--threads" => threads = number(&value("--threads")?, "--threads")?,
            "--label" => label = value("--label")?,
            "--json" => json = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let url = url.ok_or_else(|| format!("--url is required\n{USAGE}"))?;
    let ca = ca.ok_or_else(|| format!("--ca is required\n{USAGE}"))?;
    let (url_host, url_port, url_path) = split_url(&url)?;
    if connections == 0 {
        return Err("--connections must be at least 1".to_owned());
    }
    if !(rate >= 0.0 && rate.is_finite()) {
        return Err("--rate must be a finite number >= 0".to_owned());
    }
    if !(duration > 0.0 && duration.is_finite() && warmup >= 0.0 && warmup.is_finite()) {
        return Err("--duration must be > 0 and --warmup >= 0".to_owned());
    }
    let body = match body_file {
        Some(path) => std::fs::read(&path)
            .map(Bytes::from)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        None => Bytes::from_static(DEFAULT_REVIEW.as_bytes()),
    };
    Ok(Options {
        server_name: server_name.unwrap_or_else(|| url_host.trim_matches(['[', ']']).to_owned()),
        url_host,
        url_port,
        url_path,
        ca,
        connections,
        rate,
        duration: Duration::from_secs_f64(duration),
        warmup: Duration::from_secs_f64(warmup),
        body,
        threads: threads.max(1),
        json,
        label,
    })
}

fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name}: `{text}` is not a valid number"))
}

/// Splits `https://host:port/path` without a URL crate: the bench only ever targets loopback.
fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("--url must start with https:// (got `{url}`)"))?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rfind(':') {
        // A colon inside brackets belongs to an IPv6 address, not to a port.
        Some(colon) if !authority[colon..].contains(']') => {
            let (host, port) = authority.split_at(colon);
            (
                host,
                number::<u16>(port.trim_start_matches(':'), "port in --url")?,
            )
        }
        _ => (authority, 443),
    };
    if host.is_empty() {
        return Err(format!("--url has no host (got `{url}`)"));
    }
    Ok((host.to_owned(), port, path.to_owned()))
}

/// What one connection saw during the measured window.
#[derive(Default)]
struct Tally {
    /// Latency of every successful measured request, in microseconds.
    latencies_us: Vec<u32>,
    errors: u64,
    denied: u64,
    warned: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, measured: bool, message: String) {
        if measured {
            self.errors += 1;
        }
        self.first_error.get_or_insert(message);
    }
}

struct Target {
    address: String,
    authority: String,
    path: String,
    server_name: ServerName<'static>,
    connector: TlsConnector,
    body: Bytes,
}

async fn connect(target: &Target) -> Result<SendRequest<Full<Bytes>>, String> {
    let tcp = TcpStream::connect(&target.address)
        .await
        .map_err(|e| format!("connect {}: {e}", target.address))?;
    // Admission answers are small; Nagle would hold them back waiting for an ACK.
    tcp.set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY on {}: {e}", target.address))?;
    let tls = target
        .connector
        .connect(target.server_name.clone(), tcp)
        .await
        .map_err(|e| format!("TLS handshake with {}: {e}", target.address))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("HTTP/1.1 handshake with {}: {e}", target.address))?;
    tokio::spawn(async move {
        // The connection ends when its sender is dropped or the server closes it; either way
        // the next request on it fails and is counted there, so nothing is lost by ignoring this.
        let _ = connection.await;
    });
    Ok(sender)
}

enum Outcome {
    Allowed { warned: bool },
    Denied,
}

async fn post(sender: &mut SendRequest<Full<Bytes>>, target: &Target) -> Result<Outcome, String> {
    sender
        .ready()
        .await
        .map_err(|e| format!("connection lost: {e}"))?;
    let request = Request::builder()
        .method(Method::POST)
        .uri(target.path.as_str())
        .header(HOST, target.authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(target.body.clone()))
        .map_err(|e| format!("building request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading answer: {e}"))?
        .to_bytes();
    if status != StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        return Err(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    // A substring test rather than a JSON parse: the generator must stay cheap next to the
    // server it measures, and the webhook's serializer writes compact JSON.
    if contains(&body, b"\"allowed\":false") {
        Ok(Outcome::Denied)
    } else if contains(&body, b"\"allowed\":true") {
        Ok(Outcome::Allowed {
            warned: contains(&body, b"\"warnings\":[\""),
        })
    } else {
        Err(format!(
            "answer is not an AdmissionReview: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(200)
                .collect::<String>()
        ))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The shared clock of a run. In open loop (`interval` set) request `slot + k*stride` of the
/// global schedule is due at `start + (slot + k*stride) * interval`; in closed loop it is `None`.
#[derive(Clone, Copy)]
struct Schedule {
    start: Instant,
    measure_from: Instant,
    end: Instant,
    stride: usize,
    interval: Option<Duration>,
}

/// Drives one connection: its requests are `slot`, `slot + stride`, ... of the schedule.
async fn drive(
    target: Arc<Target>,
    mut sender: SendRequest<Full<Bytes>>,
    schedule: Schedule,
    slot: usize,
) -> Tally {
    let Schedule {
        start,
        measure_from,
        end,
        stride,
        interval,
    } = schedule;
    let mut tally = Tally::default();
    let mut k: u32 = 0;
    loop {
        let due = match interval {
            Some(interval) => {
                let index = slot as f64 + f64::from(k) * stride as f64;
                let due = start + interval.mul_f64(index);
                k = k.saturating_add(1);
                if due >= end {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                due
            }
            None => {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                now
            }
        };
        let measured = due >= measure_from;
        match tokio::time::timeout(REQUEST_TIMEOUT, post(&mut sender, &target)).await {
            Ok(Ok(outcome)) => {
                if measured {
                    let micros = due.elapsed().as_micros();
                    tally
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                    match outcome {
                        Outcome::Denied => tally.denied += 1,
                        Outcome::Allowed { warned: true } => tally.warned += 1,
                        Outcome::Allowed { warned: false } => {}
                    }
                }
                continue;
            }
            Ok(Err(message)) => tally.error(measured, message),
            Err(_) => tally.error(measured, format!("no answer within {REQUEST_TIMEOUT:?}")),
        }
        // After an error the connection may be dead (or mid-answer after a timeout): start a
        // fresh one, pausing briefly so a server that is down is not hammered in a tight loop.
        tokio::time::sleep(Duration::from_millis(10)).await;
        match connect(&target).await {
            Ok(fresh) => sender = fresh,
            Err(message) => tally.error(false, message),
        }
    }
    tally
}

fn tls_connector(ca: &PathBuf) -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca)
        .map_err(|e| format!("cannot read CA {}: {e}", ca.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("bad PEM in {}: {e}", ca.display()))?;
        roots
            .add(cert)
            .map_err(|e| format!("bad CA certificate in {}: {e}", ca.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("no certificate in {}", ca.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest-rank: the smallest sample with at least p% of samples at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted
        .get(index)
        .map_or(f64::NAN, |&us| f64::from(us) / 1000.0)
}

async fn run(options: Options) -> Result<(), String> {
    let target = Arc::new(Target {
        address: format!("{}:{}", options.url_host, options.url_port),
        authority: format!("{}:{}", options.url_host, options.url_port),
        path: options.url_path.clone(),
        server_name: ServerName::try_from(options.server_name.clone())
            .map_err(|e| format!("invalid server name `{}`: {e}", options.server_name))?,
        connector: tls_connector(&options.ca)?,
        body: options.body.clone(),
    });

    // Every connection is open (TLS done) before the clock starts: handshakes are not requests.
    let mut senders = Vec::with_capacity(options.connections);
    for _ in 0..options.connections {
        senders.push(connect(&target).await?);
    }
    let interval = (options.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / options.rate));
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + options.warmup;
    let end = measure_from + options.duration;
    let schedule = Schedule {
        start,
        measure_from,
        end,
        stride: options.connections,
        interval,
    };
    let tasks: Vec<_> = senders
        .into_iter()
        .enumerate()
        .map(|(slot, sender)| tokio::spawn(drive(Arc::clone(&target), sender, schedule, slot)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task
            .await
            .map_err(|e| format!("connection task failed: {e}"))?;
        total.latencies_us.extend(tally.latencies_us);
        total.errors += tally.errors;
        total.denied += tally.denied;
        total.warned += tally.warned;
        if total.first_error.is_none() {
            total.first_error = tally.first_error;
        }
    }
    // Requests due before `end` may finish after it; the window is the scheduled one, so the
    // achieved rate is completions per second of schedule, which is what the server sustained.
    let window = options.duration.as_secs_f64();
    total.latencies_us.sort_unstable();
    let ok = total.latencies_us.len();
    let achieved = ok as f64 / window;
    let p50 = percentile(&total.latencies_us, 50.0);
    let p90 = percentile(&total.latencies_us, 90.0);
    let p99 = percentile(&total.latencies_us, 99.0);
    let max = total
        .latencies_us
        .last()
        .map_or(f64::NAN, |&us| f64::from(us) / 1000.0);
    let mode = if options.rate > 0.0 {
        format!("open loop, target {:.0} req/s", options.rate)
    } else {
        "closed loop, max throughput".to_owned()
    };
    println!(
        "{}{mode}, {} connections, {:.1} s measured: {ok} ok ({:.0} req/s), {} errors, {} denied, {} warned; latency ms p50 {p50:.3} p90 {p90:.3} p99 {p99:.3} max {max:.3}",
        if options.label.is_empty() {
            String::new()
        } else {
            format!("[{}] ", options.label)
        },
        options.connections,
        window,
        achieved,
        total.errors,
        total.denied,
        total.warned,
    );
    if let Some(message) = &total.first_error {
        println!("first error: {message}");
    }
    if options.json {
        let mut line = String::new();
        let _ = write!(
            line,
            "{{\"label\":{},\"target_rate\":{},\"connections\":{},\"seconds\":{window},\"ok\":{ok},\"errors\":{},\"denied\":{},\"warned\":{},\"rate\":{achieved:.1},\"p50_ms\":{},\"p90_ms\":{},\"p99_ms\":{},\"max_ms\":{}}}",
            json_string(&options.label),
            options.rate,
            options.connections,
            total.errors,
            total.denied,
            total.warned,
            json_number(p50),
            json_number(p90),
            json_number(p99),
            json_number(max),
        );
        println!("{line}");
    }
    Ok(())
}

fn json_number(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.3}")
    } else {
        "null".to_owned()
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = if options.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(options.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        assert_eq!(
            split_url("https://127.0.0.1:8443/validate"),
            Ok(("127.0.0.1".to_owned(), 8443, "/validate".to_owned()))
        );
        assert_eq!(
            split_url("https://[::1]/x"),
            Ok(("[::1]".to_owned(), 443, "/x".to_owned()))
        );
        assert_eq!(
            split_url("https://[::1]:9/"),
            Ok(("[::1]".to_owned(), 9, "/".to_owned()))
        );
        assert!(split_url("http://127.0.0.1/").is_err());
        assert!(split_url("https://:80/").is_err());
        assert!(split_url("https://h:notaport/").is_err());
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&samples, 50.0), 50.0);
        assert_eq!(percentile(&samples, 99.0), 99.0);
        assert_eq!(percentile(&samples, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn default_review_is_a_deployment_create() {
        assert!(DEFAULT_REVIEW.contains("\"kind\": \"AdmissionReview\""));
        assert!(DEFAULT_REVIEW.contains("\"operation\": \"CREATE\""));
        assert!(DEFAULT_REVIEW.contains("\"kind\": \"Deployment\""));
    }
}
