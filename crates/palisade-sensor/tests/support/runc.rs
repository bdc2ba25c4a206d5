//! Real containers for the sensor's tests: a busybox root filesystem as the image's (read-only)
//! lower layer, an overlayfs mount with a writable upper layer on top — the layout containerd and
//! CRI-O give a Kubernetes container — and `runc` running processes in it, in the cgroup
//! `/palisade-test/<name>`. Needs root, `runc` and a static busybox (scripts/test.sh installs
//! them); anything missing fails the test with the reason.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Where the busybox binary comes from (Debian's busybox-static).
const BUSYBOX: &str = "/bin/busybox";

pub struct Container {
    pub name: String,
    pub bundle: PathBuf,
    mounted: bool,
}

/// Fails the calling test, saying why, when containers cannot run here.
pub fn require_container_support() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the sensor's container tests need root (eBPF, overlayfs mounts and runc): run the test suite as root"
    );
    for tool in ["runc", "script"] {
        assert!(
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
            "`{tool}` is not installed: scripts/test.sh installs it (apt-get install runc)"
        );
    }
    // A dynamically linked busybox names its ELF interpreter; the container has no libc for it.
    let static_busybox = std::fs::read(BUSYBOX)
        .map(|bytes| {
            !bytes
                .windows(8)
                .any(|w| w == b"/lib64/l" || w == b"/lib/ld-")
        })
        .unwrap_or(false);
    assert!(
        Path::new(BUSYBOX).exists() && static_busybox,
        "{BUSYBOX} (a static busybox) is missing: scripts/test.sh installs busybox-static"
    );
}

impl Container {
    /// Prepares a container named `name`: busybox with every applet linked in `/bin`, plus
    /// `image_files` (path inside the container, contents, mode) in the image layer.
    pub fn new(name: &str, image_files: &[(&str, &[u8], u32)]) -> Container {
        require_container_support();
        let bundle =
            std::env::temp_dir().join(format!("palisade-runc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&bundle);
        let lower = bundle.join("lower");
        for dir in [
            "bin", "etc", "tmp", "proc", "sys", "dev", "root", "usr/bin", "var/log",
        ] {
            std::fs::create_dir_all(lower.join(dir)).expect("create image directories");
        }
        std::fs::copy(BUSYBOX, lower.join("bin/busybox")).expect("copy busybox");
        let applets = Command::new(BUSYBOX)
            .arg("--list")
            .output()
            .expect("busybox --list");
        for applet in String::from_utf8_lossy(&applets.stdout).lines() {
            // `busybox` itself is in the list: linking it would replace the binary.
            if applet.is_empty() || applet == "busybox" || applet.contains('/') {
                continue;
            }
            let _ = std::os::unix::fs::symlink("busybox", lower.join("bin").join(applet));
        }
        std::fs::write(
            lower.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )
        .expect("write /etc/passwd");
        std::fs::write(lower.join("etc/group"), "root:x:0:\n").expect("write /etc/group");
        for (path, contents, mode) in image_files {
            let target = lower.join(path.trim_start_matches('/'));
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).expect("create image file directory");
            }
            std::fs::write(&target, contents).expect("write image file");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(*mode))
                .expect("chmod image file");
        }
        for dir in ["upper", "work", "rootfs"] {
            std::fs::create_dir_all(bundle.join(dir)).expect("create overlay directories");
        }
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            lower.display(),
            bundle.join("upper").display(),
            bundle.join("work").display()
        );
        let mount = Command::new("mount")
            .args(["-t", "overlay", "overlay", "-o", &options])
            .arg(bundle.join("rootfs"))
            .output()
            .expect("run mount");
        assert!(
            mount.status.success(),
            "mounting overlayfs failed: {}",
            String::from_utf8_lossy(&mount.stderr)
        );
        Container {
            name: name.to_string(),
            bundle,
            mounted: true,
        }
    }

    /// Runs `args` as the container's process (a fresh `runc run` each time, same root
    /// filesystem: what the upper layer holds stays), waiting up to `timeout`.
    pub fn run(&self, args: &[&str], timeout: Duration) -> Output {
        self.run_with(args, timeout, false)
    }

    /// As [`Container::run`], with the process on a terminal, as `kubectl exec -it` gives one:
    /// runc's `terminal: true` in the foreground needs a terminal of its own, which `script`
    /// provides.
    pub fn run_on_terminal(&self, args: &[&str], timeout: Duration) -> Output {
        self.run_with(args, timeout, true)
    }

    fn run_with(&self, args: &[&str], timeout: Duration, tty: bool) -> Output {
        let _ = Command::new("runc")
            .args(["delete", "-f", &self.name])
            .output();
        let spec = serde_json::json!({
            "ociVersion": "1.0.2-dev",
            "process": {
                "terminal": tty,
                "user": {"uid": 0, "gid": 0},
                "args": args,
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
                "cwd": "/",
                "capabilities": {
                    "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"],
                    "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"],
                    "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"]
                },
                "noNewPrivileges": true
            },
            "root": {"path": "rootfs", "readonly": false},
            "hostname": self.name,
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                // runc links /dev/ptmx to this instance's ptmx for `terminal: true`.
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
                {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}
            ],
            "linux": {
                "cgroupsPath": format!("/palisade-test/{}", self.name),
                // The host network namespace: tests connect to listeners on the host's loopback.
                "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
                "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
            }
        });
        std::fs::write(
            self.bundle.join("config.json"),
            serde_json::to_vec_pretty(&spec).expect("serialise the runtime spec"),
        )
        .expect("write config.json");
        let mut command = if tty {
            let mut script = Command::new("script");
            script.args(["-qec"]).arg(format!(
                "runc run -b {} {}",
                self.bundle.display(),
                self.name
            ));
            script.arg("/dev/null");
            script
        } else {
            let mut runc = Command::new("runc");
            runc.args(["run", "-b"]).arg(&self.bundle).arg(&self.name);
            runc
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start runc");
        let deadline = std::time::Instant::now() + timeout;
        loop {
            match child.try_wait().expect("wait for runc") {
                Some(_) => break,
                None if std::time::Instant::now() > deadline => {
                    let _ = Command::new("runc")
                        .args(["kill", &self.name, "KILL"])
                        .output();
                    let _ = child.kill();
                    break;
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        child.wait_with_output().expect("collect runc output")
    }

    /// The container's writable layer, to check what a process left there.
    pub fn upper(&self) -> PathBuf {
        self.bundle.join("upper")
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("runc")
            .args(["delete", "-f", &self.name])
            .output();
        if self.mounted {
            let _ = Command::new("umount")
                .arg(self.bundle.join("rootfs"))
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.bundle);
    }
}
