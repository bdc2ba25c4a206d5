//! Any bytes as Composer's `installed.json` / `composer.lock`. Run: `cargo fuzz run lang_composer`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::php;

fuzz_target!(|data: &[u8]| {
    let _ = php::parse_composer("/app/vendor/composer/installed.json", data);
});
