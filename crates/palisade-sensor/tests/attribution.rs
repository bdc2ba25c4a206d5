//! Attribution of real processes on this machine: a child process read from `/proc`, found
//! lazily by the process table, and — when the test runs as root on a host with the cgroup v1
//! `pids` hierarchy (CI and this machine) — moved into a runc-style cgroup
//! `/palisade-test/<name>` and attributed to that container.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use palisade_sensor::cgroup::CgroupRules;
use palisade_sensor::event::{EventDetail, SyscallEvent, TaskIds};
use palisade_sensor::model::Runtime;
use palisade_sensor::pods::{PodResolver, PodSourcesConfig};
use palisade_sensor::process_table::{DEFAULT_MAX_PROCESSES, ProcessTable};
use palisade_sensor::procfs::ProcFs;

/// A child that sleeps until killed, killed and reaped when dropped.
struct Sleeper(Child);

impl Sleeper {
    fn start() -> Sleeper {
        let child = Command::new("sleep")
            .arg("300")
            .spawn()
            .expect("spawn sleep");
        Sleeper(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A cgroup v1 directory, removed when dropped (after its processes are gone).
struct Cgroup(PathBuf);

impl Cgroup {
    /// `None` when cgroups cannot be created here (not root, no v1 `pids` hierarchy).
    fn create(relative: &str) -> Option<Cgroup> {
        let hierarchy = Path::new("/sys/fs/cgroup/pids");
        if !hierarchy.join("cgroup.procs").exists() {
            return None;
        }
        let dir = hierarchy.join(relative.trim_start_matches('/'));
        std::fs::create_dir_all(&dir).ok()?;
        Some(Cgroup(dir))
    }

    fn add(&self, pid: u32) -> bool {
        std::fs::write(self.0.join("cgroup.procs"), pid.to_string()).is_ok()
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // The killed process leaves the cgroup once reaped; retry briefly.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn listen_event(pid: u32) -> SyscallEvent {
    SyscallEvent {
        boot_ns: 1,
        cpu: 0,
        task: TaskIds {
            pid,
            tid: pid,
            ppid: 0,
            uid: 0,
            gid: 0,
            loginuid: u32::MAX,
            cgroup_id: 0,
            comm: String::new(),
        },
        result: Some(0),
        detail: EventDetail::Listen { fd: 3, backlog: 1 },
    }
}

#[test]
fn child_process_is_read_and_filled_lazily() {
    let sleeper = Sleeper::start();
    let procfs = ProcFs::default();
    // Right after spawn the child may not have exec'd yet, and for a moment during exec the
    // kernel shows the new `comm` before the new argument area: wait for both.
    let mut record = None;
    for _ in 0..100 {
        if let Ok(found) = procfs.read(sleeper.pid(), 0)
            && found.info.name == "sleep"
            && !found.info.argv.is_empty()
        {
            record = Some(found);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let record = record.expect("sleep child in /proc");
    assert_eq!(record.info.argv, ["sleep", "300"]);
    assert_eq!(record.info.ppid, std::process::id());
    assert!(
        record.info.exepath.ends_with("sleep"),
        "{}",
        record.info.exepath
    );

    let mut table = ProcessTable::new(ProcFs::default(), DEFAULT_MAX_PROCESSES);
    table.apply(&listen_event(sleeper.pid()));
    let filled = table.get(sleeper.pid()).expect("filled lazily");
    assert_eq!(filled.name, "sleep");
    let ancestors: Vec<u32> = table
        .ancestors(sleeper.pid())
        .iter()
        .map(|p| p.pid)
        .collect();
    // the parent chain was filled with it: this test process, then its own parent
    assert_eq!(ancestors.first(), Some(&std::process::id()));
    assert!(ancestors.len() >= 2, "{ancestors:?}");
    assert_eq!(table.stats().lazy_fills as usize, ancestors.len() + 1);
}

#[test]
fn process_in_a_runc_cgroup_is_attributed() {
    let name = format!("attrib-{}", std::process::id());
    // Needs root and a cgroup v1 pids hierarchy, as this machine and CI have: a missing one
    // fails the test, it is not skipped.
    let Some(cgroup) = Cgroup::create(&format!("/palisade-test/{name}")) else {
        panic!(
            "cannot create the pids cgroup /palisade-test/{name} (needs root and a cgroup v1 pids hierarchy)"
        );
    };
    // Started after the cgroup so that it is killed before the cgroup is removed, even when an
    // assertion fails.
    let sleeper = Sleeper::start();
    assert!(
        cgroup.add(sleeper.pid()),
        "move the child into {}",
        cgroup.0.display()
    );

    let procfs = ProcFs::new("/proc", CgroupRules::default());
    let container = procfs
        .read_container(sleeper.pid())
        .expect("attributed to the runc container");
    assert_eq!(container.runtime, Runtime::Runc);
    assert_eq!(container.id, name);
    assert_eq!(container.cgroup_path, format!("/palisade-test/{name}"));
    assert_eq!(container.pod_uid, None);

    let mut table = ProcessTable::new(procfs, DEFAULT_MAX_PROCESSES);
    table.rebuild_from_proc(0).expect("rebuild");
    assert_eq!(
        table
            .get(sleeper.pid())
            .and_then(|p| p.container_id.as_deref()),
        Some(name.as_str())
    );
    // this test process stays a host process
    assert_eq!(
        table
            .get(std::process::id())
            .map(|p| p.container_id.clone()),
        Some(None)
    );

    // no CRI, kubelet or API here: attribution is the cgroup's alone, without waiting
    let resolver = PodResolver::start(PodSourcesConfig {
        cri_sockets: Vec::new(),
        kubelet_url: None,
        api_url: None,
        ..PodSourcesConfig::default()
    })
    .expect("resolver");
    let info = resolver.attribute(&container);
    assert_eq!(
        (info.id.as_str(), info.runtime),
        (name.as_str(), Runtime::Runc)
    );
    assert_eq!(info.pod, None);
    drop(sleeper);
}
