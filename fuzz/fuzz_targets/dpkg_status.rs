//! Any bytes as a dpkg status file (and as a distroless status.d entry): the dpkg cataloger must
//! not panic. Run: `cargo fuzz run dpkg_status`.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::dpkg::{Dpkg, parse_status};
use palisade_image::catalog::{Cataloger, Context};
use palisade_image::{Content, Entry, EntryKind, FileTree};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_status(&text);
    let mut files = FileTree::new();
    for path in [
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/status.d/pkg",
        "/var/lib/dpkg/info/x.list",
        "/usr/share/doc/x/copyright",
    ] {
        files.insert(
            path,
            Entry {
                kind: EntryKind::File(Content::Bytes(Arc::from(data))),
                mode: 0o644,
                size: data.len() as u64,
                layer: 0,
            },
        );
    }
    let mut packages = Vec::new();
    let mut notes = Vec::new();
    let context = Context {
        distro: None,
        os_files: None,
    };
    Dpkg.catalog(&files, &context, &mut packages, &mut notes);
});
