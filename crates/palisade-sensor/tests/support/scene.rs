//! Event-building helpers shared by the rule tests (node_rules, falco_syscall_compat): a fixed
//! clock, a process as the process table would hold it, and the exec and open events the kernel
//! programs would report for it.

use palisade_sensor::event::{EventDetail, OpenSyscall};
use palisade_sensor::model::ProcessInfo;

/// The rule tests' "now" (2026-11-27T08:00:00Z, in nanoseconds).
pub const NOW: i64 = 1_795_766_400_000_000_000;

/// A process named `name`, run from /usr/bin, in its own session.
pub fn process(pid: u32, ppid: u32, name: &str, argv: &[&str]) -> ProcessInfo {
    ProcessInfo {
        pid,
        ppid,
        name: name.into(),
        exepath: format!("/usr/bin/{name}"),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        loginuid: u32::MAX,
        sid: pid,
        ..ProcessInfo::default()
    }
}

/// The exec of `me` as the exec program reports it.
pub fn exec(me: &ProcessInfo) -> EventDetail {
    EventDetail::Exec {
        filename: me.exepath.clone(),
        exepath: me.exepath.clone(),
        argv: me.argv.clone(),
        argv_truncated: false,
        origin: me.origin,
        tty: me.tty,
        sid: me.sid,
        blocked: false,
        mnt_ns: 0,
        cgroup_path: String::new(),
    }
}

/// An openat of `path` with `flags` (mode 0644).
pub fn open(path: &str, flags: u32) -> EventDetail {
    EventDetail::Open {
        syscall: OpenSyscall::Openat,
        path: path.into(),
        flags,
        mode: 0o644,
    }
}
