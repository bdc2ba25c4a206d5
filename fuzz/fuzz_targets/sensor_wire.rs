//! Any bytes as a ring-buffer record of the node sensor's kernel programs: decoding answers an
//! event or a clear error, never panics, whatever the kind, the lengths and the counts inside
//! say. The first byte picks a record kind so that the fuzzer reaches every payload decoder
//! without having to guess the 4-byte kind field. Run: `cargo fuzz run sensor_wire`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sensor::bpf::wire::{HEADER_LEN, decode};

fuzz_target!(|data: &[u8]| {
    let _ = decode(data);
    if let Some((&kind, rest)) = data.split_first() {
        let mut record = rest.to_vec();
        if record.len() < HEADER_LEN {
            record.resize(HEADER_LEN, 0);
        }
        // Kinds 1..=23 exist; 0 and 24 check the unknown-kind path.
        let kind = u32::from(kind % 25);
        record[..4].copy_from_slice(&kind.to_ne_bytes());
        if let Ok(event) = decode(&record) {
            let _ = event.event_type();
        }
    }
});
