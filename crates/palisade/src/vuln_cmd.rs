//! `palisade scan image REF`: inventory the image (through the layer cache and the store), match
//! it against the advisory database, apply suppressions, and report.

use std::collections::BTreeSet;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use palisade_core::Sbom;
use palisade_image::sbom::{self, SbomFormat, WriteOptions};
use palisade_report::vulns;
use palisade_store::{Store, image_key};
use palisade_vulndb::db::AdvisoryDb;
use palisade_vulndb::matching::{self, MatchOptions, Severity, Vulnerability};
use palisade_vulndb::scan::ImageScan;
use palisade_vulndb::{ignore, vex};

use crate::output;
use crate::sbom_cmd::{ImageAccessArgs, Reader, clean, rfc3339, store_path, unix_now};

#[derive(clap::Args, Debug)]
pub struct ScanImageArgs {
    /// The image: every form `palisade sbom` takes (`registry/repo:tag`, `oci:DIR[:TAG]`,
    /// `docker-archive:FILE`, `dir:PATH`, `sbom:FILE`, `stored:NAME`).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Output format: table, json (docs/vulnerabilities.md), sarif, or cyclonedx (the SBOM with
    /// its vulnerabilities).
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json", "sarif", "cyclonedx"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when an unsuppressed vulnerability is at or above this severity
    /// (critical, high, medium, low, unknown).
    #[arg(long, value_name = "SEVERITY", value_parser = ["critical", "high", "medium", "low", "unknown"])]
    pub fail_on: Option<String>,
    /// Leave out vulnerabilities that have no fixed version.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// VEX documents (OpenVEX or CycloneDX VEX) whose not-affected statements suppress findings
    /// (repeatable; docs/vex-and-ignore.md).
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Ignore file: entries with an ID, a required reason and an optional expiry date (default:
    /// `.palisade-ignore.yaml` in the current directory when it exists).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Do not read or fill the layer cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Do not keep the inventory in the store.
    #[arg(long)]
    pub no_store: bool,
    #[command(flatten)]
    pub access: ImageAccessArgs,
}

/// Read when present and no `--ignore-file` is given, as Trivy reads `.trivyignore.yaml`.
const DEFAULT_IGNORE_FILE: &str = ".palisade-ignore.yaml";

/// `$PALISADE_HOME/advisories.db`.
pub(crate) fn advisory_db_path() -> Result<PathBuf> {
    palisade_image::cache::palisade_home()
        .map(|home| home.join("advisories.db"))
        .ok_or_else(|| {
            anyhow!("no PALISADE_HOME, XDG_DATA_HOME or HOME to keep the advisory database in")
        })
}

pub fn scan_image(args: ScanImageArgs) -> Result<ExitCode> {
    // The database first: without one there is nothing to match, and pulling the image would
    // only waste the user's time before saying so.
    let db = AdvisoryDb::open(&advisory_db_path()?)?;
    // Suppression files are read before the image too: a typo in them is cheaper to learn first.
    let vex_documents = args
        .vex
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the VEX document {}", path.display()))?;
            Ok(vex::read(&path.display().to_string(), &bytes)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let ignore_path = args.ignore_file.clone().or_else(|| {
        let default = PathBuf::from(DEFAULT_IGNORE_FILE);
        default.is_file().then_some(default)
    });
    let ignore_file = match &ignore_path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the ignore file {}", path.display()))?;
            Some(ignore::read(&path.display().to_string(), &text)?)
        }
        None => None,
    };
    let mut reader = Reader::with(&args.access, args.no_cache, args.no_store)?;
    let inventory = reader.inventory(&args.reference)?;
    let matched = matching::match_sbom(
        &db,
        &inventory,
        &MatchOptions {
            ignore_unfixed: args.ignore_unfixed,
        },
    )?;
    let mut scan = ImageScan::new(&inventory, matched);
    // Stored findings are the unsuppressed truth about the image; suppressions are this run's
    // policy (admission applies its own).
    if let Some(store) = reader.store_mut() {
        remember(store, &inventory, &scan);
    }
    // VEX first: an ignore entry covering a finding VEX already settled is not "unused".
    vex::apply(&vex_documents, &mut scan);
    if let Some(file) = &ignore_file {
        let today = rfc3339(unix_now()).chars().take(10).collect::<String>();
        for warning in ignore::apply(file, &today, &mut scan) {
            eprintln!("warning: {warning}");
        }
    }
    let format = args.format.as_str();
    output::write_output(
        args.output.as_deref(),
        "vulnerability report",
        |out, terminal| match format {
            "json" => vulns::write_json(&scan, out),
            "sarif" => vulns::write_sarif(&scan, out),
            "cyclonedx" => {
                let mut bytes = Vec::new();
                sbom::write(
                    &inventory,
                    SbomFormat::CycloneDx,
                    &WriteOptions {
                        timestamp: None,
                        tool_version: env!("CARGO_PKG_VERSION").to_string(),
                    },
                    &mut bytes,
                )?;
                let mut bom: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(io::Error::other)?;
                vulns::add_cyclonedx_vulnerabilities(&mut bom, &scan);
                serde_json::to_writer_pretty(&mut *out, &bom)?;
                writeln!(out)
            }
            _ => vulns::write_table(&scan, out, terminal),
        },
    )?;
    let threshold = match args.fail_on.as_deref() {
        Some("critical") => Some(Severity::Critical),
        Some("high") => Some(Severity::High),
        Some("medium") => Some(Severity::Medium),
        Some("low") => Some(Severity::Low),
        Some("unknown") => Some(Severity::Unknown),
        _ => None,
    };
    Ok(match threshold {
        Some(threshold) if scan.summary.at_or_above(threshold) > 0 => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

/// Keeps the scan as the image's latest findings (for rescans and admission gates); images that
/// are not in the store (an SBOM file) have nowhere to keep them.
fn remember(store: &mut Store, inventory: &Sbom, scan: &ImageScan) {
    let key = image_key(&inventory.image);
    if store.resolve(&key).ok().flatten().is_none() {
        return;
    }
    let result = serde_json::to_vec(scan)
        .map_err(anyhow::Error::from)
        .and_then(|json| Ok(store.put_findings(&key, unix_now(), &json)?));
    if let Err(error) = result {
        tracing::warn!("the findings of {key} were not stored: {error:#}");
    }
}

#[derive(clap::Args, Debug)]
pub struct RescanArgs {
    /// Output format: table or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A finding's identity across matches: the same flaw in the same package at the same place.
fn identity(v: &Vulnerability) -> (String, String, String, String) {
    (
        v.id.clone(),
        v.package.name.clone(),
        v.package.version.clone(),
        v.package.location.clone(),
    )
}

#[derive(serde::Serialize)]
struct RescanChange {
    id: String,
    package: String,
    version: String,
    severity: Severity,
}

#[derive(serde::Serialize)]
struct RescannedImage {
    key: String,
    references: Vec<String>,
    summary: palisade_vulndb::scan::SeveritySummary,
    /// Findings this match has that the previous one did not.
    new: Vec<RescanChange>,
    /// Findings of the previous match that are gone (fixed advisories, withdrawn records).
    resolved: Vec<RescanChange>,
    /// Whether there was a previous match to compare with.
    first_match: bool,
}

/// `palisade rescan`: re-match every stored inventory against the current database, without
/// pulling images, and say per image what is new and what is resolved since the last match.
pub fn rescan(args: RescanArgs) -> Result<ExitCode> {
    let db = AdvisoryDb::open(&advisory_db_path()?)?;
    let mut store = Store::open(&store_path()?)?;
    let images = store.images()?;
    let now = unix_now();
    let mut results = Vec::with_capacity(images.len());
    // One matcher for every image: shared base layers make most lookups repeats.
    let mut matcher = matching::Matcher::new(&db);
    let progress = io::stderr().is_terminal() && images.len() > 1;
    for (done, image) in images.iter().enumerate() {
        if progress {
            eprint!(
                "\r\x1b[K[{}/{}] {}",
                done + 1,
                images.len(),
                clean(&image.key)
            );
        }
        let Some(inventory) = store.sbom(&image.key)? else {
            continue;
        };
        let matched = matcher.match_sbom(&inventory, &MatchOptions::default())?;
        let scan = ImageScan::new(&inventory, matched);
        let previous: Option<ImageScan> = store
            .findings(&image.key)?
            .and_then(|(_, json)| serde_json::from_slice(&json).ok());
        let change = |v: &Vulnerability| RescanChange {
            id: v.id.clone(),
            package: v.package.name.clone(),
            version: v.package.version.clone(),
            severity: v.severity,
        };
        let (new, resolved) = match &previous {
            Some(previous) => {
                let before: BTreeSet<_> = previous.vulnerabilities.iter().map(identity).collect();
                let after: BTreeSet<_> = scan.vulnerabilities.iter().map(identity).collect();
                (
                    scan.vulnerabilities
                        .iter()
                        .filter(|v| !before.contains(&identity(v)))
                        .map(change)
                        .collect(),
                    previous
                        .vulnerabilities
                        .iter()
                        .filter(|v| !after.contains(&identity(v)))
                        .map(change)
                        .collect(),
                )
            }
            None => (
                scan.vulnerabilities.iter().map(change).collect(),
                Vec::new(),
            ),
        };
        store.put_findings(&image.key, now, &serde_json::to_vec(&scan)?)?;
        results.push(RescannedImage {
            key: image.key.clone(),
            references: image.references.clone(),
            summary: scan.summary,
            new,
            resolved,
            first_match: previous.is_none(),
        });
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    output::write_output(args.output.as_deref(), "rescan report", |out, _| {
        if args.format == "json" {
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({"rescanned_at": rfc3339(now), "images": results}),
            )?;
            return writeln!(out);
        }
        writeln!(
            out,
            "IMAGE\tCRITICAL\tHIGH\tMEDIUM\tLOW\tUNKNOWN\tNEW\tRESOLVED"
        )?;
        for r in &results {
            let name = r.references.first().unwrap_or(&r.key);
            let s = &r.summary;
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                clean(name),
                s.critical,
                s.high,
                s.medium,
                s.low,
                s.unknown,
                r.new.len(),
                r.resolved.len()
            )?;
            if !r.first_match {
                for c in &r.new {
                    writeln!(
                        out,
                        "  new: {} in {} {} ({})",
                        clean(&c.id),
                        clean(&c.package),
                        clean(&c.version),
                        c.severity.as_str()
                    )?;
                }
                for c in &r.resolved {
                    writeln!(
                        out,
                        "  resolved: {} in {} {}",
                        clean(&c.id),
                        clean(&c.package),
                        clean(&c.version)
                    )?;
                }
            }
        }
        writeln!(
            out,
            "{} images rescanned at {}",
            results.len(),
            rfc3339(now)
        )
    })?;
    Ok(ExitCode::SUCCESS)
}
