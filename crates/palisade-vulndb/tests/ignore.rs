//! The ignore file applied to hand-built scans: what it suppresses, what it warns about, and how
//! it refuses files that would silently mean something else.

use palisade_vulndb::ignore::{self, IgnoreError};
use palisade_vulndb::matching::{FixState, PackageRef, Severity, Suppressed, Vulnerability};
use palisade_vulndb::scan::{ImageScan, SCHEMA, ScannedImage, SeveritySummary};
use palisade_vulndb::vex;

const FILE: &str = include_str!("fixtures/vex/palisade-ignore.yaml");
const NAME: &str = ".palisade-ignore.yaml";

fn finding(id: &str, aliases: &[&str], purl: &str, location: &str) -> Vulnerability {
    Vulnerability {
        id: id.to_string(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
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
        fix_state: FixState::Fixed,
        severity: Severity::Medium,
        cvss: None,
        kev: None,
        epss: None,
        summary: String::new(),
        url: None,
        remediation: String::new(),
        suppressed: None,
    }
}

fn scan(vulnerabilities: Vec<Vulnerability>) -> ImageScan {
    let mut scan = ImageScan {
        schema: SCHEMA.to_string(),
        image: ScannedImage {
            reference: "ghcr.io/acme/shop-api:1.4.2".to_string(),
            digest: None,
            config_digest: None,
            platform: None,
            packages: 40,
        },
        os: None,
        summary: SeveritySummary::default(),
        vulnerabilities,
        rebuild_base_hint: None,
        unassessed_ecosystems: Vec::new(),
        notes: Vec::new(),
    };
    scan.refresh_summary();
    scan
}

fn shop_findings() -> Vec<Vulnerability> {
    vec![
        finding(
            "CVE-2024-25062",
            &[],
            "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64&distro=debian-12",
            "/var/lib/dpkg/status",
        ),
        // Same CVE, other package: the entry's purl leaves it alone.
        finding(
            "CVE-2024-25062",
            &[],
            "pkg:deb/debian/libxml2-utils@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64",
            "/var/lib/dpkg/status",
        ),
        // Matched by alias, inside the glob.
        finding(
            "CVE-2020-28500",
            &["GHSA-29mw-wpgm-hmr9"],
            "pkg:npm/lodash@4.17.20",
            "/app/admin/node_modules/lodash/package.json",
        ),
        // Outside the glob.
        finding(
            "CVE-2020-28500",
            &["GHSA-29mw-wpgm-hmr9"],
            "pkg:npm/lodash@4.17.20",
            "/app/node_modules/lodash/package.json",
        ),
        // The entry for it expired on 2025-01-31.
        finding(
            "CVE-2023-45853",
            &[],
            "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1",
            "/var/lib/dpkg/status",
        ),
    ]
}

fn reasons(scan: &ImageScan) -> Vec<Option<String>> {
    scan.vulnerabilities
        .iter()
        .map(|v| {
            v.suppressed.as_ref().map(|s| {
                assert_eq!(s.by, "ignore-file");
                s.reason.clone()
            })
        })
        .collect()
}

#[test]
fn reads_the_fixture() {
    let file = ignore::read(NAME, FILE).unwrap();
    assert_eq!(file.entries.len(), 4);
    let first = &file.entries[0];
    assert_eq!(first.id, "CVE-2024-25062");
    assert_eq!(first.reason, "not reachable: we do not parse XML");
    assert_eq!(first.expires.as_deref(), Some("2027-01-31"));
    assert_eq!(first.purls, vec!["pkg:deb/debian/libxml2"]);
    assert_eq!(first.line, 3);
    assert_eq!(file.entries[1].paths, vec!["/app/admin/**"]);
    assert_eq!(file.entries[1].line, 8);
}

#[test]
fn suppresses_with_reasons_and_warns() {
    let file = ignore::read(NAME, FILE).unwrap();
    let mut scan = scan(shop_findings());
    let warnings = ignore::apply(&file, "2026-11-27", &mut scan);
    assert_eq!(
        reasons(&scan),
        vec![
            Some("not reachable: we do not parse XML (until 2027-01-31)".to_string()),
            None,
            Some("only the admin UI bundle ships this lodash, behind SSO".to_string()),
            None,
            None,
        ]
    );
    assert_eq!(scan.summary.suppressed, 2);
    assert_eq!(scan.summary.medium, 3);
    assert_eq!(
        warnings,
        vec![
            ".palisade-ignore.yaml:12: the entry for CVE-2023-45853 expired on 2025-01-31 and no longer suppresses anything: review it and renew or remove it".to_string(),
            ".palisade-ignore.yaml:16: the entry for CVE-2019-10744 matched no finding".to_string(),
        ]
    );
}

#[test]
fn expiry_day_itself_still_applies() {
    let file = ignore::read(NAME, FILE).unwrap();
    let mut on_the_day = scan(shop_findings());
    let warnings = ignore::apply(&file, "2025-01-31", &mut on_the_day);
    assert_eq!(
        on_the_day.vulnerabilities[4].suppressed,
        Some(Suppressed {
            by: "ignore-file".into(),
            reason: "minizip is not used; accepted until the base image moves to trixie (until 2025-01-31)".into(),
        })
    );
    assert!(
        warnings.iter().all(|w| !w.contains("expired")),
        "{warnings:?}"
    );

    let mut day_after = scan(shop_findings());
    ignore::apply(&file, "2025-02-01", &mut day_after);
    assert_eq!(day_after.vulnerabilities[4].suppressed, None);
}

#[test]
fn vex_suppression_is_kept_and_counts_as_a_match() {
    let document = vex::read(
        "app.openvex.json",
        include_bytes!("fixtures/vex/app.openvex.json"),
    )
    .unwrap();
    let file = ignore::read(NAME, FILE).unwrap();
    let mut scan = scan(vec![finding(
        "CVE-2024-25062",
        &[],
        "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64",
        "/var/lib/dpkg/status",
    )]);
    vex::apply(&[document], &mut scan);
    let warnings = ignore::apply(&file, "2026-11-27", &mut scan);
    assert_eq!(
        scan.vulnerabilities[0]
            .suppressed
            .as_ref()
            .map(|s| s.by.as_str()),
        Some("vex")
    );
    assert!(
        !warnings.iter().any(|w| w.contains("CVE-2024-25062")),
        "{warnings:?}"
    );
}

fn error(text: &str) -> IgnoreError {
    match ignore::read("ignore.yaml", text) {
        Err(error) => error,
        Ok(file) => panic!("expected an error, read {file:?}"),
    }
}

#[test]
fn unknown_keys_are_errors_with_their_line() {
    let typo = "vulnerabilities:\n  - id: CVE-2024-1234\n    reason: not used\n    purl: [\"pkg:deb/debian/libxml2\"]\n";
    let e = error(typo);
    assert_eq!((e.file.as_str(), e.line), ("ignore.yaml", 4));
    assert!(e.message.contains("unknown key `purl`"), "{}", e.message);
    assert!(
        e.to_string()
            .starts_with("ignore.yaml:4: unknown key `purl`"),
        "{e}"
    );

    let trivy = "vulnerabilities:\n  - id: CVE-2024-1234\n    statement: not used\n";
    let e = error(trivy);
    assert_eq!(e.line, 3);
    assert!(e.message.contains("did you mean `reason`"), "{}", e.message);

    let top = "misconfigurations:\n  - id: AVD-KSV-0001\n";
    assert_eq!(error(top).line, 1);
}

#[test]
fn required_fields_and_values_are_checked() {
    let cases = [
        (
            "vulnerabilities:\n  - id: CVE-2024-1234\n    expires: 2027-01-31\n",
            2,
            "needs a `reason`",
        ),
        (
            "vulnerabilities:\n  - id: CVE-2024-1234\n    reason: \"  \"\n",
            2,
            "needs a `reason`",
        ),
        (
            "vulnerabilities:\n  - reason: because\n",
            2,
            "needs an `id`",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    reason: ~\n",
            2,
            "needs a `reason`",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    reason: null\n",
            2,
            "needs a `reason`",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    reason: r\n    expires: 2027-02-30\n",
            4,
            "not a date",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    reason: r\n    expires: 31/01/2027\n",
            4,
            "not a date",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    reason: r\n    purls: pkg:deb/debian/x\n",
            4,
            "must be a list",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    reason: r\n    purls: [\"debian/x\"]\n",
            2,
            "not a purl",
        ),
        (
            "vulnerabilities:\n  - id: CVE-1\n    id: CVE-2\n    reason: r\n",
            3,
            "given twice",
        ),
        (
            "vulnerabilities:\n  - id: [CVE-1]\n    reason: r\n",
            2,
            "single value",
        ),
        ("vulnerabilities:\n  - CVE-1\n", 2, "must be a mapping"),
        ("vulnerabilities: CVE-1\n", 1, "must be a list"),
        ("- id: CVE-1\n", 1, "expected a mapping"),
        (
            "vulnerabilities:\n  - id: CVE-1\n    reason: \"unterminated\n",
            3,
            "not valid YAML",
        ),
    ];
    for (text, line, message) in cases {
        let e = error(text);
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.message.contains(message), "{text}: {e}");
    }
}

#[test]
fn empty_files_ignore_nothing() {
    for text in [
        "",
        "# nothing accepted yet\n",
        "vulnerabilities:\n",
        "vulnerabilities: []\n",
    ] {
        let file = ignore::read(NAME, text).unwrap();
        assert!(file.entries.is_empty(), "{text:?}");
        let mut scan = scan(shop_findings());
        assert!(ignore::apply(&file, "2026-01-01", &mut scan).is_empty());
        assert_eq!(scan.summary.suppressed, 0);
    }
}
