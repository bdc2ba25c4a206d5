//! The kernel programs on the real kernel: load them, make child processes do the things the
//! detections look for, and check the decoded events. Needs root (CAP_BPF, CAP_PERFMON,
//! CAP_SYS_ADMIN for tracefs and the raw tracepoints); without it every test fails saying so.
//!
//! The probes ignore their loader's own PID, which is this test process, so every action happens
//! in a child: either a spawned program or a fork()ed child that only makes async-signal-safe
//! system calls before `_exit` (the test process is multi-threaded). Events are matched by the
//! child's PID so that the rest of the machine's activity does not confuse the tests.

use std::ffi::CString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use palisade_sensor::bpf::{ProbeOptions, Probes};
use palisade_sensor::cgroup::CgroupRules;
use palisade_sensor::event::{EventDetail, L4Proto, SocketAddress, SyscallEvent};
use palisade_sensor::kernel::{ModuleLoadAttempts, ModuleWatch, ProbeState, SyscallArgs};
use palisade_sensor::model::Runtime;
use palisade_sensor::process_table::ProcessTable;
use palisade_sensor::procfs::ProcFs;

/// How long a test waits for its events to come through the ring.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Events kept for the tests; the oldest half is dropped beyond this (the machine is busy).
const KEEP_EVENTS: usize = 400_000;

/// Held by each test that sets a drift policy. A freed mount namespace's inode number is reused
/// at once, so two such tests running in parallel can key their policies by the same number, and
/// one's cleanup would delete the other's policy.
static DRIFT_POLICY_TESTS: Mutex<()> = Mutex::new(());

struct Collector {
    probes: Mutex<Probes>,
    events: Mutex<Vec<SyscallEvent>>,
}

fn watched_dir() -> PathBuf {
    std::env::temp_dir().join(format!("palisade-watched-{}", std::process::id()))
}

/// Loads the probes once for the whole test binary and drains them from a background thread.
fn collector() -> Arc<Collector> {
    static COLLECTOR: OnceLock<Result<Arc<Collector>, String>> = OnceLock::new();
    let loaded = COLLECTOR.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(
                "the kernel_events tests load eBPF programs and must run as root (sudo -E cargo test -p palisade-sensor --test kernel_events)"
                    .into(),
            );
        }
        // init_module_attempt_is_seen needs the attempts watched on kernels that cannot load
        // modules too (this CI machine's).
        let mut options = ProbeOptions {
            module_load_attempts: ModuleLoadAttempts::Always,
            ..ProbeOptions::default()
        };
        options
            .watched_prefixes
            .push(format!("{}/", watched_dir().display()));
        let (probes, report) = Probes::load(&options).map_err(|e| format!("loading the probes failed: {e}"))?;
        let failed: Vec<String> = report
            .probes
            .iter()
            .filter(|p| p.state != ProbeState::Attached)
            .map(|p| format!("{} {:?}", p.program, p.state))
            .collect();
        if !failed.is_empty() {
            return Err(format!("probes not attached on this kernel:\n{}\n{report}", failed.join("\n")));
        }
        let collector = Arc::new(Collector {
            probes: Mutex::new(probes),
            events: Mutex::new(Vec::new()),
        });
        let background = Arc::clone(&collector);
        std::thread::spawn(move || {
            let mut batch = Vec::new();
            loop {
                batch.clear();
                let polled = match background.probes.lock() {
                    Ok(mut probes) => probes.poll(Duration::from_millis(20), &mut batch),
                    Err(_) => return,
                };
                if polled.is_err() {
                    return;
                }
                if batch.is_empty() {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                if let Ok(mut events) = background.events.lock() {
                    if events.len() > KEEP_EVENTS {
                        events.drain(..KEEP_EVENTS / 2);
                    }
                    events.append(&mut batch);
                }
            }
        });
        Ok(collector)
    });
    match loaded {
        Ok(collector) => Arc::clone(collector),
        Err(message) => panic!("{message}"),
    }
}

/// Waits until an event of `pid` satisfies `matches`; returns it and every event of `pid` seen.
fn wait_for(
    pid: u32,
    what: &str,
    matches: impl Fn(&SyscallEvent) -> bool,
) -> (SyscallEvent, Vec<SyscallEvent>) {
    let collector = collector();
    let start = Instant::now();
    loop {
        {
            let events = collector.events.lock().expect("event store poisoned");
            let of_pid: Vec<SyscallEvent> = events
                .iter()
                .filter(|e| e.task.pid == pid)
                .cloned()
                .collect();
            if let Some(found) = of_pid.iter().find(|e| matches(e)) {
                return (found.clone(), of_pid);
            }
            if start.elapsed() > EVENT_TIMEOUT {
                panic!(
                    "no {what} event from pid {pid} within {EVENT_TIMEOUT:?}; its events: {of_pid:#?}"
                );
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `body` in a fork()ed child and returns the child's PID and wait status. `body` must only
/// make async-signal-safe calls (no allocation, no locks): everything is prepared before fork.
fn in_child(body: impl FnOnce() -> i32) -> (u32, i32) {
    collector();
    // SAFETY: the child only runs `body`, which by contract is async-signal-safe, then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = body();
        // SAFETY: _exit is async-signal-safe and never returns.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: pid is our child; status is a valid out pointer.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    (u32::try_from(pid).expect("positive pid"), status)
}

fn sockaddr_v4(port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(Ipv4Addr::LOCALHOST).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// socket + connect to 127.0.0.1:port; the fd, or -1.
fn connect_v4(addr: &libc::sockaddr_in) -> i32 {
    // SAFETY: plain syscalls with a valid sockaddr pointer and length.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        if fd < 0 {
            return -1;
        }
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        if libc::connect(fd, (addr as *const libc::sockaddr_in).cast(), len) != 0 {
            return -1;
        }
        fd
    }
}

fn spawn_pid(program: &str, args: &[&str]) -> u32 {
    collector();
    let status = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let pid = status.id();
    let mut child = status;
    child.wait().expect("wait for child");
    pid
}

#[test]
fn exec_reports_path_and_argv() {
    let pid = spawn_pid("/bin/true", &["palisade-argv-check", "second arg"]);
    let (event, _) = wait_for(pid, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    let EventDetail::Exec {
        filename,
        exepath,
        argv,
        origin,
        blocked,
        mnt_ns,
        ..
    } = event.detail
    else {
        unreachable!()
    };
    assert_eq!(filename, "/bin/true");
    assert!(
        exepath.ends_with("/true") && exepath.starts_with('/'),
        "exepath {exepath}"
    );
    assert_eq!(argv, vec!["/bin/true", "palisade-argv-check", "second arg"]);
    assert_eq!(origin, Default::default(), "/bin/true is not drift");
    assert!(!blocked);
    let own_ns = std::fs::metadata("/proc/self/ns/mnt")
        .expect("own mount ns")
        .ino();
    assert_eq!(
        mnt_ns, own_ns,
        "the child shares the test's mount namespace"
    );
    assert_eq!(event.task.ppid, std::process::id());
    // Its exit follows.
    let (exit, _) = wait_for(pid, "exit", |e| {
        matches!(e.detail, EventDetail::Exit { .. })
    });
    assert_eq!(exit.detail, EventDetail::Exit { exit_code: 0 });
}

#[test]
fn sensitive_read_is_reported_and_unwatched_read_is_not() {
    // cat opens the unwatched file first: when the shadow event is there, the other one would be too.
    let pid = spawn_pid("/bin/cat", &["/etc/hostname", "/etc/shadow"]);
    let (event, all) = wait_for(
        pid,
        "open /etc/shadow",
        |e| matches!(&e.detail, EventDetail::Open { path, .. } if path == "/etc/shadow"),
    );
    let EventDetail::Open { flags, .. } = event.detail else {
        unreachable!()
    };
    assert_eq!(flags & 3, libc::O_RDONLY as u32);
    assert!(
        event.result.is_some_and(|fd| fd >= 0),
        "result {:?}",
        event.result
    );
    assert!(
        !all.iter().any(
            |e| matches!(&e.detail, EventDetail::Open { path, .. } if path == "/etc/hostname")
        ),
        "an unwatched read was reported: {all:#?}"
    );
}

#[test]
fn write_anywhere_is_reported_with_result() {
    let dir = std::env::temp_dir().join(format!("palisade-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("written");
    let c_path = CString::new(path.to_string_lossy().as_bytes()).expect("no NUL");
    let (pid, _) = in_child(|| {
        // SAFETY: valid C string; open/close are async-signal-safe.
        let fd = unsafe {
            libc::open(
                c_path.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                0o600,
            )
        };
        if fd >= 0 {
            unsafe { libc::close(fd) };
        }
        0
    });
    let expected = path.to_string_lossy().into_owned();
    let (event, _) = wait_for(
        pid,
        "open for write",
        |e| matches!(&e.detail, EventDetail::Open { path, .. } if *path == expected),
    );
    let EventDetail::Open { flags, mode, .. } = event.detail else {
        unreachable!()
    };
    let wanted = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC) as u32;
    assert_eq!(flags & wanted, wanted);
    assert_eq!(mode, 0o600);
    assert!(event.result.is_some_and(|fd| fd >= 0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The entry/exit pairing (kernels without bpf_task_pt_regs) reports opens and connects as the
/// exit-only programs do. A second set of probes, with its own ring, runs beside the collector's.
#[test]
fn paired_fallback_reports_opens_and_connects() {
    collector();
    let options = ProbeOptions {
        paired_syscall_args: true,
        ..ProbeOptions::default()
    };
    let (mut probes, report) = Probes::load(&options).expect("paired probes load");
    assert_eq!(report.syscall_args, SyscallArgs::Paired, "{report}");
    assert!(
        report
            .probes
            .iter()
            .any(|p| p.program == "enter_openat" && p.state == ProbeState::Attached),
        "{report}"
    );
    let dir = std::env::temp_dir().join(format!("palisade-paired-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("written");
    let c_path = CString::new(path.to_string_lossy().as_bytes()).expect("no NUL");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let addr = sockaddr_v4(port);
    let (pid, _) = in_child(|| {
        // SAFETY: valid C string; open/close are async-signal-safe.
        let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o640) };
        if fd >= 0 {
            unsafe { libc::close(fd) };
        }
        if connect_v4(&addr) >= 0 { 0 } else { 1 }
    });
    let expected = path.to_string_lossy().into_owned();
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut batch = Vec::new();
    let (mut open, mut connect) = (false, false);
    while !(open && connect) {
        if start.elapsed() > EVENT_TIMEOUT {
            let _ = std::fs::remove_dir_all(&dir);
            panic!(
                "paired probes: open of {expected} seen: {open}, connect to port {port} seen: \
                 {connect}; events of pid {pid}: {seen:#?}"
            );
        }
        batch.clear();
        probes
            .poll(Duration::from_millis(20), &mut batch)
            .expect("poll");
        seen.extend(batch.drain(..).filter(|e| e.task.pid == pid));
        open = seen.iter().any(|e| {
            matches!(&e.detail, EventDetail::Open { path, mode, .. } if *path == expected && *mode == 0o640)
                && e.result.is_some_and(|fd| fd >= 0)
        });
        connect = seen.iter().any(|e| {
            matches!(e.detail, EventDetail::Connect { remote: SocketAddress::Ip { port: p, .. }, .. } if p == port)
                && e.result == Some(0)
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The sensor's own process and the `ignore_pids` it is given raise no events; others do. A second
/// probe set ignores a waiting shell, which then writes a file: the collector (ignoring only this
/// test process) sees that write, the second set must not, and neither sees this process's own.
#[test]
fn ignored_processes_raise_no_events() {
    use std::io::Write;
    collector();
    let dir = std::env::temp_dir().join(format!("palisade-ignored-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let child_file = dir.join("from-ignored-child");
    let own_file = dir.join("from-test-process");
    let mut shell = Command::new("sh")
        .arg("-c")
        .arg(format!("read line; echo x > '{}'", child_file.display()))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("start sh");
    let shell_pid = shell.id();
    let options = ProbeOptions {
        ignore_pids: vec![shell_pid],
        ..ProbeOptions::default()
    };
    let (mut probes, _) = Probes::load(&options).expect("second probe set loads");
    shell
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"go\n")
        .expect("wake the shell");
    assert!(shell.wait().expect("wait for sh").success());
    std::fs::write(&own_file, b"x").expect("write from the test process");
    let child_path = child_file.to_string_lossy().into_owned();
    // The write happened and an unignoring probe set saw it.
    wait_for(
        shell_pid,
        "open of the ignored shell's file",
        |e| matches!(&e.detail, EventDetail::Open { path, .. } if *path == child_path),
    );
    let own = std::process::id();
    let mut batch = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(500);
    while Instant::now() < deadline {
        probes
            .poll(Duration::from_millis(20), &mut batch)
            .expect("poll");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let leaked: Vec<&SyscallEvent> = batch
        .iter()
        .filter(|e| e.task.pid == shell_pid || e.task.pid == own)
        .collect();
    assert!(
        leaked.is_empty(),
        "events of ignored processes: {leaked:#?}"
    );
    let collector = collector();
    let events = collector.events.lock().expect("event store poisoned");
    let own_file = own_file.to_string_lossy().into_owned();
    assert!(
        !events.iter().any(|e| e.task.pid == own
            && matches!(&e.detail, EventDetail::Open { path, .. } if *path == own_file)),
        "the collector reported the test process's own write"
    );
}

#[test]
fn connect_to_loopback_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let addr = sockaddr_v4(port);
    let (pid, _) = in_child(|| if connect_v4(&addr) >= 0 { 0 } else { 1 });
    let (event, _) = wait_for(pid, "connect", |e| {
        matches!(e.detail, EventDetail::Connect { .. })
    });
    let EventDetail::Connect {
        l4proto, remote, ..
    } = event.detail
    else {
        unreachable!()
    };
    assert_eq!(l4proto, L4Proto::Tcp);
    assert_eq!(
        remote,
        SocketAddress::Ip {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port
        }
    );
    assert_eq!(event.result, Some(0));
}

/// IPv6 ends come from the socket's own v6 fields (read apart from the IPv4 block).
#[test]
fn accept_and_connect_over_ipv6_loopback() {
    let Ok(probe) = TcpListener::bind("[::1]:0") else {
        panic!(
            "this machine has no IPv6 loopback (::1), which the sensor's IPv6 path needs to be tested"
        );
    };
    drop(probe);
    let (pid, status) = in_child(|| {
        let Ok(listener) = TcpListener::bind("[::1]:0") else {
            return 1;
        };
        let Ok(addr) = listener.local_addr() else {
            return 2;
        };
        let Ok(_client) = TcpStream::connect(addr) else {
            return 3;
        };
        if listener.accept().is_err() {
            return 4;
        }
        0
    });
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    let (connect, _) = wait_for(pid, "connect", |e| {
        matches!(e.detail, EventDetail::Connect { .. })
    });
    let EventDetail::Connect {
        l4proto, remote, ..
    } = connect.detail
    else {
        unreachable!()
    };
    assert_eq!(l4proto, L4Proto::Tcp);
    let SocketAddress::Ip { addr, port } = remote else {
        panic!("{remote:?}")
    };
    assert_eq!(addr, IpAddr::V6(Ipv6Addr::LOCALHOST));
    let (accept, _) = wait_for(pid, "accept", |e| {
        matches!(e.detail, EventDetail::Accept { .. })
    });
    let EventDetail::Accept {
        local,
        remote: peer,
        l4proto,
        ..
    } = accept.detail
    else {
        unreachable!()
    };
    assert_eq!(l4proto, L4Proto::Tcp);
    assert_eq!(
        local,
        SocketAddress::Ip {
            addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
            port
        }
    );
    assert!(
        matches!(peer, SocketAddress::Ip { addr, port: p } if addr == IpAddr::V6(Ipv6Addr::LOCALHOST) && p != port && p != 0),
        "{peer:?}"
    );
}

/// connect on a descriptor that is not a socket is still reported (failed), and the sensor does
/// not take the file for a socket.
#[test]
fn connect_on_a_regular_file_is_not_taken_for_a_socket() {
    let addr = sockaddr_v4(9);
    let (pid, _) = in_child(|| {
        // SAFETY: open and connect on our own descriptor with a valid sockaddr.
        unsafe {
            let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::connect(fd, (&addr as *const libc::sockaddr_in).cast(), len);
            if rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOTSOCK) {
                0
            } else {
                1
            }
        }
    });
    let (event, _) = wait_for(pid, "connect", |e| {
        matches!(e.detail, EventDetail::Connect { .. })
    });
    let EventDetail::Connect { l4proto, .. } = event.detail else {
        unreachable!()
    };
    assert_eq!(l4proto, L4Proto::Unknown, "{event:#?}");
    assert_eq!(event.result, Some(-i64::from(libc::ENOTSOCK)));
}

/// Every record's header carries who did it: thread and process IDs, parent, real user and group,
/// and the thread's name (read by the programs straight from the task).
#[test]
fn record_headers_carry_the_callers_identity() {
    let dir = std::env::temp_dir().join(format!("palisade-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = CString::new(dir.join("out").to_string_lossy().as_bytes()).expect("no NUL");
    // So that the child, once it is uid 4321, can create in it.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
        .expect("chmod scratch dir");
    let (pid, status) = in_child(|| {
        // SAFETY: prctl/setgid/setuid/open/close on the child's own process.
        unsafe {
            if libc::prctl(libc::PR_SET_NAME, c"palisade-hdr".as_ptr()) != 0 {
                return 1;
            }
            if libc::setgid(1234) != 0 || libc::setuid(4321) != 0 {
                return 2;
            }
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o600);
            if fd < 0 {
                return 3;
            }
            libc::close(fd);
        }
        0
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    let (event, _) = wait_for(pid, "open", |e| {
        matches!(e.detail, EventDetail::Open { .. })
    });
    assert_eq!(event.task.pid, pid);
    assert_eq!(event.task.tid, pid);
    assert_eq!(event.task.ppid, std::process::id());
    assert_eq!((event.task.uid, event.task.gid), (4321, 1234));
    assert_eq!(event.task.comm, "palisade-hdr");
    // The cgroup v2 ID (the child stayed in this process's cgroup): the inode of its directory
    // in the unified hierarchy.
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    let unified = mountinfo
        .lines()
        .find(|line| line.contains(" - cgroup2 "))
        .and_then(|line| line.split(' ').nth(4))
        .expect("a cgroup2 (unified) mount: the sensor's cgroup IDs come from it");
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("own cgroup");
    let path = own
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .expect("a unified-hierarchy line in /proc/self/cgroup");
    assert_eq!(
        Some(event.task.cgroup_id),
        palisade_sensor::cgroup::cgroup_v2_id(std::path::Path::new(unified), path)
    );
}

#[test]
fn socket_duplicated_onto_stdout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let addr = sockaddr_v4(port);
    let (pid, _) = in_child(|| {
        let fd = connect_v4(&addr);
        // SAFETY: dup2 on our own descriptors.
        if fd < 0 || unsafe { libc::dup2(fd, 1) } != 1 {
            1
        } else {
            0
        }
    });
    let (event, _) = wait_for(pid, "dup2", |e| matches!(e.detail, EventDetail::Dup { .. }));
    let EventDetail::Dup {
        newfd,
        socket,
        remote,
        ..
    } = event.detail
    else {
        unreachable!()
    };
    assert_eq!(newfd, 1);
    assert!(socket);
    assert_eq!(
        remote,
        Some(SocketAddress::Ip {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port
        })
    );
}

#[test]
fn ptrace_attach_to_a_child() {
    collector();
    let mut target = Command::new("/bin/sleep").arg("30").spawn().expect("sleep");
    let target_pid = target.id();
    let (pid, _) = in_child(|| {
        // SAFETY: ptrace on a pid; the tracee is released when this child exits.
        let rc = unsafe {
            libc::ptrace(
                libc::PTRACE_ATTACH,
                target_pid as libc::pid_t,
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            )
        };
        if rc == 0 { 0 } else { 1 }
    });
    let (event, _) = wait_for(pid, "ptrace", |e| {
        matches!(e.detail, EventDetail::Ptrace { .. })
    });
    let _ = target.kill();
    let _ = target.wait();
    assert_eq!(
        event.detail,
        EventDetail::Ptrace {
            request: i64::from(libc::PTRACE_ATTACH),
            target_pid
        }
    );
}

/// Everything a child needs to copy /bin/true into a memfd and execute it from there.
struct MemfdExec {
    name: CString,
    image: Vec<u8>,
    empty: CString,
    argv0: CString,
}

impl MemfdExec {
    fn new(name: &str) -> Self {
        MemfdExec {
            name: CString::new(name).expect("no NUL"),
            image: std::fs::read("/bin/true").expect("read /bin/true"),
            empty: CString::default(),
            argv0: CString::new("memfd-true").expect("no NUL"),
        }
    }

    /// In the child: memfd_create, write the image, execveat(fd, "", AT_EMPTY_PATH). Returns only
    /// on failure.
    fn run(&self) -> i32 {
        // SAFETY: raw syscalls on valid buffers; no allocation.
        unsafe {
            let fd = libc::memfd_create(self.name.as_ptr(), 0);
            if fd < 0 {
                return 2;
            }
            let mut written = 0usize;
            while written < self.image.len() {
                let chunk = &self.image[written..];
                let n = libc::write(fd, chunk.as_ptr().cast(), chunk.len());
                if n <= 0 {
                    return 3;
                }
                written += n as usize;
            }
            let argv = [self.argv0.as_ptr(), std::ptr::null()];
            let envp: [*const libc::c_char; 1] = [std::ptr::null()];
            libc::syscall(
                libc::SYS_execveat,
                fd,
                self.empty.as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            );
            4
        }
    }
}

#[test]
fn exec_from_memfd_is_drift() {
    let job = MemfdExec::new("palisade-memfd");
    let (pid, status) = in_child(|| job.run());
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    let (created, _) = wait_for(pid, "memfd_create", |e| {
        matches!(e.detail, EventDetail::MemfdCreate { .. })
    });
    assert_eq!(
        created.detail,
        EventDetail::MemfdCreate {
            name: "palisade-memfd".into(),
            flags: 0
        }
    );
    let (event, _) = wait_for(pid, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    let EventDetail::Exec {
        origin,
        exepath,
        argv,
        blocked,
        ..
    } = event.detail
    else {
        unreachable!()
    };
    assert!(origin.memfd, "origin {origin:?}");
    assert!(!origin.upper_layer && !origin.tmpfs);
    assert_eq!(exepath, "/memfd:palisade-memfd");
    assert_eq!(argv, vec!["memfd-true"]);
    assert!(!blocked, "no policy: nothing is blocked");
}

#[test]
fn drift_blocking_kills_memfd_exec_in_a_blocked_namespace() {
    let _serial = DRIFT_POLICY_TESTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // The child moves to its own mount namespace, tells us its inode, waits until the policy is
    // in, then execs from a memfd.
    let job = MemfdExec::new("palisade-blocked");
    let mut ready = [0i32; 2];
    let mut go = [0i32; 2];
    // SAFETY: pipe() fills two fds.
    assert_eq!(unsafe { libc::pipe(ready.as_mut_ptr()) }, 0);
    assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
    collector();
    // SAFETY: the child only makes async-signal-safe calls, then execs or _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                libc::_exit(5);
            }
            let byte = 1u8;
            libc::write(ready[1], (&byte as *const u8).cast(), 1);
            let mut buf = 0u8;
            libc::read(go[0], (&mut buf as *mut u8).cast(), 1);
            libc::_exit(job.run());
        }
    }
    let mut byte = 0u8;
    // SAFETY: reading one byte from our pipe.
    unsafe { libc::read(ready[0], (&mut byte as *mut u8).cast(), 1) };
    let child_ns = std::fs::metadata(format!("/proc/{pid}/ns/mnt"))
        .expect("child ns")
        .ino();
    let own_ns = std::fs::metadata("/proc/self/ns/mnt")
        .expect("own ns")
        .ino();
    assert_ne!(child_ns, own_ns);
    let collector = collector();
    collector
        .probes
        .lock()
        .expect("probes")
        .set_drift_policy(child_ns, true, &["/usr/bin/allowed-tool".to_string()])
        .expect("set policy");
    // SAFETY: writing one byte to our pipe and reaping our child.
    unsafe { libc::write(go[1], (&byte as *const u8).cast(), 1) };
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    collector
        .probes
        .lock()
        .expect("probes")
        .clear_drift_policy(child_ns)
        .expect("clear policy");
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
        "the drift exec was not killed: status {status:#x}"
    );
    let pid = u32::try_from(pid).expect("positive");
    let (event, _) = wait_for(pid, "blocked exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    assert!(
        matches!(event.detail, EventDetail::Exec { blocked: true, mnt_ns, origin, .. } if mnt_ns == child_ns && origin.memfd),
        "{event:#?}"
    );
    let (exit, _) = wait_for(pid, "exit", |e| {
        matches!(e.detail, EventDetail::Exit { .. })
    });
    assert_eq!(
        exit.detail,
        EventDetail::Exit {
            exit_code: libc::SIGKILL
        }
    );
}

#[test]
fn drift_allow_list_lets_the_named_executable_run() {
    let _serial = DRIFT_POLICY_TESTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let job = MemfdExec::new("palisade-allowed");
    let mut ready = [0i32; 2];
    let mut go = [0i32; 2];
    assert_eq!(unsafe { libc::pipe(ready.as_mut_ptr()) }, 0);
    assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
    collector();
    // SAFETY: as in the blocking test.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                libc::_exit(5);
            }
            let byte = 1u8;
            libc::write(ready[1], (&byte as *const u8).cast(), 1);
            let mut buf = 0u8;
            libc::read(go[0], (&mut buf as *mut u8).cast(), 1);
            libc::_exit(job.run());
        }
    }
    let mut byte = 0u8;
    unsafe { libc::read(ready[0], (&mut byte as *mut u8).cast(), 1) };
    let child_ns = std::fs::metadata(format!("/proc/{pid}/ns/mnt"))
        .expect("child ns")
        .ino();
    let collector = collector();
    collector
        .probes
        .lock()
        .expect("probes")
        .set_drift_policy(child_ns, true, &["/memfd:palisade-allowed".to_string()])
        .expect("set policy");
    unsafe { libc::write(go[1], (&byte as *const u8).cast(), 1) };
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    collector
        .probes
        .lock()
        .expect("probes")
        .clear_drift_policy(child_ns)
        .expect("clear policy");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the allowed exec did not run: status {status:#x}"
    );
    let pid = u32::try_from(pid).expect("positive");
    let (event, _) = wait_for(pid, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    assert!(
        matches!(event.detail, EventDetail::Exec { blocked: false, .. }),
        "{event:#?}"
    );
}

#[test]
fn init_module_attempt_is_seen() {
    let params = CString::new("palisade_probe=1").expect("no NUL");
    let (pid, _) = in_child(|| {
        // SAFETY: a NULL image makes the kernel fail the call (EFAULT/EPERM/ENOSYS); we only want
        // the attempt.
        unsafe {
            libc::syscall(
                libc::SYS_init_module,
                std::ptr::null::<u8>(),
                0usize,
                params.as_ptr(),
            )
        };
        3
    });
    let (event, _) = wait_for(pid, "init_module", |e| {
        matches!(e.detail, EventDetail::ModuleLoad { .. })
    });
    assert_eq!(
        event.detail,
        EventDetail::ModuleLoad {
            from_fd: false,
            params: "palisade_probe=1".into()
        }
    );
    // exit(3) is kept as the wait status 3 << 8.
    let (exit, _) = wait_for(pid, "exit", |e| {
        matches!(e.detail, EventDetail::Exit { .. })
    });
    assert_eq!(exit.detail, EventDetail::Exit { exit_code: 3 << 8 });
}

#[test]
fn unshare_flags_are_reported() {
    let (pid, _) = in_child(|| {
        // SAFETY: unshare in the child only.
        unsafe { libc::unshare(libc::CLONE_NEWUTS) }
    });
    let (event, _) = wait_for(pid, "unshare", |e| {
        matches!(e.detail, EventDetail::Unshare { .. })
    });
    assert_eq!(
        event.detail,
        EventDetail::Unshare {
            flags: libc::CLONE_NEWUTS as u64
        }
    );
}

#[test]
fn unlink_of_watched_path_only() {
    let dir = watched_dir();
    std::fs::create_dir_all(&dir).expect("watched dir");
    let watched = dir.join("history");
    std::fs::write(&watched, b"x").expect("file");
    let other_dir = std::env::temp_dir().join(format!("palisade-unwatched-{}", std::process::id()));
    std::fs::create_dir_all(&other_dir).expect("other dir");
    let unwatched = other_dir.join("history");
    std::fs::write(&unwatched, b"x").expect("file");
    let c_unwatched = CString::new(unwatched.to_string_lossy().as_bytes()).expect("no NUL");
    let c_watched = CString::new(watched.to_string_lossy().as_bytes()).expect("no NUL");
    let (pid, _) = in_child(|| {
        // SAFETY: unlink of valid C strings; the unwatched one first (see the read test).
        unsafe {
            libc::unlink(c_unwatched.as_ptr());
            libc::unlink(c_watched.as_ptr())
        }
    });
    let expected = watched.to_string_lossy().into_owned();
    let (_, all) = wait_for(
        pid,
        "unlink",
        |e| matches!(&e.detail, EventDetail::Unlink { path } if *path == expected),
    );
    assert_eq!(
        all.iter()
            .filter(|e| matches!(e.detail, EventDetail::Unlink { .. }))
            .count(),
        1,
        "only the watched unlink is reported: {all:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_dir);
}

#[test]
fn drops_counter_is_readable_per_cpu() {
    let collector = collector();
    let drops = collector
        .probes
        .lock()
        .expect("probes")
        .drops()
        .expect("drops map");
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    assert!(
        drops.len() >= cpus,
        "{} per-CPU values for {cpus} CPUs",
        drops.len()
    );
    assert_eq!(collector.probes.lock().expect("probes").decode_errors(), 0);
}

/// Execs `path` from a fork()ed child that first mounts an overlay (lower `lower`, upper `upper`)
/// on `merged` in a private mount namespace, so the host's mounts are untouched.
fn exec_in_overlay(
    lower: &std::path::Path,
    upper: &std::path::Path,
    work: &std::path::Path,
    merged: &std::path::Path,
    binary: &str,
) -> u32 {
    let c = |s: &str| CString::new(s).expect("no NUL");
    let options = c(&format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    ));
    let overlay = c("overlay");
    let root = c("/");
    let none = c("none");
    let target = c(&merged.to_string_lossy());
    let program = c(&merged.join(binary).to_string_lossy());
    let (pid, status) = in_child(|| {
        // SAFETY: mount/unshare/execve syscalls on prepared C strings.
        unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return 5;
            }
            if libc::mount(
                none.as_ptr(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return 6;
            }
            if libc::mount(
                overlay.as_ptr(),
                target.as_ptr(),
                overlay.as_ptr(),
                0,
                options.as_ptr().cast(),
            ) != 0
            {
                return 7;
            }
            let argv = [program.as_ptr(), std::ptr::null()];
            let envp: [*const libc::c_char; 1] = [std::ptr::null()];
            libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr());
            8
        }
    });
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "overlay exec of {binary} failed: status {status:#x}"
    );
    pid
}

#[test]
fn overlay_upper_layer_and_tmpfs_origins() {
    let base = std::env::temp_dir().join(format!("palisade-overlay-{}", std::process::id()));
    let [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map(|d| base.join(d));
    for dir in [&lower, &upper, &work, &merged] {
        std::fs::create_dir_all(dir).expect("overlay dir");
    }
    std::fs::copy("/bin/true", lower.join("image-true")).expect("lower binary");
    std::fs::copy("/bin/true", upper.join("dropped-true")).expect("upper binary");

    let from_image = exec_in_overlay(&lower, &upper, &work, &merged, "image-true");
    let (event, _) = wait_for(from_image, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    assert!(
        matches!(event.detail, EventDetail::Exec { origin, ref exepath, .. } if origin == Default::default() && exepath.ends_with("/merged/image-true")),
        "{event:#?}"
    );
    let dropped = exec_in_overlay(&lower, &upper, &work, &merged, "dropped-true");
    let (event, _) = wait_for(dropped, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    assert!(
        matches!(event.detail, EventDetail::Exec { origin, .. } if origin.upper_layer && !origin.memfd && !origin.tmpfs),
        "{event:#?}"
    );
    let _ = std::fs::remove_dir_all(&base);

    // /dev/shm is tmpfs on every Linux distribution with glibc's shm_open.
    let shm = PathBuf::from(format!("/dev/shm/palisade-true-{}", std::process::id()));
    std::fs::copy("/bin/true", &shm).expect("copy to /dev/shm");
    let pid = spawn_pid(&shm.to_string_lossy(), &[]);
    let (event, _) = wait_for(pid, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    let _ = std::fs::remove_file(&shm);
    assert!(
        matches!(event.detail, EventDetail::Exec { origin, ref exepath, .. } if origin.tmpfs && !origin.memfd && *exepath == shm.to_string_lossy()),
        "{event:#?}"
    );
}

#[test]
fn kernel_check_finds_every_tracepoint() {
    collector();
    let report = palisade_sensor::kernel::check_kernel(ModuleLoadAttempts::Always);
    eprintln!("{report}");
    assert!(report.usable(), "{report}");
    assert!(report.degraded().is_empty(), "{report}");
    assert!(
        report
            .probes
            .iter()
            .all(|p| p.state == ProbeState::Available),
        "{report}"
    );
    assert!(report.to_string().contains("no detection is degraded"));
}

/// With the default `auto`, the module-load catch-all (a program run on every syscall) is off
/// exactly on kernels that can neither trace the module syscalls nor load modules, and the
/// check says so.
#[test]
fn kernel_check_turns_the_module_catch_all_off_only_where_no_load_can_succeed() {
    collector();
    let report = palisade_sensor::kernel::check_kernel(ModuleLoadAttempts::Auto);
    let tracefs = palisade_sensor::kernel::tracefs_mount();
    let watch = ModuleWatch::detect(tracefs.as_deref(), ModuleLoadAttempts::Auto);
    let raw = report
        .probes
        .iter()
        .find(|p| p.program == "enter_raw_syscall");
    match watch {
        ModuleWatch::Off => {
            assert!(!std::path::Path::new("/proc/modules").exists());
            assert!(
                matches!(raw.map(|p| &p.state), Some(ProbeState::Off(_))),
                "{report}"
            );
            assert!(
                report
                    .to_string()
                    .contains("kernel module load: not watched"),
                "{report}"
            );
        }
        ModuleWatch::RawSyscall => {
            assert_eq!(
                raw.map(|p| &p.state),
                Some(&ProbeState::Available),
                "{report}"
            )
        }
        ModuleWatch::Tracepoints => assert!(raw.is_none(), "{report}"),
    }
}

#[test]
fn fork_reports_new_processes_with_namespace_clone_flags() {
    let (pid, status) = in_child(|| {
        // SAFETY: a raw clone without CLONE_VM behaves like fork; the new process _exits at once.
        unsafe {
            let flags = (libc::CLONE_NEWUTS | libc::SIGCHLD) as libc::c_ulong;
            let child = libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize);
            if child == 0 {
                libc::_exit(0);
            }
            if child < 0 {
                return 1;
            }
            let mut status = 0;
            libc::waitpid(child as libc::pid_t, &mut status, 0);
            0
        }
    });
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    let (event, _) = wait_for(pid, "fork", |e| {
        matches!(e.detail, EventDetail::Fork { .. })
    });
    let EventDetail::Fork {
        child_pid,
        clone_flags,
    } = event.detail
    else {
        unreachable!()
    };
    assert_ne!(child_pid, pid);
    assert_ne!(
        clone_flags & libc::CLONE_NEWUTS as u64,
        0,
        "flags {clone_flags:#x}"
    );
    assert_eq!(event.event_type(), "clone");
}

#[test]
fn bind_listen_accept_on_loopback() {
    // A free port: bind to 0, read it, release it (the child rebinds it at once).
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = sockaddr_v4(port);
    let (pid, status) = in_child(|| {
        // SAFETY: socket syscalls on our own descriptors and a valid sockaddr.
        unsafe {
            let server = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            if libc::bind(server, (&addr as *const libc::sockaddr_in).cast(), len) != 0 {
                return 1;
            }
            if libc::listen(server, 7) != 0 {
                return 2;
            }
            // The connection completes in the backlog, so accept finds it without another process.
            if connect_v4(&addr) < 0 {
                return 3;
            }
            if libc::accept4(server, std::ptr::null_mut(), std::ptr::null_mut(), 0) < 0 {
                return 4;
            }
            0
        }
    });
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    let (bind, _) = wait_for(pid, "bind", |e| {
        matches!(e.detail, EventDetail::Bind { .. })
    });
    assert!(
        matches!(bind.detail, EventDetail::Bind { l4proto: L4Proto::Tcp, local: SocketAddress::Ip { port: p, .. }, .. } if p == port),
        "{bind:#?}"
    );
    let (listen, _) = wait_for(pid, "listen", |e| {
        matches!(e.detail, EventDetail::Listen { .. })
    });
    assert!(matches!(
        listen.detail,
        EventDetail::Listen { backlog: 7, .. }
    ));
    let (accept, _) = wait_for(pid, "accept", |e| {
        matches!(e.detail, EventDetail::Accept { .. })
    });
    let EventDetail::Accept {
        local,
        remote,
        l4proto,
        ..
    } = accept.detail
    else {
        unreachable!()
    };
    assert_eq!(l4proto, L4Proto::Tcp);
    assert_eq!(
        local,
        SocketAddress::Ip {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port
        }
    );
    assert!(
        matches!(remote, SocketAddress::Ip { addr, port: p } if addr == IpAddr::V4(Ipv4Addr::LOCALHOST) && p != port && p != 0),
        "{remote:?}"
    );
}

#[test]
fn setid_capset_setns_and_bpf_calls() {
    let uts = CString::new("/proc/self/ns/uts").expect("no NUL");
    let (pid, _) = in_child(|| {
        // SAFETY: identity-preserving privilege calls (root to root), setns into our own UTS
        // namespace, and a bpf() call that fails on its NULL attribute.
        unsafe {
            libc::setresuid(0, u32::MAX, 0);
            libc::setgid(0);
            let mut header = [0x2008_0522u32, 0]; // _LINUX_CAPABILITY_VERSION_3, this process
            let mut data = [0u32; 6];
            libc::syscall(libc::SYS_capget, header.as_mut_ptr(), data.as_mut_ptr());
            libc::syscall(libc::SYS_capset, header.as_mut_ptr(), data.as_ptr());
            let fd = libc::open(uts.as_ptr(), libc::O_RDONLY);
            libc::setns(fd, libc::CLONE_NEWUTS);
            libc::syscall(libc::SYS_bpf, 0usize, std::ptr::null::<u8>(), 0usize);
        }
        0
    });
    let (setid, _) = wait_for(pid, "setresuid", |e| e.event_type() == "setresuid");
    assert!(
        matches!(&setid.detail, EventDetail::SetId { ids, .. } if *ids == vec![0, u32::MAX, 0]),
        "{setid:#?}"
    );
    wait_for(
        pid,
        "setgid",
        |e| matches!(&e.detail, EventDetail::SetId { ids, .. } if e.event_type() == "setgid" && *ids == vec![0]),
    );
    let (capset, _) = wait_for(pid, "capset", |e| {
        matches!(e.detail, EventDetail::Capset { .. })
    });
    // Root's effective set includes CAP_SYS_ADMIN (21).
    assert!(
        matches!(capset.detail, EventDetail::Capset { effective, .. } if effective & (1 << 21) != 0),
        "{capset:#?}"
    );
    let (setns, _) = wait_for(pid, "setns", |e| {
        matches!(e.detail, EventDetail::Setns { .. })
    });
    assert!(
        matches!(setns.detail, EventDetail::Setns { nstype, .. } if nstype == libc::CLONE_NEWUTS as u32)
    );
    let (bpf, _) = wait_for(pid, "bpf", |e| matches!(e.detail, EventDetail::Bpf { .. }));
    assert_eq!(bpf.detail, EventDetail::Bpf { cmd: 0 });
}

#[test]
fn mount_and_umount_in_a_private_namespace() {
    let dir = std::env::temp_dir().join(format!("palisade-mnt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mount dir");
    let target = CString::new(dir.to_string_lossy().as_bytes()).expect("no NUL");
    let tmpfs = CString::new("tmpfs").expect("no NUL");
    let source = CString::new("palisade-src").expect("no NUL");
    let root = CString::new("/").expect("no NUL");
    let (pid, status) = in_child(|| {
        // SAFETY: mounts in the child's own mount namespace only.
        unsafe {
            if libc::unshare(libc::CLONE_NEWNS) != 0
                || libc::mount(
                    source.as_ptr(),
                    root.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) != 0
                || libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    tmpfs.as_ptr(),
                    libc::MS_NOSUID,
                    std::ptr::null(),
                ) != 0
                || libc::umount2(target.as_ptr(), libc::MNT_DETACH) != 0
            {
                return 1;
            }
        }
        0
    });
    let _ = std::fs::remove_dir(&dir);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    let expected = dir.to_string_lossy().into_owned();
    let (mount, _) = wait_for(
        pid,
        "mount",
        |e| matches!(&e.detail, EventDetail::Mount { target, .. } if *target == expected),
    );
    assert_eq!(
        mount.detail,
        EventDetail::Mount {
            source: "palisade-src".into(),
            target: expected.clone(),
            fstype: "tmpfs".into(),
            flags: libc::MS_NOSUID
        }
    );
    let (umount, _) = wait_for(pid, "umount", |e| {
        matches!(e.detail, EventDetail::Umount { .. })
    });
    assert_eq!(
        umount.detail,
        EventDetail::Umount {
            target: expected,
            flags: libc::MNT_DETACH as u32
        }
    );
}

#[test]
fn rename_truncate_and_utimens_of_watched_paths() {
    let dir = watched_dir();
    std::fs::create_dir_all(&dir).expect("watched dir");
    let log = dir.join("app.log");
    let rotated = dir.join("app.log.1");
    std::fs::write(&log, b"some log lines\n").expect("log");
    let c_log = CString::new(log.to_string_lossy().as_bytes()).expect("no NUL");
    let c_rotated = CString::new(rotated.to_string_lossy().as_bytes()).expect("no NUL");
    let (pid, _) = in_child(|| {
        // SAFETY: file syscalls on prepared paths.
        unsafe {
            libc::truncate(c_log.as_ptr(), 3);
            libc::utimensat(libc::AT_FDCWD, c_log.as_ptr(), std::ptr::null(), 0);
            libc::rename(c_log.as_ptr(), c_rotated.as_ptr());
        }
        0
    });
    let log_path = log.to_string_lossy().into_owned();
    let (truncate, _) = wait_for(pid, "truncate", |e| {
        matches!(e.detail, EventDetail::Truncate { .. })
    });
    assert_eq!(
        truncate.detail,
        EventDetail::Truncate {
            path: log_path.clone(),
            length: 3
        }
    );
    let (utimens, _) = wait_for(pid, "utimensat", |e| {
        matches!(e.detail, EventDetail::Utimens { .. })
    });
    assert_eq!(
        utimens.detail,
        EventDetail::Utimens {
            path: log_path.clone()
        }
    );
    let (rename, _) = wait_for(pid, "rename", |e| {
        matches!(e.detail, EventDetail::Rename { .. })
    });
    assert_eq!(
        rename.detail,
        EventDetail::Rename {
            old_path: log_path,
            new_path: rotated.to_string_lossy().into_owned()
        }
    );
    let _ = std::fs::remove_file(&rotated);
}

#[test]
fn open_storm_arrives_complete() {
    const OPENS: usize = 20_000;
    let dir = std::env::temp_dir().join(format!("palisade-storm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("storm dir");
    let path = CString::new(dir.join("f").to_string_lossy().as_bytes()).expect("no NUL");
    let collector = collector();
    let drops_before: u64 = collector
        .probes
        .lock()
        .expect("probes")
        .drops()
        .expect("drops")
        .iter()
        .sum();
    let start = Instant::now();
    let (pid, _) = in_child(|| {
        for _ in 0..OPENS {
            // SAFETY: open/close of a prepared path.
            unsafe {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o600);
                if fd >= 0 {
                    libc::close(fd);
                }
            }
        }
        0
    });
    let elapsed = start.elapsed();
    let count_opens = || {
        collector
            .events
            .lock()
            .expect("events")
            .iter()
            .filter(|e| e.task.pid == pid && matches!(e.detail, EventDetail::Open { .. }))
            .count()
    };
    let deadline = Instant::now() + EVENT_TIMEOUT;
    while count_opens() < OPENS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let drops_after: u64 = collector
        .probes
        .lock()
        .expect("probes")
        .drops()
        .expect("drops")
        .iter()
        .sum();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "open storm: {OPENS} opens in {elapsed:?} ({:.0} events/s), drops {}",
        OPENS as f64 / elapsed.as_secs_f64(),
        drops_after - drops_before
    );
    assert_eq!(count_opens(), OPENS, "every open reached userspace");
    assert_eq!(drops_after, drops_before, "no record was dropped");
}

#[test]
fn dup_of_a_socket_onto_a_closed_stdin() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let addr = sockaddr_v4(port);
    let (pid, status) = in_child(|| {
        let fd = connect_v4(&addr);
        // SAFETY: close and dup on our own descriptors; dup takes the lowest free one, 0.
        if fd < 0 || unsafe { libc::close(0) } != 0 || unsafe { libc::dup(fd) } != 0 {
            1
        } else {
            0
        }
    });
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    let (event, _) = wait_for(pid, "dup", |e| matches!(e.detail, EventDetail::Dup { .. }));
    let EventDetail::Dup {
        oldfd,
        newfd,
        socket,
        remote,
    } = event.detail
    else {
        unreachable!()
    };
    assert_eq!(newfd, 0);
    assert!(oldfd > 2 && socket);
    assert_eq!(
        remote,
        Some(SocketAddress::Ip {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port
        })
    );
}

/// The cgroup path the exec program reports for a process of this test's own cgroups: the v1
/// `pids` hierarchy's path, or the unified one when that is the root (see `task_cgroup` in
/// sensor.bpf.c), cut to its last 4 components after `…`.
fn own_cgroup_tail() -> String {
    let content = std::fs::read_to_string("/proc/self/cgroup").expect("read /proc/self/cgroup");
    let path_of = |wanted: &dyn Fn(&str) -> bool| {
        content.lines().find_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            wanted(controllers).then(|| path.to_string())
        })
    };
    let pids = path_of(&|c| c.split(',').any(|c| c == "pids")).filter(|p| p != "/");
    let path = pids
        .or_else(|| path_of(&|c| c.is_empty()))
        .unwrap_or_else(|| "/".into());
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    match components.len().checked_sub(4) {
        Some(cut) if cut > 0 => format!("\u{2026}/{}", components[cut..].join("/")),
        _ => format!("/{}", components.join("/")),
    }
}

#[test]
fn exec_of_a_host_process_carries_its_cgroup_path() {
    let pid = spawn_pid("/bin/true", &["palisade-cgroup-host"]);
    let (event, _) = wait_for(pid, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    let EventDetail::Exec { cgroup_path, .. } = &event.detail else {
        unreachable!()
    };
    assert_eq!(*cgroup_path, own_cgroup_tail());
    // The test runs outside any container: the table must say so without reading /proc.
    let mut table = ProcessTable::new(ProcFs::new("/nonexistent-proc", CgroupRules::default()), 16);
    table.apply(&event);
    assert_eq!(table.get(pid).and_then(|p| p.container_id.clone()), None);
}

/// Removes the test's cgroup even when an assertion fails.
struct CgroupDir(PathBuf);

impl Drop for CgroupDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The v1 pids hierarchy's `palisade-test` parent (the end-to-end tests' runc parent).
fn pids_test_parent() -> PathBuf {
    let pids_root = PathBuf::from("/sys/fs/cgroup/pids");
    assert!(
        pids_root.join("cgroup.procs").exists(),
        "this test needs the cgroup v1 pids hierarchy at {}",
        pids_root.display()
    );
    pids_root.join("palisade-test")
}

/// Forks a child that waits on a pipe, moves it into `cgroup` (a v1 pids cgroup directory), lets
/// it exec /bin/true, reaps it, and returns its exec event.
fn exec_moved_into(cgroup: &std::path::Path) -> SyscallEvent {
    collector();
    let program = CString::new("/bin/true").expect("path");
    let arg0 = CString::new("palisade-cgroup-moved").expect("arg");
    let argv = [program.as_ptr(), arg0.as_ptr(), std::ptr::null()];
    let mut pipe = [0i32; 2];
    // SAFETY: pipe writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0, "pipe");
    let [read_end, write_end] = pipe;
    // SAFETY: the child only makes async-signal-safe calls (close, read, execv, _exit) on data
    // prepared before the fork.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: async-signal-safe calls only; execv's arguments are NUL-terminated and live.
        unsafe {
            libc::close(write_end);
            let mut byte = 0u8;
            // Wait until the parent has moved this process into the cgroup.
            if libc::read(read_end, (&mut byte as *mut u8).cast(), 1) != 1 {
                libc::_exit(126);
            }
            libc::execv(program.as_ptr(), argv.as_ptr());
            libc::_exit(127);
        }
    }
    // SAFETY: closing our copy of the child's end.
    unsafe { libc::close(read_end) };
    let moved = std::fs::write(cgroup.join("cgroup.procs"), pid.to_string());
    // SAFETY: one byte from a valid buffer into the pipe, then our end closed; the child is ours.
    let status = unsafe {
        libc::write(write_end, b"x".as_ptr().cast(), 1);
        libc::close(write_end);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        status
    };
    moved.expect("move the child into the pids cgroup");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child status {status}"
    );
    let pid = u32::try_from(pid).expect("positive pid");
    let (event, _) = wait_for(pid, "exec", |e| {
        matches!(e.detail, EventDetail::Exec { .. })
    });
    event
}

fn exec_cgroup_path(event: &SyscallEvent) -> &str {
    match &event.detail {
        EventDetail::Exec { cgroup_path, .. } => cgroup_path,
        other => panic!("not an exec: {other:?}"),
    }
}

/// The kernel reads the cgroup at the exec itself: a process moved into a v1 pids cgroup and gone
/// long before userspace looks still names its container, which /proc no longer can.
#[test]
fn exec_in_a_v1_pids_cgroup_carries_the_container_path() {
    let name = format!("bpf2-cgroup-{}", std::process::id());
    let dir = CgroupDir(pids_test_parent().join(&name));
    std::fs::create_dir_all(&dir.0).expect("create the pids cgroup");
    let event = exec_moved_into(&dir.0);
    let pid = event.task.pid;
    assert_eq!(exec_cgroup_path(&event), format!("/palisade-test/{name}"));

    // The process is gone: /proc cannot attribute it, the event's path does.
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    let mut table = ProcessTable::new(ProcFs::default(), 1024);
    table.apply(&event);
    assert_eq!(
        table.get(pid).and_then(|p| p.container_id.as_deref()),
        Some(name.as_str())
    );
    let container = table.container(&name).expect("container remembered");
    assert_eq!(container.runtime, Runtime::Runc);
    assert_eq!(container.cgroup_path, format!("/palisade-test/{name}"));
}

/// Deeper than 4 components: the last 4 after the `…` marker, each name whole.
#[test]
fn a_deep_cgroup_path_is_cut_to_its_last_four_components() {
    let name = format!("bpf2-deep-{}", std::process::id());
    let long = "l".repeat(63);
    let top = CgroupDir(pids_test_parent().join(&name));
    let middle = CgroupDir(top.0.join("a"));
    let lower = CgroupDir(middle.0.join("b"));
    let leaf = CgroupDir(lower.0.join(&long));
    std::fs::create_dir_all(&leaf.0).expect("create the nested pids cgroups");
    let event = exec_moved_into(&leaf.0);
    assert_eq!(
        exec_cgroup_path(&event),
        format!("\u{2026}/{name}/a/b/{long}")
    );
    // Dropped leaf first, so each directory is empty when it is removed.
    drop((leaf, lower, middle, top));
}
