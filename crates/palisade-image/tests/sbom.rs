//! SBOM writers and reader: schema validity (official CycloneDX 1.6 and SPDX 2.3 schemas,
//! vendored in tests/data/schemas), byte stability, and write → read round trips.

use std::collections::BTreeMap;

use palisade_core::{Distro, ImageInfo, Layer, Package, PackageKind, Sbom, SourcePackage};
use palisade_image::sbom::{self, SbomFormat, WriteOptions};
use serde_json::Value;

const CYCLONEDX_SCHEMA: &str = include_str!("data/schemas/bom-1.6.SNAPSHOT.schema.json");
const CYCLONEDX_SPDX_IDS: &str = include_str!("data/schemas/spdx.SNAPSHOT.schema.json");
const CYCLONEDX_JSF: &str = include_str!("data/schemas/jsf-0.82.SNAPSHOT.schema.json");
const SPDX_SCHEMA: &str = include_str!("data/schemas/spdx-2.3.schema.json");

const LAYER_BASE: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const LAYER_APP: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn package(kind: PackageKind, name: &str, version: &str, purl: &str, location: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        kind,
        purl: purl.into(),
        source: None,
        arch: None,
        licenses: Vec::new(),
        location: location.into(),
        layer: Some(LAYER_BASE.into()),
        os_owned: false,
        files: Vec::new(),
        metadata: BTreeMap::new(),
    }
}

/// A Debian image with OS packages and language packages of several kinds, licenses in every
/// form (listed id, expression, free text, several), and the same library at two paths.
fn fixture() -> Sbom {
    let mut libc = package(
        PackageKind::Deb,
        "libc6",
        "2.36-9+deb12u4",
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
        "/var/lib/dpkg/status",
    );
    libc.arch = Some("amd64".into());
    libc.source = Some(SourcePackage {
        name: "glibc".into(),
        version: None,
    });
    libc.licenses = vec!["LGPL-2.1".into(), "GPL-2.0+".into(), "BSD-like".into()];
    libc.files = vec!["/lib/x86_64-linux-gnu/libc.so.6".into()];
    let mut zlib = package(
        PackageKind::Deb,
        "zlib1g",
        "1:1.2.13.dfsg-1",
        "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12",
        "/var/lib/dpkg/status",
    );
    zlib.source = Some(SourcePackage {
        name: "zlib".into(),
        version: Some("1:1.2.13.dfsg-1".into()),
    });
    zlib.licenses = vec!["Zlib".into()];
    zlib.arch = Some("amd64".into());
    let mut yaml = package(
        PackageKind::Python,
        "PyYAML",
        "6.0.1",
        "pkg:pypi/pyyaml@6.0.1",
        "/usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/METADATA",
    );
    yaml.os_owned = true;
    yaml.licenses = vec!["MIT".into()];
    let mut node = package(
        PackageKind::Npm,
        "@types/node",
        "20.11.0",
        "pkg:npm/%40types/node@20.11.0",
        "/app/node_modules/@types/node/package.json",
    );
    node.layer = Some(LAYER_APP.into());
    node.licenses = vec!["MIT".into()];
    let mut serde = package(
        PackageKind::Rust,
        "serde",
        "1.0.200",
        "pkg:cargo/serde@1.0.200",
        "/app/bin/server",
    );
    serde.layer = Some(LAYER_APP.into());
    serde.licenses = vec!["MIT OR Apache-2.0".into()];
    let mut cobra = package(
        PackageKind::Go,
        "github.com/spf13/cobra",
        "v1.8.0",
        "pkg:golang/github.com/spf13/cobra@v1.8.0",
        "/usr/local/bin/tool",
    );
    cobra.metadata.insert("goVersion".into(), "go1.22.1".into());
    cobra.layer = None;
    let mut lang3 = package(
        PackageKind::Java,
        "commons-lang3",
        "3.14.0",
        "pkg:maven/org.apache.commons/commons-lang3@3.14.0",
        "/usr/share/java/commons-lang3.jar",
    );
    lang3.licenses = vec!["Apache License, Version 2.0".into()];
    let lang3_copy = Package {
        location: "/app/lib/commons-lang3-3.14.0.jar".into(),
        layer: Some(LAYER_APP.into()),
        ..lang3.clone()
    };
    Sbom {
        image: ImageInfo {
            reference: "registry.example.com/shop/app:1.2".into(),
            manifest_digest: Some(
                "sha256:3333333333333333333333333333333333333333333333333333333333333333".into(),
            ),
            config_digest: Some(
                "sha256:4444444444444444444444444444444444444444444444444444444444444444".into(),
            ),
            platform: Some("linux/amd64".into()),
            layers: vec![
                Layer {
                    digest: LAYER_BASE.into(),
                    diff_id: None,
                    media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                    size: 1000,
                },
                Layer {
                    digest: LAYER_APP.into(),
                    diff_id: None,
                    media_type: "application/vnd.oci.image.layer.v1.tar+gzip".into(),
                    size: 2000,
                },
            ],
            tags: vec!["shop/app:1.2".into()],
        },
        distro: Some(Distro {
            id: "debian".into(),
            version_id: "12".into(),
            codename: Some("bookworm".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            ..Distro::default()
        }),
        packages: vec![libc, zlib, yaml, node, serde, cobra, lang3, lang3_copy],
        notes: Vec::new(),
    }
}

fn options() -> WriteOptions {
    WriteOptions {
        timestamp: Some("2026-11-27T03:00:00Z".into()),
        tool_version: "0.1.0".into(),
    }
}

fn render(sbom: &Sbom, format: SbomFormat, options: &WriteOptions) -> Vec<u8> {
    let mut out = Vec::new();
    sbom::write(sbom, format, options, &mut out).expect("writes to memory");
    out
}

fn render_json(sbom: &Sbom, format: SbomFormat) -> Value {
    serde_json::from_slice(&render(sbom, format, &options())).expect("output is JSON")
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("vendored schema parses")
}

/// Schema violations of `document` (empty when valid), formats checked too.
fn cyclonedx_violations(document: &Value) -> Vec<String> {
    // The schema's relative `$ref`s resolve against its `$id` (http://cyclonedx.org/schema/).
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            parse(CYCLONEDX_SPDX_IDS),
        )
        .and_then(|r| {
            r.add(
                "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
                parse(CYCLONEDX_JSF),
            )
        })
        .expect("valid URIs")
        .prepare()
        .expect("registry prepares");
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&parse(CYCLONEDX_SCHEMA))
        .expect("the official schema compiles");
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn spdx_violations(document: &Value) -> Vec<String> {
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&parse(SPDX_SCHEMA))
        .expect("the official schema compiles");
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn cyclonedx_validates_against_the_1_6_schema() {
    let document = render_json(&fixture(), SbomFormat::CycloneDx);
    assert_eq!(cyclonedx_violations(&document), Vec::<String>::new());
    // Also without a timestamp and without a distro or packages.
    let mut bare = Sbom::default();
    bare.image.reference = "dir:/srv/rootfs".into();
    let mut out = Vec::new();
    let options = WriteOptions {
        timestamp: None,
        tool_version: "0.1.0".into(),
    };
    sbom::write(&bare, SbomFormat::CycloneDx, &options, &mut out).unwrap();
    let bare: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(cyclonedx_violations(&bare), Vec::<String>::new());
    assert!(bare["metadata"].get("timestamp").is_none());
}

#[test]
fn spdx_validates_against_the_2_3_schema() {
    let document = render_json(&fixture(), SbomFormat::Spdx);
    assert_eq!(spdx_violations(&document), Vec::<String>::new());
}

#[test]
fn the_schema_checks_can_fail() {
    let mut cyclonedx = render_json(&fixture(), SbomFormat::CycloneDx);
    cyclonedx["components"][1]["type"] = "package".into();
    cyclonedx["components"][2]["licenses"][0]["license"]["id"] = "Not-A-License".into();
    assert_eq!(cyclonedx_violations(&cyclonedx).len(), 2);
    let mut spdx = render_json(&fixture(), SbomFormat::Spdx);
    spdx["relationships"][0]["relationshipType"] = "OWNS".into();
    assert_eq!(spdx_violations(&spdx).len(), 1);
}

#[test]
fn cyclonedx_content() {
    let document = render_json(&fixture(), SbomFormat::CycloneDx);
    assert_eq!(document["specVersion"], "1.6");
    let serial = document["serialNumber"].as_str().unwrap();
    assert!(serial.starts_with("urn:uuid:") && serial.len() == 45);
    let image = &document["metadata"]["component"];
    assert_eq!(image["type"], "container");
    assert_eq!(image["name"], "registry.example.com/shop/app:1.2");
    assert_eq!(
        image["purl"],
        "pkg:oci/app@sha256%3A3333333333333333333333333333333333333333333333333333333333333333\
         ?arch=amd64&repository_url=registry.example.com/shop/app&tag=1.2"
    );
    assert_eq!(
        document["metadata"]["tools"]["components"][0]["version"],
        "0.1.0"
    );
    let components = document["components"].as_array().unwrap();
    // The distribution, then eight packages (the duplicated jar twice).
    assert_eq!(components.len(), 9);
    assert_eq!(components[0]["type"], "operating-system");
    let refs: Vec<&str> = components[1..]
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let mut sorted = refs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(refs, sorted, "sorted by bom-ref and unique");
    let libc = components.iter().find(|c| c["name"] == "libc6").unwrap();
    assert_eq!(libc["type"], "library");
    assert_eq!(libc["licenses"][0]["license"]["id"], "LGPL-2.1");
    // Deprecated ids are still listed ids.
    assert_eq!(libc["licenses"][1]["license"]["id"], "GPL-2.0+");
    assert_eq!(libc["licenses"][2]["license"]["name"], "BSD-like");
    let serde = components.iter().find(|c| c["name"] == "serde").unwrap();
    assert_eq!(serde["licenses"][0]["expression"], "MIT OR Apache-2.0");
    let dependencies = document["dependencies"].as_array().unwrap();
    assert_eq!(dependencies.len(), 1);
    assert_eq!(dependencies[0]["ref"], image["bom-ref"]);
    assert_eq!(dependencies[0]["dependsOn"].as_array().unwrap().len(), 9);
}

#[test]
fn spdx_content() {
    let document = render_json(&fixture(), SbomFormat::Spdx);
    assert_eq!(document["creationInfo"]["created"], "2026-11-27T03:00:00Z");
    assert_eq!(
        document["creationInfo"]["creators"][0],
        "Tool: palisade-0.1.0"
    );
    let packages = document["packages"].as_array().unwrap();
    assert_eq!(packages[0]["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(packages.len(), 10);
    for package in packages {
        let id = package["SPDXID"].as_str().unwrap();
        assert!(
            id.strip_prefix("SPDXRef-")
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    let libc = packages.iter().find(|p| p["name"] == "libc6").unwrap();
    assert_eq!(
        libc["licenseDeclared"],
        "LGPL-2.1 AND GPL-2.0+ AND LicenseRef-BSD-like"
    );
    assert_eq!(
        document["hasExtractedLicensingInfos"][0]["extractedText"],
        "Apache License, Version 2.0"
    );
    let relationships = document["relationships"].as_array().unwrap();
    assert_eq!(relationships.len(), 10);
    assert_eq!(relationships[0]["relationshipType"], "DESCRIBES");
}

#[test]
fn output_is_byte_stable() {
    let sbom = fixture();
    let mut shuffled = fixture();
    shuffled.packages.reverse();
    for format in [SbomFormat::CycloneDx, SbomFormat::Spdx, SbomFormat::Json] {
        let first = render(&sbom, format, &options());
        assert_eq!(first, render(&sbom, format, &options()), "{format:?}");
        assert_eq!(first, render(&shuffled, format, &options()), "{format:?}");
    }
    // A different inventory is a different document.
    let mut fewer = fixture();
    fewer.packages.pop();
    let serial = |sbom: &Sbom| render_json(sbom, SbomFormat::CycloneDx)["serialNumber"].clone();
    assert_ne!(serial(&sbom), serial(&fewer));
    let namespace = |sbom: &Sbom| render_json(sbom, SbomFormat::Spdx)["documentNamespace"].clone();
    assert_ne!(namespace(&sbom), namespace(&fewer));
}

#[test]
fn timestamps_are_checked() {
    let sbom = fixture();
    let without = WriteOptions {
        timestamp: None,
        tool_version: "0.1.0".into(),
    };
    let error = sbom::write(&sbom, SbomFormat::Spdx, &without, &mut Vec::new()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let bad = WriteOptions {
        timestamp: Some("yesterday".into()),
        ..without
    };
    let error = sbom::write(&sbom, SbomFormat::CycloneDx, &bad, &mut Vec::new()).unwrap_err();
    assert!(error.to_string().contains("yesterday"));
}

/// What a round trip must keep of a package.
fn identity(sbom: &Sbom) -> Vec<(String, String, PackageKind, String, String, Option<String>)> {
    let mut out: Vec<_> = sbom
        .packages
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                p.kind,
                p.purl.clone(),
                p.location.clone(),
                p.layer.clone(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn round_trips() {
    let sbom = fixture();
    for format in [SbomFormat::CycloneDx, SbomFormat::Spdx, SbomFormat::Json] {
        let bytes = render(&sbom, format, &options());
        let back = sbom::read("app.sbom.json", &bytes).expect("reads its own output");
        assert_eq!(identity(&back), identity(&sbom), "{format:?}");
        assert_eq!(back.image.reference, sbom.image.reference, "{format:?}");
        assert_eq!(back.image.manifest_digest, sbom.image.manifest_digest);
        assert_eq!(
            back.distro.as_ref().map(|d| &d.id),
            Some(&"debian".to_string())
        );
        assert!(back.notes.is_empty(), "{format:?}: {:?}", back.notes);
    }
    // CycloneDX and Palisade JSON keep the rest too (files excepted: not SBOM content).
    let mut expected = sbom.clone();
    for package in &mut expected.packages {
        package.files.clear();
    }
    let json = sbom::read("app.json", &render(&sbom, SbomFormat::Json, &options())).unwrap();
    assert_eq!(identity(&json), identity(&expected));
    let by_location = |s: &Sbom| {
        let mut packages = s.packages.clone();
        packages.sort_by(|a, b| (&a.name, &a.location).cmp(&(&b.name, &b.location)));
        packages
    };
    assert_eq!(by_location(&json), by_location(&expected));
    assert_eq!(json.image, expected.image);
    let cyclonedx = sbom::read(
        "app.cdx.json",
        &render(&sbom, SbomFormat::CycloneDx, &options()),
    )
    .unwrap();
    assert_eq!(by_location(&cyclonedx), by_location(&expected));
    assert_eq!(cyclonedx.image.config_digest, sbom.image.config_digest);
    assert_eq!(cyclonedx.image.layers.len(), 2);
    assert_eq!(
        cyclonedx.distro.unwrap().codename.as_deref(),
        Some("bookworm")
    );
}

#[test]
fn reads_syft_style_cyclonedx() {
    let document = r#"{
      "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
      "metadata": {"component": {"type": "container", "name": "alpine:3.20",
                                 "version": "sha256:beef"}},
      "components": [
        {"type": "library", "name": "musl", "version": "1.2.5-r0",
         "purl": "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3",
         "licenses": [{"license": {"id": "MIT"}}],
         "properties": [
           {"name": "syft:location:0:layerID", "value": "sha256:aaaa"},
           {"name": "syft:location:0:path", "value": "/lib/apk/db/installed"}]},
        {"type": "library", "name": "node", "group": "@types", "version": "20.0.0",
         "purl": "pkg:npm/%40types/node@20.0.0"},
        {"type": "library", "name": "thing", "purl": "pkg:hex/thing@1.0"},
        {"type": "library", "name": "no-purl"},
        {"type": "operating-system", "name": "alpine", "version": "3.20.3"}
      ]}"#;
    let sbom = sbom::read("alpine.cdx.json", document.as_bytes()).unwrap();
    assert_eq!(sbom.image.reference, "alpine:3.20");
    assert_eq!(sbom.image.manifest_digest.as_deref(), Some("sha256:beef"));
    assert_eq!(sbom.packages.len(), 2);
    let musl = &sbom.packages[0];
    assert_eq!(musl.kind, PackageKind::Apk);
    assert_eq!(musl.location, "/lib/apk/db/installed");
    assert_eq!(musl.layer.as_deref(), Some("sha256:aaaa"));
    assert_eq!(musl.arch.as_deref(), Some("x86_64"));
    assert_eq!(musl.licenses, vec!["MIT".to_string()]);
    assert_eq!(sbom.packages[1].name, "@types/node");
    assert_eq!(sbom.distro.unwrap().version_id, "3.20.3");
    assert_eq!(sbom.notes.len(), 1);
    assert!(sbom.notes[0].message.contains("pkg:hex/thing@1.0"));
}

#[test]
fn read_errors_name_the_file_and_the_member() {
    let cases: [(&str, &str); 6] = [
        ("{", "not a JSON SBOM"),
        ("[]", "not an object"),
        (r#"{"name": "x"}"#, "not a Palisade, CycloneDX or SPDX"),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "a", "purl": 7}]}"#,
            "$.components[0].purl: expected a string, found a number",
        ),
        (
            r#"{"bomFormat": "CycloneDX", "specVersion": "1.2"}"#,
            "$.specVersion: unsupported CycloneDX version `1.2`",
        ),
        (
            r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "externalRefs": {}}]}"#,
            "$.packages[0].externalRefs: expected an array",
        ),
    ];
    for (document, expected) in cases {
        let error = sbom::read("/tmp/in.sbom.json", document.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("/tmp/in.sbom.json: "), "{error}");
        assert!(error.contains(expected), "{error} lacks {expected}");
    }
    let error = sbom::read("x.json", br#"{"schema": "palisade.dev/sbom/v9"}"#).unwrap_err();
    assert!(error.to_string().contains("$.schema"));
}

#[test]
fn palisade_json_has_the_schema_and_no_file_lists() {
    let document = render_json(&fixture(), SbomFormat::Json);
    assert_eq!(document["schema"], "palisade.dev/sbom/v1");
    let packages = document["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 8);
    assert!(packages.iter().all(|p| p.get("files").is_none()));
    assert_eq!(packages[0]["kind"], "deb");
}

#[test]
fn identical_packages_get_distinct_ids_at_scale() {
    let mut sbom = fixture();
    let template = sbom.packages[0].clone();
    // Two thousand packages, every one present twice, identical.
    for index in 0..1_000 {
        let mut copy = template.clone();
        copy.name = format!("lib{index}");
        copy.purl = format!("pkg:deb/debian/lib{index}@1.0?arch=amd64");
        sbom.packages.push(copy.clone());
        sbom.packages.push(copy);
    }
    let cyclonedx = render_json(&sbom, SbomFormat::CycloneDx);
    let refs: std::collections::HashSet<&str> = cyclonedx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), sbom.packages.len() + 1);
    let spdx = render_json(&sbom, SbomFormat::Spdx);
    let ids: std::collections::HashSet<&str> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), sbom.packages.len() + 2);
    let back = sbom::read(
        "big.cdx.json",
        &render(&sbom, SbomFormat::CycloneDx, &options()),
    )
    .unwrap();
    assert_eq!(back.packages.len(), sbom.packages.len());
}
