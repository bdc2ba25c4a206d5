//! Palisade's persistence: the inventory of every image it has read (its SBOM, by image digest, and
//! the references it was read under) and its latest findings, so that vulnerability rescans
//! re-match stored inventories instead of pulling images again and admission can judge an image by
//! digest without scanning it. Embedded by default: one SQLite file in Palisade's data
//! directory, with a versioned schema migrated forward on open.
//!
//! It keeps what rescans need and nothing more (per-package file lists, which only served to decide
//! `os_owned` before storage, are dropped). It must not read images, clusters or the environment: the CLI resolves where the database lives. Nothing secret is ever stored here:
//! SBOMs carry no credentials, and callers must not put any in references.

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_core::{ImageInfo, Sbom};
use rusqlite::{Connection, OptionalExtension, params};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only:
/// a released migration never changes, so a database written by any earlier Palisade opens.
const MIGRATIONS: &[&str] = &[
    // 1: stored image inventories.
    "CREATE TABLE images (
        key TEXT PRIMARY KEY NOT NULL,
        manifest_digest TEXT,
        config_digest TEXT,
        platform TEXT,
        distro TEXT,
        package_count INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_scanned INTEGER NOT NULL,
        sbom BLOB NOT NULL
    );
    CREATE TABLE image_references (
        reference TEXT PRIMARY KEY NOT NULL,
        image_key TEXT NOT NULL REFERENCES images(key) ON DELETE CASCADE,
        last_seen INTEGER NOT NULL
    );
    CREATE INDEX image_references_by_image ON image_references(image_key);",
    // 2: the last vulnerability match of each stored image, for rescans and admission gates.
    "CREATE TABLE image_findings (
        image_key TEXT PRIMARY KEY NOT NULL REFERENCES images(key) ON DELETE CASCADE,
        matched_at INTEGER NOT NULL,
        findings BLOB NOT NULL
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// zstd level for stored SBOMs: JSON inventories shrink ~10x at level 3, which costs little time.
const SBOM_COMPRESSION_LEVEL: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the store's directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {}: {source}", path.display())]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "store {} has schema version {found}, newer than this Palisade knows ({known}); upgrade Palisade or point PALISADE_HOME elsewhere",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("store {}: the stored SBOM of {key} is unreadable ({message}); remove it with `palisade store remove {key}` and scan the image again", path.display())]
    Corrupt {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// What the store knows about one image, without its packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// The image's identity: its manifest digest, else its config digest, else (a root file
    /// system read from a directory) the reference it was read as.
    pub key: String,
    /// References it was read under, most recent first.
    pub references: Vec<String>,
    pub manifest_digest: Option<String>,
    pub config_digest: Option<String>,
    pub platform: Option<String>,
    /// `id version` of the distribution, when detected.
    pub distro: Option<String>,
    pub package_count: usize,
    /// Seconds since the epoch.
    pub first_seen: i64,
    pub last_scanned: i64,
}

/// The identity an image is stored under: the manifest digest names exactly what a registry
/// serves; the config digest (the image ID) is the next best for archives without a manifest
/// digest; a directory has only its reference.
pub fn image_key(image: &ImageInfo) -> String {
    image
        .manifest_digest
        .clone()
        .or_else(|| image.config_digest.clone())
        .unwrap_or_else(|| image.reference.clone())
}

pub struct Store {
    connection: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating when missing, with its directory) the store at `path` and migrates its
    /// schema forward.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let connection = Connection::open(path).map_err(open_error)?;
        // Scans run in parallel processes (a CI matrix, `palisade sbom` beside a rescan): WAL lets
        // readers go on during a write, and the timeout makes writers queue instead of failing.
        connection
            .busy_timeout(Duration::from_secs(30))
            .map_err(open_error)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        let mut store = Store {
            connection,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql_error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found: i64 = self
            .connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| self.sql_error(e))?;
        let found = usize::try_from(found).unwrap_or(usize::MAX);
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        let sql_error = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        // One transaction for all pending migrations: a crash leaves the old schema, never half.
        let transaction = self.connection.transaction().map_err(sql_error)?;
        for migration in &MIGRATIONS[found..] {
            transaction.execute_batch(migration).map_err(sql_error)?;
        }
        transaction
            .pragma_update(None, "user_version", SCHEMA_VERSION as i64)
            .map_err(sql_error)?;
        transaction.commit().map_err(sql_error)
    }

    /// Stores an image's inventory under [`image_key`] and records `sbom.image.reference` (and
    /// the canonical `sbom.image.tags`) as pointing at it (a tag that moved now names the new image; the old image stays stored).
    /// Returns the key.
    pub fn put_sbom(&mut self, sbom: &Sbom, scanned_at: i64) -> Result<String, StoreError> {
        let key = image_key(&sbom.image);
        let mut stored = sbom.clone();
        for package in &mut stored.packages {
            package.files = Vec::new();
        }
        let json = serde_json::to_vec(&stored).map_err(|e| StoreError::Corrupt {
            path: self.path.clone(),
            key: key.clone(),
            message: e.to_string(),
        })?;
        let compressed = zstd::bulk::compress(&json, SBOM_COMPRESSION_LEVEL).map_err(|e| {
            StoreError::Corrupt {
                path: self.path.clone(),
                key: key.clone(),
                message: e.to_string(),
            }
        })?;
        let distro = sbom
            .distro
            .as_ref()
            .map(|d| format!("{} {}", d.id, d.version_id).trim().to_string());
        let path = self.path.clone();
        let sql_error = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        // Immediate: take the write lock up front so a busy store makes this wait (busy_timeout)
        // rather than fail on a read-to-write upgrade.
        let transaction = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_error)?;
        transaction
            .execute(
                "INSERT INTO images (key, manifest_digest, config_digest, platform, distro,
                     package_count, first_seen, last_scanned, sbom)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)
                 ON CONFLICT(key) DO UPDATE SET
                     manifest_digest = excluded.manifest_digest,
                     config_digest = excluded.config_digest,
                     platform = excluded.platform,
                     distro = excluded.distro,
                     package_count = excluded.package_count,
                     last_scanned = excluded.last_scanned,
                     sbom = excluded.sbom",
                params![
                    key,
                    sbom.image.manifest_digest,
                    sbom.image.config_digest,
                    sbom.image.platform,
                    distro,
                    sbom.packages.len() as i64,
                    scanned_at,
                    compressed,
                ],
            )
            .map_err(sql_error)?;
        // The reference as the user wrote it and the canonical `registry/repo:tag` forms the
        // source knows (`nginx:1.25` is `docker.io/library/nginx:1.25`): admission sees images as
        // pods write them and must find them either way.
        // A bare tag (an OCI layout's `1.0`) names nothing outside its layout and is left out.
        let mut references = vec![sbom.image.reference.as_str()];
        references.extend(
            sbom.image
                .tags
                .iter()
                .map(String::as_str)
                .filter(|t| *t != sbom.image.reference && t.contains(['/', ':'])),
        );
        for reference in references {
            transaction
                .execute(
                    "INSERT INTO image_references (reference, image_key, last_seen) VALUES (?1, ?2, ?3)
                     ON CONFLICT(reference) DO UPDATE SET
                         image_key = excluded.image_key, last_seen = excluded.last_seen",
                    params![reference, key, scanned_at],
                )
                .map_err(sql_error)?;
        }
        transaction.commit().map_err(sql_error)?;
        Ok(key)
    }

    /// The key of the image `name` designates: a stored key (digest) or a reference it was read
    /// under.
    pub fn resolve(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.connection
            .query_row(
                "SELECT key FROM images WHERE key = ?1
                 UNION ALL
                 SELECT image_key FROM image_references WHERE reference = ?1
                 LIMIT 1",
                params![name],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.sql_error(e))
    }

    /// The stored inventory of the image `name` designates (key or reference).
    pub fn sbom(&self, name: &str) -> Result<Option<Sbom>, StoreError> {
        let Some(key) = self.resolve(name)? else {
            return Ok(None);
        };
        let compressed: Option<Vec<u8>> = self
            .connection
            .query_row(
                "SELECT sbom FROM images WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.sql_error(e))?;
        let Some(compressed) = compressed else {
            return Ok(None);
        };
        let corrupt = |message: String| StoreError::Corrupt {
            path: self.path.clone(),
            key: key.clone(),
            message,
        };
        let mut json = Vec::new();
        zstd::stream::copy_decode(compressed.as_slice(), &mut json)
            .map_err(|e| corrupt(e.to_string()))?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| corrupt(e.to_string()))
    }

    /// Every stored image, most recently scanned first.
    pub fn images(&self) -> Result<Vec<StoredImage>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT key, manifest_digest, config_digest, platform, distro, package_count,
                        first_seen, last_scanned
                 FROM images ORDER BY last_scanned DESC, key",
            )
            .map_err(|e| self.sql_error(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(StoredImage {
                    key: row.get(0)?,
                    references: Vec::new(),
                    manifest_digest: row.get(1)?,
                    config_digest: row.get(2)?,
                    platform: row.get(3)?,
                    distro: row.get(4)?,
                    package_count: usize::try_from(row.get::<_, i64>(5)?).unwrap_or(0),
                    first_seen: row.get(6)?,
                    last_scanned: row.get(7)?,
                })
            })
            .map_err(|e| self.sql_error(e))?;
        let mut images = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sql_error(e))?;
        let mut statement = self
            .connection
            .prepare(
                "SELECT image_key, reference FROM image_references
                 ORDER BY last_seen DESC, reference",
            )
            .map_err(|e| self.sql_error(e))?;
        let references = statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))
            .map_err(|e| self.sql_error(e))?
            .collect::<Result<Vec<(String, String)>, _>>()
            .map_err(|e| self.sql_error(e))?;
        let position: std::collections::HashMap<String, usize> = images
            .iter()
            .enumerate()
            .map(|(i, image)| (image.key.clone(), i))
            .collect();
        for (key, reference) in references {
            if let Some(&i) = position.get(&key) {
                images[i].references.push(reference);
            }
        }
        Ok(images)
    }

    /// Records the latest findings of the stored image `key` (an opaque document the caller
    /// serializes, e.g. a vulnerability report), replacing the previous ones.
    pub fn put_findings(
        &mut self,
        key: &str,
        matched_at: i64,
        findings: &[u8],
    ) -> Result<(), StoreError> {
        let compressed = zstd::bulk::compress(findings, SBOM_COMPRESSION_LEVEL).map_err(|e| {
            StoreError::Corrupt {
                path: self.path.clone(),
                key: key.to_string(),
                message: e.to_string(),
            }
        })?;
        self.connection
            .execute(
                "INSERT INTO image_findings (image_key, matched_at, findings) VALUES (?1, ?2, ?3)
                 ON CONFLICT(image_key) DO UPDATE SET
                     matched_at = excluded.matched_at, findings = excluded.findings",
                params![key, matched_at, compressed],
            )
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// The key of the image `name` designates and when its latest findings were matched, without
    /// reading them: lets a reader keep a parsed copy until they change.
    pub fn findings_stamp(&self, name: &str) -> Result<Option<(String, i64)>, StoreError> {
        let Some(key) = self.resolve(name)? else {
            return Ok(None);
        };
        let matched_at: Option<i64> = self
            .connection
            .query_row(
                "SELECT matched_at FROM image_findings WHERE image_key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.sql_error(e))?;
        Ok(matched_at.map(|at| (key, at)))
    }

    /// The latest findings of the image `name` designates (key or reference): when they were
    /// matched and the document.
    pub fn findings(&self, name: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        let Some(key) = self.resolve(name)? else {
            return Ok(None);
        };
        let row: Option<(i64, Vec<u8>)> = self
            .connection
            .query_row(
                "SELECT matched_at, findings FROM image_findings WHERE image_key = ?1",
                params![key],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sql_error(e))?;
        let Some((matched_at, compressed)) = row else {
            return Ok(None);
        };
        let mut document = Vec::new();
        zstd::stream::copy_decode(compressed.as_slice(), &mut document).map_err(|e| {
            StoreError::Corrupt {
                path: self.path.clone(),
                key: key.clone(),
                message: e.to_string(),
            }
        })?;
        Ok(Some((matched_at, document)))
    }

    /// Forgets the image `name` designates (key or reference) with every reference to it.
    /// Returns whether there was one.
    pub fn remove(&mut self, name: &str) -> Result<bool, StoreError> {
        let Some(key) = self.resolve(name)? else {
            return Ok(false);
        };
        let removed = self
            .connection
            .execute("DELETE FROM images WHERE key = ?1", params![key])
            .map_err(|e| self.sql_error(e))?;
        Ok(removed > 0)
    }
}
