//! The OS package catalogers over real package databases: this machine's dpkg database when it
//! has one (checked against `dpkg-query`), and the committed fixtures under `tests/data/`
//! (dpkg excerpt, apk database, rpmdbs in all three backends checked against `rpm -qa`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use palisade_core::{CatalogNote, Package, PackageKind};
use palisade_image::catalog::{self, Cataloger, Context, Interest};
use palisade_image::{Content, Entry, EntryKind, FileTree};

fn data(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// Loads the root file system under `root` into a tree, keeping only what `catalogers` ask for,
/// as the layer reader does. Fixture bookkeeping files at the top level are not part of it.
fn load(root: &Path, catalogers: &[Box<dyn Cataloger>]) -> FileTree {
    let mut tree = FileTree::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let image_path = format!("/{}", path.strip_prefix(root).unwrap().display());
            if dir == root
                && matches!(
                    image_path.as_str(),
                    "/README.md" | "/expected.txt" | "/make.sh"
                )
            {
                continue;
            }
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                tree.insert(
                    &image_path,
                    entry_of(EntryKind::Symlink(target.display().to_string()), 0),
                );
            } else {
                let size = entry.metadata().unwrap().len();
                let content = match catalog::interest(catalogers, &image_path, size, 0o644) {
                    Interest::Keep => Content::Bytes(Arc::from(std::fs::read(&path).unwrap())),
                    _ => Content::NotKept,
                };
                tree.insert(&image_path, entry_of(EntryKind::File(content), size));
            }
        }
    }
    tree
}

fn entry_of(kind: EntryKind, size: u64) -> Entry {
    Entry {
        kind,
        mode: 0o644,
        size,
        layer: 0,
    }
}

fn file(bytes: &[u8]) -> Entry {
    entry_of(
        EntryKind::File(Content::Bytes(Arc::from(bytes))),
        bytes.len() as u64,
    )
}

/// A stand-in language cataloger that finds one package at a fixed path, to see `os_owned`.
struct OnePythonPackage(&'static str);

impl Cataloger for OnePythonPackage {
    fn name(&self) -> &'static str {
        "test-python"
    }
    fn interest(&self, _: &str, _: u64, _: u32) -> Interest {
        Interest::None
    }
    fn catalog(
        &self,
        files: &FileTree,
        _: &Context<'_>,
        packages: &mut Vec<Package>,
        _: &mut Vec<CatalogNote>,
    ) {
        if files.exists(self.0) {
            packages.push(Package {
                name: "PyYAML".into(),
                version: "6.0".into(),
                kind: PackageKind::Python,
                purl: "pkg:pypi/pyyaml@6.0".into(),
                source: None,
                arch: None,
                licenses: Vec::new(),
                location: self.0.into(),
                layer: None,
                os_owned: false,
                files: Vec::new(),
                metadata: Default::default(),
            });
        }
    }
}

/// The OS catalogers under test (other catalogers of `catalog::all()` are tested elsewhere and
/// would add their own packages and notes).
fn os_catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(catalog::os_release::OsRelease),
        Box::new(catalog::dpkg::Dpkg),
        Box::new(catalog::apk::Apk),
        Box::new(catalog::rpm::Rpm),
    ]
}

#[test]
fn registered_in_the_catalog() {
    let names: Vec<&str> = catalog::all().iter().map(|c| c.name()).collect();
    for name in ["os-release", "dpkg", "apk", "rpm"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(os_catalogers().iter().all(|c| c.is_os()));
}

fn identities(packages: &[Package], kind: PackageKind) -> BTreeSet<String> {
    packages
        .iter()
        .filter(|p| p.kind == kind)
        .map(|p| {
            format!(
                "{} {} {}",
                p.name,
                p.version,
                p.arch.as_deref().unwrap_or("")
            )
        })
        .collect()
}

fn expected(path: &str) -> BTreeSet<String> {
    std::fs::read_to_string(data(path))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn dpkg_fixture_matches_dpkg_query_and_marks_os_owned_python() {
    let metadata = "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA";
    let mut catalogers = os_catalogers();
    let mut files = load(&data("dpkg"), &catalogers);
    files.insert(
        "/etc/os-release",
        file(b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"),
    );
    files.insert(metadata, file(b"Metadata-Version: 2.1\nName: PyYAML\n"));
    catalogers.push(Box::new(OnePythonPackage(metadata)));
    let (distro, packages, notes) = catalog::catalog(&catalogers, &files);
    assert!(notes.iter().all(|n| n.cataloger != "dpkg"), "{notes:?}");
    assert_eq!(distro.unwrap().end_of_life.as_deref(), Some("2028-06-10"));
    assert_eq!(
        identities(&packages, PackageKind::Deb),
        expected("dpkg/expected.txt")
    );

    let find = |name: &str| packages.iter().find(|p| p.name == name).unwrap();
    let libc = find("libc6");
    assert_eq!(libc.source.as_ref().unwrap().name, "glibc");
    assert!(
        libc.purl
            .starts_with("pkg:deb/debian/libc6@2.36-9%2Bdeb12u"),
        "{}",
        libc.purl
    );
    assert!(libc.purl.ends_with("?arch=amd64&distro=debian-12"));
    assert!(
        libc.files
            .contains(&"/lib/x86_64-linux-gnu/libc.so.6".to_string())
    );
    let zlib = find("zlib1g");
    assert_eq!(zlib.version, "1:1.2.13.dfsg-1", "epoch kept");
    assert!(zlib.purl.contains("@1%3A1.2.13.dfsg-1?"));
    assert_eq!(zlib.licenses, ["Zlib"]);
    assert_eq!(find("tzdata").licenses, ["public-domain"]);
    let bash = find("bash");
    assert_eq!(
        bash.source.as_ref().unwrap().version.as_deref(),
        Some("5.2.15-2")
    );
    assert!(
        find("PyYAML").os_owned,
        "python3-yaml owns the METADATA file"
    );
}

/// This machine's own dpkg database, when it has one: the same package set as `dpkg-query`.
#[test]
fn this_machines_dpkg_database() {
    let Ok(output) = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${db:Status-Abbrev}|${Package} ${Version} ${Architecture}\n",
        ])
        .output()
    else {
        eprintln!("no dpkg-query here: the fixture test covers dpkg");
        return;
    };
    if !output.status.success() || !Path::new("/var/lib/dpkg/status").exists() {
        eprintln!("dpkg-query failed: the fixture test covers dpkg");
        return;
    }
    // Second letter of the abbreviated status is the state: `n` not installed and `c` config
    // files only are the packages whose files are gone.
    let want: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once('|'))
        .filter(|(status, _)| !matches!(status.as_bytes().get(1), Some(b'n' | b'c')))
        .map(|(_, identity)| identity.to_string())
        .collect();

    let dpkg = catalog::dpkg::Dpkg;
    let mut files = FileTree::new();
    let bytes = std::fs::read("/var/lib/dpkg/status").unwrap();
    files.insert("/var/lib/dpkg/status", file(&bytes));
    for entry in std::fs::read_dir("/var/lib/dpkg/info").unwrap() {
        let path = entry.unwrap().path();
        let image_path = path.display().to_string();
        if matches!(dpkg.interest(&image_path, 0, 0o644), Interest::Keep) {
            files.insert(&image_path, file(&std::fs::read(&path).unwrap()));
        }
    }
    let mut packages = Vec::new();
    let mut notes = Vec::new();
    dpkg.catalog(
        &files,
        &Context {
            distro: None,
            os_files: None,
        },
        &mut packages,
        &mut notes,
    );
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(packages.len(), want.len());
    assert_eq!(identities(&packages, PackageKind::Deb), want);
    let with_files = packages.iter().filter(|p| !p.files.is_empty()).count();
    assert!(
        with_files * 10 >= packages.len() * 9,
        "only {with_files} of {} packages have a file list",
        packages.len()
    );
}

#[test]
fn apk_fixture() {
    let metadata = "/usr/lib/python3.12/site-packages/PyYAML-6.0.1.dist-info/METADATA";
    let mut catalogers = os_catalogers();
    let mut files = load(&data("apk"), &catalogers);
    files.insert(metadata, file(b"Name: PyYAML\n"));
    catalogers.push(Box::new(OnePythonPackage(metadata)));
    let (distro, packages, notes) = catalog::catalog(&catalogers, &files);
    assert!(notes.is_empty(), "{notes:?}");
    let distro = distro.unwrap();
    assert_eq!(
        (distro.id.as_str(), distro.version_id.as_str()),
        ("alpine", "3.20.3")
    );
    let names: Vec<&str> = packages
        .iter()
        .filter(|p| p.kind == PackageKind::Apk)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["busybox", "libcrypto3", "musl", "py3-yaml"]);
    let musl = packages.iter().find(|p| p.name == "musl").unwrap();
    assert_eq!(
        musl.purl,
        "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.3"
    );
    assert_eq!(musl.licenses, ["MIT"]);
    assert_eq!(musl.location, "/lib/apk/db/installed");
    let libcrypto = packages.iter().find(|p| p.name == "libcrypto3").unwrap();
    assert_eq!(libcrypto.source.as_ref().unwrap().name, "openssl");
    let busybox = packages.iter().find(|p| p.name == "busybox").unwrap();
    assert_eq!(
        busybox.files,
        [
            "/bin",
            "/bin/busybox",
            "/etc",
            "/etc/securetty",
            "/etc/udhcpd.conf"
        ]
    );
    assert!(
        packages
            .iter()
            .find(|p| p.name == "PyYAML")
            .unwrap()
            .os_owned
    );
}

/// Every rpmdb backend, at the classic path and behind Fedora's `/usr/lib/sysimage` symlink,
/// gives exactly what `rpm -qa` listed when the fixtures were made.
#[test]
fn rpm_fixtures_in_every_backend() {
    let want = expected("rpm/expected.txt");
    for file_name in ["rpmdb.sqlite", "Packages", "Packages.db"] {
        let bytes = std::fs::read(data(&format!("rpm/{file_name}"))).unwrap();
        for symlinked in [false, true] {
            let mut files = FileTree::new();
            if symlinked {
                files.insert(&format!("/usr/lib/sysimage/rpm/{file_name}"), file(&bytes));
                files.insert(
                    "/var/lib/rpm",
                    entry_of(EntryKind::Symlink("../../usr/lib/sysimage/rpm".into()), 0),
                );
            } else {
                files.insert(&format!("/var/lib/rpm/{file_name}"), file(&bytes));
            }
            files.insert(
                "/etc/os-release",
                file(b"ID=\"rhel\"\nVERSION_ID=\"9.4\"\nID_LIKE=\"fedora\"\n"),
            );
            let (_, packages, notes) = catalog::catalog(&os_catalogers(), &files);
            assert!(notes.is_empty(), "{file_name}: {notes:?}");
            // rpm -qa prints EPOCHNUM, 0 for "no epoch"; Palisade keeps the version as recorded.
            let got: BTreeSet<String> = packages
                .iter()
                .map(|p| {
                    let version = if p.version.contains(':') {
                        p.version.clone()
                    } else {
                        format!("0:{}", p.version)
                    };
                    format!("{} {} {}", p.name, version, p.arch.as_deref().unwrap_or(""))
                })
                .collect();
            assert_eq!(got, want, "{file_name} (symlinked: {symlinked})");
            assert_eq!(
                packages.len(),
                want.len(),
                "{file_name}: one database read once"
            );

            let openssl = packages.iter().find(|p| p.name == "openssl-libs").unwrap();
            assert_eq!(
                openssl.purl,
                "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1"
            );
            assert_eq!(openssl.version, "1:3.0.7-27.el9");
            assert_eq!(openssl.licenses, ["ASL 2.0"]);
            assert_eq!(openssl.source.as_ref().unwrap().name, "openssl-libs");
            assert_eq!(openssl.files, ["/usr/lib64/libssl.so.3"]);
            let data_pkg = packages.iter().find(|p| p.name == "palisade-data").unwrap();
            assert_eq!(data_pkg.version, "0.9-1", "no epoch: none printed");
            assert!(!data_pkg.purl.contains("epoch"));
            let demo = packages.iter().find(|p| p.name == "palisade-demo").unwrap();
            assert_eq!(demo.licenses, ["MIT AND Apache-2.0"]);
            assert!(demo.files.contains(
                &"/usr/lib/python3.9/site-packages/demo-1.0.dist-info/METADATA".to_string()
            ));
            let real_dir = if symlinked {
                "/usr/lib/sysimage/rpm"
            } else {
                "/var/lib/rpm"
            };
            assert_eq!(demo.location, format!("{real_dir}/{file_name}"));
        }
    }
}

/// Corrupting any byte of a fixture database never panics: the catalog either still reads it or
/// says what it could not read.
#[test]
fn rpm_fixtures_survive_corruption() {
    for file_name in ["Packages", "Packages.db"] {
        let original = std::fs::read(data(&format!("rpm/{file_name}"))).unwrap();
        for at in (0..original.len()).step_by(97) {
            let mut bytes = original.clone();
            bytes[at] ^= 0xff;
            let mut files = FileTree::new();
            files.insert(&format!("/var/lib/rpm/{file_name}"), file(&bytes));
            let (_, packages, notes) = catalog::catalog(&os_catalogers(), &files);
            assert!(
                packages.len() <= 3 + notes.len() * 3,
                "{file_name} byte {at}"
            );
        }
    }
}
