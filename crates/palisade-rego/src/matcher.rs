//! The constraint `match` block, with Gatekeeper's semantics (pkg/mutation/match in
//! open-policy-agent/gatekeeper): every criterion given must hold; an absent criterion matches all.

use palisade_policy::selector::labels_of;
use palisade_policy::{AdmissionRequest, Inventory, LabelSelector, SelectorError};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct Match {
    kinds: Vec<KindRule>,
    scope: Scope,
    namespaces: Vec<String>,
    excluded_namespaces: Vec<String>,
    label_selector: Option<LabelSelector>,
    namespace_selector: Option<LabelSelector>,
    name: String,
}

#[derive(Debug, Clone, Default)]
struct KindRule {
    api_groups: Vec<String>,
    kinds: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Scope {
    #[default]
    All,
    Cluster,
    Namespaced,
}

impl Match {
    /// Parses `spec.match`; `None` or `null` matches everything.
    pub fn from_value(value: Option<&Value>) -> Result<Match, String> {
        let mut matcher = Match::default();
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(matcher);
        };
        if !value.is_object() {
            return Err("`spec.match` must be an object".into());
        }
        if let Some(kinds) = value.get("kinds").filter(|v| !v.is_null()) {
            let kinds = kinds
                .as_array()
                .ok_or("`spec.match.kinds` must be a list")?;
            for rule in kinds {
                matcher.kinds.push(KindRule {
                    api_groups: strings(rule.get("apiGroups"), "spec.match.kinds[].apiGroups")?,
                    kinds: strings(rule.get("kinds"), "spec.match.kinds[].kinds")?,
                });
            }
        }
        // Gatekeeper treats unknown scopes (typos included) as "*".
        matcher.scope = match value.get("scope").and_then(Value::as_str) {
            Some("Cluster") => Scope::Cluster,
            Some("Namespaced") => Scope::Namespaced,
            _ => Scope::All,
        };
        matcher.namespaces = strings(value.get("namespaces"), "spec.match.namespaces")?;
        matcher.excluded_namespaces = strings(
            value.get("excludedNamespaces"),
            "spec.match.excludedNamespaces",
        )?;
        let selector = |key: &str| -> Result<Option<LabelSelector>, String> {
            match value.get(key).filter(|v| !v.is_null()) {
                None => Ok(None),
                Some(v) => LabelSelector::from_value(Some(v))
                    .map(Some)
                    .map_err(|SelectorError(e)| format!("`spec.match.{key}`: {e}")),
            }
        };
        matcher.label_selector = selector("labelSelector")?;
        matcher.namespace_selector = selector("namespaceSelector")?;
        matcher.name = match value.get("name") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(name)) => name.clone(),
            Some(_) => return Err("`spec.match.name` must be a string".into()),
        };
        Ok(matcher)
    }

    pub fn matches(&self, request: &AdmissionRequest, inventory: &Inventory) -> bool {
        let empty = Value::Null;
        let object = request.subject().unwrap_or(&empty);
        let is_namespace = request.kind.kind == "Namespace" && request.kind.group.is_empty();
        let object_namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|ns| !ns.is_empty())
            .unwrap_or(request.namespace.as_str());
        let object_name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(request.name.as_str());
        // The namespace the namespace criteria judge: a Namespace's own name, else the object's.
        let namespace = if is_namespace {
            Some(object_name)
        } else {
            Some(object_namespace).filter(|ns| !ns.is_empty())
        };

        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|rule| {
                any_or_wildcard(&rule.kinds, &request.kind.kind)
                    && any_or_wildcard(&rule.api_groups, &request.kind.group)
            });
        let has_namespace = !object_namespace.is_empty();
        let scope_ok = match self.scope {
            Scope::All => true,
            Scope::Cluster => is_namespace || !has_namespace,
            Scope::Namespaced => !is_namespace && has_namespace,
        };
        let namespaces_ok = self.namespaces.is_empty()
            || namespace.is_none_or(|ns| self.namespaces.iter().any(|p| glob_matches(p, ns)));
        let excluded_ok = namespace
            .is_none_or(|ns| !self.excluded_namespaces.iter().any(|p| glob_matches(p, ns)));
        let labels_ok = self
            .label_selector
            .as_ref()
            .is_none_or(|s| s.matches_object(object));
        let namespace_selector_ok = match (&self.namespace_selector, namespace) {
            (None, _) => true,
            // Cluster-scoped objects other than Namespaces are not filtered by namespaceSelector.
            (Some(_), None) => true,
            (Some(selector), Some(_)) if is_namespace => selector.matches(&labels_of(object)),
            // A namespace missing from the inventory has no labels to offer.
            (Some(selector), Some(ns)) => selector.matches(&inventory.namespace_labels(ns)),
        };
        let name_ok = self.name.is_empty() || glob_matches(&self.name, object_name);
        kind_ok
            && scope_ok
            && namespaces_ok
            && excluded_ok
            && labels_ok
            && namespace_selector_ok
            && name_ok
    }
}

fn any_or_wildcard(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|item| item == "*" || item == value)
}

/// Gatekeeper's prefix/suffix wildcard: `kube-*`, `*-system`, or an exact name.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    pattern == value
}

fn strings(value: Option<&Value>, field: &str) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{field}` must hold strings"))
            })
            .collect(),
        Some(_) => Err(format!("`{field}` must be a list of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_policy::Operation;
    use serde_json::json;

    fn matcher(block: Value) -> Match {
        Match::from_value(Some(&block)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn object(api_version: &str, kind: &str, name: &str, namespace: Option<&str>) -> Value {
        let mut metadata = json!({"name": name, "labels": {"app": "web"}});
        if let Some(ns) = namespace {
            metadata["namespace"] = json!(ns);
        }
        json!({"apiVersion": api_version, "kind": kind, "metadata": metadata})
    }

    fn request(api_version: &str, kind: &str, name: &str, ns: Option<&str>) -> AdmissionRequest {
        AdmissionRequest::for_object(object(api_version, kind, name, ns))
    }

    fn inventory() -> Inventory {
        let mut inventory = Inventory::new();
        inventory.insert(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"env": "prod"}}}));
        inventory
    }

    #[test]
    fn kinds_with_groups_and_wildcards() {
        let inv = Inventory::new();
        let deploy = request("apps/v1", "Deployment", "web", Some("shop"));
        let pod = request("v1", "Pod", "web", Some("shop"));
        let apps = matcher(json!({"kinds": [{"apiGroups": ["apps"], "kinds": ["Deployment"]}]}));
        assert!(apps.matches(&deploy, &inv));
        assert!(!apps.matches(&pod, &inv));
        let any_group = matcher(json!({"kinds": [{"apiGroups": ["*"], "kinds": ["Pod"]}]}));
        assert!(any_group.matches(&pod, &inv));
        assert!(!any_group.matches(&deploy, &inv));
        let core_any = matcher(json!({"kinds": [{"apiGroups": [""], "kinds": ["*"]}]}));
        assert!(core_any.matches(&pod, &inv));
        assert!(!core_any.matches(&deploy, &inv));
        assert!(Match::default().matches(&deploy, &inv));
    }

    #[test]
    fn namespaces_and_exclusions_with_globs() {
        let inv = Inventory::new();
        let in_ns = |ns: &str| request("v1", "Pod", "web", Some(ns));
        let only = matcher(json!({"namespaces": ["shop", "team-*"]}));
        assert!(only.matches(&in_ns("shop"), &inv));
        assert!(only.matches(&in_ns("team-a"), &inv));
        assert!(!only.matches(&in_ns("lab"), &inv));
        let excluded = matcher(json!({"excludedNamespaces": ["kube-*", "*-system"]}));
        assert!(!excluded.matches(&in_ns("kube-public"), &inv));
        assert!(!excluded.matches(&in_ns("gatekeeper-system"), &inv));
        assert!(excluded.matches(&in_ns("shop"), &inv));
        // A Namespace is judged by its own name; other cluster-scoped objects pass.
        assert!(!excluded.matches(&request("v1", "Namespace", "kube-system", None), &inv));
        assert!(only.matches(
            &request("rbac.authorization.k8s.io/v1", "ClusterRole", "x", None),
            &inv
        ));
    }

    #[test]
    fn scope_and_name() {
        let inv = Inventory::new();
        let pod = request("v1", "Pod", "web-1", Some("shop"));
        let node = request("v1", "Node", "n1", None);
        let namespace = request("v1", "Namespace", "shop", None);
        let cluster = matcher(json!({"scope": "Cluster"}));
        let namespaced = matcher(json!({"scope": "Namespaced"}));
        assert!(cluster.matches(&node, &inv) && cluster.matches(&namespace, &inv));
        assert!(!cluster.matches(&pod, &inv));
        assert!(namespaced.matches(&pod, &inv));
        assert!(!namespaced.matches(&namespace, &inv) && !namespaced.matches(&node, &inv));
        assert!(matcher(json!({"scope": "*"})).matches(&node, &inv));
        assert!(matcher(json!({"name": "web-*"})).matches(&pod, &inv));
        assert!(!matcher(json!({"name": "api"})).matches(&pod, &inv));
    }

    #[test]
    fn label_selector_reads_the_old_object_on_delete() {
        let inv = Inventory::new();
        let selector = matcher(json!({"labelSelector": {"matchLabels": {"app": "web"}}}));
        let mut delete = request("v1", "Pod", "web", Some("shop"));
        delete.operation = Operation::Delete;
        delete.old_object = delete.object.take();
        assert!(selector.matches(&delete, &inv));
        let other = matcher(json!({"labelSelector": {"matchLabels": {"app": "db"}}}));
        assert!(!other.matches(&delete, &inv));
    }

    #[test]
    fn namespace_selector_uses_inventory_labels_or_the_namespace_itself() {
        let inv = inventory();
        let prod = matcher(json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}));
        assert!(prod.matches(&request("v1", "Pod", "web", Some("shop")), &inv));
        assert!(!prod.matches(&request("v1", "Pod", "web", Some("lab")), &inv));
        let mut own = object("v1", "Namespace", "new", None);
        own["metadata"]["labels"] = json!({"env": "prod"});
        assert!(prod.matches(&AdmissionRequest::for_object(own), &inv));
        assert!(!prod.matches(&request("v1", "Namespace", "other", None), &inv));
        assert!(prod.matches(&request("v1", "Node", "n1", None), &inv));
    }

    #[test]
    fn malformed_blocks_are_rejected() {
        for block in [
            json!([]),
            json!({"kinds": "Pod"}),
            json!({"namespaces": [1]}),
            json!({"name": 3}),
            json!({"labelSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}),
        ] {
            assert!(Match::from_value(Some(&block)).is_err(), "{block}");
        }
    }
}
