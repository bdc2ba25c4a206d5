//! Workload hardening beyond the Pod Security Standards: sensitive host paths, dangerous
//! capabilities, read-only root filesystems, resources, probes, images, service accounts, secrets in
//! environment variables, the default namespace.
//!
//! The Pod Security Standards controls themselves (privileged, hostPath in general, capabilities
//! outside the baseline set, …) live in `pss.rs`; the checks here say *which* host path, *which*
//! capability, *which* image, so a reader can rank the findings PSS reports in bulk.

use palisade_core::{
    Category, Check, FieldPath, Frameworks, Node, Resource, Severity, credentials,
};

use crate::emit::Emitter;
use crate::pod::{ContainerView, PodView};

const HOST_PATH_ROOT: &str = "host-path-root";
const HOST_PATH_RUNTIME_SOCKET: &str = "host-path-runtime-socket";
const HOST_PATH_SENSITIVE: &str = "host-path-sensitive";
const CAP_SYS_ADMIN: &str = "cap-sys-admin";
const CAP_ALL_ADDED: &str = "cap-all-added";
const CAP_NET_RAW: &str = "cap-net-raw";
const CAP_NET_RAW_NOT_DROPPED: &str = "cap-net-raw-not-dropped";
const READ_ONLY_ROOT_FILESYSTEM: &str = "read-only-root-filesystem";
const MEMORY_LIMITS: &str = "resources-memory-limits";
const CPU_LIMITS: &str = "resources-cpu-limits";
const MEMORY_REQUESTS: &str = "resources-memory-requests";
const CPU_REQUESTS: &str = "resources-cpu-requests";
const LIVENESS_PROBE: &str = "liveness-probe";
const READINESS_PROBE: &str = "readiness-probe";
const IMAGE_TAG_LATEST: &str = "image-tag-latest";
const IMAGE_NO_DIGEST: &str = "image-no-digest";
const IMAGE_REGISTRY_NOT_ALLOWED: &str = "image-registry-not-allowed";
const AUTOMOUNT_TOKEN: &str = "automount-service-account-token";
const DEFAULT_SERVICE_ACCOUNT: &str = "default-service-account";
const DEFAULT_NAMESPACE: &str = "default-namespace";
const ENV_SECRET_LITERAL: &str = "env-secret-literal";

const NSA_POD: &str = "Kubernetes Pod security";
const NSA_NETWORK: &str = "Network separation and hardening";
const MS_HOST_PATH: &str = "MS-TA9013: Writable hostPath mount";
const MS_SERVICE_ACCOUNT: &str = "MS-TA9016: Container service account";
const MS_CONFIG_CREDENTIALS: &str = "MS-TA9027: Application credentials in configuration files";
const MS_COMPROMISED_IMAGE: &str = "MS-TA9002: Compromised image in registry";
const MS_DENIAL_OF_SERVICE: &str = "MS-TA9040: Denial of service";
const MS_ARP_POISONING: &str = "MS-TA9036: ARP poisoning and IP spoofing";

fn frameworks(cis: &[&str], nsa: &[&str], mitre: &[&str], microsoft: &[&str]) -> Frameworks {
    let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    Frameworks {
        pss: Vec::new(),
        cis: owned(cis),
        nsa: owned(nsa),
        mitre: owned(mitre),
        microsoft: owned(microsoft),
    }
}

fn check(
    id: &str,
    title: &str,
    severity: Severity,
    category: Category,
    description: &str,
    remediation: &str,
    frameworks: Frameworks,
) -> Check {
    Check {
        id: id.to_string(),
        title: title.to_string(),
        severity,
        category,
        description: description.to_string(),
        remediation: remediation.to_string(),
        frameworks,
    }
}

pub(crate) fn checks() -> Vec<Check> {
    use Category::{Image, Workload};
    use Severity::{Critical, High, Low, Medium};
    vec![
        check(
            HOST_PATH_ROOT,
            "hostPath volume mounts the host's root filesystem",
            Critical,
            Workload,
            "A hostPath volume with path `/` hands the container the node's whole filesystem: \
             kubelet credentials, every pod's secrets under /var/lib/kubelet, the runtime socket, \
             cron and systemd units. Written to, it is a direct escape to the node (`chroot /host`); \
             even read-only it exposes every credential stored on the node.",
            "Mount only the directory the workload needs, read-only, and prefer a purpose-built \
             volume (emptyDir, a CSI driver, the downward API) over hostPath:\n\
             ```yaml\nvolumes:\n- name: proc\n  hostPath: {path: /proc, type: Directory}\n\
             containers:\n- volumeMounts:\n  - {name: proc, mountPath: /host/proc, readOnly: true}\n```",
            frameworks(&["5.2.12"], &[NSA_POD], &["T1611"], &[MS_HOST_PATH]),
        ),
        check(
            HOST_PATH_RUNTIME_SOCKET,
            "hostPath volume exposes a container runtime socket",
            Critical,
            Workload,
            "Whoever can talk to the Docker, containerd or CRI-O socket controls the node's \
             container runtime: they can start a privileged container with the host's root \
             mounted, read any container's filesystem and environment, and bypass admission \
             control entirely. Mounting the socket read-only does not help, because connecting to \
             a UNIX socket is not a write to the file.",
            "Remove the hostPath volume. Build images with a daemonless builder (BuildKit rootless, \
             kaniko, buildah) and read container logs from `/var/log/pods` instead of asking the \
             runtime; if the workload truly must drive the runtime, isolate it on dedicated nodes \
             and restrict who can create pods in its namespace.",
            frameworks(
                &["5.2.12"],
                &[NSA_POD],
                &["T1610", "T1611"],
                &[MS_HOST_PATH],
            ),
        ),
        check(
            HOST_PATH_SENSITIVE,
            "hostPath volume mounts a sensitive host directory",
            High,
            Workload,
            "hostPath volumes under locations such as /etc, /proc, /sys, /dev, /root, /var/log, \
             /var/lib/kubelet or the runtime's state directories expose node configuration, \
             credentials and other pods' data. Writable, they let an attacker plant cron jobs, \
             replace binaries or tamper with logs and escape to the node.",
            "Mount the narrowest path the workload needs and set `readOnly: true` on every \
             `volumeMounts` entry that uses it; replace hostPath with emptyDir, a ConfigMap, the \
             downward API or a CSI driver where possible.",
            frameworks(&["5.2.12"], &[NSA_POD], &["T1611"], &[MS_HOST_PATH]),
        ),
        check(
            CAP_SYS_ADMIN,
            "Container adds the SYS_ADMIN capability",
            High,
            Workload,
            "CAP_SYS_ADMIN is the catch-all capability: it allows mount, namespace manipulation, \
             BPF and many other administrative operations, and is the precondition of most known \
             container escapes (cgroup release_agent, mounting host devices).",
            "Remove `SYS_ADMIN` from `securityContext.capabilities.add` and drop everything the \
             container does not need:\n```yaml\nsecurityContext:\n  capabilities:\n    \
             drop: [ALL]\n```",
            frameworks(&["5.2.9"], &[NSA_POD], &["T1611"], &[]),
        ),
        check(
            CAP_ALL_ADDED,
            "Container adds all Linux capabilities",
            Critical,
            Workload,
            "`capabilities.add: [ALL]` grants every capability, including SYS_ADMIN, SYS_MODULE \
             (loading kernel modules) and SYS_PTRACE: short of device access this is a privileged \
             container, and loading a kernel module is a direct path to the node.",
            "Replace `ALL` in `securityContext.capabilities.add` with the specific capabilities the \
             process needs (often none), and set `capabilities.drop: [ALL]`.",
            frameworks(&["5.2.9"], &[NSA_POD], &["T1611"], &[]),
        ),
        check(
            CAP_NET_RAW,
            "Container adds the NET_RAW capability",
            Medium,
            Workload,
            "NET_RAW lets a process craft raw packets: ARP and DNS spoofing of neighbouring pods on \
             the same node, and a history of kernel vulnerabilities reachable through raw sockets. \
             Few workloads need it (ping does not, with unprivileged ICMP sockets).",
            "Remove `NET_RAW` from `securityContext.capabilities.add`; grant unprivileged ping with \
             the `net.ipv4.ping_group_range` sysctl instead.",
            frameworks(
                &["5.2.8", "5.2.9"],
                &[NSA_POD],
                &["T1557.002"],
                &[MS_ARP_POISONING],
            ),
        ),
        check(
            CAP_NET_RAW_NOT_DROPPED,
            "Container keeps the default NET_RAW capability",
            Low,
            Workload,
            "Container runtimes grant NET_RAW by default, so a container that drops neither `ALL` \
             nor `NET_RAW` can forge packets and spoof ARP or DNS replies towards other pods on the \
             node.",
            "Drop all capabilities and add back only what the process needs:\n```yaml\n\
             securityContext:\n  capabilities:\n    drop: [ALL]\n```",
            frameworks(
                &["5.2.8", "5.2.10"],
                &[NSA_POD],
                &["T1557.002"],
                &[MS_ARP_POISONING],
            ),
        ),
        check(
            READ_ONLY_ROOT_FILESYSTEM,
            "Container root filesystem is writable",
            Medium,
            Workload,
            "A writable root filesystem lets an attacker who gets code execution drop tools, \
             modify the application's binaries or configuration and persist until the container is \
             replaced. An immutable filesystem makes such changes fail and makes drift obvious.",
            "Set `securityContext.readOnlyRootFilesystem: true` on the container and mount an \
             emptyDir wherever the application must write (e.g. /tmp, caches):\n```yaml\n\
             securityContext:\n  readOnlyRootFilesystem: true\nvolumeMounts:\n\
             - {name: tmp, mountPath: /tmp}\n```",
            frameworks(&["5.7.3"], &[NSA_POD], &[], &[]),
        ),
        check(
            MEMORY_LIMITS,
            "Container has no memory limit",
            Medium,
            Workload,
            "Without a memory limit a leaking or compromised container can take all the node's \
             memory, making the kernel kill other pods and the kubelet evict workloads. A \
             LimitRange in the namespace can supply a default the manifest does not show.",
            "Set `resources.limits.memory` on every container (or a namespace LimitRange \
             default):\n```yaml\nresources:\n  requests: {memory: 128Mi}\n  limits: {memory: 256Mi}\n```",
            frameworks(&[], &[NSA_NETWORK], &["T1499"], &[MS_DENIAL_OF_SERVICE]),
        ),
        check(
            CPU_LIMITS,
            "Container has no CPU limit",
            Low,
            Workload,
            "Without a CPU limit a container may use every idle core of its node, which is how \
             cryptominers in compromised pods go unnoticed. CPU is compressible, so some teams \
             deliberately rely on requests alone; disable this check if that is your policy.",
            "Set `resources.limits.cpu` on every container, or a namespace LimitRange default.",
            frameworks(
                &[],
                &[NSA_NETWORK],
                &["T1496", "T1499"],
                &[MS_DENIAL_OF_SERVICE],
            ),
        ),
        check(
            MEMORY_REQUESTS,
            "Container has no memory request",
            Low,
            Workload,
            "The scheduler places pods by their requests: a container without a memory request is \
             placed as if it needed none, overcommitting the node, and its pod is among the first \
             evicted under memory pressure. A limit alone sets the request to the same value.",
            "Set `resources.requests.memory` to the container's typical working set.",
            frameworks(&[], &[NSA_NETWORK], &[], &[MS_DENIAL_OF_SERVICE]),
        ),
        check(
            CPU_REQUESTS,
            "Container has no CPU request",
            Low,
            Workload,
            "Without a CPU request the container gets the smallest share of CPU under contention \
             and the scheduler cannot keep busy nodes from being overcommitted. A limit alone sets \
             the request to the same value.",
            "Set `resources.requests.cpu` to the container's typical usage.",
            frameworks(&[], &[NSA_NETWORK], &[], &[MS_DENIAL_OF_SERVICE]),
        ),
        check(
            LIVENESS_PROBE,
            "Container has no liveness probe",
            Low,
            Workload,
            "Without a liveness probe the kubelet only restarts a container whose process exits; \
             a hung or deadlocked process keeps its pod in service indefinitely. Jobs, CronJobs \
             and run-to-completion Pods are not checked.",
            "Add a `livenessProbe` that fails when the process can no longer make progress:\n\
             ```yaml\nlivenessProbe:\n  httpGet: {path: /healthz, port: http}\n  periodSeconds: 10\n```",
            frameworks(&[], &[], &[], &[]),
        ),
        check(
            READINESS_PROBE,
            "Container has no readiness probe",
            Low,
            Workload,
            "Without a readiness probe a pod receives Service traffic as soon as its containers \
             start, and rolling updates count a pod as available before it can serve, so a broken \
             release can replace every working replica. Jobs, CronJobs and run-to-completion Pods \
             are not checked.",
            "Add a `readinessProbe` that succeeds only when the container can serve requests:\n\
             ```yaml\nreadinessProbe:\n  httpGet: {path: /ready, port: http}\n```",
            frameworks(&[], &[], &[], &[]),
        ),
        check(
            IMAGE_TAG_LATEST,
            "Container image uses the `latest` tag or no tag",
            Medium,
            Image,
            "`latest` (which is also what an untagged image means) is a moving target: each node \
             may run a different build, a rollback cannot return to the previous code, and whoever \
             can push to the repository changes what runs in the cluster at the next pull.",
            "Reference images by an immutable version tag, ideally pinned by digest:\n\
             `image: ghcr.io/acme/cart:1.4.2@sha256:<digest>`",
            frameworks(&[], &[], &["T1525"], &[MS_COMPROMISED_IMAGE]),
        ),
        check(
            IMAGE_NO_DIGEST,
            "Container image is not pinned by digest",
            Low,
            Image,
            "Version tags are mutable: a registry user (or an attacker with push access) can move \
             a tag to different content, and nodes pulling later run it. Only a digest identifies \
             the exact image that was reviewed and scanned. Images tagged `latest` or untagged are \
             reported by image-tag-latest instead.",
            "Append the digest to the reference (`image: redis:7.2.5@sha256:<digest>`), e.g. with \
             `crane digest` or your CD tool's image-pinning feature.",
            frameworks(&[], &[], &["T1525"], &[MS_COMPROMISED_IMAGE]),
        ),
        check(
            IMAGE_REGISTRY_NOT_ALLOWED,
            "Container image comes from a registry that is not allowed",
            Medium,
            Image,
            "The configuration lists the registries images may come from (`registries.allowed`); \
             an image from anywhere else bypasses the scanning, signing and access control those \
             registries provide, and may be a typosquatted or compromised public image.",
            "Mirror the image into an allowed registry and reference it there, or add its registry \
             to `registries.allowed` in palisade.yaml if it is trusted; enforce the list at \
             admission (ImagePolicyWebhook, Kyverno, Gatekeeper).",
            frameworks(
                &["5.5.1"],
                &[],
                &["T1525", "T1195.002"],
                &[MS_COMPROMISED_IMAGE],
            ),
        ),
        check(
            AUTOMOUNT_TOKEN,
            "Service account token is mounted into the pod",
            Medium,
            Workload,
            "Unless `automountServiceAccountToken: false` is set, every container gets a token for \
             the pod's ServiceAccount at /var/run/secrets/kubernetes.io/serviceaccount. Anyone who \
             gets code execution in the pod can use it against the API server with all of the \
             account's permissions. Only the pod spec is checked: a ServiceAccount that disables \
             automounting is not taken into account.",
            "Set `automountServiceAccountToken: false` in the pod spec of workloads that do not \
             call the Kubernetes API, and on the ServiceAccount itself; mount a projected token \
             explicitly where one is needed.",
            frameworks(&["5.1.6"], &[NSA_POD], &["T1528"], &[MS_SERVICE_ACCOUNT]),
        ),
        check(
            DEFAULT_SERVICE_ACCOUNT,
            "Pod runs as the namespace's default ServiceAccount",
            Medium,
            Workload,
            "Every pod that names no ServiceAccount shares the namespace's `default` one, so any \
             permission granted to it for one workload is granted to all of them, and audit logs \
             cannot tell them apart. Reported at low severity when the pod does not mount the \
             account's token, since the shared identity is then not usable from inside the pod.",
            "Create a ServiceAccount per workload and set `spec.serviceAccountName`; give the \
             `default` ServiceAccount `automountServiceAccountToken: false` and no RoleBindings.",
            frameworks(&["5.1.5"], &[], &["T1528"], &[MS_SERVICE_ACCOUNT]),
        ),
        check(
            DEFAULT_NAMESPACE,
            "Object is created in the default namespace",
            Low,
            Workload,
            "The `default` namespace is where everything lands by accident, so RBAC, \
             NetworkPolicies, quotas and Pod Security labels are rarely tailored to it, and its \
             objects share one administrative boundary. Only an explicit `namespace: default` is \
             reported: manifests without a namespace go to whichever namespace the applying user \
             has selected.",
            "Create a namespace per application or team and set `metadata.namespace` to it; label \
             it with the Pod Security Standards level it should enforce.",
            frameworks(&["5.7.1", "5.7.4"], &[NSA_NETWORK], &[], &[]),
        ),
        check(
            ENV_SECRET_LITERAL,
            "Secret is set as a literal environment variable value",
            High,
            Workload,
            "A credential written into `env[].value` is stored in the manifest, in version \
             control, in the object (readable by everyone who may get or list the workload, which \
             is far more people than may read Secrets) and in `kubectl describe` output. \
             Variables are reported when their name suggests a credential (PASSWORD, SECRET, \
             TOKEN, API_KEY, …) or their value looks like a known credential format (AWS access \
             key, GitHub, GitLab, Slack or Stripe token, PEM private key, JWT, URL with a password).",
            "Move the value into a Secret (or an external secret store) and reference it; rotate \
             the exposed credential:\n```yaml\nenv:\n- name: DB_PASSWORD\n  valueFrom:\n    \
             secretKeyRef: {name: db-credentials, key: password}\n```\nMounting the Secret as a \
             file is better still: environment variables leak into child processes and crash dumps.",
            frameworks(
                &["5.4.1"],
                &[NSA_NETWORK],
                &["T1552.001", "T1552.007"],
                &[MS_CONFIG_CREDENTIALS],
            ),
        ),
    ]
}

pub(crate) fn assess_pod(pod: &PodView<'_>, emit: &mut Emitter<'_>) {
    host_paths(pod, emit);
    // Windows containers have neither Linux capabilities nor read-only root filesystems; the pod
    // security admission plugin exempts them from those controls the same way.
    let windows = pod
        .spec
        .get("os")
        .and_then(|os| os.str_at("name"))
        .is_some_and(|name| name.eq_ignore_ascii_case("windows"));
    let probes_apply = needs_probes(emit.resource(), pod);
    for container in pod.containers() {
        if !windows {
            capabilities(&container, emit);
            if container.list != "ephemeralContainers" {
                read_only_root_filesystem(&container, emit);
            }
        }
        if container.list != "ephemeralContainers" {
            resources(pod, &container, emit);
        }
        if probes_apply && container.list == "containers" {
            probes(&container, emit);
        }
        image(&container, emit);
        env_secrets(&container, emit);
    }
    service_account(pod, emit);
}

pub(crate) fn assess(resource: &Resource, emit: &mut Emitter<'_>) {
    default_namespace(resource, emit);
}

/// The deepest path along `keys` below `base` that exists in `node`: a finding about a missing
/// field points at the enclosing field the user did write.
fn deepest(node: &Node, base: FieldPath, keys: &[&str]) -> FieldPath {
    let mut path = base;
    let mut current = node;
    for key in keys {
        match current.get(key) {
            Some(next) => {
                path = path.key(key);
                current = next;
            }
            None => break,
        }
    }
    path
}

// ---------------------------------------------------------------------------------------------
// Host paths

/// What a hostPath volume exposes, most severe first.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exposure {
    HostRoot,
    /// A runtime socket, the directory holding one, or a directory above it.
    RuntimeSocket {
        socket: &'static str,
        what: &'static str,
    },
    Sensitive {
        location: &'static str,
        what: &'static str,
    },
}

/// Container runtime sockets and the directories they live in. `/var/run` is a symlink to `/run`
/// on every current distribution, so both spellings are listed.
const RUNTIME_SOCKETS: &[(&str, &str)] = &[
    ("/var/run/docker.sock", "the Docker daemon socket"),
    ("/run/docker.sock", "the Docker daemon socket"),
    ("/var/run/docker", "Docker's runtime directory"),
    ("/run/docker", "Docker's runtime directory"),
    ("/var/run/containerd", "the containerd socket directory"),
    ("/run/containerd", "the containerd socket directory"),
    ("/run/k3s/containerd", "the k3s containerd socket directory"),
    ("/var/run/crio", "the CRI-O socket directory"),
    ("/run/crio", "the CRI-O socket directory"),
    ("/var/run/cri-dockerd.sock", "the cri-dockerd socket"),
    ("/run/cri-dockerd.sock", "the cri-dockerd socket"),
    ("/var/run/dockershim.sock", "the dockershim socket"),
    ("/run/dockershim.sock", "the dockershim socket"),
    ("/var/run/podman", "the Podman socket directory"),
    ("/run/podman", "the Podman socket directory"),
    ("/run/buildkit", "the BuildKit daemon socket directory"),
    (
        "/var/snap/microk8s/common/run",
        "the MicroK8s containerd socket directory",
    ),
];

/// Host locations whose exposure is a strong escalation step (but not by itself the whole node).
const SENSITIVE_HOST_PATHS: &[(&str, &str)] = &[
    (
        "/etc/kubernetes",
        "Kubernetes node configuration and credentials",
    ),
    ("/etc", "host configuration"),
    ("/proc", "the host's process information"),
    ("/sys", "the host's kernel and device interfaces"),
    ("/dev", "host devices"),
    ("/root", "the root user's home directory"),
    ("/home", "user home directories"),
    ("/boot", "the kernel and boot loader"),
    ("/var/log", "host and container logs"),
    (
        "/var/lib/kubelet",
        "kubelet state, including every pod's Secret volumes",
    ),
    ("/var/lib/etcd", "etcd data, including every Secret"),
    ("/var/lib/docker", "container runtime state and images"),
    ("/var/lib/containerd", "container runtime state and images"),
    ("/var/lib/containers", "container runtime state and images"),
    ("/var/lib/rancher", "k3s/RKE2 state and credentials"),
    ("/var/spool/cron", "host cron jobs"),
    ("/usr/bin", "host binaries"),
    ("/usr/sbin", "host binaries"),
    ("/usr/local/bin", "host binaries"),
    ("/usr/lib", "host libraries"),
    ("/bin", "host binaries"),
    ("/sbin", "host binaries"),
    ("/lib", "host libraries"),
    ("/lib64", "host libraries"),
];

/// Paths under sensitive locations that workloads routinely mount read-only for harmless reasons
/// (time zone, CA bundle, kernel modules for kube-proxy and eBPF agents). Mounted read-only they
/// are not reported.
const BENIGN_READ_ONLY: &[&str] = &[
    "/etc/localtime",
    "/etc/timezone",
    "/usr/share/zoneinfo",
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust",
    "/etc/ca-certificates",
    "/usr/share/ca-certificates",
    "/usr/local/share/ca-certificates",
    "/etc/machine-id",
    "/etc/os-release",
    "/lib/modules",
];

/// Resolves `.`, `..`, repeated and trailing slashes lexically (the kubelet does not resolve
/// symlinks for us either). `None` for paths that are not absolute Unix paths.
fn normalise_host_path(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if !raw.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for segment in raw.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Whether `path` is `base` or lies below it.
fn is_within(path: &str, base: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// What mounting `path` exposes: the location itself, something it lies under, or something below
/// it (mounting `/var` exposes `/var/run/docker.sock`).
fn classify_host_path(path: &str) -> Option<Exposure> {
    if path == "/" {
        return Some(Exposure::HostRoot);
    }
    let overlaps = |location: &str| is_within(path, location) || is_within(location, path);
    if let Some((socket, what)) = RUNTIME_SOCKETS.iter().find(|(s, _)| overlaps(s)) {
        return Some(Exposure::RuntimeSocket { socket, what });
    }
    // The list runs from specific to general, so `/etc/kubernetes` wins over `/etc`.
    SENSITIVE_HOST_PATHS
        .iter()
        .find(|(location, _)| overlaps(location))
        .map(|(location, what)| Exposure::Sensitive { location, what })
}

/// A container that mounts a volume, and whether every one of its mounts of it is read-only.
struct Mount<'a> {
    container: &'a str,
    read_only: bool,
}

fn mounts_of<'a>(pod: &PodView<'a>, volume: &str) -> Vec<Mount<'a>> {
    let mut mounts: Vec<Mount<'a>> = Vec::new();
    for container in pod.containers() {
        let entries = container
            .node
            .get("volumeMounts")
            .map(Node::items)
            .unwrap_or(&[]);
        let mut read_only = None;
        for entry in entries.iter().filter(|m| m.str_at("name") == Some(volume)) {
            let this = entry.is_true("readOnly");
            read_only = Some(read_only.unwrap_or(true) && this);
        }
        if let Some(read_only) = read_only {
            mounts.push(Mount {
                container: container.name,
                read_only,
            });
        }
    }
    mounts
}

fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn describe_mounts(mounts: &[Mount<'_>]) -> String {
    let writable: Vec<&str> = mounts
        .iter()
        .filter(|m| !m.read_only)
        .map(|m| m.container)
        .collect();
    let read_only: Vec<&str> = mounts
        .iter()
        .filter(|m| m.read_only)
        .map(|m| m.container)
        .collect();
    let plural = |n: usize| if n == 1 { "container" } else { "containers" };
    match (writable.is_empty(), read_only.is_empty()) {
        (true, true) => "no container mounts it".to_string(),
        (false, true) => format!(
            "mounted read-write by {} {}",
            plural(writable.len()),
            quoted_list(&writable)
        ),
        (true, false) => format!(
            "mounted read-only by {} {}",
            plural(read_only.len()),
            quoted_list(&read_only)
        ),
        (false, false) => format!(
            "mounted read-write by {} {} and read-only by {}",
            plural(writable.len()),
            quoted_list(&writable),
            quoted_list(&read_only)
        ),
    }
}

fn host_paths(pod: &PodView<'_>, emit: &mut Emitter<'_>) {
    for (index, volume) in pod.volumes() {
        let Some(raw) = volume.at(&["hostPath", "path"]).and_then(Node::as_str) else {
            continue;
        };
        let Some(path) = normalise_host_path(raw) else {
            continue;
        };
        let Some(exposure) = classify_host_path(&path) else {
            continue;
        };
        let name = volume.str_at("name").unwrap_or("");
        let mounts = mounts_of(pod, name);
        let all_read_only = mounts.iter().all(|m| m.read_only);
        if all_read_only && BENIGN_READ_ONLY.iter().any(|b| is_within(&path, b)) {
            continue;
        }
        let field = pod
            .spec_path(&["volumes"])
            .index(index)
            .keys(&["hostPath", "path"]);
        let mounted = describe_mounts(&mounts);
        let shown = if path == raw {
            format!("`{path}`")
        } else {
            format!("`{raw}` (that is, `{path}`)")
        };
        match exposure {
            Exposure::HostRoot => emit.emit(
                HOST_PATH_ROOT,
                None,
                &field,
                format!(
                    "hostPath volume `{name}` mounts the host's root filesystem {shown}, {mounted}"
                ),
            ),
            Exposure::RuntimeSocket { socket, what } => {
                let relation = if path == socket {
                    format!("is {what}")
                } else if is_within(&path, socket) {
                    format!("lies in {what} `{socket}`")
                } else {
                    format!("contains {what} `{socket}`")
                };
                let caveat = if !mounts.is_empty() && all_read_only {
                    "; a read-only mount does not stop a process from using the socket"
                } else {
                    ""
                };
                emit.emit(
                    HOST_PATH_RUNTIME_SOCKET,
                    None,
                    &field,
                    format!("hostPath volume `{name}` mounts {shown}, which {relation}, {mounted}{caveat}"),
                );
            }
            Exposure::Sensitive { location, what } => {
                let relation = if path == location {
                    what.to_string()
                } else if is_within(&path, location) {
                    format!("under `{location}`: {what}")
                } else {
                    format!("which contains `{location}`: {what}")
                };
                emit.emit(
                    HOST_PATH_SENSITIVE,
                    None,
                    &field,
                    format!("hostPath volume `{name}` mounts {shown} ({relation}), {mounted}"),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Capabilities

/// Runtimes accept capability names in any case and with or without the `CAP_` prefix.
fn normalise_capability(raw: &str) -> String {
    let upper = raw.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(bare) => bare.to_string(),
        None => upper,
    }
}

fn capability_list<'a>(container: &ContainerView<'a>, which: &str) -> Vec<(usize, String)> {
    container
        .security_context()
        .and_then(|sc| sc.at(&["capabilities", which]))
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, item)| item.as_str().map(|s| (i, normalise_capability(s))))
        .collect()
}

fn capabilities(container: &ContainerView<'_>, emit: &mut Emitter<'_>) {
    let added = capability_list(container, "add");
    let dropped = capability_list(container, "drop");
    let name = container.name;
    let add_path = |i: usize| {
        container
            .field(&["securityContext", "capabilities", "add"])
            .index(i)
    };
    let mut adds_net_raw = false;
    let mut adds_all = false;
    for (i, capability) in &added {
        match capability.as_str() {
            "ALL" => {
                adds_all = true;
                emit.emit(
                    CAP_ALL_ADDED,
                    Some(name),
                    &add_path(*i),
                    format!("container `{name}` adds all capabilities (`capabilities.add: [ALL]`)"),
                );
            }
            "SYS_ADMIN" => emit.emit(
                CAP_SYS_ADMIN,
                Some(name),
                &add_path(*i),
                format!("container `{name}` adds `SYS_ADMIN`"),
            ),
            "NET_RAW" => {
                adds_net_raw = true;
                emit.emit(
                    CAP_NET_RAW,
                    Some(name),
                    &add_path(*i),
                    format!("container `{name}` adds `NET_RAW`"),
                );
            }
            _ => {}
        }
    }
    // A privileged container has every capability whatever it drops; PSS reports that.
    let privileged = container
        .security_context()
        .is_some_and(|sc| sc.is_true("privileged"));
    let drops_net_raw = dropped.iter().any(|(_, c)| c == "ALL" || c == "NET_RAW");
    if !adds_all && !adds_net_raw && !privileged && !drops_net_raw {
        let path = deepest(
            container.node,
            container.path.clone(),
            &["securityContext", "capabilities", "drop"],
        );
        emit.emit(
            CAP_NET_RAW_NOT_DROPPED,
            Some(name),
            &path,
            format!(
                "container `{name}` drops neither `ALL` nor `NET_RAW`, so it keeps the runtime's default `NET_RAW`"
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Read-only root filesystem

fn read_only_root_filesystem(container: &ContainerView<'_>, emit: &mut Emitter<'_>) {
    let setting = container
        .security_context()
        .and_then(|sc| sc.get("readOnlyRootFilesystem"));
    if setting.and_then(Node::as_bool) == Some(true) {
        return;
    }
    let name = container.name;
    let path = deepest(
        container.node,
        container.path.clone(),
        &["securityContext", "readOnlyRootFilesystem"],
    );
    let message = match setting.and_then(Node::as_bool) {
        Some(false) => {
            format!("container `{name}` sets `securityContext.readOnlyRootFilesystem: false`")
        }
        _ => format!(
            "container `{name}` does not set `securityContext.readOnlyRootFilesystem: true`"
        ),
    };
    emit.emit(READ_ONLY_ROOT_FILESYSTEM, Some(name), &path, message);
}

// ---------------------------------------------------------------------------------------------
// Resources

fn has_resource(resources: Option<&Node>, kind: &str, resource: &str) -> bool {
    resources
        .and_then(|r| r.at(&[kind, resource]))
        .is_some_and(|v| !v.is_null())
}

fn resources(pod: &PodView<'_>, container: &ContainerView<'_>, emit: &mut Emitter<'_>) {
    let own = container.node.get("resources");
    // Pod-level resources (`spec.resources`) bound the whole pod, which is what the container
    // fields are for.
    let pod_level = pod.spec.get("resources");
    let name = container.name;
    for (check_id, kind, resource) in [
        (MEMORY_LIMITS, "limits", "memory"),
        (CPU_LIMITS, "limits", "cpu"),
        (MEMORY_REQUESTS, "requests", "memory"),
        (CPU_REQUESTS, "requests", "cpu"),
    ] {
        if has_resource(own, kind, resource) || has_resource(pod_level, kind, resource) {
            continue;
        }
        // The API server defaults a missing request to the limit.
        if kind == "requests"
            && (has_resource(own, "limits", resource)
                || has_resource(pod_level, "limits", resource))
        {
            continue;
        }
        let singular = if kind == "limits" { "limit" } else { "request" };
        let path = deepest(
            container.node,
            container.path.clone(),
            &["resources", kind, resource],
        );
        emit.emit(
            check_id,
            Some(name),
            &path,
            format!(
                "container `{name}` sets no {resource} {singular} (`resources.{kind}.{resource}`)"
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Probes

/// Run-to-completion pods do not serve traffic and are not restarted when they finish, so probes
/// have nothing to protect: Jobs, CronJobs, Pods owned by a Job, and bare Pods that are not
/// restarted.
fn needs_probes(resource: &Resource, pod: &PodView<'_>) -> bool {
    match resource.kind() {
        "Job" | "CronJob" => false,
        "Pod" => {
            let owned_by_job = resource
                .metadata()
                .get("ownerReferences")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .any(|owner| owner.str_at("kind") == Some("Job"));
            let restarted = matches!(pod.spec.str_at("restartPolicy"), None | Some("Always"));
            !owned_by_job && restarted
        }
        _ => true,
    }
}

fn probes(container: &ContainerView<'_>, emit: &mut Emitter<'_>) {
    let name = container.name;
    for (check_id, field, what) in [
        (LIVENESS_PROBE, "livenessProbe", "liveness"),
        (READINESS_PROBE, "readinessProbe", "readiness"),
    ] {
        if container.node.get(field).is_some_and(Node::is_map) {
            continue;
        }
        emit.emit(
            check_id,
            Some(name),
            &container.path,
            format!("container `{name}` has no {what} probe (`{field}`)"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Images

/// An image reference split the way container runtimes resolve it.
#[derive(Debug, PartialEq, Eq)]
struct ImageRef<'a> {
    /// Lower-cased host (and port); Docker Hub is `docker.io`.
    registry: String,
    /// Path inside the registry; Docker Hub's official images get their implicit `library/`.
    repository: String,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

impl ImageRef<'_> {
    /// `registry/repository`, the form allowed-registry prefixes are matched against.
    fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// Whether the first component of a reference names a registry rather than a Docker Hub
/// namespace: the rule of the distribution reference grammar (a dot, a port, or `localhost`).
fn is_registry_host(component: &str) -> bool {
    component.contains('.')
        || component.contains(':')
        || component == "localhost"
        || component.bytes().any(|b| b.is_ascii_uppercase())
}

fn normalise_registry(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

/// Splits a reference into registry, repository, tag and digest: `nginx` is
/// `docker.io/library/nginx` with no tag; in `host:5000/a/b` the port is not a tag.
fn parse_image(reference: &str) -> Option<ImageRef<'_>> {
    let reference = reference.trim();
    let (named, digest) = match reference.split_once('@') {
        Some((named, digest)) => (named, Some(digest).filter(|d| d.contains(':'))),
        None => (reference, None),
    };
    // A tag follows the last colon only if no slash comes after it; otherwise that colon
    // separates a registry host from its port.
    let (name, tag) = match named.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag).filter(|t| !t.is_empty())),
        _ => (named, None),
    };
    if name.is_empty() {
        return None;
    }
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if is_registry_host(first) => {
            (normalise_registry(first), rest.to_string())
        }
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    if repository.is_empty() {
        return None;
    }
    Some(ImageRef {
        registry,
        repository,
        tag,
        digest,
    })
}

/// Normalises an allowed-registry entry the way image references are normalised, so
/// `index.docker.io/acme` allows `acme/app`, and remembers whether it ended with `/`.
fn normalise_allowed(prefix: &str) -> String {
    let prefix = prefix.trim();
    let trailing = prefix.ends_with('/');
    let bare = prefix.trim_end_matches('/');
    let normal = match bare.split_once('/') {
        Some((first, rest)) if is_registry_host(first) => {
            format!("{}/{rest}", normalise_registry(first))
        }
        None if is_registry_host(bare) => normalise_registry(bare),
        Some(_) => format!("docker.io/{bare}"),
        // A bare word such as `nginx` names an official Docker Hub image.
        None => format!("docker.io/library/{bare}"),
    };
    if trailing {
        format!("{normal}/")
    } else {
        normal
    }
}

/// Prefixes match on path-component boundaries: `registry.example.com` allows
/// `registry.example.com/app` but not `registry.example.com.evil.io/app`.
fn is_allowed(image: &ImageRef<'_>, allowed: &[String]) -> bool {
    let name = image.name();
    allowed.iter().map(|p| normalise_allowed(p)).any(|prefix| {
        if prefix.ends_with('/') {
            name.starts_with(&prefix)
        } else {
            is_within(&name, &prefix)
        }
    })
}

fn image(container: &ContainerView<'_>, emit: &mut Emitter<'_>) {
    let Some(reference) = container.node.str_at("image") else {
        return;
    };
    let Some(parsed) = parse_image(reference) else {
        return;
    };
    let name = container.name;
    let path = container.field(&["image"]);
    if parsed.digest.is_none() {
        match parsed.tag {
            None => emit.emit(
                IMAGE_TAG_LATEST,
                Some(name),
                &path,
                format!("container `{name}` uses image `{reference}` without a tag, which pulls `latest`"),
            ),
            Some("latest") => emit.emit(
                IMAGE_TAG_LATEST,
                Some(name),
                &path,
                format!("container `{name}` uses image `{reference}`, tagged `latest`"),
            ),
            Some(_) => emit.emit(
                IMAGE_NO_DIGEST,
                Some(name),
                &path,
                format!("container `{name}` uses image `{reference}`, which is not pinned by digest"),
            ),
        }
    }
    let allowed = &emit.config().allowed_registries;
    if !allowed.is_empty() && !is_allowed(&parsed, allowed) {
        let full = parsed.name();
        emit.emit(
            IMAGE_REGISTRY_NOT_ALLOWED,
            Some(name),
            &path,
            format!(
                "container `{name}` uses image `{reference}` (`{full}`), which is under none of the allowed registries {}",
                quoted_list(&allowed.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Service accounts

fn service_account(pod: &PodView<'_>, emit: &mut Emitter<'_>) {
    let automount = pod.spec.get("automountServiceAccountToken");
    let token_mounted = automount.and_then(Node::as_bool) != Some(false);
    // `serviceAccount` is the deprecated spelling the API server still honours.
    let (account_field, account) = match pod.spec.str_at("serviceAccountName") {
        Some(name) if !name.is_empty() => ("serviceAccountName", name),
        _ => match pod.spec.str_at("serviceAccount") {
            Some(name) if !name.is_empty() => ("serviceAccount", name),
            _ => ("serviceAccountName", "default"),
        },
    };
    if token_mounted {
        let path = deepest(
            pod.spec,
            pod.spec_path(&[]),
            &["automountServiceAccountToken"],
        );
        let message = if automount.and_then(Node::as_bool) == Some(true) {
            format!(
                "the pod sets `automountServiceAccountToken: true`, mounting a token for ServiceAccount `{account}` into every container"
            )
        } else {
            format!(
                "the pod does not set `automountServiceAccountToken: false`, so a token for ServiceAccount `{account}` is mounted into every container unless the ServiceAccount disables automounting"
            )
        };
        emit.emit(AUTOMOUNT_TOKEN, None, &path, message);
    }
    if account == "default" {
        let path = deepest(pod.spec, pod.spec_path(&[]), &[account_field]);
        let token = if token_mounted {
            "its token is mounted"
        } else {
            "its token is not mounted"
        };
        // Without a mounted token the shared identity cannot be used from inside the pod; what
        // is left is hygiene.
        let severity = (!token_mounted).then_some(Severity::Low);
        emit.emit_with_severity(
            DEFAULT_SERVICE_ACCOUNT,
            severity,
            None,
            &path,
            format!("the pod runs as the namespace's `default` ServiceAccount ({token})"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Default namespace

/// Kinds that are not namespaced; a `namespace` on them is ignored by the API server.
const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
    "RuntimeClass",
    "CustomResourceDefinition",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "VolumeAttributesClass",
    "CertificateSigningRequest",
    "ClusterTrustBundle",
    "ComponentStatus",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "PodSecurityPolicy",
    "DeviceClass",
    "ResourceSlice",
    "IPAddress",
    "ServiceCIDR",
    "TokenReview",
    "SelfSubjectReview",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "SubjectAccessReview",
];

/// Objects the control plane itself keeps in `default`; users cannot (and need not) move them.
fn is_system_object(kind: &str, name: &str) -> bool {
    match kind {
        "Event" => true,
        "Service" | "Endpoints" | "EndpointSlice" => name == "kubernetes",
        "ConfigMap" => name == "kube-root-ca.crt" || name == "openshift-service-ca.crt",
        "ServiceAccount" => name == "default",
        _ => false,
    }
}

fn default_namespace(resource: &Resource, emit: &mut Emitter<'_>) {
    if resource.namespace() != Some("default") {
        return;
    }
    let kind = resource.kind();
    if CLUSTER_SCOPED_KINDS.contains(&kind) || is_system_object(kind, resource.name()) {
        return;
    }
    // Objects a controller made (ReplicaSets, Pods, EndpointSlices) are reported through their
    // owner, which is what the user wrote.
    let controlled = resource
        .metadata()
        .get("ownerReferences")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .any(|owner| owner.is_true("controller"));
    if controlled {
        return;
    }
    let path = FieldPath::root().keys(&["metadata", "namespace"]);
    emit.emit(
        DEFAULT_NAMESPACE,
        None,
        &path,
        format!("{kind} `{}` is in the `default` namespace", resource.name()),
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets in environment variables

fn env_secrets(container: &ContainerView<'_>, emit: &mut Emitter<'_>) {
    let Some(vars) = container.node.get("env") else {
        return;
    };
    let name = container.name;
    for (index, var) in vars.items().iter().enumerate() {
        let Some(value) = var.str_at("value") else {
            continue;
        };
        let variable = var.str_at("name").unwrap_or("");
        // The message names the container and the variable only: never the value or a part of it.
        let Some(reason) = credentials::literal_credential(variable, value) else {
            continue;
        };
        let path = container.path.key("env").index(index).key("value");
        emit.emit(
            ENV_SECRET_LITERAL,
            Some(name),
            &path,
            format!(
                "container `{name}` sets environment variable `{variable}` to a literal value ({reason})"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::testing::{findings, findings_with, hits};
    use palisade_core::Finding;

    fn pod(spec: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: app\nspec:\n{}",
            indent(spec, 2)
        )
    }

    fn indent(text: &str, by: usize) -> String {
        text.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(by)))
            .collect()
    }

    fn of<'a>(all: &'a [Finding], id: &str) -> Vec<&'a Finding> {
        all.iter().filter(|f| f.check.id == id).collect()
    }

    fn workload_ids() -> Vec<String> {
        checks().into_iter().map(|c| c.id).collect()
    }

    /// Trimmed copies of objects from the demo cluster in /work/shared/data/kube/manifests
    /// (20-shop.yaml, 40-monitoring.yaml, 50-dev.yaml): the fields these checks read, as applied.
    const DEMO: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  template:
    spec:
      serviceAccountName: frontend
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: nginx
        image: nginxinc/nginx-unprivileged:1.27.3
        resources:
          requests: {cpu: 50m, memory: 64Mi}
          limits: {cpu: 500m, memory: 128Mi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: ["ALL"]
        readinessProbe:
          httpGet: {path: /, port: http}
        livenessProbe:
          httpGet: {path: /, port: http}
        volumeMounts:
        - {name: conf, mountPath: /etc/nginx/conf.d, readOnly: true}
        - {name: tmp, mountPath: /tmp}
      volumes:
      - name: conf
        configMap: {name: frontend-config}
      - name: tmp
        emptyDir: {medium: Memory}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  template:
    spec:
      serviceAccountName: cart
      containers:
      - name: cart
        image: ghcr.io/acme-shop/cart:latest
        imagePullPolicy: Always
        envFrom:
        - configMapRef: {name: cart-config}
        env:
        - name: REDIS_PASSWORD
          valueFrom:
            secretKeyRef: {name: redis-auth, key: password}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: fluentd, namespace: monitoring}
spec:
  template:
    spec:
      serviceAccountName: fluentd
      containers:
      - name: fluentd
        image: fluent/fluentd-kubernetes-daemonset:v1.17-debian-elasticsearch8-1
        env:
        - name: FLUENT_ELASTICSEARCH_HOST
          value: elasticsearch.logging.example.internal
        - name: FLUENT_ELASTICSEARCH_PORT
          value: "9200"
        - name: FLUENT_ELASTICSEARCH_PASSWORD
          value: dummy-es-password-0000
        securityContext:
          runAsUser: 0
        volumeMounts:
        - {name: varlog, mountPath: /var/log}
        - {name: containers, mountPath: /var/lib/docker/containers, readOnly: true}
        - {name: docker-sock, mountPath: /var/run/docker.sock}
      volumes:
      - name: varlog
        hostPath: {path: /var/log}
      - name: containers
        hostPath: {path: /var/lib/docker/containers}
      - name: docker-sock
        hostPath: {path: /var/run/docker.sock, type: Socket}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana, namespace: monitoring}
spec:
  template:
    spec:
      containers:
      - name: grafana
        image: grafana/grafana:11.2.0
        env:
        - name: GF_SECURITY_ADMIN_PASSWORD
          valueFrom:
            secretKeyRef: {name: grafana-admin, key: admin-password}
        - name: GF_AUTH_ANONYMOUS_ENABLED
          value: "true"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: debug-tools, namespace: dev}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: netshoot
        image: nicolaka/netshoot:latest
        securityContext:
          privileged: true
          runAsUser: 0
          capabilities:
            add: ["SYS_ADMIN", "NET_ADMIN"]
---
apiVersion: v1
kind: Pod
metadata:
  name: node-debugger
  namespace: dev
spec:
  hostPID: true
  restartPolicy: Never
  containers:
  - name: shell
    image: busybox:latest
    securityContext:
      runAsUser: 0
    volumeMounts:
    - name: host-root
      mountPath: /host
  volumes:
  - name: host-root
    hostPath:
      path: /
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: abandoned-cart-cleanup, namespace: shop}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: cart
          restartPolicy: OnFailure
          containers:
          - name: cleanup
            image: ghcr.io/acme-shop/cart:latest
"#;

    fn demo_findings_for(all: &[Finding], name: &str) -> Vec<(String, Option<String>)> {
        let ids = workload_ids();
        let mut found: Vec<(String, Option<String>)> = all
            .iter()
            .filter(|f| f.resource.name == name && ids.contains(&f.check.id))
            .map(|f| (f.check.id.clone(), f.container.clone()))
            .collect();
        found.sort();
        found
    }

    #[test]
    fn demo_cluster_fluentd_exposes_the_docker_socket_and_a_password() {
        let all = findings(DEMO);
        let fluentd: Vec<&Finding> = all
            .iter()
            .filter(|f| f.resource.name == "fluentd")
            .collect();
        let socket = fluentd
            .iter()
            .find(|f| f.check.id == HOST_PATH_RUNTIME_SOCKET)
            .expect("docker.sock is reported");
        assert_eq!(
            socket.evidence.path,
            "spec.template.spec.volumes[2].hostPath.path"
        );
        assert_eq!(socket.severity, Severity::Critical);
        assert!(
            socket.message.contains("read-write by container `fluentd`"),
            "{}",
            socket.message
        );
        let sensitive: Vec<&str> = fluentd
            .iter()
            .filter(|f| f.check.id == HOST_PATH_SENSITIVE)
            .map(|f| f.evidence.path.as_str())
            .collect();
        assert_eq!(
            sensitive,
            [
                "spec.template.spec.volumes[0].hostPath.path",
                "spec.template.spec.volumes[1].hostPath.path"
            ]
        );
        let containers = fluentd
            .iter()
            .find(|f| f.evidence.path.ends_with("volumes[1].hostPath.path"))
            .map(|f| f.message.as_str())
            .unwrap_or("");
        assert!(containers.contains("read-only"), "{containers}");
        let secret: Vec<&&Finding> = fluentd
            .iter()
            .filter(|f| f.check.id == ENV_SECRET_LITERAL)
            .collect();
        assert_eq!(secret.len(), 1);
        assert_eq!(
            secret[0].evidence.path,
            "spec.template.spec.containers[0].env[2].value"
        );
        assert_eq!(secret[0].container.as_deref(), Some("fluentd"));
        assert!(secret[0].message.contains("FLUENT_ELASTICSEARCH_PASSWORD"));
        assert!(!secret[0].message.contains("dummy"));
    }

    #[test]
    fn demo_cluster_node_debugger_and_cart() {
        let all = findings(DEMO);
        let root: Vec<&Finding> = of(&all, HOST_PATH_ROOT);
        assert_eq!(root.len(), 1);
        assert_eq!(root[0].resource.name, "node-debugger");
        assert_eq!(root[0].evidence.path, "spec.volumes[0].hostPath.path");
        assert!(root[0].message.contains("read-write by container `shell`"));
        let latest: Vec<&str> = of(&all, IMAGE_TAG_LATEST)
            .iter()
            .map(|f| f.resource.name.as_str())
            .collect();
        for name in [
            "cart",
            "node-debugger",
            "debug-tools",
            "abandoned-cart-cleanup",
        ] {
            assert!(latest.contains(&name), "{name} not in {latest:?}");
        }
        // Run-to-completion pods are not expected to have probes.
        for id in [LIVENESS_PROBE, READINESS_PROBE] {
            let probed: Vec<&str> = of(&all, id)
                .iter()
                .map(|f| f.resource.name.as_str())
                .collect();
            assert!(probed.contains(&"cart"));
            assert!(!probed.contains(&"node-debugger"));
            assert!(!probed.contains(&"abandoned-cart-cleanup"));
        }
        // Grafana's literal `GF_AUTH_ANONYMOUS_ENABLED: "true"` is a switch, not a secret.
        assert!(
            !of(&all, ENV_SECRET_LITERAL)
                .iter()
                .any(|f| f.resource.name == "grafana")
        );
        let sys_admin = of(&all, CAP_SYS_ADMIN);
        assert_eq!(sys_admin.len(), 1);
        assert_eq!(
            sys_admin[0].evidence.path,
            "spec.template.spec.containers[0].securityContext.capabilities.add[0]"
        );
    }

    #[test]
    fn demo_cluster_frontend_is_clean_but_for_its_unpinned_image() {
        let all = findings(DEMO);
        assert_eq!(
            demo_findings_for(&all, "frontend"),
            [(IMAGE_NO_DIGEST.to_string(), Some("nginx".to_string()))]
        );
    }

    #[test]
    fn host_path_normalisation_and_classification() {
        assert_eq!(normalise_host_path("/var//log/"), Some("/var/log".into()));
        assert_eq!(normalise_host_path("/tmp/../etc/./"), Some("/etc".into()));
        assert_eq!(normalise_host_path("/../.."), Some("/".into()));
        assert_eq!(normalise_host_path("relative/path"), None);
        assert_eq!(classify_host_path("/"), Some(Exposure::HostRoot));
        assert!(matches!(
            classify_host_path("/run"),
            Some(Exposure::RuntimeSocket { .. })
        ));
        assert!(matches!(
            classify_host_path("/var"),
            Some(Exposure::RuntimeSocket { .. })
        ));
        assert!(matches!(
            classify_host_path("/run/containerd/containerd.sock"),
            Some(Exposure::RuntimeSocket { .. })
        ));
        assert_eq!(
            classify_host_path("/etc/kubernetes/pki"),
            Some(Exposure::Sensitive {
                location: "/etc/kubernetes",
                what: "Kubernetes node configuration and credentials"
            })
        );
        assert!(matches!(
            classify_host_path("/var/lib"),
            Some(Exposure::Sensitive { .. })
        ));
        assert_eq!(classify_host_path("/etcetera"), None);
        assert_eq!(classify_host_path("/data/app"), None);
        assert_eq!(classify_host_path("/run/xtables.lock"), None);
    }

    #[test]
    fn host_path_tricks_are_seen_through() {
        let yaml = pod(
            "containers:\n- name: a\n  image: x:1\n  volumeMounts:\n  - {name: h, mountPath: /h, readOnly: true}\nvolumes:\n- name: h\n  hostPath: {path: /tmp/../var//run/}\n",
        );
        let all = findings(&yaml);
        let found = of(&all, HOST_PATH_RUNTIME_SOCKET);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].evidence.path, "spec.volumes[0].hostPath.path");
        assert!(
            found[0].message.contains("that is, `/var/run`"),
            "{}",
            found[0].message
        );
        assert!(found[0].message.contains("read-only mount does not stop"));
        assert!(found[0].container.is_none());
    }

    #[test]
    fn harmless_host_paths_pass() {
        let yaml = pod(
            "containers:\n- name: a\n  image: x:1\n  volumeMounts:\n  - {name: tz, mountPath: /etc/localtime, readOnly: true}\n  - {name: data, mountPath: /data}\nvolumes:\n- name: tz\n  hostPath: {path: /etc/localtime}\n- name: data\n  hostPath: {path: /mnt/data}\n",
        );
        let all = findings(&yaml);
        for id in [
            HOST_PATH_ROOT,
            HOST_PATH_RUNTIME_SOCKET,
            HOST_PATH_SENSITIVE,
        ] {
            assert!(of(&all, id).is_empty(), "{id}");
        }
        // Written to, even the time zone file is reported.
        let writable = yaml.replace(
            "{name: tz, mountPath: /etc/localtime, readOnly: true}",
            "{name: tz, mountPath: /etc/localtime}",
        );
        assert_eq!(of(&findings(&writable), HOST_PATH_SENSITIVE).len(), 1);
    }

    #[test]
    fn capabilities_are_matched_loosely() {
        let yaml = pod(
            "containers:\n- name: a\n  image: x:1\n  securityContext:\n    capabilities:\n      add: [cap_sys_admin, Net_Raw]\n- name: b\n  image: x:1\n  securityContext:\n    capabilities:\n      add: [\"ALL\"]\n- name: c\n  image: x:1\n  securityContext:\n    capabilities:\n      drop: [cap_net_raw]\n- name: d\n  image: x:1\n",
        );
        assert_eq!(hits(&yaml, CAP_SYS_ADMIN), [Some("a".to_string())]);
        assert_eq!(hits(&yaml, CAP_NET_RAW), [Some("a".to_string())]);
        assert_eq!(hits(&yaml, CAP_ALL_ADDED), [Some("b".to_string())]);
        assert_eq!(
            hits(&yaml, CAP_NET_RAW_NOT_DROPPED),
            [Some("d".to_string())]
        );
        let all = findings(&yaml);
        let net_raw = of(&all, CAP_NET_RAW);
        assert_eq!(
            net_raw[0].evidence.path,
            "spec.containers[0].securityContext.capabilities.add[1]"
        );
        let kept = of(&all, CAP_NET_RAW_NOT_DROPPED);
        assert_eq!(kept[0].evidence.path, "spec.containers[3]");
    }

    #[test]
    fn windows_pods_skip_linux_only_checks() {
        let yaml = pod("os: {name: windows}\ncontainers:\n- name: a\n  image: x:1\n");
        assert!(hits(&yaml, CAP_NET_RAW_NOT_DROPPED).is_empty());
        assert!(hits(&yaml, READ_ONLY_ROOT_FILESYSTEM).is_empty());
        assert_eq!(hits(&yaml, MEMORY_LIMITS), [Some("a".to_string())]);
    }

    #[test]
    fn read_only_root_filesystem() {
        let yaml = pod(
            "containers:\n- name: a\n  image: x:1\n  securityContext: {readOnlyRootFilesystem: false}\n- name: b\n  image: x:1\n  securityContext: {readOnlyRootFilesystem: true}\n- name: c\n  image: x:1\nephemeralContainers:\n- name: debug\n  image: busybox:1.36\n",
        );
        let all = findings(&yaml);
        let found = of(&all, READ_ONLY_ROOT_FILESYSTEM);
        let where_: Vec<(&str, &str)> = found
            .iter()
            .map(|f| {
                (
                    f.container.as_deref().unwrap_or(""),
                    f.evidence.path.as_str(),
                )
            })
            .collect();
        assert_eq!(
            where_,
            [
                (
                    "a",
                    "spec.containers[0].securityContext.readOnlyRootFilesystem"
                ),
                ("c", "spec.containers[2]")
            ]
        );
        assert!(found[0].message.contains("false"));
    }

    #[test]
    fn resources_requests_default_to_limits() {
        let yaml = pod(
            "containers:\n- name: a\n  image: x:1\n  resources:\n    limits: {cpu: 100m, memory: 64Mi}\n- name: b\n  image: x:1\n  resources:\n    requests: {cpu: 100m}\ninitContainers:\n- name: init\n  image: x:1\n  resources:\n    requests: {cpu: 10m, memory: 8Mi}\n    limits: {cpu: 10m, memory: 8Mi}\n",
        );
        assert_eq!(hits(&yaml, MEMORY_LIMITS), [Some("b".to_string())]);
        assert_eq!(hits(&yaml, CPU_LIMITS), [Some("b".to_string())]);
        assert_eq!(hits(&yaml, MEMORY_REQUESTS), [Some("b".to_string())]);
        assert!(hits(&yaml, CPU_REQUESTS).is_empty());
        let all = findings(&yaml);
        assert_eq!(
            of(&all, MEMORY_LIMITS)[0].evidence.path,
            "spec.containers[1].resources"
        );
    }

    #[test]
    fn pod_level_resources_cover_containers() {
        let yaml = pod(
            "resources:\n  requests: {cpu: 1, memory: 1Gi}\n  limits: {memory: 1Gi}\ncontainers:\n- name: a\n  image: x:1\n",
        );
        assert!(hits(&yaml, MEMORY_LIMITS).is_empty());
        assert!(hits(&yaml, MEMORY_REQUESTS).is_empty());
        assert!(hits(&yaml, CPU_REQUESTS).is_empty());
        assert_eq!(hits(&yaml, CPU_LIMITS), [Some("a".to_string())]);
    }

    #[test]
    fn probes_only_for_long_running_regular_containers() {
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: app}\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: init, image: x:1}\n      containers:\n      - name: app\n        image: x:1\n        livenessProbe: {tcpSocket: {port: 80}}\n";
        assert!(hits(deployment, LIVENESS_PROBE).is_empty());
        assert_eq!(hits(deployment, READINESS_PROBE), [Some("app".to_string())]);
        let all = findings(deployment);
        assert_eq!(
            of(&all, READINESS_PROBE)[0].evidence.path,
            "spec.template.spec.containers[0]"
        );
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: app}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: app, image: x:1}\n";
        assert!(hits(job, LIVENESS_PROBE).is_empty());
        assert!(hits(job, READINESS_PROBE).is_empty());
        let owned = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: j-abc\n  namespace: app\n  ownerReferences:\n  - {apiVersion: batch/v1, kind: Job, name: j, uid: u}\nspec:\n  containers:\n  - {name: app, image: x:1}\n";
        assert!(hits(owned, LIVENESS_PROBE).is_empty());
        let bare = pod("containers:\n- {name: app, image: x:1}\n");
        assert_eq!(hits(&bare, LIVENESS_PROBE), [Some("app".to_string())]);
    }

    #[test]
    fn image_references_parse_like_the_runtime() {
        let nginx = parse_image("nginx").expect("parses");
        assert_eq!(
            (nginx.name(), nginx.tag, nginx.digest),
            ("docker.io/library/nginx".to_string(), None, None)
        );
        let ported = parse_image("host:5000/a/b").expect("parses");
        assert_eq!(
            (ported.name(), ported.tag),
            ("host:5000/a/b".to_string(), None)
        );
        let tagged = parse_image("host:5000/a/b:1.2").expect("parses");
        assert_eq!(
            (tagged.registry.as_str(), tagged.tag),
            ("host:5000", Some("1.2"))
        );
        let pinned = parse_image("ghcr.io/acme/app:3@sha256:abcd").expect("parses");
        assert_eq!(
            (pinned.tag, pinned.digest),
            (Some("3"), Some("sha256:abcd"))
        );
        let hub = parse_image("Index.Docker.IO/acme/app:1").expect("parses");
        assert_eq!(hub.name(), "docker.io/acme/app");
        assert_eq!(
            parse_image("localhost/app").map(|i| i.registry),
            Some("localhost".into())
        );
        assert_eq!(
            parse_image("acme/app").map(|i| i.name()),
            Some("docker.io/acme/app".into())
        );
        assert!(parse_image("").is_none());
        assert!(parse_image(":tag").is_none());
    }

    #[test]
    fn image_tags_and_digests() {
        let yaml = pod(
            "containers:\n- {name: a, image: nginx}\n- {name: b, image: \"nginx:latest\"}\n- {name: c, image: \"nginx:1.27\"}\n- {name: d, image: \"nginx@sha256:0123\"}\n- {name: e, image: \"registry.local:5000/app\"}\n",
        );
        assert_eq!(
            hits(&yaml, IMAGE_TAG_LATEST),
            [
                Some("a".to_string()),
                Some("b".to_string()),
                Some("e".to_string())
            ]
        );
        assert_eq!(hits(&yaml, IMAGE_NO_DIGEST), [Some("c".to_string())]);
        let all = findings(&yaml);
        assert_eq!(
            of(&all, IMAGE_NO_DIGEST)[0].evidence.path,
            "spec.containers[2].image"
        );
    }

    #[test]
    fn allowed_registries() {
        let yaml = pod(
            "containers:\n- {name: a, image: \"registry.example.com/team/app:1\"}\n- {name: b, image: \"registry.example.com.evil.io/app:1\"}\n- {name: c, image: \"ghcr.io/acme/app:1\"}\n- {name: d, image: \"ghcr.io/other/app:1\"}\n- {name: e, image: \"nginx:1\"}\n",
        );
        let config = Config {
            allowed_registries: vec![
                "registry.example.com".into(),
                "ghcr.io/acme/".into(),
                "docker.io/library".into(),
            ],
            ..Config::default()
        };
        let mut denied: Vec<Option<String>> = findings_with(&yaml, &config)
            .into_iter()
            .filter(|f| f.check.id == IMAGE_REGISTRY_NOT_ALLOWED)
            .map(|f| f.container)
            .collect();
        denied.sort();
        assert_eq!(denied, [Some("b".to_string()), Some("d".to_string())]);
        // An empty list turns the check off.
        assert!(hits(&yaml, IMAGE_REGISTRY_NOT_ALLOWED).is_empty());
    }

    #[test]
    fn service_account_token_and_default_account() {
        let mounted = pod("containers:\n- {name: a, image: x:1}\n");
        let all = findings(&mounted);
        let automount = of(&all, AUTOMOUNT_TOKEN);
        assert_eq!(automount.len(), 1);
        assert_eq!(automount[0].evidence.path, "spec");
        let default = of(&all, DEFAULT_SERVICE_ACCOUNT);
        assert_eq!(default.len(), 1);
        assert!(default[0].message.contains("its token is mounted"));
        assert_eq!(default[0].severity, Severity::Medium);

        let unmounted =
            pod("automountServiceAccountToken: false\ncontainers:\n- {name: a, image: x:1}\n");
        let all = findings(&unmounted);
        assert!(of(&all, AUTOMOUNT_TOKEN).is_empty());
        let default = of(&all, DEFAULT_SERVICE_ACCOUNT);
        assert_eq!(default.len(), 1);
        assert_eq!(default[0].severity, Severity::Low);
        assert!(default[0].message.contains("its token is not mounted"));

        let explicit = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: app}\nspec:\n  template:\n    spec:\n      serviceAccountName: default\n      automountServiceAccountToken: true\n      containers:\n      - {name: a, image: x:1}\n";
        let all = findings(explicit);
        assert_eq!(
            of(&all, AUTOMOUNT_TOKEN)[0].evidence.path,
            "spec.template.spec.automountServiceAccountToken"
        );
        assert_eq!(
            of(&all, DEFAULT_SERVICE_ACCOUNT)[0].evidence.path,
            "spec.template.spec.serviceAccountName"
        );

        let own = pod(
            "serviceAccountName: app\nautomountServiceAccountToken: false\ncontainers:\n- {name: a, image: x:1}\n",
        );
        assert!(hits(&own, AUTOMOUNT_TOKEN).is_empty());
        assert!(hits(&own, DEFAULT_SERVICE_ACCOUNT).is_empty());
    }

    #[test]
    fn default_namespace_reports_explicit_default_only() {
        let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec: {ports: [{port: 80}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: default}\nrules: []\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\nspec: {ports: [{port: 443}]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: default}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: default}\n---\napiVersion: v1\nkind: Event\nmetadata: {name: e.1, namespace: default}\n---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: default\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u, controller: true}]\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: \"x:1\"}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr, namespace: default}\nrules: []\n";
        let all = findings(yaml);
        let mut reported: Vec<(String, String)> = of(&all, DEFAULT_NAMESPACE)
            .iter()
            .map(|f| (f.resource.kind.clone(), f.evidence.path.clone()))
            .collect();
        reported.sort();
        assert_eq!(
            reported,
            [
                ("Role".to_string(), "metadata.namespace".to_string()),
                ("Service".to_string(), "metadata.namespace".to_string())
            ]
        );
    }

    #[test]
    fn env_secret_literals() {
        let yaml = pod(r#"containers:
- name: app
  image: x:1
  env:
  - {name: DB_PASSWORD, value: hunter2hunter2}
  - {name: DB_PASSWORD_FILE, value: /run/secrets/db}
  - {name: API_TOKEN, value: "$(TOKEN_FROM_SECRET)"}
  - {name: CLIENT_SECRET, value: "<redacted by palisade>"}
  - {name: SKIP_AUTH, value: "true"}
  - {name: BASIC_AUTH, value: basic}
  - {name: UPSTREAM, value: "https://user:pw123456@example.com/"}
  - name: FROM_SECRET
    valueFrom: {secretKeyRef: {name: s, key: k}}
  - {name: NOTES, value: "ghp_0123456789abcdefghijklmnopqrstuvwxyz"}
initContainers:
- name: init
  image: x:1
  env:
  - {name: ADMIN_PASSWORD, value: ""}
  - {name: ADMIN_PASSWORD, value: "changeme"}
"#);
        let all = findings(&yaml);
        let found: Vec<(&str, &str)> = of(&all, ENV_SECRET_LITERAL)
            .iter()
            .map(|f| {
                (
                    f.container.as_deref().unwrap_or(""),
                    f.evidence.path.as_str(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("app", "spec.containers[0].env[0].value"),
                ("app", "spec.containers[0].env[3].value"),
                ("app", "spec.containers[0].env[6].value"),
                ("app", "spec.containers[0].env[8].value"),
                ("init", "spec.initContainers[0].env[1].value"),
            ]
        );
        for finding in of(&all, ENV_SECRET_LITERAL) {
            for secret in ["hunter2", "pw123456", "ghp_", "changeme"] {
                assert!(!finding.message.contains(secret), "{}", finding.message);
            }
        }
    }

    #[test]
    fn catalogue_entries_are_complete() {
        let list = checks();
        let mut ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), list.len());
        for check in &list {
            assert!(!check.description.is_empty() && !check.remediation.is_empty());
            assert!(
                check
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                check.id
            );
        }
    }
}
