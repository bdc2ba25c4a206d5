//! Times CEL evaluation of the admission benchmark's policies for its Deployment review, without
//! the server around it: `cargo run --release -p palisade-cel --example bench_eval [N]`.
//! Reads `bench/admission/policies/cel-policies.yaml` and
//! `bench/admission/loadgen/deployment-review.json` from the workspace.

use std::time::Instant;

use palisade_cel::PolicySet;
use palisade_policy::{AdmissionRequest, Inventory};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let iterations: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let policies_file = format!("{root}/bench/admission/policies/cel-policies.yaml");
    let mut policies = PolicySet::new();
    policies.load(&policies_file, &std::fs::read_to_string(&policies_file)?)?;
    let review: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{root}/bench/admission/loadgen/deployment-review.json"
    ))?)?;
    let request: AdmissionRequest = serde_json::from_value(review["request"].clone())?;
    let inventory = Inventory::new();
    let first = policies.evaluate(&request, &inventory);
    for violation in &first.violations {
        println!(
            "{:?} {}: {}",
            violation.action, violation.policy, violation.message
        );
    }
    let start = Instant::now();
    let mut total = 0;
    for _ in 0..iterations {
        total += policies.evaluate(&request, &inventory).violations.len();
    }
    let elapsed = start.elapsed();
    println!(
        "{} evaluations, {:.1} µs each ({} violations in all)",
        iterations,
        elapsed.as_secs_f64() * 1e6 / iterations as f64,
        total
    );
    Ok(())
}
