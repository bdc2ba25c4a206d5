//! Reading processes from `/proc`: one process on demand (a pid an event names that the table
//! does not know) and every process at start.
//!
//! Only the files attribution needs are read (`stat`, `status`, `cmdline`, `loginuid`, `cgroup`
//! and the `exe` link), never a process's memory, environment or open files. Processes exit while
//! they are read: that is normal, reported as [`ProcError::Gone`] for one process and skipped by
//! the scan.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::cgroup::{CgroupRules, ContainerRef};
use crate::event::ExeOrigin;
use crate::model::ProcessInfo;

/// `statfs` magic of tmpfs: an executable there was written at run time, not installed.
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// Why one process could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The process exited (or never existed) while it was being read.
    #[error("process {0} is gone")]
    Gone(u32),
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: {reason}")]
    Malformed { path: PathBuf, reason: &'static str },
}

/// One process as `/proc` shows it, with the container its cgroup names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcRecord {
    pub info: ProcessInfo,
    pub container: Option<ContainerRef>,
}

/// What a full scan found.
#[derive(Debug, Default)]
pub struct ProcScan {
    pub processes: Vec<ProcRecord>,
    /// Processes that exited between the directory listing and their reading.
    pub gone: usize,
    /// Processes that could not be read for another reason (permissions, malformed files).
    pub unreadable: usize,
}

/// A `/proc` tree (the real one, or a fixture in tests) and the rules to read cgroups with.
#[derive(Debug, Clone)]
pub struct ProcFs {
    root: PathBuf,
    rules: CgroupRules,
}

impl Default for ProcFs {
    fn default() -> Self {
        ProcFs::new("/proc", CgroupRules::default())
    }
}

impl ProcFs {
    pub fn new(root: impl Into<PathBuf>, rules: CgroupRules) -> Self {
        ProcFs {
            root: root.into(),
            rules,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn rules(&self) -> &CgroupRules {
        &self.rules
    }

    /// Whether `pid` currently has a `/proc` entry.
    pub fn exists(&self, pid: u32) -> bool {
        self.root.join(pid.to_string()).exists()
    }

    /// The pids listed in `/proc` now (thread group leaders only: threads are not listed).
    pub fn pids(&self) -> io::Result<Vec<u32>> {
        let mut pids = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let Ok(entry) = entry else { continue };
            if let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            {
                pids.push(pid);
            }
        }
        pids.sort_unstable();
        Ok(pids)
    }

    /// Every process in `/proc`. A process that exits or cannot be read is counted and skipped;
    /// only an unreadable `/proc` directory itself is an error.
    pub fn scan(&self, boot_ns: u64) -> io::Result<ProcScan> {
        let mut scan = ProcScan::default();
        for pid in self.pids()? {
            match self.read(pid, boot_ns) {
                Ok(record) => scan.processes.push(record),
                Err(ProcError::Gone(_)) => scan.gone += 1,
                Err(_) => scan.unreadable += 1,
            }
        }
        Ok(scan)
    }

    /// One process. `boot_ns` stands for its exec time: `/proc` does not say when the current
    /// image was exec'd, so the caller passes the time it learnt about the process.
    pub fn read(&self, pid: u32, boot_ns: u64) -> Result<ProcRecord, ProcError> {
        let dir = self.root.join(pid.to_string());
        let stat_path = dir.join("stat");
        let stat_text = read_text(&stat_path, pid)?;
        let stat = parse_stat(&stat_text).ok_or(ProcError::Malformed {
            path: stat_path,
            reason: "unexpected stat format",
        })?;
        let status_path = dir.join("status");
        let status_text = read_text(&status_path, pid)?;
        let ids = parse_status_ids(&status_text).ok_or(ProcError::Malformed {
            path: status_path,
            reason: "no Uid/Gid lines",
        })?;
        let argv = match fs::read(dir.join("cmdline")) {
            Ok(bytes) => parse_cmdline(&bytes),
            Err(error) => return Err(classify_io(dir.join("cmdline"), pid, error)),
        };
        // Unset loginuid reads as 4294967295; kernels without audit have no file at all.
        let loginuid = fs::read_to_string(dir.join("loginuid"))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
            .unwrap_or(u32::MAX);
        let (exepath, origin) = self.read_exe(&dir);
        let container = fs::read_to_string(dir.join("cgroup"))
            .ok()
            .and_then(|text| self.rules.from_proc_cgroup(&text));
        // A process that exited mid-read leaves a directory whose files read empty or fail;
        // checking the directory last keeps half-read records out.
        if !dir.exists() {
            return Err(ProcError::Gone(pid));
        }
        let info = ProcessInfo {
            pid,
            ppid: stat.ppid,
            name: stat.comm,
            exepath,
            argv,
            uid: ids.euid,
            gid: ids.egid,
            loginuid,
            tty: stat.tty_nr,
            sid: stat.session,
            cgroup_id: 0,
            origin,
            container_id: container.as_ref().map(|c| c.id.clone()),
            exec_boot_ns: boot_ns,
        };
        Ok(ProcRecord { info, container })
    }

    /// The container `/proc/<pid>/cgroup` names now, `None` for a host process or a gone one.
    pub fn read_container(&self, pid: u32) -> Option<ContainerRef> {
        let text = fs::read_to_string(self.root.join(pid.to_string()).join("cgroup")).ok()?;
        self.rules.from_proc_cgroup(&text)
    }

    /// The inode number of the process's mount namespace (`/proc/<pid>/ns/mnt` reads
    /// `mnt:[<inode>]`): on cgroup v1 hosts the cgroup ID names no container, and the kernel's
    /// drift maps are keyed by this number instead. `None` when gone or unreadable.
    pub fn mnt_ns(&self, pid: u32) -> Option<u64> {
        let link = fs::read_link(self.root.join(pid.to_string()).join("ns/mnt")).ok()?;
        parse_ns_link(&link.to_string_lossy(), "mnt")
    }

    /// The executable's path and what kind of file it is. Kernel threads have no executable and
    /// other users' links are unreadable without CAP_SYS_PTRACE: both give an empty path.
    fn read_exe(&self, dir: &Path) -> (String, ExeOrigin) {
        let link = dir.join("exe");
        let Ok(target) = fs::read_link(&link) else {
            return (String::new(), ExeOrigin::default());
        };
        let target = target.to_string_lossy();
        // The kernel appends " (deleted)" when the file was unlinked after exec; the path the
        // process was started from is what rules match on.
        let path = target.strip_suffix(" (deleted)").unwrap_or(&target);
        let origin = ExeOrigin {
            upper_layer: false,
            memfd: path.starts_with("/memfd:"),
            tmpfs: is_on_tmpfs(&link),
        };
        (path.to_string(), origin)
    }
}

/// Whether the file behind a path (the `exe` magic link is followed) lives on tmpfs.
fn is_on_tmpfs(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    let mut buf = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c_path` is a valid NUL-terminated string and `buf` is a writable statfs that the
    // call fills on success; it is only read after a successful return.
    let result = unsafe { libc::statfs(c_path.as_ptr(), buf.as_mut_ptr()) };
    if result != 0 {
        return false;
    }
    // SAFETY: statfs returned 0, so the structure is initialised.
    let buf = unsafe { buf.assume_init() };
    #[allow(clippy::unnecessary_cast)]
    let magic = buf.f_type as i64;
    magic == TMPFS_MAGIC
}

fn read_text(path: &Path, pid: u32) -> Result<String, ProcError> {
    match fs::read(path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(error) => Err(classify_io(path.to_path_buf(), pid, error)),
    }
}

fn classify_io(path: PathBuf, pid: u32, error: io::Error) -> ProcError {
    // ESRCH comes from reading a file of a process that has just been reaped.
    if error.kind() == io::ErrorKind::NotFound || error.raw_os_error() == Some(libc::ESRCH) {
        ProcError::Gone(pid)
    } else {
        ProcError::Io {
            path,
            source: error,
        }
    }
}

/// The inode of a namespace link target such as `mnt:[4026531841]`.
pub fn parse_ns_link(target: &str, kind: &str) -> Option<u64> {
    target
        .strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The fields of `/proc/<pid>/stat` attribution uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub comm: String,
    pub ppid: u32,
    pub session: u32,
    pub tty_nr: u32,
}

/// Parses `pid (comm) state ppid pgrp session tty_nr …`. `comm` may hold spaces and parentheses,
/// so it ends at the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let mut rest = text.get(close + 1..)?.split_ascii_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse::<i64>().ok()?;
    let _pgrp = rest.next()?;
    let session = rest.next()?.parse::<i64>().ok()?;
    let tty_nr = rest.next()?.parse::<i64>().ok()?;
    Some(Stat {
        comm,
        ppid: u32::try_from(ppid).unwrap_or(0),
        session: u32::try_from(session).unwrap_or(0),
        // tty_nr is a dev_t in an int: keep its bits, as the kernel programs report it.
        tty_nr: tty_nr as u32,
    })
}

/// Effective user and group IDs from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusIds {
    pub euid: u32,
    pub egid: u32,
}

/// `Uid:` and `Gid:` lines list real, effective, saved and filesystem IDs; the effective ones
/// decide what the process may do, and are what Falco's `user.uid` shows.
pub fn parse_status_ids(text: &str) -> Option<StatusIds> {
    let effective = |key: &str| -> Option<u32> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        let mut fields = line.get(key.len()..)?.split_ascii_whitespace();
        let real = fields.next()?;
        fields.next().unwrap_or(real).parse().ok()
    };
    Some(StatusIds {
        euid: effective("Uid:")?,
        egid: effective("Gid:")?,
    })
}

/// `argv` from `/proc/<pid>/cmdline`: NUL-separated, NUL-terminated, empty for kernel threads
/// (and for zombies).
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|b| *b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Runtime;

    fn fixture() -> ProcFs {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attrib/proc");
        ProcFs::new(root, CgroupRules::default())
    }

    #[test]
    fn stat_with_tricky_comm() {
        let stat = parse_stat("4242 (my (weird) proc) S 17 4242 31 34816 4242 4194560 0 0")
            .expect("parses");
        assert_eq!(stat.comm, "my (weird) proc");
        assert_eq!((stat.ppid, stat.session, stat.tty_nr), (17, 31, 34816));
        assert_eq!(parse_stat("4242 (x"), None);
        assert_eq!(parse_stat("4242 (x) S"), None);
        assert_eq!(parse_stat(""), None);
        assert_eq!(parse_stat(")("), None);
    }

    #[test]
    fn status_takes_effective_ids() {
        let ids =
            parse_status_ids("Name:\tsu\nUid:\t1000\t0\t0\t0\nGid:\t1000\t5\t5\t5\n").expect("ids");
        assert_eq!(ids, StatusIds { euid: 0, egid: 5 });
        assert_eq!(parse_status_ids("Name:\tx\n"), None);
        assert_eq!(parse_status_ids("Uid:\tx\nGid:\t1\n"), None);
    }

    #[test]
    fn cmdline_forms() {
        assert_eq!(parse_cmdline(b"sh\0-c\0echo hi\0"), ["sh", "-c", "echo hi"]);
        assert_eq!(parse_cmdline(b""), Vec::<String>::new());
        assert_eq!(parse_cmdline(b"\0"), Vec::<String>::new());
        // setproctitle-style rewrites without a terminator
        assert_eq!(
            parse_cmdline(b"nginx: worker process"),
            ["nginx: worker process"]
        );
        assert_eq!(parse_cmdline(b"a\0\0b\0"), ["a", "", "b"]);
    }

    #[test]
    fn fixture_container_process() {
        let record = fixture().read(4242, 7).expect("pid 4242");
        let info = &record.info;
        assert_eq!(info.name, "nginx");
        assert_eq!(info.ppid, 4200);
        assert_eq!(info.sid, 4242);
        assert_eq!(info.tty, 0);
        assert_eq!((info.uid, info.gid), (101, 101));
        assert_eq!(info.loginuid, u32::MAX);
        assert_eq!(info.argv, ["nginx: master process", "-g", "daemon off;"]);
        assert_eq!(info.exepath, "/usr/sbin/nginx");
        assert_eq!(info.exec_boot_ns, 7);
        let container = record.container.expect("in a container");
        assert_eq!(container.runtime, Runtime::Containerd);
        assert_eq!(info.container_id.as_deref(), Some(container.id.as_str()));
        assert_eq!(
            container.pod_uid.as_deref(),
            Some("5e0c4b8a-2f1d-4c3b-9a8e-7d6c5b4a3f21")
        );
    }

    #[test]
    fn fixture_memfd_deleted_and_kernel_thread() {
        let procfs = fixture();
        let memfd = procfs.read(5000, 0).expect("pid 5000");
        assert_eq!(memfd.info.exepath, "/memfd:payload");
        assert!(memfd.info.origin.memfd);
        assert_eq!(memfd.info.loginuid, 1000);
        assert_eq!(memfd.info.tty, 34817);
        assert_eq!(memfd.container, None);

        let deleted = procfs.read(5001, 0).expect("pid 5001");
        assert_eq!(deleted.info.exepath, "/tmp/dropper");
        assert!(!deleted.info.origin.memfd);

        let kthread = procfs.read(2, 0).expect("kthreadd");
        assert_eq!(kthread.info.name, "kthreadd");
        assert!(kthread.info.argv.is_empty());
        assert_eq!(kthread.info.exepath, "");
        assert_eq!(kthread.info.ppid, 0);
    }

    #[test]
    fn fixture_scan_skips_gone_and_broken() {
        let scan = fixture().scan(1).expect("scan");
        let mut pids: Vec<u32> = scan.processes.iter().map(|r| r.info.pid).collect();
        pids.sort_unstable();
        assert_eq!(pids, [1, 2, 4242, 5000, 5001]);
        // 6000 has no stat (exited mid-scan); 6001 has a garbled stat.
        assert_eq!(scan.gone, 1);
        assert_eq!(scan.unreadable, 1);
        assert!(matches!(
            fixture().read(6000, 0),
            Err(ProcError::Gone(6000))
        ));
        assert!(matches!(
            fixture().read(6001, 0),
            Err(ProcError::Malformed { .. })
        ));
        assert!(matches!(
            fixture().read(999_999, 0),
            Err(ProcError::Gone(999_999))
        ));
    }

    #[test]
    fn namespace_links() {
        assert_eq!(
            parse_ns_link("mnt:[4026531841]", "mnt"),
            Some(4_026_531_841)
        );
        assert_eq!(parse_ns_link("pid:[4026531841]", "mnt"), None);
        assert_eq!(parse_ns_link("mnt:[x]", "mnt"), None);
        assert_eq!(parse_ns_link("mnt:[1", "mnt"), None);
        // the fixture tree has no ns/ directories
        assert_eq!(fixture().mnt_ns(4242), None);
        let own = ProcFs::default()
            .mnt_ns(std::process::id())
            .expect("own mnt ns");
        use std::os::unix::fs::MetadataExt;
        let expected = fs::metadata("/proc/self/ns/mnt").expect("stat ns").ino();
        assert_eq!(own, expected);
    }

    #[test]
    fn this_process_from_real_proc() {
        let procfs = ProcFs::default();
        let pid = std::process::id();
        let record = procfs.read(pid, 0).expect("own process");
        let own_argv: Vec<String> = std::env::args().collect();
        assert_eq!(record.info.argv, own_argv);
        // SAFETY: getppid has no preconditions.
        let ppid = unsafe { libc::getppid() };
        assert_eq!(i64::from(record.info.ppid), i64::from(ppid));
        let exe = std::env::current_exe().expect("current exe");
        assert_eq!(record.info.exepath, exe.to_string_lossy());
        // comm is the executable's base name cut to 15 bytes, or the test thread's name: the
        // harness renames threads, but the thread group leader keeps the binary's name.
        let base = exe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expected: String = base.chars().take(15).collect();
        assert_eq!(record.info.name, expected);
        let scan = procfs.scan(0).expect("scan /proc");
        assert!(scan.processes.iter().any(|r| r.info.pid == pid));
        assert!(scan.processes.iter().any(|r| r.info.pid == 1));
    }
}
