//! Inventory objects: what a resource is ([`ResourceRef`]), where it was read from ([`Source`]) and
//! the object itself ([`Resource`]).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::tree::Node;

/// The identity of a Kubernetes object, as printed in every report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ResourceRef {
    pub fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ResourceRef {
        ResourceRef {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        match self.api_version.split_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// Where an object was read from: a file and the position of its document, or a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Source {
    /// The file as the user named it (`-` for standard input); `None` for objects read from a live
    /// cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Arc<str>>,
    /// The cluster the object was discovered in (live scans and snapshots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Arc<str>>,
    /// 1-based index of the YAML document in the file (0 when not from a file).
    #[serde(skip_serializing_if = "is_zero")]
    pub document: u32,
    /// The Helm template the document was rendered from (`# Source:` comments in `helm template`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Arc<str>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One inventory object. The object tree has already been redacted by the loader: Secret and
/// ConfigMap values are gone, only their keys remain.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub reference: ResourceRef,
    pub object: Node,
    pub source: Source,
}

impl Resource {
    /// Builds a resource from an object tree that has `apiVersion`, `kind` and `metadata.name`
    /// (or `metadata.generateName`). `None` for anything that is not a Kubernetes object.
    pub fn from_object(object: Node, source: Source) -> Option<Resource> {
        let api_version = object.str_at("apiVersion")?;
        let kind = object.str_at("kind")?;
        if api_version.is_empty() || kind.is_empty() {
            return None;
        }
        let metadata = object.get("metadata");
        let name = metadata
            .and_then(|m| m.str_at("name").or_else(|| m.str_at("generateName")))
            .unwrap_or("");
        let namespace = metadata
            .and_then(|m| m.str_at("namespace"))
            .filter(|ns| !ns.is_empty());
        let reference = ResourceRef::new(api_version, kind, namespace, name);
        Some(Resource {
            reference,
            object,
            source,
        })
    }

    pub fn kind(&self) -> &str {
        &self.reference.kind
    }

    pub fn name(&self) -> &str {
        &self.reference.name
    }

    pub fn namespace(&self) -> Option<&str> {
        self.reference.namespace.as_deref()
    }

    pub fn metadata(&self) -> &Node {
        self.object.get("metadata").unwrap_or(Node::null())
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata().get("labels")?.str_at(key)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata().get("annotations")?.str_at(key)
    }

    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.metadata()
            .get("labels")
            .map(Node::entries)
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
    }
}
