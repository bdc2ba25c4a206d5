//! Any bytes as an installed gemspec and as a `Gemfile.lock`. Run: `cargo fuzz run lang_gemspec`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::ruby;

fuzz_target!(|data: &[u8]| {
    let _ = ruby::parse_gemspec("/usr/local/bundle/specifications/x.gemspec", data);
    let _ = ruby::parse_gemfile_lock("/app/Gemfile.lock", data);
});
