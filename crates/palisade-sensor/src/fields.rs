//! The `syscall` source of the rule engine: Falco's syscall field classes (`evt.*`, `proc.*`,
//! `thread.*`, `fd.*`, `user.*`, `group.*`, `container.*`, `k8s.*`) over one decoded
//! [`SyscallEvent`] and what the sensor knows about its process, the process's ancestors and its
//! container, so that rules written for Falco (falcosecurity/rules `falco_rules.yaml`) load and
//! read the same here. Names and meanings follow libsinsp's filterchecks
//! (`userspace/libsinsp/sinsp_filtercheck_{event,fd,proc,user,group,thread}.cpp`) and the
//! container plugin's `container.*`/`k8s.*` fields.
//!
//! What a [`SyscallRecord`] is built from:
//! - the event;
//! - the acting process ([`ProcessInfo`], after the exec for exec events);
//! - a [`ProcessLookup`] to find ancestors by PID (`proc.pname`, `proc.aname[N]`, `proc.sname`):
//!   the sensor's [`crate::process_table::ProcessTable`]; maps and a `Vec` of [`ProcessInfo`]
//!   work too (tests);
//! - the container, `None` for host processes (`container.id` is then `host`, as in Falco);
//! - user and group names ([`IdNames`]; the sensor backs it with the host's or the container's
//!   `/etc/passwd` and `/etc/group`);
//! - optionally, names of well-known addresses ([`SyscallRecord::ip_names`]: the API server's
//!   ClusterIP → `kubernetes.default.svc.cluster.local`, answering `fd.sip.name`), the node name
//!   (`evt.hostname`) and the event's wall-clock time (`evt.time`, `evt.rawtime`).
//!
//! Direction: every event is reported complete, after the syscall, so `evt.dir` is `<`, except
//! `ptrace`, whose arguments Falco's rules read on the enter event (`evt.dir=>`).
//!
//! Fields declared so that Falco's rules load, but which the sensor cannot know yet and which
//! are therefore always missing (`<NA>`; every test on them is false): `evt.num`,
//! `proc.cwd`, `proc.env`, `proc.vpgid`, `proc.vpgid.name`, `proc.is_vpgid_leader`,
//! `proc.is_exe_writable`, `proc.exe_ino`, `proc.exe_ino.ctime`, `proc.exe_ino.mtime`,
//! `proc.exe_ino.ctime_duration_proc_start`, `proc.vpid`, `proc.pvpid`,
//! `thread.cap_effective`, `thread.cap_permitted`, `thread.cap_inheritable`, `fd.connected`,
//! `fd.name_changed`, `container.start_ts`, and `fd.*ip.name` for addresses not in
//! `ip_names`.
//!
//! Known differences from libsinsp:
//! - `fd.ip` and `fd.net` hold both known ends of the socket (their values render as a
//!   list); as in libsinsp, `=`/`in` hold when one end matches and `!=` when neither does.
//! - For `connect`, the local end is not reported by the kernel programs: `fd.lip`, `fd.cip`,
//!   `fd.lport`, `fd.cport` are missing and `fd.name` is `->IP:PORT`.
//! - Path events other than opens (`unlinkat`, `renameat2`, `truncate`, `utimensat`) also set
//!   `fd.name`/`fd.directory`/`fd.filename` to the path acted on (the new path for renames), a
//!   Palisade convenience; Falco's own rules read them through `evt.arg.*`, which are set too.
//!
//! Palisade additions: `proc.is_exe_from_tmpfs`, `proc.exe_blocked` (the kernel program killed
//! the process at exec by drift policy), `container.runtime`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use palisade_rules::{Event, FieldInfo, FieldSource, FieldType, FieldValue};

use crate::event::{EventDetail, L4Proto, SocketAddress, SocketFamily, SyscallEvent};
use crate::model::{ContainerInfo, ProcessInfo};

/// The `source:` name of syscall rules.
pub const SOURCE_NAME: &str = "syscall";

// `None`: no argument; `Some(false)`: an optional index; `Some(true)`: a required key.
const NO: Option<bool> = palisade_rules::fields::NO_ARGUMENT;
const INDEX: Option<bool> = palisade_rules::fields::INDEX_ARGUMENT;
const KEY: Option<bool> = palisade_rules::fields::KEY_ARGUMENT;

palisade_rules::field_table! {
    EvtNum = "evt.num", Number, NO;
    EvtTime = "evt.time", String, NO;
    EvtTimeIso8601 = "evt.time.iso8601", String, NO;
    EvtRawtime = "evt.rawtime", Number, NO;
    EvtType = "evt.type", String, NO;
    EvtDir = "evt.dir", String, NO;
    EvtCpu = "evt.cpu", Number, NO;
    EvtSource = "evt.source", String, NO;
    EvtHostname = "evt.hostname", String, NO;
    EvtCategory = "evt.category", String, NO;
    EvtRes = "evt.res", String, NO;
    EvtRawres = "evt.rawres", Number, NO;
    EvtFailed = "evt.failed", Bool, NO;
    EvtIsOpenRead = "evt.is_open_read", Bool, NO;
    EvtIsOpenWrite = "evt.is_open_write", Bool, NO;
    EvtIsOpenExec = "evt.is_open_exec", Bool, NO;
    EvtIsOpenCreate = "evt.is_open_create", Bool, NO;
    EvtArgs = "evt.args", String, NO;
    EvtArg = "evt.arg", String, KEY;
    ProcName = "proc.name", String, NO;
    ProcExe = "proc.exe", String, NO;
    ProcExepath = "proc.exepath", String, NO;
    ProcCmdline = "proc.cmdline", String, NO;
    ProcArgs = "proc.args", String, NO;
    ProcPid = "proc.pid", Number, NO;
    ProcPpid = "proc.ppid", Number, NO;
    ProcPname = "proc.pname", String, NO;
    ProcPcmdline = "proc.pcmdline", String, NO;
    ProcPexe = "proc.pexe", String, NO;
    ProcPexepath = "proc.pexepath", String, NO;
    ProcAname = "proc.aname", AnyString, INDEX;
    ProcApid = "proc.apid", AnyNumber, INDEX;
    ProcAexe = "proc.aexe", AnyString, INDEX;
    ProcAexepath = "proc.aexepath", AnyString, INDEX;
    ProcAcmdline = "proc.acmdline", AnyString, INDEX;
    ProcTty = "proc.tty", Number, NO;
    ProcSid = "proc.sid", Number, NO;
    ProcSname = "proc.sname", String, NO;
    ProcIsSidLeader = "proc.is_sid_leader", Bool, NO;
    ProcVpgid = "proc.vpgid", Number, NO;
    ProcVpgidName = "proc.vpgid.name", String, NO;
    ProcIsVpgidLeader = "proc.is_vpgid_leader", Bool, NO;
    ProcDuration = "proc.duration", Number, NO;
    ProcCwd = "proc.cwd", String, NO;
    ProcEnv = "proc.env", String, INDEX;
    ProcVpid = "proc.vpid", Number, NO;
    ProcPvpid = "proc.pvpid", Number, NO;
    ProcIsExeUpperLayer = "proc.is_exe_upper_layer", Bool, NO;
    ProcIsExeFromMemfd = "proc.is_exe_from_memfd", Bool, NO;
    ProcIsExeFromTmpfs = "proc.is_exe_from_tmpfs", Bool, NO;
    ProcIsExeWritable = "proc.is_exe_writable", Bool, NO;
    ProcExeBlocked = "proc.exe_blocked", Bool, NO;
    ProcExeIno = "proc.exe_ino", Number, NO;
    ProcExeInoCtime = "proc.exe_ino.ctime", Number, NO;
    ProcExeInoMtime = "proc.exe_ino.mtime", Number, NO;
    ProcExeInoCtimeDurationProcStart = "proc.exe_ino.ctime_duration_proc_start", Number, NO;
    ThreadTid = "thread.tid", Number, NO;
    ThreadCapEffective = "thread.cap_effective", String, NO;
    ThreadCapPermitted = "thread.cap_permitted", String, NO;
    ThreadCapInheritable = "thread.cap_inheritable", String, NO;
    FdNum = "fd.num", Number, NO;
    FdType = "fd.type", String, NO;
    FdTypechar = "fd.typechar", String, NO;
    FdName = "fd.name", String, NO;
    FdNameraw = "fd.nameraw", String, NO;
    FdDirectory = "fd.directory", String, NO;
    FdFilename = "fd.filename", String, NO;
    FdIp = "fd.ip", Ip, NO;
    FdCip = "fd.cip", Ip, NO;
    FdSip = "fd.sip", Ip, NO;
    FdLip = "fd.lip", Ip, NO;
    FdRip = "fd.rip", Ip, NO;
    FdDip = "fd.dip", Ip, NO;
    FdPort = "fd.port", Number, NO;
    FdCport = "fd.cport", Number, NO;
    FdSport = "fd.sport", Number, NO;
    FdLport = "fd.lport", Number, NO;
    FdRport = "fd.rport", Number, NO;
    FdDport = "fd.dport", Number, NO;
    FdNet = "fd.net", IpNet, NO;
    FdCnet = "fd.cnet", IpNet, NO;
    FdSnet = "fd.snet", IpNet, NO;
    FdLnet = "fd.lnet", IpNet, NO;
    FdRnet = "fd.rnet", IpNet, NO;
    FdCipName = "fd.cip.name", String, NO;
    FdSipName = "fd.sip.name", String, NO;
    FdLipName = "fd.lip.name", String, NO;
    FdRipName = "fd.rip.name", String, NO;
    FdL4proto = "fd.l4proto", String, NO;
    FdSockfamily = "fd.sockfamily", String, NO;
    FdIsServer = "fd.is_server", Bool, NO;
    FdConnected = "fd.connected", Bool, NO;
    FdNameChanged = "fd.name_changed", Bool, NO;
    UserUid = "user.uid", Number, NO;
    UserName = "user.name", String, NO;
    UserLoginuid = "user.loginuid", Number, NO;
    UserLoginname = "user.loginname", String, NO;
    GroupGid = "group.gid", Number, NO;
    GroupName = "group.name", String, NO;
    ContainerId = "container.id", String, NO;
    ContainerFullId = "container.full_id", String, NO;
    ContainerName = "container.name", String, NO;
    ContainerImage = "container.image", String, NO;
    ContainerImageRepository = "container.image.repository", String, NO;
    ContainerImageTag = "container.image.tag", String, NO;
    ContainerImageDigest = "container.image.digest", String, NO;
    ContainerType = "container.type", String, NO;
    ContainerRuntime = "container.runtime", String, NO;
    ContainerPrivileged = "container.privileged", Bool, NO;
    ContainerStartTs = "container.start_ts", Number, NO;
    ContainerInfoField = "container.info", String, NO;
    K8sNsName = "k8s.ns.name", String, NO;
    K8sPodName = "k8s.pod.name", String, NO;
    K8sPodUid = "k8s.pod.uid", String, NO;
    K8sPodLabels = "k8s.pod.labels", StringList, NO;
    K8sPodLabel = "k8s.pod.label", String, KEY;
}

/// Parameter names `evt.arg.NAME` can ask for (libsinsp's event table names). Any other name
/// loads, as in Falco (the parameters depend on the event type), and is always missing.
const ARG_NAMES: &[&str] = &[
    "res",
    "fd",
    "name",
    "path",
    "flags",
    "mode",
    "dirfd",
    "tuple",
    "addr",
    "backlog",
    "request",
    "pid",
    "uid",
    "gid",
    "ruid",
    "euid",
    "suid",
    "rgid",
    "egid",
    "sgid",
    "cap_inheritable",
    "cap_permitted",
    "cap_effective",
    "uargs",
    "dev",
    "dir",
    "type",
    "nstype",
    "oldfd",
    "newfd",
    "olddirfd",
    "oldpath",
    "newdirfd",
    "newpath",
    "length",
    "cmd",
    "exe",
    "args",
    "tid",
    "ptid",
    "comm",
    "tty",
    "loginuid",
    "filename",
    "trusted_exepath",
    "status",
];

/// `evt.arg.NAME` ids: `ARG_BASE + index in ARG_NAMES`; unknown names get `ARG_UNKNOWN`.
const ARG_BASE: u32 = 10_000;
const ARG_UNKNOWN: u32 = 9_999;

impl Field {
    fn from_id(id: u32) -> Option<Field> {
        FIELDS
            .get(usize::try_from(id).ok()?)
            .map(|(_, field, _, _)| *field)
    }
}

/// The `syscall` source: its field table.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyscallFields;

/// The field rules are indexed by: nearly every syscall rule pins its event types.
const INDEX_FIELDS: &[&str] = &["evt.type"];

impl FieldSource for SyscallFields {
    fn source_name(&self) -> &str {
        SOURCE_NAME
    }

    fn field(&self, name: &str) -> Option<FieldInfo> {
        if let Some(arg) = name.strip_prefix("evt.arg.") {
            let valid =
                !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return None;
            }
            let id = ARG_NAMES
                .iter()
                .position(|n| *n == arg)
                .and_then(|i| u32::try_from(i).ok())
                .map_or(ARG_UNKNOWN, |i| ARG_BASE + i);
            return Some(FieldInfo {
                id,
                kind: FieldType::String,
                argument: None,
            });
        }
        FIELDS
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, field, kind, argument)| FieldInfo {
                id: *field as u32,
                kind: *kind,
                argument: *argument,
            })
    }

    fn index_fields(&self) -> &[&str] {
        INDEX_FIELDS
    }
}

/// Finds known processes by PID (initial PID namespace): the ancestors of the acting process.
pub trait ProcessLookup {
    fn process(&self, pid: u32) -> Option<&ProcessInfo>;
}

impl ProcessLookup for crate::process_table::ProcessTable {
    fn process(&self, pid: u32) -> Option<&ProcessInfo> {
        self.get(pid)
    }
}

impl ProcessLookup for HashMap<u32, ProcessInfo> {
    fn process(&self, pid: u32) -> Option<&ProcessInfo> {
        self.get(&pid)
    }
}

impl ProcessLookup for BTreeMap<u32, ProcessInfo> {
    fn process(&self, pid: u32) -> Option<&ProcessInfo> {
        self.get(&pid)
    }
}

/// A linear search, for small hand-built tables (tests).
impl ProcessLookup for Vec<ProcessInfo> {
    fn process(&self, pid: u32) -> Option<&ProcessInfo> {
        self.iter().find(|p| p.pid == pid)
    }
}

/// No process known besides the acting one: no ancestors.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProcesses;

impl ProcessLookup for NoProcesses {
    fn process(&self, _pid: u32) -> Option<&ProcessInfo> {
        None
    }
}

/// User and group names of the process's view (the host's or its container's `/etc/passwd`
/// and `/etc/group`).
pub trait IdNames {
    fn user_name(&self, uid: u32) -> Option<&str>;
    fn group_name(&self, gid: u32) -> Option<&str>;
}

/// No names known: `user.name` falls back to `root` for uid 0 only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl IdNames for NoNames {
    fn user_name(&self, _uid: u32) -> Option<&str> {
        None
    }
    fn group_name(&self, _gid: u32) -> Option<&str> {
        None
    }
}

/// Names from maps (what the sensor builds from passwd/group files).
#[derive(Debug, Clone, Default)]
pub struct NameMaps {
    pub users: HashMap<u32, String>,
    pub groups: HashMap<u32, String>,
}

impl IdNames for NameMaps {
    fn user_name(&self, uid: u32) -> Option<&str> {
        self.users.get(&uid).map(String::as_str)
    }
    fn group_name(&self, gid: u32) -> Option<&str> {
        self.groups.get(&gid).map(String::as_str)
    }
}

static NO_IP_NAMES: BTreeMap<IpAddr, String> = BTreeMap::new();

/// How far up the parent chain lookups go: a cycle in a stale table must not loop forever.
const MAX_ANCESTORS: usize = 64;

/// One event as the rule engine sees it.
pub struct SyscallRecord<'a> {
    pub event: &'a SyscallEvent,
    /// The acting process (after the exec for exec events).
    pub process: &'a ProcessInfo,
    pub processes: &'a dyn ProcessLookup,
    /// `None` for host processes.
    pub container: Option<&'a ContainerInfo>,
    pub names: &'a dyn IdNames,
    /// Names of well-known addresses (`fd.*ip.name`).
    pub ip_names: &'a BTreeMap<IpAddr, String>,
    /// The node's name (`evt.hostname`), empty when unknown.
    pub hostname: &'a str,
    /// Wall-clock time of the event, nanoseconds since the Unix epoch, when known.
    pub time_nanos: Option<i64>,
}

impl<'a> SyscallRecord<'a> {
    pub fn new(
        event: &'a SyscallEvent,
        process: &'a ProcessInfo,
        processes: &'a dyn ProcessLookup,
        container: Option<&'a ContainerInfo>,
        names: &'a dyn IdNames,
    ) -> Self {
        SyscallRecord {
            event,
            process,
            processes,
            container,
            names,
            ip_names: &NO_IP_NAMES,
            hostname: "",
            time_nanos: None,
        }
    }

    pub fn with_ip_names(mut self, ip_names: &'a BTreeMap<IpAddr, String>) -> Self {
        self.ip_names = ip_names;
        self
    }

    pub fn with_hostname(mut self, hostname: &'a str) -> Self {
        self.hostname = hostname;
        self
    }

    pub fn with_time(mut self, nanos: i64) -> Self {
        self.time_nanos = Some(nanos);
        self
    }

    /// The value of field `name` (for tests and tools; rules go through [`Event::value`]).
    pub fn get(&self, name: &str, argument: Option<&str>) -> FieldValue<'_> {
        match SyscallFields.field(name) {
            Some(info) => self.value(info.id, argument),
            None => FieldValue::Missing,
        }
    }

    /// The `n`-th ancestor: 0 is the process itself, 1 its parent.
    pub fn ancestor(&self, n: usize) -> Option<&'a ProcessInfo> {
        let mut current = self.process;
        for _ in 0..n.min(MAX_ANCESTORS) {
            current = self.parent_of(current)?;
        }
        (n <= MAX_ANCESTORS).then_some(current)
    }

    fn parent_of(&self, p: &ProcessInfo) -> Option<&'a ProcessInfo> {
        if p.ppid == 0 || p.ppid == p.pid {
            return None;
        }
        self.processes.process(p.ppid)
    }

    /// Every known ancestor, parent first.
    fn ancestors(&self) -> Vec<&'a ProcessInfo> {
        let mut out = Vec::new();
        let mut current = self.process;
        while out.len() < MAX_ANCESTORS {
            match self.parent_of(current) {
                Some(parent) => {
                    out.push(parent);
                    current = parent;
                }
                None => break,
            }
        }
        out
    }

    /// `proc.aname[N]`-style fields: with an index, that ancestor's value; without, every
    /// ancestor's.
    fn by_ancestor(
        &self,
        argument: Option<&str>,
        value: impl Fn(&'a ProcessInfo) -> Option<Cow<'a, str>>,
    ) -> FieldValue<'a> {
        match argument {
            Some(index) => match index.trim().parse::<usize>() {
                Ok(n) => self
                    .ancestor(n)
                    .and_then(value)
                    .map_or(FieldValue::Missing, FieldValue::Str),
                Err(_) => FieldValue::Missing,
            },
            None => {
                let all: Vec<Cow<'a, str>> =
                    self.ancestors().into_iter().filter_map(value).collect();
                FieldValue::List(all)
            }
        }
    }

    /// The syscall's result as Falco's `evt.rawres`: a successful exec reports no result but
    /// returned 0.
    fn rawres(&self) -> Option<i64> {
        match (&self.event.detail, self.event.result) {
            (_, Some(r)) => Some(r),
            (EventDetail::Exec { .. }, None) => Some(0),
            (EventDetail::Dup { newfd, .. }, None) => Some(i64::from(*newfd)),
            _ => None,
        }
    }

    /// The socket ends of a network event: (local, remote), either possibly unknown.
    fn endpoints(&self) -> Option<Endpoints<'a>> {
        let e = match &self.event.detail {
            EventDetail::Connect { remote, .. } => Endpoints {
                local: None,
                remote: Some(remote),
                server_is_local: false,
            },
            EventDetail::Accept { remote, local, .. } => Endpoints {
                local: Some(local),
                remote: Some(remote),
                server_is_local: true,
            },
            EventDetail::Bind { local, .. } => Endpoints {
                local: Some(local),
                remote: None,
                server_is_local: true,
            },
            EventDetail::Dup {
                remote: Some(remote),
                ..
            } => Endpoints {
                local: None,
                remote: Some(remote),
                server_is_local: false,
            },
            _ => return None,
        };
        Some(e)
    }

    fn ip_of(&self, which: End) -> Option<(IpAddr, u16)> {
        let ends = self.endpoints()?;
        let addr = match which {
            End::Local => ends.local,
            End::Remote => ends.remote,
            End::Server => {
                if ends.server_is_local {
                    ends.local
                } else {
                    ends.remote
                }
            }
            End::Client => {
                if ends.server_is_local {
                    ends.remote
                } else {
                    ends.local
                }
            }
        }?;
        match addr {
            SocketAddress::Ip { addr, port } => Some((*addr, *port)),
            _ => None,
        }
    }

    fn ip_field(&self, which: End) -> FieldValue<'a> {
        self.ip_of(which)
            .map_or(FieldValue::Missing, |(ip, _)| owned(ip.to_string()))
    }

    /// Every known address of the socket (local and remote), for `fd.ip` and `fd.net`.
    fn both_ends(&self) -> FieldValue<'a> {
        let ends: Vec<Cow<'a, str>> = [End::Local, End::Remote]
            .into_iter()
            .filter_map(|which| self.ip_of(which))
            .map(|(ip, _)| Cow::Owned(ip.to_string()))
            .collect();
        if ends.is_empty() {
            FieldValue::Missing
        } else {
            FieldValue::List(ends)
        }
    }

    fn port_field(&self, which: End) -> FieldValue<'a> {
        self.ip_of(which).map_or(FieldValue::Missing, |(_, port)| {
            FieldValue::Number(port.into())
        })
    }

    fn ip_name(&self, which: End) -> FieldValue<'a> {
        let ip_names = self.ip_names;
        self.ip_of(which)
            .and_then(|(ip, _)| ip_names.get(&ip))
            .map_or(FieldValue::Missing, |n| FieldValue::Str(Cow::Borrowed(n)))
    }

    /// The path a file event acted on.
    fn path(&self) -> Option<&'a str> {
        match &self.event.detail {
            EventDetail::Open { path, .. }
            | EventDetail::Unlink { path }
            | EventDetail::Truncate { path, .. }
            | EventDetail::Utimens { path } => Some(path),
            EventDetail::Rename { new_path, .. } => Some(new_path),
            _ => None,
        }
    }

    fn fd_name(&self) -> Option<Cow<'a, str>> {
        if let Some(path) = self.path() {
            return Some(Cow::Borrowed(path));
        }
        match &self.event.detail {
            EventDetail::MemfdCreate { name, .. } => Some(Cow::Owned(format!("memfd:{name}"))),
            EventDetail::Connect { remote, .. } => {
                Some(Cow::Owned(format!("->{}", render_addr(remote))))
            }
            EventDetail::Accept { remote, local, .. } => Some(Cow::Owned(format!(
                "{}->{}",
                render_addr(remote),
                render_addr(local)
            ))),
            EventDetail::Bind { local, .. } => Some(Cow::Owned(render_addr(local))),
            EventDetail::Dup {
                remote: Some(remote),
                ..
            } => Some(Cow::Owned(format!("->{}", render_addr(remote)))),
            _ => None,
        }
    }

    /// libsinsp's fd type name and type character.
    fn fd_kind(&self) -> Option<(&'static str, &'static str)> {
        let by_family = |family: &SocketFamily| match family {
            SocketFamily::Inet => Some(("ipv4", "4")),
            SocketFamily::Inet6 => Some(("ipv6", "6")),
            SocketFamily::Unix => Some(("unix", "u")),
            SocketFamily::Other(_) => None,
        };
        match &self.event.detail {
            EventDetail::Open { flags, .. } => Some(if flags & O_DIRECTORY != 0 {
                ("directory", "d")
            } else {
                ("file", "f")
            }),
            EventDetail::Connect { family, .. }
            | EventDetail::Accept { family, .. }
            | EventDetail::Bind { family, .. } => by_family(family),
            EventDetail::MemfdCreate { .. } => Some(("memfd", "m")),
            // The kernel program reports the peer of IP sockets only; a socket without one is
            // of a family the rules do not test.
            EventDetail::Dup { remote, .. } => match remote {
                Some(SocketAddress::Ip { addr, .. }) => Some(if addr.is_ipv4() {
                    ("ipv4", "4")
                } else {
                    ("ipv6", "6")
                }),
                Some(SocketAddress::Unix { .. }) => Some(("unix", "u")),
                _ => None,
            },
            _ => None,
        }
    }

    fn l4proto(&self) -> Option<L4Proto> {
        match &self.event.detail {
            EventDetail::Connect { l4proto, .. }
            | EventDetail::Accept { l4proto, .. }
            | EventDetail::Bind { l4proto, .. } => Some(*l4proto),
            _ => None,
        }
    }

    fn fd_num(&self) -> Option<i64> {
        match &self.event.detail {
            // Falco reports -1 as the fd of a failed open.
            EventDetail::Open { .. } | EventDetail::MemfdCreate { .. } => {
                self.event.result.map(|r| if r < 0 { -1 } else { r })
            }
            EventDetail::Connect { fd, .. }
            | EventDetail::Accept { fd, .. }
            | EventDetail::Bind { fd, .. }
            | EventDetail::Listen { fd, .. } => Some(i64::from(*fd)),
            EventDetail::Dup { oldfd, .. } => Some(i64::from(*oldfd)),
            _ => None,
        }
    }

    fn open_flags(&self) -> Option<u32> {
        match &self.event.detail {
            EventDetail::Open { flags, .. } => Some(*flags),
            _ => None,
        }
    }

    fn user_name(&self, uid: u32) -> Option<Cow<'a, str>> {
        match self.names.user_name(uid) {
            Some(n) => Some(Cow::Owned(n.to_string())),
            // Every Linux system names uid 0 root; other unknown uids stay unknown.
            None if uid == 0 => Some(Cow::Borrowed("root")),
            None => None,
        }
    }

    fn group_name(&self, gid: u32) -> Option<Cow<'a, str>> {
        match self.names.group_name(gid) {
            Some(n) => Some(Cow::Owned(n.to_string())),
            None if gid == 0 => Some(Cow::Borrowed("root")),
            None => None,
        }
    }

    /// `evt.arg.NAME` for this event (libsinsp's parameter names and renderings).
    fn arg(&self, name: &str) -> Option<Cow<'a, str>> {
        let e = self.event;
        let res = || self.rawres().map(|r| Cow::Owned(r.to_string()));
        let num = |n: i64| Some(Cow::Owned(n.to_string()));
        if name == "res" {
            return res();
        }
        match &e.detail {
            EventDetail::Exec {
                filename,
                exepath,
                argv,
                origin,
                tty,
                ..
            } => match name {
                "exe" => argv.first().map(|a| Cow::Borrowed(a.as_str())),
                "args" => Some(Cow::Owned(argv.get(1..).unwrap_or_default().join(" "))),
                "filename" => Some(Cow::Borrowed(filename.as_str())),
                "trusted_exepath" => Some(Cow::Borrowed(exepath.as_str())),
                "pid" => num(e.task.pid.into()),
                "tid" => num(e.task.tid.into()),
                "ptid" => num(e.task.ppid.into()),
                "comm" => Some(Cow::Borrowed(self.process.name.as_str())),
                "tty" => num((*tty).into()),
                "uid" => num(e.task.uid.into()),
                "loginuid" => num(loginuid(e.task.loginuid)),
                "flags" => {
                    let mut flags = Vec::new();
                    if origin.upper_layer {
                        flags.push("EXE_UPPER_LAYER");
                    }
                    if origin.memfd {
                        flags.push("EXE_FROM_MEMFD");
                    }
                    Some(Cow::Owned(flags.join("|")))
                }
                _ => None,
            },
            EventDetail::Fork { clone_flags, .. } => match name {
                "flags" => Some(Cow::Owned(clone_flag_names(*clone_flags))),
                _ => None,
            },
            EventDetail::Exit { exit_code } => match name {
                "status" => num((*exit_code).into()),
                _ => None,
            },
            EventDetail::Open {
                path, flags, mode, ..
            } => match name {
                "fd" => self.fd_num().map(|n| Cow::Owned(n.to_string())),
                "name" | "path" => Some(Cow::Borrowed(path.as_str())),
                "flags" => Some(Cow::Owned(open_flag_names(*flags))),
                "mode" => Some(Cow::Owned(format!("{mode:#o}"))),
                _ => None,
            },
            EventDetail::Connect { fd, .. } | EventDetail::Accept { fd, .. } => match name {
                "fd" => num((*fd).into()),
                "tuple" => self.fd_name(),
                _ => None,
            },
            EventDetail::Bind { fd, local, .. } => match name {
                "fd" => num((*fd).into()),
                "addr" => Some(Cow::Owned(render_addr(local))),
                _ => None,
            },
            EventDetail::Listen { fd, backlog } => match name {
                "fd" => num((*fd).into()),
                "backlog" => num((*backlog).into()),
                _ => None,
            },
            EventDetail::Ptrace {
                request,
                target_pid,
            } => match name {
                "request" => Some(Cow::Owned(ptrace_request_name(*request))),
                "pid" => num((*target_pid).into()),
                _ => None,
            },
            EventDetail::SetId { syscall, ids } => {
                let names: &[&str] = match syscall.name() {
                    "setuid" | "setfsuid" => &["uid"],
                    "setgid" | "setfsgid" => &["gid"],
                    "setreuid" => &["ruid", "euid"],
                    "setregid" => &["rgid", "egid"],
                    "setresuid" => &["ruid", "euid", "suid"],
                    _ => &["rgid", "egid", "sgid"],
                };
                let i = names.iter().position(|n| *n == name)?;
                let id = *ids.get(i)?;
                num(if id == u32::MAX { -1 } else { id.into() })
            }
            EventDetail::Capset {
                effective,
                permitted,
                inheritable,
            } => match name {
                "cap_effective" => Some(Cow::Owned(format!("{effective:#x}"))),
                "cap_permitted" => Some(Cow::Owned(format!("{permitted:#x}"))),
                "cap_inheritable" => Some(Cow::Owned(format!("{inheritable:#x}"))),
                _ => None,
            },
            EventDetail::ModuleLoad { params, .. } => match name {
                "uargs" => Some(Cow::Borrowed(params.as_str())),
                _ => None,
            },
            EventDetail::MemfdCreate { name: n, flags } => match name {
                "name" => Some(Cow::Borrowed(n.as_str())),
                "flags" => num((*flags).into()),
                "fd" => res(),
                _ => None,
            },
            EventDetail::Mount {
                source,
                target,
                fstype,
                flags,
            } => match name {
                "dev" => Some(Cow::Borrowed(source.as_str())),
                "dir" => Some(Cow::Borrowed(target.as_str())),
                "type" => Some(Cow::Borrowed(fstype.as_str())),
                "flags" => Some(Cow::Owned(flags.to_string())),
                _ => None,
            },
            EventDetail::Umount { target, flags } => match name {
                "name" => Some(Cow::Borrowed(target.as_str())),
                "flags" => num((*flags).into()),
                _ => None,
            },
            EventDetail::Unshare { flags } => match name {
                "flags" => Some(Cow::Owned(clone_flag_names(*flags))),
                _ => None,
            },
            EventDetail::Setns { fd, nstype } => match name {
                "fd" => num((*fd).into()),
                "nstype" => Some(Cow::Owned(clone_flag_names((*nstype).into()))),
                _ => None,
            },
            EventDetail::Dup { oldfd, newfd, .. } => match name {
                "oldfd" | "fd" => num((*oldfd).into()),
                "newfd" => num((*newfd).into()),
                _ => None,
            },
            EventDetail::Unlink { path } => match name {
                "name" | "path" => Some(Cow::Borrowed(path.as_str())),
                _ => None,
            },
            EventDetail::Rename { old_path, new_path } => match name {
                "oldpath" => Some(Cow::Borrowed(old_path.as_str())),
                "newpath" => Some(Cow::Borrowed(new_path.as_str())),
                _ => None,
            },
            EventDetail::Truncate { path, length } => match name {
                "path" | "name" => Some(Cow::Borrowed(path.as_str())),
                "length" => num(*length),
                _ => None,
            },
            EventDetail::Utimens { path } => match name {
                "path" | "name" => Some(Cow::Borrowed(path.as_str())),
                _ => None,
            },
            EventDetail::Bpf { cmd } => match name {
                "cmd" => num((*cmd).into()),
                _ => None,
            },
        }
    }

    /// `evt.args`: every known parameter as `name=value`, in table order.
    fn args_text(&self) -> String {
        ARG_NAMES
            .iter()
            .filter_map(|n| self.arg(n).map(|v| format!("{n}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn container_info(&self) -> String {
        match self.container {
            None => "container_id=host container_name=host".to_string(),
            Some(c) => {
                let mut text = format!(
                    "container_id={} container_name={} container_image={}",
                    short_id(&c.id),
                    c.name.as_deref().unwrap_or("<NA>"),
                    c.image.as_deref().unwrap_or("<NA>")
                );
                if let Some(pod) = &c.pod {
                    text.push_str(&format!(
                        " k8s_ns={} k8s_pod_name={}",
                        pod.namespace, pod.name
                    ));
                }
                text
            }
        }
    }
}

#[derive(Clone, Copy)]
enum End {
    Local,
    Remote,
    Server,
    Client,
}

struct Endpoints<'a> {
    local: Option<&'a SocketAddress>,
    remote: Option<&'a SocketAddress>,
    /// Accepted and bound sockets are the server end; connected ones the client end.
    server_is_local: bool,
}

fn owned<'a>(s: String) -> FieldValue<'a> {
    FieldValue::Str(Cow::Owned(s))
}

fn text_or_missing(s: &str) -> FieldValue<'_> {
    if s.is_empty() {
        FieldValue::Missing
    } else {
        FieldValue::Str(Cow::Borrowed(s))
    }
}

fn opt_str(s: Option<&str>) -> FieldValue<'_> {
    s.map_or(FieldValue::Missing, |s| FieldValue::Str(Cow::Borrowed(s)))
}

fn cow_or_missing(s: Option<Cow<'_, str>>) -> FieldValue<'_> {
    s.map_or(FieldValue::Missing, FieldValue::Str)
}

fn loginuid(id: u32) -> i64 {
    if id == u32::MAX { -1 } else { id.into() }
}

/// Falco's `proc.exe`: `argv[0]` as passed, else the executable's path.
fn exe_of(p: &ProcessInfo) -> Option<Cow<'_, str>> {
    match p.argv.first() {
        Some(a) if !a.is_empty() => Some(Cow::Borrowed(a.as_str())),
        _ => (!p.exepath.is_empty()).then_some(Cow::Borrowed(p.exepath.as_str())),
    }
}

/// Falco's 12-character container ID for the runtimes' 64-hex IDs; a plain runc container's
/// name (`drift-block-1`) is its ID and stays whole.
pub fn short_id(id: &str) -> &str {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        id.get(..12).unwrap_or(id)
    } else {
        id
    }
}

/// Splits an image reference into (repository, tag): `registry:5000/app:1.2@sha256:…` gives
/// (`registry:5000/app`, `1.2`).
pub fn split_image(image: &str) -> (&str, Option<&str>) {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest
        .get(last_slash..)
        .and_then(|name| name.rfind(':'))
    {
        Some(colon) => {
            let at = last_slash + colon;
            (
                without_digest.get(..at).unwrap_or(without_digest),
                without_digest.get(at + 1..),
            )
        }
        None => (without_digest, None),
    }
}

fn render_addr(addr: &SocketAddress) -> String {
    match addr {
        SocketAddress::Ip {
            addr: IpAddr::V6(v6),
            port,
        } => format!("[{v6}]:{port}"),
        SocketAddress::Ip { addr, port } => format!("{addr}:{port}"),
        SocketAddress::Unix { path } => path.clone(),
        SocketAddress::Other { family } => format!("<family {family}>"),
    }
}

fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => path.get(..i).unwrap_or(path),
        None => ".",
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

const O_ACCMODE: u32 = 0o3;
const O_WRONLY: u32 = 0o1;
const O_RDWR: u32 = 0o2;
const O_CREAT: u32 = 0o100;
const O_DIRECTORY: u32 = 0o200000;

/// Open flags as libsinsp renders them (`O_WRONLY|O_CREAT|O_TRUNC`), x86-64/arm64 values.
pub fn open_flag_names(flags: u32) -> String {
    let mut names = vec![match flags & O_ACCMODE {
        O_WRONLY => "O_WRONLY",
        O_RDWR => "O_RDWR",
        _ => "O_RDONLY",
    }];
    const NAMED: &[(u32, &str)] = &[
        (0o100, "O_CREAT"),
        (0o200, "O_EXCL"),
        (0o400, "O_NOCTTY"),
        (0o1000, "O_TRUNC"),
        (0o2000, "O_APPEND"),
        (0o4000, "O_NONBLOCK"),
        (0o10000, "O_DSYNC"),
        (0o20000, "O_ASYNC"),
        (0o40000, "O_DIRECT"),
        (0o100000, "O_LARGEFILE"),
        (0o200000, "O_DIRECTORY"),
        (0o400000, "O_NOFOLLOW"),
        (0o1000000, "O_NOATIME"),
        (0o2000000, "O_CLOEXEC"),
        (0o4000000, "O_SYNC"),
        (0o10000000, "O_PATH"),
        (0o20000000, "O_TMPFILE"),
    ];
    for (bit, name) in NAMED {
        if flags & bit != 0 {
            names.push(name);
        }
    }
    names.join("|")
}

/// Clone/unshare/setns flags by name (`CLONE_NEWNS|CLONE_NEWPID`); unnamed bits as hex.
pub fn clone_flag_names(flags: u64) -> String {
    const NAMED: &[(u64, &str)] = &[
        (0x80, "CLONE_NEWTIME"),
        (0x100, "CLONE_VM"),
        (0x200, "CLONE_FS"),
        (0x400, "CLONE_FILES"),
        (0x800, "CLONE_SIGHAND"),
        (0x4000, "CLONE_VFORK"),
        (0x8000, "CLONE_PARENT"),
        (0x10000, "CLONE_THREAD"),
        (0x20000, "CLONE_NEWNS"),
        (0x0200_0000, "CLONE_NEWCGROUP"),
        (0x0400_0000, "CLONE_NEWUTS"),
        (0x0800_0000, "CLONE_NEWIPC"),
        (0x1000_0000, "CLONE_NEWUSER"),
        (0x2000_0000, "CLONE_NEWPID"),
        (0x4000_0000, "CLONE_NEWNET"),
    ];
    let mut names: Vec<String> = Vec::new();
    let mut rest = flags;
    for (bit, name) in NAMED {
        if flags & bit != 0 {
            names.push((*name).to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(format!("{rest:#x}"));
    }
    if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    }
}

/// Falco renders the ptrace request by its `PTRACE_*` name.
pub fn ptrace_request_name(request: i64) -> String {
    let name = match request {
        0 => "PTRACE_TRACEME",
        1 => "PTRACE_PEEKTEXT",
        2 => "PTRACE_PEEKDATA",
        3 => "PTRACE_PEEKUSR",
        4 => "PTRACE_POKETEXT",
        5 => "PTRACE_POKEDATA",
        6 => "PTRACE_POKEUSR",
        7 => "PTRACE_CONT",
        8 => "PTRACE_KILL",
        9 => "PTRACE_SINGLESTEP",
        12 => "PTRACE_GETREGS",
        13 => "PTRACE_SETREGS",
        14 => "PTRACE_GETFPREGS",
        15 => "PTRACE_SETFPREGS",
        16 => "PTRACE_ATTACH",
        17 => "PTRACE_DETACH",
        24 => "PTRACE_SYSCALL",
        0x4200 => "PTRACE_SETOPTIONS",
        0x4201 => "PTRACE_GETEVENTMSG",
        0x4202 => "PTRACE_GETSIGINFO",
        0x4203 => "PTRACE_SETSIGINFO",
        0x4204 => "PTRACE_GETREGSET",
        0x4205 => "PTRACE_SETREGSET",
        0x4206 => "PTRACE_SEIZE",
        0x4207 => "PTRACE_INTERRUPT",
        0x4208 => "PTRACE_LISTEN",
        other => return other.to_string(),
    };
    name.to_string()
}

/// Falco's `evt.res`: `SUCCESS`, or the errno's name.
pub fn errno_name(result: i64) -> Cow<'static, str> {
    if result >= 0 {
        return Cow::Borrowed("SUCCESS");
    }
    let name = match result.unsigned_abs() {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        4 => "EINTR",
        5 => "EIO",
        6 => "ENXIO",
        7 => "E2BIG",
        8 => "ENOEXEC",
        9 => "EBADF",
        10 => "ECHILD",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        18 => "EXDEV",
        19 => "ENODEV",
        20 => "ENOTDIR",
        21 => "EISDIR",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        25 => "ENOTTY",
        26 => "ETXTBSY",
        27 => "EFBIG",
        28 => "ENOSPC",
        29 => "ESPIPE",
        30 => "EROFS",
        31 => "EMLINK",
        32 => "EPIPE",
        36 => "ENAMETOOLONG",
        38 => "ENOSYS",
        39 => "ENOTEMPTY",
        40 => "ELOOP",
        88 => "ENOTSOCK",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        99 => "EADDRNOTAVAIL",
        101 => "ENETUNREACH",
        104 => "ECONNRESET",
        105 => "ENOBUFS",
        106 => "EISCONN",
        107 => "ENOTCONN",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        113 => "EHOSTUNREACH",
        114 => "EALREADY",
        115 => "EINPROGRESS",
        122 => "EDQUOT",
        other => return Cow::Owned(format!("E{other}")),
    };
    Cow::Borrowed(name)
}

/// `evt.category` as libsinsp groups event types.
fn category(detail: &EventDetail) -> &'static str {
    match detail {
        EventDetail::Exec { .. } | EventDetail::Fork { .. } | EventDetail::Exit { .. } => "process",
        EventDetail::Open { .. }
        | EventDetail::Unlink { .. }
        | EventDetail::Rename { .. }
        | EventDetail::Truncate { .. }
        | EventDetail::Utimens { .. }
        | EventDetail::Mount { .. }
        | EventDetail::Umount { .. }
        | EventDetail::MemfdCreate { .. }
        | EventDetail::Dup { .. } => "file",
        EventDetail::Connect { .. }
        | EventDetail::Accept { .. }
        | EventDetail::Bind { .. }
        | EventDetail::Listen { .. } => "net",
        _ => "other",
    }
}

/// RFC 3339 UTC with nanoseconds from Unix-epoch nanoseconds (`evt.time`, alert times).
pub fn rfc3339_nanos(nanos: i64) -> String {
    use palisade_core::time::{Precision, Timestamp, format_rfc3339};
    format_rfc3339(Timestamp::from_unix_nanos(nanos), Precision::Nanos)
}

impl Event for SyscallRecord<'_> {
    fn value(&self, id: u32, argument: Option<&str>) -> FieldValue<'_> {
        if id >= ARG_BASE {
            let name = usize::try_from(id - ARG_BASE)
                .ok()
                .and_then(|i| ARG_NAMES.get(i));
            return name.map_or(FieldValue::Missing, |n| cow_or_missing(self.arg(n)));
        }
        let Some(field) = Field::from_id(id) else {
            return FieldValue::Missing;
        };
        let e = self.event;
        let p = self.process;
        let c = self.container;
        let pod = c.and_then(|c| c.pod.as_ref());
        // Looked up only by the fields that need it: most field reads are not about the parent.
        let parent = || self.parent_of(p);
        match field {
            Field::EvtNum => FieldValue::Missing,
            Field::EvtTime | Field::EvtTimeIso8601 => self
                .time_nanos
                .map_or(FieldValue::Missing, |t| owned(rfc3339_nanos(t))),
            Field::EvtRawtime => self
                .time_nanos
                .map_or(FieldValue::Missing, FieldValue::Number),
            Field::EvtType => FieldValue::Str(Cow::Borrowed(e.event_type())),
            Field::EvtDir => FieldValue::Str(Cow::Borrowed(match e.detail {
                EventDetail::Ptrace { .. } => ">",
                _ => "<",
            })),
            Field::EvtCpu => FieldValue::Number(e.cpu.into()),
            Field::EvtSource => FieldValue::Str(Cow::Borrowed(SOURCE_NAME)),
            Field::EvtHostname => text_or_missing(self.hostname),
            Field::EvtCategory => FieldValue::Str(Cow::Borrowed(category(&e.detail))),
            Field::EvtRes => self
                .rawres()
                .map_or(FieldValue::Missing, |r| FieldValue::Str(errno_name(r))),
            Field::EvtRawres => self
                .rawres()
                .map_or(FieldValue::Missing, FieldValue::Number),
            Field::EvtFailed => FieldValue::Bool(e.failed()),
            Field::EvtIsOpenRead => self.open_flags().map_or(FieldValue::Missing, |f| {
                FieldValue::Bool(f & O_ACCMODE != O_WRONLY)
            }),
            Field::EvtIsOpenWrite => self.open_flags().map_or(FieldValue::Missing, |f| {
                FieldValue::Bool(f & O_ACCMODE != 0)
            }),
            // Linux has no open flag for execution (FMODE_EXEC is set by the kernel's own
            // exec path, not by open calls the programs report).
            Field::EvtIsOpenExec => self
                .open_flags()
                .map_or(FieldValue::Missing, |_| FieldValue::Bool(false)),
            Field::EvtIsOpenCreate => self
                .open_flags()
                .map_or(FieldValue::Missing, |f| FieldValue::Bool(f & O_CREAT != 0)),
            Field::EvtArgs => owned(self.args_text()),
            Field::EvtArg => match argument.map(str::trim) {
                Some(key) => match key.parse::<usize>() {
                    // By position: the event's parameters in table order.
                    Ok(i) => cow_or_missing(ARG_NAMES.iter().filter_map(|n| self.arg(n)).nth(i)),
                    Err(_) => cow_or_missing(self.arg(key)),
                },
                None => FieldValue::Missing,
            },
            Field::ProcName => text_or_missing(&p.name),
            Field::ProcExe => cow_or_missing(exe_of(p)),
            Field::ProcExepath => text_or_missing(&p.exepath),
            Field::ProcCmdline => owned(p.cmdline()),
            Field::ProcArgs => owned(p.args()),
            Field::ProcPid => FieldValue::Number(p.pid.into()),
            Field::ProcPpid => FieldValue::Number(p.ppid.into()),
            Field::ProcPname => {
                opt_str(parent().map(|q| q.name.as_str()).filter(|n| !n.is_empty()))
            }
            Field::ProcPcmdline => parent().map_or(FieldValue::Missing, |q| owned(q.cmdline())),
            Field::ProcPexe => cow_or_missing(parent().and_then(exe_of)),
            Field::ProcPexepath => opt_str(
                parent()
                    .map(|q| q.exepath.as_str())
                    .filter(|s| !s.is_empty()),
            ),
            Field::ProcAname => self.by_ancestor(argument, |q| {
                (!q.name.is_empty()).then_some(Cow::Borrowed(q.name.as_str()))
            }),
            Field::ProcApid => match argument {
                Some(_) => {
                    match self.by_ancestor(argument, |q| Some(Cow::Owned(q.pid.to_string()))) {
                        FieldValue::Str(s) => s
                            .parse::<i64>()
                            .map_or(FieldValue::Missing, FieldValue::Number),
                        other => other,
                    }
                }
                None => self.by_ancestor(None, |q| Some(Cow::Owned(q.pid.to_string()))),
            },
            Field::ProcAexe => self.by_ancestor(argument, exe_of),
            Field::ProcAexepath => self.by_ancestor(argument, |q| {
                (!q.exepath.is_empty()).then_some(Cow::Borrowed(q.exepath.as_str()))
            }),
            Field::ProcAcmdline => self.by_ancestor(argument, |q| Some(Cow::Owned(q.cmdline()))),
            Field::ProcTty => FieldValue::Number(p.tty.into()),
            Field::ProcSid => FieldValue::Number(p.sid.into()),
            Field::ProcSname => {
                let leader = if p.sid == p.pid {
                    Some(p)
                } else {
                    self.processes.process(p.sid)
                };
                opt_str(leader.map(|l| l.name.as_str()).filter(|n| !n.is_empty()))
            }
            Field::ProcIsSidLeader => FieldValue::Bool(p.sid == p.pid),
            Field::ProcDuration => FieldValue::Number(
                i64::try_from(e.boot_ns.saturating_sub(p.exec_boot_ns)).unwrap_or(i64::MAX),
            ),
            Field::ProcIsExeUpperLayer => FieldValue::Bool(p.origin.upper_layer),
            Field::ProcIsExeFromMemfd => FieldValue::Bool(p.origin.memfd),
            Field::ProcIsExeFromTmpfs => FieldValue::Bool(p.origin.tmpfs),
            Field::ProcExeBlocked => match &e.detail {
                EventDetail::Exec { blocked, .. } => FieldValue::Bool(*blocked),
                _ => FieldValue::Bool(false),
            },
            Field::ThreadTid => FieldValue::Number(e.task.tid.into()),
            Field::ProcVpgid
            | Field::ProcVpgidName
            | Field::ProcIsVpgidLeader
            | Field::ProcCwd
            | Field::ProcEnv
            | Field::ProcVpid
            | Field::ProcPvpid
            | Field::ProcIsExeWritable
            | Field::ProcExeIno
            | Field::ProcExeInoCtime
            | Field::ProcExeInoMtime
            | Field::ProcExeInoCtimeDurationProcStart
            | Field::ThreadCapEffective
            | Field::ThreadCapPermitted
            | Field::ThreadCapInheritable
            | Field::FdConnected
            | Field::FdNameChanged
            | Field::ContainerStartTs => FieldValue::Missing,
            Field::FdNum => self
                .fd_num()
                .map_or(FieldValue::Missing, FieldValue::Number),
            Field::FdType => opt_str(self.fd_kind().map(|(t, _)| t)),
            Field::FdTypechar => opt_str(self.fd_kind().map(|(_, c)| c)),
            Field::FdName | Field::FdNameraw => cow_or_missing(self.fd_name()),
            Field::FdDirectory => match self.path() {
                Some(path) => FieldValue::Str(Cow::Borrowed(dirname(path))),
                None => FieldValue::Missing,
            },
            Field::FdFilename => match self.path() {
                Some(path) => FieldValue::Str(Cow::Borrowed(basename(path))),
                None => FieldValue::Missing,
            },
            Field::FdSip | Field::FdDip | Field::FdSnet => self.ip_field(End::Server),
            // libsinsp's `compare_ip`/`compare_net` test both ends of a connected socket.
            Field::FdIp | Field::FdNet => self.both_ends(),
            Field::FdCip | Field::FdCnet => self.ip_field(End::Client),
            Field::FdLip | Field::FdLnet => self.ip_field(End::Local),
            Field::FdRip | Field::FdRnet => self.ip_field(End::Remote),
            Field::FdPort | Field::FdSport | Field::FdDport => self.port_field(End::Server),
            Field::FdCport => self.port_field(End::Client),
            Field::FdLport => self.port_field(End::Local),
            Field::FdRport => self.port_field(End::Remote),
            Field::FdCipName => self.ip_name(End::Client),
            Field::FdSipName => self.ip_name(End::Server),
            Field::FdLipName => self.ip_name(End::Local),
            Field::FdRipName => self.ip_name(End::Remote),
            Field::FdL4proto => match self.l4proto() {
                Some(L4Proto::Unknown) | None => FieldValue::Missing,
                Some(proto) => FieldValue::Str(Cow::Borrowed(proto.as_str())),
            },
            Field::FdSockfamily => opt_str(self.fd_kind().and_then(|(t, _)| match t {
                "ipv4" | "ipv6" => Some("ip"),
                "unix" => Some("unix"),
                _ => None,
            })),
            Field::FdIsServer => match &e.detail {
                EventDetail::Accept { .. }
                | EventDetail::Bind { .. }
                | EventDetail::Listen { .. } => FieldValue::Bool(true),
                EventDetail::Connect { .. } => FieldValue::Bool(false),
                _ => FieldValue::Missing,
            },
            Field::UserUid => FieldValue::Number(e.task.uid.into()),
            Field::UserName => cow_or_missing(self.user_name(e.task.uid)),
            Field::UserLoginuid => FieldValue::Number(loginuid(e.task.loginuid)),
            Field::UserLoginname => {
                if e.task.loginuid == u32::MAX {
                    FieldValue::Missing
                } else {
                    cow_or_missing(self.user_name(e.task.loginuid))
                }
            }
            Field::GroupGid => FieldValue::Number(e.task.gid.into()),
            Field::GroupName => cow_or_missing(self.group_name(e.task.gid)),
            Field::ContainerId => match c {
                Some(c) => FieldValue::Str(Cow::Borrowed(short_id(&c.id))),
                None => FieldValue::Str(Cow::Borrowed("host")),
            },
            Field::ContainerFullId => match c {
                Some(c) => FieldValue::Str(Cow::Borrowed(&c.id)),
                None => FieldValue::Str(Cow::Borrowed("host")),
            },
            Field::ContainerName => match c {
                Some(c) => opt_str(c.name.as_deref()),
                None => FieldValue::Str(Cow::Borrowed("host")),
            },
            Field::ContainerImage => opt_str(c.and_then(|c| c.image.as_deref())),
            Field::ContainerImageRepository => {
                opt_str(c.and_then(|c| c.image.as_deref()).map(|i| split_image(i).0))
            }
            Field::ContainerImageTag => opt_str(
                c.and_then(|c| c.image.as_deref())
                    .and_then(|i| split_image(i).1),
            ),
            Field::ContainerImageDigest => opt_str(c.and_then(|c| c.image_digest.as_deref())),
            Field::ContainerType | Field::ContainerRuntime => match c {
                Some(c) => FieldValue::Str(Cow::Borrowed(c.runtime.as_str())),
                None => FieldValue::Str(Cow::Borrowed("host")),
            },
            Field::ContainerPrivileged => c
                .and_then(|c| c.privileged)
                .map_or(FieldValue::Missing, FieldValue::Bool),
            Field::ContainerInfoField => owned(self.container_info()),
            Field::K8sNsName => opt_str(pod.map(|p| p.namespace.as_str())),
            Field::K8sPodName => opt_str(pod.map(|p| p.name.as_str())),
            Field::K8sPodUid => match pod {
                Some(p) => FieldValue::Str(Cow::Borrowed(&p.uid)),
                None => opt_str(c.and_then(|c| c.pod_uid.as_deref())),
            },
            Field::K8sPodLabels => match pod {
                Some(p) => FieldValue::List(
                    p.labels
                        .iter()
                        .map(|(k, v)| Cow::Owned(format!("{k}:{v}")))
                        .collect(),
                ),
                None => FieldValue::Missing,
            },
            Field::K8sPodLabel => opt_str(
                pod.zip(argument)
                    .and_then(|(p, key)| p.labels.get(key.trim()))
                    .map(String::as_str),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ExeOrigin, OpenSyscall, TaskIds};
    use crate::model::{PodInfo, Runtime};

    fn proc_info(pid: u32, ppid: u32, name: &str, argv: &[&str]) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid,
            name: name.into(),
            exepath: format!("/usr/bin/{name}"),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            sid: 1,
            loginuid: u32::MAX,
            ..ProcessInfo::default()
        }
    }

    fn event(detail: EventDetail, result: Option<i64>) -> SyscallEvent {
        SyscallEvent {
            boot_ns: 10_000_000_000,
            cpu: 1,
            task: TaskIds {
                pid: 30,
                tid: 30,
                ppid: 20,
                uid: 0,
                gid: 0,
                loginuid: u32::MAX,
                cgroup_id: 0,
                comm: "cat".into(),
            },
            result,
            detail,
        }
    }

    fn container() -> ContainerInfo {
        ContainerInfo {
            id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            runtime: Runtime::Containerd,
            cgroup_path: String::new(),
            pod_uid: Some("uid-1".into()),
            name: Some("web".into()),
            image: Some("registry.local:5000/shop/web:1.4@sha256:abc".into()),
            image_digest: None,
            privileged: Some(false),
            pod: Some(PodInfo {
                uid: "uid-1".into(),
                namespace: "shop".into(),
                name: "web-1".into(),
                labels: [("app".to_string(), "web".to_string())].into(),
            }),
        }
    }

    fn table() -> Vec<ProcessInfo> {
        vec![
            proc_info(1, 0, "systemd", &["/sbin/init"]),
            proc_info(10, 1, "sshd", &["sshd"]),
            proc_info(20, 10, "bash", &["-bash"]),
        ]
    }

    fn text<'a>(v: FieldValue<'a>) -> String {
        match v {
            FieldValue::Str(s) => s.into_owned(),
            FieldValue::Number(n) => n.to_string(),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::List(l) => format!("{l:?}"),
            FieldValue::Missing => "<NA>".into(),
        }
    }

    #[test]
    fn open_fields_follow_libsinsp() {
        let ev = event(
            EventDetail::Open {
                syscall: OpenSyscall::Openat,
                path: "/etc/shadow".into(),
                flags: 0o2000000,
                mode: 0,
            },
            Some(3),
        );
        let me = proc_info(30, 20, "cat", &["cat", "/etc/shadow"]);
        let procs = table();
        let r = SyscallRecord::new(&ev, &me, &procs, None, &NoNames);
        assert_eq!(text(r.get("evt.type", None)), "openat");
        assert_eq!(text(r.get("evt.dir", None)), "<");
        assert_eq!(text(r.get("evt.res", None)), "SUCCESS");
        assert_eq!(text(r.get("evt.is_open_read", None)), "true");
        assert_eq!(text(r.get("evt.is_open_write", None)), "false");
        assert_eq!(text(r.get("fd.typechar", None)), "f");
        assert_eq!(text(r.get("fd.num", None)), "3");
        assert_eq!(text(r.get("fd.directory", None)), "/etc");
        assert_eq!(text(r.get("fd.filename", None)), "shadow");
        assert_eq!(text(r.get("evt.arg.flags", None)), "O_RDONLY|O_CLOEXEC");
        assert_eq!(text(r.get("proc.cmdline", None)), "cat /etc/shadow");
        assert_eq!(text(r.get("proc.pname", None)), "bash");
        assert_eq!(text(r.get("proc.aname", Some("2"))), "sshd");
        assert_eq!(text(r.get("proc.aname", Some("3"))), "systemd");
        assert_eq!(text(r.get("proc.aname", Some("4"))), "<NA>");
        assert_eq!(text(r.get("proc.apid", Some("1"))), "20");
        assert_eq!(text(r.get("proc.sname", None)), "systemd");
        assert_eq!(text(r.get("container.id", None)), "host");
        assert_eq!(text(r.get("user.name", None)), "root");
        assert_eq!(text(r.get("user.loginuid", None)), "-1");
        assert_eq!(text(r.get("k8s.ns.name", None)), "<NA>");
        assert_eq!(text(r.get("evt.arg.nosuchparam", None)), "<NA>");
        assert!(SyscallFields.field("evt.arg.nosuchparam").is_some());
        assert!(SyscallFields.field("proc.nosuchfield").is_none());
        assert!(SyscallFields.field("evt.arg.").is_none());
    }

    #[test]
    fn failed_open_reports_errno_and_minus_one() {
        let ev = event(
            EventDetail::Open {
                syscall: OpenSyscall::Open,
                path: "/root/x".into(),
                flags: 0o1 | 0o100 | 0o1000,
                mode: 0o644,
            },
            Some(-13),
        );
        let me = proc_info(30, 20, "cp", &["cp"]);
        let r = SyscallRecord::new(&ev, &me, &NoProcesses, None, &NoNames);
        assert_eq!(text(r.get("evt.res", None)), "EACCES");
        assert_eq!(text(r.get("evt.failed", None)), "true");
        assert_eq!(text(r.get("fd.num", None)), "-1");
        assert_eq!(
            text(r.get("evt.arg.flags", None)),
            "O_WRONLY|O_CREAT|O_TRUNC"
        );
        assert_eq!(text(r.get("proc.pname", None)), "<NA>");
    }

    #[test]
    fn connect_fields_and_container() {
        let ev = event(
            EventDetail::Connect {
                fd: 5,
                family: SocketFamily::Inet,
                l4proto: L4Proto::Tcp,
                remote: SocketAddress::Ip {
                    addr: "10.96.0.1".parse().unwrap(),
                    port: 443,
                },
            },
            Some(0),
        );
        let me = ProcessInfo {
            origin: ExeOrigin {
                upper_layer: true,
                ..ExeOrigin::default()
            },
            ..proc_info(30, 20, "curl", &["curl", "https://kubernetes"])
        };
        let c = container();
        let names: BTreeMap<IpAddr, String> = [(
            "10.96.0.1".parse().unwrap(),
            "kubernetes.default.svc.cluster.local".to_string(),
        )]
        .into();
        let r = SyscallRecord::new(&ev, &me, &NoProcesses, Some(&c), &NoNames)
            .with_ip_names(&names)
            .with_time(1_700_000_000_123_456_789);
        assert_eq!(text(r.get("fd.sip", None)), "10.96.0.1");
        assert_eq!(text(r.get("fd.sport", None)), "443");
        assert_eq!(text(r.get("fd.rport", None)), "443");
        assert_eq!(text(r.get("fd.lport", None)), "<NA>");
        assert_eq!(text(r.get("fd.typechar", None)), "4");
        assert_eq!(text(r.get("fd.l4proto", None)), "tcp");
        assert_eq!(text(r.get("fd.name", None)), "->10.96.0.1:443");
        assert_eq!(
            text(r.get("fd.sip.name", None)),
            "kubernetes.default.svc.cluster.local"
        );
        assert_eq!(text(r.get("container.id", None)), "0123456789ab");
        assert_eq!(
            text(r.get("container.image.repository", None)),
            "registry.local:5000/shop/web"
        );
        assert_eq!(text(r.get("container.image.tag", None)), "1.4");
        assert_eq!(text(r.get("k8s.pod.label", Some("app"))), "web");
        assert_eq!(text(r.get("k8s.ns.name", None)), "shop");
        assert_eq!(text(r.get("proc.is_exe_upper_layer", None)), "true");
        assert_eq!(text(r.get("container.privileged", None)), "false");
        assert_eq!(
            text(r.get("evt.time", None)),
            "2023-11-14T22:13:20.123456789Z"
        );
    }

    #[test]
    fn ptrace_is_an_enter_event_with_a_named_request() {
        let ev = event(
            EventDetail::Ptrace {
                request: 16,
                target_pid: 1,
            },
            Some(0),
        );
        let me = proc_info(30, 20, "gdb", &["gdb"]);
        let r = SyscallRecord::new(&ev, &me, &NoProcesses, None, &NoNames);
        assert_eq!(text(r.get("evt.dir", None)), ">");
        assert_eq!(text(r.get("evt.arg.request", None)), "PTRACE_ATTACH");
        assert_eq!(text(r.get("evt.arg", Some("request"))), "PTRACE_ATTACH");
    }

    #[test]
    fn image_references_split_like_the_container_plugin() {
        assert_eq!(split_image("nginx"), ("nginx", None));
        assert_eq!(split_image("nginx:1.27"), ("nginx", Some("1.27")));
        assert_eq!(
            split_image("localhost:5000/app@sha256:ff"),
            ("localhost:5000/app", None)
        );
        assert_eq!(clone_flag_names(0x2002_0000), "CLONE_NEWNS|CLONE_NEWPID");
        assert_eq!(errno_name(-115), "EINPROGRESS");
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn ancestor_cycles_end() {
        let cyclic = vec![proc_info(5, 6, "a", &["a"]), proc_info(6, 5, "b", &["b"])];
        let ev = event(EventDetail::Exit { exit_code: 0 }, None);
        let me = proc_info(5, 6, "a", &["a"]);
        let r = SyscallRecord::new(&ev, &me, &cyclic, None, &NoNames);
        match r.get("proc.aname", None) {
            FieldValue::List(l) => assert_eq!(l.len(), MAX_ANCESTORS),
            other => panic!("{other:?}"),
        }
        assert_eq!(text(r.get("proc.aname", Some("1000"))), "<NA>");
    }
}
