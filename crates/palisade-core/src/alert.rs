//! Run-time alerts: what a detection (audit-log rule, node sensor rule) raises, in the shape every
//! sink and report works from (docs/alerts.md). Values, no I/O: the audit and sensor crates build
//! them, the alerts crate delivers them.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// Alert severity, Defender's scale (informational to high; critical for the rare sure thing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl AlertSeverity {
    /// The severity of a rule without Palisade metadata, from its Falco priority name
    /// (`Critical`, `WARNING`, `info`...; unknown names count as informational).
    pub fn of_falco_priority(priority: &str) -> AlertSeverity {
        match priority.to_ascii_lowercase().as_str() {
            "emergency" | "alert" | "critical" => AlertSeverity::Critical,
            "error" => AlertSeverity::High,
            "warning" => AlertSeverity::Medium,
            "notice" => AlertSeverity::Low,
            _ => AlertSeverity::Informational,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Informational => "informational",
            AlertSeverity::Low => "low",
            AlertSeverity::Medium => "medium",
            AlertSeverity::High => "high",
            AlertSeverity::Critical => "critical",
        }
    }
}

/// MITRE ATT&CK mapping: tactic names as ATT&CK writes them (`PrivilegeEscalation`, the form
/// Defender's alert table uses) and technique IDs (`T1611`, `T1552.007`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mitre {
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
    /// Microsoft's Threat Matrix for Kubernetes technique (`MS-TA9013`), when mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat_matrix: Option<String>,
}

/// What a built-in detection's alert means: the metadata the audit-log and node detectors keep
/// beside their rule files, keyed by rule name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// The rule's name in its built-in rule file.
    pub rule: &'static str,
    /// `K8S_…` (audit log) or `K8S.NODE_…` (node); Defender's ID where Defender has the same
    /// detection.
    pub alert_type: &'static str,
    pub display_name: &'static str,
    pub severity: AlertSeverity,
    /// ATT&CK tactics, written as Defender's table writes them.
    pub tactics: &'static [&'static str],
    pub techniques: &'static [&'static str],
    /// Microsoft Threat Matrix for Kubernetes technique, when it has one.
    pub threat_matrix: Option<&'static str>,
    pub remediation: &'static str,
}

impl Detection {
    pub fn mitre(&self) -> Mitre {
        Mitre {
            tactics: self.tactics.iter().map(|t| t.to_string()).collect(),
            techniques: self.techniques.iter().map(|t| t.to_string()).collect(),
            threat_matrix: self.threat_matrix.map(str::to_string),
        }
    }
}

impl Mitre {
    /// MITRE from Falco-style tags: `T1611`/`T1552.007` are techniques, `mitre_privilege_escalation`
    /// a tactic (written `PrivilegeEscalation`, as Defender writes it). Tactic-ID tags (`TA0003`)
    /// are not techniques and are left out; duplicates are dropped.
    pub fn from_tags(tags: &[String]) -> Mitre {
        let mut mitre = Mitre::default();
        for tag in tags {
            if is_technique(tag) {
                let id = tag.to_ascii_uppercase();
                if !mitre.techniques.contains(&id) {
                    mitre.techniques.push(id);
                }
            } else if let Some(tactic) = tag.strip_prefix("mitre_") {
                let name: String = tactic
                    .split('_')
                    .filter(|w| !w.is_empty())
                    .map(|w| {
                        let mut chars = w.chars();
                        chars.next().map_or_else(String::new, |c| {
                            c.to_ascii_uppercase().to_string() + chars.as_str()
                        })
                    })
                    .collect();
                if !name.is_empty() && !mitre.tactics.contains(&name) {
                    mitre.tactics.push(name);
                }
            }
        }
        mitre
    }
}

fn is_technique(tag: &str) -> bool {
    let b = tag.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b {
        [b'T' | b't', rest @ ..] if rest.len() == 4 => digits(rest),
        [b'T' | b't', rest @ ..] if rest.len() == 8 => {
            matches!(rest.get(4), Some(b'.'))
                && digits(rest.get(..4).unwrap_or_default())
                && digits(rest.get(5..).unwrap_or_default())
        }
        _ => false,
    }
}

/// Who did what to what. Audit-log alerts fill the Kubernetes request part; node-sensor alerts
/// fill process, container and pod. Never holds a credential or a Secret's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The user a request impersonated, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// `pods`, `pods/exec`, `clusterrolebindings`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<ContainerEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s: Option<PodEntity>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEntity {
    pub pid: u32,
    #[serde(default)]
    pub ppid: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exepath: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cmdline: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerEntity {
    pub id: String,
    /// `containerd`, `cri-o`, `docker`, `runc`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEntity {
    pub namespace: String,
    pub pod: String,
}

/// One alert: a rule that fired, with its evidence and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule's name as written in its rule file.
    pub rule: String,
    /// `K8S_…` (audit log) or `K8S.NODE_…` (node sensor), in Defender's style.
    pub alert_type: String,
    pub severity: AlertSeverity,
    /// Falco's priority of the rule (`Emergency` … `Debug`), as written.
    pub priority: String,
    /// The rule's output template rendered for the event.
    pub output: String,
    pub mitre: Mitre,
    pub entities: Entities,
    /// Audit IDs of the events that are the evidence (audit-log alerts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit_ids: Vec<String>,
    /// When it happened (the first event's time), RFC 3339 with the source's precision.
    pub time: String,
    /// How many identical alerts this one stands for (aggregation within a window); at least 1.
    pub count: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
    /// The rule's tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The rendered fields of the output template (`ka.user.name` → `alice`), as Falco's JSON
    /// output gives them (`output_fields`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub output_fields: BTreeMap<String, String>,
    /// `k8s_audit` or `syscall`.
    pub source: String,
    /// Where it was raised: the cluster name (audit) or node name (sensor).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
}

/// Merges identical alerts raised within a window into one with a count, as the audit-log and
/// node detectors do: the first alert of a key is held, repeats only update it, and it leaves when
/// its window (from the first alert) has passed, when too many keys are held (oldest first) or at
/// [`AlertAggregator::finish`]. Times are nanoseconds on whatever clock the caller uses (event
/// time for audit logs, wall time for the sensor); a zero window sends every alert at once.
#[derive(Debug)]
pub struct AlertAggregator<K> {
    window_nanos: i64,
    max_pending: usize,
    pending: HashMap<K, Alert>,
    /// Keys in the order they were opened, with when.
    order: VecDeque<(i64, K)>,
    clock: i64,
}

impl<K: Hash + Eq + Clone> AlertAggregator<K> {
    pub fn new(window_nanos: i64, max_pending: usize) -> AlertAggregator<K> {
        AlertAggregator {
            window_nanos: window_nanos.max(0),
            max_pending: max_pending.max(1),
            pending: HashMap::new(),
            order: VecDeque::new(),
            clock: i64::MIN,
        }
    }

    /// The held alert of `key`, to count a repeat into.
    pub fn held_mut(&mut self, key: &K) -> Option<&mut Alert> {
        self.pending.get_mut(key)
    }

    /// Holds `alert` as the first of `key` (opened at `now`); an alert already held for `key`
    /// only has its count raised. Alerts pushed out by the bound go to `out`.
    pub fn open(&mut self, key: K, alert: Alert, now: i64, out: &mut Vec<Alert>) {
        if let Some(held) = self.pending.get_mut(&key) {
            held.count = held.count.saturating_add(1);
            return;
        }
        if self.pending.len() >= self.max_pending {
            self.flush_one(out);
        }
        self.order.push_back((now, key.clone()));
        self.pending.insert(key, alert);
    }

    /// Moves the clock to `now` (never back) and sends the alerts whose window has passed.
    pub fn advance(&mut self, now: i64, out: &mut Vec<Alert>) {
        self.clock = self.clock.max(now);
        self.flush_older_than(self.clock.saturating_sub(self.window_nanos), out);
    }

    /// Sends every alert still held (end of input, shutdown).
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        self.flush_older_than(i64::MAX, out);
    }

    /// How many alerts are held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    fn flush_one(&mut self, out: &mut Vec<Alert>) {
        while let Some((_, key)) = self.order.pop_front() {
            if let Some(alert) = self.pending.remove(&key) {
                out.push(alert);
                return;
            }
        }
    }

    fn flush_older_than(&mut self, cutoff: i64, out: &mut Vec<Alert>) {
        while let Some((opened, _)) = self.order.front() {
            if *opened > cutoff {
                break;
            }
            if let Some((_, key)) = self.order.pop_front()
                && let Entry::Occupied(held) = self.pending.entry(key)
            {
                out.push(held.remove());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(rule: &str) -> Alert {
        Alert {
            rule: rule.to_string(),
            alert_type: "T".to_string(),
            severity: AlertSeverity::Low,
            priority: "Notice".to_string(),
            output: String::new(),
            mitre: Mitre::default(),
            entities: Entities::default(),
            audit_ids: Vec::new(),
            time: String::new(),
            count: 1,
            description: String::new(),
            remediation: String::new(),
            tags: Vec::new(),
            output_fields: BTreeMap::new(),
            source: "test".to_string(),
            hostname: String::new(),
        }
    }

    #[test]
    fn repeats_within_the_window_are_counted_and_leave_when_it_passes() {
        let mut agg = AlertAggregator::new(10, 100);
        let mut out = Vec::new();
        agg.open("a", alert("a"), 0, &mut out);
        agg.advance(0, &mut out);
        agg.open("a", alert("a"), 5, &mut out);
        agg.open("b", alert("b"), 5, &mut out);
        agg.advance(9, &mut out);
        assert!(out.is_empty());
        agg.advance(10, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rule.as_str(), out[0].count), ("a", 2));
        // The clock never goes back.
        agg.advance(0, &mut out);
        assert_eq!(out.len(), 1);
        agg.finish(&mut out);
        assert_eq!(
            out.iter().map(|a| a.rule.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(agg.is_empty());
    }

    #[test]
    fn the_bound_sends_the_oldest_and_a_zero_window_sends_at_once() {
        let mut agg = AlertAggregator::new(1_000, 2);
        let mut out = Vec::new();
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            agg.open(key, alert(key), i as i64, &mut out);
        }
        assert_eq!(
            out.iter().map(|a| a.rule.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        assert_eq!(agg.len(), 2);
        if let Some(held) = agg.held_mut(&"b") {
            held.count += 5;
        }
        agg.finish(&mut out);
        assert_eq!(out[1].count, 6);

        let mut zero = AlertAggregator::new(0, 10);
        let mut out = Vec::new();
        zero.open(1, alert("x"), 7, &mut out);
        zero.advance(7, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn mitre_and_severity_from_falco_rules() {
        let tags: Vec<String> = [
            "mitre_privilege_escalation",
            "T1611",
            "t1552.007",
            "TA0004",
            "T1611",
            "container",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        let mitre = Mitre::from_tags(&tags);
        assert_eq!(mitre.tactics, ["PrivilegeEscalation"]);
        assert_eq!(mitre.techniques, ["T1611", "T1552.007"]);
        assert_eq!(
            AlertSeverity::of_falco_priority("CRITICAL"),
            AlertSeverity::Critical
        );
        assert_eq!(
            AlertSeverity::of_falco_priority("Warning"),
            AlertSeverity::Medium
        );
        assert_eq!(
            AlertSeverity::of_falco_priority("info"),
            AlertSeverity::Informational
        );
    }
}
