//! Per-request cost of Rego evaluation in the admission benchmark: the Rego templates and
//! constraints of bench/admission/policies/ judging bench/admission/loadgen/deployment-review.json.
//!
//! Run with `cargo run --release -p palisade-rego --example bench_eval [-- <requests>]`
//! (20,000 requests unless given).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use palisade_policy::{AdmissionRequest, Inventory};
use palisade_rego::PolicySet;

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn run() -> Result<(), String> {
    let requests: u32 = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|e| format!("bad request count `{n}`: {e}"))?,
        None => 20_000,
    };
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/admission");
    let templates = read(&bench.join("policies/rego-templates.yaml"))?;
    let constraints = read(&bench.join("policies/rego-constraints.yaml"))?;
    let review: serde_json::Value =
        serde_json::from_str(&read(&bench.join("loadgen/deployment-review.json"))?)
            .map_err(|e| format!("deployment-review.json: {e}"))?;
    let request: AdmissionRequest = serde_json::from_value(
        review
            .get("request")
            .cloned()
            .ok_or("deployment-review.json has no `request`")?,
    )
    .map_err(|e| format!("deployment-review.json: {e}"))?;
    let set = PolicySet::from_sources([
        ("rego-templates.yaml", templates.as_str()),
        ("rego-constraints.yaml", constraints.as_str()),
    ])
    .map_err(|e| e.to_string())?;
    let inventory = Inventory::new();

    let first = set.evaluate(&request, &inventory);
    if !first.errors.is_empty() {
        return Err(format!("evaluation errors: {:?}", first.errors));
    }
    println!(
        "{} constraints, {} violations on the review:",
        set.constraints().len(),
        first.violations.len()
    );
    for violation in &first.violations {
        println!("  {}: {}", violation.policy, violation.message);
    }
    // Warm caches and the allocator before timing.
    for _ in 0..requests.min(1_000) {
        std::hint::black_box(set.evaluate(&request, &inventory));
    }
    let start = Instant::now();
    let mut violations = 0usize;
    for _ in 0..requests {
        violations += std::hint::black_box(set.evaluate(&request, &inventory))
            .violations
            .len();
    }
    let elapsed = start.elapsed();
    if violations != first.violations.len() * requests as usize {
        return Err("later evaluations disagree with the first".into());
    }
    println!(
        "{requests} requests in {elapsed:.2?}: {:.1} µs per request",
        elapsed.as_secs_f64() * 1e6 / f64::from(requests.max(1))
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench_eval: {error}");
            ExitCode::FAILURE
        }
    }
}
