//! Times importing OSV dumps into a fresh advisory database.
//!
//! Usage: `cargo run --release -p palisade-vulndb --example import_bench -- DUMP_DIR DB_PATH`
//! where DUMP_DIR holds one folder per ecosystem with an `all.zip` (the layout of
//! /work/shared/data/osv/); DB_PATH is replaced.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use palisade_vulndb::db::{AdvisoryDb, format_rfc3339};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dump_dir, db_path] = args.as_slice() else {
        eprintln!("usage: import_bench DUMP_DIR DB_PATH");
        return ExitCode::from(2);
    };
    let mut zips: Vec<PathBuf> = match std::fs::read_dir(dump_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("all.zip"))
            .filter(|zip| zip.is_file())
            .collect(),
        Err(err) => {
            eprintln!("cannot read {dump_dir}: {err}");
            return ExitCode::FAILURE;
        }
    };
    zips.sort();
    if zips.is_empty() {
        eprintln!("no */all.zip under {dump_dir}");
        return ExitCode::FAILURE;
    }
    let db_path = PathBuf::from(db_path);
    for stale in [db_path.clone(), db_path.with_extension("db-journal")] {
        let _ = std::fs::remove_file(stale);
    }
    let started = Instant::now();
    let mut db = match AdvisoryDb::create(&db_path) {
        Ok(db) => db,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let report = match db.import(&zips, &format_rfc3339(SystemTime::now())) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    for source in &report.sources {
        println!(
            "{:<14} {:>6} records {:>4} skipped  {}",
            source.name, source.records, source.skipped, source.origin
        );
    }
    for error in &report.errors {
        println!("error: {error}");
    }
    let records: u64 = report.sources.iter().map(|source| source.records).sum();
    let size = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{records} records ({} stored, {} kept newer, {} skipped) in {elapsed:.2} s: {:.0} records/s; database {:.1} MiB",
        report.stored,
        report.kept_newer,
        report.skipped,
        records as f64 / elapsed.max(f64::EPSILON),
        size as f64 / 1_048_576.0
    );
    ExitCode::SUCCESS
}
