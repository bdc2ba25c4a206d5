//! The node sensor in the Helm chart (`sensor.*` values), rendered by a real `helm` as
//! tests/helm_chart.rs does (scripts/test.sh names it in `PALISADE_TEST_HELM`): off by default, and
//! when on, the same DaemonSet as deploy/sensor/daemonset.yaml — hostPID, the host mounts, the four
//! capabilities and nothing more, tolerating every taint — with read-only RBAC.
//!
//! Without helm the tests fail under CI and explain themselves, and pass elsewhere.

#[path = "support/helm.rs"]
mod helm_support;

use std::path::Path;
use std::process::Output;

use helm_support::{chart_dir, helm, helm_command, objects, only, repo_root, run};
use serde_json::{Value, json};

const NAMESPACE: &str = "palisade-system";

fn template(helm: &Path, args: &[&str]) -> Output {
    helm_support::template(helm, NAMESPACE, args)
}

fn render(helm: &Path, args: &[&str]) -> Vec<Value> {
    objects(&helm_support::render_yaml(helm, NAMESPACE, args))
}

/// `(mountPath, hostPath, readOnly)` of every hostPath mount of the first container.
fn host_mounts(daemonset: &Value) -> Vec<(String, String, bool)> {
    let spec = &daemonset["spec"]["template"]["spec"];
    let volumes = spec["volumes"].as_array().unwrap();
    let mut mounts: Vec<(String, String, bool)> = spec["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|mount| {
            let volume = volumes.iter().find(|v| v["name"] == mount["name"])?;
            let host = volume["hostPath"]["path"].as_str()?;
            Some((
                mount["mountPath"].as_str().unwrap().to_string(),
                host.to_string(),
                mount["readOnly"] == true,
            ))
        })
        .collect();
    mounts.sort();
    mounts
}

#[test]
fn sensor_disabled_renders_nothing_of_it() {
    let Some(helm) = helm() else { return };
    let objects = render(&helm, &[]);
    assert!(
        objects.iter().all(|o| o["kind"] != "DaemonSet"),
        "a DaemonSet rendered with sensor.enabled=false"
    );
    let sensor_objects: Vec<&Value> = objects
        .iter()
        .filter(|o| {
            o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.contains("sensor"))
        })
        .collect();
    assert!(sensor_objects.is_empty(), "{sensor_objects:?}");
}

#[test]
fn sensor_enabled_renders_the_daemonset_with_host_pid_mounts_and_capabilities() {
    let Some(helm) = helm() else { return };
    let objects = render(&helm, &["--set", "sensor.enabled=true"]);
    let daemonset = only(&objects, "DaemonSet");
    assert_eq!(daemonset["metadata"]["name"], "palisade-sensor");
    assert_eq!(daemonset["metadata"]["namespace"], NAMESPACE);
    let pod = &daemonset["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"], true);
    assert_eq!(pod["hostNetwork"], false);
    assert_eq!(pod["priorityClassName"], "system-node-critical");
    assert_eq!(pod["tolerations"], json!([{"operator": "Exists"}]));
    assert_eq!(pod["serviceAccountName"], "palisade-sensor");

    let container = &pod["containers"][0];
    assert_eq!(
        container["args"],
        json!(["sensor", "run", "--config", "/etc/palisade/palisade.yaml"])
    );
    assert_eq!(
        container["image"], "ghcr.io/palisade-dev/palisade:0.1.0",
        "the chart's image and appVersion by default"
    );
    let security = &container["securityContext"];
    assert_eq!(security["privileged"], false);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(
        security["capabilities"]["add"],
        json!(["BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"])
    );
    assert_eq!(container["resources"]["limits"]["memory"], "200Mi");
    assert_eq!(
        container["livenessProbe"]["exec"]["command"],
        json!(["palisade", "sensor", "check"])
    );
    let env: Vec<&str> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(env, ["NODE_NAME", "NODE_IP"]);

    let mounts = host_mounts(daemonset);
    for expected in [
        ("/sys/kernel/tracing", "/sys/kernel/tracing"),
        ("/sys/kernel/debug", "/sys/kernel/debug"),
        ("/host/sys/fs/cgroup", "/sys/fs/cgroup"),
        ("/host/proc", "/proc"),
        ("/run/containerd", "/run/containerd"),
        ("/run/crio", "/run/crio"),
    ] {
        assert!(
            mounts
                .iter()
                .any(|(m, h, _)| (m.as_str(), h.as_str()) == expected),
            "missing mount {expected:?} in {mounts:?}"
        );
    }
    // Every host path is read-only: the sensor writes nothing on the node.
    assert!(mounts.iter().all(|(_, _, ro)| *ro), "{mounts:?}");

    let role = only(&objects, "ClusterRole");
    let resources: Vec<&str> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["resources"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(resources, ["pods", "nodes/pods"]);
    let verbs: Vec<&str> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["verbs"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert!(
        verbs.iter().all(|v| ["get", "list", "watch"].contains(v)),
        "{verbs:?}"
    );
    let binding = only(&objects, "ClusterRoleBinding");
    assert_eq!(
        binding["subjects"][0],
        json!({"kind": "ServiceAccount", "name": "palisade-sensor", "namespace": NAMESPACE})
    );
    assert!(
        objects
            .iter()
            .any(|o| o["kind"] == "ServiceAccount" && o["metadata"]["name"] == "palisade-sensor"),
        "no palisade-sensor ServiceAccount"
    );

    let config_map = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "palisade-sensor")
        .expect("the sensor's ConfigMap");
    let config = config_map["data"]["palisade.yaml"].as_str().unwrap();
    assert!(config.contains("namespaces: [kube-system]"), "{config}");
}

/// The chart and the plain manifests describe the same pod: same host mounts, capabilities and
/// tolerations, so neither drifts from the other.
#[test]
fn chart_matches_the_plain_manifests() {
    let Some(helm) = helm() else { return };
    let rendered = render(&helm, &["--set", "sensor.enabled=true"]);
    let text = std::fs::read_to_string(repo_root().join("deploy/sensor/daemonset.yaml")).unwrap();
    let manifests = objects(&text);
    let (chart, plain) = (only(&rendered, "DaemonSet"), only(&manifests, "DaemonSet"));
    assert_eq!(host_mounts(chart), host_mounts(plain));
    let pod = |d: &Value| d["spec"]["template"]["spec"].clone();
    for key in ["hostPID", "tolerations", "priorityClassName"] {
        assert_eq!(pod(chart)[key], pod(plain)[key], "{key}");
    }
    let container = |d: &Value| d["spec"]["template"]["spec"]["containers"][0].clone();
    for key in ["securityContext", "resources", "livenessProbe", "args"] {
        assert_eq!(container(chart)[key], container(plain)[key], "{key}");
    }
    assert_eq!(
        only(&rendered, "ClusterRole")["rules"],
        only(&manifests, "ClusterRole")["rules"]
    );
}

#[test]
fn values_set_image_node_selector_and_socket_dirs() {
    let Some(helm) = helm() else { return };
    let digest = format!("sha256:{}", "a".repeat(64));
    let objects = render(
        &helm,
        &[
            "--set",
            "sensor.enabled=true",
            "--set",
            "sensor.image.repository=registry.example.com/palisade",
            "--set",
            "sensor.image.tag=9.9.9",
            "--set",
            "sensor.nodeSelector.kubernetes\\.io/os=linux",
            "--set",
            "sensor.criSocketDirs={/run/k3s/containerd}",
            "--set",
            "sensor.tolerations=null",
        ],
    );
    let daemonset = only(&objects, "DaemonSet");
    let pod = &daemonset["spec"]["template"]["spec"];
    assert_eq!(
        pod["containers"][0]["image"],
        "registry.example.com/palisade:9.9.9"
    );
    assert_eq!(pod["nodeSelector"], json!({"kubernetes.io/os": "linux"}));
    assert!(pod["tolerations"].is_null(), "{}", pod["tolerations"]);
    let cri: Vec<String> = host_mounts(daemonset)
        .into_iter()
        .filter(|(m, _, _)| m.starts_with("/run/"))
        .map(|(m, _, _)| m)
        .collect();
    assert_eq!(cri, ["/run/k3s/containerd"]);

    let pinned = render(
        &helm,
        &[
            "--set",
            "sensor.enabled=true",
            "--set",
            &format!("image.digest={digest}"),
        ],
    );
    assert_eq!(
        only(&pinned, "DaemonSet")["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("ghcr.io/palisade-dev/palisade@{digest}").as_str()
    );
}

#[test]
fn lint_strict_with_the_sensor_on_and_schema_rejects_bad_sensor_values() {
    let Some(helm) = helm() else { return };
    let mut cmd = helm_command(&helm);
    cmd.args(["lint", "--strict"])
        .arg(chart_dir())
        .args(["--set", "sensor.enabled=true"]);
    let out = run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("0 chart(s) failed"),
        "helm lint --strict failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for (set, complaint) in [
        ("sensor.enabled=yes", "enabled"),
        ("sensor.criSocketDirs={run/containerd}", "criSocketDirs"),
        ("sensor.image.pullPolicy=Sometimes", "pullPolicy"),
        ("sensor.hostNetwork=true", "hostNetwork"),
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
