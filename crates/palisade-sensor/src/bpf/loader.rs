//! Loads the embedded eBPF object with aya, fills its filter maps, attaches every program it can,
//! and drains the ring buffer.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use aya::maps::lpm_trie::{Key as LpmKey, LpmTrie};
use aya::maps::{HashMap as BpfHashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::{RawTracePoint, TracePoint};
use aya::{Ebpf, EbpfLoader, Pod};

use super::wire;
use crate::event::SyscallEvent;
use crate::kernel::{
    self, AttachKind, KernelReport, ModuleLoadAttempts, ModuleWatch, PROBES, ProbeReport,
    ProbeState, SyscallArgs, Variant,
};

/// Size of the path field of the kernel's LPM keys (`PATH_MAX_WIRE`).
const PATH_KEY_LEN: usize = 256;
/// Entries of ignore_pids in sensor.bpf.c.
const IGNORE_PIDS_MAX: usize = 64;
/// How long `poll` sleeps between ring checks: the programs never wake us per event, so this
/// bounds the latency of an alert (and the reader's wakeups to 100/s when idle).
const POLL_STEP: Duration = Duration::from_millis(10);

#[derive(Debug, thiserror::Error)]
pub enum BpfError {
    #[error("this palisade was built without clang: install clang and libbpf-dev and rebuild")]
    NotBuilt,
    #[error("loading the eBPF object failed: {0}")]
    Load(String),
    #[error("eBPF map `{0}` is missing from the object")]
    MissingMap(&'static str),
    #[error("eBPF map `{map}`: {message}")]
    Map { map: &'static str, message: String },
    #[error("no eBPF program could be attached:\n{0}")]
    NothingAttached(Box<KernelReport>),
    #[error("invalid probe option: {0}")]
    Option(String),
    #[error("polling the ring buffer: {0}")]
    Poll(std::io::Error),
}

/// What the kernel programs filter on, and how large their ring buffer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Reads (opens without write flags) are reported only below these prefixes. A prefix not
    /// starting with '/' matches relative paths that start with it. Matching is by prefix only
    /// (an LPM trie in the kernel): `/home/*/.ssh` cannot be expressed, which is why the default
    /// leaves `/home` out rather than report every read below it.
    pub read_prefixes: Vec<String>,
    /// unlink/rename/truncate/utimensat are reported only below these prefixes.
    pub watched_prefixes: Vec<String>,
    /// Processes whose events the kernel drops (the sensor's own PID is always added).
    pub ignore_pids: Vec<u32>,
    /// Ring buffer size in bytes, rounded up to a power of two (at least one page).
    pub ring_bytes: u32,
    /// Use the entry/exit pairing for open and connect even where the exit-only programs work:
    /// they cost twice the program runs, so this is for testing the fallback (and a way out
    /// should the exit-only path misbehave on some kernel).
    pub paired_syscall_args: bool,
    /// Whether module-load attempts are watched where no load can succeed.
    pub module_load_attempts: ModuleLoadAttempts,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        ProbeOptions {
            read_prefixes: strings(&[
                "/etc/shadow",
                "/etc/gshadow",
                "/etc/sudoers",
                "/etc/ssh/",
                "/etc/kubernetes/",
                "/etc/pam.",
                "/root/.ssh/",
                "/root/.kube/",
                "/root/.aws/",
                "/root/.docker/config.json",
                "/var/run/secrets/",
                "/run/secrets/",
                "/var/lib/kubelet/",
            ]),
            watched_prefixes: strings(&[
                "/var/log/",
                "/var/adm/",
                "/root/.bash_history",
                "/root/.ash_history",
                "/root/.zsh_history",
                "/root/.sh_history",
                ".bash_history",
                ".ash_history",
                ".zsh_history",
                ".sh_history",
            ]),
            ignore_pids: Vec::new(),
            ring_bytes: 16 * 1024 * 1024,
            paired_syscall_args: false,
            module_load_attempts: ModuleLoadAttempts::Auto,
        }
    }
}

/// The kernel's `struct drift_allow_key`.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct DriftAllowKey {
    mnt_ns: u64,
    path_hash: u64,
}

// SAFETY: two u64 fields, no padding, any bit pattern valid.
unsafe impl Pod for DriftAllowKey {}

/// Loaded and attached programs plus the ring buffer they write to. Dropping it detaches all.
pub struct Probes {
    ebpf: Ebpf,
    ring: RingBuf<MapData>,
    decode_errors: u64,
    /// Allowed exe paths per policy key, to remove them from the kernel map on change.
    allowed: std::collections::HashMap<u64, Vec<u64>>,
}

fn map_error(map: &'static str) -> impl Fn(aya::maps::MapError) -> BpfError {
    move |error| BpfError::Map {
        map,
        message: error.to_string(),
    }
}

fn path_key(prefix: &str) -> Result<LpmKey<[u8; PATH_KEY_LEN]>, BpfError> {
    let bytes = prefix.as_bytes();
    if bytes.is_empty() || bytes.len() >= PATH_KEY_LEN || bytes.contains(&0) {
        return Err(BpfError::Option(format!(
            "path prefix {prefix:?} must be 1 to {} bytes without NUL",
            PATH_KEY_LEN - 1
        )));
    }
    let mut data = [0u8; PATH_KEY_LEN];
    data.get_mut(..bytes.len())
        .ok_or_else(|| BpfError::Option(format!("path prefix {prefix:?} too long")))?
        .copy_from_slice(bytes);
    // The length was checked above to be below 256, so the bit count fits in u32.
    let bits = u32::try_from(bytes.len() * 8).map_err(|e| BpfError::Option(e.to_string()))?;
    Ok(LpmKey::new(bits, data))
}

fn fill_prefixes(ebpf: &mut Ebpf, map: &'static str, prefixes: &[String]) -> Result<(), BpfError> {
    let mut trie: LpmTrie<_, [u8; PATH_KEY_LEN], u8> =
        LpmTrie::try_from(ebpf.map_mut(map).ok_or(BpfError::MissingMap(map))?)
            .map_err(map_error(map))?;
    for prefix in prefixes {
        trie.insert(&path_key(prefix)?, 1, 0)
            .map_err(map_error(map))?;
    }
    Ok(())
}

/// Buckets of the kernel's `read_leads` bitmap (`READ_LEAD_BITS`).
const READ_LEAD_BITS: usize = 65536;

/// The `read_leads` bucket of a path whose first four bytes are `lead`, as `read_lead_may_match`
/// computes it: bytes after the first NUL masked off, then a multiplicative hash to 16 bits.
fn read_lead_bucket(lead: [u8; 4]) -> usize {
    let mut masked = [0u8; 4];
    for (out, byte) in masked.iter_mut().zip(lead.iter().take_while(|&&b| b != 0)) {
        *out = *byte;
    }
    (u32::from_ne_bytes(masked).wrapping_mul(2_654_435_761) >> 16) as usize
}

/// The `read_leads` bitmap for `prefixes`: the bucket of every four-byte lead a path under one of
/// them can start with. A prefix of three bytes can be followed by any byte (or end), one of two
/// bytes or fewer leaves nothing to filter on and sets every bucket.
fn read_lead_bitmap(prefixes: &[String]) -> Vec<u64> {
    let mut bitmap = vec![0u64; READ_LEAD_BITS / 64];
    let mut set = |bucket: usize| {
        if let Some(word) = bitmap.get_mut(bucket / 64) {
            *word |= 1 << (bucket % 64);
        }
    };
    for prefix in prefixes {
        match *prefix.as_bytes() {
            [a, b, c, d, ..] => set(read_lead_bucket([a, b, c, d])),
            [a, b, c] => (0..=u8::MAX).for_each(|d| set(read_lead_bucket([a, b, c, d]))),
            _ => (0..READ_LEAD_BITS).for_each(&mut set),
        }
    }
    bitmap
}

fn fill_read_leads(ebpf: &mut Ebpf, prefixes: &[String]) -> Result<(), BpfError> {
    const MAP: &str = "read_leads";
    let mut array: aya::maps::Array<_, u64> =
        aya::maps::Array::try_from(ebpf.map_mut(MAP).ok_or(BpfError::MissingMap(MAP))?)
            .map_err(map_error(MAP))?;
    for (index, word) in read_lead_bitmap(prefixes).into_iter().enumerate() {
        if word != 0 {
            let index = u32::try_from(index).map_err(|e| BpfError::Option(e.to_string()))?;
            array.set(index, word, 0).map_err(map_error(MAP))?;
        }
    }
    Ok(())
}

/// The verifier log is long; the report keeps its last meaningful lines.
fn short_reason(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines.len().saturating_sub(3);
    lines.get(tail..).unwrap_or_default().join(" | ")
}

fn attach(
    ebpf: &mut Ebpf,
    spec: &kernel::ProbeSpec,
    tracefs: &Result<std::path::PathBuf, String>,
) -> ProbeState {
    if let Ok(root) = tracefs
        && !kernel::tracepoint_exists(root, spec)
    {
        return ProbeState::Missing;
    }
    let Some(program) = ebpf.program_mut(spec.program) else {
        return ProbeState::Failed("program missing from the object".into());
    };
    // The saved-registers probe (see `syscall_args`) may have loaded it already.
    let loaded = program.fd().is_ok();
    let result: Result<(), Box<dyn std::error::Error>> = match spec.kind {
        AttachKind::TracePoint => match <&mut TracePoint>::try_from(program) {
            Ok(tp) => (if loaded { Ok(()) } else { tp.load() })
                .and_then(|()| tp.attach(spec.category, spec.tracepoint).map(|_| ()))
                .map_err(|e| e.into()),
            Err(e) => Err(e.into()),
        },
        AttachKind::RawTracePoint => match <&mut RawTracePoint>::try_from(program) {
            Ok(tp) => (if loaded { Ok(()) } else { tp.load() })
                .and_then(|()| tp.attach(spec.tracepoint).map(|_| ()))
                .map_err(|e| e.into()),
            Err(e) => Err(e.into()),
        },
    };
    match result {
        Ok(()) => ProbeState::Attached,
        Err(error) => ProbeState::Failed(short_reason(error.as_ref())),
    }
}

/// Confirms the exit-only open/connect programs pass the verifier on this kernel (the version
/// check in `check_kernel` cannot see a backported or disabled helper) by loading one of them;
/// falls back to the entry/exit pairing, and says why in the report, when it does not.
fn syscall_args(
    ebpf: &mut Ebpf,
    wanted: SyscallArgs,
    capability: &mut kernel::Capability,
) -> SyscallArgs {
    if wanted != SyscallArgs::SavedRegs {
        return wanted;
    }
    let Some(spec) = PROBES
        .iter()
        .find(|spec| spec.variant == Variant::SavedRegs)
    else {
        return SyscallArgs::Paired;
    };
    let loaded = match ebpf.program_mut(spec.program) {
        Some(program) => match <&mut TracePoint>::try_from(program) {
            Ok(tp) => tp.load().map_err(|e| short_reason(&e)),
            Err(e) => Err(short_reason(&e)),
        },
        None => Err("program missing from the object".to_string()),
    };
    match loaded {
        Ok(()) => SyscallArgs::SavedRegs,
        Err(reason) => {
            capability.present = false;
            capability.detail = format!(
                "{} refused ({reason}): open/connect use entry/exit pairing",
                spec.program
            );
            SyscallArgs::Paired
        }
    }
}

impl Probes {
    /// Mounts tracefs when missing, loads, attaches every program it can; a missing tracepoint
    /// degrades (listed in the report), never fails the load.
    pub fn load(options: &ProbeOptions) -> Result<(Probes, KernelReport), BpfError> {
        if !super::programs_embedded() {
            return Err(BpfError::NotBuilt);
        }
        let mut report = kernel::check_kernel(options.module_load_attempts);
        let tracefs = kernel::ensure_tracefs();

        let ring_bytes = options
            .ring_bytes
            .max(4096)
            .checked_next_power_of_two()
            .ok_or_else(|| {
                BpfError::Option(format!("ring_bytes {} too large", options.ring_bytes))
            })?;
        let ring_half = u64::from(ring_bytes / 2);
        let own_tgid = std::process::id();
        let other_ignored = u32::from(options.ignore_pids.iter().any(|&p| p != own_tgid));
        let mut ebpf = EbpfLoader::new()
            .map_max_entries("events", ring_bytes)
            .override_global("ring_half", &ring_half, true)
            .override_global("own_tgid", &own_tgid, true)
            .override_global("other_ignored", &other_ignored, true)
            .load(super::OBJECT)
            .map_err(|e| BpfError::Load(short_reason(&e)))?;

        // Filters go in before any program runs so that the first events are already filtered
        // and the sensor's own map updates are not reported.
        {
            let mut ignore: BpfHashMap<_, u32, u8> = BpfHashMap::try_from(
                ebpf.map_mut("ignore_pids")
                    .ok_or(BpfError::MissingMap("ignore_pids"))?,
            )
            .map_err(map_error("ignore_pids"))?;
            let own = std::process::id();
            let pids: Vec<u32> = std::iter::once(own)
                .chain(options.ignore_pids.iter().copied().filter(|&p| p != own))
                .collect();
            if pids.len() > IGNORE_PIDS_MAX {
                return Err(BpfError::Option(format!(
                    "at most {} ignored pids, got {}",
                    IGNORE_PIDS_MAX - 1,
                    options.ignore_pids.len()
                )));
            }
            for pid in pids {
                ignore.insert(pid, 1, 0).map_err(map_error("ignore_pids"))?;
            }
        }
        fill_prefixes(&mut ebpf, "read_prefixes", &options.read_prefixes)?;
        fill_read_leads(&mut ebpf, &options.read_prefixes)?;
        fill_prefixes(&mut ebpf, "watched_prefixes", &options.watched_prefixes)?;

        let wanted = if options.paired_syscall_args {
            SyscallArgs::Paired
        } else {
            report.syscall_args
        };
        report.syscall_args = syscall_args(&mut ebpf, wanted, &mut report.task_pt_regs);
        let modules = ModuleWatch::detect(tracefs.as_deref().ok(), options.module_load_attempts);
        let chosen = report.syscall_args;
        report.probes = PROBES
            .iter()
            .filter(|spec| chosen.selects(spec.variant, modules))
            .map(|spec| ProbeReport {
                program: spec.program,
                attach_point: format!("{}/{}", spec.category, spec.tracepoint),
                state: match modules.leaves_off(spec) {
                    Some(reason) => ProbeState::Off(reason),
                    None => attach(&mut ebpf, spec, &tracefs),
                },
                detections: spec.detections,
            })
            .collect();
        if !report
            .probes
            .iter()
            .any(|p| p.state == ProbeState::Attached)
        {
            return Err(BpfError::NothingAttached(Box::new(report)));
        }

        let ring_map = ebpf
            .take_map("events")
            .ok_or(BpfError::MissingMap("events"))?;
        let ring = RingBuf::try_from(ring_map).map_err(map_error("events"))?;
        Ok((
            Probes {
                ebpf,
                ring,
                decode_errors: 0,
                allowed: std::collections::HashMap::new(),
            },
            report,
        ))
    }

    fn drain(&mut self, out: &mut Vec<SyscallEvent>) -> usize {
        let mut count = 0;
        while let Some(item) = self.ring.next() {
            match wire::decode(&item) {
                Ok(event) => {
                    out.push(event);
                    count += 1;
                }
                Err(error) => {
                    self.decode_errors += 1;
                    // Sampled: the first and then every 10,000th, so a kernel/userspace layout
                    // mismatch is visible without flooding the log.
                    if self.decode_errors % 10_000 == 1 {
                        eprintln!(
                            "palisade sensor: undecodable ring-buffer record ({} so far): {error}",
                            self.decode_errors
                        );
                    }
                }
            }
        }
        count
    }

    /// Drains the ring buffer (waiting up to `timeout` when empty), decoding into `out`;
    /// malformed records counted, not fatal.
    pub fn poll(
        &mut self,
        timeout: Duration,
        out: &mut Vec<SyscallEvent>,
    ) -> Result<usize, BpfError> {
        let deadline = Instant::now() + timeout;
        loop {
            let count = self.drain(out);
            let now = Instant::now();
            if count > 0 || now >= deadline {
                return Ok(count);
            }
            // poll(2) returns early only on the forced wakeup of a half-full ring; otherwise this
            // is the short sleep between checks.
            let wait = (deadline - now).min(POLL_STEP);
            let mut fd = libc::pollfd {
                fd: self.ring.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let millis = libc::c_int::try_from(wait.as_millis().max(1)).unwrap_or(10);
            // SAFETY: one valid pollfd for the duration of the call.
            let rc = unsafe { libc::poll(&mut fd, 1, millis) };
            if rc < 0 {
                let error = std::io::Error::last_os_error();
                if error.kind() != std::io::ErrorKind::Interrupted {
                    return Err(BpfError::Poll(error));
                }
            }
        }
    }

    /// Records the kernel could not reserve in the ring (it was full), per CPU.
    pub fn drops(&self) -> Result<Vec<u64>, BpfError> {
        let map = self
            .ebpf
            .map("drops")
            .ok_or(BpfError::MissingMap("drops"))?;
        let drops: PerCpuArray<_, u64> = PerCpuArray::try_from(map).map_err(map_error("drops"))?;
        let values = drops.get(&0, 0).map_err(map_error("drops"))?;
        Ok(values.iter().copied().collect())
    }

    /// Records that reached userspace but did not decode.
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    /// Sets the drift policy of the container whose mount namespace inode is `key` (see
    /// `EventDetail::Exec::mnt_ns`): with `block`, drift executables (upper layer, memfd, tmpfs)
    /// are killed at exec unless their path is in `allowed_exepaths`.
    pub fn set_drift_policy(
        &mut self,
        key: u64,
        block: bool,
        allowed_exepaths: &[String],
    ) -> Result<(), BpfError> {
        self.remove_allowed(key)?;
        let hashes: Vec<u64> = allowed_exepaths
            .iter()
            .map(|p| wire::drift_path_hash(p))
            .collect();
        {
            let mut allow: BpfHashMap<_, DriftAllowKey, u8> = BpfHashMap::try_from(
                self.ebpf
                    .map_mut("drift_allow")
                    .ok_or(BpfError::MissingMap("drift_allow"))?,
            )
            .map_err(map_error("drift_allow"))?;
            for &path_hash in &hashes {
                allow
                    .insert(
                        DriftAllowKey {
                            mnt_ns: key,
                            path_hash,
                        },
                        1,
                        0,
                    )
                    .map_err(map_error("drift_allow"))?;
            }
        }
        self.allowed.insert(key, hashes);
        // The policy goes in last so that a blocking policy never runs without its allow-list.
        let mut policy: BpfHashMap<_, u64, u32> = BpfHashMap::try_from(
            self.ebpf
                .map_mut("drift_policy")
                .ok_or(BpfError::MissingMap("drift_policy"))?,
        )
        .map_err(map_error("drift_policy"))?;
        policy
            .insert(key, u32::from(block), 0)
            .map_err(map_error("drift_policy"))
    }

    /// Removes the drift policy and allow-list of `key` (the container is gone).
    pub fn clear_drift_policy(&mut self, key: u64) -> Result<(), BpfError> {
        {
            let mut policy: BpfHashMap<_, u64, u32> = BpfHashMap::try_from(
                self.ebpf
                    .map_mut("drift_policy")
                    .ok_or(BpfError::MissingMap("drift_policy"))?,
            )
            .map_err(map_error("drift_policy"))?;
            match policy.remove(&key) {
                Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
                Err(error) => return Err(map_error("drift_policy")(error)),
            }
        }
        self.remove_allowed(key)
    }

    fn remove_allowed(&mut self, key: u64) -> Result<(), BpfError> {
        let Some(hashes) = self.allowed.remove(&key) else {
            return Ok(());
        };
        let mut allow: BpfHashMap<_, DriftAllowKey, u8> = BpfHashMap::try_from(
            self.ebpf
                .map_mut("drift_allow")
                .ok_or(BpfError::MissingMap("drift_allow"))?,
        )
        .map_err(map_error("drift_allow"))?;
        for path_hash in hashes {
            match allow.remove(&DriftAllowKey {
                mnt_ns: key,
                path_hash,
            }) {
                Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
                Err(error) => return Err(map_error("drift_allow")(error)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_keys_count_bits_and_reject_bad_prefixes() {
        let key = path_key("/etc/shadow").unwrap();
        assert_eq!(key.prefix_len(), 11 * 8);
        assert_eq!(&key.data()[..11], b"/etc/shadow");
        assert_eq!(key.data()[11], 0);
        assert!(path_key("").is_err());
        assert!(path_key(&"a".repeat(256)).is_err());
        assert!(path_key("/a\0b").is_err());
    }

    /// The kernel's view of a path: its first four bytes as read from memory, whatever follows
    /// the string's NUL included (here a junk byte), then its bucket.
    fn kernel_bucket(path: &str) -> usize {
        let mut memory = path.as_bytes().to_vec();
        memory.extend_from_slice(&[0, 0xAA, 0xBB, 0xCC]);
        read_lead_bucket([memory[0], memory[1], memory[2], memory[3]])
    }

    fn passes(bitmap: &[u64], path: &str) -> bool {
        let bucket = kernel_bucket(path);
        bitmap[bucket / 64] & (1 << (bucket % 64)) != 0
    }

    #[test]
    fn read_leads_pass_every_path_under_a_prefix() {
        let prefixes: Vec<String> = ProbeOptions::default()
            .read_prefixes
            .into_iter()
            .chain(["/srv".into(), "abc".into(), ".kube/".into()])
            .collect();
        let bitmap = read_lead_bitmap(&prefixes);
        for path in [
            "/etc/shadow",
            "/etc/ssh/sshd_config",
            "/root/.kube/config",
            "/var/run/secrets/kubernetes.io/serviceaccount/token",
            "/run/secrets/x",
            "/srv",
            "/srv/data",
            "abc",
            "abcdef",
            ".kube/config",
        ] {
            assert!(passes(&bitmap, path), "{path} must reach the prefix trie");
        }
        // What a storm of ordinary reads opens is dropped by the lead alone.
        for path in [
            "/tmp/palisade-storm/file-7",
            "/usr/lib/libc.so.6",
            "/proc/self/stat",
            "ab",
        ] {
            assert!(
                !passes(&bitmap, path),
                "{path} should be dropped by its lead"
            );
        }
        let set: u32 = bitmap.iter().map(|w| w.count_ones()).sum();
        assert!(set < 400, "{set} buckets set: the filter would not filter");
    }

    #[test]
    fn short_read_prefixes_disable_the_lead_filter() {
        let bitmap = read_lead_bitmap(&["/x".to_string()]);
        assert!(bitmap.iter().all(|&w| w == u64::MAX));
        assert!(read_lead_bitmap(&[]).iter().all(|&w| w == 0));
    }

    #[test]
    fn default_options_fit_the_kernel_maps() {
        let options = ProbeOptions::default();
        for prefix in options
            .read_prefixes
            .iter()
            .chain(&options.watched_prefixes)
        {
            assert!(path_key(prefix).is_ok(), "{prefix}");
        }
        assert!(options.read_prefixes.iter().any(|p| p == "/etc/shadow"));
        assert!(options.ring_bytes.is_power_of_two());
    }
}
