//! Any bytes as an rpm header blob: the header parser must not panic or allocate without bound.
//! Run: `cargo fuzz run rpm_header`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rpm::header::{parse, split_source_rpm};

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = parse(data)
        && let Some(source) = header.source_rpm.as_deref()
    {
        let _ = split_source_rpm(source);
    }
});
