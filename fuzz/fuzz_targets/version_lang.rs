//! Any bytes as two version strings for every language-ecosystem scheme (PEP 440, SemVer, Go,
//! Maven, RubyGems, Packagist, NuGet): comparison must not panic, must refuse or accept a pair the
//! same way in both directions, must be antisymmetric, and must find every accepted version equal
//! to itself. Run: `cargo fuzz run version_lang`.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::version::Scheme;

const SCHEMES: [Scheme; 7] = [
    Scheme::Pep440,
    Scheme::Semver,
    Scheme::Go,
    Scheme::Maven,
    Scheme::RubyGems,
    Scheme::Packagist,
    Scheme::NuGet,
];

fuzz_target!(|data: &[u8]| {
    // The first 0xFF byte (never part of UTF-8) splits the input into the two versions; without
    // one, the input is split in half.
    let (a, b) = match data.iter().position(|&byte| byte == 0xFF) {
        Some(at) => {
            let (a, rest) = data.split_at(at);
            (a, rest.get(1..).unwrap_or_default())
        }
        None => data.split_at(data.len() / 2),
    };
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    for scheme in SCHEMES {
        let forward = scheme.compare(&a, &b);
        let backward = scheme.compare(&b, &a);
        match (&forward, &backward) {
            (Ok(x), Ok(y)) => assert_eq!(*x, y.reverse(), "{scheme:?}: {a:?} vs {b:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{scheme:?}: {a:?} vs {b:?} accepted in one direction only"),
        }
        for v in [&a, &b] {
            if let Ok(ord) = scheme.compare(v, v) {
                assert_eq!(
                    ord,
                    Ordering::Equal,
                    "{scheme:?}: {v:?} differs from itself"
                );
            }
        }
    }
});
