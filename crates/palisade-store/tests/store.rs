//! The store against a real SQLite file: inventories round-trip, references follow moved tags,
//! schema versions are enforced, and damage is reported, not hidden.

use palisade_core::{Distro, ImageInfo, Package, Sbom};
use palisade_store::{SCHEMA_VERSION, Store, StoreError, image_key};

fn package(name: &str, version: &str) -> Package {
    let json = serde_json::json!({
        "name": name, "version": version, "kind": "deb", "purl": format!("pkg:deb/debian/{name}@{version}"),
        "location": "/var/lib/dpkg/status", "layer": "sha256:aa", "os_owned": false,
    });
    serde_json::from_value(json).expect("a valid package")
}

fn sbom(reference: &str, digest: &str, packages: &[(&str, &str)]) -> Sbom {
    Sbom {
        image: ImageInfo {
            reference: reference.to_string(),
            manifest_digest: Some(digest.to_string()),
            config_digest: Some(format!("{digest}-config")),
            platform: Some("linux/amd64".to_string()),
            ..ImageInfo::default()
        },
        distro: Some(Distro {
            id: "debian".to_string(),
            version_id: "12".to_string(),
            ..Distro::default()
        }),
        packages: packages.iter().map(|(n, v)| package(n, v)).collect(),
        notes: Vec::new(),
    }
}

#[test]
fn inventories_round_trip_and_survive_reopening() {
    let dir = tempdir();
    let path = dir.join("nested/palisade.db");
    let original = sbom(
        "reg.example/app:1",
        "sha256:111",
        &[("bash", "5.2.15-2+b2"), ("zlib1g", "1:1.2.13.dfsg-1")],
    );
    {
        let mut store = Store::open(&path).expect("store opens");
        assert_eq!(store.put_sbom(&original, 100).unwrap(), "sha256:111");
    }
    let store = Store::open(&path).expect("store reopens");
    assert_eq!(store.sbom("sha256:111").unwrap().as_ref(), Some(&original));
    assert_eq!(
        store.sbom("reg.example/app:1").unwrap().as_ref(),
        Some(&original)
    );
    assert_eq!(store.sbom("reg.example/app:2").unwrap(), None);
    let images = store.images().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].references, ["reg.example/app:1"]);
    assert_eq!(images[0].package_count, 2);
    assert_eq!(images[0].distro.as_deref(), Some("debian 12"));
    assert_eq!((images[0].first_seen, images[0].last_scanned), (100, 100));
}

#[test]
fn a_moved_tag_points_at_the_new_image_and_the_old_one_stays() {
    let dir = tempdir();
    let mut store = Store::open(&dir.join("palisade.db")).unwrap();
    store
        .put_sbom(
            &sbom("reg.example/app:latest", "sha256:old", &[("a", "1")]),
            10,
        )
        .unwrap();
    store
        .put_sbom(
            &sbom("reg.example/app:1.0", "sha256:old", &[("a", "1")]),
            11,
        )
        .unwrap();
    store
        .put_sbom(
            &sbom("reg.example/app:latest", "sha256:new", &[("a", "2")]),
            20,
        )
        .unwrap();
    let latest = store.sbom("reg.example/app:latest").unwrap().unwrap();
    assert_eq!(latest.packages[0].version, "2");
    let images = store.images().unwrap();
    let keys: Vec<&str> = images.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        ["sha256:new", "sha256:old"],
        "most recently scanned first"
    );
    assert_eq!(images[1].references, ["reg.example/app:1.0"]);
    assert_eq!(images[1].first_seen, 10);
    assert_eq!(images[1].last_scanned, 11);

    assert!(store.remove("reg.example/app:1.0").unwrap());
    assert!(
        !store.remove("sha256:old").unwrap(),
        "already gone with its references"
    );
    assert_eq!(store.resolve("reg.example/app:1.0").unwrap(), None);
    assert_eq!(store.images().unwrap().len(), 1);
}

#[test]
fn images_without_digests_are_keyed_by_reference() {
    let mut image = ImageInfo {
        reference: "dir:/srv/rootfs".to_string(),
        ..ImageInfo::default()
    };
    assert_eq!(image_key(&image), "dir:/srv/rootfs");
    image.config_digest = Some("sha256:cfg".to_string());
    assert_eq!(image_key(&image), "sha256:cfg");
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_error() {
    let dir = tempdir();
    let path = dir.join("palisade.db");
    drop(Store::open(&path).unwrap());
    let connection = rusqlite_connection(&path);
    connection
        .pragma_update(None, "user_version", (SCHEMA_VERSION + 1) as i64)
        .unwrap();
    drop(connection);
    let error = Store::open(&path).err().expect("refused");
    assert!(matches!(error, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1));
    assert!(error.to_string().contains("upgrade Palisade"), "{error}");
}

#[test]
fn a_damaged_inventory_is_reported_with_its_key() {
    let dir = tempdir();
    let path = dir.join("palisade.db");
    let mut store = Store::open(&path).unwrap();
    store
        .put_sbom(&sbom("reg.example/app:1", "sha256:111", &[("a", "1")]), 1)
        .unwrap();
    let connection = rusqlite_connection(&path);
    connection
        .execute("UPDATE images SET sbom = x'00112233'", [])
        .unwrap();
    let error = store
        .sbom("reg.example/app:1")
        .expect_err("damage detected");
    assert!(error.to_string().contains("sha256:111"), "{error}");
    assert!(
        error.to_string().contains("palisade store remove"),
        "{error}"
    );
}

#[test]
fn a_store_path_that_cannot_be_created_is_named() {
    let dir = tempdir();
    let blocker = dir.join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let error = Store::open(&blocker.join("sub/palisade.db"))
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains(&blocker.display().to_string()),
        "{error}"
    );
}

#[test]
fn two_processes_worth_of_connections_write_without_losing_anything() {
    let dir = tempdir();
    let path = dir.join("palisade.db");
    drop(Store::open(&path).unwrap());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                for i in 0..25 {
                    let digest = format!("sha256:{w}-{i}");
                    store
                        .put_sbom(
                            &sbom(&format!("reg.example/w{w}:{i}"), &digest, &[("a", "1")]),
                            i,
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(Store::open(&path).unwrap().images().unwrap().len(), 100);
}

fn rusqlite_connection(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "palisade-store-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn findings_are_kept_per_image_and_go_with_it() {
    let dir = tempdir();
    let mut store = Store::open(&dir.join("palisade.db")).unwrap();
    let key = store
        .put_sbom(&sbom("reg.example/app:1", "sha256:111", &[("a", "1")]), 1)
        .unwrap();
    assert_eq!(store.findings(&key).unwrap(), None);
    store
        .put_findings(&key, 5, br#"{"vulnerabilities":[1]}"#)
        .unwrap();
    store
        .put_findings(&key, 6, br#"{"vulnerabilities":[2]}"#)
        .unwrap();
    let (when, document) = store.findings("reg.example/app:1").unwrap().unwrap();
    assert_eq!(
        (when, document.as_slice()),
        (6, &br#"{"vulnerabilities":[2]}"#[..])
    );
    assert!(
        store.put_findings("sha256:unknown", 1, b"{}").is_err(),
        "findings need a stored image"
    );
    store.remove(&key).unwrap();
    assert_eq!(store.findings(&key).unwrap(), None);
}

#[test]
fn a_schema_1_store_is_migrated() {
    let dir = tempdir();
    let path = dir.join("palisade.db");
    // A store as the first release wrote it: schema 1, one image.
    {
        let connection = rusqlite_connection(&path);
        connection
            .execute_batch(
                "CREATE TABLE images (key TEXT PRIMARY KEY NOT NULL, manifest_digest TEXT,
                    config_digest TEXT, platform TEXT, distro TEXT, package_count INTEGER NOT NULL,
                    first_seen INTEGER NOT NULL, last_scanned INTEGER NOT NULL, sbom BLOB NOT NULL);
                 CREATE TABLE image_references (reference TEXT PRIMARY KEY NOT NULL,
                    image_key TEXT NOT NULL REFERENCES images(key) ON DELETE CASCADE,
                    last_seen INTEGER NOT NULL);
                 CREATE INDEX image_references_by_image ON image_references(image_key);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
    }
    let mut store = Store::open(&path).expect("migrated");
    let key = store
        .put_sbom(&sbom("reg.example/app:1", "sha256:111", &[("a", "1")]), 1)
        .unwrap();
    store
        .put_findings(&key, 2, b"{}")
        .expect("the new table exists");
    assert_eq!(SCHEMA_VERSION, 2);
}
