//! From a cgroup path to the container (runtime, container ID, pod UID) a process runs in.
//!
//! Every container runtime names the cgroup it creates for a container after the container's ID,
//! and the kubelet names the pod's parent cgroup after the pod's UID, so the path alone tells which
//! container and pod a process belongs to, without asking any daemon. The formats recognised
//! (the same families Falco's libsinsp recognises):
//!
//! | runtime | cgroup driver | last components |
//! |---|---|---|
//! | containerd | systemd | `…/kubepods-<qos>-pod<uid_>.slice/cri-containerd-<id>.scope` |
//! | containerd | cgroupfs | `/kubepods/<qos>/pod<uid>/<id>` |
//! | containerd | systemd notation, `SystemdCgroup = false` | `…/kubepods-<qos>-pod<uid_>.slice:cri-containerd:<id>` |
//! | CRI-O | systemd | `…/crio-<id>.scope` (and its `container` child); `crio-conmon-<id>.scope` is the monitor, not the container |
//! | CRI-O | cgroupfs | `/kubepods/<qos>/pod<uid>/crio-<id>` |
//! | Docker | systemd | `/system.slice/docker-<id>.scope` (also under a pod slice with cri-dockerd) |
//! | Docker | cgroupfs | `/docker/<id>` |
//! | podman | systemd | `…/libpod-<id>.scope` (and its `container` child); `libpod-conmon-<id>.scope` is not the container |
//! | podman | cgroupfs | `/libpod_parent/libpod-<id>` |
//! | runc | systemd | `…/runc-<id>.scope` (runc's default `system.slice:runc:<id>`) |
//! | runc | cgroupfs | `<parent>/<id>` where `<parent>` is one of [`CgroupRules::runc_parents`] |
//!
//! The rule for plain runc with the cgroupfs driver: runc puts a container at its `cgroupsPath`,
//! `/<id>` by default, and nothing in such a path says "container". A host's own cgroups at the top
//! level are systemd units (`init.scope`, `system.slice`, `user.slice`) or well-known parents
//! (`kubepods`, `docker`, …), so a top-level directory that is neither is taken to be a runc
//! container; deeper paths count only under a parent the operator names (the default also names
//! `/palisade-test`, where Palisade's end-to-end tests and benchmarks put their runc containers).
//! Anything deeper and unnamed stays a host cgroup: on this kind of machine a supervisor's
//! `/process_api/<hex>` cgroup must not be mistaken for a container.
//!
//! A path may also be a *tail*: the kernel's exec record carries at most the last 4 components,
//! after a leading `…` ([`TRUNCATED_MARKER`]) when it left the upper ones out. Every runtime layout
//! above is recognised from its last 4 components (the container component, its pod parent, and
//! for CRI-O/podman the `container` child); the plain-runc rule, which depends on the whole parent
//! path, only matches a tail whose known parents end a configured runc parent deeper than them.
//!
//! The innermost container wins: with nested runtimes (a kind node is a Docker container running
//! containerd) the path is read from its last component backwards, so the pod's container is found
//! before the node's. Host processes give `None`.

use std::path::Path;

use crate::model::{ContainerInfo, Runtime};

/// Leads a cgroup path tail whose upper components were left out (U+2026, as the kernel writes it).
pub const TRUNCATED_MARKER: &str = "\u{2026}";

/// The container a cgroup path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    pub runtime: Runtime,
    /// The full container ID (64 lowercase hex digits, or runc's own name for plain runc).
    pub id: String,
    /// The pod's UID in its canonical dashed form, when the path names a pod.
    pub pod_uid: Option<String>,
    /// The cgroup path the container was recognised from.
    pub cgroup_path: String,
}

impl ContainerRef {
    /// What the cgroup path alone says about the container, before any runtime metadata.
    pub fn to_container_info(&self) -> ContainerInfo {
        ContainerInfo {
            id: self.id.clone(),
            runtime: self.runtime,
            cgroup_path: self.cgroup_path.clone(),
            pod_uid: self.pod_uid.clone(),
            // A plain runc container's ID is the name its user gave it (`runc run NAME`); the
            // CRI runtimes' IDs are hex and their names come from the runtime.
            name: (self.runtime == Runtime::Runc).then(|| self.id.clone()),
            image: None,
            image_digest: None,
            privileged: None,
            pod: None,
        }
    }
}

/// Where plain runc containers may live, besides the runtimes' own recognisable names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupRules {
    /// Cgroup directories whose children are runc containers named by their ID. `/` stands for
    /// the top level (runc's default `cgroupsPath`), with systemd units and known parents excluded.
    pub runc_parents: Vec<String>,
}

/// The runc parents recognised without configuration.
pub const DEFAULT_RUNC_PARENTS: &[&str] = &["/", "/palisade-test"];

impl Default for CgroupRules {
    fn default() -> Self {
        CgroupRules {
            runc_parents: DEFAULT_RUNC_PARENTS.iter().map(|p| p.to_string()).collect(),
        }
    }
}

/// Top-level cgroup names that are never a runc container: parents other runtimes, the kubelet
/// and init systems create, which hold containers or services rather than being one.
const HOST_TOP_LEVEL: &[&str] = &[
    "kubepods",
    "docker",
    "libpod_parent",
    "lxc",
    "lxc.payload",
    "lxc.monitor",
    "machine",
    "system",
    "user",
    "init",
    "podruntime",
    "runtime",
    "kubelet",
    "kube-proxy",
    "containerd",
    "crio",
    "ecs",
    "actions_job",
    "garden",
];

/// Suffixes of systemd unit names: a cgroup named like a unit is systemd's, not runc's.
const SYSTEMD_UNIT_SUFFIXES: &[&str] = &[
    ".slice", ".scope", ".service", ".mount", ".socket", ".swap", ".target",
];

/// How much the v1 hierarchies are trusted, best first; see [`CgroupRules::from_proc_cgroup`].
fn hierarchy_rank(controllers: &str) -> u8 {
    let has = |name: &str| controllers.split(',').any(|c| c == name);
    if has("memory") {
        0
    } else if has("pids") {
        1
    } else if has("name=systemd") {
        2
    } else if controllers.is_empty() {
        // The unified (v2) line `0::/path`.
        3
    } else {
        4
    }
}

impl CgroupRules {
    /// Rules with `parent` added to the runc parents (an absolute cgroup path, `/` for the top).
    pub fn with_runc_parent(mut self, parent: &str) -> Self {
        let parent = normalise_parent(parent);
        if !self.runc_parents.contains(&parent) {
            self.runc_parents.push(parent);
        }
        self
    }

    /// The container one cgroup path (or path tail, see [`TRUNCATED_MARKER`]) names, `None` for
    /// a host cgroup.
    pub fn parse_path(&self, path: &str) -> Option<ContainerRef> {
        let path = path.trim().trim_end_matches(" (deleted)");
        let (truncated, body) = match path.strip_prefix(TRUNCATED_MARKER) {
            Some(rest) => (true, rest),
            None => (false, path),
        };
        let components: Vec<&str> = body.split('/').filter(|c| !c.is_empty()).collect();
        for index in (0..components.len()).rev() {
            let component = components.get(index).copied().unwrap_or_default();
            let ancestors = components.get(..index).unwrap_or_default();
            match classify(component, ancestors) {
                Component::Container(runtime, id) => {
                    return Some(ContainerRef {
                        runtime,
                        id,
                        pod_uid: pod_uid_in(component, ancestors),
                        cgroup_path: path.to_string(),
                    });
                }
                Component::Monitor => return None,
                Component::Other => {}
            }
        }
        self.runc_container(&components, path, truncated)
    }

    /// The container named by the content of `/proc/<pid>/cgroup` (v1, v2 or hybrid).
    ///
    /// On v1 every hierarchy holds the process somewhere, and a process belongs to one container
    /// in all of them, so any line that names a container is accepted; the order only decides
    /// between lines that disagree (a process moved in one hierarchy, a nested runtime). `memory`
    /// comes first because every runtime must create the container's memory cgroup to enforce
    /// its limit, then `pids` for the same reason; `name=systemd` and the unified `0::` line come
    /// after because systemd owns them and on hybrid hosts they can still show the runtime's unit
    /// (`/system.slice/containerd.service`) for processes the runtime never moved there. On pure
    /// v2 the `0::` line is the only one.
    pub fn from_proc_cgroup(&self, content: &str) -> Option<ContainerRef> {
        let mut best: Option<(u8, ContainerRef)> = None;
        for line in content.lines() {
            let mut fields = line.splitn(3, ':');
            let (Some(_hierarchy), Some(controllers), Some(path)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let rank = hierarchy_rank(controllers);
            if best
                .as_ref()
                .is_some_and(|(best_rank, _)| *best_rank <= rank)
            {
                continue;
            }
            if let Some(found) = self.parse_path(path) {
                best = Some((rank, found));
            }
        }
        best.map(|(_, found)| found)
    }

    /// The plain-runc rule (see the module documentation). For a `truncated` tail the parent's
    /// upper components are unknown: a runc parent matches when it ends with the known ones (at
    /// least one) and has more (the top level, `/`, never does).
    fn runc_container(
        &self,
        components: &[&str],
        path: &str,
        truncated: bool,
    ) -> Option<ContainerRef> {
        let (name, parents) = components.split_last()?;
        if !is_runc_id(name) {
            return None;
        }
        if truncated {
            let known = self.runc_parents.iter().any(|runc_parent| {
                let configured: Vec<&str> =
                    runc_parent.split('/').filter(|c| !c.is_empty()).collect();
                !parents.is_empty()
                    && configured.len() > parents.len()
                    && configured.ends_with(parents)
            });
            if !known {
                return None;
            }
        } else {
            let parent = format!("/{}", parents.join("/"));
            if !self.runc_parents.contains(&parent) {
                return None;
            }
            if parents.is_empty() && is_host_top_level(name) {
                return None;
            }
        }
        Some(ContainerRef {
            runtime: Runtime::Runc,
            id: name.to_string(),
            pod_uid: None,
            cgroup_path: path.to_string(),
        })
    }
}

/// The container named by a cgroup path, with the default rules.
pub fn parse_cgroup_path(path: &str) -> Option<ContainerRef> {
    CgroupRules::default().parse_path(path)
}

/// The cgroup v2 ID of a cgroup (the inode number of its directory, what
/// `bpf_get_current_cgroup_id` returns), given where the unified hierarchy is mounted.
pub fn cgroup_v2_id(mount: &Path, cgroup_path: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let relative = cgroup_path.trim_start_matches('/');
    std::fs::metadata(mount.join(relative))
        .ok()
        .map(|m| m.ino())
}

enum Component {
    Container(Runtime, String),
    /// A runtime's monitor process (conmon): on the host side of the container.
    Monitor,
    Other,
}

fn classify(component: &str, ancestors: &[&str]) -> Component {
    // Systemd-notation cgroup paths that containerd writes when the kubelet uses the systemd
    // driver but containerd does not: `<slice>:<prefix>:<id>`.
    if let Some((_slice, rest)) = component.split_once(':') {
        if let Some((prefix, id)) = rest.split_once(':') {
            let runtime = match prefix {
                "cri-containerd" => Some(Runtime::Containerd),
                "crio" => Some(Runtime::CriO),
                "docker" => Some(Runtime::Docker),
                _ => None,
            };
            if let Some(runtime) = runtime
                && is_full_id(id)
            {
                return Component::Container(runtime, id.to_string());
            }
        }
        return Component::Other;
    }
    if component.starts_with("crio-conmon-") || component.starts_with("libpod-conmon-") {
        return Component::Monitor;
    }
    let scoped: &[(&str, Runtime)] = &[
        ("cri-containerd-", Runtime::Containerd),
        ("crio-", Runtime::CriO),
        ("docker-", Runtime::Docker),
        ("libpod-", Runtime::Podman),
    ];
    for (prefix, runtime) in scoped {
        if let Some(rest) = component.strip_prefix(prefix) {
            let id = rest.strip_suffix(".scope").unwrap_or(rest);
            if is_full_id(id) {
                return Component::Container(*runtime, id.to_string());
            }
        }
    }
    if let Some(id) = component
        .strip_prefix("runc-")
        .and_then(|rest| rest.strip_suffix(".scope"))
        && is_runc_id(id)
    {
        return Component::Container(Runtime::Runc, id.to_string());
    }
    if is_full_id(component) {
        let parent = ancestors.last().copied().unwrap_or_default();
        if pod_uid_of(parent).is_some() {
            // The cgroupfs driver under a pod: the runtime cannot be told from the path. Docker
            // (dockershim) left the kubelet in 1.24, so containerd is what writes these now.
            return Component::Container(Runtime::Containerd, component.to_string());
        }
        if parent == "docker" {
            return Component::Container(Runtime::Docker, component.to_string());
        }
    }
    Component::Other
}

/// The pod UID named by the container's own component (systemd notation) or its nearest ancestor.
fn pod_uid_in(component: &str, ancestors: &[&str]) -> Option<String> {
    if let Some((slice, _)) = component.split_once(':')
        && let Some(uid) = pod_uid_of(slice)
    {
        return Some(uid);
    }
    ancestors.iter().rev().find_map(|a| pod_uid_of(a))
}

/// The pod UID a pod cgroup names: `pod<uid>` (cgroupfs) or `kubepods[-<qos>]-pod<uid_>.slice`
/// (systemd, which cannot have `-` inside a name segment, so the UID's dashes become `_`).
fn pod_uid_of(component: &str) -> Option<String> {
    let raw = if let Some(rest) = component.strip_suffix(".slice") {
        let (_, uid) = rest.rsplit_once("-pod")?;
        // `kubelet-kubepods-…` when the kubelet runs with `--cgroup-root=/kubelet` (kind).
        if !rest.starts_with("kubepods") && !rest.contains("-kubepods") {
            return None;
        }
        uid
    } else {
        component.strip_prefix("pod")?
    };
    let uid = raw.replace('_', "-");
    is_pod_uid(&uid).then_some(uid)
}

/// A pod UID as the API server generates them (RFC 4122 text form, 36 characters).
fn is_pod_uid(uid: &str) -> bool {
    uid.len() == 36
        && uid.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A full container ID as containerd, CRI-O, Docker and podman generate them.
fn is_full_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A container ID runc accepts (`^[\w+\-.]+$`), excluding the path-like `.` and `..`.
fn is_runc_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 1024
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'))
}

fn is_host_top_level(name: &str) -> bool {
    SYSTEMD_UNIT_SUFFIXES.iter().any(|s| name.ends_with(s))
        || HOST_TOP_LEVEL.contains(&name)
        || name.starts_with("openrc.")
        || name.starts_with("lxc.")
}

fn normalise_parent(parent: &str) -> String {
    let trimmed = parent.trim().trim_matches('/');
    format!("/{trimmed}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f0e6e2c1b9f4a7d8e5c2b1a0f9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c";
    const ID2: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const UID: &str = "5e0c4b8a-2f1d-4c3b-9a8e-7d6c5b4a3f21";
    const UID_: &str = "5e0c4b8a_2f1d_4c3b_9a8e_7d6c5b4a3f21";

    fn expect(path: &str, runtime: Runtime, id: &str, pod: Option<&str>) {
        let found = parse_cgroup_path(path).unwrap_or_else(|| panic!("no container in {path}"));
        assert_eq!(found.runtime, runtime, "runtime of {path}");
        assert_eq!(found.id, id, "id of {path}");
        assert_eq!(found.pod_uid.as_deref(), pod, "pod of {path}");
        assert_eq!(found.cgroup_path, path.trim_end_matches(" (deleted)"));
    }

    #[test]
    fn containerd_layouts() {
        let table = [
            // systemd driver (cgroup v2 and v1 name=systemd/memory)
            format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID}.scope"
            ),
            format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice/cri-containerd-{ID}.scope"
            ),
            // guaranteed QoS has no QoS slice
            format!("/kubepods.slice/kubepods-pod{UID_}.slice/cri-containerd-{ID}.scope"),
            // cgroupfs driver
            format!("/kubepods/burstable/pod{UID}/{ID}"),
            format!("/kubepods/besteffort/pod{UID}/{ID}"),
            format!("/kubepods/pod{UID}/{ID}"),
            // systemd notation when containerd itself does not use systemd
            format!(
                "/system.slice/containerd.service/kubepods-burstable-pod{UID_}.slice:cri-containerd:{ID}"
            ),
            // a kind node: the node is a Docker container, the pod's container is inside it
            format!("/docker/{ID2}/kubepods/besteffort/pod{UID}/{ID}"),
            format!(
                "/system.slice/docker-{ID2}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID}.scope"
            ),
        ];
        for path in &table {
            expect(path, Runtime::Containerd, ID, Some(UID));
        }
    }

    #[test]
    fn crio_layouts_and_conmon() {
        expect(
            &format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice/crio-{ID}.scope"
            ),
            Runtime::CriO,
            ID,
            Some(UID),
        );
        // CRI-O on cgroup v2 puts the workload in a `container` child of the scope.
        expect(
            &format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-{ID}.scope/container"
            ),
            Runtime::CriO,
            ID,
            Some(UID),
        );
        expect(
            &format!("/kubepods/besteffort/pod{UID}/crio-{ID}"),
            Runtime::CriO,
            ID,
            Some(UID),
        );
        // conmon watches the container from the host side
        assert_eq!(
            parse_cgroup_path(&format!(
                "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-conmon-{ID}.scope"
            )),
            None
        );
    }

    #[test]
    fn docker_and_podman_layouts() {
        expect(&format!("/docker/{ID}"), Runtime::Docker, ID, None);
        expect(
            &format!("/system.slice/docker-{ID}.scope"),
            Runtime::Docker,
            ID,
            None,
        );
        // cri-dockerd with the systemd driver
        expect(
            &format!("/kubepods.slice/kubepods-pod{UID_}.slice/docker-{ID}.scope"),
            Runtime::Docker,
            ID,
            Some(UID),
        );
        expect(
            &format!("/machine.slice/libpod-{ID}.scope"),
            Runtime::Podman,
            ID,
            None,
        );
        expect(
            &format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container"
            ),
            Runtime::Podman,
            ID,
            None,
        );
        expect(
            &format!("/libpod_parent/libpod-{ID}"),
            Runtime::Podman,
            ID,
            None,
        );
        assert_eq!(
            parse_cgroup_path(&format!("/machine.slice/libpod-conmon-{ID}.scope")),
            None
        );
        // a process inside a container that made its own sub-cgroup still belongs to it
        expect(
            &format!("/system.slice/docker-{ID}.scope/init.scope"),
            Runtime::Docker,
            ID,
            None,
        );
    }

    #[test]
    fn runc_layouts() {
        expect("/palisade-test/shell-1", Runtime::Runc, "shell-1", None);
        expect("/mycontainer", Runtime::Runc, "mycontainer", None);
        expect("/system.slice/runc-web.scope", Runtime::Runc, "web", None);
        let custom = CgroupRules::default().with_runc_parent("/user.slice/user-1000.slice/runc/");
        let found = custom
            .parse_path("/user.slice/user-1000.slice/runc/box")
            .expect("custom parent");
        assert_eq!((found.runtime, found.id.as_str()), (Runtime::Runc, "box"));
    }

    #[test]
    fn host_cgroups_are_not_containers() {
        for path in [
            "/",
            "",
            "/init.scope",
            "/system.slice/sshd.service",
            "/system.slice/containerd.service",
            "/user.slice/user-1000.slice/session-3.scope",
            "/kubepods",
            "/kubepods/burstable",
            &format!("/kubepods/burstable/pod{UID}"),
            &format!("/kubepods.slice/kubepods-pod{UID_}.slice"),
            "/process_api/4e7a5cec0cae09ec47138f9187e404cf",
            "/docker",
            "/docker/not-an-id",
            "/kubepods/burstable/pod-not-a-uid/abc",
            "/..",
            "/openrc.sshd",
            "/lxc.payload.web",
            // a 64-hex name not under a pod or docker, deeper than the top level
            &format!("/something/{ID}"),
            // wrong length IDs
            &format!("/system.slice/docker-{}.scope", &ID[..12]),
            &format!("/system.slice/docker-{ID}0.scope"),
            // uppercase hex is not a runtime ID
            &format!("/docker/{}", ID.to_uppercase()),
        ] {
            assert_eq!(parse_cgroup_path(path), None, "{path}");
        }
    }

    #[test]
    fn pod_uid_is_normalised() {
        let found = parse_cgroup_path(&format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID}.scope"
        ))
        .expect("container");
        assert_eq!(found.pod_uid.as_deref(), Some(UID));
        assert!(!found.pod_uid.unwrap_or_default().contains('_'));
    }

    #[test]
    fn proc_cgroup_v1_hybrid_and_v2() {
        let rules = CgroupRules::default();
        let v1 = format!(
            "12:pids:/kubepods/besteffort/pod{UID}/{ID}\n\
             11:memory:/kubepods/besteffort/pod{UID}/{ID}\n\
             3:cpu,cpuacct:/kubepods/besteffort/pod{UID}/{ID}\n\
             1:name=systemd:/kubepods/besteffort/pod{UID}/{ID}\n\
             0::/\n"
        );
        let found = rules.from_proc_cgroup(&v1).expect("v1");
        assert_eq!(
            (found.runtime, found.id.as_str()),
            (Runtime::Containerd, ID)
        );

        let v2 = format!(
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-{ID}.scope/container\n"
        );
        let found = rules.from_proc_cgroup(&v2).expect("v2");
        assert_eq!(
            (found.runtime, found.pod_uid.as_deref()),
            (Runtime::CriO, Some(UID))
        );

        // memory outranks name=systemd when they disagree
        let hybrid = format!("9:name=systemd:/palisade-test/outer\n4:memory:/docker/{ID}\n0::/\n");
        let found = rules.from_proc_cgroup(&hybrid).expect("hybrid");
        assert_eq!((found.runtime, found.id.as_str()), (Runtime::Docker, ID));

        // any line naming a container is enough (memory at the root here)
        let partial = "9:name=systemd:/palisade-test/box\n4:memory:/\n0::/\n";
        let found = rules.from_proc_cgroup(partial).expect("partial");
        assert_eq!(found.id, "box");

        // this machine's own layout: a host process
        let host = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/4e7a5cec0cae09ec47138f9187e404cf\n1:cpu:/\n0::/\n";
        assert_eq!(rules.from_proc_cgroup(host), None);
        assert_eq!(rules.from_proc_cgroup("garbage\n::\n\u{0}"), None);
    }

    /// The kernel's form: at most the last 4 components, after `…` when it cut the path.
    fn tail(path: &str) -> String {
        let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        match components.len().checked_sub(4) {
            Some(cut) if cut > 0 => format!(
                "{TRUNCATED_MARKER}/{}",
                components.get(cut..).unwrap_or_default().join("/")
            ),
            _ => format!("/{}", components.join("/")),
        }
    }

    #[test]
    fn path_tails_name_the_same_container() {
        let layouts = [
            // kubepods, systemd driver (4 components: not cut)
            (
                format!(
                    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID}.scope"
                ),
                Runtime::Containerd,
                Some(UID),
            ),
            // kubepods, cgroupfs driver
            (
                format!("/kubepods/burstable/pod{UID}/{ID}"),
                Runtime::Containerd,
                Some(UID),
            ),
            // a kind node (cut: the node's own docker component is left out)
            (
                format!("/docker/{ID2}/kubepods/besteffort/pod{UID}/{ID}"),
                Runtime::Containerd,
                Some(UID),
            ),
            (
                format!(
                    "/system.slice/docker-{ID2}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID}.scope"
                ),
                Runtime::Containerd,
                Some(UID),
            ),
            // CRI-O's `container` child: 5 components, the pod slice is still in the tail
            (
                format!(
                    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-{ID}.scope/container"
                ),
                Runtime::CriO,
                Some(UID),
            ),
            // systemd slices: docker, podman under a user's slice (cut)
            (
                format!("/system.slice/docker-{ID}.scope"),
                Runtime::Docker,
                None,
            ),
            (format!("/docker/{ID}"), Runtime::Docker, None),
            (
                format!(
                    "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container"
                ),
                Runtime::Podman,
                None,
            ),
        ];
        for (path, runtime, pod) in &layouts {
            let short = tail(path);
            let found =
                parse_cgroup_path(&short).unwrap_or_else(|| panic!("no container in {short}"));
            assert_eq!(
                (found.runtime, found.id.as_str(), found.pod_uid.as_deref()),
                (*runtime, ID, *pod),
                "{short}"
            );
            assert_eq!(found.cgroup_path, short);
        }
        assert!(tail(&layouts[2].0).starts_with(TRUNCATED_MARKER));
        assert_eq!(
            parse_cgroup_path(&format!(
                "{TRUNCATED_MARKER}/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-conmon-{ID}.scope/x"
            )),
            None
        );
    }

    #[test]
    fn runc_tails_need_a_matching_deep_parent() {
        // The end-to-end tests' layout is short enough never to be cut.
        expect("/palisade-test/box-1", Runtime::Runc, "box-1", None);
        // A cut path is deep: the top-level rule cannot apply to it.
        let rules = CgroupRules::default();
        assert_eq!(
            rules.parse_path(&format!("{TRUNCATED_MARKER}/a/b/c/box")),
            None
        );
        assert_eq!(rules.parse_path(&format!("{TRUNCATED_MARKER}/box")), None);
        assert_eq!(
            rules.parse_path(&format!("{TRUNCATED_MARKER}/palisade-test/box")),
            None
        );
        // A configured parent deeper than the tail shows matches on its last components only.
        let deep = rules.with_runc_parent("/srv/tenants/acme/runc");
        let found = deep
            .parse_path(&format!("{TRUNCATED_MARKER}/tenants/acme/runc/box"))
            .expect("deep runc parent");
        assert_eq!((found.runtime, found.id.as_str()), (Runtime::Runc, "box"));
        assert_eq!(
            deep.parse_path(&format!("{TRUNCATED_MARKER}/tenants/other/runc/box")),
            None
        );
        // this machine's supervisor cgroup stays a host cgroup
        assert_eq!(
            deep.parse_path("/process_api/4e7a5cec0cae09ec47138f9187e404cf"),
            None
        );
    }

    #[test]
    fn deleted_suffix_is_ignored() {
        expect(
            &format!("/docker/{ID} (deleted)"),
            Runtime::Docker,
            ID,
            None,
        );
    }

    #[test]
    fn to_container_info_carries_the_path_facts() {
        let found = parse_cgroup_path(&format!("/kubepods/pod{UID}/{ID}")).expect("container");
        let info = found.to_container_info();
        assert_eq!(info.id, ID);
        assert_eq!(info.pod_uid.as_deref(), Some(UID));
        assert_eq!(info.name, None);
        assert_eq!(info.cgroup_path, format!("/kubepods/pod{UID}/{ID}"));
    }
}
