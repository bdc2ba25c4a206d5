//! `palisade policy verify`: gator-format policy test suites, reported the way `gator verify` and
//! `go test` report (`--- FAIL: test/case`, `ok`/`FAIL` per suite file).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use palisade_kube::manifests::{self, Input};
use palisade_posture::suite;

pub fn verify(paths: &[PathBuf], verbose: bool) -> Result<ExitCode> {
    let (inputs, errors) = manifests::expand(paths);
    if let Some(error) = errors.first() {
        bail!("{error}");
    }
    let mut suites = Vec::new();
    for input in inputs {
        let Input::File(path) = input else {
            bail!("policy verify cannot read suites from standard input");
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let name = path.display().to_string();
        // Only `kind: Suite` documents are suites; templates, constraints and samples in the same
        // folders are read by the suites that name them.
        if let Ok(Some(root)) = palisade_kube::yaml::read_document(text.as_bytes(), &name)
            && suite::is_suite(&root)
        {
            suites.push((path, root));
        }
    }
    if suites.is_empty() {
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "no test suites (kind: Suite, apiVersion: test.gatekeeper.sh/v1alpha1) found in {}",
            paths.join(", ")
        );
    }
    let load = |path: &Path| std::fs::read_to_string(path);
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for (path, root) in suites {
        let result = suite::run_suite(&path, &root, &load);
        let mut total = std::time::Duration::ZERO;
        for case in &result.cases {
            total += case.duration;
            let name = if case.case.is_empty() {
                case.test.clone()
            } else {
                format!("{}/{}", case.test, case.case)
            };
            let seconds = case.duration.as_secs_f64();
            if case.skipped {
                if verbose {
                    let _ = writeln!(out, "--- SKIP: {name} ({seconds:.3}s)");
                }
            } else if case.passed() {
                if verbose {
                    let _ = writeln!(out, "--- PASS: {name} ({seconds:.3}s)");
                }
            } else {
                let _ = writeln!(out, "--- FAIL: {name} ({seconds:.3}s)");
                for failure in &case.failures {
                    let _ = writeln!(out, "    {failure}");
                }
            }
        }
        for error in &result.errors {
            let _ = writeln!(out, "--- FAIL: {error}");
        }
        let status = if result.passed() { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "{status}\t{}\t{:.3}s",
            path.display(),
            total.as_secs_f64()
        );
        failed |= !result.passed();
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
