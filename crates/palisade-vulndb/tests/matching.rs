//! Matching against a real (SQLite) advisory database built from hand-written OSV records: one
//! `Matcher` reused across images gives each image the findings a fresh match gives it, with each
//! image's own package locations.

use palisade_core::{Distro, ImageInfo, Package, PackageKind, Sbom};
use palisade_vulndb::db::AdvisoryDb;
use palisade_vulndb::matching::{MatchOptions, Matcher, match_sbom};

fn package(name: &str, version: &str, location: &str) -> Package {
    Package {
        name: name.to_string(),
        version: version.to_string(),
        kind: PackageKind::Npm,
        purl: format!("pkg:npm/{name}@{version}"),
        source: None,
        arch: None,
        licenses: Vec::new(),
        location: location.to_string(),
        layer: Some(format!("sha256:{}", "1".repeat(64))),
        os_owned: false,
        files: Vec::new(),
        metadata: Default::default(),
    }
}

fn sbom(reference: &str, packages: Vec<Package>) -> Sbom {
    Sbom {
        image: ImageInfo {
            reference: reference.to_string(),
            ..ImageInfo::default()
        },
        distro: Some(Distro::default()),
        packages,
        notes: Vec::new(),
    }
}

#[test]
fn a_reused_matcher_answers_like_a_fresh_match() {
    let dir = std::env::temp_dir().join(format!("palisade-matching-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("GHSA-test-lodash.json");
    std::fs::write(
        &record,
        r#"{"id": "GHSA-test-lodash", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2099-3001"],
            "summary": "prototype pollution",
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}"#,
    )
    .unwrap();
    let mut db = AdvisoryDb::open_or_create(&dir.join("advisories.db")).unwrap();
    db.import(&[record], "2026-01-02T00:00:00Z").unwrap();

    let first = sbom(
        "a:1",
        vec![
            package("lodash", "4.17.20", "/app/node_modules/lodash/package.json"),
            package(
                "left-pad",
                "1.3.0",
                "/app/node_modules/left-pad/package.json",
            ),
        ],
    );
    let second = sbom(
        "b:1",
        vec![package(
            "lodash",
            "4.17.20",
            "/srv/node_modules/lodash/package.json",
        )],
    );
    let fixed = sbom(
        "c:1",
        vec![package(
            "lodash",
            "4.17.21",
            "/srv/node_modules/lodash/package.json",
        )],
    );
    let options = MatchOptions::default();
    let mut matcher = Matcher::new(&db);
    for image in [&first, &second, &fixed, &first] {
        let reused = matcher.match_sbom(image, &options).unwrap();
        let fresh = match_sbom(&db, image, &options).unwrap();
        assert_eq!(reused, fresh, "{}", image.image.reference);
    }
    let second = matcher.match_sbom(&second, &options).unwrap();
    assert_eq!(second.vulnerabilities.len(), 1);
    assert_eq!(second.vulnerabilities[0].id, "CVE-2099-3001");
    assert_eq!(
        second.vulnerabilities[0].package.location,
        "/srv/node_modules/lodash/package.json"
    );
    assert!(
        matcher
            .match_sbom(&fixed, &options)
            .unwrap()
            .vulnerabilities
            .is_empty()
    );
    assert!(second.unassessed_ecosystems.is_empty());

    // A package of an ecosystem the database knows nothing about is "not assessed", not "fine".
    let mut python = package("flask", "3.1.3", "/app/flask/METADATA");
    python.kind = PackageKind::Python;
    let unknown = match_sbom(&db, &sbom("d:1", vec![python]), &options).unwrap();
    assert!(unknown.vulnerabilities.is_empty());
    assert_eq!(unknown.unassessed_ecosystems, ["PyPI"]);

    // An OS with no per-release advisory ecosystem (RHEL itself) is named too.
    let mut rpm = package(
        "openssl-libs",
        "1:3.0.7-27.el9",
        "/var/lib/rpm/rpmdb.sqlite",
    );
    rpm.kind = PackageKind::Rpm;
    let mut rhel = sbom("e:1", vec![rpm]);
    rhel.distro = Some(Distro {
        id: "rhel".into(),
        version_id: "9.4".into(),
        ..Distro::default()
    });
    let rhel = match_sbom(&db, &rhel, &options).unwrap();
    assert_eq!(rhel.unassessed_ecosystems, ["rhel 9.4 (rpm packages)"]);
    let _ = std::fs::remove_dir_all(&dir);
}
