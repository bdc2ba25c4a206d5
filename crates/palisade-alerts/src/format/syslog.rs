//! Syslog messages: RFC 5424 with Palisade's structured data, or ArcSight CEF carried in an
//! RFC 5424 envelope (what SIEM syslog collectors expect of CEF senders).

use palisade_core::{Alert, AlertSeverity};

use crate::time::parse_rfc3339;

/// Structured-data ID: RFC 5424 reserves unqualified names for IANA, so ours carries an enterprise
/// number. 32473 is the number RFC 5612 sets aside for documentation and examples; Palisade has no
/// registered one, and collectors match on the name before the `@`.
pub const SD_ID: &str = "palisade@32473";
const APP_NAME: &str = "palisade";

/// What goes in MSG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogFormat {
    /// RFC 5424 with `[palisade@32473 …]` structured data and the alert's output as MSG.
    Rfc5424,
    /// The same envelope with a CEF record as MSG (no structured data).
    Cef,
}

impl SyslogFormat {
    pub fn name(self) -> &'static str {
        match self {
            SyslogFormat::Rfc5424 => "rfc5424",
            SyslogFormat::Cef => "cef",
        }
    }

    pub fn render(self, alert: &Alert, facility: Facility) -> String {
        match self {
            SyslogFormat::Rfc5424 => rfc5424(alert, facility),
            SyslogFormat::Cef => cef_in_syslog(alert, facility),
        }
    }
}

/// Syslog facility (RFC 5424 §6.2.1), by its conventional name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(pub u8);

impl Facility {
    /// `local0`, the usual choice for an application feeding a SIEM.
    pub const DEFAULT: Facility = Facility(16);

    pub fn parse(name: &str) -> Option<Facility> {
        let code = match name {
            "kern" => 0,
            "user" => 1,
            "mail" => 2,
            "daemon" => 3,
            "auth" => 4,
            "syslog" => 5,
            "lpr" => 6,
            "news" => 7,
            "uucp" => 8,
            "cron" => 9,
            "authpriv" => 10,
            "ftp" => 11,
            "ntp" => 12,
            "audit" => 13,
            "alert" => 14,
            "clock" => 15,
            "local0" => 16,
            "local1" => 17,
            "local2" => 18,
            "local3" => 19,
            "local4" => 20,
            "local5" => 21,
            "local6" => 22,
            "local7" => 23,
            _ => return None,
        };
        Some(Facility(code))
    }
}

/// Syslog severity (RFC 5424 §6.2.1) for an alert: critical is 2 (Critical), high 3 (Error),
/// medium 4 (Warning), low 5 (Notice), informational 6.
pub fn syslog_severity(severity: AlertSeverity) -> u8 {
    match severity {
        AlertSeverity::Critical => 2,
        AlertSeverity::High => 3,
        AlertSeverity::Medium => 4,
        AlertSeverity::Low => 5,
        AlertSeverity::Informational => 6,
    }
}

/// `<PRI>1 TIMESTAMP HOSTNAME palisade - MSGID [SD] MSG`.
pub fn rfc5424(alert: &Alert, facility: Facility) -> String {
    let mut message = header(alert, facility);
    message.push(' ');
    message.push_str(&structured_data(alert));
    if !alert.output.is_empty() {
        message.push(' ');
        message.push_str(&msg(&alert.output));
    }
    message
}

fn cef_in_syslog(alert: &Alert, facility: Facility) -> String {
    // CEF is ASCII-safe after escaping except for non-ASCII text, which `msg` marks with a BOM.
    format!("{} - {}", header(alert, facility), msg(&cef(alert)))
}

/// Everything up to and excluding STRUCTURED-DATA.
fn header(alert: &Alert, facility: Facility) -> String {
    let pri = u32::from(facility.0.min(23)) * 8 + u32::from(syslog_severity(alert.severity));
    let timestamp = parse_rfc3339(&alert.time)
        .map(|t| t.to_rfc3339_micros())
        .unwrap_or_else(|| "-".to_string());
    format!(
        "<{pri}>1 {timestamp} {} {APP_NAME} - {}",
        header_field(&alert.hostname, 255),
        header_field(&alert.alert_type, 32),
    )
}

/// A header field is 1..=max printable US-ASCII characters without spaces; `-` when empty.
fn header_field(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if cleaned.is_empty() {
        "-".to_string()
    } else {
        cleaned
    }
}

/// MSG: plain when ASCII; with the UTF-8 BOM RFC 5424 §6.4 requires otherwise. Line breaks
/// become spaces because non-transparent-framing receivers split on them.
fn msg(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if flat.is_ascii() {
        flat
    } else {
        format!("\u{feff}{flat}")
    }
}

fn structured_data(alert: &Alert) -> String {
    let e = &alert.entities;
    // MSGID holds at most 32 characters; the full alert type is here.
    let mut params: Vec<(&str, String)> = vec![
        ("alert_type", alert.alert_type.clone()),
        ("rule", alert.rule.clone()),
        ("severity", alert.severity.as_str().to_string()),
        ("priority", alert.priority.clone()),
        ("source", alert.source.clone()),
        ("count", alert.count.to_string()),
    ];
    let mut optional = |name: &'static str, value: &Option<String>| {
        if let Some(value) = value {
            params.push((name, value.clone()));
        }
    };
    optional("user", &e.user);
    optional("impersonatedUser", &e.impersonated_user);
    optional("verb", &e.verb);
    optional("resource", &e.resource);
    optional("namespace", &e.namespace);
    optional("name", &e.name);
    // Repeated parameter names are how RFC 5424 writes a list (§6.3.3).
    for ip in &e.source_ips {
        params.push(("sourceIP", ip.clone()));
    }
    for tactic in &alert.mitre.tactics {
        params.push(("mitreTactic", tactic.clone()));
    }
    for technique in &alert.mitre.techniques {
        params.push(("mitreTechnique", technique.clone()));
    }
    for id in &alert.audit_ids {
        params.push(("auditID", id.clone()));
    }
    let mut sd = format!("[{SD_ID}");
    for (name, value) in params {
        sd.push(' ');
        sd.push_str(name);
        sd.push_str("=\"");
        sd.push_str(&sd_escape(&value));
        sd.push('"');
    }
    sd.push(']');
    sd
}

/// PARAM-VALUE escaping (§6.3.3): `"`, `\` and `]` take a backslash. Control characters would
/// break line-based receivers, so they become spaces.
fn sd_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '"' | '\\' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// CEF severity 0–10.
pub fn cef_severity(severity: AlertSeverity) -> u8 {
    match severity {
        AlertSeverity::Informational => 1,
        AlertSeverity::Low => 3,
        AlertSeverity::Medium => 5,
        AlertSeverity::High => 8,
        AlertSeverity::Critical => 10,
    }
}

/// `CEF:0|Palisade|Palisade|<version>|<alert_type>|<rule>|<severity>|<extension>`.
pub fn cef(alert: &Alert) -> String {
    let e = &alert.entities;
    let mut extension: Vec<(String, String)> = Vec::new();
    let mut field = |key: &str, value: String| extension.push((key.to_string(), value));
    if let Some(t) = parse_rfc3339(&alert.time) {
        field("rt", t.epoch_millis().to_string());
    }
    if !alert.hostname.is_empty() {
        field("dvchost", alert.hostname.clone());
    }
    if let Some(user) = &e.user {
        field("suser", user.clone());
    }
    // `src` holds one IPv4/IPv6 address; a list would be invalid there.
    if let Some(ip) = e.source_ips.first() {
        field("src", ip.clone());
    }
    if let Some(verb) = &e.verb {
        field("act", verb.clone());
    }
    if !alert.mitre.tactics.is_empty() {
        field("cat", alert.mitre.tactics.join(","));
    }
    if let Some(id) = alert.audit_ids.first() {
        field("externalId", id.clone());
    }
    field("cnt", alert.count.to_string());
    // CEF has no keys for these: custom string slots csN with their labels csNLabel.
    let resource = match (&e.resource, &e.name) {
        (Some(resource), Some(name)) => Some(format!("{resource}/{name}")),
        (Some(resource), None) => Some(resource.clone()),
        (None, Some(name)) => Some(name.clone()),
        (None, None) => None,
    };
    let custom = [
        (
            "mitreTechniques",
            (!alert.mitre.techniques.is_empty()).then(|| alert.mitre.techniques.join(",")),
        ),
        ("namespace", e.namespace.clone()),
        ("resource", resource),
        ("source", Some(alert.source.clone())),
    ];
    for (slot, (label, value)) in custom
        .into_iter()
        .filter_map(|(label, value)| Some((label, value?)))
        .enumerate()
    {
        field(&format!("cs{}Label", slot + 1), label.to_string());
        field(&format!("cs{}", slot + 1), value);
    }
    field("msg", alert.output.clone());
    let extension: Vec<String> = extension
        .into_iter()
        .map(|(key, value)| format!("{key}={}", cef_value(&value)))
        .collect();
    format!(
        "CEF:0|Palisade|Palisade|{}|{}|{}|{}|{}",
        cef_header(env!("CARGO_PKG_VERSION")),
        cef_header(&alert.alert_type),
        cef_header(&alert.rule),
        cef_severity(alert.severity),
        extension.join(" ")
    )
}

/// Header fields: `\` and `|` take a backslash; line breaks are not allowed there.
fn cef_header(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Extension values: `\` and `=` take a backslash, line breaks are written `\n`/`\r`.
fn cef_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5424_exact() {
        let alert = crate::format::sample::alert();
        assert_eq!(
            rfc5424(&alert, Facility::DEFAULT),
            "<131>1 2026-05-01T10:00:00.123456Z shop-cluster palisade - K8S_ExecIntoContainer \
             [palisade@32473 alert_type=\"K8S_ExecIntoContainer\" rule=\"Attach/Exec Pod\" severity=\"high\" priority=\"NOTICE\" \
             source=\"k8s_audit\" count=\"1\" user=\"alice\" verb=\"create\" resource=\"pods/exec\" \
             namespace=\"shop\" name=\"web-0\" sourceIP=\"10.0.0.7\" mitreTactic=\"Execution\" \
             mitreTechnique=\"T1609\" auditID=\"5b1c1e9e-0d7a-4c0e-9a51-2f0c6c1d8e11\"] \
             Attach/Exec to pod (user=alice pod=web-0 ns=shop action=exec command=sh)"
        );
    }

    #[test]
    fn rfc5424_escapes_and_nil_values() {
        let mut alert = crate::format::sample::alert();
        alert.rule = "a \"b\" \\c] d".into();
        alert.hostname = String::new();
        alert.time = "not a time".into();
        alert.output = "line1\nline2 é".into();
        let text = rfc5424(&alert, Facility(4));
        assert!(text.starts_with("<35>1 - - palisade - K8S_ExecIntoContainer [palisade@32473 alert_type=\"K8S_ExecIntoContainer\" rule=\"a \\\"b\\\" \\\\c\\] d\""), "{text}");
        assert!(text.ends_with("] \u{feff}line1 line2 é"), "{text}");
    }

    #[test]
    fn cef_exact() {
        let alert = crate::format::sample::alert();
        assert_eq!(
            cef(&alert),
            format!(
                "CEF:0|Palisade|Palisade|{}|K8S_ExecIntoContainer|Attach/Exec Pod|8|rt=1777629600123 \
                 dvchost=shop-cluster suser=alice src=10.0.0.7 act=create cat=Execution \
                 externalId=5b1c1e9e-0d7a-4c0e-9a51-2f0c6c1d8e11 cnt=1 cs1Label=mitreTechniques cs1=T1609 \
                 cs2Label=namespace cs2=shop cs3Label=resource cs3=pods/exec/web-0 cs4Label=source \
                 cs4=k8s_audit msg=Attach/Exec to pod (user\\=alice pod\\=web-0 ns\\=shop action\\=exec command\\=sh)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn cef_escaping() {
        let mut alert = crate::format::sample::alert();
        alert.rule = "pipe|back\\slash\nnl".into();
        alert.output = "a=b\\c\nd|e".into();
        let text = cef(&alert);
        assert!(text.contains("|pipe\\|back\\\\slash nl|8|"), "{text}");
        assert!(text.ends_with("msg=a\\=b\\\\c\\nd|e"), "{text}");
    }
}
