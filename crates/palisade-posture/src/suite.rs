//! Policy test suites in the `gator verify` format (Gatekeeper's `kind: Suite`,
//! `test.gatekeeper.sh/v1alpha1`), so the suites users already run in CI run unchanged:
//!
//! ```yaml
//! kind: Suite
//! apiVersion: test.gatekeeper.sh/v1alpha1
//! tests:
//! - name: required-labels
//!   template: template.yaml          # paths relative to the suite file
//!   constraint: constraint.yaml
//!   cases:
//!   - name: missing-owner
//!     object: samples/bad.yaml
//!     inventory: [samples/namespace.yaml]   # optional, for referential policies
//!     assertions:
//!     - violations: yes                     # yes | no | a number
//!     - violations: 1
//!       message: "owner"                    # only violations whose message matches this regex
//! ```
//!
//! Palisade extension: a test may name a built-in check (`check: privileged`) instead of
//! `template` and `constraint`; the check then runs as the admission rule that denies it.
//!
//! As in gator, `violations: yes` means at least one, `no` means none, a number means exactly that
//! many, and `skip: true` skips a test or a case. Files are read through a loader the caller
//! provides: this module does no I/O.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use palisade_core::{Node, Value as TreeValue};
use palisade_policy::{AdmissionRequest, Inventory, Operation};
use palisade_rego::PolicySet;

/// Reads a file named by a suite (relative paths already resolved against the suite's folder).
pub type Loader<'a> = dyn Fn(&Path) -> std::io::Result<String> + 'a;

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    pub test: String,
    pub case: String,
    pub skipped: bool,
    /// Empty when the case passed; otherwise why each failed assertion failed.
    pub failures: Vec<String>,
    pub duration: Duration,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The outcome of one suite file.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteResult {
    pub file: PathBuf,
    pub cases: Vec<CaseResult>,
    /// A suite (or one of its tests) that could not run at all: unreadable file, broken template.
    pub errors: Vec<String>,
}

impl SuiteResult {
    pub fn passed(&self) -> bool {
        self.errors.is_empty() && self.cases.iter().all(CaseResult::passed)
    }
}

/// Whether a parsed document is a gator suite.
pub fn is_suite(root: &Node) -> bool {
    root.str_at("kind") == Some("Suite")
        && root
            .str_at("apiVersion")
            .is_some_and(|v| v.starts_with("test.gatekeeper.sh/"))
}

/// Runs the suite in `root` (read from `file`).
pub fn run_suite(file: &Path, root: &Node, load: &Loader<'_>) -> SuiteResult {
    let base = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut result = SuiteResult {
        file: file.to_path_buf(),
        cases: Vec::new(),
        errors: Vec::new(),
    };
    for test in root.get("tests").map(Node::items).unwrap_or(&[]) {
        let name = test.str_at("name").unwrap_or("(unnamed test)").to_string();
        if test.is_true("skip") {
            result.cases.push(CaseResult {
                test: name,
                case: String::new(),
                skipped: true,
                failures: Vec::new(),
                duration: Duration::ZERO,
            });
            continue;
        }
        let policies = match load_test_policies(test, &base, load) {
            Ok(policies) => policies,
            Err(error) => {
                result.errors.push(format!("test `{name}`: {error}"));
                continue;
            }
        };
        for case in test.get("cases").map(Node::items).unwrap_or(&[]) {
            result
                .cases
                .push(run_case(&name, case, &policies, &base, load));
        }
    }
    result
}

/// What one test evaluates: its template and constraint in whichever engine the template is
/// written for (Rego, or CEL `K8sNativeValidation`), or a built-in check.
struct TestPolicies {
    rego: PolicySet,
    cel: palisade_cel::PolicySet,
    /// Palisade extension: `check: <ID>` tests a built-in check as the admission rule
    /// `{checks: [<ID>], action: deny}` instead of a template and constraint.
    builtin: Option<(crate::Catalogue, crate::Config)>,
}

fn load_test_policies(test: &Node, base: &Path, load: &Loader<'_>) -> Result<TestPolicies, String> {
    if let Some(id) = test.str_at("check") {
        let catalogue = crate::Catalogue::builtin();
        let id = catalogue.lookup(id).map_err(|e| e.to_string())?.id.clone();
        let config = crate::Config {
            admission_rules: vec![crate::AdmissionRule {
                checks: vec![id],
                action: palisade_policy::Action::Deny,
                namespaces: Vec::new(),
                excluded_namespaces: Vec::new(),
                kinds: Vec::new(),
                label_selector: None,
            }],
            ..crate::Config::default()
        };
        return Ok(TestPolicies {
            rego: PolicySet::default(),
            cel: palisade_cel::PolicySet::new(),
            builtin: Some((catalogue, config)),
        });
    }
    let mut sources = Vec::new();
    for key in ["template", "constraint"] {
        let relative = test.str_at(key).ok_or_else(|| format!("no `{key}` file"))?;
        let path = base.join(relative);
        let text = load(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        sources.push((path.display().to_string(), text));
    }
    let rego = PolicySet::from_sources(sources.iter().map(|(f, t)| (f.as_str(), t.as_str())))
        .map_err(|e| e.to_string())?;
    let mut cel = palisade_cel::PolicySet::new();
    for (file, text) in &sources {
        cel.load(file, text).map_err(|e| e.to_string())?;
    }
    if rego.constraints().is_empty() && cel.constraints().next().is_none() {
        return Err("the constraint file holds no constraint for the template".to_string());
    }
    Ok(TestPolicies {
        rego,
        cel,
        builtin: None,
    })
}

fn run_case(
    test: &str,
    case: &Node,
    policies: &TestPolicies,
    base: &Path,
    load: &Loader<'_>,
) -> CaseResult {
    let started = Instant::now();
    let name = case.str_at("name").unwrap_or("(unnamed case)").to_string();
    let mut result = CaseResult {
        test: test.to_string(),
        case: name,
        skipped: case.is_true("skip"),
        failures: Vec::new(),
        duration: Duration::ZERO,
    };
    if result.skipped {
        return result;
    }
    let outcome = (|| -> Result<Vec<String>, String> {
        let object_file = case.str_at("object").ok_or("no `object` file")?;
        let mut objects = read_objects(&base.join(object_file), load)?;
        let object = match objects.len() {
            1 => objects.remove(0),
            0 => return Err(format!("{object_file} holds no object")),
            n => {
                return Err(format!(
                    "{object_file} holds {n} objects; a case judges exactly one"
                ));
            }
        };
        let mut inventory = Inventory::new();
        for file in case.get("inventory").map(Node::items).unwrap_or(&[]) {
            let file = file.as_str().ok_or("`inventory` must list file names")?;
            for object in read_objects(&base.join(file), load)? {
                inventory.insert(object);
            }
        }
        let mut request = AdmissionRequest::for_object(object);
        if let Some(operation) = case.str_at("operation") {
            request.operation = match operation {
                "CREATE" => Operation::Create,
                "UPDATE" => Operation::Update,
                "DELETE" => Operation::Delete,
                "CONNECT" => Operation::Connect,
                other => return Err(format!("unknown operation `{other}`")),
            };
        }
        let evaluation = policies.rego.evaluate(&request, &inventory);
        if let Some(error) = evaluation.errors.first() {
            return Err(format!("evaluation failed: {error}"));
        }
        let mut messages: Vec<String> = evaluation
            .violations
            .into_iter()
            .map(|v| v.message)
            .collect();
        let cel = policies.cel.evaluate(&request, &inventory);
        messages.extend(cel.violations.into_iter().map(|v| v.message));
        if let Some((catalogue, config)) = &policies.builtin {
            let found = crate::admission::admission_violations(&request, catalogue, config);
            messages.extend(found.into_iter().map(|v| v.message));
        }
        Ok(messages)
    })();
    match outcome {
        Err(error) => result.failures.push(error),
        Ok(messages) => {
            for (i, assertion) in case
                .get("assertions")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if let Err(why) = check_assertion(assertion, &messages) {
                    result.failures.push(format!("assertion {}: {why}", i + 1));
                }
            }
        }
    }
    result.duration = started.elapsed();
    result
}

fn read_objects(path: &Path, load: &Loader<'_>) -> Result<Vec<serde_json::Value>, String> {
    let text = load(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = path.display().to_string();
    struct Objects(Vec<serde_json::Value>, Vec<String>);
    impl palisade_kube::yaml::ObjectSink for Objects {
        fn object(&mut self, object: Node, _: &palisade_kube::yaml::DocumentInfo) {
            self.0
                .push(serde_json::to_value(&object).unwrap_or(serde_json::Value::Null));
        }
        fn error(&mut self, error: palisade_core::SourceError) {
            self.1.push(error.to_string());
        }
    }
    let mut objects = Objects(Vec::new(), Vec::new());
    palisade_kube::yaml::read_stream(text.as_bytes(), &name, &mut objects);
    if let Some(error) = objects.1.first() {
        return Err(error.clone());
    }
    Ok(objects.0)
}

/// One gator assertion: `violations` (yes, no or a count) over the violations whose message
/// matches `message` (a regular expression; all violations when absent).
fn check_assertion(assertion: &Node, messages: &[String]) -> Result<(), String> {
    let matching: Vec<&String> = match assertion.str_at("message") {
        Some(pattern) => {
            let regex = regex_lite::Regex::new(pattern)
                .map_err(|e| format!("invalid message pattern `{pattern}`: {e}"))?;
            messages.iter().filter(|m| regex.is_match(m)).collect()
        }
        None => messages.iter().collect(),
    };
    let got = matching.len();
    let filter = assertion
        .str_at("message")
        .map(|m| format!(" matching `{m}`"))
        .unwrap_or_default();
    let listed = if messages.is_empty() {
        String::new()
    } else {
        format!(
            " (violations: {})",
            messages
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let want = assertion.get("violations");
    match want.map(|n| &n.value) {
        None | Some(TreeValue::Bool(true)) => {
            if got == 0 {
                return Err(format!(
                    "got no violations{filter}, want at least one{listed}"
                ));
            }
        }
        Some(TreeValue::Bool(false)) => {
            if got != 0 {
                return Err(format!("got {got} violations{filter}, want none{listed}"));
            }
        }
        Some(TreeValue::Int(n)) if *n >= 0 => {
            if got as i64 != *n {
                return Err(format!("got {got} violations{filter}, want {n}{listed}"));
            }
        }
        Some(TreeValue::String(s)) if s == "yes" || s == "no" => {
            let want_some = s == "yes";
            if want_some != (got > 0) {
                return Err(format!("got {got} violations{filter}, want {s}{listed}"));
            }
        }
        Some(_) => return Err("`violations` must be yes, no or a non-negative number".to_string()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels
        violation[{"msg": msg}] {
          provided := {label | input.review.object.metadata.labels[label]}
          required := {label | label := input.parameters.labels[_]}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("you must provide labels: %v", [missing])
        }
"#;

    const CONSTRAINT: &str = r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: owner
spec:
  match:
    kinds: [{apiGroups: [""], kinds: ["Namespace"]}]
  parameters:
    labels: ["owner"]
"#;

    fn files() -> HashMap<PathBuf, String> {
        let mut files = HashMap::new();
        files.insert(PathBuf::from("suite/template.yaml"), TEMPLATE.to_string());
        files.insert(
            PathBuf::from("suite/constraint.yaml"),
            CONSTRAINT.to_string(),
        );
        files.insert(
            PathBuf::from("suite/good.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {owner: web}}\n"
                .to_string(),
        );
        files.insert(
            PathBuf::from("suite/bad.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n".to_string(),
        );
        files
    }

    fn run(suite: &str) -> SuiteResult {
        let files = files();
        let load = |path: &Path| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
        };
        let root = palisade_kube::yaml::read_document(suite.as_bytes(), "suite/suite.yaml")
            .unwrap()
            .unwrap();
        assert!(is_suite(&root));
        run_suite(Path::new("suite/suite.yaml"), &root, &load)
    }

    const SUITE: &str = r#"kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
tests:
- name: required-labels
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: allowed
    object: good.yaml
    assertions: [{violations: no}]
  - name: disallowed
    object: bad.yaml
    assertions:
    - violations: yes
    - violations: 1
      message: "owner"
    - violations: 0
      message: "^nothing like this$"
  - name: skipped
    skip: true
    object: missing.yaml
"#;

    #[test]
    fn gator_semantics() {
        let result = run(SUITE);
        assert!(result.passed(), "{result:#?}");
        assert_eq!(result.cases.len(), 3);
        assert!(result.cases[2].skipped);
    }

    #[test]
    fn built_in_checks_and_cel_templates_as_tests() {
        let suite = r#"kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
tests:
- name: privileged
  check: privileged
  cases:
  - name: privileged-pod
    object: priv.yaml
    assertions: [{violations: 1, message: "privileged"}]
  - name: plain-namespace
    object: good.yaml
    assertions: [{violations: no}]
- name: cel-owner
  template: cel-template.yaml
  constraint: constraint.yaml
  cases:
  - name: missing
    object: bad.yaml
    assertions: [{violations: 1, message: "owner"}]
  - name: present
    object: good.yaml
    assertions: [{violations: no}]
"#;
        let mut files = files();
        files.insert(
            PathBuf::from("suite/priv.yaml"),
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: c, image: x, securityContext: {privileged: true}}]\n".to_string(),
        );
        files.insert(
            PathBuf::from("suite/cel-template.yaml"),
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8srequiredlabels}\nspec:\n  crd: {spec: {names: {kind: K8sRequiredLabels}}}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      code:\n      - engine: K8sNativeValidation\n        source:\n          validations:\n          - expression: \"variables.params.labels.all(l, has(variables.anyObject.metadata.labels) && l in variables.anyObject.metadata.labels)\"\n            messageExpression: \"'missing labels: ' + variables.params.labels.join(', ')\"\n".to_string(),
        );
        let load = |path: &Path| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
        };
        let root = palisade_kube::yaml::read_document(suite.as_bytes(), "suite/suite.yaml")
            .unwrap()
            .unwrap();
        let result = run_suite(Path::new("suite/suite.yaml"), &root, &load);
        assert!(result.passed(), "{result:#?}");
        assert_eq!(result.cases.len(), 4);
    }

    #[test]
    fn failures_say_what_was_expected() {
        let failing = SUITE.replace(
            "assertions: [{violations: no}]",
            "assertions: [{violations: 2}]",
        );
        let result = run(&failing);
        assert!(!result.passed());
        let failure = &result.cases[0].failures[0];
        assert!(failure.contains("got 0 violations, want 2"), "{failure}");
        let missing = SUITE.replace("object: bad.yaml", "object: nowhere.yaml");
        let result = run(&missing);
        assert!(
            result.cases[1].failures[0].contains("cannot read"),
            "{:?}",
            result.cases[1]
        );
        let broken = SUITE.replace("template: template.yaml", "template: good.yaml");
        let result = run(&broken);
        assert!(!result.errors.is_empty());
    }
}
