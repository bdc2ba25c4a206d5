//! Damaged and hostile manifests through the real reader and every check: nothing panics, every
//! problem is an error naming the file and a line, and the documents that are intact are still
//! assessed. A deterministic stand-in for the cargo-fuzz target (`fuzz/`) that runs on stable in CI.

use palisade_core::{Resource, SourceError};
use palisade_kube::manifests::{ResourceSink, read_from};
use palisade_posture::{Catalogue, Config, Session};

const DEMO: &[&str] = &[
    include_str!("../../../examples/demo-cluster/10-kube-system.yaml"),
    include_str!("../../../examples/demo-cluster/20-shop.yaml"),
    include_str!("../../../examples/demo-cluster/40-monitoring.yaml"),
    include_str!("../../../examples/demo-cluster/50-dev.yaml"),
    include_str!("../../../examples/demo-cluster/70-rbac.yaml"),
];

struct Outcome<'a> {
    session: Session<'a>,
    objects: usize,
    errors: Vec<SourceError>,
}

impl ResourceSink for Outcome<'_> {
    fn resource(&mut self, resource: Resource) {
        self.objects += 1;
        self.session.assess(&resource);
    }
    fn error(&mut self, error: SourceError) {
        self.errors.push(error);
    }
}

fn run(bytes: &[u8]) -> (usize, Vec<SourceError>, usize) {
    let catalogue = Catalogue::builtin();
    let config = Config::default();
    let mut outcome = Outcome {
        session: Session::new(&catalogue, &config),
        objects: 0,
        errors: Vec::new(),
    };
    read_from(bytes, "hostile.yaml", &mut outcome);
    let findings = outcome.session.finish().findings.len();
    (outcome.objects, outcome.errors, findings)
}

/// xorshift64*: deterministic, so a failure here reproduces exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const NASTY: &[&[u8]] = &[
    b"\xff\xfe",
    b"{{ .Values.x }}",
    b"&a [*a, *a]",
    b"*undefined",
    b"? [complex]: key",
    b"!!binary AAAA",
    b"<<: *nothing",
    b"\t",
    b"- - - - - - -",
    b"'unterminated",
    b"\"\\u00",
    b"%YAML 9.9\n---",
    b"\x00",
    b"items: 3",
    b"kind: List\nitems: [1, {a: b}]",
];

#[test]
fn mutated_demo_manifests_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..1500 {
        let base = DEMO[round % DEMO.len()].as_bytes();
        let mut bytes = base.to_vec();
        for _ in 0..1 + rng.below(4) {
            match rng.below(5) {
                0 => bytes.truncate(rng.below(bytes.len())),
                1 => {
                    let i = rng.below(bytes.len());
                    if let Some(b) = bytes.get_mut(i) {
                        *b = rng.next() as u8;
                    }
                }
                2 => {
                    let i = rng.below(bytes.len());
                    let nasty = NASTY[rng.below(NASTY.len())];
                    bytes.splice(i..i, nasty.iter().copied());
                }
                3 => {
                    let (a, b) = (rng.below(bytes.len()), rng.below(bytes.len()));
                    let (a, b) = (a.min(b), a.max(b));
                    let chunk = bytes[a..b.min(a + 400)].to_vec();
                    let at = rng.below(bytes.len());
                    bytes.splice(at..at, chunk);
                }
                _ => {
                    let i = rng.below(bytes.len());
                    bytes.drain(i..(i + rng.below(50)).min(bytes.len()));
                }
            }
        }
        let (_, errors, _) = run(&bytes);
        for error in errors {
            assert_eq!(error.file, "hostile.yaml");
            assert!(!error.message.is_empty());
        }
    }
}

#[test]
fn a_broken_document_does_not_lose_the_others() {
    let intact = DEMO[1];
    let (objects, errors, findings) = run(intact.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    // Break one document in the middle: a tab-indented key is a YAML error.
    let mut docs: Vec<&str> = intact.split("\n---\n").collect();
    let middle = docs.len() / 2;
    let broken = format!("{}\n\tbroken: [", docs[middle]);
    docs[middle] = &broken;
    let text = docs.join("\n---\n");
    let (objects_after, errors, findings_after) = run(text.as_bytes());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].line.is_some());
    assert_eq!(objects_after, objects - 1);
    assert!(findings_after > 0 && findings_after <= findings);
}

#[test]
fn pathological_structures_are_refused_not_crashed() {
    let deep = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: deep}}\nspec: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (_, errors, _) = run(deep.as_bytes());
    assert_eq!(errors.len(), 1);
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        laughs.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
            p = i - 1
        ));
    }
    let (_, errors, _) = run(laughs.as_bytes());
    assert_eq!(errors.len(), 1, "{errors:?}");
}
