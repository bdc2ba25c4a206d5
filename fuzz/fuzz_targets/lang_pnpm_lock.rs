//! Any bytes as a `pnpm-lock.yaml`: the event-based YAML walk must not panic, recurse without
//! bound or expand aliases. Run: `cargo fuzz run lang_pnpm_lock`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::node;

fuzz_target!(|data: &[u8]| {
    let _ = node::parse_pnpm_lock("/app/pnpm-lock.yaml", data);
});
