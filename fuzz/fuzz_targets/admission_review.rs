//! Any bytes as an AdmissionReview body: parsing answers Ok or a clear error, never panics or
//! recurses without bound. Run: `cargo fuzz run admission_review`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_admission::parse_review(data);
});
