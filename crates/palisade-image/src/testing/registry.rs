//! A real registry for tests: Debian's `docker-registry` (CNCF distribution) started on a loopback
//! port with a configuration of the test's choosing, and images pushed to it with plain Registry
//! HTTP API v2 calls (POST/PUT blob uploads, PUT manifests).
//!
//! Helpers panic when the registry misbehaves during a push: there is nothing better a test can do.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::layer::sha256_digest;

use super::gzip;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `docker-registry` or why it is not usable.
pub fn registry_binary() -> Result<PathBuf, String> {
    for candidate in ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry"] {
        if Path::new(candidate).is_file() {
            return Ok(PathBuf::from(candidate));
        }
    }
    Err("docker-registry is not installed (apt-get install docker-registry)".to_owned())
}

/// Fails under CI, reports and skips otherwise.
pub fn unavailable(reason: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("real-registry test cannot run: {reason}");
    }
    eprintln!("skipping real-registry test: {reason}");
}

/// A running `docker-registry serve`, killed on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Where the registry's output goes, for failure messages.
    pub log: PathBuf,
}

impl Registry {
    /// Starts `binary serve` with filesystem storage under `storage` and the YAML `auth` section
    /// (empty: anonymous); waits until it answers `/v2/`.
    pub fn start(
        binary: &Path,
        dir: &Path,
        name: &str,
        storage: &Path,
        auth: &str,
    ) -> Result<Registry, String> {
        let port = free_port();
        let config = dir.join(format!("{name}.yml"));
        let yaml = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
            storage.display()
        );
        std::fs::write(&config, yaml).map_err(|e| e.to_string())?;
        let log = dir.join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut registry = Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = registry.child.try_wait() {
                return Err(format!(
                    "docker-registry ({name}) exited with {status}: {}",
                    std::fs::read_to_string(&registry.log).unwrap_or_default()
                ));
            }
            match ureq::get(&format!("http://{}/v2/", registry.host)).call() {
                Ok(_) | Err(ureq::Error::Status(..)) => return Ok(registry),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(error) => {
                    let _ = registry.child.kill();
                    return Err(format!("docker-registry ({name}) did not answer: {error}"));
                }
            }
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pushes a blob (POST an upload, PUT it with its digest) and returns its digest.
pub fn push_blob(host: &str, repository: &str, bytes: &[u8]) -> String {
    let digest = sha256_digest(bytes);
    let started = ureq::post(&format!("http://{host}/v2/{repository}/blobs/uploads/"))
        .call()
        .unwrap();
    assert_eq!(started.status(), 202);
    let location = started.header("location").unwrap().to_owned();
    let mut url = url::Url::parse(&format!("http://{host}/"))
        .unwrap()
        .join(&location)
        .unwrap();
    url.query_pairs_mut().append_pair("digest", &digest);
    let done = ureq::request_url("PUT", &url)
        .set("Content-Type", "application/octet-stream")
        .send_bytes(bytes)
        .unwrap();
    assert_eq!(done.status(), 201);
    digest
}

pub fn push_manifest(host: &str, repository: &str, reference: &str, media_type: &str, body: &[u8]) {
    let response = ureq::put(&format!(
        "http://{host}/v2/{repository}/manifests/{reference}"
    ))
    .set("Content-Type", media_type)
    .send_bytes(body)
    .unwrap();
    assert_eq!(response.status(), 201);
}

/// Pushes an OCI image of `tars` (gzip-compressed on the way) for linux/amd64 to
/// `repository:tag`; returns the manifest digest.
pub fn push_oci_image(host: &str, repository: &str, tag: &str, tars: &[Vec<u8>]) -> String {
    let layers: Vec<Vec<u8>> = tars.iter().map(|tar| gzip(tar)).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": tars.iter().map(|t| sha256_digest(t)).collect::<Vec<_>>()},
        "config": {}
    }))
    .expect("JSON");
    let config_digest = push_blob(host, repository, &config);
    let layer_descriptors: Vec<_> = layers
        .iter()
        .map(|blob| {
            json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": push_blob(host, repository, blob),
                "size": blob.len()
            })
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layer_descriptors
    }))
    .expect("JSON");
    let manifest_digest = sha256_digest(&manifest);
    push_manifest(host, repository, tag, OCI_MANIFEST, &manifest);
    manifest_digest
}
