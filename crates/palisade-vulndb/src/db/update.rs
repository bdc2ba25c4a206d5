//! `db update`: download OSV, KEV and EPSS (conditionally, into `<home>/downloads/`), build a new
//! database from them and rename it over `advisories.db`.
//!
//! Building a new file rather than importing into the old one drops advisories a source no longer
//! publishes, and the rename is atomic: a scan that has the old file open keeps reading it, a scan
//! that opens the path afterwards sees the new one, and nobody sees half of an update.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::TransactionBehavior;

use super::import::{ImportReport, Input};
use super::{AdvisoryDb, DbError, other};

/// osv.dev's bucket of per-ecosystem dumps: `<OSV_URL>/<Ecosystem>/all.zip`.
pub const OSV_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's KEV catalog.
pub const KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's current EPSS scores (served by Empirical Security, who run EPSS for FIRST; it
/// redirects to the dated `epss_scores-YYYY-MM-DD.csv.gz`).
pub const EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";

/// The file names under a mirror (and under `<home>/downloads/`).
const KEV_FILE: &str = "known_exploited_vulnerabilities.json";
const EPSS_FILE: &str = "epss_scores-current.csv.gz";

/// OSV ecosystems `db update` downloads unless told otherwise: the distributions and language
/// ecosystems Palisade matches.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "AlmaLinux",
    "Rocky Linux",
    "Wolfi",
    "Chainguard",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
];

/// The database file `db update` maintains in the Palisade home.
const DB_FILE: &str = "advisories.db";

#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// OSV ecosystems, as osv.dev names its folders.
    pub ecosystems: Vec<String>,
    pub kev: bool,
    pub epss: bool,
    /// Base URL serving `<Ecosystem>/all.zip`, `known_exploited_vulnerabilities.json` and
    /// `epss_scores-current.csv.gz` instead of the official sources.
    pub mirror: Option<String>,
    /// Per-request connect and read timeout.
    pub timeout: Duration,
    /// RFC 3339, the caller's clock (recorded as the sources' import time).
    pub now: String,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|e| e.to_string()).collect(),
            kev: true,
            epss: true,
            mirror: None,
            timeout: Duration::from_secs(120),
            now: super::time::format_rfc3339(std::time::SystemTime::now()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadOutcome {
    /// A new copy was downloaded.
    Downloaded { bytes: u64 },
    /// The server said the cached copy is current (HTTP 304).
    NotModified,
    /// The download failed; `used_cache` tells whether a previously downloaded copy was imported.
    Failed { message: String, used_cache: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadReport {
    /// Source name: the ecosystem, `kev` or `epss`.
    pub source: String,
    pub url: String,
    pub outcome: DownloadOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateReport {
    /// The database written.
    pub path: PathBuf,
    pub downloads: Vec<DownloadReport>,
    pub import: ImportReport,
}

/// What one source needs downloaded.
struct Download {
    source: String,
    url: String,
    cache: PathBuf,
}

/// Downloads the configured sources into `<dir>/downloads/` and replaces `<dir>/advisories.db`
/// with a database built from them. A source that fails to download is reported and its cached
/// copy used if there is one; the update fails only when no source is usable.
pub fn update(dir: &Path, options: &UpdateOptions) -> Result<UpdateReport, DbError> {
    let db_path = dir.join(DB_FILE);
    let downloads_dir = dir.join("downloads");
    std::fs::create_dir_all(&downloads_dir).map_err(|err| {
        other(
            &db_path,
            format!("cannot create {}: {err}", downloads_dir.display()),
        )
    })?;
    let previous = previous_sources(&db_path);
    let base = options
        .mirror
        .as_deref()
        .map(|mirror| mirror.trim_end_matches('/').to_string());
    let mut wanted = Vec::new();
    for ecosystem in &options.ecosystems {
        let root = base.as_deref().unwrap_or(OSV_URL);
        wanted.push(Download {
            source: ecosystem.clone(),
            url: format!("{root}/{}/all.zip", encode_segment(ecosystem)),
            cache: downloads_dir.join(file_safe(ecosystem)).join("all.zip"),
        });
    }
    if options.kev {
        wanted.push(Download {
            source: "kev".to_string(),
            url: base
                .as_deref()
                .map_or_else(|| KEV_URL.to_string(), |root| format!("{root}/{KEV_FILE}")),
            cache: downloads_dir.join(KEV_FILE),
        });
    }
    if options.epss {
        wanted.push(Download {
            source: "epss".to_string(),
            url: base.as_deref().map_or_else(
                || EPSS_URL.to_string(),
                |root| format!("{root}/{EPSS_FILE}"),
            ),
            cache: downloads_dir.join(EPSS_FILE),
        });
    }
    if wanted.is_empty() {
        return Err(other(
            &db_path,
            "nothing to update: no sources configured".to_string(),
        ));
    }

    let agent = ureq::AgentBuilder::new()
        .timeout_connect(options.timeout.min(Duration::from_secs(30)))
        .timeout_read(options.timeout)
        .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
        .build();
    let mut downloads = Vec::new();
    let mut inputs = Vec::new();
    for download in wanted {
        let cached = download.cache.is_file();
        let (etag, last_modified) = previous
            .iter()
            .find(|(name, _, _)| *name == download.source)
            .filter(|_| cached)
            .map(|(_, etag, last_modified)| (etag.clone(), last_modified.clone()))
            .unwrap_or_default();
        let outcome = fetch(&agent, &download, etag.as_deref(), last_modified.as_deref());
        let (outcome, input_meta) = match outcome {
            Ok(Fetched::Downloaded {
                bytes,
                etag,
                last_modified,
            }) => (
                DownloadOutcome::Downloaded { bytes },
                Some((etag, last_modified)),
            ),
            Ok(Fetched::NotModified) => (DownloadOutcome::NotModified, Some((etag, last_modified))),
            Err(message) => (
                DownloadOutcome::Failed {
                    message,
                    used_cache: cached,
                },
                cached.then_some((etag, last_modified)),
            ),
        };
        if let Some((etag, last_modified)) = input_meta {
            inputs.push(Input {
                path: download.cache.clone(),
                name: Some(download.source.clone()),
                origin: Some(download.url.clone()),
                etag,
                last_modified,
            });
        }
        downloads.push(DownloadReport {
            source: download.source,
            url: download.url,
            outcome,
        });
    }
    if inputs.is_empty() {
        let reasons = downloads
            .iter()
            .filter_map(|report| match &report.outcome {
                DownloadOutcome::Failed { message, .. } => {
                    Some(format!("{}: {message}", report.source))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(other(
            &db_path,
            format!("update failed: no source could be downloaded and none is cached ({reasons})"),
        ));
    }

    // Built next to the old file so that the rename stays on one file system.
    let new_path = dir.join(format!("{DB_FILE}.new"));
    remove_if_present(&new_path).map_err(|err| other(&new_path, err))?;
    remove_if_present(&dir.join(format!("{DB_FILE}.new-journal")))
        .map_err(|err| other(&new_path, err))?;
    let import = {
        let built = AdvisoryDb::create(&new_path).and_then(|mut db| {
            let report = db.import_inputs(&inputs, &options.now)?;
            Ok(report)
        });
        match built {
            Ok(report) => report,
            Err(err) => {
                let _ = std::fs::remove_file(&new_path);
                return Err(err);
            }
        }
    };
    replace(&new_path, &db_path)?;
    Ok(UpdateReport {
        path: db_path,
        downloads,
        import,
    })
}

/// (name, etag, last-modified) of the sources the current database was built from; empty when
/// there is no readable database (everything is then downloaded unconditionally).
fn previous_sources(db_path: &Path) -> Vec<(String, Option<String>, Option<String>)> {
    let Ok(db) = AdvisoryDb::open(db_path) else {
        return Vec::new();
    };
    db.status()
        .map(|status| {
            status
                .sources
                .into_iter()
                .map(|source| (source.name, source.etag, source.last_modified))
                .collect()
        })
        .unwrap_or_default()
}

enum Fetched {
    Downloaded {
        bytes: u64,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified,
}

fn fetch(
    agent: &ureq::Agent,
    download: &Download,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched, String> {
    let mut request = agent.get(&download.url);
    if let Some(etag) = etag {
        request = request.set("If-None-Match", etag);
    }
    if let Some(last_modified) = last_modified {
        request = request.set("If-Modified-Since", last_modified);
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(status, response)) => {
            return Err(format!(
                "{}: HTTP {status} {}",
                download.url,
                response.status_text()
            ));
        }
        Err(ureq::Error::Transport(transport)) => {
            return Err(format!("{}: {transport}", download.url));
        }
    };
    match response.status() {
        304 => return Ok(Fetched::NotModified),
        200 => {}
        status => {
            return Err(format!(
                "{}: unexpected HTTP {status} {}",
                download.url,
                response.status_text()
            ));
        }
    }
    let new_etag = response.header("ETag").map(str::to_string);
    let new_last_modified = response.header("Last-Modified").map(str::to_string);
    if let Some(parent) = download.cache.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
    }
    // Written beside the cached copy and renamed over it only when complete, so an interrupted
    // download never replaces a good copy with half a file.
    let partial = download.cache.with_extension("part");
    let written = (|| -> std::io::Result<u64> {
        let mut file = File::create(&partial)?;
        let bytes = std::io::copy(&mut response.into_reader(), &mut file)?;
        file.flush()?;
        file.sync_all()?;
        Ok(bytes)
    })();
    let bytes = match written {
        Ok(bytes) => bytes,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(format!("{}: download interrupted: {err}", download.url));
        }
    };
    std::fs::rename(&partial, &download.cache)
        .map_err(|err| format!("cannot write {}: {err}", download.cache.display()))?;
    Ok(Fetched::Downloaded {
        bytes,
        etag: new_etag,
        last_modified: new_last_modified,
    })
}

/// Renames the new database over the old one while holding the old one's exclusive lock: no
/// writer is then halfway through a transaction, so no rollback journal of the old file can be
/// mistaken for one of the new file.
fn replace(new_path: &Path, db_path: &Path) -> Result<(), DbError> {
    let rename = || {
        std::fs::rename(new_path, db_path).map_err(|err| {
            other(
                db_path,
                format!("cannot replace it with {}: {err}", new_path.display()),
            )
        })
    };
    let Ok(mut old) = AdvisoryDb::open(db_path) else {
        return rename();
    };
    // Exclusive waits (busy timeout) for a running import to commit, and rolls back a journal a
    // crashed writer left.
    let lock = old
        .connection
        .transaction_with_behavior(TransactionBehavior::Exclusive);
    let result = rename();
    if let Ok(lock) = lock {
        let _ = lock.rollback();
    }
    result
}

fn remove_if_present(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(format!("cannot remove {}: {err}", path.display())),
    }
}

/// A URL path segment: `Rocky Linux` → `Rocky%20Linux`.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A directory name for an ecosystem's cached dump (`Rocky Linux` stays readable; separators
/// and `..` cannot escape the downloads folder).
fn file_safe(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        format!("_{cleaned}")
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_segments_and_cache_names() {
        assert_eq!(encode_segment("Rocky Linux"), "Rocky%20Linux");
        assert_eq!(encode_segment("crates.io"), "crates.io");
        assert_eq!(encode_segment("Debian:12"), "Debian%3A12");
        assert_eq!(file_safe("Rocky Linux"), "Rocky Linux");
        assert_eq!(file_safe("../etc"), ".._etc");
        assert_eq!(file_safe(".."), "_..");
        assert_eq!(file_safe("a/b"), "a_b");
    }
}
