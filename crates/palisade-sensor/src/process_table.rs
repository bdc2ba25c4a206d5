//! The processes the sensor knows, keyed by pid: rebuilt from `/proc` at start, then kept by the
//! exec, fork and exit events, so that rules can read a process's name, command line, parents and
//! container without touching `/proc` on every event.
//!
//! The table must stay right when events are missed (the ring buffer drops under load, processes
//! started before the sensor): an unknown pid is read from `/proc` when an event names it, and
//! [`ProcessTable::reconcile`] drops processes whose exit was missed. Its size is capped; evicting
//! an entry only loses a cache line that `/proc` can give back, so the cap bounds memory without
//! making attribution wrong.
//!
//! Exec events carry the process's cgroup path as the kernel saw it, so a process's container is
//! known even when it exited before its event is handled (`kubectl exec pod -- cat /etc/shadow`);
//! `/proc/<pid>/cgroup` is only read when the event has no path. The table also keeps the
//! [`ContainerRef`] first seen for each container ID ([`ProcessTable::container`]), so that the
//! sensor can describe a container whose processes are all gone from `/proc` already.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::cgroup::{ContainerRef, TRUNCATED_MARKER};
use crate::event::{EventDetail, SyscallEvent, TaskIds};
use crate::model::ProcessInfo;
use crate::procfs::ProcFs;

/// `CLONE_PARENT`: the child's parent is the caller's parent, not the caller.
const CLONE_PARENT: u64 = 0x0000_8000;

/// Default cap on processes kept: far above the few thousand processes of a busy node, far below
/// what would hurt (an entry is a few hundred bytes).
pub const DEFAULT_MAX_PROCESSES: usize = 65_536;

/// How many parents [`ProcessTable::ancestors`] follows at most (Falco's `aname[N]` and
/// `proc.apid` never need more; a missed exit can leave chains that point in a circle).
pub const MAX_ANCESTORS: usize = 64;

/// Least time between two reconciliations forced by a full table: listing `/proc` costs a few
/// milliseconds on a busy node, too much to do on every insert of an event storm.
const FULL_RECONCILE_INTERVAL: Duration = Duration::from_secs(5);

/// How many missing parents are read from `/proc` when an unknown process is filled lazily.
const LAZY_PARENT_DEPTH: usize = 8;

/// Counters for metrics and the health report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Entries dropped because the table was full (they are read again from `/proc` if needed).
    pub evictions: u64,
    /// Unknown pids read from `/proc` because an event named them.
    pub lazy_fills: u64,
    /// Unknown pids that were already gone from `/proc` (kept from the event's own task fields).
    pub lazy_misses: u64,
    /// Entries [`ProcessTable::reconcile`] removed because their exit event was missed.
    pub reconciled: u64,
}

/// The process table.
#[derive(Debug)]
pub struct ProcessTable {
    procfs: ProcFs,
    processes: HashMap<u32, ProcessInfo>,
    /// The process whose exit was applied last: readable through [`ProcessTable::get`] until the
    /// next event, so the exit event itself can still be described.
    exited: Option<ProcessInfo>,
    max_processes: usize,
    /// Container ID -> the reference first seen for it (from `/proc` or an exec's cgroup path),
    /// capped at `max_processes` entries too: there are never more live containers than processes.
    containers: HashMap<String, ContainerRef>,
    stats: TableStats,
    last_reconcile: Option<Instant>,
}

impl ProcessTable {
    pub fn new(procfs: ProcFs, max_processes: usize) -> Self {
        ProcessTable {
            procfs,
            processes: HashMap::new(),
            exited: None,
            max_processes: max_processes.max(1),
            containers: HashMap::new(),
            stats: TableStats::default(),
            last_reconcile: None,
        }
    }

    /// Replaces the table with what `/proc` shows now. Returns how many processes were read.
    pub fn rebuild_from_proc(&mut self, boot_ns: u64) -> std::io::Result<usize> {
        let scan = self.procfs.scan(boot_ns)?;
        self.processes.clear();
        self.containers.clear();
        self.exited = None;
        for record in scan.processes {
            if let Some(container) = record.container {
                self.remember(container);
            }
            self.insert(record.info);
        }
        Ok(self.processes.len())
    }

    /// A process by pid, including the one whose exit was just applied.
    pub fn get(&self, pid: u32) -> Option<&ProcessInfo> {
        self.processes
            .get(&pid)
            .or_else(|| self.exited.as_ref().filter(|p| p.pid == pid))
    }

    /// What the cgroup path said about a container when the table first saw one of its processes
    /// (runtime, pod UID, path); kept until [`ProcessTable::reconcile`] finds none of its
    /// processes alive.
    pub fn container(&self, id: &str) -> Option<&ContainerRef> {
        self.containers.get(id)
    }

    /// Every process in the table (in no particular order).
    pub fn processes(&self) -> impl Iterator<Item = &ProcessInfo> {
        self.processes.values()
    }

    pub fn len(&self) -> usize {
        self.processes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }

    pub fn stats(&self) -> TableStats {
        self.stats
    }

    pub fn procfs(&self) -> &ProcFs {
        &self.procfs
    }

    /// The parent chain of `pid`, nearest first, at most [`MAX_ANCESTORS`] long, stopping at the
    /// first unknown parent or at a pid seen before (a loop left by missed exits and pid reuse).
    pub fn ancestors(&self, pid: u32) -> Vec<&ProcessInfo> {
        let mut chain = Vec::new();
        let mut seen = HashSet::from([pid]);
        let mut current = self.get(pid);
        while let Some(process) = current {
            if chain.len() >= MAX_ANCESTORS || process.ppid == 0 || !seen.insert(process.ppid) {
                break;
            }
            current = self.get(process.ppid);
            if let Some(parent) = current {
                chain.push(parent);
            }
        }
        chain
    }

    /// Updates the table with one event. Every event makes sure its process is known (read from
    /// `/proc` when it is not); exec, fork and exit change the table. After an exit the process
    /// stays readable through [`ProcessTable::get`] until the next call.
    pub fn apply(&mut self, event: &SyscallEvent) {
        self.exited = None;
        let task = &event.task;
        match &event.detail {
            EventDetail::Exit { .. } => {
                let process = self
                    .processes
                    .remove(&task.pid)
                    .unwrap_or_else(|| from_task(task, event.boot_ns));
                self.exited = Some(process);
            }
            EventDetail::Fork {
                child_pid,
                clone_flags,
            } => {
                self.ensure(task, event.boot_ns);
                let Some(parent) = self.processes.get(&task.pid) else {
                    return;
                };
                if let Some(existing) = self.processes.get(child_pid)
                    && existing.exec_boot_ns > event.boot_ns
                {
                    // The child's exec was applied before its fork (events from two CPUs in the
                    // wrong order): it already has its own image.
                    return;
                }
                let mut child = parent.clone();
                child.pid = *child_pid;
                child.ppid = if clone_flags & CLONE_PARENT != 0 {
                    parent.ppid
                } else {
                    task.pid
                };
                child.exec_boot_ns = event.boot_ns;
                self.insert(child);
            }
            EventDetail::Exec {
                filename,
                exepath,
                argv,
                origin,
                tty,
                sid,
                cgroup_path,
                ..
            } => {
                let known = self.processes.contains_key(&task.pid);
                if !known {
                    // Read now, after the exec: /proc already shows the new image.
                    self.ensure(task, event.boot_ns);
                }
                let Some(process) = self.processes.get_mut(&task.pid) else {
                    return;
                };
                process.name.clone_from(&task.comm);
                process.exepath = if exepath.is_empty() {
                    filename.clone()
                } else {
                    exepath.clone()
                };
                process.argv.clone_from(argv);
                process.origin = *origin;
                process.tty = *tty;
                process.sid = *sid;
                process.uid = task.uid;
                process.gid = task.gid;
                process.loginuid = task.loginuid;
                process.exec_boot_ns = event.boot_ns;
                if task.ppid != 0 {
                    process.ppid = task.ppid;
                }
                // A container's first process is forked on the host by the runtime, moved into
                // the container's cgroup, then exec'd: its fork copied a host parent, so a host
                // process re-reads its cgroup at exec. A cgroup v2 ID change says the same.
                let cgroup_changed = task.cgroup_id != 0 && task.cgroup_id != process.cgroup_id;
                process.cgroup_id = task.cgroup_id;
                // The kernel's path is the cgroup at the exec itself, right even when the process
                // is already gone from /proc; a cut path no rule recognises may still be a
                // container /proc shows whole (a runc parent deeper than the tail).
                let from_event = if cgroup_path.is_empty() {
                    None
                } else {
                    let found = self.procfs.rules().parse_path(cgroup_path);
                    (found.is_some() || !cgroup_path.starts_with(TRUNCATED_MARKER)).then_some(found)
                };
                if let Some(found) = from_event {
                    if let Some(process) = self.processes.get_mut(&task.pid) {
                        process.container_id = found.as_ref().map(|c| c.id.clone());
                    }
                    if let Some(found) = found {
                        self.remember(found);
                    }
                    return;
                }
                let Some(process) = self.processes.get(&task.pid) else {
                    return;
                };
                // Here a non-empty path is a cut one no rule recognised: only /proc has it whole.
                let unrecognised = !cgroup_path.is_empty();
                if known && (unrecognised || process.container_id.is_none() || cgroup_changed) {
                    let container = self.procfs.read_container(task.pid);
                    if let Some(process) = self.processes.get_mut(&task.pid) {
                        process.container_id = container.as_ref().map(|c| c.id.clone());
                    }
                    if let Some(container) = container {
                        self.remember(container);
                    }
                }
            }
            _ => self.ensure(task, event.boot_ns),
        }
    }

    /// Drops processes that no longer exist in `/proc` (their exit event was missed). Meant to
    /// run periodically (every minute or so) from the event thread: it lists `/proc`, nothing more.
    pub fn reconcile(&mut self) -> std::io::Result<usize> {
        self.last_reconcile = Some(Instant::now());
        let alive: HashSet<u32> = self.procfs.pids()?.into_iter().collect();
        let before = self.processes.len();
        self.processes.retain(|pid, _| alive.contains(pid));
        let removed = before - self.processes.len();
        self.stats.reconciled += removed as u64;
        self.forget_empty_containers();
        Ok(removed)
    }

    /// [`ProcessTable::reconcile`] when the last one is older than `interval` (the event loop
    /// calls this on each wake-up); `None` when it was not due or `/proc` could not be listed.
    pub fn reconcile_if_due(&mut self, interval: Duration) -> Option<usize> {
        if self
            .last_reconcile
            .is_some_and(|last| last.elapsed() < interval)
        {
            return None;
        }
        self.reconcile().ok()
    }

    /// Makes sure the event's process (and a few of its missing parents) is in the table.
    fn ensure(&mut self, task: &TaskIds, boot_ns: u64) {
        if self.processes.contains_key(&task.pid) {
            return;
        }
        let mut pid = task.pid;
        for depth in 0..LAZY_PARENT_DEPTH {
            if pid == 0 || self.processes.contains_key(&pid) {
                break;
            }
            match self.procfs.read(pid, boot_ns) {
                Ok(record) => {
                    self.stats.lazy_fills += 1;
                    let ppid = record.info.ppid;
                    let mut info = record.info;
                    if depth == 0 && task.cgroup_id != 0 {
                        info.cgroup_id = task.cgroup_id;
                    }
                    if let Some(container) = record.container {
                        self.remember(container);
                    }
                    self.insert(info);
                    pid = ppid;
                }
                Err(_) if depth == 0 => {
                    // Already gone (or unreadable): the event's own task fields are all there is.
                    self.stats.lazy_misses += 1;
                    self.insert(from_task(task, boot_ns));
                    break;
                }
                Err(_) => break,
            }
        }
    }

    /// Keeps the first reference seen for a container: later ones only repeat it (the cgroup
    /// path of a container does not change), or are tails of it.
    fn remember(&mut self, container: ContainerRef) {
        if self.containers.contains_key(&container.id) {
            return;
        }
        if self.containers.len() >= self.max_processes {
            self.forget_empty_containers();
        }
        if self.containers.len() >= self.max_processes {
            // Every entry has a process: drop any, /proc gives it back while one is alive.
            if let Some(victim) = self.containers.keys().next().cloned() {
                self.containers.remove(&victim);
            }
        }
        self.containers.insert(container.id.clone(), container);
    }

    /// Drops the containers no process in the table (nor the one whose exit was just applied)
    /// belongs to any more.
    fn forget_empty_containers(&mut self) {
        let live: HashSet<&str> = self
            .processes
            .values()
            .chain(self.exited.as_ref())
            .filter_map(|p| p.container_id.as_deref())
            .collect();
        self.containers.retain(|id, _| live.contains(id.as_str()));
    }

    fn insert(&mut self, info: ProcessInfo) {
        if !self.processes.contains_key(&info.pid) && self.processes.len() >= self.max_processes {
            // Full: most likely of processes whose exits were missed, which /proc can tell.
            let _ = self.reconcile_if_due(FULL_RECONCILE_INTERVAL);
        }
        if !self.processes.contains_key(&info.pid) && self.processes.len() >= self.max_processes {
            // Any entry will do: an evicted live process is read again from /proc when an event
            // names it. The iteration order of the map spreads evictions over the table.
            if let Some(victim) = self.processes.keys().next().copied() {
                self.processes.remove(&victim);
                self.stats.evictions += 1;
            }
        }
        self.processes.insert(info.pid, info);
    }
}

/// What an event's task fields alone say about a process that `/proc` no longer shows.
fn from_task(task: &TaskIds, boot_ns: u64) -> ProcessInfo {
    ProcessInfo {
        pid: task.pid,
        ppid: task.ppid,
        name: task.comm.clone(),
        uid: task.uid,
        gid: task.gid,
        loginuid: task.loginuid,
        cgroup_id: task.cgroup_id,
        exec_boot_ns: boot_ns,
        ..ProcessInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cgroup::CgroupRules;
    use crate::event::ExeOrigin;

    const CONTAINER: &str = "3f0e6e2c1b9f4a7d8e5c2b1a0f9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c";
    const OTHER: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    fn fixture_procfs() -> ProcFs {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attrib/proc");
        ProcFs::new(root, CgroupRules::default())
    }

    /// A table over an empty /proc, so that only events fill it.
    fn empty_table(max: usize) -> ProcessTable {
        ProcessTable::new(
            ProcFs::new("/nonexistent-proc-root", CgroupRules::default()),
            max,
        )
    }

    fn task(pid: u32, ppid: u32, comm: &str) -> TaskIds {
        TaskIds {
            pid,
            tid: pid,
            ppid,
            uid: 0,
            gid: 0,
            loginuid: u32::MAX,
            cgroup_id: 0,
            comm: comm.to_string(),
        }
    }

    fn event(boot_ns: u64, task: TaskIds, detail: EventDetail) -> SyscallEvent {
        SyscallEvent {
            boot_ns,
            cpu: 0,
            task,
            result: None,
            detail,
        }
    }

    fn exec(
        boot_ns: u64,
        pid: u32,
        ppid: u32,
        comm: &str,
        path: &str,
        argv: &[&str],
    ) -> SyscallEvent {
        exec_in(boot_ns, pid, ppid, comm, path, argv, "")
    }

    /// An exec whose kernel record carries `cgroup_path`.
    fn exec_in(
        boot_ns: u64,
        pid: u32,
        ppid: u32,
        comm: &str,
        path: &str,
        argv: &[&str],
        cgroup_path: &str,
    ) -> SyscallEvent {
        event(
            boot_ns,
            task(pid, ppid, comm),
            EventDetail::Exec {
                filename: path.to_string(),
                exepath: path.to_string(),
                argv: argv.iter().map(|a| a.to_string()).collect(),
                argv_truncated: false,
                origin: ExeOrigin::default(),
                tty: 0,
                sid: pid,
                blocked: false,
                mnt_ns: 0,
                cgroup_path: cgroup_path.to_string(),
            },
        )
    }

    fn fork(boot_ns: u64, parent: u32, pparent: u32, comm: &str, child: u32) -> SyscallEvent {
        event(
            boot_ns,
            task(parent, pparent, comm),
            EventDetail::Fork {
                child_pid: child,
                clone_flags: 0,
            },
        )
    }

    fn exit(boot_ns: u64, pid: u32, ppid: u32, comm: &str) -> SyscallEvent {
        event(
            boot_ns,
            task(pid, ppid, comm),
            EventDetail::Exit { exit_code: 0 },
        )
    }

    #[test]
    fn fork_exec_exit_sequence() {
        let mut table = empty_table(100);
        table.apply(&exec(10, 100, 1, "bash", "/usr/bin/bash", &["bash"]));
        table.apply(&fork(20, 100, 1, "bash", 200));
        let child = table.get(200).expect("child after fork");
        assert_eq!((child.name.as_str(), child.ppid), ("bash", 100));
        assert_eq!(child.argv, ["bash"]);

        table.apply(&exec(
            30,
            200,
            100,
            "curl",
            "/usr/bin/curl",
            &["curl", "-s", "http://x"],
        ));
        let child = table.get(200).expect("child after exec");
        assert_eq!(child.name, "curl");
        assert_eq!(child.exepath, "/usr/bin/curl");
        assert_eq!(child.cmdline(), "curl -s http://x");
        assert_eq!(child.exec_boot_ns, 30);
        // the parent keeps its own image
        assert_eq!(table.get(100).map(|p| p.name.as_str()), Some("bash"));

        table.apply(&exit(40, 200, 100, "curl"));
        // readable for the exit event itself...
        assert_eq!(table.get(200).map(|p| p.name.as_str()), Some("curl"));
        assert_eq!(table.len(), 1);
        // ...and gone after the next event
        table.apply(&exit(50, 100, 1, "bash"));
        assert_eq!(table.get(200), None);
        assert_eq!(table.get(100).map(|p| p.pid), Some(100));
        table.apply(&exec(60, 300, 1, "sh", "/bin/sh", &["sh"]));
        assert_eq!(table.get(100), None);
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn clone_parent_reparents_the_child() {
        let mut table = empty_table(100);
        table.apply(&exec(1, 100, 50, "runc", "/usr/bin/runc", &["runc"]));
        table.apply(&event(
            2,
            task(100, 50, "runc"),
            EventDetail::Fork {
                child_pid: 101,
                clone_flags: CLONE_PARENT,
            },
        ));
        assert_eq!(table.get(101).map(|p| p.ppid), Some(50));
    }

    #[test]
    fn late_fork_does_not_undo_an_exec() {
        let mut table = empty_table(100);
        table.apply(&exec(10, 100, 1, "bash", "/usr/bin/bash", &["bash"]));
        table.apply(&exec(30, 200, 100, "ls", "/usr/bin/ls", &["ls"]));
        table.apply(&fork(20, 100, 1, "bash", 200));
        assert_eq!(table.get(200).map(|p| p.name.as_str()), Some("ls"));
    }

    #[test]
    fn ancestors_are_bounded_and_loop_safe() {
        let mut table = empty_table(1000);
        table.apply(&exec(1, 10, 1, "init-ish", "/sbin/x", &["x"]));
        for pid in 11..200u32 {
            table.apply(&exec(u64::from(pid), pid, pid - 1, "p", "/p", &["p"]));
        }
        let chain = table.ancestors(199);
        assert_eq!(chain.len(), MAX_ANCESTORS);
        assert_eq!(chain.first().map(|p| p.pid), Some(198));

        let short = table.ancestors(12);
        let pids: Vec<u32> = short.iter().map(|p| p.pid).collect();
        assert_eq!(pids, [11, 10]);

        // 500 -> 501 -> 500: a loop left by a missed exit and a reused pid
        table.apply(&exec(1, 500, 501, "a", "/a", &["a"]));
        table.apply(&exec(1, 501, 500, "b", "/b", &["b"]));
        let looped: Vec<u32> = table.ancestors(500).iter().map(|p| p.pid).collect();
        assert_eq!(looped, [501]);
        // a process that is its own parent
        table.apply(&exec(1, 600, 600, "self", "/s", &["s"]));
        assert!(table.ancestors(600).is_empty());
        assert!(table.ancestors(424_242).is_empty());
    }

    #[test]
    fn cap_evicts_and_counts() {
        let mut table = empty_table(10);
        for pid in 1..=25u32 {
            table.apply(&exec(u64::from(pid), pid, 0, "p", "/p", &["p"]));
        }
        assert_eq!(table.len(), 10);
        assert_eq!(table.stats().evictions, 15);
        // the newest is always kept
        assert!(table.get(25).is_some());
    }

    #[test]
    fn a_full_table_first_drops_the_dead() {
        let mut table = ProcessTable::new(fixture_procfs(), 5);
        table.rebuild_from_proc(1).expect("rebuild");
        assert_eq!(table.len(), 5);
        // 4242 is alive in the fixture /proc; 9001 is not there: its exit was missed
        if let Some(p) = table.processes.remove(&1) {
            table.processes.insert(9001, ProcessInfo { pid: 9001, ..p });
        }
        table.apply(&event(
            5,
            task(4242, 4200, "nginx"),
            EventDetail::Fork {
                child_pid: 4243,
                clone_flags: 0,
            },
        ));
        assert!(table.get(4243).is_some());
        assert_eq!(table.get(9001), None);
        assert_eq!(table.stats().evictions, 0);
        assert_eq!(table.stats().reconciled, 1);
        // not due again right away
        assert_eq!(table.reconcile_if_due(Duration::from_secs(60)), None);
        assert_eq!(table.reconcile_if_due(Duration::ZERO), Some(1));
    }

    #[test]
    fn unknown_pids_fill_lazily_from_proc() {
        let mut table = ProcessTable::new(fixture_procfs(), 100);
        // an open by a process started before the sensor
        table.apply(&event(
            5,
            task(4242, 4200, "nginx"),
            EventDetail::Listen {
                fd: 3,
                backlog: 511,
            },
        ));
        let nginx = table.get(4242).expect("filled from /proc");
        assert_eq!(
            nginx.argv.first().map(String::as_str),
            Some("nginx: master process")
        );
        assert_eq!(nginx.container_id.as_deref(), Some(CONTAINER));
        assert_eq!(table.stats().lazy_fills, 1);

        // a pid /proc does not have: kept from the event's own fields
        table.apply(&event(
            6,
            task(7777, 1, "ghost"),
            EventDetail::Listen { fd: 3, backlog: 1 },
        ));
        assert_eq!(table.get(7777).map(|p| p.name.as_str()), Some("ghost"));
        assert_eq!(table.stats().lazy_misses, 1);
        // its missed exit is found by reconcile; live fixture processes stay
        let removed = table.reconcile().expect("reconcile");
        assert_eq!(removed, 1);
        assert_eq!(table.get(7777), None);
        assert!(table.get(4242).is_some());
        assert_eq!(table.stats().reconciled, 1);
    }

    #[test]
    fn exit_of_an_unknown_process_is_still_described() {
        let mut table = empty_table(100);
        table.apply(&exit(9, 8888, 1, "short"));
        assert_eq!(table.get(8888).map(|p| p.name.as_str()), Some("short"));
        assert!(table.is_empty());
    }

    #[test]
    fn exec_of_a_host_process_rereads_its_cgroup() {
        let mut table = ProcessTable::new(fixture_procfs(), 100);
        table.rebuild_from_proc(1).expect("rebuild");
        assert_eq!(table.len(), 5);
        // pretend 4242 was a host process (as if forked by the runtime before joining the cgroup)
        if let Some(p) = table.processes.get_mut(&4242) {
            p.container_id = None;
        }
        table.apply(&exec(2, 4242, 4200, "nginx", "/usr/sbin/nginx", &["nginx"]));
        assert_eq!(
            table.get(4242).and_then(|p| p.container_id.as_deref()),
            Some(CONTAINER)
        );
    }

    #[test]
    fn a_gone_process_is_attributed_from_the_exec_cgroup_path() {
        // /proc has nothing: the process exited before its exec was handled.
        let mut table = empty_table(100);
        let kube = format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod5e0c4b8a_2f1d_4c3b_9a8e_7d6c5b4a3f21.slice/cri-containerd-{CONTAINER}.scope"
        );
        table.apply(&exec_in(
            1,
            700,
            1,
            "cat",
            "/bin/cat",
            &["cat", "/etc/shadow"],
            &kube,
        ));
        let cat = table.get(700).expect("kept from the event");
        assert_eq!(cat.container_id.as_deref(), Some(CONTAINER));
        let known = table.container(CONTAINER).expect("container remembered");
        assert_eq!(known.cgroup_path, kube);
        assert_eq!(
            known.pod_uid.as_deref(),
            Some("5e0c4b8a-2f1d-4c3b-9a8e-7d6c5b4a3f21")
        );

        table.apply(&exec_in(
            2,
            701,
            1,
            "true",
            "/bin/true",
            &["true"],
            "/palisade-test/box",
        ));
        assert_eq!(
            table.get(701).and_then(|p| p.container_id.as_deref()),
            Some("box")
        );
        // a host cgroup: known to be the host, not "unknown"
        table.apply(&exec_in(3, 702, 1, "sh", "/bin/sh", &["sh"], "/"));
        assert_eq!(table.get(702).and_then(|p| p.container_id.clone()), None);
        // the first reference wins: a later tail of the same container does not replace it
        let tail = format!("{TRUNCATED_MARKER}/a/b/docker/{CONTAINER}");
        table.apply(&exec_in(4, 703, 1, "id", "/bin/id", &["id"], &tail));
        assert_eq!(
            table.container(CONTAINER).map(|c| c.cgroup_path.as_str()),
            Some(kube.as_str())
        );
    }

    #[test]
    fn the_event_path_wins_over_a_stale_container() {
        let mut table = ProcessTable::new(fixture_procfs(), 100);
        table.rebuild_from_proc(1).expect("rebuild");
        // 4242 is in a pod per /proc; the runtime moved it into another container before exec
        table.apply(&exec_in(
            2,
            4242,
            4200,
            "sh",
            "/bin/sh",
            &["sh"],
            &format!("/docker/{OTHER}"),
        ));
        assert_eq!(
            table.get(4242).and_then(|p| p.container_id.as_deref()),
            Some(OTHER)
        );
        // an unrecognised cut path falls back to /proc, which shows the pod's container
        table.apply(&exec_in(
            3,
            4242,
            4200,
            "sh",
            "/bin/sh",
            &["sh"],
            &format!("{TRUNCATED_MARKER}/w/x/y/z"),
        ));
        assert_eq!(
            table.get(4242).and_then(|p| p.container_id.as_deref()),
            Some(CONTAINER)
        );
    }

    #[test]
    fn containers_follow_their_processes() {
        let mut table = ProcessTable::new(fixture_procfs(), 100);
        table.rebuild_from_proc(1).expect("rebuild");
        let pod = table.container(CONTAINER).expect("from /proc at rebuild");
        assert_eq!(pod.runtime, crate::model::Runtime::Containerd);
        // a container whose only process is gone from /proc (its exit was missed)
        table.apply(&exec_in(
            2,
            9100,
            1,
            "true",
            "/bin/true",
            &["true"],
            "/palisade-test/gone",
        ));
        assert!(table.container("gone").is_some());
        table.reconcile().expect("reconcile");
        assert_eq!(table.container("gone"), None);
        assert!(table.container(CONTAINER).is_some());
    }

    #[test]
    fn the_container_map_is_capped() {
        let mut table = empty_table(3);
        for pid in 1..=10u32 {
            let path = format!("/palisade-test/box-{pid}");
            table.apply(&exec_in(u64::from(pid), pid, 0, "p", "/p", &["p"], &path));
        }
        assert!(table.containers.len() <= 3);
        // the newest is always kept, and every process kept has its container
        assert!(table.container("box-10").is_some());
        for process in table.processes() {
            let id = process.container_id.as_deref().unwrap_or_default();
            assert!(table.container(id).is_some(), "{id}");
        }
    }

    #[test]
    fn rebuild_from_this_machines_proc() {
        let mut table = ProcessTable::new(ProcFs::default(), DEFAULT_MAX_PROCESSES);
        let count = table.rebuild_from_proc(0).expect("rebuild /proc");
        assert!(count >= 2);
        let me = table.get(std::process::id()).expect("own pid");
        assert!(!me.argv.is_empty());
        let chain = table.ancestors(std::process::id());
        assert_eq!(chain.first().map(|p| p.pid), Some(me.ppid));
    }
}
