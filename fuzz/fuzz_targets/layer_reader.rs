//! Any bytes as a layer blob (stored as is, or gzip/zstd-compressed first so the tar and whiteout
//! logic behind the decompressors is reached): the reader must return changes or an error, never
//! panic or run away with memory; the changes must merge and catalog. Run:
//! `cargo fuzz run layer_reader -- -max_total_time=60`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::FileTree;
use palisade_image::catalog;
use palisade_image::layer::{LayerLimits, read_layer, sha256_digest};
use palisade_image::testing::{gzip, test_catalogers, zstd};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let blob = match mode % 3 {
        0 => rest.to_vec(),
        1 => gzip(rest),
        _ => zstd(rest),
    };
    // Small limits keep each run fast while still exercising the bomb guard.
    let limits = LayerLimits {
        max_uncompressed: 16 << 20,
        ratio_grace: 1 << 20,
        max_ratio: 200,
        max_kept_file: 1 << 20,
    };
    let catalogers = test_catalogers();
    // Half the runs check against the right digest, half against a wrong one.
    let digest = if mode & 0x80 == 0 {
        sha256_digest(&blob)
    } else {
        sha256_digest(b"other")
    };
    match read_layer(&mut &blob[..], "fuzz", &digest, 0, &catalogers, &limits) {
        Ok(changes) => {
            let mut tree = FileTree::new();
            tree.apply(changes.clone());
            tree.apply(changes);
            let _ = catalog::catalog(&catalogers, &tree);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
