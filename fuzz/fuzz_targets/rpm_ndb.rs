//! Any bytes as an rpmdb ndb `Packages.db` file, then every blob through the header parser.
//! Run: `cargo fuzz run rpm_ndb`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rpm::{header, ndb};

fuzz_target!(|data: &[u8]| {
    if let Ok(values) = ndb::values(data) {
        for value in &values.values {
            let _ = header::parse(value);
        }
    }
});
