//! Test support: layers built in code (including the hostile ones a normal tar writer refuses to
//! produce: `../` and absolute names, whiteouts, hard links), compressed with gzip or zstd,
//! written as OCI layouts and `docker save` archives in temporary directories, plus a tiny
//! cataloger and a source wrapper that counts layer opens.
//!
//! Helpers here panic on I/O failure of the test's own temporary files (there is nothing better
//! a test can do); nothing here runs on user input.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use palisade_core::{CatalogNote, ImageInfo, Package, PackageKind};
use serde_json::json;

use crate::catalog::{Cataloger, Context, Interest};
use crate::error::ImageError;
use crate::files::FileTree;
use crate::layer::sha256_digest;
use crate::source::ImageSource;

pub mod registry;

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

static TEMP_SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl TempDir {
    pub fn new(label: &str) -> io::Result<TempDir> {
        let path = std::env::temp_dir().join(format!(
            "palisade-{label}-{}-{}",
            std::process::id(),
            TEMP_SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// One entry of a test layer. Names are written into the tar header verbatim.
#[derive(Debug, Clone)]
pub enum TarEntry {
    File {
        path: String,
        bytes: Vec<u8>,
        mode: u32,
    },
    Dir {
        path: String,
    },
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
    /// `.wh.<name>` next to `path`: deletes `path` from lower layers.
    Whiteout {
        path: String,
    },
    /// `<dir>/.wh..wh..opq`: hides everything lower layers put under `dir`.
    Opaque {
        dir: String,
    },
}

impl TarEntry {
    pub fn file(path: &str, bytes: &[u8]) -> TarEntry {
        TarEntry::File {
            path: path.to_string(),
            bytes: bytes.to_vec(),
            mode: 0o644,
        }
    }

    pub fn dir(path: &str) -> TarEntry {
        TarEntry::Dir {
            path: path.to_string(),
        }
    }

    pub fn symlink(path: &str, target: &str) -> TarEntry {
        TarEntry::Symlink {
            path: path.to_string(),
            target: target.to_string(),
        }
    }

    pub fn hardlink(path: &str, target: &str) -> TarEntry {
        TarEntry::Hardlink {
            path: path.to_string(),
            target: target.to_string(),
        }
    }

    pub fn whiteout(path: &str) -> TarEntry {
        TarEntry::Whiteout {
            path: path.to_string(),
        }
    }

    pub fn opaque(dir: &str) -> TarEntry {
        TarEntry::Opaque {
            dir: dir.to_string(),
        }
    }
}

/// A tar stream of `entries` (GNU long names for paths over 100 bytes).
pub fn layer_tar(entries: &[TarEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        match entry {
            TarEntry::File { path, bytes, mode } => {
                append(&mut out, path, tar::EntryType::Regular, *mode, None, bytes)
            }
            TarEntry::Dir { path } => {
                append(&mut out, path, tar::EntryType::Directory, 0o755, None, &[])
            }
            TarEntry::Symlink { path, target } => append(
                &mut out,
                path,
                tar::EntryType::Symlink,
                0o777,
                Some(target),
                &[],
            ),
            TarEntry::Hardlink { path, target } => append(
                &mut out,
                path,
                tar::EntryType::Link,
                0o644,
                Some(target),
                &[],
            ),
            TarEntry::Whiteout { path } => {
                let (parent, name) = match path.trim_end_matches('/').rsplit_once('/') {
                    Some((parent, name)) => (format!("{parent}/"), name),
                    None => (String::new(), path.as_str()),
                };
                let whiteout = format!("{parent}.wh.{name}");
                append(
                    &mut out,
                    &whiteout,
                    tar::EntryType::Regular,
                    0o644,
                    None,
                    &[],
                );
            }
            TarEntry::Opaque { dir } => {
                let marker = format!("{}/.wh..wh..opq", dir.trim_end_matches('/'));
                append(&mut out, &marker, tar::EntryType::Regular, 0o644, None, &[]);
            }
        }
    }
    // End of archive: two zero blocks.
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn append(
    out: &mut Vec<u8>,
    path: &str,
    kind: tar::EntryType,
    mode: u32,
    link: Option<&str>,
    data: &[u8],
) {
    if path.len() > 100 {
        let mut long_name = path.as_bytes().to_vec();
        long_name.push(0);
        append(
            out,
            "././@LongLink",
            tar::EntryType::GNULongName,
            0o644,
            None,
            &long_name,
        );
    }
    let mut header = tar::Header::new_gnu();
    let name = path.as_bytes();
    let field = &mut header.as_old_mut().name;
    let len = name.len().min(field.len());
    field[..len].copy_from_slice(&name[..len]);
    if let Some(link) = link {
        let field = &mut header.as_old_mut().linkname;
        let bytes = link.as_bytes();
        let len = bytes.len().min(field.len());
        field[..len].copy_from_slice(&bytes[..len]);
    }
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(data.len() as u64);
    header.set_mtime(0);
    header.set_cksum();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    let padding = (512 - data.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, padding));
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

pub fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).expect("zstd into memory")
}

/// An image to write into a test layout or archive: its layer blobs as stored (compressed or
/// not) and the uncompressed tars they come from (for diff_ids).
#[derive(Debug, Clone)]
pub struct TestImage {
    pub tag: Option<String>,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// (stored blob, uncompressed tar) per layer, base first.
    pub layers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl TestImage {
    /// A linux/amd64 image of uncompressed `tars`.
    pub fn new(tag: Option<&str>, tars: Vec<Vec<u8>>) -> TestImage {
        TestImage {
            tag: tag.map(str::to_string),
            os: "linux".to_string(),
            architecture: "amd64".to_string(),
            variant: None,
            layers: tars.into_iter().map(|t| (t.clone(), t)).collect(),
        }
    }

    /// The same image with gzip-compressed layers.
    pub fn gzipped(mut self) -> TestImage {
        for (blob, tar) in &mut self.layers {
            *blob = gzip(tar);
        }
        self
    }

    pub fn for_platform(
        mut self,
        os: &str,
        architecture: &str,
        variant: Option<&str>,
    ) -> TestImage {
        self.os = os.to_string();
        self.architecture = architecture.to_string();
        self.variant = variant.map(str::to_string);
        self
    }

    fn config(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self
            .layers
            .iter()
            .map(|(_, tar)| sha256_digest(tar))
            .collect();
        let mut config = json!({
            "architecture": self.architecture,
            "os": self.os,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "config": {},
        });
        if let Some(variant) = &self.variant {
            config["variant"] = json!(variant);
        }
        serde_json::to_vec(&config).expect("json")
    }

    fn layer_media_type(blob: &[u8]) -> &'static str {
        match crate::layer::Compression::detect(blob.get(..4).unwrap_or(blob)) {
            crate::layer::Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            crate::layer::Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
            crate::layer::Compression::None => "application/vnd.oci.image.layer.v1.tar",
        }
    }
}

fn write_blob(root: &Path, bytes: &[u8]) -> serde_json::Value {
    let digest = sha256_digest(bytes);
    let dir = root.join("blobs/sha256");
    std::fs::create_dir_all(&dir).expect("blobs dir");
    std::fs::write(dir.join(digest.trim_start_matches("sha256:")), bytes).expect("blob");
    json!({"digest": digest, "size": bytes.len()})
}

fn write_manifest(root: &Path, image: &TestImage) -> serde_json::Value {
    let config = write_blob(root, &image.config());
    let layers: Vec<serde_json::Value> = image
        .layers
        .iter()
        .map(|(blob, _)| {
            let mut descriptor = write_blob(root, blob);
            descriptor["mediaType"] = json!(TestImage::layer_media_type(blob));
            descriptor
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": crate::source::oci_layout::OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config["digest"],
            "size": config["size"],
        },
        "layers": layers,
    });
    let mut descriptor = write_blob(root, &serde_json::to_vec(&manifest).expect("json"));
    descriptor["mediaType"] = json!(crate::source::oci_layout::OCI_MANIFEST);
    let mut platform = json!({"os": image.os, "architecture": image.architecture});
    if let Some(variant) = &image.variant {
        platform["variant"] = json!(variant);
    }
    descriptor["platform"] = platform;
    if let Some(tag) = &image.tag {
        descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    }
    descriptor
}

/// Writes an OCI image layout of `images` into `root`. With `nested_tag`, `index.json` holds one
/// descriptor of an image index (tagged `nested_tag`) listing the images per platform, as
/// `skopeo copy --all` writes multi-platform images; without, every image is a top-level
/// descriptor.
pub fn write_oci_layout(root: &Path, images: &[TestImage], nested_tag: Option<&str>) {
    std::fs::create_dir_all(root).expect("layout dir");
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    let manifests: Vec<serde_json::Value> = images
        .iter()
        .map(|image| write_manifest(root, image))
        .collect();
    let top = match nested_tag {
        Some(tag) => {
            let index = json!({
                "schemaVersion": 2,
                "mediaType": crate::source::oci_layout::OCI_INDEX,
                "manifests": manifests,
            });
            let mut descriptor = write_blob(root, &serde_json::to_vec(&index).expect("json"));
            descriptor["mediaType"] = json!(crate::source::oci_layout::OCI_INDEX);
            descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
            vec![descriptor]
        }
        None => manifests,
    };
    let index = json!({"schemaVersion": 2, "manifests": top});
    std::fs::write(
        root.join("index.json"),
        serde_json::to_vec(&index).expect("json"),
    )
    .expect("index.json");
}

/// Writes a `docker save` archive of `images` at `path`: classic layout (`<id>/layer.tar`,
/// `<id>.json` configs) unless `blobs` asks for Docker 25's `blobs/sha256/<hex>` members.
pub fn write_docker_archive(path: &Path, images: &[TestImage], blobs: bool) {
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut manifest = Vec::new();
    for image in images {
        let config = image.config();
        let config_hex = sha256_digest(&config)
            .trim_start_matches("sha256:")
            .to_string();
        let config_name = if blobs {
            format!("blobs/sha256/{config_hex}")
        } else {
            format!("{config_hex}.json")
        };
        members.push((config_name.clone(), config));
        let mut layer_names = Vec::new();
        for (blob, _) in &image.layers {
            let hex = sha256_digest(blob)
                .trim_start_matches("sha256:")
                .to_string();
            let name = if blobs {
                format!("blobs/sha256/{hex}")
            } else {
                format!("{hex}/layer.tar")
            };
            members.push((name.clone(), blob.clone()));
            layer_names.push(name);
        }
        manifest.push(json!({
            "Config": config_name,
            "RepoTags": image.tag.iter().collect::<Vec<_>>(),
            "Layers": layer_names,
        }));
    }
    members.push((
        "manifest.json".to_string(),
        serde_json::to_vec(&manifest).expect("json"),
    ));
    let entries: Vec<TarEntry> = members
        .into_iter()
        .map(|(path, bytes)| TarEntry::File {
            path,
            bytes,
            mode: 0o644,
        })
        .collect();
    std::fs::write(path, layer_tar(&entries)).expect("docker archive");
}

/// Wraps a source and counts how often layers are opened (to prove the cache was used).
pub struct CountingSource<S> {
    pub inner: S,
    opens: AtomicUsize,
}

impl<S> CountingSource<S> {
    pub fn new(inner: S) -> CountingSource<S> {
        CountingSource {
            inner,
            opens: AtomicUsize::new(0),
        }
    }

    pub fn opens(&self) -> usize {
        self.opens.load(Ordering::Relaxed)
    }
}

impl<S: ImageSource> ImageSource for CountingSource<S> {
    fn info(&self) -> &ImageInfo {
        self.inner.info()
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        self.opens.fetch_add(1, Ordering::Relaxed);
        self.inner.open_layer(index)
    }
}

/// A cataloger for tests: reads its database [`TEST_DB`] (following symlinks, like a dpkg
/// status file: Deb packages), keeps `*.pkg` files (lines `name version`, one package each, kind
/// Python) and extracts the first line of `*.bin` files (one Go package `name version`).
pub struct TestCataloger;

/// The test cataloger's package database; any file named `status` is kept for it, wherever it
/// really lies (the path may lead there through symlinks).
pub const TEST_DB: &str = "/var/lib/test/status";

fn first_line(reader: &mut dyn Read, _size: u64) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    reader.take(256).read_to_end(&mut head)?;
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    Ok((!line.is_empty()).then(|| line.to_vec()))
}

impl Cataloger for TestCataloger {
    fn name(&self) -> &'static str {
        "test"
    }

    fn interest(&self, path: &str, _size: u64, _mode: u32) -> Interest {
        if path.ends_with(".pkg") || path.ends_with("/status") {
            Interest::Keep
        } else if path.ends_with(".bin") {
            Interest::Extract(first_line)
        } else {
            Interest::None
        }
    }

    fn catalog(
        &self,
        files: &FileTree,
        _context: &Context<'_>,
        packages: &mut Vec<Package>,
        notes: &mut Vec<CatalogNote>,
    ) {
        let database = files.resolve(TEST_DB).map(|(real, _)| real);
        let mut sources: Vec<(&str, &[u8], PackageKind)> = Vec::new();
        if let Some(bytes) = files.read(TEST_DB) {
            sources.push((TEST_DB, bytes, PackageKind::Deb));
        }
        for (path, _) in files.kept() {
            if database.as_deref() == Some(path) {
                continue;
            }
            if let Some(bytes) = files.read(path) {
                if path.ends_with(".pkg") {
                    sources.push((path, bytes, PackageKind::Python));
                }
            } else if let Some(bytes) = files.extract(path) {
                sources.push((path, bytes, PackageKind::Go));
            }
        }
        for (path, text, kind) in sources {
            for line in String::from_utf8_lossy(text).lines() {
                match line.split_once(' ') {
                    Some((name, version)) => packages.push(Package {
                        name: name.to_string(),
                        version: version.to_string(),
                        kind,
                        purl: format!("pkg:{}/{name}@{version}", kind.purl_type()),
                        source: None,
                        arch: None,
                        licenses: Vec::new(),
                        location: path.to_string(),
                        layer: None,
                        os_owned: false,
                        files: Vec::new(),
                        metadata: Default::default(),
                    }),
                    None => notes.push(CatalogNote::new(
                        "test",
                        path,
                        format!("not `name version`: {line}"),
                    )),
                }
            }
        }
    }
}

/// The test cataloger, with OS detection, as the boxed list `scan` takes.
pub fn test_catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(crate::catalog::os_release::OsRelease),
        Box::new(TestCataloger),
    ]
}
