//! Events as the kernel programs report them, decoded from the ring buffer: what happened
//! (`kind` and its details), when, and which task did it. Everything else a rule needs about the
//! process, its container and pod comes from the [`crate::model`] state, not from the event.
//!
//! Names follow Falco's `evt.type` values so that rules written for Falco's syscall source read the
//! same here (`execve`, `openat`, `connect`, `procexit`...).

use std::net::IpAddr;

/// The task that caused an event, as the kernel saw it at that moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskIds {
    /// Thread group ID (what userspace calls the PID), in the initial PID namespace.
    pub pid: u32,
    /// Thread ID.
    pub tid: u32,
    /// Parent's thread group ID (the real parent).
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// Audit login UID (`u32::MAX` when unset).
    pub loginuid: u32,
    /// The cgroup v2 ID of the task's cgroup (the inode number of its cgroup directory); 0 when
    /// unknown (cgroup v1 only hosts: attribution then uses `/proc/<pid>/cgroup`).
    pub cgroup_id: u64,
    /// `comm`: the first 15 bytes of the thread's name.
    pub comm: String,
}

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallEvent {
    /// Nanoseconds since boot (`bpf_ktime_get_boot_ns`); the sensor converts to wall time.
    pub boot_ns: u64,
    /// The CPU the event was recorded on.
    pub cpu: u32,
    pub task: TaskIds,
    /// The syscall's return value when the program saw the exit (`-errno` on failure), else
    /// `None` (events recorded at syscall entry).
    pub result: Option<i64>,
    pub detail: EventDetail,
}

impl SyscallEvent {
    /// Falco's `evt.type` for this event.
    pub fn event_type(&self) -> &'static str {
        self.detail.event_type()
    }

    /// Whether the syscall failed (a negative result). Events without a result count as not failed.
    pub fn failed(&self) -> bool {
        matches!(self.result, Some(result) if result < 0)
    }
}

/// Socket address families the sensor decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketFamily {
    Inet,
    Inet6,
    Unix,
    Other(u16),
}

/// A socket endpoint: an IP address and port, or a Unix socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketAddress {
    Ip {
        addr: IpAddr,
        port: u16,
    },
    Unix {
        path: String,
    },
    /// A family the sensor does not decode (netlink, packet...).
    Other {
        family: u16,
    },
}

/// Layer-4 protocol of a socket, as Falco's `fd.l4proto` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4Proto {
    Tcp,
    Udp,
    Icmp,
    Raw,
    Unknown,
}

impl L4Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            L4Proto::Tcp => "tcp",
            L4Proto::Udp => "udp",
            L4Proto::Icmp => "icmp",
            L4Proto::Raw => "raw",
            L4Proto::Unknown => "<NA>",
        }
    }
}

/// What kind of file a descriptor or executable is, from the kernel's inode, used for drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExeOrigin {
    /// The executable's inode is in an overlayfs upper (writable) layer: it was written after the
    /// container started, not shipped in its image.
    pub upper_layer: bool,
    /// The executable is an anonymous memory file (`memfd_create`).
    pub memfd: bool,
    /// The executable lives on tmpfs (`/dev/shm`, `/tmp` mounted as tmpfs...).
    pub tmpfs: bool,
}

/// What happened, per kind of event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventDetail {
    /// A successful `execve`/`execveat` (reported at `sched_process_exec`, after the new image is
    /// in place). `argv[0]` is as the caller passed it.
    Exec {
        /// The path the kernel resolved (`bprm->filename`, as passed; may be relative).
        filename: String,
        /// The executable's full path (`d_path` of the file), when the program could resolve it.
        exepath: String,
        argv: Vec<String>,
        /// True when the argument list was longer than the programs copy (it is truncated).
        argv_truncated: bool,
        origin: ExeOrigin,
        /// Controlling terminal number (`tty_nr`), 0 for none.
        tty: u32,
        /// Session ID (in the initial PID namespace).
        sid: u32,
        /// True when the kernel program killed the process because of a drift-blocking policy.
        blocked: bool,
        /// Inode number of the process's mount namespace (`stat /proc/<pid>/ns/mnt`): the key of
        /// the kernel's drift-policy maps, since on cgroup v1 hosts the cgroup id names no
        /// container. 0 when the kernel could not read it.
        mnt_ns: u64,
        /// The process's cgroup right after the exec, read by the kernel program so that a
        /// process gone before userspace handles the event is still attributed to its container.
        /// Root first (`/kubepods/besteffort/pod<uid>/<id>`, `/palisade-test/box`, `/` for a root
        /// cgroup); at most the last 4 components, each at most 63 bytes, preceded by `…`
        /// (U+2026) when the path is deeper (`…/b/c/d/leaf`); empty when unknown. The hierarchy is
        /// the v1 `pids` one (else `memory`) when that controller is on cgroup v1, else the
        /// unified one. [`crate::cgroup::CgroupRules::parse_path`] reads both forms.
        cgroup_path: String,
    },
    /// A new process (not a thread) was created by fork/vfork/clone/clone3.
    Fork {
        child_pid: u32,
        /// `clone` flags (`CLONE_NEWNS`...); 0 for plain fork.
        clone_flags: u64,
    },
    /// The thread group leader exited.
    Exit {
        /// The wait status the kernel keeps in `task->exit_code`: `code << 8` after
        /// `exit(code)`, the signal number when a signal killed it.
        exit_code: i32,
    },
    /// `open`, `openat`, `openat2` (and `creat`) of a path the kernel filters let through.
    Open {
        syscall: OpenSyscall,
        path: String,
        /// `O_*` flags as passed.
        flags: u32,
        mode: u32,
    },
    Connect {
        fd: i32,
        family: SocketFamily,
        l4proto: L4Proto,
        /// The address connected to.
        remote: SocketAddress,
    },
    Accept {
        fd: i32,
        family: SocketFamily,
        l4proto: L4Proto,
        /// The peer's address.
        remote: SocketAddress,
        local: SocketAddress,
    },
    Bind {
        fd: i32,
        family: SocketFamily,
        l4proto: L4Proto,
        local: SocketAddress,
    },
    Listen {
        fd: i32,
        backlog: i32,
    },
    Ptrace {
        /// `PTRACE_*` request.
        request: i64,
        target_pid: u32,
    },
    /// setuid/setreuid/setresuid/setgid/setregid/setresgid/setfsuid/setfsgid.
    SetId {
        syscall: SetIdSyscall,
        /// The IDs asked for, in the syscall's order; `u32::MAX` for "unchanged" (-1).
        ids: Vec<u32>,
    },
    Capset {
        effective: u64,
        permitted: u64,
        inheritable: u64,
    },
    /// `init_module` or `finit_module`.
    ModuleLoad {
        from_fd: bool,
        /// Module arguments string.
        params: String,
    },
    MemfdCreate {
        name: String,
        flags: u32,
    },
    Mount {
        source: String,
        target: String,
        fstype: String,
        flags: u64,
    },
    Umount {
        target: String,
        flags: u32,
    },
    Unshare {
        flags: u64,
    },
    Setns {
        fd: i32,
        nstype: u32,
    },
    /// dup2/dup3 (and dup onto a low fd): the sensor reports those whose old fd is a socket and
    /// whose new fd is 0, 1 or 2 (a reverse shell's tell).
    Dup {
        oldfd: i32,
        newfd: i32,
        /// The old descriptor is a socket.
        socket: bool,
        /// The socket's peer, when it is an IP socket.
        remote: Option<SocketAddress>,
    },
    /// unlink/unlinkat of a watched path (logs, shell history).
    Unlink {
        path: String,
    },
    Rename {
        old_path: String,
        new_path: String,
    },
    Truncate {
        path: String,
        length: i64,
    },
    /// utimensat of a watched path (timestamp tampering).
    Utimens {
        path: String,
    },
    Bpf {
        /// `BPF_*` command.
        cmd: u32,
    },
}

/// Which open-family syscall opened a file (Falco distinguishes them in `evt.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenSyscall {
    Open,
    Openat,
    Openat2,
    Creat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetIdSyscall {
    Setuid,
    Setreuid,
    Setresuid,
    Setfsuid,
    Setgid,
    Setregid,
    Setresgid,
    Setfsgid,
}

impl SetIdSyscall {
    pub fn name(self) -> &'static str {
        match self {
            SetIdSyscall::Setuid => "setuid",
            SetIdSyscall::Setreuid => "setreuid",
            SetIdSyscall::Setresuid => "setresuid",
            SetIdSyscall::Setfsuid => "setfsuid",
            SetIdSyscall::Setgid => "setgid",
            SetIdSyscall::Setregid => "setregid",
            SetIdSyscall::Setresgid => "setresgid",
            SetIdSyscall::Setfsgid => "setfsgid",
        }
    }
}

impl EventDetail {
    /// Falco's `evt.type` name.
    pub fn event_type(&self) -> &'static str {
        match self {
            EventDetail::Exec { .. } => "execve",
            EventDetail::Fork { clone_flags, .. } => {
                if *clone_flags == 0 {
                    "fork"
                } else {
                    "clone"
                }
            }
            EventDetail::Exit { .. } => "procexit",
            EventDetail::Open { syscall, .. } => match syscall {
                OpenSyscall::Open => "open",
                OpenSyscall::Openat => "openat",
                OpenSyscall::Openat2 => "openat2",
                OpenSyscall::Creat => "creat",
            },
            EventDetail::Connect { .. } => "connect",
            EventDetail::Accept { .. } => "accept4",
            EventDetail::Bind { .. } => "bind",
            EventDetail::Listen { .. } => "listen",
            EventDetail::Ptrace { .. } => "ptrace",
            EventDetail::SetId { syscall, .. } => syscall.name(),
            EventDetail::Capset { .. } => "capset",
            EventDetail::ModuleLoad { from_fd, .. } => {
                if *from_fd {
                    "finit_module"
                } else {
                    "init_module"
                }
            }
            EventDetail::MemfdCreate { .. } => "memfd_create",
            EventDetail::Mount { .. } => "mount",
            EventDetail::Umount { .. } => "umount2",
            EventDetail::Unshare { .. } => "unshare",
            EventDetail::Setns { .. } => "setns",
            EventDetail::Dup { .. } => "dup2",
            EventDetail::Unlink { .. } => "unlinkat",
            EventDetail::Rename { .. } => "renameat2",
            EventDetail::Truncate { .. } => "truncate",
            EventDetail::Utimens { .. } => "utimensat",
            EventDetail::Bpf { .. } => "bpf",
        }
    }
}
