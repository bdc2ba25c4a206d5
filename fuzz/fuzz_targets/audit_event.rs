//! Any bytes as an audit log line, a webhook batch and a JSON-lines stream: decoding answers
//! an event or a clear error, never panics, and field extraction over whatever decodes never
//! panics either. Run: `cargo fuzz run audit_event`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_audit::fields::{AuditRecord, FIELDS};
use palisade_rules::Event;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_audit::decode_event_list(data);
    for event in palisade_audit::LineReader::new(data) {
        let record = AuditRecord::new(&event, Some("fuzz"));
        for (_, field, _, _) in FIELDS {
            for argument in [
                None,
                Some("0"),
                Some("/requestObject/spec"),
                Some("command"),
            ] {
                let _ = record.value(*field as u32, argument);
            }
        }
    }
});
