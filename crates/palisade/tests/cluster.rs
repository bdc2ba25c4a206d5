//! `palisade scan cluster` end to end against `palisade-fake-apiserver`: a local HTTPS server that
//! stands in for a real kube-apiserver (none can run on the test machines) by replaying responses
//! recorded from a real kube-apiserver v1.36.2 (`tests/fixtures/kube-api`), including its paging,
//! RBAC denials and Status bodies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use palisade_fake_apiserver::{FakeApiServer, Kubeconfig, Options};
use serde_json::Value;

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("palisade runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `(check_id, kind, namespace, name, container)` of every finding, sorted.
fn finding_keys(report: &Value) -> Vec<String> {
    let mut keys: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                f["check_id"],
                f["resource"]["kind"],
                f["resource"]["namespace"],
                f["resource"]["name"],
                f["container"]
            )
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn live_scan_snapshot_and_offline_rescan_agree() {
    let server = FakeApiServer::start(Options::default()).unwrap();
    let dir = temp_dir("snapshot");
    let kubeconfig = server
        .write_kubeconfig(&dir, &Kubeconfig::token(server.admin_token()))
        .unwrap();
    let snapshot = dir.join("shop.json");
    let out = palisade(&[
        "scan",
        "cluster",
        "--kubeconfig",
        path(&kubeconfig),
        "--page-size",
        "7",
        "--format",
        "json",
        "--save-snapshot",
        path(&snapshot),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = json(&out);
    assert!(
        live["target"].as_str().unwrap().contains("cluster"),
        "{}",
        live["target"]
    );
    let keys = finding_keys(&live);
    // The deliberate problems of the recorded cluster are found through the API.
    for expected in [
        "\"privileged\" \"Deployment\" \"dev\" \"debug-tools\"",
        "\"rbac-cluster-admin-binding\" \"ClusterRoleBinding\" null \"ci-deployer-cluster-admin\"",
        "\"dashboard-exposed\" \"Service\" \"kubernetes-dashboard\" \"kubernetes-dashboard\"",
    ] {
        assert!(
            keys.iter().any(|k| k.starts_with(expected)),
            "{expected} not in {keys:#?}"
        );
    }
    // Objects owned by a controller are assessed through it, not again.
    assert!(
        !keys
            .iter()
            .any(|k| k.contains("\"ReplicaSet\"") && k.starts_with("\"privileged\"")),
        "{keys:#?}"
    );
    // Paging used the page size.
    let pods = server.requests_to("/api/v1/pods");
    assert!(pods.len() > 1 && pods.iter().all(|r| r.query_param("limit") == Some("7")));

    // The snapshot holds no secret value (the recorded Secrets hold `dummy-…` and `sk_test_DUMMY…`).
    let text = std::fs::read_to_string(&snapshot).unwrap();
    for secret in ["dummy-", "sk_test_DUMMY", "last-applied-configuration"] {
        assert!(!text.contains(secret), "snapshot contains {secret}");
    }
    let header: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(header["kind"], "InventorySnapshot");
    assert!(header["takenAt"].as_str().unwrap().ends_with('Z'));
    assert!(
        header["cluster"]["server"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );

    let out = palisade(&["scan", "k8s", path(&snapshot), "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offline = json(&out);
    assert_eq!(
        finding_keys(&offline),
        keys,
        "offline rescan of the snapshot differs from the live scan"
    );
    assert!(offline["findings"][0]["cluster"].is_string());
}

#[test]
fn forbidden_kind_is_not_assessed_and_the_scan_goes_on() {
    let server = FakeApiServer::start(Options::default().forbid("secrets")).unwrap();
    let dir = temp_dir("forbidden");
    let kubeconfig = server
        .write_kubeconfig(&dir, &Kubeconfig::token(server.admin_token()))
        .unwrap();
    let out = palisade(&[
        "scan",
        "cluster",
        "--kubeconfig",
        path(&kubeconfig),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let not_assessed = report["not_assessed"].as_array().unwrap();
    let secrets = not_assessed
        .iter()
        .find(|n| n["kind"] == "Secret")
        .expect("Secret not assessed");
    assert!(
        secrets["reason"].as_str().unwrap().contains("forbidden"),
        "{secrets}"
    );
    assert!(!report["findings"].as_array().unwrap().is_empty());

    // The table says so too.
    let out = palisade(&["scan", "cluster", "--kubeconfig", path(&kubeconfig)]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Not assessed") && table.contains("Secret"),
        "{table}"
    );
}

#[test]
fn bad_credentials_are_one_clear_line() {
    let server = FakeApiServer::start(Options::default()).unwrap();
    let dir = temp_dir("unauthorized");
    let kubeconfig = server
        .write_kubeconfig(&dir, &Kubeconfig::token("expired-token"))
        .unwrap();
    let out = palisade(&["scan", "cluster", "--kubeconfig", path(&kubeconfig)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("401") && stderr.contains(server.url()),
        "{stderr}"
    );
    assert!(
        !stderr.contains("expired-token"),
        "the token must never be printed: {stderr}"
    );

    let port_closed = server.url().to_string();
    drop(server);
    let out = palisade(&["scan", "cluster", "--kubeconfig", path(&kubeconfig)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&port_closed) && stderr.contains("refused"),
        "{stderr}"
    );
}

#[test]
fn kubeconfig_is_found_through_the_environment_and_home() {
    let server = FakeApiServer::start(Options::default()).unwrap();
    let dir = temp_dir("discovery");
    let kubeconfig = server
        .write_kubeconfig(&dir, &Kubeconfig::token(server.admin_token()))
        .unwrap();

    // $KUBECONFIG, as kubectl reads it.
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "cluster", "--format", "json"])
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!json(&out)["findings"].as_array().unwrap().is_empty());

    // ~/.kube/config when $KUBECONFIG is not set.
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    std::fs::copy(&kubeconfig, home.join(".kube/config")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "cluster", "--format", "json"])
        .env_remove("KUBECONFIG")
        .env("HOME", &home)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Neither, and not in a pod: one line saying what was looked for.
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "cluster"])
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", dir.join("empty-home"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
