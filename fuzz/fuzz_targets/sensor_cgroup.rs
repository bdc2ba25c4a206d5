//! Any bytes as the attribution inputs that come from outside the sensor: a
//! `/proc/<pid>/cgroup` file and a bare cgroup path, `/proc/<pid>/{stat,status,cmdline}`, a CRI
//! gRPC response body and a pod list. None may panic; a recognised container must carry an ID
//! that is non-empty and made of the characters runtimes allow.
//! Run: `cargo fuzz run sensor_cgroup` (needs `palisade-sensor` among fuzz/Cargo.toml's
//! dependencies and a `[[bin]] name = "sensor_cgroup"` entry).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sensor::cgroup::CgroupRules;
use palisade_sensor::model::Runtime;
use palisade_sensor::{cri, pods, procfs};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let rules = CgroupRules::default().with_runc_parent("/palisade-test");
    for found in [rules.from_proc_cgroup(&text), rules.parse_path(&text)]
        .into_iter()
        .flatten()
    {
        assert!(!found.id.is_empty());
        assert!(
            found
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'))
        );
        let _ = found.to_container_info();
    }
    let _ = procfs::parse_stat(&text);
    let _ = procfs::parse_status_ids(&text);
    let _ = procfs::parse_cmdline(data);
    let _ = cri::decode_list_containers(Runtime::Containerd, data);
    let _ = pods::parse_pod_list_json(data);
});
