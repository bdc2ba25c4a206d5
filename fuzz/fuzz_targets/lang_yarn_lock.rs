//! Any bytes as a `yarn.lock` (classic or berry). Run: `cargo fuzz run lang_yarn_lock`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::node;

fuzz_target!(|data: &[u8]| {
    for package in node::parse_yarn_lock("/app/yarn.lock", data) {
        assert!(!package.name.is_empty() && !package.version.is_empty());
    }
});
