//! Any bytes through the manifest reader and every check: nothing may panic, overflow the stack or
//! run away with memory. Run: `cargo fuzz run manifest_reader fuzz/corpus/manifest_reader`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_core::{Resource, SourceError};
use palisade_kube::manifests::{ResourceSink, read_from};
use palisade_posture::{Catalogue, Config, Session};

struct Assess<'a>(Session<'a>);

impl ResourceSink for Assess<'_> {
    fn resource(&mut self, resource: Resource) {
        self.0.assess(&resource);
    }
    fn error(&mut self, error: SourceError) {
        // Errors must render; that is part of what is under test.
        let _ = error.to_string();
    }
}

fuzz_target!(|data: &[u8]| {
    let catalogue = Catalogue::builtin();
    let config = Config::default();
    let mut sink = Assess(Session::new(&catalogue, &config));
    read_from(data, "fuzz.yaml", &mut sink);
    let _ = sink.0.finish();
});
