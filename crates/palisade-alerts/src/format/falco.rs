//! Falco's JSON alert (`json_output: true`, with `json_include_output_property` and
//! `json_include_tags_property` at their defaults): the document Falcosidekick's `/` endpoint
//! decodes into its `FalcoPayload` (`output`, `priority`, `rule`, `time`, `output_fields`,
//! `source`, `tags`, `hostname`). Falco writes keys in alphabetical order; so do we, so a line is
//! byte-comparable with Falco's own.

use std::collections::BTreeMap;

use palisade_core::Alert;
use serde::Serialize;

use crate::time::parse_rfc3339;

#[derive(Serialize)]
struct FalcoEvent<'a> {
    hostname: &'a str,
    output: &'a str,
    output_fields: &'a BTreeMap<String, String>,
    priority: &'static str,
    rule: &'a str,
    source: &'a str,
    tags: &'a [String],
    time: String,
}

pub fn render(alert: &Alert) -> String {
    let event = FalcoEvent {
        hostname: &alert.hostname,
        output: &alert.output,
        output_fields: &alert.output_fields,
        priority: priority(alert),
        rule: &alert.rule,
        source: &alert.source,
        tags: &alert.tags,
        // Falco prints nanoseconds in UTC; an unparsable time passes through as written since
        // Falcosidekick reports a bad time rather than dropping the event.
        time: parse_rfc3339(&alert.time)
            .map(|t| t.to_rfc3339_nanos())
            .unwrap_or_else(|| alert.time.clone()),
    };
    super::to_json(&event, alert)
}

/// Falco's capitalized spelling of the rule's priority (rule files accept any case; Falco and
/// Falcosidekick print and parse `Warning`, `Informational`...).
fn priority(alert: &Alert) -> &'static str {
    match alert.priority.trim().to_ascii_lowercase().as_str() {
        "emergency" => "Emergency",
        "alert" => "Alert",
        "critical" => "Critical",
        "error" => "Error",
        "warning" => "Warning",
        "notice" => "Notice",
        "informational" | "info" => "Informational",
        "debug" => "Debug",
        _ => super::priority_for(alert.severity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falco_shape() {
        let alert = crate::format::sample::alert();
        assert_eq!(
            render(&alert),
            r#"{"hostname":"shop-cluster","output":"Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)","output_fields":{"ka.target.name":"web-0","ka.user.name":"alice"},"priority":"Notice","rule":"Attach/Exec Pod","source":"k8s_audit","tags":["k8s","mitre_execution"],"time":"2026-05-01T10:00:00.123456789Z"}"#
        );
    }

    #[test]
    fn unknown_priority_falls_back_to_severity() {
        let mut alert = crate::format::sample::alert();
        alert.priority = "loud".to_string();
        assert!(render(&alert).contains(r#""priority":"Error""#));
    }
}
