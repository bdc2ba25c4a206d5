//! Live-cluster scanning against `palisade-fake-apiserver`, a local HTTPS server that stands in for
//! a real kube-apiserver (none can run on the test machines) by replaying responses recorded from a
//! real kube-apiserver v1.36.2 (`tests/fixtures/kube-api`). Pages, RBAC denials, failures and
//! authentication follow the real server's behaviour; the stand-in's own tests check its pages and
//! Status bodies against the recordings.

#![cfg(feature = "live")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_core::Resource;
use palisade_fake_apiserver::{
    Credentials, FakeApiServer, Kubeconfig, Options, RecordedRequest, Trust, fixtures_dir,
};
use palisade_kube::cluster::{ClusterError, ClusterErrorKind, ClusterOptions, ClusterScan, scan};

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let unique = format!(
            "palisade-live-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Outcome {
    result: Result<ClusterScan, ClusterError>,
    resources: Vec<Resource>,
}

async fn run(kubeconfig: &Path, configure: impl FnOnce(&mut ClusterOptions)) -> Outcome {
    let mut options = ClusterOptions {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        ..ClusterOptions::default()
    };
    configure(&mut options);
    let mut resources = Vec::new();
    let result = scan(&options, &mut |resource| resources.push(resource)).await;
    Outcome { result, resources }
}

/// Starts the stand-in and writes a kubeconfig for it.
fn serve(options: Options, dir: &TempDir, config: Kubeconfig) -> (FakeApiServer, PathBuf) {
    let server = FakeApiServer::start(options).expect("stand-in starts");
    let kubeconfig = server
        .write_kubeconfig(dir.path(), &config)
        .expect("kubeconfig written");
    (server, kubeconfig)
}

fn fixture_json(relative: &str) -> serde_json::Value {
    let bytes = std::fs::read(fixtures_dir().join(relative)).expect("fixture exists");
    serde_json::from_slice(&bytes).expect("fixture is JSON")
}

fn recorded_count(relative: &str) -> usize {
    fixture_json(relative)["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default()
}

/// Objects per kind in the recorded cluster-wide lists.
fn recorded_counts() -> BTreeMap<String, usize> {
    [
        ("Pod", "api/v1/pods.json"),
        ("Deployment", "apis/apps/v1/deployments.json"),
        ("ReplicaSet", "apis/apps/v1/replicasets.json"),
        ("StatefulSet", "apis/apps/v1/statefulsets.json"),
        ("DaemonSet", "apis/apps/v1/daemonsets.json"),
        ("Job", "apis/batch/v1/jobs.json"),
        ("CronJob", "apis/batch/v1/cronjobs.json"),
        ("Service", "api/v1/services.json"),
        ("Ingress", "apis/networking.k8s.io/v1/ingresses.json"),
        (
            "NetworkPolicy",
            "apis/networking.k8s.io/v1/networkpolicies.json",
        ),
        ("Namespace", "api/v1/namespaces.json"),
        ("Node", "api/v1/nodes.json"),
        ("ServiceAccount", "api/v1/serviceaccounts.json"),
        ("Role", "apis/rbac.authorization.k8s.io/v1/roles.json"),
        (
            "ClusterRole",
            "apis/rbac.authorization.k8s.io/v1/clusterroles.json",
        ),
        (
            "RoleBinding",
            "apis/rbac.authorization.k8s.io/v1/rolebindings.json",
        ),
        (
            "ClusterRoleBinding",
            "apis/rbac.authorization.k8s.io/v1/clusterrolebindings.json",
        ),
        (
            "ValidatingWebhookConfiguration",
            "apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations.json",
        ),
        (
            "MutatingWebhookConfiguration",
            "apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations.json",
        ),
        ("ConfigMap", "api/v1/configmaps.json"),
        ("Secret", "api/v1/secrets.json"),
    ]
    .into_iter()
    .map(|(kind, file)| (kind.to_string(), recorded_count(file)))
    // The cluster had no ReplicationControllers: the list is served, and empty.
    .chain([("ReplicationController".to_string(), 0)])
    .collect()
}

fn received_counts(resources: &[Resource]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for resource in resources {
        *counts.entry(resource.kind().to_string()).or_insert(0) += 1;
    }
    counts
}

fn expect_error(outcome: Outcome) -> ClusterError {
    match outcome.result {
        Ok(scan) => panic!("expected the scan to fail, got {:?}", scan.listed),
        Err(error) => error,
    }
}

fn assert_one_line(error: &ClusterError) {
    let text = error.to_string();
    assert!(!text.contains('\n'), "one line: {text:?}");
    assert!(text.len() < 400, "short: {text:?}");
}

#[tokio::test]
async fn token_auth_lists_every_kind_with_the_recorded_counts() {
    let dir = TempDir::new("token");
    let (server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN),
    );
    let outcome = run(&kubeconfig, |_| {}).await;
    let scan = outcome.result.expect("scan succeeds");

    let expected = recorded_counts();
    assert_eq!(scan.listed, expected);
    let mut nonempty = expected.clone();
    nonempty.retain(|_, count| *count > 0);
    assert_eq!(received_counts(&outcome.resources), nonempty);
    assert_eq!(scan.listed.get("Pod"), Some(&28));
    assert_eq!(scan.listed.get("Secret"), Some(&10));
    assert!(scan.not_assessed.is_empty(), "{:?}", scan.not_assessed);

    assert_eq!(scan.identity.name, "shop");
    assert_eq!(scan.identity.context.as_deref(), Some("shop"));
    assert_eq!(scan.identity.server, server.url());
    assert_eq!(scan.identity.version.as_deref(), Some("v1.36.2"));
    assert!(
        outcome
            .resources
            .iter()
            .all(|r| r.source.cluster.as_deref() == Some("shop") && r.source.file.is_none())
    );
    let catalog = outcome
        .resources
        .iter()
        .find(|r| r.kind() == "Deployment" && r.name() == "catalog")
        .expect("shop/catalog listed");
    assert_eq!(catalog.reference.api_version, "apps/v1");
    assert_eq!(catalog.namespace(), Some("shop"));
    // Discovery came first, and every list was a paged raw GET.
    let requests = server.requests();
    assert_eq!(requests.first().map(|r| r.path.as_str()), Some("/version"));
    assert!(requests.iter().any(|r| r.path == "/apis"));
    let pods = server.requests_to("/api/v1/pods");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].query_param("limit"), Some("500"));
    assert!(requests.iter().all(|r| r.user.as_deref() == Some("admin")));
}

#[tokio::test]
async fn client_certificate_auth_works_inline_and_from_files() {
    for (name, credentials) in [
        (
            "cert-data",
            Credentials::ClientCertificateData {
                user: "kubernetes-admin".to_string(),
            },
        ),
        (
            "cert-files",
            Credentials::ClientCertificateFiles {
                user: "kubernetes-admin".to_string(),
            },
        ),
    ] {
        let dir = TempDir::new(name);
        let (server, kubeconfig) = serve(
            Options::default(),
            &dir,
            Kubeconfig::new(credentials).trust(Trust::CaFile),
        );
        let outcome = run(&kubeconfig, |_| {}).await;
        let scan = outcome.result.expect("scan succeeds");
        assert_eq!(scan.listed, recorded_counts(), "{name}");
        let users: BTreeSet<Option<String>> =
            server.requests().into_iter().map(|r| r.user).collect();
        assert_eq!(
            users,
            BTreeSet::from([Some("kubernetes-admin".to_string())]),
            "{name}: every request authenticated by the certificate"
        );
    }
}

#[tokio::test]
async fn exec_credential_plugin_supplies_the_token() {
    let dir = TempDir::new("exec");
    let (server, kubeconfig) = serve(
        Options::default().token("token-from-plugin", "ci-deployer"),
        &dir,
        Kubeconfig::new(Credentials::Exec {
            token: "token-from-plugin".to_string(),
        }),
    );
    let outcome = run(&kubeconfig, |_| {}).await;
    let scan = outcome.result.expect("scan succeeds");
    assert_eq!(scan.listed, recorded_counts());
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.user.as_deref() == Some("ci-deployer"))
    );
    let calls = std::fs::read_to_string(dir.path().join("credential-plugin.calls"))
        .expect("the plugin ran");
    assert!(calls.lines().count() >= 1);
}

#[tokio::test]
async fn a_failing_credential_plugin_is_one_line_without_its_output() {
    let dir = TempDir::new("exec-fails");
    let (server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::new(Credentials::Exec {
            token: "unused".to_string(),
        }),
    );
    // A plugin that fails after printing something token-like, as a half-finished login might.
    let plugin = dir.path().join("credential-plugin.sh");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho leaked-token-0000\necho 'error: the SSO session expired; run login' >&2\nexit 3\n",
    )
    .expect("plugin rewritten");
    let error = expect_error(run(&kubeconfig, |_| {}).await);
    assert_eq!(error.kind, ClusterErrorKind::Credentials, "{error}");
    assert_one_line(&error);
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("cluster \"shop\" ({}): ", server.url())),
        "{text}"
    );
    assert!(
        text.contains("the SSO session expired; run login"),
        "{text}"
    );
    assert!(text.contains("exit status: 3"), "{text}");
    assert!(!text.contains("leaked-token-0000"), "{text}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn small_pages_follow_continue_tokens_without_losing_or_repeating_items() {
    let dir = TempDir::new("pages");
    let (server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN),
    );
    let outcome = run(&kubeconfig, |o| o.page_size = 3).await;
    let scan = outcome.result.expect("scan succeeds");
    assert_eq!(scan.listed, recorded_counts());

    let pod_requests = server.requests_to("/api/v1/pods");
    let continued: Vec<&RecordedRequest> = pod_requests
        .iter()
        .filter(|r| r.query_param("continue").is_some())
        .collect();
    // 28 pods, 3 a page: 10 pages, 9 of them asked for with a continue token.
    assert_eq!(continued.len(), 9, "{pod_requests:?}");
    assert!(
        pod_requests
            .iter()
            .all(|r| r.query_param("limit") == Some("3"))
    );
    assert!(pod_requests.iter().all(|r| r.status == 200));

    let pods: Vec<String> = outcome
        .resources
        .iter()
        .filter(|r| r.kind() == "Pod")
        .map(|r| format!("{}/{}", r.namespace().unwrap_or(""), r.name()))
        .collect();
    let unique: BTreeSet<&String> = pods.iter().collect();
    assert_eq!(pods.len(), 28);
    assert_eq!(unique.len(), 28, "no pod delivered twice");
    let recorded: BTreeSet<String> = fixture_json("api/v1/pods.json")["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap_or(""),
                p["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        recorded
    );
}

#[tokio::test]
async fn an_expired_continue_token_restarts_the_kind_once() {
    let dir = TempDir::new("expired");
    let (server, kubeconfig) = serve(
        Options::default().expire_next_continue("pods"),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN),
    );
    let outcome = run(&kubeconfig, |o| o.page_size = 5).await;
    let scan = outcome.result.expect("scan succeeds");
    assert_eq!(scan.listed.get("Pod"), Some(&28));
    let pods = outcome
        .resources
        .iter()
        .filter(|r| r.kind() == "Pod")
        .count();
    assert_eq!(
        pods, 28,
        "objects of the first page are not delivered twice"
    );
    let requests = server.requests_to("/api/v1/pods");
    assert_eq!(requests.iter().filter(|r| r.status == 410).count(), 1);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.query_param("continue").is_none())
            .count(),
        2,
        "listed again from the start: {requests:?}"
    );
}

#[tokio::test]
async fn a_forbidden_kind_is_not_assessed_with_the_servers_message() {
    let dir = TempDir::new("forbidden");
    let (_server, kubeconfig) = serve(
        Options::default()
            .token("dev-token", "dev")
            .forbid("secrets"),
        &dir,
        Kubeconfig::token("dev-token"),
    );
    let outcome = run(&kubeconfig, |_| {}).await;
    let scan = outcome.result.expect("a 403 does not end the scan");
    assert_eq!(scan.not_assessed.len(), 1, "{:?}", scan.not_assessed);
    let secret = &scan.not_assessed[0];
    assert_eq!(secret.kind, "Secret");
    assert_eq!(secret.api_version, "v1");
    assert_eq!(secret.namespace, None);
    assert_eq!(
        secret.reason,
        "secrets is forbidden: User \"dev\" cannot list resource \"secrets\" in API group \"\" at \
         the cluster scope"
    );
    assert!(!scan.listed.contains_key("Secret"));
    let mut expected = recorded_counts();
    expected.remove("Secret");
    assert_eq!(scan.listed, expected);
    assert!(outcome.resources.iter().all(|r| r.kind() != "Secret"));
}

#[tokio::test]
async fn a_failing_kind_is_not_assessed_and_the_others_are_listed() {
    let dir = TempDir::new("failing");
    let (_server, kubeconfig) = serve(
        Options::default().fail("deployments.apps"),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN),
    );
    let outcome = run(&kubeconfig, |_| {}).await;
    let scan = outcome.result.expect("a 500 does not end the scan");
    assert_eq!(scan.not_assessed.len(), 1, "{:?}", scan.not_assessed);
    let deployment = &scan.not_assessed[0];
    assert_eq!(
        (deployment.api_version.as_str(), deployment.kind.as_str()),
        ("apps/v1", "Deployment")
    );
    assert!(deployment.reason.contains("500"), "{}", deployment.reason);
    assert!(
        deployment.reason.contains("etcdserver: request timed out"),
        "{}",
        deployment.reason
    );
    assert_eq!(scan.listed.get("Pod"), Some(&28));
    assert_eq!(scan.listed.get("ReplicaSet"), Some(&12));
}

#[tokio::test]
async fn a_kind_the_server_does_not_serve_is_not_assessed() {
    let dir = TempDir::new("unserved");
    let (server, kubeconfig) = serve(
        Options::default().unserve("cronjobs.batch"),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN),
    );
    let scan = run(&kubeconfig, |_| {})
        .await
        .result
        .expect("scan succeeds");
    assert_eq!(scan.not_assessed.len(), 1);
    assert_eq!(scan.not_assessed[0].kind, "CronJob");
    assert_eq!(scan.not_assessed[0].reason, "not served by this API server");
    assert!(
        server.requests_to("/apis/batch/v1/cronjobs").is_empty(),
        "discovery said it is not served, so it was not asked for"
    );
}

#[tokio::test]
async fn servers_without_aggregated_discovery_are_discovered_per_group() {
    let dir = TempDir::new("legacy");
    let (server, kubeconfig) = serve(
        Options::default().without_aggregated_discovery(),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN),
    );
    let scan = run(&kubeconfig, |_| {})
        .await
        .result
        .expect("scan succeeds");
    assert_eq!(scan.listed, recorded_counts());
    assert_eq!(
        server
            .requests_to("/apis/rbac.authorization.k8s.io/v1")
            .len(),
        1
    );
    assert_eq!(server.requests_to("/api/v1").len(), 1);
}

#[tokio::test]
async fn a_context_other_than_the_current_one_can_be_chosen() {
    let dir = TempDir::new("context");
    let (_server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN).with_context("prod-admin", "prod"),
    );
    let scan = run(&kubeconfig, |o| o.context = Some("prod-admin".to_string()))
        .await
        .result
        .expect("scan succeeds");
    assert_eq!(scan.identity.name, "prod");
    assert_eq!(scan.identity.context.as_deref(), Some("prod-admin"));

    let error = expect_error(run(&kubeconfig, |o| o.context = Some("nope".to_string())).await);
    assert_eq!(error.kind, ClusterErrorKind::Config);
    assert_one_line(&error);
    let text = error.to_string();
    assert!(
        text.starts_with("context \"nope\": not found in kubeconfig"),
        "{text}"
    );
    assert!(
        text.contains("prod-admin"),
        "lists the known contexts: {text}"
    );
}

#[tokio::test]
async fn a_rejected_token_is_one_line_naming_the_cluster() {
    let dir = TempDir::new("unauthorized");
    let (server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::token("expired-token-0000"),
    );
    let error = expect_error(run(&kubeconfig, |_| {}).await);
    assert_eq!(error.kind, ClusterErrorKind::Unauthorized);
    assert_one_line(&error);
    assert_eq!(
        error.to_string(),
        format!(
            "cluster \"shop\" ({}): the server rejected the credentials (401 Unauthorized): the \
             token may have expired or been revoked",
            server.url()
        )
    );
    assert!(!error.to_string().contains("expired-token-0000"));
    assert!(server.requests().iter().all(|r| r.status == 401));
}

#[tokio::test]
async fn an_unreachable_server_is_one_line_naming_the_cluster() {
    // A port that was just free and is closed now: connecting is refused.
    let closed = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("free port");
    let url = format!("https://{closed}");
    let dir = TempDir::new("unreachable");
    let (_server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN).server(&url),
    );
    let error = expect_error(run(&kubeconfig, |_| {}).await);
    assert_eq!(error.kind, ClusterErrorKind::Unreachable);
    assert_one_line(&error);
    assert_eq!(
        error.to_string(),
        format!("cluster \"shop\" ({url}): connection refused")
    );
}

#[tokio::test]
async fn an_untrusted_server_certificate_is_one_line_naming_the_cluster() {
    let dir = TempDir::new("tls");
    let (server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN).trust(Trust::UnrelatedCa),
    );
    let error = expect_error(run(&kubeconfig, |_| {}).await);
    assert_eq!(error.kind, ClusterErrorKind::Tls, "{error}");
    assert_one_line(&error);
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "cluster \"shop\" ({}): TLS handshake failed: certificate is not trusted (",
            server.url()
        )),
        "{text}"
    );
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(server.requests().is_empty(), "no request got through");
}

#[tokio::test]
async fn a_missing_kubeconfig_is_a_config_error() {
    let dir = TempDir::new("missing");
    let error = expect_error(run(&dir.path().join("no-such-kubeconfig"), |_| {}).await);
    assert_eq!(error.kind, ClusterErrorKind::Config);
    assert_one_line(&error);
    assert!(error.to_string().contains("no-such-kubeconfig"), "{error}");
}

/// Every Secret value of the recording, raw (base64) and decoded, long enough not to match a name
/// (`POSTGRES_USER` is `payments`, also a namespace). Certificates are left out: they are public and also appear in other objects.
fn recorded_secret_values() -> Vec<String> {
    let mut values = Vec::new();
    for secret in fixture_json("api/v1/secrets.json")["items"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for field in ["data", "stringData"] {
            let Some(data) = secret[field].as_object() else {
                continue;
            };
            for (key, value) in data {
                if key.ends_with(".crt") {
                    continue;
                }
                let Some(raw) = value.as_str() else { continue };
                values.push(raw.to_string());
                if let Some(decoded) = decode_base64(raw) {
                    values.push(decoded);
                }
            }
        }
    }
    values.retain(|v| v.len() >= 12);
    values
}

fn decode_base64(text: &str) -> Option<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|&c| c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8(out).ok()
}

#[tokio::test]
async fn no_secret_value_reaches_the_resources() {
    let values = recorded_secret_values();
    assert!(values.iter().any(|v| v.contains("sk_test_DUMMY")));
    assert!(values.iter().any(|v| v.starts_with("dummy-")));

    let dir = TempDir::new("secrets");
    let (_server, kubeconfig) = serve(
        Options::default(),
        &dir,
        Kubeconfig::token(palisade_fake_apiserver::ADMIN_TOKEN),
    );
    // Small pages too: values must not survive the paged path either.
    for page_size in [500, 2] {
        let outcome = run(&kubeconfig, |o| o.page_size = page_size).await;
        let scan = outcome.result.expect("scan succeeds");
        assert_eq!(scan.listed.get("Secret"), Some(&10));
        for resource in &outcome.resources {
            let debug = format!("{resource:?}");
            let json = serde_json::to_string(&resource.object).expect("serialises");
            for value in &values {
                assert!(
                    !debug.contains(value.as_str()) && !json.contains(value.as_str()),
                    "Secret value {value:?} leaked into {}",
                    resource.reference
                );
            }
            if resource.kind() == "Secret" {
                assert!(
                    !json.contains("dummy-") && !json.contains("sk_test_DUMMY"),
                    "{json}"
                );
                assert!(!json.contains("last-applied-configuration"), "{json}");
            }
        }
        let stripe = outcome
            .resources
            .iter()
            .find(|r| r.kind() == "Secret" && r.name() == "stripe-api-key")
            .expect("stripe-api-key listed");
        // Keys stay: checks need them.
        assert_eq!(
            stripe
                .object
                .at(&["data", "STRIPE_SECRET_KEY"])
                .and_then(palisade_core::Node::as_str),
            Some("")
        );
        assert_eq!(stripe.object.str_at("type"), Some("Opaque"));
        let coredns = outcome
            .resources
            .iter()
            .find(|r| r.kind() == "ConfigMap" && r.name() == "coredns")
            .expect("coredns ConfigMap listed");
        assert_eq!(
            coredns
                .object
                .at(&["data", "Corefile"])
                .and_then(palisade_core::Node::as_str),
            Some(""),
            "ConfigMap values are not kept either"
        );
    }
}
