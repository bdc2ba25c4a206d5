//! The `palisade` binary end to end: every output format, exit codes, stdin, configuration and
//! annotations, bad input, and the check catalogue commands.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn palisade() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.current_dir(repo_root())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    cmd
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn run(args: &[&str]) -> Output {
    palisade().args(args).output().expect("palisade runs")
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = palisade()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
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

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn findings_of<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == check)
        .collect()
}

#[test]
fn demo_cluster_json_has_the_documented_shape() {
    let out = run(&["scan", "k8s", "examples/demo-cluster", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() > 50, "only {} findings", findings.len());
    for f in findings {
        for key in [
            "check_id",
            "title",
            "severity",
            "resource",
            "evidence",
            "remediation",
            "frameworks",
            "suppressed",
        ] {
            assert!(f.get(key).is_some(), "finding without {key}: {f}");
        }
        assert!(
            ["critical", "high", "medium", "low", "info"]
                .contains(&f["severity"].as_str().unwrap())
        );
        assert!(
            f["evidence"]["file"]
                .as_str()
                .unwrap()
                .starts_with("examples/demo-cluster/")
        );
        assert!(f["evidence"]["line"].as_u64().unwrap() > 0);
        for fw in ["pss", "cis", "nsa", "mitre"] {
            assert!(f["frameworks"][fw].is_array(), "{f}");
        }
    }
    // Deliberate problems of the demo cluster, each found where it is.
    let privileged = findings_of(&report, "privileged");
    assert!(
        privileged
            .iter()
            .any(|f| f["resource"]["name"] == "debug-tools"
                && f["resource"]["kind"] == "Deployment"
                && f["container"].is_string()
                && f["frameworks"]["pss"][0] == "baseline:privileged"),
        "{privileged:?}"
    );
    let summary = &report["summary"];
    for severity in ["critical", "high", "medium", "low", "info"] {
        assert!(summary[severity].is_u64(), "{summary}");
    }
    // Machine formats are byte-stable.
    let again = run(&["scan", "k8s", "examples/demo-cluster", "--format", "json"]);
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn sarif_points_at_files_and_lines() {
    let out = run(&["scan", "k8s", "examples/demo-cluster", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0));
    let sarif = json(&out);
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert!(
        !run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .contains("demo-cluster")
    );
    assert!(location["region"]["startLine"].as_u64().unwrap() > 0);
}

#[test]
fn junit_and_table_render() {
    let out = run(&["scan", "k8s", "examples/demo-cluster", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuites") && xml.contains("<failure"),
        "{xml}"
    );

    let out = run(&["scan", "k8s", "examples/demo-cluster"]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("debug-tools"), "{table}");
    assert!(!table.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn output_file_and_fail_on() {
    let dir = temp_dir("output");
    let file = dir.join("report.json");
    let out = run(&[
        "scan",
        "k8s",
        "examples/demo-cluster",
        "--format",
        "json",
        "--output",
        file.to_str().unwrap(),
        "--fail-on",
        "critical",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "critical findings exist in the demo cluster"
    );
    assert!(out.stdout.is_empty());
    let report: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(report["summary"]["critical"].as_u64().unwrap() > 0);

    let hardened = dir.join("hardened.yaml");
    std::fs::write(&hardened, HARDENED_POD).unwrap();
    let out = run(&[
        "scan",
        "k8s",
        hardened.to_str().unwrap(),
        "--fail-on",
        "high",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

const HARDENED_POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: hardened
  namespace: web
spec:
  automountServiceAccountToken: false
  serviceAccountName: web
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: registry.example.com/web/app:1.4.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    resources:
      requests: {cpu: 100m, memory: 128Mi}
      limits: {cpu: 500m, memory: 256Mi}
    livenessProbe: {httpGet: {path: /healthz, port: 8080}}
    readinessProbe: {httpGet: {path: /ready, port: 8080}}
"#;

#[test]
fn stdin_and_kubectl_lists() {
    let list = r#"{"apiVersion":"v1","kind":"List","items":[
      {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"x"},
       "spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":true}}]}}]}"#;
    let out = run_stdin(&["scan", "k8s", "-", "--format", "json"], list.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let hits = findings_of(&report, "privileged");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["evidence"]["file"], "-");
    assert_eq!(hits[0]["container"], "c");
}

#[test]
fn malformed_input_names_the_place_and_keeps_the_rest() {
    let dir = temp_dir("malformed");
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec: [\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: x}\nspec:\n  hostPID: true\n  containers: [{name: c, image: busybox}]\n",
    )
    .unwrap();
    let out = run(&["scan", "k8s", bad.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("could not be read"), "{stderr}");
    let report = json(&out);
    let error = &report["errors"][0];
    assert!(
        error["file"].as_str().unwrap().ends_with("bad.yaml"),
        "{error}"
    );
    assert!(error["line"].as_u64().unwrap() >= 5, "{error}");
    assert!(
        !findings_of(&report, "hostNamespaces").is_empty(),
        "the good document is assessed"
    );

    let out = run(&[
        "scan",
        "k8s",
        bad.to_str().unwrap(),
        "--format",
        "json",
        "--skip-invalid",
    ]);
    assert_eq!(out.status.code(), Some(0));

    let out = run(&["scan", "k8s", dir.join("missing.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn annotations_and_config_suppress_with_reasons() {
    let dir = temp_dir("suppress");
    let pod = dir.join("pod.yaml");
    std::fs::write(
        &pod,
        r#"apiVersion: v1
kind: Pod
metadata:
  name: agent
  namespace: kube-system
  annotations:
    palisade.dev/ignore: "hostNamespaces"
    palisade.dev/ignore-reason: "CNI agent needs the host network"
spec:
  hostNetwork: true
  containers:
  - name: agent
    image: example.com/agent:1.0
    securityContext: {privileged: true}
"#,
    )
    .unwrap();
    let config = dir.join("palisade.yaml");
    std::fs::write(
        &config,
        "exemptions:\n  - reason: agents are reviewed by the platform team\n    namespaces: [kube-system]\n    checks: [privileged]\nchecks:\n  disable: [read-only-root-filesystem]\n",
    )
    .unwrap();
    let out = run(&[
        "scan",
        "k8s",
        pod.to_str().unwrap(),
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let host = findings_of(&report, "hostNamespaces");
    assert_eq!(host[0]["suppressed"], true);
    assert_eq!(
        host[0]["suppression"]["reason"],
        "CNI agent needs the host network"
    );
    let privileged = findings_of(&report, "privileged");
    assert_eq!(privileged[0]["suppressed"], true);
    assert_eq!(privileged[0]["suppression"]["source"], "config");
    assert!(findings_of(&report, "read-only-root-filesystem").is_empty());

    std::fs::write(&config, "checks:\n  disable: [privilegd]\n").unwrap();
    let out = run(&[
        "scan",
        "k8s",
        pod.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("palisade.yaml:2:") && stderr.contains("privileged"),
        "{stderr}"
    );
}

#[test]
fn checks_list_and_explain() {
    let out = run(&["checks", "list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let checks = json(&out);
    let ids: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for id in [
        "privileged",
        "hostNamespaces",
        "hostPathVolumes",
        "hostPorts",
        "capabilities_baseline",
        "appArmorProfile",
        "seLinuxOptions",
        "procMount",
        "seccompProfile_baseline",
        "sysctls",
        "windowsHostProcess",
        "restrictedVolumes",
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "runAsUser",
        "seccompProfile_restricted",
        "capabilities_restricted",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let out = run(&["checks", "explain", "privileged"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("How to fix") && text.contains("baseline:privileged"),
        "{text}"
    );

    let out = run(&["checks", "explain", "privilegd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `privileged`"));
}

#[test]
fn helm_output_names_the_template() {
    let rendered = "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    spec:\n      hostPID: true\n      containers:\n      - name: web\n        image: nginx:1.27\n";
    let out = run_stdin(
        &["scan", "k8s", "-", "--format", "json"],
        rendered.as_bytes(),
    );
    let report = json(&out);
    let hits = findings_of(&report, "hostNamespaces");
    assert_eq!(
        hits[0]["evidence"]["template"],
        "shop/templates/deployment.yaml"
    );
    assert_eq!(hits[0]["evidence"]["line"], 11);
    let out = run_stdin(&["scan", "k8s", "-"], rendered.as_bytes());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("from shop/templates/deployment.yaml"),
        "{table}"
    );
}

/// Regression: `--output /dev/null` once removed /dev/null after writing (the temporary-file
/// clean-up treated it as its own temporary file), which as root breaks the whole machine.
#[test]
fn output_to_a_device_leaves_the_device_alone() {
    use std::os::unix::fs::FileTypeExt;
    let out = run(&[
        "scan",
        "k8s",
        "examples/demo-cluster",
        "--format",
        "json",
        "--output",
        "/dev/null",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kind = std::fs::metadata("/dev/null")
        .expect("/dev/null exists")
        .file_type();
    assert!(kind.is_char_device(), "/dev/null is no longer a device");
    // A failed write leaves no temporary file behind.
    let dir = temp_dir("devices");
    let out = run(&[
        "scan",
        "k8s",
        "examples/demo-cluster",
        "--output",
        dir.join("missing/report.txt").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
}

#[test]
fn gatekeeper_policies_become_findings() {
    let out = run(&[
        "scan",
        "k8s",
        "examples/demo-cluster",
        "--policies",
        "examples/policies",
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
    let owner = findings_of(&report, "K8sRequiredLabels/namespaces-have-owner");
    assert_eq!(owner.len(), 5, "every demo namespace lacks an owner label");
    assert!(
        owner
            .iter()
            .all(|f| f["severity"] == "high" && f["category"] == "policy")
    );
    assert!(owner[0]["message"].as_str().unwrap().contains("owner"));
    assert!(owner[0]["evidence"]["line"].as_u64().unwrap() > 0);
    let warned = findings_of(&report, "K8sRequiredLabels/workloads-have-app-name");
    assert!(warned.iter().all(|f| f["severity"] == "medium"));
    assert!(
        !warned
            .iter()
            .any(|f| f["resource"]["namespace"] == "kube-system"),
        "excludedNamespaces"
    );
    // The CEL ValidatingAdmissionPolicy beside them.
    let floating = findings_of(&report, "ValidatingAdmissionPolicyBinding/no-latest-tag");
    let names: Vec<&str> = floating
        .iter()
        .map(|f| f["resource"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["debug-tools", "prometheus", "cart"], "{floating:?}");
    assert!(
        floating[0]["message"]
            .as_str()
            .unwrap()
            .contains("nicolaka/netshoot:latest")
    );
    // Built-in checks still run beside them.
    assert!(!findings_of(&report, "privileged").is_empty());

    // A broken policy stops the scan with the file and line of the problem.
    let dir = temp_dir("bad-policy");
    std::fs::write(
        dir.join("template.yaml"),
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: broken\nspec:\n  crd:\n    spec:\n      names:\n        kind: Broken\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n        package broken\n        violation[{\"msg\": msg}] {\n          msg := \"x\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("constraint.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: Broken\nmetadata:\n  name: b\n",
    )
    .unwrap();
    let out = run(&[
        "scan",
        "k8s",
        "examples/demo-cluster",
        "--policies",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("template.yaml:"), "{stderr}");
}

#[test]
fn policy_verify_runs_gator_suites() {
    let out = run(&["policy", "verify", "examples/policy-tests"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|line| line.starts_with("ok  \texamples/policy-tests/suite.yaml")),
        "{text}"
    );

    // A wrong expectation fails with exit 1 and says what was expected.
    let dir = temp_dir("suite");
    let suite = std::fs::read_to_string(repo_root().join("examples/policy-tests/suite.yaml"))
        .unwrap()
        .replace(
            "../policies/",
            &format!("{}/examples/policies/", repo_root().display()),
        )
        .replace(
            "owner-constraint.yaml",
            &format!(
                "{}/examples/policy-tests/owner-constraint.yaml",
                repo_root().display()
            ),
        )
        .replace(
            "unique-hosts-constraint.yaml",
            &format!(
                "{}/examples/policy-tests/unique-hosts-constraint.yaml",
                repo_root().display()
            ),
        )
        .replace(
            "samples/",
            &format!("{}/examples/policy-tests/samples/", repo_root().display()),
        )
        .replace(
            "    - violations: no\n  - name: namespace-without-owner",
            "    - violations: 3\n  - name: namespace-without-owner",
        );
    std::fs::write(dir.join("suite.yaml"), suite).unwrap();
    let out = run(&["policy", "verify", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("--- FAIL: namespaces-have-owner/namespace-with-owner"),
        "{text}"
    );
    assert!(text.contains("got 0 violations, want 3"), "{text}");

    let out = run(&["policy", "verify", "examples/demo-cluster"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no test suites"));
}

#[test]
fn admission_manifests_install_a_webhook_that_passes_our_own_checks() {
    let dir = temp_dir("manifests");
    std::fs::write(
        dir.join("ca.crt"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = run(&[
        "admission",
        "manifests",
        "--namespace",
        "guard",
        "--ca-bundle",
        dir.join("ca.crt").to_str().unwrap(),
        "--failure-policy",
        "Fail",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifests = dir.join("webhook.yaml");
    std::fs::write(&manifests, &out.stdout).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("caBundle: LS0tLS1CRUdJTi"),
        "caBundle is the base64 PEM"
    );
    assert!(text.contains("failurePolicy: Fail") && text.contains("sideEffects: None"));
    assert!(
        text.contains("values: [\"kube-system\", \"guard\"]"),
        "{text}"
    );

    let out = run(&[
        "scan",
        "k8s",
        manifests.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "high",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the install manifests have high findings: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report = json(&out);
    let kinds: Vec<&str> = report["summary"]["objects"]["by_kind"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        kinds,
        [
            "Deployment",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount",
            "ValidatingWebhookConfiguration"
        ]
    );
}
