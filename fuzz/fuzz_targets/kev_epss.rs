//! Any bytes as a CISA KEV catalog and as a FIRST EPSS file, plain and behind the gzip magic (so
//! that mutations of a seed `.csv.gz` reach the decompression path): neither parser may panic.
//! Run: `cargo fuzz run kev_epss`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::{epss, kev};

fuzz_target!(|data: &[u8]| {
    let _ = kev::parse("known_exploited_vulnerabilities.json", data);
    if let Ok(scores) = epss::parse("epss_scores.csv", data) {
        for score in &scores.scores {
            assert!((0.0..=1.0).contains(&score.score));
            assert!((0.0..=1.0).contains(&score.percentile));
        }
    }
    let mut gzip = vec![0x1f, 0x8b];
    gzip.extend_from_slice(data);
    let _ = epss::parse("epss_scores.csv.gz", &gzip[..]);
});
