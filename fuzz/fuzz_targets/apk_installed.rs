//! Any bytes as an apk installed database: the parser must not panic. Run:
//! `cargo fuzz run apk_installed`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::apk::parse_installed;

fuzz_target!(|data: &[u8]| {
    let records = parse_installed(&String::from_utf8_lossy(data));
    // Every record has a name; files are absolute.
    for record in records {
        assert!(!record.name.is_empty());
        assert!(record.files.iter().all(|f| f.starts_with('/')));
    }
});
