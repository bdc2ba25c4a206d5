//! Times the built-in checks as admission rules on the admission benchmark's request, without the
//! server: `cargo run --release -p palisade-posture --example bench_admission [N]`. Reads
//! `bench/admission/admission-config.yaml` and `bench/admission/loadgen/deployment-review.json`.

use std::time::Instant;

use palisade_policy::AdmissionRequest;
use palisade_posture::{Catalogue, Config, admission_violations};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let iterations: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let config_file = format!("{root}/bench/admission/admission-config.yaml");
    let text = std::fs::read(&config_file)?;
    let node = palisade_kube::yaml::read_document(&text[..], &config_file)
        .map_err(|e| e.message)?
        .ok_or("the configuration is empty")?;
    let catalogue = Catalogue::builtin();
    let config = Config::from_node(&node, &catalogue)?;
    let review: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(format!(
        "{root}/bench/admission/loadgen/deployment-review.json"
    ))?)?;
    let request: AdmissionRequest = serde_json::from_value(review["request"].clone())?;
    for violation in admission_violations(&request, &catalogue, &config) {
        println!(
            "{:?} {}: {}",
            violation.action, violation.policy, violation.message
        );
    }
    let start = Instant::now();
    let mut total = 0;
    for _ in 0..iterations {
        total += admission_violations(&request, &catalogue, &config).len();
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
