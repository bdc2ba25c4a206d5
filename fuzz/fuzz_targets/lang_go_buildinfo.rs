//! Any bytes as an executable through the streaming binary extractor (Go build information,
//! cargo-auditable data), then as Go module information. Run: `cargo fuzz run lang_go_buildinfo`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::{binary, golang};

fuzz_target!(|data: &[u8]| {
    // As a whole file, and as build information placed at an aligned offset of an ELF file.
    let _ = binary::binary_extract(&mut &data[..], data.len() as u64);
    let mut elf = b"\x7fELF".to_vec();
    elf.resize(16, 0);
    elf.extend_from_slice(b"\xff Go buildinf:");
    elf.extend_from_slice(data);
    if let Ok(Some(extract)) = binary::binary_extract(&mut &elf[..], elf.len() as u64) {
        for (_, payload) in binary::records(&extract) {
            let _ = golang::packages_from_buildinfo(
                "/bin/x",
                "go1.22.0",
                &String::from_utf8_lossy(payload),
            );
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = golang::packages_from_buildinfo("/bin/x", &text, &text);
});
