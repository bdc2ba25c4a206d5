//! The policies of `tests/data/policies` over the real manifests of the demo cluster "shop".

use palisade_cel::PolicySet;
use palisade_core::{Node, SourceError};
use palisade_kube::yaml::{self, DocumentInfo, ObjectSink};
use palisade_policy::{Action, AdmissionRequest, Inventory};
use serde_json::Value;

fn objects(path: &str) -> Vec<Value> {
    struct Collect(Vec<Value>);
    impl ObjectSink for Collect {
        fn object(&mut self, object: Node, _: &DocumentInfo) {
            self.0
                .push(serde_json::to_value(&object).expect("a tree converts to JSON"));
        }
        fn error(&mut self, error: SourceError) {
            panic!("test data does not parse: {error}");
        }
    }
    let text = std::fs::read_to_string(path).expect("test data is readable");
    let mut sink = Collect(Vec::new());
    yaml::read_stream(text.as_bytes(), path, &mut sink);
    sink.0
}

#[test]
fn shop_cluster_workloads() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut policies = PolicySet::new();
    let file = format!("{data}/policies/workloads.yaml");
    let text = std::fs::read_to_string(&file).expect("policy file is readable");
    assert_eq!(policies.load(&file, &text), Ok(4));

    let mut inventory = Inventory::new();
    for namespace in objects(&format!("{data}/shop/01-namespaces.yaml")) {
        inventory.insert(namespace);
    }
    let mut results = Vec::new();
    let mut annotations = Vec::new();
    for file in ["20-shop.yaml", "50-dev.yaml"] {
        for object in objects(&format!("{data}/shop/{file}")) {
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let evaluation = policies.evaluate(&AdmissionRequest::for_object(object), &inventory);
            for violation in evaluation.violations {
                results.push((
                    name.clone(),
                    violation.policy,
                    violation.action,
                    violation.message,
                ));
            }
            annotations.extend(
                evaluation
                    .audit_annotations
                    .into_iter()
                    .map(|a| (name.clone(), a.key, a.value)),
            );
        }
    }
    assert_eq!(
        results,
        vec![
            (
                "cart".to_string(),
                "pinned-images-outside-engineering".to_string(),
                Action::Warn,
                "images must be pinned to a version, not :latest".to_string()
            ),
            (
                "debug-tools".to_string(),
                "no-privileged-containers".to_string(),
                Action::Deny,
                "privileged containers are not allowed: netshoot".to_string()
            ),
        ]
    );
    assert_eq!(
        annotations,
        vec![(
            "debug-tools".to_string(),
            "no-privileged-containers/privileged-count".to_string(),
            "1".to_string()
        )]
    );
}
