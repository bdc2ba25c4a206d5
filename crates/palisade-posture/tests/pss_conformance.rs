//! Conformance of the Pod Security Standards checks with the pod-security admission plugin.
//!
//! For every pod of the table below, the PSS check IDs found at each level must equal the
//! plugin's verdict at that level (policy version `latest` of a v1.36 apiserver):
//!
//! - baseline: the findings of checks whose `pss` mapping is `baseline:<id>`;
//! - restricted: the findings of every PSS check, less the baseline checks a restricted check
//!   replaces (the plugin's `OverrideCheckIDs`, see [`OVERRIDES`]).
//!
//! Two sources:
//!
//! 1. the plugin's own fixtures, `staging/src/k8s.io/pod-security-admission/test/fixtures_*.go` in
//!    kubernetes/kubernetes (Apache-2.0, like this project), ported case by case: the same minimal
//!    valid pods, the same tweaks, and the verdict their `check_*.go` gives, which the plugin's
//!    tests assert only as an error substring and which is asserted here as the exact set of
//!    failing checks;
//! 2. verdicts recorded from a real kube-apiserver v1.36.2 (`fixtures/pss/recorded-verdicts.json`,
//!    see the README next to it).

use std::collections::BTreeSet;

use palisade_core::{Finding, Resource, SourceError};
use palisade_kube::manifests::{ResourceSink, read_from};
use palisade_posture::{Catalogue, Config, Session};
use serde_json::{Value, json};

/// `OverrideCheckIDs` of the plugin's restricted checks (`check_restrictedVolumes.go`,
/// `check_capabilities_restricted.go`, `check_seccompProfile_restricted.go`,
/// `check_procMount_restricted.go`): at the restricted level the baseline check on the right is not
/// evaluated, the restricted check on the left judges the same fields instead.
const OVERRIDES: &[(&str, &str)] = &[
    ("restrictedVolumes", "hostPathVolumes"),
    ("capabilities_restricted", "capabilities_baseline"),
    ("seccompProfile_restricted", "seccompProfile_baseline"),
    ("procMount_restricted", "procMount"),
];

/// What the minimal baseline pod of `fixtures.go` itself violates at the restricted level.
const BASELINE_POD_AT_RESTRICTED: &[&str] = &[
    "allowPrivilegeEscalation",
    "capabilities_restricted",
    "runAsNonRoot",
    "seccompProfile_restricted",
];

struct Collect(Vec<Resource>);

impl ResourceSink for Collect {
    fn resource(&mut self, resource: Resource) {
        self.0.push(resource);
    }
    fn error(&mut self, error: SourceError) {
        panic!("fixture does not parse: {error}");
    }
}

/// The PSS check IDs failing at each level, as the plugin would report them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Verdict {
    baseline: BTreeSet<String>,
    restricted: BTreeSet<String>,
}

impl Verdict {
    fn at(&self, level: &str) -> &BTreeSet<String> {
        match level {
            "baseline" => &self.baseline,
            "restricted" => &self.restricted,
            other => panic!("no such level {other}"),
        }
    }
}

/// Every finding for the objects of a manifest, through the public API only.
fn assess(manifest: &str) -> Vec<Finding> {
    let mut sink = Collect(Vec::new());
    read_from(manifest.as_bytes(), "fixture.yaml", &mut sink);
    assert!(!sink.0.is_empty(), "the fixture holds no object");
    let catalogue = Catalogue::builtin();
    let config = Config::default();
    let mut session = Session::new(&catalogue, &config);
    for resource in &sink.0 {
        session.assess(resource);
    }
    session.finish().findings
}

fn verdict(findings: &[Finding]) -> Verdict {
    let mut verdict = Verdict::default();
    for finding in findings {
        for mapping in &finding.check.frameworks.pss {
            let (level, id) = mapping
                .split_once(':')
                .unwrap_or_else(|| panic!("malformed pss mapping {mapping}"));
            assert_eq!(id, finding.check.id, "pss mapping names another check");
            if level == "baseline" {
                verdict.baseline.insert(id.to_string());
            }
            verdict.restricted.insert(id.to_string());
        }
    }
    for (restricted, baseline) in OVERRIDES {
        assert!(
            Catalogue::builtin().get(restricted).is_some(),
            "{restricted} is not in the catalogue"
        );
        verdict.restricted.remove(*baseline);
    }
    verdict
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// The plugin's fixtures.
// ---------------------------------------------------------------------------------------------

/// Which minimal valid pod of `fixtures.go` a case tweaks.
#[derive(Debug, Clone, Copy)]
enum Base {
    /// `baseline_1_0`: one init container and one container, nothing else.
    Baseline,
    /// `restricted_1_22`, the newest: runAsNonRoot and a RuntimeDefault seccomp profile at pod
    /// level, allowPrivilegeEscalation=false and capabilities.drop=["ALL"] on both containers.
    Restricted,
}

fn minimal_pod(base: Base) -> Value {
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "fixture"},
        "spec": {
            "initContainers": [{"name": "initcontainer1", "image": "registry.k8s.io/pause"}],
            "containers": [{"name": "container1", "image": "registry.k8s.io/pause"}]
        }
    });
    if let Base::Restricted = base {
        pod["spec"]["securityContext"] = json!({
            "runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"}
        });
        for list in ["initContainers", "containers"] {
            pod["spec"][list][0]["securityContext"] = json!({
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]}
            });
        }
    }
    pod
}

struct Case {
    /// The plugin file the case is ported from (under `pod-security-admission/test/` for
    /// fixtures, `policy/` for a check's own documented behaviour).
    source: &'static str,
    what: &'static str,
    bases: &'static [Base],
    tweak: fn(&mut Value),
    /// The plugin's verdict at baseline.
    baseline: &'static [&'static str],
    /// The plugin's verdict at restricted, for the restricted base; on the baseline base the
    /// pod's own restricted violations ([`BASELINE_POD_AT_RESTRICTED`]) come on top, less those
    /// the tweak `relieves`.
    restricted: &'static [&'static str],
    relieves: &'static [&'static str],
}

const BOTH: &[Base] = &[Base::Baseline, Base::Restricted];
const RESTRICTED_BASE: &[Base] = &[Base::Restricted];
const BASELINE_BASE: &[Base] = &[Base::Baseline];

fn container(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["containers"][0]
}

fn init_container(pod: &mut Value) -> &mut Value {
    &mut pod["spec"]["initContainers"][0]
}

fn unset(object: &mut Value, key: &str) {
    if let Some(map) = object.as_object_mut() {
        map.remove(key);
    }
}

fn volumes(pod: &mut Value, volumes: Value) {
    pod["spec"]["volumes"] = volumes;
}

const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn plugin_cases() -> Vec<Case> {
    vec![
        // The minimal pods themselves (fixtures.go).
        Case {
            source: "fixtures.go",
            what: "minimal valid pod",
            bases: BOTH,
            tweak: |_| {},
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        // fixtures_privileged.go
        Case {
            source: "fixtures_privileged.go",
            what: "privileged explicitly set to false",
            bases: BOTH,
            tweak: |p| {
                container(p)["securityContext"]["privileged"] = json!(false);
                init_container(p)["securityContext"]["privileged"] = json!(false);
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_privileged.go",
            what: "privileged set to true in container",
            bases: BOTH,
            tweak: |p| {
                container(p)["securityContext"]["privileged"] = json!(true);
                unset(
                    &mut container(p)["securityContext"],
                    "allowPrivilegeEscalation",
                );
            },
            baseline: &["privileged"],
            restricted: &["privileged", "allowPrivilegeEscalation"],
            relieves: &[],
        },
        Case {
            source: "fixtures_privileged.go",
            what: "privileged set to true in init container",
            bases: BOTH,
            tweak: |p| {
                init_container(p)["securityContext"]["privileged"] = json!(true);
                unset(
                    &mut init_container(p)["securityContext"],
                    "allowPrivilegeEscalation",
                );
            },
            baseline: &["privileged"],
            restricted: &["privileged", "allowPrivilegeEscalation"],
            relieves: &[],
        },
        // fixtures_hostNamespaces.go
        Case {
            source: "fixtures_hostNamespaces.go",
            what: "hostIPC",
            bases: BOTH,
            tweak: |p| p["spec"]["hostIPC"] = json!(true),
            baseline: &["hostNamespaces"],
            restricted: &["hostNamespaces"],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostNamespaces.go",
            what: "hostNetwork",
            bases: BOTH,
            tweak: |p| p["spec"]["hostNetwork"] = json!(true),
            baseline: &["hostNamespaces"],
            restricted: &["hostNamespaces"],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostNamespaces.go",
            what: "hostPID",
            bases: BOTH,
            tweak: |p| p["spec"]["hostPID"] = json!(true),
            baseline: &["hostNamespaces"],
            restricted: &["hostNamespaces"],
            relieves: &[],
        },
        // fixtures_hostPathVolumes.go
        Case {
            source: "fixtures_hostPathVolumes.go",
            what: "mix of hostPath and non-hostPath volumes",
            bases: BOTH,
            tweak: |p| {
                volumes(
                    p,
                    json!([
                        {"name": "volume-emptydir", "emptyDir": {}},
                        {"name": "volume-hostpath", "hostPath": {"path": "/a"}}
                    ]),
                )
            },
            baseline: &["hostPathVolumes"],
            restricted: &["restrictedVolumes"],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostPathVolumes.go",
            what: "just hostPath volumes",
            bases: BOTH,
            tweak: |p| {
                volumes(
                    p,
                    json!([
                        {"name": "volume-hostpath-a", "hostPath": {"path": "/a"}},
                        {"name": "volume-hostpath-b", "hostPath": {"path": "/b"}}
                    ]),
                )
            },
            baseline: &["hostPathVolumes"],
            restricted: &["restrictedVolumes"],
            relieves: &[],
        },
        // fixtures_hostPorts.go
        Case {
            source: "fixtures_hostPorts.go",
            what: "no host ports",
            bases: BOTH,
            tweak: |p| {
                container(p)["ports"] = json!([{"containerPort": 12345}]);
                init_container(p)["ports"] = json!([{"containerPort": 12346}]);
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostPorts.go",
            what: "host port present",
            bases: BOTH,
            tweak: |p| container(p)["ports"] = json!([{"containerPort": 12345, "hostPort": 12345}]),
            baseline: &["hostPorts"],
            restricted: &["hostPorts"],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostPorts.go",
            what: "host port on the init container",
            bases: BOTH,
            tweak: |p| {
                init_container(p)["ports"] = json!([{"containerPort": 12346, "hostPort": 12346}])
            },
            baseline: &["hostPorts"],
            restricted: &["hostPorts"],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostPorts.go",
            what: "mix of hostPorts and regular ports",
            bases: BOTH,
            tweak: |p| {
                container(p)["ports"] = json!([
                    {"containerPort": 12345, "hostPort": 12345},
                    {"containerPort": 12347}
                ]);
                init_container(p)["ports"] = json!([
                    {"containerPort": 12346, "hostPort": 12346},
                    {"containerPort": 12348}
                ]);
            },
            baseline: &["hostPorts"],
            restricted: &["hostPorts"],
            relieves: &[],
        },
        // fixtures_capabilities_baseline.go (pass cases only on the baseline pod: the generator
        // returns none when the minimal pod drops ALL).
        Case {
            source: "fixtures_capabilities_baseline.go",
            what: "all allowed capabilities",
            bases: BASELINE_BASE,
            tweak: |p| {
                container(p)["securityContext"]["capabilities"]["add"] =
                    json!(DEFAULT_CAPABILITIES);
                init_container(p)["securityContext"]["capabilities"]["add"] =
                    json!(DEFAULT_CAPABILITIES);
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_baseline.go",
            what: "NET_RAW",
            bases: BOTH,
            tweak: |p| container(p)["securityContext"]["capabilities"]["add"] = json!(["NET_RAW"]),
            baseline: &["capabilities_baseline"],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_baseline.go",
            what: "init container is enforced",
            bases: BOTH,
            tweak: |p| {
                init_container(p)["securityContext"]["capabilities"]["add"] = json!(["NET_RAW"])
            },
            baseline: &["capabilities_baseline"],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_baseline.go",
            what: "case difference",
            bases: BOTH,
            tweak: |p| container(p)["securityContext"]["capabilities"]["add"] = json!(["chown"]),
            baseline: &["capabilities_baseline"],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_baseline.go",
            what: "CAP_ prefix",
            bases: BOTH,
            tweak: |p| {
                container(p)["securityContext"]["capabilities"]["add"] = json!(["CAP_CHOWN"])
            },
            baseline: &["capabilities_baseline"],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        // fixtures_appArmorProfile.go
        Case {
            source: "fixtures_appArmorProfile.go",
            what: "runtime/default and localhost/foo annotations",
            bases: BOTH,
            tweak: |p| {
                p["metadata"]["annotations"] = json!({
                    "container.apparmor.security.beta.kubernetes.io/container1": "runtime/default",
                    "container.apparmor.security.beta.kubernetes.io/initcontainer1": "localhost/foo"
                })
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_appArmorProfile.go",
            what: "container with unconfined annotation",
            bases: BOTH,
            tweak: |p| {
                p["metadata"]["annotations"] = json!({
                    "container.apparmor.security.beta.kubernetes.io/container1": "unconfined"
                })
            },
            baseline: &["appArmorProfile"],
            restricted: &["appArmorProfile"],
            relieves: &[],
        },
        Case {
            source: "fixtures_appArmorProfile.go",
            what: "init container with unconfined annotation",
            bases: BOTH,
            tweak: |p| {
                p["metadata"]["annotations"] = json!({
                    "container.apparmor.security.beta.kubernetes.io/initcontainer1": "unconfined"
                })
            },
            baseline: &["appArmorProfile"],
            restricted: &["appArmorProfile"],
            relieves: &[],
        },
        Case {
            source: "../policy/check_appArmorProfile.go",
            what: "RuntimeDefault and Localhost profile fields",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["appArmorProfile"] = json!({"type": "RuntimeDefault"});
                container(p)["securityContext"]["appArmorProfile"] =
                    json!({"type": "Localhost", "localhostProfile": "foo"});
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "../policy/check_appArmorProfile.go",
            what: "Unconfined profile field on the pod",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["appArmorProfile"] = json!({"type": "Unconfined"})
            },
            baseline: &["appArmorProfile"],
            restricted: &["appArmorProfile"],
            relieves: &[],
        },
        Case {
            source: "../policy/check_appArmorProfile.go",
            what: "Unconfined profile field on the init container",
            bases: BOTH,
            tweak: |p| {
                init_container(p)["securityContext"]["appArmorProfile"] =
                    json!({"type": "Unconfined"})
            },
            baseline: &["appArmorProfile"],
            restricted: &["appArmorProfile"],
            relieves: &[],
        },
        // fixtures_seLinuxOptions.go (ensureSELinuxOptions gives the pod and both containers an
        // empty seLinuxOptions first).
        Case {
            source: "fixtures_seLinuxOptions.go",
            what: "no pod-level, no container-level, empty init-container-level",
            bases: BOTH,
            tweak: |p| init_container(p)["securityContext"]["seLinuxOptions"] = json!({}),
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_seLinuxOptions.go",
            what: "all valid types, empty and arbitrary level",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["seLinuxOptions"] =
                    json!({"type": "container_t", "level": ""});
                container(p)["securityContext"]["seLinuxOptions"] =
                    json!({"type": "container_init_t", "level": "somevalue"});
                init_container(p)["securityContext"]["seLinuxOptions"] =
                    json!({"type": "container_kvm_t"});
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "../policy/check_seLinuxOptions.go",
            what: "container_engine_t (policy 1.31)",
            bases: BOTH,
            tweak: |p| {
                container(p)["securityContext"]["seLinuxOptions"] =
                    json!({"type": "container_engine_t"})
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_seLinuxOptions.go",
            what: "out of bounds type, pod level",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["seLinuxOptions"] = json!({"type": "somevalue"})
            },
            baseline: &["seLinuxOptions"],
            restricted: &["seLinuxOptions"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seLinuxOptions.go",
            what: "out of bounds type, container",
            bases: BOTH,
            tweak: |p| {
                container(p)["securityContext"]["seLinuxOptions"] = json!({"type": "somevalue"})
            },
            baseline: &["seLinuxOptions"],
            restricted: &["seLinuxOptions"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seLinuxOptions.go",
            what: "out of bounds type, init container",
            bases: BOTH,
            tweak: |p| {
                init_container(p)["securityContext"]["seLinuxOptions"] =
                    json!({"type": "somevalue"})
            },
            baseline: &["seLinuxOptions"],
            restricted: &["seLinuxOptions"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seLinuxOptions.go",
            what: "out of bounds user",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["seLinuxOptions"] = json!({"user": "somevalue"})
            },
            baseline: &["seLinuxOptions"],
            restricted: &["seLinuxOptions"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seLinuxOptions.go",
            what: "out of bounds role",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["seLinuxOptions"] = json!({"role": "somevalue"})
            },
            baseline: &["seLinuxOptions"],
            restricted: &["seLinuxOptions"],
            relieves: &[],
        },
        // fixtures_procMount.go, policy 1.35 (user-namespace cases only on the restricted pod:
        // hostUsers=false also lifts runAsNonRoot, which the baseline pod fails).
        Case {
            source: "fixtures_procMount.go",
            what: "Default procMount in a user namespace",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["hostUsers"] = json!(false);
                container(p)["securityContext"]["procMount"] = json!("Default");
                init_container(p)["securityContext"]["procMount"] = json!("Default");
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_procMount.go",
            what: "Unmasked procMount in a user namespace passes baseline only",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["hostUsers"] = json!(false);
                container(p)["securityContext"]["procMount"] = json!("Unmasked");
                init_container(p)["securityContext"]["procMount"] = json!("Unmasked");
            },
            baseline: &[],
            restricted: &["procMount_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_procMount.go",
            what: "Unmasked procMount on the container with hostUsers=true",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["hostUsers"] = json!(true);
                container(p)["securityContext"]["procMount"] = json!("Unmasked");
            },
            baseline: &["procMount"],
            restricted: &["procMount_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_procMount.go",
            what: "Unmasked procMount on the init container with hostUsers=true",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["hostUsers"] = json!(true);
                init_container(p)["securityContext"]["procMount"] = json!("Unmasked");
            },
            baseline: &["procMount"],
            restricted: &["procMount_restricted"],
            relieves: &[],
        },
        // fixtures_seccompProfile_baseline.go, policy 1.19 (pass case only on the baseline pod:
        // the generator returns none when the minimal pod already sets RuntimeDefault).
        Case {
            source: "fixtures_seccompProfile_baseline.go",
            what: "pod-level and container-level RuntimeDefault, init container unset",
            bases: BASELINE_BASE,
            tweak: |p| {
                p["spec"]["securityContext"]["seccompProfile"] = json!({"type": "RuntimeDefault"});
                container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "RuntimeDefault"});
            },
            baseline: &[],
            restricted: &[],
            // Both containers are covered by the pod-level profile now.
            relieves: &["seccompProfile_restricted"],
        },
        Case {
            source: "fixtures_seccompProfile_baseline.go",
            what: "pod-level Unconfined",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"})
            },
            baseline: &["seccompProfile_baseline"],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_baseline.go",
            what: "container-level Unconfined",
            bases: BOTH,
            tweak: |p| {
                container(p)["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"})
            },
            baseline: &["seccompProfile_baseline"],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_baseline.go",
            what: "init-container-level Unconfined",
            bases: BOTH,
            tweak: |p| {
                init_container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "Unconfined"})
            },
            baseline: &["seccompProfile_baseline"],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        // fixtures_sysctls.go, with the policy 1.32 additions of check_sysctls.go.
        Case {
            source: "fixtures_sysctls.go",
            what: "every safe sysctl",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["sysctls"] = json!([
                    {"name": "kernel.shm_rmid_forced", "value": "0"},
                    {"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"},
                    {"name": "net.ipv4.tcp_syncookies", "value": "0"},
                    {"name": "net.ipv4.ping_group_range", "value": "1 0"},
                    {"name": "net.ipv4.ip_unprivileged_port_start", "value": "1024"},
                    {"name": "net.ipv4.ip_local_reserved_ports", "value": "1024-4999"},
                    {"name": "net.ipv4.tcp_keepalive_time", "value": "7200"},
                    {"name": "net.ipv4.tcp_fin_timeout", "value": "60"},
                    {"name": "net.ipv4.tcp_keepalive_intvl", "value": "75"},
                    {"name": "net.ipv4.tcp_keepalive_probes", "value": "9"},
                    {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 16777216"},
                    {"name": "net.ipv4.tcp_wmem", "value": "4096 65536 16777216"}
                ])
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_sysctls.go",
            what: "sysctl outside the allowed names",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["securityContext"]["sysctls"] =
                    json!([{"name": "othersysctl", "value": "other"}])
            },
            baseline: &["sysctls"],
            restricted: &["sysctls"],
            relieves: &[],
        },
        // fixtures_windowsHostProcess.go (hostNetwork is required by the API for HostProcess
        // pods, so these pods also fail hostNamespaces).
        Case {
            source: "fixtures_windowsHostProcess.go",
            what: "hostProcess true for the pod",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["hostNetwork"] = json!(true);
                p["spec"]["securityContext"]["windowsOptions"]["hostProcess"] = json!(true);
            },
            baseline: &["windowsHostProcess", "hostNamespaces"],
            restricted: &["windowsHostProcess", "hostNamespaces"],
            relieves: &[],
        },
        Case {
            source: "fixtures_windowsHostProcess.go",
            what: "hostProcess true for the containers",
            bases: BOTH,
            tweak: |p| {
                p["spec"]["hostNetwork"] = json!(true);
                container(p)["securityContext"]["windowsOptions"]["hostProcess"] = json!(true);
                init_container(p)["securityContext"]["windowsOptions"]["hostProcess"] = json!(true);
            },
            baseline: &["windowsHostProcess", "hostNamespaces"],
            restricted: &["windowsHostProcess", "hostNamespaces"],
            relieves: &[],
        },
        // fixtures_hostProbesAndHostLifecycle.go, policy 1.34.
        Case {
            source: "fixtures_hostProbesAndHostLifecycle.go",
            what: "probes without a host",
            bases: BOTH,
            tweak: |p| {
                container(p)["livenessProbe"] = json!({"httpGet": {"port": 8080}});
                container(p)["readinessProbe"] = json!({"tcpSocket": {"port": 8080}});
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostProbesAndHostLifecycle.go",
            what: "liveness probe with a host",
            bases: BOTH,
            tweak: |p| {
                container(p)["livenessProbe"] =
                    json!({"httpGet": {"host": "bad.host", "port": 8080}})
            },
            baseline: &["hostProbesAndHostLifecycle"],
            restricted: &["hostProbesAndHostLifecycle"],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostProbesAndHostLifecycle.go",
            what: "init container readiness probe with a host",
            bases: BOTH,
            tweak: |p| {
                init_container(p)["readinessProbe"] =
                    json!({"tcpSocket": {"host": "8.8.8.8", "port": 8080}})
            },
            baseline: &["hostProbesAndHostLifecycle"],
            restricted: &["hostProbesAndHostLifecycle"],
            relieves: &[],
        },
        Case {
            source: "fixtures_hostProbesAndHostLifecycle.go",
            what: "postStart hook with a host",
            bases: BOTH,
            tweak: |p| {
                container(p)["lifecycle"] =
                    json!({"postStart": {"httpGet": {"host": "bad.host", "port": 8080}}})
            },
            baseline: &["hostProbesAndHostLifecycle"],
            restricted: &["hostProbesAndHostLifecycle"],
            relieves: &[],
        },
        // fixtures_restrictedVolumes.go, with the csi, ephemeral and image sources
        // check_restrictedVolumes.go allows.
        Case {
            source: "fixtures_restrictedVolumes.go",
            what: "all allowed volume types",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                volumes(
                    p,
                    json!([
                        {"name": "volume0"},
                        {"name": "volume1", "emptyDir": {}},
                        {"name": "volume2", "secret": {"secretName": "test"}},
                        {"name": "volume3", "persistentVolumeClaim": {"claimName": "test"}},
                        {"name": "volume4", "downwardAPI": {"items": [
                            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}
                        ]}},
                        {"name": "volume5", "configMap": {"name": "test"}},
                        {"name": "volume6", "projected": {"sources": []}},
                        {"name": "volume7", "csi": {"driver": "inline.storage.kubernetes.io"}},
                        {"name": "volume8", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                        {"name": "volume9", "image": {"reference": "registry.k8s.io/pause"}}
                    ]),
                )
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_restrictedVolumes.go",
            what: "hostPath volume",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                volumes(
                    p,
                    json!([{"name": "volume1", "hostPath": {"path": "/dev/null"}}]),
                )
            },
            baseline: &["hostPathVolumes"],
            restricted: &["restrictedVolumes"],
            relieves: &[],
        },
    ]
}

/// One restricted-volumes failure per volume type of `fixtures_restrictedVolumes.go`.
fn restricted_volume_cases() -> Vec<(&'static str, Value)> {
    vec![
        ("gcePersistentDisk", json!({"pdName": "test"})),
        ("awsElasticBlockStore", json!({"volumeID": "test"})),
        (
            "gitRepo",
            json!({"repository": "github.com/kubernetes/kubernetes"}),
        ),
        ("nfs", json!({"server": "test", "path": "/test"})),
        (
            "iscsi",
            json!({"targetPortal": "test", "iqn": "iqn.2001-04.com.example:storage.kube.sys1.xyz", "lun": 0}),
        ),
        ("glusterfs", json!({"path": "test", "endpoints": "test"})),
        ("rbd", json!({"monitors": ["test"], "image": "test"})),
        ("flexVolume", json!({"driver": "test"})),
        ("cinder", json!({"volumeID": "test"})),
        ("cephfs", json!({"monitors": ["test"]})),
        ("flocker", json!({"datasetName": "test"})),
        ("fc", json!({"wwids": ["test"]})),
        (
            "azureFile",
            json!({"secretName": "test", "shareName": "test"}),
        ),
        ("vsphereVolume", json!({"volumePath": "test"})),
        (
            "quobyte",
            json!({"registry": "localhost:1234", "volume": "test"}),
        ),
        (
            "azureDisk",
            json!({"diskName": "test", "diskURI": "https://test.blob.core.windows.net/test/test.vhd"}),
        ),
        (
            "portworxVolume",
            json!({"volumeID": "test", "fsType": "ext4"}),
        ),
        (
            "scaleIO",
            json!({"volumeName": "test", "gateway": "localhost", "system": "test"}),
        ),
        ("storageos", json!({"volumeName": "test"})),
    ]
}

fn restricted_check_cases() -> Vec<Case> {
    vec![
        // fixtures_allowPrivilegeEscalation.go
        Case {
            source: "fixtures_allowPrivilegeEscalation.go",
            what: "explicit true",
            bases: RESTRICTED_BASE,
            tweak: |p| container(p)["securityContext"]["allowPrivilegeEscalation"] = json!(true),
            baseline: &[],
            restricted: &["allowPrivilegeEscalation"],
            relieves: &[],
        },
        Case {
            source: "fixtures_allowPrivilegeEscalation.go",
            what: "init containers are checked",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                init_container(p)["securityContext"]["allowPrivilegeEscalation"] = json!(true)
            },
            baseline: &[],
            restricted: &["allowPrivilegeEscalation"],
            relieves: &[],
        },
        Case {
            source: "fixtures_allowPrivilegeEscalation.go",
            what: "nil allowPrivilegeEscalation",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                unset(
                    &mut container(p)["securityContext"],
                    "allowPrivilegeEscalation",
                )
            },
            baseline: &[],
            restricted: &["allowPrivilegeEscalation"],
            relieves: &[],
        },
        Case {
            source: "fixtures_allowPrivilegeEscalation.go",
            what: "nil security context (which drops the capabilities too)",
            bases: RESTRICTED_BASE,
            tweak: |p| unset(container(p), "securityContext"),
            baseline: &[],
            restricted: &["allowPrivilegeEscalation", "capabilities_restricted"],
            relieves: &[],
        },
        // fixtures_runAsNonRoot.go
        Case {
            source: "fixtures_runAsNonRoot.go",
            what: "set at pod level",
            bases: RESTRICTED_BASE,
            tweak: |p| p["spec"]["securityContext"]["runAsNonRoot"] = json!(true),
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsNonRoot.go",
            what: "set on all containers",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                unset(&mut p["spec"]["securityContext"], "runAsNonRoot");
                container(p)["securityContext"]["runAsNonRoot"] = json!(true);
                init_container(p)["securityContext"]["runAsNonRoot"] = json!(true);
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsNonRoot.go",
            what: "unset everywhere",
            bases: RESTRICTED_BASE,
            tweak: |p| unset(&mut p["spec"]["securityContext"], "runAsNonRoot"),
            baseline: &[],
            restricted: &["runAsNonRoot"],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsNonRoot.go",
            what: "explicit false on pod",
            bases: RESTRICTED_BASE,
            tweak: |p| p["spec"]["securityContext"]["runAsNonRoot"] = json!(false),
            baseline: &[],
            restricted: &["runAsNonRoot"],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsNonRoot.go",
            what: "explicit false on container",
            bases: RESTRICTED_BASE,
            tweak: |p| container(p)["securityContext"]["runAsNonRoot"] = json!(false),
            baseline: &[],
            restricted: &["runAsNonRoot"],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsNonRoot.go",
            what: "explicit false on init container",
            bases: RESTRICTED_BASE,
            tweak: |p| init_container(p)["securityContext"]["runAsNonRoot"] = json!(false),
            baseline: &[],
            restricted: &["runAsNonRoot"],
            relieves: &[],
        },
        Case {
            source: "../policy/check_runAsNonRoot.go",
            what: "unset everywhere in a user namespace (policy 1.35)",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["hostUsers"] = json!(false);
                unset(&mut p["spec"]["securityContext"], "runAsNonRoot");
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        // fixtures_runAsUser.go
        Case {
            source: "fixtures_runAsUser.go",
            what: "non-zero everywhere",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["securityContext"]["runAsUser"] = json!(1000);
                container(p)["securityContext"]["runAsUser"] = json!(1000);
                init_container(p)["securityContext"]["runAsUser"] = json!(1000);
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsUser.go",
            what: "explicit 0 on pod",
            bases: RESTRICTED_BASE,
            tweak: |p| p["spec"]["securityContext"]["runAsUser"] = json!(0),
            baseline: &[],
            restricted: &["runAsUser"],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsUser.go",
            what: "explicit 0 on container",
            bases: RESTRICTED_BASE,
            tweak: |p| container(p)["securityContext"]["runAsUser"] = json!(0),
            baseline: &[],
            restricted: &["runAsUser"],
            relieves: &[],
        },
        Case {
            source: "fixtures_runAsUser.go",
            what: "explicit 0 on init container",
            bases: RESTRICTED_BASE,
            tweak: |p| init_container(p)["securityContext"]["runAsUser"] = json!(0),
            baseline: &[],
            restricted: &["runAsUser"],
            relieves: &[],
        },
        Case {
            source: "../policy/check_runAsUser.go",
            what: "explicit 0 in a user namespace (policy 1.35)",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["hostUsers"] = json!(false);
                p["spec"]["securityContext"]["runAsUser"] = json!(0);
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        // fixtures_seccompProfile_restricted.go
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "pod-level RuntimeDefault",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["securityContext"]["seccompProfile"] = json!({"type": "RuntimeDefault"})
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "pod-level Localhost",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["securityContext"]["seccompProfile"] =
                    json!({"type": "Localhost", "localhostProfile": "testing"})
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "set on every container instead of the pod",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                unset(&mut p["spec"]["securityContext"], "seccompProfile");
                container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "RuntimeDefault"});
                init_container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "Localhost", "localhostProfile": "testing"});
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "unset everywhere",
            bases: RESTRICTED_BASE,
            tweak: |p| unset(&mut p["spec"]["securityContext"], "seccompProfile"),
            baseline: &[],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "unconfined, pod level",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"})
            },
            baseline: &["seccompProfile_baseline"],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "unset init container",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                unset(&mut p["spec"]["securityContext"], "seccompProfile");
                container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "RuntimeDefault"});
            },
            baseline: &[],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "unset container",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                unset(&mut p["spec"]["securityContext"], "seccompProfile");
                init_container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "RuntimeDefault"});
            },
            baseline: &[],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_seccompProfile_restricted.go",
            what: "unconfined, container level",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                unset(&mut p["spec"]["securityContext"], "seccompProfile");
                container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "RuntimeDefault"});
                init_container(p)["securityContext"]["seccompProfile"] =
                    json!({"type": "Unconfined"});
            },
            baseline: &["seccompProfile_baseline"],
            restricted: &["seccompProfile_restricted"],
            relieves: &[],
        },
        // fixtures_capabilities_restricted.go
        Case {
            source: "fixtures_capabilities_restricted.go",
            what: "drop ALL and add NET_BIND_SERVICE",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                let capabilities = json!({"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]});
                container(p)["securityContext"]["capabilities"] = capabilities.clone();
                init_container(p)["securityContext"]["capabilities"] = capabilities;
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_restricted.go",
            what: "container drops nothing",
            bases: RESTRICTED_BASE,
            tweak: |p| container(p)["securityContext"]["capabilities"]["drop"] = json!([]),
            baseline: &[],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_restricted.go",
            what: "init container drops nothing",
            bases: RESTRICTED_BASE,
            tweak: |p| init_container(p)["securityContext"]["capabilities"]["drop"] = json!([]),
            baseline: &[],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_restricted.go",
            what: "dropping all individual capabilities is not sufficient",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                let every = json!([
                    "SYS_TIME",
                    "SYS_MODULE",
                    "SYS_RAWIO",
                    "SYS_PACCT",
                    "SYS_ADMIN",
                    "SYS_NICE",
                    "SYS_RESOURCE",
                    "SYS_TIME",
                    "SYS_TTY_CONFIG",
                    "MKNOD",
                    "AUDIT_WRITE",
                    "AUDIT_CONTROL",
                    "MAC_OVERRIDE",
                    "MAC_ADMIN",
                    "NET_ADMIN",
                    "SYSLOG",
                    "CHOWN",
                    "NET_RAW",
                    "DAC_OVERRIDE",
                    "FOWNER",
                    "DAC_READ_SEARCH",
                    "FSETID",
                    "KILL",
                    "SETGID",
                    "SETUID",
                    "LINUX_IMMUTABLE",
                    "NET_BIND_SERVICE",
                    "NET_BROADCAST",
                    "IPC_LOCK",
                    "IPC_OWNER",
                    "SYS_CHROOT",
                    "SYS_PTRACE",
                    "SYS_BOOT",
                    "LEASE",
                    "SETFCAP",
                    "WAKE_ALARM",
                    "BLOCK_SUSPEND"
                ]);
                container(p)["securityContext"]["capabilities"]["drop"] = every.clone();
                init_container(p)["securityContext"]["capabilities"]["drop"] = every;
            },
            baseline: &[],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        Case {
            source: "fixtures_capabilities_restricted.go",
            what: "adding back capabilities other than NET_BIND_SERVICE",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                container(p)["securityContext"]["capabilities"]["add"] =
                    json!(DEFAULT_CAPABILITIES);
                init_container(p)["securityContext"]["capabilities"]["add"] =
                    json!(DEFAULT_CAPABILITIES);
            },
            baseline: &[],
            restricted: &["capabilities_restricted"],
            relieves: &[],
        },
        // Windows pods, policy 1.25 of check_allowPrivilegeEscalation.go,
        // check_seccompProfile_restricted.go and check_capabilities_restricted.go: the
        // Linux-only restricted fields are not required (the API forbids them on Windows).
        Case {
            source: "../policy/check_allowPrivilegeEscalation.go",
            what: "Windows pod without Linux-only security fields",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["os"] = json!({"name": "windows"});
                unset(&mut p["spec"]["securityContext"], "seccompProfile");
                unset(container(p), "securityContext");
                unset(init_container(p), "securityContext");
            },
            baseline: &[],
            restricted: &[],
            relieves: &[],
        },
        Case {
            source: "../policy/check_seccompProfile_restricted.go",
            what: "Windows pod with an Unconfined seccomp profile fails baseline only",
            bases: RESTRICTED_BASE,
            tweak: |p| {
                p["spec"]["os"] = json!({"name": "windows"});
                p["spec"]["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"});
            },
            baseline: &["seccompProfile_baseline"],
            restricted: &[],
            relieves: &[],
        },
    ]
}

fn assert_case(
    source: &str,
    what: &str,
    base: Base,
    pod: &Value,
    baseline: &[&str],
    restricted: &[&str],
    relieves: &[&str],
) {
    let manifest = serde_json::to_string(pod).expect("a JSON value serialises");
    let findings = assess(&manifest);
    let got = verdict(&findings);
    let mut restricted = set(restricted);
    if let Base::Baseline = base {
        restricted.extend(set(BASELINE_POD_AT_RESTRICTED));
        for id in relieves {
            restricted.remove(*id);
        }
    }
    let want = Verdict {
        baseline: set(baseline),
        restricted,
    };
    assert_eq!(
        got,
        want,
        "{source}: {what} (on the {base:?} pod)\n{manifest}\nfindings: {:#?}",
        findings
            .iter()
            .map(|f| (&f.check.id, &f.message))
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_minimal_baseline_pod_fails_restricted_as_the_plugin_says() {
    // The baseline-pod cases below add BASELINE_POD_AT_RESTRICTED to their restricted verdict;
    // this pins that set to the plugin's own reasons for the bare pod.
    let findings = assess(&serde_json::to_string(&minimal_pod(Base::Baseline)).expect("JSON"));
    assert_eq!(
        verdict(&findings).restricted,
        set(BASELINE_POD_AT_RESTRICTED)
    );
}

#[test]
fn plugin_fixtures_for_every_check() {
    let cases: Vec<Case> = plugin_cases()
        .into_iter()
        .chain(restricted_check_cases())
        .collect();
    let mut covered = BTreeSet::new();
    for case in &cases {
        for &base in case.bases {
            let mut pod = minimal_pod(base);
            (case.tweak)(&mut pod);
            assert_case(
                case.source,
                case.what,
                base,
                &pod,
                case.baseline,
                case.restricted,
                case.relieves,
            );
        }
        covered.extend(case.baseline.iter().map(|id| id.to_string()));
        covered.extend(case.restricted.iter().map(|id| id.to_string()));
    }
    for (source, spec) in restricted_volume_cases() {
        let mut pod = minimal_pod(Base::Restricted);
        volumes(&mut pod, json!([{"name": "volume1", source: spec}]));
        assert_case(
            "fixtures_restrictedVolumes.go",
            source,
            Base::Restricted,
            &pod,
            &[],
            &["restrictedVolumes"],
            &[],
        );
    }
    // Every PSS check of the catalogue has at least one failing fixture.
    let catalogue = Catalogue::builtin();
    let pss_checks: BTreeSet<String> = catalogue
        .iter()
        .filter(|check| !check.frameworks.pss.is_empty())
        .map(|check| check.id.clone())
        .collect();
    assert_eq!(pss_checks.len(), 19);
    let untested: Vec<&String> = pss_checks.difference(&covered).collect();
    assert!(
        untested.is_empty(),
        "checks without a failing fixture: {untested:?}"
    );
}

#[test]
fn a_deployment_gets_the_verdict_of_its_pods() {
    let mut pod = minimal_pod(Base::Restricted);
    pod["spec"]["hostPID"] = json!(true);
    container(&mut pod)["securityContext"]["runAsUser"] = json!(0);
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod["spec"].clone()}
        }
    });
    let of_pod = verdict(&assess(&pod.to_string()));
    let of_deployment = verdict(&assess(&deployment.to_string()));
    assert_eq!(of_pod.restricted, set(&["hostNamespaces", "runAsUser"]));
    assert_eq!(of_deployment, of_pod);
}

// ---------------------------------------------------------------------------------------------
// Verdicts recorded from a real kube-apiserver v1.36.
// ---------------------------------------------------------------------------------------------

/// The check behind each forbidden reason of the plugin (`ForbiddenReason` in `check_*.go`). Two
/// reasons are shared by a baseline check and the restricted check that replaces it; the level
/// of the verdict decides.
fn check_for_reason(reason: &str, level: &str) -> &'static str {
    let restricted = level == "restricted";
    match reason {
        "privileged" => "privileged",
        "host namespaces" => "hostNamespaces",
        "hostPath volumes" => "hostPathVolumes",
        "hostPort" => "hostPorts",
        "non-default capabilities" => "capabilities_baseline",
        "forbidden AppArmor profile" | "forbidden AppArmor profiles" => "appArmorProfile",
        "seLinuxOptions" => "seLinuxOptions",
        "procMount" if restricted => "procMount_restricted",
        "procMount" => "procMount",
        "seccompProfile" if restricted => "seccompProfile_restricted",
        "seccompProfile" => "seccompProfile_baseline",
        "forbidden sysctls" => "sysctls",
        "hostProcess" => "windowsHostProcess",
        "probe or lifecycle host" => "hostProbesAndHostLifecycle",
        "restricted volume types" => "restrictedVolumes",
        "allowPrivilegeEscalation != false" => "allowPrivilegeEscalation",
        "runAsNonRoot != true" => "runAsNonRoot",
        "runAsUser=0" => "runAsUser",
        "unrestricted capabilities" => "capabilities_restricted",
        other => panic!("unknown forbidden reason {other:?}"),
    }
}

/// Splits `would violate PodSecurity "<level>:<version>": r1 (d1), r2, r3 (d3)` into its level and
/// its `reason (detail)` items. Details contain commas (`hostPorts 80, 443`), so items are split
/// only outside parentheses and quotes.
fn parse_violations(text: &str) -> (String, Vec<String>) {
    let rest = text
        .strip_prefix("would violate PodSecurity \"")
        .unwrap_or_else(|| panic!("not a PodSecurity verdict: {text}"));
    let (policy, items) = rest
        .split_once("\": ")
        .unwrap_or_else(|| panic!("no reasons in {text}"));
    let level = policy.split(':').next().unwrap_or(policy).to_string();
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut current = String::new();
    let mut chars = items.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 && chars.peek() == Some(&' ') => {
                chars.next();
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    parts.push(current);
    (level, parts)
}

fn reason_of(item: &str) -> &str {
    item.split_once(" (")
        .map(|(reason, _)| reason)
        .unwrap_or(item)
}

#[test]
fn violations_text_is_split_outside_details() {
    let (level, items) = parse_violations(
        r#"would violate PodSecurity "baseline:v1.36": host namespaces (hostNetwork=true, hostPID=true), hostPort (container "a" uses hostPorts 443, 80), privileged (containers "a", "b" must not set securityContext.privileged=true)"#,
    );
    assert_eq!(level, "baseline");
    assert_eq!(
        items,
        vec![
            "host namespaces (hostNetwork=true, hostPID=true)",
            r#"hostPort (container "a" uses hostPorts 443, 80)"#,
            r#"privileged (containers "a", "b" must not set securityContext.privileged=true)"#,
        ]
    );
    let ids: Vec<&str> = items
        .iter()
        .map(|item| check_for_reason(reason_of(item), &level))
        .collect();
    assert_eq!(ids, vec!["hostNamespaces", "hostPorts", "privileged"]);
}

#[test]
fn recorded_verdicts_of_a_v1_36_apiserver() {
    let recorded: Value = serde_json::from_str(include_str!("fixtures/pss/recorded-verdicts.json"))
        .expect("recorded-verdicts.json is JSON");
    let entries = recorded["verdicts"]
        .as_array()
        .expect("recorded-verdicts.json has a verdicts list");
    let mut with_violations = 0;
    let mut without = 0;
    for entry in entries {
        let name = entry["name"].as_str().unwrap_or("?");
        let level_version = entry["level"].as_str().expect("a level");
        let level = level_version.split(':').next().unwrap_or(level_version);
        let mut pod = entry["pod"].clone();
        // Pods made by a controller are assessed through the controller's template (one finding
        // per workload, not per replica); the plugin judged this pod on its own, so it is assessed
        // here as a bare pod.
        if let Some(metadata) = pod["metadata"].as_object_mut() {
            metadata.remove("ownerReferences");
        }
        let findings = assess(&pod.to_string());
        let got = verdict(&findings);
        let (expected, items) = match entry["auditViolations"].as_str() {
            Some(text) => {
                with_violations += 1;
                let (verdict_level, items) = parse_violations(text);
                assert_eq!(verdict_level, level, "{name}: level of the verdict");
                let ids: BTreeSet<String> = items
                    .iter()
                    .map(|item| check_for_reason(reason_of(item), level).to_string())
                    .collect();
                (ids, items)
            }
            None => {
                without += 1;
                (BTreeSet::new(), Vec::new())
            }
        };
        assert_eq!(got.at(level), &expected, "{name} at {level_version}");
        // With one offending container per reason, the plugin's own sentence is each finding's
        // message, word for word.
        let messages: BTreeSet<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        for item in &items {
            assert!(
                messages.contains(item.as_str()),
                "{name}: no finding says {item:?}; messages: {messages:#?}"
            );
        }
    }
    assert!(
        with_violations >= 2 && without >= 2,
        "the recorded fixture lost its cases"
    );
}
