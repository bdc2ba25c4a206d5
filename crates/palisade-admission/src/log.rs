//! The decision log: one JSON object per line for every deny, warn and audit decision, so that audit
//! actions are actually recorded somewhere a SIEM or `jq` can read. Dry-run requests are logged like
//! any other with `"dry_run": true`: the log is the webhook's own record, not a side effect on the
//! cluster, and consumers that count enforcement filter on the flag.

use std::io::Write;
use std::sync::Mutex;
use std::time::SystemTime;

use palisade_core::time::{Precision, Timestamp, format_rfc3339};
use palisade_policy::{Action, AdmissionRequest};
use serde::Serialize;

/// A shared sink for decision lines. Each line is written with one `write_all` under a lock and
/// flushed, so lines from concurrent requests never interleave and a crash loses at most the line
/// being written.
pub struct DecisionLog {
    writer: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionLog").finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    uid: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    operation: &'a str,
    user: &'a str,
    policy: &'a str,
    action: Action,
    message: &'a str,
    dry_run: bool,
}

impl DecisionLog {
    pub fn new(writer: impl Write + Send + 'static) -> DecisionLog {
        DecisionLog {
            writer: Mutex::new(Box::new(writer)),
        }
    }

    /// Records one decision about `request`. A failing writer is reported through tracing and
    /// otherwise ignored: losing a log line must not change an admission answer.
    pub fn record(&self, request: &AdmissionRequest, policy: &str, action: Action, message: &str) {
        let line = Line {
            time: rfc3339_now(),
            uid: &request.uid,
            kind: &request.kind.kind,
            namespace: &request.namespace,
            name: &request.name,
            operation: request.operation.as_str(),
            user: &request.user_info.username,
            policy,
            action,
            message,
            dry_run: request.dry_run.unwrap_or(false),
        };
        let mut text = match serde_json::to_vec(&line) {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!(%error, "could not serialise a decision log line");
                return;
            }
        };
        text.push(b'\n');
        // A writer that panicked mid-line poisons the lock; the next line is still worth writing.
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(error) = writer.write_all(&text).and_then(|()| writer.flush()) {
            tracing::warn!(%error, "could not write the decision log");
        }
    }
}

/// Now as `2026-11-27T00:06:36.123Z` (UTC, milliseconds).
fn rfc3339_now() -> String {
    format_rfc3339(Timestamp::from(SystemTime::now()), Precision::Millis)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn dates() {
        let at = |seconds, millis: u32| {
            format_rfc3339(
                Timestamp::new(seconds, millis * 1_000_000),
                Precision::Millis,
            )
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_795_739_196, 123), "2026-11-27T00:26:36.123Z");
        let now = rfc3339_now();
        assert_eq!(
            (now.len(), now.get(10..11), now.get(19..20)),
            (24, Some("T"), Some("."))
        );
    }

    #[test]
    fn one_json_line_per_decision() {
        let sink = Shared::default();
        let log = DecisionLog::new(sink.clone());
        let mut request = AdmissionRequest::for_object(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"}}));
        request.uid = "u-1".into();
        request.dry_run = Some(true);
        request.user_info.username = "alice".into();
        log.record(
            &request,
            "no-privileged",
            Action::Deny,
            "privileged \"nginx\"",
        );
        log.record(&request, "labels", Action::Audit, "missing label");
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        for (field, value) in [
            ("uid", "u-1"),
            ("kind", "Pod"),
            ("namespace", "shop"),
            ("name", "web"),
            ("operation", "CREATE"),
            ("user", "alice"),
            ("policy", "no-privileged"),
            ("action", "deny"),
            ("message", "privileged \"nginx\""),
        ] {
            assert_eq!(first[field], value, "{field}");
        }
        assert_eq!(first["dry_run"], true);
        assert!(first["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(lines[1]["action"], "audit");
    }
}
