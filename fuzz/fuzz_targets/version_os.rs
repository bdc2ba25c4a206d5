//! Any bytes as two OS package versions (split at the first NUL, or in the middle): the dpkg, rpm
//! and apk schemes must not panic, must fail or succeed regardless of argument order, and must
//! be antisymmetric. Run: `cargo fuzz run version_os`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::version::Scheme;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = match text.split_once('\0') {
        Some(pair) => pair,
        None => {
            let mut middle = text.len() / 2;
            while !text.is_char_boundary(middle) {
                middle -= 1;
            }
            text.split_at(middle)
        }
    };
    for scheme in [Scheme::Dpkg, Scheme::Rpm, Scheme::Apk] {
        let forward = scheme.compare(a, b);
        let backward = scheme.compare(b, a);
        assert_eq!(forward.is_ok(), backward.is_ok(), "{scheme:?} {a:?} {b:?}");
        if let (Ok(forward), Ok(backward)) = (&forward, &backward) {
            assert_eq!(*forward, backward.reverse(), "{scheme:?} {a:?} {b:?}");
        }
        if let Ok(same) = scheme.compare(a, a) {
            assert_eq!(same, std::cmp::Ordering::Equal, "{scheme:?} {a:?}");
        }
    }
});
