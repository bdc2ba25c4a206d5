//! Any bytes as a .NET `*.deps.json`. Run: `cargo fuzz run lang_deps_json`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::dotnet;

fuzz_target!(|data: &[u8]| {
    let _ = dotnet::parse_deps_json("/app/x.deps.json", data);
});
