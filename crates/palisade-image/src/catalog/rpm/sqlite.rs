//! rpmdb `rpmdb.sqlite` (rpm ≥ 4.16: RHEL/Rocky/Alma 9, Fedora ≥ 33, Amazon Linux 2023): table
//! `Packages(hnum, blob)` holding header blobs.
//!
//! The database is opened from the bytes the file tree kept, through SQLite's in-memory
//! deserialization: nothing is written to disk.

use std::io::Read;

use rusqlite::{Connection, MAIN_DB, OpenFlags};

/// SQLite's own limit on a deserialized database is an `int`; images never carry rpmdbs near it.
const MAX_DB_BYTES: usize = 1 << 30;

/// The header blobs of the SQLite rpmdb `db`.
pub fn values(db: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !db.starts_with(b"SQLite format 3\0") || db.len() < 100 {
        return Err("not an SQLite database".into());
    }
    if db.len() > MAX_DB_BYTES {
        return Err(format!("{} bytes is too large for an rpmdb", db.len()));
    }
    let mut connection = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    // Bytes 18 and 19 are the read/write format versions; 2 means WAL, which an in-memory copy
    // cannot use (there is no -wal/-shm beside it). Presenting it as a rollback-journal
    // database reads the same pages.
    let wal_patched = (&db[..18]).chain(&[1u8, 1][..]).chain(&db[20..]);
    connection
        .deserialize_read_exact(MAIN_DB, wal_patched, db.len(), true)
        .map_err(|e| e.to_string())?;
    // The schema comes from the image: `Packages` must be a plain table, not a view whose
    // definition could make the query arbitrarily expensive.
    let kind: String = connection
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |row| row.get(0),
        )
        .map_err(|e| format!("no Packages table: {e}"))?;
    if kind != "table" {
        return Err(format!("Packages is a {kind}, not a table"));
    }
    let mut statement = connection
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .map_err(|e| e.to_string())?;
    let rows = statement
        .query_map([], |row| row.get::<_, Vec<u8>>(0))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_an_rpmdb() {
        assert!(values(b"").is_err());
        assert!(values(b"SQLite format 3\0 truncated").is_err());
        let mut garbage = b"SQLite format 3\0".to_vec();
        garbage.resize(4096, 0xa5);
        assert!(values(&garbage).is_err());
    }
}
