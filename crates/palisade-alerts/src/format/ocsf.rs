//! OCSF Detection Finding (class_uid 2004, category 2 "Findings", schema 1.3): the shape Security
//! Lake, Splunk's OCSF add-on and other OCSF consumers ingest. One alert is one finding
//! "created" (activity_id 1).

use palisade_core::{Alert, AlertSeverity};
use serde_json::{Value, json};

use crate::time::parse_rfc3339;

/// The OCSF schema version the documents follow.
pub const OCSF_VERSION: &str = "1.3.0";
const CLASS_UID: u32 = 2004;
const ACTIVITY_CREATE: u32 = 1;

pub fn render(alert: &Alert) -> String {
    let time = parse_rfc3339(&alert.time).map(|t| t.epoch_millis());
    let mut finding_info = json!({
        "uid": finding_uid(alert),
        "title": alert.rule,
        "types": [alert.alert_type],
        "analytic": {
            "name": alert.rule,
            "uid": alert.alert_type,
            // 1: Rule.
            "type_id": 1,
            "type": "Rule",
        },
    });
    if !alert.description.is_empty() {
        finding_info["desc"] = json!(alert.description);
    }
    if let Some(ms) = time {
        finding_info["first_seen_time"] = json!(ms);
    }
    let (severity_id, severity) = severity(alert.severity);
    let mut document = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        // 1: New.
        "status_id": 1,
        "status": "New",
        "message": alert.output,
        "count": alert.count,
        "finding_info": finding_info,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "Palisade",
                "vendor_name": "Palisade",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "log_name": alert.source,
        },
    });
    // OCSF requires `time`, but 0 would be a lie: an alert whose time cannot be read keeps its
    // original text in `unmapped` so the consumer sees the problem.
    match time {
        Some(ms) => document["time"] = json!(ms),
        None => document["unmapped"] = json!({ "time": alert.time }),
    }
    let attacks = attacks(alert);
    if !attacks.is_empty() {
        document["attacks"] = Value::Array(attacks);
    }
    let resources = resources(alert);
    if !resources.is_empty() {
        document["resources"] = Value::Array(resources);
    }
    if let Some(actor) = actor(alert) {
        document["actor"] = actor;
    }
    let evidences = evidences(alert);
    if !evidences.is_empty() {
        document["evidences"] = Value::Array(evidences);
    }
    let observables = observables(alert);
    if !observables.is_empty() {
        document["observables"] = Value::Array(observables);
    }
    if !alert.remediation.is_empty() {
        document["remediation"] = json!({ "desc": alert.remediation });
    }
    if !alert.hostname.is_empty() {
        document["device"] = json!({ "hostname": alert.hostname, "type_id": 0 });
    }
    super::to_json(&document, alert)
}

/// Stable across re-deliveries of the same alert so a consumer can deduplicate: the first audit
/// ID (unique per request) with the alert type, or the type and time when there is none.
fn finding_uid(alert: &Alert) -> String {
    match alert.audit_ids.first() {
        Some(id) => format!("{}:{id}", alert.alert_type),
        None => format!("{}:{}", alert.alert_type, alert.time),
    }
}

fn severity(severity: AlertSeverity) -> (u32, &'static str) {
    match severity {
        AlertSeverity::Informational => (1, "Informational"),
        AlertSeverity::Low => (2, "Low"),
        AlertSeverity::Medium => (3, "Medium"),
        AlertSeverity::High => (4, "High"),
        AlertSeverity::Critical => (5, "Critical"),
    }
}

/// ATT&CK enterprise tactic IDs by the names Defender's alert table writes (`PrivilegeEscalation`).
fn tactic(name: &str) -> Option<(&'static str, &'static str)> {
    let key: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "reconnaissance" => ("TA0043", "Reconnaissance"),
        "resourcedevelopment" => ("TA0042", "Resource Development"),
        "initialaccess" => ("TA0001", "Initial Access"),
        "execution" => ("TA0002", "Execution"),
        "persistence" => ("TA0003", "Persistence"),
        "privilegeescalation" => ("TA0004", "Privilege Escalation"),
        "defenseevasion" => ("TA0005", "Defense Evasion"),
        "credentialaccess" => ("TA0006", "Credential Access"),
        "discovery" => ("TA0007", "Discovery"),
        "lateralmovement" => ("TA0008", "Lateral Movement"),
        "collection" => ("TA0009", "Collection"),
        "exfiltration" => ("TA0010", "Exfiltration"),
        "commandandcontrol" => ("TA0011", "Command and Control"),
        "impact" => ("TA0040", "Impact"),
        _ => return None,
    })
}

/// One `attack` per (technique, tactic) pair: the alert maps to tactics and techniques as sets
/// (Defender's table does), and OCSF's attack object holds one tactic. A sub-technique
/// (`T1552.007`) goes to `sub_technique` with its parent as `technique`.
fn attacks(alert: &Alert) -> Vec<Value> {
    let tactics: Vec<Value> = alert
        .mitre
        .tactics
        .iter()
        .map(|name| match tactic(name) {
            Some((uid, name)) => json!({ "uid": uid, "name": name }),
            None => json!({ "name": name }),
        })
        .collect();
    let techniques: Vec<(Value, Option<Value>)> = alert
        .mitre
        .techniques
        .iter()
        .map(|id| match id.split_once('.') {
            Some((parent, _)) => (json!({ "uid": parent }), Some(json!({ "uid": id }))),
            None => (json!({ "uid": id }), None),
        })
        .collect();
    let mut attacks = Vec::new();
    if techniques.is_empty() {
        for tactic in tactics {
            attacks.push(json!({ "tactic": tactic }));
        }
        return attacks;
    }
    for (technique, sub_technique) in &techniques {
        let mut base = json!({ "technique": technique });
        if let Some(sub) = sub_technique {
            base["sub_technique"] = sub.clone();
        }
        if tactics.is_empty() {
            attacks.push(base);
            continue;
        }
        for tactic in &tactics {
            let mut attack = base.clone();
            attack["tactic"] = tactic.clone();
            attacks.push(attack);
        }
    }
    attacks
}

/// The Kubernetes object the request touched, or the pod a node alert concerns.
fn resources(alert: &Alert) -> Vec<Value> {
    let entities = &alert.entities;
    let mut resources = Vec::new();
    if entities.resource.is_some() || entities.name.is_some() {
        let mut resource = json!({});
        if let Some(kind) = &entities.resource {
            resource["type"] = json!(kind);
        }
        if let Some(name) = &entities.name {
            resource["name"] = json!(name);
        }
        if let Some(namespace) = &entities.namespace {
            resource["namespace"] = json!(namespace);
        }
        resources.push(resource);
    }
    if let Some(pod) = &entities.k8s {
        resources.push(json!({ "type": "pods", "name": pod.pod, "namespace": pod.namespace }));
    }
    if let Some(container) = &entities.container {
        let mut resource = json!({ "type": "container", "uid": container.id });
        if !container.name.is_empty() {
            resource["name"] = json!(container.name);
        }
        resources.push(resource);
    }
    resources
}

fn actor(alert: &Alert) -> Option<Value> {
    let entities = &alert.entities;
    let mut actor = json!({});
    if let Some(user) = &entities.user {
        let mut account = json!({ "name": user });
        if !entities.groups.is_empty() {
            account["groups"] = Value::Array(
                entities
                    .groups
                    .iter()
                    .map(|g| json!({ "name": g }))
                    .collect(),
            );
        }
        actor["user"] = account;
    }
    if let Some(process) = &entities.process {
        let mut p = json!({ "pid": process.pid, "name": process.name });
        if !process.cmdline.is_empty() {
            p["cmd_line"] = json!(process.cmdline);
        }
        if !process.exepath.is_empty() {
            p["file"] = json!({ "path": process.exepath, "type_id": 1 });
        }
        actor["process"] = p;
    }
    if let Some(agent) = &entities.user_agent {
        actor["app_name"] = json!(agent);
    }
    actor
        .as_object()
        .is_some_and(|o| !o.is_empty())
        .then_some(actor)
}

/// The audited requests behind the alert: one evidence per audit ID, with the request's verb and
/// the client's addresses (`api.request.uid` is the audit ID a SOC pulls the raw event by).
fn evidences(alert: &Alert) -> Vec<Value> {
    let entities = &alert.entities;
    alert
        .audit_ids
        .iter()
        .map(|id| {
            let mut api = json!({ "request": { "uid": id } });
            if let Some(verb) = &entities.verb {
                api["operation"] = json!(verb);
            }
            let mut evidence = json!({ "api": api });
            if let Some(ip) = entities.source_ips.first() {
                evidence["src_endpoint"] = json!({ "ip": ip });
            }
            evidence
        })
        .collect()
}

/// Pivot values a SOC searches by: source IPs (type 2) and the user (type 4).
fn observables(alert: &Alert) -> Vec<Value> {
    let mut observables: Vec<Value> = alert
        .entities
        .source_ips
        .iter()
        .map(|ip| json!({ "name": "evidences.src_endpoint.ip", "type_id": 2, "type": "IP Address", "value": ip }))
        .collect();
    if let Some(user) = &alert.entities.user {
        observables.push(
            json!({ "name": "actor.user.name", "type_id": 4, "type": "User Name", "value": user }),
        );
    }
    observables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_finding_core_fields() {
        let alert = crate::format::sample::alert();
        let doc: Value = serde_json::from_str(&render(&alert)).unwrap();
        assert_eq!(doc["class_uid"], 2004);
        assert_eq!(doc["category_uid"], 2);
        assert_eq!(doc["type_uid"], 200401);
        assert_eq!(doc["severity_id"], 4);
        assert_eq!(doc["time"], 1_777_629_600_123i64);
        assert_eq!(doc["finding_info"]["types"][0], "K8S_ExecIntoContainer");
        assert_eq!(doc["attacks"][0]["tactic"]["uid"], "TA0002");
        assert_eq!(doc["attacks"][0]["technique"]["uid"], "T1609");
        assert_eq!(doc["actor"]["user"]["name"], "alice");
        assert_eq!(doc["resources"][0]["type"], "pods/exec");
        assert_eq!(doc["metadata"]["product"]["name"], "Palisade");
    }

    #[test]
    fn sub_techniques_and_unknown_tactics() {
        let mut alert = crate::format::sample::alert();
        alert.mitre.tactics = vec!["CredentialAccess".into(), "Mystery".into()];
        alert.mitre.techniques = vec!["T1552.007".into()];
        alert.time = "yesterday".into();
        let doc: Value = serde_json::from_str(&render(&alert)).unwrap();
        let attacks = doc["attacks"].as_array().unwrap();
        assert_eq!(attacks.len(), 2);
        assert_eq!(attacks[0]["technique"]["uid"], "T1552");
        assert_eq!(attacks[0]["sub_technique"]["uid"], "T1552.007");
        assert_eq!(attacks[0]["tactic"]["name"], "Credential Access");
        assert_eq!(attacks[1]["tactic"], json!({ "name": "Mystery" }));
        assert!(doc.get("time").is_none());
        assert_eq!(doc["unmapped"]["time"], "yesterday");
    }
}
