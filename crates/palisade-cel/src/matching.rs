//! `matchConstraints` (policy) and `matchResources` (binding): which requests a policy applies to,
//! with the semantics of Kubernetes' `matching` package — resource rules with `*` wildcards and
//! subresources, `excludeResourceRules`, namespace and object label selectors.
//!
//! `matchPolicy: Equivalent` (matching a request through another version of the same resource) is
//! not implemented: rules match the request's own group, version and resource, as with `Exact`.

use std::collections::BTreeMap;

use palisade_policy::selector::labels_of;
use palisade_policy::{AdmissionRequest, LabelSelector};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct MatchResources {
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    pub resource_rules: Vec<ResourceRule>,
    pub exclude_resource_rules: Vec<ResourceRule>,
}

/// A `NamedRuleWithOperations`.
#[derive(Debug, Clone, Default)]
pub struct ResourceRule {
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    /// `pods`, `pods/status`, `pods/*`, `*/scale`, `*`, `*/*`.
    pub resources: Vec<String>,
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT` or `*`.
    pub operations: Vec<String>,
    pub resource_names: Vec<String>,
    /// `Cluster`, `Namespaced` or `*` (the default).
    pub scope: String,
}

impl MatchResources {
    /// `namespace_labels` are the labels of the request's namespace (empty when it is unknown).
    /// `empty_rules_match_all` is true for a binding, whose `matchResources` only narrows what the
    /// policy already matched.
    pub fn matches(
        &self,
        request: &AdmissionRequest,
        namespace_labels: &BTreeMap<String, String>,
        empty_rules_match_all: bool,
    ) -> bool {
        self.namespace_matches(request, namespace_labels)
            && self.object_matches(request)
            && ((empty_rules_match_all && self.resource_rules.is_empty())
                || self.resource_rules.iter().any(|r| r.matches(request)))
            && !self
                .exclude_resource_rules
                .iter()
                .any(|r| r.matches(request))
    }

    fn namespace_matches(
        &self,
        request: &AdmissionRequest,
        namespace_labels: &BTreeMap<String, String>,
    ) -> bool {
        if self.namespace_selector.is_empty() {
            return true;
        }
        if request.namespace.is_empty() {
            // A Namespace is matched on its own labels; other cluster-scoped objects are never
            // excluded by a namespace selector (Kubernetes' matching.MatchNamespaceSelector).
            return if request.kind.kind == "Namespace" && request.kind.group.is_empty() {
                request
                    .subject()
                    .is_some_and(|ns| self.namespace_selector.matches_object(ns))
            } else {
                true
            };
        }
        self.namespace_selector.matches(namespace_labels)
    }

    /// Kubernetes matches the object selector against the new and the old object: either will do.
    fn object_matches(&self, request: &AdmissionRequest) -> bool {
        if self.object_selector.is_empty() {
            return true;
        }
        let present: Vec<&Value> = [request.object.as_ref(), request.old_object.as_ref()]
            .into_iter()
            .flatten()
            .filter(|o| !o.is_null())
            .collect();
        if present.is_empty() {
            return self.object_selector.matches(&BTreeMap::new());
        }
        present
            .iter()
            .any(|object| self.object_selector.matches(&labels_of(object)))
    }
}

impl ResourceRule {
    pub fn matches(&self, request: &AdmissionRequest) -> bool {
        let wildcard_or =
            |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
        let scope_ok = match self.scope.as_str() {
            "Cluster" => request.namespace.is_empty(),
            "Namespaced" => !request.namespace.is_empty(),
            _ => true,
        };
        scope_ok
            && wildcard_or(&self.operations, request.operation.as_str())
            && wildcard_or(&self.api_groups, &request.resource.group)
            && wildcard_or(&self.api_versions, &request.resource.version)
            && self.resources.iter().any(|r| {
                resource_matches(
                    r,
                    &request.resource.resource,
                    request.sub_resource.as_deref().unwrap_or(""),
                )
            })
            && (self.resource_names.is_empty() || self.resource_names.contains(&request.name))
    }
}

/// Kubernetes' rule for `resources`: `*` is every resource but no subresource, `*/*` everything,
/// `pods/*` every subresource of pods, `*/scale` the scale subresource of anything.
fn resource_matches(pattern: &str, resource: &str, sub_resource: &str) -> bool {
    let (want_resource, want_sub) = pattern.split_once('/').unwrap_or((pattern, ""));
    (want_resource == "*" || want_resource == resource)
        && (want_sub == sub_resource
            || (want_sub == "*" && !sub_resource.is_empty())
            || pattern == "*/*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_policy::Operation;
    use serde_json::json;

    fn rule(resources: &[&str]) -> ResourceRule {
        ResourceRule {
            api_groups: vec!["".into(), "apps".into()],
            api_versions: vec!["*".into()],
            resources: resources.iter().map(|s| s.to_string()).collect(),
            operations: vec!["CREATE".into(), "UPDATE".into()],
            ..ResourceRule::default()
        }
    }

    #[test]
    fn resource_wildcards_follow_kubernetes() {
        assert!(resource_matches("*", "pods", ""));
        assert!(!resource_matches("*", "pods", "status"));
        assert!(resource_matches("pods/*", "pods", "status"));
        assert!(!resource_matches("pods/*", "pods", ""));
        assert!(resource_matches("*/scale", "deployments", "scale"));
        assert!(resource_matches("*/*", "pods", ""));
        assert!(!resource_matches("deployments", "pods", ""));
    }

    #[test]
    fn operations_groups_and_scope() {
        let mut request = AdmissionRequest::for_object(json!({"apiVersion": "apps/v1",
            "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}));
        assert!(rule(&["deployments"]).matches(&request));
        let mut cluster_only = rule(&["deployments"]);
        cluster_only.scope = "Cluster".into();
        assert!(!cluster_only.matches(&request));
        request.operation = Operation::Delete;
        assert!(!rule(&["deployments"]).matches(&request));
    }

    #[test]
    fn selectors_and_exclusions() {
        let request = AdmissionRequest::for_object(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "shop", "labels": {"app": "web"}}}));
        let prod = BTreeMap::from([("env".to_string(), "prod".to_string())]);
        let mut resources = MatchResources {
            namespace_selector: LabelSelector::from_value(Some(
                &json!({"matchLabels": {"env": "prod"}}),
            ))
            .unwrap(),
            object_selector: LabelSelector::from_value(Some(
                &json!({"matchLabels": {"app": "web"}}),
            ))
            .unwrap(),
            resource_rules: vec![rule(&["pods"])],
            exclude_resource_rules: vec![],
        };
        assert!(resources.matches(&request, &prod, false));
        assert!(!resources.matches(&request, &BTreeMap::new(), false));
        resources.exclude_resource_rules = vec![rule(&["*"])];
        assert!(!resources.matches(&request, &prod, false));
        resources.exclude_resource_rules.clear();
        resources.resource_rules.clear();
        assert!(!resources.matches(&request, &prod, false));
        assert!(resources.matches(&request, &prod, true));
    }
}
