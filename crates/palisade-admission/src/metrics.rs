//! Prometheus metrics, kept in atomics and written in the text exposition format by hand: the set is
//! small and fixed, and the hot path must stay lock-free except for the per-policy decision counts.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use palisade_policy::Action;

/// How a `/validate` call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Allowed,
    Denied,
    /// Allowed without evaluation: the namespace is exempt.
    Exempt,
    /// Allowed because evaluation failed or overran and the failure mode is open.
    FailedOpen,
    /// Denied because evaluation failed or overran and the failure mode is closed.
    FailedClosed,
    /// Not a review we can answer (HTTP 400).
    Rejected,
}

const OUTCOMES: [(Outcome, &str); 6] = [
    (Outcome::Allowed, "allowed"),
    (Outcome::Denied, "denied"),
    (Outcome::Exempt, "exempt"),
    (Outcome::FailedOpen, "failed_open"),
    (Outcome::FailedClosed, "failed_closed"),
    (Outcome::Rejected, "rejected"),
];

/// Why a request could not be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Error,
    Panic,
    NotReady,
}

const FAILURES: [(Failure, &str); 3] = [
    (Failure::Error, "error"),
    (Failure::Panic, "panic"),
    (Failure::NotReady, "no_policy_set"),
];

/// Upper bounds (seconds) of the latency buckets: fine-grained below the 100 ms default budget,
/// where the interesting admission latencies are.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The webhook's counters. Shared by every connection; read by `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    outcomes: [AtomicU64; OUTCOMES.len()],
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    decisions: Mutex<BTreeMap<(String, Action), u64>>,
    failures: [AtomicU64; FAILURES.len()],
    timeouts: AtomicU64,
    dry_runs: AtomicU64,
    certificate_reloads: AtomicU64,
    certificate_reload_failures: AtomicU64,
    policy_reloads: AtomicU64,
    policy_reload_failures: AtomicU64,
}

fn slot<T: PartialEq>(table: &[(T, &str)], key: T) -> usize {
    table.iter().position(|(k, _)| *k == key).unwrap_or(0)
}

impl Metrics {
    pub(crate) fn request(&self, outcome: Outcome, elapsed: Duration) {
        if let Some(counter) = self.outcomes.get(slot(&OUTCOMES, outcome)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = elapsed.as_secs_f64();
        // Buckets are stored non-cumulatively and summed at exposition, so one increment per request.
        if let Some((_, bucket)) = LATENCY_BUCKETS
            .iter()
            .zip(&self.latency_buckets)
            .find(|(bound, _)| seconds <= **bound)
        {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub(crate) fn decision(&self, policy: &str, action: Action) {
        let mut decisions = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        *decisions.entry((policy.to_string(), action)).or_insert(0) += 1;
    }

    pub(crate) fn failure(&self, failure: Failure) {
        if let Some(counter) = self.failures.get(slot(&FAILURES, failure)) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn timeout(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dry_run(&self) {
        self.dry_runs.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn certificate_reload(&self, ok: bool) {
        let counter = if ok {
            &self.certificate_reloads
        } else {
            &self.certificate_reload_failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn policy_reload(&self, ok: bool) {
        let counter = if ok {
            &self.policy_reloads
        } else {
            &self.policy_reload_failures
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Everything in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);

        header(
            &mut out,
            "palisade_admission_requests_total",
            "counter",
            "Admission reviews answered, by outcome.",
        );
        for ((_, name), counter) in OUTCOMES.iter().zip(&self.outcomes) {
            let _ = writeln!(
                out,
                "palisade_admission_requests_total{{outcome=\"{name}\"}} {}",
                load(counter)
            );
        }

        header(
            &mut out,
            "palisade_admission_request_duration_seconds",
            "histogram",
            "Time from receiving an admission review to answering it.",
        );
        let mut cumulative = 0;
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += load(bucket);
            let _ = writeln!(
                out,
                "palisade_admission_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = load(&self.latency_count);
        let _ = writeln!(
            out,
            "palisade_admission_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "palisade_admission_request_duration_seconds_sum {}",
            load(&self.latency_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "palisade_admission_request_duration_seconds_count {count}"
        );

        header(
            &mut out,
            "palisade_admission_decisions_total",
            "counter",
            "Policy violations acted upon, by policy and action.",
        );
        let decisions = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        for ((policy, action), count) in decisions.iter() {
            let action = match action {
                Action::Deny => "deny",
                Action::Warn => "warn",
                Action::Audit => "audit",
            };
            let _ = writeln!(
                out,
                "palisade_admission_decisions_total{{policy=\"{}\",action=\"{action}\"}} {count}",
                escape_label(policy)
            );
        }
        drop(decisions);

        header(
            &mut out,
            "palisade_admission_evaluation_failures_total",
            "counter",
            "Requests whose policies could not be evaluated, by cause (the failure mode answered).",
        );
        for ((_, name), counter) in FAILURES.iter().zip(&self.failures) {
            let _ = writeln!(
                out,
                "palisade_admission_evaluation_failures_total{{cause=\"{name}\"}} {}",
                load(counter)
            );
        }

        for (name, help, counter) in [
            (
                "palisade_admission_evaluation_timeouts_total",
                "Requests whose evaluation overran the budget (the failure mode answered).",
                &self.timeouts,
            ),
            (
                "palisade_admission_dry_run_requests_total",
                "Dry-run admission reviews evaluated.",
                &self.dry_runs,
            ),
            (
                "palisade_admission_certificate_reloads_total",
                "Serving certificates loaded after start.",
                &self.certificate_reloads,
            ),
            (
                "palisade_admission_certificate_reload_failures_total",
                "New serving certificates rejected (the previous one stays in use).",
                &self.certificate_reload_failures,
            ),
            (
                "palisade_admission_policy_reloads_total",
                "Policy sets swapped in after start.",
                &self.policy_reloads,
            ),
            (
                "palisade_admission_policy_reload_failures_total",
                "New policy sets rejected (the previous one stays in use).",
                &self.policy_reload_failures,
            ),
        ] {
            header(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", load(counter));
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Label values may contain anything a policy name contains; the exposition format escapes
/// backslash, double quote and newline.
fn escape_label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let metrics = Metrics::default();
        metrics.request(Outcome::Denied, Duration::from_micros(700));
        metrics.request(Outcome::Allowed, Duration::from_millis(30));
        metrics.request(Outcome::Allowed, Duration::from_secs(10));
        metrics.decision("K8sPSP/\"x\"", Action::Deny);
        metrics.decision("K8sPSP/\"x\"", Action::Deny);
        metrics.timeout();
        metrics.failure(Failure::Panic);
        metrics.certificate_reload(false);
        let text = metrics.render();
        for line in [
            "palisade_admission_requests_total{outcome=\"allowed\"} 2",
            "palisade_admission_requests_total{outcome=\"denied\"} 1",
            "palisade_admission_request_duration_seconds_bucket{le=\"0.0005\"} 0",
            "palisade_admission_request_duration_seconds_bucket{le=\"0.001\"} 1",
            "palisade_admission_request_duration_seconds_bucket{le=\"0.05\"} 2",
            "palisade_admission_request_duration_seconds_bucket{le=\"2.5\"} 2",
            "palisade_admission_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "palisade_admission_request_duration_seconds_count 3",
            "palisade_admission_decisions_total{policy=\"K8sPSP/\\\"x\\\"\",action=\"deny\"} 2",
            "palisade_admission_evaluation_timeouts_total 1",
            "palisade_admission_evaluation_failures_total{cause=\"panic\"} 1",
            "palisade_admission_certificate_reload_failures_total 1",
            "# TYPE palisade_admission_request_duration_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }
}
