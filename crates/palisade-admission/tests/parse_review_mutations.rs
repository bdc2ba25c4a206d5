//! A deterministic stand-in for a fuzz target over `parse_review`: every truncation, byte flips at
//! every position, splices and nesting bombs of real-shaped reviews. The property is totality —
//! every input returns (no panic, no stack overflow) — plus the invariants an `Ok` must keep.

use palisade_admission::{ReviewError, ReviewVersion, parse_review};

const SEEDS: &[&str] = &[
    r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"name":"web","namespace":"shop","operation":"CREATE","userInfo":{"username":"admin","groups":["system:masters"],"extra":{"k":["v"]}},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","securityContext":{"privileged":true,"runAsUser":0}}]}},"oldObject":null,"dryRun":false,"options":{"apiVersion":"meta.k8s.io/v1","kind":"CreateOptions"}}}"#,
    r#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u2","kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},"subResource":"scale","requestKind":{"group":"apps","version":"v1","kind":"Deployment"},"namespace":"shop","operation":"DELETE","userInfo":{},"oldObject":{"spec":{"replicas":1.5e3}},"dryRun":true}}"#,
];

fn check(input: &[u8]) {
    if let Ok(review) = parse_review(input) {
        assert!(
            !review.request.uid.is_empty(),
            "accepted a review without uid"
        );
        assert!(matches!(
            review.version,
            ReviewVersion::V1 | ReviewVersion::V1Beta1
        ));
    }
}

#[test]
fn seeds_parse() {
    for seed in SEEDS {
        assert!(parse_review(seed.as_bytes()).is_ok(), "{seed}");
    }
}

#[test]
fn every_truncation_is_rejected() {
    for seed in SEEDS {
        let bytes = seed.as_bytes();
        for end in 0..bytes.len() {
            let prefix = bytes.get(..end).unwrap_or_default();
            assert!(
                parse_review(prefix).is_err(),
                "a truncated review was accepted: {}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}

#[test]
fn byte_flips_never_panic() {
    let mut accepted = 0usize;
    let mut rejected = 0usize;
    for seed in SEEDS {
        for position in 0..seed.len() {
            for mask in [0x01u8, 0x20, 0x80, 0xff] {
                let mut mutated = seed.as_bytes().to_vec();
                if let Some(byte) = mutated.get_mut(position) {
                    *byte ^= mask;
                }
                check(&mutated);
                match parse_review(&mutated) {
                    Ok(_) => accepted += 1,
                    Err(_) => rejected += 1,
                }
            }
            for replacement in [b'"', b'{', b'[', b'}', b'\\', 0u8] {
                let mut mutated = seed.as_bytes().to_vec();
                if let Some(byte) = mutated.get_mut(position) {
                    *byte = replacement;
                }
                check(&mutated);
            }
        }
    }
    // Flips inside string values (names, labels) keep the review valid; flips in structure do not.
    assert!(accepted > 0 && rejected > 0, "{accepted} / {rejected}");
}

#[test]
fn splices_never_panic() {
    let (first, second) = (SEEDS[0].as_bytes(), SEEDS[1].as_bytes());
    for cut in (0..first.len()).step_by(7) {
        for other in (0..second.len()).step_by(11) {
            let mut spliced = first.get(..cut).unwrap_or_default().to_vec();
            spliced.extend_from_slice(second.get(other..).unwrap_or_default());
            check(&spliced);
        }
    }
}

#[test]
fn nesting_bombs_are_rejected_not_overflowed() {
    for depth in [200usize, 10_000, 1_000_000] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let bomb = format!(
                r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"x","object":{}1{}}}}}"#,
                open.repeat(depth),
                close.repeat(depth)
            );
            let error = parse_review(bomb.as_bytes()).expect_err("a nesting bomb was accepted");
            let ReviewError::Json(message) = error else {
                panic!("unexpected error {error:?}");
            };
            assert!(message.contains("recursion limit"), "{message}");
        }
    }
    // Moderate nesting, as in real CRDs, is fine.
    let nested = format!(
        r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"x","object":{}1{}}}}}"#,
        "[".repeat(60),
        "]".repeat(60)
    );
    assert!(parse_review(nested.as_bytes()).is_ok());
}

#[test]
fn hostile_scalars_are_handled() {
    let cases = [
        // Invalid UTF-8 inside a string.
        b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\xff\xfe\"}}".to_vec(),
        // A lone surrogate escape.
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\ud800"}}"#.to_vec(),
        // Numbers far outside any machine type.
        format!(r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"n","object":{{"n":1{}}}}}}}"#, "0".repeat(5000)).into_bytes(),
        // Wrong types for typed fields.
        br#"{"apiVersion":1,"kind":"AdmissionReview","request":{"uid":"x"}}"#.to_vec(),
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}"#.to_vec(),
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","dryRun":"yes"}}"#.to_vec(),
        // Trailing garbage after a valid review.
        [SEEDS[0].as_bytes(), b"}"].concat(),
        Vec::new(),
        b"null".to_vec(),
    ];
    for case in &cases {
        assert!(
            parse_review(case).is_err(),
            "{}",
            String::from_utf8_lossy(case)
        );
    }
}
