//! `palisade audit analyze`: Kubernetes audit logs (JSON lines, as the log backend writes them)
//! through the built-in detections and any `--rules` files, to a report or, with `--follow`, to
//! a stream of alerts that survives log rotation.

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use palisade_audit::{Detector, DetectorOptions, LineReader, ReadStats};
use palisade_core::{Alert, AlertSeverity};

use crate::output;
use crate::sbom_cmd::clean;

#[derive(clap::Args, Debug)]
pub struct AuditRuleArgs {
    /// More rule files in Falco's syntax (repeatable, loaded after the built-in rules in order:
    /// later files append to or override earlier ones).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Run only the rules of --rules files.
    #[arg(long)]
    pub no_builtin_rules: bool,
    /// The cluster's name (`ka.cluster.name`, the alerts' hostname).
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// Identical alerts within this many seconds (of event time) are merged into one with a count.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub window: u64,
}

impl AuditRuleArgs {
    pub fn detector(&self) -> Result<Detector> {
        let rule_files = crate::alert_delivery::read_rule_files(&self.rules)?;
        if self.no_builtin_rules && rule_files.is_empty() {
            return Err(anyhow!(
                "--no-builtin-rules needs at least one --rules FILE"
            ));
        }
        let detector = Detector::new(DetectorOptions {
            builtin_rules: !self.no_builtin_rules,
            rule_files,
            cluster_name: self.cluster_name.clone(),
            window_nanos: i64::try_from(self.window)
                .unwrap_or(i64::MAX / 1_000_000_000)
                .saturating_mul(1_000_000_000),
            ..DetectorOptions::default()
        })
        .map_err(|e| anyhow!("{e}"))?;
        for warning in detector.warnings() {
            eprintln!("warning: {warning}");
        }
        Ok(detector)
    }
}

#[derive(clap::Args, Debug)]
pub struct AuditAnalyzeArgs {
    /// Audit log files (JSON lines); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output: table, json (a report: alerts and counts; docs/audit.md) or jsonl (one alert per line).
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json", "jsonl"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when an alert at or above this severity was raised
    /// (critical, high, medium, low, informational).
    #[arg(long, value_name = "SEVERITY", value_parser = ["critical", "high", "medium", "low", "informational"])]
    pub fail_on: Option<String>,
    /// Keep reading the (single) file as it grows, across rotation, printing alerts as JSON
    /// lines (or table lines) as they are raised.
    #[arg(long)]
    pub follow: bool,
    #[command(flatten)]
    pub rules: AuditRuleArgs,
}

fn severity(name: &str) -> AlertSeverity {
    match name {
        "critical" => AlertSeverity::Critical,
        "high" => AlertSeverity::High,
        "medium" => AlertSeverity::Medium,
        "low" => AlertSeverity::Low,
        _ => AlertSeverity::Informational,
    }
}

pub fn analyze(args: AuditAnalyzeArgs) -> Result<ExitCode> {
    let mut detector = args.rules.detector()?;
    if args.follow {
        let [path] = args.files.as_slice() else {
            return Err(anyhow!("--follow reads exactly one FILE"));
        };
        return follow(&mut detector, path, &args.format);
    }
    // Alerts are written as they are raised, never gathered: memory stays flat however long
    // the log (10 million events, bench/audit.sh).
    let format = args.format.as_str();
    let mut stream = AlertStream {
        format,
        written: 0,
        worst: None,
        stats: ReadStats::default(),
    };
    output::write_output(args.output.as_deref(), "alerts", |out, terminal| {
        let color = terminal && std::env::var_os("NO_COLOR").is_none();
        if format == "json" {
            write!(out, "{{\"alerts\": [")?;
        }
        let mut raised: Vec<Alert> = Vec::new();
        for path in &args.files {
            let name = path.display().to_string();
            let input: Box<dyn io::BufRead> = if path.as_os_str() == "-" {
                Box::new(io::stdin().lock())
            } else {
                let file = File::open(path).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot open the audit log {name}: {e}"))
                })?;
                Box::new(BufReader::with_capacity(1 << 20, file))
            };
            let mut reader = LineReader::new(input);
            for event in reader.by_ref() {
                detector.process(&event, &mut raised);
                stream.write(&mut raised, out, color)?;
            }
            if let Some(error) = reader.take_io_error() {
                return Err(io::Error::new(
                    error.kind(),
                    format!("cannot read the audit log {name}: {error}"),
                ));
            }
            let stats = reader.into_stats();
            report_problems(&name, &stats);
            stream.stats.events += stats.events;
            stream.stats.malformed += stats.malformed;
            stream.stats.skipped += stats.skipped;
            stream.stats.errors.extend(stats.errors);
        }
        detector.finish(&mut raised);
        stream.write(&mut raised, out, color)?;
        let stats = &stream.stats;
        match format {
            "json" => {
                let errors = serde_json::to_string(&stats.errors)?;
                writeln!(
                    out,
                    "\n],\n\"events\": {}, \"malformed\": {}, \"skipped\": {}, \"errors\": {errors}}}",
                    stats.events, stats.malformed, stats.skipped
                )
            }
            "jsonl" => Ok(()),
            _ => writeln!(
                out,
                "{} alerts from {} audit events ({} malformed, {} skipped)",
                stream.written, stats.events, stats.malformed, stats.skipped
            ),
        }
    })?;
    let failed = args
        .fail_on
        .as_deref()
        .map(severity)
        .is_some_and(|threshold| stream.worst.is_some_and(|worst| worst >= threshold));
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A sampled warning: counts, and the first few problems with their lines.
fn report_problems(name: &str, stats: &ReadStats) {
    if stats.malformed == 0 && stats.skipped == 0 {
        return;
    }
    eprintln!(
        "warning: {name}: {} malformed and {} non-audit lines skipped",
        stats.malformed, stats.skipped
    );
    for (line, message) in &stats.errors {
        eprintln!("  {name}:{line}: {}", clean(message));
    }
}

/// Writes alerts in the chosen format as they come, remembering what `--fail-on` needs.
struct AlertStream<'a> {
    format: &'a str,
    written: u64,
    worst: Option<AlertSeverity>,
    stats: ReadStats,
}

impl AlertStream<'_> {
    fn write(
        &mut self,
        alerts: &mut Vec<Alert>,
        out: &mut dyn Write,
        color: bool,
    ) -> io::Result<()> {
        for alert in alerts.drain(..) {
            self.worst = self.worst.max(Some(alert.severity));
            match self.format {
                "json" => {
                    out.write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
                    serde_json::to_writer(&mut *out, &alert)?;
                }
                "jsonl" => {
                    serde_json::to_writer(&mut *out, &alert)?;
                    writeln!(out)?;
                }
                _ => write_alert_line(&alert, out, color)?,
            }
            self.written += 1;
        }
        Ok(())
    }
}

fn write_alert_line(alert: &Alert, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let who = alert.entities.user.as_deref().unwrap_or("-");
    let what = match (&alert.entities.namespace, &alert.entities.name) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.clone(),
        (Some(ns), None) => format!("{ns}/"),
        (None, None) => String::new(),
    };
    let severity = alert.severity.as_str().to_ascii_uppercase();
    let paint = match alert.severity {
        AlertSeverity::Critical | AlertSeverity::High => "\x1b[31m",
        AlertSeverity::Medium => "\x1b[33m",
        _ => "",
    };
    let line = format!(
        "{}  {severity:<13}  {}  {}{}  {} {} {}",
        alert.time,
        alert.alert_type,
        clean(who),
        if alert.count > 1 {
            format!(" (x{})", alert.count)
        } else {
            String::new()
        },
        alert.entities.verb.as_deref().unwrap_or("-"),
        alert.entities.resource.as_deref().unwrap_or("-"),
        clean(&what)
    );
    if color && !paint.is_empty() {
        writeln!(out, "{paint}{line}\x1b[0m")?;
    } else {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "    {}", clean(&alert.output))
}

/// `tail -F`: reads what the file has, then waits for more; a file that was replaced (another
/// inode) or truncated is reopened from its start, as log rotation does. Pending aggregated
/// alerts are flushed when the log has been quiet for a few seconds.
fn follow(detector: &mut Detector, path: &Path, format: &str) -> Result<ExitCode> {
    const POLL: Duration = Duration::from_millis(250);
    const QUIET_FLUSH: Duration = Duration::from_secs(5);
    let mut file = File::open(path)
        .with_context(|| format!("cannot open the audit log {}", path.display()))?;
    let mut identity = file_identity(&file);
    let mut offset = 0u64;
    let mut pending_line: Vec<u8> = Vec::new();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut last_data = Instant::now();
    let stdout = io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("cannot read the audit log {}", path.display()))?;
        if read > 0 {
            offset += read as u64;
            last_data = Instant::now();
            let mut chunk = &buffer[..read];
            while let Some(end) = chunk.iter().position(|b| *b == b'\n') {
                pending_line.extend_from_slice(&chunk[..=end]);
                chunk = &chunk[end + 1..];
                for event in LineReader::new(pending_line.as_slice()) {
                    detector.process(&event, &mut alerts);
                }
                pending_line.clear();
            }
            pending_line.extend_from_slice(chunk);
        } else {
            if !alerts.is_empty() || last_data.elapsed() >= QUIET_FLUSH {
                if last_data.elapsed() >= QUIET_FLUSH {
                    detector.finish(&mut alerts);
                }
                let mut out = stdout.lock();
                for alert in alerts.drain(..) {
                    if format == "table" {
                        write_alert_line(&alert, &mut out, color)?;
                    } else {
                        serde_json::to_writer(&mut out, &alert)?;
                        writeln!(out)?;
                    }
                }
                out.flush()?;
            }
            std::thread::sleep(POLL);
            // Rotated (a new file at the path) or truncated: start over on what is there now.
            let replaced = std::fs::metadata(path)
                .ok()
                .is_some_and(|meta| metadata_identity(&meta) != identity);
            let truncated = file.metadata().is_ok_and(|meta| meta.len() < offset);
            if replaced && let Ok(reopened) = File::open(path) {
                // Finish the old file first: what was written before the rename belongs to it.
                file = reopened;
                identity = file_identity(&file);
                offset = 0;
                pending_line.clear();
            } else if truncated {
                file.seek(SeekFrom::Start(0))?;
                offset = 0;
                pending_line.clear();
            }
        }
    }
}

#[cfg(unix)]
fn metadata_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn metadata_identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (
        0,
        meta.created()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .map_or(0, |d| d.as_secs()),
    )
}

fn file_identity(file: &File) -> (u64, u64) {
    file.metadata()
        .map(|meta| metadata_identity(&meta))
        .unwrap_or_default()
}
