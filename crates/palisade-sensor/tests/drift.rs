//! The drift policy and sensor configuration as users meet them: the configurations shipped in
//! deploy/sensor/daemonset.yaml, the Helm chart's `sensor.config` and every `sensor:` example of
//! docs/sensor.md load, and a Defender-style policy decides as documented through the public API.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_core::{Node, SourceError};
use palisade_kube::yaml::{DocumentInfo, ObjectSink};
use palisade_sensor::config::SensorConfig;
use palisade_sensor::drift::{DriftAction, KernelDriftPolicy};
use palisade_sensor::model::{ContainerInfo, PodInfo, Runtime};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn container(namespace: &str, labels: &[(&str, &str)], name: &str, image: &str) -> ContainerInfo {
    ContainerInfo {
        id: "4f".repeat(32),
        runtime: Runtime::Containerd,
        cgroup_path: format!("/kubepods.slice/cri-containerd-{}.scope", "4f".repeat(32)),
        pod_uid: Some("0b6a7d2e".to_string()),
        name: Some(name.to_string()),
        image: Some(image.to_string()),
        image_digest: None,
        privileged: Some(false),
        pod: Some(PodInfo {
            uid: "0b6a7d2e".to_string(),
            namespace: namespace.to_string(),
            name: format!("{name}-0"),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }),
    }
}

/// A container the sensor knows only from its cgroup path (CRI, kubelet and API unavailable).
fn unattributed() -> ContainerInfo {
    ContainerInfo {
        id: "9e".repeat(32),
        runtime: Runtime::Containerd,
        cgroup_path: "/kubepods/besteffort/pod1/9e".to_string(),
        pod_uid: Some("1".to_string()),
        name: None,
        image: None,
        image_digest: None,
        privileged: None,
        pod: None,
    }
}

fn objects(yaml: &str) -> Vec<Node> {
    struct Collect(Vec<Node>, Vec<String>);
    impl ObjectSink for Collect {
        fn object(&mut self, object: Node, _: &DocumentInfo) {
            self.0.push(object);
        }
        fn error(&mut self, error: SourceError) {
            self.1.push(error.to_string());
        }
    }
    let mut sink = Collect(Vec::new(), Vec::new());
    palisade_kube::yaml::read_stream(yaml.as_bytes(), "manifests", &mut sink);
    assert!(sink.1.is_empty(), "{:?}", sink.1);
    sink.0
}

#[test]
fn shipped_daemonset_config_loads_and_exempts_kube_system() {
    let manifests = objects(&read("deploy/sensor/daemonset.yaml"));
    let config_map = manifests
        .iter()
        .find(|o| o.str_at("kind") == Some("ConfigMap"))
        .expect("a ConfigMap in deploy/sensor/daemonset.yaml");
    let text = config_map
        .at(&["data", "palisade.yaml"])
        .and_then(Node::as_str)
        .expect("data.palisade.yaml");
    let config = SensorConfig::from_yaml(text, "daemonset ConfigMap").unwrap();
    assert_eq!(config.attribution.proc_root, PathBuf::from("/host/proc"));
    // Every configured CRI socket sits in a directory the DaemonSet mounts.
    let daemonset = manifests
        .iter()
        .find(|o| o.str_at("kind") == Some("DaemonSet"))
        .expect("a DaemonSet");
    let mounts: Vec<&str> = daemonset
        .at(&["spec", "template", "spec", "containers"])
        .and_then(|c| c.items().first())
        .and_then(|c| c.get("volumeMounts"))
        .map(|m| {
            m.items()
                .iter()
                .filter_map(|m| m.str_at("mountPath"))
                .collect()
        })
        .unwrap_or_default();
    for socket in &config.attribution.cri_sockets {
        let dir = socket.parent().and_then(Path::to_str).unwrap_or("");
        assert!(
            mounts.contains(&dir),
            "{} not mounted: {mounts:?}",
            socket.display()
        );
    }

    let system = container(
        "kube-system",
        &[],
        "cilium-agent",
        "quay.io/cilium/cilium:v1.16",
    );
    let shop = container("shop", &[("app", "web")], "web", "nginx:1.27");
    let decision = config
        .drift
        .decide(None, &system, "/tmp/cni-plugin", "cni-plugin");
    assert_eq!(
        (decision.action, decision.rule.as_deref()),
        (DriftAction::Ignore, Some("kube-system"))
    );
    let decision = config.drift.decide(None, &shop, "/tmp/xmrig", "xmrig");
    assert_eq!(
        (decision.action, decision.rule.as_deref()),
        (DriftAction::Alert, Some("all-workloads"))
    );
}

#[test]
fn helm_default_sensor_config_loads() {
    let values = palisade_kube::yaml::read_document(
        read("deploy/helm/palisade/values.yaml").as_bytes(),
        "values.yaml",
    )
    .unwrap()
    .expect("values.yaml is not empty");
    let text = values
        .at(&["sensor", "config"])
        .and_then(Node::as_str)
        .expect("sensor.config in values.yaml");
    let config = SensorConfig::from_yaml(text, "values.yaml sensor.config").unwrap();
    assert_eq!(
        config.drift.rules.first().map(|r| r.name.as_str()),
        Some("kube-system")
    );
}

#[test]
fn every_sensor_example_in_the_docs_loads() {
    let docs = read("docs/sensor.md");
    let mut examples = 0;
    let mut rest = docs.as_str();
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + 8..];
        let Some(end) = body.find("```") else { break };
        let block = &body[..end];
        rest = &body[end + 3..];
        if !block.starts_with("sensor:") {
            continue;
        }
        examples += 1;
        if let Err(error) = SensorConfig::from_yaml(block, "docs/sensor.md") {
            panic!("docs/sensor.md example does not load: {error}\n{block}");
        }
    }
    assert!(examples >= 3, "only {examples} `sensor:` examples found");
}

/// A policy like the one docs/sensor.md suggests for production, decided for several workloads.
#[test]
fn defender_style_policy_decides_in_order() {
    let config = SensorConfig::from_yaml(
        r#"
sensor:
  clusterName: prod-eu
  drift:
    rules:
      - name: system
        namespaces: [kube-system, "*-system"]
        action: ignore
      - name: build-agents
        podLabels:
          matchExpressions: [{key: role, operator: In, values: [ci-runner]}]
        action: alert
      - name: payments
        clusters: ["prod-*"]
        namespaces: [payments]
        images: ["registry.example.com/payments/*"]
        containers: [api]
        action: block
        allowedProcesses: [/app/bin/migrate, healthcheck]
      - name: everything-else
        action: alert
"#,
        "policy.yaml",
    )
    .unwrap();
    let cluster = config.cluster_name.as_deref();
    let payments = container(
        "payments",
        &[("app", "api")],
        "api",
        "registry.example.com/payments/api:4.2",
    );
    let policy = &config.drift;

    let kill = policy.decide(cluster, &payments, "/tmp/.x/kworker", "kworker");
    assert_eq!(kill.action, DriftAction::Block);
    assert_eq!(kill.rule.as_deref(), Some("payments"));

    let migrate = policy.decide(cluster, &payments, "/app/bin/migrate", "migrate");
    assert_eq!(migrate.action, DriftAction::Ignore);
    assert_eq!(migrate.allowed_by.as_deref(), Some("/app/bin/migrate"));

    assert_eq!(
        policy.kernel_policy(cluster, &payments),
        KernelDriftPolicy {
            block: true,
            allowed_exe_paths: vec!["/app/bin/migrate".to_string()],
            allowed_names: vec!["healthcheck".to_string()],
            rule: Some("payments".to_string()),
        }
    );

    // The same pod in a staging cluster falls through to the catch-all.
    let staging = policy.decide(Some("staging"), &payments, "/tmp/x", "x");
    assert_eq!(staging.rule.as_deref(), Some("everything-else"));

    // A sidecar of the payments pod is not `api`: alert only.
    let sidecar = container(
        "payments",
        &[("app", "api")],
        "envoy",
        "registry.example.com/payments/envoy:1",
    );
    assert_eq!(
        policy.decide(cluster, &sidecar, "/tmp/x", "x").action,
        DriftAction::Alert
    );

    let runner = container("ci", &[("role", "ci-runner")], "runner", "gitlab-runner");
    assert_eq!(
        policy
            .decide(cluster, &runner, "/builds/a.out", "a.out")
            .rule
            .as_deref(),
        Some("build-agents")
    );
    let operator = container("cert-manager-system", &[], "controller", "jetstack/cm");
    assert_eq!(
        policy.decide(cluster, &operator, "/tmp/x", "x").action,
        DriftAction::Ignore
    );

    // Without pod metadata nothing namespace- or label-scoped matches; the catch-all alerts.
    let unknown = policy.decide(cluster, &unattributed(), "/tmp/x", "x");
    assert_eq!(unknown.rule.as_deref(), Some("everything-else"));
    assert_eq!(unknown.action, DriftAction::Alert);
    assert!(!policy.kernel_policy(cluster, &unattributed()).block);
}

#[test]
fn no_rules_means_ignore() {
    let config = SensorConfig::from_yaml("sensor:\n  nodeName: n1\n", "p.yaml").unwrap();
    let decision =
        config
            .drift
            .decide(None, &container("shop", &[], "web", "nginx"), "/tmp/x", "x");
    assert_eq!(decision.action, DriftAction::Ignore);
    assert_eq!(decision.rule, None);
    assert_eq!(
        config
            .drift
            .kernel_policy(None, &container("shop", &[], "web", "nginx")),
        KernelDriftPolicy::default()
    );
}
