//! Times matching one SBOM against an advisory database, in process: the number issue 5's "match
//! an SBOM of 5,000 packages in under 200 ms" target is about (no process start, no output).
//!
//! Usage: `cargo run --release -p palisade-vulndb --example match_bench -- DB_PATH SBOM.json [RUNS]`
//! where SBOM.json is Palisade JSON (`palisade sbom --format json`). Prints the median of RUNS
//! (default 5) after one warm-up run.

use std::process::ExitCode;
use std::time::Instant;

use palisade_core::Sbom;
use palisade_vulndb::db::AdvisoryDb;
use palisade_vulndb::matching::{MatchOptions, match_sbom};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (db_path, sbom_path, runs) = match args.as_slice() {
        [db, sbom] => (db, sbom, 5),
        [db, sbom, runs] => (db, sbom, runs.parse::<usize>().unwrap_or(5).max(1)),
        _ => {
            eprintln!("usage: match_bench DB_PATH SBOM.json [RUNS]");
            return ExitCode::from(2);
        }
    };
    let sbom: Sbom = match std::fs::read(sbom_path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(sbom) => sbom,
        Err(err) => {
            eprintln!("cannot read {sbom_path}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let db = match AdvisoryDb::open(std::path::Path::new(db_path)) {
        Ok(db) => db,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let mut times = Vec::new();
    let mut findings = 0;
    for run in 0..=runs {
        let started = Instant::now();
        let report = match match_sbom(&db, &sbom, &MatchOptions::default()) {
            Ok(report) => report,
            Err(err) => {
                eprintln!("{err}");
                return ExitCode::FAILURE;
            }
        };
        let elapsed = started.elapsed();
        findings = report.vulnerabilities.len();
        if run > 0 {
            times.push(elapsed.as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{} packages, {findings} findings: median {median:.1} ms over {runs} runs",
        sbom.packages.len()
    );
    ExitCode::SUCCESS
}
