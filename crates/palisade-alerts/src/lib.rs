//! Alert delivery: takes the [`palisade_core::Alert`] values detections raise and gets them to the
//! tools a SOC runs (files and stdout, HTTP webhooks, syslog over UDP/TCP/TLS, Splunk HEC) in the
//! formats those tools read (Palisade JSON lines, Falco JSON, OCSF Detection Finding, RFC 5424,
//! CEF). See docs/alerts.md.
//!
//! This crate owns the wire formats ([`format`]), the sinks ([`sink`]), the durable on-disk
//! [`spool`] that sits in front of every network sink so a sink that is down makes alerts wait
//! instead of vanishing, the `alerts.sinks` configuration ([`config`]) and the [`Dispatcher`] that
//! fans alerts out. It must not decide what is an alert (detections do), must not block the caller
//! on a slow network (the spool absorbs), and must never put a secret (a HEC token, a header read
//! from the environment, a webhook URL's path) into a log line, an error or a status.

pub mod config;
pub mod dispatcher;
pub mod format;
pub mod sink;
pub mod spool;
pub mod time;

pub use config::{ConfigError, SinkConfig, parse};
pub use dispatcher::{BuildError, DispatchOptions, Dispatcher, SendError, SinkStatus};
pub use format::JsonFormat;
pub use format::syslog::{Facility, SyslogFormat};
pub use sink::worker::{ALERTS_DROPPED, dropped_alert};
pub use spool::{Spool, SpoolOptions};
