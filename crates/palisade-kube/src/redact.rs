//! Redaction, applied to every object before it becomes a [`palisade_core::Resource`]: Secret values
//! and ConfigMap values are replaced by nothing (their keys stay, checks need them), and the
//! annotations and fields that carry whole copies of an object are removed.

use palisade_core::{Node, Value};

/// The annotation `kubectl apply` stores a full copy of the object in, Secret data included.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Replaces values that must never be stored or printed. Returns the object for chaining.
pub fn redact(mut object: Node) -> Node {
    let kind = object.str_at("kind").unwrap_or("").to_string();
    let core = matches!(object.str_at("apiVersion"), Some("v1"));
    if core && (kind == "Secret" || kind == "ConfigMap") {
        for field in ["data", "stringData", "binaryData"] {
            if let Some(data) = object.get_mut(field) {
                blank_values(data);
            }
        }
    }
    if let Some(metadata) = object.get_mut("metadata") {
        metadata.remove("managedFields");
        if let Some(annotations) = metadata.get_mut("annotations") {
            annotations.remove(LAST_APPLIED);
        }
    }
    object
}

/// Keeps the keys of a mapping and drops every value (`""` stands for "present, not read").
fn blank_values(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            for (_, value) in entries.iter_mut() {
                value.value = Value::String(String::new());
            }
        }
        _ => node.value = Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Node {
        Node::from_json(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn secret_values_and_applied_copies_are_gone() {
        let secret = redact(object(
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","annotations":{
                "kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"aHVudGVyMg==\"}}",
                "team":"payments"},"managedFields":[{"manager":"kubectl"}]},
               "data":{"password":"aHVudGVyMg=="},"stringData":{"token":"hunter2"}}"#,
        ));
        let text = serde_json::to_string(&secret).unwrap();
        assert!(!text.contains("aHVudGVyMg"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("managedFields"), "{text}");
        assert!(text.contains("password"), "keys stay: {text}");
        assert!(text.contains("payments"), "other annotations stay: {text}");
    }

    #[test]
    fn configmap_values_are_gone_but_not_other_kinds_data() {
        let cm = redact(object(
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"app.conf":"password=x"}}"#,
        ));
        assert_eq!(
            cm.at(&["data", "app.conf"]).and_then(Node::as_str),
            Some("")
        );
        let custom = redact(object(
            r#"{"apiVersion":"example.com/v1","kind":"Secret","metadata":{"name":"c"},"data":{"a":"b"}}"#,
        ));
        assert_eq!(custom.at(&["data", "a"]).and_then(Node::as_str), Some("b"));
    }
}
