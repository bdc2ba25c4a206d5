//! The registry client against a real registry: Debian's `docker-registry` (CNCF distribution
//! 2.8), started here on loopback ports — anonymous, htpasswd Basic auth, and token auth pointed at
//! a Bearer token server this test runs (ES256 JWTs signed with a key whose certificate the
//! registry trusts). Images are pushed with plain HTTP calls of our own. A tiny scripted HTTP
//! server covers what a healthy registry never does: 429/503 with `Retry-After`, a blob broken
//! mid-stream, redirects to other hosts.
//!
//! Without `docker-registry` (`apt-get install docker-registry`), the real-registry test fails
//! under `CI=true` and is reported and skipped otherwise.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use palisade_image::ImageError;
use palisade_image::ImageSource;
use palisade_image::registry::{self, RegistryOptions};
use palisade_image::testing::registry::{
    OCI_INDEX, OCI_MANIFEST, Registry, push_blob, push_manifest, registry_binary, unavailable,
};
use palisade_image::testing::{TarEntry, TempDir, gzip, layer_tar};
use serde_json::json;
use sha2::{Digest, Sha256};

const SERVICE: &str = "palisade-test-registry";
const ISSUER: &str = "palisade-test-issuer";

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

struct Pushed {
    /// Layer blobs as stored, base first.
    layers: Vec<Vec<u8>>,
    manifest_digest: String,
    config_digest: String,
}

/// An OCI image of two gzip tar layers for `architecture`.
fn push_image(
    host: &str,
    repository: &str,
    architecture: &str,
    variant: Option<&str>,
) -> (Pushed, Vec<u8>) {
    let tars = [
        layer_tar(&[
            TarEntry::dir("etc"),
            TarEntry::file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        ]),
        layer_tar(&[TarEntry::file(
            &format!("app/{architecture}.txt"),
            architecture.repeat(1000).as_bytes(),
        )]),
    ];
    let layers: Vec<Vec<u8>> = tars.iter().map(|tar| gzip(tar)).collect();
    let mut config = json!({
        "architecture": architecture,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": tars.iter().map(|t| sha256(t)).collect::<Vec<_>>()},
        "config": {}
    });
    if let Some(variant) = variant {
        config["variant"] = json!(variant);
    }
    let config = serde_json::to_vec(&config).unwrap();
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
    .unwrap();
    let manifest_digest = sha256(&manifest);
    push_manifest(host, repository, &manifest_digest, OCI_MANIFEST, &manifest);
    (
        Pushed {
            layers,
            manifest_digest,
            config_digest,
        },
        manifest,
    )
}

/// The Bearer token server: checks Basic `alice:secret`, answers a JWT for the asked scopes
/// signed ES256 with `x5c` naming its certificate, which the registry trusts.
struct TokenServer {
    realm: String,
    requests: Arc<Mutex<usize>>,
}

fn start_token_server(dir: &Path) -> (TokenServer, PathBuf) {
    let key = rcgen::KeyPair::generate().unwrap();
    let certificate = rcgen::CertificateParams::new(vec!["palisade-token-issuer".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let bundle = dir.join("token-root.pem");
    std::fs::write(&bundle, certificate.pem()).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &key.serialize_der(),
        &rng,
    )
    .unwrap();
    let x5c = STANDARD.encode(certificate.der());
    let requests = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&requests);
    let server = MiniServer::start("127.0.0.1:0", move |request: &Request| {
        *counter.lock().unwrap() += 1;
        if request.header("authorization")
            != Some(&format!("Basic {}", STANDARD.encode("alice:secret")))
        {
            return Response::json(
                401,
                json!({"errors": [{"code": "UNAUTHORIZED", "message": "bad user or password"}]}),
            );
        }
        let mut access = Vec::new();
        for scope in request.query_all("scope") {
            let Some((kind, rest)) = scope.split_once(':') else {
                continue;
            };
            let Some((name, actions)) = rest.rsplit_once(':') else {
                continue;
            };
            access.push(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = json!({"typ": "JWT", "alg": "ES256", "x5c": [x5c]});
        let claims = json!({
            "iss": ISSUER, "sub": "alice", "aud": SERVICE,
            "exp": now + 300, "nbf": now - 10, "iat": now - 10,
            "jti": format!("{now}-{}", access.len()), "access": access
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = signer
            .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
            .unwrap();
        let token = format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        );
        Response::json(200, json!({"token": token, "expires_in": 300}))
    });
    let realm = format!("http://{}/token", server.address);
    (TokenServer { realm, requests }, bundle)
}

#[test]
fn real_registry_pull_auth_catalog() {
    let binary = match registry_binary() {
        Ok(binary) => binary,
        Err(reason) => return unavailable(&reason),
    };
    let dir = TempDir::new("registry-test").unwrap();
    let storage = dir.path().join("storage");
    std::fs::create_dir_all(&storage).unwrap();

    let anonymous = match Registry::start(&binary, dir.path(), "anonymous", &storage, "") {
        Ok(registry) => registry,
        Err(reason) => return unavailable(&reason),
    };
    let host = anonymous.host.clone();

    // shop/app: an index of amd64 and arm64/v8 images under `1.0`, the amd64 image alone under
    // `amd64-only`.
    let (amd64, amd64_manifest) = push_image(&host, "shop/app", "amd64", None);
    let (arm64, _) = push_image(&host, "shop/app", "arm64", Some("v8"));
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": amd64.manifest_digest, "size": amd64_manifest.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": OCI_MANIFEST, "digest": arm64.manifest_digest, "size": 1,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
        ]
    }))
    .unwrap();
    let index_digest = sha256(&index);
    push_manifest(&host, "shop/app", "1.0", OCI_INDEX, &index);
    push_manifest(
        &host,
        "shop/app",
        "amd64-only",
        OCI_MANIFEST,
        &amd64_manifest,
    );
    for i in 0..5 {
        push_image(&host, &format!("catalog/r{i}"), "amd64", None);
    }

    let platform = |p: &str| RegistryOptions {
        platform: Some(p.to_owned()),
        ..RegistryOptions::default()
    };

    // Pull by tag through the index, choosing the platform; layers stream and match.
    let source = registry::open(&format!("{host}/shop/app:1.0"), &platform("linux/amd64")).unwrap();
    let info = source.info();
    assert_eq!(
        info.manifest_digest.as_deref(),
        Some(amd64.manifest_digest.as_str())
    );
    assert_eq!(
        info.config_digest.as_deref(),
        Some(amd64.config_digest.as_str())
    );
    assert_eq!(source.index_digest(), Some(index_digest.as_str()));
    assert_eq!(info.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(info.tags, [format!("{host}/shop/app:1.0")]);
    assert_eq!(info.layers.len(), 2);
    for (i, layer) in info.layers.iter().enumerate() {
        let mut blob = Vec::new();
        source
            .open_layer(i)
            .unwrap()
            .read_to_end(&mut blob)
            .unwrap();
        assert_eq!(sha256(&blob), layer.digest);
        assert_eq!(blob, amd64.layers[i]);
        assert!(
            layer
                .diff_id
                .as_deref()
                .is_some_and(|d| d.starts_with("sha256:"))
        );
        assert_eq!(layer.size, blob.len() as u64);
    }
    assert!(source.open_layer(2).is_err());

    let arm = registry::open(&format!("{host}/shop/app:1.0"), &platform("linux/arm64")).unwrap();
    assert_eq!(
        arm.info().manifest_digest.as_deref(),
        Some(arm64.manifest_digest.as_str())
    );
    assert_eq!(arm.info().platform.as_deref(), Some("linux/arm64/v8"));
    let mut blob = Vec::new();
    arm.open_layer(1).unwrap().read_to_end(&mut blob).unwrap();
    assert_eq!(blob, arm64.layers[1]);

    let error = registry::open(&format!("{host}/shop/app:1.0"), &platform("linux/s390x"))
        .err()
        .unwrap();
    let text = error.to_string();
    assert!(
        text.contains("no image for platform linux/s390x") && text.contains("linux/arm64/v8"),
        "{text}"
    );

    // By digest: the platform image and the index.
    let by_digest = format!("{host}/shop/app@{}", amd64.manifest_digest);
    let source = registry::open(&by_digest, &RegistryOptions::default()).unwrap();
    assert_eq!(
        source.info().manifest_digest.as_deref(),
        Some(amd64.manifest_digest.as_str())
    );
    assert!(source.info().tags.is_empty());
    let source = registry::open(
        &format!("{host}/shop/app:1.0@{index_digest}"),
        &platform("linux/arm64/v8"),
    )
    .unwrap();
    assert_eq!(
        source.info().manifest_digest.as_deref(),
        Some(arm64.manifest_digest.as_str())
    );
    // A single-platform image does not pretend to be another platform.
    let error = registry::open(
        &format!("{host}/shop/app:amd64-only"),
        &platform("linux/arm64"),
    )
    .err()
    .unwrap();
    assert!(
        error.to_string().contains("not the requested platform"),
        "{error}"
    );

    // A missing tag: 404 naming registry and reference with the registry's message.
    let missing = format!("{host}/shop/app:missing");
    let error = registry::open(&missing, &RegistryOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(
            error,
            ImageError::Registry {
                status: Some(404),
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains(&host)
            && text.contains("shop/app:missing")
            && text.contains("manifest unknown"),
        "{text}"
    );

    // Catalog over several pages, with and without a prefix; tags over several pages.
    let small_pages = RegistryOptions {
        page_size: Some(2),
        ..RegistryOptions::default()
    };
    let repositories = registry::list_repositories(&host, &small_pages).unwrap();
    assert_eq!(
        repositories,
        [
            "catalog/r0",
            "catalog/r1",
            "catalog/r2",
            "catalog/r3",
            "catalog/r4",
            "shop/app"
        ]
    );
    let under = registry::list_repositories(&format!("{host}/shop"), &small_pages).unwrap();
    assert_eq!(under, ["shop/app"]);
    let one_per_page = RegistryOptions {
        page_size: Some(1),
        ..RegistryOptions::default()
    };
    let mut tags = registry::list_tags(&host, "shop/app", &one_per_page).unwrap();
    tags.sort();
    assert_eq!(tags, ["1.0", "amd64-only"]);

    // Basic auth (htpasswd, bcrypt) over the same storage.
    let hash = bcrypt::hash_with_result("s3cret-pass", 4)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoY);
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, format!("bob:{hash}\n")).unwrap();
    let basic = Registry::start(
        &binary,
        dir.path(),
        "basic",
        &storage,
        &format!(
            "auth:\n  htpasswd:\n    realm: palisade-test\n    path: {}\n",
            htpasswd.display()
        ),
    )
    .unwrap();
    let reference = format!("{}/shop/app:1.0", basic.host);
    let bob = |password: &str| RegistryOptions {
        username: Some("bob".to_owned()),
        password: Some(password.to_owned()),
        platform: Some("linux/amd64".to_owned()),
        ..RegistryOptions::default()
    };
    let source = registry::open(&reference, &bob("s3cret-pass")).unwrap();
    let mut blob = Vec::new();
    source
        .open_layer(0)
        .unwrap()
        .read_to_end(&mut blob)
        .unwrap();
    assert_eq!(blob, amd64.layers[0]);
    let error = registry::open(&reference, &bob("wrong-password-42"))
        .err()
        .unwrap();
    assert!(
        matches!(
            error,
            ImageError::Registry {
                status: Some(401),
                ..
            }
        ),
        "{error:?}"
    );
    let text = format!("{error} {error:?}");
    assert!(
        text.contains(&basic.host) && text.contains("shop/app:1.0"),
        "{text}"
    );
    assert!(
        !text.contains("wrong-password-42")
            && !text.contains(&STANDARD.encode("bob:wrong-password-42")),
        "{text}"
    );
    assert!(text.contains("rejected"), "{text}");
    // Without credentials: 401 saying how to give them (no Docker config in the way).
    let no_config = RegistryOptions {
        docker_config: Some(dir.path().join("absent.json")),
        ..RegistryOptions::default()
    };
    let error = registry::open(&reference, &no_config).err().unwrap();
    assert!(
        error.to_string().contains("authentication required"),
        "{error}"
    );
    // Credentials from a Docker config file (`auths.<host>.auth`).
    let config = dir.path().join("docker-config.json");
    std::fs::write(
        &config,
        json!({"auths": {format!("http://{}", basic.host): {"auth": STANDARD.encode("bob:s3cret-pass")}}}).to_string(),
    )
    .unwrap();
    let from_config = RegistryOptions {
        docker_config: Some(config),
        platform: Some("linux/arm64".to_owned()),
        ..RegistryOptions::default()
    };
    let source = registry::open(&reference, &from_config).unwrap();
    assert_eq!(
        source.info().manifest_digest.as_deref(),
        Some(arm64.manifest_digest.as_str())
    );
    assert_eq!(
        registry::list_repositories(&basic.host, &bob("s3cret-pass"))
            .unwrap()
            .len(),
        6
    );

    // Bearer tokens from our token server.
    let (tokens, bundle) = start_token_server(dir.path());
    let token = Registry::start(
        &binary,
        dir.path(),
        "token",
        &storage,
        &format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            tokens.realm,
            bundle.display()
        ),
    )
    .unwrap();
    let alice = |password: &str| RegistryOptions {
        username: Some("alice".to_owned()),
        password: Some(password.to_owned()),
        platform: Some("linux/amd64".to_owned()),
        page_size: Some(4),
        ..RegistryOptions::default()
    };
    let reference = format!("{}/shop/app:1.0", token.host);
    let source = registry::open(&reference, &alice("secret")).unwrap();
    for (i, layer) in source.info().layers.iter().enumerate() {
        let mut blob = Vec::new();
        source
            .open_layer(i)
            .unwrap()
            .read_to_end(&mut blob)
            .unwrap();
        assert_eq!(sha256(&blob), layer.digest);
    }
    assert!(*tokens.requests.lock().unwrap() >= 1);
    assert_eq!(
        registry::list_repositories(&token.host, &alice("secret"))
            .unwrap()
            .len(),
        6
    );
    let error = registry::open(&reference, &alice("not-the-secret"))
        .err()
        .unwrap();
    let text = format!("{error} {error:?}");
    assert!(
        text.contains("token server") && text.contains("401") && text.contains(&token.host),
        "{text}"
    );
    assert!(!text.contains("not-the-secret"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// A scripted HTTP/1.1 server for failure modes.

struct Request {
    path: String,
    headers: HashMap<String, String>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&String> {
        self.headers.get(name)
    }

    fn query_all(&self, name: &str) -> Vec<String> {
        let url = url::Url::parse(&format!("http://x{}", self.path)).unwrap();
        url.query_pairs()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes, then close (a broken download).
    cut_at: Option<usize>,
}

impl Response {
    fn new(status: u16, body: &[u8]) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.to_vec(),
            cut_at: None,
        }
    }

    fn json(status: u16, value: serde_json::Value) -> Response {
        Response::new(status, value.to_string().as_bytes()).with("Content-Type", "application/json")
    }

    fn with(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

struct MiniServer {
    address: String,
}

impl MiniServer {
    fn start(
        bind: &str,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> MiniServer {
        let listener = TcpListener::bind(bind).unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let handler = Arc::new(handler);
        // The accept thread lives until the test process ends.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || serve(stream, &*handler));
            }
        });
        MiniServer { address }
    }
}

fn serve(mut stream: TcpStream, handler: &dyn Fn(&Request) -> Response) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        // A TLS ClientHello (the client probing HTTPS first) is not HTTP: hang up at once.
        match reader.fill_buf() {
            Ok(bytes) if bytes.first().is_some_and(|b| b.is_ascii_uppercase()) => {}
            _ => return,
        }
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let response = handler(&Request { path, headers });
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            response.status,
            response.body.len()
        );
        for (name, value) in &response.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let body = match response.cut_at {
            Some(cut) => &response.body[..cut],
            None => &response.body[..],
        };
        if stream.write_all(head.as_bytes()).is_err() || stream.write_all(body).is_err() {
            return;
        }
        if response.cut_at.is_some() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

/// 429 with `Retry-After: 1`, then 503, then the manifest; a layer whose first download breaks
/// halfway and is resumed with a Range request.
#[test]
fn retries_rate_limits_server_errors_and_broken_downloads() {
    let layer: Vec<u8> = gzip(&layer_tar(&[TarEntry::file(
        "big.bin",
        &vec![7u8; 200_000],
    )]));
    let layer_digest = sha256(&layer);
    let config = serde_json::to_vec(
        &json!({"os": "linux", "architecture": "amd64", "rootfs": {"diff_ids": []}}),
    )
    .unwrap();
    let config_digest = sha256(&config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}]
    }))
    .unwrap();
    let manifest_hits = Arc::new(Mutex::new(0));
    let layer_ranges = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let (hits, ranges) = (Arc::clone(&manifest_hits), Arc::clone(&layer_ranges));
    let (layer_copy, manifest_copy, config_copy) =
        (layer.clone(), manifest.clone(), config.clone());
    let (layer_path, config_path) = (
        format!("/v2/flaky/blobs/{layer_digest}"),
        format!("/v2/flaky/blobs/{config_digest}"),
    );
    let server = MiniServer::start("127.0.0.1:0", move |request| {
        if request.path == "/v2/" {
            return Response::new(200, b"{}");
        }
        if request.path == "/v2/flaky/manifests/1.0" {
            let mut hits = hits.lock().unwrap();
            *hits += 1;
            return match *hits {
                1 => Response::json(
                    429,
                    json!({"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}),
                )
                .with("Retry-After", "1"),
                2 => Response::new(503, b"busy"),
                _ => Response::new(200, &manifest_copy).with("Content-Type", OCI_MANIFEST),
            };
        }
        if request.path == config_path {
            return Response::new(200, &config_copy);
        }
        if request.path == layer_path {
            let range = request.header("range").cloned();
            ranges.lock().unwrap().push(range.clone());
            return match range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.strip_suffix('-'))
            {
                Some(start) => {
                    let start: usize = start.parse().unwrap();
                    let mut response = Response::new(206, &layer_copy[start..]);
                    response.headers.push((
                        "Content-Range".into(),
                        format!(
                            "bytes {start}-{}/{}",
                            layer_copy.len() - 1,
                            layer_copy.len()
                        ),
                    ));
                    response
                }
                None => {
                    let mut response = Response::new(200, &layer_copy);
                    response.cut_at = Some(layer_copy.len() / 2);
                    response
                }
            };
        }
        Response::json(
            404,
            json!({"errors": [{"code": "NOT_FOUND", "message": "nothing here"}]}),
        )
    });
    let started = Instant::now();
    let source = registry::open(
        &format!("{}/flaky:1.0", server.address),
        &RegistryOptions::default(),
    )
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
    assert_eq!(*manifest_hits.lock().unwrap(), 3);
    let mut blob = Vec::new();
    source
        .open_layer(0)
        .unwrap()
        .read_to_end(&mut blob)
        .unwrap();
    assert_eq!(
        sha256(&blob),
        layer_digest,
        "the broken download was resumed"
    );
    let ranges = layer_ranges.lock().unwrap().clone();
    assert_eq!(ranges.len(), 2);
    assert_eq!(ranges[0], None);
    assert_eq!(ranges[1], Some(format!("bytes={}-", layer.len() / 2)));

    let error = registry::open(
        &format!("{}/flaky:2.0", server.address),
        &RegistryOptions::default(),
    )
    .err()
    .unwrap();
    let text = error.to_string();
    assert!(
        text.contains("404") && text.contains("nothing here") && text.contains("flaky:2.0"),
        "{text}"
    );
}

/// Blob redirects: Authorization stays with the registry, and plain HTTP is refused for hosts
/// that are neither loopback nor named insecure.
#[test]
fn redirects_keep_credentials_home_and_plain_http_is_loopback_only() {
    let storage_headers = Arc::new(Mutex::new(Vec::<Option<String>>::new()));
    let seen = Arc::clone(&storage_headers);
    let layer = gzip(&layer_tar(&[TarEntry::file("a", b"a")]));
    let layer_digest = sha256(&layer);
    let layer_copy = layer.clone();
    // Blob storage on another loopback address (another host as far as HTTP is concerned).
    let storage = MiniServer::start("127.0.0.2:0", move |request| {
        seen.lock()
            .unwrap()
            .push(request.header("authorization").cloned());
        Response::new(200, &layer_copy)
    });
    let config = serde_json::to_vec(&json!({"os": "linux", "architecture": "amd64"})).unwrap();
    let config_digest = sha256(&config);
    let manifest = |layer_digest: &str| {
        serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": 1},
            ]
        }))
        .unwrap()
    };
    let other_digest = sha256(b"other");
    let (good, evil) = (manifest(&layer_digest), manifest(&other_digest));
    let storage_url = format!("http://{}/blob", storage.address);
    let basic = format!("Basic {}", STANDARD.encode("carol:pw"));
    let expected_auth = basic.clone();
    let config_path = format!("/v2/r/blobs/{config_digest}");
    let layer_path = format!("/v2/r/blobs/{layer_digest}");
    let other_path = format!("/v2/r/blobs/{other_digest}");
    let server = MiniServer::start("127.0.0.1:0", move |request| {
        if request.header("authorization") != Some(&expected_auth) {
            return Response::new(401, b"").with("WWW-Authenticate", "Basic realm=\"test\"");
        }
        match request.path.as_str() {
            "/v2/r/manifests/good" => Response::new(200, &good).with("Content-Type", OCI_MANIFEST),
            "/v2/r/manifests/evil" => Response::new(200, &evil).with("Content-Type", OCI_MANIFEST),
            path if path == config_path => Response::new(200, &config),
            path if path == layer_path => Response::new(307, b"").with("Location", &storage_url),
            path if path == other_path => {
                Response::new(307, b"").with("Location", "http://palisade-test.invalid/blob")
            }
            _ => Response::new(404, b""),
        }
    });
    let carol = RegistryOptions {
        username: Some("carol".into()),
        password: Some("pw".into()),
        ..RegistryOptions::default()
    };
    let source = registry::open(&format!("{}/r:good", server.address), &carol).unwrap();
    let mut blob = Vec::new();
    source
        .open_layer(0)
        .unwrap()
        .read_to_end(&mut blob)
        .unwrap();
    assert_eq!(blob, layer);
    assert_eq!(
        *storage_headers.lock().unwrap(),
        [None],
        "no Authorization to blob storage"
    );

    let source = registry::open(&format!("{}/r:evil", server.address), &carol).unwrap();
    let error = source.open_layer(0).err().unwrap().to_string();
    assert!(
        error.contains("refusing plain HTTP to palisade-test.invalid"),
        "{error}"
    );
    // Named insecure, the host is tried (and here does not resolve).
    let insecure = RegistryOptions {
        insecure: vec!["palisade-test.invalid".into()],
        timeout: Some(Duration::from_secs(2)),
        ..carol.clone()
    };
    let source = registry::open(&format!("{}/r:evil", server.address), &insecure).unwrap();
    let error = source.open_layer(0).err().unwrap().to_string();
    assert!(
        !error.contains("refusing plain HTTP") && error.contains("palisade-test.invalid"),
        "{error}"
    );
}
