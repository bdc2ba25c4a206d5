//! VEX documents applied to hand-built scans: which findings end up suppressed, and why.

use palisade_vulndb::matching::{FixState, PackageRef, Severity, Suppressed, Vulnerability};
use palisade_vulndb::scan::{ImageScan, SCHEMA, ScannedImage, SeveritySummary};
use palisade_vulndb::vex::{self, Status, VexError, VexFormat};

const APP: &[u8] = include_bytes!("fixtures/vex/app.openvex.json");
const LEGACY: &[u8] = include_bytes!("fixtures/vex/legacy.openvex.json");
const BOM: &[u8] = include_bytes!("fixtures/vex/bom.cdx.json");

fn finding(id: &str, aliases: &[&str], purl: &str, location: &str) -> Vulnerability {
    let name = purl
        .split(['@', '?'])
        .next()
        .and_then(|path| path.rsplit('/').next())
        .unwrap_or_default()
        .to_string();
    Vulnerability {
        id: id.to_string(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        package: PackageRef {
            name,
            version: String::new(),
            ecosystem: String::new(),
            purl: purl.to_string(),
            layer: None,
            location: location.to_string(),
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
    }
}

fn scan(reference: &str, vulnerabilities: Vec<Vulnerability>) -> ImageScan {
    let mut scan = ImageScan {
        schema: SCHEMA.to_string(),
        image: ScannedImage {
            reference: reference.to_string(),
            digest: Some("sha256:5f3a".to_string()),
            config_digest: None,
            platform: Some("linux/amd64".to_string()),
            packages: vulnerabilities.len(),
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

const SHOP_API: &str = "ghcr.io/acme/shop-api:1.4.2";
const LIBXML2: &str =
    "pkg:deb/debian/libxml2@2.9.14%2Bdfsg-1.3~deb12u1?arch=amd64&distro=debian-12";

/// `(id, location) → reason` of every suppressed finding.
fn suppressed(scan: &ImageScan) -> Vec<(String, String, String)> {
    scan.vulnerabilities
        .iter()
        .filter_map(|v| {
            v.suppressed.as_ref().map(|s| {
                assert_eq!(s.by, "vex");
                (v.id.clone(), v.package.location.clone(), s.reason.clone())
            })
        })
        .collect()
}

#[test]
fn openvex_subcomponent_of_the_image() {
    let document = vex::read("app.openvex.json", APP).unwrap();
    assert_eq!(document.format, VexFormat::OpenVex);
    assert_eq!(document.statements.len(), 5);

    let mut scan = scan(
        SHOP_API,
        vec![
            finding("CVE-2024-25062", &[], LIBXML2, "/var/lib/dpkg/status"),
            // Same flaw in another package: the statement is about libxml2 only.
            finding(
                "CVE-2024-25062",
                &[],
                "pkg:deb/debian/libxml2-utils@2.9.14",
                "/var/lib/dpkg/status",
            ),
        ],
    );
    vex::apply(&[document], &mut scan);
    assert_eq!(
        scan.vulnerabilities[0].suppressed,
        Some(Suppressed {
            by: "vex".into(),
            reason: "app.openvex.json: not_affected (vulnerable_code_not_in_execute_path): we never parse untrusted XML".into(),
        })
    );
    assert_eq!(scan.vulnerabilities[1].suppressed, None);
    assert_eq!(scan.summary.suppressed, 1);
    assert_eq!(scan.summary.high, 1);
}

#[test]
fn image_product_must_be_this_image() {
    let document = vex::read("app.openvex.json", APP).unwrap();
    for other in [
        "ghcr.io/acme/billing:1.0",
        "docker.io/acme/shop-api:1.4.2",
        "shop-api:1",
    ] {
        let mut scan = scan(
            other,
            vec![finding(
                "CVE-2024-25062",
                &[],
                LIBXML2,
                "/var/lib/dpkg/status",
            )],
        );
        vex::apply(std::slice::from_ref(&document), &mut scan);
        assert_eq!(scan.vulnerabilities[0].suppressed, None, "{other}");
        assert_eq!(scan.summary.suppressed, 0);
    }
}

#[test]
fn alias_qualifiers_and_version() {
    let document = vex::read("app.openvex.json", APP).unwrap();
    let mut scan = scan(
        SHOP_API,
        vec![
            // Known by its GHSA ID, with the CVE as an alias; the purl carries qualifiers the
            // statement does not give.
            finding(
                "GHSA-29mw-wpgm-hmr9",
                &["CVE-2020-28500"],
                "pkg:npm/lodash@4.17.20?repository_url=https://registry.npmjs.org",
                "/app/node_modules/lodash/package.json",
            ),
            // The statement names 4.17.20; this copy is 4.17.19.
            finding(
                "GHSA-29mw-wpgm-hmr9",
                &["CVE-2020-28500"],
                "pkg:npm/lodash@4.17.19",
                "/app/admin/node_modules/lodash/package.json",
            ),
        ],
    );
    vex::apply(&[document], &mut scan);
    assert_eq!(
        suppressed(&scan),
        vec![(
            "GHSA-29mw-wpgm-hmr9".to_string(),
            "/app/node_modules/lodash/package.json".to_string(),
            "app.openvex.json: not_affected (vulnerable_code_not_present): toNumber/trim are not reachable from the bundled code".to_string()
        )]
    );
}

#[test]
fn later_statement_wins_by_timestamp_not_position() {
    // The `affected` statement comes first in the file but was made later (12:30Z vs 08:00Z).
    let document = vex::read("app.openvex.json", APP).unwrap();
    let zlib = "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64";
    let mut scan = scan(
        SHOP_API,
        vec![finding("CVE-2023-45853", &[], zlib, "/var/lib/dpkg/status")],
    );
    vex::apply(std::slice::from_ref(&document), &mut scan);
    assert_eq!(scan.vulnerabilities[0].suppressed, None);

    // Without the later `affected`, the earlier `not_affected` stands.
    let mut older = document.clone();
    older.statements.retain(|s| s.status != Status::Affected);
    let mut scan2 = self::scan(
        SHOP_API,
        vec![finding("CVE-2023-45853", &[], zlib, "/var/lib/dpkg/status")],
    );
    vex::apply(&[older], &mut scan2);
    assert_eq!(
        scan2.vulnerabilities[0]
            .suppressed
            .as_ref()
            .map(|s| s.reason.as_str()),
        Some(
            "app.openvex.json: not_affected (vulnerable_code_not_present): minizip is not built into zlib1g"
        )
    );
}

#[test]
fn later_document_wins_on_equal_timestamps() {
    let statement = |status: &str, extra: &str| {
        format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "2025-05-01T00:00:00Z",
              "statements": [{{"vulnerability": {{"name": "CVE-2024-6345"}},
                "products": [{{"@id": "pkg:pypi/setuptools@68.0.0"}}], "status": "{status}"{extra}}}]}}"#
        )
    };
    let not_affected = vex::read(
        "a.json",
        statement(
            "not_affected",
            r#", "justification": "component_not_present""#,
        )
        .as_bytes(),
    )
    .unwrap();
    let affected = vex::read("b.json", statement("affected", "").as_bytes()).unwrap();
    let setuptools = || {
        finding(
            "CVE-2024-6345",
            &[],
            "pkg:pypi/setuptools@68.0.0",
            "/usr/lib/python3/dist-packages",
        )
    };

    let mut scan1 = scan(SHOP_API, vec![setuptools()]);
    vex::apply(&[not_affected.clone(), affected.clone()], &mut scan1);
    assert_eq!(scan1.vulnerabilities[0].suppressed, None);

    let mut scan2 = scan(SHOP_API, vec![setuptools()]);
    vex::apply(&[affected, not_affected], &mut scan2);
    assert_eq!(
        scan2.vulnerabilities[0]
            .suppressed
            .as_ref()
            .map(|s| s.reason.as_str()),
        Some("a.json: not_affected (component_not_present)")
    );
}

#[test]
fn under_investigation_records_nothing() {
    let document = vex::read("app.openvex.json", APP).unwrap();
    let mut scan = scan(
        SHOP_API,
        vec![finding(
            "CVE-2024-6345",
            &[],
            "pkg:pypi/setuptools@68.0.0",
            "/usr/lib/python3/dist-packages",
        )],
    );
    vex::apply(&[document], &mut scan);
    assert_eq!(scan.vulnerabilities[0].suppressed, None);
}

#[test]
fn legacy_openvex_string_forms() {
    let document = vex::read("legacy.openvex.json", LEGACY).unwrap();
    assert_eq!(document.statements[0].vulnerability, "CVE-2023-4911");
    assert_eq!(
        document.statements[0].timestamp.as_deref(),
        Some("2023-01-08T18:02:03.647787998-06:00")
    );
    let mut scan = scan(
        "ghcr.io/acme/shop-api@sha256:5f3a",
        vec![
            finding(
                "CVE-2023-4911",
                &[],
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u3?arch=amd64",
                "/var/lib/dpkg/status",
            ),
            finding(
                "CVE-2023-4911",
                &[],
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64",
                "/other/status",
            ),
        ],
    );
    vex::apply(&[document], &mut scan);
    assert_eq!(
        suppressed(&scan),
        vec![(
            "CVE-2023-4911".to_string(),
            "/var/lib/dpkg/status".to_string(),
            "legacy.openvex.json: fixed".to_string()
        )]
    );
}

#[test]
fn cyclonedx_affects_resolved_through_components() {
    let document = vex::read("bom.cdx.json", BOM).unwrap();
    assert_eq!(document.format, VexFormat::CycloneDx);
    // The last vulnerability has no analysis: a report, not a statement.
    assert_eq!(document.statements.len(), 4);
    let openssl = "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12";
    let mut scan = scan(
        SHOP_API,
        vec![
            finding("CVE-2023-5678", &[], openssl, "/var/lib/dpkg/status"),
            finding("CVE-2024-0727", &[], openssl, "/var/lib/dpkg/status"),
            finding("CVE-2023-6237", &[], openssl, "/var/lib/dpkg/status"),
            finding("CVE-2024-2511", &[], openssl, "/var/lib/dpkg/status"),
            // Named by the GHSA that the document lists as a reference of the CVE.
            finding(
                "GHSA-9wx4-h78v-vm56",
                &[],
                "pkg:pypi/requests@2.31.0",
                "/app/venv/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA",
            ),
            // The statement about openssl 3.0.11 says nothing about another version.
            finding(
                "CVE-2023-5678",
                &[],
                "pkg:deb/debian/openssl@3.0.13-1~deb12u1?arch=amd64",
                "/other/status",
            ),
        ],
    );
    vex::apply(&[document], &mut scan);
    let reasons: Vec<(String, String)> = suppressed(&scan)
        .into_iter()
        .map(|(id, _, reason)| (id, reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                "CVE-2023-5678".to_string(),
                "bom.cdx.json: not_affected (code_not_reachable): DH key generation with excessive parameters is never called: TLS uses ECDHE only".to_string()
            ),
            (
                "CVE-2023-6237".to_string(),
                "bom.cdx.json: resolved: rebuilt against the patched source package".to_string()
            ),
            (
                "GHSA-9wx4-h78v-vm56".to_string(),
                "bom.cdx.json: false_positive: we never disable certificate verification".to_string()
            ),
        ]
    );
    assert_eq!(scan.summary.suppressed, 3);
    assert_eq!(scan.summary.high, 3);
}

#[test]
fn cyclonedx_image_component_covers_the_whole_image() {
    let bom = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
      "metadata": {"component": {"type": "container", "bom-ref": "img", "name": "shop-api",
                                 "purl": "pkg:oci/shop-api?repository_url=ghcr.io/acme/shop-api&tag=1.4.2"}},
      "vulnerabilities": [{"id": "CVE-2024-2511",
        "analysis": {"state": "not_affected", "justification": "requires_configuration"},
        "affects": [{"ref": "img"}]}]}"#;
    let document = vex::read("image.cdx.json", bom).unwrap();
    let openssl = "pkg:deb/debian/openssl@3.0.11-1~deb12u2";
    let mut this = scan(
        SHOP_API,
        vec![finding(
            "CVE-2024-2511",
            &[],
            openssl,
            "/var/lib/dpkg/status",
        )],
    );
    vex::apply(std::slice::from_ref(&document), &mut this);
    assert_eq!(
        this.vulnerabilities[0]
            .suppressed
            .as_ref()
            .map(|s| s.reason.as_str()),
        Some("image.cdx.json: not_affected (requires_configuration)")
    );
    // Another tag of the same repository is another image.
    let mut other = scan(
        "ghcr.io/acme/shop-api:1.5.0",
        vec![finding(
            "CVE-2024-2511",
            &[],
            openssl,
            "/var/lib/dpkg/status",
        )],
    );
    vex::apply(&[document], &mut other);
    assert_eq!(other.vulnerabilities[0].suppressed, None);
}

#[test]
fn earlier_suppression_is_kept() {
    let document = vex::read("app.openvex.json", APP).unwrap();
    let mut vulnerability = finding("CVE-2024-25062", &[], LIBXML2, "/var/lib/dpkg/status");
    let existing = Suppressed {
        by: "ignore-file".into(),
        reason: "accepted".into(),
    };
    vulnerability.suppressed = Some(existing.clone());
    let mut scan = scan(SHOP_API, vec![vulnerability]);
    vex::apply(&[document], &mut scan);
    assert_eq!(scan.vulnerabilities[0].suppressed, Some(existing));
    assert_eq!(scan.summary.suppressed, 1);
}

fn invalid_path(result: Result<vex::VexDocument, VexError>) -> (String, String) {
    match result {
        Err(VexError::Invalid {
            file,
            path,
            message,
        }) => {
            assert!(!message.is_empty());
            (file, path)
        }
        other => panic!("expected an invalid-document error, got {other:?}"),
    }
}

#[test]
fn errors_name_file_and_json_path() {
    let text = String::from_utf8(APP.to_vec()).unwrap();
    let bad_status = text.replace(
        "\"status\": \"under_investigation\"",
        "\"status\": \"investigating\"",
    );
    let (file, path) = invalid_path(vex::read("app.openvex.json", bad_status.as_bytes()));
    assert_eq!(
        (file.as_str(), path.as_str()),
        ("app.openvex.json", "statements[4].status")
    );

    let bad_justification = text.replace("\"vulnerable_code_not_present\"", "\"code_not_present\"");
    assert_eq!(
        invalid_path(vex::read("x.json", bad_justification.as_bytes())).1,
        "statements[1].justification"
    );

    let unexplained = text.replace(
        "\"justification\": \"vulnerable_code_not_in_execute_path\",\n      \"impact_statement\": \"we never parse untrusted XML\"",
        "\"justification\": null",
    );
    assert_eq!(
        invalid_path(vex::read("x.json", unexplained.as_bytes())).1,
        "statements[0]"
    );

    let bad_time = text.replace("2025-02-01T08:00:00Z", "yesterday");
    assert_eq!(
        invalid_path(vex::read("x.json", bad_time.as_bytes())).1,
        "statements[3].timestamp"
    );

    let no_products = text.replace(
        "\"products\": [\n        { \"@id\": \"pkg:pypi/setuptools\" }\n      ],",
        "",
    );
    assert_eq!(
        invalid_path(vex::read("x.json", no_products.as_bytes())).1,
        "statements[4].products"
    );

    let bom = String::from_utf8(BOM.to_vec()).unwrap();
    let bad_state = bom.replace("\"state\": \"exploitable\"", "\"state\": \"exploited\"");
    assert_eq!(
        invalid_path(vex::read("bom.cdx.json", bad_state.as_bytes())),
        (
            "bom.cdx.json".to_string(),
            "vulnerabilities[2].analysis.state".to_string()
        )
    );
    let bad_ref = bom.replace(
        "{ \"ref\": \"deb-openssl\" } ]\n    },\n    {\n      \"id\": \"CVE-2024-35195\"",
        "{ \"ref\": 7 } ]\n    },\n    {\n      \"id\": \"CVE-2024-35195\"",
    );
    assert_eq!(
        invalid_path(vex::read("x", bad_ref.as_bytes())).1,
        "vulnerabilities[0].affects[0].ref"
    );

    let error = vex::read("broken.json", b"{\"statements\": [").unwrap_err();
    assert!(matches!(&error, VexError::Syntax { file, .. } if file == "broken.json"));
    assert!(
        error.to_string().starts_with("broken.json: not valid JSON"),
        "{error}"
    );

    let error = vex::read("sbom.spdx.json", br#"{"spdxVersion": "SPDX-2.3"}"#).unwrap_err();
    assert_eq!(
        error,
        VexError::UnknownFormat {
            file: "sbom.spdx.json".into()
        }
    );
    assert!(matches!(
        vex::read("n.json", b"[1, 2]"),
        Err(VexError::UnknownFormat { .. })
    ));
}

#[test]
fn in_toto_attestation_predicate_is_read() {
    let attestation = format!(
        r#"{{"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://openvex.dev/ns",
            "subject": [], "predicate": {}}}"#,
        String::from_utf8(LEGACY.to_vec()).unwrap()
    );
    let document = vex::read("att.json", attestation.as_bytes()).unwrap();
    assert_eq!(document.statements.len(), 1);
    assert_eq!(document.statements[0].status, Status::Fixed);
}
