//! [`Dispatcher`]: the configured sinks behind one `send`. Local sinks (stdout, files) are written
//! in the caller's thread; each network sink gets a spool under the spool root and a delivery
//! thread, so `send` only costs a local append however slow or dead the sink is.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_core::Alert;

use crate::config::SinkConfig;
use crate::sink::Transport;
use crate::sink::file::FileSink;
use crate::sink::splunk::SplunkTransport;
use crate::sink::syslog::SyslogTransport;
use crate::sink::webhook::WebhookTransport;
use crate::sink::worker::{Stop, Worker};
use crate::spool::{Spool, SpoolError, SpoolOptions};

#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// Bounds of each network sink's spool.
    pub spool: SpoolOptions,
    /// First wait after a failed delivery; doubles up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A sink's `Retry-After` is honoured up to this.
    pub retry_after_max: Duration,
    /// About how many payload bytes one delivery carries (Splunk batches, syslog bursts).
    pub max_batch_bytes: usize,
    /// `hostname` of the health alerts this crate raises (the cluster or node name).
    pub hostname: String,
}

impl Default for DispatchOptions {
    fn default() -> DispatchOptions {
        DispatchOptions {
            spool: SpoolOptions::default(),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            retry_after_max: Duration::from_secs(600),
            max_batch_bytes: 1 << 20,
            hostname: String::new(),
        }
    }
}

/// What a sink has done so far. Errors are free of secrets (URLs are reduced to their origin).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkStatus {
    pub id: String,
    pub kind: &'static str,
    pub delivered: u64,
    /// Alerts the sink refused as invalid (HTTP 400...) and that were set aside.
    pub rejected: u64,
    /// Spool records that were not alerts (written by another version).
    pub unreadable: u64,
    pub retries: u64,
    pub last_error: Option<String>,
    pub dropped_total: u64,
    pub corrupt_total: u64,
    pub pending_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("sink {sink}: {source}")]
    Spool { sink: String, source: SpoolError },
    #[error("sink {sink}: environment variable {variable} is not set or empty")]
    MissingEnv { sink: String, variable: String },
    #[error("sink {sink}: {message}")]
    Setup { sink: String, message: String },
    #[error("sink {sink}: {}: {source}", path.display())]
    File {
        sink: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("two sinks share the identity {0}: give one a distinct `name`")]
    DuplicateId(String),
}

/// Sinks that did not take an alert (the others did).
#[derive(Debug)]
pub struct SendError {
    /// (sink id, reason).
    pub failures: Vec<(String, String)>,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (sink, reason)) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "sink {sink}: {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SendError {}

struct Local {
    id: String,
    kind: &'static str,
    sink: Mutex<FileSink>,
}

struct Remote {
    id: String,
    spool: Arc<Spool>,
    status: Arc<Mutex<SinkStatus>>,
    handle: Option<JoinHandle<()>>,
}

pub struct Dispatcher {
    local: Vec<Local>,
    remote: Vec<Remote>,
    stop: Arc<Stop>,
}

impl Dispatcher {
    pub fn new(configs: &[SinkConfig], spool_root: &Path) -> Result<Dispatcher, BuildError> {
        Dispatcher::with_options(configs, spool_root, DispatchOptions::default())
    }

    /// Opens every sink (files, spools, TLS settings, environment secrets) before starting any
    /// delivery thread, so a configuration problem fails here and not at the first alert.
    pub fn with_options(
        configs: &[SinkConfig],
        spool_root: &Path,
        options: DispatchOptions,
    ) -> Result<Dispatcher, BuildError> {
        let mut ids = std::collections::BTreeSet::new();
        let mut local = Vec::new();
        let mut pending = Vec::new();
        for config in configs {
            let id = config.id();
            if !ids.insert(id.clone()) {
                return Err(BuildError::DuplicateId(id));
            }
            let setup = |message: String| BuildError::Setup {
                sink: id.clone(),
                message,
            };
            let transport: Box<dyn Transport> = match config {
                SinkConfig::Stdout { format } => {
                    local.push(Local {
                        id,
                        kind: config.kind(),
                        sink: Mutex::new(FileSink::stdout(*format)),
                    });
                    continue;
                }
                SinkConfig::File { path, format } => {
                    let sink =
                        FileSink::open(path, *format).map_err(|source| BuildError::File {
                            sink: id.clone(),
                            path: path.clone(),
                            source,
                        })?;
                    local.push(Local {
                        id,
                        kind: config.kind(),
                        sink: Mutex::new(sink),
                    });
                    continue;
                }
                SinkConfig::Webhook(webhook) => {
                    let mut headers = webhook.headers.clone();
                    for (name, variable) in &webhook.headers_env {
                        headers.push((name.clone(), secret(&id, variable)?));
                    }
                    Box::new(WebhookTransport::new(webhook, headers).map_err(setup)?)
                }
                SinkConfig::Syslog(syslog) => {
                    Box::new(SyslogTransport::new(syslog).map_err(setup)?)
                }
                SinkConfig::Splunk(splunk) => {
                    let token = secret(&id, &splunk.token_env)?;
                    Box::new(SplunkTransport::new(splunk, &token).map_err(setup)?)
                }
            };
            let spool = Spool::open(&spool_root.join(&id), options.spool).map_err(|source| {
                BuildError::Spool {
                    sink: id.clone(),
                    source,
                }
            })?;
            pending.push((id, config.kind(), Arc::new(spool), transport));
        }
        let stop = Arc::new(Stop::default());
        let mut dispatcher = Dispatcher {
            local,
            remote: Vec::new(),
            stop: stop.clone(),
        };
        for (id, kind, spool, transport) in pending {
            let status = Arc::new(Mutex::new(SinkStatus {
                id: id.clone(),
                kind,
                ..SinkStatus::default()
            }));
            let worker = Worker {
                id: id.clone(),
                spool: spool.clone(),
                transport,
                status: status.clone(),
                stop: stop.clone(),
                options: options.clone(),
            };
            // On failure the dispatcher's Drop stops the threads already started.
            let handle = worker.spawn().map_err(|error| BuildError::Setup {
                sink: id.clone(),
                message: format!("cannot start the delivery thread: {error}"),
            })?;
            dispatcher.remote.push(Remote {
                id,
                spool,
                status,
                handle: Some(handle),
            });
        }
        Ok(dispatcher)
    }

    /// Hands `alert` to every sink: written to local sinks, appended to each network sink's spool.
    /// An error lists the sinks that did not take it; the others did.
    pub fn send(&self, alert: &Alert) -> Result<(), SendError> {
        let mut failures = Vec::new();
        for local in &self.local {
            let mut sink = local.sink.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(error) = sink.write(alert) {
                failures.push((local.id.clone(), format!("{}: {error}", sink.describe())));
            }
        }
        if !self.remote.is_empty() {
            let record = crate::format::json::render(alert);
            for remote in &self.remote {
                if let Err(error) = remote.spool.append(record.as_bytes()) {
                    failures.push((remote.id.clone(), error.to_string()));
                }
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(SendError { failures })
        }
    }

    /// Waits until every network sink has delivered everything spooled (or `timeout` passes) and
    /// syncs files and spools to disk. True when nothing is left undelivered.
    pub fn flush(&self, timeout: Duration) -> bool {
        for local in &self.local {
            let mut sink = local.sink.lock().unwrap_or_else(|e| e.into_inner());
            let _ = sink.flush();
        }
        for remote in &self.remote {
            let _ = remote.spool.sync();
        }
        let deadline = Instant::now() + timeout;
        loop {
            if self.remote.iter().all(|r| r.spool.is_drained()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn status(&self) -> Vec<SinkStatus> {
        let mut all: Vec<SinkStatus> = self
            .local
            .iter()
            .map(|l| SinkStatus {
                id: l.id.clone(),
                kind: l.kind,
                ..SinkStatus::default()
            })
            .collect();
        for remote in &self.remote {
            let mut status = remote
                .status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let counters = remote.spool.counters();
            status.dropped_total = counters.dropped_total;
            status.corrupt_total = counters.corrupt_total;
            status.pending_bytes = remote.spool.pending_bytes();
            all.push(status);
        }
        all
    }

    /// Stops the delivery threads after their current attempt. Undelivered alerts stay in the
    /// spools for the next dispatcher on the same spool root.
    pub fn shutdown(mut self) {
        self.stop_threads();
    }

    fn stop_threads(&mut self) {
        self.stop.request();
        for remote in &self.remote {
            remote.spool.wake();
        }
        for remote in &mut self.remote {
            if let Some(handle) = remote.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop_threads();
    }
}

/// A secret from the environment. The error names the variable, never a value.
fn secret(sink: &str, variable: &str) -> Result<String, BuildError> {
    match std::env::var(variable) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_string()),
        _ => Err(BuildError::MissingEnv {
            sink: sink.to_string(),
            variable: variable.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatcher_is_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Dispatcher>();
    }

    #[test]
    fn duplicate_sinks_are_refused() {
        let file = SinkConfig::File {
            path: std::env::temp_dir().join("palisade-dup.jsonl"),
            format: crate::JsonFormat::Palisade,
        };
        let root = std::env::temp_dir().join("palisade-dup-spool");
        match Dispatcher::new(&[file.clone(), file], &root) {
            Err(BuildError::DuplicateId(id)) => assert!(id.starts_with("file-")),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("two sinks with one identity"),
        }
    }
}
