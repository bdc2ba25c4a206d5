//! The advisory database: one SQLite file (the CLI keeps it at `$PALISADE_HOME/advisories.db`)
//! holding OSV advisories indexed for matching, CISA KEV and FIRST EPSS for joining by CVE, and
//! where each part came from.
//!
//! # Schema (version 1; migrations are append-only, `PRAGMA user_version` counts those applied)
//!
//! - `advisories(id PK, modified, withdrawn, source, advisory, raw)`: `advisory` is the
//!   normalized [`Advisory`] as JSON, `raw` the original OSV record compressed with zstd (for
//!   display), `source` the name of the source it was imported from.
//! - `affected(advisory_id, ecosystem, package, entry)`, indexed by `(ecosystem, package)` and by
//!   `advisory_id`: one row per `affected[]` entry with a package, `entry` the [`Affected`] as
//!   JSON. `ecosystem` is as the record writes it, `package` as
//!   [`crate::ecosystem::normalize_name`] returns it.
//! - `aliases(alias, advisory_id, kind)`, primary key `(alias, advisory_id)`: every ID in an
//!   advisory's `aliases` (`kind` = `alias`) or `related` (`kind` = `related`), so that a CVE
//!   finds the GHSA, Go and distro advisories that name it.
//! - `kev(cve PK, vendor, product, name, date_added, due_date, known_ransomware, cwes)`: the
//!   last imported KEV catalog (`cwes` a JSON array).
//! - `epss(cve PK, score, percentile)`: the last imported EPSS file.
//! - `meta(key PK, value)`: `kev_catalog_version`, `kev_date_released`, `epss_model_version`,
//!   `epss_score_date`.
//! - `sources(name PK, kind, origin, records, skipped, imported_at, etag, last_modified)`: one row
//!   per imported source (`kind` `osv`, `kev` or `epss`; `origin` the path or URL;
//!   `imported_at` RFC 3339 from the caller's clock; `etag`/`last_modified` of the download, for
//!   conditional requests on the next `db update`).
//!
//! # Journal mode
//!
//! Unlike the inventory store, this database keeps SQLite's rollback journal instead of WAL:
//! `db update` replaces the file by renaming a new one over it, and a `-wal` file left by the
//! old database would be replayed into the new one by the next reader. Writes are rare (one
//! transaction per import), and readers only wait (busy timeout) while a commit is written.

mod import;
pub(crate) mod time;
mod update;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::advisory::{Advisory, Affected};
use crate::kev::KevEntry;

pub use import::{ImportReport, SourceReport};
pub use time::format_rfc3339;
pub use update::{
    DEFAULT_ECOSYSTEMS, DownloadOutcome, DownloadReport, EPSS_URL, KEV_URL, OSV_URL, UpdateOptions,
    UpdateReport, update,
};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only:
/// a released migration never changes, so a database written by any earlier Palisade opens.
const MIGRATIONS: &[&str] = &[
    // 1: advisories, their index, KEV, EPSS and sources.
    "CREATE TABLE advisories (
        id TEXT PRIMARY KEY NOT NULL,
        modified TEXT NOT NULL,
        withdrawn TEXT,
        source TEXT NOT NULL,
        advisory TEXT NOT NULL,
        raw BLOB NOT NULL
    );
    CREATE TABLE affected (
        advisory_id TEXT NOT NULL,
        ecosystem TEXT NOT NULL,
        package TEXT NOT NULL,
        entry TEXT NOT NULL
    );
    CREATE INDEX affected_by_package ON affected(ecosystem, package);
    CREATE INDEX affected_by_advisory ON affected(advisory_id);
    CREATE TABLE aliases (
        alias TEXT NOT NULL,
        advisory_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        PRIMARY KEY (alias, advisory_id)
    ) WITHOUT ROWID;
    CREATE INDEX aliases_by_advisory ON aliases(advisory_id);
    CREATE TABLE kev (
        cve TEXT PRIMARY KEY NOT NULL,
        vendor TEXT NOT NULL,
        product TEXT NOT NULL,
        name TEXT NOT NULL,
        date_added TEXT NOT NULL,
        due_date TEXT NOT NULL,
        known_ransomware INTEGER NOT NULL,
        cwes TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE epss (
        cve TEXT PRIMARY KEY NOT NULL,
        score REAL NOT NULL,
        percentile REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE meta (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE sources (
        name TEXT PRIMARY KEY NOT NULL,
        kind TEXT NOT NULL,
        origin TEXT NOT NULL,
        records INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        imported_at TEXT NOT NULL,
        etag TEXT,
        last_modified TEXT
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// A database whose last import is older than this is stale (OSV sources publish daily).
pub const STALE_AFTER: Duration = Duration::from_secs(2 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "no advisory database at {}: run `palisade db update` (downloads OSV, KEV and EPSS) or `palisade db import PATH...`",
        path.display()
    )]
    Missing { path: PathBuf },
    #[error("advisory database {}: {message}", path.display())]
    Other { path: PathBuf, message: String },
}

pub struct AdvisoryDb {
    connection: Connection,
    path: PathBuf,
}

/// EPSS score and percentile of a CVE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epss {
    pub score: f32,
    pub percentile: f32,
}

/// What kind of data a source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Osv,
    Kev,
    Epss,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Osv => "osv",
            SourceKind::Kev => "kev",
            SourceKind::Epss => "epss",
        }
    }

    fn parse(text: &str) -> Option<SourceKind> {
        match text {
            "osv" => Some(SourceKind::Osv),
            "kev" => Some(SourceKind::Kev),
            "epss" => Some(SourceKind::Epss),
            _ => None,
        }
    }
}

/// One imported source as the `sources` table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    /// `Go`, `AlmaLinux-9`, `Debian` (an ecosystem for `db update`; the dump's folder or file
    /// name for `db import`), `kev`, `epss`.
    pub name: String,
    pub kind: SourceKind,
    /// The path or URL it was read from.
    pub origin: String,
    /// Records (OSV), catalog entries (KEV) or scored CVEs (EPSS) read.
    pub records: u64,
    /// Invalid records skipped.
    pub skipped: u64,
    /// RFC 3339, the caller's clock at import.
    pub imported_at: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What the database holds, for `palisade db status`.
#[derive(Debug, Clone, PartialEq)]
pub struct DbStatus {
    pub path: PathBuf,
    pub schema_version: usize,
    pub sources: Vec<SourceStatus>,
    pub advisories: u64,
    /// Of [`DbStatus::advisories`], how many are withdrawn (kept, never matched).
    pub withdrawn: u64,
    /// Rows of the package index (one per advisory and affected package).
    pub affected: u64,
    pub kev_entries: u64,
    pub epss_scores: u64,
    pub kev_catalog_version: Option<String>,
    pub epss_model_version: Option<String>,
    pub epss_score_date: Option<String>,
    /// The most recent `imported_at` of any source.
    pub last_update: Option<String>,
}

impl DbStatus {
    /// True when nothing was ever imported, or the last import is more than [`STALE_AFTER`]
    /// before `now` (RFC 3339, the caller's clock). An unreadable timestamp counts as stale.
    pub fn is_stale(&self, now: &str) -> bool {
        let (Some(last), Some(now)) = (
            self.last_update.as_deref().and_then(time::parse_rfc3339),
            time::parse_rfc3339(now),
        ) else {
            return true;
        };
        let limit = i64::try_from(STALE_AFTER.as_secs()).unwrap_or(i64::MAX);
        now.0.saturating_sub(last.0) > limit
    }
}

impl AdvisoryDb {
    /// Opens an existing database; [`DbError::Missing`] when there is none.
    pub fn open(path: &Path) -> Result<AdvisoryDb, DbError> {
        if !path.exists() {
            return Err(DbError::Missing {
                path: path.to_path_buf(),
            });
        }
        Self::open_with(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
    }

    /// Creates a new, empty database (and its directory); an error when the file exists.
    pub fn create(path: &Path) -> Result<AdvisoryDb, DbError> {
        if path.exists() {
            return Err(other(path, "already exists".to_string()));
        }
        Self::open_or_create(path)
    }

    /// Opens the database at `path`, creating it (and its directory) when missing.
    pub fn open_or_create(path: &Path) -> Result<AdvisoryDb, DbError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| {
                other(
                    path,
                    format!("cannot create the directory {}: {err}", parent.display()),
                )
            })?;
        }
        Self::open_with(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
    }

    fn open_with(path: &Path, flags: OpenFlags) -> Result<AdvisoryDb, DbError> {
        let flags = flags | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(path, flags)
            .map_err(|err| other(path, format!("cannot open: {err}")))?;
        // Scans read while `db import` writes: a reader waits for the commit instead of failing.
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(|err| other(path, err.to_string()))?;
        // Matching reads the package index and advisories at random: memory-mapped pages and a
        // larger page cache turn tens of thousands of `pread` calls into memory reads (a 5,000
        // package match spent more time in the kernel than in matching without them).
        for (pragma, value) in [("mmap_size", 1_i64 << 30), ("cache_size", -65_536)] {
            connection
                .pragma_update(None, pragma, value)
                .map_err(|err| other(path, err.to_string()))?;
        }
        let mut db = AdvisoryDb {
            connection,
            path: path.to_path_buf(),
        };
        db.migrate()?;
        Ok(db)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Holds one read transaction until dropped: every lookup in between sees the same database
    /// and SQLite takes its file lock once, not once per query (a 5,000-package match made ~1.6
    /// million `fcntl`/`stat` calls without it). Keep it short-lived: an import waits for it.
    pub fn snapshot(&self) -> Result<Snapshot<'_>, DbError> {
        self.connection
            .execute_batch("BEGIN DEFERRED")
            .map_err(|err| other(&self.path, err.to_string()))?;
        Ok(Snapshot { db: self })
    }

    fn sql(&self, err: rusqlite::Error) -> DbError {
        other(&self.path, err.to_string())
    }

    fn migrate(&mut self) -> Result<(), DbError> {
        let found: i64 = self
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|err| self.sql(err))?;
        let found = usize::try_from(found).unwrap_or(usize::MAX);
        if found > SCHEMA_VERSION {
            return Err(other(
                &self.path,
                format!(
                    "schema version {found} is newer than this Palisade knows ({SCHEMA_VERSION}); upgrade Palisade or run `palisade db update`"
                ),
            ));
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        if found == 0 {
            // Migrating an unrelated SQLite file would write our tables into it.
            let tables: i64 = self
                .connection
                .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
                .map_err(|err| self.sql(err))?;
            if tables > 0 {
                return Err(other(
                    &self.path,
                    "is a SQLite database but not a Palisade advisory database".to_string(),
                ));
            }
        }
        let path = self.path.clone();
        let sql = |err: rusqlite::Error| other(&path, err.to_string());
        // One transaction for all pending migrations: a crash leaves the old schema, never half.
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        for migration in MIGRATIONS.get(found..).unwrap_or_default() {
            transaction.execute_batch(migration).map_err(sql)?;
        }
        transaction
            .pragma_update(None, "user_version", SCHEMA_VERSION as i64)
            .map_err(sql)?;
        transaction.commit().map_err(sql)
    }

    /// Every affected entry for `package` (already normalized) in exactly `ecosystem`, of
    /// advisories that are not withdrawn, ordered by advisory ID.
    /// Whether any advisory names a package of `ecosystem` (exactly: `Debian:12`): without
    /// one, "no findings" would only mean "not assessed".
    pub fn covers(&self, ecosystem: &str) -> Result<bool, DbError> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT 1 FROM affected WHERE ecosystem = ?1 LIMIT 1")
            .map_err(|err| self.sql(err))?;
        statement
            .exists(params![ecosystem])
            .map_err(|err| self.sql(err))
    }

    pub fn affected(&self, ecosystem: &str, package: &str) -> Result<Vec<Affected>, DbError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT f.entry FROM affected f JOIN advisories a ON a.id = f.advisory_id
                 WHERE f.ecosystem = ?1 AND f.package = ?2 AND a.withdrawn IS NULL
                 ORDER BY f.advisory_id, f.rowid",
            )
            .map_err(|err| self.sql(err))?;
        let rows = statement
            .query_map(params![ecosystem, package], |row| row.get::<_, String>(0))
            .map_err(|err| self.sql(err))?;
        let mut out = Vec::new();
        for row in rows {
            let json = row.map_err(|err| self.sql(err))?;
            out.push(self.decode(&json, "affected entry")?);
        }
        Ok(out)
    }

    /// The advisory with this ID (withdrawn ones included).
    pub fn advisory(&self, id: &str) -> Result<Option<Advisory>, DbError> {
        let json: Option<String> = self
            .connection
            .prepare_cached("SELECT advisory FROM advisories WHERE id = ?1")
            .and_then(|mut statement| statement.query_row([id], |row| row.get(0)).optional())
            .map_err(|err| self.sql(err))?;
        json.map(|json| self.decode(&json, id)).transpose()
    }

    /// The advisory with ID `alias` and every advisory naming it in `aliases` or `related`
    /// (withdrawn ones included), ordered by ID: what is known about one CVE or GHSA.
    pub fn advisories_by_alias(&self, alias: &str) -> Result<Vec<Advisory>, DbError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT advisory FROM advisories WHERE id = ?1
                 UNION
                 SELECT a.advisory FROM aliases x JOIN advisories a ON a.id = x.advisory_id
                 WHERE x.alias = ?1",
            )
            .map_err(|err| self.sql(err))?;
        let rows = statement
            .query_map([alias], |row| row.get::<_, String>(0))
            .map_err(|err| self.sql(err))?;
        let mut out = Vec::new();
        for row in rows {
            let json = row.map_err(|err| self.sql(err))?;
            out.push(self.decode::<Advisory>(&json, alias)?);
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// The original OSV record of an advisory, as imported.
    pub fn raw_record(&self, id: &str) -> Result<Option<Vec<u8>>, DbError> {
        let compressed: Option<Vec<u8>> = self
            .connection
            .prepare_cached("SELECT raw FROM advisories WHERE id = ?1")
            .and_then(|mut statement| statement.query_row([id], |row| row.get(0)).optional())
            .map_err(|err| self.sql(err))?;
        compressed
            .map(|compressed| {
                zstd::stream::decode_all(compressed.as_slice()).map_err(|err| {
                    other(
                        &self.path,
                        format!("the stored record of {id} is unreadable ({err}); run `palisade db update`"),
                    )
                })
            })
            .transpose()
    }

    pub fn kev(&self, cve: &str) -> Result<Option<KevEntry>, DbError> {
        let row = self
            .connection
            .prepare_cached(
                "SELECT cve, vendor, product, name, date_added, due_date, known_ransomware, cwes
                 FROM kev WHERE cve = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row([cve], |row| {
                        Ok((
                            KevEntry {
                                cve_id: row.get(0)?,
                                vendor: row.get(1)?,
                                product: row.get(2)?,
                                name: row.get(3)?,
                                date_added: row.get(4)?,
                                due_date: row.get(5)?,
                                known_ransomware: row.get(6)?,
                                cwes: Vec::new(),
                            },
                            row.get::<_, String>(7)?,
                        ))
                    })
                    .optional()
            })
            .map_err(|err| self.sql(err))?;
        row.map(|(mut entry, cwes)| {
            entry.cwes = self.decode(&cwes, cve)?;
            Ok(entry)
        })
        .transpose()
    }

    pub fn epss(&self, cve: &str) -> Result<Option<Epss>, DbError> {
        self.connection
            .prepare_cached("SELECT score, percentile FROM epss WHERE cve = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row([cve], |row| {
                        Ok(Epss {
                            score: row.get::<_, f64>(0)? as f32,
                            percentile: row.get::<_, f64>(1)? as f32,
                        })
                    })
                    .optional()
            })
            .map_err(|err| self.sql(err))
    }

    /// Sources, counts and dates.
    pub fn status(&self) -> Result<DbStatus, DbError> {
        let count = |sql: &str| -> Result<u64, DbError> {
            self.connection
                .query_row(sql, [], |row| row.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|err| self.sql(err))
        };
        let mut sources = Vec::new();
        {
            let mut statement = self
                .connection
                .prepare(
                    "SELECT name, kind, origin, records, skipped, imported_at, etag, last_modified
                     FROM sources ORDER BY kind DESC, name",
                )
                .map_err(|err| self.sql(err))?;
            let rows = statement
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, String>(5)?,
                        row.get::<_, Option<String>>(6)?,
                        row.get::<_, Option<String>>(7)?,
                    ))
                })
                .map_err(|err| self.sql(err))?;
            for row in rows {
                let (name, kind, origin, records, skipped, imported_at, etag, last_modified) =
                    row.map_err(|err| self.sql(err))?;
                let Some(kind) = SourceKind::parse(&kind) else {
                    return Err(other(
                        &self.path,
                        format!("source {name} has unknown kind {kind:?}"),
                    ));
                };
                sources.push(SourceStatus {
                    name,
                    kind,
                    origin,
                    records: u64::try_from(records).unwrap_or(0),
                    skipped: u64::try_from(skipped).unwrap_or(0),
                    imported_at,
                    etag,
                    last_modified,
                });
            }
        }
        let last_update = sources
            .iter()
            .filter_map(|source| {
                time::parse_rfc3339(&source.imported_at).map(|at| (at, &source.imported_at))
            })
            .max()
            .map(|(_, text)| text.clone());
        Ok(DbStatus {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            advisories: count("SELECT count(*) FROM advisories")?,
            withdrawn: count("SELECT count(*) FROM advisories WHERE withdrawn IS NOT NULL")?,
            affected: count("SELECT count(*) FROM affected")?,
            kev_entries: count("SELECT count(*) FROM kev")?,
            epss_scores: count("SELECT count(*) FROM epss")?,
            kev_catalog_version: self.meta("kev_catalog_version")?,
            epss_model_version: self.meta("epss_model_version")?,
            epss_score_date: self.meta("epss_score_date")?,
            sources,
            last_update,
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        self.connection
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|err| self.sql(err))
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, json: &str, what: &str) -> Result<T, DbError> {
        serde_json::from_str(json).map_err(|err| {
            other(
                &self.path,
                format!("stored data of {what} is unreadable ({err}); run `palisade db update`"),
            )
        })
    }
}

fn other(path: &Path, message: String) -> DbError {
    DbError::Other {
        path: path.to_path_buf(),
        message,
    }
}

/// A read transaction; see [`AdvisoryDb::snapshot`].
pub struct Snapshot<'a> {
    db: &'a AdvisoryDb,
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        // A read transaction has nothing to lose; a failed COMMIT leaves it to the next BEGIN's
        // error, which names the database.
        let _ = self.db.connection.execute_batch("COMMIT");
    }
}
