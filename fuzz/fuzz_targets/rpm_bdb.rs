//! Any bytes as an rpmdb Berkeley DB `Packages` file, then every value through the header
//! parser. Run: `cargo fuzz run rpm_bdb`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rpm::{bdb, header};

fuzz_target!(|data: &[u8]| {
    if let Ok(values) = bdb::values(data) {
        // Output never exceeds the input: shared or looping overflow chains are refused.
        assert!(values.values.iter().map(Vec::len).sum::<usize>() <= data.len());
        for value in &values.values {
            let _ = header::parse(value);
        }
    }
});
