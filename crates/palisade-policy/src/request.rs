//! The request a policy judges: the `request` field of an `admission.k8s.io/v1` `AdmissionReview`,
//! exactly as the API server sends it (Gatekeeper exposes it to Rego as `input.review`, CEL sees its
//! parts as `object`, `oldObject` and `request`). Offline scans build the same shape from a manifest
//! with [`AdmissionRequest::for_object`], as `gator` does.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionKind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupVersionResource {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub resource: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    #[default]
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

/// `AdmissionReview.request` (admission.k8s.io/v1; v1beta1 has the same fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub kind: GroupVersionKind,
    #[serde(default)]
    pub resource: GroupVersionResource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_kind: Option<GroupVersionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_resource: Option<GroupVersionResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_sub_resource: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default)]
    pub operation: Operation,
    #[serde(default)]
    pub user_info: UserInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_object: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

impl AdmissionRequest {
    /// The request creating `object` (a manifest, an inventory object), as `gator` and Gatekeeper's
    /// audit build it: kind and resource from `apiVersion`/`kind`, name and namespace from
    /// `metadata`, operation CREATE.
    pub fn for_object(object: Value) -> AdmissionRequest {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let (group, version) = split_api_version(api_version);
        let metadata = object.get("metadata");
        let text = |key: &str| {
            metadata
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        AdmissionRequest {
            uid: String::new(),
            kind: GroupVersionKind {
                group: group.to_string(),
                version: version.to_string(),
                kind: kind.to_string(),
            },
            resource: GroupVersionResource {
                group: group.to_string(),
                version: version.to_string(),
                resource: resource_name(kind),
            },
            name: text("name"),
            namespace: text("namespace"),
            operation: Operation::Create,
            object: Some(object),
            ..AdmissionRequest::default()
        }
    }

    /// The object the request is about: `object`, or `oldObject` for a DELETE.
    pub fn subject(&self) -> Option<&Value> {
        self.object
            .as_ref()
            .filter(|o| !o.is_null())
            .or(self.old_object.as_ref())
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// The resource (plural, lower case) the API serves a kind under, by Kubernetes' own rules for the
/// built-in kinds (`NetworkPolicy` → `networkpolicies`, `Ingress` → `ingresses`, `Endpoints` →
/// `endpoints`).
pub fn resource_name(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.is_empty() || lower == "endpoints" {
        return lower;
    }
    if let Some(stem) = lower
        .strip_suffix('y')
        .filter(|stem| !stem.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        return format!("{stem}ies");
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_from_a_manifest() {
        let request = AdmissionRequest::for_object(serde_json::json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "shop"}}));
        assert_eq!(request.kind.group, "networking.k8s.io");
        assert_eq!(request.resource.resource, "networkpolicies");
        assert_eq!(
            (request.name.as_str(), request.namespace.as_str()),
            ("deny", "shop")
        );
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["operation"], "CREATE");
        assert_eq!(json["object"]["kind"], "NetworkPolicy");
    }

    #[test]
    fn plural_resource_names() {
        for (kind, resource) in [
            ("Pod", "pods"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Endpoints", "endpoints"),
            ("Gateway", "gateways"),
            ("StorageClass", "storageclasses"),
        ] {
            assert_eq!(resource_name(kind), resource);
        }
    }

    #[test]
    fn a_real_admission_review_request_parses() {
        let review: Value = serde_json::from_str(
            r#"{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind":{"group":"apps","version":"v1","kind":"Deployment"},
                "resource":{"group":"apps","version":"v1","resource":"deployments"},
                "requestKind":{"group":"apps","version":"v1","kind":"Deployment"},
                "name":"web","namespace":"shop","operation":"UPDATE",
                "userInfo":{"username":"admin","groups":["system:masters","system:authenticated"]},
                "object":{"apiVersion":"apps/v1","kind":"Deployment"},
                "oldObject":{"apiVersion":"apps/v1","kind":"Deployment"},
                "dryRun":false,"options":{"apiVersion":"meta.k8s.io/v1","kind":"UpdateOptions"}}"#,
        )
        .unwrap();
        let request: AdmissionRequest = serde_json::from_value(review).unwrap();
        assert_eq!(request.operation, Operation::Update);
        assert_eq!(request.user_info.groups.len(), 2);
        assert!(request.old_object.is_some());
    }
}
