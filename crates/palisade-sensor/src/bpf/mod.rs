//! The sensor's kernel side seen from userspace: the embedded eBPF object, its loader, and the
//! decoding of the records it reports.

pub mod loader;
pub mod wire;

pub use loader::{BpfError, ProbeOptions, Probes};
pub use wire::{WireError, decode, drift_path_hash};

/// The object build.rs compiled from `bpf/sensor.bpf.c`; empty when clang was missing.
pub(crate) static OBJECT: &[u8] =
    aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/sensor.bpf.o"));

/// Whether this binary was built with its eBPF programs.
pub fn programs_embedded() -> bool {
    !OBJECT.is_empty()
}
