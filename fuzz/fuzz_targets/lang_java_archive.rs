//! Any bytes as a Java archive: the extractor reads zips (nested too) within its caps and the
//! summary turns into packages. Run: `cargo fuzz run lang_java_archive`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::java;

fuzz_target!(|data: &[u8]| {
    let _ = java::archive_extract(&mut &data[..], data.len() as u64);
    let text = String::from_utf8_lossy(data);
    let _ = java::parse_manifest(&text);
    let _ = java::parse_properties(&text);
    let _ = java::name_version_from_file(&text);
});
