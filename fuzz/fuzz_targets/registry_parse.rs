//! Registry input that comes from users or servers: image references, `WWW-Authenticate`
//! challenges, `Link` headers, manifests (with platform choice) and image configs. Nothing may
//! panic, and every error must render. Run: `cargo fuzz run registry_parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::reference::Reference;
use palisade_image::registry::auth::parse_www_authenticate;
use palisade_image::registry::manifest::{self, Manifest, Platform};
use palisade_image::registry::next_link;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Reference::parse(&text) {
        Ok(reference) => {
            // A parsed reference prints to something that parses to the same reference.
            let again = Reference::parse(&reference.to_string());
            assert_eq!(again.ok().as_ref(), Some(&reference));
            let _ = reference.api_host();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    for challenge in parse_www_authenticate(&text) {
        let _ = challenge.param("realm");
    }
    let _ = next_link(&text);
    let _ = Platform::parse(&text);
    // The first line may name a Content-Type; the rest is the manifest.
    let (content_type, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (std::str::from_utf8(&data[..at]).ok(), &data[at + 1..]),
        None => (None, data),
    };
    for body in [data, body] {
        if let Ok(Manifest::Index { manifests }) = manifest::parse_manifest(body, content_type) {
            for wanted in ["linux/amd64", "linux/arm64", "linux/arm/v7"] {
                if let Ok(platform) = Platform::parse(wanted) {
                    let _ = manifest::select(&manifests, &platform);
                }
            }
            let _ = manifest::offered(&manifests);
        }
        let _ = manifest::parse_config(body);
    }
});
