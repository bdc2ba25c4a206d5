//! The sensor's event loop: kernel events in, alerts out. One thread polls the ring buffer,
//! keeps the process table, attributes each process to its container and pod, applies the drift
//! policy (and keeps the kernel's drift-blocking maps in step with it) and evaluates the rules.
//!
//! Nothing here blocks for long: pod metadata comes from the [`PodResolver`]'s cache, which a
//! background thread refreshes; the only file reads are `/proc/<pid>/…` of processes seen for the
//! first time.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use palisade_core::{Alert, AlertSeverity, Entities, Mitre};

use crate::bpf::loader::{BpfError, ProbeOptions, Probes};
use crate::cgroup::ContainerRef;
use crate::config::{PathPattern, SensorConfig};
use crate::detections::{DetectorError, NodeDetector, NodeDetectorOptions};
use crate::drift::DriftAction;
use crate::event::{EventDetail, SyscallEvent};
use crate::fields::{IdNames, NameMaps, NoNames, SyscallRecord};
use crate::kernel::KernelReport;
use crate::model::{ContainerInfo, ProcessInfo};
use crate::pods::{AttributionStatus, PodResolver, PodSourcesConfig};
use crate::process_table::{DEFAULT_MAX_PROCESSES, ProcessTable};
use crate::procfs::ProcFs;

/// The alert type of the health alert raised when the kernel dropped events.
pub const EVENTS_DROPPED: &str = "PALISADE_SensorEventsDropped";

/// How often the loop looks at drop counters, flushes aggregation windows and retries the
/// attribution of containers still without pod metadata.
const TICK: Duration = Duration::from_secs(1);
/// Least time between two health alerts about drops (the count accumulates in between).
const DROP_ALERT_INTERVAL: Duration = Duration::from_secs(60);
/// How often containers whose processes are all gone lose their kernel drift policy.
const DRIFT_GC_INTERVAL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    #[error("eBPF: {0}")]
    Bpf(#[from] BpfError),
    #[error("rules: {0}")]
    Rules(#[from] DetectorError),
    #[error("cannot read /proc to rebuild the process table: {0}")]
    Proc(std::io::Error),
    #[error("cannot start pod attribution: {0}")]
    Attribution(std::io::Error),
}

/// What the loop has done, for `palisade sensor run`'s summary and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SensorStats {
    pub events: u64,
    pub alerts: u64,
    /// Records the kernel could not put in the ring (all CPUs), since start.
    pub dropped: u64,
    pub decode_errors: u64,
    pub drift_policies: usize,
    pub processes: usize,
}

/// A container as the loop knows it.
struct KnownContainer {
    info: ContainerInfo,
    reference: ContainerRef,
    /// The mount namespace inode that keys the kernel's drift maps, once known.
    mnt_ns: Option<u64>,
    /// Whether pod metadata arrived (no more lookups needed).
    resolved: bool,
    last_lookup: Instant,
}

impl KnownContainer {
    /// Asks the resolver again (at most once per tick) while pod metadata is missing; true when
    /// it arrived.
    fn refresh(&mut self, pods: &PodResolver) -> bool {
        if self.resolved || self.last_lookup.elapsed() < TICK {
            return false;
        }
        self.last_lookup = Instant::now();
        let info = pods.attribute(&self.reference);
        if info.pod.is_none() {
            return false;
        }
        self.info = info;
        self.resolved = true;
        true
    }
}

pub struct Sensor {
    probes: Probes,
    report: KernelReport,
    table: ProcessTable,
    pods: Option<PodResolver>,
    detector: NodeDetector,
    config: SensorConfig,
    names: NameMaps,
    containers: HashMap<String, KnownContainer>,
    /// Kernel drift policies in force, by mount namespace inode.
    drift_keys: HashMap<u64, String>,
    boot_to_unix_nanos: i64,
    events: Vec<SyscallEvent>,
    alerts: Vec<Alert>,
    stats: SensorStats,
    last_tick: Instant,
    last_drift_gc: Instant,
    drops_reported: u64,
    last_drop_alert: Option<Instant>,
    drops_per_cpu: Vec<u64>,
}

/// The kernel's read filter: prefixes only (see `ProbeOptions::read_prefixes`); a file-name
/// entry (`.bash_history`) goes to the kernel as a relative prefix and is matched in full here.
fn kernel_prefixes(patterns: &[PathPattern]) -> Vec<String> {
    patterns.iter().map(|p| p.as_str().to_string()).collect()
}

impl Sensor {
    /// Loads the probes, rebuilds the process table from `/proc` and starts attribution.
    /// `rule_files` are (name, text) in `--rules` order.
    pub fn start(
        config: SensorConfig,
        rule_files: Vec<(String, String)>,
    ) -> Result<Sensor, SensorError> {
        let mut probe_options = ProbeOptions::default();
        if !config.sensitive_reads.is_empty() {
            probe_options.read_prefixes = kernel_prefixes(&config.sensitive_reads);
        }
        if !config.watched_paths.is_empty() {
            probe_options.watched_prefixes = kernel_prefixes(&config.watched_paths);
        }
        if config.ring_buffer_bytes > 0 {
            probe_options.ring_bytes = config.ring_buffer_bytes;
        }
        probe_options.module_load_attempts = config.module_load_attempts;
        let mut rule_files = rule_files;
        if config.builtin_rules && !config.allowed_api_clients.is_empty() {
            // Loaded right after the built-in rules, before the user's files, which may still
            // override it.
            rule_files.insert(
                0,
                (
                    "palisade.yaml:sensor.allowedApiClients".to_string(),
                    allowed_api_clients_rules(&config.allowed_api_clients),
                ),
            );
        }
        let detector = NodeDetector::new(NodeDetectorOptions {
            builtin_rules: config.builtin_rules,
            rule_files,
            node_name: config.node_name.clone(),
            window_nanos: i64::try_from(config.aggregation_window.as_nanos()).unwrap_or(i64::MAX),
            ..NodeDetectorOptions::default()
        })?;
        let (probes, report) = Probes::load(&probe_options)?;
        let boot_now = boot_nanos();
        let procfs = ProcFs::new(
            config.attribution.proc_root.clone(),
            crate::cgroup::CgroupRules::default(),
        );
        let mut table = ProcessTable::new(procfs, DEFAULT_MAX_PROCESSES);
        table
            .rebuild_from_proc(boot_now)
            .map_err(SensorError::Proc)?;
        let pods = if config.attribution.cri_sockets.is_empty()
            && !config.attribution.kubelet
            && !config.attribution.api
        {
            None
        } else {
            let mut sources = PodSourcesConfig::from_env();
            sources.cri_sockets = config.attribution.cri_sockets.clone();
            if !config.attribution.kubelet {
                sources.kubelet_url = None;
            } else if let Some(url) = &config.attribution.kubelet_url {
                sources.kubelet_url = Some(url.clone());
            }
            if !config.attribution.api {
                sources.api_url = None;
            }
            sources.node_name = Some(config.node_name.clone()).filter(|n| !n.is_empty());
            Some(PodResolver::start(sources).map_err(SensorError::Attribution)?)
        };
        let now = Instant::now();
        Ok(Sensor {
            probes,
            report,
            table,
            pods,
            detector,
            names: host_names(),
            config,
            containers: HashMap::new(),
            drift_keys: HashMap::new(),
            boot_to_unix_nanos: unix_nanos().saturating_sub(boot_now as i64),
            events: Vec::new(),
            alerts: Vec::new(),
            stats: SensorStats::default(),
            last_tick: now,
            last_drift_gc: now,
            drops_reported: 0,
            last_drop_alert: None,
            drops_per_cpu: Vec::new(),
        })
    }

    /// What the kernel supports and which detections are degraded.
    pub fn kernel_report(&self) -> &KernelReport {
        &self.report
    }

    /// Rules disabled while loading (unknown fields), with why.
    pub fn rule_warnings(&self) -> &[String] {
        self.detector.warnings()
    }

    pub fn attribution_status(&self) -> Option<AttributionStatus> {
        self.pods.as_ref().map(PodResolver::status)
    }

    /// Records the kernel could not put in the ring buffer, per CPU, since start (as last read;
    /// refreshed every second).
    pub fn drops_per_cpu(&self) -> &[u64] {
        &self.drops_per_cpu
    }

    /// Prometheus text exposition of the loop's counters (served by `sensor run --metrics`).
    pub fn metrics_text(&self) -> String {
        use std::fmt::Write as _;
        let stats = self.stats();
        let mut text = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                text,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "palisade_sensor_events_total",
            "counter",
            "Kernel events handled.",
            stats.events,
        );
        metric(
            "palisade_sensor_alerts_total",
            "counter",
            "Alerts raised.",
            stats.alerts,
        );
        metric(
            "palisade_sensor_decode_errors_total",
            "counter",
            "Ring-buffer records that did not decode.",
            stats.decode_errors,
        );
        metric(
            "palisade_sensor_processes",
            "gauge",
            "Processes in the process table.",
            stats.processes as u64,
        );
        metric(
            "palisade_sensor_drift_policies",
            "gauge",
            "Containers with a drift-blocking policy in the kernel.",
            stats.drift_policies as u64,
        );
        let _ = writeln!(
            text,
            "# HELP palisade_sensor_dropped_events_total Events the kernel dropped because the ring buffer was full.\n# TYPE palisade_sensor_dropped_events_total counter"
        );
        for (cpu, dropped) in self.drops_per_cpu.iter().enumerate() {
            let _ = writeln!(
                text,
                "palisade_sensor_dropped_events_total{{cpu=\"{cpu}\"}} {dropped}"
            );
        }
        text
    }

    pub fn stats(&self) -> SensorStats {
        SensorStats {
            processes: self.table.len(),
            drift_policies: self.drift_keys.len(),
            decode_errors: self.probes.decode_errors(),
            ..self.stats
        }
    }

    /// Waits up to `timeout` for events and handles them; alerts ready to be sent are pushed to
    /// `out` (aggregated alerts leave when their window closes).
    pub fn step(&mut self, timeout: Duration, out: &mut Vec<Alert>) -> Result<(), SensorError> {
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        self.probes.poll(timeout, &mut events)?;
        for event in &events {
            self.handle(event);
        }
        self.stats.events += events.len() as u64;
        self.events = events;
        if self.last_tick.elapsed() >= TICK {
            self.tick();
        }
        self.stats.alerts += self.alerts.len() as u64;
        out.append(&mut self.alerts);
        Ok(())
    }

    /// Sends every alert still held in an aggregation window (at shutdown).
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        self.detector.finish(&mut self.alerts);
        self.stats.alerts += self.alerts.len() as u64;
        out.append(&mut self.alerts);
    }

    fn handle(&mut self, event: &SyscallEvent) {
        self.table.apply(event);
        let pid = event.task.pid;
        let Some(process) = self.table.get(pid) else {
            return;
        };
        let container_id = process.container_id.clone();
        if let Some(id) = &container_id {
            self.know_container(id, pid, event);
        }
        let time = self.boot_to_unix_nanos.saturating_add(event.boot_ns as i64);
        // Re-borrow after the container bookkeeping (which needs `&mut self`).
        let Some(process) = self.table.get(pid) else {
            return;
        };
        let container = container_id
            .as_deref()
            .and_then(|id| self.containers.get(id))
            .map(|c| &c.info);
        // Container users go by UID: their /etc/passwd is inside the container, not read here.
        let names: &dyn IdNames = if container.is_some() {
            &NoNames
        } else {
            &self.names
        };
        let record = SyscallRecord::new(event, process, &self.table, container, names)
            .with_hostname(&self.config.node_name);
        if let EventDetail::Exec {
            origin, blocked, ..
        } = &event.detail
            && let Some(container) = container
            && (origin.upper_layer || origin.memfd || origin.tmpfs)
        {
            drift(
                &mut self.detector,
                &self.config,
                &record,
                process,
                container,
                *blocked,
                time,
                &mut self.alerts,
            );
        }
        self.detector.process(&record, time, &mut self.alerts);
    }

    /// Makes sure the container is known and attributed, and that its kernel drift policy is
    /// in force once its mount namespace is known.
    fn know_container(&mut self, id: &str, pid: u32, event: &SyscallEvent) {
        let exec_ns = match &event.detail {
            EventDetail::Exec { mnt_ns, .. } if *mnt_ns != 0 => Some(*mnt_ns),
            _ => None,
        };
        let mut changed = false;
        if !self.containers.contains_key(id) {
            // What the table learned (from the exec's cgroup path, recorded in the kernel) comes
            // first: a short-lived process is gone from /proc by the time it is handled here.
            let Some(reference) = self
                .table
                .container(id)
                .cloned()
                .or_else(|| self.table.procfs().read_container(pid))
            else {
                return;
            };
            let info = match &self.pods {
                Some(pods) => pods.attribute(&reference),
                None => reference.to_container_info(),
            };
            let resolved = info.pod.is_some() || self.pods.is_none();
            let mnt_ns = exec_ns.or_else(|| self.table.procfs().mnt_ns(pid));
            self.containers.insert(
                id.to_string(),
                KnownContainer {
                    info,
                    reference,
                    mnt_ns,
                    resolved,
                    last_lookup: Instant::now(),
                },
            );
            changed = true;
        } else if let Some(known) = self.containers.get_mut(id) {
            if known.mnt_ns.is_none() && exec_ns.is_some() {
                known.mnt_ns = exec_ns;
                changed = true;
            }
            if let Some(pods) = &self.pods {
                changed |= known.refresh(pods);
            }
        }
        if changed {
            self.apply_drift_policy(id);
        }
    }

    fn apply_drift_policy(&mut self, id: &str) {
        let Some(known) = self.containers.get(id) else {
            return;
        };
        let Some(key) = known.mnt_ns else {
            return;
        };
        let policy = self
            .config
            .drift
            .kernel_policy(self.config.cluster_name.as_deref(), &known.info);
        let result = if policy.block {
            self.probes
                .set_drift_policy(key, true, &policy.allowed_exe_paths)
                .map(|()| {
                    self.drift_keys.insert(key, id.to_string());
                })
        } else if self.drift_keys.remove(&key).is_some() {
            self.probes.clear_drift_policy(key)
        } else {
            Ok(())
        };
        if let Err(error) = result {
            // The alert path still reports drift; only the kill at exec is lost.
            eprintln!("palisade sensor: cannot set the drift policy of container {id}: {error}");
        }
    }

    fn tick(&mut self) {
        self.last_tick = Instant::now();
        let now = unix_nanos();
        self.detector.tick(now, &mut self.alerts);
        if let Ok(per_cpu) = self.probes.drops() {
            self.stats.dropped = per_cpu.iter().sum();
            self.drops_per_cpu = per_cpu;
        }
        let unreported = self.stats.dropped.saturating_sub(self.drops_reported);
        if unreported > 0
            && self
                .last_drop_alert
                .is_none_or(|at| at.elapsed() >= DROP_ALERT_INTERVAL)
        {
            self.alerts.push(events_dropped_alert(
                unreported,
                self.stats.dropped,
                &self.config.node_name,
            ));
            self.drops_reported = self.stats.dropped;
            self.last_drop_alert = Some(Instant::now());
        }
        if let Some(pods) = &self.pods {
            // Pod metadata that arrived may change which drift rule applies.
            let updated: Vec<String> = self
                .containers
                .iter_mut()
                .filter_map(|(id, known)| known.refresh(pods).then(|| id.clone()))
                .collect();
            for id in updated {
                self.apply_drift_policy(&id);
            }
        }
        if self.last_drift_gc.elapsed() >= DRIFT_GC_INTERVAL {
            self.last_drift_gc = Instant::now();
            self.collect_gone_containers();
        }
    }

    /// Forgets containers none of whose processes is alive, and their kernel drift policies.
    fn collect_gone_containers(&mut self) {
        let _ = self.table.reconcile_if_due(DRIFT_GC_INTERVAL);
        let live: HashSet<&str> = self
            .table
            .processes()
            .filter_map(|p| p.container_id.as_deref())
            .collect();
        let gone: Vec<String> = self
            .containers
            .keys()
            .filter(|id| !live.contains(id.as_str()))
            .cloned()
            .collect();
        for id in gone {
            if let Some(known) = self.containers.remove(&id)
                && let Some(key) = known.mnt_ns
                && self.drift_keys.remove(&key).is_some()
            {
                let _ = self.probes.clear_drift_policy(key);
            }
        }
    }
}

/// The override of the built-in `palisade_api_client_allowed` macro for `sensor.allowedApiClients`:
/// entries with a `/` match the executable's path, others its name; both as globs.
fn allowed_api_clients_rules(clients: &[String]) -> String {
    let quote = |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
    let tests: Vec<String> = clients
        .iter()
        .map(|client| {
            let field = if client.contains('/') {
                "proc.exepath"
            } else {
                "proc.name"
            };
            format!("{field} glob {}", quote(client))
        })
        .collect();
    format!(
        "- macro: palisade_api_client_allowed\n  condition: '({})'\n  override:\n    condition: replace\n",
        tests.join(" or ").replace('\'', "''")
    )
}

/// Applies the drift policy to one drift exec and raises its alert.
#[allow(clippy::too_many_arguments)]
fn drift(
    detector: &mut NodeDetector,
    config: &SensorConfig,
    record: &SyscallRecord<'_>,
    process: &ProcessInfo,
    container: &ContainerInfo,
    blocked: bool,
    time: i64,
    out: &mut Vec<Alert>,
) {
    let decision = config.drift.decide(
        config.cluster_name.as_deref(),
        container,
        &process.exepath,
        &process.name,
    );
    if blocked {
        detector.drift(record, true, decision.rule.as_deref(), time, out);
        return;
    }
    if decision.allowed_by.is_some() {
        return;
    }
    // Say why a process a `block` rule covers was not killed: the rule needed pod metadata the
    // sensor did not have, or the container's policy was not in the kernel yet.
    let rule = match (&decision.rule, decision.action) {
        (Some(rule), _) if decision.block_lowered => Some(format!(
            "{rule} (block lowered to alert: pod metadata unknown)"
        )),
        (Some(rule), DriftAction::Block) => Some(format!(
            "{rule} (not blocked: the container's policy was not in the kernel yet)"
        )),
        (rule, _) => rule.clone(),
    };
    match decision.action {
        DriftAction::Ignore => {}
        DriftAction::Alert | DriftAction::Block => {
            detector.drift(record, false, rule.as_deref(), time, out);
        }
    }
}

fn events_dropped_alert(dropped: u64, total: u64, node: &str) -> Alert {
    Alert {
        rule: "Palisade sensor events dropped".to_string(),
        alert_type: EVENTS_DROPPED.to_string(),
        severity: AlertSeverity::High,
        priority: "Error".to_string(),
        output: format!(
            "{dropped} kernel events were dropped on node {node} because the sensor's ring buffer \
             was full ({total} since the sensor started)"
        ),
        mitre: Mitre::default(),
        entities: Entities::default(),
        audit_ids: Vec::new(),
        time: crate::fields::rfc3339_nanos(unix_nanos()),
        count: 1,
        description: "Activity on the node was not observed while the ring buffer was full: an \
                      attack in that window may have raised no alert. Event floods (a build, a \
                      fork bomb) or a sensor starved of CPU cause it."
            .to_string(),
        remediation:
            "Give the sensor more CPU (raise its limit), enlarge `sensor.ringBufferBytes`, \
                      or narrow `sensor.sensitiveReads` if reads of a busy path flood it."
                .to_string(),
        tags: vec!["palisade".to_string(), "health".to_string()],
        output_fields: [
            ("palisade.dropped".to_string(), dropped.to_string()),
            ("palisade.dropped_total".to_string(), total.to_string()),
        ]
        .into_iter()
        .collect(),
        source: "palisade".to_string(),
        hostname: node.to_string(),
    }
}

/// User and group names of the host: `/host/etc/{passwd,group}` where the DaemonSet mounts the
/// host's files, else this system's `/etc`.
fn host_names() -> NameMaps {
    let read = |name: &str| -> HashMap<u32, String> {
        let mounted = format!("/host/etc/{name}");
        let path = if std::path::Path::new(&mounted).exists() {
            mounted
        } else {
            format!("/etc/{name}")
        };
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let mut parts = line.split(':');
                let name = parts.next()?;
                let id = parts.nth(1)?.parse().ok()?;
                Some((id, name.to_string()))
            })
            .collect()
    };
    NameMaps {
        users: read("passwd"),
        groups: read("group"),
    }
}

fn unix_nanos() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// `CLOCK_BOOTTIME` in nanoseconds: the clock `bpf_ktime_get_boot_ns` reads.
fn boot_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_api_clients_become_a_macro_override_that_loads() {
        let text = allowed_api_clients_rules(&[
            "kubectl".to_string(),
            "/usr/local/bin/argocd*".to_string(),
            "odd'name\"x".to_string(),
        ]);
        assert!(
            text.contains(r#"proc.exepath glob "/usr/local/bin/argocd*""#),
            "{text}"
        );
        assert!(text.contains(r#"proc.name glob "kubectl""#), "{text}");
        let detector = NodeDetector::new(NodeDetectorOptions {
            rule_files: vec![("allowed".to_string(), text)],
            ..NodeDetectorOptions::default()
        })
        .expect("the generated override loads");
        assert!(detector.warnings().is_empty(), "{:?}", detector.warnings());
        assert!(
            detector
                .rules()
                .iter()
                .any(|r| r.name == "Palisade Kubernetes API Access From Container" && r.enabled)
        );
    }
}
