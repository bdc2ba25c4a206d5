//! rpmdb `Packages` files in Berkeley DB hash format (RHEL/CentOS ≤ 8, Amazon Linux 2, older
//! SUSE): read page by page without libdb, as go-rpmdb's `pkg/bdb` does, following the page
//! layouts of libdb's `dbinc/db_page.h`.
//!
//! A hash page holds key/value item pairs; rpm headers are normally too big to sit on the page
//! and are stored as an "off-page" item pointing at a chain of overflow pages. Small values sit
//! on the page itself. Everything is bounds-checked; chains are cut at the page count so a loop
//! cannot run forever, and output is capped by the input size.

/// The Berkeley DB hash magic number (`DB_HASHMAGIC`).
const HASH_MAGIC: u32 = 0x0006_1561;
/// Page header size of every non-metadata page (`SIZEOF_PAGE`).
const PAGE_HEADER: usize = 26;
const PAGE_TYPE_HASH_UNSORTED: u8 = 2;
const PAGE_TYPE_OVERFLOW: u8 = 7;
const PAGE_TYPE_HASH_META: u8 = 8;
const PAGE_TYPE_HASH: u8 = 13;
/// On-page item types (`H_KEYDATA`, `H_OFFPAGE`).
const ITEM_KEYDATA: u8 = 1;
const ITEM_OFFPAGE: u8 = 3;

/// What the values of a Berkeley DB hash database hold, less rpm's bookkeeping record.
#[derive(Debug, Default)]
pub struct Values {
    /// The stored values (rpm header blobs), in page order.
    pub values: Vec<Vec<u8>>,
    /// Values that could not be read (broken overflow chains), described.
    pub errors: Vec<String>,
}

#[derive(Clone, Copy)]
struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes.get(at..at.checked_add(2)?)?;
        let raw = [b[0], b[1]];
        Some(if self.big_endian {
            u16::from_be_bytes(raw)
        } else {
            u16::from_le_bytes(raw)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at.checked_add(4)?)?;
        let raw = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(raw)
        } else {
            u32::from_le_bytes(raw)
        })
    }
}

/// Every value of the hash database in `db`. `Err` when `db` is not a readable Berkeley DB hash
/// file at all.
pub fn values(db: &[u8]) -> Result<Values, String> {
    let le = Reader {
        bytes: db,
        big_endian: false,
    };
    let reader = match le.u32(12) {
        Some(HASH_MAGIC) => le,
        Some(_) if u32::from_be_bytes(magic_bytes(db)) == HASH_MAGIC => Reader {
            bytes: db,
            big_endian: true,
        },
        Some(_) => return Err("not a Berkeley DB hash database (bad magic)".into()),
        None => return Err("too short for a Berkeley DB metadata page".into()),
    };
    if db.get(24) != Some(&0) {
        return Err("encrypted Berkeley DB databases are not supported".into());
    }
    if db.get(25) != Some(&PAGE_TYPE_HASH_META) {
        return Err("first page is not a hash metadata page".into());
    }
    let page_size = reader.u32(20).unwrap_or(0) as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("invalid page size {page_size}"));
    }
    // The metadata's last page number is trusted only as far as the file really goes.
    let last_page = (reader.u32(32).unwrap_or(0) as usize).min(db.len() / page_size);

    let mut out = Values::default();
    let mut budget = db.len();
    for page_no in 1..=last_page {
        let Some(page) = db.get(page_no * page_size..(page_no + 1) * page_size) else {
            break;
        };
        let page_type = page.get(25).copied().unwrap_or(0);
        if page_type != PAGE_TYPE_HASH && page_type != PAGE_TYPE_HASH_UNSORTED {
            continue;
        }
        let page_reader = Reader {
            bytes: page,
            big_endian: reader.big_endian,
        };
        let entries = page_reader.u16(20).unwrap_or(0) as usize;
        let offsets: Vec<usize> = (0..entries)
            .map_while(|i| page_reader.u16(PAGE_HEADER + 2 * i).map(usize::from))
            .collect();
        // Items are packed from the page end downwards: an item ends where the previous one
        // (in index order) starts (libdb's `LEN_HITEM`).
        let item = |index: usize| -> Option<&[u8]> {
            let start = *offsets.get(index)?;
            let end = if index == 0 {
                page_size
            } else {
                *offsets.get(index - 1)?
            };
            page.get(start..end)
        };
        for pair in 0..offsets.len() / 2 {
            let (Some(key), Some(value)) = (item(2 * pair), item(2 * pair + 1)) else {
                out.errors
                    .push(format!("page {page_no}: item {pair} out of bounds"));
                continue;
            };
            // rpm keeps its next header number under key 0; it is not a package.
            if key.first() == Some(&ITEM_KEYDATA) && key.get(1..) == Some(&[0, 0, 0, 0][..]) {
                continue;
            }
            let bytes = match value.first() {
                Some(&ITEM_KEYDATA) => value.get(1..).unwrap_or_default().to_vec(),
                Some(&ITEM_OFFPAGE) => {
                    let item_reader = Reader {
                        bytes: value,
                        big_endian: reader.big_endian,
                    };
                    let (Some(first), Some(total)) = (item_reader.u32(4), item_reader.u32(8))
                    else {
                        out.errors
                            .push(format!("page {page_no}: truncated off-page item"));
                        continue;
                    };
                    match overflow_chain(reader, page_size, last_page, first, total as usize) {
                        Ok(bytes) => bytes,
                        Err(e) => {
                            out.errors.push(format!("page {page_no}: {e}"));
                            continue;
                        }
                    }
                }
                // Duplicate sets are not used by rpm's Packages database.
                _ => continue,
            };
            if bytes.len() > budget {
                return Err(
                    "values add up to more than the file holds (overflow chains shared or looping)"
                        .into(),
                );
            }
            budget -= bytes.len();
            out.values.push(bytes);
        }
    }
    Ok(out)
}

fn magic_bytes(db: &[u8]) -> [u8; 4] {
    match db.get(12..16) {
        Some(b) => [b[0], b[1], b[2], b[3]],
        None => [0; 4],
    }
}

/// Concatenates the overflow pages starting at `first`: each holds its used byte count in the
/// `hf_offset` field and links to the next page.
fn overflow_chain(
    reader: Reader<'_>,
    page_size: usize,
    last_page: usize,
    first: u32,
    total: usize,
) -> Result<Vec<u8>, String> {
    if total > reader.bytes.len() {
        return Err(format!("off-page item of {total} bytes in a smaller file"));
    }
    let mut out = Vec::with_capacity(total);
    let mut page_no = first as usize;
    let mut visited = 0;
    while page_no != 0 {
        visited += 1;
        if visited > last_page || page_no > last_page {
            return Err(format!("overflow chain broken at page {page_no}"));
        }
        let start = page_no * page_size;
        let page = reader
            .bytes
            .get(start..start + page_size)
            .ok_or_else(|| format!("overflow page {page_no} beyond the file"))?;
        if page.get(25) != Some(&PAGE_TYPE_OVERFLOW) {
            return Err(format!("page {page_no} is not an overflow page"));
        }
        let page_reader = Reader {
            bytes: page,
            big_endian: reader.big_endian,
        };
        let used = page_reader.u16(22).unwrap_or(0) as usize;
        let data = page
            .get(PAGE_HEADER..PAGE_HEADER + used)
            .ok_or_else(|| format!("overflow page {page_no} claims {used} bytes"))?;
        out.extend_from_slice(data);
        if out.len() > total {
            return Err(format!("overflow chain longer than its {total} bytes"));
        }
        page_no = page_reader.u32(16).unwrap_or(0) as usize;
    }
    if out.len() != total {
        return Err(format!(
            "overflow chain holds {} of {total} bytes",
            out.len()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_a_hash_database() {
        assert!(values(&[]).is_err());
        assert!(values(&[0u8; 512]).is_err());
        let mut meta = vec![0u8; 512];
        meta[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        meta[20..24].copy_from_slice(&1000u32.to_le_bytes());
        meta[25] = PAGE_TYPE_HASH_META;
        assert!(values(&meta).unwrap_err().contains("page size"));
    }

    #[test]
    fn looping_overflow_chains_end() {
        let page_size = 512usize;
        let mut db = vec![0u8; page_size * 3];
        db[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        db[20..24].copy_from_slice(&(page_size as u32).to_le_bytes());
        db[25] = PAGE_TYPE_HASH_META;
        db[32..36].copy_from_slice(&2u32.to_le_bytes());
        // Page 1: hash page with one pair, the value off-page at page 2.
        let p1 = page_size;
        db[p1 + 20..p1 + 22].copy_from_slice(&2u16.to_le_bytes());
        db[p1 + 25] = PAGE_TYPE_HASH;
        let key_at = page_size - 5;
        let value_at = key_at - 12;
        db[p1 + 26..p1 + 28].copy_from_slice(&(key_at as u16).to_le_bytes());
        db[p1 + 28..p1 + 30].copy_from_slice(&(value_at as u16).to_le_bytes());
        db[p1 + key_at] = ITEM_KEYDATA;
        db[p1 + key_at + 1] = 7;
        db[p1 + value_at] = ITEM_OFFPAGE;
        db[p1 + value_at + 4..p1 + value_at + 8].copy_from_slice(&2u32.to_le_bytes());
        db[p1 + value_at + 8..p1 + value_at + 12].copy_from_slice(&400u32.to_le_bytes());
        // Page 2: overflow page linking to itself.
        let p2 = 2 * page_size;
        db[p2 + 16..p2 + 20].copy_from_slice(&2u32.to_le_bytes());
        db[p2 + 22..p2 + 24].copy_from_slice(&100u16.to_le_bytes());
        db[p2 + 25] = PAGE_TYPE_OVERFLOW;
        let result = values(&db).unwrap();
        assert!(result.values.is_empty());
        assert_eq!(result.errors.len(), 1, "{:?}", result.errors);
    }
}
