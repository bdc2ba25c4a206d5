//! Every built-in node rule against hand-built events: it fires with the right alert type,
//! MITRE mapping and entities, and a benign look-alike does not.

use std::collections::BTreeMap;
use std::net::IpAddr;

use palisade_core::{Alert, AlertSeverity};
use palisade_sensor::detections::{DETECTIONS, NodeDetector, NodeDetectorOptions, detection};
use palisade_sensor::event::{
    EventDetail, ExeOrigin, L4Proto, SocketAddress, SocketFamily, SyscallEvent, TaskIds,
};
use palisade_sensor::fields::{NoNames, SyscallRecord};
use palisade_sensor::model::{ContainerInfo, PodInfo, ProcessInfo, Runtime};

#[path = "support/scene.rs"]
mod scene;
use scene::{NOW, exec, open, process};

const CONTAINER_ID: &str = "4f2a9c0e7b1d3a5c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f";

fn container(privileged: bool) -> ContainerInfo {
    ContainerInfo {
        id: CONTAINER_ID.into(),
        runtime: Runtime::Containerd,
        cgroup_path: format!("/kubepods/besteffort/pod1234/{CONTAINER_ID}"),
        pod_uid: Some("1234".into()),
        name: Some("web".into()),
        image: Some("docker.io/library/nginx:1.27".into()),
        image_digest: None,
        privileged: Some(privileged),
        pod: Some(PodInfo {
            uid: "1234".into(),
            namespace: "shop".into(),
            name: "web-7d9f".into(),
            labels: BTreeMap::new(),
        }),
    }
}

/// One situation: the acting process, its ancestors and its container.
struct Scene {
    ancestors: Vec<ProcessInfo>,
    container: Option<ContainerInfo>,
}

impl Scene {
    /// A process on the host, started from an interactive bash.
    fn host() -> Scene {
        Scene {
            ancestors: vec![
                process(1, 0, "systemd", &["/sbin/init"]),
                process(900, 1, "sshd", &["sshd"]),
                process(1000, 900, "bash", &["-bash"]),
            ],
            container: None,
        }
    }

    /// A process in a container, started from the container's shell entrypoint.
    fn container(privileged: bool) -> Scene {
        Scene {
            ancestors: vec![
                process(1, 0, "systemd", &["/sbin/init"]),
                process(500, 1, "containerd-shim", &["containerd-shim"]),
                process(1000, 500, "sh", &["/bin/sh", "/entrypoint.sh"]),
            ],
            container: Some(container(privileged)),
        }
    }

    fn with_parent(mut self, parent: ProcessInfo) -> Scene {
        self.ancestors.retain(|p| p.pid != parent.pid);
        self.ancestors.push(parent);
        self
    }

    /// Runs one event of `me` through a fresh detector (no aggregation window) and returns
    /// every alert.
    fn alerts(&self, me: &ProcessInfo, detail: EventDetail, result: Option<i64>) -> Vec<Alert> {
        let event = SyscallEvent {
            boot_ns: 50_000_000_000,
            cpu: 0,
            task: TaskIds {
                pid: me.pid,
                tid: me.pid,
                ppid: me.ppid,
                uid: me.uid,
                gid: me.gid,
                loginuid: me.loginuid,
                cgroup_id: 0,
                comm: me.name.clone(),
            },
            result,
            detail,
        };
        let ip_names: BTreeMap<IpAddr, String> = [(
            "10.96.0.1".parse().expect("literal"),
            "kubernetes.default.svc.cluster.local".to_string(),
        )]
        .into();
        let record = SyscallRecord::new(
            &event,
            me,
            &self.ancestors,
            self.container.as_ref(),
            &NoNames,
        )
        .with_ip_names(&ip_names);
        let mut detector = NodeDetector::new(NodeDetectorOptions {
            node_name: "node-1".into(),
            window_nanos: 0,
            ..NodeDetectorOptions::default()
        })
        .expect("built-in rules load");
        let mut out = Vec::new();
        detector.process(&record, NOW, &mut out);
        detector.finish(&mut out);
        out
    }
}

fn me_in(scene_parent: u32, pid: u32, name: &str, argv: &[&str]) -> ProcessInfo {
    process(pid, scene_parent, name, argv)
}

fn connect(ip: &str, port: u16) -> EventDetail {
    let addr: IpAddr = ip.parse().expect("literal address");
    EventDetail::Connect {
        fd: 3,
        family: if addr.is_ipv4() {
            SocketFamily::Inet
        } else {
            SocketFamily::Inet6
        },
        l4proto: L4Proto::Tcp,
        remote: SocketAddress::Ip { addr, port },
    }
}

const O_WRONLY_CREAT_TRUNC: u32 = 0o1 | 0o100 | 0o1000;
const O_RDONLY_CLOEXEC: u32 = 0o2000000;

/// The one alert of `rule` in `alerts`, checked against the rule's metadata.
fn only<'a>(alerts: &'a [Alert], rule: &str) -> &'a Alert {
    let hits: Vec<&Alert> = alerts.iter().filter(|a| a.rule == rule).collect();
    assert_eq!(
        hits.len(),
        1,
        "`{rule}` alerts: {:#?}",
        alerts.iter().map(|a| &a.rule).collect::<Vec<_>>()
    );
    let alert = hits[0];
    let meta = detection(rule).expect("built-in rule has metadata");
    assert_eq!(alert.alert_type, meta.alert_type);
    assert_eq!(alert.severity, meta.severity);
    assert_eq!(alert.mitre.techniques, meta.techniques);
    assert_eq!(alert.mitre.tactics, meta.tactics);
    assert_eq!(alert.source, "syscall");
    assert_eq!(alert.hostname, "node-1");
    assert_eq!(alert.time, "2026-11-27T08:00:00.000000000Z");
    assert_eq!(alert.count, 1);
    assert!(!alert.output.contains("%"), "{}", alert.output);
    alert
}

fn assert_container_entities(alert: &Alert, pid: u32, name: &str) {
    let p = alert.entities.process.as_ref().expect("process entity");
    assert_eq!((p.pid, p.name.as_str()), (pid, name));
    assert_eq!(p.user, "root");
    let c = alert.entities.container.as_ref().expect("container entity");
    assert_eq!(c.id, CONTAINER_ID);
    assert_eq!(c.runtime, "containerd");
    assert_eq!(c.name, "web");
    assert_eq!(c.image, "docker.io/library/nginx:1.27");
    let k8s = alert.entities.k8s.as_ref().expect("pod entity");
    assert_eq!(
        (k8s.namespace.as_str(), k8s.pod.as_str()),
        ("shop", "web-7d9f")
    );
}

fn assert_none(alerts: &[Alert], rule: &str) {
    assert!(
        alerts.iter().all(|a| a.rule != rule),
        "`{rule}` fired: {:#?}",
        alerts.iter().find(|a| a.rule == rule)
    );
}

#[test]
fn crypto_miner_by_name_and_by_arguments() {
    let scene = Scene::container(false);
    let miner = me_in(1000, 1001, "xmrig", &["./xmrig", "-o", "pool.example:3333"]);
    let alerts = scene.alerts(&miner, exec(&miner), None);
    let alert = only(&alerts, "Palisade Crypto Miner Executed");
    assert_eq!(alert.alert_type, "K8S.NODE_CryptoCoinMinerExecution");
    assert_container_entities(alert, 1001, "xmrig");
    assert_eq!(
        alert.entities.process.as_ref().map(|p| p.cmdline.as_str()),
        Some("xmrig -o pool.example:3333")
    );

    let renamed = me_in(
        1000,
        1002,
        "kworker",
        &["kworker", "--donate-level=1", "-o", "x"],
    );
    let alerts = scene.alerts(&renamed, exec(&renamed), None);
    only(&alerts, "Palisade Crypto Miner Executed");

    let benign = me_in(1000, 1003, "nginx", &["nginx", "-g", "daemon off;"]);
    assert_none(
        &scene.alerts(&benign, exec(&benign), None),
        "Palisade Crypto Miner Executed",
    );
}

#[test]
fn mining_pool_port_connection() {
    let scene = Scene::host();
    let miner = me_in(1000, 1001, "minerd", &["minerd"]);
    let alerts = scene.alerts(&miner, connect("127.0.0.1", 3333), Some(0));
    let alert = only(&alerts, "Palisade Mining Pool Connection");
    assert_eq!(alert.alert_type, "K8S.NODE_DigitalCurrencyMining");
    assert!(alert.entities.container.is_none());
    assert!(alert.output.contains("port=3333"), "{}", alert.output);

    let https = me_in(1000, 1002, "curl", &["curl", "https://example.org"]);
    assert_none(
        &scene.alerts(&https, connect("93.184.216.34", 443), Some(0)),
        "Palisade Mining Pool Connection",
    );
    // A refused connection did not reach a pool.
    assert_none(
        &scene.alerts(&miner, connect("127.0.0.1", 3333), Some(-111)),
        "Palisade Mining Pool Connection",
    );
}

#[test]
fn reverse_shell_dup_of_a_socket_onto_stdio() {
    let scene = Scene::container(false);
    let bash = me_in(1000, 1001, "bash", &["bash", "-i"]);
    let dup = |newfd: i32, remote: Option<SocketAddress>| EventDetail::Dup {
        oldfd: 3,
        newfd,
        socket: remote.is_some(),
        remote,
    };
    let peer = SocketAddress::Ip {
        addr: "10.0.0.66".parse().expect("literal"),
        port: 4444,
    };
    let alerts = scene.alerts(&bash, dup(0, Some(peer.clone())), Some(0));
    let alert = only(&alerts, "Palisade Reverse Shell");
    assert_eq!(alert.alert_type, "K8S.NODE_ReverseShell");
    assert_eq!(alert.mitre.techniques, ["T1059.004"]);
    assert_container_entities(alert, 1001, "bash");
    assert!(alert.output.contains("10.0.0.66:4444"), "{}", alert.output);

    // A pipe or file onto stdout (`cmd > file`, `2>&1`) is ordinary shell plumbing.
    assert_none(
        &scene.alerts(&bash, dup(1, None), Some(1)),
        "Palisade Reverse Shell",
    );
    // A socket onto a high descriptor is not stdio.
    assert_none(
        &scene.alerts(&bash, dup(7, Some(peer)), Some(7)),
        "Palisade Reverse Shell",
    );
}

#[test]
fn terminal_shell_in_container_needs_a_tty() {
    let scene = Scene::container(false);
    let interactive = ProcessInfo {
        tty: 34816,
        ..me_in(500, 1001, "bash", &["bash"])
    };
    let alerts = scene.alerts(&interactive, exec(&interactive), None);
    let alert = only(&alerts, "Palisade Terminal Shell In Container");
    assert_eq!(
        alert.mitre.threat_matrix.as_deref(),
        Some("MS-TA9006: Exec into container")
    );
    assert_container_entities(alert, 1001, "bash");

    // `kubectl exec pod -- sh -c ...` has no terminal: not interactive.
    let scripted = me_in(500, 1002, "sh", &["sh", "-c", "cat /tmp/ready"]);
    assert_none(
        &scene.alerts(&scripted, exec(&scripted), None),
        "Palisade Terminal Shell In Container",
    );
    // The same interactive shell on the host is an administrator's login.
    assert_none(
        &Scene::host().alerts(&interactive, exec(&interactive), None),
        "Palisade Terminal Shell In Container",
    );
}

#[test]
fn package_manager_in_container_only() {
    let scene = Scene::container(false);
    let apt = me_in(1000, 1001, "apt-get", &["apt-get", "install", "-y", "nmap"]);
    let alerts = scene.alerts(&apt, exec(&apt), None);
    let alert = only(&alerts, "Palisade Package Manager In Container");
    assert_eq!(alert.alert_type, "K8S.NODE_PackageManagerInContainer");
    assert_container_entities(alert, 1001, "apt-get");

    let pip = me_in(1000, 1002, "pip", &["pip", "install", "requests"]);
    only(
        &scene.alerts(&pip, exec(&pip), None),
        "Palisade Package Manager In Container",
    );

    // dpkg run by apt-get is the same installation: one alert, for apt-get.
    let dpkg_scene = Scene::container(false).with_parent(apt.clone());
    let dpkg = me_in(1001, 1003, "dpkg", &["dpkg", "--unpack", "x.deb"]);
    assert_none(
        &dpkg_scene.alerts(&dpkg, exec(&dpkg), None),
        "Palisade Package Manager In Container",
    );
    // `pip list` installs nothing.
    let pip_list = me_in(1000, 1004, "pip", &["pip", "list"]);
    assert_none(
        &scene.alerts(&pip_list, exec(&pip_list), None),
        "Palisade Package Manager In Container",
    );
    // apt on the host is node maintenance.
    assert_none(
        &Scene::host().alerts(&apt, exec(&apt), None),
        "Palisade Package Manager In Container",
    );
}

#[test]
fn ssh_server_in_container() {
    let scene = Scene::container(false);
    let sshd = me_in(1000, 1001, "sshd", &["/usr/sbin/sshd", "-D"]);
    let alerts = scene.alerts(&sshd, exec(&sshd), None);
    let alert = only(&alerts, "Palisade SSH Server In Container");
    assert_eq!(alert.alert_type, "K8S.NODE_ContainerSSH");
    assert_none(
        &Scene::host().alerts(&sshd, exec(&sshd), None),
        "Palisade SSH Server In Container",
    );
}

#[test]
fn writes_below_binary_dirs_and_etc() {
    let scene = Scene::container(false);
    let cp = me_in(1000, 1001, "cp", &["cp", "/tmp/x", "/usr/bin/ls"]);
    let alerts = scene.alerts(&cp, open("/usr/bin/ls", O_WRONLY_CREAT_TRUNC), Some(4));
    let alert = only(&alerts, "Palisade Write Below Binary Directory");
    assert_eq!(alert.alert_type, "K8S.NODE_WriteBelowBinaryDir");
    assert!(
        alert.output.contains("file=/usr/bin/ls"),
        "{}",
        alert.output
    );

    let tee = me_in(1000, 1002, "tee", &["tee", "-a", "/etc/ld.so.preload"]);
    let alerts = scene.alerts(&tee, open("/etc/ld.so.preload", 0o1 | 0o2000), Some(3));
    only(&alerts, "Palisade Write Below Etc");

    // A compiler writing its output to /tmp.
    let cc = me_in(1000, 1003, "cc1", &["cc1", "main.c", "-o", "/tmp/cc.s"]);
    let alerts = scene.alerts(&cc, open("/tmp/ccXYZ.s", O_WRONLY_CREAT_TRUNC), Some(3));
    assert_none(&alerts, "Palisade Write Below Binary Directory");
    assert_none(&alerts, "Palisade Write Below Etc");
    // dpkg installing a binary.
    let dpkg = me_in(1000, 1004, "dpkg", &["dpkg", "-i", "x.deb"]);
    let alerts = scene.alerts(
        &dpkg,
        open("/usr/bin/ls.dpkg-new", O_WRONLY_CREAT_TRUNC),
        Some(3),
    );
    assert_none(&alerts, "Palisade Write Below Binary Directory");
    // Reading a binary is not writing it; a failed write wrote nothing.
    let alerts = scene.alerts(&cp, open("/usr/bin/ls", O_RDONLY_CLOEXEC), Some(3));
    assert_none(&alerts, "Palisade Write Below Binary Directory");
    let alerts = scene.alerts(&cp, open("/usr/bin/ls", O_WRONLY_CREAT_TRUNC), Some(-13));
    assert_none(&alerts, "Palisade Write Below Binary Directory");
}

#[test]
fn credential_file_reads() {
    let host = Scene::host();
    let cat = me_in(1000, 1001, "cat", &["cat", "/etc/shadow"]);
    let alerts = host.alerts(&cat, open("/etc/shadow", O_RDONLY_CLOEXEC), Some(3));
    let alert = only(&alerts, "Palisade Shadow File Read");
    assert_eq!(alert.alert_type, "K8S.NODE_SuspectPasswordFileAccess");
    let p = alert.entities.process.as_ref().expect("process");
    assert_eq!(
        (p.pid, p.ppid, p.exepath.as_str()),
        (1001, 1000, "/usr/bin/cat")
    );
    let su = me_in(1000, 1002, "unix_chkpwd", &["unix_chkpwd", "root"]);
    assert_none(
        &host.alerts(&su, open("/etc/shadow", O_RDONLY_CLOEXEC), Some(3)),
        "Palisade Shadow File Read",
    );

    let alerts = host.alerts(
        &cat,
        open("/etc/kubernetes/admin.conf", O_RDONLY_CLOEXEC),
        Some(3),
    );
    let alert = only(&alerts, "Palisade Kubeconfig Read");
    assert_eq!(alert.alert_type, "K8S.NODE_KubeConfigAccess");
    let kubectl = me_in(1000, 1003, "kubectl", &["kubectl", "get", "pods"]);
    assert_none(
        &host.alerts(
            &kubectl,
            open("/root/.kube/config", O_RDONLY_CLOEXEC),
            Some(3),
        ),
        "Palisade Kubeconfig Read",
    );

    let pod = Scene::container(false);
    let token = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    let alerts = pod.alerts(&cat, open(token, O_RDONLY_CLOEXEC), Some(3));
    let alert = only(&alerts, "Palisade Service Account Token Read");
    assert_container_entities(alert, 1001, "cat");
    // The application's own client library reading its token.
    let app = me_in(1000, 1004, "controller", &["/controller"]);
    assert_none(
        &pod.alerts(&app, open(token, O_RDONLY_CLOEXEC), Some(3)),
        "Palisade Service Account Token Read",
    );
}

#[test]
fn kernel_module_load_and_ptrace() {
    let host = Scene::host();
    let insmod = me_in(1000, 1001, "insmod", &["insmod", "/tmp/rootkit.ko"]);
    let load = EventDetail::ModuleLoad {
        from_fd: true,
        params: String::new(),
    };
    // An attempt counts even when the kernel refused it.
    let alerts = host.alerts(&insmod, load.clone(), Some(-8));
    let alert = only(&alerts, "Palisade Kernel Module Load");
    assert_eq!(alert.alert_type, "K8S.NODE_KernelModuleLoad");
    assert_eq!(alert.severity, AlertSeverity::High);
    let udev = me_in(1, 1002, "systemd-udevd", &["/lib/systemd/systemd-udevd"]);
    assert_none(
        &host.alerts(&udev, load, Some(0)),
        "Palisade Kernel Module Load",
    );

    let gdb = me_in(1000, 1003, "gdb", &["gdb", "-p", "1"]);
    let attach = EventDetail::Ptrace {
        request: 16,
        target_pid: 1,
    };
    let alerts = host.alerts(&gdb, attach, Some(0));
    let alert = only(&alerts, "Palisade Ptrace Attach");
    assert!(
        alert.output.contains("request=PTRACE_ATTACH"),
        "{}",
        alert.output
    );
    // A child asking to be traced (PTRACE_TRACEME) attaches to nothing.
    let traceme = EventDetail::Ptrace {
        request: 0,
        target_pid: 0,
    };
    assert_none(
        &host.alerts(&gdb, traceme, Some(0)),
        "Palisade Ptrace Attach",
    );
}

#[test]
fn namespace_changes_and_privileged_execution() {
    let pod = Scene::container(false);
    let unshare = me_in(1000, 1001, "unshare", &["unshare", "-r", "sh"]);
    let alerts = pod.alerts(
        &unshare,
        EventDetail::Unshare {
            flags: 0x1000_0000 | 0x20000,
        },
        Some(0),
    );
    let alert = only(&alerts, "Palisade Namespace Change From Container");
    assert_eq!(alert.alert_type, "K8S.NODE_NamespaceCreation");
    assert!(
        alert.output.contains("CLONE_NEWNS|CLONE_NEWUSER"),
        "{}",
        alert.output
    );
    // The runtime setting the container up, and a plain fork.
    let runc = me_in(500, 1002, "runc:[2:INIT]", &["runc", "init"]);
    assert_none(
        &pod.alerts(&runc, EventDetail::Setns { fd: 5, nstype: 0 }, Some(0)),
        "Palisade Namespace Change From Container",
    );
    let fork = EventDetail::Fork {
        child_pid: 1100,
        clone_flags: 0x0100_0000 | 0x11,
    };
    assert_none(
        &pod.alerts(&unshare, fork, Some(1100)),
        "Palisade Namespace Change From Container",
    );

    let privileged = Scene::container(true);
    let nsenter = me_in(1000, 1003, "nsenter", &["nsenter", "-t", "1", "-m", "sh"]);
    let alerts = privileged.alerts(&nsenter, exec(&nsenter), None);
    let alert = only(&alerts, "Palisade Privileged Execution In Container");
    assert_eq!(alert.alert_type, "K8S.NODE_PrivilegedExecutionInContainer");
    assert_eq!(
        alert.mitre.threat_matrix.as_deref(),
        Some("MS-TA9018: Privileged container")
    );
    // A script's shell (no terminal) in a privileged CNI agent is its normal work.
    let script = me_in(1000, 1004, "sh", &["sh", "-c", "iptables-save"]);
    assert_none(
        &privileged.alerts(&script, exec(&script), None),
        "Palisade Privileged Execution In Container",
    );
    // nsenter in an unprivileged container: a namespace change, not privileged execution.
    let alerts = pod.alerts(&nsenter, exec(&nsenter), None);
    assert_none(&alerts, "Palisade Privileged Execution In Container");
    only(&alerts, "Palisade Namespace Change From Container");
}

#[test]
fn evidence_removal() {
    let host = Scene::host();
    let rm = me_in(1000, 1001, "rm", &["rm", "-f", "/root/.bash_history"]);
    let unlink = |path: &str| EventDetail::Unlink { path: path.into() };
    let alerts = host.alerts(&rm, unlink("/root/.bash_history"), Some(0));
    let alert = only(&alerts, "Palisade Shell History Cleared");
    assert_eq!(alert.alert_type, "K8S.NODE_HistoryFileCleared");
    let sh = me_in(1000, 1002, "bash", &["bash"]);
    let alerts = host.alerts(
        &sh,
        open("/home/a/.bash_history", O_WRONLY_CREAT_TRUNC),
        Some(3),
    );
    only(&alerts, "Palisade Shell History Cleared");
    // bash appending to its history on exit.
    let alerts = host.alerts(&sh, open("/home/a/.bash_history", 0o1 | 0o2000), Some(3));
    assert_none(&alerts, "Palisade Shell History Cleared");

    let alerts = host.alerts(&rm, unlink("/var/log/auth.log"), Some(0));
    let alert = only(&alerts, "Palisade System Logs Removed");
    assert_eq!(alert.alert_type, "K8S.NODE_SystemLogRemoval");
    let truncate = me_in(
        1000,
        1003,
        "truncate",
        &["truncate", "-s0", "/var/log/syslog"],
    );
    let alerts = host.alerts(
        &truncate,
        EventDetail::Truncate {
            path: "/var/log/syslog".into(),
            length: 0,
        },
        Some(0),
    );
    only(&alerts, "Palisade System Logs Removed");
    let logrotate = me_in(1, 1004, "logrotate", &["logrotate", "/etc/logrotate.conf"]);
    assert_none(
        &host.alerts(&logrotate, unlink("/var/log/syslog.7.gz"), Some(0)),
        "Palisade System Logs Removed",
    );
    let kubelet = me_in(1, 1005, "kubelet", &["kubelet"]);
    assert_none(
        &host.alerts(
            &kubelet,
            unlink("/var/log/pods/shop_web/nginx/0.log"),
            Some(0),
        ),
        "Palisade System Logs Removed",
    );

    let touch = me_in(
        1000,
        1006,
        "touch",
        &["touch", "-d", "2020-01-01", "/usr/bin/ls"],
    );
    let utimens = |path: &str| EventDetail::Utimens { path: path.into() };
    let alerts = host.alerts(&touch, utimens("/usr/bin/ls"), Some(0));
    let alert = only(&alerts, "Palisade Timestamps Tampered");
    assert_eq!(alert.alert_type, "K8S.NODE_TimestampTampering");
    assert_none(
        &host.alerts(&touch, utimens("/home/a/notes.txt"), Some(0)),
        "Palisade Timestamps Tampered",
    );
}

#[test]
fn metadata_and_api_server_connections_from_containers() {
    let pod = Scene::container(false);
    let curl = me_in(
        1000,
        1001,
        "curl",
        &["curl", "http://169.254.169.254/latest/"],
    );
    let alerts = pod.alerts(&curl, connect("169.254.169.254", 80), Some(0));
    let alert = only(&alerts, "Palisade Cloud Metadata Access From Container");
    assert_eq!(alert.alert_type, "K8S.NODE_ImdsCall");
    assert_container_entities(alert, 1001, "curl");
    let alerts = pod.alerts(&curl, connect("fd00:ec2::254", 80), Some(0));
    only(&alerts, "Palisade Cloud Metadata Access From Container");
    // Node agents on the host use the metadata service by design.
    assert_none(
        &Scene::host().alerts(&curl, connect("169.254.169.254", 80), Some(0)),
        "Palisade Cloud Metadata Access From Container",
    );

    let alerts = pod.alerts(&curl, connect("10.96.0.1", 443), Some(-115));
    let alert = only(&alerts, "Palisade Kubernetes API Access From Container");
    assert_eq!(alert.alert_type, "K8S.NODE_KubernetesAPI");
    // The workload's own controller process talking to the API.
    let controller = Scene {
        ancestors: vec![process(500, 1, "containerd-shim", &["containerd-shim"])],
        container: Some(container(false)),
    };
    let app = me_in(500, 1002, "manager", &["/manager", "--leader-elect"]);
    assert_none(
        &controller.alerts(&app, connect("10.96.0.1", 443), Some(0)),
        "Palisade Kubernetes API Access From Container",
    );
}

#[test]
fn download_and_run() {
    let host = Scene::host();
    let sh = me_in(
        1000,
        1001,
        "sh",
        &["sh", "-c", "curl -fsSL http://127.0.0.1:8000/i.sh | sh"],
    );
    let alerts = host.alerts(&sh, exec(&sh), None);
    let alert = only(&alerts, "Palisade Download And Run");
    assert_eq!(alert.alert_type, "K8S.NODE_DownloadAndRunCombo");
    // Downloading to a file is not running it.
    let save = me_in(
        1000,
        1002,
        "sh",
        &["sh", "-c", "curl -o /tmp/i.sh http://x/i.sh"],
    );
    assert_none(
        &host.alerts(&save, exec(&save), None),
        "Palisade Download And Run",
    );
}

#[test]
fn fileless_execution() {
    let host = Scene::host();
    let memfd = ProcessInfo {
        origin: ExeOrigin {
            memfd: true,
            ..ExeOrigin::default()
        },
        exepath: "/memfd:payload (deleted)".into(),
        ..me_in(1000, 1001, "3", &["payload"])
    };
    let alerts = host.alerts(&memfd, exec(&memfd), None);
    let alert = only(&alerts, "Palisade Fileless Execution");
    assert_eq!(alert.alert_type, "K8S.NODE_FilelessExecution");
    assert_eq!(alert.mitre.techniques, ["T1620"]);
    let ls = me_in(1000, 1002, "ls", &["ls"]);
    assert_none(
        &host.alerts(&ls, exec(&ls), None),
        "Palisade Fileless Execution",
    );
}

#[test]
fn known_attack_and_credential_tools() {
    let pod = Scene::container(false);
    let peirates = me_in(1000, 1001, "peirates", &["./peirates"]);
    let alerts = pod.alerts(&peirates, exec(&peirates), None);
    let alert = only(&alerts, "Palisade Known Attack Tool");
    assert_eq!(alert.alert_type, "K8S.NODE_KnownLinuxAttackTool");
    let linpeas = me_in(1000, 1002, "sh", &["sh", "/tmp/linpeas.sh", "-a"]);
    only(
        &pod.alerts(&linpeas, exec(&linpeas), None),
        "Palisade Known Attack Tool",
    );

    let mimi = me_in(1000, 1003, "python3", &["python3", "mimipenguin.py"]);
    let alerts = pod.alerts(&mimi, exec(&mimi), None);
    let alert = only(&alerts, "Palisade Known Credential Tool");
    assert_eq!(alert.alert_type, "K8S.NODE_KnownLinuxCredentialAccessTool");

    let app = me_in(1000, 1004, "python3", &["python3", "app.py"]);
    let alerts = pod.alerts(&app, exec(&app), None);
    assert_none(&alerts, "Palisade Known Attack Tool");
    assert_none(&alerts, "Palisade Known Credential Tool");
}

#[test]
fn drift_alerts_are_built_for_the_policy() {
    let scene = Scene::container(false);
    let dropped = ProcessInfo {
        origin: ExeOrigin {
            upper_layer: true,
            ..ExeOrigin::default()
        },
        exepath: "/tmp/implant".into(),
        ..me_in(1000, 1001, "implant", &["/tmp/implant"])
    };
    let event = SyscallEvent {
        boot_ns: 1,
        cpu: 0,
        task: TaskIds {
            pid: 1001,
            tid: 1001,
            ppid: 1000,
            loginuid: u32::MAX,
            comm: "implant".into(),
            ..TaskIds::default()
        },
        result: None,
        detail: exec(&dropped),
    };
    let record = SyscallRecord::new(
        &event,
        &dropped,
        &scene.ancestors,
        scene.container.as_ref(),
        &NoNames,
    );
    let mut detector = NodeDetector::new(NodeDetectorOptions {
        node_name: "node-1".into(),
        ..NodeDetectorOptions::default()
    })
    .expect("rules load");
    let mut out = Vec::new();
    detector.drift(&record, false, Some("default"), NOW, &mut out);
    detector.drift(&record, false, Some("default"), NOW + 1_000, &mut out);
    detector.drift(&record, true, Some("block-shop"), NOW + 2_000, &mut out);
    assert!(out.is_empty(), "held for the aggregation window");
    detector.finish(&mut out);
    assert_eq!(out.len(), 2);
    let detected = out
        .iter()
        .find(|a| a.alert_type == "K8S.NODE_BinaryDrift")
        .expect("drift alert");
    assert_eq!(detected.count, 2);
    assert!(
        detected.output.contains("exepath=/tmp/implant"),
        "{}",
        detected.output
    );
    assert!(detected.output.contains("origin=container writable layer"));
    assert_container_entities(detected, 1001, "implant");
    let blocked = out
        .iter()
        .find(|a| a.alert_type == "K8S.NODE_BinaryDriftBlocked")
        .expect("blocked alert");
    assert!(
        blocked.output.contains("blocked (killed at exec)"),
        "{}",
        blocked.output
    );
    assert!(blocked.output.contains("policy_rule=block-shop"));
}

#[test]
fn identical_alerts_aggregate_within_the_window() {
    let scene = Scene::host();
    let cat = me_in(1000, 1001, "cat", &["cat", "/etc/shadow"]);
    let event = SyscallEvent {
        boot_ns: 1,
        cpu: 0,
        task: TaskIds {
            pid: 1001,
            ppid: 1000,
            loginuid: u32::MAX,
            ..TaskIds::default()
        },
        result: Some(3),
        detail: open("/etc/shadow", O_RDONLY_CLOEXEC),
    };
    let record = SyscallRecord::new(&event, &cat, &scene.ancestors, None, &NoNames);
    let mut detector = NodeDetector::new(NodeDetectorOptions {
        window_nanos: 10_000,
        ..NodeDetectorOptions::default()
    })
    .expect("rules load");
    let mut out = Vec::new();
    detector.process(&record, NOW, &mut out);
    detector.process(&record, NOW + 5_000, &mut out);
    assert!(out.is_empty());
    detector.tick(NOW + 10_000, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].count, 2);
    assert_eq!(out[0].time, "2026-11-27T08:00:00.000000000Z");
    detector.process(&record, NOW + 20_000, &mut out);
    detector.finish(&mut out);
    assert_eq!(out.len(), 2, "a new window opens a new alert");
}

#[test]
fn user_rules_load_beside_the_builtin_ones_and_become_custom_alerts() {
    let user_rules = r#"
- list: palisade_shadow_readers_allowed
  items: [auditor]
  append: true

- rule: Curl In Shop
  desc: curl run in the shop namespace
  condition: evt.type = execve and k8s.ns.name = shop and proc.name = curl
  output: curl in shop (command=%proc.cmdline pod=%k8s.pod.name)
  priority: WARNING
  source: syscall
  tags: [mitre_exfiltration, T1041]
"#;
    let detector = NodeDetector::new(NodeDetectorOptions {
        rule_files: vec![("user.yaml".into(), user_rules.into())],
        window_nanos: 0,
        ..NodeDetectorOptions::default()
    })
    .expect("rules load");
    assert_eq!(detector.rules().len(), DETECTIONS.len() + 1);
    drop(detector);

    let scene = Scene::container(false);
    let curl = me_in(1000, 1001, "curl", &["curl", "http://x"]);
    let event = SyscallEvent {
        boot_ns: 1,
        cpu: 0,
        task: TaskIds {
            pid: 1001,
            ppid: 1000,
            loginuid: u32::MAX,
            ..TaskIds::default()
        },
        result: None,
        detail: exec(&curl),
    };
    let record = SyscallRecord::new(
        &event,
        &curl,
        &scene.ancestors,
        scene.container.as_ref(),
        &NoNames,
    );
    let mut detector = NodeDetector::new(NodeDetectorOptions {
        builtin_rules: false,
        rule_files: vec![(
            "user.yaml".into(),
            user_rules.replace("  append: true\n", ""),
        )],
        window_nanos: 0,
        ..NodeDetectorOptions::default()
    })
    .expect("user rules load alone");
    let mut out = Vec::new();
    detector.process(&record, NOW, &mut out);
    assert_eq!(out.len(), 1);
    let alert = &out[0];
    assert_eq!(alert.alert_type, "K8S.NODE_CustomRule");
    assert_eq!(alert.severity, AlertSeverity::Medium);
    assert_eq!(alert.mitre.tactics, ["Exfiltration"]);
    assert_eq!(alert.mitre.techniques, ["T1041"]);
    assert_eq!(
        alert.output,
        "curl in shop (command=curl http://x pod=web-7d9f)"
    );
    assert_eq!(
        alert.output_fields.get("k8s.pod.name").map(String::as_str),
        Some("web-7d9f")
    );
}

/// A compile and a package installation on the host, event by event, raise nothing at all.
#[test]
fn benign_host_workloads_raise_no_alert() {
    let mut table = Scene::host().ancestors;
    let mut chain = |pid: u32, ppid: u32, name: &str, argv: &[&str]| {
        let p = process(pid, ppid, name, argv);
        table.push(p.clone());
        p
    };
    let make = chain(2000, 1000, "make", &["make"]);
    let gcc = chain(2001, 2000, "gcc", &["gcc", "-O2", "-o", "app", "main.c"]);
    let cc1 = chain(2002, 2001, "cc1", &["cc1", "main.c", "-o", "/tmp/ccA.s"]);
    let ld = chain(2003, 2001, "ld", &["ld", "-o", "app", "/tmp/ccB.o"]);
    let apt = chain(3000, 1000, "apt-get", &["apt-get", "install", "-y", "jq"]);
    let dpkg = chain(3001, 3000, "dpkg", &["dpkg", "--unpack", "jq.deb"]);
    let postinst = chain(
        3002,
        3001,
        "sh",
        &["/bin/sh", "/var/lib/dpkg/info/jq.postinst"],
    );
    let helper = chain(
        3003,
        3002,
        "sh",
        &["sh", "-c", "sed -i s/a/b/ /etc/jq.conf"],
    );
    let sed = chain(3004, 3003, "sed", &["sed", "-i", "s/a/b/", "/etc/jq.conf"]);
    let ldconfig = chain(3005, 3002, "ldconfig", &["ldconfig"]);
    let scene = Scene {
        ancestors: table,
        container: None,
    };
    let steps: Vec<(&ProcessInfo, EventDetail, Option<i64>)> = vec![
        (&make, exec(&make), None),
        (&gcc, exec(&gcc), None),
        (&cc1, exec(&cc1), None),
        (&cc1, open("/tmp/ccA.s", O_WRONLY_CREAT_TRUNC), Some(3)),
        (
            &cc1,
            open("/usr/include/stdio.h", O_RDONLY_CLOEXEC),
            Some(4),
        ),
        (&ld, exec(&ld), None),
        (
            &ld,
            open("/home/dev/app/app", O_WRONLY_CREAT_TRUNC),
            Some(3),
        ),
        (&apt, exec(&apt), None),
        (&apt, connect("151.101.2.132", 80), Some(-115)),
        (&dpkg, exec(&dpkg), None),
        (
            &dpkg,
            open("/usr/bin/jq.dpkg-new", O_WRONLY_CREAT_TRUNC),
            Some(5),
        ),
        (
            &dpkg,
            EventDetail::Rename {
                old_path: "/usr/bin/jq.dpkg-new".into(),
                new_path: "/usr/bin/jq".into(),
            },
            Some(0),
        ),
        (
            &dpkg,
            EventDetail::Utimens {
                path: "/usr/bin/jq".into(),
            },
            Some(0),
        ),
        (
            &dpkg,
            open("/var/log/dpkg.log", 0o1 | 0o2000 | 0o100),
            Some(6),
        ),
        (&postinst, exec(&postinst), None),
        (&helper, exec(&helper), None),
        (&sed, exec(&sed), None),
        (&sed, open("/etc/jq.conf", O_WRONLY_CREAT_TRUNC), Some(3)),
        (&ldconfig, exec(&ldconfig), None),
        (
            &ldconfig,
            open("/etc/ld.so.cache~", O_WRONLY_CREAT_TRUNC),
            Some(3),
        ),
    ];
    for (me, detail, result) in steps {
        let what = format!("{} {:?}", me.name, detail);
        let alerts = scene.alerts(me, detail, result);
        assert!(
            alerts.is_empty(),
            "{what}: {:?}",
            alerts.iter().map(|a| &a.rule).collect::<Vec<_>>()
        );
    }
}

/// Runs one event of `me` in `scene` through user rules alone and returns the rules fired.
fn user_rule_hits(
    rules: &str,
    scene: &Scene,
    me: &ProcessInfo,
    detail: EventDetail,
    result: Option<i64>,
) -> Vec<String> {
    let event = SyscallEvent {
        boot_ns: 1,
        cpu: 0,
        task: TaskIds {
            pid: me.pid,
            tid: me.pid,
            ppid: me.ppid,
            loginuid: u32::MAX,
            ..TaskIds::default()
        },
        result,
        detail,
    };
    let record = SyscallRecord::new(
        &event,
        me,
        &scene.ancestors,
        scene.container.as_ref(),
        &NoNames,
    );
    let mut detector = NodeDetector::new(NodeDetectorOptions {
        builtin_rules: false,
        rule_files: vec![("idioms.yaml".into(), rules.into())],
        window_nanos: 0,
        ..NodeDetectorOptions::default()
    })
    .expect("user rules load");
    let mut out = Vec::new();
    detector.process(&record, NOW, &mut out);
    detector.finish(&mut out);
    out.into_iter().map(|a| a.rule).collect()
}

/// Falco's idioms in user rules: quoted list items, network fields against CIDRs and
/// `proc.aname`/`proc.apid` as "any ancestor", as falco_rules.yaml writes them.
const FALCO_IDIOM_RULES: &str = r#"
- list: web_servers
  items: [nginx, '"(httpd)"']
- list: private_networks
  items: ['"10.0.0.0/8"', '"172.16.0.0/12"', '"192.168.0.0/16"']
- rule: Shell Below Web Server
  desc: a shell with a web server among its ancestors
  condition: evt.type = execve and proc.name in (sh, bash) and proc.aname in (web_servers)
  output: shell (ancestor=%proc.aname[2])
  priority: WARNING
  source: syscall
- rule: Shell Not From Sshd
  desc: an interactive shell no sshd started
  condition: evt.type = execve and proc.name = bash and not proc.aname = sshd
  output: shell
  priority: WARNING
  source: syscall
- rule: Child Of Init Tree
  desc: a process descending from pid 1
  condition: evt.type = execve and proc.name = id and proc.apid = 1
  output: id
  priority: WARNING
  source: syscall
- rule: Public Egress
  desc: a connection leaving the private networks
  condition: >
    evt.type = connect and fd.ip != "0.0.0.0" and fd.net != "127.0.0.0/8"
    and not fd.snet in (private_networks)
  output: egress (to=%fd.sip)
  priority: WARNING
  source: syscall
- rule: Private Egress
  desc: a connection inside the private networks
  condition: evt.type = connect and fd.snet in (private_networks) and fd.rnet = 10.0.0.0/8
  output: private (to=%fd.sip)
  priority: WARNING
  source: syscall
"#;

#[test]
fn falco_idioms_in_user_rules() {
    let rules = FALCO_IDIOM_RULES;
    // `(httpd)` (a quoted list item) is the grandparent of the shell.
    let web = Scene::container(false).with_parent(process(1000, 500, "(httpd)", &["httpd"]));
    let web = Scene {
        ancestors: web
            .ancestors
            .into_iter()
            .chain([process(1100, 1000, "php", &["php"])])
            .collect(),
        ..web
    };
    let sh = me_in(1100, 1101, "sh", &["sh", "-c", "id"]);
    assert_eq!(
        user_rule_hits(rules, &web, &sh, exec(&sh), None),
        ["Shell Below Web Server"]
    );

    // The host login shell descends from sshd; a container shell does not.
    let host_bash = me_in(1000, 1001, "bash", &["bash"]);
    assert!(user_rule_hits(rules, &Scene::host(), &host_bash, exec(&host_bash), None).is_empty());
    let pod_bash = me_in(1000, 1001, "bash", &["bash"]);
    assert_eq!(
        user_rule_hits(
            rules,
            &Scene::container(false),
            &pod_bash,
            exec(&pod_bash),
            None
        ),
        ["Shell Not From Sshd"]
    );
    // Without any known ancestor `proc.aname = sshd` has no value: only `not` holds.
    let orphan = Scene {
        ancestors: Vec::new(),
        container: None,
    };
    let lone_bash = process(4000, 3999, "bash", &["bash"]);
    assert_eq!(
        user_rule_hits(rules, &orphan, &lone_bash, exec(&lone_bash), None),
        ["Shell Not From Sshd"]
    );

    let id = me_in(1000, 1001, "id", &["id"]);
    assert_eq!(
        user_rule_hits(rules, &Scene::host(), &id, exec(&id), None),
        ["Child Of Init Tree"]
    );
    assert!(user_rule_hits(rules, &orphan, &id, exec(&id), None).is_empty());

    let curl = me_in(1000, 1001, "curl", &["curl"]);
    let scene = Scene::container(false);
    let connect_hits = |ip: &str| user_rule_hits(rules, &scene, &curl, connect(ip, 443), Some(0));
    assert_eq!(connect_hits("203.0.113.7"), ["Public Egress"]);
    assert_eq!(connect_hits("2001:db8::7"), ["Public Egress"]);
    assert_eq!(connect_hits("10.20.30.40"), ["Private Egress"]);
    assert!(connect_hits("192.168.1.1").is_empty());
    assert!(connect_hits("127.0.0.1").is_empty());
    assert!(connect_hits("0.0.0.0").is_empty());
}
