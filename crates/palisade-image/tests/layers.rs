//! Layer streaming, local sources and the scan pipeline, on images built in code.

use palisade_core::PackageKind;
use palisade_image::cache::LayerCache;
use palisade_image::files::{Content, EntryKind, FileTree, LayerChanges};
use palisade_image::layer::{LayerLimits, read_layer, sha256_digest};
use palisade_image::scan::{ScanOptions, scan, scan_with};
use palisade_image::source::{self, SourceOptions};
use palisade_image::testing::{
    CountingSource, TarEntry, TempDir, TestImage, gzip, layer_tar, test_catalogers,
    write_docker_archive, write_oci_layout, zstd,
};
use palisade_image::{ImageError, ImageSource};

fn read(blob: &[u8], limits: &LayerLimits) -> Result<LayerChanges, ImageError> {
    read_layer(
        &mut &blob[..],
        "test-image",
        &sha256_digest(blob),
        0,
        &test_catalogers(),
        limits,
    )
}

fn merged(layers: Vec<Vec<TarEntry>>) -> FileTree {
    let mut tree = FileTree::new();
    for entries in layers {
        let changes = read(&layer_tar(&entries), &LayerLimits::default()).expect("layer reads");
        tree.apply(changes);
    }
    tree
}

fn layer_message(result: Result<LayerChanges, ImageError>) -> String {
    match result {
        Err(e @ ImageError::Layer { .. }) => e.to_string(),
        Err(other) => panic!("expected a layer error, got {other}"),
        Ok(_) => panic!("expected a layer error, the layer was read"),
    }
}

#[test]
fn whiteouts_and_opaque_directories_across_layers() {
    let tree = merged(vec![
        vec![
            TarEntry::dir("etc/"),
            TarEntry::file("etc/a.pkg", b"a 1\n"),
            TarEntry::file("etc/b.pkg", b"b 1\n"),
            TarEntry::file("app/lib/x.pkg", b"x 1\n"),
            TarEntry::file("app/lib/y.pkg", b"y 1\n"),
        ],
        vec![
            TarEntry::whiteout("etc/a.pkg"),
            TarEntry::opaque("app/lib"),
            TarEntry::file("app/lib/z.pkg", b"z 2\n"),
        ],
    ]);
    assert!(!tree.exists("/etc/a.pkg"));
    assert!(tree.exists("/etc/b.pkg"));
    let under: Vec<&str> = tree.under("/app/lib").map(|(p, _)| p).collect();
    assert_eq!(under, ["/app/lib/z.pkg"]);
    assert_eq!(tree.get("/app/lib/z.pkg").map(|e| e.layer), Some(0));
    // Whiteout markers are not files of the image.
    assert!(tree.iter().all(|(p, _)| !p.contains(".wh.")));
}

#[test]
fn whiteout_of_dot_dot_does_not_delete_the_parent() {
    let tree = merged(vec![
        vec![TarEntry::file("etc/keep.pkg", b"k 1\n")],
        vec![TarEntry::File {
            path: "etc/x/.wh...".to_string(),
            bytes: Vec::new(),
            mode: 0o644,
        }],
    ]);
    assert!(tree.exists("/etc/keep.pkg"));
}

#[test]
fn traversal_and_absolute_names_stay_inside_the_image() {
    let changes = read(
        &layer_tar(&[
            TarEntry::file("../../../etc/evil.pkg", b"evil 1\n"),
            TarEntry::file("/abs/path.pkg", b"abs 1\n"),
            TarEntry::file("./usr/./lib//ok.pkg", b"ok 1\n"),
            TarEntry::file("..", b""),
        ]),
        &LayerLimits::default(),
    )
    .expect("layer reads");
    let paths: Vec<&str> = changes.tree.iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/abs/path.pkg", "/etc/evil.pkg", "/usr/lib/ok.pkg"]);
    assert_eq!(changes.tree.read("/etc/evil.pkg"), Some(&b"evil 1\n"[..]));
}

#[test]
fn symlinks_and_hard_links() {
    let changes = read(
        &layer_tar(&[
            TarEntry::file("usr/share/real.pkg", b"real 1\n"),
            TarEntry::hardlink("usr/bin/linked.pkg", "usr/share/real.pkg"),
            TarEntry::hardlink("usr/bin/dangling.pkg", "nowhere/else.pkg"),
            TarEntry::hardlink("usr/bin/escape.pkg", "../../../usr/share/real.pkg"),
            TarEntry::symlink("lib", "usr/lib"),
        ]),
        &LayerLimits::default(),
    )
    .expect("layer reads");
    assert_eq!(
        changes.tree.read("/usr/bin/linked.pkg"),
        Some(&b"real 1\n"[..])
    );
    // `..` in a link name is normalized like any path: it still names the file in this layer.
    assert_eq!(
        changes.tree.read("/usr/bin/escape.pkg"),
        Some(&b"real 1\n"[..])
    );
    assert_eq!(
        changes.tree.get("/usr/bin/dangling.pkg").map(|e| &e.kind),
        Some(&EntryKind::File(Content::NotKept))
    );
    assert_eq!(
        changes.tree.get("/lib").map(|e| &e.kind),
        Some(&EntryKind::Symlink("usr/lib".to_string()))
    );
}

#[test]
fn long_names_are_read_whole() {
    let long = format!("opt/{}/deep.pkg", "d".repeat(150));
    let changes = read(
        &layer_tar(&[TarEntry::file(&long, b"deep 1\n")]),
        &LayerLimits::default(),
    )
    .expect("layer reads");
    assert_eq!(
        changes.tree.read(&format!("/{long}")),
        Some(&b"deep 1\n"[..])
    );
}

#[test]
fn interest_decides_what_is_kept() {
    let changes = read(
        &layer_tar(&[
            TarEntry::file("a.pkg", b"a 1\n"),
            TarEntry::file("tool.bin", b"tool 2.0\n\x7fELF lots of binary"),
            TarEntry::file("readme.txt", b"not wanted"),
            TarEntry::file("huge.pkg", &vec![b'x'; 4096]),
        ]),
        &LayerLimits {
            max_kept_file: 1024,
            ..LayerLimits::default()
        },
    )
    .expect("layer reads");
    assert_eq!(changes.tree.read("/a.pkg"), Some(&b"a 1\n"[..]));
    assert_eq!(changes.tree.extract("/tool.bin"), Some(&b"tool 2.0"[..]));
    let readme = changes.tree.get("/readme.txt").expect("recorded");
    assert_eq!(
        (&readme.kind, readme.size),
        (&EntryKind::File(Content::NotKept), 10)
    );
    assert_eq!(
        changes.tree.get("/huge.pkg").map(|e| &e.kind),
        Some(&EntryKind::File(Content::NotKept))
    );
}

#[test]
fn digest_mismatch_is_an_error_naming_the_layer() {
    let blob = gzip(&layer_tar(&[TarEntry::file("a.pkg", b"a 1\n")]));
    let wrong = sha256_digest(b"something else");
    let result = read_layer(
        &mut &blob[..],
        "shop/app:1",
        &wrong,
        0,
        &test_catalogers(),
        &LayerLimits::default(),
    );
    let message = layer_message(result);
    assert!(message.contains(&wrong), "{message}");
    assert!(message.contains("shop/app:1"), "{message}");
    assert!(message.contains("digest mismatch"), "{message}");

    let malformed = read_layer(
        &mut &blob[..],
        "shop/app:1",
        "sha256:../../etc",
        0,
        &test_catalogers(),
        &LayerLimits::default(),
    );
    assert!(layer_message(malformed).contains("unsupported digest"));
}

#[test]
fn truncated_gzip_and_corrupt_tar_are_errors() {
    let tar = layer_tar(&[TarEntry::file("a.pkg", &vec![b'a'; 100_000])]);
    let blob = gzip(&tar);
    let truncated = &blob[..blob.len() / 2];
    let message = layer_message(read(truncated, &LayerLimits::default()));
    assert!(message.contains(&sha256_digest(truncated)), "{message}");

    let mut corrupt = layer_tar(&[TarEntry::file("a.pkg", b"a 1\n")]);
    corrupt[148] ^= 0x55; // header checksum field
    layer_message(read(&corrupt, &LayerLimits::default()));

    let zstd_blob = zstd(&tar);
    layer_message(read(
        &zstd_blob[..zstd_blob.len() - 10],
        &LayerLimits::default(),
    ));
}

#[test]
fn zstd_layers_are_read() {
    let blob = zstd(&layer_tar(&[TarEntry::file("usr/z.pkg", b"z 3\n")]));
    let changes = read(&blob, &LayerLimits::default()).expect("zstd layer reads");
    assert_eq!(changes.tree.read("/usr/z.pkg"), Some(&b"z 3\n"[..]));
}

#[test]
fn decompression_bombs_are_stopped() {
    // 8 MiB of zeros gzips to a few KiB.
    let tar = layer_tar(&[TarEntry::file("zeros", &vec![0u8; 8 << 20])]);
    let blob = gzip(&tar);
    let by_total = read(
        &blob,
        &LayerLimits {
            max_uncompressed: 1 << 20,
            ..LayerLimits::default()
        },
    );
    assert!(layer_message(by_total).contains("decompression bomb"));
    let by_ratio = read(
        &blob,
        &LayerLimits {
            ratio_grace: 1 << 20,
            max_ratio: 100,
            ..LayerLimits::default()
        },
    );
    assert!(layer_message(by_ratio).contains("decompression bomb"));
    assert!(read(&blob, &LayerLimits::default()).is_ok());
}

#[test]
fn arbitrary_bytes_are_errors_not_panics() {
    for blob in [
        &b""[..],
        b"\x1f\x8b",
        b"\x28\xb5\x2f\xfd\x00",
        &[0xffu8; 600][..],
    ] {
        let _ = read(blob, &LayerLimits::default());
    }
    assert!(read(&[0xffu8; 600], &LayerLimits::default()).is_err());
}

fn base_layer() -> Vec<u8> {
    layer_tar(&[
        TarEntry::file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        TarEntry::dir("opt/db/"),
        TarEntry::file("opt/db/status", b"libc6 2.36\n"),
        TarEntry::symlink("var/lib/test", "../../opt/db"),
    ])
}

fn app_layer() -> Vec<u8> {
    layer_tar(&[
        TarEntry::file("app/req.pkg", b"flask 3.0\n"),
        TarEntry::file("app/server.bin", b"server 1.2\n"),
    ])
}

#[test]
fn oci_layout_scan_sets_layers_and_follows_symlinked_database() {
    let dir = TempDir::new("oci-scan").expect("temp dir");
    let layout = dir.path().join("layout");
    let image = TestImage::new(Some("v1"), vec![base_layer(), app_layer()]).gzipped();
    write_oci_layout(&layout, &[image], None);
    let reference = format!("oci:{}:v1", layout.display());
    let source = source::open(&reference, &SourceOptions::default()).expect("opens");
    let info = source.info().clone();
    assert_eq!(info.layers.len(), 2);
    assert_eq!(info.tags, ["v1"]);
    assert_eq!(info.platform.as_deref(), Some("linux/amd64"));
    assert!(info.layers.iter().all(|l| l.diff_id.is_some()));
    let sbom = scan(source.as_ref(), &test_catalogers(), None).expect("scans");
    assert_eq!(sbom.distro.as_ref().map(|d| d.id.as_str()), Some("debian"));
    let found: Vec<(&str, PackageKind, Option<&str>)> = sbom
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.kind, p.layer.as_deref()))
        .collect();
    let base = info.layers[0].digest.as_str();
    let app = info.layers[1].digest.as_str();
    assert_eq!(
        found,
        [
            ("libc6", PackageKind::Deb, Some(base)),
            ("flask", PackageKind::Python, Some(app)),
            ("server", PackageKind::Go, Some(app)),
        ]
    );
}

#[test]
fn oci_layout_picks_the_platform_from_a_nested_index() {
    let dir = TempDir::new("oci-platform").expect("temp dir");
    let layout = dir.path().join("layout");
    let amd = TestImage::new(
        None,
        vec![layer_tar(&[TarEntry::file("amd.pkg", b"amd 1\n")])],
    );
    let arm = TestImage::new(
        None,
        vec![layer_tar(&[TarEntry::file("arm.pkg", b"arm 1\n")])],
    )
    .for_platform("linux", "arm64", Some("v8"));
    let armv7 = TestImage::new(
        None,
        vec![layer_tar(&[TarEntry::file("v7.pkg", b"v7 1\n")])],
    )
    .for_platform("linux", "arm", Some("v7"));
    write_oci_layout(&layout, &[amd, arm, armv7], Some("multi"));
    let reference = format!("oci:{}:multi", layout.display());
    let names = |platform: &str| -> Vec<String> {
        let options = SourceOptions {
            platform: Some(platform.to_string()),
        };
        let source = source::open(&reference, &options).expect("opens");
        let sbom = scan(source.as_ref(), &test_catalogers(), None).expect("scans");
        sbom.packages.into_iter().map(|p| p.name).collect()
    };
    assert_eq!(names("linux/amd64"), ["amd"]);
    assert_eq!(names("linux/arm64"), ["arm"]);
    assert_eq!(names("linux/arm/v7"), ["v7"]);
    let missing = source::open(
        &reference,
        &SourceOptions {
            platform: Some("linux/s390x".to_string()),
        },
    );
    match missing {
        Err(ImageError::Source { message, .. }) => {
            assert!(
                message.contains("linux/s390x") && message.contains("linux/arm/v7"),
                "{message}"
            )
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("no image should match linux/s390x"),
    }
    let bad_tag = source::open(
        &format!("oci:{}:nope", layout.display()),
        &SourceOptions::default(),
    );
    assert!(
        matches!(bad_tag, Err(ImageError::Source { message, .. }) if message.contains("multi"))
    );
}

#[test]
fn oci_layout_refuses_digests_that_are_paths() {
    let dir = TempDir::new("oci-hostile").expect("temp dir");
    let layout = dir.path().join("layout");
    std::fs::create_dir_all(&layout).expect("dir");
    let index = r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:../../../../etc/passwd","size":1}]}"#;
    std::fs::write(layout.join("index.json"), index).expect("index");
    let result = source::open(
        &format!("oci:{}", layout.display()),
        &SourceOptions::default(),
    );
    assert!(
        matches!(result, Err(ImageError::Source { message, .. }) if message.contains("64 lowercase hex"))
    );
}

#[test]
fn docker_archives_classic_and_blob_layouts() {
    let dir = TempDir::new("docker-archive").expect("temp dir");
    for blobs in [false, true] {
        let path = dir.path().join(format!("image-{blobs}.tar"));
        let mut image = TestImage::new(Some("shop/app:1"), vec![base_layer(), app_layer()]);
        if blobs {
            image = image.gzipped();
        }
        write_docker_archive(&path, &[image], blobs);
        let reference = format!("docker-archive:{}", path.display());
        let source = source::open(&reference, &SourceOptions::default()).expect("opens");
        let info = source.info().clone();
        assert_eq!(info.tags, ["shop/app:1"]);
        assert_eq!(info.layers.len(), 2);
        let sbom = scan(source.as_ref(), &test_catalogers(), None).expect("scans");
        let names: Vec<&str> = sbom.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libc6", "flask", "server"], "blobs: {blobs}");
        assert_eq!(
            sbom.packages[1].layer.as_deref(),
            Some(info.layers[1].digest.as_str())
        );
        let tagged = source::open(
            &format!("{reference}:shop/app:1"),
            &SourceOptions::default(),
        );
        assert!(tagged.is_ok(), "selecting by tag works");
    }
}

#[test]
fn docker_archive_with_a_tampered_layer_fails_its_digest() {
    let dir = TempDir::new("docker-tamper").expect("temp dir");
    let path = dir.path().join("image.tar");
    let mut image = TestImage::new(None, vec![app_layer()]);
    // The config's diff_id (the classic format's layer digest) no longer matches the layer.
    let other = layer_tar(&[TarEntry::file("app/evil.pkg", b"evil 1\n")]);
    image.layers[0].1 = other;
    write_docker_archive(&path, &[image], false);
    let source = source::open(
        &format!("docker-archive:{}", path.display()),
        &SourceOptions::default(),
    )
    .expect("opens");
    let result = scan(source.as_ref(), &test_catalogers(), None);
    assert!(
        matches!(result, Err(ImageError::Layer { message, .. }) if message.contains("digest mismatch"))
    );
}

#[test]
fn dir_source_walks_without_leaving_the_root() {
    let dir = TempDir::new("rootfs").expect("temp dir");
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(root.join("opt/db")).expect("dirs");
    std::fs::create_dir_all(root.join("var/lib")).expect("dirs");
    std::fs::create_dir_all(&outside).expect("dirs");
    std::fs::write(root.join("opt/db/status"), "libc6 2.36\n").expect("db");
    std::fs::write(root.join("app.pkg"), "flask 3.0\n").expect("pkg");
    std::fs::write(outside.join("host.pkg"), "host 1\n").expect("outside");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/opt/db", root.join("var/lib/test")).expect("link");
        std::os::unix::fs::symlink(&outside, root.join("escape")).expect("link");
    }
    let source = source::open(
        &format!("dir:{}", root.display()),
        &SourceOptions::default(),
    )
    .expect("opens");
    assert!(source.info().layers.is_empty());
    let sbom = scan(source.as_ref(), &test_catalogers(), None).expect("scans");
    let names: Vec<&str> = sbom.packages.iter().map(|p| p.name.as_str()).collect();
    #[cfg(unix)]
    assert_eq!(names, ["libc6", "flask"]);
    assert!(!names.contains(&"host"));
    assert!(sbom.packages.iter().all(|p| p.layer.is_none()));
}

#[test]
fn second_scan_of_shared_layers_comes_from_the_cache() {
    let dir = TempDir::new("cache-scan").expect("temp dir");
    let cache = LayerCache::at(dir.path().join("cache")).expect("cache");
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    write_oci_layout(
        &first,
        &[TestImage::new(None, vec![base_layer(), app_layer()]).gzipped()],
        None,
    );
    let other_app = layer_tar(&[TarEntry::file("app/other.pkg", b"django 5.0\n")]);
    write_oci_layout(
        &second,
        &[TestImage::new(None, vec![base_layer(), other_app]).gzipped()],
        None,
    );
    let open = |path: &std::path::Path| {
        let layout = source::oci_layout::OciLayout::open(
            "test",
            &path.display().to_string(),
            &SourceOptions::default(),
        )
        .expect("opens");
        CountingSource::new(layout)
    };
    let options = ScanOptions {
        threads: Some(2),
        ..ScanOptions::default()
    };
    let cold = open(&first);
    let cold_sbom = scan_with(&cold, &test_catalogers(), Some(&cache), &options).expect("scans");
    assert_eq!(cold.opens(), 2);
    let warm = open(&first);
    let warm_sbom = scan_with(&warm, &test_catalogers(), Some(&cache), &options).expect("scans");
    assert_eq!(warm.opens(), 0, "every layer came from the cache");
    assert_eq!(cold_sbom.packages, warm_sbom.packages);
    let sharing = open(&second);
    let shared_sbom =
        scan_with(&sharing, &test_catalogers(), Some(&cache), &options).expect("scans");
    assert_eq!(sharing.opens(), 1, "only the new layer is read");
    let names: Vec<&str> = shared_sbom
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["libc6", "django"]);
    // The cached base layer is attributed to the base layer of this image.
    assert_eq!(
        shared_sbom.packages[0].layer.as_deref(),
        Some(sharing.info().layers[0].digest.as_str())
    );
}

#[test]
fn registry_references_are_left_to_the_registry_module() {
    let result = source::open("docker.io/library/debian:12", &SourceOptions::default());
    assert!(matches!(result, Err(ImageError::Reference { .. })));
    let bad_platform = source::open(
        "oci:/nonexistent",
        &SourceOptions {
            platform: Some("linux".to_string()),
        },
    );
    assert!(bad_platform.is_err());
}

#[test]
fn bytes_after_the_tar_end_are_hashed_but_tolerated() {
    let mut blob = gzip(&layer_tar(&[TarEntry::file("a.pkg", b"a 1\n")]));
    blob.extend_from_slice(b"trailing bytes some tools append");
    let changes = read(&blob, &LayerLimits::default()).expect("layer reads");
    assert_eq!(changes.tree.read("/a.pkg"), Some(&b"a 1\n"[..]));
    let short = &blob[..blob.len() - 1];
    let wrong = read_layer(
        &mut &short[..],
        "test-image",
        &sha256_digest(&blob),
        0,
        &test_catalogers(),
        &LayerLimits::default(),
    );
    assert!(layer_message(wrong).contains("digest mismatch"));
}
