//! What the running kernel offers the sensor, for `palisade sensor check` and for the loader's
//! report: BTF, tracefs, each tracepoint the programs attach to, ring buffers, the helpers the
//! programs call. Each probe names the detections that go blind without it, so a missing
//! tracepoint reads as "these rules are degraded" rather than as a bare error.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a program attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachKind {
    /// `BPF_PROG_TYPE_TRACEPOINT` on `events/<category>/<name>`.
    TracePoint,
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT` on a tracepoint of the `<category>` group.
    RawTracePoint,
}

/// Which alternative a program belongs to, when the same detection has a fast program for new
/// kernels and a fallback for older ones; exactly one of each pair is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Always attached.
    Always,
    /// Open/connect at syscall exit only, arguments from the task's saved registers
    /// (bpf_task_pt_regs, Linux 5.15+): one program run per syscall instead of two.
    SavedRegs,
    /// Open/connect paired at entry and exit through a per-thread map, where the above is missing.
    Paired,
    /// The module syscalls' own tracepoints, used when the kernel has both.
    ModuleTracepoint,
    /// raw_syscalls:sys_enter filtered by syscall number, which runs on every syscall of the
    /// node: only when the module syscalls have no tracepoints of their own (see [`ModuleWatch`]).
    RawSyscall,
}

/// Whether module-load attempts are watched on a kernel that cannot load modules
/// (`sensor.moduleLoadAttempts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModuleLoadAttempts {
    /// Watched wherever a load can succeed; not on a kernel without module support, where
    /// init_module/finit_module fail with ENOSYS and the only way to see the attempt costs
    /// every syscall of the node a program run.
    #[default]
    Auto,
    /// Watched everywhere, paying that cost where needed.
    Always,
}

/// How init_module/finit_module are watched on this kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleWatch {
    /// By the module syscalls' own tracepoints.
    Tracepoints,
    /// By the raw_syscalls:sys_enter catch-all.
    RawSyscall,
    /// Not at all: the kernel has neither those tracepoints nor module support.
    Off,
}

/// Why [`ModuleWatch::Off`], for reports.
pub const MODULE_WATCH_OFF: &str = "not watched: this kernel has no module support (no \
     /proc/modules), so init_module/finit_module fail with ENOSYS, and without their tracepoints \
     watching the attempts would run a program on every syscall of the node; \
     `sensor.moduleLoadAttempts: always` watches them anyway";

impl ModuleWatch {
    /// The choice for a kernel with or without the module tracepoints and module support.
    pub fn choose(
        tracepoints: bool,
        modules_supported: bool,
        attempts: ModuleLoadAttempts,
    ) -> Self {
        if tracepoints {
            ModuleWatch::Tracepoints
        } else if modules_supported || attempts == ModuleLoadAttempts::Always {
            ModuleWatch::RawSyscall
        } else {
            ModuleWatch::Off
        }
    }

    /// Why `spec` is left off on purpose under this choice, if it is: the catch-all when `Off`.
    pub fn leaves_off(self, spec: &ProbeSpec) -> Option<&'static str> {
        (spec.variant == Variant::RawSyscall && self == ModuleWatch::Off)
            .then_some(MODULE_WATCH_OFF)
    }

    /// The choice on this machine, tracefs being mounted at `tracefs` (if it is).
    pub fn detect(tracefs: Option<&Path>, attempts: ModuleLoadAttempts) -> Self {
        Self::choose(
            tracefs.is_some_and(module_tracepoints),
            // CONFIG_MODULES is what creates /proc/modules.
            Path::new("/proc/modules").exists(),
            attempts,
        )
    }
}

/// One kernel program of `bpf/sensor.bpf.c` and the detections that depend on it.
#[derive(Debug, Clone, Copy)]
pub struct ProbeSpec {
    /// The C function name (aya's program name).
    pub program: &'static str,
    pub kind: AttachKind,
    pub category: &'static str,
    pub tracepoint: &'static str,
    pub detections: &'static [&'static str],
    pub variant: Variant,
}

/// How the open and connect programs get the syscall's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallArgs {
    /// At exit, from the registers saved at entry (bpf_task_pt_regs).
    SavedRegs,
    /// Read at entry and kept in a per-thread map until exit.
    Paired,
}

impl SyscallArgs {
    /// Whether a program of this variant belongs to the chosen path.
    /// The catch-all is listed even when [`ModuleWatch::Off`], so that reports show the module
    /// detection as off and why.
    pub fn selects(self, variant: Variant, modules: ModuleWatch) -> bool {
        match variant {
            Variant::Always => true,
            Variant::SavedRegs => self == SyscallArgs::SavedRegs,
            Variant::Paired => self == SyscallArgs::Paired,
            Variant::ModuleTracepoint => modules == ModuleWatch::Tracepoints,
            Variant::RawSyscall => modules != ModuleWatch::Tracepoints,
        }
    }
}

const PROCESS: &[&str] = &[
    "process execution (every exec-based rule: shells, miners, package managers, attack tools)",
    "binary drift detection and blocking",
];
const FORK: &[&str] = &[
    "process tree (parent names, proc.aname)",
    "namespace creation via clone",
];
const EXIT: &[&str] =
    &["process table cleanup (memory stays bounded only by periodic /proc rescans)"];
const CLONE_FLAGS: &[&str] = &["namespace creation via clone flags"];
const OPEN: &[&str] = &[
    "writes below binary and /etc directories",
    "reads of /etc/shadow, kubeconfig, service account tokens",
];
const CONNECT: &[&str] = &[
    "reverse shell",
    "mining-pool connections",
    "cloud metadata (IMDS) access",
    "Kubernetes API access from a container",
];
const ACCEPT: &[&str] = &["inbound connections (SSH server in a container)"];
const LISTEN: &[&str] = &["listening sockets (SSH server in a container)"];
const DUP: &[&str] = &["reverse shell (socket duplicated onto stdin/stdout/stderr)"];
const PTRACE: &[&str] = &["ptrace attach"];
const SETID: &[&str] = &["privilege changes (setuid family)"];
const CAPSET: &[&str] = &["capability changes"];
const MODULE: &[&str] = &["kernel module load"];
const MEMFD: &[&str] = &["fileless execution (memfd_create)"];
const MOUNT: &[&str] = &["mounts from a container (escape attempts)"];
const NAMESPACES: &[&str] = &["namespace creation or nsenter from a container"];
const TAMPER: &[&str] = &["history cleared, system logs removed, timestamps tampered"];
const BPF: &[&str] = &["bpf() use from a container"];

macro_rules! tp {
    ($program:literal, $name:literal, $detections:expr) => {
        ProbeSpec {
            program: $program,
            kind: AttachKind::TracePoint,
            category: "syscalls",
            tracepoint: $name,
            detections: $detections,
            variant: Variant::Always,
        }
    };
    ($program:literal, $name:literal, $detections:expr, $variant:ident) => {
        ProbeSpec {
            program: $program,
            kind: AttachKind::TracePoint,
            category: "syscalls",
            tracepoint: $name,
            detections: $detections,
            variant: Variant::$variant,
        }
    };
}

/// Every program, in the order the loader attaches them.
pub const PROBES: &[ProbeSpec] = &[
    ProbeSpec {
        program: "handle_exec",
        kind: AttachKind::RawTracePoint,
        category: "sched",
        tracepoint: "sched_process_exec",
        detections: PROCESS,
        variant: Variant::Always,
    },
    ProbeSpec {
        program: "handle_fork",
        kind: AttachKind::RawTracePoint,
        category: "sched",
        tracepoint: "sched_process_fork",
        detections: FORK,
        variant: Variant::Always,
    },
    ProbeSpec {
        program: "handle_exit",
        kind: AttachKind::RawTracePoint,
        category: "sched",
        tracepoint: "sched_process_exit",
        detections: EXIT,
        variant: Variant::Always,
    },
    tp!("enter_clone", "sys_enter_clone", CLONE_FLAGS),
    tp!("exit_clone", "sys_exit_clone", CLONE_FLAGS),
    tp!("enter_clone3", "sys_enter_clone3", CLONE_FLAGS),
    tp!("exit_clone3", "sys_exit_clone3", CLONE_FLAGS),
    tp!("regs_exit_openat", "sys_exit_openat", OPEN, SavedRegs),
    tp!("regs_exit_openat2", "sys_exit_openat2", OPEN, SavedRegs),
    tp!("regs_exit_open", "sys_exit_open", OPEN, SavedRegs),
    tp!("regs_exit_creat", "sys_exit_creat", OPEN, SavedRegs),
    tp!("regs_exit_connect", "sys_exit_connect", CONNECT, SavedRegs),
    tp!("enter_openat", "sys_enter_openat", OPEN, Paired),
    tp!("exit_openat", "sys_exit_openat", OPEN, Paired),
    tp!("enter_openat2", "sys_enter_openat2", OPEN, Paired),
    tp!("exit_openat2", "sys_exit_openat2", OPEN, Paired),
    tp!("enter_open", "sys_enter_open", OPEN, Paired),
    tp!("exit_open", "sys_exit_open", OPEN, Paired),
    tp!("enter_creat", "sys_enter_creat", OPEN, Paired),
    tp!("exit_creat", "sys_exit_creat", OPEN, Paired),
    tp!("enter_connect", "sys_enter_connect", CONNECT, Paired),
    tp!("exit_connect", "sys_exit_connect", CONNECT, Paired),
    tp!("exit_accept4", "sys_exit_accept4", ACCEPT),
    tp!("exit_accept", "sys_exit_accept", ACCEPT),
    tp!("enter_bind", "sys_enter_bind", LISTEN),
    tp!("enter_listen", "sys_enter_listen", LISTEN),
    tp!("enter_dup", "sys_enter_dup", DUP),
    tp!("exit_dup", "sys_exit_dup", DUP),
    tp!("enter_dup2", "sys_enter_dup2", DUP),
    tp!("enter_dup3", "sys_enter_dup3", DUP),
    tp!("enter_ptrace", "sys_enter_ptrace", PTRACE),
    tp!("enter_setuid", "sys_enter_setuid", SETID),
    tp!("enter_setreuid", "sys_enter_setreuid", SETID),
    tp!("enter_setresuid", "sys_enter_setresuid", SETID),
    tp!("enter_setfsuid", "sys_enter_setfsuid", SETID),
    tp!("enter_setgid", "sys_enter_setgid", SETID),
    tp!("enter_setregid", "sys_enter_setregid", SETID),
    tp!("enter_setresgid", "sys_enter_setresgid", SETID),
    tp!("enter_setfsgid", "sys_enter_setfsgid", SETID),
    tp!("enter_capset", "sys_enter_capset", CAPSET),
    ProbeSpec {
        program: "enter_raw_syscall",
        kind: AttachKind::RawTracePoint,
        category: "raw_syscalls",
        tracepoint: "sys_enter",
        detections: MODULE,
        variant: Variant::RawSyscall,
    },
    tp!(
        "enter_init_module",
        "sys_enter_init_module",
        MODULE,
        ModuleTracepoint
    ),
    tp!(
        "enter_finit_module",
        "sys_enter_finit_module",
        MODULE,
        ModuleTracepoint
    ),
    tp!("enter_memfd_create", "sys_enter_memfd_create", MEMFD),
    tp!("enter_mount", "sys_enter_mount", MOUNT),
    tp!("enter_umount", "sys_enter_umount", MOUNT),
    tp!("enter_unshare", "sys_enter_unshare", NAMESPACES),
    tp!("enter_setns", "sys_enter_setns", NAMESPACES),
    tp!("enter_unlink", "sys_enter_unlink", TAMPER),
    tp!("enter_unlinkat", "sys_enter_unlinkat", TAMPER),
    tp!("enter_rename", "sys_enter_rename", TAMPER),
    tp!("enter_renameat", "sys_enter_renameat", TAMPER),
    tp!("enter_renameat2", "sys_enter_renameat2", TAMPER),
    tp!("enter_truncate", "sys_enter_truncate", TAMPER),
    tp!("enter_utimensat", "sys_enter_utimensat", TAMPER),
    tp!("enter_bpf", "sys_enter_bpf", BPF),
];

/// The state of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeState {
    /// Loaded and attached (loader report).
    Attached,
    /// The tracepoint exists (check report, nothing loaded).
    Available,
    /// The tracepoint does not exist on this kernel.
    Missing,
    /// Could not be checked or loaded; the reason (verifier message, tracefs absent...).
    Failed(String),
    /// Deliberately not attached; the reason.
    Off(&'static str),
}

impl ProbeState {
    pub fn is_usable(&self) -> bool {
        matches!(self, ProbeState::Attached | ProbeState::Available)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    pub program: &'static str,
    /// `category/name`.
    pub attach_point: String,
    pub state: ProbeState,
    pub detections: &'static [&'static str],
}

/// A yes/no capability with the evidence behind the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    pub present: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelReport {
    /// `uname -r`.
    pub release: String,
    /// Whether this palisade binary carries its eBPF programs (built with clang).
    pub programs_embedded: bool,
    pub btf: Capability,
    pub tracefs: Capability,
    pub ring_buffer: Capability,
    pub send_signal: Capability,
    /// bpf_loop (5.17+): the exec program walks the executable's path with it.
    pub bpf_loop: Capability,
    /// bpf_task_pt_regs (5.15+): lets the open and connect programs run at syscall exit only.
    pub task_pt_regs: Capability,
    /// Which open/connect programs are (or would be) attached.
    pub syscall_args: SyscallArgs,
    /// The programs of the chosen variants (see [`SyscallArgs::selects`]), in attach order.
    pub probes: Vec<ProbeReport>,
}

impl KernelReport {
    /// Detections that lose at least one probe, with the probes they miss.
    pub fn degraded(&self) -> Vec<(&'static str, Vec<&'static str>)> {
        let mut degraded: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
        for probe in self.probes.iter().filter(|p| !p.state.is_usable()) {
            for &detection in probe.detections {
                match degraded.iter_mut().find(|(name, _)| *name == detection) {
                    Some((_, programs)) => programs.push(probe.program),
                    None => degraded.push((detection, vec![probe.program])),
                }
            }
        }
        degraded
    }

    /// Why one of `programs` was left off on purpose ([`ProbeState::Off`]), if one was.
    pub fn off_reason(&self, programs: &[&str]) -> Option<&'static str> {
        self.probes.iter().find_map(|p| match p.state {
            ProbeState::Off(reason) if programs.contains(&p.program) => Some(reason),
            _ => None,
        })
    }

    /// Whether the sensor can run at all: programs embedded, BTF for CO-RE, ring buffers, and
    /// the exec probe (without which nothing is attributed).
    pub fn usable(&self) -> bool {
        self.programs_embedded
            && self.btf.present
            && self.ring_buffer.present
            && self.bpf_loop.present
            && self
                .probes
                .iter()
                .any(|p| p.program == "handle_exec" && p.state.is_usable())
    }
}

fn mark(present: bool) -> &'static str {
    if present { "ok  " } else { "MISS" }
}

impl fmt::Display for KernelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "kernel {}", self.release)?;
        let programs = Capability {
            present: self.programs_embedded,
            detail: if self.programs_embedded {
                "embedded in this binary".into()
            } else {
                "this palisade was built without clang: install clang and libbpf-dev and rebuild"
                    .into()
            },
        };
        for (name, capability) in [
            ("eBPF programs", &programs),
            ("BTF", &self.btf),
            ("tracefs", &self.tracefs),
            ("ring buffer", &self.ring_buffer),
            ("bpf_send_signal", &self.send_signal),
            ("bpf_loop", &self.bpf_loop),
            ("bpf_task_pt_regs", &self.task_pt_regs),
        ] {
            writeln!(
                f,
                "  [{}] {name:<16} {}",
                mark(capability.present),
                capability.detail
            )?;
        }
        writeln!(
            f,
            "open/connect arguments: {}",
            match self.syscall_args {
                SyscallArgs::SavedRegs =>
                    "read at syscall exit from the task's saved registers (one program per syscall)",
                SyscallArgs::Paired =>
                    "read at syscall entry and paired with the exit through a per-thread map (slower)",
            }
        )?;
        writeln!(f, "probes:")?;
        for probe in &self.probes {
            let state = match &probe.state {
                ProbeState::Attached => "attached".to_string(),
                ProbeState::Available => "available".to_string(),
                ProbeState::Missing => "missing".to_string(),
                ProbeState::Failed(reason) => format!("failed: {reason}"),
                ProbeState::Off(_) => "off (see below)".to_string(),
            };
            writeln!(
                f,
                "  [{}] {:<20} {:<36} {state}",
                mark(probe.state.is_usable()),
                probe.program,
                probe.attach_point
            )?;
        }
        let degraded = self.degraded();
        if degraded.is_empty() {
            writeln!(f, "no detection is degraded")?;
        } else {
            writeln!(f, "degraded detections:")?;
            for (detection, programs) in degraded {
                match self.off_reason(&programs) {
                    Some(reason) => writeln!(f, "  - {detection}: {reason}")?,
                    None => writeln!(f, "  - {detection} (missing {})", programs.join(", "))?,
                }
            }
        }
        if !self.send_signal.present {
            writeln!(f, "  - binary drift blocking (bpf_send_signal unavailable)")?;
        }
        write!(
            f,
            "verdict: {}",
            if self.usable() {
                "the sensor can run"
            } else {
                "the sensor cannot run on this kernel"
            }
        )
    }
}

/// Where tracefs is mounted, if it is.
pub fn tracefs_mount() -> Option<PathBuf> {
    ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.join("events").is_dir())
}

/// Mounts tracefs on /sys/kernel/tracing when no tracefs is mounted (it is not by default on
/// some hosts and aya attaches tracepoints through it). Returns where it is mounted.
pub fn ensure_tracefs() -> Result<PathBuf, String> {
    if let Some(path) = tracefs_mount() {
        return Ok(path);
    }
    // tracefs directories are root-only: for anyone else "not mounted" would be a wrong guess.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("tracefs cannot be inspected or mounted without root".to_string());
    }
    let target = Path::new("/sys/kernel/tracing");
    // SAFETY: all pointers are valid NUL-terminated C strings for the duration of the call.
    let rc = unsafe {
        libc::mount(
            c"tracefs".as_ptr(),
            c"/sys/kernel/tracing".as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "tracefs is not mounted and mounting it on {} failed: {}",
            target.display(),
            std::io::Error::last_os_error()
        ));
    }
    tracefs_mount().ok_or_else(|| format!("tracefs mounted on {} has no events/", target.display()))
}

/// The kernel release from uname(2).
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// `major.minor` of a release string like "6.18.0-1-amd64".
fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn since(release: &str, needed: (u32, u32), what: &str) -> Capability {
    match kernel_version(release) {
        Some(version) => Capability {
            present: version >= needed,
            detail: format!(
                "{what} needs Linux {}.{}+, this is {}.{}",
                needed.0, needed.1, version.0, version.1
            ),
        },
        None => Capability {
            present: false,
            detail: format!("cannot parse kernel release {release:?}"),
        },
    }
}

/// Whether `events/<category>/<tracepoint>` exists under the tracefs mount `root`.
pub fn tracepoint_exists(root: &Path, spec: &ProbeSpec) -> bool {
    root.join("events")
        .join(spec.category)
        .join(spec.tracepoint)
        .is_dir()
}

/// Whether both module syscalls have tracepoints of their own, so that the raw_syscalls program
/// (which would run on every syscall of the node) is not needed.
pub fn module_tracepoints(root: &Path) -> bool {
    PROBES
        .iter()
        .filter(|spec| spec.variant == Variant::ModuleTracepoint)
        .all(|spec| tracepoint_exists(root, spec))
}

/// Checks the kernel without loading any program. Mounts tracefs when it is missing (as the
/// sensor would) so that the tracepoints can be listed.
pub fn check_kernel(module_attempts: ModuleLoadAttempts) -> KernelReport {
    let release = kernel_release();
    let btf_path = Path::new("/sys/kernel/btf/vmlinux");
    let btf = Capability {
        present: btf_path.is_file(),
        detail: if btf_path.is_file() {
            format!("{} (CO-RE relocations)", btf_path.display())
        } else {
            "no /sys/kernel/btf/vmlinux: the kernel lacks CONFIG_DEBUG_INFO_BTF, CO-RE programs cannot load"
                .to_string()
        },
    };
    let tracefs_result = ensure_tracefs();
    let tracefs = match &tracefs_result {
        Ok(path) => Capability {
            present: true,
            detail: path.display().to_string(),
        },
        Err(reason) => Capability {
            present: false,
            detail: reason.clone(),
        },
    };
    let task_pt_regs = since(&release, (5, 15), "bpf_task_pt_regs");
    let syscall_args = if task_pt_regs.present {
        SyscallArgs::SavedRegs
    } else {
        SyscallArgs::Paired
    };
    let modules = ModuleWatch::detect(tracefs_result.as_deref().ok(), module_attempts);
    let probes = PROBES
        .iter()
        .filter(|spec| syscall_args.selects(spec.variant, modules))
        .map(|spec| ProbeReport {
            program: spec.program,
            attach_point: format!("{}/{}", spec.category, spec.tracepoint),
            state: match (modules.leaves_off(spec), &tracefs_result) {
                (Some(reason), _) => ProbeState::Off(reason),
                (None, Ok(root)) if tracepoint_exists(root, spec) => ProbeState::Available,
                (None, Ok(_)) => ProbeState::Missing,
                (None, Err(reason)) => ProbeState::Failed(reason.clone()),
            },
            detections: spec.detections,
        })
        .collect();
    KernelReport {
        programs_embedded: crate::bpf::programs_embedded(),
        btf,
        tracefs,
        ring_buffer: since(&release, (5, 8), "BPF_MAP_TYPE_RINGBUF"),
        send_signal: since(&release, (5, 3), "bpf_send_signal"),
        bpf_loop: since(&release, (5, 17), "bpf_loop"),
        task_pt_regs,
        syscall_args,
        release,
        probes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(states: &[(&'static str, ProbeState)]) -> KernelReport {
        let yes = Capability {
            present: true,
            detail: String::new(),
        };
        KernelReport {
            release: "6.18.0".into(),
            programs_embedded: true,
            btf: yes.clone(),
            tracefs: yes.clone(),
            ring_buffer: yes.clone(),
            send_signal: yes.clone(),
            bpf_loop: yes.clone(),
            task_pt_regs: yes,
            syscall_args: SyscallArgs::SavedRegs,
            probes: PROBES
                .iter()
                .filter(|spec| {
                    SyscallArgs::SavedRegs.selects(spec.variant, ModuleWatch::RawSyscall)
                })
                .map(|spec| ProbeReport {
                    program: spec.program,
                    attach_point: format!("{}/{}", spec.category, spec.tracepoint),
                    state: states
                        .iter()
                        .find(|(name, _)| *name == spec.program)
                        .map(|(_, state)| state.clone())
                        .unwrap_or(ProbeState::Attached),
                    detections: spec.detections,
                })
                .collect(),
        }
    }

    #[test]
    fn missing_probe_degrades_its_detections() {
        let report = report(&[("enter_raw_syscall", ProbeState::Missing)]);
        let degraded = report.degraded();
        assert_eq!(
            degraded,
            vec![("kernel module load", vec!["enter_raw_syscall"])]
        );
        assert!(report.usable());
        let text = report.to_string();
        assert!(text.contains("degraded detections:"), "{text}");
        assert!(
            text.contains("kernel module load (missing enter_raw_syscall)"),
            "{text}"
        );
    }

    #[test]
    fn module_watch_costs_every_syscall_only_where_a_load_can_succeed_or_when_asked() {
        use ModuleLoadAttempts::{Always, Auto};
        assert_eq!(
            ModuleWatch::choose(true, true, Auto),
            ModuleWatch::Tracepoints
        );
        assert_eq!(
            ModuleWatch::choose(true, false, Always),
            ModuleWatch::Tracepoints
        );
        assert_eq!(
            ModuleWatch::choose(false, true, Auto),
            ModuleWatch::RawSyscall
        );
        assert_eq!(
            ModuleWatch::choose(false, false, Always),
            ModuleWatch::RawSyscall
        );
        assert_eq!(ModuleWatch::choose(false, false, Auto), ModuleWatch::Off);
    }

    #[test]
    fn module_watch_off_is_reported_with_its_reason() {
        let report = report(&[("enter_raw_syscall", ProbeState::Off(MODULE_WATCH_OFF))]);
        assert_eq!(
            report.degraded(),
            vec![("kernel module load", vec!["enter_raw_syscall"])]
        );
        assert!(report.usable());
        let text = report.to_string();
        assert!(text.contains("off (see below)"), "{text}");
        assert!(
            text.contains("kernel module load: not watched: this kernel has no module support"),
            "{text}"
        );
    }

    #[test]
    fn missing_exec_probe_makes_the_sensor_unusable() {
        let report = report(&[("handle_exec", ProbeState::Failed("verifier".into()))]);
        assert!(!report.usable());
        assert!(report.to_string().contains("cannot run"));
    }

    #[test]
    fn each_path_attaches_one_program_per_tracepoint() {
        for args in [SyscallArgs::SavedRegs, SyscallArgs::Paired] {
            for modules in [
                ModuleWatch::Tracepoints,
                ModuleWatch::RawSyscall,
                ModuleWatch::Off,
            ] {
                let chosen: Vec<&ProbeSpec> = PROBES
                    .iter()
                    .filter(|spec| args.selects(spec.variant, modules))
                    .collect();
                for (index, spec) in chosen.iter().enumerate() {
                    assert!(
                        chosen.iter().skip(index + 1).all(|other| (
                            other.category,
                            other.tracepoint
                        ) != (
                            spec.category,
                            spec.tracepoint
                        )),
                        "{args:?}: {}/{} twice",
                        spec.category,
                        spec.tracepoint
                    );
                }
                let opens = chosen
                    .iter()
                    .filter(|spec| spec.tracepoint == "sys_exit_openat")
                    .count();
                assert_eq!(opens, 1, "{args:?}");
                // The saved-registers path needs no entry tracepoint for open and connect.
                let entries = chosen
                    .iter()
                    .any(|spec| spec.tracepoint == "sys_enter_openat");
                assert_eq!(entries, args == SyscallArgs::Paired);
                let raw = chosen.iter().any(|spec| spec.category == "raw_syscalls");
                assert_eq!(raw, modules != ModuleWatch::Tracepoints);
            }
        }
    }

    #[test]
    fn every_program_name_is_unique() {
        for (index, spec) in PROBES.iter().enumerate() {
            assert!(
                PROBES
                    .iter()
                    .skip(index + 1)
                    .all(|other| other.program != spec.program),
                "{} twice",
                spec.program
            );
        }
    }

    #[test]
    fn parses_kernel_versions() {
        assert_eq!(kernel_version("6.18.0-1-amd64"), Some((6, 18)));
        assert_eq!(kernel_version("5.4"), Some((5, 4)));
        assert_eq!(kernel_version("garbage"), None);
        assert!(!since("5.4.0", (5, 8), "x").present);
        assert!(since("6.1.0", (5, 8), "x").present);
    }
}
