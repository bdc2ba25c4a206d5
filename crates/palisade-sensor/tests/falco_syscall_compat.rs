//! Falco's published syscall rules (falcosecurity/rules `rules/falco_rules.yaml`) load next to
//! Palisade's built-in ones, every disabled rule is reported with the field that disabled it,
//! and a handful of them fire on matching events as in Falco.
//!
//! The file is not in the repository (issue 7 keeps third-party rule files out): point
//! `PALISADE_FALCO_SYSCALL_RULES` at a copy. Without it that test prints a notice; rules of our
//! own written in Falco's idiom (`tests/fixtures/rules/falco_idioms.yaml`) are checked either
//! way, CI included.

use std::collections::BTreeMap;
use std::net::IpAddr;

use palisade_core::Alert;
use palisade_sensor::detections::{NodeDetector, NodeDetectorOptions};
use palisade_sensor::event::{
    EventDetail, ExeOrigin, L4Proto, SocketAddress, SocketFamily, SyscallEvent, TaskIds,
};
use palisade_sensor::fields::{NoNames, SyscallRecord};
use palisade_sensor::model::{ContainerInfo, PodInfo, ProcessInfo, Runtime};

#[path = "support/scene.rs"]
mod scene;
use scene::{NOW, exec, open, process};

const IDIOMS: &str = include_str!("fixtures/rules/falco_idioms.yaml");

fn pod_container() -> ContainerInfo {
    ContainerInfo {
        id: "9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081".into(),
        runtime: Runtime::Containerd,
        cgroup_path: String::new(),
        pod_uid: Some("u1".into()),
        name: Some("api".into()),
        image: Some("ghcr.io/shop/api:2.3".into()),
        image_digest: None,
        privileged: Some(false),
        pod: Some(PodInfo {
            uid: "u1".into(),
            namespace: "shop".into(),
            name: "api-0".into(),
            labels: BTreeMap::new(),
        }),
    }
}

/// A detector with every match reported on its own, as Falco does.
fn detector(files: Vec<(String, String)>) -> NodeDetector {
    NodeDetector::new(NodeDetectorOptions {
        rule_files: files,
        node_name: "node-1".into(),
        window_nanos: 0,
        ..NodeDetectorOptions::default()
    })
    .unwrap_or_else(|e| panic!("rules must load: {e}"))
}

/// Runs `detail` by `me` (its ancestors in `table`) and returns the names of the rules fired.
fn fired(
    detector: &mut NodeDetector,
    me: &ProcessInfo,
    table: &Vec<ProcessInfo>,
    container: Option<&ContainerInfo>,
    detail: EventDetail,
    result: Option<i64>,
) -> Vec<Alert> {
    let event = SyscallEvent {
        boot_ns: 90_000_000_000,
        cpu: 0,
        task: TaskIds {
            pid: me.pid,
            tid: me.pid,
            ppid: me.ppid,
            uid: 0,
            gid: 0,
            loginuid: u32::MAX,
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
    let record =
        SyscallRecord::new(&event, me, table, container, &NoNames).with_ip_names(&ip_names);
    let mut out = Vec::new();
    detector.process(&record, NOW, &mut out);
    detector.finish(&mut out);
    out
}

fn names(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.rule.as_str()).collect()
}

/// Prints the disabled rules and the fields that disabled them; returns them by field.
fn report_disabled(detector: &NodeDetector, file: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_field: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for warning in detector.warnings() {
        if !warning.contains(file) {
            continue;
        }
        let field = warning
            .split("field `")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .unwrap_or("?")
            .to_string();
        let rule = warning
            .split("rule `")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .unwrap_or("?")
            .to_string();
        by_field.entry(field).or_default().push(rule);
    }
    let disabled: usize = by_field.values().map(Vec::len).sum();
    println!("{file}: {disabled} rule(s) disabled by unknown fields");
    for (field, rules) in &by_field {
        println!("  {field}: {rules:?}");
    }
    by_field
}

#[test]
fn published_falco_rules_load_and_fire() {
    let Some(path) = std::env::var_os("PALISADE_FALCO_SYSCALL_RULES") else {
        // Falco's file is not ours to commit (issue 7 says so); the other test of this file
        // runs a rule file of our own with the same constructs, in CI and everywhere.
        println!(
            "PALISADE_FALCO_SYSCALL_RULES is unset: set it to a copy of Falco's published \
             falco_rules.yaml (github.com/falcosecurity/rules, rules/falco_rules.yaml) to check \
             that it loads and fires; the constructs it uses are checked by \
             own_rules_in_falco_idiom_load_and_fire"
        );
        return;
    };
    let text = std::fs::read_to_string(&path).expect("PALISADE_FALCO_SYSCALL_RULES is readable");
    let mut detector = detector(vec![("falco_rules.yaml".into(), text)]);
    let by_field = report_disabled(&detector, "falco_rules.yaml");
    assert!(by_field.is_empty(), "unknown fields: {by_field:?}");
    let enabled = |name: &str| detector.rules().iter().any(|r| r.name == name && r.enabled);
    for rule in [
        "Read sensitive file untrusted",
        "Terminal shell in container",
        "Drop and execute new binary in container",
        "Fileless execution via memfd_create",
        "Redirect STDOUT/STDIN to Network Connection in Container",
        "PTRACE attached to process",
        "Clear Log Activities",
        "Contact K8S API Server From Container",
        "Run shell untrusted",
        "Disallowed SSH Connection Non Standard Port",
    ] {
        assert!(enabled(rule), "`{rule}` is not loaded and enabled");
    }

    let host = vec![
        process(1, 0, "systemd", &["/sbin/init"]),
        process(900, 1, "sshd", &["sshd"]),
        process(1000, 900, "bash", &["-bash"]),
    ];
    let cat = process(1001, 1000, "cat", &["cat", "/etc/shadow"]);
    let alerts = fired(
        &mut detector,
        &cat,
        &host,
        None,
        open("/etc/shadow", 0),
        Some(3),
    );
    assert!(
        names(&alerts).contains(&"Read sensitive file untrusted"),
        "{:?}",
        names(&alerts)
    );
    let falco = alerts
        .iter()
        .find(|a| a.rule == "Read sensitive file untrusted")
        .expect("alert");
    assert_eq!(falco.alert_type, "K8S.NODE_CustomRule");
    assert_eq!(falco.mitre.techniques, ["T1555"]);
    assert!(
        falco
            .output
            .contains("file=/etc/shadow gparent=sshd ggparent=systemd"),
        "{}",
        falco.output
    );
    assert!(
        falco
            .output
            .ends_with("container_id=host container_name=host)")
    );
    // passwd is trusted to read it.
    let passwd = process(1002, 1000, "passwd", &["passwd"]);
    let alerts = fired(
        &mut detector,
        &passwd,
        &host,
        None,
        open("/etc/shadow", 0),
        Some(3),
    );
    assert!(!names(&alerts).contains(&"Read sensitive file untrusted"));

    let pod = pod_container();
    let in_pod = vec![process(500, 1, "containerd-shim", &["containerd-shim"])];
    let shell = ProcessInfo {
        tty: 34816,
        ..process(1003, 500, "bash", &["bash"])
    };
    let alerts = fired(
        &mut detector,
        &shell,
        &in_pod,
        Some(&pod),
        exec(&shell),
        None,
    );
    assert!(
        names(&alerts).contains(&"Terminal shell in container"),
        "{:?}",
        names(&alerts)
    );

    let dropped = ProcessInfo {
        origin: ExeOrigin {
            upper_layer: true,
            ..ExeOrigin::default()
        },
        ..process(1004, 500, "implant", &["/tmp/implant"])
    };
    let alerts = fired(
        &mut detector,
        &dropped,
        &in_pod,
        Some(&pod),
        exec(&dropped),
        None,
    );
    assert!(
        names(&alerts).contains(&"Drop and execute new binary in container"),
        "{:?}",
        names(&alerts)
    );

    let memfd = ProcessInfo {
        origin: ExeOrigin {
            memfd: true,
            ..ExeOrigin::default()
        },
        ..process(1005, 1000, "x", &["x"])
    };
    let alerts = fired(&mut detector, &memfd, &host, None, exec(&memfd), None);
    assert!(names(&alerts).contains(&"Fileless execution via memfd_create"));

    let reverse = EventDetail::Dup {
        oldfd: 3,
        newfd: 1,
        socket: true,
        remote: Some(SocketAddress::Ip {
            addr: "10.1.2.3".parse().expect("literal"),
            port: 4444,
        }),
    };
    let alerts = fired(&mut detector, &shell, &in_pod, Some(&pod), reverse, Some(1));
    assert!(names(&alerts).contains(&"Redirect STDOUT/STDIN to Network Connection in Container"));

    let gdb = process(1006, 1000, "gdb", &["gdb", "-p", "1"]);
    let attach = EventDetail::Ptrace {
        request: 16,
        target_pid: 1,
    };
    let alerts = fired(&mut detector, &gdb, &host, None, attach, Some(0));
    assert!(names(&alerts).contains(&"PTRACE attached to process"));

    let truncate = process(1007, 1000, "sh", &["sh"]);
    let alerts = fired(
        &mut detector,
        &truncate,
        &host,
        None,
        open("/var/log/syslog", 0o1 | 0o1000),
        Some(3),
    );
    assert!(
        names(&alerts).contains(&"Clear Log Activities"),
        "{:?}",
        names(&alerts)
    );

    let curl = process(1008, 500, "curl", &["curl", "https://kubernetes.default"]);
    let connect = EventDetail::Connect {
        fd: 3,
        family: SocketFamily::Inet,
        l4proto: L4Proto::Tcp,
        remote: SocketAddress::Ip {
            addr: "10.96.0.1".parse().expect("literal"),
            port: 443,
        },
    };
    let alerts = fired(&mut detector, &curl, &in_pod, Some(&pod), connect, Some(0));
    assert!(names(&alerts).contains(&"Contact K8S API Server From Container"));

    run_shell_untrusted(&mut detector);
    outbound_ssh(&mut detector);
}

/// "Run shell untrusted": `proc.aname in (protected_shell_spawning_binaries)` must see any
/// ancestor, and the quoted command lines of `known_shell_spawn_cmdlines` must match unquoted.
fn run_shell_untrusted(detector: &mut NodeDetector) {
    const RULE: &str = "Run shell untrusted";
    // nginx is the grandparent: only the any-ancestor reading of `proc.aname` sees it.
    let web = vec![
        process(1, 0, "systemd", &["/sbin/init"]),
        process(600, 1, "nginx", &["nginx"]),
        process(601, 600, "php-fpm", &["php-fpm"]),
    ];
    let shell = process(602, 601, "sh", &["sh", "-c", "id"]);
    let alerts = fired(detector, &shell, &web, None, exec(&shell), None);
    assert!(names(&alerts).contains(&RULE), "{:?}", names(&alerts));
    // A command line of known_shell_spawn_cmdlines (a list of quoted items with spaces).
    let uname = process(603, 601, "sh", &["sh", "-c", "uname -p 2> /dev/null"]);
    let alerts = fired(detector, &uname, &web, None, exec(&uname), None);
    assert!(!names(&alerts).contains(&RULE), "{:?}", names(&alerts));
    // A package manager among the ancestors (run_by_package_mgmt_binaries) excuses it.
    let upgrade = vec![
        process(1, 0, "systemd", &["/sbin/init"]),
        process(700, 1, "nginx", &["nginx"]),
        process(701, 700, "apt-get", &["apt-get", "upgrade"]),
        process(702, 701, "perl", &["perl"]),
    ];
    let script = process(703, 702, "sh", &["sh", "-c", "true"]);
    let alerts = fired(detector, &script, &upgrade, None, exec(&script), None);
    assert!(!names(&alerts).contains(&RULE), "{:?}", names(&alerts));
    // No protected ancestor at all: an ssh login shell.
    let login = vec![
        process(1, 0, "systemd", &["/sbin/init"]),
        process(900, 1, "sshd", &["sshd"]),
        process(901, 900, "sudo", &["sudo", "-i"]),
    ];
    let root_shell = process(902, 901, "bash", &["bash"]);
    let alerts = fired(detector, &root_shell, &login, None, exec(&root_shell), None);
    assert!(!names(&alerts).contains(&RULE), "{:?}", names(&alerts));
}

/// "Disallowed SSH Connection Non Standard Port" uses `outbound`: `fd.net != "127.0.0.0/8"`
/// and `not fd.snet in (rfc_1918_addresses)` (quoted CIDR items).
fn outbound_ssh(detector: &mut NodeDetector) {
    const RULE: &str = "Disallowed SSH Connection Non Standard Port";
    let host = vec![
        process(1, 0, "systemd", &["/sbin/init"]),
        process(1000, 1, "bash", &["-bash"]),
    ];
    let ssh = process(1100, 1000, "ssh", &["ssh", "-p", "443", "user@host"]);
    let connect = |addr: &str, port: u16| EventDetail::Connect {
        fd: 3,
        family: SocketFamily::Inet,
        l4proto: L4Proto::Tcp,
        remote: SocketAddress::Ip {
            addr: addr.parse().expect("literal"),
            port,
        },
    };
    let alerts = fired(
        detector,
        &ssh,
        &host,
        None,
        connect("203.0.113.9", 443),
        Some(0),
    );
    assert!(names(&alerts).contains(&RULE), "{:?}", names(&alerts));
    for (addr, port) in [
        ("10.1.2.3", 443),
        ("172.20.0.4", 443),
        ("192.168.1.1", 8080),
        ("127.0.0.1", 443),
        ("203.0.113.9", 22),
    ] {
        let alerts = fired(detector, &ssh, &host, None, connect(addr, port), Some(0));
        assert!(
            !names(&alerts).contains(&RULE),
            "{addr}:{port}: {:?}",
            names(&alerts)
        );
    }
}

#[test]
fn own_rules_in_falco_idiom_load_and_fire() {
    let mut detector = detector(vec![("falco_idioms.yaml".into(), IDIOMS.into())]);
    let by_field = report_disabled(&detector, "falco_idioms.yaml");
    assert!(by_field.is_empty(), "{by_field:?}");
    assert!(detector.rules().iter().all(|r| r.enabled));

    let host = vec![
        process(1, 0, "systemd", &["/sbin/init"]),
        process(900, 1, "sshd", &["sshd"]),
        process(1000, 900, "bash", &["-bash"]),
    ];
    let dd = process(1001, 1000, "dd", &["dd", "if=/etc/shadow"]);
    let alerts = fired(
        &mut detector,
        &dd,
        &host,
        None,
        open("/etc/shadow", 0),
        Some(3),
    );
    let shadow = alerts
        .iter()
        .find(|a| a.rule == "Idiom Shadow Read")
        .unwrap_or_else(|| panic!("{:?}", names(&alerts)));
    assert_eq!(
        shadow.output,
        "shadow read (file=/etc/shadow gparent=sshd process=dd flags=O_RDONLY \
         container_id=host container_name=host)"
    );
    // A shell is in the list of lists; a failed open opened nothing.
    let alerts = fired(
        &mut detector,
        &host[2].clone(),
        &host,
        None,
        open("/etc/shadow", 0),
        Some(3),
    );
    assert!(!names(&alerts).contains(&"Idiom Shadow Read"));
    let alerts = fired(
        &mut detector,
        &dd,
        &host,
        None,
        open("/etc/shadow", 0),
        Some(-2),
    );
    assert!(!names(&alerts).contains(&"Idiom Shadow Read"));

    let pod = pod_container();
    let in_pod = vec![process(500, 1, "containerd-shim", &["containerd-shim"])];
    let shell = ProcessInfo {
        tty: 34816,
        ..process(1003, 500, "sh", &["sh"])
    };
    let alerts = fired(
        &mut detector,
        &shell,
        &in_pod,
        Some(&pod),
        exec(&shell),
        None,
    );
    let terminal = alerts
        .iter()
        .find(|a| a.rule == "Idiom Terminal Shell")
        .unwrap_or_else(|| panic!("{:?}", names(&alerts)));
    assert_eq!(
        terminal.output,
        "terminal shell (process=sh parent=containerd-shim terminal=34816 cwd=<NA> \
         container_id=9a8b7c6d5e4f container_name=api container_image=ghcr.io/shop/api:2.3 \
         k8s_ns=shop k8s_pod_name=api-0)"
    );
    // The same shell started by the entrypoint script (not the runtime) is not an exec point.
    let script_shell = ProcessInfo {
        tty: 34816,
        ..process(1004, 1003, "sh", &["sh"])
    };
    let mut with_parent = in_pod.clone();
    with_parent.push(shell.clone());
    let alerts = fired(
        &mut detector,
        &script_shell,
        &with_parent,
        Some(&pod),
        exec(&script_shell),
        None,
    );
    assert!(!names(&alerts).contains(&"Idiom Terminal Shell"));

    let sh = process(1005, 1000, "sh", &["sh"]);
    let alerts = fired(
        &mut detector,
        &sh,
        &host,
        None,
        open("/var/log/auth.log", 0o1 | 0o1000),
        Some(4),
    );
    assert!(names(&alerts).contains(&"Idiom Log Truncated"));
    assert!(!names(&alerts).contains(&"Idiom Capabilities Unknown"));
}
