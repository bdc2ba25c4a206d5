//! The language catalogers over merged file trees built the way the layer reader builds them:
//! every file goes through the registered catalogers' combined interest (kept, extracted or
//! dropped) before cataloging, so interest and extract wiring are under test too.
//!
//! Tests that read real files of this machine (Debian's python3 dist-packages, Go binaries) skip
//! silently when those files are missing.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;

use palisade_core::{Package, PackageKind};
use palisade_image::catalog::{self, Interest, binary};
use palisade_image::{Content, Entry, EntryKind, FileTree};

/// Adds a file as the layer reader would: asks the catalogers what to keep of it.
fn add(tree: &mut FileTree, path: &str, bytes: &[u8], mode: u32) {
    let catalogers = catalog::all();
    let content = match catalog::interest(&catalogers, path, bytes.len() as u64, mode) {
        Interest::Keep => Content::Bytes(Arc::from(bytes)),
        Interest::Extract(extractor) => match extractor(&mut &bytes[..], bytes.len() as u64) {
            Ok(Some(extract)) => Content::Extract(Arc::from(extract)),
            _ => Content::NotKept,
        },
        Interest::None => Content::NotKept,
    };
    tree.insert(
        path,
        Entry {
            kind: EntryKind::File(content),
            mode,
            size: bytes.len() as u64,
            layer: 0,
        },
    );
}

fn purls(packages: &[Package]) -> BTreeSet<String> {
    packages.iter().map(|p| p.purl.clone()).collect()
}

fn fake_elf_with(blob: &[u8]) -> Vec<u8> {
    let mut file = b"\x7fELF\x02\x01\x01".to_vec();
    file.resize(8192, 0);
    file.extend_from_slice(blob);
    file.resize(file.len() + 8192, 0x90);
    file
}

fn jar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in entries {
        writer.start_file(*name, options).expect("entry");
        writer.write_all(content).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

#[test]
fn every_ecosystem_in_one_image() {
    let mut tree = FileTree::new();
    add(
        &mut tree,
        "/usr/local/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nbody\n",
        0o644,
    );
    add(
        &mut tree,
        "/usr/lib/python3/dist-packages/six-1.16.0.egg-info",
        b"Metadata-Version: 1.2\nName: six\nVersion: 1.16.0\n",
        0o644,
    );
    add(
        &mut tree,
        "/app/node_modules/express/package.json",
        br#"{"name":"express","version":"4.19.2","license":"MIT"}"#,
        0o644,
    );
    add(
        &mut tree,
        "/app/package.json",
        br#"{"name":"shop","version":"1.0.0"}"#,
        0o644,
    );
    add(
        &mut tree,
        "/app/package-lock.json",
        br#"{"lockfileVersion":3,"packages":{"":{"name":"shop"},
            "node_modules/express":{"version":"4.19.2"},
            "node_modules/jest":{"version":"29.7.0","dev":true}}}"#,
        0o644,
    );
    let modinfo = "path\tgithub.com/acme/api\nmod\tgithub.com/acme/api\tv1.2.0\th1:x=\n\
                   dep\tgithub.com/gorilla/mux\tv1.8.1\th1:y=\n";
    add(
        &mut tree,
        "/usr/local/bin/api",
        &fake_elf_with(&binary::go_buildinfo_blob("go1.22.3", modinfo)),
        0o755,
    );
    add(
        &mut tree,
        "/src/Cargo.lock",
        b"version = 3\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.86\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        0o644,
    );
    let inner = jar(&[(
        "META-INF/maven/org.yaml/snakeyaml/pom.properties",
        b"groupId=org.yaml\nartifactId=snakeyaml\nversion=1.33\n",
    )]);
    add(
        &mut tree,
        "/opt/app.jar",
        &jar(&[
            (
                "META-INF/maven/com.acme/app/pom.properties",
                b"groupId=com.acme\nartifactId=app\nversion=0.9.0\n",
            ),
            ("BOOT-INF/lib/snakeyaml-1.33.jar", &inner),
        ]),
        0o644,
    );
    add(
        &mut tree,
        "/usr/local/bundle/specifications/rack-3.0.8.gemspec",
        b"Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"3.0.8\"\n  s.licenses = [\"MIT\".freeze]\nend\n",
        0o644,
    );
    add(
        &mut tree,
        "/var/www/vendor/composer/installed.json",
        br#"{"packages":[{"name":"guzzlehttp/guzzle","version":"7.8.1"}]}"#,
        0o644,
    );
    add(
        &mut tree,
        "/srv/Shop.deps.json",
        br#"{"libraries":{"Serilog/3.1.1":{"type":"package"}}}"#,
        0o644,
    );
    let (_, packages, notes) = catalog::catalog(&catalog::all(), &tree);
    assert!(notes.is_empty(), "{notes:?}");
    let expected: BTreeSet<String> = [
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/six@1.16.0",
        "pkg:npm/express@4.19.2",
        "pkg:npm/jest@29.7.0",
        "pkg:golang/github.com/acme/api@v1.2.0",
        "pkg:golang/github.com/gorilla/mux@v1.8.1",
        "pkg:golang/stdlib@v1.22.3",
        "pkg:cargo/anyhow@1.0.86",
        "pkg:maven/com.acme/app@0.9.0",
        "pkg:maven/org.yaml/snakeyaml@1.33",
        "pkg:gem/rack@3.0.8",
        "pkg:composer/guzzlehttp/guzzle@7.8.1",
        "pkg:nuget/Serilog@3.1.1",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(purls(&packages), expected);
    // express is installed and locked: one package, from the installed manifest.
    let express: Vec<&Package> = packages.iter().filter(|p| p.name == "express").collect();
    assert_eq!(express.len(), 1);
    assert_eq!(
        express[0].location,
        "/app/node_modules/express/package.json"
    );
    let snakeyaml = packages
        .iter()
        .find(|p| p.name == "snakeyaml")
        .expect("snakeyaml");
    assert_eq!(
        snakeyaml.location,
        "/opt/app.jar!/BOOT-INF/lib/snakeyaml-1.33.jar"
    );
    assert!(packages.iter().all(|p| !p.kind.is_os()));
}

#[test]
fn corrupt_files_become_notes_not_panics() {
    let mut tree = FileTree::new();
    add(
        &mut tree,
        "/app/package-lock.json",
        b"{\"packages\":",
        0o644,
    );
    add(
        &mut tree,
        "/app/node_modules/x/package.json",
        b"{\"name\":",
        0o644,
    );
    add(
        &mut tree,
        "/app/pnpm-lock.yaml",
        b"packages: [\n  - {",
        0o644,
    );
    add(
        &mut tree,
        "/src/Cargo.lock",
        b"[[package]]\nname = 1",
        0o644,
    );
    add(
        &mut tree,
        "/x/vendor/composer/installed.json",
        b"nul",
        0o644,
    );
    add(&mut tree, "/y/a.deps.json", b"{\"libraries\":", 0o644);
    add(
        &mut tree,
        "/usr/lib/python3/dist-packages/x.dist-info/METADATA",
        b"Version: 1\n",
        0o644,
    );
    add(&mut tree, "/opt/broken.jar", b"PK\x03\x04 truncated", 0o644);
    let (_, packages, notes) = catalog::catalog(&catalog::all(), &tree);
    assert!(packages.is_empty(), "{packages:?}");
    let noted: BTreeSet<&str> = notes.iter().map(|n| n.path.as_str()).collect();
    for path in [
        "/app/package-lock.json",
        "/app/node_modules/x/package.json",
        "/app/pnpm-lock.yaml",
        "/src/Cargo.lock",
        "/x/vendor/composer/installed.json",
        "/y/a.deps.json",
        "/usr/lib/python3/dist-packages/x.dist-info/METADATA",
    ] {
        assert!(noted.contains(path), "no note for {path}: {notes:?}");
    }
}

#[test]
fn go_binary_before_1_18_is_noted() {
    let mut header = b"\xff Go buildinf:".to_vec();
    header.extend_from_slice(&[8, 0]);
    header.resize(32, 0x40);
    let mut tree = FileTree::new();
    add(&mut tree, "/bin/old", &fake_elf_with(&header), 0o755);
    let (_, packages, notes) = catalog::catalog(&catalog::all(), &tree);
    assert!(packages.is_empty());
    assert_eq!(notes.len(), 1);
    assert!(notes[0].message.contains("Go 1.18"), "{notes:?}");
}

/// Debian's own python3 packages, when this machine has them: every `*.dist-info` /
/// `*.egg-info` with a name and version is one package, named as its metadata says.
#[test]
fn debian_dist_packages() {
    let Ok(dir) = std::fs::read_dir("/usr/lib/python3/dist-packages") else {
        return;
    };
    let mut tree = FileTree::new();
    let mut expected = 0;
    for entry in dir.flatten() {
        let path = entry.path();
        let name = path.to_string_lossy().into_owned();
        let metadata = if name.ends_with(".dist-info") {
            path.join("METADATA")
        } else if name.ends_with(".egg-info") && path.is_dir() {
            path.join("PKG-INFO")
        } else if name.ends_with(".egg-info") {
            path.clone()
        } else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&metadata) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        if text.lines().any(|l| l.starts_with("Name:"))
            && text.lines().any(|l| l.starts_with("Version:"))
        {
            expected += 1;
        }
        add(&mut tree, &metadata.to_string_lossy(), &bytes, 0o644);
    }
    let (_, packages, _) = catalog::catalog(&catalog::all(), &tree);
    let python: Vec<&Package> = packages
        .iter()
        .filter(|p| p.kind == PackageKind::Python)
        .collect();
    assert_eq!(python.len(), expected);
    assert!(
        python
            .iter()
            .all(|p| p.purl.starts_with("pkg:pypi/") && !p.version.is_empty())
    );
}

/// Real Go binaries of this machine (the Go toolchain, cloud SDK tools), streamed through the
/// extractor: the toolchain's own version must come out as `stdlib`.
#[test]
fn real_go_binaries() {
    let candidates = [
        "/usr/lib/go/bin/go",
        "/usr/lib/go/bin/gofmt",
        "/usr/lib/google-cloud-sdk/bin/kubectl",
        "/usr/lib/google-cloud-sdk/bin/gke-gcloud-auth-plugin",
    ];
    for path in candidates {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let mut tree = FileTree::new();
        add(&mut tree, path, &bytes, 0o755);
        let (_, packages, notes) = catalog::catalog(&catalog::all(), &tree);
        assert!(notes.is_empty(), "{path}: {notes:?}");
        let stdlib = packages
            .iter()
            .find(|p| p.name == "stdlib")
            .unwrap_or_else(|| panic!("{path}: no stdlib in {packages:?}"));
        assert!(
            stdlib.version.starts_with("v1."),
            "{path}: {}",
            stdlib.version
        );
        if path.ends_with("kubectl") {
            // kubectl 1.3x depends on ~80 modules.
            assert!(packages.len() > 50, "{path}: {}", packages.len());
        }
        assert!(packages.iter().all(|p| p.location == path));
    }
}
