//! The node sensor: eBPF programs on tracepoints (C with CO-RE, built by `build.rs`) that report
//! process, file, network and privilege events through one ring buffer; the process table rebuilt
//! from `/proc` and kept by those events; attribution of every process to its container and pod;
//! the syscall fields (`evt.*`, `proc.*`, `fd.*`, `container.*`, `k8s.*`) the rule engine
//! evaluates; the built-in node detections; and binary-drift policy, including blocking at exec.
//!
//! It must not deliver alerts (palisade-alerts does) nor parse rule syntax (palisade-rules does),
//! and it must never read file contents of the processes it watches beyond what attribution needs
//! (`/proc/<pid>/{stat,status,cmdline,cgroup,exe}`, cgroup paths): no Secret or token values.

pub mod bpf;
pub mod cgroup;
pub mod config;
pub mod cri;
pub mod detections;
pub mod drift;
pub mod event;
pub mod fields;
pub mod kernel;
pub mod model;
pub mod pods;
pub mod process_table;
pub mod procfs;
pub mod sensor;
