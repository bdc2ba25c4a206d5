//! The spool's segment reader on arbitrary bytes (a segment damaged by a crash, a disk error or a
//! hostile local user): it must never panic, never allocate for an absurd length, and every
//! record it returns must re-encode to bytes it reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_alerts::spool::{Decoded, MAX_RECORD, decode_at, decode_segment, encode_record};

fuzz_target!(|data: &[u8]| {
    let scan = decode_segment(data);
    let mut offset = 0;
    for record in &scan.records {
        assert!(record.len() <= MAX_RECORD);
        let encoded = encode_record(record).expect("a decoded record fits");
        assert_eq!(decode_segment(&encoded).records, [*record]);
    }
    // Walking record by record always moves forward and stays inside the input.
    loop {
        match decode_at(data, offset) {
            Decoded::Record { next, .. } | Decoded::Corrupt { next } => {
                assert!(next > offset && next <= data.len());
                offset = next;
            }
            Decoded::Torn | Decoded::End => break,
        }
    }
    // Any offset, even past the end, is answered without a panic.
    let _ = decode_at(data, data.len() + 1);
});
