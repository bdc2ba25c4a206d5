//! What the sensor knows about processes, containers and pods between events: the state rules
//! read through `proc.*`, `container.*` and `k8s.*` fields, and alerts name in their entities.

use std::collections::BTreeMap;

use crate::event::ExeOrigin;

/// A process (thread group) the sensor knows, from `/proc` at start or from exec/fork events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub ppid: u32,
    /// `comm` (Falco's `proc.name`): the executable's base name, at most 15 bytes.
    pub name: String,
    /// Full path of the executable (`proc.exepath`), empty when unknown.
    pub exepath: String,
    /// `argv`, `argv[0]` included.
    pub argv: Vec<String>,
    pub uid: u32,
    pub gid: u32,
    /// Audit login UID, `u32::MAX` when unset.
    pub loginuid: u32,
    pub tty: u32,
    pub sid: u32,
    pub cgroup_id: u64,
    /// Where the executable came from (image layer, writable layer, memfd, tmpfs).
    pub origin: ExeOrigin,
    /// The container the process runs in; `None` for host processes.
    pub container_id: Option<String>,
    /// Boot-time nanoseconds of the exec (or of the sensor's start for processes found in `/proc`).
    pub exec_boot_ns: u64,
}

impl ProcessInfo {
    /// Falco's `proc.cmdline`: the name followed by the arguments (`argv[1..]`).
    pub fn cmdline(&self) -> String {
        let mut line = self.name.clone();
        for arg in self.argv.iter().skip(1) {
            line.push(' ');
            line.push_str(arg);
        }
        line
    }

    /// Falco's `proc.args`: the arguments without `argv[0]`, space separated.
    pub fn args(&self) -> String {
        self.argv
            .get(1..)
            .map(|args| args.join(" "))
            .unwrap_or_default()
    }
}

/// Which container runtime a cgroup path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    Containerd,
    CriO,
    Docker,
    /// Plain runc (or another OCI runtime) without a CRI above it.
    Runc,
    Podman,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Docker => "docker",
            Runtime::Runc => "runc",
            Runtime::Podman => "podman",
        }
    }
}

/// A container, as far as it is known: from the cgroup path alone (ID, runtime, pod UID) and,
/// when a CRI socket, the kubelet or the API answered, its names and image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// The full container ID (64 hex digits for containerd/CRI-O/Docker; runc's own name otherwise).
    pub id: String,
    pub runtime: Runtime,
    /// The cgroup path it was recognised from (`/kubepods.slice/.../cri-containerd-<id>.scope`).
    pub cgroup_path: String,
    /// The pod's UID, when the cgroup path names it (`pod<uid>`).
    pub pod_uid: Option<String>,
    /// The container's name in its pod (`spec.containers[].name`), when known.
    pub name: Option<String>,
    /// The image reference, when known.
    pub image: Option<String>,
    /// The image digest (`sha256:…`), when known.
    pub image_digest: Option<String>,
    /// Whether the container runs privileged, when known.
    pub privileged: Option<bool>,
    pub pod: Option<PodInfo>,
}

/// The pod a container belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodInfo {
    pub uid: String,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
}
