//! `palisade db` and `palisade scan image` end to end: hand-written OSV records, a KEV catalog and
//! EPSS scores imported by the real binary, an OCI image written by `palisade_image::testing`,
//! every output format, suppression-free matching rules (Debian source packages, os-owned Python
//! packages, alias merging, withdrawn records), `--fail-on`, `--ignore-unfixed`, and `rescan`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use palisade_image::testing::{TarEntry, TempDir, TestImage, layer_tar, write_oci_layout};
use serde_json::Value;

const OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

const DPKG_STATUS: &[u8] = b"Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.14-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries

Package: python3-yaml
Status: install ok installed
Architecture: amd64
Source: pyyaml
Version: 6.0-3+b2
Description: YAML parser and emitter for Python3
";

const PYYAML_DIR: &str = "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vulns")
}

/// Debian base (libssl3 from openssl, PyYAML from python3-yaml) and an application layer
/// (Flask 3.1.3 in a virtualenv).
fn layers() -> Vec<Vec<u8>> {
    let base = layer_tar(&[
        TarEntry::file("/etc/os-release", OS_RELEASE),
        TarEntry::file("/var/lib/dpkg/status", DPKG_STATUS),
        TarEntry::file(
            "/var/lib/dpkg/info/python3-yaml.list",
            format!("{PYYAML_DIR}\n{PYYAML_DIR}/METADATA\n").as_bytes(),
        ),
        TarEntry::file(
            &format!("{PYYAML_DIR}/METADATA"),
            b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n",
        ),
    ]);
    let app = layer_tar(&[TarEntry::file(
        "/app/venv/lib/python3.11/site-packages/flask-3.1.3.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: Flask\nVersion: 3.1.3\n",
    )]);
    vec![base, app]
}

fn palisade(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_HOME", home)
        .env("SOURCE_DATE_EPOCH", "1795000000")
        .output()
        .expect("palisade runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        )
    })
}

fn find<'a>(scan: &'a Value, id: &str) -> Option<&'a Value> {
    scan["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
}

#[test]
fn scan_image_end_to_end() {
    let dir = TempDir::new("cli-vulns").unwrap();
    let home = dir.path().join("home");
    let layout = dir.path().join("layout");
    write_oci_layout(&layout, &[TestImage::new(Some("1.0"), layers())], None);
    let reference = format!("oci:{}:1.0", layout.display());

    // Without a database: one clear line, exit 2, and no image read.
    let missing = palisade(&["scan", "image", &reference], &home);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("palisade db update"),
        "{}",
        stderr(&missing)
    );

    let fixtures = fixtures();
    let import = palisade(
        &[
            "db",
            "import",
            fixtures.join("osv").to_str().unwrap(),
            fixtures.join("kev.json").to_str().unwrap(),
            fixtures
                .join("epss_scores-2026-01-15.csv")
                .to_str()
                .unwrap(),
        ],
        &home,
    );
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let status = json(&palisade(&["db", "status", "--format", "json"], &home));
    assert_eq!(status["advisories"], 6, "{status}");
    assert_eq!(status["withdrawn"], 1, "{status}");
    assert_eq!(status["kev_entries"], 1);
    assert_eq!(status["epss_scores"], 2);

    let run = palisade(&["scan", "image", &reference, "--format", "json"], &home);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let scan = json(&run);
    assert_eq!(scan["schema"], "palisade.dev/vulnerabilities/v1");
    assert_eq!(scan["os"]["id"], "debian");
    let ids: Vec<&str> = scan["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    // Flask: GHSA and PYSEC share CVE-2099-2001 → one finding; the withdrawn record matches
    // nothing; os-owned PyYAML gets no PyPI finding; openssl is matched by source package.
    assert_eq!(ids.len(), 3, "{ids:?}");
    let flask = find(&scan, "CVE-2099-2001").expect("merged flask finding");
    let mut aliases: Vec<&str> = flask["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    aliases.sort_unstable();
    assert_eq!(aliases, ["GHSA-test-0001-flask", "PYSEC-test-2001"]);
    assert_eq!(flask["package"]["name"], "Flask");
    assert_eq!(flask["package"]["ecosystem"], "PyPI");
    assert_eq!(flask["fixed_versions"], serde_json::json!(["3.1.4"]));
    assert_eq!(flask["fix_state"], "fixed");
    assert_eq!(flask["severity"], "critical");
    assert_eq!(flask["cvss"]["score"], 9.8);
    assert_eq!(flask["cvss"]["version"], "3.1");
    assert!(flask["kev"].is_null());
    assert!((flask["epss"]["score"].as_f64().unwrap() - 0.61234).abs() < 1e-4);
    assert!(flask["remediation"].as_str().unwrap().contains("3.1.4"));
    assert!(flask["suppressed"].is_null());

    let ssl = find(&scan, "CVE-2099-1001").expect("openssl via its source package");
    assert_eq!(ssl["package"]["name"], "libssl3");
    assert_eq!(ssl["package"]["source"], "openssl");
    assert_eq!(ssl["package"]["ecosystem"], "Debian:12");
    assert_eq!(ssl["aliases"], serde_json::json!(["DSA-9001-1"]));
    assert_eq!(ssl["kev"]["date_added"], "2026-01-12");
    assert_eq!(ssl["kev"]["due_date"], "2026-02-02");
    assert_eq!(
        ssl["fixed_versions"],
        serde_json::json!(["3.0.15-1~deb12u1"])
    );
    let unfixed = find(&scan, "CVE-2099-1002").expect("an unfixed Debian flaw");
    assert_eq!(unfixed["fix_state"], "not_fixed");
    assert_eq!(unfixed["severity"], "unknown");
    assert_eq!(scan["summary"]["critical"], 1);
    assert_eq!(scan["summary"]["unknown"], 2);
    assert_eq!(scan["unassessed_ecosystems"], serde_json::json!([]));
    // The only fixable findings are not all in the base (Flask is in the app layer).
    assert!(scan["rebuild_base_hint"].is_null());

    // --ignore-unfixed drops the unfixed one; --fail-on decides the exit code.
    let fixed_only = json(&palisade(
        &[
            "scan",
            "image",
            &reference,
            "--format",
            "json",
            "--ignore-unfixed",
        ],
        &home,
    ));
    assert!(find(&fixed_only, "CVE-2099-1002").is_none());
    assert_eq!(fixed_only["vulnerabilities"].as_array().unwrap().len(), 2);
    let gate = palisade(&["scan", "image", &reference, "--fail-on", "high"], &home);
    assert_eq!(gate.status.code(), Some(1));
    let table = String::from_utf8_lossy(&gate.stdout);
    assert!(table.contains("CRITICAL  CVE-2099-2001"), "{table}");
    assert!(table.contains("KEV"), "{table}");

    // SARIF and CycloneDX carry the same findings.
    let sarif = json(&palisade(
        &["scan", "image", &reference, "--format", "sarif"],
        &home,
    ));
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
    let bom = json(&palisade(
        &["scan", "image", &reference, "--format", "cyclonedx"],
        &home,
    ));
    let vulns = bom["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 3);
    let components: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str())
        .collect();
    for v in vulns {
        let affected = v["affects"][0]["ref"].as_str().unwrap();
        assert!(
            components.contains(&affected),
            "{affected} is not a component"
        );
    }

    // Suppression: a VEX statement and an ignore entry, each with its reason; suppressed findings
    // stay listed but no longer count for --fail-on.
    let vex = dir.path().join("app.openvex.json");
    std::fs::write(
        &vex,
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
            "author": "shop security", "timestamp": "2026-01-20T00:00:00Z", "version": 1,
            "statements": [{"vulnerability": {"name": "CVE-2099-1002"},
              "products": [{"@id": "pkg:deb/debian/libssl3"}],
              "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let ignore = dir.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        "vulnerabilities:\n  - id: GHSA-test-0001-flask\n    reason: sessions are not used\n    expires: 2099-12-31\n",
    )
    .unwrap();
    let quiet = palisade(
        &[
            "scan",
            "image",
            &reference,
            "--format",
            "json",
            "--fail-on",
            "high",
            "--vex",
            vex.to_str().unwrap(),
            "--ignore-file",
            ignore.to_str().unwrap(),
        ],
        &home,
    );
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    let quiet = json(&quiet);
    assert_eq!(quiet["summary"]["suppressed"], 2, "{}", quiet["summary"]);
    assert_eq!(quiet["summary"]["critical"], 0);
    let by_vex = find(&quiet, "CVE-2099-1002").unwrap();
    assert_eq!(by_vex["suppressed"]["by"], "vex");
    assert!(
        by_vex["suppressed"]["reason"]
            .as_str()
            .unwrap()
            .contains("vulnerable_code_not_in_execute_path")
    );
    let by_file = find(&quiet, "CVE-2099-2001").unwrap();
    assert_eq!(by_file["suppressed"]["by"], "ignore-file");
    assert!(
        by_file["suppressed"]["reason"]
            .as_str()
            .unwrap()
            .contains("sessions are not used")
    );
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "vulnerabilities:\n  - id: CVE-1\n    resaon: typo\n",
    )
    .unwrap();
    let refused = palisade(
        &[
            "scan",
            "image",
            &reference,
            "--ignore-file",
            broken.to_str().unwrap(),
        ],
        &home,
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("broken.yaml"),
        "{}",
        stderr(&refused)
    );

    // Rescan: nothing new against the same database, then a new advisory shows up as new.
    let first = json(&palisade(&["rescan", "--format", "json"], &home));
    assert_eq!(
        first["images"][0]["new"].as_array().unwrap().len(),
        0,
        "{first}"
    );
    let extra = dir.path().join("GHSA-test-0004-flask.json");
    std::fs::write(
        &extra,
        r#"{"id": "GHSA-test-0004-flask", "modified": "2026-03-01T00:00:00Z",
            "aliases": ["CVE-2099-2004"], "summary": "another Flask flaw",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"},
              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}]}]}"#,
    )
    .unwrap();
    let import = palisade(&["db", "import", extra.to_str().unwrap()], &home);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let second = json(&palisade(&["rescan", "--format", "json"], &home));
    let new = second["images"][0]["new"].as_array().unwrap();
    assert_eq!(new.len(), 1, "{second}");
    assert_eq!(new[0]["id"], "CVE-2099-2004");
    assert_eq!(second["images"][0]["resolved"].as_array().unwrap().len(), 0);
}

#[test]
fn db_status_warns_when_stale_and_update_failures_are_clear() {
    let dir = TempDir::new("cli-db").unwrap();
    let home = dir.path().join("home");
    let fixtures = fixtures();
    let import = palisade(
        &["db", "import", fixtures.join("osv").to_str().unwrap()],
        &home,
    );
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let fresh = palisade(&["db", "status"], &home);
    assert_eq!(fresh.status.code(), Some(0));
    assert!(
        !stderr(&fresh).contains("more than 2 days"),
        "{}",
        stderr(&fresh)
    );
    // Three days after the import (SOURCE_DATE_EPOCH is the clock the import recorded).
    let later = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["db", "status"])
        .env("PALISADE_HOME", &home)
        .env(
            "SOURCE_DATE_EPOCH",
            (1_795_000_000 + 3 * 86_400).to_string(),
        )
        .output()
        .unwrap();
    assert_eq!(later.status.code(), Some(0));
    assert!(
        stderr(&later).contains("more than 2 days old"),
        "{}",
        stderr(&later)
    );

    // A mirror that is not there: nothing usable, exit 2 naming it, the old database untouched.
    let update = palisade(
        &[
            "db",
            "update",
            "--mirror",
            "http://127.0.0.1:1",
            "--ecosystem",
            "Go",
            "--no-kev",
            "--no-epss",
            "--timeout",
            "5",
        ],
        &home,
    );
    assert_eq!(update.status.code(), Some(2), "{}", stderr(&update));
    assert!(
        stderr(&update).contains("127.0.0.1:1"),
        "{}",
        stderr(&update)
    );
    let status = json(&palisade(&["db", "status", "--format", "json"], &home));
    assert_eq!(status["advisories"], 6, "{status}");
}
