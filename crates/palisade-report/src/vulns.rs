//! Vulnerability reports of an image ([`ImageScan`]): a table for people, Palisade JSON
//! (docs/vulnerabilities.md), SARIF 2.1.0 for code scanning, and the `vulnerabilities` array of a
//! CycloneDX document. Byte-stable: the same scan gives the same bytes.

use std::io::{self, Write};

use palisade_vulndb::matching::{FixState, Severity, Vulnerability};
use palisade_vulndb::scan::ImageScan;
use serde_json::{Value, json};

const INFORMATION_URI: &str = "https://github.com/palisade-dev/palisade";

/// Palisade JSON: the scan as documented.
pub fn write_json(scan: &ImageScan, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, scan)?;
    writeln!(out)
}

/// Image control characters never reach a terminal.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn fix_label(v: &Vulnerability) -> String {
    match v.fix_state {
        FixState::Fixed => v.fixed_versions.first().cloned().unwrap_or_default(),
        FixState::NotFixed => "(not fixed)".to_string(),
        FixState::WontFix => "(won't fix)".to_string(),
        FixState::Unknown => "(unknown)".to_string(),
    }
}

/// A table: one line per finding, most severe first, suppressed ones after a separator.
pub fn write_table(scan: &ImageScan, out: &mut dyn Write, terminal: bool) -> io::Result<()> {
    let color = terminal && std::env::var_os("NO_COLOR").is_none();
    let mut heading = clean(&scan.image.reference);
    if let Some(digest) = &scan.image.digest {
        heading.push_str(&format!(" ({digest})"));
    }
    if let Some(os) = &scan.os {
        heading.push_str(&format!(
            "  {}",
            clean(
                os.name
                    .as_deref()
                    .unwrap_or(&format!("{} {}", os.id, os.version))
            )
        ));
        if let Some(eol) = &os.end_of_life {
            heading.push_str(&format!(" (end of life {eol})"));
        }
    }
    writeln!(out, "{heading}")?;
    let s = &scan.summary;
    let total = s.critical + s.high + s.medium + s.low + s.unknown;
    writeln!(
        out,
        "{total} vulnerabilities (critical {}, high {}, medium {}, low {}, unknown {}), {} suppressed, {} packages",
        s.critical, s.high, s.medium, s.low, s.unknown, s.suppressed, scan.image.packages
    )?;
    let rows: Vec<[String; 7]> = scan
        .vulnerabilities
        .iter()
        .filter(|v| v.suppressed.is_none())
        .map(|v| {
            [
                v.severity.as_str().to_ascii_uppercase(),
                clean(&v.id),
                clean(&v.package.name),
                clean(&v.package.version),
                clean(&fix_label(v)),
                if v.kev.is_some() { "KEV" } else { "" }.to_string(),
                v.epss
                    .map(|e| format!("{:.2}", e.score))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        writeln!(out)?;
        let headers = [
            "SEVERITY", "ID", "PACKAGE", "VERSION", "FIXED IN", "KEV", "EPSS",
        ];
        let mut widths = headers.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count()).min(48);
            }
        }
        let line = |cells: [&str; 7]| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
            text.trim_end().to_string()
        };
        if color {
            writeln!(out, "\x1b[1m{}\x1b[0m", line(headers))?;
        } else {
            writeln!(out, "{}", line(headers))?;
        }
        for row in &rows {
            let text = line([
                &row[0], &row[1], &row[2], &row[3], &row[4], &row[5], &row[6],
            ]);
            let paint = match row[0].as_str() {
                "CRITICAL" => "\x1b[1;31m",
                "HIGH" => "\x1b[31m",
                "MEDIUM" => "\x1b[33m",
                _ => "",
            };
            if color && !paint.is_empty() {
                writeln!(out, "{paint}{text}\x1b[0m")?;
            } else {
                writeln!(out, "{text}")?;
            }
        }
    }
    let suppressed: Vec<&Vulnerability> = scan
        .vulnerabilities
        .iter()
        .filter(|v| v.suppressed.is_some())
        .collect();
    if !suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "suppressed:")?;
        for v in suppressed {
            let reason = v
                .suppressed
                .as_ref()
                .map(|s| format!("{}: {}", s.by, s.reason))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} {} {}  ({})",
                clean(&v.id),
                clean(&v.package.name),
                clean(&v.package.version),
                clean(&reason)
            )?;
        }
    }
    for ecosystem in &scan.unassessed_ecosystems {
        writeln!(out)?;
        writeln!(
            out,
            "warning: no advisories for {} in the database: those packages were not assessed (`palisade db update --ecosystem {}`)",
            clean(ecosystem),
            clean(ecosystem.split(':').next().unwrap_or(ecosystem))
        )?;
    }
    if let Some(hint) = &scan.rebuild_base_hint {
        writeln!(out)?;
        writeln!(out, "hint: {hint}")?;
    }
    for note in &scan.notes {
        writeln!(
            out,
            "note: {} {}: {}",
            clean(&note.package),
            clean(&note.version),
            clean(&note.message)
        )?;
    }
    Ok(())
}

/// GitHub's `security-severity`: the CVSS score when known, else the middle of the severity's
/// band.
fn security_severity(v: &Vulnerability) -> String {
    match &v.cvss {
        Some(cvss) => format!("{:.1}", cvss.score),
        None => match v.severity {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "2.0",
            Severity::Unknown => "0.0",
        }
        .to_string(),
    }
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// A stable identity for code scanning: the flaw, the package and where it lies.
fn fingerprint(v: &Vulnerability) -> String {
    let key = format!("{}\0{}\0{}", v.id, v.package.purl, v.package.location);
    format!("{:016x}", palisade_core::fnv1a(key.as_bytes()))
}

/// SARIF 2.1.0: a rule per vulnerability ID, a result per finding located at the file that
/// declares the package inside the image.
pub fn write_sarif(scan: &ImageScan, out: &mut dyn Write) -> io::Result<()> {
    let mut rule_ids: Vec<&str> = Vec::new();
    let mut rules = Vec::new();
    for v in &scan.vulnerabilities {
        if rule_ids.contains(&v.id.as_str()) {
            continue;
        }
        rule_ids.push(&v.id);
        let mut help = format!("{}\n\nRemediation: {}", v.summary, v.remediation);
        if let Some(url) = &v.url {
            help.push_str(&format!("\n\n{url}"));
        }
        let mut rule = json!({
            "id": v.id,
            "name": v.id.replace(['-', ':'], ""),
            "shortDescription": {"text": if v.summary.is_empty() { v.id.clone() } else { v.summary.clone() }},
            "fullDescription": {"text": if v.summary.is_empty() { v.id.clone() } else { v.summary.clone() }},
            "help": {"text": help},
            "defaultConfiguration": {"level": sarif_level(v.severity)},
            "properties": {
                "security-severity": security_severity(v),
                "tags": ["security", "vulnerability", v.severity.as_str()],
            },
        });
        if let Some(url) = &v.url {
            rule["helpUri"] = json!(url);
        }
        rules.push(rule);
    }
    let results: Vec<Value> = scan
        .vulnerabilities
        .iter()
        .map(|v| {
            let index = rule_ids.iter().position(|r| *r == v.id).unwrap_or(0);
            let mut result = json!({
                "ruleId": v.id,
                "ruleIndex": index,
                "level": sarif_level(v.severity),
                "message": {"text": format!(
                    "{} {} {} is affected by {} ({}): {}",
                    v.package.ecosystem, v.package.name, v.package.version, v.id, v.severity.as_str(), v.remediation
                )},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": v.package.location.trim_start_matches('/')},
                    },
                    "logicalLocations": [{"name": v.package.purl, "kind": "package"}],
                }],
                "partialFingerprints": {"palisadeVulnerability/v1": fingerprint(v)},
            });
            if let Some(s) = &v.suppressed {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "justification": format!("{}: {}", s.by, s.reason),
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "Palisade",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "results": results,
            "properties": {"target": scan.image.reference, "digest": scan.image.digest},
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// Adds a CycloneDX 1.6 `vulnerabilities` array to `bom` (a CycloneDX document of the same
/// image), each entry pointing at the affected component by its bom-ref (found by purl).
pub fn add_cyclonedx_vulnerabilities(bom: &mut Value, scan: &ImageScan) {
    let mut refs: Vec<(String, String)> = Vec::new();
    if let Some(components) = bom["components"].as_array() {
        for component in components {
            if let (Some(purl), Some(bom_ref)) =
                (component["purl"].as_str(), component["bom-ref"].as_str())
            {
                refs.push((purl.to_string(), bom_ref.to_string()));
            }
        }
    }
    let entries: Vec<Value> = scan
        .vulnerabilities
        .iter()
        .map(|v| {
            let bom_ref = refs
                .iter()
                .find(|(purl, _)| *purl == v.package.purl)
                .map_or(v.package.purl.clone(), |(_, r)| r.clone());
            let mut rating = json!({"severity": v.severity.as_str()});
            if let Some(cvss) = &v.cvss {
                rating["score"] = json!(cvss.score);
                rating["vector"] = json!(cvss.vector);
                rating["method"] = json!(match cvss.version.as_str() {
                    "4.0" => "CVSSv4",
                    "3.1" => "CVSSv31",
                    "3.0" => "CVSSv3",
                    _ => "CVSSv2",
                });
            }
            let mut entry = json!({
                "bom-ref": format!("{}#{}", v.id, bom_ref),
                "id": v.id,
                "ratings": [rating],
                "description": v.summary,
                "recommendation": v.remediation,
                "affects": [{"ref": bom_ref}],
                "references": v.aliases.iter().map(|a| json!({"id": a, "source": {"name": source_of(a)}})).collect::<Vec<_>>(),
            });
            if let Some(url) = &v.url {
                entry["source"] = json!({"name": source_of(&v.id), "url": url});
            }
            if let Some(s) = &v.suppressed {
                entry["analysis"] = json!({"state": "not_affected", "detail": format!("{}: {}", s.by, s.reason)});
            }
            entry
        })
        .collect();
    bom["vulnerabilities"] = Value::Array(entries);
}

/// The database an advisory ID belongs to, by its prefix.
fn source_of(id: &str) -> &'static str {
    let prefix = id.split(['-', ':']).next().unwrap_or_default();
    match prefix {
        "CVE" => "NVD",
        "GHSA" => "GitHub Advisory Database",
        "GO" => "Go Vulnerability Database",
        "PYSEC" => "PyPA Advisory Database",
        "RUSTSEC" => "RustSec",
        "ALSA" | "ALBA" | "ALEA" => "AlmaLinux",
        "RLSA" => "Rocky Linux",
        "DSA" | "DLA" | "DTSA" | "DEBIAN" => "Debian",
        "USN" | "UBUNTU" => "Ubuntu",
        "ALPINE" => "Alpine",
        _ => "OSV",
    }
}
