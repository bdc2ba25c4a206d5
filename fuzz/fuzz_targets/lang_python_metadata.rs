//! Any bytes as a Python `METADATA`/`PKG-INFO`: the header extractor and the parser answer, never
//! panic. Run: `cargo fuzz run lang_python_metadata`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::python;

fuzz_target!(|data: &[u8]| {
    let _ = python::parse_metadata("/site-packages/x.dist-info/METADATA", data);
    if let Ok(Some(headers)) = python::metadata_headers(&mut &data[..], data.len() as u64) {
        assert!(headers.len() <= data.len() + 8);
    }
});
