//! `palisade checks list|explain`: the catalogue, for people and for scripts.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use palisade_core::Check;
use palisade_posture::Catalogue;

pub fn list(format: &str) -> Result<ExitCode> {
    let catalogue = Catalogue::builtin();
    let mut out = io::stdout().lock();
    if format == "json" {
        let checks: Vec<&Check> = catalogue.iter().map(|c| c.as_ref()).collect();
        serde_json::to_writer_pretty(&mut out, &checks)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let id_width = catalogue
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let _ = writeln!(
        out,
        "{:<id_width$}  {:<8}  {:<13}  TITLE",
        "ID", "SEVERITY", "CATEGORY"
    );
    for check in catalogue.iter() {
        let _ = writeln!(
            out,
            "{:<id_width$}  {:<8}  {:<13}  {}",
            check.id,
            check.severity.as_str(),
            check.category.as_str(),
            check.title
        );
    }
    let _ = writeln!(
        out,
        "\n{} checks. `palisade checks explain ID` shows the rationale and the fix.",
        catalogue.len()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn explain(id: &str, format: &str) -> Result<ExitCode> {
    let catalogue = Catalogue::builtin();
    let check = catalogue.lookup(id)?;
    let mut out = io::stdout().lock();
    if format == "json" {
        serde_json::to_writer_pretty(&mut out, check.as_ref())?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let bold = |s: &str| {
        if io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let _ = writeln!(out, "{}  {}", bold(&check.id), check.title);
    let _ = writeln!(
        out,
        "severity: {}   category: {}\n",
        check.severity.as_str(),
        check.category.as_str()
    );
    let _ = writeln!(out, "{}\n{}\n", bold("Why it matters"), check.description);
    let _ = writeln!(out, "{}\n{}\n", bold("How to fix"), check.remediation);
    let f = &check.frameworks;
    let rows = [
        ("Pod Security Standards", &f.pss),
        ("CIS Kubernetes Benchmark", &f.cis),
        ("NSA-CISA Hardening Guide", &f.nsa),
        ("MITRE ATT&CK", &f.mitre),
        ("Microsoft Threat Matrix", &f.microsoft),
    ];
    if rows.iter().any(|(_, v)| !v.is_empty()) {
        let _ = writeln!(out, "{}", bold("Frameworks"));
        for (name, values) in rows {
            if !values.is_empty() {
                let _ = writeln!(out, "  {name:<26} {}", values.join(", "));
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "Suppress on one resource with the annotations\n  palisade.dev/ignore: \"{}\"\n  palisade.dev/ignore-reason: \"why it does not apply\"",
        check.id
    );
    Ok(ExitCode::SUCCESS)
}
