//! Any bytes as `package-lock.json` and as an installed `package.json`. Run:
//! `cargo fuzz run lang_package_lock`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::node;

fuzz_target!(|data: &[u8]| {
    let _ = node::parse_package_lock("/app/package-lock.json", data);
    let _ = node::parse_package_json("/app/node_modules/x/package.json", data);
});
