//! `palisade sbom` end to end: images written by `palisade_image::testing` (real OCI layouts and
//! `docker save` archives with gzip layers), read by the real binary, in every output format.

use std::path::Path;
use std::process::{Command, Output};

use palisade_image::testing::registry::{Registry, push_oci_image, registry_binary, unavailable};
use palisade_image::testing::{
    TarEntry, TempDir, TestImage, layer_tar, write_docker_archive, write_oci_layout,
};
use serde_json::Value;

const OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

const DPKG_STATUS: &[u8] = b"Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library

Package: python3-yaml
Status: install ok installed
Architecture: amd64
Source: pyyaml
Version: 6.0-3+b2
Description: YAML parser and emitter for Python3

Package: removed-one
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
Description: only its configuration is left
";

const PYYAML_METADATA: &[u8] =
    b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\nLicense: MIT\n\nYAML for Python\n";
const FLASK_METADATA: &[u8] =
    b"Metadata-Version: 2.1\nName: Flask\nVersion: 3.1.3\nLicense-Expression: BSD-3-Clause\n";
const PYYAML_DIR: &str = "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info";

/// A Debian base layer (os-release, dpkg database with the file list of python3-yaml, PyYAML
/// from the deb) and an application layer (Flask in a virtualenv, and the base's removed file).
fn layers() -> Vec<Vec<u8>> {
    let base = layer_tar(&[
        TarEntry::file("/usr/lib/os-release", OS_RELEASE),
        TarEntry::symlink("/etc/os-release", "../usr/lib/os-release"),
        TarEntry::file("/var/lib/dpkg/status", DPKG_STATUS),
        TarEntry::file(
            "/var/lib/dpkg/info/python3-yaml.list",
            format!("/usr\n{PYYAML_DIR}\n{PYYAML_DIR}/METADATA\n").as_bytes(),
        ),
        TarEntry::file(&format!("{PYYAML_DIR}/METADATA"), PYYAML_METADATA),
        TarEntry::file("/etc/removed-later", b"gone"),
    ]);
    let app = layer_tar(&[
        TarEntry::file(
            "/app/venv/lib/python3.11/site-packages/flask-3.1.3.dist-info/METADATA",
            FLASK_METADATA,
        ),
        TarEntry::whiteout("/etc/removed-later"),
    ]);
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

fn ok_json(output: &Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the output is JSON")
}

fn package<'a>(sbom: &'a Value, name: &str) -> &'a Value {
    sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name} in {sbom}"))
}

#[test]
fn oci_layout_in_every_format() {
    let dir = TempDir::new("cli-sbom-oci").unwrap();
    let layout = dir.path().join("layout");
    write_oci_layout(
        &layout,
        &[TestImage::new(Some("1.0"), layers()).gzipped()],
        None,
    );
    let home = dir.path().join("home");
    let reference = format!("oci:{}:1.0", layout.display());

    let sbom = ok_json(&palisade(&["sbom", &reference, "--format", "json"], &home));
    assert_eq!(sbom["schema"], "palisade.dev/sbom/v1");
    assert_eq!(sbom["distro"]["id"], "debian");
    assert_eq!(sbom["distro"]["version_id"], "12");
    let names: Vec<&str> = sbom["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let libc = package(&sbom, "libc6");
    assert_eq!(libc["version"], "2.36-9+deb12u4");
    assert_eq!(libc["source"]["name"], "glibc");
    assert!(
        libc["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64"),
        "{libc}"
    );
    let layers = sbom["image"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(libc["layer"], layers[0]["digest"]);
    // The deb's own Python package is the OS's; the virtualenv's is a PyPI package of layer 2.
    assert_eq!(package(&sbom, "PyYAML")["os_owned"], true);
    let flask = package(&sbom, "Flask");
    assert!(flask.get("os_owned").is_none() || flask["os_owned"] == false);
    assert_eq!(flask["purl"], "pkg:pypi/flask@3.1.3");
    assert_eq!(flask["layer"], layers[1]["digest"]);

    let cyclonedx = ok_json(&palisade(
        &["sbom", &reference, "--format", "cyclonedx"],
        &home,
    ));
    assert_eq!(cyclonedx["bomFormat"], "CycloneDX");
    assert_eq!(cyclonedx["specVersion"], "1.6");
    let purls: Vec<&str> = cyclonedx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert!(purls.contains(&"pkg:pypi/flask@3.1.3"), "{purls:?}");
    // Machine formats are byte-stable: the same image gives the same bytes (from the cache now).
    let again = palisade(&["sbom", &reference, "--format", "cyclonedx"], &home);
    assert_eq!(
        again.stdout,
        palisade(&["sbom", &reference, "--format", "cyclonedx"], &home).stdout
    );

    let spdx = ok_json(&palisade(&["sbom", &reference, "--format", "spdx"], &home));
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(spdx["creationInfo"]["created"], "2026-11-18T11:06:40Z");

    let table = palisade(&["sbom", &reference], &home);
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("Debian GNU/Linux 12 (bookworm)"), "{text}");
    assert!(text.contains("libc6"), "{text}");
    assert!(text.contains("python (os)"), "{text}");
    assert!(
        text.contains("4 packages (2 OS, 2 language, 1 of them"),
        "{text}"
    );

    // A stored SBOM is read back and converted.
    let stored = dir.path().join("stored.cdx.json");
    let written = palisade(
        &[
            "sbom",
            &reference,
            "--format",
            "cyclonedx",
            "--output",
            stored.to_str().unwrap(),
        ],
        &home,
    );
    assert_eq!(written.status.code(), Some(0));
    let converted = ok_json(&palisade(
        &[
            "sbom",
            &format!("sbom:{}", stored.display()),
            "--format",
            "json",
        ],
        &home,
    ));
    assert_eq!(package(&converted, "libc6")["version"], "2.36-9+deb12u4");
    assert_eq!(converted["packages"].as_array().unwrap().len(), 4);
}

#[test]
fn docker_archive_and_errors() {
    let dir = TempDir::new("cli-sbom-archive").unwrap();
    let archive = dir.path().join("image.tar");
    write_docker_archive(
        &archive,
        &[TestImage::new(Some("shop/app:1.0"), layers())],
        false,
    );
    let home = dir.path().join("home");
    let sbom = ok_json(&palisade(
        &[
            "sbom",
            &format!("docker-archive:{}", archive.display()),
            "--format",
            "json",
            "--no-cache",
        ],
        &home,
    ));
    assert_eq!(package(&sbom, "python3-yaml")["version"], "6.0-3+b2");
    assert!(
        !home.join("layers").exists(),
        "--no-cache must not write the cache"
    );

    // Errors name the input and exit 2.
    let missing = palisade(&["sbom", "oci:/nonexistent/layout"], &home);
    assert_eq!(missing.status.code(), Some(2));
    let message = String::from_utf8_lossy(&missing.stderr);
    assert!(message.contains("/nonexistent/layout"), "{message}");
    let bad = palisade(&["sbom", "UPPER/Case:tag"], &home);
    assert_eq!(bad.status.code(), Some(2));
    let message = String::from_utf8_lossy(&bad.stderr);
    assert!(message.contains("UPPER/Case:tag"), "{message}");
    let refused = palisade(&["sbom", "127.0.0.1:1/none/such:tag"], &home);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("127.0.0.1:1"), "{message}");
}

/// `palisade sbom registry:` over a real `docker-registry`: every tag inventoried, one file per
/// image, a broken image reported without stopping the others (exit 2 at the end), and the
/// inventories kept in the store for rescans (`store list`, `stored:`, `store remove`).
#[test]
fn whole_registry_inventory_is_stored() {
    let binary = match registry_binary() {
        Ok(binary) => binary,
        Err(reason) => return unavailable(&reason),
    };
    let dir = TempDir::new("cli-sbom-registry").unwrap();
    let storage = dir.path().join("storage");
    let registry = match Registry::start(&binary, dir.path(), "anonymous", &storage, "") {
        Ok(registry) => registry,
        Err(reason) => return unavailable(&reason),
    };
    let host = registry.host.as_str();
    let app = push_oci_image(host, "shop/app", "1.0", &layers());
    assert_eq!(push_oci_image(host, "shop/app", "1.1", &layers()), app);
    let broken_layer = layer_tar(&[TarEntry::file("/etc/broken", b"this blob will vanish")]);
    push_oci_image(
        host,
        "team/broken",
        "1",
        std::slice::from_ref(&broken_layer),
    );
    // Delete the broken image's only layer from the registry's storage: the registry now fails
    // that blob, as a damaged registry would.
    let blob = palisade_image::testing::gzip(&broken_layer);
    let digest = palisade_image::layer::sha256_digest(&blob);
    let hex = digest.trim_start_matches("sha256:");
    let data = storage.join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}",
        &hex[..2]
    ));
    std::fs::remove_dir_all(&data).expect("the pushed blob is in the registry's storage");

    let home = dir.path().join("home");
    let out = dir.path().join("sboms");
    let run = palisade(
        &[
            "sbom",
            &format!("registry:{host}"),
            "--format",
            "cyclonedx",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &home,
    );
    let summary = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(2), "{summary}");
    assert!(
        summary.contains(&format!("{host}/shop/app:1.0\t{app}\tdebian 12\t4")),
        "{summary}"
    );
    let failure = summary
        .lines()
        .find(|line| line.starts_with(&format!("{host}/team/broken:1\terror: ")))
        .unwrap_or_else(|| panic!("no error row: {summary}"));
    assert!(
        failure.contains(hex),
        "the error names the layer: {failure}"
    );
    assert!(
        summary.contains("3 images, 2 inventoried, 1 failed"),
        "{summary}"
    );
    let file = out.join(format!("{}_shop_app_1.1.cdx.json", host.replace(':', "_")));
    let bom: Value = serde_json::from_slice(&std::fs::read(&file).expect("one file per image"))
        .expect("CycloneDX JSON");
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        2,
        "no file for the failed image"
    );

    // Both tags name one stored image.
    let stored = ok_json(&palisade(&["store", "list", "--format", "json"], &home));
    let stored = stored.as_array().unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["key"], app.as_str());
    assert_eq!(stored[0]["packages"], 4);
    assert_eq!(stored[0]["references"].as_array().unwrap().len(), 2);

    let sbom = ok_json(&palisade(
        &[
            "sbom",
            &format!("stored:{host}/shop/app:1.0"),
            "--format",
            "json",
        ],
        &home,
    ));
    assert_eq!(package(&sbom, "libc6")["version"], "2.36-9+deb12u4");

    // A prefix limits the walk; table output needs no directory.
    let shop = palisade(&["sbom", &format!("registry:{host}/shop")], &home);
    let summary = String::from_utf8_lossy(&shop.stdout);
    assert_eq!(shop.status.code(), Some(0), "{summary}");
    assert!(
        summary.contains("2 images, 2 inventoried, 0 failed"),
        "{summary}"
    );
    let needs_dir = palisade(
        &["sbom", &format!("registry:{host}"), "--format", "spdx"],
        &home,
    );
    assert_eq!(needs_dir.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&needs_dir.stderr).contains("--output-dir"));

    let removed = palisade(&["store", "remove", &app], &home);
    assert_eq!(removed.status.code(), Some(0));
    let again = palisade(&["store", "remove", &app], &home);
    assert_eq!(
        again.status.code(),
        Some(2),
        "a name not in the store is an error"
    );
    let gone = palisade(&["sbom", &format!("stored:{host}/shop/app:1.0")], &home);
    assert_eq!(gone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("not in the store"));
}

#[test]
fn no_store_keeps_nothing() {
    let dir = TempDir::new("cli-sbom-no-store").unwrap();
    let layout = dir.path().join("layout");
    write_oci_layout(&layout, &[TestImage::new(Some("1.0"), layers())], None);
    let home = dir.path().join("home");
    let reference = format!("oci:{}:1.0", layout.display());
    ok_json(&palisade(
        &["sbom", &reference, "--format", "json", "--no-store"],
        &home,
    ));
    assert!(!home.join("palisade.db").exists());
    ok_json(&palisade(&["sbom", &reference, "--format", "json"], &home));
    let stored = ok_json(&palisade(&["store", "list", "--format", "json"], &home));
    assert_eq!(stored[0]["references"][0], reference.as_str());
}
