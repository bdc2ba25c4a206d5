//! Any bytes as an ignore file: reading must not panic, and applying whatever was read to a small
//! scan (purl prefixes, path globs, expiry dates) must not either. Run: `cargo fuzz run ignore_read`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::ignore;
use palisade_vulndb::matching::{FixState, PackageRef, Severity, Vulnerability};
use palisade_vulndb::scan::{ImageScan, SCHEMA, ScannedImage, SeveritySummary};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(file) = ignore::read("fuzz.yaml", &text) else {
        return;
    };
    // Glob matching is driven by file content: exercise it against awkward paths too.
    for entry in &file.entries {
        for glob in &entry.paths {
            let _ = ignore::glob_matches(glob, "/app/**/x/./ü/");
        }
    }
    let finding = |id: &str, purl: &str, location: &str| Vulnerability {
        id: id.to_string(),
        aliases: vec!["GHSA-29mw-wpgm-hmr9".to_string()],
        package: PackageRef {
            name: String::new(),
            version: String::new(),
            ecosystem: String::new(),
            purl: purl.to_string(),
            layer: None,
            location: location.to_string(),
            source: None,
        },
        fixed_versions: Vec::new(),
        fix_state: FixState::NotFixed,
        severity: Severity::Low,
        cvss: None,
        kev: None,
        epss: None,
        summary: String::new(),
        url: None,
        remediation: String::new(),
        suppressed: None,
    };
    let mut scan = ImageScan {
        schema: SCHEMA.to_string(),
        image: ScannedImage {
            reference: "shop-api:1".to_string(),
            digest: None,
            config_digest: None,
            platform: None,
            packages: 2,
        },
        os: None,
        summary: SeveritySummary::default(),
        vulnerabilities: vec![
            finding(
                "CVE-2020-28500",
                "pkg:npm/lodash@4.17.20",
                "/app/node_modules/lodash/package.json",
            ),
            finding(
                "CVE-2024-25062",
                "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1?arch=amd64",
                "/var/lib/dpkg/status",
            ),
        ],
        rebuild_base_hint: None,
        unassessed_ecosystems: Vec::new(),
        notes: Vec::new(),
    };
    let _ = ignore::apply(&file, "2026-01-01", &mut scan);
});
