//! `palisade db import|update|status`: the advisory database in `$PALISADE_HOME/advisories.db`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow};
use palisade_vulndb::db::{
    self, AdvisoryDb, DownloadOutcome, ImportReport, UpdateOptions, format_rfc3339,
};

use crate::sbom_cmd::clean;
use crate::vuln_cmd::{self, advisory_db_path};

#[derive(clap::Args, Debug)]
pub struct DbImportArgs {
    /// osv.dev `all.zip` dumps, directories of OSV JSON records, single records, the CISA KEV
    /// catalog (`known_exploited_vulnerabilities.json`), FIRST EPSS scores (`epss_scores-*.csv.gz`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct DbUpdateArgs {
    /// Download from this mirror instead of osv.dev, CISA and FIRST: it serves
    /// `<Ecosystem>/all.zip`, `known_exploited_vulnerabilities.json` and
    /// `epss_scores-current.csv.gz`.
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// OSV ecosystems to download (repeatable; default: every ecosystem Palisade matches).
    #[arg(long = "ecosystem", value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// Skip the CISA KEV catalog.
    #[arg(long)]
    pub no_kev: bool,
    /// Skip FIRST EPSS scores.
    #[arg(long)]
    pub no_epss: bool,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub timeout: u64,
    /// Re-match every stored image afterwards (`palisade rescan`).
    #[arg(long)]
    pub rescan: bool,
}

fn now() -> String {
    // SOURCE_DATE_EPOCH pins the recorded time, as for SBOMs, so tests and reproducible runs can
    // control staleness.
    match std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        Some(seconds) => format_rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)),
        None => format_rfc3339(SystemTime::now()),
    }
}

fn print_import(report: &ImportReport) {
    for source in &report.sources {
        eprintln!(
            "  {} ({}): {} records{}",
            clean(&source.name),
            source.kind.as_str(),
            source.records,
            if source.skipped > 0 {
                format!(", {} skipped", source.skipped)
            } else {
                String::new()
            }
        );
    }
    eprintln!(
        "{} advisories stored, {} kept (the database had a newer copy), {} skipped",
        report.stored, report.kept_newer, report.skipped
    );
    for error in &report.errors {
        eprintln!("  skipped: {}", clean(error));
    }
}

pub fn import(args: DbImportArgs) -> Result<ExitCode> {
    let path = advisory_db_path()?;
    let mut db = AdvisoryDb::open_or_create(&path)?;
    let report = db.import(&args.paths, &now())?;
    print_import(&report);
    eprintln!("database: {}", path.display());
    Ok(ExitCode::SUCCESS)
}

pub fn update(args: DbUpdateArgs) -> Result<ExitCode> {
    let home = palisade_image::cache::palisade_home().ok_or_else(|| {
        anyhow!("no PALISADE_HOME, XDG_DATA_HOME or HOME to keep the database in")
    })?;
    let mut options = UpdateOptions {
        kev: !args.no_kev,
        epss: !args.no_epss,
        mirror: args.mirror.clone(),
        timeout: Duration::from_secs(args.timeout),
        now: now(),
        ..UpdateOptions::default()
    };
    if !args.ecosystems.is_empty() {
        options.ecosystems = args.ecosystems.clone();
    }
    let report = db::update(&home, &options)
        .with_context(|| format!("cannot update the advisory database in {}", home.display()))?;
    for download in &report.downloads {
        let outcome = match &download.outcome {
            DownloadOutcome::Downloaded { bytes } => format!("downloaded {bytes} bytes"),
            DownloadOutcome::NotModified => "not modified".to_string(),
            DownloadOutcome::Failed {
                message,
                used_cache,
            } => format!(
                "FAILED ({}){}",
                clean(message),
                if *used_cache {
                    ", using the previous download"
                } else {
                    ""
                }
            ),
        };
        eprintln!("{}: {outcome}", clean(&download.source));
    }
    print_import(&report.import);
    eprintln!("database: {}", report.path.display());
    if args.rescan {
        return vuln_cmd::rescan(vuln_cmd::RescanArgs {
            format: "table".to_string(),
            output: None,
        });
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct DbStatusArgs {
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

pub fn status(args: DbStatusArgs) -> Result<ExitCode> {
    let db = AdvisoryDb::open(&advisory_db_path()?)?;
    let status = db.status()?;
    let now = now();
    let stale = status.is_stale(&now);
    if args.format == "json" {
        let sources: Vec<serde_json::Value> = status
            .sources
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name, "kind": s.kind.as_str(), "origin": s.origin,
                    "records": s.records, "skipped": s.skipped, "imported_at": s.imported_at,
                })
            })
            .collect();
        let value = serde_json::json!({
            "path": status.path, "schema_version": status.schema_version,
            "advisories": status.advisories, "withdrawn": status.withdrawn,
            "affected_packages": status.affected, "kev_entries": status.kev_entries,
            "epss_scores": status.epss_scores, "kev_catalog_version": status.kev_catalog_version,
            "epss_model_version": status.epss_model_version, "epss_score_date": status.epss_score_date,
            "last_update": status.last_update, "stale": stale, "sources": sources,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("database {}", status.path.display());
    println!(
        "{} advisories ({} withdrawn), {} affected packages, {} KEV entries, {} EPSS scores",
        status.advisories,
        status.withdrawn,
        status.affected,
        status.kev_entries,
        status.epss_scores
    );
    println!(
        "last update {}",
        status.last_update.as_deref().unwrap_or("never")
    );
    println!();
    println!("SOURCE\tKIND\tRECORDS\tSKIPPED\tIMPORTED\tORIGIN");
    for s in &status.sources {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            clean(&s.name),
            s.kind.as_str(),
            s.records,
            s.skipped,
            s.imported_at,
            clean(&s.origin)
        );
    }
    if stale {
        eprintln!(
            "warning: the advisory database is more than 2 days old: run `palisade db update`"
        );
    }
    Ok(ExitCode::SUCCESS)
}
