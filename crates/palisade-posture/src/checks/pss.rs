//! Pod Security Standards, baseline and restricted, with the check IDs and semantics of the
//! Kubernetes pod-security admission plugin.
//!
//! The reference is `staging/src/k8s.io/pod-security-admission/policy/check_*.go` in
//! kubernetes/kubernetes (Apache-2.0), at the policy version `latest` resolves to on a v1.36
//! apiserver: the newest revision of every check registered there, including
//! `hostProbesAndHostLifecycle` (1.34), the user-namespace relaxations of `procMount`,
//! `runAsNonRoot` and `runAsUser` (1.35) and `procMount_restricted` (1.35).
//!
//! Each finding's message is the plugin's forbidden reason followed by its detail, narrowed to the
//! one pod or container the finding is about, so a pod with a single offending container gets
//! exactly the text `kubectl` prints in its `would violate PodSecurity` warning.
//!
//! Restricted is baseline plus the restricted checks, except that four restricted checks replace a
//! baseline one (`OverrideCheckIDs` in the plugin): `restrictedVolumes` replaces `hostPathVolumes`,
//! `capabilities_restricted` replaces `capabilities_baseline`, `seccompProfile_restricted` replaces
//! `seccompProfile_baseline` and `procMount_restricted` replaces `procMount`. Both members of such
//! a pair are reported here, each tagged with its level, so a report filtered to one level shows
//! what the plugin would say at that level.

use super::strings;
use palisade_core::{Category, Check, FieldPath, Frameworks, Node, Severity};

use crate::emit::Emitter;
use crate::pod::{ContainerView, PodView};

pub(crate) const PRIVILEGED: &str = "privileged";
pub(crate) const HOST_NAMESPACES: &str = "hostNamespaces";
pub(crate) const HOST_PATH_VOLUMES: &str = "hostPathVolumes";
pub(crate) const HOST_PORTS: &str = "hostPorts";
pub(crate) const CAPABILITIES_BASELINE: &str = "capabilities_baseline";
pub(crate) const APPARMOR_PROFILE: &str = "appArmorProfile";
pub(crate) const SELINUX_OPTIONS: &str = "seLinuxOptions";
pub(crate) const PROC_MOUNT: &str = "procMount";
pub(crate) const SECCOMP_PROFILE_BASELINE: &str = "seccompProfile_baseline";
pub(crate) const SYSCTLS: &str = "sysctls";
pub(crate) const WINDOWS_HOST_PROCESS: &str = "windowsHostProcess";
pub(crate) const HOST_PROBES_AND_HOST_LIFECYCLE: &str = "hostProbesAndHostLifecycle";
pub(crate) const RESTRICTED_VOLUMES: &str = "restrictedVolumes";
pub(crate) const ALLOW_PRIVILEGE_ESCALATION: &str = "allowPrivilegeEscalation";
pub(crate) const RUN_AS_NON_ROOT: &str = "runAsNonRoot";
pub(crate) const RUN_AS_USER: &str = "runAsUser";
pub(crate) const SECCOMP_PROFILE_RESTRICTED: &str = "seccompProfile_restricted";
pub(crate) const CAPABILITIES_RESTRICTED: &str = "capabilities_restricted";
pub(crate) const PROC_MOUNT_RESTRICTED: &str = "procMount_restricted";

/// `check_capabilities_baseline.go`: the container runtimes' default set, minus `NET_RAW`.
const BASELINE_CAPABILITIES: &[&str] = &[
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

/// `check_sysctls.go`, policy 1.32 (the newest set a v1.36 apiserver knows): sysctls that are
/// namespaced per pod and cannot affect other pods on the node.
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// `check_seLinuxOptions.go`, policy 1.31: the SELinux types container runtimes assign themselves.
const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// `check_restrictedVolumes.go`: volume sources whose data comes from the API or a
/// PersistentVolume the cluster administrator controls.
const ALLOWED_VOLUME_SOURCES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every other volume source of the core API: node-local or network storage named directly in the
/// pod, bypassing the PersistentVolume layer.
const RESTRICTED_VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "photonPersistentDisk",
];

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

const PROBES: &[&str] = &["livenessProbe", "readinessProbe", "startupProbe"];
const LIFECYCLE_HOOKS: &[&str] = &["postStart", "preStop"];
const NETWORK_ACTIONS: &[&str] = &["httpGet", "tcpSocket"];

const NSA_POD_SECURITY: &str = "Kubernetes Pod security";
const ESCAPE_TO_HOST: &str = "T1611";

pub(crate) fn checks() -> Vec<Check> {
    vec![
        check(
            PRIVILEGED,
            "baseline",
            "Privileged container",
            Severity::Critical,
            "A privileged container runs with every capability, every device of the node and no \
             seccomp or AppArmor confinement. Anyone who can run code in it (a compromised \
             application, a user with exec) owns the node: mounting its disk or loading a kernel \
             module is enough.",
            "Remove `securityContext.privileged: true` (or set it to `false`) and grant only the \
             specific capabilities the workload needs:\n\n```yaml\nsecurityContext:\n  \
             privileged: false\n```",
            Frameworks {
                cis: strings(&["5.2.2"]),
                mitre: strings(&[ESCAPE_TO_HOST]),
                microsoft: strings(&["MS-TA9018: Privileged container"]),
                ..Frameworks::default()
            },
        ),
        check(
            HOST_NAMESPACES,
            "baseline",
            "Pod shares a host namespace",
            Severity::High,
            "With `hostNetwork` the pod sees and binds every interface of the node, including \
             node-local services and the cloud metadata endpoint; with `hostPID` it sees and can \
             signal or ptrace every process of the node; with `hostIPC` it shares the node's \
             System V IPC and shared memory. Each removes an isolation boundary an attacker would \
             otherwise have to break.",
            "Remove `spec.hostNetwork`, `spec.hostPID` and `spec.hostIPC` (or set them to \
             `false`). Workloads that genuinely need them (CNI agents, node exporters) belong in a \
             namespace exempted from the policy, with a recorded reason.",
            Frameworks {
                cis: strings(&["5.2.3", "5.2.4", "5.2.5"]),
                mitre: strings(&[ESCAPE_TO_HOST]),
                ..Frameworks::default()
            },
        ),
        check(
            HOST_PATH_VOLUMES,
            "baseline",
            "Pod mounts a hostPath volume",
            Severity::High,
            "A hostPath volume exposes a directory of the node to the container. Writable mounts \
             of the root, `/etc`, the kubelet's directories or a container runtime socket give \
             the container the node; even read-only mounts leak credentials and other pods' \
             data.",
            "Replace `spec.volumes[*].hostPath` with an `emptyDir`, a ConfigMap or Secret, or a \
             PersistentVolumeClaim. If node access is essential, mount the narrowest path \
             read-only and run the workload in an exempted namespace.",
            Frameworks {
                cis: strings(&["5.2.12"]),
                mitre: strings(&[ESCAPE_TO_HOST]),
                microsoft: strings(&["MS-TA9013: Writable hostPath mount"]),
                ..Frameworks::default()
            },
        ),
        check(
            HOST_PORTS,
            "baseline",
            "Container binds a host port",
            Severity::Medium,
            "A `hostPort` opens a port on the node's own addresses, bypassing Services and most \
             NetworkPolicy implementations, and exposes the container to anything that can reach \
             the node.",
            "Remove `ports[*].hostPort` and expose the container through a Service (ClusterIP, \
             or NodePort/LoadBalancer when it must be reachable from outside).",
            Frameworks {
                cis: strings(&["5.2.13"]),
                ..Frameworks::default()
            },
        ),
        check(
            CAPABILITIES_BASELINE,
            "baseline",
            "Container adds a capability beyond the runtime default set",
            Severity::High,
            "Capabilities such as `SYS_ADMIN`, `SYS_PTRACE`, `SYS_MODULE`, `NET_ADMIN` or \
             `NET_RAW` hand the container parts of root's power over the node's kernel: mounting \
             filesystems, tracing processes, reconfiguring or spoofing the network. Several are \
             known container escape primitives.",
            "Remove every entry of `securityContext.capabilities.add` outside AUDIT_WRITE, CHOWN, \
             DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, \
             SETPCAP, SETUID and SYS_CHROOT; better, drop all and add back only what is needed:\n\n\
             ```yaml\nsecurityContext:\n  capabilities:\n    drop: [\"ALL\"]\n    add: \
             [\"NET_BIND_SERVICE\"]\n```",
            Frameworks {
                cis: strings(&["5.2.8", "5.2.9"]),
                mitre: strings(&[ESCAPE_TO_HOST]),
                ..Frameworks::default()
            },
        ),
        check(
            APPARMOR_PROFILE,
            "baseline",
            "AppArmor confinement is disabled",
            Severity::Medium,
            "On AppArmor hosts every container is confined by the runtime's default profile, \
             which blocks writes to `/proc` and `/sys` files and other known escape paths. An \
             `Unconfined` profile (or an `unconfined` value of the beta annotation) removes that \
             layer.",
            "Remove the `Unconfined` AppArmor profile, or set \
             `securityContext.appArmorProfile.type` to `RuntimeDefault` or to `Localhost` with a \
             profile loaded on the nodes; for the deprecated annotation \
             `container.apparmor.security.beta.kubernetes.io/<container>` use `runtime/default` or \
             `localhost/<profile>`.",
            Frameworks::default(),
        ),
        check(
            SELINUX_OPTIONS,
            "baseline",
            "Custom SELinux options",
            Severity::Medium,
            "On SELinux hosts the runtime labels each container `container_t` with a per-pod \
             category, which keeps it away from the node's files and from other pods. A custom \
             type such as `spc_t` (super-privileged container), or a custom user or role, takes \
             the container out of that confinement.",
            "Remove `seLinuxOptions.user` and `seLinuxOptions.role`, and either remove \
             `seLinuxOptions.type` or set it to `container_t`, `container_init_t`, \
             `container_kvm_t` or `container_engine_t`. `seLinuxOptions.level` may stay.",
            Frameworks::default(),
        ),
        check(
            PROC_MOUNT,
            "baseline",
            "Container unmasks /proc",
            Severity::Medium,
            "The runtime masks sensitive `/proc` and `/sys` paths (kcore, sysrq-trigger, \
             timer lists and so on) and makes others read-only. `procMount: Unmasked` removes \
             those masks, exposing kernel interfaces that leak host information or change host \
             state. The baseline level allows it only in a user namespace (`hostUsers: false`).",
            "Remove `securityContext.procMount` or set it to `Default`; if an unmasked /proc is \
             truly needed (nested containers), also run the pod in a user namespace with \
             `spec.hostUsers: false`.",
            Frameworks::default(),
        ),
        check(
            SECCOMP_PROFILE_BASELINE,
            "baseline",
            "Seccomp filtering is disabled",
            Severity::Medium,
            "The runtime's default seccomp profile blocks system calls containers do not need, \
             several of which have been the entry point of kernel exploits and container \
             escapes. An `Unconfined` profile exposes the whole system call surface of the \
             node's kernel.",
            "Set `securityContext.seccompProfile.type` to `RuntimeDefault` (or `Localhost` with a \
             profile on the nodes) at pod level and remove `Unconfined` from every container:\n\n\
             ```yaml\nspec:\n  securityContext:\n    seccompProfile:\n      type: \
             RuntimeDefault\n```",
            Frameworks {
                cis: strings(&["5.7.2"]),
                ..Frameworks::default()
            },
        ),
        check(
            SYSCTLS,
            "baseline",
            "Pod sets an unsafe sysctl",
            Severity::Medium,
            "Sysctls outside the safe set either are not isolated per pod, so they change the \
             kernel behaviour for every workload on the node, or weaken security mechanisms of \
             the kernel. The kubelet refuses most of them unless allowed on the node, which makes \
             the pod unschedulable there.",
            "Remove the sysctl from `spec.securityContext.sysctls`; the safe names are \
             kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies, \
             net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start, \
             net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, \
             net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, \
             net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_rmem and net.ipv4.tcp_wmem.",
            Frameworks::default(),
        ),
        check(
            WINDOWS_HOST_PROCESS,
            "baseline",
            "Windows HostProcess container",
            Severity::Critical,
            "A Windows HostProcess container runs directly on the node, as a node user and in \
             the node's network, with no container isolation at all: it is the Windows \
             equivalent of a privileged container.",
            "Remove `securityContext.windowsOptions.hostProcess: true` from the pod and its \
             containers. Node-management agents that need it belong in an exempted namespace.",
            Frameworks {
                cis: strings(&["5.2.11"]),
                mitre: strings(&[ESCAPE_TO_HOST]),
                ..Frameworks::default()
            },
        ),
        check(
            HOST_PROBES_AND_HOST_LIFECYCLE,
            "baseline",
            "Probe or lifecycle hook targets another host",
            Severity::Medium,
            "HTTP and TCP probes and lifecycle hooks are executed by the kubelet from the node. \
             A `host` field points them at any address the node can reach, such as node-local \
             services, the cloud metadata endpoint or other tenants, turning the kubelet into a \
             request forger for whoever writes the pod.",
            "Remove `host` from `httpGet` and `tcpSocket` in `livenessProbe`, `readinessProbe`, \
             `startupProbe` and `lifecycle.postStart`/`preStop`; the kubelet then targets the \
             pod's own IP.",
            Frameworks::default(),
        ),
        check(
            RESTRICTED_VOLUMES,
            "restricted",
            "Pod uses a volume type outside the restricted set",
            Severity::Medium,
            "Volume types such as hostPath, NFS, iSCSI or cloud disks named directly in the pod \
             bypass the PersistentVolume layer the cluster administrator controls, so whoever \
             writes the pod chooses which node directory or storage it reaches.",
            "Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, \
             persistentVolumeClaim, projected and secret volumes; reach other storage through a \
             PersistentVolumeClaim.",
            Frameworks::default(),
        ),
        check(
            ALLOW_PRIVILEGE_ESCALATION,
            "restricted",
            "Container does not forbid privilege escalation",
            Severity::Medium,
            "Unless `allowPrivilegeEscalation` is explicitly `false`, the container process may \
             gain privileges through set-user-ID or set-group-ID binaries and file capabilities \
             (the kernel's `no_new_privs` flag stays unset), a classic step from an application \
             compromise to root in the container.",
            "Set it on every container, init container included:\n\n```yaml\nsecurityContext:\n  \
             allowPrivilegeEscalation: false\n```",
            Frameworks {
                cis: strings(&["5.2.6"]),
                mitre: strings(&["T1548.001"]),
                ..Frameworks::default()
            },
        ),
        check(
            RUN_AS_NON_ROOT,
            "restricted",
            "Container may run as root",
            Severity::Medium,
            "Without `runAsNonRoot: true` nothing stops the image from starting as UID 0. Root in \
             a container is root on the node's kernel for every file and device it can reach, \
             and turns most container escape vulnerabilities into node compromise.",
            "Set `runAsNonRoot: true` in the pod's `securityContext` (or on every container) and \
             run the image as a non-zero UID:\n\n```yaml\nspec:\n  securityContext:\n    \
             runAsNonRoot: true\n    runAsUser: 10001\n```",
            Frameworks {
                cis: strings(&["5.2.7"]),
                ..Frameworks::default()
            },
        ),
        check(
            RUN_AS_USER,
            "restricted",
            "Container is set to run as root",
            Severity::Medium,
            "`runAsUser: 0` starts the container as root regardless of the image. Root in a \
             container is root on the node's kernel for every file and device it can reach.",
            "Set `securityContext.runAsUser` to a non-zero UID (or remove it and build the image \
             with a non-root `USER`), and add `runAsNonRoot: true`.",
            Frameworks {
                cis: strings(&["5.2.7"]),
                ..Frameworks::default()
            },
        ),
        check(
            SECCOMP_PROFILE_RESTRICTED,
            "restricted",
            "Seccomp profile is not set",
            Severity::Medium,
            "Containers without a seccomp profile run unconfined on most runtimes, exposing the \
             whole system call surface of the node's kernel. The restricted level requires the \
             runtime default profile or a node-local one on every container.",
            "Set the profile at pod level (containers inherit it):\n\n```yaml\nspec:\n  \
             securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n```",
            Frameworks {
                cis: strings(&["5.7.2"]),
                ..Frameworks::default()
            },
        ),
        check(
            CAPABILITIES_RESTRICTED,
            "restricted",
            "Container keeps default capabilities",
            Severity::Medium,
            "Runtimes give containers a default set of capabilities, including `NET_RAW` (packet \
             spoofing and ARP poisoning on the pod network), `CHOWN`, `DAC_OVERRIDE` and \
             `SETUID`. The restricted level requires dropping all of them and adding back at \
             most `NET_BIND_SERVICE`.",
            "On every container:\n\n```yaml\nsecurityContext:\n  capabilities:\n    drop: \
             [\"ALL\"]\n    add: [\"NET_BIND_SERVICE\"]   # only if it binds a port below \
             1024\n```",
            Frameworks {
                cis: strings(&["5.2.8", "5.2.10"]),
                microsoft: strings(&["MS-TA9036: ARP poisoning and IP spoofing"]),
                ..Frameworks::default()
            },
        ),
        check(
            PROC_MOUNT_RESTRICTED,
            "restricted",
            "Container unmasks /proc",
            Severity::Medium,
            "The restricted level forbids `procMount: Unmasked` even in a user namespace: the \
             unmasked `/proc` and `/sys` paths still expose kernel interfaces that leak host \
             information.",
            "Remove `securityContext.procMount` or set it to `Default`.",
            Frameworks::default(),
        ),
    ]
}

fn check(
    id: &str,
    level: &str,
    title: &str,
    severity: Severity,
    description: &str,
    remediation: &str,
    frameworks: Frameworks,
) -> Check {
    let mut frameworks = frameworks;
    frameworks.pss = vec![format!("{level}:{id}")];
    frameworks.nsa = strings(&[NSA_POD_SECURITY]);
    Check {
        id: id.to_string(),
        title: title.to_string(),
        severity,
        category: Category::PodSecurity,
        description: description.to_string(),
        remediation: remediation.to_string(),
        frameworks,
    }
}

pub(crate) fn assess_pod(pod: &PodView<'_>, emit: &mut Emitter<'_>) {
    let pod = Pod::new(pod);
    privileged(&pod, emit);
    host_namespaces(&pod, emit);
    host_path_volumes(&pod, emit);
    host_ports(&pod, emit);
    capabilities_baseline(&pod, emit);
    apparmor_profile(&pod, emit);
    selinux_options(&pod, emit);
    proc_mount(&pod, emit);
    seccomp_profile_baseline(&pod, emit);
    sysctls(&pod, emit);
    windows_host_process(&pod, emit);
    host_probes_and_host_lifecycle(&pod, emit);
    restricted_volumes(&pod, emit);
    allow_privilege_escalation(&pod, emit);
    run_as_non_root(&pod, emit);
    run_as_user(&pod, emit);
    seccomp_profile_restricted(&pod, emit);
    capabilities_restricted(&pod, emit);
    proc_mount_restricted(&pod, emit);
}

/// A pod spec with the two facts several checks turn on.
struct Pod<'a> {
    view: &'a PodView<'a>,
    containers: Vec<ContainerView<'a>>,
    /// `spec.os.name: windows`. From policy 1.25 the plugin exempts Windows pods from the
    /// restricted checks on Linux-only fields (privilege escalation, seccomp, capabilities), which
    /// the API rejects on Windows pods anyway.
    windows: bool,
    /// `spec.hostUsers: false`: the pod runs in a user namespace, where UID 0 and an unmasked /proc
    /// are not the node's. From policy 1.35 `runAsNonRoot`, `runAsUser` and the baseline
    /// `procMount` check skip such pods.
    user_namespace: bool,
}

impl<'a> Pod<'a> {
    fn new(view: &'a PodView<'a>) -> Pod<'a> {
        Pod {
            view,
            containers: view.containers().collect(),
            windows: value(view.spec, &["os", "name"]).and_then(Node::as_str) == Some("windows"),
            user_namespace: value(view.spec, &["hostUsers"]).and_then(Node::as_bool) == Some(false),
        }
    }

    fn spec(&self) -> &'a Node {
        self.view.spec
    }

    /// The pod-level `securityContext` field at `keys`.
    fn security(&self, keys: &[&str]) -> Option<&'a Node> {
        value(self.view.spec, &["securityContext"]).and_then(|sc| value(sc, keys))
    }

    fn security_path(&self, keys: &[&str]) -> FieldPath {
        self.view.spec_path(&["securityContext"]).keys(keys)
    }

    /// Path of the pod-level `securityContext` field at `keys`, cut at the first one not written.
    fn written_security_path(&self, keys: &[&str]) -> FieldPath {
        let mut full = vec!["securityContext"];
        full.extend_from_slice(keys);
        written_path(self.view.spec, self.view.spec_path(&[]), &full)
    }
}

/// The value at `keys`, an explicit `null` counting as absent the way the API decodes it.
fn value<'n>(node: &'n Node, keys: &[&str]) -> Option<&'n Node> {
    keys.iter()
        .try_fold(node, |node, key| node.get(key).filter(|n| !n.is_null()))
}

/// The container's `securityContext` field at `keys`.
fn container_security<'n>(container: &ContainerView<'n>, keys: &[&str]) -> Option<&'n Node> {
    value(container.node, &["securityContext"]).and_then(|sc| value(sc, keys))
}

fn container_security_path(container: &ContainerView<'_>, keys: &[&str]) -> FieldPath {
    container.field(&["securityContext"]).keys(keys)
}

/// Path of the container's `securityContext` field at `keys`, cut at the first one not written.
fn written_container_security_path(container: &ContainerView<'_>, keys: &[&str]) -> FieldPath {
    let mut full = vec!["securityContext"];
    full.extend_from_slice(keys);
    written_path(container.node, container.path.clone(), &full)
}

/// `base` extended by as many of `keys` as exist under `node`: findings about a missing field
/// point at the nearest field the user did write.
fn written_path(node: &Node, base: FieldPath, keys: &[&str]) -> FieldPath {
    let mut path = base;
    let mut current = node;
    for key in keys {
        match value(current, &[key]) {
            Some(next) => {
                path = path.key(key);
                current = next;
            }
            None => break,
        }
    }
    path
}

/// The text of a scalar; anything else reads as empty, which no allow-list contains.
fn text(node: &Node) -> String {
    node.to_text().unwrap_or_default()
}

/// The plugin's `joinQuote`: `"a", "b"`.
fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("\"{}\"", inner.join("\", \""))
}

fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 { singular } else { plural }
}

/// Sorted and deduplicated, as the plugin's string sets list themselves.
fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    items
}

fn container_label(container: &ContainerView<'_>) -> String {
    format!("container \"{}\"", container.name)
}

fn privileged(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    for c in &pod.containers {
        if container_security(c, &["privileged"]).and_then(Node::as_bool) == Some(true) {
            emit.emit(
                PRIVILEGED,
                Some(c.name),
                &container_security_path(c, &["privileged"]),
                format!(
                    "privileged ({} must not set securityContext.privileged=true)",
                    container_label(c)
                ),
            );
        }
    }
}

fn host_namespaces(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if value(pod.spec(), &[key]).and_then(Node::as_bool) == Some(true) {
            emit.emit(
                HOST_NAMESPACES,
                None,
                &pod.view.spec_path(&[key]),
                format!("host namespaces ({key}=true)"),
            );
        }
    }
}

fn volume_name(volume: &Node) -> String {
    volume.get("name").map(text).unwrap_or_default()
}

fn host_path_volumes(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    for (i, volume) in pod.view.volumes() {
        if value(volume, &["hostPath"]).is_some() {
            emit.emit(
                HOST_PATH_VOLUMES,
                None,
                &pod.view.spec_path(&["volumes"]).index(i).key("hostPath"),
                format!("hostPath volumes (volume \"{}\")", volume_name(volume)),
            );
        }
    }
}

fn host_ports(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    for c in &pod.containers {
        let mut ports = Vec::new();
        let mut first = None;
        let declared = value(c.node, &["ports"]).map(Node::items).unwrap_or(&[]);
        for (j, port) in declared.iter().enumerate() {
            let host_port = value(port, &["hostPort"]);
            // A port the API cannot decode as a number is rejected before admission; only
            // a non-zero number opens a port on the node.
            if let Some(number) = host_port.and_then(Node::as_i64).filter(|&n| n != 0) {
                ports.push(number.to_string());
                first.get_or_insert_with(|| c.field(&["ports"]).index(j).key("hostPort"));
            }
        }
        let Some(path) = first else { continue };
        let ports = sorted(ports);
        emit.emit(
            HOST_PORTS,
            Some(c.name),
            &path,
            format!(
                "hostPort ({} uses {} {})",
                container_label(c),
                pluralize("hostPort", "hostPorts", ports.len()),
                ports.join(", ")
            ),
        );
    }
}

fn added_capabilities<'n>(container: &ContainerView<'n>) -> &'n [Node] {
    container_security(container, &["capabilities", "add"])
        .map(Node::items)
        .unwrap_or(&[])
}

fn capabilities_baseline(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    for c in &pod.containers {
        let forbidden: Vec<String> = added_capabilities(c)
            .iter()
            .map(text)
            .filter(|cap| !BASELINE_CAPABILITIES.contains(&cap.as_str()))
            .collect();
        if forbidden.is_empty() {
            continue;
        }
        emit.emit(
            CAPABILITIES_BASELINE,
            Some(c.name),
            &container_security_path(c, &["capabilities", "add"]),
            format!(
                "non-default capabilities ({} must not include {} in securityContext.capabilities.add)",
                container_label(c),
                join_quote(&sorted(forbidden))
            ),
        );
    }
}

/// The AppArmor profile type of a `securityContext.appArmorProfile`, `None` when it is allowed.
fn forbidden_apparmor_type(profile: &Node) -> Option<String> {
    let profile_type = profile.get("type").map(text).unwrap_or_default();
    match profile_type.as_str() {
        "RuntimeDefault" | "Localhost" => None,
        _ => Some(profile_type),
    }
}

fn apparmor_profile(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if let Some(profile_type) = pod
        .security(&["appArmorProfile"])
        .and_then(forbidden_apparmor_type)
    {
        emit.emit(
            APPARMOR_PROFILE,
            None,
            &pod.written_security_path(&["appArmorProfile", "type"]),
            format!(
                "forbidden AppArmor profile (pod must not set AppArmor profile type to \"{profile_type}\")"
            ),
        );
    }
    for c in &pod.containers {
        if let Some(profile_type) =
            container_security(c, &["appArmorProfile"]).and_then(forbidden_apparmor_type)
        {
            emit.emit(
                APPARMOR_PROFILE,
                Some(c.name),
                &written_container_security_path(c, &["appArmorProfile", "type"]),
                format!(
                    "forbidden AppArmor profile ({} must not set AppArmor profile type to \"{profile_type}\")",
                    container_label(c)
                ),
            );
        }
    }
    // The deprecated beta annotation is still honoured by the plugin, for any container name.
    let annotations = pod.view.metadata.get("annotations").map(Node::entries);
    for (key, profile) in annotations.unwrap_or(&[]) {
        let Some(container) = key.strip_prefix(APPARMOR_ANNOTATION_PREFIX) else {
            continue;
        };
        let profile = text(profile);
        let allowed =
            profile.is_empty() || profile == "runtime/default" || profile.starts_with("localhost/");
        if allowed {
            continue;
        }
        emit.emit(
            APPARMOR_PROFILE,
            Some(container),
            &pod.view.metadata_path(&["annotations", key]),
            format!(
                "forbidden AppArmor profile (annotation must not set AppArmor profile type to \"{key}={profile:?}\")"
            ),
        );
    }
}

/// What is wrong with a `seLinuxOptions`, in the plugin's words; empty when nothing is.
fn selinux_problems(options: &Node) -> Vec<String> {
    let mut problems = Vec::new();
    let selinux_type = options.get("type").map(text).unwrap_or_default();
    if !SELINUX_TYPES.contains(&selinux_type.as_str()) {
        problems.push(format!("type \"{selinux_type}\""));
    }
    if options
        .get("user")
        .is_some_and(|user| !text(user).is_empty())
    {
        problems.push("user may not be set".to_string());
    }
    if options
        .get("role")
        .is_some_and(|role| !text(role).is_empty())
    {
        problems.push("role may not be set".to_string());
    }
    problems
}

fn selinux_options(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if let Some(options) = pod.security(&["seLinuxOptions"]) {
        let problems = selinux_problems(options);
        if !problems.is_empty() {
            emit.emit(
                SELINUX_OPTIONS,
                None,
                &pod.security_path(&["seLinuxOptions"]),
                format!(
                    "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: {})",
                    problems.join("; ")
                ),
            );
        }
    }
    for c in &pod.containers {
        let Some(options) = container_security(c, &["seLinuxOptions"]) else {
            continue;
        };
        let problems = selinux_problems(options);
        if !problems.is_empty() {
            emit.emit(
                SELINUX_OPTIONS,
                Some(c.name),
                &container_security_path(c, &["seLinuxOptions"]),
                format!(
                    "seLinuxOptions ({} set forbidden securityContext.seLinuxOptions: {})",
                    container_label(c),
                    problems.join("; ")
                ),
            );
        }
    }
}

/// `procMount` values other than `Default`, shared by the baseline and restricted checks.
fn unmasked_proc_mounts(pod: &Pod<'_>, check_id: &str, emit: &mut Emitter<'_>) {
    for c in &pod.containers {
        let Some(proc_mount) = container_security(c, &["procMount"]) else {
            continue;
        };
        let proc_mount = text(proc_mount);
        if proc_mount != "Default" {
            emit.emit(
                check_id,
                Some(c.name),
                &container_security_path(c, &["procMount"]),
                format!(
                    "procMount ({} must not set securityContext.procMount to \"{proc_mount}\")",
                    container_label(c)
                ),
            );
        }
    }
}

fn proc_mount(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if !pod.user_namespace {
        unmasked_proc_mounts(pod, PROC_MOUNT, emit);
    }
}

fn proc_mount_restricted(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    unmasked_proc_mounts(pod, PROC_MOUNT_RESTRICTED, emit);
}

/// The seccomp profile type of a `seccompProfile`, `None` when it is allowed.
fn forbidden_seccomp_type(profile: &Node) -> Option<String> {
    let profile_type = profile.get("type").map(text).unwrap_or_default();
    match profile_type.as_str() {
        "RuntimeDefault" | "Localhost" => None,
        _ => Some(profile_type),
    }
}

fn explicit_seccomp_message(setter: &str, profile_type: &str) -> String {
    format!(
        "seccompProfile ({setter} must not set securityContext.seccompProfile.type to \"{profile_type}\")"
    )
}

fn seccomp_profile_baseline(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if let Some(profile_type) = pod
        .security(&["seccompProfile"])
        .and_then(forbidden_seccomp_type)
    {
        emit.emit(
            SECCOMP_PROFILE_BASELINE,
            None,
            &pod.written_security_path(&["seccompProfile", "type"]),
            explicit_seccomp_message("pod", &profile_type),
        );
    }
    for c in &pod.containers {
        if let Some(profile_type) =
            container_security(c, &["seccompProfile"]).and_then(forbidden_seccomp_type)
        {
            emit.emit(
                SECCOMP_PROFILE_BASELINE,
                Some(c.name),
                &written_container_security_path(c, &["seccompProfile", "type"]),
                explicit_seccomp_message(&container_label(c), &profile_type),
            );
        }
    }
}

fn sysctls(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    let declared = pod.security(&["sysctls"]).map(Node::items).unwrap_or(&[]);
    for (i, sysctl) in declared.iter().enumerate() {
        let name = sysctl.get("name").map(text).unwrap_or_default();
        if !SAFE_SYSCTLS.contains(&name.as_str()) {
            emit.emit(
                SYSCTLS,
                None,
                &pod.security_path(&["sysctls"]).index(i).key("name"),
                format!("forbidden sysctls ({name})"),
            );
        }
    }
}

fn windows_host_process(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    const HOST_PROCESS: &[&str] = &["windowsOptions", "hostProcess"];
    if pod.security(HOST_PROCESS).and_then(Node::as_bool) == Some(true) {
        emit.emit(
            WINDOWS_HOST_PROCESS,
            None,
            &pod.security_path(HOST_PROCESS),
            "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)",
        );
    }
    for c in &pod.containers {
        if container_security(c, HOST_PROCESS).and_then(Node::as_bool) == Some(true) {
            emit.emit(
                WINDOWS_HOST_PROCESS,
                Some(c.name),
                &container_security_path(c, HOST_PROCESS),
                format!(
                    "hostProcess ({} must not set securityContext.windowsOptions.hostProcess=true)",
                    container_label(c)
                ),
            );
        }
    }
}

fn host_probes_and_host_lifecycle(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    let mut handlers: Vec<Vec<&str>> = Vec::new();
    for probe in PROBES {
        for action in NETWORK_ACTIONS {
            handlers.push(vec![probe, action, "host"]);
        }
    }
    for hook in LIFECYCLE_HOOKS {
        for action in NETWORK_ACTIONS {
            handlers.push(vec!["lifecycle", hook, action, "host"]);
        }
    }
    for c in &pod.containers {
        let mut hosts = Vec::new();
        let mut first = None;
        for keys in &handlers {
            let host = value(c.node, keys).map(text).unwrap_or_default();
            if !host.is_empty() {
                hosts.push(host);
                first.get_or_insert_with(|| c.field(keys));
            }
        }
        let Some(path) = first else { continue };
        let hosts = sorted(hosts);
        emit.emit(
            HOST_PROBES_AND_HOST_LIFECYCLE,
            Some(c.name),
            &path,
            format!(
                "probe or lifecycle host ({} uses {} {})",
                container_label(c),
                pluralize(
                    "probe or lifecycle host",
                    "probe or lifecycle hosts",
                    hosts.len()
                ),
                join_quote(&hosts)
            ),
        );
    }
}

fn restricted_volumes(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    for (i, volume) in pod.view.volumes() {
        let has = |source: &str| value(volume, &[source]).is_some();
        // A volume with no source is defaulted to emptyDir by the API server before admission,
        // and one with an allowed source is allowed whatever else it names.
        if ALLOWED_VOLUME_SOURCES.iter().any(|source| has(source)) {
            continue;
        }
        let Some(source) = RESTRICTED_VOLUME_SOURCES.iter().find(|source| has(source)) else {
            continue;
        };
        emit.emit(
            RESTRICTED_VOLUMES,
            None,
            &pod.view.spec_path(&["volumes"]).index(i).key(source),
            format!(
                "restricted volume types (volume \"{}\" uses restricted volume type \"{source}\")",
                volume_name(volume)
            ),
        );
    }
}

fn allow_privilege_escalation(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if pod.windows {
        return;
    }
    for c in &pod.containers {
        // Only an explicit `false` sets no_new_privs; unset means allowed.
        let forbidden =
            container_security(c, &["allowPrivilegeEscalation"]).and_then(Node::as_bool);
        if forbidden != Some(false) {
            emit.emit(
                ALLOW_PRIVILEGE_ESCALATION,
                Some(c.name),
                &written_container_security_path(c, &["allowPrivilegeEscalation"]),
                format!(
                    "allowPrivilegeEscalation != false ({} must set securityContext.allowPrivilegeEscalation=false)",
                    container_label(c)
                ),
            );
        }
    }
}

fn run_as_non_root(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if pod.user_namespace {
        return;
    }
    let pod_setting = pod.security(&["runAsNonRoot"]).and_then(Node::as_bool);
    if pod_setting == Some(false) {
        emit.emit(
            RUN_AS_NON_ROOT,
            None,
            &pod.security_path(&["runAsNonRoot"]),
            "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)",
        );
    }
    for c in &pod.containers {
        match container_security(c, &["runAsNonRoot"]).and_then(Node::as_bool) {
            Some(true) => {}
            Some(false) => emit.emit(
                RUN_AS_NON_ROOT,
                Some(c.name),
                &container_security_path(c, &["runAsNonRoot"]),
                format!(
                    "runAsNonRoot != true ({} must not set securityContext.runAsNonRoot=false)",
                    container_label(c)
                ),
            ),
            // Unset inherits the pod's setting; an explicit pod-level false is already reported.
            None if pod_setting.is_none() => emit.emit(
                RUN_AS_NON_ROOT,
                Some(c.name),
                &written_container_security_path(c, &["runAsNonRoot"]),
                format!(
                    "runAsNonRoot != true (pod or {} must set securityContext.runAsNonRoot=true)",
                    container_label(c)
                ),
            ),
            None => {}
        }
    }
}

fn run_as_user(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if pod.user_namespace {
        return;
    }
    if pod.security(&["runAsUser"]).and_then(Node::as_i64) == Some(0) {
        emit.emit(
            RUN_AS_USER,
            None,
            &pod.security_path(&["runAsUser"]),
            "runAsUser=0 (pod must not set runAsUser=0)",
        );
    }
    for c in &pod.containers {
        if container_security(c, &["runAsUser"]).and_then(Node::as_i64) == Some(0) {
            emit.emit(
                RUN_AS_USER,
                Some(c.name),
                &container_security_path(c, &["runAsUser"]),
                format!(
                    "runAsUser=0 ({} must not set runAsUser=0)",
                    container_label(c)
                ),
            );
        }
    }
}

fn seccomp_profile_restricted(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if pod.windows {
        return;
    }
    let pod_profile = pod.security(&["seccompProfile"]);
    let pod_forbidden = pod_profile.and_then(forbidden_seccomp_type);
    if let Some(profile_type) = &pod_forbidden {
        emit.emit(
            SECCOMP_PROFILE_RESTRICTED,
            None,
            &pod.written_security_path(&["seccompProfile", "type"]),
            explicit_seccomp_message("pod", profile_type),
        );
    }
    for c in &pod.containers {
        match container_security(c, &["seccompProfile"]) {
            Some(profile) => {
                if let Some(profile_type) = forbidden_seccomp_type(profile) {
                    emit.emit(
                        SECCOMP_PROFILE_RESTRICTED,
                        Some(c.name),
                        &written_container_security_path(c, &["seccompProfile", "type"]),
                        explicit_seccomp_message(&container_label(c), &profile_type),
                    );
                }
            }
            // Unset inherits the pod's profile; a forbidden pod-level one is already reported.
            None if pod_profile.is_none() => emit.emit(
                SECCOMP_PROFILE_RESTRICTED,
                Some(c.name),
                &written_container_security_path(c, &["seccompProfile", "type"]),
                format!(
                    "seccompProfile (pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
                    container_label(c)
                ),
            ),
            None => {}
        }
    }
}

fn capabilities_restricted(pod: &Pod<'_>, emit: &mut Emitter<'_>) {
    if pod.windows {
        return;
    }
    for c in &pod.containers {
        let dropped = container_security(c, &["capabilities", "drop"])
            .map(Node::items)
            .unwrap_or(&[]);
        let drops_all = dropped.iter().any(|cap| cap.as_str() == Some("ALL"));
        let forbidden: Vec<String> = added_capabilities(c)
            .iter()
            .map(text)
            .filter(|cap| cap != "NET_BIND_SERVICE")
            .collect();
        let mut details = Vec::new();
        if !drops_all {
            details.push(format!(
                "{} must set securityContext.capabilities.drop=[\"ALL\"]",
                container_label(c)
            ));
        }
        if !forbidden.is_empty() {
            details.push(format!(
                "{} must not include {} in securityContext.capabilities.add",
                container_label(c),
                join_quote(&sorted(forbidden))
            ));
        }
        if details.is_empty() {
            continue;
        }
        let path = if drops_all {
            container_security_path(c, &["capabilities", "add"])
        } else {
            written_container_security_path(c, &["capabilities", "drop"])
        };
        emit.emit(
            CAPABILITIES_RESTRICTED,
            Some(c.name),
            &path,
            format!("unrestricted capabilities ({})", details.join("; ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use palisade_core::Finding;

    use super::*;
    use crate::testing::{check_ids, findings, hits};

    /// A pod that passes the restricted level; each test adds one problem to it.
    fn restricted_pod(spec_extra: &str, container_extra: &str) -> String {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
{spec_extra}
  containers:
    - name: app
      image: registry.example.com/app:1.0
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop: ["ALL"]
{container_extra}
"#
        )
    }

    fn pss_findings(yaml: &str, id: &str) -> Vec<Finding> {
        findings(yaml)
            .into_iter()
            .filter(|f| f.check.id == id)
            .collect()
    }

    fn pss_ids(yaml: &str) -> Vec<String> {
        let catalogue = checks();
        check_ids(yaml)
            .into_iter()
            .filter(|id| catalogue.iter().any(|c| &c.id == id))
            .collect()
    }

    /// The single finding of `id`, with its container and evidence path.
    fn only(yaml: &str, id: &str) -> (Option<String>, String, String) {
        let found = pss_findings(yaml, id);
        assert_eq!(found.len(), 1, "expected one {id} finding, got {found:#?}");
        let f = &found[0];
        (
            f.container.clone(),
            f.evidence.path.clone(),
            f.message.clone(),
        )
    }

    #[test]
    fn the_restricted_pod_passes_every_check() {
        assert_eq!(pss_ids(&restricted_pod("", "")), Vec::<String>::new());
    }

    #[test]
    fn catalogue_maps_every_check_to_its_level() {
        let catalogue = checks();
        assert_eq!(catalogue.len(), 19);
        for check in &catalogue {
            let level = if [
                RESTRICTED_VOLUMES,
                ALLOW_PRIVILEGE_ESCALATION,
                RUN_AS_NON_ROOT,
                RUN_AS_USER,
                SECCOMP_PROFILE_RESTRICTED,
                CAPABILITIES_RESTRICTED,
                PROC_MOUNT_RESTRICTED,
            ]
            .contains(&check.id.as_str())
            {
                "restricted"
            } else {
                "baseline"
            };
            assert_eq!(check.frameworks.pss, vec![format!("{level}:{}", check.id)]);
            assert_eq!(check.category, Category::PodSecurity);
        }
    }

    #[test]
    fn privileged_container() {
        let yaml = restricted_pod("", "        privileged: true");
        let (container, path, message) = only(&yaml, PRIVILEGED);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(path, "spec.containers[0].securityContext.privileged");
        assert_eq!(
            message,
            r#"privileged (container "app" must not set securityContext.privileged=true)"#
        );
        assert!(
            pss_findings(&restricted_pod("", "        privileged: false"), PRIVILEGED).is_empty()
        );
    }

    #[test]
    fn privileged_init_and_ephemeral_containers_count() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
    - name: setup
      image: busybox
      securityContext: {privileged: true}
  containers:
    - name: app
      image: busybox
  ephemeralContainers:
    - name: debugger
      image: busybox
      securityContext: {privileged: true}
"#;
        let mut containers = hits(yaml, PRIVILEGED);
        containers.sort();
        assert_eq!(
            containers,
            vec![Some("debugger".to_string()), Some("setup".to_string())]
        );
        let paths: Vec<String> = pss_findings(yaml, PRIVILEGED)
            .into_iter()
            .map(|f| f.evidence.path)
            .collect();
        assert!(paths.contains(&"spec.ephemeralContainers[0].securityContext.privileged".into()));
    }

    #[test]
    fn host_namespaces_one_finding_per_namespace() {
        let yaml = restricted_pod("  hostPID: true\n  hostIPC: false\n  hostNetwork: true", "");
        let mut found: Vec<(String, String)> = pss_findings(&yaml, HOST_NAMESPACES)
            .into_iter()
            .map(|f| {
                assert_eq!(f.container, None);
                (f.evidence.path, f.message)
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (
                    "spec.hostNetwork".into(),
                    "host namespaces (hostNetwork=true)".into()
                ),
                (
                    "spec.hostPID".into(),
                    "host namespaces (hostPID=true)".into()
                ),
            ]
        );
        assert!(
            pss_findings(&restricted_pod("  hostNetwork: false", ""), HOST_NAMESPACES).is_empty()
        );
    }

    #[test]
    fn host_path_volume() {
        let yaml = restricted_pod(
            "  volumes:\n    - name: docker\n      hostPath: {path: /var/run/docker.sock}\n    - name: scratch\n      emptyDir: {}",
            "",
        );
        let (container, path, message) = only(&yaml, HOST_PATH_VOLUMES);
        assert_eq!(container, None);
        assert_eq!(path, "spec.volumes[0].hostPath");
        assert_eq!(message, r#"hostPath volumes (volume "docker")"#);
        // The restricted level reports the same volume through its wider check.
        let (_, path, message) = only(&yaml, RESTRICTED_VOLUMES);
        assert_eq!(path, "spec.volumes[0].hostPath");
        assert_eq!(
            message,
            r#"restricted volume types (volume "docker" uses restricted volume type "hostPath")"#
        );
    }

    #[test]
    fn host_ports_listed_per_container() {
        let yaml = restricted_pod(
            "",
            "      ports:\n        - containerPort: 8080\n        - containerPort: 443\n          hostPort: 443\n        - containerPort: 80\n          hostPort: 80",
        );
        let (container, path, message) = only(&yaml, HOST_PORTS);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(path, "spec.containers[0].ports[1].hostPort");
        assert_eq!(
            message,
            r#"hostPort (container "app" uses hostPorts 443, 80)"#
        );
        let no_host_port = restricted_pod(
            "",
            "      ports:\n        - containerPort: 8080\n          hostPort: 0",
        );
        assert!(pss_findings(&no_host_port, HOST_PORTS).is_empty());
    }

    #[test]
    fn capabilities_beyond_the_default_set() {
        let yaml = restricted_pod("", "          add: [SYS_ADMIN, CHOWN, NET_RAW, SYS_ADMIN]");
        let (container, path, message) = only(&yaml, CAPABILITIES_BASELINE);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(path, "spec.containers[0].securityContext.capabilities.add");
        assert_eq!(
            message,
            r#"non-default capabilities (container "app" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)"#
        );
        // The plugin compares exactly: lower case and the CAP_ prefix are not the default set.
        let spelled = restricted_pod("", "          add: [chown, CAP_CHOWN]");
        assert_eq!(pss_findings(&spelled, CAPABILITIES_BASELINE).len(), 1);
        let defaults = restricted_pod("", "          add: [NET_BIND_SERVICE]");
        assert!(pss_findings(&defaults, CAPABILITIES_BASELINE).is_empty());
    }

    #[test]
    fn apparmor_field_and_annotation() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    container.apparmor.security.beta.kubernetes.io/sidecar: unconfined
    container.apparmor.security.beta.kubernetes.io/app: localhost/custom
spec:
  securityContext:
    appArmorProfile: {type: Unconfined}
  containers:
    - name: app
      image: busybox
      securityContext:
        appArmorProfile: {type: RuntimeDefault}
    - name: sidecar
      image: busybox
      securityContext:
        appArmorProfile: {type: Unconfined}
"#;
        let mut found: Vec<(Option<String>, String)> = pss_findings(yaml, APPARMOR_PROFILE)
            .into_iter()
            .map(|f| (f.container, f.evidence.path))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (None, "spec.securityContext.appArmorProfile.type".to_string()),
                (
                    Some("sidecar".to_string()),
                    r#"metadata.annotations["container.apparmor.security.beta.kubernetes.io/sidecar"]"#
                        .to_string()
                ),
                (
                    Some("sidecar".to_string()),
                    "spec.containers[1].securityContext.appArmorProfile.type".to_string()
                ),
            ]
        );
        let messages: Vec<String> = pss_findings(yaml, APPARMOR_PROFILE)
            .into_iter()
            .map(|f| f.message)
            .collect();
        assert!(messages.contains(
            &r#"forbidden AppArmor profile (container "sidecar" must not set AppArmor profile type to "Unconfined")"#
                .to_string()
        ));
        let allowed = restricted_pod(
            "    appArmorProfile: {type: Localhost, localhostProfile: p}",
            "",
        );
        assert!(pss_findings(&allowed, APPARMOR_PROFILE).is_empty());
    }

    #[test]
    fn selinux_type_user_and_role() {
        let yaml = restricted_pod(
            "    seLinuxOptions: {type: spc_t, user: system_u}",
            "        seLinuxOptions: {role: sysadm_r, level: \"s0:c1\"}",
        );
        let mut found: Vec<(Option<String>, String, String)> = pss_findings(&yaml, SELINUX_OPTIONS)
            .into_iter()
            .map(|f| (f.container, f.evidence.path, f.message))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (
                    None,
                    "spec.securityContext.seLinuxOptions".into(),
                    r#"seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set)"#.into()
                ),
                (
                    Some("app".into()),
                    "spec.containers[0].securityContext.seLinuxOptions".into(),
                    r#"seLinuxOptions (container "app" set forbidden securityContext.seLinuxOptions: role may not be set)"#.into()
                ),
            ]
        );
        let allowed = restricted_pod(
            "    seLinuxOptions: {type: container_engine_t, level: \"s0:c1,c2\"}",
            "        seLinuxOptions: {}",
        );
        assert!(pss_findings(&allowed, SELINUX_OPTIONS).is_empty());
    }

    #[test]
    fn proc_mount_unmasked() {
        let yaml = restricted_pod("", "        procMount: Unmasked");
        let (container, path, message) = only(&yaml, PROC_MOUNT);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(path, "spec.containers[0].securityContext.procMount");
        assert_eq!(
            message,
            r#"procMount (container "app" must not set securityContext.procMount to "Unmasked")"#
        );
        assert_eq!(only(&yaml, PROC_MOUNT_RESTRICTED).1, path);
        assert!(
            pss_findings(
                &restricted_pod("", "        procMount: Default"),
                PROC_MOUNT
            )
            .is_empty()
        );
    }

    #[test]
    fn proc_mount_in_a_user_namespace_fails_only_restricted() {
        let yaml = restricted_pod("  hostUsers: false", "        procMount: Unmasked");
        assert!(pss_findings(&yaml, PROC_MOUNT).is_empty());
        let (container, _, _) = only(&yaml, PROC_MOUNT_RESTRICTED);
        assert_eq!(container.as_deref(), Some("app"));
    }

    #[test]
    fn seccomp_unconfined_fails_baseline() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: app
      image: busybox
      securityContext:
        seccompProfile: {type: Unconfined}
"#;
        let (container, path, message) = only(yaml, SECCOMP_PROFILE_BASELINE);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(
            path,
            "spec.containers[0].securityContext.seccompProfile.type"
        );
        assert_eq!(
            message,
            r#"seccompProfile (container "app" must not set securityContext.seccompProfile.type to "Unconfined")"#
        );
        // Unset is fine for baseline, not for restricted.
        let unset = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: app, image: busybox}]\n";
        assert!(pss_findings(unset, SECCOMP_PROFILE_BASELINE).is_empty());
        assert_eq!(pss_findings(unset, SECCOMP_PROFILE_RESTRICTED).len(), 1);
    }

    #[test]
    fn sysctls_outside_the_safe_set() {
        let yaml = restricted_pod(
            "    sysctls:\n      - {name: net.ipv4.tcp_rmem, value: \"4096 87380 6291456\"}\n      - {name: kernel.msgmax, value: \"65536\"}",
            "",
        );
        let (container, path, message) = only(&yaml, SYSCTLS);
        assert_eq!(container, None);
        assert_eq!(path, "spec.securityContext.sysctls[1].name");
        assert_eq!(message, "forbidden sysctls (kernel.msgmax)");
        let safe = restricted_pod(
            "    sysctls:\n      - {name: net.ipv4.tcp_keepalive_time, value: \"600\"}",
            "",
        );
        assert!(pss_findings(&safe, SYSCTLS).is_empty());
    }

    #[test]
    fn windows_host_process() {
        let yaml = restricted_pod(
            "    windowsOptions: {hostProcess: true}",
            "        windowsOptions: {hostProcess: true}",
        );
        let mut found: Vec<(Option<String>, String)> = pss_findings(&yaml, WINDOWS_HOST_PROCESS)
            .into_iter()
            .map(|f| (f.container, f.evidence.path))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (
                    None,
                    "spec.securityContext.windowsOptions.hostProcess".into()
                ),
                (
                    Some("app".into()),
                    "spec.containers[0].securityContext.windowsOptions.hostProcess".into()
                ),
            ]
        );
        let off = restricted_pod("    windowsOptions: {hostProcess: false}", "");
        assert!(pss_findings(&off, WINDOWS_HOST_PROCESS).is_empty());
    }

    #[test]
    fn probe_and_lifecycle_hosts() {
        let yaml = restricted_pod(
            "",
            "      readinessProbe:\n        tcpSocket: {port: 8080, host: 10.0.0.1}\n      lifecycle:\n        preStop:\n          httpGet: {port: 80, host: metadata.internal}",
        );
        let (container, path, message) = only(&yaml, HOST_PROBES_AND_HOST_LIFECYCLE);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(path, "spec.containers[0].readinessProbe.tcpSocket.host");
        assert_eq!(
            message,
            r#"probe or lifecycle host (container "app" uses probe or lifecycle hosts "10.0.0.1", "metadata.internal")"#
        );
        let no_host = restricted_pod(
            "",
            "      livenessProbe:\n        httpGet: {port: 8080, path: /}",
        );
        assert!(pss_findings(&no_host, HOST_PROBES_AND_HOST_LIFECYCLE).is_empty());
    }

    #[test]
    fn restricted_volume_types() {
        let yaml = restricted_pod(
            "  volumes:\n    - name: share\n      nfs: {server: nfs.example.com, path: /}\n    - name: implicit\n    - name: config\n      configMap: {name: c}\n    - name: img\n      image: {reference: registry.example.com/data:1}",
            "",
        );
        let (container, path, message) = only(&yaml, RESTRICTED_VOLUMES);
        assert_eq!(container, None);
        assert_eq!(path, "spec.volumes[0].nfs");
        assert_eq!(
            message,
            r#"restricted volume types (volume "share" uses restricted volume type "nfs")"#
        );
    }

    #[test]
    fn privilege_escalation_must_be_explicitly_false() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: unset
      image: busybox
    - name: allowed
      image: busybox
      securityContext: {allowPrivilegeEscalation: true}
    - name: denied
      image: busybox
      securityContext: {allowPrivilegeEscalation: false}
"#;
        let mut found: Vec<(Option<String>, String)> =
            pss_findings(yaml, ALLOW_PRIVILEGE_ESCALATION)
                .into_iter()
                .map(|f| (f.container, f.evidence.path))
                .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (
                    Some("allowed".into()),
                    "spec.containers[1].securityContext.allowPrivilegeEscalation".into()
                ),
                (Some("unset".into()), "spec.containers[0]".into()),
            ]
        );
    }

    #[test]
    fn run_as_non_root_at_pod_or_every_container() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: unset
      image: busybox
    - name: opted-in
      image: busybox
      securityContext: {runAsNonRoot: true}
    - name: opted-out
      image: busybox
      securityContext: {runAsNonRoot: false}
"#;
        let mut found: Vec<(Option<String>, String)> = pss_findings(yaml, RUN_AS_NON_ROOT)
            .into_iter()
            .map(|f| (f.container, f.message))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (
                    Some("opted-out".into()),
                    r#"runAsNonRoot != true (container "opted-out" must not set securityContext.runAsNonRoot=false)"#.into()
                ),
                (
                    Some("unset".into()),
                    r#"runAsNonRoot != true (pod or container "unset" must set securityContext.runAsNonRoot=true)"#.into()
                ),
            ]
        );
        let pod_false = restricted_pod("", "").replace("runAsNonRoot: true", "runAsNonRoot: false");
        let (container, path, _) = only(&pod_false, RUN_AS_NON_ROOT);
        assert_eq!(container, None);
        assert_eq!(path, "spec.securityContext.runAsNonRoot");
    }

    #[test]
    fn user_namespace_relaxes_run_as_checks() {
        let yaml = restricted_pod("  hostUsers: false", "        runAsUser: 0")
            .replace("runAsNonRoot: true", "runAsNonRoot: false");
        assert!(pss_findings(&yaml, RUN_AS_NON_ROOT).is_empty());
        assert!(pss_findings(&yaml, RUN_AS_USER).is_empty());
    }

    #[test]
    fn run_as_user_zero() {
        let yaml = restricted_pod("    runAsUser: 0", "        runAsUser: 0");
        let mut found: Vec<(Option<String>, String)> = pss_findings(&yaml, RUN_AS_USER)
            .into_iter()
            .map(|f| (f.container, f.evidence.path))
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (None, "spec.securityContext.runAsUser".into()),
                (
                    Some("app".into()),
                    "spec.containers[0].securityContext.runAsUser".into()
                ),
            ]
        );
        let non_root = restricted_pod("    runAsUser: 1000", "");
        assert!(pss_findings(&non_root, RUN_AS_USER).is_empty());
    }

    #[test]
    fn seccomp_required_at_pod_or_every_container() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
    - name: init
      image: busybox
      securityContext:
        seccompProfile: {type: Localhost, localhostProfile: p.json}
  containers:
    - name: app
      image: busybox
      securityContext: {}
"#;
        let (container, path, message) = only(yaml, SECCOMP_PROFILE_RESTRICTED);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(path, "spec.containers[0].securityContext");
        assert_eq!(
            message,
            r#"seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        );
        let pod_unconfined =
            restricted_pod("", "").replace("type: RuntimeDefault", "type: Unconfined");
        let (container, path, _) = only(&pod_unconfined, SECCOMP_PROFILE_RESTRICTED);
        assert_eq!(container, None);
        assert_eq!(path, "spec.securityContext.seccompProfile.type");
    }

    #[test]
    fn capabilities_drop_all_and_add_only_net_bind_service() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: keeps
      image: busybox
      securityContext:
        capabilities: {drop: [NET_RAW]}
    - name: adds
      image: busybox
      securityContext:
        capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, CHOWN]}
    - name: fine
      image: busybox
      securityContext:
        capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
"#;
        let mut found: Vec<(Option<String>, String, String)> =
            pss_findings(yaml, CAPABILITIES_RESTRICTED)
                .into_iter()
                .map(|f| (f.container, f.evidence.path, f.message))
                .collect();
        found.sort();
        assert_eq!(
            found,
            vec![
                (
                    Some("adds".into()),
                    "spec.containers[1].securityContext.capabilities.add".into(),
                    r#"unrestricted capabilities (container "adds" must not include "CHOWN" in securityContext.capabilities.add)"#.into()
                ),
                (
                    Some("keeps".into()),
                    "spec.containers[0].securityContext.capabilities.drop".into(),
                    r#"unrestricted capabilities (container "keeps" must set securityContext.capabilities.drop=["ALL"])"#.into()
                ),
            ]
        );
    }

    #[test]
    fn windows_pods_are_exempt_from_linux_only_restricted_checks() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  os: {name: windows}
  securityContext: {runAsNonRoot: true}
  containers:
    - name: app
      image: mcr.microsoft.com/windows/nanoserver
"#;
        assert_eq!(pss_ids(yaml), Vec::<String>::new());
        let linux = yaml.replace("os: {name: windows}", "os: {name: linux}");
        assert_eq!(
            pss_ids(&linux),
            vec![
                ALLOW_PRIVILEGE_ESCALATION.to_string(),
                CAPABILITIES_RESTRICTED.to_string(),
                SECCOMP_PROFILE_RESTRICTED.to_string(),
            ]
        );
    }

    #[test]
    fn deployment_template_gets_the_findings_of_its_pods() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata:
      annotations:
        container.apparmor.security.beta.kubernetes.io/app: unconfined
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: busybox
          securityContext: {privileged: true}
"#;
        let (container, path, _) = only(yaml, PRIVILEGED);
        assert_eq!(container.as_deref(), Some("app"));
        assert_eq!(
            path,
            "spec.template.spec.containers[0].securityContext.privileged"
        );
        assert_eq!(
            only(yaml, HOST_NAMESPACES).1,
            "spec.template.spec.hostNetwork"
        );
        assert_eq!(
            only(yaml, APPARMOR_PROFILE).1,
            r#"spec.template.metadata.annotations["container.apparmor.security.beta.kubernetes.io/app"]"#
        );
    }

    #[test]
    fn malformed_values_do_not_panic() {
        let yaml = r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations: [not, a, map]
spec:
  securityContext: "nope"
  volumes: {not: a list}
  hostNetwork: "yes"
  containers:
    - name: app
      image: busybox
      ports: 8080
      securityContext:
        capabilities: {add: {SYS_ADMIN: true}, drop: ALL}
        runAsUser: "0"
        seccompProfile: null
    - 42
    - name: null
"#;
        let ids = pss_ids(yaml);
        assert!(ids.contains(&CAPABILITIES_RESTRICTED.to_string()));
        assert!(!ids.contains(&HOST_NAMESPACES.to_string()));
        assert!(!ids.contains(&RUN_AS_USER.to_string()));
    }
}
