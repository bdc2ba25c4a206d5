//! Any bytes through the SBOM reader (Palisade JSON, CycloneDX, SPDX): nothing may panic or
//! overflow the stack, and whatever it accepts must write back out in every format.
//! Run: `cargo fuzz run sbom_read`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::sbom::{self, SbomFormat, WriteOptions};

fuzz_target!(|data: &[u8]| {
    match sbom::read("fuzz.json", data) {
        Ok(inventory) => {
            let options = WriteOptions {
                timestamp: Some("2026-01-01T00:00:00Z".into()),
                tool_version: "fuzz".into(),
            };
            for format in [SbomFormat::CycloneDx, SbomFormat::Spdx, SbomFormat::Json] {
                let mut out = Vec::new();
                sbom::write(&inventory, format, &options, &mut out)
                    .expect("writing to memory cannot fail");
                sbom::read("fuzz.json", &out).expect("Palisade reads its own output");
            }
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
