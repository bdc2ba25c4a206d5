//! `db import`: OSV dumps (osv.dev `all.zip`, directories, single records), KEV catalogs and EPSS
//! files into the database, in one transaction.
//!
//! Records are read sequentially (a zip archive is one stream) in batches, parsed and compressed
//! in parallel, then inserted with prepared statements: on two cores the ten thousand records of
//! the Go and AlmaLinux dumps import in well under a second.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rusqlite::{OptionalExtension, Transaction, params};

use super::time::{self, Instant};
use super::{AdvisoryDb, DbError, SourceKind, other};
use crate::osv;

/// How many of the import's errors the report keeps.
const KEPT_ERRORS: usize = 20;

/// Records per parallel batch: enough to keep both cores busy, small enough that a large dump
/// (Debian's is hundreds of megabytes uncompressed) is never held in memory whole.
const BATCH_RECORDS: usize = 2048;

/// An OSV record larger than this is rejected rather than read (the largest real records, kernel
/// errata listing hundreds of packages, are well under a megabyte).
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// zstd level for stored raw records: JSON shrinks several times at level 3, cheaply.
const RAW_COMPRESSION_LEVEL: i32 = 3;

/// The outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub sources: Vec<SourceReport>,
    /// OSV records stored (new, or replacing an older or equally old copy).
    pub stored: u64,
    /// OSV records not stored because the database holds a newer copy.
    pub kept_newer: u64,
    /// Invalid records (and unreadable archives or entries) skipped.
    pub skipped: u64,
    /// The first errors, each naming the record file.
    pub errors: Vec<String>,
}

/// What one input contributed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceReport {
    pub name: String,
    pub kind: SourceKind,
    /// The path or URL it was read from.
    pub origin: String,
    /// Valid records (OSV), entries (KEV) or scores (EPSS) read.
    pub records: u64,
    pub skipped: u64,
}

/// One thing to import, with the source metadata `db update` knows about it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Input {
    pub path: PathBuf,
    /// Source name; derived from the path when absent.
    pub name: Option<String>,
    /// Origin recorded for the source; the path when absent.
    pub origin: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A record parsed and encoded for insertion.
struct Prepared {
    id: String,
    modified: String,
    order: Instant,
    withdrawn: Option<String>,
    advisory: String,
    raw: Vec<u8>,
    /// (ecosystem, package, entry JSON).
    affected: Vec<(String, String, String)>,
    /// (alias, kind).
    aliases: Vec<(String, &'static str)>,
}

/// The zero time orders before any real `modified`, so a record without one never replaces a
/// dated copy.
const UNDATED: Instant = (i64::MIN, 0);

impl AdvisoryDb {
    /// Imports every path: an osv.dev `all.zip`, a directory of OSV records (recursively every
    /// `*.json`), a single OSV record, a KEV catalog, or an EPSS CSV (plain or gzip). `now` (RFC
    /// 3339, the caller's clock) is recorded as the sources' import time.
    ///
    /// One transaction: on any error nothing of the import is written. A missing or unreadable
    /// path is an error; invalid records, entries and archives are skipped and reported, and only
    /// an import that could read nothing at all fails.
    pub fn import(&mut self, paths: &[PathBuf], now: &str) -> Result<ImportReport, DbError> {
        let inputs: Vec<Input> = paths
            .iter()
            .map(|path| Input {
                path: path.clone(),
                ..Input::default()
            })
            .collect();
        self.import_inputs(&inputs, now)
    }

    pub(crate) fn import_inputs(
        &mut self,
        inputs: &[Input],
        now: &str,
    ) -> Result<ImportReport, DbError> {
        if time::parse_rfc3339(now).is_none() {
            return Err(other(
                &self.path,
                format!("import time {now:?} is not an RFC 3339 timestamp"),
            ));
        }
        if inputs.is_empty() {
            return Err(other(&self.path, "nothing to import".to_string()));
        }
        let db_path = self.path.clone();
        let sql = |err: rusqlite::Error| other(&db_path, err.to_string());
        // Immediate: take the write lock up front so a concurrent import waits (busy timeout)
        // instead of failing on a read-to-write upgrade halfway through.
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        let mut report = ImportReport::default();
        let mut readable = 0u64;
        for input in inputs {
            let source = import_one(&transaction, &db_path, input, &mut report)?;
            readable += source.records;
            transaction
                .execute(
                    "INSERT OR REPLACE INTO sources
                         (name, kind, origin, records, skipped, imported_at, etag, last_modified)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        source.name,
                        source.kind.as_str(),
                        source.origin,
                        i64::try_from(source.records).unwrap_or(i64::MAX),
                        i64::try_from(source.skipped).unwrap_or(i64::MAX),
                        now,
                        input.etag,
                        input.last_modified,
                    ],
                )
                .map_err(sql)?;
            report.sources.push(source);
        }
        if readable == 0 {
            let first = report
                .errors
                .first()
                .map(|error| format!(": {error}"))
                .unwrap_or_default();
            return Err(other(&db_path, format!("nothing could be imported{first}")));
        }
        transaction.commit().map_err(sql)?;
        Ok(report)
    }
}

/// What a file holds, from its name and first bytes.
enum Format {
    Zip,
    Epss,
    Json,
}

fn import_one(
    transaction: &Transaction<'_>,
    db_path: &Path,
    input: &Input,
    report: &mut ImportReport,
) -> Result<SourceReport, DbError> {
    let path = &input.path;
    let unreadable =
        |err: std::io::Error| other(db_path, format!("cannot read {}: {err}", path.display()));
    let metadata = std::fs::metadata(path).map_err(unreadable)?;
    let origin = input
        .origin
        .clone()
        .unwrap_or_else(|| path.display().to_string());
    let mut source = SourceReport {
        name: input.name.clone().unwrap_or_else(|| source_name(path)),
        kind: SourceKind::Osv,
        origin,
        records: 0,
        skipped: 0,
    };
    if metadata.is_dir() {
        import_directory(
            transaction,
            db_path,
            path,
            &source.name.clone(),
            &mut source,
            report,
        )?;
        return Ok(source);
    }
    match sniff(path).map_err(unreadable)? {
        Format::Zip => import_zip(transaction, db_path, path, &mut source, report)?,
        Format::Epss => {
            source.kind = SourceKind::Epss;
            source.name = input.name.clone().unwrap_or_else(|| "epss".to_string());
            let name = path.display().to_string();
            let file = File::open(path).map_err(unreadable)?;
            match crate::epss::parse(&name, BufReader::new(file)) {
                Ok(scores) => {
                    store_epss(transaction, &scores)
                        .map_err(|err| other(db_path, err.to_string()))?;
                    source.records = scores.scores.len() as u64;
                }
                Err(err) => skip(report, &mut source, err.to_string()),
            }
        }
        Format::Json => {
            let bytes = read_limited(path).map_err(unreadable)?;
            let name = path.display().to_string();
            if is_kev_catalog(&bytes) {
                source.kind = SourceKind::Kev;
                source.name = input.name.clone().unwrap_or_else(|| "kev".to_string());
                match crate::kev::parse(&name, &bytes) {
                    Ok(catalog) => {
                        store_kev(transaction, &catalog)
                            .map_err(|err| other(db_path, err.to_string()))?;
                        source.records = catalog.entries.len() as u64;
                    }
                    Err(err) => skip(report, &mut source, err.to_string()),
                }
            } else {
                let prepared = vec![prepare(name, bytes)];
                store_batch(
                    transaction,
                    db_path,
                    prepared,
                    &source.name.clone(),
                    &mut source,
                    report,
                )?;
            }
        }
    }
    Ok(source)
}

/// The source name of a path given to `db import`: the folder of an osv.dev `all.zip`
/// (`Go/all.zip` → `Go`), else the file or folder name without extension.
fn source_name(path: &Path) -> String {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    if file_name == "all.zip"
        && let Some(parent) = path.parent().and_then(Path::file_name)
    {
        return parent.to_string_lossy().into_owned();
    }
    let mut name = file_name.as_str();
    for extension in [".gz", ".zip", ".json", ".csv"] {
        name = name.strip_suffix(extension).unwrap_or(name);
    }
    if name.is_empty() {
        file_name
    } else {
        name.to_string()
    }
}

fn sniff(path: &Path) -> std::io::Result<Format> {
    let mut head = [0u8; 4];
    let mut file = File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        let Some(rest) = head.get_mut(filled..) else {
            break;
        };
        match file.read(rest)? {
            0 => break,
            n => filled += n,
        }
    }
    let head = head.get(..filled).unwrap_or_default();
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    Ok(
        if head.starts_with(b"PK\x03\x04")
            || head.starts_with(b"PK\x05\x06")
            || name.ends_with(".zip")
        {
            Format::Zip
        } else if name.starts_with("epss_scores")
            || name.ends_with(".csv")
            || name.ends_with(".csv.gz")
            || head.starts_with(&[0x1f, 0x8b])
        {
            Format::Epss
        } else {
            Format::Json
        },
    )
}

/// A KEV catalog is a JSON object with `catalogVersion` and `vulnerabilities` members (an OSV
/// record has neither).
fn is_kev_catalog(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        catalog_version: Option<serde::de::IgnoredAny>,
        vulnerabilities: Option<serde::de::IgnoredAny>,
    }
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<Probe>(bytes)
            .is_ok_and(|probe| probe.catalog_version.is_some() && probe.vulnerabilities.is_some())
}

fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_RECORD_BYTES >> 20
        )));
    }
    Ok(bytes)
}

fn skip(report: &mut ImportReport, source: &mut SourceReport, message: String) {
    source.skipped += 1;
    report.skipped += 1;
    if report.errors.len() < KEPT_ERRORS {
        report.errors.push(message);
    }
}

fn import_zip(
    transaction: &Transaction<'_>,
    db_path: &Path,
    path: &Path,
    source: &mut SourceReport,
    report: &mut ImportReport,
) -> Result<(), DbError> {
    let display = path.display().to_string();
    let file =
        File::open(path).map_err(|err| other(db_path, format!("cannot read {display}: {err}")))?;
    let mut archive = match zip::ZipArchive::new(BufReader::new(file)) {
        Ok(archive) => archive,
        Err(err) => {
            skip(
                report,
                source,
                format!("{display}: not a readable zip archive: {err}"),
            );
            return Ok(());
        }
    };
    let source_name = source.name.clone();
    let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(err) => {
                skip(report, source, format!("{display}: entry #{index}: {err}"));
                continue;
            }
        };
        let entry_name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(err) => {
                skip(report, source, format!("{display}: entry #{index}: {err}"));
                continue;
            }
        };
        if entry.is_dir() || !entry_name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let record = format!("{display}:{entry_name}");
        if entry.size() > MAX_RECORD_BYTES {
            skip(
                report,
                source,
                format!("{record}: larger than {} MiB", MAX_RECORD_BYTES >> 20),
            );
            continue;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        // The CRC is checked when the entry is read to its end, so a corrupt entry fails here.
        if let Err(err) = (&mut entry)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut bytes)
        {
            skip(report, source, format!("{record}: cannot read: {err}"));
            continue;
        }
        batch.push((record, bytes));
        if batch.len() >= BATCH_RECORDS {
            let prepared = prepare_batch(std::mem::take(&mut batch));
            store_batch(transaction, db_path, prepared, &source_name, source, report)?;
        }
    }
    let prepared = prepare_batch(batch);
    store_batch(transaction, db_path, prepared, &source_name, source, report)
}

fn import_directory(
    transaction: &Transaction<'_>,
    db_path: &Path,
    root: &Path,
    source_name: &str,
    source: &mut SourceReport,
    report: &mut ImportReport,
) -> Result<(), DbError> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let entries = std::fs::read_dir(&directory).map_err(|err| {
            other(
                db_path,
                format!("cannot read {}: {err}", directory.display()),
            )
        })?;
        for entry in entries {
            let entry = entry.map_err(|err| {
                other(
                    db_path,
                    format!("cannot read {}: {err}", directory.display()),
                )
            })?;
            // The entry's own type (symlinks not followed), so a link cycle cannot loop.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    for chunk in files.chunks(BATCH_RECORDS) {
        let prepared: Vec<Result<Prepared, String>> = chunk
            .par_iter()
            .map(|path| {
                let name = path.display().to_string();
                match read_limited(path) {
                    Ok(bytes) => prepare(name, bytes),
                    Err(err) => Err(format!("{name}: cannot read: {err}")),
                }
            })
            .collect();
        store_batch(transaction, db_path, prepared, source_name, source, report)?;
    }
    Ok(())
}

fn prepare_batch(batch: Vec<(String, Vec<u8>)>) -> Vec<Result<Prepared, String>> {
    batch
        .into_par_iter()
        .map(|(name, bytes)| prepare(name, bytes))
        .collect()
}

/// Parses and encodes one record (the parallel part of an import).
fn prepare(name: String, bytes: Vec<u8>) -> Result<Prepared, String> {
    let (advisory, affected) = osv::parse_record(&name, &bytes).map_err(|err| err.to_string())?;
    let encode_error = |err: serde_json::Error| format!("{name}: cannot encode: {err}");
    let advisory_json = serde_json::to_string(&advisory).map_err(encode_error)?;
    let mut rows = Vec::with_capacity(affected.len());
    for entry in &affected {
        rows.push((
            entry.ecosystem.clone(),
            entry.package.clone(),
            serde_json::to_string(entry).map_err(encode_error)?,
        ));
    }
    let mut aliases: Vec<(String, &'static str)> = Vec::new();
    for (list, kind) in [(&advisory.aliases, "alias"), (&advisory.related, "related")] {
        for alias in list {
            let alias = alias.trim();
            if !alias.is_empty() && alias != advisory.id && !aliases.iter().any(|(a, _)| a == alias)
            {
                aliases.push((alias.to_string(), kind));
            }
        }
    }
    let raw = zstd::bulk::compress(&bytes, RAW_COMPRESSION_LEVEL)
        .map_err(|err| format!("{name}: cannot compress: {err}"))?;
    Ok(Prepared {
        order: time::parse_rfc3339(&advisory.modified).unwrap_or(UNDATED),
        id: advisory.id,
        modified: advisory.modified,
        withdrawn: advisory.withdrawn,
        advisory: advisory_json,
        raw,
        affected: rows,
        aliases,
    })
}

fn store_batch(
    transaction: &Transaction<'_>,
    db_path: &Path,
    batch: Vec<Result<Prepared, String>>,
    source_name: &str,
    source: &mut SourceReport,
    report: &mut ImportReport,
) -> Result<(), DbError> {
    let sql = |err: rusqlite::Error| other(db_path, err.to_string());
    let mut existing = transaction
        .prepare_cached("SELECT modified FROM advisories WHERE id = ?1")
        .map_err(sql)?;
    let mut delete_affected = transaction
        .prepare_cached("DELETE FROM affected WHERE advisory_id = ?1")
        .map_err(sql)?;
    let mut delete_aliases = transaction
        .prepare_cached("DELETE FROM aliases WHERE advisory_id = ?1")
        .map_err(sql)?;
    let mut insert_advisory = transaction
        .prepare_cached(
            "INSERT OR REPLACE INTO advisories (id, modified, withdrawn, source, advisory, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(sql)?;
    let mut insert_affected = transaction
        .prepare_cached(
            "INSERT INTO affected (advisory_id, ecosystem, package, entry) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(sql)?;
    let mut insert_alias = transaction
        .prepare_cached(
            "INSERT OR IGNORE INTO aliases (alias, advisory_id, kind) VALUES (?1, ?2, ?3)",
        )
        .map_err(sql)?;
    for prepared in batch {
        let record = match prepared {
            Ok(record) => record,
            Err(message) => {
                skip(report, source, message);
                continue;
            }
        };
        source.records += 1;
        let stored: Option<String> = existing
            .query_row([&record.id], |row| row.get(0))
            .optional()
            .map_err(sql)?;
        if let Some(stored) = stored {
            let stored_order = time::parse_rfc3339(&stored).unwrap_or(UNDATED);
            // Newer or equal replaces, so re-importing the same dump is idempotent.
            if stored_order > record.order {
                report.kept_newer += 1;
                continue;
            }
            delete_affected.execute([&record.id]).map_err(sql)?;
            delete_aliases.execute([&record.id]).map_err(sql)?;
        }
        insert_advisory
            .execute(params![
                record.id,
                record.modified,
                record.withdrawn,
                source_name,
                record.advisory,
                record.raw,
            ])
            .map_err(sql)?;
        for (ecosystem, package, entry) in &record.affected {
            insert_affected
                .execute(params![record.id, ecosystem, package, entry])
                .map_err(sql)?;
        }
        for (alias, kind) in &record.aliases {
            insert_alias
                .execute(params![alias, record.id, kind])
                .map_err(sql)?;
        }
        report.stored += 1;
    }
    Ok(())
}

/// Replaces the KEV table with `catalog` (a catalog is a complete snapshot).
fn store_kev(
    transaction: &Transaction<'_>,
    catalog: &crate::kev::KevCatalog,
) -> rusqlite::Result<()> {
    transaction.execute("DELETE FROM kev", [])?;
    let mut insert = transaction.prepare_cached(
        "INSERT OR REPLACE INTO kev
             (cve, vendor, product, name, date_added, due_date, known_ransomware, cwes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for entry in &catalog.entries {
        let cwes = serde_json::to_string(&entry.cwes).unwrap_or_else(|_| "[]".to_string());
        insert.execute(params![
            entry.cve_id,
            entry.vendor,
            entry.product,
            entry.name,
            entry.date_added,
            entry.due_date,
            entry.known_ransomware,
            cwes,
        ])?;
    }
    set_meta(
        transaction,
        "kev_catalog_version",
        Some(&catalog.catalog_version),
    )?;
    set_meta(
        transaction,
        "kev_date_released",
        Some(&catalog.date_released),
    )
}

/// Replaces the EPSS table with `scores` (each day's file scores every CVE).
fn store_epss(
    transaction: &Transaction<'_>,
    scores: &crate::epss::EpssScores,
) -> rusqlite::Result<()> {
    transaction.execute("DELETE FROM epss", [])?;
    let mut insert = transaction.prepare_cached(
        "INSERT OR REPLACE INTO epss (cve, score, percentile) VALUES (?1, ?2, ?3)",
    )?;
    for score in &scores.scores {
        insert.execute(params![
            score.cve,
            f64::from(score.score),
            f64::from(score.percentile)
        ])?;
    }
    set_meta(
        transaction,
        "epss_model_version",
        scores.model_version.as_deref(),
    )?;
    set_meta(transaction, "epss_score_date", scores.score_date.as_deref())
}

fn set_meta(transaction: &Transaction<'_>, key: &str, value: Option<&str>) -> rusqlite::Result<()> {
    match value {
        Some(value) => transaction.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?,
        None => transaction.execute("DELETE FROM meta WHERE key = ?1", [key])?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names() {
        assert_eq!(source_name(Path::new("/data/osv/Go/all.zip")), "Go");
        assert_eq!(source_name(Path::new("dumps/PyPI.zip")), "PyPI");
        assert_eq!(source_name(Path::new("GHSA-1234.json")), "GHSA-1234");
        assert_eq!(
            source_name(Path::new("epss_scores-2025-03-16.csv.gz")),
            "epss_scores-2025-03-16"
        );
        assert_eq!(source_name(Path::new("/data/osv/Debian")), "Debian");
    }

    #[test]
    fn kev_catalogs_are_told_from_records() {
        assert!(is_kev_catalog(
            br#" {"title": "CISA KEV", "catalogVersion": "2025.02.25", "vulnerabilities": []}"#
        ));
        assert!(!is_kev_catalog(br#"{"id": "GHSA-1", "affected": []}"#));
        assert!(!is_kev_catalog(
            br#"[{"catalogVersion": 1, "vulnerabilities": 2}]"#
        ));
        assert!(!is_kev_catalog(b"not json"));
    }
}
