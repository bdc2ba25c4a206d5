//! Any bytes as an OSV record: the reader may reject them but must not panic, and what it accepts
//! must be consistent (every affected entry belongs to the advisory and has a package).
//! Run: `cargo fuzz run osv_record`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::osv;

fuzz_target!(|data: &[u8]| {
    if let Ok((advisory, affected)) = osv::parse_record("fuzz.json", data) {
        assert!(!advisory.id.is_empty());
        for entry in &affected {
            assert_eq!(entry.advisory_id, advisory.id);
            assert!(!entry.ecosystem.trim().is_empty());
            for range in &entry.ranges {
                assert!(!range.events.is_empty());
            }
        }
    }
});
