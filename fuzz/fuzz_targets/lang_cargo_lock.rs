//! Any bytes as `Cargo.lock` and as cargo-auditable JSON. Run: `cargo fuzz run lang_cargo_lock`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rust;

fuzz_target!(|data: &[u8]| {
    let _ = rust::parse_cargo_lock("/src/Cargo.lock", data);
    let _ = rust::parse_auditable("/bin/x", data);
});
