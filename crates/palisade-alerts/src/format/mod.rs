//! Wire formats: how one [`Alert`] is written for each consumer (docs/alerts.md has the details
//! and a sample of each). Pure functions: sinks decide where the bytes go.

use palisade_core::{Alert, AlertSeverity};
use serde::Serialize;

pub mod falco;
pub mod json;
pub mod ocsf;
pub mod syslog;

/// A JSON document format for file and webhook sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonFormat {
    /// The alert as Palisade serializes it.
    Palisade,
    /// What `falco -o json_output=true` prints, so Falcosidekick and Falco tooling accept it.
    Falco,
    /// OCSF Detection Finding (class 2004).
    Ocsf,
}

impl JsonFormat {
    pub fn name(self) -> &'static str {
        match self {
            JsonFormat::Palisade => "json",
            JsonFormat::Falco => "falco",
            JsonFormat::Ocsf => "ocsf",
        }
    }

    /// One JSON document, without a trailing newline.
    pub fn render(self, alert: &Alert) -> String {
        match self {
            JsonFormat::Palisade => json::render(alert),
            JsonFormat::Falco => falco::render(alert),
            JsonFormat::Ocsf => ocsf::render(alert),
        }
    }
}

/// Serializes a value that cannot fail to serialize (plain structs, string-keyed maps). Should
/// serde_json ever refuse, the alert still leaves as a minimal document naming the problem rather
/// than vanishing.
pub(crate) fn to_json<T: Serialize>(value: &T, alert: &Alert) -> String {
    match serde_json::to_string(value) {
        Ok(text) => text,
        Err(error) => serde_json::json!({
            "rule": alert.rule,
            "alert_type": alert.alert_type,
            "output": alert.output,
            "error": format!("serialization failed: {error}"),
        })
        .to_string(),
    }
}

/// The Falco priority matching a severity, for alerts whose own priority is not one Falco knows.
pub(crate) fn priority_for(severity: AlertSeverity) -> &'static str {
    match severity {
        AlertSeverity::Critical => "Critical",
        AlertSeverity::High => "Error",
        AlertSeverity::Medium => "Warning",
        AlertSeverity::Low => "Notice",
        AlertSeverity::Informational => "Informational",
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use std::collections::BTreeMap;

    use palisade_core::{Alert, AlertSeverity, Entities, Mitre};

    /// The sample alert of docs/alerts.md.
    pub fn alert() -> Alert {
        Alert {
            rule: "Attach/Exec Pod".to_string(),
            alert_type: "K8S_ExecIntoContainer".to_string(),
            severity: AlertSeverity::High,
            priority: "NOTICE".to_string(),
            output: "Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)"
                .to_string(),
            mitre: Mitre {
                tactics: vec!["Execution".to_string()],
                techniques: vec!["T1609".to_string()],
                threat_matrix: Some("MS-TA9006".to_string()),
            },
            entities: Entities {
                user: Some("alice".to_string()),
                groups: vec!["system:authenticated".to_string()],
                source_ips: vec!["10.0.0.7".to_string()],
                verb: Some("create".to_string()),
                resource: Some("pods/exec".to_string()),
                namespace: Some("shop".to_string()),
                name: Some("web-0".to_string()),
                ..Entities::default()
            },
            audit_ids: vec!["5b1c1e9e-0d7a-4c0e-9a51-2f0c6c1d8e11".to_string()],
            time: "2026-05-01T10:00:00.123456789Z".to_string(),
            count: 1,
            description: String::new(),
            remediation: String::new(),
            tags: vec!["k8s".to_string(), "mitre_execution".to_string()],
            output_fields: BTreeMap::from([
                ("ka.target.name".to_string(), "web-0".to_string()),
                ("ka.user.name".to_string(), "alice".to_string()),
            ]),
            source: "k8s_audit".to_string(),
            hostname: "shop-cluster".to_string(),
        }
    }
}
