//! Any bytes as a CVSS vector (v2, v3.0, v3.1, v4.0): parsing must not panic, and every accepted
//! vector must score within 0.0..=10.0 with one decimal. Run: `cargo fuzz run cvss_vector`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::cvss;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Also through each prefix, so that mutations of the metric part reach every scorer.
    for prefix in ["", "CVSS:3.0/", "CVSS:3.1/", "CVSS:4.0/"] {
        let vector = format!("{prefix}{text}");
        if let Ok(parsed) = cvss::parse(&vector) {
            let score = parsed.base_score;
            assert!((0.0..=10.0).contains(&score), "{vector}: {score}");
            assert!(
                ((score * 10.0).round() - score * 10.0).abs() < 1e-9,
                "{vector}: {score}"
            );
            let _ = cvss::severity(score);
        }
    }
});
