//! `palisade policy verify` on the suites shipped in `examples/`: every suite loads, every case
//! passes, every admission-relevant built-in check has a test, and a wrong expectation fails the
//! run and names the case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn palisade() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.current_dir(repo_root())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    cmd
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn run(args: &[&str]) -> Output {
    palisade().args(args).output().expect("palisade runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// What `policy verify --verbose-cases` reported for one suite file.
#[derive(Debug, Default, PartialEq)]
struct SuiteReport {
    passed: Vec<String>,
    failed: Vec<String>,
    ok: bool,
}

/// Groups the `--- PASS: test/case` and `--- FAIL: test/case` lines under the `ok`/`FAIL` line
/// that closes each suite file, the way `go test` prints packages.
fn reports(output: &str) -> BTreeMap<String, SuiteReport> {
    let mut reports = BTreeMap::new();
    let mut current = SuiteReport::default();
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("--- PASS: ") {
            current.passed.push(case_name(rest));
        } else if let Some(rest) = line.strip_prefix("--- FAIL: ") {
            current.failed.push(case_name(rest));
        } else if let Some((status, rest)) = line.split_once('\t') {
            let file = rest.split('\t').next().unwrap_or_default().to_string();
            current.ok = status.trim() == "ok";
            reports.insert(file, std::mem::take(&mut current));
        }
    }
    reports
}

/// `privileged/privileged-container (0.001s)` without the timing.
fn case_name(line: &str) -> String {
    line.rsplit_once(" (")
        .map_or(line, |(name, _)| name)
        .to_string()
}

/// Runs every suite under `dir` and checks that each expected suite file reported exactly
/// `cases` passing cases and nothing else: a suite that silently stops loading, or a case that
/// disappears, changes the counts.
fn verify_all_pass(dir: &str, expected: &[(&str, usize)]) -> BTreeMap<String, SuiteReport> {
    let output = run(&["policy", "verify", "--verbose-cases", dir]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let reports = reports(&stdout(&output));
    let counts: BTreeMap<String, usize> = reports
        .iter()
        .map(|(file, report)| (file.clone(), report.passed.len()))
        .collect();
    let want: BTreeMap<String, usize> = expected
        .iter()
        .map(|(file, cases)| (format!("{dir}/{file}"), *cases))
        .collect();
    assert_eq!(counts, want, "{}", describe(&output));
    for (file, report) in &reports {
        assert!(report.ok, "{file} is not ok: {}", describe(&output));
        assert!(report.failed.is_empty(), "{file}: {:?}", report.failed);
    }
    reports
}

#[test]
fn built_in_check_suites_pass() {
    let reports = verify_all_pass(
        "examples/builtin-policy-tests",
        &[
            ("image.yaml", 11),
            ("pss-baseline.yaml", 41),
            ("pss-restricted.yaml", 42),
            ("rbac-exposure.yaml", 14),
            ("workload.yaml", 56),
        ],
    );
    // Each test is named after the check it runs.
    let tested: BTreeSet<String> = reports
        .values()
        .flat_map(|report| &report.passed)
        .filter_map(|case| case.split_once('/').map(|(test, _)| test.to_string()))
        .collect();

    // Every check that judges a single object at admission has a test: the pod-security,
    // workload and image checks, and the RBAC and exposure checks that read only the object
    // itself. Skipped on purpose: `image-registry-not-allowed` is off unless
    // `registries.allowed` is configured, and a suite's `check:` test runs with the default
    // configuration.
    let catalogue = run(&["checks", "list", "--format", "json"]);
    assert!(catalogue.status.success(), "{}", describe(&catalogue));
    let catalogue: Value = serde_json::from_slice(&catalogue.stdout).expect("checks list JSON");
    let single_object = [
        "rbac-wildcard-verbs",
        "rbac-wildcard-resources",
        "ingress-no-tls",
        "dashboard-skip-login",
    ];
    let admission_checks: BTreeSet<String> = catalogue
        .as_array()
        .expect("checks list is an array")
        .iter()
        .filter(|check| {
            matches!(
                check["category"].as_str(),
                Some("pod-security" | "workload" | "image")
            ) || check["id"]
                .as_str()
                .is_some_and(|id| single_object.contains(&id))
        })
        .filter_map(|check| check["id"].as_str())
        .filter(|id| *id != "image-registry-not-allowed")
        .map(str::to_string)
        .collect();
    // 19 PSS, 17 workload, 3 image (less the registry check) and the 4 above, at the time of
    // writing; new checks in those categories must come with a test.
    assert!(admission_checks.len() >= 43, "{admission_checks:?}");
    let untested: Vec<&String> = admission_checks.difference(&tested).collect();
    assert!(
        untested.is_empty(),
        "built-in checks without a test in examples/builtin-policy-tests: {untested:?}"
    );
    let unknown: Vec<&String> = tested.difference(&admission_checks).collect();
    assert!(
        unknown.is_empty(),
        "tests not named after an admission check: {unknown:?}"
    );
}

#[test]
fn rego_and_cel_suites_pass() {
    let reports = verify_all_pass(
        "examples/policy-tests",
        &[("rego-and-cel.yaml", 15), ("suite.yaml", 4)],
    );
    let cases = &reports["examples/policy-tests/rego-and-cel.yaml"].passed;
    for case in [
        "referential-namespace-owner/namespace-without-owner-in-inventory",
        "function-with-several-bodies/untagged-second-body",
        "sprintf-missing-argument/blocked-registry",
        "not-over-undefined-reference/no-labels-at-all",
        "cel-max-replicas/too-many-replicas",
    ] {
        assert!(cases.iter().any(|c| c == case), "{case} not in {cases:?}");
    }
}

#[test]
fn a_wrong_expectation_fails_and_names_the_case() {
    let dir = std::env::temp_dir().join(format!("palisade-suites-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    // A copy of the `privileged` test with one expectation turned around; the sample is named by
    // absolute path, which the suite resolves as is.
    let sample = repo_root().join("examples/builtin-policy-tests/samples/pss");
    let suite = format!(
        r#"kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
tests:
- name: privileged
  check: privileged
  cases:
  - name: privileged-container-wrongly-allowed
    object: {privileged}
    assertions:
    - violations: no
  - name: privileged-false
    object: {unprivileged}
    assertions:
    - violations: no
"#,
        privileged = sample.join("privileged-container.yaml").display(),
        unprivileged = sample.join("privileged-false.yaml").display(),
    );
    let file = dir.join("wrong.yaml");
    std::fs::write(&file, suite).expect("suite written");

    let output = run(&["policy", "verify", &file.display().to_string()]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let text = stdout(&output);
    assert!(
        text.contains("--- FAIL: privileged/privileged-container-wrongly-allowed"),
        "{}",
        describe(&output)
    );
    assert!(
        text.contains("got 1 violations, want none"),
        "{}",
        describe(&output)
    );
    assert!(!text.contains("privileged/privileged-false"), "{text}");
    let report = reports(&text);
    let suite = &report[&file.display().to_string()];
    assert!(!suite.ok, "{text}");
    assert_eq!(
        suite.failed,
        ["privileged/privileged-container-wrongly-allowed"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
