//! SARIF 2.1.0, shaped for GitHub code scanning: every check that ran is a rule with a
//! `security-severity`, every finding a result with a stable partial fingerprint, suppressed
//! findings carry `suppressions`, and unreadable inputs are tool execution notifications.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

use palisade_core::{Check, Finding, Severity, SuppressionSource};
use serde::Serialize;

use crate::text::pascal_case;
use crate::{
    Report, checks_that_ran, not_assessed_label, ordered_errors, ordered_findings,
    ordered_not_assessed, resource_label,
};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/palisade-dev/palisade";
/// The key of the partial fingerprint; the suffix is bumped if `Finding::fingerprint` ever changes
/// what it hashes, so code scanning does not match old alerts against a different identity.
const FINGERPRINT_KEY: &str = "palisade/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation; 1],
    /// Columns come from the YAML reader, which counts characters, not UTF-16 code units.
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct RunProperties<'a> {
    target: &'a str,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text<'a>,
    full_description: Text<'a>,
    help: Help<'a>,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text<'a> {
    text: std::borrow::Cow<'a, str>,
}

impl<'a> Text<'a> {
    fn borrowed(text: &'a str) -> Text<'a> {
        Text { text: text.into() }
    }
    fn owned(text: String) -> Text<'a> {
        Text { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help<'a> {
    text: &'a str,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    /// Posture checks read declared configuration, so a result is never a statistical guess.
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text<'a>,
    locations: [Location; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: Severity,
    category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    justification: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text<'static>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    descriptor: DescriptorReference,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: &'static str,
}

pub(crate) fn render(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    let findings = ordered_findings(report);
    let checks = checks_that_ran(report);
    let rule_index: BTreeMap<&str, usize> = checks
        .iter()
        .enumerate()
        .map(|(i, check)| (check.id.as_str(), i))
        .collect();
    // The configuration may override a check's severity; every finding of that check then
    // carries the override, and code scanning takes a result's severity from its rule, so the
    // rule must carry it too.
    let mut effective: BTreeMap<&str, Severity> = BTreeMap::new();
    for finding in &findings {
        let slot = effective
            .entry(finding.check.id.as_str())
            .or_insert(finding.severity);
        *slot = (*slot).max(finding.severity);
    }
    let rules = checks
        .iter()
        .map(|check| {
            let severity = effective
                .get(check.id.as_str())
                .copied()
                .unwrap_or(check.severity);
            rule(check, severity)
        })
        .collect();
    let results = findings
        .iter()
        .filter_map(|finding| {
            // checks_that_ran includes every finding's check, so the lookup cannot miss; skipping
            // rather than panicking keeps that an invariant, not a crash.
            let index = *rule_index.get(finding.check.id.as_str())?;
            Some(result(finding, index))
        })
        .collect();
    let mut notifications: Vec<Notification> = ordered_errors(report)
        .into_iter()
        .map(|error| Notification {
            level: "error",
            message: Text::owned(error.message.clone()),
            locations: vec![Location {
                physical_location: Some(physical_location(&error.file, error.line, error.column)),
                logical_locations: Vec::new(),
            }],
            descriptor: DescriptorReference {
                id: "palisade/unreadable-input",
            },
        })
        .collect();
    notifications.extend(
        ordered_not_assessed(report)
            .into_iter()
            .map(|kind| Notification {
                level: "warning",
                message: Text::owned(format!(
                    "{} was not assessed: {}",
                    not_assessed_label(kind),
                    kind.reason
                )),
                locations: Vec::new(),
                descriptor: DescriptorReference {
                    id: "palisade/not-assessed",
                },
            }),
    );
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "palisade",
                    version: report.tool_version,
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            invocations: [Invocation {
                execution_successful: report.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            column_kind: "unicodeCodePoints",
            results,
            properties: RunProperties {
                target: report.target,
            },
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

fn rule(check: &Check, severity: Severity) -> Rule<'_> {
    Rule {
        id: &check.id,
        name: pascal_case(&check.id),
        short_description: Text::borrowed(&check.title),
        full_description: Text::borrowed(&check.description),
        help: Help {
            text: &check.remediation,
            markdown: remediation_markdown(&check.remediation),
        },
        default_configuration: Configuration {
            level: level(severity),
        },
        properties: RuleProperties {
            tags: tags(check),
            precision: "very-high",
            security_severity: security_severity(severity),
        },
    }
}

/// `security` makes code scanning treat the rule as a security rule (and honour
/// `security-severity`); the rest lets people filter by category and framework control.
fn tags(check: &Check) -> Vec<String> {
    let f = &check.frameworks;
    let mut tags = vec!["security".to_string(), check.category.as_str().to_string()];
    tags.extend(f.pss.iter().map(|id| format!("pss/{id}")));
    tags.extend(f.cis.iter().map(|id| format!("cis/{id}")));
    tags.extend(f.nsa.iter().map(|id| format!("nsa/{id}")));
    tags.extend(f.mitre.iter().map(|id| format!("mitre/{id}")));
    // `MS-TA9018: Privileged container` → `microsoft/MS-TA9018`: the ID is what people search for.
    tags.extend(f.microsoft.iter().map(|entry| {
        let id = entry.split_once(':').map_or(entry.as_str(), |(id, _)| id);
        format!("microsoft/{}", id.trim())
    }));
    // The schema requires unique tags; keep the first occurrence so the order stays meaningful.
    let mut seen = std::collections::BTreeSet::new();
    tags.retain(|tag| seen.insert(tag.clone()));
    tags
}

/// The numbers GitHub maps back to its own bands (critical ≥ 9.0, high ≥ 7.0, medium ≥ 4.0,
/// low > 0.0), chosen inside each band so they land where the name says.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn result<'a>(finding: &'a Finding, rule_index: usize) -> SarifResult<'a> {
    let resource = &finding.resource;
    let mut message = format!("{} ({}", finding.message, resource_label(resource));
    if let Some(cluster) = &finding.cluster {
        let _ = write!(message, " in cluster {cluster}");
    }
    message.push(')');
    let logical = LogicalLocation {
        fully_qualified_name: resource.to_string(),
        kind: "resource",
    };
    // Objects read from a live cluster have no file: the logical location is all there is.
    let physical = finding
        .evidence
        .file
        .as_deref()
        .map(|file| physical_location(file, finding.evidence.line, finding.evidence.column));
    let suppressions = finding
        .suppressed
        .iter()
        .map(|s| Suppression {
            kind: match s.source {
                SuppressionSource::Annotation => "inSource",
                SuppressionSource::Config => "external",
            },
            justification: &s.reason,
        })
        .collect();
    SarifResult {
        rule_id: &finding.check.id,
        rule_index,
        level: level(finding.severity),
        message: Text::owned(message),
        locations: [Location {
            physical_location: physical,
            logical_locations: vec![logical],
        }],
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, finding.fingerprint())]),
        suppressions,
        properties: ResultProperties {
            severity: finding.severity,
            category: finding.check.category.as_str(),
            container: finding.container.as_deref(),
            cluster: finding.cluster.as_deref(),
        },
    }
}

fn physical_location(file: &str, line: Option<u32>, column: Option<u32>) -> PhysicalLocation {
    // SARIF positions are 1-based; 0 would make the document invalid, so it means "unknown" here.
    let region = line.filter(|l| *l >= 1).map(|start_line| Region {
        start_line,
        start_column: column.filter(|c| *c >= 1),
    });
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: file_uri(file),
        },
        region,
    }
}

/// The file as the user named it, as a URI reference: relative paths stay relative (code scanning
/// resolves them against the repository root), absolute paths become `file://` URIs, and
/// everything outside the unreserved set is percent-encoded (`:` too, so a relative path such as
/// `a:b.yaml` is not read as a URI scheme).
fn file_uri(path: &str) -> String {
    let mut uri = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        uri.push_str("file://");
    }
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    uri
}

/// The remediation as Markdown. Authors write prose with `code` spans, sometimes followed by a
/// YAML snippet; Markdown would reflow such a snippet into one line, so it is fenced.
fn remediation_markdown(remediation: &str) -> String {
    if remediation.contains("```") {
        return remediation.to_string();
    }
    let mut out = String::with_capacity(remediation.len() + 16);
    for (i, paragraph) in remediation.split("\n\n").enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        let lines: Vec<&str> = paragraph.lines().collect();
        match snippet_start(&lines) {
            Some(start) => {
                for line in &lines[..start] {
                    out.push_str(line);
                    out.push('\n');
                }
                if start > 0 {
                    out.push('\n');
                }
                out.push_str("```yaml\n");
                for line in &lines[start..] {
                    out.push_str(line);
                    out.push('\n');
                }
                out.push_str("```");
            }
            None => out.push_str(paragraph),
        }
    }
    out
}

/// Where a trailing YAML snippet starts in a paragraph: the earliest line from which every line
/// looks like YAML, provided the snippet is nested (an indented line) so a one-line prose sentence
/// such as `Note: …` is not taken for YAML.
fn snippet_start(lines: &[&str]) -> Option<usize> {
    let mut start = lines.len();
    while start > 0 && lines.get(start - 1).is_some_and(|l| looks_like_yaml(l)) {
        start -= 1;
    }
    let nested = lines
        .get(start..)
        .is_some_and(|rest| rest.iter().any(|l| l.starts_with([' ', '\t'])));
    (start < lines.len() && nested).then_some(start)
}

fn looks_like_yaml(line: &str) -> bool {
    if line.starts_with([' ', '\t']) || line.starts_with("- ") || line == "-" {
        return !line.trim().is_empty();
    }
    match line.split_once(':') {
        Some((key, rest)) => {
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '"'))
                && (rest.is_empty() || rest.starts_with(' '))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_file_uris() {
        assert_eq!(file_uri("manifests/shop.yaml"), "manifests/shop.yaml");
        assert_eq!(file_uri("my dir/a:b#1.yaml"), "my%20dir/a%3Ab%231.yaml");
        assert_eq!(file_uri("/abs/é.yaml"), "file:///abs/%C3%A9.yaml");
    }

    #[test]
    fn fences_trailing_yaml_snippets_only() {
        let prose = "Set `privileged: false` on the container.";
        assert_eq!(remediation_markdown(prose), prose);
        let note = "Note: this is prose.";
        assert_eq!(remediation_markdown(note), note);
        let with_snippet = "Drop the flag:\nsecurityContext:\n  privileged: false";
        assert_eq!(
            remediation_markdown(with_snippet),
            "Drop the flag:\n\n```yaml\nsecurityContext:\n  privileged: false\n```"
        );
        let two = "First.\n\nspec:\n  hostPID: false";
        assert_eq!(
            remediation_markdown(two),
            "First.\n\n```yaml\nspec:\n  hostPID: false\n```"
        );
    }

    #[test]
    fn maps_severities_into_code_scanning_bands() {
        let bands: Vec<f64> = Severity::ALL_DESCENDING
            .iter()
            .filter_map(|s| security_severity(*s).parse().ok())
            .collect();
        assert_eq!(bands, vec![9.5, 8.0, 5.5, 3.0, 0.0]);
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Info), "note");
    }
}
