//! The JSON report (format documented in `docs/json-report.md`). Its shape is a public contract:
//! add fields, never rename or remove them without bumping `version`.

use std::io;

use palisade_core::{Finding, NotAssessed, SourceError};
use serde::Serialize;

use crate::{Report, Summary, ordered_errors, ordered_findings, ordered_not_assessed};

/// Bumped only when a field changes meaning or disappears.
const FORMAT_VERSION: u32 = 1;

/// Field order here is the order in the output (serde writes struct fields as declared).
#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool: Tool<'a>,
    target: &'a str,
    summary: Summary,
    findings: Vec<&'a Finding>,
    not_assessed: Vec<&'a NotAssessed>,
    errors: Vec<&'a SourceError>,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

pub(crate) fn render(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    let document = JsonReport {
        version: FORMAT_VERSION,
        tool: Tool {
            name: "palisade",
            version: report.tool_version,
        },
        target: report.target,
        summary: Summary::of(report),
        findings: ordered_findings(report),
        not_assessed: ordered_not_assessed(report),
        errors: ordered_errors(report),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
}
