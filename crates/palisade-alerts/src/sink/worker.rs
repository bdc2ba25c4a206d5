//! The delivery thread of one network sink: reads batches from the spool in order, hands them to
//! the transport, acknowledges what went through, and backs off exponentially (or as long as the
//! sink's `Retry-After` asks) while the sink is down. Before any further alert it reports records
//! the spool had to drop, as a `PALISADE_AlertsDropped` alert.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_core::{Alert, AlertSeverity, Entities, Mitre};

use super::{DeliveryError, Transport};
use crate::dispatcher::{DispatchOptions, SinkStatus};
use crate::spool::Spool;

/// The health alert's type.
pub const ALERTS_DROPPED: &str = "PALISADE_AlertsDropped";

/// Stop request that also interrupts back-off sleeps (appends must not: they would turn a down
/// sink's back-off into a busy loop).
#[derive(Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    signal: Condvar,
}

impl Stop {
    pub(crate) fn request(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.signal.notify_all();
    }

    pub(crate) fn is_requested(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps `duration` unless stopped first; true when stopped.
    fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        while !*stopped {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            stopped = match self.signal.wait_timeout(stopped, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

pub(crate) struct Worker {
    pub(crate) id: String,
    pub(crate) spool: Arc<Spool>,
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) status: Arc<Mutex<SinkStatus>>,
    pub(crate) stop: Arc<Stop>,
    pub(crate) options: DispatchOptions,
}

impl Worker {
    pub(crate) fn spawn(self) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name(format!("palisade-alerts-{}", self.id))
            .spawn(move || self.run())
    }

    fn update(&self, change: impl FnOnce(&mut SinkStatus)) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut status);
    }

    fn run(mut self) {
        let mut backoff = self.options.backoff_initial;
        // After a batch is rejected, alerts go one at a time until past it, so only the alert the
        // sink refuses is set aside.
        let mut single_until = None;
        while !self.stop.is_requested() {
            let outcome = match self.step(&mut single_until) {
                Ok(Step::Idle) => {
                    self.spool.wait_for_append(Duration::from_millis(200));
                    continue;
                }
                Ok(Step::Delivered) => {
                    backoff = self.options.backoff_initial;
                    self.update(|s| s.last_error = None);
                    continue;
                }
                Ok(Step::Rejected) => {
                    backoff = self.options.backoff_initial;
                    continue;
                }
                Err(outcome) => outcome,
            };
            let wait = match outcome {
                Failure::Retry { reason, after } => {
                    self.update(|s| {
                        s.retries += 1;
                        s.last_error = Some(reason);
                    });
                    let wait = match after {
                        Some(after) => after.min(self.options.retry_after_max),
                        None => backoff,
                    };
                    backoff = (backoff * 2).min(self.options.backoff_max);
                    wait
                }
                Failure::Spool(reason) => {
                    self.update(|s| s.last_error = Some(reason));
                    backoff = (backoff * 2).min(self.options.backoff_max);
                    backoff
                }
            };
            if self.stop.sleep(wait) {
                break;
            }
        }
    }

    fn step(&mut self, single_until: &mut Option<crate::spool::Position>) -> Result<Step, Failure> {
        let pending = self.spool.counters().dropped_pending;
        if pending > 0 {
            let alert = dropped_alert(&self.id, pending, &self.options.hostname);
            match self.transport.deliver(std::slice::from_ref(&alert)) {
                Ok(()) | Err(DeliveryError::Rejected { .. }) => {
                    self.update(|s| s.delivered += 1);
                    self.spool
                        .dropped_reported(pending)
                        .map_err(spool_failure)?;
                    return Ok(Step::Delivered);
                }
                Err(DeliveryError::Retry { reason, after }) => {
                    return Err(Failure::Retry { reason, after });
                }
            }
        }
        let limit = match single_until {
            Some(_) => 1,
            None => self.transport.max_batch().max(1),
        };
        let batch = self
            .spool
            .peek(limit, self.options.max_batch_bytes)
            .map_err(spool_failure)?;
        if batch.records.is_empty() {
            *single_until = None;
            return Ok(Step::Idle);
        }
        let mut alerts = Vec::with_capacity(batch.records.len());
        let mut unreadable = 0u64;
        for record in &batch.records {
            // A record with a good checksum that is not an alert was written by a different
            // version; it is counted with the corrupt ones rather than blocking the queue.
            match serde_json::from_slice::<Alert>(record) {
                Ok(alert) => alerts.push(alert),
                Err(_) => unreadable += 1,
            }
        }
        let result = if alerts.is_empty() {
            Ok(())
        } else {
            self.transport.deliver(&alerts)
        };
        match result {
            Ok(()) => {
                // Counted before the ack so that whoever sees the spool drained sees the counts.
                let delivered = alerts.len() as u64;
                self.update(|s| {
                    s.delivered += delivered;
                    s.unreadable += unreadable;
                });
                self.spool.ack(batch.next).map_err(spool_failure)?;
                if single_until.is_some_and(|until| batch.next >= until) {
                    *single_until = None;
                }
                Ok(Step::Delivered)
            }
            Err(DeliveryError::Rejected { reason }) if alerts.len() > 1 => {
                *single_until = Some(batch.next);
                self.update(|s| s.last_error = Some(reason));
                Ok(Step::Rejected)
            }
            Err(DeliveryError::Rejected { reason }) => {
                self.update(|s| {
                    s.rejected += 1;
                    s.last_error = Some(reason);
                });
                self.spool.ack(batch.next).map_err(spool_failure)?;
                if single_until.is_some_and(|until| batch.next >= until) {
                    *single_until = None;
                }
                Ok(Step::Rejected)
            }
            Err(DeliveryError::Retry { reason, after }) => Err(Failure::Retry { reason, after }),
        }
    }
}

enum Step {
    Idle,
    Delivered,
    /// The sink refused an alert; its reason stays as the last error.
    Rejected,
}

enum Failure {
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Spool(String),
}

fn spool_failure(error: crate::spool::SpoolError) -> Failure {
    Failure::Spool(error.to_string())
}

/// The health alert for `dropped` alerts the spool of sink `sink` could not keep.
pub fn dropped_alert(sink: &str, dropped: u64, hostname: &str) -> Alert {
    let time = crate::time::Instant::now().to_rfc3339_micros();
    Alert {
        rule: "Palisade alerts dropped".to_string(),
        alert_type: ALERTS_DROPPED.to_string(),
        severity: AlertSeverity::High,
        priority: "Error".to_string(),
        output: format!(
            "{dropped} alerts for sink {sink} were dropped: its spool reached its size bound while \
             the sink was unreachable (sink={sink} dropped={dropped})"
        ),
        mitre: Mitre::default(),
        entities: Entities::default(),
        audit_ids: Vec::new(),
        time,
        count: 1,
        description: "Alerts were lost between detection and this sink: detections in that \
                      window were not delivered, so an attack during an outage of the sink may \
                      be invisible here."
            .to_string(),
        remediation: "Keep the sink reachable, or raise the spool bound so it can hold alerts \
                      for the longest outage you expect; the dropped alerts are the oldest ones."
            .to_string(),
        tags: vec!["palisade".to_string(), "health".to_string()],
        output_fields: [
            ("palisade.sink".to_string(), sink.to_string()),
            ("palisade.dropped".to_string(), dropped.to_string()),
        ]
        .into_iter()
        .collect(),
        source: "palisade".to_string(),
        hostname: hostname.to_string(),
    }
}
