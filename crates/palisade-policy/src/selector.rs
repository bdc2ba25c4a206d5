//! Kubernetes label selectors (`matchLabels` and `matchExpressions` with `In`, `NotIn`, `Exists`,
//! `DoesNotExist`), as Gatekeeper's match block and ValidatingAdmissionPolicy's `matchResources` use
//! them. An empty selector matches everything, as in Kubernetes.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    match_labels: BTreeMap<String, String>,
    expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector: {0}")]
pub struct SelectorError(pub String);

impl LabelSelector {
    /// Parses a `metav1.LabelSelector` JSON value. `null` or absent is the empty selector.
    pub fn from_value(value: Option<&Value>) -> Result<LabelSelector, SelectorError> {
        let mut selector = LabelSelector::default();
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(selector);
        };
        let object = value
            .as_object()
            .ok_or_else(|| SelectorError("a label selector must be an object".into()))?;
        if let Some(labels) = object.get("matchLabels").filter(|v| !v.is_null()) {
            let labels = labels
                .as_object()
                .ok_or_else(|| SelectorError("`matchLabels` must be an object".into()))?;
            for (key, value) in labels {
                let value = value.as_str().ok_or_else(|| {
                    SelectorError(format!("`matchLabels.{key}` must be a string"))
                })?;
                selector.match_labels.insert(key.clone(), value.to_string());
            }
        }
        if let Some(expressions) = object.get("matchExpressions").filter(|v| !v.is_null()) {
            let expressions = expressions
                .as_array()
                .ok_or_else(|| SelectorError("`matchExpressions` must be a list".into()))?;
            for expression in expressions {
                selector.expressions.push(requirement(expression)?);
            }
        }
        Ok(selector)
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|r| match r {
                Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
                Requirement::NotIn(key, values) => {
                    !labels.get(key).is_some_and(|v| values.contains(v))
                }
                Requirement::Exists(key) => labels.contains_key(key),
                Requirement::DoesNotExist(key) => !labels.contains_key(key),
            })
    }

    /// Matches the labels of a Kubernetes object (`metadata.labels`).
    pub fn matches_object(&self, object: &Value) -> bool {
        self.matches(&labels_of(object))
    }
}

/// `metadata.labels` of an object as a map (non-string values ignored).
pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn requirement(expression: &Value) -> Result<Requirement, SelectorError> {
    let key = expression
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| SelectorError("a match expression needs a `key`".into()))?
        .to_string();
    let operator = expression
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("");
    let values: Vec<String> = expression
        .get("values")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match operator {
        "In" | "NotIn" if values.is_empty() => Err(SelectorError(format!(
            "operator `{operator}` on `{key}` needs at least one value"
        ))),
        "In" => Ok(Requirement::In(key, values)),
        "NotIn" => Ok(Requirement::NotIn(key, values)),
        "Exists" | "DoesNotExist" if !values.is_empty() => Err(SelectorError(format!(
            "operator `{operator}` on `{key}` takes no values"
        ))),
        "Exists" => Ok(Requirement::Exists(key)),
        "DoesNotExist" => Ok(Requirement::DoesNotExist(key)),
        other => Err(SelectorError(format!(
            "unknown operator `{other}` on `{key}` (expected In, NotIn, Exists or DoesNotExist)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn kubernetes_semantics() {
        let selector = LabelSelector::from_value(Some(&json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["front", "edge"]},
            {"key": "legacy", "operator": "DoesNotExist"},
            {"key": "env", "operator": "NotIn", "values": ["dev"]}
        ]})))
        .unwrap();
        assert!(selector.matches(&labels(&[("app", "web"), ("tier", "edge")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "edge"), ("env", "dev")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "back")])));
        assert!(!selector.matches(&labels(&[
            ("app", "web"),
            ("tier", "edge"),
            ("legacy", "1")
        ])));
        assert!(
            LabelSelector::from_value(None)
                .unwrap()
                .matches(&labels(&[]))
        );
    }

    #[test]
    fn invalid_selectors_say_why() {
        let err = LabelSelector::from_value(Some(&json!({"matchExpressions": [
            {"key": "a", "operator": "Equals", "values": ["x"]}]})))
        .unwrap_err();
        assert!(err.to_string().contains("Equals"), "{err}");
        assert!(
            LabelSelector::from_value(Some(&json!({"matchExpressions": [
            {"key": "a", "operator": "In"}]})))
            .is_err()
        );
    }
}
