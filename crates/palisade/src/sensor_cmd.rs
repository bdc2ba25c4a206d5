//! `palisade sensor run|check`: the node sensor. `run` loads the eBPF programs and turns what
//! processes on this node do into alerts, to `--output` and the sinks of palisade.yaml; `check`
//! reports what the kernel supports and which detections would be degraded.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use palisade_alerts::{Dispatcher, SinkConfig};
use palisade_core::Alert;
use palisade_sensor::config::SensorConfig;
use palisade_sensor::sensor::Sensor;

#[derive(clap::Args, Debug)]
pub struct SensorRunArgs {
    /// palisade.yaml with a `sensor` section (settings, drift policy) and `alerts.sinks`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also write alerts as JSON lines to FILE (`-` for standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// More rule files in Falco's syntax (repeatable, loaded after the built-in rules).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Run only the rules of --rules files.
    #[arg(long)]
    pub no_builtin_rules: bool,
    /// The node's name (alerts' hostname, pod lookups); default: `sensor.nodeName`, $NODE_NAME or
    /// the host name.
    #[arg(long, value_name = "NAME")]
    pub node_name: Option<String>,
    /// Where the sinks' spools live (default: $PALISADE_HOME/sensor).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Stop after this many seconds (default: run until SIGINT/SIGTERM).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Serve Prometheus metrics (events, alerts, per-CPU kernel drops) over plain HTTP on ADDR
    /// (`127.0.0.1:9475`): `GET /metrics`, and `GET /healthz` while the loop runs.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct SensorCheckArgs {
    /// palisade.yaml whose `sensor` section the check applies (`moduleLoadAttempts`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

/// Set by SIGINT/SIGTERM: the loop finishes its step, flushes held alerts and exits.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_stop_handlers() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(signal, request_stop as *const () as libc::sighandler_t);
        }
    }
}

pub fn check(args: SensorCheckArgs) -> Result<ExitCode> {
    let (config, _) = load_config(args.config.as_ref())?;
    let report = palisade_sensor::kernel::check_kernel(config.module_load_attempts);
    let embedded = palisade_sensor::bpf::programs_embedded();
    if args.format == "json" {
        let degraded: Vec<serde_json::Value> = report
            .degraded()
            .into_iter()
            .map(|(detection, missing)| {
                // A probe left off on purpose says why (`sensor.moduleLoadAttempts`).
                let off = report.off_reason(&missing);
                serde_json::json!({"detection": detection, "missing": missing, "off": off})
            })
            .collect();
        let value = serde_json::json!({
            "usable": report.usable() && embedded,
            "programs_embedded": embedded,
            "report": report.to_string(),
            "degraded": degraded,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{report}");
        if !embedded {
            println!(
                "eBPF programs: MISSING — this palisade was built without clang; install clang and \
                 libbpf-dev and rebuild"
            );
        }
    }
    Ok(if report.usable() && embedded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn load_config(path: Option<&PathBuf>) -> Result<(SensorConfig, Vec<SinkConfig>)> {
    let Some(path) = path else {
        return Ok((SensorConfig::default(), Vec::new()));
    };
    let catalogue = palisade_posture::Catalogue::builtin();
    let config = crate::output::load_config(Some(path), &catalogue)?;
    let sensor = match &config.sensor {
        Some(node) => {
            SensorConfig::from_node(node).map_err(|e| anyhow!("{}: {e}", path.display()))?
        }
        None => SensorConfig::default(),
    };
    Ok((sensor, crate::alert_delivery::sinks(&config, path)?))
}

pub fn run(args: SensorRunArgs) -> Result<ExitCode> {
    let (mut config, sinks) = load_config(args.config.as_ref())?;
    if let Some(name) = &args.node_name {
        config.node_name = name.clone();
    }
    if args.no_builtin_rules {
        config.builtin_rules = false;
    }
    let rule_files =
        crate::alert_delivery::read_rule_files(config.rule_files.iter().chain(&args.rules))?;
    if !config.builtin_rules && rule_files.is_empty() {
        return Err(anyhow!(
            "--no-builtin-rules needs at least one --rules FILE"
        ));
    }
    let state = crate::alert_delivery::state_dir(args.state_dir.as_deref(), "sensor")?;
    let dispatcher = crate::alert_delivery::dispatcher(&sinks, &state, config.node_name.clone())?;
    let mut output = match &args.output {
        None => None,
        Some(path) => Some(crate::alert_delivery::alert_lines(path)?),
    };

    install_stop_handlers();
    let node = config.node_name.clone();
    let mut sensor = Sensor::start(config, rule_files).map_err(|e| anyhow!("{e}"))?;
    for warning in sensor.rule_warnings() {
        eprintln!("warning: {warning}");
    }
    let report = sensor.kernel_report();
    for (detection, missing) in report.degraded() {
        eprintln!(
            "warning: degraded: {detection} (missing: {})",
            missing.join(", ")
        );
    }
    let metrics = Arc::new(Mutex::new(sensor.metrics_text()));
    if let Some(addr) = &args.metrics {
        let listener = TcpListener::bind(addr)
            .with_context(|| format!("cannot listen on {addr} for metrics"))?;
        let metrics = Arc::clone(&metrics);
        std::thread::spawn(move || serve_metrics(&listener, &metrics));
    }
    // The line tests and scripts wait for: everything is attached from here on.
    eprintln!("palisade sensor running on node {node}");

    let deadline = args
        .duration
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut alerts: Vec<Alert> = Vec::new();
    let mut failure = None;
    let mut last_metrics = Instant::now();
    while !STOP.load(Ordering::SeqCst) && deadline.is_none_or(|d| Instant::now() < d) {
        if let Err(error) = sensor.step(Duration::from_millis(100), &mut alerts) {
            failure = Some(anyhow!("{error}"));
            break;
        }
        deliver(&dispatcher, output.as_deref_mut(), &mut alerts)?;
        if args.metrics.is_some() && last_metrics.elapsed() >= Duration::from_secs(1) {
            last_metrics = Instant::now();
            *metrics.lock().unwrap_or_else(|e| e.into_inner()) = sensor.metrics_text();
        }
    }
    sensor.finish(&mut alerts);
    deliver(&dispatcher, output.as_deref_mut(), &mut alerts)?;
    let stats = sensor.stats();
    eprintln!(
        "palisade sensor stopped: {} events, {} alerts, {} dropped by the kernel, {} undecodable",
        stats.events, stats.alerts, stats.dropped, stats.decode_errors
    );
    dispatcher.flush(Duration::from_secs(5));
    dispatcher.shutdown();
    match failure {
        Some(error) => Err(error),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn deliver(
    dispatcher: &Dispatcher,
    output: Option<&mut (dyn Write + Send + '_)>,
    alerts: &mut Vec<Alert>,
) -> Result<()> {
    if alerts.is_empty() {
        return Ok(());
    }
    if let Some(out) = output {
        for alert in alerts.iter() {
            serde_json::to_writer(&mut *out, alert)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
    for alert in alerts.drain(..) {
        dispatcher
            .send(&alert)
            .map_err(|e| anyhow!("cannot hand an alert to the sinks: {e}"))?;
    }
    Ok(())
}

/// Answers `GET /metrics` (Prometheus text) and `GET /healthz`, one short connection at a time:
/// scrapes are rare and tiny, a thread per connection would only add ways to exhaust the node.
fn serve_metrics(listener: &TcpListener, metrics: &Mutex<String>) {
    use std::io::{BufRead, BufReader};
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
        let mut request_line = String::new();
        let Ok(reader) = stream.try_clone() else {
            continue;
        };
        let mut reader = BufReader::new(reader);
        if reader.read_line(&mut request_line).is_err() {
            continue;
        }
        // Drain the headers so the client sees a complete exchange.
        let mut header = String::new();
        while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
            header.clear();
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("");
        let (status, body) = match path {
            "/metrics" => (
                "200 OK",
                metrics.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            ),
            "/healthz" => ("200 OK", "ok\n".to_string()),
            _ => ("404 Not Found", "not found\n".to_string()),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    }
}
