//! Posture reports: findings, what could not be assessed and what could not be read, written as a
//! terminal table, JSON, SARIF 2.1.0 or JUnit XML.
//!
//! This crate owns output formats only. It must not decide what is a finding or how severe (that is
//! `palisade-posture`) and must not read inputs. Machine formats are byte-stable: the same report
//! always produces the same bytes (no timestamps, stable order).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::str::FromStr;

use palisade_core::{Check, Finding, NotAssessed, ResourceRef, Severity, SourceError};
use serde::Serialize;

mod json;
mod junit;
mod sarif;
mod table;
mod text;
pub mod vulns;

/// Everything a report shows.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// `palisade` version, for SARIF's `tool.driver.version`.
    pub tool_version: &'a str,
    /// What was scanned, in words: `manifests in examples/demo-cluster`, `cluster prod-eu`.
    pub target: &'a str,
    /// In report order (most severe first); suppressed findings included.
    pub findings: &'a [Finding],
    /// Kinds that were not assessed, and why.
    pub not_assessed: &'a [NotAssessed],
    /// Inputs (or parts of inputs) that could not be read.
    pub errors: &'a [SourceError],
    /// How many objects of each kind were assessed.
    pub assessed_by_kind: &'a BTreeMap<String, usize>,
    /// Every check that ran (SARIF lists them as rules).
    pub checks: &'a [&'a Check],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Junit,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown format `{0}` (expected table, json, sarif or junit)")]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            "junit" => Ok(Format::Junit),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// How the table looks: colour only on a terminal, wrapped to its width.
#[derive(Debug, Clone, Copy)]
pub struct TableStyle {
    pub colour: bool,
    pub width: usize,
}

impl Default for TableStyle {
    fn default() -> Self {
        TableStyle {
            colour: false,
            width: 100,
        }
    }
}

/// Writes `report` in `format` to `out`.
///
/// JSON and SARIF are streamed to `out` (a report of 100,000 findings would otherwise be held twice);
/// callers that must never leave half a document write to a temporary file and rename it, as the
/// CLI does for `--output`. The table and JUnit are rendered in memory, then written at once.
pub fn write(
    report: &Report<'_>,
    format: Format,
    style: TableStyle,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => out.write_all(table::render(report, style).as_bytes())?,
        Format::Json => json::render(report, out)?,
        Format::Sarif => sarif::render(report, out)?,
        Format::Junit => out.write_all(junit::render(report).as_bytes())?,
    }
    out.flush()
}

/// The counts every format shows. Severity counts cover unsuppressed findings only: a suppressed
/// finding is an accepted risk and must not fail a CI gate or inflate the headline numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
    /// Findings marked suppressed (not counted under any severity).
    pub suppressed: usize,
    /// Every finding, suppressed or not: the five severity counts plus `suppressed`.
    pub total: usize,
    pub objects: ObjectCounts,
    /// How many kinds were not assessed.
    pub not_assessed: usize,
    /// How many inputs (or parts of inputs) could not be read.
    pub errors: usize,
}

/// The objects that were assessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectCounts {
    pub assessed: usize,
    pub by_kind: BTreeMap<String, usize>,
}

impl Summary {
    pub fn of(report: &Report<'_>) -> Summary {
        let mut summary = Summary {
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
            info: 0,
            suppressed: 0,
            total: report.findings.len(),
            objects: ObjectCounts {
                assessed: report
                    .assessed_by_kind
                    .values()
                    .fold(0usize, |sum, n| sum.saturating_add(*n)),
                by_kind: report.assessed_by_kind.clone(),
            },
            not_assessed: report.not_assessed.len(),
            errors: report.errors.len(),
        };
        for finding in report.findings {
            let slot = if finding.is_suppressed() {
                &mut summary.suppressed
            } else {
                match finding.severity {
                    Severity::Critical => &mut summary.critical,
                    Severity::High => &mut summary.high,
                    Severity::Medium => &mut summary.medium,
                    Severity::Low => &mut summary.low,
                    Severity::Info => &mut summary.info,
                }
            };
            *slot += 1;
        }
        summary
    }

    /// Unsuppressed findings of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    /// Unsuppressed findings of every severity.
    pub fn unsuppressed(&self) -> usize {
        self.total.saturating_sub(self.suppressed)
    }
}

/// The findings in report order. The caller promises that order, but sorting again (stably) here
/// makes byte-stability independent of how sessions from several threads were merged.
fn ordered_findings<'a>(report: &Report<'a>) -> Vec<&'a Finding> {
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by(|a, b| Finding::report_order(a, b));
    findings
}

/// Every check that ran, by ID, each once. A finding whose check is missing from `report.checks`
/// still gets its check listed, so SARIF `ruleIndex` and JUnit suites never point at nothing.
fn checks_that_ran<'a>(report: &Report<'a>) -> Vec<&'a Check> {
    let mut checks: Vec<&Check> = report.checks.to_vec();
    checks.extend(report.findings.iter().map(|f| f.check.as_ref()));
    checks.sort_by(|a, b| a.id.cmp(&b.id));
    checks.dedup_by(|a, b| a.id == b.id);
    checks
}

/// Inputs that could not be read, by file and position (loaders may report them in any order).
fn ordered_errors<'a>(report: &Report<'a>) -> Vec<&'a SourceError> {
    let mut errors: Vec<&SourceError> = report.errors.iter().collect();
    errors.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.message).cmp(&(&b.file, b.line, b.column, &b.message))
    });
    errors
}

fn ordered_not_assessed<'a>(report: &Report<'a>) -> Vec<&'a NotAssessed> {
    let mut kinds: Vec<&NotAssessed> = report.not_assessed.iter().collect();
    kinds.sort_by(|a, b| {
        (&a.api_version, &a.kind, &a.namespace, &a.reason).cmp(&(
            &b.api_version,
            &b.kind,
            &b.namespace,
            &b.reason,
        ))
    });
    kinds
}

/// A resource the way people say it: `Deployment shop/cart`, `ClusterRole admin`.
/// Objects without a name (a `KubeletConfiguration` file) are just their kind.
fn resource_label(resource: &ResourceRef) -> String {
    match (&resource.namespace, resource.name.is_empty()) {
        (Some(ns), false) => format!("{} {}/{}", resource.kind, ns, resource.name),
        (None, false) => format!("{} {}", resource.kind, resource.name),
        (_, true) => resource.kind.clone(),
    }
}

/// A kind that was not assessed, in words: `ClusterRole (rbac.authorization.k8s.io/v1)`, with the
/// namespace the attempt was limited to.
fn not_assessed_label(kind: &NotAssessed) -> String {
    match &kind.namespace {
        Some(ns) => format!("{} ({}) in namespace {}", kind.kind, kind.api_version, ns),
        None => format!("{} ({})", kind.kind, kind.api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_formats_case_insensitively() {
        assert_eq!("SARIF".parse::<Format>().ok(), Some(Format::Sarif));
        assert_eq!("junit".parse::<Format>().ok(), Some(Format::Junit));
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("`xml`"));
    }
}
