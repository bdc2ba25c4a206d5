//! rpmdb `Packages.db` in rpm's own "ndb" format (SUSE since 15 SP3/Leap 15.3): a header, slot
//! pages pointing at blobs, and the blobs, as laid out by rpm's `lib/backend/ndb/rpmpkg.c` and
//! read by go-rpmdb's `pkg/ndb`. Everything is little-endian and bounds-checked.

const HEADER_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const SLOT_PAGE_SIZE: usize = 4096;
const SLOT_SIZE: usize = 16;
/// Blob offsets count 16-byte blocks.
const BLOCK_SIZE: usize = 16;
const BLOB_HEADER_SIZE: usize = 16;
/// go-rpmdb's guard against absurd slot page counts (2048 pages = 524 288 packages).
const MAX_SLOT_PAGES: usize = 2048;

/// What an ndb file holds.
#[derive(Debug, Default)]
pub struct Values {
    /// Header blobs, in slot order.
    pub values: Vec<Vec<u8>>,
    /// Slots whose blob could not be read, described.
    pub errors: Vec<String>,
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The header blobs of the ndb file `db`; `Err` when it is not one.
pub fn values(db: &[u8]) -> Result<Values, String> {
    if le_u32(db, 0) != Some(HEADER_MAGIC) {
        return Err("not an rpm ndb database (bad magic)".into());
    }
    if le_u32(db, 4) != Some(0) {
        return Err("unsupported ndb version".into());
    }
    let slot_pages = le_u32(db, 12).unwrap_or(0) as usize;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
        return Err(format!("invalid slot page count {slot_pages}"));
    }
    let slot_area = db
        .get(..slot_pages * SLOT_PAGE_SIZE)
        .ok_or("file shorter than its slot pages")?;
    let mut out = Values::default();
    // The first two slot-sized records are the file header.
    for slot in slot_area.chunks_exact(SLOT_SIZE).skip(2) {
        if le_u32(slot, 0) != Some(SLOT_MAGIC) {
            return Err("bad slot magic".into());
        }
        let package_index = le_u32(slot, 4).unwrap_or(0);
        if package_index == 0 {
            continue;
        }
        let block_offset = le_u32(slot, 8).unwrap_or(0) as usize;
        match blob(db, block_offset * BLOCK_SIZE, package_index) {
            Ok(bytes) => out.values.push(bytes.to_vec()),
            Err(e) => out.errors.push(format!("package {package_index}: {e}")),
        }
    }
    Ok(out)
}

fn blob(db: &[u8], start: usize, package_index: u32) -> Result<&[u8], String> {
    if le_u32(db, start) != Some(BLOB_MAGIC) {
        return Err(format!("no blob at offset {start}"));
    }
    if le_u32(db, start + 4) != Some(package_index) {
        return Err("blob belongs to another package".into());
    }
    let length = le_u32(db, start + 12).unwrap_or(0) as usize;
    let data_start = start + BLOB_HEADER_SIZE;
    db.get(data_start..data_start.saturating_add(length))
        .ok_or_else(|| format!("blob of {length} bytes runs past the end of the file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_blobs_and_rejects_corruption() {
        let mut db = vec![0u8; SLOT_PAGE_SIZE];
        db[0..4].copy_from_slice(b"RpmP");
        db[12..16].copy_from_slice(&1u32.to_le_bytes());
        for slot in db[32..].chunks_exact_mut(SLOT_SIZE) {
            slot[0..4].copy_from_slice(b"Slot");
        }
        // Slot 2: package 5 at block 256 (right after the slot page); slot 3: dangling.
        db[32 + 4..32 + 8].copy_from_slice(&5u32.to_le_bytes());
        db[32 + 8..32 + 12].copy_from_slice(&256u32.to_le_bytes());
        db[48 + 4..48 + 8].copy_from_slice(&6u32.to_le_bytes());
        db[48 + 8..48 + 12].copy_from_slice(&9999u32.to_le_bytes());
        db.extend_from_slice(b"BlbS");
        db.extend_from_slice(&5u32.to_le_bytes());
        db.extend_from_slice(&0u32.to_le_bytes());
        db.extend_from_slice(&3u32.to_le_bytes());
        db.extend_from_slice(b"abc");
        let result = values(&db).unwrap();
        assert_eq!(result.values, [b"abc".to_vec()]);
        assert_eq!(result.errors.len(), 1);
        assert!(values(b"RpmP").is_err());
        assert!(values(&[]).is_err());
    }
}
