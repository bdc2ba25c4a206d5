//! Any bytes as a VEX document (OpenVEX or CycloneDX): reading must not panic, and applying
//! whatever was read to a small scan must not either. Run: `cargo fuzz run vex_read`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::matching::{FixState, PackageRef, Severity, Vulnerability};
use palisade_vulndb::scan::{ImageScan, SCHEMA, ScannedImage, SeveritySummary};
use palisade_vulndb::vex;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = vex::read("fuzz.json", data) else {
        return;
    };
    let finding = |id: &str, purl: &str| Vulnerability {
        id: id.to_string(),
        aliases: vec!["GHSA-29mw-wpgm-hmr9".to_string()],
        package: PackageRef {
            name: "lodash".to_string(),
            version: "4.17.20".to_string(),
            ecosystem: "npm".to_string(),
            purl: purl.to_string(),
            layer: None,
            location: "/app/node_modules/lodash/package.json".to_string(),
            source: None,
        },
        fixed_versions: Vec::new(),
        fix_state: FixState::NotFixed,
        severity: Severity::High,
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
            reference: "ghcr.io/acme/shop-api:1.4.2@sha256:5f3a".to_string(),
            digest: Some("sha256:5f3a".to_string()),
            config_digest: None,
            platform: Some("linux/amd64".to_string()),
            packages: 2,
        },
        os: None,
        summary: SeveritySummary::default(),
        vulnerabilities: vec![
            finding("CVE-2020-28500", "pkg:npm/lodash@4.17.20?arch=x"),
            finding("CVE-2024-25062", "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1"),
        ],
        rebuild_base_hint: None,
        unassessed_ecosystems: Vec::new(),
        notes: Vec::new(),
    };
    vex::apply(&[document], &mut scan);
});
